/* dns/server.h -- the DNS sinkhole on a worker's event loop.
 *
 * Every worker thread opens its own UDP and TCP sockets on each [dns]
 * listen address with SO_REUSEPORT, so the kernel spreads clients across
 * workers and no socket is shared. UDP is read and answered in batches with
 * recvmmsg/sendmmsg; TCP takes the 2-byte length prefix and any number of
 * pipelined queries per connection. Each query is answered from memory
 * (the zones the shared state points to), rate limited, counted, and
 * handed to the event log; nothing on the way waits for another thread.
 *
 * Zones are swapped by dns_shared_swap_zones(); a worker announces in
 * seen_gen the generation it read at the top of each loop turn, and the
 * old zones are freed once every worker has moved past them. */
#ifndef SK_DNS_SERVER_H
#define SK_DNS_SERVER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/config.h"
#include "core/loop.h"
#include "dns/rrl.h"
#include "dns/zones.h"
#include "evlog/evlog.h"
#include "stats/counters.h"

struct dns_shared {
    const struct sk_config *cfg; /* startup config: listen, TCP limits */
    _Atomic(struct dns_zones *) zones;
    _Atomic uint64_t gen;
    struct rrl *rrl; /* NULL: no rate limiting */
    struct evlog *evlog;
};

struct dns_worker;

/* Open this worker's sockets on every listen address and register them on
 * loop. Returns a worker or NULL (reason logged). q is its event queue. */
struct dns_worker *dns_worker_new(struct dns_shared *sh, int id, struct loop *loop,
                                  struct evlog_queue *q);

/* Called every turn of the worker's loop: announces the zones generation
 * seen and closes idle TCP connections. */
void dns_worker_tick(struct dns_worker *w);

/* Stop accepting, answer what is already queued in the sockets and
 * buffers (bounded by deadline_ms) and close every socket. Runs on the
 * worker's own thread; the counters stay readable until dns_worker_free(). */
void dns_worker_stop(struct dns_worker *w, int deadline_ms);
void dns_worker_free(struct dns_worker *w);

const struct dns_counters *dns_worker_counters(const struct dns_worker *w);
uint64_t dns_worker_seen_gen(const struct dns_worker *w);

#endif
