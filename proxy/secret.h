/* SPDX-License-Identifier: MIT */
/*
 * secret.h: credentials the jail never holds. The jailed program sees a placeholder
 * ("boundary-secret-NAME-" and 32 random hex digits); the proxy puts the real value in its place
 * on allowed requests to the hosts the secret is bound to, puts the placeholder back where a
 * response from those hosts carries the value, and refuses a request that carries a
 * placeholder anywhere else.
 *
 * Two pure parts live here, with no I/O and no allocation:
 *  - the set: which secrets a host may receive, and where a placeholder hides in a request
 *    head (literally, percent-encoded, or base64'd in Basic credentials);
 *  - the replacement engine (struct subst): streams bytes through a list of from -> to pairs,
 *    split anywhere, with the same output as one pass over the whole.
 * How they are applied to an exchange (heads, bodies, framing) is secretx.c's.
 */
#ifndef BOUNDARY_PROXY_SECRET_H
#define BOUNDARY_PROXY_SECRET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct rules;

#define SECRET_PREFIX	  "boundary-secret-"
#define SECRET_PREFIX_LEN (sizeof(SECRET_PREFIX) - 1)
#define SECRET_NAME_MAX	  64   /* bytes of a name, NUL included */
#define SECRET_RAND_HEX	  32   /* random hex digits after the name */
#define SECRET_VALUE_MIN  8    /* shorter values would be found in unrelated text */
#define SECRET_VALUE_MAX  4096 /* bytes of a value */
#define SECRET_MAX	  32   /* secrets in one run */
#define SECRET_PH_MAX	  (SECRET_PREFIX_LEN + SECRET_NAME_MAX + 1 + SECRET_RAND_HEX)

/*
 * One secret. user/ fills it; the proxy borrows it for its whole life. value is the only copy
 * of the real credential in the process, in memory locked against swap and wiped at exit: no
 * log line, audit record or error message may print it (print name or placeholder instead).
 */
struct secret {
	char name[SECRET_NAME_MAX];	     /* the environment variable's name */
	char placeholder[SECRET_PH_MAX + 1]; /* what the jail sees instead of value */
	size_t placeholder_len;
	const char *value; /* the real value: no NUL, CR or LF in it */
	size_t value_len;
	/* where value may go: a set of rules with only domain= keys, matched with RULES_DOMAIN */
	const struct rules *domains;
	/* a field set to value on every allowed request to those hosts, or "" */
	char header[64];
};

/* True when host (a name or address, optionally with ":port") may receive s's value. */
bool secret_bound(const struct secret *s, const char *host, size_t host_len);

/*
 * Where a placeholder of s[0..n) first occurs in p[0..len): its secret's index, or -1. Only
 * the literal placeholder is looked for; SECRET_PREFIX first (memmem), then the rest.
 */
ssize_t secret_find(const struct secret *s, size_t n, const char *p, size_t len);

/*
 * As secret_find(), but ignoring ASCII case (DNS folds it), and also through one layer of
 * encoding: percent-encoding (%62oundary...), and hex, base32 (RFC 4648) and base64 (standard
 * or URL-safe), each tried on every run of its alphabet in p long enough to hold a placeholder,
 * wherever the encoded text starts in the run, padded or not, hex and base32 in either case.
 * For request heads and DNS names (a caller joins a name's labels without dots, and tries each
 * label alone too). scratch is the caller's, of at least len bytes; never allocates.
 */
ssize_t secret_find_encoded(const struct secret *s, size_t n, const char *p, size_t len,
			    char *scratch);

/* --- the replacement engine ------------------------------------------------------------------ */

#define SUBST_PAIRS_MAX (2 * SECRET_MAX)
#define SUBST_FROM_MAX	(2 * SECRET_VALUE_MAX) /* a value, or Basic credentials holding one */

/* One replacement: from -> to; refuse: finding from is an error, not a replacement. */
struct subst_pair {
	const char *from;
	size_t from_len; /* 1 .. SUBST_FROM_MAX */
	const char *to;
	size_t to_len;
	bool refuse;
};

/*
 * The engine's state across calls. At each position the longest pair whose from starts there
 * wins; a position waits only while the bytes known after it are the beginning of a from it
 * could still match (or until the end), so the output does not depend on how the input was
 * split, and bytes that cannot begin one are never held back. At most max_from - 1 bytes wait
 * between calls.
 */
struct subst {
	const struct subst_pair *pair;
	size_t n;
	size_t max_from, max_to, min_from;
	unsigned char first[256]; /* 1 where some from starts with that byte */
	int only_first;		  /* the byte every from starts with, or -1 */
	char carry[SUBST_FROM_MAX];
	size_t carry_len;
	uint64_t replaced; /* replacements made */
	ssize_t refused;   /* the pair found that has refuse set, or -1 */
};

/* Where the engine writes: returns 0, or a negative errno that stops it. */
typedef int subst_emit_fn(void *arg, const char *p, size_t n);

/* Starts s on pair[0..n) (borrowed). n may be 0: the bytes pass unchanged. */
void subst_init(struct subst *s, const struct subst_pair *pair, size_t n);

/*
 * Feeds p[0..len). Returns 0, -EPERM when a refuse pair was found (s->refused names it; what
 * came before it was emitted, the pair's bytes were not, and the engine must not be fed
 * again), or emit's error.
 */
int subst_feed(struct subst *s, const char *p, size_t len, subst_emit_fn *emit, void *arg);

/* The end of the input: what was held back is decided and emitted. As subst_feed(). */
int subst_finish(struct subst *s, subst_emit_fn *emit, void *arg);

/*
 * The most bytes emit can be given for len more bytes fed (the held-back bytes included):
 * callers size their output room with it.
 */
size_t subst_out_bound(const struct subst *s, size_t len);

#endif /* BOUNDARY_PROXY_SECRET_H */
