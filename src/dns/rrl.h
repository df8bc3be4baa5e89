/* dns/rrl.h -- response rate limiting, as NSD and Knot DNS do it.
 *
 * Responses are counted in buckets keyed by the client's network (/24 for
 * IPv4, /56 for IPv6 by default), the response class and the name (the
 * apex for synthesised and negative answers, none for errors). Each bucket
 * is a token bucket refilled at ratelimit per second. Over the limit, every
 * slip-th response is sent truncated (so a real resolver retries over TCP
 * and is still answered) and the others are dropped; slip 0 drops all, 1
 * truncates all. TCP is never limited. Limited queries are still logged.
 *
 * One table shared by all workers, updated with atomic compare-and-swap;
 * two clients hashing to one bucket share it, which only makes limiting
 * slightly stricter. */
#ifndef SK_DNS_RRL_H
#define SK_DNS_RRL_H

#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"
#include "core/config.h"
#include "evlog/event.h"

struct rrl;

/* New limiter from the [dns] rrl_* settings, or NULL if rrl_ratelimit is 0.
 * Free with rrl_free(). */
struct rrl *rrl_new(const struct sk_config *cfg);
void rrl_free(struct rrl *r);

/* Decide for one UDP response. cls is an enum dns_rrl_class; name[0..len)
 * a wire name or NULL. now_us from sk_clock_mono_us(). Returns
 * SK_RRL_PASS, SK_RRL_SLIP, SK_RRL_DROP or SK_RRL_EXEMPT. */
enum sk_rrl_action rrl_check(struct rrl *r, const struct sk_ip *src, uint8_t cls,
                             const uint8_t *name, size_t len, uint64_t now_us);

#endif
