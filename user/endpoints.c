// SPDX-License-Identifier: MIT
/*
 * endpoints.c: harden-runner's allowed-endpoints entries as boundary stream rules
 * (endpoints.h). Owns the entry's grammar and its error messages; whether the rule it makes is
 * one is the rules engine's to say.
 */
#include "user/endpoints.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "rules/rules.h"

/* How much of an entry a message quotes. */
#define QUOTE_MAX 64

static bool space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/*
 * A character of a host name or an IPv4 address as boundary's domain= takes them (no '_': the
 * rules engine refuses it, and here the column can point at it).
 */
static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.';
}

/*
 * err = `line L, column C: "ENTRY": WHY`, where at is the offset in list of the byte at fault
 * and entry[0..len) the entry. Returns -EINVAL.
 */
static int bad(const char *list, size_t at, const char *entry, size_t len, const char *why,
	       char *err, size_t errlen)
{
	size_t i, line = 1, col = 1;
	char q[QUOTE_MAX * 4 + 8];
	size_t n = 0;

	for (i = 0; i < at; i++) {
		if (list[i] == '\n') {
			line++;
			col = 1;
		} else {
			col++;
		}
	}
	/* The entry as typed, a control or non-ASCII byte as \xNN, cut if long. */
	for (i = 0; i < len && i < QUOTE_MAX; i++) {
		unsigned char c = (unsigned char)entry[i];

		if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\')
			n += (size_t)snprintf(q + n, sizeof(q) - n, "\\x%02x", c);
		else
			q[n++] = (char)c;
	}
	q[n] = '\0';
	snprintf(err, errlen, "line %zu, column %zu: \"%s%s\": %s", line, col, q,
		 len > QUOTE_MAX ? "..." : "", why);
	return -EINVAL;
}

int endpoints_next(const char *list, size_t *pos, char *rule, size_t rulelen, char *err,
		   size_t errlen)
{
	const char *e, *colon = NULL, *p, *host, *host_end;
	size_t start = *pos, len, i;
	char why[512], rerr[256];
	unsigned long port = 0;
	int ret;

	while (list[start] && space(list[start]))
		start++;
	if (!list[start]) {
		*pos = start;
		return 0;
	}
	e = list + start;
	for (len = 0; e[len] && !space(e[len]); len++)
		;
	/* The port follows the last colon; an IPv6 address has its colons inside brackets. */
	for (i = 0; i < len; i++) {
		if (e[i] == ':')
			colon = e + i;
	}
	host = e;
	host_end = colon ? colon : e + len;
	if (e[0] == '[') {
		p = memchr(e, ']', len);
		if (!p)
			return bad(list, start, e, len, "an IPv6 address in [ has no ]", err,
				   errlen);
		if (p + 1 == e + len || p[1] != ':')
			return bad(list, start + (size_t)(p + 1 - e), e, len,
				   "no port after the address (write [ADDRESS]:PORT)", err, errlen);
		colon = p + 1;
		host_end = colon;
	} else {
		if (!colon)
			return bad(list, start + len, e, len,
				   "no port (write host:port, as api.github.com:443)", err, errlen);
		for (p = e; p < colon; p++) {
			if (*p == '*' && p == e && p + 1 < colon && p[1] == '.')
				continue;
			if (*p == '*')
				return bad(list, start + (size_t)(p - e), e, len,
					   "a wildcard is only a whole first label (*.example.com)",
					   err, errlen);
			if (*p == ':')
				return bad(list, start + (size_t)(p - e), e, len,
					   "more than one colon (an IPv6 address goes in brackets: "
					   "[::1]:443)",
					   err, errlen);
			if (!name_char(*p)) {
				if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
					snprintf(why, sizeof(why),
						 "byte \\x%02x cannot be in a host name",
						 (unsigned char)*p);
				else
					snprintf(why, sizeof(why), "'%c' cannot be in a host name",
						 *p);
				return bad(list, start + (size_t)(p - e), e, len, why, err, errlen);
			}
		}
	}
	if (host_end == host)
		return bad(list, start, e, len, "no host before the port", err, errlen);
	/* 1 to 65535, digits only: no sign, no space, no leading zero to misread. */
	p = colon + 1;
	if (p == e + len)
		return bad(list, start + (size_t)(p - e), e, len, "no port after the colon", err,
			   errlen);
	for (; p < e + len; p++) {
		if (*p < '0' || *p > '9' || (p == colon + 1 && *p == '0') || port > 65535)
			break;
		port = port * 10 + (unsigned long)(*p - '0');
	}
	if (p != e + len || port == 0 || port > 65535)
		return bad(list, start + (size_t)(colon + 1 - e), e, len,
			   "the port is not a number from 1 to 65535", err, errlen);
	ret = snprintf(rule, rulelen, "domain=%.*s port=%lu", (int)(host_end - host), host, port);
	if (ret < 0 || (size_t)ret >= rulelen)
		return bad(list, start, e, len, "the host name is too long", err, errlen);
	ret = rules_check(rule, rerr, sizeof(rerr));
	if (ret == -RULES_E_NOMEM)
		return -ENOMEM;
	if (ret < 0) {
		snprintf(why, sizeof(why), "not a host boundary can allow (%s)",
			 rerr[0] ? rerr : rules_strerror(ret));
		return bad(list, start, e, len, why, err, errlen);
	}
	*pos = start + len;
	return 1;
}
