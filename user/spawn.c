// SPDX-License-Identifier: MIT
/*
 * spawn.c: the jail's first process and the command under it.
 *
 *   boundary ── clone3(CLONE_INTO_CGROUP | NEWNS | NEWPID | NEWCGROUP | PIDFD)
 *                 └─ init (PID 1, still root): setns(jail netns), mounts, PDEATHSIG
 *                      └─ command: signals reset, fds closed, privileges dropped, exec
 *
 * init stays root so that the mounts it makes are owned by a mount namespace the command
 * cannot change: the command either runs as an ordinary user, or enters a user namespace of its
 * own, in which every inherited mount is locked. If boundary dies, PDEATHSIG kills init, and
 * the kernel kills every process of the PID namespace with it.
 */
#include "user/spawn.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/keyctl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "user/privs.h"
#include "user/seccomp.h"
#include "user/setup.h"

/*
 * Whether lstat's or opendir's errno e means there is nothing for the command to reach: nothing
 * there, or (where unreachable_is_hidden, see privs_reach_covers) a directory on the way that
 * the command may not search either, as a root-only /run/containerd is to an ordinary user.
 */
static bool nothing_to_hide(int e, bool unreachable_is_hidden)
{
	return e == ENOENT || e == ENOTDIR || (e == EACCES && unreachable_is_hidden);
}

/* Hides path: an empty read-only tmpfs over a directory, /dev/null over anything else. */
static int hide(const char *path, bool unreachable_is_hidden)
{
	struct stat st;

	if (lstat(path, &st) == -1)
		return nothing_to_hide(errno, unreachable_is_hidden) ? 0 : -errno;
	if (S_ISDIR(st.st_mode)) {
		if (mount("boundary", path, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
			  "size=4k,mode=0555") == -1)
			return -errno;
		return 0;
	}
	if (S_ISLNK(st.st_mode))
		return 0; /* its target is hidden in its own right, or is not ours to hide */
	if (mount("/dev/null", path, NULL, MS_BIND, NULL) == -1)
		return -errno;
	return 0;
}

/*
 * Servers that run commands for any client of their user, listening on sockets in a shared
 * temporary directory: a jailed program asking tmux (`tmux run-shell`), screen, an Emacs server
 * or a VS Code window to run something would have it run outside the jail. Their directories
 * are replaced by empty ones with the same owner and mode (a jailed tmux can still start a
 * server of its own there, which the host never sees); their lone sockets by /dev/null.
 */
static bool runs_commands(const char *name)
{
	static const char *const prefixes[] = {"tmux-",	      "emacs",	     "screen", ".X11-unix",
					       "vscode-ipc-", "vscode-git-", "kitty-"};
	size_t i;

	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (strncmp(name, prefixes[i], strlen(prefixes[i])) == 0)
			return true;
	return false;
}

static int hide_servers_in(const char *dir, bool unreachable_is_hidden)
{
	char path[4096], opts[96];
	struct dirent *de;
	struct stat st;
	DIR *d;
	int ret = 0;

	d = opendir(dir);
	if (!d) {
		ret = nothing_to_hide(errno, unreachable_is_hidden) ? 0 : -errno;
		if (ret < 0)
			setup_say("cannot look for servers to hide from the jail in %s: %s", dir,
				  strerror(-ret));
		return ret;
	}
	while ((de = readdir(d))) {
		if (!runs_commands(de->d_name))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (lstat(path, &st) == -1)
			continue;
		if (S_ISDIR(st.st_mode)) {
			snprintf(opts, sizeof(opts), "size=1m,mode=%o,uid=%u,gid=%u",
				 (unsigned int)(st.st_mode & 07777), (unsigned int)st.st_uid,
				 (unsigned int)st.st_gid);
			if (mount("boundary", path, "tmpfs", MS_NOSUID | MS_NODEV, opts) == -1) {
				ret = -errno;
				break;
			}
		} else if (S_ISSOCK(st.st_mode)) {
			if (mount("/dev/null", path, NULL, MS_BIND, NULL) == -1) {
				ret = -errno;
				break;
			}
		}
	}
	if (ret < 0)
		setup_say("cannot hide %s from the jail: %s", path, strerror(-ret));
	closedir(d);
	return ret;
}

/*
 * Makes every directory above path that its owner (not root) could rename a mount point of
 * its own, which rename(2) refuses to move: else the command could rename ~/.config away and
 * write a new policy where boundary will look for it next time.
 */
static int pin_ancestors(const char *path)
{
	char dir[4096], *slash;
	struct stat st;

	snprintf(dir, sizeof(dir), "%s", path);
	while ((slash = strrchr(dir, '/')) && slash != dir) {
		*slash = '\0';
		if (stat(dir, &st) == -1 || st.st_uid == 0)
			break;
		if (mount(dir, dir, NULL, MS_BIND, NULL) == -1)
			return -errno;
	}
	return 0;
}

static int make_rdonly(const char *path)
{
	int ret;

	if (access(path, F_OK) == -1)
		return 0;
	ret = pin_ancestors(path);
	if (ret < 0)
		return ret;
	if (mount(path, path, NULL, MS_BIND | MS_REC, NULL) == -1)
		return -errno;
	if (mount(NULL, path, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV,
		  NULL) == -1)
		return -errno;
	return 0;
}

static int setup_mounts(const struct spawn_opts *o)
{
	const char *const *p, *tmux_dir;
	bool unreachable_is_hidden = o->as_user && privs_reach_covers(o->uid, o->gid);
	int ret;

	/* Nothing done here may reach the host's mount table. */
	if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) == -1) {
		setup_say("cannot make the jail's mounts private: %s", strerror(errno));
		return -1;
	}
	/* /proc of the jail's own PID namespace: boundary and the host's processes vanish. */
	if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) == -1) {
		setup_say("cannot mount /proc for the jail: %s", strerror(errno));
		return -1;
	}
	/*
	 * A sysfs of the jail's own network namespace (only lo under /sys/class/net), read-only,
	 * which also leaves every mount under the host's /sys (bpffs, cgroups, debugfs) behind.
	 */
	if (mount("sysfs", "/sys", "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) ==
	    -1) {
		setup_say("cannot mount /sys for the jail: %s", strerror(errno));
		return -1;
	}
	/* The CA bundle over the distribution's own, so every TLS library trusts the jail's CA. */
	for (p = o->binds; p && p[0] && p[1]; p += 2) {
		if (access(p[1], F_OK) == -1)
			continue;
		if (mount(p[0], p[1], NULL, MS_BIND, NULL) == -1 ||
		    mount(NULL, p[1], NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL) == -1) {
			setup_say("cannot show %s at %s in the jail: %s", p[0], p[1],
				  strerror(errno));
			return -1;
		}
	}
	/* Global sysctls are checked by uid alone: nobody in the jail may write any. */
	ret = make_rdonly("/proc/sys");
	if (ret < 0) {
		setup_say("cannot make /proc/sys read-only in the jail: %s", strerror(-ret));
		return -1;
	}
	for (p = o->rdonly; p && *p; p++) {
		ret = make_rdonly(*p);
		if (ret < 0) {
			setup_say("cannot make %s read-only in the jail: %s", *p, strerror(-ret));
			return -1;
		}
	}
	for (p = o->hide; p && *p; p++) {
		ret = hide(*p, unreachable_is_hidden);
		if (ret < 0) {
			setup_say("cannot hide %s from the jail: %s", *p, strerror(-ret));
			return -1;
		}
	}
	tmux_dir = getenv("TMUX_TMPDIR");
	if (hide_servers_in("/tmp", unreachable_is_hidden) < 0 ||
	    hide_servers_in("/run", unreachable_is_hidden) < 0 ||
	    (tmux_dir && tmux_dir[0] == '/' &&
	     hide_servers_in(tmux_dir, unreachable_is_hidden) < 0))
		return -1;
	return 0;
}

static void __attribute__((noreturn))
run_command(const struct spawn_opts *o, int ready_fd, int go_fd)
{
	char err[256];

	setup_reset_signals();
	prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
	if (!o->as_user && privs_userns_root(ready_fd, go_fd, err, sizeof(err)) < 0) {
		setup_say("%s", err);
		_exit(125);
	}
	if (syscall(SYS_close_range, 3U, ~0U, 0U) == -1) {
		setup_say("cannot close inherited descriptors: %s", strerror(errno));
		_exit(125);
	}
	if (o->as_user && privs_drop_to(o->uid, o->gid, err, sizeof(err)) < 0) {
		setup_say("%s", err);
		_exit(125);
	}
	/*
	 * A session keyring of its own: the one inherited from whoever ran boundary holds their
	 * keys (Kerberos tickets, filesystem credentials), which its possessor may read whatever
	 * its uid.
	 */
	if (syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, NULL) == -1 && errno != ENOSYS) {
		setup_say(
		    "cannot give the command a session keyring of its own (it would share yours): "
		    "%s",
		    strerror(errno));
		_exit(125);
	}
	if (seccomp_install(err, sizeof(err)) < 0) {
		setup_say("%s", err);
		_exit(125);
	}
	setup_exec(o->argv, o->envp);
}

/* PID 1 of the jail: start the command, forward signals, reap, exit with its status. */
static void __attribute__((noreturn)) init_main(const struct spawn_opts *o, sigset_t *fwd)
{
	siginfo_t si;
	int ready[2], go[2];
	pid_t cmd, w;
	int status, code = 125, sig;

	/*
	 * If boundary dies, so does the jail. (Had it died before this line, the pinned hooks
	 * would still hold the jail closed, and the next boundary run reaps it.)
	 */
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	prctl(PR_SET_NAME, "boundary-init", 0, 0, 0);
	if (setns(o->netns_fd, CLONE_NEWNET) == -1) {
		setup_say("cannot enter the jail's network namespace: %s", strerror(errno));
		_exit(125);
	}
	privs_fs_user();
	if (setup_mounts(o) < 0)
		_exit(125);
	sigaddset(fwd, SIGCHLD);
	sigprocmask(SIG_BLOCK, fwd, NULL);
	if (pipe2(ready, O_CLOEXEC) == -1 || pipe2(go, O_CLOEXEC) == -1) {
		setup_say("cannot start the command: %s", strerror(errno));
		_exit(125);
	}
	cmd = fork();
	if (cmd == -1) {
		setup_say("cannot start the command: %s", strerror(errno));
		_exit(125);
	}
	if (cmd == 0)
		run_command(o, ready[1], go[0]);
	/* init keeps only its own ends, so a command that dies early is seen as EOF. */
	close(ready[1]);
	close(go[0]);
	if (!o->as_user) {
		char c = 0, err[256];

		/* The command has its user namespace; root there becomes the host's nobody. */
		if (read(ready[0], &c, 1) == 1) {
			if (privs_userns_map(cmd, err, sizeof(err)) < 0) {
				setup_say("%s", err);
				kill(cmd, SIGKILL);
				_exit(125);
			}
			c = 1;
			if (write(go[1], &c, 1) != 1) {
				kill(cmd, SIGKILL);
				_exit(125);
			}
		}
		/* else the command said why and exits 125, which becomes the jail's status */
	}
	close(ready[0]);
	close(go[1]);
	for (;;) {
		sig = sigwaitinfo(fwd, &si);
		if (sig == -1)
			continue;
		if (sig != SIGCHLD) {
			/* A terminal's signals reach the command's process group directly. */
			if (si.si_code != SI_KERNEL)
				kill(cmd, sig);
			continue;
		}
		while ((w = waitpid(-1, &status, WNOHANG)) > 0) {
			if (w != cmd)
				continue;
			if (WIFEXITED(status))
				code = WEXITSTATUS(status);
			else if (WIFSIGNALED(status))
				code = 128 + WTERMSIG(status);
			/* Leaving kills every process left in the jail's PID namespace. */
			_exit(code);
		}
	}
}

int spawn_jail(const struct spawn_opts *o, pid_t *pid, char *err, size_t errlen)
{
	struct clone_args args;
	sigset_t fwd;
	int pidfd = -1;
	long ret;
	const int *s;

	sigemptyset(&fwd);
	for (s = setup_forwarded_signals; *s; s++)
		sigaddset(&fwd, *s);
	memset(&args, 0, sizeof(args));
	args.flags = CLONE_INTO_CGROUP | CLONE_PIDFD | CLONE_NEWNS | CLONE_NEWPID |
		     CLONE_NEWCGROUP | CLONE_NEWIPC | CLONE_NEWUTS;
	args.pidfd = (uint64_t)(uintptr_t)&pidfd;
	args.exit_signal = SIGCHLD;
	args.cgroup = (uint64_t)o->cgroup_fd;
	ret = syscall(SYS_clone3, &args, sizeof(args));
	if (ret == -1) {
		ret = -errno;
		snprintf(err, errlen, "cannot start the jail (clone3): %s%s", strerror(errno),
			 errno == ENOSYS || errno == E2BIG
			     ? " (the kernel is too old: boundary needs Linux 5.7 or later for "
			       "CLONE_INTO_CGROUP)"
			 : errno == EPERM ? " (run as root)"
					  : "");
		return (int)ret;
	}
	if (ret == 0)
		init_main(o, &fwd);
	*pid = (pid_t)ret;
	return pidfd;
}
