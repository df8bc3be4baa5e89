/* domains/blocklist.c -- parse address lists; write CIDR, nftables, rpz-ip.
 *
 * The line parser is pure (it copies the one token into a bounded stack
 * buffer for core/addr's parser), so the fuzz target drives it directly.
 * Normalization matters for nftables: an interval set rejects overlapping
 * elements, so covered prefixes are removed before writing. */
#include "domains/blocklist.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/err.h"

int blocklist_parse_format(const char *s, enum blocklist_format *fmt)
{
    if (s == NULL)
        return SK_EINVAL;
    if (strcasecmp(s, "cidr") == 0)
        *fmt = BLOCKLIST_CIDR;
    else if (strcasecmp(s, "nftables") == 0 || strcasecmp(s, "nft") == 0)
        *fmt = BLOCKLIST_NFTABLES;
    else if (strcasecmp(s, "rpz-ip") == 0 || strcasecmp(s, "rpz") == 0)
        *fmt = BLOCKLIST_RPZ_IP;
    else
        return SK_EINVAL;
    return 0;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

int blocklist_parse_line(const char *line, size_t len, struct sk_prefix *p, char *err,
                         size_t errlen)
{
    size_t i = 0;
    while (i < len && is_space(line[i]))
        i++;
    if (i == len || line[i] == '#' || line[i] == ';')
        return 0;
    size_t start = i;
    while (i < len && !is_space(line[i]) && line[i] != '#' && line[i] != ';')
        i++;
    size_t tl = i - start;
    while (i < len && is_space(line[i]))
        i++;
    if (i < len && line[i] != '#' && line[i] != ';') {
        snprintf(err, errlen, "expected one address or prefix per line, found more text");
        return SK_EINVAL;
    }
    char tok[64];
    if (tl >= sizeof(tok)) {
        snprintf(err, errlen, "not an IPv4/IPv6 address or prefix (too long)");
        return SK_EINVAL;
    }
    memcpy(tok, line + start, tl);
    tok[tl] = '\0';
    for (size_t k = 0; k < tl; k++) {
        if ((unsigned char)tok[k] < 0x21 || (unsigned char)tok[k] > 0x7e) {
            snprintf(err, errlen, "not an IPv4/IPv6 address or prefix");
            return SK_EINVAL;
        }
    }
    if (sk_prefix_parse(tok, p) != 0) {
        /* Tell a misplaced host bit from a malformed token: operators
         * paste "192.0.2.1/24" meaning the /24. */
        char *slash = strchr(tok, '/');
        struct sk_ip ip;
        if (slash != NULL) {
            *slash = '\0';
            char *end = NULL;
            long plen = strtol(slash + 1, &end, 10);
            if (sk_ip_parse(tok, &ip) == 0 && end != slash + 1 && *end == '\0' && plen >= 0 &&
                plen <= (ip.af == 4 ? 32 : 128)) {
                snprintf(err, errlen, "host bits set in '%s/%ld' (the prefix is shorter)", tok,
                         plen);
                return SK_EINVAL;
            }
            *slash = '/';
        }
        snprintf(err, errlen, "not an IPv4/IPv6 address or prefix: '%s'", tok);
        return SK_EINVAL;
    }
    return 1;
}

int blocklist_load(const char *path, struct blocklist *bl, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        int rc = SK_ERR(errno);
        snprintf(err, errlen, "%s: %s", path, sk_strerror(rc));
        return rc;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t got;
    unsigned lineno = 0;
    int rc = 0;
    while ((got = getline(&line, &cap, f)) >= 0) {
        lineno++;
        struct sk_prefix p;
        char why[160];
        int r = blocklist_parse_line(line, (size_t)got, &p, why, sizeof(why));
        if (r < 0) {
            snprintf(err, errlen, "%s:%u: %s", path, lineno, why);
            rc = r;
            break;
        }
        if (r == 0)
            continue;
        if (bl->n == bl->cap) {
            size_t ncap = bl->cap ? bl->cap * 2 : 256;
            struct blocklist_entry *ne = realloc(bl->e, ncap * sizeof(*ne));
            if (ne == NULL) {
                rc = SK_ERR(ENOMEM);
                snprintf(err, errlen, "%s: out of memory", path);
                break;
            }
            bl->e = ne;
            bl->cap = ncap;
        }
        bl->e[bl->n].p = p;
        bl->e[bl->n].line = lineno;
        bl->n++;
    }
    if (rc == 0 && ferror(f)) {
        rc = SK_ERR(EIO);
        snprintf(err, errlen, "%s: read error", path);
    }
    free(line);
    fclose(f);
    return rc;
}

void blocklist_free(struct blocklist *bl)
{
    free(bl->e);
    bl->e = NULL;
    bl->n = bl->cap = 0;
}

static int entry_cmp(const void *a, const void *b)
{
    const struct sk_prefix *x = &((const struct blocklist_entry *)a)->p;
    const struct sk_prefix *y = &((const struct blocklist_entry *)b)->p;
    if (x->ip.af != y->ip.af)
        return x->ip.af < y->ip.af ? -1 : 1;
    int c = memcmp(x->ip.a, y->ip.a, x->ip.af == 4 ? 4 : 16);
    if (c)
        return c;
    return (int)x->len - (int)y->len;
}

size_t blocklist_normalize(struct blocklist *bl)
{
    if (bl->n == 0)
        return 0;
    qsort(bl->e, bl->n, sizeof(bl->e[0]), entry_cmp);
    /* After sorting, a prefix that covers later ones comes first; keep a
     * running "current cover" and drop whatever lies inside it. */
    size_t out = 0;
    for (size_t i = 0; i < bl->n; i++) {
        if (out > 0) {
            const struct sk_prefix *cover = &bl->e[out - 1].p;
            if (cover->ip.af == bl->e[i].p.ip.af && cover->len <= bl->e[i].p.len &&
                sk_prefix_contains(cover, &bl->e[i].p.ip))
                continue;
        }
        bl->e[out++] = bl->e[i];
    }
    size_t dropped = bl->n - out;
    bl->n = out;
    return dropped;
}

char *blocklist_rpz_owner(const struct sk_prefix *p, char *buf, size_t len)
{
    size_t pos = 0;
    int n = snprintf(buf, len, "%u", (unsigned)p->len);
    pos = n > 0 ? (size_t)n : 0;
    if (p->ip.af == 4) {
        for (int i = 3; i >= 0 && pos < len; i--) {
            n = snprintf(buf + pos, len - pos, ".%u", (unsigned)p->ip.a[i]);
            pos += n > 0 ? (size_t)n : 0;
        }
    } else {
        uint16_t w[8];
        for (int i = 0; i < 8; i++)
            w[i] = (uint16_t)(p->ip.a[2 * i] << 8 | p->ip.a[2 * i + 1]);
        /* The longest run of zero words (first one on ties, at least
         * two words long) becomes "zz", as "::" would in the address. */
        int best = -1, bestlen = 0;
        for (int i = 0; i < 8;) {
            if (w[i] != 0) {
                i++;
                continue;
            }
            int j = i;
            while (j < 8 && w[j] == 0)
                j++;
            if (j - i > bestlen) {
                best = i;
                bestlen = j - i;
            }
            i = j;
        }
        if (bestlen < 2)
            best = -1;
        for (int i = 7; i >= 0 && pos < len; i--) {
            if (best >= 0 && i >= best && i < best + bestlen) {
                if (i == best + bestlen - 1) {
                    n = snprintf(buf + pos, len - pos, ".zz");
                    pos += n > 0 ? (size_t)n : 0;
                }
                continue;
            }
            n = snprintf(buf + pos, len - pos, ".%x", (unsigned)w[i]);
            pos += n > 0 ? (size_t)n : 0;
        }
    }
    if (pos < len)
        snprintf(buf + pos, len - pos, ".rpz-ip");
    return buf;
}

static void put_prefix(FILE *f, const struct sk_prefix *p, int always_len)
{
    char ip[SK_IP_TEXT_MAX];
    sk_ip_ntop(&p->ip, ip);
    if (always_len || p->len != (p->ip.af == 4 ? 32 : 128))
        fprintf(f, "%s/%u", ip, (unsigned)p->len);
    else
        fprintf(f, "%s", ip);
}

static size_t count_af(const struct blocklist *bl, int af)
{
    size_t n = 0;
    for (size_t i = 0; i < bl->n; i++)
        n += bl->e[i].p.ip.af == af;
    return n;
}

static void nft_set(FILE *f, const struct blocklist *bl, int af)
{
    fprintf(f, "\tset c2_v%d {\n\t\ttype ipv%d_addr\n\t\tflags interval\n", af, af);
    if (count_af(bl, af) > 0) {
        fprintf(f, "\t\telements = {");
        size_t k = 0;
        for (size_t i = 0; i < bl->n; i++) {
            if (bl->e[i].p.ip.af != af)
                continue;
            fprintf(f, "%s", k == 0 ? "\n\t\t\t" : k % 4 == 0 ? ",\n\t\t\t" : ", ");
            put_prefix(f, &bl->e[i].p, 0);
            k++;
        }
        fprintf(f, "\n\t\t}\n");
    }
    fprintf(f, "\t}\n");
}

int blocklist_write(FILE *f, const struct blocklist *bl, enum blocklist_format fmt,
                    const struct blocklist_opts *o)
{
    switch (fmt) {
    case BLOCKLIST_CIDR:
        if (o->comment)
            fprintf(f, "# %s\n", o->comment);
        for (size_t i = 0; i < bl->n; i++) {
            put_prefix(f, &bl->e[i].p, 1);
            fputc('\n', f);
        }
        break;
    case BLOCKLIST_NFTABLES: {
        const char *t = o->table ? o->table : "sinkhole_blocklist";
        fprintf(f, "#!/usr/sbin/nft -f\n");
        if (o->comment)
            fprintf(f, "# %s\n", o->comment);
        fprintf(f, "# Drops traffic to and from the listed C&C addresses. Load with nft -f;\n"
                   "# loading again replaces the table.\n");
        fprintf(f, "table inet %s\ndelete table inet %s\n", t, t);
        fprintf(f, "table inet %s {\n", t);
        nft_set(f, bl, 4);
        nft_set(f, bl, 6);
        static const char *const hooks[] = { "input", "forward", "output" };
        for (int h = 0; h < 3; h++) {
            fprintf(f, "\tchain %s {\n\t\ttype filter hook %s priority filter; policy accept;\n",
                    hooks[h], hooks[h]);
            fprintf(f, "\t\tip saddr @c2_v4 counter drop\n\t\tip daddr @c2_v4 counter drop\n");
            fprintf(f, "\t\tip6 saddr @c2_v6 counter drop\n\t\tip6 daddr @c2_v6 counter drop\n");
            fprintf(f, "\t}\n");
        }
        fprintf(f, "}\n");
        break;
    }
    case BLOCKLIST_RPZ_IP: {
        const char *origin = o->origin ? o->origin : "rpz.sinkhole.invalid";
        size_t ol = strlen(origin);
        while (ol && origin[ol - 1] == '.')
            ol--;
        fprintf(f, "; sinkhole response policy zone (rpz-ip triggers): answers that contain a "
                   "listed address become NXDOMAIN\n");
        if (o->comment)
            fprintf(f, "; %s\n", o->comment);
        fprintf(f, "$ORIGIN %.*s.\n$TTL %u\n", (int)ol, origin, o->ttl ? o->ttl : 300);
        fprintf(f, "@\tIN\tSOA\t%s. %s. %u 3600 900 604800 %u\n",
                o->soa_mname ? o->soa_mname : "ns1.sinkhole.invalid",
                o->soa_rname ? o->soa_rname : "hostmaster.sinkhole.invalid",
                o->serial ? o->serial : 1, o->ttl ? o->ttl : 300);
        fprintf(f, "@\tIN\tNS\tlocalhost.\n");
        for (size_t i = 0; i < bl->n; i++) {
            char owner[128];
            fprintf(f, "%s\tCNAME\t.\n", blocklist_rpz_owner(&bl->e[i].p, owner, sizeof(owner)));
        }
        break;
    }
    }
    if (fflush(f) != 0 || ferror(f))
        return SK_ERR(EIO);
    return 0;
}
