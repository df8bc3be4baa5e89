/* dns/responder.c -- build the sinkhole's authoritative answers. */
#include "dns/responder.h"

#include <string.h>

#include "core/config.h"

#define OPT_RR_LEN 11 /* root name, type, class, ttl, rdlen */

struct ctx {
    const struct sk_config *cfg;
    const struct cfg_answers *ans;
    const struct dns_query *q;
    struct dns_wbuf *w;
    uint16_t ancount, nscount;
    size_t apex_off; /* offset of the seized apex in the message */
};

/* A compression pointer to the name that starts at off in the message.
 * The question name sits at DNS_HDR_LEN, so the query name is 0xc00c and
 * the apex (a suffix of it) a pointer into it: the hot path writes owners
 * without searching for a compression target. */
static int put_ptr(struct dns_wbuf *w, size_t off)
{
    return dns_wbuf_u16(w, (uint16_t)(0xc000u | off));
}

/* Append one RR owned by the name at owner_off; on overflow the buffer is
 * rolled back to before it. */
static int put_rr(struct ctx *c, size_t owner_off, uint16_t type, uint32_t ttl, const void *rdata,
                  size_t rdlen)
{
    size_t mark = c->w->len;
    put_ptr(c->w, owner_off);
    dns_wbuf_u16(c->w, type);
    dns_wbuf_u16(c->w, DNS_C_IN);
    dns_wbuf_u32(c->w, ttl);
    dns_wbuf_u16(c->w, (uint16_t)rdlen);
    dns_wbuf_bytes(c->w, rdata, rdlen);
    if (c->w->overflow) {
        dns_wbuf_truncate(c->w, mark);
        return -1;
    }
    return 0;
}

static int put_soa(struct ctx *c, uint32_t ttl)
{
    const struct sk_config *cfg = c->cfg;
    size_t mark = c->w->len;
    put_ptr(c->w, c->apex_off);
    dns_wbuf_u16(c->w, DNS_T_SOA);
    dns_wbuf_u16(c->w, DNS_C_IN);
    dns_wbuf_u32(c->w, ttl);
    size_t rdlen_at = c->w->len;
    dns_wbuf_u16(c->w, 0);
    size_t rd_start = c->w->len;
    dns_wbuf_name(c->w, cfg->soa_mname, cfg->soa_mname_len);
    dns_wbuf_name(c->w, cfg->soa_rname, cfg->soa_rname_len);
    dns_wbuf_u32(c->w, cfg->soa_serial);
    dns_wbuf_u32(c->w, cfg->soa_refresh);
    dns_wbuf_u32(c->w, cfg->soa_retry);
    dns_wbuf_u32(c->w, cfg->soa_expire);
    dns_wbuf_u32(c->w, cfg->soa_minimum);
    if (c->w->overflow) {
        dns_wbuf_truncate(c->w, mark);
        return -1;
    }
    dns_wbuf_patch_u16(c->w, rdlen_at, (uint16_t)(c->w->len - rd_start));
    return 0;
}

static int put_ns(struct ctx *c)
{
    const struct sk_config *cfg = c->cfg;
    for (int i = 0; i < cfg->n_ns; i++) {
        size_t mark = c->w->len;
        put_ptr(c->w, c->apex_off);
        dns_wbuf_u16(c->w, DNS_T_NS);
        dns_wbuf_u16(c->w, DNS_C_IN);
        dns_wbuf_u32(c->w, cfg->ttl);
        size_t rdlen_at = c->w->len;
        dns_wbuf_u16(c->w, 0);
        size_t rd_start = c->w->len;
        dns_wbuf_name(c->w, cfg->ns[i], cfg->ns_len[i]);
        if (c->w->overflow) {
            dns_wbuf_truncate(c->w, mark);
            return -1;
        }
        dns_wbuf_patch_u16(c->w, rdlen_at, (uint16_t)(c->w->len - rd_start));
        c->ancount++;
    }
    return 0;
}

static int put_addrs(struct ctx *c, uint16_t type)
{
    int n = type == DNS_T_A ? c->ans->n_a : c->ans->n_aaaa;
    for (int i = 0; i < n; i++) {
        const void *rd =
            type == DNS_T_A ? (const void *)c->ans->a[i] : (const void *)c->ans->aaaa[i];
        if (put_rr(c, DNS_HDR_LEN, type, c->cfg->ttl, rd, type == DNS_T_A ? 4 : 16) != 0)
            return -1;
        c->ancount++;
    }
    return 0;
}

static uint16_t min_u32(uint32_t a, uint32_t b)
{
    return (uint16_t)(a < b ? a : b);
}

static void put_opt(struct dns_wbuf *w, const struct sk_config *cfg, const struct dns_query *q,
                    uint16_t rcode)
{
    uint32_t ttl = (uint32_t)(rcode >> 4) << 24; /* extended rcode, version 0 */
    if (q->edns_do)
        ttl |= 0x8000;
    dns_wbuf_u8(w, 0);
    dns_wbuf_u16(w, DNS_T_OPT);
    dns_wbuf_u16(w, cfg->max_udp_size);
    dns_wbuf_u32(w, ttl);
    dns_wbuf_u16(w, 0);
}

enum dns_result dns_respond(const struct dns_zones *z, const uint8_t *pkt, size_t len, bool tcp,
                            struct dns_query *q, uint8_t *out, size_t outcap, size_t *outlen,
                            struct dns_response_meta *m)
{
    const struct sk_config *cfg = z->cfg;
    memset(m, 0, sizeof(*m));
    m->list = -1;
    m->rrl_class = DNS_RRL_ERROR;
    *outlen = 0;
    q->has_question = q->has_edns = q->has_ecs = false;

    enum dns_parse_status st = dns_parse_query(pkt, len, q);
    if (st == DNS_PARSE_DROP)
        return DNS_DROP;

    size_t limit;
    if (tcp)
        limit = 65535;
    else if (q->has_edns && st != DNS_PARSE_FORMERR)
        limit = q->edns_udp_size < 512 ? 512 : min_u32(q->edns_udp_size, cfg->max_udp_size);
    else
        limit = 512;
    if (limit > outcap)
        limit = outcap;
    bool with_opt = q->has_edns && st != DNS_PARSE_FORMERR;

    struct dns_wbuf w;
    dns_wbuf_init(&w, out, with_opt ? limit - OPT_RR_LEN : limit);
    uint16_t flags = DNS_QR | (uint16_t)(q->hdr.flags & (0x7800 | DNS_RD | DNS_CD));
    w.len = DNS_HDR_LEN;
    uint16_t qdcount = 0;
    if (q->has_question) {
        dns_wbuf_name_raw(&w, q->qname, q->qname_len);
        dns_wbuf_u16(&w, q->qtype);
        dns_wbuf_u16(&w, q->qclass);
        if (w.overflow) /* cannot happen: the question came in a smaller packet */
            return DNS_DROP;
        qdcount = 1;
    }
    size_t question_end = w.len;

    struct ctx c = { .cfg = cfg, .q = q, .w = &w };
    uint16_t rcode = DNS_RC_NOERROR;
    bool tc = false;

    switch (st) {
    case DNS_PARSE_FORMERR:
        rcode = DNS_RC_FORMERR;
        break;
    case DNS_PARSE_NOTIMP:
        rcode = DNS_RC_NOTIMP;
        break;
    case DNS_PARSE_BADVERS:
        rcode = DNS_RC_BADVERS;
        break;
    default: {
        struct seized_match sm;
        if (q->qclass != DNS_C_IN || q->qtype == DNS_T_AXFR || q->qtype == DNS_T_IXFR) {
            rcode = DNS_RC_REFUSED;
            break;
        }
        if (!seized_lookup(z->matcher, q->qname, q->qname_len, &sm)) {
            if (cfg->not_seized == CFG_NOT_SEIZED_NXDOMAIN) {
                rcode = DNS_RC_NXDOMAIN;
                m->rrl_class = DNS_RRL_NXDOMAIN;
            } else {
                rcode = DNS_RC_REFUSED;
            }
            break;
        }
        if (q->qtype == DNS_T_DS && sm.apex_off == 0 && q->qname_len > 1) {
            /* DS lives on the parent side of a zone cut (RFC 4035
             * 3.1.4.1): if the parent is seized too, answer from it. */
            size_t skip = 1u + q->qname[0];
            struct seized_match pm;
            if (seized_lookup(z->matcher, q->qname + skip, q->qname_len - skip, &pm)) {
                pm.apex_off = (uint8_t)(pm.apex_off + skip);
                sm = pm;
            }
        }
        const struct cfg_seized *list = &cfg->seized[sm.list_id];
        m->list = sm.list_id;
        m->apex_off = sm.apex_off;
        m->apex_len = sm.apex_len;
        c.ans = &list->answers;
        c.apex_off = DNS_HDR_LEN + (size_t)sm.apex_off;
        bool apex = sm.apex_off == 0;
        flags |= DNS_AA;
        m->aa = true;

        uint16_t qt = q->qtype;
        if (qt == DNS_T_ANY) {
            /* RFC 8482 4.2: one RRset, the addresses first. */
            if (c.ans->n_a)
                qt = DNS_T_A;
            else if (c.ans->n_aaaa)
                qt = DNS_T_AAAA;
            else if (apex)
                qt = DNS_T_SOA;
        }
        int rc = 0;
        if (qt == DNS_T_A && c.ans->n_a)
            rc = put_addrs(&c, DNS_T_A);
        else if (qt == DNS_T_AAAA && c.ans->n_aaaa)
            rc = put_addrs(&c, DNS_T_AAAA);
        else if (qt == DNS_T_SOA && apex) {
            rc = put_soa(&c, cfg->ttl);
            if (rc == 0)
                c.ancount++;
        } else if (qt == DNS_T_NS && apex)
            rc = put_ns(&c);
        if (rc != 0) {
            /* The answer does not fit: send the question with TC. */
            dns_wbuf_truncate(&w, question_end);
            c.ancount = 0;
            tc = true;
        } else if (c.ancount == 0) {
            /* No data: the SOA in authority, with the negative TTL. */
            m->rrl_class = DNS_RRL_NODATA;
            if (put_soa(&c, cfg->ttl < cfg->soa_minimum ? cfg->ttl : cfg->soa_minimum) != 0)
                tc = true;
            else
                c.nscount = 1;
        } else {
            m->rrl_class = q->qtype == DNS_T_ANY ? DNS_RRL_ANY
                           : apex                ? DNS_RRL_POSITIVE
                                                 : DNS_RRL_WILDCARD;
        }
        break;
    }
    }

    if (with_opt) {
        w.cap += OPT_RR_LEN;
        put_opt(&w, cfg, q, rcode);
    }
    if (tc)
        flags |= DNS_TC;
    flags |= rcode & 0xf;
    struct dns_hdr h = { .id = q->hdr.id,
                         .flags = flags,
                         .qdcount = qdcount,
                         .ancount = c.ancount,
                         .nscount = c.nscount,
                         .arcount = with_opt ? 1 : 0 };
    dns_write_header(out, &h);
    *outlen = w.len;
    m->rcode = rcode;
    m->ancount = c.ancount;
    m->tc = tc;
    return DNS_REPLY;
}

size_t dns_respond_slip(const uint8_t *reply, size_t reply_len, uint8_t *out, size_t cap)
{
    /* Keep header and question; drop every section; set TC. The question
     * ends where the first RR would start: find it by re-parsing. */
    if (reply_len < DNS_HDR_LEN)
        return 0;
    struct dns_hdr h;
    dns_parse_header(reply, reply_len, &h);
    size_t pos = DNS_HDR_LEN;
    if (h.qdcount) {
        uint8_t name[DNS_NAME_MAX];
        size_t nl;
        if (dns_name_decode(reply, reply_len, &pos, name, &nl) != 0 || pos + 4 > reply_len)
            return 0;
        pos += 4;
    }
    if (cap < pos)
        return 0;
    memcpy(out, reply, pos);
    h.flags |= DNS_TC;
    h.flags &= (uint16_t)~DNS_AA;
    h.ancount = h.nscount = h.arcount = 0;
    dns_write_header(out, &h);
    return pos;
}
