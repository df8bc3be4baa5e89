/* listen/proxy.h -- PROXY protocol v1 and v2 header parser.
 *
 * A load balancer in front of the sinkhole prepends a PROXY header
 * (HAProxy's proxy-protocol.txt) carrying the real client address; the
 * listener parses it, checks that the peer is a trusted balancer, and then
 * treats the connection (or datagram) as coming from the address inside.
 * Pure functions over caller-owned bytes: no allocation, every read
 * bounds-checked. Trust is the caller's business, not the parser's.
 *
 * v1: "PROXY TCP4|TCP6 src dst sport dport\r\n" or "PROXY UNKNOWN...\r\n",
 *     at most 107 bytes, single spaces, addresses of the stated family,
 *     ports 0..65535 in decimal without leading zeros.
 * v2: 12-byte signature, version 2, command LOCAL or PROXY, family and
 *     transport, 16-bit length, addresses, then TLVs. TLVs must tile the
 *     rest of the header exactly; a PP2_TYPE_CRC32C TLV, if present, must
 *     match. UNSPEC and AF_UNIX addresses carry nothing usable: like LOCAL
 *     they mean "use the connection's own addresses" (has_addrs false). */
#ifndef SK_LISTEN_PROXY_H
#define SK_LISTEN_PROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"

#define PROXY_V1_MAX     107 /* longest v1 line, CRLF included */
#define PROXY_V2_HDR_LEN 16  /* signature, ver_cmd, fam, len */

/* PP2 TLV types (proxy-protocol.txt 2.2.1 and after). */
#define PROXY_TLV_ALPN      0x01
#define PROXY_TLV_AUTHORITY 0x02
#define PROXY_TLV_CRC32C    0x03
#define PROXY_TLV_NOOP      0x04
#define PROXY_TLV_UNIQUE_ID 0x05
#define PROXY_TLV_SSL       0x20
#define PROXY_TLV_NETNS     0x30

enum proxy_status {
    PROXY_COMPLETE = 0, /* header parsed: h->len bytes to skip */
    PROXY_NEED_MORE,    /* a prefix of a header so far */
    PROXY_MALFORMED,    /* not a header this parser accepts */
};

enum proxy_transport {
    PROXY_TRANSPORT_UNSPEC = 0, /* v1 UNKNOWN, v2 UNSPEC or LOCAL */
    PROXY_TRANSPORT_TCP,        /* v1 TCP4/TCP6, v2 STREAM */
    PROXY_TRANSPORT_UDP,        /* v2 DGRAM */
};

struct proxy_header {
    size_t len;            /* bytes of the header, to skip before the payload */
    uint8_t version;       /* 1 or 2 */
    bool local;            /* v2 LOCAL: the balancer's own connection (health check) */
    bool has_addrs;        /* src and dst hold the real endpoints */
    uint8_t transport;     /* enum proxy_transport */
    struct sk_ip src, dst; /* with ports; af 0 unless has_addrs */
    /* v2: TLVs are buf[tlv_off .. tlv_off + tlv_len); see proxy_tlv_next(). */
    size_t tlv_off, tlv_len;
};

/* Parse a v1 or v2 header at the start of buf[0..len). Bytes after the
 * header are not looked at. A strict prefix of a valid header gives
 * PROXY_NEED_MORE; anything that cannot become one gives PROXY_MALFORMED
 * as soon as that is certain. *h is filled on PROXY_COMPLETE. */
enum proxy_status proxy_parse(const uint8_t *buf, size_t len, struct proxy_header *h /* OUT */);

/* Iterate the TLVs of a parsed v2 header: start with *pos = h->tlv_off and
 * end = h->tlv_off + h->tlv_len. Returns true and the next TLV's type and
 * value (pointing into buf), advancing *pos; false at the end. The framing
 * was checked by proxy_parse(), but reads are bounded by end regardless. */
bool proxy_tlv_next(const uint8_t *buf, size_t end, size_t *pos, uint8_t *type /* OUT */,
                    const uint8_t **value /* OUT */, uint16_t *value_len /* OUT */);

#endif
