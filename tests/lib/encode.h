/* SPDX-License-Identifier: MIT */
/*
 * encode.h: the test side's own encoder for base32 and base64 (any alphabet, padded or not), so
 * that the tests of proxy/secretenc.c's decoders (unit test and fuzz target) make their inputs
 * with none of its code.
 */
#ifndef BOUNDARY_TESTS_ENCODE_H
#define BOUNDARY_TESTS_ENCODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* p[0..n) in 'bits' bits a character from alphabet, padded with '=' to group when pad. */
static inline size_t enc_bits(const char *p, size_t n, char *out, const char *alphabet,
			      unsigned bits, unsigned group, bool pad)
{
	uint32_t acc = 0;
	unsigned have = 0;
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		acc = acc << 8 | (unsigned char)p[i];
		have += 8;
		while (have >= bits) {
			have -= bits;
			out[o++] = alphabet[(acc >> have) & ((1u << bits) - 1)];
		}
	}
	if (have)
		out[o++] = alphabet[(acc << (bits - have)) & ((1u << bits) - 1)];
	while (pad && o % group)
		out[o++] = '=';
	return o;
}

#endif /* BOUNDARY_TESTS_ENCODE_H */
