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

/* --- the replacement engine ------------------------------------------------------------------ */

void subst_init(struct subst *s, const struct subst_pair *pair, size_t n)
{
	size_t i;

	memset(s->first, 0, sizeof(s->first));
	s->pair = pair;
	s->n = n;
	s->max_from = 0;
	s->max_to = 0;
	s->min_from = n ? SIZE_MAX : 1;
	s->carry_len = 0;
	s->replaced = 0;
	s->refused = -1;
	s->only_first = n ? (unsigned char)pair[0].from[0] : -1;
	for (i = 0; i < n; i++) {
		if ((unsigned char)pair[i].from[0] != s->only_first)
			s->only_first = -1;
		if (pair[i].from_len > s->max_from)
			s->max_from = pair[i].from_len;
		if (pair[i].from_len < s->min_from)
			s->min_from = pair[i].from_len;
		if (pair[i].to_len > s->max_to)
			s->max_to = pair[i].to_len;
		s->first[(unsigned char)pair[i].from[0]] = 1;
	}
}

/* The longest pair whose from starts at b[0..avail), or -1. */
static ssize_t match_at(const struct subst *s, const char *b, size_t avail)
{
	ssize_t best = -1;
	size_t i;

	for (i = 0; i < s->n; i++) {
		const struct subst_pair *q = &s->pair[i];

		if (q->from_len > avail || (best >= 0 && q->from_len <= s->pair[best].from_len))
			continue;
		if (memcmp(b, q->from, q->from_len) == 0)
			best = (ssize_t)i;
	}
	return best;
}

/*
 * Whether the position at p, with avail bytes known from it, must wait: those bytes begin some
 * from longer than avail, which more bytes could complete (and a longer match wins).
 */
static bool pending(const struct subst *s, const char *p, size_t avail)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (s->pair[i].from_len > avail && memcmp(s->pair[i].from, p, avail) == 0)
			return true;
	return false;
}

/*
 * Decides the positions of b[0..len) that can be decided (all of them when final), emitting
 * literal runs and replacements. A position waits only while what follows it is the beginning of
 * a from it could still match, so nothing else is held back: a stream's last bytes go out at
 * once. Returns how many bytes were consumed (the rest, fewer than max_from, begin some from),
 * or a negative error with *consumed set.
 */
static int scan(struct subst *s, const char *b, size_t len, bool final, size_t *consumed,
		subst_emit_fn *emit, void *arg)
{
	/* From here on, some from may not fit: a position there may have to wait. */
	size_t i = 0, start = 0, tail = len >= s->max_from ? len - s->max_from + 1 : 0;
	ssize_t m;
	int ret;

	while (i < len) {
		if (s->only_first >= 0) {
			/* One byte starts every from (placeholders: 'b'): memchr finds it. */
			const char *hit = memchr(b + i, s->only_first, len - i);

			if (!hit) {
				i = len;
				break;
			}
			i = (size_t)(hit - b);
		} else if (!s->first[(unsigned char)b[i]]) {
			i++;
			continue;
		}
		if (!final && i >= tail && pending(s, b + i, len - i))
			break;
		m = match_at(s, b + i, len - i);
		if (m < 0) {
			i++;
			continue;
		}
		if (i > start && (ret = emit(arg, b + start, i - start)) < 0)
			goto fail;
		start = i;
		if (s->pair[m].refuse) {
			s->refused = m;
			ret = -EPERM;
			goto fail;
		}
		if (s->pair[m].to_len && (ret = emit(arg, s->pair[m].to, s->pair[m].to_len)) < 0)
			goto fail;
		s->replaced++;
		i += s->pair[m].from_len;
		start = i;
	}
	if (i > start && (ret = emit(arg, b + start, i - start)) < 0) {
		start = i;
		goto fail;
	}
	*consumed = i;
	return 0;
fail:
	*consumed = start;
	return ret;
}

int subst_feed(struct subst *s, const char *p, size_t len, subst_emit_fn *emit, void *arg)
{
	char tmp[2 * SUBST_FROM_MAX];
	size_t used, take, off = 0;
	int ret;

	if (s->refused >= 0)
		return -EPERM;
	if (s->n == 0)
		return len ? emit(arg, p, len) : 0;
	if (s->carry_len) {
		/* The held-back bytes and enough new ones to decide every one of them. */
		take = len < s->max_from ? len : s->max_from;
		memcpy(tmp, s->carry, s->carry_len);
		memcpy(tmp + s->carry_len, p, take);
		ret = scan(s, tmp, s->carry_len + take, false, &used, emit, arg);
		if (ret < 0)
			return ret;
		if (used < s->carry_len) {
			/* Only possible when take == len: what waits waits again. */
			memmove(s->carry, tmp + used, s->carry_len + take - used);
			s->carry_len = s->carry_len + take - used;
			return 0;
		}
		off = used - s->carry_len;
		s->carry_len = 0;
	}
	ret = scan(s, p + off, len - off, false, &used, emit, arg);
	if (ret < 0)
		return ret;
	off += used;
	memcpy(s->carry, p + off, len - off);
	s->carry_len = len - off;
	return 0;
}

int subst_finish(struct subst *s, subst_emit_fn *emit, void *arg)
{
	size_t used;
	int ret;

	if (s->refused >= 0)
		return -EPERM;
	if (!s->carry_len)
		return 0;
	ret = scan(s, s->carry, s->carry_len, true, &used, emit, arg);
	s->carry_len = 0;
	return ret;
}

size_t subst_out_bound(const struct subst *s, size_t len)
{
	size_t in = len + s->carry_len, grow;

	if (s->n == 0)
		return len;
	/* Each byte is itself, or a min_from run becomes at most max_to bytes. */
	grow = s->max_to > s->min_from ? s->max_to : s->min_from;
	return (in / s->min_from + 1) * grow;
}
