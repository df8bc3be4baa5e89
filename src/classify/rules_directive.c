/* classify/rules_directive.c -- the match and botid directives of a rules
 * file: field names, conditions (ranges, sets, byte patterns, value lists,
 * regexes compiled and JIT-compiled here, once) and bot-id extraction
 * settings. Called by the line parser in rules_parse.c. */
#include <stdlib.h>
#include <string.h>

#include "classify/rules_parse.h"
#include "core/xalloc.h"

/* ---- fields ---- */

struct field_def {
    const char *name;
    uint8_t field;
    uint8_t kind; /* FK_* */
    bool icase;   /* values compare without ASCII case; regexes are caseless */
};

enum { FK_RANGE = 0, FK_SET, FK_STRING };

static const struct field_def fields[] = {
    { "port", RF_PORT, FK_RANGE, false },
    { "len", RF_LEN, FK_RANGE, false },
    { "transport", RF_TRANSPORT, FK_SET, false },
    { "proto", RF_PROTO, FK_SET, false },
    { "bytes", RF_BYTES, FK_STRING, false },
    { "http.method", RF_HTTP_METHOD, FK_STRING, false },
    { "http.url", RF_HTTP_URL, FK_STRING, false },
    { "http.path", RF_HTTP_PATH, FK_STRING, false },
    { "http.query", RF_HTTP_QUERY, FK_STRING, false },
    { "http.host", RF_HTTP_HOST, FK_STRING, true },
    { "http.version", RF_HTTP_VERSION, FK_STRING, false },
    { "http.body", RF_HTTP_BODY, FK_STRING, false },
    { "tls.sni", RF_TLS_SNI, FK_STRING, true },
    { "tls.alpn", RF_TLS_ALPN, FK_STRING, false },
    { "tls.version", RF_TLS_VERSION, FK_STRING, false },
    { "tls.ja3", RF_TLS_JA3, FK_STRING, true },
    { "tls.ja4", RF_TLS_JA4, FK_STRING, true },
    { "ja3", RF_TLS_JA3, FK_STRING, true },
    { "ja4", RF_TLS_JA4, FK_STRING, true },
};

#define HEADER_PREFIX "http.header."

static bool is_tchar(unsigned char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           (ch != 0 && strchr("!#$%&'*+-.^_`|~", ch) != NULL);
}

bool rules__is_token(const char *p, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!is_tchar((unsigned char)p[i]))
            return false;
    return true;
}

int rules__lookup_field(const char *k, size_t n, uint8_t *field, char **hname, bool *icase)
{
    *hname = NULL;
    *icase = false;
    size_t hp = sizeof(HEADER_PREFIX) - 1;
    if (n > hp && memcmp(k, HEADER_PREFIX, hp) == 0) {
        if (!rules__is_token(k + hp, n - hp))
            return -1;
        *field = RF_HTTP_HEADER;
        *hname = xstrndup(k + hp, n - hp);
        return FK_STRING;
    }
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        if (strlen(fields[i].name) == n && memcmp(fields[i].name, k, n) == 0) {
            *field = fields[i].field;
            *icase = fields[i].icase;
            return fields[i].kind;
        }
    }
    return -1;
}

/* ---- regexes ---- */

pcre2_code *rules__compile(struct rules_ctx *c, const char *what, const struct rules_val *v,
                           bool caseless)
{
    char shown[80];
    if (v->len > RULES_REGEX_MAX) {
        rules__err(c, c->line, "%s: regex longer than %d characters", what, RULES_REGEX_MAX);
        return NULL;
    }
    int ec;
    PCRE2_SIZE eoff;
    /* Input is bytes, not text: no UTF mode, and a pattern cannot turn it
     * on with (*UTF), since invalid UTF-8 from a bot would then fail. */
    uint32_t opts = PCRE2_NEVER_UTF | PCRE2_NEVER_UCP | (caseless ? PCRE2_CASELESS : 0);
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)v->p, v->len, opts, &ec, &eoff, NULL);
    if (re == NULL) {
        PCRE2_UCHAR msg[256];
        if (pcre2_get_error_message(ec, msg, sizeof(msg)) < 0)
            strcpy((char *)msg, "unknown error");
        rules__err(c, c->line, "%s: bad regex '%s' at offset %zu: %s", what,
                   rules__show(v->p, v->len, shown, sizeof(shown)), (size_t)eoff, (char *)msg);
        return NULL;
    }
    if (c->r->jit && pcre2_jit_compile(re, PCRE2_JIT_COMPLETE) != 0)
        c->r->jit = false;
    return re;
}

/* ---- match ---- */

static const char *parse_set(const char *p, size_t n, uint8_t field, uint8_t *set)
{
    static const struct {
        const char *name;
        uint8_t field, bit;
    } names[] = {
        { "tcp", RF_TRANSPORT, RT_TCP }, { "udp", RF_TRANSPORT, RT_UDP },
        { "http", RF_PROTO, RP_HTTP },   { "tls", RF_PROTO, RP_TLS },
        { "raw", RF_PROTO, RP_RAW },     { "silent", RF_PROTO, RP_SILENT },
    };
    *set = 0;
    size_t pos = 0;
    for (;;) {
        const char *comma = memchr(p + pos, ',', n - pos);
        size_t end = comma ? (size_t)(comma - p) : n;
        bool found = false;
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
            if (names[i].field == field && strlen(names[i].name) == end - pos &&
                memcmp(names[i].name, p + pos, end - pos) == 0) {
                *set |= names[i].bit;
                found = true;
            }
        }
        if (!found)
            return field == RF_TRANSPORT ? "expected tcp or udp"
                                         : "expected http, tls, raw or silent";
        if (comma == NULL)
            return NULL;
        pos = end + 1;
    }
}

static bool is_hex32(const uint8_t *p, size_t n)
{
    if (n != TLS_JA3_HASH_LEN)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!strchr("0123456789abcdefABCDEF", p[i]) || p[i] == 0)
            return false;
    return true;
}

/* KEY=a,b,c (bare: a list) or KEY="text" (one value). */
static const char *parse_values(const struct rules_tok *t, bool icase, uint8_t field,
                                struct rules_cond *cd)
{
    cd->vals = xcalloc(RULES_LIST_MAX, sizeof(*cd->vals));
    size_t pos = 0;
    for (;;) {
        struct rules_val one = t->val;
        const char *comma = NULL;
        if (!t->val.quoted) {
            comma = memchr(t->val.p + pos, ',', t->val.len - pos);
            size_t end = comma ? (size_t)(comma - t->val.p) : t->val.len;
            one.p = t->val.p + pos;
            one.len = end - pos;
            pos = end + 1;
            if (one.len == 0)
                return "empty value (quote it: KEY=\"\")";
        }
        if (cd->n_vals == RULES_LIST_MAX)
            return "too many values";
        struct rules_str *s = &cd->vals[cd->n_vals];
        const char *why = rules__text(&one, &s->p, &s->len);
        if (why != NULL)
            return why;
        cd->n_vals++;
        if (icase)
            for (size_t i = 0; i < s->len; i++)
                if (s->p[i] >= 'A' && s->p[i] <= 'Z')
                    s->p[i] = (uint8_t)(s->p[i] + 32);
        if (field == RF_TLS_JA3 && !is_hex32(s->p, s->len))
            return "a JA3 hash is 32 hex digits";
        if (comma == NULL)
            return NULL;
    }
}

void rules__cond_free(struct rules_cond *cd)
{
    free(cd->hname);
    free(cd->ranges);
    for (uint16_t i = 0; i < cd->n_vals; i++)
        free(cd->vals[i].p);
    free(cd->vals);
    free(cd->pat);
    free(cd->mask);
    pcre2_code_free(cd->re);
}

/* One condition of a match line; false after reporting a mistake. */
static bool parse_cond(struct rules_ctx *c, const struct rules_tok *t, struct rules_cond *cd)
{
    char key[80], shown[80];
    rules__show(t->key, t->klen, key, sizeof(key));
    if (t->op == RTOK_WORD) {
        rules__err(c, c->line,
                   "match: expected KEY=VALUE, KEY!=VALUE, KEY~REGEX or KEY!~REGEX, got '%s'", key);
        return false;
    }
    memset(cd, 0, sizeof(*cd));
    cd->negate = t->op == RTOK_NE || t->op == RTOK_NRE;
    cd->op = t->op == RTOK_RE || t->op == RTOK_NRE ? ROP_RE : ROP_EQ;
    const char *why = NULL;
    bool icase = false;
    int kind;

    /* bytes@OFFSET=pattern, and bytes=pattern for offset 0. */
    const char *at = memchr(t->key, '@', t->klen);
    if ((at != NULL && (size_t)(at - t->key) == 5 && memcmp(t->key, "bytes", 5) == 0) ||
        (rules__word(t, "bytes") && cd->op == ROP_EQ)) {
        cd->field = RF_BYTES_AT;
        cd->cost = 1;
        if (cd->op == ROP_RE) {
            rules__err(c, c->line,
                       "%s: a pattern at an offset takes = or !=; for a regex use bytes~", key);
            return false;
        }
        if (at != NULL)
            why = rules__number(at + 1, t->klen - 6, 1u << 20, &cd->off);
        if (why == NULL)
            why = rules__bytes(&t->val, &cd->pat, &cd->mask, &cd->pat_len);
        if (why != NULL) {
            rules__err(c, c->line, "%s: %s", key, why);
            rules__cond_free(cd);
            return false;
        }
        return true;
    }
    kind = rules__lookup_field(t->key, t->klen, &cd->field, &cd->hname, &icase);
    if (kind < 0) {
        rules__err(
            c, c->line,
            "match: unknown key '%s' (port, len, transport, proto, bytes@N, bytes, http.method, http.url, http.path, http.query, http.host, http.version, http.header.NAME, http.body, tls.sni, tls.alpn, tls.version, tls.ja3, tls.ja4)",
            key);
        return false;
    }
    if (kind != FK_STRING && cd->op == ROP_RE) {
        rules__err(c, c->line, "%s: takes = or !=, not a regex", key);
        return false;
    }
    if (kind == FK_RANGE) {
        cd->cost = 0;
        why = t->val.quoted
                  ? "expected a number or range, not a quoted value"
                  : rules__ranges(t->val.p, t->val.len, cd->field == RF_PORT ? 65535 : UINT32_MAX,
                                  &cd->ranges, &cd->n_ranges);
    } else if (kind == FK_SET) {
        cd->cost = 0;
        why = parse_set(t->val.p, t->val.len, cd->field, &cd->set);
    } else if (cd->op == ROP_RE) {
        cd->cost = 4;
        cd->re = rules__compile(c, key, &t->val, icase);
        if (cd->re == NULL) {
            rules__cond_free(cd);
            return false;
        }
    } else {
        cd->cost = cd->field == RF_TLS_JA3 || cd->field == RF_TLS_JA4 ? 3 : 2;
        why = parse_values(t, icase, cd->field, cd);
    }
    if (why != NULL) {
        rules__err(c, c->line, "%s: %s, got '%s'", key, why,
                   rules__show(t->val.p, t->val.len, shown, sizeof(shown)));
        rules__cond_free(cd);
        return false;
    }
    return true;
}

void rules__directive_match(struct rules_ctx *c, const struct rules_tok *t, int n)
{
    struct rules_rule *ru = c->cur;
    if (n == 1)
        rules__err(c, c->line, "match: expected at least one condition");
    for (int i = 1; i < n; i++) {
        struct rules_cond cd;
        if (!parse_cond(c, &t[i], &cd))
            continue;
        if (ru->n_conds == RULES_CONDS_MAX) {
            rules__err(c, c->line, "rule '%s' has more than %d conditions", ru->name,
                       RULES_CONDS_MAX);
            rules__cond_free(&cd);
            return;
        }
        if (ru->conds == NULL)
            ru->conds = xcalloc(RULES_CONDS_MAX, sizeof(*ru->conds));
        ru->conds[ru->n_conds++] = cd;
    }
}

/* ---- botid ---- */

static bool codec(const struct rules_tok *t, bool decode, uint8_t *out)
{
    if (t->val.quoted)
        return false;
    static const struct {
        const char *name;
        uint8_t v;
        bool dec, enc;
    } tab[] = {
        { "none", RC_NONE, true, false },
        { "hex", RC_HEX, true, true },
        { "base64", RC_BASE64, true, true },
        { "text", RC_TEXT, false, true },
    };
    for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
        if (strlen(tab[i].name) == t->val.len && memcmp(tab[i].name, t->val.p, t->val.len) == 0 &&
            (decode ? tab[i].dec : tab[i].enc)) {
            *out = tab[i].v;
            return true;
        }
    }
    return false;
}

void rules__directive_botid(struct rules_ctx *c, const struct rules_tok *t, int n)
{
    struct rules_rule *ru = c->cur;
    struct rules_botid b = { 0 };
    bool has_regex = false, has_range = false, has_group = false, has_encode = false, ok = true;
    const struct rules_tok *regex = NULL;
    bool from_icase = false;
    char key[80], shown[80];
    b.from = RF_BYTES;
    b.decode = RC_NONE;
    for (int i = 1; i < n; i++) {
        const struct rules_tok *k = &t[i];
        rules__show(k->key, k->klen, key, sizeof(key));
        if (k->op != RTOK_EQ) {
            rules__err(c, c->line, "botid: expected KEY=VALUE, got '%s'", key);
            ok = false;
        } else if (rules__word(k, "regex")) {
            has_regex = true;
            regex = k;
        } else if (rules__word(k, "bytes")) {
            /* OFFSET+LENGTH */
            const char *plus = memchr(k->val.p, '+', k->val.len);
            const char *why = plus == NULL || k->val.quoted ? "expected OFFSET+LENGTH" : NULL;
            if (why == NULL)
                why = rules__number(k->val.p, (size_t)(plus - k->val.p), 1u << 20, &b.off);
            if (why == NULL)
                why = rules__number(plus + 1, k->val.len - (size_t)(plus + 1 - k->val.p),
                                    RULES_BOTID_SRC, &b.len);
            if (why == NULL && b.len == 0)
                why = "the length must be at least 1";
            if (why != NULL) {
                rules__err(c, c->line, "botid: bytes: %s (length at most %d), got '%s'", why,
                           RULES_BOTID_SRC,
                           rules__show(k->val.p, k->val.len, shown, sizeof(shown)));
                ok = false;
            }
            has_range = true;
        } else if (rules__word(k, "from")) {
            free(b.hname);
            int kind = rules__lookup_field(k->val.p, k->val.len, &b.from, &b.hname, &from_icase);
            if (kind != FK_STRING) {
                rules__err(
                    c, c->line,
                    "botid: from: expected bytes, http.method, http.url, http.path, http.query, http.host, http.version, http.header.NAME, http.body, tls.sni, tls.alpn, tls.version, tls.ja3 or tls.ja4, got '%s'",
                    rules__show(k->val.p, k->val.len, shown, sizeof(shown)));
                ok = false;
            }
        } else if (rules__word(k, "group")) {
            const char *why = rules__number(k->val.p, k->val.len, RULES_GROUPS - 1, &b.group);
            if (why != NULL) {
                rules__err(c, c->line, "botid: group: expected 0 to %d, got '%s'", RULES_GROUPS - 1,
                           rules__show(k->val.p, k->val.len, shown, sizeof(shown)));
                ok = false;
            }
            has_group = true;
        } else if (rules__word(k, "decode")) {
            if (!codec(k, true, &b.decode)) {
                rules__err(c, c->line, "botid: decode: expected none, hex or base64, got '%s'",
                           rules__show(k->val.p, k->val.len, shown, sizeof(shown)));
                ok = false;
            }
        } else if (rules__word(k, "encode")) {
            if (!codec(k, false, &b.encode)) {
                rules__err(c, c->line, "botid: encode: expected hex, base64 or text, got '%s'",
                           rules__show(k->val.p, k->val.len, shown, sizeof(shown)));
                ok = false;
            }
            has_encode = true;
        } else if (rules__word(k, "case")) {
            if (k->val.len == 5 && memcmp(k->val.p, "lower", 5) == 0)
                b.casing = RCASE_LOWER;
            else if (k->val.len == 5 && memcmp(k->val.p, "upper", 5) == 0)
                b.casing = RCASE_UPPER;
            else {
                rules__err(c, c->line, "botid: case: expected lower or upper, got '%s'",
                           rules__show(k->val.p, k->val.len, shown, sizeof(shown)));
                ok = false;
            }
        } else {
            rules__err(c, c->line,
                       "botid: unknown key '%s' (regex, bytes, from, group, decode, encode, case)",
                       key);
            ok = false;
        }
    }
    if (has_regex == has_range) {
        rules__err(c, c->line, "botid: expected one of regex=REGEX or bytes=OFFSET+LENGTH");
        ok = false;
    }
    if (has_group && !has_regex) {
        rules__err(c, c->line, "botid: group goes with regex");
        ok = false;
    }
    if (ok && has_regex) {
        b.kind = RB_REGEX;
        b.re = rules__compile(c, "botid: regex", &regex->val, from_icase);
        if (b.re == NULL) {
            ok = false;
        } else {
            uint32_t groups = 0;
            pcre2_pattern_info(b.re, PCRE2_INFO_CAPTURECOUNT, &groups);
            if (!has_group)
                b.group = groups > 0 ? 1 : 0;
            if (b.group > groups) {
                rules__err(c, c->line, "botid: group %u, but the regex has %u capture groups",
                           b.group, groups);
                ok = false;
            }
        }
    }
    if (has_range)
        b.kind = RB_RANGE;
    if (!has_encode)
        b.encode = has_range || b.decode != RC_NONE ? RC_HEX : RC_TEXT;
    if (ok && ru->n_botids == RULES_BOTIDS_MAX) {
        rules__err(c, c->line, "rule '%s' has more than %d botid lines", ru->name,
                   RULES_BOTIDS_MAX);
        ok = false;
    }
    if (!ok) {
        free(b.hname);
        pcre2_code_free(b.re);
        return;
    }
    if (ru->botids == NULL)
        ru->botids = xcalloc(RULES_BOTIDS_MAX, sizeof(*ru->botids));
    ru->botids[ru->n_botids++] = b;
}
