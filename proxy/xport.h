/* SPDX-License-Identifier: MIT */
/*
 * xport.h: one end of a proxied connection, plain TCP or TLS, behind one read/write interface,
 * so the HTTP code above never asks which it is. Non-blocking: "would block" is -EAGAIN, and
 * want_read/want_write then say what the event loop must wait for (TLS may need to read in
 * order to write, and the other way round). A third kind, an HTTP/2 stream's pipe (h2.h), has no
 * descriptor: its session wakes the connection that reads it.
 */
#ifndef BOUNDARY_PROXY_XPORT_H
#define BOUNDARY_PROXY_XPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <openssl/ssl.h>

struct h2pipe;

struct xport {
	int fd;		     /* -1 when closed */
	SSL *ssl;	     /* NULL for plain TCP */
	struct h2pipe *pipe; /* not a socket but an HTTP/2 stream (h2.h): fd is -1 */
	bool want_read;	     /* the last operation needs the fd readable */
	bool want_write;     /* ... or writable */
	/*
	 * The socket's last read came back short or empty and no event has said it is readable
	 * since: a read would find nothing, so xport_read() says -EAGAIN without the syscall
	 * (what TLS holds already is still read). xport_readable() clears it; the loop calls it for
	 * every event on the descriptor, and its epoll is level-triggered, so bytes that arrive
	 * meanwhile are always reported.
	 */
	bool drained;
	bool peer_known; /* peer holds the socket's peer address (asked once: it never changes) */
	/*
	 * TLS records are gathered (xport_ssl_set_fd()'s write side) and go out in one send(2):
	 * the plaintext of records made but not all sent yet. xport_write() reports it written
	 * only once all of it has reached the socket, so the caller keeps it at the front of its
	 * buffer meanwhile, as OpenSSL asks of a write that would block.
	 */
	size_t w_made;
	struct sockaddr_storage peer;
};

void xport_init(struct xport *x);

/* An event said x's descriptor is readable (or hung up): the next read asks the socket. */
static inline void xport_readable(struct xport *x)
{
	x->drained = false;
}

/*
 * SSL_set_fd() for an xport's TLS: also notes, for xport_read(), when a read of the socket came
 * back short (so x->drained is set without an extra read that would say EAGAIN), and gathers
 * the records OpenSSL writes in a buffer of the SSL's, which xport.c sends with one send(2)
 * for several of them (a 1 MiB body: 16 rather than 64). Returns 1 on success, 0 on failure,
 * as SSL_set_fd().
 */
int xport_ssl_set_fd(SSL *ssl, int fd);

/*
 * Makes ssl (set up by xport_ssl_set_fd()) write straight to fd again, one send(2) a record:
 * for an SSL that another SSL is stacked on, whose writes no xport_write() of its own would
 * send. Nothing it gathered may be left (-EBUSY). Returns 0 or -errno.
 */
int xport_ssl_direct(SSL *ssl, int fd);

/* The peer address of x's socket, asked of the kernel once. Returns 0, or -errno. */
int xport_peer(struct xport *x, struct sockaddr_storage *ss);

/* Reads up to n bytes: > 0 read, 0 the peer finished sending, -EAGAIN, or -errno / -EPROTO. */
ssize_t xport_read(struct xport *x, char *p, size_t n);

/* Writes up to n bytes: > 0 written, -EAGAIN, or -errno / -EPROTO. */
ssize_t xport_write(struct xport *x, const char *p, size_t n);

/*
 * Drives a TLS handshake (accept or connect, as the SSL was set up). Returns 0 when done,
 * -EAGAIN while it needs the loop, -EPROTO on failure (the SSL's error queue says why).
 */
int xport_handshake(struct xport *x);

/* Sends TLS's close_notify (the sending half ends), at once or with the next read's. */
void xport_tls_shutdown(struct xport *x);

/* Closes the fd and frees the SSL (after a close_notify attempt). Accepts a closed xport. */
void xport_close(struct xport *x);

#endif /* BOUNDARY_PROXY_XPORT_H */
