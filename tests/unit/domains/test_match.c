/* Unit tests for domains/match: token scanning and attribution. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "domains/date.h"
#include "domains/family.h"
#include "domains/match.h"

static void test_scan(void **state)
{
    (void)state;
    struct domains_match *m = domains_match_new();
    assert_non_null(m);
    const char *l1 = "[1440720000] unbound: info: 10.0.0.5 WWW.Example.COM. A IN";
    /* Tokens: www.example.com and its parent; 10.0.0.5 is an address. */
    assert_int_equal(domains_match_scan_line(m, l1, strlen(l1), 1), 2);
    assert_int_equal(domains_match_size(m), 2);
    const char *l2 = "www.example.com ..foo.. a..b example.com";
    /* Known names add nothing; "foo" has no dot; "a..b" is not a name. */
    assert_int_equal(domains_match_scan_line(m, l2, strlen(l2), 2), 0);
    const char *l3 = "x.y.z.example.org";
    assert_int_equal(domains_match_scan_line(m, l3, strlen(l3), 3), 4);
    domains_match_free(m);
}

static void test_attribute(void **state)
{
    (void)state;
    struct domains_match *m = domains_match_new();
    const char *log[] = {
        "query nothing.example",
        "query www.nccojqvabqvkiwhj.mx. A",
        "query bqkrtxgkmriwsiwcngtivpx.info AAAA",
    };
    for (size_t i = 0; i < 3; i++)
        assert_true(domains_match_scan_line(m, log[i], strlen(log[i]), i + 1) > 0);
    int32_t from, to;
    assert_int_equal(domains_parse_date("2015-08-01", 0, &from), 0);
    assert_int_equal(domains_parse_date("2016-02-29", 0, &to), 0);
    for (size_t i = 0; i < domains_family_count(); i++) {
        const struct domains_family *f = domains_family_at(i);
        struct domains_run run;
        char err[512];
        assert_int_equal(domains_run_init(&run, f, NULL, NULL, 0, err, sizeof(err)), 0);
        assert_int_equal(domains_run_range(&run, from, to, DOMAINS_DEDUP, domains_match_cb, m), 0);
    }
    domains_match_sort(m);
    assert_int_equal(domains_match_hits(m), 2);
    const struct domains_hit *h = domains_match_hit(m, 0);
    char a[16], b[16];
    assert_string_equal(h->name, "nccojqvabqvkiwhj.mx");
    assert_string_equal(h->seen, "www.nccojqvabqvkiwhj.mx");
    assert_int_equal(h->line, 2);
    assert_string_equal(h->family, "necurs");
    assert_string_equal(domains_format_day(h->first_day, a), "2015-08-28");
    assert_string_equal(domains_format_day(h->last_day, b), "2015-08-31");
    h = domains_match_hit(m, 1);
    assert_string_equal(h->family, "qakbot");
    assert_string_equal(domains_format_day(h->first_day, a), "2016-02-21");
    assert_string_equal(domains_format_day(h->last_day, b), "2016-02-29");
    assert_null(domains_match_hit(m, 2));
    domains_match_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scan),
        cmocka_unit_test(test_attribute),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
