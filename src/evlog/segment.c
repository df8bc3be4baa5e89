/* evlog/segment.c -- segment names, the compressed form, stat and recovery.
 *
 * Everything here works on whole closed files (the writer's open segment
 * is never passed in), so files are mapped rather than read in pieces.
 * The one exception is recovery, which runs before the writer starts and
 * may cut the file it has mapped: it unmaps first. */
#include "evlog/segment.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "core/crc32c.h"
#include "core/err.h"
#include "core/xalloc.h"
#include "evlog/block.h"

#define WRITE_BUF        (1u << 20)
#define BLOCK_RAW_TARGET (4u << 20)

void evlog_segment_name(uint64_t segment, char out[EVLOG_SEG_NAME_MAX])
{
    snprintf(out, EVLOG_SEG_NAME_MAX, "%016" PRIx64 EVLOG_SEG_SUFFIX, segment);
}

int evlog_segment_parse_name(const char *name, uint64_t *segment)
{
    if (strlen(name) != 16 + strlen(EVLOG_SEG_SUFFIX) || strcmp(name + 16, EVLOG_SEG_SUFFIX) != 0)
        return SK_EINVAL;
    uint64_t v = 0;
    for (int i = 0; i < 16; i++) {
        char c = name[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (d < 0)
            return SK_EINVAL;
        v = v << 4 | (uint64_t)d;
    }
    *segment = v;
    return 0;
}

enum evlog_seg_form evlog_segment_form(const uint8_t *p, size_t len)
{
    if (len >= 8 && memcmp(p, EVLOG_MAGIC, 8) == 0)
        return EVLOG_FORM_PLAIN;
    if (len >= 4 && evlog_rd32(p) == EVLOG_ZHDR_MAGIC)
        return EVLOG_FORM_ZSTD;
    return EVLOG_FORM_UNKNOWN;
}

void evlog_zdesc_encode(const struct evlog_zdesc *d, uint8_t *out)
{
    evlog_wr32(out, EVLOG_ZBLK_MAGIC);
    evlog_wr32(out + 4, EVLOG_ZDESC_PAYLOAD);
    uint8_t *p = out + 8;
    memcpy(p, "SKB1", 4);
    evlog_wr64(p + 4, d->first_recno);
    evlog_wr32(p + 12, d->nrec);
    evlog_wr32(p + 16, d->raw_len);
    evlog_wr32(p + 20, d->zlen);
    evlog_wr64(p + 24, d->min_ts);
    evlog_wr64(p + 32, d->max_ts);
    evlog_wr32(p + 40, d->kinds);
    evlog_wr32(p + 44, d->flags);
    evlog_wr32(p + 48, crc32c(0, p, 48));
}

int evlog_zdesc_decode(const uint8_t *p, size_t len, struct evlog_zdesc *d)
{
    if (len < EVLOG_ZDESC_LEN || evlog_rd32(p) != EVLOG_ZBLK_MAGIC ||
        evlog_rd32(p + 4) != EVLOG_ZDESC_PAYLOAD || memcmp(p + 8, "SKB1", 4) != 0)
        return SK_ECORRUPT;
    const uint8_t *q = p + 8;
    if (crc32c(0, q, 48) != evlog_rd32(q + 48))
        return SK_ECORRUPT;
    d->first_recno = evlog_rd64(q + 4);
    d->nrec = evlog_rd32(q + 12);
    d->raw_len = evlog_rd32(q + 16);
    d->zlen = evlog_rd32(q + 20);
    d->min_ts = evlog_rd64(q + 24);
    d->max_ts = evlog_rd64(q + 32);
    d->kinds = evlog_rd32(q + 40);
    d->flags = evlog_rd32(q + 44);
    if (d->raw_len > EVLOG_ZBLOCK_RAW_MAX)
        return SK_ECORRUPT;
    return 0;
}

/* ---- helpers ---- */

struct mapped {
    const uint8_t *base;
    size_t len;
};

static int map_file(const char *path, struct mapped *m, char *err, size_t errlen)
{
    m->base = NULL;
    m->len = 0;
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
    m->len = (size_t)st.st_size;
    if (m->len > 0) {
        void *b = mmap(NULL, m->len, PROT_READ, MAP_PRIVATE, fd, 0);
        if (b == MAP_FAILED) {
            int e = errno;
            close(fd);
            snprintf(err, errlen, "%s: %s", path, strerror(e));
            return -e;
        }
        m->base = b;
        madvise(b, m->len, MADV_SEQUENTIAL);
    }
    close(fd);
    return 0;
}

static void unmap_file(struct mapped *m)
{
    if (m->base)
        munmap((void *)m->base, m->len);
    m->base = NULL;
}

static void hex(const uint8_t *p, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * n] = '\0';
}

static void sha256_hex(const uint8_t *p, size_t n, char out[65])
{
    uint8_t md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1 ||
        EVP_DigestUpdate(ctx, p, n) != 1 || EVP_DigestFinal_ex(ctx, md, &mdlen) != 1)
        mdlen = 0;
    EVP_MD_CTX_free(ctx);
    if (mdlen != 32) {
        out[0] = '\0';
        return;
    }
    hex(md, 32, out);
}

int evlog_fsync_parent(const char *path)
{
    char *copy = xstrdup(path);
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    free(copy);
    if (fd < 0)
        return -errno;
    int rc = fsync(fd) == 0 ? 0 : -errno;
    close(fd);
    return rc;
}

static void info_ts(struct evlog_segment_info *info, uint64_t ts)
{
    if (info->min_ts == 0 || ts < info->min_ts)
        info->min_ts = ts;
    if (ts > info->max_ts)
        info->max_ts = ts;
}

/* Walk the records of a plain segment mapped at m (after its header). */
static void walk_plain(const struct mapped *m, size_t pos, struct evlog_segment_info *info,
                       size_t *tail_bad /* OUT: start of damage reaching the end, or 0 */)
{
    *tail_bad = 0;
    for (;;) {
        size_t adv;
        uint32_t plen;
        enum evlog_scan_item it = evlog_frame_scan(m->base + pos, m->len - pos, 1, &adv, &plen);
        if (it == EVLOG_SCAN_END)
            break;
        info->records++;
        if (it == EVLOG_SCAN_RECORD) {
            uint8_t kind;
            uint64_t ts;
            if (evlog_record_peek(m->base + pos + EVLOG_FRAME_LEN, plen, &kind, &ts) == 0)
                info_ts(info, ts);
        } else {
            info->damaged++;
            if (pos + adv == m->len)
                *tail_bad = pos;
        }
        pos += adv;
    }
}

/* Walk the frames of a compressed segment. */
static void walk_zstd(const struct mapped *m, size_t pos, struct evlog_segment_info *info)
{
    uint64_t end_recno = 0;
    while (pos < m->len) {
        struct evlog_zdesc d;
        if (evlog_zdesc_decode(m->base + pos, m->len - pos, &d) == 0 &&
            d.zlen <= m->len - pos - EVLOG_ZDESC_LEN) {
            if (d.flags & EVLOG_ZF_DAMAGED)
                info->damaged++;
            else if (d.nrec > 0) {
                info_ts(info, d.min_ts);
                info_ts(info, d.max_ts);
            }
            if (d.first_recno + d.nrec > end_recno)
                end_recno = d.first_recno + d.nrec;
            pos += EVLOG_ZDESC_LEN + d.zlen;
            continue;
        }
        /* Damage: on to the next descriptor. */
        info->damaged++;
        size_t next = pos + 1;
        while (next < m->len && evlog_zdesc_decode(m->base + next, m->len - next, &d) != 0)
            next++;
        pos = next;
    }
    info->records = end_recno;
}

static int read_header(const struct mapped *m, const char *path, struct evlog_segment_info *info,
                       size_t *pos, char *err, size_t errlen)
{
    memset(info, 0, sizeof(*info));
    info->bytes = m->len;
    info->form = evlog_segment_form(m->base, m->len);
    const uint8_t *h = m->base;
    size_t hlen = m->len;
    if (info->form == EVLOG_FORM_ZSTD) {
        if (m->len < 8 || evlog_rd32(m->base + 4) > m->len - 8) {
            snprintf(err, errlen, "%s: offset 0: truncated segment header", path);
            return SK_ECORRUPT;
        }
        h = m->base + 8;
        hlen = evlog_rd32(m->base + 4);
    } else if (info->form != EVLOG_FORM_PLAIN) {
        snprintf(err, errlen, "%s: not a sinkhole event log", path);
        return SK_ECORRUPT;
    }
    int hl = evlog_header_decode(h, hlen, &info->hdr);
    if (hl < 0) {
        snprintf(err, errlen, "%s: offset 0: bad or truncated segment header", path);
        return SK_ECORRUPT;
    }
    *pos = info->form == EVLOG_FORM_ZSTD ? 8 + hlen : (size_t)hl;
    return 0;
}

int evlog_segment_stat(const char *path, struct evlog_segment_info *info, char *err, size_t errlen)
{
    struct mapped m;
    memset(info, 0, sizeof(*info));
    int rc = map_file(path, &m, err, errlen);
    if (rc != 0)
        return rc;
    size_t pos;
    rc = read_header(&m, path, info, &pos, err, errlen);
    if (rc == 0) {
        size_t tail;
        if (info->form == EVLOG_FORM_PLAIN)
            walk_plain(&m, pos, info, &tail);
        else
            walk_zstd(&m, pos, info);
        sha256_hex(m.base, m.len, info->sha256);
    }
    unmap_file(&m);
    return rc;
}

int evlog_segment_recover(const char *path, struct evlog_segment_info *info, uint64_t *cut,
                          char *err, size_t errlen)
{
    *cut = 0;
    memset(info, 0, sizeof(*info));
    struct mapped m;
    int rc = map_file(path, &m, err, errlen);
    if (rc != 0)
        return rc;
    /* A crash while the file was created leaves it empty or with part of
     * a header: nothing was ever logged in it. */
    size_t n = m.len < 8 ? m.len : 8;
    if (m.len < EVLOG_HEADER_MAX && (n == 0 || memcmp(m.base, EVLOG_MAGIC, n) == 0)) {
        struct evlog_file_header h;
        if (m.len == 0 || evlog_header_decode(m.base, m.len, &h) == SK_ENOSPACE) {
            unmap_file(&m);
            if (unlink(path) != 0) {
                int e = errno;
                snprintf(err, errlen, "%s: %s", path, strerror(e));
                return -e;
            }
            info->form = EVLOG_FORM_UNKNOWN;
            *cut = n;
            return 0;
        }
    }
    size_t pos;
    rc = read_header(&m, path, info, &pos, err, errlen);
    if (rc == 0 && info->form != EVLOG_FORM_PLAIN) {
        snprintf(err, errlen, "%s: not a plain segment", path);
        rc = SK_EINVAL;
    }
    if (rc != 0) {
        unmap_file(&m);
        return rc;
    }
    size_t tail;
    walk_plain(&m, pos, info, &tail);
    size_t len = m.len;
    unmap_file(&m);
    if (tail > 0) {
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0 || ftruncate(fd, (off_t)tail) != 0 || fdatasync(fd) != 0) {
            int e = errno;
            if (fd >= 0)
                close(fd);
            snprintf(err, errlen, "%s: cannot cut the torn tail: %s", path, strerror(e));
            return -e;
        }
        close(fd);
        *cut = len - tail;
        info->records--;
        info->damaged--;
        info->bytes = tail;
    }
    return 0;
}

/* ---- compression ---- */

struct zout {
    int fd;
    uint8_t *buf;
    size_t len;
    uint64_t total;
    EVP_MD_CTX *sha;
    int err; /* errno of the first failure */
};

static void zout_flush(struct zout *o)
{
    size_t done = 0;
    while (!o->err && done < o->len) {
        ssize_t w = write(o->fd, o->buf + done, o->len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            o->err = w < 0 ? errno : EIO;
            break;
        }
        done += (size_t)w;
    }
    o->len = 0;
}

static void zout_put(struct zout *o, const void *p, size_t n)
{
    if (o->err)
        return;
    EVP_DigestUpdate(o->sha, p, n);
    o->total += n;
    const uint8_t *s = p;
    while (n > 0) {
        size_t k = WRITE_BUF - o->len < n ? WRITE_BUF - o->len : n;
        memcpy(o->buf + o->len, s, k);
        o->len += k;
        s += k;
        n -= k;
        if (o->len == WRITE_BUF)
            zout_flush(o);
    }
}

struct zctx {
    struct zout out;
    ZSTD_CCtx *cc;
    struct evlog_block_enc enc;
    uint8_t *raw, *z;
    size_t raw_cap, z_cap;
    uint64_t recno;
    const char *zerr;
};

/* Compress raw[0..n) as one frame after a descriptor. */
static void emit_frame(struct zctx *c, struct evlog_zdesc *d, const uint8_t *raw, size_t n)
{
    size_t bound = ZSTD_compressBound(n);
    if (bound > c->z_cap) {
        c->z = xrealloc(c->z, bound);
        c->z_cap = bound;
    }
    size_t z = ZSTD_compress2(c->cc, c->z, c->z_cap, raw, n);
    if (ZSTD_isError(z)) {
        c->zerr = ZSTD_getErrorName(z);
        if (!c->out.err)
            c->out.err = EIO;
        return;
    }
    d->raw_len = (uint32_t)n;
    d->zlen = (uint32_t)z;
    uint8_t db[EVLOG_ZDESC_LEN];
    evlog_zdesc_encode(d, db);
    zout_put(&c->out, db, sizeof(db));
    zout_put(&c->out, c->z, z);
}

static void flush_block(struct zctx *c)
{
    struct evlog_block_enc *e = &c->enc;
    if (e->nrec == 0)
        return;
    size_t n = evlog_block_enc_size(e);
    if (n > c->raw_cap) {
        c->raw = xrealloc(c->raw, n);
        c->raw_cap = n;
    }
    evlog_block_enc_finish(e, c->raw, c->raw_cap);
    struct evlog_zdesc d = { .first_recno = c->recno,
                             .nrec = e->nrec,
                             .min_ts = e->min_ts,
                             .max_ts = e->max_ts,
                             .kinds = e->kinds };
    emit_frame(c, &d, c->raw, n);
    c->recno += e->nrec;
    evlog_block_enc_reset(e);
}

/* Keep damaged bytes (or a record that does not decode) as evidence: a
 * block of its own, counted as one record. */
static void emit_damaged(struct zctx *c, const uint8_t *p, size_t n)
{
    flush_block(c);
    uint32_t nrec = 1;
    do {
        size_t k = n < EVLOG_ZBLOCK_RAW_MAX ? n : EVLOG_ZBLOCK_RAW_MAX;
        struct evlog_zdesc d = { .first_recno = c->recno, .nrec = nrec, .flags = EVLOG_ZF_DAMAGED };
        emit_frame(c, &d, p, k);
        c->recno += nrec;
        nrec = 0;
        p += k;
        n -= k;
    } while (n > 0);
}

int evlog_segment_compress(const char *path, int level, struct evlog_segment_info *info, char *err,
                           size_t errlen)
{
    memset(info, 0, sizeof(*info));
    struct mapped m;
    int rc = map_file(path, &m, err, errlen);
    if (rc != 0)
        return rc;
    size_t pos;
    rc = read_header(&m, path, info, &pos, err, errlen);
    if (rc == 0 && info->form != EVLOG_FORM_PLAIN) {
        snprintf(err, errlen, "%s: not a plain segment", path);
        rc = SK_EINVAL;
    }
    if (rc != 0) {
        unmap_file(&m);
        return rc;
    }
    char tmp[4200];
    snprintf(tmp, sizeof(tmp), "%s.ztmp", path);
    struct zctx c;
    memset(&c, 0, sizeof(c));
    c.out.fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (c.out.fd < 0) {
        int e = errno;
        unmap_file(&m);
        snprintf(err, errlen, "%s: %s", tmp, strerror(e));
        return -e;
    }
    c.out.buf = xmalloc(WRITE_BUF);
    c.out.sha = EVP_MD_CTX_new();
    EVP_DigestInit_ex(c.out.sha, EVP_sha256(), NULL);
    c.cc = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(c.cc, ZSTD_c_compressionLevel, level);
    ZSTD_CCtx_setParameter(c.cc, ZSTD_c_checksumFlag, 1);
    evlog_block_enc_init(&c.enc);

    /* The header, as it is in the plain file, in a skippable frame. */
    uint8_t fh[8];
    evlog_wr32(fh, EVLOG_ZHDR_MAGIC);
    evlog_wr32(fh + 4, (uint32_t)pos);
    zout_put(&c.out, fh, 8);
    zout_put(&c.out, m.base, pos);

    struct sk_event ev;
    memset(&ev, 0, sizeof(ev));
    while (!c.out.err) {
        size_t adv;
        uint32_t plen;
        enum evlog_scan_item it = evlog_frame_scan(m.base + pos, m.len - pos, 1, &adv, &plen);
        if (it == EVLOG_SCAN_END)
            break;
        info->records++;
        const uint8_t *payload = m.base + pos + EVLOG_FRAME_LEN;
        if (it == EVLOG_SCAN_RECORD &&
            evlog_record_decode_schema(payload, plen, info->hdr.schema, &ev) == 0 &&
            evlog_block_enc_add(&c.enc, &ev) == 0) {
            info_ts(info, ev.ts_us);
            if (c.enc.nrec >= EVLOG_ZBLOCK_RECORDS ||
                evlog_block_enc_size(&c.enc) >= BLOCK_RAW_TARGET)
                flush_block(&c);
        } else {
            info->damaged++;
            emit_damaged(&c, m.base + pos, adv);
        }
        pos += adv;
    }
    flush_block(&c);
    zout_flush(&c.out);
    if (!c.out.err && fsync(c.out.fd) != 0)
        c.out.err = errno;
    if (close(c.out.fd) != 0 && !c.out.err)
        c.out.err = errno;
    uint8_t md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    EVP_DigestFinal_ex(c.out.sha, md, &mdlen);
    EVP_MD_CTX_free(c.out.sha);
    ZSTD_freeCCtx(c.cc);
    evlog_block_enc_free(&c.enc);
    free(c.raw);
    free(c.z);
    free(c.out.buf);
    unmap_file(&m);
    if (!c.out.err && rename(tmp, path) != 0)
        c.out.err = errno;
    if (c.out.err) {
        unlink(tmp);
        if (c.zerr)
            snprintf(err, errlen, "%s: zstd: %s", path, c.zerr);
        else
            snprintf(err, errlen, "%s: %s", tmp, strerror(c.out.err));
        return -c.out.err;
    }
    evlog_fsync_parent(path);
    info->form = EVLOG_FORM_ZSTD;
    info->bytes = c.out.total;
    if (mdlen == 32)
        hex(md, 32, info->sha256);
    return 0;
}
