/* Unit tests for the family registry and the DGAs.
 *
 * The main table checks each family against a list published with a
 * public reimplementation (tests/data/domains/, provenance and SHA-256 in
 * docs/families.md): the names a bot queries on the given day must begin
 * with exactly the published lines. Further tests pin down when sets
 * change (bucket boundaries, month and year ends), range generation and
 * the errors for bad family, variant and seed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/err.h"
#include "domains/date.h"
#include "domains/family.h"

#define MAX_NAMES 50000

struct names {
    char **v;
    size_t n, cap;
};

static int collect(void *arg, const char *name, size_t len)
{
    struct names *ns = arg;
    if (ns->n == ns->cap) {
        ns->cap = ns->cap ? ns->cap * 2 : 256;
        ns->v = realloc(ns->v, ns->cap * sizeof(*ns->v));
        assert_non_null(ns->v);
    }
    ns->v[ns->n] = strndup(name, len);
    assert_non_null(ns->v[ns->n]);
    assert_int_equal(strlen(ns->v[ns->n]), len);
    ns->n++;
    return ns->n >= MAX_NAMES;
}

static void names_free(struct names *ns)
{
    for (size_t i = 0; i < ns->n; i++)
        free(ns->v[i]);
    free(ns->v);
    memset(ns, 0, sizeof(*ns));
}

static int32_t day_of(const char *s)
{
    int32_t d;
    assert_int_equal(domains_parse_date(s, 0, &d), 0);
    return d;
}

static void run_for(struct domains_run *run, const char *family, const char *seed,
                    const char *variant)
{
    char err[1024];
    int rc = domains_run_init(run, domains_family_find(family), seed, variant, 0, err, sizeof(err));
    if (rc)
        fprintf(stderr, "%s\n", err);
    assert_int_equal(rc, 0);
}

static void day_names(const char *family, const char *seed, const char *variant, const char *date,
                      struct names *out)
{
    struct domains_run run;
    run_for(&run, family, seed, variant);
    memset(out, 0, sizeof(*out));
    int rc = domains_run_day(&run, day_of(date), collect, out);
    assert_true(rc == 0 || rc == 1);
}

static size_t read_fixture(const char *file, struct names *out)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/domains/%s", SK_TEST_DATA, file);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    memset(out, 0, sizeof(*out));
    char line[512];
    while (fgets(line, sizeof(line), f) != NULL) {
        size_t l = strlen(line);
        while (l && (line[l - 1] == '\n' || line[l - 1] == '\r'))
            line[--l] = '\0';
        if (l)
            collect(out, line, l);
    }
    fclose(f);
    return out->n;
}

/* Each fixture: file, family, seed, variant, day, whether the file is the
 * complete list the bot queries that day (else a prefix), and how many
 * names the day has in total. */
static const struct fixture {
    const char *file, *family, *seed, *variant, *date;
    int complete;
    size_t total;
} fixtures[] = {
    { "necurs_2015-08-28.txt", "necurs", NULL, NULL, "2015-08-28", 0, 2048 },
    { "murofet_2015-09-01.txt", "murofet", NULL, NULL, "2015-09-01", 0, 1020 },
    { "murofet2_nokey_2015-09-03.txt", "murofet2", NULL, "nokey", "2015-09-03", 0, 1020 },
    { "newgoz_2015-08-31.txt", "newgoz", NULL, NULL, "2015-08-31", 0, 1000 },
    { "qakbot_2016-02-21.txt", "qakbot", NULL, NULL, "2016-02-21", 0, 5000 },
    { "locky_config1_2016-02-28.txt", "locky", NULL, "config1", "2016-02-28", 1, 8 },
    { "pushdo_kz_v1_2019-12-06.txt", "pushdo", NULL, "kz_v1", "2019-12-06", 0, 1350 },
    { "ranbyus_b6354bc3_2015-05-14.txt", "ranbyus", "B6354BC3", NULL, "2015-05-14", 1, 40 },
    { "symmi_2015-08-16.txt", "symmi", NULL, NULL, "2015-08-16", 1, 64 },
    { "banjori_earnestnessbiophysicalohax.txt", "banjori", NULL, NULL, "2015-01-01", 0, 1000 },
    { "ramnit_79159c10.txt", "ramnit", "79159C10", NULL, "2015-01-01", 1, 100 },
    { "tinba_jc74.txt", "tinba", NULL, "jc74", "2015-01-01", 1, 401 },
};

static void test_published_lists(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(fixtures) / sizeof(fixtures[0]); i++) {
        const struct fixture *fx = &fixtures[i];
        struct names want, got;
        size_t n = read_fixture(fx->file, &want);
        assert_true(n >= 8);
        day_names(fx->family, fx->seed, fx->variant, fx->date, &got);
        if (got.n != fx->total)
            fprintf(stderr, "%s: %zu names, expected %zu\n", fx->file, got.n, fx->total);
        assert_int_equal(got.n, fx->total);
        if (fx->complete)
            assert_int_equal(n, got.n);
        for (size_t k = 0; k < n; k++) {
            if (strcmp(want.v[k], got.v[k]) != 0)
                fprintf(stderr, "%s line %zu: want %s got %s\n", fx->file, k + 1, want.v[k],
                        got.v[k]);
            assert_string_equal(want.v[k], got.v[k]);
        }
        names_free(&want);
        names_free(&got);
    }
}

/* Days on which the published list applies too (the family's set is the
 * same): the first name must match. */
static void test_same_set_days(void **state)
{
    (void)state;
    static const struct {
        const char *family, *variant, *date, *first;
    } same[] = {
        { "necurs", NULL, "2015-08-31", "nccojqvabqvkiwhj.mx" },
        { "murofet", NULL, "2015-09-06", "giywswshrgxcvoqgvrkthmfa.ru" },
        { "qakbot", NULL, "2016-02-29", "bqkrtxgkmriwsiwcngtivpx.info" },
        { "symmi", NULL, "2015-08-31", "ogovugtuipawi.ddns.net" },
        { "locky", "config1", "2016-02-29", "gegjiimqmlgtdmk.tf" },
    };
    static const struct {
        const char *family, *variant, *date, *first;
    } other[] = {
        /* The day before or after a bucket boundary gives another set. */
        { "necurs", NULL, "2015-08-27", "nccojqvabqvkiwhj.mx" },
        { "necurs", NULL, "2015-09-01", "nccojqvabqvkiwhj.mx" },
        { "murofet", NULL, "2015-09-07", "giywswshrgxcvoqgvrkthmfa.ru" },
        { "murofet", NULL, "2015-08-31", "giywswshrgxcvoqgvrkthmfa.ru" },
        { "qakbot", NULL, "2016-02-20", "bqkrtxgkmriwsiwcngtivpx.info" },
        { "qakbot", NULL, "2016-03-01", "bqkrtxgkmriwsiwcngtivpx.info" },
        { "symmi", NULL, "2015-08-15", "ogovugtuipawi.ddns.net" },
        { "symmi", NULL, "2015-09-01", "ogovugtuipawi.ddns.net" },
        { "locky", "config1", "2016-02-27", "gegjiimqmlgtdmk.tf" },
        { "locky", "config1", "2016-03-01", "gegjiimqmlgtdmk.tf" },
        { "newgoz", NULL, "2015-09-01", "xzz3ug32bale1uo60y7xj6rge.com" },
        { "newgoz", NULL, "2016-08-31", "xzz3ug32bale1uo60y7xj6rge.com" },
        { "murofet2", "nokey", "2015-09-04", "cmqvvxtppnibli.biz" },
        { "murofet2", "d6d7a4be", "2015-09-03", "cmqvvxtppnibli.biz" },
    };
    for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
        struct names got;
        day_names(same[i].family, NULL, same[i].variant, same[i].date, &got);
        assert_true(got.n > 0);
        assert_string_equal(got.v[0], same[i].first);
        names_free(&got);
    }
    for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++) {
        struct names got;
        day_names(other[i].family, NULL, other[i].variant, other[i].date, &got);
        assert_true(got.n > 0);
        assert_string_not_equal(got.v[0], other[i].first);
        names_free(&got);
    }
}

/* The names of the sets of a year end, and that each name is well
 * formed: every family, every variant, across 2015-12-30 .. 2016-01-02. */
struct shape {
    size_t n;
    const char *family;
};

static int shape_cb(const struct domains_name *n, void *arg)
{
    struct shape *s = arg;
    assert_int_equal(domains_name_check(n->name, n->len), 0);
    assert_true(n->first_day <= n->last_day);
    assert_string_equal(n->family, s->family);
    s->n++;
    return 0;
}

static void test_all_variants_year_end(void **state)
{
    (void)state;
    int32_t from = day_of("2015-12-30"), to = day_of("2016-01-02");
    for (size_t i = 0; i < domains_family_count(); i++) {
        const struct domains_family *f = domains_family_at(i);
        assert_non_null(f->name);
        assert_non_null(f->source);
        assert_true(f->nvariants > 0);
        for (size_t v = 0; v < f->nvariants; v++) {
            struct domains_run run;
            run_for(&run, f->name, NULL, f->variants[v].name);
            struct shape s = { 0, f->name };
            assert_int_equal(domains_run_range(&run, from, to, DOMAINS_DEDUP, shape_cb, &s), 0);
            assert_true(s.n > 0);
        }
    }
}

/* ---- ranges ---- */

struct rangec {
    size_t n;
    int32_t first[4], last[4];
    size_t per[4];
    int sets;
    char prev_first[256];
};

static int range_cb(const struct domains_name *n, void *arg)
{
    struct rangec *r = arg;
    if (r->sets == 0 || r->first[r->sets - 1] != n->first_day) {
        assert_true(r->sets < 4);
        r->first[r->sets] = n->first_day;
        r->last[r->sets] = n->last_day;
        r->sets++;
    }
    r->per[r->sets - 1]++;
    r->n++;
    return 0;
}

static void test_range_sets(void **state)
{
    (void)state;
    struct domains_run run;
    run_for(&run, "necurs", NULL, NULL);
    struct rangec r = { 0 };
    /* Aug 28..Sep 5: buckets 28-31 (Aug), 1-3 and 4-5 (Sep). */
    assert_int_equal(domains_run_range(&run, day_of("2015-08-28"), day_of("2015-09-05"),
                                       DOMAINS_DEDUP, range_cb, &r),
                     0);
    assert_int_equal(r.sets, 3);
    assert_int_equal(r.first[0], day_of("2015-08-28"));
    assert_int_equal(r.last[0], day_of("2015-08-31"));
    assert_int_equal(r.first[1], day_of("2015-09-01"));
    assert_int_equal(r.last[1], day_of("2015-09-03"));
    assert_int_equal(r.first[2], day_of("2015-09-04"));
    assert_int_equal(r.last[2], day_of("2015-09-05"));
    assert_int_equal(r.per[0], 2048);
    assert_int_equal(r.n, 3 * 2048);

    /* Pushdo: a name set is live for 45 days around its day number. */
    run_for(&run, "pushdo", NULL, NULL);
    struct names got;
    memset(&got, 0, sizeof(got));
    assert_int_equal(domains_run_day(&run, day_of("2019-12-06"), collect, &got), 0);
    assert_int_equal(got.n, 45 * 30);
    names_free(&got);

    /* Bad ranges. */
    assert_int_equal(domains_run_range(&run, 10, 9, 0, range_cb, &r), SK_EINVAL);
    assert_int_equal(domains_run_range(&run, -1, 9, 0, range_cb, &r), SK_EINVAL);
}

static int stop_after_3(const struct domains_name *n, void *arg)
{
    (void)n;
    return ++*(int *)arg == 3 ? 42 : 0;
}

static void test_callback_stops(void **state)
{
    (void)state;
    int count = 0;
    char err[256];
    assert_int_equal(domains_generate("qbot", NULL, NULL, day_of("2016-02-21"),
                                      day_of("2016-02-21"), stop_after_3, &count, err, sizeof(err)),
                     42);
    assert_int_equal(count, 3);
}

struct dupc {
    size_t n;
};

static int dup_cb(const struct domains_name *n, void *arg)
{
    (void)n;
    ((struct dupc *)arg)->n++;
    return 0;
}

static void test_dedup(void **state)
{
    (void)state;
    /* Locky config 5 uses index mod 6 for 8 names: two repeats a set. */
    struct domains_run run;
    run_for(&run, "locky", NULL, "config5");
    struct dupc a = { 0 }, b = { 0 };
    int32_t d = day_of("2016-03-10");
    assert_int_equal(domains_run_range(&run, d, d, 0, dup_cb, &a), 0);
    assert_int_equal(domains_run_range(&run, d, d, DOMAINS_DEDUP, dup_cb, &b), 0);
    assert_int_equal(a.n, 8);
    assert_int_equal(b.n, 6);
}

/* ---- registry and errors ---- */

static void test_registry(void **state)
{
    (void)state;
    assert_true(domains_family_count() >= 8);
    assert_ptr_equal(domains_family_find("QBOT"), domains_family_find("qakbot"));
    assert_ptr_equal(domains_family_find("gameover-zeus"), domains_family_find("newgoz"));
    assert_ptr_equal(domains_family_find("licat"), domains_family_find("murofet"));
    assert_null(domains_family_find("nosuch"));
    assert_null(domains_family_find(NULL));
    /* Names and aliases are unique across the registry. */
    for (size_t i = 0; i < domains_family_count(); i++)
        assert_ptr_equal(domains_family_find(domains_family_at(i)->name), domains_family_at(i));
    assert_null(domains_family_at(domains_family_count()));
}

static void test_run_errors(void **state)
{
    (void)state;
    struct domains_run run;
    char err[1024];
    assert_int_equal(domains_run_init(&run, NULL, NULL, NULL, 0, err, sizeof(err)), SK_ENOTFOUND);
    assert_non_null(strstr(err, "necurs"));
    const struct domains_family *ramnit = domains_family_find("ramnit");
    assert_int_equal(domains_run_init(&run, ramnit, "xyz", NULL, 0, err, sizeof(err)), SK_EINVAL);
    assert_non_null(strstr(err, "known seeds"));
    assert_non_null(strstr(err, "0x79159C10"));
    assert_int_equal(domains_run_init(&run, ramnit, NULL, "nope", 0, err, sizeof(err)),
                     SK_ENOTFOUND);
    assert_non_null(strstr(err, "valid variants"));
    assert_non_null(strstr(err, "79159c10"));
    assert_int_equal(
        domains_run_init(&run, domains_family_find("newgoz"), "5", NULL, 0, err, sizeof(err)),
        SK_EINVAL);
    assert_int_equal(
        domains_run_init(&run, ramnit, NULL, NULL, DOMAINS_COUNT_MAX + 1, err, sizeof(err)),
        SK_EINVAL);
    assert_int_equal(domains_run_init(&run, domains_family_find("banjori"), "abcd.com", NULL, 0,
                                      err, sizeof(err)),
                     0);
    assert_int_equal(domains_run_init(&run, domains_family_find("banjori"), "ab1d.com", NULL, 0,
                                      err, sizeof(err)),
                     SK_EINVAL);
    assert_int_equal(domains_run_init(&run, domains_family_find("banjori"), "Abcd.com", NULL, 0,
                                      err, sizeof(err)),
                     SK_EINVAL);
    assert_int_equal(
        domains_run_init(&run, domains_family_find("tinba"), "short.cc", NULL, 0, err, sizeof(err)),
        SK_EINVAL);
    assert_int_equal(domains_generate("nosuch", NULL, NULL, 0, 0, dup_cb, NULL, err, sizeof(err)),
                     SK_ENOTFOUND);
    assert_non_null(strstr(err, "valid families"));
    assert_int_equal(domains_generate("necurs", NULL, NULL, 5, 4, dup_cb, NULL, err, sizeof(err)),
                     SK_EINVAL);
    /* --count overrides the set size. */
    assert_int_equal(
        domains_run_init(&run, domains_family_find("necurs"), "9", NULL, 10, err, sizeof(err)), 0);
    struct names got;
    memset(&got, 0, sizeof(got));
    assert_int_equal(domains_run_day(&run, day_of("2015-08-28"), collect, &got), 0);
    assert_int_equal(got.n, 10);
    assert_string_equal(got.v[0], "nccojqvabqvkiwhj.mx");
    names_free(&got);
}

static void test_name_check(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        int ok;
    } cases[] = {
        { "a.com", 1 },
        { "xn--bcher-kva.example", 1 },
        { "_dmarc.example", 1 },
        { "com", 1 },
        { "", 0 },
        { ".com", 0 },
        { "a..com", 0 },
        { "a.com.", 0 },
        { "a b.com", 0 },
        { "a/b.com", 0 },
        { "a*.com", 0 },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_int_equal(domains_name_check(cases[i].name, strlen(cases[i].name)) == 0,
                         cases[i].ok);
    char label[80];
    memset(label, 'a', 64);
    label[64] = '\0';
    assert_int_equal(domains_name_check(label, 64), SK_EINVAL);
    assert_int_equal(domains_name_check(label, 63), 0);
}

/* ---- static lists ---- */

static void test_static_list(void **state)
{
    (void)state;
    char path[512], err[512];
    snprintf(path, sizeof(path), "%s/domains/megad-example.list", SK_TEST_DATA);
    struct domains_static *s = NULL;
    assert_int_equal(domains_static_load(path, &s, err, sizeof(err)), 0);
    const struct domains_family *f = domains_static_family(s);
    assert_string_equal(f->name, "megad-example");
    assert_string_equal(f->aliases, "megad-test");
    assert_int_equal(f->kind, DOMAINS_STATIC);
    assert_int_equal(domains_static_size(s), 3);
    struct domains_run run;
    domains_run_init_static(&run, s);
    struct names got;
    memset(&got, 0, sizeof(got));
    assert_int_equal(domains_run_day(&run, day_of("2009-11-10"), collect, &got), 0);
    assert_int_equal(got.n, 3);
    assert_string_equal(got.v[1], "fallback-two.example"); /* lower-cased, dot dropped */
    names_free(&got);
    assert_int_equal(domains_run_day(&run, day_of("2009-12-01"), collect, &got), 0);
    assert_int_equal(got.n, 2);
    names_free(&got);
    assert_int_equal(domains_run_day(&run, day_of("2009-11-05"), collect, &got), 0);
    assert_int_equal(got.n, 2); /* three starts on 2009-11-06 */
    names_free(&got);
    domains_static_free(s);

    /* Errors name the file and line. */
    static const struct {
        const char *text, *msg;
    } bad[] = {
        { "# family: x\nok.example\nbad..example\n", ":3: bad domain name" },
        { "ok.example\n", "missing '# family: NAME'" },
        { "# family: x\nok.example 2009-13-01\n", ":2: bad first day" },
        { "# family: x\nok.example 2009-11-02 2009-11-01\n", ":2: last day before" },
        { "# family: x\nok.example 2009-11-01 2009-11-02 extra\n", ":2: expected NAME" },
        { "# family: a b\nok.example\n", "bad family name" },
    };
    char tmp[] = "/tmp/sk-test-static-XXXXXX";
    int fd = mkstemp(tmp);
    assert_true(fd >= 0);
    close(fd);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        FILE *w = fopen(tmp, "w");
        fputs(bad[i].text, w);
        fclose(w);
        assert_int_equal(domains_static_load(tmp, &s, err, sizeof(err)), SK_EINVAL);
        assert_null(s);
        if (strstr(err, bad[i].msg) == NULL)
            fprintf(stderr, "case %zu: %s\n", i, err);
        assert_non_null(strstr(err, bad[i].msg));
    }
    unlink(tmp);
    assert_true(domains_static_load("/nonexistent/x.list", &s, err, sizeof(err)) < 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_published_lists),
        cmocka_unit_test(test_same_set_days),
        cmocka_unit_test(test_all_variants_year_end),
        cmocka_unit_test(test_range_sets),
        cmocka_unit_test(test_callback_stops),
        cmocka_unit_test(test_dedup),
        cmocka_unit_test(test_registry),
        cmocka_unit_test(test_run_errors),
        cmocka_unit_test(test_name_check),
        cmocka_unit_test(test_static_list),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
