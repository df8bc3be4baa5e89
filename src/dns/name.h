/* dns/name.h -- domain names in wire form: text conversion, case folding,
 * label walking.
 *
 * A "wire name" here is always uncompressed: length-prefixed labels ending
 * with the zero-length root label, at most DNS_NAME_MAX (255) bytes in all,
 * each label at most DNS_LABEL_MAX (63) bytes. Pure functions over caller
 * buffers; nothing allocates. */
#ifndef SK_DNS_NAME_H
#define SK_DNS_NAME_H

#include <stddef.h>
#include <stdint.h>

#define DNS_NAME_MAX   255
#define DNS_LABEL_MAX  63
#define DNS_LABELS_MAX 128 /* a 255-byte name has at most 127 labels + root */
/* Longest presentation form: every byte escaped as \DDD plus dots. */
#define DNS_NAME_TEXT_MAX 1024

/* Convert presentation text (e.g. "www.Example.com", with or without the
 * trailing dot; "." is the root; \. and \DDD escapes as in RFC 1035 zone
 * files) to a wire name in out[0..*out_len). Case is preserved.
 * Returns 0, or SK_EINVAL for an empty label, a label over 63 bytes, a
 * name over 255 bytes or a bad escape. */
int dns_name_from_text(const char *text, size_t text_len, uint8_t out[DNS_NAME_MAX],
                       size_t *out_len /* OUT */);

/* Write the presentation form of the wire name in[0..in_len) into
 * out[0..cap) with a trailing dot ("." for the root), NUL-terminated,
 * escaping bytes outside [A-Za-z0-9-_] as \DDD and "." and "\" as \. \\ .
 * Returns the text length, or SK_ENOSPACE / SK_EPROTO (malformed name). */
int dns_name_to_text(const uint8_t *in, size_t in_len, char *out, size_t cap);

/* ASCII lower-case copy of the wire name (label length bytes untouched). */
void dns_name_lower(const uint8_t *in, size_t len, uint8_t *out);

/* Number of labels in the wire name, not counting the root. */
int dns_name_labels(const uint8_t *name, size_t len);

/* Fill offs[] with the byte offset of each label start, first label
 * first; the root label's offset is offs[n]. Returns n (labels without
 * the root) or SK_EPROTO for a malformed name. offs must hold
 * DNS_LABELS_MAX entries. */
int dns_name_label_offsets(const uint8_t *name, size_t len, uint8_t offs[DNS_LABELS_MAX]);

/* Case-insensitive equality of two wire names. */
int dns_name_equal(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen);

#endif
