/* listen/listener.c -- the connection sinkhole's sockets, limits and
 * timers for one worker: setup, the timeout queues checked every loop
 * turn, the per-source table, and the orderly stop. The connections
 * themselves are in conn.c and conn_proto.c, datagrams in udp.c. */
#include "listen/listener.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/err.h"
#include "core/hash.h"
#include "core/log.h"
#include "core/sock.h"
#include "core/xalloc.h"
#include "listen/listen_internal.h"

/* ---- timer queues ---- */

void listen__tq_push(struct tq *q, struct tq_node *n, uint64_t t)
{
    if (q->tail && t < q->tail->t)
        t = q->tail->t;
    n->t = t;
    n->next = NULL;
    n->prev = q->tail;
    if (q->tail)
        q->tail->next = n;
    else
        q->head = n;
    q->tail = n;
}

void listen__tq_remove(struct tq *q, struct tq_node *n)
{
    if (n->prev)
        n->prev->next = n->next;
    else
        q->head = n->next;
    if (n->next)
        n->next->prev = n->prev;
    else
        q->tail = n->prev;
    n->prev = n->next = NULL;
}

struct tq_node *listen__tq_expired(const struct tq *q, uint64_t now, uint64_t dur)
{
    struct tq_node *h = q->head;
    if (h == NULL || dur == 0 || now < h->t || now - h->t < dur)
        return NULL;
    return h;
}

/* ---- per-source limit ---- */

uint32_t listen__source_slot(uint64_t key, int listener, const struct sk_ip *ip)
{
    uint64_t a, b;
    memcpy(&a, ip->a, 8);
    memcpy(&b, ip->a + 8, 8);
    if (ip->af == 4)
        b = 0, a &= 0xffffffffULL; /* v4 uses the first 4 bytes only */
    uint64_t h = sk_mix64(key ^ ((uint64_t)(uint32_t)listener << 8 | ip->af));
    h = sk_mix64(h ^ a);
    h = sk_mix64(h ^ b);
    return (uint32_t)(h & (LISTEN_SOURCE_SLOTS - 1));
}

bool listen__source_acquire(_Atomic uint32_t *table, uint32_t slot, uint32_t max)
{
    uint32_t v = atomic_fetch_add_explicit(&table[slot], 1, memory_order_relaxed);
    if (max != 0 && v >= max) {
        atomic_fetch_sub_explicit(&table[slot], 1, memory_order_relaxed);
        return false;
    }
    return true;
}

void listen__source_release(_Atomic uint32_t *table, uint32_t slot)
{
    atomic_fetch_sub_explicit(&table[slot], 1, memory_order_relaxed);
}

bool listen__trusted(const struct cfg_listener *l, const struct sk_ip *peer)
{
    for (int i = 0; i < l->n_proxy_trusted; i++)
        if (sk_prefix_contains(&l->proxy_trusted[i], peer))
            return true;
    return false;
}

/* ---- shared state ---- */

int listen_shared_init(struct listen_shared *sh, const struct sk_config *cfg, struct rules *rules,
                       FILE *errs)
{
    memset(sh, 0, sizeof(*sh));
    sh->cfg = cfg;
    size_t n = (size_t)(cfg->n_listeners > 0 ? cfg->n_listeners : 1);
    sh->tls = xcalloc(n, sizeof(*sh->tls));
    for (int i = 0; i < cfg->n_listeners; i++) {
        const struct cfg_listener *l = &cfg->listeners[i];
        if (!l->tls_terminate || l->transport != RULES_TCP)
            continue;
        char err[512] = "";
        int rc = tlsterm_ctx_new(l->tls_cert, l->tls_key, l->tls_cn[0] ? l->tls_cn : "localhost",
                                 &sh->tls[i], err, sizeof(err));
        if (rc != 0) {
            if (errs)
                fprintf(errs, "%s:%d: listener %s: TLS: %s\n", cfg->path ? cfg->path : "config",
                        l->line, l->name, err[0] ? err : sk_strerror(rc));
            for (int k = 0; k < i; k++)
                tlsterm_ctx_free(sh->tls[k]);
            free(sh->tls);
            memset(sh, 0, sizeof(*sh));
            return rc;
        }
    }
    sh->open = xcalloc(n, sizeof(*sh->open));
    sh->sources = xcalloc(LISTEN_SOURCE_SLOTS, sizeof(*sh->sources));
    uint64_t key = 0;
    if (getrandom(&key, sizeof(key), GRND_NONBLOCK) != (ssize_t)sizeof(key))
        key = sk_clock_mono_us() ^ ((uint64_t)getpid() << 32);
    sh->source_key = key;
    atomic_store(&sh->rules, rules);
    atomic_store(&sh->gen, 1);
    return 0;
}

void listen_shared_free(struct listen_shared *sh)
{
    if (sh == NULL || sh->cfg == NULL)
        return;
    for (int i = 0; i < sh->cfg->n_listeners; i++)
        tlsterm_ctx_free(sh->tls[i]);
    free(sh->tls);
    free((void *)sh->open);
    free((void *)sh->sources);
    rules_free(atomic_load(&sh->rules));
    memset(sh, 0, sizeof(*sh));
}

/* ---- sockets ---- */

static void close_sockets(struct listen_worker *w)
{
    for (int i = 0; i < w->nsocks; i++) {
        loop_del(w->loop, &w->socks[i].io);
        close(w->socks[i].io.fd);
    }
    w->nsocks = 0;
}

struct listen_worker *listen_worker_new(struct listen_shared *sh, int id, struct loop *loop,
                                        struct evlog_queue *q)
{
    const struct sk_config *cfg = sh->cfg;
    struct listen_worker *w = xcalloc(1, sizeof(*w));
    w->sh = sh;
    w->id = id;
    w->loop = loop;
    w->q = q;
    w->rules = atomic_load(&sh->rules);
    atomic_store(&w->seen_gen, atomic_load(&sh->gen));
    w->scratch = rules_scratch_new();
    w->nls = cfg->n_listeners;
    w->ls = xcalloc((size_t)(w->nls > 0 ? w->nls : 1), sizeof(*w->ls));
    int nsock = 0;
    for (int i = 0; i < cfg->n_listeners; i++)
        nsock += cfg->listeners[i].n_listen;
    w->socks = xcalloc((size_t)(nsock > 0 ? nsock : 1), sizeof(*w->socks));
    for (int i = 0; i < cfg->n_listeners; i++) {
        const struct cfg_listener *lc = &cfg->listeners[i];
        struct lstate *l = &w->ls[i];
        l->cfg = lc;
        l->tls = sh->tls ? sh->tls[i] : NULL;
        /* The event keeps 31 characters of the name. */
        size_t nl = strnlen(lc->name, sizeof(l->name) - 1);
        memcpy(l->name, lc->name, nl);
        l->name[nl] = '\0';
        l->dur[TQ_SNIFF] = (uint64_t)lc->sniff_timeout_ms * 1000u;
        l->dur[TQ_HEADER] = (uint64_t)lc->header_timeout_ms * 1000u;
        l->dur[TQ_IDLE] = (uint64_t)lc->idle_timeout_ms * 1000u;
        l->dur[TQ_TOTAL] = (uint64_t)lc->total_timeout_ms * 1000u;
        bool udp = lc->transport == RULES_UDP;
        for (int k = 0; k < lc->n_listen; k++) {
            const struct sk_ip *a = &lc->listen[k];
            char txt[SK_IP_TEXT_MAX];
            int fd = sk_sock_listen(a, udp ? SOCK_DGRAM : SOCK_STREAM, 4096);
            if (fd < 0) {
                log_error("listen", "cannot listen on %s %s (listener %s): %s", udp ? "UDP" : "TCP",
                          sk_ip_ntop_port(a, txt), lc->name, sk_strerror(fd));
                goto fail;
            }
            struct lsock *s = &w->socks[w->nsocks++];
            s->io.fd = fd;
            s->io.cb = udp ? listen__udp_cb : listen__accept_cb;
            s->w = w;
            s->lidx = i;
            s->local = *a;
            s->udp = udp;
            s->wildcard = sk_ip_is_any(a);
            struct sockaddr_storage ss;
            socklen_t sl = sizeof(ss);
            if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
                sk_ip_from_sockaddr((struct sockaddr *)&ss, &s->local);
            if (loop_add(loop, &s->io, EPOLLIN) != 0) {
                log_error("listen", "cannot watch %s: %s", sk_ip_ntop_port(a, txt),
                          strerror(errno));
                goto fail;
            }
        }
    }
    return w;
fail:
    listen_worker_stop(w, 0);
    listen_worker_free(w);
    return NULL;
}

/* ---- timers ---- */

static struct conn *of_phase(struct tq_node *n)
{
    return (struct conn *)((char *)n - offsetof(struct conn, phase_node));
}

static struct conn *of_total(struct tq_node *n)
{
    return (struct conn *)((char *)n - offsetof(struct conn, total_node));
}

static void expire(struct listen_worker *w, struct lstate *l)
{
    uint64_t now = w->now_mono;
    struct tq_node *n;
    /* Each step closes the head or moves it to another queue, so every
     * loop ends; a connection is touched at most once per queue. */
    while ((n = listen__tq_expired(&l->q[TQ_TOTAL], now, l->dur[TQ_TOTAL])) != NULL) {
        CTR_INC(l->ctr.total_timeouts);
        listen__conn_close(of_total(n), SK_CLOSE_TOTAL);
    }
    while ((n = listen__tq_expired(&l->q[TQ_HEADER], now, l->dur[TQ_HEADER])) != NULL) {
        CTR_INC(l->ctr.header_timeouts);
        listen__conn_close(of_phase(n), SK_CLOSE_HEADER);
    }
    while ((n = listen__tq_expired(&l->q[TQ_IDLE], now, l->dur[TQ_IDLE])) != NULL) {
        CTR_INC(l->ctr.idle_timeouts);
        listen__conn_close(of_phase(n), SK_CLOSE_IDLE);
    }
    while ((n = listen__tq_expired(&l->q[TQ_SNIFF], now, l->dur[TQ_SNIFF])) != NULL) {
        CTR_INC(l->ctr.sniff_timeouts);
        listen__conn_sniff_timeout(of_phase(n), true);
    }
}

void listen_worker_tick(struct listen_worker *w)
{
    /* Generation first, then the pointer: see listen_shared in listener.h. */
    uint64_t gen = atomic_load_explicit(&w->sh->gen, memory_order_acquire);
    atomic_store_explicit(&w->seen_gen, gen, memory_order_release);
    w->rules = atomic_load_explicit(&w->sh->rules, memory_order_acquire);

    w->now_mono = sk_clock_mono_us();
    w->now_wall = sk_clock_now_us();
    for (int i = 0; i < w->nls; i++)
        expire(w, &w->ls[i]);
    /* Accept again after a pause for lack of file descriptors. */
    if (w->resume_accept && w->now_mono >= w->resume_accept && !w->stopping) {
        w->resume_accept = 0;
        for (int i = 0; i < w->nsocks; i++) {
            struct lsock *s = &w->socks[i];
            if (s->paused) {
                s->paused = false;
                loop_mod(w->loop, &s->io, EPOLLIN);
            }
        }
    }
}

/* ---- stop ---- */

static bool any_pending(struct listen_worker *w)
{
    for (int i = 0; i < w->nls; i++)
        for (struct tq_node *n = w->ls[i].q[TQ_TOTAL].head; n; n = n->next)
            if (listen__conn_pending(of_total(n)))
                return true;
    return false;
}

void listen_worker_stop(struct listen_worker *w, int deadline_ms)
{
    if (w == NULL)
        return;
    w->stopping = true;
    uint64_t end = sk_clock_mono_us() + (uint64_t)(deadline_ms > 0 ? deadline_ms : 0) * 1000u;
    /* Datagrams already in the socket buffers are answered and logged:
     * those there now, not a flood that goes on (bounded by the deadline
     * and by what a socket buffer can hold). */
    for (int i = 0; i < w->nsocks; i++)
        if (w->socks[i].udp)
            for (int k = 0; k < LISTEN_STOP_UDP_ROUNDS && listen__udp_drain(&w->socks[i], 1); k++)
                if (sk_clock_mono_us() >= end)
                    break;
    close_sockets(w);
    /* Stop reading; send what is already answered, then close. */
    for (int i = 0; i < w->nls; i++)
        for (struct tq_node *n = w->ls[i].q[TQ_TOTAL].head; n; n = n->next)
            listen__conn_stop_reading(of_total(n));
    while (any_pending(w) && sk_clock_mono_us() < end)
        loop_run_once(w->loop, 10);
    w->now_mono = sk_clock_mono_us();
    w->now_wall = sk_clock_now_us();
    for (int i = 0; i < w->nls; i++)
        while (w->ls[i].q[TQ_TOTAL].head)
            listen__conn_close(of_total(w->ls[i].q[TQ_TOTAL].head), SK_CLOSE_SHUTDOWN);
}

void listen_worker_free(struct listen_worker *w)
{
    if (w == NULL)
        return;
    for (int i = 0; i < w->nfree; i++)
        free(w->free_in[i]);
    rules_scratch_free(w->scratch);
    free(w->socks);
    free(w->ls);
    free(w);
}

const struct listen_counters *listen_worker_counters(const struct listen_worker *w, int i)
{
    return &w->ls[i].ctr;
}

uint64_t listen_worker_seen_gen(const struct listen_worker *w)
{
    return atomic_load(&w->seen_gen);
}

int listen_worker_bound(const struct listen_worker *w, int i, int k, struct sk_ip *out)
{
    int seen = 0;
    for (int j = 0; j < w->nsocks; j++) {
        if (w->socks[j].lidx != i)
            continue;
        if (seen++ == k) {
            *out = w->socks[j].local;
            return 0;
        }
    }
    return SK_ENOTFOUND;
}
