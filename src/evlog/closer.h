/* evlog/closer.h -- the event log's background work on closed segments.
 *
 * Internal to evlog: the writer (evlog.c) hands every segment it closes to
 * the closer, whose thread compresses it, appends its manifest line and
 * applies retention, so the writer never waits for any of it. Before the
 * writer starts, evlog_closer_recover() looks at what a previous run left
 * in the events folder. */
#ifndef SK_EVLOG_CLOSER_H
#define SK_EVLOG_CLOSER_H

#include <stdint.h>

#include "evlog/evlog.h"
#include "evlog/manifest.h"

struct evlog_closer_options {
    const char *dir; /* the events folder */
    enum evlog_compress compress;
    int level;
    uint64_t retain_s, retain_bytes;
    const char *tap; /* rotated tap files PATH.SEGMENT go with their segment */
};

/* What evlog_closer_recover() found. */
struct evlog_recovery {
    struct evlog_manifest manifest;
    uint64_t *pending; /* segments to finish (compress, list), in order */
    size_t npending;
    uint64_t next_seq;     /* sequence number for the next record */
    uint64_t last_segment; /* highest segment id seen (0: none) */
};

/* Recover the events folder dir: load the manifest, remove temp files of
 * an interrupted compression, cut the torn tail of any plain segment not
 * yet listed (logging what was cut), and find where numbering goes on.
 * Returns 0, or -errno if the folder cannot be read. */
int evlog_closer_recover(const char *dir, struct evlog_recovery *rec /* OUT */);

void evlog_recovery_free(struct evlog_recovery *rec);

struct evlog_closer;

/* Start the thread; it takes rec's manifest and pending segments (rec is
 * left empty). */
struct evlog_closer *evlog_closer_start(const struct evlog_closer_options *opt,
                                        struct evlog_recovery *rec);

/* Hand over a closed segment. cut_to: if not 0, the writer gave the
 * segment up after a write error it could not undo; its good part ends at
 * byte cut_to, so cut it there first (and then any torn tail). */
void evlog_closer_push(struct evlog_closer *c, uint64_t segment, uint64_t cut_to);

/* Size of the open segment, counted by retention (any thread). */
void evlog_closer_set_open_bytes(struct evlog_closer *c, uint64_t bytes);

struct evlog_closer_stats {
    uint64_t closed, compressed, compress_errors, removed;
};

void evlog_closer_get_stats(struct evlog_closer *c, struct evlog_closer_stats *st /* OUT */);

/* Finish every segment handed over, stop the thread and free c; its
 * counters as they stand at the end go to *final if it is not NULL. */
void evlog_closer_stop(struct evlog_closer *c, struct evlog_closer_stats *final /* OUT */);

#endif
