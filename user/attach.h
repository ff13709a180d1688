/* SPDX-License-Identifier: MIT */
/*
 * attach.h: what boundary attach must learn about a cgroup it did not make. Which cgroup
 * (--cgroup, or a container's or a systemd unit's, asked of the runtime or of systemctl), which
 * network namespace its processes live in (the listeners go there), and which sockets they
 * opened before the programs were attached (named in a warning, or shut down). It knows nothing
 * of BPF (jail.c attaches) and never kills or removes a cgroup; it makes one only when asked
 * (--create).
 */
#ifndef BOUNDARY_USER_ATTACH_H
#define BOUNDARY_USER_ATTACH_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* The cgroup to attach to, once resolved. */
struct attach_target {
	char path[PATH_MAX]; /* its directory under the cgroup2 mount */
	pid_t member;	     /* one process in it or below it, 0 when it has none */
	int netns_fd;	     /* its processes' network namespace, -1 when it is the host's */
	/*
	 * A parent: it has no process of its own, and its children (which may live in network
	 * namespaces of their own, or be made later) are each a jail (see parent.h). So is a
	 * cgroup with no process at all, and one whose processes live in different namespaces.
	 */
	bool parent;
};

/*
 * Makes the cgroup that cgroup names (as attach_resolve() reads it), and the directories above
 * it, if they do not exist, for boundary attach --create. Returns 0, or -errno with err filled.
 */
int attach_create(const char *root, const char *cgroup, char *err, size_t errlen);

/*
 * Resolves the cgroup named by exactly one of cgroup (a directory under the cgroup2 mount root,
 * or a path relative to that mount, as /proc/PID/cgroup and systemd write it), container (an
 * id or name that docker, podman, nerdctl, crictl or ctr, whichever is installed, knows) or
 * unit (a systemd unit: systemctl show -p ControlGroup). Refuses the root cgroup, a jail of
 * boundary's own and any cgroup that holds boundary itself (its own connections would be
 * redirected to itself). Finds the network namespace its processes live in; a cgroup with
 * no process, or whose processes live in different ones, is a parent (t->parent), which must
 * then hold no process itself, only children. Returns 0 with t filled (close t->netns_fd when
 * it is not -1), or -errno with err filled for a person.
 */
int attach_resolve(const char *root, const char *cgroup, const char *container, const char *unit,
		   struct attach_target *t, char *err, size_t errlen);

/*
 * Finds t->path's processes again once a new cgroup has taken its place (a container restarted:
 * the runtime removes its cgroup and makes another at the same path): with container, the one
 * its runtime names, which must be in t->path by now; otherwise any, once all of them share one
 * network namespace. root is the cgroup2 mount. Returns 1 with t->member and t->netns_fd filled
 * as attach_resolve() fills them, 0 when there is nothing to look at yet (ask again later), or
 * -errno with err filled.
 */
int attach_refind(const char *root, struct attach_target *t, const char *container, char *err,
		  size_t errlen);

/*
 * Finds the internet sockets the processes of cgroup path (and of the cgroups below it) hold
 * that carry a connection (TCP in any state but listening or closed, UDP with a peer), which
 * the programs attached now never saw. Each is named in a warning with its owner's pid and
 * name and its peer; with shut, each is shut down instead (shutdown(2) on a copy of the
 * owner's descriptor: the owner reads end of file, the peer sees the connection end). A
 * connection to the loopback of a namespace other than the host's is not one of them: the
 * programs never redirect it. Each process is held by a pidfd while its descriptors are read,
 * and a descriptor is shut only while it is still the socket that was read, so a pid or a
 * descriptor number reused meanwhile is never touched. Returns how many were found, or -errno.
 */
int attach_existing_sockets(const char *path, bool shut);

#endif /* BOUNDARY_USER_ATTACH_H */
