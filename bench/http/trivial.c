/* bench/http/trivial.c -- the least an HTTP server can do: the load
 * generators' ceiling.
 *
 * One thread, one epoll set. Every request head (bytes up to a blank line)
 * gets the same 200 response with the body "ok\n"; a head that says
 * "Connection: close" gets the response and the connection closed, as a
 * real server does. Nothing is parsed, checked or logged. Run against it,
 * wrk and bench_http_connclose show how many requests per second they can
 * drive at all, so the benchmark can tell when the generator, not the
 * server, is the limit.
 *
 * Binds to 127.0.0.0/8 only; stops on SIGTERM/SIGINT or after -l seconds
 * (default 600), so a forgotten instance cannot run for ever. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* accept4, memmem */
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

#define TR_BUF 2048

struct tr_conn {
    int fd;
    uint32_t len; /* bytes of an unfinished head kept in buf */
    char buf[TR_BUF];
};

static const char RESP_KA[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                              "Content-Length: 3\r\nConnection: keep-alive\r\n\r\nok\n";
static const char RESP_CLOSE[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                                 "Content-Length: 3\r\nConnection: close\r\n\r\nok\n";

static void usage(FILE *out)
{
    fprintf(out, "Usage: bench_http_trivial -p PORT [-s ADDR] [-l SECS]\n"
                 "\n"
                 "Answer every HTTP request head with 200 \"ok\\n\"; close after\n"
                 "a request with Connection: close.\n"
                 "  -s ADDR   address to bind, in 127.0.0.0/8 (default 127.0.0.1)\n"
                 "  -p PORT   port to bind (required)\n"
                 "  -l SECS   exit after this long (default 600)\n");
}

/* Answer every complete head in c->buf. Returns 1 if the connection is to
 * be closed. */
static int tr_serve(struct tr_conn *c)
{
    int fd = c->fd;
    char out[16 * sizeof(RESP_KA)];
    size_t olen = 0;
    int close_it = 0;
    char *p = c->buf, *end = c->buf + c->len;
    for (;;) {
        char *e = memmem(p, (size_t)(end - p), "\r\n\r\n", 4);
        if (!e)
            break;
        close_it = memmem(p, (size_t)(e - p), "\r\nConnection: close", 19) != NULL;
        const char *r = close_it ? RESP_CLOSE : RESP_KA;
        size_t rl = close_it ? sizeof(RESP_CLOSE) - 1 : sizeof(RESP_KA) - 1;
        if (olen + rl > sizeof(out)) {
            if (send(fd, out, olen, MSG_NOSIGNAL) != (ssize_t)olen)
                return 1;
            olen = 0;
        }
        memcpy(out + olen, r, rl);
        olen += rl;
        p = e + 4;
        if (close_it)
            break;
    }
    if (olen && send(fd, out, olen, MSG_NOSIGNAL) != (ssize_t)olen)
        return 1;
    if (close_it)
        return 1;
    c->len = (uint32_t)(end - p);
    memmove(c->buf, p, c->len);
    return c->len == TR_BUF; /* a head longer than the buffer: give up */
}

int main(int argc, char **argv)
{
    struct bench_server_opts o;
    int rc = bench_server_opts(argc, argv, usage, &o);
    if (rc >= 0)
        return rc;
    struct sockaddr_in sa;
    if (bench_loopback4(o.host, o.port, &sa) != 0) {
        fprintf(stderr, "trivial: %s: not an address in 127.0.0.0/8\n", o.host);
        return 2;
    }
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(lfd, 4096) != 0) {
        perror("trivial: listen");
        return 1;
    }
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
    if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) != 0) {
        perror("trivial: epoll");
        return 1;
    }
    bench_stop_on_signals();
    signal(SIGPIPE, SIG_IGN);
    alarm((unsigned)o.limit);
    bench_stop_on(SIGALRM);

    struct epoll_event evs[256];
    while (!bench_stop) {
        int n = epoll_wait(ep, evs, 256, 1000);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            perror("trivial: epoll_wait");
            return 1;
        }
        for (int i = 0; i < n; i++) {
            struct tr_conn *conn = evs[i].data.ptr;
            if (!conn) {
                for (;;) {
                    int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                    if (fd < 0)
                        break; /* EAGAIN, or out of descriptors: try at the next event */
                    struct tr_conn *nc = malloc(sizeof(*nc));
                    if (!nc) {
                        close(fd);
                        continue;
                    }
                    nc->fd = fd;
                    nc->len = 0;
                    struct epoll_event cev = { .events = EPOLLIN, .data.ptr = nc };
                    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &cev) != 0) {
                        close(fd);
                        free(nc);
                    }
                }
                continue;
            }
            /* Level-triggered: one read per event; what is left comes
             * with the next one. */
            ssize_t r = recv(conn->fd, conn->buf + conn->len, TR_BUF - conn->len, 0);
            int done = 0;
            if (r > 0) {
                conn->len += (uint32_t)r;
                done = tr_serve(conn);
            } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
                done = 1;
            }
            if (done) {
                close(conn->fd); /* also leaves the epoll set */
                free(conn);
            }
        }
    }
    close(ep);
    close(lfd);
    return 0;
}
