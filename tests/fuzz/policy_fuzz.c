// SPDX-License-Identifier: MIT
/*
 * policy_fuzz.c: libFuzzer target for a rules program's reply (policy_parse_reply) and the
 * request line boundary sends it (policy_request_json).
 *
 * Invariants checked, beyond "no crash, no leak, no UB": the message is NUL-terminated, holds no
 * control character (it goes into a 403 body and a log line) and is empty on allow; the answer
 * does not depend on what the job held before; the request line built from fuzzed fields is one
 * line, ends in a newline, and is valid JSON as far as its quoting goes (no raw control
 * character, quotes balanced outside escapes).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "invariant broken: %s\n", what);
		abort();
	}
}

static void fill(char *dst, size_t cap, const uint8_t *p, size_t n)
{
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, p, n);
	dst[n] = '\0';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct policy_job a, b;
	static char line[8192];
	size_t i, n, k;
	bool in_str = false;

	memset(&a, 0, sizeof(a));
	memset(&b, 0xff, sizeof(b));
	policy_parse_reply((const char *)data, size, &a);
	policy_parse_reply((const char *)data, size, &b);
	n = strnlen(a.message, sizeof(a.message));
	check(n < sizeof(a.message), "the message is NUL-terminated");
	check(!a.allow || n == 0, "an allow carries no message");
	for (i = 0; i < n; i++)
		check((unsigned char)a.message[i] >= 0x20 && a.message[i] != 0x7f,
		      "no control character in the message");
	check(a.allow == b.allow && strcmp(a.message, b.message) == 0,
	      "the answer does not depend on the job's old contents");

	/* The same bytes as the request's fields: the line must stay one JSON line. */
	memset(&a, 0, sizeof(a));
	k = size / 4;
	fill(a.method, sizeof(a.method), data, k);
	fill(a.host, sizeof(a.host), data + k, k);
	fill(a.path, sizeof(a.path), data + 2 * k, k);
	fill(a.url, sizeof(a.url), data + 3 * k, size - 3 * k);
	/* the executable's path, as a file name may spell it: any bytes but NUL */
	fill(a.exe, sizeof(a.exe), data + 2 * k, k);
	a.port = (uint16_t)size;
	n = policy_request_json(&a, line, sizeof(line));
	if (n == 0)
		return 0;
	check(n == strlen(line) && line[n - 1] == '\n', "one line, newline-terminated");
	for (i = 0; i + 1 < n; i++) {
		check((unsigned char)line[i] >= 0x20, "no raw control character");
		if (in_str && line[i] == '\\') {
			i++;
			continue;
		}
		if (line[i] == '"')
			in_str = !in_str;
	}
	check(!in_str, "every string is closed");
	return 0;
}
