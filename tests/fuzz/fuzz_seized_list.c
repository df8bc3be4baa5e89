/* fuzz/fuzz_seized_list.c -- the seized-list parser and matcher on
 * arbitrary list text.
 *
 * The input is parsed as a list from memory and, written to a private temp
 * file, through seized_load_file() as the daemon reads it; both must agree.
 * Every name on a line that loaded must then be found, itself and one label
 * below, and loading the same text into a second list must conflict. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/err.h"
#include "dns/seized.h"
#include "dns/seized_internal.h"

#define MAX_CHECKED 64 /* names looked up per input */

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* Look up the first name of each line of buf[0..len) that parses. */
static void check_names(const struct seized *s, const char *buf, size_t len, uint16_t list)
{
    size_t pos = 0;
    int checked = 0;
    while (pos < len && checked < MAX_CHECKED) {
        const char *nl = memchr(buf + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - buf) : len;
        size_t i = pos;
        while (i < end && is_space(buf[i]))
            i++;
        size_t start = i;
        while (i < end && !is_space(buf[i]) && buf[i] != '#') {
            if (buf[i] == '\\' && i + 1 < end)
                i++;
            i++;
        }
        uint8_t w[256 + 2];
        size_t wlen = 0;
        if (i > start && seized__parse_name(buf + start, i - start, w + 2, &wlen) == NULL) {
            struct seized_match m;
            if (seized_lookup(s, w + 2, wlen, &m) != 1 || m.list_id != list || m.apex_off != 0 ||
                m.apex_len != wlen)
                abort();
            if (wlen + 2 <= 255) {
                w[0] = 1;
                w[1] = 'Q';
                /* "q.<name>" may itself be on the list. */
                if (seized_lookup(s, w, wlen + 2, &m) != 1 || m.list_id != list ||
                    (m.apex_len != wlen && m.apex_len != wlen + 2))
                    abort();
            }
            checked++;
        }
        pos = end + 1;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char path[64];
    if (path[0] == '\0')
        snprintf(path, sizeof(path), "/tmp/sk-fuzz-seized-%d.txt", (int)getpid());
    const char *buf = (const char *)data;

    struct seized *s = seized_new();
    char err[512] = "";
    uint16_t other = 0xffff;
    int rc = seized__load_buf(s, buf, size, path, 0, &other, err, sizeof(err));
    size_t n = seized_count(s);
    size_t counts[2];
    seized_list_counts(s, counts, 2);
    if (counts[0] != n || counts[1] != 0 || memchr(err, '\0', sizeof(err)) == NULL)
        abort();
    /* One list: no name can be in another one. */
    if (rc == SK_EEXIST || other != 0xffff)
        abort();
    if (rc != 0 && strncmp(err, path, strlen(path)) != 0)
        abort();
    if (seized_memory(s) < n * 4)
        abort();

    /* The file reader must agree with the memory one. */
    FILE *f = fopen(path, "wb");
    if (f != NULL) {
        fwrite(data, 1, size, f);
        fclose(f);
        struct seized *t = seized_new();
        char err2[512] = "";
        int rc2 = seized_load_file(t, path, 0, &other, err2, sizeof(err2));
        if (rc2 != rc || seized_count(t) != n || strcmp(err, err2) != 0)
            abort();
        seized_free(t);
        unlink(path);
    }

    if (rc == 0) {
        check_names(s, buf, size, 0);
        /* The same names again in another list: a conflict at the first. */
        int rc3 = seized__load_buf(s, buf, size, path, 1, &other, err, sizeof(err));
        if (n > 0 && (rc3 != SK_EEXIST || other != 0))
            abort();
        if (n == 0 && rc3 != 0)
            abort();
        if (seized_count(s) != n)
            abort();
    }
    seized_free(s);
    return 0;
}
