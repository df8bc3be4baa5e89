/* Unit tests for segments: rotation by size and time, compression and
 * reading compressed segments (with filters and damage), the manifest and
 * its SHA-256, crash recovery, retention, write errors and the tap; and
 * connection events (http, tls, raw) mixed with DNS ones, written through
 * the real writer, read back from both forms and exported in every
 * format. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/err.h"
#include "evlog/evlog.h"
#include "evlog/export.h"
#include "evlog/manifest.h"
#include "evlog/reader.h"
#include "evlog/record.h"
#include "evlog/segment.h"
#include "evtest.h"

static const char *root;

static void sub(char *out, size_t len, const char *name)
{
    snprintf(out, len, "%s/%s", root, name);
}

static struct evlog *open_log(const char *data_dir, uint64_t rotate_bytes, uint32_t rotate_s,
                              enum evlog_compress c, const char *tap)
{
    struct evlog_options opt = { .data_dir = data_dir,
                                 .node = "seg-node",
                                 .nqueues = 2,
                                 .queue_bytes = 1 << 20,
                                 .flush_ms = 20,
                                 .rotate_bytes = rotate_bytes,
                                 .rotate_s = rotate_s,
                                 .compress = c,
                                 .tap = tap,
                                 .retry_ms = 50 };
    struct evlog *log;
    assert_int_equal(evlog_open(&opt, &log), 0);
    return log;
}

static void append(struct evlog *log, unsigned first, unsigned n)
{
    for (unsigned i = first; i < first + n; i++) {
        struct sk_event ev;
        evt_make(&ev, i);
        while (evlog_append(evlog_queue(log, (int)(i % 2)), &ev) == SK_EFULL)
            usleep(1000);
    }
}

/* Read a folder back; checks every event against evt_make() and that
 * sequence numbers are 1..n without a gap or a repeat. Returns n. */
static unsigned read_back(const char *path, const struct evlog_filter *f, unsigned *problems,
                          int check_seq)
{
    const char *paths[] = { path };
    struct evlog_scan *s;
    char err[512];
    assert_int_equal(evlog_scan_open(paths, 1, f, &s, err, sizeof(err)), 0);
    unsigned n = 0, bad = 0;
    uint64_t last_seq = 0;
    struct sk_event ev, want;
    struct evlog_ref ref;
    int rc;
    while ((rc = evlog_scan_next(s, &ev, &ref, err, sizeof(err))) != 0) {
        if (rc < 0) {
            bad++;
            continue;
        }
        evt_make(&want, (unsigned)(ev.ts_us - EVT_BASE_US));
        evt_assert_equal(&ev, &want);
        assert_string_equal(ref.hdr->node, "seg-node");
        assert_int_equal(ref.seq, ref.hdr->first_seq + ref.recno);
        if (check_seq) {
            assert_int_equal(ref.seq, last_seq + 1);
            last_seq = ref.seq;
        }
        n++;
    }
    evlog_scan_close(s);
    if (problems)
        *problems = bad;
    return n;
}

static unsigned count_files(const char *dir, const char *suffix)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    unsigned n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t l = strlen(de->d_name), sl = strlen(suffix);
        if (l > sl && strcmp(de->d_name + l - sl, suffix) == 0)
            n++;
    }
    closedir(d);
    return n;
}

static void file_sha256(const char *path, char out[65])
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
    uint8_t buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
        EVP_DigestUpdate(ctx, buf, n);
    fclose(f);
    uint8_t md[32];
    unsigned ml;
    EVP_DigestFinal_ex(ctx, md, &ml);
    EVP_MD_CTX_free(ctx);
    for (int i = 0; i < 32; i++)
        sprintf(out + 2 * i, "%02x", md[i]);
}

/* Every closed segment is in the manifest once, with the right SHA-256,
 * record count and time range. Returns the number listed. */
static unsigned check_manifest(const char *evdir)
{
    char path[600];
    snprintf(path, sizeof(path), "%s/%s", evdir, EVLOG_MANIFEST);
    struct evlog_manifest m;
    size_t bad;
    assert_int_equal(evlog_manifest_load(path, &m, &bad), 0);
    assert_int_equal(bad, 0);
    unsigned listed = 0;
    for (size_t i = 0; i < m.n; i++) {
        const struct evlog_manifest_entry *e = &m.e[i];
        if (e->removed)
            continue;
        char name[EVLOG_SEG_NAME_MAX], seg[700], sha[65];
        evlog_segment_name(e->segment, name);
        snprintf(seg, sizeof(seg), "%s/%s", evdir, name);
        file_sha256(seg, sha);
        assert_string_equal(sha, e->sha256);
        assert_int_equal(evt_file_size(seg), (off_t)e->bytes);
        struct evlog_segment_info info;
        char err[512];
        assert_int_equal(evlog_segment_stat(seg, &info, err, sizeof(err)), 0);
        assert_int_equal(info.records, e->records);
        assert_int_equal(info.hdr.first_seq, e->first_seq);
        assert_int_equal(info.min_ts, e->first_ts);
        assert_int_equal(info.max_ts, e->last_ts);
        assert_int_equal(info.form, e->form);
        listed++;
    }
    evlog_manifest_free(&m);
    return listed;
}

static void test_rotation_compression(void **state)
{
    (void)state;
    char data[512], evdir[600];
    sub(data, sizeof(data), "rot");
    snprintf(evdir, sizeof(evdir), "%s/events", data);
    /* ~90 bytes a record: 20,000 records in segments of 256 KiB. */
    struct evlog *log = open_log(data, 256 << 10, 0, EVLOG_COMPRESS_ZSTD, NULL);
    for (unsigned k = 0; k < 20; k++) {
        append(log, k * 1000, 1000);
        usleep(20000); /* let the writer drain, so rotation points vary */
    }
    struct evlog_stats st;
    evlog_close(log, &st);
    assert_int_equal(st.written, 20000);
    assert_int_equal(st.seq, 20000);
    assert_int_equal(st.durable, 20000);
    assert_true(st.segments >= 5);
    assert_int_equal(st.compressed, st.segments);
    assert_int_equal(st.compress_errors, 0);
    assert_int_equal(count_files(evdir, ".evlog"), st.segments);
    assert_int_equal(count_files(evdir, ".ztmp"), 0);
    assert_int_equal(check_manifest(evdir), st.segments);

    /* Every segment is compressed now, and far smaller than written. */
    DIR *d = opendir(evdir);
    struct dirent *de;
    uint64_t total = 0;
    while ((de = readdir(d)) != NULL) {
        uint64_t id;
        if (evlog_segment_parse_name(de->d_name, &id) != 0)
            continue;
        char p[1024];
        snprintf(p, sizeof(p), "%s/%s", evdir, de->d_name);
        struct evlog_reader *r;
        char err[512];
        assert_int_equal(evlog_reader_open(p, &r, err, sizeof(err)), 0);
        assert_true(evlog_reader_compressed(r));
        assert_int_equal(evlog_reader_header(r)->segment, id);
        evlog_reader_close(r);
        total += (uint64_t)evt_file_size(p);
    }
    closedir(d);
    assert_true(total * 2 < st.bytes);

    /* All back, in order of sequence number, each field intact. */
    unsigned problems;
    assert_int_equal(read_back(evdir, NULL, &problems, 1), 20000);
    assert_int_equal(problems, 0);
    /* The data_dir stands for its events folder. */
    assert_int_equal(read_back(data, NULL, &problems, 1), 20000);

    /* Filters: a time range (half open), one kind, no kind. */
    struct evlog_filter f = { .from_us = EVT_BASE_US + 5000, .to_us = EVT_BASE_US + 7500 };
    assert_int_equal(read_back(evdir, &f, &problems, 0), 2500);
    f = (struct evlog_filter){ .kinds = 1u << SK_EV_DNS };
    assert_int_equal(read_back(evdir, &f, &problems, 0), 20000);
    f = (struct evlog_filter){ .kinds = 1u << SK_EV_TLS };
    assert_int_equal(read_back(evdir, &f, &problems, 0), 0);
    f = (struct evlog_filter){ .from_us = EVT_BASE_US + 30000 };
    assert_int_equal(read_back(evdir, &f, &problems, 0), 0);
    assert_int_equal(problems, 0);
}

static void test_rotation_time(void **state)
{
    (void)state;
    char data[512], evdir[600];
    sub(data, sizeof(data), "rott");
    snprintf(evdir, sizeof(evdir), "%s/events", data);
    struct evlog *log = open_log(data, 0, 1, EVLOG_COMPRESS_NONE, NULL);
    for (unsigned k = 0; k < 5; k++) {
        append(log, k * 100, 100);
        usleep(600000);
    }
    struct evlog_stats st;
    evlog_close(log, &st);
    /* 3 s of events in segments of 1 s. */
    assert_true(st.segments >= 2 && st.segments <= 4);
    assert_int_equal(st.compressed, 0);
    assert_int_equal(check_manifest(evdir), st.segments);
    assert_int_equal(read_back(evdir, NULL, NULL, 1), 500);
}

/* Damage inside a compressed segment costs that block, no more. */
static void test_compressed_damage(void **state)
{
    (void)state;
    char data[512], evdir[600];
    sub(data, sizeof(data), "zdmg");
    snprintf(evdir, sizeof(evdir), "%s/events", data);
    struct evlog *log = open_log(data, 0, 0, EVLOG_COMPRESS_ZSTD, NULL);
    append(log, 0, 30000); /* 4 blocks of 8192 records at most */
    struct evlog_stats st;
    evlog_close(log, &st);
    assert_int_equal(st.segments, 1);
    char seg[1024] = "";
    DIR *d = opendir(evdir);
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        if (strstr(de->d_name, ".evlog"))
            snprintf(seg, sizeof(seg), "%s/%s", evdir, de->d_name);
    closedir(d);
    off_t size = evt_file_size(seg);
    /* Flip a byte in the middle of the file: inside a block's zstd frame. */
    int fd = open(seg, O_RDWR);
    uint8_t b;
    assert_int_equal(pread(fd, &b, 1, size / 2), 1);
    b ^= 0xff;
    assert_int_equal(pwrite(fd, &b, 1, size / 2), 1);
    close(fd);
    unsigned problems;
    unsigned n = read_back(seg, NULL, &problems, 0);
    assert_int_equal(problems, 1);
    assert_true(n >= 30000 - 8192 && n < 30000);
    /* The record numbers after the damaged block are still right. */
    struct evlog_reader *r;
    char err[512];
    assert_int_equal(evlog_reader_open(seg, &r, err, sizeof(err)), 0);
    struct sk_event ev;
    uint64_t recno, prev = 0;
    int rc, first = 1;
    unsigned gaps = 0;
    while ((rc = evlog_reader_next(r, &ev, &recno, err, sizeof(err))) != 0) {
        if (rc < 0) {
            assert_non_null(strstr(err, "offset"));
            assert_non_null(strstr(err, seg));
            continue;
        }
        if (!first && recno != prev + 1)
            gaps++;
        prev = recno;
        first = 0;
    }
    assert_int_equal(gaps, 1);
    assert_int_equal(prev, 29999);
    evlog_reader_close(r);

    /* Undo that; damage the third block's descriptor instead: the reader
     * finds the fourth, whose first record number re-anchors the count. */
    fd = open(seg, O_RDWR);
    b ^= 0xff;
    assert_int_equal(pwrite(fd, &b, 1, size / 2), 1);
    uint8_t hdr[8];
    assert_int_equal(pread(fd, hdr, 8, 0), 8);
    off_t pos = 8 + evlog_rd32(hdr + 4);
    for (int k = 0; k < 2; k++) {
        uint8_t db[EVLOG_ZDESC_LEN];
        struct evlog_zdesc zd;
        assert_int_equal(pread(fd, db, sizeof(db), pos), sizeof(db));
        assert_int_equal(evlog_zdesc_decode(db, sizeof(db), &zd), 0);
        pos += EVLOG_ZDESC_LEN + zd.zlen;
    }
    uint8_t x = 0x42;
    assert_int_equal(pwrite(fd, &x, 1, pos + 20), 1);
    close(fd);
    n = read_back(seg, NULL, &problems, 0);
    assert_int_equal(problems, 1);
    assert_int_equal(n, 30000 - 8192);
    struct evlog_segment_info info;
    assert_int_equal(evlog_segment_stat(seg, &info, err, sizeof(err)), 0);
    assert_int_equal(info.records, 30000);
    assert_int_equal(info.damaged, 1);
}

/* Damage in a plain segment is carried into the compressed form as
 * evidence, counted as one record, so numbering agrees in both forms. */
static void test_compress_keeps_damage(void **state)
{
    (void)state;
    char data[512], evdir[600];
    sub(data, sizeof(data), "pdmg");
    snprintf(evdir, sizeof(evdir), "%s/events", data);
    struct evlog *log = open_log(data, 0, 0, EVLOG_COMPRESS_NONE, NULL);
    append(log, 0, 1000);
    struct evlog_stats st;
    evlog_close(log, &st);
    char seg[1024] = "";
    DIR *d = opendir(evdir);
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        if (strstr(de->d_name, ".evlog"))
            snprintf(seg, sizeof(seg), "%s/%s", evdir, de->d_name);
    closedir(d);
    int fd = open(seg, O_RDWR);
    uint8_t junk[40];
    memset(junk, 0x77, sizeof(junk));
    assert_int_equal(pwrite(fd, junk, sizeof(junk), evt_file_size(seg) / 3), sizeof(junk));
    close(fd);
    unsigned p1, p2;
    unsigned n1 = read_back(seg, NULL, &p1, 0);
    uint64_t recnos1[1000], recnos2[1000];
    struct evlog_reader *r;
    char err[512];
    struct sk_event ev;
    uint64_t recno;
    int rc;
    unsigned k = 0;
    assert_int_equal(evlog_reader_open(seg, &r, err, sizeof(err)), 0);
    while ((rc = evlog_reader_next(r, &ev, &recno, err, sizeof(err))) != 0)
        if (rc == 1)
            recnos1[k++] = recno;
    evlog_reader_close(r);
    struct evlog_segment_info info;
    assert_int_equal(evlog_segment_compress(seg, 3, &info, err, sizeof(err)), 0);
    assert_int_equal(info.form, EVLOG_FORM_ZSTD);
    assert_int_equal(info.damaged, 1);
    unsigned n2 = read_back(seg, NULL, &p2, 0);
    assert_int_equal(n1, n2);
    assert_int_equal(p1, 1);
    assert_int_equal(p2, 1);
    k = 0;
    assert_int_equal(evlog_reader_open(seg, &r, err, sizeof(err)), 0);
    assert_true(evlog_reader_compressed(r));
    while ((rc = evlog_reader_next(r, &ev, &recno, err, sizeof(err))) != 0) {
        if (rc == 1)
            recnos2[k++] = recno;
        else
            assert_non_null(strstr(err, "damaged bytes kept"));
    }
    evlog_reader_close(r);
    assert_memory_equal(recnos1, recnos2, n1 * sizeof(uint64_t));
    /* Compressing a compressed segment is refused. */
    assert_int_equal(evlog_segment_compress(seg, 3, &info, err, sizeof(err)), SK_EINVAL);
}

/* A crash leaves the open segment with a torn tail, unlisted and plain:
 * the next open cuts the tail, lists and compresses it, and numbering
 * goes on after the last good record. */
static void test_recovery(void **state)
{
    (void)state;
    char data[512], evdir[600], path[1100];
    sub(data, sizeof(data), "crash");
    snprintf(evdir, sizeof(evdir), "%s/events", data);
    struct evlog *log = open_log(data, 0, 0, EVLOG_COMPRESS_NONE, NULL);
    append(log, 0, 700);
    struct evlog_stats st;
    evlog_close(log, &st);
    /* What a crash looks like: no manifest line, a torn last record, an
     * unfinished compression, a segment created but never written. */
    snprintf(path, sizeof(path), "%s/%s", evdir, EVLOG_MANIFEST);
    assert_int_equal(unlink(path), 0);
    char seg[1024] = "";
    DIR *d = opendir(evdir);
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        if (strstr(de->d_name, ".evlog"))
            snprintf(seg, sizeof(seg), "%s/%s", evdir, de->d_name);
    closedir(d);
    off_t size = evt_file_size(seg);
    FILE *f = fopen(seg, "ab");
    fwrite("\x50\x00\x00\x00\x12\x34", 1, 6, f); /* a frame cut short */
    fclose(f);
    snprintf(path, sizeof(path), "%s.ztmp", seg);
    f = fopen(path, "w");
    fputs("half a compressed file", f);
    fclose(f);
    snprintf(path, sizeof(path), "%s/ffffffffffff0000.evlog", evdir);
    f = fopen(path, "w");
    fwrite("SKEVLO", 1, 6, f);
    fclose(f);

    log = open_log(data, 0, 0, EVLOG_COMPRESS_ZSTD, NULL);
    evlog_get_stats(log, &st);
    assert_int_equal(st.seq, 700);
    assert_int_equal(st.durable, 700);
    append(log, 700, 300);
    evlog_close(log, &st);
    assert_int_equal(st.seq, 1000);
    assert_int_equal(st.durable, 1000);
    /* The torn bytes are gone; so are the temp and the empty segment; the
     * new segment's id is above the one that was there. */
    assert_int_equal(evt_file_size(path), -1);
    snprintf(path, sizeof(path), "%s.ztmp", seg);
    assert_int_equal(evt_file_size(path), -1);
    assert_int_equal(count_files(evdir, ".evlog"), 2);
    assert_int_equal(check_manifest(evdir), 2);
    unsigned problems;
    assert_int_equal(read_back(evdir, NULL, &problems, 1), 1000);
    assert_int_equal(problems, 0);
    (void)size;

    /* A crash after a compressed segment was renamed into place but before
     * its manifest line: it is listed at the next start, numbering goes on
     * after it. */
    snprintf(path, sizeof(path), "%s/%s", evdir, EVLOG_MANIFEST);
    assert_int_equal(unlink(path), 0);
    log = open_log(data, 0, 0, EVLOG_COMPRESS_ZSTD, NULL);
    append(log, 1000, 10);
    evlog_close(log, &st);
    assert_int_equal(st.seq, 1010);
    assert_int_equal(st.segments, 3);
    assert_int_equal(check_manifest(evdir), 3);
    assert_int_equal(read_back(evdir, NULL, &problems, 1), 1010);
}

static void test_retention(void **state)
{
    (void)state;
    char data[512], evdir[600], path[1024];
    sub(data, sizeof(data), "ret");
    snprintf(evdir, sizeof(evdir), "%s/events", data);
    /* By size: segments of 64 KiB plain, far less compressed; keep 128 KiB,
     * the open segment counted. */
    struct evlog_options opt = { .data_dir = data,
                                 .node = "seg-node",
                                 .nqueues = 2,
                                 .queue_bytes = 1 << 20,
                                 .flush_ms = 20,
                                 .rotate_bytes = 64 << 10,
                                 .compress = EVLOG_COMPRESS_ZSTD,
                                 .retain_bytes = 128 << 10 };
    struct evlog *log;
    assert_int_equal(evlog_open(&opt, &log), 0);
    for (unsigned k = 0; k < 10; k++) {
        append(log, k * 1000, 1000);
        usleep(30000);
    }
    struct evlog_stats st;
    evlog_close(log, &st);
    assert_true(st.removed > 0);
    assert_int_equal(count_files(evdir, ".evlog"), st.segments - st.removed);
    snprintf(path, sizeof(path), "%s/%s", evdir, EVLOG_MANIFEST);
    FILE *f = fopen(path, "r");
    char line[1024];
    unsigned removed_lines = 0;
    while (fgets(line, sizeof(line), f))
        if (strncmp(line, "removed ", 8) == 0 && strstr(line, "reason=size"))
            removed_lines++;
    fclose(f);
    assert_int_equal(removed_lines, st.removed);
    /* What is left is the newest, within the limit. */
    unsigned n = read_back(evdir, NULL, NULL, 0);
    assert_true(n > 0 && n < 10000);
    DIR *d = opendir(evdir);
    struct dirent *de;
    off_t total = 0;
    while ((de = readdir(d)) != NULL) {
        if (!strstr(de->d_name, ".evlog"))
            continue;
        snprintf(path, sizeof(path), "%s/%s", evdir, de->d_name);
        total += evt_file_size(path);
    }
    closedir(d);
    assert_true(total <= 128 << 10);
    struct evlog_filter newest = { .from_us = EVT_BASE_US + 9000 };
    assert_int_equal(read_back(evdir, &newest, NULL, 0), 1000);

    /* By age: the test events are from 2026-11-28T12:00Z; with the clock
     * a day later, all closed segments are too old. */
    assert_int_equal(sk_clock_set((int64_t)EVT_BASE_US + 86400000000ll, 0, 1.0), 0);
    char data2[512], evdir2[600];
    sub(data2, sizeof(data2), "ret2");
    snprintf(evdir2, sizeof(evdir2), "%s/events", data2);
    opt.data_dir = data2;
    opt.retain_bytes = 0;
    opt.retain_s = 60;
    opt.rotate_bytes = 0;
    assert_int_equal(evlog_open(&opt, &log), 0);
    append(log, 0, 100);
    evlog_close(log, &st);
    assert_int_equal(st.removed, 1);
    assert_int_equal(count_files(evdir2, ".evlog"), 0);
    assert_int_equal(sk_clock_set(0, 0, 1.0), 0);
}

/* Writes that fail (here: a file size limit, as a full disk would) are
 * counted, the numbering has no gap, and writing resumes by itself. */
static void test_write_errors(void **state)
{
    (void)state;
    char data[512], evdir[600];
    sub(data, sizeof(data), "full");
    snprintf(evdir, sizeof(evdir), "%s/events", data);
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit old;
    getrlimit(RLIMIT_FSIZE, &old);
    struct evlog *log = open_log(data, 0, 0, EVLOG_COMPRESS_NONE, NULL);
    append(log, 0, 500);
    struct evlog_stats st;
    for (int i = 0; i < 200; i++) {
        evlog_get_stats(log, &st);
        if (st.durable == 500)
            break;
        usleep(10000);
    }
    assert_int_equal(st.durable, 500);
    /* No file may grow past 64 KiB now (the segment is ~45 KiB). */
    struct rlimit lim = { 64 << 10, old.rlim_max };
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    append(log, 500, 2000);
    for (int i = 0; i < 300; i++) {
        evlog_get_stats(log, &st);
        if (st.written + st.write_errors == 2500)
            break;
        usleep(10000);
    }
    assert_int_equal(st.appended, 2500);
    assert_int_equal(st.written + st.write_errors, 2500);
    assert_true(st.write_errors > 0);
    assert_int_equal(st.failing, 1);
    assert_int_equal(st.last_error, EFBIG);
    /* Every segment ends on a whole record. */
    assert_int_equal(st.seq, st.written);
    uint64_t lost = st.write_errors;
    /* Space comes back: the next events are written. */
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    usleep(100000);
    append(log, 2500, 500);
    evlog_close(log, &st);
    assert_int_equal(st.failing, 0);
    assert_int_equal(st.write_errors, lost);
    assert_int_equal(st.written + st.write_errors, 3000);
    assert_int_equal(st.seq, st.written);
    assert_int_equal(st.durable, st.written);
    unsigned problems;
    const char *paths[] = { evdir };
    struct evlog_scan *s;
    char err[512];
    assert_int_equal(evlog_scan_open(paths, 1, NULL, &s, err, sizeof(err)), 0);
    struct sk_event ev;
    struct evlog_ref ref;
    uint64_t last = 0, n = 0, newest = 0;
    int rc;
    problems = 0;
    while ((rc = evlog_scan_next(s, &ev, &ref, err, sizeof(err))) != 0) {
        if (rc < 0) {
            problems++;
            continue;
        }
        assert_int_equal(ref.seq, last + 1);
        last = ref.seq;
        n++;
        if (ev.ts_us - EVT_BASE_US >= 2500)
            newest++;
    }
    evlog_scan_close(s);
    assert_int_equal(problems, 0);
    assert_int_equal(n, st.written);
    assert_int_equal(newest, 500);
}

static void test_tap(void **state)
{
    (void)state;
    char data[512], evdir[600], tap[700];
    sub(data, sizeof(data), "tap");
    snprintf(evdir, sizeof(evdir), "%s/events", data);
    snprintf(tap, sizeof(tap), "%s/tap.json", root);
    struct evlog *log = open_log(data, 128 << 10, 0, EVLOG_COMPRESS_ZSTD, tap);
    for (unsigned k = 0; k < 6; k++) {
        append(log, k * 1000, 1000);
        usleep(20000);
    }
    struct evlog_stats st;
    evlog_close(log, &st);
    assert_int_equal(st.tap_lines, 6000);
    assert_int_equal(st.tap_errors, 0);
    /* One tap file per segment, PATH.SEGMENT, with as many lines as the
     * manifest says the segment has records, each a JSON object. */
    char path[800];
    snprintf(path, sizeof(path), "%s/%s", evdir, EVLOG_MANIFEST);
    struct evlog_manifest m;
    size_t bad;
    assert_int_equal(evlog_manifest_load(path, &m, &bad), 0);
    assert_int_equal(m.n, st.segments);
    uint64_t total = 0;
    for (size_t i = 0; i < m.n; i++) {
        snprintf(path, sizeof(path), "%s.%016" PRIx64, tap, m.e[i].segment);
        FILE *f = fopen(path, "r");
        assert_non_null(f);
        char line[4096];
        uint64_t lines = 0;
        while (fgets(line, sizeof(line), f)) {
            assert_true(line[0] == '{' && strstr(line, "}\n") != NULL);
            char want[128];
            snprintf(want, sizeof(want), "\"event_id\":\"seg-node-%016" PRIx64 "-%" PRIu64 "\"",
                     m.e[i].segment, lines);
            assert_non_null(strstr(line, want));
            snprintf(want, sizeof(want), "\"seq\":%" PRIu64 ",", m.e[i].first_seq + lines);
            assert_non_null(strstr(line, want));
            lines++;
        }
        fclose(f);
        assert_int_equal(lines, m.e[i].records);
        total += lines;
    }
    evlog_manifest_free(&m);
    assert_int_equal(total, 6000);
    assert_int_equal(evt_file_size(tap), -1); /* the last one was rotated at the stop */
}

static struct evt_store store;

/* Through one queue, so that event i gets sequence number i + 1. */
static void append_mixed(struct evlog *log, unsigned first, unsigned n)
{
    for (unsigned i = first; i < first + n; i++) {
        struct sk_event ev;
        evt_make_mixed(&ev, i, &store);
        while (evlog_append(evlog_queue(log, 0), &ev) == SK_EFULL)
            usleep(1000);
    }
}

/* Read a log of evt_make_mixed() events back: every event equal to the
 * one written, sequence numbers 1..n. Counts per kind into kinds[5]. */
static unsigned read_back_mixed(const char *path, const struct evlog_filter *f, unsigned kinds[5])
{
    const char *paths[] = { path };
    struct evlog_scan *s;
    char err[512];
    assert_int_equal(evlog_scan_open(paths, 1, f, &s, err, sizeof(err)), 0);
    unsigned n = 0;
    memset(kinds, 0, 5 * sizeof(*kinds));
    struct sk_event ev, want;
    struct evlog_ref ref;
    struct evt_store *mine = malloc(sizeof(*mine));
    int rc;
    while ((rc = evlog_scan_next(s, &ev, &ref, err, sizeof(err))) != 0) {
        if (rc < 0)
            fail_msg("%s", err);
        unsigned i = (unsigned)(ev.ts_us - EVT_BASE_US);
        evt_make_mixed(&want, i, mine);
        evt_assert_equal(&ev, &want);
        assert_int_equal(ref.seq, i + 1);
        kinds[ev.kind]++;
        n++;
    }
    free(mine);
    evlog_scan_close(s);
    return n;
}

/* Lines of a file, and how many of them hold needle (NULL: any). */
static unsigned count_lines(const char *path, const char *needle, unsigned *with)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char *line = malloc(EVLOG_EXPORT_LINE_MAX + 2);
    unsigned n = 0;
    *with = 0;
    while (fgets(line, EVLOG_EXPORT_LINE_MAX + 2, f)) {
        assert_non_null(strchr(line, '\n'));
        n++;
        if (needle && strstr(line, needle))
            (*with)++;
    }
    free(line);
    fclose(f);
    return n;
}

/* The line of a file that holds needle (static, or NULL). */
static const char *find_line(const char *path, const char *needle)
{
    static char line[EVLOG_EXPORT_LINE_MAX + 2];
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    const char *found = NULL;
    while (fgets(line, sizeof(line), f))
        if (strstr(line, needle)) {
            found = line;
            break;
        }
    fclose(f);
    return found;
}

static void export_to(const char *evdir, const struct evlog_filter *filter,
                      enum evlog_export_format fmt, const char *out)
{
    const char *paths[] = { evdir };
    struct evlog_scan *s;
    char err[512];
    assert_int_equal(evlog_scan_open(paths, 1, filter, &s, err, sizeof(err)), 0);
    struct evlog_export_stats st;
    if (fmt == EVLOG_EXPORT_SQLITE) {
        assert_int_equal(evlog_export_sqlite(s, out, 1, evdir, stderr, &st, err, sizeof(err)), 0);
    } else {
        FILE *f = fopen(out, "w");
        assert_non_null(f);
        assert_int_equal(evlog_export_text(s, fmt, f, stderr, &st), 0);
        fclose(f);
    }
    assert_int_equal(st.problems, 0);
    assert_int_equal(st.skipped, 0);
    evlog_scan_close(s);
}

static const char *sql1(sqlite3 *db, const char *sql, int *len)
{
    static char v[70000];
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    const char *r = NULL;
    int n = sqlite3_column_bytes(st, 0);
    if (sqlite3_column_type(st, 0) != SQLITE_NULL) {
        assert_true(n < (int)sizeof(v));
        memcpy(v, sqlite3_column_blob(st, 0), (size_t)n);
        v[n] = '\0';
        r = v;
    }
    if (len)
        *len = n;
    sqlite3_finalize(st);
    return r;
}

/* Connection events mixed with DNS ones, through the writer: rotated,
 * compressed (or not), read back field by field with kind filters, and
 * exported as JSON lines, CSV and SQLite. */
static void mixed_log(int compress)
{
    const unsigned n = 6000;
    char data[512], evdir[600], out[700];
    sub(data, sizeof(data), compress ? "mixz" : "mixp");
    snprintf(evdir, sizeof(evdir), "%s/events", data);
    /* About 1.4 MB in segments of 128 KiB (rotated after a batch), the
     * events appended in 12 bursts so that batches stay small. */
    struct evlog *log =
        open_log(data, 128 << 10, 0, compress ? EVLOG_COMPRESS_ZSTD : EVLOG_COMPRESS_NONE, NULL);
    for (unsigned k = 0; k < 12; k++) {
        append_mixed(log, k * (n / 12), n / 12);
        usleep(30000);
    }
    struct evlog_stats st;
    evlog_close(log, &st);
    assert_int_equal(st.written, n);
    assert_int_equal(st.dropped, 0);
    assert_true(st.segments >= 3);
    assert_int_equal(st.compressed, compress ? st.segments : 0);
    assert_int_equal(check_manifest(evdir), st.segments);

    unsigned kinds[5];
    assert_int_equal(read_back_mixed(evdir, NULL, kinds), n);
    assert_int_equal(kinds[SK_EV_DNS], 4000);
    assert_int_equal(kinds[SK_EV_HTTP], 667);
    assert_int_equal(kinds[SK_EV_TLS], 667);
    assert_int_equal(kinds[SK_EV_RAW], 666);
    struct evlog_filter f = { .kinds = 1u << SK_EV_HTTP };
    assert_int_equal(read_back_mixed(evdir, &f, kinds), 667);
    f.kinds = 1u << SK_EV_TLS | 1u << SK_EV_RAW;
    assert_int_equal(read_back_mixed(evdir, &f, kinds), 1333);
    assert_int_equal(kinds[SK_EV_TLS], 667);
    f = (struct evlog_filter){ .from_us = EVT_BASE_US + 90,
                               .to_us = EVT_BASE_US + 180,
                               .kinds = 1u << SK_EV_RAW };
    assert_int_equal(read_back_mixed(evdir, &f, kinds), 10);

    /* JSON lines: one per event; event 9 (seq 10) is evt_make_conn(3). */
    unsigned with;
    snprintf(out, sizeof(out), "%s/%s.jsonl", root, compress ? "mixz" : "mixp");
    export_to(evdir, NULL, EVLOG_EXPORT_JSONL, out);
    assert_int_equal(count_lines(out, "\"event_type\":\"http\"", &with), n);
    assert_int_equal(with, 667);
    count_lines(out, "\"tls\":{", &with);
    assert_int_equal(with, 667);
    count_lines(out, "\"raw\":{\"len\":", &with);
    assert_int_equal(with, 666);
    count_lines(out, "\"flags\":[", &with);
    assert_int_equal(with, 6000);
    const char *l = find_line(out, "\"seq\":10,");
    assert_non_null(l);
    assert_non_null(strstr(
        l, "\"family\":\"megad\",\"list\":\"port80\",\"bot_id\":\"BOT-DAA66D13\","
           "\"rule\":\"megad-gate\",\"http\":{\"hostname\":\"c2.example\","
           "\"url\":\"te.php?id=012\",\"http_method\":\"GET\",\"protocol\":\"HTTP/1.1\","
           "\"status\":200,\"http_user_agent\":\"/5.0 /gate.php?id=0123456789&v=abcdefghi\","
           "\"http_refer\":\"http://ref.example/\\\"q\\\",x\",\"request\":4,\"body_len\":1000},"
           "\"flags\":[\"tls\",\"keepalive\",\"silent\",\"malformed\",\"terminated\"],"
           "\"close_reason\":\"idle\",\"bytes_in\":3017,\"bytes_out\":9,"
           "\"duration\":0.370371}\n"));
    /* A filtered export. */
    f = (struct evlog_filter){ .kinds = 1u << SK_EV_RAW };
    export_to(evdir, &f, EVLOG_EXPORT_JSONL, out);
    assert_int_equal(count_lines(out, "\"event_type\":\"raw\"", &with), 666);
    assert_int_equal(with, 666);

    /* CSV: a header and a row per event. */
    snprintf(out, sizeof(out), "%s/%s.csv", root, compress ? "mixz" : "mixp");
    export_to(evdir, NULL, EVLOG_EXPORT_CSV, out);
    assert_int_equal(count_lines(out, ",tls,seg-node-", &with), n + 1);
    assert_int_equal(with, 667);
    l = find_line(out, ",10,seg-node,");
    assert_non_null(l);
    assert_non_null(strstr(l, ",megad,port80,,,,,,,,,,,,,,BOT-DAA66D13,megad-gate,"
                              "tls keepalive silent malformed terminated,idle,3017,9,0.370371,"
                              "c2.example,te.php?id=012,GET,HTTP/1.1,200,"
                              "/5.0 /gate.php?id=0123456789&v=abcdefghi,"
                              "\"http://ref.example/\"\"q\"\",x\",,4,1000,,,,,,,,,,,\n"));

    /* SQLite: a table per kind, with its indexes. */
    snprintf(out, sizeof(out), "%s/%s.db", root, compress ? "mixz" : "mixp");
    export_to(evdir, NULL, EVLOG_EXPORT_SQLITE, out);
    sqlite3 *db;
    assert_int_equal(sqlite3_open_v2(out, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_string_equal(sql1(db, "SELECT count(*) FROM dns", NULL), "4000");
    assert_string_equal(sql1(db, "SELECT count(*) FROM http", NULL), "667");
    assert_string_equal(sql1(db, "SELECT count(*) FROM tls", NULL), "667");
    assert_string_equal(sql1(db, "SELECT count(*) FROM raw", NULL), "666");
    assert_string_equal(sql1(db,
                             "SELECT count(*) FROM sqlite_master WHERE type='index' AND "
                             "name IN ('http_time','http_src','http_family','tls_time',"
                             "'tls_src','tls_family','raw_time','raw_src','raw_family',"
                             "'dns_time','dns_src','dns_family')",
                             NULL),
                        "12");
    assert_string_equal(sql1(db, "SELECT url FROM http WHERE seq = 10", NULL), "te.php?id=012");
    assert_string_equal(sql1(db,
                             "SELECT bot_id||' '||close_reason||' '||flags||' '||duration "
                             "FROM http WHERE seq = 10",
                             NULL),
                        "BOT-DAA66D13 idle tls keepalive silent malformed terminated 0.370371");
    assert_string_equal(sql1(db,
                             "SELECT http_refer||' '||body_len||' '||request||' '||status "
                             "FROM http WHERE seq = 10",
                             NULL),
                        "http://ref.example/\"q\",x 1000 4 200");
    assert_null(sql1(db, "SELECT body FROM http WHERE seq = 10", NULL));
    /* Event 18 (seq 19) is evt_make_conn(6): http with a 6-byte body. */
    struct sk_event want;
    evt_make_conn(&want, 6, &store);
    int blen;
    const char *body = sql1(db, "SELECT body FROM http WHERE seq = 19", &blen);
    assert_int_equal(blen, 6);
    assert_memory_equal(body, want.u.http.body.p, 6);
    assert_string_equal(sql1(db, "SELECT typeof(body) FROM http WHERE seq = 19", NULL), "blob");
    /* Every byte of a value at its cap comes back from its escaped text:
     * event 171 is evt_make_conn(57), every value at its cap. */
    evt_make_conn(&want, 57, &store);
    const char *url = sql1(db, "SELECT url FROM http WHERE seq = 172", NULL);
    assert_non_null(url);
    uint8_t back[SK_EV_URL_MAX];
    size_t bl = 0;
    for (const char *p = url; *p; bl++) {
        assert_true(bl < sizeof(back));
        if (p[0] == '\\' && p[1] == 'x') {
            unsigned v;
            assert_int_equal(sscanf(p + 2, "%2x", &v), 1);
            back[bl] = (uint8_t)v;
            p += 4;
        } else if (p[0] == '\\') {
            assert_int_equal(p[1], '\\');
            back[bl] = '\\';
            p += 2;
        } else {
            back[bl] = (uint8_t)*p++;
        }
    }
    assert_int_equal(bl, SK_EV_URL_MAX);
    assert_memory_equal(back, want.u.http.url.p, SK_EV_URL_MAX);
    assert_string_equal(
        sql1(db, "SELECT length(data)||' '||sniffed FROM raw WHERE seq = 259", NULL), "16384 tls");
    assert_string_equal(
        sql1(db, "SELECT sni||' '||version||' '||ja3_hash FROM tls WHERE seq = 4", NULL),
        "c2.example TLS 1.2 00000001000000030000000500000007");
    sqlite3_close(db);
}

static void test_mixed_compressed(void **state)
{
    (void)state;
    mixed_log(1);
}

static void test_mixed_plain(void **state)
{
    (void)state;
    mixed_log(0);
}

static void test_names_and_manifest_lines(void **state)
{
    (void)state;
    char name[EVLOG_SEG_NAME_MAX];
    evlog_segment_name(0x18f2b3c4d5eull, name);
    assert_string_equal(name, "0000018f2b3c4d5e.evlog");
    uint64_t id;
    assert_int_equal(evlog_segment_parse_name(name, &id), 0);
    assert_int_equal(id, 0x18f2b3c4d5eull);
    static const char *bad[] = { "0000018f2b3c4d5e.evlo",
                                 "0000018F2B3C4D5E.evlog",
                                 "18f2b3c4d5e.evlog",
                                 "0000018f2b3c4d5e.evlog.ztmp",
                                 "MANIFEST",
                                 "" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(evlog_segment_parse_name(bad[i], &id), SK_EINVAL);

    struct evlog_segment_info info;
    memset(&info, 0, sizeof(info));
    info.hdr.segment = 0x18f2b3c4d5eull;
    info.hdr.first_seq = 41;
    strcpy(info.hdr.node, "sink 1");
    info.records = 10;
    info.min_ts = EVT_BASE_US;
    info.max_ts = EVT_BASE_US + 1500000;
    info.bytes = 1234;
    info.form = EVLOG_FORM_ZSTD;
    memset(info.sha256, 'a', 64);
    char line[1024];
    assert_true(evlog_manifest_closed_line(&info, line, sizeof(line)) > 0);
    assert_string_equal(line, "closed 0000018f2b3c4d5e.evlog records=10 first_seq=41 "
                              "first_ts=2026-11-28T12:00:00.000000Z "
                              "last_ts=2026-11-28T12:00:01.500000Z bytes=1234 sha256="
                              "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa "
                              "form=zstd damaged=0 node=sink_1\n");
    struct evlog_manifest_entry e;
    assert_int_equal(evlog_manifest_parse_line(line, &e), 1);
    assert_int_equal(e.segment, 0x18f2b3c4d5eull);
    assert_int_equal(e.records, 10);
    assert_int_equal(e.first_seq, 41);
    assert_int_equal(e.first_ts, EVT_BASE_US);
    assert_int_equal(e.last_ts, EVT_BASE_US + 1500000);
    assert_int_equal(e.form, EVLOG_FORM_ZSTD);
    assert_true(
        evlog_manifest_removed_line(0x18f2b3c4d5eull, EVT_BASE_US, "age", line, sizeof(line)) > 0);
    assert_int_equal(evlog_manifest_parse_line(line, &e), 2);
    assert_true(e.removed);
    assert_int_equal(evlog_manifest_parse_line("# a comment\n", &e), 0);
    assert_int_equal(evlog_manifest_parse_line("\n", &e), 0);
    assert_int_equal(evlog_manifest_parse_line("closed x.evlog records=1\n", &e), SK_EINVAL);
    assert_int_equal(evlog_manifest_parse_line("closed 0000018f2b3c4d5e.evlog\n", &e), SK_EINVAL);
    assert_int_equal(evlog_manifest_parse_line("closed 0000018f2b3c4d5e.evlog records=x\n", &e),
                     SK_EINVAL);
    assert_int_equal(evlog_manifest_parse_line("opened 0000018f2b3c4d5e.evlog records=1\n", &e),
                     SK_EINVAL);
    /* Unknown keys are skipped, for later versions. */
    assert_int_equal(
        evlog_manifest_parse_line("closed 0000018f2b3c4d5e.evlog records=1 colour=red\n", &e), 1);
}

int main(void)
{
    root = evt_tmpdir("segment");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rotation_compression),
        cmocka_unit_test(test_rotation_time),
        cmocka_unit_test(test_compressed_damage),
        cmocka_unit_test(test_compress_keeps_damage),
        cmocka_unit_test(test_recovery),
        cmocka_unit_test(test_retention),
        cmocka_unit_test(test_write_errors),
        cmocka_unit_test(test_tap),
        cmocka_unit_test(test_names_and_manifest_lines),
        cmocka_unit_test(test_mixed_compressed),
        cmocka_unit_test(test_mixed_plain),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    evt_rmrf(root);
    return rc;
}
