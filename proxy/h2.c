// SPDX-License-Identifier: MIT
/*
 * h2.c: HTTP/2 sessions on both sides of the proxy (h2.h), with libnghttp2 for the frames.
 *
 * A session lives on a connection of its own: a jailed client's (CONN_H2: nghttp2 as server,
 * its socket cx) or an upstream's (CONN_H2_UP: nghttp2 as client, its socket ux). Each stream
 * is a pipe between the session and one connection with no socket (conn.h), which reads and
 * writes it as HTTP/1.1:
 *
 *   client --h2--> CONN_H2 --pipe: "GET /x HTTP/1.1 ..."--> stream's conn (exchange.c: rules,
 *   secrets, audit) --> upstream: HTTP/1.1 on a socket, or a pipe into a CONN_H2_UP session
 *
 * Toward the stream's connection a pipe gives the peer's head (made into HTTP/1.1: the
 * pseudo-fields become the request or status line, Host; a body without a length is chunked,
 * which carries trailers too) and then its DATA. From the connection it takes an HTTP/1.1 head
 * (parsed by http1.c, so it is the same strict parser) and body, and sends them as HEADERS,
 * DATA and trailers. Flow control stays bounded: a stream's received DATA is acknowledged
 * (WINDOW_UPDATE) only as its connection reads it, and a stream's outgoing DATA waits in a
 * buffer of H2_WINDOW bytes, so a slow reader slows its own stream and nothing else.
 *
 * The session only ever marks what changed and kicks the connections concerned (conn_kick());
 * they run after the current event, never inside nghttp2's callbacks. Upstream sessions (how a
 * stream's connection gets one, and their answers made HTTP/1.1) are h2up.c's.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <nghttp2/nghttp2.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "proxy/h2int.h"
#include "proxy/log.h"
#include "proxy/util.h"

/* --- small things -------------------------------------------------------------------------- */

void h2_sess_kick(struct h2sess *s)
{
	if (s && s->c)
		conn_kick(s->c);
}

void h2_pipe_kick(struct h2pipe *p)
{
	if (p->k)
		conn_kick(p->k);
}

int h2_put(struct buf *b, const char *s, size_t n)
{
	return buf_append(b, s, n);
}

int h2_puts(struct buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

struct h2pipe *h2_pipe_new(struct h2sess *s)
{
	struct h2pipe *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->s = s;
	buf_init(&p->hb, H2_MAX_HEADERS + 1024);
	buf_init(&p->cookie, H2_MAX_HEADERS);
	buf_init(&p->head, CONN_OUT_BUF);
	buf_init(&p->body, 2 * STREAM_BUF);
	buf_init(&p->trailers, HTTP1_TRAILER_MAX);
	buf_init(&p->raw, CONN_MAX_HEAD);
	buf_init(&p->data, STREAM_BUF);
	http1_chunked_init(&p->och);
	p->next = s->pipes;
	if (s->pipes)
		s->pipes->prev = p;
	s->pipes = p;
	s->n_pipes++;
	return p;
}

static void pipe_unlink(struct h2pipe *p)
{
	struct h2sess *s = p->s;

	if (!s)
		return;
	if (p->prev)
		p->prev->next = p->next;
	else
		s->pipes = p->next;
	if (p->next)
		p->next->prev = p->prev;
	p->next = p->prev = NULL;
	s->n_pipes--;
	if (p->id && s->ng)
		nghttp2_session_set_stream_user_data(s->ng, p->id, NULL);
	p->s = NULL;
}

static void pipe_free(struct h2pipe *p)
{
	struct buf *b[] = {&p->hb, &p->cookie, &p->head, &p->body, &p->trailers, &p->raw, &p->data};
	size_t i;

	pipe_unlink(p);
	for (i = 0; i < sizeof(b) / sizeof(b[0]); i++) {
		/* A stream's bytes may have held a secret's value: zeroed like the connection's. */
		b[i]->wipe = p->wipe;
		buf_fini(b[i]);
	}
	free(p->path);
	free(p->otr);
	free(p);
}

bool h2_connection_specific(const char *name, size_t n)
{
	static const char *const drop[] = {
	    "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade",
	    "te",	  "host",	"http2-settings"};
	size_t i;

	for (i = 0; i < sizeof(drop) / sizeof(drop[0]); i++)
		if (strlen(drop[i]) == n && strncasecmp(name, drop[i], n) == 0)
			return true;
	return false;
}

/* --- nghttp2's callbacks: both sides ------------------------------------------------------- */

static ssize_t on_send(nghttp2_session *ng, const uint8_t *data, size_t len, int flags, void *u)
{
	struct h2sess *s = u;
	struct buf *b = s->server ? &s->c->cout : &s->c->uout;
	size_t room = buf_room(b);

	(void)ng;
	(void)flags;
	if (room == 0)
		return NGHTTP2_ERR_WOULDBLOCK;
	if (len > room)
		len = room;
	if (buf_append(b, data, len) < 0)
		return NGHTTP2_ERR_WOULDBLOCK;
	return (ssize_t)len;
}

static struct h2pipe *stream_pipe(struct h2sess *s, int32_t id)
{
	return id ? nghttp2_session_get_stream_user_data(s->ng, id) : NULL;
}

static int on_header(nghttp2_session *ng, const nghttp2_frame *f, const uint8_t *name,
		     size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags, void *u)
{
	struct h2sess *s = u;
	struct h2pipe *p = stream_pipe(s, f->hd.stream_id);
	const char *n = (const char *)name, *v = (const char *)value;
	bool trailers;

	(void)ng;
	(void)flags;
	if (!p)
		return 0;
	p->hdr_bytes += namelen + valuelen + 32;
	if (p->hdr_bytes > H2_MAX_HEADERS) {
		log_warn("%s: an HTTP/2 header list over %u KiB: stream %d refused", s->c->who,
			 H2_MAX_HEADERS / 1024, f->hd.stream_id);
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	}
	trailers = p->n_blocks > 0;
	if (namelen > 0 && n[0] == ':') {
		if (trailers)
			return 0;
		if (namelen == 7 && memcmp(n, ":method", 7) == 0)
			snprintf(p->method, sizeof(p->method), "%.*s", (int)valuelen, v);
		else if (namelen == 7 && memcmp(n, ":scheme", 7) == 0)
			snprintf(p->scheme, sizeof(p->scheme), "%.*s", (int)valuelen, v);
		else if (namelen == 10 && memcmp(n, ":authority", 10) == 0)
			snprintf(p->authority, sizeof(p->authority), "%.*s", (int)valuelen, v);
		else if (namelen == 5 && memcmp(n, ":path", 5) == 0) {
			free(p->path);
			p->path = strndup(v, valuelen);
			if (!p->path)
				return NGHTTP2_ERR_CALLBACK_FAILURE;
		} else if (namelen == 9 && memcmp(n, ":protocol", 9) == 0) {
			snprintf(p->protocol, sizeof(p->protocol), "%.*s", (int)valuelen, v);
		} else if (namelen == 7 && memcmp(n, ":status", 7) == 0 && valuelen == 3) {
			/* nghttp2 checked it is three digits */
			p->status = (v[0] - '0') * 100 + (v[1] - '0') * 10 + (v[2] - '0');
		}
		return 0;
	}
	if (trailers) {
		if (h2_put(&p->trailers, n, namelen) < 0 || h2_puts(&p->trailers, ": ") < 0 ||
		    h2_put(&p->trailers, v, valuelen) < 0 || h2_puts(&p->trailers, "\r\n") < 0)
			return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
		return 0;
	}
	if (namelen == 6 && memcmp(n, "cookie", 6) == 0 && s->server) {
		if ((p->cookie.len && h2_puts(&p->cookie, "; ") < 0) ||
		    h2_put(&p->cookie, v, valuelen) < 0)
			return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
		return 0;
	}
	if (namelen == 4 && memcmp(n, "host", 4) == 0) {
		p->has_host = true;
		if (p->authority[0] &&
		    (strlen(p->authority) != valuelen || strncasecmp(p->authority, v, valuelen)))
			p->host_differs = true;
		if (p->authority[0])
			return 0; /* :authority names the host (RFC 9113 8.3.1) */
	}
	if (namelen == 14 && memcmp(n, "content-length", 14) == 0) {
		p->has_cl = true;
		/* An upstream's: given to the request's connection only if the body goes unchunked. */
		if (!s->server) {
			snprintf(p->clen, sizeof(p->clen), "%.*s", (int)valuelen, v);
			return 0;
		}
	}
	if (namelen == 7 && memcmp(n, "trailer", 7) == 0)
		p->trailer_field = true;
	if (namelen == 12 && memcmp(n, "content-type", 12) == 0 && valuelen >= 16 &&
	    strncasecmp(v, "application/grpc", 16) == 0)
		p->grpc = true;
	if (h2_connection_specific(n, namelen) && !(namelen == 4 && !memcmp(n, "host", 4)))
		return 0;
	if (h2_put(&p->hb, n, namelen) < 0 || h2_puts(&p->hb, ": ") < 0 ||
	    h2_put(&p->hb, v, valuelen) < 0 || h2_puts(&p->hb, "\r\n") < 0)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	return 0;
}

static int on_data(nghttp2_session *ng, uint8_t flags, int32_t id, const uint8_t *data, size_t len,
		   void *u)
{
	struct h2sess *s = u;
	struct h2pipe *p = stream_pipe(s, id);

	(void)flags;
	if (!p || !p->k || (!s->server && p->head_req)) {
		/* Nobody reads it: acknowledged at once, so the window stays open. */
		nghttp2_session_consume(ng, id, len);
		return 0;
	}
	if (buf_append(&p->body, data, len) < 0) {
		nghttp2_submit_rst_stream(ng, NGHTTP2_FLAG_NONE, id, NGHTTP2_FLOW_CONTROL_ERROR);
		return 0;
	}
	h2_pipe_kick(p);
	return 0;
}

static int on_stream_close(nghttp2_session *ng, int32_t id, uint32_t error, void *u)
{
	struct h2sess *s = u;
	struct h2pipe *p = stream_pipe(s, id);

	(void)ng;
	if (!p)
		return 0;
	p->closed = true;
	if (!p->in_end || error != NGHTTP2_NO_ERROR)
		p->in_reset = !p->in_end;
	/* Refused unread (a GOAWAY's streams past its last): safe to send again elsewhere. */
	p->refused = error == NGHTTP2_REFUSED_STREAM && !s->server && !p->in_head;
	if (!p->k) {
		pipe_free(p);
		return 0;
	}
	h2_pipe_kick(p);
	return 0;
}

static int on_frame_send(nghttp2_session *ng, const nghttp2_frame *f, void *u)
{
	struct h2sess *s = u;

	(void)ng;
	if (f->hd.type == NGHTTP2_GOAWAY && f->goaway.error_code != NGHTTP2_NO_ERROR)
		log_warn("%s: HTTP/2 connection ended (GOAWAY %s)", s->c->who,
			 nghttp2_http2_strerror(f->goaway.error_code));
	else if (f->hd.type == NGHTTP2_RST_STREAM)
		log_debug("%s: HTTP/2 stream %d reset (%s)", s->c->who, f->hd.stream_id,
			  nghttp2_http2_strerror(f->rst_stream.error_code));
	return 0;
}

static int on_error(nghttp2_session *ng, int code, const char *msg, size_t len, void *u)
{
	struct h2sess *s = u;

	(void)ng;
	(void)code;
	log_debug("%s: HTTP/2: %.*s", s->c->who, (int)len, msg);
	return 0;
}

/* --- the server side: a jailed client's streams -------------------------------------------- */

static int on_begin_headers(nghttp2_session *ng, const nghttp2_frame *f, void *u)
{
	struct h2sess *s = u;
	struct h2pipe *p;

	if (!s->server || f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0;
	p = h2_pipe_new(s);
	if (!p)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	p->id = f->hd.stream_id;
	nghttp2_session_set_stream_user_data(ng, p->id, p);
	return 0;
}

/* A simple answer from boundary itself, when a stream cannot become a request. */
static void stream_answer(struct h2sess *s, struct h2pipe *p, int code, const char *body);

/*
 * A Sec-WebSocket-Key for the upstream (RFC 6455: 16 random bytes, base64): an HTTP/2 client
 * sends none (RFC 8441), and checks no Sec-WebSocket-Accept.
 */
static int websocket_key(char out[25])
{
	unsigned char raw[16];

	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return -EIO;
	return EVP_EncodeBlock((unsigned char *)out, raw, sizeof(raw)) == 24 ? 0 : -EIO;
}

/* The request head as HTTP/1.1, for the stream's connection to read. */
static int request_head(struct h2pipe *p, bool end)
{
	struct buf *b = &p->head;

	if (h2_puts(b, p->method) < 0 || h2_puts(b, " ") < 0 || h2_puts(b, p->path) < 0 ||
	    h2_puts(b, " HTTP/1.1\r\n") < 0)
		return -E2BIG;
	if (p->authority[0] &&
	    (h2_puts(b, "Host: ") < 0 || h2_puts(b, p->authority) < 0 || h2_puts(b, "\r\n") < 0))
		return -E2BIG;
	if (p->hb.len && h2_put(b, buf_head(&p->hb), p->hb.len) < 0)
		return -E2BIG;
	if (p->cookie.len &&
	    (h2_puts(b, "Cookie: ") < 0 || h2_put(b, buf_head(&p->cookie), p->cookie.len) < 0 ||
	     h2_puts(b, "\r\n") < 0))
		return -E2BIG;
	if (p->websocket) {
		/* The DATA that follows is the tunnel's, given as it comes, after the 101. */
		char key[25];

		if (websocket_key(key) < 0 ||
		    h2_puts(b, "Connection: upgrade\r\nUpgrade: websocket\r\n"
			       "Sec-WebSocket-Key: ") < 0 ||
		    h2_puts(b, key) < 0 || h2_puts(b, "\r\n") < 0)
			return -E2BIG;
		end = true;
	}
	/* A body of no stated length goes chunked: the one framing that can carry trailers. */
	p->chunked = !end && !p->has_cl;
	if (p->chunked && h2_puts(b, "Transfer-Encoding: chunked\r\n") < 0)
		return -E2BIG;
	buf_fini(&p->hb);
	buf_fini(&p->cookie);
	return h2_puts(b, "\r\n");
}

/* A connection for stream id of the session on c: no socket, its client side the pipe p. */
static struct conn *stream_conn(struct conn *c, struct h2pipe *p, int id)
{
	struct conn *k = conn_alloc(c->w, -1, c->kind);

	if (!k)
		return NULL;
	k->cx.pipe = p;
	http1_chunked_init(&k->req_chunk);
	http1_chunked_init(&k->resp_chunk);
	k->orig = c->orig;
	k->have_orig = c->have_orig;
	/* the session's program, already looked up for people: not again for every stream */
	snprintf(k->exe, sizeof(k->exe), "%s", c->exe);
	snprintf(k->who, sizeof(k->who), "%s", c->who);
	snprintf(k->client, sizeof(k->client), "%s", c->client);
	snprintf(k->orig_str, sizeof(k->orig_str), "%s", c->orig_str);
	/* The SNI never decides a stream: its :authority does. */
	k->client_tls = c->client_tls;
	k->in_connect = c->in_connect;
	snprintf(k->connect_host, sizeof(k->connect_host), "%s", c->connect_host);
	k->connect_port = c->connect_port;
	snprintf(k->dname, sizeof(k->dname), "%s", c->dname);
	k->dport = c->dport;
	conn_link(k);
	conn_rules_renew(k);
	conn_set_state(k, CONN_HEAD);
	conn_set_deadline(k, conn_cfg(k)->header_timeout_ms);
	log_debug("%s: HTTP/2 stream %d", k->who, id);
	return k;
}

static void start_stream(struct h2sess *s, struct h2pipe *p, bool end)
{
	if (strcmp(p->method, "CONNECT") == 0 && strcasecmp(p->protocol, "websocket") == 0) {
		/* RFC 8441: a WebSocket, judged and sent on as HTTP/1.1's upgrade of GET :path. */
		p->websocket = true;
		snprintf(p->method, sizeof(p->method), "GET");
	} else if (strcmp(p->method, "CONNECT") == 0) {
		stream_answer(s, p, 405,
			      p->protocol[0]
				  ? "boundary tunnels only websocket over HTTP/2's "
				    "extended CONNECT\n"
				  : "boundary does not take CONNECT over HTTP/2: open the "
				    "tunnel over HTTP/1.1\n");
		return;
	}
	if (p->host_differs) {
		stream_answer(s, p, 400,
			      "boundary refused a malformed request: :authority and Host name "
			      "different hosts\n");
		return;
	}
	if (!p->path || !p->method[0]) {
		stream_answer(s, p, 400, "boundary refused a malformed request: no :path\n");
		return;
	}
	p->head_req = strcmp(p->method, "HEAD") == 0;
	if (request_head(p, end) < 0) {
		stream_answer(s, p, 431, "boundary refused a request whose head is too large\n");
		return;
	}
	p->in_head = true;
	p->in_end = end;
	p->k = stream_conn(s->c, p, p->id);
	if (!p->k) {
		nghttp2_submit_rst_stream(s->ng, NGHTTP2_FLAG_NONE, p->id, NGHTTP2_INTERNAL_ERROR);
		return;
	}
	conn_kick(p->k);
}

static int on_frame_recv(nghttp2_session *ng, const nghttp2_frame *f, void *u)
{
	struct h2sess *s = u;
	struct h2pipe *p = stream_pipe(s, f->hd.stream_id);
	bool end = (f->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;

	(void)ng;
	if (f->hd.type == NGHTTP2_GOAWAY) {
		s->goaway = true;
		log_debug("%s: GOAWAY from the peer (%s)", s->c->who,
			  nghttp2_http2_strerror(f->goaway.error_code));
		return 0;
	}
	if (!p || (f->hd.type != NGHTTP2_HEADERS && f->hd.type != NGHTTP2_DATA))
		return 0;
	if (f->hd.type == NGHTTP2_HEADERS) {
		if (s->server && p->n_blocks++ == 0) {
			start_stream(s, p, end);
			return 0;
		}
		if (!s->server) {
			if (p->status >= 100 && p->status < 200) {
				/* An interim answer: only 100 is one the HTTP/1.1 side waits for. */
				if (p->status == 100)
					h2_puts(&p->head, "HTTP/1.1 100 Continue\r\n\r\n");
				buf_consume(&p->hb, p->hb.len);
				p->status = 0;
				return 0;
			}
			if (p->n_blocks++ == 0) {
				if (h2_response_head(p, end) < 0) {
					nghttp2_submit_rst_stream(ng, NGHTTP2_FLAG_NONE,
								  f->hd.stream_id,
								  NGHTTP2_INTERNAL_ERROR);
					return 0;
				}
				p->in_head = true;
			}
		}
	}
	if (end)
		p->in_end = true;
	h2_pipe_kick(p);
	return 0;
}

/* --- reading a pipe: HTTP/1.1 bytes made from the peer's frames ---------------------------- */

ssize_t h2pipe_read(struct h2pipe *p, char *b, size_t n)
{
	char line[24];
	size_t m, hl;

	if (p->k && p->k->sx)
		p->wipe = true;
	if (p->head.len) {
		m = p->head.len < n ? p->head.len : n;
		memcpy(b, buf_head(&p->head), m);
		buf_consume(&p->head, m);
		if (!p->head.len)
			buf_fini(&p->head);
		return (ssize_t)m;
	}
	if (!p->in_head)
		return p->refused ? -ECONNREFUSED : p->in_reset || !p->s ? -ECONNRESET : -EAGAIN;
	if (p->body.len) {
		m = p->body.len;
		if (p->chunked) {
			/* one chunk of what is there and fits: "SIZE\r\n" DATA "\r\n" */
			if (n <= 16)
				return -EAGAIN;
			if (m > n - 16)
				m = n - 16;
			hl = (size_t)snprintf(line, sizeof(line), "%zx\r\n", m);
			memcpy(b, line, hl);
			memcpy(b + hl, buf_head(&p->body), m);
			memcpy(b + hl + m, "\r\n", 2);
		} else {
			if (m > n)
				m = n;
			hl = 0;
			memcpy(b, buf_head(&p->body), m);
		}
		buf_consume(&p->body, m);
		if (p->s && !p->closed) {
			nghttp2_session_consume(p->s->ng, p->id, m);
			h2_sess_kick(p->s);
		}
		return (ssize_t)(hl + m + (p->chunked ? 2 : 0));
	}
	if (p->in_end && !p->in_done) {
		p->in_done = true;
		if (!p->chunked)
			return 0;
		if (n < 5 + p->trailers.len)
			return -EAGAIN;
		memcpy(b, "0\r\n", 3);
		if (p->trailers.len) /* else it was never allocated */
			memcpy(b + 3, buf_head(&p->trailers), p->trailers.len);
		memcpy(b + 3 + p->trailers.len, "\r\n", 2);
		return (ssize_t)(5 + p->trailers.len);
	}
	if (p->in_done)
		return 0;
	if (p->in_reset || !p->s)
		return -ECONNRESET;
	return -EAGAIN;
}

/* --- writing a pipe: HTTP/1.1 from the connection, made into frames ------------------------ */

static ssize_t read_data(nghttp2_session *ng, int32_t id, uint8_t *out, size_t len, uint32_t *flags,
			 nghttp2_data_source *src, void *u)
{
	struct h2pipe *p = src->ptr;
	size_t m = p->data.len < len ? p->data.len : len;

	(void)u;
	if (m) {
		memcpy(out, buf_head(&p->data), m);
		buf_consume(&p->data, m);
		if (p->blocked) {
			p->blocked = false;
			h2_pipe_kick(p);
		}
	}
	if (p->data.len == 0 && p->out == OUT_DONE) {
		*flags |= NGHTTP2_DATA_FLAG_EOF;
		if (p->och.trailers_got) {
			nghttp2_nv nv[64];
			size_t k = 0, i = 0, e, colon, vs;
			const char *t = p->otr;

			while (i < p->och.trailers_got && k < 64) {
				e = i;
				while (e < p->och.trailers_got && t[e] != '\r')
					e++;
				colon = i;
				while (colon < e && t[colon] != ':')
					colon++;
				vs = colon + 1;
				while (vs < e && (t[vs] == ' ' || t[vs] == '\t'))
					vs++;
				if (colon < e && !h2_connection_specific(t + i, colon - i)) {
					for (size_t q = i; q < colon; q++)
						if (p->otr[q] >= 'A' && p->otr[q] <= 'Z')
							p->otr[q] = (char)(p->otr[q] + 32);
					nv[k++] = (nghttp2_nv){u8(t + i), u8(t + vs), colon - i,
							       e - vs, NGHTTP2_NV_FLAG_NONE};
				}
				i = e + 2;
			}
			if (k && nghttp2_submit_trailer(ng, id, nv, k) == 0)
				*flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
		}
		return (ssize_t)m;
	}
	if (m == 0) {
		p->deferred = true;
		return NGHTTP2_ERR_DEFERRED;
	}
	return (ssize_t)m;
}

/* The fields of a parsed HTTP/1.1 head, as nghttp2 name-value pairs (names made lower case). */
static size_t head_fields(const struct http1_header *hdr, size_t n, nghttp2_nv *nv, size_t max,
			  char *lower, size_t lower_len, bool *grpc)
{
	size_t i, k = 0, used = 0, j, len;

	for (i = 0; i < n && k < max; i++) {
		len = hdr[i].name.len;
		if (h2_connection_specific(hdr[i].name.p, len) || used + len > lower_len)
			continue;
		for (j = 0; j < len; j++) {
			char ch = hdr[i].name.p[j];

			lower[used + j] = (char)(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch);
		}
		if (grpc && len == 12 && memcmp(lower + used, "content-type", 12) == 0 &&
		    hdr[i].value.len >= 16 &&
		    strncasecmp(hdr[i].value.p, "application/grpc", 16) == 0)
			*grpc = true;
		nv[k++] = (nghttp2_nv){u8(lower + used), u8(hdr[i].value.p), len, hdr[i].value.len,
				       NGHTTP2_NV_FLAG_NONE};
		used += len;
	}
	return k;
}

/* nv[0..k) without the field name: its new length. */
static size_t drop_field(nghttp2_nv *nv, size_t k, const char *name)
{
	size_t i, o = 0;

	for (i = 0; i < k; i++)
		if (nv[i].namelen != strlen(name) || memcmp(nv[i].name, name, nv[i].namelen) != 0)
			nv[o++] = nv[i];
	return o;
}

/*
 * The connection's head is whole in raw (len bytes): submitted as the stream's HEADERS. Returns
 * 0, or -EPROTO when it cannot be.
 */
_Static_assert(sizeof(((struct worker *)0)->h2_lower) == CONN_MAX_HEAD, "a head's names");
_Static_assert(sizeof(((struct worker *)0)->h2_dec) == STREAM_BUF, "a stream's decoded DATA");

static int submit_head(struct h2pipe *p, size_t len)
{
	struct h2sess *s = p->s;
	struct http1_header *hdr = s->c->w->h2_hdr;
	char *lower = s->c->w->h2_lower;
	nghttp2_data_provider dp = {.source.ptr = p, .read_callback = read_data};
	nghttp2_nv nv[CONN_MAX_HEADERS + 8] = {0};
	char status[8], *authority = NULL, *path = NULL;
	struct http1_resp resp;
	struct http1_req req;
	size_t pos = 0, k = 0;
	ssize_t r;
	int32_t id;

	if (s->server) {
		r = http1_parse_response(buf_head(&p->raw), len, CONN_MAX_HEAD,
					 slice_of(p->method, strlen(p->method)), &resp, hdr,
					 CONN_MAX_HEADERS, &pos);
		if (r <= 0)
			return -EPROTO;
		p->obody = resp.body;
		p->oleft = resp.content_length;
		if (resp.status == 101 && p->websocket) {
			/* RFC 8441: the upgrade's 101 is the CONNECT's 200; the tunnel is DATA. */
			p->obody = HTTP1_BODY_UNTIL_CLOSE;
			nv[k++] = NV(":status", "200");
			k += head_fields(resp.hdr, resp.n_hdr, nv + k, CONN_MAX_HEADERS, lower,
					 sizeof(s->c->w->h2_lower), NULL);
			k = drop_field(nv, k, "sec-websocket-accept");
		} else if (resp.body == HTTP1_BODY_TUNNEL) {
			return -EPROTO;
		} else {
			snprintf(status, sizeof(status), "%d", resp.status);
			nv[k++] = NV(":status", status);
			k += head_fields(resp.hdr, resp.n_hdr, nv + k, CONN_MAX_HEADERS, lower,
					 sizeof(s->c->w->h2_lower), NULL);
		}
		if (resp.status < 200 && !(resp.status == 101 && p->websocket)) {
			p->obody = HTTP1_BODY_NONE; /* interim answers stay here */
			return 1;
		}
	} else {
		r = http1_parse_request(buf_head(&p->raw), len, CONN_MAX_HEAD, &req, hdr,
					CONN_MAX_HEADERS, &pos);
		if (r <= 0 || req.form != HTTP1_ORIGIN)
			return -EPROTO;
		snprintf(p->method, sizeof(p->method), "%.*s", (int)req.method.len, req.method.p);
		p->head_req = strcmp(p->method, "HEAD") == 0;
		authority = strndup(req.host.p, req.host.len);
		path = strndup(req.target.p, req.target.len);
		if (!authority || !path) {
			free(authority);
			free(path);
			return -ENOMEM;
		}
		nv[k++] = NV(":method", p->method);
		nv[k++] = NV(":scheme", s->plain ? "http" : "https");
		nv[k++] = NV(":authority", authority);
		nv[k++] = NV(":path", path);
		k += head_fields(req.hdr, req.n_hdr, nv + k, CONN_MAX_HEADERS, lower,
				 sizeof(s->c->w->h2_lower), &p->grpc);
		/* gRPC servers want it; HTTP/1.1's TE went with the hop-by-hop fields. */
		if (p->grpc)
			nv[k++] = NV("te", "trailers");
		p->obody = req.body;
		p->oleft = req.content_length;
	}
	if (p->obody == HTTP1_BODY_CHUNKED) {
		p->otr = malloc(HTTP1_TRAILER_MAX);
		if (!p->otr) {
			r = -ENOMEM;
			goto out;
		}
		p->och.trailers = p->otr;
		p->och.trailers_cap = HTTP1_TRAILER_MAX;
	}
	if (p->obody == HTTP1_BODY_NONE || (p->obody == HTTP1_BODY_LENGTH && p->oleft == 0))
		p->out = OUT_DONE;
	else
		p->out = OUT_BODY;
	if (s->server) {
		r = nghttp2_submit_response(
		    s->ng, p->id, nv, k, p->out == OUT_DONE && !p->och.trailers_got ? NULL : &dp);
	} else {
		id = nghttp2_submit_request(s->ng, NULL, nv, k, p->out == OUT_DONE ? NULL : &dp, p);
		r = id < 0 ? id : 0;
		if (id > 0)
			p->id = id;
	}
out:
	free(authority);
	free(path);
	if (r < 0) {
		log_debug("HTTP/2: cannot submit a head: %s", nghttp2_strerror((int)r));
		return -EPROTO;
	}
	h2_sess_kick(s);
	return 0;
}

ssize_t h2pipe_write(struct h2pipe *p, const char *b, size_t n)
{
	char *dec;
	size_t before, m, room, err_pos, dlen;
	const char *end;
	ssize_t r;
	int ret;

	if (!p->s || p->closed)
		return -EPIPE;
	if (p->k && p->k->sx)
		p->wipe = true;
	if (p->out == OUT_HEAD) {
		before = p->raw.len;
		m = n < buf_room(&p->raw) ? n : buf_room(&p->raw);
		if (m == 0 || buf_append(&p->raw, b, m) < 0)
			return -EPROTO;
		end = memmem(buf_head(&p->raw), p->raw.len, "\r\n\r\n", 4);
		if (!end)
			return (ssize_t)m;
		m = (size_t)(end + 4 - buf_head(&p->raw));
		ret = submit_head(p, m);
		buf_consume(&p->raw, p->raw.len);
		if (ret < 0) {
			log_debug("HTTP/2 stream %d: a head that cannot be sent as HTTP/2", p->id);
			return -EPROTO;
		}
		if (ret == 1) {
			p->out = OUT_HEAD; /* an interim answer: the real one follows */
			p->obody = HTTP1_BODY_NONE;
		}
		buf_fini(&p->raw);
		return (ssize_t)(m - before);
	}
	if (p->out == OUT_DONE)
		return p->obody == HTTP1_BODY_UNTIL_CLOSE ? (ssize_t)n : -EPROTO;
	room = buf_room(&p->data);
	if (room == 0) {
		p->blocked = true;
		return -EAGAIN;
	}
	m = n < room ? n : room;
	switch (p->obody) {
	case HTTP1_BODY_LENGTH:
		if (m > p->oleft)
			m = (size_t)p->oleft;
		buf_append(&p->data, b, m);
		p->oleft -= m;
		if (p->oleft == 0)
			p->out = OUT_DONE;
		r = (ssize_t)m;
		break;
	case HTTP1_BODY_CHUNKED:
		dec = p->s->c->w->h2_dec; /* m <= room <= STREAM_BUF: the decoded bytes fit */
		r = http1_chunked_decode(&p->och, b, m, &err_pos, dec, &dlen);
		if (r < 0)
			return -EPROTO;
		buf_append(&p->data, dec, dlen);
		if (p->och.done)
			p->out = OUT_DONE;
		break;
	case HTTP1_BODY_UNTIL_CLOSE:
		buf_append(&p->data, b, m);
		r = (ssize_t)m;
		break;
	default:
		return -EPROTO;
	}
	if (p->deferred && p->id) {
		p->deferred = false;
		nghttp2_session_resume_data(p->s->ng, p->id);
	}
	h2_sess_kick(p->s);
	return r;
}

void h2pipe_close(struct h2pipe *p)
{
	struct h2sess *s = p->s;
	bool whole;

	p->k = NULL;
	if (!s) {
		pipe_free(p);
		return;
	}
	whole = p->out == OUT_DONE || (p->out == OUT_BODY && p->obody == HTTP1_BODY_UNTIL_CLOSE);
	if (p->out == OUT_BODY && p->obody == HTTP1_BODY_UNTIL_CLOSE)
		p->out = OUT_DONE;
	if (!p->closed && p->id) {
		if (!whole || (!s->server && !p->in_end)) {
			/* Cut short: the peer must see the stream fail, not end. */
			nghttp2_submit_rst_stream(s->ng, NGHTTP2_FLAG_NONE, p->id,
						  s->server ? NGHTTP2_INTERNAL_ERROR
							    : NGHTTP2_CANCEL);
		} else if (p->deferred) {
			p->deferred = false;
			nghttp2_session_resume_data(s->ng, p->id);
		}
		/* What it sent and nobody will read: acknowledged, so the window stays open. */
		if (p->body.len)
			nghttp2_session_consume(s->ng, p->id, p->body.len);
		buf_consume(&p->body, p->body.len);
		h2_sess_kick(s);
		return;
	}
	if (!p->id || p->closed)
		pipe_free(p);
	h2_sess_kick(s);
}

/* --- boundary's own answers on a stream ---------------------------------------------------- */

/*
 * boundary's answer as a grpc-message: its lines joined on one ("; "), runs of spaces as one,
 * the emoji that heads a refusal left out (client libraries print the message on one line),
 * percent-encoded as gRPC over HTTP/2 says (what is not printable ASCII, and '%').
 */
static void grpc_message(const char *in, char *out, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;
	unsigned char ch;
	bool sep = false;

	if (strncmp(in, "\xf0\x9f\x9a\xab ", 5) == 0)
		in += 5;
	for (; *in && o + 4 < len; in++) {
		ch = (unsigned char)*in;
		if (ch == '\n' || ch == ' ') {
			sep |= ch == '\n';
			while (in[1] == '\n' || in[1] == ' ')
				sep |= *++in == '\n';
			if (!in[1])
				break;
			if (sep && o > 0 && out[o - 1] != ':' && o + 6 < len)
				out[o++] = ';';
			out[o++] = ' ';
			sep = false;
			continue;
		}
		if (ch >= 0x20 && ch <= 0x7e && ch != '%') {
			out[o++] = (char)ch;
		} else {
			out[o++] = '%';
			out[o++] = hex[ch >> 4];
			out[o++] = hex[ch & 15];
		}
	}
	out[o] = '\0';
}

/* The gRPC status for one of boundary's HTTP answers. */
static const char *grpc_status(int code)
{
	switch (code) {
	case 403:
		return "7"; /* PERMISSION_DENIED */
	case 408:
	case 504:
		return "4"; /* DEADLINE_EXCEEDED */
	case 413:	    /* a body over max_body: gRPC's own word for a message too large */
	case 431:
		return "8"; /* RESOURCE_EXHAUSTED */
	case 400:
	case 405:
		return "13"; /* INTERNAL */
	default:
		return "14"; /* UNAVAILABLE */
	}
}

static void answer(struct h2sess *s, struct h2pipe *p, int code, const char *body)
{
	nghttp2_data_provider dp = {.source.ptr = p, .read_callback = read_data};
	char status[8], clen[24], msg[6144];
	nghttp2_nv nv[5];
	size_t k = 0;

	if (!s || p->out != OUT_HEAD || p->closed)
		return;
	p->out = OUT_DONE;
	if (p->grpc) {
		/* Trailers only: the client library raises the status with boundary's words. */
		grpc_message(body, msg, sizeof(msg));
		nv[k++] = NV(":status", "200");
		nv[k++] = NV("content-type", "application/grpc");
		nv[k++] = NV("grpc-status", grpc_status(code));
		nv[k++] = NV("grpc-message", msg);
		nghttp2_submit_response(s->ng, p->id, nv, k, NULL);
	} else {
		snprintf(status, sizeof(status), "%d", code);
		if (p->head_req)
			body = "";
		snprintf(clen, sizeof(clen), "%zu", strlen(body));
		nv[k++] = NV(":status", status);
		nv[k++] = NV("content-type", "text/plain; charset=utf-8");
		nv[k++] = NV("content-length", clen);
		nv[k++] = NV("cache-control", "no-store");
		buf_consume(&p->data, p->data.len);
		if (buf_append(&p->data, body, strlen(body)) < 0)
			buf_consume(&p->data, p->data.len);
		nghttp2_submit_response(s->ng, p->id, nv, k, p->data.len ? &dp : NULL);
	}
	h2_sess_kick(s);
}

static void stream_answer(struct h2sess *s, struct h2pipe *p, int code, const char *body)
{
	log_warn("%s: HTTP/2 stream %d: %d: %s", s->c->who, p->id, code, body);
	answer(s, p, code, body);
}

void h2_respond(struct conn *c, int code, const char *reason, const char *body)
{
	struct h2pipe *p = c->cx.pipe;

	(void)reason;
	if (p)
		answer(p->s, p, code, body);
	/* The stream's answer is whole: its connection ends (its cout is empty). */
	c->client_close = true;
	conn_set_state(c, CONN_FLUSH_CLOSE);
}

int h2_stream_id(const struct conn *c)
{
	return c->cx.pipe ? c->cx.pipe->id : 0;
}

bool h2_prior_knowledge(const struct conn *c)
{
	return c->cx.pipe && c->cx.pipe->s && c->cx.pipe->s->plain;
}

/* --- sessions ------------------------------------------------------------------------------ */

struct h2sess *h2_sess_new(struct conn *c, bool server, bool plain)
{
	nghttp2_session_callbacks *cb;
	nghttp2_option *opt;
	struct h2sess *s = calloc(1, sizeof(*s));
	nghttp2_settings_entry set[] = {
	    {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, H2_MAX_STREAMS},
	    {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, H2_WINDOW},
	    {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, H2_MAX_HEADERS},
	    {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
	    {NGHTTP2_SETTINGS_ENABLE_CONNECT_PROTOCOL, 1}, /* WebSockets (RFC 8441) */
	};
	int r;

	if (!s)
		return NULL;
	s->c = c;
	s->server = server;
	s->plain = plain;
	if (nghttp2_session_callbacks_new(&cb) != 0) {
		free(s);
		return NULL;
	}
	nghttp2_session_callbacks_set_send_callback(cb, on_send);
	nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
	nghttp2_session_callbacks_set_on_begin_headers_callback(cb, on_begin_headers);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame_recv);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data);
	nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_stream_close);
	nghttp2_session_callbacks_set_on_frame_send_callback(cb, on_frame_send);
	nghttp2_session_callbacks_set_error_callback2(cb, on_error);
	if (nghttp2_option_new(&opt) != 0) {
		nghttp2_session_callbacks_del(cb);
		free(s);
		return NULL;
	}
	/* Windows open as the stream's connection reads, not as bytes arrive. */
	nghttp2_option_set_no_auto_window_update(opt, 1);
	/* Floods end the connection (nghttp2's defaults, said here so they stay): */
	nghttp2_option_set_max_outbound_ack(opt, 1000);		   /* PING and SETTINGS unread */
	nghttp2_option_set_max_settings(opt, 32);		   /* entries in one SETTINGS */
	nghttp2_option_set_stream_reset_rate_limit(opt, 1000, 33); /* rapid reset */
	nghttp2_option_set_max_continuations(opt, 8);		   /* CONTINUATION floods */
	if (server)
		r = nghttp2_session_server_new2(&s->ng, cb, s, opt);
	else
		r = nghttp2_session_client_new2(&s->ng, cb, s, opt);
	nghttp2_option_del(opt);
	nghttp2_session_callbacks_del(cb);
	if (r != 0) {
		free(s);
		return NULL;
	}
	if (nghttp2_submit_settings(s->ng, NGHTTP2_FLAG_NONE, server ? set : set + 1,
				    server ? 5 : 3) != 0 ||
	    nghttp2_session_set_local_window_size(s->ng, NGHTTP2_FLAG_NONE, 0,
						  H2_MAX_STREAMS * H2_WINDOW) != 0) {
		nghttp2_session_del(s->ng);
		free(s);
		return NULL;
	}
	return s;
}

int h2_serve(struct conn *c)
{
	c->h2 = h2_sess_new(c, true, !c->client_tls);
	if (!c->h2) {
		conn_close(c, "out of memory for HTTP/2");
		return -ENOMEM;
	}
	/* Its streams find upstream connections of their own: the head start waits in the pool. */
	if (c->head)
		c->head->owner = NULL;
	c->head = NULL;
	log_debug("%s speaks HTTP/2%s", c->who, c->client_tls ? "" : " (h2c, prior knowledge)");
	conn_set_state(c, CONN_H2);
	conn_set_deadline(c, conn_cfg(c)->idle_timeout_ms);
	return 0;
}

/* Whether a client's stream has begun a header block it has not finished. */
static bool heads_pending(const struct h2sess *s)
{
	const struct h2pipe *p;

	for (p = s->pipes; p; p = p->next)
		if (!p->in_head && !p->closed && p->out == OUT_HEAD && !p->k)
			return true;
	return false;
}

/*
 * A stream the client reset while its request was still being served (waiting for a lookup, a
 * connect, a second opinion, its answer): its connection ends now, not when it next writes.
 */
static void end_reset_streams(struct h2sess *s)
{
	struct h2pipe *p, *next;

	for (p = s->pipes; p; p = next) {
		next = p->next;
		if (p->closed && p->in_reset && p->k)
			conn_close(p->k, "the client reset its stream");
	}
}

/* Reads, feeds nghttp2, sends: one round of a session on x with in and out. */
static bool sess_step(struct conn *c, struct xport *x, struct buf *in, struct buf *out)
{
	struct h2sess *s = c->h2;
	bool progress = false, eof = false;
	ssize_t r;
	int rv;

	if (buf_room(in) > 0) {
		r = conn_fill(x, in);
		if (r > 0)
			progress = true;
		else if (r == 0 || r != -EAGAIN)
			eof = true;
	}
	if (in->len) {
		r = nghttp2_session_mem_recv(s->ng, (const uint8_t *)buf_head(in), in->len);
		if (r < 0) {
			log_warn("%s: HTTP/2 connection ended: %s", c->who,
				 nghttp2_strerror((int)r));
			/* What nghttp2 queued (its GOAWAY) goes out if it can, once. */
			nghttp2_session_send(s->ng);
			conn_flush(x, out);
			conn_close(c, "HTTP/2 protocol error");
			return false;
		}
		buf_consume(in, (size_t)r);
		progress = true;
	}
	rv = nghttp2_session_send(s->ng);
	if (rv != 0) {
		log_warn("%s: HTTP/2 connection ended: %s", c->who, nghttp2_strerror(rv));
		conn_close(c, "HTTP/2 error");
		return false;
	}
	r = conn_flush(x, out);
	if (r > 0) {
		progress = true; /* room again: what nghttp2 still holds goes on the next round */
	} else if (r != -EAGAIN) {
		conn_close(c, s->server ? "the client went away" : "the upstream went away");
		return false;
	}
	if (eof && out->len == 0) {
		conn_close(c, s->server ? "the client closed its HTTP/2 connection"
					: "the upstream closed its HTTP/2 connection");
		return false;
	}
	if (!nghttp2_session_want_read(s->ng) && !nghttp2_session_want_write(s->ng) &&
	    out->len == 0) {
		conn_close(c, "HTTP/2 session over");
		return false;
	}
	if (s->server)
		end_reset_streams(s);
	/*
	 * Idle (no stream): the idle timeout runs. A header block begun and not finished: the
	 * header timeout (a slow head on HTTP/1.1 gets no more). Else the streams keep their own.
	 */
	if (s->n_pipes == 0) {
		if (progress || !c->deadline)
			conn_set_deadline(c,
					  s->server ? conn_cfg(c)->idle_timeout_ms : POOL_IDLE_MS);
	} else if (s->server && heads_pending(s)) {
		uint64_t by = util_now_ms() + conn_cfg(c)->header_timeout_ms;

		if (!c->deadline || c->deadline > by)
			c->deadline = by;
	} else {
		c->deadline = 0;
	}
	return progress;
}

bool h2_step(struct conn *c)
{
	return sess_step(c, &c->cx, &c->cin, &c->cout);
}

bool h2_step_up(struct conn *c)
{
	return sess_step(c, &c->ux, &c->uin, &c->uout);
}

void h2_timeout(struct conn *c)
{
	struct h2sess *s = c->h2;

	if (s->server && heads_pending(s)) {
		log_warn("%s: an HTTP/2 request head did not arrive in time (%u s allowed); "
			 "closing",
			 c->who, conn_cfg(c)->header_timeout_ms / 1000);
		nghttp2_session_terminate_session(s->ng, NGHTTP2_PROTOCOL_ERROR);
		nghttp2_session_send(s->ng);
		conn_flush(&c->cx, &c->cout);
		conn_close(c, "a request head did not arrive in time");
		return;
	}
	if (s->n_pipes) {
		c->deadline = 0;
		return;
	}
	nghttp2_session_terminate_session(s->ng, NGHTTP2_NO_ERROR);
	nghttp2_session_send(s->ng);
	conn_flush(s->server ? &c->cx : &c->ux, s->server ? &c->cout : &c->uout);
	conn_close(c, s->server ? "idle" : "idle upstream HTTP/2 connection");
}

void h2_closing(struct conn *c)
{
	struct h2sess *s = c->h2;
	struct h2pipe *p, *next;

	if (!s)
		return;
	for (p = s->pipes; p; p = next) {
		next = p->next;
		if (!p->in_end)
			p->in_reset = true;
		if (!p->k) {
			pipe_free(p);
			continue;
		}
		pipe_unlink(p);
		if (s->server)
			conn_close(p->k, "its HTTP/2 connection closed");
		else
			conn_kick(p->k);
	}
	if (!s->server)
		h2_up_forget(c);
	nghttp2_session_del(s->ng);
	free(s);
	c->h2 = NULL;
}
