/* Unit tests for dns/name: presentation text <-> wire form with RFC 1035
 * escapes, case folding, label offsets and case-insensitive equality. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "dns/name.h"

/* Wire names are written in the tables as C strings with a trailing
 * "\0" spelled out; the length is given separately because of the NULs. */
#define W(s) (const uint8_t *)(s), sizeof(s) - 1

/* ---- text -> wire ---- */

struct from_case {
    const char *text;
    int rc;
    const uint8_t *wire;
    size_t wire_len;
};

static const struct from_case from_cases[] = {
    { "www.Example.com", 0, W("\3www\7Example\3com\0") },
    { "www.Example.com.", 0, W("\3www\7Example\3com\0") },
    { ".", 0, W("\0") },
    { "a", 0, W("\1a\0") },
    { "A.", 0, W("\1A\0") },
    { "a\\.b.c", 0, W("\3a.b\1c\0") },
    { "a\\\\b", 0, W("\3a\\b\0") },
    { "\\065bc", 0, W("\3Abc\0") },
    { "\\000.x", 0, W("\1\0\1x\0") },
    { "\\255", 0, W("\1\377\0") },
    { "\\a\\-", 0, W("\2a-\0") },
    { "*.example", 0, W("\1*\7example\0") },
    { "", SK_EINVAL, NULL, 0 },
    { "..", SK_EINVAL, NULL, 0 },
    { "a..b", SK_EINVAL, NULL, 0 },
    { ".a", SK_EINVAL, NULL, 0 },
    { "a.b..", SK_EINVAL, NULL, 0 },
    { "\\256", SK_EINVAL, NULL, 0 },
    { "\\12", SK_EINVAL, NULL, 0 },
    { "\\1x3", SK_EINVAL, NULL, 0 },
    { "abc\\", SK_EINVAL, NULL, 0 },
};

static void test_from_text(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(from_cases) / sizeof(from_cases[0]); i++) {
        const struct from_case *c = &from_cases[i];
        uint8_t out[DNS_NAME_MAX];
        size_t len = 9999;
        int rc = dns_name_from_text(c->text, strlen(c->text), out, &len);
        if (rc != c->rc)
            fail_msg("case %zu \"%s\": rc %d, want %d", i, c->text, rc, c->rc);
        if (c->rc == 0) {
            assert_int_equal(len, c->wire_len);
            assert_memory_equal(out, c->wire, len);
        } else {
            assert_int_equal(len, 9999); /* untouched on error */
        }
    }
}

/* Label and name length limits, built programmatically. */
static void test_from_text_limits(void **state)
{
    (void)state;
    char text[1100];
    uint8_t out[DNS_NAME_MAX];
    size_t len;

    /* A 63-byte label is fine, 64 is not. */
    memset(text, 'x', 63);
    assert_int_equal(dns_name_from_text(text, 63, out, &len), 0);
    assert_int_equal(len, 65);
    assert_int_equal(out[0], 63);
    memset(text, 'x', 64);
    assert_int_equal(dns_name_from_text(text, 64, out, &len), SK_EINVAL);
    /* The same through escapes: 63 x \120 is still 63 bytes. */
    size_t t = 0;
    for (int i = 0; i < 63; i++)
        t += (size_t)snprintf(text + t, sizeof(text) - t, "\\120");
    assert_int_equal(dns_name_from_text(text, t, out, &len), 0);
    assert_int_equal(len, 65);
    assert_int_equal(out[1], 'x');
    t += (size_t)snprintf(text + t, sizeof(text) - t, "x");
    assert_int_equal(dns_name_from_text(text, t, out, &len), SK_EINVAL);

    /* 127 one-byte labels: 254 bytes + root = 255, the maximum. */
    t = 0;
    for (int i = 0; i < 127; i++)
        t += (size_t)snprintf(text + t, sizeof(text) - t, "a.");
    assert_int_equal(dns_name_from_text(text, t, out, &len), 0);
    assert_int_equal(len, 255);
    assert_int_equal(out[254], 0);
    /* One more label makes 257 bytes. */
    t += (size_t)snprintf(text + t, sizeof(text) - t, "b");
    assert_int_equal(dns_name_from_text(text, t, out, &len), SK_EINVAL);

    /* 3 x 63 + 61: 192 + 62 + 1 = 255 bytes; 62 in the last label is 256. */
    t = 0;
    for (int i = 0; i < 3; i++) {
        memset(text + t, 'y', 63);
        t += 63;
        text[t++] = '.';
    }
    memset(text + t, 'z', 62);
    assert_int_equal(dns_name_from_text(text, t + 61, out, &len), 0);
    assert_int_equal(len, 255);
    assert_int_equal(dns_name_from_text(text, t + 62, out, &len), SK_EINVAL);
}

/* ---- wire -> text ---- */

struct to_case {
    const uint8_t *wire;
    size_t wire_len;
    int rc; /* text length or error */
    const char *text;
};

static const struct to_case to_cases[] = {
    { W("\0"), 1, "." },
    { W("\3www\7Example\3COM\0"), 16, "www.Example.COM." },
    { W("\3a.b\1c\0"), 7, "a\\.b.c." },
    { W("\3a\\b\0"), 5, "a\\\\b." },
    { W("\4a b\0\0"), 11, "a\\032b\\000." },
    { W("\3_x-\0"), 4, "_x-." },
    { W("\1*\2\377~\0"), 14, "\\042.\\255\\126." },
    /* Malformed: missing root, label past the end, bytes after the root,
     * a compression pointer, a reserved label type, empty. */
    { W("\3www"), SK_EPROTO, NULL },
    { W("\5ab\0"), SK_EPROTO, NULL },
    { W("\1a\0\0"), SK_EPROTO, NULL },
    { W("\1a\300\014"), SK_EPROTO, NULL },
    { W("\100\0"), SK_EPROTO, NULL },
    { (const uint8_t *)"", 0, SK_EPROTO, NULL },
};

static void test_to_text(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(to_cases) / sizeof(to_cases[0]); i++) {
        const struct to_case *c = &to_cases[i];
        char out[DNS_NAME_TEXT_MAX];
        int rc = dns_name_to_text(c->wire, c->wire_len, out, sizeof(out));
        if (rc != c->rc)
            fail_msg("case %zu: rc %d, want %d", i, rc, c->rc);
        if (c->text != NULL)
            assert_string_equal(out, c->text);
    }
}

static void test_to_text_space(void **state)
{
    (void)state;
    static const uint8_t name[] = "\3www\7example\0"; /* "www.example." = 12 chars */
    char out[32];
    memset(out, '#', sizeof(out));
    assert_int_equal(dns_name_to_text(name, sizeof(name) - 1, out, 13), 12);
    assert_string_equal(out, "www.example.");
    for (size_t cap = 0; cap < 13; cap++)
        assert_int_equal(dns_name_to_text(name, sizeof(name) - 1, out, cap), SK_ENOSPACE);
    assert_int_equal(dns_name_to_text((const uint8_t *)"", 1, out, 2), 1);
    assert_int_equal(dns_name_to_text((const uint8_t *)"", 1, out, 1), SK_ENOSPACE);
    /* The escaped form is counted too: "\000." needs 6 bytes with the NUL. */
    assert_int_equal(dns_name_to_text((const uint8_t *)"\1\0\0", 3, out, 6), 5);
    assert_string_equal(out, "\\000.");
    assert_int_equal(dns_name_to_text((const uint8_t *)"\1\0\0", 3, out, 5), SK_ENOSPACE);
}

/* The longest name prints in DNS_NAME_TEXT_MAX: 3 x 63 + 61 bytes, all
 * needing \DDD. */
static void test_to_text_longest(void **state)
{
    (void)state;
    uint8_t name[DNS_NAME_MAX];
    size_t p = 0;
    const int labels[] = { 63, 63, 63, 61 };
    for (int i = 0; i < 4; i++) {
        name[p++] = (uint8_t)labels[i];
        memset(name + p, 0xff, (size_t)labels[i]);
        p += (size_t)labels[i];
    }
    name[p++] = 0;
    assert_int_equal(p, 255);
    char out[DNS_NAME_TEXT_MAX];
    int n = dns_name_to_text(name, p, out, sizeof(out));
    assert_int_equal(n, 250 * 4 + 4);
    uint8_t back[DNS_NAME_MAX];
    size_t bl;
    assert_int_equal(dns_name_from_text(out, (size_t)n, back, &bl), 0);
    assert_int_equal(bl, p);
    assert_memory_equal(back, name, p);
}

/* ---- round trips ---- */

static const char *const round_texts[] = {
    "www.Example.com.",       ".",
    "a\\.b\\\\c.D.",          "\\000\\001\\255.x.",
    "Mixed-Case_Label.ORG.",  "\\032spaces\\032in\\032labels.",
    "xn--bcher-kva.example.",
};

static void test_round_trip_text(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(round_texts) / sizeof(round_texts[0]); i++) {
        uint8_t wire[DNS_NAME_MAX];
        size_t wl;
        char text[DNS_NAME_TEXT_MAX];
        assert_int_equal(dns_name_from_text(round_texts[i], strlen(round_texts[i]), wire, &wl), 0);
        int n = dns_name_to_text(wire, wl, text, sizeof(text));
        assert_int_equal(n, (int)strlen(round_texts[i]));
        assert_string_equal(text, round_texts[i]); /* case and escapes preserved */
    }
}

/* Pseudo-random wire names with every byte value: to text and back must
 * give the same bytes. */
static void test_round_trip_wire(void **state)
{
    (void)state;
    uint32_t seed = 12345;
    for (int iter = 0; iter < 2000; iter++) {
        uint8_t wire[DNS_NAME_MAX];
        size_t p = 0;
        for (;;) {
            seed = seed * 1103515245u + 12345u;
            size_t l = 1 + (seed >> 16) % 63;
            if (p + l + 2 > DNS_NAME_MAX || (seed >> 8) % 7 == 0)
                break;
            wire[p++] = (uint8_t)l;
            for (size_t j = 0; j < l; j++) {
                seed = seed * 1103515245u + 12345u;
                wire[p++] = (uint8_t)(seed >> 16);
            }
        }
        wire[p++] = 0;
        char text[DNS_NAME_TEXT_MAX];
        int n = dns_name_to_text(wire, p, text, sizeof(text));
        assert_true(n > 0);
        assert_int_equal((size_t)n, strlen(text));
        uint8_t back[DNS_NAME_MAX];
        size_t bl;
        assert_int_equal(dns_name_from_text(text, (size_t)n, back, &bl), 0);
        assert_int_equal(bl, p);
        assert_memory_equal(back, wire, p);
    }
}

/* ---- case, labels, equality ---- */

static void test_lower(void **state)
{
    (void)state;
    static const uint8_t in[] = "\3WwW\7ExAMple\4C@[Z\0";
    static const uint8_t want[] = "\3www\7example\4c@[z\0";
    uint8_t out[sizeof(in)];
    dns_name_lower(in, sizeof(in) - 1, out);
    assert_memory_equal(out, want, sizeof(in) - 1);
    /* Length bytes are never touched, even ones that look like letters
     * would if they were data (a 65-byte label is not valid, but a length
     * byte 'A' must still be copied as is). */
    static const uint8_t odd[] = "\101B";
    uint8_t o2[2];
    dns_name_lower(odd, 2, o2);
    assert_int_equal(o2[0], 'A');
    assert_int_equal(o2[1], 'b');
}

struct labels_case {
    const uint8_t *wire;
    size_t len;
    int n;
    uint8_t offs[5];
};

static const struct labels_case labels_cases[] = {
    { W("\0"), 0, { 0 } },
    { W("\3www\7example\3com\0"), 3, { 0, 4, 12, 16 } },
    { W("\1a\0"), 1, { 0, 2 } },
    { W("\3www"), SK_EPROTO, { 0 } },
    { W("\3ww\0"), SK_EPROTO, { 0 } },
    { W("\1a\0\1b\0"), SK_EPROTO, { 0 } },
    { W("\300\014"), SK_EPROTO, { 0 } },
};

static void test_labels(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(labels_cases) / sizeof(labels_cases[0]); i++) {
        const struct labels_case *c = &labels_cases[i];
        uint8_t offs[DNS_LABELS_MAX];
        int n = dns_name_label_offsets(c->wire, c->len, offs);
        if (n != c->n)
            fail_msg("case %zu: %d labels, want %d", i, n, c->n);
        assert_int_equal(dns_name_labels(c->wire, c->len), c->n);
        for (int k = 0; k <= n; k++)
            assert_int_equal(offs[k], c->offs[k]);
    }
    /* 127 labels, the most a name can have. */
    uint8_t name[DNS_NAME_MAX];
    for (int i = 0; i < 127; i++) {
        name[2 * i] = 1;
        name[2 * i + 1] = 'a';
    }
    name[254] = 0;
    uint8_t offs[DNS_LABELS_MAX];
    assert_int_equal(dns_name_label_offsets(name, 255, offs), 127);
    assert_int_equal(offs[126], 252);
    assert_int_equal(offs[127], 254);
    assert_int_equal(dns_name_label_offsets(name, 256, offs), SK_EPROTO);
}

struct equal_case {
    const uint8_t *a;
    size_t alen;
    const uint8_t *b;
    size_t blen;
    int eq;
};

static const struct equal_case equal_cases[] = {
    { W("\3www\7example\0"), W("\3WWW\7ExAmPlE\0"), 1 },
    { W("\0"), W("\0"), 1 },
    { W("\3www\7example\0"), W("\3www\7exampla\0"), 0 },
    { W("\3www\7example\0"), W("\7example\0"), 0 },
    { W("\1@\0"), W("\1`\0"), 0 }, /* '@' and '`' are not a case pair */
    { W("\1[\0"), W("\1{\0"), 0 },
};

static void test_equal(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(equal_cases) / sizeof(equal_cases[0]); i++) {
        const struct equal_case *c = &equal_cases[i];
        if (dns_name_equal(c->a, c->alen, c->b, c->blen) != c->eq)
            fail_msg("case %zu: want %d", i, c->eq);
        assert_int_equal(dns_name_equal(c->b, c->blen, c->a, c->alen), c->eq);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_from_text),       cmocka_unit_test(test_from_text_limits),
        cmocka_unit_test(test_to_text),         cmocka_unit_test(test_to_text_space),
        cmocka_unit_test(test_to_text_longest), cmocka_unit_test(test_round_trip_text),
        cmocka_unit_test(test_round_trip_wire), cmocka_unit_test(test_lower),
        cmocka_unit_test(test_labels),          cmocka_unit_test(test_equal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
