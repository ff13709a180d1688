// SPDX-License-Identifier: MIT
/*
 * rules_test.c: unit tests of the rules engine beyond the conformance table: error messages,
 * path normalisation, URL splitting, the domain index against a plain scan, and the promise that
 * rules_match() never allocates.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reach the statics (rule_matches, the views) for the index-versus-scan test. */
#include "../../../rules/match.c"

/* --- allocation counting (not under ASan, which owns malloc) ------------------------------- */
#if !defined(__SANITIZE_ADDRESS__)
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
static unsigned long n_allocs;

void *malloc(size_t n)
{
	n_allocs++;
	return __libc_malloc(n);
}

void *calloc(size_t a, size_t b)
{
	n_allocs++;
	return __libc_calloc(a, b);
}

void *realloc(void *p, size_t n)
{
	n_allocs++;
	return __libc_realloc(p, n);
}
#define COUNTING_ALLOCS 1
#endif

static struct rules *set_of(const char *const *specs)
{
	struct rules *r = rules_new();
	char err[256];
	size_t col;

	assert_non_null(r);
	for (; *specs; specs++) {
		if (rules_add(r, *specs, &col, err, sizeof(err)) != 0)
			fail_msg("rule \"%s\": column %zu: %s", *specs, col, err);
	}
	return r;
}

static struct rules_decision decide(const struct rules *r, const char *method, const char *url)
{
	struct rules_request req = {0};
	struct rules_decision d;
	char path[1024];

	assert_int_equal(rules_url_split(url, &req), 0);
	assert_true(req.path_len < sizeof(path));
	memcpy(path, req.path, req.path_len);
	req.path = path;
	req.path_len = rules_path_normalize(path, req.path_len);
	req.method = method;
	req.method_len = strlen(method);
	rules_match(r, &req, &d);
	return d;
}

/* compat_is SPEC WANT: rules_compat() finds a difference whose message contains want (NULL: none). */
static void compat_is(const char *spec, const char *want)
{
	char msg[512];
	int ret = rules_compat(spec, msg, sizeof(msg));

	if (!want) {
		if (ret != 0)
			fail_msg("\"%s\": got %d (%s), want no difference", spec, ret, msg);
		return;
	}
	if (ret != 1 || !strstr(msg, want))
		fail_msg("\"%s\": got %d (%s), want 1 (%s)", spec, ret, msg, want);
	assert_null(strchr(msg, '\n'));
}

/*
 * A rule coder/boundary reads otherwise still loads, with one line naming the difference; what
 * it loads as is never looser than coder/boundary's reading, or than the error it was.
 */
static void test_compat(void **state)
{
	static const char *const trailing[] = {"domain=a.com path=/a,", NULL};
	static const char *const middle[] = {"path=,/a,,/b", NULL};
	static const char *const twice[] = {"domain=a.com domain=b.com", NULL};
	struct rules *r;

	(void)state;
	compat_is("path=/", "path=/ means the root page only here");
	compat_is("path=/,/index.html", "write path=* for that");
	compat_is("domain=a.com path=/a,", "an empty path in path='s list");
	compat_is("path=,/a", "an empty path in path='s list");
	compat_is("domain=a.com domain=b.com", "one name, a.com.b.com");
	compat_is("domain=*.a.com domain=b.com", "one name, *.a.com.b.com");
	compat_is("domain=GitHub.com", "in any case here");
	compat_is("domain=github.com.", "a trailing dot in domain=");
	compat_is("path=/a%20b", "a %XX escape in path=");
	/* The first difference only: one line a rule. */
	compat_is("path=/ domain=A.com", "path=/ means");
	compat_is("domain=github.com path=/api/* method=GET,HEAD port=443", NULL);
	compat_is("domain=*", NULL);
	compat_is("path=*", NULL);
	assert_true(rules_compat("domain=a.com:1", (char[64]){0}, 64) < 0);

	/* path=/a, is path=/a: not every path, as coder/boundary reads it. */
	r = set_of(trailing);
	assert_true(decide(r, "GET", "https://a.com/a").allow);
	assert_false(decide(r, "GET", "https://a.com/b").allow);
	assert_false(decide(r, "GET", "https://a.com/").allow);
	rules_free(r);
	r = set_of(middle);
	assert_true(decide(r, "GET", "https://x.com/a").allow);
	assert_true(decide(r, "GET", "https://x.com/b").allow);
	assert_false(decide(r, "GET", "https://x.com/c").allow);
	rules_free(r);
	/* domain= twice is the glued name, as coder/boundary reads it: neither of the two. */
	r = set_of(twice);
	assert_true(decide(r, "GET", "https://a.com.b.com/").allow);
	assert_false(decide(r, "GET", "https://a.com/").allow);
	assert_false(decide(r, "GET", "https://b.com/").allow);
	rules_free(r);
}

static void test_empty_set_denies(void **state)
{
	struct rules *r = rules_new();
	struct rules_decision d;

	(void)state;
	d = decide(r, "GET", "https://example.com/");
	assert_false(d.allow);
	assert_null(d.raw);
	assert_string_equal(d.reason, "no rule matches");
	assert_int_equal(rules_count(r), 0);
	rules_free(r);
	rules_free(NULL);
}

static void test_error_messages(void **state)
{
	static const struct {
		const char *spec;
		int code;
		size_t col;
		const char *msg;
	} cases[] = {
	    {"domain=github.com:8080", -RULES_E_PORT, 18,
	     "a port cannot be part of domain (write it as its own key: port=8080)"},
	    {"", -RULES_E_EMPTY, 1,
	     "an empty rule would allow everything; use \"domain=*\" to allow everything"},
	    {"foo=bar", -RULES_E_KEY, 1,
	     "unknown key \"foo\" (keys: method, domain, path, port, ip, max_body, exe)"},
	    {"domain", -RULES_E_KEY, 1,
	     "expected key=value (keys: method, domain, path, port, ip, max_body, exe)"},
	    {"method=GET,", -RULES_E_VALUE, 12, "empty method in the list"},
	    {"domain=* domain=a.com", -RULES_E_DUPLICATE, 10, NULL},
	    {"domain=a.com domain=[::1]", -RULES_E_DUPLICATE, 14, NULL},
	    {"path=,", -RULES_E_VALUE, 6, NULL},
	    {"path=/a path=,,", -RULES_E_VALUE, 14, NULL},
	    {"path=/a%2", -RULES_E_PATH, 8, "'%' must start a %XX escape"},
	    {"path=/a b", -RULES_E_KEY, 9,
	     "expected key=value (keys: method, domain, path, port, ip, max_body, exe)"},
	    {"path=/a\"b", -RULES_E_PATH, 8, "'\"' cannot be part of a path (escape it as %22)"},
	    {"domain=a_b.com", -RULES_E_DOMAIN, 9, "'_' cannot be part of a domain"},
	    {"domain=*x.com", -RULES_E_DOMAIN, 8, "* must be a whole label (write *.example.com)"},
	};
	struct rules *r = rules_new();
	char err[256];
	size_t col, i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int ret = rules_add(r, cases[i].spec, &col, err, sizeof(err));

		if (ret != cases[i].code || col != cases[i].col)
			fail_msg("\"%s\": got %d col %zu (%s), want %d col %zu", cases[i].spec, ret,
				 col, err, cases[i].code, cases[i].col);
		if (cases[i].msg)
			assert_string_equal(err, cases[i].msg);
		assert_non_null(rules_strerror(ret));
	}
	/* A failed add leaves the set unchanged. */
	assert_int_equal(rules_count(r), 0);
	/* NULL err and err_col are allowed. */
	assert_int_equal(rules_add(r, "", NULL, NULL, 0), -RULES_E_EMPTY);
	rules_free(r);
}

static void test_too_long(void **state)
{
	struct rules *r = rules_new();
	char *spec = malloc(RULES_MAX_SPEC + 16);
	char label[80];

	(void)state;
	memset(spec, 'a', RULES_MAX_SPEC + 8);
	memcpy(spec, "domain=", 7);
	spec[RULES_MAX_SPEC + 8] = '\0';
	assert_int_equal(rules_add(r, spec, NULL, NULL, 0), -RULES_E_TOO_LONG);
	memset(label, 'a', 64);
	label[64] = '\0';
	snprintf(spec, RULES_MAX_SPEC, "domain=%s.com", label);
	assert_int_equal(rules_add(r, spec, NULL, NULL, 0), -RULES_E_TOO_LONG);
	free(spec);
	rules_free(r);
}

static void check_norm(const char *in, const char *want)
{
	char buf[256];
	size_t n;

	snprintf(buf, sizeof(buf), "%s", in);
	n = rules_path_normalize(buf, strlen(buf));
	buf[n] = '\0';
	if (strcmp(buf, want) != 0)
		fail_msg("normalize(\"%s\") = \"%s\", want \"%s\"", in, buf, want);
	/* Normalising twice changes nothing. */
	n = rules_path_normalize(buf, n);
	buf[n] = '\0';
	assert_string_equal(buf, want);
}

static void test_normalize(void **state)
{
	(void)state;
	/* RFC 3986 section 5.4 examples, made absolute. */
	check_norm("/a/b/c/./../../g", "/a/g");
	check_norm("/mid/content=5/../6", "/mid/6");
	check_norm("/a/b/..", "/a/");
	check_norm("/a/b/.", "/a/b/");
	check_norm("/..", "/");
	check_norm("/../../x", "/x");
	check_norm("/.", "/");
	check_norm("/a//../b", "/a/b");
	check_norm("/a/%2e%2E/b", "/b");
	check_norm("/a/.%2e/b", "/b");
	check_norm("/a/%2e/b", "/a/b");
	check_norm("/a/...", "/a/...");
	check_norm("/a/..b/c", "/a/..b/c");
	check_norm("/a/%2f../b", "/a/%2f../b");
	check_norm("/x/../y?a=/../b#/..", "/y?a=/../b#/..");
	check_norm("/npm/@scope%2Fpkg", "/npm/@scope%2Fpkg");
	check_norm("/", "/");
	check_norm("", "");
	check_norm("*", "*");
	check_norm("?q=1", "?q=1");
}

static void test_url_split(void **state)
{
	struct rules_request req;

	(void)state;
	assert_int_equal(rules_url_split("https://u:p@h.com:8443/a/b?q#f", &req), 0);
	assert_int_equal(req.host_len, 10);
	assert_memory_equal(req.host, "h.com:8443", 10);
	assert_int_equal(req.path_len, 8);
	assert_memory_equal(req.path, "/a/b?q#f", 8);
	assert_int_equal(rules_url_split("example.com", &req), 0);
	assert_int_equal(req.path_len, 0);
	assert_int_equal(rules_url_split("http://[::1]:80/", &req), 0);
	assert_int_equal(req.host_len, 8);
	assert_int_equal(rules_url_split("https:///x", &req), -RULES_E_VALUE);
	assert_int_equal(rules_url_split("", &req), -RULES_E_VALUE);
}

static void test_unnormalised_path_denies(void **state)
{
	static const char *const all[] = {"domain=*", NULL};
	struct rules *r = set_of(all);
	struct rules_request req = {
	    .method = "GET", .method_len = 3, .host = "x.com", .host_len = 5};
	struct rules_decision d;

	(void)state;
	req.path = "/a/../b";
	req.path_len = 7;
	rules_match(r, &req, &d);
	assert_false(d.allow);
	assert_non_null(strstr(d.reason, "not normalised"));
	req.path = "/a/%2E";
	req.path_len = 6;
	rules_match(r, &req, &d);
	assert_false(d.allow);
	req.path = "/a/%4";
	req.path_len = 5;
	rules_match(r, &req, &d);
	assert_false(d.allow);
	assert_non_null(strstr(d.reason, "escape"));
	/* The query is not judged: broken escapes there do not matter. */
	req.path = "/a?%zz";
	req.path_len = 6;
	rules_match(r, &req, &d);
	assert_true(d.allow);
	rules_free(r);
}

static void test_hosts(void **state)
{
	static const char *const specs[] = {"domain=*.example.com", "domain=[2001:db8::1]",
					    "domain=10.0.0.1", NULL};
	static const struct {
		const char *host;
		bool allow;
	} cases[] = {
	    {"a.example.com", true},
	    {"A.EXAMPLE.COM.", true},
	    {"a.b.example.com:443", true},
	    {"example.com", false},
	    {"aexample.com", false},
	    {".example.com", false},
	    {"a..example.com", false},
	    {"a.example.com..", false},
	    {"a.example.com:x", false},
	    {"[2001:db8::1]", true},
	    {"[2001:db8::1]:8443", true},
	    {"[2001:db8::1]x", false},
	    {"2001:db8::1", false},
	    {"[::ffff:10.0.0.1]", false},
	    {"10.0.0.1:1", true},
	    {"10.0.0.1.", true},
	    {"", false},
	    {"[", false},
	    {"a.example.com\n", false},
	    {"a b.example.com", false},
	};
	struct rules *r = set_of(specs);
	struct rules_request req = {.method = "GET", .method_len = 3, .path = "/", .path_len = 1};
	struct rules_decision d;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		req.host = cases[i].host;
		req.host_len = strlen(cases[i].host);
		rules_match(r, &req, &d);
		if (d.allow != cases[i].allow)
			fail_msg("host \"%s\": got %s, want %s", cases[i].host,
				 d.allow ? "allow" : "deny", cases[i].allow ? "allow" : "deny");
	}
	rules_free(r);
}

/* The index must find exactly what a plain scan of every rule finds, first rule first. */
static void test_index_agrees_with_scan(void **state)
{
	static const char *const words[] = {"a", "b", "c", "api", "x"};
	static const char *const paths[] = {"", " path=/a/*", " path=/b", " path=/*/b"};
	static const char *const methods[] = {"", "method=GET ", "method=POST "};
	static const char *const ports[] = {"", "", " port=443", " port=80,8000-9000"};
	struct rules *r = rules_new();
	char spec[160], host[64], url[160];
	struct rules_decision d;
	struct rules_request req;
	struct match_ctx m;
	unsigned seed = 12345;
	size_t i, k, want;
	int n;

	(void)state;
	for (i = 0; i < 400; i++) {
		seed = seed * 1103515245 + 12345;
		n = (int)((seed >> 8) % 3) + 1;
		host[0] = '\0';
		for (k = 0; k < (size_t)n; k++) {
			seed = seed * 1103515245 + 12345;
			strcat(host, k ? "." : "");
			strcat(host,
			       (k == 0 && (seed >> 20) % 4 == 0) ? "*" : words[(seed >> 9) % 5]);
		}
		if (strcmp(host, "*") == 0 || host[strlen(host) - 1] == '*')
			strcat(host, ".com");
		snprintf(spec, sizeof(spec), "%sdomain=%s%s%s", methods[(seed >> 3) % 3], host,
			 paths[(seed >> 5) % 4], ports[(seed >> 11) % 4]);
		assert_int_equal(rules_add(r, spec, NULL, NULL, 0), 0);
	}
	for (i = 0; i < 3000; i++) {
		seed = seed * 1103515245 + 12345;
		n = (int)((seed >> 8) % 4) + 1;
		host[0] = '\0';
		for (k = 0; k < (size_t)n; k++) {
			seed = seed * 1103515245 + 12345;
			strcat(host, k ? "." : "");
			strcat(host, words[(seed >> 9) % 5]);
		}
		if ((seed >> 4) % 2)
			strcat(host, ".com");
		snprintf(url, sizeof(url), "https://%s%s/%s/b", host,
			 (seed >> 12) % 3 == 0 ? ":8443" : "", (seed >> 6) % 2 ? "a" : "z");
		d = decide(r, (seed >> 7) % 2 ? "GET" : "POST", url);

		/* the plain scan */
		assert_int_equal(rules_url_split(url, &req), 0);
		req.method = (seed >> 7) % 2 ? "GET" : "POST";
		req.method_len = strlen(req.method);
		memset(&m, 0, sizeof(m));
		m.req = &req;
		m.mode = MATCH_REQUEST;
		host_view_init(&m.hv, req.host, req.host_len);
		m.port = req.port;
		assert_null(path_view_init(&m.pv, req.path, req.path_len));
		want = SIZE_MAX;
		for (k = 0; k < r->n; k++) {
			if (rule_matches(&r->rule[k], &m)) {
				want = k;
				break;
			}
		}
		if (d.allow != (want != SIZE_MAX) || (d.allow && d.rule != want))
			fail_msg("%s %s: index says %s (rule %zu), scan says rule %zu", req.method,
				 url, d.allow ? "allow" : "deny", d.rule, want);
	}
	rules_free(r);
}

/* CONNECT is judged on the host alone: methods and paths of the rule do not matter. */
static void test_match_host(void **state)
{
	static const char *const specs[] = {"method=GET domain=a.com path=/x", "domain=*.b.com",
					    NULL};
	struct rules *r = set_of(specs);
	struct rules_decision d;

	(void)state;
	rules_match_host(r, "a.com:443", 9, 0, RULES_ANY, &d);
	assert_true(d.allow);
	assert_int_equal(d.rule, 0);
	rules_match_host(r, "x.b.com", 7, 0, RULES_ANY, &d);
	assert_true(d.allow);
	assert_int_equal(d.rule, 1);
	rules_match_host(r, "b.com", 5, 0, RULES_ANY, &d);
	assert_false(d.allow);
	rules_match_host(r, "bad host", 8, 0, RULES_ANY, &d);
	assert_false(d.allow);
	rules_free(r);
}

/* The scopes: stream rules (port=, no method= or path=) against every other rule. */
static void test_match_host_scopes(void **state)
{
	static const char *const specs[] = {"domain=a.com port=22",
					    "domain=a.com port=443",
					    "domain=a.com port=443 path=/x",
					    "domain=b.com",
					    "method=GET domain=c.com port=22",
					    NULL};
	struct rules *r = set_of(specs);
	struct rules_decision d;

	(void)state;
	rules_match_host(r, "a.com", 5, 22, RULES_STREAM, &d);
	assert_true(d.allow);
	assert_int_equal(d.rule, 0);
	assert_true(rules_is_stream(r, 0));
	rules_match_host(r, "a.com", 5, 22, RULES_REQUESTS, &d);
	assert_false(d.allow);
	rules_match_host(r, "a.com", 5, 443, RULES_REQUESTS, &d);
	assert_true(d.allow);
	assert_int_equal(d.rule, 2);
	rules_match_host(r, "a.com", 5, 443, RULES_ANY, &d);
	assert_int_equal(d.rule, 1);
	/* the host's own ":port" counts when no port is given */
	rules_match_host(r, "a.com:22", 8, 0, RULES_STREAM, &d);
	assert_true(d.allow);
	rules_match_host(r, "a.com", 5, 0, RULES_ANY, &d);
	assert_false(d.allow);
	rules_match_host(r, "b.com", 5, 22, RULES_STREAM, &d);
	assert_false(d.allow);
	rules_match_host(r, "b.com", 5, 22, RULES_REQUESTS, &d);
	assert_true(d.allow);
	rules_match_host(r, "c.com", 5, 22, RULES_STREAM, &d);
	assert_false(d.allow);
	assert_false(rules_is_stream(r, 4));
	/* RULES_DOMAIN: any rule of the name, whatever its ports (for DNS answers) */
	rules_match_host(r, "c.com", 5, 0, RULES_DOMAIN, &d);
	assert_true(d.allow);
	rules_match_host(r, "a.com", 5, 0, RULES_DOMAIN, &d);
	assert_int_equal(d.rule, 0);
	rules_match_host(r, "d.com", 5, 0, RULES_DOMAIN, &d);
	assert_false(d.allow);
	assert_false(rules_is_stream(r, 99));
	rules_free(r);
}

/* A rule names its hosts unless its domain is "*" or absent (then the proxy keeps it off the host's own addresses). */
static void test_names_host(void **state)
{
	static const char *const specs[] = {
	    "domain=*",		"method=GET",	"path=/x",   "domain=a.com",	 "domain=*.a.com",
	    "domain=127.0.0.1", "domain=[::1]", "port=5432", "domain=* port=22", NULL};
	struct rules *r = set_of(specs);

	(void)state;
	assert_false(rules_names_host(r, 0));
	assert_false(rules_names_host(r, 1));
	assert_false(rules_names_host(r, 2));
	assert_true(rules_names_host(r, 3));
	assert_true(rules_names_host(r, 4));
	assert_true(rules_names_host(r, 5));
	assert_true(rules_names_host(r, 6));
	assert_false(rules_names_host(r, 7));
	assert_false(rules_names_host(r, 8));
	assert_false(rules_names_host(r, 99));
	rules_free(r);
}

/* rules_request_init() is what the proxy and the policy service fill a request with. */
static void test_request_init(void **state)
{
	struct rules *r = rules_new();
	struct rules_request rq;
	struct rules_decision d;
	char err[256];
	const char *path = "/v1/messages?x";

	(void)state;
	assert_non_null(r);
	assert_int_equal(
	    rules_add(r, "method=POST domain=api.test path=/v1/* port=443", NULL, err, sizeof(err)),
	    0);
	rules_request_init(&rq, "POST", "api.test", path, strlen("/v1/messages"), 443);
	assert_int_equal(rq.method_len, 4);
	assert_int_equal(rq.host_len, 8);
	assert_int_equal(rq.path_len, 12);
	rules_match(r, &rq, &d);
	assert_true(d.allow);
	rules_request_init(&rq, "POST", "api.test", path, strlen("/v1/messages"), 8443);
	rules_match(r, &rq, &d);
	assert_false(d.allow);
	rules_free(r);
}

static void test_check(void **state)
{
	char err[256] = "";

	(void)state;
	assert_int_equal(rules_check("domain=github.com port=22", err, sizeof(err)), 0);
	assert_int_equal(rules_check("domain=github.com:22", err, sizeof(err)), -RULES_E_PORT);
	assert_non_null(strstr(err, "port=22"));
	assert_int_equal(rules_check("", NULL, 0), -RULES_E_EMPTY);
}

static void test_url_split_ports(void **state)
{
	struct rules_request req;

	(void)state;
	assert_int_equal(rules_url_split("http://a.com/x", &req), 0);
	assert_int_equal(req.port, 80);
	assert_int_equal(rules_url_split("https://a.com/x", &req), 0);
	assert_int_equal(req.port, 443);
	assert_int_equal(rules_url_split("a.com/x", &req), 0);
	assert_int_equal(req.port, 443);
	assert_int_equal(rules_url_split("tcp://a.com:22", &req), 0);
	assert_int_equal(req.port, 22);
	assert_int_equal(rules_url_split("tcp://a.com", &req), 0);
	assert_int_equal(req.port, 0);
	assert_int_equal(rules_url_split("http://[::1]:8080/", &req), 0);
	assert_int_equal(req.port, 8080);
	assert_int_equal(rules_url_split("http://[::1]/", &req), 0);
	assert_int_equal(req.port, 80);
	assert_int_equal(rules_url_split("http://a.com:0/", &req), -RULES_E_VALUE);
	assert_int_equal(rules_url_split("http://a.com:65536/", &req), -RULES_E_VALUE);
	assert_int_equal(rules_url_split("http://a.com:x/", &req), -RULES_E_VALUE);
}

/* exe=: parsed and kept as written, bound by the caller, matched by device and inode only. */
static void test_exe(void **state)
{
	static const char *const specs[] = {
	    "exe=/usr/bin/git domain=github.com",
	    "exe=/usr/bin/ssh,/usr/bin/scp exe=/opt/x domain=github.com port=22",
	    "domain=example.com",
	    "exe=/bin/never domain=*",
	    NULL,
	};
	struct rules *r = set_of(specs);
	struct rules_request req = {0};
	struct rules_decision d;
	char err[256];
	size_t col;

	(void)state;
	assert_int_equal(rules_exe_count(r, 0), 1);
	assert_string_equal(rules_exe_path(r, 0, 0), "/usr/bin/git");
	assert_int_equal(rules_exe_count(r, 1), 3);
	assert_string_equal(rules_exe_path(r, 1, 1), "/usr/bin/scp");
	assert_string_equal(rules_exe_path(r, 1, 2), "/opt/x");
	assert_null(rules_exe_path(r, 1, 3));
	assert_int_equal(rules_exe_count(r, 2), 0);
	assert_int_equal(rules_exe_count(r, 99), 0);
	/* exe= does not make a rule an HTTP rule: with port= alone it is a stream rule. */
	assert_true(rules_is_stream(r, 1));

	/* Not bound yet: the rule matches no program, even one with the right numbers. */
	rules_request_init(&req, "GET", "github.com", "/", 1, 443);
	req.has_exe = true;
	req.exe_dev = 0;
	req.exe_ino = 0;
	rules_match(r, &req, &d);
	assert_false(d.allow);

	rules_exe_bind(r, 0, 0, 2049, 100);
	rules_exe_bind(r, 1, 0, 2049, 200);
	rules_exe_bind(r, 1, 2, 2050, 300);
	rules_exe_bind(r, 99, 0, 1, 1); /* out of range: ignored */
	req.exe_dev = 2049;
	req.exe_ino = 100;
	rules_match(r, &req, &d);
	assert_true(d.allow);
	assert_int_equal(d.rule, 0);
	/* Another inode on the same device (a copy), or the same inode on another device. */
	req.exe_ino = 101;
	rules_match(r, &req, &d);
	assert_false(d.allow);
	/* The refusal says the program is why: a rule matched all the rest. */
	assert_ptr_equal(d.reason, DENY_EXE);
	req.exe_dev = 2050;
	req.exe_ino = 100;
	rules_match(r, &req, &d);
	assert_false(d.allow);
	/* Unknown executable (an explicit proxy client): exe= rules do not match... */
	req.has_exe = false;
	req.exe_dev = 2049;
	req.exe_ino = 100;
	rules_match(r, &req, &d);
	assert_false(d.allow);
	/* ...and rules without exe= match every program, known or not. */
	rules_request_init(&req, "GET", "example.com", "/", 1, 443);
	rules_match(r, &req, &d);
	assert_true(d.allow);
	req.has_exe = true;
	req.exe_dev = 7;
	req.exe_ino = 7;
	rules_match(r, &req, &d);
	assert_true(d.allow);

	/* Host-level decisions: the stream rule for its programs only; DNS ignores exe=. */
	req.host = "github.com";
	req.host_len = 10;
	req.port = 22;
	req.exe_dev = 2050;
	req.exe_ino = 300;
	rules_match_host_req(r, &req, RULES_STREAM, &d);
	assert_true(d.allow);
	assert_int_equal(d.rule, 1);
	req.exe_ino = 301;
	rules_match_host_req(r, &req, RULES_STREAM, &d);
	assert_false(d.allow);
	rules_match_host_req(r, &req, RULES_ANY, &d);
	assert_false(d.allow);
	assert_ptr_equal(d.reason, DENY_EXE);
	/* A port no stream rule lists is refused for that, whatever the program. */
	req.port = 23;
	rules_match_host_req(r, &req, RULES_STREAM, &d);
	assert_ptr_equal(d.reason, DENY_NO_RULE);
	req.port = 22;
	req.has_exe = false;
	rules_match_host_req(r, &req, RULES_DOMAIN, &d);
	assert_true(d.allow);
	/* rules_match_host() knows no executable: exe= rules never match through it. */
	rules_match_host(r, "github.com", 10, 22, RULES_STREAM, &d);
	assert_false(d.allow);
	rules_free(r);

	/* Errors: an absolute path, nothing empty, with the column. */
	r = rules_new();
	assert_int_equal(rules_add(r, "exe=git domain=a.com", &col, err, sizeof(err)),
			 -RULES_E_EXE);
	assert_int_equal(col, 5);
	assert_string_equal(err, "exe= takes an absolute path, not \"git\" (`command -v NAME` "
				 "prints a program's)");
	assert_int_equal(rules_add(r, "domain=a.com exe=", &col, err, sizeof(err)), -RULES_E_VALUE);
	assert_int_equal(col, 18);
	assert_int_equal(rules_add(r, "exe=/a,,/b", &col, err, sizeof(err)), -RULES_E_EXE);
	assert_int_equal(col, 8);
	assert_string_equal(err, "empty path in the list");
	assert_int_equal(rules_add(r, "exe=/a, domain=x", &col, err, sizeof(err)), -RULES_E_EXE);
	assert_int_equal(col, 8);
	assert_int_equal(rules_add(r, "exe=./a", &col, err, sizeof(err)), -RULES_E_EXE);
	assert_string_equal(rules_strerror(-RULES_E_EXE), "bad executable path");
	assert_int_equal(rules_count(r), 0);
	rules_free(r);
}

static void test_match_does_not_allocate(void **state)
{
#ifdef COUNTING_ALLOCS
	static const char *const specs[] = {"method=GET domain=*.github.com path=/api/*",
					    "domain=example.com",
					    "domain=[::1]",
					    "path=/x/*/y",
					    "exe=/usr/bin/git domain=nope.org",
					    NULL};
	struct rules *r = set_of(specs);
	struct rules_request req = {.method = "GET", .method_len = 3, .has_exe = true};
	struct rules_decision d;
	static const char *const hosts[] = {"a.github.com", "example.com", "[::1]:80", "nope.org",
					    "bad host"};
	unsigned long before;
	size_t i;

	(void)state;
	before = n_allocs;
	for (i = 0; i < 1000; i++) {
		req.host = hosts[i % 5];
		req.host_len = strlen(req.host);
		req.path = (i % 2) ? "/api/v1/%41?q" : "/x/y/z";
		req.path_len = strlen(req.path);
		rules_match(r, &req, &d);
	}
	assert_int_equal(n_allocs - before, 0);
	/* The counter itself works. */
	free(malloc(1));
	assert_int_equal(n_allocs - before, 1);
	rules_free(r);
#else
	(void)state;
	skip();
#endif
}

/* max_body=: sizes (1024-based), what is refused and why, and the limit on the decision. */
static void test_max_body(void **state)
{
	static const struct {
		const char *spec;
		uint64_t bytes;
	} sizes[] = {
	    {"max_body=1", 1},
	    {"max_body=512K", 512 * 1024},
	    {"max_body=10M", 10 * 1024 * 1024},
	    {"max_body=10m", 10 * 1024 * 1024},
	    {"max_body=1G", 1024 * 1024 * 1024},
	    {"max_body=3g", 3ULL * 1024 * 1024 * 1024},
	    {"max_body=9223372036854775807", 9223372036854775807ULL},
	    {"domain=x.com max_body=100 method=POST", 100},
	    {"domain=x.com port=8443 path=* max_body=1K", 1024},
	};
	static const struct {
		const char *spec;
		int code;
		size_t col;
		const char *msg; /* a phrase of the message */
	} bad[] = {
	    {"max_body=", -RULES_E_VALUE, 10, "needs a size"},
	    {"max_body=x", -RULES_E_VALUE, 10, "needs a size"},
	    {"max_body=-1", -RULES_E_VALUE, 10, "needs a size"},
	    {"max_body=0", -RULES_E_VALUE, 10, "max_body=0 would refuse every body"},
	    {"max_body=0K", -RULES_E_VALUE, 10, "max_body=0 would refuse every body"},
	    {"max_body=10MB", -RULES_E_VALUE, 13, "'B' cannot follow a size"},
	    {"max_body=10 M", -RULES_E_KEY, 13, "expected key=value"},
	    {"max_body=1T", -RULES_E_VALUE, 11, "'T' cannot follow a size"},
	    {"max_body=1.5M", -RULES_E_VALUE, 11, "'.' cannot follow a size"},
	    {"max_body=9223372036854775808", -RULES_E_VALUE, 10, "too large"},
	    {"max_body=99999999999999999999999", -RULES_E_VALUE, 10, "too large"},
	    {"max_body=8589934592G", -RULES_E_VALUE, 10, "too large"},
	    {"max_body=1K max_body=2K", -RULES_E_DUPLICATE, 13, "given twice"},
	    {"domain=x.com port=22 max_body=1M", -RULES_E_VALUE, 22, "passes connections through"},
	    {"max_body=1M port=443 method=*", -RULES_E_VALUE, 1, "add path=*"},
	};
	struct rules *r = rules_new();
	struct rules_decision d;
	char err[256];
	size_t col, i;
	int ret;

	(void)state;
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		if (rules_add(r, sizes[i].spec, &col, err, sizeof(err)) != 0)
			fail_msg("\"%s\": column %zu: %s", sizes[i].spec, col, err);
		assert_true(r->rule[rules_count(r) - 1].max_body == sizes[i].bytes);
	}
	rules_free(r);
	r = rules_new();
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ret = rules_add(r, bad[i].spec, &col, err, sizeof(err));
		if (ret != bad[i].code || col != bad[i].col || !strstr(err, bad[i].msg))
			fail_msg("\"%s\": got %d col %zu (%s), want %d col %zu (%s)", bad[i].spec,
				 ret, col, err, bad[i].code, bad[i].col, bad[i].msg);
	}
	assert_int_equal(rules_count(r), 0);
	rules_free(r);

	/* The decision carries the deciding rule's limit, and 0 when there is none or a deny. */
	{
		static const char *const specs[] = {"domain=a.com path=/up max_body=1K",
						    "domain=a.com", "max_body=2M", NULL};

		r = set_of(specs);
	}
	d = decide(r, "POST", "https://a.com/up");
	assert_true(d.allow && d.rule == 0 && d.max_body == 1024);
	d = decide(r, "POST", "https://a.com/other");
	assert_true(d.allow && d.rule == 1 && d.max_body == 0);
	/* a rule of max_body= alone matches every request, as domain=* does */
	d = decide(r, "PUT", "http://b.org:8080/x");
	assert_true(d.allow && d.rule == 2 && d.max_body == 2 * 1024 * 1024);
	rules_match_host(r, "b.org", 5, 443, RULES_ANY, &d);
	assert_true(d.allow && d.max_body == 2 * 1024 * 1024);
	/* it is no stream rule: a connection with no requests to read is not let through by it */
	rules_match_host(r, "b.org", 5, 22, RULES_STREAM, &d);
	assert_false(d.allow);
	assert_true(d.max_body == 0);
	d = decide(r, "GET", "https://bad host/");
	assert_false(d.allow);
	assert_true(d.max_body == 0);
	rules_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_empty_set_denies),
	    cmocka_unit_test(test_error_messages),
	    cmocka_unit_test(test_too_long),
	    cmocka_unit_test(test_normalize),
	    cmocka_unit_test(test_url_split),
	    cmocka_unit_test(test_unnormalised_path_denies),
	    cmocka_unit_test(test_hosts),
	    cmocka_unit_test(test_index_agrees_with_scan),
	    cmocka_unit_test(test_match_host),
	    cmocka_unit_test(test_match_host_scopes),
	    cmocka_unit_test(test_url_split_ports),
	    cmocka_unit_test(test_names_host),
	    cmocka_unit_test(test_request_init),
	    cmocka_unit_test(test_check),
	    cmocka_unit_test(test_exe),
	    cmocka_unit_test(test_match_does_not_allocate),
	    cmocka_unit_test(test_max_body),
	    cmocka_unit_test(test_compat),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
