// SPDX-License-Identifier: MIT
/*
 * http1.c: the strict HTTP/1.1 parser. Owns the grammar of request and response heads (RFC 9112
 * sections 2-5, RFC 9110 section 5), the framing decision of section 6.3, and the chunked
 * scanner of section 7.1. A head is read in two passes once it is complete: first its line
 * structure (CRLF everywhere, found as the bytes arrive), then its content, field by field, then
 * the facts that decide framing (Content-Length, Transfer-Encoding, Host, Connection). It does
 * not own buffers, sockets or the decision; it never allocates and never writes to the input.
 */
#include "proxy/http1.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <strings.h>

/* tchar (RFC 9110 section 5.6.2): methods, field names, list tokens, transfer codings. */
static const bool tchar[256] = {
    ['0' ... '9'] = true, ['A' ... 'Z'] = true, ['a' ... 'z'] = true, ['!'] = true,  ['#'] = true,
    ['$'] = true,	  ['%'] = true,		['&'] = true,	      ['\''] = true, ['*'] = true,
    ['+'] = true,	  ['-'] = true,		['.'] = true,	      ['^'] = true,  ['_'] = true,
    ['`'] = true,	  ['|'] = true,		['~'] = true,
};

/* field-vchar, SP and HT (RFC 9110 section 5.5): what a field value or reason phrase may hold. */
static const bool vchar_ws[256] = {
    ['\t'] = true,
    [' ' ... '~'] = true,
    [0x80 ... 0xff] = true,
};

/*
 * What a request-target may hold: visible ASCII but '#' (a fragment is never sent) and '\\'
 * (which some servers read as '/', so a path the rules never saw). Other bytes that URIs do not
 * allow unencoded but clients send anyway ("|{}") pass; whitespace, controls and non-ASCII do not.
 */
static const bool target_char[256] = {
    ['!' ... '"'] = true,
    ['$' ... '['] = true,
    [']' ... '~'] = true,
};

/* The host of an authority that is not an IP literal: DNS names and IPv4 dotted quads. */
static const bool host_char[256] = {
    ['0' ... '9'] = true, ['A' ... 'Z'] = true, ['a' ... 'z'] = true,
    ['-'] = true,	  ['.'] = true,		['_'] = true,
};

static const char *const messages[] = {
    [HTTP1_E_HEAD_TOO_BIG] = "request or response head too large",
    [HTTP1_E_TOO_MANY_HEADERS] = "too many header fields",
    [HTTP1_E_BARE_LF] = "line ends in LF without CR",
    [HTTP1_E_OBS_FOLD] = "header line starts with whitespace (obsolete line folding)",
    [HTTP1_E_METHOD] = "malformed method (a token followed by one space)",
    [HTTP1_E_TARGET] = "malformed request target, or the wrong form for the method",
    [HTTP1_E_VERSION] = "HTTP version is not HTTP/1.0 or HTTP/1.1",
    [HTTP1_E_HEADER_NAME] = "malformed header name (not a token, or space before the colon)",
    [HTTP1_E_HEADER_VALUE] = "malformed header value",
    [HTTP1_E_CL_AND_TE] = "Content-Length and Transfer-Encoding together (request smuggling)",
    [HTTP1_E_BAD_CL] = "Content-Length is not a plain decimal number below 2^63",
    [HTTP1_E_DUP_CL] = "more than one Content-Length (request smuggling)",
    [HTTP1_E_BAD_TE] = "unsupported or ambiguous Transfer-Encoding (request smuggling)",
    [HTTP1_E_NO_HOST] = "HTTP/1.1 request without a Host header",
    [HTTP1_E_DUP_HOST] = "more than one Host header",
    [HTTP1_E_HOST_MISMATCH] = "Host header differs from the host in the request target",
    [HTTP1_E_STATUS] = "malformed status line",
    [HTTP1_E_CHUNK] = "malformed chunked body",
    [HTTP1_E_BARE_CR] = "CR not followed by LF",
};

const char *http1_strerror(int err)
{
	if (err < 0)
		err = -err;
	if (err <= 0 || (size_t)err >= sizeof(messages) / sizeof(messages[0]) || !messages[err])
		return "unknown error";
	return messages[err];
}

static ssize_t err_at(size_t *err_pos, size_t pos, int err)
{
	*err_pos = pos;
	return -err;
}

static bool is_ows(char c)
{
	return c == ' ' || c == '\t';
}

static bool all_tchar(struct slice s, size_t *bad)
{
	size_t i;

	for (i = 0; i < s.len; i++) {
		if (!tchar[(unsigned char)s.p[i]]) {
			*bad = i;
			return false;
		}
	}
	return true;
}

/*
 * The line structure pass. Returns the head's length once an empty line ends it within
 * max_head bytes, 0 while it may still come, or an error: a LF without CR before it, a CR
 * followed by anything but LF, more than max_hdr lines after the start line, or no end within
 * max_head bytes. Counting lines here bounds the work of each call on an incomplete head, which
 * is read again from its start every time bytes arrive.
 */
static ssize_t scan_head(const char *buf, size_t len, size_t max_head, size_t max_hdr,
			 size_t *err_pos)
{
	size_t lim = len < max_head ? len : max_head;
	size_t pos = 0, end, lines = 0;
	const char *lf, *cr;

	while (pos < lim) {
		lf = memchr(buf + pos, '\n', lim - pos);
		end = lf ? (size_t)(lf - buf) : lim;
		cr = memchr(buf + pos, '\r', end - pos);
		/* The first CR of a line must be the last byte before its LF (or of the data). */
		if (cr && (size_t)(cr - buf) + 1 < end)
			return err_at(err_pos, (size_t)(cr - buf), HTTP1_E_BARE_CR);
		if (!lf)
			break;
		if (!cr)
			return err_at(err_pos, end, HTTP1_E_BARE_LF);
		if (end - pos == 1)
			return end + 1;
		if (lines++ > max_hdr)
			return err_at(err_pos, pos, HTTP1_E_TOO_MANY_HEADERS);
		pos = end + 1;
	}
	if (len >= max_head)
		return err_at(err_pos, max_head, HTTP1_E_HEAD_TOO_BIG);
	return 0;
}

/* The offset of the CR ending the line at pos (scan_head has vouched for the CRLFs). */
static size_t line_end(const char *buf, size_t pos, size_t head_len)
{
	const char *cr = memchr(buf + pos, '\r', head_len - pos);

	return (size_t)(cr - buf);
}

/* The minor version of "HTTP/1.0" or "HTTP/1.1" at buf[i..end), or -1 with *bad. */
static int version_at(const char *buf, size_t i, size_t end, size_t *bad)
{
	static const char v[] = "HTTP/1.";
	size_t k;

	for (k = 0; k < sizeof(v) - 1; k++) {
		if (i + k >= end || buf[i + k] != v[k]) {
			*bad = i + k;
			return -1;
		}
	}
	if (i + k >= end || (buf[i + k] != '0' && buf[i + k] != '1')) {
		*bad = i + k;
		return -1;
	}
	return buf[i + k] - '0';
}

/*
 * An authority without userinfo: reg-name or IPv4 (host_char), or an IPv6 literal in brackets,
 * then ":port" (1-5 digits, at most 65535), which need_port makes mandatory. On failure *bad is
 * the offset of the first byte found wrong.
 */
static bool authority_ok(const char *p, size_t n, bool need_port, size_t *bad)
{
	char a6[INET6_ADDRSTRLEN];
	struct in6_addr in6;
	const char *rb;
	size_t i, host_end;
	unsigned long port = 0;

	if (n == 0) {
		*bad = 0;
		return false;
	}
	if (p[0] == '[') {
		rb = memchr(p, ']', n);
		if (!rb) {
			*bad = n;
			return false;
		}
		host_end = (size_t)(rb - p) + 1;
		if (host_end - 2 == 0 || host_end - 2 >= sizeof(a6)) {
			*bad = 1;
			return false;
		}
		memcpy(a6, p + 1, host_end - 2);
		a6[host_end - 2] = '\0';
		if (inet_pton(AF_INET6, a6, &in6) != 1) {
			*bad = 1;
			return false;
		}
	} else {
		for (i = 0; i < n && p[i] != ':'; i++) {
			if (!host_char[(unsigned char)p[i]]) {
				*bad = i;
				return false;
			}
		}
		if (i == 0) {
			*bad = 0;
			return false;
		}
		host_end = i;
	}
	if (host_end == n) {
		*bad = n;
		return !need_port;
	}
	if (p[host_end] != ':' || n - host_end - 1 == 0 || n - host_end - 1 > 5) {
		*bad = host_end;
		return false;
	}
	for (i = host_end + 1; i < n; i++) {
		if (p[i] < '0' || p[i] > '9') {
			*bad = i;
			return false;
		}
		port = port * 10 + (unsigned long)(p[i] - '0');
	}
	if (port > 65535) {
		*bad = host_end + 1;
		return false;
	}
	return true;
}

/* Splits the next element off a comma-separated list, without its OWS; false at the end. */
static bool list_next(struct slice *rest, struct slice *elem)
{
	const char *comma;
	size_t n;

	if (!rest->p)
		return false;
	comma = memchr(rest->p, ',', rest->len);
	n = comma ? (size_t)(comma - rest->p) : rest->len;
	*elem = slice_of(rest->p, n);
	while (elem->len && is_ows(elem->p[0])) {
		elem->p++;
		elem->len--;
	}
	while (elem->len && is_ows(elem->p[elem->len - 1]))
		elem->len--;
	if (comma)
		*rest = slice_of(comma + 1, rest->len - n - 1);
	else
		*rest = slice_of(NULL, 0);
	return true;
}

/* --- field lines ------------------------------------------------------------------------- */

/*
 * Reads the field lines from pos to the empty line at head_len - 2 into hdr[]: no obs-fold, a
 * token name right before the colon, a value without controls, OWS trimmed.
 */
static ssize_t parse_fields(const char *buf, size_t pos, size_t head_len, struct http1_header *hdr,
			    size_t max_hdr, size_t *n_hdr, size_t *err_pos)
{
	size_t n = 0, eol, i, vs, ve;

	while (pos < head_len - 2) {
		eol = line_end(buf, pos, head_len);
		if (is_ows(buf[pos]))
			return err_at(err_pos, pos, HTTP1_E_OBS_FOLD);
		if (n == max_hdr)
			return err_at(err_pos, pos, HTTP1_E_TOO_MANY_HEADERS);
		for (i = pos; i < eol && tchar[(unsigned char)buf[i]]; i++)
			;
		if (i == pos || i == eol || buf[i] != ':')
			return err_at(err_pos, i, HTTP1_E_HEADER_NAME);
		hdr[n].name = slice_of(buf + pos, i - pos);
		for (vs = i + 1; vs < eol && is_ows(buf[vs]); vs++)
			;
		for (ve = eol; ve > vs && is_ows(buf[ve - 1]); ve--)
			;
		for (i = vs; i < ve; i++) {
			if (!vchar_ws[(unsigned char)buf[i]])
				return err_at(err_pos, i, HTTP1_E_HEADER_VALUE);
		}
		hdr[n].value = slice_of(buf + vs, ve - vs);
		n++;
		pos = eol + 2;
	}
	*n_hdr = n;
	return 0;
}

/* What the framing and connection fields of one message say. */
struct facts {
	bool cl, te, te_chunked_last, te_chunked_seen, host, upgrade_field;
	bool conn_close, conn_keepalive, conn_upgrade;
	uint64_t cl_value;
};

/* Digits only, no sign, below 2^63; a comma means a list, which is a duplicate. */
static ssize_t content_length(const char *buf, struct slice v, struct facts *f, size_t *err_pos)
{
	uint64_t x = 0;
	size_t i;
	unsigned d;

	if (v.len == 0)
		return err_at(err_pos, (size_t)(v.p - buf), HTTP1_E_BAD_CL);
	for (i = 0; i < v.len; i++) {
		if (v.p[i] == ',')
			return err_at(err_pos, (size_t)(v.p + i - buf), HTTP1_E_DUP_CL);
		if (v.p[i] < '0' || v.p[i] > '9')
			return err_at(err_pos, (size_t)(v.p + i - buf), HTTP1_E_BAD_CL);
		d = (unsigned)(v.p[i] - '0');
		if (x > ((uint64_t)INT64_MAX - d) / 10)
			return err_at(err_pos, (size_t)(v.p + i - buf), HTTP1_E_BAD_CL);
		x = x * 10 + d;
	}
	f->cl = true;
	f->cl_value = x;
	return 0;
}

/* Connection: a list of tokens; close, keep-alive and upgrade are remembered. */
static ssize_t connection(const char *buf, struct slice v, struct facts *f, size_t *err_pos)
{
	struct slice rest = v, e;
	size_t bad;

	while (list_next(&rest, &e)) {
		if (!all_tchar(e, &bad))
			return err_at(err_pos, (size_t)(e.p + bad - buf), HTTP1_E_HEADER_VALUE);
		if (slice_ieq(e, "close"))
			f->conn_close = true;
		else if (slice_ieq(e, "keep-alive"))
			f->conn_keepalive = true;
		else if (slice_ieq(e, "upgrade"))
			f->conn_upgrade = true;
	}
	return 0;
}

/*
 * A response's Transfer-Encoding: a list of codings (several fields make one list) in which
 * chunked may appear once; the last one decides between chunked and until-close framing.
 */
static ssize_t resp_transfer_encoding(const char *buf, struct slice v, struct facts *f,
				      size_t *err_pos)
{
	struct slice rest = v, e;
	size_t bad;
	bool any = false;

	while (list_next(&rest, &e)) {
		if (e.len == 0)
			continue;
		if (!all_tchar(e, &bad))
			return err_at(err_pos, (size_t)(e.p + bad - buf), HTTP1_E_BAD_TE);
		any = true;
		f->te_chunked_last = slice_ieq(e, "chunked");
		if (f->te_chunked_last) {
			if (f->te_chunked_seen)
				return err_at(err_pos, (size_t)(e.p - buf), HTTP1_E_BAD_TE);
			f->te_chunked_seen = true;
		}
	}
	if (!any)
		return err_at(err_pos, (size_t)(v.p - buf), HTTP1_E_BAD_TE);
	return 0;
}

/*
 * The fields both directions share. is_req selects the request rules: Transfer-Encoding is
 * exactly one "chunked"; Host is checked by the caller.
 */
static ssize_t framing_field(const char *buf, const struct http1_header *h, int minor, bool is_req,
			     struct facts *f, size_t *err_pos)
{
	size_t at = (size_t)(h->name.p - buf);

	if (slice_ieq(h->name, "content-length")) {
		if (f->cl)
			return err_at(err_pos, at, HTTP1_E_DUP_CL);
		if (f->te)
			return err_at(err_pos, at, HTTP1_E_CL_AND_TE);
		return content_length(buf, h->value, f, err_pos);
	}
	if (slice_ieq(h->name, "transfer-encoding")) {
		if (f->cl)
			return err_at(err_pos, at, HTTP1_E_CL_AND_TE);
		/* HTTP/1.0 has no chunked framing: a 1.0 peer would read the body differently. */
		if (minor == 0)
			return err_at(err_pos, at, HTTP1_E_BAD_TE);
		if (is_req) {
			if (f->te)
				return err_at(err_pos, at, HTTP1_E_BAD_TE);
			if (!slice_ieq(h->value, "chunked"))
				return err_at(err_pos, (size_t)(h->value.p - buf), HTTP1_E_BAD_TE);
			f->te = true;
			f->te_chunked_last = true;
			return 0;
		}
		f->te = true;
		return resp_transfer_encoding(buf, h->value, f, err_pos);
	}
	if (slice_ieq(h->name, "connection"))
		return connection(buf, h->value, f, err_pos);
	if (slice_ieq(h->name, "upgrade"))
		f->upgrade_field = true;
	return 0;
}

static unsigned conn_flags(const struct facts *f, int minor)
{
	unsigned flags = 0;

	if (minor == 0) {
		if (f->conn_keepalive && !f->conn_close)
			flags |= HTTP1_F_KEEPALIVE_10;
		else
			flags |= HTTP1_F_CLOSE;
	} else {
		if (f->conn_close)
			flags |= HTTP1_F_CLOSE;
		/* RFC 9110 section 7.8: an Upgrade in an HTTP/1.0 message is ignored. */
		if (f->conn_upgrade && f->upgrade_field)
			flags |= HTTP1_F_UPGRADE;
	}
	return flags;
}

/* --- requests ---------------------------------------------------------------------------- */

/* method SP request-target SP HTTP-version, each separated by exactly one space. */
static ssize_t request_line(const char *buf, size_t eol, struct http1_req *req, size_t *err_pos)
{
	size_t i, t, bad;

	for (i = 0; i < eol && tchar[(unsigned char)buf[i]]; i++)
		;
	if (i == 0 || i == eol || buf[i] != ' ')
		return err_at(err_pos, i, HTTP1_E_METHOD);
	req->method = slice_of(buf, i);
	for (t = ++i; i < eol && buf[i] != ' '; i++) {
		if (!target_char[(unsigned char)buf[i]])
			return err_at(err_pos, i, HTTP1_E_TARGET);
	}
	if (i == t)
		return err_at(err_pos, i, HTTP1_E_TARGET);
	if (i == eol)
		return err_at(err_pos, i, HTTP1_E_VERSION);
	req->target = slice_of(buf + t, i - t);
	req->minor = version_at(buf, ++i, eol, &bad);
	if (req->minor < 0)
		return err_at(err_pos, bad, HTTP1_E_VERSION);
	if (i + 8 != eol)
		return err_at(err_pos, i + 8, HTTP1_E_VERSION);
	return 0;
}

/*
 * Sorts the target into its form and splits it: CONNECT takes authority-form (port required)
 * and nothing else, "*" goes with OPTIONS only, "/..." is origin-form, and anything else must
 * be http:// or https:// followed by an authority without userinfo.
 */
static ssize_t request_target(const char *buf, struct http1_req *req, size_t *err_pos)
{
	const char *t = req->target.p;
	size_t n = req->target.len, at = (size_t)(t - buf), i, end, bad;

	if (slice_eq(req->method, "CONNECT")) {
		if (!authority_ok(t, n, true, &bad))
			return err_at(err_pos, at + bad, HTTP1_E_TARGET);
		req->form = HTTP1_AUTHORITY;
		req->authority = req->target;
		return 0;
	}
	if (n == 1 && t[0] == '*') {
		if (!slice_eq(req->method, "OPTIONS"))
			return err_at(err_pos, at, HTTP1_E_TARGET);
		req->form = HTTP1_ASTERISK;
		req->path = req->target;
		return 0;
	}
	if (t[0] == '/') {
		req->form = HTTP1_ORIGIN;
		req->path = req->target;
		return 0;
	}
	for (i = 0; i < n && t[i] != ':'; i++)
		;
	req->scheme = slice_of(t, i);
	if (!slice_ieq(req->scheme, "http") && !slice_ieq(req->scheme, "https"))
		return err_at(err_pos, at, HTTP1_E_TARGET);
	if (n - i < 3 || t[i + 1] != '/' || t[i + 2] != '/')
		return err_at(err_pos, at + i, HTTP1_E_TARGET);
	i += 3;
	for (end = i; end < n && t[end] != '/' && t[end] != '?'; end++)
		;
	if (!authority_ok(t + i, end - i, false, &bad))
		return err_at(err_pos, at + i + bad, HTTP1_E_TARGET);
	req->form = HTTP1_ABSOLUTE;
	req->authority = slice_of(t + i, end - i);
	if (end < n)
		req->path = slice_of(t + end, n - end);
	return 0;
}

/* s without a trailing ":80" (http) or ":443" (https); s itself without a scheme (CONNECT). */
static struct slice without_default_port(struct slice s, struct slice scheme)
{
	const char *port = slice_ieq(scheme, "https") ? ":443" : ":80";
	size_t n = strlen(port);

	if (scheme.p && s.len > n && memcmp(s.p + s.len - n, port, n) == 0)
		s.len -= n;
	return s;
}

/* Host and the target's authority name the same server: equal but for case and a default port. */
static bool same_origin(struct slice host, struct slice authority, struct slice scheme)
{
	host = without_default_port(host, scheme);
	authority = without_default_port(authority, scheme);
	return host.len == authority.len && strncasecmp(host.p, authority.p, host.len) == 0;
}

/* The request's own fields: Host (once, valid, agreeing with the target) and Expect. */
static ssize_t request_field(const char *buf, const struct http1_header *h, struct http1_req *req,
			     struct facts *f, size_t *err_pos)
{
	size_t bad;

	if (slice_ieq(h->name, "host")) {
		if (f->host)
			return err_at(err_pos, (size_t)(h->name.p - buf), HTTP1_E_DUP_HOST);
		f->host = true;
		if (!authority_ok(h->value.p, h->value.len, false, &bad))
			return err_at(err_pos, (size_t)(h->value.p - buf) + bad,
				      HTTP1_E_HEADER_VALUE);
		if (req->authority.p && !same_origin(h->value, req->authority, req->scheme))
			return err_at(err_pos, (size_t)(h->value.p - buf), HTTP1_E_HOST_MISMATCH);
		req->host = h->value;
		return 0;
	}
	if (slice_ieq(h->name, "expect") && slice_ieq(h->value, "100-continue") && req->minor == 1)
		req->flags |= HTTP1_F_EXPECT_CONTINUE;
	return framing_field(buf, h, req->minor, true, f, err_pos);
}

ssize_t http1_parse_request(const char *buf, size_t len, size_t max_head, struct http1_req *req,
			    struct http1_header *hdr, size_t max_hdr, size_t *err_pos)
{
	struct facts f = {0};
	size_t head_len, eol, i;
	ssize_t r;

	r = scan_head(buf, len, max_head, max_hdr, err_pos);
	if (r <= 0)
		return r;
	head_len = (size_t)r;
	memset(req, 0, sizeof(*req));
	req->hdr = hdr;
	eol = line_end(buf, 0, head_len);
	if ((r = request_line(buf, eol, req, err_pos)) < 0)
		return r;
	if ((r = request_target(buf, req, err_pos)) < 0)
		return r;
	if ((r = parse_fields(buf, eol + 2, head_len, hdr, max_hdr, &req->n_hdr, err_pos)) < 0)
		return r;
	for (i = 0; i < req->n_hdr; i++) {
		if ((r = request_field(buf, &hdr[i], req, &f, err_pos)) < 0)
			return r;
	}
	if (!f.host) {
		if (req->authority.p)
			req->host = req->authority;
		else if (req->minor == 1)
			return err_at(err_pos, head_len - 2, HTTP1_E_NO_HOST);
	}
	if (f.te) {
		req->body = HTTP1_BODY_CHUNKED;
	} else if (f.cl) {
		req->body = HTTP1_BODY_LENGTH;
		req->content_length = f.cl_value;
	}
	req->flags |= conn_flags(&f, req->minor);
	req->head_len = head_len;
	return (ssize_t)head_len;
}

/* --- responses --------------------------------------------------------------------------- */

/* HTTP-version SP 3DIGIT [SP reason-phrase]; the status is 100-599. */
static ssize_t status_line(const char *buf, size_t eol, struct http1_resp *resp, size_t *err_pos)
{
	size_t i, bad;

	resp->minor = version_at(buf, 0, eol, &bad);
	if (resp->minor < 0)
		return err_at(err_pos, bad, HTTP1_E_VERSION);
	if (eol == 8 || buf[8] != ' ')
		return err_at(err_pos, 8, HTTP1_E_VERSION);
	for (i = 9; i < 12; i++) {
		if (i >= eol || buf[i] < '0' || buf[i] > '9')
			return err_at(err_pos, i, HTTP1_E_STATUS);
	}
	resp->status = (buf[9] - '0') * 100 + (buf[10] - '0') * 10 + (buf[11] - '0');
	if (resp->status < 100 || resp->status > 599)
		return err_at(err_pos, 9, HTTP1_E_STATUS);
	resp->reason = slice_of(buf + eol, 0);
	if (eol == 12)
		return 0;
	if (buf[12] != ' ')
		return err_at(err_pos, 12, HTTP1_E_STATUS);
	for (i = 13; i < eol; i++) {
		if (!vchar_ws[(unsigned char)buf[i]])
			return err_at(err_pos, i, HTTP1_E_STATUS);
	}
	resp->reason = slice_of(buf + 13, eol - 13);
	return 0;
}

ssize_t http1_parse_response(const char *buf, size_t len, size_t max_head, struct slice req_method,
			     struct http1_resp *resp, struct http1_header *hdr, size_t max_hdr,
			     size_t *err_pos)
{
	struct facts f = {0};
	size_t head_len, eol, i;
	ssize_t r;
	int s;

	r = scan_head(buf, len, max_head, max_hdr, err_pos);
	if (r <= 0)
		return r;
	head_len = (size_t)r;
	memset(resp, 0, sizeof(*resp));
	resp->hdr = hdr;
	eol = line_end(buf, 0, head_len);
	if ((r = status_line(buf, eol, resp, err_pos)) < 0)
		return r;
	if ((r = parse_fields(buf, eol + 2, head_len, hdr, max_hdr, &resp->n_hdr, err_pos)) < 0)
		return r;
	for (i = 0; i < resp->n_hdr; i++) {
		if ((r = framing_field(buf, &hdr[i], resp->minor, false, &f, err_pos)) < 0)
			return r;
	}
	s = resp->status;
	/* RFC 9112 section 6.3, in its order. */
	if (s == 101 || (s / 100 == 2 && slice_eq(req_method, "CONNECT")))
		resp->body = HTTP1_BODY_TUNNEL;
	else if (slice_eq(req_method, "HEAD") || s / 100 == 1 || s == 204 || s == 304)
		resp->body = HTTP1_BODY_NONE;
	else if (f.te)
		resp->body = f.te_chunked_last ? HTTP1_BODY_CHUNKED : HTTP1_BODY_UNTIL_CLOSE;
	else if (f.cl)
		resp->body = HTTP1_BODY_LENGTH;
	else
		resp->body = HTTP1_BODY_UNTIL_CLOSE;
	if (resp->body == HTTP1_BODY_LENGTH)
		resp->content_length = f.cl_value;
	resp->flags = conn_flags(&f, resp->minor);
	if (resp->body == HTTP1_BODY_UNTIL_CLOSE)
		resp->flags = (resp->flags & ~HTTP1_F_KEEPALIVE_10) | HTTP1_F_CLOSE;
	resp->head_len = head_len;
	return (ssize_t)head_len;
}

struct slice http1_header_get(const struct http1_header *hdr, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (slice_ieq(hdr[i].name, name))
			return hdr[i].value;
	}
	return slice_of(NULL, 0);
}

/* --- chunked framing --------------------------------------------------------------------- */

enum chunk_state {
	CHUNK_SIZE_FIRST, /* the first hex digit of a chunk-size */
	CHUNK_SIZE,	  /* more hex digits, or what ends them */
	CHUNK_BWS,	  /* whitespace after the size, which only ';' may follow */
	CHUNK_EXT,	  /* chunk extensions, up to CR */
	CHUNK_SIZE_LF,	  /* the LF of the size line */
	CHUNK_DATA,
	CHUNK_DATA_CR, /* the CRLF after the data */
	CHUNK_DATA_LF,
	CHUNK_TRAILER_LINE, /* the start of a trailer field, or of the final CRLF */
	CHUNK_TRAILER_NAME,
	CHUNK_TRAILER_VALUE,
	CHUNK_TRAILER_LF,
	CHUNK_END_LF, /* the LF of the final CRLF */
	CHUNK_DONE,
};

void http1_chunked_init(struct http1_chunked *c)
{
	memset(c, 0, sizeof(*c));
	c->state = CHUNK_SIZE_FIRST;
}

static int hex_value(unsigned char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* The scanner; with out, the chunks' data is copied to out[*out_len...] as it passes. */
static ssize_t chunked_run(struct http1_chunked *c, const char *buf, size_t len, size_t *err_pos,
			   char *out, size_t *out_len)
{
	size_t i = 0, n;
	unsigned char ch;
	int d;

	if (c->done)
		return 0;
	while (i < len) {
		ch = (unsigned char)buf[i];
		if (c->state >= CHUNK_TRAILER_LINE && ++c->trailer_len > HTTP1_TRAILER_MAX)
			return err_at(err_pos, i, HTTP1_E_CHUNK);
		if (c->trailers && c->state >= CHUNK_TRAILER_LINE && c->state <= CHUNK_TRAILER_LF &&
		    !(c->state == CHUNK_TRAILER_LINE && ch == '\r') &&
		    c->trailers_got < c->trailers_cap)
			c->trailers[c->trailers_got++] = (char)ch;
		switch (c->state) {
		case CHUNK_SIZE_FIRST:
		case CHUNK_SIZE:
			d = hex_value(ch);
			if (d >= 0) {
				if (c->left > ((uint64_t)INT64_MAX - (uint64_t)d) / 16)
					return err_at(err_pos, i, HTTP1_E_CHUNK);
				c->left = c->left * 16 + (uint64_t)d;
				c->state = CHUNK_SIZE;
			} else if (c->state == CHUNK_SIZE_FIRST) {
				return err_at(err_pos, i, HTTP1_E_CHUNK);
			} else if (ch == '\r') {
				c->state = CHUNK_SIZE_LF;
			} else if (ch == ';' || is_ows((char)ch)) {
				c->line_len = 1;
				c->state = ch == ';' ? CHUNK_EXT : CHUNK_BWS;
			} else {
				return err_at(err_pos, i, HTTP1_E_CHUNK);
			}
			break;
		case CHUNK_BWS:
		case CHUNK_EXT:
			if (ch == '\r' && c->state == CHUNK_EXT) {
				c->state = CHUNK_SIZE_LF;
				break;
			}
			if (++c->line_len > HTTP1_CHUNK_EXT_MAX)
				return err_at(err_pos, i, HTTP1_E_CHUNK);
			if (ch == ';')
				c->state = CHUNK_EXT;
			else if (c->state == CHUNK_BWS ? !is_ows((char)ch) : !vchar_ws[ch])
				return err_at(err_pos, i, HTTP1_E_CHUNK);
			break;
		case CHUNK_SIZE_LF:
			if (ch != '\n')
				return err_at(err_pos, i, HTTP1_E_CHUNK);
			c->line_len = 0;
			c->state = c->left ? CHUNK_DATA : CHUNK_TRAILER_LINE;
			break;
		case CHUNK_DATA:
			n = len - i < c->left ? len - i : (size_t)c->left;
			if (out) {
				memcpy(out + *out_len, buf + i, n);
				*out_len += n;
			}
			c->left -= n;
			c->data += n;
			i += n;
			if (!c->left)
				c->state = CHUNK_DATA_CR;
			continue;
		case CHUNK_DATA_CR:
			if (ch != '\r')
				return err_at(err_pos, i, HTTP1_E_CHUNK);
			c->state = CHUNK_DATA_LF;
			break;
		case CHUNK_DATA_LF:
			if (ch != '\n')
				return err_at(err_pos, i, HTTP1_E_CHUNK);
			c->state = CHUNK_SIZE_FIRST;
			break;
		case CHUNK_TRAILER_LINE:
			if (ch == '\r')
				c->state = CHUNK_END_LF;
			else if (tchar[ch])
				c->state = CHUNK_TRAILER_NAME;
			else
				return err_at(err_pos, i, HTTP1_E_CHUNK);
			break;
		case CHUNK_TRAILER_NAME:
			if (ch == ':')
				c->state = CHUNK_TRAILER_VALUE;
			else if (!tchar[ch])
				return err_at(err_pos, i, HTTP1_E_CHUNK);
			break;
		case CHUNK_TRAILER_VALUE:
			if (ch == '\r')
				c->state = CHUNK_TRAILER_LF;
			else if (!vchar_ws[ch])
				return err_at(err_pos, i, HTTP1_E_CHUNK);
			break;
		case CHUNK_TRAILER_LF:
			if (ch != '\n')
				return err_at(err_pos, i, HTTP1_E_CHUNK);
			c->state = CHUNK_TRAILER_LINE;
			break;
		case CHUNK_END_LF:
			if (ch != '\n')
				return err_at(err_pos, i, HTTP1_E_CHUNK);
			c->state = CHUNK_DONE;
			c->done = true;
			return (ssize_t)(i + 1);
		default:
			return err_at(err_pos, i, HTTP1_E_CHUNK);
		}
		i++;
	}
	return (ssize_t)len;
}

ssize_t http1_chunked_scan(struct http1_chunked *c, const char *buf, size_t len, size_t *err_pos)
{
	return chunked_run(c, buf, len, err_pos, NULL, NULL);
}

ssize_t http1_chunked_decode(struct http1_chunked *c, const char *buf, size_t len, size_t *err_pos,
			     char *out, size_t *out_len)
{
	*out_len = 0;
	return chunked_run(c, buf, len, err_pos, out, out_len);
}
