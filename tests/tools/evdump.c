/* tools/evdump.c -- print event log files as JSON lines, for the tests.
 *
 *   evdump DIR_OR_FILE...
 *
 * Reads every *.evlog file (in name order when given a directory) through
 * the evlog reader and prints one JSON object per event on stdout; damaged
 * stretches are reported on stderr and reading goes on. Exit 0, or 1 if
 * any damage or error was seen. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "evlog/json.h"
#include "evlog/reader.h"

static int dump_file(const char *path)
{
    char err[512];
    struct evlog_reader *r;
    if (evlog_reader_open(path, &r, err, sizeof(err)) != 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    const struct evlog_file_header *h = evlog_reader_header(r);
    int bad = 0;
    for (;;) {
        struct sk_event ev;
        uint64_t recno;
        int rc = evlog_reader_next(r, &ev, &recno, err, sizeof(err));
        if (rc == 0)
            break;
        if (rc < 0) {
            fprintf(stderr, "%s\n", err);
            bad = 1;
            continue;
        }
        static char line[EVLOG_JSON_MAX]; /* connection events run to ~100 KB */
        if (evlog_event_json(&ev, h->node, h->segment, recno, line, sizeof(line)) > 0)
            puts(line);
    }
    evlog_reader_close(r);
    return bad;
}

static int cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
    int rc = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            perror(argv[i]);
            rc = 1;
            continue;
        }
        if (!S_ISDIR(st.st_mode)) {
            rc |= dump_file(argv[i]);
            continue;
        }
        DIR *d = opendir(argv[i]);
        if (d == NULL) {
            perror(argv[i]);
            rc = 1;
            continue;
        }
        char **names = NULL;
        size_t n = 0;
        struct dirent *de;
        while ((de = readdir(d)) != NULL) {
            size_t l = strlen(de->d_name);
            if (l > 6 && strcmp(de->d_name + l - 6, ".evlog") == 0) {
                names = realloc(names, (n + 1) * sizeof(*names));
                names[n] = malloc(strlen(argv[i]) + l + 2);
                sprintf(names[n], "%s/%s", argv[i], de->d_name);
                n++;
            }
        }
        closedir(d);
        qsort(names, n, sizeof(*names), cmp);
        for (size_t k = 0; k < n; k++) {
            rc |= dump_file(names[k]);
            free(names[k]);
        }
        free(names);
    }
    fflush(stdout);
    return rc;
}
