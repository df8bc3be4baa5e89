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

#define SK_EVENT_SCHEMA  2 /* bump on any change of fields or meaning */
#define SK_FAMILY_MAX    32
#define SK_LIST_NAME_MAX 32
#define SK_BOTID_MAX     128 /* with the NUL; = RULES_BOTID_MAX */
#define SK_RULE_MAX      64  /* with the NUL; = RULES_NAME_MAX */
#define SK_JA3_LEN       32  /* hex MD5 */
#define SK_JA4_LEN       36

/* Caps on the variable-length fields of one event, so that every event
 * fits in one record (EVLOG_PAYLOAD_MAX). Producers cut longer values and
 * set the matching *_TRUNC flag. */
#define SK_EV_SHORT_MAX   255   /* method, host, content type, SNI, ALPN */
#define SK_EV_URL_MAX     4096  /* URL, user agent, referer */
#define SK_EV_CAPTURE_MAX 16384 /* raw first bytes, HTTP body bytes kept */

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

/* Bytes that belong to the producer (or, after decoding, to the reader's
 * buffer, valid until its next record). Not NUL-terminated. */
struct sk_span {
    const uint8_t *p;
    uint32_t len;
};

/* Flags of connection events (http, tls, raw). */
#define SK_CONNF_TLS        0x0001 /* http: the request came inside a terminated TLS session */
#define SK_CONNF_KEEPALIVE  0x0002 /* http: the connection stayed open after it */
#define SK_CONNF_TRUNC      0x0004 /* a value or the capture was cut to its cap */
#define SK_CONNF_SILENT     0x0008 /* raw: the client sent nothing before the sniff timeout */
#define SK_CONNF_BANNER     0x0010 /* raw: a banner was sent to a silent client */
#define SK_CONNF_MALFORMED  0x0020 /* raw: looked like HTTP or TLS but did not parse */
#define SK_CONNF_TERMINATED 0x0040 /* tls: the handshake was finished by the sinkhole */
#define SK_CONNF_LIMIT      0x0080 /* closed by a limit (timeout, max bytes, ...): see close_reason */
#define SK_CONNF_TARPIT     0x0100 /* held open without an answer */

/* Why a connection ended (connection events). */
enum sk_close_reason {
    SK_CLOSE_NONE = 0,      /* still open (http event of a keep-alive connection) */
    SK_CLOSE_CLIENT = 1,    /* the client closed */
    SK_CLOSE_SERVER = 2,    /* the sinkhole closed after its reply */
    SK_CLOSE_IDLE = 3,      /* idle timeout */
    SK_CLOSE_HEADER = 4,    /* header / ClientHello timeout */
    SK_CLOSE_TOTAL = 5,     /* total time limit (tarpits end here) */
    SK_CLOSE_MAX_BYTES = 6, /* read more than max_bytes */
    SK_CLOSE_ERROR = 7,     /* socket or TLS error, reset */
    SK_CLOSE_SHUTDOWN = 8,  /* the daemon stopped */
};

struct sk_event_http {
    struct sk_span method, host, url, user_agent, referer, content_type;
    struct sk_span body; /* the first body bytes, at most [listener] http_body_bytes */
    uint64_t body_len;   /* body bytes the request carried (de-chunked) */
    uint16_t status;     /* status sent, 0 if none */
    uint8_t version;     /* 9, 10 or 11 (HTTP/0.9, 1.0, 1.1) */
    uint32_t request;    /* 1 for the first request of the connection, 2 ... */
};

struct sk_event_tls {
    struct sk_span sni, alpn; /* alpn: the first protocol offered */
    uint16_t version;         /* highest version offered (0x0304 = TLS 1.3) */
    uint16_t record_version;
    char ja3[SK_JA3_LEN + 1]; /* "" if no ClientHello was parsed */
    char ja4[SK_JA4_LEN + 1];
};

struct sk_event_raw {
    struct sk_span data;    /* the first bytes the client sent, at most capture_bytes */
    uint32_t first_byte_ms; /* from accept to the first byte (0 for UDP) */
    uint8_t sniffed;        /* enum sniff_proto the bytes were taken for */
};

struct sk_event {
    uint64_t ts_us; /* sk_clock_now_us() when the packet was read */
    uint8_t kind;   /* enum sk_event_kind */
    uint8_t proto;  /* enum sk_event_proto */
    struct sk_ip src, dst;
    struct sk_ip proxied_by;     /* af 0 unless a PROXY header named src */
    char family[SK_FAMILY_MAX];  /* "" when no list or rule matched */
    char list[SK_LIST_NAME_MAX]; /* the [seized.*] list or [listener.*], "" if none */

    /* Connection events (http, tls, raw); zero for dns. */
    char bot_id[SK_BOTID_MAX]; /* "" when no rule extracted one */
    char rule[SK_RULE_MAX];    /* the rule that matched, "" if none */
    uint16_t flags;            /* SK_CONNF_* */
    uint8_t close_reason;      /* enum sk_close_reason */
    uint64_t bytes_in;         /* bytes read from the client (http: this request) */
    uint64_t bytes_out;        /* bytes sent to it (http: this reply) */
    uint64_t duration_us;      /* accept to close (http: request start to reply sent) */

    union {
        struct sk_event_dns dns;
        struct sk_event_http http;
        struct sk_event_tls tls;
        struct sk_event_raw raw;
    } u;
};

#endif
