// SPDX-License-Identifier: MIT
/*
 * exchange_test.c: the pieces of the HTTP/1.1 exchange that need no connection: the Host
 * split into name and port, which header fields are hop-by-hop, and the reading of a chunked
 * body ahead of its mover against max_body.
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

/* Appends s to b (the client's bytes arriving). */
static void arrive(struct buf *b, const char *s, size_t n)
{
	assert_int_equal(buf_append(b, s, n), 0);
}

/*
 * body_over_limit(): a chunked body is over as soon as what it has promised (its data so far and
 * the size of the chunk it is in) passes max_body, before that chunk's data has come; a body of
 * exactly max_body is not.
 */
static void test_body_over_limit(void **state)
{
	struct conn *c = calloc(1, sizeof(*c));
	char data[1024];

	(void)state;
	assert_non_null(c);
	memset(data, 'x', sizeof(data));
	buf_init(&c->cin, 8192);
	c->req_body = HTTP1_BODY_CHUNKED;
	c->max_body = 1024;
	http1_chunked_init(&c->body_guard);
	arrive(&c->cin, "258\r\n", 5); /* 600 */
	assert_false(body_over_limit(c));
	arrive(&c->cin, data, 600);
	arrive(&c->cin, "\r\n", 2);
	assert_false(body_over_limit(c));
	assert_true(c->body_guard.data == 600);
	/* All that came has been read ahead; the mover has taken none of it yet. */
	assert_true(c->guarded == c->cin.len);
	arrive(&c->cin, "1", 1); /* a size line begun: at least 1 more */
	assert_false(body_over_limit(c));
	arrive(&c->cin, "a8\r\n", 4); /* 0x1a8 = 424: exactly 1024 */
	assert_false(body_over_limit(c));
	arrive(&c->cin, data, 424);
	arrive(&c->cin, "\r\n1\r\n", 5); /* one byte more: over, before it comes */
	assert_true(body_over_limit(c));

	/* Exactly the limit, to the end: never over. */
	buf_consume(&c->cin, c->cin.len);
	http1_chunked_init(&c->body_guard);
	c->guarded = 0;
	arrive(&c->cin, "400\r\n", 5);
	arrive(&c->cin, data, 1024);
	arrive(&c->cin, "\r\n0\r\n\r\nGET / HTTP/1.1\r\n", 23);
	assert_false(body_over_limit(c));
	assert_true(c->body_guard.done);
	assert_false(body_over_limit(c));

	/* No limit, or a body of stated length: nothing is read ahead. */
	c->max_body = 0;
	http1_chunked_init(&c->body_guard);
	c->guarded = 0;
	assert_false(body_over_limit(c));
	assert_true(c->guarded == 0);
	buf_fini(&c->cin);
	free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_split_host_name_and_port),
	    cmocka_unit_test(test_split_host_ipv6),
	    cmocka_unit_test(test_split_host_refuses),
	    cmocka_unit_test(test_hop_by_hop_fixed),
	    cmocka_unit_test(test_hop_by_hop_named_in_connection),
	    cmocka_unit_test(test_body_over_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
