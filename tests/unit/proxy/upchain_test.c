// SPDX-License-Identifier: MIT
/*
 * upchain_test.c: the upstream proxy's pure half (proxy/upchain.c): the URL's parser (schemes,
 * hosts, ports, percent-decoded credentials, and errors that never quote them), the
 * Proxy-Authorization value made from them, and the bypass patterns.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "proxy/upchain.h"

/* Reaches the record's statics: the Basic value and the compiled bypass list. */
#include "../../../proxy/upchain.c"

static void test_parses_what_proxies_are_written_as(void **state)
{
	struct upchain_url u;
	char err[256];

	(void)state;
	assert_int_equal(upchain_parse_url("http://proxy.corp:3128", &u, err, sizeof(err)), 0);
	assert_false(u.tls);
	assert_string_equal(u.host, "proxy.corp");
	assert_int_equal(u.port, 3128);
	assert_false(u.auth);

	assert_int_equal(upchain_parse_url("HTTPS://10.0.0.1:443/", &u, err, sizeof(err)), 0);
	assert_true(u.tls);
	assert_string_equal(u.host, "10.0.0.1");
	assert_int_equal(u.port, 443);

	assert_int_equal(upchain_parse_url("http://[::1]:8080", &u, err, sizeof(err)), 0);
	assert_string_equal(u.host, "::1");
	assert_int_equal(u.port, 8080);

	/* Encoded, a space is a character like any other. */
	assert_int_equal(upchain_parse_url("http://al%20ice:pw@proxy:1", &u, err, sizeof(err)), 0);
	assert_string_equal(u.user, "al ice");
}

static void test_credentials_are_percent_decoded(void **state)
{
	struct upchain_url u;
	char err[256];

	(void)state;
	assert_int_equal(
	    upchain_parse_url("http://alice:p%40ss%3Aw%25rd@proxy:3128", &u, err, sizeof(err)), 0);
	assert_true(u.auth);
	assert_string_equal(u.user, "alice");
	assert_string_equal(u.pass, "p@ss:w%rd");
	assert_string_equal(u.host, "proxy");

	/* A user alone, an empty password, and the last '@' ending the credentials. */
	assert_int_equal(upchain_parse_url("http://bob@proxy:1", &u, err, sizeof(err)), 0);
	assert_true(u.auth);
	assert_string_equal(u.user, "bob");
	assert_string_equal(u.pass, "");
	assert_int_equal(upchain_parse_url("http://bob:@proxy:1", &u, err, sizeof(err)), 0);
	assert_string_equal(u.pass, "");
	/* A raw ':' in the password is the password's: only the first one splits. */
	assert_int_equal(upchain_parse_url("http://bob:a:b@proxy:1", &u, err, sizeof(err)), 0);
	assert_string_equal(u.pass, "a:b");
}

/* Each bad URL is refused, and the message never holds the secret part of it. */
static void refuses(const char *url, const char *says)
{
	struct upchain_url u;
	char err[256];

	memset(err, 0, sizeof(err));
	assert_int_equal(upchain_parse_url(url, &u, err, sizeof(err)), -EINVAL);
	if (!strstr(err, says))
		fail_msg("%s: \"%s\" lacks \"%s\"", url, err, says);
	assert_null(strstr(err, "SECRET"));
	/* Nothing of a refused URL's credentials stays in the record. */
	assert_string_equal(u.user, "");
	assert_string_equal(u.pass, "");
}

static void test_refusals_say_what_and_never_quote(void **state)
{
	(void)state;
	refuses("proxy:3128", "not an http:// or https:// URL");
	refuses("socks5://proxy:1080", "not an http:// or https:// URL");
	refuses("http://proxy", "no port");
	refuses("http://u:SECRET@proxy", "no port");
	refuses("http://proxy:0", "not a number from 1 to 65535");
	refuses("http://proxy:65536", "not a number from 1 to 65535");
	refuses("http://proxy:+80", "not a number from 1 to 65535");
	refuses("http://proxy:80x", "not a number from 1 to 65535");
	refuses("http://proxy:3128/path", "no path");
	refuses("http://proxy:3128?q", "no path");
	refuses("http://:3128", "no host");
	refuses("http://u:SECRET@:3128", "no host");
	refuses("http://pro xy:3128", "not a name or an address");
	refuses("http://[::1:3128", "closing ']'");
	refuses("http://[nope]:3128", "not an IPv6 address");
	refuses("http://[::1]", "no port");
	refuses("http://u:SECRET%0d%0aX:y@proxy:1", "control character");
	refuses("http://u:SECRET%zz@proxy:1", "two hex digits");
	refuses("http://u:SECRET%4@proxy:1", "two hex digits");
	refuses("http://a%3Ab:SECRET@proxy:1", "Basic authentication cannot carry");
	refuses("http://u:SEC RET@proxy:1", "percent-encode it");
}

static void test_basic_value_and_name(void **state)
{
	char err[256];
	struct upchain *u =
	    upchain_new("http://alice:p%40ss@proxy.corp:3128", NULL, false, err, sizeof(err));

	(void)state;
	assert_non_null(u);
	/* base64("alice:p@ss") */
	assert_string_equal(u->auth, "Basic YWxpY2U6cEBzcw==");
	assert_string_equal(upchain_name(u), "proxy.corp:3128");
	assert_true(upchain_has_auth(u));
	assert_false(upchain_tls(u));
	/* The decoded credentials are wiped once the value is made. */
	assert_string_equal(u->url.user, "");
	assert_string_equal(u->url.pass, "");
	upchain_free(u);

	u = upchain_new("https://[fd00::1]:8443", "", true, err, sizeof(err));
	assert_non_null(u);
	assert_string_equal(upchain_name(u), "[fd00::1]:8443");
	assert_string_equal(u->auth, "");
	assert_true(upchain_connect_always(u));
	upchain_free(u);

	assert_null(upchain_new("http://u:SECRET@proxy", NULL, false, err, sizeof(err)));
	assert_non_null(strstr(err, "--upstream-proxy: no port"));
	assert_null(strstr(err, "SECRET"));
}

static void test_bypass_patterns(void **state)
{
	char err[256];
	struct upchain *u = upchain_new("http://proxy:1", "example.com, *.corp.internal,::1", false,
					err, sizeof(err));

	(void)state;
	assert_null(u); /* "::1" is not a pattern rules accept bare */
	u = upchain_new("http://proxy:1", "example.com, *.corp.internal,127.0.0.1", false, err,
			sizeof(err));
	assert_non_null(u);
	assert_true(upchain_bypassed(u, "example.com"));
	assert_true(upchain_bypassed(u, "EXAMPLE.com"));
	assert_false(upchain_bypassed(u, "www.example.com"));
	assert_true(upchain_bypassed(u, "git.corp.internal"));
	assert_false(upchain_bypassed(u, "corp.internal"));
	assert_true(upchain_bypassed(u, "127.0.0.1"));
	assert_false(upchain_bypassed(u, "::1"));
	assert_false(upchain_bypassed(u, ""));
	upchain_free(u);

	assert_null(upchain_new("http://proxy:1", "a.com,,b.com", false, err, sizeof(err)));
	assert_non_null(strstr(err, "--upstream-proxy-bypass: an empty pattern"));
	assert_null(upchain_new("http://proxy:1", "a.com method=GET", false, err, sizeof(err)));
	assert_non_null(strstr(err, "--upstream-proxy-bypass"));

	/* No list: nothing is bypassed. */
	u = upchain_new("http://proxy:1", NULL, false, err, sizeof(err));
	assert_non_null(u);
	assert_false(upchain_bypassed(u, "example.com"));
	upchain_free(u);
	upchain_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parses_what_proxies_are_written_as),
	    cmocka_unit_test(test_credentials_are_percent_decoded),
	    cmocka_unit_test(test_refusals_say_what_and_never_quote),
	    cmocka_unit_test(test_basic_value_and_name),
	    cmocka_unit_test(test_bypass_patterns),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
