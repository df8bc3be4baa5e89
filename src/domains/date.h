/* domains/date.h -- calendar days for the domain-generation families.
 *
 * Every family works on whole UTC days. A day is an int32_t counted from
 * 1970-01-01 (day 0), so ranges are plain integer loops and the civil
 * date (year, month, day of month) is derived where an algorithm needs
 * it. The parsers here read command-line and config text: they never
 * allocate and accept only the documented forms. */
#ifndef SK_DOMAINS_DATE_H
#define SK_DOMAINS_DATE_H

#include <stddef.h>
#include <stdint.h>

/* The days a date may fall on: 1970-01-01 .. 2199-12-31. */
#define DOMAINS_DAY_MIN 0
#define DOMAINS_DAY_MAX 84005

struct domains_civil {
    int year;  /* e.g. 2015 */
    int month; /* 1..12 */
    int day;   /* 1..31 */
};

/* Day number of a civil date (proleptic Gregorian); no range check. */
int32_t domains_day_from_civil(int year, int month, int day);

/* Civil date of a day number. */
void domains_civil_from_day(int32_t day, struct domains_civil *c /* OUT */);

/* Number of days in month (1..12) of year. */
int domains_days_in_month(int year, int month);

/* Parse "YYYY-MM-DD" (a real calendar date within DOMAINS_DAY_MIN..MAX),
 * "today", or "today+N" / "today-N" (N days, at most 100000) relative to
 * the day `today`. Surrounding white space is not accepted. Returns 0 and
 * *day, or SK_EINVAL. s is NUL-terminated. */
int domains_parse_date(const char *s, int32_t today, int32_t *day /* OUT */);

/* Write day as "YYYY-MM-DD" into buf (at least 11 bytes). Returns buf. */
char *domains_format_day(int32_t day, char *buf);

/* Parse an unsigned integer seed: decimal, or hex with a 0x prefix, or
 * bare hex digits when hex_default is non-zero. The value must fit in
 * max (e.g. UINT32_MAX). Returns 0 and *v, or SK_EINVAL. */
int domains_parse_uint(const char *s, int hex_default, uint64_t max, uint64_t *v /* OUT */);

/* Today's day number by the process clock (core/clock). */
int32_t domains_today(void);

#endif
