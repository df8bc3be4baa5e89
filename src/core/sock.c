/* core/sock.c -- listening sockets and UDP packet info. */
#include "core/sock.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <unistd.h>

bool sk_ip_is_any(const struct sk_ip *ip)
{
    static const uint8_t zero[16];
    return memcmp(ip->a, zero, ip->af == 4 ? 4 : 16) == 0;
}

int sk_sock_listen(const struct sk_ip *addr, int type, int backlog)
{
    struct sockaddr_storage ss;
    socklen_t sl = sk_ip_to_sockaddr(addr, &ss);
    int fd = socket(ss.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0)
        goto fail;
    if (addr->af == 6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    if (type == SOCK_DGRAM) {
        /* Bursts of datagrams wait in the kernel, not on the floor. */
        int sz = 4 << 20;
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
        if (sk_ip_is_any(addr)) {
            if (addr->af == 4)
                setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
            else
                setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one));
        }
    }
    if (bind(fd, (struct sockaddr *)&ss, sl) != 0)
        goto fail;
    /* Accepted sockets inherit it: one call here, none per connection. */
    if (type == SOCK_STREAM)
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (type == SOCK_STREAM && listen(fd, backlog) != 0)
        goto fail;
    return fd;
fail : {
    int e = errno;
    close(fd);
    return -e;
}
}

int sk_sock_probe(const struct sk_ip *addr, int type)
{
    struct sockaddr_storage ss;
    socklen_t sl = sk_ip_to_sockaddr(addr, &ss);
    int fd = socket(ss.ss_family, type | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    int one = 1;
    /* TCP: SO_REUSEADDR, so connections of an earlier run in TIME_WAIT do
     * not count, only a listening socket. UDP: without it, any bound
     * socket counts. No SO_REUSEPORT: that is what would share. */
    if (type == SOCK_STREAM)
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (addr->af == 6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    int rc = bind(fd, (struct sockaddr *)&ss, sl) == 0 ? 0 : -errno;
    close(fd);
    return rc;
}

void sk_pktinfo_dst(struct msghdr *mh, const struct sk_ip *local, bool wildcard, struct sk_ip *dst)
{
    *dst = *local;
    if (!wildcard)
        return;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
        if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
            struct in_pktinfo pi;
            memcpy(&pi, CMSG_DATA(c), sizeof(pi));
            memcpy(dst->a, &pi.ipi_addr, 4);
        } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
            struct in6_pktinfo pi;
            memcpy(&pi, CMSG_DATA(c), sizeof(pi));
            memcpy(dst->a, &pi.ipi6_addr, 16);
        }
    }
}

void sk_pktinfo_set_src(struct msghdr *mh, uint8_t *ctl, bool wildcard, const struct sk_ip *src)
{
    mh->msg_control = NULL;
    mh->msg_controllen = 0;
    if (!wildcard)
        return;
    memset(ctl, 0, SK_PKTINFO_SPACE);
    mh->msg_control = ctl;
    struct cmsghdr *c = (struct cmsghdr *)ctl;
    if (src->af == 4) {
        struct in_pktinfo pi;
        memset(&pi, 0, sizeof(pi));
        memcpy(&pi.ipi_spec_dst, src->a, 4);
        c->cmsg_level = IPPROTO_IP;
        c->cmsg_type = IP_PKTINFO;
        c->cmsg_len = CMSG_LEN(sizeof(pi));
        memcpy(CMSG_DATA(c), &pi, sizeof(pi));
        mh->msg_controllen = CMSG_SPACE(sizeof(pi));
    } else {
        struct in6_pktinfo pi;
        memset(&pi, 0, sizeof(pi));
        memcpy(&pi.ipi6_addr, src->a, 16);
        c->cmsg_level = IPPROTO_IPV6;
        c->cmsg_type = IPV6_PKTINFO;
        c->cmsg_len = CMSG_LEN(sizeof(pi));
        memcpy(CMSG_DATA(c), &pi, sizeof(pi));
        mh->msg_controllen = CMSG_SPACE(sizeof(pi));
    }
}
