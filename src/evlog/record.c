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
 * that happens to pass the CRC still cannot read out of bounds. The
 * columnar form of closed segments (evlog/block.c) holds the same fields;
 * a change here is a schema change there too. */
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

static inline int have(struct rd *r, size_t n)
{
    if (r->bad || (size_t)(r->end - r->p) < n) {
        r->bad = 1;
        return 0;
    }
    return 1;
}

static void get(struct rd *r, void *dst, size_t n)
{
    if (!have(r, n))
        return;
    memcpy(dst, r->p, n);
    r->p += n;
}

static uint8_t get_u8(struct rd *r)
{
    if (!have(r, 1))
        return 0;
    return *r->p++;
}

static uint16_t get_u16(struct rd *r)
{
    if (!have(r, 2))
        return 0;
    uint16_t v = evlog_rd16(r->p);
    r->p += 2;
    return v;
}

static uint32_t get_u32(struct rd *r)
{
    if (!have(r, 4))
        return 0;
    uint32_t v = evlog_rd32(r->p);
    r->p += 4;
    return v;
}

static uint64_t get_u64(struct rd *r)
{
    if (!have(r, 8))
        return 0;
    uint64_t v = evlog_rd64(r->p);
    r->p += 8;
    return v;
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
    s[0] = '\0';
    if (n >= cap) {
        r->bad = 1;
        return;
    }
    get(r, s, n);
    s[r->bad ? 0 : n] = '\0';
}

int evlog_record_peek(const uint8_t *p, size_t len, uint8_t *kind, uint64_t *ts_us)
{
    if (len < 10)
        return SK_ECORRUPT;
    *kind = p[0];
    *ts_us = evlog_rd64(p + 2);
    return 0;
}

/* Only the fields the record holds are written, so a reader that decodes
 * millions of events into one struct does not clear 400 bytes each time. */
int evlog_record_decode(const uint8_t *p, size_t len, struct sk_event *ev)
{
    struct rd r = { p, p + len, 0 };
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
        if (r.bad)
            d->qname_len = 0;
        d->qtype = get_u16(&r);
        d->qclass = get_u16(&r);
        d->rcode = get_u16(&r);
        d->flags = get_u8(&r);
        d->rrl = get_u8(&r);
        d->edns_size = get_u16(&r);
        d->resp_len = get_u16(&r);
        d->ancount = get_u16(&r);
        d->ecs_af = get_u8(&r);
        d->ecs_source = d->ecs_scope = 0;
        memset(d->ecs_addr, 0, sizeof(d->ecs_addr));
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

/* Is there a whole good record at buf[0..len)? */
static int frame_ok(const uint8_t *buf, size_t len, uint32_t *plen)
{
    if (len < EVLOG_FRAME_LEN)
        return 0;
    uint32_t n = evlog_rd32(buf);
    if (n == 0 || n > EVLOG_PAYLOAD_MAX || len - EVLOG_FRAME_LEN < n)
        return 0;
    if (crc32c(0, buf + EVLOG_FRAME_LEN, n) != evlog_rd32(buf + 4))
        return 0;
    *plen = n;
    return 1;
}

enum evlog_scan_item evlog_frame_scan(const uint8_t *buf, size_t len, int eof, size_t *adv,
                                      uint32_t *plen)
{
    const size_t whole = EVLOG_FRAME_LEN + EVLOG_PAYLOAD_MAX;
    if (len == 0) {
        *adv = 0;
        return eof ? EVLOG_SCAN_END : EVLOG_SCAN_MORE;
    }
    if (frame_ok(buf, len, plen)) {
        *adv = EVLOG_FRAME_LEN + *plen;
        return EVLOG_SCAN_RECORD;
    }
    /* Not a good record; but it may be one not read in full yet. */
    if (!eof && len < whole) {
        uint32_t n = len >= 4 ? evlog_rd32(buf) : 1;
        if (len < EVLOG_FRAME_LEN ||
            (n > 0 && n <= EVLOG_PAYLOAD_MAX && len - EVLOG_FRAME_LEN < n)) {
            *adv = 0;
            return EVLOG_SCAN_MORE;
        }
    }
    /* Damage: find the next offset where a good record starts. Without
     * eof, stop where a record could still run past the buffer. */
    size_t off = 1;
    for (; off < len; off++) {
        if (!eof && len - off < whole)
            break;
        /* A cheap test of the length field first: most offsets fail it. */
        if (len - off >= 4) {
            uint32_t n = evlog_rd32(buf + off);
            if (n == 0 || n > EVLOG_PAYLOAD_MAX)
                continue;
        }
        if (frame_ok(buf + off, len - off, plen))
            break;
    }
    *adv = off;
    return EVLOG_SCAN_BAD;
}

int evlog_schema_supported(uint16_t schema)
{
    return schema >= 1 && schema <= SK_EVENT_SCHEMA;
}

int evlog_header_encode(const struct evlog_file_header *h, uint8_t *out, size_t cap)
{
    struct wr w = { out, out + cap, 0 };
    put(&w, EVLOG_MAGIC, 8);
    put_u16(&w, EVLOG_FORMAT);
    put_u16(&w, h->schema);
    put_u64(&w, h->start_us);
    put_u64(&w, h->segment);
    put_u64(&w, h->first_seq);
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
    if (h->format != 1 && h->format != 2)
        return SK_ECORRUPT;
    h->start_us = get_u64(&r);
    h->segment = get_u64(&r);
    h->first_seq = h->format >= 2 ? get_u64(&r) : 0;
    get_str(&r, h->node, sizeof(h->node));
    size_t body = (size_t)(r.p - p);
    uint32_t crc = get_u32(&r);
    if (r.bad)
        return len >= EVLOG_HEADER_MAX ? SK_ECORRUPT : SK_ENOSPACE;
    if (crc != crc32c(0, p, body))
        return SK_ECORRUPT;
    return (int)(body + 4);
}
