// SPDX-License-Identifier: MIT
/*
 * privs.c: privilege dropping for the jailed command. Every step is checked; a failure stops
 * the command from running at all (the caller exits), because a half-dropped command is worse
 * than none.
 */
#include "user/privs.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/securebits.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static int last_cap(void)
{
	char buf[16];
	ssize_t n;
	int fd, cap = CAP_LAST_CAP;

	fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return cap;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n > 0) {
		buf[n] = '\0';
		if (sscanf(buf, "%d", &cap) != 1)
			cap = CAP_LAST_CAP;
	}
	/* Newer kernels know more capabilities than our headers: drop those too. */
	return cap < CAP_LAST_CAP ? CAP_LAST_CAP : cap;
}

static int fail(char *err, size_t errlen, const char *what)
{
	int ret = -errno;

	snprintf(err, errlen, "%s: %s", what, strerror(errno));
	return ret;
}

static int clear_caps(char *err, size_t errlen)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
	struct __user_cap_data_struct data[2];

	memset(data, 0, sizeof(data));
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) == -1 && errno != EINVAL)
		return fail(err, errlen, "cannot clear ambient capabilities");
	if (syscall(SYS_capset, &hdr, data) == -1)
		return fail(err, errlen, "cannot clear capabilities");
	return 0;
}

int privs_drop_to(uid_t uid, gid_t gid, char *err, size_t errlen)
{
	int cap, top = last_cap();

	if (setgroups(0, NULL) == -1)
		return fail(err, errlen, "cannot clear supplementary groups");
	/* The bounding set needs CAP_SETPCAP, so it goes before the uid changes. */
	for (cap = 0; cap <= top; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == -1 && errno != EINVAL)
			return fail(err, errlen, "cannot drop the capability bounding set");
	/* Root semantics off for good: uid 0 gains nothing on exec or setuid. */
	if (prctl(PR_SET_SECUREBITS,
		  SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP_LOCKED |
		      SECBIT_KEEP_CAPS_LOCKED | SECBIT_NO_CAP_AMBIENT_RAISE |
		      SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED,
		  0, 0, 0) == -1)
		return fail(err, errlen, "cannot set securebits");
	if (setresgid(gid, gid, gid) == -1)
		return fail(err, errlen, "cannot change group");
	if (setresuid(uid, uid, uid) == -1)
		return fail(err, errlen, "cannot change user");
	if (clear_caps(err, errlen) < 0)
		return -EPERM;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		return fail(err, errlen, "cannot set no_new_privs");
	return 0;
}

static void caps_effective(bool on);

int privs_drop_caps(char *err, size_t errlen)
{
	int cap, top = last_cap();

	caps_effective(true);
	for (cap = 0; cap <= top; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == -1 && errno != EINVAL && errno != EPERM)
			return fail(err, errlen, "cannot drop the capability bounding set");
	if (clear_caps(err, errlen) < 0)
		return -EPERM;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		return fail(err, errlen, "cannot set no_new_privs");
	return 0;
}

static int write_file(const char *path, const char *s)
{
	int fd, ret = 0;
	size_t len = strlen(s);

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd == -1)
		return -errno;
	if (write(fd, s, len) != (ssize_t)len)
		ret = -errno;
	close(fd);
	return ret;
}

int privs_userns_root(int ready_fd, int go_fd, char *err, size_t errlen)
{
	char c = 0;

	if (getuid() != 0 || getgid() != 0) {
		snprintf(err, errlen, "the user namespace maps root only; boundary is not root");
		return -EPERM;
	}
	if (setgroups(0, NULL) == -1)
		return fail(err, errlen, "cannot clear supplementary groups");
	if (unshare(CLONE_NEWUSER | CLONE_NEWNS) == -1)
		return fail(err, errlen,
			    "cannot create a user namespace (is user.max_user_namespaces 0? use "
			    "--user or --no-user-namespace instead)");
	if (write(ready_fd, &c, 1) != 1 || read(go_fd, &c, 1) != 1 || c != 1) {
		snprintf(err, errlen, "the jail's init could not map root into the user namespace");
		return -EPERM;
	}
	/* Only now is the namespace's uid 0 the host's nobody: become it. */
	if (setresgid(0, 0, 0) == -1)
		return fail(err, errlen, "cannot become gid 0 of the user namespace");
	if (setresuid(0, 0, 0) == -1)
		return fail(err, errlen, "cannot become uid 0 of the user namespace");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		return fail(err, errlen, "cannot set no_new_privs");
	return 0;
}

int privs_userns_map(pid_t pid, char *err, size_t errlen)
{
	char path[64], map[64];
	int ret;

	snprintf(map, sizeof(map), "0 %d 1\n", PRIVS_USERNS_HOST_ID);
	snprintf(path, sizeof(path), "/proc/%d/setgroups", (int)pid);
	ret = write_file(path, "deny");
	if (ret == 0) {
		snprintf(path, sizeof(path), "/proc/%d/uid_map", (int)pid);
		ret = write_file(path, map);
	}
	if (ret == 0) {
		snprintf(path, sizeof(path), "/proc/%d/gid_map", (int)pid);
		ret = write_file(path, map);
	}
	if (ret < 0)
		snprintf(err, errlen, "cannot map root into the jail's user namespace: %s",
			 strerror(-ret));
	return ret;
}

/* PRIVS_SETCAP, as numbers and names for messages. */
static const struct {
	int cap;
	const char *name;
} needed[] = {
    {CAP_NET_ADMIN, "cap_net_admin"}, {CAP_SYS_ADMIN, "cap_sys_admin"}, {CAP_SETUID, "cap_setuid"},
    {CAP_SETGID, "cap_setgid"},	      {CAP_SETPCAP, "cap_setpcap"},
};

static int caps_get(struct __user_cap_data_struct data[2])
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};

	memset(data, 0, 2 * sizeof(*data));
	return syscall(SYS_capget, &hdr, data) == -1 ? -errno : 0;
}

static void caps_effective(bool on)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
	struct __user_cap_data_struct data[2];

	if (caps_get(data) < 0)
		return;
	data[0].effective = on ? data[0].permitted : 0;
	data[1].effective = on ? data[1].permitted : 0;
	syscall(SYS_capset, &hdr, data);
}

bool privs_unprivileged(void)
{
	return getuid() != 0;
}

int privs_caps_check(char *err, size_t errlen)
{
	struct __user_cap_data_struct data[2];
	char missing[256] = "";
	size_t i, used = 0;
	int n;

	if (!privs_unprivileged())
		return 0;
	if (caps_get(data) < 0)
		return fail(err, errlen, "cannot read boundary's capabilities");
	for (i = 0; i < sizeof(needed) / sizeof(needed[0]); i++) {
		if (data[needed[i].cap / 32].permitted & (1U << (needed[i].cap % 32)))
			continue;
		n = snprintf(missing + used, sizeof(missing) - used, "%s%s", used ? "," : "",
			     needed[i].name);
		if (n > 0 && (size_t)n < sizeof(missing) - used)
			used += (size_t)n;
	}
	if (!used)
		return 0;
	snprintf(err, errlen,
		 "cannot build the jail: boundary runs as an ordinary user without %s (run it "
		 "with sudo, or grant it once with: sudo setcap %s+ep BINARY; hosts that allow no "
		 "BPF can use --jail-type landlock)",
		 missing, PRIVS_SETCAP);
	return -EPERM;
}

void privs_raise(void)
{
	if (!privs_unprivileged())
		return;
	caps_effective(true);
	setfsgid(0);
	setfsuid(0);
}

bool privs_reach_covers(uid_t uid, gid_t gid)
{
	struct __user_cap_data_struct data[2];
	const int dac[] = {CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH};
	size_t i;

	if (caps_get(data) < 0)
		return false;
	for (i = 0; i < sizeof(dac) / sizeof(dac[0]); i++)
		if (data[dac[i] / 32].effective & (1U << (dac[i] % 32)))
			return false;
	/* setfsuid(-1) changes nothing and returns the current filesystem id. */
	return (uid_t)setfsuid((uid_t)-1) == uid && (gid_t)setfsgid((gid_t)-1) == gid;
}

void privs_fs_user(void)
{
	if (!privs_unprivileged())
		return;
	setfsuid(getuid());
	setfsgid(getgid());
}

void privs_lower(void)
{
	privs_fs_user();
	if (privs_unprivileged())
		caps_effective(false);
}
