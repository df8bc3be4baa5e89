/* stats/counters.c -- summing per-worker counter sets. */
#include "stats/counters.h"

#include <stddef.h>

void dns_counters_add(struct dns_counters *acc, const struct dns_counters *c)
{
    /* The struct is nothing but _Atomic uint64_t fields. */
    _Atomic uint64_t *a = (_Atomic uint64_t *)acc;
    const _Atomic uint64_t *b = (const _Atomic uint64_t *)c;
    size_t n = sizeof(*acc) / sizeof(uint64_t);
    for (size_t i = 0; i < n; i++)
        CTR_ADD(a[i], CTR_GET(b[i]));
}
