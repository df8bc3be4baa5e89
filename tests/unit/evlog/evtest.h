/* Helpers shared by the evlog unit tests: tables of varied events (DNS,
 * and connection events: http, tls, raw), a field-by-field comparison,
 * and temp folders. Include after cmocka.h. */
#ifndef SK_TEST_EVTEST_H
#define SK_TEST_EVTEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/addr.h"
#include "dns/name.h"
#include "evlog/event.h"

#define EVT_BASE_US 1795867200000000ull /* 2026-11-28T12:00:00Z */

/* Event i of a deterministic set that uses every field and its extremes:
 * IPv4 and IPv6 sources, a source without address, PROXY senders, ECS of
 * both families with prefix lengths that are not whole bytes, names from
 * empty to 255 bytes, family and list names up to their longest. */
static inline void evt_make(struct sk_event *ev, unsigned i)
{
    memset(ev, 0, sizeof(*ev));
    ev->ts_us = EVT_BASE_US + i;
    ev->kind = SK_EV_DNS;
    ev->proto = i % 2 ? SK_PROTO_TCP : SK_PROTO_UDP;
    if (i % 17 == 16) {
        ev->src.af = 0; /* no address could be read */
    } else if (i % 3) {
        sk_ip_parse("198.51.100.7", &ev->src);
        ev->src.a[3] = (uint8_t)i;
    } else {
        sk_ip_parse("2001:db8::53", &ev->src);
        ev->src.a[15] = (uint8_t)i;
    }
    if (ev->src.af)
        ev->src.port = (uint16_t)(1024 + i);
    sk_ip_parse(i % 7 == 6 ? "2001:db8::10" : "192.0.2.1", &ev->dst);
    ev->dst.port = 53;
    if (i % 11 == 5) {
        sk_ip_parse(i % 2 ? "10.0.0.1" : "fd00::1", &ev->proxied_by);
        ev->proxied_by.port = 443;
    }
    if (i % 5 == 0) {
        strcpy(ev->family, "megad");
        strcpy(ev->list, "megad-list");
    } else if (i % 23 == 1) {
        memset(ev->family, 'f', SK_FAMILY_MAX - 1);
        memset(ev->list, 'l', SK_LIST_NAME_MAX - 1);
    }
    struct sk_event_dns *d = &ev->u.dns;
    char name[300];
    if (i % 29 == 28) {
        /* 255 bytes on the wire: 4 labels of 61 + one of 5 + root. */
        snprintf(name, sizeof(name), "%061d.%061d.%061d.%061d.abcde", 1, 2, 3, 4);
    } else {
        snprintf(name, sizeof(name), "Bot%u.Mega-D.example", i);
    }
    size_t l;
    if (i % 31 != 30) {
        assert_int_equal(dns_name_from_text(name, strlen(name), d->qname, &l), 0);
        d->qname_len = (uint8_t)l;
    }
    d->qtype = (uint16_t)(1 + (i % 30) * 997);
    d->qclass = i % 13 == 12 ? 3 : 1;
    d->id = (uint16_t)(i * 7919);
    d->rcode = i % 19 == 18 ? 16 : (uint16_t)(i % 6);
    d->opcode = i % 37 == 36 ? 2 : 0;
    d->flags = (uint8_t)(i & 0x3f);
    d->rrl = (uint8_t)(i % 4);
    d->edns_size = i % 2 ? 1232 : 0;
    d->resp_len = (uint16_t)(i * 13 % 4000);
    d->ancount = (uint16_t)(i % 3);
    if (i % 4 == 0) {
        d->ecs_af = 4;
        d->ecs_source = (uint8_t)(i % 8 ? 24 : 21);
        d->ecs_scope = (uint8_t)(i % 25);
        d->ecs_addr[0] = 203;
        d->ecs_addr[1] = 0;
        d->ecs_addr[2] = (uint8_t)(113 & (i % 8 ? 0xff : 0xf8));
    } else if (i % 9 == 3) {
        d->ecs_af = 6;
        d->ecs_source = 56;
        d->ecs_addr[0] = 0x20;
        d->ecs_addr[1] = 0x01;
        d->ecs_addr[6] = (uint8_t)i;
    }
}

/* Storage for the bytes a made connection event points at (its spans):
 * valid while the store is, overwritten by the next evt_make_conn() on it. */
struct evt_store {
    uint8_t b[40000];
    size_t used;
};

/* n bytes of a pattern chosen by seed into the store; returns them. Seeds
 * below 100 give text, others every byte value (NUL, quotes, backslash,
 * control and high bytes). */
static inline const uint8_t *evt_bytes(struct evt_store *st, size_t n, unsigned seed)
{
    assert_true(st->used + n <= sizeof(st->b));
    uint8_t *p = st->b + st->used;
    static const char text[] = "/gate.php?id=0123456789&v=abcdefghijklmnopqrstuvwxyz-Mozilla/5.0 ";
    for (size_t i = 0; i < n; i++)
        p[i] =
            seed < 100 ? (uint8_t)text[(i + seed) % (sizeof(text) - 1)] : (uint8_t)(i * 7 + seed);
    st->used += n;
    return p;
}

static inline void evt_span(struct sk_span *s, struct evt_store *st, size_t n, unsigned seed)
{
    s->p = n ? evt_bytes(st, n, seed) : NULL;
    s->len = (uint32_t)n;
}

static inline void evt_span_str(struct sk_span *s, struct evt_store *st, const char *text)
{
    size_t n = strlen(text);
    assert_true(st->used + n <= sizeof(st->b));
    memcpy(st->b + st->used, text, n);
    s->p = st->b + st->used;
    s->len = (uint32_t)n;
    st->used += n;
}

/* Connection event i (http if i % 3 == 0, tls if 1, raw if 2), at ts
 * EVT_BASE_US + i, using every field and its extremes: every value at its
 * cap (i % 29 == 28), empty values, bytes of every value, the largest
 * counters, sources without address, PROXY senders. */
static inline void evt_make_conn(struct sk_event *ev, unsigned i, struct evt_store *st)
{
    memset(ev, 0, sizeof(*ev));
    st->used = 0;
    int full = i % 29 == 28;
    ev->ts_us = EVT_BASE_US + i;
    ev->kind = (uint8_t)(SK_EV_HTTP + i % 3);
    ev->proto = ev->kind == SK_EV_RAW && i % 5 == 0 ? SK_PROTO_UDP : SK_PROTO_TCP;
    if (i % 17 == 16) {
        ev->src.af = 0;
    } else if (i % 4) {
        sk_ip_parse("203.0.113.9", &ev->src);
        ev->src.a[3] = (uint8_t)i;
    } else {
        sk_ip_parse("2001:db8:1::99", &ev->src);
        ev->src.a[15] = (uint8_t)i;
    }
    if (ev->src.af)
        ev->src.port = (uint16_t)(30000 + i);
    sk_ip_parse(i % 7 == 6 ? "2001:db8::10" : "192.0.2.10", &ev->dst);
    ev->dst.port = ev->kind == SK_EV_TLS ? 443 : (i % 2 ? 80 : 8080);
    if (i % 11 == 5) {
        sk_ip_parse(i % 2 ? "10.0.0.1" : "fd00::1", &ev->proxied_by);
        ev->proxied_by.port = 443;
    }
    if (full) {
        memset(ev->family, 'f', SK_FAMILY_MAX - 1);
        memset(ev->list, 'l', SK_LIST_NAME_MAX - 1);
        memset(ev->rule, 'r', SK_RULE_MAX - 1);
        for (int k = 0; k < SK_BOTID_MAX - 1; k++)
            ev->bot_id[k] = (char)(1 + (k * 13) % 255); /* every byte but NUL */
    } else if (i % 2) {
        strcpy(ev->family, "megad");
        strcpy(ev->list, "port80");
        strcpy(ev->rule, "megad-gate");
        snprintf(ev->bot_id, sizeof(ev->bot_id), "BOT-%08X", i * 2654435761u);
    }
    ev->flags = (uint16_t)((i * 37u) & 0x1fb); /* all but TRUNC, which the encoder may add */
    if (full)
        ev->flags |= SK_CONNF_TRUNC;
    ev->close_reason = (uint8_t)(i % 9);
    ev->bytes_in = full ? UINT64_MAX : (uint64_t)i * 1000 + 17;
    ev->bytes_out = full ? UINT64_MAX - 1 : (uint64_t)i * 3;
    ev->duration_us = full ? UINT64_MAX : (uint64_t)i * 123457;
    if (ev->kind == SK_EV_HTTP) {
        struct sk_event_http *h = &ev->u.http;
        if (full) {
            evt_span(&h->method, st, SK_EV_SHORT_MAX, 200);
            evt_span(&h->host, st, SK_EV_SHORT_MAX, 201);
            evt_span(&h->url, st, SK_EV_URL_MAX, 202);
            evt_span(&h->user_agent, st, SK_EV_URL_MAX, 203);
            evt_span(&h->referer, st, SK_EV_URL_MAX, 204);
            evt_span(&h->content_type, st, SK_EV_SHORT_MAX, 205);
            evt_span(&h->body, st, SK_EV_CAPTURE_MAX, 206);
        } else {
            evt_span_str(&h->method, st, i % 2 ? "GET" : "POST");
            evt_span_str(&h->host, st, i % 5 ? "c2.example" : "C2.Example:8080");
            evt_span(&h->url, st, 10 + i % 90, i % 50);
            evt_span(&h->user_agent, st, i % 4 ? 40 : 0, 60);
            if (i % 6 == 3)
                evt_span_str(&h->referer, st, "http://ref.example/\"q\",x");
            if (i % 2 == 0)
                evt_span_str(&h->content_type, st, "application/octet-stream");
            evt_span(&h->body, st, i % 2 ? 0 : i % 300, 100 + i);
        }
        h->body_len = full ? UINT64_MAX : h->body.len + (i % 3 ? 0 : 1000);
        h->status = (uint16_t)(i % 4 ? 200 : (i % 8 ? 404 : 0));
        h->version = (uint8_t)(i % 10 == 9 ? 9 : (i % 2 ? 11 : 10));
        h->request = full ? UINT32_MAX : 1 + i % 4;
    } else if (ev->kind == SK_EV_TLS) {
        struct sk_event_tls *t = &ev->u.tls;
        if (full) {
            evt_span(&t->sni, st, SK_EV_SHORT_MAX, 210);
            evt_span(&t->alpn, st, SK_EV_SHORT_MAX, 211);
            memset(t->ja3, 'a', SK_JA3_LEN);
            memset(t->ja4, 'b', SK_JA4_LEN);
        } else {
            evt_span_str(&t->sni, st, i % 5 ? "c2.example" : "");
            if (i % 2)
                evt_span_str(&t->alpn, st, "h2");
            if (i % 7) {
                snprintf(t->ja3, sizeof(t->ja3), "%08x%08x%08x%08x", i, i * 3, i * 5, i * 7);
                strcpy(t->ja4, "t13d1516h2_8daaf6152771_02713d6af862");
            }
        }
        static const uint16_t versions[] = { 0x0304, 0x0303, 0x0301, 0x0300, 0x7f1c, 0 };
        t->version = versions[i % 6];
        t->record_version = i % 2 ? 0x0301 : 0x0303;
    } else {
        struct sk_event_raw *r = &ev->u.raw;
        if (full)
            evt_span(&r->data, st, SK_EV_CAPTURE_MAX, 220);
        else
            evt_span(&r->data, st, (i * 11) % 700, 100 + i);
        r->first_byte_ms = full ? UINT32_MAX : i % 5000;
        r->sniffed = (uint8_t)(i % 6);
    }
}

/* Event i of a mix, at ts EVT_BASE_US + i: connection events
 * (evt_make_conn(i / 3), every kind in turn) where i % 3 == 0, DNS ones
 * (evt_make(i)) between them. */
static inline void evt_make_mixed(struct sk_event *ev, unsigned i, struct evt_store *st)
{
    if (i % 3 == 0) {
        evt_make_conn(ev, i / 3, st);
        ev->ts_us = EVT_BASE_US + i;
    } else {
        evt_make(ev, i);
    }
}

static inline void evt_assert_span(const struct sk_span *a, const struct sk_span *b)
{
    uint32_t la = a->p ? a->len : 0, lb = b->p ? b->len : 0;
    assert_int_equal(la, lb);
    if (la)
        assert_memory_equal(a->p, b->p, la);
}

static inline void evt_assert_equal(const struct sk_event *a, const struct sk_event *b)
{
    assert_int_equal(a->ts_us, b->ts_us);
    assert_int_equal(a->kind, b->kind);
    assert_int_equal(a->proto, b->proto);
    const struct sk_ip *x[3] = { &a->src, &a->dst, &a->proxied_by };
    const struct sk_ip *y[3] = { &b->src, &b->dst, &b->proxied_by };
    for (int k = 0; k < 3; k++) {
        assert_int_equal(x[k]->af, y[k]->af);
        if (x[k]->af) {
            assert_memory_equal(x[k]->a, y[k]->a, x[k]->af == 4 ? 4 : 16);
            assert_int_equal(x[k]->port, y[k]->port);
        }
    }
    assert_string_equal(a->family, b->family);
    assert_string_equal(a->list, b->list);
    assert_string_equal(a->bot_id, b->bot_id);
    assert_string_equal(a->rule, b->rule);
    assert_int_equal(a->flags, b->flags);
    assert_int_equal(a->close_reason, b->close_reason);
    assert_int_equal(a->bytes_in, b->bytes_in);
    assert_int_equal(a->bytes_out, b->bytes_out);
    assert_int_equal(a->duration_us, b->duration_us);
    if (a->kind == SK_EV_HTTP) {
        const struct sk_event_http *ca = &a->u.http, *cb = &b->u.http;
        evt_assert_span(&ca->method, &cb->method);
        evt_assert_span(&ca->host, &cb->host);
        evt_assert_span(&ca->url, &cb->url);
        evt_assert_span(&ca->user_agent, &cb->user_agent);
        evt_assert_span(&ca->referer, &cb->referer);
        evt_assert_span(&ca->content_type, &cb->content_type);
        evt_assert_span(&ca->body, &cb->body);
        assert_int_equal(ca->body_len, cb->body_len);
        assert_int_equal(ca->status, cb->status);
        assert_int_equal(ca->version, cb->version);
        assert_int_equal(ca->request, cb->request);
        return;
    }
    if (a->kind == SK_EV_TLS) {
        const struct sk_event_tls *ca = &a->u.tls, *cb = &b->u.tls;
        evt_assert_span(&ca->sni, &cb->sni);
        evt_assert_span(&ca->alpn, &cb->alpn);
        assert_int_equal(ca->version, cb->version);
        assert_int_equal(ca->record_version, cb->record_version);
        assert_string_equal(ca->ja3, cb->ja3);
        assert_string_equal(ca->ja4, cb->ja4);
        return;
    }
    if (a->kind == SK_EV_RAW) {
        const struct sk_event_raw *ca = &a->u.raw, *cb = &b->u.raw;
        evt_assert_span(&ca->data, &cb->data);
        assert_int_equal(ca->first_byte_ms, cb->first_byte_ms);
        assert_int_equal(ca->sniffed, cb->sniffed);
        return;
    }
    const struct sk_event_dns *p = &a->u.dns, *q = &b->u.dns;
    assert_int_equal(p->qname_len, q->qname_len);
    assert_memory_equal(p->qname, q->qname, p->qname_len);
    assert_int_equal(p->qtype, q->qtype);
    assert_int_equal(p->qclass, q->qclass);
    assert_int_equal(p->id, q->id);
    assert_int_equal(p->rcode, q->rcode);
    assert_int_equal(p->opcode, q->opcode);
    assert_int_equal(p->flags, q->flags);
    assert_int_equal(p->rrl, q->rrl);
    assert_int_equal(p->edns_size, q->edns_size);
    assert_int_equal(p->resp_len, q->resp_len);
    assert_int_equal(p->ancount, q->ancount);
    assert_int_equal(p->ecs_af, q->ecs_af);
    if (p->ecs_af) {
        assert_int_equal(p->ecs_source, q->ecs_source);
        assert_int_equal(p->ecs_scope, q->ecs_scope);
        assert_memory_equal(p->ecs_addr, q->ecs_addr, (p->ecs_source + 7u) / 8u);
    }
}

/* A new empty folder under /tmp; returns a static path. */
static inline const char *evt_tmpdir(const char *tag)
{
    static char dir[128];
    snprintf(dir, sizeof(dir), "/tmp/sk-test-%s-XXXXXX", tag);
    if (mkdtemp(dir) == NULL)
        abort();
    return dir;
}

static inline void evt_rmrf(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

static inline off_t evt_file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? st.st_size : -1;
}

#endif
