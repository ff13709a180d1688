// SPDX-License-Identifier: MIT
/*
 * http1diff_fuzz.c: a differential target for the HTTP/1.1 parser (proxy/http1.c). Whatever the
 * parser accepts, a second reading written here from RFC 9112 alone, with none of the parser's
 * code, must accept too and agree with it on method, target and its parts, version, Host, every
 * header (name and value, in order), the body's framing (none, length and its value, chunked,
 * until close, tunnel) and the connection flags; and where a chunked body ends. A disagreement
 * is a message two readers would frame differently: request smuggling.
 *
 * The input is read as a stream of pipelined requests (each head, then its body by its framing,
 * then the next) and as one response to a method picked from the input, with its body. Only
 * what the parser accepts is compared: the reference is allowed to be more lenient, never to
 * reject or read differently what the parser let through.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "proxy/http1.h"

#define MAX_HEAD (64 * 1024)
#define MAX_HDR	 100
#define MAX_MSG	 4

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "differential: %s\n", what);
		abort();
	}
}

/* --- the reference reading ---------------------------------------------------------------- */

struct ref_field {
	const char *name, *value;
	size_t name_len, value_len;
};

struct ref_msg {
	size_t head_len;
	/* request line, or status line */
	const char *method, *target, *reason;
	size_t method_len, target_len, reason_len;
	int major, minor, status;
	/* the target's parts */
	const char *scheme, *authority, *path, *host;
	size_t scheme_len, authority_len, path_len, host_len;
	struct ref_field f[MAX_HDR];
	size_t n_f;
	enum http1_body body;
	uint64_t length;
	unsigned flags;
};

/* RFC 9110 5.6.2. */
static bool ref_tchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

static bool ref_token(const char *p, size_t n)
{
	size_t i;

	if (n == 0)
		return false;
	for (i = 0; i < n; i++)
		if (!ref_tchar((unsigned char)p[i]))
			return false;
	return true;
}

/* field-value (RFC 9110 5.5): VCHAR, obs-text, and SP/HTAB between them. */
static bool ref_field_value(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c < 0x20 ? c != '\t' : c == 0x7f)
			return false;
	}
	return n == 0 || (p[0] != ' ' && p[0] != '\t' && p[n - 1] != ' ' && p[n - 1] != '\t');
}

static bool ieq(const char *p, size_t n, const char *lit)
{
	return strlen(lit) == n && strncasecmp(p, lit, n) == 0;
}

/* Calls fn on each element of a comma-separated list (OWS trimmed, empty ones skipped). */
static bool each_elem(const char *p, size_t n, bool (*fn)(void *, const char *, size_t), void *arg)
{
	size_t s = 0, e, i;

	for (i = 0; i <= n; i++) {
		if (i < n && p[i] != ',')
			continue;
		e = i;
		while (s < e && (p[s] == ' ' || p[s] == '\t'))
			s++;
		while (e > s && (p[e - 1] == ' ' || p[e - 1] == '\t'))
			e--;
		if (e > s && !fn(arg, p + s, e - s))
			return false;
		s = i + 1;
	}
	return true;
}

struct codings {
	size_t n, chunked;
	bool last_chunked, bad;
};

static bool coding(void *arg, const char *p, size_t n)
{
	struct codings *c = arg;

	if (!ref_token(p, n))
		return false;
	c->n++;
	c->last_chunked = ieq(p, n, "chunked");
	c->chunked += c->last_chunked;
	return true;
}

struct conn {
	bool close, keepalive, upgrade;
};

static bool conn_opt(void *arg, const char *p, size_t n)
{
	struct conn *c = arg;

	if (!ref_token(p, n))
		return false;
	c->close |= ieq(p, n, "close");
	c->keepalive |= ieq(p, n, "keep-alive");
	c->upgrade |= ieq(p, n, "upgrade");
	return true;
}

/*
 * Reads the head at buf: its lines end in CRLF and nothing else, the first empty line ends
 * it. Splits the start line into its three parts at the first two spaces. Returns false for a
 * head that is malformed or not complete.
 */
static bool ref_head(const char *buf, size_t len, struct ref_msg *m, const char **start,
		     size_t *start_len)
{
	const char *end = memmem(buf, len, "\r\n\r\n", 4), *line, *eol, *colon;
	size_t i;

	if (!end || end == buf)
		return false;
	m->head_len = (size_t)(end - buf) + 4;
	for (i = 0; i < m->head_len; i++) {
		if (buf[i] == '\r' && buf[i + 1] != '\n')
			return false;
		if (buf[i] == '\n' && (i == 0 || buf[i - 1] != '\r'))
			return false;
	}
	eol = memmem(buf, m->head_len, "\r\n", 2);
	*start = buf;
	*start_len = (size_t)(eol - buf);
	m->n_f = 0;
	for (line = eol + 2; line < buf + m->head_len - 2; line = eol + 2) {
		eol = memmem(line, (size_t)(buf + m->head_len - line), "\r\n", 2);
		colon = memchr(line, ':', (size_t)(eol - line));
		if (!colon || m->n_f == MAX_HDR || !ref_token(line, (size_t)(colon - line)))
			return false;
		m->f[m->n_f].name = line;
		m->f[m->n_f].name_len = (size_t)(colon - line);
		m->f[m->n_f].value = colon + 1;
		m->f[m->n_f].value_len = (size_t)(eol - colon - 1);
		while (m->f[m->n_f].value_len &&
		       (m->f[m->n_f].value[0] == ' ' || m->f[m->n_f].value[0] == '\t')) {
			m->f[m->n_f].value++;
			m->f[m->n_f].value_len--;
		}
		while (m->f[m->n_f].value_len &&
		       (m->f[m->n_f].value[m->f[m->n_f].value_len - 1] == ' ' ||
			m->f[m->n_f].value[m->f[m->n_f].value_len - 1] == '\t'))
			m->f[m->n_f].value_len--;
		if (!ref_field_value(m->f[m->n_f].value, m->f[m->n_f].value_len))
			return false;
		m->n_f++;
	}
	return true;
}

/* "HTTP/" DIGIT "." DIGIT (RFC 9112 2.3). */
static bool ref_version(const char *p, size_t n, struct ref_msg *m)
{
	if (n != 8 || memcmp(p, "HTTP/", 5) != 0 || p[5] < '0' || p[5] > '9' || p[6] != '.' ||
	    p[7] < '0' || p[7] > '9')
		return false;
	m->major = p[5] - '0';
	m->minor = p[7] - '0';
	return true;
}

/* What the framing fields say (RFC 9112 6): false when the framing is faulty. */
static bool ref_framing(struct ref_msg *m, bool *te, bool *cl, struct codings *tc, struct conn *c,
			bool *upgrade)
{
	size_t i, k;

	*te = *cl = *upgrade = false;
	memset(tc, 0, sizeof(*tc));
	memset(c, 0, sizeof(*c));
	for (i = 0; i < m->n_f; i++) {
		const struct ref_field *f = &m->f[i];

		if (ieq(f->name, f->name_len, "transfer-encoding")) {
			*te = true;
			if (!each_elem(f->value, f->value_len, coding, tc))
				return false;
		} else if (ieq(f->name, f->name_len, "content-length")) {
			/* one field of 1*DIGIT; a list, even of equal values, is refused here too */
			if (*cl || f->value_len == 0)
				return false;
			m->length = 0;
			for (k = 0; k < f->value_len; k++) {
				if (f->value[k] < '0' || f->value[k] > '9' ||
				    m->length > (uint64_t)INT64_MAX / 10)
					return false;
				m->length = m->length * 10 + (uint64_t)(f->value[k] - '0');
				if (m->length > INT64_MAX)
					return false;
			}
			*cl = true;
		} else if (ieq(f->name, f->name_len, "connection")) {
			if (!each_elem(f->value, f->value_len, conn_opt, c))
				return false;
		} else if (ieq(f->name, f->name_len, "upgrade")) {
			*upgrade = true;
		}
	}
	/* 6.1: Transfer-Encoding in 1.0 is faulty framing; 6.3: with Content-Length, an error */
	if (*te && (m->minor == 0 || *cl || tc->n == 0 || tc->chunked > 1))
		return false;
	return true;
}

static unsigned ref_flags(const struct ref_msg *m, const struct conn *c, bool upgrade)
{
	if (m->minor == 0)
		return c->keepalive && !c->close ? HTTP1_F_KEEPALIVE_10 : HTTP1_F_CLOSE;
	return (c->close ? HTTP1_F_CLOSE : 0) | (c->upgrade && upgrade ? HTTP1_F_UPGRADE : 0);
}

/* The absolute-form target "scheme://authority[path]" (RFC 9112 3.2.2, RFC 3986 3). */
static bool ref_absolute(struct ref_msg *m)
{
	const char *t = m->target, *colon = memchr(t, ':', m->target_len);
	size_t i, a;

	if (!colon || colon == t)
		return false;
	m->scheme = t;
	m->scheme_len = (size_t)(colon - t);
	if (!ieq(m->scheme, m->scheme_len, "http") && !ieq(m->scheme, m->scheme_len, "https"))
		return false;
	a = m->scheme_len + 3;
	if (m->target_len < a || colon[1] != '/' || colon[2] != '/')
		return false;
	for (i = a; i < m->target_len && t[i] != '/' && t[i] != '?'; i++)
		if (t[i] == '@')
			return false; /* userinfo is deprecated in http(s) URIs */
	m->authority = t + a;
	m->authority_len = i - a;
	if (m->authority_len == 0)
		return false;
	if (i < m->target_len) {
		m->path = t + i;
		m->path_len = m->target_len - i;
	}
	return true;
}

/* Equal but for case and the scheme's default port (RFC 9110 4.2.3). */
static bool ref_same_authority(const char *a, size_t an, const char *b, size_t bn,
			       const char *scheme, size_t sn)
{
	const char *port = ieq(scheme, sn, "https") ? ":443" : ":80";
	size_t pn = strlen(port);

	if (scheme) {
		if (an > pn && memcmp(a + an - pn, port, pn) == 0)
			an -= pn;
		if (bn > pn && memcmp(b + bn - pn, port, pn) == 0)
			bn -= pn;
	}
	return an == bn && strncasecmp(a, b, an) == 0;
}

static bool ref_request(const char *buf, size_t len, struct ref_msg *m)
{
	const char *start, *sp1, *sp2, *host = NULL;
	size_t start_len, i, n_host = 0, host_len = 0;
	bool te, cl, upgrade;
	struct codings tc;
	struct conn c;

	memset(m, 0, sizeof(*m));
	if (!ref_head(buf, len, m, &start, &start_len))
		return false;
	/* request-line = method SP request-target SP HTTP-version */
	sp1 = memchr(start, ' ', start_len);
	if (!sp1)
		return false;
	sp2 = memchr(sp1 + 1, ' ', (size_t)(start + start_len - sp1 - 1));
	if (!sp2)
		return false;
	m->method = start;
	m->method_len = (size_t)(sp1 - start);
	m->target = sp1 + 1;
	m->target_len = (size_t)(sp2 - sp1 - 1);
	if (!ref_token(m->method, m->method_len) || m->target_len == 0 ||
	    !ref_version(sp2 + 1, (size_t)(start + start_len - sp2 - 1), m) || m->major != 1)
		return false;
	for (i = 0; i < m->target_len; i++) {
		unsigned char ch = (unsigned char)m->target[i];

		if (ch <= 0x20 || ch >= 0x7f || ch == '#')
			return false; /* not a URI character; a fragment is never sent */
	}
	/* 3.2: the four forms */
	if (m->method_len == 7 && memcmp(m->method, "CONNECT", 7) == 0) {
		m->authority = m->target;
		m->authority_len = m->target_len;
		if (!memchr(m->target, ':', m->target_len) || memchr(m->target, '/', m->target_len))
			return false;
	} else if (m->target[0] == '/' || (m->target_len == 1 && m->target[0] == '*')) {
		m->path = m->target;
		m->path_len = m->target_len;
	} else if (!ref_absolute(m)) {
		return false;
	}
	for (i = 0; i < m->n_f; i++) {
		if (ieq(m->f[i].name, m->f[i].name_len, "host")) {
			n_host++;
			host = m->f[i].value;
			host_len = m->f[i].value_len;
		}
		if (ieq(m->f[i].name, m->f[i].name_len, "expect") &&
		    ieq(m->f[i].value, m->f[i].value_len, "100-continue") && m->minor == 1)
			m->flags |= HTTP1_F_EXPECT_CONTINUE;
	}
	/* 3.2: exactly one Host in 1.1; it names the target's authority when there is one */
	if (n_host > 1 || (m->minor == 1 && n_host == 0 && !m->authority))
		return false;
	if (host && m->authority &&
	    !ref_same_authority(host, host_len, m->authority, m->authority_len, m->scheme,
				m->scheme_len))
		return false;
	m->host = host ? host : m->authority;
	m->host_len = host ? host_len : m->authority_len;

	/* 6.3 for requests: chunked must be the final coding, else 400 */
	if (!ref_framing(m, &te, &cl, &tc, &c, &upgrade))
		return false;
	if (te) {
		if (!tc.last_chunked)
			return false;
		m->body = HTTP1_BODY_CHUNKED;
	} else if (cl) {
		m->body = HTTP1_BODY_LENGTH;
	} else {
		m->body = HTTP1_BODY_NONE;
	}
	if (m->body != HTTP1_BODY_LENGTH)
		m->length = 0;
	m->flags |= ref_flags(m, &c, upgrade);
	return true;
}

static bool ref_response(const char *buf, size_t len, const char *method, struct ref_msg *m)
{
	const char *start;
	size_t start_len, i;
	bool te, cl, upgrade;
	struct codings tc;
	struct conn c;

	memset(m, 0, sizeof(*m));
	if (!ref_head(buf, len, m, &start, &start_len))
		return false;
	/* status-line = HTTP-version SP status-code SP [reason-phrase]; the SP before an empty
	 * reason may be missing (clients accept it) */
	if (start_len < 12 || !ref_version(start, 8, m) || m->major != 1 || start[8] != ' ')
		return false;
	for (i = 9; i < 12; i++)
		if (start[i] < '0' || start[i] > '9')
			return false;
	m->status = (start[9] - '0') * 100 + (start[10] - '0') * 10 + (start[11] - '0');
	if (start_len > 12 && start[12] != ' ')
		return false;
	m->reason = start + (start_len > 12 ? 13 : 12);
	m->reason_len = start_len > 12 ? start_len - 13 : 0;
	for (i = 0; i < m->reason_len; i++) {
		unsigned char ch = (unsigned char)m->reason[i];

		if (ch < 0x20 ? ch != '\t' : ch == 0x7f)
			return false;
	}
	if (!ref_framing(m, &te, &cl, &tc, &c, &upgrade))
		return false;
	/* 6.3, in its order; a 101 switches protocols whatever the request was */
	if (m->status == 101 || (m->status / 100 == 2 && strcmp(method, "CONNECT") == 0))
		m->body = HTTP1_BODY_TUNNEL;
	else if (strcmp(method, "HEAD") == 0 || m->status / 100 == 1 || m->status == 204 ||
		 m->status == 304)
		m->body = HTTP1_BODY_NONE;
	else if (te)
		m->body = tc.last_chunked ? HTTP1_BODY_CHUNKED : HTTP1_BODY_UNTIL_CLOSE;
	else if (cl)
		m->body = HTTP1_BODY_LENGTH;
	else
		m->body = HTTP1_BODY_UNTIL_CLOSE;
	if (m->body != HTTP1_BODY_LENGTH)
		m->length = 0;
	m->flags = ref_flags(m, &c, upgrade);
	if (m->body == HTTP1_BODY_UNTIL_CLOSE)
		m->flags = (m->flags & ~HTTP1_F_KEEPALIVE_10) | HTTP1_F_CLOSE;
	return true;
}

/*
 * A chunked body (RFC 9112 7.1): returns its length through the final CRLF, 0 when it has not
 * ended within len bytes, -1 when it is malformed. Extensions are read as ';' and then any
 * field-value text, so only where the line ends matters.
 */
static ssize_t ref_chunked(const char *p, size_t len)
{
	size_t pos = 0, k, digits;
	uint64_t size;
	const char *eol, *colon;

	for (;;) {
		eol = memmem(p + pos, len - pos, "\r\n", 2);
		if (!eol)
			goto need_more;
		size = 0;
		for (digits = 0; pos + digits < (size_t)(eol - p); digits++) {
			char ch = p[pos + digits];
			int d = ch >= '0' && ch <= '9'	 ? ch - '0'
				: ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
				: ch >= 'A' && ch <= 'F' ? ch - 'A' + 10
							 : -1;

			if (d < 0)
				break;
			if (size > (uint64_t)INT64_MAX / 16)
				return -1;
			size = size * 16 + (uint64_t)d;
			if (size > INT64_MAX)
				return -1;
		}
		if (digits == 0)
			return -1;
		k = pos + digits;
		while (k < (size_t)(eol - p) && (p[k] == ' ' || p[k] == '\t'))
			k++;
		if (k < (size_t)(eol - p)) {
			if (p[k] != ';')
				return -1;
			for (; k < (size_t)(eol - p); k++) {
				unsigned char ch = (unsigned char)p[k];

				if (ch < 0x20 ? ch != '\t' : ch == 0x7f)
					return -1;
			}
		} else if (k > pos + digits) {
			return -1; /* whitespace that no extension follows */
		}
		for (k = pos; k < (size_t)(eol - p); k++)
			if (p[k] == '\r' || p[k] == '\n')
				return -1;
		pos = (size_t)(eol - p) + 2;
		if (size == 0)
			break;
		if (len - pos < size)
			goto need_more;
		pos += (size_t)size;
		if (len - pos < 2)
			goto need_more_or_bad;
		if (p[pos] != '\r' || p[pos + 1] != '\n')
			return -1;
		pos += 2;
	}
	/* trailer-section = *( field-line CRLF ), then CRLF */
	for (;;) {
		eol = memmem(p + pos, len - pos, "\r\n", 2);
		if (!eol)
			goto need_more_or_bad;
		if (eol == p + pos)
			return (ssize_t)(pos + 2);
		colon = memchr(p + pos, ':', (size_t)(eol - p) - pos);
		if (!colon || !ref_token(p + pos, (size_t)(colon - p) - pos))
			return -1;
		for (k = (size_t)(colon - p) + 1; k < (size_t)(eol - p); k++) {
			unsigned char ch = (unsigned char)p[k];

			if (ch < 0x20 ? ch != '\t' : ch == 0x7f)
				return -1;
		}
		pos = (size_t)(eol - p) + 2;
	}
need_more_or_bad:
	/* a lone CR or LF before the end could still be a bad line; the parser says which */
	for (k = pos; k < len; k++)
		if ((p[k] == '\n' && (k == pos || p[k - 1] != '\r')) ||
		    (p[k] == '\r' && k + 1 < len && p[k + 1] != '\n'))
			return -1;
need_more:
	return 0;
}

/* --- comparing ---------------------------------------------------------------------------- */

static bool same(struct slice s, const char *p, size_t n)
{
	return s.len == n && (n == 0 || (s.p == p && p != NULL) || memcmp(s.p, p, n) == 0);
}

static void compare_fields(const struct http1_header *hdr, size_t n, const struct ref_msg *m)
{
	size_t i;

	check(n == m->n_f, "header count");
	for (i = 0; i < n; i++)
		check(same(hdr[i].name, m->f[i].name, m->f[i].name_len) &&
			  same(hdr[i].value, m->f[i].value, m->f[i].value_len),
		      "header name and value");
}

/* The parser's end of a chunked body at p, as the reference reads it; -1: malformed. */
static ssize_t parser_chunked(const char *p, size_t len)
{
	struct http1_chunked c;
	size_t err_pos;
	ssize_t r;

	http1_chunked_init(&c);
	r = http1_chunked_scan(&c, p, len, &err_pos);
	if (r < 0)
		return -1;
	return c.done ? r : 0;
}

/* Where a chunked body at p ends, by both readers; -1 when the parser refuses it. */
static ssize_t chunked_end(const char *p, size_t len)
{
	ssize_t a = parser_chunked(p, len), b;

	if (a < 0)
		return -1;
	b = ref_chunked(p, len);
	if (a != b)
		fprintf(stderr, "chunked: parser %zd, reference %zd\n", a, b);
	check(a == b, "where a chunked body ends");
	return a;
}

static void requests(const char *buf, size_t size)
{
	static struct http1_header hdr[MAX_HDR];
	static struct ref_msg m;
	struct http1_req req;
	size_t off = 0, err_pos, msg;
	ssize_t r, end;

	for (msg = 0; msg < MAX_MSG && off < size; msg++) {
		r = http1_parse_request(buf + off, size - off, MAX_HEAD, &req, hdr, MAX_HDR,
					&err_pos);
		if (r <= 0)
			return;
		check(ref_request(buf + off, size - off, &m), "the reference accepts the request");
		check((size_t)r == m.head_len, "head length");
		check(same(req.method, m.method, m.method_len) &&
			  same(req.target, m.target, m.target_len),
		      "method and target");
		check(req.minor == m.minor, "version");
		check(same(req.scheme, m.scheme, m.scheme_len) &&
			  same(req.authority, m.authority, m.authority_len) &&
			  same(req.path, m.path, m.path_len),
		      "the target's parts");
		check(same(req.host, m.host, m.host_len), "host");
		compare_fields(hdr, req.n_hdr, &m);
		check(req.body == m.body && req.content_length == m.length, "framing");
		check(req.flags == m.flags, "connection flags");
		off += (size_t)r;
		if (req.body == HTTP1_BODY_LENGTH) {
			if (req.content_length > size - off)
				return;
			off += req.content_length;
		} else if (req.body == HTTP1_BODY_CHUNKED) {
			end = chunked_end(buf + off, size - off);
			if (end <= 0)
				return;
			off += (size_t)end;
		}
		if (req.flags & (HTTP1_F_CLOSE | HTTP1_F_UPGRADE) ||
		    slice_eq(req.method, "CONNECT"))
			return;
	}
}

static void response(const char *buf, size_t size, const char *method)
{
	static struct http1_header hdr[MAX_HDR];
	static struct ref_msg m;
	struct http1_resp resp;
	size_t err_pos;
	ssize_t r;

	r = http1_parse_response(buf, size, MAX_HEAD, slice_of(method, strlen(method)), &resp, hdr,
				 MAX_HDR, &err_pos);
	if (r <= 0)
		return;
	check(ref_response(buf, size, method, &m), "the reference accepts the response");
	check((size_t)r == m.head_len, "head length");
	check(resp.minor == m.minor && resp.status == m.status &&
		  same(resp.reason, m.reason, m.reason_len),
	      "status line");
	compare_fields(hdr, resp.n_hdr, &m);
	check(resp.body == m.body && resp.content_length == m.length, "framing");
	check(resp.flags == m.flags, "connection flags");
	if (resp.body == HTTP1_BODY_CHUNKED)
		(void)chunked_end(buf + r, size - (size_t)r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const methods[] = {"GET", "HEAD", "CONNECT", "POST"};
	const char *buf = (const char *)data;
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < size; i++)
		h = (h ^ data[i]) * 16777619u;
	requests(buf, size);
	response(buf, size, methods[h % 4]);
	(void)chunked_end(buf, size);
	return 0;
}
