/* dns/zones.c -- load every [seized.*] list into one matcher. */
#include "dns/zones.h"

#include <stdlib.h>

#include "core/clock.h"
#include "core/err.h"
#include "core/xalloc.h"

int dns_zones_load(struct sk_config *cfg, struct dns_zones **out, FILE *errs)
{
    *out = NULL;
    struct dns_zones *z = xcalloc(1, sizeof(*z));
    z->cfg = cfg;
    z->matcher = seized_new();
    int errors = 0;
    for (int i = 0; i < cfg->n_seized; i++) {
        char err[1024];
        uint16_t other = 0;
        int rc = seized_load_file(z->matcher, cfg->seized[i].file, (uint16_t)i, &other, err,
                                  sizeof(err));
        const struct cfg_seized *s = &cfg->seized[i];
        if (rc == SK_EEXIST)
            fprintf(errs, "%s (in [seized.%s] and [seized.%s])\n", err, cfg->seized[other].name,
                    s->name);
        else if (rc < 0 && rc > SK_EBASE)
            /* The file itself could not be read: point at the config line
             * that names it. */
            fprintf(errs, "%s:%d: [seized.%s] file: %s\n", cfg->path, s->file_line, s->name, err);
        else if (rc != 0)
            fprintf(errs, "%s ([seized.%s])\n", err, s->name);
        if (rc != 0)
            errors++;
    }
    if (errors) {
        dns_zones_free(z);
        return SK_ECONFIG;
    }
    z->counts = xcalloc((size_t)cfg->n_seized + 1, sizeof(size_t));
    seized_list_counts(z->matcher, z->counts, (size_t)cfg->n_seized);
    z->loaded_us = sk_clock_now_us();
    *out = z;
    return 0;
}

void dns_zones_free(struct dns_zones *z)
{
    if (z == NULL)
        return;
    seized_free(z->matcher);
    config_free(z->cfg);
    free(z->counts);
    free(z);
}
