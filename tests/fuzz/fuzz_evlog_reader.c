/* fuzz/fuzz_evlog_reader.c -- the segment reader on arbitrary files.
 *
 * The input is a segment file, plain or compressed (the reader tells them
 * apart by the first bytes): it is put in a memory file and read to the
 * end by the reader, without and with a filter taken from the input, and
 * summed up by evlog_segment_stat(). Whatever the bytes, reading must end,
 * every event returned must be well-formed, and nothing may be read out of
 * bounds (ASan).
 *
 * The seed corpus (evlog_reader.in/) holds small segments of both forms
 * written by the real writer and compressor, and damaged copies of them.
 * To write it again:
 *   cc -DFUZZ_EVLOG_WRITE_CORPUS -D_GNU_SOURCE -Isrc tests/fuzz/fuzz_evlog_reader.c \
 *      build/libsk.a -lzstd -lcrypto -linih -lpthread -lm -o /tmp/gen && /tmp/gen DIR */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "evlog/reader.h"
#include "evlog/segment.h"

static void check_event(const struct sk_event *ev)
{
    if (ev->kind != SK_EV_DNS)
        abort();
    const struct sk_ip *ips[3] = { &ev->src, &ev->dst, &ev->proxied_by };
    for (int i = 0; i < 3; i++)
        if (ips[i]->af != 0 && ips[i]->af != 4 && ips[i]->af != 6)
            abort();
    if (memchr(ev->family, 0, sizeof(ev->family)) == NULL ||
        memchr(ev->list, 0, sizeof(ev->list)) == NULL)
        abort();
    const struct sk_event_dns *d = &ev->u.dns;
    if (d->ecs_af != 0 && d->ecs_af != 4 && d->ecs_af != 6)
        abort();
    if (d->ecs_af && (d->ecs_source + 7u) / 8u > (d->ecs_af == 4 ? 4u : 16u))
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
            check_event(&ev);
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
                                  .kinds = 1u << SK_EV_DNS };
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

#include "core/err.h"
#include "evlog/evlog.h"

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

static void one_segment(const char *tmp, int compress, unsigned n, char *out, size_t outlen)
{
    char data[4200];
    snprintf(data, sizeof(data), "%s/%s%u", tmp, compress ? "z" : "p", n);
    struct evlog_options opt = {
        .data_dir = data, .node = "fuzz", .nqueues = 1, .queue_bytes = 1 << 20, .compress = compress
    };
    struct evlog *log;
    if (evlog_open(&opt, &log) != 0)
        exit(1);
    for (unsigned i = 0; i < n; i++) {
        struct sk_event ev;
        memset(&ev, 0, sizeof(ev));
        ev.ts_us = 1795867200000000ull + i * 3;
        ev.kind = SK_EV_DNS;
        ev.proto = i % 3 ? SK_PROTO_UDP : SK_PROTO_TCP;
        sk_ip_parse(i % 2 ? "198.51.100.7" : "2001:db8::1", &ev.src);
        ev.src.port = (uint16_t)(1000 + i);
        sk_ip_parse("192.0.2.1", &ev.dst);
        ev.dst.port = 53;
        if (i % 7 == 3)
            sk_ip_parse("10.1.2.3", &ev.proxied_by);
        if (i % 2)
            strcpy(ev.family, "megad");
        char name[64];
        snprintf(name, sizeof(name), "b%u.Evil.example", i % 5);
        size_t l;
        dns_name_from_text(name, strlen(name), ev.u.dns.qname, &l);
        ev.u.dns.qname_len = (uint8_t)l;
        ev.u.dns.qtype = i % 2 ? 1 : 28;
        ev.u.dns.qclass = 1;
        ev.u.dns.id = (uint16_t)(i * 31);
        ev.u.dns.flags = SK_DNSF_RD;
        if (i % 4 == 1) {
            ev.u.dns.ecs_af = 4;
            ev.u.dns.ecs_source = 24;
            ev.u.dns.ecs_addr[0] = 203;
        }
        evlog_append(evlog_queue(log, 0), &ev);
    }
    evlog_close(log, NULL);
    char evdir[4300];
    snprintf(evdir, sizeof(evdir), "%s/events", data);
    DIR *d = opendir(evdir);
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        if (strstr(de->d_name, ".evlog"))
            snprintf(out, outlen, "%s/%s", evdir, de->d_name);
    closedir(d);
}

int main(int argc, char **argv)
{
    if (argc != 2)
        return 2;
    char tmp[] = "/tmp/sk-fuzz-corpus-XXXXXX";
    if (mkdtemp(tmp) == NULL)
        return 1;
    static const struct {
        int compress;
        unsigned n;
        const char *name;
    } segs[] = { { 0, 3, "plain-3" },
                 { 0, 40, "plain-40" },
                 { 1, 3, "zstd-3" },
                 { 1, 40, "zstd-40" },
                 { 1, 9000, "zstd-9000" } };
    for (size_t k = 0; k < sizeof(segs) / sizeof(segs[0]); k++) {
        char path[4400];
        one_segment(tmp, segs[k].compress, segs[k].n, path, sizeof(path));
        size_t n;
        uint8_t *p = slurp(path, &n);
        char name[128];
        snprintf(name, sizeof(name), "%s.evlog", segs[k].name);
        put(argv[1], name, p, n);
        if (segs[k].n == 9000)
            continue;
        /* Damaged copies: cut short, a flipped byte in the middle, garbage
         * in between. */
        snprintf(name, sizeof(name), "%s-torn.evlog", segs[k].name);
        put(argv[1], name, p, n - n / 7);
        p[n / 2] ^= 0x5a;
        snprintf(name, sizeof(name), "%s-flipped.evlog", segs[k].name);
        put(argv[1], name, p, n);
        p[n / 2] ^= 0x5a;
        uint8_t *g = malloc(n + 37);
        memcpy(g, p, n / 3);
        memset(g + n / 3, 0xa7, 37);
        memcpy(g + n / 3 + 37, p + n / 3, n - n / 3);
        snprintf(name, sizeof(name), "%s-garbage.evlog", segs[k].name);
        put(argv[1], name, g, n + 37);
        free(g);
        free(p);
    }
    put(argv[1], "empty.evlog", (const uint8_t *)"", 0);
    put(argv[1], "text.evlog", (const uint8_t *)"not an event log\n", 17);
    char cmd[200];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
    return system(cmd) == 0 ? 0 : 1;
}
#endif
