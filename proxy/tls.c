// SPDX-License-Identifier: MIT
/*
 * tls.c: OpenSSL contexts for both sides of the proxy, the per-handshake certificate choice on
 * the jail side (SNI or fallback name -> leaf from the CA), ALPN, upstream verification set-up
 * and failure messages. It does not own sockets, handshake progress or the CA itself.
 */
#include "proxy/tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <dirent.h>
#include <ctype.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "proxy/ca.h"
#include "proxy/log.h"

/* ALPN wire format: one length byte, then the protocol. */
static const unsigned char alpn_http11[] = "\x08http/1.1";
#define ALPN_HTTP11_LEN (sizeof(alpn_http11) - 1)
/* OpenSSL's read buffer: four full TLS records (16 KiB each, and their overhead) */
#define TLS_READ_BUF (4 * (16384 + 2048))

static pthread_once_t fallback_once = PTHREAD_ONCE_INIT;
static int fallback_idx = -1;

static void free_fallback(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
			  void *argp)
{
	(void)parent;
	(void)ad;
	(void)idx;
	(void)argl;
	(void)argp;
	free(ptr);
}

static void fallback_init(void)
{
	fallback_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, free_fallback);
}

/*
 * Upstream sessions to resume: the latest session each origin gave, by what it was verified
 * for (name and port), in TLS_SESS_SLOTS slots taken in turn. One cache per client context, so
 * a session is only ever resumed under the trust it was verified with, shared by the workers
 * (its lock is taken only when an upstream connection starts and when a session comes) and
 * freed with the context. The key travels with the SSL as ex_data, a copy.
 */
#define TLS_SESS_SLOTS 64
#define TLS_SESS_KEY   300
struct sess_cache {
	pthread_mutex_t lock;
	unsigned next;
	struct {
		char key[TLS_SESS_KEY];
		SSL_SESSION *sess;
	} slot[TLS_SESS_SLOTS];
};
static pthread_once_t sess_once = PTHREAD_ONCE_INIT;
static int sess_idx = -1, cache_idx = -1;

static void free_cache(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
	struct sess_cache *sc = ptr;
	int i;

	(void)parent;
	(void)ad;
	(void)idx;
	(void)argl;
	(void)argp;
	if (!sc)
		return;
	for (i = 0; i < TLS_SESS_SLOTS; i++)
		SSL_SESSION_free(sc->slot[i].sess);
	pthread_mutex_destroy(&sc->lock);
	free(sc);
}

static void sess_init(void)
{
	sess_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, free_fallback);
	cache_idx = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, free_cache);
}

static struct sess_cache *cache_of(SSL *ssl)
{
	return cache_idx >= 0 ? SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), cache_idx) : NULL;
}

/* The slot of key in sc, or -1. Under sc->lock. */
static int sess_find(const struct sess_cache *sc, const char *key)
{
	int i;

	for (i = 0; i < TLS_SESS_SLOTS; i++)
		if (sc->slot[i].sess && strcmp(sc->slot[i].key, key) == 0)
			return i;
	return -1;
}

/* OpenSSL's new-session callback: 1 keeps the reference it hands over. */
static int on_new_session(SSL *ssl, SSL_SESSION *sess)
{
	const char *key = sess_idx >= 0 ? SSL_get_ex_data(ssl, sess_idx) : NULL;
	struct sess_cache *sc = cache_of(ssl);
	SSL_SESSION *old;
	int i;

	if (!key || !sc || !SSL_SESSION_is_resumable(sess) || strlen(key) >= TLS_SESS_KEY)
		return 0;
	pthread_mutex_lock(&sc->lock);
	i = sess_find(sc, key);
	if (i < 0) {
		i = (int)(sc->next++ % TLS_SESS_SLOTS);
		snprintf(sc->slot[i].key, sizeof(sc->slot[i].key), "%s", key);
	}
	old = sc->slot[i].sess;
	sc->slot[i].sess = sess;
	pthread_mutex_unlock(&sc->lock);
	SSL_SESSION_free(old);
	return 1;
}

int tls_client_resume(SSL *ssl, const char *key)
{
	struct sess_cache *sc;
	SSL_SESSION *sess = NULL;
	char *copy;
	int i, ret = 0;

	if (!ssl || !key || !*key || sess_idx < 0 || !(sc = cache_of(ssl)) ||
	    SSL_get_ex_data(ssl, sess_idx))
		return -EINVAL;
	copy = strdup(key);
	if (!copy || SSL_set_ex_data(ssl, sess_idx, copy) != 1) {
		free(copy);
		return -ENOMEM;
	}
	pthread_mutex_lock(&sc->lock);
	i = sess_find(sc, key);
	if (i >= 0 && SSL_SESSION_up_ref(sc->slot[i].sess) == 1)
		sess = sc->slot[i].sess;
	pthread_mutex_unlock(&sc->lock);
	if (sess && SSL_set_session(ssl, sess) != 1)
		ret = -EINVAL;
	SSL_SESSION_free(sess); /* SSL_set_session() took its own reference */
	return ret;
}

void tls_client_forget(SSL *ssl)
{
	const char *key = ssl && sess_idx >= 0 ? SSL_get_ex_data(ssl, sess_idx) : NULL;
	struct sess_cache *sc = ssl ? cache_of(ssl) : NULL;
	SSL_SESSION *old = NULL;
	int i;

	if (!key || !sc)
		return;
	pthread_mutex_lock(&sc->lock);
	i = sess_find(sc, key);
	if (i >= 0) {
		old = sc->slot[i].sess;
		sc->slot[i].sess = NULL;
	}
	pthread_mutex_unlock(&sc->lock);
	SSL_SESSION_free(old);
}

void tls_server_set_fallback_name(SSL *ssl, const char *name)
{
	char *copy = NULL, *old;

	pthread_once(&fallback_once, fallback_init);
	if (!ssl || fallback_idx < 0)
		return;
	if (name)
		copy = strdup(name); /* on failure, TLS_NO_NAME: the proxy still answers */
	old = SSL_get_ex_data(ssl, fallback_idx);
	if (SSL_set_ex_data(ssl, fallback_idx, copy) != 1) {
		free(copy);
		return;
	}
	free(old);
}

/* Runs for every ClientHello, with or without SNI (OpenSSL >= 1.1.1). */
static int on_servername(SSL *ssl, int *al, void *arg)
{
	struct ca *ca = arg;
	const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	STACK_OF(X509) *chain = NULL;
	X509 *leaf = NULL;
	int ret = SSL_TLSEXT_ERR_ALERT_FATAL;

	if (!name && fallback_idx >= 0)
		name = SSL_get_ex_data(ssl, fallback_idx);
	if (name)
		leaf = ca_leaf_for_name(ca, name);
	if (!leaf)
		leaf = ca_leaf_for_name(ca, TLS_NO_NAME);
	chain = sk_X509_new_null();
	if (!leaf || !chain || !sk_X509_push(chain, ca_cert(ca)) ||
	    SSL_use_cert_and_key(ssl, leaf, ca_leaf_key(ca), chain, 1) != 1) {
		*al = SSL_AD_INTERNAL_ERROR;
		goto out;
	}
	ret = SSL_TLSEXT_ERR_OK;
out:
	sk_X509_free(chain); /* SSL_use_cert_and_key() took its own references */
	X509_free(leaf);
	return ret;
}

/*
 * Picks h2 if offered (h2.c serves it whatever the upstream speaks: HTTP/2, or HTTP/1.1 to
 * which each stream is translated), else http/1.1, else no ALPN at all.
 */
static int on_alpn(SSL *ssl, const unsigned char **out, unsigned char *outlen,
		   const unsigned char *in, unsigned int inlen, void *arg)
{
	const unsigned char *h11 = NULL;
	unsigned int i = 0, n;

	(void)ssl;
	(void)arg;
	while (i < inlen) {
		n = in[i];
		if (n == 0 || n > inlen - i - 1)
			break;
		if (n == 2 && memcmp(in + i + 1, "h2", 2) == 0) {
			*out = in + i + 1;
			*outlen = 2;
			return SSL_TLSEXT_ERR_OK;
		}
		if (n == ALPN_HTTP11_LEN - 1 && memcmp(in + i + 1, alpn_http11 + 1, n) == 0)
			h11 = in + i + 1;
		i += 1 + n;
	}
	if (!h11)
		return SSL_TLSEXT_ERR_NOACK;
	*out = h11;
	*outlen = ALPN_HTTP11_LEN - 1;
	return SSL_TLSEXT_ERR_OK;
}

SSL_CTX *tls_server_ctx_new(struct ca *ca, char *err, size_t errlen)
{
	SSL_CTX *ctx = NULL;
	char reason[256];

	pthread_once(&fallback_once, fallback_init);
	if (!ca || fallback_idx < 0) {
		snprintf(err, errlen, "cannot set up the TLS server context");
		return NULL;
	}
	/*
	 * One stateless session ticket per connection, so a client that reconnects (one request per
	 * connection is common) resumes instead of paying for a full handshake. The ticket key is
	 * made per process and never stored: tickets die with this boundary. Resuming changes no
	 * decision: every request is still judged by its own Host.
	 */
	ctx = SSL_CTX_new(TLS_server_method());
	if (!ctx || SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_set_num_tickets(ctx, 1) != 1)
		goto fail;
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
	/*
	 * The proxy writes from buffers that may move between a write that would block and its
	 * retry, and takes partial writes; OpenSSL must accept both. EOF without close_notify is
	 * an ordinary end of stream (many servers and clients skip it).
	 */
	SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_ENABLE_PARTIAL_WRITE);
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	/*
	 * One read(2) for a record's header and body, and for the next records already there,
	 * instead of two per record. The proxy reads whenever it has room, so bytes OpenSSL holds
	 * are never left waiting for an epoll event that will not come.
	 */
	SSL_CTX_set_read_ahead(ctx, 1);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_tlsext_servername_callback(ctx, on_servername);
	SSL_CTX_set_tlsext_servername_arg(ctx, ca);
	SSL_CTX_set_alpn_select_cb(ctx, on_alpn, NULL);
	return ctx;
fail:
	snprintf(err, errlen, "cannot set up the TLS server context: %s",
		 ca_ossl_reason(reason, sizeof(reason)));
	SSL_CTX_free(ctx);
	return NULL;
}

/* True if dir holds OpenSSL's hashed certificate names ("5ad8a5d6.0"), as c_rehash makes. */
static bool has_hashed_certs(const char *dir)
{
	struct dirent *e;
	bool found = false;
	size_t i;
	DIR *d;

	d = opendir(dir);
	if (!d)
		return false;
	while (!found && (e = readdir(d))) {
		for (i = 0; i < 8 && isxdigit((unsigned char)e->d_name[i]); i++)
			;
		found = i == 8 && e->d_name[8] == '.' && isdigit((unsigned char)e->d_name[9]);
	}
	closedir(d);
	return found;
}

/* Whether the environment variable env is unset or names the same file as def does. */
static bool env_is_default(const char *env, const char *def)
{
	const char *val = getenv(env);
	char a[PATH_MAX], b[PATH_MAX];

	if (!val)
		return true;
	return realpath(val, a) && realpath(def, b) && strcmp(a, b) == 0;
}

/*
 * The system trust store for upstream servers. OpenSSL's defaults (the bundle file and the
 * hashed directory) parse the whole bundle up front, tens of milliseconds of every start; the
 * hashed directory alone loads only the certificates a verification asks for. It is used when
 * it is populated and SSL_CERT_FILE / SSL_CERT_DIR are unset or name the defaults themselves
 * (many images set SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt, Debian's default bundle,
 * the same certificates as the directory's).
 */
static int load_system_trust(SSL_CTX *ctx)
{
	const char *dir = X509_get_default_cert_dir();

	if (!env_is_default(X509_get_default_cert_file_env(), X509_get_default_cert_file()) ||
	    !env_is_default(X509_get_default_cert_dir_env(), dir) || !has_hashed_certs(dir))
		return SSL_CTX_set_default_verify_paths(ctx);
	return SSL_CTX_load_verify_dir(ctx, dir);
}

SSL_CTX *tls_client_ctx_new(const char *extra_ca_file, char *err, size_t errlen)
{
	struct sess_cache *sc;
	SSL_CTX *ctx;
	char reason[256];

	ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx || SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
	    load_system_trust(ctx) != 1 ||
	    SSL_CTX_set_alpn_protos(ctx, alpn_http11, ALPN_HTTP11_LEN) != 0) {
		snprintf(err, errlen, "cannot set up the TLS client context: %s",
			 ca_ossl_reason(reason, sizeof(reason)));
		goto fail;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_ENABLE_PARTIAL_WRITE);
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	SSL_CTX_set_read_ahead(ctx, 1); /* as for the server side */
	/*
	 * Responses are where bodies are large: room for four full records, so one read(2) takes
	 * several. Only here: a client's side reads requests, and its buffer would cost every idle
	 * connection. Given back with the others when a connection idles (conn.c's trim).
	 */
	SSL_CTX_set_default_read_buffer_len(ctx, TLS_READ_BUF);
	/*
	 * Sessions resumed (tls_client_resume()): a new upstream connection to an origin seen
	 * before skips the certificate chain's verification and the server's signature, half of a
	 * full handshake's cost on both ends. Kept here, by name and port, not in OpenSSL's
	 * cache, which would offer a session by the server's address alone.
	 */
	pthread_once(&sess_once, sess_init);
	sc = calloc(1, sizeof(*sc));
	if (!sc || cache_idx < 0 || pthread_mutex_init(&sc->lock, NULL) != 0) {
		free(sc);
		snprintf(err, errlen, "cannot set up the TLS client context: out of memory");
		goto fail;
	}
	if (SSL_CTX_set_ex_data(ctx, cache_idx, sc) != 1) {
		free_cache(NULL, sc, NULL, 0, 0, NULL);
		snprintf(err, errlen, "cannot set up the TLS client context: out of memory");
		goto fail;
	}
	SSL_CTX_set_session_cache_mode(ctx,
				       SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
	SSL_CTX_sess_set_new_cb(ctx, on_new_session);
	if (extra_ca_file && SSL_CTX_load_verify_file(ctx, extra_ca_file) != 1) {
		snprintf(err, errlen, "--upstream-ca %s: cannot load certificates: %s",
			 extra_ca_file, ca_ossl_reason(reason, sizeof(reason)));
		goto fail;
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

int tls_ctxs_init(struct tls_ctxs *t, struct ca *ca, const char *extra_ca_file, char *err,
		  size_t errlen)
{
	SSL_CTX *ctx;

	memset(t, 0, sizeof(*t));
	pthread_mutex_init(&t->lock, NULL);
	t->ca = ca;
	t->extra_ca_file = extra_ca_file;
	if (!extra_ca_file)
		return 0;
	ctx = tls_client_ctx_new(extra_ca_file, err, errlen);
	if (!ctx)
		return -EINVAL;
	atomic_store_explicit(&t->client, ctx, memory_order_release);
	return 0;
}

/* Makes *slot under t's lock if no other thread made it first; one log line per failure kind. */
static SSL_CTX *ctxs_make(struct tls_ctxs *t, SSL_CTX *_Atomic *slot, bool server, bool *said)
{
	char err[512];
	SSL_CTX *ctx;

	pthread_mutex_lock(&t->lock);
	ctx = atomic_load_explicit(slot, memory_order_acquire);
	if (!ctx) {
		ctx = server ? tls_server_ctx_new(t->ca, err, sizeof(err))
			     : tls_client_ctx_new(t->extra_ca_file, err, sizeof(err));
		if (ctx)
			atomic_store_explicit(slot, ctx, memory_order_release);
		else if (!*said)
			log_error("%s: TLS connections are refused", err);
		*said = *said || !ctx;
	}
	pthread_mutex_unlock(&t->lock);
	return ctx;
}

SSL_CTX *tls_ctxs_server(struct tls_ctxs *t)
{
	SSL_CTX *ctx = atomic_load_explicit(&t->server, memory_order_acquire);

	return ctx ? ctx : ctxs_make(t, &t->server, true, &t->server_said);
}

SSL_CTX *tls_ctxs_client(struct tls_ctxs *t)
{
	SSL_CTX *ctx = atomic_load_explicit(&t->client, memory_order_acquire);

	return ctx ? ctx : ctxs_make(t, &t->client, false, &t->client_said);
}

void tls_ctxs_fini(struct tls_ctxs *t)
{
	SSL_CTX_free(atomic_load(&t->server));
	SSL_CTX_free(atomic_load(&t->client));
	pthread_mutex_destroy(&t->lock);
}

int tls_client_prepare(SSL *ssl, const char *host)
{
	char buf[256];
	unsigned char addr[16];
	size_t len;

	if (!ssl || !host)
		return -EINVAL;
	len = strlen(host);
	if (len == 0 || len >= sizeof(buf))
		return -EINVAL;
	if (host[0] == '[') {
		if (len < 3 || host[len - 1] != ']')
			return -EINVAL;
		memcpy(buf, host + 1, len - 2);
		buf[len - 2] = '\0';
		if (inet_pton(AF_INET6, buf, addr) != 1)
			return -EINVAL;
	} else {
		memcpy(buf, host, len + 1);
	}
	if (inet_pton(AF_INET, buf, addr) == 1 || inet_pton(AF_INET6, buf, addr) == 1)
		return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), buf) == 1 ? 0 : -EINVAL;
	/* SNI carries no trailing dot (RFC 6066), and certificates name hosts without one. */
	if (buf[len - 1] == '.')
		buf[--len] = '\0';
	if (len == 0 || SSL_set_tlsext_host_name(ssl, buf) != 1)
		return -EINVAL;
	SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	if (SSL_set1_host(ssl, buf) != 1)
		return -EINVAL;
	return 0;
}

const char *tls_error_string(SSL *ssl, int ret, char *buf, size_t len)
{
	int saved_errno = errno;
	int kind = ssl ? SSL_get_error(ssl, ret) : SSL_ERROR_SSL;
	long verify = ssl ? SSL_get_verify_result(ssl) : X509_V_OK;
	unsigned long e = ERR_peek_error();
	const char *r;

	if (!buf || len == 0)
		goto out;
	if (verify != X509_V_OK &&
	    (e == 0 || (ERR_GET_LIB(e) == ERR_LIB_SSL &&
			ERR_GET_REASON(e) == SSL_R_CERTIFICATE_VERIFY_FAILED))) {
		snprintf(buf, len, "certificate verify failed: %s",
			 X509_verify_cert_error_string(verify));
	} else if (ERR_GET_LIB(e) == ERR_LIB_SSL &&
		   ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
		snprintf(buf, len, "the connection closed during the TLS handshake");
	} else if (e) {
		r = ERR_reason_error_string(e);
		if (r)
			snprintf(buf, len, "%s", r);
		else
			ERR_error_string_n(e, buf, len);
	} else if (kind == SSL_ERROR_ZERO_RETURN) {
		/* With SSL_OP_IGNORE_UNEXPECTED_EOF a bare EOF mid-handshake arrives this way. */
		snprintf(buf, len, "%s",
			 SSL_is_init_finished(ssl)
			     ? "the peer closed the TLS connection"
			     : "the connection closed during the TLS handshake");
	} else if (kind == SSL_ERROR_SYSCALL) {
		if (ret == 0 || saved_errno == 0)
			snprintf(buf, len, "the connection closed during the TLS handshake");
		else
			snprintf(buf, len, "%s", strerror(saved_errno));
	} else if (kind == SSL_ERROR_WANT_READ || kind == SSL_ERROR_WANT_WRITE) {
		snprintf(buf, len, "the TLS handshake did not finish");
	} else {
		snprintf(buf, len, "TLS handshake failed");
	}
out:
	ERR_clear_error();
	return buf;
}
