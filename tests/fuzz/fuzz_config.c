/* fuzz/fuzz_config.c -- the INI config parser on arbitrary input.
 *
 * The input is written to a private temp file (config_load reads a path,
 * as the daemon does) and parsed; errors go to /dev/null. A config that
 * loads must satisfy the invariants the rest of the daemon relies on. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/config.h"
#include "evlog/event.h"

/* What the listeners rely on: a loaded listener is bound somewhere, its
 * limits are in range, and TLS termination is complete. */
static void check_listener(const struct cfg_listener *l)
{
    if (l->name[0] == '\0' || strlen(l->name) >= SK_LIST_NAME_MAX)
        abort();
    if (l->n_listen < 1 || l->n_listen > CFG_LISTEN_MAX)
        abort();
    for (int k = 0; k < l->n_listen; k++)
        if ((l->listen[k].af != 4 && l->listen[k].af != 6) || l->listen[k].port == 0)
            abort();
    if (l->transport != 6 && l->transport != 17)
        abort();
    if (l->n_proxy_trusted < 0 || l->n_proxy_trusted > CFG_TRUSTED_MAX)
        abort();
    if (l->tls_terminate && l->transport != 6)
        abort();
    if ((l->tls_cert == NULL) != (l->tls_key == NULL) || (l->tls_cert && !l->tls_terminate))
        abort();
    size_t cn = strlen(l->tls_cn);
    if (cn < 1 || cn > CFG_TLS_CN_MAX)
        abort();
    if (l->sniff_timeout_ms == 0 || l->header_timeout_ms == 0 || l->idle_timeout_ms == 0 ||
        l->total_timeout_ms == 0 || l->max_connections == 0 || l->max_bytes == 0)
        abort();
    if (l->capture_bytes > SK_EV_CAPTURE_MAX || l->http_body_bytes > SK_EV_CAPTURE_MAX ||
        l->http_max_head < 256 || l->http_max_head > 65536)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char path[64];
    static FILE *devnull;
    if (devnull == NULL) {
        snprintf(path, sizeof(path), "/tmp/sk-fuzz-config-%d.ini", (int)getpid());
        devnull = fopen("/dev/null", "w");
    }
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    struct sk_config *cfg = NULL;
    if (config_load(path, &cfg, devnull) == 0) {
        if (cfg->workers < 1 || cfg->n_dns_listen > CFG_LISTEN_MAX || cfg->n_ns < 1 ||
            cfg->n_ns > CFG_NS_MAX || cfg->answers.n_a > CFG_ANSWERS_MAX)
            abort();
        for (int i = 0; i < cfg->n_seized; i++)
            if (cfg->seized[i].file == NULL || cfg->seized[i].family[0] == '\0')
                abort();
        if (cfg->n_listeners < 0 || cfg->n_listeners > CFG_LISTENERS_MAX)
            abort();
        for (int i = 0; i < cfg->n_listeners; i++)
            check_listener(&cfg->listeners[i]);
        if ((cfg->rules_file == NULL) != (cfg->rules_line == 0))
            abort();
        config_free(cfg);
    }
    unlink(path);
    return 0;
}
