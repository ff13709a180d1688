/* SPDX-License-Identifier: MIT */
/*
 * dnsfwd.h: forwarding chosen DNS queries to the host's resolver, for --use-real-dns, with
 * c-ares (the servers of /etc/resolv.conf as boundary sees it, retries, TCP after a truncated
 * answer). It never decides which queries go: the caller does, from the rules. It owns no event
 * loop either: it says which sockets to watch through a callback, and the caller hands their
 * events and its timeouts back. Not thread-safe: one loop drives it.
 */
#ifndef BOUNDARY_PROXY_DNSFWD_H
#define BOUNDARY_PROXY_DNSFWD_H

#include <stdbool.h>
#include <stddef.h>

struct dns_fwd;

/* Watch fd for reading and/or writing; both false: stop watching it (it is being closed). */
typedef void (*dns_fwd_watch_fn)(void *arg, int fd, bool read, bool write);

/*
 * One query's end: ans[0..len) is the resolver's answer exactly as received (its id is
 * c-ares's own, not the query's: the caller puts the client's back), or ans is NULL and err
 * says why there is none ("timed out", ...).
 */
typedef void (*dns_fwd_done_fn)(void *arg, const unsigned char *ans, size_t len, const char *err);

/*
 * Reads the host's resolver configuration and returns a forwarder, or NULL with err filled.
 * servers gets a printable list of the resolvers, for a log line.
 */
struct dns_fwd *dns_fwd_new(dns_fwd_watch_fn watch, void *watch_arg, char *servers,
			    size_t servers_len, char *err, size_t errlen);

/* Ends every pending query (done is called with err "shutting down") and frees f. NULL is fine. */
void dns_fwd_free(struct dns_fwd *f);

/* Sends the query q[0..len) (a whole message, no TCP prefix); done is called exactly once. */
void dns_fwd_send(struct dns_fwd *f, const unsigned char *q, size_t len, dns_fwd_done_fn done,
		  void *arg);

/* After an event on a watched fd (-1 for the side that has none), or a timeout: do the work. */
void dns_fwd_process(struct dns_fwd *f, int read_fd, int write_fd);

/* Milliseconds until dns_fwd_process(f, -1, -1) is due, or -1 when nothing is pending. */
int dns_fwd_timeout_ms(struct dns_fwd *f);

/*
 * The addresses of family (AF_INET: 4 bytes each, AF_INET6: 16) that the answer ans[0..len)
 * gives for its question's name, CNAME chains followed, copied into out[0..max). Returns how
 * many.
 */
size_t dns_fwd_addrs(const unsigned char *ans, size_t len, int family, unsigned char (*out)[16],
		     size_t max);

#endif /* BOUNDARY_PROXY_DNSFWD_H */
