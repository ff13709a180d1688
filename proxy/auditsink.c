// SPDX-License-Identifier: MIT
/*
 * auditsink.c: the journald, syslog and OTLP sinks of the audit stream (auditsink.h). Owns the
 * --audit-log spec's parser, each sink's queue, batch and writer thread, and the transports:
 * libsystemd for journald, datagram and stream sockets for syslog, a minimal HTTP/1.1 client
 * for OTLP (plain HTTP, one connection per batch: at most one request a second needs no
 * keep-alive). The bytes are auditfmt.c's; audit.c feeds it.
 */
#include "proxy/auditsink.h"

#include <dlfcn.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "proxy/audit.h"
#include "proxy/auditfmt.h"
#include "proxy/log.h"
#include "proxy/util.h"

#ifndef BOUNDARY_VERSION
#define BOUNDARY_VERSION "unknown"
#endif

#define BACKOFF_MIN_MS 500
#define BACKOFF_MAX_MS 30000
#define SLICE_MS       200 /* a wait looks at whether the end has come at least this often */

/* --- the spec -------------------------------------------------------------------------------- */

static bool starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/*
 * HOST:PORT (or [V6]:PORT) at s, up to end (exclusive); into out. Returns 0, or -EINVAL with
 * err filled (what names the whole value, for the message).
 */
static int parse_hostport(const char *what, const char *s, const char *end,
			  struct auditsink_spec *out, char *err, size_t errlen)
{
	const char *colon, *h = s, *he;
	unsigned long port;
	char *pe;
	size_t i;

	if (*s == '[') {
		h = s + 1;
		he = memchr(h, ']', (size_t)(end - h));
		if (!he || he + 1 >= end || he[1] != ':')
			goto bad;
		colon = he + 1;
	} else {
		colon = NULL;
		for (i = 0; s + i < end; i++)
			if (s[i] == ':')
				colon = s + i;
		he = colon;
		if (!colon || memchr(s, ':', (size_t)(colon - s)))
			goto bad;
	}
	if (he == h || (size_t)(he - h) >= sizeof(out->host))
		goto bad;
	for (i = 0; h + i < he; i++)
		if (h[i] <= 0x20 || h[i] >= 0x7f || strchr("/@?#[]", h[i]) ||
		    (*s != '[' && h[i] == ':'))
			goto bad;
	if (colon + 1 >= end || (size_t)(end - colon - 1) > 5)
		goto bad;
	for (i = 1; colon + i < end; i++)
		if (colon[i] < '0' || colon[i] > '9')
			goto bad;
	port = strtoul(colon + 1, &pe, 10);
	if (port == 0 || port > 65535)
		goto bad;
	memcpy(out->host, h, (size_t)(he - h));
	out->host[he - h] = '\0';
	snprintf(out->port, sizeof(out->port), "%lu", port);
	return 0;
bad:
	snprintf(err, errlen,
		 "--audit-log %s: expected HOST:PORT after the scheme (a name, an IPv4 address or "
		 "[an IPv6 address], and a port from 1 to 65535)",
		 what);
	return -EINVAL;
}

int auditsink_parse(const char *s, struct auditsink_spec *out, char *err, size_t errlen)
{
	struct auditsink_spec sp;
	const char *rest, *slash;
	size_t i;

	memset(&sp, 0, sizeof(sp));
	if (strcmp(s, "journald") == 0) {
		sp.kind = AUDITSINK_JOURNALD;
		goto ok;
	}
	if (strcmp(s, "syslog") == 0) {
		sp.kind = AUDITSINK_SYSLOG;
		sp.net = AUDITSINK_NET_UNIX;
		snprintf(sp.path, sizeof(sp.path), "/dev/log");
		goto ok;
	}
	if (starts(s, "syslog:")) {
		rest = s + strlen("syslog:");
		sp.kind = AUDITSINK_SYSLOG;
		if (rest[0] == '/') {
			if (strlen(rest) >= sizeof(sp.path)) {
				snprintf(
				    err, errlen,
				    "--audit-log %s: a Unix socket's path has at most %zu bytes", s,
				    sizeof(sp.path) - 1);
				return -EINVAL;
			}
			sp.net = AUDITSINK_NET_UNIX;
			snprintf(sp.path, sizeof(sp.path), "%s", rest);
			goto ok;
		}
		if (starts(rest, "udp://") || starts(rest, "tcp://")) {
			sp.net = rest[0] == 'u' ? AUDITSINK_NET_UDP : AUDITSINK_NET_TCP;
			rest += strlen("udp://");
			if (parse_hostport(s, rest, rest + strlen(rest), &sp, err, errlen) < 0)
				return -EINVAL;
			goto ok;
		}
		snprintf(err, errlen,
			 "--audit-log %s: the syslog address is /PATH (a Unix datagram socket), "
			 "udp://HOST:PORT or tcp://HOST:PORT",
			 s);
		return -EINVAL;
	}
	if (starts(s, "otlp+http://")) {
		sp.kind = AUDITSINK_OTLP;
		sp.net = AUDITSINK_NET_HTTP;
		rest = s + strlen("otlp+http://");
		slash = strchr(rest, '/');
		if (parse_hostport(s, rest, slash ? slash : rest + strlen(rest), &sp, err, errlen) <
		    0)
			return -EINVAL;
		if (!slash || !slash[1]) {
			snprintf(sp.http_path, sizeof(sp.http_path), "/v1/logs");
			goto ok;
		}
		if (strlen(slash) >= sizeof(sp.http_path))
			goto bad_path;
		for (i = 0; slash[i]; i++)
			if (slash[i] <= 0x20 || slash[i] >= 0x7f || slash[i] == '#')
				goto bad_path;
		snprintf(sp.http_path, sizeof(sp.http_path), "%s", slash);
		goto ok;
	}
	if (starts(s, "otlp+https://")) {
		snprintf(
		    err, errlen,
		    "--audit-log %s: boundary sends OTLP over plain HTTP only; for a collector "
		    "behind HTTPS, run a collector or agent on this host (the OpenTelemetry "
		    "Collector, Grafana Alloy, ...) and name it: otlp+http://127.0.0.1:4318",
		    s);
		return -EINVAL;
	}
	if (starts(s, "otlp")) {
		snprintf(err, errlen,
			 "--audit-log %s: OpenTelemetry logs go over OTLP/HTTP with JSON: "
			 "otlp+http://HOST:PORT[/PATH] (gRPC is not spoken)",
			 s);
		return -EINVAL;
	}
	return 0;
ok:
	*out = sp;
	return 1;
bad_path:
	snprintf(err, errlen,
		 "--audit-log %s: the path after HOST:PORT has at most %zu bytes of printable "
		 "ASCII, no spaces and no #",
		 s, sizeof(sp.http_path) - 1);
	return -EINVAL;
}

void auditsink_spec_str(const struct auditsink_spec *sp, char *out, size_t len)
{
	const char *l = strchr(sp->host, ':') ? "[" : "", *r = l[0] ? "]" : "";

	switch (sp->net) {
	case AUDITSINK_NET_NONE:
		snprintf(out, len, "journald");
		break;
	case AUDITSINK_NET_UNIX:
		snprintf(out, len, "syslog %s", sp->path);
		break;
	case AUDITSINK_NET_UDP:
	case AUDITSINK_NET_TCP:
		snprintf(out, len, "syslog %s://%s%s%s:%s",
			 sp->net == AUDITSINK_NET_UDP ? "udp" : "tcp", l, sp->host, r, sp->port);
		break;
	case AUDITSINK_NET_HTTP:
		snprintf(out, len, "the OTLP collector http://%s%s%s:%s%s", l, sp->host, r,
			 sp->port, sp->http_path);
		break;
	}
}

/* --- the sink -------------------------------------------------------------------------------- */

/* One encoded record: journald's NUL-separated fields, a syslog line or an OTLP JSON record. */
struct entry {
	size_t len;
	size_t n_fields; /* journald's */
	char data[];
};

struct auditsink {
	struct auditsink_spec spec;
	void *libsystemd; /* journald's: dlopen()ed */
	/*
	 * sd_journal_sendv(3) from it, declared here: sd-journal.h pulls in syslog.h, whose
	 * LOG_INFO and friends are macros that clash with log.h's levels.
	 */
	int (*journal_sendv)(const struct iovec *iov, int n);
	char name[1400];
	struct auditfmt_run run;
	char jail_id[64], session_id[64], hostname[256];
	size_t queue_max, batch_max;
	unsigned flush_ms, timeout_ms, drain_ms;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond; /* waits on CLOCK_MONOTONIC */

	/* under lock; stop and give_up_ms are also read by the writer's waits, atomically */
	struct entry **q;
	size_t head, n;
	uint64_t dropped_queue;
	bool stop;
	uint64_t give_up_ms; /* once stop: when what is left is dropped */

	/* the writer thread's own */
	int fd;		      /* syslog's socket; -1: none */
	struct entry **batch; /* batch_max */
	size_t n_batch;
	uint64_t first_ms;    /* when the batch's first record came */
	uint64_t retry_at_ms; /* 0: now */
	unsigned backoff_ms;
	uint64_t dropped_send; /* could not be sent (datagrams), or refused by the collector */
	uint64_t dropped_exit; /* unsent at the end */
	uint64_t sent;
	uint64_t said_total, said_ms;
	bool failing;  /* the last attempt failed, and a warning said so */
	char why[512]; /* why the last attempt failed */
};

static bool stopping(struct auditsink *s)
{
	return __atomic_load_n(&s->stop, __ATOMIC_ACQUIRE);
}

/* When the current attempt must end: one timeout from now, sooner once the end has come. */
static uint64_t io_deadline(struct auditsink *s)
{
	uint64_t d = util_now_ms() + s->timeout_ms, g;

	if (stopping(s)) {
		g = __atomic_load_n(&s->give_up_ms, __ATOMIC_ACQUIRE);
		if (g < d)
			d = g;
	}
	return d;
}

/* Waits for events on fd until deadline. Returns 0, -ETIMEDOUT, or -errno. */
static int wait_fd(struct auditsink *s, int fd, short events, uint64_t deadline)
{
	struct pollfd p = {.fd = fd, .events = events};
	uint64_t now, g;
	int r;

	for (;;) {
		now = util_now_ms();
		if (stopping(s)) {
			g = __atomic_load_n(&s->give_up_ms, __ATOMIC_ACQUIRE);
			if (g < deadline)
				deadline = g;
		}
		if (now >= deadline)
			return -ETIMEDOUT;
		r = poll(&p, 1, (int)(deadline - now < SLICE_MS ? deadline - now : SLICE_MS));
		if (r > 0)
			return 0;
		if (r == -1 && errno != EINTR)
			return -errno;
	}
}

/* --- transports ------------------------------------------------------------------------------ */

/*
 * A non-blocking socket of type to host:port, connected (or, for TCP, failed) by deadline.
 * Returns it, or -errno with s->why filled.
 */
static int connect_to(struct auditsink *s, int type, uint64_t deadline)
{
	struct addrinfo hints, *res = NULL, *ai;
	int fd = -1, ret, soerr;
	socklen_t sl;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = type;
	ret = getaddrinfo(s->spec.host, s->spec.port, &hints, &res);
	if (ret != 0) {
		snprintf(s->why, sizeof(s->why), "cannot resolve %s: %s", s->spec.host,
			 gai_strerror(ret));
		return -EHOSTUNREACH;
	}
	ret = -EHOSTUNREACH;
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd == -1) {
			ret = -errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		ret = -errno;
		if (ret == -EINPROGRESS) {
			ret = wait_fd(s, fd, POLLOUT, deadline);
			sl = sizeof(soerr);
			if (ret == 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0)
				ret = -soerr;
			if (ret == 0)
				break;
		}
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		snprintf(s->why, sizeof(s->why), "cannot connect: %s",
			 ret == -ETIMEDOUT ? "no answer in time" : strerror(-ret));
		return ret;
	}
	return fd;
}

/* Writes all of p to the non-blocking fd by deadline. Returns 0 or -errno with s->why filled. */
static int send_all(struct auditsink *s, int fd, const char *p, size_t n, uint64_t deadline)
{
	ssize_t w;
	int ret;

	while (n > 0) {
		w = send(fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w >= 0) {
			p += w;
			n -= (size_t)w;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN) {
			ret = wait_fd(s, fd, POLLOUT, deadline);
			if (ret == 0)
				continue;
		} else {
			ret = -errno;
		}
		snprintf(s->why, sizeof(s->why), "cannot send: %s",
			 ret == -ETIMEDOUT ? "it takes no more (timed out)" : strerror(-ret));
		return ret;
	}
	return 0;
}

/* A Unix datagram socket connected to the spec's path, or -errno with s->why filled. */
static int connect_unix(struct auditsink *s)
{
	struct sockaddr_un a;
	int fd, ret;

	memset(&a, 0, sizeof(a));
	a.sun_family = AF_UNIX;
	memcpy(a.sun_path, s->spec.path, strlen(s->spec.path) + 1);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		ret = -errno;
		snprintf(s->why, sizeof(s->why), "cannot make a socket: %s", strerror(-ret));
		return ret;
	}
	if (connect(fd, (const struct sockaddr *)&a, sizeof(a)) == -1) {
		ret = -errno;
		close(fd);
		snprintf(s->why, sizeof(s->why), "cannot connect: %s", strerror(-ret));
		return ret;
	}
	return fd;
}

static void close_fd(struct auditsink *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}

/* journald: one record. Returns 0 or -errno with s->why filled. */
static int send_journald(struct auditsink *s, const struct entry *e)
{
	struct iovec iov[48];
	const char *p = e->data, *end = e->data + e->len;
	size_t n = 0;
	int ret;

	while (p < end && n < sizeof(iov) / sizeof(iov[0])) {
		iov[n].iov_base = (void *)(uintptr_t)p;
		iov[n].iov_len = strlen(p);
		p += iov[n].iov_len + 1;
		n++;
	}
	/*
	 * The one call with no deadline of its own: libsystemd blocks while journald's queue is
	 * full. It may be cancelled here (auditsink_free() does, when the end is overdue).
	 */
	pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, NULL);
	ret = s->journal_sendv(iov, (int)n);
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
	if (ret < 0)
		snprintf(s->why, sizeof(s->why), "sd_journal_sendv: %s", strerror(-ret));
	return ret;
}

/* syslog: one record, framed for TCP. Returns 0 or -errno with s->why filled. */
static int send_syslog(struct auditsink *s, const struct entry *e)
{
	uint64_t deadline = io_deadline(s);
	char frame[24];
	int ret, k;

	if (s->fd < 0) {
		if (s->spec.net == AUDITSINK_NET_UNIX)
			ret = connect_unix(s);
		else
			ret = connect_to(
			    s, s->spec.net == AUDITSINK_NET_UDP ? SOCK_DGRAM : SOCK_STREAM,
			    deadline);
		if (ret < 0)
			return ret;
		s->fd = ret;
	}
	if (s->spec.net == AUDITSINK_NET_TCP) {
		/* RFC 6587 octet counting: "LEN SP MSG", no trailer to escape. */
		k = snprintf(frame, sizeof(frame), "%zu ", e->len);
		ret = send_all(s, s->fd, frame, (size_t)k, deadline);
		if (ret == 0)
			ret = send_all(s, s->fd, e->data, e->len, deadline);
	} else {
		ret = send_all(s, s->fd, e->data, e->len, deadline);
	}
	if (ret < 0)
		close_fd(s); /* made again next time: the daemon may have restarted */
	return ret;
}

/*
 * OTLP: the batch in one POST. Returns the HTTP status, or -errno with s->why filled (no
 * connection, or no answer in time).
 */
static int send_otlp(struct auditsink *s)
{
	char head[2048], resp[512], *body = NULL, *nl;
	size_t cap, len, i;
	uint64_t deadline = io_deadline(s);
	int fd = -1, ret, k, status;
	const char *l = strchr(s->spec.host, ':') ? "[" : "", *r = l[0] ? "]" : "";
	ssize_t got;
	size_t have = 0;

	cap = 4096 + strlen(AUDITFMT_OTLP_TAIL);
	for (i = 0; i < s->n_batch; i++)
		cap += s->batch[i]->len + 1;
	body = malloc(cap);
	if (!body) {
		snprintf(s->why, sizeof(s->why), "out of memory");
		return -ENOMEM;
	}
	len = auditfmt_otlp_head(&s->run, body, 4096);
	for (i = 0; i < s->n_batch; i++) {
		if (i)
			body[len++] = ',';
		memcpy(body + len, s->batch[i]->data, s->batch[i]->len);
		len += s->batch[i]->len;
	}
	memcpy(body + len, AUDITFMT_OTLP_TAIL, strlen(AUDITFMT_OTLP_TAIL));
	len += strlen(AUDITFMT_OTLP_TAIL);

	k = snprintf(head, sizeof(head),
		     "POST %s HTTP/1.1\r\nHost: %s%s%s:%s\r\nContent-Type: application/json\r\n"
		     "Content-Length: %zu\r\nUser-Agent: boundary/%s\r\nConnection: close\r\n\r\n",
		     s->spec.http_path, l, s->spec.host, r, s->spec.port, len, BOUNDARY_VERSION);
	fd = connect_to(s, SOCK_STREAM, deadline);
	if (fd < 0) {
		ret = fd;
		goto out;
	}
	ret = send_all(s, fd, head, (size_t)k, deadline);
	if (ret == 0)
		ret = send_all(s, fd, body, len, deadline);
	if (ret < 0)
		goto out;
	/* Only the status line matters; the rest of the answer is not read. */
	for (;;) {
		got = recv(fd, resp + have, sizeof(resp) - 1 - have, MSG_DONTWAIT);
		if (got > 0) {
			have += (size_t)got;
			resp[have] = '\0';
			if (strstr(resp, "\r\n") || have == sizeof(resp) - 1)
				break;
			continue;
		}
		if (got == 0) {
			ret = -ECONNRESET;
			snprintf(s->why, sizeof(s->why),
				 "the collector closed the connection "
				 "without an answer");
			goto out;
		}
		if (errno == EINTR)
			continue;
		ret = errno == EAGAIN ? wait_fd(s, fd, POLLIN, deadline) : -errno;
		if (ret < 0) {
			snprintf(s->why, sizeof(s->why), "no answer: %s",
				 ret == -ETIMEDOUT ? "the collector did not answer in time"
						   : strerror(-ret));
			goto out;
		}
	}
	nl = strstr(resp, "\r\n");
	if (nl)
		*nl = '\0';
	if (sscanf(resp, "HTTP/1.%*1[01] %3d", &status) != 1 || status < 100 || status > 599) {
		ret = -EPROTO;
		snprintf(s->why, sizeof(s->why), "the collector's answer is not HTTP/1.x");
		goto out;
	}
	ret = status;
	snprintf(s->why, sizeof(s->why), "the collector answered %.200s", resp);
out:
	if (fd >= 0)
		close(fd);
	free(body);
	return ret;
}

/* --- the writer ------------------------------------------------------------------------------ */

static void drop_front(struct auditsink *s, size_t k)
{
	size_t i;

	for (i = 0; i < k; i++)
		free(s->batch[i]);
	s->n_batch -= k;
	memmove(s->batch, s->batch + k, s->n_batch * sizeof(*s->batch));
}

static void failed(struct auditsink *s, bool retry)
{
	uint64_t now = util_now_ms();

	if (!s->failing)
		log_warn("cannot send audit records to %s: %s (%s)", s->name, s->why,
			 retry ? "trying again with back-off; records wait in a bounded queue"
			       : "records are dropped and counted until it works again");
	else
		log_debug("cannot send audit records to %s: %s", s->name, s->why);
	s->failing = true;
	if (!retry)
		return;
	s->retry_at_ms = now + s->backoff_ms;
	s->backoff_ms = s->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : s->backoff_ms * 2;
}

static void worked(struct auditsink *s)
{
	if (s->failing)
		log_info("audit records reach %s again", s->name);
	s->failing = false;
	s->retry_at_ms = 0;
	s->backoff_ms = BACKOFF_MIN_MS;
}

/* Sends what the batch holds; what stays in it is to be tried again at retry_at_ms. */
static void deliver(struct auditsink *s)
{
	int ret;

	if (s->spec.kind == AUDITSINK_OTLP) {
		ret = send_otlp(s);
		if (ret >= 200 && ret < 300) {
			s->sent += s->n_batch;
			drop_front(s, s->n_batch);
			worked(s);
		} else if (ret < 0 || ret == 429 || ret >= 500) {
			failed(s, true);
		} else {
			/* The collector refuses these records: sending them again cannot help. */
			s->dropped_send += s->n_batch;
			drop_front(s, s->n_batch);
			failed(s, false);
			s->failing = false; /* the next refusal is said too */
		}
		return;
	}
	while (s->n_batch > 0) {
		if (s->spec.kind == AUDITSINK_JOURNALD)
			ret = send_journald(s, s->batch[0]);
		else
			ret = send_syslog(s, s->batch[0]);
		if (ret == 0) {
			s->sent++;
			drop_front(s, 1);
			worked(s);
			continue;
		}
		if (s->spec.net == AUDITSINK_NET_TCP) {
			failed(s, true);
			return;
		}
		s->dropped_send++;
		drop_front(s, 1);
		failed(s, false);
	}
}

static struct entry *pop(struct auditsink *s)
{
	struct entry *e = s->q[s->head];

	s->head = (s->head + 1) % s->queue_max;
	s->n--;
	return e;
}

/* Says how many were dropped, at most every AUDITSINK_SAY_MS. Called without the lock. */
static void say_drops(struct auditsink *s, uint64_t dropped_queue, uint64_t now)
{
	uint64_t total = dropped_queue + s->dropped_send;

	if (total <= s->said_total || (s->said_ms && now < s->said_ms + AUDITSINK_SAY_MS))
		return;
	log_warn("%llu audit record(s) for %s dropped so far (%llu with its queue of %zu full, "
		 "%llu it could not take)",
		 (unsigned long long)total, s->name, (unsigned long long)dropped_queue,
		 s->queue_max, (unsigned long long)s->dropped_send);
	s->said_total = total;
	s->said_ms = now;
}

/* Whether the batch goes now. */
static bool due(const struct auditsink *s, uint64_t now)
{
	if (s->n_batch == 0 || now < s->retry_at_ms)
		return false;
	if (s->spec.kind != AUDITSINK_OTLP || s->stop)
		return true;
	return s->n_batch >= s->batch_max || now >= s->first_ms + s->flush_ms;
}

static void *writer_main(void *arg)
{
	struct auditsink *s = arg;
	struct timespec ts;
	uint64_t now, wake, dq;
	size_t i;

	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
	pthread_mutex_lock(&s->lock);
	for (;;) {
		now = util_now_ms();
		while (s->n > 0 && s->n_batch < s->batch_max) {
			if (s->n_batch == 0)
				s->first_ms = now;
			s->batch[s->n_batch++] = pop(s);
		}
		if (s->stop && (s->n_batch == 0 || now >= s->give_up_ms))
			break;
		dq = s->dropped_queue;
		if (due(s, now) || dq + s->dropped_send > s->said_total) {
			bool go = due(s, now);

			pthread_mutex_unlock(&s->lock);
			say_drops(s, dq, now);
			if (go)
				deliver(s);
			pthread_mutex_lock(&s->lock);
			if (go)
				continue;
		}
		wake = 0;
		if (s->n_batch > 0) {
			wake = s->retry_at_ms;
			if (s->spec.kind == AUDITSINK_OTLP && !s->stop &&
			    s->n_batch < s->batch_max && s->first_ms + s->flush_ms > wake)
				wake = s->first_ms + s->flush_ms;
		}
		if (s->stop && (!wake || s->give_up_ms < wake))
			wake = s->give_up_ms;
		if (dq + s->dropped_send > s->said_total &&
		    (!wake || s->said_ms + AUDITSINK_SAY_MS < wake))
			wake = s->said_ms + AUDITSINK_SAY_MS;
		if (wake) {
			ts.tv_sec = (time_t)(wake / 1000);
			ts.tv_nsec = (long)(wake % 1000) * 1000000;
			pthread_cond_timedwait(&s->cond, &s->lock, &ts);
		} else {
			pthread_cond_wait(&s->cond, &s->lock);
		}
	}
	/* The end: what could not be sent in time is dropped, and counted. */
	s->dropped_exit = s->n_batch + s->n;
	for (i = 0; i < s->n_batch; i++)
		free(s->batch[i]);
	s->n_batch = 0;
	while (s->n > 0)
		free(pop(s));
	dq = s->dropped_queue;
	pthread_mutex_unlock(&s->lock);
	close_fd(s);
	if (dq + s->dropped_send + s->dropped_exit > 0)
		log_warn(
		    "%llu audit records dropped: %s took %llu; %llu found its queue of %zu full, "
		    "%llu could not be sent or were refused, %llu were unsent when boundary "
		    "ended%s%s",
		    (unsigned long long)(dq + s->dropped_send + s->dropped_exit), s->name,
		    (unsigned long long)s->sent, (unsigned long long)dq, s->queue_max,
		    (unsigned long long)s->dropped_send, (unsigned long long)s->dropped_exit,
		    s->failing ? "; last failure: " : "", s->failing ? s->why : "");
	else
		log_debug("%llu audit records sent to %s", (unsigned long long)s->sent, s->name);
	return NULL;
}

/* --- the API --------------------------------------------------------------------------------- */

struct auditsink *auditsink_new(const struct auditsink_config *cfg, char *err, size_t errlen)
{
	struct auditsink *s;
	pthread_condattr_t ca;

	s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->spec = cfg->spec;
	auditsink_spec_str(&s->spec, s->name, sizeof(s->name));
	snprintf(s->jail_id, sizeof(s->jail_id), "%s", cfg->jail_id ? cfg->jail_id : "");
	snprintf(s->session_id, sizeof(s->session_id), "%s",
		 cfg->session_id ? cfg->session_id : "");
	if (gethostname(s->hostname, sizeof(s->hostname) - 1) == -1)
		s->hostname[0] = '\0';
	s->run.jail_id = s->jail_id;
	s->run.session_id = s->session_id;
	s->run.hostname = s->hostname;
	s->run.pid = (long)getpid();
	s->queue_max = cfg->queue ? cfg->queue : AUDITSINK_QUEUE;
	s->batch_max = cfg->batch ? cfg->batch : AUDITSINK_BATCH;
	s->flush_ms = cfg->flush_ms ? cfg->flush_ms : AUDITSINK_FLUSH_MS;
	s->timeout_ms = cfg->timeout_ms ? cfg->timeout_ms : AUDITSINK_TIMEOUT_MS;
	s->drain_ms = cfg->drain_ms ? cfg->drain_ms : AUDITSINK_DRAIN_MS;
	s->backoff_ms = BACKOFF_MIN_MS;
	s->fd = -1;
	/*
	 * libsystemd is loaded only for this sink, not linked: it and what it pulls in
	 * (libgcrypt, lz4, zstd, lzma, libcap) would cost every jail's start for a sink few use.
	 */
	if (s->spec.kind == AUDITSINK_JOURNALD) {
		s->libsystemd = dlopen("libsystemd.so.0", RTLD_NOW | RTLD_LOCAL);
		if (!s->libsystemd) {
			snprintf(err, errlen,
				 "--audit-log journald: cannot load libsystemd: %s (install "
				 "libsystemd0, or send the records to syslog or a file instead)",
				 dlerror());
			goto fail;
		}
		*(void **)&s->journal_sendv = dlsym(s->libsystemd, "sd_journal_sendv");
		if (!s->journal_sendv) {
			snprintf(err, errlen,
				 "--audit-log journald: libsystemd has no sd_journal_sendv");
			goto fail;
		}
	}
	s->q = calloc(s->queue_max, sizeof(*s->q));
	s->batch = calloc(s->batch_max, sizeof(*s->batch));
	if (!s->q || !s->batch) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	pthread_mutex_init(&s->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->cond, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&s->thread, NULL, writer_main, s) != 0) {
		snprintf(err, errlen, "cannot start the audit writer for %s", s->name);
		pthread_cond_destroy(&s->cond);
		pthread_mutex_destroy(&s->lock);
		goto fail;
	}
	return s;
fail:
	if (s->libsystemd)
		dlclose(s->libsystemd);
	free(s->q);
	free(s->batch);
	free(s);
	return NULL;
}

void auditsink_push(struct auditsink *s, const struct audit_record *r)
{
	char buf[AUDITFMT_MAX];
	struct timespec ts;
	struct entry *e;
	size_t len = 0, nf = 0;

	if (!s)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	switch (s->spec.kind) {
	case AUDITSINK_JOURNALD:
		len = auditfmt_journald(&s->run, r, buf, sizeof(buf), &nf);
		break;
	case AUDITSINK_SYSLOG:
		len = auditfmt_syslog(&s->run, r, &ts, buf, sizeof(buf));
		break;
	case AUDITSINK_OTLP:
		len = auditfmt_otlp_record(r, &ts, buf, sizeof(buf));
		break;
	}
	e = len ? malloc(sizeof(*e) + len) : NULL;
	if (e) {
		e->len = len;
		e->n_fields = nf;
		memcpy(e->data, buf, len);
	}
	pthread_mutex_lock(&s->lock);
	if (!e || s->n == s->queue_max || s->stop) {
		s->dropped_queue++;
		pthread_cond_signal(&s->cond); /* the writer says so */
		pthread_mutex_unlock(&s->lock);
		free(e);
		return;
	}
	s->q[(s->head + s->n) % s->queue_max] = e;
	s->n++;
	pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&s->lock);
}

/* pthread_join() that gives up after ms. Returns 0 or an error number (ETIMEDOUT). */
static int join_by(pthread_t t, uint64_t ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += (time_t)(ms / 1000);
	ts.tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	return pthread_timedjoin_np(t, NULL, &ts);
}

void auditsink_free(struct auditsink *s)
{
	uint64_t wait_ms;

	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	__atomic_store_n(&s->give_up_ms, util_now_ms() + s->drain_ms, __ATOMIC_RELEASE);
	__atomic_store_n(&s->stop, true, __ATOMIC_RELEASE);
	pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&s->lock);
	/*
	 * Every wait of the writer ends by give_up_ms but two: journald's send, which libsystemd
	 * blocks while journald's queue is full, and the resolution of a collector's name. Past
	 * this the writer is cancelled (which only the first allows), and if it still does not
	 * end it is left behind, with the sink it uses, for the process's exit to end: the end of
	 * boundary must not wait on a log pipeline.
	 */
	wait_ms = s->drain_ms + s->timeout_ms + 1000;
	if (join_by(s->thread, wait_ms) != 0) {
		log_warn("the audit writer for %s is stuck (%s): it is stopped, and what it held "
			 "is lost",
			 s->name, s->why[0] ? s->why : "a call that does not return");
		pthread_cancel(s->thread);
		if (join_by(s->thread, 1000) != 0) {
			pthread_detach(s->thread);
			return;
		}
	}
	pthread_cond_destroy(&s->cond);
	pthread_mutex_destroy(&s->lock);
	if (s->libsystemd)
		dlclose(s->libsystemd);
	free(s->q);
	free(s->batch);
	free(s);
}

const char *auditsink_name(const struct auditsink *s)
{
	return s->name;
}
