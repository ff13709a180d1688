// SPDX-License-Identifier: MIT
/*
 * opts.c: the option table and the values it describes: the checks and conversions every value
 * goes through (opts_set(), which the command line in cli.c and the YAML loader in config.c
 * call), the environment, the allow-rule merge, and the nearest flag or key for a typo. It owns
 * struct opts. It reads no argv (cli.c), no YAML (config.c), runs nothing (main.c), and
 * includes nothing else from user/ but secrets.h, whose parser checks each --secret as it
 * arrives and whose set opts_fini() wipes.
 */
#include "user/opts.h"

#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proxy/log.h"
#include "proxy/upchain.h"
#include "rules/rules.h"
#include "user/secrets.h"

#define F(field) offsetof(struct opts, field)

/* The subcommands that run a proxy take its flags: a jail, an attach, serve. */
#define PROXY_CMDS (OPTS_IN(OPTS_CMD_RUN) | OPTS_IN(OPTS_CMD_ATTACH) | OPTS_IN(OPTS_CMD_SERVE))
/* What boundary k8s-node takes of them, and hands to the attach it runs for each pod. */
#define NODE OPTS_IN(OPTS_CMD_NODE)

/* Room for a quoted value in a message. */
#define QLEN 256

/*
 * The table. Help lines fit --help's 56 columns. Defaults are parsed by opts_init() through
 * opts_set(), so a default is checked like any other value. Columns: id, flag, short flag, env,
 * YAML key, type, default, help placeholder, help, shown in --help, field, and the subcommands
 * whose flag it is (cli.c refuses it after any other subcommand's name).
 */
static const struct opts_def defs[OPTS__COUNT] = {
    [OPTS_ALLOW] = {OPTS_ALLOW, "allow", 0, "BOUNDARY_ALLOW", "allowlist", OPTS_T_RULES, NULL,
		    "RULE", "allow requests that RULE matches (repeatable)", true, F(allow),
		    PROXY_CMDS | NODE},
    [OPTS_DENY] = {OPTS_DENY, "deny", 0, "BOUNDARY_DENY", "deny", OPTS_T_RULES, NULL, "RULE",
		   "refuse what RULE matches, whatever allows it", true, F(deny),
		   PROXY_CMDS | NODE},
    [OPTS_SECRET] = {OPTS_SECRET, "secret", 0, "BOUNDARY_SECRET", "secrets", OPTS_T_SECRETS, NULL,
		     "SPEC", "NAME domain=HOST: the jail sees a placeholder for NAME", false,
		     F(secret), PROXY_CMDS},
    [OPTS_CONFIG] = {OPTS_CONFIG, "config", 0, "BOUNDARY_CONFIG", NULL, OPTS_T_STRING, NULL, "FILE",
		     "YAML file (default ~/.config/coder_boundary/config.yaml)", true, F(config),
		     PROXY_CMDS | NODE | OPTS_IN(OPTS_CMD_DOCTOR)},
    [OPTS_LOG_LEVEL] = {OPTS_LOG_LEVEL, "log-level", 0, "BOUNDARY_LOG_LEVEL", "log_level",
			OPTS_T_LOG_LEVEL, "warn", "LEVEL",
			"error, warn, info or debug (default warn)", true, F(log_level),
			PROXY_CMDS | NODE},
    [OPTS_LOG_DIR] = {OPTS_LOG_DIR, "log-dir", 0, "BOUNDARY_LOG_DIR", "log_dir", OPTS_T_STRING, "",
		      "DIR", "write the log to a new file in DIR, not stderr", false, F(log_dir),
		      PROXY_CMDS},
    [OPTS_PROXY_PORT] = {OPTS_PROXY_PORT, "proxy-port", 0, "PROXY_PORT", "proxy_port", OPTS_T_PORT,
			 "8080", "PORT", "the proxy's port in the jail (default: a free one)",
			 false, F(proxy_port), PROXY_CMDS},
    [OPTS_USER] = {OPTS_USER, "user", 0, "BOUNDARY_USER", "user", OPTS_T_USER, "", "USER[:GROUP]",
		   "run the command as USER (default: sudo's caller)", true, F(user), PROXY_CMDS},
    [OPTS_USE_REAL_DNS] = {OPTS_USE_REAL_DNS, "use-real-dns", 0, "BOUNDARY_USE_REAL_DNS",
			   "use_real_dns", OPTS_T_BOOL, "false", NULL,
			   "real DNS answers for names the rules allow", false, F(use_real_dns),
			   PROXY_CMDS},
    [OPTS_TEST] = {OPTS_TEST, "test", 0, NULL, NULL, OPTS_T_TEST, NULL, "[METHOD] URL",
		   "say if the rules allow URL; run nothing (repeatable)", false, 0,
		   OPTS_IN(OPTS_CMD_RUN)},
    [OPTS_TEST_IP] = {OPTS_TEST_IP, "ip", 0, NULL, NULL, OPTS_T_STRING, "", "ADDR",
		      "--test: as if it connected to ADDR (for ip= rules)", false, F(test_ip),
		      OPTS_IN(OPTS_CMD_RUN)},
    [OPTS_VERSION] = {OPTS_VERSION, "version", 0, NULL, NULL, OPTS_T_ACTION, NULL, NULL,
		      "print the version and exit", false, 0, PROXY_CMDS},
    [OPTS_HELP] = {OPTS_HELP, "help", 'h', NULL, NULL, OPTS_T_ACTION, NULL, NULL,
		   "print this help and exit", false, 0, OPTS_IN_ALL},
    [OPTS_JAIL_TYPE] = {OPTS_JAIL_TYPE, "jail-type", 0, "BOUNDARY_JAIL_TYPE", "jail_type",
			OPTS_T_JAIL, "nsjail", "TYPE",
			"nsjail (BPF, default), landlock or weak (see man page)", false,
			F(jail_type), PROXY_CMDS},
    [OPTS_NO_USER_NAMESPACE] = {OPTS_NO_USER_NAMESPACE, "no-user-namespace", 0,
				"BOUNDARY_NO_USER_NAMESPACE", "no_user_namespace", OPTS_T_BOOL,
				"false", NULL,
				"a root command as nobody, with no caps and no userns", false,
				F(no_user_namespace), PROXY_CMDS},
    [OPTS_DISABLE_AUDIT_LOGS] = {OPTS_DISABLE_AUDIT_LOGS, "disable-audit-logs", 0,
				 "DISABLE_AUDIT_LOGS", "disable_audit_logs", OPTS_T_BOOL, "false",
				 NULL, "send no audit records to the Coder agent's socket", false,
				 F(disable_audit_logs), PROXY_CMDS},
    [OPTS_LOG_PROXY_SOCKET_PATH] = {OPTS_LOG_PROXY_SOCKET_PATH, "log-proxy-socket-path", 0,
				    "CODER_AGENT_BOUNDARY_LOG_PROXY_SOCKET_PATH", NULL,
				    OPTS_T_STRING, "/tmp/boundary-audit.sock", "PATH",
				    "the Coder agent's audit socket, used if it exists", false,
				    F(log_proxy_socket_path), PROXY_CMDS},
    [OPTS_PPROF] = {OPTS_PPROF, "pprof", 0, "BOUNDARY_PPROF", "pprof_enabled", OPTS_T_BOOL, "false",
		    NULL, "serve Go's profiler (no effect: there is none here)", false, F(pprof),
		    PROXY_CMDS},
    [OPTS_PPROF_PORT] = {OPTS_PPROF_PORT, "pprof-port", 0, "BOUNDARY_PPROF_PORT", "pprof_port",
			 OPTS_T_PORT, "6060", "PORT", "--pprof: the profiler's port (no effect)",
			 false, F(pprof_port), PROXY_CMDS},
    [OPTS_SESSION_CORRELATION] = {OPTS_SESSION_CORRELATION, "enable-session-correlation", 0,
				  "BOUNDARY_SESSION_CORRELATION_ENABLED",
				  "session_correlation_enabled", OPTS_T_BOOL, "false", NULL,
				  "send the session id and sequence to inject targets", false,
				  F(session_correlation), PROXY_CMDS},
    [OPTS_INJECT_TARGET] = {OPTS_INJECT_TARGET, "session-id-inject-target", 0,
			    "BOUNDARY_SESSION_ID_INJECT_TARGET", "session_id_inject_targets",
			    OPTS_T_RULES, NULL, "RULE",
			    "where to send the session id: domain=HOST [path=/P]", false, F(inject),
			    PROXY_CMDS},
    [OPTS_UPSTREAM_CA] = {OPTS_UPSTREAM_CA, "upstream-ca", 0, "BOUNDARY_UPSTREAM_CA", "upstream_ca",
			  OPTS_T_STRING, "", "FILE",
			  "also trust the CAs in FILE for upstream servers", false, F(upstream_ca),
			  PROXY_CMDS | NODE},
    [OPTS_UPSTREAM_PROXY] = {OPTS_UPSTREAM_PROXY, "upstream-proxy", 0, "BOUNDARY_UPSTREAM_PROXY",
			     "upstream_proxy", OPTS_T_STRING, "", "URL",
			     "allowed connections go through the proxy at URL", false,
			     F(upstream_proxy), PROXY_CMDS},
    [OPTS_UPSTREAM_PROXY_BYPASS] = {OPTS_UPSTREAM_PROXY_BYPASS, "upstream-proxy-bypass", 0,
				    "BOUNDARY_UPSTREAM_PROXY_BYPASS", "upstream_proxy_bypass",
				    OPTS_T_STRING, "", "PATTERN[,...]",
				    "--upstream-proxy: hosts reached directly, not through it",
				    false, F(upstream_proxy_bypass), PROXY_CMDS},
    [OPTS_UPSTREAM_PROXY_CONNECT_ALWAYS] = {OPTS_UPSTREAM_PROXY_CONNECT_ALWAYS,
					    "upstream-proxy-connect-always", 0,
					    "BOUNDARY_UPSTREAM_PROXY_CONNECT_ALWAYS",
					    "upstream_proxy_connect_always", OPTS_T_BOOL, "false",
					    NULL,
					    "--upstream-proxy: plain HTTP through its CONNECT too",
					    false, F(upstream_proxy_connect_always), PROXY_CMDS},
    [OPTS_UPSTREAM_TIMEOUT] = {OPTS_UPSTREAM_TIMEOUT, "upstream-timeout", 0,
			       "BOUNDARY_UPSTREAM_TIMEOUT", "upstream_timeout", OPTS_T_SECONDS,
			       "120", "SECONDS", "answer 504 when an upstream is silent this long",
			       false, F(upstream_timeout), PROXY_CMDS},
    [OPTS_AUDIT_LOG] = {OPTS_AUDIT_LOG, "audit-log", 0, "BOUNDARY_AUDIT_LOG", "audit_log",
			OPTS_T_STRING, "", "FILE|SINK",
			"decisions to FILE, - or DIR, or to journald/syslog/OTLP", true,
			F(audit_log), PROXY_CMDS | NODE},
    [OPTS_LISTEN] = {OPTS_LISTEN, "listen", 0, "BOUNDARY_LISTEN", "listen", OPTS_T_STRING,
		     "127.0.0.1:8080", "ADDR:PORT", "boundary serve: where the proxy listens",
		     false, F(listen), OPTS_IN(OPTS_CMD_RUN) | OPTS_IN(OPTS_CMD_SERVE)},
    [OPTS_PORT_FORWARD] = {OPTS_PORT_FORWARD, "port-forward", 0, "BOUNDARY_PORT_FORWARD",
			   "port_forward", OPTS_T_FORWARD, NULL, "H:J",
			   "host loopback port H reaches jail port J (repeatable)", false,
			   F(forwards), PROXY_CMDS},
    [OPTS_DRY_RUN] = {OPTS_DRY_RUN, "dry-run", 0, "BOUNDARY_DRY_RUN", "dry_run", OPTS_T_BOOL,
		      "false", NULL, "blocks NOTHING; logs what the rules would refuse", true,
		      F(dry_run), PROXY_CMDS | NODE},
    [OPTS_INTERACTIVE] = {OPTS_INTERACTIVE, "interactive", 0, "BOUNDARY_INTERACTIVE", "interactive",
			  OPTS_T_BOOL, "false", NULL,
			  "ask about what the rules refuse (=auto|terminal|socket)", false,
			  F(interactive), PROXY_CMDS},
    [OPTS_INTERACTIVE_TIMEOUT] = {OPTS_INTERACTIVE_TIMEOUT, "interactive-timeout", 0,
				  "BOUNDARY_INTERACTIVE_TIMEOUT", "interactive_timeout",
				  OPTS_T_SECONDS, "60", "SECONDS",
				  "--interactive: refuse what waits this long unanswered", false,
				  F(interactive_timeout), PROXY_CMDS},
    [OPTS_SAVE_RULES] = {OPTS_SAVE_RULES, "save-rules", 0, "BOUNDARY_SAVE_RULES", "save_rules",
			 OPTS_T_STRING, "", "FILE", "allow FILE's rules; --interactive adds to it",
			 false, F(save_rules), PROXY_CMDS},
    [OPTS_RULES_PROGRAM] = {OPTS_RULES_PROGRAM, "rules-program", 0, "BOUNDARY_RULES_PROGRAM",
			    "rules_program", OPTS_T_STRING, "", "PROG",
			    "ask PROG (JSON lines) about what the rules refuse", false,
			    F(rules_program), PROXY_CMDS},
    [OPTS_PROC] = {OPTS_PROC, "proc", 0, NULL, NULL, OPTS_T_STRING, NULL, "PROG",
		   "--rules-program: httpjail's name for it", false, F(rules_program), PROXY_CMDS},
    [OPTS_JS] = {OPTS_JS, "js", 0, "BOUNDARY_JS", "js", OPTS_T_STRING, "", "CODE",
		 "a JavaScript expression decides what the rules refuse", false, F(js), PROXY_CMDS},
    [OPTS_JS_FILE] = {OPTS_JS_FILE, "js-file", 0, "BOUNDARY_JS_FILE", "js_file", OPTS_T_STRING, "",
		      "FILE", "--js: the code in FILE, reloaded when it changes", false, F(js_file),
		      PROXY_CMDS},
    [OPTS_SH] = {OPTS_SH, "sh", 0, "BOUNDARY_SH", "sh", OPTS_T_STRING, "", "SCRIPT",
		 "run SCRIPT per request the rules refuse; exit 0 allows", false, F(sh),
		 PROXY_CMDS},
    [OPTS_JS_BUDGET] = {OPTS_JS_BUDGET, "js-budget", 0, "BOUNDARY_JS_BUDGET", "js_budget",
			OPTS_T_STRING, "200", "MS",
			"--js: ms one evaluation may take (default 200)", false, F(js_budget),
			PROXY_CMDS},
    [OPTS_JS_MEMORY] = {OPTS_JS_MEMORY, "js-memory", 0, "BOUNDARY_JS_MEMORY", "js_memory",
			OPTS_T_STRING, "32", "MIB", "--js: MiB the evaluator may hold (default 32)",
			false, F(js_memory), PROXY_CMDS},
    [OPTS_SH_TIMEOUT] = {OPTS_SH_TIMEOUT, "sh-timeout", 0, "BOUNDARY_SH_TIMEOUT", "sh_timeout",
			 OPTS_T_SECONDS, "30", "SECONDS",
			 "--sh: seconds one run may take (default 30)", false, F(sh_timeout),
			 PROXY_CMDS},
    [OPTS_HEADER_TIMEOUT] = {OPTS_HEADER_TIMEOUT, "header-timeout", 0, "BOUNDARY_HEADER_TIMEOUT",
			     "header_timeout", OPTS_T_SECONDS, "30", "SECONDS",
			     "answer 408 when a request head takes this long", false,
			     F(header_timeout), PROXY_CMDS},
    [OPTS_IDLE_TIMEOUT] = {OPTS_IDLE_TIMEOUT, "idle-timeout", 0, "BOUNDARY_IDLE_TIMEOUT",
			   "idle_timeout", OPTS_T_SECONDS, "120", "SECONDS",
			   "close a connection silent this long", false, F(idle_timeout),
			   PROXY_CMDS},
    /* The filesystem view's options (fsview.c), in the jail only: attach and serve have none. */
    [OPTS_HIDE] = {OPTS_HIDE, "hide", 0, "BOUNDARY_HIDE", "hide", OPTS_T_PATHS, NULL, "PATH",
		   "the jail sees PATH empty (repeatable; ~/ is the user's)", false, F(hide),
		   OPTS_IN(OPTS_CMD_RUN)},
    [OPTS_UNHIDE] = {OPTS_UNHIDE, "unhide", 0, "BOUNDARY_UNHIDE", "unhide", OPTS_T_PATHS, NULL,
		     "PATH", "show PATH, hidden by default (see --show-hidden)", false, F(unhide),
		     OPTS_IN(OPTS_CMD_RUN)},
    [OPTS_READ_ONLY] = {OPTS_READ_ONLY, "read-only", 0, "BOUNDARY_READ_ONLY", "read_only",
			OPTS_T_PATHS, NULL, "PATH", "PATH and all below it read-only (repeatable)",
			false, F(read_only), OPTS_IN(OPTS_CMD_RUN)},
    [OPTS_WRITABLE] = {OPTS_WRITABLE, "writable", 0, "BOUNDARY_WRITABLE", "writable", OPTS_T_PATHS,
		       NULL, "PATH", "PATH writable under a --read-only one (repeatable)", false,
		       F(writable), OPTS_IN(OPTS_CMD_RUN)},
    [OPTS_PROTECT_STARTUP_FILES] = {OPTS_PROTECT_STARTUP_FILES, "protect-startup-files", 0,
				    "BOUNDARY_PROTECT_STARTUP_FILES", "protect_startup_files",
				    OPTS_T_BOOL, "false", NULL,
				    "shell rc files, git hooks and config, .envrc read-only", false,
				    F(protect_startup_files), OPTS_IN(OPTS_CMD_RUN)},
    [OPTS_SHOW_HIDDEN] = {OPTS_SHOW_HIDDEN, "show-hidden", 0, NULL, NULL, OPTS_T_BOOL, "false",
			  NULL, "print what the jail would hide, and exit", false, F(show_hidden),
			  OPTS_IN(OPTS_CMD_RUN)},
    /* The command's own root (rootfs.c, oci.c), in the jail only. */
    [OPTS_ROOTFS] = {OPTS_ROOTFS, "rootfs", 0, "BOUNDARY_ROOTFS", "rootfs", OPTS_T_STRING, "",
		     "DIR", "run the command in DIR as its root (DIR unchanged)", false, F(rootfs),
		     OPTS_IN(OPTS_CMD_RUN)},
    [OPTS_ROOTFS_UPPER] = {OPTS_ROOTFS_UPPER, "rootfs-upper", 0, "BOUNDARY_ROOTFS_UPPER",
			   "rootfs_upper", OPTS_T_STRING, "", "DIR",
			   "--rootfs: keep the root's changes in DIR across runs", false,
			   F(rootfs_upper), OPTS_IN(OPTS_CMD_RUN)},
    [OPTS_BIND] = {OPTS_BIND, "bind", 0, NULL, "bind", OPTS_T_BINDS, NULL, "SRC:DST[:ro]",
		   "show host path SRC at DST in the root (repeatable)", false, F(binds),
		   OPTS_IN(OPTS_CMD_RUN)},
    [OPTS_IMAGE] = {OPTS_IMAGE, "image", 0, "BOUNDARY_IMAGE", "image", OPTS_T_STRING, "", "DIR",
		    "run the command in an OCI image layout's root", false, F(image),
		    OPTS_IN(OPTS_CMD_RUN)},
    [OPTS_IMAGE_CACHE] = {OPTS_IMAGE_CACHE, "image-cache", 0, "BOUNDARY_IMAGE_CACHE", "image_cache",
			  OPTS_T_STRING, "/var/cache/boundary/images", "DIR",
			  "--image: where its layers are unpacked, once", false, F(image_cache),
			  OPTS_IN(OPTS_CMD_RUN)},
    [OPTS_CGROUP] = {OPTS_CGROUP, "cgroup", 0, NULL, NULL, OPTS_T_STRING, NULL, "PATH",
		     "the cgroup2 directory to jail (or a path under it)", false, F(attach_cgroup),
		     OPTS_IN(OPTS_CMD_ATTACH)},
    [OPTS_CONTAINER] = {OPTS_CONTAINER, "container", 0, NULL, NULL, OPTS_T_STRING, NULL, "ID",
			"the cgroup of a container, by id or name", false, F(attach_container),
			OPTS_IN(OPTS_CMD_ATTACH)},
    [OPTS_SYSTEMD_UNIT] = {OPTS_SYSTEMD_UNIT, "systemd-unit", 0, NULL, NULL, OPTS_T_STRING, NULL,
			   "UNIT", "the cgroup of a systemd unit", false, F(attach_unit),
			   OPTS_IN(OPTS_CMD_ATTACH)},
    [OPTS_KILL_EXISTING_SOCKETS] = {OPTS_KILL_EXISTING_SOCKETS, "kill-existing-sockets", 0, NULL,
				    NULL, OPTS_T_BOOL, "false", NULL,
				    "shut connections opened before the attach", false,
				    F(kill_existing_sockets), OPTS_IN(OPTS_CMD_ATTACH)},
    [OPTS_CREATE] = {OPTS_CREATE, "create", 0, NULL, NULL, OPTS_T_BOOL, "false", NULL,
		     "make the --cgroup directory; each child cgroup is a jail", false,
		     F(attach_create), OPTS_IN(OPTS_CMD_ATTACH)},
    [OPTS_RESOLVE_ON_HOST] = {OPTS_RESOLVE_ON_HOST, "resolve-on-host", 0,
			      "BOUNDARY_RESOLVE_ON_HOST", "resolve_on_host", OPTS_T_BOOL, "false",
			      NULL, "resolve names and connect from the host, not the netns", false,
			      F(resolve_on_host), OPTS_IN(OPTS_CMD_ATTACH)},
    [OPTS_K8S_POD] = {OPTS_K8S_POD, "k8s-pod", 0, NULL, NULL, OPTS_T_STRING, NULL, "NS/NAME",
		      "--k8s-pod: the pod its records name (k8s-node sets it)", false, F(k8s_pod),
		      OPTS_IN(OPTS_CMD_ATTACH)},
    [OPTS_K8S_NAMES] = {OPTS_K8S_NAMES, "k8s-names", 0, NULL, NULL, OPTS_T_STRING, NULL, "FILE",
			"--k8s-names: its containers' names (k8s-node sets it)", false,
			F(k8s_names), OPTS_IN(OPTS_CMD_ATTACH)},
    [OPTS_CRI_SOCKET] = {OPTS_CRI_SOCKET, "cri-socket", 0, "BOUNDARY_CRI_SOCKET", NULL,
			 OPTS_T_STRING, "/run/containerd/containerd.sock", "PATH",
			 "the container runtime's CRI socket (containerd's)", false, F(cri_socket),
			 NODE},
    [OPTS_POLICY_DIR] = {OPTS_POLICY_DIR, "policy-dir", 0, "BOUNDARY_POLICY_DIR", NULL,
			 OPTS_T_STRING, "/etc/boundary/policies", "DIR",
			 "boundary.dev/policy: NAME reads DIR/NAME.yaml", false, F(policy_dir),
			 NODE},
    [OPTS_STATE_DIR] = {OPTS_STATE_DIR, "state-dir", 0, "BOUNDARY_STATE_DIR", NULL, OPTS_T_STRING,
			"/run/boundary/node", "DIR", "where each pod's rules and names are written",
			false, F(state_dir), NODE},
    [OPTS_SCAN_INTERVAL] = {OPTS_SCAN_INTERVAL, "scan-interval", 0, "BOUNDARY_SCAN_INTERVAL", NULL,
			    OPTS_T_SECONDS, "2", "SECONDS",
			    "seconds between looks at the node's pods (default 2)", false,
			    F(scan_interval), NODE},
    [OPTS_FORMAT] = {OPTS_FORMAT, "format", 0, NULL, NULL, OPTS_T_FORMAT, "table",
		     "table|json|markdown", "table, JSON or (log summary only) Markdown", false,
		     F(log_format), OPTS_IN(OPTS_CMD_LOG_SUMMARY) | OPTS_IN(OPTS_CMD_DOCTOR)},
    [OPTS_TEST_EXE] = {OPTS_TEST_EXE, "exe", 0, NULL, NULL, OPTS_T_STRING, NULL, "PATH",
		       "--test: the requests come from program PATH (exe= rules)", false,
		       F(test_exe), OPTS_IN(OPTS_CMD_RUN)},
    [OPTS_NO_COMPAT_WARNINGS] = {OPTS_NO_COMPAT_WARNINGS, "no-compat-warnings", 0,
				 "BOUNDARY_NO_COMPAT_WARNINGS", "no_compat_warnings", OPTS_T_BOOL,
				 "false", NULL,
				 "no warning for rules coder/boundary reads otherwise", false,
				 F(no_compat_warnings), PROXY_CMDS | NODE},
};

const struct opts_def *opts_defs(size_t *n)
{
	*n = OPTS__COUNT;
	return defs;
}

const struct opts_def *opts_def_by_yaml(const char *key)
{
	size_t i;

	for (i = 0; i < OPTS__COUNT; i++) {
		if (defs[i].yaml && strcmp(defs[i].yaml, key) == 0)
			return &defs[i];
	}
	return NULL;
}

/* Out of memory: says so in err and returns -ENOMEM, the one way this file handles it. */
static int oom(char *err, size_t errlen)
{
	snprintf(err, errlen, "out of memory");
	return -ENOMEM;
}

static int strv_push(struct opts_strv *sv, const char *s, char *err, size_t errlen)
{
	char **v = realloc(sv->v, (sv->n + 1) * sizeof(*v));
	char *copy;

	if (!v)
		return oom(err, errlen);
	sv->v = v;
	copy = strdup(s);
	if (!copy)
		return oom(err, errlen);
	sv->v[sv->n++] = copy;
	return 0;
}

/*
 * Adds value to l: to the file's list when it comes from the config file, else to the command
 * line's (environment included), and only when store (a check alone stores nothing).
 */
static int list_push(struct opts_list *l, const char *value, enum opts_src src, bool store,
		     char *err, size_t errlen)
{
	if (src == OPTS_SRC_FILE)
		return strv_push(&l->file, value, err, errlen);
	return store ? strv_push(&l->cli, value, err, errlen) : 0;
}

static void strv_free(struct opts_strv *sv)
{
	size_t i;

	for (i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	sv->v = NULL;
	sv->n = 0;
}

const char *opts_quote(const char *s, char *buf, size_t len)
{
	const unsigned char *p;
	size_t n = 0;

	if (len < 8) {
		if (len)
			buf[0] = '\0';
		return buf;
	}
	buf[n++] = '"';
	for (p = (const unsigned char *)s; *p; p++) {
		char esc[8];
		size_t k = 2;

		esc[0] = '\\';
		if (*p == '"' || *p == '\\')
			esc[1] = (char)*p;
		else if (*p == '\n')
			esc[1] = 'n';
		else if (*p == '\t')
			esc[1] = 't';
		else if (*p == '\r')
			esc[1] = 'r';
		else if (*p < 0x20 || *p == 0x7f)
			k = (size_t)snprintf(esc, sizeof(esc), "\\x%02x", *p);
		else
			esc[0] = (char)*p, k = 1;
		/* Keep room for "...", the closing quote and the NUL. */
		if (n + k + 5 > len) {
			memcpy(buf + n, "...", 3);
			n += 3;
			break;
		}
		memcpy(buf + n, esc, k);
		n += k;
	}
	buf[n++] = '"';
	buf[n] = '\0';
	return buf;
}

/* Go's strconv.ParseBool, which coder/boundary's flags and environment use. */
static int parse_bool(const char *s, bool *b)
{
	static const char *const yes[] = {"1", "t", "T", "TRUE", "true", "True"};
	static const char *const no[] = {"0", "f", "F", "FALSE", "false", "False"};
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcmp(s, yes[i]) == 0) {
			*b = true;
			return 0;
		}
		if (strcmp(s, no[i]) == 0) {
			*b = false;
			return 0;
		}
	}
	return -EINVAL;
}

/* Decimal digits only, at least one: 0, -EINVAL for anything else, too_big past max. */
static int parse_decimal(const char *s, unsigned long long max, int too_big, unsigned long long *v)
{
	const char *p;

	*v = 0;
	if (!*s)
		return -EINVAL;
	for (p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		*v = *v * 10 + (unsigned long long)(*p - '0');
		if (*v > max)
			return too_big;
	}
	return 0;
}

/* Decimal 1..65535, digits only. */
static int parse_port(const char *s, uint16_t *port)
{
	unsigned long long v;

	if (parse_decimal(s, 65535, -EINVAL, &v) < 0 || v == 0)
		return -EINVAL;
	*port = (uint16_t)v;
	return 0;
}

/* A uid or gid written in decimal; (uid_t)-1 is refused, since it means "unchanged". */
static int parse_id(const char *s, unsigned int *id)
{
	unsigned long long v;
	int ret;

	ret = parse_decimal(s, UINT32_MAX - 1ull, -ERANGE, &v);
	if (ret < 0)
		return ret;
	*id = (unsigned int)v;
	return 0;
}

/*
 * The fuzzer must not depend on /etc/passwd or load NSS modules: under it, only numbers resolve.
 */
static struct passwd *lookup_user(const char *name)
{
#ifdef BOUNDARY_FUZZING
	(void)name;
	return NULL;
#else
	return getpwnam(name);
#endif
}

static struct group *lookup_group(const char *name)
{
#ifdef BOUNDARY_FUZZING
	(void)name;
	return NULL;
#else
	return getgrnam(name);
#endif
}

static struct passwd *lookup_uid(uid_t uid)
{
#ifdef BOUNDARY_FUZZING
	(void)uid;
	return NULL;
#else
	return getpwuid(uid);
#endif
}

/* USER[:GROUP], names or numbers. "" means nobody named: u->set stays false. */
static int resolve_user(const char *spec, struct opts_user *u, const char *who, char *err,
			size_t errlen)
{
	const char *colon = strchr(spec, ':');
	const struct passwd *pw = NULL;
	const struct group *gr;
	char name[256], q[QLEN];
	unsigned int id;
	size_t ulen = colon ? (size_t)(colon - spec) : strlen(spec);

	memset(u, 0, sizeof(*u));
	if (!*spec)
		return 0;
	opts_quote(spec, q, sizeof(q));
	if (ulen == 0 || ulen >= sizeof(name) || (colon && !colon[1])) {
		snprintf(err, errlen,
			 "%s %s: not a user (use USER or USER:GROUP, names or numbers)", who, q);
		return -EINVAL;
	}
	memcpy(name, spec, ulen);
	name[ulen] = '\0';
	if (parse_id(name, &id) == 0) {
		u->uid = (uid_t)id;
		pw = lookup_uid(u->uid);
	} else {
		pw = lookup_user(name);
		if (!pw) {
			snprintf(err, errlen, "%s %s: no such user (check the name, or use a uid)",
				 who, q);
			return -EINVAL;
		}
		u->uid = pw->pw_uid;
	}
	if (colon) {
		if (parse_id(colon + 1, &id) == 0) {
			u->gid = (gid_t)id;
		} else {
			gr = lookup_group(colon + 1);
			if (!gr) {
				snprintf(err, errlen,
					 "%s %s: no such group (check the name, or use a gid)", who,
					 q);
				return -EINVAL;
			}
			u->gid = gr->gr_gid;
		}
	} else if (pw) {
		u->gid = pw->pw_gid;
	} else {
		snprintf(err, errlen,
			 "%s %s: uid %s has no passwd entry, so name the group too (USER:GROUP)",
			 who, q, name);
		return -EINVAL;
	}
	u->spec = strdup(spec);
	if (!u->spec)
		return oom(err, errlen);
	u->set = true;
	return 0;
}

/*
 * HOST:JAIL[,HOST:JAIL...] (a bare PORT is PORT:PORT) appended to fw. "" is no forward. A host
 * port may appear once: two listeners cannot share it.
 */
static int parse_forwards(const char *spec, struct opts_forwards *fw, const char *who, char *err,
			  size_t errlen)
{
	char item[32], hp[16], q[QLEN];
	const char *p = spec, *comma, *colon;
	struct opts_forward f;
	size_t n, i;

	while (*p) {
		comma = strchr(p, ',');
		n = comma ? (size_t)(comma - p) : strlen(p);
		if (n == 0 || n >= sizeof(item))
			goto bad;
		memcpy(item, p, n);
		item[n] = '\0';
		colon = strchr(item, ':');
		if (colon) {
			if ((size_t)(colon - item) >= sizeof(hp))
				goto bad;
			memcpy(hp, item, (size_t)(colon - item));
			hp[colon - item] = '\0';
			if (parse_port(hp, &f.host) != 0 || parse_port(colon + 1, &f.jail) != 0)
				goto bad;
		} else {
			if (parse_port(item, &f.host) != 0)
				goto bad;
			f.jail = f.host;
		}
		for (i = 0; i < fw->n; i++) {
			if (fw->v[i].host == f.host) {
				snprintf(err, errlen,
					 "%s %s: host port %u is forwarded twice (each host port "
					 "can reach one jail port)",
					 who, opts_quote(spec, q, sizeof(q)), f.host);
				return -EINVAL;
			}
		}
		if (fw->n == OPTS_MAX_FORWARDS) {
			snprintf(err, errlen, "%s: more than %d forwarded ports", who,
				 OPTS_MAX_FORWARDS);
			return -EINVAL;
		}
		fw->v[fw->n++] = f;
		p += n;
		if (*p == ',') {
			p++;
			if (!*p)
				goto bad;
		}
	}
	return 0;
bad:
	snprintf(err, errlen,
		 "%s %s: not a port forward (use HOST:JAIL, ports 1-65535, e.g. 8080:3000; "
		 "several separated by commas)",
		 who, opts_quote(spec, q, sizeof(q)));
	return -EINVAL;
}

/* Checks one rule by adding it to a throwaway set. */
static int check_rule(const char *spec, const char *who, char *err, size_t errlen)
{
	struct rules *r = rules_new();
	char why[256] = "", q[QLEN];
	size_t col = 0;
	int ret;

	if (!r)
		return oom(err, errlen);
	ret = rules_add(r, spec, &col, why, sizeof(why));
	if (ret < 0) {
		if (!why[0])
			snprintf(why, sizeof(why), "%s", rules_strerror(ret));
		snprintf(err, errlen, "%s %s: column %zu: %s", who, opts_quote(spec, q, sizeof(q)),
			 col, why);
		ret = ret == -RULES_E_NOMEM ? -ENOMEM : -EINVAL;
	}
	rules_free(r);
	return ret;
}

/* Whether sv holds a secret spec named name[0..len). */
static bool has_secret(const struct opts_strv *sv, const char *name, size_t len)
{
	const char *other;
	size_t i, n;

	for (i = 0; i < sv->n; i++) {
		other = secrets_spec_name(sv->v[i], &n);
		if (n == len && memcmp(other, name, len) == 0)
			return true;
	}
	return false;
}

/*
 * Checks one --secret spec (its syntax and domain patterns; the value is fetched later, by
 * secrets_load()) and that its name is new and there is room for it among l's.
 */
static int check_secret(const char *spec, const struct opts_list *l, const char *who, char *err,
			size_t errlen)
{
	struct secrets_spec sp;
	char why[512] = "", q[QLEN];
	const char *name;
	size_t col = 0, n;
	int ret;

	opts_quote(spec, q, sizeof(q));
	ret = secrets_parse(spec, &sp, &col, why, sizeof(why));
	if (ret < 0) {
		snprintf(err, errlen, "%s %s: column %zu: %s", who, q, col, why);
		return ret == -ENOMEM ? -ENOMEM : -EINVAL;
	}
	secrets_spec_fini(&sp);
	name = secrets_spec_name(spec, &n);
	/* A file's list is read after the command line's, which a repeated flag extends. */
	if (has_secret(&l->file, name, n) || has_secret(&l->cli, name, n)) {
		snprintf(err, errlen,
			 "%s %s: column %zu: %.*s is the name of another secret too (one secret "
			 "a name)",
			 who, q, (size_t)(name - spec) + 1, (int)n, name);
		return -EINVAL;
	}
	if (l->file.n + l->cli.n >= SECRET_MAX) {
		snprintf(err, errlen, "%s %s: more than %d secrets (at most %d)", who, q,
			 SECRET_MAX, SECRET_MAX);
		return -EINVAL;
	}
	return 0;
}

/*
 * An inject target is a rule (checked first) with a domain, matched on every method as
 * coder/boundary matches it: method= is refused rather than left never to match. Keys start
 * a rule or follow whitespace (rules.c's grammar). Returns 0, or -EINVAL with err set.
 */
static int check_inject_target(const char *spec, const char *who, char *err, size_t errlen)
{
	const char *p = spec;
	bool domain = false;
	char q[QLEN];

	while (*p) {
		p += strspn(p, " \t\n");
		if (strncmp(p, "domain=", 7) == 0)
			domain = true;
		if (strncmp(p, "method=", 7) == 0) {
			snprintf(
			    err, errlen,
			    "%s %s: column %zu: an inject target applies to every method, as in "
			    "coder/boundary (leave method= out)",
			    who, opts_quote(spec, q, sizeof(q)), (size_t)(p - spec) + 1);
			return -EINVAL;
		}
		p += strcspn(p, " \t\n");
	}
	if (!domain) {
		snprintf(err, errlen,
			 "%s %s: an inject target needs a domain (write it like "
			 "\"domain=coder.example.com path=/api/v2/aibridge/*\")",
			 who, opts_quote(spec, q, sizeof(q)));
		return -EINVAL;
	}
	return 0;
}

int opts_bind_split(const char *spec, char *src, size_t srclen, char *dst, size_t dstlen, bool *ro)
{
	const char *c1 = strchr(spec, ':'), *c2, *p;
	size_t ls, ld;

	if (!c1)
		return -EINVAL;
	c2 = strchr(c1 + 1, ':');
	ls = (size_t)(c1 - spec);
	ld = c2 ? (size_t)(c2 - c1 - 1) : strlen(c1 + 1);
	*ro = false;
	if (c2) {
		if (strcmp(c2 + 1, "ro") == 0)
			*ro = true;
		else if (strcmp(c2 + 1, "rw") != 0)
			return -EINVAL;
	}
	if (ls == 0 || ld == 0 || ls >= srclen || ld >= dstlen || spec[0] != '/' || c1[1] != '/')
		return -EINVAL;
	memcpy(src, spec, ls);
	src[ls] = '\0';
	memcpy(dst, c1 + 1, ld);
	dst[ld] = '\0';
	/* No "..": DST is resolved inside the root, and must stay there. */
	for (p = dst; *p; p += strcspn(p, "/")) {
		p += strspn(p, "/");
		if (strncmp(p, "..", 2) == 0 && (p[2] == '/' || p[2] == '\0'))
			return -EINVAL;
	}
	return 0;
}

/* Says "WHO "VALUE": why" in err; returns -EINVAL. q is the value, quoted. */
static int refuse(char *err, size_t errlen, const char *who, const char *q, const char *why)
{
	snprintf(err, errlen, "%s %s: %s", who, q, why);
	return -EINVAL;
}

/*
 * A path of the filesystem view (--hide, --read-only...): not empty, and "~" only as "~" or "~/"
 * at the start (the command's user's home; "~bob" is not expanded, so it is refused). The
 * environment's value is a list, split at ':' as PATH is. A file's entries go to l->file, the
 * rest to l->cli.
 */
static int set_paths(struct opts_list *l, const char *value, enum opts_src src, bool store,
		     const char *who, char *err, size_t errlen)
{
	char q[QLEN], one[4096];
	const char *p = value, *end;
	size_t len;
	int ret;

	do {
		end = src == OPTS_SRC_ENV ? strchr(p, ':') : NULL;
		len = end ? (size_t)(end - p) : strlen(p);
		if (len == 0 || len >= sizeof(one))
			return refuse(err, errlen, who, opts_quote(value, q, sizeof(q)),
				      len ? "too long a path" : "an empty path (name one)");
		memcpy(one, p, len);
		one[len] = '\0';
		if (one[0] == '~' && one[1] != '\0' && one[1] != '/')
			return refuse(err, errlen, who, opts_quote(one, q, sizeof(q)),
				      "~USER is not expanded (write the path, or ~/ for the home "
				      "of the user the command runs as)");
		ret = list_push(l, one, src, store, err, errlen);
		if (ret)
			return ret;
		p = end ? end + 1 : NULL;
	} while (p);
	return 0;
}

int opts_set(struct opts *o, const struct opts_def *d, const char *value, enum opts_src src,
	     const char *who, char *err, size_t errlen)
{
	void *field = (char *)o + d->off;
	bool store = src >= o->src[d->id];
	struct opts_user user;
	enum opts_log_format fmt;
	enum log_level level;
	char q[QLEN];
	uint16_t port;
	int ret;
	bool b;

	opts_quote(value, q, sizeof(q));
	switch (d->type) {
	case OPTS_T_STRING:
		if (store) {
			char *copy = strdup(value);

			if (!copy)
				return oom(err, errlen);
			free(*(char **)field);
			*(char **)field = copy;
		}
		break;
	case OPTS_T_BOOL:
		/* --interactive=MODE: on, asking there; plain --interactive and true are auto. */
		if (d->id == OPTS_INTERACTIVE &&
		    (strcmp(value, "auto") == 0 || strcmp(value, "terminal") == 0 ||
		     strcmp(value, "socket") == 0)) {
			if (store) {
				o->interactive = true;
				o->interactive_mode = value[0] == 'a'	? OPTS_ASK_AUTO
						      : value[0] == 't' ? OPTS_ASK_TERMINAL
									: OPTS_ASK_SOCKET;
			}
			break;
		}
		if (parse_bool(value, &b) != 0)
			return refuse(err, errlen, who, q,
				      d->id == OPTS_INTERACTIVE
					  ? "not a boolean, nor auto, terminal or socket"
					  : "not a boolean (use true or false)");
		if (store) {
			*(bool *)field = b;
			if (d->id == OPTS_INTERACTIVE)
				o->interactive_mode = OPTS_ASK_AUTO;
		}
		break;
	case OPTS_T_PORT:
		if (parse_port(value, &port) != 0)
			return refuse(err, errlen, who, q, "not a port number (use 1-65535)");
		if (store)
			*(uint16_t *)field = port;
		break;
	case OPTS_T_SECONDS: {
		unsigned long secs;
		char *end;

		errno = 0;
		secs = strtoul(value, &end, 10);
		if (errno || end == value || *end || value[0] == '-' || secs < 1 || secs > 86400)
			return refuse(err, errlen, who, q, "not a number of seconds (use 1-86400)");
		if (store)
			*(unsigned *)field = (unsigned)secs;
		break;
	}
	case OPTS_T_LOG_LEVEL:
		if (log_level_parse(value, &level) != 0)
			return refuse(err, errlen, who, q,
				      "not a log level (use error, warn, info or debug)");
		if (store)
			*(enum log_level *)field = level;
		break;
	case OPTS_T_JAIL:
		if (strcmp(value, "nsjail") == 0) {
			if (store)
				*(enum opts_jail *)field = OPTS_JAIL_NSJAIL;
		} else if (strcmp(value, "landjail") == 0 || strcmp(value, "landlock") == 0) {
			if (store)
				*(enum opts_jail *)field = OPTS_JAIL_LANDJAIL;
		} else if (strcmp(value, "weak") == 0) {
			if (store)
				*(enum opts_jail *)field = OPTS_JAIL_WEAK;
		} else {
			/* q without its quotes, escaped; coder says "invalid JailType: X". */
			snprintf(err, errlen,
				 "%s: invalid JailType: %.*s (use nsjail, landlock (or landjail) "
				 "or weak)",
				 who, (int)(strlen(q) - 2), q + 1);
			return -EINVAL;
		}
		break;
	case OPTS_T_FORMAT:
		if (strcmp(value, "table") == 0)
			fmt = OPTS_LOG_TABLE;
		else if (strcmp(value, "json") == 0)
			fmt = OPTS_LOG_JSON;
		else if (strcmp(value, "markdown") == 0)
			fmt = OPTS_LOG_MARKDOWN;
		else
			return refuse(err, errlen, who, q, "use table, json or markdown");
		if (store)
			*(enum opts_log_format *)field = fmt;
		break;
	case OPTS_T_USER:
		ret = resolve_user(value, &user, who, err, errlen);
		if (ret)
			return ret;
		if (store) {
			free(((struct opts_user *)field)->spec);
			*(struct opts_user *)field = user;
		} else {
			free(user.spec);
		}
		break;
	case OPTS_T_FORWARD: {
		/* A higher source replaces the list; the same one (a repeated flag) appends. */
		struct opts_forwards fw = {.n = 0};

		if (src == o->src[d->id] && src != OPTS_SRC_DEFAULT)
			fw = *(struct opts_forwards *)field;
		ret = parse_forwards(value, &fw, who, err, errlen);
		if (ret)
			return ret;
		if (store)
			*(struct opts_forwards *)field = fw;
		break;
	}
	case OPTS_T_RULES:
		ret = check_rule(value, who, err, errlen);
		if (!ret && d->id == OPTS_INJECT_TARGET)
			ret = check_inject_target(value, who, err, errlen);
		if (!ret)
			ret = list_push(field, value, src, store, err, errlen);
		if (ret)
			return ret;
		break;
	case OPTS_T_PATHS:
		ret = set_paths(field, value, src, store, who, err, errlen);
		if (ret)
			return ret;
		break;
	case OPTS_T_BINDS: {
		char bs[4096], bd[4096];
		bool bro;

		if (opts_bind_split(value, bs, sizeof(bs), bd, sizeof(bd), &bro) != 0)
			return refuse(err, errlen, who, q,
				      "not SRC:DST[:ro] (two absolute paths, DST without \"..\", "
				      "then :ro or :rw if you like)");
		ret = list_push(field, value, src, store, err, errlen);
		if (ret)
			return ret;
		break;
	}
	case OPTS_T_SECRETS: {
		struct opts_list *l = field;

		ret = check_secret(value, l, who, err, errlen);
		if (!ret)
			ret = list_push(l, value, src, store, err, errlen);
		if (ret)
			return ret;
		break;
	}
	default:
		snprintf(err, errlen, "%s takes no value here", who);
		return -EINVAL;
	}
	if (store)
		o->src[d->id] = src;
	return 0;
}

void opts_init(struct opts *o)
{
	char err[256];
	size_t i;

	memset(o, 0, sizeof(*o));
	for (i = 0; i < OPTS__COUNT; i++) {
		if (!defs[i].def)
			continue;
		if (opts_set(o, &defs[i], defs[i].def, OPTS_SRC_DEFAULT, defs[i].flag, err,
			     sizeof(err)) != 0)
			fatalx("%s: bad default: %s", __func__, err);
	}
}

void opts_fini(struct opts *o)
{
	size_t i;

	strv_free(&o->allow.file);
	strv_free(&o->allow.cli);
	strv_free(&o->deny.file);
	strv_free(&o->deny.cli);
	strv_free(&o->inject.file);
	strv_free(&o->inject.cli);
	strv_free(&o->secret.file);
	strv_free(&o->secret.cli);
	strv_free(&o->hide.file);
	strv_free(&o->hide.cli);
	strv_free(&o->unhide.file);
	strv_free(&o->unhide.cli);
	strv_free(&o->read_only.file);
	strv_free(&o->read_only.cli);
	strv_free(&o->writable.file);
	strv_free(&o->writable.cli);
	strv_free(&o->binds.file);
	strv_free(&o->binds.cli);
	secrets_free(o->secrets);
	/* The proxy's URL may hold its password: not left in freed memory. */
	if (o->upstream_proxy)
		explicit_bzero(o->upstream_proxy, strlen(o->upstream_proxy));
	/* Every string option the table names, so a new one cannot be forgotten here. */
	for (i = 0; i < OPTS__COUNT; i++) {
		if (defs[i].type == OPTS_T_STRING) {
			char **field = (char **)((char *)o + defs[i].off);

			free(*field);
			*field = NULL;
		}
	}
	free(o->user.spec);
	for (i = 0; i < o->n_tests; i++) {
		free(o->tests[i].method);
		free(o->tests[i].url);
	}
	free(o->tests);
	free(o->log_files);
	free(o->config_read);
	rules_free(o->rules);
	rules_free(o->inject_rules);
	upchain_free(o->upchain);
	memset(o, 0, sizeof(*o));
}

/* Levenshtein distance, ASCII case-insensitive, '-' and '_' equal; SIZE_MAX past 64 bytes. */
size_t opts_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	size_t row[65];

	if (la > 64 || lb > 64)
		return SIZE_MAX;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (j = 1; j <= lb; j++) {
			int ca = tolower((unsigned char)a[i - 1]);
			int cb = tolower((unsigned char)b[j - 1]);
			size_t up = row[j], best;

			if (ca == '-')
				ca = '_';
			if (cb == '-')
				cb = '_';
			best = diag + (ca != cb);
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			diag = up;
			row[j] = best;
		}
	}
	return row[lb];
}

/*
 * The entry whose flag (yaml false) or key (yaml true) is nearest to word within distance 2
 * (and closer than word's own length, so "x" suggests nothing). For keys, a flag's name also
 * counts ("allow" suggests "allowlist"), and for flags a unique prefix does ("allo").
 */
static const struct opts_def *suggest(const char *word, bool yaml, unsigned cmds)
{
	const struct opts_def *best = NULL, *prefix = NULL;
	size_t best_d = 3, i, d, wlen = strlen(word);
	int nprefix = 0;

	for (i = 0; i < OPTS__COUNT; i++) {
		if ((yaml && !defs[i].yaml) || (!yaml && !(defs[i].cmds & cmds)))
			continue;
		d = opts_distance(word, yaml ? defs[i].yaml : defs[i].flag);
		if (yaml && defs[i].flag) {
			size_t fd = opts_distance(word, defs[i].flag);

			if (fd < d)
				d = fd;
		}
		if (d < best_d && d < wlen) {
			best_d = d;
			best = &defs[i];
		}
		if (!yaml && wlen >= 2 && strncmp(defs[i].flag, word, wlen) == 0) {
			prefix = &defs[i];
			nprefix++;
		}
	}
	if (!best && nprefix == 1)
		best = prefix;
	return best;
}

const char *opts_suggest_flag(const char *word, unsigned cmds)
{
	const struct opts_def *d = suggest(word, false, cmds);

	return d ? d->flag : NULL;
}

const char *opts_suggest_yaml(const char *word)
{
	const struct opts_def *d = suggest(word, true, 0);

	return d ? d->yaml : NULL;
}

int opts_parse_env(struct opts *o, char *err, size_t errlen)
{
	const char *v;
	size_t i;
	int ret;

	for (i = 0; i < OPTS__COUNT; i++) {
		if (!defs[i].env || o->src[i] >= OPTS_SRC_ENV)
			continue;
		v = getenv(defs[i].env);
		/* Set but empty reads as unset, as a shell's VAR= usually means. */
		if (!v || !*v)
			continue;
		ret = opts_set(o, &defs[i], v, OPTS_SRC_ENV, defs[i].env, err, errlen);
		if (ret)
			return ret;
	}
	return 0;
}

/* Under sudo (euid 0, SUDO_USER set and not root) the command runs as SUDO_UID:SUDO_GID. */
static int sudo_user(struct opts *o, char *err, size_t errlen)
{
	const char *name = getenv("SUDO_USER");
	const char *uid = getenv("SUDO_UID"), *gid = getenv("SUDO_GID");
	unsigned int u, g;

	if (geteuid() != 0 || !name || !*name || strcmp(name, "root") == 0)
		return 0;
	if (!uid || !gid || parse_id(uid, &u) != 0 || parse_id(gid, &g) != 0) {
		snprintf(err, errlen,
			 "SUDO_USER is set but SUDO_UID or SUDO_GID is missing or not a number; "
			 "name the user to run the command as with --user");
		return -EINVAL;
	}
	o->user.set = true;
	o->user.uid = (uid_t)u;
	o->user.gid = (gid_t)g;
	return 0;
}

/*
 * One warning line for a rule coder/boundary reads otherwise, once each time the rules are
 * compiled (at start and at each reload), unless --no-compat-warnings. where names the file and
 * line of a --save-rules rule, or is NULL.
 */
static void compat_warn(const struct opts *o, const char *spec, bool deny, const char *where)
{
	char why[512], q[QLEN];

	if (!o || o->no_compat_warnings || rules_compat(spec, why, sizeof(why)) != 1)
		return;
	log_warn("%s%s%srule %s: %s", where ? where : "", where ? ": " : "", deny ? "deny " : "",
		 opts_quote(spec, q, sizeof(q)), why);
}

static int compile(const struct opts *o, struct rules *r, const struct opts_strv *sv, bool deny,
		   char *err, size_t errlen)
{
	char why[256] = "", q[QLEN];
	size_t i, col = 0;
	int ret;

	for (i = 0; i < sv->n; i++) {
		compat_warn(o, sv->v[i], deny, NULL);
		ret = deny ? rules_add_deny(r, sv->v[i], &col, why, sizeof(why))
			   : rules_add(r, sv->v[i], &col, why, sizeof(why));
		if (ret < 0) {
			snprintf(err, errlen, "%srule %s: column %zu: %s", deny ? "deny " : "",
				 opts_quote(sv->v[i], q, sizeof(q)), col,
				 why[0] ? why : rules_strerror(ret));
			return ret == -RULES_E_NOMEM ? -ENOMEM : -EINVAL;
		}
	}
	return 0;
}

/*
 * The --save-rules file's rules, added to r: one a line, blank lines and "#" comments skipped.
 * A missing file is an empty one (--interactive creates it). Returns 0, or -EINVAL with err set.
 */
static int load_saved_rules(const struct opts *o, const char *path, struct rules *r, char *err,
			    size_t errlen)
{
	char line[RULES_MAX_SPEC + 2], why[256] = "", q[QLEN], where[4200];
	size_t n, col = 0;
	unsigned lineno = 0;
	char *p;
	FILE *f;
	int ret = 0;

	f = fopen(path, "re");
	if (!f) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "--save-rules %s: cannot read it: %s",
			 opts_quote(path, q, sizeof(q)), strerror(errno));
		return -EINVAL;
	}
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		n = strcspn(line, "\r\n");
		line[n] = '\0';
		for (p = line; *p == ' ' || *p == '\t'; p++)
			;
		if (!*p || *p == '#')
			continue;
		snprintf(where, sizeof(where), "%s:%u", path, lineno);
		compat_warn(o, p, false, where);
		ret = rules_add(r, p, &col, why, sizeof(why));
		if (ret < 0) {
			snprintf(err, errlen, "%s:%u:%zu: rule %s: %s (fix or delete that line)",
				 path, lineno, col + (size_t)(p - line),
				 opts_quote(p, q, sizeof(q)), why[0] ? why : rules_strerror(ret));
			ret = ret == -RULES_E_NOMEM ? -ENOMEM : -EINVAL;
			break;
		}
	}
	fclose(f);
	return ret < 0 ? ret : 0;
}

/*
 * The host of CODER_AGENT_URL's value url, as Go's url.Parse and URL.Hostname() find it for
 * coder/boundary: "scheme://[userinfo@]host[:port][/...]" (or "//host..."), the port dropped, an
 * IPv6 literal kept in its brackets (our rules' spelling of it). Returns 0, or -EINVAL when url
 * is not such a URL or its host is empty (coder/boundary then derives nothing).
 */
static int agent_url_host(const char *url, char *host, size_t len)
{
	const char *p = url, *auth, *end, *at, *h, *colon;
	size_t n, i;

	for (i = 0; url[i]; i++)
		if ((unsigned char)url[i] < 0x20 || url[i] == 0x7f)
			return -EINVAL;
	if (isalpha((unsigned char)*p)) {
		p++;
		while (isalnum((unsigned char)*p) || *p == '+' || *p == '-' || *p == '.')
			p++;
		p = *p == ':' ? p + 1 : url;
	}
	if (strncmp(p, "//", 2) != 0)
		return -EINVAL;
	auth = p + 2;
	end = auth + strcspn(auth, "/?#");
	at = NULL;
	for (h = auth; h < end; h++)
		if (*h == '@')
			at = h;
	h = at ? at + 1 : auth;
	if (*h == '[') {
		colon = memchr(h, ']', (size_t)(end - h));
		if (!colon)
			return -EINVAL;
		n = (size_t)(colon - h) + 1; /* the brackets kept */
		colon++;
		if (colon < end && *colon != ':')
			return -EINVAL;
	} else {
		colon = memchr(h, ':', (size_t)(end - h));
		n = colon ? (size_t)(colon - h) : (size_t)(end - h);
	}
	/* Go refuses a port that is not digits (an empty one is no port). */
	if (colon && colon < end)
		for (p = colon + 1; p < end; p++)
			if (!isdigit((unsigned char)*p))
				return -EINVAL;
	if (n == 0 || n >= len || (n == 2 && h[0] == '['))
		return -EINVAL;
	memcpy(host, h, n);
	host[n] = '\0';
	return 0;
}

/*
 * --enable-session-correlation: compiles the inject targets, the file's first, as
 * coder/boundary merges them; with none given, the one CODER_AGENT_URL names (set in every
 * Coder workspace): its host, any port, the paths below /api/v2/aibridge/. Without the flag
 * the targets change nothing, as in coder/boundary. Returns 0, or -errno with err set.
 */
static int finish_inject(struct opts *o, char *err, size_t errlen)
{
	const char *url = getenv("CODER_AGENT_URL");
	char host[300], spec[400], q[QLEN], why[256] = "";
	size_t col = 0;
	int ret;

	rules_free(o->inject_rules);
	o->inject_rules = NULL;
	if (!o->session_correlation)
		return 0;
	o->inject_rules = rules_new();
	if (!o->inject_rules)
		return oom(err, errlen);
	ret = compile(NULL, o->inject_rules, &o->inject.file, false, err, errlen);
	if (!ret)
		ret = compile(NULL, o->inject_rules, &o->inject.cli, false, err, errlen);
	if (ret || rules_count(o->inject_rules) > 0)
		return ret;
	if (!url || !url[0]) {
		snprintf(
		    err, errlen,
		    "session correlation is enabled but no inject targets are configured: name "
		    "one with --session-id-inject-target \"domain=HOST path=/api/v2/aibridge/*\" "
		    "(or session_id_inject_targets in the config file), set CODER_AGENT_URL to "
		    "the Coder deployment's URL as a Coder workspace does, or turn session "
		    "correlation off");
		return -EINVAL;
	}
	if (agent_url_host(url, host, sizeof(host)) < 0) {
		snprintf(
		    err, errlen,
		    "session correlation is enabled but no inject targets are configured, and "
		    "CODER_AGENT_URL %s is not a URL with a host (like https://coder.example.com): "
		    "fix it, or name a target with --session-id-inject-target \"domain=HOST "
		    "path=/api/v2/aibridge/*\"",
		    opts_quote(url, q, sizeof(q)));
		return -EINVAL;
	}
	snprintf(spec, sizeof(spec), "domain=%s path=/api/v2/aibridge/*", host);
	ret = rules_add(o->inject_rules, spec, &col, why, sizeof(why));
	if (ret < 0) {
		snprintf(err, errlen,
			 "session correlation: the inject target CODER_AGENT_URL %s gives, %s, is "
			 "not a rule: %s (name one with --session-id-inject-target)",
			 opts_quote(url, q, sizeof(q)), spec, why[0] ? why : rules_strerror(ret));
		return ret == -RULES_E_NOMEM ? -ENOMEM : -EINVAL;
	}
	return 0;
}

/* The root file system's options agree with each other and with the jail type. */
static int finish_rootfs(const struct opts *o, char *err, size_t errlen)
{
	bool root = o->rootfs[0] || o->image[0];

	if (o->rootfs[0] && o->image[0]) {
		snprintf(err, errlen,
			 "--rootfs and --image both name the command's root; choose one");
		return -EINVAL;
	}
	if (!root && (o->rootfs_upper[0] || o->binds.file.n || o->binds.cli.n)) {
		snprintf(err, errlen,
			 "%s applies to a root of the command's own: add --rootfs DIR or --image "
			 "DIR",
			 o->rootfs_upper[0] ? "--rootfs-upper" : "--bind");
		return -EINVAL;
	}
	if (root && o->jail_type != OPTS_JAIL_NSJAIL) {
		snprintf(err, errlen,
			 "%s needs boundary's own jail (--jail-type nsjail): the %s type runs the "
			 "command without a mount namespace of boundary's",
			 o->rootfs[0] ? "--rootfs" : "--image",
			 o->jail_type == OPTS_JAIL_WEAK ? "weak" : "landlock");
		return -EINVAL;
	}
	return 0;
}

/* --upstream-proxy and its two companions, checked and made into what the proxy borrows. */
static int finish_upchain(struct opts *o, char *err, size_t errlen)
{
	upchain_free(o->upchain);
	o->upchain = NULL;
	if (!o->upstream_proxy || !o->upstream_proxy[0]) {
		if ((o->upstream_proxy_bypass && o->upstream_proxy_bypass[0]) ||
		    o->upstream_proxy_connect_always) {
			snprintf(err, errlen,
				 "--%s says how to use an upstream proxy, but none is set "
				 "(--upstream-proxy URL)",
				 o->upstream_proxy_connect_always ? "upstream-proxy-connect-always"
								  : "upstream-proxy-bypass");
			return -EINVAL;
		}
		return 0;
	}
	o->upchain = upchain_new(o->upstream_proxy, o->upstream_proxy_bypass,
				 o->upstream_proxy_connect_always, err, errlen);
	return o->upchain ? 0 : -errno;
}

/* The engines that decide what the rules refuse: at most one. */
static int finish_engines(struct opts *o, char *err, size_t errlen)
{
	const char *names[5], *what;
	unsigned long v;
	char *end;
	size_t n = 0;

	if (o->rules_program[0])
		names[n++] = "--rules-program";
	if (o->js[0])
		names[n++] = "--js";
	if (o->js_file[0])
		names[n++] = "--js-file";
	if (o->sh[0])
		names[n++] = "--sh";
	if (o->interactive)
		names[n++] = "--interactive";
	if (n > 1) {
		snprintf(err, errlen,
			 "%s and %s both decide what the rules refuse; choose one (as httpjail, "
			 "boundary takes one engine)",
			 names[0], names[1]);
		return -EINVAL;
	}
	what = n ? names[0] : NULL;
	if (what && o->dry_run) {
		snprintf(err, errlen,
			 "--dry-run allows everything, so there is nothing for %s to decide; use "
			 "one or the other",
			 what);
		return -EINVAL;
	}
	if (what && (o->jail_type != OPTS_JAIL_NSJAIL || o->action == OPTS_SERVE)) {
		snprintf(err, errlen, "%s works with boundary's own jail (--jail-type nsjail) only",
			 what);
		return -EINVAL;
	}
	v = strtoul(o->js_budget, &end, 10);
	if (end == o->js_budget || *end || v < 1 || v > 60000) {
		snprintf(err, errlen,
			 "--js-budget \"%.64s\": not a number of milliseconds from 1 to 60000",
			 o->js_budget);
		return -EINVAL;
	}
	o->js_budget_ms = (unsigned)v;
	v = strtoul(o->js_memory, &end, 10);
	if (end == o->js_memory || *end || v < 2 || v > 4096) {
		snprintf(err, errlen, "--js-memory \"%.64s\": not a number of MiB from 2 to 4096",
			 o->js_memory);
		return -EINVAL;
	}
	o->js_memory_bytes = (size_t)v << 20;
	return 0;
}

int opts_finish(struct opts *o, char *err, size_t errlen)
{
	int ret;

	ret = finish_engines(o, err, errlen);
	if (ret)
		return ret;

	if (o->dry_run && (o->interactive || o->rules_program[0])) {
		snprintf(err, errlen,
			 "--dry-run allows everything, so there is nothing for %s to decide; use "
			 "one or the other",
			 o->interactive ? "--interactive" : "--rules-program");
		return -EINVAL;
	}
	if (o->interactive && o->rules_program[0]) {
		snprintf(err, errlen,
			 "--interactive and --rules-program both decide what the rules refuse; "
			 "choose one");
		return -EINVAL;
	}

	if ((o->jail_type != OPTS_JAIL_NSJAIL || o->action == OPTS_SERVE) &&
	    (o->dry_run || o->interactive || o->rules_program[0])) {
		snprintf(err, errlen, "%s works with boundary's own jail (--jail-type nsjail) only",
			 o->dry_run	  ? "--dry-run"
			 : o->interactive ? "--interactive"
					  : "--rules-program");
		return -EINVAL;
	}
	if (o->action != OPTS_SERVE && o->src[OPTS_LISTEN] == OPTS_SRC_FLAG) {
		snprintf(err, errlen,
			 "--listen is for boundary serve (boundary serve --listen ADDR:PORT); a "
			 "jail's proxy port is --proxy-port");
		return -EINVAL;
	}
	ret = finish_rootfs(o, err, errlen);
	if (ret)
		return ret;
	if (!o->user.set) {
		ret = sudo_user(o, err, errlen);
		if (ret)
			return ret;
	}
	ret = finish_inject(o, err, errlen);
	if (ret)
		return ret;
	ret = finish_upchain(o, err, errlen);
	if (ret)
		return ret;
	rules_free(o->rules);
	o->rules = rules_new();
	if (!o->rules)
		return oom(err, errlen);
	return opts_rules_compile(o, &o->allow.file, &o->deny.file, o->rules, err, errlen);
}

/*
 * Binds every exe= path of r's rules to the file it names (stat(): symlinks followed, so
 * exe=/usr/bin/python3 is the python3.11 it points to), the device and inode the jail records
 * for each connection. A path that names no executable file stops the start (and a reload).
 */
static int bind_exes(struct rules *r, char *err, size_t errlen)
{
	const char *path;
	struct stat st;
	char q[QLEN];
	size_t i, j, n;

	for (i = 0; i < rules_count(r); i++) {
		n = rules_exe_count(r, i);
		for (j = 0; j < n; j++) {
			path = rules_exe_path(r, i, j);
			if (stat(path, &st) == -1) {
				snprintf(err, errlen,
					 "rule %s: exe=%s: %s (give the executable's full path, as "
					 "`command -v NAME` prints it)",
					 opts_quote(rules_raw(r, i), q, sizeof(q)), path,
					 strerror(errno));
				return -EINVAL;
			}
			if (!S_ISREG(st.st_mode)) {
				snprintf(err, errlen,
					 "rule %s: exe=%s: not a regular file (give the path of an "
					 "executable program)",
					 opts_quote(rules_raw(r, i), q, sizeof(q)), path);
				return -EINVAL;
			}
			rules_exe_bind(r, i, j, (uint64_t)st.st_dev, (uint64_t)st.st_ino);
		}
	}
	return 0;
}

int opts_rules_compile(const struct opts *o, const struct opts_strv *file,
		       const struct opts_strv *deny_file, struct rules *r, char *err, size_t errlen)
{
	int ret;

	ret = compile(o, r, file, false, err, errlen);
	if (!ret)
		ret = compile(o, r, &o->allow.cli, false, err, errlen);
	/* The --save-rules file too: on a reload it may have grown ("always" answers). */
	if (!ret && o->save_rules && o->save_rules[0])
		ret = load_saved_rules(o, o->save_rules, r, err, errlen);
	if (!ret)
		ret = compile(o, r, deny_file, true, err, errlen);
	if (!ret)
		ret = compile(o, r, &o->deny.cli, true, err, errlen);
	if (!ret)
		ret = bind_exes(r, err, errlen);
	return ret;
}
