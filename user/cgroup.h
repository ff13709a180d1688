/* SPDX-License-Identifier: MIT */
/*
 * cgroup.h: finding the cgroup2 hierarchy and managing the jails' cgroups under it.
 *
 * Every jail gets one cgroup, <cgroup2 mount>/boundary/<jail id>. The module knows nothing of
 * BPF; it creates, kills, waits for and removes cgroups, with errors a person can act on.
 */
#ifndef BOUNDARY_USER_CGROUP_H
#define BOUNDARY_USER_CGROUP_H

#include <stddef.h>

/* The parent of every jail's cgroup, under the cgroup2 mount. */
#define CGROUP_PARENT "boundary"

/*
 * Finds the cgroup2 mount point in /proc/self/mountinfo (/sys/fs/cgroup on unified hosts,
 * /sys/fs/cgroup/unified on hybrid ones) and writes it to buf. Returns 0, or -ENOENT with err
 * filled when the host has none.
 */
int cgroup_find_root(char *buf, size_t buflen, char *err, size_t errlen);

/*
 * Creates <root>/boundary/<id> (and the parent if needed), writes its path to path and returns
 * an O_DIRECTORY descriptor for clone3(CLONE_INTO_CGROUP), or -errno with err filled.
 */
int cgroup_create(const char *root, const char *id, char *path, size_t pathlen, char *err,
		  size_t errlen);

/*
 * Kills every process in the cgroup (cgroup.kill), waits up to timeout_ms for it to be empty,
 * and removes it. Returns 0, or -errno (-ETIMEDOUT if processes remain). A missing cgroup is 0.
 */
int cgroup_destroy(const char *path, int timeout_ms);

/* 1 if the cgroup has processes, 0 if not, -errno on error. */
int cgroup_populated(const char *path);

#endif /* BOUNDARY_USER_CGROUP_H */
