/* evlog/reader.c -- iterate over the records of segment files.
 *
 * Plain segments are read with pread() in 1 MiB pieces rather than
 * mapped: the writer may cut its open segment back after a write error,
 * and a mapped page past the new end would kill the reader with SIGBUS.
 * Compressed segments are never changed once renamed into place, so they
 * are mapped, and each block is decompressed into one reused buffer. */
#include "evlog/reader.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "core/err.h"
#include "core/xalloc.h"
#include "evlog/block.h"
#include "evlog/segment.h"

#define PLAIN_BUF (1u << 20)

struct evlog_reader {
    char *path;
    int fd;
    enum evlog_seg_form form;
    struct evlog_file_header hdr;
    struct evlog_filter f;
    int filtered;
    uint64_t recno; /* of the next record */

    /* plain: buf[start, end) holds the file from offset off */
    uint8_t *buf;
    size_t start, end;
    uint64_t off;
    int eof;
    int in_bad;
    uint64_t bad_off, bad_len;

    /* compressed */
    const uint8_t *map;
    size_t maplen, pos;
    ZSTD_DCtx *dctx;
    uint8_t *raw;
    size_t raw_cap;
    struct evlog_block_dec dec;
    int in_block;
    struct evlog_zdesc desc;
    size_t desc_off;
};

static int fail(char *err, size_t errlen, const char *path, int e)
{
    snprintf(err, errlen, "%s: %s", path, strerror(e));
    return -e;
}

static int open_plain(struct evlog_reader *r, char *err, size_t errlen)
{
    r->buf = xmalloc(PLAIN_BUF);
    ssize_t n = pread(r->fd, r->buf, EVLOG_HEADER_MAX, 0);
    if (n < 0)
        return fail(err, errlen, r->path, errno);
    int hl = evlog_header_decode(r->buf, (size_t)n, &r->hdr);
    if (hl < 0) {
        snprintf(err, errlen, "%s: not a sinkhole event log (bad or truncated header)", r->path);
        return SK_ECORRUPT;
    }
    r->off = (uint64_t)hl;
    r->start = r->end = 0;
    return 0;
}

static int open_zstd(struct evlog_reader *r, size_t len, char *err, size_t errlen)
{
    void *m = mmap(NULL, len, PROT_READ, MAP_PRIVATE, r->fd, 0);
    if (m == MAP_FAILED)
        return fail(err, errlen, r->path, errno);
    r->map = m;
    r->maplen = len;
    madvise(m, len, MADV_SEQUENTIAL);
    uint32_t hlen = len >= 8 ? evlog_rd32(r->map + 4) : 0;
    if (len < 8 || hlen > len - 8 || evlog_header_decode(r->map + 8, hlen, &r->hdr) < 0) {
        snprintf(err, errlen, "%s: offset 0: bad or truncated segment header", r->path);
        return SK_ECORRUPT;
    }
    r->pos = 8 + (size_t)hlen;
    r->dctx = ZSTD_createDCtx();
    return 0;
}

int evlog_reader_open_fd(int fd, const char *name, struct evlog_reader **out, char *err,
                         size_t errlen)
{
    *out = NULL;
    struct evlog_reader *r = xcalloc(1, sizeof(*r));
    r->path = xstrdup(name);
    r->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (r->fd < 0) {
        int rc = fail(err, errlen, name, errno);
        evlog_reader_close(r);
        return rc;
    }
    struct stat st;
    uint8_t magic[8];
    ssize_t n = 0;
    int rc = 0;
    if (fstat(r->fd, &st) != 0)
        rc = fail(err, errlen, name, errno);
    else if (S_ISDIR(st.st_mode))
        rc = fail(err, errlen, name, EISDIR);
    else if ((n = pread(r->fd, magic, sizeof(magic), 0)) < 0)
        rc = fail(err, errlen, name, errno);
    if (rc == 0) {
        r->form = evlog_segment_form(magic, (size_t)n);
        if (r->form == EVLOG_FORM_PLAIN) {
            rc = open_plain(r, err, errlen);
        } else if (r->form == EVLOG_FORM_ZSTD) {
            rc = open_zstd(r, (size_t)st.st_size, err, errlen);
        } else {
            snprintf(err, errlen, "%s: not a sinkhole event log (bad or truncated header)", name);
            rc = SK_ECORRUPT;
        }
    }
    if (rc == 0 && !evlog_schema_supported(r->hdr.schema)) {
        snprintf(
            err, errlen,
            "%s: event schema %u is not supported by this build (it reads 1 to %u): use a newer sinkhole",
            name, r->hdr.schema, SK_EVENT_SCHEMA);
        rc = SK_EINVAL;
    }
    if (rc != 0) {
        evlog_reader_close(r);
        return rc;
    }
    *out = r;
    return 0;
}

int evlog_reader_open(const char *path, struct evlog_reader **out, char *err, size_t errlen)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return fail(err, errlen, path, errno);
    int rc = evlog_reader_open_fd(fd, path, out, err, errlen);
    close(fd);
    return rc;
}

void evlog_reader_set_filter(struct evlog_reader *r, const struct evlog_filter *f)
{
    r->f = *f;
    r->filtered = f->from_us != 0 || f->to_us != 0 || f->kinds != 0;
}

static int passes(const struct evlog_filter *f, uint8_t kind, uint64_t ts)
{
    return ts >= f->from_us && (f->to_us == 0 || ts < f->to_us) &&
           (f->kinds == 0 || (f->kinds & (1u << (kind & 31))));
}

/* ---- plain ---- */

static int fill(struct evlog_reader *r, char *err, size_t errlen)
{
    if (r->eof)
        return 0;
    if (r->start > 0) {
        memmove(r->buf, r->buf + r->start, r->end - r->start);
        r->end -= r->start;
        r->start = 0;
    }
    while (r->end < PLAIN_BUF) {
        ssize_t n = pread(r->fd, r->buf + r->end, PLAIN_BUF - r->end, (off_t)(r->off + r->end));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            r->eof = 1;
            return fail(err, errlen, r->path, errno);
        }
        if (n == 0) {
            r->eof = 1;
            break;
        }
        r->end += (size_t)n;
    }
    return 0;
}

static void consume(struct evlog_reader *r, size_t n)
{
    r->start += n;
    r->off += n;
}

static int report_bad(struct evlog_reader *r, char *err, size_t errlen)
{
    snprintf(err, errlen, "%s: offset %" PRIu64 ": %" PRIu64 " damaged or torn bytes skipped",
             r->path, r->bad_off, r->bad_len);
    r->in_bad = 0;
    r->bad_len = 0;
    r->recno++;
    return SK_ECORRUPT;
}

static int next_plain(struct evlog_reader *r, struct sk_event *ev, uint64_t *recno, char *err,
                      size_t errlen)
{
    for (;;) {
        if (!r->eof && r->end - r->start < EVLOG_FRAME_LEN + EVLOG_PAYLOAD_MAX) {
            int rc = fill(r, err, errlen);
            if (rc < 0)
                return rc;
        }
        size_t adv;
        uint32_t plen;
        const uint8_t *p = r->buf + r->start;
        enum evlog_scan_item it = evlog_frame_scan(p, r->end - r->start, r->eof, &adv, &plen);
        switch (it) {
        case EVLOG_SCAN_MORE: {
            int rc = fill(r, err, errlen);
            if (rc < 0)
                return rc;
            continue;
        }
        case EVLOG_SCAN_END:
            if (r->in_bad)
                return report_bad(r, err, errlen);
            return 0;
        case EVLOG_SCAN_BAD:
            if (!r->in_bad) {
                r->in_bad = 1;
                r->bad_off = r->off;
            }
            r->bad_len += adv;
            consume(r, adv);
            continue;
        case EVLOG_SCAN_RECORD:
            break;
        }
        if (r->in_bad)
            return report_bad(r, err, errlen); /* the record is read next time */
        const uint8_t *payload = p + EVLOG_FRAME_LEN;
        uint64_t at = r->off;
        consume(r, adv);
        uint64_t n = r->recno++;
        if (r->filtered) {
            uint8_t kind;
            uint64_t ts;
            if (evlog_record_peek(payload, plen, &kind, &ts) == 0 && !passes(&r->f, kind, ts))
                continue;
        }
        if (evlog_record_decode_schema(payload, plen, r->hdr.schema, ev) != 0) {
            snprintf(err, errlen, "%s: offset %" PRIu64 ": record does not decode (schema %u)",
                     r->path, at, r->hdr.schema);
            return SK_ECORRUPT;
        }
        *recno = n;
        return 1;
    }
}

/* ---- compressed ---- */

static int next_zstd(struct evlog_reader *r, struct sk_event *ev, uint64_t *recno, char *err,
                     size_t errlen)
{
    for (;;) {
        if (r->in_block) {
            uint8_t kind;
            uint64_t ts;
            int rc = evlog_block_dec_head(&r->dec, &kind, &ts);
            if (rc == 0) {
                r->in_block = 0;
                continue;
            }
            uint64_t n = r->desc.first_recno + r->dec.i - 1;
            if (rc == 1) {
                if (r->filtered && !passes(&r->f, kind, ts))
                    rc = evlog_block_dec_skip(&r->dec);
                else if ((rc = evlog_block_dec_body(&r->dec, ev)) == 0) {
                    *recno = n;
                    r->recno = n + 1;
                    return 1;
                }
                if (rc == 0)
                    continue;
            }
            r->in_block = 0;
            r->recno = r->desc.first_recno + r->desc.nrec;
            snprintf(err, errlen,
                     "%s: offset %zu: block of %u records is corrupt from record %" PRIu64
                     " on (%" PRIu64 " records lost)",
                     r->path, r->desc_off, r->desc.nrec, n, r->recno - n);
            return SK_ECORRUPT;
        }
        if (r->pos >= r->maplen)
            return 0;
        size_t at = r->pos;
        struct evlog_zdesc d;
        if (evlog_zdesc_decode(r->map + at, r->maplen - at, &d) != 0) {
            size_t next = at + 1;
            while (next < r->maplen && evlog_zdesc_decode(r->map + next, r->maplen - next, &d) != 0)
                next++;
            r->pos = next;
            r->recno++;
            snprintf(err, errlen, "%s: offset %zu: %zu damaged bytes skipped", r->path, at,
                     next - at);
            return SK_ECORRUPT;
        }
        if (d.zlen > r->maplen - at - EVLOG_ZDESC_LEN) {
            r->pos = r->maplen;
            r->recno = d.first_recno + d.nrec;
            snprintf(err, errlen, "%s: offset %zu: block of %u records is cut short", r->path, at,
                     d.nrec);
            return SK_ECORRUPT;
        }
        r->pos = at + EVLOG_ZDESC_LEN + d.zlen;
        r->desc = d;
        r->desc_off = at;
        r->recno = d.first_recno + d.nrec;
        if (d.flags & EVLOG_ZF_DAMAGED) {
            snprintf(err, errlen,
                     "%s: offset %zu: record %" PRIu64
                     ": %u damaged bytes kept from the plain segment",
                     r->path, at, d.first_recno, d.raw_len);
            if (d.nrec == 0)
                continue;
            return SK_ECORRUPT;
        }
        if (d.nrec == 0)
            continue;
        if (r->filtered &&
            (d.max_ts < r->f.from_us || (r->f.to_us != 0 && d.min_ts >= r->f.to_us) ||
             (r->f.kinds != 0 && !(r->f.kinds & d.kinds))))
            continue;
        if (d.raw_len > r->raw_cap) {
            free(r->raw);
            r->raw = xmalloc(d.raw_len);
            r->raw_cap = d.raw_len;
        }
        size_t got =
            ZSTD_decompressDCtx(r->dctx, r->raw, d.raw_len, r->map + at + EVLOG_ZDESC_LEN, d.zlen);
        const char *why = NULL;
        if (ZSTD_isError(got))
            why = ZSTD_getErrorName(got);
        else if (got != d.raw_len)
            why = "wrong length";
        else if (evlog_block_dec_init(&r->dec, r->raw, got) != 0 || r->dec.nrec != d.nrec)
            why = "bad block layout";
        if (why) {
            snprintf(err, errlen, "%s: offset %zu: block of %u records unreadable: %s", r->path, at,
                     d.nrec, why);
            return SK_ECORRUPT;
        }
        r->in_block = 1;
    }
}

int evlog_reader_next(struct evlog_reader *r, struct sk_event *ev, uint64_t *recno, char *err,
                      size_t errlen)
{
    if (r->form == EVLOG_FORM_ZSTD)
        return next_zstd(r, ev, recno, err, errlen);
    return next_plain(r, ev, recno, err, errlen);
}

const struct evlog_file_header *evlog_reader_header(const struct evlog_reader *r)
{
    return &r->hdr;
}

int evlog_reader_compressed(const struct evlog_reader *r)
{
    return r->form == EVLOG_FORM_ZSTD;
}

void evlog_reader_close(struct evlog_reader *r)
{
    if (r == NULL)
        return;
    if (r->map)
        munmap((void *)r->map, r->maplen);
    if (r->fd >= 0)
        close(r->fd);
    ZSTD_freeDCtx(r->dctx);
    evlog_block_dec_free(&r->dec);
    free(r->raw);
    free(r->buf);
    free(r->path);
    free(r);
}

/* ---- scans over files and folders ---- */

struct evlog_scan {
    char **files;
    size_t n, cap, next;
    struct evlog_filter f;
    struct evlog_reader *cur;
};

static void add_file(struct evlog_scan *s, char *path)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 16;
        s->files = xrealloc(s->files, s->cap * sizeof(*s->files));
    }
    s->files[s->n++] = path;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int is_segment_name(const char *name)
{
    size_t l = strlen(name);
    size_t sl = strlen(EVLOG_SEG_SUFFIX);
    return l > sl && name[0] != '.' && strcmp(name + l - sl, EVLOG_SEG_SUFFIX) == 0;
}

/* Add the segments of folder dir; returns how many, or -errno. */
static int add_dir(struct evlog_scan *s, const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return -errno;
    size_t first = s->n;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (!is_segment_name(de->d_name))
            continue;
        size_t l = strlen(dir) + strlen(de->d_name) + 2;
        char *p = xmalloc(l);
        snprintf(p, l, "%s/%s", dir, de->d_name);
        add_file(s, p);
    }
    closedir(d);
    if (s->n - first > 1)
        qsort(s->files + first, s->n - first, sizeof(*s->files), cmp_str);
    return (int)(s->n - first);
}

int evlog_scan_open(const char *const *paths, size_t n, const struct evlog_filter *f,
                    struct evlog_scan **out, char *err, size_t errlen)
{
    *out = NULL;
    struct evlog_scan *s = xcalloc(1, sizeof(*s));
    if (f)
        s->f = *f;
    for (size_t i = 0; i < n; i++) {
        struct stat st;
        if (stat(paths[i], &st) != 0) {
            int rc = fail(err, errlen, paths[i], errno);
            evlog_scan_close(s);
            return rc;
        }
        if (!S_ISDIR(st.st_mode)) {
            add_file(s, xstrdup(paths[i]));
            continue;
        }
        int k = add_dir(s, paths[i]);
        if (k == 0) {
            /* A data_dir: its segments are in events/. */
            char sub[4200];
            snprintf(sub, sizeof(sub), "%s/events", paths[i]);
            if (stat(sub, &st) == 0 && S_ISDIR(st.st_mode))
                k = add_dir(s, sub);
        }
        if (k < 0) {
            int rc = fail(err, errlen, paths[i], -k);
            evlog_scan_close(s);
            return rc;
        }
    }
    *out = s;
    return 0;
}

int evlog_scan_next(struct evlog_scan *s, struct sk_event *ev, struct evlog_ref *ref, char *err,
                    size_t errlen)
{
    for (;;) {
        if (s->cur == NULL) {
            if (s->next == s->n)
                return 0;
            const char *path = s->files[s->next++];
            int rc = evlog_reader_open(path, &s->cur, err, errlen);
            if (rc != 0)
                return rc;
            evlog_reader_set_filter(s->cur, &s->f);
        }
        uint64_t recno;
        int rc = evlog_reader_next(s->cur, ev, &recno, err, errlen);
        if (rc == 0) {
            evlog_reader_close(s->cur);
            s->cur = NULL;
            continue;
        }
        if (rc == 1) {
            ref->path = s->files[s->next - 1];
            ref->hdr = &s->cur->hdr;
            ref->recno = recno;
            ref->seq = s->cur->hdr.format >= 2 ? s->cur->hdr.first_seq + recno : 0;
        }
        return rc;
    }
}

size_t evlog_scan_files(const struct evlog_scan *s)
{
    return s->n;
}

void evlog_scan_close(struct evlog_scan *s)
{
    if (s == NULL)
        return;
    evlog_reader_close(s->cur);
    for (size_t i = 0; i < s->n; i++)
        free(s->files[i]);
    free(s->files);
    free(s);
}
