/* domains/blocklist.h -- C&C addresses as blocklists for ISPs.
 *
 * Reads a file of IPv4/IPv6 addresses and prefixes (one per line, '#'
 * comments) and writes it as a plain CIDR list, an nftables ruleset, or
 * an RPZ zone of rpz-ip triggers (owner names per the RPZ specification:
 * prefix length, then the address reversed; IPv6 as 16-bit words with the
 * longest run of zero words written once as "zz"). */
#ifndef SK_DOMAINS_BLOCKLIST_H
#define SK_DOMAINS_BLOCKLIST_H

#include <stddef.h>
#include <stdio.h>

#include "core/addr.h"

enum blocklist_format { BLOCKLIST_CIDR, BLOCKLIST_NFTABLES, BLOCKLIST_RPZ_IP };

struct blocklist_entry {
    struct sk_prefix p;
    unsigned line; /* where it came from */
};

struct blocklist {
    struct blocklist_entry *e;
    size_t n, cap;
};

/* Parse one line (line[0..len), no NUL needed, no allocation): blank and
 * comment-only lines return 0; a prefix line returns 1 and fills *p; a
 * bad line returns SK_EINVAL with a reason in err (without FILE:LINE). */
int blocklist_parse_line(const char *line, size_t len, struct sk_prefix *p /* OUT */, char *err,
                         size_t errlen);

/* Read path into bl (appending). On a bad line returns SK_EINVAL with
 * "PATH:LINE: reason" in err; on a system error returns it. */
int blocklist_load(const char *path, struct blocklist *bl, char *err, size_t errlen);

/* Sort (IPv4 first, by address then length), drop duplicates and
 * prefixes covered by another entry. Returns how many were dropped. */
size_t blocklist_normalize(struct blocklist *bl);

void blocklist_free(struct blocklist *bl);

/* The rpz-ip owner name of p, relative ("24.0.2.0.192.rpz-ip"), into buf
 * (at least 96 bytes). Returns buf. */
char *blocklist_rpz_owner(const struct sk_prefix *p, char *buf, size_t len);

struct blocklist_opts {
    const char *origin;    /* rpz-ip: policy zone, default "rpz.sinkhole.invalid" */
    const char *soa_mname; /* rpz-ip: default "ns1.sinkhole.invalid" */
    const char *soa_rname; /* rpz-ip: default "hostmaster.sinkhole.invalid" */
    unsigned serial, ttl;  /* rpz-ip: default 1, 300 */
    const char *table;     /* nftables: default "sinkhole_blocklist" */
    const char *comment;   /* a header comment line, or NULL */
};

/* Write bl in fmt. Returns 0 or a negative error on a failed write. */
int blocklist_write(FILE *f, const struct blocklist *bl, enum blocklist_format fmt,
                    const struct blocklist_opts *o);

/* Parse "cidr", "nftables" or "rpz-ip". Returns 0 or SK_EINVAL. */
int blocklist_parse_format(const char *s, enum blocklist_format *fmt /* OUT */);

#endif
