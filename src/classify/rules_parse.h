/* classify/rules_parse.h -- the loader's state, shared by rules_parse.c
 * (lines, tokens, rule/end/set), rules_directive.c (match, botid) and
 * rules_reply.c (reply). Internal to src/classify/. */
#ifndef SK_CLASSIFY_RULES_PARSE_H
#define SK_CLASSIFY_RULES_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "classify/rules_internal.h"

#define RULES_TOKENS_MAX 128 /* items on one line */

enum rules_tok_op {
    RTOK_WORD = 0, /* a bare word: key only */
    RTOK_EQ,       /* KEY=VALUE */
    RTOK_NE,       /* KEY!=VALUE */
    RTOK_RE,       /* KEY~REGEX */
    RTOK_NRE,      /* KEY!~REGEX */
};

struct rules_tok {
    const char *key;
    size_t klen;
    uint8_t op; /* enum rules_tok_op */
    struct rules_val val;
};

struct rules_ctx {
    const char *path;
    FILE *errs;
    unsigned n_err;
    uint32_t line;
    const char *line_start;
    struct rules *r;
    struct rules_rule *cur; /* the open rule block, or NULL */
    bool cur_spare;         /* cur is the spare: past RULES_MAX, checked then dropped */
    bool too_many;
    struct rules_rule spare;
    uint32_t *names; /* open-addressing set of rule index + 1, by name */
    size_t names_cap, n_names;
};

/* Report "PATH:LINE: message" (counted; printed up to RULES_ERRORS_MAX). */
void rules__err(struct rules_ctx *c, uint32_t line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* p[0..n) for a message: non-printable bytes as \xHH, cut with "...". */
const char *rules__show(const char *p, size_t n, char *out, size_t cap);

/* True if token t is the bare key w. */
bool rules__word(const struct rules_tok *t, const char *w);

/* True if p[0..n) is a non-empty HTTP token (RFC 9110 tchar+). */
bool rules__is_token(const char *p, size_t n);

/* Find a field by key name; http.header.NAME sets *hname (free()).
 * Returns its kind, or -1 if there is no such field. */
int rules__lookup_field(const char *k, size_t n, uint8_t *field, char **hname, bool *icase);

/* Compile a regex (and JIT it); NULL after reporting a mistake. */
pcre2_code *rules__compile(struct rules_ctx *c, const char *what, const struct rules_val *v,
                           bool caseless);

/* rules_directive.c: the match and botid directives. */
void rules__directive_match(struct rules_ctx *c, const struct rules_tok *t, int n);
void rules__directive_botid(struct rules_ctx *c, const struct rules_tok *t, int n);
void rules__cond_free(struct rules_cond *cd);

/* rules_reply.c: the reply directive, and the checks at the rule's end. */
void rules__directive_reply(struct rules_ctx *c, const struct rules_tok *t, int n);
void rules__check_reply(struct rules_ctx *c, struct rules_rule *ru);

#endif
