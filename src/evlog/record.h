/* evlog/record.h -- the on-disk form of an event: CRC-framed records.
 *
 * A log file starts with a header, then holds records back to back:
 *
 *   header:  "SKEVLOG1" | u16 format | u16 schema | u64 start_us |
 *            u64 segment id | u8 node_len | node | u32 crc32c(all before)
 *   record:  u32 payload_len | u32 crc32c(payload) | payload
 *
 * Integers are little-endian. The payload is the event, field by field,
 * addresses and names at their real length (see record.c); a reader can
 * resynchronise after a torn or corrupt record by CRC. The record's index
 * in its file plus the segment id and node form the event id. */
#ifndef SK_EVLOG_RECORD_H
#define SK_EVLOG_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "evlog/event.h"

#define EVLOG_MAGIC       "SKEVLOG1"
#define EVLOG_FORMAT      1
#define EVLOG_FRAME_LEN   8    /* length + crc */
#define EVLOG_PAYLOAD_MAX 1024 /* larger than any encoded event */
#define EVLOG_HEADER_MAX  (8 + 2 + 2 + 8 + 8 + 1 + 255 + 4)

/* Encode ev as a whole framed record into out[0..cap). Returns the record
 * length (frame included) or SK_ENOSPACE. */
int evlog_record_encode(const struct sk_event *ev, uint8_t *out, size_t cap);

/* Decode the payload p[0..len) into *ev. Returns 0 or SK_ECORRUPT. */
int evlog_record_decode(const uint8_t *p, size_t len, struct sk_event *ev /* OUT */);

struct evlog_file_header {
    uint16_t format, schema;
    uint64_t start_us;
    uint64_t segment;
    char node[256];
};

/* Encode a file header; returns its length or SK_ENOSPACE. */
int evlog_header_encode(const struct evlog_file_header *h, uint8_t *out, size_t cap);

/* Decode a file header from p[0..len); returns the header length, or
 * SK_ECORRUPT (bad magic, CRC or format), or SK_ENOSPACE (need more). */
int evlog_header_decode(const uint8_t *p, size_t len, struct evlog_file_header *h /* OUT */);

#endif
