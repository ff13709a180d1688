// SPDX-License-Identifier: MIT
/*
 * audit_test.c: JSON escaping, one line per record, the file and directory forms, and which
 * records the Coder agent's socket is given.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "proxy/audit.h"
#include "proxy/coder_agent.pb-c.h"

static void check_json(const char *in, const char *want)
{
	char out[256];
	size_t len = 0;

	assert_int_equal(audit_json_string(out, sizeof(out), &len, in), 0);
	out[len] = '\0';
	if (strcmp(out, want) != 0)
		fail_msg("json(\"%s\") = %s, want %s", in, out, want);
}

static void test_json_string(void **state)
{
	char small[8];
	size_t len = 3;

	(void)state;
	check_json("plain", "\"plain\"");
	check_json("a\"b\\c", "\"a\\\"b\\\\c\"");
	check_json("line\nfeed\t\x01", "\"line\\u000afeed\\u0009\\u0001\"");
	check_json("caf\xc3\xa9 \xf0\x9f\x9a\xab", "\"caf\xc3\xa9 \xf0\x9f\x9a\xab\"");
	/* not UTF-8: an overlong slash, a lone continuation byte, a surrogate */
	check_json("\xc0\xaf", "\"\\u00c0\\u00af\"");
	check_json("\x80x", "\"\\u0080x\"");
	check_json("\xed\xa0\x80", "\"\\u00ed\\u00a0\\u0080\"");
	check_json("\x7f", "\"\\u007f\"");
	/* too long: nothing is written and the length is as it was */
	assert_int_equal(audit_json_string(small, sizeof(small), &len, "0123456789"), -1);
	assert_int_equal(len, 3);
}

static char *slurp(const char *path)
{
	static char buf[16384];
	FILE *f = fopen(path, "r");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void test_records_to_a_file(void **state)
{
	char dir[] = "/tmp/boundary-audit-test-XXXXXX", path[256], err[256];
	struct audit_record r;
	struct audit *a;
	struct stat st;
	char *s, *nl;
	int lines = 0;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/audit.jsonl", dir);
	a = audit_open(&(struct audit_config){.path = path,
					      .jail_id = "123-456",
					      .session_id = "0b7c5e4e-0000-4000-8000-000000000001"},
		       err, sizeof(err));
	assert_non_null(a);
	memset(&r, 0, sizeof(r));
	r.has_sequence = true;
	r.sequence = 2147483647;
	r.event = "request";
	r.decision = "deny";
	r.kind = "https";
	r.method = "GET";
	r.url = "https://evil.example/\"injected\":true\n{";
	r.host = "evil.example";
	r.port = 443;
	r.reason = "no rule matches";
	r.status = 403;
	r.pid = 4242;
	r.comm = "curl";
	r.duration_ms = -1;
	audit_write(a, &r);
	r.event = "end";
	r.decision = "allow";
	r.bytes_up = 10;
	r.bytes_down = 20;
	r.duration_ms = 7;
	r.client = "[::1]:5555"; /* an explicit proxy client's address */
	audit_write(a, &r);
	/* a record with no sequence number (a stream's, a DNS query's) says none */
	r.has_sequence = false;
	r.sequence = 5;
	r.client = NULL;
	audit_write(a, &r);
	audit_close(a);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	s = slurp(path);
	for (nl = s; (nl = strchr(nl, '\n')); nl++)
		lines++;
	/* One line per record: the newline in the URL is escaped, not written. */
	assert_int_equal(lines, 3);
	assert_non_null(strstr(s, "\"decision\":\"deny\""));
	assert_non_null(
	    strstr(s, "\"url\":\"https://evil.example/\\\"injected\\\":true\\u000a{\""));
	assert_non_null(strstr(s, "\"pid\":4242,\"comm\":\"curl\""));
	/* Only the record that has one names the client. */
	assert_non_null(strstr(s, "\"comm\":\"curl\",\"client\":\"[::1]:5555\""));
	assert_ptr_equal(strstr(strstr(s, "\"client\"") + 1, "\"client\""), NULL);
	assert_non_null(strstr(s, "\"bytes_up\":10,\"bytes_down\":20,\"duration_ms\":7"));
	/* the run's session id in every record, and the request's number in those that have one */
	assert_non_null(strstr(s, "\"jail\":\"123-456\","
				  "\"session_id\":\"0b7c5e4e-0000-4000-8000-000000000001\","
				  "\"sequence\":2147483647}\n"));
	assert_non_null(strstr(strchr(s, '\n') + 1,
			       "\"session_id\":\"0b7c5e4e-0000-4000-8000-000000000001\","
			       "\"sequence\":2147483647}\n"));
	assert_non_null(strstr(s, "\"jail\":\"123-456\","
				  "\"session_id\":\"0b7c5e4e-0000-4000-8000-000000000001\"}\n"));
	assert_null(strstr(s, "\"sequence\":5"));
	assert_int_equal(strncmp(s, "{\"time\":\"", 9), 0);
	unlink(path);
	rmdir(dir);
}

static void test_directory_gets_a_new_file(void **state)
{
	char dir[] = "/tmp/boundary-audit-test-XXXXXX", err[256], path[512];
	struct audit_record r = {.event = "dns",
				 .kind = "dns",
				 .decision = "synthetic",
				 .host = "x.test",
				 .duration_ms = -1};
	struct audit *a;
	struct dirent *de;
	DIR *d;
	int files = 0;

	(void)state;
	assert_non_null(mkdtemp(dir));
	a = audit_open(&(struct audit_config){.path = dir, .jail_id = "1-2"}, err, sizeof(err));
	assert_non_null(a);
	assert_non_null(strstr(audit_path(a), "/boundary-audit-"));
	audit_write(a, &r);
	audit_close(a);
	d = opendir(dir);
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		files++;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		assert_non_null(strstr(slurp(path), "\"host\":\"x.test\""));
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
	assert_int_equal(files, 1);
	/* an unwritable place is an error that says where */
	assert_null(audit_open(&(struct audit_config){.path = "/proc/nonexistent/dir/file"}, err,
			       sizeof(err)));
	assert_non_null(strstr(err, "/proc/nonexistent/dir/file"));
	audit_write(NULL, &r);
	audit_close(NULL);
}

/*
 * The agent's socket gets the decisions on HTTP requests (allow and deny, CONNECT too) and
 * nothing else (not streams); with no file, there is no path and no JSON.
 */
static void test_agent_gets_request_decisions(void **state)
{
	char dir[] = "/tmp/boundary-audit-test-XXXXXX", err[256];
	struct audit_record r = {.event = "request",
				 .kind = "https",
				 .method = "GET",
				 .url = "https://a.test/x",
				 .host = "a.test",
				 .rule = "domain=a.test",
				 .duration_ms = -1,
				 .has_sequence = true,
				 .sequence = 7};
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	Boundary__Agent__BoundaryMessage *m;
	Boundary__Agent__ReportBoundaryLogsRequest *q;
	unsigned char buf[4096];
	struct audit *a;
	size_t len;
	ssize_t n;
	int lfd, c;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/agent.sock", dir);
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lfd, 4), 0);
	a = audit_open(&(struct audit_config){.agent_socket = sa.sun_path,
					      .jail_id = "1-2",
					      .session_id = "0b7c5e4e-0000-4000-8000-000000000001",
					      .process_name = "claude"},
		       err, sizeof(err));
	assert_non_null(a);
	assert_null(audit_path(a));
	r.decision = "allow";
	audit_write(a, &r);
	r.event = "end";
	audit_write(a, &r);
	r.event = "dns";
	r.decision = "synthetic";
	audit_write(a, &r);
	r.event = "connection";
	r.decision = "deny";
	audit_write(a, &r);
	/* a stream rule's connection: not HTTP, nothing the agent's protocol can carry */
	r.event = "request";
	r.decision = "allow";
	r.kind = "tcp";
	r.method = NULL;
	r.url = "tcp://c.test:22";
	audit_write(a, &r);
	r.decision = "deny";
	r.kind = "connect";
	r.method = "CONNECT";
	r.url = "b.test:443";
	r.sequence = 9; /* the proxy's number, whatever came between */
	audit_write(a, &r);
	/* a decision the proxy did not number is not one the agent takes */
	r.has_sequence = false;
	audit_write(a, &r);
	audit_close(a); /* the end sends the batch */
	c = accept(lfd, NULL, NULL);
	assert_true(c >= 0);
	n = recv(c, buf, sizeof(buf), MSG_WAITALL);
	assert_true(n > 4);
	assert_int_equal(buf[0], 2);
	len = (size_t)buf[1] << 16 | (size_t)buf[2] << 8 | buf[3];
	assert_int_equal((size_t)n, 4 + len); /* one frame, then the end */
	m = boundary__agent__boundary_message__unpack(NULL, len, buf + 4);
	assert_non_null(m);
	assert_int_equal(m->msg_case, BOUNDARY__AGENT__BOUNDARY_MESSAGE__MSG_LOGS);
	q = m->logs;
	assert_string_equal(q->session_id, "0b7c5e4e-0000-4000-8000-000000000001");
	assert_string_equal(q->confined_process_name, "claude");
	assert_int_equal(q->n_logs, 2);
	assert_true(q->logs[0]->allowed);
	assert_string_equal(q->logs[0]->http_request->method, "GET");
	assert_string_equal(q->logs[0]->http_request->url, "https://a.test/x");
	assert_string_equal(q->logs[0]->http_request->matched_rule, "domain=a.test");
	assert_int_equal(q->logs[0]->sequence_number, 7);
	assert_false(q->logs[1]->allowed);
	assert_string_equal(q->logs[1]->http_request->method, "CONNECT");
	assert_string_equal(q->logs[1]->http_request->url, "b.test:443");
	assert_string_equal(q->logs[1]->http_request->matched_rule, "");
	assert_int_equal(q->logs[1]->sequence_number, 9);
	boundary__agent__boundary_message__free_unpacked(m, NULL);
	close(c);
	close(lfd);
	unlink(sa.sun_path);
	rmdir(dir);
	/* Nowhere to go is an error. */
	assert_null(audit_open(&(struct audit_config){.jail_id = "1-2"}, err, sizeof(err)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_json_string),
	    cmocka_unit_test(test_records_to_a_file),
	    cmocka_unit_test(test_directory_gets_a_new_file),
	    cmocka_unit_test(test_agent_gets_request_decisions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
