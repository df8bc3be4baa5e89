/* evlog/event.h -- the one event struct every producer fills.
 *
 * A DNS query, an HTTP request, a TLS or raw contact: each becomes one
 * struct sk_event, handed to evlog_append() (evlog/evlog.h). The struct is
 * plain data of fixed size, so it can be copied through lock-free queues
 * without allocation. Its on-disk form is in evlog/record.h and its export
 * names in docs/events.md (Suricata EVE / Zeek style). */
#ifndef SK_EVLOG_EVENT_H
#define SK_EVLOG_EVENT_H

#include <stdint.h>

#include "core/addr.h"
#include "dns/name.h"

#define SK_EVENT_SCHEMA  1 /* bump on any change of fields or meaning */
#define SK_FAMILY_MAX    32
#define SK_LIST_NAME_MAX 32

enum sk_event_kind { SK_EV_DNS = 1, SK_EV_HTTP = 2, SK_EV_TLS = 3, SK_EV_RAW = 4 };
enum sk_event_proto { SK_PROTO_UDP = 17, SK_PROTO_TCP = 6 };

/* What rate limiting did to a DNS response. */
enum sk_rrl_action { SK_RRL_PASS = 0, SK_RRL_SLIP = 1, SK_RRL_DROP = 2, SK_RRL_EXEMPT = 3 };

/* Response flags recorded for a DNS event. */
#define SK_DNSF_AA      0x01 /* authoritative answer */
#define SK_DNSF_TC      0x02 /* truncated */
#define SK_DNSF_EDNS    0x04 /* query had an OPT record */
#define SK_DNSF_DO      0x08 /* DNSSEC OK bit */
#define SK_DNSF_RD      0x10 /* recursion desired (copied) */
#define SK_DNSF_NOREPLY 0x20 /* no response sent (dropped) */

struct sk_event_dns {
    uint8_t qname[DNS_NAME_MAX]; /* wire form, case as sent */
    uint8_t qname_len;           /* 0: no question could be read */
    uint16_t qtype, qclass;
    uint16_t id;
    uint16_t rcode; /* extended: 16 = BADVERS */
    uint8_t flags;  /* SK_DNSF_* */
    uint8_t rrl;    /* enum sk_rrl_action */
    uint8_t opcode;
    uint16_t edns_size; /* client's UDP size, 0 without EDNS */
    uint16_t resp_len;  /* bytes sent, 0 if none */
    uint16_t ancount;
    /* EDNS Client Subnet, the only clue to the bot behind a resolver. */
    uint8_t ecs_af; /* 0 none, 4 or 6 */
    uint8_t ecs_source, ecs_scope;
    uint8_t ecs_addr[16];
};

struct sk_event {
    uint64_t ts_us; /* sk_clock_now_us() when the packet was read */
    uint8_t kind;   /* enum sk_event_kind */
    uint8_t proto;  /* enum sk_event_proto */
    struct sk_ip src, dst;
    struct sk_ip proxied_by;     /* af 0 unless a PROXY header named src */
    char family[SK_FAMILY_MAX];  /* "" when no list or rule matched */
    char list[SK_LIST_NAME_MAX]; /* the [seized.*] list, "" if none */
    union {
        struct sk_event_dns dns;
    } u;
};

#endif
