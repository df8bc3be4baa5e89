/* core/loop.h -- a small epoll event loop, one per worker thread.
 *
 * Callers embed a struct loop_io in their own structs (libuv style), set
 * fd and cb, and register it; the loop calls cb with the epoll events.
 * loop_wake() may be called from any thread to make loop_run_once()
 * return early (used to stop workers). Nothing here allocates after
 * loop_init(). */
#ifndef SK_CORE_LOOP_H
#define SK_CORE_LOOP_H

#include <stdint.h>
#include <sys/epoll.h>

struct loop_io;
typedef void (*loop_io_cb)(struct loop_io *io, uint32_t events);

struct loop_io {
    int fd;
    loop_io_cb cb;
    void *data;
};

struct loop {
    int epfd;
    int wakefd; /* eventfd */
    struct loop_io wake_io;
};

/* Returns 0 or -errno. */
int loop_init(struct loop *l);
void loop_close(struct loop *l);

/* Register, change or remove io (EPOLLIN, EPOLLOUT, ...). 0 or -errno. */
int loop_add(struct loop *l, struct loop_io *io, uint32_t events);
int loop_mod(struct loop *l, struct loop_io *io, uint32_t events);
int loop_del(struct loop *l, struct loop_io *io);

/* Wait up to timeout_ms for events and dispatch them. Returns the number
 * of events handled (0 on timeout or wake-up). */
int loop_run_once(struct loop *l, int timeout_ms);

/* Interrupt a loop_run_once() in progress (any thread). */
void loop_wake(struct loop *l);

#endif
