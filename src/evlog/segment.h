/* evlog/segment.h -- segment files: names, the compressed form, recovery.
 *
 * The log is a folder of segment files, DATA_DIR/events/SEGMENT.evlog,
 * SEGMENT being 16 hex digits that grow with every new segment (the start
 * time in µs, or one more than the last segment if the clock is behind).
 * The writer appends to one plain segment (evlog/record.h) at a time;
 * once closed, a segment is compressed in place: the compressed file is
 * written beside it and renamed over it, so a segment always has exactly
 * one name and a reader sees either form whole. Readers tell them apart by
 * their first bytes.
 *
 * The compressed form is a sequence of zstd frames, so `zstd -t` checks
 * every block's checksum:
 *
 *   header frame: skippable frame, magic 0x184D2A5E, holding the plain
 *                 file header (evlog/record.h)
 *   per block:    skippable frame, magic 0x184D2A5B, holding a descriptor:
 *                   "SKB1" | u64 first_recno | u32 nrec | u32 raw_len |
 *                   u32 zlen | u64 min_ts | u64 max_ts | u32 kinds |
 *                   u32 flags | u32 crc32c(all before)
 *                 then one zstd frame of zlen bytes (content checksum on)
 *                 that decompresses to raw_len bytes: a columnar block of
 *                 nrec records (evlog/block.h), or, with flag
 *                 EVLOG_ZF_DAMAGED, the damaged bytes found in the plain
 *                 segment (counted as one record, kept as evidence)
 *
 * The descriptors let a reader skip blocks outside a time range or of
 * other kinds without decompressing them, and re-anchor record numbers
 * after damage. */
#ifndef SK_EVLOG_SEGMENT_H
#define SK_EVLOG_SEGMENT_H

#include <stddef.h>
#include <stdint.h>

#include "evlog/record.h"

#define EVLOG_SEG_SUFFIX     ".evlog"
#define EVLOG_SEG_NAME_MAX   32
#define EVLOG_ZHDR_MAGIC     0x184D2A5Eu
#define EVLOG_ZBLK_MAGIC     0x184D2A5Bu
#define EVLOG_ZDESC_PAYLOAD  52
#define EVLOG_ZDESC_LEN      (8 + EVLOG_ZDESC_PAYLOAD)
#define EVLOG_ZF_DAMAGED     0x1
#define EVLOG_ZBLOCK_RAW_MAX (16u << 20) /* readers refuse larger blocks */
#define EVLOG_ZBLOCK_RECORDS 8192        /* records per block written */

enum evlog_seg_form { EVLOG_FORM_UNKNOWN = 0, EVLOG_FORM_PLAIN = 1, EVLOG_FORM_ZSTD = 2 };

struct evlog_zdesc {
    uint64_t first_recno;
    uint32_t nrec, raw_len, zlen;
    uint64_t min_ts, max_ts;
    uint32_t kinds, flags;
};

/* "0000018f2b3c4d5e.evlog" into out (EVLOG_SEG_NAME_MAX bytes). */
void evlog_segment_name(uint64_t segment, char out[EVLOG_SEG_NAME_MAX]);

/* Parse a segment file name (no folder). Returns 0 and *segment, or
 * SK_EINVAL if name is not 16 hex digits and ".evlog". */
int evlog_segment_parse_name(const char *name, uint64_t *segment /* OUT */);

/* The form of a segment from its first bytes p[0..len). */
enum evlog_seg_form evlog_segment_form(const uint8_t *p, size_t len);

/* Encode a descriptor frame (EVLOG_ZDESC_LEN bytes) into out. */
void evlog_zdesc_encode(const struct evlog_zdesc *d, uint8_t *out);

/* Decode the descriptor frame at p[0..len). Returns 0, or SK_ECORRUPT if
 * it is not one (magic, size, tag, CRC or lengths out of range). */
int evlog_zdesc_decode(const uint8_t *p, size_t len, struct evlog_zdesc *d /* OUT */);

/* What a whole segment holds. */
struct evlog_segment_info {
    struct evlog_file_header hdr;
    enum evlog_seg_form form;
    uint64_t records;        /* including damaged stretches, one each */
    uint64_t damaged;        /* damaged stretches */
    uint64_t min_ts, max_ts; /* 0 if no record */
    uint64_t bytes;          /* file size */
    char sha256[65];         /* of the file as stored, lower-case hex */
};

/* Read a segment whole (either form): count its records and damage, find
 * its time range and hash it. Compressed blocks are counted from their
 * descriptors, not decompressed. Returns 0, or an error with a message in
 * err ("PATH: ..."). */
int evlog_segment_stat(const char *path, struct evlog_segment_info *info /* OUT */, char *err,
                       size_t errlen);

/* Recover a plain segment after a crash: find the last good record and
 * cut off the torn or damaged bytes after it (damage followed by good
 * records is left in place). A file shorter than a header that holds a
 * prefix of one (a crash while the segment was being created) is removed.
 * Returns 0 with *info (form EVLOG_FORM_UNKNOWN if the file was removed,
 * sha256 not filled) and *cut (bytes cut), or an error with a message. */
int evlog_segment_recover(const char *path, struct evlog_segment_info *info /* OUT */,
                          uint64_t *cut /* OUT */, char *err, size_t errlen);

/* Compress the closed plain segment at path in place: write
 * PATH.ztmp, fsync it, rename it over path and fsync the folder. On
 * success *info describes the compressed file (with its SHA-256). On
 * failure the plain file is left as it was and the temp file removed.
 * level is the zstd level (1-19). */
int evlog_segment_compress(const char *path, int level, struct evlog_segment_info *info /* OUT */,
                           char *err, size_t errlen);

/* fsync the folder holding path (so a create, rename or unlink in it is on
 * disk). Returns 0 or -errno. */
int evlog_fsync_parent(const char *path);

#endif
