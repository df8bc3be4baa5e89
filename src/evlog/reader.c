/* evlog/reader.c -- iterate over the records of a log file (mmap). */
#include "evlog/reader.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/crc32c.h"
#include "core/err.h"
#include "core/xalloc.h"

struct evlog_reader {
    char *path;
    const uint8_t *base;
    size_t len, pos;
    uint64_t recno;
    struct evlog_file_header hdr;
};

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int evlog_reader_open(const char *path, struct evlog_reader **out, char *err, size_t errlen)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        snprintf(err, errlen, "%s: %s", path, strerror(e));
        return -e;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        snprintf(err, errlen, "%s: %s", path, strerror(e));
        return -e;
    }
    const uint8_t *base = NULL;
    if (st.st_size > 0) {
        base = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (base == MAP_FAILED) {
            int e = errno;
            close(fd);
            snprintf(err, errlen, "%s: %s", path, strerror(e));
            return -e;
        }
    }
    close(fd);
    struct evlog_reader *r = xcalloc(1, sizeof(*r));
    r->path = xstrdup(path);
    r->base = base;
    r->len = (size_t)st.st_size;
    int hl = base ? evlog_header_decode(base, r->len, &r->hdr) : SK_ENOSPACE;
    if (hl < 0) {
        snprintf(err, errlen, "%s: not a sinkhole event log (bad or truncated header)", path);
        evlog_reader_close(r);
        return SK_ECORRUPT;
    }
    r->pos = (size_t)hl;
    *out = r;
    return 0;
}

/* Is there a valid record at off? */
static int valid_at(const struct evlog_reader *r, size_t off, uint32_t *plen)
{
    if (r->len - off < EVLOG_FRAME_LEN)
        return 0;
    uint32_t len = rd32(r->base + off);
    if (len == 0 || len > EVLOG_PAYLOAD_MAX || r->len - off - EVLOG_FRAME_LEN < len)
        return 0;
    if (crc32c(0, r->base + off + EVLOG_FRAME_LEN, len) != rd32(r->base + off + 4))
        return 0;
    *plen = len;
    return 1;
}

int evlog_reader_next(struct evlog_reader *r, struct sk_event *ev, uint64_t *recno, char *err,
                      size_t errlen)
{
    if (r->pos >= r->len)
        return 0;
    uint32_t len;
    if (!valid_at(r, r->pos, &len)) {
        size_t bad = r->pos, off = r->pos + 1;
        while (off < r->len && !valid_at(r, off, &len))
            off++;
        snprintf(err, errlen, "%s: offset %zu: %zu damaged or torn bytes skipped", r->path, bad,
                 off - bad);
        r->pos = off;
        /* Count the damaged stretch as one record so later ids stay put. */
        r->recno++;
        return SK_ECORRUPT;
    }
    const uint8_t *payload = r->base + r->pos + EVLOG_FRAME_LEN;
    size_t at = r->pos;
    r->pos += EVLOG_FRAME_LEN + len;
    *recno = r->recno++;
    if (evlog_record_decode(payload, len, ev) != 0) {
        snprintf(err, errlen, "%s: offset %zu: record does not decode (schema %u)", r->path, at,
                 r->hdr.schema);
        return SK_ECORRUPT;
    }
    return 1;
}

const struct evlog_file_header *evlog_reader_header(const struct evlog_reader *r)
{
    return &r->hdr;
}

void evlog_reader_close(struct evlog_reader *r)
{
    if (r == NULL)
        return;
    if (r->base)
        munmap((void *)r->base, r->len);
    free(r->path);
    free(r);
}
