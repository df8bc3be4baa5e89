/* bench/common.h -- helpers shared by the benchmark tools under bench/.
 *
 * Clocks, the stop flag set by SIGINT/SIGTERM, loopback-only addresses and
 * the option parsing of the trivial servers. Everything is static inline,
 * so each tool stays one .c file (bench/CMakeLists.txt builds
 * bench/<name>/<tool>.c alone). No helper here ever accepts an address
 * outside 127.0.0.0/8 or ::1. */
#ifndef SK_BENCH_COMMON_H
#define SK_BENCH_COMMON_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* IP_BIND_ADDRESS_NO_PORT */
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Set by the handler bench_stop_on() installs; the tools' loops poll it. */
static volatile sig_atomic_t bench_stop;

static inline void bench__on_signal(int sig)
{
    (void)sig;
    bench_stop = 1;
}

/* Set bench_stop when signal sig arrives. No SA_RESTART: a blocking call
 * returns EINTR, so the loop around it sees the flag at once. */
static inline void bench_stop_on(int sig)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = bench__on_signal;
    sigaction(sig, &sa, NULL);
}

/* Set bench_stop on SIGINT and SIGTERM. */
static inline void bench_stop_on_signals(void)
{
    bench_stop_on(SIGINT);
    bench_stop_on(SIGTERM);
}

/* CLOCK_MONOTONIC, in nanoseconds. */
static inline uint64_t bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* User plus system CPU time of this process, in seconds: shows whether a
 * generator itself was near its limit. */
static inline double bench_cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* Fill *sa with host:port if host is an IPv4 address in 127.0.0.0/8.
 * Returns 0, or -1 for anything else. */
static inline int bench_loopback4(const char *host, int port, struct sockaddr_in *sa /* OUT */)
{
    memset(sa, 0, sizeof(*sa));
    if (inet_pton(AF_INET, host, &sa->sin_addr) != 1 || (ntohl(sa->sin_addr.s_addr) >> 24) != 127)
        return -1;
    sa->sin_family = AF_INET;
    sa->sin_port = htons((uint16_t)port);
    return 0;
}

/* Fill *ss with host:port if host is in 127.0.0.0/8 or is ::1. Returns 0
 * and the address length in *sslen, or -1 for anything else. */
static inline int bench_loopback(const char *host, int port, struct sockaddr_storage *ss,
                                 socklen_t *sslen /* OUT */)
{
    memset(ss, 0, sizeof(*ss));
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
    if (bench_loopback4(host, port, (struct sockaddr_in *)ss) == 0) {
        *sslen = sizeof(struct sockaddr_in);
        return 0;
    }
    memset(ss, 0, sizeof(*ss));
    if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1 && IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr)) {
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)port);
        *sslen = sizeof(*s6);
        return 0;
    }
    return -1;
}

/* Source address number k of the block 127.net.x.y, y in 1..250 (no .0 or
 * .255): 62,500 addresses, each with its own ephemeral ports. */
static inline struct sockaddr_in bench_source_addr(unsigned net, int k)
{
    struct sockaddr_in a = { .sin_family = AF_INET };
    a.sin_addr.s_addr = htonl((127u << 24) | ((uint32_t)net << 16) | ((uint32_t)(k / 250) << 8) |
                              (uint32_t)(k % 250 + 1));
    return a;
}

/* Start a non-blocking TCP connect to dst, from src if not NULL (the port
 * left to connect(), with IP_BIND_ADDRESS_NO_PORT). Returns the socket, or
 * -1 if it could not even start. */
static inline int bench_tcp_connect(const struct sockaddr_in *dst, const struct sockaddr_in *src)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (src) {
        int one = 1;
        setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
        if (bind(fd, (const struct sockaddr *)src, sizeof(*src)) != 0) {
            close(fd);
            return -1;
        }
    }
    if (connect(fd, (const struct sockaddr *)dst, sizeof(*dst)) != 0 && errno != EINPROGRESS) {
        close(fd);
        return -1;
    }
    return fd;
}

/* The options of the trivial servers: -s ADDR -p PORT -l SECS, -h. */
struct bench_server_opts {
    const char *host; /* default 127.0.0.1 */
    int port;         /* required, 1..65535 */
    long limit;       /* seconds to run, default 600, at most a day */
};

/* Parse argv into *o, printing usage() on -h or an error. Returns -1 to go
 * on, or the exit status: 0 after -h, 2 on a bad option. */
static inline int bench_server_opts(int argc, char **argv, void (*usage)(FILE *),
                                    struct bench_server_opts *o /* OUT */)
{
    o->host = "127.0.0.1";
    o->port = 0;
    o->limit = 600;
    int c;
    while ((c = getopt(argc, argv, "s:p:l:h")) != -1) {
        switch (c) {
        case 's':
            o->host = optarg;
            break;
        case 'p':
            o->port = atoi(optarg);
            break;
        case 'l':
            o->limit = atol(optarg);
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (o->port < 1 || o->port > 65535 || o->limit < 1 || o->limit > 86400) {
        usage(stderr);
        return 2;
    }
    return -1;
}

#endif
