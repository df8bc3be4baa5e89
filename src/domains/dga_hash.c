/* domains/dga_hash.c -- families that hash the date: Murofet (two
 * variants), newGOZ and Pushdo.
 *
 * Each name is derived from the MD5 of a few bytes of date and index, so
 * a set costs one MD5 per name and needs no state between names. */
#include <string.h>

#include "core/err.h"
#include "domains/dga.h"
#include "domains/digest.h"

/* Murofet's TLD rule: the first TLD i (of n) for which index % (n - i)
 * is zero; the last one always matches. */
static const char *murofet_tld(const char *const *tlds, unsigned n, uint32_t index)
{
    for (unsigned i = 0; i < n; i++)
        if (index % (n - i) == 0)
            return tlds[i];
    return tlds[n - 1];
}

/* The year byte: (year & 0xFF) + 0x30, kept to one byte. */
static uint8_t murofet_year(int year)
{
    return (uint8_t)((year & 0xFF) + 0x30);
}

/* ---- Murofet (LICAT) variant 1: weekly sets, two letters per byte ---- */

static size_t murofet_keys(const struct domains_run *run, int32_t day, int64_t *keys)
{
    (void)run;
    struct domains_civil c;
    domains_civil_from_day(day, &c);
    keys[0] = domains__ymb_key(c.year, c.month, c.day / 7);
    return 1;
}

static int murofet_set(const struct domains_run *run, int64_t key, domains_emit_fn emit, void *arg)
{
    static const char *const tlds[] = { ".ru", ".biz", ".info", ".org", ".net", ".com" };
    int year, month, bucket;
    domains__ymb_split(key, &year, &month, &bucket);
    uint8_t in[7] = { murofet_year(year), (uint8_t)month, (uint8_t)(bucket * 7) };
    for (uint32_t index = 0; index < run->count; index++) {
        char name[DOMAINS_NAME_MAX];
        size_t pos = 0;
        uint8_t h[16];
        for (int i = 0; i < 4; i++)
            in[3 + i] = (uint8_t)(index >> (8 * i));
        domains_md5(in, sizeof(in), h);
        for (int i = 0; i < 16; i++) {
            int d = (h[i] & 0x1F) + 'a';
            int c = (h[i] >> 3) + 'a';
            if (d != c) {
                if (d <= 'z')
                    name[pos++] = (char)d;
                if (c <= 'z')
                    name[pos++] = (char)c;
            }
        }
        domains__append_tld(name, &pos, murofet_tld(tlds, 6, index));
        int rc = emit(arg, name, pos);
        if (rc)
            return rc;
    }
    return 0;
}

static const struct domains_variant murofet_variants[] = {
    { "v1", "", 1020, { 0 }, NULL, NULL, "J. Bader, \"Three Variants of Murofet's DGA\", v1" },
};

const struct domains_family domains__murofet = {
    .name = "murofet",
    .aliases = "licat murofet-v1",
    .description = "ZeuS descendant (LICAT). Variant 1: MD5 of year, month, day rounded down to "
                   "a multiple of 7 and a name index 0..1019; two letters per hash byte; "
                   "TLDs .ru .biz .info .org .net .com by index. Sets change on days 7, 14, 21 "
                   "and 28 and on the 1st.",
    .source = "J. Bader, \"Three Variants of Murofet's DGA\" (2015); reference implementation "
              "and example list in github.com/baderj/domain_generation_algorithms, murofet/v1/",
    .kind = DOMAINS_DGA,
    .seed_help = "no seed",
    .variants = murofet_variants,
    .nvariants = 1,
    .active = "2010-2011",
    .seed_parse = NULL,
    .day_keys = murofet_keys,
    .gen_set = murofet_set,
};

/* ---- Murofet variant 2: daily sets, a key, one letter per byte ---- */

static int murofet2_set(const struct domains_run *run, int64_t key, domains_emit_fn emit, void *arg)
{
    static const char *const tlds[] = { ".biz", ".info", ".org", ".net", ".com" };
    struct domains_civil c;
    domains_civil_from_day((int32_t)key, &c);
    uint32_t xk = run->variant->p[0];
    for (uint32_t index = 0; index < run->count; index++) {
        char name[DOMAINS_NAME_MAX];
        size_t pos = 0;
        uint8_t in[8] = { murofet_year(c.year), (uint8_t)c.month, (uint8_t)c.day, 0 };
        uint32_t r = index & ~1u;
        for (int i = 0; i < 4; i++)
            in[4 + i] = (uint8_t)(r >> (8 * i));
        for (int i = 0; i < 8; i++)
            in[i] ^= (uint8_t)(xk >> (8 * (i % 4)));
        uint8_t h[16];
        domains_md5(in, sizeof(in), h);
        for (int i = 0; i < 16; i++) {
            int t = (h[i] & 0xF) + (h[i] >> 4) + 'a';
            if (t <= 'z')
                name[pos++] = (char)t;
        }
        domains__append_tld(name, &pos, murofet_tld(tlds, 5, index));
        int rc = emit(arg, name, pos);
        if (rc)
            return rc;
    }
    return 0;
}

static const struct domains_variant murofet2_variants[] = {
    { "nokey", "", 1020, { 0 }, NULL, NULL, "J. Bader, \"Three Variants of Murofet's DGA\", v2" },
    { "d6d7a4be", "", 1020, { 0xD6D7A4BEu }, NULL, NULL, "key seen in samples (baderj)" },
    { "deadc2de", "", 1020, { 0xDEADC2DEu }, NULL, NULL, "key seen in samples (baderj)" },
};

const struct domains_family domains__murofet2 = {
    .name = "murofet2",
    .aliases = "murofet-v2 licat2",
    .description = "Murofet variant 2: MD5 of year, month, day, a zero byte and the name index "
                   "rounded down to even, XORed with an optional 4-byte key; one letter per "
                   "hash byte; each second-level name appears with two TLDs. Daily sets.",
    .source = "J. Bader, \"Three Variants of Murofet's DGA\" (2015); reference implementation "
              "and example list in github.com/baderj/domain_generation_algorithms, murofet/v2/",
    .kind = DOMAINS_DGA,
    .seed_help = "no seed (the key is chosen with --variant)",
    .variants = murofet2_variants,
    .nvariants = sizeof(murofet2_variants) / sizeof(murofet2_variants[0]),
    .active = "2011",
    .seed_parse = NULL,
    .day_keys = domains__keys_daily,
    .gen_set = murofet2_set,
};

/* ---- newGOZ (GameOver Zeus after Operation Tovar) ----
 *
 * MD5 over the index and the date interleaved with a 4-byte key; each
 * quarter of the hash, read as a little-endian number, gives up to seven
 * base-36 digits. 1000 names a day. */

static int newgoz_set(const struct domains_run *run, int64_t key, domains_emit_fn emit, void *arg)
{
    static const uint8_t k[4] = { 0x01, 0x05, 0x19, 0x35 };
    struct domains_civil c;
    domains_civil_from_day((int32_t)key, &c);
    uint8_t in[22];
    in[4] = (uint8_t)c.year;
    in[5] = (uint8_t)(c.year >> 8);
    memcpy(in + 6, k, 4);
    in[10] = (uint8_t)c.month;
    in[11] = 0;
    memcpy(in + 12, k, 4);
    in[16] = (uint8_t)c.day;
    in[17] = 0;
    memcpy(in + 18, k, 4);
    for (uint32_t seq = 0; seq < run->count; seq++) {
        for (int i = 0; i < 4; i++)
            in[i] = (uint8_t)(seq >> (8 * i));
        uint8_t h[16];
        domains_md5(in, sizeof(in), h);
        char name[DOMAINS_NAME_MAX];
        size_t pos = 0;
        for (int q = 0; q < 4; q++) {
            uint32_t v = (uint32_t)h[4 * q] | (uint32_t)h[4 * q + 1] << 8 |
                         (uint32_t)h[4 * q + 2] << 16 | (uint32_t)h[4 * q + 3] << 24;
            char digits[7];
            int nd = 0;
            do {
                uint32_t d = v % 36;
                v /= 36;
                digits[nd++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
            } while (v != 0 && nd < 7);
            while (nd > 0)
                name[pos++] = digits[--nd];
        }
        const char *tld = seq % 4 == 0   ? ".com"
                          : seq % 3 == 0 ? ".org"
                          : seq % 2 == 0 ? ".biz"
                                         : ".net";
        domains__append_tld(name, &pos, tld);
        int rc = emit(arg, name, pos);
        if (rc)
            return rc;
    }
    return 0;
}

static const struct domains_variant newgoz_variants[] = {
    { "default", "", 1000, { 0 }, NULL, NULL, "J. Bader, \"The DGA of newGOZ\" (2014)" },
};

const struct domains_family domains__newgoz = {
    .name = "newgoz",
    .aliases = "gameover-zeus gameover newgoz-dga p2pzeus",
    .description = "GameOver Zeus after the 2014 takedown: 1000 names a day, each from the MD5 "
                   "of the index and the date with a fixed key, written in base 36; TLDs .com, "
                   ".org, .biz, .net by index.",
    .source = "J. Bader, \"The DGA of newGOZ\" (2014); reference implementation and example "
              "list in github.com/baderj/domain_generation_algorithms, newgoz/",
    .kind = DOMAINS_DGA,
    .seed_help = "no seed",
    .variants = newgoz_variants,
    .nvariants = 1,
    .active = "2014",
    .seed_parse = NULL,
    .day_keys = domains__keys_daily,
    .gen_set = newgoz_set,
};

/* ---- Pushdo (Cutwail's loader) ----
 *
 * A day number (the sample's own count, which sums month lengths from
 * February and takes every fourth year as leap) selects 30 names; a bot
 * queries the sets of its day, 30 days back and 14 ahead. Names are built
 * from consonant-vowel syllables picked by the bytes of chained MD5s. */

struct pushdo_cfg {
    const char *ca; /* 19 consonants */
    const char *cb; /* 15 consonants */
    unsigned mod, mod2;
};

static const struct pushdo_cfg pushdo_cfgs[] = {
    { "bcdfghjklmnpqrstvwx", "zxtsrqpnmlkgfdc", 7, 1 },
    { "kqbhcndjfwglpmzxrsv", "qzlbtgrnkxsfdcm", 8, 2 },
};

static int64_t pushdo_daynum(int32_t day)
{
    static const int dim[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    struct domains_civil c;
    domains_civil_from_day(day, &c);
    int64_t t = 0;
    for (int m = c.month - 1; m > 0; m--)
        t += (m == 1 && c.year % 4 == 0) ? 29 : dim[m];
    return c.day + t + 365LL * (c.year - c.year / 4) + 366LL * (c.year / 4);
}

static size_t pushdo_keys(const struct domains_run *run, int32_t day, int64_t *keys)
{
    (void)run;
    int64_t base = pushdo_daynum(day);
    size_t n = 0;
    for (int j = 0; j >= -30; j--)
        keys[n++] = base + j;
    for (int j = 1; j <= 14; j++)
        keys[n++] = base + j;
    return n;
}

static size_t pushdo_syllable(const struct pushdo_cfg *cfg, unsigned r, char *out)
{
    static const char va[] = "aeiou", vb[] = "aio";
    unsigned rp2 = r + 2;
    out[0] = cfg->ca[r % 19];
    out[1] = va[((r + 1) & 0xFF) % 5];
    if (out[1] == 'e' && (rp2 & cfg->mod)) {
        out[2] = vb[rp2 % 3];
        return 3;
    }
    if (!(rp2 & cfg->mod2))
        return 2;
    out[2] = cfg->cb[(r + 3) % 15];
    return 3;
}

static int pushdo_set(const struct domains_run *run, int64_t key, domains_emit_fn emit, void *arg)
{
    const struct pushdo_cfg *cfg = &pushdo_cfgs[run->variant->p[0]];
    uint32_t r = (uint32_t)key;
    for (uint32_t i = 0; i < run->count; i++) {
        uint8_t in[4] = { (uint8_t)r, (uint8_t)(r >> 8), (uint8_t)(r >> 16), (uint8_t)(r >> 24) };
        uint8_t h[16];
        domains_md5(in, 4, h);
        r = (uint32_t)h[0] | (uint32_t)h[1] << 8 | (uint32_t)h[2] << 16 | (uint32_t)h[3] << 24;
        size_t want = (r & 3) + 9;
        char name[DOMAINS_NAME_MAX];
        size_t pos = 0;
        for (int b = 0; b < 16 && pos < want; b++)
            pos += pushdo_syllable(cfg, h[b], name + pos);
        pos = want;
        domains__append_tld(name, &pos, run->variant->tld);
        r += 1;
        int rc = emit(arg, name, pos);
        if (rc)
            return rc;
    }
    return 0;
}

static const struct domains_variant pushdo_variants[] = {
    { "kz_v1", "", 30, { 0 }, "kz", NULL, "baderj reference, pushdo/dga.py" },
    { "com_v1", "", 30, { 0 }, "com", NULL, "baderj reference, pushdo/dga.py" },
    { "kz_v2", "", 30, { 1 }, "kz", NULL, "baderj reference, pushdo/dga.py" },
};

const struct domains_family domains__pushdo = {
    .name = "pushdo",
    .aliases = "cutwail-loader pandex",
    .description = "Pushdo: 30 names per day number from chained MD5s, built of "
                   "consonant-vowel syllables, 9 to 12 letters; a bot queries the names of 45 "
                   "days (30 back, 14 ahead), so every name is live for 45 days.",
    .source = "Reference implementation and example list in "
              "github.com/baderj/domain_generation_algorithms, pushdo/ (configurations "
              "kz_v1, com_v1, kz_v2)",
    .kind = DOMAINS_DGA,
    .seed_help = "no seed (the alphabet is chosen with --variant)",
    .variants = pushdo_variants,
    .nvariants = sizeof(pushdo_variants) / sizeof(pushdo_variants[0]),
    .active = "2013-2015",
    .seed_parse = NULL,
    .day_keys = pushdo_keys,
    .gen_set = pushdo_set,
};
