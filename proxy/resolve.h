/* SPDX-License-Identifier: MIT */
/*
 * resolve.h: the resolver threads. Lookups run off the workers' loops, in a pool that starts
 * small and grows while lookups are stuck; each answer goes back to the worker that asked, on its
 * done list, and wakes it through its eventfd. A lookup is the host's getaddrinfo (which honours
 * /etc/hosts and nsswitch), or, once the proxy's upstream side is in a container's namespace
 * with its root (upns.h), the container's own files and nameservers (names.h), from inside its
 * network namespace. The pool's state lives in struct proxy (internal.h). Private to proxy/.
 */
#ifndef BOUNDARY_PROXY_RESOLVE_H
#define BOUNDARY_PROXY_RESOLVE_H

#include <stdint.h>

struct addrinfo;
struct proxy;
struct resolve_job;
struct worker;

/*
 * What the worker that asked calls with the answer: res (the caller's to free with
 * resolve_free(), NULL on error) or err (NULL on success; else why, for a person: "Name or
 * service not known", or what the container's files and nameservers said). Not called for a
 * cancelled job.
 */
typedef void resolve_done_fn(void *arg, struct addrinfo *res, const char *err);

/*
 * One address of an answer: a SOCK_STREAM addrinfo for family (AF_INET: 4 bytes at addr,
 * AF_INET6: 16) and port, in one allocation. NULL: out of memory.
 */
struct addrinfo *resolve_addr_new(int family, const void *addr, uint16_t port);

/* Frees a list of resolve_addr_new() nodes (every answer is one). NULL is fine. */
void resolve_free(struct addrinfo *ai);

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
