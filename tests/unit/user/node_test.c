// SPDX-License-Identifier: MIT
/*
 * node_test.c: where boundary k8s-node looks for a pod's cgroup, from the cgroup parent the
 * CRI reports: a cgroupfs path as it is, a systemd slice expanded into the slices it lies in,
 * and the names that are neither refused rather than guessed at.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "user/node.h"

static void is(const char *parent, const char *want)
{
	char out[PATH_MAX];

	assert_int_equal(node_cgroup_path(parent, out, sizeof(out)), 0);
	assert_string_equal(out, want);
}

static void refused(const char *parent)
{
	char out[PATH_MAX];

	assert_int_equal(node_cgroup_path(parent, out, sizeof(out)), -EINVAL);
}

static void test_cgroupfs(void **state)
{
	(void)state;
	is("/kubepods/besteffort/pod1234", "/kubepods/besteffort/pod1234");
	is("kubepods/burstable/pod-a", "/kubepods/burstable/pod-a");
	is("/kubepods/pod9/", "/kubepods/pod9");
	/* A slash makes it a path, whatever it ends with. */
	is("/machine.slice/x.slice", "/machine.slice/x.slice");
}

static void test_systemd(void **state)
{
	(void)state;
	is("kubepods.slice", "/kubepods.slice");
	is("kubepods-besteffort.slice", "/kubepods.slice/kubepods-besteffort.slice");
	is("kubepods-besteffort-pod1a2b_3c.slice",
	   "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1a2b_3c.slice");
	is("kubepods-pod77.slice", "/kubepods.slice/kubepods-pod77.slice");
}

static void test_refused(void **state)
{
	char small[20];

	(void)state;
	refused("");
	refused("/kubepods/../etc");
	refused("..");
	refused("-kubepods.slice");
	refused("kubepods--x.slice");
	refused("kubepods-.slice");
	assert_int_equal(node_cgroup_path("kubepods-besteffort-pod1.slice", small, sizeof(small)),
			 -EINVAL);
	assert_int_equal(node_cgroup_path("/a/very/long/path/here", small, sizeof(small)), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cgroupfs),
	    cmocka_unit_test(test_systemd),
	    cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
