// SPDX-License-Identifier: MIT
/*
 * splice.c: a stream rule's connection, spliced both ways untouched (CONN_SPLICE): bytes
 * moved through the connection's bounded buffers, each side's close of its sending half passed
 * on once what it sent is delivered, and (in plain TCP, when the proxy has secrets) the bytes
 * looked at first, so a placeholder never leaves. The decision to splice is decide.c's; the
 * connect upstream.c's.
 */
#include <errno.h>
#include <sys/socket.h>

#include <openssl/ssl.h>

#include "proxy/conn.h"
#include "proxy/secretenc.h"

/* Moves what fits from src to dst. */
static bool shift(struct buf *src, struct buf *dst)
{
	size_t n = src->len < buf_room(dst) ? src->len : buf_room(dst);

	if (n == 0)
		return false;
	buf_append(dst, buf_head(src), n);
	buf_consume(src, n);
	return true;
}

/*
 * Moves what fits from cin to uout. In a plain TCP splice, when the proxy has secrets, the
 * bytes are looked at first (secret_scan_out): a placeholder closes both sides before any of it
 * went out, and a tail that could begin one waits in cin for what follows (or the client's EOF).
 * TLS passed through is not looked into: it cannot be read. Returns 1 when bytes moved, 0 when
 * none did, -1 when c was closed.
 */
static int shift_up(struct conn *c)
{
	const struct proxy_config *cfg = conn_cfg(c);
	size_t clear, n;
	ssize_t hit;

	if (cfg->n_secrets == 0 || c->stream != CONN_STREAM_TCP)
		return shift(&c->cin, &c->uout);
	if (c->cin.len > c->up_clear) {
		hit = secret_scan_out(cfg->secrets, cfg->n_secrets, buf_head(&c->cin) + c->up_clear,
				      c->cin.len - c->up_clear, c->to_up != CONN_HALF_OPEN, &clear);
		if (hit >= 0) {
			decide_refuse_secret(c, (size_t)hit, NULL);
			return -1;
		}
		c->up_clear += clear;
	}
	n = c->up_clear < buf_room(&c->uout) ? c->up_clear : buf_room(&c->uout);
	if (n == 0)
		return 0;
	buf_append(&c->uout, buf_head(&c->cin), n);
	buf_consume(&c->cin, n);
	c->up_clear -= n;
	return 1;
}

/*
 * A stream rule's connection: bytes both ways untouched, and each side's close of its sending
 * half passed on to the other once what it sent is delivered, so request-then-EOF protocols
 * still get their answer. Closed when both halves are.
 */
bool splice_step(struct conn *c)
{
	int up = shift_up(c);
	bool progress;
	ssize_t r;

	if (up < 0)
		return false;
	progress = up > 0;
	progress |= shift(&c->uin, &c->cout);

	if (c->to_up == CONN_HALF_OPEN && buf_room(&c->cin)) {
		r = conn_fill(&c->cx, &c->cin);
		if (r > 0) {
			progress = true;
		} else if (r == 0) {
			c->to_up = CONN_HALF_EOF;
			progress = true;
		} else if (r != -EAGAIN) {
			conn_close(c, "client error");
			return false;
		}
	}
	if (c->to_client == CONN_HALF_OPEN && buf_room(&c->uin)) {
		r = conn_fill(&c->ux, &c->uin);
		if (r > 0) {
			progress = true;
		} else if (r == 0) {
			c->to_client = CONN_HALF_EOF;
			progress = true;
		} else if (r != -EAGAIN) {
			conn_close(c, "upstream error");
			return false;
		}
	}
	r = conn_flush(&c->ux, &c->uout);
	if (r > 0) {
		c->bytes_up += (uint64_t)r;
		progress = true;
	} else if (r < 0 && r != -EAGAIN) {
		conn_close(c, "upstream error");
		return false;
	}
	r = conn_flush(&c->cx, &c->cout);
	if (r > 0) {
		c->bytes_down += (uint64_t)r;
		progress = true;
	} else if (r < 0 && r != -EAGAIN) {
		conn_close(c, "the client went away");
		return false;
	}
	if (c->to_up == CONN_HALF_EOF && c->cin.len == 0 && c->uout.len == 0) {
		/* Through an https:// upstream proxy, TLS's close_notify ends the sending half. */
		if (c->ux.ssl)
			xport_tls_shutdown(&c->ux);
		else
			shutdown(c->ux.fd, SHUT_WR);
		c->to_up = CONN_HALF_SHUT;
	}
	if (c->to_client == CONN_HALF_EOF && c->uin.len == 0 && c->cout.len == 0) {
		shutdown(c->cx.fd, SHUT_WR);
		c->to_client = CONN_HALF_SHUT;
	}
	if (c->to_up == CONN_HALF_SHUT && c->to_client == CONN_HALF_SHUT) {
		conn_close(c, "both sides closed");
		return false;
	}
	return progress;
}
