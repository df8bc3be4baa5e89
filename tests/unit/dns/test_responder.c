/* Unit tests for dns/responder: every answer rule, on real packets. */
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
#include "dns/responder.h"
#include "dns/wire.h"
#include "dns/zones.h"

static char dir[] = "/tmp/sk-test-responder-XXXXXX";
static struct dns_zones *zones, *zones_nx;

static void write_file(const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static struct dns_zones *load(const char *ini)
{
    write_file("z.ini", ini);
    char path[512];
    snprintf(path, sizeof(path), "%s/z.ini", dir);
    struct sk_config *cfg;
    assert_int_equal(config_load(path, &cfg, stderr), 0);
    struct dns_zones *z;
    assert_int_equal(dns_zones_load(cfg, &z, stderr), 0);
    return z;
}

static const char base_ini[] = "[dns]\n"
                               "listen = 127.0.0.1:53\n"
                               "answer_a = 192.0.2.10 192.0.2.11\n"
                               "answer_aaaa = 2001:db8::10\n"
                               "soa_mname = ns1.sinkhole.example\n"
                               "soa_rname = abuse.sinkhole.example\n"
                               "soa_serial = 7\n"
                               "soa_minimum = 60\n"
                               "ns = ns1.sinkhole.example ns2.sinkhole.example\n"
                               "[seized.megad]\n"
                               "file = megad.txt\n"
                               "[seized.sub]\n"
                               "file = sub.txt\n"
                               "family = subfam\n"
                               "answer_a = 198.51.100.1\n";

static int setup(void **state)
{
    (void)state;
    if (mkdtemp(dir) == NULL)
        return -1;
    write_file("megad.txt", "evil.example\n# comment\nbad.test\n");
    write_file("sub.txt", "cc.bad.test\n");
    zones = load(base_ini);
    /* The same zones with ttl 30 (below the SOA minimum) and NXDOMAIN
     * for names outside the lists. */
    char ini[4096];
    snprintf(ini, sizeof(ini), "[dns]\nttl = 30\nnot_seized = nxdomain\n%s", base_ini + 6);
    zones_nx = load(ini);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    dns_zones_free(zones);
    dns_zones_free(zones_nx);
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Build a query; edns_size 0 = no OPT. */
static size_t make_query(uint8_t *buf, const char *name, uint16_t qtype, uint16_t qclass,
                         uint16_t flags, uint16_t edns_size, int edns_version, int do_bit)
{
    size_t nl;
    uint8_t wire[DNS_NAME_MAX];
    assert_int_equal(dns_name_from_text(name, strlen(name), wire, &nl), 0);
    struct dns_hdr h = { .id = 0x1234, .flags = flags, .qdcount = 1, .arcount = edns_size ? 1 : 0 };
    dns_write_header(buf, &h);
    size_t len = DNS_HDR_LEN;
    memcpy(buf + len, wire, nl);
    len += nl;
    buf[len++] = (uint8_t)(qtype >> 8);
    buf[len++] = (uint8_t)qtype;
    buf[len++] = (uint8_t)(qclass >> 8);
    buf[len++] = (uint8_t)qclass;
    if (edns_size) {
        uint8_t opt[11] = { 0,
                            0,
                            41,
                            (uint8_t)(edns_size >> 8),
                            (uint8_t)edns_size,
                            0,
                            (uint8_t)edns_version,
                            (uint8_t)(do_bit ? 0x80 : 0),
                            0,
                            0,
                            0 };
        memcpy(buf + len, opt, 11);
        len += 11;
    }
    return len;
}

struct rr {
    char owner[DNS_NAME_TEXT_MAX];
    uint16_t type, klass;
    uint32_t ttl;
    uint8_t rdata[512];
    uint16_t rdlen;
    size_t rdata_off;
};

struct parsed {
    struct dns_hdr h;
    char qname[DNS_NAME_TEXT_MAX];
    struct rr rr[80];
    int nrr;
};

static void parse_reply(const uint8_t *buf, size_t len, struct parsed *p)
{
    memset(p, 0, sizeof(*p));
    assert_int_equal(dns_parse_header(buf, len, &p->h), 0);
    size_t pos = DNS_HDR_LEN;
    uint8_t name[DNS_NAME_MAX];
    size_t nl;
    for (int i = 0; i < p->h.qdcount; i++) {
        assert_int_equal(dns_name_decode(buf, len, &pos, name, &nl), 0);
        assert_true(dns_name_to_text(name, nl, p->qname, sizeof(p->qname)) > 0);
        pos += 4;
    }
    int total = p->h.ancount + p->h.nscount + p->h.arcount;
    assert_true(total <= 80);
    for (int i = 0; i < total; i++) {
        struct rr *r = &p->rr[p->nrr++];
        assert_int_equal(dns_name_decode(buf, len, &pos, name, &nl), 0);
        assert_true(dns_name_to_text(name, nl, r->owner, sizeof(r->owner)) > 0);
        assert_true(pos + 10 <= len);
        r->type = (uint16_t)(buf[pos] << 8 | buf[pos + 1]);
        r->klass = (uint16_t)(buf[pos + 2] << 8 | buf[pos + 3]);
        r->ttl = (uint32_t)buf[pos + 4] << 24 | (uint32_t)buf[pos + 5] << 16 |
                 (uint32_t)buf[pos + 6] << 8 | buf[pos + 7];
        r->rdlen = (uint16_t)(buf[pos + 8] << 8 | buf[pos + 9]);
        pos += 10;
        assert_true(pos + r->rdlen <= len);
        r->rdata_off = pos;
        memcpy(r->rdata, buf + pos, r->rdlen < 512 ? r->rdlen : 512);
        pos += r->rdlen;
    }
    assert_int_equal(pos, len);
}

static enum dns_result ask(const struct dns_zones *z, const uint8_t *q, size_t qlen, bool tcp,
                           struct parsed *p, uint8_t *out, size_t *outlen,
                           struct dns_response_meta *m)
{
    struct dns_query dq;
    enum dns_result r = dns_respond(z, q, qlen, tcp, &dq, out, 65535, outlen, m);
    if (r == DNS_REPLY)
        parse_reply(out, *outlen, p);
    return r;
}

static void test_positive(void **state)
{
    (void)state;
    static uint8_t q[512], out[65535];
    struct parsed p;
    size_t outlen;
    struct dns_response_meta m;
    /* Below the apex, mixed case: addresses with qname owner, case echoed. */
    size_t ql = make_query(q, "WwW.EviL.example", DNS_T_A, DNS_C_IN, DNS_RD, 0, 0, 0);
    assert_int_equal(ask(zones, q, ql, false, &p, out, &outlen, &m), DNS_REPLY);
    assert_int_equal(p.h.id, 0x1234);
    assert_int_equal(p.h.flags & 0xf, DNS_RC_NOERROR);
    assert_true(p.h.flags & DNS_QR);
    assert_true(p.h.flags & DNS_AA);
    assert_true(p.h.flags & DNS_RD); /* copied */
    assert_false(p.h.flags & DNS_RA);
    assert_false(p.h.flags & DNS_TC);
    assert_string_equal(p.qname, "WwW.EviL.example.");
    assert_int_equal(p.h.ancount, 2);
    assert_int_equal(p.h.nscount, 0);
    assert_int_equal(p.h.arcount, 0);
    assert_string_equal(p.rr[0].owner, "WwW.EviL.example.");
    assert_int_equal(p.rr[0].type, DNS_T_A);
    assert_int_equal(p.rr[0].ttl, 300);
    assert_int_equal(p.rr[0].rdlen, 4);
    assert_memory_equal(p.rr[0].rdata, "\xc0\x00\x02\x0a", 4);
    assert_memory_equal(p.rr[1].rdata, "\xc0\x00\x02\x0b", 4);
    assert_int_equal(m.list, 0);
    assert_int_equal(m.rrl_class, DNS_RRL_WILDCARD);
    /* The answer owner is a compression pointer to the question. */
    assert_int_equal(out[p.rr[0].rdata_off - 12], 0xc0);
    assert_int_equal(out[p.rr[0].rdata_off - 11], 12);

    /* AAAA at the apex. */
    ql = make_query(q, "evil.example", DNS_T_AAAA, DNS_C_IN, 0, 0, 0, 0);
    ask(zones, q, ql, false, &p, out, &outlen, &m);
    assert_int_equal(p.h.ancount, 1);
    assert_int_equal(p.rr[0].type, DNS_T_AAAA);
    assert_memory_equal(p.rr[0].rdata, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x10", 16);
    assert_int_equal(m.rrl_class, DNS_RRL_POSITIVE);

    /* Longest match wins: the sub list with its own A and no AAAA. */
    ql = make_query(q, "x.cc.bad.test", DNS_T_A, DNS_C_IN, 0, 0, 0, 0);
    ask(zones, q, ql, false, &p, out, &outlen, &m);
    assert_int_equal(m.list, 1);
    assert_int_equal(p.h.ancount, 1);
    assert_memory_equal(p.rr[0].rdata, "\xc6\x33\x64\x01", 4);
    ql = make_query(q, "x.cc.bad.test", DNS_T_AAAA, DNS_C_IN, 0, 0, 0, 0);
    ask(zones, q, ql, false, &p, out, &outlen, &m);
    assert_int_equal(p.h.ancount, 0); /* no AAAA in that list: NODATA */
    assert_int_equal(p.h.nscount, 1);
    assert_string_equal(p.rr[0].owner, "cc.bad.test.");
    ql = make_query(q, "y.bad.test", DNS_T_A, DNS_C_IN, 0, 0, 0, 0);
    ask(zones, q, ql, false, &p, out, &outlen, &m);
    assert_int_equal(m.list, 0);
}

static void test_soa_ns_nodata(void **state)
{
    (void)state;
    static uint8_t q[512], out[65535];
    struct parsed p;
    size_t outlen;
    struct dns_response_meta m;
    size_t ql = make_query(q, "evil.example", DNS_T_SOA, DNS_C_IN, 0, 0, 0, 0);
    ask(zones, q, ql, false, &p, out, &outlen, &m);
    assert_int_equal(p.h.ancount, 1);
    assert_int_equal(p.rr[0].type, DNS_T_SOA);
    assert_int_equal(p.rr[0].ttl, 300);
    /* rdata: mname, rname (possibly compressed), then 5 numbers */
    size_t pos = p.rr[0].rdata_off;
    uint8_t name[DNS_NAME_MAX];
    size_t nl;
    char text[DNS_NAME_TEXT_MAX];
    assert_int_equal(dns_name_decode(out, outlen, &pos, name, &nl), 0);
    dns_name_to_text(name, nl, text, sizeof(text));
    assert_string_equal(text, "ns1.sinkhole.example.");
    assert_int_equal(dns_name_decode(out, outlen, &pos, name, &nl), 0);
    dns_name_to_text(name, nl, text, sizeof(text));
    assert_string_equal(text, "abuse.sinkhole.example.");
    assert_memory_equal(out + pos,
                        "\0\0\0\x07"
                        "\0\0\x0e\x10"
                        "\0\0\x03\x84"
                        "\0\x09\x3a\x80"
                        "\0\0\0\x3c",
                        20);

    ql = make_query(q, "EVIL.example", DNS_T_NS, DNS_C_IN, 0, 0, 0, 0);
    ask(zones, q, ql, false, &p, out, &outlen, &m);
    assert_int_equal(p.h.ancount, 2);
    assert_int_equal(p.rr[0].type, DNS_T_NS);
    assert_string_equal(p.rr[0].owner, "EVIL.example.");

    /* SOA below the apex, MX anywhere: NODATA with the apex SOA. */
    const char *nodata[] = { "a.evil.example", "evil.example" };
    uint16_t types[] = { DNS_T_SOA, DNS_T_MX };
    for (int i = 0; i < 2; i++) {
        ql = make_query(q, nodata[i], types[i], DNS_C_IN, 0, 0, 0, 0);
        ask(zones, q, ql, false, &p, out, &outlen, &m);
        assert_int_equal(p.h.flags & 0xf, DNS_RC_NOERROR);
        assert_true(p.h.flags & DNS_AA);
        assert_int_equal(p.h.ancount, 0);
        assert_int_equal(p.h.nscount, 1);
        assert_int_equal(p.rr[0].type, DNS_T_SOA);
        assert_string_equal(p.rr[0].owner, "evil.example.");
        assert_int_equal(p.rr[0].ttl, 60); /* min(ttl, minimum) */
        assert_int_equal(m.rrl_class, DNS_RRL_NODATA);
    }
    /* DS at a seized apex whose parent is seized too: answered from the
     * parent's side of the cut; with no seized parent, from the zone. */
    ql = make_query(q, "CC.bad.test", DNS_T_DS, DNS_C_IN, 0, 0, 0, 0);
    ask(zones, q, ql, false, &p, out, &outlen, &m);
    assert_int_equal(p.h.ancount, 0);
    assert_int_equal(p.h.nscount, 1);
    assert_string_equal(p.rr[0].owner, "bad.test.");
    assert_int_equal(m.list, 0);
    ql = make_query(q, "x.cc.bad.test", DNS_T_DS, DNS_C_IN, 0, 0, 0, 0);
    ask(zones, q, ql, false, &p, out, &outlen, &m);
    assert_string_equal(p.rr[0].owner, "cc.bad.test.");
    ql = make_query(q, "evil.example", DNS_T_DS, DNS_C_IN, 0, 0, 0, 0);
    ask(zones, q, ql, false, &p, out, &outlen, &m);
    assert_string_equal(p.rr[0].owner, "evil.example.");

    /* With ttl 30 < minimum 60 the negative TTL is 30. */
    ql = make_query(q, "evil.example", DNS_T_TXT, DNS_C_IN, 0, 0, 0, 0);
    ask(zones_nx, q, ql, false, &p, out, &outlen, &m);
    assert_int_equal(p.rr[0].ttl, 30);
}

static void test_outside_and_refused(void **state)
{
    (void)state;
    static uint8_t q[512], out[65535];
    struct parsed p;
    size_t outlen;
    struct dns_response_meta m;
    const char *outside[] = { "example", "notevil.example", "evil.example.com", "test",
                              "other.org" };
    for (size_t i = 0; i < sizeof(outside) / sizeof(outside[0]); i++) {
        size_t ql = make_query(q, outside[i], DNS_T_A, DNS_C_IN, DNS_RD, 0, 0, 0);
        ask(zones, q, ql, false, &p, out, &outlen, &m);
        assert_int_equal(p.h.flags & 0xf, DNS_RC_REFUSED);
        assert_false(p.h.flags & DNS_AA);
        assert_int_equal(p.h.qdcount, 1);
        assert_int_equal(p.h.ancount + p.h.nscount, 0);
        assert_int_equal(m.list, -1);
        ask(zones_nx, q, ql, false, &p, out, &outlen, &m);
        assert_int_equal(p.h.flags & 0xf, DNS_RC_NXDOMAIN);
    }
    /* Class CH and AXFR are refused even for seized names. */
    size_t ql = make_query(q, "evil.example", DNS_T_A, DNS_C_CH, 0, 0, 0, 0);
    ask(zones, q, ql, false, &p, out, &outlen, &m);
    assert_int_equal(p.h.flags & 0xf, DNS_RC_REFUSED);
    ql = make_query(q, "evil.example", DNS_T_AXFR, DNS_C_IN, 0, 0, 0, 0);
    ask(zones, q, ql, true, &p, out, &outlen, &m);
    assert_int_equal(p.h.flags & 0xf, DNS_RC_REFUSED);
}

static void test_any_edns_badvers(void **state)
{
    (void)state;
    static uint8_t q[512], out[65535];
    struct parsed p;
    size_t outlen;
    struct dns_response_meta m;
    size_t ql = make_query(q, "evil.example", DNS_T_ANY, DNS_C_IN, 0, 4096, 0, 1);
    ask(zones, q, ql, false, &p, out, &outlen, &m);
    assert_int_equal(p.h.ancount, 2); /* one RRset: the A records */
    assert_int_equal(p.rr[0].type, DNS_T_A);
    assert_int_equal(p.h.arcount, 1);
    struct rr *opt = &p.rr[2];
    assert_int_equal(opt->type, DNS_T_OPT);
    assert_string_equal(opt->owner, ".");
    assert_int_equal(opt->klass, 1232); /* our size */
    assert_int_equal(opt->ttl, 0x8000); /* DO echoed, version 0, ext rcode 0 */
    assert_int_equal(m.rrl_class, DNS_RRL_ANY);

    ql = make_query(q, "evil.example", DNS_T_A, DNS_C_IN, 0, 1232, 1, 0);
    ask(zones, q, ql, false, &p, out, &outlen, &m);
    assert_int_equal(m.rcode, DNS_RC_BADVERS);
    assert_int_equal(p.h.flags & 0xf, 0);
    assert_int_equal(p.h.ancount, 0);
    assert_int_equal(p.h.arcount, 1);
    assert_int_equal(p.rr[0].ttl >> 24, 1); /* 16 >> 4 */
}

static void test_truncation(void **state)
{
    (void)state;
    char ini[4096];
    snprintf(ini, sizeof(ini), "%s", base_ini);
    char many[1024] = "answer_a =";
    for (int i = 1; i <= 40; i++) {
        char a[24];
        /* Ten to a line: a list continues on indented lines. */
        snprintf(a, sizeof(a), "%s 192.0.2.%d", i % 10 == 1 && i > 1 ? "\n   " : "", i);
        strcat(many, a);
    }
    char *p0 = strstr(ini, "answer_a = 192.0.2.10 192.0.2.11");
    char rest[4096];
    snprintf(rest, sizeof(rest), "%s", p0 + strlen("answer_a = 192.0.2.10 192.0.2.11"));
    snprintf(p0, sizeof(ini) - (size_t)(p0 - ini), "%s%s", many, rest);
    struct dns_zones *z = load(ini);
    static uint8_t q[512], out[65535];
    struct parsed p;
    size_t outlen;
    struct dns_response_meta m;
    /* 40 A records: 40 * 16 + header + question > 512. */
    size_t ql = make_query(q, "evil.example", DNS_T_A, DNS_C_IN, 0, 0, 0, 0);
    ask(z, q, ql, false, &p, out, &outlen, &m);
    assert_true(p.h.flags & DNS_TC);
    assert_int_equal(p.h.ancount, 0);
    assert_true(outlen <= 512);
    assert_true(m.tc);
    /* With EDNS 1232 it fits. */
    ql = make_query(q, "evil.example", DNS_T_A, DNS_C_IN, 0, 1232, 0, 0);
    ask(z, q, ql, false, &p, out, &outlen, &m);
    assert_false(p.h.flags & DNS_TC);
    assert_int_equal(p.h.ancount, 40);
    /* An EDNS size under 512 counts as 512. */
    ql = make_query(q, "evil.example", DNS_T_A, DNS_C_IN, 0, 100, 0, 0);
    ask(z, q, ql, false, &p, out, &outlen, &m);
    assert_true(p.h.flags & DNS_TC);
    assert_int_equal(p.h.arcount, 1); /* the OPT is still there */
    /* Over TCP all of it. */
    ql = make_query(q, "evil.example", DNS_T_A, DNS_C_IN, 0, 0, 0, 0);
    ask(z, q, ql, true, &p, out, &outlen, &m);
    assert_false(p.h.flags & DNS_TC);
    assert_int_equal(p.h.ancount, 40);
    /* The slip reply: question only, TC set, AA clear. */
    uint8_t slip[512];
    size_t sl = dns_respond_slip(out, outlen, slip, sizeof(slip));
    parse_reply(slip, sl, &p);
    assert_true(p.h.flags & DNS_TC);
    assert_false(p.h.flags & DNS_AA);
    assert_int_equal(p.h.qdcount, 1);
    assert_int_equal(p.h.ancount + p.h.nscount + p.h.arcount, 0);
    dns_zones_free(z);
}

static void test_malformed(void **state)
{
    (void)state;
    static uint8_t q[512], out[65535];
    struct parsed p;
    size_t outlen;
    struct dns_response_meta m;
    struct dns_query dq;
    /* Too short, QR set, no question: dropped. */
    assert_int_equal(dns_respond(zones, (const uint8_t *)"\x12\x34\x01", 3, false, &dq, out,
                                 sizeof(out), &outlen, &m),
                     DNS_DROP);
    size_t ql = make_query(q, "evil.example", DNS_T_A, DNS_C_IN, DNS_QR, 0, 0, 0);
    assert_int_equal(dns_respond(zones, q, ql, false, &dq, out, sizeof(out), &outlen, &m),
                     DNS_DROP);
    ql = make_query(q, "evil.example", DNS_T_A, DNS_C_IN, 0, 0, 0, 0);
    q[5] = 0; /* qdcount 0 */
    assert_int_equal(dns_respond(zones, q, ql, false, &dq, out, sizeof(out), &outlen, &m),
                     DNS_DROP);
    /* qdcount 2: FORMERR with the first question echoed. */
    ql = make_query(q, "evil.example", DNS_T_A, DNS_C_IN, DNS_RD, 0, 0, 0);
    q[5] = 2;
    assert_int_equal(ask(zones, q, ql, false, &p, out, &outlen, &m), DNS_REPLY);
    assert_int_equal(p.h.flags & 0xf, DNS_RC_FORMERR);
    assert_true(p.h.flags & DNS_RD);
    assert_int_equal(p.h.ancount, 0);
    /* Opcode UPDATE: NOTIMP. */
    ql = make_query(q, "evil.example", DNS_T_A, DNS_C_IN, DNS_OP_UPDATE << 11, 0, 0, 0);
    ask(zones, q, ql, false, &p, out, &outlen, &m);
    assert_int_equal(p.h.flags & 0xf, DNS_RC_NOTIMP);
    assert_int_equal(DNS_OPCODE(p.h.flags), DNS_OP_UPDATE);
    /* Trailing garbage is ignored: a normal answer. */
    ql = make_query(q, "evil.example", DNS_T_A, DNS_C_IN, 0, 0, 0, 0);
    memcpy(q + ql, "garbage!", 8);
    ask(zones, q, ql + 8, false, &p, out, &outlen, &m);
    assert_int_equal(p.h.flags & 0xf, DNS_RC_NOERROR);
    assert_int_equal(p.h.ancount, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_positive),
        cmocka_unit_test(test_soa_ns_nodata),
        cmocka_unit_test(test_outside_and_refused),
        cmocka_unit_test(test_any_edns_badvers),
        cmocka_unit_test(test_truncation),
        cmocka_unit_test(test_malformed),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
