// SPDX-License-Identifier: MIT
/*
 * cli_test.c: the command table and what comes from it: every subcommand's --help, the flags a
 * subcommand refuses (naming it), the did-you-mean of a mistyped subcommand or flag, and
 * attach's and log summary's own flags. Works through cli.h on a real argv; reads no file.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "user/cli.h"
#include "user/opts.h"

static struct opts o;
static char *args[32];
static int nargs;
static char err[1024];

/* cli_parse_args() on "boundary" followed by the NULL-terminated arguments. */
static int parse(const char *first, ...)
{
	const char *a;
	va_list ap;
	int i;

	opts_fini(&o);
	opts_init(&o);
	for (i = 0; i < nargs; i++)
		free(args[i]);
	nargs = 0;
	err[0] = '\0';
	args[nargs++] = strdup("boundary");
	va_start(ap, first);
	for (a = first; a; a = va_arg(ap, const char *))
		args[nargs++] = strdup(a);
	va_end(ap);
	args[nargs] = NULL;
	return cli_parse_args(&o, nargs, args, err, sizeof(err));
}

/* cmd's --help as a string (owned by the caller). */
static char *usage_of(enum opts_cmd cmd)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	cli_usage(f, cmd);
	assert_int_equal(fclose(f), 0);
	return buf;
}

static void test_table(void **state)
{
	const struct cli_cmd *c;
	size_t i, n;

	(void)state;
	c = cli_cmds(&n);
	assert_int_equal(n, OPTS__CMD_COUNT);
	for (i = 0; i < n; i++) {
		assert_int_equal(c[i].id, i);
		assert_non_null(c[i].usage);
		assert_non_null(c[i].about);
		/* The usage line starts with the name, as typed. */
		if (i)
			assert_memory_equal(c[i].usage, c[i].name, strlen(c[i].name));
	}
}

/* rules from-endpoints: its lists in order, "-" among them, and none is an error. */
static void test_rules_from_endpoints(void **state)
{
	(void)state;
	assert_int_equal(parse("rules", "from-endpoints", "a.test:443 b.test:80", "-", NULL), 0);
	assert_int_equal(o.action, OPTS_RULES_FROM_ENDPOINTS);
	assert_int_equal(o.n_log_files, 2);
	assert_string_equal(o.log_files[0], "a.test:443 b.test:80");
	assert_string_equal(o.log_files[1], "-");
	assert_int_equal(parse("rules", "from-endpoints", NULL), -EINVAL);
	assert_int_equal(parse("rules", "from-endpoints", "--allow", "x", "a:1", NULL), -EINVAL);
	assert_int_equal(parse("rules", "to-endpoints", "a:1", NULL), -EINVAL);
	/* It reads no config file: a policy's rules have nothing to do with the conversion. */
	assert_int_equal(parse("rules", "from-endpoints", "a:1", NULL), 0);
	assert_false(cli_reads_config(&o));
}

/* Every subcommand answers --help and -h with its own usage, and an 80-column screen. */
static void test_help_per_cmd(void **state)
{
	const struct cli_cmd *c;
	char want[256], *u, *line, *save = NULL;
	size_t i, n;

	(void)state;
	c = cli_cmds(&n);
	for (i = 1; i < n; i++) {
		char name[64], *second;

		snprintf(name, sizeof(name), "%s", c[i].name);
		second = strchr(name, ' ');
		if (second)
			*second++ = '\0';
		assert_int_equal(
		    second ? parse(name, second, "--help", NULL) : parse(name, "--help", NULL), 0);
		assert_int_equal(o.action, OPTS_HELP_SHOW);
		assert_int_equal(o.cmd, i);
		assert_int_equal(second ? parse(name, second, "-h", NULL) : parse(name, "-h", NULL),
				 0);
		assert_int_equal(o.action, OPTS_HELP_SHOW);
		assert_int_equal(o.cmd, i);

		u = usage_of((enum opts_cmd)i);
		snprintf(want, sizeof(want), "Usage: boundary %s\n", c[i].usage);
		assert_memory_equal(u, want, strlen(want));
		assert_non_null(strstr(u, "--help"));
		for (line = strtok_r(u, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
			assert_true(strlen(line) <= 80);
		free(u);
	}
	/* --help after the flags of a subcommand, and before it: boundary's own. */
	assert_int_equal(parse("attach", "--cgroup", "x", "--help", NULL), 0);
	assert_int_equal(o.cmd, OPTS_CMD_ATTACH);
	assert_int_equal(parse("--help", "attach", NULL), 0);
	assert_int_equal(o.cmd, OPTS_CMD_RUN);
	/* "log --help": the one log subcommand's. */
	assert_int_equal(parse("log", "--help", NULL), 0);
	assert_int_equal(o.action, OPTS_HELP_SHOW);
	assert_int_equal(o.cmd, OPTS_CMD_LOG_SUMMARY);
	/* Each lists its own flags. */
	u = usage_of(OPTS_CMD_ATTACH);
	assert_non_null(strstr(u, "--cgroup PATH"));
	assert_non_null(strstr(u, "--kill-existing-sockets"));
	assert_non_null(strstr(u, "(boundary help flags) but --test, --ip, --listen,"));
	assert_non_null(strstr(u, "\nExamples:\n  sudo boundary attach "));
	free(u);
	u = usage_of(OPTS_CMD_LOG_SUMMARY);
	assert_non_null(strstr(u, "--format table|json|markdown"));
	assert_null(strstr(u, "--allow RULE"));
	free(u);
	u = usage_of(OPTS_CMD_SERVE);
	assert_non_null(strstr(u, "--listen ADDR:PORT"));
	free(u);
}

static void test_not_taken(void **state)
{
	(void)state;
	assert_int_equal(parse("cleanup", "--allow", "domain=a.com", NULL), -EINVAL);
	assert_string_equal(err, "cleanup does not take --allow (see boundary cleanup --help)");
	assert_int_equal(parse("serve", "--test", "https://a.com", NULL), -EINVAL);
	assert_string_equal(err, "serve does not take --test (see boundary serve --help)");
	assert_int_equal(parse("generate-config", "--log-level=info", NULL), -EINVAL);
	assert_string_equal(err, "generate-config does not take --log-level (see boundary "
				 "generate-config --help)");
	assert_int_equal(parse("log", "summary", "--allow", "x", "a", NULL), -EINVAL);
	assert_string_equal(err, "log summary does not take --allow (see boundary log summary "
				 "--help)");
	/* A flag of a subcommand before its name, or without it. */
	assert_int_equal(parse("--cgroup", "x", "attach", NULL), -EINVAL);
	assert_string_equal(err,
			    "--cgroup is a flag of boundary attach (see boundary attach --help)");
	/* Flags before the name are boundary's, as ever. */
	assert_int_equal(parse("--log-level", "info", "cleanup", NULL), 0);
	assert_int_equal(o.action, OPTS_CLEANUP);
}

static void test_did_you_mean(void **state)
{
	(void)state;
	assert_string_equal(cli_suggest_cmd("atach"), "attach");
	assert_string_equal(cli_suggest_cmd("serv"), "serve");
	assert_string_equal(cli_suggest_cmd("generate-conifg"), "generate-config");
	assert_string_equal(cli_suggest_cmd("lgo"), "log summary");
	assert_null(cli_suggest_cmd("x"));
	assert_null(cli_suggest_cmd("claude"));

	setenv("PATH", "/nonexistent", 1);
	assert_int_equal(parse("atach", "--cgroup", "x", NULL), -EINVAL);
	assert_string_equal(err, "\"atach\" is neither a subcommand nor a program on PATH (did "
				 "you mean attach?)");
	/* After --, or with a slash, it is a command. */
	assert_int_equal(parse("--", "atach", NULL), 0);
	assert_int_equal(o.action, OPTS_RUN);
	assert_int_equal(parse("./atach", NULL), 0);
	assert_int_equal(o.action, OPTS_RUN);
	/* A program of that name runs. */
	setenv("PATH", "/bin:/usr/bin", 1);
	assert_int_equal(parse("true", NULL), 0);

	assert_int_equal(parse("attach", "--cgrup", "x", NULL), -EINVAL);
	assert_string_equal(err, "attach: unknown flag --cgrup (did you mean --cgroup?)");
	assert_int_equal(parse("serve", "--lisen", "x", NULL), -EINVAL);
	assert_string_equal(err, "serve: unknown flag --lisen (did you mean --listen?)");
	assert_int_equal(parse("log", "summary", "--fromat", "json", "a", NULL), -EINVAL);
	assert_string_equal(err, "log summary: unknown flag --fromat (did you mean --format?)");
	assert_int_equal(parse("log", "sumary", NULL), -EINVAL);
	assert_string_equal(err, "unknown log subcommand \"sumary\" (did you mean summary?)");
}

static void test_attach(void **state)
{
	(void)state;
	assert_int_equal(parse("attach", "--cgroup", "a/b", "--allow", "domain=a.com", NULL), 0);
	assert_int_equal(o.action, OPTS_ATTACH);
	assert_string_equal(o.attach_cgroup, "a/b");
	assert_false(o.kill_existing_sockets);
	assert_int_equal(o.allow.cli.n, 1);
	assert_int_equal(parse("attach", "--kill-existing-sockets", "--container=web", NULL), 0);
	assert_string_equal(o.attach_container, "web");
	assert_true(o.kill_existing_sockets);

	assert_int_equal(parse("attach", NULL), -EINVAL);
	assert_non_null(strstr(err, "attach needs exactly one of --cgroup"));
	assert_int_equal(parse("attach", "--cgroup", "a", "--systemd-unit", "b", NULL), -EINVAL);
	assert_non_null(strstr(err, "attach needs exactly one of --cgroup"));
	assert_int_equal(parse("attach", "--cgroup=", NULL), -EINVAL);
	assert_string_equal(err, "attach: --cgroup is empty");
	assert_int_equal(parse("attach", "--cgroup", NULL), -EINVAL);
	assert_string_equal(err, "attach: --cgroup needs a value (--cgroup PATH)");
	assert_int_equal(parse("attach", "--cgroup", "a", "--", "sh", NULL), -EINVAL);
	assert_non_null(strstr(err, "attach runs no command and takes no subcommand (drop \"sh\""));
	assert_int_equal(parse("attach", "--cgroup", "a", "--proxy-port", "0", NULL), -EINVAL);
	assert_string_equal(err, "attach: --proxy-port \"0\": not a port number (use 1-65535)");
}

static void test_no_arguments(void **state)
{
	(void)state;
	assert_int_equal(parse("cleanup", "x", NULL), -EINVAL);
	assert_string_equal(err, "cleanup takes no arguments (got \"x\")");
	assert_int_equal(parse("serve", "sh", NULL), -EINVAL);
	assert_non_null(strstr(err, "serve runs no command"));
	assert_int_equal(parse("serve", "--listen", "127.0.0.1:1", NULL), 0);
	assert_int_equal(o.action, OPTS_SERVE);
	assert_null(o.argv);
	assert_false(cli_reads_config(&o) == false);
	assert_int_equal(parse("cleanup", NULL), 0);
	assert_false(cli_reads_config(&o));
	assert_int_equal(parse("--version", NULL), 0);
	assert_false(cli_reads_config(&o));
}

static int teardown(void **state)
{
	int i;

	(void)state;
	opts_fini(&o);
	for (i = 0; i < nargs; i++)
		free(args[i]);
	nargs = 0;
	return 0;
}

/* boundary help [COMMAND|flags]: the same help as COMMAND --help, or every flag. */
static void test_help_topic(void **state)
{
	(void)state;
	assert_int_equal(parse("help", NULL), 0);
	assert_int_equal(o.action, OPTS_HELP_SHOW);
	assert_int_equal(o.cmd, OPTS_CMD_RUN);
	assert_false(o.help_flags);
	assert_int_equal(parse("help", "attach", NULL), 0);
	assert_int_equal(o.action, OPTS_HELP_SHOW);
	assert_int_equal(o.cmd, OPTS_CMD_ATTACH);
	assert_int_equal(parse("help", "log", NULL), 0);
	assert_int_equal(o.cmd, OPTS_CMD_LOG_SUMMARY);
	assert_int_equal(parse("help", "rules", "from-endpoints", NULL), 0);
	assert_int_equal(o.cmd, OPTS_CMD_RULES_FROM_ENDPOINTS);
	assert_int_equal(parse("help", "flags", NULL), 0);
	assert_true(o.help_flags);
	assert_int_equal(parse("help", "--help", NULL), 0);
	assert_int_equal(o.cmd, OPTS_CMD_HELP);
	assert_int_equal(parse("help", "atach", NULL), -EINVAL);
	assert_string_equal(err, "help: no command \"atach\" (did you mean attach?)");
	assert_int_equal(parse("help", "flag", NULL), -EINVAL);
	assert_string_equal(err, "help: no command \"flag\" (did you mean flags?)");
	assert_int_equal(parse("help", "log", "sumary", NULL), -EINVAL);
	assert_non_null(strstr(err, "did you mean summary?"));
	assert_int_equal(parse("help", "cleanup", "x", NULL), -EINVAL);
	assert_false(cli_reads_config(&o));
	/* A subcommand written as a flag. */
	assert_int_equal(parse("--attach", NULL), -EINVAL);
	assert_string_equal(
	    err, "unknown flag --attach (did you mean the subcommand: boundary attach?)");
	assert_int_equal(parse("--frobnicate", NULL), -EINVAL);
	assert_string_equal(err, "unknown flag --frobnicate (see boundary --help)");
}

/* boundary completion SHELL: a script made from the tables, for the three shells only. */
static void test_completion(void **state)
{
	static const char *const shells[] = {"bash", "zsh", "fish"};
	char *buf;
	size_t i, len;
	FILE *f;

	(void)state;
	assert_int_equal(parse("completion", "bash", NULL), 0);
	assert_int_equal(o.action, OPTS_COMPLETION);
	assert_string_equal(o.shell, "bash");
	assert_false(cli_reads_config(&o));
	assert_int_equal(parse("completion", NULL), -EINVAL);
	assert_int_equal(parse("completion", "tcsh", NULL), -EINVAL);
	assert_int_equal(parse("completion", "bash", "zsh", NULL), -EINVAL);
	for (i = 0; i < 3; i++) {
		buf = NULL;
		f = open_memstream(&buf, &len);
		assert_non_null(f);
		assert_int_equal(cli_completion(f, shells[i]), 0);
		assert_int_equal(fclose(f), 0);
		/* Every subcommand's first word, a flag of each kind, the values of --log-level. */
		assert_non_null(strstr(buf, "attach"));
		assert_non_null(strstr(buf, "k8s-node"));
		assert_non_null(strstr(buf, "from-endpoints"));
		assert_non_null(strstr(buf, "allow"));
		assert_non_null(strstr(buf, "kill-existing-sockets"));
		assert_non_null(strstr(buf, "error warn info debug"));
		assert_non_null(strstr(buf, "nsjail landlock weak"));
		free(buf);
	}
	f = fopen("/dev/null", "w");
	assert_non_null(f);
	assert_int_equal(cli_completion(f, "tcsh"), -EINVAL);
	fclose(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_table),
	    cmocka_unit_test(test_help_per_cmd),
	    cmocka_unit_test(test_not_taken),
	    cmocka_unit_test(test_did_you_mean),
	    cmocka_unit_test(test_attach),
	    cmocka_unit_test(test_no_arguments),
	    cmocka_unit_test(test_rules_from_endpoints),
	    cmocka_unit_test(test_help_topic),
	    cmocka_unit_test(test_completion),
	};

	return cmocka_run_group_tests(tests, NULL, teardown);
}
