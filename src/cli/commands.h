/* cli/commands.h -- one function per subcommand of the sinkhole binary.
 *
 * Each takes the arguments after the program name (argv[0] is the
 * subcommand) and returns the process exit status: 0 success, 1 runtime
 * failure, 2 usage or configuration error. */
#ifndef SK_CLI_COMMANDS_H
#define SK_CLI_COMMANDS_H

int cmd_serve(int argc, char **argv);
int cmd_check_config(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_domains(int argc, char **argv);
int cmd_blocklist(int argc, char **argv);

/* For getopt_long's '?': tell which option of `sinkhole CMD` was unknown
 * or lacked its value, point to --help, and return 2. */
int cli_bad_option(const char *cmd, char **argv);

#endif
