/* cli/cmd_check_config.c -- `sinkhole check-config`: validate a config. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "core/config.h"
#include "core/err.h"
#include "dns/zones.h"

static const char usage_text[] =
    "Usage: sinkhole check-config -c FILE [-q]\n"
    "\n"
    "Read FILE as `sinkhole serve` would, load every seized-domain list it names,\n"
    "and report each problem as FILE:LINE: message. Nothing is started.\n"
    "\n"
    "Options:\n"
    "  -c, --config FILE   the configuration file (INI; see docs/config.md)\n"
    "  -q, --quiet         print nothing when the configuration is valid\n"
    "  -h, --help          show this help\n"
    "\n"
    "Exit status: 0 valid, 2 invalid (every error is printed), 1 other failure.\n";

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
            fputs(usage_text, stderr);
            return 2;
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
    int nlists = cfg->n_seized;
    struct dns_zones *z;
    if (dns_zones_load(cfg, &z, stderr) != 0)
        return 2;
    if (!quiet)
        printf("%s: OK: %d seized list%s, %zu names\n", path, nlists, nlists == 1 ? "" : "s",
               seized_count(z->matcher));
    dns_zones_free(z);
    return 0;
}
