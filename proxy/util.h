/* SPDX-License-Identifier: MIT */
/*
 * util.h: the small helpers every part of boundary kept writing again: a millisecond clock, an
 * address formatter, and a process's executable named for people. Nothing here allocates,
 * locks or logs, so user/ may use them too.
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

/*
 * Names for people the executable the jail recorded for process pid (device dev and inode ino,
 * as stat() gives them): its path when /proc/PID/exe still names a file with that device and
 * inode (the pid may be another process's by now, the file renamed), else "dev MAJ:MIN inode
 * N". For records and messages only, never to decide. Writes out (len bytes, NUL-terminated).
 */
void util_exe_str(uint32_t pid, uint64_t dev, uint64_t ino, char *out, size_t len);

#endif /* BOUNDARY_PROXY_UTIL_H */
