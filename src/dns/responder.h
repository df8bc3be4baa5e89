/* dns/responder.h -- answer one query as the seized zones' authority.
 *
 * Each seized name is served as its own zone with a wildcard below the
 * apex: A/AAAA with the list's sinkhole addresses at and below the apex,
 * SOA and NS at the apex, NOERROR with no data (SOA in authority) for any
 * other type, REFUSED or NXDOMAIN outside every list, one RRset for ANY
 * (RFC 8482). The rules are spelled out in docs/operations.md; the
 * differential test holds them against NSD.
 *
 * Pure: reads the packet and the zones, writes the reply into a caller
 * buffer, allocates nothing, touches no global state. */
#ifndef SK_DNS_RESPONDER_H
#define SK_DNS_RESPONDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns/wire.h"
#include "dns/zones.h"

enum dns_result { DNS_REPLY, DNS_DROP };

/* Response classes, for rate limiting (as NSD and Knot classify). */
enum dns_rrl_class {
    DNS_RRL_POSITIVE = 1, /* data at a name (apex) */
    DNS_RRL_WILDCARD,     /* data synthesised below an apex: keyed by the apex */
    DNS_RRL_NODATA,
    DNS_RRL_NXDOMAIN,
    DNS_RRL_ERROR, /* REFUSED, FORMERR, NOTIMP, BADVERS */
    DNS_RRL_ANY,
};

/* What happened, for the event record and the rate limiter. */
struct dns_response_meta {
    uint16_t rcode;             /* extended (BADVERS = 16) */
    int list;                   /* index of the [seized.*] list that matched, -1 if none */
    uint8_t apex_off, apex_len; /* where the seized name sits in q->qname */
    uint8_t rrl_class;
    uint16_t ancount;
    bool aa, tc;
};

/* Answer pkt[0..len). tcp selects the size limit (65535, else the EDNS
 * size capped by [dns] max_udp_size, or 512 without EDNS). On DNS_REPLY
 * the reply is in out[0..*outlen) (outcap must be >= 65535 for TCP, >= the
 * UDP limit otherwise). *q and *m are filled either way, as far as the
 * packet could be read. */
enum dns_result dns_respond(const struct dns_zones *z, const uint8_t *pkt, size_t len, bool tcp,
                            struct dns_query *q /* OUT */, uint8_t *out, size_t outcap,
                            size_t *outlen /* OUT */, struct dns_response_meta *m /* OUT */);

/* The "slip" reply of rate limiting: the question with TC set and nothing
 * else, so a real resolver retries over TCP. Returns its length. */
size_t dns_respond_slip(const uint8_t *reply, size_t reply_len, uint8_t *out, size_t cap);

#endif
