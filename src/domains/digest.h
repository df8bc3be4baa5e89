/* domains/digest.h -- the hash and PRNG primitives DGAs are built from.
 *
 * MD5 (RFC 1321), CRC-32 (IEEE 802.3, as zlib computes it) and the
 * MT19937 Mersenne Twister. Small, allocation-free and reentrant: the
 * generators call them once or more per name, so they must not touch the
 * heap (OpenSSL's EVP interface allocates a context per digest). */
#ifndef SK_DOMAINS_DIGEST_H
#define SK_DOMAINS_DIGEST_H

#include <stddef.h>
#include <stdint.h>

/* MD5 of data[0..len) into out[16]. */
void domains_md5(const void *data, size_t len, uint8_t out[16]);

/* CRC-32 of data[0..len) (initial value and final xor 0xFFFFFFFF). */
uint32_t domains_crc32(const void *data, size_t len);

#define DOMAINS_MT_N 624

/* MT19937 state; seed with domains_mt_seed() before use. */
struct domains_mt {
    uint32_t mt[DOMAINS_MT_N];
    unsigned idx;
};

void domains_mt_seed(struct domains_mt *m, uint32_t seed);
uint32_t domains_mt_next(struct domains_mt *m);

#endif
