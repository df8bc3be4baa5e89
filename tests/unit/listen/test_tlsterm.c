/* Unit tests for listen/tlsterm: a real OpenSSL client, over memory BIOs
 * in the same process, against the terminating side. Handshakes with TLS
 * 1.0 to 1.3 (also fed byte by byte), data both ways, close_notify each
 * way, the generated certificates' fields, a client with RSA key
 * exchange and no elliptic curves, certificates from PEM files and their
 * errors, garbage and refused handshakes, and the error queue left empty
 * after every call. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "core/err.h"
#include "listen/tlsterm.h"

static char dir[] = "/tmp/sk-test-tlsterm-XXXXXX";

static const char request[] = "GET /index.php?id=7 HTTP/1.1\r\nHost: sinkhole.test\r\n"
                              "User-Agent: bot/1.0\r\n\r\n";
static const char reply[] = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n";

/* ---- a client and a server session, wired through memory ---- */

struct pair {
    SSL *c;            /* the client */
    struct tlsterm *s; /* the side under test */
    uint8_t *in;       /* plaintext the server has read */
    size_t in_len, in_cap;
    ssize_t last;     /* the server's last tlsterm_read() result <= 0 */
    bool saw_pending; /* tlsterm_pending_output() matched what was taken */
};

static SSL_CTX *client_ctx(int min, int max, const char *ciphers)
{
    SSL_CTX *c = SSL_CTX_new(TLS_client_method());
    if (c == NULL)
        return NULL;
    SSL_CTX_set_security_level(c, 0);
    SSL_CTX_set_verify(c, SSL_VERIFY_NONE, NULL);
    if (SSL_CTX_set_min_proto_version(c, min) != 1 || SSL_CTX_set_max_proto_version(c, max) != 1 ||
        (ciphers != NULL && SSL_CTX_set_cipher_list(c, ciphers) != 1)) {
        SSL_CTX_free(c);
        return NULL;
    }
    return c;
}

/* No cmocka asserts here: the thread test uses it too. */
static bool pair_init(struct pair *p, struct tlsterm_ctx *sctx, SSL_CTX *cctx, const char *sni)
{
    memset(p, 0, sizeof(*p));
    p->c = SSL_new(cctx);
    BIO *r = BIO_new(BIO_s_mem()), *w = BIO_new(BIO_s_mem());
    p->s = tlsterm_new(sctx);
    p->in_cap = 1 << 16;
    p->in = malloc(p->in_cap);
    if (p->c == NULL || r == NULL || w == NULL || p->s == NULL || p->in == NULL) {
        BIO_free(r);
        BIO_free(w);
        return false;
    }
    BIO_set_mem_eof_return(r, -1);
    BIO_set_mem_eof_return(w, -1);
    SSL_set_bio(p->c, r, w);
    SSL_set_connect_state(p->c);
    if (sni != NULL)
        SSL_set_tlsext_host_name(p->c, sni);
    p->saw_pending = true;
    return true;
}

static void pair_free(struct pair *p)
{
    SSL_free(p->c);
    tlsterm_free(p->s);
    free(p->in);
    memset(p, 0, sizeof(*p));
}

/* Reads all the plaintext the server has; records the final result. */
static void server_pump(struct pair *p)
{
    for (;;) {
        if (p->in_len == p->in_cap) {
            p->in_cap *= 2;
            p->in = realloc(p->in, p->in_cap);
            if (p->in == NULL)
                abort();
        }
        ssize_t r = tlsterm_read(p->s, p->in + p->in_len, p->in_cap - p->in_len);
        if (r <= 0) {
            p->last = r;
            return;
        }
        p->in_len += (size_t)r;
    }
}

/* Moves ciphertext both ways, chunk bytes at a time, until nothing moves;
 * the client advances its handshake, the server reads what it can after
 * every chunk. Stops feeding the server once it has failed. */
static void shuttle(struct pair *p, size_t chunk)
{
    uint8_t buf[8192];
    if (chunk > sizeof(buf))
        chunk = sizeof(buf);
    for (int round = 0; round < 100000; round++) {
        bool moved = false;
        if (!SSL_is_init_finished(p->c))
            (void)SSL_do_handshake(p->c);
        int n;
        while (p->last != TLSTERM_ERROR &&
               (n = BIO_read(SSL_get_wbio(p->c), buf, (int)chunk)) > 0) {
            if (tlsterm_feed(p->s, buf, (size_t)n) != 0)
                abort();
            server_pump(p);
            moved = true;
        }
        server_pump(p);
        size_t pend = tlsterm_pending_output(p->s), took = 0, k;
        while ((k = tlsterm_take_output(p->s, buf, chunk)) > 0) {
            BIO_write(SSL_get_rbio(p->c), buf, (int)k);
            took += k;
            moved = true;
        }
        if (took != pend || tlsterm_pending_output(p->s) != 0)
            p->saw_pending = false;
        if (!moved)
            return;
    }
}

static bool client_write(struct pair *p, const void *d, size_t len)
{
    size_t n = 0;
    return SSL_write_ex(p->c, d, len, &n) == 1 && n == len;
}

/* Everything the client can read now, up to cap. */
static size_t client_read(struct pair *p, uint8_t *out, size_t cap)
{
    size_t got = 0, n;
    while (got < cap && SSL_read_ex(p->c, out + got, cap - got, &n) == 1)
        got += n;
    ERR_clear_error();
    return got;
}

static struct tlsterm_ctx *gen_ctx(const char *cn)
{
    struct tlsterm_ctx *ctx = NULL;
    char err[512] = "x";
    int rc = tlsterm_ctx_new(NULL, NULL, cn, &ctx, err, sizeof(err));
    if (rc != 0)
        fprintf(stderr, "tlsterm_ctx_new: %s\n", err);
    assert_int_equal(rc, 0);
    assert_non_null(ctx);
    assert_int_equal(ERR_peek_error(), 0);
    return ctx;
}

/* A handshake at exactly one version, then a request, a reply and a
 * close_notify from the client, and ours back; want_cipher: the suite
 * the server must have chosen (NULL: any). */
static void round_trip(struct tlsterm_ctx *sctx, int version, const char *ciphers, size_t chunk,
                       const char *want_cipher)
{
    SSL_CTX *cctx = client_ctx(version, version, ciphers);
    assert_non_null(cctx);
    struct pair p;
    assert_true(pair_init(&p, sctx, cctx, "sinkhole.test"));
    assert_false(tlsterm_handshake_done(p.s));
    assert_int_equal(tlsterm_pending_output(p.s), 0);

    shuttle(&p, chunk);
    assert_int_equal(p.last, 0);
    assert_true(SSL_is_init_finished(p.c));
    assert_true(tlsterm_handshake_done(p.s));
    assert_int_equal(SSL_version(p.c), version);
    assert_true(p.saw_pending);
    if (want_cipher != NULL)
        assert_string_equal(SSL_get_cipher_name(p.c), want_cipher);
    assert_int_equal(p.in_len, 0);

    /* Client to server. */
    assert_true(client_write(&p, request, strlen(request)));
    shuttle(&p, chunk);
    assert_int_equal(p.last, 0);
    assert_int_equal(p.in_len, strlen(request));
    assert_memory_equal(p.in, request, strlen(request));

    /* Server to client. */
    assert_int_equal(tlsterm_write(p.s, (const uint8_t *)reply, strlen(reply)), 0);
    assert_true(tlsterm_pending_output(p.s) > strlen(reply));
    assert_int_equal(ERR_peek_error(), 0);
    shuttle(&p, chunk);
    uint8_t got[256];
    size_t n = client_read(&p, got, sizeof(got));
    assert_int_equal(n, strlen(reply));
    assert_memory_equal(got, reply, n);
    /* Nothing to resume: no tickets, no session IDs. */
    assert_int_equal(SSL_SESSION_is_resumable(SSL_get0_session(p.c)), 0);

    /* The client's close_notify; then ours, which the client sees. */
    assert_true(SSL_shutdown(p.c) >= 0);
    shuttle(&p, chunk);
    assert_int_equal(p.last, TLSTERM_CLOSED);
    assert_int_equal(tlsterm_read(p.s, got, sizeof(got)), TLSTERM_CLOSED);
    tlsterm_shutdown(p.s);
    size_t pend = tlsterm_pending_output(p.s);
    assert_true(pend > 0);
    tlsterm_shutdown(p.s); /* once only */
    assert_int_equal(tlsterm_pending_output(p.s), pend);
    shuttle(&p, chunk);
    assert_int_equal(SSL_shutdown(p.c), 1);
    assert_int_equal(ERR_peek_error(), 0);

    pair_free(&p);
    SSL_CTX_free(cctx);
}

/* ---- handshakes ---- */

static void test_tls12_tls13(void **state)
{
    (void)state;
    struct tlsterm_ctx *sctx = gen_ctx("sinkhole.test");
    round_trip(sctx, TLS1_3_VERSION, NULL, 8192, NULL);
    round_trip(sctx, TLS1_2_VERSION, NULL, 8192, NULL);
    /* Server preference: the strongest suite the client offers. */
    round_trip(sctx, TLS1_2_VERSION, "ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-GCM-SHA384", 8192,
               "ECDHE-ECDSA-AES256-GCM-SHA384");
    /* Ciphertext a byte at a time: every prefix is "need more". */
    round_trip(sctx, TLS1_3_VERSION, NULL, 1, NULL);
    round_trip(sctx, TLS1_2_VERSION, NULL, 1, NULL);
    tlsterm_ctx_free(sctx);
}

static void test_old_versions(void **state)
{
    (void)state;
#if defined(OPENSSL_NO_TLS1) || defined(OPENSSL_NO_TLS1_1)
    /* This OpenSSL was built without TLS 1.0/1.1: no client can offer it,
     * so there is nothing to check. */
    skip();
#else
    struct tlsterm_ctx *sctx = gen_ctx("sinkhole.test");
    /* A TLS 1.0 client with one old CBC suite (SHA-1 MAC, SHA-1 signed
     * key exchange): what an old bot offers. */
    round_trip(sctx, TLS1_VERSION, "ECDHE-ECDSA-AES128-SHA:@SECLEVEL=0", 8192,
               "ECDHE-ECDSA-AES128-SHA");
    round_trip(sctx, TLS1_1_VERSION, "ECDHE-ECDSA-AES256-SHA:@SECLEVEL=0", 8192,
               "ECDHE-ECDSA-AES256-SHA");
    round_trip(sctx, TLS1_VERSION, "ECDHE-ECDSA-AES128-SHA:@SECLEVEL=0", 1, NULL);
    tlsterm_ctx_free(sctx);
#endif
}

/* Large bodies both ways, so records split and the buffers grow and are
 * given back; a TLS 1.3 key update from the client in the middle. */
static void test_bulk_and_key_update(void **state)
{
    (void)state;
    struct tlsterm_ctx *sctx = gen_ctx("bulk.test");
    int versions[] = { TLS1_2_VERSION, TLS1_3_VERSION };
    for (size_t v = 0; v < 2; v++) {
        SSL_CTX *cctx = client_ctx(versions[v], versions[v], NULL);
        struct pair p;
        assert_true(pair_init(&p, sctx, cctx, NULL));
        shuttle(&p, 8192);
        assert_true(tlsterm_handshake_done(p.s));

        size_t big = 200000;
        uint8_t *up = malloc(big), *down = malloc(big), *got = malloc(big);
        assert_non_null(up);
        assert_non_null(down);
        assert_non_null(got);
        for (size_t i = 0; i < big; i++) {
            up[i] = (uint8_t)(i * 7 + 1);
            down[i] = (uint8_t)(i * 13 + 5);
        }
        assert_true(client_write(&p, up, big));
        shuttle(&p, 8192);
        assert_int_equal(p.last, 0);
        assert_int_equal(p.in_len, big);
        assert_memory_equal(p.in, up, big);

        assert_int_equal(tlsterm_write(p.s, down, big), 0);
        shuttle(&p, 8192);
        assert_int_equal(client_read(&p, got, big), big);
        assert_memory_equal(got, down, big);

        if (versions[v] == TLS1_3_VERSION) {
            assert_int_equal(SSL_key_update(p.c, SSL_KEY_UPDATE_REQUESTED), 1);
            p.in_len = 0;
            assert_true(client_write(&p, request, strlen(request)));
            shuttle(&p, 8192);
            assert_int_equal(p.last, 0);
            assert_true(tlsterm_handshake_done(p.s));
            assert_int_equal(p.in_len, strlen(request));
            assert_memory_equal(p.in, request, strlen(request));
            assert_int_equal(tlsterm_write(p.s, (const uint8_t *)reply, strlen(reply)), 0);
            shuttle(&p, 8192);
            assert_int_equal(client_read(&p, got, big), strlen(reply));
            assert_memory_equal(got, reply, strlen(reply));
        }
        free(up);
        free(down);
        free(got);
        pair_free(&p);
        SSL_CTX_free(cctx);
    }
    tlsterm_ctx_free(sctx);
}

/* Reads with a small buffer: a record's plaintext comes out in pieces. */
static void test_small_reads_and_take(void **state)
{
    (void)state;
    struct tlsterm_ctx *sctx = gen_ctx("sinkhole.test");
    SSL_CTX *cctx = client_ctx(TLS1_3_VERSION, TLS1_3_VERSION, NULL);
    struct pair p;
    assert_true(pair_init(&p, sctx, cctx, NULL));

    /* cap 0 only advances the handshake: the ClientHello is answered. */
    assert_int_equal(SSL_do_handshake(p.c), -1);
    uint8_t buf[4096];
    int n = BIO_read(SSL_get_wbio(p.c), buf, sizeof(buf));
    assert_true(n > 0);
    assert_int_equal(tlsterm_feed(p.s, buf, (size_t)n), 0);
    assert_int_equal(tlsterm_pending_output(p.s), 0);
    assert_int_equal(tlsterm_read(p.s, buf, 0), 0);
    size_t flight = tlsterm_pending_output(p.s);
    assert_true(flight > 100);
    assert_false(tlsterm_handshake_done(p.s));
    /* Taken in pieces of 7 bytes, all of it, in order. */
    size_t took = 0, k;
    while ((k = tlsterm_take_output(p.s, buf + took, 7)) > 0) {
        assert_true(k <= 7);
        took += k;
    }
    assert_int_equal(took, flight);
    assert_int_equal(tlsterm_take_output(p.s, buf, sizeof(buf)), 0);
    assert_int_equal(tlsterm_take_output(p.s, buf, 0), 0);
    BIO_write(SSL_get_rbio(p.c), buf, (int)took);
    shuttle(&p, 8192);
    assert_true(tlsterm_handshake_done(p.s));

    assert_true(client_write(&p, request, strlen(request)));
    while ((n = BIO_read(SSL_get_wbio(p.c), buf, sizeof(buf))) > 0)
        assert_int_equal(tlsterm_feed(p.s, buf, (size_t)n), 0);
    size_t got = 0;
    ssize_t r;
    uint8_t plain[256];
    while ((r = tlsterm_read(p.s, plain + got, 5)) > 0) {
        assert_true(r <= 5);
        got += (size_t)r;
    }
    assert_int_equal(r, 0);
    assert_int_equal(got, strlen(request));
    assert_memory_equal(plain, request, got);

    pair_free(&p);
    SSL_CTX_free(cctx);
    tlsterm_ctx_free(sctx);
}

/* ---- the generated certificate ---- */

/* The certificate a client made from cctx gets; cctx is freed. */
static X509 *peer_cert_via(struct tlsterm_ctx *sctx, SSL_CTX *cctx)
{
    assert_non_null(cctx);
    struct pair p;
    assert_true(pair_init(&p, sctx, cctx, NULL));
    shuttle(&p, 8192);
    assert_true(tlsterm_handshake_done(p.s));
    X509 *x = SSL_get1_peer_certificate(p.c);
    assert_non_null(x);
    pair_free(&p);
    SSL_CTX_free(cctx);
    return x;
}

/* The certificate a current client gets. */
static X509 *peer_cert_of(struct tlsterm_ctx *sctx)
{
    return peer_cert_via(sctx, client_ctx(TLS1_2_VERSION, TLS1_3_VERSION, NULL));
}

static void expect_cn(const X509_NAME *name, const char *cn)
{
    char buf[128];
    assert_int_equal(X509_NAME_get_text_by_NID((X509_NAME *)name, NID_commonName, buf, sizeof(buf)),
                     strlen(cn));
    assert_string_equal(buf, cn);
    assert_int_equal(X509_NAME_entry_count(name), 1);
}

/* The subjectAltName: type and value of its single entry, or -1 if none. */
static int san_of(X509 *x, char *out, size_t cap)
{
    GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    if (gens == NULL)
        return -1;
    assert_int_equal(sk_GENERAL_NAME_num(gens), 1);
    GENERAL_NAME *gn = sk_GENERAL_NAME_value(gens, 0);
    int type;
    ASN1_STRING *v = GENERAL_NAME_get0_value(gn, &type);
    size_t len = (size_t)ASN1_STRING_length(v);
    assert_true(len < cap);
    memcpy(out, ASN1_STRING_get0_data(v), len);
    out[len] = '\0';
    if (type == GEN_IPADD)
        assert_true(len == 4 || len == 16);
    GENERAL_NAMES_free(gens);
    return type;
}

static void test_generated_cert(void **state)
{
    (void)state;
    struct tlsterm_ctx *sctx = gen_ctx("sinkhole.test");
    X509 *x = peer_cert_of(sctx);

    expect_cn(X509_get_subject_name(x), "sinkhole.test");
    assert_int_equal(X509_NAME_cmp(X509_get_subject_name(x), X509_get_issuer_name(x)), 0);
    assert_int_equal(X509_get_version(x), X509_VERSION_3);
    assert_int_equal(X509_get_signature_nid(x), NID_ecdsa_with_SHA256);

    EVP_PKEY *pub = X509_get0_pubkey(x);
    assert_non_null(pub);
    assert_int_equal(EVP_PKEY_get_base_id(pub), EVP_PKEY_EC);
    char group[64];
    assert_int_equal(EVP_PKEY_get_group_name(pub, group, sizeof(group), NULL), 1);
    assert_string_equal(group, "prime256v1");
    assert_int_equal(X509_verify(x, pub), 1); /* self-signed */

    /* Validity: from a day before now, for ten years (3652 or 3653 days,
     * counting the leap days in between). */
    int days, secs;
    assert_int_equal(ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notBefore(x)), 1);
    long before = (long)days * 86400 + secs;
    assert_true(before <= -86400 + 5 && before >= -86400 - 60);
    assert_int_equal(ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(x)), 1);
    assert_true(days >= 3652 && days <= 3653);
    time_t now = time(NULL);
    struct tm tnow, tafter;
    gmtime_r(&now, &tnow);
    assert_int_equal(ASN1_TIME_to_tm(X509_get0_notAfter(x), &tafter), 1);
    assert_int_equal(tafter.tm_year, tnow.tm_year + 10);

    /* A positive 16-byte serial. */
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
    assert_non_null(bn);
    assert_false(BN_is_negative(bn));
    assert_int_equal(BN_num_bytes(bn), 16);

    /* basicConstraints CA:FALSE, critical; subjectAltName DNS:cn. */
    int crit = -2;
    BASIC_CONSTRAINTS *bc = X509_get_ext_d2i(x, NID_basic_constraints, &crit, NULL);
    assert_non_null(bc);
    assert_int_equal(bc->ca, 0);
    assert_int_equal(crit, 1);
    BASIC_CONSTRAINTS_free(bc);
    assert_int_equal(X509_check_ca(x), 0);
    char san[300];
    assert_int_equal(san_of(x, san, sizeof(san)), GEN_DNS);
    assert_string_equal(san, "sinkhole.test");

    /* Another context: another key, another serial. */
    struct tlsterm_ctx *sctx2 = gen_ctx("sinkhole.test");
    X509 *y = peer_cert_of(sctx2);
    BIGNUM *bn2 = ASN1_INTEGER_to_BN(X509_get0_serialNumber(y), NULL);
    assert_int_not_equal(BN_cmp(bn, bn2), 0);
    assert_int_not_equal(EVP_PKEY_eq(X509_get0_pubkey(x), X509_get0_pubkey(y)), 1);

    BN_free(bn);
    BN_free(bn2);
    X509_free(x);
    X509_free(y);
    tlsterm_ctx_free(sctx);
    tlsterm_ctx_free(sctx2);
}

/* The ClientHello a client sent, caught by its message callback. */
struct hello {
    uint8_t msg[4096];
    size_t len;
};

static void hello_cb(int write_p, int version, int content_type, const void *buf, size_t len,
                     SSL *ssl, void *arg)
{
    (void)version;
    (void)ssl;
    struct hello *h = arg;
    const uint8_t *m = buf;
    if (write_p && content_type == SSL3_RT_HANDSHAKE && len > 0 && m[0] == SSL3_MT_CLIENT_HELLO &&
        len <= sizeof(h->msg)) {
        memcpy(h->msg, m, len);
        h->len = len;
    }
}

static size_t be16(const uint8_t *p)
{
    return (size_t)p[0] << 8 | p[1];
}

/* Whether the caught ClientHello carries an extension of type ext: 1 or
 * 0, or -1 if it does not parse. */
static int hello_has_ext(const struct hello *h, size_t ext)
{
    const uint8_t *m = h->msg;
    size_t len = h->len, p = 4 + 2 + 32; /* header, version, random */
    if (p >= len)
        return -1;
    p += 1 + m[p]; /* session ID */
    if (p + 2 > len)
        return -1;
    p += 2 + be16(m + p); /* cipher suites */
    if (p >= len)
        return -1;
    p += 1 + m[p]; /* compression methods */
    if (p == len)
        return 0; /* no extensions at all */
    if (p + 2 > len || p + 2 + be16(m + p) != len)
        return -1;
    for (p += 2; p + 4 <= len; p += 4 + be16(m + p + 2))
        if (be16(m + p) == ext)
            return 1;
    return p == len ? 0 : -1;
}

/* A client with RSA key exchange only and no elliptic curves, as old
 * Windows (XP's schannel) speaks: TLS 1.0, AES128-SHA, neither
 * supported_groups nor ec_point_formats in its ClientHello. It gets the
 * RSA certificate, made like the EC one that current clients get. */
static void test_rsa_key_exchange(void **state)
{
    (void)state;
#ifdef OPENSSL_NO_TLS1
    int old = TLS1_2_VERSION;
#else
    int old = TLS1_VERSION;
#endif
    struct tlsterm_ctx *sctx = gen_ctx("old-bot.test");
    round_trip(sctx, old, "AES128-SHA:@SECLEVEL=0", 8192, "AES128-SHA");
    round_trip(sctx, old, "AES128-SHA:@SECLEVEL=0", 1, "AES128-SHA");
    round_trip(sctx, TLS1_2_VERSION, "AES128-SHA:AES256-GCM-SHA384", 8192, "AES256-GCM-SHA384");

    struct hello h = { .len = 0 };
    SSL_CTX *cctx = client_ctx(old, old, "AES128-SHA:@SECLEVEL=0");
    assert_non_null(cctx);
    SSL_CTX_set_msg_callback(cctx, hello_cb);
    SSL_CTX_set_msg_callback_arg(cctx, &h);
    X509 *x = peer_cert_via(sctx, cctx);
    assert_int_equal(hello_has_ext(&h, TLSEXT_TYPE_supported_groups), 0);
    assert_int_equal(hello_has_ext(&h, TLSEXT_TYPE_ec_point_formats), 0);
    /* The same look at a current client's hello finds both. */
    struct hello now = { .len = 0 };
    cctx = client_ctx(TLS1_2_VERSION, TLS1_3_VERSION, NULL);
    assert_non_null(cctx);
    SSL_CTX_set_msg_callback(cctx, hello_cb);
    SSL_CTX_set_msg_callback_arg(cctx, &now);
    X509 *ec = peer_cert_via(sctx, cctx);
    assert_int_equal(hello_has_ext(&now, TLSEXT_TYPE_supported_groups), 1);
    assert_int_equal(hello_has_ext(&now, TLSEXT_TYPE_ec_point_formats), 1);

    EVP_PKEY *pub = X509_get0_pubkey(x);
    assert_non_null(pub);
    assert_int_equal(EVP_PKEY_get_base_id(pub), EVP_PKEY_RSA);
    assert_int_equal(EVP_PKEY_get_bits(pub), 2048);
    assert_int_equal(X509_get_signature_nid(x), NID_sha256WithRSAEncryption);
    assert_int_equal(X509_verify(x, pub), 1); /* self-signed */
    expect_cn(X509_get_subject_name(x), "old-bot.test");
    assert_int_equal(EVP_PKEY_get_base_id(X509_get0_pubkey(ec)), EVP_PKEY_EC);

    /* Names, validity and extensions as in the EC certificate; a serial
     * of its own. */
    assert_int_equal(X509_get_version(x), X509_VERSION_3);
    assert_int_equal(X509_NAME_cmp(X509_get_subject_name(x), X509_get_subject_name(ec)), 0);
    assert_int_equal(X509_NAME_cmp(X509_get_issuer_name(x), X509_get_issuer_name(ec)), 0);
    assert_int_equal(ASN1_TIME_compare(X509_get0_notBefore(x), X509_get0_notBefore(ec)), 0);
    assert_int_equal(ASN1_TIME_compare(X509_get0_notAfter(x), X509_get0_notAfter(ec)), 0);
    assert_int_equal(X509_get_ext_count(x), 2);
    assert_int_equal(X509_get_ext_count(ec), 2);
    for (int i = 0; i < 2; i++) {
        X509_EXTENSION *a = X509_get_ext(x, i), *b = X509_get_ext(ec, i);
        assert_int_equal(OBJ_cmp(X509_EXTENSION_get_object(a), X509_EXTENSION_get_object(b)), 0);
        assert_int_equal(X509_EXTENSION_get_critical(a), X509_EXTENSION_get_critical(b));
        assert_int_equal(ASN1_STRING_cmp(X509_EXTENSION_get_data(a), X509_EXTENSION_get_data(b)),
                         0);
    }
    char san[300];
    assert_int_equal(san_of(x, san, sizeof(san)), GEN_DNS);
    assert_string_equal(san, "old-bot.test");
    assert_int_equal(X509_check_ca(x), 0);
    assert_int_not_equal(ASN1_INTEGER_cmp(X509_get0_serialNumber(x), X509_get0_serialNumber(ec)),
                         0);
    X509_free(x);
    X509_free(ec);
    tlsterm_ctx_free(sctx);
}

/* subjectAltName follows what the common name is. */
static void test_generated_san(void **state)
{
    (void)state;
    static const struct {
        const char *cn;
        int type; /* -1: no subjectAltName */
        const char *value;
    } cases[] = {
        { "localhost", GEN_DNS, "localhost" },
        { "*.evil.example", GEN_DNS, "*.evil.example" },
        { "c2_node-1.example.org", GEN_DNS, "c2_node-1.example.org" },
        { "192.0.2.7", GEN_IPADD, "\xc0\x00\x02\x07" },
        { "Bot Control Panel", -1, NULL },
        { "-bad.example", -1, NULL },
        { "bad-.example", -1, NULL },
        { "a..example", -1, NULL },
        { "example.", -1, NULL },
        { "Zentrale Überwachung", -1, NULL },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct tlsterm_ctx *sctx = gen_ctx(cases[i].cn);
        X509 *x = peer_cert_of(sctx);
        expect_cn(X509_get_subject_name(x), cases[i].cn);
        char san[300];
        int type = san_of(x, san, sizeof(san));
        if (type != cases[i].type)
            fprintf(stderr, "cn \"%s\": SAN type %d, want %d\n", cases[i].cn, type, cases[i].type);
        assert_int_equal(type, cases[i].type);
        if (type >= 0)
            assert_string_equal(san, cases[i].value);
        X509_free(x);
        tlsterm_ctx_free(sctx);
    }

    /* An IPv6 literal: 16 bytes. */
    struct tlsterm_ctx *sctx = gen_ctx("2001:db8::1");
    X509 *x = peer_cert_of(sctx);
    GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    assert_non_null(gens);
    int type;
    ASN1_STRING *v = GENERAL_NAME_get0_value(sk_GENERAL_NAME_value(gens, 0), &type);
    assert_int_equal(type, GEN_IPADD);
    static const uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
    assert_int_equal(ASN1_STRING_length(v), 16);
    assert_memory_equal(ASN1_STRING_get0_data(v), v6, 16);
    GENERAL_NAMES_free(gens);
    X509_free(x);
    tlsterm_ctx_free(sctx);

    /* The longest common name X.509 allows, and one more. */
    char cn[80];
    memset(cn, 'a', 64);
    cn[64] = '\0';
    sctx = gen_ctx(cn);
    tlsterm_ctx_free(sctx);
    cn[64] = 'a';
    cn[65] = '\0';
    char err[256] = "";
    struct tlsterm_ctx *bad = (struct tlsterm_ctx *)1;
    assert_int_equal(tlsterm_ctx_new(NULL, NULL, cn, &bad, err, sizeof(err)), SK_EINVAL);
    assert_null(bad);
    assert_non_null(strstr(err, "64"));
    err[0] = '\0';
    assert_int_equal(tlsterm_ctx_new(NULL, NULL, "", &bad, err, sizeof(err)), SK_EINVAL);
    assert_true(strlen(err) > 0);
    assert_int_equal(tlsterm_ctx_new(NULL, NULL, NULL, &bad, err, sizeof(err)), SK_EINVAL);
    assert_int_equal(ERR_peek_error(), 0);
}

/* ---- certificates from files ---- */

static EVP_PKEY *make_key(void)
{
    EVP_PKEY *k = EVP_EC_gen("P-256");
    assert_non_null(k);
    return k;
}

/* A v3 certificate for cn with key's public half, signed by ca_key under
 * ca_cert's name (self-signed if ca_cert is NULL). */
static X509 *make_cert(const char *cn, EVP_PKEY *key, X509 *ca_cert, EVP_PKEY *ca_key, bool is_ca)
{
    X509 *x = X509_new();
    assert_non_null(x);
    assert_int_equal(X509_set_version(x, X509_VERSION_3), 1);
    ASN1_INTEGER_set(X509_get_serialNumber(x), is_ca ? 1 : 2);
    X509_gmtime_adj(X509_getm_notBefore(x), -60);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400);
    X509_NAME *name = X509_get_subject_name(x);
    assert_int_equal(
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0),
        1);
    assert_int_equal(X509_set_issuer_name(x, ca_cert ? X509_get_subject_name(ca_cert)
                                                     : X509_get_subject_name(x)),
                     1);
    assert_int_equal(X509_set_pubkey(x, key), 1);
    if (is_ca) {
        X509V3_CTX v3;
        X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
        X509_EXTENSION *ext =
            X509V3_EXT_conf_nid(NULL, &v3, NID_basic_constraints, "critical,CA:TRUE");
        assert_non_null(ext);
        X509_add_ext(x, ext, -1);
        X509_EXTENSION_free(ext);
    }
    assert_true(X509_sign(x, ca_key ? ca_key : key, EVP_sha256()) > 0);
    return x;
}

static char *path_of(const char *name)
{
    static char paths[16][600];
    static int next;
    char *p = paths[next++ % 16];
    snprintf(p, sizeof(paths[0]), "%s/%s", dir, name);
    return p;
}

/* Writes any of: certificates (NULL-terminated), a key (encrypted if
 * pass), raw text. */
static const char *write_pem(const char *name, X509 **certs, EVP_PKEY *key, const char *pass,
                             const char *text)
{
    const char *path = path_of(name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    for (size_t i = 0; certs && certs[i]; i++)
        assert_int_equal(PEM_write_X509(f, certs[i]), 1);
    if (key != NULL) {
        const EVP_CIPHER *enc = pass ? EVP_aes_128_cbc() : NULL;
        assert_int_equal(PEM_write_PrivateKey(f, key, enc, (const unsigned char *)pass,
                                              pass ? (int)strlen(pass) : 0, NULL, NULL),
                         1);
    }
    if (text != NULL)
        fputs(text, f);
    assert_int_equal(fclose(f), 0);
    return path;
}

static void test_files(void **state)
{
    (void)state;
    EVP_PKEY *ca_key = make_key(), *key = make_key(), *other = make_key();
    EVP_PKEY *rsa = EVP_RSA_gen(1024);
    assert_non_null(rsa);
    X509 *ca = make_cert("Test CA", ca_key, NULL, NULL, true);
    X509 *leaf = make_cert("files.test", key, ca, ca_key, false);

    const char *cert_pem = write_pem("cert.pem", (X509 *[]){ leaf, ca, NULL }, NULL, NULL, NULL);
    const char *key_pem = write_pem("key.pem", NULL, key, NULL, NULL);
    const char *both_pem = write_pem("both.pem", (X509 *[]){ leaf, NULL }, key, NULL, NULL);

    /* Certificate and chain from one file, key from another. */
    struct tlsterm_ctx *sctx = NULL;
    char err[1024] = "x";
    assert_int_equal(tlsterm_ctx_new(cert_pem, key_pem, "ignored.test", &sctx, err, sizeof(err)),
                     0);
    assert_string_equal(err, "");
    SSL_CTX *cctx = client_ctx(TLS1_2_VERSION, TLS1_3_VERSION, NULL);
    struct pair p;
    assert_true(pair_init(&p, sctx, cctx, "files.test"));
    shuttle(&p, 8192);
    assert_true(tlsterm_handshake_done(p.s));
    X509 *got = SSL_get1_peer_certificate(p.c);
    assert_non_null(got);
    assert_int_equal(X509_cmp(got, leaf), 0);
    X509_free(got);
    STACK_OF(X509) *chain = SSL_get_peer_cert_chain(p.c);
    assert_int_equal(sk_X509_num(chain), 2);
    assert_int_equal(X509_cmp(sk_X509_value(chain, 1), ca), 0);
    assert_true(client_write(&p, request, strlen(request)));
    shuttle(&p, 8192);
    assert_int_equal(p.in_len, strlen(request));
    pair_free(&p);
    tlsterm_ctx_free(sctx);

    /* Key and certificate in one file, no key file. */
    sctx = NULL;
    assert_int_equal(tlsterm_ctx_new(both_pem, NULL, NULL, &sctx, err, sizeof(err)), 0);
    assert_true(pair_init(&p, sctx, cctx, NULL));
    shuttle(&p, 8192);
    assert_true(tlsterm_handshake_done(p.s));
    got = SSL_get1_peer_certificate(p.c);
    assert_int_equal(X509_cmp(got, leaf), 0);
    X509_free(got);
    pair_free(&p);
    tlsterm_ctx_free(sctx);
    SSL_CTX_free(cctx);

    /* Errors: each names the file at fault, and leaves nothing behind. */
    const char *missing = path_of("missing.pem");
    const char *other_pem = write_pem("other-key.pem", NULL, other, NULL, NULL);
    const char *junk = write_pem("junk.pem", NULL, NULL, NULL, "this is not PEM\n");
    const char *junk_pem = write_pem(
        "junk2.pem", NULL, NULL, NULL,
        "-----BEGIN CERTIFICATE-----\nAAAAbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n");
    const char *junk_key =
        write_pem("junk-key.pem", NULL, NULL, NULL,
                  "-----BEGIN PRIVATE KEY-----\nAAAAbm90IGEga2V5\n-----END PRIVATE KEY-----\n");
    const char *enc_key = write_pem("enc-key.pem", NULL, key, "secret", NULL);
    const char *empty = write_pem("empty.pem", NULL, NULL, NULL, "");
    const char *rsa_pem = write_pem("rsa-key.pem", NULL, rsa, NULL, NULL);
    static const struct {
        int cert, key;    /* indexes into files[] below, -1 for NULL */
        int rc;           /* 1: any negative code */
        int names;        /* the file the message must name */
        const char *says; /* and what it must say */
    } cases[] = {
        { 0, 1, SK_ERR(ENOENT), 0, "No such file or directory" }, /* missing certificate */
        { 2, 0, SK_ERR(ENOENT), 0, "No such file or directory" }, /* missing key */
        { 2, 3, SK_EINVAL, 3, "does not match" },                 /* key of another certificate */
        { 2, 9, SK_EINVAL, 9, "does not match" },                 /* key of another type */
        { 4, 1, SK_EINVAL, 4, "certificate" },                    /* no PEM at all */
        { 5, 1, SK_EINVAL, 5, "certificate" },                    /* PEM, no certificate in it */
        { 2, 6, SK_EINVAL, 6, "private key" },                    /* PEM, but no key in it */
        { 2, 4, SK_EINVAL, 4, "private key" },                    /* no PEM as the key */
        { 2, 7, 1, 7, "encrypted" },               /* encrypted key: refused, not asked for */
        { 8, 1, SK_EINVAL, 8, "certificate" },     /* empty file */
        { 2, -1, SK_EINVAL, 2, "no private key" }, /* no key file, no key with the certificate */
        { -1, 1, SK_EINVAL, 1, "without a certificate" }, /* a key without a certificate */
    };
    const char *files[] = { missing,  key_pem,  cert_pem, other_pem, junk,
                            junk_pem, junk_key, enc_key,  empty,     rsa_pem };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct tlsterm_ctx *bad = (struct tlsterm_ctx *)1;
        memset(err, 0, sizeof(err));
        const char *cf = cases[i].cert >= 0 ? files[cases[i].cert] : NULL;
        const char *kf = cases[i].key >= 0 ? files[cases[i].key] : NULL;
        int rc = tlsterm_ctx_new(cf, kf, "x.test", &bad, err, sizeof(err));
        if (strstr(err, files[cases[i].names]) == NULL || strstr(err, cases[i].says) == NULL ||
            rc >= 0)
            fprintf(stderr, "case %zu: rc %d: %s\n", i, rc, err);
        assert_true(rc < 0);
        if (cases[i].rc != 1)
            assert_int_equal(rc, cases[i].rc);
        assert_null(bad);
        assert_non_null(strstr(err, files[cases[i].names]));
        assert_non_null(strstr(err, cases[i].says));
        assert_int_equal(ERR_peek_error(), 0);
    }
    /* A missing file says so, with OpenSSL's reason. */
    memset(err, 0, sizeof(err));
    struct tlsterm_ctx *bad = NULL;
    assert_true(tlsterm_ctx_new(missing, key_pem, NULL, &bad, err, sizeof(err)) < 0);
    assert_non_null(strstr(err, "No such file or directory"));
    /* A short buffer still gets a terminated message. */
    char small[16];
    memset(small, 'z', sizeof(small));
    assert_true(tlsterm_ctx_new(missing, key_pem, NULL, &bad, small, sizeof(small)) < 0);
    assert_int_equal(strlen(small), sizeof(small) - 1);

    X509_free(leaf);
    X509_free(ca);
    EVP_PKEY_free(ca_key);
    EVP_PKEY_free(key);
    EVP_PKEY_free(other);
    EVP_PKEY_free(rsa);
}

/* ---- failures ---- */

static void test_plaintext_http(void **state)
{
    (void)state;
    struct tlsterm_ctx *sctx = gen_ctx("sinkhole.test");
    struct tlsterm *t = tlsterm_new(sctx);
    assert_non_null(t);
    assert_string_equal(tlsterm_last_error(t), "no error recorded");
    const char *http = "GET / HTTP/1.0\r\n\r\n";
    assert_int_equal(tlsterm_feed(t, (const uint8_t *)http, strlen(http)), 0);
    uint8_t buf[256];
    assert_int_equal(tlsterm_read(t, buf, sizeof(buf)), TLSTERM_ERROR);
    assert_false(tlsterm_handshake_done(t));
    const char *why = tlsterm_last_error(t);
    assert_non_null(why);
    assert_true(strlen(why) > 0);
    assert_string_not_equal(why, "no error recorded");
    assert_string_equal(why, "http request");
    assert_int_equal(ERR_peek_error(), 0); /* nothing left for the next connection */
    /* It stays failed; writes and shutdowns are refused quietly. */
    assert_int_equal(tlsterm_read(t, buf, sizeof(buf)), TLSTERM_ERROR);
    assert_string_equal(tlsterm_last_error(t), "http request");
    assert_int_equal(tlsterm_write(t, (const uint8_t *)"x", 1), TLSTERM_ERROR);
    size_t pend = tlsterm_pending_output(t);
    tlsterm_shutdown(t);
    assert_int_equal(tlsterm_pending_output(t), pend);
    assert_int_equal(ERR_peek_error(), 0);
    tlsterm_free(t);

    /* Random bytes that look like a handshake record. */
    t = tlsterm_new(sctx);
    static const uint8_t rec[] = { 0x16, 0x03, 0x01, 0x00, 0x08, 0x01, 0x00,
                                   0x00, 0x04, 0xde, 0xad, 0xbe, 0xef };
    assert_int_equal(tlsterm_feed(t, rec, sizeof(rec)), 0);
    assert_int_equal(tlsterm_read(t, buf, sizeof(buf)), TLSTERM_ERROR);
    assert_true(strlen(tlsterm_last_error(t)) > 0);
    assert_string_not_equal(tlsterm_last_error(t), "no error recorded");
    assert_true(tlsterm_pending_output(t) > 0); /* an alert */
    assert_int_equal(ERR_peek_error(), 0);
    tlsterm_free(t);

    /* A truncated record is only "need more". */
    t = tlsterm_new(sctx);
    assert_int_equal(tlsterm_feed(t, rec, 3), 0);
    assert_int_equal(tlsterm_read(t, buf, sizeof(buf)), 0);
    assert_int_equal(tlsterm_feed(t, NULL, 0), 0);
    assert_int_equal(tlsterm_read(t, buf, sizeof(buf)), 0);
    tlsterm_free(t);

    /* The same thread then finishes a handshake as if nothing happened. */
    round_trip(sctx, TLS1_3_VERSION, NULL, 8192, NULL);
    tlsterm_ctx_free(sctx);
}

static void test_refused_handshakes(void **state)
{
    (void)state;
    struct tlsterm_ctx *sctx = gen_ctx("sinkhole.test");
    /* DSS authentication only: there is no DSA certificate. */
    SSL_CTX *cctx = client_ctx(TLS1_2_VERSION, TLS1_2_VERSION, "DHE-DSS-AES128-SHA:@SECLEVEL=0");
    assert_non_null(cctx);
    struct pair p;
    assert_true(pair_init(&p, sctx, cctx, NULL));
    shuttle(&p, 8192);
    assert_int_equal(p.last, TLSTERM_ERROR);
    assert_string_equal(tlsterm_last_error(p.s), "no shared cipher");
    assert_false(tlsterm_handshake_done(p.s));
    assert_false(SSL_is_init_finished(p.c)); /* the client got the alert */
    assert_int_equal(tlsterm_write(p.s, (const uint8_t *)"x", 1), TLSTERM_ERROR);
    assert_int_equal(ERR_peek_error(), 0);
    ERR_clear_error(); /* the client's */
    pair_free(&p);
    SSL_CTX_free(cctx);

    /* Writing before the handshake is refused. */
    struct tlsterm *t = tlsterm_new(sctx);
    assert_int_equal(tlsterm_write(t, (const uint8_t *)"x", 1), TLSTERM_ERROR);
    assert_true(strlen(tlsterm_last_error(t)) > 0);
    assert_string_not_equal(tlsterm_last_error(t), "no error recorded");
    tlsterm_shutdown(t); /* nothing to close */
    assert_int_equal(tlsterm_pending_output(t), 0);
    tlsterm_free(t);
    tlsterm_free(NULL);

    /* A client that rejects the certificate: its alert is the reason. */
    cctx = client_ctx(TLS1_2_VERSION, TLS1_3_VERSION, NULL);
    SSL_CTX_set_verify(cctx, SSL_VERIFY_PEER, NULL); /* trusts nothing */
    assert_true(pair_init(&p, sctx, cctx, NULL));
    shuttle(&p, 8192);
    assert_int_equal(p.last, TLSTERM_ERROR);
    assert_non_null(strstr(tlsterm_last_error(p.s), "alert"));
    assert_false(tlsterm_handshake_done(p.s));
    ERR_clear_error();
    pair_free(&p);
    SSL_CTX_free(cctx);

    /* TLS 1.2 renegotiation is declined; the session goes on. */
    cctx = client_ctx(TLS1_2_VERSION, TLS1_2_VERSION, NULL);
    assert_true(pair_init(&p, sctx, cctx, NULL));
    shuttle(&p, 8192);
    assert_true(tlsterm_handshake_done(p.s));
    assert_int_equal(SSL_renegotiate(p.c), 1);
    (void)SSL_do_handshake(p.c);
    uint8_t buf[4096];
    int n;
    while ((n = BIO_read(SSL_get_wbio(p.c), buf, sizeof(buf))) > 0)
        assert_int_equal(tlsterm_feed(p.s, buf, (size_t)n), 0);
    assert_int_equal(tlsterm_read(p.s, buf, sizeof(buf)), 0);
    assert_true(tlsterm_handshake_done(p.s));
    assert_true(tlsterm_pending_output(p.s) > 0); /* a no_renegotiation alert */
    assert_int_equal(tlsterm_write(p.s, (const uint8_t *)reply, strlen(reply)), 0);
    ERR_clear_error();
    pair_free(&p);
    SSL_CTX_free(cctx);

    tlsterm_ctx_free(sctx);
}

/* A record changed on the way, after the handshake: the session fails,
 * and stays failed. */
static void test_corrupt_record(void **state)
{
    (void)state;
    struct tlsterm_ctx *sctx = gen_ctx("sinkhole.test");
    int versions[] = { TLS1_2_VERSION, TLS1_3_VERSION };
    for (size_t v = 0; v < 2; v++) {
        SSL_CTX *cctx = client_ctx(versions[v], versions[v], NULL);
        struct pair p;
        assert_true(pair_init(&p, sctx, cctx, NULL));
        shuttle(&p, 8192);
        assert_true(tlsterm_handshake_done(p.s));
        assert_true(client_write(&p, request, strlen(request)));
        uint8_t buf[4096];
        int n = BIO_read(SSL_get_wbio(p.c), buf, sizeof(buf));
        assert_true(n > 20);
        buf[n - 3] ^= 0x55;
        assert_int_equal(tlsterm_feed(p.s, buf, (size_t)n), 0);
        assert_int_equal(tlsterm_read(p.s, buf, sizeof(buf)), TLSTERM_ERROR);
        assert_non_null(strstr(tlsterm_last_error(p.s), "bad record mac"));
        assert_false(tlsterm_handshake_done(p.s));
        assert_int_equal(ERR_peek_error(), 0);
        assert_int_equal(tlsterm_read(p.s, buf, sizeof(buf)), TLSTERM_ERROR);
        assert_int_equal(tlsterm_write(p.s, (const uint8_t *)reply, strlen(reply)), TLSTERM_ERROR);
        assert_non_null(strstr(tlsterm_last_error(p.s), "bad record mac"));
        size_t pend = tlsterm_pending_output(p.s); /* the alert */
        assert_true(pend > 0);
        tlsterm_shutdown(p.s);
        assert_int_equal(tlsterm_pending_output(p.s), pend);
        pair_free(&p);
        SSL_CTX_free(cctx);
    }
    tlsterm_ctx_free(sctx);
}

/* ---- one context, several threads ---- */

struct worker {
    pthread_t tid;
    struct tlsterm_ctx *sctx;
    int ok;
};

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    SSL_CTX *cctx = client_ctx(TLS1_2_VERSION, TLS1_3_VERSION, NULL);
    if (cctx == NULL)
        return NULL;
    for (int i = 0; i < 25; i++) {
        struct pair p;
        if (!pair_init(&p, w->sctx, cctx, NULL)) {
            pair_free(&p);
            break;
        }
        shuttle(&p, 8192);
        bool good = tlsterm_handshake_done(p.s) && client_write(&p, request, strlen(request));
        shuttle(&p, 8192);
        good = good && p.in_len == strlen(request) && memcmp(p.in, request, p.in_len) == 0 &&
               ERR_peek_error() == 0;
        pair_free(&p);
        if (good)
            w->ok++;
    }
    SSL_CTX_free(cctx);
    return NULL;
}

static void test_shared_ctx(void **state)
{
    (void)state;
    struct tlsterm_ctx *sctx = gen_ctx("sinkhole.test");
    struct worker w[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (struct worker){ .sctx = sctx };
        assert_int_equal(pthread_create(&w[i].tid, NULL, worker_main, &w[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        assert_int_equal(pthread_join(w[i].tid, NULL), 0);
        assert_int_equal(w[i].ok, 25);
    }
    /* Sessions keep the context alive past its free. */
    struct tlsterm *t = tlsterm_new(sctx);
    tlsterm_ctx_free(sctx);
    SSL_CTX *cctx = client_ctx(TLS1_3_VERSION, TLS1_3_VERSION, NULL);
    SSL *c = SSL_new(cctx);
    BIO *r = BIO_new(BIO_s_mem()), *wb = BIO_new(BIO_s_mem());
    SSL_set_bio(c, r, wb);
    SSL_set_connect_state(c);
    (void)SSL_do_handshake(c);
    uint8_t buf[4096];
    int n = BIO_read(wb, buf, sizeof(buf));
    assert_true(n > 0);
    assert_int_equal(tlsterm_feed(t, buf, (size_t)n), 0);
    assert_int_equal(tlsterm_read(t, buf, sizeof(buf)), 0);
    assert_true(tlsterm_pending_output(t) > 0);
    tlsterm_free(t);
    SSL_free(c);
    SSL_CTX_free(cctx);
    ERR_clear_error();
}

static int setup(void **state)
{
    (void)state;
    return mkdtemp(dir) == NULL ? -1 : 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[700];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tls12_tls13),         cmocka_unit_test(test_old_versions),
        cmocka_unit_test(test_bulk_and_key_update), cmocka_unit_test(test_small_reads_and_take),
        cmocka_unit_test(test_generated_cert),      cmocka_unit_test(test_rsa_key_exchange),
        cmocka_unit_test(test_generated_san),       cmocka_unit_test(test_files),
        cmocka_unit_test(test_plaintext_http),      cmocka_unit_test(test_refused_handshakes),
        cmocka_unit_test(test_corrupt_record),      cmocka_unit_test(test_shared_ctx),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
