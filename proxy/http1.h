/* SPDX-License-Identifier: MIT */
/*
 * http1.h: a strict HTTP/1.1 message parser (RFC 9112) for the proxy's decision path. It reads
 * request and response heads and finds where a chunked body ends, and it refuses anything whose
 * framing two implementations could read differently (Content-Length with Transfer-Encoding,
 * duplicate Content-Length, bare LF or CR, obs-fold, ...) instead of guessing, so no request can
 * be smuggled past a decision. It never allocates: every slice it returns points into the
 * caller's buffer and headers go into the caller's array. It does not read sockets, rewrite
 * messages or decide anything; bodies are framed here and forwarded byte for byte elsewhere.
 */
#ifndef BOUNDARY_PROXY_HTTP1_H
#define BOUNDARY_PROXY_HTTP1_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "proxy/slice.h"

/* Error codes, returned negated (-HTTP1_E_BARE_LF). http1_strerror() names each. */
enum http1_err {
	HTTP1_E_HEAD_TOO_BIG = 1, /* no end of head within max_head bytes */
	HTTP1_E_TOO_MANY_HEADERS, /* more than max_hdr field lines */
	HTTP1_E_BARE_LF,	  /* a LF not preceded by CR */
	HTTP1_E_OBS_FOLD,	  /* a field line starting with SP or HT */
	HTTP1_E_METHOD,		  /* the method is not a token followed by one SP */
	HTTP1_E_TARGET,		  /* malformed request-target, or the wrong form for the method */
	HTTP1_E_VERSION,	  /* not exactly HTTP/1.0 or HTTP/1.1 */
	HTTP1_E_HEADER_NAME,	  /* not a token, or whitespace before the colon, or no colon */
	HTTP1_E_HEADER_VALUE,  /* a control character in a value, or a malformed Host/Connection */
	HTTP1_E_CL_AND_TE,     /* Content-Length and Transfer-Encoding in one message */
	HTTP1_E_BAD_CL,	       /* Content-Length not plain digits, or >= 2^63 */
	HTTP1_E_DUP_CL,	       /* a second Content-Length field, or a list of lengths */
	HTTP1_E_BAD_TE,	       /* a Transfer-Encoding this parser does not frame */
	HTTP1_E_NO_HOST,       /* an HTTP/1.1 request without Host */
	HTTP1_E_DUP_HOST,      /* two Host fields */
	HTTP1_E_HOST_MISMATCH, /* Host differs from the authority in the request-target */
	HTTP1_E_STATUS,	       /* malformed status code or reason phrase */
	HTTP1_E_CHUNK,	       /* malformed chunked framing */
	HTTP1_E_BARE_CR,       /* a CR not followed by LF */
};

/*
 * Returns a static sentence for a person describing err (positive or negated), e.g.
 * "Content-Length and Transfer-Encoding together (request smuggling)"; "unknown error" for a
 * code that is not one of enum http1_err.
 */
const char *http1_strerror(int err);

/* One field line. Both slices point into the parsed buffer; value has no surrounding OWS. */
struct http1_header {
	struct slice name, value;
};

enum http1_form {
	HTTP1_ORIGIN,	 /* "/path?query" */
	HTTP1_ABSOLUTE,	 /* "http://authority/path?query" (a request to a proxy) */
	HTTP1_AUTHORITY, /* "host:port", with CONNECT only */
	HTTP1_ASTERISK,	 /* "*", with OPTIONS only */
};

/* How the message's body is framed (RFC 9112 section 6.3). */
enum http1_body {
	HTTP1_BODY_NONE,
	HTTP1_BODY_LENGTH,	/* content_length bytes (possibly 0) */
	HTTP1_BODY_CHUNKED,	/* scan with http1_chunked_scan() */
	HTTP1_BODY_UNTIL_CLOSE, /* responses only: everything until the server closes */
	HTTP1_BODY_TUNNEL,	/* 101, or 2xx to CONNECT: the connection is no longer HTTP */
};

#define HTTP1_F_CLOSE		0x1 /* Connection: close, 1.0 without keep-alive, until-close */
#define HTTP1_F_UPGRADE		0x2 /* HTTP/1.1, Connection: upgrade and an Upgrade field */
#define HTTP1_F_EXPECT_CONTINUE 0x4 /* HTTP/1.1 request with Expect: 100-continue */
#define HTTP1_F_KEEPALIVE_10	0x8 /* HTTP/1.0 with Connection: keep-alive (and not close) */

/*
 * A parsed request head. Every slice points into the buffer given to http1_parse_request() and
 * is valid as long as those bytes are; a part that is absent is {NULL, 0}.
 *  - scheme, authority, path: absolute-form splits the target ("http", "example.com:8080",
 *    "/a?b"; path is absent when nothing follows the authority); origin-form and asterisk-form
 *    set path to the whole target; authority-form sets authority to the whole target.
 *  - host: the Host field's value. With absolute-form or authority-form, Host must name the
 *    authority when present (equal but for case, and for absolute-form but for the scheme's
 *    default port: Host "a.example" goes with "http://a.example:80/") and is the authority when
 *    absent. With
 *    origin-form or asterisk-form it is required in HTTP/1.1 and absent only in an HTTP/1.0
 *    request that did not send one.
 *  - minor: the 1 of HTTP/1.1 (0 or 1).
 *  - body and content_length: the request body's framing (never UNTIL_CLOSE or TUNNEL).
 *  - head_len: bytes from the first byte of the request line through the empty line.
 */
struct http1_req {
	struct slice method, target;
	enum http1_form form;
	struct slice scheme, authority, path;
	struct slice host;
	int minor;
	struct http1_header *hdr;
	size_t n_hdr;
	enum http1_body body;
	uint64_t content_length;
	unsigned flags;
	size_t head_len;
};

/* A parsed response head; as struct http1_req. reason may be empty. */
struct http1_resp {
	int status;
	int minor;
	struct slice reason;
	struct http1_header *hdr;
	size_t n_hdr;
	enum http1_body body;
	uint64_t content_length;
	unsigned flags;
	size_t head_len;
};

/*
 * Parses the request head at the start of buf[0..len). hdr[0..max_hdr) is the caller's array for
 * the field lines (hdr may be NULL when max_hdr is 0). Returns:
 *  - > 0: the head's length; the whole head (through the empty line) is in buf and *req is
 *    filled (req->hdr = hdr). Bytes after it (a body, the next request) are not looked at.
 *  - 0: no complete head yet and len < max_head; call again with the same bytes and more.
 *  - -HTTP1_E_*: a malformed or ambiguous head, or -HTTP1_E_HEAD_TOO_BIG when the head does not
 *    end within max_head bytes (the proxy uses 64 KiB) and len >= max_head. *err_pos is the
 *    offset of the offending byte (<= len; max_head for HEAD_TOO_BIG, the final CRLF for
 *    NO_HOST). *req and hdr[] are then unspecified.
 * Stateless: each call reads buf from its start (one memchr pass over at most max_hdr + 2
 * lines until the head is complete), so the caller may move the bytes between calls. Errors in
 * the line structure (a bare CR or LF, more than max_hdr field lines) are reported as soon as
 * they arrive, every other error once the head is complete; the same bytes give the same result
 * however they were fed. A leading empty line is not skipped (it is an HTTP1_E_METHOD).
 */
ssize_t http1_parse_request(const char *buf, size_t len, size_t max_head, struct http1_req *req,
			    struct http1_header *hdr, size_t max_hdr, size_t *err_pos);

/*
 * The same for the response to a request whose method was req_method (compared
 * case-sensitively): a 2xx to CONNECT and any 101 are HTTP1_BODY_TUNNEL, a response to HEAD and
 * any other 1xx, 204 or 304 have no body, chunked must be the last transfer coding for
 * HTTP1_BODY_CHUNKED (otherwise, and without Content-Length, HTTP1_BODY_UNTIL_CLOSE). A 1xx is
 * returned like any response; the caller forwards it and parses again after head_len. The
 * status line's reason may be omitted with its space ("HTTP/1.1 200\r\n").
 */
ssize_t http1_parse_response(const char *buf, size_t len, size_t max_head, struct slice req_method,
			     struct http1_resp *resp, struct http1_header *hdr, size_t max_hdr,
			     size_t *err_pos);

/* Limits of the chunked framing, beyond which http1_chunked_scan() fails. */
#define HTTP1_CHUNK_EXT_MAX (4 * 1024)	/* bytes of extensions on one chunk-size line */
#define HTTP1_TRAILER_MAX   (16 * 1024) /* bytes of the trailer section, final CRLF included */

/*
 * The chunked scanner's state, embedded in the connection. The fields are the scanner's own;
 * done is true once the last chunk, the trailers and the final CRLF have been seen.
 */
struct http1_chunked {
	int state;
	uint64_t left;	    /* bytes left in the current chunk's data */
	size_t line_len;    /* extension bytes on the current size line */
	size_t trailer_len; /* bytes of the trailer section so far */
	bool done;
	/*
	 * Set by the caller after http1_chunked_init() to keep the trailer fields: their lines
	 * ("name: value\r\n" each, as they came; the final CRLF not) go to trailers[0..cap),
	 * trailers_got long. NULL: they are only checked.
	 */
	char *trailers;
	size_t trailers_cap, trailers_got;
	/*
	 * The chunks' data bytes scanned so far: the body's length as it was before chunking.
	 * data + left never shrinks, and is at most what the whole body will be (max_body=).
	 */
	uint64_t data;
};

/* Prepares c for a new chunked body. */
void http1_chunked_init(struct http1_chunked *c);

/*
 * Scans buf[0..len), the next bytes of a chunked body, without changing them. Returns how many of
 * them belong to the body: len, or fewer when the body ends inside buf (then c->done is true and
 * the rest belongs to the next message); 0 when len is 0 or c->done already. Returns
 * -HTTP1_E_CHUNK with *err_pos (an offset into this buf) for a chunk-size that is not hex or
 * is >= 2^63, whitespace not followed by ';', a control character or more than
 * HTTP1_CHUNK_EXT_MAX bytes of extensions, data not followed by CRLF, a bare LF or CR, or
 * trailer fields that are malformed (the field-line rules of a head) or longer than
 * HTTP1_TRAILER_MAX. Trailers are consumed as part of the body. After an error, c must be
 * initialised again before further use. The split of the body into calls never changes the
 * outcome.
 */
ssize_t http1_chunked_scan(struct http1_chunked *c, const char *buf, size_t len, size_t *err_pos);

/*
 * As http1_chunked_scan(), and the chunks' data among the bytes it returns is copied to out
 * (at least len bytes of room), its length in *out_len: the body as it was before chunking. The
 * framing, the extensions and the trailers are dropped.
 */
ssize_t http1_chunked_decode(struct http1_chunked *c, const char *buf, size_t len, size_t *err_pos,
			     char *out, size_t *out_len);

/*
 * Finds the first field named name (case-insensitive) in hdr[0..n). Returns its value, or
 * {NULL, 0} when there is none.
 */
struct slice http1_header_get(const struct http1_header *hdr, size_t n, const char *name);

#endif /* BOUNDARY_PROXY_HTTP1_H */
