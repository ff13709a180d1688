/* SPDX-License-Identifier: MIT */
/*
 * rules.h: the rules engine, the only public header of rules/.
 *
 * Parses allow rules in coder/boundary's grammar (method=GET,HEAD domain=*.github.com
 * path=/api/...), compiles them into a set, and decides one request at a time: allowed by the
 * first matching rule, or denied. The engine is pure: no I/O, no threads, no global state, and
 * rules_match() never allocates. It knows nothing of sockets or HTTP parsing; callers hand it
 * slices of what they have already parsed.
 *
 * The matching semantics, and the deliberate differences from coder/boundary, are written down
 * in docs/RULES.md and pinned by tests/conformance/rules.tsv.
 */
#ifndef BOUNDARY_RULES_RULES_H
#define BOUNDARY_RULES_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Error codes, returned negated (-RULES_E_KEY). rules_strerror() names each. */
enum rules_err {
	RULES_E_EMPTY = 1, /* the rule is empty or only whitespace */
	RULES_E_KEY,	   /* unknown key, or text where a key was expected */
	RULES_E_VALUE,	   /* a key with no value, or a malformed list */
	RULES_E_METHOD,	   /* a method that is not an HTTP token */
	RULES_E_DOMAIN,	   /* a malformed host pattern */
	RULES_E_PORT,	   /* a port written into domain= */
	RULES_E_PATH,	   /* a malformed path pattern */
	RULES_E_DUPLICATE, /* domain= given twice in one rule */
	RULES_E_TOO_LONG,  /* the rule or one of its parts exceeds a limit */
	RULES_E_NOMEM,
};

/* The longest rule accepted, in bytes; longer ones fail with RULES_E_TOO_LONG. */
#define RULES_MAX_SPEC 4096

struct rules;

/*
 * One request as the engine sees it. Every field is a borrowed slice (not NUL-terminated).
 *  - method: the request method, compared case-sensitively; never NULL here.
 *  - host:   a name, an IPv4 literal or a bracketed IPv6 literal, with an optional ":port" and
 *            at most one trailing dot; compared case-insensitively.
 *  - path:   the request target's path, already passed through rules_path_normalize(); a
 *            "?query" or "#fragment" may follow and is ignored. Empty means "/".
 */
struct rules_request {
	const char *method;
	size_t method_len;
	const char *host;
	size_t host_len;
	const char *path;
	size_t path_len;
};

/*
 * The outcome of rules_match(). On allow, rule is the index of the first matching rule (in the
 * order they were added) and raw is that rule as the user wrote it, valid as long as the set
 * lives. On deny, raw is NULL and reason is a static sentence for a person ("no rule matches",
 * "the host is not a valid name or address", ...).
 */
struct rules_decision {
	bool allow;
	size_t rule;
	const char *raw;
	const char *reason;
};

/* Returns an empty set (which denies everything), or NULL with errno set. */
struct rules *rules_new(void);

/* Frees the set and every rule in it. Accepts NULL. */
void rules_free(struct rules *r);

/*
 * Parses spec (NUL-terminated) and appends it to the set. Returns 0, or -RULES_E_* with
 * *err_col set to the 1-based column in spec where the problem starts and err filled with a
 * sentence for a person ("a port cannot be part of domain (rules match every port)"). err and
 * err_col may be NULL. On error the set is unchanged.
 */
int rules_add(struct rules *r, const char *spec, size_t *err_col, char *err, size_t errlen);

/* The number of rules in the set. */
size_t rules_count(const struct rules *r);

/* The rule at index i as written (i < rules_count()). */
const char *rules_raw(const struct rules *r, size_t i);

/*
 * Decides req against the set and fills *d. Never allocates, never fails: anything it cannot
 * read (an invalid host, broken percent-encoding, a path that was not normalised) denies, with
 * the reason said. The cost is linear in the number of rules at worst; rules whose domain has
 * no wildcard, or only a leading one, are found through an index.
 */
void rules_match(const struct rules *r, const struct rules_request *req, struct rules_decision *d);

/*
 * Decides whether any rule could allow some request to host (its domain matches; its methods
 * and paths are not looked at), for a CONNECT tunnel whose requests are then each decided on
 * their own. Fills *d as rules_match() does.
 */
void rules_match_host(const struct rules *r, const char *host, size_t host_len,
		      struct rules_decision *d);

/*
 * Removes dot-segments ("/a/./b/../c" -> "/a/c", RFC 3986 section 5.2.4) from the path part of
 * buf[0..len) in place, treating "%2e" and "%2E" as a dot. The query or fragment, if any, is kept
 * as it is, as is everything else (percent-encoding included). Returns the new length, which is
 * never larger than len. The proxy forwards the result, so the upstream sees the path the rules
 * judged.
 */
size_t rules_path_normalize(char *buf, size_t len);

/*
 * Splits an absolute URL ("https://host:port/path?query") or a bare "host/path" (read as https)
 * into a request for rules_match(): host and path are slices of url, and the path is NOT yet
 * normalised. Returns 0, or -RULES_E_VALUE when url has no host. For --test and the tests.
 */
int rules_url_split(const char *url, struct rules_request *req);

/* A static name for an error code (positive or negative). */
const char *rules_strerror(int err);

#endif /* BOUNDARY_RULES_RULES_H */
