// SPDX-License-Identifier: MIT
/*
 * upchain_fuzz.c: libFuzzer target for the upstream proxy's URL parser (proxy/upchain.c), whose
 * input is the operator's, but whose credentials must never come out anywhere but the
 * Proxy-Authorization value.
 *
 * Input: a URL (up to the first NUL; at most 2 KiB). Invariants checked, beyond "no crash, no
 * leak, no UB": an accepted URL has a host of name characters or an IPv6 address, a port from 1
 * to 65535, and credentials with no control character (a user with no ':'); written again in a
 * canonical form (scheme lower-case, every credential byte percent-encoded, IPv6 in brackets)
 * it parses to the same record; a refused one leaves the record all zero (nothing of its
 * credentials stays) and an error of one printable line that does not depend on the input's
 * password (the same words for a password of like bytes); upchain_new() agrees with the parser,
 * and names the proxy HOST:PORT.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "proxy/upchain.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "invariant broken: %s\n", what);
		abort();
	}
}

static bool all_zero(const void *p, size_t n)
{
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

/* Appends every byte of s as %XX. */
static size_t encode(char *out, size_t at, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s; s++) {
		out[at++] = '%';
		out[at++] = hex[(unsigned char)*s >> 4];
		out[at++] = hex[(unsigned char)*s & 15];
	}
	return at;
}

/*
 * Where the password lies in url as the parser reads it (after "http://" or "https://", between
 * the first ':' and the last '@' of the authority): *off and *len, or false if there is none.
 */
static bool password_span(const char *url, size_t *off, size_t *len)
{
	const char *p, *end, *at = NULL, *colon;

	if (strncasecmp(url, "http://", 7) == 0)
		p = url + 7;
	else if (strncasecmp(url, "https://", 8) == 0)
		p = url + 8;
	else
		return false;
	end = p + strcspn(p, "/?#");
	for (const char *q = p; q < end; q++)
		if (*q == '@')
			at = q;
	if (!at)
		return false;
	colon = memchr(p, ':', (size_t)(at - p));
	if (!colon)
		return false;
	*off = (size_t)(colon + 1 - url);
	*len = (size_t)(at - colon - 1);
	return true;
}

/*
 * Another byte the parser treats exactly as it treats ch: a hex digit for a hex digit, another
 * letter for a letter that is not one, '!' or '~' for any other byte it copies; the bytes it
 * refuses or acts on ('%', the delimiters, control bytes) stay, and so do the two after a '%',
 * whose value decides whether the byte they encode is refused.
 */
static char same_class(char ch)
{
	static const char *const rings[] = {"0123456789", "abcdef", "ABCDEF",
					    "ghijklmnopqrstuvwxyz", "GHIJKLMNOPQRSTUVWXYZ"};
	unsigned char u = (unsigned char)ch;
	const char *at;
	size_t i;

	for (i = 0; i < sizeof(rings) / sizeof(rings[0]); i++) {
		at = strchr(rings[i], ch);
		if (ch && at)
			return at[1] ? at[1] : rings[i][0];
	}
	if (u < 0x20 || u == 0x7f || strchr("%/?#[]@ :", ch))
		return ch;
	return ch == '!' ? '~' : '!';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char url[2048], canon[2 * 3 * UPCHAIN_CRED_MAX + UPCHAIN_HOST_MAX + 32], err[512];
	char other[2048], err2[512], name[UPCHAIN_HOST_MAX + 16];
	struct upchain_url u, again;
	struct upchain *up;
	unsigned char a6[16];
	size_t n = size < sizeof(url) - 1 ? size : sizeof(url) - 1, i, at, off, plen;
	int r;

	memcpy(url, data, n);
	url[n] = '\0';
	err[0] = '\0';
	r = upchain_parse_url(url, &u, err, sizeof(err));
	up = upchain_new(url, NULL, false, name, sizeof(name));
	check((r == 0) == (up != NULL), "upchain_new agrees with the parser");
	if (r < 0) {
		check(r == -EINVAL, "-EINVAL");
		check(all_zero(&u, sizeof(u)), "a refused URL leaves nothing in the record");
		check(err[0] != '\0', "an error says why");
		for (i = 0; err[i]; i++)
			check(err[i] >= 0x20 && err[i] < 0x7f, "the error is one printable line");
		/*
		 * The error never quotes the password, nor depends on it beyond the one byte it
		 * refuses: written with every byte swapped for another the parser treats alike, the
		 * URL is refused with the very same words.
		 */
		if (password_span(url, &off, &plen)) {
			memcpy(other, url, n + 1);
			for (i = 0; i < plen; i++)
				if (url[off + i] == '%')
					i += 2;
				else
					other[off + i] = same_class(url[off + i]);
			check(upchain_parse_url(other, &again, err2, sizeof(err2)) == -EINVAL,
			      "a password swapped for a like one is refused alike");
			check(strcmp(err, err2) == 0, "the error never depends on the password");
		}
		return 0;
	}
	check(u.host[0] != '\0', "a host");
	check(u.port >= 1, "a port");
	if (strchr(u.host, ':'))
		check(inet_pton(AF_INET6, u.host, a6) == 1, "an IPv6 host is an address");
	else
		check(strspn(u.host,
			     "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._") ==
			  strlen(u.host),
		      "a host of name characters");
	for (i = 0; u.user[i]; i++)
		check((unsigned char)u.user[i] >= 0x20 && u.user[i] != 0x7f && u.user[i] != ':',
		      "a user with no control character and no ':'");
	for (i = 0; u.pass[i]; i++)
		check((unsigned char)u.pass[i] >= 0x20 && u.pass[i] != 0x7f,
		      "a password with no control character");
	check(u.auth || (!u.user[0] && !u.pass[0]), "credentials only with an '@'");

	at = (size_t)snprintf(canon, sizeof(canon), "%s://", u.tls ? "https" : "http");
	if (u.auth) {
		at = encode(canon, at, u.user);
		canon[at++] = ':';
		at = encode(canon, at, u.pass);
		canon[at++] = '@';
	}
	if (strchr(u.host, ':'))
		snprintf(canon + at, sizeof(canon) - at, "[%s]:%u", u.host, u.port);
	else
		snprintf(canon + at, sizeof(canon) - at, "%s:%u", u.host, u.port);
	check(upchain_parse_url(canon, &again, err, sizeof(err)) == 0, "the canonical form parses");
	/* An empty password written as "user:" reads back the same as "user" alone. */
	check(memcmp(&u, &again, sizeof(u)) == 0, "and to the same record");
	if (strchr(u.host, ':'))
		snprintf(name, sizeof(name), "[%s]:%u", u.host, u.port);
	else
		snprintf(name, sizeof(name), "%s:%u", u.host, u.port);
	check(strcmp(upchain_name(up), name) == 0, "the proxy named HOST:PORT");
	upchain_free(up);
	return 0;
}
