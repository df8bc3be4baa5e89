/* domains/date.c -- civil dates, day numbers and the date/seed parsers.
 *
 * The day/civil conversions use the era-based arithmetic for the
 * proleptic Gregorian calendar (400-year eras of 146097 days), which is
 * exact for every date without tables or loops. */
#include "domains/date.h"

#include <string.h>

#include "core/clock.h"
#include "core/err.h"

int32_t domains_day_from_civil(int year, int month, int day)
{
    /* Count years from March so that the leap day is the last of a year. */
    int y = year - (month <= 2);
    int era = (y >= 0 ? y : y - 399) / 400;
    int yoe = y - era * 400;                                            /* 0..399 */
    int doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1; /* 0..365 */
    int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;                    /* 0..146096 */
    return (int32_t)(era * 146097 + doe - 719468);
}

void domains_civil_from_day(int32_t z, struct domains_civil *c)
{
    int32_t zz = z + 719468;
    int32_t era = (zz >= 0 ? zz : zz - 146096) / 146097;
    int32_t doe = zz - era * 146097;
    int32_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int32_t y = yoe + era * 400;
    int32_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int32_t mp = (5 * doy + 2) / 153;
    c->day = (int)(doy - (153 * mp + 2) / 5 + 1);
    c->month = (int)(mp < 10 ? mp + 3 : mp - 9);
    c->year = (int)(y + (c->month <= 2));
}

int domains_days_in_month(int year, int month)
{
    static const int dim[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    if (month < 1 || month > 12)
        return 0;
    if (month == 2 && ((year % 4 == 0 && year % 100 != 0) || year % 400 == 0))
        return 29;
    return dim[month - 1];
}

/* Read exactly n decimal digits from s; returns -1 if any is not a digit. */
static int read_digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

int domains_parse_date(const char *s, int32_t today, int32_t *day)
{
    if (s == NULL)
        return SK_EINVAL;
    if (strncmp(s, "today", 5) == 0) {
        const char *p = s + 5;
        int64_t off = 0;
        if (*p == '+' || *p == '-') {
            int neg = *p == '-';
            p++;
            if (*p == '\0')
                return SK_EINVAL;
            for (; *p; p++) {
                if (*p < '0' || *p > '9')
                    return SK_EINVAL;
                off = off * 10 + (*p - '0');
                if (off > 100000)
                    return SK_EINVAL;
            }
            if (neg)
                off = -off;
        } else if (*p != '\0') {
            return SK_EINVAL;
        }
        int64_t d = (int64_t)today + off;
        if (d < DOMAINS_DAY_MIN || d > DOMAINS_DAY_MAX)
            return SK_EINVAL;
        *day = (int32_t)d;
        return 0;
    }
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return SK_EINVAL;
    int y = read_digits(s, 4), m = read_digits(s + 5, 2), d = read_digits(s + 8, 2);
    if (y < 1970 || y > 2199 || m < 1 || m > 12 || d < 1 || d > domains_days_in_month(y, m))
        return SK_EINVAL;
    *day = domains_day_from_civil(y, m, d);
    return 0;
}

char *domains_format_day(int32_t day, char *buf)
{
    struct domains_civil c;
    domains_civil_from_day(day, &c);
    unsigned y = (unsigned)c.year % 10000;
    buf[0] = (char)('0' + y / 1000);
    buf[1] = (char)('0' + y / 100 % 10);
    buf[2] = (char)('0' + y / 10 % 10);
    buf[3] = (char)('0' + y % 10);
    buf[4] = '-';
    buf[5] = (char)('0' + c.month / 10);
    buf[6] = (char)('0' + c.month % 10);
    buf[7] = '-';
    buf[8] = (char)('0' + c.day / 10);
    buf[9] = (char)('0' + c.day % 10);
    buf[10] = '\0';
    return buf;
}

static int hex_value(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

int domains_parse_uint(const char *s, int hex_default, uint64_t max, uint64_t *v)
{
    if (s == NULL || *s == '\0')
        return SK_EINVAL;
    int hex = hex_default;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        hex = 1;
        s += 2;
        if (*s == '\0')
            return SK_EINVAL;
    }
    uint64_t acc = 0;
    for (; *s; s++) {
        int dv = hex ? hex_value(*s) : (*s >= '0' && *s <= '9' ? *s - '0' : -1);
        if (dv < 0)
            return SK_EINVAL;
        uint64_t base = hex ? 16 : 10;
        if (acc > (max - (uint64_t)dv) / base)
            return SK_EINVAL;
        acc = acc * base + (uint64_t)dv;
    }
    *v = acc;
    return 0;
}

int32_t domains_today(void)
{
    return (int32_t)(sk_clock_now_us() / 1000000ULL / 86400ULL);
}
