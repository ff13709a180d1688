// SPDX-License-Identifier: MIT
/*
 * secret_test.c: the pure half of secrets (proxy/secret.c): which hosts a secret is bound to,
 * finding placeholders, and the replacement engine fed in every split of its input.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "proxy/secret.h"
#include "rules/rules.h"

#define PH    "boundary-secret-KEY-0123456789abcdef0123456789abcdef"
#define VALUE "sk-real-value-42"

struct out {
	char p[8192];
	size_t len;
};

static int collect(void *arg, const char *p, size_t n)
{
	struct out *o = arg;

	assert_true(o->len + n <= sizeof(o->p));
	memcpy(o->p + o->len, p, n);
	o->len += n;
	return 0;
}

/* Feeds text in two pieces cut at cut; returns the engine's result. */
static int run_split(const struct subst_pair *pair, size_t n, const char *text, size_t cut,
		     struct out *o, struct subst *s)
{
	size_t len = strlen(text);
	int ret;

	o->len = 0;
	subst_init(s, pair, n);
	ret = subst_feed(s, text, cut, collect, o);
	if (ret == 0)
		ret = subst_feed(s, text + cut, len - cut, collect, o);
	if (ret == 0)
		ret = subst_finish(s, collect, o);
	return ret;
}

static void test_replaced_in_every_split(void **state)
{
	const struct subst_pair pair = {PH, strlen(PH), VALUE, strlen(VALUE), false};
	const char *text = "Bearer " PH " and " PH "x";
	const char *want = "Bearer " VALUE " and " VALUE "x";
	struct subst s;
	struct out o;
	size_t cut;

	(void)state;
	for (cut = 0; cut <= strlen(text); cut++) {
		assert_int_equal(run_split(&pair, 1, text, cut, &o, &s), 0);
		assert_int_equal(o.len, strlen(want));
		assert_memory_equal(o.p, want, o.len);
		assert_int_equal(s.replaced, 2);
	}
}

static void test_longest_match_wins(void **state)
{
	const struct subst_pair pair[] = {{"ab", 2, "1", 1, false}, {"abc", 3, "2", 1, false}};
	struct subst s;
	struct out o;
	size_t cut;

	(void)state;
	for (cut = 0; cut <= 6; cut++) {
		assert_int_equal(run_split(pair, 2, "abcabx", cut, &o, &s), 0);
		assert_int_equal(o.len, 3);
		assert_memory_equal(o.p, "21x", 3);
	}
}

static void test_refusal_stops_before_the_placeholder(void **state)
{
	const struct subst_pair pair = {PH, strlen(PH), NULL, 0, true};
	const char *text = "q=" PH "&more";
	struct subst s;
	struct out o;
	size_t cut;

	(void)state;
	for (cut = 0; cut <= strlen(text); cut++) {
		assert_int_equal(run_split(&pair, 1, text, cut, &o, &s), -EPERM);
		assert_int_equal(s.refused, 0);
		/* Nothing of the placeholder went out. */
		assert_true(o.len <= 2);
		assert_int_equal(subst_feed(&s, "x", 1, collect, &o), -EPERM);
	}
}

/* A stream's last bytes go out at once unless they begin a from: nothing else waits. */
static void test_only_a_beginning_waits(void **state)
{
	const struct subst_pair pair = {PH, strlen(PH), VALUE, strlen(VALUE), false};
	struct subst s;
	struct out o = {.len = 0};

	(void)state;
	subst_init(&s, &pair, 1);
	assert_int_equal(subst_feed(&s, "data: hello\n\n", 13, collect, &o), 0);
	assert_int_equal(o.len, 13);
	assert_int_equal(subst_feed(&s, "x boundary-sec", 14, collect, &o), 0);
	assert_int_equal(o.len, 15); /* "boundary-sec" waits: it may be a placeholder */
	assert_int_equal(subst_feed(&s, "ond", 3, collect, &o), 0);
	assert_int_equal(o.len, 30); /* "boundary-second" is not one */
	assert_memory_equal(o.p, "data: hello\n\nx boundary-second", 30);
}

static void test_no_pairs_pass_bytes(void **state)
{
	struct subst s;
	struct out o = {.len = 0};

	(void)state;
	subst_init(&s, NULL, 0);
	assert_int_equal(subst_feed(&s, "abc", 3, collect, &o), 0);
	assert_int_equal(subst_finish(&s, collect, &o), 0);
	assert_int_equal(o.len, 3);
	assert_int_equal(subst_out_bound(&s, 10), 10);
}

static void test_out_bound_holds_for_growth(void **state)
{
	const struct subst_pair pair = {"ab", 2, "0123456789", 10, false};
	struct subst s;
	struct out o = {.len = 0};
	size_t bound;

	(void)state;
	subst_init(&s, &pair, 1);
	bound = subst_out_bound(&s, 9);
	assert_int_equal(subst_feed(&s, "abababab", 9, collect, &o), 0);
	assert_int_equal(subst_finish(&s, collect, &o), 0);
	assert_true(o.len <= bound);
	assert_int_equal(o.len, 41);
}

static void test_find(void **state)
{
	struct secret sec[2];
	const char *text = "x boundary-secret-KEY-nope boundary-secret-OTHER-1 " PH;

	(void)state;
	memset(sec, 0, sizeof(sec));
	snprintf(sec[0].placeholder, sizeof(sec[0].placeholder), "%s",
		 "boundary-secret-OTHER-0123456789abcdef0123456789abcdef");
	sec[0].placeholder_len = strlen(sec[0].placeholder);
	snprintf(sec[1].placeholder, sizeof(sec[1].placeholder), "%s", PH);
	sec[1].placeholder_len = strlen(PH);
	assert_int_equal(secret_find(sec, 2, text, strlen(text)), 1);
	assert_int_equal(secret_find(sec, 2, text, strlen(text) - 1), -1);
	assert_int_equal(secret_find(sec, 0, text, strlen(text)), -1);
}

static void test_bound(void **state)
{
	struct rules *r = rules_new();
	struct secret s;

	(void)state;
	assert_non_null(r);
	assert_int_equal(rules_add(r, "domain=api.example.com", NULL, NULL, 0), 0);
	assert_int_equal(rules_add(r, "domain=*.corp.example", NULL, NULL, 0), 0);
	memset(&s, 0, sizeof(s));
	s.domains = r;
	assert_true(secret_bound(&s, "api.example.com", 15));
	assert_true(secret_bound(&s, "API.example.com:443", 19));
	assert_true(secret_bound(&s, "git.corp.example", 16));
	assert_false(secret_bound(&s, "api.example.com.evil.test", 25));
	assert_false(secret_bound(&s, "example.com", 11));
	s.domains = NULL;
	assert_false(secret_bound(&s, "api.example.com", 15));
	rules_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_replaced_in_every_split),
	    cmocka_unit_test(test_longest_match_wins),
	    cmocka_unit_test(test_refusal_stops_before_the_placeholder),
	    cmocka_unit_test(test_only_a_beginning_waits),
	    cmocka_unit_test(test_no_pairs_pass_bytes),
	    cmocka_unit_test(test_out_bound_holds_for_growth),
	    cmocka_unit_test(test_find),
	    cmocka_unit_test(test_bound),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
