// SPDX-License-Identifier: MIT
/*
 * jseval_test.c: the --js evaluator without a process: the result forms as httpjail reads them,
 * the ES2015 string and array methods the prelude adds to MuJS, the memory cap, exceptions, and
 * the compile check's line and column.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "proxy/jseval.h"

static const char req[] = "{\"url\":\"https://api.github.com/repos?x=1\",\"method\":\"GET\","
			  "\"scheme\":\"https\",\"host\":\"api.github.com\",\"path\":\"/repos\","
			  "\"requester_ip\":\"10.0.0.2\",\"port\":443,\"pid\":7,\"comm\":\"curl\"}";

static void want(const char *code, const char *reply)
{
	char out[JSEVAL_LINE_MAX];

	if (jseval_once(code, req, 8u << 20, out, sizeof(out)) != 0)
		fail_msg("%s: does not compile", code);
	if (strcmp(out, reply) != 0)
		fail_msg("%s: got \"%s\", want \"%s\"", code, out, reply);
}

static void test_results(void **state)
{
	(void)state;
	want("true", "true");
	want("false", "false");
	want("r.host === 'api.github.com' && r.method === 'GET'", "true");
	want("r.port === 443 && r.pid === 7 && r.comm === 'curl'", "true");
	want("'a string'", "a string");
	want("'two\\nlines'", "two lines");
	want("({allow: false, deny_message: 'no ' + r.host})",
	     "{\"allow\":false,\"deny_message\":\"no api.github.com\"}");
	want("({allow: {max_tx_bytes: 10}})", "{\"allow\":{\"max_tx_bytes\":10}}");
	want("42", "false");
	want("null", "false");
	want("undefined", "false");
	want("(function () { return r.path; })()", "/repos");
	/* r is made with the JSON.parse of the start, whatever the rule does to the global */
	want("JSON.parse = function () { return {}; }; r.scheme", "https");
}

static void test_prelude(void **state)
{
	(void)state;
	want("'abc'.startsWith('ab') && !'abc'.startsWith('b') && 'abc'.startsWith('b', 1)",
	     "true");
	want("'abc'.endsWith('bc') && !'abc'.endsWith('b') && 'abc'.endsWith('b', 2)", "true");
	want("'abc'.includes('b') && !'abc'.includes('d') && !'abc'.includes('a', 1)", "true");
	want("[1, NaN, 'x'].includes(NaN) && ['a'].includes('a') && ![1].includes('1')", "true");
	want("[3, 4, 5].find(function (x) { return x > 3; }) === 4", "true");
	want("[3, 4, 5].findIndex(function (x) { return x > 9; }) === -1", "true");
	want("'ab'.repeat(3) === 'ababab'", "true");
	want("Object.assign({a: 1}, {b: 2}).b === 2", "true");
	want("r.host.endsWith('.github.com')", "true");
}

static void test_failures(void **state)
{
	char out[JSEVAL_LINE_MAX];

	(void)state;
	assert_int_equal(jseval_once("var a = []; while (true) a.push('x' + a.length);", req,
				     4u << 20, out, sizeof(out)),
			 0);
	assert_string_equal(out, "!memory");
	assert_int_equal(jseval_once("throw new Error('nope')", req, 8u << 20, out, sizeof(out)),
			 0);
	assert_string_equal(out, "!error the rule threw Error: nope");
	assert_int_equal(jseval_once("r.host.", req, 8u << 20, out, sizeof(out)), -22);
}

static void test_check(void **state)
{
	char err[256];

	(void)state;
	assert_int_equal(jseval_check("--js", "r.host === 'x'", err, sizeof(err)), 0);
	assert_int_equal(jseval_check("rules.js", "var a = 1;\n  a +* 2", err, sizeof(err)), -22);
	assert_string_equal(err, "rules.js:2:6: unexpected token in expression: '*'");
	/* ES2015 syntax MuJS lacks: a clear error, with its place */
	assert_int_equal(jseval_check("--js", "const x = 1; x", err, sizeof(err)), -22);
	assert_non_null(strstr(err, "--js:1:"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_results),
	    cmocka_unit_test(test_prelude),
	    cmocka_unit_test(test_failures),
	    cmocka_unit_test(test_check),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
