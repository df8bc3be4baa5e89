/* Unit tests for core/addr: parsing, formatting, prefixes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "core/addr.h"
#include "core/err.h"

static void test_parse_port(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        int rc;
        int af;
        const char *text;
    } cases[] = {
        { "127.0.0.1:53", 0, 4, "127.0.0.1:53" },
        { "[::1]:5353", 0, 6, "[::1]:5353" },
        { "0.0.0.0:65535", 0, 4, "0.0.0.0:65535" },
        { "[2001:db8::1]:80", 0, 6, "[2001:db8::1]:80" },
        { "127.0.0.1", SK_EINVAL, 0, NULL },
        { "127.0.0.1:65536", SK_EINVAL, 0, NULL },
        { "127.0.0.1:", SK_EINVAL, 0, NULL },
        { "::1:53", SK_EINVAL, 0, NULL },
        { "[127.0.0.1]:53", SK_EINVAL, 0, NULL },
        { "host:53", SK_EINVAL, 0, NULL },
        { "[::1]53", SK_EINVAL, 0, NULL },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct sk_ip ip;
        int rc = sk_ip_parse_port(cases[i].in, &ip);
        assert_int_equal(rc, cases[i].rc);
        if (rc == 0) {
            char buf[SK_IP_TEXT_MAX];
            assert_int_equal(ip.af, cases[i].af);
            assert_string_equal(sk_ip_ntop_port(&ip, buf), cases[i].text);
        }
    }
}

static void test_prefix(void **state)
{
    (void)state;
    struct sk_prefix p;
    struct sk_ip ip;
    assert_int_equal(sk_prefix_parse("198.51.100.0/24", &p), 0);
    assert_int_equal(p.len, 24);
    sk_ip_parse("198.51.100.77", &ip);
    assert_true(sk_prefix_contains(&p, &ip));
    sk_ip_parse("198.51.101.1", &ip);
    assert_false(sk_prefix_contains(&p, &ip));
    sk_ip_parse("2001:db8::1", &ip);
    assert_false(sk_prefix_contains(&p, &ip)); /* other family */

    assert_int_equal(sk_prefix_parse("2001:db8:ab00::/40", &p), 0);
    sk_ip_parse("2001:db8:abff::1", &ip);
    assert_true(sk_prefix_contains(&p, &ip));
    sk_ip_parse("2001:db8:ac00::1", &ip);
    assert_false(sk_prefix_contains(&p, &ip));

    assert_int_equal(sk_prefix_parse("10.0.0.0/12", &p), 0);
    sk_ip_parse("10.15.255.255", &ip);
    assert_true(sk_prefix_contains(&p, &ip));
    sk_ip_parse("10.16.0.0", &ip);
    assert_false(sk_prefix_contains(&p, &ip));

    assert_int_equal(sk_prefix_parse("192.0.2.1", &p), 0);
    assert_int_equal(p.len, 32);
    assert_int_equal(sk_prefix_parse("0.0.0.0/0", &p), 0);
    assert_true(sk_prefix_contains(&p, &ip));

    assert_int_equal(sk_prefix_parse("10.0.0.1/8", &p), SK_EINVAL); /* host bits */
    assert_int_equal(sk_prefix_parse("10.0.0.0/33", &p), SK_EINVAL);
    assert_int_equal(sk_prefix_parse("10.0.0.0/", &p), SK_EINVAL);
    assert_int_equal(sk_prefix_parse("::/129", &p), SK_EINVAL);
}

static void test_sockaddr_roundtrip(void **state)
{
    (void)state;
    struct sk_ip a, b;
    struct sockaddr_storage ss;
    sk_ip_parse_port("[2001:db8::5]:4242", &a);
    sk_ip_to_sockaddr(&a, &ss);
    sk_ip_from_sockaddr((struct sockaddr *)&ss, &b);
    assert_true(sk_ip_equal(&a, &b));
    assert_int_equal(b.port, 4242);
    /* v4-mapped v6 becomes v4 */
    sk_ip_parse_port("[::ffff:192.0.2.1]:53", &a);
    sk_ip_to_sockaddr(&a, &ss);
    sk_ip_from_sockaddr((struct sockaddr *)&ss, &b);
    assert_int_equal(b.af, 4);
    char buf[SK_IP_TEXT_MAX];
    assert_string_equal(sk_ip_ntop(&b, buf), "192.0.2.1");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_port),
        cmocka_unit_test(test_prefix),
        cmocka_unit_test(test_sockaddr_roundtrip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
