// SPDX-License-Identifier: MIT
/*
 * upstream_test.c: which addresses are the host's own, the ones a rule that names no host must
 * never reach (local services, the clouds' metadata services), in every form they can take.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "proxy/upstream.c"

static bool own(const char *addr)
{
	struct sockaddr_in s4 = {.sin_family = AF_INET};
	struct sockaddr_in6 s6 = {.sin6_family = AF_INET6};

	if (inet_pton(AF_INET, addr, &s4.sin_addr) == 1)
		return host_own((const struct sockaddr *)&s4);
	assert_int_equal(inet_pton(AF_INET6, addr, &s6.sin6_addr), 1);
	return host_own((const struct sockaddr *)&s6);
}

static void test_own_v4(void **state)
{
	(void)state;
	assert_true(own("127.0.0.1"));
	assert_true(own("127.255.255.254"));
	assert_true(own("0.0.0.0"));
	assert_true(own("169.254.169.254")); /* AWS, GCP, Azure metadata */
	assert_true(own("100.100.100.200")); /* Alibaba's metadata */
	assert_false(own("203.0.113.7"));
	assert_false(own("10.0.0.1"));
	assert_false(own("100.100.100.201"));
	assert_false(own("169.253.1.1"));
}

static void test_own_v6(void **state)
{
	(void)state;
	assert_true(own("::1"));
	assert_true(own("::"));
	assert_true(own("fe80::1"));
	assert_true(own("fd00:ec2::254")); /* AWS's metadata over IPv6 */
	assert_false(own("fd00:ec2::253"));
	assert_false(own("2001:db8::1"));
}

static void test_own_v4_mapped(void **state)
{
	(void)state;
	assert_true(own("::ffff:127.0.0.1"));
	assert_true(own("::ffff:169.254.169.254"));
	assert_true(own("::ffff:100.100.100.200"));
	assert_false(own("::ffff:203.0.113.7"));
}

static void test_own_other_family(void **state)
{
	struct sockaddr_un su = {.sun_family = AF_UNIX};

	(void)state;
	assert_false(host_own((const struct sockaddr *)&su));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_own_v4),
	    cmocka_unit_test(test_own_v6),
	    cmocka_unit_test(test_own_v4_mapped),
	    cmocka_unit_test(test_own_other_family),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
