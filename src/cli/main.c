/* cli/main.c -- the sinkhole binary: dispatch to a subcommand. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "core/clock.h"

struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
};

static const struct command commands[] = {
    { "serve", cmd_serve, "run the sinkhole daemon in the foreground" },
    { "check-config", cmd_check_config, "validate a config file and the lists it names" },
    { "export", cmd_export, "write logged events as JSON lines, CSV or SQLite" },
    { "domains", cmd_domains, "a family's fallback and DGA domains, as lists, zones, RPZ, CSV" },
    { "blocklist", cmd_blocklist, "C&C addresses as CIDR, nftables or RPZ rpz-ip blocklists" },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
    fprintf(f, "Usage: sinkhole COMMAND [OPTIONS]\n"
               "       sinkhole COMMAND --help\n"
               "       sinkhole --version\n"
               "\n"
               "sinkhole answers for the domains seized in a botnet takedown, accepts and\n"
               "logs whatever the infected machines send, and counts them.\n"
               "\n"
               "Commands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(f, "  %-14s %s\n", commands[i].name, commands[i].summary);
    fprintf(f,
            "\n"
            "Environment:\n"
            "  SINKHOLE_CLOCK  offset or scale the clock every timestamp and timer reads,\n"
            "                  e.g. \"start=2009-11-05T00:00:00Z,scale=60\" or \"offset=-3600\"\n"
            "\n"
            "Exit status: 0 success, 1 runtime failure, 2 usage or configuration error.\n"
            "Documentation: docs/config.md, docs/events.md, docs/operations.md.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        if (argc > 2 && strcmp(cmd, "help") == 0) {
            for (size_t i = 0; i < NCOMMANDS; i++) {
                if (!strcmp(argv[2], commands[i].name)) {
                    char *av[] = { argv[2], "--help", NULL };
                    return commands[i].run(2, av);
                }
            }
            fprintf(stderr, "sinkhole: unknown command '%s'\n", argv[2]);
            return 2;
        }
        usage(stdout);
        return 0;
    }
    if (!strcmp(cmd, "--version") || !strcmp(cmd, "-V")) {
        printf("sinkhole %s\n", SK_VERSION);
        return 0;
    }
    if (sk_clock_init() != 0) {
        fprintf(stderr,
                "sinkhole: SINKHOLE_CLOCK: expected start=TIME,offset=SECONDS,scale=FACTOR\n");
        return 2;
    }
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (!strcmp(cmd, commands[i].name))
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "sinkhole: unknown command '%s'\n\n", cmd);
    usage(stderr);
    return 2;
}

int cli_bad_option(const char *cmd, char **argv)
{
    if (optopt)
        fprintf(stderr, "sinkhole %s: option needs a value or is unknown: -%c\n", cmd, optopt);
    else
        fprintf(stderr, "sinkhole %s: unknown option '%s'\n", cmd, argv[optind - 1]);
    fprintf(stderr, "Try 'sinkhole %s --help'.\n", cmd);
    return 2;
}
