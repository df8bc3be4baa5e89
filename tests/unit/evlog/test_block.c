/* Unit tests for the columnar block codec of closed segments: every field
 * round-trips, the shape table, skipping, and damaged blocks. */
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

/* Encode events first..first+n into a serialised block (malloc'ed). */
static uint8_t *encode(unsigned first, unsigned n, size_t *len, struct evlog_block_enc *e)
{
    evlog_block_enc_reset(e);
    for (unsigned i = first; i < first + n; i++) {
        struct sk_event ev;
        evt_make(&ev, i);
        uint8_t rec[EVLOG_FRAME_LEN + EVLOG_PAYLOAD_MAX];
        int rl = evlog_record_encode(&ev, rec, sizeof(rec));
        assert_true(rl > 0);
        assert_int_equal(
            evlog_block_enc_add(e, &ev, rec + EVLOG_FRAME_LEN, (size_t)rl - EVLOG_FRAME_LEN), 0);
    }
    *len = evlog_block_enc_size(e);
    uint8_t *raw = malloc(*len);
    assert_int_equal(evlog_block_enc_finish(e, raw, *len), (int)*len);
    assert_int_equal(evlog_block_enc_finish(e, raw, *len - 1), SK_ENOSPACE);
    return raw;
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
        assert_int_equal(evlog_block_enc_add(&e, &ev, NULL, 0), 0);
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
        assert_int_equal(evlog_block_enc_add(&e, &ev, NULL, 0), 0);
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

/* Other kinds go in as their row payload and come out through the row
 * decoder (which, in schema 1, knows DNS only). */
static void test_row_kinds(void **state)
{
    (void)state;
    struct evlog_block_enc e;
    evlog_block_enc_init(&e);
    struct sk_event ev;
    evt_make(&ev, 1);
    ev.kind = SK_EV_HTTP;
    const uint8_t payload[] = { SK_EV_HTTP, 6, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0, 0 };
    assert_int_equal(evlog_block_enc_add(&e, &ev, payload, sizeof(payload)), 0);
    evt_make(&ev, 2);
    assert_int_equal(evlog_block_enc_add(&e, &ev, NULL, 0), 0);
    assert_int_equal(e.kinds, (1u << SK_EV_HTTP) | (1u << SK_EV_DNS));
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
    assert_int_equal(kind, SK_EV_HTTP);
    assert_int_equal(evlog_block_dec_skip(&d), 0);
    assert_int_equal(evlog_block_dec_head(&d, &kind, &ts), 1);
    assert_int_equal(kind, SK_EV_DNS);
    assert_int_equal(evlog_block_dec_body(&d, &got), 0);
    evt_assert_equal(&got, &ev);
    /* Read instead of skipped, the HTTP record does not decode in schema 1. */
    assert_int_equal(evlog_block_dec_init(&d, raw, len), 0);
    assert_int_equal(evlog_block_dec_head(&d, &kind, &ts), 1);
    assert_int_equal(evlog_block_dec_body(&d, &got), SK_ECORRUPT);
    free(raw);
    /* Fields out of range are refused by the encoder. */
    evt_make(&ev, 3);
    ev.src.af = 5;
    assert_int_equal(evlog_block_enc_add(&e, &ev, NULL, 0), SK_EINVAL);
    evt_make(&ev, 4);
    ev.u.dns.ecs_source = 33;
    assert_int_equal(evlog_block_enc_add(&e, &ev, NULL, 0), SK_EINVAL);
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

static void test_damage(void **state)
{
    (void)state;
    struct evlog_block_enc e;
    evlog_block_enc_init(&e);
    size_t len;
    uint8_t *raw = encode(100, 400, &len, &e);
    assert_int_equal(decode_all(raw, len), 400);
    /* Every truncation is refused at init (the lengths no longer add up). */
    for (size_t cut = 0; cut < len; cut += 7) {
        uint8_t *c = malloc(cut ? cut : 1);
        memcpy(c, raw, cut);
        assert_int_equal(decode_all(c, cut), -1);
        free(c);
    }
    /* A wrong version or stream count is refused. */
    raw[0] = 2;
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip), cmocka_unit_test(test_time_deltas),
        cmocka_unit_test(test_skip),      cmocka_unit_test(test_many_shapes),
        cmocka_unit_test(test_row_kinds), cmocka_unit_test(test_damage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
