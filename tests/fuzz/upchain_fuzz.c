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
 * credentials stays) and an error of one printable line that never holds the input's
 * password; upchain_new() agrees with the parser, and names the proxy HOST:PORT.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* The password as the input wrote it (between the first ':' and the last '@'), or "". */
static void raw_password(const char *url, char *out, size_t len)
{
	const char *p = strstr(url, "://"), *end, *at = NULL, *colon;
	size_t n;

	out[0] = '\0';
	if (!p)
		return;
	p += 3;
	end = p + strcspn(p, "/?#");
	for (const char *q = p; q < end; q++)
		if (*q == '@')
			at = q;
	if (!at)
		return;
	colon = memchr(p, ':', (size_t)(at - p));
	if (!colon)
		return;
	n = (size_t)(at - colon - 1);
	if (n >= len)
		n = len - 1;
	memcpy(out, colon + 1, n);
	out[n] = '\0';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char url[2048], canon[2 * 3 * UPCHAIN_CRED_MAX + UPCHAIN_HOST_MAX + 32], err[512];
	char pass[2048], name[UPCHAIN_HOST_MAX + 16];
	struct upchain_url u, again;
	struct upchain *up;
	unsigned char a6[16];
	size_t n = size < sizeof(url) - 1 ? size : sizeof(url) - 1, i, at;
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
		raw_password(url, pass, sizeof(pass));
		/* Short ones could be any word of the message: a password of 6 bytes or more. */
		check(strlen(pass) < 6 || !strstr(err, pass),
		      "the error never quotes the password");
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
