// SPDX-License-Identifier: MIT
/*
 * dnsfwd.c: --use-real-dns's forwarding, a thin layer over c-ares's ares_send(), which already
 * does what a stub resolver must (servers from resolv.conf, timeouts, retries, the next server,
 * TCP when an answer comes back truncated). This file adapts it to an outside event loop and
 * to one callback per query.
 */
#include "proxy/dnsfwd.h"

#include <arpa/inet.h>
#include <ares.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

struct dns_fwd {
	ares_channel ch;
	dns_fwd_watch_fn watch;
	void *watch_arg;
};

/* What ares_send() carries to its callback. */
struct pending {
	dns_fwd_done_fn done;
	void *arg;
};

static void sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
	struct dns_fwd *f = data;

	f->watch(f->watch_arg, fd, readable != 0, writable != 0);
}

static const char *status_text(int status)
{
	switch (status) {
	case ARES_ETIMEOUT:
		return "the host's resolver did not answer in time";
	case ARES_ECONNREFUSED:
		return "the host's resolver refused the connection";
	case ARES_EDESTRUCTION:
	case ARES_ECANCELLED:
		return "shutting down";
	default:
		return ares_strerror(status);
	}
}

static void answered(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct pending *p = arg;

	(void)timeouts;
	if (status == ARES_SUCCESS && abuf && alen >= 12)
		p->done(p->arg, abuf, (size_t)alen, NULL);
	else
		p->done(p->arg, NULL, 0,
			status_text(status == ARES_SUCCESS ? ARES_EBADRESP : status));
	free(p);
}

static void list_servers(ares_channel ch, char *out, size_t len)
{
	struct ares_addr_port_node *s, *all = NULL;
	char a[INET6_ADDRSTRLEN];
	size_t used = 0;
	int n;

	out[0] = '\0';
	if (ares_get_servers_ports(ch, &all) != ARES_SUCCESS)
		return;
	for (s = all; s && used < len; s = s->next) {
		if (!inet_ntop(s->family, &s->addr, a, sizeof(a)))
			continue;
		n = snprintf(out + used, len - used, "%s%s%s%s:%d", used ? ", " : "",
			     s->family == AF_INET6 ? "[" : "", a, s->family == AF_INET6 ? "]" : "",
			     s->udp_port ? s->udp_port : 53);
		if (n < 0)
			break;
		used += (size_t)n;
	}
	ares_free_data(all);
}

struct dns_fwd *dns_fwd_new(dns_fwd_watch_fn watch, void *watch_arg, char *servers,
			    size_t servers_len, char *err, size_t errlen)
{
	struct dns_fwd *f = calloc(1, sizeof(*f));
	struct ares_options o;
	int r;

	if (!f) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	r = ares_library_init(ARES_LIB_INIT_ALL);
	if (r != ARES_SUCCESS) {
		snprintf(err, errlen, "cannot start c-ares: %s", ares_strerror(r));
		free(f);
		return NULL;
	}
	f->watch = watch;
	f->watch_arg = watch_arg;
	memset(&o, 0, sizeof(o));
	/* Answers pass as they are, SERVFAIL and REFUSED included: the client judges them. */
	o.flags = ARES_FLAG_NOCHECKRESP;
	o.sock_state_cb = sock_state;
	o.sock_state_cb_data = f;
	o.timeout = 2000;
	o.tries = 2;
	r = ares_init_options(&f->ch, &o,
			      ARES_OPT_FLAGS | ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS |
				  ARES_OPT_TRIES);
	if (r != ARES_SUCCESS) {
		snprintf(err, errlen, "cannot read the host's resolver configuration: %s",
			 ares_strerror(r));
		ares_library_cleanup();
		free(f);
		return NULL;
	}
	if (servers && servers_len)
		list_servers(f->ch, servers, servers_len);
	return f;
}

void dns_fwd_free(struct dns_fwd *f)
{
	if (!f)
		return;
	ares_destroy(f->ch);
	ares_library_cleanup();
	free(f);
}

void dns_fwd_send(struct dns_fwd *f, const unsigned char *q, size_t len, dns_fwd_done_fn done,
		  void *arg)
{
	struct pending *p = malloc(sizeof(*p));

	if (!p) {
		done(arg, NULL, 0, "out of memory");
		return;
	}
	p->done = done;
	p->arg = arg;
	ares_send(f->ch, q, (int)len, answered, p);
}

void dns_fwd_process(struct dns_fwd *f, int read_fd, int write_fd)
{
	ares_process_fd(f->ch, read_fd < 0 ? ARES_SOCKET_BAD : read_fd,
			write_fd < 0 ? ARES_SOCKET_BAD : write_fd);
}

int dns_fwd_timeout_ms(struct dns_fwd *f)
{
	struct timeval tv, *t;

	t = ares_timeout(f->ch, NULL, &tv);
	if (!t)
		return -1;
	return (int)(t->tv_sec * 1000 + (t->tv_usec + 999) / 1000);
}

size_t dns_fwd_addrs(const unsigned char *ans, size_t len, int family, unsigned char (*out)[16],
		     size_t max)
{
	struct ares_addrttl a4[32];
	struct ares_addr6ttl a6[32];
	int n = 32, i;
	size_t k = 0;

	if (len > 65535)
		return 0;
	if (family == AF_INET) {
		if (ares_parse_a_reply(ans, (int)len, NULL, a4, &n) != ARES_SUCCESS)
			return 0;
		for (i = 0; i < n && k < max; i++)
			memcpy(out[k++], &a4[i].ipaddr, 4);
	} else {
		if (ares_parse_aaaa_reply(ans, (int)len, NULL, a6, &n) != ARES_SUCCESS)
			return 0;
		for (i = 0; i < n && k < max; i++)
			memcpy(out[k++], &a6[i].ip6addr, 16);
	}
	return k;
}
