// SPDX-License-Identifier: MIT
/*
 * node.c: boundary k8s-node (node.h). One loop: look at the node's pods through the CRI, bring each
 * pod's attach and files in line with what it asks, reap the attaches that ended, sleep. The
 * attaches are this same program run as `boundary attach`, so a pod is jailed by exactly the
 * code that jails a container by hand; this file only decides which pods, with what rules.
 */
#include "user/node.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "proxy/json.h"
#include "proxy/log.h"
#include "rules/rules.h"
#include "user/cgroup.h"
#include "user/config.h"
#include "user/cri.h"
#include "user/cri.pb-c.h"
#include "user/opts.h"

#define CRI_TIMEOUT_MS	10000
#define RESTART_MAX_S	60  /* the longest wait before an attach that ended is run again */
#define NAME_MAX_POLICY 128 /* the longest policy name */

extern char **environ;

struct pod {
	char id[128]; /* the sandbox's id */
	char ns[256]; /* its namespace and name, for people and records */
	char name[256];
	char cgroup[PATH_MAX]; /* relative to the cgroup2 mount, leading '/'; "" until found */
	char cfg[PATH_MAX];    /* the rules file its attach reads */
	char names[PATH_MAX];  /* its containers' names, for the records */
	char *rules;	       /* what cfg holds now */
	char *names_text;      /* what names holds now */
	char problem[512];     /* the last thing said about it, so it is said once */
	bool dry_run;	       /* its attach's mode */
	bool good;	       /* its rules were read as it asked (not "nothing allowed") */
	bool seen;	       /* in this scan's list */
	pid_t child;	       /* its attach, 0: none */
	unsigned fails;	       /* attaches that ended on their own, in a row */
	time_t next_start;     /* not before */
	struct pod *next;
};

static volatile sig_atomic_t stopping, rescan;

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		rescan = 1;
	else if (sig != SIGCHLD)
		stopping = 1;
}

/* --- where a pod's cgroup is ------------------------------------------------------------------ */

int node_cgroup_path(const char *parent, char *out, size_t len)
{
	size_t n = strlen(parent), at = 0, i;
	const char *dash;
	int w;

	if (n == 0 || strstr(parent, ".."))
		return -EINVAL;
	if (n > 6 && strcmp(parent + n - 6, ".slice") == 0 && !strchr(parent, '/')) {
		/* systemd: every '-' of the name opens one more slice, "a-b.slice" in "a.slice". */
		if (parent[0] == '-' || strstr(parent, "--") || parent[n - 7] == '-')
			return -EINVAL;
		for (i = 0; i < n - 6; i = (size_t)(dash - parent) + 1) {
			dash = memchr(parent + i, '-', n - 6 - i);
			if (!dash)
				dash = parent + n - 6;
			w = snprintf(out + at, len - at, "/%.*s.slice", (int)(dash - parent),
				     parent);
			if (w < 0 || (size_t)w >= len - at)
				return -EINVAL;
			at += (size_t)w;
		}
		return 0;
	}
	w = snprintf(out, len, "%s%s", parent[0] == '/' ? "" : "/", parent);
	if (w < 0 || (size_t)w >= len)
		return -EINVAL;
	while (at = strlen(out), at > 1 && out[at - 1] == '/')
		out[at - 1] = '\0';
	return 0;
}

/*
 * The string at keys[0].keys[1]... in the JSON object text, into out; -ENOENT when a key is
 * missing or is not what the path needs, or another negative errno.
 */
static int json_path(const char *text, size_t tlen, const char *const *keys, char *out,
		     size_t outlen)
{
	struct json_reader r;
	const char *key, *s;
	char *buf;
	int ret = -ENOENT, depth = 0;

	buf = malloc(tlen + 1);
	if (!buf)
		return -ENOMEM;
	json_init(&r, text, tlen, buf, tlen + 1, 64, false);
	for (;;) {
		json_skip_ws(&r);
		if (r.p >= r.end || *r.p != '{')
			goto out;
		r.p++;
		for (;;) {
			json_skip_ws(&r);
			if (r.p < r.end && *r.p == '}')
				goto out;
			if (json_string(&r, &key) < 0)
				goto out;
			json_skip_ws(&r);
			if (r.p >= r.end || *r.p != ':')
				goto out;
			r.p++;
			json_skip_ws(&r);
			if (strcmp(key, keys[depth]) == 0)
				break;
			if (json_skip_value(&r, depth + 1) < 0)
				goto out;
			json_skip_ws(&r);
			if (r.p < r.end && *r.p == ',')
				r.p++;
		}
		if (!keys[++depth])
			break;
	}
	if (r.p < r.end && *r.p == '"' && json_string(&r, &s) == 0) {
		snprintf(out, outlen, "%s", s);
		ret = 0;
	}
out:
	free(buf);
	return ret;
}

/* The pod's cgroup from the runtime's verbose status: its config's cgroup parent. */
static int find_cgroup(struct cri *cri, struct pod *p, const char *root, char *err, size_t errlen)
{
	static const char *const parent_keys[] = {"config", "linux", "cgroup_parent", NULL};
	Runtime__V1__PodSandboxStatusRequest req;
	Runtime__V1__PodSandboxStatusResponse *resp;
	ProtobufCMessage *m;
	char parent[PATH_MAX], path[PATH_MAX * 2];
	const char *info = NULL;
	struct stat st;
	size_t i;
	int ret;

	runtime__v1__pod_sandbox_status_request__init(&req);
	req.pod_sandbox_id = p->id;
	req.verbose = 1;
	ret = cri_call(cri, "PodSandboxStatus", &req.base,
		       &runtime__v1__pod_sandbox_status_response__descriptor, &m, err, errlen);
	if (ret < 0)
		return ret;
	resp = (Runtime__V1__PodSandboxStatusResponse *)m;
	for (i = 0; i < resp->n_info; i++)
		if (strcmp(resp->info[i]->key, "info") == 0)
			info = resp->info[i]->value;
	ret = info ? json_path(info, strlen(info), parent_keys, parent, sizeof(parent)) : -ENOENT;
	protobuf_c_message_free_unpacked(m, NULL);
	if (ret < 0) {
		snprintf(err, errlen,
			 "the runtime does not say the pod's cgroup parent (its verbose status "
			 "has no config.linux.cgroup_parent)");
		return ret;
	}
	if (node_cgroup_path(parent, p->cgroup, sizeof(p->cgroup)) < 0) {
		snprintf(err, errlen, "the pod's cgroup parent \"%.200s\" is not a cgroup path",
			 parent);
		return -EINVAL;
	}
	snprintf(path, sizeof(path), "%s%s", root, p->cgroup);
	if (stat(path, &st) == -1 || !S_ISDIR(st.st_mode)) {
		ret = -errno;
		snprintf(err, errlen, "the pod's cgroup %.600s is not in the cgroup2 hierarchy: %s",
			 path, strerror(errno ? errno : ENOTDIR));
		p->cgroup[0] = '\0';
		return ret ? ret : -ENOTDIR;
	}
	return 0;
}

/* --- what a pod asks for ---------------------------------------------------------------------- */

struct text {
	char *s;
	size_t len, cap;
	bool oom;
};

static void add(struct text *t, const char *s, size_t n)
{
	char *b;
	size_t cap;

	if (t->oom)
		return;
	if (t->len + n + 1 > t->cap) {
		cap = t->cap ? t->cap * 2 : 1024;
		while (cap < t->len + n + 1)
			cap *= 2;
		b = realloc(t->s, cap);
		if (!b) {
			t->oom = true;
			return;
		}
		t->s = b;
		t->cap = cap;
	}
	memcpy(t->s + t->len, s, n);
	t->len += n;
	t->s[t->len] = '\0';
}

static void adds(struct text *t, const char *s)
{
	add(t, s, strlen(s));
}

/*
 * s in a YAML comment: a byte that could end the line (CR, LF, any control byte) becomes '?',
 * so nothing a pod names (its name, a rule quoted in an error) can add a key to its rules file.
 */
static void add_comment(struct text *t, const char *s)
{
	for (; *s; s++)
		add(t, (unsigned char)*s < 0x20 || *s == 0x7f ? "?" : s, 1);
}

/* "  - "RULE"\n", the rule in YAML's double quotes. */
static void add_rule(struct text *t, const char *rule, size_t n)
{
	size_t i;

	adds(t, "  - \"");
	for (i = 0; i < n; i++) {
		if (rule[i] == '"' || rule[i] == '\\')
			add(t, "\\", 1);
		add(t, rule + i, 1);
	}
	adds(t, "\"\n");
}

static const char *annotation(Runtime__V1__PodSandbox *ps, const char *key)
{
	size_t i;

	for (i = 0; i < ps->n_annotations; i++)
		if (strcmp(ps->annotations[i]->key, key) == 0)
			return ps->annotations[i]->value;
	return NULL;
}

/*
 * The rules of an annotation, one a line (blank lines and # comments skipped), each checked,
 * into t. Returns 0, or -EINVAL with err naming the annotation and line.
 */
static int add_lines(struct text *t, const char *ann, const char *v, char *err, size_t errlen)
{
	char spec[4096], why[256];
	size_t n, i, line = 0;
	const char *e;

	for (; *v; v = *e ? e + 1 : e) {
		e = v + strcspn(v, "\n");
		line++;
		while (v < e && (*v == ' ' || *v == '\t'))
			v++;
		n = (size_t)(e - v);
		while (n && (v[n - 1] == ' ' || v[n - 1] == '\t' || v[n - 1] == '\r'))
			n--;
		if (n == 0 || *v == '#')
			continue;
		if (n >= sizeof(spec)) {
			snprintf(err, errlen, "%s, line %zu: the rule is too long", ann, line);
			return -EINVAL;
		}
		memcpy(spec, v, n);
		spec[n] = '\0';
		/* A control byte (CR, tab) is never part of a rule, and could end a YAML line. */
		for (i = 0; i < n && (unsigned char)spec[i] >= 0x20 && spec[i] != 0x7f; i++)
			;
		if (i < n || rules_check(spec, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "%s, line %zu: \"%.200s\": %s", ann, line, spec,
				 i < n ? "a control character" : why);
			return -EINVAL;
		}
		add_rule(t, spec, n);
	}
	return 0;
}

static void add_list(struct text *t, const struct opts_strv *v)
{
	size_t i;

	for (i = 0; i < v->n; i++)
		add_rule(t, v->v[i], strlen(v->v[i]));
}

/* A policy's name is a file name in --policy-dir, nothing that could leave it. */
static bool policy_name_ok(const char *name)
{
	size_t n = strlen(name);

	return n > 0 && n <= NAME_MAX_POLICY && name[0] != '.' &&
	       strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") ==
		   n;
}

/*
 * The config file the pod's attach reads: the agent's rules, the named policy's and the
 * annotations', allow and deny. Returns 0, or -EINVAL with err saying what the pod asked
 * wrongly (its attach then gets a file that allows nothing).
 */
static int render(const struct opts *o, struct pod *p, Runtime__V1__PodSandbox *ps, struct text *t,
		  char *err, size_t errlen)
{
	const char *allow = annotation(ps, NODE_ANN_ALLOW), *deny = annotation(ps, NODE_ANN_DENY);
	const char *policy = annotation(ps, NODE_ANN_POLICY);
	struct opts pol;
	char path[PATH_MAX], why[512];
	struct text d = {0};
	int ret = 0;

	opts_init(&pol);
	adds(t, "# Written by boundary k8s-node for pod ");
	add_comment(t, p->ns);
	adds(t, "/");
	add_comment(t, p->name);
	adds(t, ": its annotations and policy, read again on every scan. Do not edit.\n");
	adds(t, "allowlist:\n");
	adds(&d, "deny:\n");
	add_list(t, &o->allow.file);
	add_list(t, &o->allow.cli);
	add_list(&d, &o->deny.file);
	add_list(&d, &o->deny.cli);
	if (policy) {
		if (!policy_name_ok(policy)) {
			snprintf(err, errlen,
				 "%s: \"%.200s\" is not a policy's name (letters, digits, '.', '_' "
				 "and '-': a file NAME.yaml in %s)",
				 NODE_ANN_POLICY, policy, o->policy_dir);
			ret = -EINVAL;
			goto out;
		}
		snprintf(path, sizeof(path), "%s/%s.yaml", o->policy_dir, policy);
		if (config_load_file(&pol, path, true, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "%s: %s: %s", NODE_ANN_POLICY, policy, why);
			ret = -EINVAL;
			goto out;
		}
		add_list(t, &pol.allow.file);
		add_list(&d, &pol.deny.file);
	}
	if ((allow && add_lines(t, NODE_ANN_ALLOW, allow, err, errlen) < 0) ||
	    (deny && add_lines(&d, NODE_ANN_DENY, deny, err, errlen) < 0)) {
		ret = -EINVAL;
		goto out;
	}
	if (d.len > strlen("deny:\n"))
		add(t, d.s, d.len);
out:
	if (ret < 0) {
		/* When in doubt, deny: the pod asked to be jailed, so it is, with nothing allowed. */
		t->len = 0;
		adds(t, "# Written by boundary k8s-node for pod ");
		add_comment(t, p->ns);
		adds(t, "/");
		add_comment(t, p->name);
		adds(t, ": its policy could not be read, so nothing is allowed.\n# ");
		add_comment(t, err);
		adds(t, "\nallowlist: []\n");
	}
	free(d.s);
	opts_fini(&pol);
	if (t->oom) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	return ret;
}

/* --- files ----------------------------------------------------------------------------------- */

/* Replaces path with text at once (a new file renamed over it), so a reader never sees half. */
static int write_file(const char *path, const char *text, char *err, size_t errlen)
{
	char tmp[PATH_MAX + 8];
	size_t n = strlen(text), done = 0;
	ssize_t w;
	int fd, e;

	snprintf(tmp, sizeof(tmp), "%s.new", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd == -1)
		goto fail;
	while (done < n) {
		w = write(fd, text + done, n - done);
		if (w == -1) {
			e = errno;
			close(fd);
			errno = e;
			goto fail;
		}
		done += (size_t)w;
	}
	if (close(fd) == -1 || rename(tmp, path) == -1)
		goto fail;
	return 0;
fail:
	e = errno;
	snprintf(err, errlen, "cannot write %s: %s", path, strerror(e));
	unlink(tmp);
	return -e;
}

/* Replaces *have and the file when text differs; true when it did. */
static bool update(const char *path, char **have, struct text *t, char *err, size_t errlen,
		   int *ret)
{
	*ret = 0;
	if (*have && strcmp(*have, t->s ? t->s : "") == 0)
		return false;
	*ret = write_file(path, t->s ? t->s : "", err, errlen);
	if (*ret < 0)
		return false;
	free(*have);
	*have = t->s ? t->s : strdup("");
	t->s = NULL;
	return true;
}

/* "ID NAME" a line, for each container of the pod, as the attach's records name them. */
static int container_names(struct cri *cri, struct pod *p, struct text *t, char *err, size_t errlen)
{
	Runtime__V1__ListContainersRequest req;
	Runtime__V1__ContainerFilter filter;
	Runtime__V1__ListContainersResponse *resp;
	ProtobufCMessage *m;
	size_t i;
	int ret;

	runtime__v1__list_containers_request__init(&req);
	runtime__v1__container_filter__init(&filter);
	filter.pod_sandbox_id = p->id;
	req.filter = &filter;
	ret = cri_call(cri, "ListContainers", &req.base,
		       &runtime__v1__list_containers_response__descriptor, &m, err, errlen);
	if (ret < 0)
		return ret;
	resp = (Runtime__V1__ListContainersResponse *)m;
	adds(t, "");
	for (i = 0; i < resp->n_containers; i++) {
		const Runtime__V1__Container *c = resp->containers[i];

		if (!c->metadata || !c->metadata->name || strpbrk(c->id, " \n") ||
		    strpbrk(c->metadata->name, " \n"))
			continue;
		adds(t, c->id);
		adds(t, " ");
		adds(t, c->metadata->name);
		adds(t, "\n");
	}
	protobuf_c_message_free_unpacked(m, NULL);
	return t->oom ? -ENOMEM : 0;
}

/* --- the attaches ---------------------------------------------------------------------------- */

static void say(struct pod *p, bool error, const char *what)
{
	if (strcmp(p->problem, what) == 0)
		return;
	snprintf(p->problem, sizeof(p->problem), "%s", what);
	if (error)
		log_error("pod %s/%s: %s", p->ns, p->name, what);
	else
		log_info("pod %s/%s: %s", p->ns, p->name, what);
}

static void start(const struct opts *o, struct pod *p)
{
	const char *argv[32];
	char who[520];
	size_t n = 0;
	pid_t pid;
	char **e;

	snprintf(who, sizeof(who), "%s/%s", p->ns, p->name);
	argv[n++] = "boundary";
	argv[n++] = "attach";
	argv[n++] = "--cgroup";
	argv[n++] = p->cgroup;
	argv[n++] = "--config";
	argv[n++] = p->cfg;
	argv[n++] = "--k8s-pod";
	argv[n++] = who;
	argv[n++] = "--k8s-names";
	argv[n++] = p->names;
	argv[n++] = "--log-level";
	argv[n++] = log_level_name(o->log_level);
	if (p->dry_run)
		argv[n++] = "--dry-run";
	if (o->audit_log[0]) {
		argv[n++] = "--audit-log";
		argv[n++] = o->audit_log;
	}
	if (o->upstream_ca[0]) {
		argv[n++] = "--upstream-ca";
		argv[n++] = o->upstream_ca;
	}
	argv[n] = NULL;
	pid = fork();
	if (pid == -1) {
		log_error_errno("pod %s: cannot start its attach", who);
		return;
	}
	if (pid == 0) {
		struct sigaction dfl = {.sa_handler = SIG_DFL};
		sigset_t none;

		/* The attach reads what it is told, not the agent's environment. */
		for (e = environ; *e;) {
			if (strncmp(*e, "BOUNDARY_", 9) == 0) {
				char name[128];

				snprintf(name, sizeof(name), "%.*s", (int)strcspn(*e, "="), *e);
				unsetenv(name);
			} else {
				e++;
			}
		}
		sigaction(SIGTERM, &dfl, NULL);
		sigaction(SIGINT, &dfl, NULL);
		sigaction(SIGHUP, &dfl, NULL);
		sigaction(SIGCHLD, &dfl, NULL);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		execv("/proc/self/exe", (char *const *)(uintptr_t)argv);
		_exit(127);
	}
	p->child = pid;
	p->next_start = 0;
	log_info("pod %s: attached to cgroup %s (attach pid %d%s)", who, p->cgroup, (int)pid,
		 p->dry_run ? ", audit mode: nothing refused" : "");
}

/* Ends the pod's attach: SIGTERM detaches it (the pod goes free), SIGKILL leaves it cut off. */
static void stop(struct pod *p, int sig)
{
	int status;

	if (p->child <= 0)
		return;
	kill(p->child, sig);
	if (waitpid(p->child, &status, 0) == -1 && errno != ECHILD)
		log_error_errno("pod %s/%s: waiting for its attach", p->ns, p->name);
	p->child = 0;
}

static void forget(struct pod *p)
{
	stop(p, SIGTERM);
	unlink(p->cfg);
	unlink(p->names);
	free(p->rules);
	free(p->names_text);
	free(p);
}

/* Notes attaches that ended on their own; they are run again after a growing wait. */
static void reap(struct pod *pods)
{
	struct pod *p;
	char why[128];
	int status;
	pid_t pid;
	unsigned wait_s;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (p = pods; p; p = p->next)
			if (p->child == pid)
				break;
		if (!p)
			continue;
		p->child = 0;
		p->fails++;
		wait_s = p->fails >= 6 ? RESTART_MAX_S : 1u << p->fails;
		p->next_start = time(NULL) + wait_s;
		if (WIFEXITED(status))
			snprintf(why, sizeof(why), "status %d", WEXITSTATUS(status));
		else
			snprintf(why, sizeof(why), "signal %d", WTERMSIG(status));
		log_error("pod %s/%s: its attach ended (%s; its log says why): the pod stays cut "
			  "off, attached again in %u s",
			  p->ns, p->name, why, wait_s);
	}
}

/* --- one look at the node --------------------------------------------------------------------- */

static void one_pod(const struct opts *o, struct cri *cri, struct pod *p,
		    Runtime__V1__PodSandbox *ps, const char *root)
{
	const char *mode = annotation(ps, NODE_ANN_MODE);
	struct text t = {0}, names = {0};
	char err[1024], msg[1100];
	bool dry_run, changed;
	int ret;

	dry_run = o->dry_run || (mode && strcmp(mode, "audit") == 0);
	if (mode && strcmp(mode, "audit") != 0 && strcmp(mode, "block") != 0) {
		snprintf(msg, sizeof(msg), "%s: \"%.100s\" is neither audit nor block: block it is",
			 NODE_ANN_MODE, mode);
		say(p, true, msg);
	}
	if (!p->cgroup[0] && find_cgroup(cri, p, root, err, sizeof(err)) < 0) {
		snprintf(msg, sizeof(msg), "not attached yet: %s", err);
		say(p, true, msg);
		return;
	}
	ret = render(o, p, ps, &t, err, sizeof(err));
	if (ret < 0 && p->good) {
		/* As a reload keeps the rules when the file does not load: a typo closes nothing. */
		snprintf(msg, sizeof(msg), "%s (its rules stay as they were)", err);
		say(p, true, msg);
		free(t.s);
		t.s = NULL;
		changed = false;
		ret = 0;
	} else {
		if (ret < 0) {
			snprintf(msg, sizeof(msg), "%s (so nothing is allowed)", err);
			say(p, true, msg);
		}
		p->good = ret == 0;
		changed = update(p->cfg, &p->rules, &t, err, sizeof(err), &ret);
		free(t.s);
	}
	if (ret < 0) {
		say(p, true, err);
		return;
	}
	if (container_names(cri, p, &names, err, sizeof(err)) == 0) {
		update(p->names, &p->names_text, &names, err, sizeof(err), &ret);
		if (ret < 0)
			say(p, true, err);
	}
	free(names.s);
	if (p->child > 0 && dry_run != p->dry_run) {
		log_info("pod %s/%s: %s mode now: attaching again", p->ns, p->name,
			 dry_run ? "audit" : "block");
		stop(p, SIGKILL); /* not SIGTERM: the pod is never free in between */
	} else if (p->child > 0 && changed) {
		/* The attach watches its file's directory and reloads (SIGHUP would detach it). */
		log_info("pod %s/%s: its rules changed: its attach reloads them", p->ns, p->name);
	}
	p->dry_run = dry_run;
	if (p->child <= 0 && time(NULL) >= p->next_start)
		start(o, p);
}

static bool wanted(Runtime__V1__PodSandbox *ps)
{
	return annotation(ps, NODE_ANN_ALLOW) || annotation(ps, NODE_ANN_DENY) ||
	       annotation(ps, NODE_ANN_POLICY);
}

static int scan(const struct opts *o, struct pod **pods, const char *root, char *err, size_t errlen)
{
	Runtime__V1__ListPodSandboxRequest req;
	Runtime__V1__PodSandboxFilter filter;
	Runtime__V1__PodSandboxStateValue ready;
	Runtime__V1__ListPodSandboxResponse *resp;
	Runtime__V1__PodSandbox *ps;
	ProtobufCMessage *m;
	struct pod *p, **pp;
	struct cri *cri;
	size_t i;
	int ret;

	runtime__v1__list_pod_sandbox_request__init(&req);
	runtime__v1__pod_sandbox_filter__init(&filter);
	runtime__v1__pod_sandbox_state_value__init(&ready);
	cri = cri_open(o->cri_socket, CRI_TIMEOUT_MS, err, errlen);
	if (!cri)
		return -errno;
	ready.state = RUNTIME__V1__POD_SANDBOX_STATE__SANDBOX_READY;
	filter.state = &ready;
	req.filter = &filter;
	ret = cri_call(cri, "ListPodSandbox", &req.base,
		       &runtime__v1__list_pod_sandbox_response__descriptor, &m, err, errlen);
	if (ret < 0) {
		cri_close(cri);
		return ret;
	}
	resp = (Runtime__V1__ListPodSandboxResponse *)m;
	for (p = *pods; p; p = p->next)
		p->seen = false;
	for (i = 0; i < resp->n_items; i++) {
		ps = resp->items[i];
		if (!wanted(ps) || !ps->metadata || strlen(ps->id) >= sizeof(p->id) ||
		    strspn(ps->id, "0123456789abcdefABCDEF") != strlen(ps->id))
			continue;
		for (p = *pods; p; p = p->next)
			if (strcmp(p->id, ps->id) == 0)
				break;
		if (!p) {
			p = calloc(1, sizeof(*p));
			if (!p)
				break;
			snprintf(p->id, sizeof(p->id), "%s", ps->id);
			snprintf(p->ns, sizeof(p->ns), "%s", ps->metadata->namespace_);
			snprintf(p->name, sizeof(p->name), "%s", ps->metadata->name);
			snprintf(p->cfg, sizeof(p->cfg), "%s/%s.yaml", o->state_dir, p->id);
			snprintf(p->names, sizeof(p->names), "%s/%s.names", o->state_dir, p->id);
			p->next = *pods;
			*pods = p;
			log_info("pod %s/%s asks to be jailed", p->ns, p->name);
		}
		p->seen = true;
		one_pod(o, cri, p, ps, root);
	}
	protobuf_c_message_free_unpacked(m, NULL);
	cri_close(cri);
	for (pp = pods; *pp;) {
		p = *pp;
		if (p->seen) {
			pp = &p->next;
			continue;
		}
		log_info("pod %s/%s is gone or no longer asks to be jailed: detached", p->ns,
			 p->name);
		*pp = p->next;
		forget(p);
	}
	return 0;
}

static int make_dir(const char *dir)
{
	char path[PATH_MAX], *s;

	snprintf(path, sizeof(path), "%s", dir);
	for (s = path + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(path, 0755) == -1 && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	if (mkdir(path, 0700) == -1 && errno != EEXIST)
		return -errno;
	return 0;
}

/*
 * In a pod, the agent has a cgroup namespace of its own, where /proc/PID/cgroup of other pods
 * reads "/../..": with hostPID it can join the node's (PID 1's), and its attaches with it.
 */
static void join_host_cgroupns(void)
{
	struct stat mine, host;
	int fd;

	if (stat("/proc/self/ns/cgroup", &mine) == -1 || stat("/proc/1/ns/cgroup", &host) == -1 ||
	    mine.st_ino == host.st_ino)
		return;
	fd = open("/proc/1/ns/cgroup", O_RDONLY | O_CLOEXEC);
	if (fd == -1 || setns(fd, CLONE_NEWCGROUP) == -1)
		log_warn("cannot join the node's cgroup namespace (%s): run the agent with "
			 "hostPID and CAP_SYS_ADMIN, or pods' containers go unnamed in records",
			 strerror(errno));
	else
		log_info("joined the node's cgroup namespace");
	if (fd != -1)
		close(fd);
}

int node_run(const struct opts *o)
{
	struct sigaction sa = {.sa_handler = on_signal};
	struct pod *pods = NULL, *p;
	char root[PATH_MAX], err[1024], said[1024] = "";
	struct timespec nap;
	unsigned n = 0;
	int ret;

	if (cgroup_find_root(root, sizeof(root), err, sizeof(err)) < 0) {
		log_error("%s", err);
		return LOG_EXIT_FAILURE;
	}
	join_host_cgroupns();
	if (make_dir(o->state_dir) < 0) {
		log_error_errno("--state-dir %s: cannot make the directory", o->state_dir);
		return LOG_EXIT_FAILURE;
	}
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGCHLD, &sa, NULL);
	log_info("boundary k8s-node: pods through %s, named policies in %s, every %u s",
		 o->cri_socket, o->policy_dir, o->scan_interval);
	while (!stopping) {
		reap(pods);
		rescan = 0;
		ret = scan(o, &pods, root, err, sizeof(err));
		if (ret < 0 && strcmp(err, said) != 0) {
			log_error("cannot list the node's pods: %s", err);
			snprintf(said, sizeof(said), "%s", err);
		} else if (ret == 0 && said[0]) {
			log_info("the node's pods are listed again");
			said[0] = '\0';
		}
		nap.tv_sec = o->scan_interval;
		nap.tv_nsec = 0;
		/* SIGHUP (look now) and SIGCHLD (an attach ended) cut the nap short. */
		while (!stopping && !rescan && nanosleep(&nap, &nap) == -1 && errno == EINTR)
			;
	}
	/* Killed, not detached: every pod stays cut off until an agent attaches again. */
	while (pods) {
		p = pods;
		pods = p->next;
		if (p->child > 0)
			n++;
		stop(p, SIGKILL);
		free(p->rules);
		free(p->names_text);
		free(p);
	}
	log_info("boundary k8s-node stopped: %u pod%s stay%s cut off until it runs again", n,
		 n == 1 ? "" : "s", n == 1 ? "s" : "");
	return 0;
}
