/* proto/sniff.h -- tell the protocol of a connection from its first bytes.
 *
 * A listener does not assume that a port carries one protocol: it reads
 * what the client sends first and hands the connection to the HTTP parser,
 * the TLS ClientHello parser, the PROXY protocol parser or the raw capture.
 * sniff_classify() is a pure function of the bytes seen so far; the caller
 * calls it again as more arrive and stops at the first answer other than
 * SNIFF_NEED_MORE. The answer for a buffer never changes when bytes are
 * appended to it, so calling again after more data is always safe.
 *
 * Rules, in order:
 *  - PROXY v2: the 12-byte signature "\r\n\r\n\0\r\nQUIT\n".
 *  - PROXY v1: "PROXY " (the v1 parser then checks the rest of the line).
 *  - TLS: a handshake record, 0x16 0x03 then a minor version 0x00..0x04.
 *    An SSLv2-compatible hello is not recognised and is raw.
 *  - HTTP: a request line "METHOD SP target": a method known to HTTP or
 *    WebDAV followed by a space, or any other method of 3..SNIFF_METHOD_MAX
 *    upper-case letters followed by a space and a target starting with
 *    '/', '*' or a letter (absolute or authority form). Methods are
 *    case-sensitive (RFC 9110 9.1), so "get /" is raw.
 *  - Anything else: raw.
 * While the bytes seen are a prefix of something the rules could still
 * accept, the answer is SNIFF_NEED_MORE; a listener applies its sniff
 * timeout to that state. */
#ifndef SK_PROTO_SNIFF_H
#define SK_PROTO_SNIFF_H

#include <stddef.h>
#include <stdint.h>

#define SNIFF_METHOD_MAX 20 /* longest method accepted without being known */

/* The longest prefix sniff_classify() may need before it decides. */
#define SNIFF_DECIDE_MAX (SNIFF_METHOD_MAX + 2)

enum sniff_proto {
    SNIFF_NEED_MORE = 0, /* undecided: call again with more bytes */
    SNIFF_HTTP,
    SNIFF_TLS,
    SNIFF_PROXY_V1,
    SNIFF_PROXY_V2,
    SNIFF_RAW,
};

/* Classify the first len bytes a client sent. Decides at the latest after
 * SNIFF_DECIDE_MAX bytes; len 0 is SNIFF_NEED_MORE. */
enum sniff_proto sniff_classify(const uint8_t *buf, size_t len);

/* "need-more", "http", "tls", "proxy-v1", "proxy-v2" or "raw". */
const char *sniff_proto_name(enum sniff_proto p);

#endif
