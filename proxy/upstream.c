// SPDX-License-Identifier: MIT
/*
 * upstream.c: a connection's upstream side: the lookup's answer ordered (families interleaved,
 * the proxy's own dropped, and each address checked against the rules that decided: ip=, and no
 * internal address for a wildcard rule), the connect
 * with happy eyeballs, the upstream TLS handshake, the per-worker pool of idle upstream
 * connections and head starts (an upstream opened while the client's TLS handshake runs). The
 * lookup threads are resolve.c's; what is sent over the connection is exchange.c's.
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

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "proxy/conn.h"
#include "proxy/h2.h"
#include "proxy/log.h"
#include "proxy/resolve.h"
#include "proxy/tls.h"
#include "proxy/util.h"
#include "rules/rules.h"

static void head_start_done(struct conn *h, int code, const char *why);

/* 502 or 504 for a request that was allowed but could not be served. */
void upstream_failed(struct conn *c, int code, const char *why)
{
	char body[2048], named[768];

	if (c->is_head_start) {
		head_start_done(c, code, why);
		return;
	}
	why = upchain_explain(c, why, named, sizeof(named));
	if (c->stream != CONN_STREAM_NONE) {
		/* Nothing to answer in a protocol we do not speak: the client sees the close. */
		log_warn("%s from %s: %s", c->url, c->who, why);
		conn_close(c, why);
		return;
	}
	log_warn("%s %s from %s: %d: %s", c->method, c->url, c->who, code, why);
	if (c->resp_read == CONN_RESP_NO_HEAD && c->audit_open) {
		c->audit_open = false;
		decide_audit(c, "end", "allow", NULL, why, code);
	}
	snprintf(body, sizeof(body),
		 "boundary could not complete this request: %s\n\n  Request: %s %s\n", why,
		 c->method, c->url);
	if (c->resp_read != CONN_RESP_NO_HEAD) {
		/* The response has begun: nothing can be said any more but closing. */
		conn_close(c, why);
		return;
	}
	xport_close(&c->ux);
	upstream_close_alt(c);
	c->ev_u = LOOP_WATCH_NONE;
	c->up_key[0] = '\0';
	exchange_respond(c, code,
			 code == 504   ? "Gateway Timeout"
			 : code == 403 ? "Forbidden"
			 : code == 508 ? "Loop Detected"
				       : "Bad Gateway",
			 body, true);
}

/* --- the pool of idle upstream connections ------------------------------------------------ */

/* Parks c's upstream connection in the worker's pool, or closes it if the pool is full. */
void upstream_pool_put(struct conn *c)
{
	struct worker *w = c->w;
	struct idle_up *u;

	if (c->ux.fd < 0)
		return;
	/* Bytes already read past the response (read-ahead) would start the next one: not kept. */
	if (w->pool_n >= POOL_MAX || !c->up_key[0] || (c->ux.ssl && SSL_has_pending(c->ux.ssl)) ||
	    !(u = calloc(1, sizeof(*u)))) {
		xport_close(&c->ux);
	} else {
		/* Out of the loop: an idle connection is checked when taken, not watched. */
		if (c->ev_u != LOOP_WATCH_NONE)
			epoll_ctl(w->ep, EPOLL_CTL_DEL, c->ux.fd, NULL);
		snprintf(u->key, sizeof(u->key), "%s", c->up_key);
		u->peer_known = upstream_peer(c->ux.fd, &u->peer) == 0;
		if (c->ux.ssl)
			SSL_free_buffers(
			    c->ux.ssl); /* parked: its record buffers come back on use */
		u->x = c->ux;
		u->since = util_now_ms();
		u->next = w->pool;
		w->pool = u;
		w->pool_n++;
		xport_init(&c->ux);
	}
	c->ev_u = LOOP_WATCH_NONE;
	c->up_key[0] = '\0';
}

/*
 * An upstream that spoke or closed while idle is not reused. TLS 1.3 servers send session
 * tickets after the handshake, which a connection parked straight after it (a head start) has
 * not read yet: those are read, and nothing else may have come.
 */
static bool idle_usable(struct xport *x)
{
	char b;
	int r;

	if (recv(x->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) == -1 && errno == EAGAIN)
		return !(x->ssl && SSL_has_pending(x->ssl));
	if (!x->ssl)
		return false;
	ERR_clear_error();
	r = SSL_peek(x->ssl, &b, 1);
	if (r > 0 || SSL_get_error(x->ssl, r) != SSL_ERROR_WANT_READ)
		return false;
	return recv(x->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) == -1 && errno == EAGAIN &&
	       !SSL_has_pending(x->ssl);
}

/* An idle connection to key that is still open, moved into c; false if there is none. */
static bool pool_take(struct conn *c, const char *key)
{
	struct worker *w = c->w;
	struct idle_up **pp, *u;

	for (pp = &w->pool; (u = *pp);) {
		/* Opened for another request: its address must be one c's rules allow too. */
		if (strcmp(u->key, key) != 0 || !u->peer_known ||
		    !upstream_addr_ok(c, &u->peer, NULL)) {
			pp = &u->next;
			continue;
		}
		*pp = u->next;
		w->pool_n--;
		if (idle_usable(&u->x)) {
			c->ux = u->x;
			c->up_pooled = true;
			c->ev_u = LOOP_WATCH_NONE;
			snprintf(c->up_key, sizeof(c->up_key), "%s", key);
			free(u);
			return true;
		}
		xport_close(&u->x);
		free(u);
	}
	return false;
}

void upstream_pool_sweep(struct worker *w, bool all)
{
	uint64_t now = util_now_ms();
	struct idle_up **pp, *u;

	for (pp = &w->pool; (u = *pp);) {
		if (!all && now - u->since < POOL_IDLE_MS) {
			pp = &u->next;
			continue;
		}
		*pp = u->next;
		w->pool_n--;
		xport_close(&u->x);
		free(u);
	}
}

static bool h2only_known(struct worker *w, const char *key)
{
	uint64_t now = util_now_ms();
	size_t i;

	for (i = 0; i < sizeof(w->h2only) / sizeof(w->h2only[0]); i++)
		if (w->h2only[i].until > now && strcmp(w->h2only[i].key, key) == 0)
			return true;
	return false;
}

/* c's kept request head goes again, on another upstream connection (upstream_start()). */
static void send_again(struct conn *c)
{
	xport_close(&c->ux);
	upstream_close_alt(c);
	c->ev_u = LOOP_WATCH_NONE;
	c->up_key[0] = '\0';
	buf_consume(&c->uin, c->uin.len);
	buf_consume(&c->uout, c->uout.len);
	if (buf_append(&c->uout, c->retry_head, c->retry_len) < 0) {
		upstream_failed(c, 502, "no room to send the request again");
		return;
	}
	c->h2_retried = true;
	c->up_eof = false;
	c->bytes_up = 0;
	upstream_start(c);
}

bool upstream_retry_h2(struct conn *c)
{
	struct worker *w = c->w;
	unsigned i;

	if (!c->retry_head || c->h2_retried || c->ux.pipe)
		return false;
	if (!h2only_known(w, c->up_key)) {
		i = w->h2only_next++ % (sizeof(w->h2only) / sizeof(w->h2only[0]));
		snprintf(w->h2only[i].key, sizeof(w->h2only[i].key), "%s", c->up_key);
		w->h2only[i].until = util_now_ms() + 10 * 60 * 1000;
	}
	log_info("%s %s from %s: %s speaks only HTTP/2: the request goes again, as an HTTP/2 "
		 "stream",
		 c->method, c->url, c->who, c->up_key);
	send_again(c);
	return true;
}

bool upstream_retry_refused(struct conn *c)
{
	if (!c->retry_head || c->h2_retried)
		return false;
	log_debug("%s %s from %s: the HTTP/2 upstream refused the stream unread (GOAWAY): sent "
		  "again",
		  c->method, c->url, c->who);
	send_again(c);
	return true;
}

static bool own_upstream_ok(struct conn *c)
{
	struct sockaddr_storage ss;
	struct rules_addr a;

	if (c->addr_check == ADDR_CHECK_NONE)
		return true;
	/* The peer was asked when this connection was first checked: one getpeername() a socket. */
	return xport_peer(&c->ux, &ss) == 0 && rules_addr_set(&a, &ss) == 0 &&
	       upstream_addr_ok(c, &a, NULL);
}

void upstream_start(struct conn *c)
{
	char key[sizeof(c->up_key)];

	snprintf(key, sizeof(key), "%s://%s:%u", c->up_tls ? "https" : "http", c->uhost, c->uport);
	c->up_pooled = false;
	/* Whether a host goes through the upstream proxy never changes: the key needs no mark. */
	upchain_route(c);
	/* An origin that speaks only HTTP/2 gets HTTP/1.1 clients' requests as streams too. */
	if (!c->cx.pipe && !c->upgrade && h2only_known(c->w, key))
		c->want_h2 = true;
	/* Its own, kept from the last request: if this request's rules allow where it goes. */
	if (c->ux.fd >= 0 && strcmp(key, c->up_key) == 0 && own_upstream_ok(c)) {
		conn_set_state(c, CONN_EXCHANGE);
		conn_set_deadline(c, conn_cfg(c)->response_timeout_ms);
		return;
	}
	upstream_pool_put(c);
	if (c->cx.pipe || c->want_h2) {
		/* An HTTP/2 client's stream: a stream on an HTTP/2 upstream's session, if one has room. */
		snprintf(c->up_key, sizeof(c->up_key), "%s", key);
		if (h2_up_take(c)) {
			conn_set_state(c, CONN_EXCHANGE);
			conn_set_deadline(c, conn_cfg(c)->response_timeout_ms);
			return;
		}
		c->up_key[0] = '\0';
	}
	if (!c->want_h2 && pool_take(c, key)) {
		log_debug("%s: reusing an idle connection to %s", c->who, key);
		conn_set_state(c, CONN_EXCHANGE);
		conn_set_deadline(c, conn_cfg(c)->response_timeout_ms);
		return;
	}
	if (c->head && strcmp(c->head->up_key, key) == 0) {
		log_debug("%s: waiting for the head start to %s", c->who, key);
		conn_set_state(c, CONN_WAIT_UP);
		conn_set_deadline(c, conn_cfg(c)->connect_timeout_ms);
		return;
	}
	snprintf(c->up_key, sizeof(c->up_key), "%s", key);
	if (upstream_resolve(c) < 0) {
		upstream_failed(c, 502, "out of memory");
		return;
	}
	conn_set_state(c, CONN_RESOLVE);
	conn_set_deadline(c, conn_cfg(c)->connect_timeout_ms);
}

/* --- head starts ------------------------------------------------------------------------------ */

/*
 * An intercepted client whose TLS server name (else its dialled name) some rule allows by name,
 * whatever the method and path, gets its upstream connection opened at once, while its own TLS
 * handshake and request are still on their way: the two handshakes overlap instead of following
 * each other. The request is decided as always; the head start carries nothing but the TLS
 * handshake (the name in its SNI), and if the request is refused or goes elsewhere, the
 * connection waits in the pool. No head start for a name only a wildcard rule allows, or none:
 * those are contacted only for an allowed request.
 */
void upstream_head_start(struct conn *c, const char *name, bool h2)
{
	struct worker *w = c->w;
	struct rules_decision ds;
	struct idle_up *u;
	struct conn *h;
	char key[sizeof(c->up_key)];

	if (c->kind != PROXY_JAIL || c->in_connect || !name[0] || name[0] == '[' || c->head ||
	    !c->dport)
		return;
	/* By exe= too: a program the rule is not for gets no connection opened for it. */
	conn_match_host(c, name, strlen(name), c->dport, RULES_REQUESTS, &ds);
	if (!ds.allow || !rules_names_host(conn_rules(c), ds.rule))
		return;
	snprintf(key, sizeof(key), "https://%s:%u", name, c->dport);
	for (u = w->pool; u; u = u->next)
		if (strcmp(u->key, key) == 0)
			return; /* one is waiting already */
	h = conn_alloc(w, -1, c->kind);
	if (!h)
		return;
	h->is_head_start = true;
	h->up_tls = true;
	/* A client that offers h2 gets it: its streams want an upstream that speaks it too. */
	h->want_h2 = h2;
	snprintf(h->uhost, sizeof(h->uhost), "%s", name);
	h->uport = c->dport;
	snprintf(h->up_key, sizeof(h->up_key), "%s", key);
	snprintf(h->who, sizeof(h->who), "%.40s's head start", c->who);
	conn_link(h);
	conn_set_state(h, CONN_RESOLVE);
	h->owner = c;
	c->head = h;
	if (upstream_resolve(h) < 0) {
		conn_close(h, "out of memory");
		return;
	}
	conn_set_deadline(h, conn_cfg(h)->connect_timeout_ms);
	log_debug("%s: opening %s ahead of the request", c->who, key);
}

/* Whether the TLS connection ssl chose h2 by ALPN. */
static bool alpn_h2(SSL *ssl)
{
	const unsigned char *alpn = NULL;
	unsigned int len = 0;

	SSL_get0_alpn_selected(ssl, &alpn, &len);
	return len == 2 && memcmp(alpn, "h2", 2) == 0;
}

/* The head start h is connected (code 0) or failed (code and why as for upstream_failed()). */
static void head_start_done(struct conn *h, int code, const char *why)
{
	struct conn *c = h->owner;
	struct rules_addr peer;

	if (c) {
		c->head = NULL;
		h->owner = NULL;
		if (c->state != CONN_WAIT_UP)
			c = NULL;
	}
	if (code == 0 && h->ux.ssl && alpn_h2(h->ux.ssl)) {
		/* An HTTP/2 upstream: a session, idle until the client's streams come. */
		if (h2_up_park(h) < 0)
			code = 502, why = "out of memory";
		conn_close(h, code ? why : "parked (HTTP/2)");
		if (!c)
			return;
		if (code) {
			upstream_failed(c, code, why);
		} else {
			c->want_h2 = true;
			upstream_start(c);
		}
		conn_run(c);
		return;
	}
	if (code == 0 && c && upstream_peer(h->ux.fd, &peer) == 0 &&
	    upstream_addr_ok(c, &peer, NULL)) {
		/* Its client is waiting for it: handed over, out of the epoll set as h's. */
		if (h->ev_u != LOOP_WATCH_NONE)
			epoll_ctl(h->w->ep, EPOLL_CTL_DEL, h->ux.fd, NULL);
		c->ux = h->ux;
		xport_init(&h->ux);
		c->ev_u = LOOP_WATCH_NONE;
		snprintf(c->up_key, sizeof(c->up_key), "%s", h->up_key);
		conn_close(h, "handed to its client");
		conn_set_state(c, CONN_EXCHANGE);
		conn_set_deadline(c, conn_cfg(c)->response_timeout_ms);
		conn_run(c);
		return;
	}
	if (code == 0)
		upstream_pool_put(h); /* for its client later, or any other */
	else
		log_debug("%s: %s", h->who, why);
	conn_close(h, code ? why : "parked");
	if (!c)
		return;
	if (code)
		upstream_failed(c, code, why);
	else
		upstream_start(c);
	conn_run(c);
}

/* --- connecting ------------------------------------------------------------------------------ */

int upstream_ns_refresh(struct worker *w, char *err, size_t errlen)
{
	int ret = upns_enter(&w->p->ns, &w->ns, err, errlen);

	if (ret == 1) {
		/* Made from where the jailed processes no longer are: no use to them now. */
		upstream_pool_sweep(w, true);
		log_debug("a worker moved to the upstream side's new network namespace");
	}
	return ret < 0 ? ret : 0;
}

/* Starts a connection to the next address into a free slot. Returns 0, or -1 if none is left. */
int upstream_start_attempt(struct conn *c)
{
	struct addrinfo *ai;
	int fd, one = 1;

	/* Each socket is made where the upstream side works from (upns.h): never elsewhere. */
	if (upstream_ns_refresh(c->w, c->connect_err, sizeof(c->connect_err)) < 0) {
		c->next_addr = c->n_addr;
		return -1;
	}
	while (c->next_addr < c->n_addr) {
		ai = c->addr[c->next_addr++];
		fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd == -1) {
			snprintf(c->connect_err, sizeof(c->connect_err), "%s", strerror(errno));
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == -1 && errno != EINPROGRESS) {
			snprintf(c->connect_err, sizeof(c->connect_err), "%s", strerror(errno));
			close(fd);
			continue;
		}
		if (c->ux.fd < 0) {
			c->ux.fd = fd;
			c->ux.drained = c->ux.peer_known = false;
			c->ev_u = LOOP_WATCH_NONE;
		} else {
			c->alt_fd = fd;
			c->ev_a = LOOP_WATCH_NONE;
		}
		return 0;
	}
	return -1;
}

void upstream_close_alt(struct conn *c)
{
	if (c->alt_fd >= 0)
		close(c->alt_fd);
	c->alt_fd = -1;
	c->ev_a = LOOP_WATCH_NONE;
}

/* When the next racing attempt starts, or the whole connect gives up, whichever is first. */
void upstream_connect_deadline(struct conn *c)
{
	uint64_t next = util_now_ms() + HAPPY_EYEBALLS_MS;

	if (c->next_addr < c->n_addr && c->alt_fd < 0 && next < c->connect_deadline)
		c->deadline = next;
	else
		c->deadline = c->connect_deadline;
}

/* Keeps an attempt in flight, or says why none could be made. */
static void try_connect(struct conn *c)
{
	char why[512];
	const char *host = c->uhost;
	uint16_t port = c->uport;

	if (c->ux.fd < 0 && c->alt_fd >= 0) {
		c->ux.fd = c->alt_fd;
		c->ux.drained = c->ux.peer_known = false;
		/* Still registered with epoll: the next watch changes it (MOD), never re-adds it. */
		c->ev_u = c->ev_a;
		c->alt_fd = -1;
		c->ev_a = LOOP_WATCH_NONE;
	}
	if (c->ux.fd < 0 && upstream_start_attempt(c) < 0) {
		upchain_dial(c, &host, &port);
		snprintf(why, sizeof(why), "cannot connect to %s%s port %u: %s",
			 c->via != CONN_VIA_DIRECT ? "the upstream proxy " : "", host, port,
			 c->connect_err[0] ? c->connect_err : "no address");
		upstream_failed(c, 502, why);
		return;
	}
	conn_set_state(c, CONN_CONNECT);
	upstream_connect_deadline(c);
}

int upstream_peer(int fd, struct rules_addr *a)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	if (getpeername(fd, (struct sockaddr *)&ss, &sl) == -1)
		return -1;
	return rules_addr_set(a, &ss);
}

bool upstream_addr_ok(const struct conn *c, const struct rules_addr *a, struct rules_decision *d)
{
	struct rules_decision mine;
	struct rules_request rq;

	if (!d)
		d = &mine;
	switch (c->addr_check) {
	case ADDR_CHECK_NONE:
		return true;
	case ADDR_CHECK_REQUEST:
		rules_request_init(&rq, c->method, c->host, c->path ? c->path : "/",
				   c->path ? c->path_len : 1, c->uport);
		rq.addr = a;
		conn_request_exe(c, &rq);
		rules_match(conn_rules(c), &rq, d);
		return d->allow;
	case ADDR_CHECK_STREAM:
		rules_request_init(&rq, "", c->host, "/", 1, c->uport);
		rq.addr = a;
		conn_request_exe(c, &rq);
		rules_match_host_req(conn_rules(c), &rq, RULES_STREAM, d);
		return d->allow;
	}
	return false;
}

/*
 * The answer's addresses, families alternating (RFC 8305), first family as resolved, each one
 * the rules that decided c allow it to go to (struct rules_request's addr). The first refused
 * goes into *shut, and the decision on it into *d.
 */
static void order_addresses(struct conn *c, struct rules_addr *shut, struct rules_decision *d)
{
	struct addrinfo *ai, *fam[2][MAX_ADDRS];
	struct rules_decision dd;
	struct rules_addr a;
	size_t n[2] = {0, 0}, i, k;
	int first = -1, f;

	shut->family = 0;
	for (ai = c->ai; ai; ai = ai->ai_next) {
		if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
			continue;
		if (rules_addr_set(&a, ai->ai_addr) < 0)
			continue;
		if (!upstream_addr_ok(c, &a, &dd)) {
			if (!shut->family) {
				*shut = a;
				*d = dd;
			}
			continue;
		}
		if (first < 0)
			first = ai->ai_family;
		f = ai->ai_family == first ? 0 : 1;
		if (n[f] < MAX_ADDRS)
			fam[f][n[f]++] = ai;
	}
	c->n_addr = c->next_addr = 0;
	for (i = 0; c->n_addr < MAX_ADDRS && (i < n[0] || i < n[1]); i++)
		for (k = 0; k < 2; k++)
			if (i < n[k] && c->n_addr < MAX_ADDRS)
				c->addr[c->n_addr++] = fam[k][i];
}

/* Every address refused by the rules: a 403 that says which and what would allow it. */
static void addresses_refused(struct conn *c, const struct rules_addr *shut,
			      const struct rules_decision *d)
{
	char why[1024], as[INET6_ADDRSTRLEN], net[INET6_ADDRSTRLEN + 4];

	rules_addr_str(shut, as, sizeof(as));
	snprintf(net, sizeof(net), "%s", as);
	if (d->deny_rule)
		snprintf(why, sizeof(why), "%s is %s, which the deny rule \"%s\" refuses", c->uhost,
			 as, d->raw);
	else if (d->near)
		snprintf(why, sizeof(why),
			 "%s is %s: %s; to reach it, add ip=%s to the rule \"%s\" (or allow the "
			 "host by its exact name)",
			 c->uhost, as, d->reason, net, d->near);
	else
		snprintf(why, sizeof(why), "%s is %s: %s", c->uhost, as, d->reason);
	upstream_failed(c, 403, why);
}

static bool is_self(const struct proxy_config *cfg, const struct sockaddr *sa)
{
	const struct sockaddr_in *a4 = (const struct sockaddr_in *)sa, *b4;
	const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)sa, *b6;
	size_t i;

	for (i = 0; i < cfg->n_self; i++) {
		if (cfg->self[i].ss_family != sa->sa_family)
			continue;
		b4 = (const struct sockaddr_in *)&cfg->self[i];
		b6 = (const struct sockaddr_in6 *)&cfg->self[i];
		if (sa->sa_family == AF_INET && a4->sin_port == b4->sin_port &&
		    a4->sin_addr.s_addr == b4->sin_addr.s_addr)
			return true;
		if (sa->sa_family == AF_INET6 && a6->sin6_port == b6->sin6_port &&
		    memcmp(&a6->sin6_addr, &b6->sin6_addr, 16) == 0)
			return true;
	}
	return false;
}

/*
 * Loop protection: forgets the addresses that are the proxy's own listeners. Returns true when
 * there were some and every one was the proxy's (nothing is left to connect to).
 */
static bool drop_self_addresses(struct conn *c)
{
	const struct proxy_config *cfg = conn_cfg(c);
	size_t i, k = 0;

	if (!cfg->n_self || !c->n_addr)
		return false;
	for (i = 0; i < c->n_addr; i++) {
		if (!is_self(cfg, c->addr[i]->ai_addr))
			c->addr[k++] = c->addr[i];
	}
	c->n_addr = k;
	return k == 0;
}

/* The answer to upstream_resolve(), on c's worker. */
static void resolved(void *arg, struct addrinfo *res, const char *err)
{
	struct conn *c = arg;
	struct rules_decision d = {.allow = false};
	struct rules_addr shut;
	char why[768], as[INET6_ADDRSTRLEN];

	c->job = NULL;
	resolve_free(c->ai);
	c->ai = res;
	if (err) {
		if (c->via != CONN_VIA_DIRECT)
			snprintf(why, sizeof(why), "cannot resolve the upstream proxy's name: %s",
				 err);
		else
			snprintf(why, sizeof(why), "cannot resolve %s: %s", c->uhost, err);
		upstream_failed(c, 502, why);
		conn_run(c);
		return;
	}
	order_addresses(c, &shut, &d);
	if (c->n_addr == 0 && shut.family && conn_cfg(c)->dry_run) {
		/* --dry-run blocks nothing: said, and connected all the same. */
		rules_addr_str(&shut, as, sizeof(as));
		log_warn(
		    "DRY-RUN would refuse %s %s from %s: %s is %s: %s (let through: --dry-run)",
		    c->method[0] ? c->method : "the connection to", c->url, c->who, c->uhost, as,
		    d.reason ? d.reason : "refused");
		c->addr_check = ADDR_CHECK_NONE;
		order_addresses(c, &shut, &d);
	}
	if (c->n_addr == 0 && shut.family) {
		addresses_refused(c, &shut, &d);
		conn_run(c);
		return;
	}
	if (drop_self_addresses(c)) {
		snprintf(why, sizeof(why),
			 "%s port %u is boundary's own proxy: the request would come back to it "
			 "(loop protection)",
			 c->uhost, c->uport);
		upstream_failed(c, 508, why);
		conn_run(c);
		return;
	}
	c->connect_err[0] = '\0';
	c->connect_deadline = util_now_ms() + conn_cfg(c)->connect_timeout_ms;
	try_connect(c);
	conn_run(c);
}

int upstream_resolve(struct conn *c)
{
	const char *host = c->uhost;
	uint16_t port = c->uport;

	/* Through the upstream proxy, its name is looked up: the proxy resolves the destination. */
	upchain_route(c);
	upchain_dial(c, &host, &port);
	c->job = resolve_ask(c->w, host, port, resolved, c);
	return c->job ? 0 : -ENOMEM;
}

/* 1 connected, 0 still connecting, -1 failed (connect_err says why). */
static int attempt_state(struct conn *c, int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(int), sl = sizeof(ss);
	int err = 0;

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err) {
		snprintf(c->connect_err, sizeof(c->connect_err), "%s", strerror(err));
		return -1;
	}
	return getpeername(fd, (struct sockaddr *)&ss, &sl) == 0 ? 1 : 0;
}

bool upstream_step_connect(struct conn *c)
{
	int a = c->ux.fd >= 0 ? attempt_state(c, c->ux.fd) : -1;
	int b = c->alt_fd >= 0 ? attempt_state(c, c->alt_fd) : -1;

	if (a == 1) {
		upstream_close_alt(c);
	} else if (b == 1) {
		/* The racing attempt won: it becomes the connection. */
		close(c->ux.fd);
		c->ux.fd = c->alt_fd;
		c->ux.drained = c->ux.peer_known = false;
		/* Still registered with epoll: the next watch changes it (MOD), never re-adds it. */
		c->ev_u = c->ev_a;
		c->alt_fd = -1;
		c->ev_a = LOOP_WATCH_NONE;
	} else {
		if (a < 0 && c->ux.fd >= 0) {
			close(c->ux.fd);
			c->ux.fd = -1;
			c->ev_u = LOOP_WATCH_NONE;
		}
		if (b < 0 && c->alt_fd >= 0)
			upstream_close_alt(c);
		if (c->ux.fd < 0 && c->alt_fd < 0) {
			/* Both failed at once: the next address now, not after the delay. */
			try_connect(c);
			return c->state != CONN_CONNECT ? true : false;
		}
		if (c->ux.fd < 0 || c->alt_fd < 0)
			try_connect(c);
		return false;
	}
	return c->via != CONN_VIA_DIRECT ? upchain_connected(c) : upstream_connected(c);
}

/* What an upstream TLS session is kept under: the name it was verified for, and the port. */
static void resume_key(const struct conn *c, char *key, size_t len)
{
	snprintf(key, len, "%s:%u", c->uhost, (unsigned)c->uport);
}

bool upstream_connected(struct conn *c)
{
	char key[sizeof(c->up_key)];
	SSL_CTX *ctx;
	SSL *ssl;

	if (c->stream != CONN_STREAM_NONE) {
		log_debug("%s: spliced to %s port %u", c->who, c->uhost, c->uport);
		conn_set_state(c, CONN_SPLICE);
		c->deadline = 0;
		return true;
	}
	if (!c->up_tls) {
		/*
		 * A client that spoke h2c with prior knowledge knew its origin does too; not the
		 * upstream proxy, which reads absolute-form HTTP/1.1.
		 */
		if (c->via != CONN_VIA_ABSOLUTE && (h2_prior_knowledge(c) || c->want_h2) &&
		    h2_up_adopt(c, true) < 0) {
			upstream_failed(c, 502, "out of memory");
			return false;
		}
		conn_set_state(c, CONN_EXCHANGE);
		conn_set_deadline(c, conn_cfg(c)->response_timeout_ms);
		return true;
	}
	ctx = tls_ctxs_client(conn_cfg(c)->tls);
	ssl = ctx ? SSL_new(ctx) : NULL;
	if (!ssl || upchain_tls_stack(c, ssl) < 0) {
		SSL_free(ssl);
		upstream_failed(c, 502, "cannot set up TLS to the upstream");
		return false;
	}
	c->ux.ssl = ssl;
	if (tls_client_prepare(c->ux.ssl, c->uhost) < 0 ||
	    /* An HTTP/2 client's streams go as HTTP/2 where the upstream speaks it. */
	    ((c->cx.pipe || c->want_h2) &&
	     SSL_set_alpn_protos(c->ux.ssl, h2_alpn_up, h2_alpn_up_len) != 0)) {
		upstream_failed(c, 502, "cannot set up TLS to the upstream");
		return false;
	}
	/* Not resuming is no failure: the handshake is a full one. */
	resume_key(c, key, sizeof(key));
	(void)tls_client_resume(c->ux.ssl, key);
	SSL_set_connect_state(c->ux.ssl);
	conn_set_state(c, CONN_UP_TLS);
	return true;
}

bool upstream_step_up_tls(struct conn *c)
{
	char why[256], msg[640];
	int r;

	r = xport_handshake(&c->ux);
	if (r == -EAGAIN)
		return false;
	if (r < 0) {
		tls_client_forget(c->ux.ssl);
		tls_error_string(c->ux.ssl, r, why, sizeof(why));
		snprintf(msg, sizeof(msg), "TLS with %s failed: %s", c->uhost, why);
		upstream_failed(c, 502, msg);
		return false;
	}
	if (c->is_head_start) {
		head_start_done(c, 0, NULL);
		return false;
	}
	if (alpn_h2(c->ux.ssl) && h2_up_adopt(c, false) < 0) {
		upstream_failed(c, 502, "out of memory");
		return false;
	}
	conn_set_state(c, CONN_EXCHANGE);
	conn_set_deadline(c, conn_cfg(c)->response_timeout_ms);
	return true;
}
