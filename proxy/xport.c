// SPDX-License-Identifier: MIT
/* xport.c: plain and TLS transports for the proxy (xport.h). */
#include "proxy/xport.h"

#include "proxy/h2.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
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
	x->w_made = 0;
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

/*
 * The write side of an xport's TLS: a BIO that only gathers what OpenSSL writes (records,
 * handshake flights, alerts) in memory; push() sends it. It never says "would block", so
 * OpenSSL never holds a record back itself.
 */
struct gather {
	int fd;
	char *p;
	size_t off, len, cap;
};

/* Plaintext encrypted per xport_write(): five records, what the connection's buffers hold. */
#define XPORT_GATHER (5 * 16384)

static BIO_METHOD *gather_method;
static int gather_type;
static pthread_once_t gather_once = PTHREAD_ONCE_INIT;

static int gather_write(BIO *b, const char *in, int inl)
{
	struct gather *g = BIO_get_data(b);
	size_t need, cap;
	char *p;

	BIO_clear_retry_flags(b);
	if (!g || inl <= 0)
		return inl < 0 ? -1 : 0;
	if (g->off > 0 && g->len == 0)
		g->off = 0;
	need = g->off + g->len + (size_t)inl;
	if (need > g->cap) {
		if (g->off > 0) {
			memmove(g->p, g->p + g->off, g->len);
			g->off = 0;
			need = g->len + (size_t)inl;
		}
		for (cap = g->cap ? g->cap : 4096; cap < need; cap *= 2)
			;
		if (cap > g->cap) {
			p = realloc(g->p, cap);
			if (!p)
				return -1;
			g->p = p;
			g->cap = cap;
		}
	}
	memcpy(g->p + g->off + g->len, in, (size_t)inl);
	g->len += (size_t)inl;
	return inl;
}

static long gather_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	struct gather *g = BIO_get_data(b);

	(void)num;
	(void)ptr;
	switch (cmd) {
	case BIO_CTRL_FLUSH:
		return 1; /* push() sends: OpenSSL's flush only marks the end of a flight */
	case BIO_CTRL_WPENDING:
	case BIO_CTRL_PENDING:
		return g ? (long)g->len : 0;
	default:
		return 0;
	}
}

static int gather_create(BIO *b)
{
	BIO_set_data(b, NULL);
	BIO_set_init(b, 1);
	return 1;
}

static int gather_destroy(BIO *b)
{
	struct gather *g = BIO_get_data(b);

	if (g) {
		free(g->p);
		free(g);
	}
	BIO_set_data(b, NULL);
	return 1;
}

static void gather_init(void)
{
	int type = BIO_get_new_index() | BIO_TYPE_SOURCE_SINK;
	BIO_METHOD *m = BIO_meth_new(type, "xport gather");

	if (m &&
	    (!BIO_meth_set_write(m, gather_write) || !BIO_meth_set_ctrl(m, gather_ctrl) ||
	     !BIO_meth_set_create(m, gather_create) || !BIO_meth_set_destroy(m, gather_destroy))) {
		BIO_meth_free(m);
		m = NULL;
	}
	gather_method = m;
	gather_type = type;
}

/* The gather buffer of x's TLS, or NULL (another write BIO: an SSL over the upstream proxy's). */
static struct gather *gather_of(const struct xport *x)
{
	BIO *b = x->ssl ? SSL_get_wbio(x->ssl) : NULL;

	return b && gather_method && BIO_method_type(b) == gather_type ? BIO_get_data(b) : NULL;
}

/* Sends what x's TLS gathered. Returns 0 when none is left, -EAGAIN, or -errno. */
static int push(struct xport *x)
{
	struct gather *g = gather_of(x);
	ssize_t r;

	while (g && g->len > 0) {
		r = send(g->fd, g->p + g->off, g->len, MSG_NOSIGNAL);
		if (r == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				x->want_write = true;
				return -EAGAIN;
			}
			return -errno;
		}
		g->off += (size_t)r;
		g->len -= (size_t)r;
	}
	if (g)
		g->off = 0;
	return 0;
}

int xport_ssl_set_fd(SSL *ssl, int fd)
{
	struct gather *g;
	BIO *b;

	if (!SSL_set_fd(ssl, fd))
		return 0;
	BIO_set_callback_ex(SSL_get_rbio(ssl), note_read);
	pthread_once(&gather_once, gather_init);
	if (!gather_method)
		return 1; /* records go out one send(2) each, as they would anyway */
	g = calloc(1, sizeof(*g));
	b = g ? BIO_new(gather_method) : NULL;
	if (!b) {
		free(g);
		return 1;
	}
	g->fd = fd;
	BIO_set_data(b, g);
	SSL_set0_wbio(ssl, b);
	return 1;
}

int xport_ssl_direct(SSL *ssl, int fd)
{
	BIO *b = SSL_get_wbio(ssl), *sock;
	struct gather *g =
	    b && gather_method && BIO_method_type(b) == gather_type ? BIO_get_data(b) : NULL;

	if (!g)
		return 0;
	if (g->len > 0)
		return -EBUSY;
	sock = BIO_new_socket(fd, BIO_NOCLOSE);
	if (!sock)
		return -ENOMEM;
	SSL_set0_wbio(ssl, sock); /* frees the gathering BIO */
	return 0;
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
	/* What OpenSSL said and the socket would not take yet (want_write, if still so). */
	if (x->ssl)
		(void)push(x);
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
	/* What reading made OpenSSL say (a key update's answer, an alert) goes now, or later. */
	(void)push(x);
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
	if (!gather_of(x)) {
		ERR_clear_error();
		ret = SSL_write_ex(x->ssl, p, n, &done);
		if (ret == 1)
			return (ssize_t)done;
		return ssl_result(x, 0);
	}
	/* Records made before and not all sent: the caller's buffer still begins with them. */
	if (x->w_made == 0) {
		/* Several records (one each: partial writes), gathered, then one send(2). */
		while (done < n && done < XPORT_GATHER) {
			size_t k = 0, want = n - done < XPORT_GATHER - done ? n - done
									    : XPORT_GATHER - done;

			ERR_clear_error();
			ret = SSL_write_ex(x->ssl, p + done, want, &k);
			if (ret != 1) {
				if (done > 0)
					break;
				(void)push(x);
				return ssl_result(x, 0);
			}
			done += k;
		}
		x->w_made = done;
	}
	r = push(x);
	if (r < 0)
		return r;
	done = x->w_made;
	x->w_made = 0;
	return (ssize_t)done;
}

int xport_handshake(struct xport *x)
{
	ssize_t r;
	int ret;

	x->want_read = x->want_write = false;
	/* A flight not all sent yet goes first: the peer answers nothing before it has it. */
	r = push(x);
	if (r < 0)
		return r == -EAGAIN ? -EAGAIN : -EPROTO;
	ERR_clear_error();
	ret = SSL_do_handshake(x->ssl);
	r = push(x);
	if (r < 0 && r != -EAGAIN)
		return -EPROTO;
	if (ret == 1)
		return r == -EAGAIN ? -EAGAIN : 0;
	r = ssl_result(x, ret);
	return r == -EAGAIN ? -EAGAIN : -EPROTO;
}

void xport_tls_shutdown(struct xport *x)
{
	if (!x->ssl)
		return;
	SSL_shutdown(x->ssl);
	(void)push(x); /* or with the next read's */
}

void xport_close(struct xport *x)
{
	if (x->pipe) {
		h2pipe_close(x->pipe);
		x->pipe = NULL;
	}
	if (x->ssl) {
		/* One try, never waiting: a peer that is gone must not stall the loop. */
		if (SSL_is_init_finished(x->ssl)) {
			SSL_shutdown(x->ssl);
			(void)push(x);
		}
		SSL_free(x->ssl);
		x->ssl = NULL;
	}
	if (x->fd >= 0)
		close(x->fd);
	x->fd = -1;
	x->want_read = x->want_write = false;
	x->drained = x->peer_known = false;
	x->w_made = 0;
}
