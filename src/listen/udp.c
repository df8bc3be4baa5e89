/* listen/udp.c -- UDP listeners of the connection sinkhole.
 *
 * Each datagram is one contact: read in batches with recvmmsg, a PROXY v2
 * header taken off if a trusted balancer sent it, sniffed, classified
 * (transport udp), answered by at most one datagram no longer than the
 * one received (rules_classify() already suppresses anything else, so the
 * sinkhole never amplifies towards a forged source), and logged as one raw
 * event. Replies leave from the address the datagram was sent to, also on
 * wildcard binds (IP_PKTINFO / IPV6_PKTINFO). */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/sock.h"
#include "listen/listen_internal.h"
#include "listen/proxy.h"
#include "proto/sniff.h"

/* Send reply to the sender of datagram i, from the address it was sent to. */
static int send_reply(struct lsock *s, int i, const struct sk_ip *dst, const uint8_t *p, size_t n)
{
    struct listen_worker *w = s->w;
    struct iovec iov = { .iov_base = (void *)p, .iov_len = n };
    struct msghdr mh;
    memset(&mh, 0, sizeof(mh));
    mh.msg_name = &w->uaddr[i];
    mh.msg_namelen = w->umsg[i].msg_hdr.msg_namelen;
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    uint8_t ctl[SK_PKTINFO_SPACE];
    sk_pktinfo_set_src(&mh, ctl, s->wildcard, dst);
    ssize_t r;
    do
        r = sendmsg(s->io.fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
    while (r < 0 && errno == EINTR);
    return r < 0 ? -errno : 0;
}

/* One datagram p[0..len) (real bytes: its length before any cut). */
static void datagram(struct lsock *s, int i, const uint8_t *p, size_t len, size_t real,
                     const struct sk_ip *src, const struct sk_ip *dst, const struct sk_ip *sock_dst,
                     const struct sk_ip *proxied_by)
{
    struct listen_worker *w = s->w;
    struct lstate *l = &w->ls[s->lidx];
    CTR_INC(l->ctr.datagrams);
    CTR_ADD(l->ctr.bytes_in, real);

    enum sniff_proto sn = sniff_classify(p, len);
    struct rules_input in;
    memset(&in, 0, sizeof(in));
    in.port = dst->port;
    in.transport = RULES_UDP;
    in.proto = (uint8_t)(sn == SNIFF_HTTP || sn == SNIFF_TLS ? sn : SNIFF_RAW);
    in.data = p;
    in.len = len;
    struct rules_result res;
    rules_classify(w->rules, &in, w->scratch, &res);
    if (res.rule)
        CTR_INC(l->ctr.rules_matched);
    if (res.limit_hits)
        CTR_ADD(l->ctr.rule_limit_hits, res.limit_hits);
    if (res.reply_suppressed)
        CTR_INC(l->ctr.udp_suppressed);

    /* A PROXY header from a sender that is not trusted is not believed:
     * logged as raw data, counted, and not answered (as on TCP). */
    bool untrusted = (sn == SNIFF_PROXY_V1 || sn == SNIFF_PROXY_V2) && l->cfg->n_proxy_trusted > 0;
    if (untrusted) {
        CTR_INC(l->ctr.proxy_untrusted);
        char a[SK_IP_TEXT_MAX];
        log_rl(
            SK_LOG_INFO, "listen",
            "listener %s: PROXY header from %s, which is not trusted: logged as raw, not answered",
            l->name, sk_ip_ntop_port(src, a));
    }

    size_t out = 0;
    if (!untrusted && res.reply.action == RULES_SEND && res.reply.len > 0 && res.reply.len <= len) {
        /* To the sender (a balancer forwards it), without a PROXY header. */
        int rc = send_reply(s, i, sock_dst, res.reply.bytes, res.reply.len);
        if (rc == 0) {
            out = res.reply.len;
            CTR_INC(l->ctr.udp_replies);
            CTR_ADD(l->ctr.bytes_out, out);
        } else if (rc != -EAGAIN && rc != -EWOULDBLOCK) {
            /* A full socket buffer (a flood) just loses the reply: the
             * event says bytes_out 0; send_errors counts the rest. */
            CTR_INC(l->ctr.send_errors);
            log_rl(SK_LOG_WARN, "listen", "listener %s: sendmsg: %s", l->name, strerror(-rc));
        }
    }

    struct sk_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.ts_us = listen__wall(w, w->now_mono);
    ev.kind = SK_EV_RAW;
    ev.proto = SK_PROTO_UDP;
    ev.src = *src;
    ev.dst = *dst;
    if (proxied_by)
        ev.proxied_by = *proxied_by;
    memcpy(ev.list, l->name, sizeof(ev.list));
    if (res.rule) {
        size_t n = strnlen(res.family, sizeof(ev.family) - 1);
        memcpy(ev.family, res.family, n);
        n = strnlen(res.rule, sizeof(ev.rule) - 1);
        memcpy(ev.rule, res.rule, n);
        n = strnlen(res.bot_id, sizeof(ev.bot_id) - 1);
        memcpy(ev.bot_id, res.bot_id, n);
        if (res.bot_id_truncated)
            ev.flags |= SK_CONNF_TRUNC;
    }
    uint32_t cap =
        l->cfg->capture_bytes < SK_EV_CAPTURE_MAX ? l->cfg->capture_bytes : SK_EV_CAPTURE_MAX;
    size_t keep = len < cap ? len : cap;
    if (keep < real && cap > keep && l->cfg->capture_bytes > keep)
        ev.flags |= SK_CONNF_TRUNC; /* longer than we read */
    if (keep) {
        ev.u.raw.data.p = p;
        ev.u.raw.data.len = (uint32_t)keep;
    }
    ev.u.raw.sniffed = (uint8_t)sn;
    ev.bytes_in = real;
    ev.bytes_out = out;
    listen__append_event(w, l, &ev);
}

/* The PROXY v2 header at the start of a datagram from a trusted sender.
 * Returns its length, or 0 (counted, logged: the datagram is dropped). */
static size_t take_proxy(struct lsock *s, const uint8_t *p, size_t len, struct sk_ip *src,
                         struct sk_ip *dst, bool *proxied)
{
    struct lstate *l = &s->w->ls[s->lidx];
    struct proxy_header h;
    enum proxy_status st = proxy_parse(p, len, &h);
    if (st != PROXY_COMPLETE || h.version != 2) {
        CTR_INC(l->ctr.proxy_bad);
        char a[SK_IP_TEXT_MAX];
        log_rl(SK_LOG_INFO, "listen", "listener %s: dropped a datagram from trusted sender %s: %s",
               l->name, sk_ip_ntop_port(src, a),
               st == PROXY_COMPLETE ? "PROXY v1 (TCP only)" : "no valid PROXY v2 header");
        return 0;
    }
    *proxied = h.has_addrs && !h.local;
    if (*proxied) {
        *src = h.src;
        *dst = h.dst;
        CTR_INC(l->ctr.proxied);
    }
    return h.len;
}

int listen__udp_drain(struct lsock *s, int rounds)
{
    struct listen_worker *w = s->w;
    const struct cfg_listener *lc = w->ls[s->lidx].cfg;
    for (int round = 0; round < rounds; round++) {
        for (int i = 0; i < LISTEN_UDP_BATCH; i++) {
            w->uiov[i].iov_base = w->ubuf[i];
            w->uiov[i].iov_len = LISTEN_UDP_BUF;
            struct msghdr *mh = &w->umsg[i].msg_hdr;
            mh->msg_name = &w->uaddr[i];
            mh->msg_namelen = sizeof(w->uaddr[i]);
            mh->msg_iov = &w->uiov[i];
            mh->msg_iovlen = 1;
            mh->msg_control = s->wildcard ? w->uctl[i] : NULL;
            mh->msg_controllen = s->wildcard ? SK_PKTINFO_SPACE : 0;
            mh->msg_flags = 0;
        }
        /* MSG_TRUNC: msg_len is the datagram's real length even when it
         * did not fit. */
        int n = recvmmsg(s->io.fd, w->umsg, LISTEN_UDP_BATCH, MSG_DONTWAIT | MSG_TRUNC, NULL);
        if (n <= 0)
            return 0;
        w->now_mono = sk_clock_mono_us();
        w->now_wall = 0;
        for (int i = 0; i < n; i++) {
            struct msghdr *mh = &w->umsg[i].msg_hdr;
            struct sk_ip src, dst, sock_dst, sender;
            sk_ip_from_sockaddr((struct sockaddr *)&w->uaddr[i], &src);
            sk_pktinfo_dst(mh, &s->local, s->wildcard, &dst);
            sock_dst = dst;
            size_t real = w->umsg[i].msg_len;
            size_t len = real < LISTEN_UDP_BUF ? real : LISTEN_UDP_BUF;
            const uint8_t *p = w->ubuf[i];
            const struct sk_ip *proxied_by = NULL;
            if (lc->n_proxy_trusted > 0 && listen__trusted(lc, &src)) {
                sender = src;
                bool proxied = false;
                size_t hl = take_proxy(s, p, len, &src, &dst, &proxied);
                if (hl == 0)
                    continue;
                p += hl;
                len -= hl;
                real -= hl;
                if (proxied)
                    proxied_by = &sender;
            }
            datagram(s, i, p, len, real, &src, &dst, &sock_dst, proxied_by);
        }
        if (n < LISTEN_UDP_BATCH)
            return 0;
    }
    return 1;
}

void listen__udp_cb(struct loop_io *io, uint32_t events)
{
    (void)events;
    listen__udp_drain((struct lsock *)io, 16);
}
