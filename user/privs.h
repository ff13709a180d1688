/* SPDX-License-Identifier: MIT */
/*
 * privs.h: taking every privilege away from the jailed command before it runs.
 * Called in the command's own process, between fork and exec; never in boundary itself.
 */
#ifndef BOUNDARY_USER_PRIVS_H
#define BOUNDARY_USER_PRIVS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * Becomes uid:gid with no supplementary groups, an empty bounding set, no capabilities of any
 * kind (permitted, effective, inheritable, ambient) and no_new_privs, so no later exec can gain
 * any (setuid binaries and file capabilities included). Returns 0 or -errno with err filled.
 */
int privs_drop_to(uid_t uid, gid_t gid, char *err, size_t errlen);

/*
 * Forbids, for good (seccomp, after no_new_privs), the ioctls that type into a terminal:
 * TIOCSTI and TIOCLINUX. The command shares boundary's terminal; without this it could type
 * into the shell that started boundary (which runs it once boundary exits, outside the jail)
 * or answer --interactive's questions itself. Returns 0 or -errno with err filled.
 */
int privs_deny_tiocsti(char *err, size_t errlen);

/* The host uid and gid that root inside a jail's user namespace is: nobody. */
#define PRIVS_USERNS_HOST_ID 65534

/*
 * For a command that stays root, step 1, in the command's process: enters a new user namespace
 * (and with it a new mount namespace, in which every mount inherited from boundary is locked),
 * tells the jail's init through ready_fd, waits on go_fd until init has written the maps
 * (privs_userns_map), then becomes uid 0 and gid 0 of the namespace, which on the host are
 * nobody: root there owns nothing of the host's. Sets no_new_privs. Returns 0 or -errno with err.
 */
int privs_userns_root(int ready_fd, int go_fd, char *err, size_t errlen);

/* Step 2, in the jail's init (still root): maps root of pid's user namespace to nobody. */
int privs_userns_map(pid_t pid, char *err, size_t errlen);

#endif /* BOUNDARY_USER_PRIVS_H */
