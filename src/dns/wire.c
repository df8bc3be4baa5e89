/* dns/wire.c -- decode and encode DNS messages on the wire.
 *
 * Pure functions over caller-owned buffers: no allocation, no I/O, no
 * global state. Every read is bounds-checked against len.
 *
 * Decoding: a compression pointer must aim strictly before the start of
 * the run of labels it ends (the name itself, or the place the previous
 * pointer led to). Each jump therefore lands lower than the last, so a
 * loop cannot be followed; a cap on the number of jumps is kept anyway.
 *
 * Encoding: struct dns_wbuf writes all of a field or nothing of it, and
 * dns_wbuf_name() compresses a name against the names written before it by
 * walking those names again in the output buffer, so a pointer always aims
 * at bytes that are really there. */
#include "dns/wire.h"

#include <string.h>

#include "core/err.h"

#define PTR_JUMPS_MAX 128
#define PTR_OFF_MAX   0x3fff
#define RR_FIXED_LEN  10 /* type, class, ttl, rdlength */

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint8_t lower(uint8_t c)
{
    return c >= 'A' && c <= 'Z' ? (uint8_t)(c + ('a' - 'A')) : c;
}

int dns_parse_header(const uint8_t *buf, size_t len, struct dns_hdr *h /* OUT */)
{
    if (buf == NULL || len < DNS_HDR_LEN)
        return SK_EPROTO;
    h->id = rd16(buf);
    h->flags = rd16(buf + 2);
    h->qdcount = rd16(buf + 4);
    h->ancount = rd16(buf + 6);
    h->nscount = rd16(buf + 8);
    h->arcount = rd16(buf + 10);
    return 0;
}

void dns_write_header(uint8_t out[DNS_HDR_LEN], const struct dns_hdr *h)
{
    const uint16_t v[6] = { h->id, h->flags, h->qdcount, h->ancount, h->nscount, h->arcount };
    for (int i = 0; i < 6; i++) {
        out[2 * i] = (uint8_t)(v[i] >> 8);
        out[2 * i + 1] = (uint8_t)v[i];
    }
}

/* The decoder behind dns_name_decode(). When label_at is not NULL it also
 * records, for each label of the result (the root included), the offset
 * in buf where that label really is, which is where a compression pointer
 * to the suffix starting there may aim; *nlabels gets the number of labels
 * without the root. */
static int name_decode(const uint8_t *buf, size_t len, size_t *pos, uint8_t out[DNS_NAME_MAX],
                       size_t *out_len, size_t label_at[DNS_LABELS_MAX], int *nlabels)
{
    size_t p = *pos;
    size_t run_start = p; /* where the current run of labels began */
    size_t end = 0;       /* just past the name where it appears */
    int jumps = 0;
    size_t o = 0;
    int n = 0;
    for (;;) {
        if (p >= len)
            return SK_EPROTO;
        uint8_t l = buf[p];
        if ((l & 0xc0) == 0xc0) {
            if (p + 1 >= len)
                return SK_EPROTO;
            size_t target = (size_t)(l & 0x3f) << 8 | buf[p + 1];
            if (target >= run_start || ++jumps > PTR_JUMPS_MAX)
                return SK_EPROTO;
            if (jumps == 1)
                end = p + 2;
            p = run_start = target;
            continue;
        }
        if (l & 0xc0)
            return SK_EPROTO; /* 0x40 (extended) and 0x80 (reserved) label types */
        /* A label needs its length byte, its bytes and room for the root. */
        if (l != 0 && o + (size_t)l + 2 > DNS_NAME_MAX)
            return SK_EPROTO;
        if (p + 1 + (size_t)l > len)
            return SK_EPROTO;
        if (label_at != NULL)
            label_at[n] = p;
        out[o] = l;
        memcpy(out + o + 1, buf + p + 1, l);
        o += 1 + (size_t)l;
        p += 1 + (size_t)l;
        if (l == 0)
            break;
        n++;
    }
    *pos = jumps ? end : p;
    *out_len = o;
    if (nlabels != NULL)
        *nlabels = n;
    return 0;
}

int dns_name_decode(const uint8_t *buf, size_t len, size_t *pos, uint8_t out[DNS_NAME_MAX],
                    size_t *out_len /* OUT */)
{
    if (buf == NULL || pos == NULL)
        return SK_EPROTO;
    return name_decode(buf, len, pos, out, out_len, NULL, NULL);
}

/* Read an RR's owner and fixed part at buf[*pos]; on success *pos is at
 * the RDATA, which is known to fit in buf. */
static int rr_head(const uint8_t *buf, size_t len, size_t *pos, uint8_t owner[DNS_NAME_MAX],
                   size_t *owner_len, uint16_t *type, uint16_t *klass, uint32_t *ttl,
                   uint16_t *rdlen)
{
    size_t p = *pos;
    if (dns_name_decode(buf, len, &p, owner, owner_len) != 0)
        return SK_EPROTO;
    if (len - p < RR_FIXED_LEN)
        return SK_EPROTO;
    *type = rd16(buf + p);
    *klass = rd16(buf + p + 2);
    *ttl = rd32(buf + p + 4);
    *rdlen = rd16(buf + p + 8);
    p += RR_FIXED_LEN;
    if (len - p < *rdlen)
        return SK_EPROTO;
    *pos = p;
    return 0;
}

int dns_skip_rr(const uint8_t *buf, size_t len, size_t *pos)
{
    uint8_t owner[DNS_NAME_MAX];
    size_t owner_len, p;
    uint16_t type, klass, rdlen;
    uint32_t ttl;
    if (buf == NULL || pos == NULL)
        return SK_EPROTO;
    p = *pos;
    if (rr_head(buf, len, &p, owner, &owner_len, &type, &klass, &ttl, &rdlen) != 0)
        return SK_EPROTO;
    *pos = p + rdlen;
    return 0;
}

/* RFC 7871 6: FAMILY, SOURCE PREFIX-LENGTH, SCOPE PREFIX-LENGTH, then the
 * address cut to just the bytes the source prefix covers, with no bits set
 * past it. Anything else is FORMERR (7.1.2). The first good option wins. */
static int parse_ecs(const uint8_t *p, size_t n, struct dns_query *q)
{
    if (n < 4)
        return SK_EPROTO;
    uint16_t family = rd16(p);
    uint8_t source = p[2], scope = p[3];
    unsigned max_bits = family == 1 ? 32 : family == 2 ? 128 : 0;
    if (max_bits == 0 || source > max_bits)
        return SK_EPROTO;
    size_t alen = ((size_t)source + 7) / 8;
    if (n - 4 != alen)
        return SK_EPROTO;
    if (source % 8 != 0 && (p[4 + alen - 1] & (0xff >> (source % 8))) != 0)
        return SK_EPROTO;
    if (!q->has_ecs) {
        q->has_ecs = true;
        q->ecs_family = family;
        q->ecs_source_prefix = source;
        q->ecs_scope_prefix = scope;
        memset(q->ecs_addr, 0, sizeof(q->ecs_addr));
        memcpy(q->ecs_addr, p + 4, alen);
    }
    return 0;
}

/* The OPT pseudo-RR (RFC 6891 6.1.2): CLASS is the requestor's UDP payload
 * size, TTL is extended rcode, version, DO and Z; RDATA is a sequence of
 * {code, length, data} options that must fill it exactly. */
static int parse_opt(const uint8_t *rd, uint16_t rdlen, uint16_t klass, uint32_t ttl,
                     struct dns_query *q)
{
    q->has_edns = true;
    q->edns_udp_size = klass;
    q->edns_version = (uint8_t)(ttl >> 16);
    q->edns_do = (ttl & 0x8000) != 0;
    size_t p = 0;
    while (p < rdlen) {
        if (rdlen - p < 4)
            return SK_EPROTO;
        uint16_t code = rd16(rd + p), olen = rd16(rd + p + 2);
        p += 4;
        if (rdlen - p < olen)
            return SK_EPROTO;
        if (code == DNS_EDNS_OPT_ECS && parse_ecs(rd + p, olen, q) != 0)
            return SK_EPROTO;
        p += olen;
    }
    return 0;
}

enum dns_parse_status dns_parse_query(const uint8_t *buf, size_t len, struct dns_query *q /* OUT */)
{
    memset(q, 0, sizeof(*q));
    if (buf == NULL || dns_parse_header(buf, len, &q->hdr) != 0)
        return DNS_PARSE_DROP;
    if ((q->hdr.flags & DNS_QR) || q->hdr.qdcount == 0)
        return DNS_PARSE_DROP;

    /* The first question, so that even an error reply can echo it. */
    size_t pos = DNS_HDR_LEN;
    size_t nl;
    if (dns_name_decode(buf, len, &pos, q->qname, &nl) == 0 && len - pos >= 4) {
        q->qname_len = (uint8_t)nl;
        q->qtype = rd16(buf + pos);
        q->qclass = rd16(buf + pos + 2);
        pos += 4;
        q->question_end = pos;
        q->has_question = true;
    } else {
        memset(q->qname, 0, sizeof(q->qname));
    }
    if (DNS_OPCODE(q->hdr.flags) != DNS_OP_QUERY)
        return DNS_PARSE_NOTIMP;
    if (!q->has_question || q->hdr.qdcount > 1)
        return DNS_PARSE_FORMERR;
    if (q->hdr.ancount != 0 || q->hdr.nscount != 0)
        return DNS_PARSE_FORMERR;

    for (unsigned i = 0; i < q->hdr.arcount; i++) {
        uint8_t owner[DNS_NAME_MAX];
        size_t owner_len;
        uint16_t type, klass, rdlen;
        uint32_t ttl;
        if (rr_head(buf, len, &pos, owner, &owner_len, &type, &klass, &ttl, &rdlen) != 0)
            return DNS_PARSE_FORMERR;
        if (type == DNS_T_OPT) {
            /* RFC 6891 6.1.1: at most one OPT, owned by the root. */
            if (q->has_edns || owner_len != 1)
                return DNS_PARSE_FORMERR;
            if (parse_opt(buf + pos, rdlen, klass, ttl, q) != 0)
                return DNS_PARSE_FORMERR;
        }
        pos += rdlen;
    }
    /* Whatever follows the last counted record is ignored. */
    if (q->has_edns && q->edns_version > 0)
        return DNS_PARSE_BADVERS;
    return DNS_PARSE_OK;
}

/* ---- building ---- */

void dns_wbuf_init(struct dns_wbuf *w, uint8_t *buf, size_t cap)
{
    w->buf = buf;
    w->len = 0;
    w->cap = buf != NULL ? cap : 0;
    w->overflow = false;
    w->nnames = 0;
}

/* True if n more bytes fit; otherwise marks the overflow. */
static bool room(struct dns_wbuf *w, size_t n)
{
    if (w->len > w->cap || n > w->cap - w->len) {
        w->overflow = true;
        return false;
    }
    return true;
}

int dns_wbuf_u8(struct dns_wbuf *w, uint8_t v)
{
    if (!room(w, 1))
        return SK_ENOSPACE;
    w->buf[w->len++] = v;
    return 0;
}

int dns_wbuf_u16(struct dns_wbuf *w, uint16_t v)
{
    if (!room(w, 2))
        return SK_ENOSPACE;
    w->buf[w->len++] = (uint8_t)(v >> 8);
    w->buf[w->len++] = (uint8_t)v;
    return 0;
}

int dns_wbuf_u32(struct dns_wbuf *w, uint32_t v)
{
    if (!room(w, 4))
        return SK_ENOSPACE;
    for (int s = 24; s >= 0; s -= 8)
        w->buf[w->len++] = (uint8_t)(v >> s);
    return 0;
}

int dns_wbuf_bytes(struct dns_wbuf *w, const void *p, size_t n)
{
    if (!room(w, n))
        return SK_ENOSPACE;
    if (n > 0)
        memcpy(w->buf + w->len, p, n);
    w->len += n;
    return 0;
}

void dns_wbuf_patch_u16(struct dns_wbuf *w, size_t off, uint16_t v)
{
    if (off > w->len || w->len - off < 2)
        return;
    w->buf[off] = (uint8_t)(v >> 8);
    w->buf[off + 1] = (uint8_t)v;
}

/* Also clears the overflow mark: after a rollback the message is again
 * exactly what was written up to len. */
void dns_wbuf_truncate(struct dns_wbuf *w, size_t len)
{
    if (len < w->len)
        w->len = len;
    w->overflow = false;
    int k = 0;
    for (int i = 0; i < w->nnames; i++)
        if (w->names[i] < w->len)
            w->names[k++] = w->names[i];
    w->nnames = k;
}

static void remember(struct dns_wbuf *w, size_t off)
{
    if (off <= PTR_OFF_MAX && w->nnames >= 0 && w->nnames < DNS_WBUF_COMPRESS_MAX)
        w->names[w->nnames++] = (uint16_t)off;
}

static bool label_equal(const uint8_t *a, const uint8_t *b)
{
    if (a[0] != b[0])
        return false;
    for (size_t i = 1; i <= a[0]; i++)
        if (lower(a[i]) != lower(b[i]))
            return false;
    return true;
}

/* Writes name[0..len) as its first `keep` labels followed by a pointer to
 * ptr, or whole when keep covers every label. Nothing is written when it
 * does not fit. */
static int put_name(struct dns_wbuf *w, const uint8_t *name, size_t prefix, bool with_ptr,
                    size_t ptr)
{
    size_t need = prefix + (with_ptr ? 2 : 0);
    if (!room(w, need))
        return SK_ENOSPACE;
    size_t start = w->len;
    memcpy(w->buf + w->len, name, prefix);
    w->len += prefix;
    if (with_ptr) {
        w->buf[w->len++] = (uint8_t)(0xc0 | ptr >> 8);
        w->buf[w->len++] = (uint8_t)ptr;
    }
    /* A name made of nothing but a pointer (or the root) adds no target. */
    if (prefix > 0 && name[0] != 0)
        remember(w, start);
    return 0;
}

int dns_wbuf_name_raw(struct dns_wbuf *w, const uint8_t *name, size_t len)
{
    uint8_t offs[DNS_LABELS_MAX];
    if (dns_name_label_offsets(name, len, offs) < 0) {
        w->overflow = true; /* the message would be incomplete: treat it like no room */
        return SK_EINVAL;
    }
    return put_name(w, name, len, false, 0);
}

int dns_wbuf_name(struct dns_wbuf *w, const uint8_t *name, size_t len)
{
    uint8_t offs[DNS_LABELS_MAX];
    int n = dns_name_label_offsets(name, len, offs);
    if (n < 0) {
        w->overflow = true;
        return SK_EINVAL;
    }
    /* Find the longest suffix of name, in whole labels, that some earlier
     * name also ends with, at a label an offset below 0x4000 can reach. */
    int best = 0;
    size_t best_at = 0;
    for (int t = 0; t < w->nnames && best < n; t++) {
        uint8_t tn[DNS_NAME_MAX];
        uint8_t toffs[DNS_LABELS_MAX];
        size_t at[DNS_LABELS_MAX];
        size_t tlen, p = w->names[t];
        int tl;
        if (name_decode(w->buf, w->len, &p, tn, &tlen, at, &tl) != 0)
            continue;
        if (dns_name_label_offsets(tn, tlen, toffs) != tl)
            continue;
        int k = 0;
        while (k < n && k < tl && label_equal(name + offs[n - 1 - k], tn + toffs[tl - 1 - k]))
            k++;
        while (k > 0 && at[tl - k] > PTR_OFF_MAX)
            k--;
        if (k > best) {
            best = k;
            best_at = at[tl - k];
        }
    }
    if (best == 0)
        return put_name(w, name, len, false, 0);
    return put_name(w, name, offs[n - best], true, best_at);
}
