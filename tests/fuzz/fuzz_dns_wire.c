/* fuzz/fuzz_dns_wire.c -- the DNS query parser, name decoder and message
 * builder on arbitrary input.
 *
 * Every input goes through dns_parse_query(); the classification must be
 * consistent with the header, and a parsed question name must survive
 * wire -> text -> wire unchanged. Names decoded from arbitrary offsets and
 * the builder's compression are checked the same way. Any broken invariant
 * aborts, which libFuzzer and the corpus replay both report. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns/name.h"
#include "dns/wire.h"

#define CHECK(cond)  \
    do {             \
        if (!(cond)) \
            abort(); \
    } while (0)

/* A wire name must be well formed and round-trip through its text form. */
static void check_name(const uint8_t *name, size_t len)
{
    CHECK(len >= 1 && len <= DNS_NAME_MAX);
    uint8_t offs[DNS_LABELS_MAX];
    int n = dns_name_label_offsets(name, len, offs);
    CHECK(n >= 0 && n < DNS_LABELS_MAX);
    CHECK(dns_name_labels(name, len) == n);

    char text[DNS_NAME_TEXT_MAX];
    int tl = dns_name_to_text(name, len, text, sizeof(text));
    CHECK(tl > 0 && (size_t)tl == strlen(text));
    uint8_t back[DNS_NAME_MAX];
    size_t bl = 0;
    CHECK(dns_name_from_text(text, (size_t)tl, back, &bl) == 0);
    CHECK(bl == len && dns_name_equal(back, bl, name, len));
    CHECK(memcmp(back, name, len) == 0); /* case is kept too */

    uint8_t low[DNS_NAME_MAX];
    dns_name_lower(name, len, low);
    CHECK(dns_name_equal(low, len, name, len));
}

/* Write the name raw, then compressed, then a suffix of it; all three must
 * decode back to the same names, and the second must be a bare pointer. */
static void check_builder(const uint8_t *name, size_t len)
{
    uint8_t buf[DNS_HDR_LEN + 3 * DNS_NAME_MAX];
    struct dns_wbuf w;
    dns_wbuf_init(&w, buf, sizeof(buf));
    memset(buf, 0, DNS_HDR_LEN);
    w.len = DNS_HDR_LEN;
    CHECK(dns_wbuf_name_raw(&w, name, len) == 0);
    size_t second = w.len;
    CHECK(dns_wbuf_name(&w, name, len) == 0);
    CHECK(w.len - second == (len > 1 ? 2 : 1));
    uint8_t offs[DNS_LABELS_MAX];
    int n = dns_name_label_offsets(name, len, offs);
    size_t third = w.len;
    size_t suffix = n > 1 ? offs[1] : 0;
    CHECK(dns_wbuf_name(&w, name + suffix, len - suffix) == 0);
    CHECK(!w.overflow);

    size_t starts[3] = { DNS_HDR_LEN, second, third };
    size_t ends[3] = { second, third, w.len };
    for (int i = 0; i < 3; i++) {
        uint8_t out[DNS_NAME_MAX];
        size_t ol, pos = starts[i];
        CHECK(dns_name_decode(buf, w.len, &pos, out, &ol) == 0);
        CHECK(pos == ends[i]);
        const uint8_t *want = i == 2 ? name + suffix : name;
        size_t wl = i == 2 ? len - suffix : len;
        CHECK(ol == wl && memcmp(out, want, wl) == 0);
    }

    /* Not enough room: nothing written, overflow set. */
    struct dns_wbuf s;
    dns_wbuf_init(&s, buf, len - 1);
    CHECK(dns_wbuf_name(&s, name, len) != 0 && s.overflow && s.len == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct dns_query q;
    enum dns_parse_status st = dns_parse_query(data, size, &q);
    CHECK(st <= DNS_PARSE_DROP);

    bool drop = size < DNS_HDR_LEN;
    if (!drop) {
        uint16_t flags = (uint16_t)(data[2] << 8 | data[3]);
        uint16_t qd = (uint16_t)(data[4] << 8 | data[5]);
        drop = (flags & DNS_QR) || qd == 0;
        if (!drop) {
            CHECK(q.hdr.flags == flags && q.hdr.qdcount == qd);
            if (DNS_OPCODE(flags) != DNS_OP_QUERY)
                CHECK(st == DNS_PARSE_NOTIMP);
        }
    }
    CHECK(drop == (st == DNS_PARSE_DROP));

    if (q.has_question) {
        CHECK(q.qname_len >= 1 && q.qname_len <= DNS_NAME_MAX);
        CHECK(q.question_end >= DNS_HDR_LEN + 5 && q.question_end <= size);
        check_name(q.qname, q.qname_len);
        check_builder(q.qname, q.qname_len);
    }
    if (st == DNS_PARSE_OK || st == DNS_PARSE_BADVERS) {
        CHECK(q.has_question && q.hdr.qdcount == 1 && q.hdr.ancount == 0 && q.hdr.nscount == 0);
        CHECK((st == DNS_PARSE_BADVERS) == (q.has_edns && q.edns_version > 0));
    }
    if (q.has_ecs) {
        CHECK(q.has_edns);
        CHECK(q.ecs_family == 1 || q.ecs_family == 2);
        unsigned bits = q.ecs_family == 1 ? 32 : 128;
        CHECK(q.ecs_source_prefix <= bits);
        for (unsigned b = q.ecs_source_prefix; b < 128; b++)
            CHECK((q.ecs_addr[b / 8] & (0x80 >> (b % 8))) == 0);
    }

    /* The name decoder at a few offsets on its own, whatever the header. */
    for (size_t off = 0; off < size && off < 64; off++) {
        uint8_t name[DNS_NAME_MAX];
        size_t nl = 0, pos = off;
        if (dns_name_decode(data, size, &pos, name, &nl) == 0) {
            CHECK(pos > off && pos <= size);
            check_name(name, nl);
        } else {
            CHECK(pos == off);
        }
        pos = off;
        if (dns_skip_rr(data, size, &pos) == 0)
            CHECK(pos >= off + 11 && pos <= size);
    }
    return 0;
}
