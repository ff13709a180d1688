// SPDX-License-Identifier: MIT
/*
 * secretenc_fuzz.c: libFuzzer target for secret_find_encoded() (proxy/secretenc.c), which reads
 * what a jailed program sends: request heads, DNS names, TLS server names.
 *
 * Input: the first byte picks an encoding (literal, percent, hex in either case, base32 padded
 * or not, base64 standard or URL-safe) and a secret, the second where to put it; the rest is
 * the text. Invariants checked, beyond "no crash, no leak, no UB" with input and scratch each
 * in a block of exactly their size: the answer is -1 or a secret's index; whatever secret_find()
 * finds literally is found; the text with the chosen secret's placeholder, encoded as picked,
 * put between two spaces at the chosen place, is always found, whatever the text around it.
 * Then secret_scan_out() over both texts cut into pieces where the input's bytes say: it finds
 * a placeholder exactly when secret_find() finds one in the whole; what it lets out is a prefix
 * of the text that holds no placeholder, and all of it when there is none.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/secret.h"
#include "proxy/secretenc.h"
#include "tests/lib/encode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define TEXT_MAX 8192

static void check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "invariant broken: %s\n", what);
		abort();
	}
}

static struct secret sec[2];

static void init_secrets(void)
{
	static const char *const names[] = {"API_TOKEN", "K"};
	static const char *const ph[] = {
	    "boundary-secret-API_TOKEN-0123456789abcdef0123456789abcdef",
	    "boundary-secret-K-fedcba9876543210fedcba9876543210",
	};
	size_t i;

	for (i = 0; i < 2; i++) {
		snprintf(sec[i].name, sizeof(sec[i].name), "%s", names[i]);
		snprintf(sec[i].placeholder, sizeof(sec[i].placeholder), "%s", ph[i]);
		sec[i].placeholder_len = strlen(ph[i]);
	}
}

/* The placeholder p[0..n) encoded as e picks. */
static size_t encode(unsigned e, const char *p, size_t n, char *out)
{
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	static const char b64url[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t i;

	switch (e) {
	case 0:
		memcpy(out, p, n);
		return n;
	case 1: /* every byte escaped */
		for (i = 0; i < n; i++)
			snprintf(out + 3 * i, 4, "%%%02X", (unsigned char)p[i]);
		return 3 * n;
	case 2:
		return enc_bits(p, n, out, "0123456789abcdef", 4, 2, false);
	case 3:
		return enc_bits(p, n, out, "0123456789ABCDEF", 4, 2, false);
	case 4:
		return enc_bits(p, n, out, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 5, 8, true);
	case 5:
		return enc_bits(p, n, out, "abcdefghijklmnopqrstuvwxyz234567", 5, 8, false);
	case 6:
		return enc_bits(p, n, out, b64, 6, 4, true);
	default:
		return enc_bits(p, n, out, b64url, 6, 4, false);
	}
}

/* secret_find_encoded() over p[0..len) copied into a block of its size, scratch the same. */
static ssize_t find(const char *p, size_t len)
{
	char *in = malloc(len ? len : 1), *scratch = malloc(len ? len : 1);
	ssize_t r;

	check(in && scratch, "memory");
	memcpy(in, p, len);
	r = secret_find_encoded(sec, 2, in, len, scratch);
	free(in);
	free(scratch);
	check(r >= -1 && r < 2, "the answer is -1 or an index");
	return r;
}

/* p[0..len) through secret_scan_out() in pieces whose lengths the bytes of cuts give. */
static void stream(const char *p, size_t len, const uint8_t *cuts, size_t n_cuts)
{
	static char out[TEXT_MAX + 512];
	size_t at = 0, sent = 0, piece, clear, c = 0;
	ssize_t whole = secret_find(sec, 2, p, len), hit = -1;

	while (hit < 0) {
		piece = n_cuts ? 1 + cuts[c++ % n_cuts] % 97 : len;
		if (piece > len - at)
			piece = len - at;
		at += piece;
		/* the bytes from sent to at: those held back, then the new piece */
		hit = secret_scan_out(sec, 2, p + sent, at - sent, at == len, &clear);
		if (hit >= 0)
			break;
		check(clear <= at - sent && at - sent - clear < SECRET_PH_MAX, "held back a tail");
		memcpy(out + sent, p + sent, clear);
		sent += clear;
		if (at == len)
			break;
	}
	check((hit >= 0) == (whole >= 0), "found in pieces exactly when found whole");
	check(secret_find(sec, 2, out, sent) < 0, "no placeholder let out");
	if (hit < 0)
		check(sent == len, "all let out when there is none");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char buf[TEXT_MAX + 512];
	const char *text = (const char *)data + 2;
	size_t len, at, n;
	unsigned e, which;
	ssize_t r;

	if (!sec[0].placeholder_len)
		init_secrets();
	if (size < 2 || size - 2 > TEXT_MAX)
		return 0;
	len = size - 2;
	e = data[0] & 7;
	which = data[0] >> 7;
	at = data[1] % (len + 1);
	r = find(text, len);
	if (secret_find(sec, 2, text, len) >= 0)
		check(r >= 0, "a literal placeholder is found");
	memcpy(buf, text, at);
	buf[at] = ' ';
	n = encode(e, sec[which].placeholder, sec[which].placeholder_len, buf + at + 1);
	buf[at + 1 + n] = ' ';
	memcpy(buf + at + 2 + n, text + at, len - at);
	check(find(buf, len + 2 + n) >= 0, "an encoded placeholder between spaces is found");
	stream(text, len, data, size < 16 ? size : 16);
	stream(buf, len + 2 + n, data + 1, size - 1 < 16 ? size - 1 : 16);
	return 0;
}
