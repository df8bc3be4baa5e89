/* fuzz/fuzz_event_check.h -- what every decoded event must look like,
 * whatever bytes it came from; shared by the event-log fuzz targets.
 * Aborts (a crash the fuzzer reports) on the first violation. */
#ifndef SK_FUZZ_EVENT_CHECK_H
#define SK_FUZZ_EVENT_CHECK_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "evlog/event.h"

static unsigned fuzz_sink; /* span bytes are read into it, so ASan sees each */

static inline void fuzz_check_span(const struct sk_span *s, uint32_t cap)
{
    if (s->len > cap || (s->len && s->p == NULL))
        abort();
    for (uint32_t i = 0; i < s->len; i++)
        fuzz_sink += s->p[i];
}

/* Addresses of a known family, strings terminated, spans within their caps
 * and readable, a known kind; DNS events carry no connection fields. */
static inline void fuzz_check_event(const struct sk_event *ev)
{
    const struct sk_ip *ips[3] = { &ev->src, &ev->dst, &ev->proxied_by };
    for (int i = 0; i < 3; i++)
        if (ips[i]->af != 0 && ips[i]->af != 4 && ips[i]->af != 6)
            abort();
    if (memchr(ev->family, 0, sizeof(ev->family)) == NULL ||
        memchr(ev->list, 0, sizeof(ev->list)) == NULL ||
        memchr(ev->bot_id, 0, sizeof(ev->bot_id)) == NULL ||
        memchr(ev->rule, 0, sizeof(ev->rule)) == NULL)
        abort();
    if (ev->kind == SK_EV_DNS) {
        const struct sk_event_dns *d = &ev->u.dns;
        if (d->ecs_af != 0 && d->ecs_af != 4 && d->ecs_af != 6)
            abort();
        if (d->ecs_af && (d->ecs_source + 7u) / 8u > (d->ecs_af == 4 ? 4u : 16u))
            abort();
        if (ev->bot_id[0] || ev->rule[0] || ev->bytes_in || ev->duration_us)
            abort();
    } else if (ev->kind == SK_EV_HTTP) {
        const struct sk_event_http *x = &ev->u.http;
        fuzz_check_span(&x->method, SK_EV_SHORT_MAX);
        fuzz_check_span(&x->host, SK_EV_SHORT_MAX);
        fuzz_check_span(&x->content_type, SK_EV_SHORT_MAX);
        fuzz_check_span(&x->url, SK_EV_URL_MAX);
        fuzz_check_span(&x->user_agent, SK_EV_URL_MAX);
        fuzz_check_span(&x->referer, SK_EV_URL_MAX);
        fuzz_check_span(&x->body, SK_EV_CAPTURE_MAX);
    } else if (ev->kind == SK_EV_TLS) {
        fuzz_check_span(&ev->u.tls.sni, SK_EV_SHORT_MAX);
        fuzz_check_span(&ev->u.tls.alpn, SK_EV_SHORT_MAX);
        if (memchr(ev->u.tls.ja3, 0, sizeof(ev->u.tls.ja3)) == NULL ||
            memchr(ev->u.tls.ja4, 0, sizeof(ev->u.tls.ja4)) == NULL)
            abort();
    } else if (ev->kind == SK_EV_RAW) {
        fuzz_check_span(&ev->u.raw.data, SK_EV_CAPTURE_MAX);
    } else {
        abort();
    }
}

#endif
