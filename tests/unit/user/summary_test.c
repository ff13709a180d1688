// SPDX-License-Identifier: MIT
/*
 * summary_test.c: `boundary log summary` without the command line. Includes user/summary.c to
 * reach fold_host(). Logs are read from memory (fmemopen) and the outputs written to memory
 * (open_memstream), and compared whole: the order of the rows, the suggested rules, and what is
 * said about lines that are not records.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "../../../user/summary.c"

static struct summary *read_log(const char *log)
{
	struct summary *s = summary_new();
	FILE *f = fmemopen((void *)(uintptr_t)log, strlen(log), "r");

	assert_non_null(s);
	assert_non_null(f);
	assert_int_equal(summary_read(s, f, "t.jsonl"), 0);
	fclose(f);
	return s;
}

/* The table (or JSON) of s; the caller frees it. */
static char *output(struct summary *s, bool json)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(json ? summary_write_json(s, f) : summary_write_table(s, f), 0);
	fclose(f);
	return buf;
}

static void check_output(struct summary *s, bool json, const char *want)
{
	char *got = output(s, json);

	if (strcmp(got, want) != 0)
		fail_msg("got:\n%s\nwant:\n%s", got, want);
	free(got);
}

static void check_fold(const char *host, const char *want, int want_port)
{
	char out[128];
	int port;

	fold_host(host, out, &port);
	if (strcmp(out, want) != 0 || port != want_port)
		fail_msg("fold_host(%s) = %s port %d, want %s port %d", host, out, port, want,
			 want_port);
}

static void test_fold_host(void **state)
{
	(void)state;
	check_fold("Example.COM", "example.com", -1);
	check_fold("example.com.", "example.com", -1);
	check_fold("10.1.2.3:5432", "10.1.2.3", 5432);
	check_fold("[FD00::1]:22", "[fd00::1]", 22);
	check_fold("[::1]", "[::1]", -1);
	check_fold("::1", "[::1]", -1); /* a bare literal gets the brackets a rule needs */
	check_fold("a.test:x", "a.test:x", -1);
	check_fold("a.test:99999", "a.test:99999", -1);
	check_fold("a.test:+1", "a.test:+1", -1);
	check_fold("", "", -1);
	check_fold(".", ".", -1);
}

#define REQ(dec, kind, host, comm)                                                                 \
	"{\"event\":\"request\",\"decision\":\"" dec "\",\"kind\":\"" kind "\",\"host\":\"" host   \
	"\",\"pid\":7,\"comm\":\"" comm "\"}\n"

static void test_refused_first(void **state)
{
	const char *log = REQ("allow", "https", "api.github.com", "git")
	    REQ("allow", "https", "api.github.com", "git") REQ("deny", "http", "one.test", "curl")
		REQ("deny", "https", "two.test", "curl")
		    REQ("deny", "https", "Two.Test.",
			"wget") "{\"event\":\"end\",\"decision\":\"allow\",\"kind\":\"https\","
				"\"host\":\"api.github.com\",\"status\":200}\n"
				"{\"event\":\"dns\",\"decision\":\"synthetic\",\"kind\":\"dns\","
				"\"host\":\"only.looked.up\",\"dns_type\":\"A\"}\n"
				"{\"event\":\"dns\",\"decision\":\"synthetic\",\"kind\":\"dns\","
				"\"host\":\"two.test\",\"dns_type\":\"A\"}\n"
				"{\"event\":\"dns\",\"decision\":\"deny\",\"kind\":\"dns\","
				"\"reason\":\"malformed query\"}\n";
	struct summary *s = read_log(log);

	(void)state;
	assert_int_equal(summary_invalid(s, NULL), 0);
	assert_int_equal(s->records, 9);
	check_output(s, false,
		     "HOST            ALLOWED  REFUSED  DNS  PROCESSES\n"
		     "two.test              0        2    1  curl, wget\n"
		     "one.test              0        1    0  curl\n"
		     "api.github.com        2        0    0  git\n"
		     "only.looked.up        0        0    1  -\n"
		     "\n"
		     "To allow what was refused, restart boundary with:\n"
		     "  --allow \"domain=two.test\"\n"
		     "  --allow \"domain=one.test\"\n");
	check_output(
	    s, true,
	    "{\"records\":9,\"invalid_lines\":0,\"dropped\":0,\"hosts\":[\n"
	    "{\"host\":\"two.test\",\"port\":null,\"kinds\":[\"https\",\"dns\"],"
	    "\"allowed\":0,\"refused\":2,\"would_refuse\":0,\"dns\":1,\"comms\":[\"curl\",\"wget\"]"
	    ","
	    "\"pids\":[7],\"allow\":\"domain=two.test\",\"exe\":null,\"allow_exe\":null},\n"
	    "{\"host\":\"one.test\",\"port\":null,\"kinds\":[\"http\"],\"allowed\":0,"
	    "\"refused\":1,\"would_refuse\":0,\"dns\":0,\"comms\":[\"curl\"],\"pids\":[7],"
	    "\"allow\":\"domain=one.test\",\"exe\":null,\"allow_exe\":null},\n"
	    "{\"host\":\"api.github.com\",\"port\":null,\"kinds\":[\"https\"],"
	    "\"allowed\":2,\"refused\":0,\"would_refuse\":0,\"dns\":0,\"comms\":[\"git\"],\"pids\":"
	    "[7],"
	    "\"allow\":null,\"exe\":null,\"allow_exe\":null},\n"
	    "{\"host\":\"only.looked.up\",\"port\":null,\"kinds\":[\"dns\"],\"allowed\":0,"
	    "\"refused\":0,\"would_refuse\":0,\"dns\":1,\"comms\":[],\"pids\":[],\"allow\":null,"
	    "\"exe\":null,\"allow_exe\":null}\n"
	    "]}\n");
	summary_free(s);
}

/* Connections not read as HTTP: a row per host and port, and a rule with port=. */
static void test_stream_rows(void **state)
{
	const char *log =
	    /* Before stream rules: event "connection", the port in host. */
	    "{\"event\":\"connection\",\"decision\":\"deny\",\"kind\":\"tcp\","
	    "\"host\":\"10.1.2.3:5432\",\"pid\":9,\"comm\":\"psql\"}\n"
	    "{\"event\":\"connection\",\"decision\":\"deny\",\"kind\":\"tcp\","
	    "\"host\":\"nameonly.test\",\"pid\":9,\"comm\":\"psql\"}\n"
	    /* Now: a request record, the port its own field. */
	    "{\"event\":\"request\",\"decision\":\"deny\",\"kind\":\"tcp\","
	    "\"host\":\"db.test\",\"port\":5432,\"pid\":9,\"comm\":\"psql\"}\n"
	    "{\"event\":\"request\",\"decision\":\"deny\",\"kind\":\"tcp\","
	    "\"host\":\"db.test\",\"port\":5432,\"pid\":10,\"comm\":\"psql\"}\n"
	    "{\"event\":\"request\",\"decision\":\"deny\",\"kind\":\"tcp\","
	    "\"host\":\"fd00::1\",\"port\":22,\"pid\":11,\"comm\":\"ssh\"}\n"
	    "{\"event\":\"request\",\"decision\":\"allow\",\"kind\":\"tls\","
	    "\"host\":\"db.test\",\"port\":6379,\"rule\":\"domain=db.test port=6379\"}\n"
	    "{\"event\":\"request\",\"decision\":\"allow\",\"kind\":\"tcp\","
	    "\"host\":\"db.test\",\"port\":6379,\"rule\":\"domain=db.test port=6379\"}\n"
	    "{\"event\":\"end\",\"decision\":\"allow\",\"kind\":\"tcp\","
	    "\"host\":\"db.test\",\"port\":6379,\"bytes_up\":1,\"bytes_down\":2}\n"
	    "{\"event\":\"request\",\"decision\":\"deny\",\"kind\":\"http\","
	    "\"host\":\"db.test\",\"port\":80}\n";
	struct summary *s = read_log(log);
	char *json;

	(void)state;
	json = output(s, true);
	check_output(s, false,
		     "HOST             ALLOWED  REFUSED  DNS  PROCESSES\n"
		     "db.test:5432           0        2    -  psql\n"
		     "10.1.2.3:5432          0        1    -  psql\n"
		     "[fd00::1]:22           0        1    -  ssh\n"
		     "db.test                0        1    0  -\n"
		     "nameonly.test:?        0        1    -  psql\n"
		     "db.test:6379           2        0    -  -\n"
		     "\n"
		     "To allow what was refused, restart boundary with:\n"
		     "  --allow \"domain=db.test port=5432\"\n"
		     "  --allow \"domain=10.1.2.3 port=5432\"\n"
		     "  --allow \"domain=[fd00::1] port=22\"\n"
		     "  --allow \"domain=db.test\"\n"
		     "\n"
		     "No rule this boundary accepts can admit these:\n"
		     "  nameonly.test:?\n"
		     "      the records do not say which port\n");
	assert_non_null(strstr(
	    json, "{\"host\":\"db.test\",\"port\":5432,\"kinds\":[\"tcp\"],"
		  "\"allowed\":0,\"refused\":2,\"would_refuse\":0,\"dns\":null,"
		  "\"comms\":[\"psql\"],\"pids\":[9,10],"
		  "\"allow\":\"domain=db.test port=5432\",\"exe\":null,\"allow_exe\":null}"));
	assert_non_null(strstr(json,
			       "{\"host\":\"db.test\",\"port\":6379,\"kinds\":[\"tcp\",\"tls\"],"
			       "\"allowed\":2,"));
	assert_non_null(
	    strstr(json, "{\"host\":\"nameonly.test\",\"port\":null,\"kinds\":[\"tcp\"],"));
	free(json);
	summary_free(s);
}

/* exe=: one program (a path) made every request to a refused host: a rule for it too. */
static void test_exe_suggestion(void **state)
{
#define EXE(host, exe)                                                                             \
	"{\"event\":\"request\",\"decision\":\"deny\",\"kind\":\"https\",\"host\":\"" host         \
	"\",\"pid\":7,\"comm\":\"x\"" exe "}\n"
	const char *log = EXE("one.test", ",\"exe\":\"/usr/bin/git\"")
	    EXE("one.test", ",\"exe\":\"/usr/bin/git\"")
		EXE("two.test", ",\"exe\":\"/usr/bin/git\"")
		    EXE("two.test", ",\"exe\":\"/usr/bin/curl\"") EXE("three.test", "")
			EXE("four.test", ",\"exe\":\"dev 0:44 inode 12\"")
			    EXE("five.test", ",\"exe\":\"/usr/bin/git\"") EXE("five.test", "");
	struct summary *s = read_log(log);
	char *json;

	(void)state;
	json = output(s, true);
	check_output(s, false,
		     "HOST        ALLOWED  REFUSED  DNS  PROCESSES\n"
		     "five.test         0        2    0  x\n"
		     "one.test          0        2    0  x\n"
		     "two.test          0        2    0  x\n"
		     "four.test         0        1    0  x\n"
		     "three.test        0        1    0  x\n"
		     "\n"
		     "To allow what was refused, restart boundary with:\n"
		     "  --allow \"domain=five.test\"\n"
		     "  --allow \"domain=one.test\"\n"
		     "  --allow \"domain=two.test\"\n"
		     "  --allow \"domain=four.test\"\n"
		     "  --allow \"domain=three.test\"\n"
		     "\n"
		     "Or, for the one program that made every request there (exe=):\n"
		     "  --allow \"exe=/usr/bin/git domain=one.test\"\n");
	assert_non_null(strstr(json, "\"allow\":\"domain=one.test\",\"exe\":\"/usr/bin/git\","
				     "\"allow_exe\":\"exe=/usr/bin/git domain=one.test\"}"));
	/* Two programs, one not known, or one known only by number: nothing to name. */
	assert_non_null(strstr(json, "\"allow\":\"domain=two.test\",\"exe\":null,"));
	assert_non_null(strstr(json, "\"allow\":\"domain=five.test\",\"exe\":null,"));
	assert_non_null(strstr(json, "\"allow\":\"domain=four.test\",\"exe\":null,"));
	free(json);
	summary_free(s);
#undef EXE
}

static void test_no_rule_for_some_hosts(void **state)
{
	const char *log = REQ("deny", "http", "", "nc") REQ("deny", "http", "bad host", "nc")
	    REQ("deny", "http", "x..com", "nc") REQ(
		"deny", "https", "[::1]",
		"nc") "{\"event\":\"request\",\"decision\":\"deny\",\"kind\":\"http\",\"pid\":3}\n";
	struct summary *s = read_log(log);
	char *table = output(s, false);

	(void)state;
	assert_non_null(strstr(table, "(no host)        0        2    0  nc\n"));
	/* A bracketed IPv6 literal stays bracketed: that is how a rule names it. */
	assert_non_null(strstr(table,
			       "restart boundary with:\n"
			       "  --allow \"domain=[::1]\"\n"
			       "\nNo rule this boundary accepts can admit these:\n"
			       "  (no host)\n"
			       "      no Host header or TLS server name, which a rule would name\n"
			       "  bad host\n"
			       "      \"domain=bad host\": "));
	assert_non_null(strstr(table, "  x..com\n      \"domain=x..com\": "));
	free(table);
	summary_free(s);
}

static void test_lines_that_are_not_records(void **state)
{
	char *log = malloc(3 * AUDITLOG_MAX_LINE), *p;
	const char *first;
	struct summary *s;
	char *table;

	(void)state;
	assert_non_null(log);
	p = log;
	p += sprintf(p, "%s", REQ("deny", "http", "a.test", "x"));
	p += sprintf(p, "\n   \r\n");		/* blank: skipped, not counted */
	p += sprintf(p, "not json\n");		/* line 4 */
	memset(p, 'x', AUDITLOG_MAX_LINE + 10); /* line 5: too long */
	p += AUDITLOG_MAX_LINE + 10;
	p += sprintf(p, "\n{\"host\":\"b.test\"}\n");		  /* line 6: no event */
	p += sprintf(p, "{\"event\":\"dropped\",\"count\":4}\n"); /* line 7 */
	p += sprintf(p, "{\"event\":\"dropped\",\"count\":3}\n");
	/* The last line needs no newline. */
	p += sprintf(p, "%.*s", (int)strlen(REQ("deny", "http", "a.test", "x")) - 1,
		     REQ("deny", "http", "a.test", "x"));
	s = read_log(log);
	assert_int_equal(summary_invalid(s, &first), 3);
	assert_string_equal(first, "t.jsonl:4: column 1: not JSON");
	assert_int_equal(summary_dropped(s), 7);
	table = output(s, false);
	assert_non_null(strstr(table, "a.test        0        2    0  x\n"));
	assert_null(strstr(table, "b.test"));
	free(table);
	summary_free(s);

	/* A NUL byte makes a line invalid, not shorter. */
	s = summary_new();
	{
		static const char nul[] =
		    "{\"event\":\"request\",\"decision\":\"deny\",\"host\":\"a\0b\"}\n";
		FILE *f = fmemopen((void *)(uintptr_t)nul, sizeof(nul) - 1, "r");

		assert_int_equal(summary_read(s, f, "-"), 0);
		fclose(f);
	}
	assert_int_equal(summary_invalid(s, &first), 1);
	assert_string_equal(first, "-:1: column 47: a string is not closed, or holds a control "
				   "character");
	summary_free(s);
	free(log);
}

static void test_what_a_terminal_is_shown(void **state)
{
	const char *log = REQ("deny", "http", "a.test", "nc\\u001b[31m")
	    REQ("deny", "http", "b.test", "\\u009b2J")
		REQ("deny", "http", "c\\u001b.test", "caf\\u00e9");
	struct summary *s = read_log(log);
	char *table = output(s, false), *json = output(s, true);

	(void)state;
	assert_null(strchr(table, '\x1b'));
	assert_null(strstr(table, "\xc2\x9b"));
	assert_non_null(strstr(table, "nc\\x1b[31m\n"));
	assert_non_null(strstr(table, "\\xc2\\x9b2J\n"));
	assert_non_null(strstr(table, "c\\x1b.test"));
	/* UTF-8 counts a column per character: café's row lines up. */
	assert_non_null(strstr(table, "c\\x1b.test        0        1    0  caf\xc3\xa9\n"));
	assert_non_null(strstr(json, "\"comms\":[\"nc\\u001b[31m\"]"));
	free(table);
	free(json);
	summary_free(s);
}

static void test_long_names_and_many_processes(void **state)
{
	char log[8192], host[80], *table, *line;
	size_t n = 0, width;
	struct summary *s;
	int i;

	(void)state;
	memset(host, 'h', 60);
	memcpy(host + 60, ".test", 6);
	n += (size_t)snprintf(log + n, sizeof(log) - n, REQ("deny", "http", "%s", "x"), host);
	for (i = 0; i < 40; i++)
		n += (size_t)snprintf(log + n, sizeof(log) - n,
				      REQ("allow", "http", "short.test", "process%02d"), i);
	s = read_log(log);
	table = output(s, false);
	/* The long name has a line of its own; its numbers line up under the short one's. */
	line = strstr(table, host);
	assert_non_null(line);
	assert_memory_equal(line + strlen(host), "\n", 1);
	for (line = table; *line; line += width + 1) {
		width = strcspn(line, "\n");
		if (width > TABLE_WIDTH && strncmp(line, host, strlen(host)) != 0)
			fail_msg("a line of %zu columns: %.*s", width, (int)width, line);
	}
	/* 32 names are kept, and those that do not fit are counted. */
	assert_int_equal(s->rows[1].n_comms, MAX_LIST);
	assert_non_null(strstr(table, "process00, process01, "));
	assert_non_null(strstr(table, ", +"));
	free(table);
	summary_free(s);
}

/* --dry-run's records: allowed, but the rules would have refused them. */
static void test_would_refuse(void **state)
{
	const char *log =
	    "{\"event\":\"request\",\"decision\":\"allow\",\"kind\":\"https\",\"host\":"
	    "\"new.test\",\"reason\":\"no rule matches\",\"would_deny\":true,\"pid\":7,"
	    "\"comm\":\"curl\"}\n"
	    "{\"event\":\"request\",\"decision\":\"allow\",\"kind\":\"tcp\",\"host\":"
	    "\"db.test\",\"port\":5432,\"would_deny\":true,\"pid\":8,\"comm\":\"psql\"}\n"
	    "{\"event\":\"request\",\"decision\":\"allow\",\"kind\":\"https\",\"host\":"
	    "\"ok.test\",\"rule\":\"domain=ok.test\",\"would_deny\":false,\"pid\":7,"
	    "\"comm\":\"curl\"}\n";
	struct summary *s = read_log(log);

	(void)state;
	assert_int_equal(summary_invalid(s, NULL), 0);
	check_output(s, false,
		     "HOST          ALLOWED  REFUSED  WOULD-REFUSE  DNS  PROCESSES\n"
		     "db.test:5432        0        0             1    -  psql\n"
		     "new.test            0        0             1    0  curl\n"
		     "ok.test             1        0             0    0  curl\n"
		     "\n"
		     "To allow what was refused, or what --dry-run let through that the rules "
		     "refuse,\nrun boundary with:\n"
		     "  --allow \"domain=db.test port=5432\"\n"
		     "  --allow \"domain=new.test\"\n");
	summary_free(s);
}

/* A 413 (a body over max_body=) is a refusal no new rule would change: none is proposed. */
static void test_too_large(void **state)
{
	const char *log =
	    "{\"event\":\"request\",\"decision\":\"allow\",\"kind\":\"https\",\"host\":"
	    "\"up.test\",\"rule\":\"domain=up.test max_body=1K\",\"pid\":7,\"comm\":\"curl\"}\n"
	    "{\"event\":\"request\",\"decision\":\"deny\",\"kind\":\"https\",\"host\":"
	    "\"up.test\",\"rule\":\"domain=up.test max_body=1K\",\"status\":413,\"pid\":7,"
	    "\"comm\":\"curl\"}\n"
	    "{\"event\":\"request\",\"decision\":\"deny\",\"kind\":\"https\",\"host\":"
	    "\"no.test\",\"reason\":\"no rule matches\",\"status\":403,\"pid\":7,"
	    "\"comm\":\"curl\"}\n";
	struct summary *s = read_log(log);

	(void)state;
	assert_int_equal(summary_invalid(s, NULL), 0);
	check_output(
	    s, false,
	    "HOST     ALLOWED  REFUSED  DNS  PROCESSES\n"
	    "no.test        0        1    0  curl\n"
	    "up.test        1        1    0  curl\n"
	    "\n"
	    "To allow what was refused, restart boundary with:\n"
	    "  --allow \"domain=no.test\"\n"
	    "\n"
	    "A body larger than the max_body= of the rule that allows it was refused (413; "
	    "raise\nthat rule's max_body= to send it):\n"
	    "  up.test: 1\n");
	summary_free(s);
}

/* The Markdown of s; the caller frees it. */
static char *markdown(struct summary *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(summary_write_markdown(s, f), 0);
	fclose(f);
	return buf;
}

/* got and want compared a line at a time: the first line that differs is the one named. */
static void check_lines(const char *got, const char *want)
{
	const char *g = got, *w = want, *ge, *we;
	int line = 1;

	for (;; line++) {
		ge = strchrnul(g, '\n');
		we = strchrnul(w, '\n');
		if (ge - g != we - w || memcmp(g, w, (size_t)(ge - g)) != 0 || !*ge != !*we)
			fail_msg("line %d:\n got: %.*s\nwant: %.*s\n(all of it:\n%s)", line,
				 (int)(ge - g), g, (int)(we - w), w, got);
		if (!*ge)
			break;
		g = ge + 1;
		w = we + 1;
	}
}

/*
 * An audit mode (--dry-run) log as the GitHub Action's summary shows it: totals, a row per host
 * with its processes and executable, and the allow: block for what the rules would refuse.
 */
static void test_markdown(void **state)
{
	const char *log =
	    "{\"event\":\"request\",\"decision\":\"allow\",\"kind\":\"https\",\"host\":"
	    "\"api.example.com\",\"rule\":\"domain=api.example.com\",\"pid\":7,\"comm\":\"curl\","
	    "\"exe\":\"/usr/bin/curl\"}\n"
	    "{\"event\":\"request\",\"decision\":\"allow\",\"kind\":\"https\",\"host\":"
	    "\"new.test\",\"would_deny\":true,\"pid\":7,\"comm\":\"curl\",\"exe\":\"/usr/bin/"
	    "curl\"}\n"
	    "{\"event\":\"request\",\"decision\":\"allow\",\"kind\":\"tcp\",\"host\":"
	    "\"db.test\",\"port\":5432,\"would_deny\":true,\"pid\":8,\"comm\":\"psql\"}\n"
	    "{\"event\":\"request\",\"decision\":\"deny\",\"kind\":\"http\",\"host\":"
	    "\"evil.test\",\"pid\":9,\"comm\":\"python3\"}\n";
	struct summary *s = read_log(log);
	char *md;

	(void)state;
	md = markdown(s);
	check_lines(md, "### boundary: the job's network\n"
			"\n"
			"1 request allowed, 1 refused, 2 let through by audit mode (--dry-run) "
			"that the rules refuse.\n"
			"\n"
			"| Host | Allowed | Refused | Would be refused | DNS | Processes | "
			"Executable |\n"
			"|---|--:|--:|--:|--:|---|---|\n"
			"| db.test:5432 | 0 | 0 | 1 | - | psql | - |\n"
			"| evil.test | 0 | 1 | 0 | 0 | python3 | - |\n"
			"| new.test | 0 | 0 | 1 | 0 | curl | /usr/bin/curl |\n"
			"| api.example.com | 1 | 0 | 0 | 0 | curl | /usr/bin/curl |\n"
			"\n"
			"To allow what was refused, or what audit mode let through that the rules "
			"refuse, add to the action's `allow:` (one rule a line):\n"
			"\n"
			"```yaml\n"
			"allow: |\n"
			"  domain=db.test port=5432\n"
			"  domain=evil.test\n"
			"  domain=new.test\n"
			"```\n"
			"\n"
			"Or, for the one program that made every request there (`exe=`):\n"
			"\n"
			"```yaml\n"
			"allow: |\n"
			"  exe=/usr/bin/curl domain=new.test\n"
			"```\n");
	free(md);
	summary_free(s);
}

/*
 * Names come from whoever runs the servers and the programs: none may be read as a cell break, a
 * tag, code, emphasis or a link, and none is proposed in the allow: block unless it is a rule.
 */
static void test_markdown_escapes(void **state)
{
	const char *log = REQ("deny", "http", "a|b`c*d_e<img src=x>[l](j:x).test", "ev|l<script>")
	    REQ("deny", "http", "x\\u001b[31m.test", "a_b") REQ("allow", "http", "ok.test", "*");
	struct summary *s = read_log(log);
	const char *p;
	char *md;

	(void)state;
	md = markdown(s);
	check_lines(md,
		    "### boundary: the job's network\n"
		    "\n"
		    "1 request allowed, 2 refused.\n"
		    "\n"
		    "| Host | Allowed | Refused | DNS | Processes |\n"
		    "|---|--:|--:|--:|---|\n"
		    "| a\\|b\\`c\\*d\\_e&lt;img src=x&gt;\\[l\\](j:x).test | 0 | 1 | 0 | "
		    "ev\\|l&lt;script&gt; |\n"
		    "| x\\\\x1b\\[31m.test | 0 | 1 | 0 | a\\_b |\n"
		    "| ok.test | 1 | 0 | 0 | \\* |\n"
		    "\n"
		    "No rule this boundary accepts can admit these:\n"
		    "\n"
		    "- a\\|b\\`c\\*d\\_e&lt;img src=x&gt;\\[l\\](j:x).test: \"domain=a\\|b\\`c\\*d"
		    "\\_e&lt;img src=x&gt;\\[l\\](j:x).test\": '\\|' cannot be part of a domain\n"
		    "- x\\\\x1b\\[31m.test: \"domain=x\\\\x1b\\[31m.test\": '\\\\x1b' cannot "
		    "be part of a domain\n");
	/* No raw tag anywhere, and every | not a cell's edge is escaped. */
	assert_null(strchr(md, '<'));
	for (p = strchr(md, '|'); p; p = strchr(p + 1, '|'))
		assert_true(p[-1] == '\\' || p[-1] == ' ' || p[-1] == '\n' || p[-1] == '-' ||
			    p[-1] == ':');
	free(md);
	summary_free(s);
}

static void test_markdown_empty(void **state)
{
	struct summary *s = read_log("");
	char *md;

	(void)state;
	md = markdown(s);
	check_lines(md, "### boundary: the job's network\n\nThe audit log records no decision.\n");
	free(md);
	summary_free(s);
}

static void test_empty(void **state)
{
	struct summary *s = read_log("");

	(void)state;
	check_output(s, false, "The audit log records no decision.\n");
	check_output(s, true, "{\"records\":0,\"invalid_lines\":0,\"dropped\":0,\"hosts\":[]}\n");
	summary_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fold_host),
	    cmocka_unit_test(test_refused_first),
	    cmocka_unit_test(test_exe_suggestion),
	    cmocka_unit_test(test_stream_rows),
	    cmocka_unit_test(test_no_rule_for_some_hosts),
	    cmocka_unit_test(test_lines_that_are_not_records),
	    cmocka_unit_test(test_what_a_terminal_is_shown),
	    cmocka_unit_test(test_long_names_and_many_processes),
	    cmocka_unit_test(test_would_refuse),
	    cmocka_unit_test(test_too_large),
	    cmocka_unit_test(test_empty),
	    cmocka_unit_test(test_markdown),
	    cmocka_unit_test(test_markdown_escapes),
	    cmocka_unit_test(test_markdown_empty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
