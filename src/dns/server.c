/* dns/server.c -- UDP and TCP DNS service for one worker thread. */
#include "dns/server.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"
#include "core/sock.h"
#include "core/xalloc.h"
#include "dns/responder.h"
#include "listen/proxy.h"

#define UDP_BATCH    64
#define UDP_BUF      4096 /* larger queries are truncated and answered FORMERR */
#define UDP_OUT      4096
#define UDP_ROUNDS   16 /* batches per readiness event, for fairness */
#define TCP_IN_MAX   (2 + 4096)
#define TCP_OUT_HIGH (256 * 1024) /* stop reading while this much is unsent */

struct udp_sock {
    struct loop_io io;
    struct dns_worker *w;
    struct sk_ip local;
    bool wildcard; /* bound to 0.0.0.0 or ::: the destination comes from PKTINFO */
};

struct tcp_listener {
    struct loop_io io;
    struct dns_worker *w;
    struct sk_ip local;
};

struct tcp_conn {
    struct loop_io io;
    struct dns_worker *w;
    struct tcp_conn *prev, *next; /* idle order: least recently active first */
    struct sk_ip peer, local;
    struct sk_ip proxied_by; /* af 0 unless a PROXY header named peer */
    bool proxy_pending;      /* a trusted sender: its PROXY header comes first */
    uint64_t last_us;
    size_t in_len;
    uint8_t *out;
    size_t out_len, out_off, out_cap;
    bool reading; /* EPOLLIN registered */
    bool eof;
    uint8_t in[TCP_IN_MAX];
};

struct dns_worker {
    struct dns_shared *sh;
    int id;
    struct loop *loop;
    struct evlog_queue *q;
    struct dns_counters ctr;
    _Atomic uint64_t seen_gen;
    struct dns_zones *zones; /* read at the top of each loop turn */

    struct udp_sock *udp;
    int nudp;
    struct tcp_listener *tcp;
    int ntcp;
    struct tcp_conn *idle_head, *idle_tail;
    uint32_t nconns;
    bool stopping;

    /* recvmmsg/sendmmsg batch state */
    struct mmsghdr rmsg[UDP_BATCH], smsg[UDP_BATCH];
    struct iovec riov[UDP_BATCH], siov[UDP_BATCH];
    struct sockaddr_storage raddr[UDP_BATCH];
    uint8_t rctl[UDP_BATCH][SK_PKTINFO_SPACE];
    uint8_t sctl[UDP_BATCH][SK_PKTINFO_SPACE];
    uint8_t rbuf[UDP_BATCH][UDP_BUF];
    uint8_t sbuf[UDP_BATCH][UDP_OUT];
    uint8_t tcp_reply[65535];
};

/* ---- one query, whatever the transport ---- */

/* Answer pkt and log it. Returns the reply length, 0 for no reply. */
static size_t handle_query(struct dns_worker *w, const uint8_t *pkt, size_t len, bool tcp,
                           const struct sk_ip *src, const struct sk_ip *dst,
                           const struct sk_ip *proxied_by, uint64_t now_us, uint8_t *out,
                           size_t outcap)
{
    const struct dns_zones *z = w->zones;
    struct dns_query q;
    struct dns_response_meta m;
    size_t outlen = 0;
    enum dns_result res = dns_respond(z, pkt, len, tcp, &q, out, outcap, &outlen, &m);
    if (res == DNS_DROP) {
        CTR_INC(w->ctr.malformed_dropped);
        log_rl(SK_LOG_INFO, "dns", "dropped malformed packet of %zu bytes", len);
    }

    uint8_t rrl = SK_RRL_PASS;
    if (res == DNS_REPLY && !tcp && w->sh->rrl != NULL) {
        const uint8_t *name = NULL;
        size_t nlen = 0;
        if (m.rrl_class == DNS_RRL_POSITIVE || m.rrl_class == DNS_RRL_ANY) {
            name = q.qname;
            nlen = q.qname_len;
        } else if (m.list >= 0) {
            name = q.qname + m.apex_off;
            nlen = m.apex_len;
        }
        rrl = (uint8_t)rrl_check(w->sh->rrl, src, m.rrl_class, name, nlen, sk_clock_mono_us());
        if (rrl == SK_RRL_SLIP) {
            CTR_INC(w->ctr.rrl_slipped);
            uint8_t tmp[UDP_OUT];
            outlen = dns_respond_slip(out, outlen, tmp, sizeof(tmp));
            memcpy(out, tmp, outlen);
        } else if (rrl == SK_RRL_DROP) {
            CTR_INC(w->ctr.rrl_dropped);
            outlen = 0;
        } else if (rrl == SK_RRL_EXEMPT) {
            CTR_INC(w->ctr.rrl_exempt);
        }
    }

    if (res == DNS_REPLY) {
        CTR_INC(w->ctr.queries);
        CTR_INC(*(tcp ? &w->ctr.tcp : &w->ctr.udp));
        CTR_INC(w->ctr.rcode[m.rcode < DNS_RCODE_SLOTS ? m.rcode : 0]);
        if (m.list >= 0)
            CTR_INC(w->ctr.seized_hits);
        if (m.tc)
            CTR_INC(w->ctr.truncated);
        if (outlen > 0)
            CTR_INC(w->ctr.responses);
    }

    /* Every query becomes one event, including dropped and limited ones.
     * Only the fields that hold data are set; qname is copied at its
     * length. */
    struct sk_event ev;
    ev.ts_us = now_us;
    ev.kind = SK_EV_DNS;
    ev.proto = tcp ? SK_PROTO_TCP : SK_PROTO_UDP;
    ev.src = *src;
    ev.dst = *dst;
    if (proxied_by)
        ev.proxied_by = *proxied_by;
    else
        ev.proxied_by.af = 0;
    ev.family[0] = '\0';
    ev.list[0] = '\0';
    if (m.list >= 0) {
        const struct cfg_seized *s = &z->cfg->seized[m.list];
        memcpy(ev.family, s->family, sizeof(ev.family) - 1);
        ev.family[sizeof(ev.family) - 1] = '\0';
        memcpy(ev.list, s->name, sizeof(ev.list) - 1);
        ev.list[sizeof(ev.list) - 1] = '\0';
    }
    struct sk_event_dns *d = &ev.u.dns;
    d->id = len >= 2 ? (uint16_t)(pkt[0] << 8 | pkt[1]) : 0;
    d->opcode = len >= 3 ? (uint8_t)((pkt[2] >> 3) & 0xf) : 0;
    d->qname_len = q.has_question ? q.qname_len : 0;
    if (d->qname_len)
        memcpy(d->qname, q.qname, d->qname_len);
    d->qtype = q.has_question ? q.qtype : 0;
    d->qclass = q.has_question ? q.qclass : 0;
    d->rcode = m.rcode;
    d->flags =
        (uint8_t)((m.aa && outlen > 0 && rrl != SK_RRL_SLIP ? SK_DNSF_AA : 0) |
                  (m.tc || rrl == SK_RRL_SLIP ? SK_DNSF_TC : 0) | (q.has_edns ? SK_DNSF_EDNS : 0) |
                  (q.edns_do ? SK_DNSF_DO : 0) | (len >= 3 && (pkt[2] & 1) ? SK_DNSF_RD : 0) |
                  (outlen == 0 ? SK_DNSF_NOREPLY : 0));
    d->rrl = rrl;
    d->edns_size = q.has_edns ? q.edns_udp_size : 0;
    d->resp_len = (uint16_t)outlen;
    d->ancount = rrl == SK_RRL_PASS || rrl == SK_RRL_EXEMPT ? m.ancount : 0;
    d->ecs_af = 0;
    if (q.has_edns && q.has_ecs) {
        d->ecs_af = q.ecs_family == 1 ? 4 : 6;
        d->ecs_source = q.ecs_source_prefix;
        d->ecs_scope = q.ecs_scope_prefix;
        memcpy(d->ecs_addr, q.ecs_addr, 16);
    }
    if (evlog_append(w->q, &ev) != 0)
        CTR_INC(w->ctr.events_dropped);
    return outlen;
}

/* ---- UDP ---- */

/* ---- PROXY protocol v2 from trusted load balancers ---- */

static bool proxy_trusted(const struct sk_config *cfg, const struct sk_ip *peer)
{
    for (int i = 0; i < cfg->n_dns_proxy_trusted; i++)
        if (sk_prefix_contains(&cfg->dns_proxy_trusted[i], peer))
            return true;
    return false;
}

/* Take the PROXY v2 header off a datagram from a trusted sender, as
 * dnsdist (useProxyProtocol) and PowerDNS (proxy-protocol-from) do: every
 * datagram starts with one, and the answer goes back to the sender without
 * one. On success *src and *dst become the client's and the address it
 * asked (unless the header is LOCAL or names no IP addresses: a health
 * check keeps the sender's). Returns the header length, or 0 (counted
 * and logged: the caller drops the datagram). */
static size_t udp_proxy(struct dns_worker *w, const uint8_t *pkt, size_t len, struct sk_ip *src,
                        struct sk_ip *dst, bool *proxied)
{
    struct proxy_header h;
    enum proxy_status st = proxy_parse(pkt, len, &h);
    if (st != PROXY_COMPLETE || h.version != 2) {
        CTR_INC(w->ctr.proxy_bad);
        char a[SK_IP_TEXT_MAX];
        log_rl(SK_LOG_INFO, "dns", "dropped a datagram from trusted sender %s: %s",
               sk_ip_ntop_port(src, a),
               st == PROXY_COMPLETE ? "PROXY v1 (TCP only)" : "no valid PROXY v2 header");
        return 0;
    }
    *proxied = h.has_addrs && !h.local;
    if (*proxied) {
        *src = h.src;
        *dst = h.dst;
        CTR_INC(w->ctr.proxied);
    }
    return h.len;
}

/* Read and answer up to rounds batches; returns 0 when the socket is empty. */
static int udp_drain(struct udp_sock *s, int rounds)
{
    struct dns_worker *w = s->w;
    for (int round = 0; round < rounds; round++) {
        for (int i = 0; i < UDP_BATCH; i++) {
            w->riov[i].iov_base = w->rbuf[i];
            w->riov[i].iov_len = UDP_BUF;
            struct msghdr *mh = &w->rmsg[i].msg_hdr;
            mh->msg_name = &w->raddr[i];
            mh->msg_namelen = sizeof(w->raddr[i]);
            mh->msg_iov = &w->riov[i];
            mh->msg_iovlen = 1;
            mh->msg_control = s->wildcard ? w->rctl[i] : NULL;
            mh->msg_controllen = s->wildcard ? SK_PKTINFO_SPACE : 0;
            mh->msg_flags = 0;
        }
        int n = recvmmsg(s->io.fd, w->rmsg, UDP_BATCH, MSG_DONTWAIT, NULL);
        if (n <= 0)
            return 0;
        uint64_t now = sk_clock_now_us();
        int nsend = 0;
        for (int i = 0; i < n; i++) {
            struct msghdr *mh = &w->rmsg[i].msg_hdr;
            struct sk_ip src, dst;
            sk_ip_from_sockaddr((struct sockaddr *)&w->raddr[i], &src);
            sk_pktinfo_dst(mh, &s->local, s->wildcard, &dst);
            size_t len = w->rmsg[i].msg_len;
            const uint8_t *pkt = w->rbuf[i];
            struct sk_ip sender;
            const struct sk_ip *proxied_by = NULL;
            if (w->sh->cfg->n_dns_proxy_trusted > 0 && proxy_trusted(w->sh->cfg, &src)) {
                sender = src;
                bool proxied = false;
                size_t hl = udp_proxy(w, pkt, len, &src, &dst, &proxied);
                if (hl == 0)
                    continue;
                pkt += hl;
                len -= hl;
                if (proxied)
                    proxied_by = &sender;
            }
            size_t outlen = handle_query(w, pkt, len, false, &src, &dst, proxied_by, now,
                                         w->sbuf[nsend], UDP_OUT);
            if (outlen == 0)
                continue;
            struct msghdr *sh = &w->smsg[nsend].msg_hdr;
            w->siov[nsend].iov_base = w->sbuf[nsend];
            w->siov[nsend].iov_len = outlen;
            sh->msg_name = &w->raddr[i];
            sh->msg_namelen = w->rmsg[i].msg_hdr.msg_namelen;
            sh->msg_iov = &w->siov[nsend];
            sh->msg_iovlen = 1;
            sh->msg_flags = 0;
            sk_pktinfo_set_src(sh, w->sctl[nsend], s->wildcard, &dst);
            nsend++;
        }
        int sent = 0;
        while (sent < nsend) {
            int r = sendmmsg(s->io.fd, w->smsg + sent, (unsigned)(nsend - sent), 0);
            if (r < 0) {
                if (errno == EINTR)
                    continue;
                /* EAGAIN or a per-destination error: skip that reply. */
                CTR_INC(w->ctr.send_errors);
                log_rl(SK_LOG_WARN, "dns", "sendmmsg: %s", strerror(errno));
                sent++;
                continue;
            }
            sent += r;
        }
        if (n < UDP_BATCH)
            return 0;
    }
    return 1;
}

static void udp_cb(struct loop_io *io, uint32_t events)
{
    (void)events;
    udp_drain((struct udp_sock *)io, UDP_ROUNDS);
}

/* ---- TCP ---- */

static void idle_unlink(struct dns_worker *w, struct tcp_conn *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        w->idle_head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    else
        w->idle_tail = c->prev;
    c->prev = c->next = NULL;
}

static void idle_append(struct dns_worker *w, struct tcp_conn *c)
{
    c->prev = w->idle_tail;
    c->next = NULL;
    if (w->idle_tail)
        w->idle_tail->next = c;
    else
        w->idle_head = c;
    w->idle_tail = c;
}

static void conn_touch(struct tcp_conn *c)
{
    c->last_us = sk_clock_mono_us();
    idle_unlink(c->w, c);
    idle_append(c->w, c);
}

static void conn_close(struct tcp_conn *c)
{
    struct dns_worker *w = c->w;
    loop_del(w->loop, &c->io);
    close(c->io.fd);
    idle_unlink(w, c);
    w->nconns--;
    CTR_INC(w->ctr.tcp_closed);
    CTR_ADD(w->ctr.tcp_current, (uint64_t)-1);
    free(c->out);
    free(c);
}

static void conn_update_events(struct tcp_conn *c)
{
    bool pending = c->out_len > c->out_off;
    bool want_read = !c->eof && !c->w->stopping && c->out_len - c->out_off < TCP_OUT_HIGH;
    uint32_t ev = (want_read ? EPOLLIN : 0) | (pending ? EPOLLOUT : 0);
    loop_mod(c->w->loop, &c->io, ev);
    c->reading = want_read;
}

/* Write what is pending; returns -1 if the connection was closed. */
static int conn_flush(struct tcp_conn *c)
{
    while (c->out_off < c->out_len) {
        ssize_t n = send(c->io.fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return 0;
            conn_close(c);
            return -1;
        }
        c->out_off += (size_t)n;
    }
    c->out_off = c->out_len = 0;
    if (c->eof) {
        conn_close(c);
        return -1;
    }
    return 0;
}

static void conn_queue(struct tcp_conn *c, const uint8_t *reply, size_t len)
{
    if (c->out_len + len + 2 > c->out_cap) {
        if (c->out_off > 0) {
            memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
            c->out_len -= c->out_off;
            c->out_off = 0;
        }
        size_t need = c->out_len + len + 2;
        if (need > c->out_cap) {
            size_t cap = c->out_cap ? c->out_cap : 1024;
            while (cap < need)
                cap *= 2;
            c->out = xrealloc(c->out, cap);
            c->out_cap = cap;
        }
    }
    c->out[c->out_len] = (uint8_t)(len >> 8);
    c->out[c->out_len + 1] = (uint8_t)len;
    memcpy(c->out + c->out_len + 2, reply, len);
    c->out_len += len + 2;
}

/* The PROXY header (v1 or v2) at the start of a trusted sender's
 * connection. Returns 1 when it was taken off the input, 0 if more bytes
 * are needed, -1 if it is not a valid header (the caller closes). */
static int conn_proxy(struct tcp_conn *c)
{
    struct proxy_header h;
    enum proxy_status st = proxy_parse(c->in, c->in_len, &h);
    if (st == PROXY_NEED_MORE)
        return 0;
    if (st == PROXY_MALFORMED) {
        CTR_INC(c->w->ctr.proxy_bad);
        char a[SK_IP_TEXT_MAX];
        log_rl(SK_LOG_INFO, "dns", "closed a TCP connection from trusted sender %s: %s",
               sk_ip_ntop_port(&c->peer, a), "no valid PROXY header");
        return -1;
    }
    if (h.has_addrs && !h.local) {
        c->proxied_by = c->peer;
        c->peer = h.src;
        c->local = h.dst;
        CTR_INC(c->w->ctr.proxied);
    }
    memmove(c->in, c->in + h.len, c->in_len - h.len);
    c->in_len -= h.len;
    c->proxy_pending = false;
    return 1;
}

/* Answer every complete message in the input buffer. Returns -1 if the
 * connection must be closed. */
static int conn_process(struct tcp_conn *c)
{
    struct dns_worker *w = c->w;
    size_t off = 0;
    uint64_t now = sk_clock_now_us();
    if (c->proxy_pending) {
        int r = conn_proxy(c);
        if (r <= 0)
            return r;
    }
    while (c->in_len - off >= 2) {
        size_t mlen = (size_t)c->in[off] << 8 | c->in[off + 1];
        if (c->in_len - off - 2 < mlen)
            break;
        size_t outlen = handle_query(w, c->in + off + 2, mlen, true, &c->peer, &c->local,
                                     c->proxied_by.af ? &c->proxied_by : NULL, now, w->tcp_reply,
                                     sizeof(w->tcp_reply));
        if (outlen > 0)
            conn_queue(c, w->tcp_reply, outlen);
        off += 2 + mlen;
    }
    if (off > 0) {
        memmove(c->in, c->in + off, c->in_len - off);
        c->in_len -= off;
    }
    return 0;
}

static void conn_cb(struct loop_io *io, uint32_t events)
{
    struct tcp_conn *c = (struct tcp_conn *)io;
    if (events & EPOLLIN) {
        for (;;) {
            if (c->in_len == sizeof(c->in)) {
                /* A message longer than any query we accept. */
                CTR_INC(c->w->ctr.tcp_oversize);
                log_rl(SK_LOG_INFO, "dns", "TCP query over %d bytes, closing", TCP_IN_MAX - 2);
                conn_close(c);
                return;
            }
            ssize_t n = recv(c->io.fd, c->in + c->in_len, sizeof(c->in) - c->in_len, 0);
            if (n > 0) {
                c->in_len += (size_t)n;
                if (conn_process(c) != 0) {
                    conn_close(c);
                    return;
                }
                if (c->out_len - c->out_off >= TCP_OUT_HIGH)
                    break;
                continue;
            }
            if (n == 0) {
                c->eof = true;
                break;
            }
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            conn_close(c);
            return;
        }
        conn_touch(c);
    } else if (events & (EPOLLERR | EPOLLHUP)) {
        conn_close(c);
        return;
    }
    if (conn_flush(c) != 0)
        return;
    if (c->eof && c->out_len == c->out_off) {
        conn_close(c);
        return;
    }
    conn_update_events(c);
}

static void accept_cb(struct loop_io *io, uint32_t events)
{
    (void)events;
    struct tcp_listener *l = (struct tcp_listener *)io;
    struct dns_worker *w = l->w;
    for (int i = 0; i < 64; i++) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof(ss);
        int fd = accept4(l->io.fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                return;
            log_rl(SK_LOG_WARN, "dns", "accept: %s", strerror(errno));
            return;
        }
        if (w->nconns >= w->sh->cfg->tcp_max_connections) {
            CTR_INC(w->ctr.tcp_rejected);
            log_rl(SK_LOG_WARN, "dns", "TCP connection limit (%u per worker) reached",
                   w->sh->cfg->tcp_max_connections);
            close(fd);
            continue;
        }
        struct tcp_conn *c = xmalloc(sizeof(*c));
        memset(c, 0, offsetof(struct tcp_conn, in));
        c->io.fd = fd;
        c->io.cb = conn_cb;
        c->w = w;
        sk_ip_from_sockaddr((struct sockaddr *)&ss, &c->peer);
        c->proxy_pending =
            w->sh->cfg->n_dns_proxy_trusted > 0 && proxy_trusted(w->sh->cfg, &c->peer);
        struct sockaddr_storage ls;
        socklen_t ll = sizeof(ls);
        if (getsockname(fd, (struct sockaddr *)&ls, &ll) == 0)
            sk_ip_from_sockaddr((struct sockaddr *)&ls, &c->local);
        else
            c->local = l->local;
        if (loop_add(w->loop, &c->io, EPOLLIN) != 0) {
            close(fd);
            free(c);
            continue;
        }
        c->reading = true;
        c->last_us = sk_clock_mono_us();
        idle_append(w, c);
        w->nconns++;
        CTR_INC(w->ctr.tcp_accepted);
        CTR_INC(w->ctr.tcp_current);
    }
}

/* ---- sockets ---- */

struct dns_worker *dns_worker_new(struct dns_shared *sh, int id, struct loop *loop,
                                  struct evlog_queue *q)
{
    const struct sk_config *cfg = sh->cfg;
    struct dns_worker *w = xcalloc(1, sizeof(*w));
    w->sh = sh;
    w->id = id;
    w->loop = loop;
    w->q = q;
    w->zones = atomic_load(&sh->zones);
    atomic_store(&w->seen_gen, atomic_load(&sh->gen));
    w->udp = xcalloc((size_t)cfg->n_dns_listen, sizeof(*w->udp));
    w->tcp = xcalloc((size_t)cfg->n_dns_listen, sizeof(*w->tcp));
    for (int i = 0; i < cfg->n_dns_listen; i++) {
        const struct sk_ip *a = &cfg->dns_listen[i];
        char txt[SK_IP_TEXT_MAX];
        int fd = sk_sock_listen(a, SOCK_DGRAM, 0);
        if (fd < 0) {
            log_error("dns", "cannot listen on UDP %s: %s", sk_ip_ntop_port(a, txt),
                      sk_strerror(fd));
            goto fail;
        }
        struct udp_sock *u = &w->udp[w->nudp++];
        u->io.fd = fd;
        u->io.cb = udp_cb;
        u->w = w;
        u->local = *a;
        u->wildcard = sk_ip_is_any(a);
        loop_add(loop, &u->io, EPOLLIN);

        fd = sk_sock_listen(a, SOCK_STREAM, 1024);
        if (fd < 0) {
            log_error("dns", "cannot listen on TCP %s: %s", sk_ip_ntop_port(a, txt),
                      sk_strerror(fd));
            goto fail;
        }
        struct tcp_listener *t = &w->tcp[w->ntcp++];
        t->io.fd = fd;
        t->io.cb = accept_cb;
        t->w = w;
        t->local = *a;
        loop_add(loop, &t->io, EPOLLIN);
    }
    return w;
fail:
    dns_worker_stop(w, 0);
    dns_worker_free(w);
    return NULL;
}

void dns_worker_tick(struct dns_worker *w)
{
    /* Generation first, then the pointer: see dns_shared in server.h. */
    uint64_t gen = atomic_load_explicit(&w->sh->gen, memory_order_acquire);
    atomic_store_explicit(&w->seen_gen, gen, memory_order_release);
    w->zones = atomic_load_explicit(&w->sh->zones, memory_order_acquire);

    uint64_t now = sk_clock_mono_us();
    uint64_t timeout = (uint64_t)w->sh->cfg->tcp_idle_timeout_ms * 1000u;
    while (w->idle_head && now - w->idle_head->last_us >= timeout) {
        CTR_INC(w->ctr.tcp_idle_timeouts);
        conn_close(w->idle_head);
    }
}

void dns_worker_stop(struct dns_worker *w, int deadline_ms)
{
    if (w == NULL)
        return;
    w->stopping = true;
    for (int i = 0; i < w->ntcp; i++) {
        loop_del(w->loop, &w->tcp[i].io);
        close(w->tcp[i].io.fd);
    }
    /* In-flight UDP queries already in the socket buffer get answered. */
    for (int i = 0; i < w->nudp; i++) {
        while (udp_drain(&w->udp[i], 1))
            ;
        loop_del(w->loop, &w->udp[i].io);
        close(w->udp[i].io.fd);
    }
    /* TCP: stop reading, send what is answered, then close. */
    for (struct tcp_conn *c = w->idle_head; c; c = c->next)
        conn_update_events(c);
    uint64_t end = sk_clock_mono_us() + (uint64_t)deadline_ms * 1000u;
    for (;;) {
        bool pending = false;
        for (struct tcp_conn *c = w->idle_head; c; c = c->next)
            if (c->out_len > c->out_off)
                pending = true;
        if (!pending || sk_clock_mono_us() >= end)
            break;
        loop_run_once(w->loop, 10);
    }
    while (w->idle_head)
        conn_close(w->idle_head);
    w->nudp = w->ntcp = 0;
}

void dns_worker_free(struct dns_worker *w)
{
    if (w == NULL)
        return;
    free(w->udp);
    free(w->tcp);
    free(w);
}

const struct dns_counters *dns_worker_counters(const struct dns_worker *w)
{
    return &w->ctr;
}

uint64_t dns_worker_seen_gen(const struct dns_worker *w)
{
    return atomic_load(&w->seen_gen);
}
