/* SPDX-License-Identifier: MIT */
/*
 * util.h: the two small helpers every part of boundary kept writing again: a millisecond clock
 * and an address formatter. Nothing here allocates, locks or logs, so user/ may use them too.
 */
#ifndef BOUNDARY_PROXY_UTIL_H
#define BOUNDARY_PROXY_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Milliseconds on CLOCK_MONOTONIC: for deadlines and durations, never for dates. */
uint64_t util_now_ms(void);

/*
 * Writes sa's address to out (len bytes, NUL-terminated): "ADDR" when with_port is false,
 * else "ADDR:PORT", or "[ADDR]:PORT" for IPv6. Returns 0; -EAFNOSUPPORT when sa is neither
 * AF_INET nor AF_INET6; -ENOSPC when it does not fit (out then holds "").
 */
int util_addr_str(const struct sockaddr *sa, bool with_port, char *out, size_t len);

/* The peer of the socket fd, as util_addr_str() with the port. Returns 0 or -errno. */
int util_peer_str(int fd, char *out, size_t len);

#endif /* BOUNDARY_PROXY_UTIL_H */
