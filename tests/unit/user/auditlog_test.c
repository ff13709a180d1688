// SPDX-License-Identifier: MIT
/*
 * auditlog_test.c: the audit record reader. Records as proxy/audit.c writes them read back field
 * by field; string escapes decode to the bytes that were encoded; and everything that is not
 * strict JSON, or not a record, is refused with the right code at the right place.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/audit.h"
#include "user/auditlog.h"

static struct auditlog_record rec;
static char dec[AUDITLOG_MAX_LINE + 1];

static ssize_t parse(const char *line, size_t *pos)
{
	size_t p;

	return auditlog_parse(line, strlen(line), &rec, dec, sizeof(dec), pos ? pos : &p);
}

/* line must be refused with err, found at byte pos (SIZE_MAX: anywhere). */
static void refused(const char *line, int err, size_t pos)
{
	size_t at = 0;
	ssize_t r = parse(line, &at);

	if (r != -err)
		fail_msg("%s: got %zd (%s), want -%d (%s)", line, r, auditlog_strerror((int)r), err,
			 auditlog_strerror(err));
	if (pos != SIZE_MAX && at != pos)
		fail_msg("%s: error at %zu, want %zu", line, at, pos);
}

static void test_records_as_written(void **state)
{
	const char *deny =
	    "{\"time\":\"2026-11-23T07:34:16.522Z\",\"event\":\"request\",\"decision\":\"deny\","
	    "\"kind\":\"http\",\"method\":\"GET\",\"url\":\"http://example.com/\","
	    "\"host\":\"example.com\",\"port\":80,\"reason\":\"no rule matches\",\"status\":403,"
	    "\"pid\":7584,\"comm\":\"curl\",\"jail\":\"7573-812315\"}";
	const char *end = "{\"event\":\"end\",\"decision\":\"allow\",\"kind\":\"https\","
			  "\"host\":\"api.github.com\",\"rule\":\"domain=*.github.com\","
			  "\"bytes_up\":0,\"bytes_down\":9223372036854775807,\"duration_ms\":12}";
	const char *dns = "{\"event\":\"dns\",\"decision\":\"synthetic\",\"kind\":\"dns\","
			  "\"host\":\"example.com\",\"dns_type\":\"AAAA\"}";

	(void)state;
	assert_int_equal(parse(deny, NULL), strlen(deny));
	assert_string_equal(rec.time, "2026-11-23T07:34:16.522Z");
	assert_string_equal(rec.event, "request");
	assert_string_equal(rec.decision, "deny");
	assert_string_equal(rec.kind, "http");
	assert_string_equal(rec.method, "GET");
	assert_string_equal(rec.url, "http://example.com/");
	assert_string_equal(rec.host, "example.com");
	assert_string_equal(rec.reason, "no rule matches");
	assert_string_equal(rec.comm, "curl");
	assert_string_equal(rec.jail, "7573-812315");
	assert_int_equal(rec.port, 80);
	assert_int_equal(rec.status, 403);
	assert_int_equal(rec.pid, 7584);
	assert_null(rec.rule);
	assert_null(rec.dns_type);
	assert_int_equal(rec.bytes_up, -1);
	assert_int_equal(rec.duration_ms, -1);
	assert_int_equal(rec.count, -1);

	assert_int_equal(parse(end, NULL), strlen(end));
	assert_string_equal(rec.rule, "domain=*.github.com");
	assert_int_equal(rec.bytes_up, 0);
	assert_true(rec.bytes_down == INT64_MAX);
	assert_int_equal(rec.duration_ms, 12);
	assert_null(rec.method);

	assert_int_equal(parse(dns, NULL), strlen(dns));
	assert_string_equal(rec.dns_type, "AAAA");
	assert_int_equal(parse("{\"event\":\"dropped\",\"count\":3,\"jail\":\"x\"}", NULL), 40);
	assert_int_equal(rec.count, 3);
}

/* What audit_json_string() writes, this reads back as the same bytes. */
static void test_round_trip_with_the_writer(void **state)
{
	static const char *const strings[] = {
	    "plain",
	    "a\"b\\c",
	    "line\nfeed\ttab\x01\x1f\x7f",
	    "caf\xc3\xa9 \xf0\x9f\x9a\xab",
	    "/slash/",
	    "\xe2\x80\xa8",
	    "",
	};
	char line[512];
	size_t i, len;

	(void)state;
	for (i = 0; i < sizeof(strings) / sizeof(strings[0]); i++) {
		len = (size_t)snprintf(line, sizeof(line), "{\"event\":\"x\",\"host\":");
		assert_int_equal(audit_json_string(line, sizeof(line), &len, strings[i]), 0);
		assert_true(len + 2 < sizeof(line));
		line[len++] = '}';
		line[len] = '\0';
		assert_int_equal(parse(line, NULL), len);
		assert_string_equal(rec.host, strings[i]);
	}
	/* Bytes that were not UTF-8 come back as the code points of their values. */
	len = (size_t)snprintf(line, sizeof(line), "{\"event\":\"x\",\"host\":");
	assert_int_equal(audit_json_string(line, sizeof(line), &len, "\xff"), 0);
	line[len++] = '}';
	line[len] = '\0';
	assert_int_equal(parse(line, NULL), len);
	assert_string_equal(rec.host, "\xc3\xbf");
}

static void test_escapes(void **state)
{
	(void)state;
	assert_true(parse("{\"event\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"}", NULL) > 0);
	assert_string_equal(rec.event, "\"\\/\b\f\n\r\t");
	assert_true(parse("{\"event\":\"\\u0041\\u00e9\\u20AC\"}", NULL) > 0);
	assert_string_equal(rec.event, "A\xc3\xa9\xe2\x82\xac");
	/* A surrogate pair is one code point, U+1F6AB. */
	assert_true(parse("{\"event\":\"\\ud83d\\udeab!\"}", NULL) > 0);
	assert_string_equal(rec.event, "\xf0\x9f\x9a\xab!");
	assert_true(parse("{\"event\":\"\\uDBFF\\uDFFF\"}", NULL) > 0);
	assert_string_equal(rec.event, "\xf4\x8f\xbf\xbf");

	refused("{\"event\":\"\\u0000\"}", AUDITLOG_E_ESCAPE, 16);
	refused("{\"event\":\"a\\ud83d\"}", AUDITLOG_E_ESCAPE, SIZE_MAX);
	refused("{\"event\":\"\\ud83dx\"}", AUDITLOG_E_ESCAPE, SIZE_MAX);
	refused("{\"event\":\"\\ud83d\\u0041\"}", AUDITLOG_E_ESCAPE, SIZE_MAX);
	refused("{\"event\":\"\\udeab\"}", AUDITLOG_E_ESCAPE, SIZE_MAX);
	refused("{\"event\":\"\\u12g4\"}", AUDITLOG_E_ESCAPE, SIZE_MAX);
	refused("{\"event\":\"\\u12\"}", AUDITLOG_E_ESCAPE, SIZE_MAX);
	refused("{\"event\":\"\\x41\"}", AUDITLOG_E_ESCAPE, 11);
	refused("{\"event\":\"\\'\"}", AUDITLOG_E_ESCAPE, SIZE_MAX);
	refused("{\"event\":\"\\", AUDITLOG_E_STRING, SIZE_MAX);
}

static void test_strings_are_strict(void **state)
{
	size_t at;

	(void)state;
	refused("{\"event\":\"open", AUDITLOG_E_STRING, 14);
	refused("{\"event\":\"tab\there\"}", AUDITLOG_E_STRING, 13);
	refused("{\"event\":\"nl\nhere\"}", AUDITLOG_E_STRING, 12);
	refused("{\"event\":\"\xc0\xaf\"}", AUDITLOG_E_UTF8, 10);     /* overlong */
	refused("{\"event\":\"\xed\xa0\x80\"}", AUDITLOG_E_UTF8, 10); /* a surrogate */
	refused("{\"event\":\"\xf4\x90\x80\x80\"}", AUDITLOG_E_UTF8, 10);
	refused("{\"event\":\"\x80\"}", AUDITLOG_E_UTF8, 10);
	refused("{\"event\":\"\xe2\x82\"}", AUDITLOG_E_UTF8, 10); /* cut short */
	refused("{\"event\":'single'}", AUDITLOG_E_SYNTAX, 9);
	refused("{event:\"x\"}", AUDITLOG_E_SYNTAX, 1);
	/* A NUL byte anywhere is an error, never the end of the line. */
	assert_int_equal(auditlog_parse("{\"event\":\"a\0b\"}", 15, &rec, dec, sizeof(dec), &at),
			 -AUDITLOG_E_STRING);
	assert_int_equal(at, 11);
	assert_int_equal(auditlog_parse("{\"event\":\"a\"}\0", 14, &rec, dec, sizeof(dec), &at),
			 -AUDITLOG_E_TRAILING);
}

static void test_numbers(void **state)
{
	(void)state;
	assert_true(parse("{\"event\":\"x\",\"port\":0,\"pid\":4294967296}", NULL) > 0);
	assert_int_equal(rec.port, 0);
	assert_true(rec.pid == 4294967296LL);
	assert_true(parse("{\"event\":\"x\",\"port\":65535}", NULL) > 0);
	/* Unknown keys may hold any number JSON can write. */
	assert_true(
	    parse("{\"event\":\"x\",\"n\":-0.5e+10,\"m\":1E3,\"k\":123456789012345678901234}",
		  NULL) > 0);

	refused("{\"event\":\"x\",\"port\":65536}", AUDITLOG_E_RANGE, 20);
	refused("{\"event\":\"x\",\"pid\":-1}", AUDITLOG_E_RANGE, 19);
	refused("{\"event\":\"x\",\"pid\":1.5}", AUDITLOG_E_RANGE, 19);
	refused("{\"event\":\"x\",\"pid\":1e2}", AUDITLOG_E_RANGE, 19);
	refused("{\"event\":\"x\",\"pid\":9223372036854775808}", AUDITLOG_E_RANGE, 19);
	refused("{\"event\":\"x\",\"n\":01}", AUDITLOG_E_NUMBER, 18);
	refused("{\"event\":\"x\",\"n\":1.}", AUDITLOG_E_NUMBER, 19);
	refused("{\"event\":\"x\",\"n\":.5}", AUDITLOG_E_SYNTAX, 17);
	refused("{\"event\":\"x\",\"n\":+1}", AUDITLOG_E_SYNTAX, 17);
	refused("{\"event\":\"x\",\"n\":1e}", AUDITLOG_E_NUMBER, 19);
	refused("{\"event\":\"x\",\"n\":-}", AUDITLOG_E_NUMBER, 18);
	refused("{\"event\":\"x\",\"n\":0x10}", AUDITLOG_E_SYNTAX, 18);
}

static void test_types_and_literals(void **state)
{
	(void)state;
	assert_true(parse("{\"event\":\"x\",\"a\":true,\"b\":false,\"c\":null}", NULL) > 0);
	/* null is as good as absent. */
	assert_true(parse("{\"event\":\"x\",\"host\":null,\"port\":null}", NULL) > 0);
	assert_null(rec.host);
	assert_int_equal(rec.port, -1);

	refused("{\"event\":\"x\",\"port\":\"80\"}", AUDITLOG_E_TYPE, 20);
	refused("{\"event\":\"x\",\"host\":5}", AUDITLOG_E_TYPE, 20);
	refused("{\"event\":\"x\",\"host\":true}", AUDITLOG_E_TYPE, 20);
	refused("{\"event\":\"x\",\"host\":[\"a\"]}", AUDITLOG_E_TYPE, 20);
	refused("{\"event\":\"x\",\"pid\":{}}", AUDITLOG_E_TYPE, 19);
	refused("{\"event\":\"x\",\"a\":tru}", AUDITLOG_E_SYNTAX, 17);
	refused("{\"event\":\"x\",\"a\":True}", AUDITLOG_E_SYNTAX, 17);
	refused("{\"event\":\"x\",\"a\":nul}", AUDITLOG_E_SYNTAX, 17);
	refused("{\"event\":\"x\",\"host\":nulll}", AUDITLOG_E_SYNTAX, 24);
}

static void test_unknown_keys_are_skipped(void **state)
{
	char deep[256];
	int i, n = 0;

	(void)state;
	assert_true(parse("{\"new\":{\"a\":[1,{\"b\":[]},\"\\u00e9\"],\"c\":{}},\"event\":\"x\","
			  "\"list\":[],\"new\":\"twice is fine for a key we do not read\"}",
			  NULL) > 0);
	assert_string_equal(rec.event, "x");

	/* 32 levels nest; 33 do not. */
	n += snprintf(deep + n, sizeof(deep) - (size_t)n, "{\"event\":\"x\",\"d\":");
	for (i = 0; i < 32; i++)
		deep[n++] = '[';
	for (i = 0; i < 32; i++)
		deep[n++] = ']';
	deep[n++] = '}';
	deep[n] = '\0';
	assert_true(parse(deep, NULL) > 0);
	n = snprintf(deep, sizeof(deep), "{\"event\":\"x\",\"d\":");
	for (i = 0; i < 33; i++)
		deep[n++] = '[';
	deep[n] = '\0';
	refused(deep, AUDITLOG_E_DEPTH, 49);

	refused("{\"event\":\"x\",\"a\":[1,]}", AUDITLOG_E_SYNTAX, 20);
	refused("{\"event\":\"x\",\"a\":[1 2]}", AUDITLOG_E_SYNTAX, 20);
	refused("{\"event\":\"x\",\"a\":{\"b\"}}", AUDITLOG_E_SYNTAX, 21);
	refused("{\"event\":\"x\",\"a\":{1:2}}", AUDITLOG_E_SYNTAX, 18);
}

static void test_objects_and_lines(void **state)
{
	const char *spaced = " \t{ \"event\" : \"x\" , \"pid\" : 7 }  \r";

	(void)state;
	assert_int_equal(parse(spaced, NULL), strlen(spaced));
	assert_int_equal(rec.pid, 7);

	refused("", AUDITLOG_E_SYNTAX, 0);
	refused("   ", AUDITLOG_E_SYNTAX, 3);
	refused("not json", AUDITLOG_E_SYNTAX, SIZE_MAX);
	refused("[1,2]", AUDITLOG_E_NOT_OBJECT, 0);
	refused("\"event\"", AUDITLOG_E_NOT_OBJECT, 0);
	refused("  null", AUDITLOG_E_NOT_OBJECT, 2);
	refused("[1,2] x", AUDITLOG_E_TRAILING, 6);
	refused("{}", AUDITLOG_E_NO_EVENT, 0);
	refused("{\"event\":null}", AUDITLOG_E_NO_EVENT, 0);
	refused("{\"host\":\"a\"}", AUDITLOG_E_NO_EVENT, 0);
	refused("{\"event\":\"x\"", AUDITLOG_E_SYNTAX, 12);
	refused("{\"event\":\"x\",}", AUDITLOG_E_SYNTAX, 13);
	refused("{,\"event\":\"x\"}", AUDITLOG_E_SYNTAX, 1);
	refused("{\"event\" \"x\"}", AUDITLOG_E_SYNTAX, 9);
	refused("{\"event\":\"x\"}{}", AUDITLOG_E_TRAILING, 13);
	refused("{\"event\":\"x\"} x", AUDITLOG_E_TRAILING, 14);
	/* Two values for a field: which one would count? Neither. */
	refused("{\"event\":\"x\",\"host\":\"a\",\"host\":\"b\"}", AUDITLOG_E_DUPLICATE, 24);
	refused("{\"event\":\"x\",\"event\":\"y\"}", AUDITLOG_E_DUPLICATE, 13);
	refused("{\"pid\":null,\"event\":\"x\",\"pid\":1}", AUDITLOG_E_DUPLICATE, 24);
}

static void test_length_limits(void **state)
{
	char *line = malloc(AUDITLOG_MAX_LINE + 2), small[8];
	size_t n, at;

	(void)state;
	assert_non_null(line);
	/* The longest line: one long unknown string. */
	n = (size_t)snprintf(line, AUDITLOG_MAX_LINE, "{\"event\":\"x\",\"pad\":\"");
	memset(line + n, 'a', AUDITLOG_MAX_LINE - n - 2);
	memcpy(line + AUDITLOG_MAX_LINE - 2, "\"}", 2);
	assert_int_equal(auditlog_parse(line, AUDITLOG_MAX_LINE, &rec, dec, sizeof(dec), &at),
			 AUDITLOG_MAX_LINE);
	/* One byte more is refused before it is read. */
	line[AUDITLOG_MAX_LINE] = ' ';
	assert_int_equal(auditlog_parse(line, AUDITLOG_MAX_LINE + 1, &rec, dec, sizeof(dec), &at),
			 -AUDITLOG_E_TOO_LONG);
	/* A buffer that breaks the contract is said, not overrun. */
	assert_int_equal(auditlog_parse("{\"event\":\"x\"}", 13, &rec, small, sizeof(small), &at),
			 -AUDITLOG_E_TOO_LONG);
	free(line);
}

static void test_strerror(void **state)
{
	int i;

	(void)state;
	for (i = AUDITLOG_E_SYNTAX; i <= AUDITLOG_E_TOO_LONG; i++) {
		assert_string_not_equal(auditlog_strerror(i), "unknown error");
		assert_string_equal(auditlog_strerror(-i), auditlog_strerror(i));
	}
	assert_string_equal(auditlog_strerror(999), "unknown error");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_records_as_written),
	    cmocka_unit_test(test_round_trip_with_the_writer),
	    cmocka_unit_test(test_escapes),
	    cmocka_unit_test(test_strings_are_strict),
	    cmocka_unit_test(test_numbers),
	    cmocka_unit_test(test_types_and_literals),
	    cmocka_unit_test(test_unknown_keys_are_skipped),
	    cmocka_unit_test(test_objects_and_lines),
	    cmocka_unit_test(test_length_limits),
	    cmocka_unit_test(test_strerror),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
