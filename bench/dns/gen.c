/* bench/dns/gen.c -- a lean DNS load generator for the loopback benchmark.
 *
 * One thread, several connected UDP sockets (so a server that hashes on the
 * source port, or spreads over SO_REUSEPORT sockets, sees many flows),
 * sendmmsg/recvmmsg in batches, queries pre-encoded from a dnsperf-style
 * file ("name TYPE" per line). It keeps at most WINDOW queries in flight and
 * either sends as fast as the window allows (closed loop) or paces at a
 * given rate (open loop). Answers are matched by DNS id plus the question
 * bytes; the send time of each id sits in a table, so every answer yields a
 * latency for a log-linear histogram (avg, p50, p99, p99.9, max). Queries not
 * answered within the timeout count as lost.
 *
 * It only ever talks to 127.0.0.0/8 or ::1 and every run is bounded by -l.
 * The result is one line of key=value pairs on stdout (and JSON with -j). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* recvmmsg, sendmmsg, epoll_pwait2 */
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../common.h"

#define GEN_MAX_SOCKETS  256
#define GEN_MAX_WINDOW   16384
#define GEN_MAX_BATCH    256
#define GEN_MAX_DURATION 600 /* seconds; the run is always bounded */
#define GEN_MAX_QUERY    300 /* header + name (255) + type/class + OPT */
#define GEN_RECV_BUF     2048
#define GEN_IDS          65536
#define GEN_RING         (1u << 20) /* sends remembered for expiry, a power of two */
#define HIST_SUB_BITS    6          /* 64 sub-buckets per power of two: < 1.6 % error */
#define HIST_SUB         (1u << HIST_SUB_BITS)
#define HIST_BUCKETS     (HIST_SUB * 40)

struct query {
    uint32_t off;  /* into the arena */
    uint16_t len;  /* whole message */
    uint16_t qlen; /* question section: name + type + class */
};

struct slot {
    uint64_t sent_ns;
    uint32_t qidx;
    uint32_t seq; /* low bits of the send count, to tell reuses of an id apart */
    uint16_t sock;
    uint8_t busy;
};

struct ring_entry {
    uint32_t seq;
    uint16_t id;
};

struct opts {
    const char *server, *file, *json, *lost_file;
    int port, sockets, window, batch, edns, rd;
    double duration, rate, timeout;
};

/* ---- latency histogram (log-linear, in nanoseconds) ---- */

static uint64_t g_hist[HIST_BUCKETS];

static unsigned hist_index(uint64_t v)
{
    if (v < HIST_SUB)
        return (unsigned)v;
    unsigned msb = 63u - (unsigned)__builtin_clzll(v);
    unsigned shift = msb - HIST_SUB_BITS;
    unsigned idx = (shift + 1u) * HIST_SUB + (unsigned)((v >> shift) & (HIST_SUB - 1u));
    return idx < HIST_BUCKETS ? idx : HIST_BUCKETS - 1u;
}

/* The middle of bucket idx, the value reported for anything in it. */
static double hist_value(unsigned idx)
{
    if (idx < HIST_SUB)
        return idx;
    unsigned shift = idx / HIST_SUB - 1u;
    uint64_t lo = ((uint64_t)(HIST_SUB + idx % HIST_SUB)) << shift;
    return (double)lo + (double)(1ull << shift) / 2.0;
}

static double hist_quantile(uint64_t total, double q)
{
    if (total == 0)
        return 0;
    uint64_t want = (uint64_t)(q * (double)total);
    if (want >= total)
        want = total - 1;
    uint64_t seen = 0;
    for (unsigned i = 0; i < HIST_BUCKETS; i++) {
        seen += g_hist[i];
        if (seen > want)
            return hist_value(i);
    }
    return hist_value(HIST_BUCKETS - 1);
}

/* ---- query file ---- */

static const struct {
    const char *name;
    uint16_t code;
} qtypes[] = {
    { "A", 1 },      { "NS", 2 },    { "CNAME", 5 },  { "SOA", 6 },     { "PTR", 12 },
    { "HINFO", 13 }, { "MX", 15 },   { "TXT", 16 },   { "AAAA", 28 },   { "SRV", 33 },
    { "NAPTR", 35 }, { "DS", 43 },   { "RRSIG", 46 }, { "DNSKEY", 48 }, { "SVCB", 64 },
    { "HTTPS", 65 }, { "CAA", 257 }, { "ANY", 255 },
};

static int parse_qtype(const char *s, uint16_t *out /* OUT */)
{
    for (size_t i = 0; i < sizeof(qtypes) / sizeof(qtypes[0]); i++) {
        if (strcasecmp(s, qtypes[i].name) == 0) {
            *out = qtypes[i].code;
            return 0;
        }
    }
    if (strncasecmp(s, "TYPE", 4) == 0 && s[4] != '\0') {
        char *end;
        unsigned long v = strtoul(s + 4, &end, 10);
        if (*end == '\0' && v <= 65535) {
            *out = (uint16_t)v;
            return 0;
        }
    }
    return -1;
}

/* Encode "a.b.c" (trailing dot optional) as wire labels into out; returns the
 * length written or -1 if the name is not a valid presentation name. */
static int encode_name(const char *name, uint8_t *out, size_t cap)
{
    size_t o = 0;
    if (strcmp(name, ".") == 0) {
        out[0] = 0;
        return 1;
    }
    const char *p = name;
    while (*p != '\0') {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        if (len == 0 || len > 63 || o + 1 + len + 1 > cap || o + 1 + len + 1 > 255)
            return -1;
        out[o++] = (uint8_t)len;
        memcpy(out + o, p, len);
        o += len;
        p += len;
        if (*p == '.')
            p++;
    }
    out[o++] = 0;
    return (int)o;
}

static int load_queries(const struct opts *o, uint8_t **arena_out, struct query **q_out,
                        size_t *n_out /* OUT */)
{
    FILE *f = fopen(o->file, "r");
    if (f == NULL) {
        fprintf(stderr, "gen: %s: %s\n", o->file, strerror(errno));
        return -1;
    }
    size_t cap = 1024, n = 0, acap = 1 << 20, aused = 0;
    struct query *q = malloc(cap * sizeof(*q));
    uint8_t *arena = malloc(acap);
    if (q == NULL || arena == NULL) {
        fprintf(stderr, "gen: out of memory\n");
        exit(1);
    }
    char line[1024];
    unsigned long lineno = 0;
    while (fgets(line, sizeof(line), f) != NULL) {
        lineno++;
        char name[512], type[64];
        if (line[0] == '#' || line[0] == '\n')
            continue;
        int k = sscanf(line, "%511s %63s", name, type);
        if (k < 1)
            continue;
        uint16_t qtype = 1;
        if (k == 2 && parse_qtype(type, &qtype) != 0) {
            fprintf(stderr, "gen: %s:%lu: unknown type %s\n", o->file, lineno, type);
            goto fail;
        }
        if (n == cap) {
            cap *= 2;
            q = realloc(q, cap * sizeof(*q));
        }
        if (aused + GEN_MAX_QUERY > acap) {
            acap *= 2;
            arena = realloc(arena, acap);
        }
        if (q == NULL || arena == NULL) {
            fprintf(stderr, "gen: out of memory\n");
            exit(1);
        }
        uint8_t *m = arena + aused;
        memset(m, 0, 12);
        m[2] = o->rd ? 0x01 : 0x00; /* opcode QUERY, RD as dnsperf sends it */
        m[5] = 1;                   /* qdcount */
        int nl = encode_name(name, m + 12, 256);
        if (nl < 0) {
            fprintf(stderr, "gen: %s:%lu: bad name %s\n", o->file, lineno, name);
            goto fail;
        }
        size_t len = 12 + (size_t)nl;
        m[len++] = (uint8_t)(qtype >> 8);
        m[len++] = (uint8_t)qtype;
        m[len++] = 0;
        m[len++] = 1; /* IN */
        uint16_t qlen = (uint16_t)(len - 12);
        if (o->edns) {
            m[11] = 1; /* arcount */
            const uint8_t opt[11] = { 0, 0, 41, 1232 >> 8, 1232 & 0xff, 0, 0, 0, 0, 0, 0 };
            memcpy(m + len, opt, sizeof(opt));
            len += sizeof(opt);
        }
        q[n].off = (uint32_t)aused;
        q[n].len = (uint16_t)len;
        q[n].qlen = qlen;
        aused += len;
        n++;
    }
    fclose(f);
    f = NULL;
    if (n == 0) {
        fprintf(stderr, "gen: %s: no queries\n", o->file);
        goto fail;
    }
    *arena_out = arena;
    *q_out = q;
    *n_out = n;
    return 0;
fail:
    if (f != NULL)
        fclose(f);
    free(q);
    free(arena);
    return -1;
}

static void usage(FILE *out)
{
    fprintf(
        out,
        "Usage: bench_dns_gen -p PORT -d FILE [options]\n"
        "\n"
        "Send DNS queries over UDP to a loopback server and measure answers.\n"
        "\n"
        "  -s ADDR     server address, 127.0.0.0/8 or ::1 only (default 127.0.0.1)\n"
        "  -p PORT     server port (required)\n"
        "  -d FILE     query file, one \"name TYPE\" per line (dnsperf format)\n"
        "  -l SECS     how long to send (default 10, at most %d)\n"
        "  -Q RATE     open loop: queries per second (default 0: as fast as the window allows)\n"
        "  -w N        queries in flight at most (default 1024, at most %d)\n"
        "  -c N        sockets, i.e. source ports (default 16, at most %d)\n"
        "  -b N        messages per sendmmsg/recvmmsg (default 64, at most %d)\n"
        "  -t SECS     a query not answered by then is lost (default 1)\n"
        "  -e          add an EDNS0 OPT record (UDP size 1232)\n"
        "  -R          clear the RD bit (default: set, as dnsperf does)\n"
        "  -j FILE     also write the result as JSON to FILE (- for stdout)\n"
        "  -L FILE     write each query that got no answer to FILE\n",
        GEN_MAX_DURATION, GEN_MAX_WINDOW, GEN_MAX_SOCKETS, GEN_MAX_BATCH);
}

static double parse_num(const char *s, const char *what)
{
    char *end;
    double v = strtod(s, &end);
    if (*s == '\0' || *end != '\0' || v < 0) {
        fprintf(stderr, "gen: bad %s: %s\n", what, s);
        exit(2);
    }
    return v;
}

/* ---- the run ---- */

struct run {
    const struct opts *o;
    const uint8_t *arena;
    const struct query *q;
    size_t nq, next_q;
    int fds[GEN_MAX_SOCKETS];
    int ep;
    struct slot slots[GEN_IDS];
    struct ring_entry *ring; /* sends in order; head..tail in flight or answered */
    uint32_t ring_head, ring_tail;
    uint16_t next_id;
    int next_sock;
    long inflight;
    uint64_t sent, received, lost, late, unexpected, mismatched, tc, send_errors, behind;
    uint64_t received_in_time; /* answers that came while sending went on */
    uint64_t rcode[16];
    FILE *lost_log; /* -L */
    uint64_t lat_sum_ns, lat_max_ns, lat_n;
    struct mmsghdr msgs[GEN_MAX_BATCH];
    struct iovec iov[GEN_MAX_BATCH];
    uint8_t sendbuf[GEN_MAX_BATCH][GEN_MAX_QUERY];
    uint8_t recvbuf[GEN_MAX_BATCH][GEN_RECV_BUF];
};

/* Count a query that got no answer, and name it in the -L file. */
static void note_lost(struct run *r, const struct slot *s)
{
    r->lost++;
    if (r->lost_log == NULL)
        return;
    const struct query *q = &r->q[s->qidx];
    const uint8_t *p = r->arena + q->off + 12;
    char name[512];
    size_t n = 0;
    /* Our own encoding: plain labels, at most 255 bytes in all. */
    while (*p != 0) {
        uint8_t l = *p++;
        memcpy(name + n, p, l);
        n += l;
        name[n++] = '.';
        p += l;
    }
    if (n == 0)
        name[n++] = '.';
    name[n] = '\0';
    fprintf(r->lost_log, "%s TYPE%u\n", name, (unsigned)(p[1] << 8 | p[2]));
}

/* Expire queries older than the timeout, oldest first. A full ring expires
 * its oldest entry early (only under extreme loss). */
static void expire(struct run *r, uint64_t now, uint64_t timeout_ns)
{
    while (r->ring_head != r->ring_tail) {
        const struct ring_entry *e = &r->ring[r->ring_head % GEN_RING];
        struct slot *s = &r->slots[e->id];
        if (s->busy && s->seq == e->seq) {
            if (now - s->sent_ns < timeout_ns &&
                r->ring_tail - r->ring_head < GEN_RING - GEN_MAX_WINDOW)
                break;
            s->busy = 0;
            r->inflight--;
            note_lost(r, s);
        }
        r->ring_head++;
    }
}

/* Send up to n queries on the next socket; returns how many went out. */
static int send_batch(struct run *r, int n)
{
    int fd = r->fds[r->next_sock];
    uint16_t sock = (uint16_t)r->next_sock;
    r->next_sock = (r->next_sock + 1) % r->o->sockets;
    uint16_t ids[GEN_MAX_BATCH];
    uint32_t qidx[GEN_MAX_BATCH];
    int k = 0;
    for (; k < n; k++) {
        /* Sequential ids leave the longest time before one is reused; skip
         * any still waiting for its answer. */
        int tries = 0;
        while (r->slots[r->next_id].busy && tries++ < GEN_IDS)
            r->next_id++;
        if (r->slots[r->next_id].busy)
            break;
        uint16_t id = r->next_id++;
        const struct query *q = &r->q[r->next_q];
        qidx[k] = (uint32_t)r->next_q;
        r->next_q = (r->next_q + 1) % r->nq;
        memcpy(r->sendbuf[k], r->arena + q->off, q->len);
        r->sendbuf[k][0] = (uint8_t)(id >> 8);
        r->sendbuf[k][1] = (uint8_t)id;
        r->iov[k].iov_base = r->sendbuf[k];
        r->iov[k].iov_len = q->len;
        memset(&r->msgs[k].msg_hdr, 0, sizeof(r->msgs[k].msg_hdr));
        r->msgs[k].msg_hdr.msg_iov = &r->iov[k];
        r->msgs[k].msg_hdr.msg_iovlen = 1;
        ids[k] = id;
    }
    int sent = sendmmsg(fd, r->msgs, (unsigned)k, MSG_DONTWAIT);
    if (sent < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOBUFS && errno != EINTR)
            r->send_errors++;
        sent = 0;
    }
    /* Queries that did not go out give their query index back, so the
     * sequence through the file stays the same. */
    if (sent < k)
        r->next_q = qidx[sent];
    uint64_t now = bench_now_ns();
    for (int i = 0; i < sent; i++) {
        struct slot *s = &r->slots[ids[i]];
        s->sent_ns = now;
        s->qidx = qidx[i];
        s->sock = sock;
        s->busy = 1;
        s->seq = (uint32_t)(r->sent + (uint64_t)i);
        r->ring[r->ring_tail % GEN_RING].seq = s->seq;
        r->ring[r->ring_tail % GEN_RING].id = ids[i];
        r->ring_tail++;
    }
    r->inflight += sent;
    r->sent += (uint64_t)sent;
    return sent;
}

static void on_answer(struct run *r, int sock, const uint8_t *b, size_t len, uint64_t now)
{
    if (len < 12 || !(b[2] & 0x80)) {
        r->unexpected++;
        return;
    }
    uint16_t id = (uint16_t)(b[0] << 8 | b[1]);
    struct slot *s = &r->slots[id];
    if (!s->busy || s->sock != sock) {
        r->late++;
        return;
    }
    /* The question must come back as sent (same bytes, case included). */
    const struct query *q = &r->q[s->qidx];
    const uint8_t *qs = r->arena + q->off + 12;
    if ((b[4] << 8 | b[5]) != 1 || len < 12u + q->qlen || memcmp(b + 12, qs, q->qlen) != 0) {
        r->mismatched++;
        return;
    }
    s->busy = 0;
    r->inflight--;
    r->received++;
    r->rcode[b[3] & 0x0f]++;
    if (b[2] & 0x02)
        r->tc++;
    uint64_t lat = now - s->sent_ns;
    r->lat_sum_ns += lat;
    r->lat_n++;
    if (lat > r->lat_max_ns)
        r->lat_max_ns = lat;
    g_hist[hist_index(lat)]++;
}

/* Read everything waiting on socket i. */
static void drain_socket(struct run *r, int i)
{
    int batch = r->o->batch;
    for (;;) {
        for (int k = 0; k < batch; k++) {
            r->iov[k].iov_base = r->recvbuf[k];
            r->iov[k].iov_len = GEN_RECV_BUF;
            memset(&r->msgs[k].msg_hdr, 0, sizeof(r->msgs[k].msg_hdr));
            r->msgs[k].msg_hdr.msg_iov = &r->iov[k];
            r->msgs[k].msg_hdr.msg_iovlen = 1;
        }
        int n = recvmmsg(r->fds[i], r->msgs, (unsigned)batch, MSG_DONTWAIT, NULL);
        if (n <= 0)
            return;
        uint64_t now = bench_now_ns();
        for (int k = 0; k < n; k++)
            on_answer(r, i, r->recvbuf[k], r->msgs[k].msg_len, now);
        if (n < batch)
            return;
    }
}

/* Wait up to wait_ns for answers (0: just poll) and read them. */
static void poll_answers(struct run *r, uint64_t wait_ns)
{
    struct epoll_event ev[GEN_MAX_SOCKETS];
    struct timespec ts = { (time_t)(wait_ns / 1000000000u), (long)(wait_ns % 1000000000u) };
    int n = epoll_pwait2(r->ep, ev, r->o->sockets, &ts, NULL);
    if (n < 0 && errno == ENOSYS)
        n = epoll_wait(r->ep, ev, r->o->sockets, (int)((wait_ns + 999999u) / 1000000u));
    for (int i = 0; i < n; i++)
        drain_socket(r, (int)ev[i].data.u32);
}

static int open_sockets(struct run *r, const struct sockaddr_storage *dst, socklen_t dlen)
{
    r->ep = epoll_create1(0);
    if (r->ep < 0) {
        perror("gen: epoll_create1");
        return -1;
    }
    for (int i = 0; i < r->o->sockets; i++) {
        int fd = socket(dst->ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            perror("gen: socket");
            return -1;
        }
        int sz = 4 << 20;
        /* Forced sizes need root; fall back to the ordinary limit. */
        if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) != 0)
            (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
        if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz)) != 0)
            (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
        if (connect(fd, (const struct sockaddr *)dst, dlen) != 0) {
            perror("gen: connect");
            return -1;
        }
        struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (uint32_t)i };
        if (epoll_ctl(r->ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
            perror("gen: epoll_ctl");
            return -1;
        }
        r->fds[i] = fd;
    }
    return 0;
}

static void run_load(struct run *r, double *elapsed_s /* OUT */)
{
    const struct opts *o = r->o;
    uint64_t timeout_ns = (uint64_t)(o->timeout * 1e9);
    uint64_t start = bench_now_ns();
    uint64_t end_send = start + (uint64_t)(o->duration * 1e9);
    double ns_per_q = o->rate > 0 ? 1e9 / o->rate : 0;

    while (!bench_stop) {
        uint64_t now = bench_now_ns();
        if (now >= end_send)
            break;
        expire(r, now, timeout_ns);
        long room = o->window - r->inflight;
        long due = room;
        if (o->rate > 0) {
            long owed = (long)((double)(now - start) / ns_per_q) + 1 - (long)r->sent;
            due = owed < room ? owed : room;
        }
        while (due > 0) {
            int want = due < o->batch ? (int)due : o->batch;
            int got = send_batch(r, want);
            if (got <= 0)
                break;
            due -= got;
        }
        uint64_t wait = 0;
        if (r->inflight >= o->window) {
            wait = 1000000; /* 1 ms; an answer wakes us sooner */
        } else if (o->rate > 0) {
            /* Sleep until the next query is due, unless that is very soon. */
            double next = (double)(r->sent) * ns_per_q;
            double at = (double)start + next;
            now = bench_now_ns();
            if (at > (double)now + 20000.0)
                wait = (uint64_t)(at - (double)now) - 10000u;
        }
        if (now >= end_send)
            wait = 0;
        else if (end_send - now < wait)
            wait = end_send - now;
        poll_answers(r, wait);
    }
    r->received_in_time = r->received;
    /* Collect the answers still in flight, for at most the timeout. */
    uint64_t stop_at = bench_now_ns() + timeout_ns;
    while (r->inflight > 0 && !bench_stop) {
        uint64_t now = bench_now_ns();
        if (now >= stop_at)
            break;
        expire(r, now, timeout_ns);
        uint64_t wait = stop_at - now < 1000000u ? stop_at - now : 1000000u;
        poll_answers(r, wait);
    }
    uint64_t end = bench_now_ns();
    if (o->rate > 0) {
        /* Queries the rate asked for that the window held back. */
        double want = o->duration * o->rate;
        r->behind = want > (double)r->sent ? (uint64_t)(want - (double)r->sent) : 0;
    }
    for (; r->ring_head != r->ring_tail; r->ring_head++) {
        const struct ring_entry *e = &r->ring[r->ring_head % GEN_RING];
        struct slot *s = &r->slots[e->id];
        if (s->busy && s->seq == e->seq) {
            s->busy = 0;
            note_lost(r, s);
        }
    }
    r->inflight = 0;
    *elapsed_s = (double)(end - start) / 1e9;
}

struct result_field {
    const char *key;
    double value;
    int decimals;
};

/* qps counts the answers that arrived while queries were being sent, over
 * that time (-l): the answers collected afterwards, and the wait for the
 * lost ones, would otherwise make a lossy server look slower than it is. */
static void print_results(const struct run *r, double elapsed, double cpu, FILE *out, int json)
{
    const struct opts *o = r->o;
    uint64_t total = r->lat_n;
    uint64_t other = 0;
    for (int i = 6; i < 16; i++)
        other += r->rcode[i];
    const struct result_field f[] = {
        { "rate", o->rate, 0 },
        { "window", o->window, 0 },
        { "sockets", o->sockets, 0 },
        { "elapsed_s", elapsed, 3 },
        { "sent", (double)r->sent, 0 },
        { "received", (double)r->received, 0 },
        { "lost", (double)r->lost, 0 },
        { "late", (double)r->late, 0 },
        { "mismatched", (double)r->mismatched, 0 },
        { "unexpected", (double)r->unexpected, 0 },
        { "qps", (double)r->received_in_time / o->duration, 0 },
        { "avg_us", total ? (double)r->lat_sum_ns / (double)total / 1000.0 : 0, 1 },
        { "p50_us", hist_quantile(total, 0.50) / 1000.0, 1 },
        { "p90_us", hist_quantile(total, 0.90) / 1000.0, 1 },
        { "p99_us", hist_quantile(total, 0.99) / 1000.0, 1 },
        { "p999_us", hist_quantile(total, 0.999) / 1000.0, 1 },
        { "max_us", (double)r->lat_max_ns / 1000.0, 1 },
        { "noerror", (double)r->rcode[0], 0 },
        { "formerr", (double)r->rcode[1], 0 },
        { "servfail", (double)r->rcode[2], 0 },
        { "nxdomain", (double)r->rcode[3], 0 },
        { "notimp", (double)r->rcode[4], 0 },
        { "refused", (double)r->rcode[5], 0 },
        { "other_rcode", (double)other, 0 },
        { "tc", (double)r->tc, 0 },
        { "behind", (double)r->behind, 0 },
        { "send_errors", (double)r->send_errors, 0 },
        { "gen_cpu_s", cpu, 3 },
        { "gen_cpu_pct", elapsed > 0 ? 100.0 * cpu / elapsed : 0, 1 },
        { "gen_cpu_total_s", bench_cpu_s(), 3 }, /* loading the queries included */
    };
    const char *mode = o->rate > 0 ? "open" : "closed";
    if (json)
        fprintf(out, "{\"target\":\"%s:%d\",\"mode\":\"%s\"", o->server, o->port, mode);
    else
        fprintf(out, "target=%s:%d mode=%s", o->server, o->port, mode);
    for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
        if (json)
            fprintf(out, ",\"%s\":%.*f", f[i].key, f[i].decimals, f[i].value);
        else
            fprintf(out, " %s=%.*f", f[i].key, f[i].decimals, f[i].value);
    }
    fputs(json ? "}\n" : "\n", out);
}

int main(int argc, char **argv)
{
    struct opts o = { .server = "127.0.0.1",
                      .port = 0,
                      .sockets = 16,
                      .window = 1024,
                      .batch = 64,
                      .duration = 10,
                      .timeout = 1,
                      .rd = 1 };
    int c;
    while ((c = getopt(argc, argv, "s:p:d:l:Q:w:c:b:t:eRj:L:h")) != -1) {
        switch (c) {
        case 's':
            o.server = optarg;
            break;
        case 'p':
            o.port = (int)parse_num(optarg, "port");
            break;
        case 'd':
            o.file = optarg;
            break;
        case 'l':
            o.duration = parse_num(optarg, "duration");
            break;
        case 'Q':
            o.rate = parse_num(optarg, "rate");
            break;
        case 'w':
            o.window = (int)parse_num(optarg, "window");
            break;
        case 'c':
            o.sockets = (int)parse_num(optarg, "socket count");
            break;
        case 'b':
            o.batch = (int)parse_num(optarg, "batch");
            break;
        case 't':
            o.timeout = parse_num(optarg, "timeout");
            break;
        case 'e':
            o.edns = 1;
            break;
        case 'R':
            o.rd = 0;
            break;
        case 'j':
            o.json = optarg;
            break;
        case 'L':
            o.lost_file = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (o.port < 1 || o.port > 65535 || o.file == NULL || optind != argc) {
        usage(stderr);
        return 2;
    }
    if (o.duration <= 0 || o.duration > GEN_MAX_DURATION || o.window < 1 ||
        o.window > GEN_MAX_WINDOW || o.sockets < 1 || o.sockets > GEN_MAX_SOCKETS || o.batch < 1 ||
        o.batch > GEN_MAX_BATCH || o.timeout <= 0 || o.timeout > 30 || o.rate > 1e8) {
        fprintf(stderr, "gen: an option is out of range (see -h)\n");
        return 2;
    }
    struct sockaddr_storage dst;
    socklen_t dlen;
    if (bench_loopback(o.server, o.port, &dst, &dlen) != 0) {
        fprintf(stderr, "gen: refusing target %s: only 127.0.0.0/8 and ::1 are allowed\n",
                o.server);
        return 2;
    }

    struct run *r = calloc(1, sizeof(*r));
    if (r == NULL) {
        fprintf(stderr, "gen: out of memory\n");
        return 1;
    }
    int rc = 1;
    uint8_t *arena = NULL;
    struct query *q = NULL;
    r->o = &o;
    r->ep = -1;
    for (int i = 0; i < GEN_MAX_SOCKETS; i++)
        r->fds[i] = -1;
    r->ring = calloc(GEN_RING, sizeof(*r->ring));
    if (r->ring == NULL) {
        fprintf(stderr, "gen: out of memory\n");
        goto out;
    }
    if (load_queries(&o, &arena, &q, &r->nq) != 0)
        goto out;
    r->arena = arena;
    r->q = q;
    if (open_sockets(r, &dst, dlen) != 0)
        goto out;
    if (o.lost_file != NULL && (r->lost_log = fopen(o.lost_file, "w")) == NULL) {
        fprintf(stderr, "gen: %s: %s\n", o.lost_file, strerror(errno));
        goto out;
    }

    bench_stop_on_signals();

    double elapsed;
    double cpu0 = bench_cpu_s();
    run_load(r, &elapsed);
    double cpu = bench_cpu_s() - cpu0;
    print_results(r, elapsed, cpu, stdout, 0);
    if (o.json != NULL) {
        FILE *jf = strcmp(o.json, "-") == 0 ? stdout : fopen(o.json, "w");
        if (jf == NULL) {
            fprintf(stderr, "gen: %s: %s\n", o.json, strerror(errno));
            goto out;
        }
        print_results(r, elapsed, cpu, jf, 1);
        if (jf != stdout)
            fclose(jf);
    }
    rc = 0;
out:
    for (int i = 0; i < GEN_MAX_SOCKETS; i++)
        if (r->fds[i] >= 0)
            close(r->fds[i]);
    if (r->ep >= 0)
        close(r->ep);
    if (r->lost_log != NULL)
        fclose(r->lost_log);
    free(arena);
    free(q);
    free(r->ring);
    free(r);
    return rc;
}
