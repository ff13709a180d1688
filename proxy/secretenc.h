/* SPDX-License-Identifier: MIT */
/*
 * secretenc.h: placeholders looked for in bytes that arrive in pieces (a plain TCP stream on its
 * way to an upstream), so that the upstream never receives a whole one, whatever the cuts. The
 * search through encodings, secret_find_encoded(), is declared in secret.h with the others; both
 * live in secretenc.c. Pure: no I/O, no allocation.
 */
#ifndef BOUNDARY_PROXY_SECRETENC_H
#define BOUNDARY_PROXY_SECRETENC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct secret;

/*
 * One look at p[0..len), the bytes of a stream not yet let out (those held back last time
 * first, then what came since). Returns the index of the secret whose placeholder (literal, as
 * secret_find() sees it) is in p, or -1 with *clear set to how many bytes at the front may go
 * out: all but the longest tail that begins some placeholder (at most SECRET_PH_MAX - 1 bytes,
 * to be looked at again with what follows), or all of them when at_end (nothing follows). A
 * byte let out can never be part of a placeholder completed later, so only the held tail and
 * new bytes need looking at.
 */
ssize_t secret_scan_out(const struct secret *s, size_t n, const char *p, size_t len, bool at_end,
			size_t *clear);

#endif /* BOUNDARY_PROXY_SECRETENC_H */
