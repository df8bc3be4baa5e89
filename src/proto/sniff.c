/* proto/sniff.c -- tell the protocol of a connection from its first bytes.
 *
 * Each rule is a small matcher that answers "yes", "no" or "not yet" for
 * the bytes seen; the first "yes" wins in the order of the header, and the
 * answer is "not yet" while any rule that comes before every "yes" still
 * says "not yet". Matchers only look at a fixed-size prefix, so the answer
 * comes after at most SNIFF_DECIDE_MAX bytes. */
#include "proto/sniff.h"

#include <string.h>

enum match { M_NO, M_YES, M_MAYBE };

static const uint8_t proxy_v2_sig[12] = { 0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d,
                                          0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a };

/* buf must equal lit over min(len, n) bytes; yes once all n are seen. */
static enum match match_literal(const uint8_t *buf, size_t len, const void *lit, size_t n)
{
    size_t k = len < n ? len : n;
    if (memcmp(buf, lit, k) != 0)
        return M_NO;
    return len >= n ? M_YES : M_MAYBE;
}

static enum match match_tls(const uint8_t *buf, size_t len)
{
    if (buf[0] != 0x16)
        return M_NO;
    if (len < 2)
        return M_MAYBE;
    if (buf[1] != 0x03)
        return M_NO;
    if (len < 3)
        return M_MAYBE;
    return buf[2] <= 0x04 ? M_YES : M_NO;
}

/* Methods of RFC 9110 and 5789, and WebDAV (RFC 4918, 3253), which bots
 * and scanners send; each is accepted as soon as it and a space are seen. */
static const char *const known_methods[] = {
    "GET",      "HEAD",      "POST",  "PUT",  "DELETE", "CONNECT", "OPTIONS", "TRACE",  "PATCH",
    "PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE",   "LOCK",    "UNLOCK",  "SEARCH", "REPORT",
};

static int is_upper(uint8_t c)
{
    return c >= 'A' && c <= 'Z';
}

static int is_alpha(uint8_t c)
{
    return is_upper(c) || (c >= 'a' && c <= 'z');
}

static enum match match_http(const uint8_t *buf, size_t len)
{
    /* A known method followed by a space decides at once. */
    enum match best = M_NO;
    for (size_t i = 0; i < sizeof(known_methods) / sizeof(known_methods[0]); i++) {
        size_t n = strlen(known_methods[i]);
        size_t k = len < n ? len : n;
        if (memcmp(buf, known_methods[i], k) != 0)
            continue;
        if (len <= n) {
            best = M_MAYBE;
            continue;
        }
        if (buf[n] == ' ')
            return M_YES;
    }

    /* Otherwise: 3..SNIFF_METHOD_MAX upper-case letters, a space, and the
     * first byte of a target. */
    size_t m = 0;
    while (m < len && m < SNIFF_METHOD_MAX && is_upper(buf[m]))
        m++;
    if (m == len)
        return M_MAYBE;
    if (buf[m] != ' ' || m < 3)
        return best;
    if (m + 1 == len)
        return M_MAYBE;
    uint8_t t = buf[m + 1];
    if (t == '/' || t == '*' || is_alpha(t))
        return M_YES;
    return best;
}

enum sniff_proto sniff_classify(const uint8_t *buf, size_t len)
{
    if (len == 0)
        return SNIFF_NEED_MORE;

    /* Rules in order; an undecided earlier rule holds back a later yes, so
     * the answer cannot change when more bytes arrive. */
    enum match m = match_literal(buf, len, proxy_v2_sig, sizeof(proxy_v2_sig));
    if (m == M_YES)
        return SNIFF_PROXY_V2;
    int pending = m == M_MAYBE;

    m = match_literal(buf, len, "PROXY ", 6);
    if (m == M_YES)
        return pending ? SNIFF_NEED_MORE : SNIFF_PROXY_V1;
    pending |= m == M_MAYBE;

    m = match_tls(buf, len);
    if (m == M_YES)
        return pending ? SNIFF_NEED_MORE : SNIFF_TLS;
    pending |= m == M_MAYBE;

    m = match_http(buf, len);
    if (m == M_YES)
        return pending ? SNIFF_NEED_MORE : SNIFF_HTTP;
    pending |= m == M_MAYBE;

    return pending ? SNIFF_NEED_MORE : SNIFF_RAW;
}

const char *sniff_proto_name(enum sniff_proto p)
{
    switch (p) {
    case SNIFF_NEED_MORE:
        return "need-more";
    case SNIFF_HTTP:
        return "http";
    case SNIFF_TLS:
        return "tls";
    case SNIFF_PROXY_V1:
        return "proxy-v1";
    case SNIFF_PROXY_V2:
        return "proxy-v2";
    case SNIFF_RAW:
        return "raw";
    }
    return "?";
}
