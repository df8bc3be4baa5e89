/* domains/dga_seq.c -- families whose names do not depend on the date.
 *
 * Banjori and Tinba derive each name from the previous one; Ramnit runs a
 * Park-Miller generator from a per-sample seed. All three query the same
 * names every day, so they have a single set (key 0). */
#include <string.h>

#include "core/err.h"
#include "domains/dga.h"

/* ---- Banjori (MultiBanker 2, BankPatch) ----
 *
 * The seed is a domain; each next name rewrites its first four letters
 * from sums of the previous four (mod 26) and keeps the rest. */

static char banjori_wrap(int v)
{
    return (char)('a' + (v - 'a') % 26);
}

static int banjori_seed(const char *text, struct domains_seed *seed)
{
    if (domains__seed_domain(text, seed) != 0)
        return SK_EINVAL;
    for (int i = 0; i < 4; i++)
        if (seed->str[i] < 'a' || seed->str[i] > 'z')
            return SK_EINVAL;
    return 0;
}

static int banjori_set(const struct domains_run *run, int64_t key, domains_emit_fn emit, void *arg)
{
    (void)key;
    char name[DOMAINS_NAME_MAX];
    size_t len = run->seed.len;
    memcpy(name, run->seed.str, len + 1);
    for (uint32_t n = 0; n < run->count; n++) {
        int rc = emit(arg, name, len);
        if (rc)
            return rc;
        int c0 = name[0], c1 = name[1], c2 = name[2], c3 = name[3];
        c0 = banjori_wrap(c0 + c3);
        c1 = banjori_wrap(c0 + 2 * c1);
        c2 = banjori_wrap(c0 + c2 - 1);
        c3 = banjori_wrap(c1 + c2 + c3);
        name[0] = (char)c0;
        name[1] = (char)c1;
        name[2] = (char)c2;
        name[3] = (char)c3;
    }
    return 0;
}

static const struct domains_variant banjori_variants[] = {
    { "default",
      "earnestnessbiophysicalohax.com",
      1000,
      { 0 },
      NULL,
      NULL,
      "seed of the sample analysed by J. Bader (2015)" },
};

const struct domains_family domains__banjori = {
    .name = "banjori",
    .aliases = "multibanker2 bankpatch",
    .description = "Banking trojan whose DGA starts from a seed domain hard-coded in the sample "
                   "and derives each next name by rewriting the first four letters; the names "
                   "do not depend on the date.",
    .source = "J. Bader, \"The DGA of Banjori\" (2015); reference implementation and example "
              "list in github.com/baderj/domain_generation_algorithms, banjori/",
    .kind = DOMAINS_DGA,
    .seed_help = "the seed domain (lower case, at least four leading letters)",
    .variants = banjori_variants,
    .nvariants = sizeof(banjori_variants) / sizeof(banjori_variants[0]),
    .active = "2013-2015",
    .seed_parse = banjori_seed,
    .day_keys = domains__keys_constant,
    .gen_set = banjori_set,
};

/* ---- Tinba (Tiny Banker) ----
 *
 * A 16-byte key and an initial domain hard-coded in the sample. The bot
 * first tries the initial domain, then derives twelve letters at a time
 * from the previous name and the key, and tries each with every TLD of
 * its list. */

static int tinba_set(const struct domains_run *run, int64_t key, domains_emit_fn emit, void *arg)
{
    (void)key;
    const char *k = run->variant->param;
    uint8_t kb[17] = { 0 };
    size_t kl = strlen(k);
    memcpy(kb, k, kl > 16 ? 16 : kl);
    unsigned ksum = 0;
    for (int i = 0; i < 16; i++)
        ksum += kb[i];

    const char *tld[8];
    size_t tlen[8];
    size_t ntld = domains__split(run->variant->tld, tld, tlen, 8);

    /* prev holds the name the next one is derived from; only its first
     * 13 bytes are read, so a derived name keeps its dot at index 12. */
    char prev[DOMAINS_NAME_MAX];
    memset(prev, 0, sizeof(prev));
    memcpy(prev, run->seed.str, run->seed.len);
    int rc = emit(arg, run->seed.str, run->seed.len);
    if (rc)
        return rc;
    for (uint32_t n = 0; n < run->count; n++) {
        char name[DOMAINS_NAME_MAX];
        unsigned sum = ksum;
        unsigned t = kb[15];
        for (int i = 0; i < 12; i++) {
            for (;;) {
                t += (uint8_t)prev[i];
                t ^= sum & 0xFF;
                t += (uint8_t)prev[i + 1];
                t &= 0xFF;
                if (t > 0x61 && t < 0x7a)
                    break;
                sum++;
            }
            name[i] = (char)t;
        }
        name[12] = '.';
        memcpy(prev, name, 13);
        for (size_t j = 0; j < ntld; j++) {
            memcpy(name + 13, tld[j], tlen[j]);
            name[13 + tlen[j]] = '\0';
            rc = emit(arg, name, 13 + tlen[j]);
            if (rc)
                return rc;
        }
    }
    return 0;
}

static const struct domains_variant tinba_variants[] = {
    { "jc74",
      "blackfreeqazyio.cc",
      100,
      { 0 },
      "com net in ru",
      "jc74FlUna852Ji9o",
      "J. Bader, \"New Top Level Domains for Tinba's DGA\" (2015)" },
    { "ogks",
      "ssrgwnrmgrxe.com",
      1000,
      { 0 },
      "com",
      "oGkS3w3sGGOGG7oc",
      "garage4hackers analysis (2014)" },
    { "yqok",
      "watchthisnow.xyz",
      100,
      { 0 },
      "pw us xyz club",
      "yqokqFC2TPBFfJcG",
      "Sophos Troj/Tinba-EL analysis" },
    { "j193",
      "j193hsne720uie8i.cc",
      100,
      { 0 },
      "com net biz org",
      "j193HsnW72Yqns7u",
      "baderj/domain_generation_algorithms commit c7d154a" },
};

static int tinba_seed(const char *text, struct domains_seed *seed)
{
    /* The first 13 bytes of the seed domain feed the first derivation. */
    if (domains__seed_domain(text, seed) != 0 || seed->len < 13)
        return SK_EINVAL;
    return 0;
}

const struct domains_family domains__tinba = {
    .name = "tinba",
    .aliases = "tinybanker zusy",
    .description = "Tiny Banker: tries a hard-coded domain, then derives twelve-letter names "
                   "from the previous name and a 16-byte key, each with every TLD of its list; "
                   "the names do not depend on the date.",
    .source = "J. Bader, \"New Top Level Domains for Tinba's DGA\" (2015); reference "
              "implementation and example list in "
              "github.com/baderj/domain_generation_algorithms, tinba/",
    .kind = DOMAINS_DGA,
    .seed_help = "the initial domain (lower case, at least 13 characters)",
    .variants = tinba_variants,
    .nvariants = sizeof(tinba_variants) / sizeof(tinba_variants[0]),
    .active = "2014-2016",
    .seed_parse = tinba_seed,
    .day_keys = domains__keys_constant,
    .gen_set = tinba_set,
};

/* ---- Ramnit (Nimnul) ----
 *
 * A per-sample 32-bit seed drives the Park-Miller "minimal standard"
 * generator in Schrage's form, but on the full 32-bit state; after each
 * name the state becomes a mix of the states before and after its
 * length was drawn. */

static uint32_t ramnit_next(uint32_t *state, uint32_t mod)
{
    int64_t ix = *state;
    int64_t v = 16807 * (ix % 127773) - 2836 * (ix / 127773);
    *state = (uint32_t)v;
    return *state % mod;
}

static int ramnit_set(const struct domains_run *run, int64_t key, domains_emit_fn emit, void *arg)
{
    (void)key;
    const char *tld[8];
    size_t tlen[8];
    size_t ntld = domains__split(run->variant->tld ? run->variant->tld : "com", tld, tlen, 8);
    uint32_t state = (uint32_t)run->seed.num;
    for (uint32_t n = 0; n < run->count; n++) {
        char name[DOMAINS_NAME_MAX];
        uint32_t seed_a = state;
        uint32_t len = ramnit_next(&state, 12) + 8;
        uint32_t seed_b = state;
        for (uint32_t i = 0; i < len; i++)
            name[i] = (char)('a' + ramnit_next(&state, 25));
        size_t pos = len;
        const char *t = tld[n % ntld];
        size_t tl = tlen[n % ntld];
        if (t[0] != '.')
            name[pos++] = '.';
        memcpy(name + pos, t, tl);
        pos += tl;
        name[pos] = '\0';
        uint64_t m = (uint64_t)seed_a * seed_b;
        state = (uint32_t)(m + (m >> 32));
        int rc = emit(arg, name, pos);
        if (rc)
            return rc;
    }
    return 0;
}

static const struct domains_variant ramnit_variants[] = {
    { "ef214bbf", "0xEF214BBF", 100, { 0 }, "com", NULL, "J. Bader, \"The DGA of Ramnit\"" },
    { "28488eea", "0x28488EEA", 100, { 0 }, "com", NULL, "J. Bader, \"The DGA of Ramnit\"" },
    { "4bfcbc6a", "0x4BFCBC6A", 100, { 0 }, "com", NULL, "J. Bader, \"The DGA of Ramnit\"" },
    { "79159c10", "0x79159C10", 100, { 0 }, "com", NULL, "J. Bader, \"The DGA of Ramnit\"" },
    { "92f4be35", "0x92F4BE35", 100, { 0 }, "com", NULL, "baderj reference, ramnit/dga.py" },
    { "4302c04a",
      "0x4302C04A",
      10,
      { 0 },
      "click bid eu",
      NULL,
      "baderj reference, ramnit/dga.py" },
    { "52278648", "0x52278648", 100, { 0 }, "com", NULL, "baderj reference, ramnit/dga.py" },
    { "9753029a", "0x9753029A", 100, { 0 }, "eu", NULL, "baderj reference, ramnit/dga.py" },
};

const struct domains_family domains__ramnit = {
    .name = "ramnit",
    .aliases = "nimnul",
    .description = "Banking worm whose DGA draws a length (8..19) and letters a-y from a "
                   "Park-Miller generator seeded per sample; the names do not depend on the "
                   "date.",
    .source = "J. Bader, \"The DGA of Ramnit\" (2014); reference implementation and example "
              "list in github.com/baderj/domain_generation_algorithms, ramnit/",
    .kind = DOMAINS_DGA,
    .seed_help = "a 32-bit hex number (e.g. EF214BBF)",
    .variants = ramnit_variants,
    .nvariants = sizeof(ramnit_variants) / sizeof(ramnit_variants[0]),
    .active = "2010-2019",
    .seed_parse = domains__seed_hex32,
    .day_keys = domains__keys_constant,
    .gen_set = ramnit_set,
};
