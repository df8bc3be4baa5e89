/* Unit tests for the connection listener (listen/listener.c, conn.c,
 * conn_proto.c, udp.c): the timer queues and the per-source table on
 * their own, then a real worker on its own epoll loop over loopback
 * sockets, its events captured through listen_shared.event_cb: keep-alive
 * and silent connections hold no buffer, timeouts fire when due and not
 * before, limits are given back on every close, a client that does not
 * read is not buffered without bound, accept pauses when out of file
 * descriptors instead of spinning, PROXY headers cut short are counted,
 * UDP replies are never longer than the datagram, and stop logs the
 * connections still open. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "classify/rules.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/loop.h"
#include "listen/listen_internal.h"
#include "listen/listener.h"
#include "proto/sniff.h"

/* ---- timer queues ---- */

static void test_tq_order(void **state)
{
    (void)state;
    struct tq q = { NULL, NULL };
    struct tq_node n[4];
    listen__tq_push(&q, &n[0], 100);
    listen__tq_push(&q, &n[1], 200);
    listen__tq_push(&q, &n[2], 150); /* earlier than the tail: raised */
    assert_int_equal(n[2].t, 200);
    assert_ptr_equal(q.head, &n[0]);
    assert_ptr_equal(q.tail, &n[2]);

    assert_null(listen__tq_expired(&q, 149, 50));
    assert_ptr_equal(listen__tq_expired(&q, 150, 50), &n[0]);
    assert_null(listen__tq_expired(&q, 1000, 0)); /* 0: that timeout is off */
    assert_null(listen__tq_expired(&q, 50, 10));  /* a clock before t: not due */

    listen__tq_remove(&q, &n[1]); /* from the middle */
    assert_ptr_equal(n[0].next, &n[2]);
    assert_ptr_equal(n[2].prev, &n[0]);
    listen__tq_remove(&q, &n[0]);
    assert_ptr_equal(q.head, &n[2]);
    assert_null(n[2].prev);
    listen__tq_push(&q, &n[3], 300);
    listen__tq_remove(&q, &n[3]); /* the tail */
    assert_ptr_equal(q.tail, &n[2]);
    assert_null(n[2].next);
    listen__tq_remove(&q, &n[2]);
    assert_null(q.head);
    assert_null(q.tail);
    assert_null(listen__tq_expired(&q, 1000, 1));
}

/* ---- per-source table ---- */

static void test_source_table(void **state)
{
    (void)state;
    _Atomic uint32_t *t = calloc(LISTEN_SOURCE_SLOTS, sizeof(*t));
    assert_non_null(t);
    struct sk_ip a, b;
    assert_int_equal(sk_ip_parse("192.0.2.1", &a), 0);
    b = a;
    memset(b.a + 4, 0xee, 12); /* bytes past an IPv4 address do not count */
    uint32_t s = listen__source_slot(42, 0, &a);
    assert_true(s < LISTEN_SOURCE_SLOTS);
    assert_int_equal(listen__source_slot(42, 0, &b), s);

    /* The slot depends on the key, the listener and the address. */
    int differ_key = 0, differ_listener = 0;
    for (int i = 0; i < 64; i++) {
        struct sk_ip x = a;
        x.a[3] = (uint8_t)i;
        uint32_t sx = listen__source_slot(42, 0, &x);
        differ_key += listen__source_slot(43, 0, &x) != sx;
        differ_listener += listen__source_slot(42, 1, &x) != sx;
    }
    assert_true(differ_key > 56);
    assert_true(differ_listener > 56);

    assert_true(listen__source_acquire(t, s, 2));
    assert_true(listen__source_acquire(t, s, 2));
    assert_false(listen__source_acquire(t, s, 2));
    assert_int_equal(t[s], 2);
    listen__source_release(t, s);
    assert_true(listen__source_acquire(t, s, 2));
    assert_true(listen__source_acquire(t, s, 0)); /* 0: no limit */
    assert_int_equal(t[s], 3);
    free((void *)t);
}

/* The contract of listener.h: about 220 bytes per connection. */
static void test_conn_size(void **state)
{
    (void)state;
    print_message("sizeof(struct conn) = %zu\n", sizeof(struct conn));
    assert_true(sizeof(struct conn) <= 224);
}

/* ---- a worker on a real loop ---- */

#define MAX_EVENTS 512

struct cev {
    uint8_t kind, close_reason, sniffed;
    uint16_t flags, status;
    uint64_t bytes_in;
    struct sk_ip src;
    uint8_t data[256];
    uint32_t data_len;
    char url[128];
};

struct h {
    struct sk_config cfg;
    struct cfg_listener lc[2];
    struct listen_shared sh;
    struct loop loop;
    struct listen_worker *w;
    struct sk_ip addr;
    struct cev ev[MAX_EVENTS];
    int nev;
    char dir[64];
};

static void capture_cb(void *arg, const struct sk_event *e)
{
    struct h *h = arg;
    if (h->nev >= MAX_EVENTS)
        return;
    struct cev *c = &h->ev[h->nev++];
    memset(c, 0, sizeof(*c));
    c->kind = e->kind;
    c->close_reason = e->close_reason;
    c->flags = e->flags;
    c->bytes_in = e->bytes_in;
    c->src = e->src;
    if (e->kind == SK_EV_RAW) {
        c->sniffed = e->u.raw.sniffed;
        c->data_len = e->u.raw.data.len;
        if (e->u.raw.data.len > 0)
            memcpy(c->data, e->u.raw.data.p,
                   e->u.raw.data.len < sizeof(c->data) ? e->u.raw.data.len : sizeof(c->data));
    } else if (e->kind == SK_EV_HTTP) {
        c->status = e->u.http.status;
        size_t n = e->u.http.url.len < sizeof(c->url) - 1 ? e->u.http.url.len : sizeof(c->url) - 1;
        if (n > 0)
            memcpy(c->url, e->u.http.url.p, n);
    }
}

static void listener_defaults(struct cfg_listener *l, const char *name, uint8_t transport)
{
    config_listener_defaults(l);
    snprintf(l->name, sizeof(l->name), "%s", name);
    assert_int_equal(sk_ip_parse("127.0.0.1", &l->listen[0]), 0);
    l->listen[0].port = 0;
    l->n_listen = 1;
    l->transport = transport;
}

#define BIG_RULES_FMT                                  \
    "rule big family=bignet\n"                         \
    "    match proto=http http.path=\"/big\"\n"        \
    "    reply http status=200 body=@%s/big.bin\n"     \
    "end\n"                                            \
    "rule udp family=udpnet\n"                         \
    "    match transport=udp bytes@0=hex:\"55\"\n"     \
    "    reply bytes=hex:\"55 66 77 88\" then=close\n" \
    "end\n"                                            \
    "rule udpany family=udpnet\n"                      \
    "    match transport=udp\n"                        \
    "    reply bytes=hex:\"0d\" then=close\n"          \
    "end\n"

#define BIG_BODY 65536

/* Make the harness; change lc[0] (and lc[1], if n == 2) in setup before
 * the worker starts. */
static void h_start(struct h *h, int n, void (*setup)(struct h *))
{
    snprintf(h->dir, sizeof(h->dir), "/tmp/sk-test-listener-XXXXXX");
    assert_non_null(mkdtemp(h->dir));
    char path[128];
    snprintf(path, sizeof(path), "%s/big.bin", h->dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    for (int i = 0; i < BIG_BODY; i++)
        fputc('B', f);
    fclose(f);
    char text[1024];
    int tl = snprintf(text, sizeof(text), BIG_RULES_FMT, h->dir);
    snprintf(path, sizeof(path), "%s/test.rules", h->dir);
    struct rules *r = NULL;
    assert_int_equal(rules_load_buf(text, (size_t)tl, path, &r, stderr), 0);
    /* The reply file is read at load: nothing is left behind, even when a
     * test fails half-way. */
    snprintf(path, sizeof(path), "%s/big.bin", h->dir);
    unlink(path);
    rmdir(h->dir);

    listener_defaults(&h->lc[0], "t0", RULES_TCP);
    listener_defaults(&h->lc[1], "t1", RULES_UDP);
    if (setup)
        setup(h);
    h->cfg.listeners = h->lc;
    h->cfg.n_listeners = n;
    assert_int_equal(listen_shared_init(&h->sh, &h->cfg, r, stderr), 0);
    h->sh.event_cb = capture_cb;
    h->sh.event_arg = h;
    assert_int_equal(loop_init(&h->loop), 0);
    h->w = listen_worker_new(&h->sh, 0, &h->loop, NULL);
    assert_non_null(h->w);
    assert_int_equal(listen_worker_bound(h->w, 0, 0, &h->addr), 0);
    assert_true(h->addr.port != 0);
}

static void h_stop(struct h *h)
{
    listen_worker_stop(h->w, 200);
    listen_worker_free(h->w);
    loop_close(&h->loop);
    listen_shared_free(&h->sh);
}

static uint64_t ctr(struct h *h, size_t off)
{
    const struct listen_counters *c = listen_worker_counters(h->w, 0);
    return atomic_load((const _Atomic uint64_t *)((const char *)c + off));
}
#define CTR(h, name) ctr(h, offsetof(struct listen_counters, name))

/* Turn the loop (and the timers) for ms milliseconds. */
static void pump(struct h *h, int ms)
{
    uint64_t end = sk_clock_mono_us() + (uint64_t)ms * 1000u;
    do {
        loop_run_once(&h->loop, 2);
        listen_worker_tick(h->w);
    } while (sk_clock_mono_us() < end);
}

/* Turn the loop until pred holds (at most ms); returns whether it did. */
static bool pump_until(struct h *h, bool (*pred)(struct h *), int ms)
{
    uint64_t end = sk_clock_mono_us() + (uint64_t)ms * 1000u;
    while (!pred(h)) {
        if (sk_clock_mono_us() >= end)
            return false;
        loop_run_once(&h->loop, 2);
        listen_worker_tick(h->w);
    }
    return true;
}

static int client(const struct h *h, const char *src, int rcvbuf)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    assert_true(fd >= 0);
    if (rcvbuf > 0)
        assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)), 0);
    struct sockaddr_in sin = { .sin_family = AF_INET };
    if (src) {
        inet_pton(AF_INET, src, &sin.sin_addr);
        assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    }
    struct sockaddr_storage ss;
    socklen_t sl = sk_ip_to_sockaddr(&h->addr, &ss);
    int rc = connect(fd, (struct sockaddr *)&ss, sl);
    assert_true(rc == 0 || errno == EINPROGRESS);
    return fd;
}

static void send_all(int fd, const void *p, size_t n)
{
    assert_int_equal(send(fd, p, n, MSG_NOSIGNAL), (ssize_t)n);
}

static void reset_close(int fd)
{
    struct linger lg = { 1, 0 };
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    close(fd);
}

static struct conn *only_conn(struct h *h)
{
    struct tq_node *n = h->w->ls[0].q[TQ_TOTAL].head;
    if (n == NULL || n->next != NULL)
        return NULL;
    return (struct conn *)((char *)n - offsetof(struct conn, total_node));
}

static int n_conns(struct h *h)
{
    int k = 0;
    for (struct tq_node *n = h->w->ls[0].q[TQ_TOTAL].head; n; n = n->next)
        k++;
    return k;
}

static bool one_conn(struct h *h)
{
    return n_conns(h) == 1;
}

static bool no_conn(struct h *h)
{
    return n_conns(h) == 0;
}

static bool has_event(struct h *h)
{
    return h->nev > 0;
}

/* Turn the loop until at least n events were written (at most ms). */
static bool wait_events(struct h *h, int n, int ms)
{
    uint64_t end = sk_clock_mono_us() + (uint64_t)ms * 1000u;
    while (h->nev < n) {
        if (sk_clock_mono_us() >= end)
            return false;
        loop_run_once(&h->loop, 2);
        listen_worker_tick(h->w);
    }
    return true;
}

/* Every count given back: open connections, per-source slots, counters. */
static void assert_balanced(struct h *h)
{
    assert_int_equal(CTR(h, connections_accepted),
                     CTR(h, connections_closed) + CTR(h, connections_current));
    if (CTR(h, connections_current) == 0) {
        assert_int_equal(atomic_load(&h->sh.open[0]), 0);
        for (uint32_t i = 0; i < LISTEN_SOURCE_SLOTS; i++)
            if (atomic_load(&h->sh.sources[i]) != 0)
                fail_msg("per-source slot %u still counts %u", i, atomic_load(&h->sh.sources[i]));
    }
}

/* A keep-alive connection between requests, and a silent one, hold no
 * buffer; both close cleanly when the client goes. */
static void test_idle_holds_nothing(void **state)
{
    (void)state;
    struct h *h = calloc(1, sizeof(*h));
    h_start(h, 1, NULL);

    int fd = client(h, NULL, 0);
    assert_true(pump_until(h, one_conn, 2000));
    struct conn *c = only_conn(h);
    assert_non_null(c);
    assert_null(c->in);
    assert_null(c->out);
    assert_null(c->body);
    assert_null(c->info);
    assert_int_equal(c->phase, TQ_SNIFF);

    const char req[] = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n";
    send_all(fd, req, sizeof(req) - 1);
    assert_true(pump_until(h, has_event, 2000));
    assert_int_equal(h->ev[0].kind, SK_EV_HTTP);
    assert_string_equal(h->ev[0].url, "/a");
    assert_true(h->ev[0].flags & SK_CONNF_KEEPALIVE);
    pump(h, 20);
    c = only_conn(h);
    assert_non_null(c);
    assert_int_equal(c->state, CS_HEAD);
    assert_null(c->in);
    assert_null(c->out);
    assert_null(c->body);
    assert_null(c->info);
    assert_int_equal(c->phase, TQ_IDLE);
    char buf[4096];
    assert_true(recv(fd, buf, sizeof(buf), 0) > 0);

    close(fd);
    assert_true(pump_until(h, no_conn, 2000));
    assert_int_equal(h->nev, 1); /* its request was its event */
    assert_balanced(h);
    h_stop(h);
    free(h);
}

static void short_header(struct h *h)
{
    h->lc[0].header_timeout_ms = 150;
    h->lc[0].sniff_timeout_ms = 5000;
}

/* A request head that never ends: closed by the header timeout, not
 * before, logged raw with what it sent. */
static void test_header_timeout(void **state)
{
    (void)state;
    struct h *h = calloc(1, sizeof(*h));
    h_start(h, 1, short_header);
    int fd = client(h, NULL, 0);
    const char part[] = "GET /slow HTTP/1.1\r\nHost: x\r\n";
    send_all(fd, part, sizeof(part) - 1);
    uint64_t t0 = sk_clock_mono_us();
    assert_true(pump_until(h, one_conn, 2000));
    pump(h, 60);
    assert_int_equal(n_conns(h), 1); /* not yet */
    struct conn *c = only_conn(h);
    assert_int_equal(c->phase, TQ_HEADER);
    assert_true(pump_until(h, no_conn, 3000));
    assert_true(sk_clock_mono_us() - t0 >= 140000);
    assert_int_equal(CTR(h, header_timeouts), 1);
    assert_int_equal(h->nev, 1);
    assert_int_equal(h->ev[0].kind, SK_EV_RAW);
    assert_int_equal(h->ev[0].close_reason, SK_CLOSE_HEADER);
    assert_true(h->ev[0].flags & SK_CONNF_LIMIT);
    assert_int_equal(h->ev[0].data_len, sizeof(part) - 1);
    assert_memory_equal(h->ev[0].data, part, sizeof(part) - 1);
    assert_balanced(h);
    close(fd);
    h_stop(h);
    free(h);
}

static void header_300(struct h *h)
{
    h->lc[0].header_timeout_ms = 300;
}

/* Pipelined requests: the head of the second, begun in the same read that
 * ended the first, gets a header timeout of its own. */
static void test_header_timeout_pipelined(void **state)
{
    (void)state;
    struct h *h = calloc(1, sizeof(*h));
    h_start(h, 1, header_300);
    int fd = client(h, NULL, 0);
    const char r1[] = "GET /1 HTTP/1.1\r\nHost: x\r\n";
    const char r2[] = "\r\nGET /2 HTTP/1.1\r\n";
    send_all(fd, r1, sizeof(r1) - 1);
    assert_true(pump_until(h, one_conn, 2000));
    pump(h, 200);
    send_all(fd, r2, sizeof(r2) - 1);
    assert_true(wait_events(h, 1, 2000));
    assert_string_equal(h->ev[0].url, "/1");
    uint64_t t2 = sk_clock_mono_us();
    pump(h, 200); /* 400 ms after the first head began, 200 after the second */
    assert_int_equal(n_conns(h), 1);
    assert_int_equal(CTR(h, header_timeouts), 0);
    assert_true(pump_until(h, no_conn, 3000));
    assert_true(sk_clock_mono_us() - t2 >= 290000);
    assert_int_equal(CTR(h, header_timeouts), 1);
    assert_int_equal(h->nev, 2);
    assert_int_equal(h->ev[1].kind, SK_EV_RAW);
    assert_int_equal(h->ev[1].close_reason, SK_CLOSE_HEADER);
    assert_memory_equal(h->ev[1].data, "GET /2 HTTP/1.1\r\n", 17);
    assert_balanced(h);
    close(fd);
    h_stop(h);
    free(h);
}

static void short_sniff(struct h *h)
{
    h->lc[0].sniff_timeout_ms = 100;
    h->lc[0].idle_timeout_ms = 300;
}

/* A silent client: classified at the sniff timeout (no rule: keep
 * waiting, without a buffer), then closed by the idle timeout, one raw
 * event flagged silent. */
static void test_silent(void **state)
{
    (void)state;
    struct h *h = calloc(1, sizeof(*h));
    h_start(h, 1, short_sniff);
    int fd = client(h, NULL, 0);
    assert_true(pump_until(h, one_conn, 2000));
    uint64_t t0 = sk_clock_mono_us();
    pump(h, 200);
    assert_int_equal(CTR(h, sniff_timeouts), 1);
    struct conn *c = only_conn(h);
    assert_non_null(c);
    assert_true(c->flags & SK_CONNF_SILENT);
    assert_int_equal(c->phase, TQ_IDLE);
    assert_null(c->in);
    assert_null(c->out);
    assert_null(c->info);
    assert_int_equal(h->nev, 0); /* written at close */
    assert_true(pump_until(h, no_conn, 3000));
    assert_true(sk_clock_mono_us() - t0 >= 350000); /* sniff + idle */
    assert_int_equal(CTR(h, idle_timeouts), 1);
    assert_int_equal(h->nev, 1);
    assert_int_equal(h->ev[0].kind, SK_EV_RAW);
    assert_int_equal(h->ev[0].close_reason, SK_CLOSE_IDLE);
    assert_true(h->ev[0].flags & SK_CONNF_SILENT);
    assert_int_equal(h->ev[0].data_len, 0);
    assert_balanced(h);
    close(fd);
    h_stop(h);
    free(h);
}

static void per_source_2(struct h *h)
{
    h->lc[0].max_per_source = 2;
}

/* max_per_source: the third connection from one address is refused and
 * counted, not logged; every slot is given back, whatever the close. */
static void test_per_source(void **state)
{
    (void)state;
    struct h *h = calloc(1, sizeof(*h));
    h_start(h, 1, per_source_2);
    int fd[3];
    for (int i = 0; i < 3; i++)
        fd[i] = client(h, "127.0.0.9", 0);
    pump(h, 100);
    assert_int_equal(n_conns(h), 2);
    assert_int_equal(CTR(h, per_source_rejected), 1);
    struct sk_ip src;
    assert_int_equal(sk_ip_parse("127.0.0.9", &src), 0);
    uint32_t slot = listen__source_slot(h->sh.source_key, 0, &src);
    assert_int_equal(atomic_load(&h->sh.sources[slot]), 2);
    assert_int_equal(atomic_load(&h->sh.open[0]), 2);
    /* One sends garbage and resets, one leaves quietly. */
    for (int i = 0; i < 3; i++) {
        const char g[] = "\x01\x02\x03garbage";
        send(fd[i], g, sizeof(g) - 1, MSG_NOSIGNAL);
        if (i == 0)
            reset_close(fd[i]);
        else
            close(fd[i]);
    }
    assert_true(pump_until(h, no_conn, 3000));
    assert_int_equal(atomic_load(&h->sh.sources[slot]), 0);
    assert_int_equal(h->nev, 2);
    assert_balanced(h);
    h_stop(h);
    free(h);
}

static void trust_local(struct h *h)
{
    assert_int_equal(sk_prefix_parse("127.0.0.1/32", &h->lc[0].proxy_trusted[0]), 0);
    h->lc[0].n_proxy_trusted = 1;
    h->lc[0].sniff_timeout_ms = 5000;
    assert_int_equal(sk_prefix_parse("127.0.0.2/32", &h->lc[1].proxy_trusted[0]), 0);
    h->lc[1].n_proxy_trusted = 1;
}

/* A trusted sender whose connection ends (reset) inside its PROXY header:
 * counted as proxy_bad and logged as raw from the sender, malformed. */
static void test_proxy_cut_short(void **state)
{
    (void)state;
    struct h *h = calloc(1, sizeof(*h));
    h_start(h, 1, trust_local);
    int fd = client(h, "127.0.0.1", 0);
    const char part[] = "PROXY TCP4 192.0.2.1 19";
    send_all(fd, part, sizeof(part) - 1);
    pump(h, 50);
    assert_int_equal(n_conns(h), 1);
    reset_close(fd);
    assert_true(pump_until(h, no_conn, 2000));
    assert_int_equal(CTR(h, proxy_bad), 1);
    assert_int_equal(h->nev, 1);
    assert_int_equal(h->ev[0].kind, SK_EV_RAW);
    assert_true(h->ev[0].flags & SK_CONNF_MALFORMED);
    assert_int_equal(h->ev[0].sniffed, SNIFF_PROXY_V1);
    assert_memory_equal(h->ev[0].data, part, sizeof(part) - 1);
    char a[SK_IP_TEXT_MAX];
    assert_string_equal(sk_ip_ntop(&h->ev[0].src, a), "127.0.0.1");

    /* A whole header: bytes_in counts what follows it only. */
    fd = client(h, "127.0.0.1", 0);
    const char hdr[] = "PROXY TCP4 192.0.2.1 198.51.100.1 5555 80\r\n";
    const char req[] = "GET /p HTTP/1.0\r\n\r\n";
    send_all(fd, hdr, sizeof(hdr) - 1);
    send_all(fd, req, sizeof(req) - 1);
    assert_true(wait_events(h, 2, 2000));
    assert_true(pump_until(h, no_conn, 2000));
    assert_int_equal(h->nev, 2);
    assert_int_equal(h->ev[1].kind, SK_EV_HTTP);
    assert_string_equal(sk_ip_ntop(&h->ev[1].src, a), "192.0.2.1");
    assert_int_equal(CTR(h, bytes_in), sizeof(part) - 1 + sizeof(req) - 1);
    assert_balanced(h);
    close(fd);
    h_stop(h);
    free(h);
}

static bool paused(struct h *h)
{
    struct conn *c = only_conn(h);
    return c && (c->bits & CB_PAUSED);
}

/* A client that pipelines requests and reads nothing: reading stops once
 * LISTEN_OUT_HIGH is unsent, so what the connection holds stays bounded;
 * once the client reads, every request is answered. */
static void test_pipelined_not_read(void **state)
{
    (void)state;
    struct h *h = calloc(1, sizeof(*h));
    h_start(h, 1, NULL);
    int fd = client(h, NULL, 4096);
    assert_true(pump_until(h, one_conn, 2000));
    const char req[] = "GET /big HTTP/1.1\r\nHost: x\r\n\r\n";
    const size_t rl = sizeof(req) - 1;
    enum { NREQ = 300 };
    size_t total = NREQ * rl, sent = 0;
    uint8_t *all = malloc(total);
    assert_non_null(all);
    for (int i = 0; i < NREQ; i++)
        memcpy(all + (size_t)i * rl, req, rl);
    uint64_t end = sk_clock_mono_us() + 5000000u;
    while (!paused(h) && sk_clock_mono_us() < end) {
        ssize_t n = send(fd, all + sent, total - sent, MSG_NOSIGNAL);
        if (n > 0)
            sent += (size_t)n;
        pump(h, 5);
    }
    assert_true(paused(h));
    pump(h, 50);
    struct conn *c = only_conn(h);
    assert_non_null(c);
    assert_true(c->bits & CB_PAUSED);
    assert_false(c->epev & 1); /* not reading */
    assert_true(listen__out_pending(c) <= LISTEN_OUT_HIGH + BIG_BODY + 512);
    assert_true(c->in == NULL || c->in->cap <= 2 * LISTEN_RBUF);
    assert_int_equal(c->phase, TQ_IDLE); /* waiting for the client to read */
    uint64_t in_before = CTR(h, bytes_in);
    pump(h, 50);
    assert_int_equal(CTR(h, bytes_in), in_before); /* nothing read meanwhile */

    /* Now read everything, sending the rest. */
    size_t got = 0;
    char *buf = malloc(1 << 16);
    assert_non_null(buf);
    end = sk_clock_mono_us() + 20000000u;
    while (h->nev < NREQ && sk_clock_mono_us() < end) {
        if (sent < total) {
            ssize_t n = send(fd, all + sent, total - sent, MSG_NOSIGNAL);
            if (n > 0)
                sent += (size_t)n;
        }
        ssize_t n;
        while ((n = recv(fd, buf, 1 << 16, 0)) > 0)
            got += (size_t)n;
        pump(h, 2);
    }
    assert_int_equal(sent, total);
    assert_int_equal(h->nev, NREQ);
    for (int i = 0; i < NREQ; i++)
        assert_int_equal(h->ev[i].status, 200);
    while (got < (size_t)NREQ * BIG_BODY && sk_clock_mono_us() < end) {
        ssize_t n;
        while ((n = recv(fd, buf, 1 << 16, 0)) > 0)
            got += (size_t)n;
        pump(h, 2);
    }
    assert_true(got > (size_t)NREQ * BIG_BODY);
    free(buf);
    free(all);
    close(fd);
    assert_true(pump_until(h, no_conn, 2000));
    assert_balanced(h);
    h_stop(h);
    free(h);
}

/* Out of file descriptors: accept() fails, the failure is counted once
 * and the listening socket is left alone for a while (no spinning, even
 * when the log cannot be written), then accepting resumes. */
static void test_accept_emfile(void **state)
{
    (void)state;
    struct h *h = calloc(1, sizeof(*h));
    h_start(h, 1, NULL);
    int fd[3];
    for (int i = 0; i < 3; i++)
        fd[i] = client(h, NULL, 0);
    assert_int_equal(log_open("/dev/full"), 0); /* every log write fails */
    struct rlimit old, low;
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
    int lowest = dup(0);
    assert_true(lowest >= 0);
    close(lowest);
    low = old;
    low.rlim_cur = (rlim_t)lowest;
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
    for (int i = 0; i < 30; i++) {
        loop_run_once(&h->loop, 1);
        listen_worker_tick(h->w);
    }
    uint64_t errs = CTR(h, accept_errors);
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
    assert_int_equal(log_open(NULL), 0);
    assert_int_equal(errs, 1);
    assert_int_equal(n_conns(h), 0);
    assert_true(h->w->resume_accept != 0);
    pump(h, LISTEN_ACCEPT_PAUSE_US / 1000 + 100);
    assert_int_equal(n_conns(h), 3);
    assert_int_equal(CTR(h, connections_accepted), 3);
    for (int i = 0; i < 3; i++)
        close(fd[i]);
    assert_true(pump_until(h, no_conn, 2000));
    assert_balanced(h);
    h_stop(h);
    free(h);
}

/* Stop: the connections still open are closed and logged with
 * close_reason shutdown; a keep-alive one whose requests were all logged
 * adds nothing. */
static void test_stop_logs_open(void **state)
{
    (void)state;
    struct h *h = calloc(1, sizeof(*h));
    h_start(h, 1, NULL);
    int a = client(h, NULL, 0), b = client(h, NULL, 0), k = client(h, NULL, 0);
    const char part[] = "GET /part HT";
    send_all(a, part, sizeof(part) - 1);
    const char req[] = "GET /ka HTTP/1.1\r\nHost: x\r\n\r\n";
    send_all(k, req, sizeof(req) - 1);
    pump(h, 100);
    assert_int_equal(n_conns(h), 3);
    assert_int_equal(h->nev, 1);
    listen_worker_stop(h->w, 100);
    assert_int_equal(n_conns(h), 0);
    assert_int_equal(h->nev, 3);
    int shut = 0, with_data = 0;
    for (int i = 1; i < h->nev; i++) {
        assert_int_equal(h->ev[i].kind, SK_EV_RAW);
        shut += h->ev[i].close_reason == SK_CLOSE_SHUTDOWN;
        if (h->ev[i].data_len == sizeof(part) - 1 &&
            memcmp(h->ev[i].data, part, sizeof(part) - 1) == 0)
            with_data++;
    }
    assert_int_equal(shut, 2);
    assert_int_equal(with_data, 1);
    assert_balanced(h);
    close(a);
    close(b);
    close(k);
    h_stop(h);
    free(h);
}

static int udp_client(const char *src)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sin = { .sin_family = AF_INET };
    inet_pton(AF_INET, src, &sin.sin_addr);
    assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    return fd;
}

static ssize_t udp_exchange(struct h *h, int fd, const struct sk_ip *to, const void *p, size_t n,
                            uint8_t *reply, size_t cap)
{
    struct sockaddr_storage ss;
    socklen_t sl = sk_ip_to_sockaddr(to, &ss);
    assert_int_equal(sendto(fd, p, n, 0, (struct sockaddr *)&ss, sl), (ssize_t)n);
    int before = h->nev;
    uint64_t end = sk_clock_mono_us() + 2000000u;
    while (h->nev == before && sk_clock_mono_us() < end)
        pump(h, 2);
    assert_int_equal(h->nev, before + 1);
    pump(h, 20);
    return recv(fd, reply, cap, 0);
}

/* UDP: a reply never longer than the datagram; a PROXY header from a
 * sender that is not trusted is logged, counted, not answered. */
static void test_udp(void **state)
{
    (void)state;
    struct h *h = calloc(1, sizeof(*h));
    h_start(h, 2, trust_local);
    struct sk_ip u;
    assert_int_equal(listen_worker_bound(h->w, 1, 0, &u), 0);
    const struct listen_counters *uc = listen_worker_counters(h->w, 1);
    int fd = udp_client("127.0.0.1");
    uint8_t r[64];
    const uint8_t d4[] = { 0x55, 1, 2, 3 }, d2[] = { 0x55, 1 }, d1[] = { 0x01 };
    assert_int_equal(udp_exchange(h, fd, &u, d4, sizeof(d4), r, sizeof(r)), 4);
    assert_int_equal(udp_exchange(h, fd, &u, d2, sizeof(d2), r, sizeof(r)), -1);
    assert_int_equal(udp_exchange(h, fd, &u, d1, sizeof(d1), r, sizeof(r)), 1);
    assert_int_equal(atomic_load(&uc->udp_replies), 2);
    static const uint8_t v2[] = { 0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51,
                                  0x55, 0x49, 0x54, 0x0a, 0x21, 0x12, 0x00, 0x00 };
    assert_int_equal(udp_exchange(h, fd, &u, v2, sizeof(v2), r, sizeof(r)), -1);
    assert_int_equal(atomic_load(&uc->proxy_untrusted), 1);
    assert_int_equal(atomic_load(&uc->udp_replies), 2);
    assert_int_equal(h->ev[h->nev - 1].sniffed, SNIFF_PROXY_V2);
    close(fd);
    h_stop(h);
    free(h);
}

int main(void)
{
    log_set_level(SK_LOG_WARN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tq_order),
        cmocka_unit_test(test_source_table),
        cmocka_unit_test(test_conn_size),
        cmocka_unit_test(test_idle_holds_nothing),
        cmocka_unit_test(test_header_timeout),
        cmocka_unit_test(test_header_timeout_pipelined),
        cmocka_unit_test(test_silent),
        cmocka_unit_test(test_per_source),
        cmocka_unit_test(test_proxy_cut_short),
        cmocka_unit_test(test_pipelined_not_read),
        cmocka_unit_test(test_accept_emfile),
        cmocka_unit_test(test_stop_logs_open),
        cmocka_unit_test(test_udp),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
