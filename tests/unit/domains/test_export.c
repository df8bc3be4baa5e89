/* Unit tests for domains/export: the exact text of each format. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "domains/export.h"

static char *render(struct domains_export_opts *o)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    struct domains_name a = { "abc.example", 11, "fam", "v", 16675, 16678 };
    struct domains_name b = { "x-y.ddns.net", 12, "fam", "v", 16676, 16676 };
    unsigned long skipped = 0;
    assert_int_equal(domains_export_begin(f, o), 0);
    assert_int_equal(domains_export_name(f, o, &a, &skipped), 0);
    assert_int_equal(domains_export_name(f, o, &b, &skipped), 0);
    assert_int_equal(domains_export_end(f, o), 0);
    fclose(f);
    return buf;
}

static void test_plain_seized_csv(void **state)
{
    (void)state;
    struct domains_export_opts o;
    domains_export_defaults(&o, DOMAINS_FMT_PLAIN);
    char *s = render(&o);
    assert_string_equal(s, "abc.example\nx-y.ddns.net\n");
    free(s);
    domains_export_defaults(&o, DOMAINS_FMT_SEIZED);
    o.comment = "days X";
    s = render(&o);
    assert_string_equal(s, "# sinkhole seized list: one domain per line; each covers the names "
                           "below it\n# days X\nabc.example\nx-y.ddns.net\n");
    free(s);
    domains_export_defaults(&o, DOMAINS_FMT_CSV);
    s = render(&o);
    assert_string_equal(s, "domain,tld,family,first_day,last_day\n"
                           "abc.example,example,fam,2015-08-28,2015-08-31\n"
                           "x-y.ddns.net,net,fam,2015-08-29,2015-08-29\n");
    free(s);
}

static void test_zone(void **state)
{
    (void)state;
    struct domains_export_opts o;
    domains_export_defaults(&o, DOMAINS_FMT_ZONE);
    o.serial = 7;
    sk_ip_parse("192.0.2.10", &o.a[o.n_a++]);
    sk_ip_parse("2001:db8::10", &o.aaaa[o.n_aaaa++]);
    char err[256];
    assert_int_equal(domains_export_check(&o, err, sizeof(err)), 0);
    char *s = render(&o);
    assert_string_equal(s, "; sinkhole zone for origin .\n"
                           "$TTL 300\n"
                           ".\tIN\tSOA\tns1.sinkhole.invalid. hostmaster.sinkhole.invalid. 7 "
                           "3600 900 604800 300\n"
                           ".\tIN\tNS\tns1.sinkhole.invalid.\n"
                           "abc.example.\tIN\tA\t192.0.2.10\n"
                           "abc.example.\tIN\tAAAA\t2001:db8::10\n"
                           "*.abc.example.\tIN\tA\t192.0.2.10\n"
                           "*.abc.example.\tIN\tAAAA\t2001:db8::10\n"
                           "x-y.ddns.net.\tIN\tA\t192.0.2.10\n"
                           "x-y.ddns.net.\tIN\tAAAA\t2001:db8::10\n"
                           "*.x-y.ddns.net.\tIN\tA\t192.0.2.10\n"
                           "*.x-y.ddns.net.\tIN\tAAAA\t2001:db8::10\n");
    free(s);
    /* Another origin keeps only the names below it. */
    o.origin = "ddns.net.";
    o.n_aaaa = 0;
    o.subtree = 0;
    o.ns[o.n_ns++] = "ns1.example.org";
    s = render(&o);
    assert_string_equal(s, "; sinkhole zone for origin ddns.net.\n"
                           "$TTL 300\n"
                           "ddns.net.\tIN\tSOA\tns1.sinkhole.invalid. "
                           "hostmaster.sinkhole.invalid. 7 3600 900 604800 300\n"
                           "ddns.net.\tIN\tNS\tns1.example.org.\n"
                           "x-y.ddns.net.\tIN\tA\t192.0.2.10\n");
    free(s);
    o.n_a = 0;
    assert_int_equal(domains_export_check(&o, err, sizeof(err)), SK_EINVAL);
    assert_non_null(strstr(err, "--a"));
}

static void test_rpz(void **state)
{
    (void)state;
    struct domains_export_opts o;
    domains_export_defaults(&o, DOMAINS_FMT_RPZ);
    o.serial = 2015082801;
    o.ttl = 60;
    char *s = render(&o);
    assert_string_equal(s, "; sinkhole response policy zone rpz.sinkhole.invalid.\n"
                           "$ORIGIN rpz.sinkhole.invalid.\n"
                           "$TTL 60\n"
                           "@\tIN\tSOA\tns1.sinkhole.invalid. hostmaster.sinkhole.invalid. "
                           "2015082801 3600 900 604800 60\n"
                           "@\tIN\tNS\tlocalhost.\n"
                           "abc.example\tCNAME\t.\n"
                           "*.abc.example\tCNAME\t.\n"
                           "x-y.ddns.net\tCNAME\t.\n"
                           "*.x-y.ddns.net\tCNAME\t.\n");
    free(s);
    o.subtree = 0;
    o.cname = "sink.example.";
    s = render(&o);
    assert_non_null(strstr(s, "\nabc.example\tCNAME\tsink.example.\n"));
    assert_null(strstr(s, "*.abc"));
    free(s);
    o.cname = NULL;
    sk_ip_parse("192.0.2.99", &o.a[o.n_a++]);
    s = render(&o);
    assert_non_null(strstr(s, "\nabc.example\tIN\tA\t192.0.2.99\nx-y.ddns.net\tIN\tA\t"));
    free(s);
    char err[256];
    o.cname = "sink.example";
    assert_int_equal(domains_export_check(&o, err, sizeof(err)), SK_EINVAL);
    o.cname = NULL;
    o.origin = "bad..origin";
    assert_int_equal(domains_export_check(&o, err, sizeof(err)), SK_EINVAL);
}

static void test_hosts(void **state)
{
    (void)state;
    struct domains_export_opts o;
    domains_export_defaults(&o, DOMAINS_FMT_HOSTS);
    char *s = render(&o);
    assert_string_equal(s, "# sinkhole hosts file\n0.0.0.0 abc.example\n0.0.0.0 x-y.ddns.net\n");
    free(s);
    sk_ip_parse("2001:db8::1", &o.aaaa[o.n_aaaa++]);
    s = render(&o);
    assert_string_equal(s, "# sinkhole hosts file\n2001:db8::1 abc.example\n2001:db8::1 "
                           "x-y.ddns.net\n");
    free(s);
}

static void test_formats(void **state)
{
    (void)state;
    enum domains_format f;
    assert_int_equal(domains_export_parse_format("RPZ", &f), 0);
    assert_int_equal(f, DOMAINS_FMT_RPZ);
    assert_int_equal(domains_export_parse_format("seized", &f), 0);
    assert_int_equal(f, DOMAINS_FMT_SEIZED);
    assert_int_equal(domains_export_parse_format("json", &f), SK_EINVAL);
    assert_int_equal(domains_export_parse_format(NULL, &f), SK_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_seized_csv),
        cmocka_unit_test(test_zone),
        cmocka_unit_test(test_rpz),
        cmocka_unit_test(test_hosts),
        cmocka_unit_test(test_formats),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
