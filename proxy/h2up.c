// SPDX-License-Identifier: MIT
/*
 * h2up.c: upstreams that speak HTTP/2. A request's connection whose upstream chose h2 by ALPN
 * (or h2c, for a client that used prior knowledge) hands its socket to a session of its own
 * (CONN_H2_UP), and its upstream side becomes a pipe into one of the session's streams; the
 * session stays in the worker's list for the next streams to its origin, and a head start that
 * chose h2 becomes one at once. What the upstream answers is made an HTTP/1.1 response head
 * here; the rest (frames, pipes) is h2.c's.
 */
#include <errno.h>
#include <stdio.h>
#include <sys/epoll.h>

#include "proxy/h2int.h"
#include "proxy/log.h"

const unsigned char h2_alpn_up[] = "\x02h2\x08http/1.1";
const unsigned int h2_alpn_up_len = sizeof(h2_alpn_up) - 1;

/* Reasons for the status lines made from :status. */
static const char *reason_of(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 201:
		return "Created";
	case 204:
		return "No Content";
	case 206:
		return "Partial Content";
	case 301:
		return "Moved Permanently";
	case 302:
		return "Found";
	case 304:
		return "Not Modified";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 500:
		return "Internal Server Error";
	case 502:
		return "Bad Gateway";
	case 503:
		return "Service Unavailable";
	case 504:
		return "Gateway Timeout";
	default:
		return "Status";
	}
}

/* An upstream stream's response head as HTTP/1.1, for the request's connection to read. */
int h2_response_head(struct h2pipe *p, bool end)
{
	struct buf *b = &p->head;
	char line[64];
	bool nobody = p->head_req || p->status == 204 || p->status == 304;

	if (p->status < 200 || p->status > 999)
		return -EPROTO;
	snprintf(line, sizeof(line), "HTTP/1.1 %d %s\r\n", p->status, reason_of(p->status));
	if (h2_puts(b, line) < 0 || (p->hb.len && h2_put(b, buf_head(&p->hb), p->hb.len) < 0))
		return -E2BIG;
	/*
	 * Chunked unless the length is stated and no trailers are announced: trailers (gRPC's
	 * status) ride in the last chunk. A body that ended with the head has length 0.
	 */
	p->chunked = !nobody && !end && (!p->has_cl || p->trailer_field);
	if (p->chunked && h2_puts(b, "Transfer-Encoding: chunked\r\n") < 0)
		return -E2BIG;
	if (!p->chunked && !nobody && (p->has_cl || end) &&
	    (h2_puts(b, "Content-Length: ") < 0 || h2_puts(b, p->has_cl ? p->clen : "0") < 0 ||
	     h2_puts(b, "\r\n") < 0))
		return -E2BIG;
	if (nobody && p->has_cl &&
	    (h2_puts(b, "Content-Length: ") < 0 || h2_puts(b, p->clen) < 0 ||
	     h2_puts(b, "\r\n") < 0))
		return -E2BIG;
	buf_fini(&p->hb);
	return h2_puts(b, "\r\n");
}

/* --- upstream sessions --------------------------------------------------------------------- */

static int attach(struct conn *u, struct conn *k)
{
	struct h2pipe *p = h2_pipe_new(u->h2);

	if (!p)
		return -ENOMEM;
	p->k = k;
	k->ux.pipe = p;
	k->ev_u = LOOP_WATCH_NONE;
	conn_kick(u);
	return 0;
}

/* A session on k's upstream connection, which moves to it; NULL: out of memory. */
static struct conn *up_session(struct conn *k, bool prior)
{
	struct worker *w = k->w;
	struct conn *u = conn_alloc(w, -1, k->kind);

	if (!u)
		return NULL;
	u->h2 = h2_sess_new(u, false, prior);
	if (!u->h2) {
		conn_free(u);
		return NULL;
	}
	u->h2->peer_known = upstream_peer(k->ux.fd, &u->h2->peer) == 0;
	/* The socket moves to the session, out of the epoll set as k's. */
	if (k->ev_u != LOOP_WATCH_NONE)
		epoll_ctl(w->ep, EPOLL_CTL_DEL, k->ux.fd, NULL);
	u->ux = k->ux;
	xport_init(&k->ux);
	k->ev_u = LOOP_WATCH_NONE;
	snprintf(u->up_key, sizeof(u->up_key), "%s", k->up_key);
	snprintf(u->uhost, sizeof(u->uhost), "%s", k->uhost);
	u->uport = k->uport;
	snprintf(u->who, sizeof(u->who), "HTTP/2 to %.50s", k->up_key);
	snprintf(u->orig_str, sizeof(u->orig_str), "-");
	conn_link(u);
	conn_set_state(u, CONN_H2_UP);
	u->h2->next_up = w->h2up;
	w->h2up = u;
	log_debug("%s: %s speaks HTTP/2: its requests go as streams", k->who, k->up_key);
	/* Its preface goes at once; idle until a stream comes, closed as a pooled connection. */
	conn_set_deadline(u, POOL_IDLE_MS);
	conn_kick(u);
	return u;
}

int h2_up_adopt(struct conn *k, bool prior)
{
	struct conn *u = up_session(k, prior);

	return u ? attach(u, k) : -ENOMEM;
}

int h2_up_park(struct conn *h)
{
	return up_session(h, false) ? 0 : -ENOMEM;
}

bool h2_up_take(struct conn *k)
{
	struct conn *u;
	uint32_t max;

	for (u = k->w->h2up; u; u = u->h2->next_up) {
		if (u->state != CONN_H2_UP || u->h2->goaway || strcmp(u->up_key, k->up_key) != 0 ||
		    !u->h2->peer_known || !upstream_addr_ok(k, &u->h2->peer, NULL))
			continue;
		max = nghttp2_session_get_remote_settings(u->h2->ng,
							  NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS);
		if (u->h2->n_pipes >= max || u->h2->n_pipes >= H2_MAX_STREAMS)
			continue;
		if (attach(u, k) < 0)
			return false;
		log_debug("%s: a stream on %s", k->who, u->who);
		return true;
	}
	return false;
}

void h2_up_forget(struct conn *c)
{
	struct conn **pp;

	for (pp = &c->w->h2up; *pp; pp = &(*pp)->h2->next_up) {
		if (*pp == c) {
			*pp = c->h2->next_up;
			return;
		}
	}
}
