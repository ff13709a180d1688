// SPDX-License-Identifier: MIT
/*
 * addr_test.c: which addresses are internal, the ones a rule that does not name the host
 * exactly never reaches (local services, private networks, the clouds' metadata services), in
 * every form they can take; and the address forms rules_addr_set() folds together.
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

#include "rules/rules.h"

static bool internal(const char *addr)
{
	struct sockaddr_in s4 = {.sin_family = AF_INET};
	struct sockaddr_in6 s6 = {.sin6_family = AF_INET6};
	struct rules_addr a;

	if (inet_pton(AF_INET, addr, &s4.sin_addr) == 1) {
		assert_int_equal(rules_addr_set(&a, &s4), 0);
	} else {
		assert_int_equal(inet_pton(AF_INET6, addr, &s6.sin6_addr), 1);
		assert_int_equal(rules_addr_set(&a, &s6), 0);
	}
	return rules_addr_internal(&a);
}

static void test_internal_v4(void **state)
{
	(void)state;
	assert_true(internal("127.0.0.1"));
	assert_true(internal("127.255.255.254"));
	assert_true(internal("0.0.0.0"));
	assert_true(internal("169.254.169.254")); /* AWS, GCP, Azure metadata */
	assert_true(internal("100.100.100.200")); /* Alibaba's metadata, inside CGNAT */
	assert_true(internal("10.0.0.1"));
	assert_true(internal("172.16.0.1"));
	assert_true(internal("172.31.255.255"));
	assert_true(internal("192.168.1.1"));
	assert_true(internal("100.64.0.1"));
	assert_true(internal("100.127.255.255"));
	assert_true(internal("192.0.0.170"));
	assert_true(internal("255.255.255.255"));
	assert_false(internal("203.0.113.7"));
	assert_false(internal("172.15.255.255"));
	assert_false(internal("172.32.0.0"));
	assert_false(internal("100.63.255.255"));
	assert_false(internal("100.128.0.0"));
	assert_false(internal("169.253.1.1"));
	assert_false(internal("11.0.0.1"));
	assert_false(internal("192.169.0.1"));
}

static void test_internal_v6(void **state)
{
	(void)state;
	assert_true(internal("::1"));
	assert_true(internal("::"));
	assert_true(internal("fe80::1"));
	assert_true(internal("febf::1"));
	assert_true(internal("fd00:ec2::254")); /* AWS's metadata over IPv6 */
	assert_true(internal("fc00::1"));
	assert_true(internal("64:ff9b::a00:1"));      /* NAT64 of 10.0.0.1 */
	assert_true(internal("2002:7f00:1::1"));      /* 6to4 of 127.0.0.1 */
	assert_false(internal("64:ff9b::cb00:7107")); /* NAT64 of 203.0.113.7 */
	assert_false(internal("2002:cb00:7107::1"));
	assert_false(internal("fec0::1"));
	assert_false(internal("2001:db8::1"));
	assert_false(internal("::2"));
}

static void test_v4_mapped_is_v4(void **state)
{
	struct sockaddr_in6 s6 = {.sin6_family = AF_INET6};
	struct rules_addr a;
	char buf[64];

	(void)state;
	assert_true(internal("::ffff:127.0.0.1"));
	assert_true(internal("::ffff:169.254.169.254"));
	assert_true(internal("::ffff:10.1.2.3"));
	assert_false(internal("::ffff:203.0.113.7"));
	assert_int_equal(inet_pton(AF_INET6, "::ffff:10.1.2.3", &s6.sin6_addr), 1);
	assert_int_equal(rules_addr_set(&a, &s6), 0);
	assert_int_equal(a.family, AF_INET);
	rules_addr_str(&a, buf, sizeof(buf));
	assert_string_equal(buf, "10.1.2.3");
}

static void test_other_family(void **state)
{
	struct sockaddr_un su = {.sun_family = AF_UNIX};
	struct rules_addr a;

	(void)state;
	assert_int_equal(rules_addr_set(&a, &su), -1);
	a.family = AF_UNIX;
	assert_true(rules_addr_internal(&a)); /* what it cannot read is not the internet */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_internal_v4),
	    cmocka_unit_test(test_internal_v6),
	    cmocka_unit_test(test_v4_mapped_is_v4),
	    cmocka_unit_test(test_other_family),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
