/* listen/listen_internal.h -- what the files of the connection sinkhole
 * share (listener.c: sockets, limits, timers; conn.c and conn_proto.c: TCP
 * connections; udp.c: datagrams). Not a public interface: the listen__
 * functions are here so the unit tests can reach them. */
#ifndef SK_LISTEN_INTERNAL_H
#define SK_LISTEN_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "classify/rules.h"
#include "core/addr.h"
#include "core/sock.h"
#include "evlog/event.h"
#include "listen/listener.h"
#include "proto/http.h"
#include "proto/tls.h"

#define LISTEN_RBUF            65536        /* per-worker read buffer */
#define LISTEN_PBUF            16384        /* per-worker TLS plaintext buffer */
#define LISTEN_OBUF            65536        /* per-worker staging buffer for replies */
#define LISTEN_OUT_HIGH        (256 * 1024) /* stop reading while this much is unsent */
#define LISTEN_IN_SMALL        512          /* input buffers of this size are recycled */
#define LISTEN_FREE_MAX        256          /* ... at most this many per worker */
#define LISTEN_READS           4            /* reads per readiness event, for fairness */
#define LISTEN_ROUNDS          4            /* resumes of a paused reader per turn, for fairness */
#define LISTEN_ACCEPT_PAUSE_US 100000       /* accept off this long after a lasting error */
#define LISTEN_HELLO_MAX       (TLS_HELLO_MAX + 16 * TLS_RECORD_HDR_LEN + 64)
#define LISTEN_UDP_BATCH       16
#define LISTEN_UDP_BUF         8192 /* bytes of a datagram looked at; longer ones are cut */
#define LISTEN_STOP_UDP_ROUNDS 4096 /* batches drained at stop, at most */

/* ---- timer queues ----
 * One queue per listener and kind of timeout. Every member of a queue has
 * the same duration, so appending at the tail keeps the queue in deadline
 * order and checking the head is enough: O(1) per operation, 24 bytes per
 * node. t is when the member entered (its deadline is t + duration). */
struct tq_node {
    struct tq_node *prev, *next;
    uint64_t t;
};

struct tq {
    struct tq_node *head, *tail;
};

/* Append n (not in any queue) with start time t; a t before the tail's is
 * raised to it, so the queue stays sorted whatever the caller passes. */
void listen__tq_push(struct tq *q, struct tq_node *n, uint64_t t);
void listen__tq_remove(struct tq *q, struct tq_node *n);
/* The head if its deadline (t + dur) has come by now, else NULL. */
struct tq_node *listen__tq_expired(const struct tq *q, uint64_t now, uint64_t dur);

/* ---- per-source limit ---- */

/* Slot of (listener, ip's address) in a table of LISTEN_SOURCE_SLOTS,
 * by a hash keyed with key (so that clients cannot aim at a slot). */
uint32_t listen__source_slot(uint64_t key, int listener, const struct sk_ip *ip);
/* Count one more connection in slot unless it already holds max (0: no
 * limit). Returns false, leaving the count alone, when it is full. */
bool listen__source_acquire(_Atomic uint32_t *table, uint32_t slot, uint32_t max);
void listen__source_release(_Atomic uint32_t *table, uint32_t slot);

/* ---- events and replies ---- */

/* Fill the http part of ev from a request parsed out of buf: spans into
 * buf, cut to the caps of docs/events.md (SK_CONNF_TRUNC set in *flags if
 * any was cut). body[0..body_len) are the kept body bytes (cut to
 * SK_EV_CAPTURE_MAX), body_total what the body carried. */
void listen__http_event(struct sk_event_http *h, const uint8_t *buf, const struct http_request *req,
                        const uint8_t *body, size_t body_len, uint64_t body_total,
                        uint16_t *flags /* IN/OUT */);

/* The head of an HTTP reply for rp into out[0..cap): the status line,
 * the rule's headers, Content-Length, Connection. Returns its length, or
 * a negative SK_E* code. *with_body says whether the body follows (not
 * for HEAD, nor for 204 and 304). */
int listen__http_reply_head(const struct rules_reply *rp, bool keep_alive, bool head_request,
                            char *out, size_t cap, bool *with_body /* OUT */);

/* ---- connections ---- */

enum conn_state {
    CS_SNIFF = 0, /* nothing decided yet (PROXY header, sniffing, silent) */
    CS_HEAD,      /* reading an HTTP request head */
    CS_BODY,      /* reading an HTTP request body */
    CS_HELLO,     /* collecting a TLS ClientHello */
    CS_RAW,       /* raw, classified and answered: keep capturing */
    CS_DRAIN,     /* read and discard (TLS not terminated, then=read) */
    CS_TARPIT,    /* read and discard until the total timeout */
    CS_CLOSING,   /* answered: close once the reply is sent */
};

/* Timer queues of a listener: the phase queues (a connection is in at
 * most one) and the total queue (every connection). */
enum { TQ_SNIFF = 0, TQ_HEADER, TQ_IDLE, TQ_TOTAL, TQ_N, TQ_NONE = TQ_N };

/* What a connection logs at close. */
enum { EVK_NONE = 0, EVK_RAW, EVK_TLS };

/* Bits of conn.bits. */
#define CB_EOF       0x01  /* the client closed its side */
#define CB_PROXY     0x02  /* a trusted sender: the PROXY header comes first */
#define CB_PAUSED    0x04  /* output over LISTEN_OUT_HIGH: not reading */
#define CB_HS_DONE   0x08  /* TLS handshake finished (counted) */
#define CB_LB_LOCAL  0x10  /* a trusted sender's own connection (health check) */
#define CB_NOREPLY   0x20  /* untrusted PROXY header: close without a reply */
#define CB_CONTINUE  0x40  /* 100 Continue sent for the current request */
#define CB_INNER_RAW 0x80  /* raw bytes inside a terminated TLS session */
#define CB_NOLOG     0x100 /* refused by a limit after the PROXY header: not logged */
#define CB_READ_ALL  0x200 /* the last read emptied the socket */

/* Bytes received that do not yet form a whole unit. */
struct conn_in {
    uint32_t len, cap;
    uint32_t scanned;  /* bytes of data the HTTP parser already saw */
    uint64_t req_mono; /* when the first of these bytes arrived */
    uint8_t data[];
};

/* Bytes to send that the socket did not take yet. */
struct conn_out {
    uint32_t len, off, cap;
    uint8_t data[];
};

/* An HTTP request whose body is being read. */
struct conn_body {
    struct http_body b;
    uint64_t req_mono;  /* first byte of the request */
    uint64_t req_bytes; /* bytes of the request so far (head, framing, body) */
    uint32_t kept, keep_cap;
    uint8_t *keep; /* the first body bytes */
    uint32_t head_len;
    uint8_t head[]; /* the request head, parsed again at the end */
};

struct conn_tls {
    uint16_t version, record_version;
    uint8_t sni_len, alpn_len;
    bool has_hello;
    char ja3[SK_JA3_LEN + 1];
    char ja4[SK_JA4_LEN + 1];
    uint8_t sni[TLS_SNI_MAX];
    uint8_t alpn[TLS_ALPN_MAX];
    struct tls_hello *hello; /* kept for the rules of a terminated session */
};

/* What a raw or TLS connection logs at close. */
struct conn_info {
    uint64_t first_mono; /* first byte of the contact (0: none) */
    uint8_t *cap;        /* captured first bytes */
    uint32_t cap_len, cap_size;
    struct conn_tls *tls;
    char family[SK_FAMILY_MAX];
    char rule[SK_RULE_MAX];
    char bot_id[SK_BOTID_MAX];
};

struct listen_worker;

struct conn {
    struct loop_io io;
    struct tq_node phase_node; /* t: when the phase began */
    struct tq_node total_node; /* t: accept */
    struct listen_worker *w;
    struct conn_in *in;
    struct conn_out *out;
    struct conn_body *body;
    struct conn_info *info;
    struct tlsterm *tls;
    struct sk_ip peer, local;
    struct sk_ip proxied_by; /* af 0 unless a PROXY header named peer */
    uint64_t bytes_in, bytes_out;
    uint32_t requests;
    uint32_t src_slot;   /* per-source slot + 1; 0: none held */
    uint16_t flags;      /* SK_CONNF_* of the raw/tls event */
    uint16_t lidx;       /* listener */
    uint8_t state;       /* enum conn_state */
    uint8_t phase;       /* TQ_SNIFF, TQ_HEADER, TQ_IDLE or TQ_NONE */
    uint8_t sniffed;     /* enum sniff_proto */
    uint8_t evk;         /* EVK_* */
    uint16_t bits;       /* CB_* */
    uint8_t epev;        /* epoll events registered: 1 in, 2 out */
    uint8_t close_now;   /* enum sk_close_reason: close at the end of this turn */
    uint8_t close_after; /* CS_CLOSING: the reason once the reply is sent */
};

/* A listening or UDP socket. */
struct lsock {
    struct loop_io io;
    struct listen_worker *w;
    int lidx;
    struct sk_ip local;
    bool udp;
    bool wildcard; /* UDP bound to 0.0.0.0 or ::: the destination comes from PKTINFO */
    bool paused;   /* accept off for a moment (out of file descriptors) */
};

/* One listener on one worker. */
struct lstate {
    const struct cfg_listener *cfg;
    struct listen_counters ctr;
    struct tq q[TQ_N];
    uint64_t dur[TQ_N]; /* µs; 0: that timeout is off */
    char name[SK_LIST_NAME_MAX];
    struct tlsterm_ctx *tls; /* tls = terminate */
};

struct listen_worker {
    struct listen_shared *sh;
    int id;
    struct loop *loop;
    struct evlog_queue *q;
    _Atomic uint64_t seen_gen;
    struct rules *rules; /* read at the top of each loop turn */
    struct rules_scratch *scratch;

    struct lsock *socks;
    int nsocks;
    struct lstate *ls;
    int nls;
    uint32_t nconns;
    bool stopping;
    uint64_t resume_accept; /* mono µs: accept again after running out of fds */

    uint64_t now_mono, now_wall; /* read at the start of each callback */

    void *free_in[LISTEN_FREE_MAX];
    int nfree;

    struct conn *ocon; /* owner of the staging buffer */
    size_t olen;
    size_t scanned; /* set by the HTTP head parser for the caller (conn_in.scanned) */

    /* The last HTTP reply head written, by keep-alive or not: most replies
     * are the same few, and formatting one costs more than the rest of a
     * request. Valid within one rules generation (the pointers are into
     * the rules, or static). */
    struct head_cache {
        uint64_t gen;
        const char *reason, *headers;
        size_t body_len;
        uint16_t status;
        uint8_t then;
        uint16_t len; /* 0: empty */
        char buf[480];
    } head_cache[2];

    struct http_request req;
    struct tls_hello hello;
    uint8_t keep[SK_EV_CAPTURE_MAX]; /* body bytes of a request read in one go */
    uint8_t rbuf[LISTEN_RBUF];
    uint8_t pbuf[LISTEN_PBUF];
    uint8_t obuf[LISTEN_OBUF];

    /* UDP batch */
    struct mmsghdr umsg[LISTEN_UDP_BATCH];
    struct iovec uiov[LISTEN_UDP_BATCH];
    struct sockaddr_storage uaddr[LISTEN_UDP_BATCH];
    uint8_t uctl[LISTEN_UDP_BATCH][SK_PKTINFO_SPACE];
    uint8_t ubuf[LISTEN_UDP_BATCH][LISTEN_UDP_BUF];
};

/* conn.c */
void listen__accept_cb(struct loop_io *io, uint32_t events);
void listen__conn_close(struct conn *c, uint8_t reason);
/* The sniff timeout (from_timer), or the client's EOF with undecided bytes
 * waiting (the caller finishes the turn). */
void listen__conn_sniff_timeout(struct conn *c, bool from_timer);
void listen__conn_stop_reading(struct conn *c);
bool listen__conn_pending(const struct conn *c);
void listen__conn_cb(struct loop_io *io, uint32_t events);

/* conn_proto.c: the state machine over received bytes */
size_t listen__process(struct conn *c, const uint8_t *buf, size_t len, uint64_t start_mono,
                       size_t scanned);
void listen__sniff_decide(struct conn *c, const uint8_t *p, size_t n, uint64_t t0);
void listen__silent(struct conn *c);
void listen__emit(struct conn *c, const void *p, size_t n);
size_t listen__out_pending(const struct conn *c);
struct conn_info *listen__info(struct conn *c);
void listen__capture(struct conn *c, const uint8_t *p, size_t n);
void listen__event_close(struct conn *c, uint8_t reason);
void listen__append_event(struct listen_worker *w, struct lstate *l, const struct sk_event *ev);
void listen__event_common(struct conn *c, struct sk_event *ev, uint8_t kind, uint64_t ts_mono);
uint64_t listen__wall(struct listen_worker *w, uint64_t mono);

/* udp.c */
void listen__udp_cb(struct loop_io *io, uint32_t events);
int listen__udp_drain(struct lsock *s, int rounds);

/* Trusted PROXY sender? */
bool listen__trusted(const struct cfg_listener *l, const struct sk_ip *peer);

static inline struct lstate *conn_ls(const struct conn *c)
{
    return &c->w->ls[c->lidx];
}

#endif
