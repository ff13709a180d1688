/* SPDX-License-Identifier: MIT */
/*
 * portfwd.h: --port-forward, the way into the jail for a person at the host: a dev server the
 * jailed program listens with on a port of the jail's loopback is reachable from the host's
 * loopback on a port of the user's choosing.
 *
 * boundary listens on 127.0.0.1 and ::1 of the host (its own network namespace) and, for each
 * connection accepted there, connects to 127.0.0.1 (then ::1) of the jail's namespace and copies
 * bytes both ways, half-closes included. It is inbound only: it never connects anywhere but
 * the jail's loopback, and nothing inside the jail can reach its host-side listeners (the
 * jail's loopback is its own). Its thread lives in the jail's namespace and outside the jail's
 * cgroup, so none of the jail's hooks touch its connections. Everything closes with the jail.
 */
#ifndef BOUNDARY_USER_PORTFWD_H
#define BOUNDARY_USER_PORTFWD_H

#include <stddef.h>

struct opts_forwards;
struct portfwd;

/*
 * Opens the host-side listeners of every forward in fw (127.0.0.1:HOST, and [::1]:HOST where
 * the host has ::1) and starts the thread that serves them, connecting into the network
 * namespace netns_fd (borrowed; it must stay open until portfwd_free()). Returns the
 * forwarder, or NULL with err set ("--port-forward 8080:3000: cannot listen on 127.0.0.1:8080:
 * Address already in use ...").
 */
struct portfwd *portfwd_start(const struct opts_forwards *fw, int netns_fd, char *err,
			      size_t errlen);

/* Stops the thread, closes the listeners and every forwarded connection. NULL is fine. */
void portfwd_free(struct portfwd *pf);

#endif /* BOUNDARY_USER_PORTFWD_H */
