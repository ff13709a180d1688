/* SPDX-License-Identifier: MIT */
/*
 * slice.h: a borrowed (pointer, length) view into someone else's buffer, the currency of every
 * parser in proxy/. A slice never owns its bytes and is valid only as long as the buffer it
 * points into; the function that returns one says until when.
 */
#ifndef BOUNDARY_PROXY_SLICE_H
#define BOUNDARY_PROXY_SLICE_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

struct slice {
	const char *p;
	size_t len;
};

static inline struct slice slice_of(const char *p, size_t len)
{
	struct slice s = {p, len};

	return s;
}

/* Case-insensitive comparison with a NUL-terminated ASCII string. */
static inline bool slice_ieq(struct slice s, const char *lit)
{
	size_t n = strlen(lit);

	return s.len == n && strncasecmp(s.p, lit, n) == 0;
}

static inline bool slice_eq(struct slice s, const char *lit)
{
	size_t n = strlen(lit);

	return s.len == n && memcmp(s.p, lit, n) == 0;
}

#endif /* BOUNDARY_PROXY_SLICE_H */
