// SPDX-License-Identifier: MIT
/*
 * netns.c: a network namespace for one jail, holding only lo, and the sockets boundary listens
 * on inside it. A listening socket keeps serving after the thread that made it goes back to the
 * host's namespace, so the proxy's upstream connections are made in the host's namespace while
 * the jail can only ever reach these listeners.
 */
#include "user/netns.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

static int lo_up(void)
{
	struct ifreq ifr;
	int fd, ret = 0;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) == -1) {
		ret = -errno;
		goto out;
	}
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) == -1)
		ret = -errno;
out:
	close(fd);
	return ret;
}

/*
 * The jail's own addresses besides 127.0.0.1 and ::1. glibc's getaddrinfo() with AI_ADDRCONFIG
 * and a family (getent ahostsv4/ahostsv6, many C programs) counts the family as configured only
 * when an interface has an address of it other than exactly 127.0.0.1 or ::1, and otherwise
 * fails with "Name or service not known" even for 127.0.0.1 itself. Both families do work in the
 * jail (through the proxy), so lo says so: 127.0.1.1 (the address the jail's /etc/hosts gives
 * the host name) and fd42:b0d:53:: (index 0 of the synthetic prefix, which the DNS table never
 * hands out). Neither makes anything reachable: 127/8 is the jail's own loopback whatever lo
 * holds, and every IPv6 connection other than to ::1 is redirected or refused by the hooks.
 */
static const unsigned char jail_addr4[4] = {127, 0, 1, 1};
static const unsigned char jail_addr6[16] = {0xfd, 0x42, 0x0b, 0x0d, 0x00, 0x53};

/* Adds addr (4 or 16 bytes), as a host route of its own, to lo. Returns 0 or -errno. */
static int lo_add_addr(int family, const unsigned char *addr, size_t alen)
{
	struct {
		struct nlmsghdr nh;
		struct ifaddrmsg ifa;
		struct rtattr rta;
		unsigned char addr[16];
	} req;
	struct {
		struct nlmsghdr nh;
		struct nlmsgerr err;
	} ack;
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
	ssize_t n;
	int fd, ret = 0;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd == -1)
		return -errno;
	memset(&req, 0, sizeof(req));
	req.nh.nlmsg_len = (__u32)(NLMSG_LENGTH(sizeof(req.ifa)) + RTA_LENGTH(alen));
	req.nh.nlmsg_type = RTM_NEWADDR;
	req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
	req.nh.nlmsg_seq = 1;
	req.ifa.ifa_family = (unsigned char)family;
	req.ifa.ifa_prefixlen = (unsigned char)(alen * 8);
	req.ifa.ifa_flags = IFA_F_NODAD;
	req.ifa.ifa_scope = RT_SCOPE_HOST;
	req.ifa.ifa_index = if_nametoindex("lo");
	req.rta.rta_type = IFA_LOCAL;
	req.rta.rta_len = (unsigned short)RTA_LENGTH(alen);
	memcpy(req.addr, addr, alen);
	if (sendto(fd, &req, req.nh.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) ==
	    -1) {
		ret = -errno;
		goto out;
	}
	n = recv(fd, &ack, sizeof(ack), 0);
	if (n == -1)
		ret = -errno;
	else if ((size_t)n < sizeof(ack) || ack.nh.nlmsg_type != NLMSG_ERROR)
		ret = -EPROTO;
	else
		ret = ack.err.error; /* 0 or -errno */
out:
	close(fd);
	return ret;
}

/* A socket bound to loopback of the family on port (0: any free one). Returns fd or -errno. */
static int listen_on(int family, int type, uint16_t port, uint16_t *bound)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t len;
	int fd, one = 1, ret;

	fd = socket(family, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd == -1)
		return -errno;
	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof(*sin);
	} else {
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		sin6->sin6_addr = in6addr_loopback;
		len = sizeof(*sin6);
	}
	if (type == SOCK_STREAM)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) == -1)
		goto fail;
	if (type == SOCK_STREAM && listen(fd, 4096) == -1)
		goto fail;
	if (bound) {
		len = sizeof(ss);
		if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1)
			goto fail;
		*bound = ntohs(family == AF_INET ? sin->sin_port : sin6->sin6_port);
	}
	return fd;
fail:
	ret = -errno;
	close(fd);
	return ret;
}

/* Closes those of fds that are open, and marks each closed. */
static void close_fds(int *const *fds, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}

/* Closes the DNS responder's sockets. */
static void close_dns(struct netns_listeners *l)
{
	int *const fds[] = {&l->dns_udp4, &l->dns_udp6, &l->dns_tcp4, &l->dns_tcp6, &l->probe6};

	close_fds(fds, sizeof(fds) / sizeof(fds[0]));
}

void netns_listeners_close(struct netns_listeners *l)
{
	int *const fds[] = {&l->proxy4, &l->proxy6};

	close_fds(fds, sizeof(fds) / sizeof(fds[0]));
	close_dns(l);
}

/*
 * The listeners, in this thread's namespace; with own, lo is set up there first. The DNS
 * responder's port is dns_port, or a free one when 0.
 */
static int open_listeners(uint16_t proxy_port, uint16_t dns_port, bool own,
			  struct netns_listeners *l, char *err, size_t errlen)
{
	int ret, tries;

	if (!own)
		goto listen;
	ret = lo_up();
	if (ret < 0) {
		snprintf(err, errlen, "cannot bring up lo in the jail's network namespace: %s",
			 strerror(-ret));
		return ret;
	}
	ret = lo_add_addr(AF_INET, jail_addr4, sizeof(jail_addr4));
	if (ret < 0) {
		snprintf(err, errlen, "cannot add 127.0.1.1 to lo in the jail: %s", strerror(-ret));
		return ret;
	}
	/* IPv6 may be disabled on this host: then the jail has no IPv6, and nothing to say so. */
	lo_add_addr(AF_INET6, jail_addr6, sizeof(jail_addr6));
listen:
	l->proxy4 = listen_on(AF_INET, SOCK_STREAM, proxy_port, &l->proxy_port);
	if (l->proxy4 < 0) {
		ret = l->proxy4;
		snprintf(err, errlen, "cannot listen on 127.0.0.1:%u in the jail: %s", proxy_port,
			 strerror(-ret));
		return ret;
	}
	/*
	 * The DNS responder: one port for UDP and TCP on both families. The UDP port is the
	 * kernel's choice, and TCP's may then be taken (by the proxy's own listener, or in a host
	 * namespace by anything): another port is tried.
	 */
	for (tries = 0;; tries++) {
		l->dns_udp4 = listen_on(AF_INET, SOCK_DGRAM, dns_port, &l->dns_port);
		if (l->dns_udp4 < 0) {
			ret = l->dns_udp4;
			snprintf(err, errlen, "cannot open the DNS responder in the jail: %s",
				 strerror(-ret));
			return ret;
		}
		l->dns_tcp4 = listen_on(AF_INET, SOCK_STREAM, l->dns_port, NULL);
		/* IPv6 may be disabled on this host; then v6 fails in the jail, as it should. */
		l->dns_udp6 = listen_on(AF_INET6, SOCK_DGRAM, l->dns_port, NULL);
		l->dns_tcp6 = listen_on(AF_INET6, SOCK_STREAM, l->dns_port, NULL);
		if (l->dns_tcp4 >= 0 && l->dns_udp6 != -EADDRINUSE && l->dns_tcp6 != -EADDRINUSE)
			break;
		ret = l->dns_tcp4 < 0 ? l->dns_tcp4 : -EADDRINUSE;
		close_dns(l);
		if (ret != -EADDRINUSE || tries == 20 || dns_port) {
			snprintf(err, errlen, "cannot open the DNS responder (TCP) in the jail: %s",
				 strerror(-ret));
			return ret;
		}
	}
	l->proxy6 = listen_on(AF_INET6, SOCK_STREAM, l->proxy_port, NULL);
	l->probe6 = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	return 0;
}

/* This thread's network namespace, to come back to: an fd, or -errno with err filled. */
static int open_thread_netns(char *err, size_t errlen)
{
	int fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	int ret;

	if (fd == -1) {
		ret = -errno;
		snprintf(err, errlen, "cannot open this thread's network namespace: %s",
			 strerror(-ret));
		return ret;
	}
	return fd;
}

int netns_create(uint16_t proxy_port, struct netns_listeners *l, char *err, size_t errlen)
{
	int host = -1, jail = -1, ret;

	l->proxy4 = l->proxy6 = l->dns_udp4 = l->dns_udp6 = l->dns_tcp4 = l->dns_tcp6 = -1;
	l->probe6 = -1;
	l->proxy_port = l->dns_port = 0;
	host = open_thread_netns(err, errlen);
	if (host < 0)
		return host;
	if (unshare(CLONE_NEWNET) == -1) {
		ret = -errno;
		snprintf(err, errlen, "cannot create a network namespace: %s%s", strerror(-ret),
			 ret == -EPERM ? " (run as root or grant CAP_SYS_ADMIN)" : "");
		close(host);
		return ret;
	}
	jail = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	ret = jail == -1 ? -errno : open_listeners(proxy_port, 0, true, l, err, errlen);
	if (jail == -1)
		snprintf(err, errlen, "cannot open the jail's network namespace: %s",
			 strerror(-ret));
	/* Back home whatever happened: every later socket of boundary's is the host's. */
	if (setns(host, CLONE_NEWNET) == -1) {
		/* Staying in the jail's namespace would cut boundary off from every upstream. */
		ret = -errno;
		snprintf(err, errlen, "cannot return to the host's network namespace: %s",
			 strerror(-ret));
	}
	close(host);
	if (ret < 0) {
		netns_listeners_close(l);
		if (jail >= 0)
			close(jail);
		return ret;
	}
	return jail;
}

int netns_listen_in(int nsfd, uint16_t proxy_port, uint16_t dns_port, struct netns_listeners *l,
		    char *err, size_t errlen)
{
	int host = -1, ret;

	l->proxy4 = l->proxy6 = l->dns_udp4 = l->dns_udp6 = l->dns_tcp4 = l->dns_tcp6 = -1;
	l->probe6 = -1;
	l->proxy_port = l->dns_port = 0;
	if (nsfd < 0) {
		ret = open_listeners(proxy_port, dns_port, false, l, err, errlen);
		if (ret < 0)
			netns_listeners_close(l);
		return ret;
	}
	host = open_thread_netns(err, errlen);
	if (host < 0)
		return host;
	if (setns(nsfd, CLONE_NEWNET) == -1) {
		ret = -errno;
		snprintf(err, errlen, "cannot enter the cgroup's network namespace: %s",
			 strerror(-ret));
		close(host);
		return ret;
	}
	/* A namespace made by unshare -n has lo down: nothing on it answers until it is up. */
	ret = lo_up();
	if (ret < 0)
		snprintf(err, errlen, "cannot bring up lo in the cgroup's network namespace: %s",
			 strerror(-ret));
	else
		ret = open_listeners(proxy_port, dns_port, false, l, err, errlen);
	if (setns(host, CLONE_NEWNET) == -1) {
		ret = -errno;
		snprintf(err, errlen, "cannot return to the host's network namespace: %s",
			 strerror(-ret));
	}
	close(host);
	if (ret < 0)
		netns_listeners_close(l);
	return ret;
}
