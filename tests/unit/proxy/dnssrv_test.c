// SPDX-License-Identifier: MIT
/*
 * dnssrv_test.c: the DNS server's refusal of names that carry a secret's placeholder, through
 * real sockets on 127.0.0.1 (UDP and TCP) served by dns_server_event() from an epoll loop of
 * the test's: a raw placeholder label, hex split across two labels, lower-case base32 over TCP
 * get NXDOMAIN and a "deny" audit record naming the secret (never its value), while an ordinary
 * name, and the same names with no secrets, get a synthetic address. And the forwarding rule
 * (--use-real-dns) never lets such a name go, even where the rules allow its domain. Includes
 * dnssrv.c to reach forward_rule().
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proxy/dnssrv.c"

#define PH    "boundary-secret-API_TOKEN-0123456789abcdef0123456789abcdef"
#define VALUE "the-real-value-never-printed"

static struct secret sec[1];
static struct rules *rules;
static struct dns_table *table;
static struct audit *audit;
static struct dns_server *srv;
static int ep = -1, udp = -1, tcp = -1;
static struct sockaddr_in udp_addr, tcp_addr;
static char dir[64], audit_path_[96];

static int bound(int type, struct sockaddr_in *a)
{
	socklen_t len = sizeof(*a);
	int fd = socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	memset(a, 0, sizeof(*a));
	a->sin_family = AF_INET;
	a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)a, sizeof(*a)) == -1 ||
	    (type == SOCK_STREAM && listen(fd, 8) == -1) ||
	    getsockname(fd, (struct sockaddr *)a, &len) == -1)
		return -1;
	return fd;
}

/* A server with n_secrets of sec[] (0 or 1). */
static void start(size_t n_secrets)
{
	struct dns_server_config dc;
	char err[256];

	memset(&dc, 0, sizeof(dc));
	dc.table = table;
	dc.rules = rules;
	dc.audit = audit;
	dc.udp[0] = udp;
	dc.udp[1] = -1;
	dc.tcp[0] = tcp;
	dc.tcp[1] = -1;
	dc.probe6 = -1;
	dc.ep = ep;
	dc.secrets = n_secrets ? sec : NULL;
	dc.n_secrets = n_secrets;
	srv = dns_server_new(&dc, err, sizeof(err));
	assert_non_null(srv);
}

static int setup(void **state)
{
	char err[256];

	(void)state;
	memset(sec, 0, sizeof(sec));
	snprintf(sec[0].name, sizeof(sec[0].name), "API_TOKEN");
	snprintf(sec[0].placeholder, sizeof(sec[0].placeholder), "%s", PH);
	sec[0].placeholder_len = strlen(PH);
	sec[0].value = VALUE;
	sec[0].value_len = strlen(VALUE);
	rules = rules_new();
	table = dns_table_new();
	ep = epoll_create1(EPOLL_CLOEXEC);
	udp = bound(SOCK_DGRAM, &udp_addr);
	tcp = bound(SOCK_STREAM, &tcp_addr);
	snprintf(dir, sizeof(dir), "/tmp/dnssrv_test.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(audit_path_, sizeof(audit_path_), "%s/audit.jsonl", dir);
	audit = audit_open(&(struct audit_config){.path = audit_path_, .jail_id = "1-2"}, err,
			   sizeof(err));
	if (!rules || rules_add(rules, "domain=*.leak.test", NULL, NULL, 0) < 0 || !table ||
	    ep < 0 || udp < 0 || tcp < 0 || !audit)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (srv)
		srv->fwd = NULL; /* test_never_forwarded's stand-in, were it left */
	dns_server_free(srv);
	srv = NULL;
	audit_close(audit);
	unlink(audit_path_);
	rmdir(dir);
	close(udp);
	close(tcp);
	close(ep);
	dns_table_free(table);
	rules_free(rules);
	return 0;
}

/* A query for name (dotted, no trailing dot) at out; returns its length. */
static size_t query(uint16_t id, const char *name, uint16_t qtype, unsigned char *out)
{
	size_t o = 12, l;
	const char *p = name, *dot;

	memset(out, 0, 12);
	out[0] = (unsigned char)(id >> 8);
	out[1] = (unsigned char)id;
	out[2] = 0x01; /* RD */
	out[5] = 1;    /* QDCOUNT */
	for (;;) {
		dot = strchr(p, '.');
		l = dot ? (size_t)(dot - p) : strlen(p);
		out[o++] = (unsigned char)l;
		memcpy(out + o, p, l);
		o += l;
		if (!dot)
			break;
		p = dot + 1;
	}
	out[o++] = 0;
	out[o++] = (unsigned char)(qtype >> 8);
	out[o++] = (unsigned char)qtype;
	out[o++] = 0;
	out[o++] = 1;
	return o;
}

/* Runs the server's events until fd has something to read (5 s at most). */
static void pump_until_readable(int fd)
{
	struct epoll_event evs[8];
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	int i, n, round;

	for (round = 0; round < 500; round++) {
		n = epoll_wait(ep, evs, 8, 10);
		for (i = 0; i < n; i++)
			if (evs[i].data.u64 & DNS_SERVER_EV)
				dns_server_event(srv, evs[i].data.u64, evs[i].events);
		if (poll(&pfd, 1, 0) == 1)
			return;
	}
	fail_msg("no reply in 5 s");
}

/* The rcode of the reply to a UDP query for name, and its answer count in *ancount. */
static int ask_udp(const char *name, int *ancount)
{
	unsigned char q[512], r[512];
	int c = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	size_t len = query(0x4242, name, DNS_TYPE_A, q);
	ssize_t n;

	assert_true(c >= 0);
	assert_int_equal(sendto(c, q, len, 0, (struct sockaddr *)&udp_addr, sizeof(udp_addr)),
			 (ssize_t)len);
	pump_until_readable(c);
	n = recv(c, r, sizeof(r), 0);
	close(c);
	assert_true(n >= 12);
	assert_int_equal(r[0] << 8 | r[1], 0x4242);
	*ancount = r[6] << 8 | r[7];
	return r[3] & 0xf;
}

static int ask_tcp(const char *name, int *ancount)
{
	unsigned char q[2 + 512], r[2 + 512];
	int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	size_t len = query(0x4343, name, DNS_TYPE_A, q + 2);
	ssize_t n;

	assert_true(c >= 0);
	assert_int_equal(connect(c, (struct sockaddr *)&tcp_addr, sizeof(tcp_addr)), 0);
	q[0] = (unsigned char)(len >> 8);
	q[1] = (unsigned char)len;
	assert_int_equal(send(c, q, len + 2, 0), (ssize_t)(len + 2));
	pump_until_readable(c); /* the accept, the query read, the reply */
	n = recv(c, r, sizeof(r), 0);
	close(c);
	assert_true(n >= 14);
	assert_int_equal(r[2] << 8 | r[3], 0x4343);
	*ancount = r[8] << 8 | r[9];
	return r[5] & 0xf;
}

/* The placeholder in hex, split across two labels: "<58>.<58>.leak.test". */
static void hex_name(char *out, size_t len)
{
	char hex[2 * sizeof(PH)];
	size_t i;

	for (i = 0; i < strlen(PH); i++)
		snprintf(hex + 2 * i, 3, "%02x", (unsigned char)PH[i]);
	snprintf(out, len, "%.58s.%s.leak.test", hex, hex + 58);
}

/* Python: base64.b32encode(PH).lower(), padding dropped, in two labels. */
#define B32_NAME                                                                                   \
	"mjxxk3temfzhslltmvrxezlufvavask7krhuwrkofuydcmrtg."                                       \
	"q2tmnzyhfqwey3emvtdamjsgm2dknrxha4wcytdmrswm.leak.test"

static char *slurp(const char *path)
{
	static char buf[65536];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	assert_true(fd >= 0);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static void test_refused(void **state)
{
	char name[300], *log;
	const char *p;
	int an, denials = 0;

	(void)state;
	start(1);
	assert_int_equal(ask_udp("ok.leak.test", &an), DNS_RCODE_NOERROR);
	assert_int_equal(an, 1);
	assert_int_equal(ask_udp(PH ".leak.test", &an), DNS_RCODE_NXDOMAIN);
	assert_int_equal(an, 0);
	hex_name(name, sizeof(name));
	assert_int_equal(ask_udp(name, &an), DNS_RCODE_NXDOMAIN);
	assert_int_equal(ask_tcp(B32_NAME, &an), DNS_RCODE_NXDOMAIN);
	assert_int_equal(an, 0);
	/* the same TCP connection path still answers an ordinary name */
	assert_int_equal(ask_tcp("ok2.leak.test", &an), DNS_RCODE_NOERROR);
	assert_int_equal(an, 1);
	audit_close(audit); /* writes out what is queued */
	audit = NULL;
	log = slurp(audit_path_);
	for (p = log; (p = strstr(p, "\"reason\":\"secret API_TOKEN sent in a DNS name\"")); p++)
		denials++;
	assert_int_equal(denials, 3);
	assert_non_null(strstr(log, "\"decision\":\"deny\",\"kind\":\"dns\""));
	assert_null(strstr(log, VALUE));
}

static void test_no_secrets_no_refusal(void **state)
{
	int an;

	(void)state;
	start(0);
	assert_int_equal(ask_udp(PH ".leak.test", &an), DNS_RCODE_NOERROR);
	assert_int_equal(an, 1);
	assert_int_equal(ask_tcp(B32_NAME, &an), DNS_RCODE_NOERROR);
}

/* --use-real-dns: the rules allow *.leak.test, but never a name with a placeholder. */
static void test_never_forwarded(void **state)
{
	struct dns_query q;
	unsigned char msg[512];
	char name[300];

	(void)state;
	start(1);
	srv->fwd = (struct dns_fwd *)&q; /* forward_rule() only asks whether there is one */
	assert_true(dns_parse_query(msg, query(1, "ok.leak.test", DNS_TYPE_A, msg), &q) > 0);
	assert_non_null(forward_rule(srv, &q));
	assert_true(dns_parse_query(msg, query(1, PH ".leak.test", DNS_TYPE_A, msg), &q) > 0);
	assert_null(forward_rule(srv, &q));
	hex_name(name, sizeof(name));
	assert_true(dns_parse_query(msg, query(1, name, DNS_TYPE_AAAA, msg), &q) > 0);
	assert_null(forward_rule(srv, &q));
	srv->fwd = NULL;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_no_secrets_no_refusal, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_never_forwarded, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
