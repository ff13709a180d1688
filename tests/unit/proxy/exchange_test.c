// SPDX-License-Identifier: MIT
/*
 * exchange_test.c: the pieces of the HTTP/1.1 exchange that need no connection: the Host
 * split into name and port, and which header fields are hop-by-hop.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "proxy/exchange.c"

static void test_split_host_name_and_port(void **state)
{
	char name[64];
	uint16_t port;

	(void)state;
	port = 80;
	assert_int_equal(split_host("example.com", name, sizeof(name), &port), 0);
	assert_string_equal(name, "example.com");
	assert_int_equal(port, 80); /* no port: the caller's stays */
	assert_int_equal(split_host("example.com:8080", name, sizeof(name), &port), 0);
	assert_string_equal(name, "example.com");
	assert_int_equal(port, 8080);
	/* One trailing dot is the same name. */
	assert_int_equal(split_host("example.com.:443", name, sizeof(name), &port), 0);
	assert_string_equal(name, "example.com");
	assert_int_equal(port, 443);
}

static void test_split_host_ipv6(void **state)
{
	char name[64];
	uint16_t port = 443;

	(void)state;
	assert_int_equal(split_host("[2001:db8::1]", name, sizeof(name), &port), 0);
	assert_string_equal(name, "2001:db8::1");
	assert_int_equal(port, 443);
	assert_int_equal(split_host("[::1]:8443", name, sizeof(name), &port), 0);
	assert_string_equal(name, "::1");
	assert_int_equal(port, 8443);
}

static void test_split_host_refuses(void **state)
{
	static const char *const bad[] = {
	    ":80", "a:", "a:0", "a:65536", "a:80x", "a:-1", "[::1", "[::1]x", "[::1]:", "",
	};
	char name[16];
	uint16_t port = 80;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(split_host(bad[i], name, sizeof(name), &port), -EINVAL);
	assert_int_equal(port, 80);
	/* A name longer than the room is refused, never cut. */
	assert_int_equal(split_host("a-name-of-sixteen", name, sizeof(name), &port), -EINVAL);
	assert_int_equal(split_host("[aaaa:bbbb:cccc::1]", name, sizeof(name), &port), -EINVAL);
}

static struct http1_header field(const char *name, const char *value)
{
	struct http1_header h = {slice_of(name, strlen(name)), slice_of(value, strlen(value))};

	return h;
}

static bool hop(const struct http1_header *hdr, size_t n, const char *name)
{
	return hop_by_hop(hdr, n, slice_of(name, strlen(name)));
}

static void test_hop_by_hop_fixed(void **state)
{
	struct http1_header hdr[1];

	(void)state;
	hdr[0] = field("Host", "example.com");
	assert_true(hop(hdr, 1, "Connection"));
	assert_true(hop(hdr, 1, "keep-alive"));
	assert_true(hop(hdr, 1, "Proxy-Connection"));
	assert_true(hop(hdr, 1, "TE"));
	assert_true(hop(hdr, 1, "Upgrade"));
	assert_true(hop(hdr, 1, "Proxy-Authorization"));
	assert_true(hop(hdr, 1, "proxy-authenticate"));
	assert_false(hop(hdr, 1, "Host"));
	assert_false(hop(hdr, 1, "Content-Length"));
	assert_false(hop(hdr, 1, "Transfer-Encoding"));
}

static void test_hop_by_hop_named_in_connection(void **state)
{
	struct http1_header hdr[3];

	(void)state;
	hdr[0] = field("Host", "example.com");
	hdr[1] = field("Connection", "close, \tX-Secret ,X-Other");
	hdr[2] = field("connection", "x-third");
	assert_true(hop(hdr, 3, "x-secret"));
	assert_true(hop(hdr, 3, "X-Other"));
	assert_true(hop(hdr, 3, "X-Third"));
	assert_false(hop(hdr, 3, "X-Secre"));
	assert_false(hop(hdr, 3, "X-Secrets"));
	assert_false(hop(hdr, 3, "Host"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_split_host_name_and_port),
	    cmocka_unit_test(test_split_host_ipv6),
	    cmocka_unit_test(test_split_host_refuses),
	    cmocka_unit_test(test_hop_by_hop_fixed),
	    cmocka_unit_test(test_hop_by_hop_named_in_connection),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
