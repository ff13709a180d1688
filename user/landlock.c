// SPDX-License-Identifier: MIT
/*
 * landlock.c: Landlock through its three system calls. The UAPI structures are spelled out here
 * because the distribution's <linux/landlock.h> may predate network rules (ABI 4); their layout
 * is the kernel's stable ABI, and the size passed tells the kernel which fields are present.
 */
#include "user/landlock.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_landlock_create_ruleset
#define SYS_landlock_create_ruleset 444
#define SYS_landlock_add_rule	    445
#define SYS_landlock_restrict_self  446
#endif

#define CREATE_RULESET_VERSION	   (1U << 0)
#define RULE_NET_PORT		   2
#define ACCESS_NET_CONNECT_TCP	   (1ULL << 1)
#define SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)
#define SCOPE_SIGNAL		   (1ULL << 1)
#define ABI_SCOPED		   6

struct ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net; /* ABI 4 */
	uint64_t scoped;	     /* ABI 6 */
};

struct net_port_attr {
	uint64_t allowed_access;
	uint64_t port;
} __attribute__((packed));

_Static_assert(sizeof(struct ruleset_attr) == 24, "struct landlock_ruleset_attr is kernel ABI");
_Static_assert(sizeof(struct net_port_attr) == 16, "struct landlock_net_port_attr is kernel ABI");

int landlock_abi(void)
{
	long v = syscall(SYS_landlock_create_ruleset, NULL, 0, CREATE_RULESET_VERSION);

	return v == -1 ? -errno : (int)v;
}

int landlock_restrict_connect(uint16_t port, char *err, size_t errlen)
{
	struct ruleset_attr attr;
	struct net_port_attr rule;
	int abi, fd, ret = 0;

	abi = landlock_abi();
	if (abi < LANDLOCK_ABI_NET) {
		snprintf(err, errlen,
			 "this kernel cannot restrict connections with Landlock (%s%s; ABI %d or "
			 "later, Linux 6.7+, is needed, with landlock in the lsm= boot list)",
			 abi < 0 ? "Landlock is " : "it has ABI ",
			 abi == -EOPNOTSUPP ? "disabled"
			 : abi < 0	    ? strerror(-abi)
					    : "too old",
			 LANDLOCK_ABI_NET);
		return abi < 0 ? abi : -EOPNOTSUPP;
	}
	memset(&attr, 0, sizeof(attr));
	attr.handled_access_net = ACCESS_NET_CONNECT_TCP;
	if (abi >= ABI_SCOPED)
		attr.scoped = SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL;
	fd = (int)syscall(SYS_landlock_create_ruleset, &attr,
			  abi >= ABI_SCOPED ? sizeof(attr) : offsetof(struct ruleset_attr, scoped),
			  0);
	if (fd == -1) {
		ret = -errno;
		snprintf(err, errlen, "cannot create a Landlock ruleset: %s", strerror(-ret));
		return ret;
	}
	memset(&rule, 0, sizeof(rule));
	rule.allowed_access = ACCESS_NET_CONNECT_TCP;
	rule.port = port;
	if (syscall(SYS_landlock_add_rule, fd, RULE_NET_PORT, &rule, 0) == -1) {
		ret = -errno;
		snprintf(err, errlen, "cannot allow the proxy's port %u in Landlock: %s", port,
			 strerror(-ret));
		goto out;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1) {
		ret = -errno;
		snprintf(err, errlen, "cannot set no_new_privs: %s", strerror(-ret));
		goto out;
	}
	if (syscall(SYS_landlock_restrict_self, fd, 0) == -1) {
		ret = -errno;
		snprintf(err, errlen, "cannot enforce the Landlock ruleset: %s", strerror(-ret));
	}
out:
	close(fd);
	return ret;
}
