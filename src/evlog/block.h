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
 *   block := u8 version (1) | u8 nstreams (10) | u16 0 | u32 nrec |
 *            u32 len[nstreams] | stream 0 | stream 1 | ...
 *
 * The fields that take few values in a block (kind, protocol, address
 * families, destination, family and list names, the small DNS fields) are
 * kept once per distinct combination, a "shape", in a table; each record
 * names its shape by index. Streams, per record in record order, integers
 * little-endian:
 *   0 TS      zigzag varint of ts_us minus the previous record's (0 before
 *             the first)
 *   1 SHAPE   varint index into SHAPES
 *   2 SHAPES  varint count, then each shape: u8 kind, and for DNS:
 *             u8 proto | u8 src af | addr dst | addr proxied_by |
 *             str family | str list | u8 opcode | u16 qtype | u16 qclass |
 *             u16 rcode | u8 flags | u8 rrl | u16 edns_size | u16 ancount |
 *             u8 ecs af   (addr := u8 af | 4 or 16 bytes | u16 port, or af 0
 *             alone; str := u8 len | bytes)
 *   3 SRC     the source address: 4 or 16 bytes as the shape's src af says
 *   4 SPORT   u16 source port, when src af is not 0
 *   5 DNSID   u16 DNS message id
 *   6 QNAME   u8 len | wire name
 *   7 RESPLEN u16 response length
 *   8 ECS     u8 source | u8 scope | ceil(source/8) address bytes (ecs af)
 *   9 ROW     varint len | the record's row payload (evlog/record.c), for
 *             kinds without columns of their own (the shape holds only the
 *             kind)
 * Streams 3-8 are used by DNS events only. */
#ifndef SK_EVLOG_BLOCK_H
#define SK_EVLOG_BLOCK_H

#include <stddef.h>
#include <stdint.h>

#include "evlog/event.h"

#define EVLOG_BLOCK_VERSION 1
#define EVLOG_BLOCK_STREAMS 10
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

/* Add one event. payload[0..plen) is its row payload (evlog/record.h),
 * stored as it is for kinds without columns. Returns 0 or SK_EINVAL (a
 * field out of range, e.g. an address family other than 0, 4, 6). */
int evlog_block_enc_add(struct evlog_block_enc *e, const struct sk_event *ev,
                        const uint8_t *payload, size_t plen);

/* Bytes the block takes once serialised. */
size_t evlog_block_enc_size(const struct evlog_block_enc *e);

/* Serialise the block into out[0..cap). Returns its length or
 * SK_ENOSPACE. */
int evlog_block_enc_finish(const struct evlog_block_enc *e, uint8_t *out, size_t cap);

/* A shape, decoded. */
struct evlog_block_shape {
    uint8_t kind, proto, src_af, ecs_af;
    uint8_t famlen, listlen;
    uint8_t opcode, flags, rrl;
    uint16_t qtype, qclass, rcode, edns_size, ancount;
    struct sk_ip dst, proxied_by;
    char family[SK_FAMILY_MAX];
    char list[SK_LIST_NAME_MAX];
};

struct evlog_block_dec {
    const uint8_t *p[EVLOG_BLOCK_STREAMS], *end[EVLOG_BLOCK_STREAMS];
    const uint8_t *raw_end;
    uint32_t nrec, i;
    uint64_t ts;                           /* of the record whose head was read */
    const struct evlog_block_shape *shape; /* its shape */
    struct evlog_block_shape *shapes;
    uint32_t nshapes, shapes_cap;
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
 * the event holds are written, as in evlog_record_decode()). Returns 0 or
 * SK_ECORRUPT, after which the block cannot be read further. */
int evlog_block_dec_body(struct evlog_block_dec *d, struct sk_event *ev /* OUT */);

/* Step over the rest of the record whose head was read. Returns 0 or
 * SK_ECORRUPT. */
int evlog_block_dec_skip(struct evlog_block_dec *d);

#endif
