// SPDX-License-Identifier: MIT
/*
 * config_test.c: the YAML config loader. Every error is checked with its whole message, so a
 * wrong line or column fails; the generate-config template must load back cleanly and give the
 * defaults. Works through the public API only (config.h, opts.h).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rules/rules.h"
#include "user/config.h"
#include "user/opts.h"

static struct opts o;
static char err[1024];

/* Loads text as "config.yaml" into a fresh o. */
static int cfg(const char *text)
{
	opts_fini(&o);
	opts_init(&o);
	err[0] = '\0';
	return config_load_buffer(&o, "config.yaml", (const unsigned char *)text, strlen(text), err,
				  sizeof(err));
}

/* Asserts that text fails with exactly want. */
static void fails(const char *text, const char *want)
{
	assert_int_equal(cfg(text), -EINVAL);
	assert_string_equal(err, want);
}

static int setup(void **state)
{
	(void)state;
	opts_init(&o);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	opts_fini(&o);
	return 0;
}

static void test_empty_and_comments(void **state)
{
	(void)state;
	assert_int_equal(cfg(""), 0);
	assert_int_equal(cfg("# nothing here\n\n   # at all\n"), 0);
	assert_int_equal(cfg("---\n"), 0);
	assert_int_equal(cfg("---\n...\n"), 0);
	assert_int_equal(cfg("~\n"), 0);
	assert_int_equal(o.proxy_port, 8080);
	assert_int_equal(o.src[OPTS_PROXY_PORT], OPTS_SRC_DEFAULT);
}

static void test_every_key(void **state)
{
	(void)state;
	assert_int_equal(cfg("# the docs' example\n"
			     "allowlist:\n"
			     "  - \"domain=github.com\"\n"
			     "  - domain=*.npmjs.org path=/pkg/*\n"
			     "jail_type: nsjail\n"
			     "log_dir: /tmp/boundary_logs\n"
			     "proxy_port: 8087\n"
			     "log_level: INFO\n"
			     "use_real_dns: true\n"
			     "no_user_namespace: T\n"
			     "disable_audit_logs: 1\n"
			     "pprof_enabled: True\n"
			     "pprof_port: 6061\n"
			     "session_correlation_enabled: TRUE\n"
			     "session_id_inject_targets: [\"domain=api.example.com\"]\n"
			     "user: \"0:0\"\n"),
			 0);
	assert_int_equal(o.allow.file.n, 2);
	assert_string_equal(o.allow.file.v[0], "domain=github.com");
	assert_string_equal(o.allow.file.v[1], "domain=*.npmjs.org path=/pkg/*");
	assert_int_equal(o.allow.cli.n, 0);
	assert_string_equal(o.log_dir, "/tmp/boundary_logs");
	assert_int_equal(o.proxy_port, 8087);
	assert_int_equal(o.log_level, LOG_INFO);
	assert_true(o.use_real_dns);
	assert_true(o.no_user_namespace);
	assert_true(o.disable_audit_logs);
	assert_true(o.pprof);
	assert_int_equal(o.pprof_port, 6061);
	assert_true(o.session_correlation);
	assert_int_equal(o.inject.file.n, 1);
	assert_true(o.user.set);
	assert_int_equal(o.user.uid, 0);
	assert_int_equal(o.src[OPTS_PROXY_PORT], OPTS_SRC_FILE);
}

static void test_null_values_keep_defaults(void **state)
{
	(void)state;
	assert_int_equal(cfg("proxy_port:\nlog_level: ~\nallowlist: null\nuser: \"\"\n"), 0);
	assert_int_equal(o.proxy_port, 8080);
	assert_int_equal(o.log_level, LOG_WARN);
	assert_int_equal(o.allow.file.n, 0);
	assert_false(o.user.set);
}

static void test_flags_win(void **state)
{
	const struct opts_def *d = opts_def_by_yaml("proxy_port");
	const struct opts_def *a = opts_def_by_yaml("allowlist");
	const char *text = "proxy_port: 1\nallowlist: [domain=file.com]\n";

	(void)state;
	opts_fini(&o);
	opts_init(&o);
	assert_int_equal(opts_set(&o, d, "9000", OPTS_SRC_FLAG, "--proxy-port", err, sizeof(err)),
			 0);
	assert_int_equal(
	    opts_set(&o, a, "domain=flag.com", OPTS_SRC_FLAG, "--allow", err, sizeof(err)), 0);
	assert_int_equal(config_load_buffer(&o, "c.yaml", (const unsigned char *)text, strlen(text),
					    err, sizeof(err)),
			 0);
	assert_int_equal(o.proxy_port, 9000);
	assert_int_equal(o.src[OPTS_PROXY_PORT], OPTS_SRC_FLAG);
	/* Lists merge instead. */
	assert_int_equal(o.allow.file.n, 1);
	assert_int_equal(o.allow.cli.n, 1);
	assert_int_equal(opts_finish(&o, err, sizeof(err)), 0);
	assert_int_equal(rules_count(o.rules), 2);
	assert_string_equal(rules_raw(o.rules, 0), "domain=file.com");
	assert_string_equal(rules_raw(o.rules, 1), "domain=flag.com");
}

static void test_unknown_key(void **state)
{
	(void)state;
	fails("allowlist: []\n"
	      "proxy_port: 8080\n"
	      "allowlst:\n"
	      "  - domain=a.com\n",
	      "config.yaml:3:1: unknown key \"allowlst\" (did you mean \"allowlist\"?)");
	fails("log-level: info\n",
	      "config.yaml:1:1: unknown key \"log-level\" (did you mean \"log_level\"?)");
	fails("  corporate_gateway: x\n", "config.yaml:1:3: unknown key \"corporate_gateway\" "
					  "(boundary generate-config lists every key)");
	/* A flag-only option has no key. */
	fails("config: x.yaml\n",
	      "config.yaml:1:1: unknown key \"config\" (boundary generate-config lists every key)");
}

static void test_duplicate_key(void **state)
{
	(void)state;
	fails("proxy_port: 1\nlog_level: info\nproxy_port: 2\n",
	      "config.yaml:3:1: duplicate key \"proxy_port\" (already set at line 1)");
	fails("allowlist: []\nallowlist: [domain=a.com]\n",
	      "config.yaml:2:1: duplicate key \"allowlist\" (already set at line 1)");
}

static void test_wrong_types(void **state)
{
	(void)state;
	fails("proxy_port: abc\n",
	      "config.yaml:1:13: proxy_port \"abc\": not a port number (use 1-65535)");
	fails("pprof_port: 0\n", "config.yaml:1:13: pprof_port \"0\": not a port number (use "
				 "1-65535)");
	fails("use_real_dns: yes\n",
	      "config.yaml:1:15: use_real_dns \"yes\": not a boolean (use true or false)");
	fails("log_level: loud\n", "config.yaml:1:12: log_level \"loud\": not a log level (use "
				   "error, warn, info or debug)");
	fails("jail_type: docker\n", "config.yaml:1:12: jail_type: invalid JailType: docker (use "
				     "nsjail, landlock (or landjail) or weak)");
	fails("allowlist: \"domain=a.com\"\n",
	      "config.yaml:1:12: allowlist must be a list of strings (- \"...\" lines, or "
	      "[\"...\"]), not a single value");
	fails("allowlist:\n  domain: a.com\n",
	      "config.yaml:2:3: allowlist must be a list of strings (- \"...\" lines, or "
	      "[\"...\"]), not a mapping");
	fails("allowlist:\n  - domain=a.com\n  - [domain=b.com]\n",
	      "config.yaml:3:5: each item of allowlist must be a string, not a list");
	fails("allowlist:\n  - {domain: a.com}\n",
	      "config.yaml:2:5: each item of allowlist must be a string, not a mapping");
	fails("proxy_port: [1]\n",
	      "config.yaml:1:13: proxy_port must be a single value, not a list");
	fails("log_dir:\n  a: b\n", "config.yaml:2:3: log_dir must be a single value, not a "
				    "mapping");
	fails("[a]: 1\n", "config.yaml:1:1: a key must be a name, not a list");
}

static void test_jail_type_error_position(void **state)
{
	(void)state;
	/* The who part carries the value's position. */
	fails("proxy_port: 1\njail_type: x\n", "config.yaml:2:12: jail_type: invalid JailType: x "
					       "(use nsjail, landlock (or landjail) or weak)");
}

static void test_root_not_mapping(void **state)
{
	(void)state;
	fails("- domain=a.com\n", "config.yaml:1:1: the top level must be a mapping of keys (like "
				  "\"proxy_port: 8080\"), not a list");
	fails("hello\n", "config.yaml:1:1: the top level must be a mapping of keys (like "
			 "\"proxy_port: 8080\"), not a single value");
}

static void test_bad_rules(void **state)
{
	char why[256] = "", want[512];
	struct rules *r = rules_new();
	size_t col = 0;

	(void)state;
	fails("# rules\n"
	      "allowlist:\n"
	      "  - domain=a.com\n"
	      "  - domain=x.com:80\n",
	      "config.yaml:4:5: rule \"domain=x.com:80\": column 13: a port cannot be part of "
	      "domain (write it as its own key: port=80)");
	fails("allowlist: [\"domain=a.com\", \"domain=b.com:1\"]\n",
	      "config.yaml:1:29: rule \"domain=b.com:1\": column 13: a port cannot be part of "
	      "domain (write it as its own key: port=1)");
	fails("session_id_inject_targets:\n  - domain=b.com:1\n",
	      "config.yaml:2:5: target \"domain=b.com:1\": column 13: a port cannot be part of "
	      "domain (write it as its own key: port=1)");

	/* The empty rule, quoted or a bare "-": rules_add's own words. */
	assert_non_null(r);
	assert_true(rules_add(r, "", &col, why, sizeof(why)) < 0);
	rules_free(r);
	snprintf(want, sizeof(want), "config.yaml:2:5: rule \"\": column %zu: %s", col, why);
	fails("allowlist:\n  - \"\"\n", want);
	snprintf(want, sizeof(want), "config.yaml:3:4: rule \"\": column %zu: %s", col, why);
	fails("allowlist:\n  - domain=a.com\n  -\n", want);
}

static void test_yaml_syntax(void **state)
{
	(void)state;
	fails("allowlist: [\n", "config.yaml:2:1: did not find expected node content (while "
				"parsing a flow node at line 2)");
	fails("proxy_port: \"1\n", "config.yaml:2:1: found unexpected end of stream (while "
				   "scanning a quoted scalar at line 1)");
	fails("allowlist:\n\t- a\n", "config.yaml:2:1: found character that cannot start any "
				     "token (while scanning for the next token at line 2)");
	fails("log_level: a\xff\n", "config.yaml:1:13: invalid leading UTF-8 octet (byte 12)");
	fails("proxy_port: &p 1\npprof_port: *p\n",
	      "config.yaml:2:13: aliases (*name) are not supported");
	fails("proxy_port: 1\n---\nproxy_port: 2\n",
	      "config.yaml:2:1: only one YAML document is allowed (remove ---)");
	fails("log_dir: \"a\\0b\"\n", "config.yaml:1:10: a value cannot contain a NUL character");
}

static void test_control_chars_quoted(void **state)
{
	(void)state;
	/* A message stays one line, whatever the value holds. */
	fails("log_level: \"a\\nb\"\n", "config.yaml:1:12: log_level \"a\\nb\": not a log level "
					"(use error, warn, info or debug)");
}

static void test_generate_roundtrip(void **state)
{
	size_t len = 0, i, n;
	const struct opts_def *d = opts_defs(&n);
	char *buf = NULL;
	FILE *f;

	(void)state;
	f = open_memstream(&buf, &len);
	assert_non_null(f);
	config_generate(f);
	assert_int_equal(fclose(f), 0);
	/* Every key is in it. */
	for (i = 0; i < n; i++) {
		char key[64];

		if (!d[i].yaml)
			continue;
		snprintf(key, sizeof(key), "\n%s: ", d[i].yaml);
		assert_non_null(strstr(buf, key));
	}
	assert_non_null(strstr(buf, "\nallowlist: []\n"));
	assert_int_equal(cfg(buf), 0);
	assert_int_equal(o.proxy_port, 8080);
	assert_int_equal(o.pprof_port, 6060);
	assert_int_equal(o.log_level, LOG_WARN);
	assert_string_equal(o.log_dir, "");
	assert_int_equal(o.jail_type, OPTS_JAIL_NSJAIL);
	assert_false(o.user.set);
	assert_int_equal(o.allow.file.n, 0);
	assert_int_equal(o.src[OPTS_PROXY_PORT], OPTS_SRC_FILE);
	free(buf);
}

static void test_load_file(void **state)
{
	char dir[] = "/tmp/boundary-config-test.XXXXXX";
	char path[128], big[256];
	int fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/missing.yaml", dir);
	assert_int_equal(config_load_file(&o, path, false, err, sizeof(err)), 0);
	assert_null(o.config_read);
	assert_int_equal(config_load_file(&o, path, true, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "No such file"));
	assert_int_equal(config_load_file(&o, dir, true, err, sizeof(err)), -EISDIR);

	snprintf(path, sizeof(path), "%s/c.yaml", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "proxy_port: x\n", 14), 14);
	close(fd);
	assert_int_equal(config_load_file(&o, path, false, err, sizeof(err)), -EINVAL);
	snprintf(big, sizeof(big), "%s:1:13: proxy_port \"x\"", path);
	assert_non_null(strstr(err, big));

	/* Past the size limit. */
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, CONFIG_MAX_SIZE + 1), 0);
	close(fd);
	assert_int_equal(config_load_file(&o, path, true, err, sizeof(err)), -EFBIG);

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_int_equal(write(fd, "proxy_port: 7\n", 14), 14);
	close(fd);
	assert_int_equal(config_load_file(&o, path, true, err, sizeof(err)), 0);
	assert_int_equal(o.proxy_port, 7);
	assert_string_equal(o.config_read, path);
	unlink(path);
	rmdir(dir);
}

/* The directory every caller names the same way: cut as snprintf cuts, and said when it is. */
static void test_config_dir(void **state)
{
	struct opts_user nobody_set = {0};
	char dir[64];

	(void)state;
	assert_int_equal(config_dir_in("/home/a", dir, sizeof(dir)), 0);
	assert_string_equal(dir, "/home/a/.config/coder_boundary");
	assert_int_equal(config_dir_in("/home/a", dir, 10), -ENAMETOOLONG);
	assert_string_equal(dir, "/home/a/.");
	/* Not set: the real uid's entry, as with no user at all. */
	assert_ptr_equal(config_user_home(&nobody_set) == NULL, config_user_home(NULL) == NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	    T(test_empty_and_comments),
	    T(test_every_key),
	    T(test_null_values_keep_defaults),
	    T(test_flags_win),
	    T(test_unknown_key),
	    T(test_duplicate_key),
	    T(test_wrong_types),
	    T(test_jail_type_error_position),
	    T(test_root_not_mapping),
	    T(test_bad_rules),
	    T(test_yaml_syntax),
	    T(test_control_chars_quoted),
	    T(test_generate_roundtrip),
	    T(test_load_file),
	    T(test_config_dir),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
