// SPDX-License-Identifier: MIT
/*
 * ruleset.c: a reference count around a compiled rule set, so that a reload can replace the
 * rules while other threads still decide (or stream) under the old ones. It owns the count and,
 * when asked to, the rules; it does not publish sets to anyone (proxy.c and dnssrv.c do).
 */
#include "proxy/ruleset.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "rules/rules.h"

struct ruleset {
	atomic_ulong refs;
	const struct rules *rules;
	struct rules *owned; /* the same rules when ours to free, else NULL */
};

static struct ruleset *wrap(const struct rules *r, struct rules *owned)
{
	struct ruleset *s;

	if (!r) {
		errno = EINVAL;
		return NULL;
	}
	s = malloc(sizeof(*s));
	if (!s)
		return NULL;
	atomic_init(&s->refs, 1);
	s->rules = r;
	s->owned = owned;
	return s;
}

struct ruleset *ruleset_new(struct rules *r)
{
	return wrap(r, r);
}

struct ruleset *ruleset_borrow(const struct rules *r)
{
	return wrap(r, NULL);
}

struct ruleset *ruleset_ref(struct ruleset *s)
{
	if (s)
		atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
	return s;
}

void ruleset_unref(struct ruleset *s)
{
	if (!s)
		return;
	/* Release our uses of the set; the last one acquires everyone else's before freeing. */
	if (atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) != 1)
		return;
	rules_free(s->owned);
	free(s);
}

const struct rules *ruleset_rules(const struct ruleset *s)
{
	return s->rules;
}
