/* SPDX-License-Identifier: MIT */
/*
 * dnssrv.h: the jail's DNS server: the UDP and TCP listeners the jail's port-53 traffic is
 * redirected to, answered by the responder (dns.h) with synthetic addresses, or, with
 * --use-real-dns, for A and AAAA queries of names the rules allow, by the host's resolver
 * (dnsfwd.h), whose answers' addresses are then tied to the name as synthetic ones are. Every
 * query is a log line and an audit record with the process that sent it. It runs in its
 * caller's epoll loop (the supervisor's main thread): it registers its sockets there and is
 * handed their events back. It knows nothing of BPF: who sent a query is asked of a callback.
 */
#ifndef BOUNDARY_PROXY_DNSSRV_H
#define BOUNDARY_PROXY_DNSSRV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct audit;
struct dns_table;
struct secret;
struct rules;
struct ruleset;
struct dns_server;

/* Who sent a query, as the jail recorded the process. */
struct dns_who {
	uint32_t pid;
	char comm[16]; /* NUL-terminated */
	bool has_exe;  /* the file it runs, as stat() names files: */
	uint64_t exe_dev, exe_ino;
};

/*
 * Who sent from peer (the client's address as the listener sees it) on fd (the UDP listener
 * the datagram came in on, or the accepted TCP connection): fills *out and returns 0, or
 * -errno if unknown.
 */
typedef int (*dns_who_fn)(void *arg, int fd, const struct sockaddr_storage *peer, bool tcp,
			  struct dns_who *out);

struct dns_server_config {
	struct dns_table *table;   /* borrowed */
	const struct rules *rules; /* the first rules; borrowed, outlives the server */
	struct audit *audit;	   /* or NULL */
	bool use_real_dns;
	dns_who_fn who; /* or NULL */
	void *who_arg;
	int udp[2], tcp[2]; /* listening sockets (v4, v6; -1 for none), borrowed, non-blocking */
	/*
	 * A UDP socket of the listeners' namespace (-1: none), borrowed: AAAA queries get an
	 * address only while it can reach ::1 there (dns_table_set_v6).
	 */
	int probe6;
	int ep; /* the epoll instance to register in */
	/*
	 * Credentials the jail holds only as placeholders (secret.h), borrowed for the server's
	 * life (NULL when n_secrets is 0): a query whose name carries one, literally or encoded
	 * (dns_name_secret), is answered NXDOMAIN whatever the rules say, never forwarded, and is
	 * a warning and a "deny" record naming the secret.
	 */
	const struct secret *secrets;
	size_t n_secrets;
};

/*
 * Events for the server carry this bit in their epoll_data.u64; the caller passes every such
 * event to dns_server_event() and must not use the bit for its own.
 */
#define DNS_SERVER_EV (1ULL << 40)

/* Registers the listeners and, for --use-real-dns, reads the host's resolvers. NULL: err. */
struct dns_server *dns_server_new(const struct dns_server_config *cfg, char *err, size_t errlen);

/* One event whose u64 has DNS_SERVER_EV set. */
void dns_server_event(struct dns_server *s, uint64_t u64, uint32_t events);

/* How long the caller's epoll_wait may sleep, in ms (-1: no limit); then dns_server_tick(). */
int dns_server_timeout_ms(struct dns_server *s);
void dns_server_tick(struct dns_server *s);

/*
 * Decides which queries are forwarded (--use-real-dns) by rs from now on; takes a reference.
 * Queries already on their way finish under the rules that sent them.
 */
void dns_server_set_rules(struct dns_server *s, struct ruleset *rs);

/* Listening sockets, at most: the first two the config's, the rest dns_server_add()'s. */
#define DNS_SERVER_SOCKS 130

/*
 * Serves one more pair of listening sockets (either may be -1), borrowed like the config's:
 * those of another network namespace, with probe6 its own (see the config). Returns 0, or -E2BIG when DNS_SERVER_SOCKS are served.
 */
int dns_server_add(struct dns_server *s, int udp, int tcp, int probe6);

/*
 * Stops serving the listening sockets udp and tcp (-1: none); the caller may close them then.
 * Connections they accepted go on.
 */
void dns_server_remove(struct dns_server *s, int udp, int tcp);

/*
 * The caller has put new sockets under the listeners' descriptor numbers (dup3): watches them.
 * Connections and forwards already under way go on.
 */
void dns_server_rewatch(struct dns_server *s);

/* Closes the connections it accepted, ends pending forwards, frees s. NULL is fine. */
void dns_server_free(struct dns_server *s);

#endif /* BOUNDARY_PROXY_DNSSRV_H */
