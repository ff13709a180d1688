// SPDX-License-Identifier: MIT
/*
 * ruleset_test.c: the reference count a reload relies on. Owned rules are freed with the last
 * reference and borrowed ones never; threads that take and drop references while another swaps
 * the current set never see a freed set (run under ASan by make test); proxy_set_rules() on a
 * proxy holds its own reference, so the caller may drop its one at once.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "proxy/proxy.h"
#include "proxy/ruleset.h"
#include "rules/rules.h"

/* A set of one rule allowing host NAME. */
static struct rules *one_rule(const char *name)
{
	char spec[64];
	struct rules *r = rules_new();

	assert_non_null(r);
	snprintf(spec, sizeof(spec), "domain=%s", name);
	assert_int_equal(rules_add(r, spec, NULL, NULL, 0), 0);
	return r;
}

static bool allows(const struct rules *r, const char *host)
{
	struct rules_decision d;

	rules_match_host(r, host, strlen(host), 443, RULES_ANY, &d);
	return d.allow;
}

static void test_owned_and_borrowed(void **state)
{
	struct rules *kept = one_rule("kept.test");
	struct ruleset *a, *b;

	(void)state;
	a = ruleset_new(one_rule("a.test"));
	assert_non_null(a);
	assert_ptr_equal(ruleset_ref(a), a);
	ruleset_unref(a);
	assert_true(allows(ruleset_rules(a), "a.test")); /* one reference left */
	ruleset_unref(a);				 /* frees the rules: ASan says if not */

	b = ruleset_borrow(kept);
	assert_non_null(b);
	ruleset_unref(b);
	assert_true(allows(kept, "kept.test")); /* borrowed: still ours */
	rules_free(kept);

	assert_null(ruleset_ref(NULL));
	ruleset_unref(NULL);
	assert_null(ruleset_new(NULL));
	assert_null(ruleset_borrow(NULL));
}

/* The publish pattern of proxy.c, with readers on threads of their own. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct ruleset *cur;
static atomic_bool stop;
static atomic_ulong bad;

static void *reader(void *arg)
{
	struct ruleset *mine;
	const struct rules *r;
	unsigned long n = 0;

	(void)arg;
	while (!atomic_load(&stop) || n < 1000) {
		pthread_mutex_lock(&lock);
		mine = ruleset_ref(cur);
		pthread_mutex_unlock(&lock);
		r = ruleset_rules(mine);
		/* Each set allows exactly one of the two names, whatever happens meanwhile. */
		if (allows(r, "even.test") == allows(r, "odd.test"))
			atomic_fetch_add(&bad, 1);
		ruleset_unref(mine);
		n++;
	}
	return NULL;
}

static void test_swap_under_readers(void **state)
{
	pthread_t t[4];
	struct ruleset *old;
	int i;

	(void)state;
	cur = ruleset_new(one_rule("even.test"));
	atomic_store(&stop, false);
	for (i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, reader, NULL), 0);
	for (i = 1; i <= 2000; i++) {
		struct ruleset *next = ruleset_new(one_rule(i % 2 ? "odd.test" : "even.test"));

		assert_non_null(next);
		pthread_mutex_lock(&lock);
		old = cur;
		cur = next;
		pthread_mutex_unlock(&lock);
		ruleset_unref(old);
	}
	atomic_store(&stop, true);
	for (i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(atomic_load(&bad), 0);
	ruleset_unref(cur);
}

static void test_proxy_keeps_its_reference(void **state)
{
	struct rules *first = one_rule("first.test");
	struct proxy_config pc;
	struct proxy *p;
	struct ruleset *rs;
	char err[256];

	(void)state;
	memset(&pc, 0, sizeof(pc));
	pc.rules = first;
	pc.workers = 1;
	p = proxy_new(&pc, err, sizeof(err));
	assert_non_null(p);
	rs = ruleset_new(one_rule("second.test"));
	proxy_set_rules(p, rs);
	ruleset_unref(rs); /* the proxy's reference keeps it */
	rs = ruleset_new(one_rule("third.test"));
	proxy_set_rules(p, rs); /* drops "second": freed here, ASan would see a leak otherwise */
	ruleset_unref(rs);
	proxy_free(p); /* drops "third"; "first" stays the caller's */
	assert_true(allows(first, "first.test"));
	rules_free(first);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_owned_and_borrowed),
	    cmocka_unit_test(test_swap_under_readers),
	    cmocka_unit_test(test_proxy_keeps_its_reference),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
