/* SPDX-License-Identifier: MIT */
/*
 * privs.h: taking every privilege away from the jailed command before it runs (called in the
 * command's own process, between fork and exec), and, for boundary itself when an ordinary user
 * runs it on file capabilities (setcap), holding those capabilities only while it builds or
 * takes down a jail, never while it reads the user's files or serves connections.
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
 * For a command that keeps boundary's own user (an ordinary user's, in the landlock and weak
 * jail types): no capabilities of any kind, the bounding set emptied when boundary may (it holds
 * CAP_SETPCAP), and no_new_privs. Returns 0 or -errno with err filled.
 */
int privs_drop_caps(char *err, size_t errlen);

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

/*
 * The capabilities an ordinary user's boundary needs (setcap PRIVS_SETCAP+ep), as one string in
 * setcap's spelling. Each one's use is in docs/SECURITY.md. CAP_BPF is not among them: the
 * kernel lets CAP_SYS_ADMIN, which the namespaces need anyway, load BPF programs too.
 */
#define PRIVS_SETCAP "cap_net_admin,cap_sys_admin,cap_setuid,cap_setgid,cap_setpcap"

/* Whether boundary runs for an ordinary user (real uid not 0), on file capabilities or none. */
bool privs_unprivileged(void);

/*
 * For an ordinary user: checks that every capability of PRIVS_SETCAP is permitted. Returns 0, or
 * -EPERM with err naming the missing ones and the setcap line that grants them. Root: 0.
 */
int privs_caps_check(char *err, size_t errlen);

/*
 * For an ordinary user, in the calling thread only (capabilities and the filesystem ids are
 * per thread, so worker threads made while lowered never hold any): privs_raise() makes every
 * permitted capability effective and the filesystem ids root's, so what a jail makes in /sys and
 * /run belongs to root as under sudo; privs_lower() gives the ids back and empties the effective
 * set, so the user's own files (config, CA, logs) are read and written as the user alone. Both do
 * nothing for root. privs_lower() is called once at start, before any option is read.
 */
void privs_raise(void);
void privs_lower(void);

/*
 * For an ordinary user: the filesystem ids back to the user's, capabilities kept. The jail's
 * init calls it before it mounts, so it reaches the user's own files (the CA key it hides, the
 * config it makes read-only) as the user does. Nothing for root.
 */
void privs_fs_user(void);

/*
 * Whether a path the calling thread was refused (EACCES: a directory above it it may not search)
 * is out of reach of a command that privs_drop_to(uid, gid) will make, too, and so needs no
 * hiding from it. True when the thread holds neither CAP_DAC_OVERRIDE nor CAP_DAC_READ_SEARCH
 * and its filesystem ids are uid and gid: the command has those ids, fewer groups (none), no
 * capability and no_new_privs, so no exec widens what it may reach. That is an ordinary user's
 * boundary on file capabilities facing a root-only /run/containerd. False for root's boundary,
 * which may reach every path: a refusal there is a security module's, about another process.
 */
bool privs_reach_covers(uid_t uid, gid_t gid);

#endif /* BOUNDARY_USER_PRIVS_H */
