/* SPDX-License-Identifier: MIT */
/*
 * conn.h: one proxied connection, shared by the four files that run it: conn.c (the record,
 * its states, the event driver, sniff, TLS accept, tunnel, splice), exchange.c (the HTTP/1.1
 * exchange), decide.c (rules, second opinions, refusals, stream rules, audit) and upstream.c
 * (connect, happy eyeballs, upstream TLS, the pool, head starts). proxy.c uses only the last
 * block. Private to proxy/.
 */
#ifndef BOUNDARY_PROXY_CONN_H
#define BOUNDARY_PROXY_CONN_H

#include <netdb.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "proxy/buf.h"
#include "proxy/http1.h"
#include "proxy/internal.h"
#include "proxy/loop.h"
#include "proxy/proxy.h"
#include "proxy/xport.h"
#include "rules/rules.h"

struct rules;
struct h2pipe;
struct h2sess;

#define CONN_MAX_HEAD (64 * 1024)
#define CONN_BUF      (64 * 1024)
#define CONN_OUT_BUF  (80 * 1024) /* a head of CONN_MAX_HEAD plus what we add */

#define POOL_MAX	  64	/* idle upstream connections per worker */
#define SERVER_FIRST_MS	  500	/* a silent client under a stream rule: the server speaks first */
#define SNIFF_PEEK	  16384 /* the most of a ClientHello peeked at for its server name */
#define POOL_IDLE_MS	  30000 /* closed after this long unused */
#define HAPPY_EYEBALLS_MS 250	/* RFC 8305's connection attempt delay */
#define IDLE_TRIM_MS	  1000	/* a keep-alive connection idle this long gives its buffers back */
#define MAX_ADDRS	  16

/* Who let through or refused a request the rules refused: the audit record's "decided_by". */
enum conn_decider {
	CONN_DECIDED_BY_RULES, /* no second opinion: the field is left out */
	CONN_DECIDED_BY_PROGRAM,
	CONN_DECIDED_BY_PERSON,
};

/* A connection spliced (or refused) unread, for log lines and the audit record's "kind". */
enum conn_stream {
	CONN_STREAM_NONE, /* an HTTP connection: not spliced */
	CONN_STREAM_TCP,
	CONN_STREAM_TLS,
};

/* What the sniff has seen of the client's first bytes. */
enum conn_sniffed {
	CONN_SNIFFED_NOTHING, /* the client is silent: it may be waiting for the server */
	CONN_SNIFFED_BYTES,   /* bytes have arrived */
	CONN_SNIFFED_TOO_FEW, /* ... but not enough to decide: looked at again on the next tick */
};

/* One direction of a splice, from the side that sends to the side that receives. */
enum conn_half {
	CONN_HALF_OPEN, /* bytes may still come */
	CONN_HALF_EOF,	/* the sender closed its sending half; what it sent is still going out */
	CONN_HALF_SHUT, /* ... and it is all out: the receiver's sending half was shut too */
};

/* How much of the response to the request being served has come from the upstream. */
enum conn_resp_read {
	CONN_RESP_NO_HEAD,  /* not its whole head yet */
	CONN_RESP_IN_BODY,  /* the head, passed on; its body is streaming */
	CONN_RESP_ALL_READ, /* all of it (what is still in buffers goes out) */
};

/* How the upstream connection goes: straight there, or through the operator's proxy (upchain.h). */
enum conn_via {
	CONN_VIA_DIRECT,   /* to the destination's own address */
	CONN_VIA_CONNECT,  /* through a tunnel the upstream proxy opens (CONNECT host:port) */
	CONN_VIA_ABSOLUTE, /* plain HTTP: absolute-form requests the upstream proxy reads */
};

/* An idle upstream connection, kept for the next request to the same origin from any client. */
struct idle_up {
	struct idle_up *next;
	char key[300]; /* "https://host:port" */
	struct xport x;
	uint64_t since;		/* ms */
	struct rules_addr peer; /* where it goes: checked against each request's rules */
	bool peer_known;
};

enum conn_state {
	CONN_SNIFF,	  /* peeking at the first bytes */
	CONN_TLS_ACCEPT,  /* intercepting: handshake with the client */
	CONN_HEAD,	  /* reading a request head */
	CONN_DISCARD,	  /* a refused request's body is being read and dropped */
	CONN_DECIDE,	  /* the rules refused it: waiting for the rules program or the person */
	CONN_RESOLVE,	  /* waiting for the upstream's addresses */
	CONN_WAIT_UP,	  /* waiting for its head start's upstream connection */
	CONN_CONNECT,	  /* upstream TCP handshake */
	CONN_UP_PROXY,	  /* the upstream proxy's TLS and its answer to CONNECT (upchain.c) */
	CONN_UP_TLS,	  /* upstream TLS handshake */
	CONN_EXCHANGE,	  /* request out, response back, bodies streaming */
	CONN_TUNNEL,	  /* after 101 Switching Protocols: bytes both ways */
	CONN_SPLICE,	  /* a stream rule's connection: bytes both ways, half-closes kept */
	CONN_FLUSH_CLOSE, /* a last response is going out; then close */
	CONN_H2,	  /* a client's HTTP/2 session: its streams are connections of their own */
	CONN_H2_UP,	  /* an upstream's HTTP/2 session, carrying streams of such connections */
	CONN_DEAD,
};

struct conn {
	struct worker *w;
	struct ruleset *rs; /* the rules of its current decision (a reference): see conn_rules() */
	struct conn *next, *prev;
	struct evsrc evc, evu;
	uint32_t ev_c, ev_u; /* the events registered for each side, or LOOP_WATCH_NONE */
	enum conn_state state;
	enum proxy_listener_kind kind;
	struct xport cx, ux;
	struct buf cin, cout, uin, uout;
	struct proxy_orig orig;
	bool have_orig;
	char who[64];	   /* "curl[1234]" (or an explicit client's address) for log lines */
	char client[64];   /* an explicit client's address and port ("" for the jail's) */
	char orig_str[64]; /* the address the client dialled */
	bool client_tls;
	bool client_woke_idle; /* its socket fired in this turn while nothing was to read it */
	char sni[256];
	/* where the client was going, for stream rules: the name its address stands for (or the
	 * IP literal it dialled, or the CONNECT target), and the port; "" when not known */
	char dname[264];
	uint16_t dport;
	const char *stream_rule; /* a stream rule that allows dname:dport, when HTTP rules do too */
	/*
	 * Decided by the rules: each address it may connect to (resolved, pooled, a head start's)
	 * is checked against them again first (upstream_addr_ok()). A request, or a stream.
	 */
	enum { ADDR_CHECK_NONE, ADDR_CHECK_REQUEST, ADDR_CHECK_STREAM } addr_check;
	uint64_t sniff_deadline; /* the first bytes must arrive by then */
	enum conn_sniffed sniffed;
	bool silent_hint; /* a silent client was told which rule a server-first protocol needs */
	enum conn_stream stream; /* spliced untouched under a stream rule (or refused as one) */
	enum conn_half to_up, to_client; /* a splice's two directions */
	bool in_connect;		 /* inside an explicit CONNECT tunnel */
	char connect_host[256];
	uint16_t connect_port;
	/* a plain TCP splice with secrets: bytes at the front of cin scanned and free to go */
	size_t up_clear;

	/* the request being served */
	struct http1_req req; /* its headers are in the worker's scratch, valid during one step */
	char method[32];
	char host[272];	 /* as judged: Host (or the absolute-form authority), or dname:port */
	char uhost[256]; /* the name or address to connect to */
	uint16_t uport;
	bool up_tls;
	char *path; /* normalised; owned */
	size_t path_len;
	char url[1024]; /* for log lines */
	enum http1_body req_body;
	uint64_t req_left;
	struct http1_chunked req_chunk;
	bool req_done;
	bool upgrade;
	bool client_close; /* close the client's connection after this response */
	enum conn_resp_read resp_read;
	struct http1_resp resp; /* the same */
	enum http1_body resp_body;
	uint64_t resp_left;
	struct http1_chunked resp_chunk;
	bool up_eof;

	/* the upstream connection, kept across requests to the same origin */
	char up_key[300];
	struct resolve_job *job;
	struct addrinfo *ai;		  /* the lookup's answer, owned */
	struct addrinfo *addr[MAX_ADDRS]; /* the order to try: families interleaved */
	size_t n_addr, next_addr;
	int alt_fd; /* a second attempt racing the first (happy eyeballs), or -1 */
	struct evsrc eva;
	uint32_t ev_a;
	uint64_t connect_deadline;
	char connect_err[128];
	enum conn_via via; /* set by upchain_route() for each new upstream connection */
	size_t via_sent;   /* bytes of the CONNECT request out */

	uint64_t deadline;   /* ms on CLOCK_MONOTONIC; 0: none */
	uint64_t idle_end;   /* between requests: when the idle timeout closes it */
	unsigned n_requests; /* heads read on this connection */
	/* for the audit record that ends an allowed exchange */
	bool audit_open;     /* a "request" record awaits its "end" */
	uint64_t t_start;    /* when the request was decided, ms */
	uint64_t bytes_up;   /* bytes sent to the upstream for it */
	uint64_t bytes_down; /* bytes sent to the client for it */
	int32_t seq;	     /* its sequence number, taken with its decision; -1: a stream's */
	bool correlate;	     /* it goes to an inject target: the session fields go with it */
	const char *close_reason;

	/*
	 * A head start: an upstream connection opened while the client's TLS handshake runs.
	 * The client holds its head start in head; the head start itself has no client side,
	 * is_head_start set, and owner pointing back (NULL once the client has gone).
	 */
	struct conn *head;
	struct conn *owner;
	bool is_head_start;

	/* a second opinion on a request the rules refused (policy.h, --dry-run) */
	struct decide_job *ask;					    /* the question out, or NULL */
	enum { VERDICT_NONE, VERDICT_ALLOW, VERDICT_DENY } verdict; /* for the head in cin */
	char verdict_text[512];	      /* the rule (allow) or the reason (deny) */
	enum conn_decider verdict_by; /* the program or the person */
	enum conn_decider decided_by; /* for the audit record: of the request being served */
	bool would_deny;	      /* --dry-run let through what the rules refuse */

	/* what the secrets (secret.h) do to the request being served; NULL when none apply */
	struct secretx *sx;

	/*
	 * An HTTP/1.1 request with no body keeps its head as sent (retry_head) until its answer
	 * begins: an upstream that turns out to speak only HTTP/2 gets it again as a stream
	 * (want_h2; h2_retried so only once).
	 */
	char *retry_head;
	size_t retry_len;
	bool want_h2;
	bool h2_retried;
	bool up_pooled; /* ux came from the pool: a close may only mean it went stale */

	/* an HTTP/2 session on this connection's socket (CONN_H2, CONN_H2_UP), or NULL */
	struct h2sess *h2;
	/* to be run after the current event (conn_kick()) */
	bool kicked;
	struct conn *kick_next;

	/*
	 * max_body: the most body bytes the request being served may carry, from the rule that
	 * allowed it (max_body=) or the rules program's answer (max_tx_bytes); 0: no limit. A
	 * Content-Length past it is refused before anything goes upstream; a chunked body (an
	 * HTTP/2 body of no stated length comes chunked too) is read by body_guard ahead of the
	 * body's mover, so the bytes that would pass the limit never go out.
	 */
	uint64_t max_body;
	const char *max_body_rule;	 /* the rule that set it (valid while rs lives), or NULL */
	struct http1_chunked body_guard; /* the chunked body as far as guarded */
	size_t guarded;			 /* bytes at the front of cin body_guard has read */
	uint64_t verdict_max_body;	 /* the rules program's max_tx_bytes with its allow */
	/* the executable's path for people (conn_exe()), "" until first asked for */
	char exe[256];
};

/* What decide_second_opinion() says of a request the rules refused. */
enum opinion { OPINION_DENY, OPINION_ALLOW, OPINION_WAIT };

/* conn.c: the connection */
/* A record with its client side on fd (-1 for none), in CONN_SNIFF, not linked. NULL: ENOMEM. */
struct conn *conn_alloc(struct worker *w, int fd, enum proxy_listener_kind kind);
/* The rules c decides with: the set it took when its current decision began. */
const struct rules *conn_rules(const struct conn *c);
/* The proxy's configuration, as proxy_start() completed it; read-only once workers run. */
static inline const struct proxy_config *conn_cfg(const struct conn *c)
{
	return &c->w->p->cfg;
}
/*
 * exe= rules: the executable of c's process, as the jail recorded it at connect time, put into
 * rq (nothing when unknown: an explicit proxy client's); conn_match_host() is rules_match_host()
 * with it, for every decision on a whole connection.
 */
void conn_request_exe(const struct conn *c, struct rules_request *rq);
void conn_match_host(const struct conn *c, const char *host, size_t len, uint16_t port,
		     enum rules_scope scope, struct rules_decision *d);
/*
 * The executable of c's process for people (audit records, the 403, the rules program): its path
 * when /proc/PID/exe still names a file with the recorded device and inode, else "dev MAJ:MIN
 * inode N"; NULL when the jail recorded none. Never used to decide. Valid while c lives.
 */
const char *conn_exe(struct conn *c);
/* Moves c to its worker's current rules; only where a new decision begins. */
void conn_rules_renew(struct conn *c);
/* The one way a connection's state changes (logged at debug). */
void conn_set_state(struct conn *c, enum conn_state s);
/* Puts c, fresh from conn_alloc(), into its worker's list of live connections. */
void conn_link(struct conn *c);
/* c times out ms from now (conn_timeout()). */
void conn_set_deadline(struct conn *c, unsigned ms);
/* Reads from x into b as far as b's room: > 0 bytes read, 0 would block, < 0 EOF or error. */
ssize_t conn_fill(struct xport *x, struct buf *b);
/* Writes b out to x: as conn_fill(). */
ssize_t conn_flush(struct xport *x, struct buf *b);
/*
 * c is run (conn_run()) once the current event is handled, not now: what a session of HTTP/2
 * changes for a stream (or a stream for its session) is said this way, so neither runs inside
 * the other.
 */
void conn_kick(struct conn *c);
/*
 * Runs the connections kicked, in order, at most KICK_TURN of them; before the worker frees
 * closed ones. The worker polls without waiting while some are left.
 */
#define KICK_TURN 256
void conn_run_kicked(struct worker *w);
/* Starts (again) on the first bytes of a connection: CONN_SNIFF with its deadline. */
void conn_sniff_begin(struct conn *c);
/* Takes every step c can take now, then registers what it waits for. c may be closed after. */
void conn_run(struct conn *c);
/*
 * The only way a connection ends: logs reason, closes and unlinks it; the record is freed
 * (conn_free()) at the end of the loop turn, never inside a callback that still holds c.
 */
void conn_close(struct conn *c, const char *reason);

/* splice.c: a stream rule's splice, the CONN_SPLICE step for conn_run() */
bool splice_step(struct conn *c);

/* exchange.c: the HTTP/1.1 exchange */
/* Queues a response boundary writes itself; close: the client's connection ends after it. */
void exchange_respond(struct conn *c, int code, const char *reason, const char *body, bool close);
/* A 408 for a request that stalled, with why in the log. */
void exchange_request_timeout(struct conn *c, const char *why);
/*
 * The state steps of the exchange, each for conn_run(): true when the connection moved on
 * and the next step may run at once, false when it waits (or is closed).
 */
bool exchange_step_head(struct conn *c);
bool exchange_step_discard(struct conn *c);
bool exchange_step(struct conn *c);

/* decide.c: decisions */
/* One audit record (audit.h) for c's current request or connection. */
void decide_audit(struct conn *c, const char *event, const char *decision, const char *rule,
		  const char *reason, int status);
/* The "end" record of an allowed exchange, with the response status (0: none). */
void decide_audit_end(struct conn *c, int status);
/* A 403 for c's request naming the process, the reason and the --allow that would admit it. */
void decide_refuse(struct conn *c, const char *reason);
/* The same for a request a deny rule refuses: the 403 and the record name the rule. */
void decide_refuse_denied(struct conn *c, const char *rule);
/*
 * The hook for a request the rules refuse; its head is still at the front of cin. Returns
 * OPINION_ALLOW with *rule set, OPINION_DENY with *why set, or OPINION_WAIT (parked in
 * CONN_DECIDE until conn_decided()).
 */
enum opinion decide_second_opinion(struct conn *c, uint16_t port, const char *reason,
				   const char **rule, const char **why);
/* "program" or "person" as audit records and log lines spell them; NULL for the rules. */
const char *decide_by_str(enum conn_decider by);
/* "tcp" or "tls" as audit records ("kind") and URLs spell them; NULL for CONN_STREAM_NONE. */
const char *decide_stream_str(enum conn_stream kind);
/* Splices c to name:port untouched under the stream rule rule (kind: tcp or tls). */
void decide_start_stream(struct conn *c, const char *name, uint16_t port, const char *rule,
			 bool by_rules, enum conn_stream kind);
/*
 * A request body over c->max_body: declared by its Content-Length (nothing of it went upstream:
 * the request's "deny" record and a 413), or, declared 0, grown past it as it came (sent bytes of
 * it went out before the upstream request was cut off: the exchange's "end" record, and a 413
 * only when respond, i.e. no response has begun). Each names the limit and its rule; the 413 also
 * says how to raise it.
 */
void decide_refuse_body(struct conn *c, uint64_t declared, uint64_t sent, bool respond);
/* Closes a connection no stream rule allows, saying what it was (what) and the rule it needs. */
void decide_refuse_stream(struct conn *c, const char *what);
/* Under --dry-run, splices what no rule allows (marked would_deny): true if it did. */
bool decide_dry_run_stream(struct conn *c, const char *what);
/* c no longer waits for its second opinion: the job is freed unread when it comes back. */
void decide_cancel(struct conn *c);
/*
 * Session correlation, for the request head c sends upstream: true if the client's field name
 * is one boundary sets itself on this request (X-Coder-Agent-Firewall-Session-Id or
 * -Sequence-Number, any case) and must be left out.
 */
bool decide_correlate_drop(const struct conn *c, struct slice name);
/*
 * Appends boundary's own two fields (session id, sequence number) to b when c's request goes to
 * an inject target; nothing otherwise. Returns 0, or -E2BIG when b is full.
 */
int decide_correlate_put(const struct conn *c, struct buf *b);
/*
 * The secret (an index into the proxy's) whose placeholder name (a TLS server name, a CONNECT
 * target's host) carries, literally or encoded (secret_find_encoded, as the DNS server looks),
 * or -1.
 */
ssize_t decide_secret_in_name(const struct conn *c, const char *name);
/*
 * Closes c at once, both sides: it was sending secret i's placeholder out: in a stream's bytes
 * to c->host (sni NULL), or in the TLS server name sni (the connection is then named tls://SNI:
 * dport). A warning names the process and the secret, and a "deny" record the reason "secret
 * NAME sent to HOST:PORT".
 */
void decide_refuse_secret(struct conn *c, size_t i, const char *sni);

/* secretx.c: secrets applied to an exchange (secret.h); each needs cfg->n_secrets > 0 */
/*
 * Before the rules: the secret whose placeholder c's request head (len bytes at the front of
 * cin, parsed into c->req, its host in c->uhost) carries to a host it is not bound to, or -1.
 * Looked for literally and through one layer of encoding (secret_find_encoded()); the host
 * name itself may carry none, bound or not (decide_secret_in_name()).
 */
ssize_t secretx_check_head(struct conn *c, size_t len);
/*
 * Refuses c's request for carrying secret i where it may not go: logged, recorded, a 403 and
 * the end of the connection; sent: part of it went out already, so both sides are closed.
 */
void secretx_refuse(struct conn *c, size_t i, bool sent);
/* The request c->req was allowed: what its secrets do to it, in c->sx. 0, or -ENOMEM. */
int secretx_begin(struct conn *c);
/* Frees c->sx (at the end of each request and of the connection). */
void secretx_end(struct conn *c);
/* True while the request must stay in uout: its body is being looked at first. */
bool secretx_hold(struct conn *c);
/* The request target with the bound placeholders replaced, appended to b. */
int secretx_put_target(struct conn *c, struct buf *b);
/* True when a field of the request (or response) is replaced by secretx_put_extra(). */
bool secretx_drop_field(const struct conn *c, struct slice name, bool request);
/* A field line with placeholders replaced (request) or values hidden again (response). */
int secretx_put_field(struct conn *c, struct buf *b, const struct http1_header *h, bool request);
/* A response's reason phrase with the values hidden again, appended to b. */
int secretx_put_reason(struct conn *c, struct buf *b, struct slice reason);
/* The fields the secrets add: header= values, the new framing, Accept-Encoding. */
int secretx_put_extra(struct conn *c, struct buf *b, bool request);
/* The response head r has come: whether its body goes through the secrets. */
void secretx_response_begin(struct conn *c, const struct http1_resp *r);
/* Whether the request (response) body moves through secretx_move_request (_response). */
bool secretx_request_body(const struct conn *c);
bool secretx_response_body(const struct conn *c);
/*
 * Move the next body bytes as move_body() does in exchange.c: > 0 progress, 0 none, -1 broken
 * framing, -EPERM (requests only) a placeholder bound elsewhere: secretx_refused() names it.
 */
ssize_t secretx_move_request(struct conn *c, bool *done);
ssize_t secretx_move_response(struct conn *c, bool *done);
size_t secretx_refused(const struct conn *c);
/*
 * A 101 from a host the request's secrets are bound to: what it sends through the tunnel goes
 * through the engine too (a value becomes the placeholder; a WebSocket frame that held one then
 * arrives broken, and the value never does).
 */
void secretx_tunnel_begin(struct conn *c);
/*
 * Moves what the upstream sent through the tunnel's engine to cout (eof: it has closed; what
 * is held back is let out). Returns whether anything moved, false when the tunnel has no
 * engine; *holding while the engine still holds bytes the client must get before the end.
 */
bool secretx_tunnel_down(struct conn *c, bool eof, bool *holding);

/* upstream.c: the upstream side */
/*
 * c's upstream answered its HTTP/1.1 request as only an HTTP/2 server does (its SETTINGS, or a
 * close after a TLS handshake that chose no protocol): the origin is remembered, and the request
 * goes again as an HTTP/2 stream if it can (true). False: c->retry_head is gone, or it was
 * tried already.
 */
bool upstream_retry_h2(struct conn *c);
/*
 * c's stream was refused unread by an HTTP/2 upstream (REFUSED_STREAM, as a GOAWAY does to the
 * streams past its last): the request goes again on another connection if it can (true).
 */
bool upstream_retry_refused(struct conn *c);
/* The upstream failed: a 502 or 504 (code) saying why, or the end of a head start. */
void upstream_failed(struct conn *c, int code, const char *why);
/*
 * Whether c's rules let it go to address a (see addr_check); d, if not NULL, gets the decision.
 * upstream_peer() fills *a with where the connected socket fd goes: -1 if it cannot say.
 */
bool upstream_addr_ok(const struct conn *c, const struct rules_addr *a, struct rules_decision *d);
int upstream_peer(int fd, struct rules_addr *a);
/* c's idle upstream connection goes to the worker's pool for the next request to its origin. */
void upstream_pool_put(struct conn *c);
/* Gets c an upstream for its request: from the pool, its head start, or a lookup (CONN_RESOLVE). */
void upstream_start(struct conn *c);
/*
 * Opens an upstream to name ahead of c's request, when a rule allows name by name; offering h2
 * by ALPN if the client does (h2), so an HTTP/2 upstream becomes an idle session at once.
 */
void upstream_head_start(struct conn *c, const char *name, bool h2);
/* Starts a connect to the next address in a free slot: 0, or -1 when none is left. */
int upstream_start_attempt(struct conn *c);
/* Closes the second (happy eyeballs) attempt, if any. */
void upstream_close_alt(struct conn *c);
/* The next timeout of a connect: the next attempt's start or the connect timeout. */
void upstream_connect_deadline(struct conn *c);
/* The upstream steps, for conn_run(): as exchange_step_head(). */
bool upstream_step_connect(struct conn *c);
/*
 * Looks c->uhost up (or the upstream proxy's name, when c goes through it); the answer carries
 * c on to its connect. Returns 0, or -ENOMEM.
 */
int upstream_resolve(struct conn *c);
/*
 * c's upstream connection is open, to the destination or (through the upstream proxy) to a
 * tunnel to it: on to the splice, the exchange or TLS with the origin. As the steps.
 */
bool upstream_connected(struct conn *c);
bool upstream_step_up_tls(struct conn *c);

/* upchain.c: a connection's way through the operator's upstream proxy (upchain.h) */
/*
 * Sets c->via for c's destination (c->uhost, c->up_tls, c->stream): direct without a proxy or
 * for a bypassed host. Through the proxy, c->addr_check is cleared: the proxy picks the address.
 */
void upchain_route(struct conn *c);
/* Where c's socket connects: *host and *port left alone when direct, else the proxy's. */
void upchain_dial(const struct conn *c, const char **host, uint16_t *port);
/* why, or in buf why with the upstream proxy named when c goes through it. */
const char *upchain_explain(const struct conn *c, const char *why, char *buf, size_t len);
/* c's socket to the proxy is connected: on to CONN_UP_PROXY (or upstream_connected()). */
bool upchain_connected(struct conn *c);
/* CONN_UP_PROXY's step: TLS to the proxy, CONNECT out, its answer read (2xx, else a 502). */
bool upchain_step(struct conn *c);
/* Absolute-form: "http://host:port" before the path, and Proxy-Authorization; 0 or -E2BIG. */
int upchain_put_origin(const struct conn *c, struct buf *b);
int upchain_put_auth(const struct conn *c, struct buf *b);
/* An absolute-form request the proxy answered 407: a 502 said instead (true). */
bool upchain_refused_response(struct conn *c);
/*
 * Puts ssl, the origin's TLS, on c's upstream socket, or, through an https:// proxy, inside
 * the proxy's TLS (which ssl then owns). 0, or -ENOMEM (ssl is still the caller's).
 */
int upchain_tls_stack(struct conn *c, SSL *ssl);

/* For proxy.c: a new client connection, its events, lookups and answers, timeouts, the pool. */
struct conn *conn_new(struct worker *w, int fd, enum proxy_listener_kind kind);
void conn_event(struct conn *c, bool upstream, uint32_t events);
void conn_decided(struct conn *c, struct decide_job *job);
void conn_timeout(struct conn *c);
void conn_free(struct conn *c);
void upstream_pool_sweep(struct worker *w, bool all);
/*
 * Moves w's thread to where the proxy's upstream side now works from, if that changed (the
 * pool's connections, made from the old place, are closed). Cheap when nothing changed.
 * Returns 0, or -errno with err filled (the thread stays where it was).
 */
int upstream_ns_refresh(struct worker *w, char *err, size_t errlen);

#endif /* BOUNDARY_PROXY_CONN_H */
