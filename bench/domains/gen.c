/* bench/domains/gen.c -- names per second of each family, streaming.
 *
 * For every built-in family (default variant) generates at least
 * --names names (default 2,000,000) through domains_run_range with
 * per-set de-duplication, as `sinkhole domains` does, and prints names/s
 * and the time 18 million names would take. Then the headline case: a
 * year at Conficker C's 50,000 names a day (18,250,000 names) from the
 * families with one set a day (ranbyus, newgoz, murofet2), with the peak
 * resident memory to show that memory does not grow with the names.
 *
 *   bench_domains_gen [--names N] [--family NAME] [--year-family NAME]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "domains/date.h"
#include "domains/family.h"

struct sink {
    unsigned long long names, bytes;
};

static int count_cb(const struct domains_name *n, void *arg)
{
    struct sink *s = arg;
    s->names++;
    s->bytes += n->len + (unsigned char)n->name[0];
    return 0;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static long maxrss_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

/* Generate at least want names (widening the range by days, or by
 * repeating for date-independent families); returns names/s. */
static double bench_family(const struct domains_family *f, unsigned long long want, int print)
{
    struct domains_run run;
    char err[1024];
    if (domains_run_init(&run, f, NULL, NULL, 0, err, sizeof(err)) != 0) {
        fprintf(stderr, "%s\n", err);
        return 0;
    }
    int32_t day = domains_day_from_civil(2016, 1, 1);
    struct sink s = { 0, 0 };
    double t0 = now();
    /* Each call covers 31 days (a month's sets); repeat from the next
     * month until enough names were produced. */
    int32_t from = day;
    while (s.names < want) {
        int rc = domains_run_range(&run, from, from + 30, DOMAINS_DEDUP, count_cb, &s);
        if (rc != 0) {
            fprintf(stderr, "%s: error %d\n", f->name, rc);
            return 0;
        }
        from += 31;
        if (from > DOMAINS_DAY_MAX - 31)
            from = day;
    }
    double dt = now() - t0;
    double rate = (double)s.names / dt;
    if (print)
        printf("%-10s %12llu %9.3f %14.0f %10.2f   (checksum %llu)\n", f->name, s.names, dt, rate,
               18e6 / rate, s.bytes % 1000);
    return rate;
}

static void bench_year(const char *family)
{
    struct domains_run run;
    char err[1024];
    const struct domains_family *f = domains_family_find(family);
    if (f == NULL || domains_run_init(&run, f, NULL, NULL, 50000, err, sizeof(err)) != 0) {
        fprintf(stderr, "year: cannot run %s\n", family);
        return;
    }
    int32_t from = domains_day_from_civil(2016, 1, 1), to = from + 364;
    struct sink s = { 0, 0 };
    long rss0 = maxrss_kb();
    double t0 = now();
    int rc = domains_run_range(&run, from, to, DOMAINS_DEDUP, count_cb, &s);
    double dt = now() - t0;
    printf("\nyear at 50,000 names a day: %s, 2016-01-01..2016-12-30, %llu names in %.2f s "
           "(%.0f names/s); rc %d; peak RSS %ld KiB before, %ld KiB after\n",
           f->name, s.names, dt, (double)s.names / dt, rc, rss0, maxrss_kb());
}

int main(int argc, char **argv)
{
    unsigned long long want = 2000000;
    const char *only = NULL, *year = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--names") == 0 && i + 1 < argc)
            want = strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--family") == 0 && i + 1 < argc)
            only = argv[++i];
        else if (strcmp(argv[i], "--year-family") == 0 && i + 1 < argc)
            year = argv[++i];
        else {
            fprintf(stderr, "usage: %s [--names N] [--family NAME] [--year-family NAME]\n",
                    argv[0]);
            return 2;
        }
    }
    printf("%-10s %12s %9s %14s %10s\n", "family", "names", "seconds", "names/s", "18M in s");
    for (size_t i = 0; i < domains_family_count(); i++) {
        const struct domains_family *f = domains_family_at(i);
        if (only == NULL || strcmp(only, f->name) == 0)
            bench_family(f, want, 1);
    }
    /* The year case needs a family with one set per day, so that
     * --count 50000 means 50,000 names a day. */
    if (year != NULL) {
        bench_year(year);
    } else if (only == NULL) {
        static const char *const daily[] = { "ranbyus", "newgoz", "murofet2" };
        for (size_t i = 0; i < sizeof(daily) / sizeof(daily[0]); i++)
            bench_year(daily[i]);
    }
    return 0;
}
