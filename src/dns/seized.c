/* dns/seized.c -- the seized-name matcher: a hash set of lower-cased wire
 * names, probed once per suffix of the query name.
 *
 * Storage is two blocks. The arena holds every name once, back to back,
 * as [u16 list id][u8 length][lower-case wire name]; offset 0 is never an
 * entry, so a slot whose offset is 0 is empty. The table is an
 * open-addressing array of {u32 hash tag, u32 arena offset} slots, a power
 * of two long, kept at most 3/4 full with Robin Hood linear probing. A
 * slot's home is the top bits of its tag, so growing the table never needs
 * the names again: each tag already says where it goes.
 *
 * The hash of a name is built from the root up: each label is hashed on
 * its own (ASCII case folded eight bytes at a time) and mixed into the hash
 * of its parent. Hashing a query name that way yields the hash of every one
 * of its suffixes in a single pass, so a lookup is one probe per label,
 * from the longest suffix to the shortest; the first hit is the longest
 * covering name. Bytes are compared only when a tag matches.
 *
 * At one million names like "bad-domain-123.example.net" this is about 31
 * arena bytes plus 8-17 table bytes per name. */
#include "dns/seized.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "dns/name.h"
#include "dns/seized_internal.h"

#define ENTRY_HDR     3u  /* u16 list id + u8 length */
#define TABLE_MIN     16u /* slots in a new table */
#define TABLE_MAX     (UINT32_C(1) << 31)
#define ARENA_MIN     4096u
#define ARENA_MAX     UINT32_MAX
#define ERR_SHOW_MAX  80 /* bytes of a bad line quoted in an error message */
#define READ_BUF_SIZE (256u * 1024u)

struct seized_slot {
    uint32_t tag; /* top 32 bits of the name's hash */
    uint32_t off; /* entry offset in the arena; 0 = empty slot */
};

struct seized {
    struct seized_slot *slots;
    uint32_t mask;  /* slots - 1 */
    unsigned shift; /* 32 - log2(slots): tag >> shift is the home slot */
    size_t count;
    uint8_t *arena;
    size_t arena_len; /* bytes used, including the unused byte at 0 */
    size_t arena_cap;
    size_t *list_counts; /* names per list id, list_cap entries */
    size_t list_cap;
};

/* ---- allocation ---------------------------------------------------- */

/* The matcher is built at start-up and on reload; without memory neither
 * can go on, so allocation failures abort with a message. */
static void *seized_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (q == NULL) {
        fprintf(stderr, "sinkhole: seized: out of memory allocating %zu bytes\n", n);
        abort();
    }
    return q;
}

static void *seized_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (p == NULL) {
        fprintf(stderr, "sinkhole: seized: out of memory allocating %zu x %zu bytes\n", n, size);
        abort();
    }
    return p;
}

/* ---- hashing --------------------------------------------------------- */

#define K_LABEL  UINT64_C(0x9e3779b97f4a7c15)
#define K_SUFFIX UINT64_C(0xc2b2ae3d27d4eb4f)
#define H_ROOT   UINT64_C(0x27bb2ee687b0b0fd)

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 32;
    x *= UINT64_C(0xd6e8feb86659fd93);
    x ^= x >> 32;
    x *= UINT64_C(0xd6e8feb86659fd93);
    x ^= x >> 32;
    return x;
}

/* ASCII lower-case eight bytes at once; bytes >= 0x80 are left alone. */
static uint64_t fold8(uint64_t w)
{
    const uint64_t low7 = UINT64_C(0x7f7f7f7f7f7f7f7f);
    const uint64_t high = UINT64_C(0x8080808080808080);
    uint64_t h7 = w & low7;
    uint64_t ge_a = h7 + UINT64_C(0x3f3f3f3f3f3f3f3f); /* bit 7 set where byte >= 'A' */
    uint64_t gt_z = h7 + UINT64_C(0x2525252525252525); /* bit 7 set where byte > 'Z' */
    uint64_t upper = ge_a & ~gt_z & ~w & high;
    return w | (upper >> 2);
}

static uint8_t fold1(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + ('a' - 'A')) : c;
}

/* Hash of one label p[0..n), case folded. */
static uint64_t label_hash(const uint8_t *p, size_t n)
{
    uint64_t h = (uint64_t)n * K_LABEL;
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = (h ^ fold8(w)) * K_LABEL;
        h ^= h >> 29;
        p += 8;
        n -= 8;
    }
    if (n > 0) {
        uint64_t w = 0;
        memcpy(&w, p, n);
        h = (h ^ fold8(w)) * K_LABEL;
    }
    return h;
}

static uint64_t suffix_hash(uint64_t parent, uint64_t label)
{
    return mix64(parent * K_SUFFIX + label);
}

/* Walk the wire name name[0..len): fill offs[] with label starts (the
 * root's offset in offs[n]) and tags[i] with the hash tag of the suffix
 * starting at label i. Returns n (labels without the root), or -1 if the
 * name is not a well-formed uncompressed wire name of exactly len bytes. */
static int name_tags(const uint8_t *name, size_t len, uint8_t offs[DNS_LABELS_MAX],
                     uint32_t tags[DNS_LABELS_MAX])
{
    if (len == 0 || len > DNS_NAME_MAX)
        return -1;
    int n = 0;
    size_t pos = 0;
    for (;;) {
        if (pos >= len)
            return -1;
        uint8_t l = name[pos];
        if (l == 0)
            break;
        if (l > DNS_LABEL_MAX || n >= DNS_LABELS_MAX - 1)
            return -1;
        offs[n++] = (uint8_t)pos;
        pos += 1u + l;
    }
    if (pos != len - 1)
        return -1;
    offs[n] = (uint8_t)pos;
    uint64_t h = H_ROOT;
    for (int i = n - 1; i >= 0; i--) {
        const uint8_t *lab = name + offs[i];
        h = suffix_hash(h, label_hash(lab + 1, lab[0]));
        tags[i] = (uint32_t)(h >> 32);
    }
    return n;
}

/* ---- arena entries --------------------------------------------------- */

static uint16_t entry_list(const struct seized *s, uint32_t off)
{
    uint16_t id;
    memcpy(&id, s->arena + off, sizeof(id));
    return id;
}

static uint8_t entry_len(const struct seized *s, uint32_t off)
{
    return s->arena[off + 2];
}

static const uint8_t *entry_name(const struct seized *s, uint32_t off)
{
    return s->arena + off + ENTRY_HDR;
}

/* Is the stored (lower-case) name at off equal to q[0..n) in any case? */
static bool entry_equal(const struct seized *s, uint32_t off, const uint8_t *q, size_t n)
{
    if (entry_len(s, off) != n)
        return false;
    const uint8_t *e = entry_name(s, off);
    for (size_t i = 0; i < n; i++)
        if (e[i] != fold1(q[i]))
            return false;
    return true;
}

static uint32_t arena_append(struct seized *s, const uint8_t *lname, size_t n, uint16_t list_id)
{
    size_t need = s->arena_len + ENTRY_HDR + n;
    if (need > s->arena_cap) {
        size_t cap = s->arena_cap + s->arena_cap / 2;
        if (cap < ARENA_MIN)
            cap = ARENA_MIN;
        if (cap < need)
            cap = need;
        if (cap > ARENA_MAX)
            cap = ARENA_MAX;
        s->arena = seized_xrealloc(s->arena, cap);
        s->arena_cap = cap;
    }
    uint32_t off = (uint32_t)s->arena_len;
    memcpy(s->arena + off, &list_id, sizeof(list_id));
    s->arena[off + 2] = (uint8_t)n;
    memcpy(s->arena + off + ENTRY_HDR, lname, n);
    s->arena_len = need;
    return off;
}

/* Give back the arena's spare capacity once a list is loaded, so a built
 * matcher holds what it needs and not up to half as much again. */
static void arena_fit(struct seized *s)
{
    if (s->arena == NULL || s->arena_cap - s->arena_len <= s->arena_cap / 16)
        return;
    s->arena = seized_xrealloc(s->arena, s->arena_len);
    s->arena_cap = s->arena_len;
}

/* ---- table ----------------------------------------------------------- */

/* Robin Hood placement of a slot known not to be in the table yet,
 * starting at slot i where it is d steps from its home. */
static void table_place(struct seized_slot *slots, uint32_t mask, unsigned shift,
                        struct seized_slot e, uint32_t i, uint32_t d)
{
    for (;;) {
        struct seized_slot *t = &slots[i];
        if (t->off == 0) {
            *t = e;
            return;
        }
        uint32_t td = (i - (t->tag >> shift)) & mask;
        if (td < d) {
            struct seized_slot tmp = *t;
            *t = e;
            e = tmp;
            d = td;
        }
        i = (i + 1) & mask;
        d++;
    }
}

static void table_init(struct seized *s, uint32_t nslots)
{
    s->slots = seized_xcalloc(nslots, sizeof(*s->slots));
    s->mask = nslots - 1;
    unsigned bits = 0;
    while ((UINT32_C(1) << bits) < nslots)
        bits++;
    s->shift = 32 - bits;
}

static void table_grow(struct seized *s)
{
    struct seized_slot *old = s->slots;
    uint32_t n_old = s->mask + 1;
    table_init(s, n_old * 2);
    for (uint32_t i = 0; i < n_old; i++)
        if (old[i].off != 0)
            table_place(s->slots, s->mask, s->shift, old[i], old[i].tag >> s->shift, 0);
    free(old);
}

/* ---- public API ------------------------------------------------------ */

struct seized *seized_new(void)
{
    struct seized *s = seized_xcalloc(1, sizeof(*s));
    table_init(s, TABLE_MIN);
    s->arena_len = 1; /* offset 0 marks an empty slot */
    return s;
}

void seized_free(struct seized *s)
{
    if (s == NULL)
        return;
    free(s->slots);
    free(s->arena);
    free(s->list_counts);
    free(s);
}

static void count_list(struct seized *s, uint16_t list_id)
{
    if (list_id >= s->list_cap) {
        size_t cap = s->list_cap ? s->list_cap : 8;
        while (cap <= list_id)
            cap *= 2;
        s->list_counts = seized_xrealloc(s->list_counts, cap * sizeof(*s->list_counts));
        memset(s->list_counts + s->list_cap, 0, (cap - s->list_cap) * sizeof(*s->list_counts));
        s->list_cap = cap;
    }
    s->list_counts[list_id]++;
}

int seized_add(struct seized *s, const uint8_t *name, size_t len, uint16_t list_id,
               uint16_t *other /* OUT */)
{
    uint8_t offs[DNS_LABELS_MAX];
    uint32_t tags[DNS_LABELS_MAX];
    int n = name_tags(name, len, offs, tags);
    /* The root would cover every name there is. */
    if (n <= 0)
        return SK_EINVAL;
    uint32_t tag = tags[0];
    uint32_t i = tag >> s->shift, d = 0;
    for (;;) {
        const struct seized_slot *t = &s->slots[i];
        if (t->off == 0 || ((i - (t->tag >> s->shift)) & s->mask) < d)
            break;
        if (t->tag == tag && entry_equal(s, t->off, name, len)) {
            uint16_t id = entry_list(s, t->off);
            if (id == list_id)
                return 0;
            if (other != NULL)
                *other = id;
            return SK_EEXIST;
        }
        i = (i + 1) & s->mask;
        d++;
    }
    if (s->arena_len + ENTRY_HDR + len > ARENA_MAX)
        return SK_ENOSPACE;
    if ((uint64_t)(s->count + 1) * 4 > (uint64_t)(s->mask + 1) * 3) {
        if (s->mask + 1 >= TABLE_MAX)
            return SK_ENOSPACE;
        table_grow(s);
        i = tag >> s->shift;
        d = 0;
    }
    uint8_t lname[DNS_NAME_MAX];
    for (size_t k = 0; k < len; k++)
        lname[k] = fold1(name[k]);
    struct seized_slot e = { .tag = tag, .off = arena_append(s, lname, len, list_id) };
    table_place(s->slots, s->mask, s->shift, e, i, d);
    s->count++;
    count_list(s, list_id);
    return 0;
}

int seized_lookup(const struct seized *s, const uint8_t *qname, size_t len,
                  struct seized_match *m /* OUT */)
{
    uint8_t offs[DNS_LABELS_MAX];
    uint32_t tags[DNS_LABELS_MAX];
    int n = name_tags(qname, len, offs, tags);
    if (n <= 0 || s->count == 0)
        return 0;
    /* Every probe is a likely cache miss in a big table: start them all
     * before walking any. */
    for (int k = 0; k < n; k++)
        __builtin_prefetch(&s->slots[tags[k] >> s->shift]);
    for (int k = 0; k < n; k++) {
        uint32_t tag = tags[k];
        uint32_t i = tag >> s->shift, d = 0;
        size_t sl = len - offs[k];
        for (;;) {
            const struct seized_slot *t = &s->slots[i];
            if (t->off == 0 || ((i - (t->tag >> s->shift)) & s->mask) < d)
                break;
            if (t->tag == tag && entry_equal(s, t->off, qname + offs[k], sl)) {
                m->list_id = entry_list(s, t->off);
                m->apex_off = offs[k];
                m->apex_len = (uint8_t)sl;
                return 1;
            }
            i = (i + 1) & s->mask;
            d++;
        }
    }
    return 0;
}

size_t seized_count(const struct seized *s)
{
    return s->count;
}

size_t seized_memory(const struct seized *s)
{
    return sizeof(*s) + ((size_t)s->mask + 1) * sizeof(*s->slots) + s->arena_cap +
           s->list_cap * sizeof(*s->list_counts);
}

void seized_list_counts(const struct seized *s, size_t *counts, size_t n)
{
    for (size_t i = 0; i < n; i++)
        counts[i] = i < s->list_cap ? s->list_counts[i] : 0;
}

/* ---- list files ------------------------------------------------------ */

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_name_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

const char *seized__parse_name(const char *text, size_t len, uint8_t out[256],
                               size_t *out_len /* OUT */)
{
    if (len == 1 && text[0] == '.')
        return "the root would seize every name";
    size_t lp = 0, w = 1, ll = 0; /* label length byte, write position, label length */
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c == '.') {
            if (ll == 0)
                return "empty label";
            out[lp] = (uint8_t)ll;
            lp = w++;
            ll = 0;
            continue;
        }
        if (c == '\\') {
            if (i + 1 >= len)
                return "bad escape";
            if (is_digit(text[i + 1])) {
                if (i + 3 >= len || !is_digit(text[i + 2]) || !is_digit(text[i + 3]))
                    return "bad escape";
                unsigned v = (unsigned)(text[i + 1] - '0') * 100 +
                             (unsigned)(text[i + 2] - '0') * 10 + (unsigned)(text[i + 3] - '0');
                if (v > 255)
                    return "bad escape";
                c = (unsigned char)v;
                i += 3;
            } else {
                c = (unsigned char)text[++i];
            }
        } else if (c == '*') {
            return "wildcards are not needed: a name covers every name below it";
        } else if (c >= 0x80) {
            return "non-ASCII byte (use the xn-- form of an internationalized name)";
        } else if (!is_name_char(c)) {
            return c < 0x20 || c == 0x7f ? "control character" : "character not allowed";
        }
        if (ll == DNS_LABEL_MAX)
            return "label longer than 63 bytes";
        if (w >= DNS_NAME_MAX)
            return "name longer than 255 bytes";
        out[w++] = fold1(c);
        ll++;
    }
    size_t n;
    if (ll == 0) {
        /* Ended with a dot: the byte kept for the next label's length is
         * the root label. */
        n = lp + 1;
    } else {
        out[lp] = (uint8_t)ll;
        n = w + 1;
        lp = w;
    }
    if (n > DNS_NAME_MAX)
        return "name longer than 255 bytes";
    out[lp] = 0;
    *out_len = n;
    return NULL;
}

struct list_ctx {
    struct seized *s;
    const char *path;
    uint16_t list_id;
    uint16_t *other;
    char *err;
    size_t errlen;
};

/* Copy at most ERR_SHOW_MAX bytes of t[0..n) for a message, with anything
 * unprintable shown as '?'. */
static void show_token(const char *t, size_t n, char out[ERR_SHOW_MAX + 4])
{
    size_t k = n > ERR_SHOW_MAX ? ERR_SHOW_MAX : n;
    for (size_t i = 0; i < k; i++) {
        unsigned char c = (unsigned char)t[i];
        out[i] = (c >= 0x20 && c < 0x7f && c != '\'') ? (char)c : '?';
    }
    if (k < n) {
        memcpy(out + k, "...", 3);
        k += 3;
    }
    out[k] = '\0';
}

/* __attribute__((format)) keeps -Wformat=2 checking the callers. */
static void list_error(const struct list_ctx *c, size_t line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void list_error(const struct list_ctx *c, size_t line, const char *fmt, ...)
{
    if (c->err == NULL || c->errlen == 0)
        return;
    int k = snprintf(c->err, c->errlen, "%s:%zu: ", c->path, line);
    if (k < 0 || (size_t)k >= c->errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err + k, c->errlen - (size_t)k, fmt, ap);
    va_end(ap);
}

/* One line without its newline. */
static int list_line(const struct list_ctx *c, size_t lineno, const char *p, size_t n)
{
    size_t i = 0;
    while (i < n && is_space(p[i]))
        i++;
    if (i == n || p[i] == '#')
        return 0;
    size_t start = i;
    while (i < n && !is_space(p[i]) && p[i] != '#') {
        /* An escaped byte never ends the name or starts a comment. */
        if (p[i] == '\\' && i + 1 < n)
            i++;
        i++;
    }
    size_t end = i;
    while (i < n && is_space(p[i]))
        i++;
    if (i < n && p[i] != '#') {
        list_error(c, lineno, "expected one domain name per line");
        return SK_EINVAL;
    }
    char shown[ERR_SHOW_MAX + 4];
    uint8_t wire[256];
    size_t wlen = 0;
    const char *why = seized__parse_name(p + start, end - start, wire, &wlen);
    if (why != NULL) {
        show_token(p + start, end - start, shown);
        list_error(c, lineno, "bad domain name '%s': %s", shown, why);
        return SK_EINVAL;
    }
    int rc = seized_add(c->s, wire, wlen, c->list_id, c->other);
    if (rc == SK_EEXIST) {
        show_token(p + start, end - start, shown);
        list_error(c, lineno, "'%s' is already in another list", shown);
    } else if (rc == SK_ENOSPACE) {
        list_error(c, lineno, "too many seized names");
    } else if (rc != 0) {
        show_token(p + start, end - start, shown);
        list_error(c, lineno, "bad domain name '%s': %s", shown, sk_strerror(rc));
    }
    return rc;
}

/* A UTF-8 byte order mark at the start of a file is an editor's, not part
 * of the first name. */
static size_t skip_bom(const char *p, size_t n)
{
    return n >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0 ? 3 : 0;
}

int seized__load_buf(struct seized *s, const char *buf, size_t len, const char *path,
                     uint16_t list_id, uint16_t *other, char *err, size_t errlen)
{
    struct list_ctx c = { s, path, list_id, other, err, errlen };
    size_t pos = skip_bom(buf, len), lineno = 0;
    int rc = 0;
    while (pos < len && rc == 0) {
        const char *nl = memchr(buf + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - buf) : len;
        rc = list_line(&c, ++lineno, buf + pos, end - pos);
        pos = end + 1;
    }
    arena_fit(s);
    return rc;
}

int seized_load_file(struct seized *s, const char *path, uint16_t list_id, uint16_t *other,
                     char *err, size_t errlen)
{
    struct list_ctx c = { s, path, list_id, other, err, errlen };
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        int e = errno;
        if (err != NULL && errlen > 0)
            snprintf(err, errlen, "%s: %s", path, strerror(e));
        return SK_ERR(e);
    }
    char *iobuf = malloc(READ_BUF_SIZE);
    if (iobuf != NULL)
        setvbuf(f, iobuf, _IOFBF, READ_BUF_SIZE);
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    ssize_t n;
    int rc = 0;
    errno = 0;
    while (rc == 0 && (n = getline(&line, &cap, f)) >= 0) {
        size_t len = (size_t)n;
        if (len > 0 && line[len - 1] == '\n')
            len--;
        size_t skip = lineno == 0 ? skip_bom(line, len) : 0;
        rc = list_line(&c, ++lineno, line + skip, len - skip);
    }
    /* getline() fails without setting the error flag when it runs out of
     * memory, so anything short of end of file is an error here. */
    if (rc == 0 && !feof(f)) {
        int e = errno ? errno : EIO;
        if (err != NULL && errlen > 0)
            snprintf(err, errlen, "%s: %s", path, strerror(e));
        rc = SK_ERR(e);
    }
    free(line);
    fclose(f);
    free(iobuf);
    arena_fit(s);
    return rc;
}
