/* cli/cmd_export.c -- `sinkhole export`: the event log for other tools.
 *
 * Reads segment files and folders through the evlog reader (plain or
 * compressed, with the time and kind filter applied inside the reader) and
 * writes JSON lines, CSV or an SQLite database (evlog/export.h). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "core/clock.h"
#include "core/err.h"
#include "evlog/export.h"
#include "evlog/reader.h"

static const char usage_text[] =
    "Usage: sinkhole export PATH... [--format jsonl|csv|sqlite] [-o FILE]\n"
    "                       [--from TIME] [--to TIME] [--kind KIND[,KIND...]] [--force]\n"
    "\n"
    "Write the events a sinkhole logged in a form other tools read: JSON lines\n"
    "(Suricata EVE style), CSV with a header line, or an SQLite database.\n"
    "\n"
    "Each PATH is a segment file (DATA_DIR/events/*.evlog, plain or compressed),\n"
    "a folder of them, or a data_dir (its events/ folder is read). Folders are\n"
    "read in segment order, so events come out in the order they were logged\n"
    "(within a segment, the workers' events interleave by a few milliseconds).\n"
    "A segment the daemon is still writing can be read; its last record may be\n"
    "incomplete and is then reported like any damage.\n"
    "\n"
    "Events are DNS queries (dns) and contacts on the listeners: HTTP requests\n"
    "(http), TLS ClientHellos (tls) and anything else (raw).\n"
    "\n"
    "Options:\n"
    "  -f, --format FMT   jsonl (default): one JSON object per line, named as in\n"
    "                     docs/events.md (timestamp, event_type, event_id, seq,\n"
    "                     src_ip, ..., dns.rrname, http.url, tls.sni, raw.data,\n"
    "                     bot_id, bytes_in, duration, ...); bytes outside\n"
    "                     printable ASCII in strings as \\u00XX, captured bytes\n"
    "                     (http.body, raw.data) in base64;\n"
    "                     csv: the same fields as columns, every kind's in one\n"
    "                     header, nested names written dns.rrname, http.url, ...,\n"
    "                     fields that do not apply left empty; bytes outside\n"
    "                     printable ASCII in strings as \\xHH;\n"
    "                     sqlite: one table per kind (dns, http, tls, raw) with\n"
    "                     indexes on time (ts_us, microseconds since 1970 UTC),\n"
    "                     src_ip and family, captured bytes as BLOBs, and a table\n"
    "                     export_info; needs -o\n"
    "  -o, --output FILE  write to FILE instead of standard output; an SQLite\n"
    "                     database is written under a temporary name and renamed\n"
    "                     to FILE when complete\n"
    "      --force        replace FILE if it exists (sqlite; text formats always\n"
    "                     replace it)\n"
    "      --from TIME    only events at or after TIME\n"
    "      --to TIME      only events before TIME\n"
    "                     TIME is UTC, RFC 3339 (2026-11-28T12:00:00Z, fraction\n"
    "                     allowed) or a date (2026-11-28, meaning its midnight)\n"
    "  -k, --kind KIND    only events of this kind: dns, http, tls or raw; give a\n"
    "                     comma-separated list or repeat the option\n"
    "  -q, --quiet        do not print the summary line on standard error\n"
    "  -h, --help         show this help\n"
    "\n"
    "Damaged or torn records are reported on standard error with the file and\n"
    "offset, and every good record before and after them is still exported.\n"
    "\n"
    "Examples:\n"
    "  sinkhole export /var/lib/sinkhole --format jsonl | jq .dns.rrname\n"
    "  sinkhole export data/events --from 2026-11-28 --to 2026-11-29 --format csv -o day.csv\n"
    "  sinkhole export data --kind http,tls | jq -c '[.src_ip, .http.url // .tls.sni]'\n"
    "  sinkhole export data --format sqlite -o events.db &&\n"
    "    sqlite3 events.db 'SELECT family, count(DISTINCT bot_id) FROM http GROUP BY family'\n"
    "\n"
    "Exit status: 0 success, 1 if any damage was found or a file could not be\n"
    "read (what could be read was still exported) or the output failed, 2 for a\n"
    "usage error.\n";

static int parse_kinds(const char *arg, uint32_t *mask)
{
    static const struct {
        const char *name;
        int kind;
    } kinds[] = {
        { "dns", SK_EV_DNS }, { "http", SK_EV_HTTP }, { "tls", SK_EV_TLS }, { "raw", SK_EV_RAW }
    };
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", arg);
    char *save = NULL;
    int n = 0;
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        size_t i;
        for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
            if (!strcmp(t, kinds[i].name))
                break;
        if (i == sizeof(kinds) / sizeof(kinds[0])) {
            fprintf(stderr, "sinkhole export: unknown kind '%s' (dns, http, tls or raw)\n", t);
            return -1;
        }
        *mask |= 1u << kinds[i].kind;
        n++;
    }
    return n > 0 ? 0 : -1;
}

static int parse_time(const char *opt, const char *arg, uint64_t *us)
{
    if (sk_clock_parse(arg, us) != 0) {
        fprintf(
            stderr,
            "sinkhole export: %s: expected a UTC time like 2026-11-28T12:00:00Z or a date, got '%s'\n",
            opt, arg);
        return -1;
    }
    return 0;
}

int cmd_export(int argc, char **argv)
{
    enum { OPT_FROM = 256, OPT_TO, OPT_FORCE };
    static const struct option opts[] = { { "format", required_argument, NULL, 'f' },
                                          { "output", required_argument, NULL, 'o' },
                                          { "from", required_argument, NULL, OPT_FROM },
                                          { "to", required_argument, NULL, OPT_TO },
                                          { "kind", required_argument, NULL, 'k' },
                                          { "force", no_argument, NULL, OPT_FORCE },
                                          { "quiet", no_argument, NULL, 'q' },
                                          { "help", no_argument, NULL, 'h' },
                                          { NULL, 0, NULL, 0 } };
    enum evlog_export_format fmt = EVLOG_EXPORT_JSONL;
    const char *output = NULL;
    struct evlog_filter filter = { 0 };
    int force = 0, quiet = 0, ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "f:o:k:qh", opts, NULL)) != -1) {
        switch (ch) {
        case 'f':
            if (!strcmp(optarg, "jsonl") || !strcmp(optarg, "json"))
                fmt = EVLOG_EXPORT_JSONL;
            else if (!strcmp(optarg, "csv"))
                fmt = EVLOG_EXPORT_CSV;
            else if (!strcmp(optarg, "sqlite"))
                fmt = EVLOG_EXPORT_SQLITE;
            else {
                fprintf(stderr,
                        "sinkhole export: --format: expected jsonl, csv or sqlite, got '%s'\n",
                        optarg);
                return 2;
            }
            break;
        case 'o':
            output = optarg;
            break;
        case OPT_FROM:
            if (parse_time("--from", optarg, &filter.from_us) != 0)
                return 2;
            break;
        case OPT_TO:
            if (parse_time("--to", optarg, &filter.to_us) != 0)
                return 2;
            break;
        case 'k':
            if (parse_kinds(optarg, &filter.kinds) != 0)
                return 2;
            break;
        case OPT_FORCE:
            force = 1;
            break;
        case 'q':
            quiet = 1;
            break;
        case 'h':
            fputs(usage_text, stdout);
            return 0;
        default:
            fputs(usage_text, stderr);
            return 2;
        }
    }
    if (optind >= argc) {
        fputs("sinkhole export: no PATH given\n\n", stderr);
        fputs(usage_text, stderr);
        return 2;
    }
    if (fmt == EVLOG_EXPORT_SQLITE && output == NULL) {
        fputs("sinkhole export: --format sqlite needs -o FILE\n", stderr);
        return 2;
    }
    if (filter.to_us && filter.to_us <= filter.from_us) {
        fputs("sinkhole export: --to must be after --from\n", stderr);
        return 2;
    }

    char err[1024];
    struct evlog_scan *scan;
    int rc = evlog_scan_open((const char *const *)argv + optind, (size_t)(argc - optind), &filter,
                             &scan, err, sizeof(err));
    if (rc != 0) {
        fprintf(stderr, "sinkhole export: %s\n", err);
        return 1;
    }
    struct evlog_export_stats st;
    int status = 0;
    if (fmt == EVLOG_EXPORT_SQLITE) {
        char source[4096] = "";
        size_t l = 0;
        for (int i = optind; i < argc && l < sizeof(source); i++)
            l += (size_t)snprintf(source + l, sizeof(source) - l, "%s%s", i > optind ? " " : "",
                                  argv[i]);
        rc = evlog_export_sqlite(scan, output, force, source, stderr, &st, err, sizeof(err));
        if (rc != 0) {
            fprintf(stderr, "sinkhole export: %s\n", err);
            status = 1;
        }
    } else {
        FILE *out = stdout;
        if (output && (out = fopen(output, "w")) == NULL) {
            fprintf(stderr, "sinkhole export: %s: %s\n", output, strerror(errno));
            evlog_scan_close(scan);
            return 1;
        }
        static char obuf[1 << 20];
        setvbuf(out, obuf, _IOFBF, sizeof(obuf));
        rc = evlog_export_text(scan, fmt, out, stderr, &st);
        if (rc != 0) {
            fprintf(stderr, "sinkhole export: %s: %s\n", output ? output : "standard output",
                    sk_strerror(rc));
            status = 1;
        }
        if (output && fclose(out) != 0 && status == 0) {
            fprintf(stderr, "sinkhole export: %s: %s\n", output, strerror(errno));
            status = 1;
        } else if (!output && fflush(stdout) != 0 && status == 0) {
            fprintf(stderr, "sinkhole export: standard output: %s\n", strerror(errno));
            status = 1;
        }
    }
    size_t files = evlog_scan_files(scan);
    evlog_scan_close(scan);
    if (st.problems)
        status = 1;
    if (!quiet)
        fprintf(stderr, "sinkhole export: %llu events from %zu files, %llu problems\n",
                (unsigned long long)st.events, files, (unsigned long long)st.problems);
    return status;
}
