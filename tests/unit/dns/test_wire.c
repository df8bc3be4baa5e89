/* Unit tests for dns/wire: header, name decoding with compression and
 * hostile pointers, RR skipping, the classification of dns_parse_query(),
 * and the message builder (overflow, compression, rollback). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "dns/name.h"
#include "dns/wire.h"

/* Hex with optional spaces into out; returns the byte count. */
static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = 0;
    int hi = -1;
    for (const char *p = hex; *p; p++) {
        int v;
        if (*p >= '0' && *p <= '9')
            v = *p - '0';
        else if (*p >= 'a' && *p <= 'f')
            v = *p - 'a' + 10;
        else if (*p >= 'A' && *p <= 'F')
            v = *p - 'A' + 10;
        else
            continue;
        if (hi < 0) {
            hi = v;
        } else {
            assert_true(n < cap);
            out[n++] = (uint8_t)(hi << 4 | v);
            hi = -1;
        }
    }
    assert_int_equal(hi, -1);
    return n;
}

static void wire_of(const char *text, uint8_t *out, size_t *len)
{
    assert_int_equal(dns_name_from_text(text, strlen(text), out, len), 0);
}

/* ---- header ---- */

static void test_header(void **state)
{
    (void)state;
    uint8_t b[16];
    size_t n = unhex("abcd 8583 0001 0002 0003 0004", b, sizeof(b));
    struct dns_hdr h;
    assert_int_equal(dns_parse_header(b, n, &h), 0);
    assert_int_equal(h.id, 0xabcd);
    assert_int_equal(h.flags, 0x8583);
    assert_true(h.flags & DNS_QR);
    assert_true(h.flags & DNS_AA);
    assert_true(h.flags & DNS_RD);
    assert_int_equal(DNS_OPCODE(h.flags), 0);
    assert_int_equal(DNS_RCODE(h.flags), DNS_RC_NXDOMAIN);
    assert_int_equal(h.qdcount, 1);
    assert_int_equal(h.ancount, 2);
    assert_int_equal(h.nscount, 3);
    assert_int_equal(h.arcount, 4);
    for (size_t l = 0; l < DNS_HDR_LEN; l++)
        assert_int_equal(dns_parse_header(b, l, &h), SK_EPROTO);

    uint8_t out[DNS_HDR_LEN];
    struct dns_hdr w = { .id = 0x1234, .flags = 0x2900, .qdcount = 1, .arcount = 0xfffe };
    dns_write_header(out, &w);
    uint8_t want[DNS_HDR_LEN];
    unhex("1234 2900 0001 0000 0000 fffe", want, sizeof(want));
    assert_memory_equal(out, want, DNS_HDR_LEN);
    assert_int_equal(DNS_OPCODE(w.flags), DNS_OP_UPDATE);
}

/* ---- name decoding ---- */

/* Messages start with a 12-byte header of zeros ("H" below); names start
 * at offset 12 (0x0c). */
#define H "000000000000000000000000"

struct decode_case {
    const char *what;
    const char *hex;
    size_t pos;
    int rc;
    const char *text; /* expected name */
    size_t end;       /* expected *pos after */
};

static const struct decode_case decode_cases[] = {
    { "plain", H "03777777 076578616d706c65 03636f6d 00", 12, 0, "www.example.com.", 29 },
    { "root", H "00", 12, 0, ".", 13 },
    { "case kept", H "03577757 0645586d706c65 00", 12, 0, "WwW.EXmple.", 24 },
    /* www.example.com at 12; then "mail" + pointer to "example.com" (16). */
    { "compressed suffix", H "03777777076578616d706c6503636f6d00 046d61696c c010", 29, 0,
      "mail.example.com.", 36 },
    /* A pointer alone, to the start of the first name. */
    { "whole pointer", H "03777777076578616d706c6503636f6d00 c00c", 29, 0, "www.example.com.", 31 },
    /* "a" + ptr -> 29 ("mail" + ptr -> 16): two jumps, each strictly back. */
    { "pointer chain", H "03777777076578616d706c6503636f6d00 046d61696c c010 0161 c01d", 36, 0,
      "a.mail.example.com.", 40 },
    { "pointer to root", H "00 0178 c00c", 13, 0, "x.", 17 },
    { "forward pointer", H "c00e 0161 00", 12, SK_EPROTO, NULL, 0 },
    { "self pointer", H "c00c", 12, SK_EPROTO, NULL, 0 },
    /* Label then a pointer back to the same name's start: a loop. */
    { "loop to own start", H "0161 c00c", 12, SK_EPROTO, NULL, 0 },
    /* Pointer into the middle of its own name. */
    { "pointer into own name", H "0161 0162 c00e", 12, SK_EPROTO, NULL, 0 },
    /* From 16: jump to 12 (fine), which holds "a" then a jump to 16 again. */
    { "two-step loop", H "0161 c010 c00c", 16, SK_EPROTO, NULL, 0 },
    { "pointer past end", H "c0ff", 12, SK_EPROTO, NULL, 0 },
    { "pointer cut in half", H "0161 c0", 12, SK_EPROTO, NULL, 0 },
    { "label past end", H "05616263", 12, SK_EPROTO, NULL, 0 },
    { "no root", H "03616263", 12, SK_EPROTO, NULL, 0 },
    { "empty", H, 12, SK_EPROTO, NULL, 0 },
    { "label type 0x40 (a 64 length)", H "40 00", 12, SK_EPROTO, NULL, 0 },
    { "label type 0x80", H "80 00", 12, SK_EPROTO, NULL, 0 },
    { "label type 0x7f", H "7f 00", 12, SK_EPROTO, NULL, 0 },
};

static void test_name_decode_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(decode_cases) / sizeof(decode_cases[0]); i++) {
        const struct decode_case *c = &decode_cases[i];
        uint8_t buf[512], name[DNS_NAME_MAX];
        size_t len = unhex(c->hex, buf, sizeof(buf)), nl = 0, pos = c->pos;
        int rc = dns_name_decode(buf, len, &pos, name, &nl);
        if (rc != c->rc)
            fail_msg("%s: rc %d, want %d", c->what, rc, c->rc);
        if (rc == 0) {
            char text[DNS_NAME_TEXT_MAX];
            assert_true(dns_name_to_text(name, nl, text, sizeof(text)) > 0);
            assert_string_equal(text, c->text);
            if (pos != c->end)
                fail_msg("%s: end %zu, want %zu", c->what, pos, c->end);
        } else {
            assert_int_equal(pos, c->pos); /* not moved on error */
        }
    }
}

/* Builds a name of n one-byte labels at buf[12]; returns the message length. */
static size_t many_labels(uint8_t *buf, int n)
{
    memset(buf, 0, DNS_HDR_LEN);
    size_t p = DNS_HDR_LEN;
    for (int i = 0; i < n; i++) {
        buf[p++] = 1;
        buf[p++] = (uint8_t)('a' + i % 26);
    }
    buf[p++] = 0;
    return p;
}

static void test_name_decode_limits(void **state)
{
    (void)state;
    uint8_t buf[1024], name[DNS_NAME_MAX];
    size_t nl, pos;

    /* 127 labels: 255 bytes, the maximum. */
    size_t len = many_labels(buf, 127);
    pos = DNS_HDR_LEN;
    assert_int_equal(dns_name_decode(buf, len, &pos, name, &nl), 0);
    assert_int_equal(nl, 255);
    assert_int_equal(pos, len);
    /* 128 labels: 257 bytes. */
    len = many_labels(buf, 128);
    pos = DNS_HDR_LEN;
    assert_int_equal(dns_name_decode(buf, len, &pos, name, &nl), SK_EPROTO);

    /* 256 bytes: 3 x 63 + 62 + root, in big labels. */
    memset(buf, 0, sizeof(buf));
    size_t p = DNS_HDR_LEN;
    const int sizes[] = { 63, 63, 63, 62 };
    for (int i = 0; i < 4; i++) {
        buf[p++] = (uint8_t)sizes[i];
        memset(buf + p, 'q', (size_t)sizes[i]);
        p += (size_t)sizes[i];
    }
    buf[p++] = 0;
    pos = DNS_HDR_LEN;
    assert_int_equal(dns_name_decode(buf, p, &pos, name, &nl), SK_EPROTO);
    /* With a 61-byte last label it is exactly 255. */
    buf[DNS_HDR_LEN + 3 * 64] = 61;
    buf[DNS_HDR_LEN + 3 * 64 + 62] = 0;
    pos = DNS_HDR_LEN;
    assert_int_equal(dns_name_decode(buf, p - 1, &pos, name, &nl), 0);
    assert_int_equal(nl, 255);

    /* Over 255 only through compression: 126 labels (253 bytes with the
     * root) at 12, then a name of two labels pointing at it. */
    len = many_labels(buf, 126);
    pos = len;
    memcpy(buf + len, "\1x\300\014", 4);
    assert_int_equal(dns_name_decode(buf, len + 4, &pos, name, &nl), 0);
    assert_int_equal(nl, 255);
    assert_int_equal(pos, len + 4);
    memcpy(buf + len, "\1x\1y\300\014", 6);
    pos = len;
    assert_int_equal(dns_name_decode(buf, len + 6, &pos, name, &nl), SK_EPROTO);

    /* More than 128 jumps, each strictly backwards and each to a bare
     * pointer: rejected by the jump cap even though it would end. */
    memset(buf, 0, sizeof(buf));
    buf[12] = 0; /* root at 12 */
    size_t at = 13;
    for (int i = 0; i < 130; i++) {
        size_t prev = i == 0 ? 12 : at - 2;
        buf[at++] = (uint8_t)(0xc0 | prev >> 8);
        buf[at++] = (uint8_t)prev;
    }
    pos = at - 2; /* the 130th pointer: 130 jumps to get to the root */
    assert_int_equal(dns_name_decode(buf, at, &pos, name, &nl), SK_EPROTO);
    pos = 13 + 2 * 127; /* the 128th: 128 jumps */
    assert_int_equal(dns_name_decode(buf, at, &pos, name, &nl), 0);
    assert_int_equal(nl, 1);
}

/* ---- RRs ---- */

static void test_skip_rr(void **state)
{
    (void)state;
    uint8_t b[128];
    /* owner example.com at 12, then an A RR owned by a pointer to it. */
    size_t n = unhex(H "076578616d706c6503636f6d00 c00c 0001 0001 00000e10 0004 c0000201 ff", b,
                     sizeof(b));
    size_t pos = 12;
    /* Read from the wrong place, the RDLENGTH is 0x0e10: past the end. */
    assert_int_equal(dns_skip_rr(b, n, &pos), SK_EPROTO);
    pos = 25;
    assert_int_equal(dns_skip_rr(b, n, &pos), 0);
    assert_int_equal(pos, 25 + 2 + 10 + 4);
    /* Every shorter cut is truncated. */
    for (size_t cut = 25; cut < 41; cut++) {
        pos = 25;
        assert_int_equal(dns_skip_rr(b, cut, &pos), SK_EPROTO);
        assert_int_equal(pos, 25);
    }
}

/* ---- dns_parse_query ---- */

/* Pieces of message bodies (after the 12-byte header). */
#define Q_A        "076578616d706c6503636f6d00 0001 0001" /* example.com A IN */
#define Q_AAAA     "03777777 076578616d706c65 03636f6d 00 001c 0001"
#define OPT(rdlen) "00 0029 1000 00000000" rdlen /* 4096, v0 */
#define OPT_EMPTY  OPT("0000")
#define TSIG_LIKE  "036b6579 00 00fa 00ff 00000000 0004 01020304"

struct pq_case {
    const char *what;
    uint16_t flags, qd, an, ns, ar;
    const char *body;
    size_t cut; /* if non-zero, the message is cut to this many bytes */
    enum dns_parse_status st;
    bool has_q;
    const char *qname;
    uint16_t qtype;
    bool has_edns;
    uint16_t udp;
    uint8_t version;
    bool do_bit;
    bool has_ecs;
    uint16_t ecs_family;
    uint8_t ecs_src, ecs_scope;
    const char *ecs_addr;
};

static const struct pq_case pq_cases[] = {
    { "plain A", 0x0100, 1, 0, 0, 0, Q_A, 0, DNS_PARSE_OK, true, "example.com.", DNS_T_A },
    { "AAAA", 0, 1, 0, 0, 0, Q_AAAA, 0, DNS_PARSE_OK, true, "www.example.com.", DNS_T_AAAA },
    { "ANY mixed case", 0, 1, 0, 0, 0, "03577757 00 00ff 0001", 0, DNS_PARSE_OK, true, "WwW.",
      DNS_T_ANY },
    { "root name", 0, 1, 0, 0, 0, "00 0002 0001", 0, DNS_PARSE_OK, true, ".", DNS_T_NS },
    { "short header", 0, 1, 0, 0, 0, Q_A, 11, DNS_PARSE_DROP },
    { "empty", 0, 1, 0, 0, 0, "", 1, DNS_PARSE_DROP },
    { "QR set", 0x8000, 1, 0, 0, 0, Q_A, 0, DNS_PARSE_DROP },
    { "qdcount 0", 0, 0, 0, 0, 0, Q_A, 0, DNS_PARSE_DROP },
    { "qdcount 0, opcode 5", 0x2800, 0, 0, 0, 0, Q_A, 0, DNS_PARSE_DROP },
    { "qdcount 2", 0, 2, 0, 0, 0, Q_A Q_A, 0, DNS_PARSE_FORMERR, true, "example.com.", DNS_T_A },
    { "qdcount 2, one present", 0, 2, 0, 0, 0, Q_A, 0, DNS_PARSE_FORMERR, true, "example.com.",
      DNS_T_A },
    { "ancount 1", 0, 1, 1, 0, 0, Q_A "c00c 0001 0001 00000000 0004 01020304", 0, DNS_PARSE_FORMERR,
      true, "example.com.", DNS_T_A },
    { "nscount 1", 0, 1, 0, 1, 0, Q_A "c00c 0001 0001 00000000 0004 01020304", 0, DNS_PARSE_FORMERR,
      true, "example.com.", DNS_T_A },
    { "trailing garbage", 0, 1, 0, 0, 0, Q_A "6761726261676521", 0, DNS_PARSE_OK, true,
      "example.com.", DNS_T_A },
    { "trailing garbage after OPT", 0, 1, 0, 0, 1, Q_A OPT_EMPTY "ffff", 0, DNS_PARSE_OK, true,
      "example.com.", DNS_T_A, true, 4096 },
    { "truncated qname", 0, 1, 0, 0, 0, Q_A, 12 + 6, DNS_PARSE_FORMERR, false },
    { "truncated qtype", 0, 1, 0, 0, 0, Q_A, 12 + 13 + 2, DNS_PARSE_FORMERR, false },
    { "qname label 64", 0, 1, 0, 0, 0, "40 00 0001 0001", 0, DNS_PARSE_FORMERR, false },
    { "qname forward pointer", 0, 1, 0, 0, 0, "c00e 00 0001 0001", 0, DNS_PARSE_FORMERR, false },
    { "qname self pointer", 0, 1, 0, 0, 0, "c00c 0001 0001", 0, DNS_PARSE_FORMERR, false },
    { "EDNS", 0, 1, 0, 0, 1, Q_A "00 0029 04d0 00008000 0000", 0, DNS_PARSE_OK, true,
      "example.com.", DNS_T_A, true, 1232, 0, true },
    { "EDNS small size kept", 0, 1, 0, 0, 1, Q_A "00 0029 0064 00000000 0000", 0, DNS_PARSE_OK,
      true, "example.com.", DNS_T_A, true, 100 },
    { "ECS v4 /24",
      0,
      1,
      0,
      0,
      1,
      Q_A OPT("000b 0008 0007 0001 18 00 cb0071"),
      0,
      DNS_PARSE_OK,
      true,
      "example.com.",
      DNS_T_A,
      true,
      4096,
      0,
      false,
      true,
      1,
      24,
      0,
      "cb007100" },
    { "ECS v4 /0",
      0,
      1,
      0,
      0,
      1,
      Q_A OPT("0008 0008 0004 0001 00 00"),
      0,
      DNS_PARSE_OK,
      true,
      "example.com.",
      DNS_T_A,
      true,
      4096,
      0,
      false,
      true,
      1,
      0,
      0,
      "00000000" },
    { "ECS v4 /32",
      0,
      1,
      0,
      0,
      1,
      Q_A OPT("000c 0008 0008 0001 20 00 c0000201"),
      0,
      DNS_PARSE_OK,
      true,
      "example.com.",
      DNS_T_A,
      true,
      4096,
      0,
      false,
      true,
      1,
      32,
      0,
      "c0000201" },
    { "ECS v6 /56",
      0,
      1,
      0,
      0,
      1,
      Q_AAAA OPT("000f 0008 000b 0002 38 00 20010db8abcdef"),
      0,
      DNS_PARSE_OK,
      true,
      "www.example.com.",
      DNS_T_AAAA,
      true,
      4096,
      0,
      false,
      true,
      2,
      56,
      0,
      "20010db8abcdef000000000000000000" },
    { "ECS v4 /20, last byte masked",
      0,
      1,
      0,
      0,
      1,
      Q_A OPT("000b 0008 0007 0001 14 00 0a01f0"),
      0,
      DNS_PARSE_OK,
      true,
      "example.com.",
      DNS_T_A,
      true,
      4096,
      0,
      false,
      true,
      1,
      20,
      0,
      "0a01f000" },
    { "ECS with cookie before it",
      0,
      1,
      0,
      0,
      1,
      Q_A OPT("0017 000a 0008 0102030405060708 0008 0007 0001 18 00 cb0071"),
      0,
      DNS_PARSE_OK,
      true,
      "example.com.",
      DNS_T_A,
      true,
      4096,
      0,
      false,
      true,
      1,
      24,
      0,
      "cb007100" },
    { "ECS bad family", 0, 1, 0, 0, 1, Q_A OPT("000b 0008 0007 0003 18 00 cb0071"), 0,
      DNS_PARSE_FORMERR, true, "example.com.", DNS_T_A, true, 4096 },
    { "ECS v4 prefix 33", 0, 1, 0, 0, 1, Q_A OPT("000d 0008 0009 0001 21 00 c000020100"), 0,
      DNS_PARSE_FORMERR, true, "example.com.", DNS_T_A, true, 4096 },
    { "ECS v6 prefix 129", 0, 1, 0, 0, 1,
      Q_A OPT("0019 0008 0015 0002 81 00 20010db8000000000000000000000000ff"), 0, DNS_PARSE_FORMERR,
      true, "example.com.", DNS_T_A, true, 4096 },
    { "ECS address too long", 0, 1, 0, 0, 1, Q_A OPT("000c 0008 0008 0001 18 00 cb007100"), 0,
      DNS_PARSE_FORMERR, true, "example.com.", DNS_T_A, true, 4096 },
    { "ECS address too short", 0, 1, 0, 0, 1, Q_A OPT("000a 0008 0006 0001 18 00 cb00"), 0,
      DNS_PARSE_FORMERR, true, "example.com.", DNS_T_A, true, 4096 },
    { "ECS bits past prefix", 0, 1, 0, 0, 1, Q_A OPT("000b 0008 0007 0001 14 00 0a01f8"), 0,
      DNS_PARSE_FORMERR, true, "example.com.", DNS_T_A, true, 4096 },
    { "ECS option of 3 bytes", 0, 1, 0, 0, 1, Q_A OPT("0007 0008 0003 0001 18"), 0,
      DNS_PARSE_FORMERR, true, "example.com.", DNS_T_A, true, 4096 },
    { "option longer than RDATA", 0, 1, 0, 0, 1, Q_A OPT("0006 000a 0008 01020304"), 0,
      DNS_PARSE_FORMERR, true, "example.com.", DNS_T_A, true, 4096 },
    { "RDATA with a partial option", 0, 1, 0, 0, 1, Q_A OPT("0002 000a"), 0, DNS_PARSE_FORMERR,
      true, "example.com.", DNS_T_A, true, 4096 },
    { "OPT RDATA past the end", 0, 1, 0, 0, 1, Q_A OPT("0010 000a 0008"), 0, DNS_PARSE_FORMERR,
      true, "example.com.", DNS_T_A },
    { "two OPTs", 0, 1, 0, 0, 2, Q_A OPT_EMPTY OPT_EMPTY, 0, DNS_PARSE_FORMERR, true,
      "example.com.", DNS_T_A, true, 4096 },
    { "OPT not at root", 0, 1, 0, 0, 1, Q_A "c00c 0029 1000 00000000 0000", 0, DNS_PARSE_FORMERR,
      true, "example.com.", DNS_T_A },
    { "OPT version 1", 0, 1, 0, 0, 1, Q_A "00 0029 1000 00010000 0000", 0, DNS_PARSE_BADVERS, true,
      "example.com.", DNS_T_A, true, 4096, 1 },
    { "OPT version 1, DO, ext rcode", 0, 1, 0, 0, 1, Q_A "00 0029 1000 07018000 0000", 0,
      DNS_PARSE_BADVERS, true, "example.com.", DNS_T_A, true, 4096, 1, true },
    { "OPT version 1 then a bad RR", 0, 1, 0, 0, 2, Q_A "00 0029 1000 00010000 0000 0161", 0,
      DNS_PARSE_FORMERR, true, "example.com.", DNS_T_A, true, 4096, 1 },
    { "OPT version 1 with bad ECS", 0, 1, 0, 0, 1,
      Q_A "00 0029 1000 00010000 000b 0008 0007 0009 18 00 cb0071", 0, DNS_PARSE_FORMERR, true,
      "example.com.", DNS_T_A, true, 4096, 1 },
    { "opcode 5", 0x2800, 1, 0, 0, 0, Q_A, 0, DNS_PARSE_NOTIMP, true, "example.com.", DNS_T_A },
    { "opcode 5, bad question", 0x2800, 1, 0, 0, 0, "40 00 0001 0001", 0, DNS_PARSE_NOTIMP, false },
    { "opcode 2, qdcount 2", 0x1000, 2, 1, 0, 0, Q_A, 0, DNS_PARSE_NOTIMP, true, "example.com.",
      DNS_T_A },
    { "TSIG-like RR skipped", 0, 1, 0, 0, 1, Q_A TSIG_LIKE, 0, DNS_PARSE_OK, true, "example.com.",
      DNS_T_A },
    { "OPT and TSIG-like", 0, 1, 0, 0, 2, Q_A OPT_EMPTY TSIG_LIKE, 0, DNS_PARSE_OK, true,
      "example.com.", DNS_T_A, true, 4096 },
    { "arcount 2, one RR", 0, 1, 0, 0, 2, Q_A OPT_EMPTY, 0, DNS_PARSE_FORMERR, true, "example.com.",
      DNS_T_A, true, 4096 },
    { "additional RR truncated", 0, 1, 0, 0, 1, Q_A TSIG_LIKE, 12 + 17 + 18, DNS_PARSE_FORMERR,
      true, "example.com.", DNS_T_A },
    { "additional RR bad owner", 0, 1, 0, 0, 1, Q_A "c0ff 0001 0001 00000000 0000", 0,
      DNS_PARSE_FORMERR, true, "example.com.", DNS_T_A },
    { "OPT owner pointer to root", 0, 1, 0, 0, 1, Q_A "c018 0029 1000 00000000 0000", 0,
      DNS_PARSE_OK, true, "example.com.", DNS_T_A, true, 4096 },
};

static void test_parse_query_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(pq_cases) / sizeof(pq_cases[0]); i++) {
        const struct pq_case *c = &pq_cases[i];
        uint8_t msg[1024];
        struct dns_hdr h = { .id = (uint16_t)(0x1000 + i),
                             .flags = c->flags,
                             .qdcount = c->qd,
                             .ancount = c->an,
                             .nscount = c->ns,
                             .arcount = c->ar };
        dns_write_header(msg, &h);
        size_t len = DNS_HDR_LEN + unhex(c->body, msg + DNS_HDR_LEN, sizeof(msg) - DNS_HDR_LEN);
        if (c->cut != 0) {
            assert_true(c->cut <= len);
            len = c->cut;
        }
        struct dns_query q;
        memset(&q, 0xa5, sizeof(q));
        enum dns_parse_status st = dns_parse_query(msg, len, &q);
        if (st != c->st)
            fail_msg("%s: status %d, want %d", c->what, (int)st, (int)c->st);
        if (q.has_question != c->has_q)
            fail_msg("%s: has_question %d", c->what, q.has_question);
        if (st == DNS_PARSE_DROP)
            continue;
        assert_int_equal(q.hdr.id, h.id);
        assert_int_equal(q.hdr.flags, c->flags);
        if (c->has_q) {
            char text[DNS_NAME_TEXT_MAX];
            assert_true(dns_name_to_text(q.qname, q.qname_len, text, sizeof(text)) > 0);
            assert_string_equal(text, c->qname);
            assert_int_equal(q.qtype, c->qtype);
            assert_int_equal(q.qclass, DNS_C_IN);
            assert_int_equal(q.question_end, DNS_HDR_LEN + q.qname_len + 4);
        } else {
            assert_int_equal(q.qname_len, 0);
        }
        if (q.has_edns != c->has_edns)
            fail_msg("%s: has_edns %d", c->what, q.has_edns);
        if (c->has_edns) {
            assert_int_equal(q.edns_udp_size, c->udp);
            assert_int_equal(q.edns_version, c->version);
            assert_int_equal(q.edns_do, c->do_bit);
        }
        if (q.has_ecs != c->has_ecs)
            fail_msg("%s: has_ecs %d", c->what, q.has_ecs);
        if (c->has_ecs) {
            uint8_t addr[16];
            memset(addr, 0, sizeof(addr));
            unhex(c->ecs_addr, addr, sizeof(addr));
            assert_int_equal(q.ecs_family, c->ecs_family);
            assert_int_equal(q.ecs_source_prefix, c->ecs_src);
            assert_int_equal(q.ecs_scope_prefix, c->ecs_scope);
            assert_memory_equal(q.ecs_addr, addr, 16);
        }
    }
}

/* A question whose name is 255 bytes: accepted, qname_len 255. */
static void test_parse_query_long_name(void **state)
{
    (void)state;
    uint8_t msg[512];
    size_t len = many_labels(msg, 127);
    msg[5] = 1; /* qdcount */
    memcpy(msg + len, "\0\1\0\1", 4);
    struct dns_query q;
    assert_int_equal(dns_parse_query(msg, len + 4, &q), DNS_PARSE_OK);
    assert_int_equal(q.qname_len, 255);
    assert_int_equal(q.question_end, len + 4);
    len = many_labels(msg, 128);
    msg[5] = 1;
    memcpy(msg + len, "\0\1\0\1", 4);
    assert_int_equal(dns_parse_query(msg, len + 4, &q), DNS_PARSE_FORMERR);
    assert_false(q.has_question);
}

/* Every prefix of a good EDNS+ECS query parses without reading past it;
 * under ASan this catches any overread. */
static void test_parse_query_prefixes(void **state)
{
    (void)state;
    uint8_t full[256];
    struct dns_hdr h = { .id = 7, .qdcount = 1, .arcount = 1 };
    dns_write_header(full, &h);
    size_t n =
        DNS_HDR_LEN + unhex(Q_A OPT("000b 0008 0007 0001 18 00 cb0071"), full + DNS_HDR_LEN, 200);
    for (size_t cut = 0; cut <= n; cut++) {
        uint8_t *exact = malloc(cut ? cut : 1);
        assert_non_null(exact);
        memcpy(exact, full, cut);
        struct dns_query q;
        enum dns_parse_status st = dns_parse_query(exact, cut, &q);
        free(exact);
        if (cut < DNS_HDR_LEN)
            assert_int_equal(st, DNS_PARSE_DROP);
        else if (cut < n)
            assert_int_equal(st, DNS_PARSE_FORMERR);
        else
            assert_int_equal(st, DNS_PARSE_OK);
        assert_int_equal(q.has_question, cut >= DNS_HDR_LEN + 17);
    }
}

/* ---- builder ---- */

static void test_wbuf_overflow(void **state)
{
    (void)state;
    uint8_t buf[16];
    memset(buf, 0xee, sizeof(buf));
    struct dns_wbuf w;
    dns_wbuf_init(&w, buf, 7);
    assert_int_equal(dns_wbuf_u32(&w, 0x01020304), 0);
    assert_int_equal(w.len, 4);
    assert_false(w.overflow);
    assert_int_equal(dns_wbuf_u32(&w, 0xaabbccdd), SK_ENOSPACE);
    assert_true(w.overflow);
    assert_int_equal(w.len, 4);
    assert_int_equal(buf[4], 0xee); /* nothing of it written */
    assert_int_equal(dns_wbuf_u16(&w, 0x0506), 0);
    assert_int_equal(w.len, 6);
    assert_true(w.overflow); /* the mark stays until a rollback */
    assert_int_equal(dns_wbuf_u16(&w, 0x0708), SK_ENOSPACE);
    assert_int_equal(w.len, 6);
    assert_int_equal(dns_wbuf_bytes(&w, "xy", 2), SK_ENOSPACE);
    assert_int_equal(w.len, 6);
    assert_int_equal(buf[6], 0xee);
    assert_int_equal(dns_wbuf_u8(&w, 7), 0);
    assert_int_equal(dns_wbuf_u8(&w, 8), SK_ENOSPACE);
    assert_int_equal(w.len, 7);
    assert_int_equal(dns_wbuf_bytes(&w, NULL, 0), 0);
    uint8_t want[] = { 1, 2, 3, 4, 5, 6, 7, 0xee };
    assert_memory_equal(buf, want, sizeof(want));

    /* A name that does not fit is not written at all. */
    dns_wbuf_init(&w, buf, 10);
    memset(buf, 0xee, sizeof(buf));
    assert_int_equal(dns_wbuf_u8(&w, 0), 0);
    uint8_t name[DNS_NAME_MAX];
    size_t nl;
    wire_of("www.example", name, &nl); /* 13 bytes */
    assert_int_equal(dns_wbuf_name(&w, name, nl), SK_ENOSPACE);
    assert_int_equal(w.len, 1);
    assert_true(w.overflow);
    assert_int_equal(w.nnames, 0);
    assert_int_equal(buf[1], 0xee);
    assert_int_equal(dns_wbuf_name_raw(&w, name, nl), SK_ENOSPACE);
    assert_int_equal(w.len, 1);
    assert_int_equal(buf[1], 0xee);

    /* Rolling back clears the mark. */
    dns_wbuf_truncate(&w, 0);
    assert_false(w.overflow);
    assert_int_equal(w.len, 0);

    /* A malformed name is refused whole and marks the message. */
    assert_int_equal(dns_wbuf_name(&w, (const uint8_t *)"\3ab", 3), SK_EINVAL);
    assert_int_equal(w.len, 0);
    assert_true(w.overflow);

    /* Zero capacity. */
    dns_wbuf_init(&w, buf, 0);
    assert_int_equal(dns_wbuf_u8(&w, 1), SK_ENOSPACE);
    assert_int_equal(w.len, 0);
}

static void test_wbuf_patch(void **state)
{
    (void)state;
    uint8_t buf[8] = { 0 };
    struct dns_wbuf w;
    dns_wbuf_init(&w, buf, sizeof(buf));
    dns_wbuf_u32(&w, 0);
    dns_wbuf_patch_u16(&w, 1, 0xbeef);
    assert_int_equal(buf[1], 0xbe);
    assert_int_equal(buf[2], 0xef);
    dns_wbuf_patch_u16(&w, 3, 0x1234); /* would end past len: ignored */
    assert_int_equal(buf[3], 0);
    assert_int_equal(buf[4], 0);
    assert_int_equal(w.len, 4);
}

/* One name written after another: its hex, and the expected name back. */
struct cz_step {
    const char *text;
    bool raw;
    const char *hex;
};

static const struct cz_step cz_steps[] = {
    /* At 12 (0x0c): www(12) example(16) com(24) root(28). */
    { "www.Example.com", true, "03777777 074578616d706c65 03636f6d 00" },
    { "www.example.com", false, "c00c" }, /* whole name, any case */
    { "EXAMPLE.COM", false, "c010" },     /* a suffix, at a label inside */
    { "com", false, "c018" },
    { "mail.example.com", false, "046d61696c c010" },         /* at 35 (0x23) */
    { "smtp.mail.example.COM", false, "04736d7470 c023" },    /* the longer match wins */
    { "example.org", false, "076578616d706c65 036f7267 00" }, /* example(49) org(57) */
    { "ns.org", false, "026e73 c039" },
    { ".", false, "00" },
    { "www.example.com", true,
      "03777777 076578616d706c65 03636f6d 00" }, /* raw: never compressed */
    { "le.com", false, "026c65 c018" },          /* whole labels only: not into "Example" */
};

static void test_wbuf_compression(void **state)
{
    (void)state;
    uint8_t buf[512];
    struct dns_wbuf w;
    dns_wbuf_init(&w, buf, sizeof(buf));
    w.len = DNS_HDR_LEN;
    memset(buf, 0, DNS_HDR_LEN);
    size_t starts[sizeof(cz_steps) / sizeof(cz_steps[0])];
    for (size_t i = 0; i < sizeof(cz_steps) / sizeof(cz_steps[0]); i++) {
        const struct cz_step *s = &cz_steps[i];
        uint8_t name[DNS_NAME_MAX], want[300];
        size_t nl;
        wire_of(s->text, name, &nl);
        size_t wl = unhex(s->hex, want, sizeof(want));
        starts[i] = w.len;
        int rc = s->raw ? dns_wbuf_name_raw(&w, name, nl) : dns_wbuf_name(&w, name, nl);
        assert_int_equal(rc, 0);
        if (w.len - starts[i] != wl || memcmp(buf + starts[i], want, wl) != 0)
            fail_msg("step %zu (%s): wrote %zu bytes, want %zu", i, s->text, w.len - starts[i], wl);
    }
    assert_false(w.overflow);
    /* Every name decodes back to what was written, case-insensitively;
     * the uncompressed labels keep their case. */
    for (size_t i = 0; i < sizeof(cz_steps) / sizeof(cz_steps[0]); i++) {
        uint8_t name[DNS_NAME_MAX], back[DNS_NAME_MAX];
        size_t nl, bl, pos = starts[i];
        wire_of(cz_steps[i].text, name, &nl);
        assert_int_equal(dns_name_decode(buf, w.len, &pos, back, &bl), 0);
        assert_true(dns_name_equal(name, nl, back, bl));
        size_t end = i + 1 < sizeof(starts) / sizeof(starts[0]) ? starts[i + 1] : w.len;
        assert_int_equal(pos, end);
    }
    uint8_t back[DNS_NAME_MAX];
    size_t bl, pos = starts[5];
    assert_int_equal(dns_name_decode(buf, w.len, &pos, back, &bl), 0);
    char text[DNS_NAME_TEXT_MAX];
    dns_name_to_text(back, bl, text, sizeof(text));
    assert_string_equal(text, "smtp.mail.Example.com."); /* "smtp" kept, the rest as pointed to */
}

static void test_wbuf_truncate(void **state)
{
    (void)state;
    uint8_t buf[256];
    struct dns_wbuf w;
    dns_wbuf_init(&w, buf, sizeof(buf));
    uint8_t a[DNS_NAME_MAX], b[DNS_NAME_MAX];
    size_t al, bl;
    wire_of("example.com", a, &al);
    wire_of("www.example.net", b, &bl);
    assert_int_equal(dns_wbuf_name(&w, a, al), 0); /* at 0 */
    size_t mark = w.len;
    assert_int_equal(dns_wbuf_name(&w, b, bl), 0); /* at 13, full */
    assert_int_equal(w.nnames, 2);
    assert_int_equal(w.len, mark + bl);
    dns_wbuf_truncate(&w, mark);
    assert_int_equal(w.len, mark);
    assert_int_equal(w.nnames, 1);
    /* Overwrite the forgotten bytes; b must not point into them. */
    assert_int_equal(dns_wbuf_u32(&w, 0xffffffff), 0);
    size_t at = w.len;
    assert_int_equal(dns_wbuf_name(&w, b, bl), 0);
    assert_int_equal(w.len - at, bl);
    assert_memory_equal(buf + at, b, bl);
    /* Truncating past len changes nothing. */
    size_t len = w.len;
    dns_wbuf_truncate(&w, len + 10);
    assert_int_equal(w.len, len);
    assert_int_equal(w.nnames, 2);
    /* Truncating to 0 forgets every target. */
    dns_wbuf_truncate(&w, 0);
    assert_int_equal(w.nnames, 0);
    assert_int_equal(dns_wbuf_name(&w, a, al), 0);
    assert_int_equal(w.len, al);
}

/* Targets at or past 0x4000 cannot be reached by a pointer. */
static void test_wbuf_far_targets(void **state)
{
    (void)state;
    static uint8_t buf[0x5000];
    struct dns_wbuf w;
    dns_wbuf_init(&w, buf, sizeof(buf));
    uint8_t a[DNS_NAME_MAX];
    size_t al;
    wire_of("far.example", a, &al); /* 13 bytes */
    /* "example" at 0x3ffc: reachable; "far" at 0x3ff8. */
    w.len = 0x3ff8;
    assert_int_equal(dns_wbuf_name(&w, a, al), 0);
    assert_int_equal(w.nnames, 1);
    w.len = 0x4100;
    size_t at = w.len;
    assert_int_equal(dns_wbuf_name(&w, a, al), 0);
    assert_int_equal(w.len - at, 2);
    assert_int_equal(buf[at], 0xff);
    assert_int_equal(buf[at + 1], 0xf8);
    /* A name starting past 0x3fff is written whole and not remembered. */
    dns_wbuf_truncate(&w, 0x3ff0);
    assert_int_equal(w.nnames, 0);
    w.len = 0x4000;
    assert_int_equal(dns_wbuf_name(&w, a, al), 0);
    assert_int_equal(w.nnames, 0);
    at = w.len;
    assert_int_equal(dns_wbuf_name(&w, a, al), 0);
    assert_int_equal(w.len - at, al);
    /* A target whose first label is reachable but whose suffix label is
     * past 0x3fff: only the reachable part is used. */
    dns_wbuf_truncate(&w, 0);
    uint8_t b[DNS_NAME_MAX];
    size_t bl;
    wire_of("x.far.example", b, &bl);
    w.len = 0x3ffa; /* x(0x3ffa) far(0x3ffc) example(0x4000) */
    assert_int_equal(dns_wbuf_name(&w, b, bl), 0);
    at = w.len;
    assert_int_equal(dns_wbuf_name(&w, a, al), 0); /* "far.example" at 0x3ffc */
    assert_int_equal(w.len - at, 2);
    assert_int_equal(buf[at + 1], 0xfc);
    at = w.len;
    uint8_t c[DNS_NAME_MAX];
    size_t cl;
    wire_of("example", c, &cl); /* would need 0x4000 */
    assert_int_equal(dns_wbuf_name(&w, c, cl), 0);
    assert_int_equal(w.len - at, cl);
}

/* Only DNS_WBUF_COMPRESS_MAX names are remembered; later ones are still
 * written, whole. */
static void test_wbuf_target_limit(void **state)
{
    (void)state;
    uint8_t buf[1024];
    struct dns_wbuf w;
    dns_wbuf_init(&w, buf, sizeof(buf));
    char text[16];
    uint8_t name[DNS_NAME_MAX];
    size_t nl;
    for (int i = 0; i < DNS_WBUF_COMPRESS_MAX + 2; i++) {
        snprintf(text, sizeof(text), "n%02d.zz", i);
        wire_of(text, name, &nl);
        assert_int_equal(dns_wbuf_name(&w, name, nl), 0);
    }
    assert_int_equal(w.nnames, DNS_WBUF_COMPRESS_MAX);
    /* n17.zz was written as "n17" + pointer to "zz" in the first name. */
    size_t at = w.len;
    snprintf(text, sizeof(text), "n%02d.zz", DNS_WBUF_COMPRESS_MAX + 1);
    wire_of(text, name, &nl);
    assert_int_equal(dns_wbuf_name(&w, name, nl), 0);
    assert_int_equal(w.len - at, 4 + 2); /* not remembered: no pointer to it */
    /* A remembered one still compresses whole. */
    wire_of("n03.zz", name, &nl);
    at = w.len;
    assert_int_equal(dns_wbuf_name(&w, name, nl), 0);
    assert_int_equal(w.len - at, 2);
}

/* A response-shaped message built with the builder parses back. */
static void test_build_and_parse(void **state)
{
    (void)state;
    uint8_t buf[512];
    struct dns_wbuf w;
    dns_wbuf_init(&w, buf, sizeof(buf));
    w.len = DNS_HDR_LEN;
    uint8_t q[DNS_NAME_MAX];
    size_t ql;
    wire_of("Bot.Evil.example", q, &ql);
    dns_wbuf_name_raw(&w, q, ql);
    dns_wbuf_u16(&w, DNS_T_A);
    dns_wbuf_u16(&w, DNS_C_IN);
    dns_wbuf_u8(&w, 0);
    dns_wbuf_u16(&w, DNS_T_OPT);
    dns_wbuf_u16(&w, 1232);
    dns_wbuf_u32(&w, 0x8000);
    dns_wbuf_u16(&w, 0);
    assert_false(w.overflow);
    struct dns_hdr h = { .id = 99, .flags = DNS_RD, .qdcount = 1, .arcount = 1 };
    dns_write_header(buf, &h);
    struct dns_query pq;
    assert_int_equal(dns_parse_query(buf, w.len, &pq), DNS_PARSE_OK);
    assert_int_equal(pq.qname_len, ql);
    assert_memory_equal(pq.qname, q, ql); /* case preserved */
    assert_true(pq.has_edns);
    assert_true(pq.edns_do);
    assert_int_equal(pq.edns_udp_size, 1232);
    assert_int_equal(pq.question_end, DNS_HDR_LEN + ql + 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header),
        cmocka_unit_test(test_name_decode_table),
        cmocka_unit_test(test_name_decode_limits),
        cmocka_unit_test(test_skip_rr),
        cmocka_unit_test(test_parse_query_table),
        cmocka_unit_test(test_parse_query_long_name),
        cmocka_unit_test(test_parse_query_prefixes),
        cmocka_unit_test(test_wbuf_overflow),
        cmocka_unit_test(test_wbuf_patch),
        cmocka_unit_test(test_wbuf_compression),
        cmocka_unit_test(test_wbuf_truncate),
        cmocka_unit_test(test_wbuf_far_targets),
        cmocka_unit_test(test_wbuf_target_limit),
        cmocka_unit_test(test_build_and_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
