/* core/log.h -- diagnostic logging with levels and subsystem tags.
 *
 * Diagnostics only: the sinkhole's data goes through evlog/. Lines go to
 * stderr or to a file, one write() each so threads do not interleave:
 *
 *   2026-11-28T12:00:00.000000Z warn dns: bad query from 192.0.2.1
 *
 * Any line a remote packet can trigger goes through log_rl(), which lets
 * LOG_RL_BURST lines per call site through per LOG_RL_INTERVAL seconds
 * and then reports how many it suppressed. */
#ifndef SK_CORE_LOG_H
#define SK_CORE_LOG_H

#include <stdatomic.h>
#include <stdint.h>

enum sk_log_level { SK_LOG_DEBUG, SK_LOG_INFO, SK_LOG_NOTICE, SK_LOG_WARN, SK_LOG_ERROR };

#define LOG_RL_BURST    10
#define LOG_RL_INTERVAL 10 /* seconds */

/* Lines below level are discarded. Default: SK_LOG_INFO. */
void log_set_level(enum sk_log_level level);
enum sk_log_level log_get_level(void);

/* Parse "debug", "info", "notice", "warn" or "error". Returns the level or
 * -1. */
int log_level_parse(const char *s);

/* Send lines to path (appending) instead of stderr; NULL returns to
 * stderr. Returns 0 or -errno. */
int log_open(const char *path);

void log_msg(enum sk_log_level level, const char *tag, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_debug(tag, ...)  log_msg(SK_LOG_DEBUG, tag, __VA_ARGS__)
#define log_info(tag, ...)   log_msg(SK_LOG_INFO, tag, __VA_ARGS__)
#define log_notice(tag, ...) log_msg(SK_LOG_NOTICE, tag, __VA_ARGS__)
#define log_warn(tag, ...)   log_msg(SK_LOG_WARN, tag, __VA_ARGS__)
#define log_error(tag, ...)  log_msg(SK_LOG_ERROR, tag, __VA_ARGS__)

struct log_ratelimit {
    _Atomic uint64_t window; /* start of the current interval, seconds */
    _Atomic uint32_t count;  /* lines in the current interval */
    _Atomic uint32_t suppressed;
};

/* Returns 1 if a line may be logged now at this call site. When a new
 * interval starts after suppressing lines, logs how many were suppressed. */
int log_ratelimit_pass(struct log_ratelimit *rl, const char *tag);

#define log_rl(level, tag, ...)                                                    \
    do {                                                                           \
        static struct log_ratelimit log_rl_state_;                                 \
        if ((level) >= log_get_level() && log_ratelimit_pass(&log_rl_state_, tag)) \
            log_msg(level, tag, __VA_ARGS__);                                      \
    } while (0)

#endif
