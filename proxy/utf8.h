/* SPDX-License-Identifier: MIT */
/*
 * utf8.h: whether bytes are UTF-8, for the writers of records that must be (JSON in audit.c,
 * protobuf strings in agentlog.c). Validation only: no decoding, no allocation.
 */
#ifndef BOUNDARY_PROXY_UTF8_H
#define BOUNDARY_PROXY_UTF8_H

#include <stddef.h>

/*
 * The length (1-4) of the valid UTF-8 sequence at s, or 0 if s does not start one (a stray
 * continuation byte, an overlong form, a surrogate, past U+10FFFF, or cut short by the NUL).
 * s is NUL-terminated; it is not read past its terminator.
 */
static inline size_t utf8_seq_len(const unsigned char *s)
{
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf && (s[1] & 0xc0) == 0x80)
		return 2;
	if (s[0] >= 0xe0 && s[0] <= 0xef && (s[1] & 0xc0) == 0x80 && (s[2] & 0xc0) == 0x80) {
		if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] > 0x9f))
			return 0; /* overlong, or a surrogate */
		return 3;
	}
	if (s[0] >= 0xf0 && s[0] <= 0xf4 && (s[1] & 0xc0) == 0x80 && (s[2] & 0xc0) == 0x80 &&
	    (s[3] & 0xc0) == 0x80) {
		if ((s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] > 0x8f))
			return 0;
		return 4;
	}
	return 0;
}

#endif /* BOUNDARY_PROXY_UTF8_H */
