/* SPDX-License-Identifier: MIT */
/*
 * proxy.h: the proxy, as the supervisor (user/) sees it.
 *
 * The proxy serves listening sockets it is handed: "jail" listeners, whose connections were
 * redirected by the jail and whose original destination it asks for through a function it is
 * handed (it never touches BPF), and "explicit" listeners for clients that use it as an HTTP
 * proxy (CONNECT, absolute-form). Each request is decided with rules/ on its own method, Host
 * and path; allowed ones are forwarded to the host named by Host (resolved by the proxy, never
 * the address the client dialled), refused ones answered 403 with an explanation. A connection
 * that a stream rule (port=, no method= or path=) allows is spliced through untouched to the
 * name its synthetic address stands for.
 * Worker threads each run one epoll loop; no thread per connection.
 */
#ifndef BOUNDARY_PROXY_PROXY_H
#define BOUNDARY_PROXY_PROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <openssl/ssl.h>

struct rules;
struct ruleset;
struct proxy;
struct audit;
struct dns_table;
struct policy;
struct secret;
struct upchain;

/* Where a redirected connection was going, and who made it. */
struct proxy_orig {
	struct sockaddr_storage dst;
	uint32_t pid;
	char comm[16]; /* NUL-terminated */
	/*
	 * Not redirected: the client dialled the listener itself, as a program told to use it as
	 * an HTTP proxy does; dst means nothing, pid and comm still name it.
	 */
	bool direct;
	/*
	 * The executable the process ran when it connected, as stat() names files (st_dev,
	 * st_ino), for exe= rules; has_exe false when the jail could not tell.
	 */
	bool has_exe;
	uint64_t exe_dev, exe_ino;
};

/*
 * Finds the original destination of the accepted connection fd. Returns 0, or -errno when
 * there is no record (the proxy then refuses the connection). Called from worker threads.
 */
typedef int (*proxy_orig_fn)(void *arg, int fd, struct proxy_orig *out);

struct proxy_config {
	const struct rules *rules; /* the first rules; borrowed, outlives the proxy */
	struct tls_ctxs *tls;	   /* both sides' TLS contexts, made when first needed; borrowed */
	proxy_orig_fn orig;
	void *orig_arg;
	struct audit *audit;	      /* every decision is recorded here when not NULL; borrowed */
	struct dns_table *dns;	      /* the names of synthetic addresses, or NULL; borrowed */
	struct policy *policy;	      /* asked about requests the rules refuse, or NULL; borrowed */
	bool dry_run;		      /* allow what the rules refuse, recorded as "would_deny" */
	unsigned workers;	      /* 0: one per CPU the process may run on */
	unsigned header_timeout_ms;   /* a request head must arrive within (default 30 s) */
	unsigned idle_timeout_ms;     /* keep-alive idle (default 120 s) */
	unsigned connect_timeout_ms;  /* upstream connect and TLS (default 10 s) */
	unsigned response_timeout_ms; /* upstream silent this long: 504 (default 120 s) */
	/*
	 * A connection to a PROXY_JAIL listener with no original destination is refused, not
	 * served as an explicit proxy client: the listener is on the host's loopback (boundary
	 * attach to a cgroup in the host's namespace), where processes outside the jail reach it.
	 */
	bool jail_only;
	/*
	 * Loop protection: the addresses and ports the proxy itself is reached at from where it
	 * connects (its explicit listeners, a wildcard one as every local address). A request
	 * whose upstream resolves only to these is answered 508 instead of sent back to the proxy.
	 * Borrowed; NULL when n_self is 0.
	 */
	const struct sockaddr_storage *self;
	size_t n_self;
	/*
	 * Called, when not NULL, for each connection accepted on an explicit listener before any
	 * byte is read: a negative return closes it unserved (the function says why). From
	 * worker threads.
	 */
	int (*admit)(void *arg, int fd);
	void *admit_arg;
	/*
	 * Credentials the jail holds only as placeholders (proxy/secret.h): swapped in on allowed
	 * requests to their hosts, swapped back in those hosts' responses, refused anywhere else.
	 * Borrowed; NULL when n_secrets is 0.
	 */
	const struct secret *secrets;
	size_t n_secrets;
	/*
	 * Session correlation, as coder/boundary does it for Coder's AI gateway: an allowed HTTP
	 * request that one of these rules matches (domain and path; any method) goes upstream with
	 * X-Coder-Agent-Firewall-Session-Id: session_id and X-Coder-Agent-Firewall-Sequence-Number:
	 * its sequence number, the client's own fields of those names dropped. NULL: off. Borrowed.
	 */
	const struct rules *inject;
	/*
	 * The run's session id (a UUID), the one the audit records and the Coder agent's batches
	 * carry; NULL when inject is. Borrowed, outlives the proxy.
	 */
	const char *session_id;
	/*
	 * The operator's upstream proxy (upchain.h): every allowed upstream connection but to the
	 * hosts it bypasses goes through it. NULL: none. Borrowed, outlives the proxy.
	 */
	const struct upchain *upchain;
};

enum proxy_listener_kind {
	PROXY_JAIL,	/* redirected by the jail: transparent, original destination known */
	PROXY_EXPLICIT, /* an HTTP proxy port: CONNECT and absolute-form */
};

/* Returns a proxy that serves nothing yet, or NULL with err filled. */
struct proxy *proxy_new(const struct proxy_config *cfg, char *err, size_t errlen);

/*
 * Serves listening socket fd (non-blocking; the proxy does not own it), from now on: before
 * proxy_start, or while it runs (from one thread at a time). Returns 0, or -E2BIG when it
 * serves as many as it can, or -errno.
 */
int proxy_add_listener(struct proxy *p, int fd, enum proxy_listener_kind kind);

/*
 * Stops serving listener fd: under its number an inert descriptor takes the socket's place
 * (the socket itself is closed with it unless the caller holds another descriptor of it), so
 * a worker between its wakeup and its accept() never takes from another socket. The slot
 * stays p's: proxy_replace_listener(p, fd, sock) serves sock there later. Connections it
 * accepted go on. Returns 0, or -errno.
 */
int proxy_retire_listener(struct proxy *p, int fd);

/*
 * Puts listening socket by in the place of listener fd, under the same descriptor number
 * (dup3: fd is never closed meanwhile, so a worker between its wakeup and its accept() takes
 * from one socket or the other, never from a stranger's), and closes by. The old socket's
 * connections already accepted go on. For a jail whose processes moved to another network
 * namespace (an attached container, restarted). Returns 0, or -errno (by is closed then too).
 */
int proxy_replace_listener(struct proxy *p, int fd, int by);

/* Starts the worker threads. Returns 0 or -errno. */
int proxy_start(struct proxy *p);

/*
 * Makes rs the rules of every decision from now on; takes a reference to it (the caller keeps
 * its own). Each worker picks the new set up at its next wakeup; a connection moves to it when
 * it next decides (a new request, or a new connection), so what was decided under the old set,
 * a response still streaming included, finishes under it. Any thread; after proxy_start too.
 */
void proxy_set_rules(struct proxy *p, struct ruleset *rs);

/*
 * From now on, the proxy's upstream side works from network namespace netns (a descriptor of
 * /proc/PID/ns/net; -1: boundary's own) and resolves names under root (the jailed processes'
 * root directory, a descriptor of /proc/PID/root: their /etc/hosts, then the nameservers of
 * their /etc/resolv.conf, asked from netns; -1: the host's getaddrinfo). Its resolver threads
 * and workers join netns before their next lookup or upstream socket; pooled upstream
 * connections are closed. Both are duplicated (the caller keeps its own). For boundary attach
 * to processes in a namespace of their own, at start and when they move to a new one. Any
 * thread, before or after proxy_start. Returns 0 or -errno.
 */
int proxy_set_upstream_ns(struct proxy *p, int netns, int root);

/* Stops the workers, closes every connection. Then proxy_free. */
void proxy_stop(struct proxy *p);
void proxy_free(struct proxy *p);

#endif /* BOUNDARY_PROXY_PROXY_H */
