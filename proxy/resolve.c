// SPDX-License-Identifier: MIT
/*
 * resolve.c: the resolver threads (resolve.h), moved out of proxy.c so that a connection asks
 * for a lookup without calling back into the file that runs it. It owns the threads and their
 * queue; the answer goes back to the asker's callback, on the worker that asked. It knows
 * nothing of connections.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "proxy/internal.h"
#include "proxy/log.h"
#include "proxy/names.h"
#include "proxy/resolve.h"
#include "proxy/upns.h"
#include "proxy/util.h"

/*
 * getaddrinfo blocks for as long as the host's DNS takes: a server that does not answer holds a
 * thread for resolv.conf's timeout times its attempts (10 s by default). The pool starts small
 * and grows while every thread is busy, so lookups of dead names cannot queue the others (names
 * in /etc/hosts included) behind them.
 */
#define RESOLVER_THREADS     4
#define RESOLVER_THREADS_MAX 64
/*
 * More threads start only when a lookup has run this long and jobs wait: a dead name ties a
 * thread up for seconds, but a burst of quick lookups (a thousand clients at once) should not
 * leave 64 threads and their memory behind.
 */
#define RESOLVER_SLOW_MS 100
_Static_assert(RESOLVER_THREADS_MAX <= 64, "resolve_stop() keeps the joined threads in a u64");

struct addrinfo *resolve_addr_new(int family, const void *addr, uint16_t port)
{
	struct node {
		struct addrinfo ai;
		union {
			struct sockaddr_in in;
			struct sockaddr_in6 in6;
		} sa;
	} *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	n->ai.ai_family = family;
	n->ai.ai_socktype = SOCK_STREAM;
	n->ai.ai_protocol = IPPROTO_TCP;
	n->ai.ai_addr = (struct sockaddr *)&n->sa;
	if (family == AF_INET) {
		n->sa.in.sin_family = AF_INET;
		n->sa.in.sin_port = htons(port);
		memcpy(&n->sa.in.sin_addr, addr, 4);
		n->ai.ai_addrlen = sizeof(n->sa.in);
	} else {
		n->sa.in6.sin6_family = AF_INET6;
		n->sa.in6.sin6_port = htons(port);
		memcpy(&n->sa.in6.sin6_addr, addr, 16);
		n->ai.ai_addrlen = sizeof(n->sa.in6);
	}
	return &n->ai;
}

void resolve_free(struct addrinfo *ai)
{
	struct addrinfo *next;

	for (; ai; ai = next) {
		next = ai->ai_next;
		free(ai);
	}
}

/* The host's getaddrinfo, its answer copied into resolve_addr_new() nodes. */
static void host_lookup(struct resolve_job *j)
{
	struct addrinfo hints, *res = NULL, *ai, *list = NULL, **tail = &list, *n;
	uint16_t port = (uint16_t)strtoul(j->port, NULL, 10);
	const void *a;
	int gai;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_ADDRCONFIG;
	gai = getaddrinfo(j->host, j->port, &hints, &res);
	if (gai == EAI_NONAME || gai == EAI_ADDRFAMILY) {
		/* AI_ADDRCONFIG hides loopback-only answers on hosts with no other address. */
		hints.ai_flags = 0;
		gai = getaddrinfo(j->host, j->port, &hints, &res);
	}
	if (gai) {
		snprintf(j->err, sizeof(j->err), "%s", gai_strerror(gai));
		return;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		if (ai->ai_family == AF_INET)
			a = &((const struct sockaddr_in *)(const void *)ai->ai_addr)->sin_addr;
		else if (ai->ai_family == AF_INET6)
			a = &((const struct sockaddr_in6 *)(const void *)ai->ai_addr)->sin6_addr;
		else
			continue;
		n = resolve_addr_new(ai->ai_family, a, port);
		if (!n) {
			snprintf(j->err, sizeof(j->err), "out of memory");
			resolve_free(list);
			freeaddrinfo(res);
			return;
		}
		*tail = n;
		tail = &n->ai_next;
	}
	freeaddrinfo(res);
	j->res = list;
	if (!list)
		snprintf(j->err, sizeof(j->err), "no IPv4 or IPv6 address");
}

static void *resolver_main(void *arg)
{
	struct proxy *p = arg;
	struct resolve_job *j;
	struct upns_seen ns;
	uint64_t one = 1;
	unsigned slot;

	upns_seen_init(&ns);
	pthread_mutex_lock(&p->rlock);
	slot = p->r_slots++;
	pthread_mutex_unlock(&p->rlock);
	for (;;) {
		pthread_mutex_lock(&p->rlock);
		p->r_since[slot] = 0;
		p->r_idle++;
		while (!p->rq_head && !p->rstop)
			pthread_cond_wait(&p->rcond, &p->rlock);
		p->r_idle--;
		if (p->rstop) {
			pthread_mutex_unlock(&p->rlock);
			upns_seen_fini(&ns);
			return NULL;
		}
		j = p->rq_head;
		p->r_since[slot] = util_now_ms();
		p->rq_n--;
		p->rq_head = j->next;
		if (!p->rq_head)
			p->rq_tail = NULL;
		pthread_mutex_unlock(&p->rlock);

		/* Where the jailed processes resolve: their namespace, and their files if any. */
		/* On failure j->err says why: no lookup from the wrong namespace. */
		if (upns_enter(&p->ns, &ns, j->err, sizeof(j->err)) >= 0) {
			if (ns.root >= 0)
				names_lookup(ns.root, j->host, (uint16_t)strtoul(j->port, NULL, 10),
					     &j->res, j->err, sizeof(j->err));
			else
				host_lookup(j);
		}

		pthread_mutex_lock(&j->w->lock);
		j->next = j->w->done;
		j->w->done = j;
		pthread_mutex_unlock(&j->w->lock);
		if (write(j->w->wake, &one, sizeof(one)) == -1) {
			/* the counter is saturated: the worker is awake anyway */
		}
	}
}

/* Whether some thread's lookup has run RESOLVER_SLOW_MS or more (under rlock). */
static bool lookup_stuck(const struct proxy *p)
{
	uint64_t now = util_now_ms();
	unsigned i;

	for (i = 0; i < p->r_slots; i++) {
		if (p->r_since[i] && now - p->r_since[i] >= RESOLVER_SLOW_MS)
			return true;
	}
	return false;
}

struct resolve_job *resolve_ask(struct worker *w, const char *host, uint16_t port,
				resolve_done_fn *done, void *arg)
{
	struct proxy *p = w->p;
	struct resolve_job *j = calloc(1, sizeof(*j));
	unsigned want;

	if (!j)
		return NULL;
	j->w = w;
	j->done = done;
	j->arg = arg;
	snprintf(j->host, sizeof(j->host), "%s", host);
	snprintf(j->port, sizeof(j->port), "%u", port);
	pthread_mutex_lock(&p->rlock);
	if (p->rq_tail)
		p->rq_tail->next = j;
	else
		p->rq_head = j;
	p->rq_tail = j;
	/*
	 * Idle threads may not have taken earlier jobs yet: count those too. When lookups are
	 * stuck, a thread for every job waiting, so that a quick name is not queued behind dead
	 * ones (threads just started count as idle before they are).
	 */
	if (++p->rq_n > p->r_idle && p->n_rt < RESOLVER_THREADS_MAX && lookup_stuck(p)) {
		for (want = p->rq_n - p->r_idle; want > 0 && p->n_rt < RESOLVER_THREADS_MAX;
		     want--) {
			if (pthread_create(&p->rt[p->n_rt], NULL, resolver_main, p) != 0)
				break;
			p->n_rt++;
		}
		if (p->n_rt == RESOLVER_THREADS_MAX)
			log_warn(
			    "%u name lookups at once: the host's DNS is slow or not answering; "
			    "further lookups wait their turn",
			    RESOLVER_THREADS_MAX);
	}
	pthread_cond_signal(&p->rcond);
	pthread_mutex_unlock(&p->rlock);
	return j;
}

void resolve_cancel(struct resolve_job *j)
{
	/* The job is the resolver's until it comes back; then it is freed unread. */
	if (j)
		j->done = NULL;
}

void resolve_finish(struct resolve_job *j)
{
	struct addrinfo *res = j->res;
	resolve_done_fn *done = j->done;
	void *arg = j->arg;

	if (done)
		done(arg, res, res ? NULL : j->err[0] ? j->err : "no address");
	else
		resolve_free(res);
	free(j);
}

int resolve_start(struct proxy *p)
{
	unsigned i;
	int ret;

	p->rt = calloc(RESOLVER_THREADS_MAX, sizeof(*p->rt));
	p->r_since = calloc(RESOLVER_THREADS_MAX, sizeof(*p->r_since));
	if (!p->rt || !p->r_since)
		return -ENOMEM;
	pthread_mutex_lock(&p->rlock);
	for (i = 0; i < RESOLVER_THREADS; i++) {
		ret = -pthread_create(&p->rt[i], NULL, resolver_main, p);
		if (ret) {
			pthread_mutex_unlock(&p->rlock);
			return ret;
		}
		p->n_rt++;
	}
	pthread_mutex_unlock(&p->rlock);
	return 0;
}

void resolve_stop(struct proxy *p)
{
	struct timespec deadline;
	unsigned i, left = 0;

	pthread_mutex_lock(&p->rlock);
	p->rstop = true;
	pthread_cond_broadcast(&p->rcond);
	pthread_mutex_unlock(&p->rlock);
	/*
	 * No worker is left to start another resolver: n_rt is final. A thread inside
	 * getaddrinfo() cannot be interrupted and may stay there for the host's whole DNS timeout
	 * (10 s by default): boundary's exit does not wait for it. Such threads are abandoned,
	 * and with them everything they may still touch (proxy_free() then frees none of it);
	 * the process is about to end. Idle ones exit at once, so each is joined against one
	 * deadline half a second away, not polled: exit waits for no tick.
	 */
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_nsec += 500 * 1000 * 1000;
	if (deadline.tv_nsec >= 1000 * 1000 * 1000) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000 * 1000 * 1000;
	}
	for (i = 0; i < p->n_rt; i++)
		if (pthread_timedjoin_np(p->rt[i], NULL, &deadline) != 0)
			left++;
	if (left) {
		log_info("boundary stops with %u name lookup(s) still waiting for the host's DNS",
			 left);
		p->abandoned = true;
	}
	p->n_rt = 0;
}
