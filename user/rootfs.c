// SPDX-License-Identifier: MIT
/*
 * rootfs.c: the command's own root (--rootfs, --image), built by the jail's init in the jail's
 * mount namespace and entered with pivot_root; and the checks the supervisor makes before the
 * jail is built (the command is in the root) and the working directory it starts in.
 *
 * Every path inside the root is resolved with openat2(RESOLVE_IN_ROOT) from the root's own
 * directory, so a symlink of the root (an absolute one, or "..") never leads out of it while the
 * host's root is still there, and every mount is made through the descriptor that lookup gave
 * (move_mount, or mount() on /proc/self/fd/N): the path is never looked up twice. The new mount
 * API (fsopen, open_tree, mount_setattr) makes each file system detached, with its flags and
 * private propagation set, before it is attached. It does not unpack images (oci.c) nor decide
 * what the jail hides (fsview.c: its hides are mounted between rootfs_build() and
 * rootfs_enter(), so the --bind trees carry them).
 */
#include "user/rootfs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "proxy/log.h"
#include "user/opts.h"

#define OVERLAYFS_MAGIC 0x794c7630

/* The host's device nodes bound in the root's /dev (the host's own permissions hold). */
static const char *const dev_nodes[] = {"null", "zero", "full", "random", "urandom", "tty", NULL};

static int in_root(int rootfd, const char *path, int flags)
{
	struct open_how how;

	memset(&how, 0, sizeof(how));
	how.flags = (unsigned long long)(flags | O_CLOEXEC);
	how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
	return (int)syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
}

/*
 * An O_PATH descriptor of path in the root, made if missing: directories 0755 on the way, the
 * last one a directory (dir) or an empty file 0644. A dangling symlink in the last place (a
 * distribution's /etc/resolv.conf into a /run that is not there) is replaced by the file.
 * Returns the descriptor, or -errno.
 */
static int make_in_root(int rootfd, const char *path, bool dir)
{
	char parent[PATH_MAX], *slash;
	const char *base;
	int fd, pfd, f, ret;

	fd = in_root(rootfd, path, O_PATH | (dir ? O_DIRECTORY : 0));
	if (fd >= 0 || errno != ENOENT)
		return fd >= 0 ? fd : -errno;
	if (snprintf(parent, sizeof(parent), "%s", path) >= (int)sizeof(parent))
		return -ENAMETOOLONG;
	while ((slash = strrchr(parent, '/')) && slash[1] == '\0' && slash != parent)
		*slash = '\0';
	slash = strrchr(parent, '/');
	if (!slash)
		return -EINVAL;
	base = path + (slash - parent) + 1;
	if (slash == parent)
		parent[1] = '\0';
	else
		*slash = '\0';
	pfd = make_in_root(rootfd, parent, true);
	if (pfd < 0)
		return pfd;
	if (dir) {
		ret = mkdirat(pfd, base, 0755) == -1 && errno != EEXIST ? -errno : 0;
	} else {
		f = openat(pfd, base, O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (f == -1 && errno == ELOOP && unlinkat(pfd, base, 0) == 0)
			f = openat(pfd, base, O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
		ret = f == -1 ? -errno : 0;
		if (f >= 0)
			close(f);
	}
	close(pfd);
	if (ret < 0)
		return ret;
	fd = in_root(rootfd, path, O_PATH | (dir ? O_DIRECTORY : 0));
	return fd >= 0 ? fd : -errno;
}

/* The kernel's own words on a failed fsconfig (overlayfs says which layer and why). */
static void fs_messages(int fsfd, char *buf, size_t len)
{
	char line[512];
	ssize_t n;
	size_t used = 0;

	buf[0] = '\0';
	while (used + 2 < len && (n = read(fsfd, line, sizeof(line) - 1)) > 0) {
		line[n] = '\0';
		used += (size_t)snprintf(buf + used, len - used, "%s%s", used ? "; " : "",
					 n > 2 && line[1] == ' ' ? line + 2 : line);
	}
}

/*
 * A new, detached file system of type with the key=value pairs of opts (NULL-ended; a NULL
 * value sets a flag) and the MOUNT_ATTR_* attrs. Returns its mount descriptor, or -errno with
 * why (the kernel's messages, or strerror) in why.
 */
static int new_fs(const char *type, const char *const *opts, unsigned attrs, char *why,
		  size_t whylen)
{
	int fsfd, mfd = -1, ret = 0;

	why[0] = '\0';
	fsfd = fsopen(type, FSOPEN_CLOEXEC);
	if (fsfd == -1) {
		ret = -errno;
		snprintf(why, whylen, "%s", strerror(errno));
		return ret;
	}
	for (; opts && opts[0]; opts += 2) {
		if (fsconfig(fsfd, opts[1] ? FSCONFIG_SET_STRING : FSCONFIG_SET_FLAG, opts[0],
			     opts[1], 0) == -1) {
			ret = -errno;
			break;
		}
	}
	if (!ret && fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) == -1)
		ret = -errno;
	if (!ret) {
		mfd = fsmount(fsfd, FSMOUNT_CLOEXEC, attrs);
		if (mfd == -1)
			ret = -errno;
	}
	if (ret) {
		fs_messages(fsfd, why, whylen);
		if (!why[0])
			snprintf(why, whylen, "%s", strerror(-ret));
	}
	close(fsfd);
	return ret ? ret : mfd;
}

/* Attaches the detached mount mfd (closed) at path in the root, made if missing (dir or file). */
static int attach_at(int rootfd, int mfd, const char *path, bool dir, char *err, size_t errlen)
{
	int tfd, ret = 0;

	tfd = make_in_root(rootfd, path, dir);
	if (tfd < 0) {
		snprintf(err, errlen, "cannot make %s in the root: %s", path, strerror(-tfd));
		close(mfd);
		return tfd;
	}
	if (move_mount(mfd, "", tfd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) == -1) {
		ret = -errno;
		snprintf(err, errlen, "cannot mount at %s in the root: %s", path, strerror(errno));
	}
	close(tfd);
	close(mfd);
	return ret;
}

/* A new file system attached at path in the root. */
static int mount_fs(int rootfd, const char *type, const char *const *opts, unsigned attrs,
		    const char *path, char *err, size_t errlen)
{
	char why[512];
	int mfd;

	mfd = new_fs(type, opts, attrs, why, sizeof(why));
	if (mfd < 0) {
		snprintf(err, errlen, "cannot mount %s at %s in the root: %s", type, path, why);
		return mfd;
	}
	return attach_at(rootfd, mfd, path, true, err, errlen);
}

/*
 * A copy of the host's src (with what is mounted under it when recursive), private, with the
 * MOUNT_ATTR_* attrs on every mount of it, attached at path in the root.
 */
static int bind_at(int rootfd, const char *src, const char *path, bool recursive, unsigned attrs,
		   char *err, size_t errlen)
{
	struct mount_attr ma;
	struct stat st;
	int tree;

	tree = open_tree(AT_FDCWD, src,
			 OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0));
	if (tree == -1 || fstat(tree, &st) == -1) {
		int e = errno;

		snprintf(err, errlen, "cannot bring %s into the root: %s", src, strerror(e));
		if (tree >= 0)
			close(tree);
		return -e;
	}
	memset(&ma, 0, sizeof(ma));
	ma.attr_set = attrs;
	ma.propagation = MS_PRIVATE;
	if (mount_setattr(tree, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &ma,
			  sizeof(ma)) == -1) {
		int e = errno;

		snprintf(err, errlen, "cannot set the mount flags of %s in the root: %s", src,
			 strerror(e));
		close(tree);
		return -e;
	}
	return attach_at(rootfd, tree, path, S_ISDIR(st.st_mode), err, errlen);
}

/* /dev: a tmpfs with the host's harmless nodes, a devpts of its own, /dev/shm and links. */
static int make_dev(int rootfd, char *err, size_t errlen)
{
	static const char *const tmpfs_dev[] = {"mode", "0755", "size", "1m", NULL};
	static const char *const tmpfs_shm[] = {"mode", "1777", NULL};
	static const char *const pts[] = {"newinstance", NULL,	 "ptmxmode", "0666",
					  "mode",	 "0620", NULL};
	static const char *const links[][2] = {
	    {"fd", "/proc/self/fd"},	   {"stdin", "/proc/self/fd/0"},
	    {"stdout", "/proc/self/fd/1"}, {"stderr", "/proc/self/fd/2"},
	    {"ptmx", "pts/ptmx"},	   {NULL, NULL},
	};
	char host[64], path[64];
	struct mount_attr ma;
	int ret, devfd, i;

	ret = mount_fs(rootfd, "tmpfs", tmpfs_dev, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, "/dev",
		       err, errlen);
	if (ret < 0)
		return ret;
	for (i = 0; dev_nodes[i]; i++) {
		snprintf(host, sizeof(host), "/dev/%s", dev_nodes[i]);
		snprintf(path, sizeof(path), "/dev/%s", dev_nodes[i]);
		ret = bind_at(rootfd, host, path, false, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, err,
			      errlen);
		if (ret < 0)
			return ret;
	}
	ret = mount_fs(rootfd, "devpts", pts, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, "/dev/pts",
		       err, errlen);
	if (ret == 0)
		ret = mount_fs(rootfd, "tmpfs", tmpfs_shm,
			       MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, "/dev/shm",
			       err, errlen);
	if (ret < 0)
		return ret;
	devfd = in_root(rootfd, "/dev", O_PATH | O_DIRECTORY);
	if (devfd == -1) {
		ret = -errno;
		snprintf(err, errlen, "cannot open the root's /dev: %s", strerror(errno));
		return ret;
	}
	for (i = 0; links[i][0] && ret == 0; i++) {
		if (symlinkat(links[i][1], devfd, links[i][0]) == -1) {
			ret = -errno;
			snprintf(err, errlen, "cannot make /dev/%s in the root: %s", links[i][0],
				 strerror(errno));
		}
	}
	/* Nothing more is made in /dev: the command may not add to it. */
	memset(&ma, 0, sizeof(ma));
	ma.attr_set = MOUNT_ATTR_RDONLY;
	if (ret == 0 && mount_setattr(devfd, "", AT_EMPTY_PATH, &ma, sizeof(ma)) == -1) {
		ret = -errno;
		snprintf(err, errlen, "cannot make the root's /dev read-only: %s", strerror(errno));
	}
	close(devfd);
	return ret;
}

/* The overlay: lower r->lower, upper a tmpfs of stage's or r->upper's upper/, at stage/root. */
static int make_overlay(const struct rootfs_spec *r, char *err, size_t errlen)
{
	static const char *const stage_opts[] = {"mode", "0755", NULL};
	char lower[64], upper[64], work[64], why[512], at[PATH_MAX];
	const char *opts[] = {"lowerdir", lower, "upperdir", upper, "workdir", work, NULL};
	int lfd = -1, ufd = -1, wfd = -1, base = -1, mfd = -1, ret = 0;
	struct statfs sf;

	/* A tmpfs of the jail's own under everything made here. */
	mfd = new_fs("tmpfs", stage_opts, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, why, sizeof(why));
	if (mfd < 0) {
		snprintf(err, errlen, "cannot mount a tmpfs for the root: %s", why);
		return mfd;
	}
	if (move_mount(mfd, "", AT_FDCWD, r->stage, MOVE_MOUNT_F_EMPTY_PATH) == -1) {
		ret = -errno;
		snprintf(err, errlen, "cannot mount a tmpfs at %s: %s", r->stage, strerror(errno));
		goto out;
	}
	lfd = open(r->lower, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (lfd == -1) {
		ret = -errno;
		snprintf(err, errlen, "cannot open the root %s: %s", r->lower, strerror(errno));
		goto out;
	}
	if (r->upper && r->upper[0]) {
		if (mkdir(r->upper, 0700) == -1 && errno != EEXIST) {
			ret = -errno;
			snprintf(err, errlen, "cannot make --rootfs-upper %s: %s", r->upper,
				 strerror(errno));
			goto out;
		}
		base = open(r->upper, O_PATH | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
		if (base == -1 || fstatfs(base, &sf) == -1) {
			ret = -errno;
			snprintf(err, errlen, "cannot open --rootfs-upper %s: %s", r->upper,
				 strerror(errno));
			goto out;
		}
		if (sf.f_type == OVERLAYFS_MAGIC) {
			ret = -EINVAL;
			snprintf(err, errlen,
				 "--rootfs-upper %s is on an overlayfs, which cannot hold another "
				 "overlay's upper layer: choose a directory on another file system "
				 "(ext4, xfs, btrfs or tmpfs)",
				 r->upper);
			goto out;
		}
	} else {
		base = open(r->stage, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (base == -1) {
			ret = -errno;
			snprintf(err, errlen, "cannot open %s: %s", r->stage, strerror(errno));
			goto out;
		}
	}
	if ((mkdirat(base, "upper", 0755) == -1 && errno != EEXIST) ||
	    (mkdirat(base, "work", 0700) == -1 && errno != EEXIST) ||
	    (ufd = openat(base, "upper", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) == -1 ||
	    (wfd = openat(base, "work", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		ret = -errno;
		snprintf(err, errlen, "cannot make the upper layer in %s: %s",
			 r->upper && r->upper[0] ? r->upper : r->stage, strerror(errno));
		goto out;
	}
	snprintf(lower, sizeof(lower), "/proc/self/fd/%d", lfd);
	snprintf(upper, sizeof(upper), "/proc/self/fd/%d", ufd);
	snprintf(work, sizeof(work), "/proc/self/fd/%d", wfd);
	close(mfd);
	mfd = new_fs("overlay", opts, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, why, sizeof(why));
	if (mfd < 0) {
		ret = mfd;
		mfd = -1;
		snprintf(err, errlen,
			 "cannot make an overlay of the root %s%s%s: %s (the file system under "
			 "%s may not serve overlayfs: put --rootfs-upper on another file system, "
			 "such as ext4, xfs or tmpfs)",
			 r->lower, r->upper && r->upper[0] ? " with --rootfs-upper " : "",
			 r->upper && r->upper[0] ? r->upper : "", why,
			 r->upper && r->upper[0] ? "--rootfs-upper or the root" : "the root");
		goto out;
	}
	snprintf(at, sizeof(at), "%s/root", r->stage);
	if (mkdir(at, 0755) == -1 && errno != EEXIST) {
		ret = -errno;
		snprintf(err, errlen, "cannot make %s: %s", at, strerror(errno));
		goto out;
	}
	if (move_mount(mfd, "", AT_FDCWD, at, MOVE_MOUNT_F_EMPTY_PATH) == -1) {
		ret = -errno;
		snprintf(err, errlen, "cannot mount the overlay of %s: %s", r->lower,
			 strerror(errno));
	}
out:
	if (mfd >= 0)
		close(mfd);
	if (lfd >= 0)
		close(lfd);
	if (ufd >= 0)
		close(ufd);
	if (wfd >= 0)
		close(wfd);
	if (base >= 0)
		close(base);
	return ret;
}

/* Each --bind, recursive (the hides under SRC come along), read-only with :ro. */
static int make_binds(int rootfd, const char *const *binds, char *err, size_t errlen)
{
	char src[PATH_MAX], dst[PATH_MAX];
	bool ro;
	int ret;

	for (; binds && *binds; binds++) {
		if (opts_bind_split(*binds, src, sizeof(src), dst, sizeof(dst), &ro) != 0) {
			snprintf(err, errlen, "--bind %s: not SRC:DST[:ro]", *binds);
			return -EINVAL;
		}
		ret = bind_at(rootfd, src, dst, true,
			      MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | (ro ? MOUNT_ATTR_RDONLY : 0),
			      err, errlen);
		if (ret < 0)
			return ret;
	}
	return 0;
}

/* The CA bundle wherever a distribution looks for it, and the jail's names. */
static int make_etc(int rootfd, const struct rootfs_spec *r, char *err, size_t errlen)
{
	static const char *const others[] = {
	    "/etc/pki/tls/certs/ca-bundle.crt", /* Fedora, RHEL */
	    "/etc/ssl/ca-bundle.pem",		/* openSUSE */
	    "/etc/ssl/cert.pem",		/* Alpine, Arch */
	    NULL,
	};
	const unsigned ro =
	    MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
	int ret, fd, i;

	/* Always there: the CA variables name it. */
	ret = bind_at(rootfd, r->bundle, ROOTFS_BUNDLE, false, ro, err, errlen);
	for (i = 0; others[i] && ret == 0; i++) {
		fd = in_root(rootfd, others[i], O_PATH);
		if (fd == -1)
			continue;
		close(fd);
		ret = bind_at(rootfd, r->bundle, others[i], false, ro, err, errlen);
	}
	if (ret == 0)
		ret = bind_at(rootfd, r->hosts, "/etc/hosts", false, ro, err, errlen);
	if (ret == 0)
		ret = bind_at(rootfd, r->resolv, "/etc/resolv.conf", false, ro, err, errlen);
	return ret;
}

int rootfs_build(const struct rootfs_spec *r, char *err, size_t errlen)
{
	static const char *const tmp[] = {"mode", "1777", NULL};
	static const char *const none[] = {NULL};
	char at[PATH_MAX];
	int rootfd = -1, ret;

	/* Nothing here propagates anywhere, nor anything from the host into the root. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1) {
		snprintf(err, errlen, "cannot make the jail's mounts private: %s", strerror(errno));
		return -errno;
	}
	ret = make_overlay(r, err, errlen);
	if (ret < 0)
		return ret;
	snprintf(at, sizeof(at), "%s/root", r->stage);
	rootfd = open(at, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd == -1) {
		ret = -errno;
		snprintf(err, errlen, "cannot open the root at %s: %s", at, strerror(errno));
		return ret;
	}
	ret =
	    mount_fs(rootfd, "proc", none, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC,
		     "/proc", err, errlen);
	if (ret == 0)
		ret = mount_fs(rootfd, "sysfs", none,
			       MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
				   MOUNT_ATTR_NOEXEC,
			       "/sys", err, errlen);
	if (ret == 0)
		ret = make_dev(rootfd, err, errlen);
	if (ret == 0)
		ret = mount_fs(rootfd, "tmpfs", tmp, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, "/tmp",
			       err, errlen);
	if (ret == 0)
		ret = make_etc(rootfd, r, err, errlen);
	if (ret < 0) {
		close(rootfd);
		return ret;
	}
	return rootfd;
}

int rootfs_enter(const struct rootfs_spec *r, int rootfd, char *err, size_t errlen)
{
	int fd, ret;

	ret = make_binds(rootfd, r->binds, err, errlen);
	if (ret == 0 && r->cwd && r->cwd[0]) {
		fd = make_in_root(rootfd, r->cwd, true);
		if (fd < 0) {
			ret = fd;
			snprintf(err, errlen,
				 "cannot make the working directory %s in the root: %s", r->cwd,
				 strerror(-fd));
		} else {
			close(fd);
		}
	}
	if (ret < 0)
		goto out;
	/* In, and the host's root detached: nothing of it stays reachable. */
	if (fchdir(rootfd) == -1 || syscall(SYS_pivot_root, ".", ".") == -1 ||
	    umount2(".", MNT_DETACH) == -1 || chdir("/") == -1) {
		ret = -errno;
		snprintf(err, errlen, "cannot enter the root %s (pivot_root): %s", r->lower,
			 strerror(errno));
		goto out;
	}
	if (r->cwd && r->cwd[0] && chdir(r->cwd) == -1) {
		ret = -errno;
		snprintf(err, errlen, "cannot enter %s in the root: %s", r->cwd, strerror(errno));
	}
out:
	close(rootfd);
	return ret;
}

void rootfs_cwd(const char *const *binds, const char *host_cwd, const char *dflt, char *buf,
		size_t len)
{
	char src[PATH_MAX], dst[PATH_MAX], real[PATH_MAX];
	size_t n;
	bool ro;

	snprintf(buf, len, "%s", dflt && dflt[0] ? dflt : "/");
	for (; binds && *binds; binds++) {
		if (opts_bind_split(*binds, src, sizeof(src), dst, sizeof(dst), &ro) != 0)
			continue;
		if (realpath(src, real))
			snprintf(src, sizeof(src), "%s", real);
		n = strlen(src);
		while (n > 1 && src[n - 1] == '/')
			src[--n] = '\0';
		if (strcmp(src, "/") == 0)
			n = 0;
		if (strncmp(host_cwd, src, n) == 0 && (host_cwd[n] == '/' || host_cwd[n] == '\0'))
			snprintf(buf, len, "%s%s", dst, host_cwd + n);
	}
}

/* Whether file (absolute in the root) is a regular file of the layer at layer. */
static bool in_layer(int layer, const char *file)
{
	struct stat st;
	int fd;

	fd = in_root(layer, file, O_PATH);
	if (fd == -1)
		return false;
	if (fstat(fd, &st) == -1)
		st.st_mode = 0;
	close(fd);
	return S_ISREG(st.st_mode);
}

/* Whether file is under a --bind DST: what is there is the host's, found at run time. */
static bool under_bind(const char *const *binds, const char *file)
{
	char src[PATH_MAX], dst[PATH_MAX];
	size_t n;
	bool ro;

	for (; binds && *binds; binds++) {
		if (opts_bind_split(*binds, src, sizeof(src), dst, sizeof(dst), &ro) != 0)
			continue;
		n = strlen(dst);
		while (n > 1 && dst[n - 1] == '/')
			n--;
		if (strncmp(file, dst, n) == 0 && (file[n] == '/' || file[n] == '\0' || n == 1))
			return true;
	}
	return false;
}

int rootfs_check_command(const char *lower, const char *upper, const char *const *binds,
			 const char *argv0, const char *path, char *err, size_t errlen)
{
	char file[PATH_MAX], up[PATH_MAX];
	const char *p, *end;
	int layers[2] = {-1, -1}, ret = -ENOENT, i;

	layers[0] = open(lower, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (layers[0] == -1) {
		ret = -errno;
		snprintf(err, errlen, "cannot use %s as the command's root: %s", lower,
			 strerror(errno));
		return ret;
	}
	if (upper && upper[0]) {
		snprintf(up, sizeof(up), "%s/upper", upper);
		layers[1] = open(up, O_PATH | O_DIRECTORY | O_CLOEXEC);
	}
	if (strchr(argv0, '/')) {
		/* Relative to a working directory that is the jail's: left to the exec. */
		if (argv0[0] != '/' || under_bind(binds, argv0))
			ret = 0;
		for (i = 0; i < 2 && ret; i++)
			if (layers[i] >= 0 && in_layer(layers[i], argv0))
				ret = 0;
		if (ret)
			snprintf(err, errlen,
				 "%s is not in the root %s: no such file there (the command runs "
				 "in that root: put it there, or --bind the host directory that "
				 "holds it)",
				 argv0, lower);
		goto out;
	}
	for (p = path; *p && ret; p = *end ? end + 1 : end) {
		end = strchrnul(p, ':');
		if (end == p || *p != '/')
			continue;
		snprintf(file, sizeof(file), "%.*s/%s", (int)(end - p), p, argv0);
		if (under_bind(binds, file))
			ret = 0;
		for (i = 0; i < 2 && ret; i++)
			if (layers[i] >= 0 && in_layer(layers[i], file))
				ret = 0;
	}
	if (ret)
		snprintf(err, errlen,
			 "%s is not in the root %s: no directory of its PATH (%s) has it (the "
			 "command runs in that root: install it there, name it by its path in "
			 "the root, or --bind the host directory that holds it)",
			 argv0, lower, path);
out:
	for (i = 0; i < 2; i++)
		if (layers[i] >= 0)
			close(layers[i]);
	return ret;
}

/*
 * The image's Env, then PATH (the image's, the environment's, or the default); with the
 * image's User a name of its passwd, its HOME, USER and LOGNAME too.
 */
static int command_env(struct rootfs_run *rr, const char **path)
{
	char home[PATH_MAX];
	size_t n = 0, k = 0, i;
	char **e;

	for (e = rr->img.env; e && *e; e++)
		n++;
	rr->env = calloc(n + 5, sizeof(*rr->env));
	if (!rr->env)
		return -ENOMEM;
	*path = getenv("PATH");
	for (i = 0; i < n; i++) {
		rr->env[k] = strdup(rr->img.env[i]);
		if (!rr->env[k])
			return -ENOMEM;
		if (strncmp(rr->env[k], "PATH=", 5) == 0)
			*path = rr->env[k] + 5;
		k++;
	}
	if (!*path || !**path) {
		*path = ROOTFS_DEFAULT_PATH;
		if (asprintf(&rr->env[k], "PATH=%s", *path) == -1) {
			rr->env[k] = NULL;
			return -ENOMEM;
		}
		k++;
	}
	if (rr->user_set && oci_user_home(rr->lower, rr->img.user, home, sizeof(home)) == 0) {
		int u = (int)strcspn(rr->img.user, ":");

		if (asprintf(&rr->env[k], "HOME=%s", home) == -1) {
			rr->env[k] = NULL;
			return -ENOMEM;
		}
		if (asprintf(&rr->env[k + 1], "USER=%.*s", u, rr->img.user) == -1) {
			rr->env[k + 1] = NULL;
			return -ENOMEM;
		}
		if (asprintf(&rr->env[k + 2], "LOGNAME=%.*s", u, rr->img.user) == -1) {
			rr->env[k + 2] = NULL;
			return -ENOMEM;
		}
	}
	return 0;
}

int rootfs_prepare(const struct opts *o, char *const argv[], struct rootfs_run *rr, char *err,
		   size_t errlen)
{
	const char *path = NULL;
	char here[PATH_MAX];
	size_t n, i, k = 0;
	int ret;

	memset(rr, 0, sizeof(*rr));
	if (!o->rootfs[0] && !o->image[0])
		return 0;
	rr->on = true;
	n = o->binds.file.n + o->binds.cli.n;
	rr->binds = calloc(n + 1, sizeof(*rr->binds));
	if (!rr->binds) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (i = 0; i < o->binds.file.n; i++)
		rr->binds[k++] = o->binds.file.v[i];
	for (i = 0; i < o->binds.cli.n; i++)
		rr->binds[k++] = o->binds.cli.v[i];
	if (o->rootfs[0]) {
		if (!realpath(o->rootfs, rr->lower)) {
			snprintf(err, errlen, "--rootfs %s: %s", o->rootfs, strerror(errno));
			return -errno;
		}
	} else {
		ret = oci_prepare(o->image, o->image_cache, &rr->img, err, errlen);
		if (ret < 0)
			return ret;
		if (rr->img.unpacked)
			log_info("unpacked the image %s into %s", o->image, rr->img.root);
		else
			log_info("the image %s is unpacked already: %s", o->image, rr->img.root);
		snprintf(rr->lower, sizeof(rr->lower), "%s", rr->img.root);
		/* --user (flag, environment or file) says who runs it; else the image's User. */
		if (rr->img.user && o->src[OPTS_USER] == OPTS_SRC_DEFAULT) {
			ret =
			    oci_user_ids(rr->lower, rr->img.user, &rr->uid, &rr->gid, err, errlen);
			if (ret < 0)
				return ret;
			rr->user_set = true;
		}
	}
	if (command_env(rr, &path) < 0) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	ret =
	    rootfs_check_command(rr->lower, o->rootfs_upper, rr->binds, argv[0], path, err, errlen);
	if (ret < 0)
		return ret;
	if (!getcwd(here, sizeof(here)))
		here[0] = '\0';
	rootfs_cwd(rr->binds, here, rr->img.workdir ? rr->img.workdir : "/", rr->cwd,
		   sizeof(rr->cwd));
	rr->spec.lower = rr->lower;
	rr->spec.upper = o->rootfs_upper[0] ? o->rootfs_upper : NULL;
	rr->spec.binds = rr->binds;
	rr->spec.cwd = rr->cwd;
	return 0;
}

int rootfs_stage(struct rootfs_run *rr, const char *run_dir, const char *bundle, const char *hosts,
		 char *err, size_t errlen)
{
	FILE *f;
	int ret;

	if (!rr->on)
		return 0;
	snprintf(rr->resolv, sizeof(rr->resolv), "%.4000s/resolv.conf", run_dir);
	f = fopen(rr->resolv, "we");
	if (!f) {
		ret = -errno;
		snprintf(err, errlen, "cannot write %s: %s", rr->resolv, strerror(errno));
		return ret;
	}
	/* Any address will do: the jail sends every DNS query to boundary's responder. */
	ret = fputs("# boundary answers every query\nnameserver 127.0.0.1\n", f) == EOF ? -EIO : 0;
	if (fclose(f) != 0 || ret < 0) {
		snprintf(err, errlen, "cannot write %s", rr->resolv);
		return -EIO;
	}
	chmod(rr->resolv, 0644);
	snprintf(rr->stage, sizeof(rr->stage), "%.4000s/root", run_dir);
	if (mkdir(rr->stage, 0700) == -1) {
		ret = -errno;
		snprintf(err, errlen, "cannot make %s: %s", rr->stage, strerror(errno));
		rr->stage[0] = '\0';
		return ret;
	}
	rr->spec.stage = rr->stage;
	rr->spec.resolv = rr->resolv;
	rr->spec.bundle = bundle;
	rr->spec.hosts = hosts;
	return 0;
}

void rootfs_run_fini(struct rootfs_run *rr)
{
	char **e;

	if (rr->stage[0])
		rmdir(rr->stage);
	free(rr->binds);
	for (e = rr->env; e && *e; e++)
		free(*e);
	free(rr->env);
	oci_image_fini(&rr->img);
	memset(rr, 0, sizeof(*rr));
}
