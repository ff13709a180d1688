/* SPDX-License-Identifier: MIT */
/*
 * jail.h: the jail supervisor, the only part of boundary that talks to libbpf and includes the
 * generated skeleton. It loads bpf/jail.bpf.c, attaches it to a cgroup of the jail's own, spawns
 * the command in it and supervises it until it exits.
 */
#ifndef BOUNDARY_USER_JAIL_H
#define BOUNDARY_USER_JAIL_H

#include <stddef.h>

struct opts;

/*
 * Runs argv (NULL-terminated, argv[0] looked up in PATH) in a new jail configured by o, and
 * returns the status boundary should exit with: the command's own, 128+N if signal N killed it,
 * 125 if the jail could not be set up (the reason already logged), 126/127 if the command could
 * not be executed / found.
 */
int jail_run(const struct opts *o, char *const argv[]);

/*
 * Opens and loads the embedded BPF object, then unloads it: proves the kernel accepts the
 * programs. Returns 0, or -errno with err filled with a sentence for a person.
 */
int jail_probe(char *err, size_t errlen);

#endif /* BOUNDARY_USER_JAIL_H */
