// SPDX-License-Identifier: MIT
/*
 * conn_test.c: the state table: every state named as the debug log has always named it, a step
 * wherever the connection acts on its own sockets, and none where it waits for something else.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "proxy/conn.c"

/* The names are in debug logs people compare across versions. */
static void test_state_names(void **state)
{
	(void)state;
	assert_string_equal(state_name(CONN_SNIFF), "sniff");
	assert_string_equal(state_name(CONN_TLS_ACCEPT), "tls-accept");
	assert_string_equal(state_name(CONN_HEAD), "head");
	assert_string_equal(state_name(CONN_DISCARD), "discard");
	assert_string_equal(state_name(CONN_DECIDE), "decide");
	assert_string_equal(state_name(CONN_RESOLVE), "resolve");
	assert_string_equal(state_name(CONN_WAIT_UP), "wait-upstream");
	assert_string_equal(state_name(CONN_CONNECT), "connect");
	assert_string_equal(state_name(CONN_UP_TLS), "upstream-tls");
	assert_string_equal(state_name(CONN_EXCHANGE), "exchange");
	assert_string_equal(state_name(CONN_TUNNEL), "tunnel");
	assert_string_equal(state_name(CONN_SPLICE), "splice");
	assert_string_equal(state_name(CONN_FLUSH_CLOSE), "closing");
	assert_string_equal(state_name(CONN_DEAD), "dead");
}

/* A state that waits for a lookup, an answer, a head start or its end takes no step. */
static void test_state_steps(void **state)
{
	int s;

	(void)state;
	for (s = CONN_SNIFF; s <= CONN_DEAD; s++) {
		bool waits =
		    s == CONN_DECIDE || s == CONN_RESOLVE || s == CONN_WAIT_UP || s == CONN_DEAD;

		assert_true(states[s].name != NULL);
		assert_int_equal(states[s].step == NULL, waits);
	}
	assert_ptr_equal(states[CONN_HEAD].step, exchange_step_head);
	assert_ptr_equal(states[CONN_SPLICE].step, splice_step);
	assert_ptr_equal(states[CONN_H2].step, h2_step);
	assert_ptr_equal(states[CONN_H2_UP].step, h2_step_up);
}

/* Only the states that move bytes both ways write the upstream; closing writes the client. */
static void test_state_writers(void **state)
{
	int s;

	(void)state;
	for (s = CONN_SNIFF; s <= CONN_DEAD; s++) {
		bool both = s == CONN_EXCHANGE || s == CONN_TUNNEL || s == CONN_SPLICE;

		/* an HTTP/2 session writes its own socket's side only */
		assert_int_equal(states[s].writes_upstream, both || s == CONN_H2_UP);
		assert_int_equal(states[s].writes_client,
				 both || s == CONN_FLUSH_CLOSE || s == CONN_H2);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_state_names),
	    cmocka_unit_test(test_state_steps),
	    cmocka_unit_test(test_state_writers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
