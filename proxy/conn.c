// SPDX-License-Identifier: MIT
/*
 * conn.c: one proxied connection, from accept() to close, as a state machine.
 *
 *   SNIFF ─ TLS? ─ TLS_ACCEPT ─┐
 *     └─ plain ────────────────┴─ HEAD ─ refused ─ 403 (─ DISCARD the body) ─ HEAD ...
 *                                   └─ allowed ─ RESOLVE ─ CONNECT (─ UP_TLS) ─ EXCHANGE ─ HEAD ...
 *                                        (or straight to EXCHANGE on a kept upstream)
 *                                                                     └─ 101 ─ TUNNEL
 *     └─ a stream rule (neither TLS nor HTTP, TLS no HTTP rule reads, or a silent client):
 *        RESOLVE ─ CONNECT ─ SPLICE
 *
 * Every request is decided on its own: its method, its Host and port (the SNI and the address
 * the client dialled never decide anything) and its normalised path, which is also the path the
 * upstream receives. Only a connection no HTTP rule would read is judged as a whole, on the name
 * its address stands for (or its SNI) and its port, by stream rules. Heads are rewritten (hop-by-hop fields dropped); bodies stream through
 * bounded buffers byte for byte, so a slow reader slows the writer instead of filling memory.
 * conn_run() takes every step it can for each event, then says what it waits for.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "proxy/audit.h"
#include "proxy/dns.h"
#include "proxy/internal.h"
#include "proxy/log.h"
#include "proxy/ruleset.h"
#include "proxy/sniff.h"
#include "proxy/tls.h"
#include "proxy/util.h"
#include "rules/rules.h"

static void conn_run(struct conn *c);
static void sniff_begin(struct conn *c);
static void wait_next_request(struct conn *c);
static void close_alt(struct conn *c);
static void host_name_only(const char *host, char *out, size_t len);
static bool up_host_own(int fd);
static void head_start_done(struct conn *h, int code, const char *why);
#define host_name_only_pub host_name_only

/*
 * The rules this connection decides with: the set it took when its current decision began.
 * It moves to its worker's current set (after a reload) only where a new decision begins, at
 * sniff_begin() and at each request head, so a decision and what hangs off it (the stream rule
 * kept for a silent client, a response still streaming) all belong to one set.
 */
/* A connection record with its client side on fd (-1 for none), not yet in the worker's list. */
static struct conn *conn_alloc(struct worker *w, int fd, enum proxy_listener_kind kind)
{
	struct conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->w = w;
	c->kind = kind;
	xport_init(&c->cx);
	xport_init(&c->ux);
	c->cx.fd = fd;
	c->ev_c = c->ev_u = c->ev_a = WATCH_NONE;
	c->evc.kind = EV_CLIENT;
	c->evc.ptr = c;
	c->evu.kind = EV_UPSTREAM;
	c->evu.ptr = c;
	c->eva.kind = EV_UPSTREAM_ALT;
	c->eva.ptr = c;
	c->alt_fd = -1;
	c->state = CONN_SNIFF; /* its first state; every later one through conn_set_state() */
	buf_init(&c->cin, CONN_BUF);
	buf_init(&c->cout, CONN_OUT_BUF);
	buf_init(&c->uin, CONN_BUF);
	buf_init(&c->uout, CONN_OUT_BUF);
	return c;
}

static const struct rules *conn_rules(const struct conn *c)
{
	return ruleset_rules(c->rs);
}

static void conn_rules_renew(struct conn *c)
{
	if (c->rs == c->w->rs)
		return;
	ruleset_unref(c->rs);
	c->rs = ruleset_ref(c->w->rs);
}

static const char *state_name(enum conn_state s)
{
	static const char *const names[] = {
	    [CONN_SNIFF] = "sniff",
	    [CONN_TLS_ACCEPT] = "tls-accept",
	    [CONN_HEAD] = "head",
	    [CONN_DISCARD] = "discard",
	    [CONN_DECIDE] = "decide",
	    [CONN_RESOLVE] = "resolve",
	    [CONN_WAIT_UP] = "wait-upstream",
	    [CONN_CONNECT] = "connect",
	    [CONN_UP_TLS] = "upstream-tls",
	    [CONN_EXCHANGE] = "exchange",
	    [CONN_TUNNEL] = "tunnel",
	    [CONN_SPLICE] = "splice",
	    [CONN_FLUSH_CLOSE] = "closing",
	    [CONN_DEAD] = "dead",
	};

	return names[s];
}

/* The one way a connection's state changes, so each change is in the debug log. */
static void conn_set_state(struct conn *c, enum conn_state s)
{
	if (log_enabled(LOG_DEBUG))
		log_debug("%s: %s -> %s", c->who, state_name(c->state), state_name(s));
	c->state = s;
}

/* Puts c, fresh from conn_alloc(), at the head of its worker's list of live connections. */
static void conn_link(struct conn *c)
{
	struct worker *w = c->w;

	c->prev = NULL;
	c->next = w->conns;
	if (w->conns)
		w->conns->prev = c;
	w->conns = c;
}

static void set_deadline(struct conn *c, unsigned ms)
{
	c->deadline = util_now_ms() + ms;
}

/* --- the audit stream ---------------------------------------------------------------------- */

static void audit(struct conn *c, const char *event, const char *decision, const char *rule,
		  const char *reason, int status)
{
	struct audit_record r;
	char name[264];
	uint16_t port = 0;
	const char *colon;

	if (!c->w->p->cfg.audit)
		return;
	memset(&r, 0, sizeof(r));
	host_name_only_pub(c->host, name, sizeof(name));
	colon = c->host[0] == '[' ? strstr(c->host, "]:") : strrchr(c->host, ':');
	if (colon)
		port = (uint16_t)strtoul(colon + (c->host[0] == '[' ? 2 : 1), NULL, 10);
	r.event = event;
	r.decision = decision;
	r.kind = c->stream_kind			     ? c->stream_kind
		 : strcmp(c->method, "CONNECT") == 0 ? "connect"
		 : c->client_tls		     ? "https"
						     : "http";
	r.method = c->method[0] ? c->method : NULL;
	r.url = c->url[0] ? c->url : NULL;
	r.host = name[0] ? name : NULL;
	r.port = port ? port : (c->client_tls ? 443 : 80);
	r.rule = rule;
	r.reason = reason;
	r.status = status;
	r.pid = c->have_orig ? c->orig.pid : 0;
	r.comm = c->have_orig ? c->orig.comm : NULL;
	r.client = c->client[0] ? c->client : NULL;
	r.bytes_up = c->bytes_up;
	r.bytes_down = c->bytes_down;
	r.duration_ms = strcmp(event, "end") == 0 ? (int64_t)(util_now_ms() - c->t_start) : -1;
	r.would_deny = c->would_deny;
	r.decided_by = c->decided_by;
	audit_write(c->w->p->cfg.audit, &r);
}

/* The record that closes an allowed exchange, once. */
static void audit_end(struct conn *c, int status)
{
	if (!c->audit_open)
		return;
	c->audit_open = false;
	audit(c, "end", "allow", NULL, NULL, status);
}

/* --- responses boundary writes itself ------------------------------------------------------ */

static void respond(struct conn *c, int code, const char *reason, const char *body, bool close)
{
	char head[512];
	int n;

	if (close)
		c->client_close = true;
	n = snprintf(head, sizeof(head),
		     "HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\n"
		     "Content-Length: %zu\r\nCache-Control: no-store\r\n%s\r\n",
		     code, reason, strlen(body), c->client_close ? "Connection: close\r\n" : "");
	/* A response to HEAD says how long its body would be, and sends none. */
	if (strcmp(c->method, "HEAD") == 0)
		body = "";
	if (buf_append(&c->cout, head, (size_t)n) < 0 ||
	    buf_append(&c->cout, body, strlen(body)) < 0) {
		conn_close(c, "no room for a response");
		return;
	}
	if (c->client_close)
		conn_set_state(c, CONN_FLUSH_CLOSE);
}

/* 502 or 504 for a request that was allowed but could not be served. */
static void upstream_failed(struct conn *c, int code, const char *why)
{
	char body[2048];

	if (c->is_head_start) {
		head_start_done(c, code, why);
		return;
	}
	if (c->stream) {
		/* Nothing to answer in a protocol we do not speak: the client sees the close. */
		log_warn("%s from %s: %s", c->url, c->who, why);
		conn_close(c, why);
		return;
	}
	log_warn("%s %s from %s: %d: %s", c->method, c->url, c->who, code, why);
	if (!c->resp_head_done && c->audit_open) {
		c->audit_open = false;
		audit(c, "end", "allow", NULL, why, code);
	}
	snprintf(body, sizeof(body),
		 "boundary could not complete this request: %s\n\n  Request: %s %s\n", why,
		 c->method, c->url);
	if (c->resp_head_done) {
		/* The response has begun: nothing can be said any more but closing. */
		conn_close(c, why);
		return;
	}
	xport_close(&c->ux);
	close_alt(c);
	c->ev_u = WATCH_NONE;
	c->up_key[0] = '\0';
	respond(c, code,
		code == 504   ? "Gateway Timeout"
		: code == 403 ? "Forbidden"
		: code == 508 ? "Loop Detected"
			      : "Bad Gateway",
		body, true);
}

static void bad_request(struct conn *c, const char *why)
{
	char body[512];

	log_warn("refused a malformed request from %s: %s", c->who, why);
	snprintf(body, sizeof(body), "boundary refused a malformed request: %s\n", why);
	respond(c, 400, "Bad Request", body, true);
}

/*
 * 408 for a client too slow to finish what it started (a request head, a request body), then
 * close: the upstream, if it was sent part of the request, cannot be reused.
 */
static void request_timeout(struct conn *c, const char *why)
{
	char body[512];

	if (c->url[0])
		log_warn("%s %s from %s: 408: %s", c->method, c->url, c->who, why);
	else
		log_warn("%s (to %s): 408: %s", c->who, c->orig_str, why);
	if (c->audit_open) {
		c->audit_open = false;
		audit(c, "end", "allow", NULL, why, 408);
	}
	xport_close(&c->ux);
	close_alt(c);
	c->ev_u = WATCH_NONE;
	c->up_key[0] = '\0';
	snprintf(body, sizeof(body), "boundary gave up waiting for the client: %s\n", why);
	respond(c, 408, "Request Timeout", body, true);
}

/* A host without its port, for rules a person would write. */
static void host_name_only(const char *host, char *out, size_t len)
{
	const char *colon;
	size_t n;

	if (host[0] == '[') {
		colon = strchr(host, ']');
		n = colon ? (size_t)(colon - host) + 1 : strlen(host);
	} else {
		colon = strrchr(host, ':');
		n = colon ? (size_t)(colon - host) : strlen(host);
	}
	if (n >= len)
		n = len - 1;
	memcpy(out, host, n);
	out[n] = '\0';
}

/* True if spec is a rule boundary would accept: only those are suggested to a person. */
static bool valid_rule(const char *spec)
{
	return rules_check(spec, NULL, 0) == 0;
}

static void refuse(struct conn *c, const char *reason)
{
	char body[4096], name[264], path[512], rule1[400], rule2[1024], how[1600];
	size_t plen;

	host_name_only(c->host, name, sizeof(name));
	plen = strcspn(c->path ? c->path : "/", "?#");
	if (plen >= sizeof(path))
		plen = sizeof(path) - 1;
	memcpy(path, c->path ? c->path : "/", plen);
	path[plen] = '\0';
	log_warn("DENY %s %s from %s: %s", c->method, c->url, c->who, reason);
	audit(c, "request", "deny", NULL, reason, 403);

	snprintf(rule1, sizeof(rule1), "domain=%s", name);
	snprintf(rule2, sizeof(rule2), "method=%s domain=%s path=%s", c->method, name, path);
	if (!name[0] || !valid_rule(rule1)) {
		snprintf(how, sizeof(how),
			 "boundary judges a request by the host it names: send a Host header (or "
			 "a TLS server name).\n");
	} else if (strcmp(c->method, "CONNECT") == 0 || !valid_rule(rule2)) {
		/* A tunnel is allowed by its host; each request inside is judged on its own. */
		snprintf(how, sizeof(how),
			 "To allow this request, restart boundary with:\n"
			 "  --allow \"%s\"\n",
			 rule1);
	} else {
		snprintf(how, sizeof(how),
			 "To allow this request, restart boundary with:\n"
			 "  --allow \"%s\"   # every request to this host\n"
			 "  --allow \"%s\"   # only this method and path\n",
			 rule1, rule2);
	}
	snprintf(body, sizeof(body),
		 "\xf0\x9f\x9a\xab Request Blocked by Boundary\n\n"
		 "Request: %s %s\n"
		 "Host: %s\n"
		 "Process: %s\n"
		 "Why: %s\n\n"
		 "%s",
		 c->method, c->url, c->host[0] ? c->host : "(none)", c->who, reason, how);
	respond(c, 403, "Forbidden", body, c->client_close);
}

/* --- moving bytes -------------------------------------------------------------------------- */

/* Reads what fits from x into b. Returns > 0, 0 on EOF, -EAGAIN, or -errno. */
static ssize_t fill(struct xport *x, struct buf *b)
{
	size_t room;
	char *p = buf_reserve(b, &room);
	ssize_t r;

	if (!p)
		return -ENOBUFS;
	r = xport_read(x, p, room);
	if (r > 0)
		buf_commit(b, (size_t)r);
	return r;
}

/* Writes what it can of b to x. Returns > 0, -EAGAIN, or -errno. */
static ssize_t flush(struct xport *x, struct buf *b)
{
	ssize_t r;

	if (b->len == 0)
		return -EAGAIN;
	r = xport_write(x, buf_head(b), b->len);
	if (r > 0)
		buf_consume(b, (size_t)r);
	return r;
}

/*
 * Moves body bytes from src to dst (NULL: drops them) as the framing allows. Returns how many
 * moved, or -1 on a framing error. Sets *done when the body is complete.
 */
static ssize_t move_body(struct buf *src, struct buf *dst, enum http1_body kind, uint64_t *left,
			 struct http1_chunked *ch, bool *done)
{
	size_t n = src->len, room = dst ? buf_room(dst) : SIZE_MAX, pos;
	ssize_t r;

	if (kind == HTTP1_BODY_NONE) {
		*done = true;
		return 0;
	}
	if (n > room)
		n = room;
	if (kind == HTTP1_BODY_LENGTH && n > *left)
		n = (size_t)*left;
	if (kind == HTTP1_BODY_CHUNKED && n > 0) {
		r = http1_chunked_scan(ch, buf_head(src), n, &pos);
		if (r < 0)
			return -1;
		n = (size_t)r;
		if (ch->done)
			*done = true;
	}
	if (n > 0 && dst && buf_append(dst, buf_head(src), n) < 0)
		return -1;
	buf_consume(src, n);
	if (kind == HTTP1_BODY_LENGTH) {
		*left -= n;
		if (*left == 0)
			*done = true;
	}
	return (ssize_t)n;
}

/* --- heads --------------------------------------------------------------------------------- */

static bool in_connection_list(const struct http1_header *hdr, size_t n, struct slice name)
{
	struct slice v;
	size_t i, start, end;

	for (i = 0; i < n; i++) {
		if (!slice_ieq(hdr[i].name, "connection"))
			continue;
		v = hdr[i].value;
		for (start = 0; start < v.len; start = end + 1) {
			end = start;
			while (end < v.len && v.p[end] != ',')
				end++;
			while (start < end && (v.p[start] == ' ' || v.p[start] == '\t'))
				start++;
			while (end > start && (v.p[end - 1] == ' ' || v.p[end - 1] == '\t'))
				end--;
			if (end - start == name.len &&
			    strncasecmp(v.p + start, name.p, name.len) == 0)
				return true;
			while (end < v.len && v.p[end] != ',')
				end++;
		}
	}
	return false;
}

/* Hop-by-hop fields (RFC 9110 section 7.6.1), never forwarded as they are. */
static bool hop_by_hop(const struct http1_header *hdr, size_t n, struct slice name)
{
	static const char *const hop[] = {
	    "connection", "keep-alive",		 "proxy-connection",  "te",
	    "upgrade",	  "proxy-authorization", "proxy-authenticate"};
	size_t i;

	for (i = 0; i < sizeof(hop) / sizeof(hop[0]); i++)
		if (slice_ieq(name, hop[i]))
			return true;
	return in_connection_list(hdr, n, name);
}

static int put(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int put(struct buf *b, const char *fmt, ...)
{
	char tmp[CONN_MAX_HEAD];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return -E2BIG;
	return buf_append(b, tmp, (size_t)n);
}

static int put_header(struct buf *b, const struct http1_header *h)
{
	if (buf_append(b, h->name.p, h->name.len) < 0 || buf_append(b, ": ", 2) < 0 ||
	    buf_append(b, h->value.p, h->value.len) < 0 || buf_append(b, "\r\n", 2) < 0)
		return -E2BIG;
	return 0;
}

/* The request as the upstream sees it: origin-form, the judged Host, no hop-by-hop fields. */
static int write_request_head(struct conn *c)
{
	const struct http1_req *r = &c->req;
	struct slice upg = {NULL, 0};
	bool has_host = false;
	size_t i;

	if (put(&c->uout, "%s %.*s HTTP/1.1\r\n", c->method, (int)c->path_len, c->path) < 0)
		return -E2BIG;
	for (i = 0; i < r->n_hdr; i++) {
		if (slice_ieq(r->hdr[i].name, "upgrade"))
			upg = r->hdr[i].value;
		if (hop_by_hop(r->hdr, r->n_hdr, r->hdr[i].name))
			continue;
		if (slice_ieq(r->hdr[i].name, "host"))
			has_host = true;
		if (put_header(&c->uout, &r->hdr[i]) < 0)
			return -E2BIG;
	}
	if (!has_host && put(&c->uout, "Host: %s\r\n", c->host) < 0)
		return -E2BIG;
	if (c->upgrade &&
	    put(&c->uout, "Connection: upgrade\r\nUpgrade: %.*s\r\n", (int)upg.len, upg.p) < 0)
		return -E2BIG;
	return buf_append(&c->uout, "\r\n", 2);
}

static int write_response_head(struct conn *c, const struct http1_resp *r)
{
	struct slice upg = {NULL, 0};
	size_t i;

	if (put(&c->cout, "HTTP/1.1 %d %.*s\r\n", r->status, (int)r->reason.len, r->reason.p) < 0)
		return -E2BIG;
	for (i = 0; i < r->n_hdr; i++) {
		if (slice_ieq(r->hdr[i].name, "upgrade"))
			upg = r->hdr[i].value;
		if (hop_by_hop(r->hdr, r->n_hdr, r->hdr[i].name))
			continue;
		if (put_header(&c->cout, &r->hdr[i]) < 0)
			return -E2BIG;
	}
	if (r->status == 101) {
		if (put(&c->cout, "Connection: upgrade\r\nUpgrade: %.*s\r\n", (int)upg.len, upg.p) <
		    0)
			return -E2BIG;
	} else if (c->client_close) {
		if (put(&c->cout, "Connection: close\r\n") < 0)
			return -E2BIG;
	} else if (c->req.minor == 0) {
		if (put(&c->cout, "Connection: keep-alive\r\n") < 0)
			return -E2BIG;
	}
	return buf_append(&c->cout, "\r\n", 2);
}

/* --- deciding a request -------------------------------------------------------------------- */

static int split_host(const char *host, char *name, size_t len, uint16_t *port)
{
	const char *end, *colon = NULL;
	unsigned long p;
	size_t n;
	char *e;

	if (host[0] == '[') {
		end = strchr(host, ']');
		if (!end)
			return -EINVAL;
		n = (size_t)(end - host - 1);
		if (n >= len)
			return -EINVAL;
		memcpy(name, host + 1, n);
		name[n] = '\0';
		if (end[1] == ':')
			colon = end + 1;
		else if (end[1] != '\0')
			return -EINVAL;
	} else {
		colon = strrchr(host, ':');
		n = colon ? (size_t)(colon - host) : strlen(host);
		if (n >= len || n == 0)
			return -EINVAL;
		memcpy(name, host, n);
		name[n] = '\0';
		/* One trailing dot is the same name. */
		if (n > 1 && name[n - 1] == '.')
			name[n - 1] = '\0';
	}
	if (colon) {
		errno = 0;
		p = strtoul(colon + 1, &e, 10);
		if (errno || *e || e == colon + 1 || p == 0 || p > 65535)
			return -EINVAL;
		*port = (uint16_t)p;
	}
	return 0;
}

static void reset_request(struct conn *c)
{
	free(c->path);
	c->path = NULL;
	c->path_len = 0;
	c->req_done = c->resp_done = c->resp_head_done = c->up_eof = false;
	c->upgrade = false;
	c->would_deny = false;
	c->decided_by = NULL;
	c->req_left = c->resp_left = 0;
	c->idle_end = 0;
	http1_chunked_init(&c->req_chunk);
	http1_chunked_init(&c->resp_chunk);
}

/* --- the pool of idle upstream connections ------------------------------------------------ */

/* Parks c's upstream connection in the worker's pool, or closes it if the pool is full. */
static void pool_put(struct conn *c)
{
	struct worker *w = c->w;
	struct idle_up *u;

	if (c->ux.fd < 0)
		return;
	/* Bytes already read past the response (read-ahead) would start the next one: not kept. */
	if (w->pool_n >= POOL_MAX || !c->up_key[0] || (c->ux.ssl && SSL_has_pending(c->ux.ssl)) ||
	    !(u = calloc(1, sizeof(*u)))) {
		xport_close(&c->ux);
	} else {
		/* Out of the loop: an idle connection is checked when taken, not watched. */
		if (c->ev_u != WATCH_NONE)
			epoll_ctl(w->ep, EPOLL_CTL_DEL, c->ux.fd, NULL);
		snprintf(u->key, sizeof(u->key), "%s", c->up_key);
		u->host_own = up_host_own(c->ux.fd);
		if (c->ux.ssl)
			SSL_free_buffers(
			    c->ux.ssl); /* parked: its record buffers come back on use */
		u->x = c->ux;
		u->since = util_now_ms();
		u->next = w->pool;
		w->pool = u;
		w->pool_n++;
		xport_init(&c->ux);
	}
	c->ev_u = WATCH_NONE;
	c->up_key[0] = '\0';
}

/*
 * An upstream that spoke or closed while idle is not reused. TLS 1.3 servers send session
 * tickets after the handshake, which a connection parked straight after it (a head start) has
 * not read yet: those are read, and nothing else may have come.
 */
static bool idle_usable(struct xport *x)
{
	char b;
	int r;

	if (recv(x->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) == -1 && errno == EAGAIN)
		return !(x->ssl && SSL_has_pending(x->ssl));
	if (!x->ssl)
		return false;
	ERR_clear_error();
	r = SSL_peek(x->ssl, &b, 1);
	if (r > 0 || SSL_get_error(x->ssl, r) != SSL_ERROR_WANT_READ)
		return false;
	return recv(x->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) == -1 && errno == EAGAIN &&
	       !SSL_has_pending(x->ssl);
}

/* An idle connection to key that is still open, moved into c; false if there is none. */
static bool pool_take(struct conn *c, const char *key)
{
	struct worker *w = c->w;
	struct idle_up **pp, *u;

	for (pp = &w->pool; (u = *pp);) {
		/* Opened for a rule that names the host: not for one that names none. */
		if (strcmp(u->key, key) != 0 || (u->host_own && c->any_host)) {
			pp = &u->next;
			continue;
		}
		*pp = u->next;
		w->pool_n--;
		if (idle_usable(&u->x)) {
			c->ux = u->x;
			c->ev_u = WATCH_NONE;
			snprintf(c->up_key, sizeof(c->up_key), "%s", key);
			free(u);
			return true;
		}
		xport_close(&u->x);
		free(u);
	}
	return false;
}

void pool_sweep(struct worker *w, bool all)
{
	uint64_t now = util_now_ms();
	struct idle_up **pp, *u;

	for (pp = &w->pool; (u = *pp);) {
		if (!all && now - u->since < POOL_IDLE_MS) {
			pp = &u->next;
			continue;
		}
		*pp = u->next;
		w->pool_n--;
		xport_close(&u->x);
		free(u);
	}
}

static void start_upstream(struct conn *c)
{
	char key[sizeof(c->up_key)];

	snprintf(key, sizeof(key), "%s://%s:%u", c->up_tls ? "https" : "http", c->uhost, c->uport);
	if (c->ux.fd >= 0 && strcmp(key, c->up_key) == 0) {
		conn_set_state(c, CONN_EXCHANGE);
		set_deadline(c, c->w->p->cfg.response_timeout_ms);
		return;
	}
	pool_put(c);
	if (pool_take(c, key)) {
		log_debug("%s: reusing an idle connection to %s", c->who, key);
		conn_set_state(c, CONN_EXCHANGE);
		set_deadline(c, c->w->p->cfg.response_timeout_ms);
		return;
	}
	if (c->head && strcmp(c->head->up_key, key) == 0) {
		log_debug("%s: waiting for the head start to %s", c->who, key);
		conn_set_state(c, CONN_WAIT_UP);
		set_deadline(c, c->w->p->cfg.connect_timeout_ms);
		return;
	}
	snprintf(c->up_key, sizeof(c->up_key), "%s", key);
	if (proxy_resolve(c, c->uhost, c->uport) < 0) {
		upstream_failed(c, 502, "out of memory");
		return;
	}
	conn_set_state(c, CONN_RESOLVE);
	set_deadline(c, c->w->p->cfg.connect_timeout_ms);
}

/* --- head starts ------------------------------------------------------------------------------ */

/*
 * An intercepted client whose TLS server name (else its dialled name) some rule allows by name,
 * whatever the method and path, gets its upstream connection opened at once, while its own TLS
 * handshake and request are still on their way: the two handshakes overlap instead of following
 * each other. The request is decided as always; the head start carries nothing but the TLS
 * handshake (the name in its SNI), and if the request is refused or goes elsewhere, the
 * connection waits in the pool. No head start for a name only a wildcard rule allows, or none:
 * those are contacted only for an allowed request.
 */
static void head_start(struct conn *c, const char *name)
{
	struct worker *w = c->w;
	struct rules_decision ds;
	struct idle_up *u;
	struct conn *h;
	char key[sizeof(c->up_key)];

	if (c->kind != PROXY_JAIL || c->in_connect || !name[0] || name[0] == '[' || c->head ||
	    !c->dport)
		return;
	rules_match_host(conn_rules(c), name, strlen(name), c->dport, RULES_REQUESTS, &ds);
	if (!ds.allow || !rules_names_host(conn_rules(c), ds.rule))
		return;
	snprintf(key, sizeof(key), "https://%s:%u", name, c->dport);
	for (u = w->pool; u; u = u->next)
		if (strcmp(u->key, key) == 0)
			return; /* one is waiting already */
	h = conn_alloc(w, -1, c->kind);
	if (!h)
		return;
	h->is_head_start = true;
	h->up_tls = true;
	snprintf(h->uhost, sizeof(h->uhost), "%s", name);
	h->uport = c->dport;
	snprintf(h->up_key, sizeof(h->up_key), "%s", key);
	snprintf(h->who, sizeof(h->who), "%.40s's head start", c->who);
	conn_link(h);
	conn_set_state(h, CONN_RESOLVE);
	h->owner = c;
	c->head = h;
	if (proxy_resolve(h, h->uhost, h->uport) < 0) {
		conn_close(h, "out of memory");
		return;
	}
	set_deadline(h, w->p->cfg.connect_timeout_ms);
	log_debug("%s: opening %s ahead of the request", c->who, key);
}

/* The head start h is connected (code 0) or failed (code and why as for upstream_failed()). */
static void head_start_done(struct conn *h, int code, const char *why)
{
	struct conn *c = h->owner;

	if (c) {
		c->head = NULL;
		h->owner = NULL;
		if (c->state != CONN_WAIT_UP)
			c = NULL;
	}
	if (code == 0 && c && !(c->any_host && up_host_own(h->ux.fd))) {
		/* Its client is waiting for it: handed over, out of the epoll set as h's. */
		if (h->ev_u != WATCH_NONE)
			epoll_ctl(h->w->ep, EPOLL_CTL_DEL, h->ux.fd, NULL);
		c->ux = h->ux;
		xport_init(&h->ux);
		c->ev_u = WATCH_NONE;
		snprintf(c->up_key, sizeof(c->up_key), "%s", h->up_key);
		conn_close(h, "handed to its client");
		conn_set_state(c, CONN_EXCHANGE);
		set_deadline(c, c->w->p->cfg.response_timeout_ms);
		conn_run(c);
		return;
	}
	if (code == 0)
		pool_put(h); /* for its client later, or any other */
	else
		log_debug("%s: %s", h->who, why);
	conn_close(h, code ? why : "parked");
	if (!c)
		return;
	if (code)
		upstream_failed(c, code, why);
	else
		start_upstream(c);
	conn_run(c);
}

/* --- a second opinion on what the rules refuse ---------------------------------------------- */

enum opinion { OPINION_DENY, OPINION_ALLOW, OPINION_WAIT };

/* The question about the request in c, for the rules program or the person. */
static bool fill_question(struct conn *c, struct policy_job *q, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	size_t i, n;

	snprintf(q->method, sizeof(q->method), "%s", c->method);
	snprintf(q->scheme, sizeof(q->scheme), "%s", c->up_tls ? "https" : "http");
	if (strchr(c->uhost, ':'))
		snprintf(q->host, sizeof(q->host), "[%s]", c->uhost);
	else
		snprintf(q->host, sizeof(q->host), "%s", c->uhost);
	for (i = 0; q->host[i]; i++) {
		if (q->host[i] >= 'A' && q->host[i] <= 'Z')
			q->host[i] = (char)(q->host[i] + 32);
	}
	n = i;
	if (n > 1 && q->host[n - 1] == '.')
		q->host[n - 1] = '\0';
	q->port = port;
	n = strcspn(c->path ? c->path : "/", "?#");
	/* Whatever does not fit is not asked about: a cut path could hide what decides. */
	if (n >= sizeof(q->path) || strlen(c->url) >= sizeof(q->url) ||
	    strlen(c->uhost) + 2 >= sizeof(q->host))
		return false;
	snprintf(q->path, sizeof(q->path), "%.*s", (int)n, c->path ? c->path : "/");
	snprintf(q->url, sizeof(q->url), "%s", c->url);
	q->pid = c->have_orig ? c->orig.pid : 0;
	snprintf(q->comm, sizeof(q->comm), "%s", c->have_orig ? c->orig.comm : "");
	q->requester_ip[0] = '\0';
	if (getpeername(c->cx.fd, (struct sockaddr *)&ss, &sl) == 0)
		util_addr_str((const struct sockaddr *)&ss, false, q->requester_ip,
			      sizeof(q->requester_ip));
	return true;
}

/*
 * The hook for requests the rules refuse. The request's head (len bytes) is still at the front
 * of cin. --dry-run lets it through, marked would_deny. With a policy service (a rules program,
 * or the person at the terminal), the question goes out and the connection waits in CONN_DECIDE,
 * reading nothing more, until conn_decided() brings the verdict back: it then parses the same
 * head again and returns here, where the verdict is used. Returns OPINION_ALLOW with *rule set,
 * OPINION_DENY with *why set (the rules' reason or the answer's), or OPINION_WAIT (parked).
 */
static enum opinion second_opinion(struct conn *c, uint16_t port, const char *reason,
				   const char **rule, const char **why)
{
	const struct proxy *p = c->w->p;
	struct decide_job *j;
	bool allow;

	*rule = NULL;
	*why = reason;
	if (c->verdict != VERDICT_NONE) {
		allow = c->verdict == VERDICT_ALLOW;
		c->verdict = VERDICT_NONE;
		c->decided_by = c->verdict_by;
		if (allow)
			*rule = c->verdict_text;
		else
			*why = c->verdict_text;
		return allow ? OPINION_ALLOW : OPINION_DENY;
	}
	if (p->cfg.dry_run) {
		c->would_deny = true;
		return OPINION_ALLOW;
	}
	if (!p->cfg.policy)
		return OPINION_DENY;
	j = calloc(1, sizeof(*j));
	if (!j)
		return OPINION_DENY; /* failing on the decision path denies */
	if (!fill_question(c, &j->pj, port)) {
		free(j);
		*why = "the request is too long to ask about";
		return OPINION_DENY;
	}
	if (proxy_decide(c, j) < 0) {
		free(j);
		return OPINION_DENY;
	}
	log_info("%s %s from %s: the rules refuse it (%s); asking the %s", c->method, c->url,
		 c->who, reason,
		 policy_asks_person(p->cfg.policy) ? "person at the terminal" : "rules program");
	conn_set_state(c, CONN_DECIDE);
	set_deadline(c, policy_wait_ms(p->cfg.policy) + 2000);
	return OPINION_WAIT;
}

/* The policy service answered the question about the head at the front of cin. */
void conn_decided(struct conn *c, struct decide_job *job)
{
	const struct policy_job *q = &job->pj;

	if (c->state != CONN_DECIDE)
		return;
	c->verdict = q->allow ? VERDICT_ALLOW : VERDICT_DENY;
	c->verdict_by = q->by && strstr(q->by, "program") ? "program" : "person";
	if (q->allow)
		snprintf(c->verdict_text, sizeof(c->verdict_text), "%s",
			 q->rule[0] ? q->rule : q->by);
	else if (q->message[0])
		snprintf(c->verdict_text, sizeof(c->verdict_text), "%s: %.400s",
			 strcmp(c->verdict_by, "program") == 0 ? "the rules program refused it"
							       : "asked at the terminal",
			 q->message);
	else
		snprintf(c->verdict_text, sizeof(c->verdict_text), "%s refused it",
			 strcmp(c->verdict_by, "program") == 0 ? "the rules program"
							       : "the person at the terminal");
	/* The same head is parsed again and decided with the verdict. */
	c->n_requests--;
	conn_set_state(c, CONN_HEAD);
	set_deadline(c, c->w->p->cfg.header_timeout_ms);
	conn_run(c);
}

/* A complete request head of len bytes is at the front of cin, parsed into c->req. */
static void handle_request(struct conn *c, size_t len)
{
	const struct proxy *p = c->w->p;
	struct http1_req *r = &c->req;
	struct rules_request rq;
	struct rules_decision d;
	struct slice host, path;
	const char *why = NULL;
	uint16_t port;
	bool has_body;

	reset_request(c);
	conn_rules_renew(c);
	snprintf(c->method, sizeof(c->method), "%.*s", (int)r->method.len, r->method.p);
	c->client_close = (r->flags & HTTP1_F_CLOSE) != 0;

	if (r->form == HTTP1_AUTHORITY) {
		/* CONNECT host:port: judged on the host, then every request inside on its own. */
		snprintf(c->host, sizeof(c->host), "%.*s", (int)r->authority.len, r->authority.p);
		snprintf(c->url, sizeof(c->url), "%s", c->host);
		buf_consume(&c->cin, len);
		if (c->client_tls || c->in_connect) {
			bad_request(c, "CONNECT inside a connection that is already proxied");
			return;
		}
		port = 443;
		if (split_host(c->host, c->connect_host, sizeof(c->connect_host), &port) < 0) {
			bad_request(c, "CONNECT to something that is not host:port");
			return;
		}
		rules_match_host(conn_rules(c), c->host, strlen(c->host), port, RULES_ANY, &d);
		if (!d.allow && !p->cfg.policy && !p->cfg.dry_run) {
			refuse(c, "no rule allows any request to this host");
			return;
		}
		if (d.allow) {
			log_info("ALLOW CONNECT %s from %s (rule: %s)", c->host, c->who, d.raw);
			audit(c, "request", "allow", d.raw, NULL, 200);
		} else {
			/* No rule: each request inside gets the second opinion on its own. */
			log_info(
			    "ALLOW CONNECT %s from %s (no rule allows it: each request inside is "
			    "decided on its own, by %s)",
			    c->host, c->who, p->cfg.dry_run ? "--dry-run" : "the policy");
			audit(c, "request", "allow", NULL,
			      "no rule allows this host: each request inside is decided on its own",
			      200);
		}
		c->connect_port = port;
		c->in_connect = true;
		if (c->cin.len > 0) {
			bad_request(c, "bytes sent before the CONNECT was answered");
			return;
		}
		if (put(&c->cout, "HTTP/1.1 200 Connection established\r\n\r\n") < 0) {
			conn_close(c, "no room");
			return;
		}
		snprintf(c->dname, sizeof(c->dname), "%s", c->connect_host);
		if (c->connect_host[0] != '[' && strchr(c->connect_host, ':'))
			snprintf(c->dname, sizeof(c->dname), "[%s]", c->connect_host);
		c->dport = port;
		sniff_begin(c);
		return;
	}

	/* Which host: the absolute-form authority (the parser made sure Host agrees), or Host. */
	host = r->form == HTTP1_ABSOLUTE ? r->authority : r->host;
	if (host.len == 0) {
		if (c->in_connect)
			snprintf(c->host, sizeof(c->host), "%s:%u", c->connect_host,
				 c->connect_port);
		else if (c->client_tls && c->sni[0])
			snprintf(c->host, sizeof(c->host), "%s", c->sni);
		else
			c->host[0] = '\0';
	} else {
		snprintf(c->host, sizeof(c->host), "%.*s", (int)host.len, host.p);
	}
	c->up_tls = c->client_tls || (r->form == HTTP1_ABSOLUTE && slice_ieq(r->scheme, "https"));
	path = r->form == HTTP1_ABSOLUTE ? r->path : r->target;
	if (r->form == HTTP1_ASTERISK)
		path = slice_of("*", 1);
	if (path.len == 0)
		path = slice_of("/", 1);
	c->path = malloc(path.len + 1);
	if (!c->path) {
		conn_close(c, "out of memory");
		return;
	}
	memcpy(c->path, path.p, path.len);
	c->path[path.len] = '\0';
	c->path_len = rules_path_normalize(c->path, path.len);
	c->path[c->path_len] = '\0';
	snprintf(c->url, sizeof(c->url), "%s://%s%s", c->up_tls ? "https" : "http",
		 c->host[0] ? c->host : "(no host)", c->path);

	has_body = r->body != HTTP1_BODY_NONE;
	c->req_body = r->body;
	c->req_left = r->content_length;

	if (!c->host[0]) {
		buf_consume(&c->cin, len);
		c->client_close = true;
		refuse(c, "the request names no host (no Host header and no TLS server name)");
		return;
	}
	/* The port the request goes to: the Host's, else the tunnel's or the scheme's. */
	port = c->up_tls ? 443 : 80;
	if (c->in_connect)
		port = c->connect_port;
	if (split_host(c->host, c->uhost, sizeof(c->uhost), &port) < 0) {
		buf_consume(&c->cin, len);
		bad_request(c, "the Host header is not a host name or address");
		return;
	}
	c->uport = port;
	memset(&rq, 0, sizeof(rq));
	rq.method = c->method;
	rq.method_len = strlen(c->method);
	rq.host = c->host;
	rq.host_len = strlen(c->host);
	rq.path = c->path;
	rq.path_len = c->path_len;
	rq.port = port;
	rules_match(conn_rules(c), &rq, &d);
	if (d.allow)
		c->verdict = VERDICT_NONE; /* a reload allowed it meanwhile: the answer is moot */
	if (!d.allow) {
		switch (second_opinion(c, port, d.reason, &d.raw, &why)) {
		case OPINION_WAIT:
			return; /* the head stays in cin until the answer comes */
		case OPINION_ALLOW:
			d.allow = true;
			break;
		case OPINION_DENY:
			break;
		}
	}
	if (!d.allow) {
		buf_consume(&c->cin, len);
		/* The client may hold its body back for a 100 we will never send: close after. */
		if (has_body && (r->flags & HTTP1_F_EXPECT_CONTINUE))
			c->client_close = true;
		refuse(c, why);
		if (c->state != CONN_FLUSH_CLOSE && c->state != CONN_DEAD && has_body)
			conn_set_state(c, CONN_DISCARD);
		return;
	}
	if (c->would_deny)
		log_warn("DRY-RUN would deny %s %s from %s: %s (let through: --dry-run)", c->method,
			 c->url, c->who, why);
	else if (c->decided_by)
		log_info("ALLOW %s %s from %s (%s: %s)", c->method, c->url, c->who,
			 strcmp(c->decided_by, "program") == 0 ? "the rules program"
							       : "the person at the terminal",
			 d.raw);
	else
		log_info("ALLOW %s %s from %s (rule: %s)", c->method, c->url, c->who, d.raw);
	/*
	 * The host-local guard is for wildcard rules. A request let through by --dry-run, the
	 * rules program or the person at the terminal was let through by its own host's name.
	 */
	c->any_host = !c->would_deny && !c->decided_by && !rules_names_host(conn_rules(c), d.rule);
	c->t_start = util_now_ms();
	c->bytes_up = c->bytes_down = 0;
	audit(c, "request", "allow", d.raw, c->would_deny ? why : NULL, 0);
	c->audit_open = true;

	c->upgrade = (r->flags & HTTP1_F_UPGRADE) != 0;
	if (write_request_head(c) < 0) {
		buf_consume(&c->cin, len);
		bad_request(c, "the request head is too large to forward");
		return;
	}
	buf_consume(&c->cin, len);
	start_upstream(c);
}

/* --- the states ---------------------------------------------------------------------------- */

/* --- stream rules: connections spliced through unread ---------------------------------------- */

/* Splices the connection to name:port under rule: no HTTP, no interception. */
static void start_stream(struct conn *c, const char *name, uint16_t port, const char *rule,
			 bool any_host, const char *kind)
{
	size_t n = strlen(name);

	c->stream = true;
	c->any_host = any_host;
	c->stream_kind = kind;
	c->method[0] = '\0';
	snprintf(c->host, sizeof(c->host), "%s:%u", name, port);
	snprintf(c->url, sizeof(c->url), "%s://%s:%u", kind, name, port);
	if (name[0] == '[' && n >= 2 && name[n - 1] == ']')
		snprintf(c->uhost, sizeof(c->uhost), "%.*s", (int)(n - 2), name + 1);
	else
		snprintf(c->uhost, sizeof(c->uhost), "%s", name);
	c->uport = port;
	c->up_tls = false;
	if (rule)
		log_info("ALLOW %s from %s (rule: %s)", c->url, c->who, rule);
	c->t_start = util_now_ms();
	c->bytes_up = c->bytes_down = 0;
	/* Under --dry-run (no rule), verdict_text holds why the rules would refuse it. */
	audit(c, "request", "allow", rule, c->would_deny ? c->verdict_text : NULL, 0);
	c->audit_open = true;
	/* Never from or into the pool: the upstream speaks whatever the client speaks. */
	snprintf(c->up_key, sizeof(c->up_key), "%s://%s:%u", kind, c->uhost, port);
	if (proxy_resolve(c, c->uhost, c->uport) < 0) {
		conn_close(c, "out of memory");
		return;
	}
	conn_set_state(c, CONN_RESOLVE);
	set_deadline(c, c->w->p->cfg.connect_timeout_ms);
}

/* A connection that is not HTTP (or TLS that no rule reads) and that no stream rule allows. */
static void refuse_stream(struct conn *c, const char *what)
{
	char rule[300], why[512];

	c->stream_kind = "tcp";
	c->method[0] = '\0';
	if (c->dname[0]) {
		snprintf(c->host, sizeof(c->host), "%s:%u", c->dname, c->dport);
		snprintf(c->url, sizeof(c->url), "tcp://%s:%u", c->dname, c->dport);
	} else {
		snprintf(c->host, sizeof(c->host), "%s", c->orig_str);
		snprintf(c->url, sizeof(c->url), "tcp://%s", c->orig_str);
	}
	snprintf(rule, sizeof(rule), "domain=%s port=%u", c->dname, c->dport);
	snprintf(why, sizeof(why), "%s, and no rule with port= allows %s", what,
		 c->dname[0] ? c->host : "it");
	if (c->dname[0] && valid_rule(rule))
		log_warn("DENY %s from %s: %s (to allow it: --allow \"%s\")", c->url, c->who, why,
			 rule);
	else
		log_warn("DENY %s from %s: %s (the name it was going to is not known: it did not "
			 "come from boundary's DNS)",
			 c->url, c->who, why);
	audit(c, "request", "deny", NULL, why, 0);
	conn_close(c, "refused: not HTTP");
}

/*
 * --dry-run: a connection no rule would let through unread is spliced all the same, to the name
 * its address stands for, and marked would_deny. Returns false when that name is not known (it
 * is then refused as usual: there is nowhere to send it).
 */
static bool dry_run_stream(struct conn *c, const char *what)
{
	if (!c->w->p->cfg.dry_run || !c->dname[0])
		return false;
	c->would_deny = true;
	snprintf(c->verdict_text, sizeof(c->verdict_text), "%s, and no rule with port= allows it",
		 what);
	log_warn("DRY-RUN would deny tcp://%s:%u from %s: %s (let through: --dry-run; to allow "
		 "it: --allow \"domain=%s port=%u\")",
		 c->dname, c->dport, c->who, c->verdict_text, c->dname, c->dport);
	start_stream(c, c->dname, c->dport, NULL, false, "tcp"); /* by its own name */
	return true;
}

/* The name behind the address the client dialled, for stream rules. */
static void dialled_name(struct conn *c)
{
	const struct sockaddr_storage *ss = &c->orig.dst;
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
	const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;
	struct dns_table *dns = c->w->p->cfg.dns;
	char a[INET6_ADDRSTRLEN];
	struct in_addr v4;

	c->dname[0] = '\0';
	if (ss->ss_family == AF_INET) {
		c->dport = ntohs(s4->sin_port);
		v4 = s4->sin_addr;
	} else if (ss->ss_family == AF_INET6) {
		c->dport = ntohs(s6->sin6_port);
		if (!IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			if (dns && dns_is_synthetic(AF_INET6, &s6->sin6_addr)) {
				if (dns_table_name(dns, AF_INET6, &s6->sin6_addr, c->dname,
						   sizeof(c->dname)) < 0)
					c->dname[0] = '\0';
				return;
			}
			/* A real answer's address (--use-real-dns) stands for its name too. */
			if (dns && dns_table_name(dns, AF_INET6, &s6->sin6_addr, c->dname,
						  sizeof(c->dname)) == 0)
				return;
			inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a));
			snprintf(c->dname, sizeof(c->dname), "[%s]", a);
			return;
		}
		memcpy(&v4, &s6->sin6_addr.s6_addr[12], 4);
	} else {
		return;
	}
	if (dns && dns_table_name(dns, AF_INET, &v4, c->dname, sizeof(c->dname)) == 0)
		return;
	if (dns && dns_is_synthetic(AF_INET, &v4)) {
		c->dname[0] = '\0';
		return;
	}
	inet_ntop(AF_INET, &v4, c->dname, sizeof(c->dname));
}

/*
 * The connection is about to be sniffed. When only stream rules match where it was going, it
 * is spliced at once, without waiting for bytes (server-first protocols speak only after the
 * server did). When HTTP rules match too, a client silent for SERVER_FIRST_MS is spliced then.
 */
static void sniff_begin(struct conn *c)
{
	const struct rules *rules;
	struct rules_decision ds, dr;
	size_t n = strlen(c->dname);

	conn_rules_renew(c);
	rules = conn_rules(c);
	conn_set_state(c, CONN_SNIFF);
	c->stream_rule = NULL;
	c->sniff_done = c->sniff_wait = false;
	c->sniff_deadline = util_now_ms() + c->w->p->cfg.header_timeout_ms;
	c->deadline = c->sniff_deadline;
	if (n == 0)
		return;
	/* A client still silent then may be waiting for the server: see conn_timeout(). */
	set_deadline(c, SERVER_FIRST_MS);
	rules_match_host(rules, c->dname, n, c->dport, RULES_STREAM, &ds);
	if (!ds.allow)
		return;
	rules_match_host(rules, c->dname, n, c->dport, RULES_REQUESTS, &dr);
	if (!dr.allow) {
		start_stream(c, c->dname, c->dport, ds.raw, !rules_names_host(rules, ds.rule),
			     "tcp");
		return;
	}
	c->stream_rule = ds.raw;
	c->stream_rule_any = !rules_names_host(rules, ds.rule);
}

/* Not enough bytes to decide yet: look again on the next tick, not on every wakeup. */
static bool sniff_more(struct conn *c)
{
	c->sniff_wait = true;
	c->deadline = util_now_ms();
	return false;
}

/*
 * A TLS connection whose server name no HTTP rule reads but a stream rule allows is spliced
 * without interception. Returns true if it was.
 */
/*
 * A ClientHello whose name only stream rules allow is spliced through unread (true). Otherwise
 * name gets the name it is for (its SNI, else the dialled name), "" if none.
 */
static bool tls_passthrough(struct conn *c, const unsigned char *peek, size_t n, bool *wait,
			    char *out, size_t outlen)
{
	const struct rules *rules = conn_rules(c);
	struct rules_decision ds, dr;
	struct sniff_hello hello;
	const char *name;
	ssize_t r;

	*wait = false;
	out[0] = '\0';
	r = sniff_client_hello(peek, n, &hello);
	if (r == 0 && n < SNIFF_PEEK) {
		*wait = true;
		return false;
	}
	name = r > 0 && hello.sni[0] ? hello.sni : c->dname;
	if (!name[0])
		return false;
	snprintf(out, outlen, "%s", name);
	rules_match_host(rules, name, strlen(name), c->dport, RULES_REQUESTS, &dr);
	if (dr.allow)
		return false;
	rules_match_host(rules, name, strlen(name), c->dport, RULES_STREAM, &ds);
	if (!ds.allow)
		return false;
	start_stream(c, name, c->dport, ds.raw, !rules_names_host(rules, ds.rule), "tls");
	return true;
}

static bool step_sniff(struct conn *c)
{
	static __thread unsigned char peek[SNIFF_PEEK];
	char hs_name[sizeof(c->dname)];
	struct rules_decision ds;
	enum sniff_kind kind;
	bool wait;
	ssize_t r;
	char name[INET6_ADDRSTRLEN + 2];

	if (c->sniff_wait)
		return false;
	r = recv(c->cx.fd, peek, sizeof(peek), MSG_PEEK);
	if (r == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			c->cx.want_read = true;
			return false;
		}
		conn_close(c, "client error");
		return false;
	}
	if (r == 0) {
		if (c->silent_hint)
			refuse_stream(c,
				      "it sent nothing and closed (waiting for the server to speak "
				      "first?)");
		else
			conn_close(c, "the client closed without a word");
		return false;
	}
	c->sniff_done = true;
	kind = sniff_kind(peek, (size_t)r);
	if (kind == SNIFF_NEED_MORE)
		return sniff_more(c);
	c->deadline = c->sniff_deadline;
	if (kind == SNIFF_HTTP) {
		conn_set_state(c, CONN_HEAD);
		return true;
	}
	if (kind == SNIFF_OTHER) {
		if (c->dname[0]) {
			rules_match_host(conn_rules(c), c->dname, strlen(c->dname), c->dport,
					 RULES_STREAM, &ds);
			if (ds.allow) {
				start_stream(c, c->dname, c->dport, ds.raw,
					     !rules_names_host(conn_rules(c), ds.rule), "tcp");
				return true;
			}
		}
		if (dry_run_stream(c, "it is neither TLS nor HTTP"))
			return true;
		refuse_stream(c, "it is neither TLS nor HTTP");
		return false;
	}
	if (tls_passthrough(c, peek, (size_t)r, &wait, hs_name, sizeof(hs_name)))
		return true;
	if (wait)
		return sniff_more(c);
	c->cx.ssl = SSL_new(c->w->p->cfg.server_ctx);
	if (!c->cx.ssl || !SSL_set_fd(c->cx.ssl, c->cx.fd)) {
		conn_close(c, "out of memory for TLS");
		return false;
	}
	SSL_set_accept_state(c->cx.ssl);
	/* No SNI: a certificate for what the client dialled, so IP-literal URLs still work. */
	if (c->in_connect) {
		tls_server_set_fallback_name(c->cx.ssl, c->connect_host);
	} else if (c->dname[0] && c->dname[0] != '[') {
		tls_server_set_fallback_name(c->cx.ssl, c->dname);
	} else if (c->have_orig) {
		util_addr_str((const struct sockaddr *)&c->orig.dst, false, name, sizeof(name));
		tls_server_set_fallback_name(c->cx.ssl, name);
	}
	head_start(c, hs_name);
	conn_set_state(c, CONN_TLS_ACCEPT);
	return true;
}

static bool step_tls_accept(struct conn *c)
{
	const char *sni;
	char why[256];
	size_t i;
	int r;

	r = xport_handshake(&c->cx);
	if (r == -EAGAIN)
		return false;
	if (r < 0) {
		tls_error_string(c->cx.ssl, r, why, sizeof(why));
		log_info("TLS handshake with %s failed: %s (does the client trust boundary's CA?)",
			 c->who, why);
		conn_close(c, "client TLS handshake failed");
		return false;
	}
	sni = SSL_get_servername(c->cx.ssl, TLSEXT_NAMETYPE_host_name);
	if (sni) {
		for (i = 0; sni[i] && i + 1 < sizeof(c->sni); i++)
			c->sni[i] = (char)((sni[i] >= 'A' && sni[i] <= 'Z') ? sni[i] + 32 : sni[i]);
		c->sni[i] = '\0';
		/*
		 * The SNI stands in for a missing Host: only a host name may, never bytes that
		 * could end a log line or a saved rule (a name of letters, digits, '-', '_', '.').
		 */
		if (sni[i] || strspn(c->sni, "abcdefghijklmnopqrstuvwxyz0123456789-_.") != i) {
			log_info("%s sent a TLS server name that is not a host name: ignored",
				 c->who);
			c->sni[0] = '\0';
		}
	}
	c->client_tls = true;
	conn_set_state(c, CONN_HEAD);
	set_deadline(c, c->w->p->cfg.header_timeout_ms);
	return true;
}

static bool step_head(struct conn *c)
{
	size_t pos = 0;
	ssize_t r;

	if (c->cin.len > 0) {
		r = http1_parse_request(buf_head(&c->cin), c->cin.len, CONN_MAX_HEAD, &c->req,
					c->w->hdr, CONN_MAX_HEADERS, &pos);
		if (r > 0) {
			c->n_requests++;
			handle_request(c, (size_t)r);
			return true;
		}
		if (r < 0) {
			bad_request(c, http1_strerror((int)r));
			return true;
		}
	}
	r = fill(&c->cx, &c->cin);
	if (r > 0) {
		if (c->idle_end) {
			/* The next head has begun: it has the header timeout, not the idle one. */
			c->idle_end = 0;
			set_deadline(c, c->w->p->cfg.header_timeout_ms);
		}
		return true;
	}
	if (r == 0) {
		if (c->cin.len > 0)
			log_info("%s closed in the middle of a request head", c->who);
		conn_close(c, "client closed");
		return false;
	}
	if (r != -EAGAIN)
		conn_close(c, "client read error");
	return false;
}

static bool step_discard(struct conn *c)
{
	bool done = false;
	ssize_t r, m;

	if (c->cin.len > 0) {
		m = move_body(&c->cin, NULL, c->req_body, &c->req_left, &c->req_chunk, &done);
		if (m < 0) {
			conn_close(c, "bad request body framing");
			return false;
		}
		if (done) {
			wait_next_request(c);
			return true;
		}
		if (m > 0)
			return true;
	}
	r = fill(&c->cx, &c->cin);
	if (r > 0)
		return true;
	if (r == 0 || r != -EAGAIN)
		conn_close(c, "client closed");
	return false;
}

/* Starts a connection to the next address into a free slot. Returns 0, or -1 if none is left. */
static int start_attempt(struct conn *c)
{
	struct addrinfo *ai;
	int fd, one = 1;

	while (c->next_addr < c->n_addr) {
		ai = c->addr[c->next_addr++];
		fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd == -1) {
			snprintf(c->connect_err, sizeof(c->connect_err), "%s", strerror(errno));
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == -1 && errno != EINPROGRESS) {
			snprintf(c->connect_err, sizeof(c->connect_err), "%s", strerror(errno));
			close(fd);
			continue;
		}
		if (c->ux.fd < 0) {
			c->ux.fd = fd;
			c->ev_u = WATCH_NONE;
		} else {
			c->alt_fd = fd;
			c->ev_a = WATCH_NONE;
		}
		return 0;
	}
	return -1;
}

static void close_alt(struct conn *c)
{
	if (c->alt_fd >= 0)
		close(c->alt_fd);
	c->alt_fd = -1;
	c->ev_a = WATCH_NONE;
}

/* When the next racing attempt starts, or the whole connect gives up, whichever is first. */
static void connect_deadline(struct conn *c)
{
	uint64_t next = util_now_ms() + HAPPY_EYEBALLS_MS;

	if (c->next_addr < c->n_addr && c->alt_fd < 0 && next < c->connect_deadline)
		c->deadline = next;
	else
		c->deadline = c->connect_deadline;
}

/* Keeps an attempt in flight, or says why none could be made. */
static void try_connect(struct conn *c)
{
	char why[512];

	if (c->ux.fd < 0 && c->alt_fd >= 0) {
		c->ux.fd = c->alt_fd;
		/* Still registered with epoll: the next watch changes it (MOD), never re-adds it. */
		c->ev_u = c->ev_a;
		c->alt_fd = -1;
		c->ev_a = WATCH_NONE;
	}
	if (c->ux.fd < 0 && start_attempt(c) < 0) {
		snprintf(why, sizeof(why), "cannot connect to %s port %u: %s", c->uhost, c->uport,
			 c->connect_err[0] ? c->connect_err : "no address");
		upstream_failed(c, 502, why);
		return;
	}
	conn_set_state(c, CONN_CONNECT);
	connect_deadline(c);
}

/*
 * The host's own addresses, as a rule that names no host must not reach them: loopback (its
 * local services), unspecified (the same), link-local (169.254.169.254 is a cloud's metadata
 * service), and their v4-mapped forms.
 */
/* AWS's metadata service over IPv6, fd00:ec2::254. */
static const unsigned char aws_md6[16] = {0xfd, 0, 0x0e, 0xc2, [14] = 0x02, [15] = 0x54};

static bool host_own(const struct sockaddr *sa)
{
	const struct in6_addr *a6;
	uint32_t a;

	if (sa->sa_family == AF_INET) {
		a = ntohl(((const struct sockaddr_in *)(const void *)sa)->sin_addr.s_addr);
	} else if (sa->sa_family == AF_INET6) {
		a6 = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
		if (IN6_IS_ADDR_LOOPBACK(a6) || IN6_IS_ADDR_UNSPECIFIED(a6) ||
		    IN6_IS_ADDR_LINKLOCAL(a6) || memcmp(a6->s6_addr, aws_md6, 16) == 0)
			return true;
		if (!IN6_IS_ADDR_V4MAPPED(a6))
			return false;
		a = (uint32_t)a6->s6_addr[12] << 24 | (uint32_t)a6->s6_addr[13] << 16 |
		    (uint32_t)a6->s6_addr[14] << 8 | a6->s6_addr[15];
	} else {
		return false;
	}
	/* loopback, "this network", link-local (AWS, GCP, Azure metadata), Alibaba's metadata */
	return (a >> 24) == 127 || (a >> 24) == 0 || (a >> 16) == 0xa9fe || a == 0x646464c8;
}

/* True if the connected socket fd reaches one of this host's own addresses (or cannot say). */
static bool up_host_own(int fd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	if (getpeername(fd, (struct sockaddr *)&ss, &sl) == -1)
		return true;
	return host_own((const struct sockaddr *)&ss);
}

/*
 * The answer's addresses, families alternating (RFC 8305), first family as resolved. Under a
 * rule that names no host, the host's own are left out; *shut gets the first of those.
 */
static void order_addresses(struct conn *c, char *shut, size_t shutlen)
{
	struct addrinfo *ai, *fam[2][MAX_ADDRS];
	size_t n[2] = {0, 0}, i, k;
	int first = -1, f;

	shut[0] = '\0';
	for (ai = c->ai; ai; ai = ai->ai_next) {
		if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
			continue;
		if (c->any_host && host_own(ai->ai_addr)) {
			if (!shut[0] &&
			    getnameinfo(ai->ai_addr, ai->ai_addrlen, shut, (socklen_t)shutlen, NULL,
					0, NI_NUMERICHOST) != 0)
				snprintf(shut, shutlen, "?");
			continue;
		}
		if (first < 0)
			first = ai->ai_family;
		f = ai->ai_family == first ? 0 : 1;
		if (n[f] < MAX_ADDRS)
			fam[f][n[f]++] = ai;
	}
	c->n_addr = c->next_addr = 0;
	for (i = 0; c->n_addr < MAX_ADDRS && (i < n[0] || i < n[1]); i++)
		for (k = 0; k < 2; k++)
			if (i < n[k] && c->n_addr < MAX_ADDRS)
				c->addr[c->n_addr++] = fam[k][i];
}

static bool is_self(const struct proxy *p, const struct sockaddr *sa)
{
	const struct sockaddr_in *a4 = (const struct sockaddr_in *)sa, *b4;
	const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)sa, *b6;
	size_t i;

	for (i = 0; i < p->cfg.n_self; i++) {
		if (p->cfg.self[i].ss_family != sa->sa_family)
			continue;
		b4 = (const struct sockaddr_in *)&p->cfg.self[i];
		b6 = (const struct sockaddr_in6 *)&p->cfg.self[i];
		if (sa->sa_family == AF_INET && a4->sin_port == b4->sin_port &&
		    a4->sin_addr.s_addr == b4->sin_addr.s_addr)
			return true;
		if (sa->sa_family == AF_INET6 && a6->sin6_port == b6->sin6_port &&
		    memcmp(&a6->sin6_addr, &b6->sin6_addr, 16) == 0)
			return true;
	}
	return false;
}

/*
 * Loop protection: forgets the addresses that are the proxy's own listeners. Returns true when
 * there were some and every one was the proxy's (nothing is left to connect to).
 */
static bool drop_self_addresses(struct conn *c)
{
	const struct proxy *p = c->w->p;
	size_t i, k = 0;

	if (!p->cfg.n_self || !c->n_addr)
		return false;
	for (i = 0; i < c->n_addr; i++) {
		if (!is_self(p, c->addr[i]->ai_addr))
			c->addr[k++] = c->addr[i];
	}
	c->n_addr = k;
	return k == 0;
}

void conn_resolved(struct conn *c, struct resolve_job *job)
{
	char why[768], shut[INET6_ADDRSTRLEN];

	if (c->ai)
		freeaddrinfo(c->ai);
	c->ai = job->res;
	job->res = NULL;
	if (job->gai_err) {
		snprintf(why, sizeof(why), "cannot resolve %s: %s", c->uhost,
			 gai_strerror(job->gai_err));
		free(job);
		upstream_failed(c, 502, why);
		conn_run(c);
		return;
	}
	free(job);
	order_addresses(c, shut, sizeof(shut));
	if (c->n_addr == 0 && shut[0]) {
		snprintf(why, sizeof(why),
			 "%s is %s, an address of this host (loopback, link-local or a cloud's "
			 "metadata service), and the rule that allowed the request names no host; "
			 "to reach it, allow it by name (--allow \"domain=%s\")",
			 c->uhost, shut, c->uhost);
		upstream_failed(c, 403, why);
		conn_run(c);
		return;
	}
	if (drop_self_addresses(c)) {
		snprintf(why, sizeof(why),
			 "%s port %u is boundary's own proxy: the request would come back to it "
			 "(loop protection)",
			 c->uhost, c->uport);
		upstream_failed(c, 508, why);
		conn_run(c);
		return;
	}
	c->connect_err[0] = '\0';
	c->connect_deadline = util_now_ms() + c->w->p->cfg.connect_timeout_ms;
	try_connect(c);
	conn_run(c);
}

/* 1 connected, 0 still connecting, -1 failed (connect_err says why). */
static int attempt_state(struct conn *c, int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(int), sl = sizeof(ss);
	int err = 0;

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err) {
		snprintf(c->connect_err, sizeof(c->connect_err), "%s", strerror(err));
		return -1;
	}
	return getpeername(fd, (struct sockaddr *)&ss, &sl) == 0 ? 1 : 0;
}

static bool step_connect(struct conn *c)
{
	int a = c->ux.fd >= 0 ? attempt_state(c, c->ux.fd) : -1;
	int b = c->alt_fd >= 0 ? attempt_state(c, c->alt_fd) : -1;

	if (a == 1) {
		close_alt(c);
	} else if (b == 1) {
		/* The racing attempt won: it becomes the connection. */
		close(c->ux.fd);
		c->ux.fd = c->alt_fd;
		/* Still registered with epoll: the next watch changes it (MOD), never re-adds it. */
		c->ev_u = c->ev_a;
		c->alt_fd = -1;
		c->ev_a = WATCH_NONE;
	} else {
		if (a < 0 && c->ux.fd >= 0) {
			close(c->ux.fd);
			c->ux.fd = -1;
			c->ev_u = WATCH_NONE;
		}
		if (b < 0 && c->alt_fd >= 0)
			close_alt(c);
		if (c->ux.fd < 0 && c->alt_fd < 0) {
			/* Both failed at once: the next address now, not after the delay. */
			try_connect(c);
			return c->state != CONN_CONNECT ? true : false;
		}
		if (c->ux.fd < 0 || c->alt_fd < 0)
			try_connect(c);
		return false;
	}
	if (c->stream) {
		log_debug("%s: spliced to %s port %u", c->who, c->uhost, c->uport);
		conn_set_state(c, CONN_SPLICE);
		c->deadline = 0;
		return true;
	}
	if (!c->up_tls) {
		conn_set_state(c, CONN_EXCHANGE);
		set_deadline(c, c->w->p->cfg.response_timeout_ms);
		return true;
	}
	c->ux.ssl = SSL_new(c->w->p->cfg.client_ctx);
	if (!c->ux.ssl || !SSL_set_fd(c->ux.ssl, c->ux.fd) ||
	    tls_client_prepare(c->ux.ssl, c->uhost) < 0) {
		upstream_failed(c, 502, "cannot set up TLS to the upstream");
		return false;
	}
	SSL_set_connect_state(c->ux.ssl);
	conn_set_state(c, CONN_UP_TLS);
	return true;
}

static bool step_up_tls(struct conn *c)
{
	char why[256], msg[640];
	int r;

	r = xport_handshake(&c->ux);
	if (r == -EAGAIN)
		return false;
	if (r < 0) {
		tls_error_string(c->ux.ssl, r, why, sizeof(why));
		snprintf(msg, sizeof(msg), "TLS with %s failed: %s", c->uhost, why);
		upstream_failed(c, 502, msg);
		return false;
	}
	if (c->is_head_start) {
		head_start_done(c, 0, NULL);
		return false;
	}
	conn_set_state(c, CONN_EXCHANGE);
	set_deadline(c, c->w->p->cfg.response_timeout_ms);
	return true;
}

static bool handle_response_head(struct conn *c, size_t len)
{
	struct http1_resp *r = &c->resp;

	if (r->status >= 100 && r->status < 200 && r->status != 101) {
		/* 100 Continue and friends: passed on, and the real response follows. */
		if (write_response_head(c, r) < 0) {
			conn_close(c, "no room");
			return false;
		}
		buf_consume(&c->uin, len);
		return true;
	}
	if (r->status == 101 && !c->upgrade) {
		upstream_failed(c, 502, "the upstream switched protocols unasked");
		return false;
	}
	c->resp_body = r->body;
	c->resp_left = r->content_length;
	if (r->body == HTTP1_BODY_UNTIL_CLOSE)
		c->client_close = true;
	if (write_response_head(c, r) < 0) {
		upstream_failed(c, 502, "the response head is too large");
		return false;
	}
	buf_consume(&c->uin, len);
	c->resp_head_done = true;
	if (r->status == 101) {
		conn_set_state(c, CONN_TUNNEL);
		c->deadline = 0;
		return true;
	}
	if (r->body == HTTP1_BODY_NONE)
		c->resp_done = true;
	set_deadline(c, c->w->p->cfg.idle_timeout_ms);
	return true;
}

/*
 * Gives back what an idle connection does not need: its empty buffers and OpenSSL's record
 * buffers, on both sides, about 150 KiB once bodies have flowed. They come back on the next
 * request. Done after IDLE_TRIM_MS, not at once, so busy keep-alive connections do not pay for
 * allocations on every request.
 */
static void conn_trim(struct conn *c)
{
	struct buf *b[] = {&c->cin, &c->cout, &c->uin, &c->uout};
	size_t i;

	for (i = 0; i < sizeof(b) / sizeof(b[0]); i++)
		if (b[i]->len == 0)
			buf_fini(b[i]);
	if (c->cx.ssl)
		SSL_free_buffers(c->cx.ssl);
	/* The upstream connection goes back to the worker's pool (or closes if that is full). */
	pool_put(c);
	c->w->trimmed++;
}

/* Waits for the next request head: closed after the idle timeout, trimmed well before. */
static void wait_next_request(struct conn *c)
{
	uint64_t now = util_now_ms();

	reset_request(c);
	conn_set_state(c, CONN_HEAD);
	if (c->cin.len > 0) {
		/* A pipelined head, whole or begun: it has the header timeout. */
		set_deadline(c, c->w->p->cfg.header_timeout_ms);
		return;
	}
	c->idle_end = now + c->w->p->cfg.idle_timeout_ms;
	c->deadline = now + IDLE_TRIM_MS < c->idle_end ? now + IDLE_TRIM_MS : c->idle_end;
}

static void exchange_done(struct conn *c)
{
	audit_end(c, c->resp.status);
	bool reuse = !c->up_eof && c->resp_body != HTTP1_BODY_UNTIL_CLOSE &&
		     !(c->resp.flags & HTTP1_F_CLOSE) && c->req_done;

	if (!reuse) {
		xport_close(&c->ux);
		c->ev_u = WATCH_NONE;
		c->up_key[0] = '\0';
	}
	if (c->client_close || !c->req_done) {
		/* The client is done; its upstream connection may serve another. */
		if (c->req_done)
			pool_put(c);
		conn_close(c, "done");
		return;
	}
	wait_next_request(c);
}

static bool step_exchange(struct conn *c)
{
	bool progress = false;
	size_t pos = 0;
	ssize_t r;

	/* request head and body, to the upstream */
	r = flush(&c->ux, &c->uout);
	if (r > 0) {
		progress = true;
		c->bytes_up += (uint64_t)r;
	} else if (r != -EAGAIN) {
		upstream_failed(c, 502, "the upstream closed the connection");
		return false;
	}
	if (!c->req_done) {
		r = move_body(&c->cin, &c->uout, c->req_body, &c->req_left, &c->req_chunk,
			      &c->req_done);
		if (r < 0) {
			bad_request(c, "malformed request body (chunked framing)");
			return false;
		}
		if (r > 0)
			progress = true;
		if (!c->req_done && buf_room(&c->cin) > 0) {
			r = fill(&c->cx, &c->cin);
			if (r > 0) {
				progress = true;
				/* An upload that moves is not a silent upstream: idle rules. */
				if (!c->resp_head_done)
					set_deadline(c, c->w->p->cfg.idle_timeout_ms);
			} else if (r == 0 || r != -EAGAIN) {
				log_info("%s %s from %s: the client went away in the middle of its "
					 "request body (%llu bytes sent on)",
					 c->method, c->url, c->who,
					 (unsigned long long)c->bytes_up);
				conn_close(c, "the client went away in the middle of its request");
				return false;
			}
		}
		/* The whole request is out: the upstream's time to answer starts now. */
		if (c->req_done && !c->resp_head_done)
			set_deadline(c, c->w->p->cfg.response_timeout_ms);
	}
	/* response, from the upstream */
	if (!c->resp_done && !c->up_eof && buf_room(&c->uin) > 0) {
		r = fill(&c->ux, &c->uin);
		if (r > 0) {
			progress = true;
			set_deadline(c, c->resp_head_done ? c->w->p->cfg.idle_timeout_ms
							  : c->w->p->cfg.response_timeout_ms);
		} else if (r == 0) {
			c->up_eof = true;
			progress = true;
		} else if (r != -EAGAIN) {
			c->up_eof = true;
			progress = true;
		}
	}
	if (!c->resp_head_done && c->uin.len > 0) {
		r = http1_parse_response(buf_head(&c->uin), c->uin.len, CONN_MAX_HEAD,
					 slice_of(c->method, strlen(c->method)), &c->resp,
					 c->w->rhdr, CONN_MAX_HEADERS, &pos);
		if (r < 0) {
			char why[256];

			snprintf(why, sizeof(why), "the upstream sent an invalid response: %s",
				 http1_strerror((int)r));
			upstream_failed(c, 502, why);
			return false;
		}
		if (r > 0) {
			if (!handle_response_head(c, (size_t)r))
				return false;
			if (c->state == CONN_TUNNEL)
				return true;
			progress = true;
		}
	}
	if (!c->resp_head_done && c->up_eof) {
		upstream_failed(c, 502, "the upstream closed the connection without answering");
		return false;
	}
	if (c->resp_head_done && !c->resp_done) {
		r = move_body(&c->uin, &c->cout, c->resp_body, &c->resp_left, &c->resp_chunk,
			      &c->resp_done);
		if (r < 0) {
			conn_close(c, "the upstream's response body is malformed");
			return false;
		}
		if (r > 0)
			progress = true;
		if (!c->resp_done && c->up_eof && c->uin.len == 0) {
			if (c->resp_body == HTTP1_BODY_UNTIL_CLOSE) {
				c->resp_done = true;
			} else {
				/* Cut short: the client must see the connection end, not a hang. */
				log_warn("%s %s from %s: the upstream closed in the middle of its "
					 "response (%llu bytes passed on); closing the client's "
					 "connection",
					 c->method, c->url, c->who,
					 (unsigned long long)c->bytes_down);
				c->client_close = true;
				c->resp_done = true;
				c->req_done = false;
			}
		}
	}
	/* to the client */
	r = flush(&c->cx, &c->cout);
	if (r > 0) {
		progress = true;
		c->bytes_down += (uint64_t)r;
	} else if (r != -EAGAIN) {
		conn_close(c, "the client went away");
		return false;
	}
	if (c->resp_done && c->cout.len == 0 && (c->req_done || c->client_close)) {
		exchange_done(c);
		return c->state != CONN_DEAD;
	}
	return progress;
}

static bool step_tunnel(struct conn *c)
{
	bool progress = false;
	ssize_t r;

	/* whatever either side sends, to the other, until one of them closes */
	if (c->cin.len && buf_room(&c->uout)) {
		size_t n = c->cin.len < buf_room(&c->uout) ? c->cin.len : buf_room(&c->uout);

		buf_append(&c->uout, buf_head(&c->cin), n);
		buf_consume(&c->cin, n);
		progress = true;
	}
	if (c->uin.len && buf_room(&c->cout)) {
		size_t n = c->uin.len < buf_room(&c->cout) ? c->uin.len : buf_room(&c->cout);

		buf_append(&c->cout, buf_head(&c->uin), n);
		buf_consume(&c->uin, n);
		progress = true;
	}
	if (buf_room(&c->cin)) {
		r = fill(&c->cx, &c->cin);
		if (r > 0)
			progress = true;
		else if (r != -EAGAIN) {
			conn_close(c, "tunnel closed by the client");
			return false;
		}
	}
	if (buf_room(&c->uin)) {
		r = fill(&c->ux, &c->uin);
		if (r > 0)
			progress = true;
		else if (r != -EAGAIN && c->cout.len == 0 && c->uin.len == 0) {
			conn_close(c, "tunnel closed by the upstream");
			return false;
		}
	}
	r = flush(&c->ux, &c->uout);
	if (r > 0) {
		c->bytes_up += (uint64_t)r;
		progress = true;
	}
	r = flush(&c->cx, &c->cout);
	if (r > 0) {
		c->bytes_down += (uint64_t)r;
		progress = true;
	}
	return progress;
}

/* Moves what fits from src to dst. */
static bool shift(struct buf *src, struct buf *dst)
{
	size_t n = src->len < buf_room(dst) ? src->len : buf_room(dst);

	if (n == 0)
		return false;
	buf_append(dst, buf_head(src), n);
	buf_consume(src, n);
	return true;
}

/*
 * A stream rule's connection: bytes both ways untouched, and each side's close of its sending
 * half passed on to the other once what it sent is delivered, so request-then-EOF protocols
 * still get their answer. Closed when both halves are.
 */
static bool step_splice(struct conn *c)
{
	bool progress = shift(&c->cin, &c->uout) | shift(&c->uin, &c->cout);
	ssize_t r;

	if (!c->c_eof && buf_room(&c->cin)) {
		r = fill(&c->cx, &c->cin);
		if (r > 0) {
			progress = true;
		} else if (r == 0) {
			c->c_eof = progress = true;
		} else if (r != -EAGAIN) {
			conn_close(c, "client error");
			return false;
		}
	}
	if (!c->u_eof && buf_room(&c->uin)) {
		r = fill(&c->ux, &c->uin);
		if (r > 0) {
			progress = true;
		} else if (r == 0) {
			c->u_eof = progress = true;
		} else if (r != -EAGAIN) {
			conn_close(c, "upstream error");
			return false;
		}
	}
	r = flush(&c->ux, &c->uout);
	if (r > 0) {
		c->bytes_up += (uint64_t)r;
		progress = true;
	} else if (r < 0 && r != -EAGAIN) {
		conn_close(c, "upstream error");
		return false;
	}
	r = flush(&c->cx, &c->cout);
	if (r > 0) {
		c->bytes_down += (uint64_t)r;
		progress = true;
	} else if (r < 0 && r != -EAGAIN) {
		conn_close(c, "the client went away");
		return false;
	}
	if (c->c_eof && !c->u_shut && c->cin.len == 0 && c->uout.len == 0) {
		shutdown(c->ux.fd, SHUT_WR);
		c->u_shut = true;
	}
	if (c->u_eof && !c->c_shut && c->uin.len == 0 && c->cout.len == 0) {
		shutdown(c->cx.fd, SHUT_WR);
		c->c_shut = true;
	}
	if (c->c_shut && c->u_shut) {
		conn_close(c, "both sides closed");
		return false;
	}
	return progress;
}

static bool step_flush_close(struct conn *c)
{
	ssize_t r = flush(&c->cx, &c->cout);

	if (c->cout.len == 0 || (r < 0 && r != -EAGAIN)) {
		conn_close(c, c->close_reason ? c->close_reason : "done");
		return false;
	}
	return r > 0;
}

/* --- the driver ---------------------------------------------------------------------------- */

static void update_interest(struct conn *c)
{
	uint32_t wc = 0, wu = 0;
	bool room_c = buf_room(&c->cin) > 0, room_u = buf_room(&c->uin) > 0;

	switch (c->state) {
	case CONN_SNIFF:
		/* Waiting for more bytes than the socket holds: the tick retries. */
		if (!c->sniff_wait)
			wc |= EPOLLIN;
		if (c->ux.fd >= 0)
			wu |= EPOLLIN;
		break;
	case CONN_HEAD:
	case CONN_DISCARD:
		if (room_c)
			wc |= EPOLLIN;
		if (c->ux.fd >= 0)
			wu |= EPOLLIN; /* a kept upstream that closes is noticed */
		break;
	case CONN_DECIDE:
		/* Nothing is read while the request waits (a hang-up is reported anyway). */
		if (c->ux.fd >= 0)
			wu |= EPOLLIN;
		break;
	case CONN_EXCHANGE:
		if (!c->req_done && room_c)
			wc |= EPOLLIN;
		if (!c->resp_done && room_u)
			wu |= EPOLLIN;
		break;
	case CONN_TUNNEL:
		if (room_c)
			wc |= EPOLLIN;
		if (room_u)
			wu |= EPOLLIN;
		break;
	case CONN_SPLICE:
		if (room_c && !c->c_eof)
			wc |= EPOLLIN;
		if (room_u && !c->u_eof)
			wu |= EPOLLIN;
		break;
	case CONN_CONNECT:
		wu |= EPOLLOUT;
		break;
	default:
		break;
	}
	if (c->cout.len)
		wc |= EPOLLOUT;
	if (c->uout.len &&
	    (c->state == CONN_EXCHANGE || c->state == CONN_TUNNEL || c->state == CONN_SPLICE))
		wu |= EPOLLOUT;
	if (c->cx.want_read)
		wc |= EPOLLIN;
	if (c->cx.want_write)
		wc |= EPOLLOUT;
	if (c->ux.want_read)
		wu |= EPOLLIN;
	if (c->ux.want_write)
		wu |= EPOLLOUT;
	/* A parked request reads nothing: more bytes from its client would only wake it in vain. */
	if (c->state == CONN_DECIDE)
		wc &= ~(uint32_t)EPOLLIN;
	worker_watch(c->w, c->cx.fd, &c->evc, &c->ev_c, wc);
	worker_watch(c->w, c->ux.fd, &c->evu, &c->ev_u, wu);
	if (c->state == CONN_CONNECT)
		worker_watch(c->w, c->alt_fd, &c->eva, &c->ev_a, EPOLLOUT);
}

static void conn_run_events(struct conn *c)
{
	bool progress;
	int rounds = 0;

	do {
		switch (c->state) {
		case CONN_SNIFF:
			progress = step_sniff(c);
			break;
		case CONN_TLS_ACCEPT:
			progress = step_tls_accept(c);
			break;
		case CONN_HEAD:
			progress = step_head(c);
			break;
		case CONN_DISCARD:
			progress = step_discard(c);
			break;
		case CONN_CONNECT:
			progress = step_connect(c);
			break;
		case CONN_UP_TLS:
			progress = step_up_tls(c);
			break;
		case CONN_EXCHANGE:
			progress = step_exchange(c);
			break;
		case CONN_TUNNEL:
			progress = step_tunnel(c);
			break;
		case CONN_SPLICE:
			progress = step_splice(c);
			break;
		case CONN_FLUSH_CLOSE:
			progress = step_flush_close(c);
			break;
		default:
			progress = false;
			break;
		}
		/* Flush what a step queued for the client, whatever the state. */
		if (c->state != CONN_DEAD && c->cout.len && c->state != CONN_EXCHANGE &&
		    c->state != CONN_TUNNEL && c->state != CONN_SPLICE &&
		    c->state != CONN_FLUSH_CLOSE) {
			ssize_t r = flush(&c->cx, &c->cout);

			if (r > 0)
				progress = true;
			else if (r != -EAGAIN)
				conn_close(c, "the client went away");
		}
	} while (progress && c->state != CONN_DEAD && ++rounds < 1000);
	if (c->state != CONN_DEAD)
		update_interest(c);
}

static void conn_run(struct conn *c)
{
	conn_run_events(c);
}

void conn_event(struct conn *c, bool upstream, uint32_t events)
{
	char b;

	if (c->state == CONN_DEAD)
		return;
	if (!upstream && c->state == CONN_DECIDE && (events & (EPOLLHUP | EPOLLERR))) {
		conn_close(c, "the client went away while its request was being decided");
		return;
	}
	if (upstream && (c->state == CONN_HEAD || c->state == CONN_SNIFF ||
			 c->state == CONN_DISCARD || c->state == CONN_DECIDE)) {
		/* An idle kept upstream spoke or closed: it cannot be reused. */
		if (recv(c->ux.fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) != -1 || errno != EAGAIN) {
			xport_close(&c->ux);
			c->ev_u = WATCH_NONE;
			c->up_key[0] = '\0';
		}
	}
	conn_run_events(c);
}

void conn_timeout(struct conn *c)
{
	char why[320];

	switch (c->state) {
	case CONN_CONNECT:
		if (util_now_ms() < c->connect_deadline) {
			/* No answer yet: race the next address (happy eyeballs). */
			if (c->alt_fd < 0 && c->ux.fd >= 0 && start_attempt(c) == 0)
				log_debug("%s: racing another address of %s", c->who, c->uhost);
			connect_deadline(c);
			conn_run(c);
			return;
		}
		upstream_failed(c, 504, "timed out connecting to the upstream");
		break;
	case CONN_WAIT_UP:
		if (c->head)
			c->head->owner = NULL;
		c->head = NULL;
		upstream_failed(c, 504, "timed out connecting to the upstream");
		break;
	case CONN_RESOLVE:
		snprintf(why, sizeof(why),
			 "looking up %s took too long (is the host's DNS answering?)", c->uhost);
		upstream_failed(c, 504, why);
		break;
	case CONN_UP_TLS:
		upstream_failed(c, 504, "timed out connecting to the upstream");
		break;
	case CONN_EXCHANGE:
		if (!c->resp_head_done && !c->req_done && c->uout.len == 0) {
			/* Everything the client sent is out: it is the one that stopped. */
			request_timeout(c, "the request body stalled: the client sent nothing "
					   "more in time");
			break;
		}
		if (!c->resp_head_done) {
			upstream_failed(c, 504,
					c->req_done
					    ? "the upstream did not answer in time"
					    : "the upstream stopped reading the request body");
			break;
		}
		log_info("%s %s from %s: the response stalled (nothing either way for %u s); "
			 "closing",
			 c->method, c->url, c->who, c->w->p->cfg.idle_timeout_ms / 1000);
		conn_close(c, "idle too long");
		return;
	case CONN_DECIDE:
		/* The policy's own timeouts come first; this one guards against losing the answer. */
		proxy_decide_cancel(c);
		c->verdict = VERDICT_DENY;
		c->verdict_by = policy_asks_person(c->w->p->cfg.policy) ? "person" : "program";
		snprintf(c->verdict_text, sizeof(c->verdict_text),
			 "no second opinion arrived in time");
		c->n_requests--;
		conn_set_state(c, CONN_HEAD);
		set_deadline(c, c->w->p->cfg.header_timeout_ms);
		conn_run(c);
		return;
	case CONN_HEAD:
		if (c->cin.len > 0) {
			/* No request yet: not the one before it on this connection, either. */
			c->method[0] = c->url[0] = '\0';
			snprintf(why, sizeof(why),
				 "the request head did not arrive in time (%u s allowed)",
				 c->w->p->cfg.header_timeout_ms / 1000);
			request_timeout(c, why);
			break;
		}
		if (c->idle_end && util_now_ms() < c->idle_end) {
			conn_trim(c);
			c->deadline = c->idle_end;
			return;
		}
		conn_close(c, "idle");
		return;
	case CONN_SNIFF:
		if (util_now_ms() < c->sniff_deadline) {
			if (c->sniff_wait) {
				c->sniff_wait = false;
				c->deadline = c->sniff_deadline;
			} else if (c->stream_rule && !c->sniff_done) {
				/* Silent: a protocol whose server speaks first. */
				start_stream(c, c->dname, c->dport, c->stream_rule,
					     c->stream_rule_any, "tcp");
			} else if (!c->sniff_done && c->dport != 80 && c->dport != 443 &&
				   dry_run_stream(c, "it sent nothing (waiting for the server to "
						     "speak first?)")) {
				/* spliced, as a stream rule would have it */
			} else if (!c->sniff_done && !c->silent_hint && c->dport != 80 &&
				   c->dport != 443) {
				/*
				 * Said now, not when the client gives up; it may still speak. Not on
				 * the web's ports, where clients open connections ahead of need.
				 */
				c->silent_hint = true;
				c->deadline = c->sniff_deadline;
				log_warn(
				    "%s has sent nothing to %s port %u for %u ms: if it waits for "
				    "the server to speak first (ssh, SMTP, a database), it needs "
				    "--allow \"domain=%s port=%u\"",
				    c->who, c->dname, c->dport, SERVER_FIRST_MS, c->dname,
				    c->dport);
			} else {
				c->deadline = c->sniff_deadline;
			}
			if (c->state != CONN_DEAD)
				conn_run(c);
			return;
		}
		if (c->silent_hint) {
			refuse_stream(c, "it sent nothing in time (waiting for the server to speak "
					 "first?)");
			return;
		}
		log_info("%s (to %s): %s in %u s; closing", c->who, c->orig_str,
			 c->sniff_done ? "no whole request head arrived" : "nothing arrived",
			 c->w->p->cfg.header_timeout_ms / 1000);
		conn_close(c, "nothing arrived in time");
		return;
	default:
		log_info("%s (to %s): timed out in state %s; closing", c->who, c->orig_str,
			 state_name(c->state));
		conn_close(c, "timed out");
		return;
	}
	if (c->state != CONN_DEAD) {
		set_deadline(c, 5000);
		conn_run(c);
	}
}

struct conn *conn_new(struct worker *w, int fd, enum proxy_listener_kind kind)
{
	struct conn *c = conn_alloc(w, fd, kind);
	const struct proxy *p = w->p;

	if (!c)
		return NULL;
	http1_chunked_init(&c->req_chunk);
	http1_chunked_init(&c->resp_chunk);
	snprintf(c->who, sizeof(c->who), "a client");
	snprintf(c->orig_str, sizeof(c->orig_str), "-");
	if (kind == PROXY_JAIL &&
	    (!p->cfg.orig || p->cfg.orig(p->cfg.orig_arg, fd, &c->orig) < 0)) {
		if (p->cfg.jail_only) {
			/* Nothing allocated yet but c itself; the caller closes fd. */
			log_info("refused a connection no jailed process made: the listener is on "
				 "the host's loopback, where any process can dial it");
			free(c);
			return NULL;
		}
		/*
		 * No record: the client dialled the listener itself (127.0.0.1:PORT inside the
		 * jail, where loopback is not redirected), as a program told HTTP_PROXY does. It is
		 * served as an explicit proxy client, under the same rules.
		 */
		c->kind = kind = PROXY_EXPLICIT;
		snprintf(c->who, sizeof(c->who), "an explicit proxy client");
	}
	if (kind == PROXY_EXPLICIT && util_peer_str(fd, c->client, sizeof(c->client)) == 0)
		snprintf(c->who, sizeof(c->who), "%s", c->client);
	if (kind == PROXY_JAIL) {
		c->have_orig = true;
		snprintf(c->who, sizeof(c->who), "%s[%u]", c->orig.comm, c->orig.pid);
		if (util_addr_str((const struct sockaddr *)&c->orig.dst, true, c->orig_str,
				  sizeof(c->orig_str)) < 0)
			snprintf(c->orig_str, sizeof(c->orig_str), "-");
	}
	conn_link(c);
	log_debug("%s connected (to %s)", c->who, c->orig_str);
	if (kind == PROXY_JAIL)
		dialled_name(c);
	sniff_begin(c);
	conn_run(c);
	return c;
}

void conn_close(struct conn *c, const char *reason)
{
	struct worker *w = c->w;

	if (c->state == CONN_DEAD)
		return;
	log_debug("%s: closed: %s", c->who, reason);
	if (c->audit_open) {
		c->audit_open = false;
		audit(c, "end", "allow", NULL, reason, c->resp_head_done ? c->resp.status : 0);
	}
	proxy_resolve_cancel(c);
	proxy_decide_cancel(c);
	if (c->head) /* a head start outlives its client: it goes to the pool */
		c->head->owner = NULL;
	if (c->owner)
		c->owner->head = NULL;
	c->head = c->owner = NULL;
	/* Between requests the upstream connection is idle: another client may use it. */
	if ((c->state == CONN_HEAD || c->state == CONN_DECIDE) && c->ux.fd >= 0 && c->up_key[0])
		pool_put(c);
	xport_close(&c->cx);
	xport_close(&c->ux);
	close_alt(c);
	if (c->prev)
		c->prev->next = c->next;
	else
		w->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	conn_set_state(c, CONN_DEAD);
	c->next = w->dead;
	c->prev = NULL;
	w->dead = c;
}

void conn_free(struct conn *c)
{
	buf_fini(&c->cin);
	buf_fini(&c->cout);
	buf_fini(&c->uin);
	buf_fini(&c->uout);
	free(c->path);
	if (c->ai)
		freeaddrinfo(c->ai);
	ruleset_unref(c->rs);
	free(c);
}
