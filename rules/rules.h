/* SPDX-License-Identifier: MIT */
/*
 * rules.h: the rules engine, the only public header of rules/.
 *
 * Parses allow rules in coder/boundary's grammar (method=GET,HEAD domain=*.github.com
 * path=/api/...), and deny rules in the same grammar, compiles them into a set, and decides one
 * request at a time: refused if any deny rule matches, else allowed by the first matching allow
 * rule, else refused. The engine is pure: no I/O, no threads, no global state, and
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
	RULES_E_PORT,	   /* a malformed port= value, or a port written into domain= */
	RULES_E_PATH,	   /* a malformed path pattern */
	RULES_E_DUPLICATE, /* domain= given twice in one rule */
	RULES_E_TOO_LONG,  /* the rule or one of its parts exceeds a limit */
	RULES_E_IP,	   /* a malformed ip= network */
	RULES_E_NOMEM,
	RULES_E_EXE, /* an exe= value that is not an absolute path */
};

/* The longest rule accepted, in bytes; longer ones fail with RULES_E_TOO_LONG. */
#define RULES_MAX_SPEC 4096

struct rules;

/*
 * An address a connection goes to: AF_INET (the first 4 bytes of a, network order) or AF_INET6.
 * An IPv4-mapped IPv6 address is given as the IPv4 address (rules_addr_set() does that).
 */
struct rules_addr {
	int family;
	unsigned char a[16];
};

/*
 * One request as the engine sees it. Every field is a borrowed slice (not NUL-terminated).
 *  - method: the request method, compared case-sensitively; never NULL here.
 *  - host:   a name, an IPv4 literal or a bracketed IPv6 literal, with an optional ":port" and
 *            at most one trailing dot; compared case-insensitively.
 *  - path:   the request target's path, already passed through rules_path_normalize(); a
 *            "?query" or "#fragment" may follow and is ignored. Empty means "/".
 *  - port:   the port the request goes to. 0 means the ":port" of host, and when host has
 *            none, unknown: rules with a port= key then do not match (rules without one match
 *            every port, as in coder/boundary).
 *  - addr:   the address boundary connects to, or NULL while it is not known yet (the request
 *            is decided before the name is resolved). When host is an address literal, that
 *            address is used when addr is NULL. With an address, ip= keys are checked and a rule
 *            that does not name the host exactly (domain=*, *.example.com, none) does not match
 *            an internal address (rules_addr_internal()) unless its ip= covers it. Without one,
 *            an allow rule's ip= is taken as met (the caller checks each address before it
 *            connects: rules_match() again with addr set) and a deny rule's ip= as not met.
 *  - has_exe, exe_dev, exe_ino: the executable of the process that made the connection, as
 *            the kernel saw it at connect time (st_dev and st_ino, as stat() gives them). When
 *            has_exe is false the executable is unknown, and rules with an exe= key do not match.
 */
struct rules_request {
	const char *method;
	size_t method_len;
	const char *host;
	size_t host_len;
	const char *path;
	size_t path_len;
	uint16_t port;
	const struct rules_addr *addr;
	bool has_exe;
	uint64_t exe_dev, exe_ino;
};

/*
 * The outcome of rules_match(). On allow, rule is the index of the first matching allow rule
 * (in the order they were added) and raw is that rule as the user wrote it, valid as long as
 * the set lives. On deny, reason is a static sentence for a person ("no rule matches", "the host
 * is not a valid name or address", ...); when a deny rule decided, deny_rule is set, and rule
 * and raw are the first deny rule that matched. When only the address kept a rule from
 * matching (ip=, or an internal address under a wildcard rule), near is that rule as written,
 * for a refusal that says what to change; else NULL. max_body is the allow rule's max_body= in
 * bytes: the most body bytes the request may carry, which the caller enforces.
 */
struct rules_decision {
	bool allow;
	size_t rule;
	const char *raw;
	const char *reason;
	bool deny_rule;
	const char *near;
	uint64_t max_body; /* 0: no limit (denied, or the rule has no max_body=) */
};

/* Returns an empty set (which denies everything), or NULL with errno set. */
struct rules *rules_new(void);

/* Frees the set and every rule in it. Accepts NULL. */
void rules_free(struct rules *r);

/*
 * Parses spec (NUL-terminated) and appends it to the set. Returns 0, or -RULES_E_* with
 * *err_col set to the 1-based column in spec where the problem starts and err filled with a
 * sentence for a person ("a path cannot be part of domain (add path=/... to the rule)"). err and
 * err_col may be NULL. On error the set is unchanged.
 */
int rules_add(struct rules *r, const char *spec, size_t *err_col, char *err, size_t errlen);

/*
 * The same for a deny rule: a request it matches is refused whatever the allow rules say. A deny
 * rule with method= or path= refuses only requests it can see; one without them refuses whole
 * connections to its hosts and ports too (rules_match_host()), and one with neither port= nor
 * ip= also refuses the names themselves (RULES_DOMAIN).
 */
int rules_add_deny(struct rules *r, const char *spec, size_t *err_col, char *err, size_t errlen);

/*
 * Parses spec without keeping it: 0 if rules_add() would accept it, else -RULES_E_* with err
 * filled as rules_add() fills it. For suggesting a rule to a person only when it is one.
 */
int rules_check(const char *spec, char *err, size_t errlen);

/*
 * Whether spec, a rule rules_add() accepts, means something else in coder/boundary (a row of
 * docs/RULES.md's differences table: path=/, an empty path in a list, domain= twice, a %XX
 * escape in a path, a domain's case or trailing dot). Returns 1 with msg set to one line that
 * names the first such difference and how to write what was probably meant, 0 when there is
 * none, or -RULES_E_* when spec does not parse (msg empty).
 */
int rules_compat(const char *spec, char *msg, size_t len);

/* The number of rules in the set. */
size_t rules_count(const struct rules *r);

/* The rule at index i as written (i < rules_count()). */
const char *rules_raw(const struct rules *r, size_t i);

/* True if rule i (< rules_count()) was added by rules_add_deny(). */
bool rules_is_deny(const struct rules *r, size_t i);

/* True if rule i (< rules_count()) has an ip= key. */
bool rules_has_ip(const struct rules *r, size_t i);

/*
 * Fills *req for rules_match() with the NUL-terminated method and host, the path_len bytes of
 * path (normalised, as rules_match() wants it) and port (0: any).
 */
void rules_request_init(struct rules_request *req, const char *method, const char *host,
			const char *path, size_t path_len, uint16_t port);

/*
 * Decides req against the set and fills *d. Never allocates, never fails: anything it cannot
 * read (an invalid host, broken percent-encoding, a path that was not normalised) denies, with
 * the reason said. The cost is linear in the number of rules at worst; rules whose domain has
 * no wildcard, or only a leading one, are found through an index.
 */
void rules_match(const struct rules *r, const struct rules_request *req, struct rules_decision *d);

/*
 * Which rules rules_match_host() considers. A "stream rule" has a port= key and neither
 * method= nor path=: it allows whole connections to its domain and ports, whatever they carry.
 */
enum rules_scope {
	RULES_ANY,	/* every rule: could some request to host:port be allowed? */
	RULES_REQUESTS, /* every rule but stream rules: ones that need the requests read */
	RULES_STREAM,	/* only stream rules: may the connection pass unread? */
	RULES_DOMAIN,	/* every rule, ports ignored: may the name be used at all? (DNS) */
};

/*
 * Decides a connection to host:port before anything on it is read: the first rule of scope
 * whose domain and ports match (methods and paths are not looked at). RULES_ANY serves a
 * CONNECT tunnel, whose requests are then each decided on their own; the proxy asks
 * RULES_REQUESTS and RULES_STREAM to choose between reading a connection's requests and
 * splicing it through unread. port 0 is as in struct rules_request. Fills *d as rules_match()
 * does.
 */
void rules_match_host(const struct rules *r, const char *host, size_t host_len, uint16_t port,
		      enum rules_scope scope, struct rules_decision *d);

/*
 * rules_match_host() for the host, port, address and executable (has_exe, exe_dev, exe_ino) of
 * req; its method and path are not looked at. What a connection decided on its host alone is
 * checked against this before it goes to req->addr. RULES_DOMAIN ignores exe= (a name is not a
 * connection: the DNS responder answers it for every program, and the connection is judged).
 */
void rules_match_host_req(const struct rules *r, const struct rules_request *req,
			  enum rules_scope scope, struct rules_decision *d);

/*
 * Fills *out from a sockaddr_in or sockaddr_in6 (an IPv4-mapped one as IPv4). Returns 0, or -1
 * for another family.
 */
int rules_addr_set(struct rules_addr *out, const void *sockaddr);

/*
 * True if a is not on the internet: loopback, "this network", link-local (cloud metadata
 * included), RFC 1918, CGNAT (100.64.0.0/10), the IETF's 192.0.0.0/24, ULA (fc00::/7), IPv6
 * loopback, unspecified and link-local, and the IPv4 forms embedded in NAT64 (64:ff9b::/96)
 * and 6to4 (2002::/16) addresses. A wildcard rule does not reach these (struct rules_request).
 */
bool rules_addr_internal(const struct rules_addr *a);

/* Writes a as text ("10.0.0.1", "fd00::1") into buf. */
void rules_addr_str(const struct rules_addr *a, char *buf, size_t len);

/*
 * exe=: the engine does no I/O, so it keeps each rule's exe= paths as written and the caller
 * binds each to the file it names (stat(), symlinks followed) when the rules are loaded. A path
 * not bound matches no process.
 *
 * rules_exe_count() is the number of exe= paths of rule i (0: the rule is for every
 * executable); rules_exe_path() the j-th as written (NUL-terminated, valid as long as the set);
 * rules_exe_bind() records its file's st_dev and st_ino. i < rules_count(), j < the count.
 */
size_t rules_exe_count(const struct rules *r, size_t i);
const char *rules_exe_path(const struct rules *r, size_t i, size_t j);
void rules_exe_bind(struct rules *r, size_t i, size_t j, uint64_t dev, uint64_t ino);

/* True if rule i (< rules_count()) is a stream rule. */
bool rules_is_stream(const struct rules *r, size_t i);

/*
 * True if rule i (< rules_count()) names its hosts: a domain= other than "*". A rule that names
 * none admits any host, which the proxy does not take to include the host's own addresses.
 */
bool rules_names_host(const struct rules *r, size_t i);

/*
 * True if rule i (< rules_count()) names one host exactly: a domain= without any "*". Only such
 * a rule, or an ip= covering the address, lets a name reach an internal address.
 */
bool rules_names_host_exactly(const struct rules *r, size_t i);

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
 * normalised; port is the URL's port, or its scheme's (80 for http, 443 for https or none, 0
 * for any other). Returns 0, or -RULES_E_VALUE when url has no host or a port that is not
 * 1..65535. For --test and the tests.
 */
int rules_url_split(const char *url, struct rules_request *req);

/* A static name for an error code (positive or negative). */
const char *rules_strerror(int err);

#endif /* BOUNDARY_RULES_RULES_H */
