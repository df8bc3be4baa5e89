/* evlog/block.c -- encode and decode the columnar block form of events.
 *
 * The layout is in block.h. The encoder appends each field to its stream
 * and finds each record's shape in a hash table of the shapes seen in the
 * block; the decoder turns the shape table into ready-made field values
 * once per block, then keeps one cursor per stream and checks each read
 * against the stream's end, so a block that is damaged but still
 * decompresses (or a crafted one) is reported as corrupt, never read past.
 * Reading a DNS record is a few copies: this is what lets a reader go
 * through millions of events a second. Connection events (http, tls, raw)
 * are rarer and larger; their captured bytes are not copied but pointed
 * at in the block. */
#include "evlog/block.h"

#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/xalloc.h"
#include "evlog/record.h"

enum {
    S_TS,
    S_SHAPE,
    S_SHAPES,
    S_SRC,
    S_SPORT,
    S_DNSID,
    S_QNAME,
    S_RESPLEN,
    S_ECS,
    S_ROW,
    S_BOTID,
    S_CNUM,
    S_TEXT,
    S_DATA,
};

#define V1_STREAMS 10 /* version 1: up to S_ROW */

/* The longest serialised shape: a TLS one with every value at its cap. */
#define ADDR_MAX (1 + 16 + 2)
#define SHAPE_MAX                                                            \
    (3 + 2 * ADDR_MAX + SK_FAMILY_MAX + SK_LIST_NAME_MAX + SK_RULE_MAX + 3 + \
     2 * (EVLOG_VARINT_MAX + SK_EV_SHORT_MAX) + 4 + (SK_JA3_LEN + 1) + (SK_JA4_LEN + 1))
_Static_assert(EVLOG_BLOCK_STREAMS == S_DATA + 1, "streams and their names agree");

static int is_conn(uint8_t kind)
{
    return kind >= SK_EV_HTTP && kind <= SK_EV_RAW;
}

/* ---- encoder ---- */

void evlog_block_enc_init(struct evlog_block_enc *e)
{
    memset(e, 0, sizeof(*e));
    evlog_block_enc_reset(e);
}

void evlog_block_enc_free(struct evlog_block_enc *e)
{
    for (int i = 0; i < EVLOG_BLOCK_STREAMS; i++)
        free(e->s[i].p);
    free(e->shapes.p);
    free(e->hash);
    free(e->shape_off);
    memset(e, 0, sizeof(*e));
}

void evlog_block_enc_reset(struct evlog_block_enc *e)
{
    for (int i = 0; i < EVLOG_BLOCK_STREAMS; i++)
        e->s[i].len = 0;
    e->shapes.len = 0;
    e->nshapes = 0;
    if (e->hash)
        memset(e->hash, 0, e->hash_cap * sizeof(*e->hash));
    e->nrec = 0;
    e->prev_ts = 0;
    e->min_ts = UINT64_MAX;
    e->max_ts = 0;
    e->kinds = 0;
}

static uint8_t *grow(struct evlog_block_stream *s, size_t n)
{
    if (s->cap - s->len < n) {
        size_t cap = s->cap ? s->cap : 4096;
        while (cap - s->len < n)
            cap *= 2;
        s->p = xrealloc(s->p, cap);
        s->cap = cap;
    }
    uint8_t *at = s->p + s->len;
    s->len += n;
    return at;
}

static void sput(struct evlog_block_stream *s, const void *p, size_t n)
{
    if (n)
        memcpy(grow(s, n), p, n);
}

static void sput_u16(struct evlog_block_stream *s, uint16_t v)
{
    evlog_wr16(grow(s, 2), v);
}

static void sput_varint(struct evlog_block_stream *s, uint64_t v)
{
    uint8_t b[EVLOG_VARINT_MAX];
    sput(s, b, evlog_varint_put(b, v));
}

static void sput_span(struct evlog_block_stream *s, const struct sk_span *sp)
{
    uint32_t n = sp->p ? sp->len : 0;
    sput_varint(s, n);
    sput(s, sp->p, n);
}

static int af_ok(uint8_t af)
{
    return af == 0 || af == 4 || af == 6;
}

static size_t addr_len(uint8_t af)
{
    return af == 4 ? 4 : af == 6 ? 16 : 0;
}

static int span_ok(const struct sk_span *s, uint32_t cap)
{
    return s->p == NULL || s->len <= cap;
}

/* A shape key builder over a buffer of SHAPE_MAX bytes. */
struct kb {
    uint8_t *b;
    size_t n;
};

static void k_u8(struct kb *k, uint8_t v)
{
    k->b[k->n++] = v;
}

static void k_u16(struct kb *k, uint16_t v)
{
    evlog_wr16(k->b + k->n, v);
    k->n += 2;
}

static void k_bytes(struct kb *k, const void *p, size_t n)
{
    if (n)
        memcpy(k->b + k->n, p, n);
    k->n += n;
}

static void k_str(struct kb *k, const char *s, size_t max)
{
    size_t l = strnlen(s, max);
    k_u8(k, (uint8_t)l);
    k_bytes(k, s, l);
}

static void k_span(struct kb *k, const struct sk_span *s)
{
    uint32_t n = s->p ? s->len : 0;
    k->n += evlog_varint_put(k->b + k->n, n);
    k_bytes(k, s->p, n);
}

static void k_addr(struct kb *k, const struct sk_ip *ip)
{
    k_u8(k, ip->af);
    if (ip->af) {
        k_bytes(k, ip->a, addr_len(ip->af));
        k_u16(k, ip->port);
    }
}

/* Serialise ev's shape into b (SHAPE_MAX bytes); returns its length. The
 * caller has checked every length against its cap. */
static size_t shape_key(const struct sk_event *ev, uint8_t *b)
{
    struct kb k = { b, 0 };
    k_u8(&k, ev->kind);
    k_u8(&k, ev->proto);
    k_u8(&k, ev->src.af);
    k_addr(&k, &ev->dst);
    k_addr(&k, &ev->proxied_by);
    k_str(&k, ev->family, SK_FAMILY_MAX - 1);
    k_str(&k, ev->list, SK_LIST_NAME_MAX - 1);
    if (ev->kind == SK_EV_DNS) {
        const struct sk_event_dns *d = &ev->u.dns;
        k_u8(&k, d->opcode);
        k_u16(&k, d->qtype);
        k_u16(&k, d->qclass);
        k_u16(&k, d->rcode);
        k_u8(&k, d->flags);
        k_u8(&k, d->rrl);
        k_u16(&k, d->edns_size);
        k_u16(&k, d->ancount);
        k_u8(&k, d->ecs_af);
        return k.n;
    }
    k_str(&k, ev->rule, SK_RULE_MAX - 1);
    k_u16(&k, ev->flags);
    k_u8(&k, ev->close_reason);
    if (ev->kind == SK_EV_HTTP) {
        k_span(&k, &ev->u.http.method);
        k_span(&k, &ev->u.http.host);
        k_u16(&k, ev->u.http.status);
        k_u8(&k, ev->u.http.version);
    } else if (ev->kind == SK_EV_TLS) {
        const struct sk_event_tls *t = &ev->u.tls;
        k_span(&k, &t->sni);
        k_span(&k, &t->alpn);
        k_u16(&k, t->version);
        k_u16(&k, t->record_version);
        k_str(&k, t->ja3, SK_JA3_LEN);
        k_str(&k, t->ja4, SK_JA4_LEN);
    } else {
        k_u8(&k, ev->u.raw.sniffed);
    }
    return k.n;
}

/* A shape is ~50-120 bytes: hash it 8 bytes at a time. */
static uint32_t hash_bytes(const uint8_t *p, size_t n)
{
    uint64_t h = 0x9e3779b97f4a7c15ull ^ n;
    while (n >= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        h = (h ^ v) * 0xff51afd7ed558ccdull;
        h ^= h >> 32;
        p += 8;
        n -= 8;
    }
    uint64_t v = 0;
    memcpy(&v, p, n);
    h = (h ^ v) * 0xc4ceb9fe1a85ec53ull;
    return (uint32_t)(h ^ (h >> 29));
}

/* The index of the shape k[0..n) in the block, adding it if new. */
static uint32_t shape_index(struct evlog_block_enc *e, const uint8_t *k, size_t n)
{
    if (2 * ((size_t)e->nshapes + 1) > e->hash_cap) {
        size_t cap = e->hash_cap ? 2 * e->hash_cap : 1024;
        uint32_t *h = xcalloc(cap, sizeof(*h));
        for (uint32_t i = 0; i < e->nshapes; i++) {
            const uint8_t *s = e->shapes.p + e->shape_off[i];
            size_t sl = e->shape_off[i + 1] - e->shape_off[i];
            size_t at = hash_bytes(s, sl) & (cap - 1);
            while (h[at])
                at = (at + 1) & (cap - 1);
            h[at] = i + 1;
        }
        free(e->hash);
        e->hash = h;
        e->hash_cap = cap;
    }
    size_t at = hash_bytes(k, n) & (e->hash_cap - 1);
    for (; e->hash[at]; at = (at + 1) & (e->hash_cap - 1)) {
        uint32_t i = e->hash[at] - 1;
        size_t sl = e->shape_off[i + 1] - e->shape_off[i];
        if (sl == n && memcmp(e->shapes.p + e->shape_off[i], k, n) == 0)
            return i;
    }
    if ((size_t)e->nshapes + 2 > e->off_cap) {
        e->off_cap = e->off_cap ? 2 * e->off_cap : 1024;
        e->shape_off = xrealloc(e->shape_off, e->off_cap * sizeof(*e->shape_off));
    }
    if (e->nshapes == 0)
        e->shape_off[0] = 0;
    sput(&e->shapes, k, n);
    e->shape_off[e->nshapes + 1] = (uint32_t)e->shapes.len;
    e->hash[at] = e->nshapes + 1;
    return e->nshapes++;
}

/* Is ev storable: known kind, address families, lengths within caps? */
static int event_ok(const struct sk_event *ev)
{
    if (!af_ok(ev->src.af) || !af_ok(ev->dst.af) || !af_ok(ev->proxied_by.af))
        return 0;
    const struct sk_event_http *h = &ev->u.http;
    const struct sk_event_tls *t = &ev->u.tls;
    switch (ev->kind) {
    case SK_EV_DNS:
        if (!af_ok(ev->u.dns.ecs_af))
            return 0;
        return !ev->u.dns.ecs_af || ev->u.dns.ecs_source <= (ev->u.dns.ecs_af == 4 ? 32 : 128);
    case SK_EV_HTTP:
        return span_ok(&h->method, SK_EV_SHORT_MAX) && span_ok(&h->host, SK_EV_SHORT_MAX) &&
               span_ok(&h->url, SK_EV_URL_MAX) && span_ok(&h->user_agent, SK_EV_URL_MAX) &&
               span_ok(&h->referer, SK_EV_URL_MAX) && span_ok(&h->content_type, SK_EV_SHORT_MAX) &&
               span_ok(&h->body, SK_EV_CAPTURE_MAX);
    case SK_EV_TLS:
        return span_ok(&t->sni, SK_EV_SHORT_MAX) && span_ok(&t->alpn, SK_EV_SHORT_MAX);
    case SK_EV_RAW:
        return span_ok(&ev->u.raw.data, SK_EV_CAPTURE_MAX);
    default:
        return 0;
    }
}

static void add_dns(struct evlog_block_enc *e, const struct sk_event_dns *d)
{
    sput_u16(&e->s[S_DNSID], d->id);
    uint8_t *q = grow(&e->s[S_QNAME], 1u + d->qname_len);
    q[0] = d->qname_len;
    memcpy(q + 1, d->qname, d->qname_len);
    sput_u16(&e->s[S_RESPLEN], d->resp_len);
    if (d->ecs_af) {
        uint8_t *x = grow(&e->s[S_ECS], 2);
        x[0] = d->ecs_source;
        x[1] = d->ecs_scope;
        sput(&e->s[S_ECS], d->ecs_addr, (d->ecs_source + 7u) / 8u);
    }
}

static void add_conn(struct evlog_block_enc *e, const struct sk_event *ev)
{
    size_t l = strnlen(ev->bot_id, SK_BOTID_MAX - 1);
    uint8_t *b = grow(&e->s[S_BOTID], 1 + l);
    b[0] = (uint8_t)l;
    memcpy(b + 1, ev->bot_id, l);
    struct evlog_block_stream *num = &e->s[S_CNUM];
    sput_varint(num, ev->bytes_in);
    sput_varint(num, ev->bytes_out);
    sput_varint(num, ev->duration_us);
    if (ev->kind == SK_EV_HTTP) {
        const struct sk_event_http *h = &ev->u.http;
        sput_varint(num, h->body_len);
        sput_varint(num, h->request);
        sput_span(&e->s[S_TEXT], &h->url);
        sput_span(&e->s[S_TEXT], &h->user_agent);
        sput_span(&e->s[S_TEXT], &h->referer);
        sput_span(&e->s[S_TEXT], &h->content_type);
        sput_span(&e->s[S_DATA], &h->body);
    } else if (ev->kind == SK_EV_RAW) {
        sput_varint(num, ev->u.raw.first_byte_ms);
        sput_span(&e->s[S_DATA], &ev->u.raw.data);
    }
}

int evlog_block_enc_add(struct evlog_block_enc *e, const struct sk_event *ev)
{
    if (!event_ok(ev))
        return SK_EINVAL;
    uint8_t key[SHAPE_MAX];
    uint32_t shape = shape_index(e, key, shape_key(ev, key));
    uint64_t delta = ev->ts_us - e->prev_ts;
    sput_varint(&e->s[S_TS], (delta << 1) ^ (uint64_t)((int64_t)delta >> 63));
    sput_varint(&e->s[S_SHAPE], shape);
    e->prev_ts = ev->ts_us;
    if (ev->ts_us < e->min_ts)
        e->min_ts = ev->ts_us;
    if (ev->ts_us > e->max_ts)
        e->max_ts = ev->ts_us;
    e->kinds |= 1u << ev->kind;
    e->nrec++;
    if (ev->src.af) {
        sput(&e->s[S_SRC], ev->src.a, addr_len(ev->src.af));
        sput_u16(&e->s[S_SPORT], ev->src.port);
    }
    if (ev->kind == SK_EV_DNS)
        add_dns(e, &ev->u.dns);
    else
        add_conn(e, ev);
    return 0;
}

size_t evlog_block_enc_size(const struct evlog_block_enc *e)
{
    uint8_t b[EVLOG_VARINT_MAX];
    size_t n = EVLOG_BLOCK_HDR + evlog_varint_put(b, e->nshapes) + e->shapes.len;
    for (int i = 0; i < EVLOG_BLOCK_STREAMS; i++)
        n += e->s[i].len;
    return n;
}

int evlog_block_enc_finish(const struct evlog_block_enc *e, uint8_t *out, size_t cap)
{
    size_t n = evlog_block_enc_size(e);
    if (cap < n)
        return SK_ENOSPACE;
    out[0] = EVLOG_BLOCK_VERSION;
    out[1] = EVLOG_BLOCK_STREAMS;
    out[2] = out[3] = 0;
    evlog_wr32(out + 4, e->nrec);
    uint8_t *p = out + EVLOG_BLOCK_HDR;
    for (int i = 0; i < EVLOG_BLOCK_STREAMS; i++) {
        size_t len = e->s[i].len;
        if (i == S_SHAPES) {
            size_t k = evlog_varint_put(p, e->nshapes);
            memcpy(p + k, e->shapes.p, e->shapes.len);
            len = k + e->shapes.len;
        } else if (len) {
            memcpy(p, e->s[i].p, len);
        }
        evlog_wr32(out + 8 + 4 * i, (uint32_t)len);
        p += len;
    }
    return (int)n;
}

/* ---- decoder ---- */

void evlog_block_dec_free(struct evlog_block_dec *d)
{
    free(d->shapes);
    free(d->cshapes);
    memset(d, 0, sizeof(*d));
}

static int get_varint(const uint8_t **pp, const uint8_t *end, uint64_t *out)
{
    return evlog_varint_get(pp, end, out) == 0 ? 0 : SK_ECORRUPT;
}

/* A bounded reader over the shape table. */
struct sr {
    const uint8_t *p, *end;
    int bad;
};

static const uint8_t *sr_take(struct sr *r, size_t n)
{
    if (r->bad || (size_t)(r->end - r->p) < n) {
        r->bad = 1;
        return NULL;
    }
    const uint8_t *at = r->p;
    r->p += n;
    return at;
}

static uint8_t sr_u8(struct sr *r)
{
    const uint8_t *p = sr_take(r, 1);
    return p ? *p : 0;
}

static uint16_t sr_u16(struct sr *r)
{
    const uint8_t *p = sr_take(r, 2);
    return p ? evlog_rd16(p) : 0;
}

static void sr_addr(struct sr *r, struct sk_ip *ip)
{
    memset(ip, 0, sizeof(*ip));
    ip->af = sr_u8(r);
    if (ip->af == 0)
        return;
    const uint8_t *a = af_ok(ip->af) ? sr_take(r, addr_len(ip->af)) : NULL;
    if (a == NULL) {
        r->bad = 1;
        return;
    }
    memcpy(ip->a, a, addr_len(ip->af));
    ip->port = sr_u16(r);
}

/* A str into s[0..cap): at most cap - 1 bytes, zero-padded to cap. */
static uint8_t sr_str(struct sr *r, char *s, size_t cap)
{
    uint8_t n = sr_u8(r);
    const uint8_t *p = n < cap ? sr_take(r, n) : NULL;
    if (p == NULL && n > 0) {
        r->bad = 1;
        s[0] = '\0';
        return 0;
    }
    if (n)
        memcpy(s, p, n);
    s[n] = '\0';
    return n;
}

/* A span of at most cap bytes, pointing into the table. */
static void sr_span(struct sr *r, struct sk_span *s, uint32_t cap)
{
    uint64_t n;
    s->len = 0;
    s->p = r->p;
    if (r->bad || evlog_varint_get(&r->p, r->end, &n) != 0 || n > cap) {
        r->bad = 1;
        return;
    }
    s->p = sr_take(r, (size_t)n);
    if (s->p == NULL) {
        s->p = r->end;
        return;
    }
    s->len = (uint32_t)n;
}

static void read_cshape(struct sr *r, uint8_t kind, struct evlog_block_cshape *c)
{
    sr_str(r, c->rule, sizeof(c->rule));
    c->flags = sr_u16(r);
    c->close_reason = sr_u8(r);
    if (kind == SK_EV_HTTP) {
        sr_span(r, &c->a, SK_EV_SHORT_MAX);
        sr_span(r, &c->b, SK_EV_SHORT_MAX);
        c->http_status = sr_u16(r);
        c->http_version = sr_u8(r);
    } else if (kind == SK_EV_TLS) {
        sr_span(r, &c->a, SK_EV_SHORT_MAX);
        sr_span(r, &c->b, SK_EV_SHORT_MAX);
        c->tls_version = sr_u16(r);
        c->tls_record_version = sr_u16(r);
        sr_str(r, c->ja3, sizeof(c->ja3));
        sr_str(r, c->ja4, sizeof(c->ja4));
    } else {
        c->sniffed = sr_u8(r);
    }
}

static int read_shapes(struct evlog_block_dec *d, const uint8_t *p, const uint8_t *end)
{
    uint64_t n;
    if (get_varint(&p, end, &n) != 0 || n > d->nrec || n > (uint64_t)(end - p))
        return SK_ECORRUPT;
    if (n > d->shapes_cap) {
        free(d->shapes);
        d->shapes = xmalloc((size_t)n * sizeof(*d->shapes));
        d->shapes_cap = (uint32_t)n;
    }
    d->ncshapes = 0;
    struct sr r = { p, end, 0 };
    for (uint64_t i = 0; i < n; i++) {
        struct evlog_block_shape *s = &d->shapes[i];
        memset(s, 0, sizeof(*s));
        s->kind = sr_u8(&r);
        if (r.bad)
            return SK_ECORRUPT;
        if (s->kind != SK_EV_DNS && d->version == 1)
            continue; /* a row kind: the shape is the kind alone */
        if (s->kind != SK_EV_DNS && !is_conn(s->kind))
            return SK_ECORRUPT;
        s->proto = sr_u8(&r);
        s->src_af = sr_u8(&r);
        sr_addr(&r, &s->dst);
        sr_addr(&r, &s->proxied_by);
        s->famlen = sr_str(&r, s->family, sizeof(s->family));
        s->listlen = sr_str(&r, s->list, sizeof(s->list));
        if (!af_ok(s->src_af))
            r.bad = 1;
        if (s->kind == SK_EV_DNS) {
            s->opcode = sr_u8(&r);
            s->qtype = sr_u16(&r);
            s->qclass = sr_u16(&r);
            s->rcode = sr_u16(&r);
            s->flags = sr_u8(&r);
            s->rrl = sr_u8(&r);
            s->edns_size = sr_u16(&r);
            s->ancount = sr_u16(&r);
            s->ecs_af = sr_u8(&r);
            if (!af_ok(s->ecs_af))
                r.bad = 1;
        } else {
            if (d->ncshapes == d->cshapes_cap) {
                d->cshapes_cap = d->cshapes_cap ? 2 * d->cshapes_cap : 64;
                d->cshapes = xrealloc(d->cshapes, d->cshapes_cap * sizeof(*d->cshapes));
            }
            struct evlog_block_cshape *c = &d->cshapes[d->ncshapes];
            memset(c, 0, sizeof(*c));
            read_cshape(&r, s->kind, c);
            s->conn = d->ncshapes++;
        }
        if (r.bad)
            return SK_ECORRUPT;
    }
    if (r.p != end)
        return SK_ECORRUPT;
    d->nshapes = (uint32_t)n;
    return 0;
}

int evlog_block_dec_init(struct evlog_block_dec *d, const uint8_t *raw, size_t len)
{
    d->nrec = d->i = 0;
    d->nshapes = d->ncshapes = 0;
    d->ts = 0;
    d->shape = NULL;
    for (int i = 0; i < EVLOG_BLOCK_STREAMS; i++)
        d->p[i] = d->end[i] = NULL;
    if (len < 8)
        return SK_ECORRUPT;
    /* Version 1 has the DNS columns only; its other streams stay empty. */
    if (raw[0] == 1 && raw[1] == V1_STREAMS)
        d->nstreams = V1_STREAMS;
    else if (raw[0] == EVLOG_BLOCK_VERSION && raw[1] == EVLOG_BLOCK_STREAMS)
        d->nstreams = EVLOG_BLOCK_STREAMS;
    else
        return SK_ECORRUPT;
    d->version = raw[0];
    size_t hdr = 8 + 4 * (size_t)d->nstreams;
    if (len < hdr)
        return SK_ECORRUPT;
    uint32_t nrec = evlog_rd32(raw + 4);
    const uint8_t *p = raw + hdr, *end = raw + len;
    d->raw_end = end;
    for (int i = 0; i < d->nstreams; i++) {
        uint32_t n = evlog_rd32(raw + 8 + 4 * i);
        if ((size_t)(end - p) < n)
            return SK_ECORRUPT;
        d->p[i] = p;
        d->end[i] = p + n;
        p += n;
    }
    /* Every record takes at least one byte of TS and of SHAPE. */
    if (p != end || nrec > (size_t)(d->end[S_TS] - d->p[S_TS]) ||
        nrec > (size_t)(d->end[S_SHAPE] - d->p[S_SHAPE]))
        return SK_ECORRUPT;
    d->nrec = nrec;
    if (read_shapes(d, d->p[S_SHAPES], d->end[S_SHAPES]) != 0) {
        d->nrec = 0;
        return SK_ECORRUPT;
    }
    d->p[S_SHAPES] = d->end[S_SHAPES];
    return 0;
}

#define NEED(d, k, n)                                \
    do {                                             \
        if ((size_t)((d)->end[k] - (d)->p[k]) < (n)) \
            return SK_ECORRUPT;                      \
    } while (0)

int evlog_block_dec_head(struct evlog_block_dec *d, uint8_t *kind, uint64_t *ts_us)
{
    if (d->i == d->nrec) {
        /* Every stream must be used up exactly. */
        for (int k = 0; k < EVLOG_BLOCK_STREAMS; k++)
            if (d->p[k] != d->end[k])
                return SK_ECORRUPT;
        return 0;
    }
    uint64_t v, s;
    const uint8_t *p = d->p[S_TS];
    /* The common case, a delta under 64 µs: one byte. */
    if (p < d->end[S_TS] && *p < 0x80) {
        v = *p;
        d->p[S_TS] = p + 1;
    } else if (get_varint(&d->p[S_TS], d->end[S_TS], &v) != 0) {
        return SK_ECORRUPT;
    }
    p = d->p[S_SHAPE];
    if (p < d->end[S_SHAPE] && *p < 0x80) {
        s = *p;
        d->p[S_SHAPE] = p + 1;
    } else if (get_varint(&d->p[S_SHAPE], d->end[S_SHAPE], &s) != 0) {
        return SK_ECORRUPT;
    }
    if (s >= d->nshapes)
        return SK_ECORRUPT;
    d->ts += (v >> 1) ^ (0 - (v & 1));
    d->shape = &d->shapes[s];
    d->i++;
    *kind = d->shape->kind;
    *ts_us = d->ts;
    return 1;
}

/* A version 1 record of a kind without columns: its row payload. */
static int row_body(struct evlog_block_dec *d, struct sk_event *ev)
{
    const struct evlog_block_shape *s = d->shape;
    uint64_t n;
    if (get_varint(&d->p[S_ROW], d->end[S_ROW], &n) != 0 || n > EVLOG_PAYLOAD_MAX)
        return SK_ECORRUPT;
    NEED(d, S_ROW, n);
    int rc = evlog_record_decode(d->p[S_ROW], (size_t)n, ev);
    d->p[S_ROW] += n;
    /* The row must say what the columns said of it. */
    if (rc == 0 && (ev->kind != s->kind || ev->ts_us != d->ts))
        rc = SK_ECORRUPT;
    return rc;
}

static int varint_at(struct evlog_block_dec *d, int k, uint64_t *v)
{
    return get_varint(&d->p[k], d->end[k], v);
}

/* A span of at most cap bytes from stream k, pointing into the block. */
static int span_at(struct evlog_block_dec *d, int k, struct sk_span *s, uint32_t cap)
{
    uint64_t n;
    if (varint_at(d, k, &n) != 0 || n > cap)
        return SK_ECORRUPT;
    NEED(d, k, n);
    s->p = d->p[k];
    s->len = (uint32_t)n;
    d->p[k] += n;
    return 0;
}

static int conn_body(struct evlog_block_dec *d, struct sk_event *ev)
{
    const struct evlog_block_cshape *c = &d->cshapes[d->shape->conn];
    NEED(d, S_BOTID, 1);
    uint8_t bl = *d->p[S_BOTID];
    if (bl >= SK_BOTID_MAX)
        return SK_ECORRUPT;
    NEED(d, S_BOTID, 1u + bl);
    memcpy(ev->bot_id, d->p[S_BOTID] + 1, bl);
    ev->bot_id[bl] = '\0';
    d->p[S_BOTID] += 1u + bl;
    memcpy(ev->rule, c->rule, sizeof(ev->rule));
    ev->flags = c->flags;
    ev->close_reason = c->close_reason;
    if (varint_at(d, S_CNUM, &ev->bytes_in) || varint_at(d, S_CNUM, &ev->bytes_out) ||
        varint_at(d, S_CNUM, &ev->duration_us))
        return SK_ECORRUPT;
    uint64_t v;
    if (ev->kind == SK_EV_HTTP) {
        struct sk_event_http *h = &ev->u.http;
        h->method = c->a;
        h->host = c->b;
        h->status = c->http_status;
        h->version = c->http_version;
        if (varint_at(d, S_CNUM, &h->body_len) || varint_at(d, S_CNUM, &v) || v > UINT32_MAX)
            return SK_ECORRUPT;
        h->request = (uint32_t)v;
        if (span_at(d, S_TEXT, &h->url, SK_EV_URL_MAX) ||
            span_at(d, S_TEXT, &h->user_agent, SK_EV_URL_MAX) ||
            span_at(d, S_TEXT, &h->referer, SK_EV_URL_MAX) ||
            span_at(d, S_TEXT, &h->content_type, SK_EV_SHORT_MAX) ||
            span_at(d, S_DATA, &h->body, SK_EV_CAPTURE_MAX))
            return SK_ECORRUPT;
    } else if (ev->kind == SK_EV_TLS) {
        struct sk_event_tls *t = &ev->u.tls;
        t->sni = c->a;
        t->alpn = c->b;
        t->version = c->tls_version;
        t->record_version = c->tls_record_version;
        memcpy(t->ja3, c->ja3, sizeof(t->ja3));
        memcpy(t->ja4, c->ja4, sizeof(t->ja4));
    } else {
        struct sk_event_raw *x = &ev->u.raw;
        x->sniffed = c->sniffed;
        if (varint_at(d, S_CNUM, &v) || v > UINT32_MAX)
            return SK_ECORRUPT;
        x->first_byte_ms = (uint32_t)v;
        if (span_at(d, S_DATA, &x->data, SK_EV_CAPTURE_MAX))
            return SK_ECORRUPT;
    }
    return 0;
}

static int dns_body(struct evlog_block_dec *d, struct sk_event *ev)
{
    const struct evlog_block_shape *s = d->shape;
    ev->bot_id[0] = '\0';
    ev->rule[0] = '\0';
    ev->flags = 0;
    ev->close_reason = 0;
    ev->bytes_in = ev->bytes_out = ev->duration_us = 0;
    struct sk_event_dns *x = &ev->u.dns;
    NEED(d, S_DNSID, 2);
    x->id = evlog_rd16(d->p[S_DNSID]);
    d->p[S_DNSID] += 2;
    NEED(d, S_QNAME, 1);
    uint8_t ql = *d->p[S_QNAME];
    NEED(d, S_QNAME, 1u + ql);
    x->qname_len = ql;
    const uint8_t *src = d->p[S_QNAME] + 1;
    if ((size_t)(d->raw_end - src) >= 256 && ql <= 224) {
        /* Copy in 32-byte pieces: may read past the name (never past the
         * block) and write past it into the unused tail of qname. */
        for (unsigned k = 0; k < ql; k += 32)
            memcpy(x->qname + k, src + k, 32);
    } else {
        memcpy(x->qname, src, ql);
    }
    d->p[S_QNAME] += 1u + ql;
    NEED(d, S_RESPLEN, 2);
    x->resp_len = evlog_rd16(d->p[S_RESPLEN]);
    d->p[S_RESPLEN] += 2;
    x->opcode = s->opcode;
    x->qtype = s->qtype;
    x->qclass = s->qclass;
    x->rcode = s->rcode;
    x->flags = s->flags;
    x->rrl = s->rrl;
    x->edns_size = s->edns_size;
    x->ancount = s->ancount;
    x->ecs_af = s->ecs_af;
    memset(x->ecs_addr, 0, sizeof(x->ecs_addr));
    x->ecs_source = x->ecs_scope = 0;
    if (s->ecs_af) {
        NEED(d, S_ECS, 2);
        x->ecs_source = d->p[S_ECS][0];
        x->ecs_scope = d->p[S_ECS][1];
        size_t n = (x->ecs_source + 7u) / 8u;
        if (n > addr_len(s->ecs_af))
            return SK_ECORRUPT;
        NEED(d, S_ECS, 2 + n);
        memcpy(x->ecs_addr, d->p[S_ECS] + 2, n);
        d->p[S_ECS] += 2 + n;
    }
    return 0;
}

int evlog_block_dec_body(struct evlog_block_dec *d, struct sk_event *ev)
{
    const struct evlog_block_shape *s = d->shape;
    if (d->version == 1 && s->kind != SK_EV_DNS)
        return row_body(d, ev);
    ev->kind = s->kind;
    ev->proto = s->proto;
    ev->ts_us = d->ts;
    ev->src.af = s->src_af;
    if (s->src_af) {
        size_t n = addr_len(s->src_af);
        NEED(d, S_SRC, n);
        NEED(d, S_SPORT, 2);
        if (n == 4) {
            memcpy(ev->src.a, d->p[S_SRC], 4);
            memset(ev->src.a + 4, 0, 12);
        } else {
            memcpy(ev->src.a, d->p[S_SRC], 16);
        }
        d->p[S_SRC] += n;
        ev->src.port = evlog_rd16(d->p[S_SPORT]);
        d->p[S_SPORT] += 2;
    } else {
        memset(ev->src.a, 0, sizeof(ev->src.a));
        ev->src.port = 0;
    }
    ev->dst = s->dst;
    ev->proxied_by = s->proxied_by;
    /* Whole arrays (zero-padded in the shape): fixed-size copies are a
     * few vector moves, where a copy of the string's length is a call. */
    memcpy(ev->family, s->family, sizeof(ev->family));
    memcpy(ev->list, s->list, sizeof(ev->list));
    return s->kind == SK_EV_DNS ? dns_body(d, ev) : conn_body(d, ev);
}

static int skip(struct evlog_block_dec *d, int k, size_t n)
{
    NEED(d, k, n);
    d->p[k] += n;
    return 0;
}

static int skip_varints(struct evlog_block_dec *d, int k, int n)
{
    uint64_t v;
    for (int i = 0; i < n; i++)
        if (varint_at(d, k, &v) != 0)
            return SK_ECORRUPT;
    return 0;
}

static int skip_spans(struct evlog_block_dec *d, int k, int n)
{
    uint64_t v;
    for (int i = 0; i < n; i++)
        if (varint_at(d, k, &v) != 0 || skip(d, k, (size_t)v) != 0)
            return SK_ECORRUPT;
    return 0;
}

int evlog_block_dec_skip(struct evlog_block_dec *d)
{
    const struct evlog_block_shape *s = d->shape;
    if (d->version == 1 && s->kind != SK_EV_DNS) {
        uint64_t n;
        if (get_varint(&d->p[S_ROW], d->end[S_ROW], &n) != 0 || n > EVLOG_PAYLOAD_MAX)
            return SK_ECORRUPT;
        return skip(d, S_ROW, (size_t)n);
    }
    if (s->src_af && (skip(d, S_SRC, addr_len(s->src_af)) || skip(d, S_SPORT, 2)))
        return SK_ECORRUPT;
    if (s->kind != SK_EV_DNS) {
        NEED(d, S_BOTID, 1);
        if (skip(d, S_BOTID, 1u + *d->p[S_BOTID]))
            return SK_ECORRUPT;
        if (s->kind == SK_EV_HTTP)
            return skip_varints(d, S_CNUM, 5) || skip_spans(d, S_TEXT, 4) ||
                           skip_spans(d, S_DATA, 1)
                       ? SK_ECORRUPT
                       : 0;
        if (s->kind == SK_EV_RAW)
            return skip_varints(d, S_CNUM, 4) || skip_spans(d, S_DATA, 1) ? SK_ECORRUPT : 0;
        return skip_varints(d, S_CNUM, 3);
    }
    NEED(d, S_QNAME, 1);
    if (skip(d, S_DNSID, 2) || skip(d, S_QNAME, 1u + *d->p[S_QNAME]) || skip(d, S_RESPLEN, 2))
        return SK_ECORRUPT;
    if (s->ecs_af) {
        NEED(d, S_ECS, 2);
        size_t n = (d->p[S_ECS][0] + 7u) / 8u;
        if (n > addr_len(s->ecs_af) || skip(d, S_ECS, 2 + n))
            return SK_ECORRUPT;
    }
    return 0;
}
