// SPDX-License-Identifier: MIT
/*
 * resolve.c: a libc's own resolver, run inside the jail by tests/e2e/resolvers.t. Built at test
 * time with gcc (glibc) and with musl-gcc (musl), from this one file, so both libcs face the
 * same questions and are judged the same way. Each command prints one line per result.
 *
 *   resolve gai NAME FAMILY [FLAGS]   getaddrinfo(NAME, SOCK_STREAM), FAMILY unspec|4|6, FLAGS a
 *                                     comma list of addrconfig, v4mapped, all, canonname:
 *                                     "addr ADDR" per address in the order given, or "gai ERR"
 *   resolve query NAME TYPE           res_query(NAME, IN, TYPE A|AAAA): "id ID rd RD qr QR",
 *                                     then "addr ADDR" per answer record, or "query failed H"
 *   resolve get NAME PORT PATH        getaddrinfo(NAME) (AF_UNSPEC), connect to the first
 *                                     address, GET PATH with Host NAME:PORT: "peer ADDR", then
 *                                     "status N" (the response's status code), or what failed
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void addr_text(const struct sockaddr *sa, char *buf, size_t len)
{
	const void *a = sa->sa_family == AF_INET
			    ? (const void *)&((const struct sockaddr_in *)sa)->sin_addr
			    : (const void *)&((const struct sockaddr_in6 *)sa)->sin6_addr;

	if (!inet_ntop(sa->sa_family, a, buf, (socklen_t)len))
		snprintf(buf, len, "?");
}

static int gai(const char *name, const char *family, const char *flags)
{
	struct addrinfo hints, *res = NULL, *ai;
	char buf[INET6_ADDRSTRLEN];
	int r;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_family = strcmp(family, "4") == 0   ? AF_INET
			  : strcmp(family, "6") == 0 ? AF_INET6
						     : AF_UNSPEC;
	if (flags && strstr(flags, "addrconfig"))
		hints.ai_flags |= AI_ADDRCONFIG;
	if (flags && strstr(flags, "v4mapped"))
		hints.ai_flags |= AI_V4MAPPED;
	if (flags && strstr(flags, "all"))
		hints.ai_flags |= AI_ALL;
	if (flags && strstr(flags, "canonname"))
		hints.ai_flags |= AI_CANONNAME;
	r = getaddrinfo(name, NULL, &hints, &res);
	if (r != 0) {
		printf("gai %s\n", gai_strerror(r));
		return 1;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		addr_text(ai->ai_addr, buf, sizeof(buf));
		printf("addr %s\n", buf);
	}
	freeaddrinfo(res);
	return 0;
}

static int query(const char *name, const char *type)
{
	unsigned char ans[4096];
	char buf[INET6_ADDRSTRLEN];
	int qtype = strcmp(type, "AAAA") == 0 ? ns_t_aaaa : ns_t_a;
	ns_msg msg;
	ns_rr rr;
	int n, i;

	n = res_query(name, ns_c_in, qtype, ans, sizeof(ans));
	if (n < 0) {
		printf("query failed %d\n", h_errno);
		return 1;
	}
	if (ns_initparse(ans, n, &msg) < 0) {
		printf("query unparsable\n");
		return 1;
	}
	printf("id %u rd %d qr %d\n", ns_msg_id(msg), ns_msg_getflag(msg, ns_f_rd),
	       ns_msg_getflag(msg, ns_f_qr));
	for (i = 0; i < ns_msg_count(msg, ns_s_an); i++) {
		if (ns_parserr(&msg, ns_s_an, i, &rr) < 0)
			break;
		if (ns_rr_type(rr) == ns_t_a && ns_rr_rdlen(rr) == 4)
			inet_ntop(AF_INET, ns_rr_rdata(rr), buf, sizeof(buf));
		else if (ns_rr_type(rr) == ns_t_aaaa && ns_rr_rdlen(rr) == 16)
			inet_ntop(AF_INET6, ns_rr_rdata(rr), buf, sizeof(buf));
		else
			continue;
		printf("addr %s\n", buf);
	}
	return 0;
}

static int get(const char *name, const char *port, const char *path)
{
	struct addrinfo hints, *res = NULL;
	char buf[1024], addr[INET6_ADDRSTRLEN], *eol, *sp;
	ssize_t n;
	size_t have = 0;
	int fd = -1, r, ret = 1;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	r = getaddrinfo(name, port, &hints, &res);
	if (r != 0) {
		printf("gai %s\n", gai_strerror(r));
		return 1;
	}
	addr_text(res->ai_addr, addr, sizeof(addr));
	printf("peer %s\n", addr);
	fd = socket(res->ai_family, SOCK_STREAM, 0);
	if (fd == -1 || connect(fd, res->ai_addr, res->ai_addrlen) == -1) {
		perror("connect");
		goto out;
	}
	n = snprintf(buf, sizeof(buf),
		     "GET %s HTTP/1.1\r\nHost: %s:%s\r\nConnection: close\r\n\r\n", path, name,
		     port);
	if (n < 0 || (size_t)n >= sizeof(buf) || write(fd, buf, (size_t)n) != n) {
		perror("write");
		goto out;
	}
	while (have < sizeof(buf) - 1 && (n = read(fd, buf + have, sizeof(buf) - 1 - have)) > 0) {
		have += (size_t)n;
		buf[have] = '\0';
		if (strchr(buf, '\n'))
			break;
	}
	buf[have] = '\0';
	eol = strpbrk(buf, "\r\n");
	if (eol)
		*eol = '\0';
	sp = strchr(buf, ' ');
	if (strncmp(buf, "HTTP/1.", 7) != 0 || !sp) {
		printf("bad response \"%s\"\n", buf);
		goto out;
	}
	printf("status %.3s\n", sp + 1);
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	freeaddrinfo(res);
	return ret;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 4 && strcmp(argv[1], "gai") == 0)
		return gai(argv[2], argv[3], argc > 4 ? argv[4] : NULL);
	if (argc == 4 && strcmp(argv[1], "query") == 0)
		return query(argv[2], argv[3]);
	if (argc == 5 && strcmp(argv[1], "get") == 0)
		return get(argv[2], argv[3], argv[4]);
	fprintf(stderr, "usage: resolve gai NAME unspec|4|6 [FLAGS] | query NAME A|AAAA |"
			" get NAME PORT PATH\n");
	return 2;
}
