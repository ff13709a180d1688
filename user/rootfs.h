/* SPDX-License-Identifier: MIT */
/*
 * rootfs.h: a root file system of the command's own (--rootfs, --image). The jail's init builds
 * it in its mount namespace: an OverlayFS whose lower layer is the root (never written), whose
 * upper layer is a tmpfs or --rootfs-upper's directory, with the jail's own /proc, a read-only
 * /sys, a minimal /dev, a /tmp, boundary's CA bundle, /etc/hosts and /etc/resolv.conf, and the
 * --bind paths; then pivot_root into it and detach the host's root. Every mount is private.
 * What goes in the image's root is oci.c's; which paths the jail hides is fsview.c's.
 */
#ifndef BOUNDARY_USER_ROOTFS_H
#define BOUNDARY_USER_ROOTFS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "user/oci.h"

#define PATH_MAX_ROOTFS 4096

/* PATH for a command whose environment has none. */
#define ROOTFS_DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* Where the CA bundle is always found in the root (the CA variables name it). */
#define ROOTFS_BUNDLE "/etc/ssl/certs/ca-certificates.crt"

/* What the root is made of; every path is the host's, borrowed. */
struct rootfs_spec {
	const char *lower;	  /* the root: the overlay's lower layer */
	const char *upper;	  /* --rootfs-upper (upper/ and work/ made in it), or NULL: tmpfs */
	const char *stage;	  /* an empty directory of root's where the root is assembled */
	const char *bundle;	  /* boundary's CA bundle */
	const char *hosts;	  /* the jail's /etc/hosts */
	const char *resolv;	  /* the jail's /etc/resolv.conf */
	const char *const *binds; /* NULL-terminated "SRC:DST[:ro|:rw]" (opts_bind_split) */
	const char *cwd;	  /* the working directory inside the root, made if missing */
};

/*
 * In the jail's init, once /proc is the jail's and before the jail's hides are mounted (so a
 * hide over /run cannot hide the stage or the files boundary shows in the root): makes the
 * root private of everything, the overlay at r->stage/root with /proc, /sys, /dev, /tmp, the
 * CA bundle, /etc/hosts and /etc/resolv.conf in it. Returns a descriptor of the root (for
 * rootfs_enter()), or -errno with err filled: what failed and what to do about it.
 */
int rootfs_build(const struct rootfs_spec *r, char *err, size_t errlen);

/*
 * After the hides (the --bind sources are cloned with what is mounted under them, hides
 * included): the --bind trees, the working directory, then pivot_root into the root and the
 * old one detached; the working directory is then r->cwd. Takes rootfd (closed). Returns 0,
 * or -errno with err filled.
 */
int rootfs_enter(const struct rootfs_spec *r, int rootfd, char *err, size_t errlen);

/*
 * The working directory in the root for a command started in host_cwd: the DST of the last
 * --bind whose SRC holds host_cwd, with the rest of the path; else dflt. Writes buf (len).
 */
void rootfs_cwd(const char *const *binds, const char *host_cwd, const char *dflt, char *buf,
		size_t len);

/*
 * Before the jail is built: whether argv0 is in the root (lower, then the kept upper, if any),
 * looked up on path when it has no '/', as the root would resolve it (its own symlinks, inside
 * it). A command under a --bind DST is not checked. Returns 0, or -ENOENT / -errno with err
 * filled ("/bin/sh is not in the root /x: ...").
 */
int rootfs_check_command(const char *lower, const char *upper, const char *const *binds,
			 const char *argv0, const char *path, char *err, size_t errlen);

struct opts;

/* A run's root, as jail_run() holds it: rootfs_prepare() fills it, rootfs_run_fini() ends it. */
struct rootfs_run {
	bool on;		 /* --rootfs or --image given */
	struct rootfs_spec spec; /* for the jail's init; its strings are the ones below */
	const char **binds;	 /* NULL-terminated, borrowed from opts */
	char lower[PATH_MAX_ROOTFS];
	char cwd[PATH_MAX_ROOTFS];
	char stage[PATH_MAX_ROOTFS]; /* made by rootfs_stage(), removed by rootfs_run_fini() */
	char resolv[PATH_MAX_ROOTFS];
	char **env;    /* the image's Env, and PATH if nothing gives one; NULL-ended, owned */
	bool user_set; /* the image's User applies (no --user given): uid, gid */
	uid_t uid;
	gid_t gid;
	struct oci_image img; /* --image's */
};

/*
 * Before the jail is built: fills rr for o (nothing to do without --rootfs or --image): for
 * --image, the image made ready (oci_prepare(): checked, unpacked into the cache once) and its
 * config's Env, WorkingDir and User taken unless --user or a --bind of the working directory
 * says otherwise; checks that argv[0] is in the root; works out the working directory and PATH. Returns 0, or
 * -errno with err filled.
 */
int rootfs_prepare(const struct opts *o, char *const argv[], struct rootfs_run *rr, char *err,
		   size_t errlen);

/*
 * Once run_dir (root's, the jail's files) exists: the stage directory and the jail's
 * resolv.conf in it, and rr->spec completed with bundle and hosts (borrowed). Returns 0, or
 * -errno with err filled.
 */
int rootfs_stage(struct rootfs_run *rr, const char *run_dir, const char *bundle, const char *hosts,
		 char *err, size_t errlen);

/* Removes the stage directory (its mounts were the jail's only) and frees what rr holds. */
void rootfs_run_fini(struct rootfs_run *rr);

#endif /* BOUNDARY_USER_ROOTFS_H */
