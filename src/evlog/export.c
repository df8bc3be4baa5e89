/* evlog/export.c -- JSON lines, CSV and SQLite writers for events.
 *
 * The three formats share one way of turning an event's fields into text
 * (struct fields), so a name or an address reads the same in each. */
#include "evlog/export.h"

#include <errno.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/err.h"
#include "dns/name.h"
#include "evlog/json.h"

/* ---- fields as text ---- */

struct fields {
    char ts[32];
    const char *type, *proto;
    char id[EVLOG_EVENT_ID_MAX];
    char src[SK_IP_TEXT_MAX], dst[SK_IP_TEXT_MAX], proxy[SK_IP_TEXT_MAX];
    int dns;
    char rrname[DNS_NAME_TEXT_MAX];
    int has_rrname, has_question;
    const char *rrtype, *rcode, *rrl;
    char tbuf[16], rbuf[16];
    char flags[64];
    char ecs[SK_IP_TEXT_MAX + 8];
};

static void fill(const struct sk_event *ev, const struct evlog_ref *ref, struct fields *f)
{
    evlog_format_time(ev->ts_us, f->ts);
    f->type = evlog_kind_name(ev->kind);
    f->proto = ev->proto == SK_PROTO_TCP ? "TCP" : "UDP";
    evlog_format_event_id(ref->hdr->node, ref->hdr->segment, ref->recno, f->id);
    evlog_format_ip(&ev->src, f->src);
    evlog_format_ip(&ev->dst, f->dst);
    f->proxy[0] = '\0';
    if (ev->proxied_by.af)
        evlog_format_ip(&ev->proxied_by, f->proxy);
    f->dns = ev->kind == SK_EV_DNS;
    if (!f->dns)
        return;
    const struct sk_event_dns *d = &ev->u.dns;
    f->has_question = d->qname_len > 0;
    f->has_rrname = 0;
    if (f->has_question) {
        int n = dns_name_to_text(d->qname, d->qname_len, f->rrname, sizeof(f->rrname));
        if (n >= 0) {
            if (n > 1 && f->rrname[n - 1] == '.')
                f->rrname[n - 1] = '\0';
            f->has_rrname = 1;
        }
    }
    f->rrtype = dns_type_name(d->qtype, f->tbuf);
    f->rcode = dns_rcode_name(d->rcode, f->rbuf);
    f->rrl = evlog_rrl_name(d->rrl);
    const char *names[5];
    int nf = evlog_dns_flag_names(d->flags, names);
    size_t l = 0;
    f->flags[0] = '\0';
    for (int i = 0; i < nf; i++)
        l += (size_t)snprintf(f->flags + l, sizeof(f->flags) - l, "%s%s", i ? " " : "", names[i]);
    f->ecs[0] = '\0';
    if (d->ecs_af == 4 || d->ecs_af == 6) {
        struct sk_ip ip = { .af = d->ecs_af };
        memcpy(ip.a, d->ecs_addr, 16);
        char a[SK_IP_TEXT_MAX];
        evlog_format_ip(&ip, a);
        snprintf(f->ecs, sizeof(f->ecs), "%s/%u", a, d->ecs_source);
    }
}

/* ---- CSV ---- */

const char evlog_csv_header[] =
    "timestamp,event_type,event_id,seq,node,proto,src_ip,src_port,dest_ip,dest_port,proxied_by,"
    "family,list,dns.id,dns.rrname,dns.rrtype,dns.rrclass,dns.rcode,dns.opcode,dns.flags,"
    "dns.edns_size,dns.answers,dns.resp_len,dns.rrl,dns.ecs,dns.ecs_scope\n";

struct cbuf {
    char *p;
    size_t len, cap;
    int full;
};

static void craw(struct cbuf *b, const char *s, size_t n)
{
    if (b->full || b->cap - b->len <= n) {
        b->full = 1;
        return;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

/* A field, quoted as RFC 4180 says when it holds a comma, quote or line
 * break; preceded by a comma unless it is the first. */
static void cfield(struct cbuf *b, const char *s, int first)
{
    if (!first)
        craw(b, ",", 1);
    size_t n = strlen(s);
    if (strcspn(s, ",\"\r\n") == n) {
        craw(b, s, n);
        return;
    }
    craw(b, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"')
            craw(b, "\"", 1);
        craw(b, s + i, 1);
    }
    craw(b, "\"", 1);
}

static void cnum(struct cbuf *b, uint64_t v)
{
    char t[24];
    char *p = t + 23;
    *p = '\0';
    do {
        *--p = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    craw(b, ",", 1);
    craw(b, p, (size_t)(t + 23 - p));
}

int evlog_event_csv(const struct sk_event *ev, const struct evlog_ref *ref, char *out, size_t cap)
{
    struct fields f;
    fill(ev, ref, &f);
    struct cbuf b = { out, 0, cap, cap == 0 };
    if (cap)
        out[0] = '\0';
    cfield(&b, f.ts, 1);
    cfield(&b, f.type, 0);
    cfield(&b, f.id, 0);
    if (ref->seq)
        cnum(&b, ref->seq);
    else
        cfield(&b, "", 0);
    cfield(&b, ref->hdr->node, 0);
    cfield(&b, f.proto, 0);
    cfield(&b, f.src, 0);
    cnum(&b, ev->src.port);
    cfield(&b, f.dst, 0);
    cnum(&b, ev->dst.port);
    cfield(&b, f.proxy, 0);
    cfield(&b, ev->family, 0);
    cfield(&b, ev->list, 0);
    if (f.dns) {
        const struct sk_event_dns *d = &ev->u.dns;
        cnum(&b, d->id);
        cfield(&b, f.has_rrname ? f.rrname : "", 0);
        cfield(&b, f.has_question ? f.rrtype : "", 0);
        if (f.has_question && d->qclass != 1)
            cnum(&b, d->qclass);
        else
            cfield(&b, "", 0);
        cfield(&b, f.rcode, 0);
        if (d->opcode)
            cnum(&b, d->opcode);
        else
            cfield(&b, "", 0);
        cfield(&b, f.flags, 0);
        if (d->flags & SK_DNSF_EDNS)
            cnum(&b, d->edns_size);
        else
            cfield(&b, "", 0);
        cnum(&b, d->ancount);
        cnum(&b, d->resp_len);
        cfield(&b, f.rrl, 0);
        cfield(&b, f.ecs, 0);
        if (f.ecs[0])
            cnum(&b, d->ecs_scope);
        else
            cfield(&b, "", 0);
    } else {
        for (int i = 0; i < 13; i++)
            cfield(&b, "", 0);
    }
    craw(&b, "\n", 1);
    return b.full ? SK_ENOSPACE : (int)b.len;
}

/* ---- JSON lines and CSV ---- */

int evlog_export_text(struct evlog_scan *s, enum evlog_export_format fmt, FILE *out, FILE *errs,
                      struct evlog_export_stats *st)
{
    memset(st, 0, sizeof(*st));
    if (fmt == EVLOG_EXPORT_CSV)
        fputs(evlog_csv_header, out);
    struct sk_event ev;
    memset(&ev, 0, sizeof(ev));
    struct evlog_ref ref;
    char line[8192], err[1024];
    for (;;) {
        int rc = evlog_scan_next(s, &ev, &ref, err, sizeof(err));
        if (rc == 0)
            break;
        if (rc < 0) {
            fprintf(errs, "%s\n", err);
            st->problems++;
            continue;
        }
        int n;
        if (fmt == EVLOG_EXPORT_CSV) {
            n = evlog_event_csv(&ev, &ref, line, sizeof(line));
        } else {
            n = evlog_event_json_seq(&ev, ref.hdr->node, ref.hdr->segment, ref.recno, ref.seq, line,
                                     sizeof(line) - 1);
            if (n > 0)
                line[n++] = '\n';
        }
        if (n <= 0) {
            st->skipped++;
            continue;
        }
        if (fwrite(line, 1, (size_t)n, out) != (size_t)n)
            return -(errno ? errno : EIO);
        st->events++;
    }
    if (fflush(out) != 0)
        return -(errno ? errno : EIO);
    return 0;
}

/* ---- SQLite ---- */

struct sq {
    int (*open_v2)(const char *, sqlite3 **, int, const char *);
    int (*close)(sqlite3 *);
    int (*exec)(sqlite3 *, const char *, int (*)(void *, int, char **, char **), void *, char **);
    int (*prepare_v2)(sqlite3 *, const char *, int, sqlite3_stmt **, const char **);
    int (*bind_int64)(sqlite3_stmt *, int, sqlite3_int64);
    int (*bind_text)(sqlite3_stmt *, int, const char *, int, void (*)(void *));
    int (*bind_null)(sqlite3_stmt *, int);
    int (*step)(sqlite3_stmt *);
    int (*reset)(sqlite3_stmt *);
    int (*finalize)(sqlite3_stmt *);
    const char *(*errmsg)(sqlite3 *);
    void (*free)(void *);
};

/* The SQLite calls the writer makes, in one table, so the writer reads as
 * a sequence of plain calls. */
static int sq_load(struct sq *q, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    *q = (struct sq){ .open_v2 = sqlite3_open_v2,
                      .close = sqlite3_close,
                      .exec = sqlite3_exec,
                      .prepare_v2 = sqlite3_prepare_v2,
                      .bind_int64 = sqlite3_bind_int64,
                      .bind_text = sqlite3_bind_text,
                      .bind_null = sqlite3_bind_null,
                      .step = sqlite3_step,
                      .reset = sqlite3_reset,
                      .finalize = sqlite3_finalize,
                      .errmsg = sqlite3_errmsg,
                      .free = sqlite3_free };
    return 0;
}

static const char dns_schema[] =
    "CREATE TABLE dns ("
    " ts_us INTEGER NOT NULL," /* µs since 1970, UTC: what the indexes use */
    " timestamp TEXT NOT NULL, event_id TEXT NOT NULL, seq INTEGER, node TEXT NOT NULL,"
    " proto TEXT NOT NULL, src_ip TEXT, src_port INTEGER, dest_ip TEXT, dest_port INTEGER,"
    " proxied_by TEXT, family TEXT, list TEXT, id INTEGER, rrname TEXT, rrtype TEXT,"
    " rrclass INTEGER, rcode TEXT, opcode INTEGER, flags TEXT, edns_size INTEGER,"
    " answers INTEGER, resp_len INTEGER, rrl TEXT, ecs TEXT, ecs_scope INTEGER);";

static const char dns_insert[] =
    "INSERT INTO dns VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,"
    "?20,?21,?22,?23,?24,?25,?26);";

static const char dns_indexes[] = "CREATE INDEX dns_time ON dns(ts_us);"
                                  "CREATE INDEX dns_src ON dns(src_ip);"
                                  "CREATE INDEX dns_family ON dns(family);";

static void bind_str(struct sq *q, sqlite3_stmt *st, int i, const char *s)
{
    if (s == NULL || s[0] == '\0')
        q->bind_null(st, i);
    else
        q->bind_text(st, i, s, -1, SQLITE_STATIC);
}

static int bind_dns(struct sq *q, sqlite3_stmt *st, const struct sk_event *ev,
                    const struct evlog_ref *ref, struct fields *f)
{
    const struct sk_event_dns *d = &ev->u.dns;
    q->bind_int64(st, 1, (sqlite3_int64)ev->ts_us);
    bind_str(q, st, 2, f->ts);
    bind_str(q, st, 3, f->id);
    if (ref->seq)
        q->bind_int64(st, 4, (sqlite3_int64)ref->seq);
    else
        q->bind_null(st, 4);
    q->bind_text(st, 5, ref->hdr->node, -1, SQLITE_STATIC);
    bind_str(q, st, 6, f->proto);
    bind_str(q, st, 7, ev->src.af ? f->src : NULL);
    q->bind_int64(st, 8, ev->src.port);
    bind_str(q, st, 9, ev->dst.af ? f->dst : NULL);
    q->bind_int64(st, 10, ev->dst.port);
    bind_str(q, st, 11, f->proxy);
    bind_str(q, st, 12, ev->family);
    bind_str(q, st, 13, ev->list);
    q->bind_int64(st, 14, d->id);
    bind_str(q, st, 15, f->has_rrname ? f->rrname : NULL);
    bind_str(q, st, 16, f->has_question ? f->rrtype : NULL);
    if (f->has_question && d->qclass != 1)
        q->bind_int64(st, 17, d->qclass);
    else
        q->bind_null(st, 17);
    bind_str(q, st, 18, f->rcode);
    if (d->opcode)
        q->bind_int64(st, 19, d->opcode);
    else
        q->bind_null(st, 19);
    q->bind_text(st, 20, f->flags, -1, SQLITE_STATIC);
    if (d->flags & SK_DNSF_EDNS)
        q->bind_int64(st, 21, d->edns_size);
    else
        q->bind_null(st, 21);
    q->bind_int64(st, 22, d->ancount);
    q->bind_int64(st, 23, d->resp_len);
    bind_str(q, st, 24, f->rrl);
    bind_str(q, st, 25, f->ecs);
    if (f->ecs[0])
        q->bind_int64(st, 26, d->ecs_scope);
    else
        q->bind_null(st, 26);
    return q->step(st) == SQLITE_DONE ? 0 : -1;
}

static int sq_exec(struct sq *q, sqlite3 *db, const char *sql, char *err, size_t errlen)
{
    char *msg = NULL;
    if (q->exec(db, sql, NULL, NULL, &msg) == SQLITE_OK)
        return 0;
    snprintf(err, errlen, "sqlite: %s", msg ? msg : q->errmsg(db));
    q->free(msg);
    return SK_EINVAL;
}

int evlog_export_sqlite(struct evlog_scan *s, const char *path, int overwrite, const char *source,
                        FILE *errs, struct evlog_export_stats *st, char *err, size_t errlen)
{
    memset(st, 0, sizeof(*st));
    if (!overwrite && access(path, F_OK) == 0) {
        snprintf(err, errlen, "%s exists (use --force to replace it)", path);
        return SK_EEXIST;
    }
    struct sq q;
    int rc = sq_load(&q, err, errlen);
    if (rc != 0)
        return rc;
    char tmp[4200];
    snprintf(tmp, sizeof(tmp), "%s.tmp-%d", path, (int)getpid());
    unlink(tmp);
    sqlite3 *db = NULL;
    sqlite3_stmt *ins = NULL;
    if (q.open_v2(tmp, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", tmp, db ? q.errmsg(db) : "cannot open");
        rc = SK_EINVAL;
        goto out;
    }
    /* A new file written in one transaction and renamed into place when
     * whole: no journal needed. */
    if ((rc = sq_exec(&q, db, "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;", err, errlen)) ||
        (rc = sq_exec(&q, db, "CREATE TABLE export_info (key TEXT PRIMARY KEY, value TEXT);", err,
                      errlen)) ||
        (rc = sq_exec(&q, db, dns_schema, err, errlen)) ||
        (rc = sq_exec(&q, db, "BEGIN;", err, errlen)))
        goto out;
    if (q.prepare_v2(db, dns_insert, -1, &ins, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "sqlite: %s", q.errmsg(db));
        rc = SK_EINVAL;
        goto out;
    }
    struct sk_event ev;
    memset(&ev, 0, sizeof(ev));
    struct evlog_ref ref;
    struct fields f;
    char msg[1024];
    for (;;) {
        int r = evlog_scan_next(s, &ev, &ref, msg, sizeof(msg));
        if (r == 0)
            break;
        if (r < 0) {
            fprintf(errs, "%s\n", msg);
            st->problems++;
            continue;
        }
        if (ev.kind != SK_EV_DNS) {
            st->skipped++;
            continue;
        }
        fill(&ev, &ref, &f);
        if (bind_dns(&q, ins, &ev, &ref, &f) != 0) {
            snprintf(err, errlen, "sqlite: %s", q.errmsg(db));
            rc = SK_EINVAL;
            goto out;
        }
        q.reset(ins);
        st->events++;
    }
    q.finalize(ins);
    ins = NULL;
    char info[8192], now[32];
    char *qsrc = NULL;
    /* source is the user's list of paths: quote it for SQL. */
    size_t ql = 0;
    for (const char *p = source; *p; p++)
        ql += *p == '\'' ? 2 : 1;
    qsrc = malloc(ql + 1);
    if (qsrc == NULL) {
        rc = -ENOMEM;
        goto out;
    }
    ql = 0;
    for (const char *p = source; *p; p++) {
        qsrc[ql++] = *p;
        if (*p == '\'')
            qsrc[ql++] = '\'';
    }
    qsrc[ql] = '\0';
    snprintf(info, sizeof(info),
             "INSERT INTO export_info VALUES ('format','sinkhole events, schema %u'),"
             "('exported','%s'),('source','%.4000s'),('events','%" PRIu64 "'),"
             "('problems','%" PRIu64 "');",
             SK_EVENT_SCHEMA, sk_clock_format(sk_clock_now_us(), now), qsrc, st->events,
             st->problems);
    free(qsrc);
    if ((rc = sq_exec(&q, db, info, err, errlen)) ||
        (rc = sq_exec(&q, db, "COMMIT;", err, errlen)) ||
        (rc = sq_exec(&q, db, dns_indexes, err, errlen)))
        goto out;
out:
    if (ins)
        q.finalize(ins);
    if (db && q.close(db) != SQLITE_OK && rc == 0) {
        snprintf(err, errlen, "sqlite: cannot close %s", tmp);
        rc = SK_EINVAL;
    }
    if (rc == 0 && rename(tmp, path) != 0) {
        rc = -errno;
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
    }
    if (rc != 0)
        unlink(tmp);
    return rc;
}
