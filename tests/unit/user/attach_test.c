// SPDX-License-Identifier: MIT
/*
 * attach_test.c: what boundary attach reads for itself, on real sockets of this process (no root
 * needed). The /proc/PID/net tables are parsed into the right addresses, ports and states and
 * matched to descriptors by inode; a connection is told from a listener; shutting one down
 * through pidfd_getfd() ends it for its owner (TCP reads end of file, a connected UDP socket
 * loses its peer). Also the runtimes' answers (a pid, ctr's task table) and path containment.
 * Includes attach.c to reach its statics.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "user/attach.c"

/* A listener on 127.0.0.1 and a connection to it: *lfd, *cfd (client) and *afd (accepted). */
static void tcp_pair(int *lfd, int *cfd, int *afd, uint16_t *port)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	*lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(*lfd >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(*lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(*lfd, 4), 0);
	assert_int_equal(getsockname(*lfd, (struct sockaddr *)&sin, &len), 0);
	*port = ntohs(sin.sin_port);
	*cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(*cfd >= 0);
	assert_int_equal(connect(*cfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	*afd = accept(*lfd, NULL, NULL);
	assert_true(*afd >= 0);
}

static unsigned long ino_of(int fd)
{
	struct stat st;

	assert_int_equal(fstat(fd, &st), 0);
	return (unsigned long)st.st_ino;
}

static void test_tables(void **state)
{
	struct sock_table t;
	struct sock_entry *c, *l;
	struct in_addr lo;
	uint16_t port;
	int lfd, cfd, afd;

	(void)state;
	tcp_pair(&lfd, &cfd, &afd, &port);
	memset(&t, 0, sizeof(t));
	t.v = calloc(MAX_SOCKS, sizeof(*t.v));
	t.seen = calloc(16, sizeof(*t.seen));
	assert_non_null(t.v);
	c = find_sock(&t, getpid(), netns_ino(getpid()), ino_of(cfd));
	assert_non_null(c);
	l = find_sock(&t, getpid(), netns_ino(getpid()), ino_of(lfd));
	assert_non_null(l);
	assert_int_equal(t.n_seen, 1); /* one namespace, read once */
	inet_pton(AF_INET, "127.0.0.1", &lo);
	assert_false(c->udp);
	assert_false(c->v6);
	assert_int_equal(c->state, 1); /* TCP_ESTABLISHED */
	assert_int_equal(c->pport, port);
	assert_memory_equal(c->peer.s6_addr, &lo, 4);
	assert_memory_equal(c->local.s6_addr, &lo, 4);
	assert_true(carries_connection(c));
	assert_int_equal(l->state, 0x0A); /* TCP_LISTEN */
	assert_int_equal(l->lport, port);
	assert_false(carries_connection(l));
	free(t.v);
	free(t.seen);
	close(lfd);
	close(cfd);
	close(afd);
}

static void test_shut_tcp(void **state)
{
	struct sock_table t;
	struct stat st;
	char b;
	uint16_t port;
	int lfd, cfd, afd, found, pidfd;

	(void)state;
	tcp_pair(&lfd, &cfd, &afd, &port);
	memset(&t, 0, sizeof(t));
	t.v = calloc(MAX_SOCKS, sizeof(*t.v));
	t.seen = calloc(16, sizeof(*t.seen));
	assert_non_null(t.v);
	/*
	 * In a namespace of its own (a container's: pretend with a host namespace that is not
	 * this one), loopback connections are never redirected: none is found.
	 */
	found = scan_pid(&t, getpid(), (ino_t)1, false);
	assert_int_equal(found, 0);
	memset(t.v, 0, MAX_SOCKS * sizeof(*t.v));
	t.n = t.n_seen = 0;
	/* In the host's, this process holds both ends: both are connections, each found once. */
	found = scan_pid(&t, getpid(), netns_ino(0), false);
	assert_true(found >= 2);
	assert_int_equal(send(cfd, "x", 1, MSG_NOSIGNAL), 1);
	assert_int_equal(recv(afd, &b, 1, 0), 1);
	pidfd = (int)syscall(SYS_pidfd_open, getpid(), 0);
	assert_true(pidfd >= 0);
	assert_int_equal(fstat(cfd, &st), 0);
	assert_int_equal(shut_remote(pidfd, cfd, (unsigned long)st.st_ino), 0);
	close(pidfd);
	/* The owner reads end of file, and the peer sees the connection end. */
	assert_int_equal(recv(cfd, &b, 1, 0), 0);
	assert_int_equal(recv(afd, &b, 1, 0), 0);
	assert_int_equal(send(cfd, "x", 1, MSG_NOSIGNAL), -1);
	assert_int_equal(errno, EPIPE);
	free(t.v);
	free(t.seen);
	close(lfd);
	close(cfd);
	close(afd);
}

static void test_shut_udp(void **state)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	struct stat st;
	int r, u, pidfd;

	(void)state;
	r = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	u = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(r, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(r, (struct sockaddr *)&sin, &len), 0);
	assert_int_equal(connect(u, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(send(u, "x", 1, 0), 1);
	pidfd = (int)syscall(SYS_pidfd_open, getpid(), 0);
	assert_true(pidfd >= 0);
	assert_int_equal(fstat(u, &st), 0);
	/* A descriptor that is no longer the socket that was read is left alone. */
	assert_int_equal(shut_remote(pidfd, u, (unsigned long)st.st_ino + 1), -ESTALE);
	assert_int_equal(send(u, "x", 1, 0), 1);
	assert_int_equal(shut_remote(pidfd, u, (unsigned long)st.st_ino), 0);
	close(pidfd);
	/* No peer any more: a datagram must name its destination (and meet the hooks). */
	assert_int_equal(send(u, "x", 1, 0), -1);
	assert_int_equal(errno, EDESTADDRREQ);
	close(r);
	close(u);
}

static void test_runtime_answers(void **state)
{
	char ctr[] = "TASK      PID     STATUS\n"
		     "web1      4242    RUNNING\n"
		     "web10     4343    RUNNING\n";
	char ctr2[] = "TASK PID STATUS\n";

	(void)state;
	assert_int_equal(parse_pid("4242"), 4242);
	assert_int_equal(parse_pid("0"), 0);
	assert_int_equal(parse_pid(""), -1);
	assert_int_equal(parse_pid("12a"), -1);
	assert_int_equal(parse_pid("-1"), -1);
	assert_int_equal(parse_pid("<no value>"), -1);
	assert_int_equal(ctr_pid(ctr, "web1"), 4242);
	assert_int_equal(ctr_pid(ctr2, "web1"), -1);
}

static void test_under(void **state)
{
	(void)state;
	assert_true(under("/sys/fs/cgroup/a", "/sys/fs/cgroup/a"));
	assert_true(under("/sys/fs/cgroup/a/b", "/sys/fs/cgroup/a"));
	assert_false(under("/sys/fs/cgroup/ab", "/sys/fs/cgroup/a"));
	assert_false(under("/sys/fs/cgroup", "/sys/fs/cgroup/a"));
}

static void test_resolve_refusals(void **state)
{
	struct attach_target t;
	char err[512];

	(void)state;
	/* A directory that is not a cgroup, and the root of a hierarchy: refused. */
	assert_int_equal(attach_resolve("/tmp", "/", NULL, NULL, &t, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "root cgroup"));
	assert_true(attach_resolve("/tmp", "/nonexistent-attach-test", NULL, NULL, &t, err,
				   sizeof(err)) < 0);
	assert_non_null(strstr(err, "No such file"));
	assert_int_equal(attach_resolve("/", "/tmp", NULL, NULL, &t, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "is not a cgroup"));
	assert_int_equal(attach_resolve("/tmp", NULL, "-rm", NULL, &t, err, sizeof(err)), -EINVAL);
	assert_int_equal(attach_resolve("/tmp", NULL, NULL, "--all", &t, err, sizeof(err)),
			 -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tables),   cmocka_unit_test(test_shut_tcp),
	    cmocka_unit_test(test_shut_udp), cmocka_unit_test(test_runtime_answers),
	    cmocka_unit_test(test_under),    cmocka_unit_test(test_resolve_refusals),
	};

	log_set_level(LOG_ERROR); /* the warnings scan_pid() gives are expected here */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
