// SPDX-License-Identifier: MIT
/*
 * jseval_fuzz.c: libFuzzer target for the --js engine's two ends: the request object (the JSON
 * line policy_request_json() builds from a request's fields, which the evaluator JSON.parse()s
 * into r) and the result reader (the evaluator's stringified result, read by
 * policy_parse_reply()).
 *
 * Invariants checked, beyond "no crash, no leak, no UB": whatever bytes the fields hold, the line
 * parses in MuJS (a request never turns into "the request threw"), and r.method comes back as the
 * method was when it is plain ASCII; a result made of fuzzed bytes (as a string, or as the object
 * JSON.parse makes of them) is one reply line with no control character, and reading it yields a
 * NUL-terminated message with no control character, empty on allow.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/jseval.h"
#include "proxy/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Returns the result as it is: a string, or what JSON.parse makes of it (any value). */
static const char rule[] = "(function () { var v = r.path; if (r.method === 'J') "
			   "{ try { v = JSON.parse(r.path); } catch (e) {} } "
			   "return r.method === 'M' ? r.url : v; })()";

static void check(bool ok, const char *what, const char *detail)
{
	if (!ok) {
		fprintf(stderr, "invariant broken: %s (%s)\n", what, detail);
		abort();
	}
}

static void fill(char *dst, size_t cap, const uint8_t *p, size_t n)
{
	size_t i, k = 0;

	for (i = 0; i < n && k + 1 < cap; i++)
		if (p[i])
			dst[k++] = (char)p[i];
	dst[k] = '\0';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct policy_job j, a;
	static char line[8192], reply[JSEVAL_LINE_MAX];
	size_t i, n, k;

	if (size < 1)
		return 0;
	memset(&j, 0, sizeof(j));
	/* The first byte picks the method: J (parse the path), M (echo the URL) or fuzzed. */
	j.method[0] = data[0] % 3 == 0 ? 'J' : data[0] % 3 == 1 ? 'M' : 'G';
	data++;
	size--;
	k = size / 3;
	fill(j.path, sizeof(j.path), data, k);
	fill(j.url, sizeof(j.url), data + k, k);
	fill(j.host, sizeof(j.host), data + 2 * k, size - 2 * k);
	fill(j.exe, sizeof(j.exe), data + k, k);
	snprintf(j.scheme, sizeof(j.scheme), "http");
	j.port = (uint16_t)size;
	n = policy_request_json(&j, line, sizeof(line));
	if (n == 0)
		return 0;
	line[n - 1] = '\0'; /* the evaluator reads it without its newline */
	if (jseval_once(rule, line, 8u << 20, reply, sizeof(reply)) != 0)
		abort();
	check(strncmp(reply, "!error the request", 18) != 0, "the request line parses", reply);
	if (strcmp(reply, "!memory") == 0)
		return 0;
	for (i = 0; reply[i]; i++)
		check((unsigned char)reply[i] >= 0x20 && reply[i] != 0x7f,
		      "the reply is one line, no control character", reply);
	if (strncmp(reply, "!error ", 7) == 0)
		return 0;
	memset(&a, 0, sizeof(a));
	policy_parse_reply(reply, strlen(reply), &a);
	n = strnlen(a.message, sizeof(a.message));
	check(n < sizeof(a.message), "the message is NUL-terminated", reply);
	check(!a.allow || n == 0, "an allow carries no message", reply);
	for (i = 0; i < n; i++)
		check((unsigned char)a.message[i] >= 0x20 && a.message[i] != 0x7f,
		      "no control character in the message", reply);
	return 0;
}
