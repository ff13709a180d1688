// SPDX-License-Identifier: MIT
/*
 * policy.c: the second opinion on refused requests (policy.h). One thread owns the rules
 * program's pipes, or boundary's terminal, and answers the queued jobs in turn.
 *
 * The rules program follows httpjail's line processor (src/rules/proc.rs): one process, one
 * request in flight, 5 s for each reply; on EOF, an empty line, a write error or a timeout the
 * process is killed and started again and the request is sent once more; if that fails too the
 * request is denied. Its answers are not cached: a program may count, or change its mind.
 *
 * The person is asked one question at a time, about a host; every request for that host that
 * arrives while the question is open shares its answer. "always" answers become rules of their
 * own, matched here before anything is asked.
 */
#include "proxy/policy.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <sys/eventfd.h>
#include <sys/fsuid.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "proxy/audit.h"
#include "proxy/jseval.h"
#include "proxy/json.h"
#include "proxy/log.h"
#include "proxy/util.h"
#include "rules/rules.h"

#define PROGRAM_TIMEOUT_MS 5000
#define PERSON_TIMEOUT_MS  60000
#define JS_BUDGET_MS	   200
#define JS_MEMORY	   (32u << 20)
#define SH_TIMEOUT_MS	   30000
/* Overruns of the --js budgets before the policy is reported at warn level (once). */
#define JS_OVERRUNS_WARN 3
#define REPLY_MAX	 8192
#define REQUEST_MAX	 4096

struct policy {
	struct policy_config cfg;
	char *program, *save_rules; /* owned copies */
	pthread_t thread;
	bool started;
	pthread_mutex_t lock; /* guards queue and stop */
	struct policy_job *qhead, *qtail;
	bool stop;
	int wake; /* eventfd: a job was queued, or stop */

	/* the rules program */
	pid_t pid;
	int to_prog, from_prog; /* its stdin and stdout, or -1 */
	char rbuf[REPLY_MAX];
	size_t rlen;

	/* --js and --sh: the lanes (the root holds them and has no thread), or the root of a lane */
	struct policy *root;
	struct policy **lane;
	unsigned nlanes;
	atomic_uint queued; /* a lane's jobs not yet answered */
	/* --js, in the root (guarded by lock): the code as a sealed memfd, its generation */
	int code_fd;
	unsigned gen;
	int self_exe;	    /* the root's: boundary's own executable, to run the evaluator */
	unsigned child_gen; /* a lane's: the generation its evaluator runs */
	atomic_uint overruns;
	char mem_arg[24];

	/* the person */
	int tty;
	bool tty_gone;
	struct rules *always; /* "always" answers, as rules */
	char line[256];
	size_t llen;
	uint32_t next_id;	/* the last job's number */
	char cg_path[PATH_MAX]; /* the jail's cgroup, frozen for a question; "": none */
	int listen_fd;		/* the socket for answers from another terminal, or -1 */
	char sock_path[108];	/* its path, removed at the end */
	bool said_socket;	/* the note that answers come from another terminal */
	/* the terminal, while a question is on it (tty_take) */
	bool on_tty, raw, frozen;
	pid_t took_from;      /* the foreground process group it had, or 0: boundary's */
	struct termios saved; /* its mode */
	char stash[512];      /* keys typed before the question, typed again after it */
	size_t nstash;
};

static void answer(struct policy_job *j, bool allow, const char *by, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void answer(struct policy_job *j, bool allow, const char *by, const char *fmt, ...)
{
	va_list ap;

	j->allow = allow;
	j->by = by;
	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(allow ? j->rule : j->message,
			  allow ? sizeof(j->rule) : sizeof(j->message), fmt, ap);
		va_end(ap);
	}
	j->next = NULL;
	j->done(j);
}

/* Takes every queued job, in order. Returns true when the service is stopping. */
static bool take_queue(struct policy *p, struct policy_job **head)
{
	struct policy_job *q, **tail;
	uint64_t n;
	bool stop;

	if (read(p->wake, &n, sizeof(n)) == -1) {
		/* EAGAIN: nothing new since the last read */
	}
	pthread_mutex_lock(&p->lock);
	q = p->qhead;
	p->qhead = p->qtail = NULL;
	stop = p->stop;
	pthread_mutex_unlock(&p->lock);
	for (tail = head; *tail; tail = &(*tail)->next)
		;
	*tail = q;
	for (; q; q = q->next) {
		q->id = ++p->next_id;
		q->since_ms = util_now_ms();
		q->socket_only = false;
	}
	return stop;
}

/* --- the request as JSON, the reply as a decision ------------------------------------------ */

static bool put_str(char *out, size_t cap, size_t *len, const char *key, const char *val)
{
	int n = snprintf(out + *len, cap - *len, "%s\"%s\":", *len > 1 ? "," : "", key);

	if (n < 0 || (size_t)n >= cap - *len)
		return false;
	*len += (size_t)n;
	return audit_json_string(out, cap, len, val) == 0;
}

static bool put_num(char *out, size_t cap, size_t *len, const char *key, unsigned long v)
{
	int n = snprintf(out + *len, cap - *len, ",\"%s\":%lu", key, v);

	if (n < 0 || (size_t)n >= cap - *len)
		return false;
	*len += (size_t)n;
	return true;
}

size_t policy_request_json(const struct policy_job *j, char *out, size_t cap)
{
	size_t len = 0;

	if (cap < 4)
		return 0;
	out[len++] = '{';
	/* httpjail's fields first, in its order; then port, pid, comm and exe (when known). */
	if (!put_str(out, cap, &len, "url", j->url) ||
	    !put_str(out, cap, &len, "method", j->method) ||
	    !put_str(out, cap, &len, "scheme", j->scheme) ||
	    !put_str(out, cap, &len, "host", j->host) ||
	    !put_str(out, cap, &len, "path", j->path) ||
	    !put_str(out, cap, &len, "requester_ip", j->requester_ip) ||
	    !put_num(out, cap, &len, "port", j->port) || !put_num(out, cap, &len, "pid", j->pid) ||
	    !put_str(out, cap, &len, "comm", j->comm) ||
	    (j->exe[0] && !put_str(out, cap, &len, "exe", j->exe)) || len + 3 > cap)
		return 0;
	out[len++] = '}';
	out[len++] = '\n';
	out[len] = '\0';
	return len;
}

/* How deep a value inside a reply may nest (the reply object is depth 0). */
#define REPLY_DEPTH 16

/* The string at r->p into out (cap bytes), cut to fit, control characters made spaces. */
static bool reply_string(struct json_reader *r, char *out, size_t cap)
{
	const char *s;

	r->out = out;
	r->out_len = 0;
	r->out_cap = cap;
	return json_string(r, &s) == 0;
}

/* Any value at r->p, thrown away. */
static bool reply_skip(struct json_reader *r)
{
	char tmp[8];

	r->out = tmp;
	r->out_len = 0;
	r->out_cap = sizeof(tmp);
	return json_skip_value(r, 1) == 0;
}

/*
 * The object of {"allow": {"max_tx_bytes": N}}: N, the cap on the request's body, into
 * j->max_tx_bytes (other keys are skipped). Returns false when it is not such an object, or N is
 * not a whole number from 1 up: a cap that cannot be read must not become no cap.
 */
static bool reply_allow_object(struct json_reader *r, struct policy_job *j)
{
	char key[32];
	int64_t v;
	bool whole;

	r->p++; /* '{' */
	json_skip_ws(r);
	if (r->p < r->end && *r->p == '}') {
		r->p++;
		return true;
	}
	for (;;) {
		json_skip_ws(r);
		if (!reply_string(r, key, sizeof(key)))
			return false;
		json_skip_ws(r);
		if (r->p >= r->end || *r->p != ':')
			return false;
		r->p++;
		json_skip_ws(r);
		if (strcmp(key, "max_tx_bytes") == 0) {
			if (json_number(r, &v, &whole) < 0 || !whole || v < 1)
				return false;
			j->max_tx_bytes = (uint64_t)v;
		} else if (!reply_skip(r)) {
			return false;
		}
		json_skip_ws(r);
		if (r->p < r->end && *r->p == ',') {
			r->p++;
			continue;
		}
		if (r->p < r->end && *r->p == '}') {
			r->p++;
			return true;
		}
		return false;
	}
}

/* {"allow": ..., "deny_message": "..."}. Returns false when it is not such an object. */
static bool reply_object(struct json_reader *r, struct policy_job *j)
{
	char key[32];
	bool has_allow = false, allow = false, has_msg = false;

	if (r->p >= r->end || *r->p != '{')
		return false;
	r->p++;
	json_skip_ws(r);
	if (r->p < r->end && *r->p == '}') {
		r->p++;
		goto out;
	}
	for (;;) {
		json_skip_ws(r);
		if (!reply_string(r, key, sizeof(key)))
			return false;
		json_skip_ws(r);
		if (r->p >= r->end || *r->p != ':')
			return false;
		r->p++;
		json_skip_ws(r);
		if (strcmp(key, "allow") == 0) {
			has_allow = true;
			if (json_literal(r, "true")) {
				allow = true;
			} else if (json_literal(r, "false")) {
				allow = false;
			} else if (r->p < r->end && *r->p == '{') {
				/* {"allow": {"max_tx_bytes": N}}: allowed, its body at most N bytes. */
				allow = true;
				if (!reply_allow_object(r, j))
					return false;
			} else {
				return false;
			}
		} else if (strcmp(key, "deny_message") == 0) {
			if (!reply_string(r, j->message, sizeof(j->message)))
				return false;
			has_msg = true;
		} else if (!reply_skip(r)) {
			return false;
		}
		json_skip_ws(r);
		if (r->p < r->end && *r->p == ',') {
			r->p++;
			continue;
		}
		if (r->p < r->end && *r->p == '}') {
			r->p++;
			break;
		}
		return false;
	}
out:
	json_skip_ws(r);
	if (r->p != r->end)
		return false;
	/* httpjail: no "allow" but a message denies; neither allows. */
	j->allow = has_allow ? allow : !has_msg;
	if (j->allow)
		j->message[0] = '\0';
	else
		j->max_tx_bytes = 0;
	return true;
}

void policy_parse_reply(const char *line, size_t len, struct policy_job *j)
{
	struct json_reader r;
	char s[16];
	size_t i, n;

	j->message[0] = '\0';
	j->max_tx_bytes = 0;
	json_init(&r, line, len, s, sizeof(s), REPLY_DEPTH, true);
	json_skip_ws(&r);
	while (r.end > r.p && (r.end[-1] == ' ' || r.end[-1] == '\t' || r.end[-1] == '\r'))
		r.end--;
	if (r.end - r.p == 4 && memcmp(r.p, "true", 4) == 0) {
		j->allow = true;
		return;
	}
	if (r.end - r.p == 5 && memcmp(r.p, "false", 5) == 0) {
		j->allow = false;
		return;
	}
	if (r.p < r.end && *r.p == '"' && reply_string(&r, s, sizeof(s)) && r.p == r.end &&
	    (strcmp(s, "true") == 0 || strcmp(s, "false") == 0)) {
		j->allow = strcmp(s, "true") == 0;
		return;
	}
	json_init(&r, line, len, s, sizeof(s), REPLY_DEPTH, true);
	json_skip_ws(&r);
	if (reply_object(&r, j))
		return;
	/* Anything else denies, with the text as the message (control characters made spaces). */
	j->allow = false;
	n = len < sizeof(j->message) - 1 ? len : sizeof(j->message) - 1;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)line[i];

		j->message[i] = c < 0x20 || c == 0x7f ? ' ' : (char)c;
	}
	j->message[n] = '\0';
}

/* --- the rules program --------------------------------------------------------------------- */

static void program_stop(struct policy *p)
{
	if (p->pid > 0) {
		/* Its whole process group: a shell command's children too. */
		kill(-p->pid, SIGKILL);
		kill(p->pid, SIGKILL);
		while (waitpid(p->pid, NULL, 0) == -1 && errno == EINTR)
			;
	}
	p->pid = -1;
	if (p->to_prog >= 0)
		close(p->to_prog);
	if (p->from_prog >= 0)
		close(p->from_prog);
	p->to_prog = p->from_prog = -1;
	p->rlen = 0;
}

/* In the child, between fork() and exec: system calls only. */
static void program_child(struct policy *p, int in, int out, int errp, int code)
{
	static char self[] = "boundary", eval[] = JSEVAL_ARGV1;
	char *js_argv[] = {self, eval, p->mem_arg, NULL}, *no_env[] = {NULL};
	struct rlimit rl;
	int exe;
	static char sh[] = "/bin/sh", dash_c[] = "-c";
	char *sh_argv[] = {sh, dash_c, p->program, NULL};
	char *argv[] = {p->program, NULL};
	struct sigaction sa;
	sigset_t none;
	int e, s;

	/* boundary ignores SIGPIPE and queues forwarded signals: the program starts clean. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (s = 1; s < NSIG; s++)
		sigaction(s, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* Its own process group: the terminal's ^C is the command's, not the program's. */
	setpgid(0, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (dup2(in, 0) == -1 || dup2(out, 1) == -1)
		goto fail;
	if (p->cfg.drop &&
	    (setgroups(0, NULL) == -1 || setresgid(p->cfg.gid, p->cfg.gid, p->cfg.gid) == -1 ||
	     setresuid(p->cfg.uid, p->cfg.uid, p->cfg.uid) == -1))
		goto fail;
	if (p->cfg.mode == POLICY_JS) {
		/*
		 * The evaluator: boundary's own program afresh (nothing of this process's memory),
		 * the code on fd 3, no way to gain privileges, memory capped for the kernel too.
		 */
		exe = p->root->self_exe;
		if (exe == 3)
			exe = fcntl(3, F_DUPFD_CLOEXEC, 4);
		if (exe == -1 || (code == 3 ? fcntl(3, F_SETFD, 0) : dup2(code, 3)) == -1 ||
		    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
			goto fail;
		rl.rlim_cur = rl.rlim_max = (rlim_t)p->cfg.js_memory * 2 + (512u << 20);
		if (setrlimit(RLIMIT_AS, &rl) == -1)
			goto fail;
		rl.rlim_cur = rl.rlim_max = 0;
		setrlimit(RLIMIT_CORE, &rl);
		syscall(SYS_close_range, 4U, ~0U, 4U /* CLOSE_RANGE_CLOEXEC */);
		/* No environment: the code needs none, and it may hold what is not the code's. */
		syscall(SYS_execveat, exe, "", js_argv, no_env, AT_EMPTY_PATH);
		goto fail;
	}
	syscall(SYS_close_range, 3U, ~0U, 4U /* CLOSE_RANGE_CLOEXEC */);
	if (strchr(p->program, ' '))
		execv(sh_argv[0], sh_argv);
	else
		execvp(p->program, argv);
fail:
	e = errno;
	if (write(errp, &e, sizeof(e)) == -1) {
		/* the parent sees a short read and reports a failure all the same */
	}
	_exit(127);
}

static int program_start(struct policy *p, char *err, size_t errlen)
{
	int in[2] = {-1, -1}, out[2] = {-1, -1}, ep[2] = {-1, -1}, e = 0, ret = 0, code = -1;
	ssize_t n;
	pid_t pid;

	if (p->cfg.mode == POLICY_JS) {
		pthread_mutex_lock(&p->root->lock);
		code = fcntl(p->root->code_fd, F_DUPFD_CLOEXEC, 3);
		p->child_gen = p->root->gen;
		pthread_mutex_unlock(&p->root->lock);
		if (code == -1) {
			ret = -errno;
			snprintf(err, errlen, "cannot hand the code to the --js evaluator: %s",
				 strerror(-ret));
			goto out;
		}
	}

	if (pipe2(in, O_CLOEXEC) == -1 || pipe2(out, O_CLOEXEC) == -1 ||
	    pipe2(ep, O_CLOEXEC) == -1) {
		ret = -errno;
		snprintf(err, errlen, "cannot make pipes for the rules program: %s",
			 strerror(-ret));
		goto out;
	}
	pid = fork();
	if (pid == -1) {
		ret = -errno;
		snprintf(err, errlen, "cannot start the rules program: %s", strerror(-ret));
		goto out;
	}
	if (pid == 0)
		program_child(p, in[0], out[1], ep[1], code);
	close(ep[1]);
	ep[1] = -1;
	do
		n = read(ep[0], &e, sizeof(e));
	while (n == -1 && errno == EINTR);
	if (n > 0) {
		while (waitpid(pid, NULL, 0) == -1 && errno == EINTR)
			;
		ret = n == sizeof(e) && e ? -e : -EIO;
		snprintf(err, errlen, "cannot run the rules program \"%s\": %s%s", p->program,
			 strerror(-ret),
			 -ret == ENOENT || -ret == EACCES
			     ? " (give a path to an executable file, or a shell command with "
			       "its arguments)"
			     : "");
		goto out;
	}
	p->pid = pid;
	p->to_prog = in[1];
	p->from_prog = out[0];
	in[1] = out[0] = -1;
	fcntl(p->from_prog, F_SETFL, O_NONBLOCK);
	log_debug("%s \"%s\" started (pid %d)", policy_engine(p), p->program, (int)pid);
out:
	if (in[0] >= 0)
		close(in[0]);
	if (in[1] >= 0)
		close(in[1]);
	if (out[0] >= 0)
		close(out[0]);
	if (out[1] >= 0)
		close(out[1]);
	if (ep[0] >= 0)
		close(ep[0]);
	if (ep[1] >= 0)
		close(ep[1]);
	if (code >= 0)
		close(code);
	return ret;
}

/* Reads the eventfd, so that a queued job does not keep poll() from waiting. */
static void drain_wake(struct policy *p)
{
	uint64_t n;

	if (read(p->wake, &n, sizeof(n)) == -1) {
		/* EAGAIN: another read took it */
	}
}

static bool stopping(struct policy *p)
{
	bool stop;

	pthread_mutex_lock(&p->lock);
	stop = p->stop;
	pthread_mutex_unlock(&p->lock);
	return stop;
}

/*
 * One reply line into line (NUL-terminated, no newline). Returns its length, -ETIMEDOUT,
 * -EPIPE (the program closed its stdout), -E2BIG (a line too long) or -ECANCELED (stopping).
 */
static ssize_t program_read(struct policy *p, char *line, size_t cap)
{
	uint64_t deadline = util_now_ms() + p->cfg.timeout_ms, now;
	struct pollfd pf[2];
	char *nl;
	ssize_t n;
	size_t len;

	for (;;) {
		nl = memchr(p->rbuf, '\n', p->rlen);
		if (nl) {
			len = (size_t)(nl - p->rbuf);
			if (len >= cap)
				return -E2BIG;
			memcpy(line, p->rbuf, len);
			line[len] = '\0';
			p->rlen -= len + 1;
			memmove(p->rbuf, nl + 1, p->rlen);
			return (ssize_t)len;
		}
		if (p->rlen == sizeof(p->rbuf))
			return -E2BIG;
		now = util_now_ms();
		if (now >= deadline)
			return -ETIMEDOUT;
		pf[0].fd = p->from_prog;
		pf[0].events = POLLIN;
		pf[1].fd = p->wake;
		pf[1].events = POLLIN;
		if (poll(pf, 2, (int)(deadline - now)) == -1 && errno != EINTR)
			return -errno;
		if (stopping(p))
			return -ECANCELED;
		if (p->cfg.mode != POLICY_PERSON && (pf[1].revents & POLLIN))
			drain_wake(p); /* a job queued: program_main() finds it in the queue */
		if (!(pf[0].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		n = read(p->from_prog, p->rbuf + p->rlen, sizeof(p->rbuf) - p->rlen);
		if (n == 0)
			return -EPIPE;
		if (n > 0)
			p->rlen += (size_t)n;
		else if (errno != EAGAIN && errno != EINTR)
			return -errno;
	}
}

/*
 * Writes all of s. A non-blocking fd (the terminal) that is full is waited on, up to 5 s in all,
 * so a terminal nobody reads (or one stopped with ^S) cannot hold the policy thread for ever.
 */
static bool write_all(int fd, const char *s, size_t n)
{
	uint64_t deadline = util_now_ms() + 5000;
	struct pollfd pf;
	ssize_t w;

	while (n > 0) {
		w = write(fd, s, n);
		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1 && errno == EAGAIN && util_now_ms() < deadline) {
			pf.fd = fd;
			pf.events = POLLOUT;
			poll(&pf, 1, 100);
			continue;
		}
		if (w <= 0)
			return false;
		s += w;
		n -= (size_t)w;
	}
	return true;
}

static void program_decide(struct policy *p, struct policy_job *j)
{
	char req[REQUEST_MAX], reply[REPLY_MAX], err[256], why[128];
	size_t len = policy_request_json(j, req, sizeof(req));
	int attempt, status;
	ssize_t n;

	if (!len) {
		answer(j, false, "rules program",
		       "the request is too large to hand to the rules program");
		return;
	}
	for (attempt = 0; attempt < 2; attempt++) {
		if (p->pid > 0 && waitpid(p->pid, &status, WNOHANG) == p->pid) {
			log_warn("the rules program \"%s\" %s %d; starting it again", p->program,
				 WIFSIGNALED(status) ? "was killed by signal"
						     : "exited with status",
				 WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
			p->pid = -1;
			program_stop(p);
		}
		if (p->pid <= 0 && program_start(p, err, sizeof(err)) < 0) {
			log_warn("%s", err);
			continue;
		}
		if (!write_all(p->to_prog, req, len)) {
			snprintf(why, sizeof(why), "cannot write to it: %s", strerror(errno));
		} else {
			n = program_read(p, reply, sizeof(reply));
			if (n == -ECANCELED) {
				answer(j, false, "rules program", "boundary is stopping");
				return;
			}
			if (n > 0) {
				policy_parse_reply(reply, (size_t)n, j);
				if (j->allow)
					snprintf(j->rule, sizeof(j->rule), "rules program");
				answer(j, j->allow, "rules program", NULL);
				return;
			}
			snprintf(why, sizeof(why), "%s",
				 n == 0		   ? "it answered an empty line"
				 : n == -ETIMEDOUT ? "it did not answer in time"
				 : n == -EPIPE	   ? "it closed its output (or exited)"
				 : n == -E2BIG	   ? "its answer is too long"
						   : strerror((int)-n));
			if (n == -ETIMEDOUT)
				snprintf(why, sizeof(why), "it did not answer within %u ms",
					 p->cfg.timeout_ms);
		}
		log_warn("rules program \"%s\" on %s %s: %s; killing it and starting it again",
			 p->program, j->method, j->url, why);
		program_stop(p);
	}
	answer(j, false, "rules program",
	       "the rules program gave no answer (program evaluation failed; see boundary's log)");
}

/* --- --js: the evaluator ------------------------------------------------------------------- */

/* One more time the --js rule went over a budget: said at info each time, at warn once. */
static void js_overrun(struct policy *p, const struct policy_job *j, const char *what)
{
	unsigned n = atomic_fetch_add(&p->root->overruns, 1) + 1;

	log_info("--js rule on %s %s: %s; denied", j->method, j->url, what);
	if (n == JS_OVERRUNS_WARN)
		log_warn("the --js rule keeps going over its budgets (%u times so far, the last: "
			 "%s): each such request is denied. Look for a loop that does not end or "
			 "a value that keeps growing (--js-budget and --js-memory set the budgets)",
			 n, what);
}

static void js_decide(struct policy *p, struct policy_job *j)
{
	char req[REQUEST_MAX], reply[REPLY_MAX], err[256], why[128];
	size_t len = policy_request_json(j, req, sizeof(req));
	unsigned gen;
	int attempt;
	ssize_t n;

	if (!len) {
		answer(j, false, "--js rule", "the request is too large to hand to the --js rule");
		return;
	}
	pthread_mutex_lock(&p->root->lock);
	gen = p->root->gen;
	pthread_mutex_unlock(&p->root->lock);
	/* New code (--js-file changed): this lane's evaluator starts again with it. */
	if (p->pid > 0 && p->child_gen != gen)
		program_stop(p);
	for (attempt = 0; attempt < 2; attempt++) {
		/* An evaluator that went over its memory exits after saying so: quietly replaced. */
		if (p->pid > 0 && waitpid(p->pid, NULL, WNOHANG) == p->pid) {
			p->pid = -1;
			program_stop(p);
		}
		if (p->pid <= 0 && program_start(p, err, sizeof(err)) < 0) {
			log_warn("%s", err);
			continue;
		}
		if (!write_all(p->to_prog, req, len)) {
			snprintf(why, sizeof(why), "cannot write to it: %s", strerror(errno));
		} else {
			while ((n = program_read(p, reply, sizeof(reply))) > 0 && reply[0] == '#')
				log_debug("--js console: %s", reply + 1);
			if (n == -ECANCELED) {
				answer(j, false, "--js rule", "boundary is stopping");
				return;
			}
			if (n == -ETIMEDOUT) {
				program_stop(p);
				snprintf(why, sizeof(why),
					 "did not finish within its time budget of %u ms",
					 p->cfg.timeout_ms);
				js_overrun(p, j, why);
				answer(j, false, "--js rule", "the --js rule %s", why);
				return;
			}
			if (n > 0 && strcmp(reply, "!memory") == 0) {
				program_stop(p);
				snprintf(why, sizeof(why), "went over its memory cap of %zu MiB",
					 p->cfg.js_memory >> 20);
				js_overrun(p, j, why);
				answer(j, false, "--js rule", "the --js rule %s", why);
				return;
			}
			if (n > 0 && strncmp(reply, "!error ", 7) == 0) {
				log_info("--js rule on %s %s: %s", j->method, j->url, reply + 7);
				answer(j, false, "--js rule",
				       "the --js rule failed (JavaScript execution failed): %s",
				       reply + 7);
				return;
			}
			if (n > 0) {
				policy_parse_reply(reply, (size_t)n, j);
				if (j->allow)
					snprintf(j->rule, sizeof(j->rule), "--js rule");
				answer(j, j->allow, "--js rule", NULL);
				return;
			}
			snprintf(why, sizeof(why), "%s",
				 n == 0	       ? "it answered an empty line"
				 : n == -EPIPE ? "it exited"
				 : n == -E2BIG ? "its answer is too long"
					       : strerror((int)-n));
		}
		log_warn("the --js evaluator on %s %s: %s; starting it again", j->method, j->url,
			 why);
		program_stop(p);
	}
	answer(j, false, "--js rule",
	       "the --js evaluator gave no answer (JavaScript execution failed; see boundary's "
	       "log)");
}

/* --- --sh: a script per request ------------------------------------------------------------ */

extern char **environ;

/* The environment of one run: boundary's own, minus HTTPJAIL_*, plus the request's. */
static char **sh_env(const struct policy_job *j, char *vars, size_t cap)
{
	const char *names[] = {"HTTPJAIL_URL",	"HTTPJAIL_METHOD", "HTTPJAIL_SCHEME",
			       "HTTPJAIL_HOST", "HTTPJAIL_PATH",   "HTTPJAIL_REQUESTER_IP"};
	const char *vals[] = {j->url, j->method, j->scheme, j->host, j->path, j->requester_ip};
	size_t n = 0, k = 0, i, off = 0;
	char **env;
	int w;

	while (environ[n])
		n++;
	env = calloc(n + 7, sizeof(*env));
	if (!env)
		return NULL;
	for (i = 0; i < 6; i++) {
		w = snprintf(vars + off, cap - off, "%s=%s", names[i], vals[i]);
		if (w < 0 || (size_t)w >= cap - off) {
			free(env);
			return NULL;
		}
		env[k++] = vars + off;
		off += (size_t)w + 1;
	}
	for (i = 0; i < n; i++)
		if (strncmp(environ[i], "HTTPJAIL_", 9) != 0)
			env[k++] = environ[i];
	env[k] = NULL;
	return env;
}

/* In the child, between fork() and exec: system calls only. */
static void sh_child(const struct policy *p, int in, int out, char **env)
{
	static char sh[] = "/bin/sh", dash_c[] = "-c";
	char *sh_argv[] = {sh, dash_c, p->program, NULL};
	char *argv[] = {p->program, NULL};
	struct sigaction sa;
	sigset_t none;
	int s;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (s = 1; s < NSIG; s++)
		sigaction(s, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	setpgid(0, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (dup2(in, 0) == -1 || dup2(out, 1) == -1)
		_exit(127);
	if (p->cfg.drop &&
	    (setgroups(0, NULL) == -1 || setresgid(p->cfg.gid, p->cfg.gid, p->cfg.gid) == -1 ||
	     setresuid(p->cfg.uid, p->cfg.uid, p->cfg.uid) == -1))
		_exit(127);
	syscall(SYS_close_range, 3U, ~0U, 4U /* CLOSE_RANGE_CLOEXEC */);
	if (strchr(p->program, ' '))
		execve(sh_argv[0], sh_argv, env);
	else
		execvpe(p->program, argv, env);
	_exit(127);
}

/* Reads the script's stdout to its end, up to the deadline. Returns 0, -ETIMEDOUT, -ECANCELED. */
static int sh_read(struct policy *p, int fd, uint64_t deadline, char *out, size_t cap, size_t *len)
{
	struct pollfd pf[2];
	char sink[512];
	uint64_t now;
	ssize_t n;

	for (;;) {
		now = util_now_ms();
		if (now >= deadline)
			return -ETIMEDOUT;
		pf[0].fd = fd;
		pf[0].events = POLLIN;
		pf[1].fd = p->wake;
		pf[1].events = POLLIN;
		if (poll(pf, 2, (int)(deadline - now)) == -1 && errno != EINTR)
			return -errno;
		if (stopping(p))
			return -ECANCELED;
		if (pf[1].revents & POLLIN)
			drain_wake(p); /* a job queued: program_main() finds it in the queue */
		if (!(pf[0].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		if (*len + 1 < cap)
			n = read(fd, out + *len, cap - 1 - *len);
		else
			n = read(fd, sink, sizeof(sink));
		if (n == 0)
			return 0;
		if (n > 0 && *len + 1 < cap)
			*len += (size_t)n;
		else if (n == -1 && errno != EAGAIN && errno != EINTR)
			return 0;
	}
}

/* Waits for pid until the deadline. Returns its status, or -1 when it had to be killed. */
static int sh_wait(pid_t pid, uint64_t deadline)
{
	int status;

	for (;;) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return status;
		if (util_now_ms() >= deadline)
			break;
		usleep(2000);
	}
	kill(-pid, SIGKILL);
	kill(pid, SIGKILL);
	while (waitpid(pid, NULL, 0) == -1 && errno == EINTR)
		;
	return -1;
}

static void sh_decide(struct policy *p, struct policy_job *j)
{
	char req[REQUEST_MAX], vars[4096], out[REPLY_MAX];
	int in[2] = {-1, -1}, op[2] = {-1, -1}, ret, status;
	uint64_t deadline = util_now_ms() + p->cfg.timeout_ms;
	size_t len = policy_request_json(j, req, sizeof(req)), olen = 0;
	char **env = len ? sh_env(j, vars, sizeof(vars)) : NULL;
	pid_t pid = -1;

	if (!env) {
		answer(j, false, "--sh script",
		       "the request is too large to hand to the --sh script");
		return;
	}
	if (pipe2(in, O_CLOEXEC) == -1 || pipe2(op, O_CLOEXEC) == -1 || (pid = fork()) == -1) {
		log_warn_errno("cannot run the --sh script \"%s\"", p->program);
		answer(j, false, "--sh script", "the --sh script could not be started");
		goto out;
	}
	if (pid == 0)
		sh_child(p, in[0], op[1], env);
	close(in[0]);
	close(op[1]);
	in[0] = op[1] = -1;
	/* The request on stdin as well (it fits the pipe: no wait); a script may ignore it. */
	fcntl(in[1], F_SETFL, O_NONBLOCK);
	if (write(in[1], req, len) == -1) {
		/* the script closed its stdin: it reads the environment */
	}
	close(in[1]);
	in[1] = -1;
	ret = sh_read(p, op[0], deadline, out, sizeof(out), &olen);
	status = ret == 0 ? sh_wait(pid, deadline) : sh_wait(pid, 0);
	out[olen] = '\0';
	while (olen > 0 && strchr(" \t\r\n", out[olen - 1]))
		out[--olen] = '\0';
	if (ret == -ECANCELED) {
		answer(j, false, "--sh script", "boundary is stopping");
	} else if (ret == -ETIMEDOUT || status == -1) {
		log_info("--sh script on %s %s: no exit within %u s; killed", j->method, j->url,
			 p->cfg.timeout_ms / 1000);
		answer(j, false, "--sh script",
		       "the --sh script did not finish within %u s (script execution timed out)",
		       p->cfg.timeout_ms / 1000);
	} else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		answer(j, true, "--sh script", "--sh script");
	} else {
		size_t i;

		for (i = 0; i < olen; i++)
			if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f)
				out[i] = ' ';
		if (WIFEXITED(status) && WEXITSTATUS(status) == 127 && !olen)
			log_warn("the --sh script \"%s\" exited 127: is it there, and executable?",
				 p->program);
		if (olen)
			answer(j, false, "--sh script", "%.500s", out);
		else if (WIFEXITED(status))
			answer(j, false, "--sh script", "the --sh script refused it (exit %d)",
			       WEXITSTATUS(status));
		else
			answer(j, false, "--sh script", "the --sh script was killed by signal %d",
			       WTERMSIG(status));
	}
out:
	if (in[0] >= 0)
		close(in[0]);
	if (in[1] >= 0)
		close(in[1]);
	if (op[0] >= 0)
		close(op[0]);
	if (op[1] >= 0)
		close(op[1]);
	free(env);
}

static void program_main(struct policy *p)
{
	struct policy_job *pending = NULL, *j;
	struct pollfd pf;

	for (;;) {
		if (take_queue(p, &pending))
			break;
		/*
		 * Waiting for an answer drains the eventfd (program_read(), sh_read()), so what was
		 * queued meanwhile is found here, by the queue, not by a wake-up: only an empty
		 * queue waits. take_queue() reads the eventfd before the queue, so no job is missed.
		 */
		if (!pending) {
			pf.fd = p->wake;
			pf.events = POLLIN;
			poll(&pf, 1, -1);
			continue;
		}
		while ((j = pending)) {
			pending = j->next;
			if (p->cfg.mode == POLICY_JS)
				js_decide(p, j);
			else if (p->cfg.mode == POLICY_SH)
				sh_decide(p, j);
			else
				program_decide(p, j);
			atomic_fetch_sub(&p->queued, 1);
			if (stopping(p))
				break;
		}
		if (pending || stopping(p))
			break;
	}
	take_queue(p, &pending);
	while ((j = pending)) {
		pending = j->next;
		answer(j, false, policy_engine(p), "boundary is stopping");
	}
}

/* --- the person: at the terminal, or from another one through the socket ------------------- */

#define BY_TTY	  "the person at boundary's terminal"
#define BY_SOCKET "the person, from another terminal"

/* s as it may be shown on a terminal: only printable ASCII, the rest '?'. */
static void shown(const char *s, char *out, size_t cap)
{
	size_t i;

	for (i = 0; s[i] && i + 1 < cap; i++)
		out[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	out[i] = '\0';
}

static void say(struct policy *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Writes to the terminal while a question is on it (and nowhere otherwise). */
static void say(struct policy *p, const char *fmt, ...)
{
	char buf[2048];
	va_list ap;
	int n;

	if (p->tty_gone || !p->on_tty)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > 0 && !write_all(p->tty, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1))
		log_warn_errno("cannot write to the terminal");
}

static bool always_allows(const struct policy *p, const struct policy_job *j, const char **rule)
{
	struct rules_request rq;
	struct rules_decision d;

	if (rules_count(p->always) == 0)
		return false;
	rules_request_init(&rq, j->method, j->host, j->path, strlen(j->path), j->port);
	rules_match(p->always, &rq, &d);
	*rule = d.raw;
	return d.allow;
}

static void ask(struct policy *p, const struct policy_job *j)
{
	char who[64], url[300], host[270], exe[300];

	shown(j->comm[0] ? j->comm : "a client", who, sizeof(who));
	shown(j->url, url, sizeof(url));
	shown(j->host, host, sizeof(host));
	if (j->pid)
		say(p, "\r\nboundary: %s[%u] wants %s %s\r\n", who, j->pid, j->method, url);
	else
		say(p, "\r\nboundary: %s wants %s %s\r\n", who, j->method, url);
	/* The name is the program's to choose; the file it runs is not. */
	if (j->exe[0]) {
		shown(j->exe, exe, sizeof(exe));
		say(p, "boundary: (it runs %s)\r\n", exe);
	}
	say(p, "boundary: allow %s? [once/always/deny] ", host);
}

/* Appends rule to the --save-rules file in one write. Returns 0 or -errno. */
static int save_rule(const struct policy *p, const char *rule)
{
	char line[320];
	int fd, n, ret = 0;

	fd = open(p->save_rules, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd == -1)
		return -errno;
	n = snprintf(line, sizeof(line), "%s\n", rule);
	if (write(fd, line, (size_t)n) != n)
		ret = errno ? -errno : -EIO;
	if (close(fd) == -1 && !ret)
		ret = -errno;
	return ret;
}

/* Answers every pending job for host; returns how many. */
static unsigned settle(struct policy_job **pending, const char *host, bool allow, const char *by,
		       const char *note)
{
	struct policy_job **pp, *j;
	unsigned n = 0;

	for (pp = pending; (j = *pp);) {
		if (strcmp(j->host, host) != 0) {
			pp = &j->next;
			continue;
		}
		*pp = j->next;
		n++;
		answer(j, allow, by, "%s", note);
	}
	return n;
}

/*
 * The person's answer (word, from the terminal or the socket) about host settles every pending
 * job for it. Returns false when word is not an answer. reply: what to tell them, one line.
 */
static bool decide(struct policy *p, struct policy_job **pending, const char *host,
		   const char *word, const char *by, char *reply, size_t cap)
{
	const char *where =
	    strcmp(by, BY_TTY) == 0 ? "at boundary's terminal" : "from another terminal";
	char a[16], rule[300], err[256], h[270], note[96];
	size_t i, k = 0;
	unsigned n;
	int ret;

	for (i = 0; word[i] && k + 1 < sizeof(a); i++) {
		char c = word[i];

		if (c == ' ' || c == '\t')
			continue;
		a[k++] = c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
	}
	a[k] = '\0';
	shown(host, h, sizeof(h));
	if (strcmp(a, "o") == 0 || strcmp(a, "once") == 0 || strcmp(a, "y") == 0 ||
	    strcmp(a, "yes") == 0) {
		snprintf(note, sizeof(note), "allowed once %s", where);
		n = settle(pending, host, true, by, note);
		snprintf(reply, cap, "allowed %s (%u request%s)", h, n, n == 1 ? "" : "s");
		log_info("%s allowed %s once (%u request%s)", by, host, n, n == 1 ? "" : "s");
		return true;
	}
	if (strcmp(a, "d") == 0 || strcmp(a, "deny") == 0 || strcmp(a, "n") == 0 ||
	    strcmp(a, "no") == 0) {
		n = settle(pending, host, false, by, "");
		snprintf(reply, cap, "refused %s (%u request%s)", h, n, n == 1 ? "" : "s");
		log_info("%s refused %s (%u request%s)", by, host, n, n == 1 ? "" : "s");
		return true;
	}
	if (strcmp(a, "a") != 0 && strcmp(a, "always") != 0) {
		snprintf(reply, cap, "please answer once, always or deny");
		return false;
	}
	snprintf(rule, sizeof(rule), "domain=%s", host);
	/* One host, one rule, one line of the saved file: nothing but a host name's characters. */
	if (strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:[]") !=
	    strlen(host)) {
		snprintf(err, sizeof(err), "not a host name");
		ret = -EINVAL;
	} else {
		err[0] = '\0';
		ret = rules_add(p->always, rule, NULL, err, sizeof(err));
	}
	if (ret < 0) {
		snprintf(note, sizeof(note), "allowed once %s", where);
		settle(pending, host, true, by, note);
		snprintf(reply, cap, "%s cannot be a rule (%s): allowed once", h,
			 err[0] ? err : rules_strerror(ret));
		return true;
	}
	settle(pending, host, true, by, rule);
	log_info("%s allowed %s for the rest of the run (rule %s)", by, host, rule);
	if (p->save_rules) {
		ret = save_rule(p, rule);
		if (ret < 0) {
			log_warn("cannot append \"%s\" to %s: %s", rule, p->save_rules,
				 strerror(-ret));
			snprintf(reply, cap, "allowed %s for this run; could not save it to %s: %s",
				 h, p->save_rules, strerror(-ret));
		} else {
			snprintf(reply, cap, "allowed %s from now on (saved to %s)", h,
				 p->save_rules);
		}
	} else {
		snprintf(reply, cap,
			 "allowed %s for the rest of this run (--save-rules FILE keeps it)", h);
	}
	return true;
}

/* Jobs the "always" rules now allow are answered at once. */
static void settle_always(struct policy *p, struct policy_job **pending)
{
	struct policy_job **pp, *j;
	const char *rule;

	for (pp = pending; (j = *pp);) {
		if (!always_allows(p, j, &rule)) {
			pp = &j->next;
			continue;
		}
		*pp = j->next;
		answer(j, true, BY_TTY, "%s", rule);
	}
}

/* --- the terminal, taken for a question and given back -------------------------------------- */

/*
 * The jail frozen (cgroup.freeze) or thawed. A frozen process is neither stopped (its parent,
 * a job-control shell, sees nothing) nor inside a read of the terminal (the read is restarted
 * when it thaws, by then with the terminal given back). Waits up to 1 s for the freeze.
 */
static int jail_freeze(struct policy *p, bool on)
{
	char path[PATH_MAX + 32], cg[PATH_MAX], buf[256];
	ssize_t n;
	int fd, i, e;

	pthread_mutex_lock(&p->lock);
	snprintf(cg, sizeof(cg), "%s", p->cg_path);
	pthread_mutex_unlock(&p->lock);
	if (!cg[0])
		return -ENOENT;
	snprintf(path, sizeof(path), "%s/cgroup.freeze", cg);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd == -1)
		return -errno;
	n = write(fd, on ? "1" : "0", 1);
	e = errno;
	close(fd);
	if (n != 1)
		return -e;
	if (!on)
		return 0;
	snprintf(path, sizeof(path), "%s/cgroup.events", cg);
	for (i = 0; i < 100; i++) {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd == -1)
			return -errno;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n > 0) {
			buf[n] = '\0';
			if (strstr(buf, "frozen 1"))
				return 0;
		}
		usleep(10000);
	}
	return -ETIMEDOUT;
}

/*
 * Whether a thread of the jail is inside a read(2) of the terminal now: in line mode it holds the
 * terminal's read lock, and would take the answer for itself unless the jail is frozen.
 */
static bool jail_reads_tty(struct policy *p)
{
	char cg[PATH_MAX], path[PATH_MAX + 32], buf[8192], sc[128], *s, *end;
	struct stat tty, st;
	unsigned long fd;
	ssize_t n;
	long tid, nr;
	int f;

	pthread_mutex_lock(&p->lock);
	snprintf(cg, sizeof(cg), "%s", p->cg_path);
	pthread_mutex_unlock(&p->lock);
	if (!cg[0] || fstat(p->tty, &tty) == -1)
		return false;
	snprintf(path, sizeof(path), "%s/cgroup.threads", cg);
	f = open(path, O_RDONLY | O_CLOEXEC);
	if (f == -1)
		return false;
	n = read(f, buf, sizeof(buf) - 1);
	close(f);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	for (s = buf; *s; s = end) {
		tid = strtol(s, &end, 10);
		if (end == s)
			break;
		snprintf(path, sizeof(path), "/proc/%ld/syscall", tid);
		f = open(path, O_RDONLY | O_CLOEXEC);
		if (f == -1)
			continue;
		n = read(f, sc, sizeof(sc) - 1);
		close(f);
		if (n <= 0)
			continue;
		sc[n] = '\0';
		nr = strtol(sc, &s, 10);
		if (s == sc || (nr != SYS_read && nr != SYS_readv))
			continue;
		fd = strtoul(s, NULL, 16);
		snprintf(path, sizeof(path), "/proc/%ld/fd/%lu", tid, fd);
		if (stat(path, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == tty.st_rdev)
			return true;
	}
	return false;
}

/* Whether the processes of group pg are stopped (its leader, as /proc says). */
static bool group_stopped(pid_t pg)
{
	char path[64], buf[256], *rp;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pg);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	rp = strrchr(buf, ')');
	return rp && rp[1] == ' ' && (rp[2] == 'T' || rp[2] == 't');
}

/*
 * Takes the terminal for a question. When the command reads it key by key (raw mode: a
 * full-screen program, or a shell's line editor) the question is asked only with
 * --interactive=terminal, and only if the jail can be frozen meanwhile, so that no process of
 * it reads the answer. Boundary's process group becomes the foreground one (SIGTTOU is blocked
 * in this thread), what was typed and not read yet is kept for the command, and the terminal
 * reads one line with echo. Returns false, having changed nothing, when the question must go
 * to the socket; why into why.
 */
static bool tty_take(struct policy *p, char *why, size_t cap)
{
	pid_t fg, own = getpgrp();
	struct termios t;
	ssize_t n;
	int ret;

	if (tcgetattr(p->tty, &p->saved) == -1) {
		snprintf(why, cap, "cannot read the terminal's mode: %s", strerror(errno));
		return false;
	}
	p->raw = !(p->saved.c_lflag & ICANON);
	if (p->raw && p->cfg.ask == POLICY_ASK_AUTO) {
		snprintf(why, cap, "the command reads the terminal itself");
		return false;
	}
	/*
	 * Key by key, or already inside a read of the terminal, it would take the answer for
	 * itself: paused, not stopped, for the question.
	 */
	p->frozen = false;
	if (p->raw || jail_reads_tty(p)) {
		ret = jail_freeze(p, true);
		if (ret < 0) {
			jail_freeze(p, false);
			snprintf(why, cap,
				 "the command reads the terminal itself and cannot be paused (%s)",
				 strerror(-ret));
			return false;
		}
		p->frozen = true;
	}
	fg = tcgetpgrp(p->tty);
	p->took_from = fg > 0 && fg != own ? fg : 0;
	if (p->took_from && tcsetpgrp(p->tty, own) == -1) {
		snprintf(why, cap, "cannot take the terminal's foreground: %s", strerror(errno));
		if (p->frozen)
			jail_freeze(p, false);
		return false;
	}
	p->on_tty = true;
	/* What was typed and not read yet is the command's: kept, and typed again afterwards. */
	t = p->saved;
	t.c_lflag &= ~(tcflag_t)(ICANON | ECHO | ISIG);
	t.c_cc[VMIN] = 0;
	t.c_cc[VTIME] = 0;
	tcsetattr(p->tty, TCSANOW, &t);
	p->nstash = 0;
	while (p->nstash < sizeof(p->stash) &&
	       (n = read(p->tty, p->stash + p->nstash, sizeof(p->stash) - p->nstash)) > 0)
		p->nstash += (size_t)n;
	/* A line with echo, and no signals: a ^C here would reach boundary, and end the jail. */
	t = p->saved;
	t.c_lflag |= ICANON | ECHO | ECHOE | ECHOK;
	t.c_lflag &= ~(tcflag_t)ISIG;
	t.c_iflag |= ICRNL;
	t.c_iflag &= ~(tcflag_t)(INLCR | IGNCR);
	t.c_oflag |= OPOST | ONLCR;
	tcsetattr(p->tty, TCSANOW, &t);
	return true;
}

/*
 * Gives the terminal back as it was taken: its mode, the keys kept, the foreground process group
 * (continued if it was stopped meanwhile), the jail thawed; a command in raw mode is told to
 * redraw its screen (a change of the window's size and back: SIGWINCH, twice).
 */
static void tty_give(struct policy *p)
{
	struct winsize ws, less;
	size_t i;

	if (!p->on_tty)
		return;
	p->on_tty = false;
	if (tcsetattr(p->tty, TCSADRAIN, &p->saved) == -1)
		log_warn_errno("cannot give the terminal its mode back");
	for (i = 0; i < p->nstash; i++) {
		if (ioctl(p->tty, TIOCSTI, &p->stash[i]) == -1) {
			log_warn("%zu key%s typed before boundary's question could not be given "
				 "back to the command (TIOCSTI: %s)",
				 p->nstash - i, p->nstash - i == 1 ? "" : "s", strerror(errno));
			break;
		}
	}
	p->nstash = 0;
	if (p->took_from && tcsetpgrp(p->tty, p->took_from) == -1)
		log_warn_errno("cannot give the terminal's foreground back to process group %d",
			       (int)p->took_from);
	if (p->took_from && group_stopped(p->took_from))
		kill(-p->took_from, SIGCONT);
	if (p->frozen && jail_freeze(p, false) < 0)
		log_warn_errno("cannot thaw the jail (its cgroup.freeze)");
	p->frozen = false;
	if (p->raw && ioctl(p->tty, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 1) {
		less = ws;
		less.ws_row--;
		ioctl(p->tty, TIOCSWINSZ, &less);
		usleep(100000);
		ioctl(p->tty, TIOCSWINSZ, &ws);
	}
}

/* --- the socket ------------------------------------------------------------------------------ */

/*
 * <POLICY_SOCKET_ROOT>/<owner>/<pid>.sock: the root directory root's alone, the user's 0700 and
 * theirs, the socket 0600 and theirs. Returns 0 or -errno with err filled.
 */
static int socket_open(struct policy *p, char *err, size_t errlen)
{
	struct sockaddr_un sa;
	int fd, ret, e, old_uid, old_gid;
	char dir[96];
	struct stat st;

	if (mkdir(POLICY_SOCKET_ROOT, 0755) == -1 && errno != EEXIST)
		goto fail_errno_root;
	if (lstat(POLICY_SOCKET_ROOT, &st) == -1)
		goto fail_errno_root;
	if (!S_ISDIR(st.st_mode) || st.st_uid != 0 || (st.st_mode & 022)) {
		snprintf(err, errlen,
			 "%s is not a directory that only root may write to: remove it, and "
			 "boundary makes it again",
			 POLICY_SOCKET_ROOT);
		return -EPERM;
	}
	snprintf(dir, sizeof(dir), "%s/%u", POLICY_SOCKET_ROOT, (unsigned)p->cfg.owner);
	if (mkdir(dir, 0700) == -1 && errno != EEXIST)
		goto fail_errno_dir;
	if (lstat(dir, &st) == -1)
		goto fail_errno_dir;
	if (!S_ISDIR(st.st_mode) || (st.st_uid != p->cfg.owner && st.st_uid != 0)) {
		snprintf(err, errlen, "%s is not a directory of uid %u: remove it", dir,
			 (unsigned)p->cfg.owner);
		return -EPERM;
	}
	if (chown(dir, p->cfg.owner, p->cfg.owner_gid) == -1 || chmod(dir, 0700) == -1)
		goto fail_errno_dir;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	ret = snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%d.sock", dir, (int)getpid());
	if (ret < 0 || (size_t)ret >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "%s: the path is too long for a socket", dir);
		return -ENAMETOOLONG;
	}
	unlink(sa.sun_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd == -1)
		goto fail_errno_dir;
	/*
	 * Made by the user (this thread's filesystem ids) with mode 0600 (the unbound socket's),
	 * so that no chown follows a name they could swap in a directory of theirs.
	 */
	if (fchmod(fd, 0600) == -1) {
		ret = -errno;
		close(fd);
		snprintf(err, errlen, "cannot make a socket: %s", strerror(-ret));
		return ret;
	}
	old_gid = setfsgid(p->cfg.owner_gid);
	old_uid = setfsuid(p->cfg.owner);
	ret = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	e = errno;
	setfsuid((uid_t)old_uid);
	setfsgid((gid_t)old_gid);
	errno = e;
	if (ret == -1 || listen(fd, 8) == -1) {
		ret = -errno;
		close(fd);
		unlink(sa.sun_path);
		snprintf(err, errlen, "cannot listen on %s: %s", sa.sun_path, strerror(-ret));
		return ret;
	}
	p->listen_fd = fd;
	snprintf(p->sock_path, sizeof(p->sock_path), "%s", sa.sun_path);
	return 0;
fail_errno_root:
	snprintf(dir, sizeof(dir), "%s", POLICY_SOCKET_ROOT);
fail_errno_dir:
	ret = -errno;
	snprintf(err, errlen, "cannot make %s for answers from another terminal: %s", dir,
		 strerror(-ret));
	return ret;
}

/*
 * Whether the client on fd may answer: the owner or root, and not a process of the jail (which
 * runs in a network namespace of its own, and could otherwise answer its own questions: the
 * socket is hidden from it, and this is the second lock).
 */
static bool peer_ok(const struct policy *p, int fd, char *why, size_t cap)
{
	struct stat mine, theirs;
	socklen_t len = sizeof(struct ucred);
	struct ucred cr;
	char path[64];

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) == -1) {
		snprintf(why, cap, "cannot tell who you are: %s", strerror(errno));
		return false;
	}
	if (cr.uid != 0 && cr.uid != p->cfg.owner) {
		snprintf(why, cap, "this boundary takes answers from uid %u (and root) only",
			 (unsigned)p->cfg.owner);
		return false;
	}
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)cr.pid);
	if (stat("/proc/self/ns/net", &mine) == -1 || stat(path, &theirs) == -1 ||
	    mine.st_dev != theirs.st_dev || mine.st_ino != theirs.st_ino) {
		snprintf(why, cap, "answers come from the host, not from inside a jail");
		log_warn("refused an answer from process %d (uid %u): it is not in boundary's "
			 "network namespace (the jail's own?)",
			 (int)cr.pid, (unsigned)cr.uid);
		return false;
	}
	return true;
}

static void send_line(int fd, const char *s)
{
	size_t n = strlen(s);
	ssize_t w;

	while (n > 0) {
		w = send(fd, s, n, MSG_NOSIGNAL);
		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

/*
 * One client: one request line, "list" (the pending requests, one a line: id, seconds waiting,
 * pid, name, method, URL, executable, tab-separated; then "end"), or "answer ID WORD" ("ok ..."
 * or "error ..."). It has 1 s for its line.
 */
static void serve_client(struct policy *p, struct policy_job **pending, char *asking)
{
	char req[128], line[1600], why[256], word[16], comm[32], url[1100], exe[300], m[40];
	struct timeval tv = {1, 0};
	struct policy_job *j;
	size_t len = 0;
	unsigned long id;
	uint64_t now = util_now_ms();
	ssize_t n;
	int fd;

	fd = accept4(p->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd == -1)
		return;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (!peer_ok(p, fd, why, sizeof(why))) {
		snprintf(line, sizeof(line), "error %s\n", why);
		send_line(fd, line);
		close(fd);
		return;
	}
	while (len + 1 < sizeof(req) && (n = read(fd, req + len, sizeof(req) - 1 - len)) > 0) {
		len += (size_t)n;
		if (memchr(req, '\n', len))
			break;
	}
	req[len] = '\0';
	req[strcspn(req, "\r\n")] = '\0';
	if (strcmp(req, "list") == 0) {
		for (j = *pending; j; j = j->next) {
			shown(j->comm[0] ? j->comm : "-", comm, sizeof(comm));
			shown(j->method, m, sizeof(m));
			shown(j->url, url, sizeof(url));
			shown(j->exe[0] ? j->exe : "-", exe, sizeof(exe));
			snprintf(line, sizeof(line), "%u\t%llu\t%u\t%s\t%s\t%s\t%s\n", j->id,
				 (unsigned long long)((now - j->since_ms) / 1000), j->pid, comm, m,
				 url, exe);
			send_line(fd, line);
		}
		send_line(fd, "end\n");
	} else if (sscanf(req, "answer %lu %15s", &id, word) == 2) {
		char host[264], reply[512];

		for (j = *pending; j && j->id != id; j = j->next)
			;
		if (!j) {
			snprintf(line, sizeof(line),
				 "error no request %lu waits here (answered, or timed out)\n", id);
		} else {
			snprintf(host, sizeof(host), "%s", j->host);
			if (decide(p, pending, host, word, BY_SOCKET, reply, sizeof(reply))) {
				snprintf(line, sizeof(line), "ok %s\n", reply);
				if (strcmp(host, asking) == 0) {
					say(p,
					    "\r\nboundary: answered from another terminal: %s\r\n",
					    reply);
					tty_give(p);
					asking[0] = '\0';
				}
			} else {
				snprintf(line, sizeof(line), "error %s\n", reply);
			}
		}
		send_line(fd, line);
	} else {
		send_line(fd, "error say \"list\" or \"answer ID once|always|deny\"\n");
	}
	close(fd);
}

/* --- the person's thread --------------------------------------------------------------------- */

/* Once: where to answer, when the terminal is not asked. */
static void note_socket(struct policy *p, const struct policy_job *j, const char *why)
{
	char url[300];

	if (p->said_socket)
		return;
	p->said_socket = true;
	shown(j->url, url, sizeof(url));
	if (p->listen_fd < 0) {
		log_warn("%s %s waits for an answer, and there is nowhere to ask (%s)", j->method,
			 url, why);
		return;
	}
	log_warn("%s %s waits for an answer: %s, so answer from another terminal with `boundary "
		 "approvals` and `boundary approve ID once|always|deny` (said once)",
		 j->method, url, why);
}

/* Refuses the jobs that waited --interactive-timeout; true if one was about host. */
static bool expire(struct policy *p, struct policy_job **pending, uint64_t now, const char *host)
{
	struct policy_job **pp, *j;
	bool hit = false;

	for (pp = pending; (j = *pp);) {
		if (now < j->since_ms + p->cfg.timeout_ms) {
			pp = &j->next;
			continue;
		}
		*pp = j->next;
		hit |= strcmp(j->host, host) == 0;
		log_warn("nobody answered about %s %s in %u s: refused", j->method, j->url,
			 p->cfg.timeout_ms / 1000);
		answer(j, false, j->socket_only ? BY_SOCKET : BY_TTY,
		       "nobody answered in time (--interactive-timeout %u s)",
		       p->cfg.timeout_ms / 1000);
	}
	return hit;
}

static bool has_host(const struct policy_job *j, const char *host)
{
	for (; j; j = j->next)
		if (strcmp(j->host, host) == 0)
			return true;
	return false;
}

/* Puts the next question on the terminal, if there is one for it; else marks it for the socket. */
static void next_question(struct policy *p, struct policy_job *pending, char *asking, size_t cap)
{
	struct policy_job *j, *k;
	char why[200];

	for (j = pending; j; j = j->next) {
		if (j->socket_only)
			continue;
		if (p->tty >= 0 && !p->tty_gone && p->cfg.ask != POLICY_ASK_SOCKET &&
		    tty_take(p, why, sizeof(why))) {
			snprintf(asking, cap, "%s", j->host);
			p->llen = 0;
			ask(p, j);
			return;
		}
		if (p->cfg.ask == POLICY_ASK_SOCKET || p->tty < 0)
			snprintf(why, sizeof(why), "boundary asks on no terminal");
		else if (p->tty_gone)
			snprintf(why, sizeof(why), "boundary's terminal is gone");
		for (k = j; k; k = k->next)
			if (strcmp(k->host, j->host) == 0)
				k->socket_only = true;
		note_socket(p, j, why);
	}
}

static void person_main(struct policy *p)
{
	struct policy_job *pending = NULL, *j;
	char asking[264] = "", h[270], buf[256], reply[512], word[sizeof(p->line) + 1];
	uint64_t now, next;
	struct pollfd pf[3];
	int timeout, nfd, itty, ilisten;
	sigset_t tt;
	ssize_t n, i;

	/* boundary is never stopped for the terminal: taking it, or reading it in the background. */
	sigemptyset(&tt);
	sigaddset(&tt, SIGTTOU);
	sigaddset(&tt, SIGTTIN);
	pthread_sigmask(SIG_BLOCK, &tt, NULL);
	for (;;) {
		if (take_queue(p, &pending))
			break;
		settle_always(p, &pending);
		if (p->tty_gone && p->listen_fd < 0) {
			while ((j = pending)) {
				pending = j->next;
				answer(j, false, BY_TTY,
				       "boundary's terminal is gone: nobody can be asked");
			}
		}
		now = util_now_ms();
		if (expire(p, &pending, now, asking) && asking[0] && !has_host(pending, asking)) {
			shown(asking, h, sizeof(h));
			say(p, "\r\nboundary: no answer in %u s: refused %s\r\n",
			    p->cfg.timeout_ms / 1000, h);
			tty_give(p);
			asking[0] = '\0';
		}
		if (!asking[0])
			next_question(p, pending, asking, sizeof(asking));
		next = 0;
		for (j = pending; j; j = j->next)
			if (!next || j->since_ms + p->cfg.timeout_ms < next)
				next = j->since_ms + p->cfg.timeout_ms;
		pf[0].fd = p->wake;
		pf[0].events = POLLIN;
		nfd = 1;
		itty = ilisten = -1;
		if (p->listen_fd >= 0) {
			ilisten = nfd;
			pf[nfd].fd = p->listen_fd;
			pf[nfd].events = POLLIN;
			pf[nfd++].revents = 0;
		}
		if (asking[0] && !p->tty_gone) {
			itty = nfd;
			pf[nfd].fd = p->tty;
			pf[nfd].events = POLLIN;
			pf[nfd++].revents = 0;
		}
		timeout = !next ? -1 : next > now ? (int)(next - now) : 0;
		if (poll(pf, (nfds_t)nfd, timeout) == -1 && errno != EINTR)
			break;
		if (ilisten >= 0 && (pf[ilisten].revents & POLLIN))
			serve_client(p, &pending, asking);
		if (itty < 0 || !asking[0] || !(pf[itty].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		n = read(p->tty, buf, sizeof(buf));
		if (n == -1 && errno == EAGAIN) {
			/* Someone else is inside a read of the terminal (its lock is theirs). */
			if (!p->frozen && jail_freeze(p, true) == 0)
				p->frozen = true;
			else
				usleep(20000);
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EIO && tcgetpgrp(p->tty) != getpgrp() &&
		    tcsetpgrp(p->tty, getpgrp()) == 0)
			continue; /* someone took the foreground back: ours again until answered */
		if (n <= 0) {
			log_warn("boundary's terminal is gone (%s): %s",
				 n == 0 ? "end of file" : strerror(errno),
				 p->listen_fd >= 0
				     ? "answers come from another terminal from now on"
				     : "every request the rules refuse is refused "
				       "from now on");
			tty_give(p);
			p->tty_gone = true;
			asking[0] = '\0';
			continue;
		}
		for (i = 0; i < n && asking[0]; i++) {
			if (buf[i] == '\n' || buf[i] == '\r') {
				if (p->llen == 0)
					continue;
				memcpy(word, p->line, p->llen);
				word[p->llen] = '\0';
				p->llen = 0;
				if (decide(p, &pending, asking, word, BY_TTY, reply,
					   sizeof(reply))) {
					say(p, "boundary: %s\r\n", reply);
					tty_give(p);
					asking[0] = '\0';
				} else {
					say(p, "boundary: %s: ", reply);
				}
			} else if (p->llen < sizeof(p->line)) {
				p->line[p->llen++] = buf[i];
			}
		}
	}
	tty_give(p);
	take_queue(p, &pending);
	while ((j = pending)) {
		pending = j->next;
		answer(j, false, j->socket_only ? BY_SOCKET : BY_TTY, "boundary is stopping");
	}
}

/* --- the service --------------------------------------------------------------------------- */

static void *policy_main(void *arg)
{
	struct policy *p = arg;

	if (p->cfg.mode == POLICY_PERSON)
		person_main(p);
	else
		program_main(p);
	return NULL;
}

static int open_save_rules(const struct policy *p, char *err, size_t errlen)
{
	int fd;

	fd = open(p->save_rules, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd == -1) {
		snprintf(err, errlen, "--save-rules %s: cannot open it for appending: %s",
			 p->save_rules, strerror(errno));
		return -EINVAL;
	}
	/* Created by root for a person run by sudo: theirs to read and edit. */
	if (p->cfg.drop && fchown(fd, p->cfg.uid, p->cfg.gid) == -1)
		log_debug("cannot give %s to uid %u: %s", p->save_rules, (unsigned)p->cfg.uid,
			  strerror(errno));
	close(fd);
	return 0;
}

/* The code as a sealed memfd, for the evaluators to read on fd 3. Returns it, or -errno. */
static int code_memfd(const char *code)
{
	size_t len = strlen(code), off = 0;
	ssize_t w;
	int fd = memfd_create("boundary-js", MFD_CLOEXEC | MFD_ALLOW_SEALING), ret;

	if (fd == -1)
		return -errno;
	while (off < len) {
		w = write(fd, code + off, len - off);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0) {
			ret = w == -1 ? -errno : -EIO;
			close(fd);
			return ret;
		}
		off += (size_t)w;
	}
	/* Shared by every evaluator's fd 3: each reads it with pread() from the start. */
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) ==
	    -1) {
		ret = -errno;
		close(fd);
		return ret;
	}
	return fd;
}

static struct policy *policy_alloc(const struct policy_config *cfg)
{
	struct policy *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->cfg = *cfg;
	p->pid = -1;
	p->to_prog = p->from_prog = p->tty = p->code_fd = p->self_exe = p->listen_fd = -1;
	p->root = p;
	pthread_mutex_init(&p->lock, NULL);
	return p;
}

static int policy_start(struct policy *p, char *err, size_t errlen)
{
	int ret;

	p->program = p->cfg.mode != POLICY_JS && p->cfg.program
			 ? strdup(p->cfg.program)
			 : strdup("boundary " JSEVAL_ARGV1 " (the --js evaluator)");
	p->save_rules =
	    p->cfg.save_rules && p->cfg.save_rules[0] ? strdup(p->cfg.save_rules) : NULL;
	p->always = rules_new();
	p->wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	snprintf(p->mem_arg, sizeof(p->mem_arg), "%zu", p->cfg.js_memory);
	if (!p->program || (p->cfg.save_rules && p->cfg.save_rules[0] && !p->save_rules) ||
	    !p->always || p->wake == -1) {
		snprintf(err, errlen, "cannot set up the policy service: %s", strerror(errno));
		return -ENOMEM;
	}
	if (p->cfg.mode == POLICY_PROGRAM || p->cfg.mode == POLICY_JS) {
		if (p->cfg.mode == POLICY_PROGRAM && !p->program[0]) {
			snprintf(err, errlen, "--rules-program: name a program");
			return -EINVAL;
		}
		ret = program_start(p, err, errlen);
		if (ret < 0)
			return ret;
	} else if (p->cfg.mode == POLICY_SH) {
		if (!p->program[0]) {
			snprintf(err, errlen, "--sh: name a script");
			return -EINVAL;
		}
	} else {
		if (p->cfg.ask != POLICY_ASK_SOCKET)
			p->tty = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
		if (p->tty == -1 && p->cfg.ask == POLICY_ASK_TERMINAL) {
			snprintf(
			    err, errlen,
			    "--interactive=terminal needs a terminal to ask on, and boundary has "
			    "none (/dev/tty: %s); run it from a terminal, or answer from another "
			    "one with --interactive=socket",
			    strerror(errno));
			return -EINVAL;
		}
		ret = socket_open(p, err, errlen);
		if (ret < 0 && p->tty == -1) {
			snprintf(err + strlen(err), errlen - strlen(err),
				 "; --interactive has no terminal to ask on either (decide with "
				 "--rules-program, or watch with --dry-run)");
			return -EINVAL;
		}
		if (ret < 0)
			log_warn("%s: answers come from this terminal only", err);
		if (p->save_rules && open_save_rules(p, err, errlen) < 0)
			return -EINVAL;
	}
	ret = pthread_create(&p->thread, NULL, policy_main, p);
	if (ret) {
		snprintf(err, errlen, "cannot start the policy thread: %s", strerror(ret));
		return -ret;
	}
	p->started = true;
	return 0;
}

struct policy *policy_new(const struct policy_config *cfg, char *err, size_t errlen)
{
	struct policy *p = policy_alloc(cfg);
	unsigned i;
	int fd;

	if (!p) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (!p->cfg.timeout_ms)
		p->cfg.timeout_ms = cfg->mode == POLICY_PROGRAM ? PROGRAM_TIMEOUT_MS
				    : cfg->mode == POLICY_JS	? JS_BUDGET_MS
				    : cfg->mode == POLICY_SH	? SH_TIMEOUT_MS
								: PERSON_TIMEOUT_MS;
	if (!p->cfg.js_memory)
		p->cfg.js_memory = JS_MEMORY;
	if (cfg->mode != POLICY_JS && cfg->mode != POLICY_SH) {
		if (policy_start(p, err, errlen) < 0)
			goto fail;
		return p;
	}
	/* --js and --sh: lanes, each a service of its own; this one holds them. */
	if (cfg->mode == POLICY_JS) {
		if (!cfg->js_code || jseval_check(cfg->js_name ? cfg->js_name : "--js",
						  cfg->js_code, err, errlen) < 0)
			goto fail;
		fd = code_memfd(cfg->js_code);
		p->self_exe =
		    open(cfg->evaluator ? cfg->evaluator : "/proc/self/exe", O_RDONLY | O_CLOEXEC);
		if (fd < 0 || p->self_exe == -1) {
			snprintf(err, errlen, "cannot set up the --js evaluator: %s",
				 strerror(fd < 0 ? -fd : errno));
			if (fd >= 0)
				close(fd);
			goto fail;
		}
		p->code_fd = fd;
	}
	p->nlanes = cfg->lanes ? cfg->lanes : 1;
	p->lane = calloc(p->nlanes, sizeof(*p->lane));
	if (!p->lane) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	for (i = 0; i < p->nlanes; i++) {
		p->lane[i] = policy_alloc(&p->cfg);
		if (!p->lane[i]) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
		p->lane[i]->root = p;
		if (policy_start(p->lane[i], err, errlen) < 0)
			goto fail;
	}
	return p;
fail:
	policy_free(p);
	return NULL;
}

void policy_ask(struct policy *p, struct policy_job *j)
{
	uint64_t one = 1;
	unsigned i, best, q, least = ~0u;

	if (p->nlanes) {
		/* The lane with the fewest waiting: a slow evaluation holds up only its own. */
		for (i = 0, best = 0; i < p->nlanes; i++) {
			q = atomic_load(&p->lane[i]->queued);
			if (q < least) {
				least = q;
				best = i;
			}
		}
		p = p->lane[best];
	}
	atomic_fetch_add(&p->queued, 1);
	j->next = NULL;
	pthread_mutex_lock(&p->lock);
	if (p->qtail)
		p->qtail->next = j;
	else
		p->qhead = j;
	p->qtail = j;
	pthread_mutex_unlock(&p->lock);
	if (write(p->wake, &one, sizeof(one)) == -1) {
		/* saturated: the thread is awake anyway */
	}
}

void policy_set_jail(struct policy *p, const char *cg_path)
{
	if (p->cfg.mode != POLICY_PERSON)
		return;
	pthread_mutex_lock(&p->lock);
	snprintf(p->cg_path, sizeof(p->cg_path), "%s", cg_path);
	pthread_mutex_unlock(&p->lock);
}

bool policy_asks_person(const struct policy *p)
{
	return p->cfg.mode == POLICY_PERSON;
}

const char *policy_engine(const struct policy *p)
{
	switch (p->cfg.mode) {
	case POLICY_JS:
		return "--js rule";
	case POLICY_SH:
		return "--sh script";
	case POLICY_PERSON:
		return "the person at boundary's terminal";
	default:
		return "rules program";
	}
}

/* boundary --test asks one question at a time: its answer is waited for here. */
static sem_t answered;

static void wake_waiter(struct policy_job *j)
{
	(void)j;
	sem_post(&answered);
}

void policy_ask_wait(struct policy *p, struct policy_job *j)
{
	sem_init(&answered, 0, 0);
	j->done = wake_waiter;
	policy_ask(p, j);
	while (sem_wait(&answered) == -1 && errno == EINTR)
		;
	sem_destroy(&answered);
}

int policy_js_reload(struct policy *p, const char *code, char *err, size_t errlen)
{
	int fd, old;

	if (p->cfg.mode != POLICY_JS)
		return -EINVAL;
	if (jseval_check(p->cfg.js_name ? p->cfg.js_name : "--js", code, err, errlen) < 0)
		return -EINVAL;
	fd = code_memfd(code);
	if (fd < 0) {
		snprintf(err, errlen, "cannot keep the new code: %s", strerror(-fd));
		return fd;
	}
	pthread_mutex_lock(&p->lock);
	old = p->code_fd;
	p->code_fd = fd;
	p->gen++;
	pthread_mutex_unlock(&p->lock);
	close(old);
	return 0;
}

unsigned policy_wait_ms(const struct policy *p)
{
	/* The program: two attempts and a restart; the person: the question's time. */
	if (p->cfg.mode == POLICY_JS)
		return 2 * p->cfg.timeout_ms + 5000; /* and an evaluator started afresh */
	return p->cfg.mode == POLICY_PROGRAM ? 2 * p->cfg.timeout_ms + 1000
					     : p->cfg.timeout_ms + 1000;
}

void policy_free(struct policy *p)
{
	uint64_t one = 1;

	unsigned i;

	if (!p)
		return;
	for (i = 0; p->lane && i < p->nlanes; i++)
		policy_free(p->lane[i]);
	free(p->lane);
	if (p->code_fd >= 0)
		close(p->code_fd);
	if (p->self_exe >= 0)
		close(p->self_exe);
	if (p->started) {
		pthread_mutex_lock(&p->lock);
		p->stop = true;
		pthread_mutex_unlock(&p->lock);
		if (write(p->wake, &one, sizeof(one)) == -1) {
			/* saturated: the thread is awake anyway */
		}
		pthread_join(p->thread, NULL);
	}
	program_stop(p);
	if (p->tty >= 0)
		close(p->tty);
	if (p->listen_fd >= 0) {
		close(p->listen_fd);
		unlink(p->sock_path);
	}
	if (p->wake >= 0)
		close(p->wake);
	rules_free(p->always);
	free(p->program);
	free(p->save_rules);
	pthread_mutex_destroy(&p->lock);
	free(p);
}
