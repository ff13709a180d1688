/* SPDX-License-Identifier: MIT */
/*
 * secrets.h: the user's side of secrets (--secret "NAME domain=PATTERN [header=FIELD]
 * [from=env|file:PATH]"). It parses each spec, fetches each value (boundary's own environment
 * variable NAME, or a private file), keeps every value in one locked, never-dumped, never-forked
 * memory region, makes each secret's placeholder, and scrubs the values from boundary's own
 * environment. What the proxy does with them (proxy/secret.h) is not its business: it fills the
 * struct secret records and lends them out. No message it writes ever holds a value.
 */
#ifndef BOUNDARY_USER_SECRETS_H
#define BOUNDARY_USER_SECRETS_H

#include <stddef.h>

#include "proxy/secret.h"

struct opts;
struct rules;

/* The longest spec accepted, in bytes. */
#define SECRETS_SPEC_MAX 4096

/* Where a value comes from. */
enum secrets_from {
	SECRETS_FROM_ENV = 0, /* boundary's environment variable of the secret's name */
	SECRETS_FROM_FILE,    /* a file only its owner may read */
};

/* One spec, parsed. Plain record; secrets_spec_fini() frees what it owns. */
struct secrets_spec {
	char name[SECRET_NAME_MAX];
	char header[64]; /* "" for none */
	enum secrets_from from;
	char path[SECRETS_SPEC_MAX];	/* from=file: the file; "" otherwise */
	size_t from_col;		/* 1-based column of from=, or of NAME without one */
	char domains[SECRETS_SPEC_MAX]; /* the patterns as written, ", " between, for the log */
	struct rules *rules;		/* owned: one rule "domain=PATTERN" per pattern */
};

/*
 * Parses spec (NUL-terminated): NAME, then space-separated keys: domain=P[,P...] (at least
 * once, repeatable; each P a rules domain pattern that names hosts, so not "*"),
 * header=FIELD (an HTTP token of at most 63 bytes, not a field that frames or routes the
 * request), from=env (the default) or from=file:PATH. No I/O. Returns 0 with *out filled (pair
 * with secrets_spec_fini()), or -EINVAL / -ENOMEM with *err_col set to the 1-based column in
 * spec where the problem starts and why filled with a sentence for a person; *out then owns
 * nothing.
 */
int secrets_parse(const char *spec, struct secrets_spec *out, size_t *err_col, char *why,
		  size_t whylen);
void secrets_spec_fini(struct secrets_spec *s);

/*
 * The name spec starts with (after leading blanks): *len bytes at the returned pointer. For
 * telling two specs of one name apart without parsing them.
 */
const char *secrets_spec_name(const char *spec, size_t *len);

/* A run's secrets; opaque. */
struct secrets;

/*
 * Loads o's secrets (the config file's, then the command line's or BOUNDARY_SECRET's): parses
 * each, reads each value into one mmap'd region (locked, MADV_DONTDUMP and MADV_WIPEONFORK;
 * a failed mlock is warned about once), makes each placeholder from getrandom(), and removes
 * each NAME from boundary's environment after zeroing its value in place (so
 * /proc/PID/environ no longer shows it). With at least one secret the process is made
 * non-dumpable. *out is NULL when o has none. Returns 0, or -EINVAL / -ENOMEM / -errno with
 * err set ("--secret \"GH domain=github.com\": column 1: ...") and *out NULL. Call it once, at
 * start-up, before any thread starts (it changes the environment).
 */
int secrets_load(const struct opts *o, struct secrets **out, char *err, size_t errlen);

/* The secrets' records, *n of them (0 and NULL for a NULL s); valid until secrets_free(). */
const struct secret *secrets_records(const struct secrets *s, size_t *n);

/* The domain patterns of record i, as written, for a person. */
const char *secrets_domains(const struct secrets *s, size_t i);

/*
 * Zeroes every value, unlocks and unmaps the region, frees s. Accepts NULL. Also run at exit
 * for the live set, so a path that exits without coming back still wipes.
 */
void secrets_free(struct secrets *s);

#endif /* BOUNDARY_USER_SECRETS_H */
