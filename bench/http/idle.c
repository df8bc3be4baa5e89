/* bench/http/idle.c -- hold many idle HTTP connections to a server, in
 * stages, so the server's memory can be read at each one.
 *
 * Opens connections up to each count of -n (e.g. 1000,5000,19000) from
 * source addresses 127.1.x.y, at most -P connections per address (bind()
 * before connect() with IP_BIND_ADDRESS_NO_PORT, so one address is not
 * limited to the ephemeral ports and a server's per-source limit is not
 * hit). What each connection then does is set by -m:
 *
 *   none      sends nothing (the server waits for a first byte)
 *   partial   sends half a request head, "GET /x HTTP/1.1\r\nHost: bench\r\n"
 *   request   sends a whole keep-alive request and reads the response,
 *             then stays open (a client between requests)
 *
 * At each stage, once every connection is open (and, with request, has its
 * response), it waits -w milliseconds for the server to settle, then prints
 *
 *   stage=N open=N failed=F closed=C ok=K
 *
 * (closed: connections the server has closed since; ok: 200 responses) and
 * waits for a line on standard input before the next stage; after the last
 * stage, for end of input. Stops on SIGTERM/SIGINT or after -l seconds, so
 * it cannot hold connections for ever. Connects to 127.0.0.0/8 only. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem */
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../common.h"

#define ID_MAX_STAGES 16
#define ID_MAX_CONNS  1000000
#define ID_BATCH      200 /* connects in flight at once */

enum id_mode { ID_NONE, ID_PARTIAL, ID_REQUEST };
enum id_state { ID_CONNECTING, ID_WAIT_RESP, ID_OPEN, ID_CLOSED };

struct id_conn {
    int fd;
    uint8_t state;
    uint16_t got; /* response bytes so far (request mode) */
};

/* CLOCK_MONOTONIC, in milliseconds. */
static uint64_t now_ms(void)
{
    return bench_now_ns() / 1000000u;
}

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: bench_http_idle -p PORT -n N[,N...] [options]\n"
            "\n"
            "Open idle connections in stages; print a line at each, wait for a line on stdin.\n"
            "  -a ADDR   server address, in 127.0.0.0/8 (default 127.0.0.1)\n"
            "  -p PORT   server port (required)\n"
            "  -n LIST   connection counts of the stages, increasing (e.g. 1000,5000,19000)\n"
            "  -m MODE   none | partial | request (default request)\n"
            "  -P N      connections per source address 127.1.x.y (default 50)\n"
            "  -w MS     settle time after each stage (default 1000)\n"
            "  -l SECS   give up and exit after this long (default 600)\n");
}

static const char REQ_FULL[] = "GET /x HTTP/1.1\r\nHost: bench\r\n\r\n";
static const char REQ_PART[] = "GET /x HTTP/1.1\r\nHost: bench\r\n";

struct idle {
    struct sockaddr_in dst;
    int ep;
    int mode;
    int per_src;
    struct id_conn *c;
    int n;       /* connections started */
    int pending; /* connecting or waiting for a response */
    long failed, closed, ok;
};

static void id_fail(struct idle *g, struct id_conn *c)
{
    close(c->fd);
    c->fd = -1;
    if (c->state == ID_CONNECTING || c->state == ID_WAIT_RESP) {
        g->pending--;
        g->failed++;
    } else {
        g->closed++;
    }
    c->state = ID_CLOSED;
}

static void id_open(struct idle *g)
{
    int i = g->n++;
    struct id_conn *c = &g->c[i];
    c->fd = -1;
    c->state = ID_CLOSED;
    c->got = 0;
    struct sockaddr_in src = bench_source_addr(1, i / g->per_src); /* 127.1.x.y */
    struct epoll_event ev = { .events = EPOLLOUT | EPOLLIN | EPOLLRDHUP, .data.u32 = (uint32_t)i };
    int fd = bench_tcp_connect(&g->dst, &src);
    if (fd < 0) {
        g->failed++;
        return;
    }
    if (epoll_ctl(g->ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
        close(fd);
        g->failed++;
        return;
    }
    c->fd = fd;
    c->state = ID_CONNECTING;
    g->pending++;
}

static void id_event(struct idle *g, struct id_conn *c, uint32_t events)
{
    if (c->state == ID_CLOSED)
        return;
    if (c->state == ID_CONNECTING) {
        if (events & (EPOLLERR | EPOLLHUP)) {
            id_fail(g, c);
            return;
        }
        if (!(events & EPOLLOUT))
            return;
        const char *r = g->mode == ID_REQUEST ? REQ_FULL : REQ_PART;
        size_t len = g->mode == ID_REQUEST ? sizeof(REQ_FULL) - 1 : sizeof(REQ_PART) - 1;
        if (g->mode != ID_NONE && send(c->fd, r, len, MSG_NOSIGNAL) != (ssize_t)len) {
            id_fail(g, c);
            return;
        }
        /* From now on only reads matter: a close, or the response. */
        struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP,
                                  .data.u32 = (uint32_t)(c - g->c) };
        epoll_ctl(g->ep, EPOLL_CTL_MOD, c->fd, &ev);
        if (g->mode == ID_REQUEST) {
            c->state = ID_WAIT_RESP;
        } else {
            c->state = ID_OPEN;
            g->pending--;
        }
        return;
    }
    char buf[4096];
    for (;;) {
        ssize_t n = recv(c->fd, buf, sizeof(buf), 0);
        if (n > 0) {
            if (c->state == ID_WAIT_RESP) {
                /* The response is small and comes whole: its head ends in
                 * this read, the "ok\n" body with it. */
                if (c->got == 0 && n >= 12 && memcmp(buf, "HTTP/1.", 7) == 0 &&
                    memcmp(buf + 9, "200", 3) == 0)
                    g->ok++;
                c->got = (uint16_t)(c->got + (n > 60000 ? 60000 : n));
                if (memmem(buf, (size_t)n, "\r\n\r\n", 4)) {
                    c->state = ID_OPEN;
                    g->pending--;
                }
            }
            continue;
        }
        if (n == 0 || (errno != EAGAIN && errno != EINTR))
            id_fail(g, c);
        return;
    }
}

/* Handle events for up to ms milliseconds (0: what is ready now). */
static int id_poll(struct idle *g, int ms)
{
    struct epoll_event evs[256];
    int n = epoll_wait(g->ep, evs, 256, ms);
    if (n < 0)
        return errno == EINTR ? 0 : -1;
    for (int i = 0; i < n; i++) {
        if (evs[i].data.u32 == UINT32_MAX)
            continue; /* stdin: read by the caller */
        id_event(g, &g->c[evs[i].data.u32], evs[i].events);
    }
    return n;
}

/* Wait for a line (or end) on stdin while watching the connections.
 * Returns 1 on a line, 0 at end of input or on a stop signal. */
static int id_wait_stdin(struct idle *g, uint64_t deadline)
{
    for (;;) {
        if (bench_stop || now_ms() >= deadline)
            return 0;
        struct epoll_event evs[256];
        int n = epoll_wait(g->ep, evs, 256, 200);
        if (n < 0 && errno != EINTR)
            return 0;
        int line = 0;
        for (int i = 0; i < n; i++) {
            if (evs[i].data.u32 == UINT32_MAX)
                line = 1;
            else
                id_event(g, &g->c[evs[i].data.u32], evs[i].events);
        }
        if (line) {
            char b[256];
            ssize_t r = read(0, b, sizeof(b));
            if (r <= 0)
                return 0;
            if (memchr(b, '\n', (size_t)r))
                return 1;
        }
    }
}

int main(int argc, char **argv)
{
    struct idle g;
    memset(&g, 0, sizeof(g));
    const char *addr = "127.0.0.1", *list = NULL, *mode = "request";
    int port = 0, settle = 1000;
    long life = 600;
    g.per_src = 50;
    int ch;
    while ((ch = getopt(argc, argv, "a:p:n:m:P:w:l:h")) != -1) {
        switch (ch) {
        case 'a':
            addr = optarg;
            break;
        case 'p':
            port = atoi(optarg);
            break;
        case 'n':
            list = optarg;
            break;
        case 'm':
            mode = optarg;
            break;
        case 'P':
            g.per_src = atoi(optarg);
            break;
        case 'w':
            settle = atoi(optarg);
            break;
        case 'l':
            life = atol(optarg);
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    int stages[ID_MAX_STAGES], nst = 0;
    for (const char *p = list; p && *p;) {
        char *e;
        long v = strtol(p, &e, 10);
        if (e == p || v < 1 || v > ID_MAX_CONNS || (nst && v <= stages[nst - 1]) ||
            nst == ID_MAX_STAGES || (*e != ',' && *e != '\0')) {
            nst = 0;
            break;
        }
        stages[nst++] = (int)v;
        p = *e ? e + 1 : e;
    }
    if (strcmp(mode, "none") == 0)
        g.mode = ID_NONE;
    else if (strcmp(mode, "partial") == 0)
        g.mode = ID_PARTIAL;
    else if (strcmp(mode, "request") == 0)
        g.mode = ID_REQUEST;
    else
        g.mode = -1;
    if (port < 1 || port > 65535 || nst == 0 || g.mode < 0 || g.per_src < 1 || g.per_src > 60000 ||
        settle < 0 || settle > 60000 || life < 1 || life > 86400 ||
        stages[nst - 1] / g.per_src >= 250 * 250) {
        usage(stderr);
        return 2;
    }
    if (bench_loopback4(addr, port, &g.dst) != 0) {
        fprintf(stderr, "idle: %s: not an address in 127.0.0.0/8\n", addr);
        return 2;
    }
    g.c = calloc((size_t)stages[nst - 1], sizeof(*g.c));
    g.ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event sev = { .events = EPOLLIN, .data.u32 = UINT32_MAX };
    if (!g.c || g.ep < 0 || epoll_ctl(g.ep, EPOLL_CTL_ADD, 0, &sev) != 0) {
        perror("idle");
        return 1;
    }
    bench_stop_on_signals();
    signal(SIGPIPE, SIG_IGN);
    uint64_t deadline = now_ms() + (uint64_t)life * 1000u;

    int rc = 0;
    for (int s = 0; s < nst && !bench_stop; s++) {
        /* Open up to the stage's count, ID_BATCH handshakes (and, with
         * request, responses) outstanding at a time, so the server's accept
         * queue never overflows. */
        while (!bench_stop && (g.n < stages[s] || g.pending > 0)) {
            if (now_ms() >= deadline) {
                fprintf(stderr, "idle: stage %d not reached in time\n", stages[s]);
                return 1;
            }
            while (g.n < stages[s] && g.pending < ID_BATCH)
                id_open(&g);
            if (id_poll(&g, 100) < 0) {
                perror("idle: epoll_wait");
                return 1;
            }
        }
        uint64_t until = now_ms() + (uint64_t)settle;
        while (!bench_stop && now_ms() < until)
            id_poll(&g, (int)(until - now_ms()) + 1);
        long open = g.n - g.failed - g.closed;
        printf("stage=%d open=%ld failed=%ld closed=%ld ok=%ld\n", stages[s], open, g.failed,
               g.closed, g.ok);
        fflush(stdout);
        if (!id_wait_stdin(&g, deadline))
            break;
    }
    if (g.failed || g.closed)
        rc = 1;
    for (int i = 0; i < g.n; i++)
        if (g.c[i].fd >= 0)
            close(g.c[i].fd);
    free(g.c);
    close(g.ep);
    return rc;
}
