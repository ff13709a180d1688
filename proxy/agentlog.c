// SPDX-License-Identifier: MIT
/*
 * agentlog.c: the Coder agent's audit socket (agentlog.h). Owns the queue, the batch, the
 * writer thread and its connection, and the encoding: the messages' C code is protoc-c's
 * (proxy/coder_agent.proto, generated into the build directory), the frame header is made
 * here. Knows nothing of HTTP beyond the three strings it is handed, and nothing of the JSON
 * audit stream (audit.c), which feeds it.
 */
#include "proxy/agentlog.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "proxy/coder_agent.pb-c.h"
#include "proxy/log.h"
#include "proxy/util.h"
#include "proxy/utf8.h"

#define SESSION_MAX 64	/* bytes of session id kept */
#define PROCESS_MAX 255 /* bytes of process name kept */

/*
 * A batch always makes progress: one record, with every field at its longest, fits a frame with
 * room to spare for the field tags, lengths and numbers around it.
 */
_Static_assert(3 * AGENTLOG_FIELD_MAX + SESSION_MAX + PROCESS_MAX + 256 <= AGENTLOG_FRAME_MAX,
	       "one record must fit a frame");

struct entry {
	bool allowed;
	int32_t seq;
	int64_t sec;
	int32_t nsec;
	char *method, *url, *rule; /* in the same allocation, after the entry; never NULL */
};

struct agentlog {
	struct sockaddr_un addr;
	char session[SESSION_MAX + 1];
	char process[PROCESS_MAX + 1];
	size_t batch_max, queue_max;
	unsigned flush_ms, drain_ms;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond; /* waits on CLOCK_MONOTONIC */

	/* under lock */
	struct entry **q; /* a ring of queue_max */
	size_t head, n;
	int64_t dropped_queue, dropped_batch;
	bool stop;

	/* the writer thread's own */
	int fd;
	struct entry **batch; /* batch_max, and room for the queue's last records at the end */
	size_t n_batch;
	uint64_t due_ms; /* when the batch goes even if not full; 0: no timer running */
	bool failing;	 /* the last connect or write failed, and a warning said so */
	Boundary__Agent__BoundaryLog *pb_logs; /* the encoder's scratch, one per batch slot */
	Boundary__Agent__BoundaryLog **pb_ptrs;
	Boundary__Agent__HttpRequest *pb_reqs;
	Boundary__Agent__Timestamp *pb_times;
	uint8_t frame[4 + AGENTLOG_FRAME_MAX];
};

/* --- encoding -------------------------------------------------------------------------------- */

/*
 * Copies src into dst as UTF-8 of at most max bytes, a byte that is not UTF-8 written as %XX,
 * and cut before the first piece that would not fit. With dst NULL, only counts. Returns the
 * length (dst gets a NUL after it).
 */
static size_t clean(char *dst, const char *src, size_t max)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p = (const unsigned char *)(src ? src : "");
	size_t len = 0, n;

	while (*p) {
		n = utf8_seq_len(p);
		if (n == 0) {
			if (len + 3 > max)
				break;
			if (dst) {
				dst[len] = '%';
				dst[len + 1] = hex[*p >> 4];
				dst[len + 2] = hex[*p & 15];
			}
			len += 3;
			p++;
			continue;
		}
		if (len + n > max)
			break;
		if (dst)
			memcpy(dst + len, p, n);
		len += n;
		p += n;
	}
	if (dst)
		dst[len] = '\0';
	return len;
}

/* The frame header for a payload of len bytes (len <= AGENTLOG_FRAME_MAX), big-endian. */
static void frame_header(uint8_t *out, size_t len)
{
	uint32_t h = (uint32_t)AGENTLOG_TAG << 24 | (uint32_t)len;

	out[0] = (uint8_t)(h >> 24);
	out[1] = (uint8_t)(h >> 16);
	out[2] = (uint8_t)(h >> 8);
	out[3] = (uint8_t)h;
}

/*
 * Encodes as many of batch[0..n) as fit one frame, in order, into out (header included; out
 * has room for 4 + AGENTLOG_FRAME_MAX bytes). Returns how many went in (at least 1) and sets
 * *len, or -E2BIG when not even the first fits.
 */
static int encode_logs(struct agentlog *l, struct entry *const *batch, size_t n, uint8_t *out,
		       size_t *len)
{
	Boundary__Agent__ReportBoundaryLogsRequest req;
	Boundary__Agent__BoundaryMessage msg;
	size_t i, k, size = 0;

	for (i = 0; i < n; i++) {
		const struct entry *e = batch[i];

		boundary__agent__timestamp__init(&l->pb_times[i]);
		l->pb_times[i].seconds = e->sec;
		l->pb_times[i].nanos = e->nsec;
		boundary__agent__http_request__init(&l->pb_reqs[i]);
		l->pb_reqs[i].method = e->method;
		l->pb_reqs[i].url = e->url;
		l->pb_reqs[i].matched_rule = e->rule; /* "" for a denial: not sent */
		boundary__agent__boundary_log__init(&l->pb_logs[i]);
		l->pb_logs[i].allowed = e->allowed;
		l->pb_logs[i].time = &l->pb_times[i];
		l->pb_logs[i].resource_case = BOUNDARY__AGENT__BOUNDARY_LOG__RESOURCE_HTTP_REQUEST;
		l->pb_logs[i].http_request = &l->pb_reqs[i];
		l->pb_logs[i].sequence_number = e->seq;
		l->pb_ptrs[i] = &l->pb_logs[i];
	}
	boundary__agent__report_boundary_logs_request__init(&req);
	req.logs = l->pb_ptrs;
	req.session_id = l->session;
	if (l->process[0])
		req.confined_process_name = l->process;
	boundary__agent__boundary_message__init(&msg);
	msg.msg_case = BOUNDARY__AGENT__BOUNDARY_MESSAGE__MSG_LOGS;
	msg.logs = &req;
	for (k = n; k > 0; k--) {
		req.n_logs = k;
		size = boundary__agent__boundary_message__get_packed_size(&msg);
		if (size <= AGENTLOG_FRAME_MAX)
			break;
	}
	if (k == 0)
		return -E2BIG;
	frame_header(out, size);
	boundary__agent__boundary_message__pack(&msg, out + 4);
	*len = 4 + size;
	return (int)k;
}

/* Encodes a BoundaryStatus frame into out. Returns its length, header included. */
static size_t encode_status(int64_t dropped_queue, int64_t dropped_batch, uint8_t *out)
{
	Boundary__Agent__BoundaryStatus st;
	Boundary__Agent__BoundaryMessage msg;
	size_t size;

	boundary__agent__boundary_status__init(&st);
	st.dropped_channel_full = dropped_queue;
	st.dropped_batch_full = dropped_batch;
	boundary__agent__boundary_message__init(&msg);
	msg.msg_case = BOUNDARY__AGENT__BOUNDARY_MESSAGE__MSG_STATUS;
	msg.status = &st;
	size = boundary__agent__boundary_message__get_packed_size(&msg);
	frame_header(out, size);
	boundary__agent__boundary_message__pack(&msg, out + 4);
	return 4 + size;
}

/* --- the connection -------------------------------------------------------------------------- */

/* The first failure in a row is a warning, the rest are for debugging. errno is kept. */
static void say_failure(struct agentlog *l, const char *what)
{
	if (!l->failing)
		log_warn_errno(
		    "%s the Coder agent's audit socket %s (records for it wait in a batch "
		    "of %zu, the rest are dropped and counted, until it works again)",
		    what, l->addr.sun_path, l->batch_max);
	else
		log_debug("%s the Coder agent's audit socket %s: %s", what, l->addr.sun_path,
			  strerror(errno));
	l->failing = true;
}

static void agent_close(struct agentlog *l)
{
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
}

/*
 * Connects unless connected. Sends wait at most drain_ms (SO_SNDTIMEO, which also bounds a
 * connect to a listener whose backlog is full), so an agent that stops reading costs the
 * writer a bounded wait, and the proxy nothing.
 */
static void agent_connect(struct agentlog *l)
{
	struct timeval tv;
	int fd, err;

	if (l->fd >= 0)
		return;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		say_failure(l, "cannot make a socket for");
		return;
	}
	tv.tv_sec = l->drain_ms / 1000;
	tv.tv_usec = (l->drain_ms % 1000) * 1000;
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (const struct sockaddr *)&l->addr, sizeof(l->addr)) == -1) {
		err = errno;
		close(fd);
		errno = err;
		say_failure(l, "cannot connect to");
		return;
	}
	l->fd = fd;
	if (l->failing)
		log_info("connected to the Coder agent's audit socket %s again", l->addr.sun_path);
	else
		log_debug("connected to the Coder agent's audit socket %s", l->addr.sun_path);
	l->failing = false;
}

/* Writes all of p, or closes the connection. Returns 0 or -1. */
static int agent_send(struct agentlog *l, const uint8_t *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = send(l->fd, p, n, MSG_NOSIGNAL);
		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1) {
			say_failure(l, "cannot write to");
			agent_close(l);
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* --- batching -------------------------------------------------------------------------------- */

/*
 * Sends the batch, in as many frames as it takes, then the drop counts when either is not
 * zero. Stops early when give_up_ms (0: never) has passed. Returns 0 when the batch is empty,
 * or -1 with what was not sent still in it; then, unless last, the timer runs again.
 */
static int flush(struct agentlog *l, bool last, uint64_t give_up_ms)
{
	int64_t dq, db;
	size_t len, i;
	int k;

	l->due_ms = 0;
	if (l->n_batch == 0)
		return 0;
	agent_connect(l);
	if (l->fd < 0)
		goto again;
	while (l->n_batch > 0) {
		if (give_up_ms && util_now_ms() >= give_up_ms)
			goto again;
		k = encode_logs(l, l->batch, l->n_batch, l->frame, &len);
		if (k < 0) {
			/* Cannot happen (see the _Static_assert); dropped, not retried forever. */
			log_error("an audit record for the Coder agent does not fit a frame");
			k = 1;
		} else if (agent_send(l, l->frame, len) < 0) {
			goto again;
		}
		for (i = 0; i < (size_t)k; i++)
			free(l->batch[i]);
		l->n_batch -= (size_t)k;
		memmove(l->batch, l->batch + k, l->n_batch * sizeof(*l->batch));
	}

	pthread_mutex_lock(&l->lock);
	dq = l->dropped_queue;
	db = l->dropped_batch;
	l->dropped_queue = l->dropped_batch = 0;
	pthread_mutex_unlock(&l->lock);
	if (dq || db) {
		len = encode_status(dq, db, l->frame);
		if (agent_send(l, l->frame, len) < 0) {
			pthread_mutex_lock(&l->lock);
			l->dropped_queue += dq;
			l->dropped_batch += db;
			pthread_mutex_unlock(&l->lock);
		} else {
			log_warn(
			    "%lld audit record(s) for the Coder agent were dropped (%lld with its "
			    "queue full, %lld with the batch full and unsent); it has been told",
			    (long long)(dq + db), (long long)dq, (long long)db);
		}
	}
	return 0;
again:
	if (!last)
		l->due_ms = util_now_ms() + l->flush_ms;
	return -1;
}

/* Adds one record to the batch, sending the batch first if it is full, or after if it fills. */
static void take(struct agentlog *l, struct entry *e)
{
	if (l->n_batch >= l->batch_max) {
		flush(l, false, 0);
		if (l->n_batch >= l->batch_max) {
			pthread_mutex_lock(&l->lock);
			l->dropped_batch++;
			pthread_mutex_unlock(&l->lock);
			free(e);
			return;
		}
	}
	l->batch[l->n_batch++] = e;
	if (l->n_batch == 1)
		l->due_ms = util_now_ms() + l->flush_ms;
	if (l->n_batch >= l->batch_max)
		flush(l, false, 0);
}

static struct entry *pop(struct agentlog *l)
{
	struct entry *e = l->q[l->head];

	l->head = (l->head + 1) % l->queue_max;
	l->n--;
	return e;
}

static void *writer_main(void *arg)
{
	struct agentlog *l = arg;
	struct timespec ts;
	int64_t dropped;
	uint64_t now;
	size_t i;

	agent_connect(l);
	pthread_mutex_lock(&l->lock);
	while (!l->stop) {
		if (l->n > 0) {
			struct entry *e = pop(l);

			pthread_mutex_unlock(&l->lock);
			take(l, e);
			pthread_mutex_lock(&l->lock);
			continue;
		}
		now = util_now_ms();
		if (l->due_ms && now >= l->due_ms) {
			pthread_mutex_unlock(&l->lock);
			flush(l, false, 0);
			pthread_mutex_lock(&l->lock);
			continue;
		}
		if (l->due_ms) {
			ts.tv_sec = (time_t)(l->due_ms / 1000);
			ts.tv_nsec = (long)(l->due_ms % 1000) * 1000000;
			pthread_cond_timedwait(&l->cond, &l->lock, &ts);
		} else {
			pthread_cond_wait(&l->cond, &l->lock);
		}
	}
	/* The end: whatever is queued joins the batch (it has room), and all of it goes. */
	while (l->n > 0)
		l->batch[l->n_batch++] = pop(l);
	pthread_mutex_unlock(&l->lock);
	flush(l, true, util_now_ms() + l->drain_ms);
	if (l->n_batch > 0)
		log_warn("%zu audit record(s) could not be sent to the Coder agent's socket %s "
			 "before boundary ended",
			 l->n_batch, l->addr.sun_path);
	for (i = 0; i < l->n_batch; i++)
		free(l->batch[i]);
	l->n_batch = 0;
	pthread_mutex_lock(&l->lock);
	dropped = l->dropped_queue + l->dropped_batch;
	pthread_mutex_unlock(&l->lock);
	if (dropped)
		log_warn(
		    "%lld audit record(s) for the Coder agent were dropped, and it could not be "
		    "told",
		    (long long)dropped);
	agent_close(l);
	return NULL;
}

/* --- the API --------------------------------------------------------------------------------- */

static void free_arrays(struct agentlog *l)
{
	free(l->q);
	free(l->batch);
	free(l->pb_logs);
	free(l->pb_ptrs);
	free(l->pb_reqs);
	free(l->pb_times);
}

struct agentlog *agentlog_new(const struct agentlog_config *cfg, char *err, size_t errlen)
{
	struct agentlog *l;
	pthread_condattr_t ca;
	size_t slots;

	if (strlen(cfg->socket_path) >= sizeof(l->addr.sun_path)) {
		snprintf(err, errlen,
			 "the Coder agent's audit socket path is longer than %zu bytes: %s",
			 sizeof(l->addr.sun_path) - 1, cfg->socket_path);
		return NULL;
	}
	l = calloc(1, sizeof(*l));
	if (!l) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	l->addr.sun_family = AF_UNIX;
	memcpy(l->addr.sun_path, cfg->socket_path, strlen(cfg->socket_path) + 1);
	clean(l->session, cfg->session_id, SESSION_MAX);
	clean(l->process, cfg->process_name, PROCESS_MAX);
	l->batch_max = cfg->batch ? cfg->batch : AGENTLOG_BATCH;
	l->queue_max = cfg->queue ? cfg->queue : AGENTLOG_QUEUE;
	l->flush_ms = cfg->flush_ms ? cfg->flush_ms : AGENTLOG_FLUSH_MS;
	l->drain_ms = cfg->drain_ms ? cfg->drain_ms : AGENTLOG_DRAIN_MS;
	l->fd = -1;
	slots = l->batch_max + l->queue_max;
	l->q = calloc(l->queue_max, sizeof(*l->q));
	l->batch = calloc(slots, sizeof(*l->batch));
	l->pb_logs = calloc(slots, sizeof(*l->pb_logs));
	l->pb_ptrs = calloc(slots, sizeof(*l->pb_ptrs));
	l->pb_reqs = calloc(slots, sizeof(*l->pb_reqs));
	l->pb_times = calloc(slots, sizeof(*l->pb_times));
	if (!l->q || !l->batch || !l->pb_logs || !l->pb_ptrs || !l->pb_reqs || !l->pb_times) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	pthread_mutex_init(&l->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&l->cond, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&l->thread, NULL, writer_main, l) != 0) {
		snprintf(err, errlen, "cannot start the Coder agent's audit writer");
		pthread_cond_destroy(&l->cond);
		pthread_mutex_destroy(&l->lock);
		goto fail;
	}
	return l;
fail:
	free_arrays(l);
	free(l);
	return NULL;
}

/*
 * A record as agentlog_push() describes it, without its sequence number and time. Returns NULL
 * when out of memory.
 */
static struct entry *entry_new(bool allowed, const char *method, const char *url, const char *rule)
{
	size_t nm, nu, nr;
	struct entry *e;

	if (!allowed)
		rule = NULL;
	nm = clean(NULL, method, AGENTLOG_FIELD_MAX);
	nu = clean(NULL, url, AGENTLOG_FIELD_MAX);
	nr = clean(NULL, rule, AGENTLOG_FIELD_MAX);
	e = malloc(sizeof(*e) + nm + nu + nr + 3);
	if (!e)
		return NULL;
	memset(e, 0, sizeof(*e));
	e->allowed = allowed;
	e->method = (char *)(e + 1);
	e->url = e->method + nm + 1;
	e->rule = e->url + nu + 1;
	clean(e->method, method, AGENTLOG_FIELD_MAX);
	clean(e->url, url, AGENTLOG_FIELD_MAX);
	clean(e->rule, rule, AGENTLOG_FIELD_MAX);
	return e;
}

void agentlog_push(struct agentlog *l, int32_t seq, bool allowed, const char *method,
		   const char *url, const char *rule)
{
	struct entry *e;
	struct timespec ts;

	if (!l)
		return;
	e = entry_new(allowed, method, url, rule);
	pthread_mutex_lock(&l->lock);
	/* Under the lock, so that times rise in the order records are queued. */
	clock_gettime(CLOCK_REALTIME, &ts);
	if (!e || l->n == l->queue_max || l->stop) {
		l->dropped_queue++;
		pthread_mutex_unlock(&l->lock);
		free(e);
		return;
	}
	e->seq = seq;
	e->sec = ts.tv_sec;
	e->nsec = (int32_t)ts.tv_nsec;
	l->q[(l->head + l->n) % l->queue_max] = e;
	l->n++;
	pthread_cond_signal(&l->cond);
	pthread_mutex_unlock(&l->lock);
}

void agentlog_free(struct agentlog *l)
{
	if (!l)
		return;
	pthread_mutex_lock(&l->lock);
	l->stop = true;
	pthread_cond_signal(&l->cond);
	pthread_mutex_unlock(&l->lock);
	pthread_join(l->thread, NULL);
	pthread_cond_destroy(&l->cond);
	pthread_mutex_destroy(&l->lock);
	free_arrays(l);
	free(l);
}
