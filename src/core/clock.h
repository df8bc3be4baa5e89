/* core/clock.h -- the one clock every timestamp and timer reads.
 *
 * Wall time (UTC, microseconds since the epoch) and a monotonic time for
 * timers. Both can be offset and scaled, like INetSim's faketime, so a
 * test or the simulator can run a day in a minute or start in 2009:
 *
 *   SINKHOLE_CLOCK="start=2009-11-05T00:00:00Z,scale=60"
 *   SINKHOLE_CLOCK="offset=-3600"            (seconds, may be fractional)
 *
 * The scale applies to time elapsed since sk_clock_init(); with no
 * setting the real clocks are returned as they are. */
#ifndef SK_CORE_CLOCK_H
#define SK_CORE_CLOCK_H

#include <stdint.h>

/* Read SINKHOLE_CLOCK from the environment (if set) and fix the base.
 * Returns 0 or SK_EINVAL for a malformed setting. Call once at start. */
int sk_clock_init(void);

/* Set the clock directly: wall = start_us (0: now) + offset_us +
 * elapsed * scale. scale must be > 0. Returns 0 or SK_EINVAL. */
int sk_clock_set(int64_t start_us, int64_t offset_us, double scale);

/* Wall-clock time in microseconds since 1970-01-01 UTC. */
uint64_t sk_clock_now_us(void);

/* Monotonic time in microseconds (arbitrary origin), scaled like the wall
 * clock; use it for every timer and interval. */
uint64_t sk_clock_mono_us(void);

/* Format us as RFC 3339 UTC with microseconds: 2026-11-28T12:00:00.123456Z.
 * buf needs 32 bytes. Returns buf. */
char *sk_clock_format(uint64_t us, char buf[32]);

/* Parse RFC 3339 UTC ("2026-11-28T12:00:00Z", fraction optional) or a
 * date "2026-11-28". Returns 0 and *us, or SK_EINVAL. */
int sk_clock_parse(const char *s, uint64_t *us /* OUT */);

#endif
