// SPDX-License-Identifier: MIT
/*
 * loop.c: epoll registration and the accept() pause (loop.h), written once for the workers'
 * loops (proxy.c, conn.c) and the DNS listeners' (dnssrv.c). What a loop does with its events
 * stays with the loop.
 */
#include <errno.h>
#include <sys/epoll.h>

#include "proxy/loop.h"

int loop_watch(int ep, int fd, void *ptr, uint32_t *cur, uint32_t want)
{
	struct epoll_event e;

	if (fd < 0 || *cur == want)
		return 0;
	e.events = want;
	e.data.ptr = ptr;
	if (epoll_ctl(ep, *cur == LOOP_WATCH_NONE ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd, &e) == -1)
		return -errno;
	*cur = want;
	return 0;
}

bool loop_pause(struct loop_pause *lp, uint64_t now, unsigned *unsaid)
{
	lp->until = now + LOOP_ACCEPT_PAUSE_MS;
	if (lp->said && now - lp->said < LOOP_EMFILE_LOG_MS) {
		lp->unsaid++;
		return false;
	}
	*unsaid = lp->unsaid;
	lp->said = now;
	lp->unsaid = 0;
	return true;
}

bool loop_pause_over(struct loop_pause *lp, uint64_t now)
{
	if (!lp->until || now < lp->until)
		return false;
	lp->until = 0;
	return true;
}
