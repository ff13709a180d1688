/* SPDX-License-Identifier: MIT */
/*
 * buf.h: a byte buffer with a ceiling fixed at init, for everything that flows through the
 * proxy. Data lives in [off, off+len) of a heap block; the block grows on demand up to cap and
 * never past it, so hostile input can fill a buffer but never make it larger.
 */
#ifndef BOUNDARY_PROXY_BUF_H
#define BOUNDARY_PROXY_BUF_H

#include <stdbool.h>
#include <stddef.h>

struct buf {
	char *data;
	size_t off;   /* start of the unread bytes */
	size_t len;   /* unread bytes */
	size_t alloc; /* size of data */
	size_t cap;   /* the ceiling */
	bool wipe;    /* it may hold a secret's value: zeroed before its memory is given back */
};

/* An empty buffer that will hold at most cap bytes. Allocates nothing yet; wipe is false. */
void buf_init(struct buf *b, size_t cap);

/* Frees the block. The buffer can be reused after buf_init. */
void buf_fini(struct buf *b);

/* The unread bytes. */
static inline const char *buf_head(const struct buf *b)
{
	return b->data + b->off;
}

/* How many more bytes fit before the ceiling. */
size_t buf_room(const struct buf *b);

/*
 * A place to write up to *n more bytes (*n set to what fits, at most the ceiling allows): call
 * buf_commit() with what was written. NULL when the buffer is full. May move the unread bytes.
 */
char *buf_reserve(struct buf *b, size_t *n);
void buf_commit(struct buf *b, size_t n);

/* Appends n bytes. Returns 0, or -E2BIG (nothing appended) past the ceiling. */
int buf_append(struct buf *b, const void *p, size_t n);

/* Forgets the first n unread bytes. */
void buf_consume(struct buf *b, size_t n);

#endif /* BOUNDARY_PROXY_BUF_H */
