// SPDX-License-Identifier: MIT
/*
 * http1_fuzz.c: libFuzzer target for the HTTP/1.1 parser: the request parser, the response
 * parser and the chunked scanner each read the whole input.
 *
 * Invariants checked, beyond "no crash, no leak, no UB": results stay inside the input and the
 * limits; an error has a known code, a sentence and a position inside the input; a head that
 * parses gives 0 on every shorter prefix and the same result without the bytes after it; a
 * request re-serialised canonically ("METHOD SP target SP HTTP/1.x", "name: value" lines)
 * parses to the same method, target, host, framing, flags and header list; the chunked scanner
 * gives the same outcome in one piece, cut in two anywhere, and one byte at a time.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/http1.h"

#define MAX_HEAD (64 * 1024)
#define MAX_HDR	 100

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct http1_header hdr[MAX_HDR], hdr2[MAX_HDR];

static void check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "invariant broken: %s\n", what);
		abort();
	}
}

static bool same(struct slice a, struct slice b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

static bool inside(struct slice s, const char *buf, size_t len)
{
	return !s.p ? s.len == 0 : s.p >= buf && s.p + s.len <= buf + len;
}

static void check_error(ssize_t r, size_t err_pos, size_t len)
{
	check(-r >= HTTP1_E_HEAD_TOO_BIG && -r <= HTTP1_E_BARE_CR, "error code in range");
	check(strcmp(http1_strerror((int)r), "unknown error") != 0, "error has a sentence");
	check(err_pos <= len, "err_pos inside the input");
}

/* Writes the canonical form of a parsed request; returns its length. */
static size_t canonical(const struct http1_req *req, char *out)
{
	size_t n = 0, i;

#define PUT(p, l)                                                                                  \
	do {                                                                                       \
		memcpy(out + n, (p), (l));                                                         \
		n += (l);                                                                          \
	} while (0)
	PUT(req->method.p, req->method.len);
	PUT(" ", 1);
	PUT(req->target.p, req->target.len);
	PUT(req->minor ? " HTTP/1.1\r\n" : " HTTP/1.0\r\n", 11);
	for (i = 0; i < req->n_hdr; i++) {
		PUT(req->hdr[i].name.p, req->hdr[i].name.len);
		PUT(": ", 2);
		if (req->hdr[i].value.len)
			PUT(req->hdr[i].value.p, req->hdr[i].value.len);
		PUT("\r\n", 2);
	}
	PUT("\r\n", 2);
#undef PUT
	return n;
}

static void fuzz_request(const char *buf, size_t size, uint32_t h)
{
	struct http1_req req, req2;
	size_t err_pos, i, n, cut;
	ssize_t r, r2;
	char *canon;

	r = http1_parse_request(buf, size, MAX_HEAD, &req, hdr, MAX_HDR, &err_pos);
	check(r <= (ssize_t)size, "result inside the input");
	if (r < 0) {
		check_error(r, err_pos, size);
		return;
	}
	if (r == 0) {
		check(size < MAX_HEAD, "0 only below max_head");
		return;
	}
	n = (size_t)r;
	check(req.head_len == n && n <= MAX_HEAD && req.n_hdr <= MAX_HDR, "head within limits");
	check(req.minor == 0 || req.minor == 1, "minor");
	check(req.body == HTTP1_BODY_NONE || req.body == HTTP1_BODY_LENGTH ||
		  req.body == HTTP1_BODY_CHUNKED,
	      "request framing");
	check(req.body == HTTP1_BODY_LENGTH || req.content_length == 0, "content_length");
	check(req.method.len > 0 && req.target.len > 0, "method and target");
	check(inside(req.method, buf, n) && inside(req.target, buf, n) &&
		  inside(req.scheme, buf, n) && inside(req.authority, buf, n) &&
		  inside(req.path, buf, n) && inside(req.host, buf, n),
	      "slices inside the head");
	check(req.minor == 0 || req.host.p, "HTTP/1.1 has a host");
	for (i = 0; i < req.n_hdr; i++)
		check(inside(hdr[i].name, buf, n) && inside(hdr[i].value, buf, n) &&
			  hdr[i].name.len > 0,
		      "headers inside the head");

	/* A shorter prefix needs more; the head alone parses the same. */
	cut = h % n;
	check(http1_parse_request(buf, cut, MAX_HEAD, &req2, hdr2, MAX_HDR, &err_pos) == 0,
	      "a prefix of a head needs more");
	r2 = http1_parse_request(buf, n, MAX_HEAD, &req2, hdr2, MAX_HDR, &err_pos);
	check(r2 == r && req2.body == req.body && req2.flags == req.flags, "head alone");

	/* Canonical form: one space after the colon, no other OWS. */
	canon = malloc(n + req.n_hdr + 16);
	if (!canon)
		return;
	n = canonical(&req, canon);
	r2 = http1_parse_request(canon, n, MAX_HEAD + MAX_HDR, &req2, hdr2, MAX_HDR, &err_pos);
	if (r2 != (ssize_t)n)
		fprintf(stderr, "canonical form: %zd (%s) at %zu\n", r2, http1_strerror((int)r2),
			err_pos);
	check(r2 == (ssize_t)n, "canonical form parses");
	check(same(req.method, req2.method) && same(req.target, req2.target) &&
		  same(req.host, req2.host) && same(req.scheme, req2.scheme) &&
		  same(req.authority, req2.authority) && same(req.path, req2.path) &&
		  req.form == req2.form && req.minor == req2.minor,
	      "canonical form: same request line and host");
	check(req.body == req2.body && req.content_length == req2.content_length &&
		  req.flags == req2.flags,
	      "canonical form: same framing and flags");
	check(req.n_hdr == req2.n_hdr, "canonical form: same header count");
	for (i = 0; i < req.n_hdr; i++)
		check(same(hdr[i].name, hdr2[i].name) && same(hdr[i].value, hdr2[i].value),
		      "canonical form: same headers");
	free(canon);
}

static void fuzz_response(const char *buf, size_t size, uint32_t h)
{
	static const char *const methods[] = {"GET", "HEAD", "CONNECT", "POST"};
	const char *m = methods[h % 4];
	struct slice method = slice_of(m, strlen(m));
	struct http1_resp resp, resp2;
	size_t err_pos, i, n;
	ssize_t r;

	r = http1_parse_response(buf, size, MAX_HEAD, method, &resp, hdr, MAX_HDR, &err_pos);
	check(r <= (ssize_t)size, "result inside the input");
	if (r < 0) {
		check_error(r, err_pos, size);
		return;
	}
	if (r == 0) {
		check(size < MAX_HEAD, "0 only below max_head");
		return;
	}
	n = (size_t)r;
	check(resp.head_len == n && resp.n_hdr <= MAX_HDR, "head within limits");
	check(resp.status >= 100 && resp.status <= 599, "status");
	check(inside(resp.reason, buf, n), "reason inside the head");
	for (i = 0; i < resp.n_hdr; i++)
		check(inside(hdr[i].name, buf, n) && inside(hdr[i].value, buf, n),
		      "headers inside the head");
	check(resp.body != HTTP1_BODY_TUNNEL || resp.status == 101 || !strcmp(m, "CONNECT"),
	      "tunnel only after 101 or CONNECT");
	check(resp.body == HTTP1_BODY_NONE || resp.body == HTTP1_BODY_TUNNEL ||
		  (strcmp(m, "HEAD") && resp.status >= 200 && resp.status != 204 &&
		   resp.status != 304),
	      "no body where RFC 9112 6.3 forbids one");
	check(resp.body != HTTP1_BODY_UNTIL_CLOSE || (resp.flags & HTTP1_F_CLOSE),
	      "until-close closes");
	check(http1_parse_response(buf, h % n, MAX_HEAD, method, &resp2, hdr2, MAX_HDR, &err_pos) ==
		  0,
	      "a prefix of a head needs more");
}

/* Runs the scanner over buf in pieces cut at cut (0: one piece) or one byte at a time. */
static ssize_t chunked(const char *buf, size_t size, size_t cut, bool bytewise, size_t *err_pos,
		       bool *done)
{
	struct http1_chunked c;
	size_t off = 0, step;
	ssize_t r, total = 0;

	http1_chunked_init(&c);
	while (off < size) {
		step = bytewise ? 1 : cut && off < cut ? cut - off : size - off;
		r = http1_chunked_scan(&c, buf + off, step, err_pos);
		if (r < 0) {
			*err_pos += off;
			return r;
		}
		check((size_t)r <= step && ((size_t)r == step || c.done),
		      "scan consumes all or ends");
		total += r;
		off += step;
		if (c.done)
			break;
	}
	*done = c.done;
	return total;
}

static void fuzz_chunked(const char *buf, size_t size, uint32_t h)
{
	size_t e1 = 0, e2 = 0, e3 = 0;
	bool d1 = false, d2 = false, d3 = false;
	ssize_t r1, r2, r3;

	r1 = chunked(buf, size, 0, false, &e1, &d1);
	r2 = chunked(buf, size, size ? h % size : 0, false, &e2, &d2);
	check(r1 == r2, "split scan gives the same result");
	check(r1 >= 0 ? d1 == d2 : e1 == e2, "split scan: same end or error position");
	if (size <= 4096) {
		r3 = chunked(buf, size, 0, true, &e3, &d3);
		check(r1 == r3 && (r1 >= 0 ? d1 == d3 : e1 == e3), "bytewise scan agrees");
	}
	if (r1 < 0) {
		check(r1 == -HTTP1_E_CHUNK && e1 < size, "chunk error inside the input");
	} else {
		check((size_t)r1 == size || d1, "whole input or the end of the body");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < size; i++)
		h = (h ^ data[i]) * 16777619u;
	fuzz_request(buf, size, h);
	fuzz_response(buf, size, h);
	fuzz_chunked(buf, size, h);
	return 0;
}
