/* SPDX-License-Identifier: MIT */
/*
 * internal.h: what proxy.c (workers, loop, resolver) and conn.c (one connection's state
 * machine) share. Private to proxy/.
 */
#ifndef BOUNDARY_PROXY_INTERNAL_H
#define BOUNDARY_PROXY_INTERNAL_H

#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "proxy/buf.h"
#include "proxy/http1.h"
#include "proxy/policy.h"
#include "proxy/proxy.h"
#include "proxy/xport.h"

#define PROXY_MAX_LISTENERS 8
#define CONN_MAX_HEAD	    (64 * 1024)
#define CONN_MAX_HEADERS    100
#define CONN_BUF	    (64 * 1024)
#define CONN_OUT_BUF	    (80 * 1024) /* a head of CONN_MAX_HEAD plus what we add */

struct worker;
struct conn;

/* What an epoll event points at. */
enum evsrc_kind { EV_LISTENER, EV_WAKE, EV_CLIENT, EV_UPSTREAM, EV_UPSTREAM_ALT };

struct evsrc {
	enum evsrc_kind kind;
	void *ptr;
};

struct listener {
	int fd;
	enum proxy_listener_kind kind;
	struct evsrc ev;
};

/* One name lookup, handed to the resolver threads and back to the worker that asked. */
struct resolve_job {
	struct resolve_job *next;
	struct worker *w;
	struct conn *c; /* NULL once the connection gave up on it (worker thread only) */
	char host[256];
	char port[8];
	struct addrinfo *res;
	int gai_err;
};

/*
 * One question to the policy service (a rules program or the person at the terminal) about a
 * request the rules refused, handed back to the worker that asked through its eventfd.
 */
struct decide_job {
	struct policy_job pj; /* first: done() gets &pj */
	struct decide_job *next;
	struct worker *w;
	struct conn *c; /* NULL once the connection gave up on it (worker thread only) */
};

/* An idle upstream connection, kept for the next request to the same origin from any client. */
struct idle_up {
	struct idle_up *next;
	char key[300]; /* "https://host:port" */
	struct xport x;
	uint64_t since; /* ms */
	bool host_own;	/* it reaches an address of this host: not for a wildcard rule's request */
};

#define POOL_MAX	  64	/* idle upstream connections per worker */
#define SERVER_FIRST_MS	  500	/* a silent client under a stream rule: the server speaks first */
#define SNIFF_PEEK	  16384 /* the most of a ClientHello peeked at for its server name */
#define POOL_IDLE_MS	  30000 /* closed after this long unused */
#define HAPPY_EYEBALLS_MS 250	/* RFC 8305's connection attempt delay */
#define IDLE_TRIM_MS	  1000	/* a keep-alive connection idle this long gives its buffers back */
#define MAX_ADDRS	  16
#define ACCEPT_PAUSE_MS	  100	/* out of file descriptors: accept() rests this long */
#define EMFILE_LOG_MS	  10000 /* ... and says so at most this often */

struct worker {
	struct proxy *p;
	pthread_t thread;
	int ep;
	int wake; /* eventfd: finished lookups, or stop */
	struct evsrc wake_ev;
	struct listener lst[PROXY_MAX_LISTENERS];
	pthread_mutex_t lock; /* guards done */
	struct resolve_job *done;
	struct decide_job *decided; /* answered policy questions */
	struct conn *conns;	    /* every live connection */
	struct conn *dead;	    /* closed this turn; freed at its end */
	struct idle_up *pool;
	unsigned pool_n;
	unsigned trimmed; /* connections trimmed since the last malloc_trim() */
	/*
	 * Out of file descriptors: the listeners leave this worker's epoll set until then (ms),
	 * or a level-triggered listener with a connection waiting would wake it forever.
	 */
	uint64_t accept_paused_until;
	uint64_t emfile_logged;	  /* when the last "out of file descriptors" line was said */
	unsigned emfile_unlogged; /* pauses since then not said */
	bool emfile_said;	  /* ... and "free again" is still to be said */
	bool stop;
	struct ruleset *rs; /* the rules new decisions use: a reference, refreshed each wakeup */
	unsigned rs_gen;    /* the proxy's rs_gen when rs was taken */
	/*
	 * The parsed header fields of the request or response head being handled. A head is parsed
	 * and acted on within one step of one connection, so one scratch per worker serves all of
	 * them, instead of 6 KiB in every connection, idle ones included.
	 */
	struct http1_header hdr[CONN_MAX_HEADERS], rhdr[CONN_MAX_HEADERS];
};

struct proxy {
	struct proxy_config cfg;
	struct listener lst[PROXY_MAX_LISTENERS];
	size_t n_lst;
	struct worker *w;
	unsigned n_w;
	bool started;
	/* the current rules: rs_lock guards rs; rs_gen counts swaps, so workers notice cheaply */
	pthread_mutex_t rs_lock;
	struct ruleset *rs;
	atomic_uint rs_gen;
	/* the resolver pool */
	pthread_t *rt;	   /* RESOLVER_THREADS_MAX slots */
	unsigned n_rt;	   /* started (grows under rlock, by workers) */
	unsigned r_idle;   /* waiting for a job (under rlock) */
	unsigned r_slots;  /* thread slots handed out, for r_since (under rlock) */
	uint64_t *r_since; /* per thread: when its lookup began, 0 if idle (under rlock) */
	pthread_mutex_t rlock;
	pthread_cond_t rcond;
	struct resolve_job *rq_head, *rq_tail;
	unsigned rq_n; /* jobs in the queue */
	bool rstop;
	bool abandoned; /* resolvers were left in getaddrinfo() at stop: never freed */
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
	CONN_UP_TLS,	  /* upstream TLS handshake */
	CONN_EXCHANGE,	  /* request out, response back, bodies streaming */
	CONN_TUNNEL,	  /* after 101 Switching Protocols: bytes both ways */
	CONN_SPLICE,	  /* a stream rule's connection: bytes both ways, half-closes kept */
	CONN_FLUSH_CLOSE, /* a last response is going out; then close */
	CONN_DEAD,
};

struct conn {
	struct worker *w;
	struct ruleset *rs; /* the rules of its current decision (a reference): see conn_rules() */
	struct conn *next, *prev;
	struct evsrc evc, evu;
	uint32_t ev_c, ev_u; /* the events registered for each side, or WATCH_NONE */
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
	char sni[256];
	/* where the client was going, for stream rules: the name its address stands for (or the
	 * IP literal it dialled, or the CONNECT target), and the port; "" when not known */
	char dname[264];
	uint16_t dport;
	const char *stream_rule; /* a stream rule that allows dname:dport, when HTTP rules do too */
	bool stream_rule_any;	 /* ... and it names no host */
	bool any_host; /* allowed by a rule that names no host: the host's own addresses are shut */
	uint64_t sniff_deadline; /* the first bytes must arrive by then */
	bool sniff_wait;	 /* more bytes are needed to decide; retried on the next tick */
	bool sniff_done;	 /* bytes have arrived: the client is not waiting for the server */
	bool silent_hint; /* a silent client was told which rule a server-first protocol needs */
	bool stream;	  /* spliced untouched under a stream rule */
	const char *stream_kind; /* "tcp" or "tls": for log lines and audit records */
	bool c_eof, u_eof;	 /* a side of a splice has closed its sending half */
	bool c_shut, u_shut;	 /* ... and that was passed on to the other */
	bool in_connect;	 /* inside an explicit CONNECT tunnel */
	char connect_host[256];
	uint16_t connect_port;

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
	bool resp_head_done;
	struct http1_resp resp; /* the same */
	enum http1_body resp_body;
	uint64_t resp_left;
	struct http1_chunked resp_chunk;
	bool resp_done;
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

	uint64_t deadline;   /* ms on CLOCK_MONOTONIC; 0: none */
	uint64_t idle_end;   /* between requests: when the idle timeout closes it */
	unsigned n_requests; /* heads read on this connection */
	/* for the audit record that ends an allowed exchange */
	bool audit_open;     /* a "request" record awaits its "end" */
	uint64_t t_start;    /* when the request was decided, ms */
	uint64_t bytes_up;   /* bytes sent to the upstream for it */
	uint64_t bytes_down; /* bytes sent to the client for it */
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
	char verdict_text[512]; /* the rule (allow) or the reason (deny) */
	const char *verdict_by; /* "program" or "person" */
	const char *decided_by; /* for the audit record: NULL (the rules), "program", "person" */
	bool would_deny;	/* --dry-run let through what the rules refuse */
};

/* proxy.c */
#define WATCH_NONE 0xffffffffu /* the fd is not registered with epoll yet */
int proxy_resolve(struct conn *c, const char *host, uint16_t port);
void proxy_resolve_cancel(struct conn *c);
int proxy_decide(struct conn *c, struct decide_job *j);
void proxy_decide_cancel(struct conn *c);
int worker_watch(struct worker *w, int fd, struct evsrc *ev, uint32_t *cur, uint32_t want);

/* conn.c */
void pool_sweep(struct worker *w, bool all);
struct conn *conn_new(struct worker *w, int fd, enum proxy_listener_kind kind);
void conn_event(struct conn *c, bool upstream, uint32_t events);
void conn_resolved(struct conn *c, struct resolve_job *job);
void conn_decided(struct conn *c, struct decide_job *job);
void conn_timeout(struct conn *c);
void conn_close(struct conn *c, const char *reason);
void conn_free(struct conn *c);

#endif /* BOUNDARY_PROXY_INTERNAL_H */
