/* dns/zones.h -- the seized zones as served: matcher plus per-list data.
 *
 * A struct dns_zones is what a worker answers from. It is built from a
 * config (the [dns] answer settings and every [seized.*] list) and never
 * changes afterwards; a reload builds a new one and swaps the pointer
 * (see cli/serve.c), so readers need no lock. */
#ifndef SK_DNS_ZONES_H
#define SK_DNS_ZONES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/config.h"
#include "dns/seized.h"

struct dns_zones {
    struct sk_config *cfg;  /* owned: answer settings and the lists */
    struct seized *matcher; /* owned */
    size_t *counts;         /* names per list, cfg->n_seized entries */
    uint64_t loaded_us;     /* when it was built */
    int32_t day;            /* the day (since 1970-01-01) DGA lists were made for */
    bool has_dga;           /* some list is generated: rebuild when the day changes */
};

/* Build zones from cfg, taking ownership of cfg (freed on failure too).
 * Every list file is read; errors ("FILE:LINE: ...") go to errs. Returns 0
 * and *out, or SK_ECONFIG. */
int dns_zones_load(struct sk_config *cfg, struct dns_zones **out /* OUT */, FILE *errs);

void dns_zones_free(struct dns_zones *z);

#endif
