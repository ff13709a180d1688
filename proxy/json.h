/* SPDX-License-Identifier: MIT */
/*
 * json.h: the one JSON reader: the pieces (whitespace, a literal, a string, a number, any value
 * skipped) that user/auditlog.c builds its audit record reader from and proxy/policy.c its
 * reader of a rules program's answer. It reads from a borrowed line and decodes strings into a
 * borrowed buffer; it allocates nothing, does no I/O and keeps no state but the reader's.
 *
 * Strict by default (RFC 8259): UTF-8 only, no raw control characters in strings, escapes
 * decoded (\uXXXX and surrogate pairs to UTF-8), \u0000 refused, numbers as JSON writes them.
 * A loose reader is for messages meant for a person, not for data: bytes are not checked as
 * UTF-8, \n \t \r \b \f and DEL become spaces, each \uXXXX becomes '?', numbers are only scanned,
 * every value (not only an object or array) counts against the depth, and a string is cut to
 * the buffer rather than assumed to fit.
 */
#ifndef BOUNDARY_PROXY_JSON_H
#define BOUNDARY_PROXY_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Error codes, returned negated (-JSON_E_SYNTAX). json_strerror() says each. */
enum json_err {
	JSON_E_SYNTAX = 1, /* not JSON where JSON was expected */
	JSON_E_STRING,	   /* a string that is not closed, or holds a raw control character */
	JSON_E_ESCAPE,	   /* a bad \ escape, a lone surrogate, or \u0000 */
	JSON_E_UTF8,	   /* bytes that are not UTF-8 */
	JSON_E_NUMBER,	   /* a malformed number */
	JSON_E_DEPTH,	   /* objects or arrays nested too deep */
	JSON_E_LAST = JSON_E_DEPTH,
};

/*
 * A reader of line[start..end), at p. Strings decode into out[out_len..out_cap). The caller
 * fills it with json_init() and may move p, end and out_len itself (to take bytes back, or to
 * read a piece again).
 */
struct json_reader {
	const unsigned char *start, *p, *end;
	char *out;
	size_t out_len, out_cap;
	int max_depth; /* how deep json_skip_value() may go */
	bool loose;
};

/*
 * Sets r to read line[0..len) into out (cap bytes, at least 1). A strict reader's out must hold
 * len + 1 bytes: decoding never makes a string longer than it is in the line, its quotes paying
 * for the NUL. A loose reader cuts each string to what out has left.
 */
void json_init(struct json_reader *r, const char *line, size_t len, char *out, size_t cap,
	       int max_depth, bool loose);

/* Moves r->p past spaces, tabs, CRs and LFs. */
void json_skip_ws(struct json_reader *r);

/* If word ("true", "null", ...) is at r->p, moves past it and returns true; else false. */
bool json_literal(struct json_reader *r, const char *word);

/*
 * The string at r->p (its opening quote), decoded into out with a NUL after it; *s is where it
 * starts there, and out_len is past its NUL (the caller sets out_len back if it keeps nothing).
 * Returns 0 or -JSON_E_*, with r->p where the problem was found.
 */
int json_string(struct json_reader *r, const char **s);

/*
 * The number at r->p. *whole says it is an integer (no fraction, no exponent) that fits an
 * int64_t, whose value is then in *v. Returns 0 or -JSON_E_NUMBER.
 */
int json_number(struct json_reader *r, int64_t *v, bool *whole);

/*
 * Any value at r->p (depth 1 for a value inside the top object), read and thrown away; what
 * an unknown key holds. Returns 0 or -JSON_E_*; -JSON_E_DEPTH past r->max_depth.
 */
int json_skip_value(struct json_reader *r, int depth);

/* A static sentence for an error code (positive or negative): "a malformed number". */
const char *json_strerror(int err);

#endif /* BOUNDARY_PROXY_JSON_H */
