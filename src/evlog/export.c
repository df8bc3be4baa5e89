/* evlog/export.c -- JSON lines, CSV and SQLite writers for events.
 *
 * The three formats share one way of turning an event's fields into text
 * (struct fields, and the names of evlog/json.h), so a name or an address
 * reads the same in each. JSON escapes bytes as evlog/json.c does. CSV
 * and SQLite hold the strings taken from the network (URL, headers, SNI,
 * bot id ...) as ASCII text: printable bytes as they are, a backslash as
 * "\\", every other byte as "\xHH", so no byte is lost and no tool chokes
 * on a NUL or on invalid UTF-8. Captured bytes (HTTP body, raw data) are
 * base64 in CSV and BLOBs in SQLite. */
#include "evlog/export.h"

#include <errno.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/err.h"
#include "core/xalloc.h"
#include "dns/name.h"
#include "evlog/json.h"

/* ---- fields as text ---- */

struct fields {
    char ts[32];
    const char *type, *proto;
    char id[EVLOG_EVENT_ID_MAX];
    char src[SK_IP_TEXT_MAX], dst[SK_IP_TEXT_MAX], proxy[SK_IP_TEXT_MAX];
    int dns, conn;
    /* dns */
    char rrname[DNS_NAME_TEXT_MAX];
    int has_rrname, has_question;
    const char *rrtype, *rcode, *rrl;
    char tbuf[16], rbuf[16];
    char flags[64];
    char ecs[SK_IP_TEXT_MAX + 8];
    /* connection events */
    char cflags[EVLOG_CONN_FLAGS_MAX * 12];
    const char *close;
    char closebuf[8];
    char duration[32];
    const char *protocol; /* http */
    char protobuf[16];
    const char *tls_version, *tls_record_version;
    char tvbuf[8], trvbuf[8];
    const char *sniffed; /* raw */
};

static void fill_conn(const struct sk_event *ev, struct fields *f)
{
    const char *names[EVLOG_CONN_FLAGS_MAX];
    int nf = evlog_conn_flag_names(ev->flags, names);
    size_t l = 0;
    f->cflags[0] = '\0';
    for (int i = 0; i < nf; i++)
        l += (size_t)snprintf(f->cflags + l, sizeof(f->cflags) - l, "%s%s", i ? " " : "", names[i]);
    f->close = evlog_close_reason_name(ev->close_reason, f->closebuf);
    evlog_format_duration(ev->duration_us, f->duration);
    f->protocol = "";
    f->tls_version = f->tls_record_version = "";
    f->sniffed = "";
    if (ev->kind == SK_EV_HTTP) {
        f->protocol = evlog_http_protocol(ev->u.http.version, f->protobuf);
    } else if (ev->kind == SK_EV_TLS) {
        if (ev->u.tls.version)
            f->tls_version = evlog_tls_version_name(ev->u.tls.version, f->tvbuf);
        if (ev->u.tls.record_version)
            f->tls_record_version = evlog_tls_version_name(ev->u.tls.record_version, f->trvbuf);
    } else {
        f->sniffed = evlog_sniff_name(ev->u.raw.sniffed);
    }
}

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
    f->conn = ev->kind >= SK_EV_HTTP && ev->kind <= SK_EV_RAW;
    if (f->conn)
        fill_conn(ev, f);
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

/* Network bytes as ASCII text (see the top of the file) into out, which
 * needs 4 * n + 1 bytes; returns the length. */
static size_t text_escape(const uint8_t *p, size_t n, char *out)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = p[i];
        if (c == '\\') {
            out[o++] = '\\';
            out[o++] = '\\';
        } else if (c >= 0x20 && c < 0x7f) {
            out[o++] = (char)c;
        } else {
            out[o++] = '\\';
            out[o++] = 'x';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    out[o] = '\0';
    return o;
}

static size_t span_len(const struct sk_span *s)
{
    return s->p ? s->len : 0;
}

/* ---- CSV ---- */

const char evlog_csv_header[] =
    "timestamp,event_type,event_id,seq,node,proto,src_ip,src_port,dest_ip,dest_port,proxied_by,"
    "family,list,dns.id,dns.rrname,dns.rrtype,dns.rrclass,dns.rcode,dns.opcode,dns.flags,"
    "dns.edns_size,dns.answers,dns.resp_len,dns.rrl,dns.ecs,dns.ecs_scope,"
    "bot_id,rule,flags,close_reason,bytes_in,bytes_out,duration,"
    "http.hostname,http.url,http.http_method,http.protocol,http.status,http.http_user_agent,"
    "http.http_refer,http.http_content_type,http.request,http.body_len,http.body,"
    "tls.sni,tls.alpn,tls.version,tls.record_version,tls.ja3.hash,tls.ja4,"
    "raw.len,raw.data,raw.first_byte_ms,raw.sniffed\n";

#define CSV_DNS_COLS  13
#define CSV_CONN_COLS 7
#define CSV_HTTP_COLS 11
#define CSV_TLS_COLS  6
#define CSV_RAW_COLS  4

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

static void cempty(struct cbuf *b, int n)
{
    for (int i = 0; i < n; i++)
        craw(b, ",", 1);
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

/* Network bytes as an escaped text field, written straight into b. */
static void cbytes(struct cbuf *b, const void *p, size_t n)
{
    craw(b, ",", 1);
    if (n == 0)
        return;
    if (b->full || b->cap - b->len <= 4 * n + 2) {
        b->full = 1;
        return;
    }
    /* Escaped text has no line breaks; quote it if it has a comma or a
     * quote, doubling the quotes. */
    const uint8_t *s = p;
    int quote = memchr(s, ',', n) != NULL || memchr(s, '"', n) != NULL;
    if (!quote) {
        b->len += text_escape(s, n, b->p + b->len);
        return;
    }
    craw(b, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"')
            craw(b, "\"\"", 2);
        else if (!b->full && b->cap - b->len > 4)
            b->len += text_escape(s + i, 1, b->p + b->len);
        else
            b->full = 1;
    }
    craw(b, "\"", 1);
}

static void cspan(struct cbuf *b, const struct sk_span *s)
{
    cbytes(b, s->p, span_len(s));
}

static void cbase64(struct cbuf *b, const struct sk_span *s)
{
    size_t n = span_len(s);
    craw(b, ",", 1);
    if (b->full || b->cap - b->len <= 4 * ((n + 2) / 3) + 1) {
        b->full = 1;
        return;
    }
    b->len += evlog_base64(s->p, n, b->p + b->len);
}

static void csv_dns(struct cbuf *b, const struct sk_event_dns *d, const struct fields *f)
{
    cnum(b, d->id);
    cfield(b, f->has_rrname ? f->rrname : "", 0);
    cfield(b, f->has_question ? f->rrtype : "", 0);
    if (f->has_question && d->qclass != 1)
        cnum(b, d->qclass);
    else
        cempty(b, 1);
    cfield(b, f->rcode, 0);
    if (d->opcode)
        cnum(b, d->opcode);
    else
        cempty(b, 1);
    cfield(b, f->flags, 0);
    if (d->flags & SK_DNSF_EDNS)
        cnum(b, d->edns_size);
    else
        cempty(b, 1);
    cnum(b, d->ancount);
    cnum(b, d->resp_len);
    cfield(b, f->rrl, 0);
    cfield(b, f->ecs, 0);
    if (f->ecs[0])
        cnum(b, d->ecs_scope);
    else
        cempty(b, 1);
}

static void csv_conn(struct cbuf *b, const struct sk_event *ev, const struct fields *f)
{
    cbytes(b, ev->bot_id, strnlen(ev->bot_id, SK_BOTID_MAX));
    cbytes(b, ev->rule, strnlen(ev->rule, SK_RULE_MAX));
    cfield(b, f->cflags, 0);
    cfield(b, f->close, 0);
    cnum(b, ev->bytes_in);
    cnum(b, ev->bytes_out);
    cfield(b, f->duration, 0);
    if (ev->kind == SK_EV_HTTP) {
        const struct sk_event_http *h = &ev->u.http;
        cspan(b, &h->host);
        cspan(b, &h->url);
        cspan(b, &h->method);
        cfield(b, f->protocol, 0);
        if (h->status)
            cnum(b, h->status);
        else
            cempty(b, 1);
        cspan(b, &h->user_agent);
        cspan(b, &h->referer);
        cspan(b, &h->content_type);
        cnum(b, h->request);
        cnum(b, h->body_len);
        cbase64(b, &h->body);
    } else {
        cempty(b, CSV_HTTP_COLS);
    }
    if (ev->kind == SK_EV_TLS) {
        const struct sk_event_tls *t = &ev->u.tls;
        cspan(b, &t->sni);
        cspan(b, &t->alpn);
        cfield(b, f->tls_version, 0);
        cfield(b, f->tls_record_version, 0);
        cbytes(b, t->ja3, strnlen(t->ja3, sizeof(t->ja3)));
        cbytes(b, t->ja4, strnlen(t->ja4, sizeof(t->ja4)));
    } else {
        cempty(b, CSV_TLS_COLS);
    }
    if (ev->kind == SK_EV_RAW) {
        const struct sk_event_raw *r = &ev->u.raw;
        cnum(b, span_len(&r->data));
        cbase64(b, &r->data);
        cnum(b, r->first_byte_ms);
        cfield(b, f->sniffed, 0);
    } else {
        cempty(b, CSV_RAW_COLS);
    }
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
        cempty(&b, 1);
    cfield(&b, ref->hdr->node, 0);
    cfield(&b, f.proto, 0);
    cfield(&b, f.src, 0);
    cnum(&b, ev->src.port);
    cfield(&b, f.dst, 0);
    cnum(&b, ev->dst.port);
    cfield(&b, f.proxy, 0);
    cfield(&b, ev->family, 0);
    cfield(&b, ev->list, 0);
    if (f.dns)
        csv_dns(&b, &ev->u.dns, &f);
    else
        cempty(&b, CSV_DNS_COLS);
    if (f.conn)
        csv_conn(&b, ev, &f);
    else
        cempty(&b, CSV_CONN_COLS + CSV_HTTP_COLS + CSV_TLS_COLS + CSV_RAW_COLS);
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
    char err[1024];
    char *line = xmalloc(EVLOG_EXPORT_LINE_MAX);
    int rc = 0;
    for (;;) {
        int r = evlog_scan_next(s, &ev, &ref, err, sizeof(err));
        if (r == 0)
            break;
        if (r < 0) {
            fprintf(errs, "%s\n", err);
            st->problems++;
            continue;
        }
        int n;
        if (fmt == EVLOG_EXPORT_CSV) {
            n = evlog_event_csv(&ev, &ref, line, EVLOG_EXPORT_LINE_MAX);
        } else {
            n = evlog_event_json_seq(&ev, ref.hdr->node, ref.hdr->segment, ref.recno, ref.seq, line,
                                     EVLOG_EXPORT_LINE_MAX - 1);
            if (n > 0)
                line[n++] = '\n';
        }
        if (n <= 0) {
            st->skipped++;
            continue;
        }
        if (fwrite(line, 1, (size_t)n, out) != (size_t)n) {
            rc = -(errno ? errno : EIO);
            break;
        }
        st->events++;
    }
    free(line);
    if (rc == 0 && fflush(out) != 0)
        rc = -(errno ? errno : EIO);
    return rc;
}

/* ---- SQLite ---- */

struct sq {
    int (*open_v2)(const char *, sqlite3 **, int, const char *);
    int (*close)(sqlite3 *);
    int (*exec)(sqlite3 *, const char *, int (*)(void *, int, char **, char **), void *, char **);
    int (*prepare_v2)(sqlite3 *, const char *, int, sqlite3_stmt **, const char **);
    int (*bind_int64)(sqlite3_stmt *, int, sqlite3_int64);
    int (*bind_double)(sqlite3_stmt *, int, double);
    int (*bind_text)(sqlite3_stmt *, int, const char *, int, void (*)(void *));
    int (*bind_blob)(sqlite3_stmt *, int, const void *, int, void (*)(void *));
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
                      .bind_double = sqlite3_bind_double,
                      .bind_text = sqlite3_bind_text,
                      .bind_blob = sqlite3_bind_blob,
                      .bind_null = sqlite3_bind_null,
                      .step = sqlite3_step,
                      .reset = sqlite3_reset,
                      .finalize = sqlite3_finalize,
                      .errmsg = sqlite3_errmsg,
                      .free = sqlite3_free };
    return 0;
}

/* Columns every table starts with (13), then those of connection events
 * (7); ts_us is what the time index uses. */
#define COMMON_COLS                                                                          \
    " ts_us INTEGER NOT NULL, timestamp TEXT NOT NULL, event_id TEXT NOT NULL, seq INTEGER," \
    " node TEXT NOT NULL, proto TEXT NOT NULL, src_ip TEXT, src_port INTEGER, dest_ip TEXT," \
    " dest_port INTEGER, proxied_by TEXT, family TEXT, list TEXT,"
#define CONN_COLS                                                               \
    " bot_id TEXT, rule TEXT, flags TEXT, close_reason TEXT, bytes_in INTEGER," \
    " bytes_out INTEGER, duration REAL,"

static const char *const table_schema[] = {
    [SK_EV_DNS] = "CREATE TABLE dns (" COMMON_COLS
                  " id INTEGER, rrname TEXT, rrtype TEXT, rrclass INTEGER, rcode TEXT,"
                  " opcode INTEGER, flags TEXT, edns_size INTEGER, answers INTEGER,"
                  " resp_len INTEGER, rrl TEXT, ecs TEXT, ecs_scope INTEGER);",
    [SK_EV_HTTP] = "CREATE TABLE http (" COMMON_COLS CONN_COLS
                   " hostname TEXT, url TEXT, http_method TEXT, protocol TEXT, status INTEGER,"
                   " http_user_agent TEXT, http_refer TEXT, http_content_type TEXT,"
                   " request INTEGER, body_len INTEGER, body BLOB);",
    [SK_EV_TLS] = "CREATE TABLE tls (" COMMON_COLS CONN_COLS
                  " sni TEXT, alpn TEXT, version TEXT, record_version TEXT, ja3_hash TEXT,"
                  " ja4 TEXT);",
    [SK_EV_RAW] = "CREATE TABLE raw (" COMMON_COLS CONN_COLS
                  " len INTEGER, data BLOB, first_byte_ms INTEGER, sniffed TEXT);",
};

/* Columns of each table, for its INSERT. */
static const int table_cols[] = {
    [SK_EV_DNS] = 26, [SK_EV_HTTP] = 31, [SK_EV_TLS] = 26, [SK_EV_RAW] = 24
};

/* A bound statement: the text it binds lives in txt until the step. */
struct binder {
    struct sq *q;
    sqlite3_stmt *st;
    int col;
    char *txt; /* scratch for escaped text, EXPORT_TEXT_MAX bytes */
    size_t used;
};

/* Escaped text of every string of one event, at most. */
#define EXPORT_TEXT_MAX                                                                       \
    (4 * (3 * SK_EV_SHORT_MAX + 3 * SK_EV_URL_MAX + SK_BOTID_MAX + SK_RULE_MAX + SK_JA3_LEN + \
          SK_JA4_LEN) +                                                                       \
     16)

static void b_str(struct binder *b, const char *s)
{
    int i = ++b->col;
    if (s == NULL || s[0] == '\0')
        b->q->bind_null(b->st, i);
    else
        b->q->bind_text(b->st, i, s, -1, SQLITE_STATIC);
}

static void b_int(struct binder *b, uint64_t v)
{
    b->q->bind_int64(b->st, ++b->col, (sqlite3_int64)v);
}

static void b_null(struct binder *b)
{
    b->q->bind_null(b->st, ++b->col);
}

/* Network bytes as escaped text; NULL when empty. */
static void b_bytes(struct binder *b, const void *p, size_t n)
{
    int i = ++b->col;
    if (n == 0) {
        b->q->bind_null(b->st, i);
        return;
    }
    char *t = b->txt + b->used;
    size_t l = text_escape(p, n, t);
    b->used += l + 1;
    b->q->bind_text(b->st, i, t, (int)l, SQLITE_STATIC);
}

static void b_span(struct binder *b, const struct sk_span *s)
{
    b_bytes(b, s->p, span_len(s));
}

static void b_blob(struct binder *b, const struct sk_span *s)
{
    int i = ++b->col;
    if (span_len(s) == 0)
        b->q->bind_null(b->st, i);
    else
        b->q->bind_blob(b->st, i, s->p, (int)s->len, SQLITE_STATIC);
}

static void bind_common(struct binder *b, const struct sk_event *ev, const struct evlog_ref *ref,
                        const struct fields *f)
{
    b_int(b, ev->ts_us);
    b_str(b, f->ts);
    b_str(b, f->id);
    if (ref->seq)
        b_int(b, ref->seq);
    else
        b_null(b);
    b->q->bind_text(b->st, ++b->col, ref->hdr->node, -1, SQLITE_STATIC);
    b_str(b, f->proto);
    b_str(b, ev->src.af ? f->src : NULL);
    b_int(b, ev->src.port);
    b_str(b, ev->dst.af ? f->dst : NULL);
    b_int(b, ev->dst.port);
    b_str(b, f->proxy);
    b_str(b, ev->family);
    b_str(b, ev->list);
}

static void bind_dns(struct binder *b, const struct sk_event_dns *d, const struct fields *f)
{
    b_int(b, d->id);
    b_str(b, f->has_rrname ? f->rrname : NULL);
    b_str(b, f->has_question ? f->rrtype : NULL);
    if (f->has_question && d->qclass != 1)
        b_int(b, d->qclass);
    else
        b_null(b);
    b_str(b, f->rcode);
    if (d->opcode)
        b_int(b, d->opcode);
    else
        b_null(b);
    b->q->bind_text(b->st, ++b->col, f->flags, -1, SQLITE_STATIC);
    if (d->flags & SK_DNSF_EDNS)
        b_int(b, d->edns_size);
    else
        b_null(b);
    b_int(b, d->ancount);
    b_int(b, d->resp_len);
    b_str(b, f->rrl);
    b_str(b, f->ecs);
    if (f->ecs[0])
        b_int(b, d->ecs_scope);
    else
        b_null(b);
}

static void bind_conn(struct binder *b, const struct sk_event *ev, const struct fields *f)
{
    b_bytes(b, ev->bot_id, strnlen(ev->bot_id, SK_BOTID_MAX));
    b_bytes(b, ev->rule, strnlen(ev->rule, SK_RULE_MAX));
    b->q->bind_text(b->st, ++b->col, f->cflags, -1, SQLITE_STATIC);
    b_str(b, f->close);
    b_int(b, ev->bytes_in);
    b_int(b, ev->bytes_out);
    b->q->bind_double(b->st, ++b->col, (double)ev->duration_us / 1e6);
    if (ev->kind == SK_EV_HTTP) {
        const struct sk_event_http *h = &ev->u.http;
        b_span(b, &h->host);
        b_span(b, &h->url);
        b_span(b, &h->method);
        b_str(b, f->protocol);
        if (h->status)
            b_int(b, h->status);
        else
            b_null(b);
        b_span(b, &h->user_agent);
        b_span(b, &h->referer);
        b_span(b, &h->content_type);
        b_int(b, h->request);
        b_int(b, h->body_len);
        b_blob(b, &h->body);
    } else if (ev->kind == SK_EV_TLS) {
        const struct sk_event_tls *t = &ev->u.tls;
        b_span(b, &t->sni);
        b_span(b, &t->alpn);
        b_str(b, f->tls_version);
        b_str(b, f->tls_record_version);
        b_bytes(b, t->ja3, strnlen(t->ja3, sizeof(t->ja3)));
        b_bytes(b, t->ja4, strnlen(t->ja4, sizeof(t->ja4)));
    } else {
        const struct sk_event_raw *r = &ev->u.raw;
        b_int(b, span_len(&r->data));
        b_blob(b, &r->data);
        b_int(b, r->first_byte_ms);
        b_str(b, f->sniffed);
    }
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

/* "CREATE INDEX dns_time ON dns(ts_us); ..." for every table. */
static int make_indexes(struct sq *q, sqlite3 *db, char *err, size_t errlen)
{
    for (uint8_t k = SK_EV_DNS; k <= SK_EV_RAW; k++) {
        const char *t = evlog_kind_name(k);
        char sql[256];
        snprintf(sql, sizeof(sql),
                 "CREATE INDEX %s_time ON %s(ts_us); CREATE INDEX %s_src ON %s(src_ip);"
                 " CREATE INDEX %s_family ON %s(family);",
                 t, t, t, t, t, t);
        int rc = sq_exec(q, db, sql, err, errlen);
        if (rc)
            return rc;
    }
    return 0;
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
    sqlite3_stmt *ins[SK_EV_RAW + 1] = { NULL };
    char *txt = xmalloc(EXPORT_TEXT_MAX);
    if (q.open_v2(tmp, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", tmp, db ? q.errmsg(db) : "cannot open");
        rc = SK_EINVAL;
        goto out;
    }
    /* A new file written in one transaction and renamed into place when
     * whole: no journal needed. */
    if ((rc = sq_exec(&q, db, "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;", err, errlen)) ||
        (rc = sq_exec(&q, db, "CREATE TABLE export_info (key TEXT PRIMARY KEY, value TEXT);", err,
                      errlen)))
        goto out;
    for (uint8_t k = SK_EV_DNS; k <= SK_EV_RAW; k++) {
        if ((rc = sq_exec(&q, db, table_schema[k], err, errlen)))
            goto out;
        char sql[512];
        size_t l =
            (size_t)snprintf(sql, sizeof(sql), "INSERT INTO %s VALUES (?1", evlog_kind_name(k));
        for (int c = 2; c <= table_cols[k]; c++)
            l += (size_t)snprintf(sql + l, sizeof(sql) - l, ",?%d", c);
        snprintf(sql + l, sizeof(sql) - l, ");");
        if (q.prepare_v2(db, sql, -1, &ins[k], NULL) != SQLITE_OK) {
            snprintf(err, errlen, "sqlite: %s", q.errmsg(db));
            rc = SK_EINVAL;
            goto out;
        }
    }
    if ((rc = sq_exec(&q, db, "BEGIN;", err, errlen)))
        goto out;
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
        if (ev.kind < SK_EV_DNS || ev.kind > SK_EV_RAW) {
            st->skipped++;
            continue;
        }
        fill(&ev, &ref, &f);
        struct binder b = { &q, ins[ev.kind], 0, txt, 0 };
        bind_common(&b, &ev, &ref, &f);
        if (ev.kind == SK_EV_DNS)
            bind_dns(&b, &ev.u.dns, &f);
        else
            bind_conn(&b, &ev, &f);
        if (q.step(b.st) != SQLITE_DONE) {
            snprintf(err, errlen, "sqlite: %s", q.errmsg(db));
            rc = SK_EINVAL;
            goto out;
        }
        q.reset(b.st);
        st->events++;
    }
    for (uint8_t k = SK_EV_DNS; k <= SK_EV_RAW; k++) {
        q.finalize(ins[k]);
        ins[k] = NULL;
    }
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
        (rc = sq_exec(&q, db, "COMMIT;", err, errlen)) || (rc = make_indexes(&q, db, err, errlen)))
        goto out;
out:
    for (uint8_t k = SK_EV_DNS; k <= SK_EV_RAW; k++)
        if (ins[k])
            q.finalize(ins[k]);
    free(txt);
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
