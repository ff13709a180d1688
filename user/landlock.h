/* SPDX-License-Identifier: MIT */
/*
 * landlock.h: the restriction --jail-type landlock puts on the command, in the command's own
 * process between fork and exec: Landlock (ABI 4 or later, Linux 6.7+) lets it make TCP
 * connections only to one port, the proxy's, on any address; TCP bind, UDP, and every
 * filesystem access stay as they were. From ABI 6 (Linux 6.12) it also may not signal processes
 * outside its domain (boundary) or reach abstract unix sockets made outside it.
 */
#ifndef BOUNDARY_USER_LANDLOCK_H
#define BOUNDARY_USER_LANDLOCK_H

#include <stddef.h>
#include <stdint.h>

/* The lowest Landlock ABI that can restrict TCP connect. */
#define LANDLOCK_ABI_NET 4

/* The running kernel's Landlock ABI version, or -errno (-EOPNOTSUPP: built but disabled). */
int landlock_abi(void);

/*
 * Restricts the calling thread (and whatever it execs) for good: sets no_new_privs, then allows
 * TCP connect only to port. Returns 0, or -errno with err filled with a sentence for a person.
 */
int landlock_restrict_connect(uint16_t port, char *err, size_t errlen);

#endif /* BOUNDARY_USER_LANDLOCK_H */
