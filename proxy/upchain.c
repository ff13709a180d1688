// SPDX-License-Identifier: MIT
/*
 * upchain.c: the operator's upstream proxy (upchain.h). It owns the URL's parser, the
 * configuration the proxy borrows (the Proxy-Authorization value made once, the bypass
 * patterns compiled as domain= rules), and a connection's way through the proxy: which way a
 * connection goes (upchain_route()), the name looked up instead of the destination's, TLS to
 * the proxy, the CONNECT handshake read with http1.c's response parser (CONN_UP_PROXY, one
 * step of the worker's loop like every other), the absolute-form request line and credentials,
 * and the origin's TLS stacked on the proxy's. What it does not own: the rules (a request is
 * decided before anything here runs), the lookup and the TCP connect (upstream.c's, pointed at
 * the proxy's address), and what goes through the tunnel once it is open.
 *
 * The credentials are never formatted into anything but the Proxy-Authorization field: errors
 * and log lines name the proxy by upchain_name() alone.
 */
#include "proxy/upchain.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>

#include "proxy/conn.h"
#include "proxy/log.h"
#include "proxy/tls.h"
#include "rules/rules.h"

struct upchain {
	struct upchain_url url; /* user and pass wiped once auth is made */
	char name[UPCHAIN_HOST_MAX + 8];
	/* "Basic " and base64 of USER:PASS ((2 * UPCHAIN_CRED_MAX) * 4 / 3, rounded up) */
	char auth[6 + 4 * ((2 * UPCHAIN_CRED_MAX + 2) / 3) + 1];
	struct rules *bypass; /* NULL: none */
	bool connect_always;
};

/* --- the URL --------------------------------------------------------------------------------- */

static int bad(char *err, size_t errlen, const char *what)
{
	snprintf(err, errlen, "%s", what);
	return -EINVAL;
}

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/*
 * Percent-decodes p[0..n) into out (len bytes, NUL-terminated). Returns 0, or -EINVAL with err
 * saying what is wrong with which (what: "user name" or "password"), never quoting it.
 */
static int decode_cred(const char *p, size_t n, char *out, size_t len, const char *what, char *err,
		       size_t errlen)
{
	size_t i, k = 0;
	int hi, lo;
	unsigned char ch;

	for (i = 0; i < n; i++) {
		ch = (unsigned char)p[i];
		if (ch == '%') {
			hi = i + 2 < n ? hexval(p[i + 1]) : -1;
			lo = i + 2 < n ? hexval(p[i + 2]) : -1;
			if (hi < 0 || lo < 0) {
				snprintf(err, errlen,
					 "the %s has a %% that is not followed by two hex digits "
					 "(write %%25 for a %% itself)",
					 what);
				return -EINVAL;
			}
			ch = (unsigned char)(hi << 4 | lo);
			i += 2;
		} else if (strchr("/?#[]@ ", ch)) {
			snprintf(err, errlen, "the %s has a '%c': percent-encode it (%%%02X)", what,
				 ch, ch);
			return -EINVAL;
		}
		/* It goes into a header field: CR, LF or any control byte could end it. */
		if (ch < 0x20 || ch == 0x7f) {
			snprintf(err, errlen, "the %s holds a control character", what);
			return -EINVAL;
		}
		if (k + 1 >= len) {
			snprintf(err, errlen, "the %s is too long (at most %zu bytes)", what,
				 len - 1);
			return -EINVAL;
		}
		out[k++] = (char)ch;
	}
	out[k] = '\0';
	return 0;
}

int upchain_parse_url(const char *url, struct upchain_url *out, char *err, size_t errlen)
{
	const char *p, *auth_end, *at, *colon, *host, *host_end, *port_s;
	unsigned char a6[16];
	unsigned long port;
	size_t n, i;
	char *end;

	memset(out, 0, sizeof(*out));
	if (strncasecmp(url, "http://", 7) == 0) {
		p = url + 7;
	} else if (strncasecmp(url, "https://", 8) == 0) {
		p = url + 8;
		out->tls = true;
	} else {
		return bad(err, errlen,
			   "not an http:// or https:// URL (write http://HOST:PORT, or "
			   "http://USER:PASS@HOST:PORT)");
	}
	/*
	 * The authority ends at the path; a '@' in a password must be %40, so the last '@' ends
	 * the credentials whatever they hold.
	 */
	auth_end = p + strcspn(p, "/?#");
	if (*auth_end && strcmp(auth_end, "/") != 0) {
		bad(err, errlen,
		    "a proxy's URL has no path, query or fragment (write http://HOST:PORT); a '/', "
		    "'?' or '#' in a password must be percent-encoded");
		goto fail;
	}
	at = NULL;
	for (i = 0; p + i < auth_end; i++)
		if (p[i] == '@')
			at = p + i;
	host = p;
	if (at) {
		out->auth = true;
		colon = memchr(p, ':', (size_t)(at - p));
		n = colon ? (size_t)(colon - p) : (size_t)(at - p);
		if (decode_cred(p, n, out->user, sizeof(out->user), "user name", err, errlen) < 0)
			goto fail;
		if (strchr(out->user, ':')) {
			bad(err, errlen,
			    "the user name holds a ':', which Basic authentication cannot carry");
			goto fail;
		}
		if (colon && decode_cred(colon + 1, (size_t)(at - colon - 1), out->pass,
					 sizeof(out->pass), "password", err, errlen) < 0)
			goto fail;
		host = at + 1;
	}
	if (*host == '[') {
		host_end = memchr(host, ']', (size_t)(auth_end - host));
		if (!host_end || (size_t)(host_end - host - 1) >= sizeof(out->host)) {
			bad(err, errlen, "an IPv6 address without its closing ']'");
			goto fail;
		}
		memcpy(out->host, host + 1, (size_t)(host_end - host - 1));
		out->host[host_end - host - 1] = '\0';
		if (inet_pton(AF_INET6, out->host, a6) != 1) {
			bad(err, errlen, "what is in [brackets] is not an IPv6 address");
			goto fail;
		}
		port_s = host_end + 1;
		if (port_s >= auth_end || *port_s != ':') {
			bad(err, errlen,
			    "no port: name the proxy's port (http://[ADDR]:3128); proxies have "
			    "no one default");
			goto fail;
		}
		port_s++;
	} else {
		colon = memchr(host, ':', (size_t)(auth_end - host));
		host_end = colon ? colon : auth_end;
		n = (size_t)(host_end - host);
		if (n == 0) {
			bad(err, errlen, "no host: write http://HOST:PORT");
			goto fail;
		}
		if (n >= sizeof(out->host)) {
			bad(err, errlen, "the host name is too long");
			goto fail;
		}
		for (i = 0; i < n; i++) {
			char ch = host[i];

			if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			      (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '_')) {
				bad(err, errlen,
				    "the host is not a name or an address (IPv6 goes in "
				    "[brackets])");
				goto fail;
			}
		}
		memcpy(out->host, host, n);
		out->host[n] = '\0';
		if (!colon) {
			bad(err, errlen,
			    "no port: name the proxy's port (http://proxy.example:3128); proxies "
			    "have no one default");
			goto fail;
		}
		port_s = colon + 1;
	}
	n = (size_t)(auth_end - port_s);
	if (n == 0 || n > 5 || port_s[0] < '0' || port_s[0] > '9') {
		bad(err, errlen, "the port is not a number from 1 to 65535");
		goto fail;
	}
	errno = 0;
	port = strtoul(port_s, &end, 10);
	if (errno || end != auth_end || port == 0 || port > 65535) {
		bad(err, errlen, "the port is not a number from 1 to 65535");
		goto fail;
	}
	out->port = (uint16_t)port;
	return 0;
fail:
	OPENSSL_cleanse(out, sizeof(*out));
	return -EINVAL;
}

/* --- the configuration ----------------------------------------------------------------------- */

/* "host:port", or "[addr]:port" for an IPv6 address, into out; its length. */
static int authority(const char *host, uint16_t port, char *out, size_t len)
{
	if (strchr(host, ':'))
		return snprintf(out, len, "[%s]:%u", host, port);
	return snprintf(out, len, "%s:%u", host, port);
}

/* Compiles the comma-separated patterns as domain= rules into u->bypass. */
static int compile_bypass(struct upchain *u, const char *list, char *err, size_t errlen)
{
	const char *p = list, *comma;
	char rule[300], why[256];
	size_t n, col;

	u->bypass = rules_new();
	if (!u->bypass)
		return -ENOMEM;
	while (*p) {
		comma = strchr(p, ',');
		n = comma ? (size_t)(comma - p) : strlen(p);
		while (n && (*p == ' ' || *p == '\t'))
			p++, n--;
		while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (n == 0 || strcspn(p, " \t=") < n) {
			snprintf(err, errlen,
				 "--upstream-proxy-bypass: %s (write host patterns separated by "
				 "commas: example.com,*.corp.internal)",
				 n ? "a pattern with a space or '=' in it" : "an empty pattern");
			return -EINVAL;
		}
		snprintf(rule, sizeof(rule), "domain=%.*s", (int)n, p);
		if (rules_add(u->bypass, rule, &col, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "--upstream-proxy-bypass: \"%.*s\": %s", (int)n, p,
				 why);
			return -EINVAL;
		}
		if (!comma)
			break;
		p = comma + 1;
	}
	return 0;
}

struct upchain *upchain_new(const char *url, const char *bypass, bool connect_always, char *err,
			    size_t errlen)
{
	struct upchain *u = calloc(1, sizeof(*u));
	char why[256], cred[2 * UPCHAIN_CRED_MAX];
	int n, ret;

	if (!u) {
		snprintf(err, errlen, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	if (upchain_parse_url(url, &u->url, why, sizeof(why)) < 0) {
		/* Never the URL itself: it may hold the password. */
		snprintf(err, errlen, "--upstream-proxy: %s", why);
		free(u);
		errno = EINVAL;
		return NULL;
	}
	u->connect_always = connect_always;
	authority(u->url.host, u->url.port, u->name, sizeof(u->name));
	if (u->url.auth) {
		n = snprintf(cred, sizeof(cred), "%s:%s", u->url.user, u->url.pass);
		memcpy(u->auth, "Basic ", 6);
		EVP_EncodeBlock((unsigned char *)u->auth + 6, (const unsigned char *)cred, n);
		OPENSSL_cleanse(cred, sizeof(cred));
	}
	OPENSSL_cleanse(u->url.user, sizeof(u->url.user));
	OPENSSL_cleanse(u->url.pass, sizeof(u->url.pass));
	if (bypass && bypass[0] && (ret = compile_bypass(u, bypass, err, errlen)) < 0) {
		if (ret == -ENOMEM)
			snprintf(err, errlen, "out of memory");
		upchain_free(u);
		errno = -ret;
		return NULL;
	}
	return u;
}

void upchain_free(struct upchain *u)
{
	if (!u)
		return;
	rules_free(u->bypass);
	OPENSSL_cleanse(u, sizeof(*u));
	free(u);
}

const char *upchain_name(const struct upchain *u)
{
	return u->name;
}

bool upchain_tls(const struct upchain *u)
{
	return u->url.tls;
}

bool upchain_has_auth(const struct upchain *u)
{
	return u->url.auth;
}

bool upchain_connect_always(const struct upchain *u)
{
	return u->connect_always;
}

bool upchain_bypassed(const struct upchain *u, const char *host)
{
	struct rules_decision d;
	char b[UPCHAIN_HOST_MAX + 2];

	if (!u->bypass || !host[0])
		return false;
	/* The rules read a bare "::1" as a host and a port: an IPv6 address goes in brackets. */
	if (host[0] != '[' && strchr(host, ':')) {
		snprintf(b, sizeof(b), "[%s]", host);
		host = b;
	}
	rules_match_host(u->bypass, host, strlen(host), 0, RULES_DOMAIN, &d);
	return d.allow;
}

/* --- a connection's way through the proxy ---------------------------------------------------- */

void upchain_route(struct conn *c)
{
	const struct upchain *u = conn_cfg(c)->upchain;

	c->via = CONN_VIA_DIRECT;
	if (!u || !c->uhost[0] || upchain_bypassed(u, c->uhost))
		return;
	/*
	 * Plain HTTP goes as requests the proxy reads (absolute-form), as a browser sends them;
	 * what the proxy cannot read (TLS, a stream rule's bytes) goes through a tunnel.
	 */
	if (c->up_tls || c->stream != CONN_STREAM_NONE || u->connect_always)
		c->via = CONN_VIA_CONNECT;
	else
		c->via = CONN_VIA_ABSOLUTE;
	/*
	 * The proxy resolves the name and picks the address, so boundary cannot check it against
	 * the rules (ip=, and no internal address for a wildcard rule): that is the proxy's to
	 * refuse (docs/RULES.md says so). Kept, the check would only look at the proxy's own
	 * address, often an internal one, and refuse everything a wildcard rule allows.
	 */
	c->addr_check = ADDR_CHECK_NONE;
}

void upchain_dial(const struct conn *c, const char **host, uint16_t *port)
{
	const struct upchain *u = conn_cfg(c)->upchain;

	if (c->via == CONN_VIA_DIRECT || !u)
		return;
	*host = u->url.host;
	*port = u->url.port;
}

const char *upchain_explain(const struct conn *c, const char *why, char *buf, size_t len)
{
	const struct upchain *u = conn_cfg(c)->upchain;

	/* upchain.c's own messages (and upstream.c's about the proxy) name it already. */
	if (c->via == CONN_VIA_DIRECT || !u || strstr(why, "upstream proxy"))
		return why;
	snprintf(buf, len, "%s (through the upstream proxy %s)", why, u->name);
	return buf;
}

/* The proxy failed c before the tunnel opened: a 502 (or 504) naming it, never its creds. */
static void failed(struct conn *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void failed(struct conn *c, int code, const char *fmt, ...)
{
	char why[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	upstream_failed(c, code, why);
}

bool upchain_connected(struct conn *c)
{
	const struct upchain *u = conn_cfg(c)->upchain;

	c->via_sent = 0;
	if (u->url.tls) {
		/*
		 * The proxy's own certificate, checked as an origin's: the system's CAs and
		 * --upstream-ca, its name (or address) as the URL gives it.
		 */
		SSL_CTX *ctx = tls_ctxs_client(conn_cfg(c)->tls);

		c->ux.ssl = ctx ? SSL_new(ctx) : NULL;
		if (!c->ux.ssl || !xport_ssl_set_fd(c->ux.ssl, c->ux.fd) ||
		    tls_client_prepare(c->ux.ssl, u->url.host) < 0) {
			failed(c, 502, "cannot set up TLS to the upstream proxy %s", u->name);
			return false;
		}
		SSL_set_connect_state(c->ux.ssl);
	} else if (c->via == CONN_VIA_ABSOLUTE) {
		return upstream_connected(c); /* the request itself is what the proxy reads */
	}
	conn_set_state(c, CONN_UP_PROXY);
	c->deadline = c->connect_deadline;
	return true;
}

/* The CONNECT request for c's destination into b (len bytes); its length, or -1. */
static int connect_request(const struct conn *c, char *b, size_t len)
{
	const struct upchain *u = conn_cfg(c)->upchain;
	char target[sizeof(c->uhost) + 8];
	int n;

	authority(c->uhost, c->uport, target, sizeof(target));
	n = snprintf(b, len, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n%s%s%s\r\n", target, target,
		     u->auth[0] ? "Proxy-Authorization: " : "", u->auth, u->auth[0] ? "\r\n" : "");
	return n > 0 && (size_t)n < len ? n : -1;
}

/* The proxy answered CONNECT with resp (not 2xx): a 502 naming it and its status line. */
static void refused(struct conn *c, const struct http1_resp *resp)
{
	const struct upchain *u = conn_cfg(c)->upchain;
	const char *hint = "";

	if (resp->status == 407)
		hint = u->url.auth ? " (it refused the credentials in --upstream-proxy)"
				   : " (it wants credentials: --upstream-proxy "
				     "http://USER:PASS@HOST:PORT)";
	failed(c, 502, "the upstream proxy %s refused %s %s port %u: HTTP/1.%d %d %.*s%s", u->name,
	       c->via == CONN_VIA_CONNECT ? "CONNECT to" : "the request to", c->uhost, c->uport,
	       resp->minor, resp->status, (int)(resp->reason.len > 200 ? 200 : resp->reason.len),
	       resp->reason.p, hint);
}

bool upchain_step(struct conn *c)
{
	const struct upchain *u = conn_cfg(c)->upchain;
	struct http1_resp resp;
	char req[sizeof(c->uhost) * 2 + sizeof(u->auth) + 128], why[256];
	size_t pos = 0;
	ssize_t r;
	int n;

	if (c->ux.ssl && !SSL_is_init_finished(c->ux.ssl)) {
		r = xport_handshake(&c->ux);
		if (r == -EAGAIN)
			return false;
		if (r < 0) {
			tls_error_string(c->ux.ssl, (int)r, why, sizeof(why));
			failed(c, 502, "TLS with the upstream proxy %s failed: %s", u->name, why);
			return false;
		}
		if (c->via == CONN_VIA_ABSOLUTE)
			return upstream_connected(c);
	}
	n = connect_request(c, req, sizeof(req));
	/*
	 * The parsers let no space or control byte into a host, but the request line is built
	 * from it: a name that could end it is refused here too, never sent.
	 */
	if (n < 0 || strcspn(c->uhost, " \t\r\n\x7f") != strlen(c->uhost)) {
		failed(c, 502, "cannot ask the upstream proxy %s for that host", u->name);
		return false;
	}
	/* Made again on each call, byte for byte the same, so only the count sent is kept. */
	while (c->via_sent < (size_t)n) {
		r = xport_write(&c->ux, req + c->via_sent, (size_t)n - c->via_sent);
		OPENSSL_cleanse(req, sizeof(req));
		if (r == -EAGAIN)
			return false;
		if (r < 0) {
			failed(c, 502, "the upstream proxy %s closed the connection: %s", u->name,
			       strerror((int)-r));
			return false;
		}
		c->via_sent += (size_t)r;
		if (c->via_sent < (size_t)n)
			n = connect_request(c, req, sizeof(req));
	}
	OPENSSL_cleanse(req, sizeof(req));
	r = conn_fill(&c->ux, &c->uin);
	if (r == -EAGAIN)
		return false;
	if (r <= 0) {
		failed(c, 502, "the upstream proxy %s closed the connection without answering %s",
		       u->name, r == 0 ? "CONNECT" : strerror((int)-r));
		return false;
	}
	r = http1_parse_response(buf_head(&c->uin), c->uin.len, CONN_MAX_HEAD,
				 slice_of("CONNECT", 7), &resp, c->w->rhdr, CONN_MAX_HEADERS, &pos);
	if (r == 0)
		return true; /* more of the head to come: read again */
	if (r < 0) {
		failed(c, 502,
		       "the upstream proxy %s answered CONNECT with something that is not "
		       "HTTP: %s",
		       u->name, http1_strerror((int)r));
		return false;
	}
	if (resp.status < 200 || resp.status > 299) {
		refused(c, &resp);
		return false;
	}
	buf_consume(&c->uin, (size_t)r);
	/* A TLS server speaks only after the client's hello: anything now is not the origin. */
	if (c->uin.len && c->up_tls) {
		failed(c, 502, "the upstream proxy %s sent bytes after its %d to CONNECT", u->name,
		       resp.status);
		return false;
	}
	log_debug("%s: the upstream proxy %s opened a tunnel to %s port %u", c->who, u->name,
		  c->uhost, c->uport);
	return upstream_connected(c);
}

int upchain_put_origin(const struct conn *c, struct buf *b)
{
	char a[sizeof(c->uhost) + 16];
	int n;

	if (c->via != CONN_VIA_ABSOLUTE)
		return 0;
	n = authority(c->uhost, c->uport, a, sizeof(a));
	if (n < 0 || (size_t)n >= sizeof(a))
		return -E2BIG;
	if (buf_append(b, "http://", 7) < 0)
		return -E2BIG;
	return buf_append(b, a, (size_t)n);
}

int upchain_put_auth(const struct conn *c, struct buf *b)
{
	const struct upchain *u = conn_cfg(c)->upchain;

	if (c->via != CONN_VIA_ABSOLUTE || !u->auth[0])
		return 0;
	if (buf_append(b, "Proxy-Authorization: ", 21) < 0 ||
	    buf_append(b, u->auth, strlen(u->auth)) < 0 || buf_append(b, "\r\n", 2) < 0)
		return -E2BIG;
	return 0;
}

bool upchain_refused_response(struct conn *c)
{
	/* A 407 is the proxy's own, about boundary's credentials: nothing the client can act on. */
	if (c->via != CONN_VIA_ABSOLUTE || c->resp.status != 407)
		return false;
	refused(c, &c->resp);
	return true;
}

int upchain_tls_stack(struct conn *c, SSL *ssl)
{
	BIO *b;

	if (!c->ux.ssl)
		return xport_ssl_set_fd(ssl, c->ux.fd) ? 0 : -ENOMEM;
	/*
	 * Through an https:// proxy, the origin's TLS runs inside the proxy's: its records go
	 * through an SSL BIO over the proxy's connection, which the BIO owns from now on, so
	 * SSL_free() of the origin's (xport_close()) frees both. Would-block passes through as
	 * the BIO's retry flags, so the origin's SSL says WANT_READ or WANT_WRITE as on a socket.
	 */
	if (xport_ssl_direct(c->ux.ssl, c->ux.fd) < 0)
		return -ENOMEM;
	b = BIO_new(BIO_f_ssl());
	if (!b)
		return -ENOMEM;
	BIO_set_ssl(b, c->ux.ssl, BIO_CLOSE);
	SSL_set_bio(ssl, b, b);
	c->ux.ssl = NULL;
	return 0;
}
