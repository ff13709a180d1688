/* SPDX-License-Identifier: MIT */
/*
 * parent.h: boundary attach to a parent cgroup whose children are jails of their own. The BPF
 * programs are attached to the parent, so every cgroup made below it, now or later (a
 * container started with --cgroup-parent, a restarted one), runs under them from its first
 * instruction; each child is an entry in the programs' map, keyed by its cgroup id, made once
 * boundary has listeners in the child's network namespace. Until then the child reaches
 * nothing (bpf/jail.h, entry_level). This file watches the parent's directory for children,
 * finds each one's namespace from its processes, opens the listeners there (one set per
 * namespace, shared by the children that live in it), makes and removes the entries.
 */
#ifndef BOUNDARY_USER_PARENT_H
#define BOUNDARY_USER_PARENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct proxy;
struct dns_server;
struct dns_table;
struct parent;

/* What the children's jails share: the programs' ports and map, the proxy, the DNS server. */
struct parent_hooks {
	const char *root; /* the cgroup2 mount */
	int entries_fd;	  /* the programs' map of entries */
	uint16_t proxy_port, dns_port;
	struct proxy *proxy;
	struct dns_server *dns; /* may be set after parent_new(), before parent_scan() */
	struct dns_table *table;
};

/*
 * Starts watching the parent cgroup at path (its directory under the cgroup2 mount). Returns
 * the watch, or NULL with err filled. Nothing is jailed before the first parent_scan().
 */
struct parent *parent_new(const char *path, const struct parent_hooks *h, char *err, size_t errlen);

/* The descriptor to wait on (inotify on the parent's directory): readable, call parent_scan(). */
int parent_fd(const struct parent *p);

/* Sets the DNS server the listeners are given to (it is made after the parent). */
void parent_set_dns(struct parent *p, struct dns_server *dns);

/*
 * Looks at the parent's children: new ones are noted (reaching nothing until their first
 * process shows where they live), those with processes get listeners and their entry, gone
 * ones lose theirs. Call it when parent_fd() is readable and on a timer, more often while
 * parent_waiting().
 */
void parent_scan(struct parent *p);

/* Whether some child has no entry yet. */
bool parent_waiting(const struct parent *p);

/* How many children have an entry (are served). */
size_t parent_served(const struct parent *p);

/* Removes every entry, closes the listeners and the watch, frees p. NULL is fine. */
void parent_free(struct parent *p);

#endif /* BOUNDARY_USER_PARENT_H */
