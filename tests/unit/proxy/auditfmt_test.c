// SPDX-License-Identifier: MIT
/*
 * auditfmt_test.c: the encoders of the pipeline sinks, byte for byte where a format is strict:
 * the human line, journald's fields (every JSON field mapped, the client's pid under a name of
 * its own), RFC 5424's header and structured data with its escapes, the OTLP log record's
 * JSON shape, and what happens when a record does not fit.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "proxy/audit.h"
#include "proxy/auditfmt.h"
#include "proxy/json.h"

static const struct auditfmt_run run = {"j1", "s1", "host1", 42};
static const struct timespec ts = {1700000000, 123456789}; /* 2023-11-14T22:13:20.123456789Z */

static struct audit_record deny_rec(void)
{
	struct audit_record r;

	memset(&r, 0, sizeof(r));
	r.event = "request";
	r.decision = "deny";
	r.kind = "https";
	r.method = "GET";
	r.url = "https://x.test/a";
	r.host = "x.test";
	r.port = 443;
	r.reason = "no rule matches";
	r.status = 403;
	r.pid = 1234;
	r.comm = "curl";
	r.exe = "/usr/bin/curl";
	r.duration_ms = -1;
	r.has_sequence = true;
	r.sequence = 7;
	return r;
}

static void test_message(void **state)
{
	struct audit_record r = deny_rec();
	char out[256];

	(void)state;
	auditfmt_message(&r, out, sizeof(out));
	assert_string_equal(out, "DENY GET https://x.test/a from curl (pid 1234): no rule matches");
	r.decision = "allow";
	r.reason = NULL;
	r.rule = "domain=x.test";
	r.comm = "a\nb\xc3\xa9";
	auditfmt_message(&r, out, sizeof(out));
	/* printable ASCII only: a newline and UTF-8 are %XX */
	assert_string_equal(
	    out, "ALLOW GET https://x.test/a from a%0Ab%C3%A9 (pid 1234) (rule: domain=x.test)");
	r.event = "end";
	r.comm = "curl";
	r.status = 200;
	r.bytes_up = 10;
	r.bytes_down = 20;
	r.duration_ms = 5;
	auditfmt_message(&r, out, sizeof(out));
	assert_string_equal(out, "END GET https://x.test/a from curl (pid 1234): status 200, 10 "
				 "bytes up, 20 down, 5 ms");
	/* cut, never past the buffer */
	assert_int_equal(auditfmt_message(&r, out, 9), 8);
	assert_string_equal(out, "END GET ");
}

/* The value of journald field name in fields[0..len), or NULL. */
static const char *jget(const char *fields, size_t len, const char *name)
{
	const char *p = fields, *end = fields + len;
	size_t n = strlen(name);

	while (p < end) {
		if (strncmp(p, name, n) == 0 && p[n] == '=')
			return p + n + 1;
		p += strlen(p) + 1;
	}
	return NULL;
}

static void test_journald(void **state)
{
	struct audit_record r = deny_rec();
	char out[AUDITFMT_MAX];
	const char *p;
	size_t len, n, count = 0;

	(void)state;
	r.would_deny = true;
	r.h2_stream = 3;
	r.decided_by = "program";
	len = auditfmt_journald(&run, &r, out, sizeof(out), &n);
	assert_true(len > 0);
	assert_int_equal(out[len - 1], '\0');
	for (p = out; p < out + len; p += strlen(p) + 1) {
		/* NAME=value, NAME upper case, digits and _, never journald's own _FIELDS */
		assert_non_null(strchr(p, '='));
		assert_true(p[0] >= 'A' && p[0] <= 'Z');
		count++;
	}
	assert_int_equal(count, n);
	assert_string_equal(jget(out, len, "PRIORITY"), "4");
	assert_string_equal(jget(out, len, "SYSLOG_IDENTIFIER"), "boundary");
	assert_string_equal(jget(out, len, "MESSAGE"), "DENY (dry run: the rules would deny) GET "
						       "https://x.test/a from curl (pid 1234): no "
						       "rule matches");
	assert_string_equal(jget(out, len, "BOUNDARY_EVENT"), "request");
	assert_string_equal(jget(out, len, "BOUNDARY_DECISION"), "deny");
	assert_string_equal(jget(out, len, "BOUNDARY_KIND"), "https");
	assert_string_equal(jget(out, len, "BOUNDARY_METHOD"), "GET");
	assert_string_equal(jget(out, len, "BOUNDARY_URL"), "https://x.test/a");
	assert_string_equal(jget(out, len, "BOUNDARY_HOST"), "x.test");
	assert_string_equal(jget(out, len, "BOUNDARY_PORT"), "443");
	assert_string_equal(jget(out, len, "BOUNDARY_REASON"), "no rule matches");
	assert_string_equal(jget(out, len, "BOUNDARY_WOULD_DENY"), "1");
	assert_string_equal(jget(out, len, "BOUNDARY_DECIDED_BY"), "program");
	assert_string_equal(jget(out, len, "BOUNDARY_HTTP"), "2");
	assert_string_equal(jget(out, len, "BOUNDARY_STREAM_ID"), "3");
	assert_string_equal(jget(out, len, "BOUNDARY_STATUS"), "403");
	assert_string_equal(jget(out, len, "BOUNDARY_CLIENT_PID"), "1234");
	assert_string_equal(jget(out, len, "BOUNDARY_PROCESS"), "curl");
	assert_string_equal(jget(out, len, "BOUNDARY_EXE"), "/usr/bin/curl");
	assert_string_equal(jget(out, len, "BOUNDARY_JAIL"), "j1");
	assert_string_equal(jget(out, len, "BOUNDARY_SESSION_ID"), "s1");
	assert_string_equal(jget(out, len, "BOUNDARY_SEQUENCE"), "7");
	assert_null(jget(out, len, "BOUNDARY_PID"));
	assert_null(jget(out, len, "BOUNDARY_RULE"));	  /* no rule: left out, not empty */
	assert_null(jget(out, len, "BOUNDARY_BYTES_UP")); /* only on "end" */
	r.decision = "allow";
	len = auditfmt_journald(&run, &r, out, sizeof(out), &n);
	assert_string_equal(jget(out, len, "PRIORITY"), "6");
	/* too small for anything but the first fields: whole fields only */
	len = auditfmt_journald(&run, &r, out, 40, &n);
	assert_true(len <= 40);
	assert_int_equal(out[len - 1], '\0');
	assert_string_equal(jget(out, len, "PRIORITY"), "6");
}

static void test_syslog(void **state)
{
	struct audit_record r = deny_rec();
	char out[AUDITFMT_MAX], want[1024];
	size_t len;

	(void)state;
	r.rule = "path=/a\"b\\c]d";
	r.reason = "tab\there \xff";
	len = auditfmt_syslog(&run, &r, &ts, out, sizeof(out));
	out[len] = '\0';
	snprintf(want, sizeof(want),
		 "<12>1 2023-11-14T22:13:20.123456Z host1 boundary 42 request [" AUDITFMT_SD_ID
		 " event=\"request\" decision=\"deny\" kind=\"https\" method=\"GET\" "
		 "url=\"https://x.test/a\" host=\"x.test\" port=\"443\" "
		 "rule=\"path=/a\\\"b\\\\c\\]d\" reason=\"tab%%09here %%FF\" status=\"403\" "
		 "pid=\"1234\" comm=\"curl\" exe=\"/usr/bin/curl\" jail=\"j1\" session_id=\"s1\" "
		 "sequence=\"7\"] DENY GET https://x.test/a from curl (pid 1234): tab%%09here "
		 "%%FF (rule: path=/a\"b\\c]d)");
	assert_string_equal(out, want);
	/* allow is informational; a hostname with a space is "-" */
	r.decision = "allow";
	len = auditfmt_syslog(&(struct auditfmt_run){NULL, NULL, "a b", 1}, &r, &ts, out,
			      sizeof(out));
	out[len] = '\0';
	assert_memory_equal(out, "<14>1 2023-11-14T22:13:20.123456Z - boundary 1 request [", 56);
	/* too small: parameters dropped whole, the element still closed */
	len = auditfmt_syslog(&run, &r, &ts, out, 120);
	assert_true(len <= 120);
	out[len] = '\0';
	assert_non_null(strstr(out, "[" AUDITFMT_SD_ID));
	assert_non_null(strchr(out, ']'));
	assert_null(strstr(out, "url=\"https://x.t\""));
}

/* out[0..len) is one JSON value, by the strict reader. */
static void assert_json(const char *out, size_t len)
{
	static char scratch[3 * AUDITFMT_MAX];
	struct json_reader jr;

	json_init(&jr, out, len, scratch, sizeof(scratch), 16, false);
	assert_int_equal(json_skip_value(&jr, 0), 0);
	json_skip_ws(&jr);
	assert_ptr_equal(jr.p, jr.end);
}

static const char want_head[] =
    "{\"resourceLogs\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\","
    "\"value\":{\"stringValue\":\"boundary\"}},{\"key\":\"boundary.jail\","
    "\"value\":{\"stringValue\":\"j1\"}},{\"key\":\"boundary.session_id\","
    "\"value\":{\"stringValue\":\"s1\"}}]},\"scopeLogs\":[{\"scope\":{\"name\":"
    "\"boundary\",\"version\":";

static void test_otlp(void **state)
{
	struct audit_record r = deny_rec();
	char out[AUDITFMT_MAX], body[3 * AUDITFMT_MAX];
	size_t len, blen;

	(void)state;
	r.would_deny = true;
	r.url = "https://x.test/\"q\"\x01";
	len = auditfmt_otlp_record(&r, &ts, out, sizeof(out));
	assert_true(len > 0);
	assert_json(out, len);
	out[len] = '\0';
	assert_memory_equal(
	    out,
	    "{\"timeUnixNano\":\"1700000000123456789\",\"observedTimeUnixNano\":"
	    "\"1700000000123456789\",\"severityNumber\":13,\"severityText\":\"WARN\","
	    "\"body\":{\"stringValue\":\"DENY (dry run: the rules would deny) GET "
	    "https://x.test/\\\"q\\\"%01 from",
	    strlen("{\"timeUnixNano\":\"1700000000123456789\",\"observedTimeUnixNano\":"
		   "\"1700000000123456789\",\"severityNumber\":13,\"severityText\":"
		   "\"WARN\",\"body\":{\"stringValue\":\"DENY GET "
		   "https://x.test/\\\"q\\\"%01 from"));
	assert_non_null(strstr(out, "{\"key\":\"http.request.method\",\"value\":{\"stringValue\":"
				    "\"GET\"}}"));
	assert_non_null(strstr(out, "{\"key\":\"url.full\",\"value\":{\"stringValue\":"
				    "\"https://x.test/\\\"q\\\"\\u0001\"}}"));
	assert_non_null(strstr(out, "{\"key\":\"server.port\",\"value\":{\"intValue\":\"443\"}}"));
	assert_non_null(strstr(
	    out, "{\"key\":\"http.response.status_code\",\"value\":{\"intValue\":\"403\"}}"));
	assert_non_null(strstr(out, "{\"key\":\"process.pid\",\"value\":{\"intValue\":\"1234\"}}"));
	assert_non_null(strstr(out, "{\"key\":\"process.executable.name\",\"value\":{"
				    "\"stringValue\":\"curl\"}}"));
	assert_non_null(strstr(out, "{\"key\":\"boundary.decision\",\"value\":{\"stringValue\":"
				    "\"deny\"}}"));
	assert_non_null(strstr(out, "{\"key\":\"boundary.would_deny\",\"value\":{\"boolValue\":"
				    "true}}"));
	assert_non_null(
	    strstr(out, "{\"key\":\"boundary.sequence\",\"value\":{\"intValue\":\"7\"}}"));
	/* the run's fields are the resource's, not each record's */
	assert_null(strstr(out, "boundary.jail"));

	/* the envelope around two records */
	blen = auditfmt_otlp_head(&run, body, sizeof(body));
	assert_true(blen > 0);
	memcpy(body + blen, out, len);
	blen += len;
	body[blen++] = ',';
	r.decision = "allow";
	blen += auditfmt_otlp_record(&r, &ts, body + blen, sizeof(body) - blen);
	memcpy(body + blen, AUDITFMT_OTLP_TAIL, strlen(AUDITFMT_OTLP_TAIL));
	blen += strlen(AUDITFMT_OTLP_TAIL);
	assert_json(body, blen);
	assert_memory_equal(body, want_head, strlen(want_head));
	/* too small: attributes dropped whole, still one JSON value */
	len = auditfmt_otlp_record(&r, &ts, out, 400);
	assert_true(len > 0 && len <= 400);
	assert_json(out, len);
	assert_int_equal(auditfmt_otlp_record(&r, &ts, out, 20), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_message),
	    cmocka_unit_test(test_journald),
	    cmocka_unit_test(test_syslog),
	    cmocka_unit_test(test_otlp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
