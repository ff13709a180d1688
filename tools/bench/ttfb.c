// SPDX-License-Identifier: MIT
/*
 * ttfb.c: time to first response byte of fresh TCP+TLS connections, for tools/bench/run
 * (workload D). For each NAME given: resolve NAME (not timed: every path resolves through its
 * own hosts file or boundary's responder, which is not what D compares), then time one
 * connect(), one TLS handshake that verifies the certificate against CAFILE (or OpenSSL's
 * default paths, which inside a boundary jail include boundary's CA) and NAME, one
 * "GET PATH" and the first byte of the response. Prints "NAME MS" a line; a failure prints
 * "NAME fail REASON" and makes the exit status 1. No session is resumed: each connection is a
 * full handshake, as a first visit is. The socket has TCP_NODELAY, as curl's, wrk's, Go's,
 * Node's and urllib3's have; -n leaves Nagle's algorithm on, as a plain OpenSSL client has it
 * (its request then waits for the ACK of its TLS Finished unless the server sends something
 * first, such as session tickets).
 *
 *   ttfb [-n] [-c CAFILE] PORT PATH NAME...
 *
 * A benchmark client, not part of boundary.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Returns the milliseconds to the first byte, or a negative number with *why set. */
static double one(SSL_CTX *ctx, const char *name, const char *port, const char *path, int nodelay,
		  const char **why)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;
	char req[512], byte, rest[16384];
	SSL *ssl = NULL;
	double t0, ms = -1;
	int fd = -1, n;

	if (getaddrinfo(name, port, &hints, &ai) != 0) {
		*why = "resolve";
		goto out;
	}
	t0 = now_ms();
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd != -1 && nodelay)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &nodelay, sizeof(nodelay));
	if (fd == -1 || connect(fd, ai->ai_addr, ai->ai_addrlen) == -1) {
		*why = "connect";
		goto out;
	}
	ssl = SSL_new(ctx);
	if (!ssl || !SSL_set_fd(ssl, fd) || !SSL_set_tlsext_host_name(ssl, name) ||
	    !SSL_set1_host(ssl, name)) {
		*why = "ssl setup";
		goto out;
	}
	if (SSL_connect(ssl) != 1 || SSL_get_verify_result(ssl) != X509_V_OK) {
		*why = "handshake or verification";
		goto out;
	}
	n = snprintf(req, sizeof(req),
		     "GET %s HTTP/1.1\r\nHost: %s:%s\r\nConnection: close\r\n\r\n", path, name,
		     port);
	if (n <= 0 || (size_t)n >= sizeof(req) || SSL_write(ssl, req, n) != n) {
		*why = "write";
		goto out;
	}
	if (SSL_read(ssl, &byte, 1) != 1) {
		*why = "no response";
		goto out;
	}
	ms = now_ms() - t0;
	if (byte != 'H') {
		*why = "not HTTP";
		ms = -1;
		goto out;
	}
	while (SSL_read(ssl, rest, sizeof(rest)) > 0)
		;
out:
	if (ssl) {
		SSL_shutdown(ssl);
		SSL_free(ssl);
	}
	if (fd != -1)
		close(fd);
	if (ai)
		freeaddrinfo(ai);
	return ms;
}

int main(int argc, char **argv)
{
	const char *cafile = NULL, *why;
	SSL_CTX *ctx;
	int i = 1, k, status = 0, nodelay = 1;
	double ms;

	if (argc > i && strcmp(argv[i], "-n") == 0) {
		nodelay = 0;
		i++;
	}
	if (argc > i + 1 && strcmp(argv[i], "-c") == 0) {
		cafile = argv[i + 1];
		i += 2;
	}
	if (argc - i < 3) {
		fprintf(stderr, "usage: ttfb [-n] [-c CAFILE] PORT PATH NAME...\n");
		return 2;
	}
	ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx || SSL_CTX_set_default_verify_paths(ctx) != 1 ||
	    (cafile && SSL_CTX_load_verify_locations(ctx, cafile, NULL) != 1)) {
		ERR_print_errors_fp(stderr);
		return 2;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	for (k = i + 2; k < argc; k++) {
		why = "?";
		ms = one(ctx, argv[k], argv[i], argv[i + 1], nodelay, &why);
		if (ms < 0) {
			printf("%s fail %s\n", argv[k], why);
			ERR_print_errors_fp(stderr);
			status = 1;
		} else {
			printf("%s %.3f\n", argv[k], ms);
		}
		fflush(stdout);
	}
	SSL_CTX_free(ctx);
	return status;
}
