/* dns/name.c -- domain names in wire form: presentation text, case
 * folding, label walking and comparison.
 *
 * Every function here takes an uncompressed wire name (see dns/name.h) in
 * a caller buffer and never reads past the length it was given. Names that
 * come from the network have already been through dns_name_decode(), but
 * each function still checks the label structure it walks, so a bad length
 * from a caller is an error, not an overread. */
#include "dns/name.h"

#include <stdbool.h>
#include <string.h>

#include "core/err.h"

static uint8_t lower(uint8_t c)
{
    return c >= 'A' && c <= 'Z' ? (uint8_t)(c + ('a' - 'A')) : c;
}

int dns_name_label_offsets(const uint8_t *name, size_t len, uint8_t offs[DNS_LABELS_MAX])
{
    if (name == NULL || len == 0 || len > DNS_NAME_MAX)
        return SK_EPROTO;
    size_t pos = 0;
    int n = 0;
    for (;;) {
        uint8_t l = name[pos];
        if (l > DNS_LABEL_MAX)
            return SK_EPROTO; /* a compression pointer or a reserved label type */
        if (n >= DNS_LABELS_MAX)
            return SK_EPROTO;
        offs[n] = (uint8_t)pos;
        if (l == 0)
            return pos + 1 == len ? n : SK_EPROTO;
        pos += 1 + (size_t)l;
        if (pos >= len)
            return SK_EPROTO; /* the root label must follow */
        n++;
    }
}

int dns_name_labels(const uint8_t *name, size_t len)
{
    uint8_t offs[DNS_LABELS_MAX];
    return dns_name_label_offsets(name, len, offs);
}

void dns_name_lower(const uint8_t *in, size_t len, uint8_t *out)
{
    /* Label length bytes are at most 63, below 'A', so folding every byte
     * would do; walking the labels keeps that true even for odd input. */
    size_t pos = 0;
    while (pos < len) {
        uint8_t l = in[pos];
        out[pos] = l;
        pos++;
        for (size_t i = 0; i < l && pos < len; i++, pos++)
            out[pos] = lower(in[pos]);
    }
}

int dns_name_equal(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    if (alen != blen)
        return 0;
    for (size_t i = 0; i < alen; i++)
        if (lower(a[i]) != lower(b[i]))
            return 0;
    return 1;
}

int dns_name_from_text(const char *text, size_t text_len, uint8_t out[DNS_NAME_MAX],
                       size_t *out_len /* OUT */)
{
    const unsigned char *t = (const unsigned char *)text;
    if (text == NULL || text_len == 0)
        return SK_EINVAL;
    if (text_len == 1 && t[0] == '.') {
        out[0] = 0;
        *out_len = 1;
        return 0;
    }
    size_t len = 0;      /* bytes of out in use, the open label's length byte included */
    size_t label_at = 0; /* offset of the open label's length byte */
    bool open = false;   /* a label has been started and not yet closed */
    size_t i = 0;
    while (i < text_len) {
        unsigned char c = t[i];
        if (c == '.') {
            if (!open)
                return SK_EINVAL; /* empty label */
            open = false;
            i++;
            continue;
        }
        unsigned byte;
        if (c == '\\') {
            if (i + 1 >= text_len)
                return SK_EINVAL;
            unsigned char d = t[i + 1];
            if (d >= '0' && d <= '9') {
                if (i + 3 >= text_len)
                    return SK_EINVAL;
                unsigned char d2 = t[i + 2], d3 = t[i + 3];
                if (d2 < '0' || d2 > '9' || d3 < '0' || d3 > '9')
                    return SK_EINVAL;
                byte = (unsigned)(d - '0') * 100 + (unsigned)(d2 - '0') * 10 + (unsigned)(d3 - '0');
                if (byte > 255)
                    return SK_EINVAL;
                i += 4;
            } else {
                byte = d;
                i += 2;
            }
        } else {
            byte = c;
            i++;
        }
        if (!open) {
            /* Room for this label's length byte, and later the root. */
            if (len + 1 >= DNS_NAME_MAX)
                return SK_EINVAL;
            label_at = len;
            out[len++] = 0;
            open = true;
        }
        if (out[label_at] == DNS_LABEL_MAX)
            return SK_EINVAL;
        /* Keep one byte free for the root label. */
        if (len + 1 >= DNS_NAME_MAX)
            return SK_EINVAL;
        out[len++] = (uint8_t)byte;
        out[label_at]++;
    }
    if (len + 1 > DNS_NAME_MAX)
        return SK_EINVAL;
    out[len++] = 0;
    *out_len = len;
    return 0;
}

int dns_name_to_text(const uint8_t *in, size_t in_len, char *out, size_t cap)
{
    uint8_t offs[DNS_LABELS_MAX];
    int n = dns_name_label_offsets(in, in_len, offs);
    if (n < 0)
        return SK_EPROTO;
    if (cap == 0)
        return SK_ENOSPACE;
    size_t o = 0;
    if (n == 0) {
        if (cap < 2)
            return SK_ENOSPACE;
        out[0] = '.';
        out[1] = '\0';
        return 1;
    }
    for (int k = 0; k < n; k++) {
        size_t pos = offs[k];
        uint8_t l = in[pos++];
        for (size_t j = 0; j < l; j++) {
            uint8_t c = in[pos + j];
            char esc[4];
            size_t el;
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '-' || c == '_') {
                esc[0] = (char)c;
                el = 1;
            } else if (c == '.' || c == '\\') {
                esc[0] = '\\';
                esc[1] = (char)c;
                el = 2;
            } else {
                esc[0] = '\\';
                esc[1] = (char)('0' + c / 100);
                esc[2] = (char)('0' + c / 10 % 10);
                esc[3] = (char)('0' + c % 10);
                el = 4;
            }
            /* Leave room for the trailing dot and the NUL. */
            if (o + el + 2 > cap)
                return SK_ENOSPACE;
            memcpy(out + o, esc, el);
            o += el;
        }
        if (o + 2 > cap)
            return SK_ENOSPACE;
        out[o++] = '.';
    }
    out[o] = '\0';
    return (int)o;
}
