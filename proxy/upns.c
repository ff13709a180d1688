// SPDX-License-Identifier: MIT
/*
 * upns.c: the upstream side's namespace (upns.h). A namespace is joined per thread (setns with
 * CLONE_NEWNET changes only the caller's), and a socket keeps the namespace it was made in, so
 * listeners made elsewhere keep serving whatever the workers join. The descriptors are u's own
 * duplicates, changed and read under u->lock: a thread that setns's from u->net holds the lock,
 * so the descriptor cannot be closed (and its number reused) under it.
 */
#include "proxy/upns.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int dup_or_none(int fd)
{
	if (fd < 0)
		return -1;
	return fcntl(fd, F_DUPFD_CLOEXEC, 3);
}

int upns_init(struct upns *u, int net, int root)
{
	pthread_mutex_init(&u->lock, NULL);
	u->net = u->root = u->home = -1;
	atomic_init(&u->gen, 0);
	if (net < 0 && root < 0)
		return 0;
	return upns_set(u, net, root);
}

void upns_fini(struct upns *u)
{
	if (u->net >= 0)
		close(u->net);
	if (u->root >= 0)
		close(u->root);
	if (u->home >= 0)
		close(u->home);
	u->net = u->root = u->home = -1;
	pthread_mutex_destroy(&u->lock);
}

int upns_set(struct upns *u, int net, int root)
{
	int n = -1, r = -1, h = -1, ret;

	n = dup_or_none(net);
	r = dup_or_none(root);
	if ((net >= 0 && n < 0) || (root >= 0 && r < 0))
		goto fail;
	/* To come back from a namespace, one must hold the way home: opened before leaving. */
	if (u->home < 0 && net >= 0) {
		h = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
		if (h < 0)
			goto fail;
	}
	pthread_mutex_lock(&u->lock);
	if (h >= 0)
		u->home = h;
	if (u->net >= 0)
		close(u->net);
	if (u->root >= 0)
		close(u->root);
	u->net = n;
	u->root = r;
	atomic_fetch_add_explicit(&u->gen, 1, memory_order_release);
	pthread_mutex_unlock(&u->lock);
	return 0;
fail:
	ret = -errno;
	if (n >= 0)
		close(n);
	if (r >= 0)
		close(r);
	if (h >= 0)
		close(h);
	return ret;
}

void upns_seen_init(struct upns_seen *s)
{
	s->gen = 0;
	s->root = -1;
}

void upns_seen_fini(struct upns_seen *s)
{
	if (s->root >= 0)
		close(s->root);
	s->root = -1;
}

int upns_enter(struct upns *u, struct upns_seen *s, char *err, size_t errlen)
{
	unsigned gen = atomic_load_explicit(&u->gen, memory_order_acquire);
	int to, r = -1, ret = 1;

	if (gen == s->gen)
		return 0;
	pthread_mutex_lock(&u->lock);
	to = u->net >= 0 ? u->net : u->home;
	if (to >= 0 && setns(to, CLONE_NEWNET) == -1) {
		ret = -errno;
		snprintf(err, errlen, "cannot enter the %s network namespace: %s",
			 u->net >= 0 ? "jailed processes'" : "host's", strerror(errno));
		goto out;
	}
	if (u->root >= 0) {
		r = dup_or_none(u->root);
		if (r < 0) {
			ret = -errno;
			snprintf(err, errlen, "cannot keep the jailed processes' root: %s",
				 strerror(errno));
			goto out;
		}
	}
	upns_seen_fini(s);
	s->root = r;
	s->gen = atomic_load_explicit(&u->gen, memory_order_relaxed);
out:
	pthread_mutex_unlock(&u->lock);
	return ret;
}
