/* cli/cmd_domains.c -- `sinkhole domains`: a family's names for a day
 * range, in the formats registrars and DNS operators take; the family
 * list; and attribution of names in a list or log to families. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli/commands.h"
#include "core/addr.h"
#include "core/clock.h"
#include "core/err.h"
#include "domains/date.h"
#include "domains/export.h"
#include "domains/family.h"
#include "domains/match.h"

#define MAX_FAMILIES  64
#define MAX_SPAN_DAYS 3660 /* ten years per run */

static void usage(FILE *f)
{
    fprintf(f, "Usage: sinkhole domains FAMILY... --from DATE --to DATE [--seed S] [--variant V]\n"
               "                        [--format F] [-o FILE] [OUTPUT OPTIONS]\n"
               "       sinkhole domains --list [--family-file FILE]...\n"
               "       sinkhole domains --match FILE --from DATE --to DATE [--family NAME]...\n"
               "\n"
               "Print the domains a botnet family queries on the days from --from to --to\n"
               "(inclusive, UTC): the fallback domains of a static family, or the names of a\n"
               "domain-generation algorithm (DGA). Every set of names is written once, with the\n"
               "first and last day a bot asks for it, so the output of a range is what a takedown\n"
               "must seize, pre-register, or have ISPs redirect or refuse. Names are streamed:\n"
               "memory does not grow with the range.\n"
               "\n"
               "FAMILY is a built-in family (see --list), an alias, a family loaded with\n"
               "--family-file, or 'all' for every built-in family with its default variant.\n"
               "\n"
               "Selection:\n"
               "  --from DATE          first day: YYYY-MM-DD, 'today', 'today-N', 'today+N'\n"
               "                       (default today)\n"
               "  --to DATE            last day (default: the --from day)\n"
               "  --date DATE          one day: the same as --from DATE --to DATE\n"
               "  --seed S             the family's seed (a number or a domain, per family; one\n"
               "                       family only). An unknown or malformed seed is an error\n"
               "                       that lists the valid form and the known seeds\n"
               "  --variant V          a configuration seen in samples (one family only)\n"
               "  --count N            names per set instead of the variant's number\n"
               "  --family-file FILE   load a static family from FILE (repeatable); format:\n"
               "                       '# family: NAME' header, then one domain per line,\n"
               "                       optionally followed by its first and last day\n"
               "\n"
               "Output:\n"
               "  -f, --format F       plain (default), seized, zone, rpz, hosts, csv:\n"
               "        plain    one name per line\n"
               "        seized   a [seized.*] list for `sinkhole serve` (names, '#' comments)\n"
               "        zone     a master file for NSD/Knot/BIND: SOA, NS, and A/AAAA records\n"
               "                 for each name and a wildcard below it (needs --a or --aaaa);\n"
               "                 the default origin '.' lets one server answer every TLD\n"
               "        rpz      a Response Policy Zone for BIND, Unbound, Knot Resolver and\n"
               "                 PowerDNS: NXDOMAIN (CNAME .) for each name and its subtree,\n"
               "                 or a redirect with --a/--aaaa or --cname\n"
               "        hosts    'ADDRESS name' lines (0.0.0.0 unless --a/--aaaa are given)\n"
               "        csv      domain,tld,family,first_day,last_day for registrars\n"
               "  -o, --output FILE    write FILE (via a temporary file renamed into place)\n"
               "  --a ADDR             IPv4 address of the sinkhole (repeatable)\n"
               "  --aaaa ADDR          IPv6 address of the sinkhole (repeatable)\n"
               "  --cname NAME         rpz: redirect to NAME; '.' means NXDOMAIN (the default)\n"
               "  --nxdomain           rpz: answer NXDOMAIN (the default without --a/--aaaa)\n"
               "  --no-subtree         zone, rpz: only the names themselves, not names below\n"
               "  --origin NAME        zone origin (default '.') or RPZ zone name (default\n"
               "                       rpz.sinkhole.invalid)\n"
               "  --ttl N              record TTL and SOA minimum (default 300)\n"
               "  --serial N           SOA serial (default: now, in seconds since 1970)\n"
               "  --soa-mname NAME     SOA primary server (default ns1.sinkhole.invalid)\n"
               "  --soa-rname NAME     SOA mailbox (default hostmaster.sinkhole.invalid)\n"
               "  --ns NAME            NS of the zone (repeatable; default the SOA mname, or\n"
               "                       localhost. for rpz)\n"
               "\n"
               "Other modes:\n"
               "  --list               the families: aliases, kind, description, seeds,\n"
               "                       variants and the public source each was built from\n"
               "  --match FILE         read names from FILE ('-' for stdin; a list or any log,\n"
               "                       e.g. a resolver's query log) and print, for each one that\n"
               "                       a family generates in the range (itself or a parent\n"
               "                       domain), the family, variant and the days it is queried:\n"
               "                       'NAME FAMILY VARIANT FIRST_DAY LAST_DAY SEEN_AS LINE'.\n"
               "                       All families and variants are tried unless --family\n"
               "                       names some (repeatable)\n"
               "  -h, --help           this text\n"
               "\n"
               "Examples:\n"
               "  sinkhole domains necurs --from 2015-08-28 --to 2015-09-30 --format seized \\\n"
               "      -o lists/necurs.txt\n"
               "  sinkhole domains all --from today-7 --to today+30 --format rpz --nxdomain\n"
               "  sinkhole domains ramnit --seed 79159C10 --format csv\n"
               "  sinkhole domains --match queries.log --from 2016-02-01 --to 2016-02-29\n"
               "\n"
               "Exit status: 0 success, 1 runtime failure (e.g. a write error), 2 usage error or\n"
               "bad input (unknown family, variant or seed, bad date, bad option value).\n"
               "Documentation: docs/families.md.\n");
}

enum {
    OPT_FROM = 256,
    OPT_TO,
    OPT_DATE,
    OPT_SEED,
    OPT_VARIANT,
    OPT_COUNT,
    OPT_FAMILY_FILE,
    OPT_FAMILY,
    OPT_A,
    OPT_AAAA,
    OPT_CNAME,
    OPT_NXDOMAIN,
    OPT_NO_SUBTREE,
    OPT_ORIGIN,
    OPT_TTL,
    OPT_SERIAL,
    OPT_SOA_MNAME,
    OPT_SOA_RNAME,
    OPT_NS,
    OPT_LIST,
    OPT_MATCH,
};

static const struct option long_opts[] = {
    { "from", required_argument, NULL, OPT_FROM },
    { "to", required_argument, NULL, OPT_TO },
    { "date", required_argument, NULL, OPT_DATE },
    { "seed", required_argument, NULL, OPT_SEED },
    { "variant", required_argument, NULL, OPT_VARIANT },
    { "count", required_argument, NULL, OPT_COUNT },
    { "family-file", required_argument, NULL, OPT_FAMILY_FILE },
    { "family", required_argument, NULL, OPT_FAMILY },
    { "format", required_argument, NULL, 'f' },
    { "output", required_argument, NULL, 'o' },
    { "a", required_argument, NULL, OPT_A },
    { "aaaa", required_argument, NULL, OPT_AAAA },
    { "cname", required_argument, NULL, OPT_CNAME },
    { "nxdomain", no_argument, NULL, OPT_NXDOMAIN },
    { "no-subtree", no_argument, NULL, OPT_NO_SUBTREE },
    { "origin", required_argument, NULL, OPT_ORIGIN },
    { "ttl", required_argument, NULL, OPT_TTL },
    { "serial", required_argument, NULL, OPT_SERIAL },
    { "soa-mname", required_argument, NULL, OPT_SOA_MNAME },
    { "soa-rname", required_argument, NULL, OPT_SOA_RNAME },
    { "ns", required_argument, NULL, OPT_NS },
    { "list", no_argument, NULL, OPT_LIST },
    { "match", required_argument, NULL, OPT_MATCH },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
};

struct opts {
    const char *from, *to, *seed, *variant, *format, *output, *match;
    uint32_t count;
    const char *family_files[MAX_FAMILIES];
    int n_family_files;
    const char *only[MAX_FAMILIES]; /* --family for --match */
    int n_only;
    int list;
    int nxdomain;
    struct domains_export_opts ex;
    int serial_set;
};

struct loaded {
    struct domains_static *s[MAX_FAMILIES];
    int n;
};

static void loaded_free(struct loaded *l)
{
    for (int i = 0; i < l->n; i++)
        domains_static_free(l->s[i]);
    l->n = 0;
}

static const struct domains_static *loaded_find(const struct loaded *l, const char *name)
{
    for (int i = 0; i < l->n; i++)
        if (strcasecmp(domains_static_family(l->s[i])->name, name) == 0)
            return l->s[i];
    return NULL;
}

__attribute__((format(printf, 1, 2))) static int err2(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "sinkhole domains: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 2;
}

static int parse_u32(const char *s, const char *what, uint32_t max, uint32_t *v)
{
    uint64_t x;
    if (domains_parse_uint(s, 0, max, &x) != 0) {
        fprintf(stderr, "sinkhole domains: bad %s '%s': expected a number 0..%u\n", what, s,
                (unsigned)max);
        return 2;
    }
    *v = (uint32_t)x;
    return 0;
}

static int add_addr(struct domains_export_opts *ex, const char *s, int af)
{
    struct sk_ip ip;
    if (sk_ip_parse(s, &ip) != 0 || ip.af != af) {
        fprintf(stderr, "sinkhole domains: bad %s address '%s'\n", af == 4 ? "IPv4" : "IPv6", s);
        return 2;
    }
    int *n = af == 4 ? &ex->n_a : &ex->n_aaaa;
    if (*n >= DOMAINS_EXPORT_ADDR_MAX) {
        fprintf(stderr, "sinkhole domains: at most %d addresses of each family\n",
                DOMAINS_EXPORT_ADDR_MAX);
        return 2;
    }
    (af == 4 ? ex->a : ex->aaaa)[(*n)++] = ip;
    return 0;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
    memset(o, 0, sizeof(*o));
    domains_export_defaults(&o->ex, DOMAINS_FMT_PLAIN);
    const char *origin = NULL, *mname = NULL, *rname = NULL, *cname = NULL;
    uint32_t ttl = 0, serial = 0;
    int ttl_set = 0, no_subtree = 0;
    const char *ns[DOMAINS_EXPORT_NS_MAX];
    int n_ns = 0;
    struct domains_export_opts addrs; /* --a/--aaaa, until the format is known */
    memset(&addrs, 0, sizeof(addrs));
    optind = 0;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "hf:o:", long_opts, NULL)) != -1) {
        int rc = 0;
        switch (c) {
        case 'h':
            usage(stdout);
            return 1;
        case OPT_FROM:
            o->from = optarg;
            break;
        case OPT_TO:
            o->to = optarg;
            break;
        case OPT_DATE:
            o->from = o->to = optarg;
            break;
        case OPT_SEED:
            o->seed = optarg;
            break;
        case OPT_VARIANT:
            o->variant = optarg;
            break;
        case OPT_COUNT:
            rc = parse_u32(optarg, "count", DOMAINS_COUNT_MAX, &o->count);
            if (rc == 0 && o->count == 0)
                rc = err2("bad count '%s': expected 1 or more", optarg);
            break;
        case OPT_FAMILY_FILE:
            if (o->n_family_files == MAX_FAMILIES)
                return err2("too many --family-file options");
            o->family_files[o->n_family_files++] = optarg;
            break;
        case OPT_FAMILY:
            if (o->n_only == MAX_FAMILIES)
                return err2("too many --family options");
            o->only[o->n_only++] = optarg;
            break;
        case 'f':
            o->format = optarg;
            break;
        case 'o':
            o->output = optarg;
            break;
        case OPT_A:
            rc = add_addr(&addrs, optarg, 4);
            break;
        case OPT_AAAA:
            rc = add_addr(&addrs, optarg, 6);
            break;
        case OPT_CNAME:
            cname = optarg;
            break;
        case OPT_NXDOMAIN:
            o->nxdomain = 1;
            break;
        case OPT_NO_SUBTREE:
            no_subtree = 1;
            break;
        case OPT_ORIGIN:
            origin = optarg;
            break;
        case OPT_TTL:
            rc = parse_u32(optarg, "TTL", 0x7FFFFFFF, &ttl);
            ttl_set = 1;
            break;
        case OPT_SERIAL:
            rc = parse_u32(optarg, "serial", UINT32_MAX, &serial);
            o->serial_set = 1;
            break;
        case OPT_SOA_MNAME:
            mname = optarg;
            break;
        case OPT_SOA_RNAME:
            rname = optarg;
            break;
        case OPT_NS:
            if (n_ns == DOMAINS_EXPORT_NS_MAX)
                return err2("at most 8 --ns names");
            ns[n_ns++] = optarg;
            break;
        case OPT_LIST:
            o->list = 1;
            break;
        case OPT_MATCH:
            o->match = optarg;
            break;
        case '?':
        default:
            return cli_bad_option("domains", argv);
        }
        if (rc)
            return rc;
    }
    enum domains_format fmt = DOMAINS_FMT_PLAIN;
    if (o->format != NULL && domains_export_parse_format(o->format, &fmt) != 0) {
        fprintf(stderr, "sinkhole domains: unknown format '%s'; valid formats: %s\n", o->format,
                domains_export_format_names());
        return 2;
    }
    if (!o->serial_set)
        serial = (uint32_t)(sk_clock_now_us() / 1000000);
    domains_export_defaults(&o->ex, fmt);
    o->ex.serial = serial;
    memcpy(o->ex.a, addrs.a, sizeof(addrs.a));
    o->ex.n_a = addrs.n_a;
    memcpy(o->ex.aaaa, addrs.aaaa, sizeof(addrs.aaaa));
    o->ex.n_aaaa = addrs.n_aaaa;
    if (origin)
        o->ex.origin = origin;
    if (mname)
        o->ex.soa_mname = mname;
    if (rname)
        o->ex.soa_rname = rname;
    if (ttl_set)
        o->ex.ttl = ttl;
    if (no_subtree)
        o->ex.subtree = 0;
    o->ex.cname = cname;
    for (int i = 0; i < n_ns; i++)
        o->ex.ns[i] = ns[i];
    o->ex.n_ns = n_ns;
    if (o->nxdomain && (cname != NULL || o->ex.n_a || o->ex.n_aaaa) && fmt == DOMAINS_FMT_RPZ)
        return err2("--nxdomain excludes --cname, --a and --aaaa");
    return 0;
}

/* ---- generation output ---- */

struct out_ctx {
    FILE *f;
    const struct domains_export_opts *ex;
    unsigned long names, skipped;
    int err;
};

static int out_cb(const struct domains_name *n, void *arg)
{
    struct out_ctx *c = arg;
    int rc = domains_export_name(c->f, c->ex, n, &c->skipped);
    if (rc) {
        c->err = rc;
        return rc;
    }
    c->names++;
    return 0;
}

static int resolve_days(const struct opts *o, int32_t *from, int32_t *to)
{
    int32_t today = domains_today();
    const char *fs = o->from ? o->from : "today";
    if (domains_parse_date(fs, today, from) != 0)
        return err2("bad date '%s': expected YYYY-MM-DD (1970-01-01..2199-12-31), 'today', "
                    "'today-N' or 'today+N'",
                    fs);
    const char *ts = o->to ? o->to : fs;
    if (domains_parse_date(ts, today, to) != 0)
        return err2("bad date '%s': expected YYYY-MM-DD (1970-01-01..2199-12-31), 'today', "
                    "'today-N' or 'today+N'",
                    ts);
    if (*to < *from)
        return err2("--to %s is before --from %s", ts, fs);
    if (*to - *from >= MAX_SPAN_DAYS) {
        fprintf(stderr, "sinkhole domains: range too long: at most %d days per run\n",
                MAX_SPAN_DAYS);
        return 2;
    }
    return 0;
}

static int load_family_files(const struct opts *o, struct loaded *l)
{
    for (int i = 0; i < o->n_family_files; i++) {
        char err[512];
        int rc = domains_static_load(o->family_files[i], &l->s[l->n], err, sizeof(err));
        if (rc) {
            fprintf(stderr, "sinkhole domains: %s\n", err);
            return rc == SK_EINVAL ? 2 : 1;
        }
        l->n++;
    }
    return 0;
}

/* Build the runs for the positional family names. */
static int build_runs(const struct opts *o, const struct loaded *l, char **names, int n,
                      struct domains_run *runs, int *nruns)
{
    *nruns = 0;
    if (n > 1 && (o->seed || o->variant))
        return err2("--seed and --variant apply to one family only");
    for (int i = 0; i < n; i++) {
        if (strcasecmp(names[i], "all") == 0) {
            if (o->seed || o->variant)
                return err2("--seed and --variant apply to one family, not '%s'", names[i]);
            for (size_t k = 0; k < domains_family_count(); k++) {
                char err[1024];
                if (*nruns == MAX_FAMILIES)
                    break;
                if (domains_run_init(&runs[*nruns], domains_family_at(k), NULL, NULL, o->count, err,
                                     sizeof(err)) != 0) {
                    fprintf(stderr, "sinkhole domains: %s\n", err);
                    return 2;
                }
                (*nruns)++;
            }
            continue;
        }
        if (*nruns == MAX_FAMILIES)
            return err2("too many families");
        const struct domains_static *s = loaded_find(l, names[i]);
        if (s != NULL) {
            if (o->seed || o->variant)
                return err2("family %s is a static list: it takes no --seed or --variant",
                            names[i]);
            domains_run_init_static(&runs[(*nruns)++], s);
            continue;
        }
        const struct domains_family *f = domains_family_find(names[i]);
        char err[1024];
        if (f == NULL) {
            char all[1024];
            domains_family_names(all, sizeof(all));
            fprintf(stderr, "sinkhole domains: unknown family '%s'; valid families: %s", names[i],
                    all);
            for (int k = 0; k < l->n; k++)
                fprintf(stderr, ", %s", domains_static_family(l->s[k])->name);
            fprintf(stderr, ", all\n");
            return 2;
        }
        if (domains_run_init(&runs[*nruns], f, o->seed, o->variant, o->count, err, sizeof(err)) !=
            0) {
            fprintf(stderr, "sinkhole domains: %s\n", err);
            return 2;
        }
        (*nruns)++;
    }
    return 0;
}

static FILE *open_output(const char *path, char *tmp, size_t tmplen)
{
    if (path == NULL || strcmp(path, "-") == 0)
        return stdout;
    snprintf(tmp, tmplen, "%s.tmp.%d", path, (int)getpid());
    FILE *f = fopen(tmp, "w");
    if (f == NULL)
        fprintf(stderr, "sinkhole domains: %s: %s\n", tmp, strerror(errno));
    return f;
}

static int close_output(FILE *f, const char *path, const char *tmp, int ok)
{
    if (f == stdout) {
        if (fflush(stdout) != 0 && ok) {
            fprintf(stderr, "sinkhole domains: write error: %s\n", strerror(errno));
            return 1;
        }
        return ok ? 0 : 1;
    }
    int bad = fclose(f) != 0;
    if (!ok || bad) {
        if (bad)
            fprintf(stderr, "sinkhole domains: %s: write error\n", tmp);
        unlink(tmp);
        return 1;
    }
    if (rename(tmp, path) != 0) {
        fprintf(stderr, "sinkhole domains: %s: %s\n", path, strerror(errno));
        unlink(tmp);
        return 1;
    }
    return 0;
}

static int do_generate(struct opts *o, const struct loaded *l, char **names, int n)
{
    int32_t from, to;
    int rc = resolve_days(o, &from, &to);
    if (rc)
        return rc;
    static struct domains_run runs[MAX_FAMILIES];
    int nruns;
    rc = build_runs(o, l, names, n, runs, &nruns);
    if (rc)
        return rc;
    char err[512];
    if (domains_export_check(&o->ex, err, sizeof(err)) != 0)
        return err2("%s", err);
    char comment[512], a[16], b[16];
    int cl = snprintf(comment, sizeof(comment), "days %s..%s:", domains_format_day(from, a),
                      domains_format_day(to, b));
    for (int i = 0; i < nruns && cl > 0 && (size_t)cl < sizeof(comment); i++)
        cl += snprintf(comment + cl, sizeof(comment) - (size_t)cl, " %s%s%s", runs[i].family->name,
                       runs[i].variant ? "/" : "", runs[i].variant ? runs[i].variant->name : "");
    o->ex.comment = comment;

    char tmp[4096];
    FILE *f = open_output(o->output, tmp, sizeof(tmp));
    if (f == NULL)
        return 1;
    struct out_ctx ctx = { f, &o->ex, 0, 0, 0 };
    rc = domains_export_begin(f, &o->ex);
    for (int i = 0; i < nruns && rc == 0; i++)
        rc = domains_run_range(&runs[i], from, to, DOMAINS_DEDUP, out_cb, &ctx);
    if (rc == 0)
        rc = domains_export_end(f, &o->ex);
    if (rc)
        fprintf(stderr, "sinkhole domains: %s\n", sk_strerror(ctx.err ? ctx.err : rc));
    if (ctx.skipped)
        fprintf(stderr, "sinkhole domains: %lu names outside origin %s left out\n", ctx.skipped,
                o->ex.origin);
    return close_output(f, o->output, tmp, rc == 0);
}

/* ---- --list ---- */

static void print_family(FILE *f, const struct domains_family *fam, size_t nstatic)
{
    fprintf(f, "%s", fam->name);
    if (fam->aliases && *fam->aliases)
        fprintf(f, " (aliases: %s)", fam->aliases);
    fprintf(f, " -- %s, active %s\n", fam->kind == DOMAINS_DGA ? "DGA" : "static list",
            fam->active ? fam->active : "unknown");
    fprintf(f, "    %s\n", fam->description);
    if (fam->kind == DOMAINS_STATIC) {
        fprintf(f, "    names: %zu\n", nstatic);
    } else {
        fprintf(f, "    seed: %s\n", fam->seed_help);
        fprintf(f, "    variants:");
        for (size_t i = 0; i < fam->nvariants; i++) {
            const struct domains_variant *v = &fam->variants[i];
            fprintf(f, "%s %s", i ? "," : "", v->name);
            if (v->seed && *v->seed)
                fprintf(f, " (seed %s, %u per set)", v->seed, (unsigned)v->count);
            else
                fprintf(f, " (%u per set)", (unsigned)v->count);
            if (i == 0)
                fprintf(f, " [default]");
        }
        fputc('\n', f);
    }
    fprintf(f, "    source: %s\n\n", fam->source);
}

static int do_list(const struct loaded *l)
{
    for (size_t i = 0; i < domains_family_count(); i++)
        print_family(stdout, domains_family_at(i), 0);
    for (int i = 0; i < l->n; i++)
        print_family(stdout, domains_static_family(l->s[i]), domains_static_size(l->s[i]));
    return fflush(stdout) == 0 ? 0 : 1;
}

/* ---- --match ---- */

static int wanted(const struct opts *o, const struct domains_family *f)
{
    if (o->n_only == 0)
        return 1;
    for (int i = 0; i < o->n_only; i++) {
        if (strcasecmp(o->only[i], f->name) == 0)
            return 1;
        if (f->kind == DOMAINS_DGA && domains_family_find(o->only[i]) == f)
            return 1;
    }
    return 0;
}

static int do_match(struct opts *o, const struct loaded *l)
{
    int32_t from, to;
    int rc = resolve_days(o, &from, &to);
    if (rc)
        return rc;
    for (int i = 0; i < o->n_only; i++)
        if (domains_family_find(o->only[i]) == NULL && loaded_find(l, o->only[i]) == NULL) {
            char all[1024];
            domains_family_names(all, sizeof(all));
            fprintf(stderr, "sinkhole domains: unknown family '%s'; valid families: %s\n",
                    o->only[i], all);
            return 2;
        }
    struct domains_match *m = domains_match_new();
    if (m == NULL)
        return 1;
    char err[512];
    rc = domains_match_load(m, o->match, err, sizeof(err));
    if (rc) {
        fprintf(stderr, "sinkhole domains: %s\n", err);
        domains_match_free(m);
        return 1;
    }
    for (size_t i = 0; i < domains_family_count() && rc == 0; i++) {
        const struct domains_family *f = domains_family_at(i);
        if (!wanted(o, f))
            continue;
        for (size_t v = 0; v < f->nvariants && rc == 0; v++) {
            struct domains_run run;
            if (domains_run_init(&run, f, NULL, f->variants[v].name, 0, err, sizeof(err)) != 0)
                continue;
            rc = domains_run_range(&run, from, to, DOMAINS_DEDUP, domains_match_cb, m);
        }
    }
    for (int i = 0; i < l->n && rc == 0; i++) {
        if (!wanted(o, domains_static_family(l->s[i])))
            continue;
        struct domains_run run;
        domains_run_init_static(&run, l->s[i]);
        rc = domains_run_range(&run, from, to, 0, domains_match_cb, m);
    }
    if (rc) {
        fprintf(stderr, "sinkhole domains: %s\n", sk_strerror(rc));
        domains_match_free(m);
        return 1;
    }
    domains_match_sort(m);
    printf("# name family variant first_day last_day seen_as line\n");
    for (size_t i = 0; i < domains_match_hits(m); i++) {
        const struct domains_hit *h = domains_match_hit(m, i);
        char a[16], b[16];
        printf("%s %s %s %s %s %s %lu\n", h->name, h->family, h->variant,
               domains_format_day(h->first_day, a), domains_format_day(h->last_day, b), h->seen,
               h->line);
    }
    fprintf(stderr, "sinkhole domains: %zu of %zu names attributed\n", domains_match_hits(m),
            domains_match_size(m));
    domains_match_free(m);
    return fflush(stdout) == 0 ? 0 : 1;
}

int cmd_domains(int argc, char **argv)
{
    struct opts o;
    int rc = parse_args(argc, argv, &o);
    if (rc == 1)
        return 0; /* --help */
    if (rc)
        return rc;
    char **names = argv + optind;
    int n = argc - optind;
    int modes = o.list + (o.match != NULL) + (n > 0);
    if (modes != 1) {
        if (modes == 0)
            fprintf(stderr, "sinkhole domains: name a FAMILY, or use --list or --match FILE\n");
        else
            fprintf(stderr, "sinkhole domains: FAMILY, --list and --match exclude each other\n");
        fprintf(stderr, "Try 'sinkhole domains --help'.\n");
        return 2;
    }
    struct loaded l = { { 0 }, 0 };
    rc = load_family_files(&o, &l);
    if (rc == 0) {
        if (o.list)
            rc = do_list(&l);
        else if (o.match)
            rc = do_match(&o, &l);
        else
            rc = do_generate(&o, &l, names, n);
    }
    loaded_free(&l);
    return rc;
}
