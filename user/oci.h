/* SPDX-License-Identifier: MIT */
/*
 * oci.h: an OCI image layout directory (--image DIR: oci-layout, index.json, blobs/sha256/...,
 * as `skopeo copy docker://IMAGE oci:DIR` or `podman save --format oci-dir` write it) made into
 * a root for rootfs.c. index.json leads to the manifest for linux and this machine's
 * architecture, that to the config (Env, WorkingDir, User) and the layers; every blob read is
 * checked against its digest (sha256) and size. The layers are unpacked once, in order, with
 * their whiteouts applied, into a cache directory named after the manifest's digest; a later
 * run finds it there. No registry is ever asked for anything.
 *
 * Unpacking never follows a symlink: every path is resolved under the root being made with
 * openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS), so a layer's absolute path, "..", or a path
 * through a symlink (its own or an earlier layer's) is refused, and device nodes are skipped.
 */
#ifndef BOUNDARY_USER_OCI_H
#define BOUNDARY_USER_OCI_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Where unpacked images are kept unless --image-cache says otherwise. */
#define OCI_CACHE_DEFAULT "/var/cache/boundary/images"

/* An image made ready: the root, and what its config asks of the command. */
struct oci_image {
	char root[4096]; /* the unpacked root, in the cache */
	char **env;	 /* the config's Env, "NAME=value", NULL-ended; owned */
	char *workdir;	 /* the config's WorkingDir, or NULL; owned */
	char *user;	 /* the config's User as written, or NULL; owned */
	bool unpacked;	 /* this run unpacked it (else the cache had it) */
};

/*
 * Reads the layout at dir, checks every blob it uses, and unpacks the layers into cache (made
 * root-owned 0700 if missing, refused if anyone else may write it) unless a finished root for
 * the same manifest is there. Concurrent runs are safe: each unpacks into a directory of its
 * own and renames it into place; the loser removes its copy. Fills img (pair with
 * oci_image_fini()). Returns 0, or -errno with err filled: what is wrong with which blob, and
 * what to do.
 */
int oci_prepare(const char *dir, const char *cache, struct oci_image *img, char *err,
		size_t errlen);

/*
 * The config's User ("uid", "uid:gid", "name" or "name:group") as ids, names looked up in the
 * root's /etc/passwd and /etc/group; a name without a group gets its passwd group, a number
 * without one the same number (never the host's group 0 by default). Returns 0, or -ENOENT / -EINVAL with err filled.
 */
int oci_user_ids(const char *root, const char *user, uid_t *uid, gid_t *gid, char *err,
		 size_t errlen);

/*
 * The home directory of the config's User when it names a user of the root's /etc/passwd (a
 * line "name:x:uid:gid:gecos:HOME:shell"), in home (len bytes). Returns 0, or -ENOENT (a
 * number, or no such user or home).
 */
int oci_user_home(const char *root, const char *user, char *home, size_t len);

/* Frees what img owns; accepts a zeroed one. */
void oci_image_fini(struct oci_image *img);

#endif /* BOUNDARY_USER_OCI_H */
