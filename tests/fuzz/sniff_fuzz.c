// SPDX-License-Identifier: MIT
/*
 * sniff_fuzz.c: libFuzzer target for protocol sniffing and the TLS ClientHello reader.
 *
 * Invariants checked, beyond "no crash, no leak, no UB": sniff_kind() never takes back an
 * answer as bytes arrive and decides by 26 bytes; a ClientHello that parses is classified TLS,
 * needs more on every shorter prefix, ignores the records after it, and parses to the same
 * result when its handshake message is cut into records of another size; the server name is
 * NUL-terminated, lower-case and made of DNS name bytes, and empty when flagged invalid.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/sniff.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "invariant broken: %s\n", what);
		abort();
	}
}

static void check_sni(const struct sniff_hello *h)
{
	size_t n = strnlen(h->sni, sizeof(h->sni)), i;

	check(n < sizeof(h->sni), "sni is NUL-terminated");
	check(!h->sni_invalid || n == 0, "an invalid sni is empty");
	for (i = 0; i < n; i++)
		check((h->sni[i] >= 'a' && h->sni[i] <= 'z') ||
			  (h->sni[i] >= '0' && h->sni[i] <= '9') || h->sni[i] == '-' ||
			  h->sni[i] == '_' || h->sni[i] == '.',
		      "sni is a lower-case DNS name");
	check(n == 0 || (h->sni[0] != '.' && h->sni[n - 1] != '.'), "no leading or trailing dot");
}

static bool same_hello(const struct sniff_hello *a, const struct sniff_hello *b)
{
	return strcmp(a->sni, b->sni) == 0 && a->sni_invalid == b->sni_invalid &&
	       a->alpn_h2 == b->alpn_h2 && a->alpn_http11 == b->alpn_http11 &&
	       a->n_alpn == b->n_alpn && a->ech == b->ech && a->legacy_version == b->legacy_version;
}

/* Re-cuts the records of the n-byte ClientHello at buf into records of at most size bytes. */
static size_t rerecord(const uint8_t *buf, size_t n, size_t size, uint8_t *out)
{
	size_t off = 0, len = 0, rl, k, taken;

	while (off < n) {
		rl = (size_t)buf[off + 3] << 8 | buf[off + 4];
		for (taken = 0; taken < rl; taken += k) {
			k = rl - taken < size ? rl - taken : size;
			memcpy(out + len, buf + off, 3);
			out[len + 3] = (uint8_t)(k >> 8);
			out[len + 4] = (uint8_t)k;
			memcpy(out + len + 5, buf + off + 5 + taken, k);
			len += 5 + k;
		}
		off += 5 + rl;
	}
	return len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sniff_hello h, h2;
	enum sniff_kind k, kp;
	uint32_t hash = 2166136261u;
	size_t i, n, cut, len;
	uint8_t *copy;
	ssize_t r;

	for (i = 0; i < size; i++)
		hash = (hash ^ data[i]) * 16777619u;

	k = sniff_kind(data, size);
	check(k != SNIFF_NEED_MORE || size < 26, "decided by 26 bytes");
	cut = size ? hash % size : 0;
	kp = sniff_kind(data, cut);
	check(kp == SNIFF_NEED_MORE || kp == k, "an answer is never taken back");

	r = sniff_client_hello(data, size, &h);
	check(r <= (ssize_t)size, "result inside the input");
	if (r < 0) {
		check(-r >= SNIFF_E_RECORD && -r <= SNIFF_E_ALPN, "error code in range");
		check(strcmp(sniff_strerror((int)r), "unknown error") != 0, "error has a sentence");
		return 0;
	}
	if (r == 0)
		return 0;
	n = (size_t)r;
	check_sni(&h);
	check(h.n_alpn >= (unsigned)h.alpn_h2 + h.alpn_http11, "ALPN count");
	check(k == SNIFF_TLS, "a ClientHello is TLS");
	check(sniff_client_hello(data, hash % n, &h2) == 0, "a prefix needs more");
	check(sniff_client_hello(data, n, &h2) == r && same_hello(&h, &h2),
	      "the records after it do not matter");

	/* Each record can grow by 5 bytes of header per piece: at most 6x for 1-byte pieces. */
	copy = malloc(6 * n);
	if (!copy)
		return 0;
	len = rerecord(data, n, 1 + hash % 300, copy);
	r = sniff_client_hello(copy, len, &h2);
	check(r == (ssize_t)len, "re-cut records parse whole");
	check(same_hello(&h, &h2), "re-cut records parse the same");
	free(copy);
	return 0;
}
