// SPDX-License-Identifier: MIT
/*
 * exchange.c: the HTTP/1.1 exchange on a connection: the request head read and judged (the
 * rules are asked through decide.c), the head rewritten for the upstream (hop-by-hop fields
 * dropped, the normalised path), the response head read back and rewritten, both bodies moved
 * through bounded buffers, and the responses boundary writes itself (400, 408, 403 ...). It
 * does not own the connection (conn.c) or the upstream connection (upstream.c).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "proxy/conn.h"
#include "proxy/h2.h"
#include "proxy/log.h"
#include "proxy/util.h"
#include "rules/rules.h"

static void wait_next_request(struct conn *c);

/* --- responses boundary writes itself ------------------------------------------------------ */

void exchange_respond(struct conn *c, int code, const char *reason, const char *body, bool close)
{
	char head[512];
	int n;

	if (c->cx.pipe) {
		h2_respond(c, code, reason, body);
		return;
	}
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

static void bad_request(struct conn *c, const char *why)
{
	char body[512];

	log_warn("refused a malformed request from %s: %s", c->who, why);
	snprintf(body, sizeof(body), "boundary refused a malformed request: %s\n", why);
	exchange_respond(c, 400, "Bad Request", body, true);
}

/*
 * 408 for a client too slow to finish what it started (a request head, a request body), then
 * close: the upstream, if it was sent part of the request, cannot be reused.
 */
void exchange_request_timeout(struct conn *c, const char *why)
{
	char body[512];

	if (c->url[0])
		log_warn("%s %s from %s: 408: %s", c->method, c->url, c->who, why);
	else
		log_warn("%s (to %s): 408: %s", c->who, c->orig_str, why);
	if (c->audit_open) {
		c->audit_open = false;
		decide_audit(c, "end", "allow", NULL, why, 408);
	}
	xport_close(&c->ux);
	upstream_close_alt(c);
	c->ev_u = LOOP_WATCH_NONE;
	c->up_key[0] = '\0';
	snprintf(body, sizeof(body), "boundary gave up waiting for the client: %s\n", why);
	exchange_respond(c, 408, "Request Timeout", body, true);
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
	    "connection", "keep-alive",		 "proxy-connection",   "te",
	    "upgrade",	  "proxy-authorization", "proxy-authenticate", "http2-settings"};
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

/*
 * Copies the end-to-end fields of hdr[0..n) to b (the hop-by-hop ones stay behind), through the
 * secrets of c's request (request) or response when it has any, and notes the Upgrade field's
 * value in *upg and, unless has_host is NULL, whether a Host field was among them. Returns 0,
 * or -E2BIG when b is full.
 */
static int put_end_to_end(struct conn *c, bool request, struct buf *b,
			  const struct http1_header *hdr, size_t n, struct slice *upg,
			  bool *has_host)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (slice_ieq(hdr[i].name, "upgrade"))
			*upg = hdr[i].value;
		if (hop_by_hop(hdr, n, hdr[i].name) ||
		    (request && decide_correlate_drop(c, hdr[i].name)))
			continue;
		if (has_host && slice_ieq(hdr[i].name, "host"))
			*has_host = true;
		if (!c->sx) {
			if (put_header(b, &hdr[i]) < 0)
				return -E2BIG;
		} else if (!secretx_drop_field(c, hdr[i].name, request) &&
			   secretx_put_field(c, b, &hdr[i], request) < 0) {
			return -E2BIG;
		}
	}
	return c->sx ? secretx_put_extra(c, b, request) : 0;
}

/*
 * The request as the upstream sees it: origin-form (absolute-form to the upstream proxy), the
 * judged Host, no hop-by-hop fields (the client's own Proxy-Authorization among them).
 */
static int write_request_head(struct conn *c)
{
	const struct http1_req *r = &c->req;
	struct slice upg = {NULL, 0};
	bool has_host = false;

	upchain_route(c);
	/* Appended, not formatted: these two lines are on every request's path. */
	if (buf_append(&c->uout, c->method, strlen(c->method)) < 0 ||
	    buf_append(&c->uout, " ", 1) < 0 || upchain_put_origin(c, &c->uout) < 0)
		return -E2BIG;
	if (!c->sx) {
		if (buf_append(&c->uout, c->path, c->path_len) < 0 ||
		    buf_append(&c->uout, " HTTP/1.1\r\n", 11) < 0)
			return -E2BIG;
	} else if (secretx_put_target(c, &c->uout) < 0 || put(&c->uout, " HTTP/1.1\r\n") < 0) {
		return -E2BIG;
	}
	if (put_end_to_end(c, true, &c->uout, r->hdr, r->n_hdr, &upg, &has_host) < 0)
		return -E2BIG;
	if (!has_host && put(&c->uout, "Host: %s\r\n", c->host) < 0)
		return -E2BIG;
	if (c->upgrade &&
	    put(&c->uout, "Connection: upgrade\r\nUpgrade: %.*s\r\n", (int)upg.len, upg.p) < 0)
		return -E2BIG;
	if (decide_correlate_put(c, &c->uout) < 0 || upchain_put_auth(c, &c->uout) < 0)
		return -E2BIG;
	return buf_append(&c->uout, "\r\n", 2);
}

/* "HTTP/1.1 NNN ", appended rather than formatted: it begins every response. */
static int put_status(struct buf *b, int status)
{
	char line[] = "HTTP/1.1 000 ";

	if (status < 100 || status > 999)
		return put(b, "HTTP/1.1 %d ", status);
	line[9] = (char)('0' + status / 100);
	line[10] = (char)('0' + status / 10 % 10);
	line[11] = (char)('0' + status % 10);
	return buf_append(b, line, sizeof(line) - 1);
}

static int write_response_head(struct conn *c, const struct http1_resp *r)
{
	struct slice upg = {NULL, 0};

	if (!c->sx) {
		if (put_status(&c->cout, r->status) < 0 ||
		    buf_append(&c->cout, r->reason.p, r->reason.len) < 0 ||
		    buf_append(&c->cout, "\r\n", 2) < 0)
			return -E2BIG;
	} else if (put_status(&c->cout, r->status) < 0 ||
		   secretx_put_reason(c, &c->cout, r->reason) < 0 || put(&c->cout, "\r\n") < 0) {
		return -E2BIG;
	}
	if (put_end_to_end(c, false, &c->cout, r->hdr, r->n_hdr, &upg, NULL) < 0)
		return -E2BIG;
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
	free(c->retry_head);
	c->retry_head = NULL;
	c->retry_len = 0;
	c->want_h2 = c->h2_retried = false;
	free(c->path);
	c->path = NULL;
	c->path_len = 0;
	c->req_done = c->up_eof = false;
	c->resp_read = CONN_RESP_NO_HEAD;
	c->upgrade = false;
	c->would_deny = false;
	c->decided_by = CONN_DECIDED_BY_RULES;
	c->req_left = c->resp_left = 0;
	c->idle_end = 0;
	secretx_end(c);
	http1_chunked_init(&c->req_chunk);
	http1_chunked_init(&c->resp_chunk);
	c->max_body = 0;
	c->max_body_rule = NULL;
	http1_chunked_init(&c->body_guard);
	c->guarded = 0;
}

/* Whether an Upgrade field asks for h2c, among whatever else. */
static bool upgrade_to_h2c(const struct http1_req *r)
{
	struct slice v = http1_header_get(r->hdr, r->n_hdr, "upgrade");
	size_t i;

	for (i = 0; i + 3 <= v.len; i++)
		if (strncasecmp(v.p + i, "h2c", 3) == 0 &&
		    (i + 3 == v.len || v.p[i + 3] == ',' || v.p[i + 3] == ' ' ||
		     v.p[i + 3] == '\t'))
			return true;
	return false;
}

/* --- max_body ------------------------------------------------------------------------------ */

/*
 * The request in c was allowed, by a rule whose max_body= is limit (0: none) or by the rules
 * program (whose max_tx_bytes counts instead): its limit is noted, and a Content-Length past
 * it is refused at once with 413, before any upstream is chosen or opened. Its body is then
 * read and dropped, as a refused request's is, and the connection serves the next request;
 * unless the client waits for 100 Continue before it sends the body, which then never comes:
 * that connection closes after the 413. Returns true when it refused.
 */
static bool refuse_declared_body(struct conn *c, size_t len, uint64_t limit, const char *rule,
				 const char **why)
{
	const struct http1_req *r = &c->req;

	c->max_body = limit;
	c->max_body_rule = limit ? rule : NULL;
	if (c->decided_by == CONN_DECIDED_BY_PROGRAM) {
		c->max_body = c->verdict_max_body;
		c->max_body_rule = NULL;
	}
	if (!c->max_body || r->body != HTTP1_BODY_LENGTH || r->content_length <= c->max_body)
		return false;
	if (conn_cfg(c)->dry_run) {
		/* --dry-run blocks nothing: the request goes, recorded as one that would not. */
		if (!c->would_deny) {
			snprintf(
			    c->verdict_text, sizeof(c->verdict_text),
			    "its body of %llu bytes (Content-Length) is larger than max_body=, "
			    "%llu bytes, of the rule \"%.300s\"",
			    (unsigned long long)r->content_length, (unsigned long long)c->max_body,
			    rule ? rule : "");
			*why = c->verdict_text;
			c->would_deny = true;
		}
		c->max_body = 0;
		return false;
	}
	buf_consume(&c->cin, len);
	if (r->flags & HTTP1_F_EXPECT_CONTINUE)
		c->client_close = true;
	decide_refuse_body(c, r->content_length, 0, true);
	if (c->state != CONN_FLUSH_CLOSE && c->state != CONN_DEAD)
		conn_set_state(c, CONN_DISCARD);
	return true;
}

/*
 * Whether a chunked request body has gone past c->max_body. Its bytes in cin are read here
 * before the body's mover (or the secrets) take them: a chunk whose size line alone promises
 * more than is left counts at once, so nothing past the limit is ever passed on. Broken framing
 * is left for the mover to find and refuse.
 */
static bool body_over_limit(struct conn *c)
{
	struct http1_chunked *g = &c->body_guard;
	size_t pos;
	ssize_t r;

	if (!c->max_body || c->req_body != HTTP1_BODY_CHUNKED || g->done ||
	    c->guarded >= c->cin.len)
		return false;
	r = http1_chunked_scan(g, buf_head(&c->cin) + c->guarded, c->cin.len - c->guarded, &pos);
	if (r < 0) {
		g->done = true;
		return false;
	}
	c->guarded += (size_t)r;
	return g->data + g->left > c->max_body;
}

/* The request body's bytes passed on to the upstream so far, as the client sent them. */
static uint64_t body_passed_on(const struct conn *c)
{
	if (c->req_body == HTTP1_BODY_LENGTH)
		return c->req.content_length - c->req_left;
	if (c->req_body == HTTP1_BODY_CHUNKED)
		return c->req_chunk.data;
	return 0;
}

/*
 * Ends the upstream side as an abort, not an end: a TCP upstream gets a reset (and no TLS
 * close_notify, which says "all sent"), an HTTP/2 upstream's stream a RST_STREAM (h2pipe_close()
 * resets a stream whose request is unfinished), so the origin never takes the cut body for a
 * whole one. The connection is not kept.
 */
static void abort_upstream(struct conn *c)
{
	struct linger lg = {.l_onoff = 1, .l_linger = 0};

	if (!c->ux.pipe && c->ux.fd >= 0) {
		if (c->ux.ssl)
			SSL_set_quiet_shutdown(c->ux.ssl, 1);
		if (setsockopt(c->ux.fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) == -1)
			log_debug("%s: SO_LINGER on the upstream: %s", c->who, strerror(errno));
	}
	xport_close(&c->ux);
	upstream_close_alt(c);
	c->ev_u = LOOP_WATCH_NONE;
	c->up_key[0] = '\0';
	buf_consume(&c->uout, c->uout.len);
	buf_consume(&c->uin, c->uin.len);
}

/*
 * The request body grew past c->max_body: the upstream request is aborted; the client gets 413
 * if no response has begun, and its connection then reads and drops the rest of the body (so
 * it reads the 413 rather than a reset) before the next request; once a response has begun, the
 * client's connection (an HTTP/2 stream: the stream) is closed instead.
 */
static void cut_body(struct conn *c)
{
	bool begun = c->resp_read != CONN_RESP_NO_HEAD;

	abort_upstream(c);
	decide_refuse_body(c, 0, body_passed_on(c), !begun);
	if (begun) {
		conn_close(c, "the request body went past its max_body");
		return;
	}
	if (c->state != CONN_FLUSH_CLOSE && c->state != CONN_DEAD) {
		conn_set_state(c, CONN_DISCARD);
		conn_set_deadline(c, conn_cfg(c)->idle_timeout_ms);
	}
}

/* A complete request head of len bytes is at the front of cin, parsed into c->req. */
static void handle_request(struct conn *c, size_t len)
{
	const struct proxy_config *cfg = conn_cfg(c);
	struct http1_req *r = &c->req;
	struct rules_request rq;
	struct rules_decision d;
	struct slice host, path;
	const char *why = NULL;
	uint16_t port;
	ssize_t leak;
	bool has_body;

	reset_request(c);
	conn_rules_renew(c);
	if (c->uout.len || c->uin.len) {
		/* exchange_done() leaves none: should some remain, it goes nowhere. */
		buf_consume(&c->uout, c->uout.len);
		buf_consume(&c->uin, c->uin.len);
		xport_close(&c->ux);
		c->ev_u = LOOP_WATCH_NONE;
		c->up_key[0] = '\0';
	}
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
		snprintf(c->uhost, sizeof(c->uhost), "%s", c->connect_host);
		if (cfg->n_secrets && (leak = decide_secret_in_name(c, c->connect_host)) >= 0) {
			secretx_refuse(c, (size_t)leak, false);
			return;
		}
		conn_match_host(c, c->host, strlen(c->host), port, RULES_ANY, &d);
		if (d.deny_rule && !cfg->dry_run) {
			decide_refuse_denied(c, d.raw);
			return;
		}
		if (!d.allow && !cfg->policy && !cfg->dry_run) {
			decide_refuse(c, "no rule allows any request to this host");
			return;
		}
		if (d.allow) {
			log_info("ALLOW CONNECT %s from %s (rule: %s)", c->host, c->who, d.raw);
			decide_audit(c, "request", "allow", d.raw, NULL, 200);
		} else {
			/* No rule: each request inside gets the second opinion on its own. */
			log_info(
			    "ALLOW CONNECT %s from %s (no rule allows it: each request inside is "
			    "decided on its own, by %s)",
			    c->host, c->who, cfg->dry_run ? "--dry-run" : "the policy");
			decide_audit(
			    c, "request", "allow", NULL,
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
		conn_sniff_begin(c);
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
		decide_refuse(c,
			      "the request names no host (no Host header and no TLS server name)");
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
	/* A placeholder on its way to a host its secret is not bound to: whatever the rules say. */
	if (cfg->n_secrets && (leak = secretx_check_head(c, len)) >= 0) {
		buf_consume(&c->cin, len);
		secretx_refuse(c, (size_t)leak, false);
		return;
	}
	rules_request_init(&rq, c->method, c->host, c->path, c->path_len, port);
	conn_request_exe(c, &rq);
	rules_match(conn_rules(c), &rq, &d);
	if (d.allow)
		c->verdict = VERDICT_NONE; /* a reload allowed it meanwhile: the answer is moot */
	/* A deny rule is not second-guessed: no program or person is asked to overrule it. */
	if (d.deny_rule && !cfg->dry_run) {
		c->verdict = VERDICT_NONE;
		buf_consume(&c->cin, len);
		if (has_body && (r->flags & HTTP1_F_EXPECT_CONTINUE))
			c->client_close = true;
		decide_refuse_denied(c, d.raw);
		if (c->state != CONN_FLUSH_CLOSE && c->state != CONN_DEAD && has_body)
			conn_set_state(c, CONN_DISCARD);
		return;
	}
	if (!d.allow) {
		switch (decide_second_opinion(c, port, d.reason, &d.raw, &why)) {
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
		decide_refuse(c, why);
		if (c->state != CONN_FLUSH_CLOSE && c->state != CONN_DEAD && has_body)
			conn_set_state(c, CONN_DISCARD);
		return;
	}
	if (refuse_declared_body(c, len, d.max_body, d.raw, &why))
		return;
	if (c->would_deny)
		log_warn("DRY-RUN would deny %s %s from %s: %s (let through: --dry-run)", c->method,
			 c->url, c->who, why);
	else if (c->decided_by != CONN_DECIDED_BY_RULES)
		log_info("ALLOW %s %s from %s (%s: %s)", c->method, c->url, c->who,
			 c->decided_by == CONN_DECIDED_BY_PROGRAM ? "the rules program"
								  : "the person at the terminal",
			 d.raw);
	else
		log_info("ALLOW %s %s from %s (rule: %s)", c->method, c->url, c->who, d.raw);
	/*
	 * The rules decided before the name was resolved: each address is checked against them
	 * before it is connected to (ip=, and no internal address for a wildcard rule). A request
	 * let through by --dry-run, the rules program or the person at the terminal was let
	 * through by its own host's name.
	 */
	c->addr_check = !c->would_deny && c->decided_by == CONN_DECIDED_BY_RULES
			    ? ADDR_CHECK_REQUEST
			    : ADDR_CHECK_NONE;
	c->t_start = util_now_ms();
	c->bytes_up = c->bytes_down = 0;
	decide_audit(c, "request", "allow", d.raw, c->would_deny ? why : NULL, 0);
	c->audit_open = true;

	c->upgrade = (r->flags & HTTP1_F_UPGRADE) != 0;
	if (c->upgrade && upgrade_to_h2c(r)) {
		/*
		 * An upgrade to HTTP/2 would take the streams after it past the rules: answered as
		 * HTTP/1.1 instead (RFC 9113 drops h2c upgrades too). Prior knowledge works.
		 */
		log_debug("%s %s from %s: Upgrade: h2c ignored; answered as HTTP/1.1", c->method,
			  c->url, c->who);
		c->upgrade = false;
	}
	if (cfg->n_secrets && secretx_begin(c) < 0) {
		buf_consume(&c->cin, len);
		conn_close(c, "out of memory");
		return;
	}
	if (write_request_head(c) < 0) {
		/* Its "request" record said allow: the exchange it opened ends here, unsent. */
		c->audit_open = false;
		decide_audit(c, "end", "allow", NULL, "the request head is too large to forward",
			     400);
		buf_consume(&c->cin, len);
		buf_consume(&c->uout, c->uout.len);
		bad_request(c, "the request head is too large to forward");
		return;
	}
	buf_consume(&c->cin, len);
	/*
	 * Kept until the answer begins, should the upstream turn out to speak only HTTP/2, or
	 * refuse its stream unread (an HTTP/2 upstream going away).
	 */
	if (!c->upgrade && c->req_body == HTTP1_BODY_NONE &&
	    (c->retry_head = malloc(c->uout.len))) {
		memcpy(c->retry_head, buf_head(&c->uout), c->uout.len);
		c->retry_len = c->uout.len;
	}
	upstream_start(c);
}

/* --- the states ---------------------------------------------------------------------------- */

bool exchange_step_head(struct conn *c)
{
	size_t pos = 0;
	ssize_t r;

	/* HTTP/2 with prior knowledge (h2c, or TLS without ALPN): its preface, not a request. */
	if (c->n_requests == 0 && !c->cx.pipe && c->cin.len > 0 && buf_head(&c->cin)[0] == 'P') {
		size_t m = c->cin.len < H2_PREFACE_LEN ? c->cin.len : H2_PREFACE_LEN;

		if (memcmp(buf_head(&c->cin), H2_PREFACE, m) == 0) {
			if (m == H2_PREFACE_LEN)
				return h2_serve(c) == 0;
			goto more;
		}
	}
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
more:
	r = conn_fill(&c->cx, &c->cin);
	if (r > 0) {
		if (c->idle_end) {
			/* The next head has begun: it has the header timeout, not the idle one. */
			c->idle_end = 0;
			conn_set_deadline(c, conn_cfg(c)->header_timeout_ms);
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

bool exchange_step_discard(struct conn *c)
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
	r = conn_fill(&c->cx, &c->cin);
	if (r > 0)
		return true;
	if (r == 0 || r != -EAGAIN)
		conn_close(c, "client closed");
	return false;
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
	if (c->sx)
		secretx_response_begin(c, r);
	if (write_response_head(c, r) < 0) {
		upstream_failed(c, 502, "the response head is too large");
		return false;
	}
	buf_consume(&c->uin, len);
	c->resp_read = CONN_RESP_IN_BODY;
	if (r->status == 101) {
		if (c->sx)
			secretx_tunnel_begin(c);
		conn_set_state(c, CONN_TUNNEL);
		c->deadline = 0;
		return true;
	}
	if (r->body == HTTP1_BODY_NONE)
		c->resp_read = CONN_RESP_ALL_READ;
	conn_set_deadline(c, conn_cfg(c)->idle_timeout_ms);
	return true;
}

/* Waits for the next request head: closed after the idle timeout, trimmed well before. */
static void wait_next_request(struct conn *c)
{
	uint64_t now = util_now_ms();

	reset_request(c);
	conn_set_state(c, CONN_HEAD);
	if (c->cin.len > 0) {
		/* A pipelined head, whole or begun: it has the header timeout. */
		conn_set_deadline(c, conn_cfg(c)->header_timeout_ms);
		return;
	}
	c->idle_end = now + conn_cfg(c)->idle_timeout_ms;
	c->deadline = now + IDLE_TRIM_MS < c->idle_end ? now + IDLE_TRIM_MS : c->idle_end;
}

static void exchange_done(struct conn *c)
{
	decide_audit_end(c, c->resp.status);
	bool reuse = !c->up_eof && c->resp_body != HTTP1_BODY_UNTIL_CLOSE &&
		     !(c->resp.flags & HTTP1_F_CLOSE) && c->req_done;

	/*
	 * What is left belongs to this exchange alone: the end of a body the upstream answered
	 * before it took all of it, bytes the upstream sent past its response. Neither may reach
	 * the next request's upstream or client, so the upstream connection ends with them.
	 */
	if (c->uout.len || c->uin.len) {
		reuse = false;
		buf_consume(&c->uout, c->uout.len);
		buf_consume(&c->uin, c->uin.len);
	}
	if (!reuse) {
		xport_close(&c->ux);
		c->ev_u = LOOP_WATCH_NONE;
		c->up_key[0] = '\0';
	}
	if (c->client_close || !c->req_done || c->cx.pipe) {
		/* The client (or the stream) is done; its upstream connection may serve another. */
		if (c->req_done)
			upstream_pool_put(c);
		conn_close(c, "done");
		return;
	}
	wait_next_request(c);
}

/*
 * Whether the upstream answered c's HTTP/1.1 request as a server of HTTP/2 alone does: with
 * HTTP/2's first frame (SETTINGS on stream 0), or by closing without a word after a TLS
 * handshake that chose no protocol (gRPC servers do, when a client does not offer h2).
 */
static bool answers_as_h2(const struct conn *c)
{
	const unsigned char *b = (const unsigned char *)buf_head(&c->uin);
	const unsigned char *alpn = NULL;
	unsigned int alpn_len = 0;

	if (c->ux.pipe || !c->retry_head)
		return false;
	if (c->uin.len >= 9)
		return b[3] == 4 && (b[4] & ~1u) == 0 && !b[5] && !b[6] && !b[7] && !b[8] &&
		       (((unsigned)b[0] << 16 | (unsigned)b[1] << 8 | b[2]) % 6) == 0;
	if (c->uin.len > 0 || !c->up_eof || !c->ux.ssl || c->up_pooled)
		return false;
	SSL_get0_alpn_selected(c->ux.ssl, &alpn, &alpn_len);
	return alpn_len == 0;
}

bool exchange_step(struct conn *c)
{
	bool progress = false, all_read = false;
	size_t pos = 0;
	ssize_t r;

	/* request head and body, to the upstream (unless held while the body is looked at) */
	r = secretx_hold(c) ? -EAGAIN : conn_flush(&c->ux, &c->uout);
	if (r > 0) {
		progress = true;
		c->bytes_up += (uint64_t)r;
	} else if (r != -EAGAIN) {
		upstream_failed(c, 502, "the upstream closed the connection");
		return false;
	}
	if (!c->req_done) {
		size_t before = c->cin.len;

		if (body_over_limit(c)) {
			if (!conn_cfg(c)->dry_run) {
				cut_body(c);
				return false;
			}
			/* --dry-run blocks nothing: said once, and the body goes on. */
			log_warn(
			    "DRY-RUN would cut %s %s from %s: its body grew past max_body=, %llu "
			    "bytes, of the rule \"%s\" (let through: --dry-run)",
			    c->method, c->url, c->who, (unsigned long long)c->max_body,
			    c->max_body_rule ? c->max_body_rule : "");
			c->max_body = 0;
		}
		if (secretx_request_body(c))
			r = secretx_move_request(c, &c->req_done);
		else
			r = move_body(&c->cin, &c->uout, c->req_body, &c->req_left, &c->req_chunk,
				      &c->req_done);
		/* what the mover took from the front of cin is behind the guard too */
		c->guarded -= before - c->cin.len < c->guarded ? before - c->cin.len : c->guarded;
		if (r == -EPERM) {
			secretx_refuse(c, secretx_refused(c),
				       c->bytes_up > 0 || c->resp_read != CONN_RESP_NO_HEAD);
			return false;
		}
		if (r < 0) {
			bad_request(c, "malformed request body (chunked framing)");
			return false;
		}
		if (r > 0)
			progress = true;
		if (!c->req_done && buf_room(&c->cin) > 0) {
			r = conn_fill(&c->cx, &c->cin);
			if (r > 0) {
				progress = true;
				/* An upload that moves is not a silent upstream: idle rules. */
				if (c->resp_read == CONN_RESP_NO_HEAD)
					conn_set_deadline(c, conn_cfg(c)->idle_timeout_ms);
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
		if (c->req_done && c->resp_read == CONN_RESP_NO_HEAD)
			conn_set_deadline(c, conn_cfg(c)->response_timeout_ms);
	}
	/* response, from the upstream */
	if (c->resp_read != CONN_RESP_ALL_READ && !c->up_eof && buf_room(&c->uin) > 0) {
		r = conn_fill(&c->ux, &c->uin);
		if (r > 0) {
			progress = true;
			conn_set_deadline(c, c->resp_read != CONN_RESP_NO_HEAD
						 ? conn_cfg(c)->idle_timeout_ms
						 : conn_cfg(c)->response_timeout_ms);
		} else if (r == 0) {
			c->up_eof = true;
			progress = true;
		} else if (r == -ECONNREFUSED && c->resp_read == CONN_RESP_NO_HEAD &&
			   upstream_retry_refused(c)) {
			return c->state != CONN_DEAD;
		} else if (r != -EAGAIN) {
			c->up_eof = true;
			progress = true;
		}
	}
	if (c->resp_read == CONN_RESP_NO_HEAD && c->uin.len > 0) {
		if (answers_as_h2(c) && upstream_retry_h2(c))
			return c->state != CONN_DEAD;
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
			if (upchain_refused_response(c))
				return false;
			if (!handle_response_head(c, (size_t)r))
				return false;
			if (c->state == CONN_TUNNEL)
				return true;
			progress = true;
		}
	}
	if (c->resp_read == CONN_RESP_NO_HEAD && c->up_eof) {
		if (answers_as_h2(c) && upstream_retry_h2(c))
			return c->state != CONN_DEAD;
		upstream_failed(c, 502, "the upstream closed the connection without answering");
		return false;
	}
	if (c->resp_read == CONN_RESP_IN_BODY) {
		if (secretx_response_body(c))
			r = secretx_move_response(c, &all_read);
		else
			r = move_body(&c->uin, &c->cout, c->resp_body, &c->resp_left,
				      &c->resp_chunk, &all_read);
		if (all_read)
			c->resp_read = CONN_RESP_ALL_READ;
		if (r < 0) {
			conn_close(c, "the upstream's response body is malformed");
			return false;
		}
		if (r > 0)
			progress = true;
		if (c->resp_read != CONN_RESP_ALL_READ && c->up_eof && c->uin.len == 0) {
			if (c->resp_body == HTTP1_BODY_UNTIL_CLOSE) {
				/* Through the secrets, the end is theirs to find: bytes wait there. */
				if (!secretx_response_body(c))
					c->resp_read = CONN_RESP_ALL_READ;
			} else {
				/* Cut short: the client must see the connection end, not a hang. */
				log_warn("%s %s from %s: the upstream closed in the middle of its "
					 "response (%llu bytes passed on); closing the client's "
					 "connection",
					 c->method, c->url, c->who,
					 (unsigned long long)c->bytes_down);
				c->client_close = true;
				c->resp_read = CONN_RESP_ALL_READ;
				c->req_done = false;
			}
		}
	}
	/* to the client */
	r = conn_flush(&c->cx, &c->cout);
	if (r > 0) {
		progress = true;
		c->bytes_down += (uint64_t)r;
	} else if (r != -EAGAIN) {
		conn_close(c, "the client went away");
		return false;
	}
	if (c->resp_read == CONN_RESP_ALL_READ && c->cout.len == 0 &&
	    (c->req_done || c->client_close)) {
		exchange_done(c);
		return c->state != CONN_DEAD;
	}
	return progress;
}
