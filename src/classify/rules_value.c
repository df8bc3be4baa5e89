/* classify/rules_value.c -- the values of a rules file's directives: text
 * with escapes, byte strings (hex with wildcards, text), numbers and
 * ranges, and reply files read at load time.
 *
 * Each parser returns NULL on success or a static message the loader
 * prefixes with FILE:LINE and the key; none of them prints. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "classify/rules_internal.h"
#include "core/err.h"
#include "core/xalloc.h"

const char *rules__text(const struct rules_val *v, uint8_t **out, size_t *out_len)
{
    if (v->len > RULES_PATTERN_MAX * 4)
        return "value too long";
    uint8_t *b = xmalloc(v->len + 1);
    size_t n = 0;
    for (size_t i = 0; i < v->len; i++) {
        uint8_t c = (uint8_t)v->p[i];
        if (!v->quoted || c != '\\') {
            b[n++] = c;
            continue;
        }
        if (++i == v->len) {
            free(b);
            return "backslash at the end of a quoted value";
        }
        switch (v->p[i]) {
        case '\\':
            b[n++] = '\\';
            break;
        case '"':
            b[n++] = '"';
            break;
        case 'n':
            b[n++] = '\n';
            break;
        case 'r':
            b[n++] = '\r';
            break;
        case 't':
            b[n++] = '\t';
            break;
        case '0':
            b[n++] = '\0';
            break;
        case 'x': {
            int h = i + 1 < v->len ? rules__hexval(v->p[i + 1]) : -1;
            int l = i + 2 < v->len ? rules__hexval(v->p[i + 2]) : -1;
            if (h < 0 || l < 0) {
                free(b);
                return "\\x needs two hex digits";
            }
            b[n++] = (uint8_t)(h << 4 | l);
            i += 2;
            break;
        }
        default:
            free(b);
            return "unknown escape (use \\\\ \\\" \\n \\r \\t \\0 or \\xHH)";
        }
    }
    b[n] = '\0';
    *out = b;
    *out_len = n;
    return NULL;
}

/* hex:... after the prefix: pairs of hex digits, "??" for any byte when
 * wild, and in a quoted value spaces or ':' between bytes. */
static const char *hex_bytes(const struct rules_val *v, bool wild, uint8_t **out, uint8_t **mask,
                             size_t *len)
{
    uint8_t *b = xmalloc(v->len / 2 + 1);
    uint8_t *m = xmalloc(v->len / 2 + 1);
    size_t n = 0;
    const char *why = NULL;
    for (size_t i = 0; i < v->len;) {
        char c = v->p[i];
        if (v->quoted && (c == ' ' || c == '\t' || c == ':')) {
            i++;
            continue;
        }
        if (i + 1 >= v->len) {
            why = "hex: odd number of digits";
            break;
        }
        if (c == '?' && v->p[i + 1] == '?') {
            if (!wild) {
                why = "hex: '?"
                      "?' (any byte) is only allowed in bytes@ patterns";
                break;
            }
            b[n] = 0;
            m[n++] = 0;
        } else {
            int h = rules__hexval(c), l = rules__hexval(v->p[i + 1]);
            if (h < 0 || l < 0) {
                why = "hex: expected pairs of hex digits";
                break;
            }
            b[n] = (uint8_t)(h << 4 | l);
            m[n++] = 0xff;
        }
        i += 2;
    }
    if (why == NULL && n == 0)
        why = "hex: no bytes";
    if (why == NULL && n > RULES_PATTERN_MAX)
        why = "hex: too many bytes";
    if (why != NULL) {
        free(b);
        free(m);
        return why;
    }
    *out = b;
    *len = n;
    if (mask != NULL)
        *mask = m;
    else
        free(m);
    return NULL;
}

const char *rules__bytes(const struct rules_val *v, uint8_t **out, uint8_t **mask, size_t *len)
{
    if (!v->quoted && v->len >= 4 && memcmp(v->p, "hex:", 4) == 0) {
        struct rules_val h = { v->p + 4, v->len - 4, false };
        /* hex:"4d 5a" -- the quotes come after the prefix. */
        if (h.len >= 2 && h.p[0] == '"' && h.p[h.len - 1] == '"') {
            h.p++;
            h.len -= 2;
            h.quoted = true;
        } else if (memchr(h.p, '"', h.len) != NULL) {
            return "hex: a quoted value must be hex:\"...\"";
        }
        return hex_bytes(&h, mask != NULL, out, mask, len);
    }
    uint8_t *b;
    size_t n;
    const char *why = rules__text(v, &b, &n);
    if (why != NULL)
        return why;
    if (n == 0) {
        free(b);
        return "empty value";
    }
    if (n > RULES_PATTERN_MAX) {
        free(b);
        return "value too long";
    }
    *out = b;
    *len = n;
    if (mask != NULL) {
        *mask = xmalloc(n);
        memset(*mask, 0xff, n);
    }
    return NULL;
}

const char *rules__number(const char *p, size_t len, uint32_t max, uint32_t *out)
{
    uint64_t v = 0;
    size_t i = 0;
    unsigned base = 10;
    if (len > 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
        base = 16;
        i = 2;
    }
    if (i == len)
        return "expected a number";
    for (; i < len; i++) {
        int d = base == 16 ? rules__hexval(p[i]) : (p[i] >= '0' && p[i] <= '9' ? p[i] - '0' : -1);
        if (d < 0)
            return "expected a number";
        v = v * base + (unsigned)d;
        if (v > max)
            return "number out of range";
    }
    *out = (uint32_t)v;
    return NULL;
}

const char *rules__ranges(const char *p, size_t len, uint32_t max, struct rules_range **out,
                          uint16_t *n)
{
    struct rules_range *r = xmalloc(sizeof(*r) * RULES_LIST_MAX);
    uint16_t k = 0;
    size_t pos = 0;
    const char *why = NULL;
    while (why == NULL) {
        const char *comma = memchr(p + pos, ',', len - pos);
        size_t end = comma ? (size_t)(comma - p) : len;
        const char *dash = memchr(p + pos, '-', end - pos);
        if (k == RULES_LIST_MAX) {
            why = "too many values";
            break;
        }
        if (dash == NULL) {
            why = rules__number(p + pos, end - pos, max, &r[k].lo);
            r[k].hi = r[k].lo;
        } else {
            size_t d = (size_t)(dash - p);
            why = rules__number(p + pos, d - pos, max, &r[k].lo);
            /* "LO-" runs to the largest value. */
            r[k].hi = max;
            if (why == NULL && d + 1 < end)
                why = rules__number(p + d + 1, end - d - 1, max, &r[k].hi);
            if (why == NULL && r[k].hi < r[k].lo)
                why = "range LO-HI with HI below LO";
        }
        k++;
        if (comma == NULL)
            break;
        pos = end + 1;
    }
    if (why != NULL) {
        free(r);
        return why;
    }
    *out = r;
    *n = k;
    return NULL;
}

int rules__read_file(const char *path, size_t max, uint8_t **out, size_t *len)
{
    /* O_NONBLOCK: a FIFO named by mistake must not hang the load. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return SK_ERR(errno);
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return SK_ERR(e);
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return SK_EINVAL;
    }
    if ((uint64_t)st.st_size > max) {
        close(fd);
        return SK_ENOSPACE;
    }
    size_t want = (size_t)st.st_size;
    uint8_t *b = xmalloc(want + 1);
    size_t n = 0;
    while (n < want) {
        ssize_t k = read(fd, b + n, want - n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            int e = errno;
            free(b);
            close(fd);
            return SK_ERR(e);
        }
        if (k == 0)
            break; /* the file shrank while being read */
        n += (size_t)k;
    }
    close(fd);
    b[n] = '\0';
    *out = b;
    *len = n;
    return 0;
}
