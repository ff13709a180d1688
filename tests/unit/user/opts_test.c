// SPDX-License-Identifier: MIT
/*
 * opts_test.c: the command line and the precedence of its sources. Includes user/opts.c to reach
 * its statics (parse_bool). Each test runs config_load() on a real argv with a
 * scratch HOME, so the default config file is one the test wrote, and every environment
 * variable the option table names is unset before and after. Runs as any user; the sudo cases
 * that need euid 0 say so and pass trivially otherwise.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "../../../user/opts.c"
#include "user/cli.h"
#include "user/config.h"

#include <sys/stat.h>

static char home[] = "/tmp/boundary-opts-test.XXXXXX";
static char cfgdir[128], cfgpath[256];
static char *args[64];
static int nargs;
static struct opts o;
static char err[1024];

static int mkdir_all(const char *dir)
{
	char path[256];
	size_t i, len = strlen(dir);

	if (len >= sizeof(path))
		return -1;
	memcpy(path, dir, len + 1);
	for (i = 1; i <= len; i++) {
		if (path[i] != '/' && path[i] != '\0')
			continue;
		path[i] = '\0';
		if (mkdir(path, 0700) == -1 && errno != EEXIST)
			return -1;
		path[i] = i < len ? '/' : '\0';
	}
	return 0;
}

static void free_args(void)
{
	int i;

	for (i = 0; i < nargs; i++)
		free(args[i]);
	nargs = 0;
}

static void clear_env(void)
{
	size_t i;

	for (i = 0; i < OPTS__COUNT; i++) {
		if (defs[i].env)
			unsetenv(defs[i].env);
	}
	unsetenv("SUDO_USER");
	unsetenv("SUDO_UID");
	unsetenv("SUDO_GID");
	unsetenv("CODER_AGENT_URL");
	setenv("HOME", home, 1);
}

/* Writes the default config file ($HOME/.config/coder_boundary/config.yaml). */
static void write_config(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

/* config_load() on "boundary" followed by the NULL-terminated arguments. */
static int load(const char *first, ...)
{
	const char *a;
	va_list ap;

	opts_fini(&o);
	opts_init(&o);
	free_args();
	err[0] = '\0';
	args[nargs++] = strdup("boundary");
	va_start(ap, first);
	for (a = first; a; a = va_arg(ap, const char *))
		args[nargs++] = strdup(a);
	va_end(ap);
	args[nargs] = NULL;
	return config_load(&o, nargs, args, err, sizeof(err));
}

static int group_setup(void **state)
{
	(void)state;
	if (!mkdtemp(home))
		return -1;
	snprintf(cfgdir, sizeof(cfgdir), "%s/.config/coder_boundary", home);
	snprintf(cfgpath, sizeof(cfgpath), "%s/config.yaml", cfgdir);
	if (mkdir_all(cfgdir) != 0)
		return -1;
	return 0;
}

static int group_teardown(void **state)
{
	static const char *const files[] = {".config/coder_boundary/config.yaml", "other.yaml",
					    ".config/coder_boundary", ".config", ""};
	char path[512];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", home, files[i]);
		if (remove(path) == -1 && errno != ENOENT)
			return -1;
	}
	return 0;
}

static int setup(void **state)
{
	(void)state;
	clear_env();
	unlink(cfgpath);
	opts_init(&o);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	opts_fini(&o);
	free_args();
	clear_env();
	unlink(cfgpath);
	return 0;
}

/* --- defaults and precedence ---------------------------------------------------------------- */

static void test_defaults(void **state)
{
	(void)state;
	assert_int_equal(load("--", "true", NULL), 0);
	assert_int_equal(o.action, OPTS_RUN);
	assert_string_equal(o.argv[0], "true");
	assert_int_equal(o.proxy_port, 8080);
	assert_int_equal(o.log_level, LOG_WARN);
	assert_string_equal(o.log_dir, "");
	assert_int_equal(o.jail_type, OPTS_JAIL_NSJAIL);
	assert_false(o.use_real_dns);
	assert_false(o.no_user_namespace);
	assert_false(o.disable_audit_logs);
	assert_false(o.pprof);
	assert_int_equal(o.pprof_port, 6060);
	assert_string_equal(o.log_proxy_socket_path, "/tmp/boundary-audit.sock");
	assert_null(o.config);
	assert_null(o.config_read);
	assert_non_null(o.rules);
	assert_int_equal(rules_count(o.rules), 0);
	assert_int_equal(o.src[OPTS_PROXY_PORT], OPTS_SRC_DEFAULT);
}

static void test_precedence_port(void **state)
{
	(void)state;
	write_config(cfgpath, "proxy_port: 8087\n");
	assert_int_equal(load("--", "true", NULL), 0);
	assert_int_equal(o.proxy_port, 8087);
	assert_int_equal(o.src[OPTS_PROXY_PORT], OPTS_SRC_FILE);
	assert_string_equal(o.config_read, cfgpath);

	setenv("PROXY_PORT", "8090", 1);
	assert_int_equal(load("--", "true", NULL), 0);
	assert_int_equal(o.proxy_port, 8090);
	assert_int_equal(o.src[OPTS_PROXY_PORT], OPTS_SRC_ENV);

	assert_int_equal(load("--proxy-port", "9000", "--", "true", NULL), 0);
	assert_int_equal(o.proxy_port, 9000);
	assert_int_equal(o.src[OPTS_PROXY_PORT], OPTS_SRC_FLAG);

	/* The last flag wins. */
	assert_int_equal(load("--proxy-port", "9000", "--proxy-port=9001", "true", NULL), 0);
	assert_int_equal(o.proxy_port, 9001);
}

static void test_precedence_log_level(void **state)
{
	(void)state;
	write_config(cfgpath, "log_level: error\n");
	assert_int_equal(load("true", NULL), 0);
	assert_int_equal(o.log_level, LOG_ERROR);
	setenv("BOUNDARY_LOG_LEVEL", "INFO", 1);
	assert_int_equal(load("true", NULL), 0);
	assert_int_equal(o.log_level, LOG_INFO);
	assert_int_equal(load("--log-level", "Debug", "true", NULL), 0);
	assert_int_equal(o.log_level, LOG_DEBUG);
}

/* A file value is checked even when a flag overrides it. */
static void test_file_checked_when_overridden(void **state)
{
	(void)state;
	write_config(cfgpath, "proxy_port: abc\n");
	assert_int_equal(load("--proxy-port", "9000", "true", NULL), -EINVAL);
	assert_non_null(strstr(err, "config.yaml:1:13: proxy_port \"abc\": not a port number"));
}

static void test_invalid_log_level_is_error(void **state)
{
	(void)state;
	assert_int_equal(load("--log-level", "verbose", "true", NULL), -EINVAL);
	assert_string_equal(err, "--log-level \"verbose\": not a log level (use error, warn, info "
				 "or debug)");
	setenv("BOUNDARY_LOG_LEVEL", "loud", 1);
	assert_int_equal(load("true", NULL), -EINVAL);
	assert_string_equal(err, "BOUNDARY_LOG_LEVEL \"loud\": not a log level (use error, warn, "
				 "info or debug)");
}

/* --- allow rules ----------------------------------------------------------------------------- */

static void test_allow_merge_order(void **state)
{
	(void)state;
	write_config(cfgpath, "allowlist:\n  - domain=file1.com\n  - domain=file2.com\n");
	assert_int_equal(
	    load("--allow", "domain=flag1.com", "--allow=domain=flag2.com", "--", "true", NULL), 0);
	assert_int_equal(rules_count(o.rules), 4);
	assert_string_equal(rules_raw(o.rules, 0), "domain=file1.com");
	assert_string_equal(rules_raw(o.rules, 1), "domain=file2.com");
	assert_string_equal(rules_raw(o.rules, 2), "domain=flag1.com");
	assert_string_equal(rules_raw(o.rules, 3), "domain=flag2.com");
}

static void test_allow_env(void **state)
{
	(void)state;
	write_config(cfgpath, "allowlist: [domain=file.com]\n");
	/* One rule, commas and all: no splitting. */
	setenv("BOUNDARY_ALLOW", "method=GET,HEAD domain=env.com", 1);
	assert_int_equal(load("true", NULL), 0);
	assert_int_equal(rules_count(o.rules), 2);
	assert_string_equal(rules_raw(o.rules, 0), "domain=file.com");
	assert_string_equal(rules_raw(o.rules, 1), "method=GET,HEAD domain=env.com");

	/* Ignored once any --allow is given. */
	assert_int_equal(load("--allow", "domain=flag.com", "true", NULL), 0);
	assert_int_equal(rules_count(o.rules), 2);
	assert_string_equal(rules_raw(o.rules, 0), "domain=file.com");
	assert_string_equal(rules_raw(o.rules, 1), "domain=flag.com");
}

static void test_bad_rule_flag(void **state)
{
	(void)state;
	assert_int_equal(load("--allow", "domain=github.com:8080", "true", NULL), -EINVAL);
	assert_string_equal(err, "--allow \"domain=github.com:8080\": column 18: a port cannot be "
				 "part of domain (write it as its own key: port=8080)");
	setenv("BOUNDARY_ALLOW", "domain=github.com:8080", 1);
	assert_int_equal(load("true", NULL), -EINVAL);
	assert_non_null(strstr(err, "BOUNDARY_ALLOW \"domain=github.com:8080\": column 18: "));
}

static void test_empty_rule(void **state)
{
	char why[256] = "";
	struct rules *r = rules_new();
	size_t col = 0;
	char want[512];

	(void)state;
	assert_non_null(r);
	assert_true(rules_add(r, "", &col, why, sizeof(why)) < 0);
	rules_free(r);
	snprintf(want, sizeof(want), "--allow \"\": column %zu: %s", col, why);
	assert_int_equal(load("--allow", "", "true", NULL), -EINVAL);
	assert_string_equal(err, want);
}

static void test_inject_targets_checked(void **state)
{
	(void)state;
	assert_int_equal(load("--session-id-inject-target", "domain=a.com", "true", NULL), 0);
	assert_int_equal(o.inject.cli.n, 1);
	assert_int_equal(rules_count(o.rules), 0);
	assert_int_equal(load("--session-id-inject-target", "domain=a.com:1", "true", NULL),
			 -EINVAL);
	assert_non_null(strstr(err, "--session-id-inject-target \"domain=a.com:1\": column 13: "));
}

/*
 * --upstream-proxy, from the file or a flag, made into what the proxy borrows; a bad URL is an
 * error that never quotes it, and its companions need it.
 */
static void test_upstream_proxy(void **state)
{
	(void)state;
	write_config(cfgpath, "upstream_proxy: \"http://u:file-secret@proxy.corp:3128\"\n"
			      "upstream_proxy_bypass: \"*.corp.internal\"\n");
	assert_int_equal(load("true", NULL), 0);
	assert_non_null(o.upchain);
	assert_string_equal(upchain_name(o.upchain), "proxy.corp:3128");
	assert_true(upchain_has_auth(o.upchain));
	assert_true(upchain_bypassed(o.upchain, "git.corp.internal"));
	assert_false(upchain_connect_always(o.upchain));
	assert_int_equal(load("--upstream-proxy", "https://[::1]:8443",
			      "--upstream-proxy-connect-always", "true", NULL),
			 0);
	assert_string_equal(upchain_name(o.upchain), "[::1]:8443");
	assert_true(upchain_tls(o.upchain));
	assert_true(upchain_connect_always(o.upchain));
	unlink(cfgpath);

	assert_int_equal(load("--upstream-proxy", "http://u:flag-secret@proxy", "true", NULL),
			 -EINVAL);
	assert_non_null(strstr(err, "--upstream-proxy: no port"));
	assert_null(strstr(err, "flag-secret"));
	assert_int_equal(load("--upstream-proxy-connect-always", "true", NULL), -EINVAL);
	assert_non_null(strstr(err, "but none is set (--upstream-proxy URL)"));
	assert_int_equal(load("true", NULL), 0);
	assert_null(o.upchain);
}

/* An inject target needs a domain and applies to every method (no method=), flag or file. */
static void test_inject_target_shape(void **state)
{
	(void)state;
	assert_int_equal(
	    load("--session-id-inject-target", "domain=a.com path=/x/* port=8443", "true", NULL),
	    0);
	assert_int_equal(load("--session-id-inject-target", "path=/api/*", "true", NULL), -EINVAL);
	assert_non_null(strstr(err, "--session-id-inject-target \"path=/api/*\": an inject target "
				    "needs a domain"));
	assert_int_equal(
	    load("--session-id-inject-target", "domain=a.com method=POST", "true", NULL), -EINVAL);
	assert_non_null(strstr(err, "\"domain=a.com method=POST\": column 14: an inject target "
				    "applies to every method"));
	/* "domain=" inside a path is no domain key */
	assert_int_equal(load("--session-id-inject-target", "path=/domain=x", "true", NULL),
			 -EINVAL);
	write_config(cfgpath, "session_id_inject_targets:\n  - path=/api/*\n");
	assert_int_equal(load("true", NULL), -EINVAL);
	assert_non_null(strstr(err, "config.yaml:2:5: "));
	assert_non_null(strstr(err, "needs a domain"));
}

/* Which targets --enable-session-correlation compiles: the file's, then the flags'. */
static void test_session_correlation_targets(void **state)
{
	(void)state;
	/* off: targets change nothing, and nothing is compiled */
	assert_int_equal(load("--session-id-inject-target", "domain=a.com", "true", NULL), 0);
	assert_null(o.inject_rules);
	write_config(cfgpath, "session_correlation_enabled: true\n"
			      "session_id_inject_targets: [\"domain=file.com\"]\n");
	setenv("CODER_AGENT_URL", "https://ignored.test", 1); /* targets given: not used */
	assert_int_equal(load("--session-id-inject-target", "domain=a.com", "true", NULL), 0);
	assert_non_null(o.inject_rules);
	assert_int_equal(rules_count(o.inject_rules), 2);
	assert_string_equal(rules_raw(o.inject_rules, 0), "domain=file.com");
	assert_string_equal(rules_raw(o.inject_rules, 1), "domain=a.com");
	/* the allow rules are not touched by targets */
	assert_int_equal(rules_count(o.rules), 0);
	unlink(cfgpath);
	setenv("BOUNDARY_SESSION_CORRELATION_ENABLED", "true", 1);
	setenv("BOUNDARY_SESSION_ID_INJECT_TARGET", "domain=env.com path=/v1/*", 1);
	assert_int_equal(load("true", NULL), 0);
	assert_int_equal(rules_count(o.inject_rules), 1);
	assert_string_equal(rules_raw(o.inject_rules, 0), "domain=env.com path=/v1/*");
}

/* With no targets, CODER_AGENT_URL's host names one, as coder/boundary derives it. */
static void check_agent_url(const char *url, const char *want)
{
	if (url)
		setenv("CODER_AGENT_URL", url, 1);
	else
		unsetenv("CODER_AGENT_URL");
	if (!want) {
		assert_int_equal(load("--enable-session-correlation", "true", NULL), -EINVAL);
		assert_non_null(strstr(err, "session correlation is enabled but no inject targets "
					    "are configured"));
		return;
	}
	if (load("--enable-session-correlation", "true", NULL) != 0)
		fail_msg("CODER_AGENT_URL=%s: %s", url, err);
	assert_int_equal(rules_count(o.inject_rules), 1);
	assert_string_equal(rules_raw(o.inject_rules, 0), want);
}

static void test_session_correlation_default(void **state)
{
	(void)state;
	check_agent_url("https://coder.example.com",
			"domain=coder.example.com path=/api/v2/aibridge/*");
	/* the port, user, path and query are dropped: the target matches any port */
	check_agent_url("http://me:pw@Coder.Example.com:3000/some/path?q=1#f",
			"domain=Coder.Example.com path=/api/v2/aibridge/*");
	check_agent_url("http://127.0.0.1:8080", "domain=127.0.0.1 path=/api/v2/aibridge/*");
	check_agent_url("http://[::1]:3000/", "domain=[::1] path=/api/v2/aibridge/*");
	check_agent_url("//coder.test", "domain=coder.test path=/api/v2/aibridge/*");
	check_agent_url("http://coder.test:/", "domain=coder.test path=/api/v2/aibridge/*");
	/* none, empty, or not a URL with a host: the error, which says what to do */
	check_agent_url(NULL, NULL);
	assert_non_null(strstr(err, "--session-id-inject-target"));
	assert_non_null(strstr(err, "CODER_AGENT_URL"));
	check_agent_url("", NULL);
	check_agent_url("coder.example.com", NULL);
	assert_non_null(
	    strstr(err, "CODER_AGENT_URL \"coder.example.com\" is not a URL with a host"));
	check_agent_url("coder.example.com:443", NULL);
	check_agent_url("http://", NULL);
	check_agent_url("http:///path", NULL);
	check_agent_url("http://coder.test:https/", NULL);
	check_agent_url("http://[::1", NULL);
	check_agent_url("http://coder\ttest/", NULL);
	/* a host our rules cannot name is said so */
	setenv("CODER_AGENT_URL", "http://under_score.test/", 1);
	assert_int_equal(load("--enable-session-correlation", "true", NULL), -EINVAL);
	assert_non_null(
	    strstr(err, "domain=under_score.test path=/api/v2/aibridge/*, is not a rule"));
	unsetenv("CODER_AGENT_URL");
}

/* --- values ---------------------------------------------------------------------------------- */

static void test_parse_bool(void **state)
{
	static const char *const yes[] = {"1", "t", "T", "TRUE", "true", "True"};
	static const char *const no[] = {"0", "f", "F", "FALSE", "false", "False"};
	static const char *const bad[] = {"", "yes", "no", "TRue", "2", "on", "true "};
	size_t i;
	bool b;

	(void)state;
	for (i = 0; i < 6; i++) {
		b = false;
		assert_int_equal(parse_bool(yes[i], &b), 0);
		assert_true(b);
		assert_int_equal(parse_bool(no[i], &b), 0);
		assert_false(b);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(parse_bool(bad[i], &b), -EINVAL);
}

static void test_bool_flags(void **state)
{
	(void)state;
	assert_int_equal(load("--use-real-dns", "true", NULL), 0);
	/* A bare bool flag takes no separate value: "true" is the command. */
	assert_true(o.use_real_dns);
	assert_string_equal(o.argv[0], "true");

	setenv("BOUNDARY_USE_REAL_DNS", "T", 1);
	assert_int_equal(load("--use-real-dns=false", "true", NULL), 0);
	assert_false(o.use_real_dns);
	assert_int_equal(load("true", NULL), 0);
	assert_true(o.use_real_dns);

	assert_int_equal(load("--pprof=maybe", "true", NULL), -EINVAL);
	assert_string_equal(err, "--pprof \"maybe\": not a boolean (use true or false)");
	setenv("DISABLE_AUDIT_LOGS", "yes", 1);
	assert_int_equal(load("true", NULL), -EINVAL);
	assert_string_equal(err, "DISABLE_AUDIT_LOGS \"yes\": not a boolean (use true or false)");
}

static void test_ports(void **state)
{
	static const char *const bad[] = {
	    "0", "65536", "99999", "-1", "+80", "80a", "", " 80", "18446744073709551617"};
	uint16_t p;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(parse_port(bad[i], &p), -EINVAL);
	assert_int_equal(parse_port("1", &p), 0);
	assert_int_equal(p, 1);
	assert_int_equal(parse_port("65535", &p), 0);
	assert_int_equal(p, 65535);
	assert_int_equal(load("--proxy-port", "99999", "true", NULL), -EINVAL);
	assert_string_equal(err, "--proxy-port \"99999\": not a port number (use 1-65535)");
	setenv("PROXY_PORT", "abc", 1);
	assert_int_equal(load("true", NULL), -EINVAL);
	assert_string_equal(err, "PROXY_PORT \"abc\": not a port number (use 1-65535)");
	/* An empty variable reads as unset. */
	setenv("PROXY_PORT", "", 1);
	assert_int_equal(load("true", NULL), 0);
	assert_int_equal(o.proxy_port, 8080);
}

static void test_jail_type(void **state)
{
	(void)state;
	assert_int_equal(load("--jail-type", "bogus", "true", NULL), -EINVAL);
	assert_string_equal(err, "--jail-type: invalid JailType: bogus (use nsjail, landlock (or "
				 "landjail) or weak)");
	/* coder/boundary's name and ours are the same jail. */
	assert_int_equal(load("--jail-type", "landjail", "true", NULL), 0);
	assert_int_equal(o.jail_type, OPTS_JAIL_LANDJAIL);
	assert_int_equal(load("--jail-type", "landlock", "true", NULL), 0);
	assert_int_equal(o.jail_type, OPTS_JAIL_LANDJAIL);
	assert_int_equal(load("--jail-type", "weak", "true", NULL), 0);
	assert_int_equal(o.jail_type, OPTS_JAIL_WEAK);
	/* The flag wins over a file's. */
	write_config(cfgpath, "jail_type: weak\n");
	assert_int_equal(load("--jail-type", "nsjail", "true", NULL), 0);
	assert_int_equal(o.jail_type, OPTS_JAIL_NSJAIL);
	assert_int_equal(load("true", NULL), 0);
	assert_int_equal(o.jail_type, OPTS_JAIL_WEAK);
}

static void test_serve(void **state)
{
	(void)state;
	assert_int_equal(load("serve", NULL), 0);
	assert_int_equal(o.action, OPTS_SERVE);
	assert_string_equal(o.listen, "127.0.0.1:8080");
	assert_null(o.argv);
	/* Flags before and after the subcommand. */
	assert_int_equal(load("--allow", "domain=a.test", "serve", "--listen", "[::1]:0", "--allow",
			      "domain=b.test", NULL),
			 0);
	assert_int_equal(o.action, OPTS_SERVE);
	assert_string_equal(o.listen, "[::1]:0");
	assert_int_equal(o.allow.cli.n, 2);
	assert_int_equal(load("serve", "--", "true", NULL), -EINVAL);
	assert_non_null(strstr(err, "serve runs no command"));
	assert_int_equal(load("--listen", "127.0.0.1:1", "true", NULL), -EINVAL);
	assert_non_null(strstr(err, "--listen is for boundary serve"));
}

static void test_user(void **state)
{
	(void)state;
	assert_int_equal(load("--user", "root", "true", NULL), 0);
	assert_true(o.user.set);
	assert_int_equal(o.user.uid, 0);
	assert_int_equal(o.user.gid, 0);
	assert_string_equal(o.user.spec, "root");
	assert_int_equal(load("--user", "1234:5678", "true", NULL), 0);
	assert_int_equal(o.user.uid, 1234);
	assert_int_equal(o.user.gid, 5678);
	assert_int_equal(load("--user", "root:root", "true", NULL), 0);
	assert_int_equal(o.user.gid, 0);

	assert_int_equal(load("--user", "no-such-user-x", "true", NULL), -EINVAL);
	assert_string_equal(err, "--user \"no-such-user-x\": no such user (check the name, or use "
				 "a uid)");
	assert_int_equal(load("--user", "root:no-such-group-x", "true", NULL), -EINVAL);
	assert_non_null(strstr(err, "no such group"));
	assert_int_equal(load("--user", "root:", "true", NULL), -EINVAL);
	assert_int_equal(load("--user", ":0", "true", NULL), -EINVAL);
	assert_int_equal(load("--user", "4294967295", "true", NULL), -EINVAL);
	assert_int_equal(load("--user", "4000000000", "true", NULL), -EINVAL);
	assert_non_null(strstr(err, "no passwd entry"));

	/* Not under sudo: nobody. */
	assert_int_equal(load("true", NULL), 0);
	assert_false(o.user.set);
}

static void test_user_sudo_default(void **state)
{
	(void)state;
	setenv("SUDO_USER", "nobody", 1);
	setenv("SUDO_UID", "65534", 1);
	setenv("SUDO_GID", "65533", 1);
	assert_int_equal(load("true", NULL), 0);
	if (geteuid() != 0) {
		assert_false(o.user.set);
		return;
	}
	assert_true(o.user.set);
	assert_int_equal(o.user.uid, 65534);
	assert_int_equal(o.user.gid, 65533);
	/* --user wins. */
	assert_int_equal(load("--user", "0:0", "true", NULL), 0);
	assert_int_equal(o.user.uid, 0);
	/* sudo to root is not "under sudo". */
	setenv("SUDO_USER", "root", 1);
	assert_int_equal(load("true", NULL), 0);
	assert_false(o.user.set);
	setenv("SUDO_USER", "nobody", 1);
	setenv("SUDO_UID", "x", 1);
	assert_int_equal(load("true", NULL), -EINVAL);
}

/* --- the config file's location ------------------------------------------------------------- */

static void test_missing_explicit_config(void **state)
{
	char path[512];

	(void)state;
	snprintf(path, sizeof(path), "%s/none.yaml", home);
	assert_int_equal(load("--config", path, "true", NULL), -ENOENT);
	assert_non_null(strstr(err, "--config \""));
	assert_non_null(strstr(err, "none.yaml\": no such file"));
	setenv("BOUNDARY_CONFIG", path, 1);
	assert_int_equal(load("true", NULL), -ENOENT);
	assert_non_null(strstr(err, "BOUNDARY_CONFIG \""));
	/* A missing default file is fine. */
	unsetenv("BOUNDARY_CONFIG");
	assert_int_equal(load("true", NULL), 0);
	assert_null(o.config_read);
}

static void test_explicit_config_replaces_default(void **state)
{
	char path[512];

	(void)state;
	snprintf(path, sizeof(path), "%s/other.yaml", home);
	write_config(cfgpath, "proxy_port: 1111\n");
	write_config(path, "proxy_port: 2222\n");
	assert_int_equal(load("--config", path, "true", NULL), 0);
	assert_int_equal(o.proxy_port, 2222);
	assert_string_equal(o.config_read, path);
	setenv("BOUNDARY_CONFIG", path, 1);
	assert_int_equal(load("true", NULL), 0);
	assert_int_equal(o.proxy_port, 2222);
	/* The flag names the file over the environment; "" reads none at all. */
	assert_int_equal(load("--config", cfgpath, "true", NULL), 0);
	assert_int_equal(o.proxy_port, 1111);
	assert_int_equal(load("--config", "", "true", NULL), 0);
	assert_int_equal(o.proxy_port, 8080);
	assert_null(o.config_read);
}

static void test_default_path(void **state)
{
	const struct passwd *pw;
	char path[512], want[512];

	(void)state;
	assert_int_equal(config_default_path(path, sizeof(path)), 0);
	assert_string_equal(path, cfgpath);
	setenv("SUDO_USER", "root", 1);
	assert_int_equal(config_default_path(path, sizeof(path)), 0);
	assert_string_equal(path, cfgpath);
	setenv("SUDO_USER", "daemon", 1);
	pw = getpwnam("daemon");
	assert_int_equal(config_default_path(path, sizeof(path)), 0);
	if (geteuid() == 0 && pw) {
		snprintf(want, sizeof(want), "%s/.config/coder_boundary/config.yaml", pw->pw_dir);
		assert_string_equal(path, want);
	} else {
		assert_string_equal(path, cfgpath);
	}
	assert_int_equal(config_default_path(path, 10), -ENAMETOOLONG);
}

/* --- the command line itself ----------------------------------------------------------------- */

static void test_test_forms(void **state)
{
	(void)state;
	assert_int_equal(load("--test", "https://a.com/x", "--test", "POST", "https://b.com/y",
			      "--test", "PUT https://c.com/z", "--test=DELETE", "https://d.com",
			      "--test", "GET", "--test", "get", "https://e.com", NULL),
			 -EINVAL);
	/* "get" is not a METHOD, so it is the URL, and https://e.com a command. */
	assert_string_equal(err, "--test runs no command (drop \"https://e.com\", or the --test "
				 "flags to run it)");

	assert_int_equal(load("--test", "https://a.com/x", "--test", "POST", "https://b.com/y",
			      "--test", "PUT https://c.com/z", "--test=DELETE", "https://d.com",
			      "--test", "GET", "--test", "M-S_X", "--allow", "domain=a.com", NULL),
			 0);
	assert_int_equal(o.action, OPTS_TEST_URLS);
	assert_int_equal(o.n_tests, 6);
	assert_string_equal(o.tests[0].method, "GET");
	assert_string_equal(o.tests[0].url, "https://a.com/x");
	assert_string_equal(o.tests[1].method, "POST");
	assert_string_equal(o.tests[1].url, "https://b.com/y");
	assert_string_equal(o.tests[2].method, "PUT");
	assert_string_equal(o.tests[2].url, "https://c.com/z");
	assert_string_equal(o.tests[3].method, "DELETE");
	assert_string_equal(o.tests[3].url, "https://d.com");
	/* Nothing follows, so "GET" is the URL. */
	assert_string_equal(o.tests[4].method, "GET");
	assert_string_equal(o.tests[4].url, "GET");
	/* A flag follows: not a URL. */
	assert_string_equal(o.tests[5].url, "M-S_X");
	assert_int_equal(rules_count(o.rules), 1);

	assert_int_equal(load("--test", "https://a.com", "--", "true", NULL), -EINVAL);
	assert_non_null(strstr(err, "--test runs no command"));
}

static void test_generate_config_word(void **state)
{
	(void)state;
	assert_int_equal(load("generate-config", NULL), 0);
	assert_int_equal(o.action, OPTS_GENERATE_CONFIG);
	assert_int_equal(load("--log-level", "info", "generate-config", NULL), 0);
	assert_int_equal(o.action, OPTS_GENERATE_CONFIG);
	assert_int_equal(load("--", "generate-config", NULL), 0);
	assert_int_equal(o.action, OPTS_RUN);
	assert_string_equal(o.argv[0], "generate-config");
	assert_int_equal(load("true", "generate-config", NULL), 0);
	assert_int_equal(o.action, OPTS_RUN);
	assert_string_equal(o.argv[1], "generate-config");
	assert_int_equal(load("generate-config", "x", NULL), -EINVAL);
	/* A broken config file does not stop generate-config. */
	write_config(cfgpath, "bogus: 1\n");
	assert_int_equal(load("generate-config", NULL), 0);
}

static void test_log_summary_word(void **state)
{
	(void)state;
	assert_int_equal(load("log", "summary", "a.jsonl", NULL), 0);
	assert_int_equal(o.action, OPTS_LOG_SUMMARY);
	assert_int_equal(o.n_log_files, 1);
	assert_string_equal(o.log_files[0], "a.jsonl");
	assert_null(o.log_files[1]);
	assert_int_equal(o.log_format, OPTS_LOG_TABLE);
	/* Flags before, between and after the files; "-" is a file, "--" ends the flags. */
	assert_int_equal(load("--log-level", "info", "log", "summary", "a", "--format", "json", "-",
			      "--format=table", "--", "--format", NULL),
			 0);
	assert_int_equal(o.action, OPTS_LOG_SUMMARY);
	assert_int_equal(o.log_format, OPTS_LOG_TABLE);
	assert_int_equal(o.n_log_files, 3);
	assert_string_equal(o.log_files[0], "a");
	assert_string_equal(o.log_files[1], "-");
	assert_string_equal(o.log_files[2], "--format");
	assert_int_equal(load("log", "summary", "--format=json", "a", NULL), 0);
	assert_int_equal(o.log_format, OPTS_LOG_JSON);
	/* A broken config file does not stop it: it reads none. */
	write_config(cfgpath, "bogus: 1\n");
	assert_int_equal(load("log", "summary", "a", NULL), 0);
	unlink(cfgpath);
	/* After --, log is a command. */
	assert_int_equal(load("--", "log", "summary", "a", NULL), 0);
	assert_int_equal(o.action, OPTS_RUN);
	assert_int_equal(load("log", "summary", "-h", NULL), 0);
	assert_int_equal(o.action, OPTS_HELP_SHOW);

	assert_int_equal(load("log", NULL), -EINVAL);
	assert_string_equal(err, "log needs a subcommand (usage: boundary log summary "
				 "[--format table|json|markdown] FILE...)");
	assert_int_equal(load("log", "sumary", "a", NULL), -EINVAL);
	assert_string_equal(err, "unknown log subcommand \"sumary\" (did you mean summary?)");
	assert_int_equal(load("log", "tail", NULL), -EINVAL);
	assert_string_equal(err, "unknown log subcommand \"tail\" (the one there is: boundary log "
				 "summary [--format table|json|markdown] FILE...)");
	assert_int_equal(load("log", "summary", NULL), -EINVAL);
	assert_non_null(strstr(err, "log summary needs an audit log to read"));
	assert_int_equal(load("log", "summary", "--format", "json", NULL), -EINVAL);
	assert_non_null(strstr(err, "log summary needs an audit log to read"));
	assert_int_equal(load("log", "summary", "a", "--format", NULL), -EINVAL);
	assert_string_equal(err,
			    "log summary: --format needs a value (--format table|json|markdown)");
	assert_int_equal(load("log", "summary", "--format", "yaml", "a", NULL), -EINVAL);
	assert_string_equal(err, "log summary: --format \"yaml\": use table, json or markdown");
	assert_int_equal(load("log", "summary", "--format", "markdown", "a", NULL), 0);
	assert_int_equal(o.log_format, OPTS_LOG_MARKDOWN);
	assert_int_equal(load("log", "summary", "--json", "a", NULL), -EINVAL);
	assert_string_equal(err,
			    "log summary: unknown flag --json (see boundary log summary --help)");
}

static void test_command_forms(void **state)
{
	(void)state;
	assert_int_equal(load("--allow", "domain=a.com", "sh", "-c", "exit 3", NULL), 0);
	assert_int_equal(o.action, OPTS_RUN);
	assert_string_equal(o.argv[0], "sh");
	assert_string_equal(o.argv[1], "-c");
	assert_null(o.argv[3]);
	/* Parsing stops at the command: its own flags are its own. */
	assert_int_equal(load("ls", "--allow", "x", NULL), 0);
	assert_int_equal(rules_count(o.rules), 0);
	assert_int_equal(load(NULL), 0);
	assert_null(o.argv);
	assert_int_equal(load("--", NULL), 0);
	assert_null(o.argv);
}

static void test_flag_errors(void **state)
{
	(void)state;
	assert_int_equal(load("--alow", "x", "true", NULL), -EINVAL);
	assert_string_equal(err, "unknown flag --alow (did you mean --allow?)");
	assert_int_equal(load("--alow=x", "true", NULL), -EINVAL);
	assert_string_equal(err, "unknown flag --alow (did you mean --allow?)");
	/* getopt_long's prefixes are not flags here. */
	assert_int_equal(load("--allo", "x", "true", NULL), -EINVAL);
	assert_string_equal(err, "unknown flag --allo (did you mean --allow?)");
	assert_int_equal(load("-allow", "x", "true", NULL), -EINVAL);
	assert_string_equal(err, "unknown flag -allow (did you mean --allow?)");
	assert_int_equal(load("--proxyport", "1", "true", NULL), -EINVAL);
	assert_string_equal(err, "unknown flag --proxyport (did you mean --proxy-port?)");
	assert_int_equal(load("--frobnicate", "true", NULL), -EINVAL);
	assert_string_equal(err, "unknown flag --frobnicate (see boundary --help)");
	assert_int_equal(load("-x", "true", NULL), -EINVAL);
	assert_string_equal(err, "unknown flag -x (see boundary --help)");
	assert_int_equal(load("--proxy-port", NULL), -EINVAL);
	assert_string_equal(err, "--proxy-port needs a value (--proxy-port PORT)");
	assert_int_equal(load("--version=2", NULL), -EINVAL);
	assert_string_equal(err, "--version takes no value");
}

static void test_version_and_help_stop(void **state)
{
	(void)state;
	assert_int_equal(load("--version", "--bogus", NULL), 0);
	assert_int_equal(o.action, OPTS_VERSION_SHOW);
	assert_int_equal(load("--bogus", "--version", NULL), -EINVAL);
	assert_int_equal(load("-h", NULL), 0);
	assert_int_equal(o.action, OPTS_HELP_SHOW);
	assert_int_equal(load("--allow", "domain=a.com", "--help", "--proxy-port", "0", NULL), 0);
	assert_int_equal(o.action, OPTS_HELP_SHOW);
	/* Neither reads the environment or the file. */
	setenv("PROXY_PORT", "abc", 1);
	assert_int_equal(load("--version", NULL), 0);
}

static void test_usage(void **state)
{
	char *buf = NULL, *line, *save = NULL;
	size_t len = 0;
	int lines = 0;
	FILE *f;

	(void)state;
	f = open_memstream(&buf, &len);
	assert_non_null(f);
	cli_usage(f, OPTS_CMD_RUN);
	assert_int_equal(fclose(f), 0);
	assert_non_null(
	    strstr(buf, "sudo boundary --allow \"domain=api.anthropic.com\" -- claude"));
	assert_non_null(strstr(buf, "--test https://api.github.com/repos"));
	assert_non_null(strstr(buf, "generate-config"));
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		assert_true(strlen(line) <= 80);
		lines++;
	}
	/* One screen: the brief flags and examples, then the others' names ("Also:"). */
	assert_true(lines <= 32);
	free(buf);
}

static void test_suggest(void **state)
{
	(void)state;
	assert_int_equal(opts_distance("allowlst", "allowlist"), 1);
	assert_int_equal(opts_distance("", "abc"), 3);
	assert_int_equal(opts_distance("proxy-port", "proxy_port"), 0);
	assert_string_equal(opts_suggest_yaml("allowlst"), "allowlist");
	assert_string_equal(opts_suggest_yaml("allow"), "allowlist");
	assert_string_equal(opts_suggest_yaml("proxy-port"), "proxy_port");
	assert_string_equal(opts_suggest_yaml("pprof"), "pprof_enabled");
	assert_null(opts_suggest_yaml("zzzzzzz"));
	assert_null(opts_suggest_yaml("x"));
	assert_string_equal(opts_suggest_flag("log-lvel", OPTS_IN_ALL), "log-level");
	assert_null(opts_suggest_flag("p", OPTS_IN_ALL));
}

static void test_quote(void **state)
{
	char buf[16], big[32];

	(void)state;
	assert_string_equal(opts_quote("a\"b\\c\n\x01", big, sizeof(big)),
			    "\"a\\\"b\\\\c\\n\\x01\"");
	assert_string_equal(opts_quote("abcdefghijklmnopqrstuvwxyz", buf, sizeof(buf)),
			    "\"abcdefghij...\"");
	assert_int_equal(strlen(buf), sizeof(buf) - 1);
	assert_string_equal(opts_quote("", buf, sizeof(buf)), "\"\"");
}

/* Every default in the table goes through the same checks as user input. */
static void test_port_forward(void **state)
{
	(void)state;
	assert_int_equal(
	    load("--port-forward", "8080:3000,9000", "--port-forward=7000:80", "--", "true", NULL),
	    0);
	assert_int_equal(o.forwards.n, 3);
	assert_int_equal(o.forwards.v[0].host, 8080);
	assert_int_equal(o.forwards.v[0].jail, 3000);
	assert_int_equal(o.forwards.v[1].host, 9000);
	assert_int_equal(o.forwards.v[1].jail, 9000);
	assert_int_equal(o.forwards.v[2].host, 7000);
	assert_int_equal(o.forwards.v[2].jail, 80);

	/* The file's list gives way to the environment's, as any key does to its variable. */
	write_config(cfgpath, "port_forward: \"1111:1\"\n");
	assert_int_equal(load("true", NULL), 0);
	assert_int_equal(o.forwards.n, 1);
	assert_int_equal(o.forwards.v[0].host, 1111);
	setenv("BOUNDARY_PORT_FORWARD", "2222:2,3333:3", 1);
	assert_int_equal(load("true", NULL), 0);
	assert_int_equal(o.forwards.n, 2);
	assert_int_equal(o.forwards.v[0].host, 2222);
	assert_int_equal(o.forwards.v[1].jail, 3);
	unsetenv("BOUNDARY_PORT_FORWARD");

	assert_int_equal(load("--port-forward", "8080:0", "true", NULL), -EINVAL);
	assert_non_null(
	    strstr(err, "--port-forward \"8080:0\": not a port forward (use HOST:JAIL"));
	assert_int_equal(load("--port-forward", "8080:1,", "true", NULL), -EINVAL);
	assert_int_equal(load("--port-forward", ",1", "true", NULL), -EINVAL);
	assert_int_equal(load("--port-forward", "a:1", "true", NULL), -EINVAL);
	assert_int_equal(load("--port-forward", "1:2:3", "true", NULL), -EINVAL);
	assert_int_equal(load("--port-forward", "80:1", "--port-forward", "80:2", "true", NULL),
			 -EINVAL);
	assert_non_null(strstr(err, "host port 80 is forwarded twice"));
	write_config(cfgpath, "port_forward: \"1:\"\n");
	assert_int_equal(load("true", NULL), -EINVAL);
	assert_non_null(strstr(err, "config.yaml:1:15: port_forward \"1:\": not a port forward"));
}

static void test_reload_rules(void **state)
{
	struct rules *r = NULL;
	char path[600];
	size_t n_file = 99;

	(void)state;
	write_config(cfgpath, "allowlist: [domain=file1.com]\n");
	assert_int_equal(load("--allow", "domain=flag.com", "true", NULL), 0);
	assert_int_equal(rules_count(o.rules), 2);
	assert_string_equal(config_path(&o, path, sizeof(path)), cfgpath);

	/* The file's rules are read afresh; the flag's stay, after them. */
	write_config(cfgpath, "allowlist:\n  - domain=new1.com\n  - domain=new2.com\n");
	assert_int_equal(config_reload_rules(&o, cfgpath, false, &r, &n_file, err, sizeof(err)), 0);
	assert_int_equal(n_file, 2);
	assert_int_equal(rules_count(r), 3);
	assert_string_equal(rules_raw(r, 0), "domain=new1.com");
	assert_string_equal(rules_raw(r, 2), "domain=flag.com");
	rules_free(r);
	r = NULL;

	/* A bad file: an error with file:line:column, and nothing handed back. */
	write_config(cfgpath, "allowlist:\n  - domain=ok.com\n  - \"domain=x.com:80\"\n");
	assert_int_equal(config_reload_rules(&o, cfgpath, false, &r, &n_file, err, sizeof(err)),
			 -EINVAL);
	assert_null(r);
	assert_non_null(strstr(err, "config.yaml:3:5: rule"));
	write_config(cfgpath, "allowlist: [domain=ok.com]\nproxy_port: nope\n");
	assert_int_equal(config_reload_rules(&o, cfgpath, false, &r, &n_file, err, sizeof(err)),
			 -EINVAL);
	assert_null(r);

	/* The default file gone: no file rules. A named file gone: an error. */
	unlink(cfgpath);
	assert_int_equal(config_reload_rules(&o, cfgpath, false, &r, &n_file, err, sizeof(err)), 0);
	assert_int_equal(n_file, 0);
	assert_int_equal(rules_count(r), 1);
	rules_free(r);
	r = NULL;
	assert_int_equal(config_reload_rules(&o, cfgpath, true, &r, &n_file, err, sizeof(err)),
			 -ENOENT);
	assert_null(r);
	assert_non_null(strstr(err, "is gone (the rules stay as they were)"));

	/* --config "" reads no file, so there is nothing to reload from. */
	assert_int_equal(load("--config", "", "true", NULL), 0);
	assert_null(config_path(&o, path, sizeof(path)));
}

static void test_table(void **state)
{
	size_t i, n;
	const struct opts_def *d = opts_defs(&n);

	(void)state;
	assert_int_equal(n, OPTS__COUNT);
	for (i = 0; i < n; i++) {
		assert_int_equal(d[i].id, i);
		assert_non_null(d[i].flag);
		assert_non_null(d[i].help);
		if (d[i].brief)
			assert_true(strlen(d[i].help) <= 56);
		if (d[i].yaml)
			assert_ptr_equal(opts_def_by_yaml(d[i].yaml), &d[i]);
	}
	assert_null(opts_def_by_yaml("config"));
}

static void test_rootfs_options(void **state)
{
	char src[64], dst[64];
	bool ro;

	(void)state;
	assert_int_equal(opts_bind_split("/a:/b", src, sizeof(src), dst, sizeof(dst), &ro), 0);
	assert_string_equal(src, "/a");
	assert_string_equal(dst, "/b");
	assert_false(ro);
	assert_int_equal(opts_bind_split("/a/x:/b/y:ro", src, sizeof(src), dst, sizeof(dst), &ro),
			 0);
	assert_string_equal(dst, "/b/y");
	assert_true(ro);
	assert_int_equal(opts_bind_split("/a:/b:rw", src, sizeof(src), dst, sizeof(dst), &ro), 0);
	assert_false(ro);
	assert_int_equal(opts_bind_split("/a", src, sizeof(src), dst, sizeof(dst), &ro), -EINVAL);
	assert_int_equal(opts_bind_split("a:/b", src, sizeof(src), dst, sizeof(dst), &ro), -EINVAL);
	assert_int_equal(opts_bind_split("/a:b", src, sizeof(src), dst, sizeof(dst), &ro), -EINVAL);
	assert_int_equal(opts_bind_split("/a:/b:rx", src, sizeof(src), dst, sizeof(dst), &ro),
			 -EINVAL);
	assert_int_equal(opts_bind_split("/a:/b/../c", src, sizeof(src), dst, sizeof(dst), &ro),
			 -EINVAL);
	assert_int_equal(opts_bind_split("/a:/..", src, sizeof(src), dst, sizeof(dst), &ro),
			 -EINVAL);
	assert_int_equal(opts_bind_split("/a:/b/..c", src, sizeof(src), dst, sizeof(dst), &ro), 0);

	assert_int_equal(
	    load("--rootfs", "/r", "--bind", "/a:/b", "--bind", "/c:/d:ro", "true", NULL), 0);
	assert_string_equal(o.rootfs, "/r");
	assert_int_equal(o.binds.cli.n, 2);
	assert_string_equal(o.binds.cli.v[1], "/c:/d:ro");
	assert_int_equal(load("--bind", "/a:/b", "true", NULL), -EINVAL);
	assert_non_null(strstr(err, "--bind applies to a root of the command's own"));
	assert_int_equal(load("--rootfs-upper", "/u", "true", NULL), -EINVAL);
	assert_non_null(strstr(err, "--rootfs-upper applies"));
	assert_int_equal(load("--rootfs", "/r", "--image", "/i", "true", NULL), -EINVAL);
	assert_non_null(strstr(err, "choose one"));
	assert_int_equal(load("--rootfs", "/r", "--jail-type", "landlock", "true", NULL), -EINVAL);
	assert_non_null(strstr(err, "--rootfs needs boundary's own jail"));
	assert_int_equal(load("--rootfs", "/r", "--bind", "/a", "true", NULL), -EINVAL);
	assert_non_null(strstr(err, "--bind \"/a\": not SRC:DST[:ro]"));
	write_config(cfgpath, "image: \"/i\"\nbind:\n  - \"/a:/b:ro\"\n");
	assert_int_equal(load("true", NULL), 0);
	assert_string_equal(o.image, "/i");
	assert_int_equal(o.binds.file.n, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	    T(test_defaults),
	    T(test_precedence_port),
	    T(test_precedence_log_level),
	    T(test_file_checked_when_overridden),
	    T(test_invalid_log_level_is_error),
	    T(test_allow_merge_order),
	    T(test_allow_env),
	    T(test_bad_rule_flag),
	    T(test_empty_rule),
	    T(test_inject_targets_checked),
	    T(test_upstream_proxy),
	    T(test_inject_target_shape),
	    T(test_session_correlation_targets),
	    T(test_session_correlation_default),
	    T(test_parse_bool),
	    T(test_bool_flags),
	    T(test_ports),
	    T(test_jail_type),
	    T(test_serve),
	    T(test_user),
	    T(test_user_sudo_default),
	    T(test_missing_explicit_config),
	    T(test_explicit_config_replaces_default),
	    T(test_default_path),
	    T(test_test_forms),
	    T(test_generate_config_word),
	    T(test_log_summary_word),
	    T(test_command_forms),
	    T(test_flag_errors),
	    T(test_version_and_help_stop),
	    T(test_usage),
	    T(test_suggest),
	    T(test_quote),
	    T(test_port_forward),
	    T(test_reload_rules),
	    T(test_table),
	    T(test_rootfs_options),
#undef T
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
