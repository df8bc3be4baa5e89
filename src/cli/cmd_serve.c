/* cli/cmd_serve.c -- `sinkhole serve`: the daemon.
 *
 * The main thread owns signals (all others block them) and the slow work:
 * reloading lists on SIGHUP, writing data_dir/stats.json every few seconds
 * and on SIGUSR1, and the graceful stop on SIGTERM/SIGINT. Worker threads
 * each run one event loop with their own sockets (dns/server.h); the event
 * log has its own writer thread (evlog/evlog.h). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "classify/rules.h"
#include "cli/commands.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/err.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/sock.h"
#include "core/xalloc.h"
#include "dns/server.h"
#include "dns/zones.h"
#include "domains/date.h"
#include "evlog/evlog.h"
#include "evlog/json.h"
#include "listen/listener.h"
#include "stats/counters.h"

static const char usage_text[] =
    "Usage: sinkhole serve -c FILE\n"
    "\n"
    "Run the sinkhole in the foreground: an authoritative DNS server that answers\n"
    "for every name in the [seized.*] lists with the sinkhole's addresses, and the\n"
    "[listener.*] TCP and UDP ports that take what the bots then send (HTTP, TLS,\n"
    "anything else), tell family and bot by the [classify] rules, and answer.\n"
    "Every query, request and connection is logged as an event in DATA_DIR/events/.\n"
    "\n"
    "Options:\n"
    "  -c, --config FILE   the configuration file (INI; see docs/config.md)\n"
    "  -h, --help          show this help\n"
    "\n"
    "Signals:\n"
    "  SIGTERM, SIGINT     stop: answer what is in flight, flush the log, exit 0\n"
    "  SIGHUP              reload the [seized.*] lists and the rules file; if either\n"
    "                      does not load, the old ones stay in force and the error\n"
    "                      is logged (listeners change only with a restart)\n"
    "  SIGUSR1             write DATA_DIR/stats.json now (also every stats_interval)\n"
    "\n"
    "Exit status: 0 after a clean stop, 1 if it could not start, 2 for a bad config.\n";

struct worker_thread {
    pthread_t thread;
    struct loop loop;
    struct dns_worker *dns;
    struct listen_worker *lsn;
    struct serve *srv;
    int id;
    int started; /* 1 ok, -1 failed */
};

struct serve {
    struct sk_config *cfg; /* startup config */
    struct dns_shared shared;
    struct listen_shared lsh;
    struct evlog *evlog;
    struct worker_thread *workers;
    int nworkers;
    _Atomic int stop;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    uint64_t started_us;
    uint64_t reloads, reload_failures;
    uint64_t last_reload_us;
    char last_reload_error[512];
    int32_t dga_day_tried; /* the day a DGA regeneration was last tried for */
    uint64_t stats_seq;    /* stats.json writes so far: readers tell a fresh one by it */
    char events_file[4200];
    struct evlog_stats final_es; /* once the log is closed */
};

static void *worker_main(void *arg)
{
    struct worker_thread *t = arg;
    struct serve *srv = t->srv;
    int ok = loop_init(&t->loop) == 0;
    if (ok) {
        t->dns = dns_worker_new(&srv->shared, t->id, &t->loop, evlog_queue(srv->evlog, t->id));
        ok = t->dns != NULL;
    }
    if (ok) {
        t->lsn = listen_worker_new(&srv->lsh, t->id, &t->loop, evlog_queue(srv->evlog, t->id));
        ok = t->lsn != NULL;
    }
    pthread_mutex_lock(&srv->lock);
    t->started = ok ? 1 : -1;
    pthread_cond_broadcast(&srv->cond);
    pthread_mutex_unlock(&srv->lock);
    if (!ok)
        return NULL;
    while (!atomic_load_explicit(&srv->stop, memory_order_relaxed)) {
        loop_run_once(&t->loop, 100);
        dns_worker_tick(t->dns);
        listen_worker_tick(t->lsn);
    }
    dns_worker_stop(t->dns, 1000);
    listen_worker_stop(t->lsn, 1000);
    return NULL;
}

/* ---- stats.json ---- */

/* "rules" and "listeners": each listener's counters summed over the
 * workers, named as in stats/counters.h. */
static void write_listener_stats(struct serve *srv, FILE *f)
{
    const struct rules *r = atomic_load(&srv->lsh.rules);
    char file[6 * 4096 + 3] = "null";
    if (srv->cfg->rules_file)
        evlog_json_string(srv->cfg->rules_file, strlen(srv->cfg->rules_file), file, sizeof(file));
    fprintf(f, "  \"rules\": {\n    \"file\": %s,\n    \"rules\": %zu\n  },\n", file,
            r ? rules_count(r) : 0);
    fprintf(f, "  \"listeners\": {");
    for (int i = 0; i < srv->cfg->n_listeners; i++) {
        struct listen_counters c;
        memset(&c, 0, sizeof(c));
        for (int w = 0; w < srv->nworkers; w++)
            if (srv->workers[w].lsn)
                listen_counters_add(&c, listen_worker_counters(srv->workers[w].lsn, i));
        fprintf(f, "%s\n    \"%s\": {", i ? "," : "", srv->cfg->listeners[i].name);
        for (size_t k = 0; k < LISTEN_COUNTERS_N; k++)
            fprintf(f, "%s\"%s\": %" PRIu64, k ? ", " : "", listen_counter_name(k),
                    listen_counter_get(&c, k));
        fprintf(f, "}");
    }
    fprintf(f, "%s}\n", srv->cfg->n_listeners ? "\n  " : "");
}

static void write_stats(struct serve *srv)
{
    struct dns_counters c;
    memset(&c, 0, sizeof(c));
    for (int i = 0; i < srv->nworkers; i++)
        if (srv->workers[i].dns)
            dns_counters_add(&c, dns_worker_counters(srv->workers[i].dns));
    struct evlog_stats es = srv->final_es;
    if (srv->evlog)
        evlog_get_stats(srv->evlog, &es);
    struct dns_zones *z = atomic_load(&srv->shared.zones);

    char path[4200], tmp[4300], ts[32], ts2[32];
    snprintf(path, sizeof(path), "%s/stats.json", srv->cfg->data_dir);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (f == NULL) {
        log_rl(SK_LOG_WARN, "stats", "cannot write %s: %s", tmp, strerror(errno));
        return;
    }
    uint64_t now = sk_clock_now_us();
    fprintf(f, "{\n  \"node\": \"%s\",\n  \"version\": \"%s\",\n  \"pid\": %d,\n", srv->cfg->node,
            SK_VERSION, (int)getpid());
    fprintf(f, "  \"seq\": %" PRIu64 ",\n", ++srv->stats_seq);
    fprintf(f, "  \"started\": \"%s\",\n  \"now\": \"%s\",\n  \"uptime_s\": %" PRIu64 ",\n",
            sk_clock_format(srv->started_us, ts), sk_clock_format(now, ts2),
            (now - srv->started_us) / 1000000u);
    fprintf(f, "  \"workers\": %d,\n", srv->nworkers);
    fprintf(f,
            "  \"dns\": {\n    \"queries\": %" PRIu64 ",\n    \"udp\": %" PRIu64
            ",\n    \"tcp\": %" PRIu64 ",\n    \"responses\": %" PRIu64
            ",\n    \"malformed_dropped\": %" PRIu64 ",\n    \"truncated\": %" PRIu64
            ",\n    \"seized_hits\": %" PRIu64 ",\n    \"send_errors\": %" PRIu64 ",\n",
            CTR_GET(c.queries), CTR_GET(c.udp), CTR_GET(c.tcp), CTR_GET(c.responses),
            CTR_GET(c.malformed_dropped), CTR_GET(c.truncated), CTR_GET(c.seized_hits),
            CTR_GET(c.send_errors));
    fprintf(f, "    \"rcode\": {");
    int first = 1;
    for (int i = 0; i < DNS_RCODE_SLOTS; i++) {
        uint64_t v = CTR_GET(c.rcode[i]);
        if (v == 0 && i != 0 && i != 3 && i != 5)
            continue;
        char nb[16];
        fprintf(f, "%s\"%s\": %" PRIu64, first ? "" : ", ", dns_rcode_name((uint16_t)i, nb), v);
        first = 0;
    }
    fprintf(f, "},\n");
    fprintf(f,
            "    \"rrl\": {\"slipped\": %" PRIu64 ", \"dropped\": %" PRIu64 ", \"exempt\": %" PRIu64
            "},\n",
            CTR_GET(c.rrl_slipped), CTR_GET(c.rrl_dropped), CTR_GET(c.rrl_exempt));
    fprintf(f,
            "    \"tcp_connections\": {\"accepted\": %" PRIu64 ", \"closed\": %" PRIu64
            ", \"current\": %" PRIu64 ", \"idle_timeouts\": %" PRIu64 ", \"rejected\": %" PRIu64
            ", \"oversize\": %" PRIu64 "},\n",
            CTR_GET(c.tcp_accepted), CTR_GET(c.tcp_closed), CTR_GET(c.tcp_current),
            CTR_GET(c.tcp_idle_timeouts), CTR_GET(c.tcp_rejected), CTR_GET(c.tcp_oversize));
    fprintf(f, "    \"proxy\": {\"proxied\": %" PRIu64 ", \"bad\": %" PRIu64 "}\n  },\n",
            CTR_GET(c.proxied), CTR_GET(c.proxy_bad));
    /* seq and durable are sequence numbers (docs/events.md): every event
     * numbered up to durable is on disk. */
    char evfile[4200] = "";
    if (srv->evlog)
        evlog_current_path(srv->evlog, evfile, sizeof(evfile));
    fprintf(f,
            "  \"events\": {\n    \"appended\": %" PRIu64 ",\n    \"written\": %" PRIu64
            ",\n    \"dropped\": %" PRIu64 ",\n    \"write_errors\": %" PRIu64
            ",\n    \"seq\": %" PRIu64 ",\n    \"durable\": %" PRIu64 ",\n    \"bytes\": %" PRIu64
            ",\n    \"flushes\": %" PRIu64 ",\n    \"segment\": \"%016" PRIx64
            "\",\n    \"segments_closed\": %" PRIu64 ",\n    \"segments_compressed\": %" PRIu64
            ",\n    \"compress_errors\": %" PRIu64 ",\n    \"segments_removed\": %" PRIu64
            ",\n    \"tap_lines\": %" PRIu64 ",\n    \"tap_errors\": %" PRIu64
            ",\n    \"failing\": %s,\n    \"last_error\": \"%s\""
            ",\n    \"file\": \"%s\"\n  },\n",
            es.appended, es.written, es.dropped, es.write_errors, es.seq, es.durable, es.bytes,
            es.flushes, es.segment, es.segments, es.compressed, es.compress_errors, es.removed,
            es.tap_lines, es.tap_errors, es.failing ? "true" : "false",
            es.last_error ? strerror(es.last_error) : "", evfile);
    fprintf(
        f,
        "  \"lists\": {\n    \"loaded\": \"%s\",\n    \"names\": %zu,\n    \"reloads\": %" PRIu64
        ",\n    \"reload_failures\": %" PRIu64 ",\n",
        sk_clock_format(z->loaded_us, ts), seized_count(z->matcher), srv->reloads,
        srv->reload_failures);
    char err[6 * sizeof(srv->last_reload_error) + 3];
    evlog_json_string(srv->last_reload_error, strlen(srv->last_reload_error), err, sizeof(err));
    fprintf(f, "    \"last_reload_error\": %s,\n    \"seized\": [", err);
    for (int i = 0; i < z->cfg->n_seized; i++) {
        const struct cfg_seized *s = &z->cfg->seized[i];
        fprintf(f, "%s\n      {\"list\": \"%s\", \"family\": \"%s\", \"names\": %zu}", i ? "," : "",
                s->name, s->family, z->counts[i]);
    }
    fprintf(f, "%s]\n  },\n", z->cfg->n_seized ? "\n    " : "");
    write_listener_stats(srv, f);
    fprintf(f, "}\n");
    if (fclose(f) != 0 || rename(tmp, path) != 0)
        log_rl(SK_LOG_WARN, "stats", "cannot write %s: %s", path, strerror(errno));
}

/* ---- reload ---- */

/* Listeners are opened once, at start; a reload only tells the operator
 * that edits to them wait for a restart. Compares what a reader of the
 * config would call the listener: name, transport, addresses and the
 * options (the pointers to file names aside). */
static bool listeners_changed(const struct sk_config *a, const struct sk_config *b)
{
    if (a->n_listeners != b->n_listeners)
        return true;
    for (int i = 0; i < a->n_listeners; i++) {
        struct cfg_listener x, y; /* copied with their padding: the config zeroes it */
        memcpy(&x, &a->listeners[i], sizeof(x));
        memcpy(&y, &b->listeners[i], sizeof(y));
        if (!!x.tls_cert != !!y.tls_cert || (x.tls_cert && strcmp(x.tls_cert, y.tls_cert)) ||
            !!x.tls_key != !!y.tls_key || (x.tls_key && strcmp(x.tls_key, y.tls_key)))
            return true;
        x.tls_cert = y.tls_cert = x.tls_key = y.tls_key = NULL;
        x.line = y.line = x.listen_line = y.listen_line = 0;
        if (memcmp(&x, &y, sizeof(x)) != 0)
            return true;
    }
    return false;
}

static void reload(struct serve *srv)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *errs = open_memstream(&buf, &len);
    struct sk_config *cfg = NULL;
    struct dns_zones *z = NULL;
    struct rules *r = NULL;
    int rc = config_load(srv->cfg->path, &cfg, errs);
    if (rc == 0 && cfg->rules_file)
        rc = rules_load(cfg->rules_file, &r, errs);
    if (rc == 0)
        rc = dns_zones_load(cfg, &z, errs);
    else
        config_free(cfg);
    fclose(errs);
    if (rc != 0) {
        rules_free(r);
        srv->reload_failures++;
        snprintf(srv->last_reload_error, sizeof(srv->last_reload_error), "%s", buf ? buf : "");
        char *save = NULL;
        for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
            log_error("reload", "%s", line);
        log_error("reload", "reload failed: the lists and rules loaded before stay in force");
        free(buf);
        return;
    }
    free(buf);
    srv->last_reload_error[0] = '\0';
    if (listeners_changed(srv->cfg, z->cfg))
        log_warn("reload", "[listener.*] sections changed: they take effect at the next start");
    struct dns_zones *old = atomic_exchange(&srv->shared.zones, z);
    struct rules *old_rules = atomic_exchange(&srv->lsh.rules, r);
    uint64_t gen = atomic_fetch_add(&srv->shared.gen, 1) + 1;
    uint64_t lgen = atomic_fetch_add(&srv->lsh.gen, 1) + 1;
    /* Free the old zones and rules once every worker has announced the new
     * generations; workers tick at least every 100 ms. */
    for (int spins = 0;; spins++) {
        int behind = 0;
        for (int i = 0; i < srv->nworkers; i++)
            if (dns_worker_seen_gen(srv->workers[i].dns) < gen ||
                listen_worker_seen_gen(srv->workers[i].lsn) < lgen)
                behind++;
        if (behind == 0)
            break;
        struct timespec ts = { 0, 5000000 };
        nanosleep(&ts, NULL);
        if (spins == 2000) {
            log_warn("reload", "%d worker(s) slow to pick up the new lists", behind);
        }
    }
    dns_zones_free(old);
    rules_free(old_rules);
    srv->reloads++;
    srv->last_reload_us = sk_clock_now_us();
    log_notice("reload", "lists reloaded: %zu names in %d lists; %zu family rules",
               seized_count(z->matcher), z->cfg->n_seized, r ? rules_count(r) : 0);
}

/* ---- start and stop ---- */

static int mkdir_p(const char *path)
{
    char buf[4096];
    if (strlen(path) >= sizeof(buf))
        return -ENAMETOOLONG;
    strcpy(buf, path);
    for (char *p = buf + 1;; p++) {
        if (*p == '/' || *p == '\0') {
            char c = *p;
            *p = '\0';
            if (mkdir(buf, 0750) != 0 && errno != EEXIST)
                return -errno;
            *p = c;
            if (c == '\0')
                break;
        }
    }
    return 0;
}

/* Every worker binds its sockets with SO_REUSEPORT, which would let this
 * daemon share its ports with one already running (a second start by
 * mistake, an old one that did not stop) and take part of its traffic in
 * silence. So first each address is tried alone. Returns the number of
 * addresses in use, each logged. */
static int addresses_in_use(const struct sk_config *cfg)
{
    int busy = 0;
    char a[SK_IP_TEXT_MAX];
    for (int i = 0; i < cfg->n_dns_listen; i++) {
        const struct sk_ip *ip = &cfg->dns_listen[i];
        static const int types[2] = { SOCK_STREAM, SOCK_DGRAM };
        for (int t = 0; t < 2; t++) {
            int type = types[t];
            if (ip->port && sk_sock_probe(ip, type) == -EADDRINUSE) {
                log_error("serve", "DNS: %s (%s) is in use: is another sinkhole running?",
                          sk_ip_ntop_port(ip, a), type == SOCK_STREAM ? "TCP" : "UDP");
                busy++;
            }
        }
    }
    for (int i = 0; i < cfg->n_listeners; i++) {
        const struct cfg_listener *l = &cfg->listeners[i];
        int type = l->transport == CFG_UDP ? SOCK_DGRAM : SOCK_STREAM;
        for (int k = 0; k < l->n_listen; k++) {
            if (l->listen[k].port && sk_sock_probe(&l->listen[k], type) == -EADDRINUSE) {
                log_error("serve", "listener %s: %s (%s) is in use: is another sinkhole running?",
                          l->name, sk_ip_ntop_port(&l->listen[k], a),
                          cfg_transport_name(l->transport));
                busy++;
            }
        }
    }
    return busy;
}

/* "addr:port addr:port ..." into out, for the start-up lines. */
static void join_addrs(const struct sk_ip *ips, int n, char *out, size_t cap)
{
    char a[SK_IP_TEXT_MAX];
    out[0] = '\0';
    for (int i = 0; i < n; i++) {
        size_t len = strlen(out);
        snprintf(out + len, cap - len, "%s%s", i ? " " : "", sk_ip_ntop_port(&ips[i], a));
    }
}

static int serve_run(struct serve *srv)
{
    struct sk_config *cfg = srv->cfg;
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGHUP);
    sigaddset(&sigs, SIGUSR1);
    sigaddset(&sigs, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);

    if (addresses_in_use(cfg) > 0)
        return 1;
    int rc = mkdir_p(cfg->data_dir);
    if (rc != 0) {
        log_error("serve", "cannot create data_dir %s: %s", cfg->data_dir, sk_strerror(rc));
        return 1;
    }
    struct evlog_options eo = { .data_dir = cfg->data_dir,
                                .node = cfg->node,
                                .nqueues = cfg->workers,
                                .queue_bytes = cfg->queue_size * 128u,
                                .flush_ms = cfg->flush_ms,
                                .rotate_bytes = (uint64_t)cfg->rotate_mb << 20,
                                .rotate_s = cfg->rotate_s,
                                .compress =
                                    cfg->compress ? EVLOG_COMPRESS_ZSTD : EVLOG_COMPRESS_NONE,
                                .compress_level = (int)cfg->compress_level,
                                .retain_s = (uint64_t)cfg->retain_days * 86400u,
                                .retain_bytes = (uint64_t)cfg->retain_mb << 20,
                                .tap = cfg->tap };
    if (!cfg->log_enabled) {
        /* Workers get no queue: nothing is recorded, not even counted as
         * dropped. Only for measuring what the log costs. */
        log_warn("serve", "[log] enabled = no: no event is recorded");
        snprintf(srv->events_file, sizeof(srv->events_file), "(none: [log] enabled = no)");
    } else {
        if (evlog_open(&eo, &srv->evlog) != 0)
            return 1;
        snprintf(srv->events_file, sizeof(srv->events_file), "%s", evlog_path(srv->evlog));
    }
    srv->shared.evlog = srv->evlog;
    srv->shared.rrl = rrl_new(cfg);

    srv->nworkers = cfg->workers;
    srv->workers = xcalloc((size_t)srv->nworkers, sizeof(*srv->workers));
    int failed = 0;
    for (int i = 0; i < srv->nworkers; i++) {
        struct worker_thread *t = &srv->workers[i];
        t->srv = srv;
        t->id = i;
        if (pthread_create(&t->thread, NULL, worker_main, t) != 0) {
            log_error("serve", "cannot start worker %d", i);
            t->started = -2;
            failed = 1;
        }
    }
    pthread_mutex_lock(&srv->lock);
    for (int i = 0; i < srv->nworkers; i++) {
        while (srv->workers[i].started == 0)
            pthread_cond_wait(&srv->cond, &srv->lock);
        if (srv->workers[i].started < 0)
            failed = 1;
    }
    pthread_mutex_unlock(&srv->lock);

    if (!failed) {
        struct dns_zones *z = atomic_load(&srv->shared.zones);
        char addrs[1024];
        join_addrs(cfg->dns_listen, cfg->n_dns_listen, addrs, sizeof(addrs));
        log_notice(
            "serve",
            "sinkhole %s node %s: DNS on %s (UDP+TCP), %d workers, %zu names in %d lists, events to %s",
            SK_VERSION, cfg->node, addrs[0] ? addrs : "(none)", srv->nworkers,
            seized_count(z->matcher), z->cfg->n_seized, srv->events_file);
        for (int i = 0; i < cfg->n_listeners; i++) {
            const struct cfg_listener *l = &cfg->listeners[i];
            join_addrs(l->listen, l->n_listen, addrs, sizeof(addrs));
            log_notice("serve", "listener %s: %s on %s%s", l->name,
                       cfg_transport_name(l->transport), addrs,
                       l->tls_terminate ? ", TLS terminated" : "");
        }
        const struct rules *r = atomic_load(&srv->lsh.rules);
        if (cfg->n_listeners > 0)
            log_notice("serve", "%zu family rules from %s", r ? rules_count(r) : 0,
                       cfg->rules_file ? cfg->rules_file : "(none: the default replies)");
        write_stats(srv);
        uint64_t next_stats = sk_clock_mono_us() + (uint64_t)cfg->stats_interval_ms * 1000u;
        while (!atomic_load(&srv->stop)) {
            struct timespec to = { 0, 200000000 };
            siginfo_t si;
            int sig = sigtimedwait(&sigs, &si, &to);
            if (sig == SIGTERM || sig == SIGINT) {
                log_notice("serve", "signal %d: stopping", sig);
                atomic_store(&srv->stop, 1);
            } else if (sig == SIGHUP) {
                reload(srv);
                write_stats(srv);
            } else if (sig == SIGUSR1) {
                write_stats(srv);
            }
            if (sk_clock_mono_us() >= next_stats) {
                write_stats(srv);
                next_stats = sk_clock_mono_us() + (uint64_t)cfg->stats_interval_ms * 1000u;
            }
            /* DGA lists cover days around today: at midnight (by the one
             * clock) they are generated again, as a reload would. */
            const struct dns_zones *cur = atomic_load(&srv->shared.zones);
            int32_t today = domains_today();
            if (cur->has_dga && today != cur->day && today != srv->dga_day_tried) {
                srv->dga_day_tried = today;
                log_notice("serve", "a new day: generating the DGA lists again");
                reload(srv);
                write_stats(srv);
            }
        }
    }

    atomic_store(&srv->stop, 1);
    for (int i = 0; i < srv->nworkers; i++) {
        struct worker_thread *t = &srv->workers[i];
        if (t->started == -2)
            continue;
        if (t->started == 1)
            loop_wake(&t->loop);
        pthread_join(t->thread, NULL);
    }
    /* Workers are done: the log writer takes what they queued last, and
     * the last segment is closed, compressed and listed in the manifest. */
    struct evlog *evl = srv->evlog;
    srv->evlog = NULL;
    evlog_close(evl, &srv->final_es);
    if (!failed)
        write_stats(srv);
    return failed ? 1 : 0;
}

int cmd_serve(int argc, char **argv)
{
    static const struct option opts[] = { { "config", required_argument, NULL, 'c' },
                                          { "help", no_argument, NULL, 'h' },
                                          { NULL, 0, NULL, 0 } };
    const char *path = NULL;
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (ch) {
        case 'c':
            path = optarg;
            break;
        case 'h':
            fputs(usage_text, stdout);
            return 0;
        default:
            fputs(usage_text, stderr);
            return 2;
        }
    }
    if (path == NULL || optind != argc) {
        fputs(usage_text, stderr);
        return 2;
    }
    struct sk_config *cfg, *zcfg;
    int rc = config_load(path, &cfg, stderr);
    if (rc != 0)
        return rc == SK_ECONFIG ? 2 : 1;
    log_set_level((enum sk_log_level)cfg->log_level);
    if (cfg->log_file && (rc = log_open(cfg->log_file)) != 0) {
        fprintf(stderr, "%s: log_file %s: %s\n", path, cfg->log_file, sk_strerror(rc));
        config_free(cfg);
        return 1;
    }
    /* The zones own a config of their own, so a reload can replace both. */
    if (config_load(path, &zcfg, stderr) != 0) {
        config_free(cfg);
        return 2;
    }
    struct dns_zones *z;
    if (dns_zones_load(zcfg, &z, stderr) != 0) {
        config_free(cfg);
        return 2;
    }
    struct rules *rules = NULL;
    if (cfg->rules_file && rules_load(cfg->rules_file, &rules, stderr) != 0) {
        dns_zones_free(z);
        config_free(cfg);
        return 2;
    }

    struct serve srv;
    memset(&srv, 0, sizeof(srv));
    /* TLS contexts are made here (a certificate given in the config that
     * does not load is the config's mistake). */
    if (listen_shared_init(&srv.lsh, cfg, rules, stderr) != 0) {
        rules_free(rules);
        dns_zones_free(z);
        config_free(cfg);
        return 2;
    }
    srv.cfg = cfg;
    srv.started_us = sk_clock_now_us();
    srv.shared.cfg = cfg;
    atomic_store(&srv.shared.zones, z);
    atomic_store(&srv.shared.gen, 1);
    pthread_mutex_init(&srv.lock, NULL);
    pthread_cond_init(&srv.cond, NULL);

    int status = serve_run(&srv);
    for (int i = 0; i < srv.nworkers; i++) {
        dns_worker_free(srv.workers[i].dns);
        listen_worker_free(srv.workers[i].lsn);
    }
    free(srv.workers);
    listen_shared_free(&srv.lsh);
    rrl_free(srv.shared.rrl);
    dns_zones_free(atomic_load(&srv.shared.zones));
    config_free(cfg);
    log_notice("serve", "stopped");
    log_open(NULL);
    return status;
}
