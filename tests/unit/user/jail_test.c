// SPDX-License-Identifier: MIT
/*
 * jail_test.c: the embedded BPF object loads into this kernel (as root), and the cgroup2
 * hierarchy is found. Jails themselves are tested end to end (tests/e2e, tests/security).
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
#include "user/cgroup.h"
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

/* The cgroup2 mount is found wherever this host has it, and really is cgroup2. */
static void test_cgroup_root_is_cgroup2(void **state)
{
	char root[4096], err[256], file[4200];

	(void)state;
	if (cgroup_find_root(root, sizeof(root), err, sizeof(err)) != 0)
		fail_msg("%s", err);
	snprintf(file, sizeof(file), "%s/cgroup.controllers", root);
	assert_int_equal(access(file, F_OK), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bpf_object_loads),
	    cmocka_unit_test(test_cgroup_root_is_cgroup2),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
