/* fuzz/fuzz_tls_hello.c -- the ClientHello parser and the JA3/JA4
 * fingerprints on arbitrary input.
 *
 * The input is parsed as TLS records and as a bare handshake message. For
 * a parsed hello: lengths and counts within their bounds, the SNI and ALPN
 * well formed, every fingerprint computed and of the right shape, and
 * every strict prefix of the hello "need more". Any broken invariant
 * aborts, which libFuzzer and the corpus replay both report. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/tls.h"

#define CHECK(cond)  \
    do {             \
        if (!(cond)) \
            abort(); \
    } while (0)

static bool is_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

static void check_hello(const struct tls_hello *h)
{
    CHECK(h->n_ciphers <= TLS_CIPHERS_MAX && h->n_exts <= TLS_EXTS_MAX);
    CHECK(h->n_groups <= TLS_GROUPS_MAX && h->n_sigalgs <= TLS_SIGALGS_MAX);
    CHECK(h->n_versions <= TLS_VERSIONS_MAX && h->n_points <= TLS_POINTS_MAX);
    CHECK(h->ciphers_seen <= 32767 && h->exts_seen <= 16384);
    CHECK(h->session_id_len <= 32);
    CHECK(h->sni_len <= TLS_SNI_MAX && h->sni[h->sni_len] == '\0');
    if (h->sni_len > 0)
        CHECK(h->has_sni);

    /* The ALPN copy is whole length-prefixed names. */
    CHECK(h->alpn_len <= TLS_ALPN_MAX);
    size_t pos = 0, names = 0;
    while (pos < h->alpn_len) {
        pos += 1 + (size_t)h->alpn[pos];
        names++;
    }
    CHECK(pos == h->alpn_len && names == h->n_alpn);
    const uint8_t *first;
    size_t fl = tls_alpn_first(h, &first);
    CHECK(fl == 0 || (first == h->alpn + 1 && fl == h->alpn[0]));

    char ja3[TLS_JA3_MAX];
    int n = tls_ja3_string(h, ja3, sizeof(ja3));
    CHECK(n > 0 && (size_t)n == strlen(ja3));
    char md5[TLS_JA3_HASH_LEN + 1];
    CHECK(tls_ja3_hash(h, md5) == 0 && strlen(md5) == 32 && is_hex(md5, 32));

    for (unsigned flags = 0; flags < 16; flags++) {
        if ((flags & TLS_JA4_QUIC) && (flags & TLS_JA4_DTLS))
            continue;
        char ja4[TLS_JA4_RAW_MAX];
        n = tls_ja4(h, flags, ja4, sizeof(ja4));
        CHECK(n > 0 && (size_t)n == strlen(ja4));
        CHECK(ja4[0] == (flags & TLS_JA4_QUIC ? 'q' : flags & TLS_JA4_DTLS ? 'd' : 't'));
        CHECK(ja4[3] == 'd' || ja4[3] == 'i');
        CHECK(ja4[3] == (h->has_sni ? 'd' : 'i'));
        CHECK(ja4[10] == '_');
        if (!(flags & TLS_JA4_RAW)) {
            CHECK(n == TLS_JA4_LEN && ja4[23] == '_');
            CHECK(is_hex(ja4 + 11, 12) && is_hex(ja4 + 24, 12));
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct tls_hello h;
    enum tls_status st = tls_parse_client_hello(data, size, &h);
    CHECK(st <= TLS_HELLO_MALFORMED);
    if (st == TLS_HELLO_OK) {
        CHECK(h.len >= TLS_RECORD_HDR_LEN + 4 && h.len <= size);
        CHECK(data[0] == 0x16 && data[1] == 3);
        CHECK(h.record_version == (uint16_t)(data[1] << 8 | data[2]));
        check_hello(&h);
        size_t len = h.len;
        /* Strict prefixes wait for more; a few lengths, the last one always. */
        size_t probes[] = { len - 1, len / 2, TLS_RECORD_HDR_LEN, 1, 0 };
        for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++)
            CHECK(tls_parse_client_hello(data, probes[i], &h) == TLS_HELLO_NEED_MORE);
    }

    st = tls_parse_handshake(data, size, &h);
    CHECK(st <= TLS_HELLO_MALFORMED);
    if (st == TLS_HELLO_OK) {
        CHECK(h.len >= 4 && h.len <= size && h.record_version == 0);
        CHECK(h.len == 4 + ((size_t)data[1] << 16 | (size_t)data[2] << 8 | data[3]));
        check_hello(&h);
        CHECK(tls_parse_handshake(data, h.len - 1, &h) == TLS_HELLO_NEED_MORE);
    }
    return 0;
}
