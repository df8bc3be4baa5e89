/* evlog/manifest.c -- read and append the segment manifest. */
#include "evlog/manifest.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/err.h"
#include "core/xalloc.h"

static const char manifest_intro[] =
    "# sinkhole event log manifest: one line per segment closed or removed (see docs/events.md)\n";

void evlog_manifest_free(struct evlog_manifest *m)
{
    free(m->e);
    memset(m, 0, sizeof(*m));
}

struct evlog_manifest_entry *evlog_manifest_find(struct evlog_manifest *m, uint64_t segment)
{
    for (size_t i = m->n; i-- > 0;)
        if (m->e[i].segment == segment)
            return &m->e[i];
    return NULL;
}

static int parse_u64(const char *s, uint64_t *v)
{
    char *end;
    errno = 0;
    if (*s < '0' || *s > '9')
        return -1;
    unsigned long long x = strtoull(s, &end, 10);
    if (errno || *end != '\0')
        return -1;
    *v = x;
    return 0;
}

static int parse_ts(const char *s, uint64_t *v)
{
    if (strcmp(s, "-") == 0) {
        *v = 0;
        return 0;
    }
    return sk_clock_parse(s, v) == 0 ? 0 : -1;
}

int evlog_manifest_parse_line(const char *line, struct evlog_manifest_entry *e)
{
    memset(e, 0, sizeof(*e));
    while (*line == ' ' || *line == '\t')
        line++;
    if (*line == '\0' || *line == '\n' || *line == '#')
        return 0;
    char buf[1024];
    size_t l = strcspn(line, "\n");
    if (l >= sizeof(buf))
        return SK_EINVAL;
    memcpy(buf, line, l);
    buf[l] = '\0';
    char *save = NULL;
    char *verb = strtok_r(buf, " \t", &save);
    char *file = strtok_r(NULL, " \t", &save);
    if (verb == NULL || file == NULL || evlog_segment_parse_name(file, &e->segment) != 0)
        return SK_EINVAL;
    int kind;
    if (strcmp(verb, "closed") == 0)
        kind = 1;
    else if (strcmp(verb, "removed") == 0)
        kind = 2;
    else
        return SK_EINVAL;
    int have_records = 0;
    for (char *kv = strtok_r(NULL, " \t", &save); kv; kv = strtok_r(NULL, " \t", &save)) {
        char *eq = strchr(kv, '=');
        if (eq == NULL)
            return SK_EINVAL;
        *eq = '\0';
        const char *k = kv, *v = eq + 1;
        int rc = 0;
        if (!strcmp(k, "records")) {
            rc = parse_u64(v, &e->records);
            have_records = 1;
        } else if (!strcmp(k, "first_seq")) {
            rc = parse_u64(v, &e->first_seq);
        } else if (!strcmp(k, "damaged")) {
            rc = parse_u64(v, &e->damaged);
        } else if (!strcmp(k, "bytes")) {
            rc = parse_u64(v, &e->bytes);
        } else if (!strcmp(k, "first_ts")) {
            rc = parse_ts(v, &e->first_ts);
        } else if (!strcmp(k, "last_ts")) {
            rc = parse_ts(v, &e->last_ts);
        } else if (!strcmp(k, "sha256")) {
            if (strlen(v) != 64)
                rc = -1;
            else
                memcpy(e->sha256, v, 65);
        } else if (!strcmp(k, "form")) {
            e->form = !strcmp(v, "zstd")    ? EVLOG_FORM_ZSTD
                      : !strcmp(v, "plain") ? EVLOG_FORM_PLAIN
                                            : EVLOG_FORM_UNKNOWN;
        }
        if (rc != 0)
            return SK_EINVAL;
    }
    if (kind == 1 && !have_records)
        return SK_EINVAL;
    e->removed = kind == 2;
    return kind;
}

int evlog_manifest_load(const char *path, struct evlog_manifest *m, size_t *bad)
{
    memset(m, 0, sizeof(*m));
    *bad = 0;
    FILE *f = fopen(path, "re");
    if (f == NULL)
        return errno == ENOENT ? 0 : -errno;
    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, f) >= 0) {
        struct evlog_manifest_entry e;
        int kind = evlog_manifest_parse_line(line, &e);
        if (kind < 0) {
            (*bad)++;
            continue;
        }
        if (kind == 0)
            continue;
        struct evlog_manifest_entry *old = evlog_manifest_find(m, e.segment);
        if (kind == 2) {
            if (old)
                old->removed = 1;
            continue;
        }
        if (old) {
            *old = e; /* a later line for the same segment wins */
            continue;
        }
        if (m->n == m->cap) {
            m->cap = m->cap ? 2 * m->cap : 64;
            m->e = xrealloc(m->e, m->cap * sizeof(*m->e));
        }
        m->e[m->n++] = e;
    }
    free(line);
    fclose(f);
    return 0;
}

int evlog_manifest_closed_line(const struct evlog_segment_info *info, char *buf, size_t len)
{
    char name[EVLOG_SEG_NAME_MAX], t1[32] = "-", t2[32] = "-", node[256];
    evlog_segment_name(info->hdr.segment, name);
    if (info->min_ts)
        sk_clock_format(info->min_ts, t1);
    if (info->max_ts)
        sk_clock_format(info->max_ts, t2);
    /* The node name comes from the file: keep the line one token per field. */
    size_t i = 0;
    for (; info->hdr.node[i] && i < sizeof(node) - 1; i++) {
        unsigned char c = (unsigned char)info->hdr.node[i];
        node[i] = c > 0x20 && c < 0x7f ? (char)c : '_';
    }
    node[i] = '\0';
    int n = snprintf(
        buf, len,
        "closed %s records=%" PRIu64 " first_seq=%" PRIu64 " first_ts=%s last_ts=%s bytes=%" PRIu64
        " sha256=%s form=%s damaged=%" PRIu64 " node=%s\n",
        name, info->records, info->hdr.first_seq, t1, t2, info->bytes,
        info->sha256[0] ? info->sha256 : "-", info->form == EVLOG_FORM_ZSTD ? "zstd" : "plain",
        info->damaged, node[0] ? node : "-");
    return n < 0 || (size_t)n >= len ? SK_ENOSPACE : n;
}

int evlog_manifest_removed_line(uint64_t segment, uint64_t at_us, const char *reason, char *buf,
                                size_t len)
{
    char name[EVLOG_SEG_NAME_MAX], ts[32];
    evlog_segment_name(segment, name);
    int n = snprintf(buf, len, "removed %s at=%s reason=%s\n", name, sk_clock_format(at_us, ts),
                     reason);
    return n < 0 || (size_t)n >= len ? SK_ENOSPACE : n;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return w < 0 ? -errno : -EIO;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int evlog_manifest_append(const char *path, const char *text, size_t len)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0)
        return -errno;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int rc = -errno;
        close(fd);
        return rc;
    }
    int rc = 0;
    if (st.st_size == 0)
        rc = write_all(fd, manifest_intro, strlen(manifest_intro));
    if (rc == 0)
        rc = write_all(fd, text, len);
    if (rc == 0 && fdatasync(fd) != 0)
        rc = -errno;
    if (rc != 0) {
        /* Leave no half line behind: the next append would glue to it. */
        if (ftruncate(fd, st.st_size) == 0)
            fdatasync(fd);
    }
    close(fd);
    if (rc == 0 && st.st_size == 0)
        evlog_fsync_parent(path);
    return rc;
}
