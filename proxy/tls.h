/* SPDX-License-Identifier: MIT */
/*
 * tls.h: the two OpenSSL contexts of the proxy. The server side speaks to jailed programs with
 * a leaf certificate from the local CA for whatever name they asked for; the client side
 * speaks to real upstream servers and verifies them as a careful client would. The module
 * makes and prepares contexts and explains failures; it does not drive handshakes or move
 * bytes (the connection's transport does, non-blocking), and it decides nothing about names.
 */
#ifndef BOUNDARY_PROXY_TLS_H
#define BOUNDARY_PROXY_TLS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include <openssl/ssl.h>

struct ca;

/* The name certified when a client sends no SNI and no fallback name was set. */
#define TLS_NO_NAME "boundary.invalid"

/*
 * The context for TLS with jailed clients: TLS 1.2 minimum, no session tickets and no session
 * cache (no state to carry from one jail to another), no renegotiation. For each handshake the
 * SNI picks the leaf (ca_leaf_for_name()), sent with the CA as its chain; without SNI, the name
 * set by tls_server_set_fallback_name() is used, or TLS_NO_NAME, so the handshake completes and
 * the proxy can answer in HTTP. An SNI the CA refuses to certify also gets TLS_NO_NAME, which
 * the client will not accept. ALPN: only "http/1.1" is selected; a client offering neither
 * gets no ALPN. ca is borrowed and must outlive the context. Returns the context, which the
 * caller frees with SSL_CTX_free(), or NULL with err filled.
 */
SSL_CTX *tls_server_ctx_new(struct ca *ca, char *err, size_t errlen);

/*
 * Sets the name certified for ssl (from tls_server_ctx_new()) when the client sends no SNI,
 * e.g. the Host the proxy expects or the address it was dialled at. Call before SSL_accept().
 * name is copied; NULL clears it.
 */
void tls_server_set_fallback_name(SSL *ssl, const char *name);

/*
 * The context for TLS to upstream servers: TLS 1.2 minimum, peer verification against OpenSSL's
 * default trust (so SSL_CERT_FILE and SSL_CERT_DIR in boundary's environment count) plus the
 * PEM certificates in extra_ca_file when not NULL (--upstream-ca); ALPN http/1.1. Returns the
 * context, which the caller frees with SSL_CTX_free(), or NULL with err filled.
 */
SSL_CTX *tls_client_ctx_new(const char *extra_ca_file, char *err, size_t errlen);

/*
 * Both contexts, each made when the first connection needs it. SSL_CTX_new() initialises
 * OpenSSL (its configuration file, the providers, every cipher and digest fetched): several
 * milliseconds of CPU that a jail whose command never makes a TLS connection need not pay
 * at start. With --upstream-ca the client context is made at once, so a bad file is reported
 * before the command runs. ca and extra_ca_file are borrowed and must outlive the pair.
 */
struct tls_ctxs {
	pthread_mutex_t lock;
	struct ca *ca;
	const char *extra_ca_file;
	SSL_CTX *_Atomic server, *_Atomic client;
	bool server_said, client_said; /* a failure was logged (under lock) */
};

/* Sets t up; with extra_ca_file, makes the client context now. Returns 0, or -EINVAL with err. */
int tls_ctxs_init(struct tls_ctxs *t, struct ca *ca, const char *extra_ca_file, char *err,
		  size_t errlen);

/*
 * The server (jail side) or client (upstream side) context, made on the first call. NULL if it
 * cannot be made: the reason is logged at error level once, and the caller refuses the
 * connection. Safe from any thread.
 */
SSL_CTX *tls_ctxs_server(struct tls_ctxs *t);
SSL_CTX *tls_ctxs_client(struct tls_ctxs *t);

/* Frees what t made. */
void tls_ctxs_fini(struct tls_ctxs *t);

/*
 * Prepares ssl (from tls_client_ctx_new()) to connect to host: a DNS name (one trailing dot is
 * dropped) gets SNI and hostname verification, without partial wildcards; an IPv4/IPv6 literal
 * (IPv6 optionally in brackets) gets no SNI and an IP address check. Returns 0, or -EINVAL for
 * an empty or unusable host.
 */
int tls_client_prepare(SSL *ssl, const char *host);

/*
 * Upstream session resumption, in a cache of the context's (shared by the threads, freed with
 * it): ssl (from tls_client_ctx_new(), before its handshake) offers the latest session the
 * origin named key gave, if any, and the sessions ssl is given are kept under key for the next
 * connections. key names what the session was verified for: the host as tls_client_prepare()
 * got it and the port. Returns 0, or -errno (ssl then connects without resuming). Once per ssl.
 */
int tls_client_resume(SSL *ssl, const char *key);

/* Drops the session kept for ssl's key: its handshake failed, the next one starts anew. */
void tls_client_forget(SSL *ssl);

/*
 * Writes to buf a short sentence saying why the TLS operation on ssl that returned ret failed,
 * for 502 bodies and logs: "certificate verify failed: <reason>" for certificate errors, else
 * the first reason in OpenSSL's error queue, else what SSL_get_error() says (e.g. the peer
 * closed the connection). Clears the error queue. ssl may be NULL. Returns buf.
 */
const char *tls_error_string(SSL *ssl, int ret, char *buf, size_t len);

#endif /* BOUNDARY_PROXY_TLS_H */
