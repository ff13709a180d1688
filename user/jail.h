/* SPDX-License-Identifier: MIT */
/*
 * jail.h: the jail supervisor, the only part of boundary that talks to libbpf and includes the
 * generated skeleton. A jail of its own is an entry in the shared set of bpf/jail.bpf.c on
 * <cgroup2>/boundary (shared.h; loaded and pinned by the first jail, the entry kept if boundary
 * is killed, so the jail stays closed); attach loads the programs for the cgroup it is given.
 * It spawns the command and supervises it until it exits, then takes everything down again.
 */
#ifndef BOUNDARY_USER_JAIL_H
#define BOUNDARY_USER_JAIL_H

#include <stdbool.h>
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
 * Attaches the jail's programs to an existing cgroup (o->attach_cgroup, _container or _unit;
 * see attach.h), with the listeners in its processes' network namespace, and serves until
 * SIGTERM, SIGINT, SIGHUP or SIGQUIT, then detaches, leaving the cgroup and its processes as
 * they were. Killed, it leaves the cgroup closed (pinned). Returns 0 after a clean detach, or
 * 125 if it could not attach (the reason already logged).
 */
int jail_attach(const struct opts *o);

/*
 * Removes what jails left behind when their boundary was killed: kills their processes,
 * unpins their programs, removes their cgroups. Live jails (whose boundary still runs) are left
 * alone. An attachment (boundary attach) is unpinned, its cgroup never touched, when attached is
 * true or its cgroup has no process left; otherwise it keeps that cgroup closed. Returns the
 * number reaped, or -errno.
 */
int jail_reap_stale(bool attached);

/*
 * Opens and loads the embedded BPF object, then unloads it, for a jail's own cgroup and for a
 * parent whose children are jails: proves the kernel accepts the programs in both shapes.
 * Returns 0, or -errno with err filled with a sentence for a person.
 */
int jail_probe(char *err, size_t errlen);

/*
 * Writes the section names of the embedded BPF object's programs ("cgroup/connect4, sockops,
 * ..."), which say their program and attach types, to buf (len bytes, cut to fit), from the
 * object opened but not loaded. Returns 0, or -errno with buf empty.
 */
int jail_prog_sections(char *buf, size_t len);

/*
 * The service that decides what the rules refuse, as o asks: --rules-program, --interactive,
 * --js, --js-file or --sh. NULL with err filled (a --js that does not compile: its line and
 * column).
 */
struct policy;
struct policy *jail_policy_new(const struct opts *o, char *err, size_t errlen);

#endif /* BOUNDARY_USER_JAIL_H */
