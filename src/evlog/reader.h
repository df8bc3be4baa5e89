/* evlog/reader.h -- read events back from log files.
 *
 * Used by every command that analyses the log. A torn or corrupt record
 * is reported (file and offset) and skipped: the reader resynchronises on
 * the next record whose CRC checks, so the good records on both sides of
 * the damage are still read. */
#ifndef SK_EVLOG_READER_H
#define SK_EVLOG_READER_H

#include <stddef.h>
#include <stdint.h>

#include "evlog/event.h"
#include "evlog/record.h"

struct evlog_reader;

/* Open one log file. Returns 0 and *out, or -errno / SK_ECORRUPT with a
 * message in err ("PATH: ..."). Free with evlog_reader_close(). */
int evlog_reader_open(const char *path, struct evlog_reader **out /* OUT */, char *err,
                      size_t errlen);

/* Read the next event. Returns 1 with *ev and *recno (the record's index in
 * the file, part of the event id), 0 at the end, or SK_ECORRUPT after
 * skipping damaged bytes (message in err, "PATH: offset N: ..."); reading
 * may go on after SK_ECORRUPT. */
int evlog_reader_next(struct evlog_reader *r, struct sk_event *ev /* OUT */,
                      uint64_t *recno /* OUT */, char *err, size_t errlen);

const struct evlog_file_header *evlog_reader_header(const struct evlog_reader *r);

void evlog_reader_close(struct evlog_reader *r);

#endif
