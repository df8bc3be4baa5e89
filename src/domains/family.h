/* domains/family.h -- the family registry and the domain generator.
 *
 * A family is a botnet's way of finding its C&C by name: a static list of
 * fallback domains hard-coded in the bot (Mega-D), or a domain-generation
 * algorithm (DGA) that derives names from the date and a seed (Necurs,
 * Murofet, ...). The registry describes each built-in family (aliases,
 * the public source it was implemented from, its seeds and variants) and
 * streams its names for any range of days.
 *
 * How names relate to days: a family's names come in sets, each named by
 * a family-internal key (e.g. "year, month and day/4" for Necurs). On a
 * given day a bot queries one or more sets in a fixed order (Pushdo looks
 * at 45 sets, from 30 days back to 14 ahead). Generating a day range
 * therefore walks the days, collects the distinct set keys with the first
 * and last day each is queried on, and then emits each set once. Memory
 * is bounded by the number of distinct sets, never by the number of
 * names; names are built in stack buffers and handed to a callback.
 *
 * Static families come from list files (domains_static_load) and behave
 * like a family with one set that is active on every day of its window. */
#ifndef SK_DOMAINS_FAMILY_H
#define SK_DOMAINS_FAMILY_H

#include <stddef.h>
#include <stdint.h>

#define DOMAINS_NAME_MAX  256      /* longest generated name, with NUL */
#define DOMAINS_MAX_KEYS  64       /* most sets a bot queries on one day */
#define DOMAINS_SEED_MAX  64       /* longest text seed, with NUL */
#define DOMAINS_COUNT_MAX 1000000u /* largest --count accepted */

enum domains_kind {
    DOMAINS_STATIC = 1, /* a fixed list of fallback domains */
    DOMAINS_DGA = 2,    /* generated from the date and/or a seed */
};

/* A seed as a family takes it: a number, or text (Banjori's first domain,
 * Tinba's key). */
struct domains_seed {
    uint64_t num;
    char str[DOMAINS_SEED_MAX];
    size_t len;
};

/* One configuration seen in samples: a seed, a key, a parameter set. The
 * first variant of a family is its default. */
struct domains_variant {
    const char *name;  /* what --variant takes */
    const char *seed;  /* default seed, in --seed syntax ("" if none) */
    uint32_t count;    /* names per set */
    uint32_t p[4];     /* family-specific parameters */
    const char *tld;   /* family-specific TLD list or second-level suffix */
    const char *param; /* family-specific text parameter (e.g. a key) */
    const char *note;  /* where it was seen */
};

struct domains_run;

/* Receives one generated name (not NUL-terminated in general; name[len]
 * is NUL for built-in families). Return 0 to go on, non-zero to stop:
 * generation then returns that value. */
typedef int (*domains_emit_fn)(void *arg, const char *name, size_t len);

struct domains_family {
    const char *name;
    const char *aliases;     /* space-separated */
    const char *description; /* one paragraph */
    const char *source;      /* the public description it was built from */
    enum domains_kind kind;
    const char *seed_help; /* what --seed takes */
    const struct domains_variant *variants;
    size_t nvariants;
    const char *active; /* when it was seen active, free text */
    /* Parse text into a seed; returns 0 or SK_EINVAL. NULL: takes no seed. */
    int (*seed_parse)(const char *text, struct domains_seed *seed /* OUT */);
    /* Keys of the sets a bot queries on day, in query order; returns how
     * many were written to keys[0..DOMAINS_MAX_KEYS). */
    size_t (*day_keys)(const struct domains_run *run, int32_t day, int64_t *keys /* OUT */);
    /* Emit the names of set key in the bot's order. */
    int (*gen_set)(const struct domains_run *run, int64_t key, domains_emit_fn emit, void *arg);
};

struct domains_static; /* a list loaded from a file */

/* A resolved generation: family, variant, seed and count. Plain data;
 * the family and variant point into the static registry (or into the
 * static list, which must outlive the run). */
struct domains_run {
    const struct domains_family *family;
    const struct domains_variant *variant;
    struct domains_seed seed;
    uint32_t count;
    const struct domains_static *list;
};

/* Number of built-in families and the i-th one (registry order). */
size_t domains_family_count(void);
const struct domains_family *domains_family_at(size_t i);

/* The built-in family with this name or alias (case-insensitive), or NULL. */
const struct domains_family *domains_family_find(const char *name);

/* Write the names of all built-in families, comma-separated, into buf. */
void domains_family_names(char *buf, size_t len);

/* Resolve a run. seed, variant may be NULL (the default variant and its
 * seed); count 0 means the variant's count. On error returns SK_EINVAL or
 * SK_ENOTFOUND with a message in err that lists the valid choices. */
int domains_run_init(struct domains_run *run /* OUT */, const struct domains_family *family,
                     const char *seed, const char *variant, uint32_t count, char *err,
                     size_t errlen);

/* The names a bot queries on one day, in its order (sets in query order,
 * names within a set in generation order, duplicates kept). */
int domains_run_day(const struct domains_run *run, int32_t day, domains_emit_fn emit, void *arg);

/* One name of a range, with the first and last day it is queried on. */
struct domains_name {
    const char *name;
    size_t len;
    const char *family;  /* family name */
    const char *variant; /* variant name */
    int32_t first_day, last_day;
};

typedef int (*domains_name_cb)(const struct domains_name *n, void *arg);

/* Flags for domains_run_range. */
#define DOMAINS_DEDUP 1u /* drop repeats of a name within a set */

/* Every name queried on a day in [from, to], each set once, in the order
 * the sets are first queried. Returns 0, the callback's non-zero value,
 * SK_EINVAL (bad range) or a negative error. Memory is O(number of sets
 * in the range + the largest set when DOMAINS_DEDUP is given). */
int domains_run_range(const struct domains_run *run, int32_t from, int32_t to, unsigned flags,
                      domains_name_cb cb, void *arg);

/* The entry point for the daemon: family by name or alias, seed and
 * variant as text (NULL for the defaults), names active in [from_day,
 * to_day] (days since 1970-01-01) streamed to cb, each set once, repeats
 * within a set dropped. Returns 0, the callback's non-zero value, or
 * SK_EINVAL / SK_ENOTFOUND with a message in err listing valid choices. */
int domains_generate(const char *family, const char *seed, const char *variant, int32_t from_day,
                     int32_t to_day, domains_name_cb cb, void *arg, char *err, size_t errlen);

/* ---- static families (lists of fallback domains) ---- */

/* Load a static family from a list file:
 *
 *   # family: megad            (required; also "aliases:", "description:",
 *   # source: ...               "source:", "active:" header comments)
 *   fallback1.example           a domain, active on every day
 *   fallback2.example 2009-11-01 2009-11-30   optional first and last day
 *
 * '#' starts a comment; names are lower-cased and checked (letters,
 * digits, '-', '_', dots between labels, at most 253 bytes). On error
 * returns SK_EINVAL (message "PATH:LINE: ..." in err) or a system error.
 * The list is owned by the caller: free with domains_static_free(). */
int domains_static_load(const char *path, struct domains_static **out /* OUT */, char *err,
                        size_t errlen);
void domains_static_free(struct domains_static *s);

/* The family record of a loaded list (kind DOMAINS_STATIC). */
const struct domains_family *domains_static_family(const struct domains_static *s);
size_t domains_static_size(const struct domains_static *s);

/* A run over a static list (no seed, no variant). */
void domains_run_init_static(struct domains_run *run /* OUT */, const struct domains_static *s);

/* Check a presentation-form domain name (no trailing dot): letters,
 * digits, '-' and '_', labels of 1..63 bytes, at most 253 bytes. Returns
 * 0 or SK_EINVAL. */
int domains_name_check(const char *name, size_t len);

#endif
