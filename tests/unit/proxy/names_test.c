// SPDX-License-Identifier: MIT
/*
 * names_test.c: names looked up as a container would, under a root directory made here: its
 * /etc/hosts first, symlinks that point out of it resolved inside it (the host's files are
 * never read), a FIFO refused, IP literals as they are, and a nameserver that does not answer
 * said so. The one
 * query sent goes to 127.0.0.254:53 on loopback, where nothing listens.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proxy/names.h"
#include "proxy/resolve.h"

static char dir[64];
static int root = -1;

static void put(const char *rel, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int setup(void **state)
{
	char etc[128];
	FILE *f;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/names_test.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(etc, sizeof(etc), "%s/etc", dir);
	mkdir(etc, 0755);
	/* Every query of this file goes where nothing listens, never to a real resolver. */
	snprintf(etc, sizeof(etc), "%s/etc/resolv.conf", dir);
	f = fopen(etc, "w");
	if (!f)
		return -1;
	fputs("nameserver 127.0.0.254\noptions timeout:1 attempts:1\n", f);
	fclose(f);
	root = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	return root < 0 ? -1 : 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	close(root);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* The first address of res, printed. */
static const char *first(const struct addrinfo *res)
{
	static char s[INET6_ADDRSTRLEN];

	assert_non_null(res);
	assert_int_equal(
	    getnameinfo(res->ai_addr, res->ai_addrlen, s, sizeof(s), NULL, 0, NI_NUMERICHOST), 0);
	return s;
}

static void test_hosts_first(void **state)
{
	struct addrinfo *res = NULL;
	char err[400];

	(void)state;
	put("etc/hosts", "127.0.0.1 localhost\n10.1.2.3 peer-b extra.test\nfd00::7 peer-b\n");
	assert_int_equal(names_lookup(root, "Extra.Test", 8000, &res, err, sizeof(err)), 0);
	assert_string_equal(first(res), "10.1.2.3");
	assert_int_equal(ntohs(((struct sockaddr_in *)(void *)res->ai_addr)->sin_port), 8000);
	resolve_free(res);
	assert_int_equal(names_lookup(root, "peer-b", 80, &res, err, sizeof(err)), 0);
	assert_non_null(res->ai_next);
	assert_int_equal(res->ai_next->ai_family, AF_INET6);
	resolve_free(res);
}

static void test_literal(void **state)
{
	struct addrinfo *res = NULL;
	char err[400];

	(void)state;
	assert_int_equal(names_lookup(root, "192.0.2.1", 443, &res, err, sizeof(err)), 0);
	assert_string_equal(first(res), "192.0.2.1");
	resolve_free(res);
	assert_int_equal(names_lookup(root, "2001:db8::1", 443, &res, err, sizeof(err)), 0);
	assert_string_equal(first(res), "2001:db8::1");
	resolve_free(res);
}

/* A symlink to /etc/hosts is the container's own /etc/hosts, never the host's. */
static void test_symlink_stays_inside(void **state)
{
	struct addrinfo *res = NULL;
	char path[256], err[400];

	(void)state;
	snprintf(path, sizeof(path), "%s/etc/hosts", dir);
	unlink(path);
	put("etc/real-hosts", "10.9.9.9 localhost\n");
	/* absolute, and climbing above the root: both stay inside it */
	assert_int_equal(symlink("/../../../etc/real-hosts", path), 0);
	assert_int_equal(names_lookup(root, "localhost", 80, &res, err, sizeof(err)), 0);
	assert_string_equal(first(res), "10.9.9.9");
	resolve_free(res);
	unlink(path);
	/* nor does a FIFO there hold the lookup: refused */
	assert_int_equal(mkfifo(path, 0644), 0);
	assert_int_equal(names_lookup(root, "localhost", 80, &res, err, sizeof(err)), -1);
	assert_null(res);
	assert_non_null(strstr(err, "the container's /etc/hosts is not a regular file"));
	unlink(path);
}

static void test_nameserver_silent(void **state)
{
	struct addrinfo *res = NULL;
	char err[400];

	(void)state;
	put("etc/hosts", "127.0.0.1 localhost\n");
	assert_int_equal(names_lookup(root, "peer-b", 80, &res, err, sizeof(err)), -1);
	assert_null(res);
	assert_non_null(strstr(err, "not in the container's /etc/hosts"));
	assert_non_null(strstr(err, "127.0.0.254"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hosts_first),
	    cmocka_unit_test(test_literal),
	    cmocka_unit_test(test_symlink_stays_inside),
	    cmocka_unit_test(test_nameserver_silent),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
