// SPDX-License-Identifier: MIT
/*
 * main.c: boundary's entry point. Reads the options (config_load), sets the log level, then runs
 * the one function its action table names for what they ask: print the version, a help or a
 * config template; decide --test URLs against the rules; summarise audit logs (log summary);
 * print harden-runner's allowed-endpoints as rules (rules from-endpoints);
 * jail a cgroup that already exists until stopped (attach: jail_attach); serve the proxy alone;
 * print a shell's completion script (completion);
 * or hand the command to the jail (jail_run) and exit with its status. It owns the exit status
 * convention (the command's own, 128+N for signal N, 125 for boundary's own failures, 126/127
 * for a command that cannot be run or found) and the log file under --log-dir. It never runs
 * a command itself: only the jail does, so nothing can run unjailed.
 */
#include <arpa/inet.h>
#include <assert.h>
#include <stdbool.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "proxy/auditsink.h"
#include "proxy/jseval.h"
#include "proxy/log.h"
#include "proxy/policy.h"
#include "user/approve.h"
#include "rules/rules.h"
#include "user/cli.h"
#include "user/config.h"
#include "user/doctor.h"
#include "user/endpoints.h"
#include "user/explicit.h"
#include "user/fsview.h"
#include "user/jail.h"
#include "user/node.h"
#include "user/opts.h"
#include "user/privs.h"
#include "user/secrets.h"
#include "user/summary.h"

/* mkdir -p with mode for each directory made. Returns 0 or -errno. */
static int mkdir_p(const char *dir, mode_t mode)
{
	char path[4096];
	size_t len = strlen(dir), i;

	if (len == 0 || len >= sizeof(path))
		return -ENAMETOOLONG;
	memcpy(path, dir, len + 1);
	for (i = 1; i <= len; i++) {
		if (path[i] != '/' && path[i] != '\0')
			continue;
		path[i] = '\0';
		if (mkdir(path, mode) == -1 && errno != EEXIST)
			return -errno;
		if (i < len)
			path[i] = '/';
	}
	return 0;
}

/* Sends the log to <dir>/boundary-YYYY-MM-DD_HH-MM-SS-<pid>.log, as coder/boundary names it. */
static int open_log_dir(const char *dir)
{
	char path[4096];
	time_t now = time(NULL);
	struct tm tm;
	int ret, n;

	ret = mkdir_p(dir, 0700);
	if (ret) {
		errno = -ret;
		log_error_errno("--log-dir \"%s\": cannot create the directory", dir);
		return ret;
	}
	localtime_r(&now, &tm);
	n = snprintf(path, sizeof(path), "%s/boundary-%04d-%02d-%02d_%02d-%02d-%02d-%ld.log", dir,
		     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		     (long)getpid());
	if (n < 0 || (size_t)n >= sizeof(path)) {
		log_error("--log-dir \"%s\": the path is too long", dir);
		return -ENAMETOOLONG;
	}
	ret = log_open(path);
	if (ret) {
		errno = -ret;
		log_error_errno("--log-dir: cannot open %s", path);
	}
	return ret;
}

/* Whether --audit-log names a pipeline rather than a file (a bad one is setup's to report). */
static bool is_audit_sink(const char *v)
{
	struct auditsink_spec spec;
	char err[8];

	return auditsink_parse(v, &spec, err, sizeof(err)) == 1;
}

/* Options accepted that do nothing here, said at info level. */
static void compat_notes(const struct opts *o)
{
	if (o->pprof || o->src[OPTS_PPROF_PORT] >= OPTS_SRC_ENV)
		log_info("--pprof and --pprof-port change nothing here: boundary has no Go "
			 "profiler");
	if (!o->session_correlation && (o->inject.file.n || o->inject.cli.n))
		log_info("--session-id-inject-target changes nothing without "
			 "--enable-session-correlation");
}

/* --ip ADDR for --test: false if ADDR is not an address. */
static bool test_addr(const char *s, struct rules_addr *a)
{
	struct sockaddr_in6 s6 = {.sin6_family = AF_INET6};
	struct sockaddr_in s4 = {.sin_family = AF_INET};

	if (inet_pton(AF_INET, s, &s4.sin_addr) == 1)
		return rules_addr_set(a, &s4) == 0;
	if (inet_pton(AF_INET6, s, &s6.sin6_addr) == 1)
		return rules_addr_set(a, &s6) == 0;
	return false;
}

/*
 * --test with an engine (--js, --js-file, --sh, --rules-program): what no rule allowed and no
 * deny rule refused goes to it, as in a jail. Returns true when it allowed; j->message says why
 * not.
 */
static bool test_engine(struct policy *p, const char *method, const char *url,
			const struct rules_request *req, const char *exe, struct policy_job *j)
{
	size_t i;

	memset(j, 0, sizeof(*j));
	snprintf(j->method, sizeof(j->method), "%s", method);
	snprintf(j->scheme, sizeof(j->scheme), "%s",
		 strncasecmp(url, "https://", 8) == 0 ? "https" : "http");
	snprintf(j->host, sizeof(j->host), "%.*s", (int)req->host_len, req->host);
	for (i = 0; j->host[i]; i++)
		if (j->host[i] >= 'A' && j->host[i] <= 'Z')
			j->host[i] = (char)(j->host[i] + 32);
	j->port = req->port;
	snprintf(j->path, sizeof(j->path), "%.*s", (int)req->path_len, req->path);
	snprintf(j->url, sizeof(j->url), "%s", url);
	snprintf(j->requester_ip, sizeof(j->requester_ip), "127.0.0.1");
	snprintf(j->exe, sizeof(j->exe), "%s", exe ? exe : "");
	policy_ask_wait(p, j);
	return j->allow;
}

/*
 * --test: one ALLOW/DENY line per URL on stdout, naming the rule that decided (an allow rule, a
 * deny rule, or the engine). Returns 0 if all were allowed, else 1.
 */
static int run_tests(const struct opts *o)
{
	struct rules_decision d;
	struct rules_request req;
	struct rules_addr addr;
	bool has_addr = o->test_ip && o->test_ip[0];
	struct stat st = {0};
	struct policy *engine = NULL;
	struct policy_job job;
	char err[1024];
	int status = 0;
	char *path;
	size_t i;

	if (o->js[0] || o->js_file[0] || o->sh[0] || o->rules_program[0]) {
		engine = jail_policy_new(o, err, sizeof(err));
		if (!engine) {
			log_error("%s", err);
			return LOG_EXIT_FAILURE;
		}
	}

	if (has_addr && !test_addr(o->test_ip, &addr)) {
		log_error("--ip \"%s\": not an IPv4 or IPv6 address (write it like 10.0.0.7 or "
			  "fd00::7)",
			  o->test_ip);
		return LOG_EXIT_FAILURE;
	}
	/* --exe: the file as exe= rules were bound to it (stat(), symlinks followed). */
	if (o->test_exe && stat(o->test_exe, &st) == -1) {
		log_error("--exe %s: %s (give the full path of a program, as `command -v NAME` "
			  "prints it)",
			  o->test_exe, strerror(errno));
		return LOG_EXIT_FAILURE;
	}
	for (i = 0; i < o->n_tests; i++) {
		const struct opts_test *t = &o->tests[i];

		if (rules_url_split(t->url, &req) != 0) {
			printf("DENY %s %s\n", t->method, t->url);
			log_error("--test \"%s\": not a URL with a host (write it like "
				  "https://example.com/path)",
				  t->url);
			status = 1;
			continue;
		}
		path = malloc(req.path_len + 1);
		if (!path)
			fatal("out of memory");
		memcpy(path, req.path, req.path_len);
		path[req.path_len] = '\0';
		req.method = t->method;
		req.method_len = strlen(t->method);
		req.path = path;
		req.path_len = rules_path_normalize(path, req.path_len);
		if (has_addr)
			req.addr = &addr;
		req.has_exe = o->test_exe != NULL;
		req.exe_dev = (uint64_t)st.st_dev;
		req.exe_ino = (uint64_t)st.st_ino;
		/* TCP: a connection that is not HTTP; CONNECT: a tunnel, judged on host and port. */
		if (strcmp(t->method, "TCP") == 0)
			rules_match_host_req(o->rules, &req, RULES_STREAM, &d);
		else if (strcmp(t->method, "CONNECT") == 0)
			rules_match_host_req(o->rules, &req, RULES_ANY, &d);
		else
			rules_match(o->rules, &req, &d);
		if (d.allow && d.max_body) {
			/* the limit in bytes: K, M and G are 1024-based, which a reader may not know */
			printf("ALLOW %s %s (rule: %s; body at most %llu bytes)\n", t->method,
			       t->url, d.raw, (unsigned long long)d.max_body);
		} else if (d.allow) {
			printf("ALLOW %s %s (rule: %s)\n", t->method, t->url, d.raw);
		} else if (d.deny_rule) {
			printf("DENY %s %s (deny rule: %s)\n", t->method, t->url, d.raw);
			status = 1;
		} else if (engine && strcmp(t->method, "TCP") != 0) {
			if (test_engine(engine, t->method, t->url, &req, o->test_exe, &job)) {
				if (job.max_tx_bytes)
					printf("ALLOW %s %s (%s; body at most %llu bytes)\n",
					       t->method, t->url, policy_engine(engine),
					       (unsigned long long)job.max_tx_bytes);
				else
					printf("ALLOW %s %s (%s)\n", t->method, t->url,
					       policy_engine(engine));
			} else {
				if (job.message[0])
					printf("DENY %s %s (%s: %s)\n", t->method, t->url,
					       policy_engine(engine), job.message);
				else
					printf("DENY %s %s (%s)\n", t->method, t->url,
					       policy_engine(engine));
				status = 1;
			}
		} else {
			printf("DENY %s %s\n", t->method, t->url);
			if (d.near)
				log_info("%s %s denied: %s (the rule \"%s\" matches all but "
					 "the address: add an ip= that covers it to allow it)",
					 t->method, t->url, d.reason, d.near);
			else
				log_info("%s %s denied: %s", t->method, t->url, d.reason);
			status = 1;
		}
		free(path);
	}
	policy_free(engine);
	if (fflush(stdout) == EOF)
		status = LOG_EXIT_FAILURE;
	return status;
}

/* boundary cleanup: reap what killed boundaries left behind; live jails are left alone. */
static int cleanup(const struct opts *o)
{
	char err[512];
	int n;

	(void)o;
	if (privs_caps_check(err, sizeof(err)) < 0) {
		log_error("cleanup: %s", err);
		return LOG_EXIT_FAILURE;
	}
	privs_raise();
	n = jail_reap_stale(true);
	privs_lower();
	if (n < 0) {
		log_error("cleanup failed: %s", strerror(-n));
		return LOG_EXIT_FAILURE;
	}
	printf("%s\n", n ? "removed what stale jails left behind" : "nothing to clean up");
	return 0;
}

/* The longest allowed-endpoints list read from standard input. */
#define ENDPOINTS_STDIN_MAX (1024 * 1024)

/*
 * boundary rules from-endpoints: each list (or standard input for "-") converted whole before
 * anything is printed, so a list with a bad entry prints no rules at all: a CI step that pipes
 * them into a policy fails instead of running with half of them.
 */
static int rules_from_endpoints(const struct opts *o)
{
	char rule[ENDPOINTS_RULE_MAX], err[1024], *in = NULL, *out = NULL;
	size_t i, pos, len = 0, out_len = 0;
	int status = LOG_EXIT_FAILURE, ret;
	const char *list;
	FILE *mem;

	mem = open_memstream(&out, &out_len);
	if (!mem)
		fatal("out of memory");
	for (i = 0; i < o->n_log_files; i++) {
		list = o->log_files[i];
		if (strcmp(list, "-") == 0 && !in) {
			in = calloc(1, ENDPOINTS_STDIN_MAX + 1);
			if (!in)
				fatal("out of memory");
			len = fread(in, 1, ENDPOINTS_STDIN_MAX + 1, stdin);
			if (ferror(stdin) || len > ENDPOINTS_STDIN_MAX || memchr(in, '\0', len)) {
				log_error("rules from-endpoints: standard input is %s",
					  ferror(stdin) ? "unreadable"
					  : len > ENDPOINTS_STDIN_MAX
					      ? "longer than 1 MiB: not a list of endpoints"
					      : "not text (a NUL byte)");
				goto out;
			}
			list = in;
		} else if (strcmp(list, "-") == 0) {
			list = in;
		}
		pos = 0;
		while ((ret = endpoints_next(list, &pos, rule, sizeof(rule), err, sizeof(err))) ==
		       1)
			fprintf(mem, "%s\n", rule);
		if (ret == -ENOMEM)
			fatal("out of memory");
		if (ret < 0) {
			/* Which list, when there are several: standard input, or the Nth. */
			if (strcmp(o->log_files[i], "-") == 0)
				log_error("rules from-endpoints: standard input, %s", err);
			else if (o->n_log_files > 1)
				log_error("rules from-endpoints: list %zu, %s", i + 1, err);
			else
				log_error("rules from-endpoints: %s", err);
			goto out;
		}
	}
	if (fclose(mem) != 0)
		fatal("out of memory");
	mem = NULL;
	if (fwrite(out, 1, out_len, stdout) != out_len || fflush(stdout) != 0) {
		log_error_errno("rules from-endpoints: cannot write the rules");
		goto out;
	}
	status = 0;
out:
	if (mem)
		fclose(mem);
	free(out);
	free(in);
	return status;
}

/*
 * boundary log summary: every file is read before anything is written, so a file that cannot be
 * read stops the summary instead of leaving one that silently misses it.
 */
static int log_summary(const struct opts *o)
{
	struct summary *s = summary_new();
	const char *name, *first;
	unsigned long long n;
	int status = LOG_EXIT_FAILURE, ret;
	size_t i;
	FILE *f;

	if (!s)
		fatal("out of memory");
	for (i = 0; i < o->n_log_files; i++) {
		name = o->log_files[i];
		f = strcmp(name, "-") == 0 ? stdin : fopen(name, "re");
		if (!f) {
			log_error("log summary: cannot open %s: %s (name a file that --audit-log "
				  "wrote, or - for standard input)",
				  name, strerror(errno));
			goto out;
		}
		ret = summary_read(s, f, f == stdin ? "(standard input)" : name);
		if (f != stdin)
			fclose(f);
		if (ret == -EISDIR) {
			log_error("log summary: %s is a directory (--audit-log DIR writes "
				  "boundary-audit-*.jsonl files in it: name those)",
				  name);
			goto out;
		}
		if (ret) {
			log_error("log summary: cannot read %s: %s", name, strerror(-ret));
			goto out;
		}
	}
	n = summary_invalid(s, &first);
	if (n)
		log_warn("%llu %s (the first, %s)", n,
			 n == 1 ? "line was not an audit record" : "lines were not audit records",
			 first);
	n = summary_dropped(s);
	if (n)
		log_warn("the audit log says %llu records were dropped (its writer could not keep "
			 "up), so the counts are short",
			 n);
	switch (o->log_format) {
	case OPTS_LOG_JSON:
		ret = summary_write_json(s, stdout);
		break;
	case OPTS_LOG_MARKDOWN:
		ret = summary_write_markdown(s, stdout);
		break;
	default:
		ret = summary_write_table(s, stdout);
		break;
	}
	status = ret ? LOG_EXIT_FAILURE : 0;
	if (ret)
		log_error("log summary: cannot write the summary: %s", strerror(-ret));
out:
	summary_free(s);
	return status;
}

/*
 * Attach and serve start no process, so they set no environment: a placeholder reaches no
 * program there, and only a secret with header= does anything. Said for each that has none.
 */
static void secrets_notes(const struct opts *o, const char *mode)
{
	const struct secret *rec;
	size_t i, n;

	rec = secrets_records(o->secrets, &n);
	for (i = 0; i < n; i++)
		if (!rec[i].header[0])
			log_warn("secret %s: boundary %s starts no process, so no program gets %s "
				 "as a placeholder; only header= injection works in this mode (add "
				 "header=FIELD to the secret)",
				 rec[i].name, mode, rec[i].name);
}

/*
 * What attach and serve, which run until stopped and not a command, do first: --log-dir and the
 * notes on what was read. Returns 0, or -1 after saying why.
 */
static int service_start(const struct opts *o, const char *mode)
{
	if (o->log_dir[0] && open_log_dir(o->log_dir) != 0)
		return -1;
	if (o->config_read)
		log_info("read config file %s", o->config_read);
	compat_notes(o);
	secrets_notes(o, mode);
	if (rules_count(o->rules) == 0)
		log_warn("no allow rules given: every request will be denied (allow one with "
			 "--allow \"domain=example.com\")");
	return 0;
}

static int show_version(const struct opts *o)
{
	(void)o;
	puts("boundary " BOUNDARY_VERSION);
	return 0;
}

static int show_help(const struct opts *o)
{
	if (o->help_flags)
		cli_usage_flags(stdout);
	else
		cli_usage(stdout, o->cmd);
	return 0;
}

/* boundary completion SHELL: the script, made from the tables this binary parses with. */
static int completion(const struct opts *o)
{
	return cli_completion(stdout, o->shell) == 0 ? 0 : LOG_EXIT_FAILURE;
}

static int generate_config(const struct opts *o)
{
	(void)o;
	config_generate(stdout);
	return 0;
}

static int test_urls(const struct opts *o)
{
	compat_notes(o);
	return run_tests(o);
}

static int attach(const struct opts *o)
{
	if (service_start(o, "attach") < 0)
		return LOG_EXIT_FAILURE;
	return jail_attach(o);
}

static int node(const struct opts *o)
{
	if (o->config_read)
		log_info("read config file %s", o->config_read);
	return node_run(o);
}

static int serve(const struct opts *o)
{
	if (service_start(o, "serve") < 0)
		return LOG_EXIT_FAILURE;
	return explicit_serve(o);
}

/* The command (or $SHELL) in the jail; boundary exits with its status. */
static int run_command(const struct opts *o)
{
	static char bin_sh[] = "/bin/sh";
	char *shell_argv[2] = {NULL, NULL};
	char **cmd = o->argv, err[512];

	if (o->show_hidden) {
		if (fsview_show(o, stdout, err, sizeof(err)) < 0) {
			log_error("%s", err);
			return LOG_EXIT_FAILURE;
		}
		return 0;
	}
	if (!cmd) {
		if (!isatty(STDIN_FILENO)) {
			log_error("no command specified (usage: boundary [flags] -- command "
				  "[args...]; see boundary --help)");
			return LOG_EXIT_FAILURE;
		}
		shell_argv[0] = getenv("SHELL");
		if (!shell_argv[0] || !shell_argv[0][0])
			shell_argv[0] = bin_sh;
		cmd = shell_argv;
	}
	if (o->log_dir[0] && open_log_dir(o->log_dir) != 0)
		return LOG_EXIT_FAILURE;
	if (o->config_read)
		log_info("read config file %s", o->config_read);
	compat_notes(o);
	if (o->dry_run) {
		/* Loud on purpose: this run does not protect anything. */
		log_warn(
		    "*** --dry-run: NOTHING IS BLOCKED. Every request goes out; those the rules "
		    "would refuse are logged as DRY-RUN and recorded \"would_deny\":true. Use it "
		    "to learn what a program needs, never to contain one. ***");
		if (!o->audit_log[0] && !o->log_dir[0])
			log_warn(
			    "--dry-run without --audit-log: add --audit-log FILE, then `boundary "
			    "log summary FILE` proposes the --allow lines");
		else if (!o->log_dir[0] && is_audit_sink(o->audit_log))
			log_warn("--dry-run with --audit-log %s: `boundary log summary` reads "
				 "files, so add --log-dir DIR to keep one beside it",
				 o->audit_log);
	} else if (rules_count(o->rules) == 0 && !o->interactive && !o->rules_program[0] &&
		   !o->js[0] && !o->js_file[0] && !o->sh[0]) {
		log_warn("no allow rules given: every request will be denied (allow one with "
			 "--allow \"domain=example.com\")");
	}
	if (o->jail_type != OPTS_JAIL_NSJAIL &&
	    (o->hide.file.n || o->hide.cli.n || o->read_only.file.n || o->read_only.cli.n ||
	     o->writable.file.n || o->writable.cli.n || o->protect_startup_files)) {
		/* Asked for and not given would be worse than refused. */
		log_error("--hide, --read-only, --writable and --protect-startup-files need the "
			  "default jail type (nsjail): the landlock and weak jails have no mount "
			  "namespace, so the command would see your files as they are (drop "
			  "--jail-type, or those options)");
		return LOG_EXIT_FAILURE;
	}
	return o->jail_type == OPTS_JAIL_NSJAIL ? jail_run(o, cmd) : explicit_run(o, cmd);
}

/*
 * What each action runs, with the status boundary exits with. cli.c's command table names a
 * subcommand's action; this table is the function behind it.
 */
static int (*const actions[])(const struct opts *o) = {
    [OPTS_RUN] = run_command,
    [OPTS_TEST_URLS] = test_urls,
    [OPTS_HELP_SHOW] = show_help,
    [OPTS_VERSION_SHOW] = show_version,
    [OPTS_GENERATE_CONFIG] = generate_config,
    [OPTS_CLEANUP] = cleanup,
    [OPTS_LOG_SUMMARY] = log_summary,
    [OPTS_ATTACH] = attach,
    [OPTS_SERVE] = serve,
    [OPTS_RULES_FROM_ENDPOINTS] = rules_from_endpoints,
    [OPTS_NODE] = node,
    [OPTS_DOCTOR] = doctor_run,
    [OPTS_COMPLETION] = completion,
    [OPTS_APPROVE] = approve_run,
};

int main(int argc, char *argv[])
{
	struct opts o;
	char err[1024];
	int status = LOG_EXIT_FAILURE;

	/* The --js evaluator that a policy lane started (proxy/jseval.h): nothing else. */
	if (argc >= 3 && strcmp(argv[1], JSEVAL_ARGV1) == 0)
		jseval_main(argc, argv);
	/* On file capabilities, none is effective until a jail is built (privs.h). */
	privs_lower();
	opts_init(&o);
	if (config_load(&o, argc, argv, err, sizeof(err)) != 0) {
		log_error("%s", err);
		goto out;
	}
	log_set_level(o.log_level);
	/* The secrets' values, for what runs a proxy: before any thread, and before the log dir. */
	if ((o.action == OPTS_RUN || o.action == OPTS_ATTACH || o.action == OPTS_SERVE) &&
	    secrets_load(&o, &o.secrets, err, sizeof(err)) != 0) {
		log_error("%s", err);
		goto out;
	}
	assert((size_t)o.action < sizeof(actions) / sizeof(actions[0]) && actions[o.action]);
	status = actions[o.action](&o);
out:
	if (fflush(stdout) == EOF && status == 0)
		status = LOG_EXIT_FAILURE;
	opts_fini(&o);
	log_close();
	return status;
}
