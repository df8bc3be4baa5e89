/* classify/rules.h -- family rules: which family and which bot a contact
 * is, and what to answer it.
 *
 * The rules file (named by `[classify] rules`, format in docs/rules.md) is
 * a list of rules, each a block:
 *
 *     rule megad-checkin family=megad
 *         match port=80,443 transport=tcp proto=raw
 *         match bytes@0=hex:4d5a??00
 *         botid bytes=8+16 encode=hex
 *         reply bytes=hex:00000000 then=close
 *     end
 *
 * Conditions of a rule are ANDed; the first rule in file order whose
 * conditions all hold wins. It names the family, may extract a bot id
 * (regex capture group, or offset+length, with hex/base64 decoding and
 * encoding), and chooses the reply: fixed bytes, an HTTP response, close,
 * or tarpit. A contact no rule matches gets the safe default reply for its
 * protocol (rules_default_reply()).
 *
 * Loading compiles every regex (PCRE2, JIT where the platform has it) and
 * reads every reply file, reporting every mistake as "FILE:LINE: message".
 * A loaded struct rules is immutable: any number of threads may call
 * rules_classify() on it at once, each with its own struct rules_scratch
 * (the PCRE2 match data, match context and JIT stack live there, never in
 * the rules). A reload loads a new struct rules and swaps it in; the old
 * one may be freed once no thread uses it, nor any reply it handed out.
 *
 * Every regex run is bounded by the file's match, depth and heap limits
 * (`set` directive; defaults below), so hostile input cannot hold a worker:
 * a run that hits a limit makes its condition fail and is counted. */
#ifndef SK_CLASSIFY_RULES_H
#define SK_CLASSIFY_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "proto/http.h"
#include "proto/sniff.h"
#include "proto/tls.h"

#define RULES_NAME_MAX   64         /* rule names, with the NUL */
#define RULES_FAMILY_MAX 32         /* family names, with the NUL: fits sk_event.family */
#define RULES_BOTID_MAX  128        /* bot id text, with the NUL */
#define RULES_MAX        100000     /* rules in one file */
#define RULES_FILE_MAX   (1 << 20)  /* bytes of one reply file (@path) */
#define RULES_TEXT_MAX   (16 << 20) /* bytes of a rules file */
#define RULES_ERRORS_MAX 100        /* error lines printed; the rest are counted */

/* Defaults of the `set` limits for every regex run. */
#define RULES_MATCH_LIMIT_DEFAULT 100000 /* pcre2_set_match_limit() */
#define RULES_DEPTH_LIMIT_DEFAULT 10000  /* pcre2_set_depth_limit() */
#define RULES_HEAP_LIMIT_DEFAULT  4096   /* KiB, pcre2_set_heap_limit() */

/* Transport numbers, as in sk_event.proto (IPPROTO_TCP, IPPROTO_UDP). */
#define RULES_TCP 6
#define RULES_UDP 17

struct rules;
struct rules_scratch;

/* What a contact was, as far as the listener has read it. Only what the
 * listener has is set; every pointer may be NULL. A condition on something
 * absent is false (and its negation true). */
struct rules_input {
    uint16_t port;     /* local port the contact arrived on */
    uint8_t transport; /* RULES_TCP or RULES_UDP */
    uint8_t proto;     /* enum sniff_proto: SNIFF_HTTP, SNIFF_TLS or SNIFF_RAW;
                        * SNIFF_NEED_MORE for a client that has sent nothing
                        * when the sniff timeout passed (proto=silent). Any
                        * other value counts as raw. */

    /* The bytes of the contact from its start: the first bytes of a TCP
     * connection (for an HTTP request: from the start of that request),
     * or the whole UDP datagram. Read by bytes@, bytes~ and len=. */
    const uint8_t *data;
    size_t len;

    /* A parsed HTTP request; its spans are offsets into http_buf. */
    const struct http_request *http;
    const uint8_t *http_buf;
    const uint8_t *body; /* request body bytes read so far (de-chunked) */
    size_t body_len;

    /* A parsed ClientHello (also set for an HTTP request inside TLS). */
    const struct tls_hello *tls;
    /* JA3 hash (32 hex digits) and JA4 fingerprint, if the caller has
     * them; when NULL they are computed from tls if a rule asks. */
    const char *ja3;
    const char *ja4;
};

enum rules_action {
    RULES_CLOSE = 0, /* send nothing; close (UDP: no answer) */
    RULES_SEND,      /* send bytes[0..len), then do what `then` says */
    RULES_HTTP,      /* an HTTP response (rules_http_head() + body), then `then` */
    RULES_TARPIT,    /* send nothing; hold the connection open, discarding input */
};

enum rules_then {
    RULES_THEN_CLOSE = 0, /* close after sending */
    RULES_THEN_READ,      /* keep reading: RULES_SEND to a silent client (a banner)
                           * classifies what it sends next; RULES_HTTP follows the
                           * request's keep-alive */
    RULES_THEN_TARPIT,    /* hold the connection open, discarding input */
};

/* A reply. Every pointer is into the struct rules it came from (or static)
 * and stays valid until that struct rules is freed. */
struct rules_reply {
    uint8_t action;       /* enum rules_action */
    uint8_t then;         /* enum rules_then, for RULES_SEND and RULES_HTTP */
    const uint8_t *bytes; /* RULES_SEND */
    size_t len;
    uint16_t status;     /* RULES_HTTP: status code 100..999 */
    const char *reason;  /* RULES_HTTP: reason phrase, NUL-terminated */
    const char *headers; /* RULES_HTTP: "Name: value\r\n" lines, NUL-terminated */
    size_t headers_len;
    const uint8_t *body; /* RULES_HTTP */
    size_t body_len;
};

struct rules_result {
    const char *rule;             /* name of the rule that matched; NULL for none */
    int32_t rule_index;           /* its position in the file from 0; -1 for none */
    const char *family;           /* "" when no rule matched or the rule has family=- */
    char bot_id[RULES_BOTID_MAX]; /* "" when none was extracted */
    bool bot_id_truncated;        /* the id was longer and was cut */
    uint32_t limit_hits;          /* regex runs in this call stopped by a limit or error */
    bool reply_suppressed;        /* UDP: the reply chosen was not a datagram no longer than
                                   * the one answered, so reply is RULES_CLOSE */
    struct rules_reply reply;
};

enum rules_outcome {
    RULES_DEFAULT = 0, /* no rule matched: default reply, no family */
    RULES_MATCHED = 1, /* out->rule matched */
};

/* Load the rules file at path. Every mistake is written to errs (if not
 * NULL) as "PATH:LINE: message", at most RULES_ERRORS_MAX of them, then a
 * count of the rest. Returns 0 and *out (free with rules_free()), or
 * SK_ECONFIG after reporting, or -errno if the file cannot be read
 * ("PATH: message"; SK_EINVAL if it is larger than RULES_TEXT_MAX).
 * Relative reply file paths (@path) are resolved against path's folder. */
int rules_load(const char *path, struct rules **out /* OUT */, FILE *errs);

/* The same over text[0..len) in memory (it need not be NUL-terminated);
 * path names it in messages and is the base of relative @paths, but is
 * never opened. */
int rules_load_buf(const char *text, size_t len, const char *path, struct rules **out /* OUT */,
                   FILE *errs);

/* Free r and everything it owns. NULL is a no-op. */
void rules_free(struct rules *r);

/* Number of rules; name and family ("" for family=-) of rule i. */
size_t rules_count(const struct rules *r);
const char *rules_rule_name(const struct rules *r, size_t i);
const char *rules_rule_family(const struct rules *r, size_t i);

/* True if the regexes of r run through the PCRE2 JIT. */
bool rules_jit(const struct rules *r);

/* Per-thread state of rules_classify(): PCRE2 match data, match context
 * and JIT stack. Not tied to a struct rules, so it survives reloads. One
 * per worker thread; never used by two threads at once. Aborts on out of
 * memory; free with rules_scratch_free(). */
struct rules_scratch *rules_scratch_new(void);
void rules_scratch_free(struct rules_scratch *s);

/* Regex runs stopped by a limit (or an error) over the life of s. */
uint64_t rules_scratch_limit_hits(const struct rules_scratch *s);

/* Classify one contact: one HTTP request, one TLS ClientHello, one raw
 * connection's first bytes, one UDP datagram, or a silent client. r may be
 * NULL (no rules configured): the default reply. Fills every field of
 * *out. Reads r and in only; writes only s and *out. */
enum rules_outcome rules_classify(const struct rules *r, const struct rules_input *in,
                                  struct rules_scratch *s, struct rules_result *out /* OUT */);

/* The reply for a contact no rule matched (and for a rule without a reply):
 *  - HTTP: 200 OK, "Content-Type: text/plain", empty body, keep-alive as
 *    the request asks;
 *  - a silent client: send nothing and keep reading (no banner);
 *  - TLS, raw and UDP: close (UDP: no answer). */
const struct rules_reply *rules_default_reply(const struct rules_input *in);

/* Write the head of an HTTP reply into out[0..cap), NUL-terminated:
 * "HTTP/1.1 STATUS REASON\r\n", the rule's headers, "Content-Length: N",
 * "Connection: keep-alive" if keep_alive and rp->then is RULES_THEN_READ,
 * else "Connection: close", and the empty line. The body follows it
 * (a listener leaves the body out for HEAD). Returns the length, or
 * SK_ENOSPACE if it does not fit, or SK_EINVAL if rp is not RULES_HTTP. */
int rules_http_head(const struct rules_reply *rp, bool keep_alive, char *out, size_t cap);

#endif
