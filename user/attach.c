// SPDX-License-Identifier: MIT
/*
 * attach.c: the part of boundary attach that is not BPF. It turns --cgroup, --container or
 * --systemd-unit into a cgroup directory (asking the container runtime's or systemd's own
 * command-line tool, whichever is installed, as a person would), refuses cgroups that would jail
 * boundary itself, finds the network namespace the cgroup's processes live in, and finds the
 * connections they opened before the programs were attached (from /proc/PID/fd and the
 * /proc/PID/net tables of their own namespace), to name them or shut them down. It runs no
 * command but those lookups, and it never creates, kills or removes a cgroup.
 */
#include "user/attach.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proxy/log.h"
#include "proxy/util.h"

/* Processes looked at in one cgroup tree, and sockets remembered from their namespaces. */
#define MAX_MEMBERS 65536
#define MAX_SOCKS   65536
/* A runtime's or systemctl's answer: how long it may take and how much of it is read. */
#define LOOKUP_TIMEOUT_MS 15000
#define LOOKUP_OUT	  4096

/* --- asking a runtime or systemd ---------------------------------------------------------- */

/*
 * Runs argv (argv[0] looked up in PATH) with stdin from /dev/null and stdout and stderr into
 * out (NUL-terminated, trailing blanks cut). Returns 0 if it exited 0, -ENOENT if it is not
 * installed, -ETIMEDOUT if it took too long (then it is killed), else -EIO.
 */
static int run_capture(const char *const argv[], char *out, size_t outlen)
{
	extern char **environ;
	posix_spawn_file_actions_t fa;
	uint64_t start;
	struct pollfd pfd;
	size_t used = 0;
	int p[2], ret, status, left;
	ssize_t n;
	pid_t pid;

	out[0] = '\0';
	if (pipe2(p, O_CLOEXEC) == -1)
		return -errno;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, p[1], 1);
	posix_spawn_file_actions_adddup2(&fa, p[1], 2);
	ret = posix_spawnp(&pid, argv[0], &fa, NULL, (char *const *)(uintptr_t)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(p[1]);
	if (ret != 0) {
		close(p[0]);
		return ret == ENOENT ? -ENOENT : -ret;
	}
	start = util_now_ms();
	ret = 0;
	for (;;) {
		left = LOOKUP_TIMEOUT_MS - (int)(util_now_ms() - start);
		if (left <= 0) {
			ret = -ETIMEDOUT;
			kill(pid, SIGKILL);
			break;
		}
		pfd.fd = p[0];
		pfd.events = POLLIN;
		if (poll(&pfd, 1, left) == -1 && errno != EINTR) {
			ret = -errno;
			kill(pid, SIGKILL);
			break;
		}
		n = read(p[0], out + used, outlen - 1 - used);
		if (n == -1 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			break;
		used += (size_t)n;
		if (used == outlen - 1) {
			char drain[512];

			/* The rest is not needed, but the child must not block writing it. */
			while (read(p[0], drain, sizeof(drain)) > 0)
				;
			break;
		}
	}
	close(p[0]);
	out[used] = '\0';
	while (used > 0 && strchr(" \t\r\n", out[used - 1]))
		out[--used] = '\0';
	while (waitpid(pid, &status, 0) == -1) {
		if (errno != EINTR)
			return ret ? ret : -errno;
	}
	if (ret)
		return ret;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EIO;
}

/* The first line of s, for quoting a tool's complaint in one of ours. */
static const char *first_line(char *s)
{
	s += strspn(s, " \t\r\n");
	s[strcspn(s, "\n")] = '\0';
	return s[0] ? s : "(it said nothing)";
}

/* A pid as a runtime prints it: digits only. Returns it, or -1. */
static long parse_pid(const char *s)
{
	char *end;
	long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end != '\0' || v > INT32_MAX)
		return -1;
	return v;
}

/* ctr task ls: "TASK PID STATUS" lines; the pid of the task named id, or -1. */
static long ctr_pid(char *out, const char *id)
{
	char *line, *save = NULL, task[256], status[64];
	long pid;

	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (sscanf(line, "%255s %ld %63s", task, &pid, status) == 3 &&
		    strcmp(task, id) == 0)
			return pid;
	}
	return -1;
}

/*
 * containerd's sockets and namespaces, tried in this order by ctr when CONTAINERD_ADDRESS and
 * CONTAINERD_NAMESPACE do not name them (those, when set, are tried first): containerd's own
 * socket, then the one dockerd starts for itself; Docker's namespace, Kubernetes', the default.
 */
static const char *const ctr_sockets[] = {"/run/containerd/containerd.sock",
					  "/var/run/docker/containerd/containerd.sock"};
static const char *const ctr_namespaces[] = {"moby", "k8s.io", "default"};

/* The questions to the runtimes' tools about one container, and what they said. */
struct lookup {
	const char *id;
	char why[768]; /* the first failure, and what ctr tried, for the error */
	bool any;      /* some tool is installed */
	bool missing;  /* the last tool asked is not installed */
};

/*
 * Runs argv (a runtime's tool) and reads a pid from its output: parse_pid, or ctr's task list
 * when ctr. Returns the pid (> 0); 0 when the tool knows nothing or is not installed (the next
 * is asked); -1 for a container that is not running.
 */
static long ask_tool(struct lookup *lk, const char *const argv[], const char *what, bool ctr)
{
	char out[LOOKUP_OUT];
	long v;
	int ret;

	ret = run_capture(argv, out, sizeof(out));
	lk->missing = ret == -ENOENT;
	if (lk->missing)
		return 0;
	lk->any = true;
	if (ret < 0) {
		if (!lk->why[0])
			snprintf(lk->why, sizeof(lk->why), "%s: %.300s", what,
				 ret == -ETIMEDOUT ? "took too long to answer" : first_line(out));
		return 0;
	}
	v = ctr ? ctr_pid(out, lk->id) : parse_pid(out);
	if (v < 0) {
		if (!lk->why[0])
			snprintf(lk->why, sizeof(lk->why), "%s does not know it (it said: %.200s)",
				 what, ctr ? "no such task" : first_line(out));
		return 0;
	}
	return v == 0 ? -1 : v;
}

/* Adds s to the list v of n (at most max) unless it is there; returns the new n. */
static size_t add_once(const char **v, size_t n, size_t max, const char *s)
{
	size_t i;

	if (!s || !s[0] || n == max)
		return n;
	for (i = 0; i < n; i++) {
		if (strcmp(v[i], s) == 0)
			return n;
	}
	v[n] = s;
	return n + 1;
}

/*
 * ctr, over every containerd socket that exists and every namespace (see ctr_sockets). Returns
 * as ask_tool(), with *where the socket that knew it; adds to lk->why what was tried.
 */
static long ask_ctr(struct lookup *lk, const char **where)
{
	const char *socks[4], *nss[5];
	char what[400], tried[320] = "", nslist[128] = "";
	size_t n_socks = 0, n_nss = 0, i, k;
	bool asked = false;
	struct stat st;
	long v;

	n_socks = add_once(socks, n_socks, 4, getenv("CONTAINERD_ADDRESS"));
	for (i = 0; i < sizeof(ctr_sockets) / sizeof(ctr_sockets[0]); i++)
		n_socks = add_once(socks, n_socks, 4, ctr_sockets[i]);
	n_nss = add_once(nss, n_nss, 5, getenv("CONTAINERD_NAMESPACE"));
	for (i = 0; i < sizeof(ctr_namespaces) / sizeof(ctr_namespaces[0]); i++)
		n_nss = add_once(nss, n_nss, 5, ctr_namespaces[i]);
	for (k = 0; k < n_nss; k++)
		snprintf(nslist + strlen(nslist), sizeof(nslist) - strlen(nslist), "%s%s",
			 k ? ", " : "", nss[k]);
	for (i = 0; i < n_socks; i++) {
		snprintf(tried + strlen(tried), sizeof(tried) - strlen(tried), "%s%s",
			 i ? ", " : "", socks[i]);
		if (stat(socks[i], &st) == -1 || !S_ISSOCK(st.st_mode))
			continue;
		for (k = 0; k < n_nss; k++) {
			const char *argv[] = {"ctr",  "--address", socks[i], "--namespace",
					      nss[k], "task",	   "ls",     NULL};

			snprintf(what, sizeof(what), "ctr (namespace %s, socket %s)", nss[k],
				 socks[i]);
			v = ask_tool(lk, argv, what, true);
			if (v) {
				*where = socks[i];
				return v;
			}
			if (lk->missing)
				return 0;
			asked = true;
		}
	}
	if (asked) {
		size_t used = strlen(lk->why);

		snprintf(lk->why + used, sizeof(lk->why) - used,
			 "%sctr: no such task in namespaces %s at the sockets of %s that exist",
			 used ? "; " : "", nslist, tried);
	}
	return 0;
}

/*
 * The pid of container id's first process, from the first installed runtime that knows it.
 * Returns 0 with *pid set, or -errno with err filled.
 */
static int container_pid(const char *id, pid_t *pid, char *err, size_t errlen)
{
	static const char *const inspect[] = {"docker", "podman", "nerdctl"};
	struct lookup lk = {.id = id};
	const char *where = NULL;
	char what[64];
	long v = 0;
	size_t i;

	/* No runtime's flag parser may read the id as an option. */
	if (!id[0] || id[0] == '-') {
		snprintf(err, errlen, "--container \"%.200s\": not a container id or name", id);
		return -EINVAL;
	}
	for (i = 0; i < 3 && !v; i++) {
		const char *argv[] = {inspect[i],	"inspect", "--format",
				      "{{.State.Pid}}", id,	   NULL};

		v = ask_tool(&lk, argv, inspect[i], false);
		snprintf(what, sizeof(what), "%s", inspect[i]);
	}
	if (!v) {
		const char *argv[] = {"crictl",	    "inspect",	     "--output", "go-template",
				      "--template", "{{.info.pid}}", id,	 NULL};

		v = ask_tool(&lk, argv, "crictl", false);
		snprintf(what, sizeof(what), "crictl");
	}
	if (!v) {
		v = ask_ctr(&lk, &where);
		snprintf(what, sizeof(what), "ctr");
	}
	if (v < 0) {
		snprintf(err, errlen,
			 "container \"%.200s\" is not running (%s shows no process for it): start "
			 "it, then attach",
			 id, what);
		return -ESRCH;
	}
	if (v > 0) {
		*pid = (pid_t)v;
		if (where)
			log_info("container %s: %s at %s says its first process is pid %ld", id,
				 what, where, v);
		else
			log_info("container %s: %s says its first process is pid %ld", id, what, v);
		return 0;
	}
	if (!lk.any)
		snprintf(
		    err, errlen,
		    "--container: no container runtime's command-line tool is installed "
		    "(docker, podman, nerdctl, crictl or ctr); name the container's cgroup with "
		    "--cgroup instead");
	else
		snprintf(err, errlen, "--container \"%.200s\": no runtime knows it (%s)", id,
			 lk.why);
	return -ESRCH;
}

/* The cgroup2 path of pid, relative to the mount ("/system.slice/x.scope"). Returns 0 or -errno. */
static int pid_cgroup(pid_t pid, char *buf, size_t len)
{
	char path[64], *line = NULL;
	size_t cap = 0;
	int ret = -ENOENT;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (getline(&line, &cap, f) != -1) {
		if (strncmp(line, "0::", 3) != 0)
			continue;
		line[strcspn(line, "\n")] = '\0';
		ret = (size_t)snprintf(buf, len, "%s", line + 3) < len ? 0 : -ENAMETOOLONG;
		break;
	}
	free(line);
	fclose(f);
	return ret;
}

/* --- the cgroup itself --------------------------------------------------------------------- */

/* Whether path is dir or below it. */
static bool under(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* Every pid in the cgroup at dir and below, into pids (up to max). Returns how many. */
static size_t members(const char *dir, pid_t *pids, size_t n, size_t max, int depth)
{
	char path[PATH_MAX + 32];
	struct dirent *de;
	long v;
	FILE *f;
	DIR *d;

	if (depth > 64)
		return n;
	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	f = fopen(path, "re");
	if (f) {
		while (n < max && fscanf(f, "%ld", &v) == 1)
			pids[n++] = (pid_t)v;
		fclose(f);
	}
	d = opendir(dir);
	while (d && (de = readdir(d))) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= sizeof(path))
			continue;
		n = members(path, pids, n, max, depth + 1);
	}
	if (d)
		closedir(d);
	return n;
}

/* The inode of pid's network namespace (0 for boundary's own "self"), or 0 if it is gone. */
static ino_t netns_ino(pid_t pid)
{
	char path[64];
	struct stat st;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	else
		snprintf(path, sizeof(path), "/proc/self/ns/net");
	return stat(path, &st) == 0 ? st.st_ino : 0;
}

/*
 * Whether the processes in path share one network namespace: 1 with *member one of them, 0
 * when path has none, or -EINVAL with *other one in another namespace than *member's.
 */
static int one_netns(const char *path, pid_t *member, pid_t *other)
{
	ino_t ino, first = 0;
	pid_t *pids;
	size_t n, i;
	int ret = 0;

	pids = calloc(MAX_MEMBERS, sizeof(*pids));
	if (!pids)
		return -ENOMEM;
	n = members(path, pids, 0, MAX_MEMBERS, 0);
	for (i = 0; i < n; i++) {
		ino = netns_ino(pids[i]);
		if (!ino)
			continue; /* gone meanwhile */
		if (!first) {
			first = ino;
			*member = pids[i];
			ret = 1;
		} else if (ino != first) {
			*other = pids[i];
			ret = -EINVAL;
			break;
		}
	}
	free(pids);
	return ret;
}

/* Opens t->member's network namespace as t->netns_fd, or leaves it -1 when it is the host's. */
static int open_member_netns(struct attach_target *t, char *err, size_t errlen)
{
	char path[64];
	int ret;

	t->netns_fd = -1;
	if (netns_ino(t->member) == netns_ino(0))
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)t->member);
	t->netns_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (t->netns_fd == -1) {
		ret = -errno;
		snprintf(err, errlen, "cannot open the network namespace of pid %d in %.300s: %s",
			 (int)t->member, t->path, strerror(-ret));
		return ret;
	}
	return 0;
}

/* Whether the cgroup at path has a process of its own (not a child's): *pid, one of them. */
static bool own_member(const char *path, pid_t *pid)
{
	char procs[PATH_MAX + 16];
	FILE *f;
	int v;

	snprintf(procs, sizeof(procs), "%s/cgroup.procs", path);
	f = fopen(procs, "re");
	if (!f)
		return false;
	v = 0;
	if (fscanf(f, "%d", &v) != 1)
		v = 0;
	fclose(f);
	*pid = v;
	return v > 0;
}

static int refuse_own_member(const struct attach_target *t, pid_t pid, char *err, size_t errlen)
{
	snprintf(err, errlen,
		 "%.300s holds pid %d itself, and its processes live in different network "
		 "namespaces (or in none yet): boundary jails each child cgroup of such a parent "
		 "on its own, so the parent must hold none; move pid %d into a child, or attach "
		 "to each child's cgroup",
		 t->path, (int)pid, (int)pid);
	return -EINVAL;
}

int attach_create(const char *root, const char *cgroup, char *err, size_t errlen)
{
	char path[PATH_MAX * 2], *p;
	int ret;

	if (!cgroup[0] || strstr(cgroup, "..")) {
		snprintf(err, errlen, "--create: \"%.200s\" is not a cgroup to make", cgroup);
		return -EINVAL;
	}
	if (under(cgroup, root))
		snprintf(path, sizeof(path), "%s", cgroup);
	else
		snprintf(path, sizeof(path), "%s/%s", root, cgroup + strspn(cgroup, "/"));
	for (p = path + strlen(root) + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		if (mkdir(path, 0755) == -1 && errno != EEXIST)
			goto fail;
		*p = '/';
	}
	if (mkdir(path, 0755) == -1 && errno != EEXIST)
		goto fail;
	return 0;
fail:
	ret = -errno;
	snprintf(err, errlen, "--create: cannot make the cgroup %.300s: %s", path, strerror(-ret));
	return ret;
}

/* Finds the namespace the cgroup's processes live in: t->member and t->netns_fd. */
static int find_netns(struct attach_target *t, char *err, size_t errlen)
{
	pid_t other = 0;
	int ret;

	ret = one_netns(t->path, &t->member, &other);
	if (ret == -ENOMEM) {
		snprintf(err, errlen, "out of memory");
		return ret;
	}
	if (ret == 1)
		return open_member_netns(t, err, errlen);
	/* No process yet, or several namespaces: each child is a jail of its own. */
	t->parent = true;
	t->member = 0;
	return own_member(t->path, &other) ? refuse_own_member(t, other, err, errlen) : 0;
}

int attach_refind(const char *root, struct attach_target *t, const char *container, char *err,
		  size_t errlen)
{
	char rel[PATH_MAX], abs[PATH_MAX * 2 + 8], why[256];
	pid_t pid = 0, other = 0;
	int ret;

	t->member = 0;
	t->netns_fd = -1;
	if (container) {
		/* The runtime names its first process once it runs: before that, nothing to find. */
		if (container_pid(container, &pid, why, sizeof(why)) < 0)
			return 0;
		if (pid_cgroup(pid, rel, sizeof(rel)) < 0)
			return 0;
		snprintf(abs, sizeof(abs), "%s/%s", root, rel + strspn(rel, "/"));
		if (!under(abs, t->path))
			return 0; /* an answer from before the restart */
		t->member = pid;
	} else {
		/* Mid-start, a runtime's helpers may still be in another namespace: wait. */
		ret = one_netns(t->path, &t->member, &other);
		if (ret <= 0)
			return ret == -ENOMEM ? ret : 0;
	}
	ret = open_member_netns(t, err, errlen);
	return ret < 0 ? ret : 1;
}

int attach_resolve(const char *root, const char *cgroup, const char *container, const char *unit,
		   struct attach_target *t, char *err, size_t errlen)
{
	char rel[PATH_MAX], abs[PATH_MAX * 2 + 8], out[LOOKUP_OUT], mine[PATH_MAX], rroot[PATH_MAX];
	char self[PATH_MAX * 2 + 16], jails[PATH_MAX + 16];
	struct stat st;
	pid_t pid;
	int ret;

	memset(t, 0, sizeof(*t));
	t->netns_fd = -1;
	if (!realpath(root, rroot)) {
		ret = -errno;
		snprintf(err, errlen, "cannot resolve the cgroup2 mount %s: %s", root,
			 strerror(-ret));
		return ret;
	}
	if (container) {
		ret = container_pid(container, &pid, err, errlen);
		if (ret < 0)
			return ret;
		ret = pid_cgroup(pid, rel, sizeof(rel));
		if (ret < 0) {
			snprintf(err, errlen,
				 "container \"%.200s\": cannot read the cgroup of its pid %d: %s",
				 container, (int)pid, strerror(-ret));
			return ret;
		}
	} else if (unit) {
		if (!unit[0] || unit[0] == '-') {
			snprintf(err, errlen, "--systemd-unit \"%.200s\": not a unit name", unit);
			return -EINVAL;
		}
		const char *argv[] = {"systemctl", "show", "-p", "ControlGroup",
				      "--value",   unit,   NULL};

		ret = run_capture(argv, out, sizeof(out));
		if (ret == -ENOENT) {
			snprintf(
			    err, errlen,
			    "--systemd-unit: systemctl is not installed; name the unit's cgroup "
			    "with --cgroup instead");
			return ret;
		}
		if (ret < 0) {
			snprintf(err, errlen,
				 "--systemd-unit %.200s: systemctl show failed: %.300s", unit,
				 ret == -ETIMEDOUT ? "it took too long" : first_line(out));
			return ret;
		}
		if (out[0] != '/') {
			snprintf(err, errlen,
				 "systemd unit %.200s has no cgroup (is it running? see systemctl "
				 "status %.200s)",
				 unit, unit);
			return -ESRCH;
		}
		snprintf(rel, sizeof(rel), "%s", first_line(out));
		log_info("systemd unit %s: its cgroup is %s", unit, rel);
	} else {
		snprintf(rel, sizeof(rel), "%s", cgroup);
	}

	/* An absolute directory under the mount, or a path relative to the mount. */
	if (under(rel, root) || under(rel, rroot))
		snprintf(abs, sizeof(abs), "%s", rel);
	else
		snprintf(abs, sizeof(abs), "%s/%s", rroot, rel + strspn(rel, "/"));
	if (!realpath(abs, t->path)) {
		ret = -errno;
		snprintf(err, errlen,
			 "cgroup %.300s: %s (name a directory under %s, or a path relative to it "
			 "as /proc/PID/cgroup shows it)",
			 abs, strerror(-ret), rroot);
		return ret;
	}
	if (strcmp(t->path, rroot) == 0) {
		snprintf(err, errlen,
			 "will not attach to the root cgroup: every process on the host, boundary "
			 "included, would be jailed");
		return -EINVAL;
	}
	snprintf(self, sizeof(self), "%s/cgroup.procs", t->path);
	if (!under(t->path, rroot) || stat(self, &st) == -1) {
		snprintf(err, errlen, "%.300s is not a cgroup of the cgroup2 hierarchy at %s",
			 t->path, rroot);
		return -EINVAL;
	}
	snprintf(jails, sizeof(jails), "%s/boundary", rroot);
	if (under(t->path, jails)) {
		snprintf(err, errlen,
			 "%.300s is a jail of boundary's own already (boundary -- COMMAND made it)",
			 t->path);
		return -EINVAL;
	}
	/* The programs cover the whole subtree: boundary itself must be outside it. */
	if (pid_cgroup(getpid(), mine, sizeof(mine)) == 0) {
		snprintf(self, sizeof(self), "%s/%s", rroot, mine + strspn(mine, "/"));
		if (under(self, t->path)) {
			snprintf(
			    err, errlen,
			    "boundary itself runs in %.300s (its cgroup is %.300s): attached "
			    "there, it would redirect its own connections to itself; run it from "
			    "outside that cgroup (e.g. systemd-run --scope, or another session)",
			    t->path, self);
			return -EINVAL;
		}
	}
	ret = find_netns(t, err, errlen);
	if (ret < 0)
		return ret;
	return 0;
}

/* --- sockets opened before the attach ------------------------------------------------------ */

struct sock_entry {
	unsigned long ino;
	ino_t netns;
	bool udp;
	bool v6;
	unsigned state;
	struct in6_addr local, peer;
	uint16_t lport, pport;
	bool reported;
};

struct sock_table {
	struct sock_entry *v;
	size_t n;
	ino_t *seen; /* namespaces already read */
	size_t n_seen;
};

/* Reads one /proc/PID/net/{tcp,tcp6,udp,udp6} table into t. */
static void read_table(struct sock_table *t, pid_t pid, ino_t ns, const char *name, bool udp,
		       bool v6)
{
	char path[64], la[40], ra[40], *line = NULL;
	unsigned lp, rp, st, a[4], i;
	unsigned long ino;
	struct sock_entry *e;
	size_t cap = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/net/%s", (int)pid, name);
	f = fopen(path, "re");
	if (!f)
		return;
	while (getline(&line, &cap, f) != -1 && t->n < MAX_SOCKS) {
		/* "  0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 INO" */
		if (sscanf(line,
			   " %*u: %39[0-9A-Fa-f]:%x %39[0-9A-Fa-f]:%x %x %*s %*s %*s %*u %*d %lu",
			   la, &lp, ra, &rp, &st, &ino) != 6 ||
		    ino == 0)
			continue;
		e = &t->v[t->n];
		memset(e, 0, sizeof(*e));
		e->ino = ino;
		e->netns = ns;
		e->udp = udp;
		e->v6 = v6;
		e->state = st;
		e->lport = (uint16_t)lp;
		e->pport = (uint16_t)rp;
		/* Each 32-bit group is printed as the kernel's native word: read it back as one. */
		for (i = 0; i < (v6 ? 4u : 1u); i++) {
			if (sscanf(la + 8 * i, "%8x", &a[i]) != 1)
				a[i] = 0;
			memcpy(&e->local.s6_addr[4 * i], &a[i], 4);
			if (sscanf(ra + 8 * i, "%8x", &a[i]) != 1)
				a[i] = 0;
			memcpy(&e->peer.s6_addr[4 * i], &a[i], 4);
		}
		t->n++;
	}
	free(line);
	fclose(f);
}

/* The socket with inode ino in namespace ns, or NULL. Reads that namespace's tables once. */
static struct sock_entry *find_sock(struct sock_table *t, pid_t pid, ino_t ns, unsigned long ino)
{
	size_t i;

	for (i = 0; i < t->n_seen && t->seen[i] != ns; i++)
		;
	if (i == t->n_seen && t->n_seen < MAX_MEMBERS) {
		t->seen[t->n_seen++] = ns;
		read_table(t, pid, ns, "tcp", false, false);
		read_table(t, pid, ns, "tcp6", false, true);
		read_table(t, pid, ns, "udp", true, false);
		read_table(t, pid, ns, "udp6", true, true);
	}
	for (i = 0; i < t->n; i++)
		if (t->v[i].ino == ino && t->v[i].netns == ns)
			return &t->v[i];
	return NULL;
}

/* TCP_LISTEN, TCP_CLOSE and TCP_TIME_WAIT, as the tables print them, carry no connection. */
static bool carries_connection(const struct sock_entry *e)
{
	static const struct in6_addr zero;

	if (e->udp)
		return e->pport != 0 || memcmp(&e->peer, &zero, e->v6 ? 16 : 4) != 0;
	return e->state != 0x0A && e->state != 0x07 && e->state != 0x06;
}

static void addr_str(const struct sock_entry *e, const struct in6_addr *a, uint16_t port, char *buf,
		     size_t len)
{
	struct sockaddr_storage ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

	memset(&ss, 0, sizeof(ss));
	if (e->v6) {
		s6->sin6_family = AF_INET6;
		s6->sin6_addr = *a;
		s6->sin6_port = htons(port);
	} else {
		s4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, a, sizeof(s4->sin_addr));
		s4->sin_port = htons(port);
	}
	util_addr_str((const struct sockaddr *)&ss, true, buf, len);
}

/*
 * Shuts down the socket with inode ino that the process of pidfd holds as descriptor fd.
 * Returns 0, -ESTALE when fd is no longer that socket, or -errno.
 */
static int shut_remote(int pidfd, int fd, unsigned long ino)
{
	socklen_t len = sizeof(int);
	struct sockaddr unspec;
	int sfd, ret = 0, type = 0;
	struct stat st;

	sfd = (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
	if (sfd == -1)
		return -errno;
	/* The owner may have closed it and opened another under the same number meanwhile. */
	if (fstat(sfd, &st) == -1 || !S_ISSOCK(st.st_mode) || st.st_ino != ino) {
		close(sfd);
		return -ESTALE;
	}
	if (getsockopt(sfd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 && type == SOCK_DGRAM) {
		/*
		 * A UDP socket's send() ignores shutdown: dissolve the association instead, so
		 * every later datagram names its destination and meets the sendmsg hooks.
		 */
		memset(&unspec, 0, sizeof(unspec));
		unspec.sa_family = AF_UNSPEC;
		if (connect(sfd, &unspec, sizeof(unspec)) == -1)
			ret = -errno;
	}
	if (shutdown(sfd, SHUT_RDWR) == -1 && errno != ENOTCONN && !ret)
		ret = -errno;
	close(sfd);
	return ret;
}

/* 127.0.0.0/8, ::1 or a v4-mapped loopback address, as the tables hold it. */
static bool loopback(const struct sock_entry *e, const struct in6_addr *a)
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	if (!e->v6)
		return a->s6_addr[0] == 127;
	if (memcmp(a->s6_addr, mapped, 12) == 0)
		return a->s6_addr[12] == 127;
	return IN6_IS_ADDR_LOOPBACK(a);
}

static void comm_of(pid_t pid, char *buf, size_t len)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(buf, len, "?");
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n > 0) {
		buf[n] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
	}
}

/*
 * Looks at every descriptor of pid; returns how many connections were found. A connection to
 * the loopback of a network namespace that is not the host's (host_ns) is left alone: the
 * programs never redirect that, before the attach or after.
 */
static int scan_pid(struct sock_table *t, pid_t pid, ino_t host_ns, bool shut)
{
	char dir[64], path[64 + 256], link[64], comm[32], peer[64], local[64];
	struct sock_entry *e;
	struct dirent *de;
	unsigned long ino;
	int found = 0, ret, pidfd;
	ino_t ns;
	ssize_t n;
	DIR *d;

	/*
	 * The pidfd first: while it answers, pid is still that process, so the descriptors read
	 * below are its own and not those of a process that got the pid after it died.
	 */
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd == -1)
		return 0;
	ns = netns_ino(pid);
	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
	d = opendir(dir);
	if (!d || !ns) {
		if (d)
			closedir(d);
		close(pidfd);
		return 0;
	}
	comm_of(pid, comm, sizeof(comm));
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		n = readlink(path, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = '\0';
		if (sscanf(link, "socket:[%lu]", &ino) != 1)
			continue;
		if (syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) == -1)
			break; /* it has gone: the pid may be another's now */
		e = find_sock(t, pid, ns, ino);
		if (!e || e->reported || !carries_connection(e))
			continue;
		if (ns != host_ns && loopback(e, &e->peer))
			continue;
		e->reported = true;
		found++;
		addr_str(e, &e->peer, e->pport, peer, sizeof(peer));
		addr_str(e, &e->local, e->lport, local, sizeof(local));
		if (!shut) {
			log_warn("pid %d (%s) has a %s connection to %s (from %s) opened before "
				 "boundary attached: it does not pass through the proxy (close it "
				 "with --kill-existing-sockets, or restart the process)",
				 (int)pid, comm, e->udp ? "UDP" : "TCP", peer, local);
			continue;
		}
		ret = shut_remote(pidfd, (int)strtol(de->d_name, NULL, 10), ino);
		if (ret == -ESTALE)
			continue; /* closed meanwhile: nothing to shut */
		if (ret < 0)
			log_warn(
			    "pid %d (%s): cannot shut down its %s connection to %s opened before "
			    "boundary attached: %s",
			    (int)pid, comm, e->udp ? "UDP" : "TCP", peer, strerror(-ret));
		else
			log_info("pid %d (%s): shut down its %s connection to %s, opened before "
				 "boundary attached (--kill-existing-sockets)",
				 (int)pid, comm, e->udp ? "UDP" : "TCP", peer);
	}
	closedir(d);
	close(pidfd);
	return found;
}

int attach_existing_sockets(const char *path, bool shut)
{
	struct sock_table t;
	ino_t host_ns;
	pid_t *pids;
	size_t n, i;
	int found = 0;

	memset(&t, 0, sizeof(t));
	pids = calloc(MAX_MEMBERS, sizeof(*pids));
	t.v = calloc(MAX_SOCKS, sizeof(*t.v));
	t.seen = calloc(MAX_MEMBERS, sizeof(*t.seen));
	if (!pids || !t.v || !t.seen) {
		found = -ENOMEM;
		goto out;
	}
	n = members(path, pids, 0, MAX_MEMBERS, 0);
	host_ns = netns_ino(getpid());
	for (i = 0; i < n; i++)
		found += scan_pid(&t, pids[i], host_ns, shut);
out:
	free(pids);
	free(t.v);
	free(t.seen);
	return found;
}
