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

/* Names for DNS codes: "A", "AAAA", ..., "TYPE65280"; "NOERROR", ... */
const char *dns_type_name(uint16_t type, char buf[16]);
const char *dns_rcode_name(uint16_t rcode, char buf[16]);

#endif
