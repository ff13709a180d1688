// SPDX-License-Identifier: MIT
/*
 * util.c: the millisecond clock and the address formatter (util.h). Owns no state; what
 * formats bytes of HTTP or DNS lives with its protocol, not here.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <time.h>

#include "proxy/util.h"

uint64_t util_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int util_addr_str(const struct sockaddr *sa, bool with_port, char *out, size_t len)
{
	const struct sockaddr_in *s4;
	const struct sockaddr_in6 *s6;
	char a[INET6_ADDRSTRLEN];
	int n;

	if (len)
		out[0] = '\0';
	if (sa->sa_family == AF_INET) {
		s4 = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &s4->sin_addr, a, sizeof(a));
		n = with_port ? snprintf(out, len, "%s:%u", a, ntohs(s4->sin_port))
			      : snprintf(out, len, "%s", a);
	} else if (sa->sa_family == AF_INET6) {
		s6 = (const struct sockaddr_in6 *)sa;
		inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a));
		n = with_port ? snprintf(out, len, "[%s]:%u", a, ntohs(s6->sin6_port))
			      : snprintf(out, len, "%s", a);
	} else {
		return -EAFNOSUPPORT;
	}
	if (n < 0 || (size_t)n >= len) {
		if (len)
			out[0] = '\0';
		return -ENOSPC;
	}
	return 0;
}

int util_peer_str(int fd, char *out, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	if (getpeername(fd, (struct sockaddr *)&ss, &sl) == -1)
		return -errno;
	return util_addr_str((const struct sockaddr *)&ss, true, out, len);
}
