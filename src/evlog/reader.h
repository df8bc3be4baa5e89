/* evlog/reader.h -- read events back from segment files and folders.
 *
 * Used by every command that analyses the log. One reader reads one
 * segment file in either form (plain or compressed, told apart by the
 * file's first bytes, see evlog/segment.h); a scan reads a list of files
 * and folders in segment order. Both take a filter (time range, kinds)
 * that is applied as early as possible: compressed blocks outside it are
 * not even decompressed, and records outside it are stepped over without
 * being decoded.
 *
 * A torn or corrupt stretch is reported (file and offset) and skipped: the
 * reader resynchronises on the next record whose CRC checks (plain) or the
 * next block descriptor (compressed), so the good records on both sides of
 * the damage are still read. A damaged stretch counts as one record, so
 * the numbers of the records after it stay put when one record was hit;
 * in compressed segments every block re-anchors the numbering. */
#ifndef SK_EVLOG_READER_H
#define SK_EVLOG_READER_H

#include <stddef.h>
#include <stdint.h>

#include "evlog/event.h"
#include "evlog/record.h"

/* Which events to return. The zero filter passes everything. */
struct evlog_filter {
    uint64_t from_us; /* ts_us >= from_us */
    uint64_t to_us;   /* ts_us < to_us; 0: no upper bound */
    uint32_t kinds;   /* bit 1 << SK_EV_*; 0: every kind */
};

/* Where an event came from: its event id is node-segment-recno, and seq
 * its sequence number among every record the node ever stored (0 for
 * segments of format 1, which did not record it). */
struct evlog_ref {
    const char *path;
    const struct evlog_file_header *hdr;
    uint64_t recno;
    uint64_t seq;
};

struct evlog_reader;

/* Open one segment file. Returns 0 and *out, or -errno / SK_ECORRUPT
 * (not an event log, damaged header) / SK_EINVAL (a schema this build
 * cannot read) with a message in err ("PATH: ..."). Free with
 * evlog_reader_close(). */
int evlog_reader_open(const char *path, struct evlog_reader **out /* OUT */, char *err,
                      size_t errlen);

/* The same for an open file descriptor (not closed by the reader; it is
 * duplicated). name is used in messages. */
int evlog_reader_open_fd(int fd, const char *name, struct evlog_reader **out /* OUT */, char *err,
                         size_t errlen);

/* Only return events that pass f from now on (copied). */
void evlog_reader_set_filter(struct evlog_reader *r, const struct evlog_filter *f);

/* Read the next event. Returns 1 with *ev and *recno (the record's index
 * in the file, part of the event id), 0 at the end, or SK_ECORRUPT after
 * skipping damaged bytes (message in err, "PATH: offset N: ..."); reading
 * may go on after SK_ECORRUPT. Only the fields the event holds are written
 * into *ev (see evlog_record_decode()). The spans of a connection event
 * (http, tls, raw) point into the reader's buffers: they are valid until
 * the next call on r (or its close); copy what must live longer. */
int evlog_reader_next(struct evlog_reader *r, struct sk_event *ev /* OUT */,
                      uint64_t *recno /* OUT */, char *err, size_t errlen);

const struct evlog_file_header *evlog_reader_header(const struct evlog_reader *r);

/* 1 if the file is a compressed segment. */
int evlog_reader_compressed(const struct evlog_reader *r);

void evlog_reader_close(struct evlog_reader *r);

struct evlog_scan;

/* Read the segment files named in paths[0..n): files as they are,
 * folders for their *.evlog files in name (= segment) order; a folder
 * without segments but with an events/ folder (a data_dir) stands for
 * that. Returns 0 and *out, or an error with a message if a path cannot
 * be read at all. f may be NULL. Free with evlog_scan_close(). */
int evlog_scan_open(const char *const *paths, size_t n, const struct evlog_filter *f,
                    struct evlog_scan **out /* OUT */, char *err, size_t errlen);

/* Next event of the scan: 1 with *ev and *ref (both, with the spans of a
 * connection event, valid until the next call), 0 at the end, or a
 * negative code with a message (damage, or a file that cannot be opened,
 * which is then skipped); the scan may go on. */
int evlog_scan_next(struct evlog_scan *s, struct sk_event *ev /* OUT */,
                    struct evlog_ref *ref /* OUT */, char *err, size_t errlen);

/* Files the scan reads, and how many it has opened so far. */
size_t evlog_scan_files(const struct evlog_scan *s);

void evlog_scan_close(struct evlog_scan *s);

#endif
