/* Unit tests for evlog: record round trips, the writer, the reader and
 * its recovery from torn and corrupt data. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/err.h"
#include "dns/name.h"
#include "evlog/evlog.h"
#include "evlog/json.h"
#include "evlog/reader.h"
#include "evlog/record.h"

static char dir[] = "/tmp/sk-test-evlog-XXXXXX";

static void make_event(struct sk_event *ev, unsigned i)
{
    memset(ev, 0, sizeof(*ev));
    ev->ts_us = 1795867200000000ull + i;
    ev->kind = SK_EV_DNS;
    ev->proto = i % 2 ? SK_PROTO_TCP : SK_PROTO_UDP;
    sk_ip_parse(i % 3 ? "198.51.100.7" : "2001:db8::53", &ev->src);
    ev->src.port = (uint16_t)(1024 + i);
    sk_ip_parse("192.0.2.1", &ev->dst);
    ev->dst.port = 53;
    if (i % 5 == 0)
        strcpy(ev->family, "megad");
    if (i % 5 == 0)
        strcpy(ev->list, "megad-list");
    struct sk_event_dns *d = &ev->u.dns;
    char name[64];
    snprintf(name, sizeof(name), "Bot%u.Mega-D.example", i);
    size_t l;
    assert_int_equal(dns_name_from_text(name, strlen(name), d->qname, &l), 0);
    d->qname_len = (uint8_t)l;
    d->qtype = 1 + (uint16_t)(i % 30);
    d->qclass = 1;
    d->id = (uint16_t)(i * 7);
    d->rcode = (uint16_t)(i % 6);
    d->flags = (uint8_t)(i & 0x3f);
    d->rrl = (uint8_t)(i % 4);
    d->edns_size = i % 2 ? 1232 : 0;
    d->resp_len = (uint16_t)(i % 500);
    d->ancount = (uint16_t)(i % 3);
    if (i % 4 == 0) {
        d->ecs_af = 4;
        d->ecs_source = 24;
        d->ecs_scope = 0;
        d->ecs_addr[0] = 203;
        d->ecs_addr[1] = 0;
        d->ecs_addr[2] = 113;
    }
}

static void assert_event_equal(const struct sk_event *a, const struct sk_event *b)
{
    assert_int_equal(a->ts_us, b->ts_us);
    assert_int_equal(a->kind, b->kind);
    assert_int_equal(a->proto, b->proto);
    assert_true(sk_ip_equal(&a->src, &b->src));
    assert_int_equal(a->src.port, b->src.port);
    assert_true(sk_ip_equal(&a->dst, &b->dst));
    assert_int_equal(a->dst.port, b->dst.port);
    assert_int_equal(a->proxied_by.af, b->proxied_by.af);
    assert_string_equal(a->family, b->family);
    assert_string_equal(a->list, b->list);
    const struct sk_event_dns *x = &a->u.dns, *y = &b->u.dns;
    assert_int_equal(x->qname_len, y->qname_len);
    assert_memory_equal(x->qname, y->qname, x->qname_len);
    assert_int_equal(x->qtype, y->qtype);
    assert_int_equal(x->qclass, y->qclass);
    assert_int_equal(x->id, y->id);
    assert_int_equal(x->rcode, y->rcode);
    assert_int_equal(x->flags, y->flags);
    assert_int_equal(x->rrl, y->rrl);
    assert_int_equal(x->edns_size, y->edns_size);
    assert_int_equal(x->resp_len, y->resp_len);
    assert_int_equal(x->ancount, y->ancount);
    assert_int_equal(x->ecs_af, y->ecs_af);
    if (x->ecs_af) {
        assert_int_equal(x->ecs_source, y->ecs_source);
        assert_int_equal(x->ecs_scope, y->ecs_scope);
        assert_memory_equal(x->ecs_addr, y->ecs_addr, 16);
    }
}

static void test_record_roundtrip(void **state)
{
    (void)state;
    for (unsigned i = 0; i < 200; i++) {
        struct sk_event ev, back;
        make_event(&ev, i);
        uint8_t buf[EVLOG_FRAME_LEN + EVLOG_PAYLOAD_MAX];
        int n = evlog_record_encode(&ev, buf, sizeof(buf));
        assert_true(n > EVLOG_FRAME_LEN);
        uint32_t plen = (uint32_t)buf[0] | (uint32_t)buf[1] << 8;
        assert_int_equal(plen + EVLOG_FRAME_LEN, n);
        assert_int_equal(evlog_record_decode(buf + EVLOG_FRAME_LEN, plen, &back), 0);
        assert_event_equal(&ev, &back);
        /* Every truncation of the payload is rejected, never misread. */
        for (uint32_t cut = 0; cut < plen; cut += 7)
            assert_int_equal(evlog_record_decode(buf + EVLOG_FRAME_LEN, cut, &back), SK_ECORRUPT);
        /* Too small an output buffer is reported. */
        assert_int_equal(evlog_record_encode(&ev, buf, 20), SK_ENOSPACE);
    }
}

static void test_header(void **state)
{
    (void)state;
    struct evlog_file_header h = {
        .format = EVLOG_FORMAT, .schema = SK_EVENT_SCHEMA, .start_us = 42, .segment = 0x1234
    };
    strcpy(h.node, "sink-1");
    uint8_t buf[EVLOG_HEADER_MAX];
    int n = evlog_header_encode(&h, buf, sizeof(buf));
    assert_true(n > 0);
    struct evlog_file_header back;
    assert_int_equal(evlog_header_decode(buf, (size_t)n, &back), n);
    assert_string_equal(back.node, "sink-1");
    assert_int_equal(back.segment, 0x1234);
    assert_int_equal(back.schema, SK_EVENT_SCHEMA);
    buf[10] ^= 1; /* corrupt the schema field: CRC catches it */
    assert_int_equal(evlog_header_decode(buf, (size_t)n, &back), SK_ECORRUPT);
    assert_int_equal(
        evlog_header_decode((const uint8_t *)"NOTALOG!xxxxxxxxxxxxxxxxxxxxxxxx", 32, &back),
        SK_ECORRUPT);
}

/* Write n events through the real writer with 3 producer queues. */
static char *write_log(unsigned n, struct evlog_stats *st)
{
    struct evlog_options opt = {
        .data_dir = dir, .node = "t1", .nqueues = 3, .queue_bytes = 1 << 20, .flush_ms = 10
    };
    struct evlog *log;
    assert_int_equal(evlog_open(&opt, &log), 0);
    static char path[512];
    snprintf(path, sizeof(path), "%s", evlog_path(log));
    for (unsigned i = 0; i < n; i++) {
        struct sk_event ev;
        make_event(&ev, i);
        while (evlog_append(evlog_queue(log, (int)(i % 3)), &ev) == SK_EFULL)
            usleep(1000);
    }
    evlog_close(log, st);
    return path;
}

static void test_writer_reader(void **state)
{
    (void)state;
    struct evlog_stats st;
    char *path = write_log(5000, &st);
    assert_int_equal(st.written, st.appended);
    assert_int_equal(st.durable, st.written);
    assert_int_equal(st.write_errors, 0);

    struct evlog_reader *r;
    char err[256];
    assert_int_equal(evlog_reader_open(path, &r, err, sizeof(err)), 0);
    assert_string_equal(evlog_reader_header(r)->node, "t1");
    /* Records from the 3 queues interleave; each queue keeps its order. */
    unsigned seen = 0, next[3] = { 0, 1, 2 };
    struct sk_event ev, want;
    uint64_t recno;
    int rc;
    while ((rc = evlog_reader_next(r, &ev, &recno, err, sizeof(err))) == 1) {
        assert_int_equal(recno, seen);
        unsigned i = (unsigned)(ev.ts_us - 1795867200000000ull);
        unsigned q = i % 3;
        assert_int_equal(i, next[q]);
        next[q] += 3;
        make_event(&want, i);
        assert_event_equal(&ev, &want);
        seen++;
    }
    assert_int_equal(rc, 0);
    assert_int_equal(seen, 5000);
    assert_int_equal(st.appended, 5000);
    evlog_reader_close(r);
}

static void test_reader_recovers(void **state)
{
    (void)state;
    struct evlog_stats st;
    char *path = write_log(100, &st);
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
    uint64_t recno;
    while ((rc = evlog_reader_next(r, &ev, &recno, err, sizeof(err))) != 0) {
        if (rc == 1) {
            good++;
        } else {
            damaged++;
            assert_non_null(strstr(err, path));
            assert_non_null(strstr(err, "offset"));
        }
    }
    /* One record lost to the flipped byte, one to the torn tail. */
    assert_int_equal(good, 98);
    assert_int_equal(damaged, 2);
    evlog_reader_close(r);

    /* A foreign file is refused with its name. */
    char foreign[512];
    snprintf(foreign, sizeof(foreign), "%s/foreign.evlog", dir);
    FILE *f = fopen(foreign, "w");
    fputs("this is not an event log at all, just text\n", f);
    fclose(f);
    assert_int_equal(evlog_reader_open(foreign, &r, err, sizeof(err)), SK_ECORRUPT);
    assert_non_null(strstr(err, foreign));
}

static void test_queue_full_drops(void **state)
{
    (void)state;
    struct evlog_options opt = {
        .data_dir = dir, .node = "t2", .nqueues = 1, .queue_bytes = 4096, .flush_ms = 1000
    };
    struct evlog *log;
    assert_int_equal(evlog_open(&opt, &log), 0);
    /* A 4 KiB ring holds a few dozen records: a burst overflows it. */
    unsigned dropped = 0, n = 2000;
    for (unsigned i = 0; i < n; i++) {
        struct sk_event ev;
        make_event(&ev, i);
        if (evlog_append(evlog_queue(log, 0), &ev) == SK_EFULL)
            dropped++;
    }
    struct evlog_stats st;
    evlog_close(log, &st);
    assert_true(dropped > 0);
    assert_int_equal(st.dropped, dropped);
    assert_int_equal(st.appended + st.dropped, n);
    assert_int_equal(st.written, st.appended);
}

static void test_json(void **state)
{
    (void)state;
    struct sk_event ev;
    make_event(&ev, 20);
    char out[4096];
    int n = evlog_event_json(&ev, "sink-1", 0xabc, 7, out, sizeof(out));
    assert_true(n > 0);
    assert_non_null(strstr(out, "\"event_type\":\"dns\""));
    assert_non_null(strstr(out, "\"event_id\":\"sink-1-0000000000000abc-7\""));
    assert_non_null(strstr(out, "\"rrname\":\"Bot20.Mega-D.example\""));
    assert_non_null(strstr(out, "\"src_ip\":\"198.51.100.7\",\"src_port\":1044"));
    assert_non_null(strstr(out, "\"family\":\"megad\""));
    assert_non_null(strstr(out, "\"ecs\":\"203.0.113.0/24\""));
    assert_non_null(strstr(out, "\"timestamp\":\"2026-11-28T12:00:00.000020Z\""));
    /* Hostile names are escaped, output stays one line of ASCII. */
    ev.u.dns.qname[1] = '"';
    ev.u.dns.qname[2] = 0x01;
    ev.u.dns.qname[3] = 0xff;
    n = evlog_event_json(&ev, "sink-1", 1, 1, out, sizeof(out));
    assert_true(n > 0);
    for (int i = 0; i < n; i++)
        assert_true(out[i] >= 0x20 && out[i] < 0x7f);
    assert_int_equal(evlog_event_json(&ev, "sink-1", 1, 1, out, 50), SK_ENOSPACE);
}

int main(void)
{
    if (mkdtemp(dir) == NULL)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_record_roundtrip), cmocka_unit_test(test_header),
        cmocka_unit_test(test_writer_reader),    cmocka_unit_test(test_reader_recovers),
        cmocka_unit_test(test_queue_full_drops), cmocka_unit_test(test_json),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        return 1;
    return rc;
}
