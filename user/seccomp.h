/* SPDX-License-Identifier: MIT */
/*
 * seccomp.h: the few system calls the jailed command may not make, because the jail's cgroup
 * hooks cannot see what they do. Installed in the command's own process, after privileges are
 * dropped and no_new_privs is set, just before exec; every descendant inherits it.
 */
#ifndef BOUNDARY_USER_SECCOMP_H
#define BOUNDARY_USER_SECCOMP_H

#include <stddef.h>

/*
 * Installs the jail's filter:
 *   - socket() of any family but AF_UNIX, AF_INET, AF_INET6 and AF_NETLINK fails with
 *     EAFNOSUPPORT: AF_VSOCK reaches the hypervisor's host, and AF_TIPC, AF_RDS, AF_BLUETOOTH
 *     and the rest carry data past every inet hook;
 *   - io_uring_setup() fails with EPERM: a ring's IORING_OP_SOCKET makes sockets that the filter
 *     above never sees;
 *   - ioctl(TIOCSTI) and ioctl(TIOCLINUX) fail with EPERM: they would type commands into the
 *     terminal's shell, which runs them outside the jail once boundary exits;
 *   - on x86-64, the i386 entry points get the same checks, and x32 system calls fail (ENOSYS).
 * Requires no_new_privs. Returns 0, or -errno with err filled.
 */
int seccomp_install(char *err, size_t errlen);

#endif /* BOUNDARY_USER_SECCOMP_H */
