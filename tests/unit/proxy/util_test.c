// SPDX-License-Identifier: MIT
/* util_test.c: the millisecond clock and the address formatter. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "proxy/util.h"

static void test_clock_moves_forward(void **state)
{
	const struct timespec nap = {0, 20 * 1000 * 1000};
	uint64_t a, b;

	(void)state;
	a = util_now_ms();
	nanosleep(&nap, NULL);
	b = util_now_ms();
	assert_true(a > 0);
	assert_true(b >= a + 19);
	assert_true(b < a + 5000);
}

static void test_v4(void **state)
{
	struct sockaddr_in s4 = {.sin_family = AF_INET, .sin_port = htons(8080)};
	char out[64];

	(void)state;
	inet_pton(AF_INET, "203.0.113.7", &s4.sin_addr);
	assert_int_equal(util_addr_str((struct sockaddr *)&s4, true, out, sizeof(out)), 0);
	assert_string_equal(out, "203.0.113.7:8080");
	assert_int_equal(util_addr_str((struct sockaddr *)&s4, false, out, sizeof(out)), 0);
	assert_string_equal(out, "203.0.113.7");
}

static void test_v6_brackets(void **state)
{
	struct sockaddr_in6 s6 = {.sin6_family = AF_INET6, .sin6_port = htons(443)};
	char out[64];

	(void)state;
	inet_pton(AF_INET6, "2001:db8::1", &s6.sin6_addr);
	assert_int_equal(util_addr_str((struct sockaddr *)&s6, true, out, sizeof(out)), 0);
	assert_string_equal(out, "[2001:db8::1]:443");
	assert_int_equal(util_addr_str((struct sockaddr *)&s6, false, out, sizeof(out)), 0);
	assert_string_equal(out, "2001:db8::1");
}

static void test_longest_fits_64(void **state)
{
	struct sockaddr_in6 s6 = {.sin6_family = AF_INET6, .sin6_port = htons(65535)};
	char out[64];

	(void)state;
	inet_pton(AF_INET6, "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255", &s6.sin6_addr);
	assert_int_equal(util_addr_str((struct sockaddr *)&s6, true, out, sizeof(out)), 0);
	assert_true(strlen(out) < sizeof(out));
	assert_string_equal(out + strlen(out) - 7, "]:65535");
}

static void test_too_small(void **state)
{
	struct sockaddr_in s4 = {.sin_family = AF_INET, .sin_port = htons(80)};
	char out[8];

	(void)state;
	inet_pton(AF_INET, "10.0.0.1", &s4.sin_addr);
	assert_int_equal(util_addr_str((struct sockaddr *)&s4, true, out, sizeof(out)), -ENOSPC);
	assert_string_equal(out, "");
}

static void test_other_family(void **state)
{
	struct sockaddr_un su = {.sun_family = AF_UNIX};
	char out[64] = "x";

	(void)state;
	assert_int_equal(util_addr_str((struct sockaddr *)&su, true, out, sizeof(out)),
			 -EAFNOSUPPORT);
	assert_string_equal(out, "");
}

static void test_peer(void **state)
{
	struct sockaddr_in s4 = {.sin_family = AF_INET};
	socklen_t sl = sizeof(s4);
	int l, c = -1, fd = -1;
	char out[64], want[64];

	(void)state;
	s4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	l = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(l >= 0);
	assert_int_equal(bind(l, (struct sockaddr *)&s4, sizeof(s4)), 0);
	assert_int_equal(listen(l, 1), 0);
	assert_int_equal(getsockname(l, (struct sockaddr *)&s4, &sl), 0);
	c = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(connect(c, (struct sockaddr *)&s4, sizeof(s4)), 0);
	fd = accept(l, NULL, NULL);
	assert_true(fd >= 0);
	assert_int_equal(util_peer_str(c, out, sizeof(out)), 0);
	snprintf(want, sizeof(want), "127.0.0.1:%u", ntohs(s4.sin_port));
	assert_string_equal(out, want);
	assert_int_equal(util_peer_str(l, out, sizeof(out)), -ENOTCONN);
	close(fd);
	close(c);
	close(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_clock_moves_forward),
	    cmocka_unit_test(test_v4),
	    cmocka_unit_test(test_v6_brackets),
	    cmocka_unit_test(test_longest_fits_64),
	    cmocka_unit_test(test_too_small),
	    cmocka_unit_test(test_other_family),
	    cmocka_unit_test(test_peer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
