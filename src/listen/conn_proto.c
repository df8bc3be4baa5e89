/* listen/conn_proto.c -- what a TCP connection's bytes mean: the PROXY
 * header, sniffing, HTTP requests and their bodies, the TLS ClientHello
 * (and the start of termination), raw captures and silent clients; the
 * classification of each contact, its reply and its event.
 *
 * listen__process() runs the state machine over bytes conn.c hands it,
 * in place, and says how many it consumed; what a unit (a request head, a
 * ClientHello) has not completed stays with the caller. Replies are copied
 * out of the rules at once (listen__emit), so nothing here keeps a
 * pointer into a struct rules past the call. Events of HTTP requests are
 * written as each request is answered; raw and TLS events at close
 * (listen__event_close). */
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "listen/listen_internal.h"
#include "listen/proxy.h"
#include "proto/sniff.h"

#define REPLY_HEAD_MAX 8448 /* rules: headers up to 4096 bytes, reason and status line */

static const char continue_100[] = "HTTP/1.1 100 Continue\r\n\r\n";

/* ---- small helpers ---- */

uint64_t listen__wall(struct listen_worker *w, uint64_t mono)
{
    if (w->now_wall == 0)
        w->now_wall = sk_clock_now_us();
    uint64_t back = w->now_mono > mono ? w->now_mono - mono : 0;
    return w->now_wall > back ? w->now_wall - back : 0;
}

static void put_str(char *dst, size_t cap, const char *src)
{
    size_t n = src ? strnlen(src, cap - 1) : 0;
    memcpy(dst, src ? src : "", n);
    dst[n] = '\0';
}

struct conn_info *listen__info(struct conn *c)
{
    if (c->info == NULL)
        c->info = xcalloc(1, sizeof(*c->info));
    return c->info;
}

static uint32_t capture_cap(const struct lstate *l)
{
    uint32_t cap = l->cfg->capture_bytes;
    return cap < SK_EV_CAPTURE_MAX ? cap : SK_EV_CAPTURE_MAX;
}

void listen__capture(struct conn *c, const uint8_t *p, size_t n)
{
    if (n == 0 || (c->evk != EVK_RAW && !(c->bits & CB_INNER_RAW)))
        return;
    const struct lstate *l = conn_ls(c);
    uint32_t limit = capture_cap(l);
    struct conn_info *info = listen__info(c);
    if (info->cap_len >= limit) {
        if (l->cfg->capture_bytes > limit)
            c->flags |= SK_CONNF_TRUNC; /* cut to the event's cap */
        return;
    }
    size_t take = n < limit - info->cap_len ? n : limit - info->cap_len;
    if (info->cap_len + take > info->cap_size) {
        size_t size = (size_t)info->cap_size * 2;
        if (size < info->cap_len + take)
            size = info->cap_len + take;
        if (size < 64)
            size = 64;
        if (size > limit)
            size = limit;
        info->cap = xrealloc(info->cap, size);
        info->cap_size = (uint32_t)size;
    }
    memcpy(info->cap + info->cap_len, p, take);
    info->cap_len += (uint32_t)take;
    if (take < n && l->cfg->capture_bytes > limit)
        c->flags |= SK_CONNF_TRUNC;
}

/* ---- events ---- */

void listen__event_common(struct conn *c, struct sk_event *ev, uint8_t kind, uint64_t ts_mono)
{
    memset(ev, 0, sizeof(*ev));
    ev->ts_us = listen__wall(c->w, ts_mono);
    ev->kind = kind;
    ev->proto = SK_PROTO_TCP;
    ev->src = c->peer;
    ev->dst = c->local;
    ev->proxied_by = c->proxied_by;
    memcpy(ev->list, conn_ls(c)->name, sizeof(ev->list));
}

void listen__append_event(struct listen_worker *w, struct lstate *l, const struct sk_event *ev)
{
    if (ev->kind == SK_EV_HTTP)
        CTR_INC(l->ctr.events_http);
    else if (ev->kind == SK_EV_TLS)
        CTR_INC(l->ctr.events_tls);
    else
        CTR_INC(l->ctr.events_raw);
    if (w->sh->event_cb) {
        w->sh->event_cb(w->sh->event_arg, ev);
        return;
    }
    if (evlog_append(w->q, ev) != 0)
        CTR_INC(l->ctr.events_dropped);
}

static void span_of(struct sk_span *s, const uint8_t *buf, struct http_span sp, uint32_t cap,
                    uint16_t *flags)
{
    s->p = buf + sp.off;
    s->len = sp.len;
    if (s->len > cap) {
        s->len = cap;
        *flags |= SK_CONNF_TRUNC;
    }
}

void listen__http_event(struct sk_event_http *h, const uint8_t *buf, const struct http_request *req,
                        const uint8_t *body, size_t body_len, uint64_t body_total, uint16_t *flags)
{
    memset(h, 0, sizeof(*h));
    span_of(&h->method, buf, req->method, SK_EV_SHORT_MAX, flags);
    span_of(&h->url, buf, req->target, SK_EV_URL_MAX, flags);
    if (req->has_host)
        span_of(&h->host, buf, req->host, SK_EV_SHORT_MAX, flags);
    if (req->has_user_agent)
        span_of(&h->user_agent, buf, req->user_agent, SK_EV_URL_MAX, flags);
    if (req->has_referer)
        span_of(&h->referer, buf, req->referer, SK_EV_URL_MAX, flags);
    if (req->has_content_type)
        span_of(&h->content_type, buf, req->content_type, SK_EV_SHORT_MAX, flags);
    if (body_len > 0) {
        h->body.p = body;
        h->body.len = (uint32_t)(body_len < SK_EV_CAPTURE_MAX ? body_len : SK_EV_CAPTURE_MAX);
        if (body_len > SK_EV_CAPTURE_MAX)
            *flags |= SK_CONNF_TRUNC;
    }
    h->body_len = body_total;
    h->version = (uint8_t)(req->version_major * 10 + req->version_minor);
}

int listen__http_reply_head(const struct rules_reply *rp, bool keep_alive, bool head_request,
                            char *out, size_t cap, bool *with_body)
{
    int n = rules_http_head(rp, keep_alive, out, cap);
    if (n < 0)
        return n;
    *with_body = !head_request && rp->body_len > 0 && rp->status != 204 && rp->status != 304;
    return n;
}

/* listen__http_reply_head() through the worker's cache. */
static int reply_head(struct conn *c, const struct rules_reply *rp, bool keep_alive,
                      bool head_request, char *out, size_t cap, const char **head, bool *with_body)
{
    struct listen_worker *w = c->w;
    struct head_cache *hc = &w->head_cache[keep_alive];
    uint64_t gen = atomic_load_explicit(&w->seen_gen, memory_order_relaxed);
    *with_body = !head_request && rp->body_len > 0 && rp->status != 204 && rp->status != 304;
    if (hc->len && hc->gen == gen && hc->reason == rp->reason && hc->headers == rp->headers &&
        hc->status == rp->status && hc->body_len == rp->body_len && hc->then == rp->then &&
        rp->action == RULES_HTTP) {
        *head = hc->buf;
        return hc->len;
    }
    bool wb;
    int n = listen__http_reply_head(rp, keep_alive, head_request, out, cap, &wb);
    *head = out;
    if (n > 0 && (size_t)n < sizeof(hc->buf)) {
        memcpy(hc->buf, out, (size_t)n);
        hc->len = (uint16_t)n;
        hc->gen = gen;
        hc->reason = rp->reason;
        hc->headers = rp->headers;
        hc->status = rp->status;
        hc->body_len = rp->body_len;
        hc->then = rp->then;
    }
    return n;
}

static void put_class(struct sk_event *ev, const char *family, const char *rule, const char *bot_id)
{
    put_str(ev->family, sizeof(ev->family), family);
    put_str(ev->rule, sizeof(ev->rule), rule);
    put_str(ev->bot_id, sizeof(ev->bot_id), bot_id);
}

static uint64_t since(const struct conn *c, uint64_t t)
{
    return c->w->now_mono > t ? c->w->now_mono - t : 0;
}

/* One http event. */
static void log_request(struct conn *c, const uint8_t *head, const struct http_request *req,
                        const uint8_t *keep, size_t kept, uint64_t total, uint64_t req_bytes,
                        uint64_t t0, const struct rules_result *res, uint16_t status, uint64_t out,
                        uint16_t flags, uint8_t reason)
{
    struct sk_event ev;
    listen__event_common(c, &ev, SK_EV_HTTP, t0);
    put_class(&ev, res->family, res->rule, res->bot_id);
    if (res->bot_id_truncated)
        flags |= SK_CONNF_TRUNC;
    if (c->tls)
        flags |= SK_CONNF_TLS;
    listen__http_event(&ev.u.http, head, req, keep, kept, total, &flags);
    ev.u.http.status = status;
    ev.u.http.request = c->requests;
    ev.flags = flags;
    ev.close_reason = reason;
    ev.bytes_in = req_bytes;
    ev.bytes_out = out;
    /* The clock of the turn would give 0 for a request answered at once. */
    uint64_t now = sk_clock_mono_us();
    ev.duration_us = now > t0 ? now - t0 : 0;
    listen__append_event(c->w, conn_ls(c), &ev);
}

static void raw_event(struct conn *c, uint8_t reason, uint16_t flags)
{
    const struct conn_info *info = c->info;
    uint64_t acc = c->total_node.t;
    bool first = info && info->first_mono;
    struct sk_event ev;
    listen__event_common(c, &ev, SK_EV_RAW, first ? info->first_mono : acc);
    if (info)
        put_class(&ev, info->family, info->rule, info->bot_id);
    ev.flags = (uint16_t)((c->flags & ~(SK_CONNF_TERMINATED | SK_CONNF_KEEPALIVE)) | flags);
    ev.close_reason = reason;
    ev.bytes_in = c->bytes_in;
    ev.bytes_out = c->bytes_out;
    ev.duration_us = since(c, acc);
    if (info && info->cap_len) {
        ev.u.raw.data.p = info->cap;
        ev.u.raw.data.len = info->cap_len;
    }
    ev.u.raw.first_byte_ms =
        first && info->first_mono > acc ? (uint32_t)((info->first_mono - acc) / 1000u) : 0;
    ev.u.raw.sniffed = c->sniffed;
    listen__append_event(c->w, conn_ls(c), &ev);
}

static void tls_event(struct conn *c, uint8_t reason, uint16_t flags)
{
    const struct conn_info *info = c->info;
    uint64_t acc = c->total_node.t;
    bool first = info && info->first_mono;
    struct sk_event ev;
    listen__event_common(c, &ev, SK_EV_TLS, first ? info->first_mono : acc);
    const struct conn_tls *t = info ? info->tls : NULL;
    if (info)
        put_class(&ev, info->family, info->rule, info->bot_id);
    if (t) {
        if (t->sni_len) {
            ev.u.tls.sni.p = t->sni;
            ev.u.tls.sni.len = t->sni_len;
        }
        if (t->alpn_len) {
            ev.u.tls.alpn.p = t->alpn;
            ev.u.tls.alpn.len = t->alpn_len;
        }
        ev.u.tls.version = t->version;
        ev.u.tls.record_version = t->record_version;
        memcpy(ev.u.tls.ja3, t->ja3, sizeof(ev.u.tls.ja3));
        memcpy(ev.u.tls.ja4, t->ja4, sizeof(ev.u.tls.ja4));
    }
    ev.flags = (uint16_t)((c->flags & ~(SK_CONNF_KEEPALIVE | SK_CONNF_TLS)) | flags);
    ev.close_reason = reason;
    ev.bytes_in = c->bytes_in;
    ev.bytes_out = c->bytes_out;
    ev.duration_us = since(c, acc);
    listen__append_event(c->w, conn_ls(c), &ev);
}

/* ---- classification and replies ---- */

static void input_init(struct conn *c, struct rules_input *in, uint8_t proto, const uint8_t *data,
                       size_t len)
{
    memset(in, 0, sizeof(*in));
    in->port = c->local.port;
    in->transport = RULES_TCP;
    in->proto = proto;
    in->data = data;
    in->len = len;
    const struct conn_tls *t = c->info ? c->info->tls : NULL;
    if (t && t->hello) {
        in->tls = t->hello;
        in->ja3 = t->ja3[0] ? t->ja3 : NULL;
        in->ja4 = t->ja4[0] ? t->ja4 : NULL;
    }
}

static void classify(struct conn *c, const struct rules_input *in, struct rules_result *res)
{
    struct lstate *l = conn_ls(c);
    rules_classify(c->w->rules, in, c->w->scratch, res);
    if (res->rule)
        CTR_INC(l->ctr.rules_matched);
    if (res->limit_hits)
        CTR_ADD(l->ctr.rule_limit_hits, res->limit_hits);
}

/* Remember a match for the event written at close. A contact no rule
 * matched keeps what an earlier one (a silent client's banner rule) had. */
static void store_class(struct conn *c, const struct rules_result *res)
{
    if (res->rule == NULL)
        return;
    struct conn_info *info = listen__info(c);
    put_str(info->family, sizeof(info->family), res->family);
    put_str(info->rule, sizeof(info->rule), res->rule);
    put_str(info->bot_id, sizeof(info->bot_id), res->bot_id);
    if (res->bot_id_truncated)
        c->flags |= SK_CONNF_TRUNC;
}

static void tarpit(struct conn *c)
{
    c->state = CS_TARPIT;
    c->flags |= SK_CONNF_TARPIT;
    CTR_INC(conn_ls(c)->ctr.tarpits);
}

static void close_after_reply(struct conn *c)
{
    c->state = CS_CLOSING;
    c->close_after = SK_CLOSE_SERVER;
}

static void then_do(struct conn *c, uint8_t then, uint8_t read_state)
{
    if (then == RULES_THEN_TARPIT)
        tarpit(c);
    else if (then == RULES_THEN_READ)
        c->state = read_state;
    else
        close_after_reply(c);
}

/* The reply to a contact that is not an HTTP request (raw, TLS, silent).
 * then=read goes on in read_state. */
static void reply_contact(struct conn *c, const struct rules_reply *rp, uint8_t read_state)
{
    switch (rp->action) {
    case RULES_SEND:
        listen__emit(c, rp->bytes, rp->len);
        then_do(c, rp->then, read_state);
        return;
    case RULES_HTTP: {
        /* An HTTP response to something that was not a request: sent as
         * the rule wrote it, then the connection ends (or is held). */
        char head[REPLY_HEAD_MAX];
        bool with_body = false;
        int n = listen__http_reply_head(rp, false, false, head, sizeof(head), &with_body);
        if (n > 0) {
            listen__emit(c, head, (size_t)n);
            if (with_body)
                listen__emit(c, rp->body, rp->body_len);
        }
        if (rp->then == RULES_THEN_TARPIT)
            tarpit(c);
        else
            close_after_reply(c);
        return;
    }
    case RULES_TARPIT:
        tarpit(c);
        return;
    default:
        close_after_reply(c);
        return;
    }
}

/* ---- raw ---- */

/* A raw contact: keep its first bytes, classify them, answer. Consumes
 * all n bytes. */
static size_t raw_start(struct conn *c, const uint8_t *p, size_t n, uint64_t t0)
{
    if (c->evk == EVK_TLS)
        c->bits |= CB_INNER_RAW;
    else
        c->evk = EVK_RAW;
    struct conn_info *info = listen__info(c);
    if (info->first_mono == 0)
        info->first_mono = t0;
    listen__capture(c, p, n);
    c->state = CS_RAW;
    if (c->bits & CB_NOREPLY) {
        close_after_reply(c);
        return n;
    }
    struct rules_input in;
    input_init(c, &in, SNIFF_RAW, p, n);
    struct rules_result res;
    classify(c, &in, &res);
    store_class(c, &res);
    reply_contact(c, &res.reply, CS_RAW);
    return n;
}

void listen__silent(struct conn *c)
{
    c->flags |= SK_CONNF_SILENT;
    if (c->evk == EVK_NONE)
        c->evk = EVK_RAW;
    struct rules_input in;
    input_init(c, &in, SNIFF_NEED_MORE, NULL, 0);
    struct rules_result res;
    classify(c, &in, &res);
    store_class(c, &res);
    if (res.reply.action == RULES_SEND && res.reply.len > 0) {
        c->flags |= SK_CONNF_BANNER;
        CTR_INC(conn_ls(c)->ctr.banners);
    }
    reply_contact(c, &res.reply, CS_SNIFF);
}

/* ---- PROXY header and sniffing ---- */

static size_t proxy_fail(struct conn *c, const uint8_t *p, size_t n, uint64_t t0)
{
    struct lstate *l = conn_ls(c);
    CTR_INC(l->ctr.proxy_bad);
    char a[SK_IP_TEXT_MAX];
    log_rl(SK_LOG_INFO, "listen",
           "listener %s: closed a connection from trusted sender %s: no valid PROXY header",
           l->name, sk_ip_ntop_port(&c->peer, a));
    c->bits = (uint16_t)((c->bits & ~CB_PROXY) | CB_NOREPLY);
    c->flags |= SK_CONNF_MALFORMED;
    c->sniffed = (uint8_t)sniff_classify(p, n);
    return raw_start(c, p, n, t0);
}

void listen__sniff_decide(struct conn *c, const uint8_t *p, size_t n, uint64_t t0)
{
    if (c->bits & CB_PROXY) {
        proxy_fail(c, p, n, t0);
        return;
    }
    if (c->evk != EVK_TLS)
        c->sniffed = SNIFF_NEED_MORE; /* could not tell */
    raw_start(c, p, n, t0);
}

static ssize_t do_proxy(struct conn *c, const uint8_t *p, size_t n, uint64_t t0)
{
    struct listen_worker *w = c->w;
    struct lstate *l = conn_ls(c);
    struct proxy_header h;
    enum proxy_status st = proxy_parse(p, n, &h);
    if (st == PROXY_NEED_MORE)
        return -1;
    if (st == PROXY_MALFORMED)
        return (ssize_t)proxy_fail(c, p, n, t0);
    c->bits &= (uint16_t)~CB_PROXY;
    /* The header is not the client's: bytes_in (the event's and the
     * counter) start after it. */
    uint64_t hl = c->bytes_in < h.len ? c->bytes_in : h.len;
    c->bytes_in -= hl;
    CTR_ADD(l->ctr.bytes_in, (uint64_t)0 - hl);
    if (!h.has_addrs || h.local) {
        c->bits |= CB_LB_LOCAL;
        return (ssize_t)h.len;
    }
    c->proxied_by = c->peer;
    c->peer = h.src;
    c->local = h.dst;
    CTR_INC(l->ctr.proxied);
    if (l->cfg->max_per_source != 0) {
        /* Limits key on the client the header names. */
        uint32_t slot = listen__source_slot(w->sh->source_key, c->lidx, &c->peer);
        if (!listen__source_acquire(w->sh->sources, slot, l->cfg->max_per_source)) {
            CTR_INC(l->ctr.per_source_rejected);
            char a[SK_IP_TEXT_MAX];
            log_rl(SK_LOG_INFO, "listen", "listener %s: %s has max_per_source (%u) open, closing",
                   l->name, sk_ip_ntop(&c->peer, a), l->cfg->max_per_source);
            c->bits |= CB_NOLOG; /* refused like at accept: not logged */
            c->close_now = SK_CLOSE_SERVER;
            return (ssize_t)h.len;
        }
        c->src_slot = slot + 1;
    }
    return (ssize_t)h.len;
}

static ssize_t do_sniff(struct conn *c, const uint8_t *p, size_t n, uint64_t t0)
{
    struct lstate *l = conn_ls(c);
    if (c->bits & CB_PROXY)
        return do_proxy(c, p, n, t0);
    enum sniff_proto s;
    if (c->tls) {
        /* Inside a terminated session: HTTP, or else raw. */
        s = sniff_classify(p, n);
        if (s == SNIFF_NEED_MORE)
            return -1;
        if (s != SNIFF_HTTP)
            s = SNIFF_RAW;
    } else {
        switch (l->cfg->sniff) {
        case CFG_SNIFF_HTTP:
            s = SNIFF_HTTP;
            break;
        case CFG_SNIFF_TLS:
            s = SNIFF_TLS;
            break;
        case CFG_SNIFF_RAW:
            s = SNIFF_RAW;
            break;
        default:
            s = sniff_classify(p, n);
            if (s == SNIFF_NEED_MORE)
                return -1;
            break;
        }
        c->sniffed = (uint8_t)s;
    }
    if ((c->flags & SK_CONNF_SILENT) && !(c->flags & SK_CONNF_BANNER) &&
        (s == SNIFF_HTTP || s == SNIFF_TLS)) {
        /* Slow rather than silent: its requests are its events. */
        c->flags &= (uint16_t)~SK_CONNF_SILENT;
        c->evk = EVK_NONE;
    }
    switch (s) {
    case SNIFF_HTTP:
        c->state = CS_HEAD;
        return 0;
    case SNIFF_TLS:
        c->state = CS_HELLO;
        c->evk = EVK_TLS;
        if (listen__info(c)->first_mono == 0)
            c->info->first_mono = t0;
        return 0;
    case SNIFF_PROXY_V1:
    case SNIFF_PROXY_V2:
        if (l->cfg->n_proxy_trusted > 0) {
            CTR_INC(l->ctr.proxy_untrusted);
            char a[SK_IP_TEXT_MAX];
            log_rl(SK_LOG_INFO, "listen",
                   "listener %s: PROXY header from %s, which is not trusted: logged as raw, closed",
                   l->name, sk_ip_ntop_port(&c->peer, a));
            c->bits |= CB_NOREPLY;
        }
        return (ssize_t)raw_start(c, p, n, t0);
    default:
        return (ssize_t)raw_start(c, p, n, t0);
    }
}

/* ---- HTTP ---- */

static uint32_t keep_cap(const struct lstate *l)
{
    uint32_t cap = l->cfg->http_body_bytes;
    return cap < SK_EV_CAPTURE_MAX ? cap : SK_EV_CAPTURE_MAX;
}

static void keep_copy(uint8_t *keep, uint32_t *kept, uint32_t cap, const uint8_t *p, size_t n)
{
    if (*kept >= cap || n == 0)
        return;
    size_t take = n < cap - *kept ? n : cap - *kept;
    memcpy(keep + *kept, p, take);
    *kept += (uint32_t)take;
}

static bool is_head(const uint8_t *buf, const struct http_request *req)
{
    return req->method.len == 4 && memcmp(buf + req->method.off, "HEAD", 4) == 0;
}

/* A whole request is in: classify, answer, log. */
static void finish_request(struct conn *c, const uint8_t *head, const struct http_request *req,
                           const uint8_t *keep, size_t kept, uint64_t total, uint64_t req_bytes,
                           uint64_t t0)
{
    struct lstate *l = conn_ls(c);
    c->requests++;
    CTR_INC(l->ctr.requests);
    struct rules_input in;
    input_init(c, &in, SNIFF_HTTP, head, req->head_len);
    in.http = req;
    in.http_buf = head;
    in.body = keep;
    in.body_len = kept;
    struct rules_result res;
    classify(c, &in, &res);

    const struct rules_reply *rp = &res.reply;
    bool keep_alive = req->keep_alive;
    uint64_t out = 0;
    uint16_t status = 0;
    switch (rp->action) {
    case RULES_HTTP: {
        char hb[REPLY_HEAD_MAX];
        const char *hp = hb;
        bool with_body = false;
        int n = reply_head(c, rp, keep_alive, is_head(head, req), hb, sizeof(hb), &hp, &with_body);
        if (n < 0) {
            log_rl(SK_LOG_WARN, "listen", "rule %s: reply head does not fit",
                   res.rule ? res.rule : "-");
            close_after_reply(c);
            break;
        }
        listen__emit(c, hp, (size_t)n);
        out = (uint64_t)n;
        if (with_body) {
            listen__emit(c, rp->body, rp->body_len);
            out += rp->body_len;
        }
        status = rp->status;
        then_do(c, rp->then, keep_alive ? CS_HEAD : CS_CLOSING);
        break;
    }
    case RULES_SEND:
        listen__emit(c, rp->bytes, rp->len);
        out = rp->len;
        then_do(c, rp->then, keep_alive ? CS_HEAD : CS_CLOSING);
        break;
    case RULES_TARPIT:
        tarpit(c);
        break;
    default:
        close_after_reply(c);
        break;
    }
    if (c->state == CS_CLOSING)
        c->close_after = SK_CLOSE_SERVER;
    uint16_t flags = 0;
    if (c->state == CS_HEAD)
        flags |= SK_CONNF_KEEPALIVE;
    if (c->state == CS_TARPIT)
        flags |= SK_CONNF_TARPIT;
    uint8_t reason = c->state == CS_HEAD || c->state == CS_TARPIT ? SK_CLOSE_NONE : SK_CLOSE_SERVER;
    log_request(c, head, req, keep, kept, total, req_bytes, t0, &res, status, out, flags, reason);
    c->bits &= (uint16_t)~CB_CONTINUE;
}

/* A request logged without an answer: bad chunked framing (the
 * connection ends), or the connection ended inside its body. */
static void unanswered_request(struct conn *c, const uint8_t *head, const struct http_request *req,
                               const uint8_t *keep, size_t kept, uint64_t total, uint64_t req_bytes,
                               uint64_t t0, uint16_t flags, uint8_t reason)
{
    c->requests++;
    CTR_INC(conn_ls(c)->ctr.requests);
    struct rules_input in;
    input_init(c, &in, SNIFF_HTTP, head, req->head_len);
    in.http = req;
    in.http_buf = head;
    in.body = keep;
    in.body_len = kept;
    struct rules_result res;
    classify(c, &in, &res);
    log_request(c, head, req, keep, kept, total, req_bytes, t0, &res, 0, 0, flags, reason);
}

static void bad_body(struct conn *c, const uint8_t *head, const struct http_request *req,
                     const uint8_t *keep, size_t kept, uint64_t total, uint64_t req_bytes,
                     uint64_t t0)
{
    struct lstate *l = conn_ls(c);
    CTR_INC(l->ctr.http_malformed);
    char a[SK_IP_TEXT_MAX];
    log_rl(SK_LOG_INFO, "listen", "listener %s: bad chunked body from %s: closing", l->name,
           sk_ip_ntop_port(&c->peer, a));
    close_after_reply(c);
    unanswered_request(c, head, req, keep, kept, total, req_bytes, t0, SK_CONNF_MALFORMED,
                       SK_CLOSE_SERVER);
}

static ssize_t do_head(struct conn *c, const uint8_t *p, size_t n, uint64_t t0, size_t scanned)
{
    struct listen_worker *w = c->w;
    struct lstate *l = conn_ls(c);
    struct http_limits lim = { .max_head = l->cfg->http_max_head };
    enum http_status st = http_parse_request(p, n, scanned, &lim, &w->req);
    if (st == HTTP_NEED_MORE) {
        w->scanned = n;
        return -1;
    }
    if (st == HTTP_MALFORMED) {
        bool big = w->req.error == HTTP_ERR_HEAD_TOO_LARGE;
        if (big)
            CTR_INC(l->ctr.head_too_large);
        else
            CTR_INC(l->ctr.http_malformed);
        char a[SK_IP_TEXT_MAX];
        log_rl(SK_LOG_INFO, "listen",
               "listener %s: malformed HTTP request from %s (%s): logged as raw", l->name,
               sk_ip_ntop_port(&c->peer, a), http_error_name(w->req.error));
        c->flags |= SK_CONNF_MALFORMED;
        if (!c->tls)
            c->sniffed = SNIFF_HTTP;
        return (ssize_t)raw_start(c, p, n, t0);
    }
    const struct http_request *req = &w->req;
    size_t hl = req->head_len;
    if (req->body == HTTP_BODY_NONE) {
        finish_request(c, p, req, NULL, 0, 0, hl, t0);
        return (ssize_t)hl;
    }
    struct http_body b;
    http_body_init(&b, req);
    uint32_t kcap = keep_cap(l), kept = 0;
    size_t pos = hl;
    enum http_body_status bs;
    for (;;) {
        size_t used = 0;
        struct http_span d = { 0, 0 };
        bs = http_body_next(&b, p + pos, n - pos, &used, &d);
        if (bs == HTTP_BODY_DATA) {
            keep_copy(w->keep, &kept, kcap, p + pos + d.off, d.len);
            pos += used;
            continue;
        }
        pos += used;
        break;
    }
    if (bs == HTTP_BODY_DONE) {
        finish_request(c, p, req, w->keep, kept, b.total, pos, t0);
        return (ssize_t)pos;
    }
    if (bs == HTTP_BODY_BAD) {
        bad_body(c, p, req, w->keep, kept, b.total, pos, t0);
        return (ssize_t)n;
    }
    /* The body goes on in later reads: keep the head (parsed again at the
     * end, so nothing points into this buffer) and what is kept of it. */
    struct conn_body *cb = xmalloc(sizeof(*cb) + hl);
    cb->b = b;
    cb->req_mono = t0;
    cb->req_bytes = pos;
    cb->head_len = (uint32_t)hl;
    memcpy(cb->head, p, hl);
    cb->keep_cap = kcap;
    cb->kept = kept;
    cb->keep = kcap ? xmalloc(kcap) : NULL;
    if (kept)
        memcpy(cb->keep, w->keep, kept);
    c->body = cb;
    c->state = CS_BODY;
    if (req->expect_continue && !(c->bits & CB_CONTINUE)) {
        listen__emit(c, continue_100, sizeof(continue_100) - 1);
        c->bits |= CB_CONTINUE;
    }
    return (ssize_t)pos;
}

static ssize_t do_body(struct conn *c, const uint8_t *p, size_t n)
{
    struct listen_worker *w = c->w;
    struct conn_body *cb = c->body;
    size_t pos = 0;
    enum http_body_status bs;
    for (;;) {
        size_t used = 0;
        struct http_span d = { 0, 0 };
        bs = http_body_next(&cb->b, p + pos, n - pos, &used, &d);
        if (bs == HTTP_BODY_DATA) {
            keep_copy(cb->keep, &cb->kept, cb->keep_cap, p + pos + d.off, d.len);
            pos += used;
            continue;
        }
        pos += used;
        break;
    }
    cb->req_bytes += pos;
    if (bs == HTTP_BODY_MORE)
        return (ssize_t)pos;
    c->body = NULL;
    struct http_limits lim = { .max_head = conn_ls(c)->cfg->http_max_head };
    if (http_parse_request(cb->head, cb->head_len, 0, &lim, &w->req) != HTTP_COMPLETE) {
        c->close_now = SK_CLOSE_ERROR; /* it parsed before: cannot happen */
        pos = n;
    } else if (bs == HTTP_BODY_DONE) {
        finish_request(c, cb->head, &w->req, cb->keep, cb->kept, cb->b.total, cb->req_bytes,
                       cb->req_mono);
    } else {
        bad_body(c, cb->head, &w->req, cb->keep, cb->kept, cb->b.total, cb->req_bytes,
                 cb->req_mono);
        pos = n;
    }
    free(cb->keep);
    free(cb);
    return (ssize_t)pos;
}

/* ---- TLS ---- */

static void tls_info(struct conn_tls *t, const struct tls_hello *h)
{
    t->has_hello = true;
    t->version = h->version;
    t->record_version = h->record_version;
    t->sni_len = (uint8_t)(h->has_sni ? (h->sni_len < TLS_SNI_MAX ? h->sni_len : TLS_SNI_MAX) : 0);
    memcpy(t->sni, h->sni, t->sni_len);
    const uint8_t *name = NULL;
    size_t an = tls_alpn_first(h, &name);
    t->alpn_len = (uint8_t)(an < TLS_ALPN_MAX ? an : TLS_ALPN_MAX);
    if (t->alpn_len)
        memcpy(t->alpn, name, t->alpn_len);
    if (tls_ja3_hash(h, t->ja3) != 0)
        t->ja3[0] = '\0';
    if (tls_ja4(h, 0, t->ja4, sizeof(t->ja4)) < 0)
        t->ja4[0] = '\0';
}

static ssize_t do_hello(struct conn *c, const uint8_t *p, size_t n, uint64_t t0)
{
    struct listen_worker *w = c->w;
    struct lstate *l = conn_ls(c);
    struct tls_hello *h = &w->hello;
    enum tls_status st = tls_parse_client_hello(p, n, h);
    if (st == TLS_HELLO_NEED_MORE && n < LISTEN_HELLO_MAX)
        return -1;
    if (st != TLS_HELLO_OK) {
        CTR_INC(l->ctr.tls_malformed);
        char a[SK_IP_TEXT_MAX];
        log_rl(SK_LOG_INFO, "listen", "listener %s: malformed ClientHello from %s: logged as raw",
               l->name, sk_ip_ntop_port(&c->peer, a));
        c->flags |= SK_CONNF_MALFORMED;
        c->sniffed = SNIFF_TLS;
        c->evk = EVK_RAW;
        return (ssize_t)raw_start(c, p, n, t0);
    }
    struct conn_info *info = listen__info(c);
    if (info->first_mono == 0)
        info->first_mono = t0;
    if (info->tls == NULL)
        info->tls = xcalloc(1, sizeof(*info->tls));
    struct conn_tls *t = info->tls;
    tls_info(t, h);

    struct rules_input in;
    input_init(c, &in, SNIFF_TLS, p, h->len);
    in.tls = h;
    in.ja3 = t->ja3[0] ? t->ja3 : NULL;
    in.ja4 = t->ja4[0] ? t->ja4 : NULL;
    struct rules_result res;
    classify(c, &in, &res);
    store_class(c, &res);

    if (l->tls != NULL) {
        /* Terminate: the hello and whatever followed go to OpenSSL; what
         * comes out is handled like a connection of its own. */
        c->tls = tlsterm_new(l->tls);
        if (c->tls == NULL) {
            c->close_now = SK_CLOSE_ERROR;
            return (ssize_t)n;
        }
        t->hello = xmalloc(sizeof(*t->hello));
        memcpy(t->hello, h, sizeof(*h));
        if (tlsterm_feed(c->tls, p, n) != 0)
            c->close_now = SK_CLOSE_ERROR;
        c->state = CS_SNIFF;
        return (ssize_t)n;
    }
    reply_contact(c, &res.reply, CS_DRAIN);
    return (ssize_t)n;
}

/* ---- the state machine ---- */

size_t listen__process(struct conn *c, const uint8_t *buf, size_t len, uint64_t start_mono,
                       size_t scanned)
{
    struct listen_worker *w = c->w;
    size_t pos = 0;
    w->scanned = 0;
    while (pos < len && !c->close_now && !(c->bits & CB_PAUSED)) {
        uint64_t t0 = pos == 0 ? start_mono : w->now_mono;
        const uint8_t *p = buf + pos;
        size_t n = len - pos;
        ssize_t used;
        switch (c->state) {
        case CS_SNIFF:
            used = do_sniff(c, p, n, t0);
            break;
        case CS_HEAD:
            used = do_head(c, p, n, t0, pos == 0 ? scanned : 0);
            break;
        case CS_BODY:
            used = do_body(c, p, n);
            break;
        case CS_HELLO:
            used = do_hello(c, p, n, t0);
            break;
        case CS_RAW:
        case CS_TARPIT:
            listen__capture(c, p, n);
            used = (ssize_t)n;
            break;
        default: /* CS_DRAIN, CS_CLOSING */
            used = (ssize_t)n;
            break;
        }
        if (used < 0)
            break;
        pos += (size_t)used;
        if (listen__out_pending(c) >= LISTEN_OUT_HIGH)
            c->bits |= CB_PAUSED; /* the rest waits until the client reads */
    }
    return pos;
}

/* ---- events at close ---- */

void listen__event_close(struct conn *c, uint8_t reason)
{
    struct listen_worker *w = c->w;
    bool limit = reason == SK_CLOSE_IDLE || reason == SK_CLOSE_HEADER || reason == SK_CLOSE_TOTAL ||
                 reason == SK_CLOSE_MAX_BYTES;
    uint16_t lf = limit ? SK_CONNF_LIMIT : 0;
    if (c->bits & CB_NOLOG)
        return;
    if (c->state == CS_BODY && c->body) {
        struct conn_body *cb = c->body;
        struct http_limits lim = { .max_head = conn_ls(c)->cfg->http_max_head };
        if (http_parse_request(cb->head, cb->head_len, 0, &lim, &w->req) == HTTP_COMPLETE)
            unanswered_request(c, cb->head, &w->req, cb->keep, cb->kept, cb->b.total, cb->req_bytes,
                               cb->req_mono, lf, reason);
    }
    if (c->in && c->in->len > 0 && c->evk == EVK_NONE) {
        /* A request head (or the first bytes) cut short: logged raw. From
         * a trusted sender, its PROXY header was: malformed, counted. */
        struct lstate *l = conn_ls(c);
        bool proxy = c->bits & CB_PROXY;
        if (proxy) {
            CTR_INC(l->ctr.proxy_bad);
            char a[SK_IP_TEXT_MAX];
            log_rl(SK_LOG_INFO, "listen",
                   "listener %s: connection from trusted sender %s ended inside its PROXY header",
                   l->name, sk_ip_ntop_port(&c->peer, a));
        }
        struct sk_event ev;
        listen__event_common(c, &ev, SK_EV_RAW, c->in->req_mono);
        uint32_t cap = capture_cap(l);
        ev.u.raw.data.p = c->in->data;
        ev.u.raw.data.len = c->in->len < cap ? c->in->len : cap;
        ev.u.raw.sniffed = proxy ? (uint8_t)sniff_classify(c->in->data, c->in->len) : c->sniffed;
        uint64_t acc = c->total_node.t;
        ev.u.raw.first_byte_ms = c->requests == 0 && c->in->req_mono > acc
                                     ? (uint32_t)((c->in->req_mono - acc) / 1000u)
                                     : 0;
        ev.flags = (uint16_t)(lf | (c->tls ? SK_CONNF_TLS : 0) | (proxy ? SK_CONNF_MALFORMED : 0));
        ev.close_reason = reason;
        ev.bytes_in = c->in->len;
        ev.duration_us = since(c, c->in->req_mono);
        listen__append_event(w, conn_ls(c), &ev);
    }
    if (c->evk == EVK_RAW) {
        raw_event(c, reason, lf);
    } else if (c->evk == EVK_TLS) {
        tls_event(c, reason, lf);
        if (c->bits & CB_INNER_RAW)
            raw_event(c, reason, (uint16_t)(lf | SK_CONNF_TLS));
    } else if (c->requests == 0 && c->bytes_in == 0 && !(c->bits & (CB_PROXY | CB_LB_LOCAL)) &&
               !(c->in && c->in->len > 0)) {
        /* Connected and sent nothing: still a contact. */
        raw_event(c, reason, lf);
    }
}
