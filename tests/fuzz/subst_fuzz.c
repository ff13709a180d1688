// SPDX-License-Identifier: MIT
/*
 * subst_fuzz.c: the secrets' replacement engine (proxy/secret.c, struct subst). The input picks
 * up to four from -> to pairs (some of them refusals), a text and the places it is cut; the
 * engine is fed the pieces and must emit exactly what a one-pass reference written here emits
 * for the whole text: the longest from at each position, left to right, stopping at a refusal.
 * The output must also fit the bound subst_out_bound() promised for each piece.
 *
 * The same text is also read as a chunked body, as the proxy reads one (proxy/http1.c's
 * http1_chunked_decode(), cut at the same places): its decoding must consume what the scanner
 * consumes, end where it ends, fail where it fails, and, fed to the engine piece by piece, give
 * what the reference gives for the whole decoded body.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/http1.h"
#include "proxy/secret.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define OUT_MAX (1 << 20)

struct out {
	char *p;
	size_t len, limit;
};

static void check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "subst: %s\n", what);
		abort();
	}
}

static int collect(void *arg, const char *p, size_t n)
{
	struct out *o = arg;

	check(n > 0, "an empty emit");
	check(o->len + n <= o->limit, "more output than subst_out_bound() allowed");
	memcpy(o->p + o->len, p, n);
	o->len += n;
	return 0;
}

/* The reference: one pass over the whole text. Returns the refused pair or -1. */
static ssize_t reference(const struct subst_pair *pair, size_t n, const char *t, size_t len,
			 struct out *o)
{
	size_t i = 0, k, best_len;
	ssize_t best;

	while (i < len) {
		best = -1;
		best_len = 0;
		for (k = 0; k < n; k++)
			if (pair[k].from_len <= len - i && pair[k].from_len > best_len &&
			    memcmp(t + i, pair[k].from, pair[k].from_len) == 0) {
				best = (ssize_t)k;
				best_len = pair[k].from_len;
			}
		if (best < 0) {
			o->p[o->len++] = t[i++];
			continue;
		}
		if (pair[best].refuse)
			return best;
		memcpy(o->p + o->len, pair[best].to, pair[best].to_len);
		o->len += pair[best].to_len;
		i += best_len;
	}
	return -1;
}

/* The text as a chunked body, decoded in the given pieces and fed to the engine. */
static void chunked(const struct subst_pair *pair, size_t n, const char *t, size_t len,
		    const size_t *cuts, size_t n_cuts)
{
	static char body[4096], piece[4096], want[OUT_MAX], got[OUT_MAX];
	struct http1_chunked dec, scan;
	struct out ow = {want, 0, OUT_MAX}, og = {got, 0, OUT_MAX};
	struct subst s;
	size_t at = 0, end, i, blen = 0, plen, pos;
	ssize_t rd, rs;
	bool failed = false;
	int ret = 0;

	http1_chunked_init(&dec);
	http1_chunked_init(&scan);
	subst_init(&s, pair, n);
	for (i = 0; i <= n_cuts && !dec.done; i++) {
		end = i < n_cuts ? at + cuts[i] : len;
		if (end > len)
			end = len;
		size_t piece_len = end - at;

		rd = http1_chunked_decode(&dec, t + at, piece_len, &pos, piece, &plen);
		rs = http1_chunked_scan(&scan, t + at, end - at, &pos);
		check(rd == rs, "decoding and scanning consume differently");
		check(dec.done == scan.done, "decoding and scanning end differently");
		if (rd < 0) {
			failed = true;
			break;
		}
		check(plen <= (size_t)rd, "more data than bytes");
		memcpy(body + blen, piece, plen);
		blen += plen;
		if (ret == 0)
			ret = subst_feed(&s, piece, plen, collect, &og);
		at += (size_t)rd;
		if ((size_t)rd < piece_len)
			break; /* the body ended inside this piece */
	}
	if (failed)
		return;
	if (ret == 0)
		ret = subst_finish(&s, collect, &og);
	if (reference(pair, n, body, blen, &ow) >= 0) {
		check(ret == -EPERM, "a refusal in a decoded body was not reported");
		return;
	}
	check(ret == 0, "a refusal the reference did not find in a decoded body");
	check(og.len == ow.len && memcmp(got, want, ow.len) == 0,
	      "a decoded body's output differs from one pass over it");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char want[OUT_MAX], got[OUT_MAX];
	struct subst_pair pair[4];
	struct out ow = {want, 0, OUT_MAX}, og = {got, 0, OUT_MAX};
	struct subst s;
	size_t n, k, pos = 0, cuts[8], n_cuts, at, end, i;
	ssize_t refused;
	int ret = 0;

	if (size < 2)
		return 0;
	n = data[pos++] % 5;
	for (k = 0; k < n; k++) {
		size_t fl, tl;

		if (pos + 2 > size)
			return 0;
		fl = data[pos] % 16 + 1;
		tl = data[pos + 1] % 20;
		pair[k].refuse = (data[pos] & 0x80) != 0;
		pos += 2;
		if (pos + fl + tl > size)
			return 0;
		pair[k].from = (const char *)data + pos;
		pair[k].from_len = fl;
		pos += fl;
		pair[k].to = (const char *)data + pos;
		pair[k].to_len = tl;
		pos += tl;
	}
	if (pos >= size)
		return 0;
	n_cuts = data[pos++] % 8;
	for (i = 0; i < n_cuts && pos < size; i++)
		cuts[i] = data[pos++];
	n_cuts = i;
	if (size - pos > 4096)
		return 0;

	refused = reference(pair, n, (const char *)data + pos, size - pos, &ow);

	subst_init(&s, pair, n);
	at = pos;
	for (i = 0; i <= n_cuts && ret == 0; i++) {
		end = i < n_cuts ? at + cuts[i] : size;
		if (end > size)
			end = size;
		og.limit = og.len + subst_out_bound(&s, end - at);
		ret = subst_feed(&s, (const char *)data + at, end - at, collect, &og);
		at = end;
	}
	if (ret == 0) {
		og.limit = og.len + subst_out_bound(&s, 0);
		ret = subst_finish(&s, collect, &og);
	}
	if (refused >= 0) {
		check(ret == -EPERM, "a refusal the reference found was not reported");
		check(s.refused >= 0 && pair[s.refused].from_len == pair[refused].from_len &&
			  memcmp(pair[s.refused].from, pair[refused].from,
				 pair[refused].from_len) == 0,
		      "a different pair was refused");
	} else {
		check(ret == 0, "a refusal the reference did not find");
	}
	check(og.len == ow.len && memcmp(got, want, ow.len) == 0,
	      "the output differs from one pass over the whole");
	chunked(pair, n, (const char *)data + pos, size - pos, cuts, n_cuts);
	return 0;
}
