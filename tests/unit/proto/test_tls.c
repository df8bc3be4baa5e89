/* Unit tests for proto/tls: the ClientHello parser (records, fragments,
 * prefixes, malformed framing, odd extensions) and the JA3 and JA4
 * fingerprints, checked against values published with the bytes they
 * were computed from. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "proto/tls.h"

/* ---- fixtures ----
 *
 * JA3, published: ClientHello bodies (from client_version on, without the
 * handshake header) with their JA3 strings and MD5 hashes from the tests of
 * jabedude/ja3-rs (src/lib.rs, computed from its captures
 * chrome-grease-single.pcap, tests/curl-ipv6.pcap and test.pcap), with the
 * bytes as transcribed from those captures by aws/s2n-tls in
 * tests/unit/s2n_fingerprint_ja3_test.c ("Known values from Rust
 * implementation"). HELLO_OPENSSL_TLS12 and its JA3 string come from the
 * same s2n-tls file, "Known value from Java implementation", i.e.
 * lafaspot/ja3_4java src/test/resources/openssl-tls1_2.bin. The Chrome and
 * curl hellos end in a padding extension of zero bytes, which s2n-tls
 * leaves to the zero fill of a 508-byte array; here too (see body_hex()).
 *
 * JA4, published: whole handshake messages with their JA4 and JA4_r from
 * astibal/smithproxy src/inspect/tests/ja4_tests.cpp (samples 1 and 3:
 * Firefox to ja4db.com, and an OpenSSL-based client with no ALPN). Sample 3
 * ends in padding zeros, elided here the same way. The JA4 specification
 * itself (FoxIO-LLC/ja4 technical_details/JA4.md) publishes the lists of
 * its example and their hashes, without the bytes; test_ja4_spec_example
 * builds a hello from those lists.
 *
 * Local: REC_OPENSSL_* are TLS records sent by "openssl s_client -connect
 * 127.0.0.1:PORT -servername example.test -alpn h2,http/1.1" and by the
 * same with -noservername (OpenSSL 3.0), captured by a plain socket
 * listener. They check parsing only, not a reference fingerprint. */

static const char HELLO_CHROME_GREASE[] =
    "030386ada4cc19e7145454fde73733df66cbf6ef3ec0a154c6dd145ec083acb9b4e7201c64aea7a2c3e18cd12502"
    "4df7864ac719d0c4bdfb40c2ef7f6dd39aa753dfdd00221a1a130113021303c02bc02fc02cc030cca9cca8c013c0"
    "14009c009d002f0035000a010001910a0a000000000020001e00001b676f6f676c656164732e672e646f75626c65"
    "636c69636b2e6e657400170000ff01000100000a000a00089a9a001d00170018000b00020100002300000010000e"
    "000c02683208687474702f312e31000500050100000000000d001400120403080404010503080505010806060102"
    "01001200000033002b00299a9a000100001d002059086f419aa5aa1d81e347f0255f9207fc4b137451469808743b"
    "de5786e82c74002d00020101002b000b0afafa0304030303020301001b0003020002baba000100001500bd";

static const char HELLO_CURL_IPV6[] =
    "030340c78aef5c7fed984a198a030bc02dc0d68f0b147d233d90b42b4b282c440c4d20f47304ed1742d6b5082e73"
    "787125525ceae7d7e57cfa27fea352637a27c35d58003e130213031301c02cc030009fcca9cca8ccaac02bc02f00"
    "9ec024c028006bc023c0270067c00ac0140039c009c0130033009d009c003d003c0035002f00ff01000175000000"
    "10000e00000b6578616d706c652e636f6d000b000403000102000a000c000a001d0017001e001900183374000000"
    "10000e000c02683208687474702f312e310016000000170000000d0030002e040305030603080708080809080a08"
    "0b080408050806040105010601030302030301020103020202040205020602002b0009080304030303020301002d"
    "00020101003300260024001d00202990c2ec21682c5a7a5a46495942546602920c081659f6cc75b8165320467923"
    "001500b6";

static const char HELLO_FIREFOX[] =
    "030390e8cceee570a2a12f6b69d266960fcf20d5326ec4b28cc7bd0a06c2a514fc3420af72bf3999fb2070c31083"
    "0ceefbfa72cc5da899b4c553d63da0537a5cbcf50b001ec02bc02fcca9cca8c02cc030c00ac009c013c014003300"
    "39002f0035000a0100008500000023002100001e696e636f6d696e672e74656c656d657472792e6d6f7a696c6c61"
    "2e6f726700170000ff01000100000a000a0008001d001700180019000b00020100002300000010000e000c026832"
    "08687474702f312e31000500050100000000000d0018001604030503060308040805080604010501060102030201"
    "001c00024000";

static const char HELLO_OPENSSL_TLS12[] =
    "0303543dd3283283692d85f9416b5ccc65d2aafca45c6530b3c6eafbf6d371b6a015000094c030c02cc028c024c0"
    "14c00a00a3009f006b006a0039003800880087c032c02ec02ac026c00fc005009d003d00350084c012c008001600"
    "13c00dc003000ac02fc02bc027c023c013c00900a2009e0067004000330032009a009900450044c031c02dc029c0"
    "25c00ec004009c003c002f009600410007c011c007c00cc002000500040015001200090014001100080006000300"
    "ff01000041000b000403000102000a000600040018001700230000000d0022002006010602060305010502050304"
    "01040204030301030203030201020202030101000f000101";

static const char HS_SMITH_1[] =
    "010002880303b1454f846bd902745d988d870726ef0c313ce90f17984d51557964c3e606fa91200b509f238e6769"
    "dd3ad25fe6ed13020e3f7b64738a226fc0158ef2b59ba19b2c0022130113031302c02bc02fcca9cca8c02cc030c0"
    "0ac009c013c014009c009d002f00350100021d0000000e000c0000096a613464622e636f6d00170000ff01000100"
    "000a000e000c001d00170018001901000101000b00020100002300000010000e000c02683208687474702f312e31"
    "0005000501000000000022000a000804030503060302030033006b0069001d0020cb5494b8b6fffd904f2c18eecc"
    "978ae6ef7c9c89d347498dae1b66799176554900170041040bbdc463c55494edca30649e6c48e51261c4d61843e7"
    "cf607fffddca1d7cf7d8ae69ced9796f6403565655906bbcd7dffc103db95889d5d6774114b6793c4132002b0005"
    "0403040303000d0018001604030503060308040805080604010501060102030201002d00020101001c00024001fe"
    "0d01190000010003d10020b8cdfd2a9b9924e45471c4ebb24514d71a231a49d8d314fbcb75af0214a2e67c00efd3"
    "56cf2704ea9bb5e85579856bf473cb9b5ae1657b33929c86f5ee4b57cafcac74ecb8fe201f5d9e883efdd3913956"
    "39d9e42eafa8eae467601838c23c3e239907da1a6983f4e966e4990ff13f74e0159fe37d60535b76d308caea1e11"
    "4170ce3e3fd67c14a2f5e3e8fe540895e3d6a66fec86e88d2e403f9ff299681748c664572a7e889fe274ec142b2f"
    "5eb9445142c16dd98034f92d47be96ead6b030536ca37506cc44c94fd7d1f1b2178b71d5fc5e5339b1c91cf9db67"
    "c82099a0f0168ce228947c600a1cd48ee9d9b481c87f052999431bd4b91d2aac4a7dab3090578a64087a3d7cd9c6"
    "03c6e75c7d878f9d";

static const char HS_SMITH_3[] =
    "010001fc0303e4422635180a6d52305577414519930d2eb4b714ecbaffc7aa4ef762421df37920a89626d7567923"
    "c523a5255cfc150232e8491a92f4d85e848d5f8432baf6d273003e130213031301c02cc030009fcca9cca8ccaac0"
    "2bc02f009ec024c028006bc023c0270067c00ac0140039c009c0130033009d009c003d003c0035002f00ff010001"
    "750000001c001a00001772656d6f74652e7069786965647573742e6f6e6c696e65000b000403000102000a000c00"
    "0a001d0017001e0019001800230000001600000017000000310000000d002a002804030503060308070808080908"
    "0a080b080408050806040105010601030303010302040205020602002b00050403040303002d0002010100330026"
    "0024001d0020d8a1f885af25dd99f2c6a123fae44fadc43bc5d9c123e0ec0fbbdc0a90a6b24e001500c2";

static const char REC_OPENSSL_SNI_ALPN[] =
    "160301014b010001470303a6b201d17de016389a917ebbfdf5b8264c01e3584bc6c210887fd2e742f0b3a3209f4b"
    "c906181c674278d9044d93204f931e7a20da3d2cb787bfbb1f979183a2ac003e130213031301c02cc030009fcca9"
    "cca8ccaac02bc02f009ec024c028006bc023c0270067c00ac0140039c009c0130033009d009c003d003c0035002f"
    "00ff010000c000000011000f00000c6578616d706c652e74657374000b000403000102000a00160014001d001700"
    "1e0019001801000101010201030104002300000010000e000c02683208687474702f312e31001600000017000000"
    "0d002a0028040305030603080708080809080a080b08040805080604010501060103030301030204020502060200"
    "2b0009080304030303020301002d00020101003300260024001d00205f1b33ebd39ff4d8dbc930c6b39feb1e4e4b"
    "5fadc085a7e1ae190795b64cf309";

static const char REC_OPENSSL_NO_SNI[] =
    "1603010124010001200303af9eeebbc65463cfdc40067e89f4eb8a8cac37cd8cb48dc47c1ab56727d8d0f620e5ae"
    "06f9131594467703d9fcd3e1321adf8b08227c7b9fa49efd7e9310438351003e130213031301c02cc030009fcca9"
    "cca8ccaac02bc02f009ec024c028006bc023c0270067c00ac0140039c009c0130033009d009c003d003c0035002f"
    "00ff01000099000b000403000102000a00160014001d0017001e0019001801000101010201030104002300000016"
    "000000170000000d002a0028040305030603080708080809080a080b080408050806040105010601030303010302"
    "040205020602002b0009080304030303020301002d00020101003300260024001d0020bcacc816a86e36cf1eaadb"
    "9af50746231c5cdd097efe4a5e4b7a3dc1c5f8992d";

/* Published JA3 strings and hashes (jabedude/ja3-rs src/lib.rs). */
#define JA3_CHROME_GREASE                                                                       \
    "771,4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-49172-156-157-47-53-10,0-23-" \
    "65281-10-11-35-16-5-13-18-51-45-43-27-21,29-23-24,0"
#define JA3_CHROME_GREASE_MD5 "66918128f1b9b03303d77c6f2eefd128"
#define JA3_CURL                                                                                  \
    "771,4866-4867-4865-49196-49200-159-52393-52392-52394-49195-49199-158-49188-49192-107-49187-" \
    "49191-103-49162-49172-57-49161-49171-51-157-156-61-60-53-47-255,0-11-10-13172-16-22-23-13-"  \
    "43-45-51-21,29-23-30-25-24,0-1-2"
#define JA3_CURL_MD5 "456523fc94726331a4d5a2e1d40b2cd7"
#define JA3_FIREFOX                                                                              \
    "771,49195-49199-52393-52392-49196-49200-49162-49161-49171-49172-51-57-47-53-10,0-23-65281-" \
    "10-11-35-16-5-13-28,29-23-24-25,0"
#define JA3_FIREFOX_MD5 "839bbe3ed07fed922ded5aaf714d6842"
/* Published in aws/s2n-tls tests/unit/s2n_fingerprint_ja3_test.c. */
#define JA3_OPENSSL_TLS12                                                                        \
    "771,49200-49196-49192-49188-49172-49162-163-159-107-106-57-56-136-135-49202-49198-49194-"   \
    "49190-49167-49157-157-61-53-132-49170-49160-22-19-49165-49155-10-49199-49195-49191-49187-"  \
    "49171-49161-162-158-103-64-51-50-154-153-69-68-49201-49197-49193-49189-49166-49156-156-60-" \
    "47-150-65-7-49169-49159-49164-49154-5-4-21-18-9-20-17-8-6-3-255,11-10-35-13-15,24-23,0-1-2"

/* Published JA4 and JA4_r (astibal/smithproxy ja4_tests.cpp). */
#define JA4_SMITH_1 "t13d1715h2_5b57614c22b0_5c2c66f702b0"
#define JA4_R_SMITH_1                                                                             \
    "t13d1715h2_002f,0035,009c,009d,1301,1302,1303,c009,c00a,c013,c014,c02b,c02c,c02f,c030,cca8," \
    "cca9_0005,000a,000b,000d,0017,001c,0022,0023,002b,002d,0033,fe0d,ff01_0403,0503,0603,0804,"  \
    "0805,0806,0401,0501,0601,0203,0201"
#define JA4_SMITH_3 "t13d311200_e8f1e7e78f70_d339722ba4af"
#define JA4_R_SMITH_3                                                                             \
    "t13d311200_002f,0033,0035,0039,003c,003d,0067,006b,009c,009d,009e,009f,00ff,1301,1302,1303," \
    "c009,c00a,c013,c014,c023,c024,c027,c028,c02b,c02c,c02f,c030,cca8,cca9,ccaa_000a,000b,000d,"  \
    "0015,0016,0017,0023,002b,002d,0031,0033_0403,0503,0603,0807,0808,0809,080a,080b,0804,0805,"  \
    "0806,0401,0501,0601,0303,0301,0302,0402,0502,0602"

/* ---- helpers ---- */

/* Hex into out, then zeros up to total bytes (0: no fill); returns the
 * byte count. */
static size_t body_hex(const char *hex, uint8_t *out, size_t cap, size_t total)
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
    assert_true(total <= cap);
    while (n < total)
        out[n++] = 0;
    return n;
}

/* A handshake message around a ClientHello body. */
static size_t handshake(const uint8_t *body, size_t blen, uint8_t *out)
{
    out[0] = 1;
    out[1] = (uint8_t)(blen >> 16);
    out[2] = (uint8_t)(blen >> 8);
    out[3] = (uint8_t)blen;
    memcpy(out + 4, body, blen);
    return blen + 4;
}

/* Handshake records of at most frag bytes of payload around msg. */
static size_t records(const uint8_t *msg, size_t mlen, size_t frag, uint8_t *out)
{
    size_t n = 0;
    for (size_t off = 0; off < mlen; off += frag) {
        size_t k = mlen - off < frag ? mlen - off : frag;
        out[n++] = 0x16;
        out[n++] = 0x03;
        out[n++] = 0x01;
        out[n++] = (uint8_t)(k >> 8);
        out[n++] = (uint8_t)k;
        memcpy(out + n, msg + off, k);
        n += k;
    }
    return n;
}

/* Body hex (zero-filled to total) -> one record. */
static size_t record_of_body(const char *hex, size_t total, uint8_t *out, size_t cap)
{
    uint8_t body[4096], msg[4100];
    size_t bl = body_hex(hex, body, sizeof(body), total);
    size_t ml = handshake(body, bl, msg);
    assert_true(ml + 5 <= cap);
    return records(msg, ml, TLS_RECORD_MAX, out);
}

static struct tls_hello hello; /* large; one for all tests */

static void expect_ja3(const struct tls_hello *h, const char *str, const char *md5)
{
    char s[TLS_JA3_MAX];
    assert_int_equal(tls_ja3_string(h, s, sizeof(s)), (int)strlen(str));
    assert_string_equal(s, str);
    if (md5 != NULL) {
        char hash[TLS_JA3_HASH_LEN + 1];
        assert_int_equal(tls_ja3_hash(h, hash), 0);
        assert_string_equal(hash, md5);
    }
}

static void expect_ja4(const struct tls_hello *h, unsigned flags, const char *want)
{
    char s[TLS_JA4_RAW_MAX];
    assert_int_equal(tls_ja4(h, flags, s, sizeof(s)), (int)strlen(want));
    assert_string_equal(s, want);
}

/* ---- published JA3 values ---- */

static void test_ja3_published(void **state)
{
    (void)state;
    static const struct {
        const char *hex;
        size_t total;
        const char *ja3, *md5;
        const char *sni;
    } cases[] = {
        { HELLO_CHROME_GREASE, 508, JA3_CHROME_GREASE, JA3_CHROME_GREASE_MD5,
          "googleads.g.doubleclick.net" },
        { HELLO_CURL_IPV6, 508, JA3_CURL, JA3_CURL_MD5, "example.com" },
        { HELLO_FIREFOX, 0, JA3_FIREFOX, JA3_FIREFOX_MD5, "incoming.telemetry.mozilla.org" },
        { HELLO_OPENSSL_TLS12, 0, JA3_OPENSSL_TLS12, NULL, NULL },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint8_t rec[4200];
        size_t n = record_of_body(cases[i].hex, cases[i].total, rec, sizeof(rec));
        assert_int_equal(tls_parse_client_hello(rec, n, &hello), TLS_HELLO_OK);
        assert_int_equal(hello.len, n);
        assert_int_equal(hello.record_version, 0x0301);
        assert_false(hello.truncated);
        assert_false(hello.bad_extension);
        expect_ja3(&hello, cases[i].ja3, cases[i].md5);
        assert_int_equal(hello.has_sni, cases[i].sni != NULL);
        if (cases[i].sni) {
            assert_string_equal(hello.sni, cases[i].sni);
            assert_int_equal(hello.sni_len, strlen(cases[i].sni));
        }
    }
}

/* The Chrome hello in detail: GREASE kept in the lists, left out of the
 * fingerprints and counts. */
static void test_chrome_fields(void **state)
{
    (void)state;
    uint8_t rec[4200];
    size_t n = record_of_body(HELLO_CHROME_GREASE, 508, rec, sizeof(rec));
    assert_int_equal(tls_parse_client_hello(rec, n, &hello), TLS_HELLO_OK);
    assert_int_equal(hello.legacy_version, 0x0303);
    assert_int_equal(hello.version, 0x0304); /* supported_versions: fafa 0304 0303 ... */
    assert_int_equal(hello.session_id_len, 32);
    assert_int_equal(hello.n_ciphers, 17);
    assert_int_equal(hello.ciphers[0], 0x1a1a);
    assert_int_equal(hello.ciphers_seen, 16);
    assert_int_equal(hello.n_exts, 17);
    assert_int_equal(hello.exts[0], 0x0a0a);
    assert_int_equal(hello.exts[16], 0x0015);
    assert_int_equal(hello.exts_seen, 15);
    assert_int_equal(hello.n_groups, 4);
    assert_int_equal(hello.groups[0], 0x9a9a);
    assert_int_equal(hello.groups[1], 0x001d);
    assert_int_equal(hello.n_points, 1);
    assert_int_equal(hello.points[0], 0);
    assert_int_equal(hello.n_sigalgs, 9);
    assert_int_equal(hello.sigalgs[0], 0x0403);
    assert_int_equal(hello.n_versions, 5);
    assert_int_equal(hello.n_alpn, 2);
    const uint8_t *p;
    assert_int_equal(tls_alpn_first(&hello, &p), 2);
    assert_memory_equal(p, "h2", 2);
    assert_int_equal(hello.alpn_len, 12);
    assert_memory_equal(hello.alpn, "\x02h2\x08http/1.1", 12);
    /* Not published with the bytes: the same lists through the JA4 rules,
     * kept as a regression value. */
    expect_ja4(&hello, 0, "t13d1615h2_46e7e9700bed_45f260be83e2");
}

/* ---- published JA4 values ---- */

static void test_ja4_published(void **state)
{
    (void)state;
    static const struct {
        const char *hex;
        size_t total;
        const char *ja4, *ja4_r, *sni;
        size_t ciphers, exts;
    } cases[] = {
        { HS_SMITH_1, 652, JA4_SMITH_1, JA4_R_SMITH_1, "ja4db.com", 17, 15 },
        { HS_SMITH_3, 512, JA4_SMITH_3, JA4_R_SMITH_3, "remote.pixiedust.online", 31, 12 },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint8_t msg[1024], rec[1100];
        size_t ml = body_hex(cases[i].hex, msg, sizeof(msg), cases[i].total);

        /* As a bare handshake message ... */
        assert_int_equal(tls_parse_handshake(msg, ml, &hello), TLS_HELLO_OK);
        assert_int_equal(hello.len, ml);
        assert_int_equal(hello.record_version, 0);
        expect_ja4(&hello, 0, cases[i].ja4);
        expect_ja4(&hello, TLS_JA4_RAW, cases[i].ja4_r);
        assert_string_equal(hello.sni, cases[i].sni);
        assert_int_equal(hello.ciphers_seen, cases[i].ciphers);
        assert_int_equal(hello.exts_seen, cases[i].exts);

        /* ... and in one record, or in records of 100 bytes. */
        size_t frags[] = { TLS_RECORD_MAX, 100, 1 };
        for (size_t f = 0; f < 3; f++) {
            /* One byte a record takes six bytes a byte. */
            uint8_t *out = frags[f] == 1 ? malloc(ml * 6) : rec;
            assert_non_null(out);
            size_t n = records(msg, ml, frags[f], out);
            assert_int_equal(tls_parse_client_hello(out, n, &hello), TLS_HELLO_OK);
            assert_int_equal(hello.len, n);
            expect_ja4(&hello, 0, cases[i].ja4);
            if (out != rec)
                free(out);
        }
    }
}

/* ---- the JA4 specification's example ---- */

struct builder {
    uint8_t b[2048];
    size_t n;
};

static void put8(struct builder *w, unsigned v)
{
    assert_true(w->n < sizeof(w->b));
    w->b[w->n++] = (uint8_t)v;
}

static void put16(struct builder *w, unsigned v)
{
    put8(w, v >> 8);
    put8(w, v);
}

static void put(struct builder *w, const void *p, size_t n)
{
    assert_true(w->n + n <= sizeof(w->b));
    if (n > 0)
        memcpy(w->b + w->n, p, n);
    w->n += n;
}

/* A ClientHello body: legacy version 0x0303, zero random, no session id,
 * ciphers, null compression, then the extension block if ext != NULL. */
static size_t build_body(const uint16_t *ciphers, size_t nc, const struct builder *ext,
                         uint8_t *out)
{
    struct builder w = { .n = 0 };
    put16(&w, 0x0303);
    static const uint8_t random[32];
    put(&w, random, 32);
    put8(&w, 0);
    put16(&w, (unsigned)nc * 2);
    for (size_t i = 0; i < nc; i++)
        put16(&w, ciphers[i]);
    put8(&w, 1);
    put8(&w, 0);
    if (ext != NULL) {
        put16(&w, (unsigned)ext->n);
        put(&w, ext->b, ext->n);
    }
    memcpy(out, w.b, w.n);
    return w.n;
}

static void add_ext(struct builder *e, uint16_t type, const void *body, size_t n)
{
    put16(e, type);
    put16(e, (unsigned)n);
    put(e, body, n);
}

static size_t parse_body(const uint8_t *body, size_t bl, enum tls_status want)
{
    uint8_t msg[4100], rec[4200];
    size_t ml = handshake(body, bl, msg);
    size_t n = records(msg, ml, TLS_RECORD_MAX, rec);
    assert_int_equal(tls_parse_client_hello(rec, n, &hello), want);
    return n;
}

/* The example of technical_details/JA4.md: 15 ciphers, 16 extensions in
 * the order given there, the signature algorithms given there. */
static void build_spec_example(bool sigalgs, uint8_t *body, size_t *bl)
{
    static const uint16_t ciphers[] = { 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f,
                                        0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013,
                                        0xc014, 0x009c, 0x009d, 0x002f, 0x0035 };
    static const uint16_t order[] = { 0x001b, 0x0000, 0x0033, 0x0010, 0x4469, 0x0017,
                                      0x002d, 0x000d, 0x0005, 0x0023, 0x0012, 0x002b,
                                      0xff01, 0x000b, 0x000a, 0x0015 };
    struct builder e = { .n = 0 };
    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
        switch (order[i]) {
        case 0x0000:
            add_ext(&e, 0x0000,
                    "\x00\x0e\x00\x00\x0b"
                    "example.com",
                    16);
            break;
        case 0x0010:
            add_ext(&e, 0x0010, "\x00\x03\x02h2", 5);
            break;
        case 0x000d:
            if (sigalgs)
                add_ext(&e, 0x000d,
                        "\x00\x10\x04\x03\x08\x04\x04\x01\x05\x03\x08\x05\x05\x01\x08\x06\x06\x01",
                        18);
            else
                add_ext(&e, 0x000d, "\x00\x00", 2);
            break;
        case 0x002b:
            add_ext(&e, 0x002b, "\x04\x03\x04\x03\x03", 5);
            break;
        default:
            add_ext(&e, order[i], NULL, 0);
            break;
        }
    }
    *bl = build_body(ciphers, sizeof(ciphers) / sizeof(ciphers[0]), &e, body);
}

static void test_ja4_spec_example(void **state)
{
    (void)state;
    uint8_t body[1024];
    size_t bl;
    build_spec_example(true, body, &bl);
    parse_body(body, bl, TLS_HELLO_OK);

    /* Every value below is printed in technical_details/JA4.md. */
    expect_ja4(&hello, 0, "t13d1516h2_8daaf6152771_e5627efa2ab1");
    expect_ja4(&hello, TLS_JA4_RAW,
               "t13d1516h2_002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,"
               "cca8,cca9_0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,0033,4469,"
               "ff01_0403,0804,0401,0503,0805,0501,0806,0601");
    expect_ja4(&hello, TLS_JA4_RAW | TLS_JA4_ORIGINAL,
               "t13d1516h2_1301,1302,1303,c02b,c02f,c02c,c030,cca9,cca8,c013,c014,009c,009d,"
               "002f,0035_001b,0000,0033,0010,4469,0017,002d,000d,0005,0023,0012,002b,ff01,"
               "000b,000a,0015_0403,0804,0401,0503,0805,0501,0806,0601");
    expect_ja4(&hello, TLS_JA4_ORIGINAL, "t13d1516h2_acb858a92679_18f69afefd3d");
    expect_ja4(&hello, TLS_JA4_QUIC, "q13d1516h2_8daaf6152771_e5627efa2ab1");
    expect_ja4(&hello, TLS_JA4_DTLS, "d13d1516h2_8daaf6152771_e5627efa2ab1");

    /* "If there are no signature algorithms in the hello packet, then the
     * string ends without an underscore": the spec's hash of that string. */
    build_spec_example(false, body, &bl);
    parse_body(body, bl, TLS_HELLO_OK);
    assert_int_equal(hello.n_sigalgs, 0);
    expect_ja4(&hello, 0, "t13d1516h2_8daaf6152771_6d807ffa2a79");
}

/* ---- local captures ---- */

static void test_openssl_s_client(void **state)
{
    (void)state;
    uint8_t rec[1024];
    size_t n = body_hex(REC_OPENSSL_SNI_ALPN, rec, sizeof(rec), 0);
    assert_int_equal(tls_parse_client_hello(rec, n, &hello), TLS_HELLO_OK);
    assert_int_equal(hello.len, n);
    assert_int_equal(hello.record_version, 0x0301);
    assert_int_equal(hello.legacy_version, 0x0303);
    assert_int_equal(hello.version, 0x0304);
    assert_int_equal(hello.n_versions, 4);
    assert_int_equal(hello.ciphers_seen, 31);
    assert_int_equal(hello.n_ciphers, 31);
    assert_int_equal(hello.ciphers[0], 0x1302); /* TLS_AES_256_GCM_SHA384 first */
    assert_int_equal(hello.exts_seen, 11);
    assert_true(hello.has_sni);
    assert_string_equal(hello.sni, "example.test");
    assert_true(hello.has_alpn);
    assert_int_equal(hello.n_alpn, 2);
    assert_int_equal(hello.alpn_len, 12);
    assert_memory_equal(hello.alpn, "\x02h2\x08http/1.1", 12);
    assert_false(hello.bad_extension);
    char ja4[TLS_JA4_RAW_MAX];
    assert_int_equal(tls_ja4(&hello, 0, ja4, sizeof(ja4)), TLS_JA4_LEN);
    assert_memory_equal(ja4, "t13d3111h2_", 11);
    char ja3[TLS_JA3_HASH_LEN + 1];
    assert_int_equal(tls_ja3_hash(&hello, ja3), 0);
    assert_int_equal(strlen(ja3), 32);

    /* Without SNI and ALPN: 'i', two fewer extensions, "00"; the cipher
     * and extension hashes do not change (SNI and ALPN are left out). */
    char ja4_sni[TLS_JA4_RAW_MAX];
    memcpy(ja4_sni, ja4, sizeof(ja4));
    n = body_hex(REC_OPENSSL_NO_SNI, rec, sizeof(rec), 0);
    assert_int_equal(tls_parse_client_hello(rec, n, &hello), TLS_HELLO_OK);
    assert_false(hello.has_sni);
    assert_int_equal(hello.sni_len, 0);
    assert_false(hello.has_alpn);
    assert_int_equal(hello.exts_seen, 9);
    assert_int_equal(tls_ja4(&hello, 0, ja4, sizeof(ja4)), TLS_JA4_LEN);
    assert_memory_equal(ja4, "t13i310900_", 11);
    assert_string_equal(ja4 + 10, ja4_sni + 10);
}

/* ---- JA3 edge cases published by s2n-tls ---- */

static void test_ja3_minimal(void **state)
{
    (void)state;
    /* s2n_fingerprint_ja3_test.c "missing fields" and "grease values
     * ignored": version 0x0301 or 0x0302, one cipher (0xc02f), GREASE in
     * the ciphers, an extension of GREASE type, GREASE in the groups. */
    uint8_t body[256];
    struct builder e = { .n = 0 };
    static const uint16_t one[] = { 0xc02f };
    size_t bl = build_body(one, 1, &e, body);
    body[1] = 0x01;
    parse_body(body, bl, TLS_HELLO_OK);
    expect_ja3(&hello, "769,49199,,,", NULL);

    static const uint16_t greasy[] = { 0xc02f, 0x0a0a };
    add_ext(&e, 0x0a0a, NULL, 0);
    add_ext(&e, 0x000a, "\x00\x04\x00\x17\x0a\x0a", 6);
    bl = build_body(greasy, 2, &e, body);
    body[1] = 0x02;
    parse_body(body, bl, TLS_HELLO_OK);
    expect_ja3(&hello, "770,49199,10,23,", NULL);
    assert_int_equal(hello.n_groups, 2);

    /* No extension block at all is legal too. */
    bl = build_body(one, 1, NULL, body);
    parse_body(body, bl, TLS_HELLO_OK);
    assert_int_equal(hello.n_exts, 0);
    expect_ja3(&hello, "771,49199,,,", NULL);
    /* Empty lists hash to twelve zeros in JA4. */
    expect_ja4(&hello, 0, "t12i010000_f06271c2b022_000000000000");

    bl = build_body(NULL, 0, NULL, body);
    parse_body(body, bl, TLS_HELLO_OK);
    expect_ja4(&hello, 0, "t12i000000_000000000000_000000000000");
    expect_ja4(&hello, TLS_JA4_RAW, "t12i000000__");
}

/* ---- JA4 rules ---- */

static void test_ja4_alpn(void **state)
{
    (void)state;
    /* First ALPN value -> the two characters (JA4.md "ALPN Extension
     * Value", its examples included). */
    static const struct {
        const char *names; /* protocol_name_list */
        size_t len;
        const char *want;
    } cases[] = {
        { "\x02h2", 3, "h2" },
        { "\x08http/1.1\x02h2", 12, "h1" },
        { "\x01h", 2, "hh" },
        { "\x01\xab", 2, "ab" },
        { "\x02\xab\xcd", 3, "ad" },
        { "\x02"
          "0\xab",
          3, "3b" },
        { "\x04"
          "01\xab\xcd",
          5, "3d" },
        { "\x04"
          "0\xab\xcd"
          "1",
          5, "01" },
        { "\x00\x01q", 3, "00" }, /* empty first value */
        { "", 0, "00" },          /* empty list */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint8_t body[256], ext[64];
        ext[0] = 0;
        ext[1] = (uint8_t)cases[i].len;
        memcpy(ext + 2, cases[i].names, cases[i].len);
        struct builder e = { .n = 0 };
        add_ext(&e, 0x0010, ext, cases[i].len + 2);
        static const uint16_t one[] = { 0x1301 };
        size_t bl = build_body(one, 1, &e, body);
        parse_body(body, bl, TLS_HELLO_OK);
        assert_true(hello.has_alpn);
        char ja4[TLS_JA4_RAW_MAX];
        assert_int_equal(tls_ja4(&hello, 0, ja4, sizeof(ja4)), TLS_JA4_LEN);
        assert_memory_equal(ja4 + 8, cases[i].want, 2);
    }
}

static void test_ja4_version(void **state)
{
    (void)state;
    static const struct {
        uint16_t legacy;
        const char *sv; /* supported_versions body, NULL: no extension */
        size_t sv_len;
        const char *want;
    } cases[] = {
        { 0x0303, NULL, 0, "12" },
        { 0x0302, NULL, 0, "11" },
        { 0x0301, NULL, 0, "10" },
        { 0x0300, NULL, 0, "s3" },
        { 0x0002, NULL, 0, "s2" },
        { 0x1234, NULL, 0, "00" },
        { 0x0303, "\x04\x03\x04\x03\x03", 5, "13" },
        { 0x0303, "\x06\x7a\x7a\x03\x03\x03\x04", 7, "13" }, /* GREASE first */
        { 0x0303, "\x04\xfa\xfa\x03\x02", 5, "11" },         /* GREASE is not the highest */
        { 0x0301, "\x02\xfe\xfc", 3, "d3" },
        { 0x0303, "\x02\x0a\x0a", 3, "12" }, /* only GREASE: legacy version */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint8_t body[256];
        struct builder e = { .n = 0 };
        if (cases[i].sv)
            add_ext(&e, 0x002b, cases[i].sv, cases[i].sv_len);
        static const uint16_t one[] = { 0x002f };
        size_t bl = build_body(one, 1, &e, body);
        body[0] = (uint8_t)(cases[i].legacy >> 8);
        body[1] = (uint8_t)cases[i].legacy;
        parse_body(body, bl, TLS_HELLO_OK);
        char ja4[TLS_JA4_RAW_MAX];
        assert_int_equal(tls_ja4(&hello, 0, ja4, sizeof(ja4)), TLS_JA4_LEN);
        assert_memory_equal(ja4 + 1, cases[i].want, 2);
    }
}

static void test_grease(void **state)
{
    (void)state;
    for (unsigned i = 0; i < 16; i++) {
        uint16_t v = (uint16_t)(i << 12 | 0x0a00 | i << 4 | 0x0a);
        assert_true(tls_is_grease(v));
    }
    assert_false(tls_is_grease(0x0a0b));
    assert_false(tls_is_grease(0x1a2a));
    assert_false(tls_is_grease(0x0000));
    assert_false(tls_is_grease(0x1301));
}

/* More ciphers than kept: counted, cut, fingerprinted over what is kept. */
static void test_truncation(void **state)
{
    (void)state;
    uint16_t many[300];
    for (size_t i = 0; i < 300; i++)
        many[i] = (uint16_t)(0x0100 + i);
    uint8_t body[1024];
    size_t bl = build_body(many, 300, NULL, body);
    parse_body(body, bl, TLS_HELLO_OK);
    assert_true(hello.truncated);
    assert_int_equal(hello.n_ciphers, TLS_CIPHERS_MAX);
    assert_int_equal(hello.ciphers_seen, 300);
    char ja4[TLS_JA4_RAW_MAX];
    assert_int_equal(tls_ja4(&hello, 0, ja4, sizeof(ja4)), TLS_JA4_LEN);
    assert_memory_equal(ja4, "t12i9900", 8);
    char ja3[TLS_JA3_MAX];
    assert_true(tls_ja3_string(&hello, ja3, sizeof(ja3)) > 0);

    /* Output buffers too small. */
    assert_int_equal(tls_ja3_string(&hello, ja3, 10), SK_ENOSPACE);
    assert_string_equal(ja3, "");
    assert_int_equal(tls_ja4(&hello, 0, ja4, TLS_JA4_LEN), SK_ENOSPACE);
    assert_int_equal(tls_ja4(&hello, TLS_JA4_RAW, ja4, 100), SK_ENOSPACE);
    assert_int_equal(tls_ja4(&hello, 0, ja4, 0), SK_ENOSPACE);
}

/* An extension whose inside does not parse is flagged and skipped; the
 * hello still parses and its type still counts. */
static void test_bad_extension_bodies(void **state)
{
    (void)state;
    static const struct {
        uint16_t type;
        const char *body;
        size_t len;
    } cases[] = {
        { 0x0000,
          "\x00\x05\x00\x00\x09"
          "ab",
          7 },                             /* name longer than the list */
        { 0x0000, "\x00\x02\x00\x00", 4 }, /* entry shorter than 3 */
        { 0x0010, "\x00\x03\x05h2", 5 },   /* ALPN name past the list */
        { 0x0010, "\x00", 1 },
        { 0x000a, "\x00\x03\x00\x17\x00", 5 }, /* odd group list */
        { 0x000a, "\x00\x04\x00\x17", 4 },     /* list past the body */
        { 0x000b, "\x02\x00", 2 },
        { 0x000d, "\x00", 1 },
        { 0x002b, "\x03\x03\x04\x03", 4 },
        { 0x002b, "", 0 },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint8_t body[256];
        struct builder e = { .n = 0 };
        add_ext(&e, cases[i].type, cases[i].body, cases[i].len);
        add_ext(&e, 0x0017, NULL, 0);
        static const uint16_t one[] = { 0x002f };
        size_t bl = build_body(one, 1, &e, body);
        parse_body(body, bl, TLS_HELLO_OK);
        assert_true(hello.bad_extension);
        assert_int_equal(hello.n_exts, 2);
        assert_int_equal(hello.exts[1], 0x0017);
        assert_int_equal(hello.n_groups, 0);
        assert_int_equal(hello.n_versions, 0);
    }

    /* An empty server_name (as in a ServerHello) is present but nameless;
     * a second server_name is not read. */
    uint8_t body[256];
    struct builder e = { .n = 0 };
    add_ext(&e, 0x0000, NULL, 0);
    add_ext(&e, 0x0000, "\x00\x04\x00\x00\x01x", 6);
    static const uint16_t one[] = { 0x002f };
    size_t bl = build_body(one, 1, &e, body);
    parse_body(body, bl, TLS_HELLO_OK);
    assert_true(hello.has_sni);
    assert_int_equal(hello.sni_len, 0);
    assert_false(hello.bad_extension);
    assert_int_equal(hello.n_exts, 2);
}

/* ---- framing ---- */

static void test_prefixes(void **state)
{
    (void)state;
    uint8_t rec[4200];
    size_t n = record_of_body(HELLO_FIREFOX, 0, rec, sizeof(rec));
    for (size_t l = 0; l < n; l++) {
        /* Exact-size copies, so a sanitizer sees any read past the end. */
        uint8_t *p = malloc(l ? l : 1);
        assert_non_null(p);
        memcpy(p, rec, l);
        assert_int_equal(tls_parse_client_hello(p, l, &hello), TLS_HELLO_NEED_MORE);
        free(p);
    }
    /* Bytes after the record are not looked at. */
    rec[n] = 0x17;
    assert_int_equal(tls_parse_client_hello(rec, n + 1, &hello), TLS_HELLO_OK);
    assert_int_equal(hello.len, n);
}

static void test_malformed(void **state)
{
    (void)state;
    uint8_t rec[4200], tmp[4200];
    size_t n = record_of_body(HELLO_FIREFOX, 0, rec, sizeof(rec));
    /* Offsets: record header 0..4, handshake type 5, length 6..8, version
     * 9..10, random 11..42, session id length 43. */
    static const struct {
        size_t off;
        uint8_t val;
    } pokes[] = {
        { 0, 0x17 }, /* application data, not handshake */
        { 0, 0x80 }, /* SSLv2 framing */
        { 1, 0x02 }, /* record major version */
        { 5, 0x02 }, /* ServerHello */
        { 43, 33 },  /* session id over 32 */
        { 3, 0x50 }, /* record length over 16384 */
        { 6, 0x01 }, /* handshake length over TLS_HELLO_MAX */
    };
    for (size_t i = 0; i < sizeof(pokes) / sizeof(pokes[0]); i++) {
        memcpy(tmp, rec, n);
        tmp[pokes[i].off] = pokes[i].val;
        assert_int_equal(tls_parse_client_hello(tmp, n, &hello), TLS_HELLO_MALFORMED);
    }
    /* Record length zero. */
    memcpy(tmp, rec, n);
    tmp[3] = tmp[4] = 0;
    assert_int_equal(tls_parse_client_hello(tmp, n, &hello), TLS_HELLO_MALFORMED);
    /* Garbage is refused from its first bytes, not waited on. */
    assert_int_equal(tls_parse_client_hello((const uint8_t *)"G", 1, &hello), TLS_HELLO_MALFORMED);
    assert_int_equal(tls_parse_client_hello((const uint8_t *)"\x16\x04", 2, &hello),
                     TLS_HELLO_MALFORMED);

    /* Lengths that do not add up, built from a valid body. */
    uint8_t body[256];
    static const uint16_t two[] = { 0x002f, 0x0035 };
    struct builder e = { .n = 0 };
    add_ext(&e, 0x0017, NULL, 0);
    size_t bl = build_body(two, 2, &e, body);
    parse_body(body, bl, TLS_HELLO_OK);

    uint8_t bad[256];
    memcpy(bad, body, bl);
    bad[36] = 3; /* cipher list length odd */
    parse_body(bad, bl, TLS_HELLO_MALFORMED);
    memcpy(bad, body, bl);
    bad[36] = 0x40; /* cipher list past the message */
    parse_body(bad, bl, TLS_HELLO_MALFORMED);
    memcpy(bad, body, bl);
    bad[bl - 1] = 1; /* extension body past the block */
    parse_body(bad, bl, TLS_HELLO_MALFORMED);
    memcpy(bad, body, bl);
    bad[bl] = 0; /* a byte after the extensions */
    parse_body(bad, bl + 1, TLS_HELLO_MALFORMED);
    memcpy(bad, body, bl);
    bad[bl - 5] = 5; /* extension block length past the message */
    parse_body(bad, bl, TLS_HELLO_MALFORMED);
    /* Message ends inside the extension block length. */
    parse_body(body, bl - 5, TLS_HELLO_MALFORMED);

    /* A fragmented hello whose second record is not a handshake. */
    uint8_t msg[300];
    size_t ml = handshake(body, bl, msg);
    size_t rl = records(msg, ml, 20, tmp);
    tmp[25] = 0x17;
    assert_int_equal(tls_parse_client_hello(tmp, rl, &hello), TLS_HELLO_MALFORMED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ja3_published),
        cmocka_unit_test(test_chrome_fields),
        cmocka_unit_test(test_ja4_published),
        cmocka_unit_test(test_ja4_spec_example),
        cmocka_unit_test(test_openssl_s_client),
        cmocka_unit_test(test_ja3_minimal),
        cmocka_unit_test(test_ja4_alpn),
        cmocka_unit_test(test_ja4_version),
        cmocka_unit_test(test_grease),
        cmocka_unit_test(test_truncation),
        cmocka_unit_test(test_bad_extension_bodies),
        cmocka_unit_test(test_prefixes),
        cmocka_unit_test(test_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
