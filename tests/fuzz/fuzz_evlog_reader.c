/* fuzz/fuzz_evlog_reader.c -- the segment reader on arbitrary files.
 *
 * The input is a segment file, plain or compressed (the reader tells them
 * apart by the first bytes): it is put in a memory file and read to the
 * end by the reader, without and with a filter taken from the input, and
 * summed up by evlog_segment_stat(). Whatever the bytes, reading must end,
 * every event returned must be well-formed (values within their caps,
 * strings terminated, spans readable) and must turn into JSON and CSV
 * lines of printable ASCII, and nothing may be read out of bounds (ASan).
 *
 * The seed corpus (evlog_reader.in/) holds small segments of both forms
 * and damaged copies of them: schema 1 files (DNS events; plain-*, zstd-*,
 * with version 1 blocks) kept as the writer of that time wrote them, and
 * schema 2 files mixing http, tls and raw events with DNS ones (mixed-*),
 * values at their caps included. To write the schema 2 seeds again:
 *   cc -DFUZZ_EVLOG_WRITE_CORPUS -D_GNU_SOURCE -Isrc tests/fuzz/fuzz_evlog_reader.c \
 *      build/libsk.a -lzstd -lcrypto -linih -lsqlite3 -lpcre2-8 -lpthread -lm -o /tmp/gen &&
 *   /tmp/gen DIR */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "evlog/export.h"
#include "evlog/json.h"
#include "evlog/reader.h"
#include "evlog/segment.h"
#include "fuzz_event_check.h"

static void check_text(const char *p, int n)
{
    if (n <= 0)
        abort();
    for (int i = 0; i < n; i++)
        if ((p[i] < 0x20 || p[i] >= 0x7f) && p[i] != '\n')
            abort();
}

static void check_event(const struct sk_event *ev, const struct evlog_file_header *h,
                        uint64_t recno)
{
    fuzz_check_event(ev);
    /* Whatever was read turns into lines of printable ASCII. */
    static char line[EVLOG_EXPORT_LINE_MAX];
    int n = evlog_event_json(ev, h->node, h->segment, recno, line, EVLOG_JSON_MAX);
    check_text(line, n);
    struct evlog_ref ref = { "fuzz", h, recno, 1 };
    n = evlog_event_csv(ev, &ref, line, sizeof(line));
    if (n <= 0 || line[n - 1] != '\n')
        abort();
}

static void read_all(int fd, const struct evlog_filter *f)
{
    struct evlog_reader *r;
    char err[512];
    if (evlog_reader_open_fd(fd, "fuzz", &r, err, sizeof(err)) != 0)
        return;
    if (f)
        evlog_reader_set_filter(r, f);
    struct sk_event ev;
    memset(&ev, 0, sizeof(ev));
    uint64_t recno;
    int rc;
    /* Each call consumes at least one byte or one record: this ends. */
    while ((rc = evlog_reader_next(r, &ev, &recno, err, sizeof(err))) != 0) {
        if (rc == 1) {
            check_event(&ev, evlog_reader_header(r), recno);
            if (f && (ev.ts_us < f->from_us || (f->to_us && ev.ts_us >= f->to_us)))
                abort();
        }
    }
    evlog_reader_close(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = memfd_create("fuzz-evlog", MFD_CLOEXEC);
    if (fd < 0)
        return 0;
    if (size && write(fd, data, size) != (ssize_t)size) {
        close(fd);
        return 0;
    }
    read_all(fd, NULL);
    if (size >= 2) {
        /* A time window from the last two bytes, around the test events. */
        struct evlog_filter f = { .from_us = 1795867200000000ull + data[size - 1] * 4u,
                                  .to_us = 1795867200000000ull + data[size - 1] * 4u +
                                           data[size - 2] * 8u + 1,
                                  .kinds = (data[size - 2] & 1u ? 1u << SK_EV_DNS : 0) |
                                           (data[size - 1] & 1u ? 1u << SK_EV_HTTP : 0) |
                                           1u << SK_EV_RAW };
        read_all(fd, &f);
    }
    char path[64], err[512];
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    struct evlog_segment_info info;
    evlog_segment_stat(path, &info, err, sizeof(err));
    close(fd);
    return 0;
}

#ifdef FUZZ_EVLOG_WRITE_CORPUS
/* Write the seed corpus into argv[1]. */
#include <dirent.h>
#include <sys/stat.h>

#include "dns/name.h"
#include "evlog/record.h"

static void put(const char *dir, const char *name, const uint8_t *p, size_t n)
{
    char path[4200];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(p, 1, n, f) != n)
        exit(1);
    fclose(f);
}

static uint8_t *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        exit(1);
    fseek(f, 0, SEEK_END);
    *n = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *p = malloc(*n + 1);
    if (fread(p, 1, *n, f) != *n)
        exit(1);
    fclose(f);
    return p;
}

/* Connection event i (http, tls, raw in turn, two of each) or, where
 * i % 3 == 1, a DNS one; from 20 on, every third has every value at its
 * cap (http, tls, raw, http). */
static void mixed_event(struct sk_event *ev, unsigned i, uint8_t *store)
{
    static const char text[] = "GET /gate.php?id=1 HTTP/1.1\r\nHost: c2.example\r\n\"\\\x01\xff";
    memset(ev, 0, sizeof(*ev));
    ev->ts_us = 1795867200000000ull + i * 3;
    int full = i >= 20 && i % 3 == 2;
    for (size_t k = 0; k < SK_EV_CAPTURE_MAX; k++)
        store[k] = full ? (uint8_t)(k * 7 + i) : (uint8_t)text[k % (sizeof(text) - 1)];
    sk_ip_parse(i % 2 ? "198.51.100.7" : "2001:db8::1", &ev->src);
    ev->src.port = (uint16_t)(1000 + i);
    sk_ip_parse("192.0.2.1", &ev->dst);
    if (i % 7 == 3)
        sk_ip_parse("10.1.2.3", &ev->proxied_by);
    if (i % 3 == 1) {
        ev->kind = SK_EV_DNS;
        ev->proto = SK_PROTO_UDP;
        ev->dst.port = 53;
        size_t l;
        dns_name_from_text("b.Evil.example", 14, ev->u.dns.qname, &l);
        ev->u.dns.qname_len = (uint8_t)l;
        ev->u.dns.qtype = 1;
        ev->u.dns.qclass = 1;
        return;
    }
    ev->kind = (uint8_t)(SK_EV_HTTP + (i / 3) % 3);
    ev->proto = SK_PROTO_TCP;
    ev->dst.port = 80;
    strcpy(ev->family, "megad");
    strcpy(ev->list, "port80");
    if (full) {
        memset(ev->bot_id, 'B', SK_BOTID_MAX - 1);
        memset(ev->rule, 'R', SK_RULE_MAX - 1);
    } else if (i % 2) {
        snprintf(ev->bot_id, sizeof(ev->bot_id), "bot-%u", i);
        strcpy(ev->rule, "megad-gate");
    }
    ev->flags = (uint16_t)(i * 37);
    ev->close_reason = (uint8_t)(i % 9);
    ev->bytes_in = full ? UINT64_MAX : i * 100u;
    ev->bytes_out = i * 7u;
    ev->duration_us = i * 12345u;
    uint32_t s = full ? SK_EV_SHORT_MAX : 10, u = full ? SK_EV_URL_MAX : 20 + i % 30;
    uint32_t c = full ? SK_EV_CAPTURE_MAX : i % 50;
    if (ev->kind == SK_EV_HTTP) {
        struct sk_event_http *h = &ev->u.http;
        h->method = (struct sk_span){ store, 3 };
        h->host = (struct sk_span){ store + 1, s };
        h->url = (struct sk_span){ store + 2, u };
        h->user_agent = (struct sk_span){ store + 3, u };
        h->referer = (struct sk_span){ store + 4, i % 2 ? u : 0 };
        h->content_type = (struct sk_span){ store + 5, s };
        h->body = (struct sk_span){ store + 6, c };
        h->body_len = c + 5;
        h->status = 200;
        h->version = 11;
        h->request = 1 + i % 3;
    } else if (ev->kind == SK_EV_TLS) {
        ev->u.tls.sni = (struct sk_span){ store + 7, s };
        ev->u.tls.alpn = (struct sk_span){ store + 8, i % 2 ? 2 : 0 };
        ev->u.tls.version = 0x0304;
        ev->u.tls.record_version = 0x0301;
        strcpy(ev->u.tls.ja3, "e7d705a3286e19ea42f587b344ee6865");
        strcpy(ev->u.tls.ja4, "t13d1516h2_8daaf6152771_02713d6af862");
    } else {
        ev->u.raw.data = (struct sk_span){ store + 9, c };
        ev->u.raw.first_byte_ms = i;
        ev->u.raw.sniffed = 5;
    }
}

/* A schema 2 plain segment of n mixed events at path, written directly
 * (header and records), compressed in place if compress. */
static void mixed_segment(const char *path, unsigned n, int compress)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        exit(1);
    struct evlog_file_header h = { .format = EVLOG_FORMAT,
                                   .schema = SK_EVENT_SCHEMA,
                                   .start_us = 1795867200000000ull,
                                   .segment = 0x6615bc60ba581ull,
                                   .first_seq = 1 };
    strcpy(h.node, "fuzz");
    static uint8_t rec[EVLOG_FRAME_LEN + EVLOG_PAYLOAD_MAX];
    static uint8_t store[SK_EV_CAPTURE_MAX + 16];
    int l = evlog_header_encode(&h, rec, sizeof(rec));
    if (l < 0 || fwrite(rec, 1, (size_t)l, f) != (size_t)l)
        exit(1);
    for (unsigned i = 0; i < n; i++) {
        struct sk_event ev;
        mixed_event(&ev, i, store);
        l = evlog_record_encode(&ev, rec, sizeof(rec));
        if (l < 0 || fwrite(rec, 1, (size_t)l, f) != (size_t)l)
            exit(1);
    }
    fclose(f);
    struct evlog_segment_info info;
    char err[512];
    if (compress && evlog_segment_compress(path, 3, &info, err, sizeof(err)) != 0)
        exit(1);
}

/* The schema 2 seeds: mixed segments of both forms and damaged copies. */
static void mixed_seeds(const char *tmp, const char *dir)
{
    static const struct {
        int compress;
        unsigned n;
        const char *name;
    } segs[] = { { 0, 4, "mixed-plain-4" },
                 { 0, 30, "mixed-plain-30" },
                 { 1, 4, "mixed-zstd-4" },
                 { 1, 30, "mixed-zstd-30" } };
    for (size_t k = 0; k < sizeof(segs) / sizeof(segs[0]); k++) {
        char path[4200];
        snprintf(path, sizeof(path), "%s/%s.evlog", tmp, segs[k].name);
        mixed_segment(path, segs[k].n, segs[k].compress);
        size_t n;
        uint8_t *p = slurp(path, &n);
        char name[128];
        snprintf(name, sizeof(name), "%s.evlog", segs[k].name);
        put(dir, name, p, n);
        snprintf(name, sizeof(name), "%s-torn.evlog", segs[k].name);
        put(dir, name, p, n - n / 7);
        p[n / 2] ^= 0x5a;
        snprintf(name, sizeof(name), "%s-flipped.evlog", segs[k].name);
        put(dir, name, p, n);
        free(p);
    }
}

int main(int argc, char **argv)
{
    if (argc != 2)
        return 2;
    char tmp[] = "/tmp/sk-fuzz-corpus-XXXXXX";
    if (mkdtemp(tmp) == NULL)
        return 1;
    mixed_seeds(tmp, argv[1]);
    put(argv[1], "empty.evlog", (const uint8_t *)"", 0);
    put(argv[1], "text.evlog", (const uint8_t *)"not an event log\n", 17);
    char cmd[200];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
    return system(cmd) == 0 ? 0 : 1;
}
#endif
