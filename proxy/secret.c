// SPDX-License-Identifier: MIT
/*
 * secret.c: the pure half of secrets (secret.h): which hosts a secret may reach, where a
 * placeholder hides in bytes, and the streaming replacement engine. No I/O, no allocation.
 */
#include <errno.h>
#include <string.h>

#include "proxy/secret.h"
#include "rules/rules.h"

bool secret_bound(const struct secret *s, const char *host, size_t host_len)
{
	struct rules_decision d;

	if (!s->domains)
		return false;
	rules_match_host(s->domains, host, host_len, 0, RULES_DOMAIN, &d);
	return d.allow;
}

ssize_t secret_find(const struct secret *s, size_t n, const char *p, size_t len)
{
	const char *at = p, *end = p + len, *hit;
	size_t i, rest;

	if (n == 0)
		return -1;
	while ((hit = memmem(at, (size_t)(end - at), SECRET_PREFIX, SECRET_PREFIX_LEN))) {
		rest = (size_t)(end - hit);
		for (i = 0; i < n; i++)
			if (s[i].placeholder_len <= rest &&
			    memcmp(hit, s[i].placeholder, s[i].placeholder_len) == 0)
				return (ssize_t)i;
		at = hit + 1;
	}
	return -1;
}
