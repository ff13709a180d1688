// SPDX-License-Identifier: MIT
/*
 * auditsink_test.c: the --audit-log sink spec's parser (what is a sink, what is a file, what is
 * refused and how it is said), and the syslog sinks over loopback: one datagram per record on
 * UDP and on a Unix socket, octet-counted frames on TCP, all sent by auditsink_free() (flush at
 * the end); a TCP listener that is down at first, reached by a later try with what waited
 * kept; and a sink that nobody listens to counting its drops rather than blocking.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "proxy/audit.h"
#include "proxy/auditsink.h"
#include "proxy/util.h"

struct parse_case {
	const char *in;
	int want; /* 1 sink, 0 file, -EINVAL */
	int kind, net;
	const char *host, *port, *path; /* path: the socket's or the HTTP target */
	const char *err;		/* a piece of the message */
};

static const struct parse_case cases[] = {
    {"journald", 1, AUDITSINK_JOURNALD, AUDITSINK_NET_NONE, "", "", "", NULL},
    {"syslog", 1, AUDITSINK_SYSLOG, AUDITSINK_NET_UNIX, "", "", "/dev/log", NULL},
    {"syslog:/run/my.sock", 1, AUDITSINK_SYSLOG, AUDITSINK_NET_UNIX, "", "", "/run/my.sock", NULL},
    {"syslog:udp://127.0.0.1:514", 1, AUDITSINK_SYSLOG, AUDITSINK_NET_UDP, "127.0.0.1", "514", "",
     NULL},
    {"syslog:tcp://[::1]:6514", 1, AUDITSINK_SYSLOG, AUDITSINK_NET_TCP, "::1", "6514", "", NULL},
    {"syslog:tcp://logs.example:601", 1, AUDITSINK_SYSLOG, AUDITSINK_NET_TCP, "logs.example", "601",
     "", NULL},
    {"otlp+http://127.0.0.1:4318", 1, AUDITSINK_OTLP, AUDITSINK_NET_HTTP, "127.0.0.1", "4318",
     "/v1/logs", NULL},
    {"otlp+http://collector:4318/", 1, AUDITSINK_OTLP, AUDITSINK_NET_HTTP, "collector", "4318",
     "/v1/logs", NULL},
    {"otlp+http://[::1]:80/otlp/v1/logs?x=1", 1, AUDITSINK_OTLP, AUDITSINK_NET_HTTP, "::1", "80",
     "/otlp/v1/logs?x=1", NULL},
    /* files */
    {"-", 0, 0, 0, NULL, NULL, NULL, NULL},
    {"/var/log/boundary.jsonl", 0, 0, 0, NULL, NULL, NULL, NULL},
    {"./journald", 0, 0, 0, NULL, NULL, NULL, NULL},
    {"journald.jsonl", 0, 0, 0, NULL, NULL, NULL, NULL},
    {"", 0, 0, 0, NULL, NULL, NULL, NULL},
    /* refused, saying what to write */
    {"syslog:", -EINVAL, 0, 0, NULL, NULL, NULL, "/PATH (a Unix datagram socket)"},
    {"syslog:ftp://x:1", -EINVAL, 0, 0, NULL, NULL, NULL, "udp://HOST:PORT"},
    {"syslog:udp://host", -EINVAL, 0, 0, NULL, NULL, NULL, "expected HOST:PORT"},
    {"syslog:udp://host:0", -EINVAL, 0, 0, NULL, NULL, NULL, "from 1 to 65535"},
    {"syslog:udp://host:65536", -EINVAL, 0, 0, NULL, NULL, NULL, "from 1 to 65535"},
    {"syslog:udp://host:51x", -EINVAL, 0, 0, NULL, NULL, NULL, "expected HOST:PORT"},
    {"syslog:tcp://::1:514", -EINVAL, 0, 0, NULL, NULL, NULL, "[an IPv6 address]"},
    {"syslog:tcp://u@h:514", -EINVAL, 0, 0, NULL, NULL, NULL, "expected HOST:PORT"},
    {"syslog:udp://h:514/x", -EINVAL, 0, 0, NULL, NULL, NULL, "expected HOST:PORT"},
    {"syslog:tcp://:514", -EINVAL, 0, 0, NULL, NULL, NULL, "expected HOST:PORT"},
    {"otlp+http://h", -EINVAL, 0, 0, NULL, NULL, NULL, "expected HOST:PORT"},
    {"otlp+http://h:4318/a b", -EINVAL, 0, 0, NULL, NULL, NULL, "no spaces"},
    {"otlp+http://h:4318/a#b", -EINVAL, 0, 0, NULL, NULL, NULL, "no #"},
    {"otlp+https://h:4318", -EINVAL, 0, 0, NULL, NULL, NULL, "otlp+http://127.0.0.1:4318"},
    {"otlp://h:4317", -EINVAL, 0, 0, NULL, NULL, NULL, "gRPC is not spoken"},
    {"otlp+grpc://h:4317", -EINVAL, 0, 0, NULL, NULL, NULL, "gRPC is not spoken"},
};

static void test_parse(void **state)
{
	struct auditsink_spec sp;
	char err[512];
	size_t i;
	int ret;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct parse_case *c = &cases[i];

		memset(&sp, 0x5a, sizeof(sp));
		err[0] = '\0';
		ret = auditsink_parse(c->in, &sp, err, sizeof(err));
		if (ret != c->want)
			fail_msg("%s: %d, want %d (%s)", c->in, ret, c->want, err);
		if (ret < 0) {
			if (!strstr(err, c->err))
				fail_msg("%s: \"%s\" does not say \"%s\"", c->in, err, c->err);
			if (!strstr(err, c->in))
				fail_msg("%s: \"%s\" does not quote the value", c->in, err);
			continue;
		}
		if (ret == 0)
			continue;
		assert_int_equal(sp.kind, c->kind);
		assert_int_equal(sp.net, c->net);
		assert_string_equal(sp.host, c->host);
		assert_string_equal(sp.port, c->port);
		assert_string_equal(c->kind == AUDITSINK_OTLP ? sp.http_path : sp.path, c->path);
	}
}

static void test_spec_str(void **state)
{
	struct auditsink_spec sp;
	char err[256], out[2048];

	(void)state;
	assert_int_equal(auditsink_parse("otlp+http://[::1]:4318", &sp, err, sizeof(err)), 1);
	auditsink_spec_str(&sp, out, sizeof(out));
	assert_string_equal(out, "the OTLP collector http://[::1]:4318/v1/logs");
	assert_int_equal(auditsink_parse("syslog:tcp://h:1", &sp, err, sizeof(err)), 1);
	auditsink_spec_str(&sp, out, sizeof(out));
	assert_string_equal(out, "syslog tcp://h:1");
	assert_int_equal(auditsink_parse("syslog", &sp, err, sizeof(err)), 1);
	auditsink_spec_str(&sp, out, sizeof(out));
	assert_string_equal(out, "syslog /dev/log");
}

/* A loopback socket of type, bound to an ephemeral port (listening for TCP); sets *port. */
static int loopback(int type, unsigned *port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof(a);
	int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	if (type == SOCK_STREAM)
		assert_int_equal(listen(fd, 4), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

static struct auditsink *sink(const char *spec)
{
	struct auditsink_config cfg;
	struct auditsink *s;
	char err[256];

	memset(&cfg, 0, sizeof(cfg));
	assert_int_equal(auditsink_parse(spec, &cfg.spec, err, sizeof(err)), 1);
	cfg.jail_id = "j";
	cfg.drain_ms = 1000;
	cfg.timeout_ms = 500;
	s = auditsink_new(&cfg, err, sizeof(err));
	assert_non_null(s);
	return s;
}

static void push(struct auditsink *s, const char *url)
{
	struct audit_record r;

	memset(&r, 0, sizeof(r));
	r.event = "request";
	r.decision = "deny";
	r.url = url;
	r.pid = 9;
	r.duration_ms = -1;
	auditsink_push(s, &r);
}

static void test_syslog_udp(void **state)
{
	char spec[64], buf[4096];
	struct auditsink *s;
	unsigned port;
	ssize_t n;
	int fd;

	(void)state;
	fd = loopback(SOCK_DGRAM, &port);
	snprintf(spec, sizeof(spec), "syslog:udp://127.0.0.1:%u", port);
	s = sink(spec);
	push(s, "http://a.test/1");
	push(s, "http://a.test/2");
	auditsink_free(s); /* what is queued is sent before it returns */
	n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_memory_equal(buf, "<12>1 ", 6);
	assert_non_null(strstr(buf, " boundary "));
	assert_non_null(strstr(buf, "url=\"http://a.test/1\""));
	assert_non_null(strstr(buf, "jail=\"j\""));
	n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_non_null(strstr(buf, "url=\"http://a.test/2\""));
	close(fd);
}

static void test_syslog_unix(void **state)
{
	char dir[] = "/tmp/boundary-sink-test-XXXXXX", path[64], spec[160], buf[4096];
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	struct auditsink *s;
	ssize_t n;
	int fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/log", dir);
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	snprintf(spec, sizeof(spec), "syslog:%s", path);
	s = sink(spec);
	push(s, "http://a.test/unix");
	auditsink_free(s);
	n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_memory_equal(buf, "<12>1 ", 6);
	assert_non_null(strstr(buf, "url=\"http://a.test/unix\""));
	close(fd);
	unlink(path);
	rmdir(dir);
}

static void test_syslog_tcp(void **state)
{
	char spec[64], buf[8192], *p, *end;
	struct auditsink *s;
	unsigned port;
	size_t have = 0, len;
	ssize_t n;
	int lfd, fd, frames = 0;

	(void)state;
	lfd = loopback(SOCK_STREAM, &port);
	snprintf(spec, sizeof(spec), "syslog:tcp://127.0.0.1:%u", port);
	s = sink(spec);
	push(s, "http://a.test/1");
	push(s, "http://a.test/2");
	auditsink_free(s); /* the kernel's backlog accepted the connection for us */
	fd = accept(lfd, NULL, NULL);
	assert_true(fd >= 0);
	while ((n = recv(fd, buf + have, sizeof(buf) - 1 - have, 0)) > 0)
		have += (size_t)n;
	buf[have] = '\0';
	/* RFC 6587 octet counting: LEN SP MSG, twice, nothing else */
	for (p = buf; p < buf + have; p = end + len) {
		len = strtoul(p, &end, 10);
		assert_true(end > p && *end == ' ');
		end++;
		assert_true(end + len <= buf + have);
		assert_memory_equal(end, "<12>1 ", 6);
		frames++;
	}
	assert_int_equal(frames, 2);
	close(fd);
	close(lfd);
}

/* A TCP listener on 127.0.0.1:port, as a collector that comes back. */
static int listen_on(unsigned port)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
				.sin_port = htons((uint16_t)port)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	assert_true(fd >= 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(fd, 4), 0);
	return fd;
}

static void test_syslog_tcp_reconnects(void **state)
{
	char spec[64], buf[8192];
	struct auditsink *s;
	struct timespec pause = {0, 900 * 1000000L};
	unsigned port;
	size_t have = 0;
	ssize_t n;
	int lfd, fd;

	(void)state;
	lfd = loopback(SOCK_STREAM, &port);
	close(lfd); /* down at first: the records wait */
	snprintf(spec, sizeof(spec), "syslog:tcp://127.0.0.1:%u", port);
	s = sink(spec);
	push(s, "http://a.test/while-down");
	nanosleep(&pause, NULL);
	/* back: the next try (0.5 s, then 1 s after the first) finds it */
	lfd = listen_on(port);
	push(s, "http://a.test/after");
	nanosleep(&pause, NULL);
	nanosleep(&pause, NULL);
	auditsink_free(s);
	fd = accept(lfd, NULL, NULL);
	assert_true(fd >= 0);
	while ((n = recv(fd, buf + have, sizeof(buf) - 1 - have, 0)) > 0)
		have += (size_t)n;
	buf[have] = '\0';
	assert_non_null(strstr(buf, "url=\"http://a.test/while-down\""));
	assert_non_null(strstr(buf, "url=\"http://a.test/after\""));
	/* in order: what waited goes first */
	assert_true(strstr(buf, "while-down") < strstr(buf, "/after"));
	close(fd);
	close(lfd);
}

static void test_nobody_listens(void **state)
{
	struct auditsink_config cfg;
	struct auditsink *s;
	uint64_t t0, took;
	char spec[64], err[256];
	unsigned port;
	int fd, i;

	(void)state;
	/* a port that was just free: nothing listens there */
	fd = loopback(SOCK_STREAM, &port);
	close(fd);
	memset(&cfg, 0, sizeof(cfg));
	snprintf(spec, sizeof(spec), "otlp+http://127.0.0.1:%u", port);
	assert_int_equal(auditsink_parse(spec, &cfg.spec, err, sizeof(err)), 1);
	cfg.queue = 4;
	cfg.batch = 2;
	cfg.flush_ms = 10;
	cfg.drain_ms = 300;
	cfg.timeout_ms = 200;
	s = auditsink_new(&cfg, err, sizeof(err));
	assert_non_null(s);
	/* pushing never waits on the collector, whatever it does */
	t0 = util_now_ms();
	for (i = 0; i < 100; i++)
		push(s, "http://a.test/x");
	took = util_now_ms() - t0;
	assert_true(took < 100);
	t0 = util_now_ms();
	auditsink_free(s);
	took = util_now_ms() - t0;
	/* the end is bounded: the drain time and one attempt's timeout, give or take */
	assert_true(took < 300 + 200 + 500);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse),	   cmocka_unit_test(test_spec_str),
	    cmocka_unit_test(test_syslog_udp),	   cmocka_unit_test(test_syslog_unix),
	    cmocka_unit_test(test_syslog_tcp),	   cmocka_unit_test(test_syslog_tcp_reconnects),
	    cmocka_unit_test(test_nobody_listens),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
