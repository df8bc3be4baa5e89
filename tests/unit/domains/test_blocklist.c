/* Unit tests for domains/blocklist: line parsing, normalization, rpz-ip
 * owner names (IPv6 "zz" rule) and the output formats. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/err.h"
#include "domains/blocklist.h"

static void test_parse_line(void **state)
{
    (void)state;
    static const struct {
        const char *line;
        int rc;
        const char *text; /* canonical address, and length */
        int len;
        const char *why;
    } cases[] = {
        { "", 0, NULL, 0, NULL },
        { "   \t\r\n", 0, NULL, 0, NULL },
        { "# comment", 0, NULL, 0, NULL },
        { "  ; comment", 0, NULL, 0, NULL },
        { "192.0.2.1", 1, "192.0.2.1", 32, NULL },
        { "  192.0.2.0/24  # c2 net\n", 1, "192.0.2.0", 24, NULL },
        { "198.51.100.7;x", 1, "198.51.100.7", 32, NULL },
        { "2001:db8::/32\r\n", 1, "2001:db8::", 32, NULL },
        { "2001:DB8::5", 1, "2001:db8::5", 128, NULL },
        { "0.0.0.0/0", 1, "0.0.0.0", 0, NULL },
        { "::/0", 1, "::", 0, NULL },
        { "10.0.0.1/8", SK_EINVAL, NULL, 0, "host bits" },
        { "2001:db8::1/32", SK_EINVAL, NULL, 0, "host bits" },
        { "192.0.2.256", SK_EINVAL, NULL, 0, "not an IPv4/IPv6" },
        { "192.0.2.1/33", SK_EINVAL, NULL, 0, "not an IPv4/IPv6" },
        { "192.0.2.1/", SK_EINVAL, NULL, 0, "not an IPv4/IPv6" },
        { "192.0.2.1 192.0.2.2", SK_EINVAL, NULL, 0, "one address" },
        { "host.example", SK_EINVAL, NULL, 0, "not an IPv4/IPv6" },
        { "1.2.3.4/24/1", SK_EINVAL, NULL, 0, "not an IPv4/IPv6" },
        { "\x01\x02", SK_EINVAL, NULL, 0, "not an IPv4/IPv6" },
        { "1111111111111111111111111111111111111111111111111111111111111111111", SK_EINVAL, NULL, 0,
          "too long" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct sk_prefix p;
        char err[160] = "";
        int rc = blocklist_parse_line(cases[i].line, strlen(cases[i].line), &p, err, sizeof(err));
        if (rc != cases[i].rc)
            fprintf(stderr, "case %zu '%s': rc %d (%s)\n", i, cases[i].line, rc, err);
        assert_int_equal(rc, cases[i].rc);
        if (rc == 1) {
            char buf[SK_IP_TEXT_MAX];
            assert_string_equal(sk_ip_ntop(&p.ip, buf), cases[i].text);
            assert_int_equal(p.len, cases[i].len);
        }
        if (cases[i].why)
            assert_non_null(strstr(err, cases[i].why));
    }
}

static void test_rpz_owner(void **state)
{
    (void)state;
    static const struct {
        const char *prefix, *owner;
    } cases[] = {
        { "192.0.2.1", "32.1.2.0.192.rpz-ip" },
        { "198.51.100.0/24", "24.0.100.51.198.rpz-ip" },
        { "0.0.0.0/0", "0.0.0.0.0.rpz-ip" },
        { "2001:db8::/32", "32.zz.db8.2001.rpz-ip" },
        { "2001:db8::1", "128.1.zz.db8.2001.rpz-ip" },
        { "::1", "128.1.zz.rpz-ip" },
        { "::/0", "0.zz.rpz-ip" },
        { "4:3::1", "128.1.zz.3.4.rpz-ip" },
        /* The longest zero run is compressed; on a tie the first one. */
        { "1:0:0:2:0:0:0:3", "128.3.zz.2.0.0.1.rpz-ip" },
        { "1:0:0:2:0:0:3:4", "128.4.3.0.0.2.zz.1.rpz-ip" },
        /* A single zero word is written as 0, never zz. */
        { "1:0:2:3:4:5:6:7", "128.7.6.5.4.3.2.0.1.rpz-ip" },
        { "2001:db8:abcd:12::/64", "64.zz.12.abcd.db8.2001.rpz-ip" },
        { "fe80::1:0:0:1", "128.1.0.0.1.zz.fe80.rpz-ip" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct sk_prefix p;
        assert_int_equal(sk_prefix_parse(cases[i].prefix, &p), 0);
        char buf[128];
        assert_string_equal(blocklist_rpz_owner(&p, buf, sizeof(buf)), cases[i].owner);
    }
}

static struct blocklist load_text(const char *text, int *rc, char *err, size_t errlen)
{
    char path[] = "/tmp/sk-test-blocklist-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    struct blocklist bl = { 0 };
    *rc = blocklist_load(path, &bl, err, errlen);
    unlink(path);
    return bl;
}

static char *write_fmt(const struct blocklist *bl, enum blocklist_format fmt,
                       const struct blocklist_opts *o)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_int_equal(blocklist_write(f, bl, fmt, o), 0);
    fclose(f);
    return buf;
}

static void test_load_normalize_write(void **state)
{
    (void)state;
    int rc;
    char err[256];
    struct blocklist bl = load_text("# list\n10.0.0.0/8\n10.1.2.3\n192.0.2.1\n192.0.2.1\n"
                                    "2001:db8::/32\n2001:db8:5::1\n2001:db9::1\n0.0.0.0/1\n",
                                    &rc, err, sizeof(err));
    assert_int_equal(rc, 0);
    assert_int_equal(bl.n, 8);
    assert_int_equal(bl.e[1].line, 3);
    /* 0.0.0.0/1 covers 10/8 and 10.1.2.3; 2001:db8::/32 covers ...5::1. */
    assert_int_equal(blocklist_normalize(&bl), 4);
    struct blocklist_opts o = { 0 };
    char *s = write_fmt(&bl, BLOCKLIST_CIDR, &o);
    assert_string_equal(s, "0.0.0.0/1\n192.0.2.1/32\n2001:db8::/32\n2001:db9::1/128\n");
    free(s);
    o.serial = 5;
    o.origin = "c2.rpz.";
    s = write_fmt(&bl, BLOCKLIST_RPZ_IP, &o);
    assert_non_null(strstr(s, "$ORIGIN c2.rpz.\n$TTL 300\n@\tIN\tSOA\tns1.sinkhole.invalid. "
                              "hostmaster.sinkhole.invalid. 5 3600 900 604800 300\n"
                              "@\tIN\tNS\tlocalhost.\n"
                              "1.0.0.0.0.rpz-ip\tCNAME\t.\n"
                              "32.1.2.0.192.rpz-ip\tCNAME\t.\n"
                              "32.zz.db8.2001.rpz-ip\tCNAME\t.\n"
                              "128.1.zz.db9.2001.rpz-ip\tCNAME\t.\n"));
    free(s);
    o.table = "t1";
    s = write_fmt(&bl, BLOCKLIST_NFTABLES, &o);
    assert_non_null(strstr(s, "table inet t1 {\n\tset c2_v4 {\n\t\ttype ipv4_addr\n\t\tflags "
                              "interval\n\t\telements = {\n\t\t\t0.0.0.0/1, 192.0.2.1\n\t\t}\n"
                              "\t}\n"));
    assert_non_null(strstr(s, "\t\telements = {\n\t\t\t2001:db8::/32, 2001:db9::1\n"));
    assert_non_null(strstr(s, "chain forward {\n\t\ttype filter hook forward priority filter; "
                              "policy accept;\n"));
    free(s);
    blocklist_free(&bl);

    /* An empty IPv6 set has no elements line (nft rejects "{ }"). */
    bl = load_text("192.0.2.1\n", &rc, err, sizeof(err));
    s = write_fmt(&bl, BLOCKLIST_NFTABLES, &o);
    assert_non_null(strstr(s, "set c2_v6 {\n\t\ttype ipv6_addr\n\t\tflags interval\n\t}\n"));
    free(s);
    blocklist_free(&bl);

    bl = load_text("192.0.2.1\n\n# ok\n192.0.2.1/24\n", &rc, err, sizeof(err));
    assert_int_equal(rc, SK_EINVAL);
    assert_non_null(strstr(err, ":4: host bits set"));
    blocklist_free(&bl);
}

static void test_formats(void **state)
{
    (void)state;
    enum blocklist_format f;
    assert_int_equal(blocklist_parse_format("nftables", &f), 0);
    assert_int_equal(f, BLOCKLIST_NFTABLES);
    assert_int_equal(blocklist_parse_format("rpz-ip", &f), 0);
    assert_int_equal(f, BLOCKLIST_RPZ_IP);
    assert_int_equal(blocklist_parse_format("CIDR", &f), 0);
    assert_int_equal(f, BLOCKLIST_CIDR);
    assert_int_equal(blocklist_parse_format("iptables", &f), SK_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_line),
        cmocka_unit_test(test_rpz_owner),
        cmocka_unit_test(test_load_normalize_write),
        cmocka_unit_test(test_formats),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
