// SPDX-License-Identifier: MIT
/*
 * shared_test.c: the bookkeeping of the shared sets (user/shared.c). Which pin directories are
 * sets and of which ABI; the sweep's forgetting, on a real hash map as root: keys of cgroups that
 * are gone deleted, live ones kept; the lock: an exclusive holder keeps out a second one.
 * Includes shared.c to reach its statics.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/file.h>

#include "user/shared.c"

static void test_set_abi(void **state)
{
	char dir[PATH_MAX];

	(void)state;
	assert_int_equal(set_abi("shared-7"), 7);
	assert_int_equal(set_abi("shared-12"), 12);
	assert_int_equal(set_abi("shared-"), 0);
	assert_int_equal(set_abi("shared-7x"), 0);
	assert_int_equal(set_abi("shared"), 0);
	assert_int_equal(set_abi("1234-5678"), 0); /* a jail's or an attachment's pins */
	assert_int_equal(set_abi("owners"), 0);
	shared_set_dir(7, dir, sizeof(dir));
	assert_string_equal(dir, "/sys/fs/bpf/boundary/shared-7");
	assert_int_equal(set_abi(strrchr(dir, '/') + 1), 7);
}

static void test_forget_gone(void **state)
{
	uint64_t live[] = {11, 13};
	__u64 key, next;
	__u32 v = 7;
	int fd, n = 0;

	(void)state;
	if (geteuid() != 0)
		skip();
	fd = bpf_map_create(BPF_MAP_TYPE_HASH, "test", sizeof(__u64), sizeof(__u32), 16, NULL);
	assert_true(fd >= 0);
	for (key = 10; key < 15; key++)
		assert_int_equal(bpf_map_update_elem(fd, &key, &v, BPF_ANY), 0);
	forget_gone(fd, live, 2);
	for (int more = bpf_map_get_next_key(fd, NULL, &next) == 0; more;
	     more = bpf_map_get_next_key(fd, &key, &next) == 0) {
		key = next;
		assert_true(key == 11 || key == 13);
		n++;
	}
	assert_int_equal(n, 2);
	forget_gone(fd, live, 0);
	assert_true(map_empty(fd));
	close(fd);
}

static void test_lock_excludes(void **state)
{
	char err[256];
	int a, b;

	(void)state;
	if (geteuid() != 0)
		skip();
	a = shared_lock(false, err, sizeof(err));
	assert_true(a >= 0);
	/* A second shared holder is fine; an exclusive one must wait. */
	b = open(SHARED_LOCK_FILE, O_RDWR | O_CLOEXEC);
	assert_true(b >= 0);
	assert_int_equal(flock(b, LOCK_SH | LOCK_NB), 0);
	flock(b, LOCK_UN);
	assert_int_equal(flock(b, LOCK_EX | LOCK_NB), -1);
	assert_int_equal(errno, EWOULDBLOCK);
	shared_unlock(a);
	assert_int_equal(flock(b, LOCK_EX | LOCK_NB), 0);
	close(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_set_abi),
	    cmocka_unit_test(test_forget_gone),
	    cmocka_unit_test(test_lock_excludes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
