/* domains/export.h -- write generated names in the formats operators use.
 *
 *   plain   one name per line
 *   seized  a list file for `sinkhole serve` ([seized.*] file =): one name
 *           per line with '#' comments naming family, variant and days
 *   zone    a master file NSD, Knot or BIND load: SOA and NS at the origin,
 *           then A/AAAA records for each name and a wildcard below it
 *   rpz     a Response Policy Zone (BIND, Unbound, Knot Resolver, PowerDNS):
 *           SOA/NS header, then a trigger for each name and its subtree,
 *           redirected to A/AAAA records, to a CNAME, or answered with
 *           NXDOMAIN (CNAME .)
 *   hosts   "ADDRESS name" lines for /etc/hosts-style blockers
 *   csv     domain,tld,family,first_day,last_day for registrars
 *
 * The writer streams: begin, one call per name, end. It keeps no list of
 * names; the caller de-duplicates if it needs to. */
#ifndef SK_DOMAINS_EXPORT_H
#define SK_DOMAINS_EXPORT_H

#include <stdint.h>
#include <stdio.h>

#include "core/addr.h"
#include "domains/family.h"

enum domains_format {
    DOMAINS_FMT_PLAIN,
    DOMAINS_FMT_SEIZED,
    DOMAINS_FMT_ZONE,
    DOMAINS_FMT_RPZ,
    DOMAINS_FMT_HOSTS,
    DOMAINS_FMT_CSV,
};

#define DOMAINS_EXPORT_ADDR_MAX 16
#define DOMAINS_EXPORT_NS_MAX   8

struct domains_export_opts {
    enum domains_format format;
    const char *origin;    /* zone: default "."; rpz: default "rpz.sinkhole.invalid" */
    const char *soa_mname; /* default "ns1.sinkhole.invalid" */
    const char *soa_rname; /* default "hostmaster.sinkhole.invalid" */
    uint32_t serial;
    uint32_t ttl;                             /* default 300 */
    uint32_t refresh, retry, expire, minimum; /* 0: 3600, 900, 604800, ttl */
    const char *ns[DOMAINS_EXPORT_NS_MAX];
    int n_ns;
    struct sk_ip a[DOMAINS_EXPORT_ADDR_MAX];
    int n_a;
    struct sk_ip aaaa[DOMAINS_EXPORT_ADDR_MAX];
    int n_aaaa;
    const char *cname;   /* rpz: redirect to this name instead */
    int subtree;         /* zone, rpz: also cover every name below (default on) */
    const char *comment; /* a line for the header, e.g. the command */
};

/* Fill o with the defaults for format. */
void domains_export_defaults(struct domains_export_opts *o, enum domains_format format);

/* Parse a format name; returns 0 or SK_EINVAL. */
int domains_export_parse_format(const char *s, enum domains_format *f /* OUT */);

/* Names of the formats, for messages: "plain, seized, zone, rpz, hosts, csv". */
const char *domains_export_format_names(void);

/* Check the options are consistent for the format (a zone needs an
 * address, an rpz takes either addresses or a CNAME, names are valid).
 * Returns 0 or SK_EINVAL with a message in err. */
int domains_export_check(const struct domains_export_opts *o, char *err, size_t errlen);

/* Write the header, one name, the trailer. Return 0 or a negative error
 * (a failed write). A zone skips names outside its origin; *skipped (if
 * not NULL) counts them. */
int domains_export_begin(FILE *f, const struct domains_export_opts *o);
int domains_export_name(FILE *f, const struct domains_export_opts *o, const struct domains_name *n,
                        unsigned long *skipped);
int domains_export_end(FILE *f, const struct domains_export_opts *o);

#endif
