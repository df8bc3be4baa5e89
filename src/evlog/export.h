/* evlog/export.h -- events as JSON lines, CSV or SQLite, for other tools.
 *
 * `sinkhole export` (cli/cmd_export.c) is a thin shell around this: it
 * opens a scan (evlog/reader.h) with the user's filter and hands it here.
 * JSON lines are the EVE-style objects of evlog/json.h; CSV has one header
 * line and the same names, nested ones written "dns.rrname", "http.url",
 * with the columns of every kind (those that do not apply left empty);
 * SQLite gets one table per kind (dns, http, tls, raw) with indexes on
 * time, source address and family, plus a table export_info saying what
 * was exported from where. docs/events.md lists every column. */
#ifndef SK_EVLOG_EXPORT_H
#define SK_EVLOG_EXPORT_H

#include <stdint.h>
#include <stdio.h>

#include "evlog/json.h"
#include "evlog/reader.h"

enum evlog_export_format { EVLOG_EXPORT_JSONL, EVLOG_EXPORT_CSV, EVLOG_EXPORT_SQLITE };

struct evlog_export_stats {
    uint64_t events;   /* exported */
    uint64_t problems; /* damaged stretches and unreadable files, reported to errs */
    uint64_t skipped;  /* events that could not be written in the format (none expected) */
};

/* Bytes that always suffice for one event's line in either text format
 * (JSON: EVLOG_JSON_MAX; CSV with every string escaped takes less). */
#define EVLOG_EXPORT_LINE_MAX (EVLOG_JSON_MAX + 1)

/* The CSV header line (with '\n'). */
extern const char evlog_csv_header[];

/* One event as a CSV line (with '\n') into out[0..cap). Returns its length
 * or SK_ENOSPACE (EVLOG_EXPORT_LINE_MAX bytes always suffice). */
int evlog_event_csv(const struct sk_event *ev, const struct evlog_ref *ref, char *out, size_t cap);

/* Write every event of s to out as JSON lines or CSV. Problems are
 * reported to errs (one line each) and reading goes on. Returns 0, or
 * -errno if out could not be written. */
int evlog_export_text(struct evlog_scan *s, enum evlog_export_format fmt, FILE *out, FILE *errs,
                      struct evlog_export_stats *st /* OUT */);

/* Write every event of s into a new SQLite database at path (written
 * under a temporary name and renamed into place at the end; an existing
 * file is replaced only with overwrite). source describes what was
 * exported (kept in export_info). Needs libsqlite3 at run time. Returns 0,
 * or a negative code with a message in err. */
int evlog_export_sqlite(struct evlog_scan *s, const char *path, int overwrite, const char *source,
                        FILE *errs, struct evlog_export_stats *st /* OUT */, char *err,
                        size_t errlen);

#endif
