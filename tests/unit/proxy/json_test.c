// SPDX-License-Identifier: MIT
/*
 * json_test.c: the JSON reader. A strict reader decodes escapes and refuses what is not RFC 8259
 * with the right code at the right place; a loose one keeps a message readable (escapes made
 * spaces or '?', cut to its buffer) and counts every value against the depth.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "proxy/json.h"

/* The first string of s, read strictly or loosely into a cap-byte buffer; its code back. */
static int string_of(const char *s, bool loose, size_t cap, char *out, size_t *at)
{
	struct json_reader r;
	const char *got = NULL;
	int ret;

	json_init(&r, s, strlen(s), out, cap, 4, loose);
	ret = json_string(&r, &got);
	*at = (size_t)(r.p - r.start);
	if (ret == 0)
		assert_ptr_equal(got, out);
	return ret;
}

static void test_strict_strings(void **state)
{
	char out[64];
	size_t at;

	(void)state;
	assert_int_equal(string_of("\"a\\nb\\u00e9\\ud83d\\ude00\"", false, sizeof(out), out, &at),
			 0);
	assert_string_equal(out, "a\nb\xc3\xa9\xf0\x9f\x98\x80");
	assert_int_equal(at, 24);
	assert_int_equal(string_of("\"\\u0000\"", false, sizeof(out), out, &at), -JSON_E_ESCAPE);
	assert_int_equal(string_of("\"\\udeab\"", false, sizeof(out), out, &at), -JSON_E_ESCAPE);
	assert_int_equal(string_of("\"\\x41\"", false, sizeof(out), out, &at), -JSON_E_ESCAPE);
	assert_int_equal(at, 2);
	assert_int_equal(string_of("\"a\x01\"", false, sizeof(out), out, &at), -JSON_E_STRING);
	assert_int_equal(string_of("\"open", false, sizeof(out), out, &at), -JSON_E_STRING);
	assert_int_equal(string_of("\"\xc0\xaf\"", false, sizeof(out), out, &at), -JSON_E_UTF8);
	assert_int_equal(string_of("x", false, sizeof(out), out, &at), -JSON_E_SYNTAX);
}

static void test_loose_strings(void **state)
{
	char out[64], small[4];
	size_t at;

	(void)state;
	assert_int_equal(string_of("\"a\\nb\\u00e9\x7f\xff\"", true, sizeof(out), out, &at), 0);
	assert_string_equal(out, "a b? \xff");
	assert_int_equal(string_of("\"abcdef\"", true, sizeof(small), small, &at), 0);
	assert_string_equal(small, "abc");
	assert_int_equal(at, 8);
	assert_int_equal(string_of("\"\\u12g4\"", true, sizeof(out), out, &at), -JSON_E_ESCAPE);
	assert_int_equal(string_of("\"a\x01\"", true, sizeof(out), out, &at), -JSON_E_STRING);
}

static void test_numbers(void **state)
{
	struct json_reader r;
	char out[8];
	int64_t v;
	bool whole;

	(void)state;
	json_init(&r, "-42", 3, out, sizeof(out), 4, false);
	assert_int_equal(json_number(&r, &v, &whole), 0);
	assert_true(whole);
	assert_int_equal(v, -42);
	json_init(&r, "1.5e3", 5, out, sizeof(out), 4, false);
	assert_int_equal(json_number(&r, &v, &whole), 0);
	assert_false(whole);
	json_init(&r, "99999999999999999999", 20, out, sizeof(out), 4, false);
	assert_int_equal(json_number(&r, &v, &whole), 0);
	assert_false(whole);
	json_init(&r, "01", 2, out, sizeof(out), 4, false);
	assert_int_equal(json_number(&r, &v, &whole), -JSON_E_NUMBER);
	json_init(&r, "1.", 2, out, sizeof(out), 4, false);
	assert_int_equal(json_number(&r, &v, &whole), -JSON_E_NUMBER);
}

/* json_skip_value() on all of s: its code, and 1 more if it stopped short of the end. */
static int skipped(const char *s, bool loose, int max_depth)
{
	struct json_reader r;
	char out[256];
	int ret;

	json_init(&r, s, strlen(s), out, loose ? 8 : sizeof(out), max_depth, loose);
	ret = json_skip_value(&r, 1);
	return ret == 0 && r.p != r.end ? 1 : ret;
}

static void test_skip(void **state)
{
	(void)state;
	assert_int_equal(
	    skipped("{\"a\": [1, {\"b\": null}, \"long string\"], \"c\": true}", false, 4), 0);
	assert_int_equal(skipped("[1,]", false, 4), -JSON_E_SYNTAX);
	assert_int_equal(skipped("{\"a\" 1}", false, 4), -JSON_E_SYNTAX);
	assert_int_equal(skipped("nul", false, 4), -JSON_E_SYNTAX);
	assert_int_equal(skipped("1.2.3", false, 4), 1);
	assert_int_equal(skipped("1.2.3", true, 4), 0);
	assert_int_equal(skipped("\"a long key, cut\"", true, 4), 0);
	/* Strict: only containers count against the depth; loose: every value does. */
	assert_int_equal(skipped("[[[[1]]]]", false, 4), 0);
	assert_int_equal(skipped("[[[[[1]]]]]", false, 4), -JSON_E_DEPTH);
	assert_int_equal(skipped("[[[[1]]]]", true, 4), -JSON_E_DEPTH);
	assert_int_equal(skipped("[[[[]]]]", true, 4), 0);
}

static void test_strerror(void **state)
{
	(void)state;
	assert_string_equal(json_strerror(-JSON_E_SYNTAX), "not JSON");
	assert_string_equal(json_strerror(JSON_E_DEPTH), "objects or arrays nested too deep");
	assert_string_equal(json_strerror(99), "unknown error");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_strict_strings), cmocka_unit_test(test_loose_strings),
	    cmocka_unit_test(test_numbers),	   cmocka_unit_test(test_skip),
	    cmocka_unit_test(test_strerror),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
