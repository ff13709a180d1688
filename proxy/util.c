// SPDX-License-Identifier: MIT
/*
 * util.c: the millisecond clock, the address formatter and the executable's name for people
 * (util.h). Owns no state; what formats bytes of HTTP or DNS lives with its protocol, not here.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

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

void util_exe_str(uint32_t pid, uint64_t dev, uint64_t ino, char *out, size_t len)
{
	char link[64], path[4096];
	struct stat st;
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/%u/exe", pid);
	n = readlink(link, path, sizeof(path) - 1);
	if (n > 0 && (size_t)n < len) {
		path[n] = '\0';
		if (path[0] == '/' && stat(path, &st) == 0 && (uint64_t)st.st_dev == dev &&
		    (uint64_t)st.st_ino == ino) {
			snprintf(out, len, "%s", path);
			return;
		}
	}
	snprintf(out, len, "dev %u:%u inode %llu", major(dev), minor(dev), (unsigned long long)ino);
}
