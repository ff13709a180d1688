// SPDX-License-Identifier: MIT
/*
 * secretx.c: secrets (secret.h) applied to one HTTP/1.1 exchange. Before the rules, a request
 * head carrying a placeholder to a host its secret is not bound to is refused. On an allowed
 * request, placeholders of the secrets bound to its host become their values in the target,
 * the field values (Basic credentials decoded and encoded again) and form or JSON bodies; a
 * secret's header= field is set; the values become placeholders again in the response's head
 * and body. Bodies go through the engine decoded, in bounded steps, and out chunked when their
 * length may change. Any other placeholder in a body stops the request before it goes out.
 * exchange.c calls in here; nothing here reads or writes a socket.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "proxy/conn.h"
#include "proxy/log.h"
#include "proxy/secret.h"

#define STEP_IN	      (16 * 1024) /* body bytes decoded and fed in one step, at most */
#define FRAME_ROOM    32	  /* a chunk's size line and CRLF, and the last chunk */
#define HOLD_MIN_ROOM 8192	  /* a held request is let go when its buffer has less room */

/* The secrets of one request: how its bytes are changed on the way out and back. */
struct secretx {
	struct subst_pair out_pair[SECRET_MAX]; /* placeholder -> value, or refused */
	size_t n_out;
	struct subst_pair in_pair[SECRET_MAX]; /* value -> placeholder */
	size_t n_in;
	bool bound[SECRET_MAX]; /* the secrets this request's host may receive */
	size_t n_bound;
	/* the request body: through req when req_on; re-chunked when req_chunk */
	bool req_on, req_chunk;
	struct subst req;
	bool req_fin; /* the engine has been finished and the last chunk written */
	/* the request waits in uout until its body has been looked at (see secretx_hold()) */
	bool hold;
	/* the response body */
	bool resp_on, resp_chunk;
	struct subst resp;
	bool resp_fin;
};

static const struct secret *sec(const struct conn *c, size_t i)
{
	return &conn_cfg(c)->secrets[i];
}

static size_t n_sec(const struct conn *c)
{
	return conn_cfg(c)->n_secrets;
}

/* --- looking at a request head ------------------------------------------------------------- */

/*
 * The credentials of a "Basic" field value, decoded into out (of at least value.len bytes):
 * their length, or -1 when v is not Basic or not base64.
 */
static ssize_t basic_decode(struct slice v, char *out, size_t *tok_off)
{
	size_t off = 6, len;
	int n;

	if (v.len < 7 || strncasecmp(v.p, "Basic ", 6) != 0)
		return -1;
	while (off < v.len && v.p[off] == ' ')
		off++;
	len = v.len - off;
	if (len == 0 || len % 4 != 0 || len > CONN_MAX_HEAD)
		return -1;
	n = EVP_DecodeBlock((unsigned char *)out, (const unsigned char *)v.p + off, (int)len);
	if (n < 0)
		return -1;
	/* EVP_DecodeBlock counts the padding as zero bytes: take them off. */
	if (v.p[v.len - 1] == '=')
		n--;
	if (v.p[v.len - 2] == '=')
		n--;
	*tok_off = off;
	return n;
}

ssize_t secretx_check_head(struct conn *c, size_t len)
{
	const char *head = buf_head(&c->cin);
	size_t i;
	ssize_t n;

	/* A name carrying one, even encoded, would reach the host's resolver: never. */
	n = decide_secret_in_name(c, c->uhost);
	if (n >= 0)
		return n;
	/*
	 * Anywhere in the head, through one layer of encoding and in any case: percent in a
	 * target, base64 in Basic credentials or any field, hex or base32 in a query.
	 */
	for (i = 0; i < n_sec(c); i++)
		if (!secret_bound(sec(c, i), c->uhost, strlen(c->uhost)) &&
		    secret_find_encoded(sec(c, i), 1, head, len, c->w->sx_head) >= 0)
			return (ssize_t)i;
	return -1;
}

void secretx_refuse(struct conn *c, size_t i, bool sent)
{
	const struct secret *s = sec(c, i);
	char reason[400], body[4096];

	snprintf(reason, sizeof(reason), "secret %s sent to %s", s->name,
		 c->uhost[0] ? c->uhost : c->host);
	log_warn("DENY %s %s from %s: %s (its placeholder may go only to the hosts of its "
		 "--secret)",
		 c->method, c->url, c->who, reason);
	if (c->audit_open) {
		/* Its head was let through: the record that opened says allow, this one ends it. */
		c->audit_open = false;
		decide_audit(c, "end", "deny", NULL, reason, sent ? 0 : 403);
	} else {
		decide_audit(c, "request", "deny", NULL, reason, 403);
	}
	if (sent) {
		/* The response has begun, or the upstream has part of the request: cut both. */
		conn_close(c, "a secret's placeholder was on its way to another host");
		return;
	}
	/* What waited for the upstream (the head, some body) never goes. */
	buf_consume(&c->uout, c->uout.len);
	xport_close(&c->ux);
	upstream_close_alt(c);
	c->ev_u = LOOP_WATCH_NONE;
	c->up_key[0] = '\0';
	snprintf(
	    body, sizeof(body),
	    "\xf0\x9f\x9a\xab Request Blocked by Boundary\n\n"
	    "Request: %s %s\n"
	    "Process: %s\n"
	    "Why: %s\n\n"
	    "The request carries the placeholder of the secret %s, which boundary replaces with "
	    "the real value only on requests to the hosts named in its --secret. Sending it "
	    "anywhere else is refused, whatever the rules allow.\n"
	    "If %s should receive %s, add domain=%s to its --secret.\n",
	    c->method, c->url, c->who, reason, s->name, c->uhost, s->name, c->uhost);
	exchange_respond(c, 403, "Forbidden", body, true);
}

/* --- an allowed request --------------------------------------------------------------------- */

static bool slice_has_prefix(struct slice v, const char *p)
{
	size_t n = strlen(p);

	return v.len >= n && strncasecmp(v.p, p, n) == 0;
}

/* Form and JSON bodies are where placeholders are replaced (besides the head). */
static bool replaceable_type(struct slice ct)
{
	size_t n;

	if (slice_has_prefix(ct, "application/x-www-form-urlencoded") ||
	    slice_has_prefix(ct, "application/json"))
		return true;
	/* application/<anything>+json */
	n = strcspn(ct.p, ";");
	if (n > ct.len)
		n = ct.len;
	return slice_has_prefix(ct, "application/") && n >= 5 &&
	       strncasecmp(ct.p + n - 5, "+json", 5) == 0;
}

int secretx_begin(struct conn *c)
{
	const struct http1_req *r = &c->req;
	struct secretx *x;
	size_t i;
	bool body = r->body != HTTP1_BODY_NONE && !c->upgrade;

	secretx_end(c);
	x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	/* Values pass through these from now on: no copy stays behind when they are freed. */
	c->cin.wipe = c->cout.wipe = c->uin.wipe = c->uout.wipe = true;
	for (i = 0; i < n_sec(c); i++) {
		const struct secret *s = sec(c, i);
		struct subst_pair *o = &x->out_pair[x->n_out++];

		x->bound[i] = secret_bound(s, c->uhost, strlen(c->uhost));
		o->from = s->placeholder;
		o->from_len = s->placeholder_len;
		if (!x->bound[i]) {
			o->refuse = true;
			continue;
		}
		x->n_bound++;
		o->to = s->value;
		o->to_len = s->value_len;
		x->in_pair[x->n_in++] = (struct subst_pair){s->value, s->value_len, s->placeholder,
							    s->placeholder_len, false};
	}
	if (body) {
		bool repl = x->n_bound > 0 &&
			    replaceable_type(http1_header_get(r->hdr, r->n_hdr, "content-type"));
		bool scan = x->n_bound < n_sec(c);

		if (repl || scan) {
			size_t k, n = 0;

			/* Unreplaced bound placeholders pass as they are: drop their pairs. */
			for (k = 0; k < x->n_out; k++)
				if (repl || x->out_pair[k].refuse)
					x->out_pair[n++] = x->out_pair[k];
			x->n_out = n;
			x->req_on = true;
			x->req_chunk = repl || r->body == HTTP1_BODY_CHUNKED;
			x->hold = scan && !(r->flags & HTTP1_F_EXPECT_CONTINUE);
			subst_init(&x->req, x->out_pair, x->n_out);
		}
	}
	c->sx = x;
	return 0;
}

void secretx_end(struct conn *c)
{
	free(c->sx);
	c->sx = NULL;
}

bool secretx_hold(struct conn *c)
{
	struct secretx *x = c->sx;

	if (!x || !x->hold)
		return false;
	if (c->req_done || buf_room(&c->uout) < HOLD_MIN_ROOM)
		x->hold = false;
	return x->hold;
}

/* --- heads ---------------------------------------------------------------------------------- */

struct sink {
	struct buf *b;
};

static int to_buf(void *arg, const char *p, size_t n)
{
	return buf_append(((struct sink *)arg)->b, p, n);
}

/* p[0..n) through the pairs, one shot, appended to b. */
static int put_through(const struct subst_pair *pair, size_t n_pair, struct buf *b, const char *p,
		       size_t n)
{
	struct subst s;
	struct sink k = {b};
	int ret;

	subst_init(&s, pair, n_pair);
	ret = subst_feed(&s, p, n, to_buf, &k);
	if (ret == 0)
		ret = subst_finish(&s, to_buf, &k);
	return ret == -EPERM ? -E2BIG : ret;
}

/* The bound secrets' placeholder -> value pairs. */
static size_t bound_pairs(const struct conn *c, struct subst_pair *pair)
{
	size_t i, n = 0;

	for (i = 0; i < n_sec(c); i++)
		if (c->sx->bound[i])
			pair[n++] =
			    (struct subst_pair){sec(c, i)->placeholder, sec(c, i)->placeholder_len,
						sec(c, i)->value, sec(c, i)->value_len, false};
	return n;
}

int secretx_put_target(struct conn *c, struct buf *b)
{
	struct subst_pair pair[SECRET_MAX];

	return put_through(pair, bound_pairs(c, pair), b, c->path, c->path_len);
}

bool secretx_drop_field(const struct conn *c, struct slice name, bool request)
{
	const struct secretx *x = c->sx;
	size_t i;

	if (!x)
		return false;
	/* A body whose length may change loses its framing fields; secretx_put_extra() says. */
	if (!request)
		return x->resp_on &&
		       (slice_ieq(name, "content-length") || slice_ieq(name, "transfer-encoding"));
	if (x->req_on && x->req_chunk &&
	    (slice_ieq(name, "content-length") || slice_ieq(name, "transfer-encoding")))
		return true;
	/* A response the value may hide in must come back readable. */
	if (x->n_bound && slice_ieq(name, "accept-encoding"))
		return true;
	for (i = 0; i < n_sec(c); i++)
		if (x->bound[i] && sec(c, i)->header[0] && slice_ieq(name, sec(c, i)->header))
			return true;
	return false;
}

int secretx_put_field(struct conn *c, struct buf *b, const struct http1_header *h, bool request)
{
	struct subst_pair pair[SECRET_MAX];
	char *scratch = c->w->sx_head, enc[4 * ((CONN_MAX_HEAD + 2) / 3) + 1];
	size_t n, off = 0;
	ssize_t dec;
	int e;

	if (request)
		n = bound_pairs(c, pair);
	else
		n = c->sx->n_in, memcpy(pair, c->sx->in_pair, n * sizeof(pair[0]));
	if (buf_append(b, h->name.p, h->name.len) < 0 || buf_append(b, ": ", 2) < 0)
		return -E2BIG;
	dec = request ? basic_decode(h->value, scratch, &off) : -1;
	if (dec > 0 && secret_find(c->w->p->cfg.secrets, n_sec(c), scratch, (size_t)dec) >= 0) {
		/* Basic credentials: decoded, replaced, encoded again. */
		struct buf tmp;

		buf_init(&tmp, CONN_MAX_HEAD);
		if (put_through(pair, n, &tmp, scratch, (size_t)dec) < 0 ||
		    tmp.len > CONN_MAX_HEAD) {
			buf_fini(&tmp);
			return -E2BIG;
		}
		e = EVP_EncodeBlock((unsigned char *)enc, (const unsigned char *)buf_head(&tmp),
				    (int)tmp.len);
		explicit_bzero(tmp.data, tmp.alloc);
		buf_fini(&tmp);
		if (buf_append(b, h->value.p, off) < 0 || buf_append(b, enc, (size_t)e) < 0)
			return -E2BIG;
	} else if (put_through(pair, n, b, h->value.p, h->value.len) < 0) {
		return -E2BIG;
	}
	return buf_append(b, "\r\n", 2);
}

int secretx_put_extra(struct conn *c, struct buf *b, bool request)
{
	const struct secretx *x = c->sx;
	size_t i;

	if (!request)
		return x->resp_on && x->resp_chunk
			   ? buf_append(b, "Transfer-Encoding: chunked\r\n", 28)
			   : 0;
	if (x->req_on && x->req_chunk && buf_append(b, "Transfer-Encoding: chunked\r\n", 28) < 0)
		return -E2BIG;
	if (x->n_bound && buf_append(b, "Accept-Encoding: identity\r\n", 27) < 0)
		return -E2BIG;
	for (i = 0; i < n_sec(c); i++) {
		const struct secret *s = sec(c, i);
		/* A bare token in Authorization is a bearer token. */
		bool bearer = strcasecmp(s->header, "authorization") == 0 &&
			      !memchr(s->value, ' ', s->value_len);

		if (!x->bound[i] || !s->header[0])
			continue;
		if (buf_append(b, s->header, strlen(s->header)) < 0 || buf_append(b, ": ", 2) < 0 ||
		    (bearer && buf_append(b, "Bearer ", 7) < 0) ||
		    buf_append(b, s->value, s->value_len) < 0 || buf_append(b, "\r\n", 2) < 0)
			return -E2BIG;
	}
	return 0;
}

void secretx_response_begin(struct conn *c, const struct http1_resp *r)
{
	struct secretx *x = c->sx;
	struct slice ce;

	if (!x || !x->n_in || r->status == 101 ||
	    (r->body != HTTP1_BODY_LENGTH && r->body != HTTP1_BODY_CHUNKED &&
	     r->body != HTTP1_BODY_UNTIL_CLOSE))
		return;
	ce = http1_header_get(r->hdr, r->n_hdr, "content-encoding");
	if (ce.len && !(ce.len == 8 && strncasecmp(ce.p, "identity", 8) == 0)) {
		log_warn("%s %s from %s: the response is %.*s-encoded, so a secret's value in it "
			 "cannot be replaced by its placeholder (boundary asked for no encoding)",
			 c->method, c->url, c->who, (int)ce.len, ce.p);
		return;
	}
	x->resp_on = true;
	x->resp_fin = false;
	/* Its length may change: chunked to an HTTP/1.1 client, else until the close. */
	x->resp_chunk = r->body != HTTP1_BODY_UNTIL_CLOSE && c->req.minor >= 1;
	if (r->body != HTTP1_BODY_UNTIL_CLOSE && !x->resp_chunk)
		c->client_close = true;
	subst_init(&x->resp, x->in_pair, x->n_in);
}

bool secretx_request_body(const struct conn *c)
{
	return c->sx && c->sx->req_on;
}

bool secretx_response_body(const struct conn *c)
{
	return c->sx && c->sx->resp_on;
}

/* --- bodies --------------------------------------------------------------------------------- */

struct frame {
	char *p;
	size_t len, cap;
};

static int to_frame(void *arg, const char *p, size_t n)
{
	struct frame *f = arg;

	if (f->len + n > f->cap)
		return -E2BIG;
	memcpy(f->p + f->len, p, n);
	f->len += n;
	return 0;
}

/* Appends out[0..n) to dst, as one chunk when chunked. */
static int put_piece(struct buf *dst, const char *p, size_t n, bool chunked)
{
	char line[24];
	int k;

	if (n == 0)
		return 0;
	if (!chunked)
		return buf_append(dst, p, n);
	k = snprintf(line, sizeof(line), "%zx\r\n", n);
	if (buf_append(dst, line, (size_t)k) < 0 || buf_append(dst, p, n) < 0 ||
	    buf_append(dst, "\r\n", 2) < 0)
		return -E2BIG;
	return 0;
}

/*
 * Moves the next body bytes of src (framed as kind) through e into dst. Returns how many bytes
 * of src were used (0: no room or nothing yet), -1 for broken framing, -EPERM for a refused
 * pair. *done once the body has been read and its end written.
 */
static ssize_t move(struct conn *c, struct subst *e, bool chunked, bool *fin, struct buf *src,
		    struct buf *dst, enum http1_body kind, uint64_t *left, struct http1_chunked *ch,
		    bool *done)
{
	char *dec = c->w->sx_dec;
	struct frame f = {c->w->sx_out, 0, sizeof(c->w->sx_out)};
	size_t n = src->len, room, plen = 0, pos;
	ssize_t r;
	int ret;

	if (*fin) {
		*done = true;
		return 0;
	}
	room = buf_room(dst);
	if (room <= FRAME_ROOM)
		return 0;
	room -= FRAME_ROOM;
	if (room > f.cap)
		room = f.cap;
	if (n > STEP_IN)
		n = STEP_IN;
	while (n > 0 && subst_out_bound(e, n) > room)
		n /= 2;
	if (kind == HTTP1_BODY_LENGTH && n > *left)
		n = (size_t)*left;
	if (n == 0 && !(kind == HTTP1_BODY_LENGTH && *left == 0) &&
	    !(kind == HTTP1_BODY_UNTIL_CLOSE && c->up_eof))
		return 0;
	if (subst_out_bound(e, 0) > room)
		return 0;
	if (kind == HTTP1_BODY_CHUNKED) {
		r = http1_chunked_decode(ch, buf_head(src), n, &pos, dec, &plen);
		if (r < 0)
			return -1;
		n = (size_t)r;
	} else {
		memcpy(dec, buf_head(src), n);
		plen = n;
	}
	ret = subst_feed(e, dec, plen, to_frame, &f);
	if (ret == -EPERM)
		return -EPERM;
	if (ret < 0)
		return -1;
	buf_consume(src, n);
	if (kind == HTTP1_BODY_LENGTH)
		*left -= n;
	if ((kind == HTTP1_BODY_LENGTH && *left == 0) || (kind == HTTP1_BODY_CHUNKED && ch->done) ||
	    (kind == HTTP1_BODY_UNTIL_CLOSE && c->up_eof && src->len == 0)) {
		ret = subst_finish(e, to_frame, &f);
		if (ret == -EPERM)
			return -EPERM;
		if (ret < 0)
			return -1;
		*fin = true;
	}
	if (put_piece(dst, f.p, f.len, chunked) < 0)
		return -1;
	if (*fin) {
		if (chunked && buf_append(dst, "0\r\n\r\n", 5) < 0)
			return -1;
		*done = true;
	}
	return (ssize_t)n + (*fin ? 1 : 0);
}

ssize_t secretx_move_request(struct conn *c, bool *done)
{
	struct secretx *x = c->sx;

	return move(c, &x->req, x->req_chunk, &x->req_fin, &c->cin, &c->uout, c->req_body,
		    &c->req_left, &c->req_chunk, done);
}

ssize_t secretx_move_response(struct conn *c, bool *done)
{
	struct secretx *x = c->sx;

	return move(c, &x->resp, x->resp_chunk, &x->resp_fin, &c->uin, &c->cout, c->resp_body,
		    &c->resp_left, &c->resp_chunk, done);
}

size_t secretx_refused(const struct conn *c)
{
	const struct subst_pair *p = &c->sx->out_pair[c->sx->req.refused];
	size_t i;

	for (i = 0; i < n_sec(c); i++)
		if (sec(c, i)->placeholder == p->from)
			return i;
	return 0;
}
