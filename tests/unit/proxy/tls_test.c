// SPDX-License-Identifier: MIT
/*
 * tls_test.c: real handshakes over a non-blocking socketpair, both ends in this thread. The jail
 * side (tls_server_ctx_new) against a client that trusts only the CA: the leaf follows the SNI
 * or the fallback name, the chain verifies, ALPN is http/1.1 or nothing, no session tickets.
 * The upstream side (tls_client_ctx_new, tls_client_prepare) against servers with a good leaf,
 * a self-signed certificate and the wrong name, and tls_error_string's sentences for each.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "proxy/ca.h"
#include "proxy/tls.h"

static char base[64];
static char err[512];
static struct ca *ca;

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int setup(void **state)
{
	char dir[128];

	(void)state;
	snprintf(base, sizeof(base), "/tmp/boundary-tls-test-XXXXXX");
	if (!mkdtemp(base))
		return -1;
	snprintf(dir, sizeof(dir), "%s/ca", base);
	ca = ca_open(dir, (uid_t)-1, (gid_t)-1, err, sizeof(err));
	if (!ca)
		print_error("ca_open: %s\n", err);
	return ca ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	ca_free(ca);
	ca = NULL;
	return nftw(base, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* The two ends of one TLS connection and how their handshakes ended. */
struct pair {
	SSL *client, *server;
	int cret, sret;
};

static void pair_init(struct pair *p, SSL_CTX *cctx, SSL_CTX *sctx)
{
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
	p->client = SSL_new(cctx);
	p->server = SSL_new(sctx);
	assert_non_null(p->client);
	assert_non_null(p->server);
	assert_int_equal(SSL_set_fd(p->client, sv[0]), 1);
	assert_int_equal(SSL_set_fd(p->server, sv[1]), 1);
	p->cret = p->sret = 0;
}

static void pair_fini(struct pair *p)
{
	close(SSL_get_fd(p->client));
	close(SSL_get_fd(p->server));
	SSL_free(p->client);
	SSL_free(p->server);
}

static int want_more(SSL *ssl, int ret)
{
	int e = SSL_get_error(ssl, ret);

	return e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE;
}

/*
 * Steps both ends until both finish, either fails, or nothing moves. Returns 1 when both
 * handshakes completed; p->cret/p->sret keep the last return values for tls_error_string().
 */
static int pair_handshake(struct pair *p)
{
	int cdone = 0, sdone = 0, i;

	for (i = 0; i < 100 && !(cdone && sdone); i++) {
		if (!cdone) {
			p->cret = SSL_connect(p->client);
			if (p->cret == 1)
				cdone = 1;
			else if (!want_more(p->client, p->cret))
				return 0;
		}
		if (!sdone) {
			p->sret = SSL_accept(p->server);
			if (p->sret == 1)
				sdone = 1;
			else if (!want_more(p->server, p->sret))
				return 0;
		}
	}
	return cdone && sdone;
}

/* SNI from a literal (the OpenSSL macro casts its argument to void *). */
static void set_sni(SSL *ssl, const char *name)
{
	char buf[256];

	snprintf(buf, sizeof(buf), "%s", name);
	assert_int_equal(SSL_set_tlsext_host_name(ssl, buf), 1);
}

/* A client as a jailed program would be: trusts the CA alone, checks name, offers alpn. */
static SSL_CTX *jailed_client_ctx(const unsigned char *alpn, unsigned int alpn_len)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	assert_non_null(ctx);
	assert_int_equal(X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), ca_cert(ca)), 1);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (alpn)
		assert_int_equal(SSL_CTX_set_alpn_protos(ctx, alpn, alpn_len), 0);
	return ctx;
}

static SSL_CTX *server_ctx(void)
{
	SSL_CTX *ctx = tls_server_ctx_new(ca, err, sizeof(err));

	if (!ctx)
		fail_msg("tls_server_ctx_new: %s", err);
	return ctx;
}

static void assert_peer_is(SSL *ssl, const char *name)
{
	X509 *peer = SSL_get0_peer_certificate(ssl);

	assert_non_null(peer);
	if (X509_check_host(peer, name, 0, 0, NULL) != 1) {
		char *s = X509_NAME_oneline(X509_get_subject_name(peer), NULL, 0);

		fail_msg("peer certificate %s is not for %s", s, name);
	}
}

static void test_sni_picks_leaf_chain_and_alpn(void **state)
{
	static const unsigned char alpn[] = "\x02h2\x08http/1.1";
	SSL_CTX *sctx = server_ctx(), *cctx = jailed_client_ctx(alpn, sizeof(alpn) - 1);
	const unsigned char *proto = NULL;
	unsigned int len = 0;
	STACK_OF(X509) * chain;
	struct pair p;

	(void)state;
	pair_init(&p, cctx, sctx);
	set_sni(p.client, "a.test");
	assert_int_equal(SSL_set1_host(p.client, "a.test"), 1);
	assert_int_equal(pair_handshake(&p), 1);
	assert_int_equal(SSL_get_verify_result(p.client), X509_V_OK);
	assert_peer_is(p.client, "a.test");
	chain = SSL_get_peer_cert_chain(p.client);
	assert_int_equal(sk_X509_num(chain), 2); /* leaf + CA */
	assert_int_equal(X509_cmp(sk_X509_value(chain, 1), ca_cert(ca)), 0);
	/* h2 first in the client's list and the proxy's choice whenever offered */
	SSL_get0_alpn_selected(p.client, &proto, &len);
	assert_int_equal(len, 2);
	assert_memory_equal(proto, "h2", 2);
	pair_fini(&p);
	SSL_CTX_free(cctx);
	SSL_CTX_free(sctx);
}

/* A handshake offering offer[0..len) by ALPN with server name sni picks want ("": none). */
static void assert_alpn_pick(const unsigned char *offer, size_t len, const char *sni,
			     const char *want)
{
	SSL_CTX *sctx = server_ctx(), *cctx = jailed_client_ctx(offer, len);
	const unsigned char *proto = NULL;
	unsigned int got = 99;
	struct pair p;

	pair_init(&p, cctx, sctx);
	set_sni(p.client, sni);
	assert_int_equal(pair_handshake(&p), 1);
	SSL_get0_alpn_selected(p.client, &proto, &got);
	assert_int_equal(got, strlen(want));
	if (got)
		assert_memory_equal(proto, want, got);
	SSL_get0_alpn_selected(p.server, &proto, &got);
	assert_int_equal(got, strlen(want));
	pair_fini(&p);
	SSL_CTX_free(cctx);
	SSL_CTX_free(sctx);
}

/* A client that offers http/1.1 first still gets h2: h2.c serves it whatever the upstream. */
static void test_h2_picked_wherever_offered(void **state)
{
	static const unsigned char alpn[] = "\x08http/1.1\x02h2";

	(void)state;
	assert_alpn_pick(alpn, sizeof(alpn) - 1, "b.test", "h2");
}

/* Neither h2 nor http/1.1 offered: no ALPN, and the handshake still succeeds. */
static void test_other_protocols_get_no_alpn(void **state)
{
	static const unsigned char alpn[] = "\x06spdy/3";

	(void)state;
	assert_alpn_pick(alpn, sizeof(alpn) - 1, "c.test", "");
}

/* h2 alone: h2. */
static void test_h2_only_gets_h2(void **state)
{
	static const unsigned char alpn[] = "\x02h2";

	(void)state;
	assert_alpn_pick(alpn, sizeof(alpn) - 1, "h2.test", "h2");
}

static void test_tls12_client(void **state)
{
	SSL_CTX *sctx = server_ctx(), *cctx = jailed_client_ctx(NULL, 0);
	struct pair p;

	(void)state;
	assert_int_equal(SSL_CTX_set_max_proto_version(cctx, TLS1_2_VERSION), 1);
	pair_init(&p, cctx, sctx);
	set_sni(p.client, "twelve.test");
	assert_int_equal(SSL_set1_host(p.client, "twelve.test"), 1);
	assert_int_equal(pair_handshake(&p), 1);
	assert_int_equal(SSL_version(p.client), TLS1_2_VERSION);
	assert_peer_is(p.client, "twelve.test");
	pair_fini(&p);
	SSL_CTX_free(cctx);
	SSL_CTX_free(sctx);
}

static void test_tls11_refused(void **state)
{
	SSL_CTX *sctx = server_ctx(), *cctx = jailed_client_ctx(NULL, 0);
	struct pair p;

	(void)state;
	SSL_CTX_set_security_level(cctx, 0);
	assert_int_equal(SSL_CTX_set_min_proto_version(cctx, TLS1_VERSION), 1);
	assert_int_equal(SSL_CTX_set_max_proto_version(cctx, TLS1_1_VERSION), 1);
	pair_init(&p, cctx, sctx);
	assert_int_equal(pair_handshake(&p), 0);
	pair_fini(&p);
	ERR_clear_error();
	SSL_CTX_free(cctx);
	SSL_CTX_free(sctx);
}

static void test_no_sni_uses_fallback(void **state)
{
	SSL_CTX *sctx = server_ctx(), *cctx = jailed_client_ctx(NULL, 0);
	struct pair p;

	(void)state;
	/* With a fallback name set before the handshake. */
	pair_init(&p, cctx, sctx);
	tls_server_set_fallback_name(p.server, "first.test");
	tls_server_set_fallback_name(p.server, "fallback.test"); /* replaces, no leak */
	assert_int_equal(SSL_set1_host(p.client, "fallback.test"), 1);
	assert_int_equal(pair_handshake(&p), 1);
	assert_null(SSL_get_servername(p.server, TLSEXT_NAMETYPE_host_name));
	assert_peer_is(p.client, "fallback.test");
	pair_fini(&p);

	/* With none: the placeholder, and the handshake still completes. */
	pair_init(&p, cctx, sctx);
	assert_int_equal(pair_handshake(&p), 1);
	assert_peer_is(p.client, TLS_NO_NAME);
	pair_fini(&p);

	/* An SNI the CA will not certify gets the placeholder too; the client then refuses. */
	pair_init(&p, cctx, sctx);
	set_sni(p.client, "bad_name!.test");
	assert_int_equal(SSL_set1_host(p.client, "bad_name!.test"), 1);
	assert_int_equal(pair_handshake(&p), 0);
	assert_int_equal(SSL_get_verify_result(p.client), X509_V_ERR_HOSTNAME_MISMATCH);
	ERR_clear_error();
	pair_fini(&p);
	SSL_CTX_free(cctx);
	SSL_CTX_free(sctx);
}

/*
 * One session ticket per connection, so a client that reconnects can resume (e2e/proxy checks
 * that a jailed openssl s_client does).
 */
static void test_one_session_ticket(void **state)
{
	SSL_CTX *sctx = server_ctx(), *cctx = jailed_client_ctx(NULL, 0);
	SSL_SESSION *sess;
	char c = 0;
	struct pair p;
	int i, n = -1;

	(void)state;
	pair_init(&p, cctx, sctx);
	set_sni(p.client, "t.test");
	assert_int_equal(pair_handshake(&p), 1);
	/* A TLS 1.3 server sends its ticket after the handshake: read past it. */
	assert_int_equal(SSL_write(p.server, "x", 1), 1);
	for (i = 0; i < 10 && n != 1; i++)
		n = SSL_read(p.client, &c, 1);
	assert_int_equal(n, 1);
	assert_int_equal(c, 'x');
	sess = SSL_get1_session(p.client);
	assert_int_equal(SSL_SESSION_has_ticket(sess), 1);
	assert_int_equal(SSL_SESSION_is_resumable(sess), 1);
	SSL_SESSION_free(sess);
	pair_fini(&p);
	SSL_CTX_free(cctx);
	SSL_CTX_free(sctx);
}

/* A server presenting cert (with chain_ca when not NULL) and key, not through tls.c. */
static SSL_CTX *plain_server_ctx(X509 *cert, EVP_PKEY *key, X509 *chain_ca)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	assert_non_null(ctx);
	assert_int_equal(SSL_CTX_use_certificate(ctx, cert), 1);
	assert_int_equal(SSL_CTX_use_PrivateKey(ctx, key), 1);
	if (chain_ca)
		assert_int_equal(SSL_CTX_add1_chain_cert(ctx, chain_ca), 1);
	return ctx;
}

static SSL_CTX *upstream_ctx(void)
{
	SSL_CTX *ctx = tls_client_ctx_new(ca_cert_path(ca), err, sizeof(err));

	if (!ctx)
		fail_msg("tls_client_ctx_new: %s", err);
	return ctx;
}

static void test_upstream_verifies_with_extra_ca(void **state)
{
	SSL_CTX *sctx = server_ctx(), *cctx = upstream_ctx();
	const unsigned char *proto = NULL;
	unsigned int len = 0;
	struct pair p;

	(void)state;
	pair_init(&p, cctx, sctx);
	assert_int_equal(tls_client_prepare(p.client, "Upstream.test."), 0);
	assert_int_equal(pair_handshake(&p), 1);
	assert_string_equal(SSL_get_servername(p.server, TLSEXT_NAMETYPE_host_name),
			    "Upstream.test");
	assert_int_equal(SSL_get_verify_result(p.client), X509_V_OK);
	SSL_get0_alpn_selected(p.client, &proto, &len);
	assert_int_equal(len, 8);
	assert_memory_equal(proto, "http/1.1", 8);
	pair_fini(&p);

	/* An address: no SNI, an IP check; the proxy's fallback name is the address. */
	pair_init(&p, cctx, sctx);
	assert_int_equal(tls_client_prepare(p.client, "[::1]"), 0);
	tls_server_set_fallback_name(p.server, "::1");
	assert_int_equal(pair_handshake(&p), 1);
	assert_null(SSL_get_servername(p.server, TLSEXT_NAMETYPE_host_name));
	pair_fini(&p);

	pair_init(&p, cctx, sctx);
	assert_int_equal(tls_client_prepare(p.client, "127.0.0.1"), 0);
	tls_server_set_fallback_name(p.server, "127.0.0.2");
	assert_int_equal(pair_handshake(&p), 0);
	tls_error_string(p.client, p.cret, err, sizeof(err));
	assert_string_equal(err, "certificate verify failed: IP address mismatch");
	pair_fini(&p);
	SSL_CTX_free(cctx);
	SSL_CTX_free(sctx);
}

static void test_upstream_default_trust_rejects_our_ca(void **state)
{
	SSL_CTX *sctx = server_ctx(), *cctx = tls_client_ctx_new(NULL, err, sizeof(err));
	struct pair p;

	(void)state;
	assert_non_null(cctx);
	pair_init(&p, cctx, sctx);
	assert_int_equal(tls_client_prepare(p.client, "upstream.test"), 0);
	assert_int_equal(pair_handshake(&p), 0);
	tls_error_string(p.client, p.cret, err, sizeof(err));
	assert_non_null(strstr(err, "certificate verify failed: "));
	assert_int_equal(ERR_peek_error(), 0); /* cleared */
	pair_fini(&p);
	SSL_CTX_free(cctx);
	SSL_CTX_free(sctx);
}

static void test_upstream_self_signed_rejected(void **state)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	SSL_CTX *sctx, *cctx = upstream_ctx();
	struct pair p;

	(void)state;
	assert_non_null(key);
	assert_non_null(x);
	assert_int_equal(X509_set_version(x, X509_VERSION_3), 1);
	assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), 7), 1);
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), -3600));
	assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), 3600));
	assert_int_equal(X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
						    (const unsigned char *)"upstream.test", -1, -1,
						    0),
			 1);
	assert_int_equal(X509_set_issuer_name(x, X509_get_subject_name(x)), 1);
	assert_int_equal(X509_set_pubkey(x, key), 1);
	assert_true(X509_sign(x, key, EVP_sha256()) > 0);
	sctx = plain_server_ctx(x, key, NULL);

	pair_init(&p, cctx, sctx);
	assert_int_equal(tls_client_prepare(p.client, "upstream.test"), 0);
	assert_int_equal(pair_handshake(&p), 0);
	tls_error_string(p.client, p.cret, err, sizeof(err));
	print_message("self-signed: %s\n", err);
	assert_non_null(strstr(err, "certificate verify failed: "));
	assert_non_null(strstr(err, "self"));
	assert_int_equal(ERR_peek_error(), 0);
	pair_fini(&p);
	X509_free(x);
	EVP_PKEY_free(key);
	SSL_CTX_free(cctx);
	SSL_CTX_free(sctx);
}

static void test_upstream_hostname_mismatch(void **state)
{
	X509 *other = ca_leaf_for_name(ca, "other.test");
	SSL_CTX *sctx, *cctx = upstream_ctx();
	struct pair p;

	(void)state;
	assert_non_null(other);
	sctx = plain_server_ctx(other, ca_leaf_key(ca), ca_cert(ca));
	pair_init(&p, cctx, sctx);
	assert_int_equal(tls_client_prepare(p.client, "upstream.test"), 0);
	assert_int_equal(pair_handshake(&p), 0);
	tls_error_string(p.client, p.cret, err, sizeof(err));
	assert_string_equal(err, "certificate verify failed: hostname mismatch");
	pair_fini(&p);

	/* The same server, asked for the name it has, is fine. */
	pair_init(&p, cctx, sctx);
	assert_int_equal(tls_client_prepare(p.client, "other.test"), 0);
	assert_int_equal(pair_handshake(&p), 1);
	pair_fini(&p);
	X509_free(other);
	SSL_CTX_free(cctx);
	SSL_CTX_free(sctx);
}

static void test_error_string_without_verify_failure(void **state)
{
	SSL_CTX *sctx = server_ctx(), *cctx = upstream_ctx();
	struct pair p;

	(void)state;
	/* The server goes away mid-handshake. */
	pair_init(&p, cctx, sctx);
	assert_int_equal(tls_client_prepare(p.client, "upstream.test"), 0);
	p.cret = SSL_connect(p.client);
	assert_int_equal(SSL_get_error(p.client, p.cret), SSL_ERROR_WANT_READ);
	shutdown(SSL_get_fd(p.server), SHUT_RDWR);
	p.cret = SSL_connect(p.client);
	assert_int_not_equal(p.cret, 1);
	tls_error_string(p.client, p.cret, err, sizeof(err));
	print_message("peer gone: %s\n", err);
	assert_string_equal(err, "the connection closed during the TLS handshake");
	pair_fini(&p);

	/* The server speaks something that is not TLS. */
	pair_init(&p, cctx, sctx);
	assert_int_equal(tls_client_prepare(p.client, "upstream.test"), 0);
	assert_int_equal(write(SSL_get_fd(p.server), "HTTP/1.1 400 Bad\r\n\r\n", 20), 20);
	p.cret = SSL_connect(p.client);
	p.cret = SSL_connect(p.client);
	assert_int_not_equal(p.cret, 1);
	tls_error_string(p.client, p.cret, err, sizeof(err));
	print_message("not TLS: %s\n", err);
	assert_string_equal(err, "wrong version number");
	pair_fini(&p);

	assert_string_equal(tls_error_string(NULL, -1, err, sizeof(err)), "TLS handshake failed");
	SSL_CTX_free(cctx);
	SSL_CTX_free(sctx);
}

static void test_prepare_rejects(void **state)
{
	SSL_CTX *cctx = upstream_ctx();
	SSL *ssl = SSL_new(cctx);

	(void)state;
	assert_int_equal(tls_client_prepare(ssl, NULL), -EINVAL);
	assert_int_equal(tls_client_prepare(ssl, ""), -EINVAL);
	assert_int_equal(tls_client_prepare(ssl, "."), -EINVAL);
	assert_int_equal(tls_client_prepare(ssl, "[example.com]"), -EINVAL);
	assert_int_equal(tls_client_prepare(ssl, "[::1"), -EINVAL);
	assert_int_equal(tls_client_prepare(NULL, "a.test"), -EINVAL);
	SSL_free(ssl);
	SSL_CTX_free(cctx);
}

static void test_client_ctx_bad_extra_ca(void **state)
{
	char path[128];

	(void)state;
	snprintf(path, sizeof(path), "%s/nope.pem", base);
	assert_null(tls_client_ctx_new(path, err, sizeof(err)));
	assert_non_null(strstr(err, "--upstream-ca"));
	assert_non_null(strstr(err, path));
	assert_int_equal(ERR_peek_error(), 0);

	/* A file with no certificate in it. */
	snprintf(path, sizeof(path), "%s/ca/%s", base, CA_KEY_FILE);
	assert_null(tls_client_ctx_new(path, err, sizeof(err)));
	assert_non_null(strstr(err, "--upstream-ca"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_sni_picks_leaf_chain_and_alpn, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tls12_client, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tls11_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_h2_only_gets_h2, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_h2_picked_wherever_offered, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_other_protocols_get_no_alpn, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_no_sni_uses_fallback, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_one_session_ticket, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_upstream_verifies_with_extra_ca, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_upstream_default_trust_rejects_our_ca, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_upstream_self_signed_rejected, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_upstream_hostname_mismatch, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_error_string_without_verify_failure, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_prepare_rejects, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_client_ctx_bad_extra_ca, setup, teardown),
	};

	/* OpenSSL writes alerts with write(2); a peer gone away must be EPIPE, as in boundary. */
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
