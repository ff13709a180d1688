// SPDX-License-Identifier: MIT
/*
 * h2_fuzz.c: libFuzzer target for the whole HTTP/2 path of the proxy. The input is what a jailed
 * client sends after the h2c preface (its SETTINGS, then any frames); boundary reads it on a real
 * loopback connection, makes each stream a request of its own, decides it with the rules, and
 * sends allowed ones upstream (as h2c, since the client spoke it with prior knowledge) to a small
 * nghttp2 server this file runs; the answers go back to the client as frames.
 *
 * Everything runs on the fuzzer's thread: one worker of a proxy made by proxy_new() (its loop
 * driven here, through proxy.c's own statics, instead of proxy_start()'s thread), the client, and
 * the upstream. Name lookups are answered at once from a table (resolve_ask() below stands in for
 * the resolver threads): a.test and b.test are the upstream, c.test a loopback port where nothing
 * listens (502), anything else no name (502). So an input runs with no thread, no DNS and no
 * timer: the client's bytes go in, the loop turns until nothing moves, the client half-closes,
 * the loop turns until boundary is done; whatever is still open is closed before the next input.
 *
 * Invariants checked, beyond "no crash, no leak, no UB":
 *  - every request that reaches the upstream is one the rules allow, judged again here on the
 *    method, :authority and :path the upstream received (a refused request must never leave);
 *  - boundary's output to the client is whole frames, begins with its SETTINGS, never pushes,
 *    and answers (HEADERS, DATA) only on client-initiated (odd) streams;
 *  - every header block boundary sends decodes (HPACK); a response head's only pseudo-field is
 *    a three-digit :status, first (trailers have none).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <nghttp2/nghttp2.h>
#include <poll.h>
#include <signal.h>

/* The worker's loop, from proxy.c's statics (the archive's proxy.o is then left out). */
#include "proxy/proxy.c"
/* resolve.c's helpers, with resolve_ask() ours (below): no resolver threads, no DNS. */
#define resolve_ask resolve_ask_threads
#include "proxy/resolve.c"
#undef resolve_ask

#include "proxy/h2.h"
#include "rules/rules.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define OUT_MAX	    (4 << 20) /* what boundary may send one input's client */
#define MAX_UP	    8	      /* upstream connections one input may open */
#define FIELD_MAX   512
#define BIG_BODY    (100 * 1024)
#define MAX_ROUNDS  20000
#define IDLE_ROUNDS 3

static const char *const rule_specs[] = {
    "domain=a.test path=/ok", "domain=a.test path=/ok/*", "domain=b.test",
    "domain=c.test",	      "domain=d.test method=GET",
};

static struct rules *rules;
static struct proxy *proxy;
static struct worker *worker;
static int listen_fd = -1, up_listen_fd = -1, closed_fd = -1;
static struct sockaddr_in listen_addr;
static uint16_t up_port, closed_port;

static void check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "invariant broken: %s\n", what);
		abort();
	}
}

/* --- name lookups ------------------------------------------------------------------------- */

/*
 * As resolve.h says, but answered at once: the job goes on the worker's done list and its
 * eventfd is written, so the answer comes on the loop's next turn as a real one would.
 */
struct resolve_job *resolve_ask(struct worker *w, const char *host, uint16_t port,
				resolve_done_fn *done, void *arg)
{
	static const unsigned char lo[4] = {127, 0, 0, 1};
	struct resolve_job *j = calloc(1, sizeof(*j));
	uint64_t one = 1;

	(void)port;
	if (!j)
		return NULL;
	j->w = w;
	j->done = done;
	j->arg = arg;
	snprintf(j->host, sizeof(j->host), "%s", host);
	snprintf(j->port, sizeof(j->port), "%u", port);
	if (strcasecmp(host, "a.test") == 0 || strcasecmp(host, "b.test") == 0)
		j->res = resolve_addr_new(AF_INET, lo, up_port);
	else if (strcasecmp(host, "c.test") == 0)
		j->res = resolve_addr_new(AF_INET, lo, closed_port);
	else
		snprintf(j->err, sizeof(j->err), "Name or service not known");
	pthread_mutex_lock(&w->lock);
	j->next = w->done;
	w->done = j;
	pthread_mutex_unlock(&w->lock);
	if (write(w->wake, &one, sizeof(one)) == -1) {
		/* a full eventfd is still readable */
	}
	return j;
}

/* --- the upstream: an h2c server answering by path ---------------------------------------- */

struct up_stream {
	char method[FIELD_MAX], authority[FIELD_MAX];
	char *path;
	bool grpc, answered, trailers;
	const char *body;
	size_t len, off;
	struct up_stream *next;
};

/* nghttp2_session_del() calls no stream-close callback: the streams are listed here too. */
struct up {
	int fd;
	nghttp2_session *ng;
	struct up_stream *streams;
};

static void stream_free(struct up *up, struct up_stream *st)
{
	struct up_stream **pp;

	for (pp = &up->streams; *pp && *pp != st; pp = &(*pp)->next)
		;
	if (*pp)
		*pp = st->next;
	free(st->path);
	free(st);
}

static struct up ups[MAX_UP];
static char big[BIG_BODY];

static ssize_t up_send(nghttp2_session *ng, const uint8_t *data, size_t len, int flags, void *u)
{
	struct up *up = u;
	ssize_t n = send(up->fd, data, len, MSG_NOSIGNAL);

	(void)ng;
	(void)flags;
	if (n == -1)
		return errno == EAGAIN ? NGHTTP2_ERR_WOULDBLOCK : NGHTTP2_ERR_CALLBACK_FAILURE;
	return n;
}

static int up_begin_headers(nghttp2_session *ng, const nghttp2_frame *f, void *u)
{
	struct up *up = u;
	struct up_stream *st;

	if (f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0;
	st = calloc(1, sizeof(*st));
	if (!st)
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	st->next = up->streams;
	up->streams = st;
	nghttp2_session_set_stream_user_data(ng, f->hd.stream_id, st);
	return 0;
}

static void field(char *to, const uint8_t *v, size_t n)
{
	/* boundary's own fields hold less (h2.c: 32 and 272 bytes) */
	check(n < FIELD_MAX, "the upstream gets a :method and :authority of boundary's size");
	snprintf(to, FIELD_MAX, "%.*s", (int)n, (const char *)v);
}

static int up_header(nghttp2_session *ng, const nghttp2_frame *f, const uint8_t *name,
		     size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags, void *u)
{
	struct up_stream *st = nghttp2_session_get_stream_user_data(ng, f->hd.stream_id);

	(void)flags;
	(void)u;
	if (!st || f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0;
	if (namelen == 7 && memcmp(name, ":method", 7) == 0)
		field(st->method, value, valuelen);
	else if (namelen == 10 && memcmp(name, ":authority", 10) == 0)
		field(st->authority, value, valuelen);
	else if (namelen == 5 && memcmp(name, ":path", 5) == 0) {
		free(st->path);
		st->path = strndup((const char *)value, valuelen);
		check(st->path != NULL, "fuzz harness: out of memory");
	} else if (namelen == 12 && memcmp(name, "content-type", 12) == 0 && valuelen >= 16 &&
		   strncasecmp((const char *)value, "application/grpc", 16) == 0)
		st->grpc = true;
	return 0;
}

/* The request reached the upstream: the rules must allow what arrived. */
static void judge(const struct up_stream *st)
{
	struct rules_request req;
	struct rules_decision d;
	size_t len;
	char *path;

	check(st->path != NULL, "the upstream gets a :path");
	len = strlen(st->path);
	path = strdup(st->path);
	check(path != NULL, "fuzz harness: out of memory");
	len = rules_path_normalize(path, len);
	check(len == strlen(st->path) && memcmp(path, st->path, len) == 0,
	      "the upstream gets the path normalised, as the rules judged it");
	rules_request_init(&req, st->method, st->authority, path, len, 0);
	rules_match(rules, &req, &d);
	free(path);
	if (!d.allow)
		fprintf(stderr, "refused request upstream: %s %s %s (%s)\n", st->method,
			st->authority, st->path, d.reason);
	check(d.allow, "only requests the rules allow reach the upstream");
}

static ssize_t up_read_body(nghttp2_session *ng, int32_t id, uint8_t *out, size_t len,
			    uint32_t *flags, nghttp2_data_source *src, void *u)
{
	struct up_stream *st = src->ptr;
	size_t m = st->len - st->off < len ? st->len - st->off : len;

	(void)u;
	memcpy(out, st->body + st->off, m);
	st->off += m;
	if (st->off == st->len) {
		*flags |= NGHTTP2_DATA_FLAG_EOF;
		if (st->trailers) {
			nghttp2_nv tr[] = {
			    {(uint8_t *)"grpc-status", (uint8_t *)"0", 11, 1, NGHTTP2_NV_FLAG_NONE},
			    {(uint8_t *)"grpc-message", (uint8_t *)"ok", 12, 2,
			     NGHTTP2_NV_FLAG_NONE},
			};

			if (nghttp2_submit_trailer(ng, id, tr, 2) == 0)
				*flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
		}
	}
	return (ssize_t)m;
}

#define UNV(n, v)                                                                                  \
	{                                                                                          \
		(uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, sizeof(v) - 1, 0                    \
	}

/* The answer the path asks for: a few shapes boundary must turn into HTTP/1.1 and back. */
static void up_answer(nghttp2_session *ng, int32_t id, struct up_stream *st)
{
	nghttp2_data_provider dp = {.source.ptr = st, .read_callback = up_read_body};
	nghttp2_nv ok[] = {UNV(":status", "200"), UNV("content-type", "text/plain")};
	nghttp2_nv grpc[] = {UNV(":status", "200"), UNV("content-type", "application/grpc")};
	nghttp2_nv cont[] = {UNV(":status", "100")};
	nghttp2_nv nobody[] = {UNV(":status", "204")};
	nghttp2_nv withlen[] = {UNV(":status", "200"), UNV("content-length", "6")};
	nghttp2_nv bad[] = {UNV(":status", "200"), UNV("content-length", "9")};

	st->answered = true;
	st->body = "hello\n";
	st->len = 6;
	if (strstr(st->path, "rst")) {
		nghttp2_submit_rst_stream(ng, NGHTTP2_FLAG_NONE, id, NGHTTP2_REFUSED_STREAM);
	} else if (strstr(st->path, "away")) {
		nghttp2_submit_goaway(ng, NGHTTP2_FLAG_NONE, id, NGHTTP2_NO_ERROR, NULL, 0);
	} else if (st->grpc || strstr(st->path, "grpc")) {
		static const char msg[] = {0, 0, 0, 0, 2, 8, 1};

		st->body = msg;
		st->len = sizeof(msg);
		st->trailers = true;
		nghttp2_submit_response(ng, id, grpc, 2, &dp);
	} else if (strstr(st->path, "204")) {
		nghttp2_submit_response(ng, id, nobody, 1, NULL);
	} else if (strstr(st->path, "big")) {
		st->body = big;
		st->len = sizeof(big);
		nghttp2_submit_response(ng, id, ok, 2, &dp);
	} else if (strstr(st->path, "short")) {
		/* a length it does not keep to */
		nghttp2_submit_response(ng, id, bad, 2, &dp);
	} else if (strstr(st->path, "len")) {
		nghttp2_submit_response(ng, id, withlen, 2, &dp);
	} else {
		if (strstr(st->path, "100"))
			nghttp2_submit_headers(ng, NGHTTP2_FLAG_NONE, id, NULL, cont, 1, NULL);
		nghttp2_submit_response(ng, id, ok, 2, &dp);
	}
}

static int up_frame_recv(nghttp2_session *ng, const nghttp2_frame *f, void *u)
{
	struct up_stream *st = nghttp2_session_get_stream_user_data(ng, f->hd.stream_id);

	(void)u;
	if (!st)
		return 0;
	if (f->hd.type == NGHTTP2_HEADERS && f->headers.cat == NGHTTP2_HCAT_REQUEST)
		judge(st);
	/* Answered once the request is whole, or at once for a path that says so. */
	if (!st->answered && st->path &&
	    ((f->hd.flags & NGHTTP2_FLAG_END_STREAM) || strstr(st->path, "early")))
		up_answer(ng, f->hd.stream_id, st);
	return 0;
}

static int up_stream_close(nghttp2_session *ng, int32_t id, uint32_t error, void *u)
{
	struct up_stream *st = nghttp2_session_get_stream_user_data(ng, id);

	(void)error;
	if (st)
		stream_free(u, st);
	nghttp2_session_set_stream_user_data(ng, id, NULL);
	return 0;
}

static nghttp2_session_callbacks *up_callbacks;

/*
 * Closed with a reset, not a FIN: no TIME_WAIT on either side, or a few thousand inputs a
 * second use up the loopback's ephemeral ports within a minute.
 */
static void close_now(int fd)
{
	struct linger l = {1, 0};

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	close(fd);
}

static void up_close(struct up *up)
{
	if (up->ng)
		nghttp2_session_del(up->ng);
	while (up->streams)
		stream_free(up, up->streams);
	if (up->fd >= 0)
		close_now(up->fd);
	up->ng = NULL;
	up->fd = -1;
}

/* One round of the upstream: accept, read, answer, send. Returns whether anything moved. */
static bool up_round(void)
{
	nghttp2_settings_entry set[] = {{NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 100}};
	bool moved = false;
	uint8_t b[16384];
	ssize_t n;
	int fd, i;

	while ((fd = accept4(up_listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		for (i = 0; i < MAX_UP && ups[i].fd >= 0; i++)
			;
		if (i == MAX_UP) {
			close_now(fd);
			continue;
		}
		ups[i].fd = fd;
		if (nghttp2_session_server_new(&ups[i].ng, up_callbacks, &ups[i]) != 0) {
			ups[i].ng = NULL;
			up_close(&ups[i]);
			continue;
		}
		nghttp2_submit_settings(ups[i].ng, NGHTTP2_FLAG_NONE, set, 1);
		moved = true;
	}
	for (i = 0; i < MAX_UP; i++) {
		struct up *up = &ups[i];

		if (up->fd < 0)
			continue;
		n = recv(up->fd, b, sizeof(b), 0);
		if (n > 0) {
			moved = true;
			if (nghttp2_session_mem_recv(up->ng, b, (size_t)n) < 0) {
				nghttp2_session_send(up->ng);
				up_close(up);
				continue;
			}
		} else if (n == 0 || errno != EAGAIN) {
			up_close(up);
			moved = true;
			continue;
		}
		if (nghttp2_session_want_write(up->ng)) {
			if (nghttp2_session_send(up->ng) != 0) {
				up_close(up);
				continue;
			}
			moved = true;
		}
		if (!nghttp2_session_want_read(up->ng) && !nghttp2_session_want_write(up->ng)) {
			up_close(up);
			moved = true;
		}
	}
	return moved;
}

/* --- boundary's output to the client ------------------------------------------------------ */

/*
 * The header block of a HEADERS frame (and its CONTINUATIONs): a response head begins with a
 * three-digit :status and has no other pseudo-field; trailers have none at all.
 */
static void check_block(nghttp2_hd_inflater *inf, const uint8_t *in, size_t len)
{
	nghttp2_nv nv;
	bool first = true;
	int flags;
	ssize_t r;

	for (;;) {
		flags = 0;
		r = nghttp2_hd_inflate_hd2(inf, &nv, &flags, in, len, 1);
		check(r >= 0, "boundary's header blocks decode");
		in += r;
		len -= (size_t)r;
		if ((flags & NGHTTP2_HD_INFLATE_EMIT) && nv.namelen > 0 && nv.name[0] == ':')
			check(first && nv.namelen == 7 && memcmp(nv.name, ":status", 7) == 0 &&
				  nv.valuelen == 3,
			      "the only pseudo-field is a three-digit :status, first");
		if (flags & NGHTTP2_HD_INFLATE_EMIT)
			first = false;
		if (flags & NGHTTP2_HD_INFLATE_FINAL) {
			nghttp2_hd_inflate_end_headers(inf);
			break;
		}
		if (r == 0 && len == 0)
			break;
	}
}

static void check_output(const uint8_t *o, size_t len)
{
	nghttp2_hd_inflater *inf;
	uint8_t *block = NULL;
	size_t off = 0, flen, blen = 0, pad, skip;
	uint32_t sid;
	uint8_t type, flags;
	bool in_block = false;

	if (len == 0)
		return;
	check(nghttp2_hd_inflate_new(&inf) == 0, "fuzz harness: out of memory");
	check(len >= 9 && o[3] == NGHTTP2_SETTINGS && !(o[4] & NGHTTP2_FLAG_ACK),
	      "boundary begins with its SETTINGS");
	while (off + 9 <= len) {
		flen = (size_t)o[off] << 16 | (size_t)o[off + 1] << 8 | o[off + 2];
		type = o[off + 3];
		flags = o[off + 4];
		sid = ((uint32_t)o[off + 5] << 24 | (uint32_t)o[off + 6] << 16 |
		       (uint32_t)o[off + 7] << 8 | o[off + 8]) &
		      0x7fffffffu;
		if (off + 9 + flen > len)
			break;
		check(type != NGHTTP2_PUSH_PROMISE, "boundary never pushes");
		if (type == NGHTTP2_HEADERS || type == NGHTTP2_DATA)
			check(sid % 2 == 1, "answers only on the client's streams");
		check(!in_block || type == NGHTTP2_CONTINUATION, "a header block is not cut");
		if (type == NGHTTP2_HEADERS || type == NGHTTP2_CONTINUATION) {
			const uint8_t *p = o + off + 9;
			size_t n = flen;

			if (type == NGHTTP2_HEADERS) {
				pad = (flags & NGHTTP2_FLAG_PADDED) ? 1u + p[0] : 0;
				skip = ((flags & NGHTTP2_FLAG_PADDED) ? 1 : 0) +
				       ((flags & NGHTTP2_FLAG_PRIORITY) ? 5 : 0);
				check(pad + skip - (pad ? 1 : 0) <= n, "HEADERS padding fits");
				p += skip;
				n -= skip + (pad ? pad - 1 : 0);
			}
			block = realloc(block, blen + n + 1);
			check(block != NULL, "fuzz harness: out of memory");
			memcpy(block + blen, p, n);
			blen += n;
			in_block = !(flags & NGHTTP2_FLAG_END_HEADERS);
			if (!in_block) {
				check_block(inf, block, blen);
				blen = 0;
			}
		}
		off += 9 + flen;
	}
	check(off == len, "boundary's output is whole frames");
	free(block);
	nghttp2_hd_inflate_del(inf);
}

/* --- the loop ----------------------------------------------------------------------------- */

/* One turn of the worker, as worker_main() runs it; returns the events it had. */
static int turn(int ms)
{
	struct epoll_event evs[64];
	int n;

	n = epoll_wait(worker->ep, evs, 64, ms);
	if (n == -1)
		n = 0;
	worker_dispatch(worker, evs, n);
	worker_reap(worker);
	return n;
}

static int listen_on_loopback(struct sockaddr_in *a, bool listening)
{
	socklen_t al = sizeof(*a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	check(fd >= 0, "fuzz harness: socket");
	memset(a, 0, sizeof(*a));
	a->sin_family = AF_INET;
	a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	check(bind(fd, (struct sockaddr *)a, sizeof(*a)) == 0, "fuzz harness: bind");
	check(!listening || listen(fd, 64) == 0, "fuzz harness: listen");
	check(getsockname(fd, (struct sockaddr *)a, &al) == 0, "fuzz harness: getsockname");
	return fd;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct proxy_config pc;
	struct sockaddr_in a;
	const char *lvl = getenv("H2_FUZZ_LOG");
	enum log_level level = LOG_ERROR;
	char err[256];
	size_t i;

	(void)argc;
	(void)argv;
	signal(SIGPIPE, SIG_IGN);
	if (lvl)
		log_level_parse(lvl, &level);
	log_set_level(level);
	memset(big, 'x', sizeof(big));
	for (i = 0; i < MAX_UP; i++)
		ups[i].fd = -1;

	rules = rules_new();
	check(rules != NULL, "fuzz harness: rules_new");
	for (i = 0; i < sizeof(rule_specs) / sizeof(rule_specs[0]); i++)
		check(rules_add(rules, rule_specs[i], NULL, err, sizeof(err)) == 0,
		      "fuzz harness: a rule");

	listen_fd = listen_on_loopback(&listen_addr, true);
	up_listen_fd = listen_on_loopback(&a, true);
	up_port = ntohs(a.sin_port);
	/* bound, never listening: a connect there is refused at once */
	closed_fd = listen_on_loopback(&a, false);
	closed_port = ntohs(a.sin_port);

	check(nghttp2_session_callbacks_new(&up_callbacks) == 0, "fuzz harness: nghttp2");
	nghttp2_session_callbacks_set_send_callback(up_callbacks, up_send);
	nghttp2_session_callbacks_set_on_begin_headers_callback(up_callbacks, up_begin_headers);
	nghttp2_session_callbacks_set_on_header_callback(up_callbacks, up_header);
	nghttp2_session_callbacks_set_on_frame_recv_callback(up_callbacks, up_frame_recv);
	nghttp2_session_callbacks_set_on_stream_close_callback(up_callbacks, up_stream_close);

	memset(&pc, 0, sizeof(pc));
	pc.rules = rules;
	pc.workers = 1;
	/* Long enough never to fire during an input: no answer depends on the clock. */
	pc.header_timeout_ms = pc.idle_timeout_ms = 60000;
	pc.connect_timeout_ms = pc.response_timeout_ms = 60000;
	proxy = proxy_new(&pc, err, sizeof(err));
	check(proxy != NULL, "fuzz harness: proxy_new");
	check(proxy_add_listener(proxy, listen_fd, PROXY_EXPLICIT) == 0,
	      "fuzz harness: proxy_add_listener");
	/* proxy_start() without its threads: one worker, whose loop turn() runs. */
	proxy->w = calloc(1, sizeof(*proxy->w));
	check(proxy->w != NULL, "fuzz harness: out of memory");
	worker = &proxy->w[0];
	worker->ep = worker->wake = -1;
	check(worker_init(proxy, worker) == 0, "fuzz harness: worker_init");
	proxy->n_w = 1;
	proxy->started = true;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[OUT_MAX];
	static const char preface[] = H2_PREFACE;
	size_t inlen = H2_PREFACE_LEN + size, sent = 0, got = 0;
	unsigned idle = 0, rounds;
	bool half = false, eof = false, moved;
	uint8_t *in, sink[16384];
	ssize_t n;
	int fd, i;

	in = malloc(inlen);
	check(in != NULL, "fuzz harness: out of memory");
	memcpy(in, preface, H2_PREFACE_LEN);
	if (size)
		memcpy(in + H2_PREFACE_LEN, data, size);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	check(fd >= 0, "fuzz harness: socket");
	/* TIME_WAITs of earlier inputs may hold every port for a moment: wait, then say why. */
	for (i = 0; connect(fd, (struct sockaddr *)&listen_addr, sizeof(listen_addr)) == -1; i++) {
		if (i == 100)
			fprintf(stderr, "connect: %s\n", strerror(errno));
		check(i < 100, "fuzz harness: connect");
		usleep(10000);
	}
	check(fcntl(fd, F_SETFL, O_NONBLOCK) == 0, "fuzz harness: fcntl");

	/*
	 * Until nothing moves: then the client half-closes (boundary ends the session), and the
	 * loop goes on until nothing moves again. Bounded, so a livelock is a timeout, not a hang.
	 */
	for (rounds = 0; rounds < MAX_ROUNDS; rounds++) {
		moved = false;
		if (sent < inlen) {
			n = send(fd, in + sent, inlen - sent, MSG_NOSIGNAL);
			if (n > 0) {
				sent += (size_t)n;
				moved = true;
			} else if (n == -1 && errno != EAGAIN) {
				sent = inlen; /* boundary closed: the rest is not read */
			}
		}
		while (!eof) {
			n = recv(fd, got < OUT_MAX ? out + got : sink,
				 got < OUT_MAX ? OUT_MAX - got : sizeof(sink), 0);
			if (n > 0) {
				if (got < OUT_MAX)
					got += (size_t)n;
				moved = true;
			} else if (n == 0 || errno != EAGAIN) {
				eof = true;
				moved = true;
			} else {
				break;
			}
		}
		if (up_round())
			moved = true;
		if (turn(0) > 0)
			moved = true;
		if (moved) {
			idle = 0;
			continue;
		}
		if (++idle < IDLE_ROUNDS)
			continue;
		if (!half && sent == inlen && !eof) {
			shutdown(fd, SHUT_WR);
			half = true;
			idle = 0;
			continue;
		}
		if (eof)
			break;
		/* boundary holds the connection open with nothing to do: wait a little */
		if (half && turn(1) == 0 && idle > 50)
			break;
	}

	/* What is left (streams waiting on an upstream, pooled sessions) goes before the next. */
	while (worker->conns)
		conn_close(worker->conns, "fuzz input done");
	worker_reap(worker);
	upstream_pool_sweep(worker, true);
	memset(worker->h2only, 0, sizeof(worker->h2only));
	for (i = 0; i < MAX_UP; i++)
		up_close(&ups[i]);
	/* a lookup answered after its connection went: freed unread */
	worker_drain_done(worker);
	close_now(fd);
	free(in);

	if (got < OUT_MAX && eof)
		check_output(out, got);
	return 0;
}
