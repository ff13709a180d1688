// SPDX-License-Identifier: MIT
/*
 * proxy.c: the proxy's threads. Worker threads each run one level-triggered epoll loop over
 * the listeners (shared, EPOLLEXCLUSIVE, so one worker wakes per connection), their own
 * connections and an eventfd, through which the resolver threads (resolve.c) and the policy
 * thread (decide.c's questions) hand their answers back. It owns the workers, their loops and
 * timers; what happens on a connection is conn.c's, and nothing there calls back in here.
 */
#include "proxy/proxy.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proxy/conn.h"
#include "proxy/internal.h"
#include "proxy/log.h"
#include "proxy/loop.h"
#include "proxy/resolve.h"
#include "proxy/ruleset.h"
#include "proxy/util.h"

/* Connections taken from a listener's backlog in one go, before the worker looks at others. */
#define ACCEPT_BATCH 64

static void worker_drain_done(struct worker *w)
{
	struct resolve_job *j, *next;
	struct decide_job *d, *dnext;
	uint64_t n;

	if (read(w->wake, &n, sizeof(n)) == -1) {
		/* EAGAIN: another turn already took it */
	}
	pthread_mutex_lock(&w->lock);
	j = w->done;
	w->done = NULL;
	d = w->decided;
	w->decided = NULL;
	pthread_mutex_unlock(&w->lock);
	for (; d; d = dnext) {
		dnext = d->next;
		if (d->c) {
			d->c->ask = NULL;
			conn_decided(d->c, d);
		}
		free(d);
	}
	for (; j; j = next) {
		next = j->next;
		resolve_finish(j);
	}
}

/* --- workers ------------------------------------------------------------------------------ */

/* Takes the listeners out of (or back into) this worker's epoll set. */
static void worker_listen(struct worker *w, bool on)
{
	struct epoll_event e;
	size_t i;

	for (i = 0; i < w->p->n_lst; i++) {
		e.events = EPOLLIN | EPOLLEXCLUSIVE;
		e.data.ptr = &w->lst[i].ev;
		/* EEXIST: proxy_replace_listener() put a new socket there meanwhile. */
		if (epoll_ctl(w->ep, on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, w->lst[i].fd,
			      on ? &e : NULL) == -1 &&
		    on && errno != EEXIST)
			log_error_errno("cannot watch the proxy's listener again");
	}
}

/*
 * Out of file descriptors (ours or the system's): the connection stays in the kernel's backlog
 * and this worker stops accepting for LOOP_ACCEPT_PAUSE_MS, so it neither spins on a listener
 * that stays readable nor drops the connection. Said at once, then at most every
 * LOOP_EMFILE_LOG_MS.
 */
static void worker_accept_pause(struct worker *w, int err)
{
	unsigned unsaid;

	if (!w->pause.until)
		worker_listen(w, false);
	if (!loop_pause(&w->pause, util_now_ms(), &unsaid))
		return;
	log_warn("out of file descriptors (%s): new connections wait in the backlog until "
		 "some close (%u more times since the last warning); raise the limit with "
		 "ulimit -n",
		 strerror(err), unsaid);
	w->emfile_said = true;
}

/* Accepts a batch of at most ACCEPT_BATCH; says whether the backlog may hold more. */
static bool worker_accept(struct worker *w, struct listener *l)
{
	int fd, n, one = 1;

	if (w->pause.until)
		return false;
	/* A bounded batch, so one busy listener cannot starve the connections. */
	for (n = 0; n < ACCEPT_BATCH; n++) {
		fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM)
				worker_accept_pause(w, errno);
			return false;
		}
		if (w->emfile_said) {
			/* Said once per warning, so a limit hovered at stays two lines a period. */
			log_warn("file descriptors are free again: accepting connections");
			w->emfile_said = false;
		}
		/*
		 * Small writes (a handshake's last flight, a response head) go out at once: a
		 * client whose next step waits on them must not wait for a delayed ACK.
		 */
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (l->kind == PROXY_EXPLICIT && w->p->cfg.admit &&
		    w->p->cfg.admit(w->p->cfg.admit_arg, fd) < 0) {
			close(fd);
			continue;
		}
		if (!conn_new(w, fd, l->kind))
			close(fd);
	}
	return true;
}

/*
 * Stopping: what still waits in the listeners' backlogs was dialled by the jail before it
 * ended (a program that connects and exits at once). Each is taken and named in the log,
 * so no attempt goes unrecorded, and then closed with the rest.
 */
static void worker_accept_rest(struct worker *w)
{
	size_t i;
	int n;

	for (i = 0; i < w->p->n_lst; i++)
		for (n = 0; n < 64 && worker_accept(w, &w->lst[i]); n++) /* 4096 at most */
			;
}

static void worker_sweep(struct worker *w)
{
	uint64_t now = util_now_ms();
	struct conn *c, *next;

	for (c = w->conns; c; c = next) {
		next = c->next;
		if (c->deadline && now >= c->deadline)
			conn_timeout(c);
	}
	/*
	 * Idle connections gave their buffers back (conn_trim), or closed ones were freed: hand
	 * the pages they leave free inside the heap to the kernel, or the memory stays resident
	 * as holes (after a burst of 10 000 connections, tens of megabytes). Only after a good
	 * number; at once when the burst is over (no connection left), else once a second at
	 * most: it walks the whole arena and hands back pages the next connections fault in
	 * again, so under a steady load of short ones (an HTTP/2 stream is a connection too)
	 * trimming at every sweep stalled the worker for tens of ms.
	 */
	if (w->trimmed >= 64 && (!w->conns || now - w->last_trim >= 1000)) {
		w->trimmed = 0;
		w->last_trim = now;
		malloc_trim(0);
	}
}

static void worker_reap(struct worker *w)
{
	struct conn *c;

	/* What the turn's events kicked runs first; a kicked connection is never a freed one. */
	conn_run_kicked(w);
	while ((c = w->dead)) {
		w->dead = c->next;
		conn_free(c);
		/* Freed memory too goes back to the kernel on the next sweep (see there). */
		w->trimmed++;
	}
}

/*
 * Takes up the proxy's current rules if they changed since this worker last looked: one atomic
 * load when they did not, so every wakeup can afford it.
 */
static void worker_refresh_rules(struct worker *w)
{
	struct proxy *p = w->p;
	struct ruleset *old = w->rs;
	unsigned gen = atomic_load_explicit(&p->rs_gen, memory_order_acquire);

	if (gen == w->rs_gen && w->rs)
		return;
	pthread_mutex_lock(&p->rs_lock);
	w->rs = ruleset_ref(p->rs);
	w->rs_gen = atomic_load_explicit(&p->rs_gen, memory_order_relaxed);
	pthread_mutex_unlock(&p->rs_lock);
	ruleset_unref(old);
}

void proxy_set_rules(struct proxy *p, struct ruleset *rs)
{
	struct ruleset *old;
	uint64_t one = 1;
	unsigned i;

	pthread_mutex_lock(&p->rs_lock);
	old = p->rs;
	p->rs = ruleset_ref(rs);
	atomic_fetch_add_explicit(&p->rs_gen, 1, memory_order_release);
	pthread_mutex_unlock(&p->rs_lock);
	ruleset_unref(old);
	/* Idle workers let go of the old set now rather than at their next connection. */
	for (i = 0; i < p->n_w; i++) {
		if (write(p->w[i].wake, &one, sizeof(one)) == -1) {
			/* the worker takes the new set at its next wakeup anyway */
		}
	}
}

int proxy_set_upstream_ns(struct proxy *p, int netns, int root)
{
	uint64_t one = 1;
	unsigned i;
	int ret;

	ret = upns_set(&p->ns, netns, root);
	if (ret < 0)
		return ret;
	/* Workers move now and drop their pools, not at their next upstream connection. */
	for (i = 0; i < p->n_w; i++) {
		if (write(p->w[i].wake, &one, sizeof(one)) == -1) {
			/* the worker moves before its next upstream socket anyway */
		}
	}
	return 0;
}

/* Each event of a turn to what it points at: one switch shows every path (loop.h). */
static void worker_dispatch(struct worker *w, const struct epoll_event *evs, int n)
{
	struct evsrc *src;
	int i;

	for (i = 0; i < n; i++) {
		src = evs[i].data.ptr;
		switch (src->kind) {
		case EV_LISTENER:
			(void)worker_accept(w, src->ptr);
			break;
		case EV_WAKE:
			worker_drain_done(w);
			break;
		case EV_CLIENT:
			conn_event(src->ptr, false, evs[i].events);
			break;
		case EV_UPSTREAM:
		case EV_UPSTREAM_ALT:
			conn_event(src->ptr, true, evs[i].events);
			break;
		}
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct epoll_event evs[64];
	uint64_t last_sweep = util_now_ms();
	char err[256];
	bool ns_said = false;
	int n;

	while (!w->stop) {
		/* Connections still kicked from the last turn: look for events, but do not wait. */
		n = epoll_wait(w->ep, evs, 64, w->kicked ? 0 : w->p->loop_wait_ms);
		if (n == -1 && errno != EINTR) {
			log_error_errno("epoll_wait");
			break;
		}
		worker_refresh_rules(w);
		if (upstream_ns_refresh(w, err, sizeof(err)) < 0 && !ns_said) {
			log_warn("%s: upstream connections fail until it works", err);
			ns_said = true;
		}
		worker_dispatch(w, evs, n);
		/*
		 * Only after the whole batch: a later event of it may belong to a connection an
		 * earlier one closed (its client and upstream sources live inside it), and must
		 * find it still there, CONN_DEAD, to be ignored.
		 */
		worker_reap(w);
		if (loop_pause_over(&w->pause, util_now_ms()))
			worker_listen(w, true);
		if (util_now_ms() - last_sweep >= LOOP_TICK_MS) {
			worker_sweep(w);
			upstream_pool_sweep(w, false);
			worker_reap(w);
			last_sweep = util_now_ms();
		}
	}
	worker_accept_rest(w);
	while (w->conns)
		conn_close(w->conns, "boundary is stopping");
	worker_reap(w);
	upstream_pool_sweep(w, true);
	ruleset_unref(w->rs);
	w->rs = NULL;
	upns_seen_fini(&w->ns);
	return NULL;
}

/*
 * BOUNDARY_TEST_LOOP_WAIT_MS (tests only, undocumented for users): how long a worker may wait
 * for an event, instead of LOOP_TICK_MS. Progress must never depend on the tick; a suite sets
 * it to many seconds so that a missed wake-up hangs a request instead of slowing it.
 */
static int loop_wait_ms(void)
{
	const char *v = getenv("BOUNDARY_TEST_LOOP_WAIT_MS");
	unsigned long ms;
	char *end;

	if (!v || !*v)
		return LOOP_TICK_MS;
	errno = 0;
	ms = strtoul(v, &end, 10);
	if (errno || *end || ms < 1 || ms > 600000)
		return LOOP_TICK_MS;
	return (int)ms;
}

struct proxy *proxy_new(const struct proxy_config *cfg, char *err, size_t errlen)
{
	struct proxy *p = calloc(1, sizeof(*p));
	long cpus;

	if (!p) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	p->cfg = *cfg;
	p->loop_wait_ms = loop_wait_ms();
	if (!p->cfg.header_timeout_ms)
		p->cfg.header_timeout_ms = 30000;
	if (!p->cfg.idle_timeout_ms)
		p->cfg.idle_timeout_ms = 120000;
	if (!p->cfg.connect_timeout_ms)
		p->cfg.connect_timeout_ms = 10000;
	if (!p->cfg.response_timeout_ms)
		p->cfg.response_timeout_ms = 120000;
	if (!p->cfg.workers) {
		/*
		 * One per CPU boundary may run on (taskset, cpusets), not per CPU online: two
		 * workers sharing one CPU only add context switches.
		 */
		cpu_set_t set;

		cpus = sched_getaffinity(0, sizeof(set), &set) == 0 ? CPU_COUNT(&set)
								    : sysconf(_SC_NPROCESSORS_ONLN);
		p->cfg.workers = cpus > 0 ? (unsigned)cpus : 1;
	}
	pthread_mutex_init(&p->rlock, NULL);
	pthread_cond_init(&p->rcond, NULL);
	pthread_mutex_init(&p->rs_lock, NULL);
	atomic_init(&p->rs_gen, 0);
	upns_init(&p->ns, -1, -1);
	/* The first rules are borrowed: the caller's, for the proxy's whole life. */
	p->rs = ruleset_borrow(cfg->rules);
	if (!p->rs) {
		snprintf(err, errlen, "out of memory");
		free(p);
		return NULL;
	}
	return p;
}

/*
 * Adds listener k to every running worker's epoll set. EEXIST is no error: a worker out of
 * descriptors may have watched its listeners again meanwhile. Returns 0 or the first -errno.
 */
static int watch_everywhere(struct proxy *p, size_t k)
{
	struct epoll_event e;
	unsigned i;
	int ret = 0;

	for (i = 0; i < p->n_w; i++) {
		e.events = EPOLLIN | EPOLLEXCLUSIVE;
		e.data.ptr = &p->w[i].lst[k].ev;
		if (epoll_ctl(p->w[i].ep, EPOLL_CTL_ADD, p->lst[k].fd, &e) == -1 &&
		    errno != EEXIST && !ret)
			ret = -errno;
	}
	return ret;
}

/* Puts listener k of p into worker w's copy, for its epoll set. */
static void worker_copy_listener(struct worker *w, const struct proxy *p, size_t k)
{
	w->lst[k] = p->lst[k];
	w->lst[k].ev.kind = EV_LISTENER;
	w->lst[k].ev.ptr = &w->lst[k];
}

int proxy_add_listener(struct proxy *p, int fd, enum proxy_listener_kind kind)
{
	size_t k = atomic_load(&p->n_lst);
	unsigned i;

	if (k == PROXY_MAX_LISTENERS)
		return -E2BIG;
	p->lst[k].fd = fd;
	p->lst[k].kind = kind;
	for (i = 0; i < p->n_w; i++)
		worker_copy_listener(&p->w[i], p, k);
	/* Published before it is watched: a worker that wakes for it finds it counted. */
	atomic_store(&p->n_lst, k + 1);
	return watch_everywhere(p, k);
}

int proxy_retire_listener(struct proxy *p, int fd)
{
	size_t k, n = atomic_load(&p->n_lst);
	int inert, ret = 0;

	for (k = 0; k < n && p->lst[k].fd != fd; k++)
		;
	if (k == n)
		return -ENOENT;
	/*
	 * An eventfd nobody writes takes the socket's place under the same number: it leaves
	 * every epoll set with its last reference, and no worker can accept() from a stranger's
	 * socket that got the number meanwhile. proxy_replace_listener() can reuse the slot.
	 */
	inert = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (inert == -1)
		return -errno;
	if (dup3(inert, fd, O_CLOEXEC) == -1)
		ret = -errno;
	close(inert);
	return ret;
}

int proxy_replace_listener(struct proxy *p, int fd, int by)
{
	size_t k;
	int ret;

	for (k = 0; k < p->n_lst && p->lst[k].fd != fd; k++)
		;
	if (k == p->n_lst || fd == by) {
		close(by);
		return -ENOENT;
	}
	/* The old socket leaves every epoll set as its last reference goes here. */
	if (dup3(by, fd, O_CLOEXEC) == -1) {
		ret = -errno;
		close(by);
		return ret;
	}
	close(by);
	return watch_everywhere(p, k);
}

static int worker_init(struct proxy *p, struct worker *w)
{
	struct epoll_event e;
	size_t i;

	w->p = p;
	w->rs = ruleset_ref(p->rs);
	w->rs_gen = atomic_load(&p->rs_gen);
	upns_seen_init(&w->ns);
	w->ep = epoll_create1(EPOLL_CLOEXEC);
	w->wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->ep == -1 || w->wake == -1)
		return -errno;
	pthread_mutex_init(&w->lock, NULL);
	w->wake_ev.kind = EV_WAKE;
	w->wake_ev.ptr = w;
	e.events = EPOLLIN;
	e.data.ptr = &w->wake_ev;
	if (epoll_ctl(w->ep, EPOLL_CTL_ADD, w->wake, &e) == -1)
		return -errno;
	for (i = 0; i < p->n_lst; i++) {
		worker_copy_listener(w, p, i);
		e.events = EPOLLIN | EPOLLEXCLUSIVE;
		e.data.ptr = &w->lst[i].ev;
		if (epoll_ctl(w->ep, EPOLL_CTL_ADD, p->lst[i].fd, &e) == -1)
			return -errno;
	}
	return 0;
}

int proxy_start(struct proxy *p)
{
	unsigned i;
	int ret;

	p->w = calloc(p->cfg.workers, sizeof(*p->w));
	if (!p->w)
		return -ENOMEM;
	ret = resolve_start(p);
	if (ret)
		return ret;
	for (i = 0; i < p->cfg.workers; i++) {
		p->w[i].ep = p->w[i].wake = -1;
		ret = worker_init(p, &p->w[i]);
		if (ret)
			return ret;
		ret = -pthread_create(&p->w[i].thread, NULL, worker_main, &p->w[i]);
		if (ret)
			return ret;
		p->n_w++;
	}
	p->started = true;
	return 0;
}

void proxy_stop(struct proxy *p)
{
	uint64_t one = 1;
	unsigned i;

	if (!p)
		return;
	for (i = 0; i < p->n_w; i++) {
		p->w[i].stop = true;
		if (write(p->w[i].wake, &one, sizeof(one)) == -1) {
			/* it wakes on its timeout anyway */
		}
	}
	for (i = 0; i < p->n_w; i++)
		pthread_join(p->w[i].thread, NULL);
	p->n_w = 0;
	resolve_stop(p);
}

void proxy_free(struct proxy *p)
{
	struct resolve_job *j, *next;
	unsigned i;

	if (!p || p->abandoned)
		return;
	for (i = 0; p->w && i < p->cfg.workers; i++) {
		struct decide_job *d, *dnext;

		for (d = p->w[i].decided; d; d = dnext) {
			dnext = d->next;
			free(d);
		}
		for (j = p->w[i].done; j; j = next) {
			next = j->next;
			resolve_free(j->res);
			free(j);
		}
		if (p->w[i].ep >= 0)
			close(p->w[i].ep);
		if (p->w[i].wake >= 0)
			close(p->w[i].wake);
		ruleset_unref(p->w[i].rs); /* a worker that never ran still holds one */
	}
	for (j = p->rq_head; j; j = next) {
		next = j->next;
		free(j);
	}
	free(p->w);
	free(p->rt);
	free(p->r_since);
	ruleset_unref(p->rs);
	upns_fini(&p->ns);
	free(p);
}
