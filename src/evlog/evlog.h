/* evlog/evlog.h -- the event log: the one append call every producer uses.
 *
 * Each producer (a worker thread) owns one struct evlog_queue and calls
 * evlog_append() on it from the hot path: the event is encoded as a framed
 * record straight into the queue's ring and the call returns. It never
 * blocks and never allocates: when the ring is full the event is counted
 * as dropped and SK_EFULL returned.
 *
 * One writer thread (named "sk-evlog") drains every ring into the open
 * segment file in whole records, in batches a few ms apart, and rotates to
 * a new segment by size and by age; it also writes the optional JSON-lines
 * tap. Every record is handed to fdatasync within flush_ms of its
 * append. When every ring is empty the writer sleeps until a producer
 * appends again (the first record wakes it) or the next flush, rotation
 * or retry is due: idle, it wakes twice per flush_ms. A second, background thread takes each closed
 * segment, compresses it (evlog/segment.h), records it with its SHA-256 in the manifest
 * (evlog/manifest.h) and applies retention, so neither the workers nor the
 * writer ever wait for compression.
 *
 * Files: DATA_DIR/events/<segment>.evlog (segment ids grow across restarts,
 * so event ids node-segment-record stay unique) and DATA_DIR/events/MANIFEST.
 * On open, the log recovers what a crash left: the last segment's torn
 * tail is cut off, closed segments not yet compressed or listed are
 * finished, and numbering goes on after the last record on disk.
 *
 * Every record gets a sequence number, one more than the record before it
 * on this data_dir (across segments and restarts). "durable" is the
 * sequence number of the last record known to be on disk: every record
 * numbered up to it has been fdatasync'ed. Write errors (disk full, ...)
 * never stop the producers: the records that cannot be written are
 * counted (write_errors) and left out without a gap in the numbering, the
 * error is logged once per interval, and writing is retried every
 * retry_ms until it works again. */
#ifndef SK_EVLOG_EVLOG_H
#define SK_EVLOG_EVLOG_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "evlog/event.h"

struct evlog;
struct evlog_queue;

enum evlog_compress { EVLOG_COMPRESS_NONE = 0, EVLOG_COMPRESS_ZSTD = 1 };

struct evlog_options {
    const char *data_dir;
    const char *node;
    int nqueues;
    uint32_t queue_bytes;  /* ring size per queue, rounded up to a power of 2 */
    uint32_t flush_ms;     /* 0: 1000 */
    uint64_t rotate_bytes; /* start a new segment past this size; 0: never */
    uint32_t rotate_s;     /* ... or when the segment is this old; 0: never */
    enum evlog_compress compress;
    int compress_level;    /* zstd level 1-19; 0: 1 */
    uint64_t retain_s;     /* remove closed segments older than this; 0: keep */
    uint64_t retain_bytes; /* remove the oldest while the log is larger; 0: keep */
    const char *tap;       /* JSON-lines file for a SIEM to tail; NULL: none */
    uint32_t retry_ms;     /* retry writing after an error this often; 0: 1000 */
};

struct evlog_stats {
    uint64_t appended;     /* accepted into a queue */
    uint64_t dropped;      /* queue full */
    uint64_t written;      /* records written to a segment */
    uint64_t write_errors; /* records not written: disk full, I/O error */
    uint64_t bytes;        /* bytes written to segments */
    uint64_t flushes;      /* fdatasync calls done */
    uint64_t seq;          /* sequence number of the last record written (0: none yet) */
    uint64_t durable;      /* sequence number of the last record known to be on disk */
    uint64_t segment;      /* id of the open segment (0: none open) */
    uint64_t segments;     /* segments closed by this run */
    uint64_t compressed;   /* ... of them compressed */
    uint64_t compress_errors;
    uint64_t removed;    /* segments removed by retention */
    uint64_t tap_lines;  /* lines written to the tap */
    uint64_t tap_errors; /* tap lines lost: write errors, or skipped while the writer was behind */
    uint64_t failing;    /* 1 while writes fail */
    int last_error;      /* errno of the last write error (0: none) */
};

/* Create the log: make DATA_DIR/events, recover what a previous run left,
 * open a new segment and start the threads. A segment that cannot be
 * created for lack of space does not stop the log (it retries). Returns 0
 * and *out, or -errno / SK_EINVAL with a logged reason. */
int evlog_open(const struct evlog_options *opt, struct evlog **out /* OUT */);

/* Queue i (0 <= i < nqueues) for one producer thread. With log NULL
 * (`[log] enabled = no`: nothing is recorded) it returns NULL, which
 * evlog_append() takes as "no log", so producers need no test of their
 * own. */
struct evlog_queue *evlog_queue(struct evlog *log, int i);

/* Hand ev to the log. Returns 0, or SK_EFULL if the event was dropped
 * (counted). Safe only from the queue's one producer thread. q NULL (no
 * log): returns 0 at once, touching nothing. Lock-free and
 * allocation-free; never blocks. It makes one system call (a futex wake,
 * which does not wait) only to wake a sleeping writer: for the first
 * record after the writer went idle, or when its ring passes a quarter
 * full while the writer naps between batches. */
int evlog_append(struct evlog_queue *q, const struct sk_event *ev);

/* Sum of the counters (any thread); all zero with log NULL. */
void evlog_get_stats(struct evlog *log, struct evlog_stats *st /* OUT */);

/* Path of the segment opened by evlog_open() (or of the events folder if
 * none could be opened); valid until evlog_close(). */
const char *evlog_path(const struct evlog *log);

/* Path of the segment open now into buf[0..len) (any thread); returns buf.
 * Empty if none is open, or with log NULL. */
char *evlog_current_path(struct evlog *log, char *buf, size_t len);

/* The events folder (DATA_DIR/events); valid until evlog_close(). */
const char *evlog_dir(const struct evlog *log);

/* Drain every queue, flush, close the open segment and finish it
 * (compress, manifest), stop the threads and free everything. Call after
 * the producers have stopped. The counters as they stand at the end go to
 * *final if it is not NULL. log NULL: does nothing. */
void evlog_close(struct evlog *log, struct evlog_stats *final /* OUT */);

#endif
