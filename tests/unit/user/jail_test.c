// SPDX-License-Identifier: MIT
/*
 * jail_test.c: the embedded BPF object loads into this kernel (as root), and jail_run() refuses
 * to run a command while the jail is not built, without running it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proxy/log.h"
#include "user/jail.h"

static void test_bpf_object_loads(void **state)
{
	char err[256] = "";

	(void)state;
	if (geteuid() != 0)
		skip();
	if (jail_probe(err, sizeof(err)) != 0)
		fail_msg("jail_probe: %s", err);
}

static void test_run_refuses_without_jail(void **state)
{
	char marker[] = "/tmp/boundary-jail-test-XXXXXX";
	char touch[] = "touch";
	char *argv[] = {touch, marker, NULL};
	int fd;

	(void)state;
	fd = mkstemp(marker);
	assert_int_not_equal(fd, -1);
	close(fd);
	unlink(marker);
	log_set_level(LOG_ERROR);
	assert_int_equal(jail_run(NULL, argv), LOG_EXIT_FAILURE);
	assert_int_not_equal(access(marker, F_OK), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bpf_object_loads),
		cmocka_unit_test(test_run_refuses_without_jail),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
