/* evlog/block.h -- the columnar form of a block of events (closed segments).
 *
 * A closed segment is stored as independent blocks of whole records, each
 * compressed as one zstd frame (evlog/segment.h). Inside a block the events
 * are split by field into streams (timestamps as deltas, addresses, ports,
 * names, the small DNS fields...), so that zstd sees like next to like:
 * blocks are two to three times smaller than the same records in a row,
 * and decode several times faster. Pure functions over buffers: nothing
 * here does I/O; the encoder grows its own buffers, the decoder reads the
 * caller's and checks every length, so a hostile block cannot make it
 * read out of bounds.
 *
 *   block := u8 version (2) | u8 nstreams (14) | u16 0 | u32 nrec |
 *            u32 len[nstreams] | stream 0 | stream 1 | ...
 *
 * The fields that take few values in a block (kind, protocol, address
 * families, destination, family and list names, the small DNS fields; for
 * connection events the rule, flags, close reason, HTTP method, host and
 * status, TLS SNI, ALPN, versions and fingerprints) are kept once per
 * distinct combination, a "shape", in a table; each record names its
 * shape by index. Streams, per record in record order, integers
 * little-endian, var := unsigned LEB128, span := var len | bytes:
 *   0 TS      zigzag varint of ts_us minus the previous record's (0 before
 *             the first)
 *   1 SHAPE   varint index into SHAPES
 *   2 SHAPES  varint count, then each shape: u8 kind, then
 *             u8 proto | u8 src af | addr dst | addr proxied_by |
 *             str family | str list   (addr := u8 af | 4 or 16 bytes | u16
 *             port, or af 0 alone; str := u8 len | bytes), then
 *               dns:  u8 opcode | u16 qtype | u16 qclass | u16 rcode |
 *                     u8 flags | u8 rrl | u16 edns_size | u16 ancount |
 *                     u8 ecs af
 *               http, tls, raw: str rule | u16 flags | u8 close_reason, and
 *                 http: span method | span host | u16 status | u8 version
 *                 tls:  span sni | span alpn | u16 version |
 *                       u16 record_version | str ja3 | str ja4
 *                 raw:  u8 sniffed
 *   3 SRC     the source address: 4 or 16 bytes as the shape's src af says
 *   4 SPORT   u16 source port, when src af is not 0
 *   5 DNSID   u16 DNS message id
 *   6 QNAME   u8 len | wire name
 *   7 RESPLEN u16 response length
 *   8 ECS     u8 source | u8 scope | ceil(source/8) address bytes (ecs af)
 *   9 ROW     empty (version 1: varint len | the record's row payload, for
 *             kinds without columns of their own; such a shape held only
 *             the kind)
 *  10 BOTID   u8 len | bot id
 *  11 CNUM    var bytes_in | var bytes_out | var duration_us, then
 *             http: var body_len | var request;  raw: var first_byte_ms
 *  12 TEXT    http: span url | span user_agent | span referer |
 *             span content_type
 *  13 DATA    http: span body;  raw: span data
 * Streams 5-8 hold DNS events, 10-13 connection events (http, tls, raw).
 * Version 1 blocks (10 streams, DNS columns only, written before schema 2)
 * are still read. */
#ifndef SK_EVLOG_BLOCK_H
#define SK_EVLOG_BLOCK_H

#include <stddef.h>
#include <stdint.h>

#include "evlog/event.h"

#define EVLOG_BLOCK_VERSION 2
#define EVLOG_BLOCK_STREAMS 14
#define EVLOG_BLOCK_HDR     (8 + 4 * EVLOG_BLOCK_STREAMS)

struct evlog_block_stream {
    uint8_t *p;
    size_t len, cap;
};

struct evlog_block_enc {
    struct evlog_block_stream s[EVLOG_BLOCK_STREAMS];
    struct evlog_block_stream shapes; /* the table, without its count */
    uint32_t nshapes;
    uint32_t *hash; /* open addressing: 1 + shape index, 0 empty */
    uint32_t *shape_off;
    size_t hash_cap, off_cap;
    uint32_t nrec;
    uint64_t prev_ts;
    uint64_t min_ts, max_ts;
    uint32_t kinds; /* bit 1 << kind for each kind seen */
};

void evlog_block_enc_init(struct evlog_block_enc *e);
void evlog_block_enc_free(struct evlog_block_enc *e);

/* Empty the encoder for the next block (keeps its buffers). */
void evlog_block_enc_reset(struct evlog_block_enc *e);

/* Add one event (its spans are copied). Returns 0 or SK_EINVAL (an
 * unknown kind, or a field out of range: an address family other than 0,
 * 4, 6, a value longer than its cap in event.h). */
int evlog_block_enc_add(struct evlog_block_enc *e, const struct sk_event *ev);

/* Bytes the block takes once serialised. */
size_t evlog_block_enc_size(const struct evlog_block_enc *e);

/* Serialise the block into out[0..cap). Returns its length or
 * SK_ENOSPACE. */
int evlog_block_enc_finish(const struct evlog_block_enc *e, uint8_t *out, size_t cap);

/* The part of a shape only connection events have, decoded. Spans point
 * into the block. */
struct evlog_block_cshape {
    char rule[SK_RULE_MAX];
    uint16_t flags;
    uint8_t close_reason;
    uint8_t http_version, sniffed;
    uint16_t http_status, tls_version, tls_record_version;
    struct sk_span a, b; /* http: method, host; tls: sni, alpn */
    char ja3[SK_JA3_LEN + 1];
    char ja4[SK_JA4_LEN + 1];
};

/* A shape, decoded. */
struct evlog_block_shape {
    uint8_t kind, proto, src_af, ecs_af;
    uint8_t famlen, listlen;
    uint8_t opcode, flags, rrl;
    uint16_t qtype, qclass, rcode, edns_size, ancount;
    uint32_t conn; /* connection events: index into cshapes */
    struct sk_ip dst, proxied_by;
    char family[SK_FAMILY_MAX];
    char list[SK_LIST_NAME_MAX];
};

struct evlog_block_dec {
    const uint8_t *p[EVLOG_BLOCK_STREAMS], *end[EVLOG_BLOCK_STREAMS];
    const uint8_t *raw_end;
    uint8_t version, nstreams;
    uint32_t nrec, i;
    uint64_t ts;                           /* of the record whose head was read */
    const struct evlog_block_shape *shape; /* its shape */
    struct evlog_block_shape *shapes;
    uint32_t nshapes, shapes_cap;
    struct evlog_block_cshape *cshapes;
    uint32_t ncshapes, cshapes_cap;
};

/* Zero d before its first init; free it with evlog_block_dec_free(). */
void evlog_block_dec_free(struct evlog_block_dec *d);

/* Check the block's layout, decode its shapes and point the decoder at
 * raw[0..len) (which must outlive it). Returns 0 or SK_ECORRUPT. */
int evlog_block_dec_init(struct evlog_block_dec *d, const uint8_t *raw, size_t len);

/* Read the next record's head: its kind and timestamp. Returns 1, 0 when
 * the block is done, or SK_ECORRUPT. Then call exactly one of
 * evlog_block_dec_body() and evlog_block_dec_skip(), so a filter on time
 * or kind decodes nothing else of the records it leaves out. */
int evlog_block_dec_head(struct evlog_block_dec *d, uint8_t *kind /* OUT */,
                         uint64_t *ts_us /* OUT */);

/* The rest of the record whose head was read, into *ev (only the fields
 * the event holds are written, as in evlog_record_decode()). The spans of
 * a connection event point into the block: valid as long as raw is.
 * Returns 0 or SK_ECORRUPT, after which the block cannot be read
 * further. */
int evlog_block_dec_body(struct evlog_block_dec *d, struct sk_event *ev /* OUT */);

/* Step over the rest of the record whose head was read. Returns 0 or
 * SK_ECORRUPT. */
int evlog_block_dec_skip(struct evlog_block_dec *d);

#endif
