/* domains/match.h -- which names in a list or log belong to which family.
 *
 * The input (a list of names, or any text such as a resolver's query
 * log) is scanned for tokens that look like domain names; each token and
 * each of its parent domains (down to two labels) goes into a set. The
 * families are then generated over a day range and every generated name
 * found in the set is reported with its family, variant and the days it
 * is queried on. Memory is bounded by the input's distinct names; the
 * generated names are streamed. */
#ifndef SK_DOMAINS_MATCH_H
#define SK_DOMAINS_MATCH_H

#include <stddef.h>
#include <stdio.h>

#include "domains/family.h"

struct domains_match;

/* A new empty matcher, or NULL when out of memory. */
struct domains_match *domains_match_new(void);
void domains_match_free(struct domains_match *m);

/* Scan text[0..len) (one line; lineno for reporting) and add its name
 * tokens. Returns the number of tokens added, or a negative error. */
int domains_match_scan_line(struct domains_match *m, const char *text, size_t len,
                            unsigned long lineno);

/* Read a whole file with domains_match_scan_line. Returns 0 or an error
 * with a message in err. */
int domains_match_load(struct domains_match *m, const char *path, char *err, size_t errlen);

/* Number of distinct names (tokens and parents) held. */
size_t domains_match_size(const struct domains_match *m);

/* A domains_name_cb: pass the matcher as arg to domains_run_range(). */
int domains_match_cb(const struct domains_name *n, void *arg);

/* One attribution. */
struct domains_hit {
    const char *name;   /* the generated name */
    const char *seen;   /* the token it was found in (name or a name below it) */
    unsigned long line; /* first input line with that token */
    const char *family, *variant;
    int32_t first_day, last_day;
};

/* Number of hits so far and the i-th (in input order after
 * domains_match_sort()). Pointers stay valid until the matcher is freed. */
size_t domains_match_hits(const struct domains_match *m);
const struct domains_hit *domains_match_hit(const struct domains_match *m, size_t i);
void domains_match_sort(struct domains_match *m);

#endif
