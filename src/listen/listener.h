/* listen/listener.h -- the connection sinkhole on a worker's event loop.
 *
 * Every [listener.*] section names addresses (IPv4 and IPv6) and a
 * transport. Like the DNS side (dns/server.h), each worker thread opens its
 * own sockets on every address with SO_REUSEPORT, on its own epoll loop, so
 * the kernel spreads clients across workers and nothing on the hot path is
 * shared but a few atomic counters.
 *
 * A TCP connection goes through: limits at accept (max_connections on the
 * listener, max_per_source per source address); the PROXY header from a
 * trusted balancer; sniffing (proto/sniff.h) unless the listener forces a
 * protocol; then
 *  - HTTP: each request head parsed in place (proto/http.h), its body read
 *    and its first http_body_bytes kept, classified (classify/rules.h),
 *    answered, logged as one http event; keep-alive and pipelining;
 *  - TLS: the whole ClientHello collected and parsed, JA3 and JA4 taken,
 *    classified; with tls = terminate the handshake is finished
 *    (listen/tlsterm.h) and the HTTP inside handled as above (events flagged
 *    tls); one tls event per connection, written at close;
 *  - raw: the first capture_bytes kept, classified on what arrived,
 *    answered as the rule says, one raw event written at close;
 *  - silent: at sniff_timeout_ms a client that sent nothing is classified
 *    as proto=silent; its rule may send a banner, and what the client sends
 *    then is classified in turn.
 * A UDP datagram is one raw event, classified and answered by at most one
 * datagram no longer than itself (never an amplifier).
 *
 * Decisions a reader of the events should know:
 *  - PROXY protocol: from a trusted sender (proxy_protocol = prefixes) the
 *    header is required. With it, the client it names is the event's
 *    source (limits key on it); a v2 LOCAL header keeps the sender's own
 *    address. Without a valid one the connection is logged as raw from the
 *    sender with the flag malformed, counted (proxy_bad) and closed; a UDP
 *    datagram is dropped and counted. From a sender that is not trusted,
 *    a PROXY header is not believed: its bytes are logged as raw data
 *    (raw.sniffed proxy-v1 / proxy-v2), counted (proxy_untrusted), and the
 *    connection closed without a reply (a datagram is not answered). A
 *    listener without proxy_protocol treats such bytes as any other raw
 *    data.
 *  - A malformed HTTP request (or a head over http_max_head), or a
 *    malformed ClientHello, continues as raw from the start of that
 *    request: flag malformed, classified as proto=raw, the raw rule's
 *    reply (default: close). A chunked body with bad framing ends the
 *    connection; its request is logged as an http event without status,
 *    flag malformed.
 *  - A connection that ends inside a request head or ClientHello (timeout,
 *    client gone) is logged as raw (or tls without fingerprints) with what
 *    it sent; one that ends inside a body as an http event without status.
 *    A connection that sent nothing is one raw event without data (flag
 *    silent if it outlived the sniff timeout), except from a trusted PROXY
 *    sender (a balancer's health check).
 *  - Connections refused at accept by a limit are counted, not logged.
 *    When accept() itself fails (out of file descriptors, ...) the failure
 *    is counted (accept_errors) and the worker stops accepting for 100 ms
 *    rather than retrying at once.
 *  - With tls = terminate every TLS connection is terminated: the rule
 *    that matches the ClientHello names the family of the tls event, but
 *    its reply is not used; the requests inside get their own.
 *  - HTTP rules see the request head as the contact's bytes (bytes@, len)
 *    and the kept body as http.body.
 *  - Tarpits end at total_timeout_ms only (the idle timeout does not
 *    apply); input is read and discarded (the first bytes kept for raw).
 *  - Timeouts: sniff_timeout_ms from accept to the first byte; header
 *    timeout from the first byte of a request (or of the ClientHello; with
 *    termination it covers the handshake and the first request) to the
 *    end of its head; idle timeout whenever the connection waits (between
 *    requests, during a body, after a raw reply), restarted by every byte
 *    read or sent; total timeout from accept. 0 turns one off.
 *
 * Limits are shared by all workers: an atomic count of open connections
 * per listener, and for max_per_source a fixed table of LISTEN_SOURCE_SLOTS
 * atomic counts indexed by a keyed hash of (listener, source address).
 * Two sources that share a slot share its count, so the limit can only
 * bite early, never late (conservative); with 65,536 slots and a random
 * key per start, that takes many sources at once or bad luck.
 *
 * MEMORY. An idle connection (keep-alive between requests, or a silent
 * client) costs one struct conn (224 bytes, see listen_internal.h)
 * and nothing else: no buffer is attached to it. Bytes are read into one
 * 64 KiB buffer per worker and parsed there in place; only bytes that do
 * not yet form a whole unit (a partial request head, ClientHello, sniff
 * prefix) are copied into a buffer of the connection, sized to what it
 * holds (at least 512 bytes, from a per-worker free list of up to 256,
 * doubled as a long head grows), and given back as soon as it is consumed:
 * a slowloris client half-way through a head costs under 1 KiB. Replies are written with one send()
 * from a per-worker staging buffer; only what the socket does not take is
 * copied to a buffer of the connection, freed once sent. Raw and TLS
 * connections keep, until close, what their event needs: the captured
 * bytes (at most capture_bytes, allocated as they arrive) and the
 * classification (family, rule, bot id; about 250 bytes, only when there
 * is one), plus SNI/ALPN/fingerprints for TLS (about 600 bytes); an HTTP
 * body being read keeps its request head and up to http_body_bytes. A
 * terminated TLS session adds the OpenSSL session and the parsed hello.
 * Per worker: about 400 KiB of buffers (free list included); shared: 256 KiB for the per-source
 * table. So 1,000,000 idle connections take about 220 MB of process
 * memory (plus the kernel's socket memory, which is not the process's). */
#ifndef SK_LISTEN_LISTENER_H
#define SK_LISTEN_LISTENER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "classify/rules.h"
#include "core/config.h"
#include "core/loop.h"
#include "evlog/evlog.h"
#include "listen/tlsterm.h"
#include "stats/counters.h"

#define LISTEN_SOURCE_SLOTS 65536 /* per-source counts, shared by all listeners */

typedef void (*listen_event_cb)(void *arg, const struct sk_event *ev);

/* What every worker's listeners share. Set up by listen_shared_init(). */
struct listen_shared {
    const struct sk_config *cfg; /* startup config: listeners, limits */
    /* The family rules in force (NULL: none, every contact gets the
     * default reply); swapped like dns_shared.zones: store the new pointer,
     * bump gen, wait until every worker's listen_worker_seen_gen() reaches
     * it, then free the old rules. Workers copy reply bytes out at once and
     * never hold a pointer into a struct rules across loop turns. */
    _Atomic(struct rules *) rules;
    _Atomic uint64_t gen;
    struct tlsterm_ctx **tls;  /* [n_listeners]; NULL unless tls = terminate */
    _Atomic uint32_t *open;    /* [n_listeners]: TCP connections open now */
    _Atomic uint32_t *sources; /* [LISTEN_SOURCE_SLOTS] per-source open counts */
    uint64_t source_key;       /* random key of the per-source hash */
    /* Tests: when set, every event goes here instead of the event log. */
    listen_event_cb event_cb;
    void *event_arg;
};

/* Fill sh for cfg (kept by pointer) with rules (owned by sh from now on;
 * NULL for none): the limit tables and, for each listener with
 * tls = terminate, its TLS context (certificate from the files or
 * generated). Returns 0, or a negative SK_E* code after writing the reason
 * to errs ("listener NAME: ..."). On failure nothing needs freeing. */
int listen_shared_init(struct listen_shared *sh, const struct sk_config *cfg, struct rules *rules,
                       FILE *errs);

/* Free what listen_shared_init() made, the rules in force included. Call
 * after every worker is freed. */
void listen_shared_free(struct listen_shared *sh);

struct listen_worker;

/* Open this worker's sockets for every [listener.*] address and register
 * them on loop. Returns a worker, or NULL (reason logged: "cannot listen
 * on ..."). q is the worker's event queue (NULL: no log). A config
 * without listeners gives a worker with nothing to do. */
struct listen_worker *listen_worker_new(struct listen_shared *sh, int id, struct loop *loop,
                                        struct evlog_queue *q);

/* Called every turn of the worker's loop (which must wake at least every
 * 100 ms): announces the rules generation seen and applies the timeouts. */
void listen_worker_tick(struct listen_worker *w);

/* Stop accepting, stop reading, send what is already answered (bounded by
 * deadline_ms), then close every connection, writing the events of those
 * still open with close_reason shutdown. Runs on the worker's own thread;
 * the counters stay readable until listen_worker_free(). */
void listen_worker_stop(struct listen_worker *w, int deadline_ms);
void listen_worker_free(struct listen_worker *w);

/* The counters of listener i (index in cfg->listeners) on this worker;
 * any thread may read them. */
const struct listen_counters *listen_worker_counters(const struct listen_worker *w, int i);
uint64_t listen_worker_seen_gen(const struct listen_worker *w);

/* The address socket k of listener i is bound to (with the port the
 * kernel chose for port 0). Returns 0, or SK_ENOTFOUND if there is no such
 * socket. */
int listen_worker_bound(const struct listen_worker *w, int i, int k, struct sk_ip *out /* OUT */);

#endif
