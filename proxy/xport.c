// SPDX-License-Identifier: MIT
/* xport.c: plain and TLS transports for the proxy (xport.h). */
#include "proxy/xport.h"

#include "proxy/h2.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>

void xport_init(struct xport *x)
{
	x->fd = -1;
	x->ssl = NULL;
	x->pipe = NULL;
	x->want_read = x->want_write = false;
	x->drained = false;
	x->peer_known = false;
}

int xport_peer(struct xport *x, struct sockaddr_storage *ss)
{
	socklen_t sl = sizeof(x->peer);

	if (!x->peer_known) {
		if (getpeername(x->fd, (struct sockaddr *)&x->peer, &sl) == -1)
			return -errno;
		x->peer_known = true;
	}
	*ss = x->peer;
	return 0;
}

/*
 * Set by note_read() while one SSL call of this thread reads its socket: the read came back with
 * less than it asked for, or none (would block). With read-ahead OpenSSL asks for all the room of
 * its buffer, so a short read means the socket's queue was emptied.
 */
static __thread bool read_short;

static long note_read(BIO *b, int oper, const char *argp, size_t len, int argi, long argl, int ret,
		      size_t *processed)
{
	(void)argp;
	(void)argi;
	(void)argl;
	if (oper == (BIO_CB_READ | BIO_CB_RETURN) &&
	    (ret > 0 ? processed && *processed < len : BIO_should_retry(b)))
		read_short = true;
	return ret;
}

int xport_ssl_set_fd(SSL *ssl, int fd)
{
	if (!SSL_set_fd(ssl, fd))
		return 0;
	BIO_set_callback_ex(SSL_get_rbio(ssl), note_read);
	return 1;
}

static ssize_t ssl_result(struct xport *x, int ret)
{
	switch (SSL_get_error(x->ssl, ret)) {
	case SSL_ERROR_WANT_READ:
		x->want_read = true;
		return -EAGAIN;
	case SSL_ERROR_WANT_WRITE:
		x->want_write = true;
		return -EAGAIN;
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	case SSL_ERROR_SYSCALL:
		if (errno == EAGAIN)
			return -EAGAIN;
		return errno ? -errno : -EPIPE;
	default:
		return -EPROTO;
	}
}

ssize_t xport_read(struct xport *x, char *p, size_t n)
{
	ssize_t r;
	size_t got = 0;
	int ret;

	x->want_read = x->want_write = false;
	if (x->pipe)
		return h2pipe_read(x->pipe, p, n);
	if (x->drained && (!x->ssl || !SSL_has_pending(x->ssl))) {
		x->want_read = true;
		return -EAGAIN;
	}
	if (!x->ssl) {
		r = recv(x->fd, p, n, 0);
		if (r == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				x->want_read = x->drained = true;
				return -EAGAIN;
			}
			return -errno;
		}
		if (r > 0 && (size_t)r < n)
			x->drained = true;
		return r;
	}
	ERR_clear_error();
	read_short = false;
	ret = SSL_read_ex(x->ssl, p, n, &got);
	if (read_short)
		x->drained = true;
	if (ret == 1)
		return (ssize_t)got;
	return ssl_result(x, 0);
}

ssize_t xport_write(struct xport *x, const char *p, size_t n)
{
	ssize_t r;
	size_t done = 0;
	int ret;

	x->want_read = x->want_write = false;
	if (x->pipe)
		return h2pipe_write(x->pipe, p, n);
	if (!x->ssl) {
		r = send(x->fd, p, n, MSG_NOSIGNAL);
		if (r == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				x->want_write = true;
				return -EAGAIN;
			}
			return -errno;
		}
		return r;
	}
	ERR_clear_error();
	ret = SSL_write_ex(x->ssl, p, n, &done);
	if (ret == 1)
		return (ssize_t)done;
	return ssl_result(x, 0);
}

int xport_handshake(struct xport *x)
{
	ssize_t r;
	int ret;

	x->want_read = x->want_write = false;
	ERR_clear_error();
	ret = SSL_do_handshake(x->ssl);
	if (ret == 1)
		return 0;
	r = ssl_result(x, ret);
	return r == -EAGAIN ? -EAGAIN : -EPROTO;
}

void xport_close(struct xport *x)
{
	if (x->pipe) {
		h2pipe_close(x->pipe);
		x->pipe = NULL;
	}
	if (x->ssl) {
		/* One try, never waiting: a peer that is gone must not stall the loop. */
		if (SSL_is_init_finished(x->ssl))
			SSL_shutdown(x->ssl);
		SSL_free(x->ssl);
		x->ssl = NULL;
	}
	if (x->fd >= 0)
		close(x->fd);
	x->fd = -1;
	x->want_read = x->want_write = false;
	x->drained = x->peer_known = false;
}
