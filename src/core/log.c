/* core/log.c -- leveled diagnostic lines to stderr or a file. */
#include "core/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"

static _Atomic int log_level = SK_LOG_INFO;
static _Atomic int log_fd = 2;

static const char *const level_names[] = { "debug", "info", "notice", "warn", "error" };

void log_set_level(enum sk_log_level level)
{
    atomic_store(&log_level, (int)level);
}

enum sk_log_level log_get_level(void)
{
    return (enum sk_log_level)atomic_load_explicit(&log_level, memory_order_relaxed);
}

int log_level_parse(const char *s)
{
    for (int i = 0; i < 5; i++)
        if (strcmp(s, level_names[i]) == 0)
            return i;
    if (strcmp(s, "warning") == 0)
        return SK_LOG_WARN;
    return -1;
}

int log_open(const char *path)
{
    int fd = 2;
    if (path != NULL) {
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
        if (fd < 0)
            return -errno;
    }
    int old = atomic_exchange(&log_fd, fd);
    if (old != 2)
        close(old);
    return 0;
}

void log_msg(enum sk_log_level level, const char *tag, const char *fmt, ...)
{
    if ((int)level < atomic_load_explicit(&log_level, memory_order_relaxed))
        return;
    char line[1024];
    char ts[32];
    int n = snprintf(line, sizeof(line), "%s %s %s: ", sk_clock_format(sk_clock_now_us(), ts),
                     level_names[level], tag);
    if (n < 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
    va_end(ap);
    size_t len = (size_t)n + (m > 0 ? (size_t)m : 0);
    if (len > sizeof(line) - 2)
        len = sizeof(line) - 2;
    line[len++] = '\n';
    ssize_t w = write(atomic_load(&log_fd), line, len);
    (void)w;
}

int log_ratelimit_pass(struct log_ratelimit *rl, const char *tag)
{
    uint64_t now = sk_clock_mono_us() / 1000000u;
    uint64_t win = atomic_load_explicit(&rl->window, memory_order_relaxed);
    if (now >= win + LOG_RL_INTERVAL) {
        if (atomic_compare_exchange_strong(&rl->window, &win, now)) {
            atomic_store(&rl->count, 0);
            uint32_t sup = atomic_exchange(&rl->suppressed, 0);
            if (sup > 0)
                log_msg(SK_LOG_NOTICE, tag, "%u similar lines suppressed", sup);
        }
    }
    if (atomic_fetch_add(&rl->count, 1) < LOG_RL_BURST)
        return 1;
    atomic_fetch_add(&rl->suppressed, 1);
    return 0;
}
