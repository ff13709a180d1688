/* SPDX-License-Identifier: MIT */
/*
 * ca.h: boundary's local certificate authority, which lets the proxy read the TLS of jailed
 * programs. It owns the CA's two files (loaded, or made once and never silently replaced), one
 * shared leaf key, and a bounded, thread-safe cache of leaf certificates minted per server name.
 * It does not own TLS contexts or handshakes (tls.h), nor the environment variables that make
 * jailed programs trust the CA (their bundle is written here, pointed at by the caller).
 */
#ifndef BOUNDARY_PROXY_CA_H
#define BOUNDARY_PROXY_CA_H

#include <stddef.h>
#include <sys/types.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

struct ca;

/* The file names inside the CA directory. */
#define CA_CERT_FILE "ca-cert.pem"
#define CA_KEY_FILE  "ca-key.pem"

/* How many leaf certificates the cache keeps; the least recently used goes first. */
#define CA_CACHE_MAX 1024

/*
 * Loads dir/ca-cert.pem and dir/ca-key.pem or, when neither exists, makes a new CA there: ECDSA
 * P-256, valid 10 years from now minus 1 hour, subject "CN=boundary CA <hostname>, O=boundary",
 * basicConstraints critical CA:TRUE pathlen:0, keyUsage critical keyCertSign+cRLSign,
 * subjectKeyIdentifier, a random 128-bit serial. dir (and any missing parent) is created 0700;
 * the directories it creates and both files are chowned to owner:group (-1 leaves either as is).
 * ca-key.pem is written 0600 before ca-cert.pem 0644, each through a temporary file and a
 * rename, so a crash never leaves half a file. Concurrent ca_open() calls on one dir, in any
 * process, are serialised by a lock on the directory.
 *
 * Existing files are never changed, and are only read here, as bytes: parsing and checking them,
 * and the shared ECDSA P-256 leaf key, wait for the first use (ca_ready()), so a start that
 * never sees TLS never initialises OpenSSL. One file without the other, or a file that cannot
 * be opened or read, or is not a regular file, returns NULL with err saying which and what to
 * do. Returns the CA, which the caller frees with ca_free(), or NULL with err filled and errno
 * set.
 */
struct ca *ca_open(const char *dir, uid_t owner, gid_t group, char *err, size_t errlen);

/*
 * Parses and checks the CA that ca_open() read, once, on the first call from any thread (the
 * others wait for it): an unparsable file, a key that does not match the certificate, a
 * certificate that is expired, not yet valid or not a CA each fail with err saying which and
 * what to do, in the words ca_open() used to say them, and the failure is logged once and
 * kept (later calls return it again without logging). Also makes the shared leaf key. Called
 * by ca_leaf_for_name(), ca_cert() and ca_leaf_key(); call it yourself to fail early. Returns
 * 0, or -errno with err filled.
 */
int ca_ready(struct ca *ca, char *err, size_t errlen);

/* Frees the CA, its keys and every cached leaf. NULL is fine. */
void ca_free(struct ca *ca);

/* "<dir>/ca-cert.pem" and "<dir>/ca-key.pem"; valid while ca is. */
const char *ca_cert_path(const struct ca *ca);
const char *ca_key_path(const struct ca *ca);

/*
 * The leaf certificate for name, signed by the CA for ca_leaf_key(). name is a DNS name
 * (letters, digits, '-', '_' and dots; one trailing dot is dropped; up to 253 characters; any
 * case) or an IPv4/IPv6 literal (IPv6 optionally in brackets). A DNS name gets a DNS SAN (and
 * the CN when it fits in 64 characters), a literal gets an IP SAN only. Valid from now minus 1
 * hour to now plus 30 days, never past the CA's notAfter; EKU serverAuth, keyUsage
 * digitalSignature, CA:FALSE, AKI, a random serial.
 *
 * Leaves are cached, keyed by the lower-cased name (the canonical address for literals), up to
 * CA_CACHE_MAX; a cached leaf that expires within a day is minted again. Safe to call from any
 * thread: the signature is made outside the lock, so two threads asking for one new name at
 * once may both mint it (one copy is kept). Returns a new reference the caller frees with
 * X509_free(), or NULL with errno EINVAL (name not acceptable), EIO (the CA cannot be loaded:
 * see ca_ready()) or ENOMEM (OpenSSL failed).
 */
X509 *ca_leaf_for_name(struct ca *ca, const char *name);

/* The key of every leaf; borrowed, valid while ca is. NULL when ca_ready() fails. */
EVP_PKEY *ca_leaf_key(struct ca *ca);

/* The CA's certificate; borrowed, valid while ca is. NULL when ca_ready() fails. */
X509 *ca_cert(struct ca *ca);

/*
 * Writes a PEM bundle to path for the jail's SSL_CERT_FILE: the system's trust store
 * (X509_get_default_cert_file(), else /etc/ssl/certs/ca-certificates.crt) followed by the first
 * certificate block of the CA's file as it is (none if it has none), without parsing either or
 * initialising OpenSSL. A plain PEM file is copied as it is; one in OpenSSL's TRUSTED CERTIFICATE form is
 * rewritten certificate by certificate, skipping entries that do not parse (with a warning). A
 * system without either file gets a bundle of the CA alone. Written 0644 through a temporary
 * file in path's directory and a rename. Returns 0, or -errno with err filled.
 */
int ca_write_bundle(struct ca *ca, const char *path, char *err, size_t errlen);

/* The first reason in OpenSSL's error queue (which is then cleared), for messages. Returns buf. */
const char *ca_ossl_reason(char *buf, size_t len);

#endif /* BOUNDARY_PROXY_CA_H */
