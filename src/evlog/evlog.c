/* evlog/evlog.c -- per-producer rings, the writer thread and the tap.
 *
 * Each queue is a single-producer single-consumer byte ring. The producer
 * encodes a whole framed record at head and then publishes the new head
 * (release), so [tail, head) always holds whole records; the writer takes
 * the whole range with one writev() (two iovecs when it wraps) and then
 * publishes the new tail. Producers never wait: a record that does not fit
 * is counted as dropped.
 *
 * The writer sleeps on a futex between batches, so it costs nothing on a
 * shared core when there is nothing to write: a short nap after a batch
 * (events gather into large writes; a producer wakes it early only if its
 * ring passes a quarter full), and once the rings stay empty, a long sleep
 * that the first record appended wakes (one system call for that
 * producer), or at the latest the next flush, rotation or retry deadline.
 * Idle, it wakes twice per flush_ms.
 *
 * A failed write leaves nothing half-written: the segment is cut back to
 * the size it had before the batch (ftruncate frees space, so it works on
 * a full disk), the batch is counted in write_errors, and the rings go on
 * draining into the void, counted, until a retry every retry_ms succeeds.
 * So the records of a segment are always whole and numbered without gaps,
 * and "durable" (the sequence number of the last record flushed) means
 * that every record numbered up to it is on disk. */
#include "evlog/evlog.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "evlog/closer.h"
#include "evlog/json.h"
#include "evlog/record.h"
#include "evlog/segment.h"

#define TAP_BUF        (256u << 10)
#define FAIL_LOG_EVERY 10000000u /* µs between reports while writes fail */
#define REC_MAX        (EVLOG_FRAME_LEN + EVLOG_PAYLOAD_MAX) /* largest framed record */
#define NAP_MIN_US     2000u                                 /* sleep after a batch */
#define NAP_MAX_US     8000u /* ... doubling while nothing comes, then idle */

/* What the writer is doing, for producers to know whether to wake it. */
enum { WR_AWAKE = 0, WR_NAP = 1, WR_IDLE = 2 };

struct evlog_queue {
    /* Producer side. */
    _Alignas(64) _Atomic uint64_t head;
    _Atomic uint64_t appended;
    _Atomic uint64_t dropped;
    uint64_t cached_tail;
    struct evlog *log;
    uint64_t wake_bytes; /* wake a napping writer once this much waits */
    /* Consumer side. */
    _Alignas(64) _Atomic uint64_t tail;
    _Alignas(64) uint8_t *ring;
    uint64_t mask;
};

struct evlog {
    struct evlog_queue *queues;
    int nqueues;
    char *dir, *node, *tap, *first_path;
    uint32_t flush_ms, retry_ms;
    uint64_t rotate_bytes, rotate_us;
    pthread_t thread;
    _Atomic int stop;
    /* WR_*: the writer sleeps on this futex word between batches (see
     * writer_main); producers read it after each append. Alone on its
     * cache line, written only when the writer sleeps or wakes. */
    _Alignas(64) _Atomic uint32_t state;
    _Alignas(64) uint64_t nap_min_us, nap_max_us, idle_us, flush_us;
    struct evlog_closer *closer;

    /* Writer thread only. */
    int fd;
    uint64_t seg_id, last_seg;
    uint64_t seg_bytes, seg_recs, seg_first_seq, seg_opened;
    uint64_t synced_bytes, synced_recs;
    uint64_t next_seq;
    int failing;  /* writes fail now */
    int reported; /* the diagnostic log says they fail, no recovery line yet */
    uint64_t retry_at;
    uint64_t said_at; /* when the last line about failing writes went out (0: never) */
    uint64_t lost;    /* events not written since that line */
    int tap_fd;
    char *tapbuf;
    size_t taplen;

    /* Published. */
    _Atomic uint64_t written, write_errors, bytes, flushes, durable, seq, segment;
    _Atomic uint64_t tap_lines, tap_errors, failing_now;
    _Atomic int last_error;
};

static uint64_t round_pow2(uint64_t v)
{
    uint64_t p = 4096;
    while (p < v)
        p <<= 1;
    return p;
}

/* A ring of cap bytes, touched now, so that the producer's first lap
 * around it takes no page faults on the hot path. Freed with free(). */
static uint8_t *ring_alloc(uint64_t cap)
{
    uint8_t *p = xmalloc(cap);
    memset(p, 0, cap);
    return p;
}

static long futex(_Atomic uint32_t *addr, int op, uint32_t val, const struct timespec *ts)
{
    return syscall(SYS_futex, (uint32_t *)addr, op, val, ts, NULL, 0);
}

static void wake_writer(struct evlog *log)
{
    if (atomic_exchange(&log->state, WR_AWAKE) != WR_AWAKE)
        futex(&log->state, FUTEX_WAKE_PRIVATE, 1, NULL);
}

/* Publish n bytes written at head and wake the writer if it must be. */
static inline void publish(struct evlog_queue *q, uint64_t head, uint64_t n)
{
    atomic_store_explicit(&q->head, head + n, memory_order_release);
    atomic_store_explicit(&q->appended,
                          atomic_load_explicit(&q->appended, memory_order_relaxed) + 1,
                          memory_order_relaxed);
    /* The flag is only written when the writer goes to sleep or wakes, so
     * this load is a cache hit on the fast path. An idle writer is woken
     * by the first record; a napping one only once the ring passes a
     * quarter full (it comes back by itself within a few ms). This load
     * may pass the store of head above (no fence, to keep the fast path
     * free of one): the writer that went to sleep just then finds the
     * record when its timeout ends, which is set so that the record is
     * still flushed in time (see writer_main). */
    uint32_t s = atomic_load_explicit(&q->log->state, memory_order_relaxed);
    if (s == WR_AWAKE)
        return;
    if (s == WR_NAP) {
        if (head + n - q->cached_tail <= q->wake_bytes)
            return;
        q->cached_tail = atomic_load_explicit(&q->tail, memory_order_acquire);
        if (head + n - q->cached_tail <= q->wake_bytes)
            return;
    }
    wake_writer(q->log);
}

static void count_dropped(struct evlog_queue *q)
{
    atomic_store_explicit(&q->dropped, atomic_load_explicit(&q->dropped, memory_order_relaxed) + 1,
                          memory_order_relaxed);
}

int evlog_append(struct evlog_queue *q, const struct sk_event *ev)
{
    if (q == NULL)
        return 0; /* no log */
    uint64_t head = atomic_load_explicit(&q->head, memory_order_relaxed);
    uint64_t cap = q->mask + 1, off = head & q->mask;
    /* Where the ring has room for the largest record in one piece (nearly
     * always), the record is encoded straight into it: no copy. */
    uint64_t room = cap - (head - q->cached_tail);
    if (room < REC_MAX) {
        q->cached_tail = atomic_load_explicit(&q->tail, memory_order_acquire);
        room = cap - (head - q->cached_tail);
    }
    if (room >= REC_MAX && cap - off >= REC_MAX) {
        int n = evlog_record_encode(ev, q->ring + off, REC_MAX);
        if (n < 0) {
            count_dropped(q);
            return n;
        }
        publish(q, head, (uint64_t)n);
        return 0;
    }
    /* Near the end of the ring, or nearly full: encode aside, then copy
     * (in two pieces if it wraps) if it fits. */
    uint8_t rec[REC_MAX];
    int n = evlog_record_encode(ev, rec, sizeof(rec));
    if (n < 0) {
        count_dropped(q);
        return n;
    }
    if ((uint64_t)n > room) {
        count_dropped(q);
        return SK_EFULL;
    }
    uint64_t first = cap - off < (uint64_t)n ? cap - off : (uint64_t)n;
    memcpy(q->ring + off, rec, first);
    if (first < (uint64_t)n)
        memcpy(q->ring, rec + first, (size_t)n - first);
    publish(q, head, (uint64_t)n);
    return 0;
}

/* ---- ring helpers ---- */

static uint32_t ring_len_at(const struct evlog_queue *q, uint64_t at)
{
    uint8_t b[4];
    for (int i = 0; i < 4; i++)
        b[i] = q->ring[(at + (uint64_t)i) & q->mask];
    return evlog_rd32(b);
}

/* Count the records in ring bytes [tail, head): walk the length fields. */
static uint64_t count_records(const struct evlog_queue *q, uint64_t tail, uint64_t head)
{
    uint64_t n = 0;
    while (tail < head) {
        tail += EVLOG_FRAME_LEN + ring_len_at(q, tail);
        n++;
    }
    return n;
}

/* ---- the tap ---- */

static void tap_write(struct evlog *log)
{
    size_t done = 0;
    while (done < log->taplen) {
        ssize_t w = write(log->tap_fd, log->tapbuf + done, log->taplen - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            /* Count the whole lines lost; the partial one is finished by
             * the newline of the next. */
            uint64_t lost = 0;
            for (size_t i = done; i < log->taplen; i++)
                lost += log->tapbuf[i] == '\n';
            atomic_fetch_add(&log->tap_errors, lost);
            atomic_fetch_sub(&log->tap_lines, lost);
            log_rl(SK_LOG_WARN, "evlog", "tap %s: %s", log->tap,
                   w < 0 ? strerror(errno) : "short write");
            break;
        }
        done += (size_t)w;
    }
    log->taplen = 0;
}

static void tap_open(struct evlog *log)
{
    if (log->tap == NULL)
        return;
    log->tap_fd = open(log->tap, O_WRONLY | O_APPEND | O_CREAT | O_NONBLOCK | O_CLOEXEC, 0640);
    if (log->tap_fd < 0)
        log_rl(SK_LOG_WARN, "evlog", "cannot open tap %s: %s", log->tap, strerror(errno));
}

/* Close the tap and move it beside the segment it mirrors: PATH.SEGMENT,
 * so `tail -F PATH` follows on to the next. */
static void tap_rotate(struct evlog *log, uint64_t segment)
{
    if (log->tap == NULL)
        return;
    if (log->tap_fd >= 0) {
        if (log->taplen)
            tap_write(log);
        close(log->tap_fd);
        log->tap_fd = -1;
    }
    char to[4200];
    snprintf(to, sizeof(to), "%s.%016" PRIx64, log->tap, segment);
    if (rename(log->tap, to) != 0 && errno != ENOENT)
        log_rl(SK_LOG_WARN, "evlog", "cannot rotate tap %s: %s", log->tap, strerror(errno));
}

/* Add the records of ring bytes [tail, head) to the tap, numbered from
 * recno in the open segment. */
static void tap_add(struct evlog *log, const struct evlog_queue *q, uint64_t tail, uint64_t head,
                    uint64_t recno)
{
    if (log->tap_fd < 0)
        return;
    uint8_t rec[EVLOG_FRAME_LEN + EVLOG_PAYLOAD_MAX];
    struct sk_event ev;
    while (tail < head) {
        uint32_t len = ring_len_at(q, tail);
        uint64_t off = (tail + EVLOG_FRAME_LEN) & q->mask;
        const uint8_t *p = q->ring + off;
        if (off + len > q->mask + 1) {
            /* The payload wraps around the end of the ring. */
            size_t first = (size_t)(q->mask + 1 - off);
            memcpy(rec, q->ring + off, first);
            memcpy(rec + first, q->ring, len - first);
            p = rec;
        }
        tail += EVLOG_FRAME_LEN + len;
        if (len > EVLOG_PAYLOAD_MAX || evlog_record_decode(p, len, &ev) != 0) {
            recno++;
            continue;
        }
        if (TAP_BUF - log->taplen < EVLOG_JSON_MAX + 1)
            tap_write(log);
        int n = evlog_event_json_seq(&ev, log->node, log->seg_id, recno, log->seg_first_seq + recno,
                                     log->tapbuf + log->taplen, TAP_BUF - log->taplen - 1);
        recno++;
        if (n <= 0) {
            atomic_fetch_add(&log->tap_errors, 1);
            continue;
        }
        log->taplen += (size_t)n;
        log->tapbuf[log->taplen++] = '\n';
        atomic_fetch_add_explicit(&log->tap_lines, 1, memory_order_relaxed);
    }
}

/* ---- segments ---- */

/* Failing writes are reported at most once per FAIL_LOG_EVERY, however
 * often they start and stop (on a disk that is nearly full, a small batch
 * may fit between two that do not): a line when they start, then one per
 * interval, saying whether they still fail and how many events were not
 * written since the last line. */
static int may_say(const struct evlog *log, uint64_t now)
{
    return log->said_at == 0 || now - log->said_at >= FAIL_LOG_EVERY;
}

static void set_failing(struct evlog *log, int e, const char *what)
{
    uint64_t now = sk_clock_mono_us();
    log->retry_at = now + (uint64_t)log->retry_ms * 1000u;
    atomic_store(&log->last_error, e);
    if (!log->failing) {
        log->failing = 1;
        atomic_store(&log->failing_now, 1);
    }
    if (!log->reported && may_say(log, now)) {
        log_error(
            "evlog",
            "%s: %s; events are counted as not written until writing works again (retry every %u ms)",
            what, strerror(e), log->retry_ms);
        log->reported = 1;
        log->said_at = now;
    }
}

static void say_recovered(struct evlog *log, uint64_t now)
{
    log_notice("evlog", "writing again; %" PRIu64 " events were not written meanwhile", log->lost);
    log->reported = 0;
    log->said_at = now;
    log->lost = 0;
}

static void clear_failing(struct evlog *log)
{
    if (!log->failing)
        return;
    log->failing = 0;
    atomic_store(&log->failing_now, 0);
    uint64_t now = sk_clock_mono_us();
    if (log->reported && may_say(log, now))
        say_recovered(log, now);
}

static void lose(struct evlog *log, uint64_t recs)
{
    atomic_fetch_add(&log->write_errors, recs);
    log->lost += recs;
}

static int open_segment(struct evlog *log)
{
    uint64_t now = sk_clock_now_us();
    uint64_t seg = now > log->last_seg ? now : log->last_seg + 1;
    char path[4200], name[EVLOG_SEG_NAME_MAX];
    int fd;
    for (;;) {
        evlog_segment_name(seg, name);
        snprintf(path, sizeof(path), "%s/%s", log->dir, name);
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0640);
        if (fd >= 0)
            break;
        if (errno != EEXIST) {
            int e = errno;
            set_failing(log, e, path);
            return -e;
        }
        seg++;
    }
    struct evlog_file_header h = {
        .format = EVLOG_FORMAT,
        .schema = SK_EVENT_SCHEMA,
        .start_us = now,
        .segment = seg,
        .first_seq = log->next_seq,
    };
    snprintf(h.node, sizeof(h.node), "%s", log->node);
    uint8_t hb[EVLOG_HEADER_MAX];
    int hl = evlog_header_encode(&h, hb, sizeof(hb));
    ssize_t w = hl > 0 ? write(fd, hb, (size_t)hl) : -1;
    if (w != hl) {
        int e = w < 0 ? errno : ENOSPC;
        close(fd);
        unlink(path);
        set_failing(log, e, path);
        return -e;
    }
    evlog_fsync_parent(path);
    log->fd = fd;
    log->last_seg = seg;
    log->seg_id = seg;
    log->seg_bytes = log->synced_bytes = (uint64_t)hl;
    log->seg_recs = log->synced_recs = 0;
    log->seg_first_seq = log->next_seq;
    log->seg_opened = sk_clock_mono_us();
    atomic_store(&log->segment, seg);
    if (log->first_path == NULL)
        log->first_path = xstrdup(path);
    tap_open(log);
    if (log->closer)
        evlog_closer_set_open_bytes(log->closer, log->seg_bytes);
    return 0;
}

/* Give the open segment up after an error that cutting it back could not
 * undo: the closer cuts it back to good_bytes later. */
static void give_up_segment(struct evlog *log, uint64_t good_bytes)
{
    close(log->fd);
    log->fd = -1;
    tap_rotate(log, log->seg_id);
    evlog_closer_push(log->closer, log->seg_id, good_bytes);
    atomic_store(&log->segment, 0);
}

/* Records written since the last good flush may not be on disk: cut them
 * off and count them as not written, so "durable" never covers a hole. */
static void give_up_unsynced(struct evlog *log, int e)
{
    uint64_t lost = log->seg_recs - log->synced_recs;
    if (ftruncate(log->fd, (off_t)log->synced_bytes) == 0) {
        /* Their numbers are free again. */
        log->next_seq -= lost;
    } else {
        /* They may stay in the file until the closer cuts them: never give
         * their numbers to other records. */
        give_up_segment(log, log->synced_bytes);
    }
    log->seg_recs = log->synced_recs;
    log->seg_bytes = log->synced_bytes;
    atomic_fetch_sub(&log->written, lost);
    lose(log, lost);
    atomic_store(&log->seq, log->next_seq - 1);
    set_failing(log, e, "fdatasync");
}

static void flush(struct evlog *log)
{
    if (log->fd < 0 || log->synced_bytes == log->seg_bytes)
        return;
    if (fdatasync(log->fd) == 0) {
        log->synced_bytes = log->seg_bytes;
        log->synced_recs = log->seg_recs;
        atomic_store(&log->durable, log->next_seq - 1);
        atomic_fetch_add(&log->flushes, 1);
    } else {
        give_up_unsynced(log, errno);
    }
}

static void close_segment(struct evlog *log)
{
    if (log->fd < 0)
        return;
    flush(log);
    if (log->fd < 0)
        return;
    close(log->fd);
    log->fd = -1;
    atomic_store(&log->segment, 0);
    if (log->seg_recs == 0) {
        /* Nothing was logged in it: leave no empty segment behind. */
        char path[4200], name[EVLOG_SEG_NAME_MAX];
        evlog_segment_name(log->seg_id, name);
        snprintf(path, sizeof(path), "%s/%s", log->dir, name);
        unlink(path);
        if (log->tap_fd >= 0) {
            close(log->tap_fd);
            log->tap_fd = -1;
            unlink(log->tap);
        }
        return;
    }
    tap_rotate(log, log->seg_id);
    evlog_closer_push(log->closer, log->seg_id, 0);
}

/* ---- the writer thread ---- */

/* May a batch be written now? Retries the open (or a new) segment once
 * retry_ms has passed after an error. */
static int can_write(struct evlog *log, uint64_t now)
{
    if (log->failing && now < log->retry_at)
        return 0;
    if (log->fd < 0 && open_segment(log) != 0)
        return 0;
    return 1;
}

/* Write what queue q holds; returns the bytes taken from it. */
static uint64_t drain_queue(struct evlog *log, struct evlog_queue *q, uint64_t now)
{
    uint64_t tail = atomic_load_explicit(&q->tail, memory_order_relaxed);
    uint64_t head = atomic_load_explicit(&q->head, memory_order_acquire);
    if (head == tail)
        return 0;
    uint64_t len = head - tail, cap = q->mask + 1, off = tail & q->mask;
    uint64_t recs = count_records(q, tail, head);
    if (!can_write(log, now)) {
        lose(log, recs);
        atomic_store_explicit(&q->tail, head, memory_order_release);
        return len;
    }
    struct iovec iov[2];
    int niov = 1;
    iov[0].iov_base = q->ring + off;
    iov[0].iov_len = cap - off < len ? cap - off : len;
    if (iov[0].iov_len < len) {
        iov[1].iov_base = q->ring;
        iov[1].iov_len = len - iov[0].iov_len;
        niov = 2;
    }
    size_t done = 0;
    int err = 0;
    while (done < len) {
        ssize_t w = writev(log->fd, iov, niov);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            err = w < 0 ? errno : ENOSPC;
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
    }
    if (err) {
        /* Cut the partial batch off: whole records or nothing. */
        if (done > 0 && ftruncate(log->fd, (off_t)log->seg_bytes) != 0) {
            /* Whole records of the batch may stay until the closer cuts
             * them: never give their numbers to other records. */
            give_up_segment(log, log->seg_bytes);
            log->next_seq += recs;
            atomic_store(&log->seq, log->next_seq - 1);
        }
        lose(log, recs);
        set_failing(log, err, "write");
    } else {
        clear_failing(log);
        /* The tap must never hold the store of record back: when the
         * writer is behind (more than half a ring waiting), the batch's
         * tap lines are skipped and counted. */
        if (log->tap_fd >= 0 && len > cap / 2)
            atomic_fetch_add(&log->tap_errors, recs);
        else
            tap_add(log, q, tail, head, log->seg_recs);
        log->seg_bytes += len;
        log->seg_recs += recs;
        log->next_seq += recs;
        atomic_fetch_add(&log->bytes, len);
        atomic_fetch_add(&log->written, recs);
        atomic_store(&log->seq, log->next_seq - 1);
    }
    atomic_store_explicit(&q->tail, head, memory_order_release);
    return len;
}

static uint64_t drain(struct evlog *log)
{
    uint64_t total = 0, now = sk_clock_mono_us();
    for (int i = 0; i < log->nqueues; i++)
        total += drain_queue(log, &log->queues[i], now);
    if (log->taplen)
        tap_write(log);
    if (total && log->fd >= 0)
        evlog_closer_set_open_bytes(log->closer, log->seg_bytes);
    return total;
}

static void report_failing(struct evlog *log, uint64_t now)
{
    if (!log->reported || !may_say(log, now))
        return;
    if (!log->failing) {
        say_recovered(log, now);
        return;
    }
    log_warn("evlog", "writes still failing (%s): %" PRIu64 " events not written in the last %u s",
             strerror(atomic_load(&log->last_error)), log->lost, FAIL_LOG_EVERY / 1000000u);
    log->said_at = now;
    log->lost = 0;
}

/* May the writer sleep in state how? Idle: only while every ring is
 * empty. Napping: while none is past its wake threshold (the records in
 * them wait for the end of the nap, to go out in one large write). */
static int may_sleep(struct evlog *log, uint32_t how)
{
    for (int i = 0; i < log->nqueues; i++) {
        struct evlog_queue *q = &log->queues[i];
        uint64_t waiting =
            atomic_load(&q->head) - atomic_load_explicit(&q->tail, memory_order_relaxed);
        if (how == WR_IDLE ? waiting > 0 : waiting > q->wake_bytes)
            return 0;
    }
    return !atomic_load(&log->stop);
}

/* Sleep up to us microseconds in state how, or until a producer or
 * evlog_close() wakes the writer. The state is published before the last
 * look at the rings, so a record appended meanwhile is either seen here
 * or finds the state set (and wakes us if it must); the futex wait
 * returns at once if a producer changed the state in between. */
static void writer_sleep(struct evlog *log, uint32_t how, uint64_t us)
{
    atomic_store(&log->state, how);
    if (may_sleep(log, how)) {
        struct timespec ts = { (time_t)(us / 1000000u), (long)(us % 1000000u) * 1000 };
        futex(&log->state, FUTEX_WAIT_PRIVATE, how, &ts);
    }
    atomic_store(&log->state, WR_AWAKE);
}

/* The writer drains every ring in one batch, then sleeps: nap_min_us
 * after a batch (so writes are large and the thread wakes at most a few
 * hundred times a second under load, not for every event), doubling while
 * no events come up to nap_max_us, then idle until a producer appends a
 * record (or idle_us has passed). Producers wake a napping writer only
 * when their ring passes a quarter full; stopping wakes it at once. Never
 * does it sleep past the next flush, rotation or retry deadline.
 *
 * flush_ms: every record a drain finds was appended after the previous
 * drain began (that one took everything published by then), so the
 * oldest record not yet synced is no older than the drain before the one
 * that wrote it, and it is synced at most flush_us (nine tenths of
 * flush_ms, leaving time for fdatasync itself) after that. A record that
 * missed the wake-up (see publish()) waits at most idle_us = flush_ms / 2
 * before it is found, which is within that. */
static void *writer_main(void *arg)
{
    struct evlog *log = arg;
    uint64_t prev_drain = sk_clock_mono_us();
    uint64_t flush_at = UINT64_MAX; /* when the oldest record not synced must be */
    uint64_t nap = log->nap_min_us;
    for (;;) {
        int stopping = atomic_load(&log->stop);
        uint64_t started = sk_clock_mono_us();
        uint64_t n = drain(log);
        if (log->fd < 0 || log->synced_bytes == log->seg_bytes)
            flush_at = UINT64_MAX;
        else if (flush_at == UINT64_MAX)
            flush_at = prev_drain + log->flush_us;
        prev_drain = started;
        uint64_t now = sk_clock_mono_us();
        if (now >= flush_at) {
            flush(log);
            flush_at = UINT64_MAX;
        }
        if (log->fd >= 0 && log->seg_recs > 0 &&
            ((log->rotate_bytes && log->seg_bytes >= log->rotate_bytes) ||
             (log->rotate_us && now - log->seg_opened >= log->rotate_us))) {
            close_segment(log); /* flushes it */
            flush_at = UINT64_MAX;
            open_segment(log);
        }
        if (log->fd < 0 && log->failing && now >= log->retry_at && !stopping)
            open_segment(log); /* bring a segment back before the next event */
        report_failing(log, now);
        if (stopping)
            break;

        uint32_t how = WR_NAP;
        uint64_t us;
        if (n) {
            nap = log->nap_min_us;
            us = nap;
        } else if (nap < log->nap_max_us) {
            nap *= 2;
            us = nap;
        } else {
            how = WR_IDLE;
            us = log->idle_us;
        }
        uint64_t until = flush_at;
        if (log->rotate_us && log->fd >= 0 && log->seg_recs > 0 &&
            log->seg_opened + log->rotate_us < until)
            until = log->seg_opened + log->rotate_us;
        /* With a segment open, a retry waits for the next record; without
         * one, a new segment is tried at retry_at. */
        if (log->failing && log->fd < 0 && log->retry_at < until)
            until = log->retry_at;
        if (log->reported && log->said_at + FAIL_LOG_EVERY < until)
            until = log->said_at + FAIL_LOG_EVERY;
        now = sk_clock_mono_us();
        if (until <= now)
            us = 0;
        else if (until - now < us)
            us = until - now;
        if (us > 0)
            writer_sleep(log, how, us);
    }
    /* The producers have stopped: take the last of it, one more try if
     * writing failed. */
    if (log->failing)
        log->retry_at = 0;
    drain(log);
    close_segment(log);
    if (log->failing)
        log_warn("evlog", "stopped while writes fail: %" PRIu64 " events were not written",
                 log->lost);
    else if (log->reported)
        say_recovered(log, sk_clock_mono_us());
    return NULL;
}

/* ---- open and close ---- */

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

static void free_log(struct evlog *log)
{
    if (log->queues)
        for (int i = 0; i < log->nqueues; i++)
            free(log->queues[i].ring);
    free(log->queues);
    free(log->dir);
    free(log->node);
    free(log->tap);
    free(log->tapbuf);
    free(log->first_path);
    free(log);
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
    struct evlog_recovery rec;
    rc = evlog_closer_recover(dir, &rec);
    if (rc != 0)
        return rc;

    struct evlog *log = xcalloc(1, sizeof(*log));
    log->dir = xstrdup(dir);
    log->node = xstrdup(opt->node ? opt->node : "");
    log->flush_ms = opt->flush_ms ? opt->flush_ms : 1000;
    log->retry_ms = opt->retry_ms ? opt->retry_ms : 1000;
    log->rotate_bytes = opt->rotate_bytes;
    log->rotate_us = (uint64_t)opt->rotate_s * 1000000u;
    log->fd = -1;
    log->tap_fd = -1;
    /* See writer_main: a record is synced within flush_us of the drain
     * before the one that found it, and no sleep is longer than idle_us,
     * so none waits longer than flush_ms for fdatasync. */
    uint64_t flush_us = (uint64_t)log->flush_ms * 1000u;
    log->flush_us = flush_us - flush_us / 10;
    log->idle_us = flush_us / 2;
    log->nap_max_us = log->idle_us < NAP_MAX_US ? log->idle_us : NAP_MAX_US;
    log->nap_min_us = log->nap_max_us < NAP_MIN_US ? log->nap_max_us : NAP_MIN_US;
    log->next_seq = rec.next_seq;
    log->last_seg = rec.last_segment;
    atomic_store(&log->seq, rec.next_seq - 1);
    atomic_store(&log->durable, rec.next_seq - 1);
    if (opt->tap) {
        log->tap = xstrdup(opt->tap);
        log->tapbuf = xmalloc(TAP_BUF);
        /* A tap left by the last run mirrors its last segment. */
        struct stat st;
        if (stat(log->tap, &st) == 0 && st.st_size > 0 && rec.last_segment)
            tap_rotate(log, rec.last_segment);
    }

    struct evlog_closer_options co = {
        .dir = dir,
        .compress = opt->compress,
        .level = opt->compress_level > 0 ? opt->compress_level : 1,
        .retain_s = opt->retain_s,
        .retain_bytes = opt->retain_bytes,
        .tap = opt->tap,
    };
    log->closer = evlog_closer_start(&co, &rec);
    evlog_recovery_free(&rec);

    if (open_segment(log) != 0) {
        int e = atomic_load(&log->last_error);
        if (e == EACCES || e == EPERM || e == EROFS || e == ENOENT || e == ENOTDIR) {
            evlog_closer_stop(log->closer, NULL);
            free_log(log);
            return -e;
        }
        /* No space (or an I/O error): start anyway and keep retrying. */
    }
    if (log->first_path == NULL)
        log->first_path = xstrdup(dir);

    log->nqueues = opt->nqueues;
    log->queues = xcalloc((size_t)opt->nqueues, sizeof(*log->queues));
    uint64_t want = opt->queue_bytes ? opt->queue_bytes : (1u << 22);
    /* Room for several records of the largest size, or none would fit. */
    uint64_t cap = round_pow2(want < 8 * REC_MAX ? 8 * REC_MAX : want);
    for (int i = 0; i < opt->nqueues; i++) {
        log->queues[i].ring = ring_alloc(cap);
        log->queues[i].mask = cap - 1;
        log->queues[i].log = log;
        log->queues[i].wake_bytes = cap / 4;
    }
    rc = pthread_create(&log->thread, NULL, writer_main, log);
    rc = rc ? -rc : 0;
    /* Named before evlog_open() returns, so that top -H, ps -L and
     * /proc/PID/task show which thread it is from the start. */
    if (rc == 0)
        pthread_setname_np(log->thread, "sk-evlog");
    if (rc != 0) {
        log_error("evlog", "cannot start writer: %s", strerror(-rc));
        close_segment(log);
        evlog_closer_stop(log->closer, NULL);
        if (log->fd >= 0)
            close(log->fd);
        if (log->tap_fd >= 0)
            close(log->tap_fd);
        free_log(log);
        return rc;
    }
    *out = log;
    return 0;
}

struct evlog_queue *evlog_queue(struct evlog *log, int i)
{
    return log ? &log->queues[i] : NULL;
}

void evlog_get_stats(struct evlog *log, struct evlog_stats *st)
{
    memset(st, 0, sizeof(*st));
    if (log == NULL)
        return; /* no log: all zero */
    for (int i = 0; i < log->nqueues; i++) {
        st->appended += atomic_load_explicit(&log->queues[i].appended, memory_order_relaxed);
        st->dropped += atomic_load_explicit(&log->queues[i].dropped, memory_order_relaxed);
    }
    st->written = atomic_load(&log->written);
    st->write_errors = atomic_load(&log->write_errors);
    st->bytes = atomic_load(&log->bytes);
    st->flushes = atomic_load(&log->flushes);
    st->seq = atomic_load(&log->seq);
    st->durable = atomic_load(&log->durable);
    st->segment = atomic_load(&log->segment);
    st->tap_lines = atomic_load(&log->tap_lines);
    st->tap_errors = atomic_load(&log->tap_errors);
    st->failing = atomic_load(&log->failing_now);
    st->last_error = atomic_load(&log->last_error);
    if (log->closer) {
        struct evlog_closer_stats cs;
        evlog_closer_get_stats(log->closer, &cs);
        st->segments = cs.closed;
        st->compressed = cs.compressed;
        st->compress_errors = cs.compress_errors;
        st->removed = cs.removed;
    }
}

const char *evlog_path(const struct evlog *log)
{
    return log->first_path;
}

const char *evlog_dir(const struct evlog *log)
{
    return log->dir;
}

char *evlog_current_path(struct evlog *log, char *buf, size_t len)
{
    uint64_t seg = log ? atomic_load(&log->segment) : 0;
    if (seg == 0) {
        if (len)
            buf[0] = '\0';
        return buf;
    }
    char name[EVLOG_SEG_NAME_MAX];
    evlog_segment_name(seg, name);
    snprintf(buf, len, "%s/%s", log->dir, name);
    return buf;
}

void evlog_close(struct evlog *log, struct evlog_stats *final)
{
    if (log == NULL)
        return;
    atomic_store(&log->stop, 1);
    /* Unconditionally: the writer may be about to sleep in any state. It
     * looks at stop after publishing its state, so either it sees stop or
     * this wake-up finds it asleep (or the futex word changed). */
    atomic_store(&log->state, WR_AWAKE);
    futex(&log->state, FUTEX_WAKE_PRIVATE, 1, NULL);
    pthread_join(log->thread, NULL);
    /* The closer finishes the last segment (compress, manifest) before it
     * stops, so a clean stop leaves every segment closed and listed. */
    struct evlog_closer_stats cs;
    evlog_closer_stop(log->closer, &cs);
    log->closer = NULL;
    if (final) {
        evlog_get_stats(log, final);
        final->segments = cs.closed;
        final->compressed = cs.compressed;
        final->compress_errors = cs.compress_errors;
        final->removed = cs.removed;
    }
    if (log->tap_fd >= 0)
        close(log->tap_fd);
    free_log(log);
}
