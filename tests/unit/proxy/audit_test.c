// SPDX-License-Identifier: MIT
/* audit_test.c: JSON escaping, one line per record, the file and directory forms. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proxy/audit.h"

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
	a = audit_open(path, "123-456", err, sizeof(err));
	assert_non_null(a);
	memset(&r, 0, sizeof(r));
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
	audit_write(a, &r);
	audit_close(a);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	s = slurp(path);
	for (nl = s; (nl = strchr(nl, '\n')); nl++)
		lines++;
	/* One line per record: the newline in the URL is escaped, not written. */
	assert_int_equal(lines, 2);
	assert_non_null(strstr(s, "\"decision\":\"deny\""));
	assert_non_null(
	    strstr(s, "\"url\":\"https://evil.example/\\\"injected\\\":true\\u000a{\""));
	assert_non_null(strstr(s, "\"pid\":4242,\"comm\":\"curl\""));
	assert_non_null(strstr(s, "\"bytes_up\":10,\"bytes_down\":20,\"duration_ms\":7"));
	assert_non_null(strstr(s, "\"jail\":\"123-456\"}\n"));
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
	a = audit_open(dir, "1-2", err, sizeof(err));
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
	assert_null(audit_open("/proc/nonexistent/dir/file", "1-2", err, sizeof(err)));
	assert_non_null(strstr(err, "/proc/nonexistent/dir/file"));
	audit_write(NULL, &r);
	audit_close(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_json_string),
	    cmocka_unit_test(test_records_to_a_file),
	    cmocka_unit_test(test_directory_gets_a_new_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
