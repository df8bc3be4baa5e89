/* domains/family.c -- the registry, run resolution and range generation.
 *
 * Range generation first maps the days of the range to the distinct sets
 * they query (an open-addressing table of set keys, with the first and
 * last day of each), then generates each set once. The optional per-set
 * de-duplication keeps the names of the current set in one reusable
 * arena, so nothing is allocated per name. */
#include "domains/family.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/err.h"
#include "core/hash.h"
#include "core/strpool.h"
#include "domains/dga.h"

static const struct domains_family *const registry[] = {
    &domains__necurs, &domains__murofet, &domains__murofet2, &domains__newgoz,
    &domains__qakbot, &domains__locky,   &domains__pushdo,   &domains__ranbyus,
    &domains__symmi,  &domains__banjori, &domains__ramnit,   &domains__tinba,
};

#define NREGISTRY (sizeof(registry) / sizeof(registry[0]))

size_t domains_family_count(void)
{
    return NREGISTRY;
}

const struct domains_family *domains_family_at(size_t i)
{
    return i < NREGISTRY ? registry[i] : NULL;
}

/* True if word appears in the space-separated list (case-insensitive). */
static int list_has(const char *list, const char *word)
{
    size_t wl = strlen(word);
    const char *p = list;
    while (p && *p) {
        while (*p == ' ')
            p++;
        const char *e = p;
        while (*e && *e != ' ')
            e++;
        if ((size_t)(e - p) == wl && strncasecmp(p, word, wl) == 0)
            return 1;
        p = e;
    }
    return 0;
}

const struct domains_family *domains_family_find(const char *name)
{
    if (name == NULL)
        return NULL;
    for (size_t i = 0; i < NREGISTRY; i++)
        if (strcasecmp(registry[i]->name, name) == 0 || list_has(registry[i]->aliases, name))
            return registry[i];
    return NULL;
}

void domains_family_names(char *buf, size_t len)
{
    size_t pos = 0;
    if (len == 0)
        return;
    buf[0] = '\0';
    for (size_t i = 0; i < NREGISTRY; i++) {
        int n = snprintf(buf + pos, len - pos, "%s%s", i ? ", " : "", registry[i]->name);
        if (n < 0 || (size_t)n >= len - pos)
            return;
        pos += (size_t)n;
    }
}

/* ---- shared helpers for the generators ---- */

size_t domains__keys_daily(const struct domains_run *run, int32_t day, int64_t *keys)
{
    (void)run;
    keys[0] = day;
    return 1;
}

size_t domains__keys_constant(const struct domains_run *run, int32_t day, int64_t *keys)
{
    (void)run;
    (void)day;
    keys[0] = 0;
    return 1;
}

int domains__seed_hex32(const char *text, struct domains_seed *seed)
{
    uint64_t v;
    if (domains_parse_uint(text, 1, UINT32_MAX, &v) != 0)
        return SK_EINVAL;
    memset(seed, 0, sizeof(*seed));
    seed->num = v;
    return 0;
}

int domains__seed_uint32(const char *text, struct domains_seed *seed)
{
    uint64_t v;
    if (domains_parse_uint(text, 0, UINT32_MAX, &v) != 0)
        return SK_EINVAL;
    memset(seed, 0, sizeof(*seed));
    seed->num = v;
    return 0;
}

int domains__seed_domain(const char *text, struct domains_seed *seed)
{
    size_t len = strlen(text);
    if (len == 0 || len >= DOMAINS_SEED_MAX)
        return SK_EINVAL;
    for (size_t i = 0; i < len; i++)
        if (!((text[i] >= 'a' && text[i] <= 'z') || (text[i] >= '0' && text[i] <= '9') ||
              text[i] == '.' || text[i] == '-'))
            return SK_EINVAL;
    if (domains_name_check(text, len) != 0)
        return SK_EINVAL;
    memset(seed, 0, sizeof(*seed));
    memcpy(seed->str, text, len + 1);
    seed->len = len;
    return 0;
}

void domains__append_tld(char *name, size_t *pos, const char *tld)
{
    size_t p = *pos;
    if (tld[0] != '.' && p + 1 < DOMAINS_NAME_MAX)
        name[p++] = '.';
    for (; *tld && p + 1 < DOMAINS_NAME_MAX; tld++)
        name[p++] = *tld;
    name[p] = '\0';
    *pos = p;
}

size_t domains__split(const char *list, const char **item, size_t *len, size_t max)
{
    size_t n = 0;
    const char *p = list;
    while (p && *p && n < max) {
        while (*p == ' ')
            p++;
        if (*p == '\0')
            break;
        const char *e = p;
        while (*e && *e != ' ')
            e++;
        item[n] = p;
        len[n] = (size_t)(e - p);
        n++;
        p = e;
    }
    return n;
}

int domains_name_check(const char *name, size_t len)
{
    if (len == 0 || len > 253)
        return SK_EINVAL;
    size_t label = 0;
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        if (c == '.') {
            if (label == 0)
                return SK_EINVAL;
            label = 0;
            continue;
        }
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return SK_EINVAL;
        if (++label > 63)
            return SK_EINVAL;
    }
    return label == 0 ? SK_EINVAL : 0;
}

/* ---- run resolution ---- */

static void list_variants(const struct domains_family *f, char *buf, size_t len)
{
    size_t pos = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < f->nvariants; i++) {
        int n = snprintf(buf + pos, len - pos, "%s%s", i ? ", " : "", f->variants[i].name);
        if (n < 0 || (size_t)n >= len - pos)
            return;
        pos += (size_t)n;
    }
}

static void list_seeds(const struct domains_family *f, char *buf, size_t len)
{
    size_t pos = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < f->nvariants; i++) {
        const char *s = f->variants[i].seed;
        if (s == NULL || *s == '\0')
            continue;
        int dup = 0;
        for (size_t j = 0; j < i; j++)
            if (f->variants[j].seed && strcmp(f->variants[j].seed, s) == 0)
                dup = 1;
        if (dup)
            continue;
        int n = snprintf(buf + pos, len - pos, "%s%s", pos ? ", " : "", s);
        if (n < 0 || (size_t)n >= len - pos)
            return;
        pos += (size_t)n;
    }
}

int domains_run_init(struct domains_run *run, const struct domains_family *family, const char *seed,
                     const char *variant, uint32_t count, char *err, size_t errlen)
{
    char choices[1024];
    memset(run, 0, sizeof(*run));
    if (family == NULL) {
        domains_family_names(choices, sizeof(choices));
        snprintf(err, errlen, "unknown family; valid families: %s", choices);
        return SK_ENOTFOUND;
    }
    if (family->kind != DOMAINS_DGA || family->nvariants == 0) {
        snprintf(err, errlen, "family %s is a static list: load it from its file", family->name);
        return SK_EINVAL;
    }
    run->family = family;
    run->variant = &family->variants[0];
    if (variant != NULL) {
        run->variant = NULL;
        for (size_t i = 0; i < family->nvariants; i++)
            if (strcasecmp(family->variants[i].name, variant) == 0)
                run->variant = &family->variants[i];
        if (run->variant == NULL) {
            list_variants(family, choices, sizeof(choices));
            snprintf(err, errlen, "unknown variant '%s' of %s; valid variants: %s", variant,
                     family->name, choices);
            return SK_ENOTFOUND;
        }
    }
    const char *s = seed != NULL ? seed : run->variant->seed;
    if (family->seed_parse == NULL) {
        if (seed != NULL) {
            snprintf(err, errlen, "family %s takes no seed; choose a --variant instead",
                     family->name);
            return SK_EINVAL;
        }
    } else if (s == NULL || family->seed_parse(s, &run->seed) != 0) {
        list_seeds(family, choices, sizeof(choices));
        snprintf(err, errlen, "bad seed '%s' for %s: expected %s; known seeds: %s", s ? s : "",
                 family->name, family->seed_help, choices);
        return SK_EINVAL;
    }
    run->count = count ? count : run->variant->count;
    if (run->count == 0 || run->count > DOMAINS_COUNT_MAX) {
        snprintf(err, errlen, "bad count %u: expected 1..%u", (unsigned)run->count,
                 (unsigned)DOMAINS_COUNT_MAX);
        return SK_EINVAL;
    }
    return 0;
}

/* ---- static lists ---- */

struct static_name {
    uint32_t off;
    uint16_t len;
    int32_t first, last;
};

struct domains_static {
    struct domains_family fam;
    char fname[64];
    char aliases[128];
    char description[512];
    char source[512];
    char active[128];
    struct strpool text; /* the names */
    struct static_name *names;
    size_t n, cap;
};

static int static_active(const struct static_name *sn, int32_t day)
{
    return day >= sn->first && day <= sn->last;
}

int domains_run_day(const struct domains_run *run, int32_t day, domains_emit_fn emit, void *arg)
{
    if (run->list != NULL) {
        const struct domains_static *s = run->list;
        for (size_t i = 0; i < s->n; i++) {
            if (!static_active(&s->names[i], day))
                continue;
            int rc = emit(arg, strpool_str(&s->text, s->names[i].off), s->names[i].len);
            if (rc)
                return rc;
        }
        return 0;
    }
    int64_t keys[DOMAINS_MAX_KEYS];
    size_t nk = run->family->day_keys(run, day, keys);
    for (size_t i = 0; i < nk; i++) {
        int rc = run->family->gen_set(run, keys[i], emit, arg);
        if (rc)
            return rc;
    }
    return 0;
}

/* ---- range generation ---- */

struct key_entry {
    int64_t key;
    int32_t first, last;
};

struct key_map {
    struct key_entry *e; /* in insertion order */
    size_t n, cap;
    uint32_t *slot; /* index + 1 into e, 0 = empty */
    size_t nslot;   /* power of two */
};

static int key_map_grow(struct key_map *m)
{
    size_t nslot = m->nslot ? m->nslot * 2 : 64;
    uint32_t *slot = calloc(nslot, sizeof(*slot));
    if (slot == NULL)
        return SK_ERR(ENOMEM);
    for (size_t i = 0; i < m->n; i++) {
        size_t h = sk_mix64((uint64_t)m->e[i].key) & (nslot - 1);
        while (slot[h])
            h = (h + 1) & (nslot - 1);
        slot[h] = (uint32_t)(i + 1);
    }
    free(m->slot);
    m->slot = slot;
    m->nslot = nslot;
    return 0;
}

static int key_map_touch(struct key_map *m, int64_t key, int32_t day)
{
    if ((m->n + 1) * 2 > m->nslot) {
        int rc = key_map_grow(m);
        if (rc)
            return rc;
    }
    size_t h = sk_mix64((uint64_t)key) & (m->nslot - 1);
    while (m->slot[h]) {
        struct key_entry *e = &m->e[m->slot[h] - 1];
        if (e->key == key) {
            if (day < e->first)
                e->first = day;
            if (day > e->last)
                e->last = day;
            return 0;
        }
        h = (h + 1) & (m->nslot - 1);
    }
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 64;
        struct key_entry *ne = realloc(m->e, cap * sizeof(*ne));
        if (ne == NULL)
            return SK_ERR(ENOMEM);
        m->e = ne;
        m->cap = cap;
    }
    m->e[m->n] = (struct key_entry){ key, day, day };
    m->n++;
    m->slot[h] = (uint32_t)m->n;
    return 0;
}

/* The names of one set, for dropping repeats: offsets into an arena, in
 * an open-addressing table; both are reused from set to set. */
struct dedup {
    char *arena;
    size_t used, cap;
    uint32_t *slot; /* offset + 1 */
    size_t nslot, n;
};

static uint64_t name_hash(const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= (uint8_t)s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static void dedup_reset(struct dedup *d)
{
    d->used = 0;
    d->n = 0;
    if (d->slot)
        memset(d->slot, 0, d->nslot * sizeof(*d->slot));
}

static int dedup_rehash(struct dedup *d, size_t nslot)
{
    uint32_t *slot = calloc(nslot, sizeof(*slot));
    if (slot == NULL)
        return SK_ERR(ENOMEM);
    for (size_t off = 0; off < d->used;) {
        size_t len = (uint8_t)d->arena[off];
        size_t h = name_hash(d->arena + off + 1, len) & (nslot - 1);
        while (slot[h])
            h = (h + 1) & (nslot - 1);
        slot[h] = (uint32_t)off + 1;
        off += len + 1;
    }
    free(d->slot);
    d->slot = slot;
    d->nslot = nslot;
    return 0;
}

/* Returns 1 if the name was seen in this set, 0 if it is new (and now
 * remembered), or a negative error. */
static int dedup_seen(struct dedup *d, const char *name, size_t len)
{
    if (len > 255)
        return 0; /* cannot be stored; longer than any DNS name anyway */
    if ((d->n + 1) * 2 > d->nslot) {
        int rc = dedup_rehash(d, d->nslot ? d->nslot * 2 : 1024);
        if (rc)
            return rc;
    }
    uint64_t hv = name_hash(name, len);
    size_t h = hv & (d->nslot - 1);
    while (d->slot[h]) {
        const char *e = d->arena + d->slot[h] - 1;
        if ((uint8_t)e[0] == len && memcmp(e + 1, name, len) == 0)
            return 1;
        h = (h + 1) & (d->nslot - 1);
    }
    if (d->used + len + 1 > d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 65536;
        while (cap < d->used + len + 1)
            cap *= 2;
        if (cap > UINT32_MAX)
            return 0; /* a set this large is not de-duplicated further */
        char *na = realloc(d->arena, cap);
        if (na == NULL)
            return SK_ERR(ENOMEM);
        d->arena = na;
        d->cap = cap;
    }
    d->arena[d->used] = (char)len;
    memcpy(d->arena + d->used + 1, name, len);
    d->slot[h] = (uint32_t)d->used + 1;
    d->used += len + 1;
    d->n++;
    return 0;
}

struct range_ctx {
    const struct domains_run *run;
    struct domains_name out;
    domains_name_cb cb;
    void *arg;
    struct dedup *dd;
};

static int range_emit(void *arg, const char *name, size_t len)
{
    struct range_ctx *c = arg;
    if (c->dd != NULL) {
        int seen = dedup_seen(c->dd, name, len);
        if (seen < 0)
            return seen;
        if (seen)
            return 0;
    }
    c->out.name = name;
    c->out.len = len;
    return c->cb(&c->out, c->arg);
}

static int range_static(const struct domains_run *run, int32_t from, int32_t to, domains_name_cb cb,
                        void *arg)
{
    const struct domains_static *s = run->list;
    for (size_t i = 0; i < s->n; i++) {
        const struct static_name *sn = &s->names[i];
        int32_t first = sn->first > from ? sn->first : from;
        int32_t last = sn->last < to ? sn->last : to;
        if (first > last)
            continue;
        struct domains_name out = {
            strpool_str(&s->text, sn->off), sn->len, s->fname, "list", first, last
        };
        int rc = cb(&out, arg);
        if (rc)
            return rc;
    }
    return 0;
}

int domains_run_range(const struct domains_run *run, int32_t from, int32_t to, unsigned flags,
                      domains_name_cb cb, void *arg)
{
    if (from > to || from < DOMAINS_DAY_MIN || to > DOMAINS_DAY_MAX)
        return SK_EINVAL;
    if (run->list != NULL)
        return range_static(run, from, to, cb, arg);

    struct key_map map = { 0 };
    int rc = 0;
    int64_t keys[DOMAINS_MAX_KEYS];
    for (int32_t day = from; day <= to && rc == 0; day++) {
        size_t nk = run->family->day_keys(run, day, keys);
        for (size_t i = 0; i < nk && rc == 0; i++)
            rc = key_map_touch(&map, keys[i], day);
    }
    struct dedup dd = { 0 };
    struct range_ctx ctx = { run, { 0 }, cb, arg, (flags & DOMAINS_DEDUP) ? &dd : NULL };
    ctx.out.family = run->family->name;
    ctx.out.variant = run->variant->name;
    for (size_t i = 0; i < map.n && rc == 0; i++) {
        ctx.out.first_day = map.e[i].first;
        ctx.out.last_day = map.e[i].last;
        dedup_reset(&dd);
        rc = run->family->gen_set(run, map.e[i].key, range_emit, &ctx);
    }
    free(dd.arena);
    free(dd.slot);
    free(map.e);
    free(map.slot);
    return rc;
}

int domains_generate(const char *family, const char *seed, const char *variant, int32_t from_day,
                     int32_t to_day, domains_name_cb cb, void *arg, char *err, size_t errlen)
{
    const struct domains_family *f = domains_family_find(family);
    if (f == NULL) {
        char names[1024];
        domains_family_names(names, sizeof(names));
        snprintf(err, errlen, "unknown family '%s'; valid families: %s", family ? family : "",
                 names);
        return SK_ENOTFOUND;
    }
    struct domains_run run;
    int rc = domains_run_init(&run, f, seed, variant, 0, err, errlen);
    if (rc)
        return rc;
    if (from_day > to_day || from_day < DOMAINS_DAY_MIN || to_day > DOMAINS_DAY_MAX) {
        snprintf(err, errlen, "bad day range %d..%d", (int)from_day, (int)to_day);
        return SK_EINVAL;
    }
    rc = domains_run_range(&run, from_day, to_day, DOMAINS_DEDUP, cb, arg);
    if (rc < 0 && rc != SK_EINVAL)
        snprintf(err, errlen, "%s", sk_strerror(rc));
    return rc;
}

/* ---- static list files ---- */

static void set_field(char *dst, size_t cap, const char *v)
{
    snprintf(dst, cap, "%s", v);
}

static int static_add(struct domains_static *s, const char *name, size_t len, int32_t first,
                      int32_t last)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        struct static_name *nn = realloc(s->names, cap * sizeof(*nn));
        if (nn == NULL)
            return SK_ERR(ENOMEM);
        s->names = nn;
        s->cap = cap;
    }
    size_t off;
    int rc = strpool_put(&s->text, name, len, &off);
    if (rc)
        return rc;
    s->names[s->n] = (struct static_name){ (uint32_t)off, (uint16_t)len, first, last };
    s->n++;
    return 0;
}

/* A "# key: value" header line: copies the value if key matches. */
static int header_value(const char *line, const char *key, char *dst, size_t cap)
{
    const char *p = line;
    while (*p == '#' || *p == ' ' || *p == '\t')
        p++;
    size_t kl = strlen(key);
    if (strncasecmp(p, key, kl) != 0 || p[kl] != ':')
        return 0;
    p += kl + 1;
    while (*p == ' ' || *p == '\t')
        p++;
    size_t vl = strlen(p);
    while (vl && (p[vl - 1] == ' ' || p[vl - 1] == '\t' || p[vl - 1] == '\r' || p[vl - 1] == '\n'))
        vl--;
    if (vl >= cap)
        vl = cap - 1;
    memcpy(dst, p, vl);
    dst[vl] = '\0';
    return 1;
}

static int static_parse_line(struct domains_static *s, char *line, const char *path,
                             unsigned lineno, char *err, size_t errlen)
{
    char *hash = strchr(line, '#');
    if (hash != NULL) {
        if (!header_value(hash, "family", s->fname, sizeof(s->fname)) &&
            !header_value(hash, "aliases", s->aliases, sizeof(s->aliases)) &&
            !header_value(hash, "description", s->description, sizeof(s->description)) &&
            !header_value(hash, "source", s->source, sizeof(s->source)))
            header_value(hash, "active", s->active, sizeof(s->active));
        *hash = '\0';
    }
    char *tok[4];
    int nt = 0;
    for (char *p = strtok(line, " \t\r\n"); p != NULL; p = strtok(NULL, " \t\r\n")) {
        if (nt == 3) {
            snprintf(err, errlen, "%s:%u: expected NAME [FIRST-DAY [LAST-DAY]]", path, lineno);
            return SK_EINVAL;
        }
        tok[nt++] = p;
    }
    if (nt == 0)
        return 0;
    size_t len = strlen(tok[0]);
    if (len && tok[0][len - 1] == '.')
        tok[0][--len] = '\0';
    for (size_t i = 0; i < len; i++)
        tok[0][i] = (char)tolower((unsigned char)tok[0][i]);
    if (domains_name_check(tok[0], len) != 0) {
        snprintf(err, errlen, "%s:%u: bad domain name '%s'", path, lineno, tok[0]);
        return SK_EINVAL;
    }
    int32_t first = DOMAINS_DAY_MIN, last = DOMAINS_DAY_MAX;
    if (nt >= 2 && domains_parse_date(tok[1], 0, &first) != 0) {
        snprintf(err, errlen, "%s:%u: bad first day '%s' (expected YYYY-MM-DD)", path, lineno,
                 tok[1]);
        return SK_EINVAL;
    }
    if (nt >= 3 && domains_parse_date(tok[2], 0, &last) != 0) {
        snprintf(err, errlen, "%s:%u: bad last day '%s' (expected YYYY-MM-DD)", path, lineno,
                 tok[2]);
        return SK_EINVAL;
    }
    if (first > last) {
        snprintf(err, errlen, "%s:%u: last day before first day", path, lineno);
        return SK_EINVAL;
    }
    int rc = static_add(s, tok[0], len, first, last);
    if (rc)
        snprintf(err, errlen, "%s:%u: %s", path, lineno, sk_strerror(rc));
    return rc;
}

int domains_static_load(const char *path, struct domains_static **out, char *err, size_t errlen)
{
    *out = NULL;
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        int rc = SK_ERR(errno);
        snprintf(err, errlen, "%s: %s", path, sk_strerror(rc));
        return rc;
    }
    struct domains_static *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        fclose(f);
        return SK_ERR(ENOMEM);
    }
    char line[4096];
    unsigned lineno = 0;
    int rc = 0;
    while (rc == 0 && fgets(line, sizeof(line), f) != NULL) {
        lineno++;
        size_t ll = strlen(line);
        if (ll == sizeof(line) - 1 && line[ll - 1] != '\n') {
            snprintf(err, errlen, "%s:%u: line too long", path, lineno);
            rc = SK_EINVAL;
            break;
        }
        rc = static_parse_line(s, line, path, lineno, err, errlen);
    }
    if (rc == 0 && ferror(f)) {
        rc = SK_ERR(EIO);
        snprintf(err, errlen, "%s: read error", path);
    }
    fclose(f);
    if (rc == 0 && s->fname[0] == '\0') {
        snprintf(err, errlen, "%s: missing '# family: NAME' header", path);
        rc = SK_EINVAL;
    }
    if (rc == 0) {
        for (const char *p = s->fname; *p; p++)
            if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_' && *p != '.') {
                snprintf(err, errlen, "%s: bad family name '%s'", path, s->fname);
                rc = SK_EINVAL;
                break;
            }
    }
    if (rc != 0) {
        domains_static_free(s);
        return rc;
    }
    if (s->description[0] == '\0')
        set_field(s->description, sizeof(s->description), "fallback domains from a list file");
    if (s->source[0] == '\0')
        set_field(s->source, sizeof(s->source), path);
    s->fam.name = s->fname;
    s->fam.aliases = s->aliases;
    s->fam.description = s->description;
    s->fam.source = s->source;
    s->fam.kind = DOMAINS_STATIC;
    s->fam.seed_help = "no seed";
    s->fam.active = s->active[0] ? s->active : "unknown";
    *out = s;
    return 0;
}

void domains_static_free(struct domains_static *s)
{
    if (s == NULL)
        return;
    strpool_free(&s->text);
    free(s->names);
    free(s);
}

const struct domains_family *domains_static_family(const struct domains_static *s)
{
    return &s->fam;
}

size_t domains_static_size(const struct domains_static *s)
{
    return s->n;
}

void domains_run_init_static(struct domains_run *run, const struct domains_static *s)
{
    memset(run, 0, sizeof(*run));
    run->family = &s->fam;
    run->list = s;
    run->count = (uint32_t)s->n;
}
