// SPDX-License-Identifier: MIT
/*
 * http1_test.c: the HTTP/1.1 parser, table by table: valid requests of every form and what they
 * parse to, every error code with its position, the request-smuggling vectors, feeding a head
 * one byte at a time, response framing, and the chunked scanner split at every byte.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reach the statics (authority_ok, version_at) as well as the API. */
#include "../../../proxy/http1.c"

#define MAX_HEAD (64 * 1024)
#define MAX_HDR	 100
#define N(a)	 (sizeof(a) / sizeof((a)[0]))

/* Fails unless s holds exactly want; want NULL means "absent" ({NULL, 0}). */
static void check_slice(const char *what, const char *raw, struct slice s, const char *want)
{
	if (!want) {
		if (s.p || s.len)
			fail_msg("%s: %s = \"%.*s\", want absent", raw, what, (int)s.len, s.p);
		return;
	}
	if (!s.p || s.len != strlen(want) || memcmp(s.p, want, s.len) != 0)
		fail_msg("%s: %s = \"%.*s\", want \"%s\"", raw, what, (int)s.len, s.p ? s.p : "",
			 want);
}

static void check_in(const char *buf, size_t len, struct slice s)
{
	if (s.p)
		assert_true(s.p >= buf && s.p + s.len <= buf + len);
}

/* --- valid requests ------------------------------------------------------------------------ */

struct req_case {
	const char *raw;
	const char *method, *target;
	enum http1_form form;
	const char *scheme, *authority, *path, *host;
	int minor;
	enum http1_body body;
	uint64_t cl;
	unsigned flags;
	size_t n_hdr;
	const char *hdr[6]; /* name, value, name, value, ... of the first fields */
};

static const struct req_case valid_requests[] = {
    {"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n",
     "GET",
     "/",
     HTTP1_ORIGIN,
     NULL,
     NULL,
     "/",
     "example.com",
     1,
     HTTP1_BODY_NONE,
     0,
     0,
     1,
     {"Host", "example.com"}},
    {"GET /a/b?c=d&e HTTP/1.1\r\nHost: Example.COM:8080\r\nUser-Agent: t/1.0\r\n\r\n",
     "GET",
     "/a/b?c=d&e",
     HTTP1_ORIGIN,
     NULL,
     NULL,
     "/a/b?c=d&e",
     "Example.COM:8080",
     1,
     HTTP1_BODY_NONE,
     0,
     0,
     2,
     {"Host", "Example.COM:8080", "User-Agent", "t/1.0"}},
    {"GET http://example.com/x?y HTTP/1.1\r\nHost: EXAMPLE.com\r\n\r\n",
     "GET",
     "http://example.com/x?y",
     HTTP1_ABSOLUTE,
     "http",
     "example.com",
     "/x?y",
     "EXAMPLE.com",
     1,
     HTTP1_BODY_NONE,
     0,
     0,
     1,
     {"Host", "EXAMPLE.com"}},
    {"GET HTTPS://example.com:8443 HTTP/1.1\r\n\r\n",
     "GET",
     "HTTPS://example.com:8443",
     HTTP1_ABSOLUTE,
     "HTTPS",
     "example.com:8443",
     NULL,
     "example.com:8443",
     1,
     HTTP1_BODY_NONE,
     0,
     0,
     0,
     {NULL}},
    {"HEAD http://a.example?q=1 HTTP/1.1\r\nHost: a.example\r\n\r\n",
     "HEAD",
     "http://a.example?q=1",
     HTTP1_ABSOLUTE,
     "http",
     "a.example",
     "?q=1",
     "a.example",
     1,
     HTTP1_BODY_NONE,
     0,
     0,
     1,
     {NULL}},
    {"GET http://[2001:db8::1]:8080/ HTTP/1.0\r\n\r\n",
     "GET",
     "http://[2001:db8::1]:8080/",
     HTTP1_ABSOLUTE,
     "http",
     "[2001:db8::1]:8080",
     "/",
     "[2001:db8::1]:8080",
     0,
     HTTP1_BODY_NONE,
     0,
     HTTP1_F_CLOSE,
     0,
     {NULL}},
    {"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
     "CONNECT",
     "example.com:443",
     HTTP1_AUTHORITY,
     NULL,
     "example.com:443",
     NULL,
     "example.com:443",
     1,
     HTTP1_BODY_NONE,
     0,
     0,
     1,
     {NULL}},
    {"CONNECT [2001:db8::1]:443 HTTP/1.1\r\nUser-Agent: curl/7.88.1\r\n\r\n",
     "CONNECT",
     "[2001:db8::1]:443",
     HTTP1_AUTHORITY,
     NULL,
     "[2001:db8::1]:443",
     NULL,
     "[2001:db8::1]:443",
     1,
     HTTP1_BODY_NONE,
     0,
     0,
     1,
     {NULL}},
    {"CONNECT 192.0.2.7:8443 HTTP/1.0\r\n\r\n",
     "CONNECT",
     "192.0.2.7:8443",
     HTTP1_AUTHORITY,
     NULL,
     "192.0.2.7:8443",
     NULL,
     "192.0.2.7:8443",
     0,
     HTTP1_BODY_NONE,
     0,
     HTTP1_F_CLOSE,
     0,
     {NULL}},
    {"OPTIONS * HTTP/1.1\r\nHost: example.com\r\n\r\n",
     "OPTIONS",
     "*",
     HTTP1_ASTERISK,
     NULL,
     NULL,
     "*",
     "example.com",
     1,
     HTTP1_BODY_NONE,
     0,
     0,
     1,
     {NULL}},
    {"GET / HTTP/1.0\r\n\r\n",
     "GET",
     "/",
     HTTP1_ORIGIN,
     NULL,
     NULL,
     "/",
     NULL,
     0,
     HTTP1_BODY_NONE,
     0,
     HTTP1_F_CLOSE,
     0,
     {NULL}},
    {"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n",
     "GET",
     "/",
     HTTP1_ORIGIN,
     NULL,
     NULL,
     "/",
     NULL,
     0,
     HTTP1_BODY_NONE,
     0,
     HTTP1_F_KEEPALIVE_10,
     1,
     {"Connection", "Keep-Alive"}},
    {"GET / HTTP/1.0\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n",
     "GET",
     "/",
     HTTP1_ORIGIN,
     NULL,
     NULL,
     "/",
     NULL,
     0,
     HTTP1_BODY_NONE,
     0,
     HTTP1_F_CLOSE,
     2,
     {NULL}},
    {"GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
     "GET",
     "/",
     HTTP1_ORIGIN,
     NULL,
     NULL,
     "/",
     "h",
     1,
     HTTP1_BODY_NONE,
     0,
     HTTP1_F_CLOSE,
     2,
     {NULL}},
    {"GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive\r\n\r\n",
     "GET",
     "/",
     HTTP1_ORIGIN,
     NULL,
     NULL,
     "/",
     "h",
     1,
     HTTP1_BODY_NONE,
     0,
     0,
     2,
     {NULL}},
    {"POST /upload HTTP/1.1\r\nHost: h\r\nContent-Length: 42\r\n\r\n",
     "POST",
     "/upload",
     HTTP1_ORIGIN,
     NULL,
     NULL,
     "/upload",
     "h",
     1,
     HTTP1_BODY_LENGTH,
     42,
     0,
     2,
     {NULL}},
    {"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n",
     "POST",
     "/",
     HTTP1_ORIGIN,
     NULL,
     NULL,
     "/",
     "h",
     1,
     HTTP1_BODY_LENGTH,
     0,
     0,
     2,
     {NULL}},
    {"POST / HTTP/1.1\r\nHost: h\r\ncontent-length: 007\r\n\r\n",
     "POST",
     "/",
     HTTP1_ORIGIN,
     NULL,
     NULL,
     "/",
     "h",
     1,
     HTTP1_BODY_LENGTH,
     7,
     0,
     2,
     {NULL}},
    {"PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: 9223372036854775807\r\n\r\n",
     "PUT",
     "/",
     HTTP1_ORIGIN,
     NULL,
     NULL,
     "/",
     "h",
     1,
     HTTP1_BODY_LENGTH,
     INT64_MAX,
     0,
     2,
     {NULL}},
    {"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding:  Chunked \t\r\n\r\n",
     "POST",
     "/",
     HTTP1_ORIGIN,
     NULL,
     NULL,
     "/",
     "h",
     1,
     HTTP1_BODY_CHUNKED,
     0,
     0,
     2,
     {"Host", "h", "Transfer-Encoding", "Chunked"}},
    {"PUT /f HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nExpect: 100-Continue\r\n\r\n",
     "PUT",
     "/f",
     HTTP1_ORIGIN,
     NULL,
     NULL,
     "/f",
     "h",
     1,
     HTTP1_BODY_LENGTH,
     5,
     HTTP1_F_EXPECT_CONTINUE,
     3,
     {NULL}},
    {"GET /ws HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\n",
     "GET",
     "/ws",
     HTTP1_ORIGIN,
     NULL,
     NULL,
     "/ws",
     "h",
     1,
     HTTP1_BODY_NONE,
     0,
     HTTP1_F_UPGRADE,
     3,
     {NULL}},
    /* Connection: upgrade without an Upgrade field, and Upgrade in HTTP/1.0: no upgrade. */
    {"GET /ws HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\n\r\n",
     "GET",
     "/ws",
     HTTP1_ORIGIN,
     NULL,
     NULL,
     "/ws",
     "h",
     1,
     HTTP1_BODY_NONE,
     0,
     0,
     2,
     {NULL}},
    {"GET /ws HTTP/1.0\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n",
     "GET",
     "/ws",
     HTTP1_ORIGIN,
     NULL,
     NULL,
     "/ws",
     NULL,
     0,
     HTTP1_BODY_NONE,
     0,
     HTTP1_F_CLOSE,
     2,
     {NULL}},
    /* Value OWS is trimmed, empty values and obs-text are allowed, names keep their case. */
    {"M-SEARCH /x|{y} HTTP/1.1\r\nhOsT:[::1]:80\r\nX-Empty:\r\nX-Tab:\t v w \t\r\n"
     "X-Utf8: caf\xc3\xa9\r\n\r\n",
     "M-SEARCH",
     "/x|{y}",
     HTTP1_ORIGIN,
     NULL,
     NULL,
     "/x|{y}",
     "[::1]:80",
     1,
     HTTP1_BODY_NONE,
     0,
     0,
     4,
     {"hOsT", "[::1]:80", "X-Empty", "", "X-Tab", "v w"}},
    {"GET http://a.example/ HTTP/1.1\r\nHost: A.example:80\r\n\r\n",
     "GET",
     "http://a.example/",
     HTTP1_ABSOLUTE,
     "http",
     "a.example",
     "/",
     "A.example:80",
     1,
     HTTP1_BODY_NONE,
     0,
     0,
     1,
     {NULL}},
    {"GET https://a.example:443/ HTTP/1.1\r\nHost: a.example\r\n\r\n",
     "GET",
     "https://a.example:443/",
     HTTP1_ABSOLUTE,
     "https",
     "a.example:443",
     "/",
     "a.example",
     1,
     HTTP1_BODY_NONE,
     0,
     0,
     1,
     {NULL}},
    {"get / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n",
     "get",
     "/",
     HTTP1_ORIGIN,
     NULL,
     NULL,
     "/",
     "127.0.0.1:8080",
     1,
     HTTP1_BODY_NONE,
     0,
     0,
     1,
     {NULL}},
};

static void check_request(const struct req_case *c, const char *buf, size_t len,
			  const struct http1_req *req, ssize_t r)
{
	size_t i;

	if (r != (ssize_t)strlen(c->raw))
		fail_msg("%s: returned %zd, want %zu", c->raw, r, strlen(c->raw));
	assert_int_equal(req->head_len, strlen(c->raw));
	check_slice("method", c->raw, req->method, c->method);
	check_slice("target", c->raw, req->target, c->target);
	assert_int_equal(req->form, c->form);
	check_slice("scheme", c->raw, req->scheme, c->scheme);
	check_slice("authority", c->raw, req->authority, c->authority);
	check_slice("path", c->raw, req->path, c->path);
	check_slice("host", c->raw, req->host, c->host);
	assert_int_equal(req->minor, c->minor);
	if (req->body != c->body || req->content_length != c->cl || req->flags != c->flags)
		fail_msg("%s: body %d cl %llu flags %#x, want %d %llu %#x", c->raw, req->body,
			 (unsigned long long)req->content_length, req->flags, c->body,
			 (unsigned long long)c->cl, c->flags);
	assert_int_equal(req->n_hdr, c->n_hdr);
	for (i = 0; i < N(c->hdr) && c->hdr[i]; i += 2) {
		check_slice("name", c->raw, req->hdr[i / 2].name, c->hdr[i]);
		check_slice("value", c->raw, req->hdr[i / 2].value, c->hdr[i + 1]);
	}
	check_in(buf, len, req->method);
	check_in(buf, len, req->target);
	check_in(buf, len, req->path);
	check_in(buf, len, req->host);
	for (i = 0; i < req->n_hdr; i++) {
		check_in(buf, len, req->hdr[i].name);
		check_in(buf, len, req->hdr[i].value);
	}
}

static void test_valid_requests(void **state)
{
	struct http1_header hdr[MAX_HDR];
	struct http1_req req;
	size_t i, err_pos;
	ssize_t r;

	(void)state;
	for (i = 0; i < N(valid_requests); i++) {
		const struct req_case *c = &valid_requests[i];

		err_pos = 12345;
		r = http1_parse_request(c->raw, strlen(c->raw), MAX_HEAD, &req, hdr, MAX_HDR,
					&err_pos);
		if (r < 0)
			fail_msg("%s: %s at %zu", c->raw, http1_strerror((int)r), err_pos);
		check_request(c, c->raw, strlen(c->raw), &req, r);
		assert_true(req.hdr == hdr);
	}
}

/* A body or the next request after the head is not looked at. */
static void test_request_then_body(void **state)
{
	static const char raw[] = "POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\n"
				  "a\nb\x01GET / HTTP/1.1\r\n";
	struct http1_header hdr[4];
	struct http1_req req;
	size_t err_pos;

	(void)state;
	assert_int_equal(
	    http1_parse_request(raw, sizeof(raw) - 1, MAX_HEAD, &req, hdr, 4, &err_pos),
	    strstr(raw, "\r\n\r\n") + 4 - raw);
	assert_int_equal(req.content_length, 4);
}

/* Each valid head fed one byte more at a time: 0 until the last byte, then the same result. */
static void test_resumable(void **state)
{
	struct http1_header hdr[MAX_HDR];
	struct http1_req req;
	size_t i, n, len, err_pos;
	char *buf;
	ssize_t r;

	(void)state;
	for (i = 0; i < N(valid_requests); i++) {
		const struct req_case *c = &valid_requests[i];

		len = strlen(c->raw);
		/* A heap copy of exactly n bytes, so ASan catches a read past len. */
		for (n = 0; n < len; n++) {
			buf = malloc(n ? n : 1);
			memcpy(buf, c->raw, n);
			r = http1_parse_request(buf, n, MAX_HEAD, &req, hdr, MAX_HDR, &err_pos);
			if (r != 0)
				fail_msg("%s: %zu bytes gave %zd, want 0", c->raw, n, r);
			free(buf);
		}
		buf = malloc(len);
		memcpy(buf, c->raw, len);
		r = http1_parse_request(buf, len, MAX_HEAD, &req, hdr, MAX_HDR, &err_pos);
		check_request(c, buf, len, &req, r);
		free(buf);
	}
}

/* --- request errors ------------------------------------------------------------------------ */

/* A literal and its length, which may include NULs. */
#define L(s) s, sizeof(s) - 1

struct err_case {
	const char *raw;
	size_t len;
	int err;
	size_t pos;
};

#define H11 "GET / HTTP/1.1\r\nHost: h\r\n" /* 25 bytes */

static const struct err_case request_errors[] = {
    /* Line structure. */
    {L("GET / HTTP/1.1\nHost: h\r\n\r\n"), HTTP1_E_BARE_LF, 14},
    {L(H11 "X: y\n\r\n"), HTTP1_E_BARE_LF, 29},
    {L(H11 "\n"), HTTP1_E_BARE_LF, 25},
    {L(H11 "X: a\rb\r\n\r\n"), HTTP1_E_BARE_CR, 29},
    {L("GET /\r HTTP/1.1\r\n\r\n"), HTTP1_E_BARE_CR, 5},
    {L(H11 "\r\r\n"), HTTP1_E_BARE_CR, 25},
    /* obs-fold, including whitespace before the first field. */
    {L(H11 "X: a\r\n b\r\n\r\n"), HTTP1_E_OBS_FOLD, 31},
    {L(H11 "X: a\r\n\tb\r\n\r\n"), HTTP1_E_OBS_FOLD, 31},
    {L("GET / HTTP/1.1\r\n Host: h\r\n\r\n"), HTTP1_E_OBS_FOLD, 16},
    /* Request line. */
    {L("\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n"), HTTP1_E_METHOD, 0},
    {L(" GET / HTTP/1.1\r\nHost: h\r\n\r\n"), HTTP1_E_METHOD, 0},
    {L("GE(T / HTTP/1.1\r\nHost: h\r\n\r\n"), HTTP1_E_METHOD, 2},
    {L("GET\t/ HTTP/1.1\r\nHost: h\r\n\r\n"), HTTP1_E_METHOD, 3},
    {L("GET\r\nHost: h\r\n\r\n"), HTTP1_E_METHOD, 3},
    {L("GET  / HTTP/1.1\r\nHost: h\r\n\r\n"), HTTP1_E_TARGET, 4},
    {L("GET /a\x01"
       "b HTTP/1.1\r\nHost: h\r\n\r\n"),
     HTTP1_E_TARGET, 6},
    {L("GET /a\x7f HTTP/1.1\r\nHost: h\r\n\r\n"), HTTP1_E_TARGET, 6},
    {L("GET /caf\xc3\xa9 HTTP/1.1\r\nHost: h\r\n\r\n"), HTTP1_E_TARGET, 8},
    {L("GET /a#frag HTTP/1.1\r\nHost: h\r\n\r\n"), HTTP1_E_TARGET, 6},
    {L("GET /a\\..\\b HTTP/1.1\r\nHost: h\r\n\r\n"), HTTP1_E_TARGET, 6},
    {L("GET http://a.example\\@b.example/ HTTP/1.1\r\nHost: h\r\n\r\n"), HTTP1_E_TARGET, 20},
    {L("GET /a\\..\\b HTTP/1.1\r\nHost: h\r\n\r\n"), HTTP1_E_TARGET, 6},
    {L("GET http://a.example\\@b.example/ HTTP/1.1\r\nHost: h\r\n\r\n"), HTTP1_E_TARGET, 20},
    {L("GET * HTTP/1.1\r\nHost: h\r\n\r\n"), HTTP1_E_TARGET, 4},
    {L("GET example.com:443 HTTP/1.1\r\nHost: h\r\n\r\n"), HTTP1_E_TARGET, 4},
    {L("GET ftp://example.com/ HTTP/1.1\r\nHost: h\r\n\r\n"), HTTP1_E_TARGET, 4},
    {L("GET http:/example.com/ HTTP/1.1\r\nHost: h\r\n\r\n"), HTTP1_E_TARGET, 8},
    {L("GET http:// HTTP/1.1\r\nHost: h\r\n\r\n"), HTTP1_E_TARGET, 11},
    {L("GET http://user@example.com/ HTTP/1.1\r\nHost: h\r\n\r\n"), HTTP1_E_TARGET, 15},
    {L("GET http://example.com:/ HTTP/1.1\r\nHost: h\r\n\r\n"), HTTP1_E_TARGET, 22},
    {L("GET http://[::1/ HTTP/1.1\r\nHost: h\r\n\r\n"), HTTP1_E_TARGET, 15},
    {L("CONNECT /x HTTP/1.1\r\nHost: h\r\n\r\n"), HTTP1_E_TARGET, 8},
    {L("CONNECT example.com HTTP/1.1\r\nHost: h\r\n\r\n"), HTTP1_E_TARGET, 19},
    {L("CONNECT example.com:99999 HTTP/1.1\r\nHost: h\r\n\r\n"), HTTP1_E_TARGET, 20},
    {L("CONNECT example.com:44a HTTP/1.1\r\nHost: h\r\n\r\n"), HTTP1_E_TARGET, 22},
    {L("CONNECT http://example.com:443/ HTTP/1.1\r\nHost: h\r\n\r\n"), HTTP1_E_TARGET, 12},
    {L("CONNECT [fe80::1%25eth0]:443 HTTP/1.1\r\nHost: h\r\n\r\n"), HTTP1_E_TARGET, 9},
    {L("OPTIONS *x HTTP/1.1\r\nHost: h\r\n\r\n"), HTTP1_E_TARGET, 8},
    {L("GET / HTTP/1.2\r\nHost: h\r\n\r\n"), HTTP1_E_VERSION, 13},
    {L("GET / HTTP/2.0\r\nHost: h\r\n\r\n"), HTTP1_E_VERSION, 11},
    {L("GET / http/1.1\r\nHost: h\r\n\r\n"), HTTP1_E_VERSION, 6},
    {L("GET / HTTP/1.1 \r\nHost: h\r\n\r\n"), HTTP1_E_VERSION, 14},
    {L("GET / HTTP/1.10\r\nHost: h\r\n\r\n"), HTTP1_E_VERSION, 14},
    {L("GET / HTTP/1.\r\nHost: h\r\n\r\n"), HTTP1_E_VERSION, 13},
    {L("GET /\r\n\r\n"), HTTP1_E_VERSION, 5},
    {L("GET /  HTTP/1.1\r\nHost: h\r\n\r\n"), HTTP1_E_VERSION, 6},
    /* Field names. */
    {L("GET / HTTP/1.1\r\nHost : h\r\n\r\n"), HTTP1_E_HEADER_NAME, 20},
    {L(H11 "Transfer-Encoding : chunked\r\n\r\n"), HTTP1_E_HEADER_NAME, 42},
    {L(H11 "Transfer-Encoding\t: chunked\r\n\r\n"), HTTP1_E_HEADER_NAME, 42},
    {L(H11 ": v\r\n\r\n"), HTTP1_E_HEADER_NAME, 25},
    {L(H11 "X(y): v\r\n\r\n"), HTTP1_E_HEADER_NAME, 26},
    {L(H11 "NoColon\r\n\r\n"), HTTP1_E_HEADER_NAME, 32},
    {L(H11 "X\xc3\xa9: v\r\n\r\n"), HTTP1_E_HEADER_NAME, 26},
    /* Field values: controls, and Host and Connection syntax. */
    {L(H11 "X: a\0b\r\n\r\n"), HTTP1_E_HEADER_VALUE, 29},
    {L(H11 "X: a\x01\r\n\r\n"), HTTP1_E_HEADER_VALUE, 29},
    {L(H11 "X: \x7f\r\n\r\n"), HTTP1_E_HEADER_VALUE, 28},
    {L(H11 "Connection: close, a b\r\n\r\n"), HTTP1_E_HEADER_VALUE, 45},
    {L("GET / HTTP/1.1\r\nHost: a b\r\n\r\n"), HTTP1_E_HEADER_VALUE, 23},
    {L("GET / HTTP/1.1\r\nHost:\r\n\r\n"), HTTP1_E_HEADER_VALUE, 21},
    {L("GET / HTTP/1.1\r\nHost: exa%6dple.com\r\n\r\n"), HTTP1_E_HEADER_VALUE, 25},
    {L("GET / HTTP/1.1\r\nHost: user@example.com\r\n\r\n"), HTTP1_E_HEADER_VALUE, 26},
    {L("GET / HTTP/1.1\r\nHost: example.com:\r\n\r\n"), HTTP1_E_HEADER_VALUE, 33},
    {L("GET / HTTP/1.1\r\nHost: example.com:http\r\n\r\n"), HTTP1_E_HEADER_VALUE, 34},
    {L("GET / HTTP/1.1\r\nHost: [::1\r\n\r\n"), HTTP1_E_HEADER_VALUE, 26},
    {L("GET / HTTP/1.1\r\nHost: [zz::1]\r\n\r\n"), HTTP1_E_HEADER_VALUE, 23},
    {L("GET / HTTP/1.1\r\nHost: a.com, b.com\r\n\r\n"), HTTP1_E_HEADER_VALUE, 27},
    /* Content-Length. */
    {L(H11 "Content-Length: +5\r\n\r\n"), HTTP1_E_BAD_CL, 41},
    {L(H11 "Content-Length: -1\r\n\r\n"), HTTP1_E_BAD_CL, 41},
    {L(H11 "Content-Length: 0x5\r\n\r\n"), HTTP1_E_BAD_CL, 42},
    {L(H11 "Content-Length: 5 5\r\n\r\n"), HTTP1_E_BAD_CL, 42},
    {L(H11 "Content-Length: 1e3\r\n\r\n"), HTTP1_E_BAD_CL, 42},
    {L(H11 "Content-Length:\r\n\r\n"), HTTP1_E_BAD_CL, 40},
    {L(H11 "Content-Length: 9223372036854775808\r\n\r\n"), HTTP1_E_BAD_CL, 59},
    {L(H11 "Content-Length: 99999999999999999999999\r\n\r\n"), HTTP1_E_BAD_CL, 59},
    {L(H11 "Content-Length: 5\r\nContent-Length: 5\r\n\r\n"), HTTP1_E_DUP_CL, 44},
    {L(H11 "Content-Length: 5\r\ncontent-length: 6\r\n\r\n"), HTTP1_E_DUP_CL, 44},
    {L(H11 "Content-Length: 5, 5\r\n\r\n"), HTTP1_E_DUP_CL, 42},
    {L(H11 "Content-Length: 5,6\r\n\r\n"), HTTP1_E_DUP_CL, 42},
    {L(H11 "Content-Length: ,5\r\n\r\n"), HTTP1_E_DUP_CL, 41},
    /* Transfer-Encoding and its mix with Content-Length. */
    {L(H11 "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"), HTTP1_E_CL_AND_TE, 44},
    {L(H11 "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n"), HTTP1_E_CL_AND_TE, 53},
    {L(H11 "Transfer-Encoding: chunked\r\nContent-Length: 0\r\n\r\n"), HTTP1_E_CL_AND_TE, 53},
    {L(H11 "Transfer-Encoding: chunked, chunked\r\n\r\n"), HTTP1_E_BAD_TE, 44},
    {L(H11 "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"), HTTP1_E_BAD_TE, 53},
    {L(H11 "Transfer-Encoding: gzip, chunked\r\n\r\n"), HTTP1_E_BAD_TE, 44},
    {L(H11 "Transfer-Encoding: chunked, gzip\r\n\r\n"), HTTP1_E_BAD_TE, 44},
    {L(H11 "Transfer-Encoding: xchunked\r\n\r\n"), HTTP1_E_BAD_TE, 44},
    {L(H11 "Transfer-Encoding: chunkedx\r\n\r\n"), HTTP1_E_BAD_TE, 44},
    {L(H11 "Transfer-Encoding: identity\r\n\r\n"), HTTP1_E_BAD_TE, 44},
    {L(H11 "Transfer-Encoding: \"chunked\"\r\n\r\n"), HTTP1_E_BAD_TE, 44},
    {L(H11 "Transfer-Encoding: chunked;q=1\r\n\r\n"), HTTP1_E_BAD_TE, 44},
    {L(H11 "Transfer-Encoding:\r\n\r\n"), HTTP1_E_BAD_TE, 43},
    {L("GET / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"), HTTP1_E_BAD_TE, 16},
    /* Host. */
    {L("GET / HTTP/1.1\r\n\r\n"), HTTP1_E_NO_HOST, 16},
    {L("GET / HTTP/1.1\r\nX-Host: h\r\n\r\n"), HTTP1_E_NO_HOST, 27},
    {L("OPTIONS * HTTP/1.1\r\n\r\n"), HTTP1_E_NO_HOST, 20},
    {L(H11 "Host: h\r\n\r\n"), HTTP1_E_DUP_HOST, 25},
    {L(H11 "host: other\r\n\r\n"), HTTP1_E_DUP_HOST, 25},
    {L("GET http://a.example/ HTTP/1.1\r\nHost: b.example\r\n\r\n"), HTTP1_E_HOST_MISMATCH, 38},
    {L("GET http://a.example/ HTTP/1.1\r\nHost: a.example:8080\r\n\r\n"), HTTP1_E_HOST_MISMATCH,
     38},
    {L("GET https://a.example/ HTTP/1.1\r\nHost: a.example:80\r\n\r\n"), HTTP1_E_HOST_MISMATCH, 39},
    {L("GET http://a.example:443/ HTTP/1.0\r\nHost: a.example\r\n\r\n"), HTTP1_E_HOST_MISMATCH, 42},
    {L("CONNECT a.example:443 HTTP/1.1\r\nHost: a.example\r\n\r\n"), HTTP1_E_HOST_MISMATCH, 38},
    {L("CONNECT a.example:443 HTTP/1.1\r\nHost: b.example:443\r\n\r\n"), HTTP1_E_HOST_MISMATCH, 38},
};

static void check_errors(const struct err_case *cases, size_t n, bool response)
{
	struct http1_header hdr[MAX_HDR];
	struct http1_resp resp;
	struct http1_req req;
	size_t i, len, err_pos, bad = 0;
	char *buf;
	ssize_t r;

	for (i = 0; i < n; i++) {
		len = cases[i].len;
		buf = malloc(len);
		memcpy(buf, cases[i].raw, len);
		err_pos = 12345;
		if (response)
			r = http1_parse_response(buf, len, MAX_HEAD, slice_of("GET", 3), &resp, hdr,
						 MAX_HDR, &err_pos);
		else
			r = http1_parse_request(buf, len, MAX_HEAD, &req, hdr, MAX_HDR, &err_pos);
		if (r != -cases[i].err || err_pos != cases[i].pos) {
			bad++;
			print_error("\"%.*s\": got %zd (%s) at %zu, want %d (%s) at %zu\n",
				    (int)len, cases[i].raw, r, http1_strerror((int)r), err_pos,
				    -cases[i].err, http1_strerror(cases[i].err), cases[i].pos);
		}
		assert_true(err_pos <= len);
		free(buf);
	}
	if (bad)
		fail_msg("%zu of %zu cases failed", bad, n);
}

static void test_request_errors(void **state)
{
	(void)state;
	check_errors(request_errors, N(request_errors), false);
}

/* Every code has its own sentence. */
static void test_strerror(void **state)
{
	int e;

	(void)state;
	for (e = HTTP1_E_HEAD_TOO_BIG; e <= HTTP1_E_BARE_CR; e++) {
		assert_string_not_equal(http1_strerror(e), "unknown error");
		assert_string_equal(http1_strerror(e), http1_strerror(-e));
	}
	assert_string_equal(http1_strerror(-HTTP1_E_CL_AND_TE),
			    "Content-Length and Transfer-Encoding together (request smuggling)");
	assert_string_equal(http1_strerror(0), "unknown error");
	assert_string_equal(http1_strerror(HTTP1_E_BARE_CR + 1), "unknown error");
}

static void test_limits(void **state)
{
	static const char head[] = "GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\n\r\n";
	size_t len = sizeof(head) - 1, err_pos;
	struct http1_header hdr[3];
	struct http1_req req;

	(void)state;
	/* The head fits exactly, or is one byte too many. */
	assert_int_equal(http1_parse_request(head, len, len, &req, hdr, 3, &err_pos), len);
	assert_int_equal(http1_parse_request(head, len, len - 1, &req, hdr, 3, &err_pos),
			 -HTTP1_E_HEAD_TOO_BIG);
	assert_int_equal(err_pos, len - 1);
	/* No end in sight: 0 below the limit, too big at it. */
	assert_int_equal(http1_parse_request(head, 20, 21, &req, hdr, 3, &err_pos), 0);
	assert_int_equal(http1_parse_request(head, 20, 20, &req, hdr, 3, &err_pos),
			 -HTTP1_E_HEAD_TOO_BIG);
	assert_int_equal(err_pos, 20);
	assert_int_equal(http1_parse_request(head, 20, 0, &req, hdr, 3, &err_pos),
			 -HTTP1_E_HEAD_TOO_BIG);
	/* A structural error inside the limit comes first. */
	assert_int_equal(http1_parse_request("GET /\n", 6, 4, &req, hdr, 3, &err_pos),
			 -HTTP1_E_HEAD_TOO_BIG);
	assert_int_equal(http1_parse_request("GET\n/", 5, 4, &req, hdr, 3, &err_pos),
			 -HTTP1_E_BARE_LF);
	/* Header count. */
	assert_int_equal(http1_parse_request(head, len, MAX_HEAD, &req, hdr, 2, &err_pos),
			 -HTTP1_E_TOO_MANY_HEADERS);
	assert_int_equal(err_pos, 31);
	assert_int_equal(http1_parse_request(head, len, MAX_HEAD, &req, NULL, 0, &err_pos),
			 -HTTP1_E_TOO_MANY_HEADERS);
	assert_int_equal(err_pos, 16);
	assert_int_equal(
	    http1_parse_request("GET / HTTP/1.0\r\n\r\n", 18, MAX_HEAD, &req, NULL, 0, &err_pos),
	    18);
}

/* A structural error is found as soon as its byte arrives; the rest once the head is whole. */
static void test_errors_while_incomplete(void **state)
{
	struct http1_header hdr[4];
	struct http1_req req;
	size_t err_pos;

	(void)state;
	assert_int_equal(
	    http1_parse_request("GET / HTTP/1.1\rX", 16, MAX_HEAD, &req, hdr, 4, &err_pos),
	    -HTTP1_E_BARE_CR);
	assert_int_equal(err_pos, 14);
	assert_int_equal(
	    http1_parse_request("GET / HTTP/1.1\r", 15, MAX_HEAD, &req, hdr, 4, &err_pos), 0);
	assert_int_equal(
	    http1_parse_request("GET / HTTP/1.1\n", 15, MAX_HEAD, &req, hdr, 4, &err_pos),
	    -HTTP1_E_BARE_LF);
	assert_int_equal(
	    http1_parse_request("BAD(METHOD / HTTP/1.1\r\n", 23, MAX_HEAD, &req, hdr, 4, &err_pos),
	    0);
	/* The line count too: the fifth field line is one too many for four. */
	assert_int_equal(
	    http1_parse_request("BAD(METHOD / HTTP/1.1\r\nA:\r\nB:\r\nC:\r\nD:\r\nE:\r\n", 43,
				MAX_HEAD, &req, hdr, 4, &err_pos),
	    -HTTP1_E_TOO_MANY_HEADERS);
	assert_int_equal(err_pos, 39);
}

static void test_authority(void **state)
{
	static const struct {
		const char *s;
		bool need_port, ok;
		size_t bad;
	} cases[] = {
	    {"example.com", false, true, 0},
	    {"example.com:0", false, true, 0},
	    {"example.com:65535", true, true, 0},
	    {"a_b-c.d.", false, true, 0},
	    {"[::1]", false, true, 0},
	    {"[::ffff:1.2.3.4]:1", true, true, 0},
	    {"example.com", true, false, 11},
	    {"example.com:65536", false, false, 12},
	    {"example.com:123456", false, false, 11},
	    {"[::1]", true, false, 5},
	    {"[::1]x", false, false, 5},
	    {"[]:1", false, false, 1},
	    {"[v1.x]", false, false, 1},
	    {":80", false, false, 0},
	    {"", false, false, 0},
	    {"a:b:c", false, false, 2},
	    {"ex!ample", false, false, 2},
	    {"[1:2:3:4:5:6:7:8:9:10:11:12:13:14:15:16:17]", false, false, 1},
	};
	size_t i, bad;

	(void)state;
	for (i = 0; i < N(cases); i++) {
		bad = 999;
		if (authority_ok(cases[i].s, strlen(cases[i].s), cases[i].need_port, &bad) !=
			cases[i].ok ||
		    (!cases[i].ok && bad != cases[i].bad))
			fail_msg("\"%s\": want %s at %zu, got bad %zu", cases[i].s,
				 cases[i].ok ? "ok" : "fail", cases[i].bad, bad);
	}
}

static void test_header_get(void **state)
{
	static const char raw[] = "GET / HTTP/1.1\r\nHost: h\r\nX-A: 1\r\nx-a: 2\r\nX-B:\r\n\r\n";
	struct http1_header hdr[8];
	struct http1_req req;
	struct slice v;
	size_t err_pos;

	(void)state;
	assert_true(http1_parse_request(raw, sizeof(raw) - 1, MAX_HEAD, &req, hdr, 8, &err_pos) >
		    0);
	check_slice("x-a", raw, http1_header_get(req.hdr, req.n_hdr, "x-A"), "1");
	v = http1_header_get(req.hdr, req.n_hdr, "X-B");
	assert_non_null(v.p);
	assert_int_equal(v.len, 0);
	check_slice("none", raw, http1_header_get(req.hdr, req.n_hdr, "X-C"), NULL);
	check_slice("none", raw, http1_header_get(NULL, 0, "Host"), NULL);
}

/* --- responses ----------------------------------------------------------------------------- */

static void test_responses(void **state)
{
	static const struct {
		const char *method, *raw;
		int status, minor;
		const char *reason;
		enum http1_body body;
		uint64_t cl;
		unsigned flags;
	} cases[] = {
	    {"GET", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", 200, 1, "OK", HTTP1_BODY_LENGTH,
	     5, 0},
	    {"HEAD", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", 200, 1, "OK", HTTP1_BODY_NONE,
	     0, 0},
	    {"HEAD", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", 200, 1, "OK",
	     HTTP1_BODY_NONE, 0, 0},
	    {"GET", "HTTP/1.1 204 No Content\r\n\r\n", 204, 1, "No Content", HTTP1_BODY_NONE, 0, 0},
	    {"GET", "HTTP/1.1 304 Not Modified\r\nContent-Length: 100\r\n\r\n", 304, 1,
	     "Not Modified", HTTP1_BODY_NONE, 0, 0},
	    {"PUT", "HTTP/1.1 100 Continue\r\n\r\n", 100, 1, "Continue", HTTP1_BODY_NONE, 0, 0},
	    {"GET", "HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n", 103, 1,
	     "Early Hints", HTTP1_BODY_NONE, 0, 0},
	    {"GET",
	     "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: "
	     "websocket\r\n\r\n",
	     101, 1, "Switching Protocols", HTTP1_BODY_TUNNEL, 0, HTTP1_F_UPGRADE},
	    {"CONNECT", "HTTP/1.1 200 Connection established\r\n\r\n", 200, 1,
	     "Connection established", HTTP1_BODY_TUNNEL, 0, 0},
	    {"CONNECT", "HTTP/1.1 407 Proxy Auth\r\nContent-Length: 0\r\n\r\n", 407, 1,
	     "Proxy Auth", HTTP1_BODY_LENGTH, 0, 0},
	    {"GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 200, 1, "OK",
	     HTTP1_BODY_CHUNKED, 0, 0},
	    {"GET",
	     "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n",
	     200, 1, "OK", HTTP1_BODY_CHUNKED, 0, 0},
	    {"GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 200, 1, "OK",
	     HTTP1_BODY_UNTIL_CLOSE, 0, HTTP1_F_CLOSE},
	    {"GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip,,\r\n\r\n", 200, 1, "OK",
	     HTTP1_BODY_UNTIL_CLOSE, 0, HTTP1_F_CLOSE},
	    {"GET", "HTTP/1.1 200 OK\r\n\r\n", 200, 1, "OK", HTTP1_BODY_UNTIL_CLOSE, 0,
	     HTTP1_F_CLOSE},
	    {"GET", "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\n", 200, 1,
	     "OK", HTTP1_BODY_LENGTH, 2, HTTP1_F_CLOSE},
	    {"GET", "HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\n", 200, 0, "OK", HTTP1_BODY_LENGTH,
	     3, HTTP1_F_CLOSE},
	    {"GET", "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 3\r\n\r\n", 200,
	     0, "OK", HTTP1_BODY_LENGTH, 3, HTTP1_F_KEEPALIVE_10},
	    {"GET", "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\n", 200, 0, "OK",
	     HTTP1_BODY_UNTIL_CLOSE, 0, HTTP1_F_CLOSE},
	    {"GET", "HTTP/1.1 200\r\nContent-Length: 1\r\n\r\n", 200, 1, "", HTTP1_BODY_LENGTH, 1,
	     0},
	    {"GET", "HTTP/1.1 404 \r\nContent-Length: 1\r\n\r\n", 404, 1, "", HTTP1_BODY_LENGTH, 1,
	     0},
	    {"GET", "HTTP/1.1 599 Weird \xff\tReason\r\nContent-Length: 1\r\n\r\n", 599, 1,
	     "Weird \xff\tReason", HTTP1_BODY_LENGTH, 1, 0},
	    {"get", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n", 200, 1, "OK", HTTP1_BODY_LENGTH,
	     1, 0},
	};
	struct http1_header hdr[MAX_HDR];
	struct http1_resp resp;
	size_t i, n, len, err_pos;
	char *buf;
	ssize_t r;

	(void)state;
	for (i = 0; i < N(cases); i++) {
		len = strlen(cases[i].raw);
		for (n = 0; n < len; n++) {
			buf = malloc(n ? n : 1);
			memcpy(buf, cases[i].raw, n);
			r = http1_parse_response(buf, n, MAX_HEAD,
						 slice_of(cases[i].method, strlen(cases[i].method)),
						 &resp, hdr, MAX_HDR, &err_pos);
			if (r != 0)
				fail_msg("%s: %zu bytes gave %zd, want 0", cases[i].raw, n, r);
			free(buf);
		}
		r = http1_parse_response(cases[i].raw, len, MAX_HEAD,
					 slice_of(cases[i].method, strlen(cases[i].method)), &resp,
					 hdr, MAX_HDR, &err_pos);
		if (r != (ssize_t)len)
			fail_msg("%s: got %zd (%s at %zu)", cases[i].raw, r, http1_strerror((int)r),
				 err_pos);
		assert_int_equal(resp.head_len, len);
		assert_int_equal(resp.status, cases[i].status);
		assert_int_equal(resp.minor, cases[i].minor);
		assert_int_equal(resp.reason.len, strlen(cases[i].reason));
		assert_memory_equal(resp.reason.p, cases[i].reason, resp.reason.len);
		if (resp.body != cases[i].body || resp.content_length != cases[i].cl ||
		    resp.flags != cases[i].flags)
			fail_msg("%s %s: body %d cl %llu flags %#x, want %d %llu %#x",
				 cases[i].method, cases[i].raw, resp.body,
				 (unsigned long long)resp.content_length, resp.flags, cases[i].body,
				 (unsigned long long)cases[i].cl, cases[i].flags);
	}
}

static const struct err_case response_errors[] = {
    {L("HTTP/1.1 99 OK\r\n\r\n"), HTTP1_E_STATUS, 11},
    {L("HTTP/1.1 600 Too High\r\n\r\n"), HTTP1_E_STATUS, 9},
    {L("HTTP/1.1 099 Too Low\r\n\r\n"), HTTP1_E_STATUS, 9},
    {L("HTTP/1.1 2000 OK\r\n\r\n"), HTTP1_E_STATUS, 12},
    {L("HTTP/1.1  200 OK\r\n\r\n"), HTTP1_E_STATUS, 9},
    {L("HTTP/1.1 20\r\n\r\n"), HTTP1_E_STATUS, 11},
    {L("HTTP/1.1 200 O\x01K\r\n\r\n"), HTTP1_E_STATUS, 14},
    {L("HTTP/1.1 200\tOK\r\n\r\n"), HTTP1_E_STATUS, 12},
    {L("HTTP/2 200 OK\r\n\r\n"), HTTP1_E_VERSION, 5},
    {L("HTTP/1.1\r\n\r\n"), HTTP1_E_VERSION, 8},
    {L("HTTP/1.1\t200 OK\r\n\r\n"), HTTP1_E_VERSION, 8},
    {L("ICY 200 OK\r\n\r\n"), HTTP1_E_VERSION, 0},
    {L("HTTP/1.1 200 OK\nContent-Length: 1\r\n\r\n"), HTTP1_E_BARE_LF, 15},
    {L("HTTP/1.1 200 OK\r\n Content-Length: 1\r\n\r\n"), HTTP1_E_OBS_FOLD, 17},
    {L("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n"),
     HTTP1_E_CL_AND_TE, 36},
    {L("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 1\r\n\r\n"),
     HTTP1_E_CL_AND_TE, 45},
    {L("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n"), HTTP1_E_DUP_CL, 36},
    {L("HTTP/1.1 200 OK\r\nContent-Length: 1, 1\r\n\r\n"), HTTP1_E_DUP_CL, 34},
    {L("HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n"), HTTP1_E_BAD_CL, 33},
    {L("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n"), HTTP1_E_BAD_TE, 45},
    {L("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"),
     HTTP1_E_BAD_TE, 64},
    {L("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip;q=1\r\n\r\n"), HTTP1_E_BAD_TE, 40},
    {L("HTTP/1.1 200 OK\r\nTransfer-Encoding: ,\r\n\r\n"), HTTP1_E_BAD_TE, 36},
    {L("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"), HTTP1_E_BAD_TE, 17},
    {L("HTTP/1.1 200 OK\r\nX: \0\r\n\r\n"), HTTP1_E_HEADER_VALUE, 20},
    {L("HTTP/1.1 200 OK\r\nX : y\r\n\r\n"), HTTP1_E_HEADER_NAME, 18},
};

static void test_response_errors(void **state)
{
	(void)state;
	check_errors(response_errors, N(response_errors), true);
}

/* --- chunked framing ----------------------------------------------------------------------- */

struct chunk_case {
	const char *raw;
	size_t len;
	ssize_t want; /* bytes of the body, or -1 for an error at pos */
	size_t pos;
	bool done;
};

static const struct chunk_case chunk_cases[] = {
    {L("5\r\nhello\r\n0\r\n\r\n"), 15, 0, true},
    {L("5\r\nhello\r\n0\r\n\r\nGET / HTTP/1.1\r\n"), 15, 0, true},
    {L("A\r\n0123456789\r\n1a\r\nabcdefghijklmnopqrstuvwxyz\r\n000\r\n\r\nX"), 54, 0, true},
    {L("5;name=val;x=\"q s\"\r\nhello\r\n0;last\r\n\r\n"), 37, 0, true},
    {L("5 ;ext\r\nhello\r\n0\t; e\r\n\r\n"), 24, 0, true},
    {L("0\r\nX-Trailer: v\r\nChecksum: abc \t\r\nEmpty:\r\n\r\nnext"), 44, 0, true},
    {L("7fffffffffffffff\r\nabc"), 21, 0, false},
    {L("5\r\nhel"), 6, 0, false},
    {L("5\r\nhello\r\n0\r\n"), 13, 0, false},
    {L(""), 0, 0, false},
    /* Size lines. */
    {L("\r\nhello"), -1, 0, false},
    {L("x\r\n"), -1, 0, false},
    {L("-1\r\n"), -1, 0, false},
    {L("+5\r\n"), -1, 0, false},
    {L("0x5\r\n"), -1, 1, false},
    {L("8000000000000000\r\n"), -1, 15, false},
    {L("00000000000000000000000000000005\r\nhello\r\n0\r\n\r\n"), 46, 0, true},
    {L("10000000000000000\r\n"), -1, 16, false},
    {L("5 \r\nhello"), -1, 2, false},
    {L("5 x\r\n"), -1, 2, false},
    {L("5\nhello"), -1, 1, false},
    {L("5\rhello"), -1, 2, false},
    {L("5;a\0b\r\n"), -1, 3, false},
    {L("5;a\nb\r\n"), -1, 3, false},
    /* Data must end in CRLF. */
    {L("5\r\nhelloX\r\n"), -1, 8, false},
    {L("5\r\nhello\n0\r\n\r\n"), -1, 8, false},
    {L("5\r\nhello\rX"), -1, 9, false},
    {L("5\r\nhello\r\n\r\n"), -1, 10, false},
    /* Trailers. */
    {L("0\r\nBad Name: v\r\n\r\n"), -1, 6, false},
    {L("0\r\nX: v\r\n folded\r\n\r\n"), -1, 9, false},
    {L("0\r\nNoColon\r\n\r\n"), -1, 10, false},
    {L("0\r\nX: a\x01\r\n\r\n"), -1, 7, false},
    {L("0\r\nX: a\n\r\n"), -1, 7, false},
    {L("0\r\nX: a\r\r\n"), -1, 8, false},
    {L("0\r\n\rX"), -1, 4, false},
    {L("0\r\n\n"), -1, 3, false},
};

/* Scans raw[0..len) in pieces cut at the given offsets; returns the total or the error. */
static ssize_t scan_pieces(const char *raw, size_t len, const size_t *cuts, size_t n_cuts,
			   size_t *err_pos, bool *done)
{
	struct http1_chunked c;
	size_t from = 0, to, k;
	ssize_t r, total = 0;
	char *piece;

	http1_chunked_init(&c);
	for (k = 0; k <= n_cuts; k++) {
		to = k < n_cuts ? cuts[k] : len;
		piece = malloc(to - from + 1);
		memcpy(piece, raw + from, to - from);
		r = http1_chunked_scan(&c, piece, to - from, err_pos);
		free(piece);
		if (r < 0) {
			*err_pos += from;
			*done = c.done;
			return r;
		}
		assert_true((size_t)r <= to - from);
		if ((size_t)r < to - from)
			assert_true(c.done);
		total += r;
		from = to;
	}
	*done = c.done;
	return total;
}

static void test_chunked(void **state)
{
	size_t i, cut, err_pos, len, cuts[1];
	ssize_t r;
	bool done;

	(void)state;
	for (i = 0; i < N(chunk_cases); i++) {
		const struct chunk_case *c = &chunk_cases[i];

		len = c->len;
		/* In one piece, then split at every position. */
		for (cut = 0; cut <= len; cut++) {
			cuts[0] = cut;
			err_pos = 12345;
			r = scan_pieces(c->raw, len, cuts, cut == 0 ? 0 : 1, &err_pos, &done);
			if (c->want >= 0 && (r != c->want || done != c->done))
				fail_msg("\"%s\" cut at %zu: got %zd done %d, want %zd done %d",
					 c->raw, cut, r, done, c->want, c->done);
			if (c->want < 0 && (r != -HTTP1_E_CHUNK || err_pos != c->pos))
				fail_msg("\"%s\" cut at %zu: got %zd at %zu, want error at %zu",
					 c->raw, cut, r, err_pos, c->pos);
		}
	}
}

/* One byte per call, and nothing more once the body has ended. */
static void test_chunked_bytewise(void **state)
{
	static const char raw[] = "4\r\nWiki\r\n5;e=1\r\npedia\r\n0\r\nT: 1\r\n\r\nHTTP/1.1";
	struct http1_chunked c;
	size_t i, total = 0, err_pos;
	ssize_t r;

	(void)state;
	http1_chunked_init(&c);
	for (i = 0; i < sizeof(raw) - 1; i++) {
		r = http1_chunked_scan(&c, raw + i, 1, &err_pos);
		assert_true(r == 0 || r == 1);
		if (!c.done)
			assert_int_equal(r, 1);
		total += (size_t)r;
	}
	assert_true(c.done);
	assert_int_equal(total, strstr(raw, "HTTP") - raw);
	assert_int_equal(http1_chunked_scan(&c, "0\r\n\r\n", 5, &err_pos), 0);
	assert_int_equal(http1_chunked_scan(&c, "", 0, &err_pos), 0);
}

static void test_chunked_limits(void **state)
{
	struct http1_chunked c;
	size_t err_pos, n;
	char *buf;

	(void)state;
	buf = malloc(HTTP1_TRAILER_MAX + 64);
	/* Extensions: exactly the limit, then one byte over. */
	for (n = HTTP1_CHUNK_EXT_MAX; n <= HTTP1_CHUNK_EXT_MAX + 1; n++) {
		buf[0] = '1';
		buf[1] = ';';
		memset(buf + 2, 'e', n - 1);
		memcpy(buf + 1 + n, "\r\nx\r\n", 5);
		http1_chunked_init(&c);
		if (n == HTTP1_CHUNK_EXT_MAX) {
			assert_int_equal(http1_chunked_scan(&c, buf, n + 6, &err_pos), n + 6);
		} else {
			assert_int_equal(http1_chunked_scan(&c, buf, n + 6, &err_pos),
					 -HTTP1_E_CHUNK);
			assert_int_equal(err_pos, HTTP1_CHUNK_EXT_MAX + 1);
		}
	}
	/* Trailers: a section of exactly the limit (final CRLF included), then one byte over. */
	for (n = HTTP1_TRAILER_MAX; n <= HTTP1_TRAILER_MAX + 1; n++) {
		memcpy(buf, "0\r\nX:", 5);
		memset(buf + 5, 'v', n - 6);
		memcpy(buf + n - 1, "\r\n\r\n", 4);
		http1_chunked_init(&c);
		if (n == HTTP1_TRAILER_MAX) {
			assert_int_equal(http1_chunked_scan(&c, buf, n + 3, &err_pos), n + 3);
			assert_true(c.done);
		} else {
			assert_int_equal(http1_chunked_scan(&c, buf, n + 3, &err_pos),
					 -HTTP1_E_CHUNK);
			assert_int_equal(err_pos, 3 + HTTP1_TRAILER_MAX);
		}
	}
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_valid_requests),
	    cmocka_unit_test(test_request_then_body),
	    cmocka_unit_test(test_resumable),
	    cmocka_unit_test(test_request_errors),
	    cmocka_unit_test(test_strerror),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_errors_while_incomplete),
	    cmocka_unit_test(test_authority),
	    cmocka_unit_test(test_header_get),
	    cmocka_unit_test(test_responses),
	    cmocka_unit_test(test_response_errors),
	    cmocka_unit_test(test_chunked),
	    cmocka_unit_test(test_chunked_bytewise),
	    cmocka_unit_test(test_chunked_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
