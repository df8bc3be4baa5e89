/* domains/export.c -- the plain, seized, zone, RPZ, hosts and CSV writers.
 *
 * Names reaching here are already checked (letters, digits, '-', '_'),
 * so they are written without escaping. Every owner name in a zone is
 * written absolute (with a trailing dot) so the file does not depend on
 * $ORIGIN handling; RPZ owners are written relative to the policy zone,
 * which is what makes them triggers. */
#include "domains/export.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/err.h"
#include "domains/date.h"

static const char *const format_names[] = { "plain", "seized", "zone", "rpz", "hosts", "csv" };

const char *domains_export_format_names(void)
{
    return "plain, seized, zone, rpz, hosts, csv";
}

int domains_export_parse_format(const char *s, enum domains_format *f)
{
    for (size_t i = 0; i < sizeof(format_names) / sizeof(format_names[0]); i++)
        if (s != NULL && strcasecmp(s, format_names[i]) == 0) {
            *f = (enum domains_format)i;
            return 0;
        }
    return SK_EINVAL;
}

void domains_export_defaults(struct domains_export_opts *o, enum domains_format format)
{
    memset(o, 0, sizeof(*o));
    o->format = format;
    o->origin = format == DOMAINS_FMT_RPZ ? "rpz.sinkhole.invalid" : ".";
    o->soa_mname = "ns1.sinkhole.invalid";
    o->soa_rname = "hostmaster.sinkhole.invalid";
    o->serial = 1;
    o->ttl = 300;
    o->subtree = 1;
}

/* Is name[0..len) equal to origin or below it? Origin "." covers all. */
static int under_origin(const char *name, size_t len, const char *origin)
{
    size_t ol = strlen(origin);
    while (ol && origin[ol - 1] == '.')
        ol--;
    if (ol == 0)
        return 1;
    if (len == ol)
        return strncasecmp(name, origin, ol) == 0;
    return len > ol && name[len - ol - 1] == '.' && strncasecmp(name + len - ol, origin, ol) == 0;
}

static int check_name(const char *what, const char *v, char *err, size_t errlen)
{
    size_t l = v ? strlen(v) : 0;
    while (l && v[l - 1] == '.')
        l--;
    if (l == 0 || domains_name_check(v, l) != 0) {
        snprintf(err, errlen, "bad %s '%s': expected a domain name", what, v ? v : "");
        return SK_EINVAL;
    }
    return 0;
}

int domains_export_check(const struct domains_export_opts *o, char *err, size_t errlen)
{
    if (check_name("SOA mname", o->soa_mname, err, errlen) ||
        check_name("SOA rname", o->soa_rname, err, errlen))
        return SK_EINVAL;
    for (int i = 0; i < o->n_ns; i++)
        if (check_name("NS name", o->ns[i], err, errlen))
            return SK_EINVAL;
    if (o->format == DOMAINS_FMT_RPZ && check_name("RPZ origin", o->origin, err, errlen))
        return SK_EINVAL;
    if (o->format == DOMAINS_FMT_ZONE && strcmp(o->origin, ".") != 0 &&
        check_name("zone origin", o->origin, err, errlen))
        return SK_EINVAL;
    if (o->cname != NULL && strcmp(o->cname, ".") != 0 &&
        check_name("CNAME target", o->cname, err, errlen))
        return SK_EINVAL;
    if (o->format == DOMAINS_FMT_ZONE && o->n_a == 0 && o->n_aaaa == 0) {
        snprintf(err, errlen,
                 "the zone format needs the sinkhole's address: --a ADDR and/or "
                 "--aaaa ADDR");
        return SK_EINVAL;
    }
    if (o->format == DOMAINS_FMT_RPZ && o->cname != NULL && (o->n_a || o->n_aaaa)) {
        snprintf(err, errlen, "an RPZ action is either --cname or --a/--aaaa, not both");
        return SK_EINVAL;
    }
    if (o->ttl > 0x7FFFFFFF) {
        snprintf(err, errlen, "bad TTL %u", (unsigned)o->ttl);
        return SK_EINVAL;
    }
    return 0;
}

/* Write v with exactly one trailing dot. */
static void put_abs(FILE *f, const char *v)
{
    size_t l = strlen(v);
    while (l && v[l - 1] == '.')
        l--;
    fprintf(f, "%.*s.", (int)l, v);
}

static void soa_ns(FILE *f, const struct domains_export_opts *o, const char *owner)
{
    uint32_t refresh = o->refresh ? o->refresh : 3600, retry = o->retry ? o->retry : 900;
    uint32_t expire = o->expire ? o->expire : 604800, minimum = o->minimum ? o->minimum : o->ttl;
    fprintf(f, "$TTL %u\n%s\tIN\tSOA\t", (unsigned)o->ttl, owner);
    put_abs(f, o->soa_mname);
    fputc(' ', f);
    put_abs(f, o->soa_rname);
    fprintf(f, " %u %u %u %u %u\n", (unsigned)o->serial, (unsigned)refresh, (unsigned)retry,
            (unsigned)expire, (unsigned)minimum);
    if (o->n_ns == 0) {
        /* RPZ zones conventionally name localhost: they are not delegated. */
        if (o->format == DOMAINS_FMT_RPZ) {
            fprintf(f, "%s\tIN\tNS\tlocalhost.\n", owner);
        } else {
            fprintf(f, "%s\tIN\tNS\t", owner);
            put_abs(f, o->soa_mname);
            fputc('\n', f);
        }
    }
    for (int i = 0; i < o->n_ns; i++) {
        fprintf(f, "%s\tIN\tNS\t", owner);
        put_abs(f, o->ns[i]);
        fputc('\n', f);
    }
}

int domains_export_begin(FILE *f, const struct domains_export_opts *o)
{
    switch (o->format) {
    case DOMAINS_FMT_PLAIN:
        break;
    case DOMAINS_FMT_SEIZED:
        fprintf(f, "# sinkhole seized list: one domain per line; each covers the names below "
                   "it\n");
        if (o->comment)
            fprintf(f, "# %s\n", o->comment);
        break;
    case DOMAINS_FMT_ZONE:
        fprintf(f, "; sinkhole zone for origin ");
        put_abs(f, o->origin);
        fputc('\n', f);
        if (o->comment)
            fprintf(f, "; %s\n", o->comment);
        {
            char owner[300];
            snprintf(owner, sizeof(owner), "%s", o->origin);
            size_t l = strlen(owner);
            while (l > 1 && owner[l - 1] == '.')
                owner[--l] = '\0';
            if (strcmp(owner, ".") != 0 && l + 1 < sizeof(owner))
                strcat(owner, ".");
            soa_ns(f, o, owner);
        }
        break;
    case DOMAINS_FMT_RPZ:
        fprintf(f, "; sinkhole response policy zone ");
        put_abs(f, o->origin);
        fputc('\n', f);
        if (o->comment)
            fprintf(f, "; %s\n", o->comment);
        fprintf(f, "$ORIGIN ");
        put_abs(f, o->origin);
        fputc('\n', f);
        soa_ns(f, o, "@");
        break;
    case DOMAINS_FMT_HOSTS:
        fprintf(f, "# sinkhole hosts file\n");
        if (o->comment)
            fprintf(f, "# %s\n", o->comment);
        break;
    case DOMAINS_FMT_CSV:
        fprintf(f, "domain,tld,family,first_day,last_day\n");
        break;
    }
    return ferror(f) ? SK_ERR(EIO) : 0;
}

/* An owner: prefix ("" or "*."), the name, and a trailing dot if abs. */
struct owner {
    const char *prefix;
    const char *name;
    int len;
    int abs;
};

static void put_owner(FILE *f, const struct owner *w)
{
    fprintf(f, "%s%.*s%s", w->prefix, w->len, w->name, w->abs ? "." : "");
}

static void zone_records(FILE *f, const struct domains_export_opts *o, const struct owner *w)
{
    char ip[SK_IP_TEXT_MAX];
    for (int i = 0; i < o->n_a; i++) {
        put_owner(f, w);
        fprintf(f, "\tIN\tA\t%s\n", sk_ip_ntop(&o->a[i], ip));
    }
    for (int i = 0; i < o->n_aaaa; i++) {
        put_owner(f, w);
        fprintf(f, "\tIN\tAAAA\t%s\n", sk_ip_ntop(&o->aaaa[i], ip));
    }
}

static void rpz_action(FILE *f, const struct domains_export_opts *o, const struct owner *w)
{
    if (o->n_a || o->n_aaaa) {
        zone_records(f, o, w);
        return;
    }
    put_owner(f, w);
    fprintf(f, "\tCNAME\t");
    if (o->cname == NULL || strcmp(o->cname, ".") == 0)
        fputc('.', f);
    else
        put_abs(f, o->cname);
    fputc('\n', f);
}

int domains_export_name(FILE *f, const struct domains_export_opts *o, const struct domains_name *n,
                        unsigned long *skipped)
{
    int len = (int)n->len;
    char a[16], b[16];
    switch (o->format) {
    case DOMAINS_FMT_PLAIN:
    case DOMAINS_FMT_SEIZED:
        fprintf(f, "%.*s\n", len, n->name);
        break;
    case DOMAINS_FMT_ZONE:
        if (!under_origin(n->name, n->len, o->origin)) {
            if (skipped)
                (*skipped)++;
            return 0;
        }
        zone_records(f, o, &(struct owner){ "", n->name, len, 1 });
        if (o->subtree)
            zone_records(f, o, &(struct owner){ "*.", n->name, len, 1 });
        break;
    case DOMAINS_FMT_RPZ:
        rpz_action(f, o, &(struct owner){ "", n->name, len, 0 });
        if (o->subtree)
            rpz_action(f, o, &(struct owner){ "*.", n->name, len, 0 });
        break;
    case DOMAINS_FMT_HOSTS: {
        char ip[SK_IP_TEXT_MAX];
        if (o->n_a == 0 && o->n_aaaa == 0)
            fprintf(f, "0.0.0.0 %.*s\n", len, n->name);
        for (int i = 0; i < o->n_a; i++)
            fprintf(f, "%s %.*s\n", sk_ip_ntop(&o->a[i], ip), len, n->name);
        for (int i = 0; i < o->n_aaaa; i++)
            fprintf(f, "%s %.*s\n", sk_ip_ntop(&o->aaaa[i], ip), len, n->name);
        break;
    }
    case DOMAINS_FMT_CSV: {
        const char *dot = memrchr(n->name, '.', n->len);
        const char *tld = dot ? dot + 1 : n->name;
        int tl = (int)(n->name + n->len - tld);
        fprintf(f, "%.*s,%.*s,%s,%s,%s\n", len, n->name, tl, tld, n->family,
                domains_format_day(n->first_day, a), domains_format_day(n->last_day, b));
        break;
    }
    }
    return ferror(f) ? SK_ERR(EIO) : 0;
}

int domains_export_end(FILE *f, const struct domains_export_opts *o)
{
    (void)o;
    if (fflush(f) != 0 || ferror(f))
        return SK_ERR(errno ? errno : EIO);
    return 0;
}
