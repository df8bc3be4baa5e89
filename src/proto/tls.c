/* proto/tls.c -- TLS ClientHello parser and JA3/JA4 fingerprints.
 *
 * The hello is read through a cursor (struct rd) that walks the record
 * layer on its own: when a record's payload is used up it checks the next
 * record header and goes on, so a fragmented hello is read in place. The
 * cursor also counts down the handshake message length, so no read can go
 * past the message, and it tells "ran out of input" (need more) from
 * "lengths do not add up" (malformed). Errors are decided only from bytes
 * already read, which is why a strict prefix of a valid hello is always
 * "need more".
 *
 * Extension bodies are read against their own length: a body whose inner
 * lengths are inconsistent is skipped and flagged, not fatal, so that even
 * a sloppy client still gets fingerprinted and logged. */
#include "proto/tls.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"

#define HS_CLIENT_HELLO 1
#define CT_HANDSHAKE    22

enum rd_err { RD_OK = 0, RD_SHORT, RD_BAD };

struct rd {
    const uint8_t *buf;
    size_t len;     /* bytes available in buf */
    size_t pos;     /* next byte of buf */
    size_t rec_end; /* end of the current record payload (records mode) */
    bool records;   /* walk record headers */
    size_t left;    /* bytes left in the handshake message body */
    int err;
};

/* Move to the next record if the current one is used up. */
static bool rd_record(struct rd *r)
{
    if (!r->records || r->pos < r->rec_end)
        return true;
    if (r->len - r->pos < TLS_RECORD_HDR_LEN) {
        /* Check what is there already, so garbage is not "need more". */
        size_t n = r->len - r->pos;
        const uint8_t *p = r->buf + r->pos;
        if ((n > 0 && p[0] != CT_HANDSHAKE) || (n > 1 && p[1] != 3))
            r->err = RD_BAD;
        else
            r->err = RD_SHORT;
        return false;
    }
    const uint8_t *p = r->buf + r->pos;
    size_t rl = (size_t)p[3] << 8 | p[4];
    if (p[0] != CT_HANDSHAKE || p[1] != 3 || rl == 0 || rl > TLS_RECORD_MAX) {
        r->err = RD_BAD;
        return false;
    }
    r->pos += TLS_RECORD_HDR_LEN;
    r->rec_end = r->pos + rl;
    return true;
}

/* One byte of the handshake message (header included when left is
 * SIZE_MAX, i.e. before the length is known). */
static unsigned rd_u8(struct rd *r)
{
    if (r->err)
        return 0;
    if (r->left == 0) {
        r->err = RD_BAD;
        return 0;
    }
    if (!rd_record(r))
        return 0;
    if (r->pos >= r->len) {
        r->err = RD_SHORT;
        return 0;
    }
    r->left--;
    return r->buf[r->pos++];
}

static unsigned rd_u16(struct rd *r)
{
    unsigned hi = rd_u8(r);
    return hi << 8 | rd_u8(r);
}

static void rd_skip(struct rd *r, size_t n)
{
    while (n-- > 0 && !r->err)
        (void)rd_u8(r);
}

bool tls_is_grease(uint16_t v)
{
    return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

/* ---- extension bodies ---- */

/* Read a list of n2 bytes of 16-bit values into arr (up to cap kept). */
static void read_u16_list(struct rd *r, size_t n2, uint16_t *arr, uint16_t *count, size_t cap,
                          struct tls_hello *h)
{
    for (size_t i = 0; i < n2 / 2; i++) {
        uint16_t v = (uint16_t)rd_u16(r);
        if (*count < cap)
            arr[(*count)++] = v;
        else
            h->truncated = true;
    }
}

/* A 16-bit-length-prefixed list of 16-bit values filling the body. */
static void ext_u16_list16(struct rd *r, size_t elen, uint16_t *arr, uint16_t *count, size_t cap,
                           struct tls_hello *h)
{
    if (elen < 2) {
        h->bad_extension = true;
        rd_skip(r, elen);
        return;
    }
    size_t n = rd_u16(r);
    if (n != elen - 2 || n % 2) {
        h->bad_extension = true;
        rd_skip(r, elen - 2);
        return;
    }
    read_u16_list(r, n, arr, count, cap, h);
}

static void ext_supported_versions(struct rd *r, size_t elen, struct tls_hello *h)
{
    size_t n = elen >= 1 ? rd_u8(r) : 0;
    if (elen < 1 || n != elen - 1 || n % 2) {
        h->bad_extension = true;
        rd_skip(r, elen >= 1 ? elen - 1 : 0);
        return;
    }
    read_u16_list(r, n, h->versions, &h->n_versions, TLS_VERSIONS_MAX, h);
}

static void ext_point_formats(struct rd *r, size_t elen, struct tls_hello *h)
{
    size_t n = elen >= 1 ? rd_u8(r) : 0;
    if (elen < 1 || n != elen - 1) {
        h->bad_extension = true;
        rd_skip(r, elen >= 1 ? elen - 1 : 0);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        uint8_t v = (uint8_t)rd_u8(r);
        if (h->n_points < TLS_POINTS_MAX)
            h->points[h->n_points++] = v;
        else
            h->truncated = true;
    }
}

static void ext_server_name(struct rd *r, size_t elen, struct tls_hello *h)
{
    h->has_sni = true;
    if (elen == 0)
        return;
    size_t n = elen >= 2 ? rd_u16(r) : 0;
    if (elen < 2 || n != elen - 2) {
        h->bad_extension = true;
        rd_skip(r, elen >= 2 ? elen - 2 : elen);
        return;
    }
    bool got = false;
    while (n > 0 && !r->err) {
        if (n < 3) {
            h->bad_extension = true;
            rd_skip(r, n);
            return;
        }
        unsigned type = rd_u8(r);
        size_t nl = rd_u16(r);
        n -= 3;
        if (nl > n) {
            h->bad_extension = true;
            rd_skip(r, n);
            return;
        }
        for (size_t i = 0; i < nl; i++) {
            uint8_t c = (uint8_t)rd_u8(r);
            if (type != 0 || got)
                continue;
            if (i < TLS_SNI_MAX)
                h->sni[i] = (char)c;
            else
                h->truncated = true;
        }
        if (type == 0 && !got) {
            got = true;
            h->sni_len = (uint16_t)(nl < TLS_SNI_MAX ? nl : TLS_SNI_MAX);
            h->sni[h->sni_len] = '\0';
        }
        n -= nl;
    }
}

static void ext_alpn(struct rd *r, size_t elen, struct tls_hello *h)
{
    h->has_alpn = true;
    size_t n = elen >= 2 ? rd_u16(r) : 0;
    if (elen < 2 || n != elen - 2) {
        h->bad_extension = true;
        rd_skip(r, elen >= 2 ? elen - 2 : elen);
        return;
    }
    bool full = false;
    while (n > 0 && !r->err) {
        size_t pl = rd_u8(r);
        n--;
        if (pl > n) {
            h->bad_extension = true;
            rd_skip(r, n);
            return;
        }
        /* Keep whole names only, as many as fit. */
        if (!full && h->alpn_len + 1 + pl > TLS_ALPN_MAX)
            full = h->truncated = true;
        if (!full) {
            h->alpn[h->alpn_len++] = (uint8_t)pl;
            for (size_t i = 0; i < pl; i++)
                h->alpn[h->alpn_len++] = (uint8_t)rd_u8(r);
            h->n_alpn++;
        } else {
            rd_skip(r, pl);
        }
        n -= pl;
    }
}

static bool seen_ext(const struct tls_hello *h, uint16_t type)
{
    /* The last entry is the extension being read. */
    for (uint16_t i = 0; i + 1 < h->n_exts; i++)
        if (h->exts[i] == type)
            return true;
    return false;
}

static void extension(struct rd *r, uint16_t type, size_t elen, struct tls_hello *h)
{
    /* A repeated extension is illegal (RFC 8446 4.2); only the first one's
     * contents are read. */
    if (seen_ext(h, type)) {
        rd_skip(r, elen);
        return;
    }
    switch (type) {
    case TLS_EXT_SERVER_NAME:
        ext_server_name(r, elen, h);
        break;
    case TLS_EXT_SUPPORTED_GROUPS:
        ext_u16_list16(r, elen, h->groups, &h->n_groups, TLS_GROUPS_MAX, h);
        break;
    case TLS_EXT_EC_POINT_FORMATS:
        ext_point_formats(r, elen, h);
        break;
    case TLS_EXT_SIGNATURE_ALGS:
        ext_u16_list16(r, elen, h->sigalgs, &h->n_sigalgs, TLS_SIGALGS_MAX, h);
        break;
    case TLS_EXT_ALPN:
        ext_alpn(r, elen, h);
        break;
    case TLS_EXT_SUPPORTED_VERSIONS:
        ext_supported_versions(r, elen, h);
        break;
    default:
        rd_skip(r, elen);
        break;
    }
}

/* ---- the hello ---- */

static enum tls_status parse(struct rd *r, struct tls_hello *h)
{
    memset(h, 0, sizeof(*h));
    r->left = SIZE_MAX;
    if (r->records) {
        if (!rd_record(r))
            goto out;
        h->record_version = (uint16_t)(r->buf[1] << 8 | r->buf[2]);
    }

    if (rd_u8(r) != HS_CLIENT_HELLO) {
        if (!r->err)
            r->err = RD_BAD;
        goto out;
    }
    size_t mlen = rd_u8(r) << 16;
    mlen |= rd_u16(r);
    if (r->err)
        goto out;
    if (mlen > TLS_HELLO_MAX) {
        r->err = RD_BAD;
        goto out;
    }
    r->left = mlen;

    h->legacy_version = (uint16_t)rd_u16(r);
    rd_skip(r, 32); /* random */
    h->session_id_len = (uint8_t)rd_u8(r);
    if (h->session_id_len > 32 && !r->err) {
        r->err = RD_BAD;
        goto out;
    }
    rd_skip(r, h->session_id_len);

    size_t cl = rd_u16(r);
    if (!r->err && (cl % 2 || cl > r->left)) {
        r->err = RD_BAD;
        goto out;
    }
    for (size_t i = 0; i < cl / 2 && !r->err; i++) {
        uint16_t c = (uint16_t)rd_u16(r);
        if (!tls_is_grease(c))
            h->ciphers_seen++;
        if (h->n_ciphers < TLS_CIPHERS_MAX)
            h->ciphers[h->n_ciphers++] = c;
        else
            h->truncated = true;
    }

    h->n_compression = (uint8_t)rd_u8(r);
    rd_skip(r, h->n_compression);

    /* Extensions are optional (RFC 5246 7.4.1.2); when present their
     * block must end the message exactly. */
    if (!r->err && r->left > 0) {
        size_t el = rd_u16(r);
        if (!r->err && el != r->left) {
            r->err = RD_BAD;
            goto out;
        }
        while (r->left > 0 && !r->err) {
            uint16_t type = (uint16_t)rd_u16(r);
            size_t elen = rd_u16(r);
            if (r->err)
                break;
            if (elen > r->left) {
                r->err = RD_BAD;
                break;
            }
            if (!tls_is_grease(type))
                h->exts_seen++;
            if (h->n_exts < TLS_EXTS_MAX) {
                h->exts[h->n_exts++] = type;
                extension(r, type, elen, h);
            } else {
                h->truncated = true;
                rd_skip(r, elen);
            }
        }
    }
    if (r->err)
        goto out;

    /* The whole record that ends the hello must be there. */
    if (r->records && r->rec_end > r->len) {
        r->err = RD_SHORT;
        goto out;
    }
    h->len = r->records ? r->rec_end : r->pos;

    h->version = h->legacy_version;
    bool have = false;
    for (uint16_t i = 0; i < h->n_versions; i++) {
        uint16_t v = h->versions[i];
        if (!tls_is_grease(v) && (!have || v > h->version)) {
            h->version = v;
            have = true;
        }
    }
out:
    if (r->err == RD_SHORT)
        return TLS_HELLO_NEED_MORE;
    if (r->err == RD_BAD)
        return TLS_HELLO_MALFORMED;
    return TLS_HELLO_OK;
}

enum tls_status tls_parse_client_hello(const uint8_t *buf, size_t len, struct tls_hello *h)
{
    struct rd r = { .buf = buf, .len = len, .records = true };
    return parse(&r, h);
}

enum tls_status tls_parse_handshake(const uint8_t *buf, size_t len, struct tls_hello *h)
{
    struct rd r = { .buf = buf, .len = len, .records = false };
    return parse(&r, h);
}

size_t tls_alpn_first(const struct tls_hello *h, const uint8_t **name)
{
    *name = NULL;
    if (h->n_alpn == 0 || h->alpn[0] == 0)
        return 0;
    *name = h->alpn + 1;
    return h->alpn[0];
}

/* ---- fingerprints ---- */

/* Appends to out[0..cap); remembers when something did not fit. */
struct sbuf {
    char *p;
    size_t cap, len;
    bool over;
};

static void sb_str(struct sbuf *s, const char *str);

/* v in decimal, or as 4 lower-case hex digits. */
static void sb_num(struct sbuf *s, unsigned v, bool hex4)
{
    char tmp[8];
    size_t n = 0;
    if (hex4) {
        for (int shift = 12; shift >= 0; shift -= 4)
            tmp[n++] = "0123456789abcdef"[(v >> shift) & 0xf];
    } else {
        char rev[8];
        size_t k = 0;
        do {
            rev[k++] = (char)('0' + v % 10);
            v /= 10;
        } while (v > 0);
        while (k > 0)
            tmp[n++] = rev[--k];
    }
    tmp[n] = '\0';
    sb_str(s, tmp);
}

static void sb_str(struct sbuf *s, const char *str)
{
    size_t n = strlen(str);
    if (s->over || n >= s->cap - s->len) {
        s->over = true;
        return;
    }
    memcpy(s->p + s->len, str, n + 1);
    s->len += n;
}

/* "v1<sep>v2..." of the non-GREASE values, each with fmt. */
static void sb_list(struct sbuf *s, const uint16_t *v, size_t n, bool hex4, const char *sep)
{
    bool first = true;
    for (size_t i = 0; i < n; i++) {
        if (tls_is_grease(v[i]))
            continue;
        if (!first)
            sb_str(s, sep);
        sb_num(s, v[i], hex4);
        first = false;
    }
}

int tls_ja3_string(const struct tls_hello *h, char *out, size_t cap)
{
    if (cap == 0)
        return SK_ENOSPACE;
    struct sbuf s = { out, cap, 0, false };
    out[0] = '\0';
    sb_num(&s, h->legacy_version, false);
    sb_str(&s, ",");
    sb_list(&s, h->ciphers, h->n_ciphers, false, "-");
    sb_str(&s, ",");
    sb_list(&s, h->exts, h->n_exts, false, "-");
    sb_str(&s, ",");
    sb_list(&s, h->groups, h->n_groups, false, "-");
    sb_str(&s, ",");
    for (uint8_t i = 0; i < h->n_points; i++) {
        if (i > 0)
            sb_str(&s, "-");
        sb_num(&s, h->points[i], false);
    }
    if (s.over) {
        out[0] = '\0';
        return SK_ENOSPACE;
    }
    return (int)s.len;
}

static const char hexdig[] = "0123456789abcdef";

static int digest_hex(const EVP_MD *md, const void *data, size_t len, char *out, size_t nhex)
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int dl = 0;
    if (md == NULL || EVP_Digest(data, len, d, &dl, md, NULL) != 1 || dl * 2 < nhex)
        return SK_EINVAL;
    for (size_t i = 0; i < nhex; i++)
        out[i] = hexdig[(d[i / 2] >> (i % 2 ? 0 : 4)) & 0xf];
    out[nhex] = '\0';
    return 0;
}

int tls_ja3_hash(const struct tls_hello *h, char out[TLS_JA3_HASH_LEN + 1])
{
    char str[TLS_JA3_MAX];
    int n = tls_ja3_string(h, str, sizeof(str));
    if (n < 0)
        return n;
    return digest_hex(EVP_md5(), str, (size_t)n, out, TLS_JA3_HASH_LEN);
}

static const char *ja4_version(uint16_t v)
{
    switch (v) {
    case 0x0304:
        return "13";
    case 0x0303:
        return "12";
    case 0x0302:
        return "11";
    case 0x0301:
        return "10";
    case 0x0300:
        return "s3";
    case 0x0002:
    case 0x0200:
        return "s2";
    case 0x0100:
        return "s1";
    case 0xfeff:
        return "d1";
    case 0xfefd:
        return "d2";
    case 0xfefc:
        return "d3";
    }
    return "00";
}

static bool is_alnum(uint8_t c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* First and last characters of the first ALPN name (JA4.md "ALPN
 * Extension Value"): "00" when there is none; the hex form's first and
 * last digits when either end byte is not alphanumeric. */
static void ja4_alpn(const struct tls_hello *h, char out[3])
{
    const uint8_t *p;
    size_t n = tls_alpn_first(h, &p);
    if (n == 0) {
        out[0] = out[1] = '0';
    } else if (is_alnum(p[0]) && is_alnum(p[n - 1])) {
        out[0] = (char)p[0];
        out[1] = (char)p[n - 1];
    } else {
        out[0] = hexdig[p[0] >> 4];
        out[1] = hexdig[p[n - 1] & 0xf];
    }
    out[2] = '\0';
}

static int cmp_u16(const void *a, const void *b)
{
    return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

/* Non-GREASE values of v, sorted or in wire order, into out (at most
 * TLS_CIPHERS_MAX). With drop_sni_alpn, extensions 0x0000 and 0x0010 are
 * left out too. Returns the count. */
static size_t ja4_values(const uint16_t *v, size_t n, bool sorted, bool drop_sni_alpn,
                         uint16_t *out)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (tls_is_grease(v[i]))
            continue;
        if (drop_sni_alpn && (v[i] == TLS_EXT_SERVER_NAME || v[i] == TLS_EXT_ALPN))
            continue;
        out[k++] = v[i];
    }
    if (sorted)
        qsort(out, k, sizeof(out[0]), cmp_u16);
    return k;
}

/* One section of JA4: raw text into s, or its truncated SHA-256 (12 hex
 * digits; "000000000000" when the list is empty). */
static int ja4_section(struct sbuf *s, bool raw, const uint16_t *v, size_t n, const uint16_t *sig,
                       size_t nsig)
{
    char text[TLS_JA4_RAW_MAX];
    struct sbuf t = { text, sizeof(text), 0, false };
    text[0] = '\0';
    sb_list(&t, v, n, true, ",");
    if (nsig > 0) {
        sb_str(&t, "_");
        sb_list(&t, sig, nsig, true, ",");
    }
    if (t.over)
        return SK_ENOSPACE;
    if (raw) {
        sb_str(s, text);
        return 0;
    }
    char hash[13];
    if (n == 0) {
        memcpy(hash, "000000000000", 13);
    } else {
        int rc = digest_hex(EVP_sha256(), text, t.len, hash, 12);
        if (rc != 0)
            return rc;
    }
    sb_str(s, hash);
    return 0;
}

int tls_ja4(const struct tls_hello *h, unsigned flags, char *out, size_t cap)
{
    if (cap == 0)
        return SK_ENOSPACE;
    bool raw = flags & TLS_JA4_RAW;
    bool orig = flags & TLS_JA4_ORIGINAL;
    struct sbuf s = { out, cap, 0, false };
    out[0] = '\0';

    char a[16];
    char alpn[3];
    ja4_alpn(h, alpn);
    unsigned nc = h->ciphers_seen > 99 ? 99 : h->ciphers_seen;
    unsigned ne = h->exts_seen > 99 ? 99 : h->exts_seen;
    snprintf(a, sizeof(a), "%c%s%c%02u%02u%s",
             flags & TLS_JA4_QUIC   ? 'q'
             : flags & TLS_JA4_DTLS ? 'd'
                                    : 't',
             ja4_version(h->version), h->has_sni ? 'd' : 'i', nc, ne, alpn);
    sb_str(&s, a);
    sb_str(&s, "_");

    uint16_t vals[TLS_CIPHERS_MAX];
    size_t n = ja4_values(h->ciphers, h->n_ciphers, !orig, false, vals);
    int rc = ja4_section(&s, raw, vals, n, NULL, 0);
    if (rc != 0)
        goto fail;
    sb_str(&s, "_");

    uint16_t sig[TLS_SIGALGS_MAX];
    size_t nsig = ja4_values(h->sigalgs, h->n_sigalgs, false, false, sig);
    n = ja4_values(h->exts, h->n_exts, !orig, !orig, vals);
    rc = ja4_section(&s, raw, vals, n, sig, nsig);
    if (rc != 0)
        goto fail;
    if (s.over) {
        rc = SK_ENOSPACE;
        goto fail;
    }
    return (int)s.len;
fail:
    out[0] = '\0';
    return rc;
}
