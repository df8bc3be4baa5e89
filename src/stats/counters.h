/* stats/counters.h -- live counters of the DNS sinkhole, one set per worker.
 *
 * Each worker owns its struct dns_counters and is its only writer, so an
 * increment is a relaxed load and store (a plain add on x86, no locked
 * instruction on the hot path); any thread may read them for stats.json
 * and sum the workers' sets with dns_counters_add(). */
#ifndef SK_STATS_COUNTERS_H
#define SK_STATS_COUNTERS_H

#include <stdatomic.h>
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

#endif
