/* SPDX-License-Identifier: MIT */
/*
 * upns.h: where the proxy's upstream side works from. By default that is boundary's own network
 * namespace, with names resolved by the host's getaddrinfo. boundary attach to a container with
 * a namespace of its own sets it to the container's: its network namespace (the upstream sockets
 * and the name queries are made there) and its root directory (its /etc/hosts and
 * /etc/resolv.conf are read under it, proxy/names.c). It can change at run time (a restarted
 * container gets a new namespace), so each thread that makes upstream sockets or resolves
 * keeps a struct upns_seen and calls upns_enter() before it does: one atomic load when nothing
 * changed, setns() on itself when something did. Private to proxy/.
 */
#ifndef BOUNDARY_PROXY_UPNS_H
#define BOUNDARY_PROXY_UPNS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

struct upns {
	pthread_mutex_t lock; /* guards net, root (their numbers and the files behind them) */
	int net;	      /* the namespace to work from, or -1: home */
	int root;	      /* the root to read names under, or -1: the host's resolver */
	int home;	      /* boundary's own namespace, opened when net is first set; or -1 */
	atomic_uint gen;      /* bumped on every change */
};

/* What one thread last entered. Starts zeroed but root -1 (upns_seen_init). */
struct upns_seen {
	unsigned gen;
	int root; /* the thread's own duplicate of upns.root, or -1 */
};

/*
 * Sets u up with net and root (each -1 or a descriptor that u duplicates; the caller keeps
 * its own). Returns 0 or -errno (nothing to undo then but upns_fini).
 */
int upns_init(struct upns *u, int net, int root);

/* Closes what u holds. */
void upns_fini(struct upns *u);

/*
 * From now on threads work from net (-1: boundary's own namespace) and read names under root
 * (-1: the host's resolver). Duplicates both; the caller keeps its own. Any thread. Returns 0
 * or -errno (nothing changed then).
 */
int upns_set(struct upns *u, int net, int root);

void upns_seen_init(struct upns_seen *s);
/* Closes the thread's duplicate. */
void upns_seen_fini(struct upns_seen *s);

/*
 * On the calling thread: moves it into u's current namespace if it changed since s was last
 * brought up to date, and refreshes s->root. Returns 0 (nothing changed), 1 (moved), or -errno
 * with err filled (the thread stays where it was; the next call tries again).
 */
int upns_enter(struct upns *u, struct upns_seen *s, char *err, size_t errlen);

#endif /* BOUNDARY_PROXY_UPNS_H */
