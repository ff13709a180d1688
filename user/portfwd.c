// SPDX-License-Identifier: MIT
/*
 * portfwd.c: --port-forward. Owns the host-side listeners, one thread with an epoll loop that
 * lives in the jail's network namespace, and the forwarded connections: each a pair of sockets
 * (the host client's, and one made in the jail's namespace to its loopback) with a bounded
 * buffer per direction. It decides nothing about traffic: it never connects anywhere but the
 * jail's loopback port it was given. The proxy (proxy/) is not involved.
 */
#include "user/portfwd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proxy/log.h"
#include "proxy/util.h"
#include "user/opts.h"
#include "user/privs.h"

#define FWD_BUF	      (64 * 1024)
#define FWD_MAX_CONNS 256

struct fwd_listener {
	int fd;
	struct opts_forward f;
	bool v6;
};

/* One direction: bytes read from one socket, waiting to be written to the other. */
struct pipe_buf {
	char *b;
	size_t off, len;
	bool eof;  /* the reading side sent FIN */
	bool shut; /* ... and it was passed on with shutdown(SHUT_WR) */
};

struct fwd_conn {
	struct fwd_conn *next, *prev;
	int hfd, jfd;	     /* the host client, the jail side */
	bool connecting;     /* jfd's connect is in progress */
	bool tried_v6;	     /* 127.0.0.1 refused: ::1 was tried */
	uint16_t jail_port;  /* where jfd goes */
	struct pipe_buf h2j; /* read from hfd, for jfd */
	struct pipe_buf j2h;
	uint32_t ev_h, ev_j; /* registered events, or 0 if not registered */
	char who[64];	     /* the host client, for log lines */
	bool closed;	     /* on the dead list: later events of this turn are ignored */
};

struct portfwd {
	struct fwd_listener l[2 * OPTS_MAX_FORWARDS];
	size_t n_l;
	int netns_fd;
	int ep, stop;
	pthread_t thread;
	bool running;
	struct fwd_conn *conns;
	struct fwd_conn *dead; /* closed during this loop turn, freed at its end */
	unsigned n_conns;
};

/* epoll_data: listeners are tagged by index with the top bit, connections by pointer. */
#define TAG_LISTENER (1ULL << 63)
#define TAG_STOP     (1ULL << 62)

static int listen_on(int family, uint16_t port, int *out)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1;

	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof(*s4);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		s6->sin6_addr = in6addr_loopback;
		len = sizeof(*s6);
	}
	fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) == -1 || listen(fd, 128) == -1) {
		int err = -errno;

		close(fd);
		return err;
	}
	*out = fd;
	return 0;
}

static void watch(struct portfwd *pf, int fd, uint32_t *cur, uint32_t want, void *ptr)
{
	struct epoll_event e;

	if (*cur == want)
		return;
	e.events = want;
	e.data.ptr = ptr;
	if (want == 0)
		epoll_ctl(pf->ep, EPOLL_CTL_DEL, fd, NULL);
	else
		epoll_ctl(pf->ep, *cur ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &e);
	*cur = want;
}

/*
 * Closes both sockets and moves c to the dead list: another event of the same epoll_wait may
 * still point at it, so it is freed only at the end of the loop turn (reap()).
 */
static void conn_close(struct portfwd *pf, struct fwd_conn *c, const char *why)
{
	log_debug("port forward: %s: closed: %s", c->who, why);
	if (c->hfd >= 0)
		close(c->hfd); /* closing drops it from the epoll set */
	if (c->jfd >= 0)
		close(c->jfd);
	c->hfd = c->jfd = -1;
	if (c->prev)
		c->prev->next = c->next;
	else
		pf->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	pf->n_conns--;
	c->closed = true;
	c->prev = NULL;
	c->next = pf->dead;
	pf->dead = c;
}

static void reap(struct portfwd *pf)
{
	struct fwd_conn *c;

	while ((c = pf->dead)) {
		pf->dead = c->next;
		free(c->h2j.b);
		free(c->j2h.b);
		free(c);
	}
}

/* A socket in the jail's namespace (this thread's), connecting to its loopback. */
static int connect_jail(struct fwd_conn *c, bool v6)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1;

	memset(&ss, 0, sizeof(ss));
	if (!v6) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(c->jail_port);
		s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof(*s4);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(c->jail_port);
		s6->sin6_addr = in6addr_loopback;
		len = sizeof(*s6);
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -errno;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&ss, len) == -1 && errno != EINPROGRESS) {
		int err = -errno;

		close(fd);
		return err;
	}
	c->jfd = fd;
	c->connecting = true;
	return 0;
}

/* Which events each side wants now, from the state of the two buffers. */
static void update(struct portfwd *pf, struct fwd_conn *c)
{
	uint32_t h = 0, j = 0;

	if (c->connecting) {
		j = EPOLLOUT;
	} else {
		if (!c->h2j.eof && c->h2j.len < FWD_BUF)
			h |= EPOLLIN;
		if (!c->j2h.eof && c->j2h.len < FWD_BUF)
			j |= EPOLLIN;
		if (c->j2h.len)
			h |= EPOLLOUT;
		if (c->h2j.len)
			j |= EPOLLOUT;
	}
	/* RDHUP/ERR come anyway; a side with nothing to wait for is left out of the set. */
	watch(pf, c->hfd, &c->ev_h, h, c);
	watch(pf, c->jfd, &c->ev_j, j, c);
}

/* Reads what fits from fd into pb. Returns -1 on an error, else 0. */
static int fill(int fd, struct pipe_buf *pb)
{
	ssize_t n;

	if (pb->eof || pb->len == FWD_BUF)
		return 0;
	if (pb->off && pb->len == 0)
		pb->off = 0;
	if (pb->off + pb->len == FWD_BUF) {
		memmove(pb->b, pb->b + pb->off, pb->len);
		pb->off = 0;
	}
	n = read(fd, pb->b + pb->off + pb->len, FWD_BUF - pb->off - pb->len);
	if (n == -1)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	if (n == 0)
		pb->eof = true;
	pb->len += (size_t)n;
	return 0;
}

/* Writes what pb holds to fd, then passes a FIN on once it is empty. -1 on an error. */
static int drain(int fd, struct pipe_buf *pb)
{
	ssize_t n;

	if (pb->len) {
		n = send(fd, pb->b + pb->off, pb->len, MSG_NOSIGNAL);
		if (n == -1)
			return errno == EAGAIN || errno == EINTR ? 0 : -1;
		pb->off += (size_t)n;
		pb->len -= (size_t)n;
	}
	if (pb->len == 0 && pb->eof && !pb->shut) {
		shutdown(fd, SHUT_WR);
		pb->shut = true;
	}
	return 0;
}

static void conn_event(struct portfwd *pf, struct fwd_conn *c)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (c->closed)
		return;
	if (c->connecting) {
		if (getsockopt(c->jfd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
			err = errno;
		if (err == EINPROGRESS || err == EALREADY)
			return;
		if (err) {
			watch(pf, c->jfd, &c->ev_j, 0, c);
			close(c->jfd);
			c->jfd = -1;
			c->connecting = false;
			/* A dev server may listen on ::1 only (or 127.0.0.1 only). */
			if (!c->tried_v6 && err == ECONNREFUSED) {
				c->tried_v6 = true;
				if (connect_jail(c, true) == 0) {
					update(pf, c);
					return;
				}
			}
			log_warn(
			    "port forward: %s: nothing answers on port %u in the jail (%s): is "
			    "the jailed server listening there?",
			    c->who, c->jail_port, strerror(err));
			conn_close(pf, c, "cannot connect into the jail");
			return;
		}
		c->connecting = false;
		log_debug("port forward: %s: connected to jail port %u", c->who, c->jail_port);
	}
	if (fill(c->hfd, &c->h2j) < 0 || fill(c->jfd, &c->j2h) < 0 || drain(c->jfd, &c->h2j) < 0 ||
	    drain(c->hfd, &c->j2h) < 0) {
		conn_close(pf, c, "a side reset the connection");
		return;
	}
	if (c->h2j.shut && c->j2h.shut) {
		conn_close(pf, c, "both sides finished");
		return;
	}
	update(pf, c);
}

static void do_accept(struct portfwd *pf, const struct fwd_listener *l)
{
	struct sockaddr_storage peer;
	socklen_t plen = sizeof(peer);
	char a[INET6_ADDRSTRLEN] = "?";
	struct fwd_conn *c;
	int fd, one = 1, ret;

	fd = accept4(l->fd, (struct sockaddr *)&peer, &plen, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd == -1)
		return;
	if (pf->n_conns >= FWD_MAX_CONNS) {
		log_warn("port forward: %d connections are open already: refusing another",
			 FWD_MAX_CONNS);
		close(fd);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (c) {
		c->h2j.b = malloc(FWD_BUF);
		c->j2h.b = malloc(FWD_BUF);
	}
	if (!c || !c->h2j.b || !c->j2h.b) {
		log_warn("port forward: out of memory for a connection");
		if (c) {
			free(c->h2j.b);
			free(c->j2h.b);
		}
		free(c);
		close(fd);
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	util_addr_str((const struct sockaddr *)&peer, false, a, sizeof(a));
	snprintf(c->who, sizeof(c->who), "%s to host port %u", a, l->f.host);
	c->hfd = fd;
	c->jfd = -1;
	c->jail_port = l->f.jail;
	c->next = pf->conns;
	if (pf->conns)
		pf->conns->prev = c;
	pf->conns = c;
	pf->n_conns++;
	ret = connect_jail(c, false);
	if (ret < 0) {
		log_warn("port forward: %s: cannot connect into the jail: %s", c->who,
			 strerror(-ret));
		conn_close(pf, c, "cannot connect into the jail");
		return;
	}
	log_debug("port forward: %s accepted", c->who);
	update(pf, c);
}

static void *fwd_main(void *arg)
{
	struct portfwd *pf = arg;
	struct epoll_event evs[32];
	int n, i;

	/*
	 * Only this thread moves into the jail's namespace, for good: every socket it makes is
	 * the jail's, while the listeners, made before, stay the host's. It stays in boundary's
	 * cgroup, so the jail's hooks never see its connections.
	 */
	if (setns(pf->netns_fd, CLONE_NEWNET) == -1) {
		privs_lower();
		log_error_errno("port forward: cannot enter the jail's network namespace; the "
				"forwards are closed");
		goto out;
	}
	/* On file capabilities, none stays effective in this thread (they are per thread). */
	privs_lower();
	for (;;) {
		n = epoll_wait(pf->ep, evs, 32, -1);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			log_error_errno("port forward: epoll_wait");
			break;
		}
		for (i = 0; i < n; i++) {
			uint64_t u = evs[i].data.u64;

			if (u == TAG_STOP)
				goto out;
			if (u & TAG_LISTENER)
				do_accept(pf, &pf->l[u & ~TAG_LISTENER]);
			else
				conn_event(pf, evs[i].data.ptr);
		}
		reap(pf);
	}
out:
	while (pf->conns)
		conn_close(pf, pf->conns, "the jail is going away");
	reap(pf);
	return NULL;
}

struct portfwd *portfwd_start(const struct opts_forwards *fw, int netns_fd, char *err,
			      size_t errlen)
{
	struct portfwd *pf = calloc(1, sizeof(*pf));
	struct epoll_event e;
	size_t i;
	int ret, fd;

	if (!pf) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pf->netns_fd = netns_fd;
	pf->ep = epoll_create1(EPOLL_CLOEXEC);
	pf->stop = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (pf->ep == -1 || pf->stop == -1) {
		snprintf(err, errlen, "cannot set up the port forwards: %s", strerror(errno));
		goto fail;
	}
	for (i = 0; i < fw->n; i++) {
		ret = listen_on(AF_INET, fw->v[i].host, &fd);
		if (ret < 0) {
			snprintf(err, errlen,
				 "--port-forward %u:%u: cannot listen on 127.0.0.1:%u: %s (choose "
				 "another host port)",
				 fw->v[i].host, fw->v[i].jail, fw->v[i].host, strerror(-ret));
			goto fail;
		}
		pf->l[pf->n_l++] = (struct fwd_listener){fd, fw->v[i], false};
		ret = listen_on(AF_INET6, fw->v[i].host, &fd);
		if (ret == 0)
			pf->l[pf->n_l++] = (struct fwd_listener){fd, fw->v[i], true};
		else if (ret != -EADDRNOTAVAIL && ret != -EAFNOSUPPORT)
			log_warn("--port-forward %u:%u: cannot listen on [::1]:%u: %s (127.0.0.1 "
				 "only)",
				 fw->v[i].host, fw->v[i].jail, fw->v[i].host, strerror(-ret));
		log_info("port forward: host 127.0.0.1:%u%s reaches port %u in the jail",
			 fw->v[i].host, ret == 0 ? " and [::1]" : "", fw->v[i].jail);
	}
	e.events = EPOLLIN;
	e.data.u64 = TAG_STOP;
	if (epoll_ctl(pf->ep, EPOLL_CTL_ADD, pf->stop, &e) == -1)
		goto fail_errno;
	for (i = 0; i < pf->n_l; i++) {
		e.events = EPOLLIN;
		e.data.u64 = TAG_LISTENER | i;
		if (epoll_ctl(pf->ep, EPOLL_CTL_ADD, pf->l[i].fd, &e) == -1)
			goto fail_errno;
	}
	ret = pthread_create(&pf->thread, NULL, fwd_main, pf);
	if (ret) {
		errno = ret;
		goto fail_errno;
	}
	pf->running = true;
	return pf;
fail_errno:
	snprintf(err, errlen, "cannot set up the port forwards: %s", strerror(errno));
fail:
	portfwd_free(pf);
	return NULL;
}

void portfwd_free(struct portfwd *pf)
{
	uint64_t one = 1;
	size_t i;

	if (!pf)
		return;
	if (pf->running) {
		if (write(pf->stop, &one, sizeof(one)) == -1)
			log_warn_errno("cannot stop the port forwards");
		pthread_join(pf->thread, NULL);
	}
	for (i = 0; i < pf->n_l; i++)
		close(pf->l[i].fd);
	if (pf->ep >= 0)
		close(pf->ep);
	if (pf->stop >= 0)
		close(pf->stop);
	free(pf);
}
