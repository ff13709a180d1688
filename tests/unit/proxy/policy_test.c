// SPDX-License-Identifier: MIT
/*
 * policy_test.c: the rules program's protocol: every reply shape httpjail accepts (its
 * RuleResponse table), the request line, and the service itself with small shell programs:
 * answers, a restart after a crash, a timeout that denies and restarts, a program that cannot
 * be run.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "proxy/policy.h"

static void check_reply(const char *line, bool allow, const char *message)
{
	struct policy_job j;

	memset(&j, 0, sizeof(j));
	j.allow = !allow;
	policy_parse_reply(line, strlen(line), &j);
	if (j.allow != allow || strcmp(j.message, message) != 0)
		fail_msg("reply %s: allow %d message \"%s\", want %d \"%s\"", line, j.allow,
			 j.message, allow, message);
}

static void test_replies(void **state)
{
	(void)state;
	check_reply("true", true, "");
	check_reply("  true \r", true, "");
	check_reply("false", false, "");
	check_reply("\"true\"", true, "");
	check_reply("\"false\"", false, "");
	check_reply("{\"allow\":true}", true, "");
	check_reply("{\"allow\": false}", false, "");
	check_reply("{\"allow\":false,\"deny_message\":\"not today\"}", false, "not today");
	check_reply("{\"deny_message\":\"no\"}", false, "no");
	check_reply("{}", true, "");
	check_reply("{\"allow\":{\"max_tx_bytes\":1024}}", true, "");
	check_reply("{\"allow\":true,\"deny_message\":\"ignored\"}", true, "");
	check_reply("{\"allow\":false,\"other\":[1,{\"a\":null}],\"deny_message\":\"x\\ny\"}",
		    false, "x y");
	/* Anything else denies with the text as the message, control characters made spaces. */
	check_reply("maybe", false, "maybe");
	check_reply("{\"allow\":", false, "{\"allow\":");
	check_reply("1", false, "1");
	check_reply("null", false, "null");
	check_reply("tru\x1b[31m", false, "tru [31m");
}

/* {"allow": {"max_tx_bytes": N}} keeps N as the body's cap; a cap that cannot be read denies. */
static void test_max_tx_bytes(void **state)
{
	static const struct {
		const char *line;
		bool allow;
		uint64_t cap;
	} cases[] = {
	    {"{\"allow\":{\"max_tx_bytes\":1024}}", true, 1024},
	    {"{\"allow\": {\"other\": [1], \"max_tx_bytes\": 9007199254740993}}", true,
	     9007199254740993ULL},
	    {"{\"allow\":{}}", true, 0},
	    {"{\"allow\":true}", true, 0},
	    {"{\"allow\":{\"max_tx_bytes\":0}}", false, 0},
	    {"{\"allow\":{\"max_tx_bytes\":-5}}", false, 0},
	    {"{\"allow\":{\"max_tx_bytes\":1.5}}", false, 0},
	    {"{\"allow\":{\"max_tx_bytes\":\"1024\"}}", false, 0},
	    {"{\"allow\":{\"max_tx_bytes\":1e30}}", false, 0},
	    {"false", false, 0},
	};
	struct policy_job j;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&j, 0, sizeof(j));
		j.max_tx_bytes = 77; /* what the job held before counts for nothing */
		policy_parse_reply(cases[i].line, strlen(cases[i].line), &j);
		if (j.allow != cases[i].allow || j.max_tx_bytes != cases[i].cap)
			fail_msg("reply %s: allow %d cap %llu, want %d %llu", cases[i].line,
				 j.allow, (unsigned long long)j.max_tx_bytes, cases[i].allow,
				 (unsigned long long)cases[i].cap);
	}
}

static void test_request_line(void **state)
{
	struct policy_job j;
	char out[4096], small[32];
	size_t n;

	(void)state;
	memset(&j, 0, sizeof(j));
	snprintf(j.method, sizeof(j.method), "POST");
	snprintf(j.scheme, sizeof(j.scheme), "https");
	snprintf(j.host, sizeof(j.host), "api.example.com");
	snprintf(j.path, sizeof(j.path), "/v1/x");
	snprintf(j.url, sizeof(j.url), "https://api.example.com/v1/x?q=\"1\"");
	snprintf(j.requester_ip, sizeof(j.requester_ip), "127.0.0.1");
	snprintf(j.comm, sizeof(j.comm), "curl");
	j.port = 443;
	j.pid = 42;
	n = policy_request_json(&j, out, sizeof(out));
	assert_int_equal(n, strlen(out));
	assert_string_equal(
	    out, "{\"url\":\"https://api.example.com/v1/x?q=\\\"1\\\"\",\"method\":\"POST\","
		 "\"scheme\":\"https\",\"host\":\"api.example.com\",\"path\":\"/v1/x\","
		 "\"requester_ip\":\"127.0.0.1\",\"port\":443,\"pid\":42,\"comm\":\"curl\"}\n");
	assert_int_equal(policy_request_json(&j, small, sizeof(small)), 0);
	/* The executable, when the jail recorded one, last: exe= rules are written from it. */
	snprintf(j.exe, sizeof(j.exe), "/usr/bin/curl");
	n = policy_request_json(&j, out, sizeof(out));
	assert_int_equal(n, strlen(out));
	assert_non_null(strstr(out, ",\"comm\":\"curl\",\"exe\":\"/usr/bin/curl\"}\n"));
}

/* --- the service, with shell programs ------------------------------------------------------- */

struct waiter {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int done;
};

static struct waiter w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};

static void job_done(struct policy_job *j)
{
	(void)j;
	pthread_mutex_lock(&w.lock);
	w.done++;
	pthread_cond_broadcast(&w.cond);
	pthread_mutex_unlock(&w.lock);
}

/* Asks p about path and waits for the answer. */
static void ask(struct policy *p, struct policy_job *j, const char *path)
{
	int want;

	memset(j, 0, sizeof(*j));
	snprintf(j->method, sizeof(j->method), "GET");
	snprintf(j->scheme, sizeof(j->scheme), "http");
	snprintf(j->host, sizeof(j->host), "example.com");
	snprintf(j->path, sizeof(j->path), "%s", path);
	snprintf(j->url, sizeof(j->url), "http://example.com%s", path);
	j->done = job_done;
	pthread_mutex_lock(&w.lock);
	want = w.done + 1;
	pthread_mutex_unlock(&w.lock);
	policy_ask(p, j);
	pthread_mutex_lock(&w.lock);
	while (w.done < want)
		pthread_cond_wait(&w.cond, &w.lock);
	pthread_mutex_unlock(&w.lock);
}

static void test_program(void **state)
{
	/* Allows /ok, says why for the rest, dies on /crash and hangs on /slow. */
	static const char prog[] =
	    "while read -r l; do case \"$l\" in *'\"path\":\"/ok'*) echo true;; "
	    "*'\"path\":\"/crash'*) exit 1;; *'\"path\":\"/slow'*) sleep 5;; "
	    "*) echo '{\"allow\":false,\"deny_message\":\"nope\"}';; esac; done";
	struct policy_config cfg;
	struct policy_job j;
	struct policy *p;
	char err[256];
	time_t t0;

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	cfg.mode = POLICY_PROGRAM;
	cfg.program = prog;
	cfg.timeout_ms = 300;
	p = policy_new(&cfg, err, sizeof(err));
	if (!p)
		fail_msg("policy_new: %s", err);
	assert_false(policy_asks_person(p));
	ask(p, &j, "/ok");
	assert_true(j.allow);
	assert_string_equal(j.rule, "rules program");
	ask(p, &j, "/no");
	assert_false(j.allow);
	assert_string_equal(j.message, "nope");
	ask(p, &j, "/crash");
	assert_false(j.allow);
	assert_non_null(strstr(j.message, "program evaluation failed"));
	ask(p, &j, "/ok-again");
	assert_true(j.allow);
	t0 = time(NULL);
	ask(p, &j, "/slow");
	assert_false(j.allow);
	assert_true(time(NULL) - t0 < 4);
	ask(p, &j, "/ok-after-slow");
	assert_true(j.allow);
	policy_free(p);
}

/* --sh: one process per request, httpjail's variables and the JSON line, exit 0 allows. */
static void test_sh(void **state)
{
	static const char script[] = "read -r l; case \"$HTTPJAIL_METHOD $HTTPJAIL_SCHEME "
				     "$HTTPJAIL_HOST $HTTPJAIL_PATH\" in "
				     "'GET http example.com /ok') exit 0;; esac; "
				     "case \"$l\" in *'\"path\":\"/slow'*) sleep 5;; esac; echo "
				     "\"no: $HTTPJAIL_URL\"; exit 3";
	struct policy_config cfg;
	struct policy_job j;
	struct policy *p;
	char err[256];
	time_t t0;

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	cfg.mode = POLICY_SH;
	cfg.program = script;
	cfg.timeout_ms = 1000;
	cfg.lanes = 2;
	p = policy_new(&cfg, err, sizeof(err));
	if (!p)
		fail_msg("policy_new: %s", err);
	assert_string_equal(policy_engine(p), "--sh script");
	ask(p, &j, "/ok");
	assert_true(j.allow);
	assert_string_equal(j.rule, "--sh script");
	ask(p, &j, "/no");
	assert_false(j.allow);
	assert_string_equal(j.message, "no: http://example.com/no");
	t0 = time(NULL);
	ask(p, &j, "/slow");
	assert_false(j.allow);
	assert_non_null(strstr(j.message, "did not finish within 1 s"));
	assert_true(time(NULL) - t0 < 4);
	ask(p, &j, "/ok");
	assert_true(j.allow);
	policy_free(p);
}

static void test_program_that_cannot_run(void **state)
{
	struct policy_config cfg;
	char err[256];

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	cfg.mode = POLICY_PROGRAM;
	cfg.program = "/nonexistent/rules-program";
	assert_null(policy_new(&cfg, err, sizeof(err)));
	assert_non_null(strstr(err, "cannot run the rules program"));
	assert_non_null(strstr(err, "No such file"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_replies),	 cmocka_unit_test(test_max_tx_bytes),
	    cmocka_unit_test(test_request_line), cmocka_unit_test(test_program),
	    cmocka_unit_test(test_sh),		 cmocka_unit_test(test_program_that_cannot_run),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
