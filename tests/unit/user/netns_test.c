// SPDX-License-Identifier: MIT
/*
 * netns_test.c: the jail's network namespace (as root; skipped otherwise). glibc's getaddrinfo()
 * with AI_ADDRCONFIG and a family must work in it, as it does on any host with a network: in a
 * namespace holding only lo with 127.0.0.1 and ::1 it fails for every name, numeric ones
 * included, and `getent ahostsv4 NAME` finds nothing. The control shows that bare namespace
 * failing, so the test can fail. Includes netns.c to reach lo_up().
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <netdb.h>
#include <sched.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "user/netns.c"

/* getaddrinfo(host, AI_ADDRCONFIG, family) in this process: 0 or the EAI_* code. */
static int gai_addrconfig(const char *host, int family)
{
	struct addrinfo hints, *res = NULL;
	int r;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = family;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_ADDRCONFIG;
	r = getaddrinfo(host, NULL, &hints, &res);
	if (r == 0)
		freeaddrinfo(res);
	return r;
}

/*
 * In a child that joins netns (or, with netns -1, a fresh namespace with lo up and nothing
 * else): bit 0 set when AF_INET with AI_ADDRCONFIG fails, bit 1 when AF_INET6 does; 0x80 when
 * the namespace could not be entered.
 */
static int lookups_failing_in(int netns)
{
	pid_t pid;
	int status, bits = 0;

	pid = fork();
	assert_int_not_equal(pid, -1);
	if (pid == 0) {
		if (netns >= 0 ? setns(netns, CLONE_NEWNET) == -1
			       : unshare(CLONE_NEWNET) == -1 || lo_up() < 0)
			_exit(0x80);
		if (gai_addrconfig("127.0.0.1", AF_INET) != 0)
			bits |= 1;
		if (gai_addrconfig("::1", AF_INET6) != 0)
			bits |= 2;
		_exit(bits);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static void test_addrconfig_lookups(void **state)
{
	struct netns_listeners l;
	char err[256] = "";
	int jail, bare, got;

	(void)state;
	if (geteuid() != 0)
		skip();
	/* The control: lo alone, as the kernel makes it, fails both families. */
	bare = lookups_failing_in(-1);
	assert_int_not_equal(bare, 0x80);
	assert_int_equal(bare & 1, 1);

	jail = netns_create(0, &l, err, sizeof(err));
	if (jail < 0)
		fail_msg("netns_create: %s", err);
	got = lookups_failing_in(jail);
	assert_int_not_equal(got, 0x80);
	assert_int_equal(got & 1, 0);
	/* With IPv6 disabled on this host the jail has none either (and the control said so). */
	if (l.proxy6 >= 0) {
		assert_int_equal(bare & 2, 2);
		assert_int_equal(got & 2, 0);
	}
	netns_listeners_close(&l);
	close(jail);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_addrconfig_lookups),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
