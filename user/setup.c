// SPDX-License-Identifier: MIT
/*
 * setup.c: what every jail type sets up the same way, so the BPF jail (jail.c) and the explicit
 * proxy's types (explicit.c) cannot drift apart: the command's environment, boundary's CA
 * directory, the audit sinks, the proxy's common configuration, the signals boundary takes for
 * itself, the wait for the command, and the command's last steps before exec. It owns none of
 * the objects it makes: each goes to the caller. It does not log errors: it fills the caller's
 * buffer and returns -errno, and the caller (the top of a run) logs.
 */
#include "user/setup.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proxy/audit.h"
#include "proxy/auditsink.h"
#include "proxy/log.h"
#include "proxy/proxy.h"
#include "proxy/secret.h"
#include "proxy/tls.h"
#include "proxy/upchain.h"
#include "rules/rules.h"
#include "user/config.h"
#include "user/opts.h"
#include "user/privs.h"
#include "user/secrets.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

const int setup_forwarded_signals[] = {SIGINT,	 SIGTERM, SIGHUP,  SIGQUIT,
				       SIGWINCH, SIGUSR1, SIGUSR2, 0};

int setup_check_user(const struct opts *o, char *err, size_t errlen)
{
	/* On file capabilities, boundary may run commands as its own user, and only as that. */
	if (privs_unprivileged() && o->user.set && o->user.uid != getuid()) {
		snprintf(err, errlen,
			 "--user %s: an ordinary user's boundary runs commands only as that user "
			 "(uid %u); run boundary as root (sudo) to run them as another",
			 o->user.spec ? o->user.spec : "", (unsigned)getuid());
		return -EPERM;
	}
	return 0;
}

/* --- signals and the wait ------------------------------------------------------------------ */

int setup_signals_take(sigset_t *old, char *err, size_t errlen)
{
	struct sigaction sa;
	sigset_t set;
	const int *s;
	int fd, ret;

	/* A peer that vanishes mid-write must not kill boundary (OpenSSL writes alerts itself). */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	/* Signals wait in a queue until the loop reads them, so setup is never cut in half. */
	sigemptyset(&set);
	for (s = setup_forwarded_signals; *s; s++)
		sigaddset(&set, *s);
	sigprocmask(SIG_BLOCK, &set, old);
	fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (fd == -1) {
		ret = -errno;
		snprintf(err, errlen, "cannot create a signalfd: %s", strerror(-ret));
		sigprocmask(SIG_SETMASK, old, NULL);
		return ret;
	}
	return fd;
}

void setup_signals_give(int fd, const sigset_t *old)
{
	if (fd < 0)
		return;
	close(fd);
	sigprocmask(SIG_SETMASK, old, NULL);
}

int setup_child_status(int pidfd, int *status)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	if (waitid((idtype_t)P_PIDFD, (id_t)pidfd, &si, WEXITED) == -1)
		return -errno;
	*status = si.si_code == CLD_EXITED ? si.si_status : 128 + si.si_status;
	return 0;
}

int setup_wait_command(int pidfd, int sigfd)
{
	struct epoll_event ev, evs[4];
	struct signalfd_siginfo ssi;
	int ep, n, i, status = LOG_EXIT_FAILURE;
	bool done = false;

	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep == -1) {
		log_error_errno("cannot create an epoll instance");
		syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
		return LOG_EXIT_FAILURE;
	}
	ev.events = EPOLLIN;
	ev.data.fd = pidfd;
	epoll_ctl(ep, EPOLL_CTL_ADD, pidfd, &ev);
	ev.data.fd = sigfd;
	epoll_ctl(ep, EPOLL_CTL_ADD, sigfd, &ev);
	while (!done) {
		n = epoll_wait(ep, evs, 4, -1);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			log_error_errno("epoll_wait");
			break;
		}
		for (i = 0; i < n; i++) {
			if (evs[i].data.fd == pidfd) {
				if (setup_child_status(pidfd, &status) == 0)
					done = true;
			} else if (read(sigfd, &ssi, sizeof(ssi)) == sizeof(ssi)) {
				/* A terminal's signals reach the command's process group directly. */
				if (ssi.ssi_code == SI_KERNEL)
					continue;
				syscall(SYS_pidfd_send_signal, pidfd, (int)ssi.ssi_signo, NULL, 0);
			}
		}
	}
	close(ep);
	return status;
}

/* --- the command's environment ------------------------------------------------------------- */

/*
 * Every variable by which a TLS library or tool is told which CAs to trust. gRPC's C core
 * (grpcio, and the gRPC libraries built on it) never reads SSL_CERT_FILE: it takes the file
 * GRPC_DEFAULT_SSL_ROOTS_FILE_PATH names, else, depending on the build, the system bundle or
 * roots compiled into it.
 */
static const char *const ca_vars[] = {
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "CURL_CA_BUNDLE",
    "GIT_SSL_CAINFO",
    "REQUESTS_CA_BUNDLE",
    "NODE_EXTRA_CA_CERTS",
    "DENO_CERT",
    "CARGO_HTTP_CAINFO",
    "PIP_CERT",
    "AWS_CA_BUNDLE",
    "GRPC_DEFAULT_SSL_ROOTS_FILE_PATH",
};
#define N_CA_VARS (sizeof(ca_vars) / sizeof(ca_vars[0]))

static bool is_ca_var(const char *kv)
{
	size_t i, n;

	for (i = 0; i < N_CA_VARS; i++) {
		n = strlen(ca_vars[i]);
		if (strncmp(kv, ca_vars[i], n) == 0 && kv[n] == '=')
			return true;
	}
	return false;
}

/* Whether kv ("NAME=value") sets a variable that one of extra's also sets. */
static bool set_by(const char *kv, const char *const *extra)
{
	size_t len;

	for (; extra && *extra; extra++) {
		len = strcspn(*extra, "=");
		if (strncmp(kv, *extra, len) == 0 && kv[len] == '=')
			return true;
	}
	return false;
}

/* Whether kv ("NAME=value") sets a secret's variable, which the command gets as a placeholder. */
static bool is_secret_var(const char *kv, const struct secret *rec, size_t n)
{
	size_t i, len;

	for (i = 0; i < n; i++) {
		len = strlen(rec[i].name);
		if (strncmp(kv, rec[i].name, len) == 0 && kv[len] == '=')
			return true;
	}
	return false;
}

char **setup_command_env(const struct opts *o, const char *bundle, const char *const *extra)
{
	extern char **environ;
	struct passwd *pw = NULL;
	size_t n = 0, n_extra = 0, n_sec, i, k = 0;
	const struct secret *sec;
	char **env;
	int r = 0;

	while (environ[n])
		n++;
	while (extra && extra[n_extra])
		n_extra++;
	sec = secrets_records(o->secrets, &n_sec);
	/* Every string is the array's own, so setup_command_env_free() frees them all. */
	env = calloc(n + 4 + N_CA_VARS + n_extra + n_sec, sizeof(*env));
	if (!env)
		return NULL;
	if (o->user.set)
		pw = getpwuid(o->user.uid);
	for (i = 0; i < n && r >= 0; i++) {
		if (pw &&
		    (strncmp(environ[i], "HOME=", 5) == 0 || strncmp(environ[i], "USER=", 5) == 0 ||
		     strncmp(environ[i], "LOGNAME=", 8) == 0))
			continue;
		/* The upstream proxy's URL may carry its password: the operator's, not the jail's. */
		if (is_ca_var(environ[i]) || set_by(environ[i], extra) ||
		    is_secret_var(environ[i], sec, n_sec) ||
		    strncmp(environ[i], "BOUNDARY_UPSTREAM_PROXY=", 24) == 0)
			continue;
		env[k] = strdup(environ[i]);
		if (!env[k++])
			r = -1;
	}
	for (i = 0; i < N_CA_VARS && r >= 0; i++)
		if ((r = asprintf(&env[k], "%s=%s", ca_vars[i],
				  strcmp(ca_vars[i], "SSL_CERT_DIR") == 0 ? "/etc/ssl/certs"
									  : bundle)) >= 0)
			k++;
	/* --user's passwd entry, unless extra (an image's User) says who the command is. */
	if (pw && set_by("HOME=", extra))
		pw = NULL;
	if (pw && r >= 0 && (r = asprintf(&env[k], "HOME=%s", pw->pw_dir)) >= 0)
		k++;
	if (pw && r >= 0 && (r = asprintf(&env[k], "USER=%s", pw->pw_name)) >= 0)
		k++;
	if (pw && r >= 0 && (r = asprintf(&env[k], "LOGNAME=%s", pw->pw_name)) >= 0)
		k++;
	if (r < 0 && k < n + 4 + N_CA_VARS + n_extra + n_sec)
		env[k] = NULL; /* asprintf leaves it undefined */
	for (i = 0; i < n_extra && r >= 0; i++) {
		if (is_secret_var(extra[i], sec, n_sec))
			continue;
		env[k] = strdup(extra[i]);
		if (!env[k++])
			r = -1;
	}
	/* Each secret's name holds its placeholder; the value stays in boundary. */
	for (i = 0; i < n_sec && r >= 0; i++)
		if ((r = asprintf(&env[k], "%s=%s", sec[i].name, sec[i].placeholder)) >= 0)
			k++;
	if (r < 0 && k < n + 4 + N_CA_VARS + n_extra + n_sec)
		env[k] = NULL;
	if (r < 0) {
		setup_command_env_free(env);
		return NULL;
	}
	return env;
}

void setup_command_env_free(char **env)
{
	char **p;

	if (!env)
		return;
	for (p = env; *p; p++)
		free(*p);
	free(env);
}

/* --- the CA directory, the audit sinks, the proxy -------------------------------------------- */

void setup_config_dir(const struct opts_user *user, char *buf, size_t len, bool *owned_by_user)
{
	const char *xdg = getenv("XDG_CONFIG_HOME");
	bool as_user = user && user->set;
	const char *home;
	struct stat st;

	*owned_by_user = as_user;
	if (xdg && xdg[0] == '/' && !as_user) {
		snprintf(buf, len, "%s/" CONFIG_DIR_NAME, xdg);
		return;
	}
	home = config_user_home(user);
	if (home && home[0] == '/' && stat(home, &st) == 0 && S_ISDIR(st.st_mode)) {
		config_dir_in(home, buf, len);
		return;
	}
	/* A user with no home (nobody): a CA of boundary's own, readable by root only. */
	snprintf(buf, len, "/var/lib/boundary");
	*owned_by_user = false;
}

/*
 * A session id: a random (version 4) UUID, as Coder's own boundary makes one per run and as the
 * agent's protocol describes the field. Returns 0 or -errno.
 */
static int make_session_id(char *buf, size_t len)
{
	unsigned char b[16];
	ssize_t n;

	do
		n = getrandom(b, sizeof(b), 0);
	while (n == -1 && errno == EINTR);
	if (n != (ssize_t)sizeof(b))
		return n == -1 ? -errno : -EIO;
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(buf, len, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
		 b[13], b[14], b[15]);
	return 0;
}

/*
 * The run's session id, made at the first call and the same wherever it goes: every audit
 * record, every batch for the Coder agent, the session fields on requests to inject targets.
 * NULL with err filled when no random bytes could be had.
 */
static const char *run_session_id(char *err, size_t errlen)
{
	static char id[40];
	int ret;

	if (id[0])
		return id;
	ret = make_session_id(id, sizeof(id));
	if (ret < 0) {
		snprintf(err, errlen, "cannot make a session id: %s", strerror(-ret));
		return NULL;
	}
	return id;
}

/*
 * Whether audit records go to the Coder agent's socket, decided as Coder's boundary decides it:
 * not with --disable-audit-logs; an error when the path is empty; not when nothing is at the
 * path (no agent, or one too old to make the socket). That last is a warning when the path was
 * given, and said at info level when it is the default, which every run outside a Coder
 * workspace has. Returns 0 with *path set (NULL: no agent), or -errno with err filled.
 */
static int agent_socket(const struct opts *o, const char **path, char *err, size_t errlen)
{
	struct stat st;
	int ret;

	*path = NULL;
	if (o->disable_audit_logs) {
		log_info("audit records are not sent to the Coder agent (--disable-audit-logs)");
		return 0;
	}
	if (!o->log_proxy_socket_path || !o->log_proxy_socket_path[0]) {
		snprintf(err, errlen,
			 "--log-proxy-socket-path is empty: name the Coder agent's audit socket, "
			 "or turn the agent's audit logs off with --disable-audit-logs");
		return -EINVAL;
	}
	if (stat(o->log_proxy_socket_path, &st) == -1) {
		ret = -errno;
		if (ret != -ENOENT && ret != -ENOTDIR) {
			snprintf(err, errlen, "--log-proxy-socket-path %s: %s",
				 o->log_proxy_socket_path, strerror(-ret));
			return ret;
		}
		if (o->src[OPTS_LOG_PROXY_SOCKET_PATH] == OPTS_SRC_DEFAULT)
			log_info("no Coder agent's audit socket at %s: audit records are not sent "
				 "to a Coder agent",
				 o->log_proxy_socket_path);
		else
			log_warn("the Coder agent's audit socket %s does not exist (no agent, or "
				 "one too old to make it): audit records are not sent to it",
				 o->log_proxy_socket_path);
		return 0;
	}
	*path = o->log_proxy_socket_path;
	return 0;
}

int setup_audit_open(const struct opts *o, const char *id, const char *argv0, struct audit **out,
		     char *err, size_t errlen)
{
	struct auditsink_spec spec;
	struct audit_config ac;
	const char *agent, *name, *session;
	int ret;

	*out = NULL;
	memset(&ac, 0, sizeof(ac));
	ret = auditsink_parse(o->audit_log, &spec, err, errlen);
	if (ret < 0)
		return ret;
	/*
	 * One --audit-log: a file or a pipeline. A pipeline leaves the file to --log-dir, so a
	 * run may keep both (journald for the fleet, a file for `boundary log summary`).
	 */
	if (ret == 1) {
		ac.sink = &spec;
		if (o->log_dir[0])
			ac.path = o->log_dir;
	} else if (o->audit_log[0] || o->log_dir[0]) {
		ac.path = o->audit_log[0] ? o->audit_log : o->log_dir;
	}
	ret = agent_socket(o, &agent, err, errlen);
	if (ret < 0)
		return ret;
	session = run_session_id(err, errlen);
	if (!session)
		return -EIO;
	ac.agent_socket = agent;
	ac.jail_id = id;
	ac.session_id = session;
	if (o->k8s_pod && o->k8s_pod[0]) {
		ac.k8s_pod = o->k8s_pod;
		ac.k8s_cgroup = o->attach_cgroup;
		ac.k8s_names = o->k8s_names;
	}
	if (agent) {
		name = argv0 ? strrchr(argv0, '/') : NULL;
		ac.process_name = name ? name + 1 : argv0;
	}
	if (!ac.path && !ac.agent_socket && !ac.sink)
		return 0;
	*out = audit_open(&ac, err, errlen);
	if (!*out)
		return -EINVAL;
	if (ac.path)
		log_info("audit records go to %s", audit_path(*out));
	if (ac.sink)
		log_info("audit records go to %s", audit_sink_name(*out));
	if (agent)
		log_info("audit records go to the Coder agent's socket %s (session %s)", agent,
			 session);
	return 0;
}

/*
 * --enable-session-correlation: the inject targets and the run's session id for the proxy,
 * and a line for each target saying what its requests get. Returns 0, or -EIO with err filled.
 */
static int setup_correlation(const struct opts *o, struct proxy_config *pc, char *err,
			     size_t errlen)
{
	size_t i;

	if (!o->inject_rules)
		return 0;
	pc->session_id = run_session_id(err, errlen);
	if (!pc->session_id)
		return -EIO;
	pc->inject = o->inject_rules;
	for (i = 0; i < rules_count(o->inject_rules); i++)
		log_info("session correlation: allowed requests that \"%s\" matches get "
			 "X-Coder-Agent-Firewall-Session-Id: %s and their sequence number",
			 rules_raw(o->inject_rules, i), pc->session_id);
	return 0;
}

int setup_proxy_common(const struct opts *o, struct ca *ca, struct tls_ctxs *tls,
		       struct proxy_config *pc, char *err, size_t errlen)
{
	size_t i;

	if (tls_ctxs_init(tls, ca, o->upstream_ca && o->upstream_ca[0] ? o->upstream_ca : NULL, err,
			  errlen) < 0)
		return -EINVAL;
	memset(pc, 0, sizeof(*pc));
	pc->rules = o->rules;
	if (setup_correlation(o, pc, err, errlen) < 0)
		return -EIO;
	pc->tls = tls;
	pc->response_timeout_ms = o->upstream_timeout * 1000;
	pc->connect_timeout_ms = o->upstream_timeout < 10 ? o->upstream_timeout * 1000 : 10000;
	pc->header_timeout_ms = o->header_timeout * 1000;
	pc->idle_timeout_ms = o->idle_timeout * 1000;
	pc->upchain = o->upchain;
	if (o->upchain)
		log_info("upstream proxy: allowed connections go through %s (%s%s, plain HTTP as "
			 "%s)%s%s",
			 upchain_name(o->upchain), upchain_tls(o->upchain) ? "TLS" : "plain",
			 upchain_has_auth(o->upchain) ? ", Basic authentication" : "",
			 upchain_connect_always(o->upchain) ? "CONNECT" : "absolute-form requests",
			 o->upstream_proxy_bypass[0] ? "; directly to " : "",
			 o->upstream_proxy_bypass);
	pc->secrets = secrets_records(o->secrets, &pc->n_secrets);
	for (i = 0; i < pc->n_secrets; i++) {
		log_info("secret %s: the jail sees a placeholder; its value goes only to %s",
			 pc->secrets[i].name, secrets_domains(o->secrets, i));
		log_debug("secret %s: placeholder %s%s%s", pc->secrets[i].name,
			  pc->secrets[i].placeholder,
			  pc->secrets[i].header[0] ? ", set as header " : "",
			  pc->secrets[i].header);
	}
	return 0;
}

void setup_remove_dir(const char *dir)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;

	d = opendir(dir);
	if (!d)
		return;
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (unlink(path) == -1)
			log_warn_errno("cannot remove %s", path);
	}
	closedir(d);
	if (rmdir(dir) == -1 && errno != ENOENT)
		log_warn_errno("cannot remove %s", dir);
}

/* --- the command's own process --------------------------------------------------------------- */

void setup_say(const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	n = snprintf(line, sizeof(line), "boundary: ");
	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, (size_t)n) == -1) {
		/* nowhere else to say it */
	}
}

void setup_reset_signals(void)
{
	struct sigaction sa;
	sigset_t none;
	int s;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (s = 1; s < NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP)
			sigaction(s, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/* True if name exists in some directory of PATH that can be searched. */
static bool on_path(const char *name)
{
	const char *path = getenv("PATH"), *p, *end;
	char file[4096];

	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (p = path; *p; p = *end ? end + 1 : end) {
		end = strchrnul(p, ':');
		if (end == p)
			snprintf(file, sizeof(file), "./%s", name);
		else
			snprintf(file, sizeof(file), "%.*s/%s", (int)(end - p), p, name);
		if (access(file, F_OK) == 0)
			return true;
	}
	return false;
}

void setup_exec(char *const argv[], char *const envp[])
{
	int e;

	execvpe(argv[0], argv, envp);
	e = errno;
	/*
	 * execvpe says EACCES when a directory on PATH could not be searched, even if the
	 * command is in none of them: then it was not found, as a shell would say.
	 */
	if (e == EACCES && !strchr(argv[0], '/') && !on_path(argv[0]))
		e = ENOENT;
	setup_say("cannot run %s: %s", argv[0], e == ENOENT ? "command not found" : strerror(e));
	_exit(e == ENOENT || e == ENOTDIR ? 127 : 126);
}
