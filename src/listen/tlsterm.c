/* listen/tlsterm.c -- finishing a bot's TLS handshake over memory BIOs.
 *
 * The listener owns the socket: ciphertext read from the client goes into
 * a memory BIO (rbio), OpenSSL writes its records into another (wbio), and
 * the listener sends what it takes out of that one. Nothing here blocks.
 *
 * Memory is what limits how many connections the daemon holds, so a
 * session allocates nothing of its own: a struct tlsterm is the SSL object
 * itself (the type is never defined; the pointer is only converted back),
 * and its two BIOs hang off it. The handshake state is OpenSSL's; the
 * reason for a failure is kept as the SSL's app data, a pointer to a
 * static string, set only once a session has failed. The context is the
 * SSL_CTX, likewise.
 *
 * Every entry point leaves the calling thread's OpenSSL error queue empty,
 * so that errors of one connection never show up on the next one the
 * same worker thread handles. */
#include "listen/tlsterm.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/buffer.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "core/err.h"

/* A memory BIO's buffer only ever grows; once a BIO is empty and holds
 * more than this, it is replaced by a fresh one, so a connection that
 * once moved a large body does not keep the buffer for its lifetime. */
#define TLSTERM_BIO_KEEP 4096

#define TLSTERM_CN_MAX     64 /* X.509 ub-common-name */
#define TLSTERM_CERT_DAYS  1  /* notBefore: this many days before now */
#define TLSTERM_CERT_YEARS 10
#define TLSTERM_SERIAL_LEN 16

static SSL *sess(const struct tlsterm *t)
{
    return (SSL *)t;
}

static SSL_CTX *sctx(const struct tlsterm_ctx *ctx)
{
    return (SSL_CTX *)ctx;
}

/* ---- errors ---- */

/* Writes "what: <OpenSSL error>" into err[0..errlen) from the first entry
 * of the thread's error queue, clears the queue and returns the matching
 * code: the errno of a system error (a missing file), ENOMEM, or
 * SK_EINVAL for anything else (bad PEM, mismatched key, ...). */
static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    unsigned long e = ERR_get_error();
    int rc = SK_EINVAL;
    if (e != 0 && ERR_GET_LIB(e) == ERR_LIB_SYS && ERR_GET_REASON(e) > 0)
        rc = SK_ERR(ERR_GET_REASON(e));
    else if (e != 0 && ERR_GET_REASON(e) == ERR_R_MALLOC_FAILURE)
        rc = SK_ERR(ENOMEM);
    if (err != NULL && errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
        if (e != 0 && n >= 0 && (size_t)n + 3 < errlen) {
            char why[256];
            ERR_error_string_n(e, why, sizeof(why));
            snprintf(err + n, errlen - (size_t)n, ": %s", why);
        }
    }
    ERR_clear_error();
    return rc;
}

/* A session fails once and for all: after the first TLSTERM_ERROR every
 * read and write returns it again. OpenSSL alone would not say so: once
 * a fatal alert has come in, a second SSL_read() with an empty error
 * queue reports a clean close instead. */
static bool failed(const SSL *ssl)
{
    return SSL_get_app_data(ssl) != NULL;
}

/* Marks the session failed, keeping the first reason (a static string).
 * Setting app data allocates; should that fail, the session is marked
 * shut down both ways instead, which stops it all the same. */
static void set_reason(SSL *ssl, const char *why)
{
    if (failed(ssl))
        return;
    if (SSL_set_app_data(ssl, (void *)(uintptr_t)why) != 1)
        SSL_set_shutdown(ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
}

/* The reason for a session's failure from the error queue: the first
 * entry OpenSSL's TLS library raised ("no shared cipher", "decryption
 * failed or bad record mac"), which says more than what a lower layer
 * raised before it ("cipher operation failed"); else the first entry. */
static void set_reason_from_queue(SSL *ssl, const char *fallback)
{
    const char *first = NULL, *tls = NULL;
    unsigned long e;
    while ((e = ERR_get_error()) != 0) {
        const char *why = ERR_reason_error_string(e);
        if (why == NULL)
            continue;
        if (first == NULL)
            first = why;
        if (tls == NULL && ERR_GET_LIB(e) == ERR_LIB_SSL)
            tls = why;
    }
    set_reason(ssl, tls != NULL ? tls : first != NULL ? first : fallback);
}

/* ---- the generated certificate ---- */

/* A DNS name for subjectAltName: LDH labels (underscores allowed, bots'
 * names have them), an optional leading "*" label, no empty label. */
static bool looks_like_hostname(const char *s)
{
    size_t len = strlen(s), label = 0;
    if (len == 0 || len > 253)
        return false;
    if (s[0] == '*' && s[1] == '.')
        s += 2;
    else if (s[0] == '*')
        return false;
    for (const char *p = s;; p++) {
        char ch = *p;
        if (ch == '.' || ch == '\0') {
            if (label == 0 || label > 63 || p[-1] == '-')
                return false;
            if (ch == '\0')
                return true;
            label = 0;
            continue;
        }
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || ch == '_' || (ch == '-' && label > 0);
        if (!ok)
            return false;
        label++;
    }
}

/* subjectAltName for cn: an IP address for an address literal, a DNS
 * name for a host name, nothing otherwise. Returns 1, or 0 on failure. */
static int add_san(X509 *x, const char *cn)
{
    GENERAL_NAME *gn = NULL;
    ASN1_OCTET_STRING *ip = a2i_IPADDRESS(cn);
    if (ip != NULL) {
        gn = GENERAL_NAME_new();
        if (gn == NULL) {
            ASN1_OCTET_STRING_free(ip);
            return 0;
        }
        GENERAL_NAME_set0_value(gn, GEN_IPADD, ip);
    } else if (looks_like_hostname(cn)) {
        ASN1_IA5STRING *dns = ASN1_IA5STRING_new();
        gn = GENERAL_NAME_new();
        if (dns == NULL || gn == NULL || !ASN1_STRING_set(dns, cn, (int)strlen(cn))) {
            ASN1_IA5STRING_free(dns);
            GENERAL_NAME_free(gn);
            return 0;
        }
        GENERAL_NAME_set0_value(gn, GEN_DNS, dns);
    } else {
        return 1;
    }
    GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
    if (gens == NULL || !sk_GENERAL_NAME_push(gens, gn)) {
        GENERAL_NAME_free(gn);
        sk_GENERAL_NAME_free(gens);
        return 0;
    }
    int ok = X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0, X509V3_ADD_DEFAULT);
    GENERAL_NAMES_free(gens);
    return ok == 1;
}

/* A random positive 16-byte serial. The top bit is cleared (positive) and
 * the next one set, so the DER integer is always exactly 16 bytes. */
static int set_serial(X509 *x)
{
    unsigned char r[TLSTERM_SERIAL_LEN];
    if (RAND_bytes(r, sizeof(r)) != 1)
        return 0;
    r[0] = (unsigned char)((r[0] & 0x7f) | 0x40);
    BIGNUM *bn = BN_bin2bn(r, sizeof(r), NULL);
    int ok = bn != NULL && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
    BN_free(bn);
    return ok;
}

/* notBefore a day before now, notAfter ten calendar years after now. */
static int set_validity(X509 *x, time_t now)
{
    struct tm tm;
    if (gmtime_r(&now, &tm) == NULL)
        return 0;
    tm.tm_year += TLSTERM_CERT_YEARS;
    time_t until = timegm(&tm); /* 29 February becomes 1 March */
    if (until == (time_t)-1)
        return 0;
    return ASN1_TIME_set(X509_getm_notBefore(x), now - TLSTERM_CERT_DAYS * 86400L) != NULL &&
           ASN1_TIME_set(X509_getm_notAfter(x), until) != NULL;
}

/* A self-signed certificate for cn with key, valid from now (see
 * set_validity), installed in c. A context holds one certificate of each
 * key type, so this one goes beside those of other types. */
static int use_self_signed(SSL_CTX *c, EVP_PKEY *key, const char *cn, time_t now, char *err,
                           size_t errlen)
{
    int rc = 0;
    X509 *x = X509_new();
    X509_NAME *name = X509_NAME_new();
    BASIC_CONSTRAINTS *bc = BASIC_CONSTRAINTS_new();
    if (x == NULL || name == NULL || bc == NULL) {
        fail(err, errlen, "cannot make a certificate: out of memory");
        rc = SK_ERR(ENOMEM);
        goto out;
    }
    if (!X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1,
                                    0)) {
        rc = fail(err, errlen, "bad common name \"%s\"", cn);
        goto out;
    }
    bc->ca = 0;
    if (!X509_set_version(x, X509_VERSION_3) || !set_serial(x) || !set_validity(x, now) ||
        !X509_set_subject_name(x, name) || !X509_set_issuer_name(x, name) ||
        !X509_set_pubkey(x, key) ||
        X509_add1_ext_i2d(x, NID_basic_constraints, bc, 1, X509V3_ADD_DEFAULT) != 1 ||
        !add_san(x, cn)) {
        rc = fail(err, errlen, "cannot make a certificate for \"%s\"", cn);
        goto out;
    }
    if (X509_sign(x, key, EVP_sha256()) <= 0) {
        rc = fail(err, errlen, "cannot sign the certificate for \"%s\"", cn);
        goto out;
    }
    if (SSL_CTX_use_certificate(c, x) != 1 || SSL_CTX_use_PrivateKey(c, key) != 1 ||
        SSL_CTX_check_private_key(c) != 1)
        rc = fail(err, errlen, "cannot use the certificate generated for \"%s\"", cn);
out:
    BASIC_CONSTRAINTS_free(bc);
    X509_NAME_free(name);
    X509_free(x); /* the context holds its own references */
    return rc;
}

/* Two self-signed certificates for cn, alike but for their keys and
 * serials: EC P-256 for every client with elliptic curves, and RSA-2048
 * for the oldest, which offer RSA key exchange only (Windows XP's
 * schannel); OpenSSL picks the one that fits the suite it negotiates.
 * The RSA key takes a few hundred milliseconds to find. */
/* One RSA key per process, made the first time it is needed: generating
 * one takes 0.1 to 1 s, and every listener's RSA certificate can use the
 * same (the certificates differ; EC keys are cheap and stay per context).
 * Returns a new reference, or NULL. */
static EVP_PKEY *shared_rsa_key(void)
{
    static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    static EVP_PKEY *key;
    pthread_mutex_lock(&lock);
    if (key == NULL)
        key = EVP_RSA_gen(2048);
    EVP_PKEY *k = key != NULL && EVP_PKEY_up_ref(key) == 1 ? key : NULL;
    pthread_mutex_unlock(&lock);
    return k;
}

static int use_generated(SSL_CTX *c, const char *cn, char *err, size_t errlen)
{
    if (cn == NULL || cn[0] == '\0')
        return fail(err, errlen, "no common name for the generated certificate");
    if (strlen(cn) > TLSTERM_CN_MAX)
        return fail(err, errlen, "common name is longer than %d characters", TLSTERM_CN_MAX);

    time_t now = time(NULL);
    EVP_PKEY *ec = EVP_EC_gen("P-256");
    EVP_PKEY *rsa = ec != NULL ? shared_rsa_key() : NULL;
    int rc;
    if (rsa == NULL)
        rc = fail(err, errlen, "cannot generate an %s key", ec == NULL ? "EC P-256" : "RSA-2048");
    else if ((rc = use_self_signed(c, ec, cn, now, err, errlen)) == 0)
        rc = use_self_signed(c, rsa, cn, now, err, errlen);
    EVP_PKEY_free(ec);
    EVP_PKEY_free(rsa);
    return rc;
}

/* ---- certificate from files ---- */

/* A passphrase would be asked for on the terminal; the daemon has none,
 * so an encrypted key is refused instead. */
static int no_passphrase_cb(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return -1;
}

static int use_files(SSL_CTX *c, const char *cert_file, const char *key_file, char *err,
                     size_t errlen)
{
    SSL_CTX_set_default_passwd_cb(c, no_passphrase_cb);
    if (SSL_CTX_use_certificate_chain_file(c, cert_file) != 1)
        return fail(err, errlen, "cannot load certificate chain from %s", cert_file);
    if (SSL_CTX_use_PrivateKey_file(c, key_file, SSL_FILETYPE_PEM) != 1) {
        /* Say what went wrong in words, where OpenSSL's reason is obscure. */
        unsigned long e = ERR_peek_error();
        if (ERR_GET_LIB(e) == ERR_LIB_X509 && ERR_GET_REASON(e) == X509_R_KEY_VALUES_MISMATCH)
            return fail(err, errlen, "private key %s does not match certificate %s", key_file,
                        cert_file);
        if (ERR_GET_REASON(e) == ERR_R_INTERRUPTED_OR_CANCELLED)
            return fail(err, errlen, "private key %s is encrypted: no passphrase can be given",
                        key_file);
        if (key_file == cert_file)
            return fail(err, errlen, "no private key in %s (and no key file given)", key_file);
        return fail(err, errlen, "cannot load private key from %s", key_file);
    }
    /* A key of another type than the certificate's loads without error,
     * into a slot of its own; this check finds it. */
    if (SSL_CTX_check_private_key(c) != 1)
        return fail(err, errlen, "private key %s does not match certificate %s", key_file,
                    cert_file);
    return 0;
}

/* ---- context ---- */

int tlsterm_ctx_new(const char *cert_file, const char *key_file, const char *cn,
                    struct tlsterm_ctx **out /* OUT */, char *err, size_t errlen)
{
    *out = NULL;
    if (err != NULL && errlen > 0)
        err[0] = '\0';
    if (cert_file != NULL && cert_file[0] == '\0')
        cert_file = NULL;
    if (key_file != NULL && key_file[0] == '\0')
        key_file = NULL;
    ERR_clear_error();
    if (cert_file == NULL && key_file != NULL)
        return fail(err, errlen, "private key %s given without a certificate", key_file);

    SSL_CTX *c = SSL_CTX_new(TLS_server_method());
    if (c == NULL)
        return fail(err, errlen, "cannot make a TLS context");
    /* Bots are old: TLS 1.0 up, and security level 0, so that SHA-1
     * signatures and old CBC suites can still finish a handshake. Both are
     * set after SSL_CTX_new, which applies the system configuration. */
    SSL_CTX_set_security_level(c, 0);
    if (SSL_CTX_set_min_proto_version(c, TLS1_VERSION) != 1 ||
        SSL_CTX_set_max_proto_version(c, TLS1_3_VERSION) != 1 ||
        SSL_CTX_set_cipher_list(c, "DEFAULT:@SECLEVEL=0") != 1) {
        int rc = fail(err, errlen, "cannot set TLS versions and ciphers");
        SSL_CTX_free(c);
        return rc;
    }
    /* SSL_OP_ALL: workarounds for old clients' bugs. No tickets, no
     * session cache (nothing resumes, and the context is never written
     * once shared), no renegotiation. */
    SSL_CTX_set_options(c, SSL_OP_ALL | SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION |
                               SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_num_tickets(c, 0);
    SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_read_ahead(c, 0);
    /* Idle sessions give their record buffers back. */
    SSL_CTX_set_mode(c, SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_verify(c, SSL_VERIFY_NONE, NULL);

    int rc = cert_file != NULL
                 ? use_files(c, cert_file, key_file != NULL ? key_file : cert_file, err, errlen)
                 : use_generated(c, cn, err, errlen);
    ERR_clear_error();
    if (rc != 0) {
        SSL_CTX_free(c);
        return rc;
    }
    *out = (struct tlsterm_ctx *)c;
    return 0;
}

void tlsterm_ctx_free(struct tlsterm_ctx *ctx)
{
    /* Sessions hold references of their own: any still open stay valid. */
    SSL_CTX_free(sctx(ctx));
}

/* ---- sessions ---- */

static BIO *mem_bio(void)
{
    BIO *b = BIO_new(BIO_s_mem());
    if (b != NULL)
        BIO_set_mem_eof_return(b, -1); /* empty is "retry", never end of file */
    return b;
}

struct tlsterm *tlsterm_new(struct tlsterm_ctx *ctx)
{
    SSL *ssl = SSL_new(sctx(ctx));
    BIO *r = mem_bio(), *w = mem_bio();
    if (ssl == NULL || r == NULL || w == NULL) {
        SSL_free(ssl);
        BIO_free(r);
        BIO_free(w);
        ERR_clear_error();
        return NULL;
    }
    SSL_set_bio(ssl, r, w); /* the SSL owns both from here */
    SSL_set_accept_state(ssl);
    ERR_clear_error();
    return (struct tlsterm *)ssl;
}

void tlsterm_free(struct tlsterm *t)
{
    SSL_free(sess(t)); /* and both BIOs */
    ERR_clear_error();
}

/* Replaces an empty memory BIO whose buffer has grown past
 * TLSTERM_BIO_KEEP by a fresh one (see above). Keeps the old one if the
 * new one cannot be had. */
static void trim_bio(SSL *ssl, bool reading)
{
    BIO *b = reading ? SSL_get_rbio(ssl) : SSL_get_wbio(ssl);
    BUF_MEM *bm = NULL;
    if (b == NULL || BIO_ctrl_pending(b) != 0)
        return;
    BIO_get_mem_ptr(b, &bm);
    if (bm == NULL || bm->max <= TLSTERM_BIO_KEEP)
        return;
    BIO *nb = mem_bio();
    if (nb == NULL)
        return;
    if (reading)
        SSL_set0_rbio(ssl, nb); /* frees the old one */
    else
        SSL_set0_wbio(ssl, nb);
}

int tlsterm_feed(struct tlsterm *t, const uint8_t *p, size_t len)
{
    BIO *rb = SSL_get_rbio(sess(t));
    int rc = 0;
    while (len > 0) {
        int chunk = len > INT_MAX ? INT_MAX : (int)len;
        int n = BIO_write(rb, p, chunk);
        if (n <= 0) {
            rc = SK_ERR(ENOMEM); /* a memory BIO fails only so */
            break;
        }
        p += n;
        len -= (size_t)n;
    }
    ERR_clear_error();
    return rc;
}

ssize_t tlsterm_read(struct tlsterm *t, uint8_t *out, size_t cap)
{
    SSL *ssl = sess(t);
    size_t n = 0;
    int ok;
    /* SSL_get_error() looks at the queue: it must start empty. */
    ERR_clear_error();
    if (failed(ssl))
        return TLSTERM_ERROR;
    if (cap > SSIZE_MAX)
        cap = SSIZE_MAX;
    if (cap == 0)
        ok = SSL_is_init_finished(ssl) ? 1 : SSL_do_handshake(ssl);
    else
        ok = SSL_read_ex(ssl, out, cap, &n);
    ssize_t ret;
    if (ok == 1) {
        ret = (ssize_t)n;
    } else {
        switch (SSL_get_error(ssl, ok)) {
        case SSL_ERROR_WANT_READ:
        case SSL_ERROR_WANT_WRITE: /* a memory BIO always takes writes */
            ret = 0;
            break;
        case SSL_ERROR_ZERO_RETURN:
            ret = TLSTERM_CLOSED;
            break;
        default:
            set_reason_from_queue(ssl, SSL_is_init_finished(ssl) ? "TLS record error"
                                                                 : "TLS handshake failed");
            ret = TLSTERM_ERROR;
            break;
        }
    }
    if (ret >= 0)
        trim_bio(ssl, true);
    ERR_clear_error();
    return ret;
}

int tlsterm_write(struct tlsterm *t, const uint8_t *p, size_t len)
{
    SSL *ssl = sess(t);
    int rc = 0;
    ERR_clear_error();
    if (failed(ssl))
        return TLSTERM_ERROR;
    if (!SSL_is_init_finished(ssl)) {
        set_reason(ssl, "write before the handshake finished");
        return TLSTERM_ERROR;
    }
    while (len > 0) {
        size_t n = 0;
        if (SSL_write_ex(ssl, p, len, &n) != 1) {
            set_reason_from_queue(ssl, "TLS write failed");
            rc = TLSTERM_ERROR;
            break;
        }
        p += n;
        len -= n;
    }
    ERR_clear_error();
    return rc;
}

void tlsterm_shutdown(struct tlsterm *t)
{
    SSL *ssl = sess(t);
    ERR_clear_error();
    /* OpenSSL refuses a shutdown in the middle of a handshake or after a
     * fatal error; there is nothing to close cleanly then. */
    if (SSL_is_init_finished(ssl) && !failed(ssl) && !(SSL_get_shutdown(ssl) & SSL_SENT_SHUTDOWN))
        (void)SSL_shutdown(ssl);
    ERR_clear_error();
}

size_t tlsterm_take_output(struct tlsterm *t, uint8_t *out, size_t cap)
{
    SSL *ssl = sess(t);
    int want = cap > INT_MAX ? INT_MAX : (int)cap;
    if (want == 0)
        return 0;
    int n = BIO_read(SSL_get_wbio(ssl), out, want);
    if (n > 0)
        trim_bio(ssl, false);
    ERR_clear_error();
    return n > 0 ? (size_t)n : 0;
}

size_t tlsterm_pending_output(const struct tlsterm *t)
{
    return BIO_ctrl_pending(SSL_get_wbio(sess(t)));
}

bool tlsterm_handshake_done(const struct tlsterm *t)
{
    return SSL_is_init_finished(sess(t)) == 1 && !failed(sess(t));
}

const char *tlsterm_last_error(const struct tlsterm *t)
{
    const char *why = SSL_get_app_data(sess(t));
    return why != NULL ? why : "no error recorded";
}
