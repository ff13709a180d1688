// SPDX-License-Identifier: MIT
/*
 * idleconns.c: N intercepted, established, idle connections, for tools/bench/run (workload E).
 * Opens N TCP+TLS connections to NAME:PORT (at most PAR handshakes in flight, from one epoll
 * loop), makes one keep-alive "GET PATH" on each and reads the whole response, so each is a
 * connection the proxy has intercepted, decided on and answered; then keeps all of them open
 * and silent, writes "READY <established> <failed>" to READYFILE and waits until RELEASEFILE
 * exists (or HOLD seconds pass) before closing them. Certificates are not verified here
 * (ttfb does that); SNI is sent, as the proxies need it. Exit status 0 if every connection
 * got its response.
 *
 *   idleconns N PAR HOLD NAME PORT PATH READYFILE RELEASEFILE
 *
 * A benchmark client, not part of boundary.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

enum ic_state { IC_CONNECTING, IC_HANDSHAKE, IC_WRITE, IC_READ, IC_IDLE, IC_FAILED };

struct ic {
	int fd;
	SSL *ssl;
	enum ic_state state;
	size_t got;	 /* response bytes read */
	size_t want;	 /* head + Content-Length, once the head is in */
	char head[1024]; /* the start of the response, for its head */
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void set_events(int ep, struct ic *c, uint32_t ev)
{
	struct epoll_event e = {.events = ev, .data.ptr = c};

	epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &e);
}

static void fail(int ep, struct ic *c)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	c->state = IC_FAILED;
}

/* the whole response is in once the head and Content-Length bytes are */
static void note_head(struct ic *c)
{
	size_t n = c->got < sizeof(c->head) - 1 ? c->got : sizeof(c->head) - 1;
	char *end, *cl;

	c->head[n] = '\0';
	end = strstr(c->head, "\r\n\r\n");
	if (!end)
		return;
	cl = strcasestr(c->head, "\r\nContent-Length:");
	c->want = (size_t)(end + 4 - c->head) + (cl ? strtoul(cl + 17, NULL, 10) : 0);
}

/* Advances c as far as it goes; returns 1 when it became idle, -1 failed, 0 in progress. */
static int step(int ep, struct ic *c, const char *req, size_t reqlen)
{
	char buf[16384];
	size_t room;
	int n, err;
	socklen_t len = sizeof(err);

	for (;;) {
		switch (c->state) {
		case IC_CONNECTING:
			if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1 || err) {
				fail(ep, c);
				return -1;
			}
			c->state = IC_HANDSHAKE;
			break;
		case IC_HANDSHAKE:
			n = SSL_connect(c->ssl);
			if (n == 1) {
				c->state = IC_WRITE;
				break;
			}
			err = SSL_get_error(c->ssl, n);
			if (err == SSL_ERROR_WANT_READ) {
				set_events(ep, c, EPOLLIN);
				return 0;
			}
			if (err == SSL_ERROR_WANT_WRITE) {
				set_events(ep, c, EPOLLOUT);
				return 0;
			}
			fail(ep, c);
			return -1;
		case IC_WRITE:
			n = SSL_write(c->ssl, req, (int)reqlen);
			if (n == (int)reqlen) {
				c->state = IC_READ;
				set_events(ep, c, EPOLLIN);
				break;
			}
			if (SSL_get_error(c->ssl, n) == SSL_ERROR_WANT_WRITE) {
				set_events(ep, c, EPOLLOUT);
				return 0;
			}
			fail(ep, c);
			return -1;
		case IC_READ:
			n = SSL_read(c->ssl, buf, sizeof(buf));
			if (n <= 0) {
				if (SSL_get_error(c->ssl, n) == SSL_ERROR_WANT_READ)
					return 0;
				fail(ep, c);
				return -1;
			}
			room = c->got < sizeof(c->head) - 1 ? sizeof(c->head) - 1 - c->got : 0;
			if (room)
				memcpy(c->head + c->got, buf, (size_t)n < room ? (size_t)n : room);
			c->got += (size_t)n;
			if (!c->want)
				note_head(c);
			if (c->want && c->got >= c->want) {
				if (strncmp(c->head, "HTTP/1.1 200", 12) != 0) {
					fail(ep, c);
					return -1;
				}
				epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
				c->state = IC_IDLE;
				return 1;
			}
			break;
		case IC_IDLE:
		case IC_FAILED:
			return 0;
		}
	}
}

int main(int argc, char **argv)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;
	struct epoll_event evs[256];
	struct ic *cs;
	SSL_CTX *ctx;
	char req[512];
	size_t n, par, started = 0, idle = 0, failed = 0, i, reqlen;
	double hold, t0;
	FILE *f;
	int ep, k, r, ready;

	if (argc != 9) {
		fprintf(stderr,
			"usage: idleconns N PAR HOLD NAME PORT PATH READYFILE RELEASEFILE\n");
		return 2;
	}
	n = strtoul(argv[1], NULL, 10);
	par = strtoul(argv[2], NULL, 10);
	hold = strtod(argv[3], NULL);
	if (!n || !par || getaddrinfo(argv[4], argv[5], &hints, &ai) != 0) {
		fprintf(stderr, "idleconns: bad arguments or %s does not resolve\n", argv[4]);
		return 2;
	}
	r = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: %s:%s\r\n\r\n", argv[6], argv[4],
		     argv[5]);
	if (r <= 0 || (size_t)r >= sizeof(req))
		return 2;
	reqlen = (size_t)r;
	ctx = SSL_CTX_new(TLS_client_method());
	cs = calloc(n, sizeof(*cs));
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (!ctx || !cs || ep == -1)
		return 2;
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	t0 = now_s();
	while (idle + failed < n) {
		while (started < n && started - idle - failed < par) {
			struct ic *c = &cs[started++];
			struct epoll_event e = {.events = EPOLLOUT, .data.ptr = c};

			c->fd =
			    socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
			c->ssl = c->fd == -1 ? NULL : SSL_new(ctx);
			if (!c->ssl || !SSL_set_fd(c->ssl, c->fd) ||
			    !SSL_set_tlsext_host_name(c->ssl, argv[4]) ||
			    (connect(c->fd, ai->ai_addr, ai->ai_addrlen) == -1 &&
			     errno != EINPROGRESS) ||
			    epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &e) == -1) {
				c->state = IC_FAILED;
				failed++;
				continue;
			}
		}
		ready = epoll_wait(ep, evs, 256, 10000);
		if (ready <= 0) {
			fprintf(stderr, "idleconns: stalled with %zu idle, %zu failed of %zu\n",
				idle, failed, n);
			break;
		}
		for (k = 0; k < ready; k++) {
			r = step(ep, evs[k].data.ptr, req, reqlen);
			idle += r == 1;
			failed += r == -1;
		}
	}
	f = fopen(argv[7], "w");
	if (!f)
		return 2;
	fprintf(f, "READY %zu %zu %.3f\n", idle, failed, now_s() - t0);
	fclose(f);
	t0 = now_s();
	while (access(argv[8], F_OK) != 0 && now_s() - t0 < hold)
		usleep(20000);
	for (i = 0; i < n; i++) {
		if (cs[i].ssl)
			SSL_free(cs[i].ssl);
		if (cs[i].fd > 0)
			close(cs[i].fd);
	}
	free(cs);
	freeaddrinfo(ai);
	SSL_CTX_free(ctx);
	return idle == n ? 0 : 1;
}
