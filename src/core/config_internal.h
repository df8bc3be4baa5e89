/* core/config_internal.h -- what the config parser's files share.
 *
 * config.c reads the file and holds the [server], [dns], [seized.*],
 * [classify] and [log] sections; config_listener.c holds [listener.*].
 * Both report through config__error() into the same parse context, and
 * parse values with the same few helpers, so every key of every section
 * reads and fails the same way. Nothing here is for other modules. */
#ifndef SK_CORE_CONFIG_INTERNAL_H
#define SK_CORE_CONFIG_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core/config.h"

enum cfg_section_kind {
    SEC_NONE = 0, /* before the first section header */
    SEC_SERVER,
    SEC_DNS,
    SEC_SEIZED,
    SEC_LISTENER,
    SEC_CLASSIFY,
    SEC_LOG,
    SEC_IGNORED, /* unknown, misnamed or repeated: reported at its header */
};

struct parse_ctx {
    const char *path;
    FILE *fp;
    FILE *errs;
    int line; /* the line being read; messages say PATH:line */
    int errors;
    struct sk_config *cfg;

    /* The section being read. Sections begin in the line reader, which
     * sees every header (inih says nothing about a section without keys),
     * and end at the next header or at the end of the file. */
    enum cfg_section_kind sec;
    char cur_section[CFG_NAME_MAX + 16];
    struct cfg_seized *cur_seized;     /* SEC_SEIZED */
    struct cfg_listener *cur_listener; /* SEC_LISTENER */

    /* inih's view of the line: indented lines continue the previous key
     * once the section has one (have_key, inih's prev_name). */
    bool cont;       /* the current line continues the previous key */
    bool have_key;   /* a key was read since the last header */
    bool continuing; /* the value handed to a key parser is such a line */
    char last_key[32];
    char seen[64][32]; /* keys seen in the current section, to catch repeats */
    int nseen;

    /* Lines of [dns] listen addresses, for overlap messages. */
    int dns_listen_line[CFG_LISTEN_MAX];
    /* Lines of the current listener's addresses and of the keys that are
     * checked against each other when the section ends (0: not given). */
    int lis_addr_line[CFG_LISTEN_MAX];
    int lis_tls_line, lis_cert_line, lis_key_line, lis_cn_line, lis_sniff_line;
};

/* "PATH:LINE: message" to c->errs (line 0: "PATH: message"); counts it. */
void config__error(struct parse_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Value parsers: each returns 0, or reports "KEY: ..." and returns -1. */
int config__u32(struct parse_ctx *c, const char *key, const char *v, uint32_t min, uint32_t max,
                uint32_t *out /* OUT */);
int config__u64(struct parse_ctx *c, const char *key, const char *v, uint64_t min, uint64_t max,
                uint64_t *out /* OUT */);
/* 1 to CFG_NAME_MAX - 1 letters, digits, '-', '_', '.'. */
int config__name(struct parse_ctx *c, const char *key, const char *v, char *out /* OUT */);
/* proxy_protocol = no | addresses and prefixes; plain addresses are /32
 * or /128. */
int config__trusted(struct parse_ctx *c, const char *key, const char *v, struct sk_prefix *p,
                    int *n, int max);
/* Split v on white space and commas; calls fn for each token. At least
 * one token is required. */
int config__tokens(struct parse_ctx *c, const char *key, const char *v,
                   int (*fn)(struct parse_ctx *, const char *, const char *, void *), void *arg);
/* path (already resolved) names a regular file this process can read. */
int config__readable_file(struct parse_ctx *c, const char *key, const char *path);

/* True if a and b cannot both be bound: same family and port, and the same
 * address or either one the wildcard (0.0.0.0, ::). Port 0 never overlaps:
 * each such socket gets a port of its own. */
bool config__addr_overlap(const struct sk_ip *a, const struct sk_ip *b);

/* [listener.NAME]: begin (c->line at the header), one key, end of the
 * section (the checks between its keys and against earlier sections). */
void config__listener_begin(struct parse_ctx *c, const char *name);
int config__listener_key(struct parse_ctx *c, const char *key, const char *v);
void config__listener_end(struct parse_ctx *c);
/* A [dns] listen address against the listeners read so far. */
void config__listener_dns_overlap(struct parse_ctx *c, const struct sk_ip *ip);
/* After the whole file: defaults that depend on other sections. */
void config__listeners_finish(struct parse_ctx *c);
void config__listeners_free(struct sk_config *cfg);

#endif
