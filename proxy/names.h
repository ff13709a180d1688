/* SPDX-License-Identifier: MIT */
/*
 * names.h: a name looked up as a container's processes would look it up, for boundary attach:
 * its /etc/hosts, then the nameservers, search domains and ndots of its /etc/resolv.conf, both
 * read under its root directory (never a path that leads out of it), the nameservers asked with
 * c-ares from whatever network namespace the calling thread is in (the resolver threads join
 * the container's, proxy/upns.h, so its 127.0.0.11 answers). glibc's getaddrinfo is never used
 * for this: inside a container's files, its nsswitch.conf would have glibc load a library of the
 * container's choosing into boundary. Blocking: for the resolver threads. Private to proxy/.
 */
#ifndef BOUNDARY_PROXY_NAMES_H
#define BOUNDARY_PROXY_NAMES_H

#include <stddef.h>
#include <stdint.h>

struct addrinfo;

/*
 * Looks host up under root (a directory descriptor: the container's /). Returns 0 with *res a
 * list of SOCK_STREAM addresses for port (free it with resolve_free()), or -1 with err filled
 * for a person (what was asked where, and what the answer was). IP literals are answered as
 * they are. where names the lookup for err ("the container").
 */
int names_lookup(int root, const char *host, uint16_t port, struct addrinfo **res, char *err,
		 size_t errlen);

#endif /* BOUNDARY_PROXY_NAMES_H */
