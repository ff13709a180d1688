// SPDX-License-Identifier: MIT
/*
 * cgroup.c: the cgroup2 side of a jail: discovery of the mount, creation, cgroup.kill,
 * waiting for "populated 0", removal. It does not own BPF attachment (jail.c) or spawning.
 */
#include "user/cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <stdint.h>
#include <unistd.h>

#include "proxy/util.h"

int cgroup_find_root(char *buf, size_t buflen, char *err, size_t errlen)
{
	FILE *f;
	char *line = NULL, *sep, *mnt;
	size_t cap = 0;
	int ret = -ENOENT, i;

	f = fopen("/proc/self/mountinfo", "re");
	if (!f) {
		ret = -errno;
		snprintf(err, errlen, "cannot read /proc/self/mountinfo: %s (is /proc mounted?)",
			 strerror(-ret));
		return ret;
	}
	while (getline(&line, &cap, f) != -1) {
		/* "36 25 0:31 / /sys/fs/cgroup/unified rw,... shared:9 - cgroup2 cgroup2 rw" */
		sep = strstr(line, " - ");
		if (!sep || strncmp(sep + 3, "cgroup2 ", 8) != 0)
			continue;
		mnt = line;
		for (i = 0; i < 4 && mnt; i++) {
			mnt = strchr(mnt, ' ');
			if (mnt)
				mnt++;
		}
		if (!mnt)
			continue;
		*strchrnul(mnt, ' ') = '\0';
		/* Octal escapes (\040) would mean a mount point with spaces; none is standard. */
		if (strchr(mnt, '\\'))
			continue;
		if ((size_t)snprintf(buf, buflen, "%s", mnt) >= buflen)
			continue;
		ret = 0;
		break;
	}
	free(line);
	fclose(f);
	if (ret < 0)
		snprintf(err, errlen,
			 "no cgroup2 hierarchy is mounted (boundary needs cgroup v2; mount it with "
			 "\"mount -t cgroup2 none /sys/fs/cgroup/unified\" or boot with "
			 "systemd.unified_cgroup_hierarchy=1)");
	return ret;
}

int cgroup_create(const char *root, const char *id, char *path, size_t pathlen, char *err,
		  size_t errlen)
{
	char parent[4096];
	int fd, ret;

	snprintf(parent, sizeof(parent), "%s/%s", root, CGROUP_PARENT);
	if (mkdir(parent, 0755) == -1 && errno != EEXIST) {
		ret = -errno;
		snprintf(err, errlen, "cannot create cgroup %s: %s%s", parent, strerror(-ret),
			 ret == -EACCES || ret == -EPERM ? " (run as root)" : "");
		return ret;
	}
	if ((size_t)snprintf(path, pathlen, "%s/%s", parent, id) >= pathlen) {
		snprintf(err, errlen, "cgroup path too long");
		return -ENAMETOOLONG;
	}
	if (mkdir(path, 0755) == -1) {
		ret = -errno;
		snprintf(err, errlen, "cannot create cgroup %s: %s", path, strerror(-ret));
		return ret;
	}
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1) {
		ret = -errno;
		rmdir(path);
		snprintf(err, errlen, "cannot open cgroup %s: %s", path, strerror(-ret));
		return ret;
	}
	return fd;
}

int cgroup_populated(const char *path)
{
	char file[4200], buf[256], *p;
	ssize_t n;
	int fd, ret;

	snprintf(file, sizeof(file), "%s/cgroup.events", path);
	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	ret = n == -1 ? -errno : 0;
	close(fd);
	if (ret < 0)
		return ret;
	buf[n] = '\0';
	p = strstr(buf, "populated ");
	if (!p)
		return -EINVAL;
	return p[10] == '1';
}

/* Removes the cgroups below path, deepest first (a jailed root may have made some). */
static void remove_children(const char *path)
{
	char child[4200];
	struct dirent *de;
	DIR *d = opendir(path);

	if (!d)
		return;
	while ((de = readdir(d))) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		snprintf(child, sizeof(child), "%s/%s", path, de->d_name);
		remove_children(child);
		rmdir(child);
	}
	closedir(d);
}

int cgroup_destroy(const char *path, int timeout_ms)
{
	char file[4200];
	struct pollfd pfd;
	uint64_t deadline = util_now_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
	int fd, pop, ret = 0;

	if (access(path, F_OK) == -1)
		return errno == ENOENT ? 0 : -errno;
	snprintf(file, sizeof(file), "%s/cgroup.kill", path);
	fd = open(file, O_WRONLY | O_CLOEXEC);
	if (fd != -1) {
		if (write(fd, "1", 1) == -1)
			ret = -errno;
		close(fd);
	}
	snprintf(file, sizeof(file), "%s/cgroup.events", path);
	pfd.fd = open(file, O_RDONLY | O_CLOEXEC);
	pfd.events = POLLPRI;
	for (;;) {
		pop = cgroup_populated(path);
		if (pop <= 0)
			break;
		if (util_now_ms() >= deadline) {
			ret = -ETIMEDOUT;
			goto out;
		}
		/* cgroup.events signals every change with POLLPRI; poll again at least every 50ms. */
		if (pfd.fd != -1)
			poll(&pfd, 1, 50);
		else
			usleep(10000);
	}
	/* The last task can take a moment to be unlinked after "populated 0": retry on EBUSY. */
	for (;;) {
		remove_children(path);
		if (rmdir(path) == 0 || errno == ENOENT) {
			ret = 0;
			break;
		}
		if (errno != EBUSY || util_now_ms() >= deadline) {
			ret = -errno;
			break;
		}
		usleep(5000);
	}
out:
	if (pfd.fd != -1)
		close(pfd.fd);
	return ret;
}
