/* SPDX-License-Identifier: MIT */
/*
 * h2int.h: what the two halves of HTTP/2 share: h2.c (sessions, the client's streams, the
 * pipes) and h2up.c (upstream sessions, their responses made HTTP/1.1). Private to them.
 */
#ifndef BOUNDARY_PROXY_H2INT_H
#define BOUNDARY_PROXY_H2INT_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <nghttp2/nghttp2.h>

#include "proxy/conn.h"
#include "proxy/h2.h"

/* What a pipe has passed on from its connection. */
enum pipe_out {
	OUT_HEAD, /* gathering the head */
	OUT_BODY, /* the head is submitted; the body is coming */
	OUT_DONE, /* all of it is in data (or there is none) */
};

struct h2sess {
	nghttp2_session *ng;
	struct conn *c;		/* the connection whose socket it speaks on */
	bool server;		/* facing a jailed client; else an upstream */
	bool plain;		/* h2c */
	struct rules_addr peer; /* an upstream session's address: each stream's rules check it */
	bool peer_known;
	bool goaway; /* no new streams: it goes once the last one is done */
	struct h2pipe *pipes;
	unsigned n_pipes;
	struct conn *next_up; /* the worker's upstream sessions */
};

struct h2pipe {
	struct h2pipe *next, *prev;
	struct h2sess *s; /* NULL once the session is gone */
	struct conn *k;	  /* the connection it serves; NULL once that let go */
	int32_t id;	  /* 0 until an upstream stream is submitted */
	bool closed;	  /* nghttp2 closed the stream */
	bool grpc;	  /* content-type application/grpc... */
	bool head_req;	  /* the request is a HEAD: its response has no body */

	/* the peer's head as it arrives */
	char method[32];
	char scheme[8];
	char authority[272];
	char *path;
	int status;
	bool has_cl;	    /* content-length */
	char clen[24];	    /* ... an upstream's, kept apart */
	bool trailer_field; /* a trailer field announces trailers */
	bool has_host;	    /* a host field (its agreement with :authority checked) */
	bool host_differs;  /* ... and it names another host */
	bool websocket;	    /* extended CONNECT (RFC 8441) with :protocol websocket */
	char protocol[32];  /* :protocol */
	size_t hdr_bytes;
	struct buf hb;	   /* regular fields as HTTP/1.1 lines */
	struct buf cookie; /* cookie crumbs, joined with "; " (RFC 9113 8.2.3) */
	unsigned n_blocks; /* header blocks seen: the second on a stream is its trailers */

	/* toward the connection: HTTP/1.1 bytes made from frames */
	struct buf head;     /* the head, still to be read */
	struct buf body;     /* DATA not yet read */
	struct buf trailers; /* "name: value\r\n" lines */
	bool chunked;	     /* the body is given chunked (carrying trailers, if any) */
	bool in_head;	     /* the head is complete */
	bool in_end;	     /* the peer ended its side */
	bool in_reset;	     /* ... or the stream died first */
	bool in_done;	     /* the connection read all of it, the last chunk too */
	bool refused;	     /* an upstream refused the stream unread: it may go again */
	bool wipe; /* a connection with secrets used it: its buffers are zeroed at the end */

	/* from the connection: HTTP/1.1 parsed into frames */
	enum pipe_out out;
	struct buf raw;	 /* the head being gathered */
	struct buf data; /* payload for DATA frames */
	enum http1_body obody;
	uint64_t oleft;
	struct http1_chunked och;
	char *otr;     /* a chunked body's trailer lines (HTTP1_TRAILER_MAX), when it has one */
	bool deferred; /* nghttp2 waits for data: resume it when some comes */
	bool blocked;  /* the connection found data full: kick it when there is room */
};

#define STREAM_BUF H2_WINDOW

/* nghttp2 takes names and values as uint8_t *, and only reads them. */
static inline uint8_t *u8(const char *s)
{
	return (uint8_t *)(uintptr_t)s;
}

#define NV(n, v) ((nghttp2_nv){u8(n), u8(v), sizeof(n) - 1, strlen(v), NGHTTP2_NV_FLAG_NONE})

/* h2.c */
/* The connection the session speaks on (a pipe's stream's connection) runs after this event. */
void h2_sess_kick(struct h2sess *s);
void h2_pipe_kick(struct h2pipe *p);
/* Append to b: 0, or -E2BIG past its ceiling. */
int h2_put(struct buf *b, const char *s, size_t n);
int h2_puts(struct buf *b, const char *s);
/* A pipe in s's list, its buffers empty; NULL: out of memory. */
struct h2pipe *h2_pipe_new(struct h2sess *s);
/* A field HTTP/2 forbids or the other side rewrites (RFC 9113 8.2.2; host: :authority). */
bool h2_connection_specific(const char *name, size_t n);
/* A session facing a jailed client (server) or an upstream, on c, its SETTINGS queued. */
struct h2sess *h2_sess_new(struct conn *c, bool server, bool plain);

/* h2up.c */
/* An upstream stream's response head as HTTP/1.1 in p->head (end: no body follows). */
int h2_response_head(struct h2pipe *p, bool end);
/* c, an upstream session that is closing, leaves its worker's list. */
void h2_up_forget(struct conn *c);

#endif /* BOUNDARY_PROXY_H2INT_H */
