/* core/strpool.h -- many short strings in one growing buffer.
 *
 * Names read from lists are stored back to back, NUL-terminated, and
 * referred to by offset, so the buffer may move when it grows and a
 * million names cost one allocation rather than a million. */
#ifndef SK_CORE_STRPOOL_H
#define SK_CORE_STRPOOL_H

#include <stddef.h>

struct strpool {
    char *buf;
    size_t used, cap;
};

/* Append s[0..len) and a NUL; *off receives its offset. Returns 0 or
 * SK_ENOMEM (the pool is unchanged). */
int strpool_put(struct strpool *p, const char *s, size_t len, size_t *off /* OUT */);

/* The string at offset off (valid until the next strpool_put). */
static inline const char *strpool_str(const struct strpool *p, size_t off)
{
    return p->buf + off;
}

void strpool_free(struct strpool *p);

#endif
