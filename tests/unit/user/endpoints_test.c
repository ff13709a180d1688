// SPDX-License-Identifier: MIT
/*
 * endpoints_test.c: harden-runner's allowed-endpoints entries read one by one by
 * endpoints_next(): the rules, where the reading stops, and each error's line, column and words.
 * The whole grammar is in tests/conformance/endpoints.tsv, through the command line.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "user/endpoints.h"

/* Every rule of list, joined by " || " into got (NUL-terminated); the last return. */
static int convert(const char *list, char *got, size_t gotlen, char *err, size_t errlen)
{
	char rule[ENDPOINTS_RULE_MAX];
	size_t pos = 0, n = 0;
	int ret;

	got[0] = '\0';
	while ((ret = endpoints_next(list, &pos, rule, sizeof(rule), err, errlen)) == 1)
		n += (size_t)snprintf(got + n, gotlen - n, "%s%s", n ? " || " : "", rule);
	return ret;
}

static void check_rules(const char *list, const char *want)
{
	char got[1024], err[256] = "";
	int ret = convert(list, got, sizeof(got), err, sizeof(err));

	if (ret != 0 || strcmp(got, want) != 0)
		fail_msg("%s: got \"%s\" (%d %s), want \"%s\"", list, got, ret, err, want);
}

static void check_error(const char *list, const char *want)
{
	char got[1024], err[256] = "";
	int ret = convert(list, got, sizeof(got), err, sizeof(err));

	if (ret != -EINVAL || strcmp(err, want) != 0)
		fail_msg("%s: got %d \"%s\", want -EINVAL \"%s\"", list, ret, err, want);
}

static void test_entries(void **state)
{
	(void)state;
	check_rules("api.github.com:443", "domain=api.github.com port=443");
	check_rules("api.github.com:443 *.blob.core.windows.net:443\n\tgithub.com:22\n",
		    "domain=api.github.com port=443 || domain=*.blob.core.windows.net port=443 || "
		    "domain=github.com port=22");
	check_rules("[::1]:8080", "domain=[::1] port=8080");
	check_rules("127.0.0.1:5432", "domain=127.0.0.1 port=5432");
	check_rules("", "");
	check_rules(" \n\t\r\n", "");
}

/* One call reads one entry and says where it stopped; at the end it returns 0 and stays. */
static void test_positions(void **state)
{
	const char *list = "  a.test:1\n b.test:2  ";
	char rule[ENDPOINTS_RULE_MAX], err[128];
	size_t pos = 0;

	(void)state;
	assert_int_equal(endpoints_next(list, &pos, rule, sizeof(rule), err, sizeof(err)), 1);
	assert_string_equal(rule, "domain=a.test port=1");
	assert_int_equal(pos, 10);
	assert_int_equal(endpoints_next(list, &pos, rule, sizeof(rule), err, sizeof(err)), 1);
	assert_string_equal(rule, "domain=b.test port=2");
	assert_int_equal(pos, 20);
	assert_int_equal(endpoints_next(list, &pos, rule, sizeof(rule), err, sizeof(err)), 0);
	assert_int_equal(endpoints_next(list, &pos, rule, sizeof(rule), err, sizeof(err)), 0);
	assert_int_equal(pos, strlen(list));
}

static void test_errors(void **state)
{
	(void)state;
	check_error("github.com", "line 1, column 11: \"github.com\": no port (write host:port, as "
				  "api.github.com:443)");
	check_error("a.test:443\n\n  b.test:99999",
		    "line 3, column 10: \"b.test:99999\": the port is not a number from 1 to "
		    "65535");
	check_error("a.*.test:443", "line 1, column 3: \"a.*.test:443\": a wildcard is only a "
				    "whole first label (*.example.com)");
	check_error("https://x.test:443",
		    "line 1, column 6: \"https://x.test:443\": more than one colon "
		    "(an IPv6 address goes in brackets: [::1]:443)");
	/* A byte that is not text is named, never copied into the message. */
	check_error("a\x1b[31m.test:443", "line 1, column 2: \"a\\x1b[31m.test:443\": byte \\x1b "
					  "cannot be in a host name");
	check_error("<b>:443", "line 1, column 1: \"<b>:443\": '<' cannot be in a host name");
}

/* A rule that does not fit is an error, never a rule cut short. */
static void test_small_buffer(void **state)
{
	char rule[16], err[128];
	size_t pos = 0;

	(void)state;
	assert_int_equal(
	    endpoints_next("api.github.com:443", &pos, rule, sizeof(rule), err, sizeof(err)),
	    -EINVAL);
	assert_non_null(strstr(err, "too long"));
	assert_int_equal(pos, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_entries),
	    cmocka_unit_test(test_positions),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_small_buffer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
