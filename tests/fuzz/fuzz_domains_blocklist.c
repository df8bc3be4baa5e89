/* fuzz/fuzz_domains_blocklist.c -- the blocklist line parser and the
 * rpz-ip owner-name writer on arbitrary input.
 *
 * Each input line goes through blocklist_parse_line; a prefix it accepts
 * must be well formed, and its rpz-ip owner name must be a valid DNS name
 * ending in ".rpz-ip" with the prefix length first. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "domains/blocklist.h"
#include "domains/family.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data, *end = p + size;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        struct sk_prefix pre;
        char err[160];
        int rc = blocklist_parse_line(p, len, &pre, err, sizeof(err));
        if (rc < 0 && err[0] == '\0')
            abort(); /* an error always says why */
        if (rc == 1) {
            if ((pre.ip.af != 4 && pre.ip.af != 6) || pre.len > (pre.ip.af == 4 ? 32 : 128))
                abort();
            char owner[128];
            blocklist_rpz_owner(&pre, owner, sizeof(owner));
            size_t ol = strlen(owner);
            if (ol < 8 || strcmp(owner + ol - 7, ".rpz-ip") != 0 ||
                domains_name_check(owner, ol) != 0)
                abort();
            if (strtoul(owner, NULL, 10) != pre.len)
                abort();
        }
        p += len + (nl != NULL);
    }
    return 0;
}
