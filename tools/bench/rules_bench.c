// SPDX-License-Identifier: MIT
/*
 * rules_bench.c: nanoseconds per rules_match() decision for 10, 1 000 and 100 000 rules.
 *
 * Two rule sets per size: "indexed" (exact and *.-prefixed domains with methods and paths, as
 * real policies are written) and "scanned" (domains with a middle wildcard, which the index
 * cannot narrow, so every rule is tried: the worst case, linear). Each set is asked the same mix
 * of requests: a quarter allowed by its last rule, the rest denied. Prints one line per set.
 * A benchmark, not a test: the numbers are for comparing runs on one machine.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rules/rules.h"

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static struct rules *build(size_t n, int scanned)
{
	struct rules *r = rules_new();
	char spec[160];
	size_t i;

	if (!r)
		abort();
	for (i = 0; i < n; i++) {
		if (scanned)
			snprintf(spec, sizeof(spec), "method=GET domain=h%zu.*.example path=/v1/*",
				 i);
		else if (i % 3 == 0)
			snprintf(spec, sizeof(spec), "domain=*.svc%zu.example.com", i);
		else if (i % 3 == 1)
			snprintf(spec, sizeof(spec), "method=GET,HEAD domain=host%zu.example.com",
				 i);
		else
			snprintf(spec, sizeof(spec), "domain=api%zu.example.org path=/v1/*,/v2/*",
				 i);
		if (rules_add(r, spec, NULL, NULL, 0) != 0)
			abort();
	}
	return r;
}

static void run(size_t n, int scanned)
{
	struct rules *r = build(n, scanned);
	struct rules_request req[4];
	struct rules_decision d;
	char host[4][64];
	size_t i, iters, allowed = 0;
	double t0, t1;

	/* the last rule's host (allowed), and three hosts nothing allows */
	if (scanned)
		snprintf(host[0], sizeof(host[0]), "h%zu.x.example", n - 1);
	else
		snprintf(host[0], sizeof(host[0]), "a.svc%zu.example.com", n - 1 - (n - 1) % 3);
	snprintf(host[1], sizeof(host[1]), "unknown.example.net");
	snprintf(host[2], sizeof(host[2]), "deep.a.b.c.host1.example.com");
	snprintf(host[3], sizeof(host[3]), "api1.example.org");
	for (i = 0; i < 4; i++) {
		req[i].method = "GET";
		req[i].method_len = 3;
		req[i].host = host[i];
		req[i].host_len = strlen(host[i]);
		req[i].path = i == 3 ? "/v3/x" : "/v1/items/42?x=1";
		req[i].path_len = strlen(req[i].path);
	}
	iters = n >= 100000 && scanned ? 400 : 2000000 / (n < 100 ? 1 : n / 100 + 1) + 1000;
	if (!scanned)
		iters = 2000000;
	t0 = now_ns();
	for (i = 0; i < iters; i++) {
		rules_match(r, &req[i & 3], &d);
		allowed += d.allow;
	}
	t1 = now_ns();
	printf("rules %7zu %-8s %10.1f ns/decision  (%zu decisions, %zu allowed)\n", n,
	       scanned ? "scanned" : "indexed", (t1 - t0) / (double)iters, iters, allowed);
	rules_free(r);
}

int main(void)
{
	static const size_t sizes[] = {10, 1000, 100000};
	size_t i;

	for (i = 0; i < 3; i++) {
		run(sizes[i], 0);
		run(sizes[i], 1);
	}
	return 0;
}
