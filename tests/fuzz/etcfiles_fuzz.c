// SPDX-License-Identifier: MIT
/*
 * etcfiles_fuzz.c: libFuzzer target for the readers of a container's /etc/hosts and
 * /etc/resolv.conf (proxy/etcfiles.c), whose bytes the container writes.
 *
 * Input: a name to look up (up to the first newline; a few fixed ones too) and a file. Invariants
 * checked, beyond "no crash, no leak, no UB": every address found is a family the reader claims,
 * and the count never exceeds max; a file's addresses for a name are the same whether read whole
 * or line by line (lines are independent); resolv.conf's result is within its stated bounds
 * (at most MAXNS servers, MAXDNSRCH domains, each NUL-terminated; ndots, timeout, attempts
 * clamped) and the same when read twice.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "proxy/etcfiles.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "invariant broken: %s\n", what);
		abort();
	}
}

static void hosts(const char *text, size_t len, const char *name)
{
	struct etc_addr whole[8], part[8];
	size_t n, k = 0, pos = 0, i, got;
	const char *nl;

	n = etc_hosts_find(text, len, name, whole, 8);
	check(n <= 8, "count within max");
	for (i = 0; i < n; i++)
		check(whole[i].family == AF_INET || whole[i].family == AF_INET6, "a family");
	while (pos < len && k < 8) {
		nl = memchr(text + pos, '\n', len - pos);
		i = nl ? (size_t)(nl - text) + 1 - pos : len - pos;
		got = etc_hosts_find(text + pos, i, name, part + k, 8 - k);
		k += got;
		pos += i;
	}
	check(k == n, "line by line finds as many");
	check(memcmp(whole, part, n * sizeof(whole[0])) == 0, "line by line finds the same");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = {"localhost", "peer-b", "x"};
	const char *text = (const char *)data, *nl;
	struct etc_resolv a, b;
	char name[300];
	size_t nlen, i;

	if (size > ETC_MAX_FILE)
		return 0;
	nl = memchr(text, '\n', size);
	nlen = nl ? (size_t)(nl - text) : 0;
	if (nlen < sizeof(name)) {
		memcpy(name, text, nlen);
		name[nlen] = '\0';
		if (!memchr(name, '\0', nlen))
			hosts(text, size, name);
	}
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		hosts(text, size, names[i]);

	etc_resolv_parse(text, size, &a);
	etc_resolv_parse(text, size, &b);
	check(memcmp(&a, &b, sizeof(a)) == 0, "resolv.conf reads the same twice");
	check(a.n_ns <= ETC_MAX_NS && a.n_search <= ETC_MAX_SEARCH, "within MAXNS, MAXDNSRCH");
	for (i = 0; i < a.n_ns; i++)
		check(a.ns[i].family == AF_INET || a.ns[i].family == AF_INET6, "a server's family");
	for (i = 0; i < a.n_search; i++)
		check(memchr(a.search[i], '\0', sizeof(a.search[i])) != NULL, "a domain ends");
	check(a.ndots <= 15 && a.timeout >= 1 && a.timeout <= 30 && a.attempts >= 1 &&
		  a.attempts <= 5,
	      "options clamped");
	return 0;
}
