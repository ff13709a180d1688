// SPDX-License-Identifier: MIT
/*
 * conn.c: one proxied connection, from accept() to close, as a state machine.
 *
 *   SNIFF ─ TLS? ─ TLS_ACCEPT ─┐
 *     └─ plain ────────────────┴─ HEAD ─ refused ─ 403 (─ DISCARD the body) ─ HEAD ...
 *                                   └─ allowed ─ RESOLVE ─ CONNECT (─ UP_TLS) ─ EXCHANGE ─ HEAD ...
 *                                        (or straight to EXCHANGE on a kept upstream)
 *                                                                     └─ 101 ─ TUNNEL
 *     └─ a stream rule (neither TLS nor HTTP, TLS no HTTP rule reads, or a silent client):
 *        RESOLVE ─ CONNECT ─ SPLICE
 *
 * This file owns the connection itself: its record (new, close, free), its state, the event
 * driver, the sniff of the first bytes, the TLS accept, the tunnel after a 101 and a stream
 * rule's splice. The HTTP/1.1 exchange is exchange.c's, every decision decide.c's, and the
 * upstream side (lookup, connect, upstream TLS, the pool, head starts) upstream.c's.
 *
 * Every request is decided on its own: its method, its Host and port (the SNI and the address
 * the client dialled never decide anything) and its normalised path, which is also the path the
 * upstream receives. Only a connection no HTTP rule would read is judged as a whole, on the name
 * its address stands for (or its SNI) and its port, by stream rules. Heads are rewritten
 * (hop-by-hop fields dropped); bodies stream through bounded buffers byte for byte, so a slow
 * reader slows the writer instead of filling memory. conn_run() takes every step it can for
 * each event, then says what it waits for.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "proxy/conn.h"
#include "proxy/dns.h"
#include "proxy/h2.h"
#include "proxy/log.h"
#include "proxy/resolve.h"
#include "proxy/ruleset.h"
#include "proxy/sniff.h"
#include "proxy/tls.h"
#include "proxy/upchain.h"
#include "proxy/util.h"
#include "rules/rules.h"

/* A connection record with its client side on fd (-1 for none), not yet in the worker's list. */
struct conn *conn_alloc(struct worker *w, int fd, enum proxy_listener_kind kind)
{
	struct conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->w = w;
	c->kind = kind;
	xport_init(&c->cx);
	xport_init(&c->ux);
	c->cx.fd = fd;
	c->ev_c = c->ev_u = c->ev_a = LOOP_WATCH_NONE;
	c->evc.kind = EV_CLIENT;
	c->evc.ptr = c;
	c->evu.kind = EV_UPSTREAM;
	c->evu.ptr = c;
	c->eva.kind = EV_UPSTREAM_ALT;
	c->eva.ptr = c;
	c->alt_fd = -1;
	c->state = CONN_SNIFF; /* its first state; every later one through conn_set_state() */
	buf_init(&c->cin, CONN_BUF);
	buf_init(&c->cout, CONN_OUT_BUF);
	buf_init(&c->uin, CONN_BUF);
	buf_init(&c->uout, CONN_OUT_BUF);
	return c;
}

/*
 * The rules this connection decides with: the set it took when its current decision began.
 * It moves to its worker's current set (after a reload) only where a new decision begins, at
 * conn_sniff_begin() and at each request head, so a decision and what hangs off it (the stream
 * rule kept for a silent client, a response still streaming) all belong to one set.
 */
const struct rules *conn_rules(const struct conn *c)
{
	return ruleset_rules(c->rs);
}

void conn_request_exe(const struct conn *c, struct rules_request *rq)
{
	if (!(c->have_orig || c->orig.direct) || !c->orig.has_exe)
		return;
	rq->has_exe = true;
	rq->exe_dev = c->orig.exe_dev;
	rq->exe_ino = c->orig.exe_ino;
}

void conn_match_host(const struct conn *c, const char *host, size_t len, uint16_t port,
		     enum rules_scope scope, struct rules_decision *d)
{
	struct rules_request rq = {.host = host, .host_len = len, .port = port};

	conn_request_exe(c, &rq);
	rules_match_host_req(conn_rules(c), &rq, scope, d);
}

const char *conn_exe(struct conn *c)
{
	if (!(c->have_orig || c->orig.direct) || !c->orig.has_exe)
		return NULL;
	/* Looked up once per connection, when a record or a refusal first needs it. */
	if (!c->exe[0])
		util_exe_str(c->orig.pid, c->orig.exe_dev, c->orig.exe_ino, c->exe, sizeof(c->exe));
	return c->exe;
}

void conn_rules_renew(struct conn *c)
{
	if (c->rs == c->w->rs)
		return;
	ruleset_unref(c->rs);
	c->rs = ruleset_ref(c->w->rs);
}

static bool step_sniff(struct conn *c);
static bool step_tls_accept(struct conn *c);
static bool step_tunnel(struct conn *c);
static bool step_flush_close(struct conn *c);

/*
 * Each state's row: its name in the debug log; the step conn_run() takes in it, or NULL where
 * the connection waits for something from outside (a lookup, an answer, its head start, its
 * deadline); and which buffers that step writes out itself. In the other states the driver
 * flushes cout after the step, and uout waits until a state that writes it.
 */
static const struct state_info {
	const char *name;
	bool (*step)(struct conn *c);
	bool writes_client;   /* the step flushes cout */
	bool writes_upstream; /* the step flushes uout */
} states[] = {
    [CONN_SNIFF] = {"sniff", step_sniff, false, false},
    [CONN_TLS_ACCEPT] = {"tls-accept", step_tls_accept, false, false},
    [CONN_HEAD] = {"head", exchange_step_head, false, false},
    [CONN_DISCARD] = {"discard", exchange_step_discard, false, false},
    [CONN_DECIDE] = {"decide", NULL, false, false},
    [CONN_RESOLVE] = {"resolve", NULL, false, false},
    [CONN_WAIT_UP] = {"wait-upstream", NULL, false, false},
    [CONN_CONNECT] = {"connect", upstream_step_connect, false, false},
    [CONN_UP_PROXY] = {"upstream-proxy", upchain_step, false, false},
    [CONN_UP_TLS] = {"upstream-tls", upstream_step_up_tls, false, false},
    [CONN_EXCHANGE] = {"exchange", exchange_step, true, true},
    [CONN_TUNNEL] = {"tunnel", step_tunnel, true, true},
    [CONN_SPLICE] = {"splice", splice_step, true, true},
    [CONN_FLUSH_CLOSE] = {"closing", step_flush_close, true, false},
    [CONN_H2] = {"h2", h2_step, true, false},
    [CONN_H2_UP] = {"h2-upstream", h2_step_up, false, true},
    [CONN_DEAD] = {"dead", NULL, false, false},
};
_Static_assert(sizeof(states) / sizeof(states[0]) == CONN_DEAD + 1, "a state without a row");
_Static_assert(sizeof(((struct worker *)0)->peek) == SNIFF_PEEK, "the worker's peek buffer");

static const char *state_name(enum conn_state s)
{
	return states[s].name;
}

/* The one way a connection's state changes, so each change is in the debug log. */
void conn_set_state(struct conn *c, enum conn_state s)
{
	if (log_enabled(LOG_DEBUG))
		log_debug("%s: %s -> %s", c->who, state_name(c->state), state_name(s));
	c->state = s;
}

/* Puts c, fresh from conn_alloc(), at the head of its worker's list of live connections. */
void conn_link(struct conn *c)
{
	struct worker *w = c->w;

	c->prev = NULL;
	c->next = w->conns;
	if (w->conns)
		w->conns->prev = c;
	w->conns = c;
}

void conn_set_deadline(struct conn *c, unsigned ms)
{
	c->deadline = util_now_ms() + ms;
}

/* --- moving bytes -------------------------------------------------------------------------- */

/* Reads what fits from x into b. Returns > 0, 0 on EOF, -EAGAIN, or -errno. */
ssize_t conn_fill(struct xport *x, struct buf *b)
{
	size_t room;
	char *p = buf_reserve(b, &room);
	ssize_t r, got = 0;

	if (!p)
		return -ENOBUFS;
	/*
	 * TLS gives one record a read: the records OpenSSL already holds (it reads ahead) are
	 * taken too while there is room, so what goes on is written in one go, not a record a
	 * write(2).
	 */
	for (;;) {
		r = xport_read(x, p, room);
		if (r <= 0)
			return got > 0 ? got : r;
		buf_commit(b, (size_t)r);
		got += r;
		if (!x->ssl || !SSL_has_pending(x->ssl) || !(p = buf_reserve(b, &room)))
			return got;
	}
}

/* Writes what it can of b to x. Returns > 0, -EAGAIN, or -errno. */
ssize_t conn_flush(struct xport *x, struct buf *b)
{
	ssize_t r;

	if (b->len == 0)
		return -EAGAIN;
	r = xport_write(x, buf_head(b), b->len);
	if (r > 0)
		buf_consume(b, (size_t)r);
	return r;
}

/* --- the states ---------------------------------------------------------------------------- */

/* The name behind the address the client dialled, for stream rules. */
static void dialled_name(struct conn *c)
{
	const struct sockaddr_storage *ss = &c->orig.dst;
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
	const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;
	struct dns_table *dns = conn_cfg(c)->dns;
	char a[INET6_ADDRSTRLEN];
	struct in_addr v4;

	c->dname[0] = '\0';
	if (ss->ss_family == AF_INET) {
		c->dport = ntohs(s4->sin_port);
		v4 = s4->sin_addr;
	} else if (ss->ss_family == AF_INET6) {
		c->dport = ntohs(s6->sin6_port);
		if (!IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			if (dns && dns_is_synthetic(AF_INET6, &s6->sin6_addr)) {
				if (dns_table_name(dns, AF_INET6, &s6->sin6_addr, c->dname,
						   sizeof(c->dname)) < 0)
					c->dname[0] = '\0';
				return;
			}
			/* A real answer's address (--use-real-dns) stands for its name too. */
			if (dns && dns_table_name(dns, AF_INET6, &s6->sin6_addr, c->dname,
						  sizeof(c->dname)) == 0)
				return;
			inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a));
			snprintf(c->dname, sizeof(c->dname), "[%s]", a);
			return;
		}
		memcpy(&v4, &s6->sin6_addr.s6_addr[12], 4);
	} else {
		return;
	}
	if (dns && dns_table_name(dns, AF_INET, &v4, c->dname, sizeof(c->dname)) == 0)
		return;
	if (dns && dns_is_synthetic(AF_INET, &v4)) {
		c->dname[0] = '\0';
		return;
	}
	inet_ntop(AF_INET, &v4, c->dname, sizeof(c->dname));
}

/*
 * The connection is about to be sniffed. When only stream rules match where it was going, it
 * is spliced at once, without waiting for bytes (server-first protocols speak only after the
 * server did). When HTTP rules match too, a client silent for SERVER_FIRST_MS is spliced then.
 */
void conn_sniff_begin(struct conn *c)
{
	struct rules_decision ds, dr;
	size_t n = strlen(c->dname);

	conn_rules_renew(c);
	conn_set_state(c, CONN_SNIFF);
	c->stream_rule = NULL;
	c->sniffed = CONN_SNIFFED_NOTHING;
	c->sniff_deadline = util_now_ms() + conn_cfg(c)->header_timeout_ms;
	c->deadline = c->sniff_deadline;
	if (n == 0)
		return;
	/* A client still silent then may be waiting for the server: see conn_timeout(). */
	conn_set_deadline(c, SERVER_FIRST_MS);
	conn_match_host(c, c->dname, n, c->dport, RULES_STREAM, &ds);
	if (!ds.allow)
		return;
	conn_match_host(c, c->dname, n, c->dport, RULES_REQUESTS, &dr);
	if (!dr.allow) {
		decide_start_stream(c, c->dname, c->dport, ds.raw, true, CONN_STREAM_TCP);
		return;
	}
	c->stream_rule = ds.raw;
}

/* Not enough bytes to decide yet: look again on the next tick, not on every wakeup. */
static bool sniff_more(struct conn *c)
{
	c->sniffed = CONN_SNIFFED_TOO_FEW;
	c->deadline = util_now_ms();
	return false;
}

/*
 * A TLS connection whose server name no HTTP rule reads but a stream rule allows is spliced
 * without interception. Returns true if it was.
 */
/*
 * A ClientHello whose name only stream rules allow is spliced through unread (true); one whose
 * server name carries a secret's placeholder is refused (true: closed). Otherwise name gets the
 * name it is for (its SNI, else the dialled name), "" if none.
 */
static bool tls_passthrough(struct conn *c, const unsigned char *peek, size_t n, bool *wait,
			    char *out, size_t outlen, bool *h2)
{
	struct rules_decision ds, dr;
	struct sniff_hello hello;
	const char *name;
	ssize_t r, hit;

	*wait = false;
	out[0] = '\0';
	r = sniff_client_hello(peek, n, &hello);
	if (r == 0 && n < SNIFF_PEEK) {
		*wait = true;
		return false;
	}
	*h2 = r > 0 && hello.alpn_h2;
	name = r > 0 && hello.sni[0] ? hello.sni : c->dname;
	if (!name[0])
		return false;
	/* Refused whichever way it goes: a head start would send it on (its SNI, a lookup). */
	if (name == hello.sni && (hit = decide_secret_in_name(c, name)) >= 0) {
		decide_refuse_secret(c, (size_t)hit, name);
		return true;
	}
	snprintf(out, outlen, "%s", name);
	conn_match_host(c, name, strlen(name), c->dport, RULES_REQUESTS, &dr);
	if (dr.allow)
		return false;
	conn_match_host(c, name, strlen(name), c->dport, RULES_STREAM, &ds);
	if (!ds.allow)
		return false;
	decide_start_stream(c, name, c->dport, ds.raw, true, CONN_STREAM_TLS);
	return true;
}

static bool step_sniff(struct conn *c)
{
	unsigned char *peek = c->w->peek;
	SSL_CTX *ctx;
	char hs_name[sizeof(c->dname)];
	struct rules_decision ds;
	enum sniff_kind kind;
	bool wait, h2 = false;
	ssize_t r;
	char name[INET6_ADDRSTRLEN + 2];

	if (c->sniffed == CONN_SNIFFED_TOO_FEW)
		return false;
	r = recv(c->cx.fd, peek, SNIFF_PEEK, MSG_PEEK);
	if (r == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			c->cx.want_read = true;
			return false;
		}
		conn_close(c, "client error");
		return false;
	}
	if (r == 0) {
		if (c->silent_hint)
			decide_refuse_stream(
			    c, "it sent nothing and closed (waiting for the server to speak "
			       "first?)");
		else
			conn_close(c, "the client closed without a word");
		return false;
	}
	c->sniffed = CONN_SNIFFED_BYTES;
	kind = sniff_kind(peek, (size_t)r);
	if (kind == SNIFF_NEED_MORE)
		return sniff_more(c);
	c->deadline = c->sniff_deadline;
	if (kind == SNIFF_HTTP) {
		conn_set_state(c, CONN_HEAD);
		return true;
	}
	if (kind == SNIFF_OTHER) {
		if (c->dname[0]) {
			conn_match_host(c, c->dname, strlen(c->dname), c->dport, RULES_STREAM, &ds);
			if (ds.allow) {
				decide_start_stream(c, c->dname, c->dport, ds.raw, true,
						    CONN_STREAM_TCP);
				return true;
			}
		}
		if (decide_dry_run_stream(c, "it is neither TLS nor HTTP"))
			return true;
		decide_refuse_stream(c, "it is neither TLS nor HTTP");
		return false;
	}
	if (tls_passthrough(c, peek, (size_t)r, &wait, hs_name, sizeof(hs_name), &h2))
		return true;
	if (wait)
		return sniff_more(c);
	ctx = tls_ctxs_server(conn_cfg(c)->tls);
	if (!ctx) {
		conn_close(c, "no TLS context (see the error above)");
		return false;
	}
	c->cx.ssl = SSL_new(ctx);
	if (!c->cx.ssl || !xport_ssl_set_fd(c->cx.ssl, c->cx.fd)) {
		conn_close(c, "out of memory for TLS");
		return false;
	}
	SSL_set_accept_state(c->cx.ssl);
	/* No SNI: a certificate for what the client dialled, so IP-literal URLs still work. */
	if (c->in_connect) {
		tls_server_set_fallback_name(c->cx.ssl, c->connect_host);
	} else if (c->dname[0] && c->dname[0] != '[') {
		tls_server_set_fallback_name(c->cx.ssl, c->dname);
	} else if (c->have_orig) {
		util_addr_str((const struct sockaddr *)&c->orig.dst, false, name, sizeof(name));
		tls_server_set_fallback_name(c->cx.ssl, name);
	}
	upstream_head_start(c, hs_name, h2);
	conn_set_state(c, CONN_TLS_ACCEPT);
	return true;
}

static bool step_tls_accept(struct conn *c)
{
	const unsigned char *alpn = NULL;
	unsigned int alpn_len = 0;
	const char *sni;
	char why[256];
	size_t i;
	int r;

	r = xport_handshake(&c->cx);
	if (r == -EAGAIN)
		return false;
	if (r < 0) {
		tls_error_string(c->cx.ssl, r, why, sizeof(why));
		log_info("TLS handshake with %s failed: %s (does the client trust boundary's CA?)",
			 c->who, why);
		conn_close(c, "client TLS handshake failed");
		return false;
	}
	sni = SSL_get_servername(c->cx.ssl, TLSEXT_NAMETYPE_host_name);
	if (sni) {
		for (i = 0; sni[i] && i + 1 < sizeof(c->sni); i++)
			c->sni[i] = (char)((sni[i] >= 'A' && sni[i] <= 'Z') ? sni[i] + 32 : sni[i]);
		c->sni[i] = '\0';
		/*
		 * The SNI stands in for a missing Host: only a host name may, never bytes that
		 * could end a log line or a saved rule (a name of letters, digits, '-', '_', '.').
		 */
		if (sni[i] || strspn(c->sni, "abcdefghijklmnopqrstuvwxyz0123456789-_.") != i) {
			log_info("%s sent a TLS server name that is not a host name: ignored",
				 c->who);
			c->sni[0] = '\0';
		}
	}
	c->client_tls = true;
	SSL_get0_alpn_selected(c->cx.ssl, &alpn, &alpn_len);
	if (alpn_len == 2 && memcmp(alpn, "h2", 2) == 0)
		return h2_serve(c) == 0;
	conn_set_state(c, CONN_HEAD);
	conn_set_deadline(c, conn_cfg(c)->header_timeout_ms);
	return true;
}

/*
 * Gives back what an idle connection does not need: its empty buffers and OpenSSL's record
 * buffers, on both sides, about 150 KiB once bodies have flowed. They come back on the next
 * request. Done after IDLE_TRIM_MS, not at once, so busy keep-alive connections do not pay for
 * allocations on every request.
 */
static void conn_trim(struct conn *c)
{
	struct buf *b[] = {&c->cin, &c->cout, &c->uin, &c->uout};
	size_t i;

	for (i = 0; i < sizeof(b) / sizeof(b[0]); i++)
		if (b[i]->len == 0)
			buf_fini(b[i]);
	if (c->cx.ssl)
		SSL_free_buffers(c->cx.ssl);
	/* The upstream connection goes back to the worker's pool (or closes if that is full). */
	upstream_pool_put(c);
	c->w->trimmed++;
}

static bool step_tunnel(struct conn *c)
{
	bool progress = false, holding = false;
	ssize_t r;

	/* whatever either side sends, to the other, until one of them closes */
	if (c->cin.len && buf_room(&c->uout)) {
		size_t n = c->cin.len < buf_room(&c->uout) ? c->cin.len : buf_room(&c->uout);

		buf_append(&c->uout, buf_head(&c->cin), n);
		buf_consume(&c->cin, n);
		progress = true;
	}
	if (secretx_tunnel_down(c, false, &holding)) {
		progress = true; /* a bound host's bytes, its secrets' values hidden again */
	} else if (!holding && c->uin.len && buf_room(&c->cout)) {
		size_t n = c->uin.len < buf_room(&c->cout) ? c->uin.len : buf_room(&c->cout);

		buf_append(&c->cout, buf_head(&c->uin), n);
		buf_consume(&c->uin, n);
		progress = true;
	}
	if (buf_room(&c->cin)) {
		r = conn_fill(&c->cx, &c->cin);
		if (r > 0)
			progress = true;
		else if (r != -EAGAIN) {
			conn_close(c, "tunnel closed by the client");
			return false;
		}
	}
	if (buf_room(&c->uin)) {
		r = conn_fill(&c->ux, &c->uin);
		if (r > 0)
			progress = true;
		else if (r != -EAGAIN && secretx_tunnel_down(c, true, &holding))
			progress = true; /* what the engine held back, out before the end */
		else if (r != -EAGAIN && c->cout.len == 0 && c->uin.len == 0 && !holding) {
			conn_close(c, "tunnel closed by the upstream");
			return false;
		}
	}
	r = conn_flush(&c->ux, &c->uout);
	if (r > 0) {
		c->bytes_up += (uint64_t)r;
		progress = true;
	}
	r = conn_flush(&c->cx, &c->cout);
	if (r > 0) {
		c->bytes_down += (uint64_t)r;
		progress = true;
	}
	return progress;
}

static bool step_flush_close(struct conn *c)
{
	ssize_t r = conn_flush(&c->cx, &c->cout);

	if (c->cout.len == 0 || (r < 0 && r != -EAGAIN)) {
		conn_close(c, c->close_reason ? c->close_reason : "done");
		return false;
	}
	return r > 0;
}

/* --- the driver ---------------------------------------------------------------------------- */

static void update_interest(struct conn *c)
{
	uint32_t wc = 0, wu = 0;
	bool room_c = buf_room(&c->cin) > 0, room_u = buf_room(&c->uin) > 0;

	switch (c->state) {
	case CONN_SNIFF:
		/* Waiting for more bytes than the socket holds: the tick retries. */
		if (c->sniffed != CONN_SNIFFED_TOO_FEW)
			wc |= EPOLLIN;
		if (c->ux.fd >= 0)
			wu |= EPOLLIN;
		break;
	case CONN_HEAD:
	case CONN_DISCARD:
		if (room_c)
			wc |= EPOLLIN;
		if (c->ux.fd >= 0)
			wu |= EPOLLIN; /* a kept upstream that closes is noticed */
		break;
	case CONN_DECIDE:
		/* Nothing is read while the request waits (a hang-up is reported anyway). */
		if (c->ux.fd >= 0)
			wu |= EPOLLIN;
		break;
	case CONN_EXCHANGE:
		if (!c->req_done && room_c)
			wc |= EPOLLIN;
		/*
		 * The request is all read: its client's EPOLLIN stays armed until it fires (a
		 * pipelined request, or an EOF), so that a keep-alive exchange costs no epoll_ctl()
		 * to disarm it here and another to arm it again for the next head.
		 */
		else if (c->req_done && c->ev_c != LOOP_WATCH_NONE && (c->ev_c & EPOLLIN) &&
			 !c->client_woke_idle)
			wc |= EPOLLIN;
		if (c->resp_read != CONN_RESP_ALL_READ && room_u)
			wu |= EPOLLIN;
		break;
	case CONN_TUNNEL:
		if (room_c)
			wc |= EPOLLIN;
		if (room_u)
			wu |= EPOLLIN;
		break;
	case CONN_SPLICE:
		if (room_c && c->to_up == CONN_HALF_OPEN)
			wc |= EPOLLIN;
		if (room_u && c->to_client == CONN_HALF_OPEN)
			wu |= EPOLLIN;
		break;
	case CONN_CONNECT:
		wu |= EPOLLOUT;
		break;
	case CONN_H2:
		if (room_c)
			wc |= EPOLLIN;
		break;
	case CONN_H2_UP:
		if (room_u)
			wu |= EPOLLIN;
		break;
	default:
		break;
	}
	if (c->cout.len)
		wc |= EPOLLOUT;
	if (c->uout.len && states[c->state].writes_upstream)
		wu |= EPOLLOUT;
	if (c->cx.want_read)
		wc |= EPOLLIN;
	if (c->cx.want_write)
		wc |= EPOLLOUT;
	if (c->ux.want_read)
		wu |= EPOLLIN;
	if (c->ux.want_write)
		wu |= EPOLLOUT;
	/* A parked request reads nothing: more bytes from its client would only wake it in vain. */
	if (c->state == CONN_DECIDE)
		wc &= ~(uint32_t)EPOLLIN;
	c->client_woke_idle = false;
	loop_watch(c->w->ep, c->cx.fd, &c->evc, &c->ev_c, wc);
	loop_watch(c->w->ep, c->ux.fd, &c->evu, &c->ev_u, wu);
	if (c->state == CONN_CONNECT)
		loop_watch(c->w->ep, c->alt_fd, &c->eva, &c->ev_a, EPOLLOUT);
}

static void conn_run_events(struct conn *c)
{
	bool (*step)(struct conn * c);
	bool progress;
	int rounds = 0;

	do {
		step = states[c->state].step;
		progress = step ? step(c) : false;
		/* Flush what a step queued for the client, in a state whose step does not. */
		if (c->state != CONN_DEAD && c->cout.len && !states[c->state].writes_client) {
			ssize_t r = conn_flush(&c->cx, &c->cout);

			if (r > 0)
				progress = true;
			else if (r != -EAGAIN)
				conn_close(c, "the client went away");
		}
	} while (progress && c->state != CONN_DEAD && ++rounds < 1000);
	if (c->state != CONN_DEAD)
		update_interest(c);
}

void conn_run(struct conn *c)
{
	conn_run_events(c);
}

void conn_event(struct conn *c, bool upstream, uint32_t events)
{
	char b;

	if (c->state == CONN_DEAD)
		return;
	if (upstream) {
		xport_readable(&c->ux);
	} else {
		xport_readable(&c->cx);
		/* Its request is all read: nothing will read it until the answer is out. */
		if (c->state == CONN_EXCHANGE && c->req_done)
			c->client_woke_idle = true;
	}
	if (!upstream && c->state == CONN_DECIDE && (events & (EPOLLHUP | EPOLLERR))) {
		conn_close(c, "the client went away while its request was being decided");
		return;
	}
	if (upstream && (c->state == CONN_HEAD || c->state == CONN_SNIFF ||
			 c->state == CONN_DISCARD || c->state == CONN_DECIDE)) {
		/* An idle kept upstream spoke or closed: it cannot be reused. */
		if (recv(c->ux.fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) != -1 || errno != EAGAIN) {
			xport_close(&c->ux);
			c->ev_u = LOOP_WATCH_NONE;
			c->up_key[0] = '\0';
		}
	}
	conn_run_events(c);
}

void conn_timeout(struct conn *c)
{
	char why[320];

	switch (c->state) {
	case CONN_H2:
	case CONN_H2_UP:
		h2_timeout(c);
		return;
	case CONN_CONNECT:
		if (util_now_ms() < c->connect_deadline) {
			/* No answer yet: race the next address (happy eyeballs). */
			if (c->alt_fd < 0 && c->ux.fd >= 0 && upstream_start_attempt(c) == 0)
				log_debug("%s: racing another address of %s", c->who, c->uhost);
			upstream_connect_deadline(c);
			conn_run(c);
			return;
		}
		upstream_failed(c, 504, "timed out connecting to the upstream");
		break;
	case CONN_WAIT_UP:
		if (c->head)
			c->head->owner = NULL;
		c->head = NULL;
		upstream_failed(c, 504, "timed out connecting to the upstream");
		break;
	case CONN_RESOLVE:
		snprintf(why, sizeof(why), "looking up %s took too long (is the %s DNS answering?)",
			 c->via != CONN_VIA_DIRECT ? "the upstream proxy's name" : c->uhost,
			 c->w->ns.root >= 0 ? "container's" : "host's");
		upstream_failed(c, 504, why);
		break;
	case CONN_UP_PROXY:
		snprintf(why, sizeof(why), "the upstream proxy %s did not answer in time",
			 upchain_name(conn_cfg(c)->upchain));
		upstream_failed(c, 504, why);
		break;
	case CONN_UP_TLS:
		upstream_failed(c, 504, "timed out connecting to the upstream");
		break;
	case CONN_EXCHANGE:
		if (c->resp_read == CONN_RESP_NO_HEAD && !c->req_done && c->uout.len == 0) {
			/* Everything the client sent is out: it is the one that stopped. */
			exchange_request_timeout(
			    c, "the request body stalled: the client sent nothing "
			       "more in time");
			break;
		}
		if (c->resp_read == CONN_RESP_NO_HEAD) {
			upstream_failed(c, 504,
					c->req_done
					    ? "the upstream did not answer in time"
					    : "the upstream stopped reading the request body");
			break;
		}
		log_info("%s %s from %s: the response stalled (nothing either way for %u s); "
			 "closing",
			 c->method, c->url, c->who, conn_cfg(c)->idle_timeout_ms / 1000);
		conn_close(c, "idle too long");
		return;
	case CONN_DECIDE:
		/* The policy's own timeouts come first; this one guards against losing the answer. */
		decide_cancel(c);
		c->verdict = VERDICT_DENY;
		c->verdict_by = policy_asks_person(conn_cfg(c)->policy) ? CONN_DECIDED_BY_PERSON
									: CONN_DECIDED_BY_PROGRAM;
		snprintf(c->verdict_text, sizeof(c->verdict_text),
			 "no second opinion arrived in time");
		c->n_requests--;
		conn_set_state(c, CONN_HEAD);
		conn_set_deadline(c, conn_cfg(c)->header_timeout_ms);
		conn_run(c);
		return;
	case CONN_HEAD:
		if (c->cin.len > 0) {
			/* No request yet: not the one before it on this connection, either. */
			c->method[0] = c->url[0] = '\0';
			snprintf(why, sizeof(why),
				 "the request head did not arrive in time (%u s allowed)",
				 conn_cfg(c)->header_timeout_ms / 1000);
			exchange_request_timeout(c, why);
			break;
		}
		if (c->idle_end && util_now_ms() < c->idle_end) {
			conn_trim(c);
			c->deadline = c->idle_end;
			return;
		}
		conn_close(c, "idle");
		return;
	case CONN_SNIFF:
		if (util_now_ms() < c->sniff_deadline) {
			if (c->sniffed == CONN_SNIFFED_TOO_FEW) {
				c->sniffed = CONN_SNIFFED_BYTES;
				c->deadline = c->sniff_deadline;
			} else if (c->stream_rule && c->sniffed == CONN_SNIFFED_NOTHING) {
				/* Silent: a protocol whose server speaks first. */
				decide_start_stream(c, c->dname, c->dport, c->stream_rule, true,
						    CONN_STREAM_TCP);
			} else if (c->sniffed == CONN_SNIFFED_NOTHING && c->dport != 80 &&
				   c->dport != 443 &&
				   decide_dry_run_stream(
				       c, "it sent nothing (waiting for the server to "
					  "speak first?)")) {
				/* spliced, as a stream rule would have it */
			} else if (c->sniffed == CONN_SNIFFED_NOTHING && !c->silent_hint &&
				   c->dport != 80 && c->dport != 443) {
				/*
				 * Said now, not when the client gives up; it may still speak. Not on
				 * the web's ports, where clients open connections ahead of need.
				 */
				c->silent_hint = true;
				c->deadline = c->sniff_deadline;
				log_warn(
				    "%s has sent nothing to %s port %u for %u ms: if it waits for "
				    "the server to speak first (ssh, SMTP, a database), it needs "
				    "--allow \"domain=%s port=%u\"",
				    c->who, c->dname, c->dport, SERVER_FIRST_MS, c->dname,
				    c->dport);
			} else {
				c->deadline = c->sniff_deadline;
			}
			if (c->state != CONN_DEAD)
				conn_run(c);
			return;
		}
		if (c->silent_hint) {
			decide_refuse_stream(
			    c, "it sent nothing in time (waiting for the server to speak "
			       "first?)");
			return;
		}
		log_info("%s (to %s): %s in %u s; closing", c->who, c->orig_str,
			 c->sniffed != CONN_SNIFFED_NOTHING ? "no whole request head arrived"
							    : "nothing arrived",
			 conn_cfg(c)->header_timeout_ms / 1000);
		conn_close(c, "nothing arrived in time");
		return;
	default:
		log_info("%s (to %s): timed out in state %s; closing", c->who, c->orig_str,
			 state_name(c->state));
		conn_close(c, "timed out");
		return;
	}
	if (c->state != CONN_DEAD) {
		conn_set_deadline(c, 5000);
		conn_run(c);
	}
}

struct conn *conn_new(struct worker *w, int fd, enum proxy_listener_kind kind)
{
	struct conn *c = conn_alloc(w, fd, kind);
	const struct proxy *p = w->p;

	if (!c)
		return NULL;
	http1_chunked_init(&c->req_chunk);
	http1_chunked_init(&c->resp_chunk);
	snprintf(c->who, sizeof(c->who), "a client");
	snprintf(c->orig_str, sizeof(c->orig_str), "-");
	if (kind == PROXY_JAIL &&
	    (!p->cfg.orig || p->cfg.orig(p->cfg.orig_arg, fd, &c->orig) < 0 || c->orig.direct)) {
		if (p->cfg.jail_only && !c->orig.direct) {
			/* Nothing allocated yet but c itself; the caller closes fd. */
			log_info("refused a connection no jailed process made: the listener is on "
				 "the host's loopback, where any process can dial it");
			free(c);
			return NULL;
		}
		/*
		 * No record: the client dialled the listener itself (127.0.0.1:PORT inside the
		 * jail, where loopback is not redirected), as a program told HTTP_PROXY does. It is
		 * served as an explicit proxy client, under the same rules.
		 */
		c->kind = kind = PROXY_EXPLICIT;
		snprintf(c->who, sizeof(c->who), "an explicit proxy client");
	}
	if (kind == PROXY_EXPLICIT && util_peer_str(fd, c->client, sizeof(c->client)) == 0)
		snprintf(c->who, sizeof(c->who), "%s", c->client);
	/* The jail's own process, dialling the listener as its HTTP proxy: named like any. */
	if (c->orig.direct)
		snprintf(c->who, sizeof(c->who), "%s[%u]", c->orig.comm, c->orig.pid);
	if (kind == PROXY_JAIL) {
		c->have_orig = true;
		snprintf(c->who, sizeof(c->who), "%s[%u]", c->orig.comm, c->orig.pid);
		if (util_addr_str((const struct sockaddr *)&c->orig.dst, true, c->orig_str,
				  sizeof(c->orig_str)) < 0)
			snprintf(c->orig_str, sizeof(c->orig_str), "-");
	}
	conn_link(c);
	log_debug("%s connected (to %s)", c->who, c->orig_str);
	if (kind == PROXY_JAIL)
		dialled_name(c);
	conn_sniff_begin(c);
	conn_run(c);
	return c;
}

void conn_kick(struct conn *c)
{
	struct worker *w = c->w;

	if (c->kicked || c->state == CONN_DEAD)
		return;
	c->kicked = true;
	c->kick_next = NULL;
	if (w->kick_tail)
		w->kick_tail->kick_next = c;
	else
		w->kicked = c;
	w->kick_tail = c;
}

void conn_run_kicked(struct worker *w)
{
	struct conn *c, **pp;
	unsigned n = 0;

	/*
	 * First kicked, first run, and KICK_TURN at most: a pipeline that keeps kicking (a
	 * stream's answer, the client's next request on loopback, ...) must not keep the worker
	 * from the sockets that only epoll reports (another session's answers).
	 */
	while ((c = w->kicked) && n++ < KICK_TURN) {
		w->kicked = c->kick_next;
		if (!w->kicked)
			w->kick_tail = NULL;
		c->kicked = false;
		c->kick_next = NULL;
		if (c->state != CONN_DEAD)
			conn_run(c);
	}
	/* What waits for the next turn: never one that closed meanwhile (it is freed). */
	w->kick_tail = NULL;
	for (pp = &w->kicked; (c = *pp);) {
		if (c->state == CONN_DEAD) {
			*pp = c->kick_next;
			c->kicked = false;
		} else {
			w->kick_tail = c;
			pp = &c->kick_next;
		}
	}
}

void conn_close(struct conn *c, const char *reason)
{
	struct worker *w = c->w;

	if (c->state == CONN_DEAD)
		return;
	log_debug("%s: closed: %s", c->who, reason);
	if (c->audit_open) {
		c->audit_open = false;
		decide_audit(c, "end", "allow", NULL, reason,
			     c->resp_read != CONN_RESP_NO_HEAD ? c->resp.status : 0);
	}
	resolve_cancel(c->job);
	c->job = NULL;
	decide_cancel(c);
	if (c->head) /* a head start outlives its client: it goes to the pool */
		c->head->owner = NULL;
	if (c->owner)
		c->owner->head = NULL;
	c->head = c->owner = NULL;
	/* Between requests the upstream connection is idle: another client may use it. */
	if ((c->state == CONN_HEAD || c->state == CONN_DECIDE) && c->ux.fd >= 0 && c->up_key[0])
		upstream_pool_put(c);
	if (c->h2)
		h2_closing(c);
	xport_close(&c->cx);
	xport_close(&c->ux);
	upstream_close_alt(c);
	if (c->prev)
		c->prev->next = c->next;
	else
		w->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	conn_set_state(c, CONN_DEAD);
	c->next = w->dead;
	c->prev = NULL;
	w->dead = c;
}

void conn_free(struct conn *c)
{
	secretx_end(c);
	buf_fini(&c->cin);
	buf_fini(&c->cout);
	buf_fini(&c->uin);
	buf_fini(&c->uout);
	free(c->path);
	free(c->retry_head);
	resolve_free(c->ai);
	ruleset_unref(c->rs);
	free(c);
}
