// SPDX-License-Identifier: MIT
/*
 * netprobe.c: one socket operation per run, for the jail's tests. Prints one line:
 * "ok" plus what it saw (the peer address as getpeername() shows it), or "err ERRNAME".
 *
 *   netprobe tcp|tfo|uring|mptcp ADDR PORT      connect by plain connect(), TCP Fast Open
 *                                               sendto(MSG_FASTOPEN), io_uring, or MPTCP
 *   netprobe unspec ADDR PORT ADDR2 PORT2       connect, dissolve with AF_UNSPEC, connect again
 *   netprobe many ADDR PORT N                   N connections at once, to PORT..PORT+N-1
 *   netprobe udp ADDR PORT                      unconnected sendto()
 *   netprobe cudp ADDR PORT                     connect() then send()
 *   netprobe socket inet|inet6|packet TYPE PROTO
 *   netprobe bind ADDR PORT
 *   netprobe loop ADDR PORT SECONDS             connect again and again; prints how many got
 *                                               through ("connected") and the last error
 * ADDR is IPv4 or IPv6 (::ffff:a.b.c.d for v4-mapped); the socket's family follows it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/io_uring.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif

static const char *ename(int e)
{
	static char buf[32];

	switch (e) {
	case EPERM: return "EPERM";
	case EACCES: return "EACCES";
	case ECONNREFUSED: return "ECONNREFUSED";
	case ENETUNREACH: return "ENETUNREACH";
	case EHOSTUNREACH: return "EHOSTUNREACH";
	case ETIMEDOUT: return "ETIMEDOUT";
	case EPROTONOSUPPORT: return "EPROTONOSUPPORT";
	case EAFNOSUPPORT: return "EAFNOSUPPORT";
	case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
	case EADDRINUSE: return "EADDRINUSE";
	case EINVAL: return "EINVAL";
	case ESOCKTNOSUPPORT: return "ESOCKTNOSUPPORT";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	}
	snprintf(buf, sizeof(buf), "E%d", e);
	return buf;
}

static int die_err(int e)
{
	printf("err %s\n", ename(e));
	return 1;
}

static socklen_t make_addr(const char *a, const char *port, struct sockaddr_storage *ss)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, a, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((unsigned short)strtoul(port, NULL, 10));
		return sizeof(*sin);
	}
	if (inet_pton(AF_INET6, a, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((unsigned short)strtoul(port, NULL, 10));
		return sizeof(*sin6);
	}
	fprintf(stderr, "netprobe: bad address %s\n", a);
	exit(2);
}

static void print_addr(const char *label, const struct sockaddr_storage *ss)
{
	char a[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;

		inet_ntop(AF_INET, &sin->sin_addr, a, sizeof(a));
		printf("%s=%s:%u", label, a, ntohs(sin->sin_port));
	} else {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;

		inet_ntop(AF_INET6, &sin6->sin6_addr, a, sizeof(a));
		printf("%s=[%s]:%u", label, a, ntohs(sin6->sin6_port));
	}
}

static int report_peer(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getpeername(fd, (struct sockaddr *)&ss, &len) == -1)
		return die_err(errno);
	printf("ok ");
	print_addr("peer", &ss);
	printf("\n");
	return 0;
}

static int do_connect(const char *a, const char *p, int proto)
{
	struct sockaddr_storage ss;
	socklen_t len = make_addr(a, p, &ss);
	int fd = socket(ss.ss_family, SOCK_STREAM, proto);

	if (fd == -1)
		return die_err(errno);
	if (connect(fd, (struct sockaddr *)&ss, len) == -1)
		return die_err(errno);
	return report_peer(fd);
}

static int do_tfo(const char *a, const char *p)
{
	struct sockaddr_storage ss;
	socklen_t len = make_addr(a, p, &ss);
	int fd = socket(ss.ss_family, SOCK_STREAM, 0);

	if (fd == -1)
		return die_err(errno);
	if (sendto(fd, "GET / HTTP/1.0\r\n\r\n", 18, MSG_FASTOPEN, (struct sockaddr *)&ss, len) ==
	    -1)
		return die_err(errno);
	return report_peer(fd);
}

static int do_uring(const char *a, const char *p)
{
	struct io_uring_params par;
	struct sockaddr_storage ss;
	socklen_t len = make_addr(a, p, &ss);
	struct io_uring_sqe *sqes;
	struct io_uring_cqe *cqe;
	unsigned *sq_tail, *sq_array, *cq_head, *cq_tail, *sq_mask;
	char *sq, *cq;
	int ring, fd;

	fd = socket(ss.ss_family, SOCK_STREAM, 0);
	if (fd == -1)
		return die_err(errno);
	memset(&par, 0, sizeof(par));
	ring = (int)syscall(__NR_io_uring_setup, 4, &par);
	if (ring == -1)
		return die_err(errno);
	sq = mmap(NULL, par.sq_off.array + par.sq_entries * sizeof(unsigned), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_POPULATE, ring, IORING_OFF_SQ_RING);
	cq = mmap(NULL, par.cq_off.cqes + par.cq_entries * sizeof(struct io_uring_cqe),
		  PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring, IORING_OFF_CQ_RING);
	sqes = mmap(NULL, par.sq_entries * sizeof(struct io_uring_sqe), PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_POPULATE, ring, IORING_OFF_SQES);
	if (sq == MAP_FAILED || cq == MAP_FAILED || sqes == MAP_FAILED)
		return die_err(errno);
	sq_tail = (unsigned *)(sq + par.sq_off.tail);
	sq_mask = (unsigned *)(sq + par.sq_off.ring_mask);
	sq_array = (unsigned *)(sq + par.sq_off.array);
	cq_head = (unsigned *)(cq + par.cq_off.head);
	cq_tail = (unsigned *)(cq + par.cq_off.tail);
	memset(&sqes[0], 0, sizeof(sqes[0]));
	sqes[0].opcode = IORING_OP_CONNECT;
	sqes[0].fd = fd;
	sqes[0].addr = (unsigned long)&ss;
	sqes[0].off = len;
	sq_array[*sq_tail & *sq_mask] = 0;
	__atomic_store_n(sq_tail, *sq_tail + 1, __ATOMIC_RELEASE);
	if (syscall(__NR_io_uring_enter, ring, 1, 1, IORING_ENTER_GETEVENTS, NULL, 0) == -1)
		return die_err(errno);
	if (__atomic_load_n(cq_tail, __ATOMIC_ACQUIRE) == *cq_head)
		return die_err(EINVAL);
	cqe = (struct io_uring_cqe *)(cq + par.cq_off.cqes) + (*cq_head & (par.cq_entries - 1));
	if (cqe->res < 0)
		return die_err(-cqe->res);
	return report_peer(fd);
}

static int do_unspec(char **argv)
{
	struct sockaddr_storage ss, un;
	socklen_t len = make_addr(argv[0], argv[1], &ss);
	int fd = socket(ss.ss_family, SOCK_STREAM, 0);

	if (fd == -1 || connect(fd, (struct sockaddr *)&ss, len) == -1)
		return die_err(errno);
	memset(&un, 0, sizeof(un));
	un.ss_family = AF_UNSPEC;
	if (connect(fd, (struct sockaddr *)&un, sizeof(un)) == -1)
		return die_err(errno);
	len = make_addr(argv[2], argv[3], &ss);
	if (connect(fd, (struct sockaddr *)&ss, len) == -1)
		return die_err(errno);
	return report_peer(fd);
}

static int do_many(const char *a, const char *p, int n)
{
	struct sockaddr_storage ss;
	socklen_t len;
	struct pollfd *pfd = calloc((size_t)n, sizeof(*pfd));
	int i, ok = 0, base = atoi(p), err;
	char port[16];

	for (i = 0; i < n; i++) {
		snprintf(port, sizeof(port), "%d", base + i);
		len = make_addr(a, port, &ss);
		pfd[i].fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK, 0);
		if (pfd[i].fd == -1)
			return die_err(errno);
		if (connect(pfd[i].fd, (struct sockaddr *)&ss, len) == -1 && errno != EINPROGRESS)
			return die_err(errno);
		pfd[i].events = POLLOUT;
	}
	for (i = 0; i < n; i++) {
		socklen_t el = sizeof(err);

		poll(&pfd[i], 1, 5000);
		if (getsockopt(pfd[i].fd, SOL_SOCKET, SO_ERROR, &err, &el) == 0 && err == 0)
			ok++;
	}
	printf("ok connected=%d of %d\n", ok, n);
	return ok == n ? 0 : 1;
}

static int do_udp(const char *a, const char *p, int connected)
{
	struct sockaddr_storage ss;
	socklen_t len = make_addr(a, p, &ss);
	int fd = socket(ss.ss_family, SOCK_DGRAM, 0);

	if (fd == -1)
		return die_err(errno);
	if (connected) {
		if (connect(fd, (struct sockaddr *)&ss, len) == -1)
			return die_err(errno);
		if (send(fd, "probe", 5, 0) == -1)
			return die_err(errno);
	} else if (sendto(fd, "probe", 5, 0, (struct sockaddr *)&ss, len) == -1) {
		return die_err(errno);
	}
	printf("ok sent\n");
	return 0;
}

static int do_socket(char **argv)
{
	int fam = strcmp(argv[0], "inet6") == 0	   ? AF_INET6
		  : strcmp(argv[0], "packet") == 0 ? AF_PACKET
						   : AF_INET;
	int fd = socket(fam, atoi(argv[1]), atoi(argv[2]));

	if (fd == -1)
		return die_err(errno);
	printf("ok socket\n");
	return 0;
}

static int do_bind(const char *a, const char *p)
{
	struct sockaddr_storage ss;
	socklen_t len = make_addr(a, p, &ss);
	int fd = socket(ss.ss_family, SOCK_STREAM, 0);

	if (fd == -1)
		return die_err(errno);
	if (bind(fd, (struct sockaddr *)&ss, len) == -1)
		return die_err(errno);
	printf("ok bound\n");
	return 0;
}

static int do_loop(const char *a, const char *p, int seconds)
{
	struct sockaddr_storage ss;
	socklen_t len = make_addr(a, p, &ss);
	time_t end = time(NULL) + seconds;
	int fd, connected = 0, last = 0, tries = 0;

	while (time(NULL) < end) {
		fd = socket(ss.ss_family, SOCK_STREAM, 0);
		if (fd == -1) {
			last = errno;
		} else if (connect(fd, (struct sockaddr *)&ss, len) == -1) {
			last = errno;
		} else {
			connected++;
		}
		if (fd >= 0)
			close(fd);
		tries++;
		usleep(20000);
	}
	printf("ok tries=%d connected=%d last=%s\n", tries, connected, last ? ename(last) : "-");
	fflush(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: see the top of netprobe.c\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (strcmp(argv[1], "tcp") == 0 && argc == 4)
		return do_connect(argv[2], argv[3], 0);
	if (strcmp(argv[1], "mptcp") == 0 && argc == 4)
		return do_connect(argv[2], argv[3], IPPROTO_MPTCP);
	if (strcmp(argv[1], "tfo") == 0 && argc == 4)
		return do_tfo(argv[2], argv[3]);
	if (strcmp(argv[1], "uring") == 0 && argc == 4)
		return do_uring(argv[2], argv[3]);
	if (strcmp(argv[1], "unspec") == 0 && argc == 6)
		return do_unspec(argv + 2);
	if (strcmp(argv[1], "many") == 0 && argc == 5)
		return do_many(argv[2], argv[3], atoi(argv[4]));
	if (strcmp(argv[1], "udp") == 0 && argc == 4)
		return do_udp(argv[2], argv[3], 0);
	if (strcmp(argv[1], "cudp") == 0 && argc == 4)
		return do_udp(argv[2], argv[3], 1);
	if (strcmp(argv[1], "socket") == 0 && argc == 5)
		return do_socket(argv + 2);
	if (strcmp(argv[1], "bind") == 0 && argc == 4)
		return do_bind(argv[2], argv[3]);
	if (strcmp(argv[1], "loop") == 0 && argc == 5)
		return do_loop(argv[2], argv[3], atoi(argv[4]));
	fprintf(stderr, "netprobe: unknown command\n");
	return 2;
}
