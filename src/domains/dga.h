/* domains/dga.h -- internal: the built-in families and helpers they share.
 *
 * Each dga_*.c file defines a few families (const struct domains_family)
 * and family.c lists them in the registry. Not a public header: callers
 * use domains/family.h. */
#ifndef SK_DOMAINS_DGA_H
#define SK_DOMAINS_DGA_H

#include <stddef.h>
#include <stdint.h>

#include "domains/date.h"
#include "domains/family.h"

/* dga_seq.c: families that walk a sequence from a seed domain. */
extern const struct domains_family domains__banjori;
extern const struct domains_family domains__tinba;
extern const struct domains_family domains__ramnit;

/* dga_hash.c: MD5-based families. */
extern const struct domains_family domains__murofet;
extern const struct domains_family domains__murofet2;
extern const struct domains_family domains__newgoz;
extern const struct domains_family domains__pushdo;

/* dga_prng.c: families built on arithmetic generators. */
extern const struct domains_family domains__necurs;
extern const struct domains_family domains__symmi;
extern const struct domains_family domains__qakbot;
extern const struct domains_family domains__ranbyus;
extern const struct domains_family domains__locky;

/* Set keys for families whose sets follow the calendar: a day number for
 * daily sets, or year/month/bucket packed as y*10000 + m*100 + b. */
static inline int64_t domains__ymb_key(int year, int month, int bucket)
{
    return (int64_t)year * 10000 + month * 100 + bucket;
}

static inline void domains__ymb_split(int64_t key, int *year, int *month, int *bucket)
{
    *year = (int)(key / 10000);
    *month = (int)(key / 100 % 100);
    *bucket = (int)(key % 100);
}

/* day_keys for a family with one daily set: the day itself. */
size_t domains__keys_daily(const struct domains_run *run, int32_t day, int64_t *keys);
/* day_keys for a family whose names do not depend on the date. */
size_t domains__keys_constant(const struct domains_run *run, int32_t day, int64_t *keys);

/* Seed parsers: a 32-bit number (hex with or without 0x), a 32-bit
 * decimal or 0x-hex number, and a lower-case domain name. */
int domains__seed_hex32(const char *text, struct domains_seed *seed);
int domains__seed_uint32(const char *text, struct domains_seed *seed);
int domains__seed_domain(const char *text, struct domains_seed *seed);

/* Append the '.'-prefixed or bare TLD tld to name at *pos (bounded by
 * DOMAINS_NAME_MAX); a leading dot is added when missing. */
void domains__append_tld(char *name, size_t *pos, const char *tld);

/* Split a space-separated list into up to max pointers/lengths. Returns
 * how many were found. */
size_t domains__split(const char *list, const char **item, size_t *len, size_t max);

#endif
