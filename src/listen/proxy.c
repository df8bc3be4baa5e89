/* listen/proxy.c -- PROXY protocol v1 and v2 header parser.
 *
 * v1 is checked field by field as bytes arrive, so garbage is refused
 * before 107 bytes have been waited for; v2 waits for its 16-byte fixed
 * part, checks it, then for the length it announces. */
#include "listen/proxy.h"

#include <arpa/inet.h>
#include <string.h>

#include "core/crc32c.h"

static const uint8_t v2_sig[12] = { 0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d,
                                    0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a };

/* ---- v1 ---- */

enum v1_step { V1_OK, V1_SHORT, V1_BAD };

/* One space-terminated (or CR-terminated for the last) field at *pos.
 * ok_char says which bytes it may hold. */
static enum v1_step v1_field(const uint8_t *buf, size_t len, size_t *pos, uint8_t term, size_t max,
                             bool (*ok_char)(uint8_t), size_t *start, size_t *flen)
{
    *start = *pos;
    size_t i = *pos;
    while (i < len && buf[i] != term) {
        if (!ok_char(buf[i]) || i - *start >= max)
            return V1_BAD;
        i++;
    }
    if (i >= len)
        return V1_SHORT;
    if (i == *start)
        return V1_BAD;
    *flen = i - *start;
    *pos = i + 1;
    return V1_OK;
}

static bool v4_char(uint8_t c)
{
    return (c >= '0' && c <= '9') || c == '.';
}

static bool v6_char(uint8_t c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' ||
           c == '.';
}

static bool digit_char(uint8_t c)
{
    return c >= '0' && c <= '9';
}

static bool v1_addr(const uint8_t *p, size_t n, uint8_t af, struct sk_ip *ip)
{
    char tmp[48];
    if (n >= sizeof(tmp))
        return false;
    memcpy(tmp, p, n);
    tmp[n] = '\0';
    memset(ip, 0, sizeof(*ip));
    ip->af = af;
    return inet_pton(af == 4 ? AF_INET : AF_INET6, tmp, ip->a) == 1;
}

static bool v1_port(const uint8_t *p, size_t n, uint16_t *port)
{
    if (n > 5 || (n > 1 && p[0] == '0'))
        return false;
    unsigned v = 0;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (unsigned)(p[i] - '0');
    if (v > 65535)
        return false;
    *port = (uint16_t)v;
    return true;
}

static enum proxy_status v1_parse(const uint8_t *buf, size_t len, struct proxy_header *h)
{
    /* Only the first PROXY_V1_MAX bytes may hold the line. */
    size_t lim = len < PROXY_V1_MAX ? len : PROXY_V1_MAX;
    size_t k = lim < 6 ? lim : 6;
    if (memcmp(buf, "PROXY ", k) != 0)
        return PROXY_MALFORMED;
    if (lim < 6)
        return PROXY_NEED_MORE;

    /* "UNKNOWN": the rest of the line is to be ignored. */
    static const char unk[] = "UNKNOWN";
    size_t u = lim - 6 < 7 ? lim - 6 : 7;
    if (memcmp(buf + 6, unk, u) == 0) {
        if (u < 7)
            return PROXY_NEED_MORE;
        for (size_t i = 13; i < lim; i++) {
            if (buf[i] == '\n')
                return PROXY_MALFORMED; /* LF without CR */
            if (buf[i] == '\r') {
                if (i + 1 >= lim)
                    return lim < PROXY_V1_MAX ? PROXY_NEED_MORE : PROXY_MALFORMED;
                if (buf[i + 1] != '\n' || (i > 13 && buf[13] != ' '))
                    return PROXY_MALFORMED;
                memset(h, 0, sizeof(*h));
                h->version = 1;
                h->len = i + 2;
                return PROXY_COMPLETE;
            }
        }
        if (lim > 13 && buf[13] != ' ' && buf[13] != '\r')
            return PROXY_MALFORMED;
        return lim < PROXY_V1_MAX ? PROXY_NEED_MORE : PROXY_MALFORMED;
    }

    static const char tcp[] = "TCP";
    size_t t = lim - 6 < 3 ? lim - 6 : 3;
    if (memcmp(buf + 6, tcp, t) != 0)
        return PROXY_MALFORMED;
    if (lim < 11)
        return PROXY_NEED_MORE;
    uint8_t af;
    if (buf[9] == '4')
        af = 4;
    else if (buf[9] == '6')
        af = 6;
    else
        return PROXY_MALFORMED;
    if (buf[10] != ' ')
        return PROXY_MALFORMED;

    size_t pos = 11, s[4], n[4];
    bool (*cls)(uint8_t) = af == 4 ? v4_char : v6_char;
    size_t amax = af == 4 ? 15 : 39;
    for (int f = 0; f < 4; f++) {
        bool last = f == 3;
        enum v1_step st = v1_field(buf, lim, &pos, last ? '\r' : ' ', f < 2 ? amax : 5,
                                   f < 2 ? cls : digit_char, &s[f], &n[f]);
        if (st == V1_BAD)
            return PROXY_MALFORMED;
        if (st == V1_SHORT)
            return lim < PROXY_V1_MAX ? PROXY_NEED_MORE : PROXY_MALFORMED;
    }
    if (pos >= lim)
        return lim < PROXY_V1_MAX ? PROXY_NEED_MORE : PROXY_MALFORMED;
    if (buf[pos] != '\n')
        return PROXY_MALFORMED;

    memset(h, 0, sizeof(*h));
    if (!v1_addr(buf + s[0], n[0], af, &h->src) || !v1_addr(buf + s[1], n[1], af, &h->dst) ||
        !v1_port(buf + s[2], n[2], &h->src.port) || !v1_port(buf + s[3], n[3], &h->dst.port))
        return PROXY_MALFORMED;
    h->version = 1;
    h->has_addrs = true;
    h->transport = PROXY_TRANSPORT_TCP;
    h->len = pos + 1;
    return PROXY_COMPLETE;
}

/* ---- v2 ---- */

bool proxy_tlv_next(const uint8_t *buf, size_t end, size_t *pos, uint8_t *type,
                    const uint8_t **value, uint16_t *value_len)
{
    if (*pos >= end || end - *pos < 3)
        return false;
    const uint8_t *p = buf + *pos;
    uint16_t vl = (uint16_t)(p[1] << 8 | p[2]);
    if (vl > end - *pos - 3)
        return false;
    *type = p[0];
    *value = p + 3;
    *value_len = vl;
    *pos += 3 + (size_t)vl;
    return true;
}

/* TLVs must tile [off, end) exactly; a CRC32C TLV must hold the checksum
 * of the whole header computed with its own value zeroed. */
static bool v2_tlvs(const uint8_t *buf, size_t off, size_t end)
{
    size_t pos = off;
    while (pos < end) {
        if (end - pos < 3)
            return false;
        size_t vl = (size_t)buf[pos + 1] << 8 | buf[pos + 2];
        if (vl > end - pos - 3)
            return false;
        if (buf[pos] == PROXY_TLV_CRC32C) {
            if (vl != 4)
                return false;
            static const uint8_t zero[4] = { 0 };
            size_t v = pos + 3;
            uint32_t c = crc32c(0, buf, v);
            c = crc32c(c, zero, 4);
            c = crc32c(c, buf + v + 4, end - v - 4);
            uint32_t want = (uint32_t)buf[v] << 24 | (uint32_t)buf[v + 1] << 16 |
                            (uint32_t)buf[v + 2] << 8 | buf[v + 3];
            if (c != want)
                return false;
        }
        pos += 3 + vl;
    }
    return true;
}

static enum proxy_status v2_parse(const uint8_t *buf, size_t len, struct proxy_header *h)
{
    size_t k = len < sizeof(v2_sig) ? len : sizeof(v2_sig);
    if (memcmp(buf, v2_sig, k) != 0)
        return PROXY_MALFORMED;
    if (len < 13)
        return PROXY_NEED_MORE;
    uint8_t ver_cmd = buf[12];
    if (ver_cmd >> 4 != 2 || (ver_cmd & 0xf) > 1)
        return PROXY_MALFORMED;
    bool local = (ver_cmd & 0xf) == 0;
    if (len < 14)
        return PROXY_NEED_MORE;
    uint8_t fam = buf[13] >> 4, proto = buf[13] & 0xf;
    /* Only UNSPEC (0x00) and TCP or UDP over IPv4, IPv6 or AF_UNIX may be
     * sent; other values "must be rejected as invalid by receivers". LOCAL
     * discards the address block, family included, so it is only an error
     * with PROXY. */
    bool known = buf[13] == 0x00 || (fam >= 1 && fam <= 3 && proto >= 1 && proto <= 2);
    if (!known && !local)
        return PROXY_MALFORMED;
    if (len < PROXY_V2_HDR_LEN)
        return PROXY_NEED_MORE;
    size_t body = (size_t)buf[14] << 8 | buf[15];
    static const size_t addr_len[4] = { 0, 12, 36, 216 };
    size_t alen = known ? addr_len[fam] : 0;
    if (body < alen) {
        if (!local)
            return PROXY_MALFORMED;
        known = false; /* a LOCAL header too short for its family: skip it whole */
        alen = 0;
    }
    size_t total = PROXY_V2_HDR_LEN + body;
    if (len < total)
        return PROXY_NEED_MORE;
    size_t tlv_off = PROXY_V2_HDR_LEN + alen;
    if (known && !v2_tlvs(buf, tlv_off, total))
        return PROXY_MALFORMED;
    if (!known)
        tlv_off = total;

    memset(h, 0, sizeof(*h));
    h->version = 2;
    h->len = total;
    h->local = local;
    h->tlv_off = tlv_off;
    h->tlv_len = total - tlv_off;
    h->transport = proto == 1   ? PROXY_TRANSPORT_TCP
                   : proto == 2 ? PROXY_TRANSPORT_UDP
                                : PROXY_TRANSPORT_UNSPEC;
    /* LOCAL: the receiver must use the real connection endpoints and
     * ignore any address block; so must it for UNSPEC and AF_UNIX. */
    if (h->local || (fam != 1 && fam != 2)) {
        if (h->local)
            h->transport = PROXY_TRANSPORT_UNSPEC;
        return PROXY_COMPLETE;
    }
    const uint8_t *a = buf + PROXY_V2_HDR_LEN;
    size_t al = fam == 1 ? 4 : 16;
    h->src.af = h->dst.af = fam == 1 ? 4 : 6;
    memcpy(h->src.a, a, al);
    memcpy(h->dst.a, a + al, al);
    h->src.port = (uint16_t)(a[2 * al] << 8 | a[2 * al + 1]);
    h->dst.port = (uint16_t)(a[2 * al + 2] << 8 | a[2 * al + 3]);
    h->has_addrs = true;
    return PROXY_COMPLETE;
}

enum proxy_status proxy_parse(const uint8_t *buf, size_t len, struct proxy_header *h)
{
    if (len == 0)
        return PROXY_NEED_MORE;
    if (buf[0] == v2_sig[0])
        return v2_parse(buf, len, h);
    return v1_parse(buf, len, h);
}
