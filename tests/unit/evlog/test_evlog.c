/* Unit tests for evlog: record framing and CRC, every field's round trip,
 * headers and schema checks, the frame scanner, the writer with its
 * counters and sequence numbers, the reader and its recovery from torn
 * and corrupt data, and the JSON form. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "core/crc32c.h"
#include "core/err.h"
#include "dns/name.h"
#include "evlog/evlog.h"
#include "evlog/json.h"
#include "evlog/reader.h"
#include "evlog/record.h"
#include "evtest.h"

static const char *dir;

/* Thread id of this process's thread named name, or -1. */
static long thread_tid(const char *name)
{
    long tid = -1;
    DIR *d = opendir("/proc/self/task");
    if (d == NULL)
        return -1;
    struct dirent *de;
    while (tid < 0 && (de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char path[512], comm[64] = "";
        snprintf(path, sizeof(path), "/proc/self/task/%s/comm", de->d_name);
        FILE *f = fopen(path, "r");
        if (f && fgets(comm, sizeof(comm), f))
            comm[strcspn(comm, "\n")] = '\0';
        if (f)
            fclose(f);
        if (strcmp(comm, name) == 0)
            tid = strtol(de->d_name, NULL, 10);
    }
    closedir(d);
    return tid;
}

/* How often a thread was switched out (woke up again, or was preempted)
 * and how much CPU time it used, from /proc; cpu_us -1 if it is gone. */
struct thread_use {
    long switches;
    long long cpu_us;
};

static void thread_use(long tid, struct thread_use *u)
{
    char path[128], line[256];
    u->switches = 0;
    u->cpu_us = -1;
    snprintf(path, sizeof(path), "/proc/self/task/%ld/status", tid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return;
    long v = 0, n = 0;
    while (fgets(line, sizeof(line), f)) {
        sscanf(line, "voluntary_ctxt_switches: %ld", &v);
        sscanf(line, "nonvoluntary_ctxt_switches: %ld", &n);
    }
    fclose(f);
    u->switches = v + n;
    /* schedstat: nanoseconds on the CPU first. */
    snprintf(path, sizeof(path), "/proc/self/task/%ld/schedstat", tid);
    f = fopen(path, "r");
    long long ns;
    if (f && fscanf(f, "%lld", &ns) == 1)
        u->cpu_us = ns / 1000;
    if (f)
        fclose(f);
}

static void test_record_roundtrip(void **state)
{
    (void)state;
    for (unsigned i = 0; i < 600; i++) {
        struct sk_event ev, back;
        evt_make(&ev, i);
        uint8_t buf[EVLOG_FRAME_LEN + EVLOG_PAYLOAD_MAX];
        int n = evlog_record_encode(&ev, buf, sizeof(buf));
        assert_true(n > EVLOG_FRAME_LEN);
        uint32_t plen = evlog_rd32(buf);
        assert_int_equal(plen + EVLOG_FRAME_LEN, n);
        /* The frame's CRC is CRC-32C of the payload. */
        assert_int_equal(evlog_rd32(buf + 4), crc32c(0, buf + EVLOG_FRAME_LEN, plen));
        memset(&back, 0xa5, sizeof(back));
        assert_int_equal(evlog_record_decode(buf + EVLOG_FRAME_LEN, plen, &back), 0);
        evt_assert_equal(&ev, &back);
        uint8_t kind;
        uint64_t ts;
        assert_int_equal(evlog_record_peek(buf + EVLOG_FRAME_LEN, plen, &kind, &ts), 0);
        assert_int_equal(kind, SK_EV_DNS);
        assert_int_equal(ts, ev.ts_us);
        /* Every truncation of the payload is rejected, never misread. */
        for (uint32_t cut = 0; cut < plen; cut += 3)
            assert_int_equal(evlog_record_decode(buf + EVLOG_FRAME_LEN, cut, &back), SK_ECORRUPT);
        /* So is a longer payload (trailing bytes). */
        assert_int_equal(evlog_record_decode(buf + EVLOG_FRAME_LEN, plen + 1, &back), SK_ECORRUPT);
        /* Too small an output buffer is reported. */
        assert_int_equal(evlog_record_encode(&ev, buf, 20), SK_ENOSPACE);
    }
}

static void test_record_rejects(void **state)
{
    (void)state;
    struct sk_event ev, back;
    evt_make(&ev, 4);
    uint8_t buf[EVLOG_FRAME_LEN + EVLOG_PAYLOAD_MAX];
    int n = evlog_record_encode(&ev, buf, sizeof(buf));
    uint8_t *p = buf + EVLOG_FRAME_LEN;
    size_t plen = (size_t)n - EVLOG_FRAME_LEN;
    /* Fields a decoder must refuse even under a good CRC: an unknown kind,
     * an address family other than 0, 4 or 6, an ECS prefix too long. */
    static const struct {
        size_t off;
        uint8_t val;
    } bad[] = { { 0, 9 }, { 0, 0 }, { 10, 5 } };
    for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
        uint8_t copy[EVLOG_PAYLOAD_MAX];
        memcpy(copy, p, plen);
        copy[bad[k].off] = bad[k].val;
        assert_int_equal(evlog_record_decode(copy, plen, &back), SK_ECORRUPT);
    }
    /* ECS source 33 for IPv4 (event 4 has a /24 ECS): the last bytes are
     * ecs_af, source, scope, 3 address bytes. */
    uint8_t copy[EVLOG_PAYLOAD_MAX];
    memcpy(copy, p, plen);
    copy[plen - 5] = 33;
    assert_int_equal(evlog_record_decode(copy, plen, &back), SK_ECORRUPT);
}

static void test_header(void **state)
{
    (void)state;
    struct evlog_file_header h = { .format = EVLOG_FORMAT,
                                   .schema = SK_EVENT_SCHEMA,
                                   .start_us = 42,
                                   .segment = 0x1234,
                                   .first_seq = 777 };
    strcpy(h.node, "sink-1");
    uint8_t buf[EVLOG_HEADER_MAX];
    int n = evlog_header_encode(&h, buf, sizeof(buf));
    assert_true(n > 0);
    struct evlog_file_header back;
    assert_int_equal(evlog_header_decode(buf, (size_t)n, &back), n);
    assert_string_equal(back.node, "sink-1");
    assert_int_equal(back.segment, 0x1234);
    assert_int_equal(back.first_seq, 777);
    assert_int_equal(back.format, 2);
    assert_int_equal(back.schema, SK_EVENT_SCHEMA);
    /* Every shorter prefix asks for more. */
    for (int cut = 0; cut < n; cut++)
        assert_true(evlog_header_decode(buf, (size_t)cut, &back) < 0);
    buf[10] ^= 1; /* corrupt the schema field: CRC catches it */
    assert_int_equal(evlog_header_decode(buf, (size_t)n, &back), SK_ECORRUPT);
    assert_int_equal(
        evlog_header_decode((const uint8_t *)"NOTALOG!xxxxxxxxxxxxxxxxxxxxxxxx", 32, &back),
        SK_ECORRUPT);

    /* Format 1 (no first_seq) is still read; format 3 is not. */
    uint8_t v1[64];
    size_t l = 0;
    memcpy(v1, EVLOG_MAGIC, 8);
    l = 8;
    evlog_wr16(v1 + l, 1);
    evlog_wr16(v1 + l + 2, 1);
    evlog_wr64(v1 + l + 4, 42);
    evlog_wr64(v1 + l + 12, 0x99);
    l += 20;
    v1[l++] = 2;
    v1[l++] = 'n';
    v1[l++] = '1';
    evlog_wr32(v1 + l, crc32c(0, v1, l));
    l += 4;
    assert_int_equal(evlog_header_decode(v1, l, &back), (int)l);
    assert_int_equal(back.format, 1);
    assert_int_equal(back.first_seq, 0);
    assert_int_equal(back.segment, 0x99);
    assert_string_equal(back.node, "n1");
    evlog_wr16(v1 + 8, 3);
    evlog_wr32(v1 + l - 4, crc32c(0, v1, l - 4));
    assert_int_equal(evlog_header_decode(v1, l, &back), SK_ECORRUPT);

    assert_false(evlog_schema_supported(0));
    assert_true(evlog_schema_supported(1));
    assert_true(evlog_schema_supported(SK_EVENT_SCHEMA));
    assert_false(evlog_schema_supported(SK_EVENT_SCHEMA + 1));
}

/* A file whose header names a schema from the future is refused with a
 * message that says so; one from format 1 is read. */
static void test_schema_check(void **state)
{
    (void)state;
    char path[512], err[512];
    snprintf(path, sizeof(path), "%s/future.evlog", dir);
    struct evlog_file_header h = { .schema = SK_EVENT_SCHEMA + 6, .segment = 5, .first_seq = 1 };
    strcpy(h.node, "n");
    uint8_t buf[EVLOG_HEADER_MAX + 2 * EVLOG_PAYLOAD_MAX];
    int n = evlog_header_encode(&h, buf, sizeof(buf));
    struct sk_event ev;
    evt_make(&ev, 1);
    n += evlog_record_encode(&ev, buf + n, sizeof(buf) - (size_t)n);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    struct evlog_reader *r;
    assert_int_equal(evlog_reader_open(path, &r, err, sizeof(err)), SK_EINVAL);
    assert_non_null(strstr(err, path));
    char want[64];
    snprintf(want, sizeof(want), "schema %u", SK_EVENT_SCHEMA + 6);
    assert_non_null(strstr(err, want));
}

static void test_frame_scan(void **state)
{
    (void)state;
    uint8_t buf[4 * (EVLOG_FRAME_LEN + EVLOG_PAYLOAD_MAX)];
    size_t len = 0, ends[3];
    for (int i = 0; i < 3; i++) {
        struct sk_event ev;
        evt_make(&ev, (unsigned)i + 1);
        len += (size_t)evlog_record_encode(&ev, buf + len, sizeof(buf) - len);
        ends[i] = len;
    }
    size_t adv;
    uint32_t plen;
    assert_int_equal(evlog_frame_scan(buf, len, 1, &adv, &plen), EVLOG_SCAN_RECORD);
    assert_int_equal(adv, ends[0]);
    assert_int_equal(plen, ends[0] - EVLOG_FRAME_LEN);
    assert_int_equal(evlog_frame_scan(buf, 0, 1, &adv, &plen), EVLOG_SCAN_END);
    assert_int_equal(evlog_frame_scan(buf, 0, 0, &adv, &plen), EVLOG_SCAN_MORE);
    /* A record not read in full: more, or torn at the end of the file. */
    assert_int_equal(evlog_frame_scan(buf, ends[0] - 1, 0, &adv, &plen), EVLOG_SCAN_MORE);
    assert_int_equal(evlog_frame_scan(buf, ends[0] - 1, 1, &adv, &plen), EVLOG_SCAN_BAD);
    assert_int_equal(adv, ends[0] - 1);
    /* A flipped bit in the first record: skipped up to the second. */
    buf[EVLOG_FRAME_LEN + 3] ^= 0x10;
    assert_int_equal(evlog_frame_scan(buf, len, 1, &adv, &plen), EVLOG_SCAN_BAD);
    assert_int_equal(adv, ends[0]);
    buf[EVLOG_FRAME_LEN + 3] ^= 0x10;
    /* Garbage in front: skipped up to the record. */
    uint8_t g[16 + sizeof(buf)];
    memset(g, 0xee, 16);
    memcpy(g + 16, buf, len);
    assert_int_equal(evlog_frame_scan(g, len + 16, 1, &adv, &plen), EVLOG_SCAN_BAD);
    assert_int_equal(adv, 16);
}

/* Write n events through the real writer with 3 producer queues. */
static char *write_log(const char *data_dir, unsigned n, struct evlog_stats *st)
{
    struct evlog_options opt = {
        .data_dir = data_dir, .node = "t1", .nqueues = 3, .queue_bytes = 1 << 20, .flush_ms = 10
    };
    struct evlog *log;
    assert_int_equal(evlog_open(&opt, &log), 0);
    static char path[512];
    snprintf(path, sizeof(path), "%s", evlog_path(log));
    for (unsigned i = 0; i < n; i++) {
        struct sk_event ev;
        evt_make(&ev, i);
        while (evlog_append(evlog_queue(log, (int)(i % 3)), &ev) == SK_EFULL)
            usleep(1000);
    }
    evlog_close(log, st);
    return path;
}

static void test_writer_reader(void **state)
{
    (void)state;
    char sub[256];
    snprintf(sub, sizeof(sub), "%s/wr", dir);
    struct evlog_stats st;
    char path[512];
    snprintf(path, sizeof(path), "%s", write_log(sub, 5000, &st));
    assert_int_equal(st.written, st.appended);
    assert_int_equal(st.seq, 5000);
    assert_int_equal(st.durable, 5000); /* a fresh data_dir numbers from 1 */
    assert_int_equal(st.write_errors, 0);
    assert_int_equal(st.segments, 1);
    assert_int_equal(st.compressed, 0); /* compress none: stays plain */

    struct evlog_reader *r;
    char err[256];
    assert_int_equal(evlog_reader_open(path, &r, err, sizeof(err)), 0);
    assert_string_equal(evlog_reader_header(r)->node, "t1");
    assert_int_equal(evlog_reader_header(r)->first_seq, 1);
    assert_false(evlog_reader_compressed(r));
    /* Records from the 3 queues interleave; each queue keeps its order. */
    unsigned seen = 0, next[3] = { 0, 1, 2 };
    struct sk_event ev, want;
    uint64_t recno;
    int rc;
    while ((rc = evlog_reader_next(r, &ev, &recno, err, sizeof(err))) == 1) {
        assert_int_equal(recno, seen);
        unsigned i = (unsigned)(ev.ts_us - EVT_BASE_US);
        unsigned q = i % 3;
        assert_int_equal(i, next[q]);
        next[q] += 3;
        evt_make(&want, i);
        evt_assert_equal(&ev, &want);
        seen++;
    }
    assert_int_equal(rc, 0);
    assert_int_equal(seen, 5000);
    assert_int_equal(st.appended, 5000);
    evlog_reader_close(r);

    /* A second run on the same data_dir numbers on, in a new segment. */
    struct evlog_stats st2;
    char *path2 = write_log(sub, 10, &st2);
    assert_string_not_equal(path2, path);
    assert_int_equal(st2.seq, 5010);
    assert_int_equal(st2.durable, 5010);
    assert_int_equal(evlog_reader_open(path2, &r, err, sizeof(err)), 0);
    assert_int_equal(evlog_reader_header(r)->first_seq, 5001);
    assert_true(evlog_reader_header(r)->segment > 0);
    evlog_reader_close(r);
}

static void test_reader_recovers(void **state)
{
    (void)state;
    char sub[256];
    snprintf(sub, sizeof(sub), "%s/rr", dir);
    struct evlog_stats st;
    char *path = write_log(sub, 100, &st);
    /* Corrupt one byte in the middle and cut the tail mid-record. */
    int fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    off_t size = lseek(fd, 0, SEEK_END);
    off_t mid = size / 2;
    uint8_t b;
    assert_int_equal(pread(fd, &b, 1, mid), 1);
    b ^= 0x55;
    assert_int_equal(pwrite(fd, &b, 1, mid), 1);
    assert_int_equal(ftruncate(fd, size - 5), 0);
    close(fd);

    struct evlog_reader *r;
    char err[256];
    assert_int_equal(evlog_reader_open(path, &r, err, sizeof(err)), 0);
    unsigned good = 0, damaged = 0;
    int rc;
    struct sk_event ev;
    uint64_t recno, last = 0;
    while ((rc = evlog_reader_next(r, &ev, &recno, err, sizeof(err))) != 0) {
        if (rc == 1) {
            good++;
            last = recno;
        } else {
            damaged++;
            assert_non_null(strstr(err, path));
            assert_non_null(strstr(err, "offset"));
        }
    }
    /* One record lost to the flipped byte, one to the torn tail; the
     * damaged one counts, so the records after it keep their numbers. */
    assert_int_equal(good, 98);
    assert_int_equal(damaged, 2);
    assert_int_equal(last, 98);
    evlog_reader_close(r);

    /* With a filter, the same damage is still reported. */
    assert_int_equal(evlog_reader_open(path, &r, err, sizeof(err)), 0);
    struct evlog_filter f = { .from_us = EVT_BASE_US + 50 };
    evlog_reader_set_filter(r, &f);
    good = damaged = 0;
    while ((rc = evlog_reader_next(r, &ev, &recno, err, sizeof(err))) != 0) {
        if (rc == 1) {
            assert_true(ev.ts_us >= EVT_BASE_US + 50);
            good++;
        } else {
            damaged++;
        }
    }
    assert_true(good >= 48 && good <= 50);
    assert_int_equal(damaged, 2);
    evlog_reader_close(r);

    /* A foreign file is refused with its name. */
    char foreign[512];
    snprintf(foreign, sizeof(foreign), "%s/foreign.evlog", dir);
    FILE *f2 = fopen(foreign, "w");
    fputs("this is not an event log at all, just text\n", f2);
    fclose(f2);
    assert_int_equal(evlog_reader_open(foreign, &r, err, sizeof(err)), SK_ECORRUPT);
    assert_non_null(strstr(err, foreign));
    /* An empty one too, and a folder. */
    f2 = fopen(foreign, "w");
    fclose(f2);
    assert_int_equal(evlog_reader_open(foreign, &r, err, sizeof(err)), SK_ECORRUPT);
    assert_true(evlog_reader_open(dir, &r, err, sizeof(err)) < 0);
}

/* Reading a file bigger than the reader's buffer, with damage right at a
 * buffer boundary, still finds every record. */
static void test_reader_large(void **state)
{
    (void)state;
    char sub[256];
    snprintf(sub, sizeof(sub), "%s/large", dir);
    struct evlog_stats st;
    char *path = write_log(sub, 40000, &st);
    assert_true(evt_file_size(path) > (2 << 20));
    int fd = open(path, O_RDWR);
    uint8_t junk[3000];
    memset(junk, 0x33, sizeof(junk));
    assert_int_equal(pwrite(fd, junk, sizeof(junk), (1 << 20) - 1000), sizeof(junk));
    close(fd);
    struct evlog_reader *r;
    char err[256];
    assert_int_equal(evlog_reader_open(path, &r, err, sizeof(err)), 0);
    unsigned good = 0, damaged = 0;
    int rc;
    struct sk_event ev;
    uint64_t recno;
    while ((rc = evlog_reader_next(r, &ev, &recno, err, sizeof(err))) != 0) {
        if (rc == 1)
            good++;
        else
            damaged++;
    }
    assert_int_equal(damaged, 1);
    assert_true(good > 40000 - 60 && good < 40000);
    evlog_reader_close(r);
}

static void test_queue_full_drops(void **state)
{
    (void)state;
    char sub[256];
    snprintf(sub, sizeof(sub), "%s/qf", dir);
    struct evlog_options opt = {
        .data_dir = sub, .node = "t2", .nqueues = 1, .queue_bytes = 4096, .flush_ms = 1000
    };
    struct evlog *log;
    assert_int_equal(evlog_open(&opt, &log), 0);
    /* The smallest ring (room for eight records of the largest size, some
     * thousands of small ones) overflows in a burst of 20,000. So
     * that the writer cannot keep up even when appending is slow (under
     * sanitizers), it shares this thread's CPU at the lowest priority
     * during the burst. */
    long wtid = thread_tid("sk-evlog");
    assert_true(wtid > 0);
    cpu_set_t was, one;
    assert_int_equal(sched_getaffinity(0, sizeof(was), &was), 0);
    CPU_ZERO(&one);
    CPU_SET(sched_getcpu(), &one);
    sched_setaffinity(0, sizeof(one), &one);
    sched_setaffinity((pid_t)wtid, sizeof(one), &one);
    struct sched_param sp = { 0 };
    sched_setscheduler((pid_t)wtid, SCHED_IDLE, &sp);
    unsigned dropped = 0, n = 20000;
    struct sk_event *evs = calloc(n, sizeof(*evs));
    assert_non_null(evs);
    for (unsigned i = 0; i < n; i++)
        evt_make(&evs[i], i);
    for (unsigned i = 0; i < n; i++)
        if (evlog_append(evlog_queue(log, 0), &evs[i]) == SK_EFULL)
            dropped++;
    sched_setscheduler((pid_t)wtid, SCHED_OTHER, &sp);
    sched_setaffinity((pid_t)wtid, sizeof(was), &was);
    sched_setaffinity(0, sizeof(was), &was);
    struct evlog_stats st;
    evlog_close(log, &st);
    free(evs);
    assert_true(dropped > 0);
    assert_int_equal(st.dropped, dropped);
    assert_int_equal(st.appended + st.dropped, n);
    assert_int_equal(st.written, st.appended);
    assert_int_equal(st.seq, st.written);
}

/* `[log] enabled = no`: no log, no queue; appending is a no-op. */
static void test_no_log(void **state)
{
    (void)state;
    assert_null(evlog_queue(NULL, 0));
    assert_null(evlog_queue(NULL, 7));
    struct sk_event ev;
    evt_make(&ev, 1);
    for (int i = 0; i < 3; i++)
        assert_int_equal(evlog_append(evlog_queue(NULL, 0), &ev), 0);
    struct evlog_stats st;
    memset(&st, 0xa5, sizeof(st));
    evlog_get_stats(NULL, &st);
    assert_int_equal(st.appended, 0);
    assert_int_equal(st.dropped, 0);
    assert_int_equal(st.seq, 0);
    char path[64] = "x";
    assert_string_equal(evlog_current_path(NULL, path, sizeof(path)), "");
    evlog_close(NULL, NULL);
}

/* Watch the writer for a second, with nothing to write: it must sleep,
 * waking every flush_ms / 2 (10 times with flush_ms 200). A writer that
 * polled every millisecond woke 800 times and more; one that spins uses
 * the whole second of CPU. */
static void watch_writer(struct thread_use *a, struct thread_use *b)
{
    long tid = thread_tid("sk-evlog");
    thread_use(tid, a);
    usleep(1000000);
    thread_use(tid, b);
}

static void assert_writer_slept(const struct thread_use *a, const struct thread_use *b)
{
    assert_true(a->cpu_us >= 0 && b->cpu_us >= 0); /* found it */
    assert_true(b->switches - a->switches <= 20);
    assert_true(b->cpu_us - a->cpu_us < 100000);
}

static void get_stats_until(struct evlog *log, uint64_t durable, struct evlog_stats *st)
{
    /* Bounded: 10 s at most, then the asserts below say what was seen. */
    for (int i = 0; i < 1000; i++) {
        evlog_get_stats(log, st);
        if (st->durable >= durable)
            return;
        usleep(10000);
    }
}

/* An idle writer sleeps (it used to wake every millisecond), and a lone
 * record appended to an idle log is still written and made durable within
 * flush_ms, without any other record or evlog_close() to push it. */
static void test_idle_writer(void **state)
{
    (void)state;
    char sub[256];
    snprintf(sub, sizeof(sub), "%s/idle", dir);
    struct evlog_options opt = {
        .data_dir = sub, .node = "t3", .nqueues = 2, .queue_bytes = 1 << 16, .flush_ms = 200
    };
    struct evlog *log;
    assert_int_equal(evlog_open(&opt, &log), 0);
    usleep(100000);
    struct thread_use a, b;
    watch_writer(&a, &b);
    assert_writer_slept(&a, &b);

    struct sk_event ev;
    evt_make(&ev, 0);
    assert_int_equal(evlog_append(evlog_queue(log, 1), &ev), 0);
    struct evlog_stats st;
    get_stats_until(log, 1, &st);
    assert_int_equal(st.written, 1);
    assert_int_equal(st.seq, 1);
    assert_int_equal(st.durable, 1);
    assert_int_equal(st.flushes, 1);
    /* Again, once the writer is idle again. */
    usleep(300000);
    evt_make(&ev, 1);
    assert_int_equal(evlog_append(evlog_queue(log, 0), &ev), 0);
    get_stats_until(log, 2, &st);
    assert_int_equal(st.written, 2);
    assert_int_equal(st.durable, 2);
    assert_int_equal(st.flushes, 2);
    evlog_close(log, &st);
    assert_int_equal(st.written, 2);
    assert_int_equal(st.durable, 2);
    assert_int_equal(st.flushes, 2); /* nothing was left to flush at the end */
    assert_int_equal(st.appended, 2);
    assert_int_equal(st.dropped, 0);
}

/* While writes fail (here: past RLIMIT_FSIZE, EFBIG) and nothing comes,
 * the writer sleeps as when idle instead of spinning on the retry time;
 * once writing works again the next records are written. */
static void test_failing_idle(void **state)
{
    (void)state;
    char sub[256];
    snprintf(sub, sizeof(sub), "%s/fail", dir);
    struct evlog_options opt = { .data_dir = sub,
                                 .node = "t4",
                                 .nqueues = 1,
                                 .queue_bytes = 1 << 16,
                                 .flush_ms = 200,
                                 .retry_ms = 50 };
    struct evlog *log;
    assert_int_equal(evlog_open(&opt, &log), 0);
    struct rlimit old, small;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    small = old;
    small.rlim_cur = 4096;
    signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
    struct evlog_stats st;
    unsigned i = 0;
    for (int k = 0; k < 500; k++) {
        struct sk_event ev;
        evt_make(&ev, i++);
        evlog_append(evlog_queue(log, 0), &ev);
        usleep(2000);
        evlog_get_stats(log, &st);
        if (st.failing)
            break;
    }
    assert_int_equal(st.failing, 1);
    assert_int_equal(st.last_error, EFBIG);
    usleep(100000);
    struct thread_use a, b;
    watch_writer(&a, &b);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    assert_writer_slept(&a, &b);

    evlog_get_stats(log, &st);
    uint64_t written = st.written;
    for (unsigned k = 0; k < 10; k++) {
        struct sk_event ev;
        evt_make(&ev, i++);
        assert_int_equal(evlog_append(evlog_queue(log, 0), &ev), 0);
    }
    get_stats_until(log, st.seq + 10, &st);
    assert_int_equal(st.written, written + 10);
    assert_int_equal(st.failing, 0);
    evlog_close(log, &st);
    assert_int_equal(st.appended, i);
    assert_int_equal(st.written + st.write_errors, i);
    assert_int_equal(st.seq, st.written);
    assert_int_equal(st.durable, st.written);
}

static void test_json(void **state)
{
    (void)state;
    struct sk_event ev;
    evt_make(&ev, 20);
    char out[4096];
    int n = evlog_event_json(&ev, "sink-1", 0xabc, 7, out, sizeof(out));
    assert_true(n > 0);
    assert_non_null(strstr(out, "\"event_type\":\"dns\""));
    assert_non_null(strstr(out, "\"event_id\":\"sink-1-0000000000000abc-7\""));
    assert_null(strstr(out, "\"seq\""));
    assert_non_null(strstr(out, "\"rrname\":\"Bot20.Mega-D.example\""));
    assert_non_null(strstr(out, "\"src_ip\":\"198.51.100.20\",\"src_port\":1044"));
    assert_non_null(strstr(out, "\"family\":\"megad\""));
    assert_non_null(strstr(out, "\"ecs\":\"203.0.113.0/24\""));
    assert_non_null(strstr(out, "\"timestamp\":\"2026-11-28T12:00:00.000020Z\""));
    n = evlog_event_json_seq(&ev, "sink-1", 0xabc, 7, 12345, out, sizeof(out));
    assert_true(n > 0);
    assert_non_null(strstr(out, "\"event_id\":\"sink-1-0000000000000abc-7\",\"seq\":12345,"));
    /* Hostile names are escaped, output stays one line of ASCII. */
    ev.u.dns.qname[1] = '"';
    ev.u.dns.qname[2] = 0x01;
    ev.u.dns.qname[3] = 0xff;
    n = evlog_event_json(&ev, "sink-1", 1, 1, out, sizeof(out));
    assert_true(n > 0);
    for (int i = 0; i < n; i++)
        assert_true(out[i] >= 0x20 && out[i] < 0x7f);
    assert_int_equal(evlog_event_json(&ev, "sink-1", 1, 1, out, 50), SK_ENOSPACE);
    const char *fl[5];
    assert_int_equal(evlog_dns_flag_names(SK_DNSF_AA | SK_DNSF_NOREPLY | SK_DNSF_EDNS, fl), 2);
    assert_string_equal(fl[0], "aa");
    assert_string_equal(fl[1], "noreply");
    assert_string_equal(evlog_kind_name(SK_EV_DNS), "dns");
    assert_string_equal(evlog_kind_name(200), "unknown");
}

int main(void)
{
    dir = evt_tmpdir("evlog");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_record_roundtrip), cmocka_unit_test(test_record_rejects),
        cmocka_unit_test(test_header),           cmocka_unit_test(test_schema_check),
        cmocka_unit_test(test_frame_scan),       cmocka_unit_test(test_writer_reader),
        cmocka_unit_test(test_reader_recovers),  cmocka_unit_test(test_reader_large),
        cmocka_unit_test(test_queue_full_drops), cmocka_unit_test(test_json),
        cmocka_unit_test(test_no_log),           cmocka_unit_test(test_idle_writer),
        cmocka_unit_test(test_failing_idle),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    evt_rmrf(dir);
    return rc;
}
