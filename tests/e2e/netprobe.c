// SPDX-License-Identifier: MIT
/*
 * netprobe.c: one socket operation per run, for the jail's tests. Prints one line:
 * "ok" plus what it saw (the peer address as getpeername() shows it), or "err ERRNAME".
 *
 *   netprobe tcp|tfo|uring|mptcp ADDR PORT      connect by plain connect(), TCP Fast Open
 *                                               sendto(MSG_FASTOPEN, no data), io_uring, or
 *                                               MPTCP
 *   netprobe unspec ADDR PORT ADDR2 PORT2       connect, dissolve with AF_UNSPEC, connect again
 *   netprobe many ADDR PORT N                   N connections at once, to PORT..PORT+N-1
 *   netprobe udp ADDR PORT                      unconnected sendto()
 *   netprobe cudp ADDR PORT                     connect() then send()
 *   netprobe socket inet|inet6|packet|FAMILY TYPE PROTO
 *                                               socket() (FAMILY: a number, as AF_VSOCK's 40)
 *   netprobe socket32 FAMILY TYPE PROTO         the same through the i386 entry (int $0x80)
 *   netprobe sti TEXT                           push TEXT into the terminal on fd 0 (TIOCSTI)
 *   netprobe sti32 TEXT                         the same through the i386 entry (int $0x80)
 *   netprobe bind ADDR PORT
 *   netprobe reuseport tcp|udp ADDR PORT        bind with SO_REUSEADDR and SO_REUSEPORT set
 *   netprobe loop ADDR PORT SECONDS             connect again and again; prints how many got
 *                                               through ("connected") and the last error
 *   netprobe dns udp|cudp|tcp ADDR PORT         one DNS query (A example.com): unconnected
 *                                               sendto(), connect()+send(), or TCP; prints the
 *                                               reply's source ("from", UDP), getpeername()
 *                                               ("peer", connected), the rcode and the first
 *                                               A/AAAA answer ("an"), or "eof" when a TCP peer
 *                                               closes without answering
 *   netprobe fd N                               use an inherited descriptor N: getpeername()
 *                                               and a write, "ok peer=..." or "err EBADF"
 *   netprobe bpf                                the bpf() syscall (BPF_PROG_GET_NEXT_ID)
 *   netprobe unix PATH                          connect() an AF_UNIX stream socket to PATH
 *   netprobe setns PATH ADDR PORT               setns() into the network namespace at PATH,
 *                                               then connect as "tcp" does
 *   netprobe ping ADDR                          an ICMP echo through a ping socket
 *                                               (SOCK_DGRAM, IPPROTO_ICMP/ICMPV6)
 * ADDR is IPv4 or IPv6 (::ffff:a.b.c.d for v4-mapped); the socket's family follows it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/io_uring.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>

#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif

static const char *ename(int e)
{
	static char buf[32];

	switch (e) {
	case EPERM:
		return "EPERM";
	case EACCES:
		return "EACCES";
	case ECONNREFUSED:
		return "ECONNREFUSED";
	case ENETUNREACH:
		return "ENETUNREACH";
	case EHOSTUNREACH:
		return "EHOSTUNREACH";
	case ETIMEDOUT:
		return "ETIMEDOUT";
	case EPROTONOSUPPORT:
		return "EPROTONOSUPPORT";
	case EAFNOSUPPORT:
		return "EAFNOSUPPORT";
	case EADDRNOTAVAIL:
		return "EADDRNOTAVAIL";
	case EADDRINUSE:
		return "EADDRINUSE";
	case EINVAL:
		return "EINVAL";
	case ESOCKTNOSUPPORT:
		return "ESOCKTNOSUPPORT";
	case EOPNOTSUPP:
		return "EOPNOTSUPP";
	case EBADF:
		return "EBADF";
	case ENOTCONN:
		return "ENOTCONN";
	case ENOTSOCK:
		return "ENOTSOCK";
	case ENOENT:
		return "ENOENT";
	case ENOSYS:
		return "ENOSYS";
	case EAGAIN:
		return "EAGAIN";
	case EROFS:
		return "EROFS";
	case ECONNRESET:
		return "ECONNRESET";
	case ENOTDIR:
		return "ENOTDIR";
	case EPIPE:
		return "EPIPE";
	case ESRCH:
		return "ESRCH";
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
	/*
	 * No data: the stand-in closes each connection at once, and data it never read would
	 * make that close a reset, which leaves getpeername() nothing to show. The kernel takes
	 * the same path (tcp_sendmsg_fastopen) with or without data.
	 */
	if (sendto(fd, "", 0, MSG_FASTOPEN, (struct sockaddr *)&ss, len) == -1)
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
	sq = mmap(NULL, par.sq_off.array + par.sq_entries * sizeof(unsigned),
		  PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring, IORING_OFF_SQ_RING);
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

static int family(const char *name)
{
	if (strcmp(name, "inet6") == 0)
		return AF_INET6;
	if (strcmp(name, "packet") == 0)
		return AF_PACKET;
	if (name[0] >= '0' && name[0] <= '9')
		return atoi(name);
	return AF_INET;
}

/* A system call through the i386 entry point; -1 with errno set on failure, as syscall(). */
static long int80(long nr, long a, long b, long c)
{
#if defined(__x86_64__)
	long r;

	__asm__ volatile("int $0x80" : "=a"(r) : "a"(nr), "b"(a), "c"(b), "d"(c) : "memory");
	if (r < 0 && r > -4096) {
		errno = (int)-r;
		return -1;
	}
	return r;
#else
	(void)nr, (void)a, (void)b, (void)c;
	errno = ENOSYS;
	return -1;
#endif
}

static int do_socket32(char **argv)
{
	long fd = int80(359 /* i386 socket */, family(argv[0]), atoi(argv[1]), atoi(argv[2]));

	if (fd == -1)
		return die_err(errno);
	printf("ok socket\n");
	return 0;
}

static int do_sti(const char *text, int i386)
{
	const char *c;
	char *one;
	long r;

	/* The i386 entry takes 32-bit pointers: a byte below 4 GiB. */
	one = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1,
		   0);
	if (one == MAP_FAILED)
		return die_err(errno);
	for (c = text; *c; c++) {
		*one = *c;
		/* 54: ioctl in the i386 table */
		r = i386 ? int80(54, 0, TIOCSTI, (long)(unsigned long)one) : ioctl(0, TIOCSTI, one);
		if (r == -1)
			return die_err(errno);
	}
	printf("ok pushed\n");
	return 0;
}

static int do_socket(char **argv)
{
	int fd = socket(family(argv[0]), atoi(argv[1]), atoi(argv[2]));

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

static int do_reuseport(const char *proto, const char *a, const char *p)
{
	struct sockaddr_storage ss;
	socklen_t len = make_addr(a, p, &ss);
	int one = 1,
	    fd = socket(ss.ss_family, strcmp(proto, "udp") == 0 ? SOCK_DGRAM : SOCK_STREAM, 0);

	if (fd == -1)
		return die_err(errno);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
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

/* A DNS query for example.com/A with id 0xb0d5 and RD set. Returns its length. */
static size_t dns_query(unsigned char *q)
{
	static const unsigned char pkt[] = {0xb0, 0xd5, 0x01, 0x00, 0,	 1,   0,   0,	0,   0,
					    0,	  0,	7,    'e',  'x', 'a', 'm', 'p', 'l', 'e',
					    3,	  'c',	'o',  'm',  0,	 0,   1,   0,	1};

	memcpy(q, pkt, sizeof(pkt));
	return sizeof(pkt);
}

/* The offset just past the (possibly compressed) name at off, or -1. */
static ssize_t skip_name(const unsigned char *r, ssize_t n, ssize_t off)
{
	while (off < n) {
		if (r[off] == 0)
			return off + 1;
		if ((r[off] & 0xc0) == 0xc0)
			return off + 2 <= n ? off + 2 : -1;
		off += 1 + r[off];
	}
	return -1;
}

/* " rcode=N", then " an=ADDR" for the first A or AAAA answer, or " reply=bad". */
static void print_dns_reply(const unsigned char *r, ssize_t n)
{
	char a[INET6_ADDRSTRLEN];
	unsigned type, rdlen;
	ssize_t off;

	if (n < 12 || r[0] != 0xb0 || r[1] != 0xd5 || !(r[2] & 0x80)) {
		printf(" reply=bad");
		return;
	}
	printf(" rcode=%d", r[3] & 0x0f);
	if (((r[6] << 8) | r[7]) == 0)
		return;
	off = skip_name(r, n, 12);
	if (off < 0 || off + 4 > n)
		return;
	off = skip_name(r, n, off + 4);
	if (off < 0 || off + 10 > n)
		return;
	type = (unsigned)((r[off] << 8) | r[off + 1]);
	rdlen = (unsigned)((r[off + 8] << 8) | r[off + 9]);
	off += 10;
	if (off + (ssize_t)rdlen > n)
		return;
	if (type == 1 && rdlen == 4)
		printf(" an=%s", inet_ntop(AF_INET, r + off, a, sizeof(a)));
	else if (type == 28 && rdlen == 16)
		printf(" an=%s", inet_ntop(AF_INET6, r + off, a, sizeof(a)));
}

static int do_dns(const char *mode, const char *a, const char *p)
{
	struct sockaddr_storage ss, from, peer;
	socklen_t len = make_addr(a, p, &ss), flen = sizeof(from), plen = sizeof(peer);
	struct timeval tv = {.tv_sec = 3};
	unsigned char q[64], r[512];
	size_t qlen = dns_query(q);
	int tcp = strcmp(mode, "tcp") == 0, conn = tcp || strcmp(mode, "cudp") == 0;
	ssize_t n;
	int fd;

	fd = socket(ss.ss_family, tcp ? SOCK_STREAM : SOCK_DGRAM, 0);
	if (fd == -1)
		return die_err(errno);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (conn && connect(fd, (struct sockaddr *)&ss, len) == -1)
		return die_err(errno);
	/*
	 * Before anything is sent: a TCP peer that closes with the query unread resets the
	 * connection, and a reset socket has no peer to name.
	 */
	if (conn && getpeername(fd, (struct sockaddr *)&peer, &plen) == -1)
		return die_err(errno);
	if (tcp) {
		unsigned char m[66];

		m[0] = 0;
		m[1] = (unsigned char)qlen;
		memcpy(m + 2, q, qlen);
		if (send(fd, m, qlen + 2, MSG_NOSIGNAL) == -1)
			return die_err(errno);
	} else if (conn ? send(fd, q, qlen, 0) == -1
			: sendto(fd, q, qlen, 0, (struct sockaddr *)&ss, len) == -1) {
		return die_err(errno);
	}
	memset(&from, 0, sizeof(from));
	n = recvfrom(fd, r, sizeof(r), 0, (struct sockaddr *)&from, &flen);
	if (n == -1 && !(tcp && errno == ECONNRESET))
		return die_err(errno);
	printf("ok");
	if (!tcp) {
		printf(" ");
		print_addr("from", &from);
	}
	if (conn) {
		printf(" ");
		print_addr("peer", &peer);
	}
	if (tcp) {
		if (n <= 2)
			printf(" eof");
		else
			print_dns_reply(r + 2, n - 2);
	} else {
		print_dns_reply(r, n);
	}
	printf("\n");
	return 0;
}

static int do_fd(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getpeername(fd, (struct sockaddr *)&ss, &len) == -1)
		return die_err(errno);
	if (send(fd, "inherited\n", 10, MSG_NOSIGNAL) == -1)
		return die_err(errno);
	printf("ok ");
	print_addr("peer", &ss);
	printf(" wrote\n");
	return 0;
}

static int do_bpf(void)
{
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.start_id = 0;
	if (syscall(__NR_bpf, BPF_PROG_GET_NEXT_ID, &attr, sizeof(attr)) == -1) {
		/* Allowed, but no program is loaded: the call itself went through. */
		if (errno == ENOENT) {
			printf("ok no programs\n");
			return 0;
		}
		return die_err(errno);
	}
	printf("ok next_id=%u\n", attr.next_id);
	return 0;
}

static int do_unix(const char *path)
{
	struct sockaddr_un sun;
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	if (fd == -1)
		return die_err(errno);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		return die_err(errno);
	printf("ok connected\n");
	return 0;
}

static int do_setns(const char *path, const char *a, const char *p)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd == -1)
		return die_err(errno);
	if (setns(fd, CLONE_NEWNET) == -1)
		return die_err(errno);
	return do_connect(a, p, 0);
}

static int do_ping(const char *a)
{
	struct sockaddr_storage ss;
	socklen_t len = make_addr(a, "0", &ss);
	int v6 = ss.ss_family == AF_INET6;
	unsigned char echo[8] = {v6 ? 128 : 8, 0, 0, 0, 0, 1, 0, 1};
	int fd = socket(ss.ss_family, SOCK_DGRAM, v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP);

	if (fd == -1)
		return die_err(errno);
	if (sendto(fd, echo, sizeof(echo), 0, (struct sockaddr *)&ss, len) == -1)
		return die_err(errno);
	printf("ok sent\n");
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
	if (strcmp(argv[1], "socket32") == 0 && argc == 5)
		return do_socket32(argv + 2);
	if (strcmp(argv[1], "sti") == 0 && argc == 3)
		return do_sti(argv[2], 0);
	if (strcmp(argv[1], "sti32") == 0 && argc == 3)
		return do_sti(argv[2], 1);
	if (strcmp(argv[1], "bind") == 0 && argc == 4)
		return do_bind(argv[2], argv[3]);
	if (strcmp(argv[1], "reuseport") == 0 && argc == 5)
		return do_reuseport(argv[2], argv[3], argv[4]);
	if (strcmp(argv[1], "loop") == 0 && argc == 5)
		return do_loop(argv[2], argv[3], atoi(argv[4]));
	if (strcmp(argv[1], "dns") == 0 && argc == 5)
		return do_dns(argv[2], argv[3], argv[4]);
	if (strcmp(argv[1], "fd") == 0 && argc == 3)
		return do_fd(atoi(argv[2]));
	if (strcmp(argv[1], "bpf") == 0 && argc == 2)
		return do_bpf();
	if (strcmp(argv[1], "unix") == 0 && argc == 3)
		return do_unix(argv[2]);
	if (strcmp(argv[1], "setns") == 0 && argc == 5)
		return do_setns(argv[2], argv[3], argv[4]);
	if (strcmp(argv[1], "ping") == 0 && argc == 3)
		return do_ping(argv[2]);
	fprintf(stderr, "netprobe: unknown command\n");
	return 2;
}
