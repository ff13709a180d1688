// SPDX-License-Identifier: MIT
/*
 * shared.c: the bookkeeping of the shared sets of programs (shared.h): the lock, their pin
 * directories, the owner records, and the sweep that removes what no jail uses any more. It
 * reads and writes pinned maps through bpf(2) (libbpf's thin wrappers, no skeleton), relying
 * only on what bpf/jail.h promises never changes across ABIs: the owners map's shape and path,
 * and the __u64 cgroup-id key of every set's entries. Loading a set is jail.c's.
 */
#include "user/shared.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "bpf/jail.h"
#include "proxy/log.h"
#include "user/cgroup.h"
#include "user/setup.h"

int shared_lock(bool exclusive, char *err, size_t errlen)
{
	int fd, ret;

	if (mkdir(REAP_RUN_ROOT, 0755) == -1 && errno != EEXIST) {
		ret = -errno;
		snprintf(err, errlen, "cannot create %s: %s", REAP_RUN_ROOT, strerror(-ret));
		return ret;
	}
	fd = open(SHARED_LOCK_FILE, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd == -1) {
		ret = -errno;
		snprintf(err, errlen, "cannot open %s: %s", SHARED_LOCK_FILE, strerror(-ret));
		return ret;
	}
	while (flock(fd, exclusive ? LOCK_EX : LOCK_SH) == -1) {
		if (errno == EINTR)
			continue;
		ret = -errno;
		snprintf(err, errlen, "cannot lock %s: %s", SHARED_LOCK_FILE, strerror(-ret));
		close(fd);
		return ret;
	}
	return fd;
}

void shared_unlock(int fd)
{
	if (fd >= 0)
		close(fd); /* closing the last descriptor releases the flock */
}

void shared_set_dir(unsigned abi, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s%u", REAP_PIN_ROOT, SHARED_PREFIX, abi);
}

/* The ABI of a set's directory name, or 0 when name is no set's. */
static unsigned set_abi(const char *name)
{
	unsigned abi;
	char end;

	if (strncmp(name, SHARED_PREFIX, strlen(SHARED_PREFIX)) != 0 ||
	    sscanf(name + strlen(SHARED_PREFIX), "%u%c", &abi, &end) != 1)
		return 0;
	return abi;
}

/* A pinned map of the set in dir, or -1. */
static int open_pinned(const char *dir, const char *name)
{
	char path[PATH_MAX];

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
		return -1;
	return bpf_obj_get(path);
}

int shared_mark_legacy(int owners_fd)
{
	char root[PATH_MAX], dir[PATH_MAX + 16], path[PATH_MAX * 2], err[256];
	__u32 legacy = JAIL_OWNER_LEGACY;
	struct dirent *de;
	struct stat st;
	__u64 id;
	int n = 0;
	DIR *d;

	if (cgroup_find_root(root, sizeof(root), err, sizeof(err)) < 0)
		return 0;
	snprintf(dir, sizeof(dir), "%s/%s", root, CGROUP_PARENT);
	d = opendir(dir);
	while (d && (de = readdir(d))) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", REAP_PIN_ROOT, de->d_name);
		if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
			continue; /* no programs of its own */
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (stat(path, &st) != 0)
			continue;
		id = (__u64)st.st_ino;
		if (bpf_map_update_elem(owners_fd, &id, &legacy, BPF_NOEXIST) == 0)
			n++;
	}
	if (d)
		closedir(d);
	return n;
}

void shared_forget(uint64_t cg_id)
{
	struct dirent *de;
	__u64 id = cg_id;
	char dir[PATH_MAX];
	int fd;
	DIR *d;

	/* Every set's entry first, the owner record last: the cgroup is gone either way. */
	d = opendir(REAP_PIN_ROOT);
	while (d && (de = readdir(d))) {
		if (!set_abi(de->d_name))
			continue;
		snprintf(dir, sizeof(dir), "%s/%s", REAP_PIN_ROOT, de->d_name);
		fd = open_pinned(dir, SHARED_ENTRIES);
		if (fd < 0)
			continue;
		bpf_map_delete_elem(fd, &id);
		close(fd);
	}
	if (d)
		closedir(d);
	fd = bpf_obj_get(SHARED_OWNERS_PIN);
	if (fd >= 0) {
		bpf_map_delete_elem(fd, &id);
		close(fd);
	}
}

bool shared_other_abi_present(void)
{
	struct dirent *de;
	bool found = false;
	unsigned abi;
	DIR *d;

	d = opendir(REAP_PIN_ROOT);
	while (d && !found && (de = readdir(d))) {
		abi = set_abi(de->d_name);
		found = abi && abi != JAIL_ABI_VERSION;
	}
	if (d)
		closedir(d);
	return found;
}

/* The ids of the cgroups below <cgroup2>/boundary, sorted, in *ids (malloc'd). Returns n or -1. */
static int live_ids(uint64_t **ids)
{
	char root[PATH_MAX], dir[PATH_MAX + 16], path[PATH_MAX * 2], err[256];
	size_t n = 0, cap = 64;
	struct dirent *de;
	struct stat st;
	uint64_t *v, *nv;
	DIR *d;

	*ids = NULL;
	if (cgroup_find_root(root, sizeof(root), err, sizeof(err)) < 0)
		return -1;
	snprintf(dir, sizeof(dir), "%s/%s", root, CGROUP_PARENT);
	v = malloc(cap * sizeof(*v));
	if (!v)
		return -1;
	d = opendir(dir);
	while (d && (de = readdir(d))) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (stat(path, &st) != 0)
			continue;
		if (n == cap) {
			nv = realloc(v, 2 * cap * sizeof(*v));
			if (!nv)
				break;
			v = nv;
			cap *= 2;
		}
		v[n++] = (uint64_t)st.st_ino;
	}
	if (d)
		closedir(d);
	*ids = v;
	return (int)n;
}

static bool id_live(const uint64_t *ids, int n, uint64_t id)
{
	int i;

	for (i = 0; i < n; i++)
		if (ids[i] == id)
			return true;
	return false;
}

/* Deletes from the map fd (__u64 keys) every key that is no live cgroup's. */
static void forget_gone(int fd, const uint64_t *ids, int n)
{
	__u64 key, next, gone[256];
	size_t ng = 0, i;
	int more;

	/* Collected first, deleted after: deleting while walking restarts the walk. */
	more = bpf_map_get_next_key(fd, NULL, &next) == 0;
	while (more) {
		key = next;
		if (!id_live(ids, n, key) && ng < sizeof(gone) / sizeof(gone[0]))
			gone[ng++] = key;
		more = bpf_map_get_next_key(fd, &key, &next) == 0;
	}
	for (i = 0; i < ng; i++)
		bpf_map_delete_elem(fd, &gone[i]);
}

/*
 * The same without the lock, for any boundary's start: the keys are read first and the live
 * cgroups after, so a jail that made its cgroup and then its entry meanwhile is seen live; a
 * cgroup id is never used again, so an entry whose cgroup is gone can only be stale (a jail
 * reaped by a boundary from before the shared sets, which knows no entries).
 */
static void forget_gone_unlocked(int fd)
{
	__u64 key, next, keys[256];
	uint64_t *ids = NULL;
	size_t nk = 0, i;
	int more, n;

	more = bpf_map_get_next_key(fd, NULL, &next) == 0;
	while (more && nk < sizeof(keys) / sizeof(keys[0])) {
		key = next;
		keys[nk++] = key;
		more = bpf_map_get_next_key(fd, &key, &next) == 0;
	}
	if (!nk)
		return;
	n = live_ids(&ids);
	for (i = 0; n >= 0 && i < nk; i++)
		if (!id_live(ids, n, keys[i]))
			bpf_map_delete_elem(fd, &keys[i]);
	free(ids);
}

void shared_forget_gone(void)
{
	char dir[PATH_MAX];
	struct dirent *de;
	int fd;
	DIR *d;

	d = opendir(REAP_PIN_ROOT);
	while (d && (de = readdir(d))) {
		if (set_abi(de->d_name) != JAIL_ABI_VERSION)
			continue; /* another ABI's: swept under the lock (shared_sweep) */
		snprintf(dir, sizeof(dir), "%s/%s", REAP_PIN_ROOT, de->d_name);
		fd = open_pinned(dir, SHARED_ENTRIES);
		if (fd >= 0) {
			forget_gone_unlocked(fd);
			close(fd);
		}
	}
	if (d)
		closedir(d);
	fd = bpf_obj_get(SHARED_OWNERS_PIN);
	if (fd >= 0) {
		forget_gone_unlocked(fd);
		close(fd);
	}
}

static bool map_empty(int fd)
{
	__u64 next;

	return bpf_map_get_next_key(fd, NULL, &next) != 0;
}

int shared_sweep(bool all)
{
	char dir[PATH_MAX], err[256];
	uint64_t *ids = NULL;
	struct dirent *de;
	int lock, fd, n, removed = 0, left = 0;
	unsigned abi;
	DIR *d;

	lock = shared_lock(true, err, sizeof(err));
	if (lock < 0) {
		log_warn("%s: the shared sets are not swept", err);
		return lock;
	}
	n = live_ids(&ids);
	if (n < 0) {
		/* Without the list of live cgroups nothing can be known unused. */
		shared_unlock(lock);
		return 0;
	}
	fd = bpf_obj_get(SHARED_OWNERS_PIN);
	if (fd >= 0) {
		forget_gone(fd, ids, n);
		close(fd);
	}
	d = opendir(REAP_PIN_ROOT);
	while (d && (de = readdir(d))) {
		abi = set_abi(de->d_name);
		if (!abi)
			continue;
		snprintf(dir, sizeof(dir), "%s/%s", REAP_PIN_ROOT, de->d_name);
		fd = open_pinned(dir, SHARED_ENTRIES);
		if (fd >= 0)
			forget_gone(fd, ids, n);
		/* A set without its entries map is half made: nothing can use it. */
		if ((all || abi != JAIL_ABI_VERSION) && (fd < 0 || map_empty(fd))) {
			setup_remove_dir(dir);
			log_info(
			    "removed the shared BPF programs of ABI %u (%s): no jail uses them",
			    abi, dir);
			removed++;
		} else {
			left++;
		}
		if (fd >= 0)
			close(fd);
	}
	if (d)
		closedir(d);
	if (!left && unlink(SHARED_OWNERS_PIN) == 0)
		log_debug("removed %s", SHARED_OWNERS_PIN);
	free(ids);
	shared_unlock(lock);
	return removed;
}
