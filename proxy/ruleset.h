/* SPDX-License-Identifier: MIT */
/*
 * ruleset.h: a rule set shared by threads and swapped while they use it.
 *
 * A reload (SIGHUP, a changed config file) compiles a new struct rules while the proxy's
 * workers and the DNS server go on deciding with the old one. Each holder of a ruleset
 * (a worker, a connection deciding or streaming under it, a DNS query waiting for the host's
 * resolver) keeps a reference; the set is freed by whoever drops the last one, on any thread.
 * Decisions keep pointers into the set (the matched rule as written), so a request decided
 * under the old rules finishes under them, however long it streams. This module only counts;
 * publishing a new set to the workers is proxy_set_rules()'s job.
 */
#ifndef BOUNDARY_PROXY_RULESET_H
#define BOUNDARY_PROXY_RULESET_H

struct rules;
struct ruleset;

/*
 * Wraps r in a ruleset with one reference (the caller's), taking ownership of r: the last
 * reference frees it. Returns NULL with errno set (r is then not freed).
 */
struct ruleset *ruleset_new(struct rules *r);

/* The same for rules the caller keeps: r is borrowed and must outlive every reference. */
struct ruleset *ruleset_borrow(const struct rules *r);

/* Takes one more reference to s and returns s. NULL gives NULL. Any thread. */
struct ruleset *ruleset_ref(struct ruleset *s);

/* Drops one reference; the last frees s (and its rules, if owned). NULL is fine. Any thread. */
void ruleset_unref(struct ruleset *s);

/* The rules, valid while the caller holds a reference. */
const struct rules *ruleset_rules(const struct ruleset *s);

#endif /* BOUNDARY_PROXY_RULESET_H */
