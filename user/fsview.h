/* SPDX-License-Identifier: MIT */
/*
 * fsview.h: what the jail's filesystem view leaves out. The supervisor lists what the jail must
 * not see (hidden) or change (read-only): the pins and cgroups that hold it closed, the sockets
 * of daemons that would act for it, the CA key, boundary's config, rules, logs and audit files.
 * The jail's init, in its own mount namespace, applies the lists. Nothing here reaches the host's
 * mount table: the caller has made its mounts private first.
 */
#ifndef BOUNDARY_USER_FSVIEW_H
#define BOUNDARY_USER_FSVIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct opts;
struct fsview_user;

/* How the jail shows a path of the user's view. */
enum fsview_how {
	FSVIEW_HIDE,   /* empty: an empty read-only tmpfs over a directory, /dev/null over a file */
	FSVIEW_SHOW,   /* under a hidden directory, shown read-only all the same */
	FSVIEW_STRIP,  /* a read-only copy without the lines that hold credentials */
	FSVIEW_RDONLY, /* read-only, with everything mounted under it */
	FSVIEW_WRITABLE, /* writable again under a read-only path */
};

/* The jail's own paths the view takes in; each may be NULL or "" for none. */
struct fsview_jail {
	const char *cg_root;	/* the cgroup2 mount, hidden where it is not under /sys/fs/cgroup */
	const char *cfg_dir;	/* boundary's config directory (the CA's): read-only */
	const char *key_path;	/* the CA key: hidden */
	const char *audit_path; /* the audit log ("-": stdout): read-only */
};

/*
 * Fills hide (nhide slots) and ro (nro slots) with NULL-terminated lists of paths for the jail
 * of o: hide's made empty, ro's read-only. Paths it makes are kept in store (storelen bytes),
 * the others borrowed from o and j, so the lists are valid while all three are. A list that
 * fills up leaves the rest out. Makes boundary's default config directory exist (so the command
 * cannot create it), and warns of a --log-dir the command shares.
 */
void fsview_build(const struct opts *o, const struct fsview_jail *j, const char **hide,
		  size_t nhide, const char **ro, size_t nro, char *store, size_t storelen);

/*
 * The user's view for the jail of o: the default hidden paths (the one table, in fsview.c)
 * under the command's home and its user's passwd home, then --hide, --read-only, --writable,
 * --protect-startup-files, less --unhide. j (or NULL for none) names boundary's own paths, which
 * no --unhide may show. Returns the view, or NULL with errno set and err filled (-EPERM: an
 * --unhide boundary refuses). Free with fsview_user_free(), which takes NULL.
 */
struct fsview_user *fsview_user_new(const struct opts *o, const struct fsview_jail *j, char *err,
				    size_t errlen);
void fsview_user_free(struct fsview_user *u);

/*
 * boundary --show-hidden: writes to f, one a line, each path the jail of o would hide, show,
 * strip, or make read-only, and whether it exists. Returns 0, or -errno with err filled.
 */
int fsview_show(const struct opts *o, FILE *f, char *err, size_t errlen);

/*
 * in (len bytes, an .npmrc or .pypirc) into out (len bytes at least) without the lines whose
 * key holds a credential: "_auth..." (npm's _auth, _authToken), any key containing "password",
 * "passwd", "token", "secret" or "username", and npm's inline client "key", each with its
 * indented continuation lines. A "//registry/:" scope before the key is ignored, case too.
 * Returns the bytes written.
 */
size_t fsview_strip_auth(const char *in, size_t len, char *out);

/*
 * In the jail's mount namespace: makes /proc/sys and each of rdonly (NULL-terminated, or NULL)
 * read-only, hides each of hide (an empty read-only tmpfs over a directory, /dev/null over
 * anything else), and hides the sockets of servers that run commands for their user in /tmp,
 * /run and $TMUX_TMPDIR, then hides u's hidden paths. A path that is not there needs no hiding, nor, when
 * unreachable_is_hidden, one the command could not reach anyway (see privs_reach_covers).
 * Returns 0, or -errno with err filled.
 */
int fsview_apply(const char *const *rdonly, const char *const *hide, struct fsview_user *u,
		 bool unreachable_is_hidden, char *err, size_t errlen);

#endif /* BOUNDARY_USER_FSVIEW_H */
