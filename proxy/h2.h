/* SPDX-License-Identifier: MIT */
/*
 * h2.h: HTTP/2 (libnghttp2 does the framing, HPACK and flow control), on both sides of the
 * proxy, as pipes of HTTP/1.1 bytes. Private to proxy/.
 *
 * A jailed client that speaks HTTP/2 (ALPN h2, or the preface on a plain connection) gets a
 * session (CONN_H2) on its connection; each stream it opens becomes a connection of its own
 * with no socket (a stream's "child"), whose client side (cx) is a pipe: reading it gives the
 * stream's request as HTTP/1.1 bytes, and what is written to it (an HTTP/1.1 response) goes
 * out as the stream's frames. So every stream runs exchange.c, decide.c, secretx.c and
 * upstream.c as an HTTP/1.1 request does, judged on its own, and one request's troubles never
 * touch another's.
 *
 * The same pipe works the other way for an upstream that speaks HTTP/2 (ALPN h2, or h2c when
 * the client used prior knowledge): the upstream connection becomes a session of its own
 * (CONN_H2_UP, kept per worker for the next stream to its origin, as idle connections are),
 * and the request's upstream side (ux) a pipe into one of its streams.
 */
#ifndef BOUNDARY_PROXY_H2_H
#define BOUNDARY_PROXY_H2_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct conn;
struct h2pipe;

#define H2_PREFACE     "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
#define H2_PREFACE_LEN 24
#define H2_MAX_STREAMS 100	   /* concurrent streams a client may open */
#define H2_WINDOW      65535	   /* each stream's receive window: what it may buffer */
#define H2_MAX_HEADERS (64 * 1024) /* a header list's bytes, as HTTP/1.1 heads */

/* ALPN ids, in wire format: the list an HTTP/2 client's requests offer upstream. */
extern const unsigned char h2_alpn_up[];
extern const unsigned int h2_alpn_up_len;

/*
 * c (its client side TLS with ALPN h2, or plain with the preface at the front of cin) becomes
 * an HTTP/2 session: CONN_H2. Returns 0, or -ENOMEM (c is then closed).
 */
int h2_serve(struct conn *c);
/* The steps of CONN_H2 and CONN_H2_UP, for conn_run(). */
bool h2_step(struct conn *c);
bool h2_step_up(struct conn *c);
/* A session's deadline: an idle one is closed (GOAWAY first). */
void h2_timeout(struct conn *c);
/* From conn_close(): a session's streams end with it. */
void h2_closing(struct conn *c);

/* A stream's own answer from boundary (403, 502, ...): in gRPC's words to a gRPC request. */
void h2_respond(struct conn *c, int code, const char *reason, const char *body);
/* The HTTP/2 stream id c (a stream's child) serves, or 0 when c is not one. */
int h2_stream_id(const struct conn *c);
/* Whether c's requests go upstream as h2c with prior knowledge (its client used it). */
bool h2_prior_knowledge(const struct conn *c);

/*
 * c's new upstream connection speaks HTTP/2 (ALPN h2, or prior: h2c): it becomes a session of
 * its own, and c's ux a stream on it. Returns 0, or -ENOMEM.
 */
int h2_up_adopt(struct conn *c, bool prior);
/* A head start h that chose h2: its connection becomes an idle session, for streams to come. */
int h2_up_park(struct conn *h);
/* A session to c->up_key, at an address c's rules allow, with room for one more stream. */
bool h2_up_take(struct conn *c);

/* The pipe behind an xport (xport.c): as xport_read, xport_write and xport_close. */
ssize_t h2pipe_read(struct h2pipe *p, char *b, size_t n);
ssize_t h2pipe_write(struct h2pipe *p, const char *b, size_t n);
void h2pipe_close(struct h2pipe *p);

#endif /* BOUNDARY_PROXY_H2_H */
