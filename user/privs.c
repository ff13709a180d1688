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
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <linux/securebits.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <stddef.h>
#include <sys/ioctl.h>
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

/*
 * The filter: ioctl(fd, TIOCSTI or TIOCLINUX, ...) fails with EPERM, for every ABI this kernel
 * may run the command under (on x86-64 also i386 and x32, whose ioctl numbers differ). The
 * command is otherwise left alone. Only the low 32 bits of the request are compared, as the
 * tty layer reads only those.
 */
#if defined(__x86_64__)
#define NATIVE_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define NATIVE_ARCH AUDIT_ARCH_AARCH64
#endif

int privs_deny_tiocsti(char *err, size_t errlen)
{
#ifdef NATIVE_ARCH
	struct sock_filter f[] = {
		/* 0 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		/* 1 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NATIVE_ARCH, 0, 3),
		/* native: ioctl, and on x86-64 x32's ioctl (514 with the x32 bit) */
		/* 2 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		/* 3 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_ioctl, 5, 0),
		/* 4 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x40000000u | 514u, 4, 3),
#if defined(__x86_64__)
		/* 5 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_I386, 0, 2),
		/* 6 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		/* 7 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 54 /* i386 ioctl */, 1, 0),
#else
		/* 5 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0xffffffffu, 0, 2),
		/* 6 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		/* 7 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0xffffffffu, 1, 0),
#endif
		/* 8 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		/* 9: an ioctl: its request, the low half of args[1] (little-endian) */
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[1])),
		/* 10 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, TIOCSTI, 1, 0),
		/* 11 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, TIOCLINUX, 0, 1),
		/* 12 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
		/* 13 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {.len = sizeof(f) / sizeof(f[0]), .filter = f};

	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) == -1)
		return fail(err, errlen, "cannot forbid typing into the terminal (seccomp)");
#else
	(void)err;
	(void)errlen;
#endif
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
