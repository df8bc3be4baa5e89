/* evlog/json.h -- an event as one JSON line (the export and tap format).
 *
 * Names follow Suricata EVE / Zeek, as docs/events.md lists them:
 * timestamp, event_type, event_id, node, proto, src_ip, src_port, dest_ip,
 * dest_port, proxied_by, family, list, and per kind an object (dns: rrname,
 * rrtype, rcode, ...). Writing JSON needs no library: a small escaper. */
#ifndef SK_EVLOG_JSON_H
#define SK_EVLOG_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "evlog/event.h"

/* Write ev as a JSON object (no newline) into out[0..cap), NUL-terminated.
 * node, segment and recno make the event id "node-segment-recno".
 * Returns the length, or SK_ENOSPACE. 4096 bytes always suffice. */
int evlog_event_json(const struct sk_event *ev, const char *node, uint64_t segment, uint64_t recno,
                     char *out, size_t cap);

/* The same with the event's sequence number (docs/events.md) as "seq"
 * after event_id; seq 0 leaves it out. */
int evlog_event_json_seq(const struct sk_event *ev, const char *node, uint64_t segment,
                         uint64_t recno, uint64_t seq, char *out, size_t cap);

/* Text forms shared by the export formats, without printf:
 * the timestamp as RFC 3339 UTC with µs (out: 32 bytes, NUL-terminated),
 * an address (out: SK_IP_TEXT_MAX), the event id node-SEGMENT-recno (out:
 * EVLOG_EVENT_ID_MAX). Each returns the text's length. */
#define EVLOG_EVENT_ID_MAX 300
size_t evlog_format_time(uint64_t us, char out[32]);
size_t evlog_format_ip(const struct sk_ip *ip, char out[SK_IP_TEXT_MAX]);
size_t evlog_format_event_id(const char *node, uint64_t segment, uint64_t recno,
                             char out[EVLOG_EVENT_ID_MAX]);

/* "dns", "http", "tls", "raw", or "unknown". */
const char *evlog_kind_name(uint8_t kind);

/* Names of the DNS flags set in flags (SK_DNSF_*), in JSON export order,
 * into names[0..5); returns how many. */
int evlog_dns_flag_names(uint8_t flags, const char *names[5]);

/* rrl action names: "pass", "slip", "drop", "exempt". */
const char *evlog_rrl_name(uint8_t action);

/* Names for DNS codes: "A", "AAAA", ..., "TYPE65280"; "NOERROR", ... */
const char *dns_type_name(uint16_t type, char buf[16]);
const char *dns_rcode_name(uint16_t rcode, char buf[16]);

#endif
