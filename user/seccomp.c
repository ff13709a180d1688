// SPDX-License-Identifier: MIT
/*
 * seccomp.c: the jail's seccomp filter, a short classic-BPF program built per architecture.
 *
 * The cgroup hooks see every inet socket; they never see the others. A socket family outside
 * inet, unix and netlink is the way past them (AF_VSOCK to the hypervisor's host needs no
 * privilege at all), so socket() refuses those families here, and io_uring, whose
 * IORING_OP_SOCKET makes sockets without a socket() call, is refused outright. TIOCSTI is
 * not a network matter but an escape all the same: the jail shares the user's terminal, and a
 * character pushed into its input is read by the user's shell after boundary exits.
 *
 * Only the low 32 bits of an argument are compared: the kernel reads the ioctl command and the
 * socket family as int, so high bits set to dodge a 64-bit comparison would change nothing.
 */
#include "user/seccomp.h"

#include <assert.h>
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#if defined(__x86_64__)
#define NATIVE_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define NATIVE_ARCH AUDIT_ARCH_AARCH64
#else
// cppcheck-suppress preprocessorErrorDirective
#error "seccomp.c: name this architecture's AUDIT_ARCH_* (and any compat ABI it has)"
#endif

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define ARG_LO(n) (offsetof(struct seccomp_data, args) + 8 * (n))
#else
#define ARG_LO(n) (offsetof(struct seccomp_data, args) + 8 * (n) + 4)
#endif

#define X32_SYSCALL_BIT 0x40000000U
#define MAX_INSNS	64

/* The system call numbers one ABI uses for what the filter checks; -1 when it has none. */
struct abi {
	unsigned int arch;
	int nr_socket, nr_ioctl, nr_io_uring_setup, nr_socketcall;
	int x32; /* x86-64: refuse system calls made through the x32 ABI */
};

struct prog {
	struct sock_filter insn[MAX_INSNS];
	unsigned int n;
};

static void emit(struct prog *p, struct sock_filter insn)
{
	assert(p->n < MAX_INSNS);
	p->insn[p->n++] = insn;
}

static struct sock_filter ret_errno(int e)
{
	return (struct sock_filter)BPF_STMT(
	    BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ((unsigned int)e & SECCOMP_RET_DATA));
}

static struct sock_filter ret_allow(void)
{
	return (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
}

static struct sock_filter load(unsigned int off)
{
	return (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, off);
}

static struct sock_filter jeq(unsigned int k, unsigned char jt, unsigned char jf)
{
	return (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, k, jt, jf);
}

/* The checks of one ABI, entered with its arch already matched; every path ends in a return. */
static void emit_abi(struct prog *p, const struct abi *a)
{
	emit(p, load(offsetof(struct seccomp_data, nr)));
	if (a->x32) {
		emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, X32_SYSCALL_BIT, 0,
						     1));
		emit(p, ret_errno(ENOSYS));
	}
	emit(p, jeq((unsigned int)a->nr_io_uring_setup, 0, 1));
	emit(p, ret_errno(EPERM));
	/* socket(family, ...): the families the jail's hooks (or the kernel's own netns) govern */
	emit(p, jeq((unsigned int)a->nr_socket, 0, 7));
	emit(p, load(ARG_LO(0)));
	emit(p, jeq(AF_UNIX, 4, 0));
	emit(p, jeq(AF_INET, 3, 0));
	emit(p, jeq(AF_INET6, 2, 0));
	emit(p, jeq(AF_NETLINK, 1, 0));
	emit(p, ret_errno(EAFNOSUPPORT));
	emit(p, ret_allow());
	emit(p, jeq((unsigned int)a->nr_ioctl, 0, 5));
	emit(p, load(ARG_LO(1)));
	emit(p, jeq(TIOCSTI, 1, 0));
	emit(p, jeq(TIOCLINUX, 0, 1));
	emit(p, ret_errno(EPERM));
	emit(p, ret_allow());
	if (a->nr_socketcall >= 0) {
		/* socketcall(SYS_SOCKET, args): the family is behind a pointer; libc falls back */
		emit(p, jeq((unsigned int)a->nr_socketcall, 0, 3));
		emit(p, load(ARG_LO(0)));
		emit(p, jeq(1 /* SYS_SOCKET */, 0, 1));
		emit(p, ret_errno(ENOSYS));
	}
	emit(p, ret_allow());
}

/* if arch == a->arch: the ABI's checks; else falls through to what follows */
static void emit_arch(struct prog *p, const struct abi *a)
{
	unsigned int at = p->n;

	emit(p, jeq(a->arch, 0, 0));
	emit_abi(p, a);
	assert(p->n - at - 1 < 256);
	p->insn[at].jf = (unsigned char)(p->n - at - 1);
}

int seccomp_install(char *err, size_t errlen)
{
	static const struct abi native = {
		.arch = NATIVE_ARCH,
		.nr_socket = __NR_socket,
		.nr_ioctl = __NR_ioctl,
		.nr_io_uring_setup = __NR_io_uring_setup,
		.nr_socketcall = -1,
#if defined(__x86_64__)
		.x32 = 1,
#endif
	};
#if defined(__x86_64__)
	/* int $0x80 from a 64-bit process, or a 32-bit program: the i386 table's numbers */
	static const struct abi i386 = {
	    .arch = AUDIT_ARCH_I386,
	    .nr_socket = 359,
	    .nr_ioctl = 54,
	    .nr_io_uring_setup = 425,
	    .nr_socketcall = 102,
	};
#endif
	struct prog p;
	struct sock_fprog fprog;

	memset(&p, 0, sizeof(p));
	emit(&p, load(offsetof(struct seccomp_data, arch)));
	emit_arch(&p, &native);
#if defined(__x86_64__)
	emit_arch(&p, &i386);
#endif
	/* an ABI this filter does not know: nothing it asks for is checked, so nothing runs */
	emit(&p, ret_errno(ENOSYS));
	fprog.len = (unsigned short)p.n;
	fprog.filter = p.insn;
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog, 0, 0) == -1) {
		int ret = -errno;

		snprintf(err, errlen, "cannot install the jail's seccomp filter: %s%s",
			 strerror(errno),
			 errno == EINVAL ? " (the kernel lacks CONFIG_SECCOMP_FILTER)" : "");
		return ret;
	}
	return 0;
}
