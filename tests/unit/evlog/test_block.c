/* Unit tests for the columnar block codec of closed segments: every field
 * of every kind round-trips (DNS alone and mixed with http, tls, raw), the
 * shape table, skipping, blocks of version 1, and damaged blocks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "evlog/block.h"
#include "evlog/record.h"
#include "evtest.h"

static struct evt_store store;

/* Event i: DNS only, or the mix of every kind. */
static void make(struct sk_event *ev, unsigned i, int mixed)
{
    if (mixed)
        evt_make_mixed(ev, i, &store);
    else
        evt_make(ev, i);
}

/* Encode events first..first+n (DNS, or mixed) into a serialised block
 * (malloc'ed). */
static uint8_t *encode_kinds(unsigned first, unsigned n, int mixed, size_t *len,
                             struct evlog_block_enc *e)
{
    evlog_block_enc_reset(e);
    for (unsigned i = first; i < first + n; i++) {
        struct sk_event ev;
        make(&ev, i, mixed);
        assert_int_equal(evlog_block_enc_add(e, &ev), 0);
    }
    *len = evlog_block_enc_size(e);
    uint8_t *raw = malloc(*len);
    assert_int_equal(evlog_block_enc_finish(e, raw, *len), (int)*len);
    assert_int_equal(evlog_block_enc_finish(e, raw, *len - 1), SK_ENOSPACE);
    return raw;
}

static uint8_t *encode(unsigned first, unsigned n, size_t *len, struct evlog_block_enc *e)
{
    return encode_kinds(first, n, 0, len, e);
}

static void test_roundtrip(void **state)
{
    (void)state;
    struct evlog_block_enc e;
    evlog_block_enc_init(&e);
    struct evlog_block_dec d;
    memset(&d, 0, sizeof(d));
    /* Blocks of different sizes, so shapes and streams vary. */
    static const unsigned sizes[] = { 1, 2, 37, 1000, 5000 };
    unsigned first = 0;
    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        size_t len;
        uint8_t *raw = encode(first, sizes[k], &len, &e);
        assert_int_equal(e.nrec, sizes[k]);
        assert_int_equal(e.min_ts, EVT_BASE_US + first);
        assert_int_equal(e.max_ts, EVT_BASE_US + first + sizes[k] - 1);
        assert_int_equal(e.kinds, 1u << SK_EV_DNS);
        assert_int_equal(evlog_block_dec_init(&d, raw, len), 0);
        assert_int_equal(d.nrec, sizes[k]);
        assert_true(d.nshapes >= 1 && d.nshapes <= sizes[k]);
        struct sk_event got, want;
        memset(&got, 0x5a, sizeof(got)); /* the decoder must set every field */
        for (unsigned i = first; i < first + sizes[k]; i++) {
            uint8_t kind;
            uint64_t ts;
            assert_int_equal(evlog_block_dec_head(&d, &kind, &ts), 1);
            assert_int_equal(kind, SK_EV_DNS);
            assert_int_equal(ts, EVT_BASE_US + i);
            assert_int_equal(evlog_block_dec_body(&d, &got), 0);
            evt_make(&want, i);
            evt_assert_equal(&got, &want);
        }
        uint8_t kind;
        uint64_t ts;
        assert_int_equal(evlog_block_dec_head(&d, &kind, &ts), 0);
        free(raw);
        first += sizes[k];
    }
    evlog_block_dec_free(&d);
    evlog_block_enc_free(&e);
}

/* Timestamps that go back (workers interleave) and jump far. */
static void test_time_deltas(void **state)
{
    (void)state;
    static const uint64_t ts[] = { 5, 1, 1, 1795867200000000ull, 3, UINT64_MAX, 0, 1ull << 63 };
    struct evlog_block_enc e;
    evlog_block_enc_init(&e);
    for (size_t i = 0; i < sizeof(ts) / sizeof(ts[0]); i++) {
        struct sk_event ev;
        evt_make(&ev, (unsigned)i);
        ev.ts_us = ts[i];
        assert_int_equal(evlog_block_enc_add(&e, &ev), 0);
    }
    size_t len = evlog_block_enc_size(&e);
    uint8_t *raw = malloc(len);
    evlog_block_enc_finish(&e, raw, len);
    struct evlog_block_dec d;
    memset(&d, 0, sizeof(d));
    assert_int_equal(evlog_block_dec_init(&d, raw, len), 0);
    for (size_t i = 0; i < sizeof(ts) / sizeof(ts[0]); i++) {
        uint8_t kind;
        uint64_t t;
        assert_int_equal(evlog_block_dec_head(&d, &kind, &t), 1);
        assert_int_equal(t, ts[i]);
        assert_int_equal(evlog_block_dec_skip(&d), 0);
    }
    assert_int_equal(e.min_ts, 0);
    assert_int_equal(e.max_ts, UINT64_MAX);
    free(raw);
    evlog_block_dec_free(&d);
    evlog_block_enc_free(&e);
}

/* Stepping over records keeps every stream in step: read every third. */
static void test_skip(void **state)
{
    (void)state;
    struct evlog_block_enc e;
    evlog_block_enc_init(&e);
    size_t len;
    uint8_t *raw = encode(0, 3000, &len, &e);
    struct evlog_block_dec d;
    memset(&d, 0, sizeof(d));
    assert_int_equal(evlog_block_dec_init(&d, raw, len), 0);
    for (unsigned i = 0; i < 3000; i++) {
        uint8_t kind;
        uint64_t ts;
        assert_int_equal(evlog_block_dec_head(&d, &kind, &ts), 1);
        if (i % 3 == 2) {
            struct sk_event got, want;
            assert_int_equal(evlog_block_dec_body(&d, &got), 0);
            evt_make(&want, i);
            evt_assert_equal(&got, &want);
        } else {
            assert_int_equal(evlog_block_dec_skip(&d), 0);
        }
    }
    uint8_t kind;
    uint64_t ts;
    assert_int_equal(evlog_block_dec_head(&d, &kind, &ts), 0);
    free(raw);
    evlog_block_dec_free(&d);
    evlog_block_enc_free(&e);
}

/* More than 128 shapes: indexes take two bytes. */
static void test_many_shapes(void **state)
{
    (void)state;
    struct evlog_block_enc e;
    evlog_block_enc_init(&e);
    for (unsigned i = 0; i < 3000; i++) {
        struct sk_event ev;
        evt_make(&ev, 5);
        ev.u.dns.qtype = (uint16_t)i; /* a new shape each time */
        ev.ts_us += i;
        assert_int_equal(evlog_block_enc_add(&e, &ev), 0);
    }
    assert_int_equal(e.nshapes, 3000);
    size_t len = evlog_block_enc_size(&e);
    uint8_t *raw = malloc(len);
    evlog_block_enc_finish(&e, raw, len);
    struct evlog_block_dec d;
    memset(&d, 0, sizeof(d));
    assert_int_equal(evlog_block_dec_init(&d, raw, len), 0);
    for (unsigned i = 0; i < 3000; i++) {
        uint8_t kind;
        uint64_t ts;
        struct sk_event got;
        assert_int_equal(evlog_block_dec_head(&d, &kind, &ts), 1);
        assert_int_equal(evlog_block_dec_body(&d, &got), 0);
        assert_int_equal(got.u.dns.qtype, i);
    }
    free(raw);
    evlog_block_dec_free(&d);
    evlog_block_enc_free(&e);
}

/* Blocks of every kind mixed: every field of every record round-trips,
 * read or stepped over, and the kinds are in the descriptor's mask. */
static void test_mixed_kinds(void **state)
{
    (void)state;
    struct evlog_block_enc e;
    evlog_block_enc_init(&e);
    struct evlog_block_dec d;
    memset(&d, 0, sizeof(d));
    static const unsigned sizes[] = { 1, 3, 4, 90, 700, 3000 };
    unsigned first = 0;
    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        size_t len;
        uint8_t *raw = encode_kinds(first, sizes[k], 1, &len, &e);
        uint32_t want_kinds = 0;
        for (unsigned i = first; i < first + sizes[k]; i++) {
            struct sk_event ev;
            make(&ev, i, 1);
            want_kinds |= 1u << ev.kind;
        }
        assert_int_equal(e.kinds, want_kinds);
        for (int pass = 0; pass < 2; pass++) {
            assert_int_equal(evlog_block_dec_init(&d, raw, len), 0);
            assert_int_equal(d.nrec, sizes[k]);
            for (unsigned i = first; i < first + sizes[k]; i++) {
                struct sk_event got, want;
                uint8_t kind;
                uint64_t ts;
                memset(&got, 0x5a, sizeof(got));
                assert_int_equal(evlog_block_dec_head(&d, &kind, &ts), 1);
                make(&want, i, 1);
                assert_int_equal(kind, want.kind);
                assert_int_equal(ts, want.ts_us);
                /* First pass: read all; second: step over every other. */
                if (pass == 1 && i % 2) {
                    assert_int_equal(evlog_block_dec_skip(&d), 0);
                    continue;
                }
                assert_int_equal(evlog_block_dec_body(&d, &got), 0);
                evt_assert_equal(&got, &want);
            }
            uint8_t kind;
            uint64_t ts;
            assert_int_equal(evlog_block_dec_head(&d, &kind, &ts), 0);
        }
        free(raw);
        first += sizes[k];
    }
    assert_true(first / 3 > 29 * 3); /* the mix held events at every cap */
    evlog_block_dec_free(&d);
    evlog_block_enc_free(&e);
}

/* A DNS event decoded into a struct that held a connection event keeps
 * none of its connection fields. */
static void test_dns_clears_conn_fields(void **state)
{
    (void)state;
    struct evlog_block_enc e;
    evlog_block_enc_init(&e);
    struct sk_event ev;
    evt_make_conn(&ev, 1, &store);
    assert_int_equal(evlog_block_enc_add(&e, &ev), 0);
    evt_make(&ev, 2);
    assert_int_equal(evlog_block_enc_add(&e, &ev), 0);
    size_t len = evlog_block_enc_size(&e);
    uint8_t *raw = malloc(len);
    evlog_block_enc_finish(&e, raw, len);
    struct evlog_block_dec d;
    memset(&d, 0, sizeof(d));
    assert_int_equal(evlog_block_dec_init(&d, raw, len), 0);
    struct sk_event got;
    uint8_t kind;
    uint64_t ts;
    assert_int_equal(evlog_block_dec_head(&d, &kind, &ts), 1);
    assert_int_equal(evlog_block_dec_body(&d, &got), 0);
    assert_string_equal(got.bot_id, "BOT-9E3779B1");
    assert_int_equal(got.bytes_in, 1017);
    assert_int_equal(evlog_block_dec_head(&d, &kind, &ts), 1);
    assert_int_equal(evlog_block_dec_body(&d, &got), 0);
    evt_assert_equal(&got, &ev);
    assert_string_equal(got.bot_id, "");
    assert_string_equal(got.rule, "");
    assert_int_equal(got.flags | got.close_reason, 0);
    assert_int_equal(got.bytes_in | got.bytes_out | got.duration_us, 0);
    free(raw);
    evlog_block_dec_free(&d);
    evlog_block_enc_free(&e);
}

/* A version 2 block of DNS events only, rewritten as version 1 (10
 * streams: the four connection streams are empty and simply not there). */
static uint8_t *to_v1(const uint8_t *raw, size_t len, size_t *out_len)
{
    for (int k = 10; k < 14; k++)
        assert_int_equal(evlog_rd32(raw + 8 + 4 * k), 0);
    *out_len = len - 16;
    uint8_t *v1 = malloc(*out_len);
    memcpy(v1, raw, 8 + 4 * 10);
    memcpy(v1 + 48, raw + 64, len - 64);
    v1[0] = 1;
    v1[1] = 10;
    return v1;
}

/* Blocks of version 1 (DNS columns, other kinds as row payloads) are
 * still read: segments compressed before schema 2. */
static void test_version1(void **state)
{
    (void)state;
    struct evlog_block_enc e;
    evlog_block_enc_init(&e);
    size_t len, l1;
    uint8_t *raw = encode(0, 500, &len, &e);
    uint8_t *v1 = to_v1(raw, len, &l1);
    struct evlog_block_dec d;
    memset(&d, 0, sizeof(d));
    assert_int_equal(evlog_block_dec_init(&d, v1, l1), 0);
    for (unsigned i = 0; i < 500; i++) {
        uint8_t kind;
        uint64_t ts;
        struct sk_event got, want;
        assert_int_equal(evlog_block_dec_head(&d, &kind, &ts), 1);
        if (i % 4 == 3) {
            assert_int_equal(evlog_block_dec_skip(&d), 0);
            continue;
        }
        assert_int_equal(evlog_block_dec_body(&d, &got), 0);
        evt_make(&want, i);
        evt_assert_equal(&got, &want);
    }
    uint8_t kind;
    uint64_t ts;
    assert_int_equal(evlog_block_dec_head(&d, &kind, &ts), 0);
    /* A version 1 block with 14 streams, or version 2 with 10, is not one. */
    v1[1] = 14;
    assert_int_equal(evlog_block_dec_init(&d, v1, l1), SK_ECORRUPT);
    raw[1] = 10;
    assert_int_equal(evlog_block_dec_init(&d, raw, len), SK_ECORRUPT);
    free(raw);
    free(v1);

    /* Version 1 by hand: a DNS record and a row record (an HTTP event as
     * its record payload), in the layout version 1 writers used. */
    struct sk_event dns, http;
    evt_make(&dns, 7);
    evlog_block_enc_reset(&e);
    assert_int_equal(evlog_block_enc_add(&e, &dns), 0);
    len = evlog_block_enc_size(&e);
    raw = malloc(len);
    evlog_block_enc_finish(&e, raw, len);
    v1 = to_v1(raw, len, &l1);
    evt_make_conn(&http, 3, &store);
    http.ts_us = dns.ts_us + 5;
    uint8_t rec[EVLOG_FRAME_LEN + EVLOG_PAYLOAD_MAX];
    int rl = evlog_record_encode(&http, rec, sizeof(rec));
    assert_true(rl > 0);
    size_t plen = (size_t)rl - EVLOG_FRAME_LEN;
    /* Streams of v1: TS, SHAPE, SHAPES, ... ROW. Append to TS (+5, one
     * byte 10), SHAPE (index 1), SHAPES (count 2, then kind), ROW. */
    uint32_t sl[10];
    const uint8_t *sp[10];
    const uint8_t *p = v1 + 48;
    for (int k = 0; k < 10; k++) {
        sl[k] = evlog_rd32(v1 + 8 + 4 * k);
        sp[k] = p;
        p += sl[k];
    }
    uint8_t *h = malloc(l1 + 16 + plen);
    uint8_t *o = h + 48;
    memcpy(h, v1, 8);
    evlog_wr32(h + 4, 2);
    for (int k = 0; k < 10; k++) {
        uint8_t *start = o;
        if (k == 2) {
            assert_int_equal(sp[2][0], 1);
            *o++ = 2;
            memcpy(o, sp[2] + 1, sl[2] - 1);
            o += sl[2] - 1;
            *o++ = SK_EV_HTTP;
        } else {
            memcpy(o, sp[k], sl[k]);
            o += sl[k];
        }
        if (k == 0)
            *o++ = 10; /* zigzag(+5) */
        if (k == 1)
            *o++ = 1;
        if (k == 9) {
            assert_true(plen < 16384);
            *o++ = (uint8_t)(0x80 | (plen & 0x7f));
            *o++ = (uint8_t)(plen >> 7);
            memcpy(o, rec + EVLOG_FRAME_LEN, plen);
            o += plen;
        }
        evlog_wr32(h + 8 + 4 * k, (uint32_t)(o - start));
    }
    size_t hl = (size_t)(o - h);
    assert_int_equal(evlog_block_dec_init(&d, h, hl), 0);
    struct sk_event got;
    assert_int_equal(evlog_block_dec_head(&d, &kind, &ts), 1);
    assert_int_equal(evlog_block_dec_body(&d, &got), 0);
    evt_assert_equal(&got, &dns);
    assert_int_equal(evlog_block_dec_head(&d, &kind, &ts), 1);
    assert_int_equal(kind, SK_EV_HTTP);
    assert_int_equal(evlog_block_dec_body(&d, &got), 0);
    evt_assert_equal(&got, &http);
    assert_int_equal(evlog_block_dec_head(&d, &kind, &ts), 0);
    /* Stepped over, the row record keeps the streams in step too. */
    assert_int_equal(evlog_block_dec_init(&d, h, hl), 0);
    assert_int_equal(evlog_block_dec_head(&d, &kind, &ts), 1);
    assert_int_equal(evlog_block_dec_skip(&d), 0);
    assert_int_equal(evlog_block_dec_head(&d, &kind, &ts), 1);
    assert_int_equal(evlog_block_dec_skip(&d), 0);
    assert_int_equal(evlog_block_dec_head(&d, &kind, &ts), 0);
    /* A version 2 block may not have a row kind: its shape is refused. */
    h[0] = 2;
    assert_int_equal(evlog_block_dec_init(&d, h, hl), SK_ECORRUPT);
    free(h);
    free(raw);
    free(v1);
    evlog_block_dec_free(&d);
    evlog_block_enc_free(&e);
}

/* What the encoder refuses: fields out of range, values over their caps,
 * unknown kinds. */
static void test_enc_rejects(void **state)
{
    (void)state;
    struct evlog_block_enc e;
    evlog_block_enc_init(&e);
    struct sk_event ev;
    evt_make(&ev, 3);
    ev.src.af = 5;
    assert_int_equal(evlog_block_enc_add(&e, &ev), SK_EINVAL);
    evt_make(&ev, 4);
    ev.u.dns.ecs_source = 33;
    assert_int_equal(evlog_block_enc_add(&e, &ev), SK_EINVAL);
    evt_make(&ev, 4);
    ev.kind = 9;
    assert_int_equal(evlog_block_enc_add(&e, &ev), SK_EINVAL);
    evt_make_conn(&ev, 0, &store);
    ev.u.http.url.len = SK_EV_URL_MAX + 1;
    assert_int_equal(evlog_block_enc_add(&e, &ev), SK_EINVAL);
    evt_make_conn(&ev, 1, &store);
    ev.proxied_by.af = 2;
    assert_int_equal(evlog_block_enc_add(&e, &ev), SK_EINVAL);
    evt_make_conn(&ev, 2, &store);
    ev.u.raw.data.len = SK_EV_CAPTURE_MAX + 1;
    assert_int_equal(evlog_block_enc_add(&e, &ev), SK_EINVAL);
    assert_int_equal(e.nrec, 0);
    /* A span with no bytes is stored empty. */
    evt_make_conn(&ev, 2, &store);
    ev.u.raw.data.p = NULL;
    ev.u.raw.data.len = 50;
    assert_int_equal(evlog_block_enc_add(&e, &ev), 0);
    size_t len = evlog_block_enc_size(&e);
    uint8_t *raw = malloc(len);
    evlog_block_enc_finish(&e, raw, len);
    struct evlog_block_dec d;
    memset(&d, 0, sizeof(d));
    assert_int_equal(evlog_block_dec_init(&d, raw, len), 0);
    uint8_t kind;
    uint64_t ts;
    struct sk_event got;
    assert_int_equal(evlog_block_dec_head(&d, &kind, &ts), 1);
    assert_int_equal(evlog_block_dec_body(&d, &got), 0);
    assert_int_equal(got.u.raw.data.len, 0);
    free(raw);
    evlog_block_dec_free(&d);
    evlog_block_enc_free(&e);
}

/* Decode a block to the end; returns records read, or -1 if it reported
 * corruption. Never reads out of bounds (ASan checks that). */
static int decode_all(const uint8_t *raw, size_t len)
{
    struct evlog_block_dec d;
    memset(&d, 0, sizeof(d));
    int n = 0;
    if (evlog_block_dec_init(&d, raw, len) != 0) {
        evlog_block_dec_free(&d);
        return -1;
    }
    for (;;) {
        uint8_t kind;
        uint64_t ts;
        struct sk_event ev;
        int rc = evlog_block_dec_head(&d, &kind, &ts);
        if (rc == 1)
            rc = (n % 2 ? evlog_block_dec_skip(&d) : evlog_block_dec_body(&d, &ev)) == 0 ? 1 : -1;
        if (rc <= 0) {
            evlog_block_dec_free(&d);
            return rc < 0 ? -1 : n;
        }
        n++;
    }
}

static void damage(int mixed)
{
    struct evlog_block_enc e;
    evlog_block_enc_init(&e);
    size_t len;
    uint8_t *raw = encode_kinds(mixed ? 81 : 100, 400, mixed, &len, &e);
    assert_int_equal(decode_all(raw, len), 400);
    /* Every truncation is refused at init (the lengths no longer add up). */
    for (size_t cut = 0; cut < len; cut += mixed ? 61 : 7) {
        uint8_t *c = malloc(cut ? cut : 1);
        memcpy(c, raw, cut);
        assert_int_equal(decode_all(c, cut), -1);
        free(c);
    }
    /* A wrong version or stream count is refused. */
    raw[0] = 3;
    assert_int_equal(decode_all(raw, len), -1);
    raw[0] = 1; /* version 1 has 10 streams */
    assert_int_equal(decode_all(raw, len), -1);
    raw[0] = EVLOG_BLOCK_VERSION;
    raw[1] = 9;
    assert_int_equal(decode_all(raw, len), -1);
    raw[1] = EVLOG_BLOCK_STREAMS;
    /* A record count larger than the block holds is refused. */
    evlog_wr32(raw + 4, 401);
    assert_int_equal(decode_all(raw, len), -1);
    evlog_wr32(raw + 4, 399);
    assert_int_equal(decode_all(raw, len), -1);
    evlog_wr32(raw + 4, 400);
    /* Flipped bytes anywhere: decoded or refused, never out of bounds. */
    uint64_t s = 7;
    for (int k = 0; k < 3000; k++) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        uint8_t *c = malloc(len);
        memcpy(c, raw, len);
        c[s % len] ^= (uint8_t)(1 + (s >> 32) % 255);
        int n = decode_all(c, len);
        assert_true(n == -1 || n == 400);
        free(c);
    }
    free(raw);
    evlog_block_enc_free(&e);
}

static void test_damage(void **state)
{
    (void)state;
    damage(0);
}

static void test_damage_mixed(void **state)
{
    (void)state;
    damage(1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),   cmocka_unit_test(test_time_deltas),
        cmocka_unit_test(test_skip),        cmocka_unit_test(test_many_shapes),
        cmocka_unit_test(test_mixed_kinds), cmocka_unit_test(test_dns_clears_conn_fields),
        cmocka_unit_test(test_version1),    cmocka_unit_test(test_enc_rejects),
        cmocka_unit_test(test_damage),      cmocka_unit_test(test_damage_mixed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
