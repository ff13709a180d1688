/* SPDX-License-Identifier: MIT */
/*
 * internal.h: the proxy and its workers (loop, resolver threads, the policy questions), as
 * proxy.c runs them and the connection files (conn.h) see them. Private to proxy/.
 */
#ifndef BOUNDARY_PROXY_INTERNAL_H
#define BOUNDARY_PROXY_INTERNAL_H

#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "proxy/buf.h"
#include "proxy/h2.h"
#include "proxy/http1.h"
#include "proxy/loop.h"
#include "proxy/policy.h"
#include "proxy/proxy.h"
#include "proxy/resolve.h"
#include "proxy/upns.h"
#include "proxy/xport.h"

#define PROXY_MAX_LISTENERS 130
#define CONN_MAX_HEADERS    100

struct worker;
struct conn;

/* What an epoll event points at. */
enum evsrc_kind { EV_LISTENER, EV_WAKE, EV_CLIENT, EV_UPSTREAM, EV_UPSTREAM_ALT };

struct evsrc {
	enum evsrc_kind kind;
	void *ptr;
};

struct listener {
	int fd;
	enum proxy_listener_kind kind;
	struct evsrc ev;
};

/* One name lookup, handed to the resolver threads and back to the worker that asked. */
struct resolve_job {
	struct resolve_job *next;
	struct worker *w;
	resolve_done_fn *done; /* NULL once the asker gave up on it (worker thread only) */
	void *arg;
	char host[256];
	char port[8];
	struct addrinfo *res;
	char err[400]; /* why res is NULL */
};

/*
 * One question to the policy service (a rules program or the person at the terminal) about a
 * request the rules refused, handed back to the worker that asked through its eventfd.
 */
struct decide_job {
	struct policy_job pj; /* first: done() gets &pj */
	struct decide_job *next;
	struct worker *w;
	struct conn *c; /* NULL once the connection gave up on it (worker thread only) */
};

struct worker {
	struct proxy *p;
	pthread_t thread;
	int ep;
	int wake; /* eventfd: finished lookups, or stop */
	struct evsrc wake_ev;
	struct listener lst[PROXY_MAX_LISTENERS];
	pthread_mutex_t lock; /* guards done */
	struct resolve_job *done;
	struct decide_job *decided; /* answered policy questions */
	struct conn *conns;	    /* every live connection */
	struct conn *dead;	    /* closed this turn; freed at its end */
	struct conn *kicked;	    /* to run before the turn ends (conn_kick()), in order */
	struct conn *kick_tail;
	struct conn *h2up; /* upstream HTTP/2 sessions, for the next stream to their origin */
	/* origins found to speak only HTTP/2: HTTP/1.1 clients' requests go there as streams */
	struct {
		char key[300];
		uint64_t until; /* ms; forgotten then */
	} h2only[16];
	unsigned h2only_next;
	struct idle_up *pool;
	unsigned pool_n;
	unsigned trimmed;   /* connections trimmed since the last malloc_trim() */
	uint64_t last_trim; /* ms: when it was */
	/*
	 * Out of file descriptors: the listeners leave this worker's epoll set until pause.until,
	 * or a level-triggered listener with a connection waiting would wake it forever.
	 */
	struct loop_pause pause;
	bool emfile_said; /* ... and "free again" is still to be said */
	bool stop;
	struct ruleset *rs;  /* the rules new decisions use: a reference, refreshed each wakeup */
	unsigned rs_gen;     /* the proxy's rs_gen when rs was taken */
	struct upns_seen ns; /* the upstream namespace this thread is in */
	/*
	 * The parsed header fields of the request or response head being handled. A head is parsed
	 * and acted on within one step of one connection, so one scratch per worker serves all of
	 * them, instead of 6 KiB in every connection, idle ones included.
	 */
	struct http1_header hdr[CONN_MAX_HEADERS], rhdr[CONN_MAX_HEADERS];
	/* the same for secretx.c: a head decoded, a body step decoded */
	char sx_head[64 * 1024], sx_dec[16 * 1024];
	/*
	 * The same for HTTP/2 (a head turned into a stream's HEADERS, a stream's DATA decoded) and
	 * for the first bytes of a connection peeked at. They were thread-locals, but every thread
	 * (resolvers and the audit writer included) then zeroed all 150 KiB of them at birth.
	 */
	struct http1_header h2_hdr[CONN_MAX_HEADERS];
	char h2_lower[64 * 1024], h2_dec[H2_WINDOW];
	unsigned char peek[16384];
};

struct proxy {
	struct proxy_config cfg;
	struct listener lst[PROXY_MAX_LISTENERS];
	atomic_size_t n_lst; /* grows while workers run (proxy_add_listener); they read it */
	struct worker *w;
	unsigned n_w;
	bool started;
	/* the current rules: rs_lock guards rs; rs_gen counts swaps, so workers notice cheaply */
	pthread_mutex_t rs_lock;
	struct ruleset *rs;
	atomic_uint rs_gen;
	/* the resolver pool */
	pthread_t *rt;	   /* RESOLVER_THREADS_MAX slots */
	unsigned n_rt;	   /* started (grows under rlock, by workers) */
	unsigned r_idle;   /* waiting for a job (under rlock) */
	unsigned r_slots;  /* thread slots handed out, for r_since (under rlock) */
	uint64_t *r_since; /* per thread: when its lookup began, 0 if idle (under rlock) */
	pthread_mutex_t rlock;
	pthread_cond_t rcond;
	struct resolve_job *rq_head, *rq_tail;
	unsigned rq_n; /* jobs in the queue */
	bool rstop;
	bool abandoned; /* resolvers were left in getaddrinfo() at stop: never freed */
	/* where upstream sockets are made and names resolved: boundary's own, or a container's */
	struct upns ns;
	/*
	 * The next sequence number of a decision on an HTTP request (coder/boundary's int32 counter:
	 * from 0, denials included), taken by whichever worker decides; decide.c keeps it in 0..
	 * INT32_MAX.
	 */
	atomic_uint seq;
	/*
	 * The longest a worker waits for an event: its timers' tick (LOOP_TICK_MS). Every
	 * connection with work to do has an event, a kick or a deadline; the tick only runs the
	 * timers. Tests make it long (BOUNDARY_TEST_LOOP_WAIT_MS) so that a connection left
	 * waiting for a wake-up that never comes shows as a hang rather than a 100 ms stall.
	 */
	int loop_wait_ms;
};

#endif /* BOUNDARY_PROXY_INTERNAL_H */
