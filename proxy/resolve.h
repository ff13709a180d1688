/* SPDX-License-Identifier: MIT */
/*
 * resolve.h: the resolver threads. getaddrinfo (which honours /etc/hosts and nsswitch) runs off
 * the workers' loops, in a pool that starts small and grows while lookups are stuck; each
 * answer goes back to the worker that asked, on its done list, and wakes it through its
 * eventfd. The pool's state lives in struct proxy (internal.h). Private to proxy/.
 */
#ifndef BOUNDARY_PROXY_RESOLVE_H
#define BOUNDARY_PROXY_RESOLVE_H

#include <stdint.h>

struct conn;
struct proxy;

/* Starts the first resolver threads of p. Returns 0 or -errno; resolve_stop() undoes it. */
int resolve_start(struct proxy *p);

/*
 * Stops p's resolver threads, once no worker is left to ask. A thread still in getaddrinfo()
 * is waited for half a second, then abandoned (p->abandoned set: proxy_free() frees none of
 * what it may touch).
 */
void resolve_stop(struct proxy *p);

/*
 * Looks host:port up for c, on c's worker thread: c->job holds the question until the answer
 * comes back to conn_resolved(). Returns 0, or -ENOMEM.
 */
int resolve_ask(struct conn *c, const char *host, uint16_t port);

/* c no longer wants its answer: the job is freed unread when it comes back. */
void resolve_cancel(struct conn *c);

#endif /* BOUNDARY_PROXY_RESOLVE_H */
