/* dns/seized_internal.h -- seized.c internals shared with its tests and
 * fuzz target only; nothing else in the daemon includes this header. */
#ifndef SK_DNS_SEIZED_INTERNAL_H
#define SK_DNS_SEIZED_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "dns/seized.h"

/* Parse the list text buf[0..len) as seized_load_file() parses a file's
 * contents, naming it path in messages (it is never opened). Same return
 * values, *other and err as seized_load_file(). */
int seized__load_buf(struct seized *s, const char *buf, size_t len, const char *path,
                     uint16_t list_id, uint16_t *other, char *err, size_t errlen);

/* Convert one presentation-form list entry text[0..len) to a lower-case
 * wire name in out[0..*out_len). Returns NULL on success, or a static
 * string saying why the text is not a usable seized name. */
const char *seized__parse_name(const char *text, size_t len, uint8_t out[256],
                               size_t *out_len /* OUT */);

#endif
