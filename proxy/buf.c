// SPDX-License-Identifier: MIT
/* buf.c: the bounded byte buffer (buf.h). */
#include "proxy/buf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void buf_init(struct buf *b, size_t cap)
{
	memset(b, 0, sizeof(*b));
	b->cap = cap;
}

void buf_fini(struct buf *b)
{
	if (b->wipe && b->data)
		explicit_bzero(b->data, b->alloc);
	free(b->data);
	b->data = NULL;
	b->off = b->len = b->alloc = 0;
}

size_t buf_room(const struct buf *b)
{
	return b->cap - b->len;
}

char *buf_reserve(struct buf *b, size_t *n)
{
	size_t want, nalloc;
	char *p;

	if (b->len >= b->cap) {
		*n = 0;
		return NULL;
	}
	/* Slide the unread bytes to the front when that makes room. */
	if (b->off > 0 && b->off + b->len == b->alloc) {
		memmove(b->data, b->data + b->off, b->len);
		b->off = 0;
	}
	if (b->off + b->len == b->alloc) {
		want = b->alloc ? b->alloc * 2 : 16384;
		nalloc = want > b->cap ? b->cap : want;
		if (nalloc <= b->alloc) {
			*n = 0;
			return NULL;
		}
		if (b->wipe) {
			/* No copy of what it held may stay behind in freed memory. */
			p = malloc(nalloc);
			if (p && b->data) {
				memcpy(p, b->data, b->alloc);
				explicit_bzero(b->data, b->alloc);
				free(b->data);
			}
		} else {
			p = realloc(b->data, nalloc);
		}
		if (!p) {
			*n = 0;
			return NULL;
		}
		b->data = p;
		b->alloc = nalloc;
	}
	*n = b->alloc - b->off - b->len;
	if (*n > b->cap - b->len)
		*n = b->cap - b->len;
	return b->data + b->off + b->len;
}

void buf_commit(struct buf *b, size_t n)
{
	b->len += n;
}

int buf_append(struct buf *b, const void *p, size_t n)
{
	char *dst;
	size_t room;

	if (n > buf_room(b))
		return -E2BIG;
	/*
	 * A first small append (a head, a field) gets a small block, not buf_reserve()'s 16 KiB:
	 * an HTTP/2 stream's buffers mostly hold one head each, and fresh 16 KiB blocks cost a
	 * page fault apiece. Larger bodies grow it by doubling.
	 */
	if (!b->data && n > 0 && n < 8192) {
		size_t first = 1024;

		while (first < n)
			first *= 2;
		b->data = malloc(first < b->cap ? first : b->cap);
		if (!b->data)
			return -ENOMEM;
		b->alloc = first < b->cap ? first : b->cap;
		b->off = b->len = 0;
	}
	while (n > 0) {
		dst = buf_reserve(b, &room);
		if (!dst)
			return -ENOMEM;
		if (room > n)
			room = n;
		memcpy(dst, p, room);
		buf_commit(b, room);
		p = (const char *)p + room;
		n -= room;
	}
	return 0;
}

void buf_consume(struct buf *b, size_t n)
{
	if (n >= b->len) {
		b->off = 0;
		b->len = 0;
		return;
	}
	b->off += n;
	b->len -= n;
}
