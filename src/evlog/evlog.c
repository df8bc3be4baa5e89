/* evlog/evlog.c -- per-producer rings and the writer thread.
 *
 * Each queue is a single-producer single-consumer byte ring. The producer
 * encodes a whole framed record at head and then publishes the new head
 * (release), so [tail, head) always holds whole records; the writer takes
 * the whole range with one writev() (two iovecs when it wraps) and then
 * publishes the new tail. Producers never wait: a record that does not fit
 * is counted as dropped. The writer sleeps a millisecond when every ring
 * is empty, which keeps it off a shared core under light load. */
#include "evlog/evlog.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "evlog/record.h"

struct evlog_queue {
    /* Producer side. */
    _Alignas(64) _Atomic uint64_t head;
    _Atomic uint64_t appended;
    _Atomic uint64_t dropped;
    uint64_t cached_tail;
    /* Consumer side. */
    _Alignas(64) _Atomic uint64_t tail;
    _Alignas(64) uint8_t *ring;
    uint64_t mask;
};

struct evlog {
    struct evlog_queue *queues;
    int nqueues;
    int fd;
    char *path;
    uint32_t flush_ms;
    pthread_t thread;
    _Atomic int stop;
    _Atomic uint64_t written, write_errors, bytes, flushes, durable;
};

static uint64_t round_pow2(uint64_t v)
{
    uint64_t p = 4096;
    while (p < v)
        p <<= 1;
    return p;
}

int evlog_append(struct evlog_queue *q, const struct sk_event *ev)
{
    uint8_t rec[EVLOG_FRAME_LEN + EVLOG_PAYLOAD_MAX];
    int n = evlog_record_encode(ev, rec, sizeof(rec));
    if (n < 0) {
        atomic_store_explicit(&q->dropped,
                              atomic_load_explicit(&q->dropped, memory_order_relaxed) + 1,
                              memory_order_relaxed);
        return n;
    }
    uint64_t head = atomic_load_explicit(&q->head, memory_order_relaxed);
    uint64_t cap = q->mask + 1;
    if (head + (uint64_t)n - q->cached_tail > cap) {
        q->cached_tail = atomic_load_explicit(&q->tail, memory_order_acquire);
        if (head + (uint64_t)n - q->cached_tail > cap) {
            atomic_store_explicit(&q->dropped,
                                  atomic_load_explicit(&q->dropped, memory_order_relaxed) + 1,
                                  memory_order_relaxed);
            return SK_EFULL;
        }
    }
    uint64_t off = head & q->mask;
    uint64_t first = cap - off < (uint64_t)n ? cap - off : (uint64_t)n;
    memcpy(q->ring + off, rec, first);
    if (first < (uint64_t)n)
        memcpy(q->ring, rec + first, (size_t)n - first);
    atomic_store_explicit(&q->head, head + (uint64_t)n, memory_order_release);
    atomic_store_explicit(&q->appended,
                          atomic_load_explicit(&q->appended, memory_order_relaxed) + 1,
                          memory_order_relaxed);
    return 0;
}

/* Count the records in ring bytes [tail, head): walk the length fields. */
static uint64_t count_records(const struct evlog_queue *q, uint64_t tail, uint64_t head)
{
    uint64_t n = 0;
    while (tail < head) {
        uint8_t b[4];
        for (int i = 0; i < 4; i++)
            b[i] = q->ring[(tail + (uint64_t)i) & q->mask];
        uint32_t len =
            (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
        tail += EVLOG_FRAME_LEN + len;
        n++;
    }
    return n;
}

/* Write everything queued; returns the number of bytes taken. */
static uint64_t drain(struct evlog *log)
{
    uint64_t total = 0;
    for (int i = 0; i < log->nqueues; i++) {
        struct evlog_queue *q = &log->queues[i];
        uint64_t tail = atomic_load_explicit(&q->tail, memory_order_relaxed);
        uint64_t head = atomic_load_explicit(&q->head, memory_order_acquire);
        if (head == tail)
            continue;
        uint64_t len = head - tail, cap = q->mask + 1, off = tail & q->mask;
        struct iovec iov[2];
        int niov = 1;
        iov[0].iov_base = q->ring + off;
        iov[0].iov_len = cap - off < len ? cap - off : len;
        if (iov[0].iov_len < len) {
            iov[1].iov_base = q->ring;
            iov[1].iov_len = len - iov[0].iov_len;
            niov = 2;
        }
        uint64_t recs = count_records(q, tail, head);
        size_t done = 0;
        while (done < len) {
            ssize_t w = writev(log->fd, iov, niov);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0) {
                /* The records are lost; count them, keep the daemon going. A
                 * partial record may be on disk: the reader skips it by CRC. */
                log_rl(SK_LOG_ERROR, "evlog", "write %s: %s", log->path,
                       w < 0 ? strerror(errno) : "short write");
                atomic_fetch_add(&log->write_errors, recs);
                recs = 0;
                break;
            }
            done += (size_t)w;
            size_t adv = (size_t)w;
            while (adv > 0 && niov > 0) {
                if (adv >= iov[0].iov_len) {
                    adv -= iov[0].iov_len;
                    iov[0] = iov[1];
                    niov--;
                } else {
                    iov[0].iov_base = (uint8_t *)iov[0].iov_base + adv;
                    iov[0].iov_len -= adv;
                    adv = 0;
                }
            }
            atomic_fetch_add(&log->bytes, (uint64_t)w);
        }
        atomic_fetch_add(&log->written, recs);
        atomic_store_explicit(&q->tail, head, memory_order_release);
        total += len;
    }
    return total;
}

static void flush(struct evlog *log)
{
    uint64_t w = atomic_load(&log->written);
    if (fdatasync(log->fd) == 0) {
        atomic_store(&log->durable, w);
        atomic_fetch_add(&log->flushes, 1);
    } else {
        log_rl(SK_LOG_ERROR, "evlog", "fdatasync %s: %s", log->path, strerror(errno));
    }
}

static void *writer_main(void *arg)
{
    struct evlog *log = arg;
    uint64_t last_flush = sk_clock_mono_us();
    uint64_t unflushed = 0;
    for (;;) {
        int stopping = atomic_load(&log->stop);
        uint64_t n = drain(log);
        unflushed += n;
        uint64_t now = sk_clock_mono_us();
        if (unflushed > 0 && now - last_flush >= (uint64_t)log->flush_ms * 1000u) {
            flush(log);
            unflushed = 0;
            last_flush = now;
        }
        if (stopping)
            break;
        if (n == 0) {
            struct timespec ts = { 0, 1000000 };
            nanosleep(&ts, NULL);
        }
    }
    drain(log);
    flush(log);
    return NULL;
}

static int mkdir_p(const char *path)
{
    char buf[4096];
    if (strlen(path) >= sizeof(buf))
        return -ENAMETOOLONG;
    strcpy(buf, path);
    for (char *p = buf + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(buf, 0750) != 0 && errno != EEXIST)
                return -errno;
            *p = '/';
        }
    }
    if (mkdir(buf, 0750) != 0 && errno != EEXIST)
        return -errno;
    return 0;
}

int evlog_open(const struct evlog_options *opt, struct evlog **out)
{
    *out = NULL;
    if (opt->nqueues < 1)
        return SK_EINVAL;
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/events", opt->data_dir);
    int rc = mkdir_p(dir);
    if (rc != 0) {
        log_error("evlog", "cannot create %s: %s", dir, sk_strerror(rc));
        return rc;
    }
    struct evlog *log = xcalloc(1, sizeof(*log));
    log->flush_ms = opt->flush_ms ? opt->flush_ms : 1000;
    /* The segment id is the start time; bump it if a file with that name
     * exists (two starts in one microsecond, or a clock set back). */
    uint64_t start = sk_clock_now_us(), seg = start;
    char path[4200];
    for (;;) {
        snprintf(path, sizeof(path), "%s/%016" PRIx64 ".evlog", dir, seg);
        log->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0640);
        if (log->fd >= 0)
            break;
        if (errno != EEXIST) {
            rc = -errno;
            log_error("evlog", "cannot create %s: %s", path, strerror(errno));
            free(log);
            return rc;
        }
        seg++;
    }
    log->path = xstrdup(path);
    struct evlog_file_header h = {
        .format = EVLOG_FORMAT, .schema = SK_EVENT_SCHEMA, .start_us = start, .segment = seg
    };
    snprintf(h.node, sizeof(h.node), "%s", opt->node);
    uint8_t hb[EVLOG_HEADER_MAX];
    int hl = evlog_header_encode(&h, hb, sizeof(hb));
    if (hl < 0 || write(log->fd, hb, (size_t)hl) != hl) {
        rc = hl < 0 ? hl : -errno;
        log_error("evlog", "cannot write header of %s", path);
        close(log->fd);
        free(log->path);
        free(log);
        return rc ? rc : SK_EINVAL;
    }
    log->nqueues = opt->nqueues;
    log->queues = xcalloc((size_t)opt->nqueues, sizeof(*log->queues));
    uint64_t cap = round_pow2(opt->queue_bytes ? opt->queue_bytes : (1u << 22));
    for (int i = 0; i < opt->nqueues; i++) {
        log->queues[i].ring = xmalloc(cap);
        log->queues[i].mask = cap - 1;
    }
    rc = pthread_create(&log->thread, NULL, writer_main, log);
    if (rc != 0) {
        log_error("evlog", "cannot start writer: %s", strerror(rc));
        for (int i = 0; i < opt->nqueues; i++)
            free(log->queues[i].ring);
        free(log->queues);
        close(log->fd);
        free(log->path);
        free(log);
        return -rc;
    }
    *out = log;
    return 0;
}

struct evlog_queue *evlog_queue(struct evlog *log, int i)
{
    return &log->queues[i];
}

void evlog_get_stats(struct evlog *log, struct evlog_stats *st)
{
    memset(st, 0, sizeof(*st));
    for (int i = 0; i < log->nqueues; i++) {
        st->appended += atomic_load_explicit(&log->queues[i].appended, memory_order_relaxed);
        st->dropped += atomic_load_explicit(&log->queues[i].dropped, memory_order_relaxed);
    }
    st->written = atomic_load(&log->written);
    st->write_errors = atomic_load(&log->write_errors);
    st->bytes = atomic_load(&log->bytes);
    st->flushes = atomic_load(&log->flushes);
    st->durable = atomic_load(&log->durable);
}

const char *evlog_path(const struct evlog *log)
{
    return log->path;
}

void evlog_close(struct evlog *log, struct evlog_stats *final)
{
    if (log == NULL)
        return;
    atomic_store(&log->stop, 1);
    pthread_join(log->thread, NULL);
    if (final)
        evlog_get_stats(log, final);
    close(log->fd);
    for (int i = 0; i < log->nqueues; i++)
        free(log->queues[i].ring);
    free(log->queues);
    free(log->path);
    free(log);
}
