/* Unit tests for proto/sniff: each protocol from its first bytes, the
 * "need more" states, and that an answer never changes as bytes arrive. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "proto/sniff.h"

struct sniff_case {
    const char *bytes;
    size_t len;
    enum sniff_proto want;
};

#define C(lit, want)               \
    {                              \
        lit, sizeof(lit) - 1, want \
    }

static const struct sniff_case cases[] = {
    /* HTTP: known methods decide on the space after them. */
    C("GET / HTTP/1.1\r\n", SNIFF_HTTP),
    C("GET ", SNIFF_HTTP),
    C("POST /gate.php HTTP/1.0\r\n", SNIFF_HTTP),
    C("HEAD http://x/ HTTP/1.1", SNIFF_HTTP),
    C("CONNECT example.com:443 HTTP/1.1", SNIFF_HTTP),
    C("OPTIONS * HTTP/1.1", SNIFF_HTTP),
    C("PROPFIND /dav HTTP/1.1", SNIFF_HTTP),
    C("DELETE /x", SNIFF_HTTP),
    /* Unknown upper-case methods need a target start after the space. */
    C("BOTCHECKIN /c HTTP/1.1", SNIFF_HTTP),
    C("XYZ *", SNIFF_HTTP),
    C("FOO http://", SNIFF_HTTP),
    C("FOO ", SNIFF_NEED_MORE),
    C("FOO \x01", SNIFF_RAW),
    C("FO /", SNIFF_RAW),                    /* too short for an unknown method */
    C("ABCDEFGHIJKLMNOPQRSTU /", SNIFF_RAW), /* 21 letters */
    C("ABCDEFGHIJKLMNOPQRST /", SNIFF_HTTP), /* 20 letters */
    C("get / HTTP/1.1", SNIFF_RAW),          /* methods are case-sensitive */
    C("GETX", SNIFF_NEED_MORE),
    C("GETX /", SNIFF_HTTP),
    C("GE", SNIFF_NEED_MORE),
    C("GET", SNIFF_NEED_MORE),
    C("GET/", SNIFF_RAW),
    C("G\x00T /", SNIFF_RAW),
    C("PRI * HTTP/2.0\r\n", SNIFF_HTTP), /* the HTTP parser refuses it later */
    /* TLS handshake records. */
    C("\x16\x03\x01\x02\x00\x01", SNIFF_TLS),
    C("\x16\x03\x00", SNIFF_TLS),
    C("\x16\x03\x04", SNIFF_TLS),
    C("\x16\x03", SNIFF_NEED_MORE),
    C("\x16", SNIFF_NEED_MORE),
    C("\x16\x03\x05", SNIFF_RAW),
    C("\x16\x02\x00", SNIFF_RAW),
    C("\x17\x03\x03\x00\x10", SNIFF_RAW), /* application data first: not a hello */
    C("\x80\x2e\x01\x00\x02", SNIFF_RAW), /* SSLv2-compatible hello */
    /* PROXY protocol. */
    C("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n", SNIFF_PROXY_V1),
    C("PROXY ", SNIFF_PROXY_V1),
    C("PROXY", SNIFF_NEED_MORE),
    C("PROX", SNIFF_NEED_MORE),
    C("PROXYX", SNIFF_NEED_MORE), /* may still be an unknown method */
    C("PROXYX /", SNIFF_HTTP),
    C("PROXY\x01", SNIFF_RAW),
    C("\r\n\r\n\0\r\nQUIT\n", SNIFF_PROXY_V2),
    C("\r\n\r\n\0\r\nQUIT\n\x21\x11\x00\x0c", SNIFF_PROXY_V2),
    C("\r\n\r\n\0\r\nQUI", SNIFF_NEED_MORE),
    C("\r\n", SNIFF_NEED_MORE),
    C("\r\n\r\nX", SNIFF_RAW),
    /* Raw: a binary check-in, text that is not a request. */
    C("\x00\x00\x00\x10\xde\xad\xbe\xef", SNIFF_RAW),
    C("\xff\xfe", SNIFF_RAW),
    C("hello", SNIFF_RAW),
    C("SSH-2.0-OpenSSH_9.2\r\n", SNIFF_RAW),
    C("", SNIFF_NEED_MORE),
};

static void test_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        enum sniff_proto got = sniff_classify((const uint8_t *)cases[i].bytes, cases[i].len);
        if (got != cases[i].want)
            fail_msg("case %zu (%.*s): got %s, want %s", i, (int)cases[i].len, cases[i].bytes,
                     sniff_proto_name(got), sniff_proto_name(cases[i].want));
    }
}

/* Every prefix of a decided input is either undecided or decided the same
 * way, and the answer is final within SNIFF_DECIDE_MAX bytes. */
static void test_prefix_stability(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const uint8_t *b = (const uint8_t *)cases[i].bytes;
        enum sniff_proto final = sniff_classify(b, cases[i].len);
        for (size_t l = 0; l <= cases[i].len; l++) {
            enum sniff_proto p = sniff_classify(b, l);
            assert_true(p == SNIFF_NEED_MORE || p == final);
            if (p == SNIFF_NEED_MORE)
                continue;
            /* Once decided, more bytes never change it. */
            for (size_t m = l; m <= cases[i].len; m++)
                assert_int_equal(sniff_classify(b, m), p);
        }
    }

    /* Decided at SNIFF_DECIDE_MAX bytes whatever they are. */
    uint8_t buf[SNIFF_DECIDE_MAX];
    memset(buf, 'A', sizeof(buf));
    assert_int_equal(sniff_classify(buf, SNIFF_METHOD_MAX), SNIFF_NEED_MORE);
    assert_int_equal(sniff_classify(buf, SNIFF_METHOD_MAX + 1), SNIFF_RAW);
    memcpy(buf + SNIFF_METHOD_MAX, " /", 2);
    assert_int_equal(sniff_classify(buf, SNIFF_DECIDE_MAX - 1), SNIFF_NEED_MORE);
    assert_int_equal(sniff_classify(buf, SNIFF_DECIDE_MAX), SNIFF_HTTP);
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(sniff_proto_name(SNIFF_NEED_MORE), "need-more");
    assert_string_equal(sniff_proto_name(SNIFF_HTTP), "http");
    assert_string_equal(sniff_proto_name(SNIFF_TLS), "tls");
    assert_string_equal(sniff_proto_name(SNIFF_PROXY_V1), "proxy-v1");
    assert_string_equal(sniff_proto_name(SNIFF_PROXY_V2), "proxy-v2");
    assert_string_equal(sniff_proto_name(SNIFF_RAW), "raw");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_prefix_stability),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
