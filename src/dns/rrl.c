/* dns/rrl.c -- token buckets in one lock-free table. */
#include "dns/rrl.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/xalloc.h"

struct bucket {
    _Atomic uint64_t key;
    _Atomic uint64_t state; /* ms timestamp << 32 | tokens in 1/1000 */
};

struct rrl {
    struct bucket *table;
    uint64_t mask;
    uint32_t rate, slip;
    uint8_t v4_prefix, v6_prefix;
    struct sk_prefix exempt[CFG_EXEMPT_MAX];
    int n_exempt;
    _Atomic uint64_t slip_count;
};

struct rrl *rrl_new(const struct sk_config *cfg)
{
    if (cfg->rrl_ratelimit == 0)
        return NULL;
    struct rrl *r = xcalloc(1, sizeof(*r));
    uint64_t size = 1024;
    while (size < cfg->rrl_size)
        size <<= 1;
    r->table = xcalloc(size, sizeof(*r->table));
    r->mask = size - 1;
    r->rate = cfg->rrl_ratelimit;
    r->slip = cfg->rrl_slip;
    r->v4_prefix = cfg->rrl_ipv4_prefix;
    r->v6_prefix = cfg->rrl_ipv6_prefix;
    memcpy(r->exempt, cfg->rrl_exempt, sizeof(r->exempt));
    r->n_exempt = cfg->n_rrl_exempt;
    return r;
}

void rrl_free(struct rrl *r)
{
    if (r == NULL)
        return;
    free(r->table);
    free(r);
}

/* FNV-1a over the masked address, the class and the lower-cased name. */
static uint64_t bucket_key(const struct rrl *r, const struct sk_ip *src, uint8_t cls,
                           const uint8_t *name, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ull;
    unsigned bits = src->af == 4 ? r->v4_prefix : r->v6_prefix;
    unsigned nbytes = src->af == 4 ? 4 : 16;
    h = (h ^ src->af) * 0x100000001b3ull;
    for (unsigned i = 0; i < nbytes; i++) {
        uint8_t b = src->a[i];
        if (i * 8 >= bits)
            b = 0;
        else if (i * 8 + 8 > bits)
            b &= (uint8_t)(0xff << (8 - (bits - i * 8)));
        h = (h ^ b) * 0x100000001b3ull;
    }
    h = (h ^ cls) * 0x100000001b3ull;
    for (size_t i = 0; name && i < len; i++) {
        uint8_t b = name[i];
        if (b >= 'A' && b <= 'Z')
            b += 32;
        h = (h ^ b) * 0x100000001b3ull;
    }
    h ^= h >> 29;
    return h | 1; /* 0 marks an empty bucket */
}

enum sk_rrl_action rrl_check(struct rrl *r, const struct sk_ip *src, uint8_t cls,
                             const uint8_t *name, size_t len, uint64_t now_us)
{
    for (int i = 0; i < r->n_exempt; i++)
        if (sk_prefix_contains(&r->exempt[i], src))
            return SK_RRL_EXEMPT;

    uint64_t key = bucket_key(r, src, cls, name, len);
    struct bucket *b = &r->table[(key * 0x9e3779b97f4a7c15ull) >> 32 & r->mask];
    uint32_t now_ms = (uint32_t)(now_us / 1000u);
    uint64_t full = (uint64_t)r->rate * 1000u;

    if (atomic_load_explicit(&b->key, memory_order_relaxed) != key) {
        /* A new client, or a collision: the bucket starts over, full. */
        atomic_store_explicit(&b->key, key, memory_order_relaxed);
        atomic_store_explicit(&b->state, (uint64_t)now_ms << 32 | (full - 1000u),
                              memory_order_relaxed);
        return SK_RRL_PASS;
    }
    uint64_t st = atomic_load_explicit(&b->state, memory_order_relaxed);
    for (;;) {
        uint32_t then = (uint32_t)(st >> 32);
        uint64_t tokens = st & 0xffffffffu;
        uint32_t elapsed = now_ms - then; /* wraps correctly */
        if (elapsed > 1000000u)
            elapsed = 1000000u;
        tokens += (uint64_t)elapsed * r->rate; /* rate per s = rate milli-tokens per ms */
        if (tokens > full)
            tokens = full;
        int pass = tokens >= 1000u;
        if (pass)
            tokens -= 1000u;
        uint64_t nst = (uint64_t)now_ms << 32 | tokens;
        if (atomic_compare_exchange_weak_explicit(&b->state, &st, nst, memory_order_relaxed,
                                                  memory_order_relaxed)) {
            if (pass)
                return SK_RRL_PASS;
            break;
        }
    }
    if (r->slip == 0)
        return SK_RRL_DROP;
    if (r->slip == 1)
        return SK_RRL_SLIP;
    uint64_t n = atomic_fetch_add_explicit(&r->slip_count, 1, memory_order_relaxed);
    return n % r->slip == 0 ? SK_RRL_SLIP : SK_RRL_DROP;
}
