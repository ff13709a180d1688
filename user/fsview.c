// SPDX-License-Identifier: MIT
/*
 * fsview.c: the jail's filesystem view, as far as it goes today: the lists of what the jail must
 * not see or change (fsview_build, in the supervisor) and the mounts that hide them or make
 * them read-only (fsview_apply, in the jail's init, in its own mount namespace). The mounts
 * every jail has whatever it is shown (/proc, /sys, the CA bundle over the system's) are
 * spawn.c's; what each path is for is the caller's.
 */
#include "user/fsview.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proxy/log.h"
#include "user/config.h"
#include "user/opts.h"

/* --- what the jail must not see or change (the supervisor) ---------------------------------- */

/* mkdir -p for dir, each new directory owned (0700) by the owner of the one above it. */
static void make_dir_as_parent(const char *dir)
{
	char path[PATH_MAX], *slash;
	struct stat st;

	if (stat(dir, &st) == 0)
		return;
	snprintf(path, sizeof(path), "%s", dir);
	slash = strrchr(path, '/');
	if (!slash || slash == path)
		return;
	*slash = '\0';
	make_dir_as_parent(path);
	if (stat(path, &st) == -1 || !S_ISDIR(st.st_mode))
		return;
	if (mkdir(dir, 0700) == 0 && chown(dir, st.st_uid, st.st_gid) == -1)
		log_debug("cannot give %s to its parent's owner: %s", dir, strerror(errno));
}

/* True if a is b or a directory above it (both absolute and canonical). */
static bool path_covers(const char *a, const char *b)
{
	size_t n = strlen(a);

	if (strcmp(a, "/") == 0)
		return true;
	return strncmp(a, b, n) == 0 && (b[n] == '\0' || b[n] == '/');
}

/*
 * Whether boundary's log directory may be made read-only in the jail as a whole, so that no log
 * of an earlier run there can be swapped either: yes for a directory of its own; no for a shared
 * one (sticky, as /tmp), or one the command works in or below ($HOME, the working directory),
 * where only this run's files are locked.
 */
static bool log_dir_lockable(const char *dir, const char *home)
{
	char real[PATH_MAX], other[PATH_MAX];
	struct stat st;

	if (!realpath(dir, real) || stat(real, &st) == -1 || !S_ISDIR(st.st_mode))
		return false;
	if (st.st_mode & S_ISVTX)
		return false;
	if (getcwd(other, sizeof(other)) && path_covers(real, other))
		return false;
	if (home && realpath(home, other) && path_covers(real, other))
		return false;
	return true;
}

void fsview_build(const struct opts *o, const struct fsview_jail *j, const char **hide,
		  size_t nhide, const char **ro, size_t nro, char *store, size_t storelen)
{
	static const char *const fixed[] = {
	    "/sys/fs/bpf",	/* the pins that hold the jail closed */
	    "/sys/fs/cgroup",	/* every cgroup, v1 and v2 */
	    "/run/dbus",	/* the system bus: resolved, systemd, NetworkManager */
	    "/run/systemd",	/* systemd's private socket, resolved's varlink */
	    "/run/user",	/* session buses (gvfs fetches URLs) */
	    "/run/docker.sock", /* a container runtime runs anything, anywhere */
	    "/run/containerd/containerd.sock",
	    "/run/podman/podman.sock",
	    "/run/nscd", /* nscd resolves names for whoever asks */
	    "/var/run/nscd",
	};
	size_t i, k = 0, r = 0, used = 0;
	const char *home;

	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]) && k + 2 < nhide; i++)
		hide[k++] = fixed[i];
	if (j->cg_root && strncmp(j->cg_root, "/sys/fs/cgroup", 14) != 0 && k + 2 < nhide)
		hide[k++] = j->cg_root;
	/* boundary's configuration: read-only for the jail, so it cannot rewrite its next run. */
	home = config_user_home(&o->user);
	if (home && config_dir_in(home, store + used, storelen - used) == 0 && r + 2 < nro) {
		ro[r++] = store + used;
		used += strlen(store + used) + 1;
	}
	/*
	 * Where boundary looks for its config next time ($HOME's, which may differ from the
	 * passwd home): made to exist, so the command cannot create it, and read-only.
	 */
	if (config_default_path(store + used, storelen - used) == 0 && r + 2 < nro) {
		char *slash = strrchr(store + used, '/');

		if (slash) {
			*slash = '\0';
			make_dir_as_parent(store + used);
			ro[r++] = store + used;
			used += strlen(store + used) + 1;
		}
	}
	if (o->config_read && r + 2 < nro)
		ro[r++] = o->config_read;
	/* The rules a person saved, and the rules program: the command must not rewrite either. */
	if (o->save_rules[0] && r + 2 < nro)
		ro[r++] = o->save_rules;
	if (o->rules_program[0] && strchr(o->rules_program, '/') &&
	    !strchr(o->rules_program, ' ') && r + 2 < nro)
		ro[r++] = o->rules_program;
	if (j->cfg_dir && j->cfg_dir[0] && r + 2 < nro)
		ro[r++] = j->cfg_dir;
	if (j->key_path && j->key_path[0] && k + 2 < nhide)
		hide[k++] = j->key_path;
	/*
	 * The Coder agent's audit socket: a jailed program would write records of its own there.
	 * boundary's log and audit files: where their directory is the user's, the jail could
	 * unlink them and leave forged ones in their place; a mount point cannot be unlinked.
	 */
	if (o->log_proxy_socket_path && o->log_proxy_socket_path[0] && k + 2 < nhide)
		hide[k++] = o->log_proxy_socket_path;
	if (j->audit_path && strcmp(j->audit_path, "-") != 0 && r + 2 < nro)
		ro[r++] = j->audit_path;
	if (log_path() && r + 2 < nro)
		ro[r++] = log_path();
	if (o->log_dir[0] && r + 2 < nro) {
		if (log_dir_lockable(o->log_dir, home))
			ro[r++] = o->log_dir;
		else
			log_warn(
			    "--log-dir %s is shared with the jailed command: it cannot change this "
			    "run's logs, but could earlier runs' there (give boundary a directory "
			    "of its own)",
			    o->log_dir);
	}
	hide[k] = NULL;
	ro[r] = NULL;
}

/* --- hiding and locking (the jail's init) ---------------------------------------------------- */

/*
 * Whether lstat's or opendir's errno e means there is nothing for the command to reach: nothing
 * there, or (where unreachable_is_hidden, see privs_reach_covers) a directory on the way that
 * the command may not search either, as a root-only /run/containerd is to an ordinary user.
 */
static bool nothing_to_hide(int e, bool unreachable_is_hidden)
{
	return e == ENOENT || e == ENOTDIR || (e == EACCES && unreachable_is_hidden);
}

/* Hides path: an empty read-only tmpfs over a directory, /dev/null over anything else. */
static int hide(const char *path, bool unreachable_is_hidden)
{
	struct stat st;

	if (lstat(path, &st) == -1)
		return nothing_to_hide(errno, unreachable_is_hidden) ? 0 : -errno;
	if (S_ISDIR(st.st_mode)) {
		if (mount("boundary", path, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
			  "size=4k,mode=0555") == -1)
			return -errno;
		return 0;
	}
	if (S_ISLNK(st.st_mode))
		return 0; /* its target is hidden in its own right, or is not ours to hide */
	if (mount("/dev/null", path, NULL, MS_BIND, NULL) == -1)
		return -errno;
	return 0;
}

/*
 * Servers that run commands for any client of their user, listening on sockets in a shared
 * temporary directory: a jailed program asking tmux (`tmux run-shell`), screen, an Emacs server
 * or a VS Code window to run something would have it run outside the jail. Their directories
 * are replaced by empty ones with the same owner and mode (a jailed tmux can still start a
 * server of its own there, which the host never sees); their lone sockets by /dev/null.
 */
static bool runs_commands(const char *name)
{
	static const char *const prefixes[] = {"tmux-",	      "emacs",	     "screen", ".X11-unix",
					       "vscode-ipc-", "vscode-git-", "kitty-"};
	size_t i;

	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (strncmp(name, prefixes[i], strlen(prefixes[i])) == 0)
			return true;
	return false;
}

static int hide_servers_in(const char *dir, bool unreachable_is_hidden, char *err, size_t errlen)
{
	char path[4096], opts[96];
	struct dirent *de;
	struct stat st;
	DIR *d;
	int ret = 0;

	d = opendir(dir);
	if (!d) {
		ret = nothing_to_hide(errno, unreachable_is_hidden) ? 0 : -errno;
		if (ret < 0)
			snprintf(err, errlen,
				 "cannot look for servers to hide from the jail in %s: %s", dir,
				 strerror(-ret));
		return ret;
	}
	while ((de = readdir(d))) {
		if (!runs_commands(de->d_name))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (lstat(path, &st) == -1)
			continue;
		if (S_ISDIR(st.st_mode)) {
			snprintf(opts, sizeof(opts), "size=1m,mode=%o,uid=%u,gid=%u",
				 (unsigned int)(st.st_mode & 07777), (unsigned int)st.st_uid,
				 (unsigned int)st.st_gid);
			if (mount("boundary", path, "tmpfs", MS_NOSUID | MS_NODEV, opts) == -1) {
				ret = -errno;
				break;
			}
		} else if (S_ISSOCK(st.st_mode)) {
			if (mount("/dev/null", path, NULL, MS_BIND, NULL) == -1) {
				ret = -errno;
				break;
			}
		}
	}
	if (ret < 0)
		snprintf(err, errlen, "cannot hide %s from the jail: %s", path, strerror(-ret));
	closedir(d);
	return ret;
}

/*
 * Makes every directory above path that its owner (not root) could rename a mount point of
 * its own, which rename(2) refuses to move: else the command could rename ~/.config away and
 * write a new policy where boundary will look for it next time.
 */
static int pin_ancestors(const char *path)
{
	char dir[4096], *slash;
	struct stat st;

	snprintf(dir, sizeof(dir), "%s", path);
	while ((slash = strrchr(dir, '/')) && slash != dir) {
		*slash = '\0';
		if (stat(dir, &st) == -1 || st.st_uid == 0)
			break;
		if (mount(dir, dir, NULL, MS_BIND, NULL) == -1)
			return -errno;
	}
	return 0;
}

static int make_rdonly(const char *path)
{
	int ret;

	if (access(path, F_OK) == -1)
		return 0;
	ret = pin_ancestors(path);
	if (ret < 0)
		return ret;
	if (mount(path, path, NULL, MS_BIND | MS_REC, NULL) == -1)
		return -errno;
	if (mount(NULL, path, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV,
		  NULL) == -1)
		return -errno;
	return 0;
}

int fsview_apply(const char *const *rdonly, const char *const *hide_paths,
		 bool unreachable_is_hidden, char *err, size_t errlen)
{
	const char *const *p, *tmux_dir;
	int ret;

	/* Global sysctls are checked by uid alone: nobody in the jail may write any. */
	ret = make_rdonly("/proc/sys");
	if (ret < 0) {
		snprintf(err, errlen, "cannot make /proc/sys read-only in the jail: %s",
			 strerror(-ret));
		return ret;
	}
	for (p = rdonly; p && *p; p++) {
		ret = make_rdonly(*p);
		if (ret < 0) {
			snprintf(err, errlen, "cannot make %s read-only in the jail: %s", *p,
				 strerror(-ret));
			return ret;
		}
	}
	for (p = hide_paths; p && *p; p++) {
		ret = hide(*p, unreachable_is_hidden);
		if (ret < 0) {
			snprintf(err, errlen, "cannot hide %s from the jail: %s", *p,
				 strerror(-ret));
			return ret;
		}
	}
	tmux_dir = getenv("TMUX_TMPDIR");
	ret = hide_servers_in("/tmp", unreachable_is_hidden, err, errlen);
	if (ret == 0)
		ret = hide_servers_in("/run", unreachable_is_hidden, err, errlen);
	if (ret == 0 && tmux_dir && tmux_dir[0] == '/')
		ret = hide_servers_in(tmux_dir, unreachable_is_hidden, err, errlen);
	return ret;
}
