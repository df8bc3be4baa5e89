/* dns/zones.c -- load every [seized.*] list into one matcher.
 *
 * A list comes from a file, or from a DGA family: the names it generates
 * for a window of days around today, by the one clock. */
#include "dns/zones.h"

#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/err.h"
#include "core/xalloc.h"
#include "dns/name.h"
#include "domains/date.h"
#include "domains/family.h"

struct dga_add {
    struct seized *matcher;
    const struct sk_config *cfg;
    uint16_t list;
    FILE *errs;
    int errors;
};

static int dga_add_cb(const struct domains_name *n, void *arg)
{
    struct dga_add *a = arg;
    uint8_t wire[DNS_NAME_MAX];
    size_t len;
    uint16_t other = 0;
    if (dns_name_from_text(n->name, n->len, wire, &len) != 0)
        return 0; /* the generators only make valid names; skip rather than fail */
    int rc = seized_add(a->matcher, wire, len, a->list, &other);
    if (rc == SK_EEXIST) {
        const struct cfg_seized *s = &a->cfg->seized[a->list];
        fprintf(a->errs, "%s:%d: [seized.%s]: generated name '%.*s' is already in [seized.%s]\n",
                a->cfg->path, s->dga_line, s->name, (int)n->len, n->name,
                a->cfg->seized[other].name);
        a->errors++;
        return a->errors >= 10 ? 1 : 0; /* enough to make the point */
    }
    return 0;
}

/* Add the names of a DGA list for the days around today. */
static int load_dga(struct seized *m, const struct sk_config *cfg, int i, int32_t today, FILE *errs)
{
    const struct cfg_seized *s = &cfg->seized[i];
    struct dga_add a = { m, cfg, (uint16_t)i, errs, 0 };
    char err[1024];
    int rc = domains_generate(s->dga, s->seed, s->variant, today - (int32_t)s->days_before,
                              today + (int32_t)s->days_after, dga_add_cb, &a, err, sizeof(err));
    if (rc < 0) {
        fprintf(errs, "%s:%d: [seized.%s]: %s\n", cfg->path, s->dga_line, s->name, err);
        return rc;
    }
    return a.errors ? SK_EEXIST : 0;
}

int dns_zones_load(struct sk_config *cfg, struct dns_zones **out, FILE *errs)
{
    *out = NULL;
    struct dns_zones *z = xcalloc(1, sizeof(*z));
    z->cfg = cfg;
    z->matcher = seized_new();
    int errors = 0;
    z->day = domains_today();
    for (int i = 0; i < cfg->n_seized; i++) {
        char err[1024];
        uint16_t other = 0;
        const struct cfg_seized *s = &cfg->seized[i];
        if (s->dga != NULL) {
            z->has_dga = true;
            if (load_dga(z->matcher, cfg, i, z->day, errs) != 0)
                errors++;
            continue;
        }
        int rc = seized_load_file(z->matcher, s->file, (uint16_t)i, &other, err, sizeof(err));
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
