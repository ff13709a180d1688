// SPDX-License-Identifier: MIT
/*
 * names.c: a name as a container would resolve it (names.h). The two files are opened with
 * openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS) under the container's root, so an absolute
 * symlink or a ".." in the container resolves inside it and /proc/self/... leads nowhere:
 * whatever the container's files are, boundary reads none of the host's. They are read afresh
 * on every lookup (a few kilobytes; Docker rewrites both as the container's networks change).
 * The nameservers are asked through one c-ares channel per lookup, set up from the container's
 * resolv.conf alone and run to completion on the calling thread.
 */
#include "proxy/names.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <ares.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "proxy/dnsfwd.h"
#include "proxy/etcfiles.h"
#include "proxy/resolve.h"
#include "proxy/util.h"

#define MAX_ADDRS     16
#define LOOKUP_MAX_MS 30000 /* whatever resolv.conf says, a lookup gives up after this */

/*
 * Reads path under root into buf[0..cap): 1 with *len filled, 0 when the file does not exist,
 * -1 with err filled.
 */
static int read_under(int root, const char *path, char *buf, size_t cap, size_t *len, char *err,
		      size_t errlen)
{
	struct open_how how;
	struct stat st;
	ssize_t n;
	int fd, ret = -1;

	memset(&how, 0, sizeof(how));
	/* O_NONBLOCK: a FIFO there must not hold the thread; it is refused below anyway. */
	how.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
	how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
	fd = (int)syscall(SYS_openat2, root, path, &how, sizeof(how));
	if (fd == -1) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "cannot open the container's /%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "the container's /%s is not a regular file", path);
		goto out;
	}
	*len = 0;
	while (*len < cap) {
		n = read(fd, buf + *len, cap - *len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			snprintf(err, errlen, "cannot read the container's /%s: %s", path,
				 strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		*len += (size_t)n;
	}
	ret = 1;
out:
	close(fd);
	return ret;
}

/* Appends a node for a (family, 4 or 16 bytes) to *tail. Returns false when out of memory. */
static bool add(struct addrinfo ***tail, int family, const void *a, uint16_t port)
{
	struct addrinfo *ai = resolve_addr_new(family, a, port);

	if (!ai)
		return false;
	**tail = ai;
	*tail = &ai->ai_next;
	return true;
}

/* --- the nameservers ------------------------------------------------------------------------ */

struct query {
	int pending;
	int status[2]; /* A, AAAA: ARES_* */
	unsigned char addr[2][MAX_ADDRS][16];
	size_t n[2];
};

struct answer_arg {
	struct query *q;
	int k; /* 0: A, 1: AAAA */
};

static void answered(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct answer_arg *a = arg;
	struct query *q = a->q;

	(void)timeouts;
	q->pending--;
	q->status[a->k] = status;
	if (status == ARES_SUCCESS && abuf && alen > 0)
		q->n[a->k] = dns_fwd_addrs(abuf, (size_t)alen, a->k ? AF_INET6 : AF_INET,
					   q->addr[a->k], MAX_ADDRS);
}

static pthread_once_t ares_once = PTHREAD_ONCE_INIT;

/* Once per process: c-ares's library init is not thread-safe, and nothing needs its cleanup. */
static void ares_init_once(void)
{
	ares_library_init(ARES_LIB_INIT_ALL);
}

/* The nameservers of r, printable: "127.0.0.11, [::1]". */
static void list_servers(const struct etc_resolv *r, char *out, size_t len)
{
	char a[INET6_ADDRSTRLEN];
	size_t i, used = 0;
	int n;

	out[0] = '\0';
	if (!r->n_ns) {
		snprintf(out, len, "127.0.0.1 (resolv.conf names none)");
		return;
	}
	for (i = 0; i < r->n_ns && used < len; i++) {
		if (!inet_ntop(r->ns[i].family, r->ns[i].addr, a, sizeof(a)))
			continue;
		n = snprintf(out + used, len - used, "%s%s%s%s", i ? ", " : "",
			     r->ns[i].family == AF_INET6 ? "[" : "", a,
			     r->ns[i].family == AF_INET6 ? "]" : "");
		if (n < 0)
			break;
		used += (size_t)n;
	}
}

/* Runs the channel's queries to their end on this thread; false if LOOKUP_MAX_MS passed. */
static bool run(ares_channel ch, struct query *q)
{
	uint64_t until = util_now_ms() + LOOKUP_MAX_MS;
	ares_socket_t socks[ARES_GETSOCK_MAXNUM];
	struct pollfd pfd[ARES_GETSOCK_MAXNUM];
	struct timeval tv, *t;
	unsigned bits, rd, wr;
	int i, n, ms;
	bool any;

	while (q->pending > 0) {
		if (util_now_ms() >= until)
			return false;
		/* c-ares's own ARES_GETSOCK_WRITABLE shifts a signed 1 into the sign bit: not used */
		bits = (unsigned)ares_getsock(ch, socks, ARES_GETSOCK_MAXNUM);
		for (n = 0, i = 0; i < ARES_GETSOCK_MAXNUM; i++) {
			rd = bits & (1U << i);
			wr = bits & (1U << (i + ARES_GETSOCK_MAXNUM));
			if (!rd && !wr)
				continue;
			pfd[n].fd = socks[i];
			pfd[n].events = (short)((rd ? POLLIN : 0) | (wr ? POLLOUT : 0));
			pfd[n].revents = 0;
			n++;
		}
		t = ares_timeout(ch, NULL, &tv);
		ms = t ? (int)(t->tv_sec * 1000 + (t->tv_usec + 999) / 1000) : 100;
		if (poll(pfd, (nfds_t)n, ms) == -1 && errno != EINTR)
			return false;
		for (any = false, i = 0; i < n; i++) {
			if (!pfd[i].revents)
				continue;
			any = true;
			ares_process_fd(
			    ch,
			    pfd[i].revents & (POLLIN | POLLERR | POLLHUP) ? pfd[i].fd
									  : ARES_SOCKET_BAD,
			    pfd[i].revents & (POLLOUT | POLLERR) ? pfd[i].fd : ARES_SOCKET_BAD);
		}
		if (!any) /* a timeout: the next try, or the next server */
			ares_process_fd(ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	}
	return true;
}

/* Asks r's nameservers for host's A and AAAA records, search domains and ndots applied. */
static int ask_servers(const struct etc_resolv *r, const char *host, struct query *q, char *err,
		       size_t errlen)
{
	struct ares_addr_port_node srv[ETC_MAX_NS], *s;
	struct answer_arg args[2] = {{q, 0}, {q, 1}};
	char *domains[ETC_MAX_SEARCH];
	struct ares_options o;
	ares_channel ch;
	size_t i;
	int ret, optmask;

	pthread_once(&ares_once, ares_init_once);
	memset(&o, 0, sizeof(o));
	o.timeout = (int)r->timeout * 1000;
	o.tries = (int)r->attempts;
	o.ndots = (int)r->ndots;
	for (i = 0; i < r->n_search; i++)
		domains[i] = (char *)(uintptr_t)r->search[i];
	o.domains = domains;
	o.ndomains = (int)r->n_search;
	o.lookups = (char *)(uintptr_t) "b"; /* never a hosts file of c-ares's own choosing */
	o.nsort = 0;			     /* nor the host's sortlist */
	optmask = ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_NDOTS | ARES_OPT_DOMAINS |
		  ARES_OPT_LOOKUPS | ARES_OPT_SORTLIST |
		  (r->rotate ? ARES_OPT_ROTATE : ARES_OPT_NOROTATE);
	ret = ares_init_options(&ch, &o, optmask);
	if (ret != ARES_SUCCESS) {
		snprintf(err, errlen, "cannot start a resolver: %s", ares_strerror(ret));
		return -1;
	}
	memset(srv, 0, sizeof(srv));
	if (r->n_ns == 0) {
		srv[0].family = AF_INET;
		srv[0].addr.addr4.s_addr = htonl(INADDR_LOOPBACK);
	}
	for (i = 0; i < (r->n_ns ? r->n_ns : 1); i++) {
		s = &srv[i];
		if (r->n_ns) {
			s->family = r->ns[i].family;
			memcpy(s->family == AF_INET ? (void *)&s->addr.addr4
						    : (void *)&s->addr.addr6,
			       r->ns[i].addr, s->family == AF_INET ? 4 : 16);
		}
		s->udp_port = s->tcp_port = 53;
		s->next = i + 1 < (r->n_ns ? r->n_ns : 1) ? &srv[i + 1] : NULL;
	}
	ret = ares_set_servers_ports(ch, srv);
	if (ret != ARES_SUCCESS) {
		snprintf(err, errlen, "cannot use the container's nameservers: %s",
			 ares_strerror(ret));
		ares_destroy(ch);
		return -1;
	}
	q->pending = 2;
	ares_search(ch, host, C_IN, T_A, answered, &args[0]);
	ares_search(ch, host, C_IN, T_AAAA, answered, &args[1]);
	if (!run(ch, q)) {
		ares_destroy(ch); /* calls what is pending with ARES_EDESTRUCTION */
		q->status[0] = q->status[1] = ARES_ETIMEOUT;
		return 0;
	}
	ares_destroy(ch);
	return 0;
}

/* Why neither query gave an address, for a person: what the nameservers did. */
static void why_none(const struct query *q, char *out, size_t len)
{
	int s = q->status[0] == ARES_SUCCESS || q->status[0] == ARES_ENODATA ||
			q->status[0] == ARES_ENOTFOUND
		    ? q->status[1]
		    : q->status[0];

	switch (s) {
	case ARES_SUCCESS:
	case ARES_ENODATA:
		snprintf(out, len, "have no address for it");
		break;
	case ARES_ENOTFOUND:
		snprintf(out, len, "know no such name");
		break;
	case ARES_ETIMEOUT:
		snprintf(out, len, "did not answer in time");
		break;
	case ARES_ECONNREFUSED:
		snprintf(out, len, "refused the connection (is one listening there?)");
		break;
	case ARES_ESERVFAIL:
		snprintf(out, len, "failed (SERVFAIL)");
		break;
	case ARES_EREFUSED:
		snprintf(out, len, "refused the query");
		break;
	default:
		snprintf(out, len, "failed: %s", ares_strerror(s));
		break;
	}
}

int names_lookup(int root, const char *host, uint16_t port, struct addrinfo **res, char *err,
		 size_t errlen)
{
	struct etc_addr found[MAX_ADDRS];
	struct addrinfo *list = NULL, **tail = &list;
	struct etc_resolv rc;
	struct query q;
	unsigned char lit[16];
	char servers[160], why[80], *buf;
	size_t len = 0, n, i, k;
	int ret = -1, have;

	*res = NULL;
	if (inet_pton(AF_INET, host, lit) == 1 || inet_pton(AF_INET6, host, lit) == 1) {
		if (!add(&tail, strchr(host, ':') ? AF_INET6 : AF_INET, lit, port))
			goto nomem;
		*res = list;
		return 0;
	}
	buf = malloc(ETC_MAX_FILE);
	if (!buf)
		goto nomem;
	have = read_under(root, "etc/hosts", buf, ETC_MAX_FILE, &len, err, errlen);
	if (have < 0)
		goto out;
	n = have ? etc_hosts_find(buf, len, host, found, MAX_ADDRS) : 0;
	if (n) {
		for (i = 0; i < n; i++)
			if (!add(&tail, found[i].family, found[i].addr, port))
				goto nomem_buf;
		ret = 0;
		goto out;
	}
	have = read_under(root, "etc/resolv.conf", buf, ETC_MAX_FILE, &len, err, errlen);
	if (have < 0)
		goto out;
	etc_resolv_parse(buf, have ? len : 0, &rc);
	memset(&q, 0, sizeof(q));
	if (ask_servers(&rc, host, &q, err, errlen) < 0)
		goto out;
	for (k = 0; k < 2; k++)
		for (i = 0; i < q.n[k]; i++)
			if (!add(&tail, k ? AF_INET6 : AF_INET, q.addr[k][i], port))
				goto nomem_buf;
	if (list) {
		ret = 0;
		goto out;
	}
	list_servers(&rc, servers, sizeof(servers));
	why_none(&q, why, sizeof(why));
	snprintf(err, errlen,
		 "not in the container's /etc/hosts, and its nameservers (%s, asked from its "
		 "network namespace) %s",
		 servers, why);
out:
	free(buf);
	if (ret == 0)
		*res = list;
	else
		resolve_free(list);
	return ret;
nomem_buf:
	snprintf(err, errlen, "out of memory");
	goto out;
nomem:
	snprintf(err, errlen, "out of memory");
	resolve_free(list);
	return -1;
}
