/* SPDX-License-Identifier: MIT */
/*
 * reload.h: reloading a running jail's rules from its config file, on SIGHUP or when the file
 * changes. The caller's loop polls r->ino (when >= 0) and, when it is readable, asks
 * reload_changed(); on a change or SIGHUP it calls reload_rules().
 */
#ifndef BOUNDARY_USER_RELOAD_H
#define BOUNDARY_USER_RELOAD_H

#include <limits.h>
#include <stdbool.h>
#include <sys/stat.h>

struct opts;
struct proxy;
struct dns_server;

/* What a reload reads, and the watch on its directory that notices the file change. */
struct reload {
	char path[PATH_MAX]; /* the config file; "" when there is none to read */
	const char *base;    /* its last component, within path */
	bool must_exist;     /* named by --config or BOUNDARY_CONFIG */
	int ino;	     /* inotify on its directory, or -1 */
	struct stat seen;    /* the file as last read (through symlinks); st_ino 0 if none */
};

/*
 * Finds o's config file and watches its directory, not the file: editors and tools that
 * replace the file (write a new one, rename it over) would leave a watch on the old inode deaf.
 * A missing directory is no error: r->ino is -1 and only SIGHUP reloads then. reload_fini()
 * closes the watch (and accepts a reload whose ino is -1).
 */
void reload_init(struct reload *r, const struct opts *o);

/* The same for any file: --js-file's. path "" watches nothing. */
void reload_init_path(struct reload *r, const char *path, bool must_exist);
void reload_fini(struct reload *r);

/*
 * Reads the watch's events; true when one was about the config file, or when the file it
 * names is another or has changed since last noted: a symlink to it may have been swapped,
 * as Kubernetes does with a ConfigMap's "..data" link, with no event under its own name.
 */
bool reload_changed(struct reload *r);

/*
 * Compiles the config file's allowlist afresh (plus o's --allow rules, which stay) and hands
 * the new set to proxy and to dns (or NULL); a file that does not load keeps the rules in
 * force. why says what asked ("SIGHUP", "the file changed"); the outcome is logged.
 */
void reload_rules(const struct reload *r, const struct opts *o, struct proxy *proxy,
		  struct dns_server *dns, const char *why);

/*
 * --js-file changed: its new code, once it compiles, replaces the old in policy (the --js
 * engine); a version that does not compile is reported and the old code kept.
 */
struct policy;
void reload_js(const struct reload *r, struct policy *policy);

#endif /* BOUNDARY_USER_RELOAD_H */
