/* SPDX-License-Identifier: MIT */
/*
 * sniff.h: what the first bytes of an intercepted connection are (a TLS ClientHello, an
 * HTTP/1.x request, or something else), and what a ClientHello asks for: the server name (SNI),
 * the ALPN protocols and whether it is an Encrypted ClientHello. Pure functions over the
 * caller's bytes: no I/O, no allocation, never a read past len. It does not terminate TLS or
 * parse HTTP; it only tells the connection which of those comes next.
 */
#ifndef BOUNDARY_PROXY_SNIFF_H
#define BOUNDARY_PROXY_SNIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum sniff_kind {
	SNIFF_NEED_MORE,
	SNIFF_TLS,
	SNIFF_HTTP,
	SNIFF_OTHER,
};

/*
 * Classifies a connection from its first len bytes:
 *  - SNIFF_TLS: a TLS handshake record (type 22, version 3.0-3.4, length 1-16384) whose first
 *    handshake byte is ClientHello (1); decided at 6 bytes.
 *  - SNIFF_HTTP: 1-16 tchars (a method token), SP, and the start of a request target: "/",
 *    "*", "http://" or "https://" (any case), or anything after "CONNECT ". So a text protocol
 *    whose first word is a token ("EHLO x", "hello world") is not mistaken for HTTP.
 *  - SNIFF_OTHER: anything that can no longer become one of those.
 *  - SNIFF_NEED_MORE: the bytes so far are a prefix of both kinds or of one (never at 26 bytes
 *    or more). More bytes never change an answer other than SNIFF_NEED_MORE.
 */
enum sniff_kind sniff_kind(const unsigned char *buf, size_t len);

/* Error codes, returned negated (-SNIFF_E_RECORD). sniff_strerror() names each. */
enum sniff_err {
	SNIFF_E_RECORD = 1, /* not a handshake record, or a bad record version or length */
	SNIFF_E_NOT_HELLO,  /* the first handshake message is not a ClientHello */
	SNIFF_E_TOO_BIG,    /* the ClientHello is larger than SNIFF_HELLO_MAX */
	SNIFF_E_TRAILING,   /* more handshake bytes after the ClientHello in its last record */
	SNIFF_E_MALFORMED,  /* a length field that does not fit its enclosing block */
	SNIFF_E_DUP_EXT,    /* an extension type present twice */
	SNIFF_E_SNI,	    /* a malformed server_name extension, or two host names in it */
	SNIFF_E_ALPN,	    /* a malformed ALPN extension */
};

/* The largest ClientHello handshake message accepted (header included), in bytes. */
#define SNIFF_HELLO_MAX (64 * 1024)

/* What a ClientHello asks for. */
struct sniff_hello {
	char sni[256];	  /* the host_name, lower-cased, NUL-terminated; "" if absent or invalid */
	bool sni_invalid; /* a host_name was sent but is not a valid DNS name (sni is "") */
	bool alpn_h2, alpn_http11;
	unsigned n_alpn; /* ALPN protocol names offered */
	bool ech;	 /* an encrypted_client_hello extension (0xfe0d): sni is the outer name */
	uint16_t legacy_version;
};

/*
 * Parses the ClientHello at the start of buf[0..len), which may be spread over several TLS
 * records. A valid DNS name here is 1-253 bytes of dot-separated labels of 1-63 letters, digits,
 * '-' or '_', with no trailing dot and a last label that is not all digits (so no IP literal).
 * Returns:
 *  - > 0: the length of the records that make up the ClientHello; *out is filled.
 *  - 0: more bytes are needed (a record or the message is incomplete).
 *  - -SNIFF_E_*: a malformed ClientHello. Record-level errors are reported as soon as the bytes
 *    that show them are there, the rest once the whole ClientHello is.
 * *out is written only on success. Never reads buf past len.
 */
ssize_t sniff_client_hello(const unsigned char *buf, size_t len, struct sniff_hello *out);

/* A static sentence for a person describing err (positive or negated). */
const char *sniff_strerror(int err);

#endif /* BOUNDARY_PROXY_SNIFF_H */
