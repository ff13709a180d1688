/* SPDX-License-Identifier: MIT */
/*
 * loop.h: what every epoll loop of the proxy shares (the workers' and the supervisor's, which
 * runs the DNS listeners): registering a descriptor for the events it waits for, and the pause
 * of accept() when descriptors run out. It owns no loop and no thread; each caller keeps its
 * own epoll descriptor and its own timers.
 */
#ifndef BOUNDARY_PROXY_LOOP_H
#define BOUNDARY_PROXY_LOOP_H

#include <stdbool.h>
#include <stdint.h>

#define LOOP_WATCH_NONE	     0xffffffffu /* the fd is not registered with epoll yet */
#define LOOP_ACCEPT_PAUSE_MS 100	 /* out of file descriptors: accept() rests this long */
#define LOOP_EMFILE_LOG_MS   10000	 /* ... and says so at most this often */
#define LOOP_TICK_MS	     100	 /* a worker's timers run at least this often */

/*
 * Registers fd with the epoll set ep for the events want, with ptr as its data: added while
 * *cur is LOOP_WATCH_NONE, modified after, and nothing when *cur is want already or fd is
 * negative. *cur holds what is registered. Returns 0 or -errno (epoll_ctl's).
 */
int loop_watch(int ep, int fd, void *ptr, uint32_t *cur, uint32_t want);

/*
 * Out of file descriptors (ours or the system's): the connection stays in the kernel's backlog
 * and the loop stops accepting for a while, so it neither spins on a listener that stays
 * readable nor drops the connection. One per set of listeners, zeroed to start.
 */
struct loop_pause {
	uint64_t until;	 /* accepting rests until then (ms, util_now_ms()); 0: accepting */
	uint64_t said;	 /* when a pause was last said; 0: never */
	unsigned unsaid; /* pauses since then not said */
};

/*
 * accept() failed for want of descriptors at now: accepting rests LOOP_ACCEPT_PAUSE_MS from
 * now. Returns true when this pause is to be said (the first, then at most every
 * LOOP_EMFILE_LOG_MS), with *unsaid the pauses left unsaid since the last one said.
 */
bool loop_pause(struct loop_pause *lp, uint64_t now, unsigned *unsaid);

/* True, once, when a pause has run out by now: the caller watches its listeners again. */
bool loop_pause_over(struct loop_pause *lp, uint64_t now);

#endif /* BOUNDARY_PROXY_LOOP_H */
