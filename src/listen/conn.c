/* listen/conn.c -- TCP connections of the connection sinkhole: accept and
 * its limits, reading into the worker's buffer, the connection's own input
 * and output buffers, TLS record plumbing, timeout phases, and close.
 *
 * One readiness event is handled as: read (up to LISTEN_READS times) into
 * the worker's 64 KiB buffer, hand the bytes to the state machine
 * (conn_proto.c) in place, keep only what it did not consume, then
 * finish: send what the replies staged (one send() in the common case),
 * close if the connection is done, move it to the right timeout queue and
 * adjust what epoll watches. Closing happens only at the end of a turn
 * (c->close_now) or from the timers, so a connection is never freed while
 * code below it on the stack still uses it. */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "listen/listen_internal.h"

#define EP_IN  1
#define EP_OUT 2

static void finish(struct conn *c);

/* ---- input buffers ---- */

static struct conn_in *in_alloc(struct listen_worker *w, size_t need)
{
    const size_t small = LISTEN_IN_SMALL - sizeof(struct conn_in);
    struct conn_in *in;
    if (need <= small && w->nfree > 0) {
        in = w->free_in[--w->nfree];
    } else {
        size_t cap = need <= small ? small : need;
        in = xmalloc(sizeof(*in) + cap);
        in->cap = (uint32_t)cap;
    }
    in->len = 0;
    in->scanned = 0;
    in->req_mono = 0;
    return in;
}

static void in_release(struct listen_worker *w, struct conn_in *in)
{
    if (in == NULL)
        return;
    if (in->cap == LISTEN_IN_SMALL - sizeof(struct conn_in) && w->nfree < LISTEN_FREE_MAX)
        w->free_in[w->nfree++] = in;
    else
        free(in);
}

/* Room for n more bytes in c->in. */
static void in_reserve(struct conn *c, size_t n)
{
    struct conn_in *in = c->in;
    size_t need = (size_t)in->len + n;
    if (need <= in->cap)
        return;
    size_t cap = (size_t)in->cap * 2;
    if (cap < need)
        cap = need;
    if (in->cap == LISTEN_IN_SMALL - sizeof(struct conn_in)) {
        /* A recycled buffer: move to one of our own. */
        struct conn_in *big = xmalloc(sizeof(*big) + cap);
        memcpy(big, in, sizeof(*in) + in->len);
        big->cap = (uint32_t)cap;
        in_release(c->w, in);
        c->in = big;
    } else {
        c->in = xrealloc(in, sizeof(*in) + cap);
        c->in->cap = (uint32_t)cap;
    }
}

/* The state machine used the first used bytes of c->in (it never
 * touches c->in itself): drop them, keep the rest as a new unit. */
static void in_consumed(struct conn *c, size_t used)
{
    struct listen_worker *w = c->w;
    struct conn_in *in = c->in;
    if (used >= in->len) {
        in_release(w, in);
        c->in = NULL;
    } else if (used > 0) {
        memmove(in->data, in->data + used, in->len - used);
        in->len -= (uint32_t)used;
        in->scanned = (uint32_t)w->scanned;
        in->req_mono = w->now_mono;
    } else {
        in->scanned = (uint32_t)w->scanned;
    }
}

/* Give the bytes to the state machine: after those already waiting in
 * c->in if any, else straight from p (no copy); keep what is left. */
static void app_input(struct conn *c, const uint8_t *p, size_t n)
{
    struct listen_worker *w = c->w;
    if (c->in && c->in->len > 0) {
        in_reserve(c, n);
        memcpy(c->in->data + c->in->len, p, n);
        c->in->len += (uint32_t)n;
        size_t used = listen__process(c, c->in->data, c->in->len, c->in->req_mono, c->in->scanned);
        in_consumed(c, used);
        return;
    }
    size_t used = listen__process(c, p, n, w->now_mono, 0);
    if (used < n) {
        if (c->in == NULL)
            c->in = in_alloc(w, n - used);
        in_reserve(c, n - used);
        memcpy(c->in->data, p + used, n - used);
        c->in->len = (uint32_t)(n - used);
        c->in->scanned = (uint32_t)w->scanned;
        c->in->req_mono = w->now_mono;
    }
}

/* ---- output ---- */

/* Room for n more bytes at the end of c->out. */
static void out_reserve(struct conn *c, size_t n)
{
    struct conn_out *o = c->out;
    if (o == NULL) {
        size_t cap = n < 4096 ? 4096 : n;
        o = xmalloc(sizeof(*o) + cap);
        o->len = o->off = 0;
        o->cap = (uint32_t)cap;
        c->out = o;
        return;
    }
    if ((size_t)o->len + n <= o->cap)
        return;
    if (o->off > 0) {
        memmove(o->data, o->data + o->off, o->len - o->off);
        o->len -= o->off;
        o->off = 0;
    }
    if ((size_t)o->len + n > o->cap) {
        size_t cap = (size_t)o->cap * 2;
        if (cap < (size_t)o->len + n)
            cap = (size_t)o->len + n;
        o = xrealloc(o, sizeof(*o) + cap);
        o->cap = (uint32_t)cap;
        c->out = o;
    }
}

static void out_append(struct conn *c, const uint8_t *p, size_t n)
{
    if (n == 0)
        return;
    out_reserve(c, n);
    memcpy(c->out->data + c->out->len, p, n);
    c->out->len += (uint32_t)n;
}

static size_t out_queued(const struct conn *c)
{
    return c->out ? (size_t)(c->out->len - c->out->off) : 0;
}

/* The ciphertext the TLS session has ready goes to c->out. */
static void tls_take(struct conn *c)
{
    size_t pend;
    while ((pend = tlsterm_pending_output(c->tls)) > 0) {
        out_reserve(c, pend);
        struct conn_out *o = c->out;
        size_t k = tlsterm_take_output(c->tls, o->data + o->len, o->cap - o->len);
        if (k == 0)
            break;
        o->len += (uint32_t)k;
    }
}

/* Plaintext for a TLS session: encrypted at once, queued. */
static void tls_put(struct conn *c, const uint8_t *p, size_t n)
{
    if (tlsterm_write(c->tls, p, n) != 0 && !c->close_now)
        c->close_now = SK_CLOSE_ERROR;
    tls_take(c);
}

/* The staging buffer's bytes become c's own (encrypted first for TLS). */
static void spill(struct conn *c)
{
    struct listen_worker *w = c->w;
    if (w->ocon != c)
        return;
    if (w->olen > 0) {
        if (c->tls)
            tls_put(c, w->obuf, w->olen);
        else
            out_append(c, w->obuf, w->olen);
        w->olen = 0;
    }
    w->ocon = NULL;
}

size_t listen__out_pending(const struct conn *c)
{
    size_t n = out_queued(c);
    if (c->w->ocon == c)
        n += c->w->olen;
    return n;
}

/* Replies are staged in the worker's buffer and sent with one send() at
 * the end of the turn; only what does not fit, or what the socket does
 * not take, is copied to the connection. */
void listen__emit(struct conn *c, const void *p, size_t n)
{
    struct listen_worker *w = c->w;
    if (n == 0)
        return;
    if (w->ocon != c) {
        if (w->ocon != NULL)
            spill(w->ocon);
        w->ocon = c;
        w->olen = 0;
    }
    if ((c->tls || out_queued(c) == 0) && w->olen + n <= LISTEN_OBUF) {
        memcpy(w->obuf + w->olen, p, n);
        w->olen += n;
        return;
    }
    spill(c);
    if (c->tls)
        tls_put(c, p, n);
    else
        out_append(c, p, n);
}

static void count_out(struct conn *c, size_t n)
{
    c->bytes_out += n;
    CTR_ADD(conn_ls(c)->ctr.bytes_out, n);
}

/* Send error other than a full buffer: the connection is done. */
static void send_failed(struct conn *c, int err)
{
    if (err != EPIPE && err != ECONNRESET)
        CTR_INC(conn_ls(c)->ctr.send_errors);
    if (!c->close_now)
        c->close_now = SK_CLOSE_ERROR;
}

/* Send what is staged or queued, as far as the socket takes it. */
static void flush(struct conn *c)
{
    struct listen_worker *w = c->w;
    if (c->tls) {
        spill(c);
        tls_take(c); /* handshake records too */
    } else if (w->ocon == c && w->olen > 0 && out_queued(c) == 0) {
        ssize_t n;
        do
            n = send(c->io.fd, w->obuf, w->olen, MSG_NOSIGNAL);
        while (n < 0 && errno == EINTR);
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
            send_failed(c, errno);
        } else {
            size_t sent = n > 0 ? (size_t)n : 0;
            count_out(c, sent);
            out_append(c, w->obuf + sent, w->olen - sent);
        }
        w->olen = 0;
        w->ocon = NULL;
    } else {
        spill(c);
    }
    while (out_queued(c) > 0 && !c->close_now) {
        struct conn_out *o = c->out;
        ssize_t n = send(c->io.fd, o->data + o->off, o->len - o->off, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                send_failed(c, errno);
            break;
        }
        count_out(c, (size_t)n);
        o->off += (uint32_t)n;
    }
    if (c->out && out_queued(c) == 0) {
        free(c->out);
        c->out = NULL;
    }
}

bool listen__conn_pending(const struct conn *c)
{
    return listen__out_pending(c) > 0 || (c->tls && tlsterm_pending_output(c->tls) > 0);
}

/* ---- TLS plumbing ---- */

/* Read every plaintext byte the session has and hand it on. */
static void tls_pump(struct conn *c)
{
    struct listen_worker *w = c->w;
    struct lstate *l = conn_ls(c);
    while (c->tls && !c->close_now && !(c->bits & CB_PAUSED)) {
        ssize_t r = tlsterm_read(c->tls, w->pbuf, sizeof(w->pbuf));
        if (!(c->bits & CB_HS_DONE) && tlsterm_handshake_done(c->tls)) {
            c->bits |= CB_HS_DONE;
            c->flags |= SK_CONNF_TERMINATED;
            CTR_INC(l->ctr.tls_handshakes);
        }
        if (r > 0) {
            app_input(c, w->pbuf, (size_t)r);
            continue;
        }
        if (r == 0)
            break;
        if (r == TLSTERM_CLOSED) {
            c->bits |= CB_EOF;
            break;
        }
        if (!(c->bits & CB_HS_DONE)) {
            CTR_INC(l->ctr.tls_handshake_failures);
            char a[SK_IP_TEXT_MAX];
            log_rl(SK_LOG_INFO, "listen", "TLS handshake with %s failed: %s",
                   sk_ip_ntop_port(&c->peer, a), tlsterm_last_error(c->tls));
        }
        c->close_now = SK_CLOSE_ERROR;
        break;
    }
}

static void wire_input(struct conn *c, const uint8_t *p, size_t n)
{
    if (c->tls) {
        if (tlsterm_feed(c->tls, p, n) != 0) {
            c->close_now = SK_CLOSE_ERROR;
            return;
        }
        tls_pump(c);
        return;
    }
    app_input(c, p, n);
    if (c->tls) /* the state machine has just begun a terminated session */
        tls_pump(c);
}

/* ---- reading ---- */

static void conn_read(struct conn *c)
{
    struct listen_worker *w = c->w;
    struct lstate *l = conn_ls(c);
    uint64_t maxb = l->cfg->max_bytes;
    for (int round = 0; round < LISTEN_READS; round++) {
        size_t want = sizeof(w->rbuf);
        if (maxb != 0) {
            uint64_t left = c->bytes_in < maxb ? maxb - c->bytes_in : 0;
            if (left + 1 < want)
                want = (size_t)left + 1; /* one more, to see the limit passed */
        }
        ssize_t n = recv(c->io.fd, w->rbuf, want, 0);
        if (n > 0) {
            size_t take = (size_t)n;
            bool over = maxb != 0 && c->bytes_in + take > maxb;
            if (over)
                take = (size_t)(maxb - c->bytes_in);
            c->bytes_in += take;
            CTR_ADD(l->ctr.bytes_in, take);
            if (take > 0)
                wire_input(c, w->rbuf, take);
            if (over) {
                CTR_INC(l->ctr.max_bytes_closed);
                if (!c->close_now)
                    c->close_now = SK_CLOSE_MAX_BYTES;
                return;
            }
            if ((size_t)n < want)
                c->bits |= CB_READ_ALL;
            else
                c->bits &= (uint16_t)~CB_READ_ALL;
            if (c->close_now || (c->bits & CB_PAUSED) || (size_t)n < want)
                return;
            continue;
        }
        if (n == 0) {
            c->bits |= CB_EOF;
            /* Bytes that were waiting for more (a short raw contact) will
             * get no more: decide on them now. */
            if (c->state == CS_SNIFF && c->in && c->in->len > 0)
                listen__conn_sniff_timeout(c, false);
            return;
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK && !c->close_now)
            c->close_now = SK_CLOSE_ERROR;
        return;
    }
}

/* Read and throw away what the client sent after the decision to close,
 * so close() does not answer it with a reset that could destroy the reply
 * still in flight. Raw captures still take the bytes. */
static void drain(struct conn *c)
{
    struct listen_worker *w = c->w;
    if (c->bits & CB_EOF)
        return;
    for (int i = 0; i < LISTEN_READS; i++) {
        ssize_t n = recv(c->io.fd, w->rbuf, sizeof(w->rbuf), MSG_DONTWAIT);
        if (n <= 0)
            return;
        c->bytes_in += (uint64_t)n;
        CTR_ADD(conn_ls(c)->ctr.bytes_in, (uint64_t)n);
        if (c->state == CS_RAW || c->state == CS_TARPIT ||
            (c->state == CS_CLOSING && c->evk == EVK_RAW))
            listen__capture(c, w->rbuf, (size_t)n);
    }
}

/* ---- phases and epoll ---- */

static int phase_for(const struct conn *c)
{
    const struct lstate *l = conn_ls(c);
    if (c->bits & CB_PAUSED)
        return c->state == CS_TARPIT ? TQ_NONE : TQ_IDLE; /* waiting for the client to read */
    switch (c->state) {
    case CS_TARPIT:
        return TQ_NONE;
    case CS_SNIFF:
        if (c->flags & SK_CONNF_SILENT)
            return TQ_IDLE;
        if (c->tls)
            return TQ_HEADER;
        return l->dur[TQ_SNIFF] ? TQ_SNIFF : TQ_IDLE;
    case CS_HEAD:
        if ((c->in && c->in->len > 0) || (c->tls && c->requests == 0))
            return TQ_HEADER;
        return TQ_IDLE;
    case CS_HELLO:
        return TQ_HEADER;
    default:
        return TQ_IDLE;
    }
}

static void set_phase(struct conn *c)
{
    struct lstate *l = conn_ls(c);
    int ph = phase_for(c);
    /* The idle timeout restarts every turn; the others run on, except
     * that a pipelined request whose head began after the previous one's
     * gets a header timeout of its own. */
    bool next_head = ph == TQ_HEADER && c->state == CS_HEAD && c->requests > 0 && c->in &&
                     c->in->req_mono > c->phase_node.t;
    if (ph == c->phase && ph != TQ_IDLE && !next_head)
        return;
    if (c->phase != TQ_NONE)
        listen__tq_remove(&l->q[c->phase], &c->phase_node);
    if (ph != TQ_NONE)
        listen__tq_push(&l->q[ph], &c->phase_node, c->w->now_mono);
    c->phase = (uint8_t)ph;
}

/* Reading while the client may send and we are not over LISTEN_OUT_HIGH;
 * writing while anything is unsent, and while paused (so that a reader
 * paused at the end of a turn resumes even when all was sent). */
static void set_epoll(struct conn *c)
{
    bool pending = listen__conn_pending(c) || (c->bits & CB_PAUSED);
    uint8_t want = (uint8_t)((!(c->bits & (CB_EOF | CB_PAUSED)) && !c->w->stopping ? EP_IN : 0) |
                             (pending ? EP_OUT : 0));
    if (want == c->epev)
        return;
    loop_mod(c->w->loop, &c->io, (want & EP_IN ? EPOLLIN : 0) | (want & EP_OUT ? EPOLLOUT : 0));
    c->epev = want;
}

/* End of a turn: send, close if done, resume a paused reader, re-arm.
 * Whatever a resumed reader answers is sent (and its close acted on) in
 * the next round; after LISTEN_ROUNDS resumes the rest waits for the next
 * turn (set_epoll() keeps EPOLLOUT on a paused connection to bring it
 * back). */
static void finish(struct conn *c)
{
    for (int round = 0;; round++) {
        flush(c);
        if (c->close_now) {
            listen__conn_close(c, c->close_now);
            return;
        }
        bool pending = listen__conn_pending(c);
        if (!pending && c->state == CS_CLOSING) {
            listen__conn_close(c, c->close_after ? c->close_after : SK_CLOSE_SERVER);
            return;
        }
        if (!pending && (c->bits & CB_EOF)) {
            listen__conn_close(c, SK_CLOSE_CLIENT);
            return;
        }
        size_t out = listen__out_pending(c);
        if (out >= LISTEN_OUT_HIGH) {
            c->bits |= CB_PAUSED;
            break;
        }
        if (!(c->bits & CB_PAUSED) || out > LISTEN_OUT_HIGH / 2 || round == LISTEN_ROUNDS)
            break;
        /* The client has read enough: go on with what is waiting. */
        c->bits &= (uint16_t)~CB_PAUSED;
        if (c->tls) {
            tls_pump(c);
        } else if (c->in && c->in->len > 0) {
            struct conn_in *in = c->in;
            in_consumed(c, listen__process(c, in->data, in->len, in->req_mono, in->scanned));
        }
    }
    set_phase(c);
    set_epoll(c);
}

void listen__conn_cb(struct loop_io *io, uint32_t events)
{
    struct conn *c = (struct conn *)io;
    struct listen_worker *w = c->w;
    w->now_mono = sk_clock_mono_us();
    w->now_wall = 0;
    if ((events & EPOLLIN) && !(c->bits & CB_EOF)) {
        conn_read(c);
    } else if ((events & (EPOLLERR | EPOLLHUP)) && !(events & EPOLLOUT)) {
        if (!c->close_now)
            c->close_now = (events & EPOLLERR) ? SK_CLOSE_ERROR : SK_CLOSE_CLIENT;
    }
    finish(c);
}

void listen__conn_stop_reading(struct conn *c)
{
    set_epoll(c);
}

/* ---- timers' entry points ---- */

void listen__conn_sniff_timeout(struct conn *c, bool from_timer)
{
    struct lstate *l = conn_ls(c);
    if (c->phase != TQ_NONE) {
        listen__tq_remove(&l->q[c->phase], &c->phase_node);
        c->phase = TQ_NONE;
    }
    if (c->in && c->in->len > 0) {
        /* Some bytes, too few to tell what they are (or a PROXY header
         * cut short): decide on them as they are. */
        struct conn_in *in = c->in;
        c->in = NULL;
        listen__sniff_decide(c, in->data, in->len, in->req_mono);
        in_release(c->w, in);
    } else if (c->bits & CB_PROXY) {
        /* A trusted sender that sent nothing, not even its header: a
         * balancer's probe or an idle pre-opened connection. */
        c->bits |= CB_LB_LOCAL;
        c->close_now = SK_CLOSE_HEADER;
    } else {
        listen__silent(c);
    }
    if (from_timer)
        finish(c);
}

/* ---- accept ---- */

/* Errors accept() passes on from a connection that died in the backlog
 * (accept(2): "treat them like EAGAIN by retrying"). */
static bool accept_transient(int err)
{
    switch (err) {
    case ECONNABORTED:
    case EPROTO:
    case ENETDOWN:
    case ENOPROTOOPT:
    case EHOSTDOWN:
    case ENONET:
    case EHOSTUNREACH:
    case EOPNOTSUPP:
    case ENETUNREACH:
    case ETIMEDOUT:
        return true;
    default:
        return false;
    }
}

void listen__accept_cb(struct loop_io *io, uint32_t events)
{
    (void)events;
    struct lsock *s = (struct lsock *)io;
    struct listen_worker *w = s->w;
    struct lstate *l = &w->ls[s->lidx];
    const struct cfg_listener *lc = l->cfg;
    struct listen_shared *sh = w->sh;
    w->now_mono = sk_clock_mono_us();
    w->now_wall = 0;
    for (int i = 0; i < 64; i++) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof(ss);
        int fd = accept4(s->io.fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            int err = errno; /* before anything below can change it */
            if (err == EAGAIN || err == EWOULDBLOCK || err == EINTR)
                return;
            if (accept_transient(err))
                continue;
            CTR_INC(l->ctr.accept_errors);
            log_rl(SK_LOG_WARN, "listen", "accept on listener %s: %s", lc->name, strerror(err));
            /* Out of file descriptors or memory, or anything else that
             * will not go away by itself: level-triggered epoll would
             * report the waiting connection again at once, so look away
             * for LISTEN_ACCEPT_PAUSE_US instead of spinning. */
            for (int k = 0; k < w->nsocks; k++) {
                if (!w->socks[k].udp && !w->socks[k].paused) {
                    w->socks[k].paused = true;
                    loop_mod(w->loop, &w->socks[k].io, 0);
                }
            }
            w->resume_accept = w->now_mono + LISTEN_ACCEPT_PAUSE_US;
            return;
        }
        if (w->stopping) {
            close(fd);
            continue;
        }
        struct sk_ip peer;
        sk_ip_from_sockaddr((struct sockaddr *)&ss, &peer);
        uint32_t was = atomic_fetch_add_explicit(&sh->open[s->lidx], 1, memory_order_relaxed);
        if (lc->max_connections != 0 && was >= lc->max_connections) {
            atomic_fetch_sub_explicit(&sh->open[s->lidx], 1, memory_order_relaxed);
            CTR_INC(l->ctr.max_connections_rejected);
            log_rl(SK_LOG_WARN, "listen",
                   "listener %s: max_connections (%u) reached, closing new connections", lc->name,
                   lc->max_connections);
            close(fd);
            continue;
        }
        bool trusted = lc->n_proxy_trusted > 0 && listen__trusted(lc, &peer);
        uint32_t slot = 0;
        if (lc->max_per_source != 0 && !trusted) {
            slot = listen__source_slot(sh->source_key, s->lidx, &peer);
            if (!listen__source_acquire(sh->sources, slot, lc->max_per_source)) {
                atomic_fetch_sub_explicit(&sh->open[s->lidx], 1, memory_order_relaxed);
                CTR_INC(l->ctr.per_source_rejected);
                char a[SK_IP_TEXT_MAX];
                log_rl(SK_LOG_INFO, "listen",
                       "listener %s: %s has max_per_source (%u) open, closing", lc->name,
                       sk_ip_ntop(&peer, a), lc->max_per_source);
                close(fd);
                continue;
            }
            slot++;
        }
        struct conn *c = xcalloc(1, sizeof(*c));
        c->io.fd = fd;
        c->io.cb = listen__conn_cb;
        c->w = w;
        c->lidx = (uint16_t)s->lidx;
        c->peer = peer;
        c->src_slot = slot;
        c->local = s->local;
        if (s->wildcard) {
            struct sockaddr_storage ls;
            socklen_t ll = sizeof(ls);
            if (getsockname(fd, (struct sockaddr *)&ls, &ll) == 0)
                sk_ip_from_sockaddr((struct sockaddr *)&ls, &c->local);
        }
        if (trusted)
            c->bits |= CB_PROXY;
        if (loop_add(w->loop, &c->io, EPOLLIN) != 0) {
            if (slot)
                listen__source_release(sh->sources, slot - 1);
            atomic_fetch_sub_explicit(&sh->open[s->lidx], 1, memory_order_relaxed);
            close(fd);
            free(c);
            continue;
        }
        c->epev = EP_IN;
        c->state = CS_SNIFF;
        c->phase = TQ_NONE;
        listen__tq_push(&l->q[TQ_TOTAL], &c->total_node, w->now_mono);
        set_phase(c);
        w->nconns++;
        CTR_INC(l->ctr.connections_accepted);
        CTR_INC(l->ctr.connections_current);
    }
}

/* ---- close ---- */

void listen__conn_close(struct conn *c, uint8_t reason)
{
    struct listen_worker *w = c->w;
    struct lstate *l = conn_ls(c);
    if (w->now_mono == 0)
        w->now_mono = sk_clock_mono_us();
    /* Not after a limit: those end the reading for good. Nor after a
     * plain HTTP reply when the last read emptied the socket: like nginx,
     * linger only where more input is known or likely (raw and TLS
     * clients often send in pieces, and their bytes are evidence). */
    bool http_done = (c->bits & CB_READ_ALL) && c->evk == EVK_NONE && c->tls == NULL;
    if ((reason == SK_CLOSE_SERVER || reason == SK_CLOSE_SHUTDOWN) && !http_done)
        drain(c);
    if (c->tls && reason != SK_CLOSE_ERROR) {
        /* A close_notify, and whatever else is queued, if it fits now. */
        if (w->ocon == c) {
            w->ocon = NULL;
            w->olen = 0;
        }
        tlsterm_shutdown(c->tls);
        tls_take(c);
        if (out_queued(c) > 0) {
            ssize_t n = send(c->io.fd, c->out->data + c->out->off, out_queued(c),
                             MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n > 0)
                count_out(c, (size_t)n);
        }
    }
    listen__event_close(c, reason);
    /* No loop_del(): the descriptor is never duplicated, so close() takes
     * it out of the epoll set, one system call less per connection. */
    close(c->io.fd);
    if (c->phase != TQ_NONE)
        listen__tq_remove(&l->q[c->phase], &c->phase_node);
    listen__tq_remove(&l->q[TQ_TOTAL], &c->total_node);
    atomic_fetch_sub_explicit(&w->sh->open[c->lidx], 1, memory_order_relaxed);
    if (c->src_slot)
        listen__source_release(w->sh->sources, c->src_slot - 1);
    if (w->ocon == c) {
        w->ocon = NULL;
        w->olen = 0;
    }
    in_release(w, c->in);
    free(c->out);
    if (c->body) {
        free(c->body->keep);
        free(c->body);
    }
    if (c->info) {
        free(c->info->cap);
        if (c->info->tls) {
            free(c->info->tls->hello);
            free(c->info->tls);
        }
        free(c->info);
    }
    if (c->tls)
        tlsterm_free(c->tls);
    w->nconns--;
    CTR_INC(l->ctr.connections_closed);
    CTR_ADD(l->ctr.connections_current, (uint64_t)-1);
    free(c);
}
