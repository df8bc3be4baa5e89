/* cli/cmd_blocklist.c -- `sinkhole blocklist`: C&C addresses and prefixes
 * as a CIDR list, an nftables ruleset or an RPZ zone of rpz-ip triggers,
 * for ISPs to null-route or refuse. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"
#include "core/clock.h"
#include "core/err.h"
#include "domains/blocklist.h"
#include "domains/date.h"
#include "domains/family.h"

static void usage(FILE *f)
{
    fprintf(f, "Usage: sinkhole blocklist FILE... [--format cidr|nftables|rpz-ip] [-o FILE]\n"
               "                          [--origin NAME] [--ttl N] [--serial N] [--table NAME]\n"
               "\n"
               "Turn a list of C&C addresses into a blocklist ISPs can load. FILE holds one\n"
               "IPv4 or IPv6 address or prefix per line (192.0.2.7, 198.51.100.0/24,\n"
               "2001:db8::/32); '#' or ';' starts a comment; blank lines are ignored. A bad line\n"
               "(not an address, host bits set past the prefix length, more than one token) is\n"
               "reported as FILE:LINE and nothing is written. Entries are sorted, duplicates\n"
               "and prefixes inside another listed prefix are dropped ('-' reads stdin).\n"
               "\n"
               "Formats (-f, --format):\n"
               "  cidr       one prefix per line, ADDRESS/LENGTH (the default)\n"
               "  nftables   an nft -f script: table inet sinkhole_blocklist with interval sets\n"
               "             c2_v4 and c2_v6 and input/forward/output chains that drop traffic\n"
               "             to and from them; loading it again replaces the table\n"
               "  rpz-ip     a Response Policy Zone of rpz-ip triggers: a resolver answers\n"
               "             NXDOMAIN when an answer contains a listed address. Owner names are\n"
               "             the prefix length and the reversed address (24.0.2.0.192.rpz-ip);\n"
               "             IPv6 as reversed 16-bit words with the longest zero run as 'zz'\n"
               "             (32.zz.db8.2001.rpz-ip)\n"
               "\n"
               "Options:\n"
               "  -o, --output FILE   write FILE (via a temporary file renamed into place)\n"
               "  --origin NAME       rpz-ip: the policy zone name (default rpz.sinkhole.invalid)\n"
               "  --ttl N             rpz-ip: TTL and SOA minimum (default 300)\n"
               "  --serial N          rpz-ip: SOA serial (default: now, seconds since 1970)\n"
               "  --soa-mname NAME    rpz-ip: SOA primary server (default ns1.sinkhole.invalid)\n"
               "  --soa-rname NAME    rpz-ip: SOA mailbox (default hostmaster.sinkhole.invalid)\n"
               "  --table NAME        nftables: table name (default sinkhole_blocklist)\n"
               "  -h, --help          this text\n"
               "\n"
               "Examples:\n"
               "  sinkhole blocklist c2.txt --format nftables -o c2.nft && nft -f c2.nft\n"
               "  sinkhole blocklist c2.txt --format rpz-ip --origin rpz-ip.example.net\n"
               "\n"
               "Exit status: 0 success, 1 runtime failure (unreadable file, write error),\n"
               "2 usage error or a bad line in a list.\n");
}

enum { OPT_ORIGIN = 256, OPT_TTL, OPT_SERIAL, OPT_TABLE, OPT_MNAME, OPT_RNAME };

static const struct option long_opts[] = {
    { "format", required_argument, NULL, 'f' },
    { "output", required_argument, NULL, 'o' },
    { "origin", required_argument, NULL, OPT_ORIGIN },
    { "ttl", required_argument, NULL, OPT_TTL },
    { "serial", required_argument, NULL, OPT_SERIAL },
    { "table", required_argument, NULL, OPT_TABLE },
    { "soa-mname", required_argument, NULL, OPT_MNAME },
    { "soa-rname", required_argument, NULL, OPT_RNAME },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
};

static int check_dname(const char *what, const char *v)
{
    size_t l = strlen(v);
    while (l && v[l - 1] == '.')
        l--;
    if (domains_name_check(v, l) != 0) {
        fprintf(stderr, "sinkhole blocklist: bad %s '%s': expected a domain name\n", what, v);
        return 2;
    }
    return 0;
}

static int check_table(const char *t)
{
    size_t l = strlen(t);
    if (l == 0 || l > 64)
        goto bad;
    for (size_t i = 0; i < l; i++) {
        char c = t[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
              (i > 0 && c >= '0' && c <= '9')))
            goto bad;
    }
    return 0;
bad:
    fprintf(stderr, "sinkhole blocklist: bad table name '%s': letters, digits and '_'\n", t);
    return 2;
}

static int parse_num(const char *s, const char *what, uint64_t max, unsigned *v)
{
    uint64_t x;
    if (domains_parse_uint(s, 0, max, &x) != 0) {
        fprintf(stderr, "sinkhole blocklist: bad %s '%s': expected a number 0..%llu\n", what, s,
                (unsigned long long)max);
        return 2;
    }
    *v = (unsigned)x;
    return 0;
}

/* Load one file; "-" is stdin, copied to a temporary file first so the
 * loader can name lines the same way. */
static int load(const char *path, struct blocklist *bl)
{
    char err[512];
    int rc;
    if (strcmp(path, "-") == 0) {
        char tmp[] = "/tmp/sinkhole-blocklist-XXXXXX";
        int fd = mkstemp(tmp);
        if (fd < 0) {
            fprintf(stderr, "sinkhole blocklist: %s\n", strerror(errno));
            return 1;
        }
        FILE *t = fdopen(fd, "w");
        char buf[65536];
        size_t n;
        while (t && (n = fread(buf, 1, sizeof(buf), stdin)) > 0)
            fwrite(buf, 1, n, t);
        if (t == NULL || fclose(t) != 0) {
            unlink(tmp);
            fprintf(stderr, "sinkhole blocklist: cannot buffer stdin\n");
            return 1;
        }
        rc = blocklist_load(tmp, bl, err, sizeof(err));
        unlink(tmp);
        if (rc) {
            /* Name stdin rather than the temporary file. */
            const char *colon = strchr(err, ':');
            fprintf(stderr, "sinkhole blocklist: -%s\n", colon ? colon : err);
        }
    } else {
        rc = blocklist_load(path, bl, err, sizeof(err));
        if (rc)
            fprintf(stderr, "sinkhole blocklist: %s\n", err);
    }
    if (rc == SK_EINVAL)
        return 2;
    return rc ? 1 : 0;
}

int cmd_blocklist(int argc, char **argv)
{
    enum blocklist_format fmt = BLOCKLIST_CIDR;
    const char *output = NULL;
    struct blocklist_opts bo = { 0 };
    int serial_set = 0;
    optind = 0;
    opterr = 0;
    int c, rc = 0;
    while ((c = getopt_long(argc, argv, "hf:o:", long_opts, NULL)) != -1) {
        switch (c) {
        case 'h':
            usage(stdout);
            return 0;
        case 'f':
            if (blocklist_parse_format(optarg, &fmt) != 0) {
                fprintf(stderr,
                        "sinkhole blocklist: unknown format '%s'; valid formats: cidr, "
                        "nftables, rpz-ip\n",
                        optarg);
                return 2;
            }
            break;
        case 'o':
            output = optarg;
            break;
        case OPT_ORIGIN:
            bo.origin = optarg;
            rc = check_dname("origin", optarg);
            break;
        case OPT_TTL:
            rc = parse_num(optarg, "TTL", 0x7FFFFFFF, &bo.ttl);
            break;
        case OPT_SERIAL:
            rc = parse_num(optarg, "serial", UINT32_MAX, &bo.serial);
            serial_set = 1;
            break;
        case OPT_TABLE:
            bo.table = optarg;
            rc = check_table(optarg);
            break;
        case OPT_MNAME:
            bo.soa_mname = optarg;
            rc = check_dname("SOA mname", optarg);
            break;
        case OPT_RNAME:
            bo.soa_rname = optarg;
            rc = check_dname("SOA rname", optarg);
            break;
        default:
            return cli_bad_option("blocklist", argv);
        }
        if (rc)
            return rc;
    }
    if (optind >= argc) {
        fprintf(stderr, "sinkhole blocklist: name a FILE of addresses ('-' for stdin)\n"
                        "Try 'sinkhole blocklist --help'.\n");
        return 2;
    }
    if (!serial_set)
        bo.serial = (unsigned)(sk_clock_now_us() / 1000000);
    struct blocklist bl = { 0 };
    for (int i = optind; i < argc && rc == 0; i++)
        rc = load(argv[i], &bl);
    if (rc) {
        blocklist_free(&bl);
        return rc;
    }
    size_t loaded = bl.n;
    size_t dropped = blocklist_normalize(&bl);
    char comment[160];
    snprintf(comment, sizeof(comment), "%zu prefixes (%zu read, %zu duplicate or covered)", bl.n,
             loaded, dropped);
    bo.comment = comment;

    FILE *f = stdout;
    char tmp[4096] = "";
    if (output != NULL && strcmp(output, "-") != 0) {
        snprintf(tmp, sizeof(tmp), "%s.tmp.%d", output, (int)getpid());
        f = fopen(tmp, "w");
        if (f == NULL) {
            fprintf(stderr, "sinkhole blocklist: %s: %s\n", tmp, strerror(errno));
            blocklist_free(&bl);
            return 1;
        }
    }
    rc = blocklist_write(f, &bl, fmt, &bo);
    blocklist_free(&bl);
    if (f == stdout) {
        if (rc) {
            fprintf(stderr, "sinkhole blocklist: write error\n");
            return 1;
        }
        return 0;
    }
    if (fclose(f) != 0)
        rc = SK_ERR(EIO);
    if (rc == 0 && rename(tmp, output) != 0)
        rc = SK_ERR(errno);
    if (rc) {
        fprintf(stderr, "sinkhole blocklist: %s: %s\n", output, sk_strerror(rc));
        unlink(tmp);
        return 1;
    }
    return 0;
}
