/* evlog/manifest.h -- DATA_DIR/events/MANIFEST, the list of closed segments.
 *
 * Append-only text, one line per event: a segment closed (with its record
 * count, first sequence number, time range, size and the SHA-256 of the
 * file as stored, since the log is evidence) or removed by retention:
 *
 *   closed 0000018f2b3c4d5e.evlog records=120000 first_seq=1
 *       first_ts=2026-11-28T12:00:00.000001Z last_ts=2026-11-28T13:00:00.000000Z
 *       bytes=2345678 sha256=<64 hex> form=zstd damaged=0 node=sink-1
 *   removed 0000018f2b3c4d5e.evlog at=2026-12-28T12:00:00.000000Z reason=age
 *
 * (each entry on one line; keys may be added, readers skip unknown ones;
 * lines starting with # are comments). Only the log's background thread
 * writes it, and evlog_open() before that thread starts. */
#ifndef SK_EVLOG_MANIFEST_H
#define SK_EVLOG_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

#include "evlog/segment.h"

#define EVLOG_MANIFEST "MANIFEST"

struct evlog_manifest_entry {
    uint64_t segment;
    uint64_t records, first_seq, damaged;
    uint64_t first_ts, last_ts; /* 0: no records */
    uint64_t bytes;
    char sha256[65];
    enum evlog_seg_form form;
    int removed; /* a later "removed" line named it */
};

struct evlog_manifest {
    struct evlog_manifest_entry *e; /* in file order; a segment once */
    size_t n, cap;
};

/* Read the manifest at path (a missing file is an empty manifest). Lines
 * that do not parse are skipped and counted in *bad. Returns 0, or -errno
 * if the file exists but cannot be read. Free with evlog_manifest_free(). */
int evlog_manifest_load(const char *path, struct evlog_manifest *m /* OUT */,
                        size_t *bad /* OUT */);

void evlog_manifest_free(struct evlog_manifest *m);

/* The entry for a segment, or NULL. */
struct evlog_manifest_entry *evlog_manifest_find(struct evlog_manifest *m, uint64_t segment);

/* Format the line for a closed segment / a removal into buf (with '\n').
 * Returns its length, or SK_ENOSPACE. */
int evlog_manifest_closed_line(const struct evlog_segment_info *info, char *buf, size_t len);
int evlog_manifest_removed_line(uint64_t segment, uint64_t at_us, const char *reason, char *buf,
                                size_t len);

/* Append text to the manifest at path and fdatasync it (creating it with a
 * comment line first). Returns 0 or -errno; on failure nothing of text is
 * left in the file. */
int evlog_manifest_append(const char *path, const char *text, size_t len);

/* Parse one line into *e. Returns 1 for "closed", 2 for "removed", 0 for
 * a comment or blank line, SK_EINVAL if it does not parse. */
int evlog_manifest_parse_line(const char *line, struct evlog_manifest_entry *e /* OUT */);

#endif
