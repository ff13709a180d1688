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
 * For a command that stays root: enters a new user namespace (and with it a new mount
 * namespace, in which every mount inherited from boundary is locked) where it is uid 0 and gid
 * 0 with capabilities over nothing that belongs to the host; sets no_new_privs. Returns 0 or
 * -errno with err filled.
 */
int privs_userns_root(char *err, size_t errlen);

#endif /* BOUNDARY_USER_PRIVS_H */
