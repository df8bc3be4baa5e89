/* Unit tests for listen/proxy: PROXY v1 lines and v2 headers for every
 * family, LOCAL and UNKNOWN, TLVs (framing, CRC32C), prefixes ("need
 * more") and malformed input refused as early as possible. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "core/addr.h"
#include "core/crc32c.h"
#include "listen/proxy.h"

static const uint8_t sig[12] = { 0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d,
                                 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a };

/* Every strict prefix must be "need more"; the whole must parse. */
static void expect_prefixes(const uint8_t *buf, size_t len)
{
    struct proxy_header h;
    for (size_t l = 0; l < len; l++) {
        uint8_t *p = malloc(l ? l : 1); /* exact size, for the sanitizers */
        assert_non_null(p);
        memcpy(p, buf, l);
        assert_int_equal(proxy_parse(p, l, &h), PROXY_NEED_MORE);
        free(p);
    }
    assert_int_equal(proxy_parse(buf, len, &h), PROXY_COMPLETE);
}

static void expect_ip(const struct sk_ip *ip, const char *text, uint16_t port)
{
    char buf[SK_IP_TEXT_MAX];
    assert_string_equal(sk_ip_ntop(ip, buf), text);
    assert_int_equal(ip->port, port);
}

/* ---- v1 ---- */

static void test_v1_valid(void **state)
{
    (void)state;
    struct proxy_header h;
    const char *tcp4 = "PROXY TCP4 192.0.2.1 198.51.100.7 56324 443\r\nGET / HTTP/1.1\r\n";
    size_t hl = strlen("PROXY TCP4 192.0.2.1 198.51.100.7 56324 443\r\n");
    assert_int_equal(proxy_parse((const uint8_t *)tcp4, strlen(tcp4), &h), PROXY_COMPLETE);
    assert_int_equal(h.len, hl);
    assert_int_equal(h.version, 1);
    assert_true(h.has_addrs);
    assert_false(h.local);
    assert_int_equal(h.transport, PROXY_TRANSPORT_TCP);
    assert_int_equal(h.src.af, 4);
    expect_ip(&h.src, "192.0.2.1", 56324);
    expect_ip(&h.dst, "198.51.100.7", 443);
    expect_prefixes((const uint8_t *)tcp4, hl);

    const char *tcp6 = "PROXY TCP6 2001:db8::1 ::ffff:192.0.2.9 0 65535\r\n";
    assert_int_equal(proxy_parse((const uint8_t *)tcp6, strlen(tcp6), &h), PROXY_COMPLETE);
    assert_int_equal(h.len, strlen(tcp6));
    assert_int_equal(h.src.af, 6);
    expect_ip(&h.src, "2001:db8::1", 0);
    assert_int_equal(h.dst.af, 6);
    assert_int_equal(h.dst.port, 65535);
    expect_prefixes((const uint8_t *)tcp6, strlen(tcp6));

    /* UNKNOWN: the rest of the line is ignored, addresses come from the
     * connection. */
    const char *unk[] = { "PROXY UNKNOWN\r\n",
                          "PROXY UNKNOWN ffff:f...f:ffff ffff:f...f:ffff 65535 65535\r\n" };
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(proxy_parse((const uint8_t *)unk[i], strlen(unk[i]), &h), PROXY_COMPLETE);
        assert_int_equal(h.len, strlen(unk[i]));
        assert_false(h.has_addrs);
        assert_int_equal(h.transport, PROXY_TRANSPORT_UNSPEC);
        assert_int_equal(h.src.af, 0);
        expect_prefixes((const uint8_t *)unk[i], strlen(unk[i]));
    }

    /* The longest line the specification allows (107 bytes). */
    const char *longest = "PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
                          "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n";
    /* 104 bytes; 107 leaves room for "UNKNOWN" with the same fields. */
    assert_int_equal(strlen(longest), PROXY_V1_MAX - 3);
    assert_int_equal(proxy_parse((const uint8_t *)longest, strlen(longest), &h), PROXY_COMPLETE);
    char unk_long[PROXY_V1_MAX + 1];
    memset(unk_long, 'x', sizeof(unk_long));
    memcpy(unk_long, "PROXY UNKNOWN ", 14);
    memcpy(unk_long + PROXY_V1_MAX - 2, "\r\n", 2);
    assert_int_equal(proxy_parse((const uint8_t *)unk_long, PROXY_V1_MAX, &h), PROXY_COMPLETE);
    assert_int_equal(h.len, PROXY_V1_MAX);
    unk_long[PROXY_V1_MAX - 2] = 'x';
    unk_long[PROXY_V1_MAX - 1] = '\r';
    unk_long[PROXY_V1_MAX] = '\n';
    assert_int_equal(proxy_parse((const uint8_t *)unk_long, PROXY_V1_MAX + 1, &h), PROXY_MALFORMED);
}

static void test_v1_malformed(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "PROXY TCP4 192.0.2.1 198.51.100.7 56324 443\n",  /* LF only */
        "PROXY TCP4 192.0.2.1 198.51.100.7 56324 443\rX", /* CR not followed by LF */
        "PROXY TCP4  192.0.2.1 198.51.100.7 1 2\r\n",     /* two spaces */
        "PROXY TCP4 192.0.2.1 198.51.100.7 1\r\n",        /* three fields */
        "PROXY TCP4 192.0.2.1 198.51.100.7 1 2 3\r\n",    /* five fields */
        "PROXY TCP4 2001:db8::1 192.0.2.1 1 2\r\n",       /* v6 in TCP4 */
        "PROXY TCP6 192.0.2.1 2001:db8::1 1 2\r\n",       /* v4 in TCP6 */
        "PROXY TCP4 192.0.2.256 198.51.100.7 1 2\r\n",    /* bad octet */
        "PROXY TCP4 192.0.2.01 198.51.100.7 1 2\r\n",     /* leading zero */
        "PROXY TCP4 192.0.2.1 198.51.100.7 65536 2\r\n",  /* port range */
        "PROXY TCP4 192.0.2.1 198.51.100.7 080 2\r\n",    /* leading zero */
        "PROXY TCP4 192.0.2.1 198.51.100.7 -1 2\r\n",
        "PROXY TCP5 192.0.2.1 198.51.100.7 1 2\r\n",
        "PROXY UDP4 192.0.2.1 198.51.100.7 1 2\r\n",
        "PROXY tcp4 192.0.2.1 198.51.100.7 1 2\r\n",
        "PROXY UNKNOWNX\r\n",
        "PROXY UNKNOWN\n",
        "PROXY  TCP4",
        "proxy TCP4",
        "PROXZ",
        "GET / HTTP/1.1\r\n",
    };
    struct proxy_header h;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        enum proxy_status st = proxy_parse((const uint8_t *)bad[i], strlen(bad[i]), &h);
        if (st != PROXY_MALFORMED)
            fail_msg("case %zu (%s): status %d", i, bad[i], st);
    }

    /* No CRLF within 107 bytes. */
    char line[200];
    memset(line, '1', sizeof(line));
    memcpy(line, "PROXY TCP4 ", 11);
    assert_int_equal(proxy_parse((const uint8_t *)line, 12, &h), PROXY_NEED_MORE);
    assert_int_equal(proxy_parse((const uint8_t *)line, sizeof(line), &h), PROXY_MALFORMED);
    memcpy(line, "PROXY UNKNOWN ", 14);
    assert_int_equal(proxy_parse((const uint8_t *)line, PROXY_V1_MAX - 1, &h), PROXY_NEED_MORE);
    assert_int_equal(proxy_parse((const uint8_t *)line, PROXY_V1_MAX, &h), PROXY_MALFORMED);
}

/* ---- v2 ---- */

struct v2 {
    uint8_t b[600];
    size_t n;
};

static void v2_start(struct v2 *w, uint8_t ver_cmd, uint8_t fam)
{
    memcpy(w->b, sig, 12);
    w->b[12] = ver_cmd;
    w->b[13] = fam;
    w->n = 16;
}

static void v2_put(struct v2 *w, const void *p, size_t n)
{
    assert_true(w->n + n <= sizeof(w->b));
    if (n > 0)
        memcpy(w->b + w->n, p, n);
    w->n += n;
}

static void v2_tlv(struct v2 *w, uint8_t type, const void *v, uint16_t n)
{
    uint8_t h[3] = { type, (uint8_t)(n >> 8), (uint8_t)n };
    v2_put(w, h, 3);
    v2_put(w, v, n);
}

static void v2_end(struct v2 *w)
{
    size_t body = w->n - 16;
    w->b[14] = (uint8_t)(body >> 8);
    w->b[15] = (uint8_t)body;
}

static void test_v2_inet(void **state)
{
    (void)state;
    struct v2 w;
    v2_start(&w, 0x21, 0x11); /* PROXY, AF_INET STREAM */
    v2_put(&w, "\xc0\x00\x02\x01\xc6\x33\x64\x07\xdc\x04\x01\xbb", 12);
    v2_end(&w);
    v2_put(&w, "payload", 7); /* not part of the header */
    struct proxy_header h;
    assert_int_equal(proxy_parse(w.b, w.n, &h), PROXY_COMPLETE);
    assert_int_equal(h.len, 28);
    assert_int_equal(h.version, 2);
    assert_false(h.local);
    assert_true(h.has_addrs);
    assert_int_equal(h.transport, PROXY_TRANSPORT_TCP);
    expect_ip(&h.src, "192.0.2.1", 56324);
    expect_ip(&h.dst, "198.51.100.7", 443);
    assert_int_equal(h.tlv_off, 28);
    assert_int_equal(h.tlv_len, 0);
    expect_prefixes(w.b, 28);

    /* UDP over IPv4, as the DNS listener sees it. */
    v2_start(&w, 0x21, 0x12);
    v2_put(&w, "\x0a\x00\x00\x01\x7f\x00\x00\x01\x30\x39\x00\x35", 12);
    v2_end(&w);
    assert_int_equal(proxy_parse(w.b, w.n, &h), PROXY_COMPLETE);
    assert_int_equal(h.transport, PROXY_TRANSPORT_UDP);
    expect_ip(&h.src, "10.0.0.1", 12345);
    expect_ip(&h.dst, "127.0.0.1", 53);
}

static void test_v2_inet6(void **state)
{
    (void)state;
    static const char a6[] = "\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01"
                             "\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02"
                             "\x00\x35\x14\xe9";
    static const uint8_t kinds[] = { 0x21, 0x22 }; /* STREAM, DGRAM */
    for (size_t i = 0; i < 2; i++) {
        struct v2 w;
        v2_start(&w, 0x21, kinds[i]);
        v2_put(&w, a6, 36);
        v2_tlv(&w, PROXY_TLV_AUTHORITY, "sink.example", 12);
        v2_tlv(&w, PROXY_TLV_NOOP, NULL, 0);
        v2_end(&w);
        struct proxy_header h;
        assert_int_equal(proxy_parse(w.b, w.n, &h), PROXY_COMPLETE);
        assert_int_equal(h.len, 16 + 36 + 15 + 3);
        assert_int_equal(h.transport, i ? PROXY_TRANSPORT_UDP : PROXY_TRANSPORT_TCP);
        expect_ip(&h.src, "2001:db8::1", 53);
        expect_ip(&h.dst, "2001:db8::2", 5353);

        /* The TLVs, in order. */
        size_t pos = h.tlv_off, end = h.tlv_off + h.tlv_len;
        uint8_t type;
        const uint8_t *v;
        uint16_t vl;
        assert_true(proxy_tlv_next(w.b, end, &pos, &type, &v, &vl));
        assert_int_equal(type, PROXY_TLV_AUTHORITY);
        assert_int_equal(vl, 12);
        assert_memory_equal(v, "sink.example", 12);
        assert_true(proxy_tlv_next(w.b, end, &pos, &type, &v, &vl));
        assert_int_equal(type, PROXY_TLV_NOOP);
        assert_int_equal(vl, 0);
        assert_false(proxy_tlv_next(w.b, end, &pos, &type, &v, &vl));
        assert_int_equal(pos, end);
        expect_prefixes(w.b, w.n);
    }
}

static void test_v2_local_unspec_unix(void **state)
{
    (void)state;
    struct proxy_header h;
    struct v2 w;

    /* LOCAL (a balancer's health check): use the real endpoints. */
    v2_start(&w, 0x20, 0x00);
    v2_end(&w);
    assert_int_equal(proxy_parse(w.b, w.n, &h), PROXY_COMPLETE);
    assert_int_equal(h.len, 16);
    assert_true(h.local);
    assert_false(h.has_addrs);
    assert_int_equal(h.transport, PROXY_TRANSPORT_UNSPEC);

    /* LOCAL with an address block: the block is discarded. */
    v2_start(&w, 0x20, 0x11);
    v2_put(&w, "\x01\x02\x03\x04\x05\x06\x07\x08\x00\x01\x00\x02", 12);
    v2_end(&w);
    assert_int_equal(proxy_parse(w.b, w.n, &h), PROXY_COMPLETE);
    assert_true(h.local);
    assert_false(h.has_addrs);
    assert_int_equal(h.src.af, 0);

    /* LOCAL with a family this parser does not know: still accepted. */
    v2_start(&w, 0x20, 0x55);
    v2_put(&w, "xyz", 3);
    v2_end(&w);
    assert_int_equal(proxy_parse(w.b, w.n, &h), PROXY_COMPLETE);
    assert_int_equal(h.len, 19);
    assert_int_equal(h.tlv_len, 0);

    /* PROXY with UNSPEC: nothing usable, not an error. */
    v2_start(&w, 0x21, 0x00);
    v2_end(&w);
    assert_int_equal(proxy_parse(w.b, w.n, &h), PROXY_COMPLETE);
    assert_false(h.local);
    assert_false(h.has_addrs);

    /* AF_UNIX: 216 bytes of paths, skipped. */
    v2_start(&w, 0x21, 0x31);
    uint8_t paths[216] = { '/', 't', 'm', 'p' };
    v2_put(&w, paths, sizeof(paths));
    v2_end(&w);
    assert_int_equal(proxy_parse(w.b, w.n, &h), PROXY_COMPLETE);
    assert_int_equal(h.len, 16 + 216);
    assert_false(h.has_addrs);
    assert_int_equal(h.transport, PROXY_TRANSPORT_TCP);
}

static void test_v2_crc32c(void **state)
{
    (void)state;
    /* The CRC-32C test vector, so the checksum below is the right one. */
    assert_int_equal(crc32c(0, "123456789", 9), 0xe3069283u);

    struct v2 w;
    v2_start(&w, 0x21, 0x11);
    v2_put(&w, "\xc0\x00\x02\x01\xc6\x33\x64\x07\xdc\x04\x01\xbb", 12);
    v2_tlv(&w, PROXY_TLV_CRC32C, "\0\0\0\0", 4);
    v2_end(&w);
    uint32_t c = crc32c(0, w.b, w.n);
    w.b[w.n - 4] = (uint8_t)(c >> 24);
    w.b[w.n - 3] = (uint8_t)(c >> 16);
    w.b[w.n - 2] = (uint8_t)(c >> 8);
    w.b[w.n - 1] = (uint8_t)c;
    struct proxy_header h;
    assert_int_equal(proxy_parse(w.b, w.n, &h), PROXY_COMPLETE);
    expect_ip(&h.src, "192.0.2.1", 56324);

    w.b[17] ^= 1; /* the source address changed in transit */
    assert_int_equal(proxy_parse(w.b, w.n, &h), PROXY_MALFORMED);
    w.b[17] ^= 1;
    w.b[w.n - 1] ^= 1;
    assert_int_equal(proxy_parse(w.b, w.n, &h), PROXY_MALFORMED);

    /* A CRC32C TLV must be 4 bytes. */
    v2_start(&w, 0x21, 0x11);
    v2_put(&w, "\xc0\x00\x02\x01\xc6\x33\x64\x07\xdc\x04\x01\xbb", 12);
    v2_tlv(&w, PROXY_TLV_CRC32C, "\0\0\0", 3);
    v2_end(&w);
    assert_int_equal(proxy_parse(w.b, w.n, &h), PROXY_MALFORMED);
}

static void test_v2_malformed(void **state)
{
    (void)state;
    struct proxy_header h;
    struct v2 w;
    static const char a4[] = "\xc0\x00\x02\x01\xc6\x33\x64\x07\xdc\x04\x01\xbb";

    static const struct {
        uint8_t ver_cmd, fam;
    } heads[] = {
        { 0x11, 0x11 }, /* version 1 */
        { 0x31, 0x11 }, /* version 3 */
        { 0x22, 0x11 }, /* command 2 */
        { 0x21, 0x41 }, /* family 4 */
        { 0x21, 0x13 }, /* transport 3 */
        { 0x21, 0x20 }, /* IPv6 without a transport */
        { 0x21, 0x01 }, /* STREAM without a family */
    };
    for (size_t i = 0; i < sizeof(heads) / sizeof(heads[0]); i++) {
        v2_start(&w, heads[i].ver_cmd, heads[i].fam);
        v2_put(&w, a4, 12);
        v2_end(&w);
        assert_int_equal(proxy_parse(w.b, w.n, &h), PROXY_MALFORMED);
        /* Refused as soon as the offending byte is seen. */
        assert_int_equal(proxy_parse(w.b, 14, &h), PROXY_MALFORMED);
    }

    /* Address block shorter than the family needs. */
    v2_start(&w, 0x21, 0x11);
    v2_put(&w, a4, 11);
    v2_end(&w);
    assert_int_equal(proxy_parse(w.b, 16, &h), PROXY_MALFORMED);
    v2_start(&w, 0x21, 0x21);
    v2_put(&w, a4, 12);
    v2_end(&w);
    assert_int_equal(proxy_parse(w.b, w.n, &h), PROXY_MALFORMED);

    /* TLVs that do not tile the rest of the header. */
    static const struct {
        const char *tail;
        size_t n;
    } tails[] = {
        { "\x04\x00", 2 }, /* shorter than a TLV header */
        { "\x02\x00\x05"
          "ab",
          5 },                     /* value past the end */
        { "\x04\x00\x00\x01", 4 }, /* a stray byte after a TLV */
    };
    for (size_t i = 0; i < sizeof(tails) / sizeof(tails[0]); i++) {
        v2_start(&w, 0x21, 0x11);
        v2_put(&w, a4, 12);
        v2_put(&w, tails[i].tail, tails[i].n);
        v2_end(&w);
        assert_int_equal(proxy_parse(w.b, w.n, &h), PROXY_MALFORMED);
    }

    /* Wrong signature bytes are refused at once; a length that has not
     * arrived yet is waited for (up to 64 KiB). */
    uint8_t almost[12];
    memcpy(almost, sig, 12);
    almost[11] = 'X';
    assert_int_equal(proxy_parse(almost, 12, &h), PROXY_MALFORMED);
    v2_start(&w, 0x21, 0x11);
    w.b[14] = 0xff;
    w.b[15] = 0xff;
    assert_int_equal(proxy_parse(w.b, 16, &h), PROXY_NEED_MORE);

    /* proxy_tlv_next stays inside end even on bytes it was not given by
     * proxy_parse. */
    static const uint8_t junk[] = { 0x01, 0xff, 0xff, 0x00 };
    size_t pos = 0;
    uint8_t type;
    const uint8_t *v;
    uint16_t vl;
    assert_false(proxy_tlv_next(junk, sizeof(junk), &pos, &type, &v, &vl));
    assert_int_equal(pos, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_v1_valid),
        cmocka_unit_test(test_v1_malformed),
        cmocka_unit_test(test_v2_inet),
        cmocka_unit_test(test_v2_inet6),
        cmocka_unit_test(test_v2_local_unspec_unix),
        cmocka_unit_test(test_v2_crc32c),
        cmocka_unit_test(test_v2_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
