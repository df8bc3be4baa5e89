/* core/xalloc.h -- allocation that cannot fail.
 *
 * The daemon has no useful way to go on without memory, so these abort
 * with a message instead of returning NULL (zmap's xalloc). Parsers never
 * allocate at all; these are for setup and reload paths. */
#ifndef SK_CORE_XALLOC_H
#define SK_CORE_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

#endif
