// SPDX-License-Identifier: MIT
/* loop_test.c: epoll registration as loop_watch() keeps it, and the accept() pause's clock. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "proxy/loop.h"

static void test_watch_adds_then_modifies(void **state)
{
	struct epoll_event e;
	uint32_t cur = LOOP_WATCH_NONE;
	int ep, fds[2], tag;

	(void)state;
	ep = epoll_create1(EPOLL_CLOEXEC);
	assert_true(ep >= 0);
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(loop_watch(ep, fds[1], &tag, &cur, EPOLLOUT), 0);
	assert_int_equal(cur, EPOLLOUT);
	assert_int_equal(epoll_wait(ep, &e, 1, 0), 1);
	assert_ptr_equal(e.data.ptr, &tag);
	/* Already added: a second add would fail with EEXIST, so this is a modify. */
	assert_int_equal(loop_watch(ep, fds[1], &tag, &cur, 0), 0);
	assert_int_equal(cur, 0);
	assert_int_equal(epoll_wait(ep, &e, 1, 0), 0);
	/* Nothing to do: the same events, or no descriptor. */
	assert_int_equal(loop_watch(ep, fds[1], &tag, &cur, 0), 0);
	cur = LOOP_WATCH_NONE;
	assert_int_equal(loop_watch(ep, -1, &tag, &cur, EPOLLIN), 0);
	assert_int_equal(cur, LOOP_WATCH_NONE);
	/* A failure says why and leaves cur alone. */
	cur = LOOP_WATCH_NONE;
	assert_int_equal(loop_watch(ep, fds[1], &tag, &cur, EPOLLOUT), -EEXIST);
	assert_int_equal(cur, LOOP_WATCH_NONE);
	close(fds[0]);
	close(fds[1]);
	close(ep);
}

static void test_pause_said_at_most_every_period(void **state)
{
	struct loop_pause lp = {0};
	unsigned unsaid = 99;
	uint64_t t = 5000;

	(void)state;
	assert_true(loop_pause(&lp, t, &unsaid));
	assert_int_equal(unsaid, 0);
	assert_int_equal(lp.until, t + LOOP_ACCEPT_PAUSE_MS);
	assert_false(loop_pause(&lp, t + 1, &unsaid));
	assert_false(loop_pause(&lp, t + LOOP_EMFILE_LOG_MS - 1, &unsaid));
	assert_int_equal(lp.until, t + LOOP_EMFILE_LOG_MS - 1 + LOOP_ACCEPT_PAUSE_MS);
	assert_true(loop_pause(&lp, t + LOOP_EMFILE_LOG_MS, &unsaid));
	assert_int_equal(unsaid, 2);
	assert_true(loop_pause(&lp, t + 2 * LOOP_EMFILE_LOG_MS, &unsaid));
	assert_int_equal(unsaid, 0);
}

static void test_pause_over_once(void **state)
{
	struct loop_pause lp = {0};
	unsigned unsaid;

	(void)state;
	assert_false(loop_pause_over(&lp, 1000)); /* never paused */
	loop_pause(&lp, 1000, &unsaid);
	assert_false(loop_pause_over(&lp, 1000 + LOOP_ACCEPT_PAUSE_MS - 1));
	assert_true(loop_pause_over(&lp, 1000 + LOOP_ACCEPT_PAUSE_MS));
	assert_int_equal(lp.until, 0);
	assert_false(loop_pause_over(&lp, 1000 + LOOP_ACCEPT_PAUSE_MS + 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_watch_adds_then_modifies),
	    cmocka_unit_test(test_pause_said_at_most_every_period),
	    cmocka_unit_test(test_pause_over_once),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
