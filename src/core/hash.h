/* core/hash.h -- a 64-bit mixer for hash tables keyed by integers. */
#ifndef SK_CORE_HASH_H
#define SK_CORE_HASH_H

#include <stdint.h>

/* The finalizer of MurmurHash3 (fmix64): every input bit affects every
 * output bit, so the low bits can index a power-of-two table. */
static inline uint64_t sk_mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

#endif
