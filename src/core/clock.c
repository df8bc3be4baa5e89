/* core/clock.c -- offsettable, scalable wall and monotonic clocks.
 *
 * The base is fixed once at start; afterwards the readers only do a
 * clock_gettime() and a multiply, and keep no shared mutable state, so any
 * thread may call them. */
#include "core/clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/err.h"

static struct {
    int active;         /* 0: pass the real clocks through */
    uint64_t real_mono; /* real monotonic µs at the base */
    uint64_t wall_base; /* wall µs at the base, offset applied */
    double scale;
} clk;

static uint64_t ts_us(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int sk_clock_set(int64_t start_us, int64_t offset_us, double scale)
{
    if (!(scale > 0) || scale > 1e6)
        return SK_EINVAL;
    uint64_t wall = start_us ? (uint64_t)start_us : ts_us(CLOCK_REALTIME);
    clk.real_mono = ts_us(CLOCK_MONOTONIC);
    clk.wall_base = wall + (uint64_t)offset_us;
    clk.scale = scale;
    clk.active = !(start_us == 0 && offset_us == 0 && scale == 1.0);
    return 0;
}

int sk_clock_init(void)
{
    const char *env = getenv("SINKHOLE_CLOCK");
    if (env == NULL || *env == '\0')
        return sk_clock_set(0, 0, 1.0);

    int64_t start = 0, offset = 0;
    double scale = 1.0;
    char buf[256];
    if (strlen(env) >= sizeof(buf))
        return SK_EINVAL;
    strcpy(buf, env);
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(tok, '=');
        if (eq == NULL)
            return SK_EINVAL;
        *eq = '\0';
        const char *val = eq + 1;
        char *end;
        if (strcmp(tok, "start") == 0) {
            uint64_t us;
            if (sk_clock_parse(val, &us) != 0)
                return SK_EINVAL;
            start = (int64_t)us;
        } else if (strcmp(tok, "offset") == 0) {
            double s = strtod(val, &end);
            if (end == val || *end != '\0')
                return SK_EINVAL;
            offset = (int64_t)(s * 1e6);
        } else if (strcmp(tok, "scale") == 0) {
            scale = strtod(val, &end);
            if (end == val || *end != '\0')
                return SK_EINVAL;
        } else {
            return SK_EINVAL;
        }
    }
    return sk_clock_set(start, offset, scale);
}

uint64_t sk_clock_mono_us(void)
{
    uint64_t now = ts_us(CLOCK_MONOTONIC);
    if (!clk.active)
        return now;
    return clk.real_mono + (uint64_t)((double)(now - clk.real_mono) * clk.scale);
}

uint64_t sk_clock_now_us(void)
{
    if (!clk.active)
        return ts_us(CLOCK_REALTIME);
    uint64_t now = ts_us(CLOCK_MONOTONIC);
    return clk.wall_base + (uint64_t)((double)(now - clk.real_mono) * clk.scale);
}

char *sk_clock_format(uint64_t us, char buf[32])
{
    time_t secs = (time_t)(us / 1000000u);
    struct tm tm;
    gmtime_r(&secs, &tm);
    /* The bounds keep every field to its width (and the compiler sure of it). */
    snprintf(buf, 32, "%04u-%02u-%02uT%02u:%02u:%02u.%06uZ", (unsigned)(tm.tm_year + 1900) % 10000u,
             (unsigned)(tm.tm_mon + 1) % 100u, (unsigned)tm.tm_mday % 100u,
             (unsigned)tm.tm_hour % 100u, (unsigned)tm.tm_min % 100u, (unsigned)tm.tm_sec % 100u,
             (unsigned)(us % 1000000u));
    return buf;
}

int sk_clock_parse(const char *s, uint64_t *us)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    int n = 0;
    unsigned frac = 0, digits = 0;
    if (sscanf(s, "%4d-%2d-%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &n) != 3)
        return SK_EINVAL;
    const char *p = s + n;
    if (*p == 'T' || *p == ' ') {
        int m = 0;
        if (sscanf(p + 1, "%2d:%2d:%2d%n", &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &m) != 3)
            return SK_EINVAL;
        p += 1 + m;
        if (*p == '.') {
            for (p++; *p >= '0' && *p <= '9'; p++) {
                if (digits < 6) {
                    frac = frac * 10 + (unsigned)(*p - '0');
                    digits++;
                }
            }
            for (; digits < 6; digits++)
                frac *= 10;
        }
        if (*p == 'Z')
            p++;
    }
    if (*p != '\0')
        return SK_EINVAL;
    if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
        tm.tm_min > 59 || tm.tm_sec > 60 || tm.tm_year < 1970)
        return SK_EINVAL;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    int mday = tm.tm_mday;
    time_t t = timegm(&tm);
    if (t == (time_t)-1 || tm.tm_mday != mday) /* 2026-02-30 normalises: reject */
        return SK_EINVAL;
    *us = (uint64_t)t * 1000000u + frac;
    return 0;
}
