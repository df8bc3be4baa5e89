/* classify/rules_parse.c -- read a rules file: lines, tokens, blocks, and
 * the `rule`, `end` and `set` directives (`match` and `botid` are in
 * rules_directive.c, `reply` in rules_reply.c).
 *
 * The whole file is read into memory and parsed line by line. Every
 * mistake is reported as "PATH:LINE: message" and parsing goes on, so one
 * run shows them all; any mistake fails the load and nothing of it is
 * kept. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "classify/rules_parse.h"
#include "core/err.h"
#include "core/xalloc.h"

/* ---- messages ---- */

void rules__err(struct rules_ctx *c, uint32_t line, const char *fmt, ...)
{
    if (c->n_err++ >= RULES_ERRORS_MAX || c->errs == NULL)
        return;
    fprintf(c->errs, "%s:%u: ", c->path, line);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(c->errs, fmt, ap);
    va_end(ap);
    fputc('\n', c->errs);
}

const char *rules__show(const char *p, size_t n, char *out, size_t cap)
{
    size_t k = 0;
    for (size_t i = 0; i < n && k + 8 < cap; i++) {
        unsigned char ch = (unsigned char)p[i];
        if (k + 12 >= cap) {
            memcpy(out + k, "...", 3);
            k += 3;
            break;
        }
        if (ch < 0x20 || ch >= 0x7f || ch == '\\')
            k += (size_t)snprintf(out + k, cap - k, "\\x%02x", ch);
        else
            out[k++] = (char)ch;
    }
    out[k] = '\0';
    return out;
}

/* ---- tokens ---- */

static bool is_space(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\v' || ch == '\f';
}

/* Split line p[0..n) into tokens. A token is a word, or KEY OP VALUE with
 * OP one of = != ~ !~ and VALUE either "quoted" (escapes kept for the
 * consumer) or bare up to white space (a bare value may hold a quoted part,
 * as in hex:"4d 5a"). '#' or ';' at the start of a token starts a comment.
 * Returns the number of tokens, or -1 after reporting a mistake. */
static int tokenize(struct rules_ctx *c, const char *p, size_t n, struct rules_tok *t, int max)
{
    int k = 0;
    size_t i = 0;
    char shown[80];
    for (;;) {
        while (i < n && is_space(p[i]))
            i++;
        if (i == n || p[i] == '#' || p[i] == ';')
            return k;
        if (k == max) {
            rules__err(c, c->line, "more than %d items on one line", max);
            return -1;
        }
        struct rules_tok *tk = &t[k];
        memset(tk, 0, sizeof(*tk));
        tk->key = p + i;
        while (i < n && !is_space(p[i]) && p[i] != '=' && p[i] != '~' && p[i] != '!' && p[i] != '"')
            i++;
        tk->klen = (size_t)(p + i - tk->key);
        if (i == n || is_space(p[i])) {
            tk->op = RTOK_WORD;
            k++;
            continue;
        }
        if (p[i] == '"' || tk->klen == 0 ||
            (p[i] == '!' && (i + 1 == n || (p[i + 1] != '=' && p[i + 1] != '~')))) {
            size_t e = i;
            while (e < n && !is_space(p[e]))
                e++;
            rules__err(c, c->line,
                       "expected a word, KEY=VALUE, KEY!=VALUE, KEY~REGEX or KEY!~REGEX, got '%s'",
                       rules__show(tk->key, (size_t)(p + e - tk->key), shown, sizeof(shown)));
            return -1;
        }
        if (p[i] == '!') {
            tk->op = p[i + 1] == '=' ? RTOK_NE : RTOK_NRE;
            i += 2;
        } else {
            tk->op = p[i] == '=' ? RTOK_EQ : RTOK_RE;
            i++;
        }
        size_t vs = i;
        bool whole_quoted = i < n && p[i] == '"';
        size_t close = 0, first_close = 0;
        while (i < n && !is_space(p[i])) {
            if (p[i] != '"') {
                i++;
                continue;
            }
            /* A quoted part: up to the next '"' not escaped by '\'. */
            size_t q = i++;
            while (i < n && p[i] != '"')
                i += p[i] == '\\' && i + 1 < n ? 2 : 1;
            if (i >= n) {
                rules__err(c, c->line, "%s: no closing '\"' for the quote at column %zu",
                           rules__show(tk->key, tk->klen, shown, sizeof(shown)),
                           (size_t)(p + q - c->line_start) + 1);
                return -1;
            }
            close = i++;
            if (first_close == 0)
                first_close = close;
        }
        if (whole_quoted && first_close + 1 != i) {
            rules__err(c, c->line,
                       "%s: a quoted value must be followed by a space or the end of the line",
                       rules__show(tk->key, tk->klen, shown, sizeof(shown)));
            return -1;
        }
        if (whole_quoted) {
            tk->val.p = p + vs + 1;
            tk->val.len = close - vs - 1;
            tk->val.quoted = true;
        } else {
            tk->val.p = p + vs;
            tk->val.len = i - vs;
            tk->val.quoted = false;
        }
        k++;
    }
}

bool rules__word(const struct rules_tok *t, const char *w)
{
    return t->klen == strlen(w) && memcmp(t->key, w, t->klen) == 0;
}

/* ---- rule, end, set ---- */

void rules__rule_free(struct rules_rule *ru)
{
    for (uint16_t i = 0; i < ru->n_conds; i++)
        rules__cond_free(&ru->conds[i]);
    free(ru->conds);
    for (uint8_t i = 0; i < ru->n_botids; i++) {
        free(ru->botids[i].hname);
        pcre2_code_free(ru->botids[i].re);
    }
    free(ru->botids);
    free(ru->reply_bytes);
    free(ru->reply_reason);
    free(ru->reply_headers);
    free(ru->reply_body);
    memset(ru, 0, sizeof(*ru));
}

static uint32_t name_hash(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

/* Index of the rule named name, or -1; with add, enter rule idx if absent. */
static long name_find(struct rules_ctx *c, const char *name, bool add, size_t idx)
{
    if (add && (c->n_names + 1) * 2 > c->names_cap) {
        size_t ncap = c->names_cap ? c->names_cap * 2 : 64;
        uint32_t *nt = xcalloc(ncap, sizeof(*nt));
        for (size_t i = 0; i < c->names_cap; i++) {
            if (c->names[i] == 0)
                continue;
            size_t j = name_hash(c->r->rules[c->names[i] - 1].name) & (ncap - 1);
            while (nt[j] != 0)
                j = (j + 1) & (ncap - 1);
            nt[j] = c->names[i];
        }
        free(c->names);
        c->names = nt;
        c->names_cap = ncap;
    }
    if (c->names_cap == 0)
        return -1;
    size_t j = name_hash(name) & (c->names_cap - 1);
    while (c->names[j] != 0) {
        if (strcmp(c->r->rules[c->names[j] - 1].name, name) == 0)
            return (long)c->names[j] - 1;
        j = (j + 1) & (c->names_cap - 1);
    }
    if (add) {
        c->names[j] = (uint32_t)idx + 1;
        c->n_names++;
    }
    return -1;
}

static bool name_ok(const char *p, size_t n, size_t max)
{
    if (n == 0 || n >= max)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = p[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '-' || ch == '_' || ch == '.'))
            return false;
    }
    return true;
}

/* Checks that need the whole block, then close it. */
static void rule_end(struct rules_ctx *c)
{
    struct rules_rule *ru = c->cur;
    /* Cheap conditions first: the outcome of an AND does not depend on
     * the order, only the time it takes (insertion sort keeps file order
     * among equals). */
    for (uint16_t i = 1; i < ru->n_conds; i++) {
        struct rules_cond x = ru->conds[i];
        uint16_t j = i;
        while (j > 0 && ru->conds[j - 1].cost > x.cost) {
            ru->conds[j] = ru->conds[j - 1];
            j--;
        }
        ru->conds[j] = x;
    }
    rules__check_reply(c, ru);
    /* Give back the room for conditions and botids not used. */
    if (ru->n_conds > 0)
        ru->conds = xrealloc(ru->conds, ru->n_conds * sizeof(*ru->conds));
    if (ru->n_botids > 0)
        ru->botids = xrealloc(ru->botids, ru->n_botids * sizeof(*ru->botids));
    if (c->cur_spare)
        rules__rule_free(ru);
    c->cur = NULL;
    c->cur_spare = false;
}

static void directive_rule(struct rules_ctx *c, const struct rules_tok *t, int n)
{
    char shown[80];
    if (c->cur != NULL) {
        rules__err(c, c->cur->line, "rule '%s' has no 'end' before the next rule (line %u)",
                   c->cur->name, c->line);
        rule_end(c);
    }
    struct rules *r = c->r;
    struct rules_rule *ru;
    if (r->n >= RULES_MAX) {
        if (r->n == RULES_MAX && !c->too_many) {
            rules__err(c, c->line, "more than %d rules", RULES_MAX);
            c->too_many = true;
        }
        memset(&c->spare, 0, sizeof(c->spare));
        ru = &c->spare;
        c->cur_spare = true;
    } else {
        if (r->n == r->cap) {
            r->cap = r->cap ? r->cap * 2 : 16;
            r->rules = xrealloc(r->rules, r->cap * sizeof(*r->rules));
        }
        ru = &r->rules[r->n];
        memset(ru, 0, sizeof(*ru));
    }
    ru->line = c->line;
    c->cur = ru;
    strcpy(ru->name, "?");
    if (n < 2 || t[1].op != RTOK_WORD) {
        rules__err(c, c->line, "rule: expected 'rule NAME family=FAMILY'");
    } else if (!name_ok(t[1].key, t[1].klen, RULES_NAME_MAX)) {
        rules__err(c, c->line, "rule: name '%s' must be 1 to %d letters, digits, '-', '_' or '.'",
                   rules__show(t[1].key, t[1].klen, shown, sizeof(shown)), RULES_NAME_MAX - 1);
    } else {
        memcpy(ru->name, t[1].key, t[1].klen);
        ru->name[t[1].klen] = '\0';
        long other = c->cur_spare ? -1 : name_find(c, ru->name, true, r->n);
        if (other >= 0)
            rules__err(c, c->line, "rule '%s' is already defined at line %u", ru->name,
                       r->rules[other].line);
    }
    bool has_family = false;
    for (int i = 2; i < n; i++) {
        if (!rules__word(&t[i], "family") || t[i].op != RTOK_EQ) {
            rules__err(c, c->line, "rule: unknown item '%s' (expected family=FAMILY)",
                       rules__show(t[i].key, t[i].klen, shown, sizeof(shown)));
            continue;
        }
        if (has_family)
            rules__err(c, c->line, "rule: family given twice");
        has_family = true;
        const struct rules_val *v = &t[i].val;
        if (v->len == 1 && v->p[0] == '-' && !v->quoted) {
            ru->family[0] = '\0';
        } else if (v->quoted || !name_ok(v->p, v->len, RULES_FAMILY_MAX)) {
            rules__err(
                c, c->line,
                "rule: family '%s' must be 1 to %d letters, digits, '-', '_' or '.' (or - for none)",
                rules__show(v->p, v->len, shown, sizeof(shown)), RULES_FAMILY_MAX - 1);
        } else {
            memcpy(ru->family, v->p, v->len);
            ru->family[v->len] = '\0';
        }
    }
    if (n >= 2 && !has_family)
        rules__err(c, c->line, "rule '%s': expected family=FAMILY (or family=- for none)",
                   ru->name);
    if (!c->cur_spare)
        r->n++;
}

static void directive_set(struct rules_ctx *c, const struct rules_tok *t, int n)
{
    char shown[80];
    if (n == 1)
        rules__err(c, c->line, "set: expected match_limit=N, depth_limit=N or heap_limit=KIB");
    for (int i = 1; i < n; i++) {
        const struct rules_tok *k = &t[i];
        uint32_t *dst = NULL, max = 0;
        if (rules__word(k, "match_limit")) {
            dst = &c->r->match_limit;
            max = 100000000;
        } else if (rules__word(k, "depth_limit")) {
            dst = &c->r->depth_limit;
            max = 10000000;
        } else if (rules__word(k, "heap_limit")) {
            dst = &c->r->heap_limit;
            max = 10000000;
        }
        rules__show(k->key, k->klen, shown, sizeof(shown));
        if (dst == NULL || k->op != RTOK_EQ) {
            rules__err(c, c->line, "set: unknown item '%s' (match_limit, depth_limit, heap_limit)",
                       shown);
            continue;
        }
        uint32_t v;
        const char *why =
            k->val.quoted ? "expected a number" : rules__number(k->val.p, k->val.len, max, &v);
        if (why == NULL && v == 0)
            why = "must be at least 1";
        if (why != NULL) {
            rules__err(c, c->line, "set: %s: expected 1 to %u", shown, max);
            continue;
        }
        *dst = v;
    }
}

/* ---- lines ---- */

static void line(struct rules_ctx *c, const char *p, size_t n)
{
    struct rules_tok t[RULES_TOKENS_MAX];
    char shown[80];
    if (memchr(p, '\0', n) != NULL) {
        rules__err(c, c->line, "NUL byte in the line");
        return;
    }
    c->line_start = p;
    int k = tokenize(c, p, n, t, RULES_TOKENS_MAX);
    if (k <= 0)
        return;
    if (t[0].op != RTOK_WORD) {
        rules__err(c, c->line, "expected rule, match, botid, reply, end or set, got '%s'",
                   rules__show(t[0].key, t[0].klen, shown, sizeof(shown)));
        return;
    }
    if (rules__word(&t[0], "rule")) {
        directive_rule(c, t, k);
        return;
    }
    if (rules__word(&t[0], "set")) {
        if (c->cur != NULL)
            rules__err(c, c->line, "set: only outside rules");
        else
            directive_set(c, t, k);
        return;
    }
    bool in_rule = rules__word(&t[0], "match") || rules__word(&t[0], "botid") ||
                   rules__word(&t[0], "reply") || rules__word(&t[0], "end");
    if (!in_rule) {
        rules__err(c, c->line, "unknown directive '%s' (rule, match, botid, reply, end, set)",
                   rules__show(t[0].key, t[0].klen, shown, sizeof(shown)));
        return;
    }
    if (c->cur == NULL) {
        rules__err(c, c->line, "'%s' outside a rule",
                   rules__show(t[0].key, t[0].klen, shown, sizeof(shown)));
        return;
    }
    if (rules__word(&t[0], "match")) {
        rules__directive_match(c, t, k);
    } else if (rules__word(&t[0], "botid")) {
        rules__directive_botid(c, t, k);
    } else if (rules__word(&t[0], "reply")) {
        rules__directive_reply(c, t, k);
    } else {
        if (k > 1)
            rules__err(c, c->line, "end: expected nothing after 'end'");
        rule_end(c);
    }
}

int rules_load_buf(const char *text, size_t len, const char *path, struct rules **out, FILE *errs)
{
    *out = NULL;
    struct rules *r = xcalloc(1, sizeof(*r));
    r->path = xstrdup(path);
    r->match_limit = RULES_MATCH_LIMIT_DEFAULT;
    r->depth_limit = RULES_DEPTH_LIMIT_DEFAULT;
    r->heap_limit = RULES_HEAP_LIMIT_DEFAULT;
    uint32_t has_jit = 0;
    r->jit = pcre2_config(PCRE2_CONFIG_JIT, &has_jit) >= 0 && has_jit == 1;

    struct rules_ctx c = { 0 };
    c.path = path;
    c.errs = errs;
    c.r = r;

    size_t pos = len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0 ? 3 : 0;
    while (pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - text) : len;
        c.line++;
        line(&c, text + pos, end - pos);
        pos = end + 1;
    }
    if (c.cur != NULL) {
        rules__err(&c, c.cur->line, "rule '%s' has no 'end'", c.cur->name);
        rule_end(&c);
    }
    if (c.n_err > RULES_ERRORS_MAX && errs != NULL)
        fprintf(errs, "%s: %u more errors not shown\n", path, c.n_err - RULES_ERRORS_MAX);
    free(c.names);
    if (c.n_err > 0) {
        rules_free(r);
        return SK_ECONFIG;
    }
    rules__index(r);
    *out = r;
    return 0;
}

int rules_load(const char *path, struct rules **out, FILE *errs)
{
    *out = NULL;
    uint8_t *text;
    size_t len;
    int rc = rules__read_file(path, RULES_TEXT_MAX, &text, &len);
    if (rc != 0) {
        if (errs != NULL && rc == SK_ENOSPACE)
            fprintf(errs, "%s: larger than %d bytes\n", path, RULES_TEXT_MAX);
        else if (errs != NULL && rc == SK_EINVAL)
            fprintf(errs, "%s: not a regular file\n", path);
        else if (errs != NULL)
            fprintf(errs, "%s: %s\n", path, sk_strerror(rc));
        return rc == SK_ENOSPACE ? SK_EINVAL : rc;
    }
    rc = rules_load_buf((const char *)text, len, path, out, errs);
    free(text);
    return rc;
}
