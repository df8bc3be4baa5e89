/* core/config_listener.c -- the [listener.NAME] sections of the config.
 *
 * One section per listener of the connection sinkhole: its addresses and
 * transport, how its connections are sniffed, PROXY protocol, TLS
 * termination, timeouts and limits. Values are checked as they are read;
 * the checks between keys of a section (TLS needs TCP, certificate and key
 * together) run when the section ends, and so do the checks against the
 * sections before it: no address may be bound twice, since SO_REUSEPORT
 * would let the kernel share it silently. [dns] listen addresses read after
 * a listener are checked against it from config.c. docs/config.md
 * documents every key and default. */
#include <stdlib.h>
#include <string.h>

#include "core/config_internal.h"
#include "core/xalloc.h"
#include "evlog/event.h"

#define TIMEOUT_MAX_MS    86400000u           /* a day */
#define CONNECTIONS_MAX   1000000u            /* per listener; fds are the real bound */
#define MAX_BYTES_MAX     (UINT64_C(1) << 40) /* 1 TiB */
#define HTTP_HEAD_MIN     256u
#define HTTP_HEAD_MAX     65536u
#define DEFAULT_TLS_CN    "sinkhole"
#define LISTENER_NAME_MAX (SK_LIST_NAME_MAX - 1) /* events keep this much of it */

const char *cfg_transport_name(uint8_t t)
{
    return t == CFG_UDP ? "UDP" : "TCP";
}

void config_listener_defaults(struct cfg_listener *l)
{
    memset(l, 0, sizeof(*l));
    l->transport = CFG_TCP;
    l->sniff = CFG_SNIFF_AUTO;
    l->sniff_timeout_ms = 3000;
    l->header_timeout_ms = 10000;
    l->idle_timeout_ms = 30000;
    l->total_timeout_ms = 120000;
    l->max_connections = 10000;
    l->max_per_source = 64;
    l->max_bytes = 1u << 20;
    l->capture_bytes = 4096;
    l->http_body_bytes = 1024;
    l->http_max_head = 8192;
}

void config__listener_begin(struct parse_ctx *c, const char *name)
{
    struct sk_config *cfg = c->cfg;
    for (int i = 0; i < cfg->n_listeners; i++) {
        if (!strcmp(cfg->listeners[i].name, name)) {
            config__error(c, "section [listener.%s] appears twice (first at line %d)", name,
                          cfg->listeners[i].line);
            return;
        }
    }
    if (cfg->n_listeners == CFG_LISTENERS_MAX) {
        config__error(c, "at most %d [listener.*] sections", CFG_LISTENERS_MAX);
        return;
    }
    char valid[CFG_NAME_MAX];
    size_t len = strlen(name);
    if (len == 0 || len > LISTENER_NAME_MAX) {
        config__error(c, "section name: expected a name of 1 to %d characters", LISTENER_NAME_MAX);
        return;
    }
    if (config__name(c, "section name", name, valid) != 0)
        return;
    cfg->listeners =
        xrealloc(cfg->listeners, (size_t)(cfg->n_listeners + 1) * sizeof(*cfg->listeners));
    struct cfg_listener *l = &cfg->listeners[cfg->n_listeners++];
    config_listener_defaults(l);
    memcpy(l->name, valid, sizeof(l->name));
    l->line = c->line;
    c->cur_listener = l;
    c->sec = SEC_LISTENER;
    memset(c->lis_addr_line, 0, sizeof(c->lis_addr_line));
    c->lis_tls_line = c->lis_cert_line = c->lis_key_line = c->lis_cn_line = 0;
    c->lis_sniff_line = 0;
}

static int tok_listen(struct parse_ctx *c, const char *key, const char *tok, void *arg)
{
    struct cfg_listener *l = arg;
    if (l->n_listen == CFG_LISTEN_MAX) {
        config__error(c, "%s: at most %d addresses", key, CFG_LISTEN_MAX);
        return -1;
    }
    struct sk_ip ip;
    if (sk_ip_parse_port(tok, &ip) != 0) {
        config__error(c, "%s: expected ADDRESS:PORT or [IPV6]:PORT, got '%s'", key, tok);
        return -1;
    }
    if (ip.port == 0) {
        /* The kernel would pick a port that no bot knows. */
        config__error(c, "%s: port 0 in '%s': a listener needs a fixed port", key, tok);
        return -1;
    }
    c->lis_addr_line[l->n_listen] = c->line;
    l->listen[l->n_listen++] = ip;
    return 0;
}

/* One of words[] (NULL-terminated); returns its index or -1 after
 * reporting "KEY: expected a, b or c, got 'v'". */
static int parse_word(struct parse_ctx *c, const char *key, const char *v, const char *const *words)
{
    int n = 0;
    for (; words[n] != NULL; n++)
        if (!strcmp(v, words[n]))
            return n;
    char list[128] = "";
    size_t used = 0;
    for (int i = 0; i < n; i++) {
        const char *sep = i == 0 ? "" : i == n - 1 ? " or " : ", ";
        int w = snprintf(list + used, sizeof(list) - used, "%s%s", sep, words[i]);
        if (w < 0 || (size_t)w >= sizeof(list) - used)
            break;
        used += (size_t)w;
    }
    config__error(c, "%s: expected %s, got '%s'", key, list, v);
    return -1;
}

static int parse_cn(struct parse_ctx *c, const char *key, const char *v, char *out)
{
    size_t n = strlen(v);
    bool ok = n >= 1 && n <= CFG_TLS_CN_MAX;
    for (size_t i = 0; ok && i < n; i++)
        ok = v[i] >= 0x20 && v[i] <= 0x7e;
    if (!ok) {
        config__error(c, "%s: expected 1 to %d printable ASCII characters", key, CFG_TLS_CN_MAX);
        return -1;
    }
    memcpy(out, v, n + 1);
    return 0;
}

static int parse_pem_path(struct parse_ctx *c, const char *key, const char *v, char **out)
{
    char *path = config_resolve_path(c->path, v);
    if (config__readable_file(c, key, path) != 0) {
        free(path);
        return -1;
    }
    free(*out);
    *out = path;
    return 0;
}

int config__listener_key(struct parse_ctx *c, const char *key, const char *v)
{
    struct cfg_listener *l = c->cur_listener;
    int w;
    if (!strcmp(key, "listen")) {
        if (!c->continuing)
            l->listen_line = c->line;
        return config__tokens(c, key, v, tok_listen, l);
    }
    if (!strcmp(key, "transport")) {
        static const char *const words[] = { "tcp", "udp", NULL };
        if ((w = parse_word(c, key, v, words)) < 0)
            return -1;
        l->transport = w == 0 ? CFG_TCP : CFG_UDP;
        return 0;
    }
    if (!strcmp(key, "sniff")) {
        static const char *const words[] = { "auto", "http", "tls", "raw", NULL };
        static const enum cfg_sniff kinds[] = { CFG_SNIFF_AUTO, CFG_SNIFF_HTTP, CFG_SNIFF_TLS,
                                                CFG_SNIFF_RAW };
        if ((w = parse_word(c, key, v, words)) < 0)
            return -1;
        l->sniff = kinds[w];
        c->lis_sniff_line = c->line;
        return 0;
    }
    if (!strcmp(key, "proxy_protocol"))
        return config__trusted(c, key, v, l->proxy_trusted, &l->n_proxy_trusted, CFG_TRUSTED_MAX);
    if (!strcmp(key, "tls")) {
        static const char *const words[] = { "off", "terminate", NULL };
        if ((w = parse_word(c, key, v, words)) < 0)
            return -1;
        l->tls_terminate = w == 1;
        c->lis_tls_line = c->line;
        return 0;
    }
    if (!strcmp(key, "tls_cert")) {
        c->lis_cert_line = c->line;
        return parse_pem_path(c, key, v, &l->tls_cert);
    }
    if (!strcmp(key, "tls_key")) {
        c->lis_key_line = c->line;
        return parse_pem_path(c, key, v, &l->tls_key);
    }
    if (!strcmp(key, "tls_cn")) {
        c->lis_cn_line = c->line;
        return parse_cn(c, key, v, l->tls_cn);
    }
    if (!strcmp(key, "sniff_timeout_ms"))
        return config__u32(c, key, v, 1, TIMEOUT_MAX_MS, &l->sniff_timeout_ms);
    if (!strcmp(key, "header_timeout_ms"))
        return config__u32(c, key, v, 1, TIMEOUT_MAX_MS, &l->header_timeout_ms);
    if (!strcmp(key, "idle_timeout_ms"))
        return config__u32(c, key, v, 1, TIMEOUT_MAX_MS, &l->idle_timeout_ms);
    if (!strcmp(key, "total_timeout_ms"))
        return config__u32(c, key, v, 1, TIMEOUT_MAX_MS, &l->total_timeout_ms);
    if (!strcmp(key, "max_connections"))
        return config__u32(c, key, v, 1, CONNECTIONS_MAX, &l->max_connections);
    if (!strcmp(key, "max_per_source"))
        return config__u32(c, key, v, 0, CONNECTIONS_MAX, &l->max_per_source);
    if (!strcmp(key, "max_bytes"))
        return config__u64(c, key, v, 1, MAX_BYTES_MAX, &l->max_bytes);
    if (!strcmp(key, "capture_bytes"))
        return config__u32(c, key, v, 0, SK_EV_CAPTURE_MAX, &l->capture_bytes);
    if (!strcmp(key, "http_body_bytes"))
        return config__u32(c, key, v, 0, SK_EV_CAPTURE_MAX, &l->http_body_bytes);
    if (!strcmp(key, "http_max_head"))
        return config__u32(c, key, v, HTTP_HEAD_MIN, HTTP_HEAD_MAX, &l->http_max_head);
    config__error(c, "unknown key '%s' in [listener.%s]", key, l->name);
    return -1;
}

/* Address i of the current listener against its own earlier ones, the
 * earlier listeners of its transport and the [dns] addresses read so far. */
static void check_overlap(struct parse_ctx *c, int i)
{
    const struct sk_config *cfg = c->cfg;
    const struct cfg_listener *l = c->cur_listener;
    const struct sk_ip *ip = &l->listen[i];
    char a[SK_IP_TEXT_MAX], b[SK_IP_TEXT_MAX];
    int saved = c->line;
    c->line = c->lis_addr_line[i];
    for (int j = 0; j < i; j++) {
        if (config__addr_overlap(ip, &l->listen[j])) {
            config__error(c, "listen: %s overlaps %s of the same listener at line %d",
                          sk_ip_ntop_port(ip, a), sk_ip_ntop_port(&l->listen[j], b),
                          c->lis_addr_line[j]);
            goto out;
        }
    }
    for (const struct cfg_listener *o = cfg->listeners; o < l; o++) {
        if (o->transport != l->transport)
            continue;
        for (int j = 0; j < o->n_listen; j++) {
            if (config__addr_overlap(ip, &o->listen[j])) {
                config__error(c, "listen: %s overlaps %s of [listener.%s] at line %d (both %s)",
                              sk_ip_ntop_port(ip, a), sk_ip_ntop_port(&o->listen[j], b), o->name,
                              o->listen_line, cfg_transport_name(l->transport));
                goto out;
            }
        }
    }
    for (int j = 0; j < cfg->n_dns_listen; j++) {
        if (config__addr_overlap(ip, &cfg->dns_listen[j])) {
            config__error(c, "listen: %s overlaps %s of [dns] at line %d (DNS takes UDP and TCP)",
                          sk_ip_ntop_port(ip, a), sk_ip_ntop_port(&cfg->dns_listen[j], b),
                          c->dns_listen_line[j]);
            goto out;
        }
    }
out:
    c->line = saved;
}

/* Point messages at line, or at the section header if the key that
 * line would name was not given. */
static void at(struct parse_ctx *c, int line)
{
    c->line = line > 0 ? line : c->cur_listener->line;
}

void config__listener_end(struct parse_ctx *c)
{
    struct cfg_listener *l = c->cur_listener;
    if (l == NULL)
        return;
    int saved = c->line;
    if (l->n_listen == 0) {
        at(c, 0);
        config__error(c, "[listener.%s] needs a 'listen' key", l->name);
    }
    for (int i = 0; i < l->n_listen; i++)
        check_overlap(c, i);
    if (l->tls_terminate) {
        at(c, c->lis_tls_line);
        if (l->transport == CFG_UDP)
            config__error(c, "tls: terminate needs transport = tcp");
        else if (l->sniff == CFG_SNIFF_HTTP || l->sniff == CFG_SNIFF_RAW)
            config__error(c, "tls: terminate needs sniff = auto or tls, not %s (line %d)",
                          l->sniff == CFG_SNIFF_HTTP ? "http" : "raw", c->lis_sniff_line);
        /* By the lines of the keys, not the paths: a path already
         * reported as unreadable is not reported again as missing. */
        bool cert = c->lis_cert_line > 0, key = c->lis_key_line > 0;
        if (cert != key) {
            at(c, cert ? c->lis_cert_line : c->lis_key_line);
            config__error(c, "%s: needs %s too: give both or neither",
                          cert ? "tls_cert" : "tls_key", cert ? "tls_key" : "tls_cert");
        }
        if (cert && c->lis_cn_line > 0) {
            at(c, c->lis_cn_line);
            config__error(c, "tls_cn: names the generated certificate; tls_cert brings its own");
        }
    } else {
        /* Keys that would do nothing are mistakes worth a word. */
        static const char *const keys[] = { "tls_cert", "tls_key", "tls_cn" };
        const int lines[] = { c->lis_cert_line, c->lis_key_line, c->lis_cn_line };
        for (int i = 0; i < 3; i++) {
            if (lines[i] > 0) {
                at(c, lines[i]);
                config__error(c, "%s: only with tls = terminate", keys[i]);
            }
        }
    }
    c->line = saved;
}

void config__listener_dns_overlap(struct parse_ctx *c, const struct sk_ip *ip)
{
    const struct sk_config *cfg = c->cfg;
    char a[SK_IP_TEXT_MAX], b[SK_IP_TEXT_MAX];
    for (int i = 0; i < cfg->n_listeners; i++) {
        const struct cfg_listener *o = &cfg->listeners[i];
        for (int j = 0; j < o->n_listen; j++) {
            if (config__addr_overlap(ip, &o->listen[j])) {
                config__error(c, "listen: %s overlaps %s of [listener.%s] at line %d (%s)",
                              sk_ip_ntop_port(ip, a), sk_ip_ntop_port(&o->listen[j], b), o->name,
                              o->listen_line, cfg_transport_name(o->transport));
                return;
            }
        }
    }
}

void config__listeners_finish(struct parse_ctx *c)
{
    struct sk_config *cfg = c->cfg;
    /* The generated certificate is named after the sinkhole's first name
     * server, so whoever looks at it sees whose server answered. */
    char cn[DNS_NAME_TEXT_MAX];
    int n = cfg->n_ns > 0 ? dns_name_to_text(cfg->ns[0], cfg->ns_len[0], cn, sizeof(cn)) : -1;
    if (n > 0 && cn[n - 1] == '.')
        cn[--n] = '\0'; /* "." (the root) becomes "" */
    if (n < 1 || n > CFG_TLS_CN_MAX)
        snprintf(cn, sizeof(cn), "%s", DEFAULT_TLS_CN);
    size_t len = strlen(cn); /* at most CFG_TLS_CN_MAX */
    for (int i = 0; i < cfg->n_listeners; i++)
        if (cfg->listeners[i].tls_cn[0] == '\0')
            memcpy(cfg->listeners[i].tls_cn, cn, len + 1);
}

void config__listeners_free(struct sk_config *cfg)
{
    for (int i = 0; i < cfg->n_listeners; i++) {
        free(cfg->listeners[i].tls_cert);
        free(cfg->listeners[i].tls_key);
    }
    free(cfg->listeners);
}
