/* fuzz/fuzz_evlog_block.c -- the columnar block decoder on arbitrary bytes.
 *
 * Inside a compressed segment a block is covered by zstd's checksum, so
 * mutations through the file rarely reach the decoder; this target feeds
 * it blocks directly, as they would be after decompression. Every record
 * is read or stepped over (alternating by a bit of the input); decoding
 * must end and never read out of bounds, and what it returns must be
 * well-formed.
 *
 * The seed corpus (evlog_block.in/) holds blocks written by the encoder:
 * to write it again,
 *   cc -DFUZZ_EVLOG_WRITE_CORPUS -D_GNU_SOURCE -Isrc tests/fuzz/fuzz_evlog_block.c \
 *      build/libsk.a -lzstd -lcrypto -linih -lpthread -lm -o /tmp/gen && /tmp/gen DIR */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evlog/block.h"
#include "evlog/record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct evlog_block_dec d;
    if (evlog_block_dec_init(&d, data, size) != 0)
        return 0;
    unsigned mode = size ? data[size - 1] : 0;
    for (unsigned i = 0;; i++) {
        uint8_t kind;
        uint64_t ts;
        int rc = evlog_block_dec_head(&d, &kind, &ts);
        if (rc <= 0)
            break;
        if (i > d.nrec)
            abort();
        struct sk_event ev;
        if ((mode >> (i % 8)) & 1) {
            if (evlog_block_dec_skip(&d) != 0)
                break;
            continue;
        }
        if (evlog_block_dec_body(&d, &ev) != 0)
            break;
        if (ev.kind != kind || ev.ts_us != ts)
            abort();
        if (memchr(ev.family, 0, sizeof(ev.family)) == NULL ||
            memchr(ev.list, 0, sizeof(ev.list)) == NULL)
            abort();
        const struct sk_event_dns *x = &ev.u.dns;
        if (x->ecs_af && (x->ecs_source + 7u) / 8u > (x->ecs_af == 4 ? 4u : 16u))
            abort();
    }
    return 0;
}

#ifdef FUZZ_EVLOG_WRITE_CORPUS
#include "core/addr.h"
#include "dns/name.h"

static void put_block(const char *dir, const char *name, unsigned first, unsigned n, int kinds)
{
    struct evlog_block_enc e;
    evlog_block_enc_init(&e);
    for (unsigned i = first; i < first + n; i++) {
        struct sk_event ev;
        memset(&ev, 0, sizeof(ev));
        ev.ts_us = 1795867200000000ull + i * 5 - (i % 3);
        ev.kind = SK_EV_DNS;
        ev.proto = i % 2 ? SK_PROTO_UDP : SK_PROTO_TCP;
        sk_ip_parse(i % 3 ? "198.51.100.9" : "2001:db8::9", &ev.src);
        ev.src.port = (uint16_t)(4000 + i);
        sk_ip_parse("192.0.2.1", &ev.dst);
        ev.dst.port = 53;
        if (i % 5 == 2)
            sk_ip_parse("fd00::5", &ev.proxied_by);
        if (i % 2)
            strcpy(ev.list, "seized");
        char nm[64];
        snprintf(nm, sizeof(nm), "x%u.c2.example", i % 9);
        size_t l;
        dns_name_from_text(nm, strlen(nm), ev.u.dns.qname, &l);
        ev.u.dns.qname_len = i % 11 == 10 ? 0 : (uint8_t)l;
        ev.u.dns.qtype = (uint16_t)(1 + i % 4);
        ev.u.dns.qclass = 1;
        ev.u.dns.id = (uint16_t)(i * 77);
        ev.u.dns.resp_len = (uint16_t)(40 + i % 50);
        if (i % 6 == 1) {
            ev.u.dns.ecs_af = i % 12 == 1 ? 6 : 4;
            ev.u.dns.ecs_source = i % 12 == 1 ? 48 : 20;
            ev.u.dns.ecs_addr[0] = 10;
        }
        uint8_t payload[16] = { SK_EV_HTTP };
        if (kinds && i % 4 == 3) {
            ev.kind = SK_EV_HTTP;
            evlog_block_enc_add(&e, &ev, payload, sizeof(payload));
        } else {
            evlog_block_enc_add(&e, &ev, NULL, 0);
        }
    }
    size_t len = evlog_block_enc_size(&e);
    uint8_t *raw = malloc(len);
    evlog_block_enc_finish(&e, raw, len);
    char path[4200];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(raw, 1, len, f) != len)
        exit(1);
    fclose(f);
    free(raw);
    evlog_block_enc_free(&e);
}

int main(int argc, char **argv)
{
    if (argc != 2)
        return 2;
    put_block(argv[1], "one.blk", 0, 1, 0);
    put_block(argv[1], "twelve.blk", 3, 12, 0);
    put_block(argv[1], "mixed-kinds.blk", 0, 20, 1);
    put_block(argv[1], "hundred.blk", 100, 100, 0);
    return 0;
}
#endif
