// SPDX-License-Identifier: MIT
/*
 * agentlog_test.c: the Coder agent's audit socket. The bytes of a frame against ones written out
 * by hand from the field numbers; every field back through protobuf-c's unpack; frames split at
 * 32768; strings made UTF-8 and cut; and the batching, driven step by step without the writer
 * thread (full batch, full queue, a failed write keeping the batch, the drop counts sent after a
 * batch) and then with it, on a real socket (the timer, the end's drain).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "proxy/agentlog.c"

/* --- helpers --------------------------------------------------------------------------------- */

/* An agentlog with no writer thread: the test thread plays it, calling take() and flush(). */
static struct agentlog *bare(const char *path, size_t batch, size_t queue)
{
	struct agentlog *l = calloc(1, sizeof(*l));
	size_t slots = batch + queue;

	assert_non_null(l);
	l->addr.sun_family = AF_UNIX;
	snprintf(l->addr.sun_path, sizeof(l->addr.sun_path), "%s", path);
	snprintf(l->session, sizeof(l->session), "s-1");
	snprintf(l->process, sizeof(l->process), "sh");
	l->batch_max = batch;
	l->queue_max = queue;
	l->flush_ms = 5000;
	l->drain_ms = 1000;
	l->fd = -1;
	l->q = calloc(queue, sizeof(*l->q));
	l->batch = calloc(slots, sizeof(*l->batch));
	l->pb_logs = calloc(slots, sizeof(*l->pb_logs));
	l->pb_ptrs = calloc(slots, sizeof(*l->pb_ptrs));
	l->pb_reqs = calloc(slots, sizeof(*l->pb_reqs));
	l->pb_times = calloc(slots, sizeof(*l->pb_times));
	pthread_mutex_init(&l->lock, NULL);
	pthread_cond_init(&l->cond, NULL);
	return l;
}

static void bare_free(struct agentlog *l)
{
	size_t i;

	for (i = 0; i < l->n_batch; i++)
		free(l->batch[i]);
	while (l->n > 0)
		free(pop(l));
	agent_close(l);
	pthread_cond_destroy(&l->cond);
	pthread_mutex_destroy(&l->lock);
	free_arrays(l);
	free(l);
}

static struct entry *mk(bool allowed, int32_t seq, int64_t sec, int32_t nsec, const char *method,
			const char *url, const char *rule)
{
	struct entry *e = entry_new(allowed, method, url, rule);

	assert_non_null(e);
	e->seq = seq;
	e->sec = sec;
	e->nsec = nsec;
	return e;
}

/* A Unix socket listening at path. */
static int listen_at(const char *path)
{
	struct sockaddr_un a;
	int fd;

	memset(&a, 0, sizeof(a));
	a.sun_family = AF_UNIX;
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(fd, 8), 0);
	return fd;
}

/* A Unix socket listening at a fresh path, which goes to path (108 bytes). */
static int listener(char *path)
{
	char dir[] = "/tmp/boundary-agentlog-test-XXXXXX";

	assert_non_null(mkdtemp(dir));
	snprintf(path, 108, "%s/agent.sock", dir);
	return listen_at(path);
}

static void listener_done(int fd, const char *path)
{
	char dir[108];

	close(fd);
	unlink(path);
	snprintf(dir, sizeof(dir), "%s", path);
	*strrchr(dir, '/') = '\0';
	rmdir(dir);
}

/* Reads exactly n bytes within ms milliseconds. Returns 0, or -1 on timeout or EOF. */
static int read_exact(int fd, uint8_t *p, size_t n, int ms)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	ssize_t r;

	while (n > 0) {
		if (poll(&pfd, 1, ms) != 1)
			return -1;
		r = read(fd, p, n);
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/*
 * Reads one frame within ms and checks its header: tag 2, a length within the limit. Returns
 * the message (boundary__agent__boundary_message__free_unpacked it), or NULL on timeout.
 */
static Boundary__Agent__BoundaryMessage *read_msg(int fd, int ms, size_t *len_out)
{
	static uint8_t buf[4 + AGENTLOG_FRAME_MAX];
	Boundary__Agent__BoundaryMessage *m;
	size_t len;

	if (read_exact(fd, buf, 4, ms) < 0)
		return NULL;
	assert_int_equal(buf[0], AGENTLOG_TAG);
	len = (size_t)buf[1] << 16 | (size_t)buf[2] << 8 | buf[3];
	assert_true(len <= AGENTLOG_FRAME_MAX);
	assert_int_equal(read_exact(fd, buf + 4, len, 1000), 0);
	m = boundary__agent__boundary_message__unpack(NULL, len, buf + 4);
	assert_non_null(m);
	if (len_out)
		*len_out = len;
	return m;
}

/* --- encoding -------------------------------------------------------------------------------- */

/*
 * Two records, one allowed and one denied, byte for byte. Written out from the field numbers
 * (coder-boundary.md §5), not from our encoder, so a wrong number or type shows here.
 */
static void test_frame_bytes(void **state)
{
	static const uint8_t want[] = {
	    0x02, 0x00, 0x00, 0x56,		      /* tag 2, length 86 */
	    0x0a, 0x54,				      /* BoundaryMessage.logs (1), 84 bytes */
	    0x0a, 0x2a,				      /*  .logs (1): BoundaryLog, 42 bytes */
	    0x08, 0x01,				      /*   allowed (1): true */
	    0x12, 0x08,				      /*   time (2): 8 bytes */
	    0x08, 0x80, 0xe2, 0xcf, 0xaa, 0x06,	      /*    seconds (1): 1700000000 */
	    0x10, 0x05,				      /*    nanos (2): 5 */
	    0x1a, 0x1a,				      /*   http_request (3): 26 bytes */
	    0x0a, 0x03, 'G', 'E', 'T',		      /*    method (1) */
	    0x12, 0x09, 'h', 't', 't', 'p', ':', '/', /*    url (2) */
	    '/', 'a', '/',			      /* ... */
	    0x1a, 0x08, 'd', 'o', 'm', 'a', 'i', 'n', /*    matched_rule (3) */
	    '=', 'a',				      /* ... */
	    0x20, 0x07,				      /*   sequence_number (4): 7 */
	    0x0a, 0x1d,				      /*  .logs (1): BoundaryLog, 29 bytes */
	    /*   allowed false, nanos 0 and sequence_number 0 are proto3 defaults: not sent */
	    0x12, 0x06, 0x08, 0x81, 0xe2, 0xcf, 0xaa, 0x06, /*   time: seconds 1700000001 */
	    0x1a, 0x13,					    /*   http_request (3): 19 bytes */
	    0x0a, 0x04, 'P', 'O', 'S', 'T',		    /*    method; no matched_rule */
	    0x12, 0x0b, 'h', 't', 't', 'p', 's', ':', '/', '/', 'b', '/', 'x', 0x12, 0x03, 's', '-',
	    '1',		  /*  session_id (2) */
	    0x1a, 0x02, 's', 'h', /*  confined_process_name (3) */
	};
	static const uint8_t want_status[] = {
	    0x02, 0x00, 0x00, 0x06, /* tag 2, length 6 */
	    0x12, 0x04,		    /* BoundaryMessage.status (2), 4 bytes */
	    0x08, 0x03,		    /*  dropped_channel_full (1): 3 */
	    0x10, 0x04,		    /*  dropped_batch_full (2): 4 */
	};
	struct agentlog *l = bare("/nonexistent", 10, 10);
	struct entry *b[2];
	uint8_t out[4 + AGENTLOG_FRAME_MAX];
	size_t len = 0;

	(void)state;
	b[0] = mk(true, 7, 1700000000, 5, "GET", "http://a/", "domain=a");
	b[1] = mk(false, 0, 1700000001, 0, "POST", "https://b/x", "domain=b"); /* rule ignored */
	assert_int_equal(encode_logs(l, b, 2, out, &len), 2);
	assert_int_equal(len, sizeof(want));
	assert_memory_equal(out, want, sizeof(want));
	assert_int_equal(encode_status(3, 4, out), sizeof(want_status));
	assert_memory_equal(out, want_status, sizeof(want_status));
	free(b[0]);
	free(b[1]);
	bare_free(l);
}

/* Every field of a batch, back through protobuf-c's own decoder. */
static void test_every_field_round_trips(void **state)
{
	struct agentlog *l = bare("/nonexistent", 10, 10);
	Boundary__Agent__BoundaryMessage *m;
	Boundary__Agent__ReportBoundaryLogsRequest *r;
	struct entry *b[3];
	uint8_t out[4 + AGENTLOG_FRAME_MAX];
	size_t len = 0, i;

	(void)state;
	b[0] = mk(true, 0, 1800000000, 999999999, "GET", "https://api.example.com/v1?q=1",
		  "domain=api.example.com");
	b[1] = mk(false, 1, 1800000001, 1, "CONNECT", "evil.example:443", NULL);
	b[2] = mk(true, 2, 1800000002, 2, "POST", "http://caf\xc3\xa9.test/\xff",
		  "method=POST domain=*.test");
	assert_int_equal(encode_logs(l, b, 3, out, &len), 3);
	assert_int_equal(out[0], 2);
	assert_int_equal((size_t)out[1] << 16 | (size_t)out[2] << 8 | out[3], len - 4);
	m = boundary__agent__boundary_message__unpack(NULL, len - 4, out + 4);
	assert_non_null(m);
	assert_int_equal(m->msg_case, BOUNDARY__AGENT__BOUNDARY_MESSAGE__MSG_LOGS);
	r = m->logs;
	assert_string_equal(r->session_id, "s-1");
	assert_string_equal(r->confined_process_name, "sh");
	assert_int_equal(r->n_logs, 3);
	for (i = 0; i < 3; i++) {
		Boundary__Agent__BoundaryLog *g = r->logs[i];

		assert_int_equal(g->allowed, b[i]->allowed);
		assert_non_null(g->time);
		assert_int_equal(g->time->seconds, b[i]->sec);
		assert_int_equal(g->time->nanos, b[i]->nsec);
		assert_int_equal(g->sequence_number, (int)i);
		assert_int_equal(g->resource_case,
				 BOUNDARY__AGENT__BOUNDARY_LOG__RESOURCE_HTTP_REQUEST);
		assert_string_equal(g->http_request->method, b[i]->method);
		assert_string_equal(g->http_request->url, b[i]->url);
	}
	assert_string_equal(r->logs[0]->http_request->matched_rule, "domain=api.example.com");
	assert_string_equal(r->logs[1]->http_request->matched_rule, "");
	assert_string_equal(r->logs[2]->http_request->matched_rule, "method=POST domain=*.test");
	/* The byte that is not UTF-8 went as %FF; the UTF-8 stayed. */
	assert_string_equal(r->logs[2]->http_request->url, "http://caf\xc3\xa9.test/%FF");
	boundary__agent__boundary_message__free_unpacked(m, NULL);
	/* No process name: the field is not sent. */
	l->process[0] = '\0';
	assert_int_equal(encode_logs(l, b, 1, out, &len), 1);
	m = boundary__agent__boundary_message__unpack(NULL, len - 4, out + 4);
	assert_string_equal(m->logs->confined_process_name, "");
	assert_null(memmem(out, len, "\x1a\x02sh", 4));
	boundary__agent__boundary_message__free_unpacked(m, NULL);
	for (i = 0; i < 3; i++)
		free(b[i]);
	bare_free(l);
}

/* A batch too big for one frame goes in several, each within the limit, in order. */
static void test_frames_split_at_32768(void **state)
{
	struct agentlog *l = bare("/nonexistent", 30, 0);
	Boundary__Agent__BoundaryMessage *m;
	struct entry *b[30];
	static uint8_t out[4 + AGENTLOG_FRAME_MAX];
	char url[8001];
	size_t len = 0, i, done = 0, frames = 0;
	int k;

	(void)state;
	memset(url, 'u', sizeof(url) - 1);
	url[sizeof(url) - 1] = '\0';
	memcpy(url, "http://", 7);
	for (i = 0; i < 30; i++)
		b[i] = mk(true, (int32_t)i, 1, 0, "GET", url, "domain=u");
	while (done < 30) {
		k = encode_logs(l, b + done, 30 - done, out, &len);
		assert_true(k >= 1);
		assert_true(len - 4 <= AGENTLOG_FRAME_MAX);
		assert_int_equal((size_t)out[1] << 16 | (size_t)out[2] << 8 | out[3], len - 4);
		m = boundary__agent__boundary_message__unpack(NULL, len - 4, out + 4);
		assert_non_null(m);
		assert_int_equal(m->logs->n_logs, (size_t)k);
		for (i = 0; i < (size_t)k; i++)
			assert_int_equal(m->logs->logs[i]->sequence_number, (int)(done + i));
		boundary__agent__boundary_message__free_unpacked(m, NULL);
		/* Full frames: one more record would not have fitted. */
		if (done + (size_t)k < 30)
			assert_true(len - 4 + 8000 > AGENTLOG_FRAME_MAX);
		done += (size_t)k;
		frames++;
	}
	assert_int_equal(frames, 8); /* 4 records of 8 kB a frame */
	/* The longest record there can be still fits one frame. */
	{
		char big[3 * AGENTLOG_FIELD_MAX];
		struct entry *e;

		memset(big, 0xff, sizeof(big) - 1); /* each byte becomes 3: cut at the field max */
		big[sizeof(big) - 1] = '\0';
		e = mk(true, INT32_MAX, INT64_MAX, 999999999, big, big, big);
		assert_int_equal(strlen(e->url), AGENTLOG_FIELD_MAX - AGENTLOG_FIELD_MAX % 3);
		assert_int_equal(encode_logs(l, &e, 1, out, &len), 1);
		free(e);
	}
	for (i = 0; i < 30; i++)
		free(b[i]);
	bare_free(l);
}

static void test_clean(void **state)
{
	char out[32];

	(void)state;
	assert_int_equal(clean(out, "plain", 31), 5);
	assert_string_equal(out, "plain");
	assert_int_equal(clean(out, "a\x80z\xc0\xaf", 31), 11);
	assert_string_equal(out, "a%80z%C0%AF");
	/* Cut before a sequence that would not fit, never inside one. */
	assert_int_equal(clean(out, "ab\xc3\xa9", 3), 2);
	assert_string_equal(out, "ab");
	assert_int_equal(clean(out, "a\xff", 3), 1);
	assert_int_equal(clean(NULL, "a\xff", 31), 4);
	assert_int_equal(clean(out, NULL, 31), 0);
	assert_string_equal(out, "");
}

/* --- batching, step by step ------------------------------------------------------------------ */

static void test_batch_waits_for_the_agent(void **state)
{
	Boundary__Agent__BoundaryMessage *m;
	struct agentlog *l;
	char path[108];
	int lfd, c, i;

	(void)state;
	lfd = listener(path);
	l = bare(path, 3, 2);
	/* The agent is not there yet: the batch fills, is kept, and what comes next is dropped. */
	unlink(path);
	for (i = 0; i < 5; i++)
		take(l, mk(i % 2 == 0, i, 100 + i, 0, "GET", "http://x/", "domain=x"));
	assert_int_equal(l->n_batch, 3);
	assert_int_equal(l->dropped_batch, 2);
	assert_true(l->due_ms > 0); /* the next try is at the timer */
	assert_true(l->fd < 0);
	/* A full queue drops too; the records keep the numbers the proxy gave them. */
	agentlog_push(l, 5, true, "GET", "http://q/", "domain=q");
	agentlog_push(l, 6, true, "GET", "http://q/", "domain=q");
	agentlog_push(l, 7, true, "GET", "http://q/", "domain=q");
	assert_int_equal(l->n, 2);
	assert_int_equal(l->dropped_queue, 1);
	assert_int_equal(l->q[l->head]->seq, 5);
	assert_int_equal(l->q[(l->head + 1) % 2]->seq, 6);

	/* The agent comes: the timer's flush sends the batch, then the counts of what was lost. */
	close(lfd);
	lfd = listen_at(path);
	assert_int_equal(flush(l, false, 0), 0);
	assert_int_equal(l->n_batch, 0);
	assert_int_equal(l->due_ms, 0);
	c = accept(lfd, NULL, NULL);
	assert_true(c >= 0);
	m = read_msg(c, 1000, NULL);
	assert_non_null(m);
	assert_int_equal(m->msg_case, BOUNDARY__AGENT__BOUNDARY_MESSAGE__MSG_LOGS);
	assert_int_equal(m->logs->n_logs, 3);
	for (i = 0; i < 3; i++) {
		assert_int_equal(m->logs->logs[i]->sequence_number, i);
		assert_int_equal(m->logs->logs[i]->allowed, i % 2 == 0);
		assert_string_equal(m->logs->logs[i]->http_request->matched_rule,
				    i % 2 == 0 ? "domain=x" : "");
	}
	boundary__agent__boundary_message__free_unpacked(m, NULL);
	m = read_msg(c, 1000, NULL);
	assert_non_null(m);
	assert_int_equal(m->msg_case, BOUNDARY__AGENT__BOUNDARY_MESSAGE__MSG_STATUS);
	assert_int_equal(m->status->dropped_channel_full, 1);
	assert_int_equal(m->status->dropped_batch_full, 2);
	boundary__agent__boundary_message__free_unpacked(m, NULL);
	assert_int_equal(l->dropped_queue + l->dropped_batch, 0);

	/* Nothing dropped since: the next batch goes with no status after it. */
	take(l, pop(l));
	take(l, pop(l));
	assert_int_equal(flush(l, false, 0), 0);
	m = read_msg(c, 1000, NULL);
	assert_non_null(m);
	assert_int_equal(m->logs->n_logs, 2);
	assert_int_equal(m->logs->logs[0]->sequence_number, 5);
	assert_int_equal(m->logs->logs[1]->sequence_number, 6);
	boundary__agent__boundary_message__free_unpacked(m, NULL);
	assert_null(read_msg(c, 100, NULL));

	/* The agent goes away: the write fails, the connection is closed, the batch is kept. */
	close(c);
	take(l, mk(true, 9, 1, 0, "GET", "http://y/", "domain=y"));
	assert_int_equal(flush(l, false, 0), -1);
	assert_true(l->fd < 0);
	assert_int_equal(l->n_batch, 1);
	assert_true(l->due_ms > 0);
	/* and goes with the next connection */
	assert_int_equal(flush(l, false, 0), 0);
	c = accept(lfd, NULL, NULL);
	m = read_msg(c, 1000, NULL);
	assert_non_null(m);
	assert_int_equal(m->logs->n_logs, 1);
	assert_int_equal(m->logs->logs[0]->sequence_number, 9);
	boundary__agent__boundary_message__free_unpacked(m, NULL);
	close(c);
	bare_free(l);
	listener_done(lfd, path);
}

/* --- the writer thread, on a real socket ----------------------------------------------------- */

static void test_writer_thread(void **state)
{
	struct agentlog_config cfg = {.session_id = "sess",
				      .process_name = "claude",
				      .batch = 3,
				      .flush_ms = 400,
				      .queue = 8,
				      .drain_ms = 1000};
	Boundary__Agent__BoundaryMessage *m;
	struct agentlog *l;
	char path[108], longer[109], err[256];
	uint64_t t0;
	int lfd, c, i;

	(void)state;
	lfd = listener(path);
	cfg.socket_path = path;
	l = agentlog_new(&cfg, err, sizeof(err));
	assert_non_null(l);
	c = accept(lfd, NULL, NULL); /* it connects at once */
	assert_true(c >= 0);

	/* A full batch goes at once, not at the timer. */
	t0 = util_now_ms();
	for (i = 0; i < 3; i++)
		agentlog_push(l, i, true, "GET", "http://full/", "domain=full");
	m = read_msg(c, 2000, NULL);
	assert_non_null(m);
	assert_true(util_now_ms() - t0 < 300);
	assert_int_equal(m->logs->n_logs, 3);
	assert_string_equal(m->logs->session_id, "sess");
	assert_string_equal(m->logs->confined_process_name, "claude");
	for (i = 0; i < 3; i++)
		assert_int_equal(m->logs->logs[i]->sequence_number, i);
	boundary__agent__boundary_message__free_unpacked(m, NULL);

	/* One record waits for the timer started by it. */
	t0 = util_now_ms();
	agentlog_push(l, 3, false, "GET", "http://timer/", "ignored");
	assert_null(read_msg(c, 200, NULL));
	m = read_msg(c, 2000, NULL);
	assert_non_null(m);
	assert_true(util_now_ms() - t0 >= 390);
	assert_int_equal(m->logs->n_logs, 1);
	assert_false(m->logs->logs[0]->allowed);
	assert_int_equal(m->logs->logs[0]->sequence_number, 3);
	assert_string_equal(m->logs->logs[0]->http_request->matched_rule, "");
	boundary__agent__boundary_message__free_unpacked(m, NULL);

	/* At the end, what waits goes before free returns, timer or not. */
	/* Numbers as the proxy gives them: any order, gaps allowed (its other records, or drops). */
	agentlog_push(l, 2147483647, true, "GET", "http://end/1", "domain=end");
	agentlog_push(l, 5, true, "GET", "http://end/2", "domain=end");
	t0 = util_now_ms();
	agentlog_free(l);
	assert_true(util_now_ms() - t0 < 300);
	m = read_msg(c, 100, NULL);
	assert_non_null(m);
	assert_int_equal(m->logs->n_logs, 2);
	assert_int_equal(m->logs->logs[0]->sequence_number, 2147483647);
	assert_string_equal(m->logs->logs[1]->http_request->url, "http://end/2");
	assert_int_equal(m->logs->logs[1]->sequence_number, 5);
	boundary__agent__boundary_message__free_unpacked(m, NULL);
	close(c);

	/* No agent at all: pushing and freeing cost no more than the drain's bound. */
	unlink(path);
	l = agentlog_new(&cfg, err, sizeof(err));
	assert_non_null(l);
	for (i = 0; i < 50; i++)
		agentlog_push(l, i, true, "GET", "http://nobody/", "domain=nobody");
	t0 = util_now_ms();
	agentlog_free(l);
	assert_true(util_now_ms() - t0 < 1500);
	listener_done(lfd, path);

	/* A path too long for a Unix socket is refused at once. */
	memset(longer, 'p', sizeof(longer) - 1); /* one more than sun_path holds */
	longer[sizeof(longer) - 1] = '\0';
	cfg.socket_path = longer;
	assert_null(agentlog_new(&cfg, err, sizeof(err)));
	assert_non_null(strstr(err, "longer than"));
	agentlog_push(NULL, 0, true, "GET", "http://x/", NULL);
	agentlog_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_frame_bytes),
	    cmocka_unit_test(test_every_field_round_trips),
	    cmocka_unit_test(test_frames_split_at_32768),
	    cmocka_unit_test(test_clean),
	    cmocka_unit_test(test_batch_waits_for_the_agent),
	    cmocka_unit_test(test_writer_thread),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
