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
    { "[dns]\nlisten = 127.0.0.1:53\nproxy_protocol = 10.0.0.0/8\n  10.0.0.1/8\n",
      "4: proxy_protocol: expected ADDRESS or ADDRESS/LENGTH with zero host bits, got '10.0.0.1/8'" },
    /* Sections begin at their header, even without keys. */
    { "[dns]\nlisten = 127.0.0.1:53\n[seized.a]\n", "3: [seized.a] needs a 'file' key (or 'dga')" },
    { "[seized.a b]\nfile = x\n",
      "1: section name: 'a b' may only hold letters, digits, '-', '_' and '.'" },
    /* An indented header after a key continues the key, as inih reads it. */
    { "[dns]\nlisten = 127.0.0.1:53\n  [log]\nflush_ms = 5\n",
      "3: listen: expected ADDRESS:PORT or [IPV6]:PORT, got '[log]'" },
    { "[dns]\nlisten = 127.0.0.1:53 127.0.0.1:53\n",
      "2: listen: 127.0.0.1:53 overlaps 127.0.0.1:53 of [dns] at line 2" },
    { "[dns]\nlisten = 127.0.0.1:53\n  0.0.0.0:53\n",
      "3: listen: 0.0.0.0:53 overlaps 127.0.0.1:53 of [dns] at line 2" },

    /* [listener.NAME]: each key's bad values. */
    { "[listener.a]\n", "1: [listener.a] needs a 'listen' key" },
    { "[listener.a]\nlisten = 127.0.0.1\n",
      "2: listen: expected ADDRESS:PORT or [IPV6]:PORT, got '127.0.0.1'" },
    { "[listener.a]\nlisten = 127.0.0.1:0\n",
      "2: listen: port 0 in '127.0.0.1:0': a listener needs a fixed port" },
    { "[listener.a]\nlisten = [::1]:70000\n",
      "2: listen: expected ADDRESS:PORT or [IPV6]:PORT, got '[::1]:70000'" },
    { "[listener.a]\nlisten =\n", "2: listen: expected at least one value" },
    { "[listener.a]\nlisten = 127.0.0.1:80\ntransport = sctp\n",
      "3: transport: expected tcp or udp, got 'sctp'" },
    { "[listener.a]\nlisten = 127.0.0.1:80\nsniff = smtp\n",
      "3: sniff: expected auto, http, tls or raw, got 'smtp'" },
    { "[listener.a]\nlisten = 127.0.0.1:80\nproxy_protocol = yes\n",
      "3: proxy_protocol: expected ADDRESS or ADDRESS/LENGTH with zero host bits, got 'yes'" },
    { "[listener.a]\nlisten = 127.0.0.1:80\nproxy_protocol = 192.0.2.1/24\n",
      "3: proxy_protocol: expected ADDRESS or ADDRESS/LENGTH with zero host bits, got "
      "'192.0.2.1/24'" },
    { "[listener.a]\nlisten = 127.0.0.1:80\ntls = on\n",
      "3: tls: expected off or terminate, got 'on'" },
    { "[listener.a]\nlisten = 127.0.0.1:80\ntls = terminate\ntls_cn = "
      "a-common-name-of-sixty-five-characters-which-is-one-too-many-xxxxx\n",
      "4: tls_cn: expected 1 to 64 printable ASCII characters" },
    { "[listener.a]\nlisten = 127.0.0.1:80\ntls = terminate\ntls_cn = a\tb\n",
      "4: tls_cn: expected 1 to 64 printable ASCII characters" },
    { "[listener.a]\nlisten = 127.0.0.1:80\nsniff_timeout_ms = 0\n",
      "3: sniff_timeout_ms: expected a whole number from 1 to 86400000, got '0'" },
    { "[listener.a]\nlisten = 127.0.0.1:80\nheader_timeout_ms = 10s\n",
      "3: header_timeout_ms: expected a whole number from 1 to 86400000, got '10s'" },
    { "[listener.a]\nlisten = 127.0.0.1:80\nidle_timeout_ms = -1\n",
      "3: idle_timeout_ms: expected a whole number from 1 to 86400000, got '-1'" },
    { "[listener.a]\nlisten = 127.0.0.1:80\ntotal_timeout_ms = 86400001\n",
      "3: total_timeout_ms: expected a whole number from 1 to 86400000, got '86400001'" },
    { "[listener.a]\nlisten = 127.0.0.1:80\nmax_connections = 0\n",
      "3: max_connections: expected a whole number from 1 to 1000000, got '0'" },
    { "[listener.a]\nlisten = 127.0.0.1:80\nmax_per_source = 1000001\n",
      "3: max_per_source: expected a whole number from 0 to 1000000, got '1000001'" },
    { "[listener.a]\nlisten = 127.0.0.1:80\nmax_bytes = 0\n",
      "3: max_bytes: expected a whole number from 1 to 1099511627776, got '0'" },
    { "[listener.a]\nlisten = 127.0.0.1:80\nmax_bytes = 1m\n",
      "3: max_bytes: expected a whole number from 1 to 1099511627776, got '1m'" },
    { "[listener.a]\nlisten = 127.0.0.1:80\nmax_bytes = 18446744073709551616\n",
      "3: max_bytes: expected a whole number from 1 to 1099511627776, got "
      "'18446744073709551616'" },
    { "[listener.a]\nlisten = 127.0.0.1:80\ncapture_bytes = 16385\n",
      "3: capture_bytes: expected a whole number from 0 to 16384, got '16385'" },
    { "[listener.a]\nlisten = 127.0.0.1:80\nhttp_body_bytes = 16385\n",
      "3: http_body_bytes: expected a whole number from 0 to 16384, got '16385'" },
    { "[listener.a]\nlisten = 127.0.0.1:80\nhttp_max_head = 255\n",
      "3: http_max_head: expected a whole number from 256 to 65536, got '255'" },
    { "[listener.a]\nlisten = 127.0.0.1:80\nhttp_max_head = 65537\n",
      "3: http_max_head: expected a whole number from 256 to 65536, got '65537'" },
    { "[listener.a]\nlisten = 127.0.0.1:80\ncolour = red\n",
      "3: unknown key 'colour' in [listener.a]" },
    { "[listener.a]\nlisten = 127.0.0.1:80\nsniff = http\nsniff = raw\n",
      "4: key 'sniff' repeated in [listener.a]" },
    { "[listener.a]\nlisten = 127.0.0.1:80\nsniff = http\n  raw\n",
      "4: sniff: only lists of values may continue on an indented line" },
    /* Section names. */
    { "[listener.a]\nlisten = 127.0.0.1:80\n[listener.a]\nlisten = 127.0.0.1:81\n",
      "3: section [listener.a] appears twice (first at line 1)" },
    { "[listener.a-name-of-thirty-two-characterss]\nlisten = 127.0.0.1:80\n",
      "1: section name: expected a name of 1 to 31 characters" },
    { "[listener.]\nlisten = 127.0.0.1:80\n",
      "1: section name: expected a name of 1 to 31 characters" },
    { "[listener.a/b]\nlisten = 127.0.0.1:80\n",
      "1: section name: 'a/b' may only hold letters, digits, '-', '_' and '.'" },
    { "[listeners]\nlisten = 127.0.0.1:80\n", "1: unknown section [listeners]" },
    /* Keys of a listener against each other. */
    { "[listener.a]\nlisten = 127.0.0.1:80\ntransport = udp\ntls = terminate\n",
      "4: tls: terminate needs transport = tcp" },
    { "[listener.a]\nlisten = 127.0.0.1:80\nsniff = raw\n\ntls = terminate\n",
      "5: tls: terminate needs sniff = auto or tls, not raw (line 3)" },
    { "[listener.a]\nlisten = 127.0.0.1:80\ntls = terminate\nsniff = http\n",
      "3: tls: terminate needs sniff = auto or tls, not http (line 4)" },
    { "[listener.a]\nlisten = 127.0.0.1:80\ntls = off\ntls_cn = x\n",
      "4: tls_cn: only with tls = terminate" },
    { "[listener.a]\nlisten = 127.0.0.1:80\ntls_cn = x\n", "3: tls_cn: only with tls = terminate" },
    /* One address, bound twice. */
    { "[listener.a]\nlisten = 127.0.0.1:80\n[listener.b]\nlisten = 127.0.0.2:80 127.0.0.1:80\n",
      "4: listen: 127.0.0.1:80 overlaps 127.0.0.1:80 of [listener.a] at line 2 (both TCP)" },
    { "[listener.a]\nlisten = 127.0.0.1:80\n[listener.b]\nlisten = 127.0.0.2:81\n  0.0.0.0:80\n",
      "5: listen: 0.0.0.0:80 overlaps 127.0.0.1:80 of [listener.a] at line 2 (both TCP)" },
    { "[listener.a]\nlisten = [::]:53\ntransport = udp\n[listener.b]\nlisten = [::1]:53\n"
      "transport = udp\n",
      "5: listen: [::1]:53 overlaps [::]:53 of [listener.a] at line 2 (both UDP)" },
    { "[listener.a]\nlisten = 127.0.0.1:80 [::1]:80 127.0.0.1:80\n",
      "2: listen: 127.0.0.1:80 overlaps 127.0.0.1:80 of the same listener at line 2" },
    { "[dns]\nlisten = 127.0.0.1:53\n[listener.a]\nlisten = 127.0.0.1:53\ntransport = udp\n",
      "4: listen: 127.0.0.1:53 overlaps 127.0.0.1:53 of [dns] at line 2 (DNS takes UDP and TCP)" },
    { "[listener.a]\nlisten = 0.0.0.0:53\n[dns]\nlisten = [::1]:53\n  127.0.0.1:53\n",
      "5: listen: 127.0.0.1:53 overlaps 0.0.0.0:53 of [listener.a] at line 2 (TCP)" },
    /* [classify] */
    { "[classify]\nrule = x\n", "2: unknown key 'rule' in [classify]" },
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

static void test_listener_every_key(void **state)
{
    (void)state;
    struct sk_config *cfg;
    char err[2048];
    write_file("cert.pem", "-----BEGIN CERTIFICATE-----\n");
    write_file("key.pem", "-----BEGIN PRIVATE KEY-----\n");
    int rc = load("[dns]\n"
                  "listen = 127.0.0.1:53\n"
                  "[listener.web-80]\n"
                  "listen = 0.0.0.0:80 [::]:80\n"
                  "  127.0.0.2:8080\n"
                  "transport = tcp\n"
                  "sniff = tls\n"
                  "proxy_protocol = 192.0.2.5 2001:db8:1::/48\n"
                  "  10.0.0.0/8\n"
                  "tls = terminate\n"
                  "tls_cert = cert.pem\n"
                  "tls_key = key.pem\n"
                  "sniff_timeout_ms = 60000\n"
                  "header_timeout_ms = 5000\n"
                  "idle_timeout_ms = 1\n"
                  "total_timeout_ms = 86400000\n"
                  "max_connections = 1000000\n"
                  "max_per_source = 0\n"
                  "max_bytes = 1099511627776\n"
                  "capture_bytes = 16384\n"
                  "http_body_bytes = 0\n"
                  "http_max_head = 65536\n"
                  "[listener.u]\n"
                  "listen = 127.0.0.1:80 ; the same port as web-80, over UDP\n"
                  "transport = udp\n"
                  "sniff = raw\n"
                  "capture_bytes = 0\n"
                  "http_max_head = 256\n"
                  "[listener.last]\n"
                  "listen = 127.0.0.1:54 [::1]:53\n"
                  "sniff = http\n"
                  "tls = off\n",
                  &cfg, err, sizeof(err));
    assert_string_equal(err, "");
    assert_int_equal(rc, 0);
    assert_int_equal(cfg->n_listeners, 3);
    const struct cfg_listener *l = &cfg->listeners[0];
    assert_string_equal(l->name, "web-80");
    assert_int_equal(l->line, 3);
    assert_int_equal(l->listen_line, 4);
    assert_int_equal(l->n_listen, 3);
    assert_int_equal(l->listen[0].af, 4);
    assert_int_equal(l->listen[0].port, 80);
    assert_int_equal(l->listen[1].af, 6);
    assert_int_equal(l->listen[1].port, 80);
    assert_int_equal(l->listen[2].af, 4);
    assert_int_equal(l->listen[2].a[3], 2);
    assert_int_equal(l->listen[2].port, 8080);
    assert_int_equal(l->transport, 6);
    assert_int_equal(l->sniff, CFG_SNIFF_TLS);
    assert_int_equal(l->n_proxy_trusted, 3);
    assert_int_equal(l->proxy_trusted[0].len, 32); /* a plain address */
    assert_int_equal(l->proxy_trusted[1].len, 48);
    assert_int_equal(l->proxy_trusted[2].len, 8);
    assert_true(l->tls_terminate);
    char want[512];
    snprintf(want, sizeof(want), "%s/cert.pem", dir);
    assert_string_equal(l->tls_cert, want);
    snprintf(want, sizeof(want), "%s/key.pem", dir);
    assert_string_equal(l->tls_key, want);
    assert_int_equal(l->sniff_timeout_ms, 60000); /* longer than the header timeout: allowed */
    assert_int_equal(l->header_timeout_ms, 5000);
    assert_int_equal(l->idle_timeout_ms, 1);
    assert_int_equal(l->total_timeout_ms, 86400000);
    assert_int_equal(l->max_connections, 1000000);
    assert_int_equal(l->max_per_source, 0);
    assert_true(l->max_bytes == UINT64_C(1099511627776));
    assert_int_equal(l->capture_bytes, 16384);
    assert_int_equal(l->http_body_bytes, 0);
    assert_int_equal(l->http_max_head, 65536);

    l = &cfg->listeners[1];
    assert_string_equal(l->name, "u");
    assert_int_equal(l->transport, 17);
    assert_int_equal(l->sniff, CFG_SNIFF_RAW);
    assert_int_equal(l->n_listen, 1);
    assert_int_equal(l->capture_bytes, 0);
    assert_int_equal(l->http_max_head, 256);
    assert_false(l->tls_terminate);
    assert_null(l->tls_cert);

    l = &cfg->listeners[2];
    assert_int_equal(l->sniff, CFG_SNIFF_HTTP);
    assert_int_equal(l->n_listen, 2);
    assert_int_equal(l->listen[0].port, 54);
    assert_int_equal(l->listen[1].port, 53); /* [::1]:53 is not [dns]'s 127.0.0.1:53 */
    assert_false(l->tls_terminate);
    config_free(cfg);
}

static void test_listener_defaults(void **state)
{
    (void)state;
    struct sk_config *cfg;
    char err[1024];
    int rc = load("[listener.a]\nlisten = 127.0.0.1:8080\n", &cfg, err, sizeof(err));
    assert_string_equal(err, "");
    assert_int_equal(rc, 0);
    assert_int_equal(cfg->n_listeners, 1);
    const struct cfg_listener *l = &cfg->listeners[0];
    assert_int_equal(l->transport, 6);
    assert_int_equal(l->sniff, CFG_SNIFF_AUTO);
    assert_int_equal(l->n_proxy_trusted, 0);
    assert_false(l->tls_terminate);
    assert_null(l->tls_cert);
    assert_null(l->tls_key);
    assert_string_equal(l->tls_cn, "ns1.sinkhole.invalid"); /* the default NS: soa_mname */
    assert_int_equal(l->sniff_timeout_ms, 3000);
    assert_int_equal(l->header_timeout_ms, 10000);
    assert_int_equal(l->idle_timeout_ms, 30000);
    assert_int_equal(l->total_timeout_ms, 120000);
    assert_int_equal(l->max_connections, 10000);
    assert_int_equal(l->max_per_source, 64);
    assert_true(l->max_bytes == 1048576);
    assert_int_equal(l->capture_bytes, 4096);
    assert_int_equal(l->http_body_bytes, 1024);
    assert_int_equal(l->http_max_head, 8192);
    assert_null(cfg->rules_file);
    assert_int_equal(cfg->n_dns_listen, 0);
    config_free(cfg);

    /* tls_cn: the first NS name, even when [dns] comes after the listener;
     * a given one wins; proxy_protocol = no is the empty list. */
    rc = load("[listener.a]\nlisten = 127.0.0.1:8080\ntls = terminate\nproxy_protocol = no\n"
              "[listener.b]\nlisten = 127.0.0.1:8081\ntls = terminate\ntls_cn = Sinkhole Test\n"
              "[dns]\nns = NS1.Example.org. ns2.example.org\n",
              &cfg, err, sizeof(err));
    assert_string_equal(err, "");
    assert_int_equal(rc, 0);
    assert_string_equal(cfg->listeners[0].tls_cn, "NS1.Example.org");
    assert_int_equal(cfg->listeners[0].n_proxy_trusted, 0);
    assert_string_equal(cfg->listeners[1].tls_cn, "Sinkhole Test");
    config_free(cfg);

    /* An NS name longer than a certificate's CN may be: "sinkhole". */
    char text[512] = "[listener.a]\nlisten = 127.0.0.1:8080\n[dns]\nns = ";
    strcat(text, "a-label-of-forty-characters-xxxxxxxxxxxx.another-label-of-thirty.example\n");
    rc = load(text, &cfg, err, sizeof(err));
    assert_string_equal(err, "");
    assert_int_equal(rc, 0);
    assert_string_equal(cfg->listeners[0].tls_cn, "sinkhole");
    config_free(cfg);
}

static void test_listener_files(void **state)
{
    (void)state;
    struct sk_config *cfg;
    char err[2048], want[1024];
    write_file("cert.pem", "x\n");
    write_file("key.pem", "x\n");
    int rc = load("[listener.a]\nlisten = 127.0.0.1:443\ntls = terminate\ntls_cert = nope.pem\n"
                  "tls_key = key.pem\n",
                  &cfg, err, sizeof(err));
    assert_int_equal(rc, SK_ECONFIG);
    snprintf(want, sizeof(want),
             "%s/test.ini:4: tls_cert: cannot read %s/nope.pem: No such file or directory\n", dir,
             dir);
    assert_string_equal(err, want);
    /* Once the bad path is reported, the key alone is not reported again. */

    rc = load(
        "[listener.a]\nlisten = 127.0.0.1:443\ntls = terminate\ntls_key = .\ntls_cert = cert.pem\n",
        &cfg, err, sizeof(err));
    assert_int_equal(rc, SK_ECONFIG);
    snprintf(want, sizeof(want), "%s/test.ini:4: tls_key: %s/. is not a regular file\n", dir, dir);
    assert_string_equal(err, want);

    rc = load("[listener.a]\nlisten = 127.0.0.1:443\ntls = terminate\ntls_cert = cert.pem\n", &cfg,
              err, sizeof(err));
    assert_int_equal(rc, SK_ECONFIG);
    snprintf(want, sizeof(want),
             "%s/test.ini:4: tls_cert: needs tls_key too: give both or neither\n", dir);
    assert_string_equal(err, want);

    rc = load("[listener.a]\nlisten = 127.0.0.1:443\ntls = terminate\ntls_key = key.pem\n", &cfg,
              err, sizeof(err));
    assert_int_equal(rc, SK_ECONFIG);
    snprintf(want, sizeof(want),
             "%s/test.ini:4: tls_key: needs tls_cert too: give both or neither\n", dir);
    assert_string_equal(err, want);

    rc = load("[listener.a]\nlisten = 127.0.0.1:443\ntls = terminate\ntls_cert = cert.pem\n"
              "tls_key = key.pem\ntls_cn = x\n",
              &cfg, err, sizeof(err));
    assert_int_equal(rc, SK_ECONFIG);
    snprintf(want, sizeof(want),
             "%s/test.ini:6: tls_cn: names the generated certificate; tls_cert brings its own\n",
             dir);
    assert_string_equal(err, want);

    /* Certificate and key without tls = terminate: one error each. */
    rc = load("[listener.a]\nlisten = 127.0.0.1:443\ntls_cert = cert.pem\ntls_key = key.pem\n",
              &cfg, err, sizeof(err));
    assert_int_equal(rc, SK_ECONFIG);
    snprintf(want, sizeof(want),
             "%s/test.ini:3: tls_cert: only with tls = terminate\n"
             "%s/test.ini:4: tls_key: only with tls = terminate\n",
             dir, dir);
    assert_string_equal(err, want);

    /* An absolute path stays as it is. */
    char text[1024];
    snprintf(text, sizeof(text),
             "[listener.a]\nlisten = 127.0.0.1:443\ntls = terminate\ntls_cert = %s/cert.pem\n"
             "tls_key = key.pem\n",
             dir);
    rc = load(text, &cfg, err, sizeof(err));
    assert_string_equal(err, "");
    assert_int_equal(rc, 0);
    snprintf(want, sizeof(want), "%s/cert.pem", dir);
    assert_string_equal(cfg->listeners[0].tls_cert, want);
    config_free(cfg);
}

static void test_listener_cap(void **state)
{
    (void)state;
    /* CFG_LISTENERS_MAX sections load; one more is an error at its header. */
    size_t cap = 64 * (CFG_LISTENERS_MAX + 1);
    char *text = malloc(cap);
    char *err = malloc(4096);
    assert_non_null(text);
    assert_non_null(err);
    size_t used = 0;
    for (int i = 0; i < CFG_LISTENERS_MAX; i++)
        used += (size_t)snprintf(text + used, cap - used, "[listener.l%d]\nlisten = 127.0.0.1:%d\n",
                                 i, 10000 + i);
    struct sk_config *cfg;
    int rc = load(text, &cfg, err, 4096);
    assert_string_equal(err, "");
    assert_int_equal(rc, 0);
    assert_int_equal(cfg->n_listeners, CFG_LISTENERS_MAX);
    assert_int_equal(cfg->listeners[CFG_LISTENERS_MAX - 1].listen[0].port,
                     10000 + CFG_LISTENERS_MAX - 1);
    config_free(cfg);
    snprintf(text + used, cap - used, "[listener.more]\nlisten = 127.0.0.1:9999\n");
    rc = load(text, &cfg, err, 4096);
    assert_int_equal(rc, SK_ECONFIG);
    char want[512];
    snprintf(want, sizeof(want), "%s/test.ini:%d: at most %d [listener.*] sections\n", dir,
             2 * CFG_LISTENERS_MAX + 1, CFG_LISTENERS_MAX);
    assert_string_equal(err, want);
    free(text);
    free(err);
}

static void test_classify(void **state)
{
    (void)state;
    struct sk_config *cfg;
    char err[1024], want[1024];
    write_file("families.rules", "rule a family=x\nend\n");
    int rc = load("[classify]\nrules = families.rules\n", &cfg, err, sizeof(err));
    assert_string_equal(err, "");
    assert_int_equal(rc, 0);
    snprintf(want, sizeof(want), "%s/families.rules", dir);
    assert_string_equal(cfg->rules_file, want);
    assert_int_equal(cfg->rules_line, 2);
    config_free(cfg);

    rc = load("[server]\n[classify]\n\nrules = missing/x.rules\n", &cfg, err, sizeof(err));
    assert_int_equal(rc, SK_ECONFIG);
    snprintf(want, sizeof(want),
             "%s/test.ini:4: rules: cannot read %s/missing/x.rules: No such file or directory\n",
             dir, dir);
    assert_string_equal(err, want);

    rc = load("[classify]\nrules = /\n", &cfg, err, sizeof(err));
    assert_int_equal(rc, SK_ECONFIG);
    snprintf(want, sizeof(want), "%s/test.ini:2: rules: / is not a regular file\n", dir);
    assert_string_equal(err, want);
}

static void test_sections_as_inih_reads_them(void **state)
{
    (void)state;
    struct sk_config *cfg;
    char err[1024];
    /* A byte order mark before the first header; a comment after a
     * header; a header inside white space. */
    int rc = load("\xEF\xBB\xBF[dns]\nlisten = 127.0.0.1:53\n  [listener.a] ; web\n"
                  "listen = 127.0.0.1:80\n",
                  &cfg, err, sizeof(err));
    assert_int_equal(rc, SK_ECONFIG); /* the indented header continues 'listen' */
    assert_non_null(strstr(err, "test.ini:3: listen: expected ADDRESS:PORT"));

    rc = load("\xEF\xBB\xBF[dns]\nlisten = 127.0.0.1:53\n\n [listener.a] ; web\n"
              "listen = 127.0.0.1:80\n",
              &cfg, err, sizeof(err));
    assert_int_equal(rc, SK_ECONFIG); /* a blank line does not end a continuation either */
    assert_non_null(strstr(err, "test.ini:4: listen: expected ADDRESS:PORT"));

    rc = load("\xEF\xBB\xBF[dns]\nlisten = 127.0.0.1:53\n[listener.a] ; web\n"
              "listen = 127.0.0.1:80\n  [::1]:80\n",
              &cfg, err, sizeof(err));
    assert_string_equal(err, "");
    assert_int_equal(rc, 0);
    assert_int_equal(cfg->n_dns_listen, 1);
    assert_int_equal(cfg->n_listeners, 1);
    assert_int_equal(cfg->listeners[0].n_listen, 2);
    config_free(cfg);
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
        cmocka_unit_test(test_listener_every_key),
        cmocka_unit_test(test_listener_defaults),
        cmocka_unit_test(test_listener_files),
        cmocka_unit_test(test_listener_cap),
        cmocka_unit_test(test_classify),
        cmocka_unit_test(test_sections_as_inih_reads_them),
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
