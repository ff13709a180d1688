/* SPDX-License-Identifier: MIT */
/*
 * explicit.h: boundary as an explicit HTTP proxy, with no BPF and no namespaces: the landlock
 * and weak jail types (the command is told of the proxy by HTTP_PROXY and friends; landlock also
 * keeps it from any other TCP connection) and boundary serve (the proxy alone, for clients on
 * other machines or in containers). The same rules, audit records and TLS interception as the
 * BPF jail; what each mode cannot stop is in docs/SECURITY.md.
 */
#ifndef BOUNDARY_USER_EXPLICIT_H
#define BOUNDARY_USER_EXPLICIT_H

struct opts;

/*
 * Runs argv (NULL-terminated, argv[0] looked up in PATH) under o->jail_type landlock or weak and
 * returns the status boundary should exit with, as jail_run() does (125 when the proxy or the
 * restriction could not be set up, the reason logged).
 */
int explicit_run(const struct opts *o, char *const argv[]);

/*
 * boundary serve: listens on o->listen and serves explicit proxy clients until SIGINT, SIGTERM,
 * SIGHUP or SIGQUIT. Returns 0 after a clean stop, or 125 with the reason logged.
 */
int explicit_serve(const struct opts *o);

#endif /* BOUNDARY_USER_EXPLICIT_H */
