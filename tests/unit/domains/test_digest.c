/* Unit tests for domains/digest: MD5 against RFC 1321's test suite and
 * OpenSSL, CRC-32 and MT19937 against their published check values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "domains/digest.h"

static void hex(const uint8_t *d, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", d[i]);
}

static void test_md5_rfc1321(void **state)
{
    (void)state;
    static const struct {
        const char *in, *md5;
    } cases[] = {
        { "", "d41d8cd98f00b204e9800998ecf8427e" },
        { "a", "0cc175b9c0f1b6a831c399e269772661" },
        { "abc", "900150983cd24fb0d6963f7d28e17f72" },
        { "message digest", "f96b697d7cb7938d525a2f31aaf161d0" },
        { "abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b" },
        { "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
          "d174ab98d277d9f5a5611c2c9f419d9f" },
        { "1234567890123456789012345678901234567890123456789012345678901234567890123456789"
          "0",
          "57edf4a22be3c955ac49da2e2107b67a" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint8_t d[16];
        char h[33];
        domains_md5(cases[i].in, strlen(cases[i].in), d);
        hex(d, 16, h);
        assert_string_equal(h, cases[i].md5);
    }
}

static void test_md5_vs_openssl(void **state)
{
    (void)state;
    /* Every length from 0 to 300 bytes crosses the one- and two-block
     * padding cases (55, 56, 63, 64, 119, 120 ...). */
    uint8_t buf[300];
    uint32_t x = 12345;
    for (size_t i = 0; i < sizeof(buf); i++) {
        x = x * 1103515245u + 12345u;
        buf[i] = (uint8_t)(x >> 16);
    }
    for (size_t len = 0; len <= sizeof(buf); len++) {
        uint8_t mine[16], ref[16];
        unsigned int rl = 0;
        domains_md5(buf, len, mine);
        assert_int_equal(EVP_Digest(buf, len, ref, &rl, EVP_md5(), NULL), 1);
        assert_int_equal(rl, 16);
        assert_memory_equal(mine, ref, 16);
    }
}

static void test_crc32(void **state)
{
    (void)state;
    assert_true(domains_crc32("123456789", 9) == 0xCBF43926u);
    assert_true(domains_crc32("", 0) == 0u);
    assert_true(domains_crc32("The quick brown fox jumps over the lazy dog", 43) == 0x414FA339u);
}

static void test_mt19937(void **state)
{
    (void)state;
    /* The reference generator seeded with 5489: first outputs, and the
     * 10000th (the C++ standard's check value for std::mt19937). */
    struct domains_mt mt;
    domains_mt_seed(&mt, 5489);
    assert_true(domains_mt_next(&mt) == 3499211612u);
    assert_true(domains_mt_next(&mt) == 581869302u);
    assert_true(domains_mt_next(&mt) == 3890346734u);
    domains_mt_seed(&mt, 5489);
    uint32_t v = 0;
    for (int i = 0; i < 10000; i++)
        v = domains_mt_next(&mt);
    assert_true(v == 4123659995u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_md5_rfc1321),
        cmocka_unit_test(test_md5_vs_openssl),
        cmocka_unit_test(test_crc32),
        cmocka_unit_test(test_mt19937),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
