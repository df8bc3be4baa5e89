/* domains/dga_prng.c -- families built on arithmetic generators: Necurs,
 * Symmi, Qakbot, Ranbyus and Locky.
 *
 * All state lives in locals; a set is regenerated from its key alone. */
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "domains/dga.h"
#include "domains/digest.h"

/* ---- Necurs ----
 *
 * A 64-bit mixing function applied a data-dependent number of rounds
 * (21..148). The sample adds small values to the 64-bit state before
 * mixing; where that addition carries out of 64 bits, the carry takes
 * part in the first right shift, which this code keeps. */

static uint64_t necurs_mix(uint64_t v, unsigned carry)
{
    unsigned loops = (unsigned)(v & 0x7F) + 21;
    for (unsigned i = 0; i < loops; i++) {
        uint64_t sh = v >> 5;
        if (i == 0 && carry)
            sh |= 1ULL << 59;
        v = v + ((v * 7) ^ (v << 15)) + 8ULL * i - sh;
    }
    return v;
}

static uint64_t necurs_add_mix(uint64_t n, uint64_t x)
{
    uint64_t s = n + x;
    return necurs_mix(s, s < n);
}

static size_t necurs_keys(const struct domains_run *run, int32_t day, int64_t *keys)
{
    (void)run;
    struct domains_civil c;
    domains_civil_from_day(day, &c);
    keys[0] = domains__ymb_key(c.year, c.month, c.day >> 2);
    return 1;
}

static int necurs_set(const struct domains_run *run, int64_t key, domains_emit_fn emit, void *arg)
{
    static const char *const tlds[43] = {
        "tj", "in", "jp", "tw",  "ac",  "cm",  "la",  "mn",  "so",  "sh",  "sc",
        "nu", "nf", "mu", "ms",  "mx",  "ki",  "im",  "cx",  "cc",  "tv",  "bz",
        "me", "eu", "de", "ru",  "co",  "su",  "pw",  "kz",  "sx",  "us",  "ug",
        "ir", "to", "ga", "com", "net", "org", "biz", "xxx", "pro", "bit",
    };
    int year, month, bucket;
    domains__ymb_split(key, &year, &month, &bucket);
    uint64_t base = necurs_mix((uint64_t)year, 0);
    base = necurs_add_mix(base, (uint64_t)month + 43690);
    base = necurs_add_mix(base, (uint64_t)bucket);
    for (uint32_t seq = 0; seq < run->count; seq++) {
        uint64_t n = necurs_add_mix(base, seq);
        n = necurs_add_mix(n, run->seed.num);
        unsigned len = (unsigned)(n % 15) + 7;
        char name[DOMAINS_NAME_MAX];
        for (unsigned i = 0; i < len; i++) {
            n = necurs_add_mix(n, i);
            name[i] = (char)('a' + n % 25);
            n = necurs_add_mix(n, 0xABBEDF);
        }
        size_t pos = len;
        domains__append_tld(name, &pos, tlds[n % 43]);
        int rc = emit(arg, name, pos);
        if (rc)
            return rc;
    }
    return 0;
}

static const struct domains_variant necurs_variants[] = {
    { "default", "9", 2048, { 0 }, NULL, NULL, "J. Bader, \"The DGAs of Necurs\" (2015)" },
};

const struct domains_family domains__necurs = {
    .name = "necurs",
    .aliases = "necurs-dga",
    .description = "Necurs: 2048 names for every 4-day bucket of a month (days 1-3, 4-7, ..., "
                   "28-31), from a 64-bit mixing function over year, month, bucket, index and "
                   "a per-sample magic number; 7 to 21 letters, 43 TLDs.",
    .source = "J. Bader, \"The DGAs of Necurs\" (2015); reference implementation and example "
              "list in github.com/baderj/domain_generation_algorithms, necurs/",
    .kind = DOMAINS_DGA,
    .seed_help = "the magic number (decimal or 0x-hex, 32 bits; 9 in most samples)",
    .variants = necurs_variants,
    .nvariants = 1,
    .active = "2013-2020",
    .seed_parse = domains__seed_uint32,
    .day_keys = necurs_keys,
    .gen_set = necurs_set,
};

/* ---- Symmi ----
 *
 * The Microsoft C runtime's rand() seeded from the date (the month half
 * and year); names alternate vowels and consonants, 8 to 15 letters,
 * under a dynamic-DNS domain. */

static uint32_t symmi_rand(uint32_t *s)
{
    *s = *s * 214013u + 2531011u;
    return (*s >> 16) & 0x7FFF;
}

static size_t symmi_keys(const struct domains_run *run, int32_t day, int64_t *keys)
{
    (void)run;
    struct domains_civil c;
    domains_civil_from_day(day, &c);
    keys[0] = 10000LL * ((c.day / 16) * 100 + c.month) + c.year + 42;
    return 1;
}

static int symmi_set(const struct domains_run *run, int64_t key, domains_emit_fn emit, void *arg)
{
    static const char *const letters[2] = { "aeiouy", "bcdfghklmnpqrstvwxz" };
    uint32_t s = (uint32_t)key;
    for (uint32_t n = 0; n < run->count; n++) {
        unsigned len = 8 + symmi_rand(&s) % 8;
        char name[DOMAINS_NAME_MAX];
        unsigned off1 = 0;
        for (unsigned i = 0; i < len; i++) {
            if (i % 2 == 0)
                off1 = (symmi_rand(&s) & 0x100) == 0 ? 0 : 1;
            uint32_t r = symmi_rand(&s);
            const char *set = letters[(off1 + i) % 2];
            size_t sl = strlen(set);
            name[i] = set[r % (sl - 1)];
        }
        size_t pos = len;
        domains__append_tld(name, &pos, run->variant->tld);
        int rc = emit(arg, name, pos);
        if (rc)
            return rc;
    }
    return 0;
}

static const struct domains_variant symmi_variants[] = {
    { "ddns", "", 64, { 0 }, ".ddns.net", NULL, "J. Bader, \"The DGA of Symmi\" (2015)" },
};

const struct domains_family domains__symmi = {
    .name = "symmi",
    .aliases = "symmi-dga",
    .description = "Symmi: 64 names per half month (days 1-15, 16-31) from the C runtime "
                   "rand() seeded with the date; alternating vowels and consonants, 8 to 15 "
                   "letters, as third-level names under ddns.net.",
    .source = "J. Bader, \"The DGA of Symmi\" (2015); reference implementation and example "
              "list in github.com/baderj/domain_generation_algorithms, symmi/",
    .kind = DOMAINS_DGA,
    .seed_help = "no seed",
    .variants = symmi_variants,
    .nvariants = 1,
    .active = "2014-2015",
    .seed_parse = NULL,
    .day_keys = symmi_keys,
    .gen_set = symmi_set,
};

/* ---- Qakbot (Qbot) ----
 *
 * The CRC-32 of "B.mon.YEAR.SEED" (B: 0, 1 or 2 for days 1-10, 11-20,
 * 21-31; SEED as 8 hex digits), plus one when a sandbox is detected,
 * seeds MT19937; each draw takes 28 bits and scales them to a range. */

static uint32_t qakbot_int(struct domains_mt *mt, uint32_t lo, uint32_t hi)
{
    uint64_t r = domains_mt_next(mt) & 0xFFFFFFFu;
    return lo + (uint32_t)((r * (hi - lo + 1)) >> 28);
}

static size_t qakbot_keys(const struct domains_run *run, int32_t day, int64_t *keys)
{
    (void)run;
    struct domains_civil c;
    domains_civil_from_day(day, &c);
    int b = (c.day - 1) / 10;
    keys[0] = domains__ymb_key(c.year, c.month, b > 2 ? 2 : b);
    return 1;
}

static int qakbot_set(const struct domains_run *run, int64_t key, domains_emit_fn emit, void *arg)
{
    static const char *const mon[12] = { "jan", "feb", "mar", "apr", "may", "jun",
                                         "jul", "aug", "sep", "oct", "nov", "dec" };
    static const char *const tlds[6] = { "com", "net", "org", "info", "biz", "org" };
    int year, month, bucket;
    domains__ymb_split(key, &year, &month, &bucket);
    char text[64];
    int tl = snprintf(text, sizeof(text), "%d.%s.%d.%08x", bucket, mon[month - 1], year,
                      (unsigned)run->seed.num);
    struct domains_mt mt;
    domains_mt_seed(&mt, domains_crc32(text, (size_t)tl) + run->variant->p[0]);
    for (uint32_t n = 0; n < run->count; n++) {
        uint32_t t = qakbot_int(&mt, 0, 5);
        uint32_t len = qakbot_int(&mt, 8, 25);
        char name[DOMAINS_NAME_MAX];
        for (uint32_t i = 0; i < len; i++)
            name[i] = (char)('a' + qakbot_int(&mt, 0, 25));
        size_t pos = len;
        domains__append_tld(name, &pos, tlds[t]);
        int rc = emit(arg, name, pos);
        if (rc)
            return rc;
    }
    return 0;
}

static const struct domains_variant qakbot_variants[] = {
    { "default", "0", 5000, { 0 }, NULL, NULL, "J. Bader, \"The DGA of Qakbot\" (2016)" },
    { "sandbox", "0", 5000, { 1 }, NULL, NULL, "names used when a sandbox is detected" },
    { "seed1", "1", 5000, { 0 }, NULL, NULL, "second seed seen in samples" },
    { "seed1-sandbox", "1", 5000, { 1 }, NULL, NULL, "second seed, sandbox detected" },
};

const struct domains_family domains__qakbot = {
    .name = "qakbot",
    .aliases = "qbot quakbot pinkslipbot",
    .description = "Qakbot: sets for days 1-10, 11-20 and 21-31 of each month, from MT19937 "
                   "seeded with the CRC-32 of the bucket, month, year and a seed; 8 to 25 "
                   "letters; .com .net .org .info .biz (.org twice as likely).",
    .source = "J. Bader, \"The DGA of Qakbot\" (2016); reference implementation and example "
              "list in github.com/baderj/domain_generation_algorithms, qakbot/",
    .kind = DOMAINS_DGA,
    .seed_help = "a 32-bit number, decimal or 0x-hex (0 or 1 in known samples)",
    .variants = qakbot_variants,
    .nvariants = sizeof(qakbot_variants) / sizeof(qakbot_variants[0]),
    .active = "2013-2017",
    .seed_parse = domains__seed_uint32,
    .day_keys = qakbot_keys,
    .gen_set = qakbot_set,
};

/* ---- Ranbyus (May 2015 version) ----
 *
 * Day, month, year and a 32-bit seed are each run through their own
 * shift-and-xor step once per letter; a letter is their xor mod 25. The
 * state carries over from name to name; TLDs rotate starting at the day
 * of the month. 40 names a day. */

static int ranbyus_set(const struct domains_run *run, int64_t key, domains_emit_fn emit, void *arg)
{
    static const char *const tlds[8] = { "in", "me", "cc", "su", "tw", "net", "com", "pw" };
    struct domains_civil c;
    domains_civil_from_day((int32_t)key, &c);
    uint32_t day = (uint32_t)c.day, month = (uint32_t)c.month, year = (uint32_t)c.year;
    uint32_t seed = (uint32_t)run->seed.num;
    uint32_t tld_index = day;
    for (uint32_t n = 0; n < run->count; n++) {
        char name[DOMAINS_NAME_MAX];
        for (int i = 0; i < 14; i++) {
            day = (day >> 15) ^ (16 * ((day & 0x1FFF) ^ (4 * (seed ^ day))));
            year = ((year & 0xFFFFFFF0u) << 17) ^ ((year ^ (7 * year)) >> 11);
            month = (14 * (month & 0xFFFFFFFEu)) ^ ((month ^ (4 * month)) >> 8);
            seed = (seed >> 6) ^ (((day + 8 * seed) << 8) & 0x3FFFF00u);
            name[i] = (char)((day ^ month ^ year) % 25 + 'a');
        }
        size_t pos = 14;
        domains__append_tld(name, &pos, tlds[tld_index++ % 8]);
        int rc = emit(arg, name, pos);
        if (rc)
            return rc;
    }
    return 0;
}

static const struct domains_variant ranbyus_variants[] = {
    { "b6354bc3", "B6354BC3", 40, { 0 }, NULL, NULL, "J. Bader, \"The DGA of Ranbyus\" (2015)" },
    { "c5f128f3", "C5F128F3", 40, { 0 }, NULL, NULL, "J. Bader, \"The DGA of Ranbyus\" (2015)" },
    { "65ba0743", "65BA0743", 40, { 0 }, NULL, NULL, "J. Bader, \"The DGA of Ranbyus\" (2015)" },
    { "0478620c", "0478620C", 40, { 0 }, NULL, NULL, "J. Bader, \"The DGA of Ranbyus\" (2015)" },
};

const struct domains_family domains__ranbyus = {
    .name = "ranbyus",
    .aliases = "ranbyus-may",
    .description = "Ranbyus banking trojan (May 2015 DGA): 40 names a day of 14 letters a-y "
                   "from shift-and-xor steps over the date and a 32-bit seed; TLDs rotate "
                   "through .in .me .cc .su .tw .net .com .pw. Later samples also revisit "
                   "up to 30 past days: start --from 30 days early to cover them.",
    .source = "J. Bader, \"The DGA of Ranbyus\" (2015); reference implementation and example "
              "list in github.com/baderj/domain_generation_algorithms, ranbyus/may/",
    .kind = DOMAINS_DGA,
    .seed_help = "a 32-bit hex number (e.g. B6354BC3)",
    .variants = ranbyus_variants,
    .nvariants = sizeof(ranbyus_variants) / sizeof(ranbyus_variants[0]),
    .active = "2015",
    .seed_parse = domains__seed_hex32,
    .day_keys = domains__keys_daily,
    .gen_set = ranbyus_set,
};

/* ---- Locky (2016 version 1) ----
 *
 * Multiply-rotate hashing of year, a seed, day/2 and month; 8 names per
 * two-day bucket (6 distinct for one configuration), 5 to 15 letters,
 * 14 country-code TLDs. */

static uint32_t ror32(uint32_t v, unsigned s)
{
    return (v >> s) | (v << (32 - s));
}

static uint32_t rol32(uint32_t v, unsigned s)
{
    s &= 31;
    return s ? (v << s) | (v >> (32 - s)) : v;
}

static size_t locky_keys(const struct domains_run *run, int32_t day, int64_t *keys)
{
    (void)run;
    struct domains_civil c;
    domains_civil_from_day(day, &c);
    keys[0] = domains__ymb_key(c.year, c.month, c.day / 2);
    return 1;
}

static int locky_set(const struct domains_run *run, int64_t key, domains_emit_fn emit, void *arg)
{
    static const char *const tlds[14] = { "ru", "pw", "eu", "in", "yt", "pm", "us",
                                          "fr", "de", "it", "be", "uk", "nl", "tf" };
    const uint32_t k = 0xB11924E1u;
    int year, month, half;
    domains__ymb_split(key, &year, &month, &half);
    uint32_t seed = (uint32_t)run->seed.num;
    unsigned shift = run->variant->p[0], mod = run->variant->p[1];
    uint32_t t = ror32(k * (uint32_t)(year + 0x1BF5), shift);
    if (seed)
        t = ror32(k * (t + seed + 0x27100001u), shift);
    t = ror32(k * (t + (uint32_t)half + 0x27100001u), shift);
    t = ror32(k * (t + (uint32_t)month + 0x2709A354u), shift);
    uint32_t s = rol32(seed, 17);
    for (uint32_t n = 0; n < run->count; n++) {
        uint32_t nr = rol32(n % mod, 21);
        uint32_t r = ror32(k * (nr + t + s + 0x27100001u), shift) + 0x27100001u;
        unsigned len = r % 11 + 5;
        char name[DOMAINS_NAME_MAX];
        for (unsigned i = 0; i < len; i++) {
            r = ror32(k * rol32(r, i), shift) + 0x27100001u;
            name[i] = (char)('a' + r % 25);
        }
        r = ror32(r * k, shift);
        size_t pos = len;
        domains__append_tld(name, &pos, tlds[((uint64_t)r + 0x27100001u) % 14]);
        int rc = emit(arg, name, pos);
        if (rc)
            return rc;
    }
    return 0;
}

static const struct domains_variant locky_variants[] = {
    { "config1", "62", 8, { 7, 8 }, NULL, NULL, "sample sha256 34bd23cb... (Forcepoint)" },
    { "config2", "75", 8, { 7, 8 }, NULL, NULL, "sample sha256 199a2833..." },
    { "config3", "9", 8, { 7, 8 }, NULL, NULL, "sample sha256 1a45085e..." },
    { "config4", "7", 8, { 7, 8 }, NULL, NULL, "sample sha256 f927efd7..." },
    { "config5", "0", 8, { 5, 6 }, NULL, NULL, "sample sha256 d4dc8204..." },
    { "config6", "660", 8, { 7, 8 }, NULL, NULL, "sample sha256 9b4b37cb..." },
    { "config7", "555", 8, { 7, 8 }, NULL, NULL, "sample sha256 07bed9ba..." },
};

const struct domains_family domains__locky = {
    .name = "locky",
    .aliases = "locky-v1",
    .description = "Locky ransomware (early 2016 DGA): 8 names per two-day bucket from "
                   "multiply-rotate hashing of the year, a per-sample seed, day/2 and month; 5 "
                   "to 15 letters, 14 country-code TLDs.",
    .source = "Forcepoint, \"Locky's New DGA - Seeding the New Domains\" (2016); reference "
              "implementation and example list in "
              "github.com/baderj/domain_generation_algorithms, locky/",
    .kind = DOMAINS_DGA,
    .seed_help = "the sample's seed, a 32-bit number, decimal or 0x-hex",
    .variants = locky_variants,
    .nvariants = sizeof(locky_variants) / sizeof(locky_variants[0]),
    .active = "2016",
    .seed_parse = domains__seed_uint32,
    .day_keys = locky_keys,
    .gen_set = locky_set,
};
