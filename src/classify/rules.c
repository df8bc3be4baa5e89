/* classify/rules.c -- match a contact against the loaded rules: the
 * per-thread scratch, field access, condition evaluation, the default
 * replies and the HTTP reply head.
 *
 * rules_classify() walks the rules in file order and stops at the first
 * whose conditions all hold; within a rule the loader has put cheap
 * conditions (port, transport, proto, len) before byte patterns, exact
 * strings and regexes, so most rules are rejected after an integer
 * compare. Nothing here writes to the rules: every mutable byte of a call
 * is in the caller's scratch and result. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "classify/rules_internal.h"
#include "core/err.h"
#include "core/xalloc.h"

#define JIT_STACK_START (32 * 1024)
#define JIT_STACK_MAX   (512 * 1024)

/* ---- the rules object ---- */

void rules_free(struct rules *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->n; i++)
        rules__rule_free(&r->rules[i]);
    free(r->rules);
    free(r->quick);
    free(r->path);
    free(r);
}

size_t rules_count(const struct rules *r)
{
    return r == NULL ? 0 : r->n;
}

const char *rules_rule_name(const struct rules *r, size_t i)
{
    return r != NULL && i < r->n ? r->rules[i].name : NULL;
}

const char *rules_rule_family(const struct rules *r, size_t i)
{
    return r != NULL && i < r->n ? r->rules[i].family : NULL;
}

bool rules_jit(const struct rules *r)
{
    return r != NULL && r->jit;
}

void rules__index(struct rules *r)
{
    r->quick = xcalloc(r->n ? r->n : 1, sizeof(*r->quick));
    for (size_t i = 0; i < r->n; i++) {
        const struct rules_rule *ru = &r->rules[i];
        struct rules_quick *q = &r->quick[i];
        q->transport = RT_TCP | RT_UDP;
        q->proto = RP_HTTP | RP_TLS | RP_RAW | RP_SILENT;
        q->port_lo = 0;
        q->port_hi = 65535;
        for (uint16_t k = 0; k < ru->n_conds; k++) {
            const struct rules_cond *cd = &ru->conds[k];
            uint8_t set = cd->negate ? (uint8_t)~cd->set : cd->set;
            if (cd->field == RF_TRANSPORT)
                q->transport &= set;
            else if (cd->field == RF_PROTO)
                q->proto &= set;
            if (cd->field != RF_PORT || cd->negate || cd->n_ranges == 0)
                continue;
            /* The hull of the ranges: a port outside it cannot match. */
            uint32_t lo = 65535, hi = 0;
            for (uint16_t j = 0; j < cd->n_ranges; j++) {
                lo = cd->ranges[j].lo < lo ? cd->ranges[j].lo : lo;
                hi = cd->ranges[j].hi > hi ? cd->ranges[j].hi : hi;
            }
            q->port_lo = lo > q->port_lo ? (uint16_t)lo : q->port_lo;
            q->port_hi = hi < q->port_hi ? (uint16_t)hi : q->port_hi;
        }
    }
}

/* ---- scratch ---- */

static void pcre2_oom(void)
{
    fprintf(stderr, "sinkhole: out of memory allocating regex match state\n");
    abort();
}

struct rules_scratch *rules_scratch_new(void)
{
    struct rules_scratch *s = xcalloc(1, sizeof(*s));
    s->md = pcre2_match_data_create(RULES_GROUPS, NULL);
    s->mctx = pcre2_match_context_create(NULL);
    if (s->md == NULL || s->mctx == NULL)
        pcre2_oom();
    /* A JIT stack of our own: the default one (32 KiB on the machine
     * stack) is too small for some patterns, and this one is per thread
     * because the scratch is. NULL when the library has no JIT. */
    s->jit = pcre2_jit_stack_create(JIT_STACK_START, JIT_STACK_MAX, NULL);
    if (s->jit != NULL)
        pcre2_jit_stack_assign(s->mctx, NULL, s->jit);
    return s;
}

void rules_scratch_free(struct rules_scratch *s)
{
    if (s == NULL)
        return;
    pcre2_match_data_free(s->md);
    pcre2_match_context_free(s->mctx);
    pcre2_jit_stack_free(s->jit);
    free(s);
}

uint64_t rules_scratch_limit_hits(const struct rules_scratch *s)
{
    return s->limit_hits;
}

/* ---- fields ---- */

static bool span(const struct rules_input *in, struct http_span sp, const uint8_t **p, size_t *len)
{
    *p = in->http_buf + sp.off;
    *len = sp.len;
    return true;
}

static const char *tls_version_name(uint16_t v, char *buf, size_t cap)
{
    switch (v) {
    case 0x0300:
        return "ssl3";
    case 0x0301:
        return "1.0";
    case 0x0302:
        return "1.1";
    case 0x0303:
        return "1.2";
    case 0x0304:
        return "1.3";
    default:
        snprintf(buf, cap, "0x%04x", v);
        return buf;
    }
}

bool rules__field_next(const struct rules_input *in, struct rules_scratch *s, uint8_t field,
                       const char *hname, size_t *iter, const uint8_t **p, size_t *len)
{
    const struct http_request *h = in->http_buf != NULL ? in->http : NULL;
    const struct tls_hello *t = in->tls;
    /* Multi-valued fields keep their position in *iter; the others give
     * one value, the first time. */
    if (field == RF_HTTP_HEADER) {
        if (h == NULL)
            return false;
        size_t hlen = strlen(hname);
        for (size_t i = *iter; i < h->n_headers && i < HTTP_HEADERS_MAX; i++) {
            if (h->headers[i].name.len == hlen &&
                http_span_ieq(in->http_buf, h->headers[i].name, hname)) {
                *iter = i + 1;
                return span(in, h->headers[i].value, p, len);
            }
        }
        *iter = HTTP_HEADERS_MAX;
        return false;
    }
    if (field == RF_TLS_ALPN) {
        /* Wire form: length-prefixed names; *iter is one past the offset. */
        if (t == NULL || !t->has_alpn)
            return false;
        size_t off = *iter;
        size_t end = t->alpn_len < TLS_ALPN_MAX ? t->alpn_len : TLS_ALPN_MAX;
        if (off >= end || off + 1 + t->alpn[off] > end)
            return false;
        *p = t->alpn + off + 1;
        *len = t->alpn[off];
        *iter = off + 1 + t->alpn[off];
        return true;
    }
    if (*iter != 0)
        return false;
    *iter = 1;
    switch (field) {
    case RF_BYTES:
        if (in->data == NULL)
            return false;
        *p = in->data;
        *len = in->len;
        return true;
    case RF_HTTP_METHOD:
        return h != NULL && span(in, h->method, p, len);
    case RF_HTTP_URL:
        return h != NULL && span(in, h->target, p, len);
    case RF_HTTP_PATH:
    case RF_HTTP_QUERY: {
        if (h == NULL)
            return false;
        const uint8_t *tp = in->http_buf + h->target.off;
        const uint8_t *q = memchr(tp, '?', h->target.len);
        if (field == RF_HTTP_PATH) {
            *p = tp;
            *len = q ? (size_t)(q - tp) : h->target.len;
            return true;
        }
        if (q == NULL)
            return false;
        *p = q + 1;
        *len = h->target.len - (size_t)(q + 1 - tp);
        return true;
    }
    case RF_HTTP_HOST:
        return h != NULL && h->has_host && span(in, h->host, p, len);
    case RF_HTTP_VERSION:
        if (h == NULL)
            return false;
        snprintf(s->ver, sizeof(s->ver), "%u.%u", h->version_major, h->version_minor);
        *p = (const uint8_t *)s->ver;
        *len = strlen(s->ver);
        return true;
    case RF_HTTP_BODY:
        if (in->body == NULL)
            return false;
        *p = in->body;
        *len = in->body_len;
        return true;
    case RF_TLS_SNI:
        if (t == NULL || !t->has_sni || t->sni_len == 0)
            return false;
        *p = (const uint8_t *)t->sni;
        *len = t->sni_len <= TLS_SNI_MAX ? t->sni_len : TLS_SNI_MAX;
        return true;
    case RF_TLS_VERSION: {
        if (t == NULL)
            return false;
        const char *v = tls_version_name(t->version, s->ver, sizeof(s->ver));
        *p = (const uint8_t *)v;
        *len = strlen(v);
        return true;
    }
    case RF_TLS_JA3: {
        const char *v = in->ja3;
        if (v == NULL && t != NULL) {
            if (!s->ja3_done)
                s->ja3_done = tls_ja3_hash(t, s->ja3) == 0 ? 1 : 2;
            v = s->ja3_done == 1 ? s->ja3 : NULL;
        }
        if (v == NULL)
            return false;
        *p = (const uint8_t *)v;
        *len = strlen(v);
        return true;
    }
    case RF_TLS_JA4: {
        const char *v = in->ja4;
        if (v == NULL && t != NULL) {
            unsigned flags = in->transport == RULES_UDP ? TLS_JA4_QUIC : 0;
            if (!s->ja4_done)
                s->ja4_done = tls_ja4(t, flags, s->ja4, sizeof(s->ja4)) >= 0 ? 1 : 2;
            v = s->ja4_done == 1 ? s->ja4 : NULL;
        }
        if (v == NULL)
            return false;
        *p = (const uint8_t *)v;
        *len = strlen(v);
        return true;
    }
    default:
        return false;
    }
}

int rules__regex(struct rules_scratch *s, const pcre2_code *re, const uint8_t *p, size_t len)
{
    /* PCRE2 before 10.43 refuses a NULL subject even when it is empty. */
    static const uint8_t empty[1];
    if (p == NULL)
        p = empty;
    /* pcre2_jit_match() skips checks pcre2_match() makes on every call
     * (about half the cost of a short failed match); only valid when the
     * pattern was JIT-compiled, which use_jit says of all of them. */
    int rc = s->use_jit ? pcre2_jit_match(re, p, len, 0, 0, s->md, s->mctx)
                        : pcre2_match(re, p, len, 0, 0, s->md, s->mctx);
    if (rc >= 0)
        return 1; /* 0: matched, with more groups than the match data holds */
    if (rc == PCRE2_ERROR_NOMATCH || rc == PCRE2_ERROR_PARTIAL)
        return 0;
    /* PCRE2_ERROR_MATCHLIMIT, _DEPTHLIMIT, _HEAPLIMIT, _JIT_STACKLIMIT, or
     * anything else: the question was not answered. */
    return -1;
}

/* ---- conditions ---- */

static bool in_ranges(const struct rules_cond *cd, uint64_t v)
{
    for (uint16_t i = 0; i < cd->n_ranges; i++)
        if (v >= cd->ranges[i].lo && v <= cd->ranges[i].hi)
            return true;
    return false;
}

static uint8_t proto_bit(uint8_t proto)
{
    switch (proto) {
    case SNIFF_HTTP:
        return RP_HTTP;
    case SNIFF_TLS:
        return RP_TLS;
    case SNIFF_NEED_MORE:
        return RP_SILENT;
    default:
        return RP_RAW;
    }
}

static bool equal(const struct rules_str *v, const uint8_t *p, size_t len, bool icase)
{
    if (v->len != len)
        return false;
    if (!icase)
        return memcmp(v->p, p, len) == 0;
    for (size_t i = 0; i < len; i++) {
        uint8_t ch = p[i] >= 'A' && p[i] <= 'Z' ? (uint8_t)(p[i] + 32) : p[i];
        if (ch != v->p[i])
            return false;
    }
    return true;
}

static bool field_icase(uint8_t field)
{
    return field == RF_HTTP_HOST || field == RF_TLS_SNI || field == RF_TLS_JA3 ||
           field == RF_TLS_JA4;
}

/* 1: the condition holds; 0: it does not; -1: a regex run hit a limit,
 * which fails the condition whatever its operator. */
static int eval(const struct rules_cond *cd, const struct rules_input *in, struct rules_scratch *s)
{
    bool hit = false;
    switch (cd->field) {
    case RF_PORT:
        hit = in_ranges(cd, in->port);
        break;
    case RF_LEN:
        hit = in_ranges(cd, in->len);
        break;
    case RF_TRANSPORT: {
        uint8_t bit = in->transport == RULES_TCP ? RT_TCP : in->transport == RULES_UDP ? RT_UDP : 0;
        hit = (cd->set & bit) != 0;
        break;
    }
    case RF_PROTO:
        hit = (cd->set & proto_bit(in->proto)) != 0;
        break;
    case RF_BYTES_AT:
        if (in->data != NULL && cd->off <= in->len && cd->pat_len <= in->len - cd->off) {
            const uint8_t *d = in->data + cd->off;
            hit = true;
            for (size_t i = 0; i < cd->pat_len && hit; i++)
                hit = (d[i] & cd->mask[i]) == cd->pat[i];
        }
        break;
    default: {
        size_t iter = 0;
        const uint8_t *p;
        size_t len;
        bool icase = field_icase(cd->field);
        while (!hit && rules__field_next(in, s, cd->field, cd->hname, &iter, &p, &len)) {
            if (cd->op == ROP_RE) {
                int rc = rules__regex(s, cd->re, p, len);
                if (rc < 0)
                    return -1;
                hit = rc == 1;
            } else {
                for (uint16_t i = 0; i < cd->n_vals && !hit; i++)
                    hit = equal(&cd->vals[i], p, len, icase);
            }
        }
        break;
    }
    }
    return hit != cd->negate;
}

/* ---- replies ---- */

static const struct rules_reply reply_close = { .action = RULES_CLOSE };
static const struct rules_reply reply_wait = {
    .action = RULES_SEND, .then = RULES_THEN_READ, .bytes = (const uint8_t *)"", .len = 0
};
static const struct rules_reply reply_http = {
    .action = RULES_HTTP,
    .then = RULES_THEN_READ,
    .status = 200,
    .reason = "OK",
    .headers = "Content-Type: text/plain\r\n",
    .headers_len = sizeof("Content-Type: text/plain\r\n") - 1,
    .body = (const uint8_t *)"",
    .body_len = 0,
};

const struct rules_reply *rules_default_reply(const struct rules_input *in)
{
    if (in->transport == RULES_UDP)
        return &reply_close;
    if (in->proto == SNIFF_HTTP || in->http != NULL)
        return &reply_http;
    if (in->proto == SNIFF_NEED_MORE)
        return &reply_wait;
    return &reply_close;
}

int rules_http_head(const struct rules_reply *rp, bool keep_alive, char *out, size_t cap)
{
    if (rp->action != RULES_HTTP || rp->reason == NULL || rp->headers == NULL)
        return SK_EINVAL;
    const char *conn = keep_alive && rp->then == RULES_THEN_READ ? "keep-alive" : "close";
    int n;
    if (rp->status == 204 || rp->status == 304)
        n = snprintf(out, cap, "HTTP/1.1 %u %s\r\n%sConnection: %s\r\n\r\n", rp->status, rp->reason,
                     rp->headers, conn);
    else
        n = snprintf(out, cap, "HTTP/1.1 %u %s\r\n%sContent-Length: %zu\r\nConnection: %s\r\n\r\n",
                     rp->status, rp->reason, rp->headers, rp->body_len, conn);
    if (n < 0 || (size_t)n >= cap)
        return SK_ENOSPACE;
    return n;
}

/* ---- classify ---- */

enum rules_outcome rules_classify(const struct rules *r, const struct rules_input *in,
                                  struct rules_scratch *s, struct rules_result *out)
{
    out->rule = NULL;
    out->rule_index = -1;
    out->family = "";
    out->bot_id[0] = '\0';
    out->bot_id_truncated = false;
    out->limit_hits = 0;
    out->reply_suppressed = false;
    s->ja3_done = s->ja4_done = false;

    const struct rules_rule *match = NULL;
    size_t n = r != NULL ? r->n : 0;
    if (n > 0) {
        pcre2_set_match_limit(s->mctx, r->match_limit);
        pcre2_set_depth_limit(s->mctx, r->depth_limit);
        pcre2_set_heap_limit(s->mctx, r->heap_limit);
    }
    s->use_jit = n > 0 && r->jit;
    uint8_t tbit = in->transport == RULES_TCP ? RT_TCP : in->transport == RULES_UDP ? RT_UDP : 0;
    uint8_t pbit = proto_bit(in->proto);
    for (size_t i = 0; i < n && match == NULL; i++) {
        const struct rules_quick *q = &r->quick[i];
        /* A rule without a transport condition matches any transport,
         * even one that is neither TCP nor UDP. */
        if ((q->transport != (RT_TCP | RT_UDP) && !(q->transport & tbit)) || !(q->proto & pbit) ||
            in->port < q->port_lo || in->port > q->port_hi)
            continue;
        const struct rules_rule *ru = &r->rules[i];
        bool ok = true;
        for (uint16_t k = 0; k < ru->n_conds && ok; k++) {
            int v = eval(&ru->conds[k], in, s);
            if (v < 0)
                out->limit_hits++;
            ok = v == 1;
        }
        if (ok) {
            match = ru;
            out->rule_index = (int32_t)i;
        }
    }
    const struct rules_reply *rp = rules_default_reply(in);
    if (match != NULL) {
        out->rule = match->name;
        out->family = match->family;
        out->limit_hits += rules__botid(match, in, s, out);
        if (match->has_reply)
            rp = &match->reply;
    }
    out->reply = *rp;
    /* A datagram is answered by at most one datagram no longer than it, so
     * the sinkhole cannot be used to amplify traffic at a forged source. */
    if (in->transport == RULES_UDP && rp->action != RULES_CLOSE &&
        (rp->action != RULES_SEND || rp->len > in->len)) {
        out->reply = reply_close;
        out->reply_suppressed = true;
    }
    s->limit_hits += out->limit_hits;
    return match != NULL ? RULES_MATCHED : RULES_DEFAULT;
}
