/* classify/rules_botid.c -- bot-id extraction: take bytes from a field of
 * the contact (a regex capture group, or OFFSET+LENGTH), optionally decode
 * them from hex or base64, and write them as text (hex, base64, or
 * printable text with \xHH escapes) into the result.
 *
 * A rule may have several botid lines; they are tried in order and the
 * first that yields a non-empty id wins, so a rule can fall back from one
 * place a bot puts its id to another. */
#include <string.h>

#include "classify/rules_internal.h"

static const char hexdig[] = "0123456789abcdef";
static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Both alphabets: standard (+/) and URL-safe (-_). */
static int b64val(uint8_t c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+' || c == '-')
        return 62;
    if (c == '/' || c == '_')
        return 63;
    return -1;
}

/* Decode into out (at least n bytes); returns the length, or -1 if p is
 * not valid hex. */
static long hex_decode(const uint8_t *p, size_t n, uint8_t *out)
{
    if (n % 2 != 0)
        return -1;
    for (size_t i = 0; i < n; i += 2) {
        int h = rules__hexval(p[i]), l = rules__hexval(p[i + 1]);
        if (h < 0 || l < 0)
            return -1;
        out[i / 2] = (uint8_t)(h << 4 | l);
    }
    return (long)(n / 2);
}

/* Padding optional; '=' only at the end. Returns the length or -1. */
static long b64_decode(const uint8_t *p, size_t n, uint8_t *out)
{
    while (n > 0 && p[n - 1] == '=')
        n--;
    if (n % 4 == 1)
        return -1;
    uint32_t acc = 0;
    int bits = 0;
    long k = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64val(p[i]);
        if (v < 0)
            return -1;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[k++] = (uint8_t)(acc >> bits);
        }
    }
    return k;
}

/* Encode p[0..n) into out[0..RULES_BOTID_MAX) as text, NUL-terminated,
 * whole units only. Returns true if it all fit. */
static bool encode(uint8_t codec, const uint8_t *p, size_t n, char *out)
{
    size_t k = 0, cap = RULES_BOTID_MAX - 1;
    size_t i = 0;
    if (codec == RC_HEX) {
        for (; i < n && k + 2 <= cap; i++) {
            out[k++] = hexdig[p[i] >> 4];
            out[k++] = hexdig[p[i] & 15];
        }
    } else if (codec == RC_BASE64) {
        for (; i < n && k + 4 <= cap; i += 3) {
            uint32_t v = (uint32_t)p[i] << 16;
            if (i + 1 < n)
                v |= (uint32_t)p[i + 1] << 8;
            if (i + 2 < n)
                v |= p[i + 2];
            out[k++] = b64[v >> 18];
            out[k++] = b64[(v >> 12) & 63];
            out[k++] = i + 1 < n ? b64[(v >> 6) & 63] : '=';
            out[k++] = i + 2 < n ? b64[v & 63] : '=';
        }
        if (i > n)
            i = n;
    } else {
        /* Text: printable ASCII as is; anything else, and '\', as \xHH. */
        for (; i < n; i++) {
            uint8_t ch = p[i];
            if (ch >= 0x20 && ch < 0x7f && ch != '\\') {
                if (k + 1 > cap)
                    break;
                out[k++] = (char)ch;
            } else {
                if (k + 4 > cap)
                    break;
                out[k++] = '\\';
                out[k++] = 'x';
                out[k++] = hexdig[ch >> 4];
                out[k++] = hexdig[ch & 15];
            }
        }
    }
    out[k] = '\0';
    return i >= n;
}

/* Turn the extracted bytes into out->bot_id. False if they do not decode
 * or come to nothing. */
static bool produce(const struct rules_botid *b, const uint8_t *p, size_t n,
                    struct rules_scratch *s, struct rules_result *out)
{
    bool cut = false;
    if (n > RULES_BOTID_SRC) {
        n = RULES_BOTID_SRC;
        cut = true;
    }
    if (b->decode != RC_NONE) {
        long k = b->decode == RC_HEX ? hex_decode(p, n, s->buf) : b64_decode(p, n, s->buf);
        if (k <= 0)
            return false;
        p = s->buf;
        n = (size_t)k;
    }
    if (n == 0)
        return false;
    if (!encode(b->encode, p, n, out->bot_id))
        cut = true;
    for (char *c = out->bot_id; *c && b->casing != RCASE_KEEP; c++) {
        if (b->casing == RCASE_LOWER && *c >= 'A' && *c <= 'Z')
            *c = (char)(*c + 32);
        else if (b->casing == RCASE_UPPER && *c >= 'a' && *c <= 'z')
            *c = (char)(*c - 32);
    }
    out->bot_id_truncated = cut;
    return true;
}

uint32_t rules__botid(const struct rules_rule *ru, const struct rules_input *in,
                      struct rules_scratch *s, struct rules_result *out)
{
    uint32_t hits = 0;
    for (uint8_t i = 0; i < ru->n_botids; i++) {
        const struct rules_botid *b = &ru->botids[i];
        size_t iter = 0;
        const uint8_t *p;
        size_t len;
        /* A repeated header gives several values: the first that yields
         * an id is used. */
        while (rules__field_next(in, s, b->from, b->hname, &iter, &p, &len)) {
            const uint8_t *src = NULL;
            size_t slen = 0;
            if (b->kind == RB_RANGE) {
                if (b->off > len || b->len > len - b->off)
                    continue;
                src = p + b->off;
                slen = b->len;
            } else {
                int rc = rules__regex(s, b->re, p, len);
                if (rc < 0) {
                    hits++;
                    break;
                }
                if (rc == 0)
                    continue;
                PCRE2_SIZE *ov = pcre2_get_ovector_pointer(s->md);
                if (b->group >= pcre2_get_ovector_count(s->md))
                    continue;
                PCRE2_SIZE st = ov[2 * b->group], en = ov[2 * b->group + 1];
                /* Unset group, or \K making the end precede the start. */
                if (st == PCRE2_UNSET || en == PCRE2_UNSET || en <= st || en > len)
                    continue;
                src = p + st;
                slen = en - st;
            }
            if (produce(b, src, slen, s, out))
                return hits;
        }
    }
    return hits;
}
