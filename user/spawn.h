/* SPDX-License-Identifier: MIT */
/*
 * spawn.h: starting the jailed command. clone3(CLONE_INTO_CGROUP) puts the first process in the
 * jail's cgroup, network, mount, PID and cgroup namespaces before it runs a single instruction;
 * that process is a small init (PID 1 of the jail) which hides what the jail must not see,
 * starts the command with every privilege dropped, forwards signals to it and exits with its
 * status.
 */
#ifndef BOUNDARY_USER_SPAWN_H
#define BOUNDARY_USER_SPAWN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct fsview_user;
struct rootfs_spec;

struct spawn_opts {
	int cgroup_fd; /* the jail's cgroup (O_DIRECTORY) */
	int netns_fd;  /* the jail's network namespace */
	bool as_user;  /* run as uid:gid; else as root in a user namespace */
	uid_t uid;
	gid_t gid;
	char *const *argv;	   /* the command; argv[0] is looked up in PATH */
	char *const *envp;	   /* its environment */
	const char *const *hide;   /* NULL-terminated paths made empty (or unreadable) */
	const char *const *rdonly; /* NULL-terminated paths made read-only */
	const char *const *binds;  /* NULL-terminated pairs: file, the path it is shown at */
	struct fsview_user *view;  /* the user's hidden and read-only paths (fsview.h), or NULL */
	const struct rootfs_spec *rootfs; /* a root of the command's own, or NULL: the host's */
};

/*
 * Starts the jail's init. Returns a pidfd for it (and its pid in *pid), or -errno with err
 * filled. The init exits with the command's status: its exit code, 128+N if signal N killed it,
 * 125 if the jail could not be finished, 126/127 if the command could not be executed / found
 * (having said why on stderr).
 */
int spawn_jail(const struct spawn_opts *o, pid_t *pid, char *err, size_t errlen);

#endif /* BOUNDARY_USER_SPAWN_H */
