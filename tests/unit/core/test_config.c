/* Unit tests for core/config: values, defaults, and FILE:LINE errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/config.h"
#include "core/err.h"

static char dir[] = "/tmp/sk-test-config-XXXXXX";

static char *write_file(const char *name, const char *text)
{
    static char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

/* Load text as a config; returns rc, errors in errbuf. */
static int load(const char *text, struct sk_config **cfg, char *errbuf, size_t cap)
{
    char *path = write_file("test.ini", text);
    FILE *errs = fmemopen(errbuf, cap, "w");
    memset(errbuf, 0, cap);
    int rc = config_load(path, cfg, errs);
    fclose(errs);
    return rc;
}

static void test_full_config(void **state)
{
    (void)state;
    struct sk_config *cfg;
    char err[2048];
    int rc = load("[server]\n"
                  "node = sink-1\n"
                  "data_dir = d\n"
                  "workers = 3\n"
                  "[dns]\n"
                  "listen = 127.0.0.1:5353 [::1]:5353\n"
                  "answer_a = 192.0.2.10, 192.0.2.11\n"
                  "answer_aaaa = 2001:db8::10\n"
                  "ttl = 120 ; inline comment\n"
                  "not_seized = nxdomain\n"
                  "soa_mname = ns1.sinkhole.example\n"
                  "soa_rname = abuse.sinkhole.example.\n"
                  "soa_serial = 4294967295\n"
                  "soa_minimum = 30\n"
                  "ns = a.example b.example\n"
                  "rrl_ratelimit = 0\n"
                  "rrl_exempt = 10.0.0.0/8 2001:db8::/32\n"
                  "proxy_protocol = 127.0.0.2 2001:db8:ffff::/48\n"
                  "[seized.megad]\n"
                  "file = lists/megad.txt\n"
                  "family = megad\n"
                  "[seized.other]\n"
                  "file = /abs/other.txt\n"
                  "answer_a = 198.51.100.1\n"
                  "[log]\n"
                  "enabled = no\n"
                  "flush_ms = 250\n",
                  &cfg, err, sizeof(err));
    assert_int_equal(rc, 0);
    assert_string_equal(err, "");
    assert_string_equal(cfg->node, "sink-1");
    assert_int_equal(cfg->workers, 3);
    assert_int_equal(cfg->n_dns_listen, 2);
    assert_int_equal(cfg->dns_listen[0].af, 4);
    assert_int_equal(cfg->dns_listen[0].port, 5353);
    assert_int_equal(cfg->dns_listen[1].af, 6);
    assert_int_equal(cfg->answers.n_a, 2);
    assert_int_equal(cfg->answers.a[1][3], 11);
    assert_int_equal(cfg->answers.n_aaaa, 1);
    assert_int_equal(cfg->ttl, 120);
    assert_int_equal(cfg->not_seized, CFG_NOT_SEIZED_NXDOMAIN);
    assert_int_equal(cfg->soa_serial, 4294967295u);
    assert_int_equal(cfg->soa_minimum, 30);
    assert_int_equal(cfg->soa_refresh, 3600); /* default */
    assert_int_equal(cfg->n_ns, 2);
    assert_int_equal(cfg->rrl_ratelimit, 0);
    assert_int_equal(cfg->n_rrl_exempt, 2);
    assert_int_equal(cfg->rrl_exempt[0].len, 8);
    assert_int_equal(cfg->n_dns_proxy_trusted, 2);
    assert_int_equal(cfg->dns_proxy_trusted[0].len, 32);
    assert_int_equal(cfg->dns_proxy_trusted[1].len, 48);
    assert_int_equal(cfg->n_seized, 2);
    assert_string_equal(cfg->seized[0].name, "megad");
    assert_string_equal(cfg->seized[0].family, "megad");
    /* Relative paths resolve against the config's folder. */
    char want[512];
    snprintf(want, sizeof(want), "%s/lists/megad.txt", dir);
    assert_string_equal(cfg->seized[0].file, want);
    snprintf(want, sizeof(want), "%s/d", dir);
    assert_string_equal(cfg->data_dir, want);
    assert_string_equal(cfg->seized[1].file, "/abs/other.txt");
    /* A list without its own answers inherits [dns]'s; one with them keeps its own. */
    assert_int_equal(cfg->seized[0].answers.n_a, 2);
    assert_int_equal(cfg->seized[0].answers.n_aaaa, 1);
    assert_int_equal(cfg->seized[1].answers.n_a, 1);
    assert_int_equal(cfg->seized[1].answers.n_aaaa, 0);
    assert_string_equal(cfg->seized[1].family, "other");
    assert_int_equal(cfg->flush_ms, 250);
    assert_false(cfg->log_enabled);
    config_free(cfg);
}

static void test_defaults(void **state)
{
    (void)state;
    struct sk_config *cfg;
    char err[1024];
    assert_int_equal(load("[dns]\nlisten = 127.0.0.1:53\n", &cfg, err, sizeof(err)), 0);
    assert_int_equal(cfg->ttl, 300);
    assert_int_equal(cfg->not_seized, CFG_NOT_SEIZED_REFUSE);
    assert_int_equal(cfg->max_udp_size, 1232);
    assert_int_equal(cfg->rrl_ratelimit, 200);
    assert_int_equal(cfg->rrl_slip, 2);
    assert_int_equal(cfg->rrl_ipv4_prefix, 24);
    assert_int_equal(cfg->rrl_ipv6_prefix, 56);
    assert_true(cfg->workers >= 1);
    assert_int_equal(cfg->n_ns, 1); /* the SOA mname */
    assert_int_equal(cfg->flush_ms, 1000);
    assert_true(cfg->log_enabled);
    assert_int_equal(cfg->n_dns_proxy_trusted, 0);
    config_free(cfg);
}

struct bad_case {
    const char *text;
    const char *error; /* expected line of stderr, after "PATH:" */
};

static const struct bad_case bad_cases[] = {
    { "[server]\nfoo = 1\n", "2: unknown key 'foo' in [server]" },
    { "[nonsense]\nx = 1\n", "1: unknown section [nonsense]" },
    { "[server]\n[empty]\n[dns]\n", "2: unknown section [empty]" },
    { "[dns]\nlisten = 127.0.0.1\n",
      "2: listen: expected ADDRESS:PORT or [IPV6]:PORT, got '127.0.0.1'" },
    { "[dns]\nlisten = 127.0.0.1:53\nttl = -5\n",
      "3: ttl: expected a whole number from 0 to 2147483647, got '-5'" },
    { "[dns]\nlisten = 127.0.0.1:53\n\nttl = 1\nttl = 2\n", "5: key 'ttl' repeated in [dns]" },
    { "[dns]\nanswer_a = 2001:db8::1\n",
      "2: answer_a: expected an IPv4 address, got '2001:db8::1'" },
    { "[dns]\nnot_seized = maybe\n", "2: not_seized: expected refuse or nxdomain, got 'maybe'" },
    { "[dns]\nrrl_exempt = 10.0.0.1/8\n",
      "2: rrl_exempt: expected ADDRESS or ADDRESS/LENGTH with zero host bits, got '10.0.0.1/8'" },
    { "[dns]\nlisten = 127.0.0.1:53\n[seized.a]\nfile = x\n[seized.a]\nfile = y\n",
      "5: section [seized.a] appears twice (first at line 3)" },
    { "[dns]\nlisten = 127.0.0.1:53\n[seized.a]\nfamily = x\n",
      "3: [seized.a] needs a 'file' key (or 'dga')" },
    { "[server]\nworkers = 1000\n",
      "2: workers: expected a whole number from 0 to 256, got '1000'" },
    { "[dns]\nsoa_mname = bad..name\n", "2: soa_mname: bad domain name 'bad..name'" },
    { "[dns]\nlisten = 127.0.0.1:53\nthis line is not ini\n",
      "3: syntax error: expected [section], key = value, or a comment" },
    { "[server]\nnode = has space\n",
      "2: node: 'has space' may only hold letters, digits, '-', '_' and '.'" },
    { "[log]\nrotate = 1\n", "2: unknown key 'rotate' in [log]" },
    { "[dns]\nlisten = 127.0.0.1:53\nproxy_protocol = yes\n",
      "3: proxy_protocol: expected ADDRESS or ADDRESS/LENGTH with zero host bits, got 'yes'" },
    { "[dns]\nlisten = 127.0.0.1:53\n[log]\nenabled = off\n",
      "4: enabled: expected yes or no, got 'off'" },
    { "[dns]\nlisten = 127.0.0.1:53\n[seized.a]\nfile = a\nfamily = "
      "a-family-name-far-too-long-for-events\n",
      "5: family: expected a name of 1 to 31 characters" },
};

static void test_bad_values(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
        struct sk_config *cfg = NULL;
        char err[2048];
        int rc = load(bad_cases[i].text, &cfg, err, sizeof(err));
        char want[1024];
        snprintf(want, sizeof(want), "%s/test.ini:%s\n", dir, bad_cases[i].error);
        if (rc != SK_ECONFIG || strstr(err, want) == NULL)
            fail_msg("case %zu: rc %d, errors:\n%s\nwanted:\n%s", i, rc, err, want);
        assert_null(cfg);
    }
}

static void test_continuation_and_long_lines(void **state)
{
    (void)state;
    struct sk_config *cfg;
    char err[2048];
    /* An indented line continues a list; ns replaces its default once. */
    int rc = load("[dns]\n"
                  "listen = 127.0.0.1:53\n"
                  "answer_a = 192.0.2.1 192.0.2.2\n"
                  "   192.0.2.3\n"
                  "\t192.0.2.4, 192.0.2.5\n"
                  "ns = a.example\n"
                  "  b.example\n",
                  &cfg, err, sizeof(err));
    assert_int_equal(rc, 0);
    assert_int_equal(cfg->answers.n_a, 5);
    assert_int_equal(cfg->answers.a[4][3], 5);
    assert_int_equal(cfg->n_ns, 2);
    config_free(cfg);

    /* A scalar cannot continue. */
    rc = load("[dns]\nttl = 5\n  6\n", &cfg, err, sizeof(err));
    assert_int_equal(rc, SK_ECONFIG);
    assert_non_null(strstr(err, "test.ini:3: ttl: only lists of values may continue"));

    /* A line longer than the parser's buffer is one clear error, with
     * the right line numbers after it. */
    char text[2048] = "[dns]\nanswer_a =";
    for (int i = 0; i < 60; i++)
        strcat(text, " 192.0.2.1");
    strcat(text, "\nttl = bad\n");
    rc = load(text, &cfg, err, sizeof(err));
    assert_int_equal(rc, SK_ECONFIG);
    assert_non_null(strstr(err, "test.ini:2: line longer than"));
    assert_non_null(strstr(err, "test.ini:3: ttl: expected a whole number"));
}

static void test_all_errors_reported(void **state)
{
    (void)state;
    struct sk_config *cfg;
    char err[2048];
    int rc = load("[server]\na = 1\nb = 2\n[dns]\nttl = x\n", &cfg, err, sizeof(err));
    assert_int_equal(rc, SK_ECONFIG);
    int lines = 0;
    for (char *p = err; *p; p++)
        lines += *p == '\n';
    assert_int_equal(lines, 3);
}

static void test_missing_file(void **state)
{
    (void)state;
    struct sk_config *cfg;
    char err[512] = "";
    FILE *errs = fmemopen(err, sizeof(err), "w");
    int rc = config_load("/nonexistent/sinkhole.ini", &cfg, errs);
    fclose(errs);
    assert_true(rc < 0 && rc != SK_ECONFIG);
    assert_non_null(strstr(err, "/nonexistent/sinkhole.ini: cannot open"));
}

int main(void)
{
    if (mkdtemp(dir) == NULL)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_config),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_bad_values),
        cmocka_unit_test(test_continuation_and_long_lines),
        cmocka_unit_test(test_all_errors_reported),
        cmocka_unit_test(test_missing_file),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        return 1;
    return rc;
}
