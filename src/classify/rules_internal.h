/* classify/rules_internal.h -- the loaded form of a rules file, shared by
 * the loader (rules_parse.c, rules_value.c), the matcher (rules.c) and the
 * bot-id code (rules_botid.c). Nothing outside src/classify/ includes it
 * except the module's tests. */
#ifndef SK_CLASSIFY_RULES_INTERNAL_H
#define SK_CLASSIFY_RULES_INTERNAL_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "classify/rules.h"

#define RULES_CONDS_MAX   64   /* conditions of one rule */
#define RULES_BOTIDS_MAX  8    /* botid directives of one rule */
#define RULES_LIST_MAX    64   /* alternatives of one `=` condition */
#define RULES_PATTERN_MAX 1024 /* bytes of a bytes@ pattern or a literal value */
#define RULES_REGEX_MAX   4096 /* characters of one regex */
#define RULES_HEADERS_MAX 4096 /* bytes of a reply's extra headers */
#define RULES_GROUPS      16   /* capture pairs in the match data: groups 0..15 */
#define RULES_BOTID_SRC   1024 /* bytes of a bot id before decoding and encoding */

/* What a condition or a botid reads. */
enum rules_field {
    RF_PORT = 0,
    RF_TRANSPORT,
    RF_PROTO,
    RF_LEN,
    RF_BYTES_AT, /* bytes@OFFSET=pattern */
    RF_BYTES,    /* the contact's bytes as a string */
    RF_HTTP_METHOD,
    RF_HTTP_URL,
    RF_HTTP_PATH,
    RF_HTTP_QUERY,
    RF_HTTP_HOST,
    RF_HTTP_VERSION,
    RF_HTTP_HEADER, /* http.header.NAME */
    RF_HTTP_BODY,
    RF_TLS_SNI,
    RF_TLS_ALPN,
    RF_TLS_VERSION,
    RF_TLS_JA3,
    RF_TLS_JA4,
    RF_COUNT
};

enum rules_op {
    ROP_EQ = 0, /* one of a list of values (or a byte pattern) */
    ROP_RE,     /* regex */
};

/* Bits of RF_TRANSPORT and RF_PROTO sets. */
#define RT_TCP    0x01
#define RT_UDP    0x02
#define RP_HTTP   0x01
#define RP_TLS    0x02
#define RP_RAW    0x04
#define RP_SILENT 0x08

struct rules_range {
    uint32_t lo, hi;
};

struct rules_str {
    uint8_t *p; /* NUL-terminated too, for convenience */
    size_t len;
};

struct rules_cond {
    uint8_t field; /* enum rules_field */
    uint8_t op;    /* enum rules_op */
    bool negate;   /* != or !~ */
    uint8_t cost;  /* evaluation order within a rule: cheap first */
    char *hname;   /* RF_HTTP_HEADER: the header name */

    uint8_t set;                /* RF_TRANSPORT (RT_*), RF_PROTO (RP_*) */
    struct rules_range *ranges; /* RF_PORT, RF_LEN */
    uint16_t n_ranges;
    struct rules_str *vals; /* ROP_EQ on a string field */
    uint16_t n_vals;
    uint32_t off; /* RF_BYTES_AT */
    uint8_t *pat; /* RF_BYTES_AT: bytes, and mask (0xff: must equal) */
    uint8_t *mask;
    size_t pat_len;
    pcre2_code *re; /* ROP_RE */
};

enum rules_botid_kind { RB_REGEX = 0, RB_RANGE };
enum rules_codec { RC_NONE = 0, RC_HEX, RC_BASE64, RC_TEXT };
enum rules_case { RCASE_KEEP = 0, RCASE_LOWER, RCASE_UPPER };

struct rules_botid {
    uint8_t kind;      /* enum rules_botid_kind */
    uint8_t from;      /* enum rules_field: a string field */
    char *hname;       /* from=http.header.NAME */
    pcre2_code *re;    /* RB_REGEX */
    uint32_t group;    /* RB_REGEX: capture group */
    uint32_t off, len; /* RB_RANGE */
    uint8_t decode;    /* RC_NONE, RC_HEX, RC_BASE64 */
    uint8_t encode;    /* RC_HEX, RC_BASE64, RC_TEXT */
    uint8_t casing;    /* enum rules_case */
};

struct rules_rule {
    char name[RULES_NAME_MAX];
    char family[RULES_FAMILY_MAX];
    uint32_t line;
    struct rules_cond *conds;
    uint16_t n_conds;
    struct rules_botid *botids;
    uint8_t n_botids;
    bool has_reply;
    uint32_t reply_line;
    struct rules_reply reply;
    /* Buffers the reply points into, owned by the rule. */
    uint8_t *reply_bytes;
    char *reply_reason;
    char *reply_headers;
    uint8_t *reply_body;
};

/* What a rule can match at most, for rejecting it without touching its
 * conditions: kept in an array of its own, 6 bytes a rule, so a scan over
 * thousands of rules stays in cache. */
struct rules_quick {
    uint8_t transport; /* RT_* bits the rule allows */
    uint8_t proto;     /* RP_* bits */
    uint16_t port_lo, port_hi;
};

struct rules {
    char *path;
    struct rules_rule *rules;
    struct rules_quick *quick; /* one per rule, built by rules__index() */
    size_t n, cap;
    uint32_t match_limit, depth_limit, heap_limit;
    bool jit;
};

/* Free what rule ru owns and zero it (rules_parse.c). */
void rules__rule_free(struct rules_rule *ru);

/* ---- rules_value.c: values of directives ---- */

/* A token's value as written: between quotes if it starts with '"'. */
struct rules_val {
    const char *p;
    size_t len;
    bool quoted; /* p[0..len) is the text between the quotes, escapes unresolved */
};

/* Decode the escapes of a quoted text (\\ \" \n \r \t \0 \xHH) or copy a
 * bare one, into a new buffer *out of *out_len bytes (NUL-terminated).
 * Returns NULL or a static message. */
const char *rules__text(const struct rules_val *v, uint8_t **out, size_t *out_len);

/* A byte string: hex:HEX (bare, or quoted with spaces or ':' between
 * bytes), "text", or bare text. With mask non-NULL, "??" in hex is a
 * wildcard byte (mask 0x00). Returns NULL or a static message. */
const char *rules__bytes(const struct rules_val *v, uint8_t **out, uint8_t **mask, size_t *len);

/* A number 0..max in decimal or 0x hex. Returns NULL or a message. */
const char *rules__number(const char *p, size_t len, uint32_t max, uint32_t *out);

/* Comma-separated numbers or ranges LO-HI within 0..max. */
const char *rules__ranges(const char *p, size_t len, uint32_t max, struct rules_range **out,
                          uint16_t *n);

/* Read the file at path (regular, at most RULES_FILE_MAX bytes) into a new
 * buffer. Returns 0, or -errno / SK_EINVAL (not a regular file) /
 * SK_ENOSPACE (too large). */
int rules__read_file(const char *path, size_t max, uint8_t **out, size_t *len);

/* ---- rules_botid.c ---- */

/* Run the botid directives of rule in order; the first that yields an id
 * fills out->bot_id. Returns the number of regex runs stopped by a limit. */
uint32_t rules__botid(const struct rules_rule *rule, const struct rules_input *in,
                      struct rules_scratch *s, struct rules_result *out);

/* ---- rules.c: shared with the loader and rules_botid.c ---- */

/* Build r->quick from the loaded rules. */
void rules__index(struct rules *r);

struct rules_scratch {
    pcre2_match_data *md;
    pcre2_match_context *mctx;
    pcre2_jit_stack *jit;
    uint64_t limit_hits;
    bool use_jit; /* per call: every regex of the rules was JIT-compiled */
    /* Per call: fingerprints computed on demand (0 not yet, 1 done, 2
     * failed), version strings. */
    uint8_t ja3_done, ja4_done;
    char ja3[TLS_JA3_HASH_LEN + 1];
    char ja4[TLS_JA4_LEN + 1];
    char ver[16];
    uint8_t buf[RULES_BOTID_SRC]; /* bot id bytes being decoded */
};

/* One value of a field of the contact. Multi-valued fields (a repeated
 * header, ALPN names) give one per call: start with *iter = 0; returns
 * false when there are no more. */
bool rules__field_next(const struct rules_input *in, struct rules_scratch *s, uint8_t field,
                       const char *hname, size_t *iter, const uint8_t **p, size_t *len);

/* pcre2_match() over p[0..len) with the limits rules_classify() set in
 * s. Returns 1 (match; ovector in s->md), 0 (no match) or -1 (stopped by a
 * limit or an error). */
int rules__regex(struct rules_scratch *s, const pcre2_code *re, const uint8_t *p, size_t len);

/* The value of one hex digit, or -1. */
static inline int rules__hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

#endif
