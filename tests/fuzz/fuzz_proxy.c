/* fuzz/fuzz_proxy.c -- the PROXY protocol v1/v2 parser on arbitrary input.
 *
 * A parsed header must lie inside the input, within the size limits of its
 * version, with addresses of a known family when it has them and TLVs that
 * tile their area exactly; every strict prefix of it must be "need more".
 * Any broken invariant aborts, which libFuzzer and the corpus replay both
 * report. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "listen/proxy.h"

#define CHECK(cond)  \
    do {             \
        if (!(cond)) \
            abort(); \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct proxy_header h, p;
    enum proxy_status st = proxy_parse(data, size, &h);
    CHECK(st <= PROXY_MALFORMED);
    if (size == 0)
        CHECK(st == PROXY_NEED_MORE);
    if (st != PROXY_COMPLETE)
        return 0;

    CHECK(h.len > 0 && h.len <= size);
    CHECK(h.version == 1 || h.version == 2);
    CHECK(h.transport <= PROXY_TRANSPORT_UDP);
    if (h.version == 1) {
        CHECK(h.len <= PROXY_V1_MAX && h.len >= 15);
        CHECK(memcmp(data, "PROXY ", 6) == 0);
        CHECK(data[h.len - 2] == '\r' && data[h.len - 1] == '\n');
        CHECK(!h.local && h.tlv_len == 0);
    } else {
        CHECK(h.len >= PROXY_V2_HDR_LEN);
        CHECK(h.len == PROXY_V2_HDR_LEN + ((size_t)data[14] << 8 | data[15]));
        CHECK(h.tlv_off >= PROXY_V2_HDR_LEN && h.tlv_off + h.tlv_len == h.len);
        size_t pos = h.tlv_off, end = h.tlv_off + h.tlv_len;
        uint8_t type;
        const uint8_t *v;
        uint16_t vl;
        while (proxy_tlv_next(data, end, &pos, &type, &v, &vl))
            CHECK(v >= data + h.tlv_off && v + vl <= data + end);
        CHECK(pos == end);
    }
    if (h.has_addrs) {
        CHECK(!h.local);
        CHECK((h.src.af == 4 || h.src.af == 6) && h.src.af == h.dst.af);
        CHECK(h.transport != PROXY_TRANSPORT_UNSPEC);
    } else {
        CHECK(h.src.af == 0 && h.dst.af == 0);
    }
    if (h.local)
        CHECK(h.transport == PROXY_TRANSPORT_UNSPEC);

    /* Strict prefixes: all of a short header, a sample of a long one. */
    size_t len = h.len;
    for (size_t l = 0; l < len; l += len <= 256 ? 1 : 97)
        CHECK(proxy_parse(data, l, &p) == PROXY_NEED_MORE);
    CHECK(proxy_parse(data, len - 1, &p) == PROXY_NEED_MORE);
    /* Bytes after the header do not matter. */
    CHECK(proxy_parse(data, len, &p) == PROXY_COMPLETE && p.len == len);
    return 0;
}
