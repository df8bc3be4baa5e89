/* evlog/closer.c -- compress, list and retire closed segments; recover.
 *
 * One thread and a queue of segment ids under a mutex: the writer pushes
 * a segment when it closes one (a few times an hour), so the lock is
 * never on a hot path. Manifest lines that cannot be written (disk full)
 * are kept and retried; if the daemon dies first, the next start finds
 * the segment unlisted and lists it then. */
#include "evlog/closer.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"
#include "core/xalloc.h"

struct job {
    uint64_t segment;
    uint64_t cut_to; /* 0: closed normally */
};

struct evlog_closer {
    char *dir, *tap;
    enum evlog_compress compress;
    int level;
    uint64_t retain_s, retain_bytes;
    char manifest_path[4200];

    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct job *q;
    size_t qhead, qn, qcap;
    int stop;

    _Atomic uint64_t open_bytes;
    _Atomic uint64_t closed, compressed, compress_errors, removed;

    /* Thread-private. */
    struct evlog_manifest m;
    char *pending; /* manifest text not yet written */
    size_t pending_len;
};

static void seg_path(const char *dir, uint64_t segment, char *out, size_t len)
{
    char name[EVLOG_SEG_NAME_MAX];
    evlog_segment_name(segment, name);
    snprintf(out, len, "%s/%s", dir, name);
}

static enum evlog_seg_form peek_form(const char *path)
{
    uint8_t b[8];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return EVLOG_FORM_UNKNOWN;
    ssize_t n = read(fd, b, sizeof(b));
    close(fd);
    /* Empty, or cut inside the magic: a segment created when the process
     * died; recovery removes it. */
    if (n >= 0 && n < 8 && memcmp(b, EVLOG_MAGIC, (size_t)n) == 0)
        return EVLOG_FORM_PLAIN;
    return n > 0 ? evlog_segment_form(b, (size_t)n) : EVLOG_FORM_UNKNOWN;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void seq_after(struct evlog_recovery *rec, const struct evlog_file_header *h,
                      uint64_t records)
{
    if (h->format >= 2 && h->first_seq > 0 && h->first_seq + records > rec->next_seq)
        rec->next_seq = h->first_seq + records;
}

int evlog_closer_recover(const char *dir, struct evlog_recovery *rec)
{
    memset(rec, 0, sizeof(*rec));
    rec->next_seq = 1;
    char path[4200];
    snprintf(path, sizeof(path), "%s/%s", dir, EVLOG_MANIFEST);
    size_t bad = 0;
    int rc = evlog_manifest_load(path, &rec->manifest, &bad);
    if (rc != 0) {
        log_error("evlog", "cannot read %s: %s", path, sk_strerror(rc));
        return rc;
    }
    if (bad)
        log_warn("evlog", "%s: %zu lines do not parse and are ignored", path, bad);

    DIR *d = opendir(dir);
    if (d == NULL) {
        rc = -errno;
        log_error("evlog", "cannot read %s: %s", dir, strerror(errno));
        return rc;
    }
    uint64_t *ids = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t l = strlen(de->d_name);
        if (l > 5 && strcmp(de->d_name + l - 5, ".ztmp") == 0) {
            /* A compression that did not finish: the plain file is whole. */
            snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
            unlink(path);
            continue;
        }
        uint64_t id;
        if (evlog_segment_parse_name(de->d_name, &id) != 0)
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            ids = xrealloc(ids, cap * sizeof(*ids));
        }
        ids[n++] = id;
    }
    closedir(d);
    if (n > 1)
        qsort(ids, n, sizeof(*ids), cmp_u64);

    for (size_t i = 0; i < rec->manifest.n; i++) {
        struct evlog_manifest_entry *e = &rec->manifest.e[i];
        if (e->first_seq > 0 && e->first_seq + e->records > rec->next_seq)
            rec->next_seq = e->first_seq + e->records;
        if (e->segment > rec->last_segment)
            rec->last_segment = e->segment;
        struct stat st;
        seg_path(dir, e->segment, path, sizeof(path));
        if (!e->removed && stat(path, &st) != 0)
            e->removed = 1; /* gone (by hand): nothing for retention to do */
    }
    for (size_t i = 0; i < n; i++) {
        if (ids[i] > rec->last_segment)
            rec->last_segment = ids[i];
        if (evlog_manifest_find(&rec->manifest, ids[i]) != NULL)
            continue;
        seg_path(dir, ids[i], path, sizeof(path));
        char err[512];
        struct evlog_segment_info info;
        enum evlog_seg_form form = peek_form(path);
        if (form == EVLOG_FORM_PLAIN) {
            uint64_t cut;
            if (evlog_segment_recover(path, &info, &cut, err, sizeof(err)) != 0) {
                log_warn("evlog", "%s; left as it is", err);
                continue;
            }
            if (info.form == EVLOG_FORM_UNKNOWN) {
                log_notice("evlog", "%s: removed: created but never written (crash recovery)",
                           path);
                continue;
            }
            if (cut > 0)
                log_notice("evlog",
                           "%s: cut %" PRIu64 " torn bytes after record %" PRIu64
                           " (crash recovery)",
                           path, cut, info.records);
            if (info.records == 0) {
                /* A header and nothing else: no event was ever in it. */
                unlink(path);
                continue;
            }
        } else if (form == EVLOG_FORM_ZSTD) {
            if (evlog_segment_stat(path, &info, err, sizeof(err)) != 0) {
                log_warn("evlog", "%s; left as it is", err);
                continue;
            }
        } else {
            log_warn("evlog", "%s: not an event log segment; left alone", path);
            continue;
        }
        seq_after(rec, &info.hdr, info.records);
        rec->pending = xrealloc(rec->pending, (rec->npending + 1) * sizeof(*rec->pending));
        rec->pending[rec->npending++] = ids[i];
    }
    free(ids);
    return 0;
}

void evlog_recovery_free(struct evlog_recovery *rec)
{
    evlog_manifest_free(&rec->manifest);
    free(rec->pending);
    memset(rec, 0, sizeof(*rec));
}

/* ---- the thread ---- */

static void flush_pending(struct evlog_closer *c)
{
    if (c->pending_len == 0)
        return;
    int rc = evlog_manifest_append(c->manifest_path, c->pending, c->pending_len);
    if (rc != 0) {
        log_rl(SK_LOG_ERROR, "evlog", "cannot append to %s: %s (will retry)", c->manifest_path,
               sk_strerror(rc));
        return;
    }
    c->pending_len = 0;
}

static void add_pending(struct evlog_closer *c, const char *line, size_t n)
{
    c->pending = xrealloc(c->pending, c->pending_len + n + 1);
    memcpy(c->pending + c->pending_len, line, n);
    c->pending_len += n;
    c->pending[c->pending_len] = '\0';
}

static void retire(struct evlog_closer *c, struct evlog_manifest_entry *e, const char *reason)
{
    char path[4200];
    seg_path(c->dir, e->segment, path, sizeof(path));
    if (unlink(path) != 0 && errno != ENOENT) {
        log_rl(SK_LOG_WARN, "evlog", "retention: cannot remove %s: %s", path, strerror(errno));
        return;
    }
    if (c->tap) {
        snprintf(path, sizeof(path), "%s.%016" PRIx64, c->tap, e->segment);
        unlink(path);
    }
    e->removed = 1;
    char line[256];
    int n = evlog_manifest_removed_line(e->segment, sk_clock_now_us(), reason, line, sizeof(line));
    if (n > 0)
        add_pending(c, line, (size_t)n);
    atomic_fetch_add(&c->removed, 1);
    log_info("evlog", "retention: removed segment %016" PRIx64 " (%s)", e->segment, reason);
}

static void retention(struct evlog_closer *c)
{
    if (c->retain_s) {
        uint64_t now = sk_clock_now_us(), keep = c->retain_s * 1000000u;
        for (size_t i = 0; i < c->m.n; i++) {
            struct evlog_manifest_entry *e = &c->m.e[i];
            if (!e->removed && e->last_ts + keep < now)
                retire(c, e, "age");
        }
    }
    if (c->retain_bytes) {
        for (;;) {
            uint64_t total = atomic_load(&c->open_bytes);
            struct evlog_manifest_entry *oldest = NULL;
            for (size_t i = 0; i < c->m.n; i++) {
                struct evlog_manifest_entry *e = &c->m.e[i];
                if (e->removed)
                    continue;
                total += e->bytes;
                if (oldest == NULL || e->segment < oldest->segment)
                    oldest = e;
            }
            if (total <= c->retain_bytes || oldest == NULL)
                break;
            retire(c, oldest, "size");
            if (!oldest->removed)
                break; /* could not remove it: try again later */
        }
    }
    flush_pending(c);
}

static void finish(struct evlog_closer *c, const struct job *j)
{
    char path[4200], err[512];
    seg_path(c->dir, j->segment, path, sizeof(path));
    struct evlog_segment_info info;
    enum evlog_seg_form form = peek_form(path);
    int rc;
    if (form == EVLOG_FORM_PLAIN) {
        if (j->cut_to) {
            uint64_t cut;
            if (truncate(path, (off_t)j->cut_to) != 0)
                log_warn("evlog", "%s: cannot cut back to %" PRIu64 " bytes: %s", path, j->cut_to,
                         strerror(errno));
            rc = evlog_segment_recover(path, &info, &cut, err, sizeof(err));
            if (rc != 0) {
                log_error("evlog", "%s", err);
                return;
            }
            if (info.form == EVLOG_FORM_UNKNOWN)
                return;
            if (cut)
                log_notice("evlog", "%s: cut %" PRIu64 " bytes of a failed write", path, cut);
        }
        rc = -1;
        if (c->compress == EVLOG_COMPRESS_ZSTD) {
            rc = evlog_segment_compress(path, c->level, &info, err, sizeof(err));
            if (rc == 0) {
                atomic_fetch_add(&c->compressed, 1);
            } else {
                atomic_fetch_add(&c->compress_errors, 1);
                log_rl(SK_LOG_WARN, "evlog", "cannot compress: %s; the segment stays plain", err);
            }
        }
        if (rc != 0)
            rc = evlog_segment_stat(path, &info, err, sizeof(err));
    } else if (form == EVLOG_FORM_ZSTD) {
        rc = evlog_segment_stat(path, &info, err, sizeof(err));
    } else {
        log_warn("evlog", "%s: missing or not a segment; not listed", path);
        return;
    }
    if (rc != 0) {
        log_error("evlog", "%s", err);
        return;
    }
    char line[1024];
    int n = evlog_manifest_closed_line(&info, line, sizeof(line));
    if (n > 0)
        add_pending(c, line, (size_t)n);
    struct evlog_manifest_entry e;
    if (n > 0 && evlog_manifest_parse_line(line, &e) == 1) {
        if (c->m.n == c->m.cap) {
            c->m.cap = c->m.cap ? 2 * c->m.cap : 64;
            c->m.e = xrealloc(c->m.e, c->m.cap * sizeof(*c->m.e));
        }
        c->m.e[c->m.n++] = e;
    }
    atomic_fetch_add(&c->closed, 1);
}

static void *closer_main(void *arg)
{
    struct evlog_closer *c = arg;
    pthread_mutex_lock(&c->mu);
    for (;;) {
        if (c->qn > 0) {
            struct job j = c->q[c->qhead];
            c->qhead = (c->qhead + 1) % c->qcap;
            c->qn--;
            pthread_mutex_unlock(&c->mu);
            finish(c, &j);
            retention(c);
            pthread_mutex_lock(&c->mu);
            continue;
        }
        if (c->stop)
            break;
        /* Wake every second anyway: retention by age and retrying the
         * manifest after a write error need time to pass. */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 1;
        int rc = pthread_cond_timedwait(&c->cv, &c->mu, &ts);
        if (rc != 0 && c->qn == 0 && !c->stop) {
            pthread_mutex_unlock(&c->mu);
            retention(c);
            pthread_mutex_lock(&c->mu);
        }
    }
    pthread_mutex_unlock(&c->mu);
    flush_pending(c);
    return NULL;
}

struct evlog_closer *evlog_closer_start(const struct evlog_closer_options *opt,
                                        struct evlog_recovery *rec)
{
    struct evlog_closer *c = xcalloc(1, sizeof(*c));
    c->dir = xstrdup(opt->dir);
    c->tap = opt->tap ? xstrdup(opt->tap) : NULL;
    c->compress = opt->compress;
    c->level = opt->level;
    c->retain_s = opt->retain_s;
    c->retain_bytes = opt->retain_bytes;
    snprintf(c->manifest_path, sizeof(c->manifest_path), "%s/%s", opt->dir, EVLOG_MANIFEST);
    c->m = rec->manifest;
    memset(&rec->manifest, 0, sizeof(rec->manifest));
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    for (size_t i = 0; i < rec->npending; i++)
        evlog_closer_push(c, rec->pending[i], 0);
    free(rec->pending);
    rec->pending = NULL;
    rec->npending = 0;
    int rc = pthread_create(&c->thread, NULL, closer_main, c);
    if (rc != 0) {
        /* Without the thread, closed segments stay plain and unlisted until
         * the next start lists them. */
        log_error("evlog", "cannot start the segment closer: %s", strerror(rc));
        c->stop = -1;
    }
    return c;
}

void evlog_closer_push(struct evlog_closer *c, uint64_t segment, uint64_t cut_to)
{
    pthread_mutex_lock(&c->mu);
    if (c->qn == c->qcap) {
        size_t cap = c->qcap ? 2 * c->qcap : 16;
        struct job *q = xmalloc(cap * sizeof(*q));
        for (size_t i = 0; i < c->qn; i++)
            q[i] = c->q[(c->qhead + i) % c->qcap];
        free(c->q);
        c->q = q;
        c->qhead = 0;
        c->qcap = cap;
    }
    c->q[(c->qhead + c->qn) % c->qcap] = (struct job){ segment, cut_to };
    c->qn++;
    pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

void evlog_closer_set_open_bytes(struct evlog_closer *c, uint64_t bytes)
{
    atomic_store_explicit(&c->open_bytes, bytes, memory_order_relaxed);
}

void evlog_closer_get_stats(struct evlog_closer *c, struct evlog_closer_stats *st)
{
    st->closed = atomic_load(&c->closed);
    st->compressed = atomic_load(&c->compressed);
    st->compress_errors = atomic_load(&c->compress_errors);
    st->removed = atomic_load(&c->removed);
}

void evlog_closer_stop(struct evlog_closer *c, struct evlog_closer_stats *final)
{
    if (final)
        memset(final, 0, sizeof(*final));
    if (c == NULL)
        return;
    pthread_mutex_lock(&c->mu);
    int running = c->stop != -1;
    c->stop = 1;
    pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->mu);
    if (running)
        pthread_join(c->thread, NULL);
    if (final)
        evlog_closer_get_stats(c, final);
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->cv);
    evlog_manifest_free(&c->m);
    free(c->q);
    free(c->pending);
    free(c->dir);
    free(c->tap);
    free(c);
}
