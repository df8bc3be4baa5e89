/* bench/dns/echo.c -- a trivial UDP "DNS server" that sends each query back.
 *
 * It reads with recvmmsg, sets the QR bit and writes the same bytes back
 * with sendmmsg: the least work any server can do per packet. The load
 * generator run against it shows the generator's own ceiling, so the
 * benchmark can tell when the generator, not the server, is the limit.
 *
 * Binds to 127.0.0.0/8 or ::1 only; stops on SIGTERM/SIGINT or after -l
 * seconds (default 600), so a forgotten instance cannot run for ever. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* recvmmsg, sendmmsg, epoll_pwait2 */
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../common.h"

#define ECHO_BATCH 64
#define ECHO_BUF   2048

static void usage(FILE *out)
{
    fprintf(out, "Usage: bench_dns_echo -p PORT [-s ADDR] [-l SECS]\n"
                 "\n"
                 "Answer every UDP datagram with itself, QR bit set.\n"
                 "  -s ADDR   address to bind, 127.0.0.0/8 or ::1 only (default 127.0.0.1)\n"
                 "  -p PORT   port to bind (required)\n"
                 "  -l SECS   exit after this long (default 600)\n");
}

int main(int argc, char **argv)
{
    struct bench_server_opts o;
    int rc = bench_server_opts(argc, argv, usage, &o);
    if (rc >= 0)
        return rc;
    struct sockaddr_storage ss;
    socklen_t sslen;
    if (bench_loopback(o.host, o.port, &ss, &sslen) != 0) {
        fprintf(stderr, "echo: refusing %s: only 127.0.0.0/8 and ::1 are allowed\n", o.host);
        return 2;
    }

    int fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        perror("echo: socket");
        return 1;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
    int sz = 4 << 20;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) != 0)
        (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
    /* Wake up now and then to notice a signal or the time limit. */
    struct timeval tv = { 0, 100000 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (bind(fd, (struct sockaddr *)&ss, sslen) != 0) {
        perror("echo: bind");
        return 1;
    }

    bench_stop_on_signals();

    static uint8_t bufs[ECHO_BATCH][ECHO_BUF];
    struct sockaddr_storage from[ECHO_BATCH];
    struct iovec iov[ECHO_BATCH];
    struct mmsghdr msgs[ECHO_BATCH];
    time_t deadline = time(NULL) + o.limit;
    unsigned long long packets = 0;

    while (!bench_stop && time(NULL) < deadline) {
        for (int i = 0; i < ECHO_BATCH; i++) {
            iov[i].iov_base = bufs[i];
            iov[i].iov_len = ECHO_BUF;
            memset(&msgs[i].msg_hdr, 0, sizeof(msgs[i].msg_hdr));
            msgs[i].msg_hdr.msg_iov = &iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
            msgs[i].msg_hdr.msg_name = &from[i];
            msgs[i].msg_hdr.msg_namelen = sizeof(from[i]);
        }
        int n = recvmmsg(fd, msgs, ECHO_BATCH, MSG_WAITFORONE, NULL);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                continue;
            perror("echo: recvmmsg");
            return 1;
        }
        int out = 0;
        for (int i = 0; i < n; i++) {
            if (msgs[i].msg_len < 12)
                continue;
            bufs[i][2] |= 0x80; /* QR: a response */
            iov[i].iov_len = msgs[i].msg_len;
            if (out != i) {
                msgs[out] = msgs[i];
                msgs[out].msg_hdr.msg_iov = &iov[i];
            }
            out++;
        }
        for (int done = 0; done < out;) {
            int k = sendmmsg(fd, msgs + done, (unsigned)(out - done), 0);
            if (k <= 0) {
                if (k < 0 && errno == EINTR)
                    continue;
                break; /* drop the rest, as a busy server would */
            }
            done += k;
        }
        packets += (unsigned long long)n;
    }
    fprintf(stderr, "echo: %llu packets\n", packets);
    close(fd);
    return 0;
}
