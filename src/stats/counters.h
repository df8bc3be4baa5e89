/* stats/counters.h -- live counters of the DNS and connection sinkholes,
 * one set per worker (and, for listeners, per listener).
 *
 * Each worker owns its sets and is their only writer, so an increment is a
 * relaxed load and store (a plain add on x86, no locked instruction on the
 * hot path); any thread may read them for stats.json and sum the workers'
 * sets with dns_counters_add() / listen_counters_add(). */
#ifndef SK_STATS_COUNTERS_H
#define SK_STATS_COUNTERS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define CTR_INC(c) CTR_ADD(c, 1)
#define CTR_ADD(c, n)                                                                   \
    atomic_store_explicit(&(c), atomic_load_explicit(&(c), memory_order_relaxed) + (n), \
                          memory_order_relaxed)
#define CTR_GET(c) atomic_load_explicit(&(c), memory_order_relaxed)

#define DNS_RCODE_SLOTS 17 /* 0..15 and BADVERS (16) */

struct dns_counters {
    _Atomic uint64_t queries;                /* packets that were DNS queries (answered or not) */
    _Atomic uint64_t udp, tcp;               /* queries by transport */
    _Atomic uint64_t malformed_dropped;      /* dropped unanswered: short, QR set, no question */
    _Atomic uint64_t rcode[DNS_RCODE_SLOTS]; /* responses by rcode */
    _Atomic uint64_t responses;
    _Atomic uint64_t truncated;
    _Atomic uint64_t seized_hits; /* queries under a seized name */
    _Atomic uint64_t rrl_slipped, rrl_dropped, rrl_exempt;
    _Atomic uint64_t send_errors;
    _Atomic uint64_t tcp_accepted, tcp_closed, tcp_idle_timeouts, tcp_rejected, tcp_oversize;
    _Atomic uint64_t tcp_current;
    _Atomic uint64_t events_dropped; /* event queue full */
    _Atomic uint64_t proxied;        /* queries and TCP connections a PROXY header named */
    _Atomic uint64_t proxy_bad;      /* from a trusted sender without a valid header: dropped */
};

/* acc += each field of c (relaxed reads). */
void dns_counters_add(struct dns_counters *acc, const struct dns_counters *c);

/* Counters of one [listener.*] on one worker (listen/listener.h). The
 * names are the keys of the listener's object in stats.json, in this
 * order; X(name, meaning). */
#define LISTEN_COUNTERS(X)                                                                 \
    X(connections_accepted, "TCP connections taken")                                       \
    X(connections_closed, "TCP connections closed (for any reason)")                       \
    X(connections_current, "TCP connections open now")                                     \
    X(max_connections_rejected, "closed at accept: the listener had max_connections open") \
    X(per_source_rejected, "closed at accept: the source had max_per_source open")         \
    X(accept_errors, "accept() failures (out of file descriptors, ...)")                   \
    X(requests, "HTTP requests answered or logged (inside TLS too)")                       \
    X(datagrams, "UDP datagrams taken")                                                    \
    X(bytes_in, "bytes read from clients (after any PROXY header)")                        \
    X(bytes_out, "bytes sent to clients")                                                  \
    X(events_http, "http events handed to the log")                                        \
    X(events_tls, "tls events handed to the log")                                          \
    X(events_raw, "raw events handed to the log")                                          \
    X(events_dropped, "events the log could not take (queue full)")                        \
    X(rules_matched, "contacts a family rule matched")                                     \
    X(rule_limit_hits, "regex runs stopped by a match/depth/heap limit")                   \
    X(sniff_timeouts, "clients silent until sniff_timeout_ms")                             \
    X(header_timeouts, "closed: no whole request head / ClientHello in header_timeout_ms") \
    X(idle_timeouts, "closed: nothing moved for idle_timeout_ms")                          \
    X(total_timeouts, "closed: open for total_timeout_ms (tarpits end here)")              \
    X(max_bytes_closed, "closed: the client sent more than max_bytes")                     \
    X(head_too_large, "HTTP request heads over http_max_head (logged as raw)")             \
    X(http_malformed, "malformed HTTP requests (logged as raw)")                           \
    X(tls_malformed, "malformed ClientHellos (logged as raw)")                             \
    X(proxied, "connections and datagrams whose client a PROXY header named")              \
    X(proxy_bad, "from a trusted sender without a valid PROXY header: closed or dropped")  \
    X(proxy_untrusted, "PROXY headers from senders not trusted: logged as raw, closed")    \
    X(tls_handshakes, "TLS handshakes finished (tls = terminate)")                         \
    X(tls_handshake_failures, "TLS handshakes that failed (tls = terminate)")              \
    X(tarpits, "connections held open by a tarpit reply")                                  \
    X(banners, "banners sent to silent clients")                                           \
    X(udp_replies, "UDP replies sent")                                                     \
    X(udp_suppressed, "UDP replies not sent: longer than the datagram, or not a datagram") \
    X(send_errors, "send failures other than a full socket buffer")

struct listen_counters {
#define LISTEN_CTR_FIELD_(name, doc) _Atomic uint64_t name;
    LISTEN_COUNTERS(LISTEN_CTR_FIELD_)
#undef LISTEN_CTR_FIELD_
};

/* Number of counters and the name of counter i (the field order). */
#define LISTEN_COUNTERS_N (sizeof(struct listen_counters) / sizeof(uint64_t))
const char *listen_counter_name(size_t i);

/* Counter i of c (relaxed read). */
uint64_t listen_counter_get(const struct listen_counters *c, size_t i);

/* acc += each field of c (relaxed reads). */
void listen_counters_add(struct listen_counters *acc, const struct listen_counters *c);

#endif
