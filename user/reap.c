// SPDX-License-Identifier: MIT
/*
 * reap.c: what a jail leaves on the host, named so that a later boundary can tell a live jail
 * from one whose boundary was killed, and what that later boundary removes. A jail's id is
 * "<pid>-<start time>" of its boundary; its cgroup (<cgroup2>/boundary/<id>), its pins
 * (/sys/fs/bpf/boundary/<id>, an attachment's only: boundary's own jails are entries in a shared
 * set, shared.h) and its run directory (/run/boundary/<id>) carry it. The jail (jail.c) makes
 * them and takes them down; this file only finds the stale ones (and a stale jail's entry goes
 * with its cgroup), and the attachment that already holds a cgroup.
 */
#include "user/reap.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proxy/log.h"
#include "user/cgroup.h"
#include "user/setup.h"
#include "user/shared.h"

/* The start time of pid in clock ticks since boot (field 22 of /proc/pid/stat), or 0. */
static unsigned long long start_time(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long t = 0;
	ssize_t n;
	int fd, i;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* comm may hold spaces and parentheses: count fields after the last ')'. */
	p = strrchr(buf, ')');
	for (i = 0; p && i < 20; i++) {
		p = strchr(p + 1, ' ');
	}
	if (p && sscanf(p + 1, "%llu", &t) != 1)
		t = 0;
	return t;
}

void reap_make_id(char *buf, size_t len)
{
	snprintf(buf, len, "%d-%llu", (int)getpid(), start_time(getpid()));
}

static bool id_is_stale(const char *id)
{
	unsigned long long t;
	int pid;

	if (sscanf(id, "%d-%llu", &pid, &t) != 2)
		return false; /* not ours: leave it alone */
	return start_time(pid) != t;
}

/*
 * The cgroup a (stale or live) attachment id holds closed, from its run directory. Returns 0
 * with cg filled, or -ENOENT when id is a jail of boundary's own (or has no record).
 */
static int attached_cgroup(const char *id, char *cg, size_t len)
{
	char path[PATH_MAX];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s/%s", REAP_RUN_ROOT, id, REAP_ATTACHED_FILE);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return -errno;
	n = read(fd, cg, len - 1);
	close(fd);
	if (n <= 0)
		return -ENOENT;
	cg[n] = '\0';
	cg[strcspn(cg, "\n")] = '\0';
	return 0;
}

/*
 * Whether the stale attachment id stays: its pins keep the cgroup it was attached to closed
 * while processes remain there, until `boundary cleanup` (all) or a new attach to that same
 * cgroup (mine) takes it over. Jails of boundary's own never stay.
 */
static bool stale_attach_stays(const char *id, bool all, const char *mine)
{
	char cg[PATH_MAX];

	if (attached_cgroup(id, cg, sizeof(cg)) < 0)
		return false;
	if (mine && strcmp(cg, mine) == 0) {
		log_info("took over from stale attachment %s (its boundary was killed): cgroup %s "
			 "is jailed by this boundary now",
			 id, cg);
		return false;
	}
	if (all || cgroup_populated(cg) != 1) {
		log_warn("reaped stale attachment %s (its boundary was killed): cgroup %s is no "
			 "longer jailed",
			 id, cg);
		return false;
	}
	log_info("left stale attachment %s in place: it keeps cgroup %s closed (boundary cleanup "
		 "reopens it)",
		 id, cg);
	return true;
}

int reap_stale(bool all_attached, const char *mine)
{
	char root[PATH_MAX], dir[PATH_MAX + 16], path[PATH_MAX * 2], err[256];
	struct dirent *de;
	struct stat st;
	DIR *d;
	int n = 0, ret;

	if (cgroup_find_root(root, sizeof(root), err, sizeof(err)) == 0) {
		snprintf(dir, sizeof(dir), "%s/%s", root, CGROUP_PARENT);
		d = opendir(dir);
		while (d && (de = readdir(d))) {
			if (de->d_type != DT_DIR || de->d_name[0] == '.' ||
			    !id_is_stale(de->d_name))
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
			if (stat(path, &st) != 0)
				continue;
			ret = cgroup_destroy(path, 5000);
			if (ret < 0) {
				log_warn("cannot remove the stale jail's cgroup %s: %s", path,
					 strerror(-ret));
				continue;
			}
			/* Only now, with the cgroup gone, may its entry go: it kept it closed. */
			shared_forget((uint64_t)st.st_ino);
			log_info("reaped stale jail %s (its boundary was killed): cgroup removed",
				 de->d_name);
			n++;
		}
		if (d)
			closedir(d);
	}
	d = opendir(REAP_PIN_ROOT);
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.' || !id_is_stale(de->d_name) ||
		    stale_attach_stays(de->d_name, all_attached, mine))
			continue;
		snprintf(path, sizeof(path), "%s/%s", REAP_PIN_ROOT, de->d_name);
		setup_remove_dir(path);
		log_info("reaped stale jail %s: BPF programs unpinned", de->d_name);
		n++;
	}
	if (d)
		closedir(d);
	d = opendir(REAP_RUN_ROOT);
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.' || !id_is_stale(de->d_name))
			continue;
		/* An attachment left in place keeps its record with its pins. */
		snprintf(path, sizeof(path), "%s/%s", REAP_PIN_ROOT, de->d_name);
		if (stat(path, &st) == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", REAP_RUN_ROOT, de->d_name);
		setup_remove_dir(path);
	}
	if (d)
		closedir(d);
	shared_forget_gone();
	if (all_attached || shared_other_abi_present()) {
		ret = shared_sweep(all_attached);
		if (ret > 0)
			n += ret;
	}
	return n;
}

/* The entries of dir named by a stale id (directories only when dirs_only). */
static int count_stale_in(const char *dir, bool dirs_only)
{
	struct dirent *de;
	int n = 0;
	DIR *d;

	d = opendir(dir);
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.' || (dirs_only && de->d_type != DT_DIR) ||
		    !id_is_stale(de->d_name))
			continue;
		n++;
	}
	if (d)
		closedir(d);
	return n;
}

int reap_count_stale(void)
{
	char root[PATH_MAX], dir[PATH_MAX + 16], err[256];
	int n = 0;

	if (cgroup_find_root(root, sizeof(root), err, sizeof(err)) == 0) {
		snprintf(dir, sizeof(dir), "%s/%s", root, CGROUP_PARENT);
		n += count_stale_in(dir, true);
	}
	return n + count_stale_in(REAP_PIN_ROOT, false) + count_stale_in(REAP_RUN_ROOT, false);
}

int reap_attach_is_free(const char *cg, char *err, size_t errlen)
{
	char other[PATH_MAX];
	struct dirent *de;
	int ret = 0;
	DIR *d;

	d = opendir(REAP_RUN_ROOT);
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.' || id_is_stale(de->d_name) ||
		    attached_cgroup(de->d_name, other, sizeof(other)) < 0 || strcmp(other, cg) != 0)
			continue;
		snprintf(
		    err, errlen,
		    "%s is already attached by boundary %s (pid-start time): stop that one first",
		    cg, de->d_name);
		ret = -EBUSY;
		break;
	}
	if (d)
		closedir(d);
	return ret;
}
