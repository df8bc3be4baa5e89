/* evlog/record.c -- encode and decode framed event records.
 *
 * Payload layout (schema 1), little-endian:
 *   u8 kind | u8 proto | u64 ts_us | addr src | addr dst | addr proxied_by |
 *   str family | str list | kind part
 *   addr := u8 af (0, 4, 6) | 4 or 16 bytes | u16 port   (af 0: nothing more)
 *   str  := u8 len | bytes
 *   dns  := u16 id | u8 opcode | u8 qname_len | qname | u16 qtype | u16 qclass |
 *           u16 rcode | u8 flags | u8 rrl | u16 edns_size | u16 resp_len |
 *           u16 ancount | u8 ecs_af | [u8 source | u8 scope | ceil(source/8) bytes]
 * Decoding checks every length against the payload, so a corrupt record
 * that happens to pass the CRC still cannot read out of bounds. */
#include "evlog/record.h"

#include <string.h>

#include "core/crc32c.h"
#include "core/err.h"

struct wr {
    uint8_t *p, *end;
    int bad;
};

static void put(struct wr *w, const void *src, size_t n)
{
    if ((size_t)(w->end - w->p) < n) {
        w->bad = 1;
        return;
    }
    memcpy(w->p, src, n);
    w->p += n;
}

static void put_u8(struct wr *w, uint8_t v)
{
    put(w, &v, 1);
}

static void put_u16(struct wr *w, uint16_t v)
{
    uint8_t b[2] = { (uint8_t)v, (uint8_t)(v >> 8) };
    put(w, b, 2);
}

static void put_u32(struct wr *w, uint32_t v)
{
    uint8_t b[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
    put(w, b, 4);
}

static void put_u64(struct wr *w, uint64_t v)
{
    put_u32(w, (uint32_t)v);
    put_u32(w, (uint32_t)(v >> 32));
}

static void put_addr(struct wr *w, const struct sk_ip *ip)
{
    if (ip->af != 4 && ip->af != 6) {
        put_u8(w, 0);
        return;
    }
    put_u8(w, ip->af);
    put(w, ip->a, ip->af == 4 ? 4 : 16);
    put_u16(w, ip->port);
}

static void put_str(struct wr *w, const char *s, size_t max)
{
    size_t n = strnlen(s, max);
    put_u8(w, (uint8_t)n);
    put(w, s, n);
}

int evlog_record_encode(const struct sk_event *ev, uint8_t *out, size_t cap)
{
    if (cap < EVLOG_FRAME_LEN)
        return SK_ENOSPACE;
    struct wr w = { out + EVLOG_FRAME_LEN, out + cap, 0 };
    put_u8(&w, ev->kind);
    put_u8(&w, ev->proto);
    put_u64(&w, ev->ts_us);
    put_addr(&w, &ev->src);
    put_addr(&w, &ev->dst);
    put_addr(&w, &ev->proxied_by);
    put_str(&w, ev->family, SK_FAMILY_MAX - 1);
    put_str(&w, ev->list, SK_LIST_NAME_MAX - 1);
    if (ev->kind == SK_EV_DNS) {
        const struct sk_event_dns *d = &ev->u.dns;
        put_u16(&w, d->id);
        put_u8(&w, d->opcode);
        put_u8(&w, d->qname_len);
        put(&w, d->qname, d->qname_len);
        put_u16(&w, d->qtype);
        put_u16(&w, d->qclass);
        put_u16(&w, d->rcode);
        put_u8(&w, d->flags);
        put_u8(&w, d->rrl);
        put_u16(&w, d->edns_size);
        put_u16(&w, d->resp_len);
        put_u16(&w, d->ancount);
        if (d->ecs_af == 4 || d->ecs_af == 6) {
            put_u8(&w, d->ecs_af);
            put_u8(&w, d->ecs_source);
            put_u8(&w, d->ecs_scope);
            size_t n = (d->ecs_source + 7u) / 8u;
            put(&w, d->ecs_addr, n > 16 ? 16 : n);
        } else {
            put_u8(&w, 0);
        }
    }
    if (w.bad)
        return SK_ENOSPACE;
    size_t plen = (size_t)(w.p - out) - EVLOG_FRAME_LEN;
    struct wr h = { out, out + EVLOG_FRAME_LEN, 0 };
    put_u32(&h, (uint32_t)plen);
    put_u32(&h, crc32c(0, out + EVLOG_FRAME_LEN, plen));
    return (int)(plen + EVLOG_FRAME_LEN);
}

struct rd {
    const uint8_t *p, *end;
    int bad;
};

static void get(struct rd *r, void *dst, size_t n)
{
    if (r->bad || (size_t)(r->end - r->p) < n) {
        r->bad = 1;
        memset(dst, 0, n);
        return;
    }
    memcpy(dst, r->p, n);
    r->p += n;
}

static uint8_t get_u8(struct rd *r)
{
    uint8_t v;
    get(r, &v, 1);
    return v;
}

static uint16_t get_u16(struct rd *r)
{
    uint8_t b[2];
    get(r, b, 2);
    return (uint16_t)(b[0] | b[1] << 8);
}

static uint32_t get_u32(struct rd *r)
{
    uint8_t b[4];
    get(r, b, 4);
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static uint64_t get_u64(struct rd *r)
{
    uint64_t lo = get_u32(r);
    return lo | (uint64_t)get_u32(r) << 32;
}

static void get_addr(struct rd *r, struct sk_ip *ip)
{
    memset(ip, 0, sizeof(*ip));
    uint8_t af = get_u8(r);
    if (af == 0)
        return;
    if (af != 4 && af != 6) {
        r->bad = 1;
        return;
    }
    ip->af = af;
    get(r, ip->a, af == 4 ? 4 : 16);
    ip->port = get_u16(r);
}

static void get_str(struct rd *r, char *s, size_t cap)
{
    uint8_t n = get_u8(r);
    if (n >= cap) {
        r->bad = 1;
        s[0] = '\0';
        return;
    }
    get(r, s, n);
    s[n] = '\0';
}

int evlog_record_decode(const uint8_t *p, size_t len, struct sk_event *ev)
{
    struct rd r = { p, p + len, 0 };
    memset(ev, 0, sizeof(*ev));
    ev->kind = get_u8(&r);
    ev->proto = get_u8(&r);
    ev->ts_us = get_u64(&r);
    get_addr(&r, &ev->src);
    get_addr(&r, &ev->dst);
    get_addr(&r, &ev->proxied_by);
    get_str(&r, ev->family, sizeof(ev->family));
    get_str(&r, ev->list, sizeof(ev->list));
    if (ev->kind == SK_EV_DNS) {
        struct sk_event_dns *d = &ev->u.dns;
        d->id = get_u16(&r);
        d->opcode = get_u8(&r);
        d->qname_len = get_u8(&r);
        get(&r, d->qname, d->qname_len);
        d->qtype = get_u16(&r);
        d->qclass = get_u16(&r);
        d->rcode = get_u16(&r);
        d->flags = get_u8(&r);
        d->rrl = get_u8(&r);
        d->edns_size = get_u16(&r);
        d->resp_len = get_u16(&r);
        d->ancount = get_u16(&r);
        d->ecs_af = get_u8(&r);
        if (d->ecs_af == 4 || d->ecs_af == 6) {
            d->ecs_source = get_u8(&r);
            d->ecs_scope = get_u8(&r);
            size_t n = (d->ecs_source + 7u) / 8u;
            if (n > (d->ecs_af == 4 ? 4u : 16u))
                r.bad = 1;
            else
                get(&r, d->ecs_addr, n);
        } else if (d->ecs_af != 0) {
            r.bad = 1;
        }
    } else {
        r.bad = 1; /* no other kind in schema 1 */
    }
    if (r.bad || r.p != r.end)
        return SK_ECORRUPT;
    return 0;
}

int evlog_header_encode(const struct evlog_file_header *h, uint8_t *out, size_t cap)
{
    struct wr w = { out, out + cap, 0 };
    put(&w, EVLOG_MAGIC, 8);
    put_u16(&w, h->format);
    put_u16(&w, h->schema);
    put_u64(&w, h->start_us);
    put_u64(&w, h->segment);
    put_str(&w, h->node, 255);
    if (w.bad)
        return SK_ENOSPACE;
    uint32_t crc = crc32c(0, out, (size_t)(w.p - out));
    put_u32(&w, crc);
    if (w.bad)
        return SK_ENOSPACE;
    return (int)(w.p - out);
}

int evlog_header_decode(const uint8_t *p, size_t len, struct evlog_file_header *h)
{
    if (len < 8 + 2 + 2 + 8 + 8 + 1)
        return SK_ENOSPACE;
    if (memcmp(p, EVLOG_MAGIC, 8) != 0)
        return SK_ECORRUPT;
    struct rd r = { p + 8, p + len, 0 };
    h->format = get_u16(&r);
    h->schema = get_u16(&r);
    h->start_us = get_u64(&r);
    h->segment = get_u64(&r);
    get_str(&r, h->node, sizeof(h->node));
    size_t body = (size_t)(r.p - p);
    uint32_t crc = get_u32(&r);
    if (r.bad)
        return SK_ENOSPACE;
    if (crc != crc32c(0, p, body) || h->format != EVLOG_FORMAT)
        return SK_ECORRUPT;
    return (int)(body + 4);
}
