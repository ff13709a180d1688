/* SPDX-License-Identifier: MIT */
/*
 * reap.h: jails whose boundary was killed. Their pinned programs keep them closed (never open)
 * until a later boundary reaps them: kills what is left in their cgroups, unpins the programs,
 * removes the cgroups and run directories. A jail's objects are named by its id, which names
 * its boundary by pid and start time, so a live jail is never taken for a stale one.
 */
#ifndef BOUNDARY_USER_REAP_H
#define BOUNDARY_USER_REAP_H

#include <stdbool.h>
#include <stddef.h>

/* Where pinned links live: one directory per jail, named by the jail's id. */
#define REAP_PIN_ROOT "/sys/fs/bpf/boundary"
/* Where the files a jail is shown (its /etc/hosts) live, one directory per jail. */
#define REAP_RUN_ROOT "/run/boundary"
/* In an attachment's run directory: the cgroup it holds closed, for the reaper. */
#define REAP_ATTACHED_FILE "cgroup"

/* A jail's id for this boundary ("<pid>-<start time>") in buf. */
void reap_make_id(char *buf, size_t len);

/*
 * Removes every stale jail's cgroup, pins and run directory. A stale attachment (boundary
 * attach) stays, keeping its cgroup closed, while that cgroup has processes, unless all_attached
 * (boundary cleanup) or its cgroup is mine (NULL for none): a new attach to that cgroup takes it
 * over once its own programs are attached, so the cgroup is never open between the two. Says
 * what it reaps and what it leaves. Returns the number of objects reaped.
 */
int reap_stale(bool all_attached, const char *mine);

/*
 * Counts what reap_stale(true, NULL) would remove (stale jails' cgroups, pin directories and run
 * directories, each one), removing nothing. For boundary doctor. Returns the count.
 */
int reap_count_stale(void);

/*
 * Refuses a second boundary on one cgroup: two sets of programs would rewrite each other's
 * rewrites. Returns 0, or -EBUSY with err saying which boundary holds cg.
 */
int reap_attach_is_free(const char *cg, char *err, size_t errlen);

#endif /* BOUNDARY_USER_REAP_H */
