/* proto/http.h -- HTTP/1.x request parser over a caller buffer.
 *
 * Pure functions: no allocation, no I/O, no global state; every read is
 * bounds-checked against len. The parser is restartable rather than
 * incremental: the caller keeps the bytes of the connection in its own
 * buffer and calls http_parse_request() again when more arrive, passing how
 * many it had already shown (prev_len) so that nothing is scanned twice
 * unless a line may have ended. Results are offsets into the buffer
 * (struct http_span), so they stay valid if the caller moves the bytes.
 *
 * Grammar (RFC 9112), strict where laxness helps request smuggling and
 * lenient where clients commonly are:
 *  - empty lines before the request line are skipped (RFC 9112 2.2);
 *  - a line ends with CRLF or a bare LF; a bare CR is malformed;
 *  - request line: method (tchar+), one SP, target (no controls, no SP),
 *    one SP, "HTTP/" DIGIT "." DIGIT with major version 1. "GET target"
 *    without a version is an HTTP/0.9 simple request: complete at the end
 *    of its line, no headers, no body, not kept alive;
 *  - header: name (tchar+) ":" OWS value OWS; no space before the colon,
 *    no obsolete line folding, no control characters but HTAB in values;
 *  - framing: Transfer-Encoding whose last coding is "chunked" (once);
 *    otherwise Content-Length (1*DIGIT, repeats only if equal); otherwise
 *    no body. Both at once, any other Transfer-Encoding, Transfer-Encoding
 *    in HTTP/1.0, or two Host headers are malformed (RFC 9112 6.1, 6.3).
 * A malformed request is reported with a reason; the listener logs such a
 * connection as raw instead of dropping it. */
#ifndef SK_PROTO_HTTP_H
#define SK_PROTO_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_HEADERS_MAX      64   /* capacity of struct http_request */
#define HTTP_HEAD_MAX_DEFAULT 8192 /* request line + headers + empty line */
#define HTTP_CHUNK_LINE_MAX   4096 /* one chunk-size line or trailer line */
#define HTTP_TRAILER_MAX      8192 /* all trailer lines of a chunked body */

/* bytes buf[off .. off+len) of the buffer the request was parsed from. */
struct http_span {
    uint32_t off;
    uint32_t len;
};

struct http_header {
    struct http_span name;
    struct http_span value; /* without leading and trailing whitespace */
};

/* Limits; a NULL pointer, or a zero field, means the default. */
struct http_limits {
    uint32_t max_head;    /* bytes before the body; default HTTP_HEAD_MAX_DEFAULT */
    uint16_t max_headers; /* at most HTTP_HEADERS_MAX (the default) */
};

enum http_status {
    HTTP_COMPLETE = 0, /* request line and headers complete: see head_len */
    HTTP_NEED_MORE,    /* a prefix of a request so far */
    HTTP_MALFORMED,    /* not a request this parser accepts: see error */
};

enum http_error {
    HTTP_ERR_NONE = 0,
    HTTP_ERR_METHOD,            /* empty method or a byte that is not a tchar */
    HTTP_ERR_TARGET,            /* empty target or a control byte in it */
    HTTP_ERR_VERSION,           /* not HTTP/1.x (or 0.9 without a version) */
    HTTP_ERR_LINE,              /* bare CR, or stray bytes in the request line */
    HTTP_ERR_HEADER,            /* bad name, space before colon, folding, control byte */
    HTTP_ERR_TOO_MANY_HEADERS,  /* more than max_headers */
    HTTP_ERR_HEAD_TOO_LARGE,    /* no end of head within max_head bytes */
    HTTP_ERR_CONTENT_LENGTH,    /* not digits, too large, or differing repeats */
    HTTP_ERR_TRANSFER_ENCODING, /* not ending in chunked, chunked twice, or HTTP/1.0 */
    HTTP_ERR_LENGTH_CONFLICT,   /* both Content-Length and Transfer-Encoding */
    HTTP_ERR_HOST,              /* more than one Host header */
};

enum http_body_kind {
    HTTP_BODY_NONE = 0, /* no body: the next request starts after the head */
    HTTP_BODY_LENGTH,   /* content_length bytes follow */
    HTTP_BODY_CHUNKED,  /* chunked transfer coding follows */
};

struct http_request {
    enum http_error error; /* set when HTTP_MALFORMED */
    size_t head_len;       /* bytes up to and including the empty line */

    struct http_span method, target;
    uint8_t version_major, version_minor; /* 0.9 for a simple request */

    struct http_header headers[HTTP_HEADERS_MAX]; /* in the order sent */
    uint16_t n_headers;

    /* Values of the headers a sinkhole logs; the span is empty and the
     * flag false when the header is absent. */
    bool has_host, has_user_agent, has_referer, has_content_type;
    struct http_span host, user_agent, referer, content_type;

    enum http_body_kind body;
    uint64_t content_length; /* when body is HTTP_BODY_LENGTH */
    bool keep_alive;         /* another request may follow on the connection */
    bool expect_continue;    /* "Expect: 100-continue" */
};

/* Parse the request head at the start of buf[0..len). prev_len is how many
 * of these bytes an earlier call already saw and answered HTTP_NEED_MORE
 * for (0 the first time): when none of the new bytes ends a line the
 * answer is HTTP_NEED_MORE at once, so a client sending a byte at a time
 * costs one scan per line, not per byte. Consequently a syntax error may be
 * reported only once its line ends or max_head is reached.
 * *req is filled on HTTP_COMPLETE (all fields) and HTTP_MALFORMED (error,
 * and fields as far as parsing got); on HTTP_NEED_MORE it is unspecified. */
enum http_status http_parse_request(const uint8_t *buf, size_t len, size_t prev_len,
                                    const struct http_limits *lim,
                                    struct http_request *req /* OUT */);

/* True if the header name at span equals name, ignoring ASCII case. */
bool http_span_ieq(const uint8_t *buf, struct http_span span, const char *name);

/* Short name of an error, e.g. "content-length". */
const char *http_error_name(enum http_error e);

/* ---- body ---- */

enum http_body_status {
    HTTP_BODY_DATA = 0, /* *data holds body bytes; more may follow */
    HTTP_BODY_MORE,     /* all input used; the body goes on */
    HTTP_BODY_DONE,     /* the body (and any trailer) ended */
    HTTP_BODY_BAD,      /* malformed chunked framing */
};

/* State of one request body being read. */
struct http_body {
    uint8_t kind;       /* enum http_body_kind */
    uint8_t state;      /* chunked decoder state */
    uint8_t digits;     /* hex digits of the chunk size read */
    uint64_t remaining; /* bytes left in the body (LENGTH) or the chunk */
    uint64_t total;     /* body bytes returned so far */
    uint32_t line;      /* bytes of the current framing line */
    uint32_t trailer;   /* bytes of trailer so far */
};

/* Start reading the body of req (the bytes after req->head_len). */
void http_body_init(struct http_body *b, const struct http_request *req);

/* Read from buf[0..len), the bytes that follow what earlier calls consumed.
 * *consumed is how many bytes this call used (framing included); the caller
 * drops them and calls again. HTTP_BODY_DATA: *data is the next run of body
 * bytes (an offset into this buf), already counted in *consumed.
 * HTTP_BODY_MORE: every byte was used, none was body data. HTTP_BODY_DONE:
 * the message ends *consumed bytes into buf; a pipelined request may follow.
 * HTTP_BODY_BAD: *consumed is 0; the connection cannot be read further.
 * Chunked framing: hex size (at most 15 digits) with optional extensions,
 * CRLF or LF line ends, trailer lines of at most HTTP_CHUNK_LINE_MAX bytes
 * and HTTP_TRAILER_MAX in all. */
enum http_body_status http_body_next(struct http_body *b, const uint8_t *buf, size_t len,
                                     size_t *consumed /* OUT */, struct http_span *data /* OUT */);

#endif
