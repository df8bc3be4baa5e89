/* fuzz/fuzz_evlog_block.c -- the columnar block decoder on arbitrary bytes.
 *
 * Inside a compressed segment a block is covered by zstd's checksum, so
 * mutations through the file rarely reach the decoder; this target feeds
 * it blocks directly, as they would be after decompression. Every record
 * is read or stepped over (alternating by a bit of the input); decoding
 * must end and never read out of bounds (every span's bytes are read), and
 * what it returns must be well-formed.
 *
 * The seed corpus (evlog_block.in/) holds blocks of version 1 (DNS columns
 * and row records; *.blk) as the encoder of that time wrote them, and of
 * version 2 (v2-*.blk: DNS, and http, tls, raw events mixed with them,
 * values at their caps included) written by the encoder: to write the
 * version 2 seeds again,
 *   cc -DFUZZ_EVLOG_WRITE_CORPUS -D_GNU_SOURCE -Isrc tests/fuzz/fuzz_evlog_block.c \
 *      build/libsk.a -lzstd -lcrypto -linih -lsqlite3 -lpcre2-8 -lpthread -lm -o /tmp/gen &&
 *   /tmp/gen DIR */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evlog/block.h"
#include "evlog/record.h"
#include "fuzz_event_check.h"

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
        fuzz_check_event(&ev);
    }
    return 0;
}

#ifdef FUZZ_EVLOG_WRITE_CORPUS
#include "core/addr.h"
#include "dns/name.h"

static uint8_t store[SK_EV_CAPTURE_MAX];

/* Event i: DNS, or (kinds set, i % 4 == 3) http, tls, raw in turn, every
 * value at its cap in every fifth of those. */
static void make_event(struct sk_event *ev, unsigned i, int kinds)
{
    memset(ev, 0, sizeof(*ev));
    ev->ts_us = 1795867200000000ull + i * 5 - (i % 3);
    ev->kind = SK_EV_DNS;
    ev->proto = i % 2 ? SK_PROTO_UDP : SK_PROTO_TCP;
    sk_ip_parse(i % 3 ? "198.51.100.9" : "2001:db8::9", &ev->src);
    ev->src.port = (uint16_t)(4000 + i);
    sk_ip_parse("192.0.2.1", &ev->dst);
    ev->dst.port = 53;
    if (i % 5 == 2)
        sk_ip_parse("fd00::5", &ev->proxied_by);
    if (i % 2)
        strcpy(ev->list, "seized");
    if (!kinds || i % 4 != 3) {
        char nm[64];
        snprintf(nm, sizeof(nm), "x%u.c2.example", i % 9);
        size_t l;
        dns_name_from_text(nm, strlen(nm), ev->u.dns.qname, &l);
        ev->u.dns.qname_len = i % 11 == 10 ? 0 : (uint8_t)l;
        ev->u.dns.qtype = (uint16_t)(1 + i % 4);
        ev->u.dns.qclass = 1;
        ev->u.dns.id = (uint16_t)(i * 77);
        ev->u.dns.resp_len = (uint16_t)(40 + i % 50);
        if (i % 6 == 1) {
            ev->u.dns.ecs_af = i % 12 == 1 ? 6 : 4;
            ev->u.dns.ecs_source = i % 12 == 1 ? 48 : 20;
            ev->u.dns.ecs_addr[0] = 10;
        }
        return;
    }
    unsigned c = i / 4;
    int full = c % 5 == 4;
    for (size_t k = 0; k < sizeof(store); k++)
        store[k] = (uint8_t)(full ? k * 13 + c : "GET /x?id=7 \"\\\x01"[k % 15]);
    ev->kind = (uint8_t)(SK_EV_HTTP + c % 3);
    ev->proto = SK_PROTO_TCP;
    ev->dst.port = 80;
    strcpy(ev->family, "megad");
    if (full) {
        memset(ev->bot_id, 'b', SK_BOTID_MAX - 1);
        memset(ev->rule, 'r', SK_RULE_MAX - 1);
    } else {
        snprintf(ev->bot_id, sizeof(ev->bot_id), "id%u", c);
    }
    ev->flags = (uint16_t)(c * 41);
    ev->close_reason = (uint8_t)(c % 9);
    ev->bytes_in = full ? UINT64_MAX : c * 99u;
    ev->bytes_out = c;
    ev->duration_us = c * 1000u;
    uint32_t s = full ? SK_EV_SHORT_MAX : 8, u = full ? SK_EV_URL_MAX : 12 + c % 20;
    uint32_t cap = full ? SK_EV_CAPTURE_MAX : c % 40;
    if (ev->kind == SK_EV_HTTP) {
        struct sk_event_http *h = &ev->u.http;
        h->method = (struct sk_span){ store, 3 };
        h->host = (struct sk_span){ store + 1, s };
        h->url = (struct sk_span){ store + 2, u };
        h->user_agent = (struct sk_span){ store + 3, u };
        h->referer = (struct sk_span){ store + 4, c % 2 ? u : 0 };
        h->content_type = (struct sk_span){ store + 5, s };
        h->body = (struct sk_span){ store + 6, cap - (full ? 6 : 0) };
        h->body_len = cap;
        h->status = 404;
        h->version = 10;
        h->request = c % 4 + 1;
    } else if (ev->kind == SK_EV_TLS) {
        ev->u.tls.sni = (struct sk_span){ store, s };
        ev->u.tls.alpn = (struct sk_span){ store + 1, c % 2 ? 8 : 0 };
        ev->u.tls.version = 0x0303;
        strcpy(ev->u.tls.ja3, "e7d705a3286e19ea42f587b344ee6865");
    } else {
        ev->u.raw.data = (struct sk_span){ store, cap };
        ev->u.raw.first_byte_ms = c;
        ev->u.raw.sniffed = (uint8_t)(c % 6);
    }
}

static void put_block(const char *dir, const char *name, unsigned first, unsigned n, int kinds)
{
    struct evlog_block_enc e;
    evlog_block_enc_init(&e);
    for (unsigned i = first; i < first + n; i++) {
        struct sk_event ev;
        make_event(&ev, i, kinds);
        if (evlog_block_enc_add(&e, &ev) != 0)
            exit(1);
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
    put_block(argv[1], "v2-one.blk", 0, 1, 0);
    put_block(argv[1], "v2-dns-hundred.blk", 100, 100, 0);
    put_block(argv[1], "v2-mixed-twelve.blk", 0, 12, 1);
    put_block(argv[1], "v2-mixed-sixty.blk", 0, 60, 1);
    return 0;
}
#endif
