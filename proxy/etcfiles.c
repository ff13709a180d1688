// SPDX-License-Identifier: MIT
/*
 * etcfiles.c: the hosts and resolv.conf readers of etcfiles.h. Each works line by line over the
 * caller's bytes, splitting a line into blank-separated words in a bounded local copy: a word
 * longer than any name or address can be makes its line unusable, never an overrun.
 */
#include "proxy/etcfiles.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_WORDS 64
#define MAX_WORD  (ETC_MAX_NAMELEN + 1)

/* One line's words, at most MAX_WORDS; a word too long is kept cut and marked. */
struct words {
	char w[MAX_WORDS][MAX_WORD + 1];
	bool cut[MAX_WORDS];
	size_t n;
};

static bool blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* Splits text[0..len) (one line, no '\n') into words, stopping at '#' (and ';' if semi). */
static void split(const char *text, size_t len, bool semi, struct words *ws)
{
	size_t i = 0, k;

	ws->n = 0;
	while (i < len) {
		while (i < len && blank(text[i]))
			i++;
		if (i == len || text[i] == '#' || (semi && text[i] == ';') || text[i] == '\0')
			return;
		if (ws->n == MAX_WORDS)
			return;
		k = 0;
		ws->cut[ws->n] = false;
		while (i < len && !blank(text[i]) && text[i] != '#' && text[i] != '\0') {
			if (k < MAX_WORD)
				ws->w[ws->n][k++] = text[i];
			else
				ws->cut[ws->n] = true;
			i++;
		}
		ws->w[ws->n][k] = '\0';
		ws->n++;
	}
}

/* An IPv4 or IPv6 literal as inet_pton reads it (so no scope id, no prefix). */
static bool parse_addr(const char *s, struct etc_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, a->addr) == 1) {
		a->family = AF_INET;
		return true;
	}
	if (inet_pton(AF_INET6, s, a->addr) == 1) {
		a->family = AF_INET6;
		return true;
	}
	return false;
}

/* The next line of text[*pos..len): its start and length; false at the end. */
static bool next_line(const char *text, size_t len, size_t *pos, const char **line, size_t *n)
{
	const char *nl;

	if (*pos >= len)
		return false;
	*line = text + *pos;
	nl = memchr(*line, '\n', len - *pos);
	*n = nl ? (size_t)(nl - *line) : len - *pos;
	*pos += *n + 1;
	return true;
}

size_t etc_hosts_find(const char *text, size_t len, const char *name, struct etc_addr *out,
		      size_t max)
{
	struct words *ws;
	struct etc_addr a;
	const char *line;
	char want[MAX_WORD + 1];
	size_t pos = 0, n, i, k = 0, wl;

	wl = strlen(name);
	if (wl && name[wl - 1] == '.')
		wl--;
	if (wl == 0 || wl > ETC_MAX_NAMELEN || max == 0)
		return 0;
	memcpy(want, name, wl);
	want[wl] = '\0';
	if (len > ETC_MAX_FILE)
		len = ETC_MAX_FILE;
	ws = malloc(sizeof(*ws));
	if (!ws)
		return 0;
	while (k < max && next_line(text, len, &pos, &line, &n)) {
		split(line, n, false, ws);
		if (ws->n < 2 || ws->cut[0] || !parse_addr(ws->w[0], &a))
			continue;
		for (i = 1; i < ws->n; i++) {
			if (!ws->cut[i] && strcasecmp(ws->w[i], want) == 0) {
				out[k++] = a;
				break;
			}
		}
	}
	free(ws);
	return k;
}

/* "NAME:N" with N in [lo, hi] (clamped, as glibc clamps); false if s is not NAME:digits. */
static bool option_num(const char *s, const char *opt, unsigned lo, unsigned hi, unsigned *v)
{
	size_t ol = strlen(opt);
	unsigned long n = 0;
	const char *p;

	if (strncmp(s, opt, ol) != 0 || s[ol] != ':' || !s[ol + 1])
		return false;
	for (p = s + ol + 1; *p; p++) {
		if (*p < '0' || *p > '9')
			return false;
		if (n < 1000)
			n = n * 10 + (unsigned long)(*p - '0');
	}
	*v = n < lo ? lo : n > hi ? hi : (unsigned)n;
	return true;
}

void etc_resolv_parse(const char *text, size_t len, struct etc_resolv *out)
{
	struct words *ws;
	const char *line;
	size_t pos = 0, n, i;

	memset(out, 0, sizeof(*out));
	out->ndots = 1;
	out->timeout = 5;
	out->attempts = 2;
	if (len > ETC_MAX_FILE)
		len = ETC_MAX_FILE;
	ws = malloc(sizeof(*ws));
	if (!ws)
		return;
	while (next_line(text, len, &pos, &line, &n)) {
		split(line, n, true, ws);
		if (ws->n < 2)
			continue;
		if (strcmp(ws->w[0], "nameserver") == 0) {
			if (out->n_ns < ETC_MAX_NS && !ws->cut[1] &&
			    parse_addr(ws->w[1], &out->ns[out->n_ns]))
				out->n_ns++;
		} else if (strcmp(ws->w[0], "search") == 0 || strcmp(ws->w[0], "domain") == 0) {
			out->n_search = 0;
			for (i = 1; i < ws->n && out->n_search < ETC_MAX_SEARCH; i++) {
				if (ws->cut[i] || strlen(ws->w[i]) > ETC_MAX_NAMELEN)
					continue;
				snprintf(out->search[out->n_search], sizeof(out->search[0]), "%s",
					 ws->w[i]);
				out->n_search++;
				if (ws->w[0][0] == 'd')
					break; /* domain names one */
			}
		} else if (strcmp(ws->w[0], "options") == 0) {
			for (i = 1; i < ws->n; i++) {
				if (ws->cut[i])
					continue;
				if (option_num(ws->w[i], "ndots", 0, 15, &out->ndots) ||
				    option_num(ws->w[i], "timeout", 1, 30, &out->timeout) ||
				    option_num(ws->w[i], "attempts", 1, 5, &out->attempts))
					continue;
				if (strcmp(ws->w[i], "rotate") == 0)
					out->rotate = true;
			}
		}
	}
	free(ws);
}
