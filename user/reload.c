// SPDX-License-Identifier: MIT
/*
 * reload.c: the rules of a running jail or attachment, reloaded from its config file on SIGHUP
 * or when the file changes: the watch that notices (inotify on the file's directory, plus the
 * file's identity, for symlinks swapped under it) and the swap itself, handed to the proxy and
 * the DNS server as one reference-counted rule set. The supervisor's loop (jail.c) owns the
 * watch's descriptor in its epoll set and decides when to call. A file that does not load
 * keeps the rules in force.
 */
#include "user/reload.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "proxy/dnssrv.h"
#include "proxy/jseval.h"
#include "proxy/log.h"
#include "proxy/policy.h"
#include "proxy/proxy.h"
#include "proxy/ruleset.h"
#include "rules/rules.h"
#include "user/config.h"
#include "user/opts.h"

/* Notes what path is now, through symlinks; true if that differs from what was noted before. */
static bool reload_note(struct reload *r)
{
	struct stat st;
	bool changed;

	if (stat(r->path, &st) == -1)
		memset(&st, 0, sizeof(st));
	changed = st.st_ino != r->seen.st_ino || st.st_dev != r->seen.st_dev ||
		  st.st_size != r->seen.st_size || st.st_mtim.tv_sec != r->seen.st_mtim.tv_sec ||
		  st.st_mtim.tv_nsec != r->seen.st_mtim.tv_nsec;
	r->seen = st;
	return changed;
}

void reload_init(struct reload *r, const struct opts *o)
{
	char path[PATH_MAX];

	if (!config_path(o, path, sizeof(path)))
		path[0] = '\0';
	reload_init_path(r, path, o->src[OPTS_CONFIG] != OPTS_SRC_DEFAULT);
}

void reload_init_path(struct reload *r, const char *path, bool must_exist)
{
	char dir[PATH_MAX], *slash;

	r->ino = -1;
	r->base = r->path;
	r->must_exist = must_exist;
	memset(&r->seen, 0, sizeof(r->seen));
	if (!path[0] || strlen(path) >= sizeof(r->path)) {
		r->path[0] = '\0';
		return;
	}
	snprintf(r->path, sizeof(r->path), "%s", path);
	reload_note(r);
	snprintf(dir, sizeof(dir), "%s", r->path);
	slash = strrchr(dir, '/');
	if (!slash) {
		snprintf(dir, sizeof(dir), ".");
	} else {
		r->base = r->path + (slash - dir) + 1;
		if (slash == dir)
			slash[1] = '\0';
		else
			*slash = '\0';
	}
	r->ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (r->ino == -1 ||
	    inotify_add_watch(r->ino, dir, IN_CLOSE_WRITE | IN_MOVED_TO | IN_ONLYDIR) == -1) {
		log_debug("not watching %s for changes (%s): SIGHUP reloads the rules", dir,
			  strerror(errno));
		if (r->ino >= 0)
			close(r->ino);
		r->ino = -1;
	}
}

bool reload_changed(struct reload *r)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *ev;
	bool hit = false;
	ssize_t n;
	size_t off;

	while ((n = read(r->ino, buf, sizeof(buf))) > 0) {
		for (off = 0; off + sizeof(*ev) <= (size_t)n; off += sizeof(*ev) + ev->len) {
			ev = (const struct inotify_event *)(buf + off);
			if (ev->len && strcmp(ev->name, r->base) == 0)
				hit = true;
		}
	}
	return reload_note(r) || hit;
}

void reload_rules(const struct reload *r, const struct opts *o, struct proxy *proxy,
		  struct dns_server *dns, const char *why)
{
	struct rules *rules = NULL;
	struct ruleset *rs;
	char err[1024];
	size_t n_file = 0, n;
	int ret;

	if (!r->path[0]) {
		log_warn("%s: no config file to reload the rules from (--config \"\"); the "
			 "rules stay as they were",
			 why);
		return;
	}
	ret = config_reload_rules(o, r->path, r->must_exist, &rules, &n_file, err, sizeof(err));
	if (ret < 0) {
		log_error("rules not reloaded (%s): %s; the rules in force stay until the file "
			  "is fixed",
			  why, err);
		return;
	}
	n = rules_count(rules);
	rs = ruleset_new(rules);
	if (!rs) {
		rules_free(rules);
		log_error("rules not reloaded (%s): out of memory", why);
		return;
	}
	proxy_set_rules(proxy, rs);
	if (dns)
		dns_server_set_rules(dns, rs);
	ruleset_unref(rs);
	log_info("rules reloaded: %zu rules from %s, %zu from the command line (%s)", n_file,
		 r->path, n - n_file, why);
	if (n == 0)
		log_warn("no allow rules now: every request will be denied");
}

void reload_fini(struct reload *r)
{
	if (r->ino >= 0)
		close(r->ino);
	r->ino = -1;
}

void reload_js(const struct reload *r, struct policy *policy)
{
	char err[1024];
	char *code = jseval_read_file(r->path, err, sizeof(err));

	if (!code) {
		log_warn("%s; the --js rule in force stays", err);
		return;
	}
	if (policy_js_reload(policy, code, err, sizeof(err)) < 0)
		log_warn("--js-file %s changed but does not compile (%s); the --js rule in force "
			 "stays",
			 r->path, err);
	else
		log_info("--js-file %s changed: its new version decides from now on", r->path);
	free(code);
}
