/* fuzz/fuzz_rules.c -- the family rules reader and matcher on arbitrary
 * rules text.
 *
 * The input is loaded as a rules file from memory, named as a file in a
 * folder that does not exist (so relative @paths fail to read, as they
 * must, without touching the disk). A load either succeeds and says
 * nothing, or fails with SK_ECONFIG and only "PATH:LINE: ..." lines whose
 * LINE is within the input. A set that loads then classifies fixed
 * contacts (an HTTP request, a raw check-in, a UDP datagram, a silent
 * client) and the input itself as a raw contact, and every result must
 * hold together: a rule index in range, a family and a bot id that fit, no
 * UDP answer longer than the datagram, an HTTP head that can be written. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "classify/rules.h"
#include "core/err.h"

#define PATH "/nonexistent-sk-fuzz/fuzz.rules"

static const char REQUEST[] = "POST /gate.php?id=0011 HTTP/1.1\r\nHost: c2.example.com\r\n"
                              "User-Agent: bot/1.0\r\nContent-Length: 8\r\n\r\nid=00112";
static const uint8_t CHECKIN[] = { 0x4d, 0x44, 0x01, 0x07, 0x00, 0x00, 0x00, 0x18,
                                   0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef };

static void check_errors(const char *out, size_t len, size_t lines)
{
    size_t pl = strlen(PATH);
    const char *p = out, *end = out + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (nl == NULL || (size_t)(nl - p) < pl + 2 || memcmp(p, PATH ":", pl + 1) != 0)
            abort();
        const char *q = p + pl + 1;
        if (*q == ' ') {
            /* "PATH: N more errors not shown" */
            if (memmem(q, (size_t)(nl - q), "more errors not shown", 21) == NULL)
                abort();
        } else {
            char *e;
            unsigned long line = strtoul(q, &e, 10);
            if (e == q || *e != ':' || line == 0 || line > lines)
                abort();
        }
        p = nl + 1;
    }
}

static void check_result(const struct rules *r, const struct rules_input *in,
                         const struct rules_result *out)
{
    size_t n = rules_count(r);
    if (out->rule_index < -1 || (out->rule_index >= 0 && (size_t)out->rule_index >= n))
        abort();
    if ((out->rule == NULL) != (out->rule_index < 0))
        abort();
    if (out->rule != NULL && strcmp(out->rule, rules_rule_name(r, (size_t)out->rule_index)) != 0)
        abort();
    if (strlen(out->family) >= RULES_FAMILY_MAX)
        abort();
    if (memchr(out->bot_id, '\0', sizeof(out->bot_id)) == NULL)
        abort();
    if (out->rule == NULL && out->bot_id[0] != '\0')
        abort();
    const struct rules_reply *rp = &out->reply;
    if (in->transport == RULES_UDP && rp->action != RULES_CLOSE &&
        (rp->action != RULES_SEND || rp->len > in->len))
        abort();
    if (rp->action == RULES_SEND && rp->len > 0 && rp->bytes == NULL)
        abort();
    if (rp->action == RULES_HTTP) {
        static char head[16384];
        int k = rules_http_head(rp, true, head, sizeof(head));
        if (k <= 0 || (size_t)k != strlen(head) || memcmp(head, "HTTP/1.1 ", 9) != 0)
            abort();
        if (rp->body_len > 0 && rp->body == NULL)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct rules_scratch *s;
    if (s == NULL)
        s = rules_scratch_new();

    char *errs_buf = NULL;
    size_t errs_len = 0;
    FILE *errs = open_memstream(&errs_buf, &errs_len);
    if (errs == NULL)
        return 0;
    struct rules *r = (struct rules *)&s; /* must be overwritten */
    int rc = rules_load_buf((const char *)data, size, PATH, &r, errs);
    fclose(errs);

    size_t lines = 1;
    for (size_t i = 0; i < size; i++)
        lines += data[i] == '\n';
    if (rc == 0) {
        if (r == NULL || errs_len != 0)
            abort();
    } else {
        if (rc != SK_ECONFIG || r != NULL || errs_len == 0)
            abort();
        check_errors(errs_buf, errs_len, lines);
    }
    free(errs_buf);
    if (r == NULL)
        return 0;

    for (size_t i = 0; i < rules_count(r); i++)
        if (rules_rule_name(r, i)[0] == '\0' || strlen(rules_rule_family(r, i)) >= RULES_FAMILY_MAX)
            abort();

    struct rules_result out;
    struct http_request req;
    size_t rl = sizeof(REQUEST) - 1;
    if (http_parse_request((const uint8_t *)REQUEST, rl, 0, NULL, &req) != HTTP_COMPLETE)
        abort();
    struct rules_input inputs[5] = {
        { .port = 80,
          .transport = RULES_TCP,
          .proto = SNIFF_HTTP,
          .data = (const uint8_t *)REQUEST,
          .len = rl,
          .http = &req,
          .http_buf = (const uint8_t *)REQUEST,
          .body = (const uint8_t *)REQUEST + req.head_len,
          .body_len = rl - req.head_len },
        { .port = 80,
          .transport = RULES_TCP,
          .proto = SNIFF_RAW,
          .data = CHECKIN,
          .len = sizeof(CHECKIN) },
        { .port = 53, .transport = RULES_UDP, .proto = SNIFF_RAW, .data = CHECKIN, .len = 8 },
        { .port = 25, .transport = RULES_TCP, .proto = SNIFF_NEED_MORE },
        { .port = size > 1 ? (uint16_t)(data[0] << 8 | data[1]) : 0,
          .transport = size % 2 ? RULES_UDP : RULES_TCP,
          .proto = SNIFF_RAW,
          .data = data,
          .len = size },
    };
    for (int i = 0; i < 5; i++) {
        rules_classify(r, &inputs[i], s, &out);
        check_result(r, &inputs[i], &out);
    }
    rules_free(r);
    return 0;
}
