/* SPDX-License-Identifier: MIT */
/*
 * netns.h: the jail's network namespace, which holds only lo, and the listening sockets
 * boundary opens inside it before any jailed process exists (or inside an attached cgroup's).
 */
#ifndef BOUNDARY_USER_NETNS_H
#define BOUNDARY_USER_NETNS_H

#include <stddef.h>
#include <stdint.h>

/* The jail-facing sockets, opened inside the jail's namespace; -1 where one could not be. */
struct netns_listeners {
	int proxy4, proxy6; /* TCP 127.0.0.1:proxy_port and [::1]:proxy_port */
	int dns_udp4, dns_udp6, dns_tcp4, dns_tcp6;
	/*
	 * A UDP socket of the namespace, never bound: connecting it to ::1 tells, at each AAAA
	 * query, whether the namespace has IPv6 loopback now (a runtime may turn IPv6 off after
	 * the listeners were opened). -1 if it could not be made.
	 */
	int probe6;
	uint16_t proxy_port, dns_port;
};

/*
 * Creates a network namespace with lo up, opens the listeners in it (on proxy_port, or a free
 * port when 0; the DNS responder always on a free port), and returns to the caller's namespace.
 * Returns the namespace's descriptor (keep it to setns() the jail into it), or -errno with err
 * filled. The calling thread's namespace is the same before and after, even on failure.
 */
int netns_create(uint16_t proxy_port, struct netns_listeners *l, char *err, size_t errlen);

/*
 * Opens the listeners (as netns_create does) in the existing namespace nsfd, bringing its lo up
 * if it is down and adding nothing else, or in the caller's own namespace when nsfd is -1 (an
 * attached cgroup that shares the host's). The DNS responder's port is dns_port, or a free one
 * when 0 (a restarted container's listeners take the ports its programs already send to).
 * Returns 0, or -errno with err filled. The calling thread's namespace is the same before and
 * after, even on failure.
 */
int netns_listen_in(int nsfd, uint16_t proxy_port, uint16_t dns_port, struct netns_listeners *l,
		    char *err, size_t errlen);

/* Closes every listener in l. */
void netns_listeners_close(struct netns_listeners *l);

#endif /* BOUNDARY_USER_NETNS_H */
