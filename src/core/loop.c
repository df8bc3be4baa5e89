/* core/loop.c -- epoll wrapper with an eventfd for wake-ups. */
#include "core/loop.h"

#include <errno.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

static void wake_cb(struct loop_io *io, uint32_t events)
{
    (void)events;
    uint64_t v;
    ssize_t r = read(io->fd, &v, sizeof(v));
    (void)r;
}

int loop_init(struct loop *l)
{
    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (l->epfd < 0)
        return -errno;
    l->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (l->wakefd < 0) {
        int e = errno;
        close(l->epfd);
        return -e;
    }
    l->wake_io.fd = l->wakefd;
    l->wake_io.cb = wake_cb;
    l->wake_io.data = NULL;
    return loop_add(l, &l->wake_io, EPOLLIN);
}

void loop_close(struct loop *l)
{
    close(l->wakefd);
    close(l->epfd);
}

int loop_add(struct loop *l, struct loop_io *io, uint32_t events)
{
    struct epoll_event ev = { .events = events, .data.ptr = io };
    return epoll_ctl(l->epfd, EPOLL_CTL_ADD, io->fd, &ev) == 0 ? 0 : -errno;
}

int loop_mod(struct loop *l, struct loop_io *io, uint32_t events)
{
    struct epoll_event ev = { .events = events, .data.ptr = io };
    return epoll_ctl(l->epfd, EPOLL_CTL_MOD, io->fd, &ev) == 0 ? 0 : -errno;
}

int loop_del(struct loop *l, struct loop_io *io)
{
    return epoll_ctl(l->epfd, EPOLL_CTL_DEL, io->fd, NULL) == 0 ? 0 : -errno;
}

int loop_run_once(struct loop *l, int timeout_ms)
{
    struct epoll_event evs[64];
    int n = epoll_wait(l->epfd, evs, 64, timeout_ms);
    if (n < 0)
        return 0; /* EINTR */
    for (int i = 0; i < n; i++) {
        struct loop_io *io = evs[i].data.ptr;
        io->cb(io, evs[i].events);
    }
    return n;
}

void loop_wake(struct loop *l)
{
    uint64_t one = 1;
    ssize_t r = write(l->wakefd, &one, sizeof(one));
    (void)r;
}
