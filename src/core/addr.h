/* core/addr.h -- IP addresses, socket addresses and prefixes.
 *
 * One compact address type (struct sk_ip) for events, rate-limit keys and
 * prefix lists, and the parsers for the forms the config uses:
 * "192.0.2.1", "2001:db8::1", "127.0.0.1:5353", "[::1]:5353",
 * "198.51.100.0/24". */
#ifndef SK_CORE_ADDR_H
#define SK_CORE_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* An IP address and port. af is 4 or 6 (0: none); v4 addresses use the
 * first 4 bytes of a. */
struct sk_ip {
    uint8_t af;
    uint8_t a[16];
    uint16_t port; /* host order */
};

struct sk_prefix {
    struct sk_ip ip;
    uint8_t len; /* prefix length in bits */
};

#define SK_IP_TEXT_MAX 64 /* "[ffff:...]:65535" with room */

/* Parse an address without port. Returns 0 or SK_EINVAL. */
int sk_ip_parse(const char *s, struct sk_ip *ip /* OUT */);

/* Parse "addr:port" or "[v6]:port" (port required). */
int sk_ip_parse_port(const char *s, struct sk_ip *ip /* OUT */);

/* Parse "addr" or "addr/len"; host bits past len must be zero. */
int sk_prefix_parse(const char *s, struct sk_prefix *p /* OUT */);

/* True if ip lies inside p. */
bool sk_prefix_contains(const struct sk_prefix *p, const struct sk_ip *ip);

/* Conversions to and from socket addresses. sk_ip_to_sockaddr returns the
 * length to pass to bind/sendto. A v4-mapped v6 address becomes af 4. */
socklen_t sk_ip_to_sockaddr(const struct sk_ip *ip, struct sockaddr_storage *ss);
void sk_ip_from_sockaddr(const struct sockaddr *sa, struct sk_ip *ip /* OUT */);

/* "192.0.2.1" / "2001:db8::1" into buf (SK_IP_TEXT_MAX); returns buf. */
char *sk_ip_ntop(const struct sk_ip *ip, char *buf);
/* "192.0.2.1:53" / "[2001:db8::1]:53" into buf (SK_IP_TEXT_MAX). */
char *sk_ip_ntop_port(const struct sk_ip *ip, char *buf);

bool sk_ip_equal(const struct sk_ip *a, const struct sk_ip *b); /* address only */

#endif
