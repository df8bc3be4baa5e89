/* Unit tests for domains/date: day numbers, civil dates, date and number
 * parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "core/err.h"
#include "domains/date.h"

static void test_known_days(void **state)
{
    (void)state;
    static const struct {
        int y, m, d;
        int32_t day;
    } cases[] = {
        { 1970, 1, 1, 0 },      { 1970, 1, 2, 1 },      { 1999, 12, 31, 10956 },
        { 2000, 1, 1, 10957 },  { 2000, 2, 29, 11016 }, { 2000, 3, 1, 11017 },
        { 2015, 8, 28, 16675 }, { 2016, 2, 29, 16860 }, { 2019, 12, 31, 18261 },
        { 2020, 1, 1, 18262 },  { 2100, 3, 1, 47541 },  { 2199, 12, 31, 84005 },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(domains_day_from_civil(cases[i].y, cases[i].m, cases[i].d), cases[i].day);
        struct domains_civil c;
        domains_civil_from_day(cases[i].day, &c);
        assert_int_equal(c.year, cases[i].y);
        assert_int_equal(c.month, cases[i].m);
        assert_int_equal(c.day, cases[i].d);
    }
}

static void test_round_trip(void **state)
{
    (void)state;
    /* Every day of the supported range maps to a valid date and back, and
     * consecutive days are consecutive dates. */
    struct domains_civil prev;
    domains_civil_from_day(DOMAINS_DAY_MIN, &prev);
    for (int32_t d = DOMAINS_DAY_MIN + 1; d <= DOMAINS_DAY_MAX; d++) {
        struct domains_civil c;
        domains_civil_from_day(d, &c);
        assert_int_equal(domains_day_from_civil(c.year, c.month, c.day), d);
        if (c.day == 1) {
            assert_int_equal(prev.day, domains_days_in_month(prev.year, prev.month));
            assert_true(c.month == prev.month % 12 + 1);
        } else {
            assert_int_equal(c.day, prev.day + 1);
            assert_int_equal(c.month, prev.month);
        }
        prev = c;
    }
}

static void test_days_in_month(void **state)
{
    (void)state;
    assert_int_equal(domains_days_in_month(2016, 2), 29);
    assert_int_equal(domains_days_in_month(2015, 2), 28);
    assert_int_equal(domains_days_in_month(2000, 2), 29);
    assert_int_equal(domains_days_in_month(2100, 2), 28);
    assert_int_equal(domains_days_in_month(2015, 4), 30);
    assert_int_equal(domains_days_in_month(2015, 12), 31);
    assert_int_equal(domains_days_in_month(2015, 13), 0);
}

static void test_parse_date(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        int rc;
        int32_t day;
    } cases[] = {
        { "2015-08-28", 0, 16675 },      { "1970-01-01", 0, 0 },
        { "2199-12-31", 0, 84005 },      { "2016-02-29", 0, 16860 },
        { "today", 0, 20000 },           { "today+5", 0, 20005 },
        { "today-30", 0, 19970 },        { "today+0", 0, 20000 },
        { "2015-02-29", SK_EINVAL, 0 },  { "2015-13-01", SK_EINVAL, 0 },
        { "2015-00-10", SK_EINVAL, 0 },  { "2015-04-31", SK_EINVAL, 0 },
        { "1969-12-31", SK_EINVAL, 0 },  { "2200-01-01", SK_EINVAL, 0 },
        { "2015-8-28", SK_EINVAL, 0 },   { "2015-08-28 ", SK_EINVAL, 0 },
        { " 2015-08-28", SK_EINVAL, 0 }, { "2015/08/28", SK_EINVAL, 0 },
        { "20150828", SK_EINVAL, 0 },    { "", SK_EINVAL, 0 },
        { "today+", SK_EINVAL, 0 },      { "today-x", SK_EINVAL, 0 },
        { "todayx", SK_EINVAL, 0 },      { "today+100001", SK_EINVAL, 0 },
        { "today-20001", SK_EINVAL, 0 }, { "2015-08-2a", SK_EINVAL, 0 },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int32_t day = -1;
        int rc = domains_parse_date(cases[i].in, 20000, &day);
        assert_int_equal(rc, cases[i].rc);
        if (rc == 0)
            assert_int_equal(day, cases[i].day);
    }
    assert_int_equal(domains_parse_date(NULL, 0, &(int32_t){ 0 }), SK_EINVAL);
}

static void test_format_day(void **state)
{
    (void)state;
    char buf[16];
    assert_string_equal(domains_format_day(0, buf), "1970-01-01");
    assert_string_equal(domains_format_day(16860, buf), "2016-02-29");
    assert_string_equal(domains_format_day(84005, buf), "2199-12-31");
}

static void test_parse_uint(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        int hex;
        uint64_t max;
        int rc;
        uint64_t v;
    } cases[] = {
        { "9", 0, UINT32_MAX, 0, 9 },
        { "0x1F", 0, UINT32_MAX, 0, 31 },
        { "4294967295", 0, UINT32_MAX, 0, 4294967295u },
        { "4294967296", 0, UINT32_MAX, SK_EINVAL, 0 },
        { "EF214BBF", 1, UINT32_MAX, 0, 0xEF214BBF },
        { "0xef214bbf", 1, UINT32_MAX, 0, 0xEF214BBF },
        { "1EF214BBF", 1, UINT32_MAX, SK_EINVAL, 0 },
        { "EF", 0, UINT32_MAX, SK_EINVAL, 0 },
        { "0x", 0, UINT32_MAX, SK_EINVAL, 0 },
        { "", 0, UINT32_MAX, SK_EINVAL, 0 },
        { "-1", 0, UINT32_MAX, SK_EINVAL, 0 },
        { "1 ", 0, UINT32_MAX, SK_EINVAL, 0 },
        { "18446744073709551615", 0, UINT64_MAX, 0, UINT64_MAX },
        { "18446744073709551616", 0, UINT64_MAX, SK_EINVAL, 0 },
        { "100", 0, 99, SK_EINVAL, 0 },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint64_t v = 0;
        int rc = domains_parse_uint(cases[i].in, cases[i].hex, cases[i].max, &v);
        assert_int_equal(rc, cases[i].rc);
        if (rc == 0)
            assert_true(v == cases[i].v);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_days),    cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_days_in_month), cmocka_unit_test(test_parse_date),
        cmocka_unit_test(test_format_day),    cmocka_unit_test(test_parse_uint),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
