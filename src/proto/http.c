/* proto/http.c -- HTTP/1.x request parser over a caller buffer.
 *
 * The head is parsed in one pass over buf[0..min(len, max_head)): running
 * out of bytes is "need more" unless max_head bytes were already there.
 * Header semantics (framing, keep-alive, the logged fields) are worked out
 * after the whole head has been read, so they never depend on where the
 * bytes happened to be split. The body decoder is a byte-level state
 * machine that keeps only counters, so it can be fed any split. */
#include "proto/http.h"

#include <stddef.h>
#include <string.h>

/* ---- character classes (RFC 9110 5.6.2) ---- */

static bool is_tchar(uint8_t c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* Field value bytes: VCHAR, obs-text, SP and HTAB. */
static bool is_vbyte(uint8_t c)
{
    return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static uint8_t lower(uint8_t c)
{
    return c >= 'A' && c <= 'Z' ? (uint8_t)(c + ('a' - 'A')) : c;
}

static struct http_span span(size_t off, size_t len)
{
    struct http_span s = { (uint32_t)off, (uint32_t)len };
    return s;
}

bool http_span_ieq(const uint8_t *buf, struct http_span s, const char *name)
{
    size_t n = strlen(name);
    if (s.len != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (lower(buf[s.off + i]) != lower((uint8_t)name[i]))
            return false;
    return true;
}

const char *http_error_name(enum http_error e)
{
    switch (e) {
    case HTTP_ERR_NONE:
        return "none";
    case HTTP_ERR_METHOD:
        return "method";
    case HTTP_ERR_TARGET:
        return "target";
    case HTTP_ERR_VERSION:
        return "version";
    case HTTP_ERR_LINE:
        return "line";
    case HTTP_ERR_HEADER:
        return "header";
    case HTTP_ERR_TOO_MANY_HEADERS:
        return "too-many-headers";
    case HTTP_ERR_HEAD_TOO_LARGE:
        return "head-too-large";
    case HTTP_ERR_CONTENT_LENGTH:
        return "content-length";
    case HTTP_ERR_TRANSFER_ENCODING:
        return "transfer-encoding";
    case HTTP_ERR_LENGTH_CONFLICT:
        return "length-conflict";
    case HTTP_ERR_HOST:
        return "host";
    }
    return "?";
}

/* ---- head ---- */

/* Outcome of one step of the head scanner. */
enum step { S_OK, S_SHORT, S_BAD };

struct scan {
    const uint8_t *buf;
    size_t end; /* min(len, max_head) */
    size_t pos;
};

/* Expect a line end at pos: CRLF or LF. */
static enum step eol(struct scan *s)
{
    if (s->pos >= s->end)
        return S_SHORT;
    if (s->buf[s->pos] == '\n') {
        s->pos++;
        return S_OK;
    }
    if (s->buf[s->pos] != '\r')
        return S_BAD;
    if (s->pos + 1 >= s->end)
        return S_SHORT;
    if (s->buf[s->pos + 1] != '\n')
        return S_BAD;
    s->pos += 2;
    return S_OK;
}

static enum step request_line(struct scan *s, struct http_request *req)
{
    const uint8_t *b = s->buf;

    /* Empty lines before the request line are ignored (RFC 9112 2.2). */
    while (s->pos < s->end && (b[s->pos] == '\r' || b[s->pos] == '\n')) {
        enum step st = eol(s);
        if (st != S_OK) {
            req->error = HTTP_ERR_LINE;
            return st;
        }
    }

    size_t m = s->pos;
    while (s->pos < s->end && is_tchar(b[s->pos]))
        s->pos++;
    if (s->pos >= s->end)
        return S_SHORT;
    if (b[s->pos] != ' ' || s->pos == m) {
        req->error = HTTP_ERR_METHOD;
        return S_BAD;
    }
    req->method = span(m, s->pos - m);
    s->pos++;

    size_t t = s->pos;
    while (s->pos < s->end && b[s->pos] > ' ' && b[s->pos] != 0x7f)
        s->pos++;
    if (s->pos >= s->end)
        return S_SHORT;
    if (s->pos == t || (b[s->pos] != ' ' && b[s->pos] != '\r' && b[s->pos] != '\n')) {
        req->error = HTTP_ERR_TARGET;
        return S_BAD;
    }
    req->target = span(t, s->pos - t);

    if (b[s->pos] != ' ') {
        /* HTTP/0.9: "GET target" and nothing else. */
        req->version_major = 0;
        req->version_minor = 9;
        if (req->method.len != 3 || memcmp(b + req->method.off, "GET", 3) != 0) {
            req->error = HTTP_ERR_VERSION;
            return S_BAD;
        }
    } else {
        s->pos++;
        static const char proto[] = "HTTP/";
        for (size_t i = 0; i < 8; i++, s->pos++) {
            if (s->pos >= s->end)
                return S_SHORT;
            uint8_t c = b[s->pos];
            bool ok = i < 5 ? c == (uint8_t)proto[i] : i == 6 ? c == '.' : c >= '0' && c <= '9';
            if (!ok) {
                req->error = HTTP_ERR_VERSION;
                return S_BAD;
            }
        }
        req->version_major = (uint8_t)(b[s->pos - 3] - '0');
        req->version_minor = (uint8_t)(b[s->pos - 1] - '0');
        if (req->version_major != 1) {
            req->error = HTTP_ERR_VERSION;
            return S_BAD;
        }
    }
    enum step st = eol(s);
    if (st == S_BAD)
        req->error = HTTP_ERR_LINE;
    return st;
}

/* One header line, or the empty line that ends the head (*done). */
static enum step header_line(struct scan *s, struct http_request *req, uint16_t max_headers,
                             bool *done)
{
    const uint8_t *b = s->buf;
    if (s->pos >= s->end)
        return S_SHORT;
    if (b[s->pos] == '\r' || b[s->pos] == '\n') {
        enum step st = eol(s);
        if (st == S_BAD)
            req->error = HTTP_ERR_LINE;
        *done = st == S_OK;
        return st;
    }

    size_t n = s->pos;
    while (s->pos < s->end && is_tchar(b[s->pos]))
        s->pos++;
    if (s->pos >= s->end)
        return S_SHORT;
    /* Also rejects a line starting with whitespace (obsolete folding) and
     * whitespace between the name and the colon (RFC 9112 5.1). */
    if (b[s->pos] != ':' || s->pos == n) {
        req->error = HTTP_ERR_HEADER;
        return S_BAD;
    }
    size_t name_len = s->pos - n;
    s->pos++;

    while (s->pos < s->end && (b[s->pos] == ' ' || b[s->pos] == '\t'))
        s->pos++;
    size_t v = s->pos, v_end = s->pos;
    while (s->pos < s->end && b[s->pos] != '\r' && b[s->pos] != '\n') {
        if (!is_vbyte(b[s->pos])) {
            req->error = HTTP_ERR_HEADER;
            return S_BAD;
        }
        if (b[s->pos] != ' ' && b[s->pos] != '\t')
            v_end = s->pos + 1;
        s->pos++;
    }
    enum step st = eol(s);
    if (st != S_OK) {
        if (st == S_BAD)
            req->error = HTTP_ERR_LINE;
        return st;
    }
    if (req->n_headers >= max_headers) {
        req->error = HTTP_ERR_TOO_MANY_HEADERS;
        return S_BAD;
    }
    struct http_header *h = &req->headers[req->n_headers++];
    h->name = span(n, name_len);
    h->value = span(v, v_end - v);
    return S_OK;
}

/* Call fn for each element of a comma-separated list (RFC 9110 5.6.1),
 * trimmed of whitespace; empty elements are skipped. Stops early when fn
 * returns false, and returns false then. */
static bool each_element(const uint8_t *b, struct http_span v,
                         bool (*fn)(const uint8_t *b, struct http_span el, void *arg), void *arg)
{
    size_t i = v.off, end = (size_t)v.off + v.len;
    while (i < end) {
        size_t s = i;
        while (i < end && b[i] != ',')
            i++;
        size_t e = i;
        while (s < e && (b[s] == ' ' || b[s] == '\t'))
            s++;
        while (e > s && (b[e - 1] == ' ' || b[e - 1] == '\t'))
            e--;
        if (e > s && !fn(b, span(s, e - s), arg))
            return false;
        i++; /* past the comma */
    }
    return true;
}

struct cl_state {
    unsigned n; /* values seen */
    uint64_t value;
};

static bool cl_element(const uint8_t *b, struct http_span el, void *arg)
{
    struct cl_state *cl = arg;
    /* 18 digits cannot overflow a uint64_t, and no body is that large. */
    if (el.len > 18)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < el.len; i++) {
        uint8_t c = b[el.off + i];
        if (c < '0' || c > '9')
            return false;
        v = v * 10 + (uint64_t)(c - '0');
    }
    if (cl->n > 0 && cl->value != v)
        return false;
    cl->n++;
    cl->value = v;
    return true;
}

struct te_state {
    unsigned chunked; /* times "chunked" was seen */
    bool last_chunked;
};

static bool te_element(const uint8_t *b, struct http_span el, void *arg)
{
    struct te_state *te = arg;
    /* A coding may carry parameters: "gzip;q=1". */
    size_t n = 0;
    while (n < el.len && b[el.off + n] != ';' && b[el.off + n] != ' ' && b[el.off + n] != '\t')
        n++;
    struct http_span name = span(el.off, n);
    te->last_chunked = http_span_ieq(b, name, "chunked");
    if (te->last_chunked)
        te->chunked++;
    return true;
}

struct conn_state {
    bool close, keep_alive;
};

static bool conn_element(const uint8_t *b, struct http_span el, void *arg)
{
    struct conn_state *c = arg;
    if (http_span_ieq(b, el, "close"))
        c->close = true;
    else if (http_span_ieq(b, el, "keep-alive"))
        c->keep_alive = true;
    return true;
}

/* Work out framing, keep-alive and the logged fields from the headers. */
static enum http_error semantics(const uint8_t *b, struct http_request *req)
{
    struct cl_state cl = { 0 };
    struct te_state te = { 0 };
    struct conn_state conn = { 0 };
    bool has_te = false;

    for (uint16_t i = 0; i < req->n_headers; i++) {
        const struct http_header *h = &req->headers[i];
        if (http_span_ieq(b, h->name, "host")) {
            if (req->has_host)
                return HTTP_ERR_HOST;
            req->has_host = true;
            req->host = h->value;
        } else if (http_span_ieq(b, h->name, "user-agent")) {
            if (!req->has_user_agent)
                req->user_agent = h->value;
            req->has_user_agent = true;
        } else if (http_span_ieq(b, h->name, "referer")) {
            if (!req->has_referer)
                req->referer = h->value;
            req->has_referer = true;
        } else if (http_span_ieq(b, h->name, "content-type")) {
            if (!req->has_content_type)
                req->content_type = h->value;
            req->has_content_type = true;
        } else if (http_span_ieq(b, h->name, "content-length")) {
            /* "5, 5" is 5; an empty value or list is not a number. */
            unsigned before = cl.n;
            if (!each_element(b, h->value, cl_element, &cl) || cl.n == before)
                return HTTP_ERR_CONTENT_LENGTH;
        } else if (http_span_ieq(b, h->name, "transfer-encoding")) {
            has_te = true;
            each_element(b, h->value, te_element, &te);
        } else if (http_span_ieq(b, h->name, "connection")) {
            each_element(b, h->value, conn_element, &conn);
        } else if (http_span_ieq(b, h->name, "expect")) {
            req->expect_continue = http_span_ieq(b, h->value, "100-continue");
        }
    }

    if (has_te) {
        if (cl.n > 0)
            return HTTP_ERR_LENGTH_CONFLICT;
        if (req->version_minor == 0 || te.chunked != 1 || !te.last_chunked)
            return HTTP_ERR_TRANSFER_ENCODING;
        req->body = HTTP_BODY_CHUNKED;
    } else if (cl.n > 0) {
        req->content_length = cl.value;
        req->body = cl.value > 0 ? HTTP_BODY_LENGTH : HTTP_BODY_NONE;
    }

    if (req->version_minor >= 1)
        req->keep_alive = !conn.close;
    else
        req->keep_alive = conn.keep_alive && !conn.close;
    return HTTP_ERR_NONE;
}

/* Could a line have ended in the bytes buf[prev_len..len)? */
static bool new_line_end(const uint8_t *buf, size_t len, size_t prev_len)
{
    return memchr(buf + prev_len, '\n', len - prev_len) != NULL;
}

enum http_status http_parse_request(const uint8_t *buf, size_t len, size_t prev_len,
                                    const struct http_limits *lim, struct http_request *req)
{
    size_t max_head = lim && lim->max_head ? lim->max_head : HTTP_HEAD_MAX_DEFAULT;
    uint16_t max_headers = lim && lim->max_headers && lim->max_headers < HTTP_HEADERS_MAX
                               ? lim->max_headers
                               : HTTP_HEADERS_MAX;
    if (max_head > UINT32_MAX)
        max_head = UINT32_MAX;

    if (prev_len > 0 && prev_len < len && prev_len < max_head && len < max_head &&
        !new_line_end(buf, len, prev_len))
        return HTTP_NEED_MORE;
    if (prev_len > 0 && prev_len >= len && len < max_head)
        return HTTP_NEED_MORE;

    memset(req, 0, offsetof(struct http_request, headers));
    req->n_headers = 0;
    memset(&req->has_host, 0, sizeof(*req) - offsetof(struct http_request, has_host));

    struct scan s = { buf, len < max_head ? len : max_head, 0 };
    enum step st = request_line(&s, req);
    bool done = req->version_major == 0 && st == S_OK; /* HTTP/0.9: no headers */
    while (st == S_OK && !done)
        st = header_line(&s, req, max_headers, &done);

    if (st == S_BAD)
        return HTTP_MALFORMED;
    if (st == S_SHORT) {
        if (len >= max_head) {
            req->error = HTTP_ERR_HEAD_TOO_LARGE;
            return HTTP_MALFORMED;
        }
        return HTTP_NEED_MORE;
    }
    req->head_len = s.pos;
    if (req->version_major == 0)
        return HTTP_COMPLETE;
    req->error = semantics(buf, req);
    return req->error == HTTP_ERR_NONE ? HTTP_COMPLETE : HTTP_MALFORMED;
}

/* ---- body ---- */

enum chunk_state {
    C_SIZE,       /* hex digits of the chunk size */
    C_SIZE_WS,    /* whitespace after the size */
    C_EXT,        /* chunk extension, up to the line end */
    C_SIZE_LF,    /* after CR of the size line */
    C_DATA,       /* chunk data */
    C_DATA_END,   /* CRLF or LF after the data */
    C_DATA_LF,    /* after CR following the data */
    C_TRAILER,    /* start of a trailer line, or the final empty line */
    C_TRAILER_IN, /* inside a trailer line */
    C_TRAILER_LF, /* after CR of a trailer line */
    C_FINAL_LF,   /* after CR of the final empty line */
    C_DONE,
};

void http_body_init(struct http_body *b, const struct http_request *req)
{
    memset(b, 0, sizeof(*b));
    b->kind = (uint8_t)req->body;
    b->remaining = req->body == HTTP_BODY_LENGTH ? req->content_length : 0;
    b->state = C_SIZE;
}

static int hexval(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = lower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Count a byte of a framing line against the caps. */
static bool line_byte(struct http_body *b, bool trailer)
{
    if (++b->line > HTTP_CHUNK_LINE_MAX)
        return false;
    return !trailer || ++b->trailer <= HTTP_TRAILER_MAX;
}

static enum http_body_status data_run(struct http_body *b, size_t start, size_t len,
                                      size_t *consumed, struct http_span *data)
{
    size_t n = len - start;
    if (n > b->remaining)
        n = (size_t)b->remaining;
    if (n > UINT32_MAX)
        n = UINT32_MAX;
    b->remaining -= n;
    b->total += n;
    *data = span(start, n);
    *consumed = start + n;
    return HTTP_BODY_DATA;
}

enum http_body_status http_body_next(struct http_body *b, const uint8_t *buf, size_t len,
                                     size_t *consumed, struct http_span *data)
{
    *consumed = 0;
    *data = span(0, 0);

    if (b->kind == HTTP_BODY_NONE)
        return HTTP_BODY_DONE;
    if (b->kind == HTTP_BODY_LENGTH) {
        if (b->remaining == 0)
            return HTTP_BODY_DONE;
        if (len == 0)
            return HTTP_BODY_MORE;
        return data_run(b, 0, len, consumed, data);
    }

    size_t i = 0;
    while (i < len) {
        uint8_t c = buf[i];
        switch (b->state) {
        case C_SIZE: {
            int v = hexval(c);
            if (v >= 0) {
                /* 15 hex digits: under 2^60, so the sum cannot overflow. */
                if (++b->digits > 15 || !line_byte(b, false))
                    return HTTP_BODY_BAD;
                b->remaining = b->remaining << 4 | (uint64_t)v;
                break;
            }
            if (b->digits == 0)
                return HTTP_BODY_BAD;
            if (c == ' ' || c == '\t')
                b->state = C_SIZE_WS;
            else if (c == ';')
                b->state = C_EXT;
            else if (c == '\r')
                b->state = C_SIZE_LF;
            else if (c == '\n')
                goto size_line_end;
            else
                return HTTP_BODY_BAD;
            if (!line_byte(b, false))
                return HTTP_BODY_BAD;
            break;
        }
        case C_SIZE_WS:
            if (!line_byte(b, false))
                return HTTP_BODY_BAD;
            if (c == ';')
                b->state = C_EXT;
            else if (c == '\r')
                b->state = C_SIZE_LF;
            else if (c == '\n')
                goto size_line_end;
            else if (c != ' ' && c != '\t')
                return HTTP_BODY_BAD;
            break;
        case C_EXT:
            if (!line_byte(b, false))
                return HTTP_BODY_BAD;
            if (c == '\r')
                b->state = C_SIZE_LF;
            else if (c == '\n')
                goto size_line_end;
            else if (!is_vbyte(c))
                return HTTP_BODY_BAD;
            break;
        case C_SIZE_LF:
            if (c != '\n')
                return HTTP_BODY_BAD;
        size_line_end:
            b->line = 0;
            b->digits = 0;
            b->state = b->remaining > 0 ? C_DATA : C_TRAILER;
            if (b->state == C_DATA) {
                i++;
                if (i == len) {
                    *consumed = i;
                    return HTTP_BODY_MORE;
                }
                enum http_body_status st = data_run(b, i, len, consumed, data);
                if (b->remaining == 0)
                    b->state = C_DATA_END;
                return st;
            }
            break;
        case C_DATA: {
            enum http_body_status st = data_run(b, i, len, consumed, data);
            if (b->remaining == 0)
                b->state = C_DATA_END;
            return st;
        }
        case C_DATA_END:
            if (c == '\r')
                b->state = C_DATA_LF;
            else if (c == '\n')
                b->state = C_SIZE;
            else
                return HTTP_BODY_BAD;
            break;
        case C_DATA_LF:
            if (c != '\n')
                return HTTP_BODY_BAD;
            b->state = C_SIZE;
            break;
        case C_TRAILER:
            if (c == '\r') {
                b->state = C_FINAL_LF;
                break;
            }
            if (c == '\n')
                goto done;
            if (!is_tchar(c) || !line_byte(b, true))
                return HTTP_BODY_BAD;
            b->state = C_TRAILER_IN;
            break;
        case C_TRAILER_IN:
            if (c == '\r') {
                b->state = C_TRAILER_LF;
            } else if (c == '\n') {
                b->line = 0;
                b->state = C_TRAILER;
            } else if (!is_vbyte(c) || !line_byte(b, true)) {
                return HTTP_BODY_BAD;
            }
            break;
        case C_TRAILER_LF:
            if (c != '\n')
                return HTTP_BODY_BAD;
            b->line = 0;
            b->state = C_TRAILER;
            break;
        case C_FINAL_LF:
            if (c != '\n')
                return HTTP_BODY_BAD;
        done:
            b->state = C_DONE;
            *consumed = i + 1;
            return HTTP_BODY_DONE;
        case C_DONE:
            return HTTP_BODY_DONE;
        }
        i++;
    }
    *consumed = i;
    return b->state == C_DONE ? HTTP_BODY_DONE : HTTP_BODY_MORE;
}
