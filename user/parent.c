// SPDX-License-Identifier: MIT
/*
 * parent.c: a parent cgroup's children, each a jail of its own (parent.h).
 *
 * A child is noted when its directory appears (inotify on the parent, and a look at the whole
 * directory on every scan, so an event lost to an overflow costs a tick, not a jail). It has no
 * entry in the programs' map until its processes show which network namespace it lives in;
 * then the listeners of that namespace are opened (the host's are the attach's own, opened
 * before the programs were loaded) and its entry made. A child that goes loses its entry, and
 * the last child of a namespace takes its listeners with it. Listener sets live as long as a
 * child in their namespace is served.
 */
#include "user/parent.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "bpf/jail.h"
#include "proxy/dns.h"
#include "proxy/dnssrv.h"
#include "proxy/log.h"
#include "proxy/proxy.h"
#include "proxy/util.h"
#include "user/attach.h"
#include "user/netns.h"

#define MAX_CHILDREN JAIL_MAX_ENTRIES
#define MAX_NETNS    64	   /* listener sets: PROXY_MAX_LISTENERS and DNS_SERVER_SOCKS allow 64 */
#define SLOW_MS	     30000 /* a child with no process this long: said */
/*
 * A child this young is looked at again on every scan, and scans come fast meanwhile: while a
 * runtime starts a container, its first process may still be in the runtime's namespace.
 */
#define YOUNG_MS 3000

/* The listeners in one network namespace other than the host's. */
struct nsl {
	dev_t dev;
	ino_t ino;
	struct netns_listeners l;
	unsigned refs; /* children served through it */
};

struct child {
	uint64_t id;  /* its cgroup id: the entry's key */
	dev_t ns_dev; /* the network namespace it was found in (the host's too) */
	ino_t ns_ino;
	char name[NAME_MAX + 1];
	struct nsl *nsl; /* NULL: not served, or served by the host's listeners (host) */
	bool served;
	bool host;
	bool said; /* "no process yet", said */
	uint64_t since;
};

struct parent {
	char path[PATH_MAX];
	struct parent_hooks h;
	int ino;
	int host_ns; /* boundary's own network namespace, to tell a child's apart */
	struct child *kids;
	size_t n_kids;
	struct nsl *ns[MAX_NETNS];
	size_t n_ns;
	/* the proxy's slots that retired listeners left (inert descriptors), for the next ones */
	int spare[2 * MAX_NETNS];
	size_t n_spare;
};

/*
 * Serves listening socket fd through the proxy: in a slot a retired listener left, when there
 * is one (the proxy's slots are few, and children come and go for as long as a CI runner
 * lives), else a new one. Returns the descriptor it is served under (fd's number, or the
 * slot's), or -1 (fd closed).
 */
static int proxy_serve(struct parent *p, int fd)
{
	int slot;

	if (p->n_spare) {
		slot = p->spare[--p->n_spare];
		return proxy_replace_listener(p->h.proxy, slot, fd) < 0 ? -1 : slot;
	}
	if (proxy_add_listener(p->h.proxy, fd, PROXY_JAIL) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

struct parent *parent_new(const char *path, const struct parent_hooks *h, char *err, size_t errlen)
{
	struct parent *p = calloc(1, sizeof(*p));
	int ret;

	if (!p) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	p->kids = calloc(MAX_CHILDREN, sizeof(*p->kids));
	if (!p->kids) {
		free(p);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	snprintf(p->path, sizeof(p->path), "%s", path);
	p->h = *h;
	p->host_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	p->ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (p->ino == -1 || inotify_add_watch(p->ino, path,
					      IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO |
						  IN_ONLYDIR) == -1) {
		ret = -errno;
		snprintf(err, errlen, "cannot watch %.300s for the cgroups made in it: %s", path,
			 strerror(-ret));
		if (p->ino >= 0)
			close(p->ino);
		free(p->kids);
		free(p);
		return NULL;
	}
	return p;
}

int parent_fd(const struct parent *p)
{
	return p->ino;
}

void parent_set_dns(struct parent *p, struct dns_server *dns)
{
	p->h.dns = dns;
}

/* The listener set of the namespace nsfd (opened on the programs' ports), made if needed. */
static struct nsl *nsl_get(struct parent *p, int nsfd, pid_t member)
{
	struct nsl *n;
	struct stat st;
	char err[512];
	size_t i;
	int ret;

	if (fstat(nsfd, &st) == -1)
		return NULL;
	for (i = 0; i < p->n_ns; i++) {
		if (p->ns[i]->ino == st.st_ino && p->ns[i]->dev == st.st_dev)
			return p->ns[i];
	}
	if (p->n_ns == MAX_NETNS) {
		log_warn("%d network namespaces are served under %s already: pid %d's is not (its "
			 "connections are refused)",
			 MAX_NETNS, p->path, (int)member);
		return NULL;
	}
	n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	n->dev = st.st_dev;
	n->ino = st.st_ino;
	ret = netns_listen_in(nsfd, p->h.proxy_port, p->h.dns_port, &n->l, err, sizeof(err));
	if (ret < 0) {
		log_warn("cannot listen in the network namespace of pid %d, under %s: %s (its "
			 "connections are refused)",
			 (int)member, p->path, err);
		free(n);
		return NULL;
	}
	n->l.proxy4 = proxy_serve(p, n->l.proxy4);
	if (n->l.proxy6 >= 0)
		n->l.proxy6 = proxy_serve(p, n->l.proxy6);
	if (n->l.proxy4 < 0 ||
	    dns_server_add(p->h.dns, n->l.dns_udp4, n->l.dns_tcp4, n->l.probe6) < 0 ||
	    dns_server_add(p->h.dns, n->l.dns_udp6, n->l.dns_tcp6, n->l.probe6) < 0)
		log_warn("cannot serve every listener in the network namespace of pid %d",
			 (int)member);
	p->ns[p->n_ns++] = n;
	return n;
}

/* Closes n's listeners once no child is served through it. */
static void nsl_put(struct parent *p, struct nsl *n)
{
	size_t i;

	if (!n || --n->refs > 0)
		return;
	if (n->l.proxy4 >= 0 && proxy_retire_listener(p->h.proxy, n->l.proxy4) == 0)
		p->spare[p->n_spare++] = n->l.proxy4;
	if (n->l.proxy6 >= 0 && proxy_retire_listener(p->h.proxy, n->l.proxy6) == 0)
		p->spare[p->n_spare++] = n->l.proxy6;
	dns_server_remove(p->h.dns, n->l.dns_udp4, n->l.dns_tcp4);
	dns_server_remove(p->h.dns, n->l.dns_udp6, n->l.dns_tcp6);
	/* The proxy's slots keep the numbers (inert now, spare): only the DNS sockets close. */
	n->l.proxy4 = n->l.proxy6 = -1;
	netns_listeners_close(&n->l);
	for (i = 0; i < p->n_ns && p->ns[i] != n; i++)
		;
	if (i < p->n_ns)
		p->ns[i] = p->ns[--p->n_ns];
	free(n);
}

/*
 * Serves child c once its processes show where it lives, and moves it while young if they
 * turn out to live elsewhere (a runtime's first process enters the container's namespace only
 * after the cgroup is joined).
 */
static void child_serve(struct parent *p, struct child *c)
{
	struct attach_target t;
	struct jail_entry e;
	struct nsl *old;
	struct stat st;
	char err[512];
	bool was;
	int ret;

	memset(&t, 0, sizeof(t));
	if ((size_t)snprintf(t.path, sizeof(t.path), "%.3800s/%s", p->path, c->name) >=
	    sizeof(t.path))
		return;
	ret = attach_refind(p->h.root, &t, NULL, err, sizeof(err));
	if (ret <= 0) {
		if (ret < 0)
			log_warn("%s", err);
		if (!c->said && util_now_ms() - c->since >= SLOW_MS) {
			log_info("%s has no process yet: it reaches nothing until one runs",
				 t.path);
			c->said = true;
		}
		return;
	}
	if (fstat(t.netns_fd >= 0 ? t.netns_fd : p->host_ns, &st) == -1) {
		if (t.netns_fd >= 0)
			close(t.netns_fd);
		return;
	}
	if (c->served && st.st_dev == c->ns_dev && st.st_ino == c->ns_ino) {
		if (t.netns_fd >= 0)
			close(t.netns_fd);
		return; /* where it was */
	}
	memset(&e, 0, sizeof(e));
	old = c->nsl;
	was = c->served;
	c->nsl = NULL;
	c->host = t.netns_fd < 0;
	if (c->host) {
		e.flags = JAIL_CFG_HOST_LOOPBACK;
	} else {
		c->nsl = nsl_get(p, t.netns_fd, t.member);
		close(t.netns_fd);
		if (!c->nsl) {
			c->nsl = old;
			c->since = util_now_ms(); /* tried again on the next scan */
			return;
		}
		c->nsl->refs++;
	}
	if (bpf_map_update_elem(p->h.entries_fd, &c->id, &e, BPF_ANY) != 0) {
		log_warn_errno("cannot make the entry of %s (it reaches nothing)", t.path);
		nsl_put(p, c->nsl);
		c->nsl = old;
		return;
	}
	nsl_put(p, old);
	c->served = true;
	c->ns_dev = st.st_dev;
	c->ns_ino = st.st_ino;
	log_info("%s %s (pid %d, %s): its processes reach the network only through boundary on "
		 "127.0.0.1:%u",
		 was ? "moved" : "jailed", t.path, (int)t.member,
		 c->host ? "in the host's network namespace" : "in a network namespace of its own",
		 p->h.proxy_port);
}

static void child_drop(struct parent *p, size_t i)
{
	struct child *c = &p->kids[i];

	if (c->served) {
		bpf_map_delete_elem(p->h.entries_fd, &c->id);
		nsl_put(p, c->nsl);
		log_info("%s/%s is gone: its entry and its listeners are removed", p->path,
			 c->name);
	}
	p->kids[i] = p->kids[--p->n_kids];
}

void parent_scan(struct parent *p)
{
	char buf[4096], path[PATH_MAX * 2];
	struct dirent *de;
	struct stat st;
	size_t i;
	DIR *d;

	while (read(p->ino, buf, sizeof(buf)) > 0)
		;
	/* Gone, or another cgroup under the same name: the old one's entry goes. */
	for (i = 0; i < p->n_kids;) {
		snprintf(path, sizeof(path), "%s/%s", p->path, p->kids[i].name);
		if (stat(path, &st) == -1 || (uint64_t)st.st_ino != p->kids[i].id)
			child_drop(p, i);
		else
			i++;
	}
	d = opendir(p->path);
	while (d && (de = readdir(d))) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", p->path, de->d_name);
		if (stat(path, &st) == -1)
			continue;
		for (i = 0; i < p->n_kids && p->kids[i].id != (uint64_t)st.st_ino; i++)
			;
		if (i < p->n_kids || p->n_kids == MAX_CHILDREN)
			continue;
		memset(&p->kids[i], 0, sizeof(p->kids[i]));
		p->kids[i].id = (uint64_t)st.st_ino;
		snprintf(p->kids[i].name, sizeof(p->kids[i].name), "%s", de->d_name);
		p->kids[i].since = util_now_ms();
		p->n_kids++;
		log_debug("%s: a new child cgroup, %s", p->path, de->d_name);
	}
	if (d)
		closedir(d);
	for (i = 0; i < p->n_kids; i++) {
		if (!p->kids[i].served || util_now_ms() - p->kids[i].since < YOUNG_MS)
			child_serve(p, &p->kids[i]);
	}
}

bool parent_waiting(const struct parent *p)
{
	size_t i;

	for (i = 0; i < p->n_kids; i++) {
		if (!p->kids[i].served || util_now_ms() - p->kids[i].since < YOUNG_MS)
			return true;
	}
	return false;
}

size_t parent_served(const struct parent *p)
{
	size_t i, n = 0;

	for (i = 0; i < p->n_kids; i++)
		n += p->kids[i].served;
	return n;
}

void parent_free(struct parent *p)
{
	if (!p)
		return;
	while (p->n_kids)
		child_drop(p, p->n_kids - 1);
	/*
	 * The spare slots stay open: the proxy still counts them among its listeners, and a
	 * number closed here could come back as another file under one of them.
	 */
	close(p->ino);
	if (p->host_ns >= 0)
		close(p->host_ns);
	free(p->kids);
	free(p);
}
