/* SPDX-License-Identifier: MIT */
/*
 * upchain.h: the operator's upstream proxy (--upstream-proxy): every allowed connection
 * boundary makes goes through it, as CONNECT host:port for TLS and streams (and for plain HTTP
 * with --upstream-proxy-connect-always), as absolute-form requests for plain HTTP otherwise,
 * except to hosts the bypass patterns name. This header is the pure half: the URL's parser and
 * the configuration the proxy borrows (struct upchain). What a connection does with it, the
 * CONNECT handshake in the worker's loop, is upchain.c's too, declared in conn.h.
 *
 * The credentials in the URL never leave this module as text: they are turned into the
 * Proxy-Authorization value once, at start, the decoded copies wiped, and nothing here or in
 * upchain.c ever formats the URL back. upchain_name() gives host:port, for log lines and errors.
 */
#ifndef BOUNDARY_PROXY_UPCHAIN_H
#define BOUNDARY_PROXY_UPCHAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UPCHAIN_HOST_MAX 256 /* bytes of the proxy's host, NUL included */
#define UPCHAIN_CRED_MAX 256 /* bytes of a decoded user name or password, NUL included */

/* An upstream proxy's URL, parsed: a plain record. */
struct upchain_url {
	bool tls;		     /* https://: TLS to the proxy itself */
	char host[UPCHAIN_HOST_MAX]; /* a name or an address; an IPv6 address without brackets */
	uint16_t port;
	bool auth;		     /* user:pass@ was given (either may be empty) */
	char user[UPCHAIN_CRED_MAX]; /* percent-decoded */
	char pass[UPCHAIN_CRED_MAX]; /* percent-decoded */
};

/*
 * Parses url: "http://" or "https://" (any case), then [USER[:PASS]@]HOST:PORT, then nothing
 * or "/". HOST is a name (letters, digits, '-', '.', '_') or an address, IPv6 in brackets;
 * PORT is required (1-65535), as proxies have no one default port. USER and PASS are
 * percent-decoded; neither may decode to a control character, nor USER to ':' (Basic
 * authentication could not carry it). Returns 0 with out filled, or -EINVAL with err filled
 * with a sentence for a person that never quotes the user name or the password.
 */
int upchain_parse_url(const char *url, struct upchain_url *out, char *err, size_t errlen);

struct upchain;

/*
 * The configuration the proxy borrows: url as upchain_parse_url() reads it; bypass, NULL or
 * "" for none, comma-separated host patterns as rules' domain= takes them (example.com,
 * *.corp.internal), whose hosts are reached directly; connect_always: plain HTTP goes through
 * CONNECT too. Returns NULL with err filled ("--upstream-proxy: ..." or
 * "--upstream-proxy-bypass: ...") and errno set.
 */
struct upchain *upchain_new(const char *url, const char *bypass, bool connect_always, char *err,
			    size_t errlen);

/* Frees u, its credentials wiped first. Accepts NULL. */
void upchain_free(struct upchain *u);

/* "HOST:PORT" ("[ADDR]:PORT" for IPv6), for log lines and errors: never the credentials. */
const char *upchain_name(const struct upchain *u);

/* Whether u talks TLS to the proxy, sends credentials, and chains plain HTTP by CONNECT. */
bool upchain_tls(const struct upchain *u);
bool upchain_has_auth(const struct upchain *u);
bool upchain_connect_always(const struct upchain *u);

/* Whether host (a name or an address, IPv6 with or without brackets) is reached directly. */
bool upchain_bypassed(const struct upchain *u, const char *host);

#endif /* BOUNDARY_PROXY_UPCHAIN_H */
