/* Unit tests for the records of schema 2: every field of every kind
 * round-trips, every cut of a payload is refused, the encoder never
 * writes past its buffer and writes the same record whatever room it has,
 * values over their caps are cut and flagged, strings stop at their NUL,
 * schema 1 files still decode; and the text forms of connection events
 * (JSON and CSV) field by field, with escaping and base64. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "core/crc32c.h"
#include "core/err.h"
#include "evlog/export.h"
#include "evlog/json.h"
#include "evlog/record.h"
#include "evtest.h"

static struct evt_store store;
static uint8_t buf[EVLOG_FRAME_LEN + EVLOG_PAYLOAD_MAX + 64];

/* Encode ev into buf; returns the payload length. */
static size_t encode(const struct sk_event *ev)
{
    int n = evlog_record_encode(ev, buf, sizeof(buf));
    assert_true(n > EVLOG_FRAME_LEN);
    uint32_t plen = evlog_rd32(buf);
    assert_int_equal(plen + EVLOG_FRAME_LEN, n);
    assert_true(plen <= EVLOG_PAYLOAD_MAX);
    assert_int_equal(evlog_rd32(buf + 4), crc32c(0, buf + EVLOG_FRAME_LEN, plen));
    return plen;
}

static void test_roundtrip_every_kind(void **state)
{
    (void)state;
    unsigned seen[5] = { 0 }, full = 0;
    for (unsigned i = 0; i < 300; i++) {
        struct sk_event ev, back;
        evt_make_conn(&ev, i, &store);
        size_t plen = encode(&ev);
        memset(&back, 0xa5, sizeof(back));
        assert_int_equal(evlog_record_decode(buf + EVLOG_FRAME_LEN, plen, &back), 0);
        evt_assert_equal(&ev, &back);
        /* The spans point into the payload. */
        if (ev.kind == SK_EV_HTTP && back.u.http.url.len)
            assert_true(back.u.http.url.p > buf && back.u.http.url.p < buf + plen + 8);
        uint8_t kind;
        uint64_t ts;
        assert_int_equal(evlog_record_peek(buf + EVLOG_FRAME_LEN, plen, &kind, &ts), 0);
        assert_int_equal(kind, ev.kind);
        assert_int_equal(ts, ev.ts_us);
        seen[ev.kind]++;
        full += i % 29 == 28;
        /* The same struct, decoded over by a DNS event, clears its
         * connection fields (and back again). */
        struct sk_event dns;
        evt_make(&dns, i);
        size_t dl = encode(&dns);
        assert_int_equal(evlog_record_decode(buf + EVLOG_FRAME_LEN, dl, &back), 0);
        evt_assert_equal(&dns, &back);
    }
    assert_int_equal(seen[SK_EV_HTTP], 100);
    assert_int_equal(seen[SK_EV_TLS], 100);
    assert_int_equal(seen[SK_EV_RAW], 100);
    assert_int_equal(full, 10);
}

/* Every cut of the payload, at every length, is refused, never misread;
 * so are trailing bytes. */
static void test_truncation(void **state)
{
    (void)state;
    static const unsigned which[] = { 0, 1, 2, 3, 4, 5, 28, 57, 86 };
    static uint8_t copy[EVLOG_PAYLOAD_MAX + 1];
    for (size_t k = 0; k < sizeof(which) / sizeof(which[0]); k++) {
        struct sk_event ev, back;
        evt_make_conn(&ev, which[k], &store);
        size_t plen = encode(&ev);
        for (size_t cut = 0; cut < plen; cut++) {
            /* A copy of exactly cut bytes, so ASan sees any read past it. */
            uint8_t *c = malloc(cut ? cut : 1);
            memcpy(c, buf + EVLOG_FRAME_LEN, cut);
            assert_int_equal(evlog_record_decode(c, cut, &back), SK_ECORRUPT);
            free(c);
        }
        memcpy(copy, buf + EVLOG_FRAME_LEN, plen);
        copy[plen] = 0;
        assert_int_equal(evlog_record_decode(copy, plen + 1, &back), SK_ECORRUPT);
    }
}

/* The encoder returns SK_ENOSPACE for every buffer too small, and writes
 * nothing past the one it was given. */
static void test_encode_nospace(void **state)
{
    (void)state;
    static const unsigned which[] = { 1, 2, 3, 28 };
    for (size_t k = 0; k < sizeof(which) / sizeof(which[0]); k++) {
        struct sk_event ev;
        evt_make_conn(&ev, which[k], &store);
        size_t need = encode(&ev) + EVLOG_FRAME_LEN;
        size_t step = need > 4000 ? 97 : 1;
        for (size_t cap = 0; cap < need; cap += step) {
            uint8_t *out = malloc(cap + 16);
            memset(out, 0xcc, cap + 16);
            assert_int_equal(evlog_record_encode(&ev, out, cap), SK_ENOSPACE);
            for (size_t j = cap; j < cap + 16; j++)
                assert_int_equal(out[j], 0xcc);
            free(out);
        }
        uint8_t *out = malloc(need);
        assert_int_equal(evlog_record_encode(&ev, out, need), (int)need);
        free(out);
    }
    struct sk_event ev;
    evt_make(&ev, 1);
    ev.kind = 0;
    assert_int_equal(evlog_record_encode(&ev, buf, sizeof(buf)), SK_EINVAL);
    ev.kind = 5;
    assert_int_equal(evlog_record_encode(&ev, buf, sizeof(buf)), SK_EINVAL);
}

/* The largest event fits; values over their caps are cut to them and
 * flagged; a span without bytes is stored empty. */
static void test_caps(void **state)
{
    (void)state;
    struct sk_event ev, back;
    evt_make_conn(&ev, 57, &store); /* http, every value at its cap */
    assert_int_equal(ev.kind, SK_EV_HTTP);
    size_t plen = encode(&ev);
    assert_int_equal(plen, 29784); /* 29,826 with IPv6 addresses and a PROXY sender */
    assert_true(plen <= EVLOG_PAYLOAD_MAX);

    static uint8_t big[3 * SK_EV_CAPTURE_MAX];
    memset(big, 'x', sizeof(big));
    evt_make_conn(&ev, 0, &store);
    assert_int_equal(ev.flags & SK_CONNF_TRUNC, 0);
    ev.u.http.url = (struct sk_span){ big, SK_EV_URL_MAX + 1 };
    ev.u.http.body = (struct sk_span){ big, sizeof(big) };
    ev.u.http.method = (struct sk_span){ NULL, 10 };
    plen = encode(&ev);
    assert_int_equal(evlog_record_decode(buf + EVLOG_FRAME_LEN, plen, &back), 0);
    assert_int_equal(back.u.http.url.len, SK_EV_URL_MAX);
    assert_int_equal(back.u.http.body.len, SK_EV_CAPTURE_MAX);
    assert_memory_equal(back.u.http.body.p, big, SK_EV_CAPTURE_MAX);
    assert_int_equal(back.u.http.method.len, 0);
    assert_int_equal(back.flags, ev.flags | SK_CONNF_TRUNC);

    evt_make_conn(&ev, 1, &store);
    ev.u.tls.sni = (struct sk_span){ big, 70000 }; /* past a u16 length too */
    plen = encode(&ev);
    assert_int_equal(evlog_record_decode(buf + EVLOG_FRAME_LEN, plen, &back), 0);
    assert_int_equal(back.u.tls.sni.len, SK_EV_SHORT_MAX);
    assert_true(back.flags & SK_CONNF_TRUNC);

    evt_make_conn(&ev, 2, &store);
    ev.u.raw.data = (struct sk_span){ big, SK_EV_CAPTURE_MAX + 5 };
    plen = encode(&ev);
    assert_int_equal(evlog_record_decode(buf + EVLOG_FRAME_LEN, plen, &back), 0);
    assert_int_equal(back.u.raw.data.len, SK_EV_CAPTURE_MAX);
    assert_true(back.flags & SK_CONNF_TRUNC);
}

/* Whatever room it is given, the encoder writes the same record: a buffer
 * of exactly the record's size or a little more (where each field is
 * checked) gives the same bytes as one with room for the largest record
 * (where none is), and nothing is written past the record. */
static void test_encode_any_room(void **state)
{
    (void)state;
    static uint8_t ref[EVLOG_FRAME_LEN + EVLOG_PAYLOAD_MAX];
    static uint8_t fill[sizeof(ref) + 128];
    memset(fill, 0xcc, sizeof(fill));
    for (unsigned i = 0; i < 120; i++) {
        struct sk_event ev;
        if (i % 2)
            evt_make(&ev, i / 2);
        else
            evt_make_conn(&ev, i / 2, &store);
        size_t need = encode(&ev) + EVLOG_FRAME_LEN;
        memcpy(ref, buf, need);
        /* Every size up to well past the largest DNS record (431 bytes),
         * then in steps to past the largest record of all. */
        for (size_t cap = need; cap <= sizeof(ref) + 64; cap += cap < need + 600 ? 1 : 487) {
            uint8_t *out = malloc(cap + 16);
            memset(out, 0xcc, cap + 16);
            assert_int_equal(evlog_record_encode(&ev, out, cap), (int)need);
            assert_memory_equal(out, ref, need);
            assert_memory_equal(out + need, fill, cap + 16 - need);
            free(out);
        }
    }
}

/* Fill the char array s[0..size) with len bytes of text then a NUL and
 * other bytes (no NUL at all if len is size); returns the length the
 * string is stored with. */
static size_t str_case(char *s, size_t size, size_t len)
{
    for (size_t k = 0; k < size; k++)
        s[k] = k < len ? (char)('A' + k % 26) : '#';
    if (len < size)
        s[len] = '\0';
    return len < size ? len : size - 1;
}

static void assert_str_stored(const char *back, const char *sent, size_t want)
{
    assert_int_equal(strlen(back), want);
    assert_memory_equal(back, sent, want);
}

/* A str field holds the bytes before the first NUL of its array, at most
 * all but the last: what follows the NUL, and the last byte of an array
 * without one, are not stored. Every length, every str field. */
static void test_str_fields(void **state)
{
    (void)state;
    for (size_t len = 0; len <= 256; len++) {
        struct sk_event ev, back;
        evt_make_conn(&ev, 1, &store);
        assert_int_equal(ev.kind, SK_EV_TLS);
        size_t family = str_case(ev.family, sizeof(ev.family), len);
        size_t list = str_case(ev.list, sizeof(ev.list), len);
        size_t bot_id = str_case(ev.bot_id, sizeof(ev.bot_id), len);
        size_t rule = str_case(ev.rule, sizeof(ev.rule), len);
        size_t ja3 = str_case(ev.u.tls.ja3, sizeof(ev.u.tls.ja3), len);
        size_t ja4 = str_case(ev.u.tls.ja4, sizeof(ev.u.tls.ja4), len);
        size_t plen = encode(&ev);
        assert_int_equal(evlog_record_decode(buf + EVLOG_FRAME_LEN, plen, &back), 0);
        assert_str_stored(back.family, ev.family, family);
        assert_str_stored(back.list, ev.list, list);
        assert_str_stored(back.bot_id, ev.bot_id, bot_id);
        assert_str_stored(back.rule, ev.rule, rule);
        assert_str_stored(back.u.tls.ja3, ev.u.tls.ja3, ja3);
        assert_str_stored(back.u.tls.ja4, ev.u.tls.ja4, ja4);

        struct evlog_file_header h = { .format = 2, .schema = 2, .segment = 7 }, hback;
        size_t node = str_case(h.node, sizeof(h.node), len);
        uint8_t hb[EVLOG_HEADER_MAX];
        int n = evlog_header_encode(&h, hb, sizeof(hb));
        assert_int_equal(n, 8 + 2 + 2 + 8 + 8 + 8 + 1 + node + 4);
        assert_int_equal(evlog_header_decode(hb, (size_t)n, &hback), n);
        assert_str_stored(hback.node, h.node, node);
    }
}

/* Build a raw event record by hand, so a decoder can be shown values a
 * correct encoder never writes. */
static size_t raw_record(uint8_t *p, uint8_t kind, uint64_t data_len, size_t data_have,
                         uint8_t botid_len)
{
    size_t n = 0;
    p[n++] = kind;
    p[n++] = SK_PROTO_TCP;
    evlog_wr64(p + n, EVT_BASE_US);
    n += 8;
    p[n++] = 0; /* src */
    p[n++] = 0; /* dst */
    p[n++] = 0; /* proxied_by */
    p[n++] = 0; /* family */
    p[n++] = 0; /* list */
    p[n++] = botid_len;
    memset(p + n, 'b', botid_len);
    n += botid_len;
    p[n++] = 0; /* rule */
    evlog_wr16(p + n, SK_CONNF_SILENT);
    n += 2;
    p[n++] = SK_CLOSE_IDLE;
    p[n++] = 1; /* bytes_in */
    p[n++] = 2; /* bytes_out */
    p[n++] = 3; /* duration_us */
    n += evlog_varint_put(p + n, data_len);
    memset(p + n, 'd', data_have);
    n += data_have;
    p[n++] = 7; /* first_byte_ms */
    p[n++] = 5; /* sniffed */
    return n;
}

static void test_rejects(void **state)
{
    (void)state;
    static uint8_t p[EVLOG_PAYLOAD_MAX];
    struct sk_event back;
    size_t n = raw_record(p, SK_EV_RAW, 5, 5, 3);
    assert_int_equal(evlog_record_decode(p, n, &back), 0);
    assert_int_equal(back.u.raw.data.len, 5);
    assert_int_equal(back.u.raw.first_byte_ms, 7);
    assert_string_equal(back.bot_id, "bbb");
    assert_int_equal(back.flags, SK_CONNF_SILENT);
    assert_int_equal(back.duration_us, 3);
    /* A capture longer than its cap, even if the bytes are there. */
    n = raw_record(p, SK_EV_RAW, SK_EV_CAPTURE_MAX + 1, SK_EV_CAPTURE_MAX + 1, 0);
    assert_int_equal(evlog_record_decode(p, n, &back), SK_ECORRUPT);
    n = raw_record(p, SK_EV_RAW, SK_EV_CAPTURE_MAX, SK_EV_CAPTURE_MAX, 0);
    assert_int_equal(evlog_record_decode(p, n, &back), 0);
    /* A length that runs past the payload. */
    n = raw_record(p, SK_EV_RAW, 4000, 10, 0);
    assert_int_equal(evlog_record_decode(p, n, &back), SK_ECORRUPT);
    /* A bot id as long as its array (no room for the NUL). */
    n = raw_record(p, SK_EV_RAW, 0, 0, SK_BOTID_MAX);
    assert_int_equal(evlog_record_decode(p, n, &back), SK_ECORRUPT);
    n = raw_record(p, SK_EV_RAW, 0, 0, SK_BOTID_MAX - 1);
    assert_int_equal(evlog_record_decode(p, n, &back), 0);
    /* A varint of 11 bytes. */
    n = raw_record(p, SK_EV_RAW, 0, 0, 0);
    memmove(p + 20 + 10, p + 20, n - 20);
    memset(p + 20, 0x80, 11);
    assert_int_equal(evlog_record_decode(p, n + 10, &back), SK_ECORRUPT);
    /* first_byte_ms past 32 bits. */
    n = raw_record(p, SK_EV_RAW, 0, 0, 0);
    n -= 2;
    n += evlog_varint_put(p + n, (uint64_t)UINT32_MAX + 1);
    p[n++] = 5;
    assert_int_equal(evlog_record_decode(p, n, &back), SK_ECORRUPT);
    /* Kinds that do not exist. */
    n = raw_record(p, 0, 0, 0, 0);
    assert_int_equal(evlog_record_decode(p, n, &back), SK_ECORRUPT);
    n = raw_record(p, 5, 0, 0, 0);
    assert_int_equal(evlog_record_decode(p, n, &back), SK_ECORRUPT);
}

/* Files of schema 1 hold DNS events in the same layout; a connection
 * event in one is refused. */
static void test_schema1(void **state)
{
    (void)state;
    assert_int_equal(SK_EVENT_SCHEMA, 2);
    assert_true(evlog_schema_supported(1));
    assert_true(evlog_schema_supported(2));
    assert_false(evlog_schema_supported(3));
    struct sk_event ev, back;
    evt_make(&ev, 4);
    size_t plen = encode(&ev);
    assert_int_equal(evlog_record_decode_schema(buf + EVLOG_FRAME_LEN, plen, 1, &back), 0);
    evt_assert_equal(&ev, &back);
    /* The DNS payload is byte for byte what schema 1 wrote: kind, proto,
     * ts, src (v4), dst (v4), proxied_by (none), family, list, id. */
    static const uint8_t head[] = { SK_EV_DNS, SK_PROTO_UDP, 0x04, 0x10, 0x85, 0xea, 0x54,
                                    0x61,      0x06,         0x00, 4,    198,  51,   100,
                                    4,         0x04,         0x04, 4,    192,  0,    2,
                                    1,         53,           0,    0,    0,    0 };
    assert_memory_equal(buf + EVLOG_FRAME_LEN, head, sizeof(head));
    evt_make_conn(&ev, 4, &store);
    plen = encode(&ev);
    assert_int_equal(evlog_record_decode_schema(buf + EVLOG_FRAME_LEN, plen, 1, &back),
                     SK_ECORRUPT);
    assert_int_equal(evlog_record_decode_schema(buf + EVLOG_FRAME_LEN, plen, 2, &back), 0);
    evt_assert_equal(&ev, &back);
}

/* ---- text forms ---- */

static const struct evlog_file_header hdr = {
    .format = 2, .schema = 2, .segment = 0xabc, .node = "sink-1"
};

static void http_event(struct sk_event *ev)
{
    memset(ev, 0, sizeof(*ev));
    ev->ts_us = EVT_BASE_US + 20;
    ev->kind = SK_EV_HTTP;
    ev->proto = SK_PROTO_TCP;
    sk_ip_parse("198.51.100.7", &ev->src);
    ev->src.port = 40000;
    sk_ip_parse("192.0.2.10", &ev->dst);
    ev->dst.port = 80;
    strcpy(ev->family, "megad");
    strcpy(ev->list, "port80");
    strcpy(ev->bot_id, "BOT-1");
    strcpy(ev->rule, "megad-gate");
    ev->flags = SK_CONNF_TLS | SK_CONNF_KEEPALIVE;
    ev->close_reason = SK_CLOSE_NONE;
    ev->bytes_in = 512;
    ev->bytes_out = 1024;
    ev->duration_us = 1500000;
    struct sk_event_http *h = &ev->u.http;
    static const char url[] = "/gate.php?a=\"b\"\\\x01\xff";
    h->method = (struct sk_span){ (const uint8_t *)"POST", 4 };
    h->host = (struct sk_span){ (const uint8_t *)"c2.example", 10 };
    h->url = (struct sk_span){ (const uint8_t *)url, sizeof(url) - 1 };
    h->user_agent = (struct sk_span){ (const uint8_t *)"Mozilla/4.0", 11 };
    h->content_type = (struct sk_span){ (const uint8_t *)"application/x-www-form-urlencoded", 33 };
    h->body = (struct sk_span){ (const uint8_t *)"hello", 5 };
    h->body_len = 5;
    h->status = 200;
    h->version = 11;
    h->request = 2;
}

static void tls_event(struct sk_event *ev)
{
    memset(ev, 0, sizeof(*ev));
    ev->ts_us = EVT_BASE_US + 1000001;
    ev->kind = SK_EV_TLS;
    ev->proto = SK_PROTO_TCP;
    sk_ip_parse("2001:db8::7", &ev->src);
    ev->src.port = 50000;
    sk_ip_parse("192.0.2.10", &ev->dst);
    ev->dst.port = 443;
    sk_ip_parse("10.0.0.1", &ev->proxied_by);
    ev->flags = SK_CONNF_TERMINATED;
    ev->close_reason = SK_CLOSE_SERVER;
    ev->bytes_in = 300;
    ev->bytes_out = 5000;
    ev->duration_us = 20000;
    struct sk_event_tls *t = &ev->u.tls;
    t->sni = (struct sk_span){ (const uint8_t *)"c2.example", 10 };
    t->alpn = (struct sk_span){ (const uint8_t *)"h2", 2 };
    t->version = 0x0304;
    t->record_version = 0x0301;
    strcpy(t->ja3, "e7d705a3286e19ea42f587b344ee6865");
    strcpy(t->ja4, "t13d1516h2_8daaf6152771_02713d6af862");
}

static void raw_event(struct sk_event *ev)
{
    memset(ev, 0, sizeof(*ev));
    ev->ts_us = EVT_BASE_US;
    ev->kind = SK_EV_RAW;
    ev->proto = SK_PROTO_UDP;
    sk_ip_parse("203.0.113.5", &ev->src);
    ev->src.port = 1234;
    sk_ip_parse("192.0.2.10", &ev->dst);
    ev->dst.port = 9999;
    ev->flags = SK_CONNF_MALFORMED | 0x8000;
    ev->close_reason = 42;
    ev->bytes_in = 5;
    ev->u.raw.data = (struct sk_span){ (const uint8_t *)"\x00\x01\x02\xfe\xff", 5 };
    ev->u.raw.sniffed = 5;
}

static void test_json_kinds(void **state)
{
    (void)state;
    static char out[EVLOG_JSON_MAX];
    struct sk_event ev;
    http_event(&ev);
    int n = evlog_event_json_seq(&ev, "sink-1", 0xabc, 7, 12345, out, sizeof(out));
    assert_true(n > 0);
    assert_string_equal(
        out,
        "{\"timestamp\":\"2026-11-28T12:00:00.000020Z\",\"event_type\":\"http\","
        "\"event_id\":\"sink-1-0000000000000abc-7\",\"seq\":12345,\"node\":\"sink-1\","
        "\"proto\":\"TCP\",\"src_ip\":\"198.51.100.7\",\"src_port\":40000,"
        "\"dest_ip\":\"192.0.2.10\",\"dest_port\":80,\"family\":\"megad\",\"list\":\"port80\","
        "\"bot_id\":\"BOT-1\",\"rule\":\"megad-gate\","
        "\"http\":{\"hostname\":\"c2.example\",\"url\":\"/gate.php?a=\\\"b\\\"\\\\\\u0001\\u00ff\","
        "\"http_method\":\"POST\",\"protocol\":\"HTTP/1.1\",\"status\":200,"
        "\"http_user_agent\":\"Mozilla/4.0\","
        "\"http_content_type\":\"application/x-www-form-urlencoded\",\"request\":2,"
        "\"body_len\":5,\"body\":\"aGVsbG8=\"},"
        "\"flags\":[\"tls\",\"keepalive\"],\"close_reason\":\"none\",\"bytes_in\":512,"
        "\"bytes_out\":1024,\"duration\":1.500000}");
    assert_int_equal(n, (int)strlen(out));

    tls_event(&ev);
    n = evlog_event_json(&ev, "sink-1", 0xabc, 8, out, sizeof(out));
    assert_true(n > 0);
    assert_string_equal(
        out, "{\"timestamp\":\"2026-11-28T12:00:01.000001Z\",\"event_type\":\"tls\","
             "\"event_id\":\"sink-1-0000000000000abc-8\",\"node\":\"sink-1\",\"proto\":\"TCP\","
             "\"src_ip\":\"2001:db8::7\",\"src_port\":50000,\"dest_ip\":\"192.0.2.10\","
             "\"dest_port\":443,\"proxied_by\":\"10.0.0.1\","
             "\"tls\":{\"sni\":\"c2.example\",\"alpn\":\"h2\",\"version\":\"TLS 1.3\","
             "\"record_version\":\"TLSv1\",\"ja3\":{\"hash\":\"e7d705a3286e19ea42f587b344ee6865\"},"
             "\"ja4\":\"t13d1516h2_8daaf6152771_02713d6af862\"},"
             "\"flags\":[\"terminated\"],\"close_reason\":\"server\",\"bytes_in\":300,"
             "\"bytes_out\":5000,\"duration\":0.020000}");

    raw_event(&ev);
    n = evlog_event_json(&ev, "sink-1", 0xabc, 9, out, sizeof(out));
    assert_true(n > 0);
    assert_string_equal(
        out, "{\"timestamp\":\"2026-11-28T12:00:00.000000Z\",\"event_type\":\"raw\","
             "\"event_id\":\"sink-1-0000000000000abc-9\",\"node\":\"sink-1\",\"proto\":\"UDP\","
             "\"src_ip\":\"203.0.113.5\",\"src_port\":1234,\"dest_ip\":\"192.0.2.10\","
             "\"dest_port\":9999,"
             "\"raw\":{\"len\":5,\"data\":\"AAEC/v8=\",\"first_byte_ms\":0,\"sniffed\":\"raw\"},"
             "\"flags\":[\"malformed\",\"0x8000\"],\"close_reason\":\"42\",\"bytes_in\":5,"
             "\"bytes_out\":0,\"duration\":0.000000}");

    /* A DNS event has none of the connection names. */
    evt_make(&ev, 20);
    strcpy(ev.bot_id, "stale");
    n = evlog_event_json(&ev, "sink-1", 1, 1, out, sizeof(out));
    assert_true(n > 0);
    assert_null(strstr(out, "bot_id"));
    assert_null(strstr(out, "bytes_in"));
    assert_null(strstr(out, "close_reason"));

    /* Too small a buffer, at every size, is reported, never overrun. */
    http_event(&ev);
    int whole = evlog_event_json(&ev, "sink-1", 1, 1, out, sizeof(out));
    for (int cap = 0; cap <= whole; cap++) {
        char *o = malloc((size_t)cap + 1);
        assert_int_equal(evlog_event_json(&ev, "sink-1", 1, 1, o, (size_t)cap), SK_ENOSPACE);
        free(o);
    }
}

/* The largest event, every byte escaped, fits in EVLOG_JSON_MAX and the
 * export line; the output is one line of ASCII. */
static void test_json_max(void **state)
{
    (void)state;
    static char out[EVLOG_EXPORT_LINE_MAX];
    static uint8_t ctl[SK_EV_CAPTURE_MAX];
    memset(ctl, 0x01, sizeof(ctl));
    char node[256];
    memset(node, 0x01, 255);
    node[255] = '\0';
    struct sk_event ev;
    evt_make_conn(&ev, 57, &store);
    assert_int_equal(ev.kind, SK_EV_HTTP);
    struct sk_event_http *h = &ev.u.http;
    struct sk_span *sp[] = { &h->method,     &h->host,    &h->url,
                             &h->user_agent, &h->referer, &h->content_type };
    for (size_t k = 0; k < sizeof(sp) / sizeof(sp[0]); k++)
        sp[k]->p = ctl;
    memset(ev.bot_id, 0x01, SK_BOTID_MAX - 1);
    memset(ev.rule, 0x01, SK_RULE_MAX - 1);
    memset(ev.family, 0x01, SK_FAMILY_MAX - 1);
    memset(ev.list, 0x01, SK_LIST_NAME_MAX - 1);
    sk_ip_parse("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", &ev.src);
    sk_ip_parse("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", &ev.dst);
    sk_ip_parse("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffd", &ev.proxied_by);
    ev.flags = 0xffff;
    int n =
        evlog_event_json_seq(&ev, node, UINT64_MAX, UINT64_MAX, UINT64_MAX, out, EVLOG_JSON_MAX);
    assert_true(n > 100000);
    assert_true(n < (int)EVLOG_JSON_MAX);
    for (int i = 0; i < n; i++)
        assert_true(out[i] >= 0x20 && out[i] < 0x7f);
    /* Node, family and list are names from the config (tokens): only the
     * values from the network are escaped in CSV. */
    struct evlog_file_header hb = hdr;
    memset(hb.node, 'n', 255);
    hb.node[255] = '\0';
    memset(ev.family, 'f', SK_FAMILY_MAX - 1);
    memset(ev.list, 'l', SK_LIST_NAME_MAX - 1);
    struct evlog_ref ref = { "x", &hb, UINT64_MAX, UINT64_MAX };
    n = evlog_event_csv(&ev, &ref, out, sizeof(out));
    assert_true(n > 60000);
    for (int i = 0; i < n - 1; i++)
        assert_true(out[i] >= 0x20 && out[i] < 0x7f);
    assert_int_equal(out[n - 1], '\n');
}

/* Fields of a CSV line, split the RFC 4180 way. Returns how many. */
static int csv_split(const char *line, char fields[][200], int max)
{
    int n = 0;
    const char *p = line;
    for (;;) {
        size_t l = 0;
        assert_true(n < max);
        if (*p == '"') {
            p++;
            for (;;) {
                if (*p == '"' && p[1] == '"') {
                    fields[n][l++] = '"';
                    p += 2;
                } else if (*p == '"') {
                    p++;
                    break;
                } else {
                    fields[n][l++] = *p++;
                }
            }
        } else {
            while (*p && *p != ',' && *p != '\n')
                fields[n][l++] = *p++;
        }
        fields[n++][l] = '\0';
        if (*p != ',')
            return n;
        p++;
    }
}

static int csv_col(const char *name)
{
    char f[80][200];
    int n = csv_split(evlog_csv_header, f, 80);
    for (int i = 0; i < n; i++)
        if (strcmp(f[i], name) == 0)
            return i;
    fail_msg("no column %s", name);
    return -1;
}

static void test_csv_kinds(void **state)
{
    (void)state;
    static char out[EVLOG_EXPORT_LINE_MAX];
    static char f[80][200];
    char hf[80][200];
    int ncols = csv_split(evlog_csv_header, hf, 80);
    assert_int_equal(ncols, 54);
    struct evlog_ref ref = { "x", &hdr, 7, 12345 };
    struct sk_event ev;
    http_event(&ev);
    int n = evlog_event_csv(&ev, &ref, out, sizeof(out));
    assert_int_equal(n, (int)strlen(out));
    assert_string_equal(
        out, "2026-11-28T12:00:00.000020Z,http,sink-1-0000000000000abc-7,12345,sink-1,TCP,"
             "198.51.100.7,40000,192.0.2.10,80,,megad,port80,,,,,,,,,,,,,,"
             "BOT-1,megad-gate,tls keepalive,none,512,1024,1.500000,"
             "c2.example,\"/gate.php?a=\"\"b\"\"\\\\\\x01\\xff\",POST,HTTP/1.1,200,Mozilla/4.0,,"
             "application/x-www-form-urlencoded,2,5,aGVsbG8=,,,,,,,,,,\n");
    assert_int_equal(csv_split(out, f, 80), ncols);

    tls_event(&ev);
    n = evlog_event_csv(&ev, &ref, out, sizeof(out));
    assert_true(n > 0);
    assert_int_equal(csv_split(out, f, 80), ncols);
    assert_string_equal(f[csv_col("tls.sni")], "c2.example");
    assert_string_equal(f[csv_col("tls.alpn")], "h2");
    assert_string_equal(f[csv_col("tls.version")], "TLS 1.3");
    assert_string_equal(f[csv_col("tls.record_version")], "TLSv1");
    assert_string_equal(f[csv_col("tls.ja3.hash")], "e7d705a3286e19ea42f587b344ee6865");
    assert_string_equal(f[csv_col("tls.ja4")], "t13d1516h2_8daaf6152771_02713d6af862");
    assert_string_equal(f[csv_col("proxied_by")], "10.0.0.1");
    assert_string_equal(f[csv_col("flags")], "terminated");
    assert_string_equal(f[csv_col("close_reason")], "server");
    assert_string_equal(f[csv_col("duration")], "0.020000");
    assert_string_equal(f[csv_col("http.url")], "");
    assert_string_equal(f[csv_col("raw.len")], "");

    raw_event(&ev);
    n = evlog_event_csv(&ev, &ref, out, sizeof(out));
    assert_true(n > 0);
    assert_int_equal(csv_split(out, f, 80), ncols);
    assert_string_equal(f[csv_col("event_type")], "raw");
    assert_string_equal(f[csv_col("proto")], "UDP");
    assert_string_equal(f[csv_col("raw.len")], "5");
    assert_string_equal(f[csv_col("raw.data")], "AAEC/v8=");
    assert_string_equal(f[csv_col("raw.first_byte_ms")], "0");
    assert_string_equal(f[csv_col("raw.sniffed")], "raw");
    assert_string_equal(f[csv_col("flags")], "malformed 0x8000");
    assert_string_equal(f[csv_col("close_reason")], "42");
    assert_string_equal(f[csv_col("bytes_in")], "5");
    assert_string_equal(f[csv_col("tls.sni")], "");

    /* DNS rows leave every connection column empty. */
    evt_make(&ev, 20);
    n = evlog_event_csv(&ev, &ref, out, sizeof(out));
    assert_true(n > 0);
    assert_int_equal(csv_split(out, f, 80), ncols);
    assert_string_equal(f[csv_col("dns.rrname")], "Bot20.Mega-D.example");
    for (int c = csv_col("bot_id"); c < ncols; c++)
        assert_string_equal(f[c], "");
    for (int cap = 0; cap < n; cap++)
        assert_int_equal(evlog_event_csv(&ev, &ref, out, (size_t)cap), SK_ENOSPACE);
}

static void test_text_helpers(void **state)
{
    (void)state;
    /* RFC 4648 test vectors. */
    static const char *const in[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
    static const char *const want[] = { "",         "Zg==",     "Zm8=",    "Zm9v",
                                        "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy" };
    char out[64];
    for (int i = 0; i < 7; i++) {
        assert_int_equal(evlog_base64((const uint8_t *)in[i], strlen(in[i]), out), strlen(want[i]));
        assert_string_equal(out, want[i]);
    }
    assert_int_equal(evlog_json_string("a\"\\\n\x7f\x80z", 7, out, sizeof(out)), 26);
    assert_string_equal(out, "\"a\\\"\\\\\\u000a\\u007f\\u0080z\"");
    assert_int_equal(evlog_json_string("\0", 1, out, sizeof(out)), 8);
    assert_string_equal(out, "\"\\u0000\"");
    assert_int_equal(evlog_json_string("abc", 3, out, 5), SK_ENOSPACE);
    assert_int_equal(evlog_format_duration(0, out), 8);
    assert_string_equal(out, "0.000000");
    evlog_format_duration(UINT64_MAX, out);
    assert_string_equal(out, "18446744073709.551615");
    char b[16];
    assert_string_equal(evlog_tls_version_name(0x0303, b), "TLS 1.2");
    assert_string_equal(evlog_tls_version_name(0x0302, b), "TLS 1.1");
    assert_string_equal(evlog_tls_version_name(0x0300, b), "SSLv3");
    assert_string_equal(evlog_tls_version_name(0x7f1c, b), "0x7f1c");
    assert_string_equal(evlog_http_protocol(9, b), "HTTP/0.9");
    assert_string_equal(evlog_http_protocol(10, b), "HTTP/1.0");
    assert_string_equal(evlog_http_protocol(0, b), "");
    assert_string_equal(evlog_close_reason_name(SK_CLOSE_MAX_BYTES, b), "max_bytes");
    assert_string_equal(evlog_close_reason_name(SK_CLOSE_SHUTDOWN, b), "shutdown");
    assert_string_equal(evlog_sniff_name(0), "none");
    assert_string_equal(evlog_sniff_name(2), "tls");
    assert_string_equal(evlog_sniff_name(6), "unknown");
    const char *names[EVLOG_CONN_FLAGS_MAX];
    assert_int_equal(evlog_conn_flag_names(0x01ff, names), 9);
    static const char *const fl[] = { "tls",       "keepalive",  "truncated", "silent", "banner",
                                      "malformed", "terminated", "limit",     "tarpit" };
    for (int i = 0; i < 9; i++)
        assert_string_equal(names[i], fl[i]);
    assert_string_equal(evlog_kind_name(SK_EV_HTTP), "http");
    assert_string_equal(evlog_kind_name(SK_EV_TLS), "tls");
    assert_string_equal(evlog_kind_name(SK_EV_RAW), "raw");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_every_kind),
        cmocka_unit_test(test_truncation),
        cmocka_unit_test(test_encode_nospace),
        cmocka_unit_test(test_caps),
        cmocka_unit_test(test_encode_any_room),
        cmocka_unit_test(test_str_fields),
        cmocka_unit_test(test_rejects),
        cmocka_unit_test(test_schema1),
        cmocka_unit_test(test_json_kinds),
        cmocka_unit_test(test_json_max),
        cmocka_unit_test(test_csv_kinds),
        cmocka_unit_test(test_text_helpers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
