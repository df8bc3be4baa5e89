/* domains/match.c -- attribute names from a list or a log to families.
 *
 * Names live in one arena (NUL-terminated, lower-cased) indexed by an
 * open-addressing table. Family and variant strings of hits point into
 * the static registry or a loaded list, which outlive the matcher as
 * long as the caller keeps those lists loaded. */
#include "domains/match.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/strpool.h"

struct mentry {
    size_t name; /* arena offset of the name */
    size_t seen; /* arena offset of the first token it came from */
    unsigned long line;
};

struct domains_match {
    struct strpool arena;
    struct mentry *e;
    size_t n, ecap;
    uint32_t *slot; /* entry index + 1 */
    size_t nslot;
    struct domains_hit *hits;
    size_t nhits, hcap;
};

struct domains_match *domains_match_new(void)
{
    return calloc(1, sizeof(struct domains_match));
}

void domains_match_free(struct domains_match *m)
{
    if (m == NULL)
        return;
    strpool_free(&m->arena);
    free(m->e);
    free(m->slot);
    free(m->hits);
    free(m);
}

size_t domains_match_size(const struct domains_match *m)
{
    return m->n;
}

static uint64_t hash_name(const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= (uint8_t)s[i];
        h *= 1099511628211ULL;
    }
    return h ^ (h >> 29);
}

static int grow_slots(struct domains_match *m)
{
    size_t nslot = m->nslot ? m->nslot * 2 : 1024;
    uint32_t *slot = calloc(nslot, sizeof(*slot));
    if (slot == NULL)
        return SK_ERR(ENOMEM);
    for (size_t i = 0; i < m->n; i++) {
        const char *s = strpool_str(&m->arena, m->e[i].name);
        size_t h = hash_name(s, strlen(s)) & (nslot - 1);
        while (slot[h])
            h = (h + 1) & (nslot - 1);
        slot[h] = (uint32_t)(i + 1);
    }
    free(m->slot);
    m->slot = slot;
    m->nslot = nslot;
    return 0;
}

/* Find name; returns its entry or NULL, and the empty slot it would use. */
static struct mentry *lookup(const struct domains_match *m, const char *name, size_t len,
                             size_t *slot_out)
{
    if (m->nslot == 0)
        return NULL;
    size_t h = hash_name(name, len) & (m->nslot - 1);
    while (m->slot[h]) {
        struct mentry *e = &m->e[m->slot[h] - 1];
        const char *s = strpool_str(&m->arena, e->name);
        if (strncmp(s, name, len) == 0 && s[len] == '\0')
            return e;
        h = (h + 1) & (m->nslot - 1);
    }
    if (slot_out)
        *slot_out = h;
    return NULL;
}

static int add_name(struct domains_match *m, const char *name, size_t len, size_t seen_off,
                    unsigned long line, size_t *off_out)
{
    if ((m->n + 1) * 2 > m->nslot || m->nslot == 0) {
        int rc = grow_slots(m);
        if (rc)
            return rc;
    }
    size_t slot = 0;
    struct mentry *e = lookup(m, name, len, &slot);
    if (e != NULL) {
        if (off_out)
            *off_out = e->name;
        return 0;
    }
    if (m->n == m->ecap) {
        size_t cap = m->ecap ? m->ecap * 2 : 1024;
        if (cap > UINT32_MAX - 1)
            return SK_ERR(ENOMEM);
        struct mentry *ne = realloc(m->e, cap * sizeof(*ne));
        if (ne == NULL)
            return SK_ERR(ENOMEM);
        m->e = ne;
        m->ecap = cap;
    }
    size_t off;
    int rc = strpool_put(&m->arena, name, len, &off);
    if (rc)
        return rc;
    m->e[m->n] = (struct mentry){ off, seen_off == SIZE_MAX ? off : seen_off, line };
    m->n++;
    m->slot[slot] = (uint32_t)m->n;
    if (off_out)
        *off_out = off;
    return 1;
}

static int name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.';
}

int domains_match_scan_line(struct domains_match *m, const char *text, size_t len,
                            unsigned long lineno)
{
    int added = 0;
    size_t i = 0;
    while (i < len) {
        while (i < len && !name_char(text[i]))
            i++;
        size_t start = i;
        while (i < len && name_char(text[i]))
            i++;
        size_t tl = i - start;
        char tok[DOMAINS_NAME_MAX];
        /* Strip dots at either end ("foo.com." in logs, "...") */
        while (tl && text[start] == '.') {
            start++;
            tl--;
        }
        while (tl && text[start + tl - 1] == '.')
            tl--;
        if (tl == 0 || tl >= sizeof(tok) || memchr(text + start, '.', tl) == NULL)
            continue;
        for (size_t k = 0; k < tl; k++) {
            char c = text[start + k];
            tok[k] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
        }
        tok[tl] = '\0';
        if (domains_name_check(tok, tl) != 0)
            continue;
        /* A numeric last label is an IPv4 address or a number, not a
         * name: top-level domains are alphabetic. */
        const char *last = strrchr(tok, '.') + 1;
        size_t digits = strspn(last, "0123456789");
        if (last[digits] == '\0')
            continue;
        size_t seen_off;
        int rc = add_name(m, tok, tl, SIZE_MAX, lineno, &seen_off);
        if (rc < 0)
            return rc;
        added += rc;
        /* Parents down to two labels: a bot's name may be asked with a
         * prefix (www., a random label) in a resolver log. */
        const char *p = tok;
        for (;;) {
            const char *dot = strchr(p, '.');
            if (dot == NULL || strchr(dot + 1, '.') == NULL)
                break;
            p = dot + 1;
            rc = add_name(m, p, strlen(p), seen_off, lineno, NULL);
            if (rc < 0)
                return rc;
            added += rc;
        }
    }
    return added;
}

int domains_match_load(struct domains_match *m, const char *path, char *err, size_t errlen)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    if (f == NULL) {
        int rc = SK_ERR(errno);
        snprintf(err, errlen, "%s: %s", path, sk_strerror(rc));
        return rc;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t got;
    unsigned long lineno = 0;
    int rc = 0;
    while ((got = getline(&line, &cap, f)) >= 0) {
        lineno++;
        int r = domains_match_scan_line(m, line, (size_t)got, lineno);
        if (r < 0) {
            rc = r;
            snprintf(err, errlen, "%s:%lu: %s", path, lineno, sk_strerror(r));
            break;
        }
    }
    if (rc == 0 && ferror(f)) {
        rc = SK_ERR(EIO);
        snprintf(err, errlen, "%s: read error", path);
    }
    free(line);
    if (f != stdin)
        fclose(f);
    return rc;
}

int domains_match_cb(const struct domains_name *n, void *arg)
{
    struct domains_match *m = arg;
    struct mentry *e = lookup(m, n->name, n->len, NULL);
    if (e == NULL)
        return 0;
    if (m->nhits == m->hcap) {
        size_t cap = m->hcap ? m->hcap * 2 : 64;
        struct domains_hit *nh = realloc(m->hits, cap * sizeof(*nh));
        if (nh == NULL)
            return SK_ERR(ENOMEM);
        m->hits = nh;
        m->hcap = cap;
    }
    /* No names are added while generating, so the arena does not move
     * and these pointers stay valid until the matcher is freed. */
    m->hits[m->nhits++] = (struct domains_hit){
        strpool_str(&m->arena, e->name),
        strpool_str(&m->arena, e->seen),
        e->line,
        n->family,
        n->variant,
        n->first_day,
        n->last_day,
    };
    return 0;
}

size_t domains_match_hits(const struct domains_match *m)
{
    return m->nhits;
}

const struct domains_hit *domains_match_hit(const struct domains_match *m, size_t i)
{
    return i < m->nhits ? &m->hits[i] : NULL;
}

static int hit_cmp(const void *a, const void *b)
{
    const struct domains_hit *x = a, *y = b;
    if (x->line != y->line)
        return x->line < y->line ? -1 : 1;
    int c = strcmp(x->name, y->name);
    if (c)
        return c;
    c = strcmp(x->family, y->family);
    if (c)
        return c;
    c = strcmp(x->variant, y->variant);
    if (c)
        return c;
    return x->first_day < y->first_day ? -1 : x->first_day > y->first_day;
}

void domains_match_sort(struct domains_match *m)
{
    if (m->nhits > 1)
        qsort(m->hits, m->nhits, sizeof(m->hits[0]), hit_cmp);
}
