/* Unit tests for proto/http: request line and headers, the logged
 * fields, framing and keep-alive rules, limits, malformed requests with
 * their reasons, every split of the input, pipelining, and the body
 * decoder (Content-Length and chunked, fed whole or a byte at a time). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/http.h"

static struct http_request req;

static enum http_status parse(const char *s, const struct http_limits *lim)
{
    return http_parse_request((const uint8_t *)s, strlen(s), 0, lim, &req);
}

static void expect_span(const char *buf, struct http_span sp, const char *want)
{
    assert_int_equal(sp.len, strlen(want));
    assert_memory_equal(buf + sp.off, want, sp.len);
}

static void test_get(void **state)
{
    (void)state;
    const char *r = "GET /gate.php?id=42 HTTP/1.1\r\n"
                    "Host: c2.example\r\n"
                    "User-Agent: Mozilla/4.0 (compatible; MSIE 6.0)  \r\n"
                    "Referer:http://x/\r\n"
                    "Accept: */*\r\n"
                    "X-Obs: caf\xc3\xa9\r\n"
                    "\r\n"
                    "NEXT";
    assert_int_equal(parse(r, NULL), HTTP_COMPLETE);
    assert_int_equal(req.error, HTTP_ERR_NONE);
    assert_int_equal(req.head_len, strlen(r) - 4);
    expect_span(r, req.method, "GET");
    expect_span(r, req.target, "/gate.php?id=42");
    assert_int_equal(req.version_major, 1);
    assert_int_equal(req.version_minor, 1);
    assert_int_equal(req.n_headers, 5);
    expect_span(r, req.headers[3].name, "Accept");
    expect_span(r, req.headers[3].value, "*/*");
    expect_span(r, req.headers[4].value, "caf\xc3\xa9");
    assert_true(req.has_host);
    expect_span(r, req.host, "c2.example");
    assert_true(req.has_user_agent);
    expect_span(r, req.user_agent, "Mozilla/4.0 (compatible; MSIE 6.0)");
    assert_true(req.has_referer);
    expect_span(r, req.referer, "http://x/");
    assert_false(req.has_content_type);
    assert_int_equal(req.content_type.len, 0);
    assert_int_equal(req.body, HTTP_BODY_NONE);
    assert_true(req.keep_alive);
    assert_false(req.expect_continue);
}

static void test_post_fields(void **state)
{
    (void)state;
    const char *r = "POST /submit HTTP/1.0\r\n"
                    "content-type: application/octet-stream\r\n"
                    "CONTENT-LENGTH: 5, 5\r\n"
                    "Connection: Keep-Alive\r\n"
                    "Expect: 100-Continue\r\n"
                    "\r\n";
    assert_int_equal(parse(r, NULL), HTTP_COMPLETE);
    assert_int_equal(req.version_minor, 0);
    expect_span(r, req.content_type, "application/octet-stream");
    assert_int_equal(req.body, HTTP_BODY_LENGTH);
    assert_int_equal(req.content_length, 5);
    assert_true(req.keep_alive);
    assert_true(req.expect_continue);
    assert_false(req.has_host);
}

static void test_keep_alive(void **state)
{
    (void)state;
    static const struct {
        const char *req;
        bool keep;
    } cases[] = {
        { "GET / HTTP/1.1\r\n\r\n", true },
        { "GET / HTTP/1.1\r\nConnection: close\r\n\r\n", false },
        { "GET / HTTP/1.1\r\nConnection: Upgrade, CLOSE\r\n\r\n", false },
        { "GET / HTTP/1.1\r\nConnection: keep-alive\r\n\r\n", true },
        { "GET / HTTP/1.0\r\n\r\n", false },
        { "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", true },
        { "GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n", false },
        { "GET / HTTP/1.0\r\nConnection: keep-alive-ish\r\n\r\n", false },
        { "GET / HTTP/1.9\r\n\r\n", true },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(parse(cases[i].req, NULL), HTTP_COMPLETE);
        assert_int_equal(req.keep_alive, cases[i].keep);
    }
}

static void test_lenient_forms(void **state)
{
    (void)state;
    /* Bare LF line ends, and empty lines before the request line. */
    const char *r = "\r\n\nGET /a HTTP/1.1\nHost: h\n\nX";
    assert_int_equal(parse(r, NULL), HTTP_COMPLETE);
    assert_int_equal(req.head_len, strlen(r) - 1);
    expect_span(r, req.target, "/a");
    expect_span(r, req.host, "h");

    /* HTTP/0.9: complete at the end of the line, nothing else read. */
    r = "GET /index.html\r\nHost: ignored\r\n\r\n";
    assert_int_equal(parse(r, NULL), HTTP_COMPLETE);
    assert_int_equal(req.version_major, 0);
    assert_int_equal(req.version_minor, 9);
    assert_int_equal(req.head_len, 17);
    assert_int_equal(req.n_headers, 0);
    assert_false(req.keep_alive);
    assert_int_equal(req.body, HTTP_BODY_NONE);

    /* Methods other than the usual, absolute and authority targets. */
    r = "M-SEARCH * HTTP/1.1\r\n\r\n";
    assert_int_equal(parse(r, NULL), HTTP_COMPLETE);
    expect_span(r, req.method, "M-SEARCH");
    r = "CONNECT c2.example:443 HTTP/1.1\r\n\r\n";
    assert_int_equal(parse(r, NULL), HTTP_COMPLETE);
    expect_span(r, req.target, "c2.example:443");

    /* An empty header value, and whitespace-only. */
    r = "GET / HTTP/1.1\r\nHost:\r\nX-A: \t \r\n\r\n";
    assert_int_equal(parse(r, NULL), HTTP_COMPLETE);
    assert_true(req.has_host);
    assert_int_equal(req.host.len, 0);
    assert_int_equal(req.headers[1].value.len, 0);

    /* Transfer codings before chunked; Content-Length: 0. */
    assert_int_equal(parse("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n"
                           "Transfer-Encoding: Chunked\r\n\r\n",
                           NULL),
                     HTTP_COMPLETE);
    assert_int_equal(req.body, HTTP_BODY_CHUNKED);
    assert_int_equal(parse("POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n", NULL), HTTP_COMPLETE);
    assert_int_equal(req.body, HTTP_BODY_NONE);
    assert_int_equal(parse("POST / HTTP/1.1\r\nContent-Length: 000123\r\n\r\n", NULL),
                     HTTP_COMPLETE);
    assert_int_equal(req.content_length, 123);
}

static void test_malformed(void **state)
{
    (void)state;
    static const struct {
        const char *req;
        enum http_error err;
    } cases[] = {
        { " GET / HTTP/1.1\r\n\r\n", HTTP_ERR_METHOD },
        { "G(T / HTTP/1.1\r\n\r\n", HTTP_ERR_METHOD },
        { "GET\t/ HTTP/1.1\r\n\r\n", HTTP_ERR_METHOD },
        { "GET  / HTTP/1.1\r\n\r\n", HTTP_ERR_TARGET },
        { "GET /a\x01 HTTP/1.1\r\n\r\n", HTTP_ERR_TARGET },
        { "GET /a\x7f HTTP/1.1\r\n\r\n", HTTP_ERR_TARGET },
        { "GET / HTTP/2.0\r\n\r\n", HTTP_ERR_VERSION },
        { "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", HTTP_ERR_VERSION },
        { "GET / HTTP/1.x\r\n\r\n", HTTP_ERR_VERSION },
        { "GET / http/1.1\r\n\r\n", HTTP_ERR_VERSION },
        { "GET / HTTP/11\r\n\r\n", HTTP_ERR_VERSION },
        { "POST /\r\n\r\n", HTTP_ERR_VERSION },
        { "GET / HTTP/1.1 \r\n\r\n", HTTP_ERR_LINE },
        { "GET / HTTP/1.1\rX\r\n\r\n", HTTP_ERR_LINE },
        { "\rGET / HTTP/1.1\r\n\r\n", HTTP_ERR_LINE },
        { "GET / HTTP/1.1\r\nHost : x\r\n\r\n", HTTP_ERR_HEADER },
        { "GET / HTTP/1.1\r\n folded: x\r\n\r\n", HTTP_ERR_HEADER },
        { "GET / HTTP/1.1\r\nA: b\r\n  continued\r\n\r\n", HTTP_ERR_HEADER },
        { "GET / HTTP/1.1\r\n: empty\r\n\r\n", HTTP_ERR_HEADER },
        { "GET / HTTP/1.1\r\nNoColon\r\n\r\n", HTTP_ERR_HEADER },
        { "GET / HTTP/1.1\r\nA: b\x1b[0m\r\n\r\n", HTTP_ERR_HEADER },
        { "GET / HTTP/1.1\r\nA: b\rc\r\n\r\n", HTTP_ERR_LINE },
        { "GET / HTTP/1.1\r\nA: b\r\n\rX", HTTP_ERR_LINE },
        { "POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
          HTTP_ERR_CONTENT_LENGTH },
        { "POST / HTTP/1.1\r\nContent-Length: 5, 6\r\n\r\n", HTTP_ERR_CONTENT_LENGTH },
        { "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", HTTP_ERR_CONTENT_LENGTH },
        { "POST / HTTP/1.1\r\nContent-Length: +1\r\n\r\n", HTTP_ERR_CONTENT_LENGTH },
        { "POST / HTTP/1.1\r\nContent-Length: 1e3\r\n\r\n", HTTP_ERR_CONTENT_LENGTH },
        { "POST / HTTP/1.1\r\nContent-Length: \r\n\r\n", HTTP_ERR_CONTENT_LENGTH },
        { "POST / HTTP/1.1\r\nContent-Length: ,\r\n\r\n", HTTP_ERR_CONTENT_LENGTH },
        { "POST / HTTP/1.1\r\nContent-Length: 1234567890123456789\r\n\r\n",
          HTTP_ERR_CONTENT_LENGTH },
        { "POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
          HTTP_ERR_LENGTH_CONFLICT },
        { "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", HTTP_ERR_TRANSFER_ENCODING },
        { "POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
          HTTP_ERR_TRANSFER_ENCODING },
        { "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
          HTTP_ERR_TRANSFER_ENCODING },
        { "POST / HTTP/1.1\r\nTransfer-Encoding: \r\n\r\n", HTTP_ERR_TRANSFER_ENCODING },
        { "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", HTTP_ERR_TRANSFER_ENCODING },
        { "GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n", HTTP_ERR_HOST },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        enum http_status st = parse(cases[i].req, NULL);
        if (st != HTTP_MALFORMED || req.error != cases[i].err)
            fail_msg("case %zu: status %d error %s, want %s", i, st, http_error_name(req.error),
                     http_error_name(cases[i].err));
    }

    /* A NUL in a header value. */
    static const char nul[] = "GET / HTTP/1.1\r\nA: b\0c\r\n\r\n";
    assert_int_equal(http_parse_request((const uint8_t *)nul, sizeof(nul) - 1, 0, NULL, &req),
                     HTTP_MALFORMED);
    assert_int_equal(req.error, HTTP_ERR_HEADER);
}

static void test_limits(void **state)
{
    (void)state;
    const char *r = "GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n";
    struct http_limits lim = { .max_headers = 4 };
    assert_int_equal(parse(r, &lim), HTTP_COMPLETE);
    lim.max_headers = 3;
    assert_int_equal(parse(r, &lim), HTTP_MALFORMED);
    assert_int_equal(req.error, HTTP_ERR_TOO_MANY_HEADERS);

    /* HTTP_HEADERS_MAX is the ceiling whatever the limit says. */
    char big[4096];
    size_t n = 0;
    n += (size_t)sprintf(big, "GET / HTTP/1.1\r\n");
    for (int i = 0; i <= HTTP_HEADERS_MAX; i++)
        n += (size_t)sprintf(big + n, "H%d: v\r\n", i);
    strcpy(big + n, "\r\n");
    lim.max_headers = 1000;
    assert_int_equal(parse(big, &lim), HTTP_MALFORMED);
    assert_int_equal(req.error, HTTP_ERR_TOO_MANY_HEADERS);

    /* The head must end within max_head bytes. */
    lim = (struct http_limits){ .max_head = 40 };
    r = "GET / HTTP/1.1\r\nX-Long: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
    assert_int_equal(http_parse_request((const uint8_t *)r, 39, 0, &lim, &req), HTTP_NEED_MORE);
    assert_int_equal(http_parse_request((const uint8_t *)r, 40, 0, &lim, &req), HTTP_MALFORMED);
    assert_int_equal(req.error, HTTP_ERR_HEAD_TOO_LARGE);
    assert_int_equal(parse(r, &lim), HTTP_MALFORMED);
    assert_int_equal(req.error, HTTP_ERR_HEAD_TOO_LARGE);
    r = "GET / HTTP/1.1\r\nX: y\r\n\r\n"; /* 24 bytes: fits */
    assert_int_equal(parse(r, &lim), HTTP_COMPLETE);

    /* The default limit. */
    char *huge = malloc(HTTP_HEAD_MAX_DEFAULT + 100);
    assert_non_null(huge);
    memset(huge, 'a', HTTP_HEAD_MAX_DEFAULT + 100);
    memcpy(huge, "GET / HTTP/1.1\r\nX: ", 19);
    assert_int_equal(http_parse_request((uint8_t *)huge, HTTP_HEAD_MAX_DEFAULT - 1, 0, NULL, &req),
                     HTTP_NEED_MORE);
    assert_int_equal(
        http_parse_request((uint8_t *)huge, HTTP_HEAD_MAX_DEFAULT + 100, 0, NULL, &req),
        HTTP_MALFORMED);
    assert_int_equal(req.error, HTTP_ERR_HEAD_TOO_LARGE);
    free(huge);
}

/* Every split gives "need more" until the last byte, then the same
 * result; with prev_len too (one byte at a time, as a slow client). */
static void test_splits(void **state)
{
    (void)state;
    static const char *const reqs[] = {
        "GET /x HTTP/1.1\r\nHost: a\r\nUser-Agent: b\r\n\r\n",
        "\r\nPOST /y HTTP/1.0\nContent-Length: 3\n\n",
        "GET /z\r\n",
    };
    for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
        size_t len = strlen(reqs[i]);
        assert_int_equal(parse(reqs[i], NULL), HTTP_COMPLETE);
        size_t head = req.head_len;
        assert_int_equal(head, len);
        for (size_t l = 0; l < len; l++) {
            uint8_t *p = malloc(l ? l : 1);
            assert_non_null(p);
            memcpy(p, reqs[i], l);
            assert_int_equal(http_parse_request(p, l, 0, NULL, &req), HTTP_NEED_MORE);
            free(p);
        }
        size_t prev = 0;
        for (size_t l = 1; l <= len; l++) {
            enum http_status st = http_parse_request((const uint8_t *)reqs[i], l, prev, NULL, &req);
            assert_int_equal(st, l == len ? HTTP_COMPLETE : HTTP_NEED_MORE);
            prev = l;
        }
        assert_int_equal(req.head_len, head);
        /* Called again with nothing new. */
        assert_int_equal(http_parse_request((const uint8_t *)reqs[i], len - 1, len - 1, NULL, &req),
                         HTTP_NEED_MORE);
    }

    /* With prev_len, an error shows once its line ends. */
    const char *bad = "G(T / HTTP/1.1\r\n";
    assert_int_equal(http_parse_request((const uint8_t *)bad, 1, 0, NULL, &req), HTTP_NEED_MORE);
    assert_int_equal(http_parse_request((const uint8_t *)bad, 3, 1, NULL, &req), HTTP_NEED_MORE);
    assert_int_equal(http_parse_request((const uint8_t *)bad, strlen(bad), 3, NULL, &req),
                     HTTP_MALFORMED);
    assert_int_equal(req.error, HTTP_ERR_METHOD);
}

/* Parse s[0..len) from an allocation of exactly len bytes, so that a read
 * past the end is caught under ASan. */
static enum http_status parse_exact(const char *s, size_t len, struct http_request *r)
{
    uint8_t *p = malloc(len ? len : 1);
    assert_non_null(p);
    memcpy(p, s, len);
    enum http_status st = http_parse_request(p, len, 0, NULL, r);
    free(p);
    return st;
}

/* Every byte value in a method, a target, a header name and a header
 * value, against the classes of RFC 9110 5.6.2 and 5.5 spelt out here. */
static void test_byte_classes(void **state)
{
    (void)state;
    static const char tspecial[] = "!#$%&'*+-.^_`|~";
    char r[128];
    for (int c = 0; c < 256; c++) {
        bool tchar = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                     (c != 0 && strchr(tspecial, c) != NULL);
        bool vbyte = c == '\t' || (c >= 0x20 && c != 0x7f);
        bool target = c > ' ' && c != 0x7f;
        enum http_status st;
        int n;

        n = snprintf(r, sizeof(r), "G%cT / HTTP/1.1\r\n\r\n", c);
        st = parse_exact(r, (size_t)n, &req);
        if (c == ' ')
            assert_int_equal(req.error, HTTP_ERR_VERSION); /* "G T /": "/" is no version */
        else if (tchar)
            assert_int_equal(st, HTTP_COMPLETE);
        else if (st != HTTP_MALFORMED || req.error != HTTP_ERR_METHOD)
            fail_msg("method byte 0x%02x: status %d error %s", c, st, http_error_name(req.error));

        n = snprintf(r, sizeof(r), "GET /a%cb HTTP/1.1\r\n\r\n", c);
        st = parse_exact(r, (size_t)n, &req);
        if (target) {
            assert_int_equal(st, HTTP_COMPLETE);
            assert_int_equal(req.target.len, 4);
        } else if (c == '\n') {
            /* "GET /a" ends there: an HTTP/0.9 request. */
            assert_int_equal(st, HTTP_COMPLETE);
            assert_int_equal(req.version_minor, 9);
            assert_int_equal(req.target.len, 2);
        } else if (st != HTTP_MALFORMED) {
            fail_msg("target byte 0x%02x: status %d", c, st);
        } else {
            /* A bare CR is a bad line end; after a space, "b" is not a
             * version; anything else is a bad target byte. */
            enum http_error want = c == '\r'  ? HTTP_ERR_LINE
                                   : c == ' ' ? HTTP_ERR_VERSION
                                              : HTTP_ERR_TARGET;
            assert_int_equal(req.error, want);
        }

        n = snprintf(r, sizeof(r), "GET / HTTP/1.1\r\nX%cY: v\r\n\r\n", c);
        st = parse_exact(r, (size_t)n, &req);
        if (tchar || c == ':') {
            /* "X:Y: v" is header X with the value "Y: v". */
            assert_int_equal(st, HTTP_COMPLETE);
            assert_int_equal(req.headers[0].name.len, c == ':' ? 1 : 3);
        } else if (c != '\n' && (st != HTTP_MALFORMED || req.error != HTTP_ERR_HEADER)) {
            fail_msg("name byte 0x%02x: status %d error %s", c, st, http_error_name(req.error));
        }

        /* Values of every length up to three words, the byte at each
         * place, so that it is met at every offset of a word. */
        for (size_t len = 1; len <= 24; len++) {
            for (size_t at = 0; at < len; at++) {
                n = snprintf(r, sizeof(r), "GET / HTTP/1.1\r\nX: ");
                size_t v = (size_t)n;
                memset(r + v, 'v', len);
                r[v + at] = (char)c;
                memcpy(r + v + len, "\r\n\r\n", 4);
                size_t total = v + len + 4;
                st = parse_exact(r, total, &req);
                if (c == '\r' || c == '\n')
                    continue; /* a line end, not a value byte */
                if (!vbyte) {
                    if (st != HTTP_MALFORMED || req.error != HTTP_ERR_HEADER)
                        fail_msg("value byte 0x%02x at %zu/%zu: status %d", c, at, len, st);
                    continue;
                }
                assert_int_equal(st, HTTP_COMPLETE);
                /* Whitespace is trimmed at either end. */
                size_t s = v, e = v + len;
                while (s < e && (r[s] == ' ' || r[s] == '\t'))
                    s++;
                while (e > s && (r[e - 1] == ' ' || r[e - 1] == '\t'))
                    e--;
                assert_int_equal(req.headers[0].value.off, s);
                assert_int_equal(req.headers[0].value.len, e - s);
                assert_int_equal(req.head_len, total);
            }
        }
    }
}

/* Whitespace around values that span several words, and long values cut
 * short at every length. */
static void test_long_values(void **state)
{
    (void)state;
    const char *r = "GET / HTTP/1.1\r\nUser-Agent: \t  Mozilla/5.0 (X11; Linux x86_64)\t\t"
                    "\t\t\t\t\t\t\t\t  \r\nX: \t\t\t\t\t\t\t\t\t\t\t\t\r\n\r\n";
    assert_int_equal(parse_exact(r, strlen(r), &req), HTTP_COMPLETE);
    expect_span(r, req.user_agent, "Mozilla/5.0 (X11; Linux x86_64)");
    assert_int_equal(req.headers[1].value.len, 0);
    for (size_t l = 0; l < strlen(r); l++)
        assert_int_equal(parse_exact(r, l, &req), HTTP_NEED_MORE);

    /* A control byte far into a long value. */
    char bad[200];
    int n = snprintf(bad, sizeof(bad), "GET / HTTP/1.1\r\nX: %0100d\x7f%020d\r\n\r\n", 0, 0);
    assert_int_equal(parse_exact(bad, (size_t)n, &req), HTTP_MALFORMED);
    assert_int_equal(req.error, HTTP_ERR_HEADER);
    /* ... also when the line has not ended yet. */
    assert_int_equal(parse_exact(bad, 16 + 3 + 101, &req), HTTP_MALFORMED);
    assert_int_equal(parse_exact(bad, 16 + 3 + 100, &req), HTTP_NEED_MORE);
}

/* The headers the parser acts on, in any case, and names and values that
 * differ from them in one byte or in length. */
static void test_known_names(void **state)
{
    (void)state;
    static const struct {
        const char *name, *value;
    } known[] = {
        { "host", "h" },           { "user-agent", "u" },        { "referer", "r" },
        { "content-type", "t" },   { "content-length", "5" },    { "transfer-encoding", "chunked" },
        { "connection", "close" }, { "expect", "100-continue" },
    };
    char name[32], r[128];
    for (size_t k = 0; k < sizeof(known) / sizeof(known[0]); k++) {
        size_t nl = strlen(known[k].name);
        /* 0: as is; 1: upper case; 2: mixed; 3 + i: byte i changed;
         * then one byte longer and one shorter. */
        for (size_t v = 0; v < 3 + nl + 2; v++) {
            strcpy(name, known[k].name);
            bool match = v < 3;
            for (size_t i = 0; i < nl; i++)
                if ((v == 1 || (v == 2 && i % 2 == 0)) && name[i] >= 'a' && name[i] <= 'z')
                    name[i] = (char)(name[i] - 'a' + 'A');
            if (v >= 3 && v < 3 + nl) {
                size_t i = v - 3;
                name[i] = name[i] == 'x' ? 'y' : 'x';
            } else if (v == 3 + nl) {
                strcat(name, "s");
            } else if (v == 4 + nl) {
                name[nl - 1] = '\0';
            }
            int n =
                snprintf(r, sizeof(r), "POST / HTTP/1.1\r\n%s: %s\r\n\r\n", name, known[k].value);
            assert_int_equal(parse_exact(r, (size_t)n, &req), HTTP_COMPLETE);
            bool got;
            switch (k) {
            case 0:
                got = req.has_host;
                break;
            case 1:
                got = req.has_user_agent;
                break;
            case 2:
                got = req.has_referer;
                break;
            case 3:
                got = req.has_content_type;
                break;
            case 4:
                got = req.body == HTTP_BODY_LENGTH && req.content_length == 5;
                break;
            case 5:
                got = req.body == HTTP_BODY_CHUNKED;
                break;
            case 6:
                got = !req.keep_alive;
                break;
            default:
                got = req.expect_continue;
                break;
            }
            if (got != match)
                fail_msg("header name \"%s\": recognised %d, want %d", name, got, match);
        }
    }

    /* Values compared without regard to case, and near misses. */
    static const struct {
        const char *req;
        int keep, expect, chunked;
    } vals[] = {
        { "GET / HTTP/1.1\r\nConnection: CLOSE\r\n\r\n", 0, 0, 0 },
        { "GET / HTTP/1.1\r\nConnection: clos\r\n\r\n", 1, 0, 0 },
        { "GET / HTTP/1.1\r\nConnection: closer\r\n\r\n", 1, 0, 0 },
        { "GET / HTTP/1.1\r\nConnection: closf\r\n\r\n", 1, 0, 0 },
        { "GET / HTTP/1.0\r\nConnection: KEEP-ALIVE\r\n\r\n", 1, 0, 0 },
        { "GET / HTTP/1.0\r\nConnection: keep-alivf\r\n\r\n", 0, 0, 0 },
        { "GET / HTTP/1.0\r\nConnection: keep_alive\r\n\r\n", 0, 0, 0 },
        { "GET / HTTP/1.1\r\nExpect: 100-CONTINUE\r\n\r\n", 1, 1, 0 },
        { "GET / HTTP/1.1\r\nExpect: 100-continuf\r\n\r\n", 1, 0, 0 },
        { "GET / HTTP/1.1\r\nExpect: 100-continue, x\r\n\r\n", 1, 0, 0 },
        { "GET / HTTP/1.1\r\nExpect: 101-continue\r\n\r\n", 1, 0, 0 },
        { "GET / HTTP/1.1\r\nTransfer-Encoding: CHUNKED\r\n\r\n", 1, 0, 1 },
        { "GET / HTTP/1.1\r\nTransfer-Encoding: chunked;x=1\r\n\r\n", 1, 0, 1 },
    };
    for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
        assert_int_equal(parse_exact(vals[i].req, strlen(vals[i].req), &req), HTTP_COMPLETE);
        assert_int_equal(req.keep_alive, vals[i].keep);
        assert_int_equal(req.expect_continue, vals[i].expect);
        assert_int_equal(req.body == HTTP_BODY_CHUNKED, vals[i].chunked);
    }
    /* "chunked" spelt wrong is another coding, so not a framing the
     * parser accepts. */
    const char *te = "GET / HTTP/1.1\r\nTransfer-Encoding: chunkee\r\n\r\n";
    assert_int_equal(parse_exact(te, strlen(te), &req), HTTP_MALFORMED);
    assert_int_equal(req.error, HTTP_ERR_TRANSFER_ENCODING);
}

/* The version: every digit pair, and a buffer that ends inside it. */
static void test_versions(void **state)
{
    (void)state;
    char r[64];
    for (int major = 0; major <= 9; major++) {
        for (int minor = 0; minor <= 9; minor++) {
            int n = snprintf(r, sizeof(r), "GET / HTTP/%d.%d\r\n\r\n", major, minor);
            enum http_status st = parse_exact(r, (size_t)n, &req);
            assert_int_equal(req.version_major, major);
            assert_int_equal(req.version_minor, minor);
            if (major == 1) {
                assert_int_equal(st, HTTP_COMPLETE);
            } else {
                assert_int_equal(st, HTTP_MALFORMED);
                assert_int_equal(req.error, HTTP_ERR_VERSION);
            }
            /* "GET / HTTP/x.y" is 14 bytes: a bad major shows once
             * it is all there, before the line ends. */
            for (int l = 0; l < n; l++)
                assert_int_equal(parse_exact(r, (size_t)l, &req),
                                 major == 1 || l < 14 ? HTTP_NEED_MORE : HTTP_MALFORMED);
        }
    }
    /* A malformed version is reported before the line ends. */
    assert_int_equal(parse_exact("GET / HTTP/1,1", 14, &req), HTTP_MALFORMED);
    assert_int_equal(req.error, HTTP_ERR_VERSION);
    assert_int_equal(parse_exact("GET / HTTQ", 10, &req), HTTP_MALFORMED);
    assert_int_equal(req.error, HTTP_ERR_VERSION);
}

/* ---- body ---- */

/* Decode the whole body at buf, step bytes at a time (0: all at once);
 * body bytes go to out. Returns the status that ended it and sets *used. */
static enum http_body_status read_body(const struct http_request *r, const uint8_t *buf, size_t len,
                                       size_t step, char *out, size_t *out_len, size_t *used)
{
    struct http_body b;
    http_body_init(&b, r);
    size_t pos = 0, avail = step ? 0 : len;
    *out_len = 0;
    for (int guard = 0; guard < 100000; guard++) {
        if (step && avail < len - pos && avail == 0)
            avail = step < len - pos ? step : len - pos;
        size_t c;
        struct http_span d;
        enum http_body_status st = http_body_next(&b, buf + pos, avail, &c, &d);
        assert_true(c <= avail);
        if (st == HTTP_BODY_DATA) {
            assert_true(d.off + d.len <= c);
            memcpy(out + *out_len, buf + pos + d.off, d.len);
            *out_len += d.len;
        }
        pos += c;
        avail -= c;
        if (st == HTTP_BODY_DONE || st == HTTP_BODY_BAD) {
            *used = pos;
            assert_int_equal(b.total, *out_len);
            return st;
        }
        if (st == HTTP_BODY_MORE) {
            assert_int_equal(avail, 0);
            if (pos == len) {
                *used = pos;
                return st;
            }
            if (!step)
                avail = len - pos;
        }
    }
    fail_msg("body decoder did not advance");
    return HTTP_BODY_BAD;
}

static void test_body_length(void **state)
{
    (void)state;
    const char *r =
        "POST / HTTP/1.1\r\nContent-Length: 11\r\n\r\nhello worldGET / HTTP/1.1\r\n\r\n";
    assert_int_equal(parse(r, NULL), HTTP_COMPLETE);
    const uint8_t *body = (const uint8_t *)r + req.head_len;
    size_t blen = strlen(r) - req.head_len;
    struct http_request first = req;
    size_t steps[] = { 0, 1, 3 };
    for (size_t s = 0; s < 3; s++) {
        char out[64];
        size_t ol, used;
        assert_int_equal(read_body(&first, body, blen, steps[s], out, &ol, &used), HTTP_BODY_DONE);
        assert_int_equal(ol, 11);
        assert_memory_equal(out, "hello world", 11);
        assert_int_equal(used, 11);
    }
    /* The pipelined request after it. */
    assert_int_equal(http_parse_request(body + 11, blen - 11, 0, NULL, &req), HTTP_COMPLETE);
    assert_int_equal(req.head_len, blen - 11);

    /* A body still arriving. */
    char out[64];
    size_t ol, used;
    assert_int_equal(read_body(&first, body, 4, 0, out, &ol, &used), HTTP_BODY_MORE);
    assert_int_equal(ol, 4);

    /* No body: done at once, nothing used. */
    assert_int_equal(parse("GET / HTTP/1.1\r\n\r\n", NULL), HTTP_COMPLETE);
    assert_int_equal(read_body(&req, (const uint8_t *)"GET", 3, 0, out, &ol, &used),
                     HTTP_BODY_DONE);
    assert_int_equal(used, 0);
}

static void test_body_chunked(void **state)
{
    (void)state;
    const char *body = "5\r\nhello\r\n"
                       "6;name=\"v\"\r\n world\r\n"
                       "A \t;x\n0123456789\n"
                       "000\r\n"
                       "X-Trailer: 1\r\n"
                       "Y: 2\n"
                       "\r\n"
                       "GET /next HTTP/1.1\r\n\r\n";
    size_t end = strlen(body) - strlen("GET /next HTTP/1.1\r\n\r\n");
    assert_int_equal(parse("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", NULL),
                     HTTP_COMPLETE);
    struct http_request r = req;
    for (size_t step = 0; step < 8; step++) {
        char out[64];
        size_t ol, used;
        assert_int_equal(read_body(&r, (const uint8_t *)body, strlen(body), step, out, &ol, &used),
                         HTTP_BODY_DONE);
        assert_int_equal(ol, 21);
        assert_memory_equal(out, "hello world0123456789", 21);
        assert_int_equal(used, end);
    }
    /* Without a trailer. */
    char out[64];
    size_t ol, used;
    assert_int_equal(read_body(&r, (const uint8_t *)"0\r\n\r\n", 5, 1, out, &ol, &used),
                     HTTP_BODY_DONE);
    assert_int_equal(used, 5);
    assert_int_equal(ol, 0);
    /* Not finished yet. */
    assert_int_equal(read_body(&r, (const uint8_t *)"3\r\nab", 5, 0, out, &ol, &used),
                     HTTP_BODY_MORE);
    assert_int_equal(ol, 2);
}

static void test_body_chunked_malformed(void **state)
{
    (void)state;
    assert_int_equal(parse("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", NULL),
                     HTTP_COMPLETE);
    struct http_request r = req;
    static const char *const bad[] = {
        "zz\r\n",
        "\r\n",
        ";x\r\n",
        "-5\r\n",
        "5 x\r\n",
        "5\rX",
        "5\r\nhelloX",
        "5\r\nhello\rX",
        "1000000000000000\r\n", /* 16 hex digits */
        "0\r\nbad trailer\x01\r\n\r\n",
        "0\r\n\rX",
        "0\r\n:x\r\n\r\n",
        "1;\x01\r\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char out[64];
        size_t ol, used;
        enum http_body_status st =
            read_body(&r, (const uint8_t *)bad[i], strlen(bad[i]), 0, out, &ol, &used);
        if (st != HTTP_BODY_BAD)
            fail_msg("case %zu: status %d", i, st);
    }

    /* A chunk-size line longer than HTTP_CHUNK_LINE_MAX, and trailers
     * longer than HTTP_TRAILER_MAX in all. */
    size_t n = HTTP_CHUNK_LINE_MAX + 10;
    char *line = malloc(n + 2 * HTTP_TRAILER_MAX + 100);
    assert_non_null(line);
    memset(line, 'a', n);
    memcpy(line, "1;", 2);
    char out[64];
    size_t ol, used;
    assert_int_equal(read_body(&r, (const uint8_t *)line, n, 0, out, &ol, &used), HTTP_BODY_BAD);
    size_t k = 0;
    k += (size_t)sprintf(line, "0\r\n");
    while (k < 2 * HTTP_TRAILER_MAX)
        k += (size_t)sprintf(line + k, "X-T: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n");
    assert_int_equal(read_body(&r, (const uint8_t *)line, k, 0, out, &ol, &used), HTTP_BODY_BAD);
    free(line);
}

static void test_helpers(void **state)
{
    (void)state;
    const uint8_t *b = (const uint8_t *)"Content-Length";
    struct http_span s = { 0, 14 };
    assert_true(http_span_ieq(b, s, "content-length"));
    assert_true(http_span_ieq(b, s, "CONTENT-LENGTH"));
    assert_false(http_span_ieq(b, s, "content-lengt"));
    assert_false(http_span_ieq(b, s, "content_length"));
    assert_string_equal(http_error_name(HTTP_ERR_NONE), "none");
    assert_string_equal(http_error_name(HTTP_ERR_LENGTH_CONFLICT), "length-conflict");
    assert_string_equal(http_error_name(HTTP_ERR_HEAD_TOO_LARGE), "head-too-large");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get),          cmocka_unit_test(test_post_fields),
        cmocka_unit_test(test_keep_alive),   cmocka_unit_test(test_lenient_forms),
        cmocka_unit_test(test_malformed),    cmocka_unit_test(test_limits),
        cmocka_unit_test(test_splits),       cmocka_unit_test(test_body_length),
        cmocka_unit_test(test_body_chunked), cmocka_unit_test(test_body_chunked_malformed),
        cmocka_unit_test(test_helpers),      cmocka_unit_test(test_byte_classes),
        cmocka_unit_test(test_long_values),  cmocka_unit_test(test_known_names),
        cmocka_unit_test(test_versions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
