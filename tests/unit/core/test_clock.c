/* Unit tests for core/clock and core/crc32c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/crc32c.h"
#include "core/err.h"

static void test_parse_format(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        int rc;
        uint64_t us;
    } cases[] = {
        { "1970-01-01", 0, 0 },
        { "2009-11-05T00:00:00Z", 0, 1257379200000000ull },
        { "2026-11-28T12:00:00.5Z", 0, 1795867200500000ull },
        { "2024-02-29", 0, 1709164800000000ull },
        { "2023-02-29", SK_EINVAL, 0 },
        { "2026-13-01", SK_EINVAL, 0 },
        { "2026-11-28T25:00:00Z", SK_EINVAL, 0 },
        { "yesterday", SK_EINVAL, 0 },
        { "2026-11-28junk", SK_EINVAL, 0 },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint64_t us = 0;
        assert_int_equal(sk_clock_parse(cases[i].in, &us), cases[i].rc);
        if (cases[i].rc == 0)
            assert_int_equal(us, cases[i].us);
    }
    char buf[32];
    assert_string_equal(sk_clock_format(1257379200123456ull, buf), "2009-11-05T00:00:00.123456Z");
}

static void test_offset_and_scale(void **state)
{
    (void)state;
    /* Start in 2009 at 1000x: after ~20 ms real, ~20 s have passed. */
    assert_int_equal(sk_clock_set(1257379200000000ll, 0, 1000.0), 0);
    uint64_t t0 = sk_clock_now_us(), m0 = sk_clock_mono_us();
    assert_true(t0 >= 1257379200000000ull && t0 < 1257379200000000ull + 5000000ull);
    struct timespec ts = { 0, 20000000 };
    nanosleep(&ts, NULL);
    uint64_t t1 = sk_clock_now_us(), m1 = sk_clock_mono_us();
    assert_true(t1 - t0 >= 19000000ull);
    assert_true(m1 - m0 >= 19000000ull);
    assert_int_equal(sk_clock_set(0, 0, 0.0), SK_EINVAL);

    /* Offset only: an hour back. */
    assert_int_equal(sk_clock_set(0, -3600ll * 1000000, 1.0), 0);
    struct timespec real;
    clock_gettime(CLOCK_REALTIME, &real);
    int64_t diff = (int64_t)real.tv_sec - (int64_t)(sk_clock_now_us() / 1000000u);
    assert_true(diff >= 3599 && diff <= 3601);

    setenv("SINKHOLE_CLOCK", "start=2009-11-05T00:00:00Z,scale=60", 1);
    assert_int_equal(sk_clock_init(), 0);
    assert_true(sk_clock_now_us() / 1000000u - 1257379200u < 60);
    setenv("SINKHOLE_CLOCK", "scale=fast", 1);
    assert_int_equal(sk_clock_init(), SK_EINVAL);
    setenv("SINKHOLE_CLOCK", "warp=1", 1);
    assert_int_equal(sk_clock_init(), SK_EINVAL);
    unsetenv("SINKHOLE_CLOCK");
    assert_int_equal(sk_clock_init(), 0);
}

static void test_crc32c(void **state)
{
    (void)state;
    /* RFC 3720 B.4 test vectors and the common check value. */
    uint8_t zeros[32], ones[32], inc[32];
    memset(zeros, 0, 32);
    memset(ones, 0xff, 32);
    for (int i = 0; i < 32; i++)
        inc[i] = (uint8_t)i;
    assert_int_equal(crc32c(0, zeros, 32), 0x8a9136aa);
    assert_int_equal(crc32c(0, ones, 32), 0x62a8ab43);
    assert_int_equal(crc32c(0, inc, 32), 0x46dd794e);
    assert_int_equal(crc32c(0, "123456789", 9), 0xe3069283);
    /* Incremental equals one-shot, at every split. */
    const char *check = "123456789";
    for (size_t k = 0; k <= 9; k++)
        assert_int_equal(crc32c(crc32c(0, check, k), check + k, 9 - k), 0xe3069283);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_format),
        cmocka_unit_test(test_offset_and_scale),
        cmocka_unit_test(test_crc32c),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
