/* bench/http/connclose.c -- a lean HTTP load generator: a new connection per
 * request, or a fixed number of requests per connection.
 *
 * One thread, one epoll set, -c connections in flight. Each one connects,
 * sends "GET PATH HTTP/1.1" (the last request on a connection carries
 * "Connection: close"), reads the response head and its Content-Length
 * body, and with -k 1 (the default) waits for the server to close, then
 * opens the next connection. With -k N it sends N requests on a connection
 * before closing it, each one after the previous response. Latency is from
 * connect() (the first request of a connection) or from the send (the
 * others) to the last byte of the response.
 *
 * Bounded by -d seconds and -n responses, whichever comes first. Prints one
 * line of key=value pairs: responses, status 200 among them, errors by kind,
 * responses/s, latency percentiles and the generator's own CPU time.
 *
 * Connects to 127.0.0.0/8 only. With -S N the connections come from N source
 * addresses 127.2.x.y (bind() before connect() with IP_BIND_ADDRESS_NO_PORT),
 * which spreads them over N times the ephemeral ports. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem, strcasestr, accept4 */
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
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../common.h"

#define CC_HEAD_MAX  1024
#define CC_HIST_US   1000000 /* latency histogram: 1 µs buckets up to 1 s */
#define CC_MAX_CONNS 16384
#define CC_MAX_SRC   60000

enum cc_state { CC_FREE, CC_CONNECTING, CC_READING, CC_WAIT_CLOSE };

struct cc_slot {
    int fd;
    uint8_t state;
    uint32_t nreq; /* requests sent on this connection */
    uint64_t t0;   /* ns: start of the current request */
    uint32_t got;  /* bytes of the current response so far */
    uint32_t hlen; /* bytes kept in head (at most CC_HEAD_MAX) */
    int64_t body;  /* body bytes still to come; -1: head not complete */
    char head[CC_HEAD_MAX];
};

struct cc {
    struct sockaddr_in dst;
    struct sockaddr_in *src; /* nsrc source addresses, or NULL */
    int nsrc;
    int next_src;
    int ep;
    int per_conn; /* requests per connection */
    char req[512], req_last[512];
    size_t req_len, req_last_len;
    uint64_t timeout_ns;
    struct cc_slot *slots;
    int nslots;
    uint32_t *hist;
    uint64_t max_ns, sum_us;
    /* counters */
    uint64_t responses, ok, non200, connections;
    uint64_t err_connect, err_reset, err_short, err_timeout, err_parse;
    uint64_t limit; /* responses */
    int stopping;
};

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: bench_http_connclose -p PORT [options]\n"
            "\n"
            "HTTP load with a new connection per request (or per -k requests).\n"
            "  -a ADDR   server address, in 127.0.0.0/8 (default 127.0.0.1)\n"
            "  -p PORT   server port (required)\n"
            "  -c N      connections in flight (default 32, at most 16384)\n"
            "  -d SECS   run this long (default 10, at most 600)\n"
            "  -n N      stop after N responses (default: no limit but -d)\n"
            "  -k N      requests per connection, the last with Connection: close (default 1)\n"
            "  -S N      spread the connections over N source addresses 127.2.x.y (default 0:\n"
            "            let the kernel choose 127.0.0.1)\n"
            "  -u PATH   request target (default /x)\n"
            "  -H HOST   Host header (default bench)\n"
            "  -t SECS   a request not answered in this long is an error (default 5)\n");
}

static void cc_close(struct cc_slot *s)
{
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
    s->state = CC_FREE;
}

/* Send the next request on s; the last one of a connection asks the server
 * to close. Returns 0, or -1 if the connection failed. */
static int cc_send(struct cc *g, struct cc_slot *s)
{
    int last = s->nreq + 1 >= (uint32_t)g->per_conn;
    const char *r = last ? g->req_last : g->req;
    size_t len = last ? g->req_last_len : g->req_len;
    ssize_t n = send(s->fd, r, len, MSG_NOSIGNAL);
    if (n != (ssize_t)len)
        return -1; /* a request this small always fits an empty send buffer */
    s->nreq++;
    s->got = 0;
    s->hlen = 0;
    s->body = -1;
    s->state = CC_READING;
    return 0;
}

/* Open a new connection in slot s, unless the run is over. */
static void cc_open(struct cc *g, struct cc_slot *s, uint64_t now)
{
    s->fd = -1;
    s->state = CC_FREE;
    if (g->stopping)
        return;
    const struct sockaddr_in *src = NULL;
    if (g->nsrc > 0) {
        src = &g->src[g->next_src];
        g->next_src = (g->next_src + 1) % g->nsrc;
    }
    int fd = bench_tcp_connect(&g->dst, src);
    if (fd < 0) {
        g->err_connect++;
        return;
    }
    struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
                              .data.u32 = (uint32_t)(s - g->slots) };
    if (epoll_ctl(g->ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
        close(fd);
        g->err_connect++;
        return;
    }
    s->fd = fd;
    s->state = CC_CONNECTING;
    s->nreq = 0;
    s->t0 = now;
    g->connections++;
}

static void cc_record(struct cc *g, struct cc_slot *s, uint64_t now)
{
    uint64_t ns = now - s->t0;
    uint64_t us = ns / 1000;
    g->hist[us < CC_HIST_US ? us : CC_HIST_US - 1]++;
    g->sum_us += us;
    if (ns > g->max_ns)
        g->max_ns = ns;
    g->responses++;
    int status = 0;
    if (s->hlen >= 12 && memcmp(s->head, "HTTP/1.", 7) == 0)
        status = (s->head[9] - '0') * 100 + (s->head[10] - '0') * 10 + (s->head[11] - '0');
    if (status == 200)
        g->ok++;
    else
        g->non200++;
    if (g->limit && g->responses >= g->limit)
        g->stopping = 1;
}

/* Take n bytes of response. Returns 1 when the response is complete. */
static int cc_feed(struct cc *g, struct cc_slot *s, const char *p, size_t n)
{
    s->got += (uint32_t)n;
    if (s->body < 0) {
        size_t keep = n < CC_HEAD_MAX - s->hlen ? n : CC_HEAD_MAX - s->hlen;
        memcpy(s->head + s->hlen, p, keep);
        s->hlen += (uint32_t)keep;
        const char *e = memmem(s->head, s->hlen, "\r\n\r\n", 4);
        if (!e) {
            if (s->hlen == CC_HEAD_MAX) {
                g->err_parse++;
                return -1;
            }
            return 0;
        }
        size_t head_len = (size_t)(e - s->head) + 4;
        int64_t cl = 0;
        /* The head ends in "\r\n\r\n": a NUL there bounds the search. */
        s->head[head_len - 1] = '\0';
        const char *h = strcasestr(s->head, "\r\nContent-Length:");
        s->head[head_len - 1] = '\n';
        if (h)
            cl = strtoll(h + 17, NULL, 10);
        s->body = cl - (int64_t)(s->got - head_len);
    } else {
        s->body -= (int64_t)n;
    }
    return s->body <= 0;
}

static void cc_event(struct cc *g, struct cc_slot *s, uint32_t events, uint64_t now)
{
    if (s->state == CC_CONNECTING) {
        if (events & (EPOLLERR | EPOLLHUP)) {
            g->err_connect++;
            goto again;
        }
        if (!(events & EPOLLOUT))
            return;
        if (cc_send(g, s) != 0) {
            g->err_connect++;
            goto again;
        }
        /* The response comes with a later EPOLLIN, unless the server
         * closed at once (an edge already seen: read now). */
        if (!(events & (EPOLLIN | EPOLLRDHUP | EPOLLERR | EPOLLHUP)))
            return;
    }
    if (!(events & (EPOLLIN | EPOLLRDHUP | EPOLLERR | EPOLLHUP)))
        return;
    char buf[16384];
    for (;;) {
        ssize_t n = recv(s->fd, buf, sizeof(buf), 0);
        if (n > 0) {
            if (s->state == CC_WAIT_CLOSE)
                continue; /* bytes after the last response: ignored */
            int done = cc_feed(g, s, buf, (size_t)n);
            if (done < 0)
                goto again;
            if (done) {
                cc_record(g, s, now);
                if (s->nreq >= (uint32_t)g->per_conn) {
                    s->state = CC_WAIT_CLOSE;
                } else if (g->stopping) {
                    goto again;
                } else {
                    s->t0 = now;
                    if (cc_send(g, s) != 0) {
                        g->err_reset++;
                        goto again;
                    }
                }
            }
            continue;
        }
        if (n == 0) {
            if (s->state != CC_WAIT_CLOSE)
                g->err_short++;
            goto again;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return;
        if (errno == EINTR)
            continue;
        g->err_reset++;
        goto again;
    }
again:
    cc_close(s);
    cc_open(g, s, now);
}

static int parse_src(struct cc *g, int n)
{
    g->src = calloc((size_t)n, sizeof(*g->src));
    if (!g->src)
        return -1;
    for (int i = 0; i < n; i++)
        g->src[i] = bench_source_addr(2, i); /* 127.2.x.y */
    g->nsrc = n;
    return 0;
}

static uint64_t pct(const uint32_t *hist, uint64_t total, double p)
{
    if (total == 0)
        return 0;
    uint64_t want = (uint64_t)(p * (double)total);
    if (want >= total)
        want = total - 1;
    uint64_t seen = 0;
    for (uint64_t i = 0; i < CC_HIST_US; i++) {
        seen += hist[i];
        if (seen > want)
            return i;
    }
    return CC_HIST_US - 1;
}

int main(int argc, char **argv)
{
    struct cc g;
    memset(&g, 0, sizeof(g));
    const char *addr = "127.0.0.1", *path = "/x", *host = "bench";
    int port = 0, conns = 32, nsrc = 0;
    double secs = 10, tmo = 5;
    long long limit = 0;
    g.per_conn = 1;
    int c;
    while ((c = getopt(argc, argv, "a:p:c:d:n:k:S:u:H:t:h")) != -1) {
        switch (c) {
        case 'a':
            addr = optarg;
            break;
        case 'p':
            port = atoi(optarg);
            break;
        case 'c':
            conns = atoi(optarg);
            break;
        case 'd':
            secs = atof(optarg);
            break;
        case 'n':
            limit = atoll(optarg);
            break;
        case 'k':
            g.per_conn = atoi(optarg);
            break;
        case 'S':
            nsrc = atoi(optarg);
            break;
        case 'u':
            path = optarg;
            break;
        case 'H':
            host = optarg;
            break;
        case 't':
            tmo = atof(optarg);
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (port < 1 || port > 65535 || conns < 1 || conns > CC_MAX_CONNS || !(secs > 0) ||
        secs > 600 || limit < 0 || g.per_conn < 1 || nsrc < 0 || nsrc > CC_MAX_SRC || !(tmo > 0) ||
        tmo > 60 || strlen(path) > 200 || strlen(host) > 200) {
        usage(stderr);
        return 2;
    }
    if (bench_loopback4(addr, port, &g.dst) != 0) {
        fprintf(stderr, "connclose: %s: not an address in 127.0.0.0/8\n", addr);
        return 2;
    }
    if (nsrc > 0 && parse_src(&g, nsrc) != 0)
        return 1;
    g.req_len =
        (size_t)snprintf(g.req, sizeof(g.req), "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", path, host);
    g.req_last_len =
        (size_t)snprintf(g.req_last, sizeof(g.req_last),
                         "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", path, host);
    g.limit = (uint64_t)limit;
    g.timeout_ns = (uint64_t)(tmo * 1e9);
    g.nslots = conns;
    g.slots = calloc((size_t)conns, sizeof(*g.slots));
    g.hist = calloc(CC_HIST_US, sizeof(*g.hist));
    g.ep = epoll_create1(EPOLL_CLOEXEC);
    if (!g.slots || !g.hist || g.ep < 0) {
        perror("connclose");
        return 1;
    }
    bench_stop_on_signals();
    signal(SIGPIPE, SIG_IGN);

    double cpu0 = bench_cpu_s();
    uint64_t start = bench_now_ns();
    uint64_t deadline = start + (uint64_t)(secs * 1e9);
    uint64_t next_check = start + 100000000u;
    for (int i = 0; i < conns; i++)
        cc_open(&g, &g.slots[i], start);

    struct epoll_event evs[256];
    uint64_t now = start;
    while (!g.stopping && !bench_stop) {
        int n = epoll_wait(g.ep, evs, 256, 50);
        if (n < 0 && errno != EINTR) {
            perror("connclose: epoll_wait");
            return 1;
        }
        now = bench_now_ns();
        if (now >= deadline)
            break; /* responses after the deadline are not counted */
        for (int i = 0; i < n && !g.stopping; i++)
            cc_event(&g, &g.slots[evs[i].data.u32], evs[i].events, now);
        if (now >= next_check) {
            /* Timeouts, and slots whose connect failed at once. */
            next_check = now + 100000000u;
            for (int i = 0; i < conns; i++) {
                struct cc_slot *s = &g.slots[i];
                if (s->state == CC_FREE) {
                    cc_open(&g, s, now);
                } else if (now - s->t0 > g.timeout_ns) {
                    g.err_timeout++;
                    cc_close(s);
                    cc_open(&g, s, now);
                }
            }
        }
    }
    uint64_t end = now < deadline ? now : deadline;
    double cpu = bench_cpu_s() - cpu0;
    for (int i = 0; i < conns; i++)
        if (g.slots[i].fd >= 0)
            close(g.slots[i].fd);

    double el = (double)(end - start) / 1e9;
    uint64_t r = g.responses;
    printf("responses=%llu ok=%llu non200=%llu connections=%llu err_connect=%llu err_reset=%llu "
           "err_short=%llu err_timeout=%llu err_parse=%llu elapsed_s=%.3f rps=%.0f avg_us=%.1f "
           "p50_us=%llu p90_us=%llu p99_us=%llu p999_us=%llu max_us=%.0f gen_cpu_s=%.3f "
           "gen_cpu_pct=%.1f conns=%d per_conn=%d sources=%d\n",
           (unsigned long long)r, (unsigned long long)g.ok, (unsigned long long)g.non200,
           (unsigned long long)g.connections, (unsigned long long)g.err_connect,
           (unsigned long long)g.err_reset, (unsigned long long)g.err_short,
           (unsigned long long)g.err_timeout, (unsigned long long)g.err_parse, el,
           el > 0 ? (double)r / el : 0, r ? (double)g.sum_us / (double)r : 0,
           (unsigned long long)pct(g.hist, r, 0.50), (unsigned long long)pct(g.hist, r, 0.90),
           (unsigned long long)pct(g.hist, r, 0.99), (unsigned long long)pct(g.hist, r, 0.999),
           (double)g.max_ns / 1000, cpu, el > 0 ? 100 * cpu / el : 0, conns, g.per_conn, nsrc);
    free(g.slots);
    free(g.hist);
    free(g.src);
    close(g.ep);
    return r > 0 ? 0 : 1;
}
