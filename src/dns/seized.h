/* dns/seized.h -- the seized-name matcher.
 *
 * Holds every seized domain of every [seized.*] list and answers, for a
 * query name, which list covers it: the longest seized name that is the
 * query name itself or one of its ancestors, matched by whole labels and
 * case-insensitively. A lookup costs O(number of labels) hash probes: the
 * hashes of all suffixes of the query name are computed in one pass from
 * the root label up, then probed from the longest suffix down.
 *
 * Built once (seized_add / seized_load_file), then read-only: any number
 * of threads may call seized_lookup() on a built matcher at once. A reload
 * builds a new matcher and swaps it in; the old one is freed by its owner
 * with seized_free() once no reader holds it. */
#ifndef SK_DNS_SEIZED_H
#define SK_DNS_SEIZED_H

#include <stddef.h>
#include <stdint.h>

struct seized;

struct seized_match {
    uint16_t list_id; /* the list the covering name came from */
    uint8_t apex_off; /* byte offset in the query name where the seized name starts */
    uint8_t apex_len; /* its length in bytes (wire form) */
};

/* Returns a new empty matcher; owned by the caller, free with
 * seized_free(). Aborts on out of memory. */
struct seized *seized_new(void);
void seized_free(struct seized *s);

/* Add the wire name (any case) for list list_id. Adding a name already in
 * the same list is a no-op that returns 0. If the name is already in a
 * different list, returns SK_EEXIST and sets *other to that list. Returns
 * SK_EINVAL for the root or a malformed wire name, SK_ENOSPACE if the
 * name store would pass 4 GiB. */
int seized_add(struct seized *s, const uint8_t *name, size_t len, uint16_t list_id,
               uint16_t *other /* OUT */);

/* Load a list file into list list_id: one domain per line (presentation
 * form, trailing dot optional), '#' starts a comment, blank lines and
 * surrounding white space ignored. On error returns SK_EINVAL (bad name),
 * SK_EEXIST (name in another list; *other set) or a system error, and
 * writes "PATH:LINE: message" (or "PATH: message") into err[0..errlen).
 * Names read before the error stay added. */
int seized_load_file(struct seized *s, const char *path, uint16_t list_id, uint16_t *other,
                     char *err, size_t errlen);

/* Find the longest seized name covering qname[0..len) (a wire name, any
 * case). Returns 1 and fills *m, or 0 if no list covers it. */
int seized_lookup(const struct seized *s, const uint8_t *qname, size_t len,
                  struct seized_match *m /* OUT */);

/* Number of distinct names, and bytes of heap the matcher holds. */
size_t seized_count(const struct seized *s);
size_t seized_memory(const struct seized *s);

/* Count of names per list: writes up to n entries of counts[list_id]. */
void seized_list_counts(const struct seized *s, size_t *counts, size_t n);

#endif
