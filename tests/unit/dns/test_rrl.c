/* Unit tests for dns/rrl: token buckets, slip, prefixes, exemptions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "dns/responder.h"
#include "dns/rrl.h"

static struct sk_config *make_cfg(uint32_t rate, uint32_t slip)
{
    struct sk_config *cfg = calloc(1, sizeof(*cfg));
    cfg->rrl_ratelimit = rate;
    cfg->rrl_slip = slip;
    cfg->rrl_ipv4_prefix = 24;
    cfg->rrl_ipv6_prefix = 56;
    cfg->rrl_size = 4096;
    return cfg;
}

static const uint8_t name[] = "\x04test\x07example";

static void count(struct rrl *r, const char *ip, int n, uint64_t now, int *pass, int *slip,
                  int *drop)
{
    struct sk_ip src;
    sk_ip_parse(ip, &src);
    *pass = *slip = *drop = 0;
    for (int i = 0; i < n; i++) {
        enum sk_rrl_action a = rrl_check(r, &src, DNS_RRL_POSITIVE, name, sizeof(name), now);
        *pass += a == SK_RRL_PASS;
        *slip += a == SK_RRL_SLIP;
        *drop += a == SK_RRL_DROP;
    }
}

static void test_off(void **state)
{
    (void)state;
    struct sk_config *cfg = make_cfg(0, 2);
    assert_null(rrl_new(cfg));
    free(cfg);
}

static void test_burst_then_limit(void **state)
{
    (void)state;
    struct sk_config *cfg = make_cfg(10, 2);
    struct rrl *r = rrl_new(cfg);
    int pass, slip, drop;
    uint64_t t = 5000000;
    /* A full bucket lets `rate` through, then half the rest slip. */
    count(r, "198.51.100.1", 100, t, &pass, &slip, &drop);
    assert_int_equal(pass, 10);
    assert_int_equal(slip, 45);
    assert_int_equal(drop, 45);
    /* Same /24, other host: same bucket, still limited. */
    count(r, "198.51.100.200", 10, t, &pass, &slip, &drop);
    assert_int_equal(pass, 0);
    /* Other /24: its own bucket. */
    count(r, "198.51.101.1", 10, t, &pass, &slip, &drop);
    assert_int_equal(pass, 10);
    /* Half a second later, 5 tokens have come back. */
    count(r, "198.51.100.1", 20, t + 500000, &pass, &slip, &drop);
    assert_int_equal(pass, 5);
    /* Ten seconds later the bucket is full again, but no fuller. */
    count(r, "198.51.100.1", 50, t + 10500000, &pass, &slip, &drop);
    assert_int_equal(pass, 10);
    rrl_free(r);
    free(cfg);
}

static void test_classes_and_names_separate(void **state)
{
    (void)state;
    struct sk_config *cfg = make_cfg(1, 0);
    struct rrl *r = rrl_new(cfg);
    struct sk_ip src;
    sk_ip_parse("2001:db8:1:ff::1", &src);
    uint64_t t = 1000000;
    assert_int_equal(rrl_check(r, &src, DNS_RRL_POSITIVE, name, sizeof(name), t), SK_RRL_PASS);
    assert_int_equal(rrl_check(r, &src, DNS_RRL_POSITIVE, name, sizeof(name), t), SK_RRL_DROP);
    /* Another class, another name: other buckets. */
    assert_int_equal(rrl_check(r, &src, DNS_RRL_NODATA, name, sizeof(name), t), SK_RRL_PASS);
    assert_int_equal(rrl_check(r, &src, DNS_RRL_POSITIVE, (const uint8_t *)"\x01x", 3, t),
                     SK_RRL_PASS);
    /* Case does not make a new bucket. */
    assert_int_equal(rrl_check(r, &src, DNS_RRL_POSITIVE, (const uint8_t *)"\x04TEST\x07Example",
                               sizeof(name), t),
                     SK_RRL_DROP);
    /* Same /56 (2001:db8:1:00xx::), other /64: same bucket. */
    struct sk_ip near;
    sk_ip_parse("2001:db8:1:12::9", &near);
    assert_int_equal(rrl_check(r, &near, DNS_RRL_POSITIVE, name, sizeof(name), t), SK_RRL_DROP);
    struct sk_ip far;
    sk_ip_parse("2001:db8:1:100::1", &far);
    assert_int_equal(rrl_check(r, &far, DNS_RRL_POSITIVE, name, sizeof(name), t), SK_RRL_PASS);
    rrl_free(r);
    free(cfg);
}

static void test_slip_one_and_exempt(void **state)
{
    (void)state;
    struct sk_config *cfg = make_cfg(1, 1);
    sk_prefix_parse("203.0.113.0/24", &cfg->rrl_exempt[0]);
    cfg->n_rrl_exempt = 1;
    struct rrl *r = rrl_new(cfg);
    int pass, slip, drop;
    count(r, "192.0.2.1", 10, 1000000, &pass, &slip, &drop);
    assert_int_equal(pass, 1);
    assert_int_equal(slip, 9);
    assert_int_equal(drop, 0);
    struct sk_ip ex;
    sk_ip_parse("203.0.113.9", &ex);
    for (int i = 0; i < 100; i++)
        assert_int_equal(rrl_check(r, &ex, DNS_RRL_POSITIVE, name, sizeof(name), 1000000),
                         SK_RRL_EXEMPT);
    rrl_free(r);
    free(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_off),
        cmocka_unit_test(test_burst_then_limit),
        cmocka_unit_test(test_classes_and_names_separate),
        cmocka_unit_test(test_slip_one_and_exempt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
