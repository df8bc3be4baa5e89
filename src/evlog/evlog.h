/* evlog/evlog.h -- the event log: the one append call every producer uses.
 *
 * Each producer (a worker thread) owns one struct evlog_queue and calls
 * evlog_append() on it from the hot path: the event is encoded as a framed
 * record straight into the queue's ring and the call returns. It never
 * blocks and never allocates: when the ring is full the event is counted
 * as dropped and SK_EFULL returned. One writer thread drains every ring
 * into the current log file in whole records, flushing (fdatasync) at
 * least every flush_ms, and counts what it wrote.
 *
 * Files: DATA_DIR/events/<segment>.evlog, one per run, segment being the
 * start time in µs written as 16 hex digits (unique across restarts). */
#ifndef SK_EVLOG_EVLOG_H
#define SK_EVLOG_EVLOG_H

#include <stdatomic.h>
#include <stdint.h>

#include "evlog/event.h"

struct evlog;
struct evlog_queue;

struct evlog_options {
    const char *data_dir;
    const char *node;
    int nqueues;
    uint32_t queue_bytes; /* ring size per queue, rounded up to a power of 2 */
    uint32_t flush_ms;
};

struct evlog_stats {
    uint64_t appended;     /* accepted into a queue */
    uint64_t dropped;      /* queue full */
    uint64_t written;      /* records handed to the file */
    uint64_t write_errors; /* records lost to write errors (disk full...) */
    uint64_t bytes;        /* bytes written to the file */
    uint64_t flushes;      /* fdatasync calls done */
    uint64_t durable;      /* records known to be on disk */
};

/* Create the log: make DATA_DIR/events, open a new file, start the writer
 * thread. Returns 0 and *out, or -errno / SK_EINVAL with a logged reason. */
int evlog_open(const struct evlog_options *opt, struct evlog **out /* OUT */);

/* Queue i (0 <= i < nqueues) for one producer thread. */
struct evlog_queue *evlog_queue(struct evlog *log, int i);

/* Hand ev to the log. Returns 0, or SK_EFULL if the event was dropped
 * (counted). Safe only from the queue's one producer thread. */
int evlog_append(struct evlog_queue *q, const struct sk_event *ev);

/* Sum of the counters (any thread). */
void evlog_get_stats(struct evlog *log, struct evlog_stats *st /* OUT */);

/* Path of the current file (valid until evlog_close). */
const char *evlog_path(const struct evlog *log);

/* Drain every queue, flush, stop the writer and free everything. Call
 * after the producers have stopped. The counters as they stand at the end
 * go to *final if it is not NULL. */
void evlog_close(struct evlog *log, struct evlog_stats *final /* OUT */);

#endif
