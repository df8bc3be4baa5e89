/* fuzz/fuzz_http.c -- the HTTP request parser, the body decoder and the
 * protocol sniffer on arbitrary input.
 *
 * Checks that spans stay inside the head, that a complete head does not
 * depend on the bytes after it, that feeding the input in pieces (with
 * prev_len, as a listener does) ends in the same head, that the body
 * decoder gives the same bytes whatever the split, and that a sniffing
 * decision never changes when bytes are added. Any broken invariant
 * aborts, which libFuzzer and the corpus replay both report. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/http.h"
#include "proto/sniff.h"

#define CHECK(cond)  \
    do {             \
        if (!(cond)) \
            abort(); \
    } while (0)

static void check_span(struct http_span s, size_t end)
{
    CHECK((size_t)s.off + s.len <= end);
}

/* Decode the body at buf[0..len) handing over step bytes at a time (0:
 * all); returns the status that ended it, the body bytes (count and a
 * checksum) and the bytes used. */
static enum http_body_status body(const struct http_request *req, const uint8_t *buf, size_t len,
                                  size_t step, uint64_t *count, uint64_t *sum, size_t *used)
{
    struct http_body b;
    http_body_init(&b, req);
    size_t pos = 0, avail = 0;
    *count = *sum = 0;
    for (;;) {
        if (avail == 0) {
            size_t rest = len - pos;
            avail = step && step < rest ? step : rest;
        }
        size_t c = 0;
        struct http_span d;
        enum http_body_status st = http_body_next(&b, buf + pos, avail, &c, &d);
        CHECK(c <= avail);
        if (st == HTTP_BODY_DATA) {
            CHECK(d.len > 0 && (size_t)d.off + d.len == c);
            for (size_t i = 0; i < d.len; i++)
                *sum = *sum * 31 + buf[pos + d.off + i];
            *count += d.len;
        } else {
            CHECK(d.len == 0);
        }
        pos += c;
        avail -= c;
        if (st == HTTP_BODY_DONE || st == HTTP_BODY_BAD) {
            *used = pos;
            CHECK(b.total == *count);
            return st;
        }
        if (st == HTTP_BODY_MORE) {
            CHECK(avail == 0);
            if (pos == len) {
                *used = pos;
                return st;
            }
        } else {
            CHECK(c > 0 || avail == 0);
        }
    }
}

static void check_sniff(const uint8_t *data, size_t size)
{
    enum sniff_proto final = sniff_classify(data, size);
    CHECK(final <= SNIFF_RAW);
    if (size >= SNIFF_DECIDE_MAX)
        CHECK(final != SNIFF_NEED_MORE);
    size_t lim = size < 64 ? size : 64;
    for (size_t l = 0; l <= lim; l++) {
        enum sniff_proto p = sniff_classify(data, l);
        CHECK(p == SNIFF_NEED_MORE || p == final);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_sniff(data, size);

    struct http_limits lim = { 0 };
    if (size > 0 && data[0] == '\r') /* some inputs get tight limits */
        lim = (struct http_limits){ .max_head = 256, .max_headers = 4 };

    static struct http_request req, again;
    enum http_status st = http_parse_request(data, size, 0, &lim, &req);
    CHECK(st <= HTTP_MALFORMED);
    if (st == HTTP_MALFORMED)
        CHECK(req.error != HTTP_ERR_NONE);

    if (st == HTTP_COMPLETE) {
        size_t head = req.head_len;
        CHECK(head > 0 && head <= size);
        CHECK(head <= (lim.max_head ? lim.max_head : HTTP_HEAD_MAX_DEFAULT));
        CHECK(req.error == HTTP_ERR_NONE);
        CHECK(req.method.len > 0 && req.target.len > 0);
        check_span(req.method, head);
        check_span(req.target, head);
        CHECK(req.version_major <= 1);
        CHECK(req.n_headers <= HTTP_HEADERS_MAX);
        if (lim.max_headers)
            CHECK(req.n_headers <= lim.max_headers);
        for (uint16_t i = 0; i < req.n_headers; i++) {
            check_span(req.headers[i].name, head);
            check_span(req.headers[i].value, head);
            CHECK(req.headers[i].name.len > 0);
        }
        check_span(req.host, head);
        check_span(req.user_agent, head);
        check_span(req.referer, head);
        check_span(req.content_type, head);
        if (req.body == HTTP_BODY_LENGTH)
            CHECK(req.content_length > 0);
        if (req.version_major == 0)
            CHECK(!req.keep_alive && req.body == HTTP_BODY_NONE && req.n_headers == 0);

        /* The head alone gives the same answer. */
        CHECK(http_parse_request(data, head, 0, &lim, &again) == HTTP_COMPLETE);
        CHECK(again.head_len == head && again.n_headers == req.n_headers);
        CHECK(again.body == req.body && again.keep_alive == req.keep_alive);

        /* The body, whole and in small pieces. */
        uint64_t c1, s1, c2, s2;
        size_t u1, u2;
        size_t step = (size_t)(data[size - 1] % 7) + 1;
        enum http_body_status b1 = body(&req, data + head, size - head, 0, &c1, &s1, &u1);
        enum http_body_status b2 = body(&req, data + head, size - head, step, &c2, &s2, &u2);
        /* Where a bad framing byte sits in a call differs with the split,
         * so only the body bytes are compared then. */
        CHECK(b1 == b2 && c1 == c2 && s1 == s2);
        if (b1 != HTTP_BODY_BAD)
            CHECK(u1 == u2);
        CHECK(u1 <= size - head);
        if (req.body == HTTP_BODY_LENGTH && b1 == HTTP_BODY_DONE)
            CHECK(c1 == req.content_length);
    }

    /* In pieces, with prev_len: never a different head, never complete
     * when the whole is not. */
    size_t piece = size > 0 ? (size_t)(data[0] % 13) + 1 : 1;
    size_t prev = 0;
    enum http_status inc = HTTP_NEED_MORE;
    for (size_t l = piece < size ? piece : size; l <= size;) {
        inc = http_parse_request(data, l, prev, &lim, &again);
        if (inc != HTTP_NEED_MORE)
            break;
        prev = l;
        if (l == size)
            break;
        l = l + piece < size ? l + piece : size;
    }
    if (st == HTTP_COMPLETE)
        CHECK(inc == HTTP_COMPLETE && again.head_len == req.head_len);
    else
        CHECK(inc != HTTP_COMPLETE);
    if (st == HTTP_NEED_MORE)
        CHECK(inc == HTTP_NEED_MORE);
    return 0;
}
