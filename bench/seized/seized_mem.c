/* bench/seized/seized_mem.c -- load time, memory and lookup rate of the
 * seized-name matcher at scale.
 *
 * Writes N DGA-like names (default 1,000,000; fixed seed, so every run
 * sees the same list) to a temp file, loads it with seized_load_file() and
 * prints the load time, seized_memory() per name, the growth of the
 * process's peak RSS per name, and single-thread lookups per second for
 * names below seized ones, for names not seized, and for a 50/50 mix.
 *
 *   bench_seized_seized_mem [N [LOOKUPS]]
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "dns/seized.h"
#include "dns/seized_internal.h"

static uint64_t rng_next(uint64_t *x)
{
    *x ^= *x >> 12;
    *x ^= *x << 25;
    *x ^= *x >> 27;
    return *x * UINT64_C(0x2545f4914f6cdd1d);
}

static const char *const tlds[] = { "com", "net", "org", "info", "biz", "ru", "cn", "top" };
static const char *const words[] = { "bad",   "domain", "update", "secure", "cdn",
                                     "login", "mail",   "cloud",  "panel",  "sync" };
static const char *const slds[] = { "example.net", "example.com", "example.org", "co.uk" };

/* One name into out; returns its length. Four in five are DGA-style
 * ("a8fk3jq0z.com"), the rest look like "bad-domain-123.example.net";
 * those numbers are below 100000 for seized names and above for misses. */
static size_t gen_name(uint64_t *rng, int miss, char *out)
{
    static const char alnum[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    uint64_t r = rng_next(rng);
    if (r % 5 != 0) {
        size_t len = 8 + (r >> 8) % 9, n = 0;
        for (size_t i = 0; i < len; i++)
            out[n++] = alnum[rng_next(rng) % 36];
        return n + (size_t)sprintf(out + n, ".%s", tlds[(r >> 16) % 8]);
    }
    return (size_t)sprintf(out, "%s-%s-%u.%s", words[(r >> 8) % 10], words[(r >> 16) % 10],
                           (unsigned)((r >> 24) % 100000 + (miss ? 100000 : 0)),
                           slds[(r >> 40) % 4]);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long max_rss_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

/* Queries stored back to back as [u8 len][wire]. */
struct queries {
    uint8_t *buf;
    size_t len, cap, n;
};

static void q_add(struct queries *q, const char *text, size_t tlen, int prefix, uint64_t *rng)
{
    uint8_t w[256 + 8];
    size_t wlen = 0, pre = 0;
    if (prefix) {
        memcpy(w, "\3www", 4);
        pre = 4;
    }
    if (seized__parse_name(text, tlen, w + pre, &wlen) != NULL)
        return;
    wlen += pre;
    /* Bots and resolvers send any case (0x20 randomization). */
    for (size_t i = 0; i < wlen;) {
        size_t l = w[i++];
        for (size_t k = 0; k < l; k++, i++)
            if (rng_next(rng) & 1)
                w[i] = (uint8_t)toupper(w[i]);
    }
    if (q->len + 1 + wlen > q->cap) {
        q->cap = q->cap ? q->cap * 2 : 1 << 20;
        q->buf = realloc(q->buf, q->cap);
        if (q->buf == NULL) {
            perror("realloc");
            exit(1);
        }
    }
    q->buf[q->len++] = (uint8_t)wlen;
    memcpy(q->buf + q->len, w, wlen);
    q->len += wlen;
    q->n++;
}

/* Run every query of q, passes times; returns lookups per second. */
static double run(const struct seized *s, const struct queries *q, int passes, size_t *hits)
{
    *hits = 0;
    double t0 = now_s();
    for (int p = 0; p < passes; p++) {
        for (size_t off = 0; off < q->len;) {
            size_t l = q->buf[off];
            struct seized_match m;
            *hits += (size_t)seized_lookup(s, q->buf + off + 1, l, &m);
            off += 1 + l;
        }
    }
    double dt = now_s() - t0;
    return (double)q->n * passes / dt;
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000;
    size_t nq = argc > 2 ? strtoul(argv[2], NULL, 10) : 1000000;
    if (n == 0 || nq == 0) {
        fprintf(stderr, "usage: %s [NAMES [LOOKUPS]]\n", argv[0]);
        return 2;
    }
    const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    char path[512];
    snprintf(path, sizeof(path), "%s/sk-bench-seized-XXXXXX", tmp);
    int fd = mkstemp(path);
    if (fd < 0) {
        perror(path);
        return 1;
    }
    FILE *f = fdopen(fd, "w");
    uint64_t rng = UINT64_C(0x5eed5eed5eed);
    char name[300];
    for (size_t i = 0; i < n; i++) {
        size_t l = gen_name(&rng, 0, name);
        name[l++] = '\n';
        fwrite(name, 1, l, f);
    }
    long fsize = ftell(f);
    fclose(f);

    long rss0 = max_rss_kb();
    struct seized *s = seized_new();
    char err[512];
    uint16_t other;
    double t0 = now_s();
    int rc = seized_load_file(s, path, 0, &other, err, sizeof(err));
    double load = now_s() - t0;
    long rss1 = max_rss_kb();
    unlink(path);
    if (rc != 0) {
        fprintf(stderr, "load failed: %s\n", err);
        return 1;
    }
    size_t count = seized_count(s);
    printf("names:             %zu lines, %zu distinct, %.1f MB file\n", n, count,
           (double)fsize / 1e6);
    printf("load:              %.3f s (%.0f names/s)\n", load, (double)n / load);
    printf("seized_memory:     %zu bytes = %.1f bytes/name\n", seized_memory(s),
           (double)seized_memory(s) / (double)count);
    printf("max RSS delta:     %ld kB = %.1f bytes/name\n", rss1 - rss0,
           (double)(rss1 - rss0) * 1024.0 / (double)count);

    /* Hits: a label below a seized name. Misses: fresh names under the
     * same TLDs, half of them with a "www" label too. */
    struct queries hit = { 0 }, miss = { 0 }, mix = { 0 };
    uint64_t gen = UINT64_C(0x5eed5eed5eed), qr = 7, mr = UINT64_C(0xfeedface);
    size_t stride = n / nq ? n / nq : 1;
    for (size_t i = 0; hit.n < nq; i++) {
        if (i == n) {
            gen = UINT64_C(0x5eed5eed5eed);
            i = 0;
        }
        size_t l = gen_name(&gen, 0, name);
        if (i % stride == 0)
            q_add(&hit, name, l, 1, &qr);
    }
    while (miss.n < nq) {
        size_t l = gen_name(&mr, 1, name);
        q_add(&miss, name, l, (int)(miss.n & 1), &qr);
    }
    for (size_t i = 0, ho = 0, mo = 0; ho < hit.len && mo < miss.len; i++) {
        const struct queries *src = i & 1 ? &miss : &hit;
        size_t *o = i & 1 ? &mo : &ho;
        size_t l = src->buf[*o];
        if (mix.len + 1 + l > mix.cap) {
            mix.cap = mix.cap ? mix.cap * 2 : 1 << 20;
            mix.buf = realloc(mix.buf, mix.cap);
            if (mix.buf == NULL)
                return 1;
        }
        memcpy(mix.buf + mix.len, src->buf + *o, 1 + l);
        mix.len += 1 + l;
        mix.n++;
        *o += 1 + l;
    }

    size_t h;
    run(s, &mix, 1, &h); /* warm up */
    double r_hit = run(s, &hit, 3, &h);
    printf("lookups, hits:     %.2f M/s (%zu of %zu found)\n", r_hit / 1e6, h / 3, hit.n);
    double r_miss = run(s, &miss, 3, &h);
    printf("lookups, misses:   %.2f M/s (%zu of %zu found)\n", r_miss / 1e6, h / 3, miss.n);
    double r_mix = run(s, &mix, 3, &h);
    printf("lookups, 50/50:    %.2f M/s\n", r_mix / 1e6);
    free(hit.buf);
    free(miss.buf);
    free(mix.buf);
    seized_free(s);
    return 0;
}
