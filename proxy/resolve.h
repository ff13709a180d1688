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

struct addrinfo;
struct proxy;
struct resolve_job;
struct worker;

/*
 * What the worker that asked calls with the answer: res (the caller's to free, NULL on error)
 * or gai_err (getaddrinfo's, 0 on success). Not called for a cancelled job.
 */
typedef void resolve_done_fn(void *arg, struct addrinfo *res, int gai_err);

/* Starts the first resolver threads of p. Returns 0 or -errno; resolve_stop() undoes it. */
int resolve_start(struct proxy *p);

/*
 * Stops p's resolver threads, once no worker is left to ask. A thread still in getaddrinfo()
 * is waited for half a second, then abandoned (p->abandoned set: proxy_free() frees none of
 * what it may touch).
 */
void resolve_stop(struct proxy *p);

/*
 * Looks host:port up for worker w, on w's thread: the answer goes on w's done list, and
 * resolve_finish() there calls done(arg, ...). Returns the job (for resolve_cancel()), or
 * NULL: out of memory.
 */
struct resolve_job *resolve_ask(struct worker *w, const char *host, uint16_t port,
				resolve_done_fn *done, void *arg);

/* The asker no longer wants its answer: the job is freed unread when it comes back. */
void resolve_cancel(struct resolve_job *j);

/* On the worker's thread, a job off its done list: calls its done unless cancelled; frees it. */
void resolve_finish(struct resolve_job *j);

#endif /* BOUNDARY_PROXY_RESOLVE_H */
