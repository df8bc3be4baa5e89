/* core/sock.h -- listening sockets and the UDP source-address dance, for
 * every server in the daemon (DNS and the connection listeners).
 *
 * Each worker opens its own socket on every address with SO_REUSEPORT, so
 * the kernel spreads clients across workers. A UDP socket bound to a
 * wildcard address learns the address each datagram was sent to
 * (IP_PKTINFO / IPV6_RECVPKTINFO), and replies leave from that address, as
 * clients expect on multi-homed hosts. */
#ifndef SK_CORE_SOCK_H
#define SK_CORE_SOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/addr.h"

/* Control buffer for one datagram's packet info (received or sent). */
#define SK_PKTINFO_SPACE 64

/* The wildcard address (0.0.0.0 or ::) of its family. */
bool sk_ip_is_any(const struct sk_ip *ip);

/* A non-blocking, close-on-exec socket of type SOCK_STREAM (listening,
 * backlog given) or SOCK_DGRAM (4 MiB buffers, packet info on wildcard
 * addresses), with SO_REUSEPORT, bound to addr; IPv6 sockets are v6-only;
 * TCP sockets have TCP_NODELAY, which the sockets they accept inherit.
 * Returns the fd, or -errno. */
int sk_sock_listen(const struct sk_ip *addr, int type, int backlog);

/* Whether another socket already listens on addr (SOCK_STREAM) or is
 * bound to it (SOCK_DGRAM), which SO_REUSEPORT would otherwise share with
 * it without a word: a second daemon left running would take part of the
 * traffic. Returns 0 (free), -EADDRINUSE, or another -errno. */
int sk_sock_probe(const struct sk_ip *addr, int type);

/* The address a datagram was sent to: from its packet info when the socket
 * is bound to a wildcard address, else the socket's own (local). */
void sk_pktinfo_dst(struct msghdr *mh, const struct sk_ip *local, bool wildcard,
                    struct sk_ip *dst /* OUT */);

/* Make the datagram sent with mh leave from src (a wildcard socket), using
 * ctl[SK_PKTINFO_SPACE]; clears msg_control when not wildcard. */
void sk_pktinfo_set_src(struct msghdr *mh, uint8_t *ctl, bool wildcard, const struct sk_ip *src);

#endif
