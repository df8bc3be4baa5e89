/* evlog/json.h -- an event as one JSON line (the export and tap format).
 *
 * Names follow Suricata EVE / Zeek, as docs/events.md lists them:
 * timestamp, event_type, event_id, node, proto, src_ip, src_port, dest_ip,
 * dest_port, proxied_by, family, list, then for connection events bot_id
 * and rule, then per kind an object (dns: rrname, rrtype, rcode, ...;
 * http: hostname, url, http_method, ...; tls: sni, version, ja3.hash, ...;
 * raw: data, ...), then for connection events flags, close_reason,
 * bytes_in, bytes_out, duration.
 * Writing JSON needs no library: one small escaper, here, for every JSON
 * the project writes. Bytes outside printable ASCII in strings are each
 * written \u00XX (lossless: the string's code points are the bytes);
 * captured bytes are base64. */
#ifndef SK_EVLOG_JSON_H
#define SK_EVLOG_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "evlog/event.h"

/* Bytes that always suffice for one event's JSON: an HTTP event with every
 * value at its cap and every byte escaped takes about 106,000. A DNS event
 * takes at most about 5,000. */
#define EVLOG_JSON_MAX (128u << 10)

/* Write ev as a JSON object (no newline) into out[0..cap), NUL-terminated.
 * node, segment and recno make the event id "node-segment-recno".
 * Returns the length, or SK_ENOSPACE. EVLOG_JSON_MAX bytes always
 * suffice. */
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

/* s[0..n) as a JSON string with its quotes into out[0..cap),
 * NUL-terminated: '"' and '\\' escaped, every other byte outside 0x20-0x7e
 * as \u00XX. Returns the length, or SK_ENOSPACE; 6 * n + 3 bytes always
 * suffice. */
int evlog_json_string(const void *s, size_t n, char *out, size_t cap);

/* Standard base64 (RFC 4648, with padding) of p[0..n) into out, which
 * needs 4 * ceil(n / 3) + 1 bytes; NUL-terminated. Returns the length. */
size_t evlog_base64(const uint8_t *p, size_t n, char *out);

/* Seconds with 6 decimals, "12.000345" (out: 32 bytes). Returns the
 * length. */
size_t evlog_format_duration(uint64_t us, char out[32]);

/* Names of the connection flags set in flags (SK_CONNF_*: "tls",
 * "keepalive", "truncated", "silent", "banner", "malformed",
 * "terminated", "limit", "tarpit"; a bit without a name as "0x0200"), in
 * bit order, into names; returns how many. */
#define EVLOG_CONN_FLAGS_MAX 16
int evlog_conn_flag_names(uint16_t flags, const char *names[EVLOG_CONN_FLAGS_MAX]);

/* enum sk_close_reason as a name: "none", "client", "server", "idle",
 * "header", "total", "max_bytes", "error", "shutdown"; else its number. */
const char *evlog_close_reason_name(uint8_t reason, char buf[8]);

/* A TLS version as Suricata names it: "SSLv2", "SSLv3", "TLSv1",
 * "TLS 1.1", "TLS 1.2", "TLS 1.3"; else "0x7f1c". */
const char *evlog_tls_version_name(uint16_t version, char buf[8]);

/* "HTTP/1.1" for version 11 (HTTP/0.9: 9); "" for 0. */
const char *evlog_http_protocol(uint8_t version, char buf[16]);

/* What the sniffer took a raw contact for (enum sniff_proto): "none"
 * (undecided), "http", "tls", "proxy-v1", "proxy-v2", "raw"; "unknown". */
const char *evlog_sniff_name(uint8_t sniffed);

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
