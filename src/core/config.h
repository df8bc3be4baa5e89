/* core/config.h -- the INI configuration: parse, validate, describe.
 *
 * One pass over the file through inih, with a reader that counts lines so
 * every error says FILE:LINE. Every section and key is known here: an
 * unknown one, a repeated one or a bad value is an error, and all errors
 * of a file are reported, not just the first. Relative paths are resolved
 * against the config file's folder. docs/config.md documents each key. */
#ifndef SK_CORE_CONFIG_H
#define SK_CORE_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core/addr.h"
#include "dns/name.h"

#define CFG_LISTEN_MAX  16
#define CFG_ANSWERS_MAX 64
#define CFG_NS_MAX      8
#define CFG_EXEMPT_MAX  64
#define CFG_NAME_MAX    64 /* section suffixes, family names, node name */
#define CFG_TRUSTED_MAX 32 /* trusted PROXY-protocol senders per list */

#define CFG_LISTENERS_MAX 256 /* [listener.*] sections */
#define CFG_TLS_CN_MAX    64  /* characters of tls_cn (X.509 ub-common-name) */

enum cfg_sniff { CFG_SNIFF_AUTO = 0, CFG_SNIFF_HTTP, CFG_SNIFF_TLS, CFG_SNIFF_RAW };

/* A listener's transport: the IP protocol number. */
#define CFG_TCP 6
#define CFG_UDP 17

/* "TCP" or "UDP". */
const char *cfg_transport_name(uint8_t transport);

/* One [listener.NAME] section. Defaults in docs/config.md. */
struct cfg_listener {
    char name[CFG_NAME_MAX];
    struct sk_ip listen[CFG_LISTEN_MAX]; /* address and port, IPv4 or IPv6 */
    int n_listen;
    uint8_t transport;    /* CFG_TCP (default) or CFG_UDP */
    enum cfg_sniff sniff; /* auto: http, tls and raw told apart by the first bytes */
    /* PROXY protocol v1/v2 accepted from these senders only; 0: off. */
    struct sk_prefix proxy_trusted[CFG_TRUSTED_MAX];
    int n_proxy_trusted;
    bool tls_terminate; /* finish TLS handshakes, log the HTTP inside */
    char *tls_cert;     /* PEM files; NULL: a self-signed certificate made at start */
    char *tls_key;
    char tls_cn[256];           /* subject CN of the generated certificate */
    uint32_t sniff_timeout_ms;  /* client silent this long: send the banner (rule), log */
    uint32_t header_timeout_ms; /* whole request head / ClientHello within this */
    uint32_t idle_timeout_ms;   /* no byte either way this long: close */
    uint32_t total_timeout_ms;  /* connection lifetime, tarpits included */
    uint32_t max_connections;   /* open at once on this listener, all workers */
    uint32_t max_per_source;    /* open at once from one source address; 0: no limit */
    uint64_t max_bytes;         /* read per connection (TCP); then close */
    uint32_t capture_bytes;     /* raw: first bytes kept in the event */
    uint32_t http_body_bytes;   /* HTTP: body bytes kept in the event */
    uint32_t http_max_head;     /* HTTP: request line + headers */
    int line;                   /* line of the section header */
    int listen_line;            /* line of its 'listen' key */
};

enum cfg_not_seized { CFG_NOT_SEIZED_REFUSE, CFG_NOT_SEIZED_NXDOMAIN };

struct cfg_answers {
    uint8_t a[CFG_ANSWERS_MAX][4];
    int n_a;
    uint8_t aaaa[CFG_ANSWERS_MAX][16];
    int n_aaaa;
};

struct cfg_seized {
    char name[CFG_NAME_MAX];   /* the part after "seized." */
    char family[CFG_NAME_MAX]; /* defaults to name */
    char *file;                /* absolute or relative to the cwd at load */
    bool has_answers;          /* answer_a or answer_aaaa set here */
    struct cfg_answers answers;
    int line;      /* line of the section header */
    int file_line; /* line of the 'file' key */
    /* Instead of a file: the names a DGA family generates for the days
     * from today - days_before to today + days_after, regenerated when the
     * day changes. */
    char *dga, *seed, *variant;
    uint32_t days_before, days_after;
    int dga_line;
    bool family_set;
};

struct sk_config {
    char *path; /* the file this came from */

    /* [server] */
    char node[CFG_NAME_MAX];
    char *data_dir;
    int workers; /* resolved: >= 1 */
    int log_level;
    char *log_file; /* NULL: stderr */
    int stats_interval_ms;

    /* [dns] */
    struct sk_ip dns_listen[CFG_LISTEN_MAX];
    int n_dns_listen;
    struct cfg_answers answers;
    uint32_t ttl;
    enum cfg_not_seized not_seized;
    uint8_t soa_mname[DNS_NAME_MAX], soa_rname[DNS_NAME_MAX];
    uint8_t soa_mname_len, soa_rname_len;
    uint32_t soa_serial, soa_refresh, soa_retry, soa_expire, soa_minimum;
    uint8_t ns[CFG_NS_MAX][DNS_NAME_MAX];
    uint8_t ns_len[CFG_NS_MAX];
    int n_ns;
    uint16_t max_udp_size;
    uint32_t rrl_ratelimit; /* responses per second per bucket; 0: off */
    uint32_t rrl_slip;
    uint8_t rrl_ipv4_prefix, rrl_ipv6_prefix;
    uint32_t rrl_size;
    struct sk_prefix rrl_exempt[CFG_EXEMPT_MAX];
    int n_rrl_exempt;
    uint32_t tcp_idle_timeout_ms;
    uint32_t tcp_max_connections; /* per worker */
    /* PROXY protocol v2 (UDP and TCP) accepted from these senders only;
     * 0: off. */
    struct sk_prefix dns_proxy_trusted[CFG_TRUSTED_MAX];
    int n_dns_proxy_trusted;

    /* [listener.*] */
    struct cfg_listener *listeners;
    int n_listeners;

    /* [classify] */
    char *rules_file; /* NULL: no rules, every contact gets the default reply */
    int rules_line;   /* line of the 'rules' key */

    /* [seized.*] */
    struct cfg_seized *seized;
    int n_seized;

    /* [log] */
    bool log_enabled; /* default true; false records nothing (benchmarks only) */
    uint32_t flush_ms;
    uint32_t queue_size;     /* events per worker queue */
    uint32_t rotate_mb;      /* new segment past this size; 0: never */
    uint32_t rotate_s;       /* new segment at this age; 0: never */
    bool compress;           /* compress closed segments with zstd */
    uint32_t compress_level; /* zstd level, 1-19 */
    uint32_t retain_days;    /* remove older closed segments; 0: keep */
    uint32_t retain_mb;      /* remove the oldest past this total; 0: keep */
    char *tap;               /* JSON-lines tap file; NULL: none */
};

/* Parse path into a new config. Every error is written to errs as
 * "PATH:LINE: message"; returns 0 and *out (free with config_free()), or
 * SK_ECONFIG after reporting, or -errno if the file cannot be read (also
 * reported). */
int config_load(const char *path, struct sk_config **out /* OUT */, FILE *errs);

void config_free(struct sk_config *cfg);

/* l zeroed, then every key at its default (docs/config.md); no address,
 * no name. */
void config_listener_defaults(struct cfg_listener *l);

/* Make path absolute against the folder of the config file at cfg_path
 * (unless it is absolute already). Returns a new string (free()). */
char *config_resolve_path(const char *cfg_path, const char *path);

#endif
