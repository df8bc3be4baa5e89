/* evlog/record.h -- the on-disk form of an event: CRC-framed records.
 *
 * A plain segment file starts with a header, then holds records back to
 * back:
 *
 *   header:  "SKEVLOG1" | u16 format | u16 schema | u64 start_us |
 *            u64 segment id | u64 first_seq (format >= 2) |
 *            u8 node_len | node | u32 crc32c(all before)
 *   record:  u32 payload_len | u32 crc32c(payload) | payload
 *
 * Integers are little-endian. The payload is the event, field by field,
 * addresses, names and captured bytes at their real length (see
 * record.c); a reader can resynchronise after a torn or corrupt record by
 * CRC. The record's index in its file plus the segment id and node form
 * the event id; first_seq plus the index is the record's sequence number,
 * which counts every record a node ever stored (see docs/events.md).
 * Closed segments may be compressed into another container
 * (evlog/segment.h) that holds the same header and records.
 *
 * The header's schema says which records a file may hold: schema 1 has
 * DNS events only; schema 2 (SK_EVENT_SCHEMA) adds the connection events
 * http, tls and raw, and leaves the DNS payload as it was. */
#ifndef SK_EVLOG_RECORD_H
#define SK_EVLOG_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "evlog/event.h"

#define EVLOG_MAGIC     "SKEVLOG1"
#define EVLOG_FORMAT    2 /* written; format 1 (no first_seq) is still read */
#define EVLOG_FRAME_LEN 8 /* length + crc */
/* Larger than any encoded event: an HTTP event with every value at its cap
 * in event.h (SK_EV_*_MAX) takes 29,826 bytes (record.c checks this at
 * compile time); a DNS event at most 423. */
#define EVLOG_PAYLOAD_MAX 32768
#define EVLOG_HEADER_MAX  (8 + 2 + 2 + 8 + 8 + 8 + 1 + 255 + 4)
#define EVLOG_SCHEMA_CONN 2 /* the first schema with http, tls and raw events */

/* Encode ev as a whole framed record into out[0..cap). Returns the record
 * length (frame included), or SK_ENOSPACE if it does not fit in cap, or
 * SK_EINVAL for a kind other than dns, http, tls, raw. A value longer than
 * its cap in event.h (a producer that did not cut it) is stored cut to
 * the cap with SK_CONNF_TRUNC set, so a record never passes
 * EVLOG_PAYLOAD_MAX. A span with p NULL is stored empty. */
int evlog_record_encode(const struct sk_event *ev, uint8_t *out, size_t cap);

/* Decode the payload p[0..len) of a record from a file of the newest
 * schema (SK_EVENT_SCHEMA) into *ev. Returns 0 or SK_ECORRUPT. Only the
 * fields the record holds are set: the bytes of qname past qname_len and
 * the union members of other kinds are not (a reader that decodes
 * millions of events into one struct does not clear it each time); the
 * connection fields (bot_id ... duration_us) are zeroed for DNS events.
 * The spans of connection events point into p[0..len): they are valid as
 * long as those bytes are (for a reader, until its next record). */
int evlog_record_decode(const uint8_t *p, size_t len, struct sk_event *ev /* OUT */);

/* The same for a record from a file whose header says schema: the kinds
 * that schema did not have are refused (SK_ECORRUPT). */
int evlog_record_decode_schema(const uint8_t *p, size_t len, uint16_t schema,
                               struct sk_event *ev /* OUT */);

/* The kind and timestamp of payload p[0..len) without decoding the rest.
 * Returns 0 or SK_ECORRUPT (too short). */
int evlog_record_peek(const uint8_t *p, size_t len, uint8_t *kind /* OUT */,
                      uint64_t *ts_us /* OUT */);

struct evlog_file_header {
    uint16_t format, schema;
    uint64_t start_us;
    uint64_t segment;
    uint64_t first_seq; /* sequence number of record 0; 0 in format 1 */
    char node[256];
};

/* Encode a file header (always in EVLOG_FORMAT, whatever h->format says);
 * returns its length or SK_ENOSPACE. */
int evlog_header_encode(const struct evlog_file_header *h, uint8_t *out, size_t cap);

/* Decode a file header from p[0..len); returns the header length, or
 * SK_ECORRUPT (bad magic, CRC or an unknown format), or SK_ENOSPACE (need
 * more). The schema is not checked here: see evlog_schema_supported(). */
int evlog_header_decode(const uint8_t *p, size_t len, struct evlog_file_header *h /* OUT */);

/* True if records of this schema can be decoded by this build. */
int evlog_schema_supported(uint16_t schema);

/* What evlog_frame_scan() found at the start of a buffer. */
enum evlog_scan_item {
    EVLOG_SCAN_END = 0,    /* no bytes left (only with eof) */
    EVLOG_SCAN_RECORD = 1, /* a record whose CRC checks: *adv bytes, payload *plen */
    EVLOG_SCAN_BAD = 2,    /* *adv damaged bytes, up to the next good record or the end */
    EVLOG_SCAN_MORE = 3,   /* cannot tell yet: read more bytes (only without eof) */
};

/* Look at the framed records in buf[0..len), the bytes at a reader's
 * position; eof says no bytes follow them. A record counts only if its
 * length is plausible and its CRC checks; damaged bytes are skipped up to
 * the next offset where a good record starts. Without eof, a stretch of
 * damage may be reported in pieces (EVLOG_SCAN_BAD more than once in a row):
 * the caller joins them. */
enum evlog_scan_item evlog_frame_scan(const uint8_t *buf, size_t len, int eof,
                                      size_t *adv /* OUT */, uint32_t *plen /* OUT */);

/* Little-endian loads and stores shared by the evlog modules. */
static inline uint16_t evlog_rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t evlog_rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t evlog_rd64(const uint8_t *p)
{
    return (uint64_t)evlog_rd32(p) | (uint64_t)evlog_rd32(p + 4) << 32;
}

static inline void evlog_wr16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static inline void evlog_wr32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static inline void evlog_wr64(uint8_t *p, uint64_t v)
{
    evlog_wr32(p, (uint32_t)v);
    evlog_wr32(p + 4, (uint32_t)(v >> 32));
}

/* Unsigned LEB128 varints (7 bits a byte, low first), at most 10 bytes. */
#define EVLOG_VARINT_MAX 10

/* Write v at b (EVLOG_VARINT_MAX bytes of room); returns the length. */
static inline size_t evlog_varint_put(uint8_t *b, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        b[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    b[n++] = (uint8_t)v;
    return n;
}

/* Read a varint from *pp, not past end. Returns 0 and advances *pp, or -1
 * (cut short, or longer than 10 bytes). */
static inline int evlog_varint_get(const uint8_t **pp, const uint8_t *end, uint64_t *out)
{
    const uint8_t *p = *pp;
    uint64_t v = 0;
    for (int shift = 0;; shift += 7) {
        if (p == end || shift > 63)
            return -1;
        uint8_t b = *p++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            break;
    }
    *pp = p;
    *out = v;
    return 0;
}

#endif
