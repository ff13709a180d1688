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
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
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

/* Boundary's own paths, hidden for its safety whatever the options say (fsview_build's too). */
static const char *const own_hidden[] = {
    "/sys/fs/bpf",	/* the pins that hold the jail closed */
    "/sys/fs/cgroup",	/* every cgroup, v1 and v2 */
    "/run/dbus",	/* the system bus: resolved, systemd, NetworkManager */
    "/run/systemd",	/* systemd's private socket, resolved's varlink */
    "/run/user",	/* session buses (gvfs fetches URLs) */
    "/run/docker.sock", /* a container runtime runs anything, anywhere */
    "/run/containerd/containerd.sock",
    "/run/podman/podman.sock",
    "/run/nscd",	       /* nscd resolves names for whoever asks */
    "/run/boundary-approvals", /* where --interactive takes answers from another terminal */
    "/var/run/nscd",
};

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
	size_t i, k = 0, r = 0, used = 0;
	const char *home;

	for (i = 0; i < sizeof(own_hidden) / sizeof(own_hidden[0]) && k + 2 < nhide; i++)
		hide[k++] = own_hidden[i];
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
	/* The --js file (reloaded when it changes) and the --sh script: the policy, not the jail's. */
	if (o->js_file[0] && r + 2 < nro)
		ro[r++] = o->js_file;
	if (o->sh[0] && strchr(o->sh, '/') && !strchr(o->sh, ' ') && r + 2 < nro)
		ro[r++] = o->sh;
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
		if (mount(dir, dir, NULL, MS_BIND | MS_REC, NULL) == -1)
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

/* --- the user's view: credentials hidden, paths read-only (supervisor, then init) ------------- */

/*
 * THE list of what every jail hides from the command under its user's home (and root's, when it
 * runs as root): credentials, the secrets of other programs, and what a person typed. SHOW rows
 * are paths under a hidden directory shown read-only all the same (ssh needs known_hosts and its
 * config to connect); STRIP rows are files shown as a copy without the lines that hold a
 * credential (strip_auth). `boundary --show-hidden` prints it, resolved; the man page's
 * FILESYSTEM VIEW lists it too, so a row added here is added there.
 */
static const struct fsview_default {
	const char *path; /* under "~/" */
	enum fsview_how how;
} defaults[] = {
    {"~/.ssh", FSVIEW_HIDE},
    {"~/.ssh/known_hosts", FSVIEW_SHOW},
    {"~/.ssh/config", FSVIEW_SHOW},
    {"~/.aws", FSVIEW_HIDE},
    {"~/.azure", FSVIEW_HIDE},
    {"~/.config/gcloud", FSVIEW_HIDE},
    {"~/.kube", FSVIEW_HIDE},
    {"~/.docker/config.json", FSVIEW_HIDE},
    {"~/.netrc", FSVIEW_HIDE},
    {"~/.git-credentials", FSVIEW_HIDE},
    {"~/.config/git/credentials", FSVIEW_HIDE},
    {"~/.gnupg", FSVIEW_HIDE},
    {"~/.password-store", FSVIEW_HIDE},
    {"~/.config/gh/hosts.yml", FSVIEW_HIDE},
    {"~/.config/hub", FSVIEW_HIDE},
    {"~/.local/share/keyrings", FSVIEW_HIDE},
    {"~/.vault-token", FSVIEW_HIDE},
    {"~/.terraform.d/credentials.tfrc.json", FSVIEW_HIDE},
    {"~/.cargo/credentials.toml", FSVIEW_HIDE},
    {"~/.cargo/credentials", FSVIEW_HIDE},
    {"~/.gem/credentials", FSVIEW_HIDE},
    {"~/.npmrc", FSVIEW_STRIP},
    {"~/.pypirc", FSVIEW_STRIP},
    {"~/.bash_history", FSVIEW_HIDE},
    {"~/.zsh_history", FSVIEW_HIDE},
    {"~/.histfile", FSVIEW_HIDE},
    {"~/.local/share/fish/fish_history", FSVIEW_HIDE},
    {"~/.python_history", FSVIEW_HIDE},
    {"~/.psql_history", FSVIEW_HIDE},
    {"~/.mysql_history", FSVIEW_HIDE},
    {"~/.sqlite_history", FSVIEW_HIDE},
    {"~/.node_repl_history", FSVIEW_HIDE},
    {"~/.irb_history", FSVIEW_HIDE},
    {"~/.lesshst", FSVIEW_HIDE},
    {"~/.mozilla", FSVIEW_HIDE},
    {"~/.config/google-chrome", FSVIEW_HIDE},
    {"~/.config/chromium", FSVIEW_HIDE},
    {"~/.config/BraveSoftware", FSVIEW_HIDE},
    {"~/.config/microsoft-edge", FSVIEW_HIDE},
    {"~/.config/vivaldi", FSVIEW_HIDE},
    {"~/.config/opera", FSVIEW_HIDE},
    {"~/snap/firefox", FSVIEW_HIDE},
    {"~/snap/chromium", FSVIEW_HIDE},
    {"~/.var/app/org.mozilla.firefox", FSVIEW_HIDE},
    {"~/.var/app/com.google.Chrome", FSVIEW_HIDE},
    {"~/.thunderbird", FSVIEW_HIDE},
};

/*
 * --protect-startup-files: what runs later, outside the jail, as the user: the shells' start-up
 * files, git's own configuration (aliases, core.hooksPath, core.pager, credential helpers),
 * and, in the working directory's repository, its hooks and configuration, plus direnv's .envrc.
 */
static const char *const startup_files[] = {
    "~/.bashrc",    "~/.bash_profile", "~/.bash_login", "~/.bash_logout",   "~/.profile",
    "~/.zshrc",	    "~/.zshenv",       "~/.zprofile",	"~/.zlogin",	    "~/.config/fish",
    "~/.gitconfig", "~/.config/git",   "~/.inputrc",	"~/.config/direnv",
};

struct fsview_path {
	char *path; /* absolute, owned */
	enum fsview_how how;
};

struct fsview_user {
	struct fsview_path *v;
	size_t n;
	char home[PATH_MAX];   /* the command's $HOME, what "~/" means */
	char pwhome[PATH_MAX]; /* the passwd home of its user, if another one; else "" */
	char cwd[PATH_MAX];
};

void fsview_user_free(struct fsview_user *u)
{
	size_t i;

	if (!u)
		return;
	for (i = 0; i < u->n; i++)
		free(u->v[i].path);
	free(u->v);
	free(u);
}

/*
 * Appends path (how) unless it is there already: then the later how wins, but for a read-only
 * or writable one over a hidden or stripped one. Returns 0 or -ENOMEM.
 */
static int add(struct fsview_user *u, const char *path, enum fsview_how how)
{
	struct fsview_path *v;
	size_t i;

	for (i = 0; i < u->n; i++) {
		if (strcmp(u->v[i].path, path) != 0)
			continue;
		/* Read-only or writable does not show what is hidden: only --unhide does. */
		if ((how == FSVIEW_RDONLY || how == FSVIEW_WRITABLE) &&
		    (u->v[i].how == FSVIEW_HIDE || u->v[i].how == FSVIEW_STRIP))
			return 0;
		u->v[i].how = how;
		return 0;
	}
	v = realloc(u->v, (u->n + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	u->v = v;
	v[u->n].path = strdup(path);
	if (!v[u->n].path)
		return -ENOMEM;
	v[u->n++].how = how;
	return 0;
}

static void drop(struct fsview_user *u, size_t i)
{
	free(u->v[i].path);
	memmove(&u->v[i], &u->v[i + 1], (u->n - i - 1) * sizeof(u->v[0]));
	u->n--;
}

/*
 * path as the jail means it, in out: "~" and "~/..." under home, a relative path under cwd;
 * "." and ".." and repeated slashes folded away by hand, so a path that does not exist yet
 * (nothing to hide) still compares right. Returns 0 or -ENAMETOOLONG.
 */
static int expand(const char *path, const char *home, const char *cwd, char *out, size_t len)
{
	char tmp[PATH_MAX], *p, *save = NULL, *seg;
	size_t o = 0;
	int n;

	if (path[0] == '~')
		n = snprintf(tmp, sizeof(tmp), "%s/%s", home, path[1] ? path + 2 : "");
	else if (path[0] != '/')
		n = snprintf(tmp, sizeof(tmp), "%s/%s", cwd, path);
	else
		n = snprintf(tmp, sizeof(tmp), "%s", path);
	if (n < 0 || (size_t)n >= sizeof(tmp) || len < 2)
		return -ENAMETOOLONG;
	out[0] = '\0';
	for (p = tmp; (seg = strtok_r(p, "/", &save)); p = NULL) {
		if (strcmp(seg, ".") == 0)
			continue;
		if (strcmp(seg, "..") == 0) {
			while (o > 0 && out[--o] != '/')
				;
			out[o] = '\0';
			continue;
		}
		n = snprintf(out + o, len - o, "/%s", seg);
		if (n < 0 || (size_t)n >= len - o)
			return -ENAMETOOLONG;
		o += (size_t)n;
	}
	if (o == 0)
		snprintf(out, len, "/");
	return 0;
}

/* The paths boundary hides or locks for its own safety, which no --unhide may show. */
static const char *own_path_covering(const char *path, const struct fsview_jail *j,
				     const char *cfg_dir)
{
	const char *own[sizeof(own_hidden) / sizeof(own_hidden[0]) + 4];
	size_t i, n = 0;

	for (i = 0; i < sizeof(own_hidden) / sizeof(own_hidden[0]); i++)
		own[n++] = own_hidden[i];
	if (j && j->cg_root && j->cg_root[0])
		own[n++] = j->cg_root;
	if (j && j->key_path && j->key_path[0])
		own[n++] = j->key_path;
	if (j && j->cfg_dir && j->cfg_dir[0])
		own[n++] = j->cfg_dir;
	if (cfg_dir && cfg_dir[0])
		own[n++] = cfg_dir;
	for (i = 0; i < n; i++)
		if (path_covers(path, own[i]) || path_covers(own[i], path))
			return own[i];
	return NULL;
}

/* The homes: the command's $HOME (inherited, or its --user's) and its passwd home. */
static void find_homes(const struct opts *o, struct fsview_user *u)
{
	const char *pw = config_user_home(&o->user), *env = getenv("HOME");

	if (o->user.set || !env || env[0] != '/')
		env = pw;
	snprintf(u->home, sizeof(u->home), "%s", env ? env : "/");
	u->pwhome[0] = '\0';
	if (pw && strcmp(pw, u->home) != 0)
		snprintf(u->pwhome, sizeof(u->pwhome), "%s", pw);
	if (!getcwd(u->cwd, sizeof(u->cwd)))
		snprintf(u->cwd, sizeof(u->cwd), "/");
}

static int add_list(struct fsview_user *u, const struct opts_list *l, enum fsview_how how,
		    const char *flag, char *err, size_t errlen)
{
	const struct opts_strv *sv[2] = {&l->file, &l->cli};
	char path[PATH_MAX];
	size_t i, k;

	for (k = 0; k < 2; k++) {
		for (i = 0; i < sv[k]->n; i++) {
			if (expand(sv[k]->v[i], u->home, u->cwd, path, sizeof(path)) < 0) {
				snprintf(err, errlen, "--%s %s: too long a path", flag,
					 sv[k]->v[i]);
				return -ENAMETOOLONG;
			}
			if (add(u, path, how) < 0) {
				snprintf(err, errlen, "out of memory");
				return -ENOMEM;
			}
			/* A mistyped path would protect nothing, silently. */
			if (how != FSVIEW_HIDE && access(path, F_OK) == -1 && errno == ENOENT)
				log_warn("--%s %s: no such file or directory; nothing to make %s",
					 flag, path, flag);
		}
	}
	return 0;
}

/* out = a b c, or -ENAMETOOLONG. */
static int join3(char *out, size_t len, const char *a, const char *b, const char *c)
{
	int n = snprintf(out, len, "%s%s%s", a, b, c);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* The working directory's git repository: its hooks and configuration, and direnv's .envrc. */
static int add_repo(struct fsview_user *u)
{
	char dir[PATH_MAX], git[PATH_MAX], p[PATH_MAX], line[PATH_MAX];
	struct stat st;
	char *slash;
	FILE *f;
	int ret;

	snprintf(dir, sizeof(dir), "%s", u->cwd);
	if (join3(p, sizeof(p), dir, "/.envrc", "") == 0 && (ret = add(u, p, FSVIEW_RDONLY)) < 0)
		return ret;
	for (;;) {
		if (join3(git, sizeof(git), dir, "/.git", "") == 0 && lstat(git, &st) == 0)
			break;
		slash = strrchr(dir, '/');
		if (!slash || slash == dir)
			return 0;
		*slash = '\0';
	}
	if (join3(p, sizeof(p), dir, "/.envrc", "") == 0 && (ret = add(u, p, FSVIEW_RDONLY)) < 0)
		return ret;
	/* A worktree's .git is a file, "gitdir: DIR", whose commondir holds hooks and config. */
	if (S_ISREG(st.st_mode) && (f = fopen(git, "re"))) {
		if (fgets(line, sizeof(line), f) && strncmp(line, "gitdir: ", 8) == 0) {
			line[strcspn(line, "\n")] = '\0';
			if ((ret = add(u, git, FSVIEW_RDONLY)) < 0) {
				fclose(f);
				return ret;
			}
			if (line[8] == '/')
				ret = join3(git, sizeof(git), line + 8, "", "");
			else
				ret = join3(git, sizeof(git), dir, "/", line + 8);
			if (ret == 0 && join3(p, sizeof(p), git, "/config.worktree", "") == 0)
				ret = add(u, p, FSVIEW_RDONLY);
			fclose(f);
			f = NULL;
			if (ret == 0 && join3(p, sizeof(p), git, "/commondir", "") == 0)
				f = fopen(p, "re");
			if (f && fgets(line, sizeof(line), f)) {
				line[strcspn(line, "\n")] = '\0';
				if (line[0] == '/')
					ret = join3(p, sizeof(p), line, "", "");
				else
					ret = join3(p, sizeof(p), git, "/", line);
				if (ret == 0)
					memcpy(git, p, sizeof(git));
			}
			if (ret < 0 && ret != -ENAMETOOLONG) {
				if (f)
					fclose(f);
				return ret;
			}
		}
		if (f)
			fclose(f);
	}
	if (join3(p, sizeof(p), git, "/hooks", "") == 0 && (ret = add(u, p, FSVIEW_RDONLY)) < 0)
		return ret;
	if (join3(p, sizeof(p), git, "/config", "") == 0 && (ret = add(u, p, FSVIEW_RDONLY)) < 0)
		return ret;
	return 0;
}

struct fsview_user *fsview_user_new(const struct opts *o, const struct fsview_jail *j, char *err,
				    size_t errlen)
{
	const struct opts_strv *sv[2] = {&o->unhide.file, &o->unhide.cli};
	const char *homes[2], *own;
	char path[PATH_MAX], cfg[PATH_MAX];
	struct fsview_user *u;
	size_t i, k, h;
	bool found;
	int ret = 0;

	u = calloc(1, sizeof(*u));
	if (!u) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	find_homes(o, u);
	homes[0] = u->home;
	homes[1] = u->pwhome;
	for (h = 0; h < 2 && ret == 0; h++) {
		if (!homes[h][0])
			continue;
		for (i = 0; i < sizeof(defaults) / sizeof(defaults[0]) && ret == 0; i++)
			if ((ret = expand(defaults[i].path, homes[h], u->cwd, path,
					  sizeof(path))) == 0)
				ret = add(u, path, defaults[i].how);
		if (o->protect_startup_files)
			for (i = 0;
			     i < sizeof(startup_files) / sizeof(startup_files[0]) && ret == 0; i++)
				if ((ret = expand(startup_files[i], homes[h], u->cwd, path,
						  sizeof(path))) == 0)
					ret = add(u, path, FSVIEW_RDONLY);
	}
	if (ret == 0 && o->protect_startup_files)
		ret = add_repo(u);
	if (ret < 0) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	ret = add_list(u, &o->hide, FSVIEW_HIDE, "hide", err, errlen);
	if (ret == 0)
		ret = add_list(u, &o->read_only, FSVIEW_RDONLY, "read-only", err, errlen);
	if (ret == 0)
		ret = add_list(u, &o->writable, FSVIEW_WRITABLE, "writable", err, errlen);
	if (ret < 0)
		goto fail;
	cfg[0] = '\0';
	if (config_user_home(&o->user) &&
	    config_dir_in(config_user_home(&o->user), cfg, sizeof(cfg)) != 0)
		cfg[0] = '\0';
	/*
	 * --unhide: a hidden path shown again (a default, or a --hide of the config file); one
	 * under a hidden directory shown read-only in it, as ~/.ssh/known_hosts is. Never what
	 * boundary hides for its own safety.
	 */
	for (k = 0; k < 2; k++) {
		for (i = 0; i < sv[k]->n; i++) {
			if (expand(sv[k]->v[i], u->home, u->cwd, path, sizeof(path)) < 0) {
				snprintf(err, errlen, "--unhide %s: too long a path", sv[k]->v[i]);
				ret = -ENAMETOOLONG;
				goto fail;
			}
			own = own_path_covering(path, j, cfg);
			if (own) {
				snprintf(err, errlen,
					 "--unhide %s: boundary hides %s for its own safety (the "
					 "jail would be no jail without it); it cannot be shown",
					 path, own);
				ret = -EPERM;
				goto fail;
			}
			found = false;
			for (h = 0; h < u->n; h++) {
				if (strcmp(u->v[h].path, path) == 0 &&
				    (u->v[h].how == FSVIEW_HIDE || u->v[h].how == FSVIEW_STRIP)) {
					drop(u, h--);
					found = true;
				} else if (u->v[h].how == FSVIEW_HIDE &&
					   path_covers(u->v[h].path, path)) {
					found = true;
				}
			}
			/* Below a hidden directory: shown in it, read-only. */
			for (h = 0; h < u->n && found; h++)
				if (u->v[h].how == FSVIEW_HIDE && path_covers(u->v[h].path, path) &&
				    strcmp(u->v[h].path, path) != 0) {
					if (add(u, path, FSVIEW_SHOW) < 0) {
						snprintf(err, errlen, "out of memory");
						ret = -ENOMEM;
						goto fail;
					}
					break;
				}
			if (!found)
				log_warn("--unhide %s: nothing hides it (boundary --show-hidden "
					 "lists what the jail hides)",
					 path);
		}
	}
	return u;
fail:
	fsview_user_free(u);
	errno = -ret;
	return NULL;
}

static const char *how_name(enum fsview_how how)
{
	switch (how) {
	case FSVIEW_HIDE:
		return "hidden";
	case FSVIEW_SHOW:
		return "shown";
	case FSVIEW_STRIP:
		return "stripped";
	case FSVIEW_RDONLY:
		return "read-only";
	case FSVIEW_WRITABLE:
		return "writable";
	}
	return "?";
}

int fsview_show(const struct opts *o, FILE *f, char *err, size_t errlen)
{
	struct fsview_user *u;
	struct stat st;
	size_t i;

	u = fsview_user_new(o, NULL, err, errlen);
	if (!u)
		return -errno;
	fprintf(f, "# The jail's filesystem view for the command's home %s%s%s:\n", u->home,
		u->pwhome[0] ? " and its user's passwd home " : "", u->pwhome);
	fprintf(f, "# hidden: seen empty; shown: seen read-only in a hidden directory; "
		   "stripped: a read-only copy without credential lines\n");
	for (i = 0; i < u->n; i++)
		fprintf(f, "%-9s %-6s %s\n", how_name(u->v[i].how),
			lstat(u->v[i].path, &st) == 0 ? "exists" : "absent", u->v[i].path);
	fprintf(f, "# and for boundary's own safety, whatever the options say:\n");
	for (i = 0; i < sizeof(own_hidden) / sizeof(own_hidden[0]); i++)
		fprintf(f, "%-9s %-6s %s\n", "hidden",
			lstat(own_hidden[i], &st) == 0 ? "exists" : "absent", own_hidden[i]);
	fprintf(f, "%-9s %-6s %s\n", "hidden", "", "the CA's key, the Coder agent's audit socket");
	fprintf(f, "%-9s %-6s %s\n", "read-only", "",
		"boundary's config directory, rules, logs and audit files");
	fsview_user_free(u);
	return 0;
}

/* --- the user's view, in the jail's init --------------------------------------------------- */

/* The mount flags of the mount at mp that a bind remount must keep (or fail, or drop them). */
static unsigned long kept_flags(const char *mp)
{
	static const struct {
		unsigned long st, ms;
	} map[] = {
	    {ST_NOSUID, MS_NOSUID},   {ST_NODEV, MS_NODEV},	      {ST_NOEXEC, MS_NOEXEC},
	    {ST_NOATIME, MS_NOATIME}, {ST_NODIRATIME, MS_NODIRATIME}, {ST_RELATIME, MS_RELATIME},
	};
	struct statvfs sv;
	unsigned long fl = 0;
	size_t i;

	if (statvfs(mp, &sv) == -1)
		return MS_NOSUID | MS_NODEV;
	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (sv.f_flag & map[i].st)
			fl |= map[i].ms;
	return fl;
}

/* The mount at mp read-only, its other flags kept. Returns 0 or -errno. */
static int remount_rdonly(const char *mp)
{
	if (mount(NULL, mp, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | kept_flags(mp), NULL) == -1)
		return -errno;
	return 0;
}

/* mountinfo's escapes (\040 for a space...) undone in place. */
static void unescape(char *s)
{
	char *o = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*o++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
}

/* The entry of u among how1/how2 that covers path most closely, or NULL. */
static const struct fsview_path *closest(const struct fsview_user *u, const char *path,
					 enum fsview_how how1, enum fsview_how how2)
{
	const struct fsview_path *best = NULL;
	size_t i;

	for (i = 0; i < u->n; i++)
		if ((u->v[i].how == how1 || u->v[i].how == how2) &&
		    path_covers(u->v[i].path, path) &&
		    (!best || strlen(u->v[i].path) > strlen(best->path)))
			best = &u->v[i];
	return best;
}

static int by_length(const void *a, const void *b)
{
	size_t la = strlen(((const struct fsview_path *)a)->path);
	size_t lb = strlen(((const struct fsview_path *)b)->path);

	return la < lb ? -1 : la > lb;
}

/*
 * What stays writable under a --read-only path that covers it, unless named in --read-only
 * itself: the jail's /proc, /dev (/dev/null, the terminal, /dev/shm, /dev/pts) and the
 * temporary directories, without which little runs.
 */
static const char *const stay_writable[] = {"/proc", "/dev", "/tmp", "/var/tmp"};

/*
 * --read-only, --writable, --protect-startup-files: each path bound onto itself (with what is
 * mounted below it), shortest first, so a deeper one lands on top; then every mount under a
 * read-only path, unless a writable one covers it more closely, remounted read-only. Mounts the
 * jail's /sys already shadows cannot be remounted through their path (EINVAL) and need not be.
 */
static int apply_rdonly(struct fsview_user *u, char *err, size_t errlen)
{
	char line[8192], *f[6], *s;
	const struct fsview_path *c;
	struct stat st;
	size_t i, k, nro = 0;
	FILE *mi;
	int ret = 0;

	for (i = 0; i < sizeof(stay_writable) / sizeof(stay_writable[0]); i++) {
		c = closest(u, stay_writable[i], FSVIEW_RDONLY, FSVIEW_WRITABLE);
		if (c && c->how == FSVIEW_RDONLY && strcmp(c->path, stay_writable[i]) != 0 &&
		    add(u, stay_writable[i], FSVIEW_WRITABLE) < 0)
			return -ENOMEM;
	}
	for (i = 0; i < u->n; i++)
		nro += u->v[i].how == FSVIEW_RDONLY;
	if (nro == 0)
		return 0;
	qsort(u->v, u->n, sizeof(u->v[0]), by_length);
	for (i = 0; i < u->n; i++) {
		const char *p = u->v[i].path;

		if (u->v[i].how != FSVIEW_RDONLY && u->v[i].how != FSVIEW_WRITABLE)
			continue;
		if (strcmp(p, "/") == 0 || lstat(p, &st) == -1)
			continue;
		if (u->v[i].how == FSVIEW_WRITABLE && !closest(u, p, FSVIEW_RDONLY, FSVIEW_RDONLY))
			continue;
		if (u->v[i].how == FSVIEW_RDONLY)
			ret = pin_ancestors(p);
		if (ret == 0 && mount(p, p, NULL, MS_BIND | MS_REC, NULL) == -1)
			ret = -errno;
		if (ret < 0) {
			snprintf(err, errlen, "cannot make %s %s in the jail: %s", p,
				 u->v[i].how == FSVIEW_RDONLY ? "read-only" : "writable",
				 strerror(-ret));
			return ret;
		}
	}
	mi = fopen("/proc/self/mountinfo", "re");
	if (!mi) {
		ret = -errno;
		snprintf(err, errlen, "cannot read the jail's mount table: %s", strerror(errno));
		return ret;
	}
	while (fgets(line, sizeof(line), mi)) {
		/* id parent major:minor root MOUNT-POINT options ... */
		for (k = 0, s = line; k < 6 && s; k++) {
			f[k] = s;
			s = strchr(s, ' ');
			if (s)
				*s++ = '\0';
		}
		if (k < 6)
			continue;
		unescape(f[4]);
		c = closest(u, f[4], FSVIEW_RDONLY, FSVIEW_WRITABLE);
		if (!c || c->how != FSVIEW_RDONLY)
			continue;
		ret = remount_rdonly(f[4]);
		if (ret == -EINVAL || ret == -ENOENT || ret == -ENOTDIR || ret == -EACCES)
			ret = 0;
		if (ret < 0) {
			snprintf(err, errlen, "cannot make %s read-only in the jail: %s", f[4],
				 strerror(-ret));
			break;
		}
	}
	fclose(mi);
	return ret;
}

/*
 * Whether a line of an .npmrc or .pypirc holds a credential: its key (before '=' or ':', less a
 * "//registry/:" scope) starts with "_auth" (npm's _auth, _authToken), names a password, a
 * token, a secret or a user name, or is npm's inline client key ("key", "keyfile" only names a
 * file and stays). Case does not matter.
 */
static bool auth_line(const char *line, size_t len)
{
	static const char *const words[] = {"password", "passwd", "token", "secret", "username"};
	char key[128];
	size_t i = 0, k = 0, start;

	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	start = i;
	while (i < len && line[i] != '=' && line[i] != '\n')
		i++;
	if (i == len || line[i] != '=') {
		/* pypirc also writes "key: value" */
		for (i = start; i < len && line[i] != ':' && line[i] != '\n'; i++)
			;
		if (i == len || line[i] != ':')
			return false;
	}
	/* The key is what follows the last ':' of a "//registry/:" scope, trimmed. */
	for (k = start; k < i; k++)
		if (line[k] == ':' && line[start] == '/')
			start = k + 1;
	while (i > start && (line[i - 1] == ' ' || line[i - 1] == '\t'))
		i--;
	if (i - start >= sizeof(key))
		return true; /* nothing sensible is that long: out with it */
	for (k = 0; start + k < i; k++)
		key[k] =
		    (char)((line[start + k] >= 'A' && line[start + k] <= 'Z') ? line[start + k] + 32
									      : line[start + k]);
	key[k] = '\0';
	if (strncmp(key, "_auth", 5) == 0 || strcmp(key, "key") == 0 ||
	    strcmp(key, "_password") == 0)
		return true;
	for (k = 0; k < sizeof(words) / sizeof(words[0]); k++)
		if (strstr(key, words[k]))
			return true;
	return false;
}

size_t fsview_strip_auth(const char *in, size_t len, char *out)
{
	size_t i = 0, o = 0, n;
	bool dropping = false;

	while (i < len) {
		const char *nl = memchr(in + i, '\n', len - i);

		n = nl ? (size_t)(nl - (in + i)) + 1 : len - i;
		/* An indented line continues the value above it (pypirc's configparser). */
		if (!(dropping && n > 1 && (in[i] == ' ' || in[i] == '\t')))
			dropping = auth_line(in + i, n);
		if (!dropping) {
			memcpy(out + o, in + i, n);
			o += n;
		}
		i += n;
	}
	return o;
}

/*
 * The STRIP rows: a copy of each file without its credential lines, on a tmpfs of boundary's
 * own, shown read-only in the file's place. The tmpfs is mounted over /sys for a moment (a
 * directory every jail has and no file to strip lives under) and taken away again: its copies
 * stay, bound where they are shown, reachable nowhere else. A file too large to copy is hidden.
 */
/*
 * Whether uid owns the home that path lies under (the command's or its user's passwd home):
 * init reads as root what a link in the home leads to, and must not show the command another
 * user's file it could not have read itself.
 */
static bool owned_like_home(const struct fsview_user *u, const char *path, uid_t uid)
{
	const char *homes[2] = {u->home, u->pwhome};
	struct stat st;
	size_t i;

	for (i = 0; i < 2; i++)
		if (homes[i][0] && path_covers(homes[i], path) && stat(homes[i], &st) == 0)
			return st.st_uid == uid;
	return false;
}

#define STRIP_MAX (1024 * 1024)

static int apply_strips(const struct fsview_user *u, char *err, size_t errlen)
{
	char copy[64], *in = NULL, *out = NULL;
	struct stat st;
	bool staged = false;
	size_t i, len;
	ssize_t got;
	int ret = 0, fd = -1;

	for (i = 0; i < u->n && ret == 0; i++) {
		const char *p = u->v[i].path;

		if (u->v[i].how != FSVIEW_STRIP || stat(p, &st) == -1 || !S_ISREG(st.st_mode))
			continue;
		/*
		 * Too large to copy, or (through a link) another user's file, which init could read
		 * where the command could not: hidden whole.
		 */
		if (st.st_size > STRIP_MAX || !owned_like_home(u, p, st.st_uid)) {
			if (mount("/dev/null", p, NULL, MS_BIND, NULL) == -1)
				ret = -errno;
			continue;
		}
		if (!staged) {
			if (mount("boundary-copies", "/sys", "tmpfs",
				  MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=8m,mode=0755") == -1) {
				ret = -errno;
				break;
			}
			staged = true;
			in = malloc(STRIP_MAX + 1);
			out = malloc(STRIP_MAX + 1);
			if (!in || !out) {
				ret = -ENOMEM;
				break;
			}
		}
		fd = open(p, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
		if (fd == -1) {
			ret = -errno;
			break;
		}
		len = 0;
		while (len < STRIP_MAX && (got = read(fd, in + len, STRIP_MAX - len)) > 0)
			len += (size_t)got;
		close(fd);
		len = fsview_strip_auth(in, len, out);
		snprintf(copy, sizeof(copy), "/sys/%zu", i);
		fd = open(copy, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, st.st_mode & 0777);
		if (fd == -1 || write(fd, out, len) != (ssize_t)len ||
		    fchown(fd, st.st_uid, st.st_gid) == -1)
			ret = -errno;
		if (fd != -1)
			close(fd);
		fd = -1;
		if (ret == 0 &&
		    (mount(copy, p, NULL, MS_BIND, NULL) == -1 || remount_rdonly(p) < 0))
			ret = -errno;
		if (ret < 0)
			snprintf(err, errlen,
				 "cannot show %s without its credentials in the jail: %s", p,
				 strerror(-ret));
	}
	if (ret < 0 && !err[0])
		snprintf(err, errlen,
			 "cannot copy files without their credentials for the jail: %s",
			 strerror(-ret));
	if (staged && umount2("/sys", MNT_DETACH) == -1 && ret == 0) {
		ret = -errno;
		snprintf(err, errlen, "cannot take the copies' tmpfs away: %s", strerror(errno));
	}
	free(in);
	free(out);
	return ret;
}

/* mkdir -p below a hidden directory's tmpfs; the last part a file or a directory like src's. */
static int make_stand_in(const char *path, bool dir)
{
	char p[PATH_MAX], *s;
	int fd;

	snprintf(p, sizeof(p), "%s", path);
	for (s = p + 1; (s = strchr(s, '/')); s++) {
		*s = '\0';
		if (mkdir(p, 0700) == -1 && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	if (dir)
		return mkdir(p, 0700) == -1 && errno != EEXIST ? -errno : 0;
	fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd == -1)
		return -errno;
	close(fd);
	return 0;
}

/*
 * A hidden path of the user's: a directory becomes an empty read-only tmpfs with its owner and
 * mode (so a program that checks them is content), in which each SHOW row below it is bound
 * back read-only; anything else reads as /dev/null. A symbolic link is followed: what it names
 * is what would be read.
 */
static int hide_user(const struct fsview_user *u, const char *path, bool unreachable_is_hidden)
{
	char opts[96], real[PATH_MAX], src[32];
	const char *p = path;
	int fds[16], nfd = 0, ret = 0, i;
	const char *shown[16];
	struct stat st, sh;
	size_t k;

	if (lstat(p, &st) == -1)
		return nothing_to_hide(errno, unreachable_is_hidden) ? 0 : -errno;
	if (S_ISLNK(st.st_mode)) {
		if (!realpath(path, real) || strcmp(real, "/") == 0 || stat(real, &st) == -1)
			return 0;
		p = real;
	}
	if (!S_ISDIR(st.st_mode))
		return mount("/dev/null", p, NULL, MS_BIND, NULL) == -1 ? -errno : 0;
	for (k = 0; k < u->n && nfd < 16; k++) {
		if (u->v[k].how != FSVIEW_SHOW || !path_covers(path, u->v[k].path) ||
		    strcmp(path, u->v[k].path) == 0)
			continue;
		fds[nfd] = open(u->v[k].path, O_PATH | O_CLOEXEC);
		if (fds[nfd] == -1)
			continue;
		/* Shown back only if it is the hidden directory's owner's (a link may lead out). */
		if (fstat(fds[nfd], &sh) == -1 || sh.st_uid != st.st_uid) {
			close(fds[nfd]);
			continue;
		}
		shown[nfd++] = u->v[k].path;
	}
	snprintf(opts, sizeof(opts), "size=64k,mode=%o,uid=%u,gid=%u",
		 (unsigned int)(st.st_mode & 07777), (unsigned int)st.st_uid,
		 (unsigned int)st.st_gid);
	if (mount("boundary-hidden", p, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, opts) == -1)
		ret = -errno;
	for (i = 0; i < nfd && ret == 0; i++) {
		struct stat ss;
		char where[PATH_MAX];

		/* The same place under p (the link's target, maybe) as under path. */
		snprintf(where, sizeof(where), "%s%s", p, shown[i] + strlen(path));
		snprintf(src, sizeof(src), "/proc/self/fd/%d", fds[i]);
		if (fstat(fds[i], &ss) == -1 || make_stand_in(where, S_ISDIR(ss.st_mode)) < 0)
			continue;
		if (mount(src, where, NULL, MS_BIND | MS_REC, NULL) == -1)
			ret = -errno;
		else
			ret = remount_rdonly(where);
	}
	for (i = 0; i < nfd; i++)
		close(fds[i]);
	if (ret == 0 &&
	    mount(NULL, p, NULL,
		  MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) == -1)
		ret = -errno;
	return ret;
}

int fsview_apply(const char *const *rdonly, const char *const *hide_paths, struct fsview_user *u,
		 bool unreachable_is_hidden, char *err, size_t errlen)
{
	const char *const *p, *tmux_dir;
	char cwd[PATH_MAX];
	size_t i;
	int ret;

	/* The user's read-only and writable paths first: boundary's own lock on top of them. */
	if (u) {
		ret = apply_rdonly(u, err, errlen);
		if (ret == 0)
			ret = apply_strips(u, err, errlen);
		if (ret < 0)
			return ret;
	}

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
	for (i = 0; u && i < u->n; i++) {
		if (u->v[i].how != FSVIEW_HIDE)
			continue;
		ret = hide_user(u, u->v[i].path, unreachable_is_hidden);
		if (ret < 0) {
			snprintf(
			    err, errlen,
			    "cannot hide %s from the jail: %s (the command does not run with it "
			    "shown; --unhide %s would show it)",
			    u->v[i].path, strerror(-ret), u->v[i].path);
			return ret;
		}
	}
	tmux_dir = getenv("TMUX_TMPDIR");
	ret = hide_servers_in("/tmp", unreachable_is_hidden, err, errlen);
	if (ret == 0)
		ret = hide_servers_in("/run", unreachable_is_hidden, err, errlen);
	if (ret == 0 && tmux_dir && tmux_dir[0] == '/')
		ret = hide_servers_in(tmux_dir, unreachable_is_hidden, err, errlen);
	/*
	 * The working directory, inherited, is still the one under the mounts just made over it or
	 * above it (a pinned ancestor, a --writable project): entered again by name, so that the
	 * command's relative paths (.git/config) meet the view, not what lies below it.
	 */
	if (ret == 0 && getcwd(cwd, sizeof(cwd)) && chdir(cwd) == -1)
		log_debug("cannot enter %s again: %s", cwd, strerror(errno));
	return ret;
}
