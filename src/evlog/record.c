/* evlog/record.c -- encode and decode framed event records.
 *
 * Payload layout (schema 2), little-endian:
 *   u8 kind | u8 proto | u64 ts_us | addr src | addr dst | addr proxied_by |
 *   str family | str list | kind part
 *   addr := u8 af (0, 4, 6) | 4 or 16 bytes | u16 port   (af 0: nothing more)
 *   str  := u8 len | bytes
 *   var  := unsigned LEB128 varint (record.h), at most 10 bytes
 *   span := var len | bytes      (len at most the field's cap in event.h)
 *   dns  := u16 id | u8 opcode | u8 qname_len | qname | u16 qtype | u16 qclass |
 *           u16 rcode | u8 flags | u8 rrl | u16 edns_size | u16 resp_len |
 *           u16 ancount | u8 ecs_af | [u8 source | u8 scope | ceil(source/8) bytes]
 *           (as in schema 1, which had no other kind)
 *   http, tls, raw := conn | their own part
 *   conn := str bot_id | str rule | u16 flags | u8 close_reason |
 *           var bytes_in | var bytes_out | var duration_us
 *   http := span method | span host | span url | span user_agent | span referer |
 *           span content_type | span body | var body_len | u16 status |
 *           u8 version | var request
 *   tls  := span sni | span alpn | u16 version | u16 record_version |
 *           str ja3 | str ja4
 *   raw  := span data | var first_byte_ms | u8 sniffed
 * Counters and lengths are varints because they are small in nearly every
 * event (a few hundred bytes, a few ms) but must not be capped. Decoding
 * checks every length against the payload and against its cap, so a
 * corrupt record that happens to pass the CRC still cannot read out of
 * bounds nor hand a consumer a value longer than event.h promises. The
 * columnar form of closed segments (evlog/block.c) holds the same fields;
 * a change here is a schema change there too. */
#include "evlog/record.h"

#include <assert.h>
#include <string.h>

#include "core/crc32c.h"
#include "core/err.h"

/* The largest payload of each kind, every value at its cap. The encoder
 * relies on these bounds: given room for them, it writes unchecked. */
#define ADDR_MAX      (1 + 16 + 2)
#define SPAN_MAX(cap) (EVLOG_VARINT_MAX + (cap))
#define COMMON_MAX    (1 + 1 + 8 + 3 * ADDR_MAX + SK_FAMILY_MAX + SK_LIST_NAME_MAX)
#define DNS_MAX       (2 + 1 + 1 + DNS_NAME_MAX + 3 * 2 + 1 + 1 + 3 * 2 + 1 + 1 + 1 + 16)
#define CONN_MAX      (SK_BOTID_MAX + SK_RULE_MAX + 2 + 1 + 3 * EVLOG_VARINT_MAX)
#define HTTP_MAX                                                                                 \
    (3 * SPAN_MAX(SK_EV_SHORT_MAX) + 3 * SPAN_MAX(SK_EV_URL_MAX) + SPAN_MAX(SK_EV_CAPTURE_MAX) + \
     EVLOG_VARINT_MAX + 2 + 1 + EVLOG_VARINT_MAX)
#define TLS_MAX          (2 * SPAN_MAX(SK_EV_SHORT_MAX) + 2 + 2 + 1 + SK_JA3_LEN + 1 + SK_JA4_LEN)
#define RAW_MAX          (SPAN_MAX(SK_EV_CAPTURE_MAX) + EVLOG_VARINT_MAX + 1)
#define DNS_PAYLOAD_MAX  (COMMON_MAX + DNS_MAX)
#define CONN_PAYLOAD_MAX (COMMON_MAX + CONN_MAX + HTTP_MAX)
_Static_assert(CONN_PAYLOAD_MAX <= EVLOG_PAYLOAD_MAX,
               "the largest HTTP event must fit in EVLOG_PAYLOAD_MAX");
_Static_assert(HTTP_MAX >= TLS_MAX && HTTP_MAX >= RAW_MAX,
               "an HTTP event is the largest connection event");
_Static_assert(SK_EV_CAPTURE_MAX >= SK_EV_URL_MAX && SK_EV_URL_MAX >= SK_EV_SHORT_MAX,
               "HTTP_MAX assumes the body is the longest value");
_Static_assert(SK_JA3_LEN < 256 && SK_JA4_LEN < 256 && SK_BOTID_MAX <= 256 && SK_RULE_MAX <= 256,
               "str fields take a one-byte length");

/* The helpers of the encoder and the decoder are small and called on
 * every field: always inlined. */
#define REC_INLINE static inline __attribute__((always_inline))

/* A payload writer in one of two modes. Checked: every field is tested
 * against end, and one that does not fit sets bad and is skipped. Not
 * checked: the caller made sure that the largest payload of the event's
 * kind fits, so fields are stored through p with no test at all. The
 * helpers are always inlined and checked is a constant where a writer is
 * set up, so each mode compiles to its own straight-line code; the
 * unchecked one is what nearly every event takes (evlog_append() gives
 * room for the largest record). */
struct wr {
    uint8_t *p, *end;
    int bad;
    int checked;
};

/* Is there room for n more bytes? If not, the writer goes bad. */
REC_INLINE int room(struct wr *w, size_t n)
{
    if (!w->checked || (size_t)(w->end - w->p) >= n)
        return 1;
    w->bad = 1;
    return 0;
}

REC_INLINE void put(struct wr *w, const void *src, size_t n)
{
    if (!room(w, n))
        return;
    if (n)
        memcpy(w->p, src, n);
    w->p += n;
}

REC_INLINE void put_u8(struct wr *w, uint8_t v)
{
    if (room(w, 1))
        *w->p++ = v;
}

REC_INLINE void put_u16(struct wr *w, uint16_t v)
{
    if (!room(w, 2))
        return;
    evlog_wr16(w->p, v);
    w->p += 2;
}

REC_INLINE void put_u32(struct wr *w, uint32_t v)
{
    if (!room(w, 4))
        return;
    evlog_wr32(w->p, v);
    w->p += 4;
}

REC_INLINE void put_u64(struct wr *w, uint64_t v)
{
    put_u32(w, (uint32_t)v);
    put_u32(w, (uint32_t)(v >> 32));
}

/* A varint goes in whole or not at all. */
REC_INLINE void put_var(struct wr *w, uint64_t v)
{
    if (w->checked && (size_t)(w->end - w->p) < EVLOG_VARINT_MAX) {
        uint8_t b[EVLOG_VARINT_MAX];
        size_t n = evlog_varint_put(b, v);
        if (room(w, n)) {
            memcpy(w->p, b, n);
            w->p += n;
        }
        return;
    }
    w->p += evlog_varint_put(w->p, v);
}

REC_INLINE void put_addr(struct wr *w, const struct sk_ip *ip)
{
    if (ip->af != 4 && ip->af != 6) {
        put_u8(w, 0);
        return;
    }
    put_u8(w, ip->af);
    put(w, ip->a, ip->af == 4 ? 4 : 16);
    put_u16(w, ip->port);
}

/* A string of at most size - 1 bytes from a char array of size. */
REC_INLINE void put_str(struct wr *w, const char *s, size_t size)
{
    uint8_t n = (uint8_t)strnlen(s, size - 1); /* no array is longer than 256 */
    put_u8(w, n);
    put(w, s, n);
}

/* The length a span is stored with: cut to cap, 0 without bytes. */
REC_INLINE uint32_t span_len(const struct sk_span *s, uint32_t cap)
{
    if (s->p == NULL)
        return 0;
    return s->len > cap ? cap : s->len;
}

REC_INLINE void put_span(struct wr *w, const struct sk_span *s, uint32_t cap)
{
    uint32_t n = span_len(s, cap);
    put_var(w, n);
    put(w, s->p, n);
}

/* True if a span of ev is longer than its cap (and will be cut). */
REC_INLINE int over_cap(const struct sk_event *ev)
{
    const struct sk_event_http *h = &ev->u.http;
    switch (ev->kind) {
    case SK_EV_HTTP:
        return (h->method.p && h->method.len > SK_EV_SHORT_MAX) ||
               (h->host.p && h->host.len > SK_EV_SHORT_MAX) ||
               (h->content_type.p && h->content_type.len > SK_EV_SHORT_MAX) ||
               (h->url.p && h->url.len > SK_EV_URL_MAX) ||
               (h->user_agent.p && h->user_agent.len > SK_EV_URL_MAX) ||
               (h->referer.p && h->referer.len > SK_EV_URL_MAX) ||
               (h->body.p && h->body.len > SK_EV_CAPTURE_MAX);
    case SK_EV_TLS:
        return (ev->u.tls.sni.p && ev->u.tls.sni.len > SK_EV_SHORT_MAX) ||
               (ev->u.tls.alpn.p && ev->u.tls.alpn.len > SK_EV_SHORT_MAX);
    case SK_EV_RAW:
        return ev->u.raw.data.p && ev->u.raw.data.len > SK_EV_CAPTURE_MAX;
    default:
        return 0;
    }
}

REC_INLINE void put_dns(struct wr *w, const struct sk_event_dns *d)
{
    put_u16(w, d->id);
    put_u8(w, d->opcode);
    put_u8(w, d->qname_len);
    put(w, d->qname, d->qname_len);
    put_u16(w, d->qtype);
    put_u16(w, d->qclass);
    put_u16(w, d->rcode);
    put_u8(w, d->flags);
    put_u8(w, d->rrl);
    put_u16(w, d->edns_size);
    put_u16(w, d->resp_len);
    put_u16(w, d->ancount);
    if (d->ecs_af == 4 || d->ecs_af == 6) {
        put_u8(w, d->ecs_af);
        put_u8(w, d->ecs_source);
        put_u8(w, d->ecs_scope);
        size_t n = (d->ecs_source + 7u) / 8u;
        put(w, d->ecs_addr, n > 16 ? 16 : n);
    } else {
        put_u8(w, 0);
    }
}

REC_INLINE void put_conn(struct wr *w, const struct sk_event *ev)
{
    put_str(w, ev->bot_id, sizeof(ev->bot_id));
    put_str(w, ev->rule, sizeof(ev->rule));
    put_u16(w, (uint16_t)(ev->flags | (over_cap(ev) ? SK_CONNF_TRUNC : 0)));
    put_u8(w, ev->close_reason);
    put_var(w, ev->bytes_in);
    put_var(w, ev->bytes_out);
    put_var(w, ev->duration_us);
    if (ev->kind == SK_EV_HTTP) {
        const struct sk_event_http *h = &ev->u.http;
        put_span(w, &h->method, SK_EV_SHORT_MAX);
        put_span(w, &h->host, SK_EV_SHORT_MAX);
        put_span(w, &h->url, SK_EV_URL_MAX);
        put_span(w, &h->user_agent, SK_EV_URL_MAX);
        put_span(w, &h->referer, SK_EV_URL_MAX);
        put_span(w, &h->content_type, SK_EV_SHORT_MAX);
        put_span(w, &h->body, SK_EV_CAPTURE_MAX);
        put_var(w, h->body_len);
        put_u16(w, h->status);
        put_u8(w, h->version);
        put_var(w, h->request);
    } else if (ev->kind == SK_EV_TLS) {
        const struct sk_event_tls *t = &ev->u.tls;
        put_span(w, &t->sni, SK_EV_SHORT_MAX);
        put_span(w, &t->alpn, SK_EV_SHORT_MAX);
        put_u16(w, t->version);
        put_u16(w, t->record_version);
        put_str(w, t->ja3, sizeof(t->ja3));
        put_str(w, t->ja4, sizeof(t->ja4));
    } else {
        const struct sk_event_raw *r = &ev->u.raw;
        put_span(w, &r->data, SK_EV_CAPTURE_MAX);
        put_var(w, r->first_byte_ms);
        put_u8(w, r->sniffed);
    }
}

REC_INLINE void put_payload(struct wr *w, const struct sk_event *ev)
{
    put_u8(w, ev->kind);
    put_u8(w, ev->proto);
    put_u64(w, ev->ts_us);
    put_addr(w, &ev->src);
    put_addr(w, &ev->dst);
    put_addr(w, &ev->proxied_by);
    put_str(w, ev->family, sizeof(ev->family));
    put_str(w, ev->list, sizeof(ev->list));
    if (ev->kind == SK_EV_DNS)
        put_dns(w, &ev->u.dns);
    else
        put_conn(w, ev);
}

/* The payload of ev at p, which has room for the largest payload of its
 * kind; returns its end. */
static uint8_t *payload_unchecked(const struct sk_event *ev, uint8_t *p)
{
    struct wr w = { p, NULL, 0, 0 };
    put_payload(&w, ev);
    return w.p;
}

/* The payload of ev into p[0..end); returns its end, or NULL if it does
 * not fit (some of p[0..end) may have been written). */
static uint8_t *payload_checked(const struct sk_event *ev, uint8_t *p, uint8_t *end)
{
    struct wr w = { p, end, 0, 1 };
    put_payload(&w, ev);
    return w.bad ? NULL : w.p;
}

int evlog_record_encode(const struct sk_event *ev, uint8_t *out, size_t cap)
{
    if (ev->kind < SK_EV_DNS || ev->kind > SK_EV_RAW)
        return SK_EINVAL;
    if (cap < EVLOG_FRAME_LEN)
        return SK_ENOSPACE;
    /* Both bounds are within EVLOG_PAYLOAD_MAX, so a payload is never
     * longer than a reader accepts, whatever cap is. */
    size_t max = ev->kind == SK_EV_DNS ? DNS_PAYLOAD_MAX : CONN_PAYLOAD_MAX;
    uint8_t *payload = out + EVLOG_FRAME_LEN, *end;
    if (cap - EVLOG_FRAME_LEN >= max) {
        end = payload_unchecked(ev, payload);
        assert((size_t)(end - payload) <= max);
    } else {
        end = payload_checked(ev, payload, out + cap);
        if (end == NULL)
            return SK_ENOSPACE;
    }
    size_t plen = (size_t)(end - payload);
    evlog_wr32(out, (uint32_t)plen);
    evlog_wr32(out + 4, crc32c(0, payload, plen));
    return (int)(plen + EVLOG_FRAME_LEN);
}

struct rd {
    const uint8_t *p, *end;
    int bad;
};

REC_INLINE int have(struct rd *r, size_t n)
{
    if (r->bad || (size_t)(r->end - r->p) < n) {
        r->bad = 1;
        return 0;
    }
    return 1;
}

REC_INLINE void get(struct rd *r, void *dst, size_t n)
{
    if (!have(r, n))
        return;
    memcpy(dst, r->p, n);
    r->p += n;
}

REC_INLINE uint8_t get_u8(struct rd *r)
{
    if (!have(r, 1))
        return 0;
    return *r->p++;
}

REC_INLINE uint16_t get_u16(struct rd *r)
{
    if (!have(r, 2))
        return 0;
    uint16_t v = evlog_rd16(r->p);
    r->p += 2;
    return v;
}

REC_INLINE uint32_t get_u32(struct rd *r)
{
    if (!have(r, 4))
        return 0;
    uint32_t v = evlog_rd32(r->p);
    r->p += 4;
    return v;
}

REC_INLINE uint64_t get_u64(struct rd *r)
{
    if (!have(r, 8))
        return 0;
    uint64_t v = evlog_rd64(r->p);
    r->p += 8;
    return v;
}

REC_INLINE uint64_t get_var(struct rd *r)
{
    /* Most are one byte long. */
    if (!r->bad && r->p != r->end && *r->p < 0x80)
        return *r->p++;
    uint64_t v = 0;
    if (r->bad || evlog_varint_get(&r->p, r->end, &v) != 0) {
        r->bad = 1;
        return 0;
    }
    return v;
}

REC_INLINE void get_addr(struct rd *r, struct sk_ip *ip)
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

/* A str into s[0..cap): at most cap - 1 bytes and the NUL. */
REC_INLINE void get_str(struct rd *r, char *s, size_t cap)
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

/* A span of at most cap bytes, pointing into the payload. */
REC_INLINE void get_span(struct rd *r, struct sk_span *s, uint32_t cap)
{
    uint64_t n = get_var(r);
    s->p = r->p;
    s->len = 0;
    if (n > cap || !have(r, (size_t)n)) {
        r->bad = 1;
        return;
    }
    s->len = (uint32_t)n;
    r->p += n;
}

int evlog_record_peek(const uint8_t *p, size_t len, uint8_t *kind, uint64_t *ts_us)
{
    if (len < 10)
        return SK_ECORRUPT;
    *kind = p[0];
    *ts_us = evlog_rd64(p + 2);
    return 0;
}

static void get_dns(struct rd *r, struct sk_event *ev)
{
    /* A DNS event has no connection fields: clear what a connection event
     * decoded into the same struct before left there. */
    ev->bot_id[0] = '\0';
    ev->rule[0] = '\0';
    ev->flags = 0;
    ev->close_reason = 0;
    ev->bytes_in = ev->bytes_out = ev->duration_us = 0;
    struct sk_event_dns *d = &ev->u.dns;
    d->id = get_u16(r);
    d->opcode = get_u8(r);
    d->qname_len = get_u8(r);
    get(r, d->qname, d->qname_len);
    if (r->bad)
        d->qname_len = 0;
    d->qtype = get_u16(r);
    d->qclass = get_u16(r);
    d->rcode = get_u16(r);
    d->flags = get_u8(r);
    d->rrl = get_u8(r);
    d->edns_size = get_u16(r);
    d->resp_len = get_u16(r);
    d->ancount = get_u16(r);
    d->ecs_af = get_u8(r);
    d->ecs_source = d->ecs_scope = 0;
    memset(d->ecs_addr, 0, sizeof(d->ecs_addr));
    if (d->ecs_af == 4 || d->ecs_af == 6) {
        d->ecs_source = get_u8(r);
        d->ecs_scope = get_u8(r);
        size_t n = (d->ecs_source + 7u) / 8u;
        if (n > (d->ecs_af == 4 ? 4u : 16u))
            r->bad = 1;
        else
            get(r, d->ecs_addr, n);
    } else if (d->ecs_af != 0) {
        r->bad = 1;
    }
}

/* A counter stored as a varint into a field of 32 bits. */
REC_INLINE uint32_t get_var32(struct rd *r)
{
    uint64_t v = get_var(r);
    if (v > UINT32_MAX)
        r->bad = 1;
    return (uint32_t)v;
}

static void get_conn(struct rd *r, struct sk_event *ev)
{
    get_str(r, ev->bot_id, sizeof(ev->bot_id));
    get_str(r, ev->rule, sizeof(ev->rule));
    ev->flags = get_u16(r);
    ev->close_reason = get_u8(r);
    ev->bytes_in = get_var(r);
    ev->bytes_out = get_var(r);
    ev->duration_us = get_var(r);
    if (ev->kind == SK_EV_HTTP) {
        struct sk_event_http *h = &ev->u.http;
        get_span(r, &h->method, SK_EV_SHORT_MAX);
        get_span(r, &h->host, SK_EV_SHORT_MAX);
        get_span(r, &h->url, SK_EV_URL_MAX);
        get_span(r, &h->user_agent, SK_EV_URL_MAX);
        get_span(r, &h->referer, SK_EV_URL_MAX);
        get_span(r, &h->content_type, SK_EV_SHORT_MAX);
        get_span(r, &h->body, SK_EV_CAPTURE_MAX);
        h->body_len = get_var(r);
        h->status = get_u16(r);
        h->version = get_u8(r);
        h->request = get_var32(r);
    } else if (ev->kind == SK_EV_TLS) {
        struct sk_event_tls *t = &ev->u.tls;
        get_span(r, &t->sni, SK_EV_SHORT_MAX);
        get_span(r, &t->alpn, SK_EV_SHORT_MAX);
        t->version = get_u16(r);
        t->record_version = get_u16(r);
        get_str(r, t->ja3, sizeof(t->ja3));
        get_str(r, t->ja4, sizeof(t->ja4));
    } else {
        struct sk_event_raw *x = &ev->u.raw;
        get_span(r, &x->data, SK_EV_CAPTURE_MAX);
        x->first_byte_ms = get_var32(r);
        x->sniffed = get_u8(r);
    }
}

int evlog_record_decode_schema(const uint8_t *p, size_t len, uint16_t schema, struct sk_event *ev)
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
    if (ev->kind == SK_EV_DNS && schema >= 1)
        get_dns(&r, ev);
    else if (ev->kind >= SK_EV_HTTP && ev->kind <= SK_EV_RAW && schema >= EVLOG_SCHEMA_CONN)
        get_conn(&r, ev);
    else
        r.bad = 1; /* a kind this schema does not have */
    if (r.bad || r.p != r.end)
        return SK_ECORRUPT;
    return 0;
}

int evlog_record_decode(const uint8_t *p, size_t len, struct sk_event *ev)
{
    return evlog_record_decode_schema(p, len, SK_EVENT_SCHEMA, ev);
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
        /* Cheap tests first, so that most offsets cost no CRC: a plausible
         * length, and a payload that starts with a known kind. */
        if (len - off >= EVLOG_FRAME_LEN + 1) {
            uint32_t n = evlog_rd32(buf + off);
            uint8_t kind = buf[off + EVLOG_FRAME_LEN];
            if (n == 0 || n > EVLOG_PAYLOAD_MAX || kind < SK_EV_DNS || kind > SK_EV_RAW)
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
    struct wr w = { out, out + cap, 0, 1 };
    put(&w, EVLOG_MAGIC, 8);
    put_u16(&w, EVLOG_FORMAT);
    put_u16(&w, h->schema);
    put_u64(&w, h->start_us);
    put_u64(&w, h->segment);
    put_u64(&w, h->first_seq);
    put_str(&w, h->node, sizeof(h->node));
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
