// SPDX-License-Identifier: MIT
/* log_test.c: levels, the line format, errno preservation, and log_open()'s file. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proxy/log.h"

static char path[64];

static int setup(void **state)
{
	int fd;

	(void)state;
	snprintf(path, sizeof(path), "/tmp/boundary-log-test-XXXXXX");
	fd = mkstemp(path);
	if (fd == -1)
		return -1;
	close(fd);
	unlink(path);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	log_close();
	unlink(path);
	log_set_level(LOG_WARN);
	return 0;
}

static char *slurp(void)
{
	static char buf[4096];
	FILE *f = fopen(path, "r");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void test_levels_and_format(void **state)
{
	struct stat st;
	char *s;

	(void)state;
	assert_int_equal(log_open(path), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	log_set_level(LOG_WARN);
	log_error("e %d", 1);
	log_warn("w %s", "two");
	log_info("hidden");
	log_debug("hidden");
	log_set_level(LOG_DEBUG);
	log_debug("d");
	s = slurp();
	assert_string_equal(s, "boundary: e 1\nboundary: warn: w two\nboundary: debug: d\n");
	assert_true(log_enabled(LOG_DEBUG));
	log_set_level(LOG_ERROR);
	assert_false(log_enabled(LOG_WARN));
}

static void test_errno_variants(void **state)
{
	(void)state;
	assert_int_equal(log_open(path), 0);
	errno = ENOENT;
	log_error_errno("cannot open %s", "x");
	assert_int_equal(errno, ENOENT);
	assert_string_equal(slurp(), "boundary: cannot open x: No such file or directory\n");
}

static void test_long_line_is_cut_not_overflowed(void **state)
{
	char big[5000];
	char *s;

	(void)state;
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(log_open(path), 0);
	log_error("%s", big);
	s = slurp();
	assert_true(strlen(s) < 2100);
	assert_int_equal(s[strlen(s) - 1], '\n');
}

static void test_level_parse(void **state)
{
	enum log_level l;

	(void)state;
	assert_int_equal(log_level_parse("DEBUG", &l), 0);
	assert_int_equal(l, LOG_DEBUG);
	assert_int_equal(log_level_parse("Warn", &l), 0);
	assert_int_equal(l, LOG_WARN);
	assert_int_equal(log_level_parse("error", &l), 0);
	assert_int_equal(l, LOG_ERROR);
	assert_int_equal(log_level_parse("verbose", &l), -EINVAL);
	assert_string_equal(log_level_name(LOG_INFO), "info");
}

static void test_open_failure_keeps_destination(void **state)
{
	(void)state;
	assert_int_equal(log_open(path), 0);
	assert_int_equal(log_open("/nonexistent-dir/x.log"), -ENOENT);
	log_error("still here");
	assert_string_equal(slurp(), "boundary: still here\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_levels_and_format, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_errno_variants, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_long_line_is_cut_not_overflowed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_level_parse, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_open_failure_keeps_destination, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
