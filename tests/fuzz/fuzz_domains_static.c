/* fuzz/fuzz_domains_static.c -- the static family list parser.
 *
 * The input is written to a private temp file (domains_static_load reads
 * a path, as `--family-file` does) and loaded; a list that loads must
 * hold only valid names, each generated on the days of its window. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "domains/family.h"

static int check_name(const struct domains_name *n, void *arg)
{
    (void)arg;
    if (domains_name_check(n->name, n->len) != 0 || n->first_day > n->last_day)
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char path[64];
    if (path[0] == '\0')
        snprintf(path, sizeof(path), "/tmp/sk-fuzz-domains-static-%d.list", (int)getpid());
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    struct domains_static *s = NULL;
    char err[512];
    if (domains_static_load(path, &s, err, sizeof(err)) == 0) {
        const struct domains_family *fam = domains_static_family(s);
        if (fam->name == NULL || fam->name[0] == '\0')
            abort();
        struct domains_run run;
        domains_run_init_static(&run, s);
        domains_run_range(&run, 14000, 14100, 0, check_name, NULL);
        domains_static_free(s);
    } else if (s != NULL || err[0] == '\0') {
        abort();
    }
    unlink(path);
    return 0;
}
