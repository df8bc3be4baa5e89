/* evlog/json.c -- hand-written JSON for events.
 *
 * The tap writes a line for every event from the log's writer thread and
 * export writes millions, so the common pieces avoid printf: numbers and
 * IPv4 addresses are formatted by hand, strings copied in runs, and the
 * date part of the timestamp is formatted once per second of event time
 * (cached per thread). */
#include "evlog/json.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdarg.h>
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
 * >= 0x80 are written as \u00XX so the output is always valid UTF-8.
 * Runs of bytes that need no escape are copied at once. */
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
    if (ev->kind == SK_EV_DNS)
        jdns(&b, &ev->u.dns);
    JLIT(&b, "}");
    return b.full ? SK_ENOSPACE : (int)b.len;
}
