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

#include <errno.h>
#include <fcntl.h>
#include <linux/keyctl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "user/fsview.h"
#include "user/privs.h"
#include "user/rootfs.h"
#include "user/seccomp.h"
#include "user/setup.h"

/*
 * --rootfs, --image: the command's own root, built before the hides (which may cover where it
 * is built) and entered after them (so a --bind of a host path shows what the jail hides there
 * hidden too). Returns the root's descriptor (build), 0, or -1 having said why.
 */
static int build_root(const struct spawn_opts *o)
{
	char err[1024];
	int fd;

	if (!o->rootfs)
		return 0;
	fd = rootfs_build(o->rootfs, err, sizeof(err));
	if (fd < 0) {
		setup_say("%s", err);
		return -1;
	}
	return fd;
}

static int enter_root(const struct spawn_opts *o, int rootfd)
{
	char err[1024];

	if (!o->rootfs)
		return 0;
	if (rootfs_enter(o->rootfs, rootfd, err, sizeof(err)) < 0) {
		setup_say("%s", err);
		return -1;
	}
	return 0;
}

/* execvpe looks the command up on the caller's PATH: in a root of its own, the command's. */
static void use_command_path(const struct spawn_opts *o)
{
	char *const *e;

	if (!o->rootfs)
		return;
	for (e = o->envp; e && *e; e++) {
		if (strncmp(*e, "PATH=", 5) == 0) {
			setenv("PATH", *e + 5, 1);
			return;
		}
	}
	setenv("PATH", ROOTFS_DEFAULT_PATH, 1);
}

static int setup_mounts(const struct spawn_opts *o)
{
	const char *const *p;
	bool unreachable_is_hidden = o->as_user && privs_reach_covers(o->uid, o->gid);
	char err[512];
	int rootfd;

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
	rootfd = build_root(o);
	if (rootfd < 0)
		return -1;
	if (fsview_apply(o->rdonly, o->hide, o->view, unreachable_is_hidden, err, sizeof(err)) <
	    0) {
		setup_say("%s", err);
		return -1;
	}
	return enter_root(o, rootfd);
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
	use_command_path(o);
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
