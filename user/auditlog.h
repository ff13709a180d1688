/* SPDX-License-Identifier: MIT */
/*
 * auditlog.h: reads back one line of the audit stream (proxy/audit.c writes it) as a record.
 *
 * A line is one flat JSON object. The reader is strict JSON (RFC 8259) so that a line it accepts
 * means one thing: UTF-8 only, no raw control characters in strings, no trailing commas, no
 * duplicated known key. It decodes string escapes (\uXXXX and surrogate pairs to UTF-8) and
 * refuses \u0000, since every field comes back as a C string. Keys it does not know are
 * skipped, whatever their value (objects and arrays too, up to a nesting limit), so records
 * that grow new fields still read. It does no I/O and keeps no state between lines.
 */
#ifndef BOUNDARY_USER_AUDITLOG_H
#define BOUNDARY_USER_AUDITLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "proxy/json.h"

/*
 * The longest line read as a record. proxy/audit.c writes at most 4096 bytes a line; the margin
 * is for records from other versions, and the limit for logs that are not audit logs at all.
 */
#define AUDITLOG_MAX_LINE (64 * 1024)

/*
 * Error codes, returned negated (-AUDITLOG_E_SYNTAX). auditlog_strerror() says each. The first
 * six are the JSON reader's (proxy/json.h), with the same numbers and sentences.
 */
enum auditlog_err {
	AUDITLOG_E_SYNTAX = JSON_E_SYNTAX, /* not JSON where JSON was expected */
	AUDITLOG_E_STRING = JSON_E_STRING, /* a string not closed, or with a raw control char */
	AUDITLOG_E_ESCAPE = JSON_E_ESCAPE, /* a bad \ escape, a lone surrogate, or \u0000 */
	AUDITLOG_E_UTF8 = JSON_E_UTF8,	   /* bytes that are not UTF-8 */
	AUDITLOG_E_NUMBER = JSON_E_NUMBER, /* a malformed number */
	AUDITLOG_E_DEPTH = JSON_E_DEPTH,   /* objects or arrays nested too deep */
	AUDITLOG_E_NOT_OBJECT = JSON_E_LAST + 1, /* JSON, but not an object */
	AUDITLOG_E_TRAILING,			 /* something after the object */
	AUDITLOG_E_DUPLICATE,			 /* a known key given twice */
	AUDITLOG_E_TYPE,			 /* a known key with a value of the wrong type */
	AUDITLOG_E_RANGE,    /* a known number out of its range, or not a whole number */
	AUDITLOG_E_NO_EVENT, /* an object with no "event": not an audit record */
	AUDITLOG_E_TOO_LONG, /* longer than AUDITLOG_MAX_LINE */
};

/*
 * One record. A string field the line does not have (or has as null) is NULL; a number field
 * it does not have is -1 (every number boundary writes is 0 or more). Strings point into the
 * buffer given to auditlog_parse() and are valid as long as it is.
 */
struct auditlog_record {
	const char *time;
	const char *event; /* never NULL in a parsed record */
	const char *decision;
	const char *kind;
	const char *method;
	const char *url;
	const char *host;
	const char *dns_type;
	const char *rule;
	const char *reason;
	const char *comm;
	const char *jail;
	const char *decided_by; /* "program" or "person": not the allow rules */
	bool would_deny;	/* --dry-run let it through; the rules would have refused it */
	int64_t port;		/* 0-65535 */
	int64_t status;
	int64_t pid;
	int64_t bytes_up;
	int64_t bytes_down;
	int64_t duration_ms;
	int64_t count;	 /* of a "dropped" record */
	const char *exe; /* the executable (a path, or "dev MAJ:MIN inode N") */
};

/*
 * Parses line[0..len) (without its newline; it need not be NUL-terminated, and a NUL byte in it
 * is an error) as one record into *r. Decoded strings go into buf, which must hold len + 1 bytes
 * (decoding never makes a string longer). Whitespace around the object, a trailing "\r"
 * included, is allowed.
 *
 * Returns len (> 0), or -AUDITLOG_E_* with *err_pos set to the offset in line where the
 * problem was found; *r is then undefined. An empty line is -AUDITLOG_E_SYNTAX at 0.
 */
ssize_t auditlog_parse(const char *line, size_t len, struct auditlog_record *r, char *buf,
		       size_t buflen, size_t *err_pos);

/* A static sentence for an error code (positive or negative): "a string is not closed". */
const char *auditlog_strerror(int err);

#endif /* BOUNDARY_USER_AUDITLOG_H */
