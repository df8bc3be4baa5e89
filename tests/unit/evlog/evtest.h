/* Helpers shared by the evlog unit tests: a table of varied events, a
 * field-by-field comparison, and temp folders. Include after cmocka.h. */
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
