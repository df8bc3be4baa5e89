/* classify/rules_reply.c -- the reply directive of a rules file:
 *
 *     reply close | reply tarpit
 *     reply bytes=BYTES [then=close|read|tarpit]
 *     reply banner=BYTES [then=...]          (bytes, then read by default)
 *     reply http [status=N] [reason=TEXT] [header="Name: value"]...
 *                [body=BYTES] [then=...]
 *
 * BYTES is hex:..., "text" or @path; a file is read now, at load time,
 * with its path relative to the rules file's folder, so a reply is always
 * answered from memory. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "classify/rules_parse.h"
#include "core/config.h"
#include "core/err.h"
#include "core/xalloc.h"

/* A reply's bytes: @path (read now) or a byte string. empty_ok lets a
 * quoted "" stand for no bytes. Returns false after reporting. */
static bool reply_bytes(struct rules_ctx *c, const char *what, const struct rules_val *v,
                        bool empty_ok, uint8_t **out, size_t *len)
{
    char shown[80];
    if (!v->quoted && v->len > 0 && v->p[0] == '@') {
        struct rules_val pv = { v->p + 1, v->len - 1, false };
        if (pv.len >= 2 && pv.p[0] == '"' && pv.p[pv.len - 1] == '"') {
            pv.p++;
            pv.len -= 2;
            pv.quoted = true;
        }
        uint8_t *name = NULL;
        size_t nlen = 0;
        const char *why = rules__text(&pv, &name, &nlen);
        if (why == NULL && (nlen == 0 || memchr(name, '\0', nlen) != NULL))
            why = "expected @PATH";
        if (why != NULL) {
            free(name);
            rules__err(c, c->line, "reply: %s: %s", what, why);
            return false;
        }
        char *path = config_resolve_path(c->path, (const char *)name);
        free(name);
        int rc = rules__read_file(path, RULES_FILE_MAX, out, len);
        if (rc != 0) {
            if (rc == SK_ENOSPACE)
                rules__err(c, c->line, "reply: %s: %s is larger than %d bytes", what,
                           rules__show(path, strlen(path), shown, sizeof(shown)), RULES_FILE_MAX);
            else if (rc == SK_EINVAL)
                rules__err(c, c->line, "reply: %s: %s is not a regular file", what,
                           rules__show(path, strlen(path), shown, sizeof(shown)));
            else
                rules__err(c, c->line, "reply: %s: cannot read %s: %s", what,
                           rules__show(path, strlen(path), shown, sizeof(shown)), sk_strerror(rc));
        }
        free(path);
        return rc == 0;
    }
    if (empty_ok && v->quoted && v->len == 0) {
        *out = xcalloc(1, 1);
        *len = 0;
        return true;
    }
    const char *why = rules__bytes(v, out, NULL, len);
    if (why != NULL) {
        rules__err(c, c->line, "reply: %s: %s, got '%s'", what, why,
                   rules__show(v->p, v->len, shown, sizeof(shown)));
        return false;
    }
    return true;
}

static bool parse_then(struct rules_ctx *c, const struct rules_val *v, uint8_t *then)
{
    char shown[80];
    if (!v->quoted && v->len == 5 && memcmp(v->p, "close", 5) == 0)
        *then = RULES_THEN_CLOSE;
    else if (!v->quoted && v->len == 4 && memcmp(v->p, "read", 4) == 0)
        *then = RULES_THEN_READ;
    else if (!v->quoted && v->len == 6 && memcmp(v->p, "tarpit", 6) == 0)
        *then = RULES_THEN_TARPIT;
    else {
        rules__err(c, c->line, "reply: then: expected close, read or tarpit, got '%s'",
                   rules__show(v->p, v->len, shown, sizeof(shown)));
        return false;
    }
    return true;
}

static const char *reason_for(unsigned status)
{
    static const struct {
        unsigned code;
        const char *reason;
    } tab[] = {
        { 200, "OK" },
        { 201, "Created" },
        { 202, "Accepted" },
        { 204, "No Content" },
        { 301, "Moved Permanently" },
        { 302, "Found" },
        { 303, "See Other" },
        { 304, "Not Modified" },
        { 307, "Temporary Redirect" },
        { 308, "Permanent Redirect" },
        { 400, "Bad Request" },
        { 401, "Unauthorized" },
        { 403, "Forbidden" },
        { 404, "Not Found" },
        { 405, "Method Not Allowed" },
        { 408, "Request Timeout" },
        { 410, "Gone" },
        { 429, "Too Many Requests" },
        { 500, "Internal Server Error" },
        { 501, "Not Implemented" },
        { 502, "Bad Gateway" },
        { 503, "Service Unavailable" },
        { 504, "Gateway Timeout" },
    };
    for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
        if (tab[i].code == status)
            return tab[i].reason;
    return "Unknown";
}

/* Visible ASCII, space, tab and obs-text: what a reason phrase or a field
 * value may hold (RFC 9112 4, RFC 9110 5.5). */
static bool field_text(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((p[i] < 0x20 && p[i] != '\t') || p[i] == 0x7f)
            return false;
    return true;
}

/* header="Name: value": appended to *hdrs as "Name: value\r\n". */
static bool add_header(struct rules_ctx *c, const struct rules_val *v, char **hdrs, size_t *len)
{
    char shown[80];
    uint8_t *h;
    size_t n;
    const char *why = rules__text(v, &h, &n);
    if (why != NULL) {
        rules__err(c, c->line, "reply: header: %s", why);
        return false;
    }
    const uint8_t *colon = memchr(h, ':', n);
    size_t nl = colon ? (size_t)(colon - h) : 0;
    size_t vs = nl + 1;
    while (colon != NULL && vs < n && (h[vs] == ' ' || h[vs] == '\t'))
        vs++;
    size_t ve = n;
    while (ve > vs && (h[ve - 1] == ' ' || h[ve - 1] == '\t'))
        ve--;
    bool ok = false;
    if (colon == NULL || !rules__is_token((const char *)h, nl)) {
        rules__err(c, c->line, "reply: header: expected \"Name: value\", got '%s'",
                   rules__show((const char *)h, n, shown, sizeof(shown)));
    } else if (!field_text(h + vs, ve - vs)) {
        rules__err(c, c->line, "reply: header: control character in the value of '%s'",
                   rules__show((const char *)h, nl, shown, sizeof(shown)));
    } else if ((nl == 14 && strncasecmp((const char *)h, "Content-Length", 14) == 0) ||
               (nl == 17 && strncasecmp((const char *)h, "Transfer-Encoding", 17) == 0) ||
               (nl == 10 && strncasecmp((const char *)h, "Connection", 10) == 0)) {
        rules__err(
            c, c->line,
            "reply: header: %s is set by the sinkhole (Content-Length from the body, Connection from then= and the request)",
            rules__show((const char *)h, nl, shown, sizeof(shown)));
    } else if (*len + nl + 2 + (ve - vs) + 2 > RULES_HEADERS_MAX) {
        rules__err(c, c->line, "reply: headers longer than %d bytes", RULES_HEADERS_MAX);
    } else {
        *hdrs = xrealloc(*hdrs, *len + nl + 2 + (ve - vs) + 3);
        char *o = *hdrs + *len;
        memcpy(o, h, nl);
        memcpy(o + nl, ": ", 2);
        memcpy(o + nl + 2, h + vs, ve - vs);
        memcpy(o + nl + 2 + (ve - vs), "\r\n", 3);
        *len += nl + 2 + (ve - vs) + 2;
        ok = true;
    }
    free(h);
    return ok;
}

static void reply_http(struct rules_ctx *c, struct rules_rule *ru, const struct rules_tok *t, int n)
{
    struct rules_reply *rp = &ru->reply;
    char shown[80];
    uint32_t status = 200;
    bool has_status = false, has_reason = false, has_body = false;
    size_t hlen = 0;
    rp->action = RULES_HTTP;
    rp->then = RULES_THEN_READ;
    for (int i = 0; i < n; i++) {
        const struct rules_tok *k = &t[i];
        rules__show(k->key, k->klen, shown, sizeof(shown));
        if (k->op != RTOK_EQ) {
            rules__err(c, c->line, "reply http: expected KEY=VALUE, got '%s'", shown);
        } else if (rules__word(k, "status")) {
            if (has_status)
                rules__err(c, c->line, "reply http: status given twice");
            has_status = true;
            if (k->val.quoted || rules__number(k->val.p, k->val.len, 999, &status) != NULL ||
                status < 200) {
                rules__err(c, c->line, "reply http: status: expected 200 to 999, got '%s'",
                           rules__show(k->val.p, k->val.len, shown, sizeof(shown)));
                status = 200;
            }
        } else if (rules__word(k, "reason")) {
            if (has_reason)
                rules__err(c, c->line, "reply http: reason given twice");
            has_reason = true;
            uint8_t *txt = NULL;
            size_t tl = 0;
            const char *why = rules__text(&k->val, &txt, &tl);
            if (why == NULL && (tl == 0 || tl > 64 || !field_text(txt, tl)))
                why = "expected 1 to 64 characters of text";
            if (why != NULL) {
                rules__err(c, c->line, "reply http: reason: %s", why);
                free(txt);
            } else {
                free(ru->reply_reason);
                ru->reply_reason = (char *)txt;
            }
        } else if (rules__word(k, "header")) {
            add_header(c, &k->val, &ru->reply_headers, &hlen);
        } else if (rules__word(k, "body")) {
            if (has_body) {
                rules__err(c, c->line, "reply http: body given twice");
                continue;
            }
            has_body = true;
            reply_bytes(c, "body", &k->val, true, &ru->reply_body, &rp->body_len);
        } else if (rules__word(k, "then")) {
            parse_then(c, &k->val, &rp->then);
        } else {
            rules__err(c, c->line,
                       "reply http: unknown key '%s' (status, reason, header, body, then)", shown);
        }
    }
    if ((status == 204 || status == 304) && rp->body_len > 0)
        rules__err(c, c->line, "reply http: a %u reply has no body", status);
    rp->status = (uint16_t)status;
    if (ru->reply_reason == NULL)
        ru->reply_reason = xstrdup(reason_for(status));
    if (ru->reply_headers == NULL)
        ru->reply_headers = xcalloc(1, 1);
    rp->reason = ru->reply_reason;
    rp->headers = ru->reply_headers;
    rp->headers_len = hlen;
    rp->body = ru->reply_body;
}

void rules__directive_reply(struct rules_ctx *c, const struct rules_tok *t, int n)
{
    struct rules_rule *ru = c->cur;
    char shown[80], item[80];
    if (ru->has_reply) {
        rules__err(c, c->line, "rule '%s' has a second reply (the first is at line %u)", ru->name,
                   ru->reply_line);
        return;
    }
    ru->has_reply = true;
    ru->reply_line = c->line;
    struct rules_reply *rp = &ru->reply;
    if (n < 2) {
        rules__err(c, c->line, "reply: expected close, tarpit, http, bytes=BYTES or banner=BYTES");
        return;
    }
    const struct rules_tok *k = &t[1];
    rules__show(k->key, k->klen, shown, sizeof(shown));
    if (k->op == RTOK_WORD && (rules__word(k, "close") || rules__word(k, "tarpit"))) {
        rp->action = rules__word(k, "close") ? RULES_CLOSE : RULES_TARPIT;
        if (n > 2)
            rules__err(c, c->line, "reply %s: expected nothing after it", shown);
        return;
    }
    if (k->op == RTOK_WORD && rules__word(k, "http")) {
        reply_http(c, ru, t + 2, n - 2);
        return;
    }
    if (k->op != RTOK_EQ || !(rules__word(k, "bytes") || rules__word(k, "banner"))) {
        rules__err(c, c->line,
                   "reply: expected close, tarpit, http, bytes=BYTES or banner=BYTES, got '%s'",
                   shown);
        return;
    }
    rp->action = RULES_SEND;
    rp->then = rules__word(k, "banner") ? RULES_THEN_READ : RULES_THEN_CLOSE;
    if (reply_bytes(c, rules__word(k, "banner") ? "banner" : "bytes", &k->val, false,
                    &ru->reply_bytes, &rp->len))
        rp->bytes = ru->reply_bytes;
    for (int i = 2; i < n; i++) {
        if (rules__word(&t[i], "then") && t[i].op == RTOK_EQ)
            parse_then(c, &t[i].val, &rp->then);
        else
            rules__err(c, c->line, "reply %s: unknown item '%s' (then=close|read|tarpit)", shown,
                       rules__show(t[i].key, t[i].klen, item, sizeof(item)));
    }
}

void rules__check_reply(struct rules_ctx *c, struct rules_rule *ru)
{
    (void)c;
    if (!ru->has_reply)
        return;
    /* The transports the rule can match at all. */
    uint8_t tr = RT_TCP | RT_UDP;
    for (uint16_t i = 0; i < ru->n_conds; i++)
        if (ru->conds[i].field == RF_TRANSPORT)
            tr &= ru->conds[i].negate ? (uint8_t)~ru->conds[i].set : ru->conds[i].set;
    const struct rules_reply *rp = &ru->reply;
    bool stream = rp->action == RULES_HTTP || rp->action == RULES_TARPIT ||
                  (rp->action == RULES_SEND && rp->then != RULES_THEN_CLOSE);
    if (tr == RT_UDP && stream)
        rules__err(
            c, ru->reply_line,
            "rule '%s' matches only UDP, where a reply is one datagram: use reply close or reply bytes=... then=close",
            ru->name);
}
