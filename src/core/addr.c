/* core/addr.c -- address parsing, formatting and prefix matching. */
#include "core/addr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"

int sk_ip_parse(const char *s, struct sk_ip *ip)
{
    memset(ip, 0, sizeof(*ip));
    if (inet_pton(AF_INET, s, ip->a) == 1) {
        ip->af = 4;
        return 0;
    }
    if (inet_pton(AF_INET6, s, ip->a) == 1) {
        ip->af = 6;
        return 0;
    }
    return SK_EINVAL;
}

static int parse_port(const char *s, uint16_t *port)
{
    char *end;
    if (*s < '0' || *s > '9')
        return SK_EINVAL;
    unsigned long v = strtoul(s, &end, 10);
    if (*end != '\0' || v > 65535)
        return SK_EINVAL;
    *port = (uint16_t)v;
    return 0;
}

int sk_ip_parse_port(const char *s, struct sk_ip *ip)
{
    char host[INET6_ADDRSTRLEN + 2];
    const char *colon;
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (close == NULL || close[1] != ':' || (size_t)(close - s - 1) >= sizeof(host))
            return SK_EINVAL;
        memcpy(host, s + 1, (size_t)(close - s - 1));
        host[close - s - 1] = '\0';
        colon = close + 1;
        if (sk_ip_parse(host, ip) != 0 || ip->af != 6)
            return SK_EINVAL;
    } else {
        colon = strrchr(s, ':');
        if (colon == NULL || (size_t)(colon - s) >= sizeof(host))
            return SK_EINVAL;
        memcpy(host, s, (size_t)(colon - s));
        host[colon - s] = '\0';
        if (sk_ip_parse(host, ip) != 0 || ip->af != 4)
            return SK_EINVAL;
    }
    return parse_port(colon + 1, &ip->port);
}

int sk_prefix_parse(const char *s, struct sk_prefix *p)
{
    char host[INET6_ADDRSTRLEN + 1];
    const char *slash = strchr(s, '/');
    size_t hl = slash ? (size_t)(slash - s) : strlen(s);
    if (hl >= sizeof(host))
        return SK_EINVAL;
    memcpy(host, s, hl);
    host[hl] = '\0';
    if (sk_ip_parse(host, &p->ip) != 0)
        return SK_EINVAL;
    unsigned max = p->ip.af == 4 ? 32 : 128;
    if (slash == NULL) {
        p->len = (uint8_t)max;
        return 0;
    }
    char *end;
    if (slash[1] < '0' || slash[1] > '9')
        return SK_EINVAL;
    unsigned long len = strtoul(slash + 1, &end, 10);
    if (*end != '\0' || len > max)
        return SK_EINVAL;
    p->len = (uint8_t)len;
    /* Host bits must be zero: a typo like 10.0.0.1/8 is caught. */
    for (unsigned bit = (unsigned)len; bit < max; bit++)
        if (p->ip.a[bit / 8] & (0x80 >> (bit % 8)))
            return SK_EINVAL;
    return 0;
}

bool sk_prefix_contains(const struct sk_prefix *p, const struct sk_ip *ip)
{
    if (p->ip.af != ip->af)
        return false;
    unsigned full = p->len / 8, rest = p->len % 8;
    if (memcmp(p->ip.a, ip->a, full) != 0)
        return false;
    if (rest == 0)
        return true;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (p->ip.a[full] & mask) == (ip->a[full] & mask);
}

socklen_t sk_ip_to_sockaddr(const struct sk_ip *ip, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof(*ss));
    if (ip->af == 4) {
        struct sockaddr_in *sin = (struct sockaddr_in *)ss;
        sin->sin_family = AF_INET;
        sin->sin_port = htons(ip->port);
        memcpy(&sin->sin_addr, ip->a, 4);
        return sizeof(*sin);
    }
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(ip->port);
    memcpy(&sin6->sin6_addr, ip->a, 16);
    return sizeof(*sin6);
}

void sk_ip_from_sockaddr(const struct sockaddr *sa, struct sk_ip *ip)
{
    memset(ip, 0, sizeof(*ip));
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
        ip->af = 4;
        memcpy(ip->a, &sin->sin_addr, 4);
        ip->port = ntohs(sin->sin_port);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
        const uint8_t *b = sin6->sin6_addr.s6_addr;
        static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
        if (memcmp(b, mapped, 12) == 0) {
            ip->af = 4;
            memcpy(ip->a, b + 12, 4);
        } else {
            ip->af = 6;
            memcpy(ip->a, b, 16);
        }
        ip->port = ntohs(sin6->sin6_port);
    }
}

char *sk_ip_ntop(const struct sk_ip *ip, char *buf)
{
    if (ip->af == 4)
        inet_ntop(AF_INET, ip->a, buf, SK_IP_TEXT_MAX);
    else if (ip->af == 6)
        inet_ntop(AF_INET6, ip->a, buf, SK_IP_TEXT_MAX);
    else
        strcpy(buf, "-");
    return buf;
}

char *sk_ip_ntop_port(const struct sk_ip *ip, char *buf)
{
    char a[SK_IP_TEXT_MAX];
    sk_ip_ntop(ip, a);
    snprintf(buf, SK_IP_TEXT_MAX, ip->af == 6 ? "[%s]:%u" : "%s:%u", a, ip->port);
    return buf;
}

bool sk_ip_equal(const struct sk_ip *a, const struct sk_ip *b)
{
    return a->af == b->af && memcmp(a->a, b->a, a->af == 4 ? 4 : 16) == 0;
}
