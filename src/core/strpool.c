/* core/strpool.c -- see strpool.h. */
#include "core/strpool.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"

int strpool_put(struct strpool *p, const char *s, size_t len, size_t *off)
{
    if (len + 1 > p->cap - p->used) {
        size_t cap = p->cap ? p->cap * 2 : 4096;
        while (cap - p->used < len + 1)
            cap *= 2;
        char *nb = realloc(p->buf, cap);
        if (nb == NULL)
            return SK_ERR(ENOMEM);
        p->buf = nb;
        p->cap = cap;
    }
    memcpy(p->buf + p->used, s, len);
    p->buf[p->used + len] = '\0';
    *off = p->used;
    p->used += len + 1;
    return 0;
}

void strpool_free(struct strpool *p)
{
    free(p->buf);
    p->buf = NULL;
    p->used = p->cap = 0;
}
