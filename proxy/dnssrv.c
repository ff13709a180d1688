// SPDX-License-Identifier: MIT
/*
 * dnssrv.c: the jail's DNS listeners, answered by the responder or (--use-real-dns) by the
 * host's resolver, one log line and one audit record per query.
 *
 * UDP queries are answered in the order they come. TCP connections (a few at a time) are read
 * frame by frame; a forwarded query's answer may overtake a later synthetic one on the same
 * connection, which RFC 7766 allows (answers carry their query's id). Writes never block: a
 * reply is small and the socket buffer empty, and a client that does not read is closed.
 */
#include "proxy/dnssrv.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "proxy/audit.h"
#include "proxy/dns.h"
#include "proxy/dnsfwd.h"
#include "proxy/log.h"
#include "proxy/loop.h"
#include "proxy/ruleset.h"
#include "proxy/secret.h"
#include "proxy/util.h"
#include "rules/rules.h"

#define TCP_MAX	    32
#define PENDING_MAX 256 /* forwarded queries in flight; beyond, SERVFAIL at once */
#define ANSWER_MAX  65535

enum ev_kind { EV_UDP = 1, EV_TCP_LISTEN, EV_TCP_CONN, EV_FWD };

struct tcp_conn {
	int fd;
	int probe6;   /* its listener's (struct dns_server_config) */
	uint32_t gen; /* bumped on close: a late forwarded answer finds out */
	uint32_t pid;
	char comm[16];
	size_t in_len;
	unsigned char in[DNS_TCP_QUERY_MAX + 2];
};

/* Where a query came from, and so where its answer goes. */
struct origin {
	bool tcp;
	int fd; /* UDP: the listener */
	struct sockaddr_storage peer;
	socklen_t peer_len;
	unsigned slot; /* TCP */
	uint32_t gen;
	size_t limit; /* the largest answer the transport takes */
	uint32_t pid;
	char comm[16];
	bool has_exe; /* the file the sender runs (exe_dev, exe_ino), for the records */
	uint64_t exe_dev, exe_ino;
};

struct pending {
	struct dns_server *s;
	struct origin o;
	struct dns_query q;
	const char *rule;   /* in rs */
	struct ruleset *rs; /* a reference: rule stays valid across a reload */
	size_t len;
	unsigned char msg[]; /* the query, for an error answer */
};

struct dns_server {
	struct dns_server_config cfg;
	/* the listening sockets: cfg's two of each, then those dns_server_add() gave */
	int lis_udp[DNS_SERVER_SOCKS], lis_tcp[DNS_SERVER_SOCKS], lis_probe[DNS_SERVER_SOCKS];
	unsigned n_socks;
	struct dns_fwd *fwd;
	struct ruleset *rs; /* the rules forwarding is decided by (a reference) */
	struct tcp_conn tcp[TCP_MAX];
	unsigned n_pending;
	bool closing;
	/*
	 * Out of file descriptors: the TCP listeners leave the epoll set until tcp_pause.until,
	 * or a listener with a connection waiting would wake the loop forever.
	 */
	struct loop_pause tcp_pause;
};

static uint64_t ev_data(enum ev_kind k, uint32_t v)
{
	return DNS_SERVER_EV | (uint64_t)k << 32 | v;
}

static void watch(int ep, int fd, uint32_t events, uint64_t data)
{
	struct epoll_event ev = {.events = events, .data.u64 = data};

	if (epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev) == -1 && errno == ENOENT)
		epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

/* --- records ------------------------------------------------------------------------------- */

static void record(struct dns_server *s, const struct origin *o, const struct dns_query *q,
		   const char *decision, const char *rule, const char *reason)
{
	struct audit_record ar;
	char exe[256];

	if (!s->cfg.audit)
		return;
	memset(&ar, 0, sizeof(ar));
	ar.event = "dns";
	ar.kind = "dns";
	ar.duration_ms = -1;
	ar.decision = decision;
	ar.rule = rule;
	ar.reason = reason;
	ar.pid = o->pid;
	ar.comm = o->comm[0] ? o->comm : NULL;
	if (o->has_exe) {
		util_exe_str(o->pid, o->exe_dev, o->exe_ino, exe, sizeof(exe));
		ar.exe = exe;
	}
	if (q) {
		ar.host = q->name;
		ar.dns_type = dns_type_name(q->qtype);
	}
	audit_write(s->cfg.audit, &ar);
}

static void who_str(const struct origin *o, char *out, size_t len)
{
	if (o->comm[0])
		snprintf(out, len, "%s[%u]", o->comm, o->pid);
	else
		snprintf(out, len, "a jailed process");
}

/* --- replies ------------------------------------------------------------------------------- */

static void tcp_close(struct dns_server *s, unsigned slot)
{
	struct tcp_conn *t = &s->tcp[slot];

	if (t->fd < 0)
		return;
	epoll_ctl(s->cfg.ep, EPOLL_CTL_DEL, t->fd, NULL);
	close(t->fd);
	t->fd = -1;
	t->gen++;
}

/* Sends msg[0..len) to where o came from (TCP: with its length prefix). */
static void reply(struct dns_server *s, const struct origin *o, const unsigned char *msg,
		  size_t len)
{
	unsigned char frame[2 + ANSWER_MAX];
	struct tcp_conn *t;

	if (!o->tcp) {
		sendto(o->fd, msg, len, MSG_DONTWAIT, (const struct sockaddr *)&o->peer,
		       o->peer_len);
		return;
	}
	t = &s->tcp[o->slot];
	if (t->fd < 0 || t->gen != o->gen || len > ANSWER_MAX)
		return;
	frame[0] = (unsigned char)(len >> 8);
	frame[1] = (unsigned char)len;
	memcpy(frame + 2, msg, len);
	if (send(t->fd, frame, len + 2, MSG_DONTWAIT | MSG_NOSIGNAL) != (ssize_t)(len + 2))
		tcp_close(s, o->slot);
}

/* --- forwarding (--use-real-dns) ------------------------------------------------------------ */

/* A forwarded answer too large for the client's UDP: header and question only, TC set. */
static size_t truncate_answer(unsigned char *a, size_t len, const struct pending *p)
{
	size_t n = 12 + p->q.question_len;

	if (n > len)
		return len;
	a[2] |= 0x02; /* TC */
	memset(a + 6, 0, 6);
	return n;
}

static void forwarded(void *arg, const unsigned char *ans, size_t len, const char *err)
{
	struct pending *p = arg;
	struct dns_server *s = p->s;
	unsigned char buf[ANSWER_MAX], addrs[16][16];
	char who[48];
	size_t n, i, k;
	ssize_t r;
	int fam;

	s->n_pending--;
	if (s->closing) {
		ruleset_unref(p->rs);
		free(p);
		return;
	}
	who_str(&p->o, who, sizeof(who));
	if (ans && len <= sizeof(buf)) {
		memcpy(buf, ans, len);
		buf[0] = (unsigned char)(p->q.id >> 8);
		buf[1] = (unsigned char)p->q.id;
		n = len > p->o.limit ? truncate_answer(buf, len, p) : len;
		/*
		 * The addresses are noted before the client has them: it may connect to one at
		 * once, and the proxy's thread must then find the name behind it.
		 */
		fam = p->q.qtype == DNS_TYPE_A ? AF_INET : AF_INET6;
		k = dns_fwd_addrs(ans, len, fam, addrs, 16);
		for (i = 0; i < k; i++)
			dns_table_note(s->cfg.table, fam, addrs[i], p->q.name);
		reply(s, &p->o, buf, n);
		log_info("DNS %s %s from %s: answered by the host's resolver, %zu address%s "
			 "(rule: %s)",
			 dns_type_name(p->q.qtype), p->q.name, who, k, k == 1 ? "" : "es", p->rule);
		record(s, &p->o, &p->q, "forwarded", p->rule, NULL);
	} else {
		r = dns_error_answer(&p->q, p->msg, p->len, DNS_RCODE_SERVFAIL, buf, sizeof(buf));
		if (r > 0)
			reply(s, &p->o, buf, (size_t)r);
		log_warn(
		    "DNS %s %s from %s: the host's resolver gave no answer: %s (SERVFAIL sent)",
		    dns_type_name(p->q.qtype), p->q.name, who, err ? err : "bad answer");
		record(s, &p->o, &p->q, "forwarded", p->rule, err ? err : "bad answer");
	}
	ruleset_unref(p->rs);
	free(p);
}

static void fwd_watch(void *arg, int fd, bool rd, bool wr)
{
	struct dns_server *s = arg;

	if (!rd && !wr) {
		epoll_ctl(s->cfg.ep, EPOLL_CTL_DEL, fd, NULL);
		return;
	}
	watch(s->cfg.ep, fd, (rd ? EPOLLIN : 0) | (wr ? EPOLLOUT : 0),
	      ev_data(EV_FWD, (uint32_t)fd));
}

/* The rule that lets q go to the host's resolver, or NULL: then it gets a synthetic answer. */
static const char *forward_rule(const struct dns_server *s, const struct dns_query *q)
{
	struct rules_decision d;

	if (!s->fwd || q->qclass != DNS_CLASS_IN ||
	    (q->qtype != DNS_TYPE_A && q->qtype != DNS_TYPE_AAAA) || !q->name[0])
		return NULL;
	/* Refused before it gets here (refuse_secret); never out, whatever calls this. */
	if (dns_name_secret(s->cfg.secrets, s->cfg.n_secrets, q->name) >= 0)
		return NULL;
	rules_match_host(ruleset_rules(s->rs), q->name, strlen(q->name), 0, RULES_DOMAIN, &d);
	return d.allow ? d.raw : NULL;
}

/* Hands the query to the host's resolver. Returns false when it could not (too many). */
static bool forward(struct dns_server *s, const struct origin *o, const struct dns_query *q,
		    const unsigned char *msg, size_t len, const char *rule)
{
	struct pending *p;

	if (s->n_pending >= PENDING_MAX)
		return false;
	p = malloc(sizeof(*p) + len);
	if (!p)
		return false;
	p->s = s;
	p->o = *o;
	p->q = *q;
	p->rule = rule;
	p->rs = ruleset_ref(s->rs);
	p->len = len;
	memcpy(p->msg, msg, len);
	s->n_pending++;
	dns_fwd_send(s->fwd, msg, len, forwarded, p);
	return true;
}

/* --- queries ------------------------------------------------------------------------------- */

/* The synthetic path's log line and record, for one query msg[0..len). */
static void note_synthetic(struct dns_server *s, const struct origin *o, const unsigned char *msg,
			   size_t len)
{
	struct dns_query q;
	char who[48];

	who_str(o, who, sizeof(who));
	if (dns_parse_query(msg, len, &q) > 0) {
		log_debug("DNS %s %s from %s: synthetic answer",
			  dns_type_name(q.qtype) ? dns_type_name(q.qtype) : "query", q.name, who);
		record(s, o, &q, "synthetic", NULL, NULL);
	} else {
		log_debug("DNS: a malformed query from %s", who);
		record(s, o, NULL, "deny", NULL, "malformed query");
	}
}

/*
 * A query whose name carries a secret's placeholder (an attempt to send it out through DNS,
 * to whoever serves the name's zone) is answered NXDOMAIN, whatever the rules say, and never
 * forwarded: a warning and a "deny" record name the process and the secret (never its value).
 * Returns true if msg[0..len) was such a query.
 */
static bool refuse_secret(struct dns_server *s, const struct origin *o, const unsigned char *msg,
			  size_t len)
{
	unsigned char out[DNS_REPLY_MAX];
	struct dns_query q;
	char who[48], why[SECRET_NAME_MAX + 32];
	const char *name;
	ssize_t hit, r;

	if (s->cfg.n_secrets == 0 || dns_parse_query(msg, len, &q) <= 0)
		return false;
	hit = dns_name_secret(s->cfg.secrets, s->cfg.n_secrets, q.name);
	if (hit < 0)
		return false;
	name = s->cfg.secrets[hit].name;
	who_str(o, who, sizeof(who));
	r = dns_error_answer(&q, msg, len, DNS_RCODE_NXDOMAIN, out, sizeof(out));
	if (r > 0)
		reply(s, o, out, (size_t)r);
	log_warn("DNS %s %s from %s: the name carries the placeholder of secret %s: refused "
		 "(NXDOMAIN), an attempt to send it out through DNS",
		 dns_type_name(q.qtype) ? dns_type_name(q.qtype) : "query", q.name, who, name);
	snprintf(why, sizeof(why), "secret %s sent in a DNS name", name);
	record(s, o, &q, "deny", NULL, why);
	return true;
}

/* Forwards q if the rules say so. Returns true if it is now on its way. */
static bool try_forward(struct dns_server *s, const struct origin *o, const unsigned char *msg,
			size_t len)
{
	struct dns_query q;
	const char *rule;

	if (!s->fwd || dns_parse_query(msg, len, &q) <= 0)
		return false;
	rule = forward_rule(s, &q);
	if (!rule)
		return false;
	if (forward(s, o, &q, msg, len, rule))
		return true;
	log_warn("DNS %s %s: too many queries waiting for the host's resolver; this one gets a "
		 "synthetic answer",
		 dns_type_name(q.qtype), q.name);
	return false;
}

/*
 * Whether the namespace of probe (a UDP socket there) has IPv6 loopback now: sets the table's
 * AAAA answers for the query about to be answered. Nothing when probe is -1.
 */
static void v6_for(struct dns_server *s, int probe)
{
	struct sockaddr_in6 lo = {
	    .sin6_family = AF_INET6, .sin6_port = htons(53), .sin6_addr = IN6ADDR_LOOPBACK_INIT};

	if (probe >= 0)
		dns_table_set_v6(s->cfg.table,
				 connect(probe, (struct sockaddr *)&lo, sizeof(lo)) == 0);
}

static void lookup_who(struct dns_server *s, struct origin *o)
{
	struct dns_who w = {0};

	if (!s->cfg.who || s->cfg.who(s->cfg.who_arg, o->fd, &o->peer, o->tcp, &w) < 0)
		memset(&w, 0, sizeof(w));
	o->pid = w.pid;
	memcpy(o->comm, w.comm, sizeof(o->comm));
	o->comm[15] = '\0';
	o->has_exe = w.has_exe;
	o->exe_dev = w.exe_dev;
	o->exe_ino = w.exe_ino;
}

static void udp_read(struct dns_server *s, int fd, int probe6)
{
	unsigned char in[DNS_TCP_QUERY_MAX], out[DNS_REPLY_MAX * 2];
	struct origin o;
	struct dns_query q;
	ssize_t n, r;
	int i;

	for (i = 0; i < 256; i++) {
		memset(&o, 0, sizeof(o));
		o.peer_len = sizeof(o.peer);
		n = recvfrom(fd, in, sizeof(in), MSG_DONTWAIT, (struct sockaddr *)&o.peer,
			     &o.peer_len);
		if (n < 0)
			return;
		o.fd = fd;
		lookup_who(s, &o);
		o.limit = 512;
		if (dns_parse_query(in, (size_t)n, &q) > 0 && q.edns)
			o.limit = q.edns_size < 512		? 512
				  : q.edns_size > DNS_EDNS_SIZE ? DNS_EDNS_SIZE
								: q.edns_size;
		if (refuse_secret(s, &o, in, (size_t)n) || try_forward(s, &o, in, (size_t)n))
			continue;
		note_synthetic(s, &o, in, (size_t)n);
		v6_for(s, probe6);
		r = dns_handle(s->cfg.table, in, (size_t)n, out, sizeof(out), DNS_EDNS_SIZE);
		if (r > 0)
			reply(s, &o, out, (size_t)r);
	}
}

static void tcp_accept(struct dns_server *s, int lfd, int probe6)
{
	struct sockaddr_storage peer;
	struct origin o;
	socklen_t len;
	unsigned i, unsaid;
	int fd;

	for (;;) {
		len = sizeof(peer);
		fd = accept4(lfd, (struct sockaddr *)&peer, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM) {
				if (loop_pause(&s->tcp_pause, util_now_ms(), &unsaid))
					log_warn_errno(
					    "DNS over TCP: cannot accept a connection; it "
					    "waits in the backlog until descriptors free "
					    "up (raise the limit with ulimit -n)");
				for (i = 0; i < s->n_socks; i++)
					if (s->lis_tcp[i] >= 0)
						epoll_ctl(s->cfg.ep, EPOLL_CTL_DEL, s->lis_tcp[i],
							  NULL);
			}
			return;
		}
		for (i = 0; i < TCP_MAX && s->tcp[i].fd >= 0; i++)
			;
		if (i == TCP_MAX) {
			close(fd); /* the client retries */
			continue;
		}
		memset(&o, 0, sizeof(o));
		o.tcp = true;
		o.peer = peer;
		o.fd = fd;
		lookup_who(s, &o);
		s->tcp[i].fd = fd;
		s->tcp[i].probe6 = probe6;
		s->tcp[i].in_len = 0;
		s->tcp[i].pid = o.pid;
		memcpy(s->tcp[i].comm, o.comm, sizeof(o.comm));
		watch(s->cfg.ep, fd, EPOLLIN, ev_data(EV_TCP_CONN, i));
	}
}

static void tcp_read(struct dns_server *s, unsigned slot)
{
	unsigned char out[2 + DNS_REPLY_MAX];
	struct tcp_conn *t = &s->tcp[slot];
	struct origin o;
	size_t flen, out_len;
	ssize_t n, used;

	n = read(t->fd, t->in + t->in_len, sizeof(t->in) - t->in_len);
	if (n <= 0) {
		if (n == 0 || errno != EAGAIN)
			tcp_close(s, slot);
		return;
	}
	t->in_len += (size_t)n;
	memset(&o, 0, sizeof(o));
	o.tcp = true;
	o.slot = slot;
	o.limit = ANSWER_MAX;
	o.pid = t->pid;
	memcpy(o.comm, t->comm, sizeof(o.comm));
	/* One frame at a time: each is forwarded or answered on its own. */
	while (t->fd >= 0 && t->in_len >= 2) {
		o.gen = t->gen;
		flen = (size_t)t->in[0] << 8 | t->in[1];
		if (flen >= 12 && flen <= DNS_TCP_QUERY_MAX && t->in_len < 2 + flen)
			break;
		if (flen >= 12 && flen <= DNS_TCP_QUERY_MAX &&
		    (refuse_secret(s, &o, t->in + 2, flen) ||
		     try_forward(s, &o, t->in + 2, flen))) {
			used = (ssize_t)(2 + flen);
		} else {
			out_len = 0;
			v6_for(s, t->probe6);
			used = dns_tcp_feed(s->cfg.table, t->in,
					    t->in_len < 2 + flen ? t->in_len : 2 + flen, out,
					    sizeof(out), &out_len);
			if (used > 0)
				note_synthetic(s, &o, t->in + 2, flen);
			if (out_len && send(t->fd, out, out_len, MSG_DONTWAIT | MSG_NOSIGNAL) !=
					   (ssize_t)out_len)
				used = -1;
			if (used <= 0) {
				tcp_close(s, slot);
				return;
			}
		}
		memmove(t->in, t->in + used, t->in_len - (size_t)used);
		t->in_len -= (size_t)used;
	}
	if (t->fd >= 0 && t->in_len == sizeof(t->in))
		tcp_close(s, slot);
}

/* --- the server ---------------------------------------------------------------------------- */

struct dns_server *dns_server_new(const struct dns_server_config *cfg, char *err, size_t errlen)
{
	struct dns_server *s = calloc(1, sizeof(*s));
	char servers[256];
	unsigned i;

	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->cfg = *cfg;
	for (i = 0; i < TCP_MAX; i++)
		s->tcp[i].fd = -1;
	for (i = 0; i < 2; i++) {
		s->lis_udp[i] = cfg->udp[i];
		s->lis_tcp[i] = cfg->tcp[i];
		s->lis_probe[i] = cfg->probe6;
	}
	s->n_socks = 2;
	s->rs = ruleset_borrow(cfg->rules);
	if (!s->rs) {
		snprintf(err, errlen, "out of memory");
		free(s);
		return NULL;
	}
	if (cfg->use_real_dns) {
		s->fwd = dns_fwd_new(fwd_watch, s, servers, sizeof(servers), err, errlen);
		if (!s->fwd) {
			ruleset_unref(s->rs);
			free(s);
			return NULL;
		}
		log_info("--use-real-dns: A and AAAA queries for names the rules allow go to the "
			 "host's resolver (%s); every other query gets a synthetic answer",
			 servers[0] ? servers : "none configured");
	}
	dns_server_rewatch(s);
	return s;
}

int dns_server_add(struct dns_server *s, int udp, int tcp, int probe6)
{
	unsigned i;

	for (i = 2; i < s->n_socks && (s->lis_udp[i] >= 0 || s->lis_tcp[i] >= 0); i++)
		;
	if (i == DNS_SERVER_SOCKS)
		return -E2BIG;
	s->lis_udp[i] = udp;
	s->lis_tcp[i] = tcp;
	s->lis_probe[i] = probe6;
	if (i == s->n_socks)
		s->n_socks++;
	if (udp >= 0)
		watch(s->cfg.ep, udp, EPOLLIN, ev_data(EV_UDP, i));
	if (tcp >= 0 && !s->tcp_pause.until)
		watch(s->cfg.ep, tcp, EPOLLIN, ev_data(EV_TCP_LISTEN, i));
	return 0;
}

void dns_server_remove(struct dns_server *s, int udp, int tcp)
{
	unsigned i;

	for (i = 0; i < s->n_socks; i++) {
		if (udp >= 0 && s->lis_udp[i] == udp) {
			epoll_ctl(s->cfg.ep, EPOLL_CTL_DEL, udp, NULL);
			s->lis_udp[i] = -1;
		}
		if (tcp >= 0 && s->lis_tcp[i] == tcp) {
			epoll_ctl(s->cfg.ep, EPOLL_CTL_DEL, tcp, NULL);
			s->lis_tcp[i] = -1;
		}
	}
}

void dns_server_rewatch(struct dns_server *s)
{
	unsigned i;

	for (i = 0; i < s->n_socks; i++) {
		if (s->lis_udp[i] >= 0)
			watch(s->cfg.ep, s->lis_udp[i], EPOLLIN, ev_data(EV_UDP, i));
		if (s->lis_tcp[i] >= 0)
			watch(s->cfg.ep, s->lis_tcp[i], EPOLLIN, ev_data(EV_TCP_LISTEN, i));
	}
}

void dns_server_event(struct dns_server *s, uint64_t u64, uint32_t events)
{
	enum ev_kind k = (enum ev_kind)((u64 >> 32) & 0xff);
	uint32_t v = (uint32_t)u64;

	switch (k) {
	case EV_UDP:
		if (v < s->n_socks && s->lis_udp[v] >= 0)
			udp_read(s, s->lis_udp[v], s->lis_probe[v]);
		break;
	case EV_TCP_LISTEN:
		if (v < s->n_socks && s->lis_tcp[v] >= 0)
			tcp_accept(s, s->lis_tcp[v], s->lis_probe[v]);
		break;
	case EV_TCP_CONN:
		if (v < TCP_MAX && s->tcp[v].fd >= 0)
			tcp_read(s, v);
		break;
	case EV_FWD:
		if (s->fwd)
			dns_fwd_process(s->fwd,
					events & (EPOLLIN | EPOLLERR | EPOLLHUP) ? (int)v : -1,
					events & EPOLLOUT ? (int)v : -1);
		break;
	}
}

int dns_server_timeout_ms(struct dns_server *s)
{
	int t = s->fwd ? dns_fwd_timeout_ms(s->fwd) : -1;
	uint64_t now;
	int p;

	if (s->tcp_pause.until) {
		now = util_now_ms();
		p = now >= s->tcp_pause.until ? 0 : (int)(s->tcp_pause.until - now);
		if (t < 0 || p < t)
			t = p;
	}
	return t;
}

void dns_server_tick(struct dns_server *s)
{
	unsigned i;

	if (s->tcp_pause.until && loop_pause_over(&s->tcp_pause, util_now_ms())) {
		for (i = 0; i < s->n_socks; i++)
			if (s->lis_tcp[i] >= 0)
				watch(s->cfg.ep, s->lis_tcp[i], EPOLLIN, ev_data(EV_TCP_LISTEN, i));
	}
	if (s->fwd)
		dns_fwd_process(s->fwd, -1, -1);
}

void dns_server_free(struct dns_server *s)
{
	unsigned i;

	if (!s)
		return;
	s->closing = true;
	dns_fwd_free(s->fwd);
	for (i = 0; i < TCP_MAX; i++)
		tcp_close(s, i);
	for (i = 0; i < s->n_socks; i++) {
		if (s->lis_udp[i] >= 0)
			epoll_ctl(s->cfg.ep, EPOLL_CTL_DEL, s->lis_udp[i], NULL);
		if (s->lis_tcp[i] >= 0)
			epoll_ctl(s->cfg.ep, EPOLL_CTL_DEL, s->lis_tcp[i], NULL);
	}
	ruleset_unref(s->rs);
	free(s);
}

void dns_server_set_rules(struct dns_server *s, struct ruleset *rs)
{
	struct ruleset *old = s->rs;

	s->rs = ruleset_ref(rs);
	ruleset_unref(old);
}
