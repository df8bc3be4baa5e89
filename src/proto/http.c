/* proto/http.c -- HTTP/1.x request parser over a caller buffer.
 *
 * The head is parsed in one pass over buf[0..min(len, max_head)): running
 * out of bytes is "need more" unless max_head bytes were already there.
 * Header semantics (framing, keep-alive, the logged fields) are worked out
 * after the whole head has been read, so they never depend on where the
 * bytes happened to be split. The body decoder is a byte-level state
 * machine that keeps only counters, so it can be fed any split.
 *
 * The head is on the path of every request, so it is scanned cheaply:
 * byte classes are one table lookup, field values are checked a word
 * (eight bytes) at a time, and the few header names the parser acts on are
 * told apart by length first and then compared a word at a time. */
#include "proto/http.h"

#include <stddef.h>
#include <string.h>

/* ---- character classes (RFC 9110 5.6.2, 5.5; RFC 9112 3.2) ---- */

enum {
    CL_TCHAR = 1,  /* token character: methods and header names */
    CL_VALUE = 2,  /* field value byte: VCHAR, obs-text, SP and HTAB */
    CL_TARGET = 4, /* request-target byte: anything but controls, SP and DEL */
};

#define TCHAR_(c)                                                                              \
    (((c) >= 'a' && (c) <= 'z') || ((c) >= 'A' && (c) <= 'Z') || ((c) >= '0' && (c) <= '9') || \
     (c) == '!' || (c) == '#' || (c) == '$' || (c) == '%' || (c) == '&' || (c) == '\'' ||      \
     (c) == '*' || (c) == '+' || (c) == '-' || (c) == '.' || (c) == '^' || (c) == '_' ||       \
     (c) == '`' || (c) == '|' || (c) == '~')
#define VALUE_(c)  ((c) == '\t' || ((c) >= 0x20 && (c) != 0x7f))
#define TARGET_(c) ((c) > ' ' && (c) != 0x7f)
#define CLASS_(c)                                                       \
    (uint8_t)((TCHAR_(c) ? CL_TCHAR : 0) | (VALUE_(c) ? CL_VALUE : 0) | \
              (TARGET_(c) ? CL_TARGET : 0))
#define ROW_(r)                                                                                    \
    CLASS_((r) + 0x0), CLASS_((r) + 0x1), CLASS_((r) + 0x2), CLASS_((r) + 0x3), CLASS_((r) + 0x4), \
        CLASS_((r) + 0x5), CLASS_((r) + 0x6), CLASS_((r) + 0x7), CLASS_((r) + 0x8),                \
        CLASS_((r) + 0x9), CLASS_((r) + 0xa), CLASS_((r) + 0xb), CLASS_((r) + 0xc),                \
        CLASS_((r) + 0xd), CLASS_((r) + 0xe), CLASS_((r) + 0xf)

/* One lookup per byte instead of a chain of comparisons; the table is
 * worked out by the compiler from the definitions above. */
static const uint8_t byte_class[256] = {
    ROW_(0x00), ROW_(0x10), ROW_(0x20), ROW_(0x30), ROW_(0x40), ROW_(0x50), ROW_(0x60), ROW_(0x70),
    ROW_(0x80), ROW_(0x90), ROW_(0xa0), ROW_(0xb0), ROW_(0xc0), ROW_(0xd0), ROW_(0xe0), ROW_(0xf0),
};

#undef ROW_
#undef CLASS_
#undef TARGET_
#undef VALUE_
#undef TCHAR_

static bool is_tchar(uint8_t c)
{
    return (byte_class[c] & CL_TCHAR) != 0;
}

/* Field value bytes: VCHAR, obs-text, SP and HTAB. */
static bool is_vbyte(uint8_t c)
{
    return (byte_class[c] & CL_VALUE) != 0;
}

/* Request-target bytes: anything but controls, SP and DEL. */
static bool is_target(uint8_t c)
{
    return (byte_class[c] & CL_TARGET) != 0;
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

/* ---- word-at-a-time helpers ---- */

#define ONES8  0x0101010101010101u
#define HIGHS8 0x8080808080808080u
#define CASE8  0x2020202020202020u
#define CASE4  0x20202020u

/* Unaligned loads; p[0..8) or p[0..4) must lie inside the buffer. */
static uint64_t load64(const void *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof(v));
    return v;
}

static uint32_t load32(const void *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof(v));
    return v;
}

/* Nonzero if one of the eight bytes of x is a control byte (HTAB, CR and
 * LF included) or DEL. The first test is the classic "has a byte less
 * than 0x20", exact as to whether there is one; the second finds a zero
 * byte in x ^ 0x7f.. (a DEL in x). */
static uint64_t has_ctl_or_del(uint64_t x)
{
    uint64_t del = x ^ (ONES8 * 0x7f);
    return (((x - ONES8 * 0x20) & ~x) | ((del - ONES8) & ~del)) & HIGHS8;
}

/* True if p[0..n) equals the n bytes of lit, ignoring ASCII case; 4 <= n
 * and n == strlen(lit). lit holds only lowercase letters, digits and '-',
 * which all have bit 0x20 set, so an input byte c matches a literal byte l
 * when c | 0x20 == l, that is when c is l or l - 0x20: for a letter its
 * upper case, for a digit or '-' a control byte (CR for '-'). Header names
 * and values hold no control bytes, so within them this is exactly
 * http_span_ieq(). Compares 8 (or 4) bytes at a time, the last word
 * overlapping the one before, so every load stays within p[0..n). */
static inline bool ieq_lit(const uint8_t *p, size_t n, const char *lit)
{
    if (n < 8)
        return (load32(p) | CASE4) == load32(lit) &&
               (load32(p + n - 4) | CASE4) == load32(lit + n - 4);
    for (size_t i = 0; i + 8 < n; i += 8)
        if ((load64(p + i) | CASE8) != load64(lit + i))
            return false;
    return (load64(p + n - 8) | CASE8) == load64(lit + n - 8);
}

/* ---- head ---- */

/* Outcome of one step of the head scanner. */
enum step { S_OK, S_SHORT, S_BAD };

/* Expect a line end at *pp (before e): CRLF or LF; step past it if so. */
static inline enum step eol(const uint8_t **pp, const uint8_t *e)
{
    const uint8_t *p = *pp;
    if (p >= e)
        return S_SHORT;
    if (*p == '\n') {
        *pp = p + 1;
        return S_OK;
    }
    if (*p != '\r')
        return S_BAD;
    if (e - p < 2)
        return S_SHORT;
    if (p[1] != '\n')
        return S_BAD;
    *pp = p + 2;
    return S_OK;
}

/* Step over field value bytes from p; returns the first byte that is not
 * one, or e. Eight bytes at a time while a word holds no control byte or
 * DEL; a word with one (HTAB is allowed) goes byte by byte. */
static inline const uint8_t *skip_value(const uint8_t *p, const uint8_t *e)
{
    for (;;) {
        while (e - p >= 8 && !has_ctl_or_del(load64(p)))
            p += 8;
        const uint8_t *stop = e - p >= 8 ? p + 8 : e;
        while (p < stop && is_vbyte(*p))
            p++;
        if (p != stop || p == e)
            return p;
    }
}

/* The version after "method SP target SP" at *pp: HTTP/1.0 and HTTP/1.1
 * in one compare each, anything else byte by byte. */
static inline enum step version(const uint8_t **pp, const uint8_t *e, struct http_request *req)
{
    const uint8_t *p = *pp;
    if (e - p >= 8) {
        uint64_t w = load64(p);
        if (w == load64("HTTP/1.1") || w == load64("HTTP/1.0")) {
            req->version_major = 1;
            req->version_minor = (uint8_t)(p[7] - '0');
            *pp = p + 8;
            return S_OK;
        }
    }
    static const char proto[] = "HTTP/";
    for (size_t i = 0; i < 8; i++, p++) {
        if (p >= e)
            return S_SHORT;
        uint8_t c = *p;
        bool ok = i < 5 ? c == (uint8_t)proto[i] : i == 6 ? c == '.' : c >= '0' && c <= '9';
        if (!ok) {
            req->error = HTTP_ERR_VERSION;
            return S_BAD;
        }
    }
    req->version_major = (uint8_t)(p[-3] - '0');
    req->version_minor = (uint8_t)(p[-1] - '0');
    if (req->version_major != 1) {
        req->error = HTTP_ERR_VERSION;
        return S_BAD;
    }
    *pp = p;
    return S_OK;
}

static enum step request_line(const uint8_t *b, const uint8_t **pp, const uint8_t *e,
                              struct http_request *req)
{
    const uint8_t *p = *pp;

    /* Empty lines before the request line are ignored (RFC 9112 2.2). */
    while (p < e && (*p == '\r' || *p == '\n')) {
        enum step st = eol(&p, e);
        if (st != S_OK) {
            req->error = HTTP_ERR_LINE;
            return st;
        }
    }

    const uint8_t *m = p;
    while (p < e && is_tchar(*p))
        p++;
    if (p >= e)
        return S_SHORT;
    if (*p != ' ' || p == m) {
        req->error = HTTP_ERR_METHOD;
        return S_BAD;
    }
    req->method = span((size_t)(m - b), (size_t)(p - m));
    p++;

    const uint8_t *t = p;
    while (p < e && is_target(*p))
        p++;
    if (p >= e)
        return S_SHORT;
    if (p == t || (*p != ' ' && *p != '\r' && *p != '\n')) {
        req->error = HTTP_ERR_TARGET;
        return S_BAD;
    }
    req->target = span((size_t)(t - b), (size_t)(p - t));

    if (*p != ' ') {
        /* HTTP/0.9: "GET target" and nothing else. */
        req->version_major = 0;
        req->version_minor = 9;
        if (req->method.len != 3 || memcmp(m, "GET", 3) != 0) {
            req->error = HTTP_ERR_VERSION;
            return S_BAD;
        }
    } else {
        p++;
        enum step st = version(&p, e, req);
        if (st != S_OK)
            return st;
    }
    enum step st = eol(&p, e);
    if (st == S_BAD)
        req->error = HTTP_ERR_LINE;
    *pp = p;
    return st;
}

/* Header lines up to and including the empty line that ends the head. */
static enum step header_lines(const uint8_t *b, const uint8_t **pp, const uint8_t *e,
                              struct http_request *req, uint16_t max_headers)
{
    const uint8_t *p = *pp;
    for (;;) {
        if (p >= e)
            return S_SHORT;
        if (*p == '\r' || *p == '\n') {
            enum step st = eol(&p, e);
            if (st == S_BAD)
                req->error = HTTP_ERR_LINE;
            *pp = p;
            return st;
        }

        const uint8_t *n = p;
        while (p < e && is_tchar(*p))
            p++;
        if (p >= e)
            return S_SHORT;
        /* Also rejects a line starting with whitespace (obsolete folding)
         * and whitespace between the name and the colon (RFC 9112 5.1). */
        if (*p != ':' || p == n) {
            req->error = HTTP_ERR_HEADER;
            return S_BAD;
        }
        const uint8_t *n_end = p++;

        while (p < e && (*p == ' ' || *p == '\t'))
            p++;
        const uint8_t *v = p;
        p = skip_value(p, e);
        if (p < e && *p != '\r' && *p != '\n') {
            req->error = HTTP_ERR_HEADER;
            return S_BAD;
        }
        /* The value ends at its last byte that is not whitespace; the
         * first one is not, so this stops at v at the latest. */
        const uint8_t *v_end = p;
        while (v_end > v && (v_end[-1] == ' ' || v_end[-1] == '\t'))
            v_end--;

        enum step st = eol(&p, e);
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
        h->name = span((size_t)(n - b), (size_t)(n_end - n));
        h->value = span((size_t)(v - b), (size_t)(v_end - v));
    }
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
    te->last_chunked = n == 7 && ieq_lit(b + el.off, 7, "chunked");
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
    if (el.len == 5 && ieq_lit(b + el.off, 5, "close"))
        c->close = true;
    else if (el.len == 10 && ieq_lit(b + el.off, 10, "keep-alive"))
        c->keep_alive = true;
    return true;
}

/* The header names semantics() acts on. */
enum field {
    F_OTHER,
    F_HOST,
    F_USER_AGENT,
    F_REFERER,
    F_CONTENT_TYPE,
    F_CONTENT_LENGTH,
    F_TRANSFER_ENCODING,
    F_CONNECTION,
    F_EXPECT,
};

/* Which of them the name at s is: by length first, so that most names
 * cost one compare or none. */
static enum field field_of(const uint8_t *b, struct http_span s)
{
    const uint8_t *p = b + s.off;
    switch (s.len) {
    case 4:
        return ieq_lit(p, 4, "host") ? F_HOST : F_OTHER;
    case 6:
        return ieq_lit(p, 6, "expect") ? F_EXPECT : F_OTHER;
    case 7:
        return ieq_lit(p, 7, "referer") ? F_REFERER : F_OTHER;
    case 10:
        if (ieq_lit(p, 10, "user-agent"))
            return F_USER_AGENT;
        return ieq_lit(p, 10, "connection") ? F_CONNECTION : F_OTHER;
    case 12:
        return ieq_lit(p, 12, "content-type") ? F_CONTENT_TYPE : F_OTHER;
    case 14:
        return ieq_lit(p, 14, "content-length") ? F_CONTENT_LENGTH : F_OTHER;
    case 17:
        return ieq_lit(p, 17, "transfer-encoding") ? F_TRANSFER_ENCODING : F_OTHER;
    }
    return F_OTHER;
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
        switch (field_of(b, h->name)) {
        case F_OTHER:
            break;
        case F_HOST:
            if (req->has_host)
                return HTTP_ERR_HOST;
            req->has_host = true;
            req->host = h->value;
            break;
        case F_USER_AGENT:
            if (!req->has_user_agent)
                req->user_agent = h->value;
            req->has_user_agent = true;
            break;
        case F_REFERER:
            if (!req->has_referer)
                req->referer = h->value;
            req->has_referer = true;
            break;
        case F_CONTENT_TYPE:
            if (!req->has_content_type)
                req->content_type = h->value;
            req->has_content_type = true;
            break;
        case F_CONTENT_LENGTH: {
            /* "5, 5" is 5; an empty value or list is not a number. */
            unsigned before = cl.n;
            if (!each_element(b, h->value, cl_element, &cl) || cl.n == before)
                return HTTP_ERR_CONTENT_LENGTH;
            break;
        }
        case F_TRANSFER_ENCODING:
            has_te = true;
            each_element(b, h->value, te_element, &te);
            break;
        case F_CONNECTION:
            each_element(b, h->value, conn_element, &conn);
            break;
        case F_EXPECT:
            req->expect_continue =
                h->value.len == 12 && ieq_lit(b + h->value.off, 12, "100-continue");
            break;
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

    const uint8_t *p = buf, *e = buf + (len < max_head ? len : max_head);
    enum step st = request_line(buf, &p, e, req);
    /* HTTP/0.9 has no headers. */
    if (st == S_OK && req->version_major != 0)
        st = header_lines(buf, &p, e, req, max_headers);

    if (st == S_BAD)
        return HTTP_MALFORMED;
    if (st == S_SHORT) {
        if (len >= max_head) {
            req->error = HTTP_ERR_HEAD_TOO_LARGE;
            return HTTP_MALFORMED;
        }
        return HTTP_NEED_MORE;
    }
    req->head_len = (size_t)(p - buf);
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
