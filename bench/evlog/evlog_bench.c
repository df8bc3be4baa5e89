/* bench/evlog/evlog_bench.c -- the event log: write, read, bytes per event.
 *
 *   bench_evlog_evlog_bench [-n EVENTS] [-q QUERIES [-s SEIZED]] [-r RESOLVERS]
 *                           [-l LEVEL] [-p PRODUCERS] [-c CPU] [-d DIR] [-t TAP] [-k]
 *
 * 1. write   EVENTS DNS events through the real writer (evlog_append from
 *            PRODUCERS threads, one writer thread, segments rotated every
 *            64 MiB and compressed with zstd at LEVEL by the background
 *            thread). The clock stops when evlog_close() returns, i.e. when
 *            the last segment is compressed and listed. A producer that
 *            finds its ring full waits and retries (counted), so nothing is
 *            dropped and the rate is what the log sustains.
 * 2. read    every event back from the compressed segments with the
 *            reader, all fields decoded; then with a time filter that keeps
 *            a tenth of them, and with a kind filter that keeps none.
 * 3. size    bytes on disk per event, compressed, and as written (plain).
 *
 * Besides the rates, the write phase's CPU time by thread: the producers
 * (less what making the events costs alone, measured first), the writer
 * thread ("sk-evlog") and the compressor (the log's other thread), each
 * per event written.
 *
 * Events follow the DNS benchmark's query mix: the names and types of
 * QUERIES (bench/dns/mkdata.py's queries.txt: "name TYPE" per line; the
 * names at or below one in SEIZED, its names.txt, get a list and family,
 * the others are refused) or, by default, the same mix generated here (DGA-like seized names,
 * random subdomains, 10% names not seized); source addresses drawn uniformly from RESOLVERS
 * distinct addresses (default 20000), random ports and DNS ids, 200,000 events a second of
 * simulated time. With -c every thread is pinned to that CPU, so rates are per core. Results go to
 * stdout as key=value lines. Every run is bounded: EVENTS is capped at 100 million. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/err.h"
#include "dns/name.h"
#include "evlog/evlog.h"
#include "evlog/reader.h"
#include "evlog/record.h"

/* Names in one arena, so the table stays in cache like a server's. */
struct qname {
    uint32_t off;
    uint8_t len;
    uint8_t seized;
    uint16_t qtype;
};

static struct qname *names;
static size_t nnames;
static uint8_t *arena;
static size_t arena_len, arena_cap;
static uint32_t *resolvers;
static uint32_t nresolvers = 20000;
static uint64_t nevents = 5000000;
static int nproducers = 1;
static int pin_cpu = -1;
static _Atomic uint64_t retries;
static struct evlog *the_log;

static uint64_t rng_next(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

/* r mod n without a division (Lemire's multiply-shift). */
static uint32_t below(uint64_t r, uint32_t n)
{
    return (uint32_t)(((r & 0xffffffffu) * (uint64_t)n) >> 32);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static void pin(void)
{
    if (pin_cpu < 0)
        return;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(pin_cpu, &set);
    sched_setaffinity(0, sizeof(set), &set);
}

static uint16_t qtype_code(const char *t)
{
    static const struct {
        const char *n;
        uint16_t v;
    } types[] = { { "A", 1 },   { "NS", 2 },   { "CNAME", 5 }, { "SOA", 6 },
                  { "MX", 15 }, { "TXT", 16 }, { "AAAA", 28 }, { "SRV", 33 } };
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        if (!strcmp(t, types[i].n))
            return types[i].v;
    return 1;
}

static void add_name(const char *text, uint16_t qtype, int seized)
{
    static size_t cap;
    if (nnames == cap) {
        cap = cap ? 2 * cap : 65536;
        names = realloc(names, cap * sizeof(*names));
    }
    struct qname *q = &names[nnames];
    uint8_t wire[DNS_NAME_MAX];
    size_t l;
    if (dns_name_from_text(text, strlen(text), wire, &l) != 0)
        return;
    if (arena_cap - arena_len < l) {
        arena_cap = arena_cap ? 2 * arena_cap : 1u << 20;
        arena = realloc(arena, arena_cap);
    }
    memcpy(arena + arena_len, wire, l);
    q->off = (uint32_t)arena_len;
    arena_len += l;
    q->len = (uint8_t)l;
    q->qtype = qtype;
    q->seized = (uint8_t)seized;
    nnames++;
}

/* The mix of bench/dns/mkdata.py: 100,000 DGA-like names, queries for
 * the names themselves, for random names below them, and 10% for names
 * that are not seized; mostly A and AAAA. */
static void gen_names(size_t nq)
{
    static const char *tlds[] = { "com", "net", "org", "info", "biz", "ru",
                                  "cn",  "top", "xyz", "su",   "cc",  "in" };
    static const char *types[] = { "A", "A", "A", "A", "A", "A", "AAAA", "AAAA", "AAAA", "MX" };
    uint64_t s = 20240601;
    size_t nseized = 100000;
    char(*seized)[32] = malloc(nseized * 32);
    for (size_t i = 0; i < nseized; i++) {
        int l = 10 + (int)(rng_next(&s) % 9);
        for (int k = 0; k < l; k++)
            seized[i][k] = (char)('a' + rng_next(&s) % 26);
        snprintf(seized[i] + l, 32 - (size_t)l, ".%s", tlds[rng_next(&s) % 12]);
    }
    for (size_t i = 0; i < nq; i++) {
        char text[96];
        uint64_t r = rng_next(&s) % 100;
        const char *base = seized[rng_next(&s) % nseized];
        int is_seized = 1;
        if (r < 50) {
            snprintf(text, sizeof(text), "%s", base);
        } else if (r < 90) {
            char sub[16];
            int l = 3 + (int)(rng_next(&s) % 10);
            for (int k = 0; k < l; k++)
                sub[k] = "abcdefghijklmnopqrstuvwxyz0123456789"[rng_next(&s) % 36];
            sub[l] = '\0';
            snprintf(text, sizeof(text), "%s.%s", sub, base);
        } else {
            snprintf(text, sizeof(text), "x%s", base);
            is_seized = 0;
        }
        add_name(text, qtype_code(types[rng_next(&s) % 10]), is_seized);
    }
    free(seized);
}

static char **seized_set;
static size_t nseized_set;

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* mkdata.py's names.txt: the seized names, one a line, # comments. */
static void load_seized(const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return;
    char line[512];
    size_t cap = 0;
    while (fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '#' || line[0] == '\0')
            continue;
        if (nseized_set == cap) {
            cap = cap ? 2 * cap : 65536;
            seized_set = realloc(seized_set, cap * sizeof(*seized_set));
        }
        seized_set[nseized_set++] = strdup(line);
    }
    fclose(f);
    qsort(seized_set, nseized_set, sizeof(*seized_set), cmp_str);
}

/* Is name at or below a seized name? (Seized names have two labels.) */
static int is_seized(const char *name)
{
    if (nseized_set == 0)
        return 1;
    const char *p = name + strlen(name), *base = name;
    int dots = 0;
    while (p > name) {
        p--;
        if (*p == '.' && ++dots == 2) {
            base = p + 1;
            break;
        }
    }
    return bsearch(&base, seized_set, nseized_set, sizeof(*seized_set), cmp_str) != NULL;
}

static int load_queries(const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    char line[512];
    while (fgets(line, sizeof(line), f)) {
        char name[300], type[16] = "A";
        if (line[0] == '#' || sscanf(line, "%299s %15s", name, type) < 1)
            continue;
        add_name(name, qtype_code(type), is_seized(name));
    }
    fclose(f);
    return nnames > 0 ? 0 : -1;
}

/* The random draws of the next AHEAD events, made in advance so that the
 * name, its text and the address they pick are prefetched: the 500,000
 * names do not fit in a cache, and without this the benchmark measured
 * its own cache misses (two per event) more than the log. The events are
 * the same as when drawn one at a time. */
#define AHEAD 16

struct gen {
    uint64_t s, ts;
    uint64_t r[AHEAD][2];
    unsigned k;
};

static void gen_draw(struct gen *g, unsigned slot)
{
    uint64_t r1 = rng_next(&g->s), r2 = rng_next(&g->s);
    g->r[slot][0] = r1;
    g->r[slot][1] = r2;
    __builtin_prefetch(&names[below(r1, (uint32_t)nnames)]);
    __builtin_prefetch(&resolvers[below(r2, nresolvers)]);
}

static void gen_init(struct gen *g, uint64_t seed, uint64_t ts)
{
    g->s = seed;
    g->ts = ts;
    g->k = 0;
    for (unsigned i = 0; i < AHEAD; i++)
        gen_draw(g, i);
}

static void make_event(struct sk_event *ev, uint64_t i, struct gen *g)
{
    uint64_t r1 = g->r[g->k][0], r2 = g->r[g->k][1];
    gen_draw(g, g->k);
    g->k = (g->k + 1) % AHEAD;
    /* Half way: its entry came in by now; fetch the name's text. */
    const struct qname *h = &names[below(g->r[(g->k + AHEAD / 2) % AHEAD][0], (uint32_t)nnames)];
    __builtin_prefetch(arena + h->off);
    __builtin_prefetch(arena + h->off + h->len - 1);
    const struct qname *q = &names[below(r1, (uint32_t)nnames)];
    g->ts += 1 + below(r1 >> 32, 9); /* about 200,000 a second */
    ev->ts_us = g->ts;
    ev->kind = SK_EV_DNS;
    ev->proto = (i & 31) == 0 ? SK_PROTO_TCP : SK_PROTO_UDP;
    ev->src.af = 4;
    uint32_t a = resolvers[below(r2, nresolvers)];
    memcpy(ev->src.a, &a, 4);
    ev->src.port = (uint16_t)(1024 + below(r2 >> 32, 64000));
    ev->dst.af = 4;
    static const uint8_t sink[4] = { 192, 0, 2, 10 };
    memcpy(ev->dst.a, sink, 4);
    ev->dst.port = 53;
    ev->proxied_by.af = 0;
    struct sk_event_dns *d = &ev->u.dns;
    if (q->seized) {
        memcpy(ev->family, "megad", 6);
        memcpy(ev->list, "megad", 6);
    } else {
        ev->family[0] = ev->list[0] = '\0';
    }
    d->qname_len = q->len;
    memcpy(d->qname, arena + q->off, q->len);
    d->qtype = q->qtype;
    d->qclass = 1;
    d->id = (uint16_t)(r2 >> 48);
    d->opcode = 0;
    d->rcode = q->seized ? 0 : 5;
    d->flags = (uint8_t)(SK_DNSF_RD | SK_DNSF_EDNS | (q->seized ? SK_DNSF_AA : 0));
    d->rrl = SK_RRL_PASS;
    d->edns_size = 1232;
    d->ancount = q->seized && (q->qtype == 1 || q->qtype == 28) ? 1 : 0;
    d->resp_len = (uint16_t)(q->len + 16 + 11 + (d->ancount ? 12 + (q->qtype == 1 ? 4 : 16) : 0));
    d->ecs_af = 0;
}

struct producer {
    pthread_t t;
    int id;
    uint64_t n;
    double cpu_s; /* this thread's CPU time: making and appending */
};

static double thread_cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU time of thread tid of this process in seconds (-1: gone), from
 * /proc/self/task/TID/schedstat (nanoseconds on the CPU). */
static double task_cpu_s(long tid)
{
    char p[64];
    snprintf(p, sizeof(p), "/proc/self/task/%ld/schedstat", tid);
    FILE *f = fopen(p, "r");
    unsigned long long ns;
    int ok = f && fscanf(f, "%llu", &ns) == 1;
    if (f)
        fclose(f);
    return ok ? (double)ns / 1e9 : -1;
}

/* The log's two threads, found by name once the producers are gone: the
 * writer ("sk-evlog") and the one other thread (segment compression). */
static void find_log_threads(long *writer, long *compressor)
{
    *writer = *compressor = 0;
    long self = (long)gettid();
    DIR *d = opendir("/proc/self/task");
    if (d == NULL)
        return;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        long tid = strtol(de->d_name, NULL, 10);
        if (tid <= 0 || tid == self)
            continue;
        char p[64], comm[32] = "";
        snprintf(p, sizeof(p), "/proc/self/task/%ld/comm", tid);
        FILE *f = fopen(p, "r");
        if (f && fgets(comm, sizeof(comm), f))
            comm[strcspn(comm, "\n")] = '\0';
        if (f)
            fclose(f);
        if (strcmp(comm, "sk-evlog") == 0)
            *writer = tid;
        else
            *compressor = tid;
    }
    closedir(d);
}

struct closing {
    pthread_t t;
    struct evlog_stats st;
    _Atomic int done;
};

static void *close_main(void *arg)
{
    struct closing *c = arg;
    evlog_close(the_log, &c->st);
    atomic_store(&c->done, 1);
    return NULL;
}

static void *producer_main(void *arg)
{
    struct producer *p = arg;
    pin();
    struct evlog_queue *q = evlog_queue(the_log, p->id);
    struct gen g;
    gen_init(&g, 0x9e3779b97f4a7c15ull * (uint64_t)(p->id + 1), 1795867200000000ull);
    struct sk_event ev;
    memset(&ev, 0, sizeof(ev));
    for (uint64_t i = 0; i < p->n; i++) {
        make_event(&ev, i, &g);
        while (evlog_append(q, &ev) == SK_EFULL) {
            /* The log counts each refused try as dropped; this run
             * measures what the log sustains, so it waits and retries. */
            atomic_fetch_add(&retries, 1);
            sched_yield();
        }
    }
    p->cpu_s = thread_cpu_s();
    return NULL;
}

static uint64_t dir_bytes(const char *dir, uint64_t *plain_segments)
{
    DIR *d = opendir(dir);
    uint64_t total = 0;
    *plain_segments = 0;
    if (d == NULL)
        return 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t l = strlen(de->d_name);
        if (l < 6 || strcmp(de->d_name + l - 6, ".evlog") != 0)
            continue;
        char p[8192];
        snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
        struct stat st;
        if (stat(p, &st) == 0)
            total += (uint64_t)st.st_size;
        FILE *f = fopen(p, "rb");
        char m[8] = "";
        if (f && fread(m, 1, 8, f) == 8 && memcmp(m, EVLOG_MAGIC, 8) == 0)
            (*plain_segments)++;
        if (f)
            fclose(f);
    }
    closedir(d);
    return total;
}

/* Read everything back; returns events read, and a checksum so nothing is
 * optimised away. */
static uint64_t read_all(const char *dir, const struct evlog_filter *f, uint64_t *sum)
{
    const char *paths[] = { dir };
    char err[512];
    struct evlog_scan *s;
    if (evlog_scan_open(paths, 1, f, &s, err, sizeof(err)) != 0) {
        fprintf(stderr, "%s\n", err);
        exit(1);
    }
    struct sk_event ev;
    memset(&ev, 0, sizeof(ev));
    struct evlog_ref ref;
    uint64_t n = 0;
    int rc;
    while ((rc = evlog_scan_next(s, &ev, &ref, err, sizeof(err))) != 0) {
        if (rc < 0) {
            fprintf(stderr, "%s\n", err);
            continue;
        }
        n++;
        *sum += ev.ts_us + ev.src.port + ev.u.dns.qname_len + ev.u.dns.id + ref.seq;
    }
    evlog_scan_close(s);
    return n;
}

int main(int argc, char **argv)
{
    const char *queries = NULL, *dir = NULL, *tap = NULL;
    int level = 3, keep = 0, ch;
    while ((ch = getopt(argc, argv, "n:q:s:r:l:p:c:d:t:k")) != -1) {
        switch (ch) {
        case 'n':
            nevents = strtoull(optarg, NULL, 10);
            break;
        case 'q':
            queries = optarg;
            break;
        case 's':
            load_seized(optarg);
            break;
        case 'r':
            nresolvers = (uint32_t)strtoul(optarg, NULL, 10);
            break;
        case 'l':
            level = atoi(optarg);
            break;
        case 'p':
            nproducers = atoi(optarg);
            break;
        case 'c':
            pin_cpu = atoi(optarg);
            break;
        case 'd':
            dir = optarg;
            break;
        case 'k':
            keep = 1;
            break;
        case 't':
            tap = optarg;
            break;
        default:
            fprintf(stderr,
                    "usage: %s [-n EVENTS] [-q QUERIES [-s SEIZED]] [-r RESOLVERS] "
                    "[-l LEVEL] [-p PRODUCERS] [-c CPU] [-d DIR] [-t TAP] [-k]\n",
                    argv[0]);
            return 2;
        }
    }
    if (nevents == 0 || nevents > 100000000u || nresolvers == 0 || nproducers < 1 ||
        nproducers > 16) {
        fprintf(stderr, "evlog_bench: bad arguments\n");
        return 2;
    }
    pin();
    if (queries ? load_queries(queries) != 0 : (gen_names(500000), nnames == 0)) {
        fprintf(stderr, "evlog_bench: no queries from %s\n", queries ? queries : "generator");
        return 1;
    }
    resolvers = malloc(nresolvers * sizeof(*resolvers));
    uint64_t s = 42;
    for (uint32_t i = 0; i < nresolvers; i++)
        resolvers[i] = (uint32_t)rng_next(&s) | 0x01000000u; /* distinct enough, never 0.x */
    char tmpl[] = "/tmp/sk-bench-evlog-XXXXXX";
    if (dir == NULL && (dir = mkdtemp(tmpl)) == NULL) {
        perror("mkdtemp");
        return 1;
    }

    /* 0. what making the events costs alone, to tell the log's share */
    double g0 = cpu_s();
    {
        uint64_t gsum = 0;
        struct gen g;
        gen_init(&g, 0x9e3779b97f4a7c15ull, 0);
        struct sk_event ev;
        memset(&ev, 0, sizeof(ev));
        for (uint64_t i = 0; i < nevents; i++) {
            make_event(&ev, i, &g);
            gsum += ev.u.dns.id + ev.src.port;
        }
        if (gsum == 42)
            fprintf(stderr, "!");
    }
    double gen_cpu = cpu_s() - g0;

    /* 1. write */
    struct evlog_options opt = { .data_dir = dir,
                                 .node = "bench",
                                 .nqueues = nproducers,
                                 .queue_bytes = 8u << 20,
                                 .flush_ms = 1000,
                                 .rotate_bytes = 64u << 20,
                                 .compress = EVLOG_COMPRESS_ZSTD,
                                 .compress_level = level,
                                 .tap = tap };
    double t0 = now_s(), c0 = cpu_s();
    if (evlog_open(&opt, &the_log) != 0)
        return 1;
    struct producer prod[16];
    for (int i = 0; i < nproducers; i++) {
        prod[i].id = i;
        prod[i].n = nevents / (uint64_t)nproducers + (i == 0 ? nevents % (uint64_t)nproducers : 0);
        pthread_create(&prod[i].t, NULL, producer_main, &prod[i]);
    }
    double prod_cpu = 0;
    for (int i = 0; i < nproducers; i++) {
        pthread_join(prod[i].t, NULL);
        prod_cpu += prod[i].cpu_s;
    }
    double t_appended = now_s();
    /* Close from another thread, and follow the log's threads' CPU time
     * until they end (every 2 ms). */
    long wtid, ctid;
    find_log_threads(&wtid, &ctid);
    double w_cpu = 0, z_cpu = 0;
    static struct closing closing;
    pthread_create(&closing.t, NULL, close_main, &closing);
    for (;;) {
        int done = atomic_load(&closing.done);
        double w = wtid ? task_cpu_s(wtid) : -1, z = ctid ? task_cpu_s(ctid) : -1;
        w_cpu = w >= 0 ? w : w_cpu;
        z_cpu = z >= 0 ? z : z_cpu;
        if (done)
            break;
        struct timespec nap = { 0, 2000000 };
        nanosleep(&nap, NULL);
    }
    pthread_join(closing.t, NULL);
    struct evlog_stats st = closing.st;
    double t1 = now_s(), c1 = cpu_s();
    uint64_t written = st.written;
    char evdir[4200];
    snprintf(evdir, sizeof(evdir), "%s/events", dir);
    uint64_t plain_left;
    uint64_t zbytes = dir_bytes(evdir, &plain_left);

    /* 2. read */
    uint64_t sum = 0;
    double r0 = now_s();
    uint64_t nread = read_all(evdir, NULL, &sum);
    double r1 = now_s();
    struct evlog_filter tenth = {
        .from_us = 1795867200000000ull + nevents / (uint64_t)nproducers * 5 * 4 / 10,
        .to_us = 1795867200000000ull + nevents / (uint64_t)nproducers * 5 * 5 / 10
    };
    uint64_t ntenth = read_all(evdir, &tenth, &sum);
    double r2 = now_s();
    struct evlog_filter other = { .kinds = 1u << SK_EV_HTTP };
    uint64_t nother = read_all(evdir, &other, &sum);
    double r3 = now_s();

    printf("events=%" PRIu64 " producers=%d resolvers=%u names=%zu level=%d cpu_pinned=%d\n",
           nevents, nproducers, nresolvers, nnames, level, pin_cpu);
    printf("write_events_per_s=%.0f write_cpu_s=%.2f gen_cpu_s=%.2f log_cpu_s=%.2f "
           "log_events_per_cpu_s=%.0f append_s=%.2f total_s=%.2f ring_full_retries=%" PRIu64 "\n",
           (double)written / (t1 - t0), c1 - c0, gen_cpu, c1 - c0 - gen_cpu,
           (double)written / (c1 - c0 - gen_cpu), t_appended - t0, t1 - t0, atomic_load(&retries));
    printf("cpu_s: producers=%.2f (making events alone %.2f, so appending about %.2f) writer=%.2f "
           "compressor=%.2f; per event: append_us=%.3f writer_us=%.3f compressor_us=%.3f\n",
           prod_cpu, gen_cpu, prod_cpu - gen_cpu, w_cpu, z_cpu,
           (prod_cpu - gen_cpu) / (double)written * 1e6, w_cpu / (double)written * 1e6,
           z_cpu / (double)written * 1e6);
    printf("written=%" PRIu64 " write_errors=%" PRIu64 " segments=%" PRIu64 " compressed=%" PRIu64
           " plain_left=%" PRIu64 "\n",
           written, st.write_errors, st.segments, st.compressed, plain_left);
    printf("plain_bytes_per_event=%.1f disk_bytes_per_event=%.2f\n",
           (double)st.bytes / (double)written, (double)zbytes / (double)written);
    printf("read_events=%" PRIu64 " read_events_per_s=%.0f\n", nread, (double)nread / (r1 - r0));
    printf("read_time_filter_events=%" PRIu64 " read_time_filter_s=%.3f "
           "read_kind_filter_events=%" PRIu64 " read_kind_filter_s=%.3f checksum=%" PRIu64 "\n",
           ntenth, r2 - r1, nother, r3 - r2, sum);
    int ok = nread == written && written == nevents;
    if (!ok)
        fprintf(stderr, "evlog_bench: wrote %" PRIu64 " of %" PRIu64 ", read back %" PRIu64 "\n",
                written, nevents, nread);
    if (!keep) {
        char cmd[4400];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        if (system(cmd) != 0)
            fprintf(stderr, "evlog_bench: could not remove %s\n", dir);
    } else {
        fprintf(stderr, "evlog_bench: kept %s\n", dir);
    }
    return ok ? 0 : 1;
}
