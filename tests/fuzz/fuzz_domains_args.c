/* fuzz/fuzz_domains_args.c -- the date, number, seed, variant and format
 * parsers behind `sinkhole domains` and `sinkhole blocklist` arguments.
 *
 * The input is split at NUL or newline into strings; each is offered as
 * a date, a number, a format, and as the seed and the variant of every
 * family. Whatever is accepted must round-trip or generate well-formed
 * names (a few per family, so a run stays fast). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "domains/blocklist.h"
#include "domains/date.h"
#include "domains/export.h"
#include "domains/family.h"

static int check_name(void *arg, const char *name, size_t len)
{
    (void)arg;
    if (len == 0 || len >= DOMAINS_NAME_MAX || domains_name_check(name, len) != 0)
        abort();
    return 0;
}

static void one(const char *s)
{
    int32_t day;
    if (domains_parse_date(s, 20000, &day) == 0) {
        if (day < DOMAINS_DAY_MIN || day > DOMAINS_DAY_MAX)
            abort();
        char buf[16];
        domains_format_day(day, buf);
        int32_t again;
        if (domains_parse_date(buf, 0, &again) != 0 || again != day)
            abort();
    }
    uint64_t v;
    if (domains_parse_uint(s, 0, UINT32_MAX, &v) == 0 && v > UINT32_MAX)
        abort();
    if (domains_parse_uint(s, 1, 1000, &v) == 0 && v > 1000)
        abort();
    enum domains_format f;
    domains_export_parse_format(s, &f);
    enum blocklist_format bf;
    blocklist_parse_format(s, &bf);
    for (size_t i = 0; i < domains_family_count(); i++) {
        const struct domains_family *fam = domains_family_at(i);
        struct domains_run run;
        char err[1024];
        if (domains_run_init(&run, fam, s, NULL, 3, err, sizeof(err)) == 0)
            domains_run_day(&run, 16675, check_name, NULL);
        else if (err[0] == '\0')
            abort();
        if (domains_run_init(&run, fam, NULL, s, 3, err, sizeof(err)) == 0)
            domains_run_day(&run, 16860, check_name, NULL);
    }
    if (domains_family_find(s) != NULL && domains_family_find(s)->name == NULL)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    char *buf = malloc(size + 1);
    if (buf == NULL)
        return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    char *p = buf, *end = buf + size;
    while (p <= end) {
        char *q = p;
        while (q < end && *q != '\0' && *q != '\n')
            q++;
        *q = '\0';
        one(p);
        p = q + 1;
    }
    free(buf);
    return 0;
}
