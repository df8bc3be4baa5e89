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
        config_free(cfg);
    }
    unlink(path);
    return 0;
}
