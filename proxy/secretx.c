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

#define STEP_IN		(16 * 1024)   /* body bytes decoded and fed in one step, at most */
#define HOLD_MIN_ROOM	8192	      /* a held request is let go when its buffer has less room */
#define PEND_CAP	(1024 * 1024) /* what one step may make, waiting for room in its buffer */
#define CHUNK_GAP	20	      /* room left before a step's output for its chunk-size line */
#define BASIC_MAX	4	      /* Basic credentials re-encoded in one request head */
#define BASIC_TOKEN_MAX 512	      /* the longest Basic token that may carry a placeholder */
#define BASIC_CREDS_MAX (BASIC_TOKEN_MAX / 4 * 3)		 /* ... decoded */
#define BASIC_OUT_MAX	(BASIC_CREDS_MAX + 2 * SECRET_VALUE_MAX) /* ... with values in */

/* One direction of a body through the engine. */
struct flow {
	bool on;    /* the body goes through e */
	bool chunk; /* ... and out chunked (its length may change) */
	bool fin;   /* the engine is finished, the last chunk made */
	struct subst e;
	const struct subst_pair *pair; /* e's pairs, for the trailer fields after it */
	size_t n_pair;
	struct buf pend; /* made by the last step, waiting for room in the buffer it goes to */
	char *tr;	 /* a chunked body's trailer fields (HTTP1_TRAILER_MAX), kept for the end */
};

/* f's engine (again) on pair[0..n). */
static void flow_init(struct flow *f, const struct subst_pair *pair, size_t n)
{
	f->pair = pair;
	f->n_pair = n;
	subst_init(&f->e, pair, n);
}

/* The secrets of one request: how its bytes are changed on the way out and back. */
struct secretx {
	struct subst_pair out_pair[SECRET_MAX]; /* placeholder -> value, or refused */
	size_t n_out;
	/* value -> placeholder, and each re-encoded Basic token -> the client's own */
	struct subst_pair in_pair[SECRET_MAX + BASIC_MAX];
	size_t n_in;
	char *basic[BASIC_MAX][2]; /* the tokens of those pairs (the first holds a value) */
	size_t n_basic;
	bool bound[SECRET_MAX]; /* the secrets this request's host may receive */
	size_t n_bound;
	uint64_t replaced; /* placeholders replaced in the head */
	struct flow req, resp;
	/* the request waits in uout until its body has been looked at (see secretx_hold()) */
	bool hold;
	bool own_continue; /* boundary answers the client's Expect: 100-continue itself */
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
 * The credentials of a "Basic" field value, decoded into out (BASIC_CREDS_MAX bytes at least):
 * their length, or -1 when v is not Basic, not base64 (either alphabet, padded or not), or its
 * token is longer than BASIC_TOKEN_MAX (then it is not read, and a placeholder in it not
 * replaced: it is refused to any host but its own, as any encoded placeholder is, by
 * secretx_check_head()). *tok_off is where the token starts in v.
 */
static ssize_t basic_decode(struct slice v, char *out, size_t *tok_off)
{
	char tok[BASIC_TOKEN_MAX + 4];
	size_t off = 6, len, i;
	int n;

	if (v.len < 7 || strncasecmp(v.p, "Basic ", 6) != 0)
		return -1;
	while (off < v.len && v.p[off] == ' ')
		off++;
	len = v.len - off;
	while (len > 0 && v.p[off + len - 1] == '=')
		len--;
	if (len == 0 || len % 4 == 1 || len > sizeof(tok) - 4)
		return -1;
	for (i = 0; i < len; i++)
		tok[i] = v.p[off + i] == '-' ? '+' : v.p[off + i] == '_' ? '/' : v.p[off + i];
	while (i % 4)
		tok[i++] = '=';
	n = EVP_DecodeBlock((unsigned char *)out, (const unsigned char *)tok, (int)i);
	if (n < 0)
		return -1;
	/* EVP_DecodeBlock counts the padding as zero bytes: take them off. */
	n -= (int)(i - len);
	*tok_off = off;
	return n > BASIC_CREDS_MAX ? -1 : n;
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
	bool body = r->body != HTTP1_BODY_NONE;

	secretx_end(c);
	x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	buf_init(&x->req.pend, PEND_CAP);
	buf_init(&x->resp.pend, PEND_CAP);
	x->req.pend.wipe = x->resp.pend.wipe = true;
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
	c->sx = x;
	if (!body)
		return 0;
	bool repl =
	    x->n_bound > 0 && replaceable_type(http1_header_get(r->hdr, r->n_hdr, "content-type"));
	bool scan = x->n_bound < n_sec(c);

	if (!repl && !scan)
		return 0;
	size_t k, n = 0;

	/* Unreplaced bound placeholders pass as they are: drop their pairs. */
	for (k = 0; k < x->n_out; k++)
		if (repl || x->out_pair[k].refuse)
			x->out_pair[n++] = x->out_pair[k];
	x->n_out = n;
	x->req.on = true;
	x->req.chunk = repl || r->body == HTTP1_BODY_CHUNKED;
	flow_init(&x->req, x->out_pair, x->n_out);
	/*
	 * A body that may carry another host's placeholder is looked at before the request goes:
	 * a client waiting for 100 Continue gets it from boundary, not from that host.
	 */
	x->hold = scan;
	if (scan && (r->flags & HTTP1_F_EXPECT_CONTINUE)) {
		x->own_continue = true;
		if (buf_append(&c->cout, "HTTP/1.1 100 Continue\r\n\r\n", 25) < 0)
			return -ENOMEM;
	}
	return 0;
}

void secretx_end(struct conn *c)
{
	struct secretx *x = c->sx;
	size_t i;

	if (!x)
		return;
	for (i = 0; i < x->n_basic; i++) {
		explicit_bzero(x->basic[i][0], strlen(x->basic[i][0]));
		free(x->basic[i][0]);
		free(x->basic[i][1]);
	}
	buf_fini(&x->req.pend);
	buf_fini(&x->resp.pend);
	for (i = 0; i < 2; i++) {
		char *tr = i ? x->resp.tr : x->req.tr;

		if (tr) {
			explicit_bzero(tr, HTTP1_TRAILER_MAX);
			free(tr);
		}
	}
	/* The chunked scanners pointed at those: they keep nothing of them now. */
	c->req_chunk.trailers = c->resp_chunk.trailers = NULL;
	c->req_chunk.trailers_cap = c->resp_chunk.trailers_cap = 0;
	explicit_bzero(x, sizeof(*x));
	free(x);
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

/* p[0..n) through the pairs, one shot, appended to b; *replaced counts what was replaced. */
static int put_through(const struct subst_pair *pair, size_t n_pair, struct buf *b, const char *p,
		       size_t n, uint64_t *replaced)
{
	struct subst s;
	struct sink k = {b};
	int ret;

	subst_init(&s, pair, n_pair);
	ret = subst_feed(&s, p, n, to_buf, &k);
	if (ret == 0)
		ret = subst_finish(&s, to_buf, &k);
	if (replaced)
		*replaced += s.replaced;
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

	return put_through(pair, bound_pairs(c, pair), b, c->path, c->path_len, &c->sx->replaced);
}

bool secretx_drop_field(const struct conn *c, struct slice name, bool request)
{
	const struct secretx *x = c->sx;
	size_t i;

	if (!x)
		return false;
	/* A body whose length may change loses its framing fields; secretx_put_extra() says. */
	if (!request)
		return x->resp.on &&
		       (slice_ieq(name, "content-length") || slice_ieq(name, "transfer-encoding"));
	if (x->req.on && x->req.chunk &&
	    (slice_ieq(name, "content-length") || slice_ieq(name, "transfer-encoding")))
		return true;
	if (x->own_continue && slice_ieq(name, "expect"))
		return true;
	/* A response the value may hide in must come back readable, a WebSocket's too. */
	if (x->n_bound &&
	    (slice_ieq(name, "accept-encoding") || slice_ieq(name, "sec-websocket-extensions")))
		return true;
	for (i = 0; i < n_sec(c); i++)
		if (x->bound[i] && sec(c, i)->header[0] && slice_ieq(name, sec(c, i)->header))
			return true;
	return false;
}

/*
 * Basic credentials carrying a placeholder (decoded in creds[0..n)), to a bound host: replaced,
 * encoded again and written after the value's first off bytes ("Basic "); the answer will get
 * the client's own token back wherever it quotes the new one.
 */
static int put_basic(struct conn *c, struct buf *b, struct slice v, size_t off, const char *creds,
		     size_t n)
{
	struct secretx *x = c->sx;
	struct subst_pair pair[SECRET_MAX];
	char enc[4 * ((BASIC_OUT_MAX + 2) / 3) + 1];
	struct buf tmp;
	int e, ret = 0;

	buf_init(&tmp, BASIC_OUT_MAX);
	tmp.wipe = true;
	if (put_through(pair, bound_pairs(c, pair), &tmp, creds, n, &x->replaced) < 0) {
		buf_fini(&tmp);
		return -E2BIG;
	}
	e = EVP_EncodeBlock((unsigned char *)enc, (const unsigned char *)buf_head(&tmp),
			    (int)tmp.len);
	buf_fini(&tmp);
	if (buf_append(b, v.p, off) < 0 || buf_append(b, enc, (size_t)e) < 0)
		ret = -E2BIG;
	if (ret == 0 && x->n_basic < BASIC_MAX && (size_t)e <= SUBST_FROM_MAX) {
		char *from = strndup(enc, (size_t)e), *to = strndup(v.p + off, v.len - off);

		if (from && to) {
			x->basic[x->n_basic][0] = from;
			x->basic[x->n_basic][1] = to;
			x->n_basic++;
			x->in_pair[x->n_in++] =
			    (struct subst_pair){from, (size_t)e, to, v.len - off, false};
		} else {
			free(from);
			free(to);
			ret = -ENOMEM;
		}
	}
	explicit_bzero(enc, sizeof(enc));
	return ret;
}

int secretx_put_field(struct conn *c, struct buf *b, const struct http1_header *h, bool request)
{
	struct subst_pair pair[SECRET_MAX];
	char *scratch = c->w->sx_head;
	size_t n, off = 0;
	ssize_t dec;

	if (buf_append(b, h->name.p, h->name.len) < 0 || buf_append(b, ": ", 2) < 0)
		return -E2BIG;
	if (!request) {
		if (put_through(c->sx->in_pair, c->sx->n_in, b, h->value.p, h->value.len, NULL) < 0)
			return -E2BIG;
		return buf_append(b, "\r\n", 2);
	}
	n = bound_pairs(c, pair);
	dec = basic_decode(h->value, scratch, &off);
	if (dec > 0 && secret_find(conn_cfg(c)->secrets, n_sec(c), scratch, (size_t)dec) >= 0) {
		if (put_basic(c, b, h->value, off, scratch, (size_t)dec) < 0)
			return -E2BIG;
	} else if (put_through(pair, n, b, h->value.p, h->value.len, &c->sx->replaced) < 0) {
		return -E2BIG;
	}
	return buf_append(b, "\r\n", 2);
}

int secretx_put_reason(struct conn *c, struct buf *b, struct slice reason)
{
	return put_through(c->sx->in_pair, c->sx->n_in, b, reason.p, reason.len, NULL);
}

int secretx_put_extra(struct conn *c, struct buf *b, bool request)
{
	struct secretx *x = c->sx;
	size_t i;

	if (!request)
		return x->resp.on && x->resp.chunk
			   ? buf_append(b, "Transfer-Encoding: chunked\r\n", 28)
			   : 0;
	if (x->req.on && x->req.chunk && buf_append(b, "Transfer-Encoding: chunked\r\n", 28) < 0)
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
		x->replaced++;
	}
	/* The last field of the head: whether a value went into it unencrypted is known now. */
	if (x->replaced && !c->up_tls)
		log_warn("%s %s from %s: a secret's value goes to %s unencrypted (http://); use "
			 "https:// to keep it off the network",
			 c->method, c->url, c->who, c->uhost);
	return 0;
}

void secretx_response_begin(struct conn *c, const struct http1_resp *r)
{
	struct secretx *x = c->sx;

	if (!x || !x->n_in || r->status == 101 ||
	    (r->body != HTTP1_BODY_LENGTH && r->body != HTTP1_BODY_CHUNKED &&
	     r->body != HTTP1_BODY_UNTIL_CLOSE))
		return;
	if (http1_header_get(r->hdr, r->n_hdr, "content-encoding").len) {
		struct slice ce = http1_header_get(r->hdr, r->n_hdr, "content-encoding");

		if (!(ce.len == 8 && strncasecmp(ce.p, "identity", 8) == 0)) {
			/* Its name is not quoted: the upstream chose it, and could put a value in. */
			log_warn(
			    "%s %s from %s: the response is compressed although boundary asked "
			    "for no encoding, so a secret's value in its body cannot be "
			    "replaced by its placeholder",
			    c->method, c->url, c->who);
			return;
		}
	}
	x->resp.on = true;
	x->resp.fin = false;
	/* Its length may change: chunked to an HTTP/1.1 client, else until the close. */
	x->resp.chunk = r->body != HTTP1_BODY_UNTIL_CLOSE && c->req.minor >= 1;
	if (r->body != HTTP1_BODY_UNTIL_CLOSE && !x->resp.chunk)
		c->client_close = true;
	flow_init(&x->resp, x->in_pair, x->n_in);
}

bool secretx_request_body(const struct conn *c)
{
	return c->sx && c->sx->req.on;
}

bool secretx_response_body(const struct conn *c)
{
	return c->sx && c->sx->resp.on;
}

/* --- bodies --------------------------------------------------------------------------------- */

static int to_pend(void *arg, const char *p, size_t n)
{
	return buf_append(arg, p, n) < 0 ? -E2BIG : 0;
}

/*
 * The last chunk, and the trailer fields ch kept (none when ch is NULL), through a fresh engine
 * on f's pairs as the body went: a bound host's trailers (a gRPC status message) may quote a
 * value. Returns 0, -EPERM (a refused pair), or -1.
 */
static int end_chunks(struct flow *f, struct http1_chunked *ch)
{
	int ret = 0;

	if (buf_append(&f->pend, "0\r\n", 3) < 0)
		return -1;
	if (ch && ch->trailers_got) {
		subst_init(&f->e, f->pair, f->n_pair);
		ret = subst_feed(&f->e, ch->trailers, ch->trailers_got, to_pend, &f->pend);
		if (ret == 0)
			ret = subst_finish(&f->e, to_pend, &f->pend);
		explicit_bzero(ch->trailers, ch->trailers_got);
		ch->trailers_got = 0;
	}
	if (ret < 0)
		return ret == -EPERM ? -EPERM : -1;
	return buf_append(&f->pend, "\r\n", 2) < 0 ? -1 : 0;
}

/*
 * One step of a body through f: the next bytes of src (framed as kind) decoded, fed to the
 * engine, and what it makes put in f->pend, as one chunk when f->chunk (a size line in front:
 * room is kept for it and what is not needed closed up). Returns the bytes of src used, or -1
 * (broken framing, no memory) or -EPERM (a refused pair).
 */
static ssize_t step(struct conn *c, struct flow *f, struct buf *src, enum http1_body kind,
		    uint64_t *left, struct http1_chunked *ch)
{
	char *dec = c->w->sx_dec, line[24];
	size_t n = src->len, plen = 0, pos, start, made;
	ssize_t r;
	int ret, k;

	if (n > STEP_IN)
		n = STEP_IN;
	if (kind == HTTP1_BODY_LENGTH && n > *left)
		n = (size_t)*left;
	/* What the engine may make must fit: it never fails for want of room. */
	while (n > 0 && subst_out_bound(&f->e, n) + CHUNK_GAP + 8 > PEND_CAP - f->pend.len)
		n /= 2;
	if (kind == HTTP1_BODY_CHUNKED) {
		/* Its trailer fields are kept (gRPC's status rides there) and go out at the end. */
		if (!ch->trailers && f->chunk) {
			f->tr = f->tr ? f->tr : malloc(HTTP1_TRAILER_MAX);
			if (!f->tr)
				return -1;
			ch->trailers = f->tr;
			ch->trailers_cap = HTTP1_TRAILER_MAX;
		}
		r = http1_chunked_decode(ch, buf_head(src), n, &pos, dec, &plen);
		if (r < 0)
			return -1;
		n = (size_t)r;
	} else {
		memcpy(dec, buf_head(src), n);
		plen = n;
	}
	start = f->pend.len;
	if (f->chunk && buf_append(&f->pend, "                    ", CHUNK_GAP) < 0)
		return -1;
	ret = subst_feed(&f->e, dec, plen, to_pend, &f->pend);
	buf_consume(src, n);
	if (kind == HTTP1_BODY_LENGTH)
		*left -= n;
	if (ret == 0 && ((kind == HTTP1_BODY_LENGTH && *left == 0) ||
			 (kind == HTTP1_BODY_CHUNKED && ch->done) ||
			 (kind == HTTP1_BODY_UNTIL_CLOSE && c->up_eof && src->len == 0))) {
		ret = subst_finish(&f->e, to_pend, &f->pend);
		f->fin = true;
	}
	explicit_bzero(dec, plen);
	if (ret == -EPERM)
		return -EPERM;
	if (ret < 0)
		return -1;
	if (f->chunk) {
		char *at = f->pend.data + f->pend.off + start;

		made = f->pend.len - start - CHUNK_GAP;
		if (made == 0) {
			f->pend.len = start;
		} else {
			k = snprintf(line, sizeof(line), "%zx\r\n", made);
			memmove(at + k, at + CHUNK_GAP, made);
			memcpy(at, line, (size_t)k);
			f->pend.len -= CHUNK_GAP - (size_t)k;
			if (buf_append(&f->pend, "\r\n", 2) < 0)
				return -1;
		}
		if (f->fin && (ret = end_chunks(f, kind == HTTP1_BODY_CHUNKED ? ch : NULL)) < 0)
			return ret == -EPERM ? -EPERM : -1;
	}
	return (ssize_t)n;
}

/*
 * Moves the next body bytes from src through f into dst. Returns > 0 for progress, 0 for none
 * (no room, nothing yet), -1 for broken framing, -EPERM for a refused pair; *done once all of
 * the body has been read and its end is in dst.
 */
static ssize_t move(struct conn *c, struct flow *f, struct buf *src, struct buf *dst,
		    enum http1_body kind, uint64_t *left, struct http1_chunked *ch, bool *done)
{
	ssize_t moved = 0, r;
	size_t k;

	for (;;) {
		if (f->pend.len) {
			k = f->pend.len < buf_room(dst) ? f->pend.len : buf_room(dst);
			if (k == 0)
				return moved;
			if (buf_append(dst, buf_head(&f->pend), k) < 0)
				return -1;
			buf_consume(&f->pend, k);
			moved += (ssize_t)k;
			if (f->pend.len)
				return moved;
		}
		if (f->fin) {
			*done = true;
			return moved + 1;
		}
		if (src->len == 0 && !(kind == HTTP1_BODY_LENGTH && *left == 0) &&
		    !(kind == HTTP1_BODY_UNTIL_CLOSE && c->up_eof))
			return moved;
		r = step(c, f, src, kind, left, ch);
		if (r < 0)
			return r;
		moved += r;
		if (r == 0 && !f->fin && !f->pend.len)
			return moved;
	}
}

void secretx_tunnel_begin(struct conn *c)
{
	struct secretx *x = c->sx;

	if (!x || !x->n_in)
		return;
	x->resp.on = true;
	x->resp.chunk = x->resp.fin = false;
	flow_init(&x->resp, x->in_pair, x->n_in);
}

bool secretx_tunnel_down(struct conn *c, bool eof, bool *holding)
{
	struct flow *f = c->sx ? &c->sx->resp : NULL;
	uint64_t left = 0;
	bool done = false;
	ssize_t r;

	*holding = false;
	if (!f || !f->on)
		return false;
	if (f->fin && !f->pend.len)
		return false;
	c->up_eof = eof;
	r = move(c, f, &c->uin, &c->cout, HTTP1_BODY_UNTIL_CLOSE, &left, NULL, &done);
	/*
	 * A tunnel has no end to wait for: what the engine holds back as the possible start of a
	 * value goes out once the upstream has nothing more for now, or an exchange that waits
	 * for it (a WebSocket's echo) would wait forever.
	 */
	if (r >= 0 && !eof && !c->uin.len && !f->pend.len && f->e.carry_len) {
		if (subst_finish(&f->e, to_pend, &f->pend) == 0)
			r = move(c, f, &c->uin, &c->cout, HTTP1_BODY_UNTIL_CLOSE, &left, NULL,
				 &done);
	}
	*holding = !(f->fin && !f->pend.len);
	return r > 0;
}

ssize_t secretx_move_request(struct conn *c, bool *done)
{
	return move(c, &c->sx->req, &c->cin, &c->uout, c->req_body, &c->req_left, &c->req_chunk,
		    done);
}

ssize_t secretx_move_response(struct conn *c, bool *done)
{
	return move(c, &c->sx->resp, &c->uin, &c->cout, c->resp_body, &c->resp_left, &c->resp_chunk,
		    done);
}

size_t secretx_refused(const struct conn *c)
{
	const struct subst_pair *p = &c->sx->out_pair[c->sx->req.e.refused];
	size_t i;

	for (i = 0; i < n_sec(c); i++)
		if (sec(c, i)->placeholder == p->from)
			return i;
	return 0;
}
