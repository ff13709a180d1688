// SPDX-License-Identifier: MIT
/*
 * secretenc.c: secret_find_encoded() (secret.h), a placeholder looked for through one layer of
 * encoding, where an exfiltrator would hide it from a literal search: percent-encoding, hex,
 * base32 and base64. It owns only the decoders and the search; where the bytes come from (a
 * request head, a DNS name, a TLS server name) and what follows a hit are its callers'.
 *
 * Every search ignores ASCII case: DNS folds a name to lower case on the way (the parser does),
 * and a placeholder with its case changed is no less a placeholder. Hex, base32 and base64 are
 * tried on each maximal run of their alphabet that is long enough to hold the shortest
 * placeholder, from every start within one group of the encoding (2, 8 and 4 characters), so
 * the placeholder is found whatever precedes the encoded text in the run (a label before it, a
 * name joined without dots). Padding ends a run, so it may be there or not.
 *
 * Also secret_scan_out() (secretenc.h): the literal search over a stream that arrives in
 * pieces, holding back a tail that could begin a placeholder. Pure: no I/O, no allocation; one
 * decoded run at a time goes into the caller's scratch.
 */
#include <string.h>

#include "proxy/secret.h"
#include "proxy/secretenc.h"

enum enc { ENC_HEX, ENC_B32, ENC_B64 };

static const struct encoding {
	unsigned bits;	/* per character */
	unsigned group; /* characters that end on a byte boundary */
} encodings[] = {
    [ENC_HEX] = {4, 2},
    [ENC_B32] = {5, 8},
    [ENC_B64] = {6, 4},
};

/* The value of c in e's alphabet, or -1. Base64's two alphabets are read as one. */
static int value(enum enc e, unsigned char c)
{
	switch (e) {
	case ENC_HEX:
		if (c >= '0' && c <= '9')
			return c - '0';
		c |= 0x20;
		return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
	case ENC_B32:
		if (c >= '2' && c <= '7')
			return c - '2' + 26;
		c |= 0x20;
		return c >= 'a' && c <= 'z' ? c - 'a' : -1;
	case ENC_B64:
		if (c >= 'A' && c <= 'Z')
			return c - 'A';
		if (c >= 'a' && c <= 'z')
			return c - 'a' + 26;
		if (c >= '0' && c <= '9')
			return c - '0' + 52;
		if (c == '+' || c == '-')
			return 62;
		if (c == '/' || c == '_')
			return 63;
		return -1;
	}
	return -1;
}

static unsigned char fold(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

static bool eq_nocase(const char *a, const char *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (fold((unsigned char)a[i]) != fold((unsigned char)b[i]))
			return false;
	return true;
}

/* As secret_find(), ignoring ASCII case. */
static ssize_t find_nocase(const struct secret *s, size_t n, const char *p, size_t len)
{
	size_t i, k;

	for (i = 0; i + SECRET_PREFIX_LEN <= len; i++) {
		if (fold((unsigned char)p[i]) != 'b' ||
		    !eq_nocase(p + i, SECRET_PREFIX, SECRET_PREFIX_LEN))
			continue;
		for (k = 0; k < n; k++)
			if (s[k].placeholder_len <= len - i &&
			    eq_nocase(p + i, s[k].placeholder, s[k].placeholder_len))
				return (ssize_t)k;
	}
	return -1;
}

/* %XX decoded into out (at most len bytes); a '%' not followed by two hex digits is kept. */
static size_t percent_decode(const char *p, size_t len, char *out)
{
	size_t i, o = 0;
	int hi, lo;

	for (i = 0; i < len; i++) {
		if (p[i] == '%' && i + 2 < len &&
		    (hi = value(ENC_HEX, (unsigned char)p[i + 1])) >= 0 &&
		    (lo = value(ENC_HEX, (unsigned char)p[i + 2])) >= 0) {
			out[o++] = (char)(hi << 4 | lo);
			i += 2;
		} else {
			out[o++] = p[i];
		}
	}
	return o;
}

/* Decodes p[0..len), every character in e's alphabet, into out; bits short of a byte dropped. */
static size_t decode(enum enc e, const char *p, size_t len, char *out)
{
	unsigned bits = encodings[e].bits, have = 0;
	uint32_t acc = 0;
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		acc = (acc << bits | (uint32_t)value(e, (unsigned char)p[i])) & 0xffff;
		have += bits;
		if (have >= 8) {
			have -= 8;
			out[o++] = (char)(acc >> have);
		}
	}
	return o;
}

/* Characters of e that encode at least n bytes. */
static size_t encoded_len(enum enc e, size_t n)
{
	return (n * 8 + encodings[e].bits - 1) / encodings[e].bits;
}

/* Every run of e's alphabet in p[0..len) long enough, decoded from each start in a group. */
static ssize_t find_runs(const struct secret *s, size_t n, enum enc e, const char *p, size_t len,
			 size_t need, char *scratch)
{
	size_t i = 0, start, off, m;
	ssize_t hit;

	while (i < len) {
		while (i < len && value(e, (unsigned char)p[i]) < 0)
			i++;
		start = i;
		while (i < len && value(e, (unsigned char)p[i]) >= 0)
			i++;
		for (off = 0; off < encodings[e].group && i - start >= off + need; off++) {
			m = decode(e, p + start + off, i - start - off, scratch);
			hit = find_nocase(s, n, scratch, m);
			if (hit >= 0)
				return hit;
		}
	}
	return -1;
}

ssize_t secret_find_encoded(const struct secret *s, size_t n, const char *p, size_t len,
			    char *scratch)
{
	static const enum enc order[] = {ENC_HEX, ENC_B32, ENC_B64};
	size_t i, shortest = SIZE_MAX;
	ssize_t hit;

	if (n == 0)
		return -1;
	hit = find_nocase(s, n, p, len);
	if (hit >= 0)
		return hit;
	if (len && memchr(p, '%', len)) {
		hit = find_nocase(s, n, scratch, percent_decode(p, len, scratch));
		if (hit >= 0)
			return hit;
	}
	for (i = 0; i < n; i++)
		if (s[i].placeholder_len < shortest)
			shortest = s[i].placeholder_len;
	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		hit = find_runs(s, n, order[i], p, len, encoded_len(order[i], shortest), scratch);
		if (hit >= 0)
			return hit;
	}
	return -1;
}

/* The longest tail of p[0..len) that is the start (not the whole) of a placeholder. */
static size_t partial_tail(const struct secret *s, size_t n, const char *p, size_t len)
{
	size_t i = len > SECRET_PH_MAX - 1 ? len - (SECRET_PH_MAX - 1) : 0, k, tail;

	for (; i < len; i++) {
		if (p[i] != SECRET_PREFIX[0])
			continue;
		tail = len - i;
		for (k = 0; k < n; k++)
			if (tail < s[k].placeholder_len &&
			    memcmp(p + i, s[k].placeholder, tail) == 0)
				return tail;
	}
	return 0;
}

ssize_t secret_scan_out(const struct secret *s, size_t n, const char *p, size_t len, bool at_end,
			size_t *clear)
{
	ssize_t hit = secret_find(s, n, p, len);

	*clear = 0;
	if (hit >= 0)
		return hit;
	*clear = len - (at_end ? 0 : partial_tail(s, n, p, len));
	return -1;
}
