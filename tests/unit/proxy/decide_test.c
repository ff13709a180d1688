// SPDX-License-Identifier: MIT
/*
 * decide_test.c: the host a refusal suggests a rule for: the Host without its port, an IPv6
 * literal kept in its brackets, and never more than the room; the strings audit records give
 * who decided and what a stream was.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "proxy/decide.c"

static void test_host_name_only(void **state)
{
	char out[64];

	(void)state;
	host_name_only("example.com", out, sizeof(out));
	assert_string_equal(out, "example.com");
	host_name_only("example.com:8080", out, sizeof(out));
	assert_string_equal(out, "example.com");
	host_name_only("[2001:db8::1]:443", out, sizeof(out));
	assert_string_equal(out, "[2001:db8::1]");
	host_name_only("[2001:db8::1]", out, sizeof(out));
	assert_string_equal(out, "[2001:db8::1]");
}

static void test_host_name_only_cut_to_room(void **state)
{
	char out[8];

	(void)state;
	host_name_only("a-long-name.example:80", out, sizeof(out));
	assert_string_equal(out, "a-long-");
}

static void test_valid_rule(void **state)
{
	(void)state;
	assert_true(valid_rule("domain=example.com"));
	assert_false(valid_rule("domian=example.com"));
}

/* The strings audit records carry: user/auditlog.c and the e2e cases read them back. */
static void test_by_str(void **state)
{
	(void)state;
	assert_null(decide_by_str(CONN_DECIDED_BY_RULES)); /* no "decided_by" field */
	assert_string_equal(decide_by_str(CONN_DECIDED_BY_PROGRAM), "program");
	assert_string_equal(decide_by_str(CONN_DECIDED_BY_PERSON), "person");
}

static void test_stream_str(void **state)
{
	(void)state;
	assert_null(decide_stream_str(CONN_STREAM_NONE));
	assert_string_equal(decide_stream_str(CONN_STREAM_TCP), "tcp");
	assert_string_equal(decide_stream_str(CONN_STREAM_TLS), "tls");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_host_name_only),
	    cmocka_unit_test(test_host_name_only_cut_to_room),
	    cmocka_unit_test(test_valid_rule),
	    cmocka_unit_test(test_by_str),
	    cmocka_unit_test(test_stream_str),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
