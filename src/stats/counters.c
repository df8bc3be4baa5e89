/* stats/counters.c -- summing per-worker counter sets, naming them. */
#include "stats/counters.h"

#include <stddef.h>

/* Both structs are nothing but _Atomic uint64_t fields. */
static void add_all(_Atomic uint64_t *a, const _Atomic uint64_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        CTR_ADD(a[i], CTR_GET(b[i]));
}

void dns_counters_add(struct dns_counters *acc, const struct dns_counters *c)
{
    add_all((_Atomic uint64_t *)acc, (const _Atomic uint64_t *)c, sizeof(*acc) / sizeof(uint64_t));
}

static const char *const listen_names[] = {
#define LISTEN_CTR_NAME_(name, doc) #name,
    LISTEN_COUNTERS(LISTEN_CTR_NAME_)
#undef LISTEN_CTR_NAME_
};

_Static_assert(sizeof(listen_names) / sizeof(listen_names[0]) == LISTEN_COUNTERS_N,
               "one name per listener counter");

const char *listen_counter_name(size_t i)
{
    return i < LISTEN_COUNTERS_N ? listen_names[i] : NULL;
}

uint64_t listen_counter_get(const struct listen_counters *c, size_t i)
{
    if (i >= LISTEN_COUNTERS_N)
        return 0;
    return CTR_GET(((const _Atomic uint64_t *)c)[i]);
}

void listen_counters_add(struct listen_counters *acc, const struct listen_counters *c)
{
    add_all((_Atomic uint64_t *)acc, (const _Atomic uint64_t *)c, LISTEN_COUNTERS_N);
}
