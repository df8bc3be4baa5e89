/* Unit tests for classify/rules: every directive as loaded, every load
 * error with its FILE:LINE, each kind of condition, AND within a rule and
 * first match across rules, bot-id extraction (regex capture, offset and
 * length, hex and base64), replies and the defaults, a pathological regex
 * stopped by the match limit, 1,000 rules, and threads sharing one set of
 * rules. */
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
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "classify/rules.h"
#include "classify/rules_internal.h"
#include "core/err.h"

static char dir[] = "/tmp/sk-test-rules-XXXXXX";
static char rules_path[600];

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void write_file(const char *name, const void *data, size_t len)
{
    char path[700];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
}

/* Load text as <dir>/t.rules from memory; errors into errbuf. */
static int load(const char *text, struct rules **r, char *errbuf, size_t cap)
{
    memset(errbuf, 0, cap);
    FILE *errs = fmemopen(errbuf, cap - 1, "w");
    assert_non_null(errs);
    int rc = rules_load_buf(text, strlen(text), rules_path, r, errs);
    fclose(errs);
    return rc;
}

static struct rules *load_ok(const char *text)
{
    char err[4096];
    struct rules *r = NULL;
    int rc = load(text, &r, err, sizeof(err));
    if (rc != 0)
        fprintf(stderr, "unexpected errors:\n%s", err);
    assert_int_equal(rc, 0);
    assert_string_equal(err, "");
    assert_non_null(r);
    return r;
}

static int setup(void **state)
{
    (void)state;
    if (mkdtemp(dir) == NULL)
        return -1;
    snprintf(rules_path, sizeof(rules_path), "%s/t.rules", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[700];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* ---- inputs ---- */

/* An OpenSSL s_client ClientHello record: SNI example.test, ALPN h2 and
 * http/1.1, TLS 1.3 (from tests/unit/proto/test_tls.c). */
static const char REC_OPENSSL_SNI_ALPN[] =
    "160301014b010001470303a6b201d17de016389a917ebbfdf5b8264c01e3584bc6c210887fd2e742f0b3a3209f4b"
    "c906181c674278d9044d93204f931e7a20da3d2cb787bfbb1f979183a2ac003e130213031301c02cc030009fcca9"
    "cca8ccaac02bc02f009ec024c028006bc023c0270067c00ac0140039c009c0130033009d009c003d003c0035002f"
    "00ff010000c000000011000f00000c6578616d706c652e74657374000b000403000102000a00160014001d001700"
    "1e0019001801000101010201030104002300000010000e000c02683208687474702f312e31001600000017000000"
    "0d002a0028040305030603080708080809080a080b08040805080604010501060103030301030204020502060200"
    "2b0009080304030303020301002d00020101003300260024001d00205f1b33ebd39ff4d8dbc930c6b39feb1e4e4b"
    "5fadc085a7e1ae190795b64cf309";
/* Its fingerprints, as tls_ja3_hash() and tls_ja4() compute them. */
#define TLS_JA3 "5a1edc7f170af1014fc65c994878e63c"
#define TLS_JA4 "t13d3111h2_e8f1e7e78f70_1f22a2ca17c4"

enum input_id { IN_RAW, IN_HTTP, IN_TLS, IN_UDP, IN_SILENT, IN_HTTP10, IN_COUNT };

struct contact {
    struct rules_input in;
    struct http_request req;
    struct tls_hello hello;
    uint8_t buf[4096];
};

static struct contact contacts[IN_COUNT];

static void make_raw(struct contact *c, uint16_t port, uint8_t transport, const void *b, size_t n)
{
    memset(c, 0, sizeof(*c));
    memcpy(c->buf, b, n);
    c->in.port = port;
    c->in.transport = transport;
    c->in.proto = SNIFF_RAW;
    c->in.data = c->buf;
    c->in.len = n;
}

static void make_http(struct contact *c, uint16_t port, const char *text)
{
    memset(c, 0, sizeof(*c));
    size_t n = strlen(text);
    memcpy(c->buf, text, n);
    assert_int_equal(http_parse_request(c->buf, n, 0, NULL, &c->req), HTTP_COMPLETE);
    c->in.port = port;
    c->in.transport = RULES_TCP;
    c->in.proto = SNIFF_HTTP;
    c->in.data = c->buf;
    c->in.len = n;
    c->in.http = &c->req;
    c->in.http_buf = c->buf;
    c->in.body = c->buf + c->req.head_len;
    c->in.body_len = n - c->req.head_len;
}

static void make_tls(struct contact *c, uint16_t port)
{
    memset(c, 0, sizeof(*c));
    size_t n = strlen(REC_OPENSSL_SNI_ALPN) / 2;
    for (size_t i = 0; i < n; i++) {
        unsigned x;
        assert_int_equal(sscanf(REC_OPENSSL_SNI_ALPN + 2 * i, "%2x", &x), 1);
        c->buf[i] = (uint8_t)x;
    }
    assert_int_equal(tls_parse_client_hello(c->buf, n, &c->hello), TLS_HELLO_OK);
    c->in.port = port;
    c->in.transport = RULES_TCP;
    c->in.proto = SNIFF_TLS;
    c->in.data = c->buf;
    c->in.len = n;
    c->in.tls = &c->hello;
}

#define RAW_CHECKIN                                                                                \
    "\x4d\x44\x01\x07\x00\x00\x00\x18\x01\x23\x45\x67\x89\xab\xcd\xef\xfe\xdc\xba\x98\x76\x54\x32" \
    "\x10"

static int setup_contacts(void **state)
{
    if (setup(state) != 0)
        return -1;
    make_raw(&contacts[IN_RAW], 80, RULES_TCP, RAW_CHECKIN, sizeof(RAW_CHECKIN) - 1);
    make_http(&contacts[IN_HTTP], 8080,
              "POST /gate.php?v=2&aid=3q2-7w HTTP/1.1\r\n"
              "Host: C2.Example.COM\r\n"
              "User-Agent: Mozilla/4.0 (compatible; MSIE 6.0)\r\n"
              "X-Id: not-an-id\r\n"
              "X-Id: 0123456789abcdef\r\n"
              "Content-Length: 29\r\n"
              "\r\n"
              "id=00112233445566778899aabb&x");
    make_tls(&contacts[IN_TLS], 443);
    make_raw(&contacts[IN_UDP], 53, RULES_UDP, "\x4d\x44\x02\x00PINGPONG", 12);
    memset(&contacts[IN_SILENT], 0, sizeof(contacts[IN_SILENT]));
    contacts[IN_SILENT].in.port = 25;
    contacts[IN_SILENT].in.transport = RULES_TCP;
    contacts[IN_SILENT].in.proto = SNIFF_NEED_MORE;
    make_http(&contacts[IN_HTTP10], 80, "GET /index.html HTTP/1.0\r\n\r\n");
    return 0;
}

static enum rules_outcome run(const struct rules *r, enum input_id id, struct rules_result *out)
{
    struct rules_scratch *s = rules_scratch_new();
    enum rules_outcome o = rules_classify(r, &contacts[id].in, s, out);
    rules_scratch_free(s);
    return o;
}

/* ---- parsing ---- */

static void test_parse_every_directive(void **state)
{
    (void)state;
    write_file("body.bin", "file body\n", 10);
    struct rules *r = load_ok("\xef\xbb\xbf# a comment\r\n"
                              "set match_limit=5000 depth_limit=300 heap_limit=64\n"
                              "\n"
                              "rule one family=megad ; trailing comment\n"
                              "    match port=80,443,8000-8009 transport=tcp proto=raw,silent\n"
                              "    match len=10- bytes@0x2=hex:\"01 ?? 00\" bytes=MD\n"
                              "    match bytes~\"^MD\" port!=22\n"
                              "    botid bytes=8+16 encode=base64\n"
                              "    botid regex=\"id=(\\w+)\" from=http.body group=1 case=upper\n"
                              "    reply bytes=hex:4d44 then=read\n"
                              "end\n"
                              "rule two family=- # comment\n"
                              "  match http.method=GET,POST http.url~^/ http.path=\"/a,b\"\n"
                              "  match http.query!~x http.host=C2.EXAMPLE.com http.version=1.1\n"
                              "  match http.header.User-Agent~\"(?i)msie\" http.body!=\"\"\n"
                              "  match tls.sni=Example.Test tls.alpn=h2 tls.version=1.3\n"
                              "  match tls.ja3=" TLS_JA3 " ja4~^t13\n"
                              "  botid regex=x=([0-9a-f]+) decode=hex from=http.header.X-Id\n"
                              "  reply http status=404 header=\"Server: nginx\" "
                              "header=\"Set-Cookie: a=1\" body=@body.bin then=close\n"
                              "end\n"
                              "rule three family=conficker\n"
                              "  reply banner=\"220 hi\\r\\n\"\n"
                              "end\n"
                              "rule four family=x\n  reply tarpit\nend\n"
                              "rule five family=x\n  reply close\nend\n"
                              "rule six family=x\n  reply http\nend\n"
                              "rule seven family=x\nend\n");
    assert_int_equal(rules_count(r), 7);
    assert_int_equal(r->match_limit, 5000);
    assert_int_equal(r->depth_limit, 300);
    assert_int_equal(r->heap_limit, 64);
    assert_string_equal(rules_rule_name(r, 0), "one");
    assert_string_equal(rules_rule_family(r, 0), "megad");
    assert_string_equal(rules_rule_family(r, 1), "");
    assert_null(rules_rule_name(r, 7));

    /* Rule one: conditions sorted cheap first, file order among equals. */
    const struct rules_rule *one = &r->rules[0];
    assert_int_equal(one->line, 4);
    assert_int_equal(one->n_conds, 8);
    assert_int_equal(one->conds[0].field, RF_PORT);
    assert_int_equal(one->conds[0].n_ranges, 3);
    assert_int_equal(one->conds[0].ranges[2].lo, 8000);
    assert_int_equal(one->conds[0].ranges[2].hi, 8009);
    assert_int_equal(one->conds[1].field, RF_TRANSPORT);
    assert_int_equal(one->conds[1].set, RT_TCP);
    assert_int_equal(one->conds[2].field, RF_PROTO);
    assert_int_equal(one->conds[2].set, RP_RAW | RP_SILENT);
    assert_int_equal(one->conds[3].field, RF_LEN);
    assert_int_equal(one->conds[3].ranges[0].lo, 10);
    assert_int_equal(one->conds[3].ranges[0].hi, UINT32_MAX);
    assert_int_equal(one->conds[4].field, RF_PORT);
    assert_true(one->conds[4].negate);
    assert_int_equal(one->conds[5].field, RF_BYTES_AT);
    assert_int_equal(one->conds[5].off, 2);
    assert_int_equal(one->conds[5].pat_len, 3);
    assert_memory_equal(one->conds[5].pat, "\x01\x00\x00", 3);
    assert_memory_equal(one->conds[5].mask, "\xff\x00\xff", 3);
    assert_int_equal(one->conds[6].field, RF_BYTES_AT);
    assert_int_equal(one->conds[6].off, 0);
    assert_memory_equal(one->conds[6].pat, "MD", 2);
    assert_int_equal(one->conds[7].field, RF_BYTES);
    assert_int_equal(one->conds[7].op, ROP_RE);
    assert_int_equal(one->n_botids, 2);
    assert_int_equal(one->botids[0].kind, RB_RANGE);
    assert_int_equal(one->botids[0].off, 8);
    assert_int_equal(one->botids[0].len, 16);
    assert_int_equal(one->botids[0].encode, RC_BASE64);
    assert_int_equal(one->botids[0].from, RF_BYTES);
    assert_int_equal(one->botids[1].kind, RB_REGEX);
    assert_int_equal(one->botids[1].from, RF_HTTP_BODY);
    assert_int_equal(one->botids[1].group, 1);
    assert_int_equal(one->botids[1].encode, RC_TEXT);
    assert_int_equal(one->botids[1].casing, RCASE_UPPER);
    assert_true(one->has_reply);
    assert_int_equal(one->reply.action, RULES_SEND);
    assert_int_equal(one->reply.then, RULES_THEN_READ);
    assert_int_equal(one->reply.len, 2);
    assert_memory_equal(one->reply.bytes, "MD", 2);

    /* Rule two: value lists, quoted single values, case folding. */
    const struct rules_rule *two = &r->rules[1];
    assert_int_equal(two->n_conds, 13);
    assert_int_equal(two->conds[0].field, RF_HTTP_METHOD);
    assert_int_equal(two->conds[0].n_vals, 2);
    assert_string_equal((char *)two->conds[0].vals[1].p, "POST");
    assert_int_equal(two->conds[1].field, RF_HTTP_PATH);
    assert_int_equal(two->conds[1].n_vals, 1);
    assert_string_equal((char *)two->conds[1].vals[0].p, "/a,b");
    assert_int_equal(two->conds[2].field, RF_HTTP_HOST);
    assert_string_equal((char *)two->conds[2].vals[0].p, "c2.example.com");
    assert_int_equal(two->conds[3].field, RF_HTTP_VERSION);
    assert_int_equal(two->conds[4].field, RF_HTTP_BODY);
    assert_true(two->conds[4].negate);
    assert_int_equal(two->conds[4].vals[0].len, 0);
    assert_int_equal(two->conds[5].field, RF_TLS_SNI);
    assert_string_equal((char *)two->conds[5].vals[0].p, "example.test");
    assert_int_equal(two->conds[6].field, RF_TLS_ALPN);
    assert_int_equal(two->conds[7].field, RF_TLS_VERSION);
    assert_int_equal(two->conds[8].field, RF_TLS_JA3);
    assert_int_equal(two->conds[9].field, RF_HTTP_URL);
    assert_int_equal(two->conds[9].op, ROP_RE);
    assert_int_equal(two->conds[10].field, RF_HTTP_QUERY);
    assert_true(two->conds[10].negate);
    assert_int_equal(two->conds[11].field, RF_HTTP_HEADER);
    assert_string_equal(two->conds[11].hname, "User-Agent");
    assert_int_equal(two->conds[12].field, RF_TLS_JA4);
    assert_int_equal(two->conds[12].op, ROP_RE);
    assert_int_equal(two->botids[0].decode, RC_HEX);
    assert_int_equal(two->botids[0].encode, RC_HEX);
    assert_string_equal(two->botids[0].hname, "X-Id");
    assert_int_equal(two->reply.action, RULES_HTTP);
    assert_int_equal(two->reply.status, 404);
    assert_string_equal(two->reply.reason, "Not Found");
    assert_string_equal(two->reply.headers, "Server: nginx\r\nSet-Cookie: a=1\r\n");
    assert_int_equal(two->reply.headers_len, 32);
    assert_int_equal(two->reply.body_len, 10);
    assert_memory_equal(two->reply.body, "file body\n", 10);
    assert_int_equal(two->reply.then, RULES_THEN_CLOSE);

    const struct rules_rule *three = &r->rules[2];
    assert_int_equal(three->reply.action, RULES_SEND);
    assert_int_equal(three->reply.then, RULES_THEN_READ);
    assert_int_equal(three->reply.len, 8);
    assert_memory_equal(three->reply.bytes, "220 hi\r\n", 8);
    assert_int_equal(r->rules[3].reply.action, RULES_TARPIT);
    assert_int_equal(r->rules[4].reply.action, RULES_CLOSE);
    assert_int_equal(r->rules[5].reply.action, RULES_HTTP);
    assert_int_equal(r->rules[5].reply.status, 200);
    assert_string_equal(r->rules[5].reply.reason, "OK");
    assert_string_equal(r->rules[5].reply.headers, "");
    assert_int_equal(r->rules[5].reply.then, RULES_THEN_READ);
    assert_false(r->rules[6].has_reply);
    assert_int_equal(r->rules[6].n_conds, 0);
    rules_free(r);
}

static void test_values(void **state)
{
    (void)state;
    /* Text escapes, quoted hex with ':' separators, a reason, a file with
     * a quoted name and a space in it. */
    write_file("a b.bin", "\x00\x01", 2);
    struct rules *r = load_ok("rule a family=f\n"
                              " match http.path=\"\\x41\\\\\\\"\\t\\0\" bytes@1=hex:\"de:AD be\"\n"
                              " reply http status=299 reason=\"Very Fine\" body=@\"a b.bin\"\n"
                              "end\n"
                              "rule b family=f\n reply http status=204 body=\"\"\nend\n");
    const struct rules_cond *c = r->rules[0].conds;
    assert_int_equal(c[0].field, RF_BYTES_AT);
    assert_memory_equal(c[0].pat, "\xde\xad\xbe", 3);
    assert_int_equal(c[1].vals[0].len, 5);
    assert_memory_equal(c[1].vals[0].p, "A\\\"\t\0", 5);
    assert_int_equal(r->rules[0].reply.status, 299);
    assert_string_equal(r->rules[0].reply.reason, "Very Fine");
    assert_int_equal(r->rules[0].reply.body_len, 2);
    assert_int_equal(r->rules[1].reply.status, 204);
    assert_string_equal(r->rules[1].reply.reason, "No Content");
    assert_int_equal(r->rules[1].reply.body_len, 0);
    rules_free(r);

    /* An empty file and one with only comments load with no rules. */
    r = load_ok("");
    assert_int_equal(rules_count(r), 0);
    rules_free(r);
    r = load_ok("# nothing\n\n   ; here\n");
    assert_int_equal(rules_count(r), 0);
    rules_free(r);
}

/* ---- errors ---- */

struct err_case {
    const char *text;
    const char *want; /* every line, "%P" standing for the path */
    size_t len;       /* of text, when it holds a NUL; else 0 */
};

static const struct err_case err_cases[] = {
    /* Lines and tokens. */
    { "bogus\n", "%P:1: unknown directive 'bogus' (rule, match, botid, reply, end, set)\n" },
    { "x=1\n", "%P:1: expected rule, match, botid, reply, end or set, got 'x'\n" },
    { "\nmatch port=1\n", "%P:2: 'match' outside a rule\n" },
    { "end\n", "%P:1: 'end' outside a rule\n" },
    { "reply close\n", "%P:1: 'reply' outside a rule\n" },
    { "rule a family=f\n match http.path=\"abc\nend\n",
      "%P:2: http.path: no closing '\"' for the quote at column 18\n" },
    { "rule a family=f\n match \"x\"=1\nend\n",
      "%P:2: expected a word, KEY=VALUE, KEY!=VALUE, KEY~REGEX or KEY!~REGEX, got '\"x\"=1'\n" },
    { "rule a family=f\n match port!1\nend\n",
      "%P:2: expected a word, KEY=VALUE, KEY!=VALUE, KEY~REGEX or KEY!~REGEX, got 'port!1'\n" },
    { "rule a family=f\n match http.path=\"a\"b\nend\n",
      "%P:2: http.path: a quoted value must be followed by a space or the end of the line\n" },
    { "rule a fam\0ily=f\n", "%P:1: NUL byte in the line\n", 17 },
    /* rule, end, set. */
    { "rule\nend\n", "%P:1: rule: expected 'rule NAME family=FAMILY'\n" },
    { "rule a/b family=f\nend\n",
      "%P:1: rule: name 'a/b' must be 1 to 63 letters, digits, '-', '_' or '.'\n" },
    { "rule a\nend\n", "%P:1: rule 'a': expected family=FAMILY (or family=- for none)\n" },
    { "rule a family=f family=g\nend\n", "%P:1: rule: family given twice\n" },
    { "rule a family=f!\nend\n",
      "%P:1: rule: family 'f!' must be 1 to 31 letters, digits, '-', '_' or '.' (or - for none)\n" },
    { "rule a family=abcdefghijabcdefghijabcdefghijabc\nend\n",
      "%P:1: rule: family 'abcdefghijabcdefghijabcdefghijabc' must be 1 to 31 letters, digits, "
      "'-', '_' or '.' (or - for none)\n" },
    { "rule a family=f color=red\nend\n",
      "%P:1: rule: unknown item 'color' (expected family=FAMILY)\n" },
    { "rule a family=f\nend\nrule a family=g\nend\n",
      "%P:3: rule 'a' is already defined at line 1\n" },
    { "rule a family=f\nrule b family=f\nend\n",
      "%P:1: rule 'a' has no 'end' before the next rule (line 2)\n" },
    { "rule a family=f\n match port=1\n", "%P:1: rule 'a' has no 'end'\n" },
    { "rule a family=f\nend now\n", "%P:2: end: expected nothing after 'end'\n" },
    { "set\n", "%P:1: set: expected match_limit=N, depth_limit=N or heap_limit=KIB\n" },
    { "set match_limit=0\n", "%P:1: set: match_limit: expected 1 to 100000000\n" },
    { "set depth_limit=x\n", "%P:1: set: depth_limit: expected 1 to 10000000\n" },
    { "set speed=1\n", "%P:1: set: unknown item 'speed' (match_limit, depth_limit, heap_limit)\n" },
    { "rule a family=f\nset match_limit=1\nend\n", "%P:2: set: only outside rules\n" },
    /* match. */
    { "rule a family=f\n match\nend\n", "%P:2: match: expected at least one condition\n" },
    { "rule a family=f\n match tcp\nend\n",
      "%P:2: match: expected KEY=VALUE, KEY!=VALUE, KEY~REGEX or KEY!~REGEX, got 'tcp'\n" },
    { "rule a family=f\n match colour=red\nend\n",
      "%P:2: match: unknown key 'colour' (port, len, transport, proto, bytes@N, bytes, "
      "http.method, http.url, http.path, http.query, http.host, http.version, http.header.NAME, "
      "http.body, tls.sni, tls.alpn, tls.version, tls.ja3, tls.ja4)\n" },
    { "rule a family=f\n match http.header.=x\nend\n",
      "%P:2: match: unknown key 'http.header.' (port, len, transport, proto, bytes@N, bytes, "
      "http.method, http.url, http.path, http.query, http.host, http.version, http.header.NAME, "
      "http.body, tls.sni, tls.alpn, tls.version, tls.ja3, tls.ja4)\n" },
    { "rule a family=f\n match port=70000\nend\n",
      "%P:2: port: number out of range, got '70000'\n" },
    { "rule a family=f\n match port=80-20\nend\n",
      "%P:2: port: range LO-HI with HI below LO, got '80-20'\n" },
    { "rule a family=f\n match port=80,,81\nend\n",
      "%P:2: port: expected a number, got '80,,81'\n" },
    { "rule a family=f\n match port~80\nend\n", "%P:2: port: takes = or !=, not a regex\n" },
    { "rule a family=f\n match len=\"5\"\nend\n",
      "%P:2: len: expected a number or range, not a quoted value, got '5'\n" },
    { "rule a family=f\n match transport=sctp\nend\n",
      "%P:2: transport: expected tcp or udp, got 'sctp'\n" },
    { "rule a family=f\n match proto=http,quic\nend\n",
      "%P:2: proto: expected http, tls, raw or silent, got 'http,quic'\n" },
    { "rule a family=f\n match bytes@0=hex:4d5\nend\n",
      "%P:2: bytes@0: hex: odd number of digits\n" },
    { "rule a family=f\n match bytes@0=hex:4g\nend\n",
      "%P:2: bytes@0: hex: expected pairs of hex digits\n" },
    { "rule a family=f\n match bytes@0=hex:\nend\n", "%P:2: bytes@0: hex: no bytes\n" },
    { "rule a family=f\n match bytes@x=MZ\nend\n", "%P:2: bytes@x: expected a number\n" },
    { "rule a family=f\n match bytes@0=\"\"\nend\n", "%P:2: bytes@0: empty value\n" },
    { "rule a family=f\n match bytes@0~MZ\nend\n",
      "%P:2: bytes@0: a pattern at an offset takes = or !=; for a regex use bytes~\n" },
    { "rule a family=f\n match http.path=\"\\q\"\nend\n",
      "%P:2: http.path: unknown escape (use \\\\ \\\" \\n \\r \\t \\0 or \\xHH), got '\\x5cq'\n" },
    { "rule a family=f\n match http.method=GET,\nend\n",
      "%P:2: http.method: empty value (quote it: KEY=\"\"), got 'GET,'\n" },
    { "rule a family=f\n match ja3=abc\nend\n",
      "%P:2: ja3: a JA3 hash is 32 hex digits, got 'abc'\n" },
    { "rule a family=f\n match http.path~\"(a\"\nend\n",
      "%P:2: http.path: bad regex '(a' at offset 2: missing closing parenthesis\n" },
    { "rule a family=f\n match bytes~\"(*UTF)a\"\nend\n",
      "%P:2: bytes: bad regex '(*UTF)a' at offset 6: using UTF is disabled by the application\n" },
    { "rule a family=f\n match http.path=\"a\\x4\"\nend\n",
      "%P:2: http.path: \\x needs two hex digits, got 'a\\x5cx4'\n" },
    /* botid. */
    { "rule a family=f\n botid\nend\n",
      "%P:2: botid: expected one of regex=REGEX or bytes=OFFSET+LENGTH\n" },
    { "rule a family=f\n botid regex=a bytes=0+1\nend\n",
      "%P:2: botid: expected one of regex=REGEX or bytes=OFFSET+LENGTH\n" },
    { "rule a family=f\n botid bytes=8\nend\n",
      "%P:2: botid: bytes: expected OFFSET+LENGTH (length at most 1024), got '8'\n" },
    { "rule a family=f\n botid bytes=0+0\nend\n",
      "%P:2: botid: bytes: the length must be at least 1 (length at most 1024), got '0+0'\n" },
    { "rule a family=f\n botid bytes=0+2000\nend\n",
      "%P:2: botid: bytes: number out of range (length at most 1024), got '0+2000'\n" },
    { "rule a family=f\n botid regex=(a) group=2\nend\n",
      "%P:2: botid: group 2, but the regex has 1 capture groups\n" },
    { "rule a family=f\n botid regex=(a) group=16\nend\n",
      "%P:2: botid: group: expected 0 to 15, got '16'\n" },
    { "rule a family=f\n botid bytes=0+1 group=1\nend\n", "%P:2: botid: group goes with regex\n" },
    { "rule a family=f\n botid regex=a from=port\nend\n",
      "%P:2: botid: from: expected bytes, http.method, http.url, http.path, http.query, "
      "http.host, http.version, http.header.NAME, http.body, tls.sni, tls.alpn, tls.version, "
      "tls.ja3 or tls.ja4, got 'port'\n" },
    { "rule a family=f\n botid regex=a decode=text\nend\n",
      "%P:2: botid: decode: expected none, hex or base64, got 'text'\n" },
    { "rule a family=f\n botid regex=a encode=none\nend\n",
      "%P:2: botid: encode: expected hex, base64 or text, got 'none'\n" },
    { "rule a family=f\n botid regex=a case=title\nend\n",
      "%P:2: botid: case: expected lower or upper, got 'title'\n" },
    { "rule a family=f\n botid regex=a size=3\nend\n",
      "%P:2: botid: unknown key 'size' (regex, bytes, from, group, decode, encode, case)\n" },
    { "rule a family=f\n botid regex~a\nend\n", "%P:2: botid: expected KEY=VALUE, got 'regex'\n"
                                                "%P:2: botid: expected one of regex=REGEX or "
                                                "bytes=OFFSET+LENGTH\n" },
    { "rule a family=f\n botid regex=[\nend\n",
      "%P:2: botid: regex: bad regex '[' at offset 1: missing terminating ] for character class\n" },
    /* reply. */
    { "rule a family=f\n reply\nend\n",
      "%P:2: reply: expected close, tarpit, http, bytes=BYTES or banner=BYTES\n" },
    { "rule a family=f\n reply nothing\nend\n",
      "%P:2: reply: expected close, tarpit, http, bytes=BYTES or banner=BYTES, got 'nothing'\n" },
    { "rule a family=f\n reply close\n reply tarpit\nend\n",
      "%P:3: rule 'a' has a second reply (the first is at line 2)\n" },
    { "rule a family=f\n reply close now\nend\n",
      "%P:2: reply close: expected nothing after it\n" },
    { "rule a family=f\n reply bytes=hex:zz\nend\n",
      "%P:2: reply: bytes: hex: expected pairs of hex digits, got 'hex:zz'\n" },
    { "rule a family=f\n reply bytes=hex:\"?? 00\"\nend\n",
      "%P:2: reply: bytes: hex: '?\?' (any byte) is only allowed in bytes@ patterns, got "
      "'hex:\"?? 00\"'\n" },
    { "rule a family=f\n reply bytes=@missing.bin\nend\n",
      "%P:2: reply: bytes: cannot read %D/missing.bin: No such file or directory\n" },
    { "rule a family=f\n reply bytes=@\nend\n", "%P:2: reply: bytes: expected @PATH\n" },
    { "rule a family=f\n reply bytes=@/dev/null\nend\n",
      "%P:2: reply: bytes: /dev/null is not a regular file\n" },
    { "rule a family=f\n reply banner=x then=later\nend\n",
      "%P:2: reply: then: expected close, read or tarpit, got 'later'\n" },
    { "rule a family=f\n reply bytes=x delay=5\nend\n",
      "%P:2: reply bytes: unknown item 'delay' (then=close|read|tarpit)\n" },
    { "rule a family=f\n reply http status=99\nend\n",
      "%P:2: reply http: status: expected 200 to 999, got '99'\n" },
    { "rule a family=f\n reply http status=200 status=201\nend\n",
      "%P:2: reply http: status given twice\n" },
    { "rule a family=f\n reply http reason=\"\"\nend\n",
      "%P:2: reply http: reason: expected 1 to 64 characters of text\n" },
    { "rule a family=f\n reply http header=\"NoColon\"\nend\n",
      "%P:2: reply: header: expected \"Name: value\", got 'NoColon'\n" },
    { "rule a family=f\n reply http header=\"X-A: b\\r\\nX-B: c\"\nend\n",
      "%P:2: reply: header: control character in the value of 'X-A'\n" },
    { "rule a family=f\n reply http header=\"content-length: 5\"\nend\n",
      "%P:2: reply: header: content-length is set by the sinkhole (Content-Length from the body, "
      "Connection from then= and the request)\n" },
    { "rule a family=f\n reply http body=x body=y\nend\n", "%P:2: reply http: body given twice\n" },
    { "rule a family=f\n reply http status=304 body=x\nend\n",
      "%P:2: reply http: a 304 reply has no body\n" },
    { "rule a family=f\n reply http color=red\nend\n",
      "%P:2: reply http: unknown key 'color' (status, reason, header, body, then)\n" },
    { "rule a family=f\n reply http status~2\nend\n",
      "%P:2: reply http: expected KEY=VALUE, got 'status'\n" },
    { "rule u family=f\n reply tarpit\n match transport=udp\nend\n",
      "%P:2: rule 'u' matches only UDP, where a reply is one datagram: use reply close or reply "
      "bytes=... then=close\n" },
    { "rule u family=f\n match transport!=tcp\n reply banner=x\nend\n",
      "%P:3: rule 'u' matches only UDP, where a reply is one datagram: use reply close or reply "
      "bytes=... then=close\n" },
};

/* Expand %P (the rules path) and %D (its folder) in a wanted message. */
static void expand(const char *want, char *out, size_t cap)
{
    size_t k = 0;
    for (const char *p = want; *p && k + 1 < cap; p++) {
        if (p[0] == '%' && (p[1] == 'P' || p[1] == 'D')) {
            k += (size_t)snprintf(out + k, cap - k, "%s", p[1] == 'P' ? rules_path : dir);
            p++;
        } else {
            out[k++] = *p;
        }
    }
    out[k] = '\0';
}

static void test_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(err_cases) / sizeof(err_cases[0]); i++) {
        const struct err_case *e = &err_cases[i];
        char err[4096], want[4096];
        size_t len = e->len ? e->len : strlen(e->text);
        memset(err, 0, sizeof(err));
        FILE *errs = fmemopen(err, sizeof(err) - 1, "w");
        struct rules *r = (struct rules *)1;
        int rc = rules_load_buf(e->text, len, rules_path, &r, errs);
        fclose(errs);
        expand(e->want, want, sizeof(want));
        if (strcmp(err, want) != 0)
            fprintf(stderr, "case %zu:\n got: %s want: %s", i, err, want);
        assert_string_equal(err, want);
        assert_int_equal(rc, SK_ECONFIG);
        assert_null(r);
    }
}

static void test_errors_all_reported(void **state)
{
    (void)state;
    char err[8192], want[8192];
    struct rules *r;
    int rc = load("rule a family=f\n"
                  "  match port=x\n"
                  "  match http.path~\"(\"\n"
                  "  botid bytes=1\n"
                  "  reply http status=1\n"
                  "end\n"
                  "rule a family=f\n"
                  "end\n"
                  "wat\n",
                  &r, err, sizeof(err));
    assert_int_equal(rc, SK_ECONFIG);
    expand("%P:2: port: expected a number, got 'x'\n"
           "%P:3: http.path: bad regex '(' at offset 1: missing closing parenthesis\n"
           "%P:4: botid: bytes: expected OFFSET+LENGTH (length at most 1024), got '1'\n"
           "%P:5: reply http: status: expected 200 to 999, got '1'\n"
           "%P:7: rule 'a' is already defined at line 1\n"
           "%P:9: unknown directive 'wat' (rule, match, botid, reply, end, set)\n",
           want, sizeof(want));
    assert_string_equal(err, want);

    /* Past RULES_ERRORS_MAX lines, the rest are counted. */
    char *text = malloc(150 * 8 + 1);
    assert_non_null(text);
    text[0] = '\0';
    for (int i = 0; i < 150; i++)
        strcat(text, "bogus\n");
    char *big = malloc(65536);
    assert_non_null(big);
    FILE *errs = fmemopen(big, 65535, "w");
    rc = rules_load_buf(text, strlen(text), "x.rules", &r, errs);
    fclose(errs);
    assert_int_equal(rc, SK_ECONFIG);
    int lines = 0;
    for (char *p = big; (p = strchr(p, '\n')) != NULL; p++)
        lines++;
    assert_int_equal(lines, RULES_ERRORS_MAX + 1);
    assert_non_null(strstr(big, "x.rules:100: unknown directive 'bogus'"));
    assert_null(strstr(big, "x.rules:101:"));
    assert_non_null(strstr(big, "x.rules: 50 more errors not shown\n"));
    free(big);
    free(text);
}

static void test_load_file(void **state)
{
    (void)state;
    char err[1024], path[700], want[1024];
    struct rules *r;

    /* From a file, with a reply file next to it. */
    write_file("reply.txt", "hello", 5);
    const char *ftext = "rule a family=f\n reply bytes=@reply.txt\nend\n";
    write_file("f.rules", ftext, strlen(ftext));
    snprintf(path, sizeof(path), "%s/f.rules", dir);
    FILE *errs = fmemopen(err, sizeof(err), "w");
    assert_int_equal(rules_load(path, &r, errs), 0);
    fclose(errs);
    assert_int_equal(r->rules[0].reply.len, 5);
    assert_memory_equal(r->rules[0].reply.bytes, "hello", 5);
    rules_free(r);

    /* A file that is not there, and a folder. */
    snprintf(path, sizeof(path), "%s/none.rules", dir);
    memset(err, 0, sizeof(err));
    errs = fmemopen(err, sizeof(err) - 1, "w");
    assert_int_equal(rules_load(path, &r, errs), SK_ERR(ENOENT));
    fclose(errs);
    assert_null(r);
    snprintf(want, sizeof(want), "%s: No such file or directory\n", path);
    assert_string_equal(err, want);
    memset(err, 0, sizeof(err));
    errs = fmemopen(err, sizeof(err) - 1, "w");
    assert_int_equal(rules_load(dir, &r, errs), SK_EINVAL);
    fclose(errs);
    snprintf(want, sizeof(want), "%s: not a regular file\n", dir);
    assert_string_equal(err, want);

    /* A reply file over RULES_FILE_MAX. */
    char *big = calloc(1, RULES_FILE_MAX + 1);
    assert_non_null(big);
    write_file("big.bin", big, RULES_FILE_MAX + 1);
    free(big);
    assert_int_equal(
        load("rule a family=f\n reply http body=@big.bin\nend\n", &r, err, sizeof(err)),
        SK_ECONFIG);
    snprintf(want, sizeof(want), "%s:2: reply: body: %s/big.bin is larger than %d bytes\n",
             rules_path, dir, RULES_FILE_MAX);
    assert_string_equal(err, want);
    /* Exactly RULES_FILE_MAX is fine. */
    big = calloc(1, RULES_FILE_MAX);
    write_file("max.bin", big, RULES_FILE_MAX);
    free(big);
    r = load_ok("rule a family=f\n reply http body=@max.bin\nend\n");
    assert_int_equal(r->rules[0].reply.body_len, RULES_FILE_MAX);
    rules_free(r);
}

/* ---- matching ---- */

struct match_case {
    const char *cond; /* the rule's match line */
    enum input_id in;
    bool want;
};

static const struct match_case match_cases[] = {
    /* port, transport, proto, len */
    { "port=80", IN_RAW, true },
    { "port=81", IN_RAW, false },
    { "port=22,80", IN_RAW, true },
    { "port=1-79,81-100", IN_RAW, false },
    { "port=79-81", IN_RAW, true },
    { "port!=80", IN_RAW, false },
    { "port!=443", IN_RAW, true },
    { "transport=tcp", IN_RAW, true },
    { "transport=udp", IN_RAW, false },
    { "transport=udp", IN_UDP, true },
    { "transport!=udp", IN_UDP, false },
    { "transport=tcp,udp", IN_UDP, true },
    { "proto=raw", IN_RAW, true },
    { "proto=raw", IN_HTTP, false },
    { "proto=http", IN_HTTP, true },
    { "proto=tls", IN_TLS, true },
    { "proto=http,tls", IN_TLS, true },
    { "proto=silent", IN_SILENT, true },
    { "proto=raw", IN_SILENT, false },
    { "proto=raw", IN_UDP, true },
    { "len=24", IN_RAW, true },
    { "len=25-", IN_RAW, false },
    { "len=0", IN_SILENT, true },
    /* byte patterns at offsets, wildcards, past the end */
    { "bytes@0=hex:4d4401", IN_RAW, true },
    { "bytes=hex:4d4401", IN_RAW, true },
    { "bytes@0=hex:4d4402", IN_RAW, false },
    { "bytes@1=hex:44??07", IN_RAW, true },
    { "bytes@1=hex:\"44 ?? 08\"", IN_RAW, false },
    { "bytes@0=MD", IN_RAW, true },
    { "bytes@22=hex:3210", IN_RAW, true },
    { "bytes@23=hex:1000", IN_RAW, false }, /* one byte past the end */
    { "bytes@0x100=hex:00", IN_RAW, false },
    { "bytes@0!=hex:4d", IN_RAW, false },
    { "bytes@0!=hex:4e", IN_RAW, true },
    { "bytes@0=hex:4d", IN_SILENT, false }, /* nothing was sent */
    { "bytes@0!=hex:4d", IN_SILENT, true },
    { "bytes~\"\\x01#Eg\"", IN_RAW, true },
    { "bytes~^POST", IN_HTTP, true },
    { "bytes!~^POST", IN_HTTP, false },
    /* HTTP */
    { "http.method=POST", IN_HTTP, true },
    { "http.method=post", IN_HTTP, false }, /* methods are case-sensitive */
    { "http.method=GET,POST", IN_HTTP, true },
    { "http.method!=GET,HEAD", IN_HTTP, true },
    { "http.method=GET", IN_RAW, false },
    { "http.method!=GET", IN_RAW, true },
    { "http.method~^P", IN_HTTP, true },
    { "http.url=\"/gate.php?v=2&aid=3q2-7w\"", IN_HTTP, true },
    { "http.url~\\?v=2", IN_HTTP, true },
    { "http.path=/gate.php", IN_HTTP, true },
    { "http.path~\"^/gate\\.php$\"", IN_HTTP, true },
    { "http.path~\"^/gate$\"", IN_HTTP, false },
    { "http.path=/index.html", IN_HTTP10, true },
    { "http.query=\"v=2&aid=3q2-7w\"", IN_HTTP, true },
    { "http.query~\"(^|&)aid=\"", IN_HTTP, true },
    { "http.query~\"\"", IN_HTTP10, false }, /* no '?': no query */
    { "http.query!~x", IN_HTTP10, true },
    { "http.host=c2.example.com", IN_HTTP, true }, /* ASCII case ignored */
    { "http.host~^C2\\.EXAMPLE", IN_HTTP, true },
    { "http.host~\"\"", IN_HTTP10, false },
    { "http.version=1.1", IN_HTTP, true },
    { "http.version=1.0", IN_HTTP10, true },
    { "http.version=1.0", IN_HTTP, false },
    { "http.header.User-Agent~\"^Mozilla/4\\.0 \\(compatible; MSIE\"", IN_HTTP, true },
    { "http.header.user-agent~MSIE", IN_HTTP, true }, /* header names ignore case */
    { "http.header.User-Agent~msie", IN_HTTP, false },
    { "http.header.User-Agent~(?i)msie", IN_HTTP, true },
    { "http.header.X-Id=0123456789abcdef", IN_HTTP, true }, /* the second of two */
    { "http.header.X-Id!=0123456789abcdef", IN_HTTP, false },
    { "http.header.X-Id~\"^[0-9a-f]{16}$\"", IN_HTTP, true },
    { "http.header.Cookie~\"\"", IN_HTTP, false },
    { "http.header.Cookie!~\"\"", IN_HTTP, true },
    { "http.body~\"^id=[0-9a-f]{24}&\"", IN_HTTP, true },
    { "http.body=\"id=00112233445566778899aabb&x\"", IN_HTTP, true },
    { "http.body~x", IN_HTTP10, false },
    { "http.body~\"\"", IN_HTTP10, true }, /* present, empty */
    /* TLS */
    { "tls.sni=example.test", IN_TLS, true },
    { "tls.sni=EXAMPLE.test", IN_TLS, true },
    { "tls.sni~\"\\.test$\"", IN_TLS, true },
    { "tls.sni~\"\\.TEST$\"", IN_TLS, true }, /* caseless */
    { "tls.sni~\"\\.example$\"", IN_TLS, false },
    { "tls.sni=example.test", IN_HTTP, false },
    { "tls.alpn=h2", IN_TLS, true },
    { "tls.alpn=http/1.1", IN_TLS, true },
    { "tls.alpn=h3", IN_TLS, false },
    { "tls.alpn!=h2", IN_TLS, false },
    { "tls.version=1.3", IN_TLS, true },
    { "tls.version=1.2", IN_TLS, false },
    { "tls.ja3=" TLS_JA3, IN_TLS, true },
    { "ja3=5A1EDC7F170AF1014FC65C994878E63C", IN_TLS, true },
    { "ja3=00000000000000000000000000000000", IN_TLS, false },
    { "tls.ja4=" TLS_JA4, IN_TLS, true },
    { "ja4~^t13d3111h2_", IN_TLS, true },
    { "ja4~^t12", IN_TLS, false },
    { "ja4~\"\"", IN_RAW, false },
    /* An empty match line set: everything. */
    { "port=0-65535", IN_SILENT, true },
};

static void test_match_conditions(void **state)
{
    (void)state;
    struct rules_scratch *s = rules_scratch_new();
    for (size_t i = 0; i < sizeof(match_cases) / sizeof(match_cases[0]); i++) {
        const struct match_case *m = &match_cases[i];
        char text[1024];
        snprintf(text, sizeof(text), "rule r%zu family=fam\n match %s\nend\n", i, m->cond);
        struct rules *r = load_ok(text);
        struct rules_result out;
        enum rules_outcome o = rules_classify(r, &contacts[m->in].in, s, &out);
        if ((o == RULES_MATCHED) != m->want)
            fprintf(stderr, "case %zu: '%s' on input %d: got %d\n", i, m->cond, m->in, o);
        assert_int_equal(o == RULES_MATCHED, m->want);
        assert_int_equal(out.limit_hits, 0);
        if (m->want) {
            assert_string_equal(out.family, "fam");
            assert_int_equal(out.rule_index, 0);
        } else {
            assert_string_equal(out.family, "");
            assert_null(out.rule);
            assert_int_equal(out.rule_index, -1);
        }
        rules_free(r);
    }
    rules_scratch_free(s);
}

/* JA3/JA4 given by the caller are used as they are, not recomputed. */
static void test_fingerprints_from_caller(void **state)
{
    (void)state;
    struct rules *r = load_ok("rule a family=f\n match ja3=" TLS_JA3 "\nend\n"
                              "rule b family=g\n match ja4~^q13\nend\n");
    struct rules_input in = contacts[IN_RAW].in;
    in.ja3 = TLS_JA3;
    struct rules_result out;
    assert_int_equal(run(r, IN_RAW, &out), RULES_DEFAULT);
    struct rules_scratch *s = rules_scratch_new();
    assert_int_equal(rules_classify(r, &in, s, &out), RULES_MATCHED);
    assert_string_equal(out.rule, "a");
    in.ja3 = "ffffffffffffffffffffffffffffffff";
    in.ja4 = "q13d0310h3_55b375c5d22e_cd85d2d88918";
    assert_int_equal(rules_classify(r, &in, s, &out), RULES_MATCHED);
    assert_string_equal(out.rule, "b");
    /* Over UDP (QUIC), the computed JA4 starts with 'q'. */
    in = contacts[IN_TLS].in;
    in.transport = RULES_UDP;
    assert_int_equal(rules_classify(r, &in, s, &out), RULES_MATCHED);
    assert_string_equal(out.rule, "a");
    in.ja3 = "ffffffffffffffffffffffffffffffff";
    assert_int_equal(rules_classify(r, &in, s, &out), RULES_MATCHED);
    assert_string_equal(out.rule, "b");
    rules_scratch_free(s);
    rules_free(r);
}

static void test_and_semantics(void **state)
{
    (void)state;
    /* Two lines and several conditions per line: all must hold. */
    static const char *const parts[] = { "port=8080", "transport=tcp", "http.method=POST",
                                         "http.path=/gate.php", "http.header.X-Id~^0123" };
    struct rules *r = load_ok("rule all family=f\n"
                              " match port=8080 transport=tcp http.method=POST\n"
                              " match http.path=/gate.php http.header.X-Id~^0123\n"
                              "end\n");
    struct rules_result out;
    assert_int_equal(run(r, IN_HTTP, &out), RULES_MATCHED);
    rules_free(r);
    /* Break each condition in turn: the rule no longer matches. */
    static const char *const broken[] = { "port=8081", "transport=udp", "http.method=GET",
                                          "http.path=/gate", "http.header.X-Id~^1123" };
    for (size_t i = 0; i < 5; i++) {
        char text[512];
        int k = snprintf(text, sizeof(text), "rule all family=f\n match");
        for (size_t j = 0; j < 5; j++)
            k += snprintf(text + k, sizeof(text) - (size_t)k, " %s", i == j ? broken[j] : parts[j]);
        snprintf(text + k, sizeof(text) - (size_t)k, "\nend\n");
        r = load_ok(text);
        assert_int_equal(run(r, IN_HTTP, &out), RULES_DEFAULT);
        rules_free(r);
    }
}

static void test_first_match(void **state)
{
    (void)state;
    const char *text = "rule specific family=a\n match port=80 bytes@0=hex:4d44\nend\n"
                       "rule port80 family=b\n match port=80\nend\n"
                       "rule any family=c\nend\n";
    struct rules *r = load_ok(text);
    struct rules_result out;
    assert_int_equal(run(r, IN_RAW, &out), RULES_MATCHED);
    assert_string_equal(out.rule, "specific");
    assert_string_equal(out.family, "a");
    assert_int_equal(out.rule_index, 0);
    assert_int_equal(run(r, IN_HTTP10, &out), RULES_MATCHED); /* port 80, not MD */
    assert_string_equal(out.rule, "port80");
    assert_int_equal(out.rule_index, 1);
    assert_int_equal(run(r, IN_TLS, &out), RULES_MATCHED);
    assert_string_equal(out.rule, "any");
    assert_int_equal(out.rule_index, 2);
    rules_free(r);
    /* The catch-all first hides the others. */
    r = load_ok("rule any family=c\nend\n"
                "rule specific family=a\n match port=80 bytes@0=hex:4d44\nend\n");
    assert_int_equal(run(r, IN_RAW, &out), RULES_MATCHED);
    assert_string_equal(out.rule, "any");
    rules_free(r);
}

/* ---- bot ids ---- */

struct botid_case {
    const char *lines; /* botid lines of the rule */
    enum input_id in;
    const char *want;
    bool truncated;
};

static const struct botid_case botid_cases[] = {
    /* Regex capture groups, from several fields. */
    { "botid regex=\"id=([0-9a-f]+)\" from=http.body", IN_HTTP, "00112233445566778899aabb" },
    { "botid regex=\"id=[0-9a-f]{4}\" from=http.body", IN_HTTP, "id=0011" }, /* group 0 */
    { "botid regex=\"(id)=([0-9a-f]{4})\" from=http.body group=2", IN_HTTP, "0011" },
    { "botid regex=\"(id)=([0-9a-f]{4})\" from=http.body group=0", IN_HTTP, "id=0011" },
    { "botid regex=\"(x)?id=\" from=http.body", IN_HTTP, "" }, /* group 1 unset */
    { "botid regex=\"^([0-9a-f]{16})$\" from=http.header.X-Id", IN_HTTP, "0123456789abcdef" },
    { "botid regex=\"^(.*)$\" from=http.header.x-id", IN_HTTP, "not-an-id" },
    { "botid regex=\"([^.]+)\\.example\" from=http.host case=lower", IN_HTTP, "c2" },
    { "botid regex=\"([^.]+)\\.example\" from=http.host case=upper", IN_HTTP, "C2" },
    { "botid regex=\"^([a-z]+)\" from=tls.sni", IN_TLS, "example" },
    { "botid regex=\"MSIE ([0-9.]+)\" from=http.header.User-Agent", IN_HTTP, "6.0" },
    { "botid regex=\"aid=([A-Za-z0-9_-]+)\" from=http.query decode=base64", IN_HTTP, "deadbeef" },
    { "botid regex=\"aid=([^&]+)\" from=http.url decode=base64 encode=base64", IN_HTTP,
      "3q2+7w==" },
    { "botid regex=\"id=([0-9a-f]{8})\" from=http.body decode=hex encode=text", IN_HTTP,
      "\\x00\\x11\"3" },
    { "botid regex=\"id=([0-9a-f]{8})\" from=http.body decode=hex encode=base64", IN_HTTP,
      "ABEiMw==" },
    { "botid regex=\"v=(2)\" from=http.query decode=hex", IN_HTTP, "" }, /* odd: fails */
    { "botid regex=\"^(POST)\"", IN_HTTP, "POST" },                      /* from=bytes by default */
    /* Offset + length. */
    { "botid bytes=8+16", IN_RAW, "0123456789abcdeffedcba9876543210" },
    { "botid bytes=8+16 encode=hex case=upper", IN_RAW, "0123456789ABCDEFFEDCBA9876543210" },
    { "botid bytes=8+4 encode=base64", IN_RAW, "ASNFZw==" },
    { "botid bytes=8+5 encode=base64", IN_RAW, "ASNFZ4k=" },
    { "botid bytes=8+6 encode=base64", IN_RAW, "ASNFZ4mr" },
    { "botid bytes=0+4 encode=text", IN_RAW, "MD\\x01\\x07" },
    { "botid bytes=20+4", IN_RAW, "76543210" },
    { "botid bytes=21+4", IN_RAW, "" }, /* past the end: no id */
    { "botid bytes=4+8", IN_UDP, "50494e47504f4e47" },
    { "botid bytes=5+4 from=http.url encode=text", IN_HTTP, ".php" },
    { "botid bytes=3+16 from=http.body decode=hex", IN_HTTP, "0011223344556677" },
    { "botid bytes=3+3 from=http.body decode=hex", IN_HTTP, "" }, /* odd length */
    { "botid bytes=0+4 from=http.header.X-Id encode=text", IN_HTTP, "not-" },
    /* Fallbacks: the first botid that yields wins. */
    { "botid regex=\"nope=(\\d+)\" from=http.body\n botid bytes=0+4 encode=text", IN_HTTP, "POST" },
    { "botid bytes=100+4\n botid bytes=0+2 encode=text", IN_RAW, "MD" },
    { "botid bytes=0+1\n botid bytes=1+1", IN_RAW, "4d" },
    /* Too long for RULES_BOTID_MAX: cut at a whole unit, flagged. */
    { "botid regex=\"^(.*)\" from=http.url", IN_HTTP, "/gate.php?v=2&aid=3q2-7w" },
    { "botid bytes=0+64", IN_HTTP,
      "504f5354202f676174652e7068703f763d32266169643d3371322d377720485454502f312e310d0a486f73743a"
      "2043322e4578616d706c652e434f4d0d0a55",
      true },
};

static void test_botid(void **state)
{
    (void)state;
    struct rules_scratch *s = rules_scratch_new();
    for (size_t i = 0; i < sizeof(botid_cases) / sizeof(botid_cases[0]); i++) {
        const struct botid_case *b = &botid_cases[i];
        char text[1024];
        snprintf(text, sizeof(text), "rule r family=f\n %s\nend\n", b->lines);
        struct rules *r = load_ok(text);
        struct rules_result out;
        assert_int_equal(rules_classify(r, &contacts[b->in].in, s, &out), RULES_MATCHED);
        if (strcmp(out.bot_id, b->want) != 0)
            fprintf(stderr, "case %zu: '%s': got '%s'\n", i, b->lines, out.bot_id);
        assert_string_equal(out.bot_id, b->want);
        assert_int_equal(out.bot_id_truncated, b->truncated);
        rules_free(r);
    }
    rules_scratch_free(s);
}

/* A capture longer than RULES_BOTID_SRC is cut before encoding. */
static void test_botid_long(void **state)
{
    (void)state;
    struct contact c;
    static uint8_t data[3000];
    memset(data, 'z', sizeof(data));
    make_raw(&c, 9, RULES_TCP, data, sizeof(c.buf) < sizeof(data) ? sizeof(c.buf) : sizeof(data));
    struct rules *r = load_ok("rule r family=f\n botid regex=\"(z+)\"\nend\n");
    struct rules_scratch *s = rules_scratch_new();
    struct rules_result out;
    assert_int_equal(rules_classify(r, &c.in, s, &out), RULES_MATCHED);
    assert_int_equal(strlen(out.bot_id), RULES_BOTID_MAX - 1);
    assert_true(out.bot_id_truncated);
    rules_free(r);
    /* Text escapes are never cut in half. */
    memset(data, 0x01, sizeof(data));
    make_raw(&c, 9, RULES_TCP, data, 100);
    r = load_ok("rule r family=f\n botid bytes=0+100 encode=text\nend\n");
    assert_int_equal(rules_classify(r, &c.in, s, &out), RULES_MATCHED);
    assert_int_equal(strlen(out.bot_id), 124);
    assert_true(out.bot_id_truncated);
    rules_free(r);
    rules_scratch_free(s);
}

/* ---- replies ---- */

static void test_default_reply(void **state)
{
    (void)state;
    struct rules_result out;
    /* No rules at all, an empty file, and a rule without a reply. */
    struct rules *empty = load_ok("");
    struct rules *noreply = load_ok("rule tag family=f\nend\n");
    struct rules *sets[] = { NULL, empty, noreply };
    for (int k = 0; k < 3; k++) {
        struct rules *r = sets[k];
        enum rules_outcome want = r == noreply ? RULES_MATCHED : RULES_DEFAULT;
        assert_int_equal(run(r, IN_HTTP, &out), want);
        assert_int_equal(out.reply.action, RULES_HTTP);
        assert_int_equal(out.reply.status, 200);
        assert_string_equal(out.reply.reason, "OK");
        assert_string_equal(out.reply.headers, "Content-Type: text/plain\r\n");
        assert_int_equal(out.reply.body_len, 0);
        assert_int_equal(out.reply.then, RULES_THEN_READ);
        assert_int_equal(run(r, IN_TLS, &out), want);
        assert_int_equal(out.reply.action, RULES_CLOSE);
        assert_int_equal(run(r, IN_RAW, &out), want);
        assert_int_equal(out.reply.action, RULES_CLOSE);
        assert_int_equal(run(r, IN_UDP, &out), want);
        assert_int_equal(out.reply.action, RULES_CLOSE);
        assert_false(out.reply_suppressed);
        assert_int_equal(run(r, IN_SILENT, &out), want);
        assert_int_equal(out.reply.action, RULES_SEND);
        assert_int_equal(out.reply.len, 0);
        assert_int_equal(out.reply.then, RULES_THEN_READ);
        assert_string_equal(out.family, r == noreply ? "f" : "");
    }
    rules_free(empty);
    rules_free(noreply);
    assert_int_equal(rules_count(NULL), 0);
}

static void test_http_head(void **state)
{
    (void)state;
    char buf[512];
    const struct rules_reply *d = rules_default_reply(&contacts[IN_HTTP].in);
    const char *ka = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 0\r\n"
                     "Connection: keep-alive\r\n\r\n";
    assert_int_equal(rules_http_head(d, true, buf, sizeof(buf)), (int)strlen(ka));
    assert_string_equal(buf, ka);
    assert_int_equal(rules_http_head(d, false, buf, sizeof(buf)), (int)strlen(ka) - 5);
    assert_non_null(strstr(buf, "Connection: close\r\n\r\n"));
    assert_int_equal(rules_http_head(d, true, buf, strlen(ka)), SK_ENOSPACE);
    assert_int_equal(
        rules_http_head(rules_default_reply(&contacts[IN_RAW].in), true, buf, sizeof(buf)),
        SK_EINVAL);

    struct rules *r = load_ok("rule a family=f\n reply http status=404 header=\"Server: x\" "
                              "body=\"gone\" then=close\nend\n"
                              "rule b family=f\n reply http status=204 reason=\"Nothing\"\nend\n");
    const char *want = "HTTP/1.1 404 Not Found\r\nServer: x\r\nContent-Length: 4\r\n"
                       "Connection: close\r\n\r\n";
    assert_int_equal(rules_http_head(&r->rules[0].reply, true, buf, sizeof(buf)),
                     (int)strlen(want));
    assert_string_equal(buf, want);
    want = "HTTP/1.1 204 Nothing\r\nConnection: keep-alive\r\n\r\n";
    assert_int_equal(rules_http_head(&r->rules[1].reply, true, buf, sizeof(buf)),
                     (int)strlen(want));
    assert_string_equal(buf, want);
    rules_free(r);
}

static void test_replies(void **state)
{
    (void)state;
    struct rules *r =
        load_ok("rule silent family=s\n match proto=silent\n"
                " reply banner=\"220 ready\\r\\n\"\nend\n"
                "rule tarpit family=t\n match port=80 transport=tcp\n"
                " reply tarpit\nend\n"
                "rule short family=u\n match transport=udp bytes@4=PING\n"
                " reply bytes=hex:4d448200\nend\n"
                "rule tls family=x\n match proto=tls\n reply bytes=hex:15030300020228\n"
                "end\n");
    struct rules_result out;
    assert_int_equal(run(r, IN_SILENT, &out), RULES_MATCHED);
    assert_int_equal(out.reply.action, RULES_SEND);
    assert_int_equal(out.reply.then, RULES_THEN_READ);
    assert_int_equal(out.reply.len, 11);
    assert_memory_equal(out.reply.bytes, "220 ready\r\n", 11);
    assert_int_equal(run(r, IN_RAW, &out), RULES_MATCHED);
    assert_int_equal(out.reply.action, RULES_TARPIT);
    assert_int_equal(run(r, IN_UDP, &out), RULES_MATCHED);
    assert_string_equal(out.rule, "short");
    assert_int_equal(out.reply.action, RULES_SEND);
    assert_int_equal(out.reply.len, 4);
    assert_false(out.reply_suppressed);
    assert_int_equal(run(r, IN_TLS, &out), RULES_MATCHED);
    assert_int_equal(out.reply.action, RULES_SEND);
    assert_int_equal(out.reply.then, RULES_THEN_CLOSE);
    assert_int_equal(out.reply.len, 7);
    rules_free(r);

    /* UDP never answers with more than it got, nor with a stream reply. */
    r = load_ok("rule big family=u\n match bytes@4=PING\n reply bytes=hex:\"00 01 02 03 04 05 06 "
                "07 08 09 0a 0b 0c\"\nend\n"
                "rule http family=h\n match port=53\n reply http\nend\n");
    assert_int_equal(run(r, IN_UDP, &out), RULES_MATCHED);
    assert_string_equal(out.rule, "big");
    assert_string_equal(out.family, "u");
    assert_int_equal(out.reply.action, RULES_CLOSE);
    assert_true(out.reply_suppressed);
    struct rules_input in = contacts[IN_UDP].in;
    in.data = (const uint8_t *)"xxxxxxxxxxxxxxxx";
    in.len = 16;
    struct rules_scratch *s = rules_scratch_new();
    assert_int_equal(rules_classify(r, &in, s, &out), RULES_MATCHED);
    assert_string_equal(out.rule, "http");
    assert_int_equal(out.reply.action, RULES_CLOSE);
    assert_true(out.reply_suppressed);
    rules_scratch_free(s);
    rules_free(r);
}

/* ---- limits ---- */

static void test_pathological_regex(void **state)
{
    (void)state;
    /* (a+)+$ against a run of a's that does not end the subject: the
     * classic exponential backtracking case. */
    static uint8_t data[4000];
    memset(data, 'a', sizeof(data) - 1);
    data[sizeof(data) - 1] = '!';
    struct rules_input in = { .port = 80, .transport = RULES_TCP, .proto = SNIFF_RAW };
    in.data = data;
    in.len = sizeof(data);
    static const char *const texts[] = {
        "rule slow family=evil\n match bytes~\"(a+)+$\"\nend\n"
        "rule fallback family=ok\nend\n",
        /* Negated: a run that hit the limit fails the condition too. */
        "rule slow family=evil\n match bytes!~\"(a+)+$\"\nend\n"
        "rule fallback family=ok\nend\n",
        /* Lower limits from the file; in a botid the id is just not found. */
        "set match_limit=1000 depth_limit=100 heap_limit=16\n"
        "rule slow family=evil\n match bytes~\"(a+)+$\"\nend\n"
        "rule fallback family=ok\n botid regex=\"((a+)+)$\"\nend\n",
    };
    struct rules_scratch *s = rules_scratch_new();
    uint64_t total = 0;
    /* The last two runs go through the interpreter, as on a platform
     * without the JIT, where the depth and heap limits apply too. */
    for (size_t i = 0; i < 5; i++) {
        struct rules *r = load_ok(texts[i % 3]);
        if (i >= 3)
            r->jit = false;
        struct rules_result out;
        double t0 = now_ms();
        assert_int_equal(rules_classify(r, &in, s, &out), RULES_MATCHED);
        double ms = now_ms() - t0;
        printf("pathological regex %zu: %.2f ms (jit %s), limit hits %u\n", i, ms,
               rules_jit(r) ? "on" : "off", out.limit_hits);
        assert_true(ms < 500);
        assert_string_equal(out.rule, "fallback");
        assert_string_equal(out.family, "ok");
        assert_string_equal(out.bot_id, "");
        uint32_t want = i % 3 == 2 ? 2 : 1;
        assert_int_equal(out.limit_hits, want);
        total += want;
        assert_int_equal(rules_scratch_limit_hits(s), total);
        rules_free(r);
    }
    rules_scratch_free(s);
}

/* ---- scale and threads ---- */

static char *thousand_rules(void)
{
    size_t cap = 1000 * 200, k = 0;
    char *text = malloc(cap);
    assert_non_null(text);
    for (int i = 0; i < 1000; i++) {
        switch (i % 4) {
        case 0:
            k += (size_t)snprintf(text + k, cap - k,
                                  "rule r%d family=f%d\n match port=%d proto=raw bytes@0=hex:%04x\n"
                                  " botid bytes=2+4\n reply bytes=hex:00\nend\n",
                                  i, i % 50, 1000 + i, i);
            break;
        case 1:
            k += (size_t)snprintf(text + k, cap - k,
                                  "rule r%d family=f%d\n match proto=http http.path~\"^/p%d/\"\n"
                                  " botid regex=\"id=(\\w+)\" from=http.query\nend\n",
                                  i, i % 50, i);
            break;
        case 2:
            k += (size_t)snprintf(text + k, cap - k,
                                  "rule r%d family=f%d\n match proto=tls tls.sni~\"^h%d\\.\"\n"
                                  " reply close\nend\n",
                                  i, i % 50, i);
            break;
        default:
            k += (size_t)snprintf(text + k, cap - k,
                                  "rule r%d family=f%d\n match http.header.User-Agent~\"bot/%d$\"\n"
                                  " reply http body=\"r%d\"\nend\n",
                                  i, i % 50, i, i);
            break;
        }
    }
    k += (size_t)snprintf(text + k, cap - k,
                          "rule last family=last\n match http.path=/gate.php\n botid "
                          "regex=\"id=([0-9a-f]+)\" from=http.body\nend\n");
    return text;
}

static void test_thousand_rules(void **state)
{
    (void)state;
    char *text = thousand_rules();
    double t0 = now_ms();
    struct rules *r = load_ok(text);
    double load_ms = now_ms() - t0;
    assert_int_equal(rules_count(r), 1001);
    assert_string_equal(rules_rule_name(r, 999), "r999");
    assert_string_equal(rules_rule_family(r, 999), "f49");

    struct rules_scratch *s = rules_scratch_new();
    struct rules_result out;
    /* The HTTP request passes over all 1,000 to the last rule. */
    int n = 2000;
    t0 = now_ms();
    for (int i = 0; i < n; i++)
        assert_int_equal(rules_classify(r, &contacts[IN_HTTP].in, s, &out), RULES_MATCHED);
    double us = (now_ms() - t0) * 1000 / n;
    assert_string_equal(out.rule, "last");
    assert_int_equal(out.rule_index, 1000);
    assert_string_equal(out.bot_id, "00112233445566778899aabb");
    /* A raw contact on port 1996 is rule 996's. */
    struct contact c;
    make_raw(&c, 1996, RULES_TCP, "\x03\xe4\xca\xfe\xba\xbe", 6);
    t0 = now_ms();
    for (int i = 0; i < n; i++)
        assert_int_equal(rules_classify(r, &c.in, s, &out), RULES_MATCHED);
    double raw_us = (now_ms() - t0) * 1000 / n;
    assert_string_equal(out.rule, "r996");
    assert_string_equal(out.bot_id, "cafebabe");
    printf("1001 rules: load %.1f ms (jit %s); classify HTTP through all %.2f us, raw %.2f us\n",
           load_ms, rules_jit(r) ? "on" : "off", us, raw_us);
    assert_true(load_ms < 10000);
    rules_scratch_free(s);
    rules_free(r);
    free(text);
}

struct thread_arg {
    const struct rules *r;
    int ok;
};

static void *classify_thread(void *p)
{
    struct thread_arg *a = p;
    struct rules_scratch *s = rules_scratch_new();
    struct rules_result out;
    for (int i = 0; i < 2000; i++) {
        enum input_id id = (enum input_id)(i % IN_COUNT);
        rules_classify(a->r, &contacts[id].in, s, &out);
        bool good = id == IN_HTTP  ? strcmp(out.bot_id, "00112233445566778899aabb") == 0
                    : id == IN_RAW ? strcmp(out.bot_id, "0123456789abcdef") == 0
                                   : out.rule == NULL || strcmp(out.rule, "gate") != 0;
        if (good)
            a->ok++;
    }
    rules_scratch_free(s);
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    struct rules *r =
        load_ok("rule gate family=f\n match http.path~^/gate\n"
                " botid regex=\"id=([0-9a-f]+)\" from=http.body\nend\n"
                "rule raw family=g\n match proto=raw port=80\n botid bytes=8+8\nend\n");
    pthread_t t[4];
    struct thread_arg a[4];
    for (int i = 0; i < 4; i++) {
        a[i].r = r;
        a[i].ok = 0;
        assert_int_equal(pthread_create(&t[i], NULL, classify_thread, &a[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(a[i].ok, 2000);
    }
    rules_free(r);
}

/* ---- the example file ---- */

static void test_example_file(void **state)
{
    (void)state;
    char path[1024];
    snprintf(path, sizeof(path), "%s/../../etc/rules/families.rules", SK_TEST_DATA);
    char err[4096] = "";
    FILE *errs = fmemopen(err, sizeof(err) - 1, "w");
    struct rules *r;
    int rc = rules_load(path, &r, errs);
    fclose(errs);
    if (rc != 0)
        fprintf(stderr, "%s", err);
    assert_int_equal(rc, 0);
    assert_true(rules_count(r) >= 5);
    struct rules_result out;
    assert_int_equal(run(r, IN_RAW, &out), RULES_MATCHED);
    assert_string_equal(out.family, "megad");
    assert_string_equal(out.bot_id, "0123456789abcdeffedcba9876543210");
    assert_int_equal(out.reply.action, RULES_SEND);
    assert_int_equal(run(r, IN_HTTP, &out), RULES_MATCHED);
    assert_string_equal(out.family, "megad");
    assert_string_equal(out.bot_id, "0123456789abcdef"); /* from X-Id: the body has 24 digits */
    assert_int_equal(run(r, IN_SILENT, &out), RULES_MATCHED);
    assert_int_equal(out.reply.then, RULES_THEN_READ);
    assert_int_equal(run(r, IN_TLS, &out), RULES_DEFAULT);
    rules_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_every_directive),
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_errors_all_reported),
        cmocka_unit_test(test_load_file),
        cmocka_unit_test(test_match_conditions),
        cmocka_unit_test(test_fingerprints_from_caller),
        cmocka_unit_test(test_and_semantics),
        cmocka_unit_test(test_first_match),
        cmocka_unit_test(test_botid),
        cmocka_unit_test(test_botid_long),
        cmocka_unit_test(test_default_reply),
        cmocka_unit_test(test_http_head),
        cmocka_unit_test(test_replies),
        cmocka_unit_test(test_pathological_regex),
        cmocka_unit_test(test_thousand_rules),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_example_file),
    };
    return cmocka_run_group_tests(tests, setup_contacts, teardown);
}
