/* evlog/json.c -- hand-written JSON for events. */
#include "evlog/json.h"

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

/* A JSON string: escapes quotes, backslashes and control bytes; bytes
 * >= 0x80 are written as \u00XX so the output is always valid UTF-8. */
static void jstr(struct jbuf *b, const char *s, size_t n)
{
    jraw(b, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '"' || ch == '\\') {
            char e[2] = { '\\', (char)ch };
            jraw(b, e, 2);
        } else if (ch < 0x20 || ch >= 0x7f) {
            jfmt(b, "\\u%04x", ch);
        } else {
            jraw(b, (const char *)&ch, 1);
        }
    }
    jraw(b, "\"", 1);
}

static void jkey(struct jbuf *b, const char *k)
{
    jfmt(b, ",\"%s\":", k);
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

static void jaddr(struct jbuf *b, const char *ipkey, const char *portkey, const struct sk_ip *ip)
{
    char a[SK_IP_TEXT_MAX];
    sk_ip_ntop(ip, a);
    jkey(b, ipkey);
    jstr(b, a, strlen(a));
    if (portkey) {
        jkey(b, portkey);
        jfmt(b, "%u", ip->port);
    }
}

static const char *rrl_name(uint8_t a)
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

static void jdns(struct jbuf *b, const struct sk_event_dns *d)
{
    char tb[16], text[DNS_NAME_TEXT_MAX];
    jkey(b, "dns");
    jraw(b, "{\"type\":\"query\"", 15);
    jkey(b, "id");
    jfmt(b, "%u", d->id);
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
        jstr(b, dns_type_name(d->qtype, tb), strlen(dns_type_name(d->qtype, tb)));
        if (d->qclass != 1) {
            jkey(b, "rrclass");
            jfmt(b, "%u", d->qclass);
        }
    }
    jkey(b, "rcode");
    const char *rc = dns_rcode_name(d->rcode, tb);
    jstr(b, rc, strlen(rc));
    if (d->opcode != 0) {
        jkey(b, "opcode");
        jfmt(b, "%u", d->opcode);
    }
    jkey(b, "flags");
    jraw(b, "[", 1);
    static const struct {
        uint8_t bit;
        const char *name;
    } fl[] = { { SK_DNSF_AA, "aa" },
               { SK_DNSF_TC, "tc" },
               { SK_DNSF_RD, "rd" },
               { SK_DNSF_DO, "do" },
               { SK_DNSF_NOREPLY, "noreply" } };
    int first = 1;
    for (size_t i = 0; i < sizeof(fl) / sizeof(fl[0]); i++) {
        if (d->flags & fl[i].bit) {
            if (!first)
                jraw(b, ",", 1);
            jstr(b, fl[i].name, strlen(fl[i].name));
            first = 0;
        }
    }
    jraw(b, "]", 1);
    if (d->flags & SK_DNSF_EDNS) {
        jkey(b, "edns_size");
        jfmt(b, "%u", d->edns_size);
    }
    jkey(b, "answers");
    jfmt(b, "%u", d->ancount);
    jkey(b, "resp_len");
    jfmt(b, "%u", d->resp_len);
    jkey(b, "rrl");
    jstr(b, rrl_name(d->rrl), strlen(rrl_name(d->rrl)));
    if (d->ecs_af == 4 || d->ecs_af == 6) {
        struct sk_ip ip = { .af = d->ecs_af };
        memcpy(ip.a, d->ecs_addr, 16);
        char a[SK_IP_TEXT_MAX];
        jkey(b, "ecs");
        jfmt(b, "\"%s/%u\"", sk_ip_ntop(&ip, a), d->ecs_source);
        jkey(b, "ecs_scope");
        jfmt(b, "%u", d->ecs_scope);
    }
    jraw(b, "}", 1);
}

int evlog_event_json(const struct sk_event *ev, const char *node, uint64_t segment, uint64_t recno,
                     char *out, size_t cap)
{
    struct jbuf b = { out, 0, cap, 0 };
    if (cap == 0)
        return SK_ENOSPACE;
    out[0] = '\0';
    char ts[32];
    static const char *const kinds[] = { "unknown", "dns", "http", "tls", "raw" };
    jfmt(&b, "{\"timestamp\":\"%s\"", sk_clock_format(ev->ts_us, ts));
    jkey(&b, "event_type");
    const char *k = ev->kind < 5 ? kinds[ev->kind] : "unknown";
    jstr(&b, k, strlen(k));
    jkey(&b, "event_id");
    char id[160];
    snprintf(id, sizeof(id), "%s-%016" PRIx64 "-%" PRIu64, node, segment, recno);
    jstr(&b, id, strlen(id));
    jkey(&b, "node");
    jstr(&b, node, strlen(node));
    jkey(&b, "proto");
    jstr(&b, ev->proto == SK_PROTO_TCP ? "TCP" : "UDP", 3);
    jaddr(&b, "src_ip", "src_port", &ev->src);
    jaddr(&b, "dest_ip", "dest_port", &ev->dst);
    if (ev->proxied_by.af)
        jaddr(&b, "proxied_by", NULL, &ev->proxied_by);
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
    jraw(&b, "}", 1);
    return b.full ? SK_ENOSPACE : (int)b.len;
}
