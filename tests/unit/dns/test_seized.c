/* Unit tests for dns/seized: longest-suffix matching by whole labels, list
 * conflicts, list file parsing with its exact error messages, scale. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/err.h"
#include "dns/seized.h"
#include "dns/seized_internal.h"

/* Plain text ("www.Example.com", no escapes) to a wire name, case kept. */
static size_t wire(const char *text, uint8_t *out)
{
    size_t w = 0;
    if (strcmp(text, ".") == 0) {
        out[0] = 0;
        return 1;
    }
    const char *p = text;
    while (*p) {
        const char *dot = strchr(p, '.');
        size_t l = dot ? (size_t)(dot - p) : strlen(p);
        out[w++] = (uint8_t)l;
        memcpy(out + w, p, l);
        w += l;
        p += l;
        if (*p == '.')
            p++;
    }
    out[w++] = 0;
    return w;
}

static int add(struct seized *s, const char *text, uint16_t list, uint16_t *other)
{
    uint8_t w[300];
    size_t n = wire(text, w);
    return seized_add(s, w, n, list, other);
}

static int lookup(const struct seized *s, const char *text, struct seized_match *m)
{
    uint8_t w[300];
    size_t n = wire(text, w);
    return seized_lookup(s, w, n, m);
}

/* ---- matching -------------------------------------------------------- */

static const struct {
    const char *name;
    uint16_t list;
} seeded[] = {
    { "example.com", 0 },           { "evil.example.com", 1 }, { "bad.example", 0 },
    { "a8fk3jq0z.com", 2 },         { "deep.a.b.c.d", 3 },     { "MiXeD.CaSe.org", 2 },
    { "xn--bcher-kva.example", 1 },
};

static struct seized *seeded_matcher(void)
{
    struct seized *s = seized_new();
    for (size_t i = 0; i < sizeof(seeded) / sizeof(seeded[0]); i++) {
        uint16_t other = 0xffff;
        assert_int_equal(add(s, seeded[i].name, seeded[i].list, &other), 0);
        assert_int_equal(other, 0xffff);
    }
    return s;
}

static void test_lookup_table(void **state)
{
    (void)state;
    static const struct {
        const char *q;
        int hit;
        uint16_t list;
        uint8_t off, len;
    } cases[] = {
        /* exact */
        { "example.com", 1, 0, 0, 13 },
        { "bad.example", 1, 0, 0, 13 },
        { "a8fk3jq0z.com", 1, 2, 0, 15 },
        { "deep.a.b.c.d", 1, 3, 0, 14 },
        /* below */
        { "www.example.com", 1, 0, 4, 13 },
        { "a.b.c.www.example.com", 1, 0, 10, 13 },
        { "sub.bad.example", 1, 0, 4, 13 },
        { "x.deep.a.b.c.d", 1, 3, 2, 14 },
        /* the longer of two covering names */
        { "evil.example.com", 1, 1, 0, 18 },
        { "x.evil.example.com", 1, 1, 2, 18 },
        { "y.x.evil.example.com", 1, 1, 4, 18 },
        { "evil2.example.com", 1, 0, 6, 13 },
        /* case */
        { "EXAMPLE.COM", 1, 0, 0, 13 },
        { "WwW.ExAmPlE.cOm", 1, 0, 4, 13 },
        { "X.EVIL.example.COM", 1, 1, 2, 18 },
        { "mixed.case.org", 1, 2, 0, 16 },
        { "w.MIXED.CASE.ORG", 1, 2, 2, 16 },
        { "XN--BCHER-KVA.example", 1, 1, 0, 23 },
        /* above: a parent of a seized name is not seized */
        { "com", 0, 0, 0, 0 },
        { "example", 0, 0, 0, 0 },
        { "a.b.c.d", 0, 0, 0, 0 },
        { "c.d", 0, 0, 0, 0 },
        { "case.org", 0, 0, 0, 0 },
        /* beside */
        { "other.example", 0, 0, 0, 0 },
        { "example.net", 0, 0, 0, 0 },
        { "b8fk3jq0z.com", 0, 0, 0, 0 },
        /* partial labels */
        { "notbad.example", 0, 0, 0, 0 },
        { "xexample.com", 0, 0, 0, 0 },
        { "example.comx", 0, 0, 0, 0 },
        { "bad.examples", 0, 0, 0, 0 },
        { "ad.example", 0, 0, 0, 0 },
        { "bad.example.org", 0, 0, 0, 0 },
        { "deep.a.b.c.dd", 0, 0, 0, 0 },
        /* the root */
        { ".", 0, 0, 0, 0 },
    };
    struct seized *s = seeded_matcher();
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct seized_match m = { 0xeeee, 0xee, 0xee };
        int hit = lookup(s, cases[i].q, &m);
        if (hit != cases[i].hit)
            fail_msg("%s: hit %d, want %d", cases[i].q, hit, cases[i].hit);
        if (!hit)
            continue;
        assert_int_equal(m.list_id, cases[i].list);
        assert_int_equal(m.apex_off, cases[i].off);
        assert_int_equal(m.apex_len, cases[i].len);
    }
    seized_free(s);
}

static void test_empty_matcher(void **state)
{
    (void)state;
    struct seized *s = seized_new();
    struct seized_match m;
    assert_int_equal(lookup(s, "example.com", &m), 0);
    assert_int_equal(seized_count(s), 0);
    assert_true(seized_memory(s) > 0);
    size_t counts[3] = { 9, 9, 9 };
    seized_list_counts(s, counts, 3);
    assert_int_equal(counts[0], 0);
    assert_int_equal(counts[2], 0);
    seized_free(s);
    seized_free(NULL);
}

static void test_duplicates_and_conflicts(void **state)
{
    (void)state;
    struct seized *s = seeded_matcher();
    size_t before = seized_count(s);
    uint16_t other = 0xffff;
    /* The same name in the same list, in any case: a no-op. */
    assert_int_equal(add(s, "example.com", 0, &other), 0);
    assert_int_equal(add(s, "EXAMPLE.com", 0, &other), 0);
    assert_int_equal(add(s, "Evil.Example.Com", 1, &other), 0);
    assert_int_equal(other, 0xffff);
    assert_int_equal(seized_count(s), before);
    /* The same name in another list. */
    assert_int_equal(add(s, "example.com", 5, &other), SK_EEXIST);
    assert_int_equal(other, 0);
    assert_int_equal(add(s, "EVIL.example.com", 0, &other), SK_EEXIST);
    assert_int_equal(other, 1);
    assert_int_equal(add(s, "deep.a.b.c.d", 2, NULL), SK_EEXIST);
    assert_int_equal(seized_count(s), before);
    /* The first list keeps it. */
    struct seized_match m;
    assert_int_equal(lookup(s, "www.example.com", &m), 1);
    assert_int_equal(m.list_id, 0);
    /* A name below or above another list's name is no conflict. */
    assert_int_equal(add(s, "www.evil.example.com", 4, &other), 0);
    assert_int_equal(add(s, "a.b.c.d", 4, &other), 0);
    assert_int_equal(seized_count(s), before + 2);
    assert_int_equal(lookup(s, "x.www.evil.example.com", &m), 1);
    assert_int_equal(m.list_id, 4);
    assert_int_equal(m.apex_off, 2);
    assert_int_equal(lookup(s, "deep.a.b.c.d", &m), 1);
    assert_int_equal(m.list_id, 3);
    assert_int_equal(lookup(s, "other.a.b.c.d", &m), 1);
    assert_int_equal(m.list_id, 4);

    size_t counts[6] = { 9, 9, 9, 9, 9, 9 };
    seized_list_counts(s, counts, 6);
    assert_int_equal(counts[0], 2);
    assert_int_equal(counts[1], 2);
    assert_int_equal(counts[2], 2);
    assert_int_equal(counts[3], 1);
    assert_int_equal(counts[4], 2);
    assert_int_equal(counts[5], 0);
    /* Fewer entries than lists: only those are written. */
    size_t two[3] = { 9, 9, 9 };
    seized_list_counts(s, two, 2);
    assert_int_equal(two[0], 2);
    assert_int_equal(two[1], 2);
    assert_int_equal(two[2], 9);
    seized_free(s);
}

static void test_bad_wire_names(void **state)
{
    (void)state;
    struct seized *s = seeded_matcher();
    static const struct {
        const char *w;
        size_t len;
    } bad[] = {
        { "", 0 },                    /* empty */
        { "\0", 1 },                  /* the root */
        { "\7example\3com", 12 },     /* no root label */
        { "\7example\3com\0\0", 14 }, /* trailing byte */
        { "\7example\xc0\x0c", 10 },  /* compression pointer */
        { "\7example\x50"
          "com\0",
          14 },                     /* label length past the end */
        { "\7example\3com\0", 12 }, /* len cuts the root off */
    };
    struct seized_match m;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const uint8_t *w = (const uint8_t *)bad[i].w;
        assert_int_equal(seized_add(s, w, bad[i].len, 0, NULL), SK_EINVAL);
        assert_int_equal(seized_lookup(s, w, bad[i].len, &m), 0);
    }
    /* Longer than 255 bytes. */
    uint8_t big[300];
    size_t n = 0;
    for (int i = 0; i < 5; i++) {
        big[n++] = 55;
        memset(big + n, 'a', 55);
        n += 55;
    }
    big[n++] = 0;
    assert_int_equal(n, 281);
    assert_int_equal(seized_add(s, big, n, 0, NULL), SK_EINVAL);
    assert_int_equal(seized_lookup(s, big, n, &m), 0);
    seized_free(s);
}

static void test_long_names(void **state)
{
    (void)state;
    struct seized *s = seized_new();
    /* 127 one-byte labels: the most labels a name can have, 255 bytes. */
    uint8_t many[255];
    for (int i = 0; i < 127; i++) {
        many[2 * i] = 1;
        many[2 * i + 1] = (uint8_t)('a' + i % 26);
    }
    many[254] = 0;
    /* Seize its last two labels and the whole name in another list. */
    assert_int_equal(seized_add(s, many + 250, 5, 0, NULL), 0);
    struct seized_match m;
    assert_int_equal(seized_lookup(s, many, sizeof(many), &m), 1);
    assert_int_equal(m.list_id, 0);
    assert_int_equal(m.apex_off, 250);
    assert_int_equal(m.apex_len, 5);
    assert_int_equal(seized_add(s, many, sizeof(many), 1, NULL), 0);
    assert_int_equal(seized_lookup(s, many, sizeof(many), &m), 1);
    assert_int_equal(m.list_id, 1);
    assert_int_equal(m.apex_off, 0);
    assert_int_equal(m.apex_len, 255);
    /* One label less is covered by the short one only. */
    assert_int_equal(seized_lookup(s, many + 2, sizeof(many) - 2, &m), 1);
    assert_int_equal(m.list_id, 0);
    assert_int_equal(m.apex_off, 248);

    /* Three 63-byte labels and one of 61: 255 bytes, from text. */
    char text[300];
    size_t t = 0;
    for (int l = 0; l < 4; l++) {
        int len = l < 3 ? 63 : 61;
        for (int i = 0; i < len; i++)
            text[t++] = (char)('A' + (l + i) % 26);
        text[t++] = '.';
    }
    uint8_t w[256];
    size_t wlen = 0;
    assert_null(seized__parse_name(text, t, w, &wlen));
    assert_int_equal(wlen, 255);
    assert_null(seized__parse_name(text, t - 1, w, &wlen)); /* without the dot */
    assert_int_equal(wlen, 255);
    assert_int_equal(seized_add(s, w, wlen, 2, NULL), 0);
    /* Upper-case text was stored lower-case; the query is upper-case. */
    uint8_t q[255];
    memcpy(q, w, sizeof(q));
    for (size_t i = 0; i < sizeof(q); i++)
        if (q[i] >= 'a' && q[i] <= 'z')
            q[i] = (uint8_t)(q[i] - 32);
    assert_int_equal(seized_lookup(s, q, sizeof(q), &m), 1);
    assert_int_equal(m.list_id, 2);
    assert_int_equal(m.apex_len, 255);
    /* One byte more does not fit. */
    text[t - 1] = 'x';
    text[t++] = '.';
    assert_string_equal(seized__parse_name(text, t, w, &wlen), "name longer than 255 bytes");
    seized_free(s);
}

static void test_parse_name(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        const char *why; /* NULL: parses */
        const char *wire;
        size_t wlen;
    } cases[] = {
        { "Example.COM", NULL, "\7example\3com", 13 },
        { "example.com.", NULL, "\7example\3com", 13 },
        { "a\\.b.example", NULL, "\3a.b\7example", 13 },
        { "\\065bc.example", NULL, "\3abc\7example", 13 },
        { "\\046x.example", NULL, "\2.x\7example", 12 },
        { "_dmarc.example", NULL, "\6_dmarc\7example", 16 },
        { "-x-.example", NULL, "\3-x-\7example", 13 },
        { "com", NULL, "\3com", 5 },
        { ".", "the root would seize every name", NULL, 0 },
        { "..", "empty label", NULL, 0 },
        { ".example", "empty label", NULL, 0 },
        { "a..example", "empty label", NULL, 0 },
        { "example.com..", "empty label", NULL, 0 },
        { "\\256.example", "bad escape", NULL, 0 },
        { "\\12.example", "bad escape", NULL, 0 },
        { "a\\1", "bad escape", NULL, 0 },
        { "a\\", "bad escape", NULL, 0 },
        { "*.example", "wildcards are not needed: a name covers every name below it", NULL, 0 },
        { "http://example.com/", "character not allowed", NULL, 0 },
        { "ex@mple.com", "character not allowed", NULL, 0 },
        { "ex\x01.com", "control character", NULL, 0 },
        { "b\xc3\xbc"
          "cher.example",
          "non-ASCII byte (use the xn-- form of an internationalized name)", NULL, 0 },
        { "0123456789012345678901234567890123456789012345678901234567890123.com",
          "label longer than 63 bytes", NULL, 0 },
        { "012345678901234567890123456789012345678901234567890123456789012.com", NULL, NULL, 69 },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint8_t w[256];
        size_t wlen = 0;
        const char *why = seized__parse_name(cases[i].text, strlen(cases[i].text), w, &wlen);
        if (cases[i].why == NULL) {
            if (why != NULL)
                fail_msg("%s: %s", cases[i].text, why);
            assert_int_equal(wlen, cases[i].wlen);
            if (cases[i].wire != NULL)
                assert_memory_equal(w, cases[i].wire, wlen);
        } else {
            if (why == NULL)
                fail_msg("%s: parsed", cases[i].text);
            assert_string_equal(why, cases[i].why);
        }
    }
}

/* ---- list files ------------------------------------------------------- */

/* Write text to a fresh temp file; its path goes into path[64]. */
static void temp_list(const char *text, size_t len, char path[64])
{
    snprintf(path, 64, "/tmp/sk-test-seized-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, len), (ssize_t)len);
    close(fd);
}

static void test_list_file_good(void **state)
{
    (void)state;
    static const char text[] = "\xef\xbb\xbf"
                               "# Seized for the takedown of 2024-05-01\n"
                               "good.example\n"
                               "\n"
                               "   \t\n"
                               "  # indented comment\n"
                               "\tspaced.example   # trailing comment\n"
                               "withdot.example.\r\n"
                               "crlf.example\r\n"
                               "Comment.Example#right after the name\n"
                               "a\\.b.example\n"
                               "a\\#b.example # an escaped hash is not a comment\n"
                               "good.example\n"
                               "GOOD.example.\n"
                               "last.example";
    char path[64];
    temp_list(text, sizeof(text) - 1, path);
    struct seized *s = seized_new();
    char err[256] = "";
    uint16_t other = 0xffff;
    assert_int_equal(seized_load_file(s, path, 3, &other, err, sizeof(err)), 0);
    assert_string_equal(err, "");
    assert_int_equal(other, 0xffff);
    assert_int_equal(seized_count(s), 8);
    static const char *const found[] = {
        "good.example",    "x.spaced.example", "withdot.example",  "crlf.example",
        "comment.example", "last.example",     "www.good.example",
    };
    for (size_t i = 0; i < sizeof(found) / sizeof(found[0]); i++) {
        struct seized_match m;
        if (lookup(s, found[i], &m) != 1)
            fail_msg("%s not found", found[i]);
        assert_int_equal(m.list_id, 3);
    }
    struct seized_match m;
    uint8_t w[] = "\3a.b\7example";
    assert_int_equal(seized_lookup(s, w, sizeof(w), &m), 1);
    uint8_t h[] = "\3a#b\7example";
    assert_int_equal(seized_lookup(s, h, sizeof(h), &m), 1);
    assert_int_equal(lookup(s, "b.example", &m), 0);
    assert_int_equal(lookup(s, "example", &m), 0);
    size_t counts[5];
    seized_list_counts(s, counts, 5);
    assert_int_equal(counts[3], 8);
    assert_int_equal(counts[0], 0);
    assert_int_equal(counts[4], 0);

    /* The same text from memory gives the same matcher. */
    struct seized *b = seized_new();
    assert_int_equal(seized__load_buf(b, text, sizeof(text) - 1, path, 3, &other, err, 256), 0);
    assert_int_equal(seized_count(b), 8);
    seized_free(b);
    seized_free(s);
    unlink(path);
}

static void test_list_file_errors(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int rc;
        const char *msg; /* after "PATH:" */
        size_t count;    /* names added before the error */
    } cases[] = {
        { "a.example\nb.example c.example\nd.example\n", SK_EINVAL,
          "2: expected one domain name per line", 1 },
        { "a.example b.example # two\n", SK_EINVAL, "1: expected one domain name per line", 0 },
        { "# header\n\na..example\n", SK_EINVAL, "3: bad domain name 'a..example': empty label",
          0 },
        { "x.example\n.\n", SK_EINVAL, "2: bad domain name '.': the root would seize every name",
          1 },
        { "  *.evil.example  # all below\n", SK_EINVAL,
          "1: bad domain name '*.evil.example': wildcards are not needed: a name covers every "
          "name below it",
          0 },
        { "a.example\nb.example\n\nhttp://c.example/\n", SK_EINVAL,
          "4: bad domain name 'http://c.example/': character not allowed", 2 },
        { "b\xc3\xbc"
          "cher.example\n",
          SK_EINVAL,
          "1: bad domain name 'b??cher.example': non-ASCII byte (use the xn-- form of an "
          "internationalized name)",
          0 },
        { "a\\300.example\n", SK_EINVAL, "1: bad domain name 'a\\300.example': bad escape", 0 },
        { "ok.example\r\nbad\x01name.example\r\n", SK_EINVAL,
          "2: bad domain name 'bad?name.example': control character", 1 },
        { "it's.example\n", SK_EINVAL, "1: bad domain name 'it?s.example': character not allowed",
          0 },
        { "0123456789012345678901234567890123456789012345678901234567890123.example\n", SK_EINVAL,
          "1: bad domain name "
          "'0123456789012345678901234567890123456789012345678901234567890123.example': label "
          "longer than 63 bytes",
          0 },
        { "taken.example\n", SK_EEXIST, "1: 'taken.example' is already in another list", 0 },
        { "free.example\n# c\nWWW.Taken2.Example.   # again\n", SK_EEXIST,
          "3: 'WWW.Taken2.Example.' is already in another list", 1 },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        for (int mode = 0; mode < 2; mode++) {
            char path[64];
            temp_list(cases[i].text, strlen(cases[i].text), path);
            struct seized *s = seized_new();
            assert_int_equal(add(s, "taken.example", 7, NULL), 0);
            assert_int_equal(add(s, "www.taken2.example", 6, NULL), 0);
            char err[512] = "";
            uint16_t other = 0xffff;
            int rc = mode == 0 ? seized_load_file(s, path, 1, &other, err, sizeof(err))
                               : seized__load_buf(s, cases[i].text, strlen(cases[i].text), path, 1,
                                                  &other, err, sizeof(err));
            char want[512];
            snprintf(want, sizeof(want), "%s:%s", path, cases[i].msg);
            if (rc != cases[i].rc)
                fail_msg("case %zu: rc %d (%s)", i, rc, err);
            assert_string_equal(err, want);
            if (rc == SK_EEXIST)
                assert_true(other == 7 || other == 6);
            else
                assert_int_equal(other, 0xffff);
            /* Names read before the error stay added. */
            assert_int_equal(seized_count(s), 2 + cases[i].count);
            size_t counts[2];
            seized_list_counts(s, counts, 2);
            assert_int_equal(counts[1], cases[i].count);
            seized_free(s);
            unlink(path);
        }
    }
}

static void test_list_file_system_errors(void **state)
{
    (void)state;
    struct seized *s = seized_new();
    char err[256];
    uint16_t other = 0;
    const char *missing = "/nonexistent/sk-seized/list.txt";
    assert_int_equal(seized_load_file(s, missing, 0, &other, err, sizeof(err)), SK_ERR(ENOENT));
    assert_string_equal(err, "/nonexistent/sk-seized/list.txt: No such file or directory");
    assert_int_equal(seized_load_file(s, "/tmp", 0, &other, err, sizeof(err)), SK_ERR(EISDIR));
    assert_string_equal(err, "/tmp: Is a directory");
    /* A short buffer truncates, and none at all is allowed. */
    char small[8];
    assert_int_equal(seized_load_file(s, missing, 0, &other, small, sizeof(small)), SK_ERR(ENOENT));
    assert_string_equal(small, "/nonexi");
    assert_int_equal(seized_load_file(s, missing, 0, &other, NULL, 0), SK_ERR(ENOENT));
    /* An empty file is an empty list. */
    char path[64];
    temp_list("", 0, path);
    assert_int_equal(seized_load_file(s, path, 0, &other, err, sizeof(err)), 0);
    assert_int_equal(seized_count(s), 0);
    unlink(path);
    seized_free(s);
}

/* Two list files into one matcher, as the daemon loads [seized.*]. */
static void test_two_list_files(void **state)
{
    (void)state;
    char p0[64], p1[64];
    static const char l0[] = "example.com\nexample.net\n";
    static const char l1[] = "evil.example.com\nother.example.org\n";
    temp_list(l0, sizeof(l0) - 1, p0);
    temp_list(l1, sizeof(l1) - 1, p1);
    struct seized *s = seized_new();
    char err[256];
    uint16_t other;
    assert_int_equal(seized_load_file(s, p0, 0, &other, err, sizeof(err)), 0);
    assert_int_equal(seized_load_file(s, p1, 1, &other, err, sizeof(err)), 0);
    assert_int_equal(seized_count(s), 4);
    struct seized_match m;
    assert_int_equal(lookup(s, "x.evil.example.com", &m), 1);
    assert_int_equal(m.list_id, 1);
    assert_int_equal(m.apex_off, 2);
    assert_int_equal(m.apex_len, 18);
    assert_int_equal(lookup(s, "www.example.com", &m), 1);
    assert_int_equal(m.list_id, 0);
    assert_int_equal(m.apex_off, 4);
    assert_int_equal(m.apex_len, 13);
    size_t counts[2];
    seized_list_counts(s, counts, 2);
    assert_int_equal(counts[0], 2);
    assert_int_equal(counts[1], 2);
    /* Loading the first file again into another list is a conflict. */
    assert_int_equal(seized_load_file(s, p0, 2, &other, err, sizeof(err)), SK_EEXIST);
    assert_int_equal(other, 0);
    char want[128];
    snprintf(want, sizeof(want), "%s:1: 'example.com' is already in another list", p0);
    assert_string_equal(err, want);
    unlink(p0);
    unlink(p1);
    seized_free(s);
}

/* ---- scale ------------------------------------------------------------ */

#define MANY 200000

static uint64_t rng_next(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

/* A DGA-like name, unique for each i: random letters and digits, then i
 * in base 36, under one of a few suffixes. */
static size_t random_name(uint64_t *rng, uint32_t i, const char *const *tlds, char *out)
{
    static const char alnum[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    size_t n = 0;
    int len = 4 + (int)(rng_next(rng) % 10);
    for (int k = 0; k < len; k++)
        out[n++] = alnum[rng_next(rng) % 26 + (k ? rng_next(rng) % 2 * 10 : 0)];
    out[n++] = '-';
    do {
        out[n++] = alnum[i % 36];
        i /= 36;
    } while (i);
    n += (size_t)sprintf(out + n, ".%s", tlds[rng_next(rng) % 4]);
    return n;
}

static void test_many_names(void **state)
{
    (void)state;
    static const char *const tlds[] = { "com", "net", "example.org", "co.uk" };
    static const char *const miss_tlds[] = { "info", "example.net", "org", "uk" };
    struct seized *s = seized_new();
    uint64_t rng = 0x5eed;
    char text[128];
    uint8_t w[256];
    size_t wlen;
    for (uint32_t i = 0; i < MANY; i++) {
        size_t n = random_name(&rng, i, tlds, text);
        assert_null(seized__parse_name(text, n, w, &wlen));
        assert_int_equal(seized_add(s, w, wlen, (uint16_t)(i % 7), NULL), 0);
    }
    assert_int_equal(seized_count(s), MANY);
    size_t counts[8];
    seized_list_counts(s, counts, 8);
    size_t total = 0;
    for (int i = 0; i < 7; i++) {
        assert_true(counts[i] >= MANY / 7 && counts[i] <= MANY / 7 + 1);
        total += counts[i];
    }
    assert_int_equal(total, MANY);
    assert_int_equal(counts[7], 0);
    /* Well under the 64 bytes a name the matcher is allowed. */
    assert_true(seized_memory(s) / MANY <= 64);

    /* Every name is found, itself and below, in its own list. */
    rng = 0x5eed;
    for (uint32_t i = 0; i < MANY; i++) {
        size_t n = random_name(&rng, i, tlds, text);
        uint8_t q[260];
        memcpy(q, "\3WWW", 4);
        assert_null(seized__parse_name(text, n, q + 4, &wlen));
        q[5] ^= 0x20; /* upper-case one letter */
        struct seized_match m;
        if (seized_lookup(s, q + 4, wlen, &m) != 1)
            fail_msg("%.*s not found", (int)n, text);
        assert_int_equal(m.list_id, i % 7);
        assert_int_equal(m.apex_off, 0);
        assert_int_equal(m.apex_len, wlen);
        assert_int_equal(seized_lookup(s, q, wlen + 4, &m), 1);
        assert_int_equal(m.list_id, i % 7);
        assert_int_equal(m.apex_off, 4);
        assert_int_equal(m.apex_len, wlen);
    }
    /* The same labels under other suffixes, and other random names, are not. */
    rng = 0x5eed;
    uint64_t rng2 = 0xfeed;
    for (uint32_t i = 0; i < MANY; i++) {
        struct seized_match m;
        size_t n = random_name(&rng, i, miss_tlds, text);
        assert_null(seized__parse_name(text, n, w, &wlen));
        if (seized_lookup(s, w, wlen, &m) != 0)
            fail_msg("%.*s found", (int)n, text);
        n = random_name(&rng2, i + MANY, tlds, text);
        assert_null(seized__parse_name(text, n, w, &wlen));
        assert_int_equal(seized_lookup(s, w, wlen, &m), 0);
    }
    seized_free(s);
}

struct reader_arg {
    const struct seized *s;
    int found;
};

static void *reader(void *p)
{
    struct reader_arg *a = p;
    static const char *const names[] = { "x.evil.example.com", "www.example.com", "notbad.example",
                                         "sub.bad.example" };
    for (int i = 0; i < 20000; i++) {
        struct seized_match m;
        a->found += lookup(a->s, names[i % 4], &m);
    }
    return NULL;
}

/* A built matcher is read by many threads at once (run under TSan by hand). */
static void test_concurrent_readers(void **state)
{
    (void)state;
    struct seized *s = seeded_matcher();
    pthread_t t[4];
    struct reader_arg a[4];
    for (int i = 0; i < 4; i++) {
        a[i] = (struct reader_arg){ s, 0 };
        assert_int_equal(pthread_create(&t[i], NULL, reader, &a[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(a[i].found, 15000);
    }
    seized_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lookup_table),
        cmocka_unit_test(test_empty_matcher),
        cmocka_unit_test(test_duplicates_and_conflicts),
        cmocka_unit_test(test_bad_wire_names),
        cmocka_unit_test(test_long_names),
        cmocka_unit_test(test_parse_name),
        cmocka_unit_test(test_list_file_good),
        cmocka_unit_test(test_list_file_errors),
        cmocka_unit_test(test_list_file_system_errors),
        cmocka_unit_test(test_two_list_files),
        cmocka_unit_test(test_many_names),
        cmocka_unit_test(test_concurrent_readers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
