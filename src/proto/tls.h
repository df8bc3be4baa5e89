/* proto/tls.h -- TLS ClientHello parser and JA3/JA4 fingerprints.
 *
 * Reads the ClientHello a client sends first, without OpenSSL and without
 * help from the client: pure functions over caller-owned bytes, no
 * allocation, every read bounds-checked. The hello may be split over
 * several handshake records (RFC 8446 5.1); the parser follows the records
 * without copying them. What a sinkhole logs and fingerprints is copied
 * into struct tls_hello, so it does not borrow the caller's buffer.
 *
 * Fingerprints:
 *  - JA3 (Salesforce): "SSLVersion,Ciphers,Extensions,EllipticCurves,
 *    EllipticCurvePointFormats" in decimal, '-' between values, GREASE
 *    values (RFC 8701) left out; the hash is the MD5 of that string.
 *  - JA4 (FoxIO, technical_details/JA4.md): e.g.
 *    t13d1516h2_8daaf6152771_e5627efa2ab1, and its raw (_r) and original
 *    order (_o, _ro) forms. GREASE values are ignored everywhere.
 * Lists longer than the capacities below are cut (truncated is set) and
 * the fingerprints are computed over what was kept; counts in JA4 still
 * use the real number. No client seen in practice comes near them. */
#ifndef SK_PROTO_TLS_H
#define SK_PROTO_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TLS_RECORD_HDR_LEN 5
#define TLS_RECORD_MAX     16384 /* plaintext record payload (RFC 8446 5.1) */
#define TLS_HELLO_MAX      65536 /* a longer ClientHello is treated as malformed */

#define TLS_CIPHERS_MAX  256
#define TLS_EXTS_MAX     64
#define TLS_GROUPS_MAX   64
#define TLS_SIGALGS_MAX  64
#define TLS_VERSIONS_MAX 16
#define TLS_POINTS_MAX   16
#define TLS_SNI_MAX      255
#define TLS_ALPN_MAX     255 /* bytes of the ALPN protocol list kept */

#define TLS_JA3_HASH_LEN 32   /* hex MD5 */
#define TLS_JA3_MAX      2560 /* JA3 string, with its NUL */
#define TLS_JA4_LEN      36   /* "t13d1516h2_8daaf6152771_e5627efa2ab1" */
#define TLS_JA4_RAW_MAX  2048 /* JA4_r / JA4_ro, with its NUL */

/* Extension types the parser reads. */
#define TLS_EXT_SERVER_NAME        0x0000
#define TLS_EXT_SUPPORTED_GROUPS   0x000a
#define TLS_EXT_EC_POINT_FORMATS   0x000b
#define TLS_EXT_SIGNATURE_ALGS     0x000d
#define TLS_EXT_ALPN               0x0010
#define TLS_EXT_SUPPORTED_VERSIONS 0x002b

enum tls_status {
    TLS_HELLO_OK = 0,    /* a whole ClientHello was parsed */
    TLS_HELLO_NEED_MORE, /* a prefix of one so far */
    TLS_HELLO_MALFORMED, /* not a ClientHello this parser accepts */
};

/* A parsed ClientHello. Lists keep wire order and GREASE values; counts
 * are those kept in the arrays. */
struct tls_hello {
    size_t len;              /* bytes of buf used: the records that held the hello */
    uint16_t record_version; /* version in the first record header */
    uint16_t legacy_version; /* client_version of the ClientHello */
    uint16_t version;        /* highest non-GREASE supported_versions entry, else legacy_version */
    uint8_t session_id_len;
    uint8_t n_compression;

    uint16_t ciphers[TLS_CIPHERS_MAX];
    uint16_t n_ciphers;
    uint16_t exts[TLS_EXTS_MAX]; /* extension types */
    uint16_t n_exts;
    uint16_t groups[TLS_GROUPS_MAX];
    uint16_t n_groups;
    uint16_t sigalgs[TLS_SIGALGS_MAX];
    uint16_t n_sigalgs;
    uint16_t versions[TLS_VERSIONS_MAX]; /* supported_versions */
    uint16_t n_versions;
    uint8_t points[TLS_POINTS_MAX]; /* ec_point_formats */
    uint8_t n_points;

    /* Non-GREASE entries on the wire, before any cut (JA4 counts these). */
    uint32_t ciphers_seen, exts_seen;
    bool truncated;     /* some list, the SNI or the ALPN list was cut */
    bool bad_extension; /* an extension's body did not parse; its type is kept */

    bool has_sni;              /* server_name extension present (JA4 'd') */
    char sni[TLS_SNI_MAX + 1]; /* first host_name, NUL-terminated; bytes as sent */
    uint16_t sni_len;

    bool has_alpn;              /* ALPN extension present */
    uint8_t alpn[TLS_ALPN_MAX]; /* protocol_name_list, wire form (length-prefixed names) */
    uint16_t alpn_len;
    uint8_t n_alpn; /* names in alpn[] */
};

/* Parse a ClientHello from TLS records at the start of buf[0..len): one or
 * more handshake records (type 22, version 0x03xx, 1..TLS_RECORD_MAX bytes)
 * carrying a ClientHello message of at most TLS_HELLO_MAX bytes. Other
 * bytes in the last record after the hello are not looked at. On
 * TLS_HELLO_OK *h is filled and h->len says how many bytes of buf the
 * records took. A buffer that is a strict prefix of a valid hello gives
 * TLS_HELLO_NEED_MORE. Malformed: a record that is not a handshake, a
 * handshake message that is not a ClientHello, lengths that do not add up
 * (including bytes after the extensions), a list of odd length. */
enum tls_status tls_parse_client_hello(const uint8_t *buf, size_t len,
                                       struct tls_hello *h /* OUT */);

/* The same for a bare handshake message (type 1, 24-bit length, body), as
 * QUIC CRYPTO frames carry it; record_version is 0. */
enum tls_status tls_parse_handshake(const uint8_t *buf, size_t len, struct tls_hello *h /* OUT */);

/* True for the GREASE values of RFC 8701 (0x0a0a, 0x1a1a, ... 0xfafa). */
bool tls_is_grease(uint16_t v);

/* The first ALPN protocol name: *name points into h->alpn. Returns its
 * length, 0 when there is none (no extension, empty list or empty name). */
size_t tls_alpn_first(const struct tls_hello *h, const uint8_t **name /* OUT */);

/* JA3 string into out[0..cap), NUL-terminated. Returns its length, or
 * SK_ENOSPACE if it does not fit (TLS_JA3_MAX always does). */
int tls_ja3_string(const struct tls_hello *h, char *out, size_t cap);

/* JA3 hash: lower-case hex MD5 of the JA3 string. Returns 0, or SK_EINVAL
 * if the MD5 digest is not available. */
int tls_ja3_hash(const struct tls_hello *h, char out[TLS_JA3_HASH_LEN + 1]);

/* JA4 variants: flags combine into JA4 (0), JA4_r (RAW), JA4_o (ORIGINAL)
 * and JA4_ro (RAW | ORIGINAL). QUIC or DTLS set the first character to 'q'
 * or 'd' (default 't', TLS over TCP). */
#define TLS_JA4_RAW      0x1u
#define TLS_JA4_ORIGINAL 0x2u
#define TLS_JA4_QUIC     0x4u
#define TLS_JA4_DTLS     0x8u

/* Write the JA4 fingerprint chosen by flags into out[0..cap),
 * NUL-terminated. Returns its length (TLS_JA4_LEN unless RAW), SK_ENOSPACE
 * if it does not fit (TLS_JA4_RAW_MAX always does), or SK_EINVAL if the
 * SHA-256 digest is not available. */
int tls_ja4(const struct tls_hello *h, unsigned flags, char *out, size_t cap);

#endif
