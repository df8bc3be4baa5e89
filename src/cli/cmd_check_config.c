/* cli/cmd_check_config.c -- `sinkhole check-config`: validate a config, the
 * seized-domain lists and the family rules it names, as `serve` would load
 * them, without starting anything. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "classify/rules.h"
#include "cli/commands.h"
#include "core/config.h"
#include "core/err.h"
#include "core/xalloc.h"
#include "dns/zones.h"
#include "listen/tlsterm.h"

static const char usage_text[] =
    "Usage: sinkhole check-config -c FILE [-q]\n"
    "\n"
    "Read FILE as `sinkhole serve` would, load every seized-domain list and the\n"
    "family rules file it names and the TLS certificates of its listeners, and\n"
    "report each problem as FILE:LINE: message.\n"
    "Nothing is started.\n"
    "\n"
    "Options:\n"
    "  -c, --config FILE   the configuration file (INI; see docs/config.md)\n"
    "  -q, --quiet         print nothing when the configuration is valid\n"
    "  -h, --help          show this help\n"
    "\n"
    "Exit status: 0 valid, 2 invalid (every error is printed), 1 other failure.\n";

static const char *plural(size_t n)
{
    return n == 1 ? "" : "s";
}

int cmd_check_config(int argc, char **argv)
{
    static const struct option opts[] = { { "config", required_argument, NULL, 'c' },
                                          { "quiet", no_argument, NULL, 'q' },
                                          { "help", no_argument, NULL, 'h' },
                                          { NULL, 0, NULL, 0 } };
    const char *path = NULL;
    int quiet = 0, ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "c:qh", opts, NULL)) != -1) {
        switch (ch) {
        case 'c':
            path = optarg;
            break;
        case 'q':
            quiet = 1;
            break;
        case 'h':
            fputs(usage_text, stdout);
            return 0;
        default:
            return cli_bad_option("check-config", argv);
        }
    }
    if (path == NULL || optind != argc) {
        fputs(usage_text, stderr);
        return 2;
    }
    struct sk_config *cfg;
    int rc = config_load(path, &cfg, stderr);
    if (rc != 0)
        return rc == SK_ECONFIG ? 2 : 1;
    int nlists = cfg->n_seized, nlisteners = cfg->n_listeners;
    char *rules_path = cfg->rules_file ? xstrdup(cfg->rules_file) : NULL;

    /* Both are loaded even when the first fails, so one run shows every
     * mistake. The zones take cfg over. */
    bool bad = false;
    /* A certificate named in the config is read as serve would read it,
     * so a key that does not match it is found now, not at start. */
    for (int i = 0; i < cfg->n_listeners; i++) {
        const struct cfg_listener *l = &cfg->listeners[i];
        if (!l->tls_terminate || l->tls_cert == NULL)
            continue;
        struct tlsterm_ctx *ctx = NULL;
        char err[512] = "";
        if (tlsterm_ctx_new(l->tls_cert, l->tls_key, NULL, &ctx, err, sizeof(err)) != 0) {
            fprintf(stderr, "%s:%d: listener %s: TLS: %s\n", path, l->line, l->name, err);
            bad = true;
        }
        tlsterm_ctx_free(ctx);
    }
    struct dns_zones *z = NULL;
    if (dns_zones_load(cfg, &z, stderr) != 0)
        bad = true;
    struct rules *r = NULL;
    if (rules_path != NULL && rules_load(rules_path, &r, stderr) != 0)
        bad = true; /* a rules file that cannot be read is the config's mistake too */
    if (!bad && !quiet) {
        size_t names = seized_count(z->matcher), nrules = r ? rules_count(r) : 0;
        printf("%s: OK: %d seized list%s, %zu name%s, %d listener%s, %zu rule%s\n", path, nlists,
               plural((size_t)nlists), names, plural(names), nlisteners, plural((size_t)nlisteners),
               nrules, plural(nrules));
    }
    rules_free(r);
    if (z != NULL)
        dns_zones_free(z);
    free(rules_path);
    return bad ? 2 : 0;
}
