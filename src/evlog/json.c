/* evlog/json.c -- hand-written JSON for events.
 *
 * The tap writes a line for every event from the log's writer thread and
 * export writes millions, so the common pieces avoid printf: numbers and
 * IPv4 addresses are formatted by hand, strings copied in runs, and the
 * date part of the timestamp is formatted once per second of event time
 * (cached per thread). Strings taken from the network (names, URLs,
 * headers, SNI, bot ids) may hold any bytes: each byte outside printable
 * ASCII is written as its own \u00XX escape, so every line is ASCII, valid
 * JSON and valid UTF-8, and the original bytes come back exactly by
 * encoding the decoded string as Latin-1. Captured bytes (HTTP bodies, raw
 * first bytes) are written in base64. */
#include "evlog/json.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "core/err.h"
#include "dns/name.h"

struct jbuf {
    char *p;
    size_t len, cap;
    int full;
};

static void jraw(struct jbuf *b, const char *s, size_t n)
{
    if (b->full || b->cap - b->len <= n) {
        b->full = 1;
        return;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

/* A literal: its length is known at compile time. */
#define JLIT(b, s) jraw(b, s, sizeof(s) - 1)

/* ,"key": */
#define jkey(b, k) JLIT(b, ",\"" k "\":")

static void jfmt(struct jbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void jfmt(struct jbuf *b, const char *fmt, ...)
{
    char tmp[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(tmp)) {
        b->full = 1;
        return;
    }
    jraw(b, tmp, (size_t)n);
}

/* Decimal digits of v into the end of buf[0..24); returns the first. */
static char *digits(uint64_t v, char buf[24])
{
    char *p = buf + 24;
    do {
        *--p = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return p;
}

static void jnum(struct jbuf *b, uint64_t v)
{
    char buf[24];
    char *p = digits(v, buf);
    jraw(b, p, (size_t)(buf + 24 - p));
}

/* A JSON string: escapes quotes, backslashes and control bytes; bytes
 * >= 0x80 are written as \u00XX so the output is always valid UTF-8 (and
 * ASCII). Runs of bytes that need no escape are copied at once. */
static void jstr(struct jbuf *b, const char *s, size_t n)
{
    JLIT(b, "\"");
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch >= 0x20 && ch < 0x7f && ch != '"' && ch != '\\')
            continue;
        jraw(b, s + run, i - run);
        run = i + 1;
        if (ch == '"' || ch == '\\') {
            char e[2] = { '\\', (char)ch };
            jraw(b, e, 2);
        } else {
            static const char hex[] = "0123456789abcdef";
            char e[6] = { '\\', 'u', '0', '0', hex[ch >> 4], hex[ch & 15] };
            jraw(b, e, 6);
        }
    }
    jraw(b, s + run, n - run);
    JLIT(b, "\"");
}

int evlog_json_string(const void *s, size_t n, char *out, size_t cap)
{
    struct jbuf b = { out, 0, cap, cap == 0 };
    if (cap)
        out[0] = '\0';
    jstr(&b, s, n);
    return b.full ? SK_ENOSPACE : (int)b.len;
}

static void jspan(struct jbuf *b, const struct sk_span *s)
{
    jstr(b, (const char *)s->p, s->p ? s->len : 0);
}

size_t evlog_base64(const uint8_t *p, size_t n, char *out)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0, i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        out[o++] = tab[v >> 18];
        out[o++] = tab[(v >> 12) & 63];
        out[o++] = tab[(v >> 6) & 63];
        out[o++] = tab[v & 63];
    }
    if (i < n) {
        uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0);
        out[o++] = tab[v >> 18];
        out[o++] = tab[(v >> 12) & 63];
        out[o++] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
        out[o++] = '=';
    }
    out[o] = '\0';
    return o;
}

/* Bytes as a base64 JSON string, encoded straight into the buffer. */
static void jbase64(struct jbuf *b, const struct sk_span *s)
{
    size_t n = s->p ? s->len : 0;
    size_t need = 4 * ((n + 2) / 3);
    if (b->full || b->cap - b->len <= need + 2) {
        b->full = 1;
        return;
    }
    JLIT(b, "\"");
    b->len += evlog_base64(s->p, n, b->p + b->len);
    JLIT(b, "\"");
}

/* "2026-11-28T12:00:00.000020Z", the date and time part formatted once a
 * second per thread. */
size_t evlog_format_time(uint64_t us, char out[32])
{
    static _Thread_local uint64_t cached_s = UINT64_MAX;
    static _Thread_local char cached[32];
    uint64_t s = us / 1000000u;
    if (s != cached_s) {
        sk_clock_format(s * 1000000u, cached);
        cached_s = s;
    }
    memcpy(out, cached, 20); /* "YYYY-MM-DDTHH:MM:SS." */
    uint32_t f = (uint32_t)(us % 1000000u);
    for (int i = 25; i >= 20; i--) {
        out[i] = (char)('0' + f % 10);
        f /= 10;
    }
    out[26] = 'Z';
    out[27] = '\0';
    return 27;
}

static void jtime(struct jbuf *b, uint64_t us)
{
    char t[32];
    JLIT(b, "\"");
    jraw(b, t, evlog_format_time(us, t));
    JLIT(b, "\"");
}

/* IPv4 by hand (the common case), IPv6 by inet_ntop. */
size_t evlog_format_ip(const struct sk_ip *ip, char out[SK_IP_TEXT_MAX])
{
    if (ip->af == 4) {
        size_t n = 0;
        for (int i = 0; i < 4; i++) {
            char buf[24];
            char *p = digits(ip->a[i], buf);
            size_t l = (size_t)(buf + 24 - p);
            memcpy(out + n, p, l);
            n += l;
            out[n++] = i < 3 ? '.' : '\0';
        }
        return n - 1;
    }
    if (ip->af == 6 && inet_ntop(AF_INET6, ip->a, out, SK_IP_TEXT_MAX))
        return strlen(out);
    strcpy(out, "-");
    return 1;
}

size_t evlog_format_event_id(const char *node, uint64_t segment, uint64_t recno,
                             char out[EVLOG_EVENT_ID_MAX])
{
    size_t nl = strnlen(node, 255);
    memcpy(out, node, nl);
    out[nl] = '-';
    for (int i = 0; i < 16; i++)
        out[nl + 1 + i] = "0123456789abcdef"[(segment >> (60 - 4 * i)) & 15];
    out[nl + 17] = '-';
    char buf[24];
    char *r = digits(recno, buf);
    size_t rl = (size_t)(buf + 24 - r);
    memcpy(out + nl + 18, r, rl);
    out[nl + 18 + rl] = '\0';
    return nl + 18 + rl;
}

const char *dns_type_name(uint16_t type, char buf[16])
{
    static const struct {
        uint16_t t;
        const char *n;
    } names[] = { { 1, "A" },      { 2, "NS" },     { 5, "CNAME" },   { 6, "SOA" },
                  { 12, "PTR" },   { 15, "MX" },    { 16, "TXT" },    { 28, "AAAA" },
                  { 33, "SRV" },   { 35, "NAPTR" }, { 41, "OPT" },    { 43, "DS" },
                  { 46, "RRSIG" }, { 47, "NSEC" },  { 48, "DNSKEY" }, { 50, "NSEC3" },
                  { 52, "TLSA" },  { 64, "SVCB" },  { 65, "HTTPS" },  { 99, "SPF" },
                  { 251, "IXFR" }, { 252, "AXFR" }, { 255, "ANY" },   { 257, "CAA" } };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (names[i].t == type)
            return names[i].n;
    snprintf(buf, 16, "TYPE%u", type);
    return buf;
}

const char *dns_rcode_name(uint16_t rcode, char buf[16])
{
    static const char *const names[] = { "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
                                         "NOTIMP",  "REFUSED", "YXDOMAIN", "YXRRSET",
                                         "NXRRSET", "NOTAUTH", "NOTZONE" };
    if (rcode < sizeof(names) / sizeof(names[0]))
        return names[rcode];
    if (rcode == 16)
        return "BADVERS";
    snprintf(buf, 16, "RCODE%u", rcode);
    return buf;
}

static void jaddr(struct jbuf *b, const char *ipkey, size_t iplen, const char *portkey,
                  size_t portlen, const struct sk_ip *ip)
{
    char a[SK_IP_TEXT_MAX];
    size_t n = evlog_format_ip(ip, a);
    jraw(b, ipkey, iplen);
    jstr(b, a, n);
    if (portkey) {
        jraw(b, portkey, portlen);
        jnum(b, ip->port);
    }
}

#define JADDR(b, ipkey, portkey, ip) \
    jaddr(b, ",\"" ipkey "\":", sizeof(ipkey) + 3, ",\"" portkey "\":", sizeof(portkey) + 3, ip)

const char *evlog_rrl_name(uint8_t a)
{
    switch (a) {
    case SK_RRL_SLIP:
        return "slip";
    case SK_RRL_DROP:
        return "drop";
    case SK_RRL_EXEMPT:
        return "exempt";
    default:
        return "pass";
    }
}

int evlog_dns_flag_names(uint8_t flags, const char *names[5])
{
    static const struct {
        uint8_t bit;
        const char *name;
    } fl[] = { { SK_DNSF_AA, "aa" },
               { SK_DNSF_TC, "tc" },
               { SK_DNSF_RD, "rd" },
               { SK_DNSF_DO, "do" },
               { SK_DNSF_NOREPLY, "noreply" } };
    int n = 0;
    for (size_t i = 0; i < sizeof(fl) / sizeof(fl[0]); i++)
        if (flags & fl[i].bit)
            names[n++] = fl[i].name;
    return n;
}

int evlog_conn_flag_names(uint16_t flags, const char *names[EVLOG_CONN_FLAGS_MAX])
{
    static const char *const fl[16] = { "tls",    "keepalive", "truncated",  "silent",
                                        "banner", "malformed", "terminated", "limit",
                                        "tarpit", "0x0200",    "0x0400",     "0x0800",
                                        "0x1000", "0x2000",    "0x4000",     "0x8000" };
    _Static_assert(SK_CONNF_TLS == 1 << 0 && SK_CONNF_KEEPALIVE == 1 << 1 &&
                       SK_CONNF_TRUNC == 1 << 2 && SK_CONNF_SILENT == 1 << 3 &&
                       SK_CONNF_BANNER == 1 << 4 && SK_CONNF_MALFORMED == 1 << 5 &&
                       SK_CONNF_TERMINATED == 1 << 6 && SK_CONNF_LIMIT == 1 << 7 &&
                       SK_CONNF_TARPIT == 1 << 8,
                   "flag names follow the SK_CONNF_* bits");
    int n = 0;
    for (int i = 0; i < 16; i++)
        if (flags & (1u << i))
            names[n++] = fl[i];
    return n;
}

const char *evlog_close_reason_name(uint8_t reason, char buf[8])
{
    static const char *const names[] = { "none",  "client",    "server", "idle",    "header",
                                         "total", "max_bytes", "error",  "shutdown" };
    _Static_assert(SK_CLOSE_SHUTDOWN == 8, "close reason names follow enum sk_close_reason");
    if (reason < sizeof(names) / sizeof(names[0]))
        return names[reason];
    snprintf(buf, 8, "%u", reason);
    return buf;
}

const char *evlog_tls_version_name(uint16_t version, char buf[8])
{
    switch (version) {
    case 0x0002:
        return "SSLv2";
    case 0x0300:
        return "SSLv3";
    case 0x0301:
        return "TLSv1";
    case 0x0302:
        return "TLS 1.1";
    case 0x0303:
        return "TLS 1.2";
    case 0x0304:
        return "TLS 1.3";
    default:
        snprintf(buf, 8, "0x%04x", version);
        return buf;
    }
}

const char *evlog_http_protocol(uint8_t version, char buf[16])
{
    if (version == 0)
        return "";
    snprintf(buf, 16, "HTTP/%u.%u", version / 10u, version % 10u);
    return buf;
}

const char *evlog_sniff_name(uint8_t sniffed)
{
    /* enum sniff_proto (proto/sniff.h); 0 is "undecided". */
    static const char *const names[] = { "none", "http", "tls", "proxy-v1", "proxy-v2", "raw" };
    return sniffed < sizeof(names) / sizeof(names[0]) ? names[sniffed] : "unknown";
}

size_t evlog_format_duration(uint64_t us, char out[32])
{
    char buf[24];
    char *p = digits(us / 1000000u, buf);
    size_t l = (size_t)(buf + 24 - p);
    memcpy(out, p, l);
    out[l++] = '.';
    uint32_t f = (uint32_t)(us % 1000000u);
    for (int i = 5; i >= 0; i--) {
        out[l + (size_t)i] = (char)('0' + f % 10);
        f /= 10;
    }
    l += 6;
    out[l] = '\0';
    return l;
}

const char *evlog_kind_name(uint8_t kind)
{
    static const char *const kinds[] = { "unknown", "dns", "http", "tls", "raw" };
    return kind < 5 ? kinds[kind] : "unknown";
}

static void jdns(struct jbuf *b, const struct sk_event_dns *d)
{
    char tb[16], text[DNS_NAME_TEXT_MAX];
    jkey(b, "dns");
    JLIT(b, "{\"type\":\"query\"");
    jkey(b, "id");
    jnum(b, d->id);
    if (d->qname_len > 0) {
        int n = dns_name_to_text(d->qname, d->qname_len, text, sizeof(text));
        if (n >= 0) {
            /* rrname without the trailing dot, as EVE writes it. */
            size_t l = (size_t)n;
            if (l > 1 && text[l - 1] == '.')
                l--;
            jkey(b, "rrname");
            jstr(b, text, l);
        }
        jkey(b, "rrtype");
        const char *t = dns_type_name(d->qtype, tb);
        jstr(b, t, strlen(t));
        if (d->qclass != 1) {
            jkey(b, "rrclass");
            jnum(b, d->qclass);
        }
    }
    jkey(b, "rcode");
    const char *rc = dns_rcode_name(d->rcode, tb);
    jstr(b, rc, strlen(rc));
    if (d->opcode != 0) {
        jkey(b, "opcode");
        jnum(b, d->opcode);
    }
    jkey(b, "flags");
    JLIT(b, "[");
    const char *fl[5];
    int nfl = evlog_dns_flag_names(d->flags, fl);
    for (int i = 0; i < nfl; i++) {
        if (i)
            JLIT(b, ",");
        jstr(b, fl[i], strlen(fl[i]));
    }
    JLIT(b, "]");
    if (d->flags & SK_DNSF_EDNS) {
        jkey(b, "edns_size");
        jnum(b, d->edns_size);
    }
    jkey(b, "answers");
    jnum(b, d->ancount);
    jkey(b, "resp_len");
    jnum(b, d->resp_len);
    jkey(b, "rrl");
    const char *rrl = evlog_rrl_name(d->rrl);
    jstr(b, rrl, strlen(rrl));
    if (d->ecs_af == 4 || d->ecs_af == 6) {
        struct sk_ip ip = { .af = d->ecs_af };
        memcpy(ip.a, d->ecs_addr, 16);
        char a[SK_IP_TEXT_MAX];
        evlog_format_ip(&ip, a);
        jkey(b, "ecs");
        jfmt(b, "\"%s/%u\"", a, d->ecs_source);
        jkey(b, "ecs_scope");
        jnum(b, d->ecs_scope);
    }
    JLIT(b, "}");
}

/* ,"key": inside an object whose first member may not be written yet. */
struct jobj {
    struct jbuf *b;
    int first;
};

static void okey(struct jobj *o, const char *k, size_t n)
{
    if (!o->first)
        JLIT(o->b, ",");
    o->first = 0;
    JLIT(o->b, "\"");
    jraw(o->b, k, n);
    JLIT(o->b, "\":");
}

#define OKEY(o, k) okey(o, k, sizeof(k) - 1)

static void ospan(struct jobj *o, const char *k, size_t n, const struct sk_span *s)
{
    if (s->p && s->len) {
        okey(o, k, n);
        jspan(o->b, s);
    }
}

#define OSPAN(o, k, s) ospan(o, k, sizeof(k) - 1, s)

static void jhttp(struct jbuf *b, const struct sk_event_http *h)
{
    char pb[16];
    struct jobj o = { b, 1 };
    jkey(b, "http");
    JLIT(b, "{");
    OSPAN(&o, "hostname", &h->host);
    OSPAN(&o, "url", &h->url);
    OSPAN(&o, "http_method", &h->method);
    if (h->version) {
        const char *proto = evlog_http_protocol(h->version, pb);
        OKEY(&o, "protocol");
        jstr(b, proto, strlen(proto));
    }
    if (h->status) {
        OKEY(&o, "status");
        jnum(b, h->status);
    }
    OSPAN(&o, "http_user_agent", &h->user_agent);
    OSPAN(&o, "http_refer", &h->referer);
    OSPAN(&o, "http_content_type", &h->content_type);
    OKEY(&o, "request");
    jnum(b, h->request);
    OKEY(&o, "body_len");
    jnum(b, h->body_len);
    if (h->body.p && h->body.len) {
        OKEY(&o, "body");
        jbase64(b, &h->body);
    }
    JLIT(b, "}");
}

static void jtls(struct jbuf *b, const struct sk_event_tls *t)
{
    char vb[8];
    struct jobj o = { b, 1 };
    jkey(b, "tls");
    JLIT(b, "{");
    OSPAN(&o, "sni", &t->sni);
    OSPAN(&o, "alpn", &t->alpn);
    if (t->version) {
        const char *v = evlog_tls_version_name(t->version, vb);
        OKEY(&o, "version");
        jstr(b, v, strlen(v));
    }
    if (t->record_version) {
        const char *v = evlog_tls_version_name(t->record_version, vb);
        OKEY(&o, "record_version");
        jstr(b, v, strlen(v));
    }
    if (t->ja3[0]) {
        OKEY(&o, "ja3");
        JLIT(b, "{\"hash\":");
        jstr(b, t->ja3, strnlen(t->ja3, sizeof(t->ja3)));
        JLIT(b, "}");
    }
    if (t->ja4[0]) {
        OKEY(&o, "ja4");
        jstr(b, t->ja4, strnlen(t->ja4, sizeof(t->ja4)));
    }
    JLIT(b, "}");
}

static void jrawev(struct jbuf *b, const struct sk_event_raw *r)
{
    jkey(b, "raw");
    JLIT(b, "{\"len\":");
    jnum(b, r->data.p ? r->data.len : 0);
    if (r->data.p && r->data.len) {
        jkey(b, "data");
        jbase64(b, &r->data);
    }
    jkey(b, "first_byte_ms");
    jnum(b, r->first_byte_ms);
    jkey(b, "sniffed");
    const char *sn = evlog_sniff_name(r->sniffed);
    jstr(b, sn, strlen(sn));
    JLIT(b, "}");
}

/* The fields every connection event has, after its kind's object. */
static void jconn_tail(struct jbuf *b, const struct sk_event *ev)
{
    char cb[8], db[32];
    jkey(b, "flags");
    JLIT(b, "[");
    const char *fl[EVLOG_CONN_FLAGS_MAX];
    int nfl = evlog_conn_flag_names(ev->flags, fl);
    for (int i = 0; i < nfl; i++) {
        if (i)
            JLIT(b, ",");
        jstr(b, fl[i], strlen(fl[i]));
    }
    JLIT(b, "]");
    jkey(b, "close_reason");
    const char *cr = evlog_close_reason_name(ev->close_reason, cb);
    jstr(b, cr, strlen(cr));
    jkey(b, "bytes_in");
    jnum(b, ev->bytes_in);
    jkey(b, "bytes_out");
    jnum(b, ev->bytes_out);
    jkey(b, "duration");
    jraw(b, db, evlog_format_duration(ev->duration_us, db));
}

int evlog_event_json(const struct sk_event *ev, const char *node, uint64_t segment, uint64_t recno,
                     char *out, size_t cap)
{
    return evlog_event_json_seq(ev, node, segment, recno, 0, out, cap);
}

int evlog_event_json_seq(const struct sk_event *ev, const char *node, uint64_t segment,
                         uint64_t recno, uint64_t seq, char *out, size_t cap)
{
    struct jbuf b = { out, 0, cap, 0 };
    if (cap == 0)
        return SK_ENOSPACE;
    out[0] = '\0';
    JLIT(&b, "{\"timestamp\":");
    jtime(&b, ev->ts_us);
    jkey(&b, "event_type");
    const char *k = evlog_kind_name(ev->kind);
    jstr(&b, k, strlen(k));
    char id[EVLOG_EVENT_ID_MAX];
    jkey(&b, "event_id");
    jstr(&b, id, evlog_format_event_id(node, segment, recno, id));
    if (seq) {
        jkey(&b, "seq");
        jnum(&b, seq);
    }
    jkey(&b, "node");
    jstr(&b, node, strlen(node));
    jkey(&b, "proto");
    jstr(&b, ev->proto == SK_PROTO_TCP ? "TCP" : "UDP", 3);
    JADDR(&b, "src_ip", "src_port", &ev->src);
    JADDR(&b, "dest_ip", "dest_port", &ev->dst);
    if (ev->proxied_by.af) {
        char a[SK_IP_TEXT_MAX];
        size_t n = evlog_format_ip(&ev->proxied_by, a);
        jkey(&b, "proxied_by");
        jstr(&b, a, n);
    }
    if (ev->family[0]) {
        jkey(&b, "family");
        jstr(&b, ev->family, strnlen(ev->family, SK_FAMILY_MAX));
    }
    if (ev->list[0]) {
        jkey(&b, "list");
        jstr(&b, ev->list, strnlen(ev->list, SK_LIST_NAME_MAX));
    }
    if (ev->kind == SK_EV_DNS) {
        jdns(&b, &ev->u.dns);
    } else if (ev->kind >= SK_EV_HTTP && ev->kind <= SK_EV_RAW) {
        if (ev->bot_id[0]) {
            jkey(&b, "bot_id");
            jstr(&b, ev->bot_id, strnlen(ev->bot_id, SK_BOTID_MAX));
        }
        if (ev->rule[0]) {
            jkey(&b, "rule");
            jstr(&b, ev->rule, strnlen(ev->rule, SK_RULE_MAX));
        }
        if (ev->kind == SK_EV_HTTP)
            jhttp(&b, &ev->u.http);
        else if (ev->kind == SK_EV_TLS)
            jtls(&b, &ev->u.tls);
        else
            jrawev(&b, &ev->u.raw);
        jconn_tail(&b, ev);
    }
    JLIT(&b, "}");
    return b.full ? SK_ENOSPACE : (int)b.len;
}
