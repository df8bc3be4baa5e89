/* core/config.c -- INI parsing and validation for sinkhole's config.
 *
 * Debian's libinih does not pass line numbers to the handler, so the
 * file is read through ini_parse_stream() with a reader that counts lines;
 * the handler reads the count to say where a bad key or value is. The
 * reader also sees every section header, so sections begin there, even
 * those that hold no key. Keys are parsed by one function per section
 * kind; [listener.*] lives in config_listener.c. A new key is a few lines
 * there and one line in docs/config.md. */
#include "core/config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/config_internal.h"
#include "core/err.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "domains/family.h"
#include "evlog/event.h"

void config__error(struct parse_ctx *c, const char *fmt, ...)
{
    va_list ap;
    if (c->line > 0)
        fprintf(c->errs, "%s:%d: ", c->path, c->line);
    else
        fprintf(c->errs, "%s: ", c->path);
    va_start(ap, fmt);
    vfprintf(c->errs, fmt, ap);
    va_end(ap);
    fputc('\n', c->errs);
    c->errors++;
}

/* ---- value parsers: return 0 or report and return -1 ---- */

int config__u64(struct parse_ctx *c, const char *key, const char *v, uint64_t min, uint64_t max,
                uint64_t *out)
{
    char *end;
    errno = 0;
    if (*v < '0' || *v > '9')
        goto bad;
    unsigned long long x = strtoull(v, &end, 10);
    if (errno || *end != '\0' || x < min || x > max)
        goto bad;
    *out = (uint64_t)x;
    return 0;
bad:
    config__error(c, "%s: expected a whole number from %llu to %llu, got '%s'", key,
                  (unsigned long long)min, (unsigned long long)max, v);
    return -1;
}

int config__u32(struct parse_ctx *c, const char *key, const char *v, uint32_t min, uint32_t max,
                uint32_t *out)
{
    uint64_t x;
    if (config__u64(c, key, v, min, max, &x) != 0)
        return -1;
    *out = (uint32_t)x;
    return 0;
}

int config__tokens(struct parse_ctx *c, const char *key, const char *v,
                   int (*fn)(struct parse_ctx *, const char *, const char *, void *), void *arg)
{
    char *copy = xstrdup(v);
    char *save = NULL;
    int rc = 0, n = 0;
    for (char *tok = strtok_r(copy, " \t,", &save); tok; tok = strtok_r(NULL, " \t,", &save)) {
        n++;
        if (fn(c, key, tok, arg) != 0)
            rc = -1;
    }
    free(copy);
    if (n == 0 && rc == 0) {
        config__error(c, "%s: expected at least one value", key);
        rc = -1;
    }
    return rc;
}

int config__readable_file(struct parse_ctx *c, const char *key, const char *path)
{
    /* stat() first: opening a FIFO or a device could block or act. */
    struct stat st;
    if (stat(path, &st) != 0) {
        config__error(c, "%s: cannot read %s: %s", key, path, strerror(errno));
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        config__error(c, "%s: %s is not a regular file", key, path);
        return -1;
    }
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        config__error(c, "%s: cannot read %s: %s", key, path, strerror(errno));
        return -1;
    }
    close(fd);
    return 0;
}

static bool ip_is_any(const struct sk_ip *ip)
{
    size_t n = ip->af == 4 ? 4 : 16;
    for (size_t i = 0; i < n; i++)
        if (ip->a[i] != 0)
            return false;
    return true;
}

bool config__addr_overlap(const struct sk_ip *a, const struct sk_ip *b)
{
    if (a->af != b->af || a->port != b->port || a->port == 0)
        return false;
    return sk_ip_equal(a, b) || ip_is_any(a) || ip_is_any(b);
}

static int tok_listen(struct parse_ctx *c, const char *key, const char *tok, void *arg)
{
    (void)arg;
    struct sk_config *cfg = c->cfg;
    if (cfg->n_dns_listen == CFG_LISTEN_MAX) {
        config__error(c, "%s: at most %d addresses", key, CFG_LISTEN_MAX);
        return -1;
    }
    struct sk_ip ip;
    if (sk_ip_parse_port(tok, &ip) != 0) {
        config__error(c, "%s: expected ADDRESS:PORT or [IPV6]:PORT, got '%s'", key, tok);
        return -1;
    }
    /* Sockets are opened with SO_REUSEPORT, so the kernel would let two
     * of them share an address and split the queries between them. */
    for (int i = 0; i < cfg->n_dns_listen; i++) {
        if (config__addr_overlap(&ip, &cfg->dns_listen[i])) {
            char a[SK_IP_TEXT_MAX], b[SK_IP_TEXT_MAX];
            config__error(c, "%s: %s overlaps %s of [dns] at line %d", key, sk_ip_ntop_port(&ip, a),
                          sk_ip_ntop_port(&cfg->dns_listen[i], b), c->dns_listen_line[i]);
            return -1;
        }
    }
    int before = c->errors;
    config__listener_dns_overlap(c, &ip);
    if (c->errors != before)
        return -1;
    c->dns_listen_line[cfg->n_dns_listen] = c->line;
    cfg->dns_listen[cfg->n_dns_listen++] = ip;
    return 0;
}

static int tok_a(struct parse_ctx *c, const char *key, const char *tok, void *arg)
{
    struct cfg_answers *ans = arg;
    struct sk_ip ip;
    if (sk_ip_parse(tok, &ip) != 0 || ip.af != 4) {
        config__error(c, "%s: expected an IPv4 address, got '%s'", key, tok);
        return -1;
    }
    if (ans->n_a == CFG_ANSWERS_MAX) {
        config__error(c, "%s: at most %d addresses", key, CFG_ANSWERS_MAX);
        return -1;
    }
    memcpy(ans->a[ans->n_a++], ip.a, 4);
    return 0;
}

static int tok_aaaa(struct parse_ctx *c, const char *key, const char *tok, void *arg)
{
    struct cfg_answers *ans = arg;
    struct sk_ip ip;
    if (sk_ip_parse(tok, &ip) != 0 || ip.af != 6) {
        config__error(c, "%s: expected an IPv6 address, got '%s'", key, tok);
        return -1;
    }
    if (ans->n_aaaa == CFG_ANSWERS_MAX) {
        config__error(c, "%s: at most %d addresses", key, CFG_ANSWERS_MAX);
        return -1;
    }
    memcpy(ans->aaaa[ans->n_aaaa++], ip.a, 16);
    return 0;
}

static int parse_dname(struct parse_ctx *c, const char *key, const char *v, uint8_t *out,
                       uint8_t *out_len)
{
    size_t len;
    if (dns_name_from_text(v, strlen(v), out, &len) != 0) {
        config__error(c, "%s: bad domain name '%s'", key, v);
        return -1;
    }
    *out_len = (uint8_t)len;
    return 0;
}

static int tok_ns(struct parse_ctx *c, const char *key, const char *tok, void *arg)
{
    (void)arg;
    struct sk_config *cfg = c->cfg;
    if (cfg->n_ns == CFG_NS_MAX) {
        config__error(c, "%s: at most %d names", key, CFG_NS_MAX);
        return -1;
    }
    if (parse_dname(c, key, tok, cfg->ns[cfg->n_ns], &cfg->ns_len[cfg->n_ns]) != 0)
        return -1;
    cfg->n_ns++;
    return 0;
}

/* A list of prefixes being filled by tok_prefix(). */
struct prefix_list {
    struct sk_prefix *p;
    int *n;
    int max;
};

static int tok_prefix(struct parse_ctx *c, const char *key, const char *tok, void *arg)
{
    struct prefix_list *l = arg;
    if (*l->n == l->max) {
        config__error(c, "%s: at most %d prefixes", key, l->max);
        return -1;
    }
    if (sk_prefix_parse(tok, &l->p[*l->n]) != 0) {
        config__error(c, "%s: expected ADDRESS or ADDRESS/LENGTH with zero host bits, got '%s'",
                      key, tok);
        return -1;
    }
    (*l->n)++;
    return 0;
}

/* proxy_protocol = no | trusted senders (addresses or prefixes). */
int config__trusted(struct parse_ctx *c, const char *key, const char *v, struct sk_prefix *p,
                    int *n, int max)
{
    /* An indented line adds to the list; the key's own line starts it. */
    if (!c->continuing) {
        *n = 0;
        if (!strcmp(v, "no"))
            return 0;
    }
    struct prefix_list l = { p, n, max };
    return config__tokens(c, key, v, tok_prefix, &l);
}

int config__name(struct parse_ctx *c, const char *key, const char *v, char *out)
{
    size_t n = strlen(v);
    if (n == 0 || n >= CFG_NAME_MAX) {
        config__error(c, "%s: expected a name of 1 to %d characters", key, CFG_NAME_MAX - 1);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        char ch = v[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '-' || ch == '_' || ch == '.')) {
            config__error(c, "%s: '%s' may only hold letters, digits, '-', '_' and '.'", key, v);
            return -1;
        }
    }
    memcpy(out, v, n + 1);
    return 0;
}

/* ---- sections ---- */

static int server_key(struct parse_ctx *c, const char *key, const char *v)
{
    struct sk_config *cfg = c->cfg;
    uint32_t u;
    if (!strcmp(key, "node"))
        return config__name(c, key, v, cfg->node);
    if (!strcmp(key, "data_dir")) {
        free(cfg->data_dir);
        cfg->data_dir = config_resolve_path(c->path, v);
        return 0;
    }
    if (!strcmp(key, "workers")) {
        if (config__u32(c, key, v, 0, 256, &u) != 0)
            return -1;
        cfg->workers = (int)u;
        return 0;
    }
    if (!strcmp(key, "log_level")) {
        int lv = log_level_parse(v);
        if (lv < 0) {
            config__error(c, "%s: expected debug, info, notice, warn or error, got '%s'", key, v);
            return -1;
        }
        cfg->log_level = lv;
        return 0;
    }
    if (!strcmp(key, "log_file")) {
        free(cfg->log_file);
        cfg->log_file = config_resolve_path(c->path, v);
        return 0;
    }
    if (!strcmp(key, "stats_interval")) {
        if (config__u32(c, key, v, 1, 3600, &u) != 0)
            return -1;
        cfg->stats_interval_ms = (int)u * 1000;
        return 0;
    }
    config__error(c, "unknown key '%s' in [server]", key);
    return -1;
}

static int dns_key(struct parse_ctx *c, const char *key, const char *v)
{
    struct sk_config *cfg = c->cfg;
    uint32_t u;
    if (!strcmp(key, "listen"))
        return config__tokens(c, key, v, tok_listen, NULL);
    if (!strcmp(key, "answer_a"))
        return config__tokens(c, key, v, tok_a, &cfg->answers);
    if (!strcmp(key, "answer_aaaa"))
        return config__tokens(c, key, v, tok_aaaa, &cfg->answers);
    if (!strcmp(key, "ttl"))
        return config__u32(c, key, v, 0, INT32_MAX, &cfg->ttl);
    if (!strcmp(key, "not_seized")) {
        if (!strcmp(v, "refuse")) {
            cfg->not_seized = CFG_NOT_SEIZED_REFUSE;
            return 0;
        }
        if (!strcmp(v, "nxdomain")) {
            cfg->not_seized = CFG_NOT_SEIZED_NXDOMAIN;
            return 0;
        }
        config__error(c, "%s: expected refuse or nxdomain, got '%s'", key, v);
        return -1;
    }
    if (!strcmp(key, "soa_mname"))
        return parse_dname(c, key, v, cfg->soa_mname, &cfg->soa_mname_len);
    if (!strcmp(key, "soa_rname"))
        return parse_dname(c, key, v, cfg->soa_rname, &cfg->soa_rname_len);
    if (!strcmp(key, "soa_serial"))
        return config__u32(c, key, v, 0, UINT32_MAX, &cfg->soa_serial);
    if (!strcmp(key, "soa_refresh"))
        return config__u32(c, key, v, 0, INT32_MAX, &cfg->soa_refresh);
    if (!strcmp(key, "soa_retry"))
        return config__u32(c, key, v, 0, INT32_MAX, &cfg->soa_retry);
    if (!strcmp(key, "soa_expire"))
        return config__u32(c, key, v, 0, INT32_MAX, &cfg->soa_expire);
    if (!strcmp(key, "soa_minimum"))
        return config__u32(c, key, v, 0, INT32_MAX, &cfg->soa_minimum);
    if (!strcmp(key, "ns")) {
        if (!c->continuing)
            cfg->n_ns = 0; /* replaces the default */
        return config__tokens(c, key, v, tok_ns, NULL);
    }
    if (!strcmp(key, "max_udp_size")) {
        if (config__u32(c, key, v, 512, 4096, &u) != 0)
            return -1;
        cfg->max_udp_size = (uint16_t)u;
        return 0;
    }
    if (!strcmp(key, "rrl_ratelimit"))
        return config__u32(c, key, v, 0, 1000000, &cfg->rrl_ratelimit);
    if (!strcmp(key, "rrl_slip"))
        return config__u32(c, key, v, 0, 100, &cfg->rrl_slip);
    if (!strcmp(key, "rrl_ipv4_prefix")) {
        if (config__u32(c, key, v, 1, 32, &u) != 0)
            return -1;
        cfg->rrl_ipv4_prefix = (uint8_t)u;
        return 0;
    }
    if (!strcmp(key, "rrl_ipv6_prefix")) {
        if (config__u32(c, key, v, 1, 128, &u) != 0)
            return -1;
        cfg->rrl_ipv6_prefix = (uint8_t)u;
        return 0;
    }
    if (!strcmp(key, "rrl_size"))
        return config__u32(c, key, v, 1024, 1u << 26, &cfg->rrl_size);
    if (!strcmp(key, "rrl_exempt")) {
        struct prefix_list l = { cfg->rrl_exempt, &cfg->n_rrl_exempt, CFG_EXEMPT_MAX };
        return config__tokens(c, key, v, tok_prefix, &l);
    }
    if (!strcmp(key, "proxy_protocol"))
        return config__trusted(c, key, v, cfg->dns_proxy_trusted, &cfg->n_dns_proxy_trusted,
                               CFG_TRUSTED_MAX);
    if (!strcmp(key, "tcp_idle_timeout")) {
        if (config__u32(c, key, v, 1, 3600, &u) != 0)
            return -1;
        cfg->tcp_idle_timeout_ms = u * 1000;
        return 0;
    }
    if (!strcmp(key, "tcp_max_connections"))
        return config__u32(c, key, v, 1, 1000000, &cfg->tcp_max_connections);
    config__error(c, "unknown key '%s' in [dns]", key);
    return -1;
}

static int seized_key(struct parse_ctx *c, const char *key, const char *v)
{
    struct cfg_seized *s = c->cur_seized;
    if (!strcmp(key, "file")) {
        free(s->file);
        s->file = config_resolve_path(c->path, v);
        s->file_line = c->line;
        return 0;
    }
    if (!strcmp(key, "family")) {
        s->family_set = true;
        /* Events carry the family in SK_FAMILY_MAX bytes. */
        if (strlen(v) >= SK_FAMILY_MAX) {
            config__error(c, "%s: expected a name of 1 to %d characters", key, SK_FAMILY_MAX - 1);
            return -1;
        }
        return config__name(c, key, v, s->family);
    }
    if (!strcmp(key, "dga")) {
        const struct domains_family *f = domains_family_find(v);
        if (f == NULL) {
            char names[1024];
            domains_family_names(names, sizeof(names));
            config__error(c, "%s: unknown family '%s'; families: %s", key, v, names);
            return -1;
        }
        free(s->dga);
        s->dga = xstrdup(f->name);
        s->dga_line = c->line;
        return 0;
    }
    if (!strcmp(key, "seed")) {
        free(s->seed);
        s->seed = xstrdup(v);
        return 0;
    }
    if (!strcmp(key, "variant")) {
        free(s->variant);
        s->variant = xstrdup(v);
        return 0;
    }
    if (!strcmp(key, "days_before"))
        return config__u32(c, key, v, 0, 3660, &s->days_before);
    if (!strcmp(key, "days_after"))
        return config__u32(c, key, v, 0, 3660, &s->days_after);
    if (!strcmp(key, "answer_a")) {
        s->has_answers = true;
        return config__tokens(c, key, v, tok_a, &s->answers);
    }
    if (!strcmp(key, "answer_aaaa")) {
        s->has_answers = true;
        return config__tokens(c, key, v, tok_aaaa, &s->answers);
    }
    config__error(c, "unknown key '%s' in [seized.%s]", key, s->name);
    return -1;
}

static int log_key(struct parse_ctx *c, const char *key, const char *v)
{
    struct sk_config *cfg = c->cfg;
    if (!strcmp(key, "flush_ms"))
        return config__u32(c, key, v, 1, 60000, &cfg->flush_ms);
    if (!strcmp(key, "queue_size"))
        return config__u32(c, key, v, 64, 1u << 24, &cfg->queue_size);
    if (!strcmp(key, "rotate_mb"))
        return config__u32(c, key, v, 0, 1u << 20, &cfg->rotate_mb);
    if (!strcmp(key, "rotate_s"))
        return config__u32(c, key, v, 0, 31 * 86400, &cfg->rotate_s);
    if (!strcmp(key, "enabled")) {
        if (!strcmp(v, "yes") || !strcmp(v, "no")) {
            cfg->log_enabled = !strcmp(v, "yes");
            return 0;
        }
        config__error(c, "%s: expected yes or no, got '%s'", key, v);
        return -1;
    }
    if (!strcmp(key, "compress")) {
        if (!strcmp(v, "zstd") || !strcmp(v, "none")) {
            cfg->compress = !strcmp(v, "zstd");
            return 0;
        }
        config__error(c, "%s: expected zstd or none, got '%s'", key, v);
        return -1;
    }
    if (!strcmp(key, "compress_level"))
        return config__u32(c, key, v, 1, 19, &cfg->compress_level);
    if (!strcmp(key, "retain_days"))
        return config__u32(c, key, v, 0, 36500, &cfg->retain_days);
    if (!strcmp(key, "retain_mb"))
        return config__u32(c, key, v, 0, UINT32_MAX, &cfg->retain_mb);
    if (!strcmp(key, "tap")) {
        free(cfg->tap);
        cfg->tap = config_resolve_path(c->path, v);
        return 0;
    }
    config__error(c, "unknown key '%s' in [log]", key);
    return -1;
}

static int classify_key(struct parse_ctx *c, const char *key, const char *v)
{
    struct sk_config *cfg = c->cfg;
    if (!strcmp(key, "rules")) {
        char *path = config_resolve_path(c->path, v);
        if (config__readable_file(c, key, path) != 0) {
            free(path);
            return -1;
        }
        free(cfg->rules_file);
        cfg->rules_file = path;
        cfg->rules_line = c->line;
        return 0;
    }
    config__error(c, "unknown key '%s' in [classify]", key);
    return -1;
}

static void begin_seized(struct parse_ctx *c, const char *section, const char *name)
{
    struct sk_config *cfg = c->cfg;
    for (int i = 0; i < cfg->n_seized; i++) {
        if (!strcmp(cfg->seized[i].name, name)) {
            config__error(c, "section [%s] appears twice (first at line %d)", section,
                          cfg->seized[i].line);
            return;
        }
    }
    if (cfg->n_seized == 65535) {
        config__error(c, "at most 65535 [seized.*] sections");
        return;
    }
    char valid[CFG_NAME_MAX];
    if (config__name(c, "section name", name, valid) != 0)
        return;
    cfg->seized = xrealloc(cfg->seized, (size_t)(cfg->n_seized + 1) * sizeof(*cfg->seized));
    struct cfg_seized *s = &cfg->seized[cfg->n_seized++];
    memset(s, 0, sizeof(*s));
    s->line = c->line;
    memcpy(s->name, valid, sizeof(s->name));
    memcpy(s->family, s->name, sizeof(s->family));
    s->days_before = 7;
    s->days_after = 30;
    c->cur_seized = s;
    c->sec = SEC_SEIZED;
}

/* The checks of a section that need all its keys. */
static void end_section(struct parse_ctx *c)
{
    if (c->sec == SEC_LISTENER)
        config__listener_end(c);
    c->sec = SEC_NONE;
    c->cur_seized = NULL;
    c->cur_listener = NULL;
}

/* A section header at c->line. Unknown sections are reported here and
 * their keys ignored: one error per mistake, not one per key. */
static void begin_section(struct parse_ctx *c, const char *section)
{
    end_section(c);
    c->nseen = 0;
    c->have_key = false;
    c->last_key[0] = '\0';
    c->sec = SEC_IGNORED;
    size_t len = strlen(section);
    if (len >= sizeof(c->cur_section)) {
        c->cur_section[0] = '\0';
        config__error(c, "section name longer than %d characters", (int)sizeof(c->cur_section) - 1);
        return;
    }
    memcpy(c->cur_section, section, len + 1);
    static const struct {
        const char *name;
        enum cfg_section_kind kind;
    } fixed[] = { { "server", SEC_SERVER },
                  { "dns", SEC_DNS },
                  { "classify", SEC_CLASSIFY },
                  { "log", SEC_LOG } };
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
        if (!strcmp(section, fixed[i].name)) {
            c->sec = fixed[i].kind;
            return;
        }
    }
    if (!strncmp(section, "seized.", 7))
        begin_seized(c, section, section + 7);
    else if (!strncmp(section, "listener.", 9))
        config__listener_begin(c, section + 9);
    else
        config__error(c, "unknown section [%s]", section);
}

/* Keys whose value is a list: an indented line continues them. */
static bool is_list_key(const char *name)
{
    static const char *const keys[] = { "listen", "answer_a",   "answer_aaaa",
                                        "ns",     "rrl_exempt", "proxy_protocol" };
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (!strcmp(name, keys[i]))
            return true;
    return false;
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
    (void)section; /* the reader keeps its own, untruncated */
    struct parse_ctx *c = user;
    /* inih hands an indented line to us as the previous key again. */
    bool continuation = c->cont;
    c->have_key = true;
    if (c->sec == SEC_NONE) {
        config__error(c, "key '%s' outside any section", name);
        return 1; /* keep going: report every error */
    }
    if (c->sec == SEC_IGNORED)
        return 1; /* the section was reported at its header */
    if (continuation && !is_list_key(name)) {
        config__error(c, "%s: only lists of values may continue on an indented line", name);
        return 1;
    }
    if (!continuation) {
        snprintf(c->last_key, sizeof(c->last_key), "%s", name);
        for (int i = 0; i < c->nseen; i++) {
            if (!strcmp(c->seen[i], name)) {
                config__error(c, "key '%s' repeated in [%s]", name, c->cur_section);
                return 1;
            }
        }
        if (c->nseen < 64)
            snprintf(c->seen[c->nseen++], sizeof(c->seen[0]), "%s", name);
    }
    c->continuing = continuation;

    switch (c->sec) {
    case SEC_SERVER:
        server_key(c, name, value);
        break;
    case SEC_DNS:
        dns_key(c, name, value);
        break;
    case SEC_SEIZED:
        seized_key(c, name, value);
        break;
    case SEC_LISTENER:
        config__listener_key(c, name, value);
        break;
    case SEC_CLASSIFY:
        classify_key(c, name, value);
        break;
    case SEC_LOG:
        log_key(c, name, value);
        break;
    default:
        break;
    }
    return 1;
}

/* Where inih's section header ends: the first ']', unless an inline
 * comment (';' after white space) comes first. NULL: inih finds no ']'
 * and reports the line as a syntax error. */
static const char *header_end(const char *s)
{
    bool was_space = false;
    for (; *s; s++) {
        if (*s == ']')
            return s;
        if (was_space && *s == ';')
            return NULL;
        was_space = isspace((unsigned char)*s) != 0;
    }
    return NULL;
}

/* Hands inih one line at a time, counting them. Lines longer than inih's
 * buffer are reported here and passed on empty, so inih never sees half a
 * line as if it were two. Section headers are judged here, the way inih
 * reads them, since inih says nothing about a section without keys. */
static char *counting_reader(char *str, int num, void *stream)
{
    struct parse_ctx *c = stream;
    char *r = fgets(str, num, c->fp);
    if (r == NULL)
        return NULL;
    c->line++;
    size_t len = strlen(str);
    if (len > 0 && str[len - 1] != '\n' && !feof(c->fp)) {
        int ch;
        while ((ch = fgetc(c->fp)) != EOF && ch != '\n')
            ;
        config__error(c,
                      "line longer than %d characters: continue a list of values on indented lines",
                      num - 2);
        strcpy(str, "\n");
        c->cont = false;
        return str;
    }
    const char *p = str;
    if (c->line == 1 && (unsigned char)p[0] == 0xEF && (unsigned char)p[1] == 0xBB &&
        (unsigned char)p[2] == 0xBF)
        p += 3; /* inih skips a UTF-8 byte order mark */
    while (isspace((unsigned char)*p))
        p++;
    bool indented = p > str;
    /* inih's order: comments and blank lines, then continuations, then
     * headers, then keys. */
    if (*p == '\0' || *p == ';' || *p == '#') {
        c->cont = false;
        return str;
    }
    c->cont = indented && c->have_key;
    if (*p == '[' && !c->cont) {
        const char *close = header_end(p + 1);
        if (close != NULL) {
            char name[CFG_NAME_MAX + 32];
            size_t n = (size_t)(close - p - 1);
            if (n >= sizeof(name))
                n = sizeof(name) - 1; /* reported as too long by begin_section */
            memcpy(name, p + 1, n);
            name[n] = '\0';
            begin_section(c, name);
        }
    }
    return str;
}

char *config_resolve_path(const char *cfg_path, const char *path)
{
    if (path[0] == '/' || cfg_path == NULL)
        return xstrdup(path);
    const char *slash = strrchr(cfg_path, '/');
    if (slash == NULL)
        return xstrdup(path);
    size_t dl = (size_t)(slash - cfg_path);
    char *out = xmalloc(dl + 1 + strlen(path) + 1);
    memcpy(out, cfg_path, dl);
    out[dl] = '/';
    strcpy(out + dl + 1, path);
    return out;
}

static void set_defaults(struct sk_config *cfg, const char *path)
{
    cfg->path = xstrdup(path);
    if (gethostname(cfg->node, sizeof(cfg->node)) != 0 || cfg->node[0] == '\0')
        strcpy(cfg->node, "sinkhole");
    cfg->node[sizeof(cfg->node) - 1] = '\0';
    char *dot = strchr(cfg->node, '.');
    if (dot)
        *dot = '\0';
    cfg->data_dir = config_resolve_path(path, "data");
    cfg->workers = 0;
    cfg->log_level = SK_LOG_INFO;
    cfg->stats_interval_ms = 5000;
    cfg->ttl = 300;
    cfg->not_seized = CFG_NOT_SEIZED_REFUSE;
    size_t l;
    dns_name_from_text("ns1.sinkhole.invalid", 20, cfg->soa_mname, &l);
    cfg->soa_mname_len = (uint8_t)l;
    dns_name_from_text("hostmaster.sinkhole.invalid", 27, cfg->soa_rname, &l);
    cfg->soa_rname_len = (uint8_t)l;
    cfg->soa_serial = 1;
    cfg->soa_refresh = 3600;
    cfg->soa_retry = 900;
    cfg->soa_expire = 604800;
    cfg->soa_minimum = 60;
    cfg->max_udp_size = 1232;
    cfg->rrl_ratelimit = 200;
    cfg->rrl_slip = 2;
    cfg->rrl_ipv4_prefix = 24;
    cfg->rrl_ipv6_prefix = 56;
    cfg->rrl_size = 1u << 20;
    cfg->tcp_idle_timeout_ms = 10000;
    cfg->tcp_max_connections = 10000;
    cfg->log_enabled = true;
    cfg->flush_ms = 1000;
    cfg->queue_size = 65536;
    cfg->rotate_mb = 256;
    cfg->rotate_s = 3600;
    cfg->compress = true;
    cfg->compress_level = 1;
}

/* Checks that need the whole file. */
static void validate(struct parse_ctx *c)
{
    struct sk_config *cfg = c->cfg;
    c->line = 0;
    if (cfg->n_ns == 0) {
        /* The SOA primary is the one NS the zones then have. */
        memcpy(cfg->ns[0], cfg->soa_mname, cfg->soa_mname_len);
        cfg->ns_len[0] = cfg->soa_mname_len;
        cfg->n_ns = 1;
    }
    for (int i = 0; i < cfg->n_seized; i++) {
        struct cfg_seized *s = &cfg->seized[i];
        c->line = s->line;
        if (s->file == NULL && s->dga == NULL)
            config__error(c, "[seized.%s] needs a 'file' key (or 'dga')", s->name);
        if (s->file != NULL && s->dga != NULL)
            config__error(c, "[seized.%s] has both 'file' and 'dga': choose one", s->name);
        if (s->dga == NULL && (s->seed || s->variant))
            config__error(c, "[seized.%s]: 'seed' and 'variant' go with 'dga'", s->name);
        if (s->dga != NULL && !s->family_set)
            snprintf(s->family, sizeof(s->family), "%s", s->dga);
        if (!s->has_answers)
            s->answers = cfg->answers;
    }
    config__listeners_finish(c);
    c->line = 0;
    if (cfg->n_seized > 0 && cfg->n_dns_listen == 0)
        config__error(c, "[seized.*] lists are configured but [dns] has no 'listen'");
    if (cfg->workers == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        cfg->workers = n > 0 ? (int)n : 1;
    }
}

int config_load(const char *path, struct sk_config **out, FILE *errs)
{
    *out = NULL;
    struct parse_ctx c;
    memset(&c, 0, sizeof(c));
    c.path = path;
    c.errs = errs;
    c.fp = fopen(path, "r");
    if (c.fp == NULL) {
        int e = errno;
        fprintf(errs, "%s: cannot open: %s\n", path, strerror(e));
        return -e;
    }
    c.cfg = xcalloc(1, sizeof(*c.cfg));
    set_defaults(c.cfg, path);
    int rc = ini_parse_stream(counting_reader, &c, handler, &c);
    fclose(c.fp);
    end_section(&c);
    if (rc > 0) {
        /* inih reports the first line it could not parse at all. */
        c.line = rc;
        config__error(&c, "syntax error: expected [section], key = value, or a comment");
    } else if (rc < 0) {
        c.line = 0;
        config__error(&c, "cannot read");
    }
    validate(&c);
    if (c.errors > 0) {
        config_free(c.cfg);
        return SK_ECONFIG;
    }
    *out = c.cfg;
    return 0;
}

void config_free(struct sk_config *cfg)
{
    if (cfg == NULL)
        return;
    for (int i = 0; i < cfg->n_seized; i++) {
        free(cfg->seized[i].file);
        free(cfg->seized[i].dga);
        free(cfg->seized[i].seed);
        free(cfg->seized[i].variant);
    }
    free(cfg->seized);
    config__listeners_free(cfg);
    free(cfg->rules_file);
    free(cfg->path);
    free(cfg->data_dir);
    free(cfg->log_file);
    free(cfg->tap);
    free(cfg);
}
