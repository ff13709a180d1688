// SPDX-License-Identifier: MIT
/*
 * rules_bench.c: nanoseconds per rules_match() decision for 10, 1 000 and 100 000 rules.
 *
 * Two rule sets per size: "indexed" (exact and *.-prefixed domains with methods and paths, as
 * real policies are written) and "scanned" (domains with a middle wildcard, which the index
 * cannot narrow, so every rule is tried: the worst case, linear). Each set is asked the same mix
 * of requests: a quarter allowed by its last rule, the rest denied. Prints one line per set.
 *
 * Given boundary's program (rules_bench BOUNDARY), also a typical --js expression through the
 * whole --js path (policy_ask() to the answer: a lane's thread, the evaluator process, MuJS):
 * "js" one request at a time on one lane (the latency), "js-lanes" 64 in flight on two lanes
 * (the throughput), the same mix of requests.
 * A benchmark, not a test: the numbers are for comparing runs on one machine.
 */
#include <semaphore.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "proxy/policy.h"
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

static const char js_rule[] =
    "r.method === 'GET' && (r.host === 'github.com' || r.host.endsWith('.github.com') || "
    "['api.openai.com', 'api.anthropic.com'].includes(r.host)) && !r.path.startsWith('/admin')";

static sem_t js_done;
static atomic_size_t js_allowed;

static void js_answered(struct policy_job *j)
{
	atomic_fetch_add(&js_allowed, j->allow);
	sem_post(&js_done);
}

static void js_fill(struct policy_job *j, size_t i)
{
	static const char *const hosts[] = {"api.github.com", "unknown.example.net",
					    "api.anthropic.com", "evil.example.org"};

	memset(j, 0, sizeof(*j));
	snprintf(j->method, sizeof(j->method), "GET");
	snprintf(j->scheme, sizeof(j->scheme), "https");
	snprintf(j->host, sizeof(j->host), "%s", hosts[i & 3]);
	snprintf(j->path, sizeof(j->path), "/v1/items/42");
	snprintf(j->url, sizeof(j->url), "https://%s/v1/items/42?x=1", hosts[i & 3]);
	snprintf(j->requester_ip, sizeof(j->requester_ip), "127.0.0.1");
	j->port = 443;
	j->pid = 4242;
	snprintf(j->comm, sizeof(j->comm), "curl");
	j->done = js_answered;
}

static void run_js(const char *boundary, unsigned lanes, size_t inflight, size_t iters)
{
	struct policy_config cfg = {.mode = POLICY_JS, .js_code = js_rule, .js_name = "--js"};
	struct policy_job *jobs = calloc(inflight, sizeof(*jobs));
	struct policy *p;
	char err[512];
	size_t i, k;
	double t0, t1;

	cfg.evaluator = boundary;
	cfg.lanes = lanes;
	p = policy_new(&cfg, err, sizeof(err));
	if (!p || !jobs) {
		fprintf(stderr, "rules_bench: --js: %s\n", p ? "out of memory" : err);
		exit(1);
	}
	sem_init(&js_done, 0, 0);
	atomic_store(&js_allowed, 0);
	t0 = now_ns();
	for (i = 0; i < iters; i += inflight) {
		for (k = 0; k < inflight; k++) {
			js_fill(&jobs[k], i + k);
			policy_ask(p, &jobs[k]);
		}
		for (k = 0; k < inflight; k++)
			while (sem_wait(&js_done) != 0)
				;
	}
	t1 = now_ns();
	printf("rules %7d %-8s %10.1f ns/decision  (%zu decisions, %zu allowed; %u lane%s)\n", 1,
	       lanes > 1 ? "js-lanes" : "js", (t1 - t0) / (double)i, i, atomic_load(&js_allowed),
	       lanes, lanes > 1 ? "s" : "");
	policy_free(p);
	sem_destroy(&js_done);
	free(jobs);
}

int main(int argc, char **argv)
{
	static const size_t sizes[] = {10, 1000, 100000};
	size_t i;

	for (i = 0; i < 3; i++) {
		run(sizes[i], 0);
		run(sizes[i], 1);
	}
	if (argc > 1) {
		run_js(argv[1], 1, 1, 20000);
		run_js(argv[1], 2, 64, 40000);
	}
	return 0;
}
