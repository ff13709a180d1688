// SPDX-License-Identifier: MIT
/*
 * decide_test.c: the host a refusal suggests a rule for: the Host without its port, an IPv6
 * literal kept in its brackets, and never more than the room; the strings audit records give
 * who decided and what a stream was; the sequence numbers decisions take and the session fields
 * an allowed request to an inject target gets.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "proxy/decide.c"

static void test_host_name_only(void **state)
{
	char out[64];

	(void)state;
	host_name_only("example.com", out, sizeof(out));
	assert_string_equal(out, "example.com");
	host_name_only("example.com:8080", out, sizeof(out));
	assert_string_equal(out, "example.com");
	host_name_only("[2001:db8::1]:443", out, sizeof(out));
	assert_string_equal(out, "[2001:db8::1]");
	host_name_only("[2001:db8::1]", out, sizeof(out));
	assert_string_equal(out, "[2001:db8::1]");
}

static void test_host_name_only_cut_to_room(void **state)
{
	char out[8];

	(void)state;
	host_name_only("a-long-name.example:80", out, sizeof(out));
	assert_string_equal(out, "a-long-");
}

static void test_valid_rule(void **state)
{
	(void)state;
	assert_true(valid_rule("domain=example.com"));
	assert_false(valid_rule("domian=example.com"));
}

/* The strings audit records carry: user/auditlog.c and the e2e cases read them back. */
static void test_by_str(void **state)
{
	(void)state;
	assert_null(decide_by_str(CONN_DECIDED_BY_RULES)); /* no "decided_by" field */
	assert_string_equal(decide_by_str(CONN_DECIDED_BY_PROGRAM), "program");
	assert_string_equal(decide_by_str(CONN_DECIDED_BY_PERSON), "person");
}

static void test_stream_str(void **state)
{
	(void)state;
	assert_null(decide_stream_str(CONN_STREAM_NONE));
	assert_string_equal(decide_stream_str(CONN_STREAM_TCP), "tcp");
	assert_string_equal(decide_stream_str(CONN_STREAM_TLS), "tls");
}

/* --- sequence numbers and session correlation --------------------------------------------- */

static struct proxy prox;
static struct worker wk = {.p = &prox};

/* c as handle_request() leaves it for a request: method, Host, normalised path, port. */
static void request(struct conn *c, const char *method, const char *host, const char *path,
		    uint16_t port)
{
	memset(c, 0, sizeof(*c));
	c->w = &wk;
	snprintf(c->method, sizeof(c->method), "%s", method);
	snprintf(c->host, sizeof(c->host), "%s", host);
	c->path = strdup(path);
	assert_non_null(c->path);
	c->path_len = strlen(path);
	c->uport = port;
}

/* What decide_correlate_put() appends for c ("" when nothing). */
static const char *fields(const struct conn *c)
{
	static char out[256];
	struct buf b;

	buf_init(&b, 4096);
	assert_int_equal(decide_correlate_put(c, &b), 0);
	snprintf(out, sizeof(out), "%.*s", (int)b.len, buf_head(&b));
	buf_fini(&b);
	return out;
}

static void test_sequence_and_correlation(void **state)
{
	struct rules *inject = rules_new();
	struct conn c;

	(void)state;
	assert_non_null(inject);
	assert_int_equal(
	    rules_add(inject, "domain=coder.test path=/api/v2/aibridge/*", NULL, NULL, 0), 0);
	memset(&prox, 0, sizeof(prox));
	prox.cfg.inject = inject;
	prox.cfg.session_id = "0b7c5e4e-0000-4000-8000-000000000001";

	/* An allowed request to a target: number 0, and both fields, whatever the method. */
	request(&c, "POST", "coder.test:3000", "/api/v2/aibridge/openai/v1/chat", 3000);
	decide_audit(&c, "request", "allow", "domain=coder.test", NULL, 0);
	assert_int_equal(c.seq, 0);
	assert_true(c.correlate);
	assert_string_equal(fields(&c), "X-Coder-Agent-Firewall-Session-Id: "
					"0b7c5e4e-0000-4000-8000-000000000001\r\n"
					"X-Coder-Agent-Firewall-Sequence-Number: 0\r\n");
	/* the client's own fields of those names are dropped, in any case; others stay */
	assert_true(decide_correlate_drop(&c, slice_of("x-coder-agent-firewall-session-id", 33)));
	assert_true(
	    decide_correlate_drop(&c, slice_of("X-CODER-AGENT-FIREWALL-SEQUENCE-NUMBER", 38)));
	assert_false(decide_correlate_drop(&c, slice_of("X-Coder-Agent-Firewall-Other", 28)));
	/* its "end" keeps the number and takes none */
	decide_audit(&c, "end", "allow", NULL, NULL, 200);
	assert_int_equal(c.seq, 0);
	free(c.path);

	/* A denial takes a number too, and gets no fields. */
	request(&c, "GET", "coder.test", "/api/v2/aibridge/x", 443);
	decide_audit(&c, "request", "deny", NULL, "no rule matches", 403);
	assert_int_equal(c.seq, 1);
	assert_false(c.correlate);
	assert_string_equal(fields(&c), "");
	assert_false(decide_correlate_drop(&c, slice_of("X-Coder-Agent-Firewall-Session-Id", 33)));
	free(c.path);

	/* Another path or host: numbered, no fields, the client's own fields left as they are. */
	request(&c, "GET", "coder.test", "/api/v2/users", 443);
	decide_audit(&c, "request", "allow", "domain=coder.test", NULL, 0);
	assert_int_equal(c.seq, 2);
	assert_false(c.correlate);
	assert_false(decide_correlate_drop(&c, slice_of("X-Coder-Agent-Firewall-Session-Id", 33)));
	free(c.path);
	request(&c, "GET", "other.test", "/api/v2/aibridge/x", 443);
	decide_audit(&c, "request", "allow", "domain=other.test", NULL, 0);
	assert_int_equal(c.seq, 3);
	assert_false(c.correlate);
	free(c.path);

	/* A CONNECT is a decision on an HTTP request (numbered), never a target itself. */
	request(&c, "CONNECT", "coder.test:443", "/api/v2/aibridge/x", 443);
	decide_audit(&c, "request", "allow", "domain=coder.test", NULL, 200);
	assert_int_equal(c.seq, 4);
	assert_false(c.correlate);
	free(c.path);

	/* A stream is no HTTP request: no number, none used up. */
	request(&c, "", "coder.test:22", "/", 22);
	c.stream = CONN_STREAM_TCP;
	decide_audit(&c, "request", "allow", "domain=coder.test port=22", NULL, 0);
	assert_int_equal(c.seq, -1);
	assert_false(c.correlate);
	free(c.path);

	/* Past INT32_MAX the numbers start again at 0, never negative. */
	atomic_store(&prox.seq, (unsigned)INT32_MAX);
	request(&c, "GET", "coder.test", "/api/v2/aibridge/x", 443);
	decide_audit(&c, "request", "allow", "domain=coder.test", NULL, 0);
	assert_int_equal(c.seq, INT32_MAX);
	assert_non_null(strstr(fields(&c), "Sequence-Number: 2147483647\r\n"));
	decide_audit(&c, "request", "allow", "domain=coder.test", NULL, 0);
	assert_int_equal(c.seq, 0);
	free(c.path);

	/* Session correlation off: numbers all the same, never fields. */
	prox.cfg.inject = NULL;
	request(&c, "GET", "coder.test", "/api/v2/aibridge/x", 443);
	decide_audit(&c, "request", "allow", "domain=coder.test", NULL, 0);
	assert_int_equal(c.seq, 1);
	assert_false(c.correlate);
	assert_string_equal(fields(&c), "");
	free(c.path);
	rules_free(inject);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_host_name_only),
	    cmocka_unit_test(test_host_name_only_cut_to_room),
	    cmocka_unit_test(test_valid_rule),
	    cmocka_unit_test(test_by_str),
	    cmocka_unit_test(test_stream_str),
	    cmocka_unit_test(test_sequence_and_correlation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
