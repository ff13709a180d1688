// SPDX-License-Identifier: MIT
/*
 * rules.c: parsing and compiling allow rules, and the domain index.
 *
 * The grammar is coder/boundary's (docs/RULES.md):
 *
 *   rule    := pair ( WS+ pair )* WS*            WS = ' ' | '\t' | '\n'
 *   pair    := "method=" token ( "," token )*    token = 1*tchar (RFC 9110), "*" = any
 *            | "domain=" host                      host = "*" | label ( "." label )* | "[" v6 "]"
 *            | "path=" path ( "," path )*          label = "*" | alnum [ *(alnum / "-") alnum ]
 *            | "port=" ports ( "," ports )*        ports = 1*5DIGIT [ "-" 1*5DIGIT ], 1..65535
 *            | "ip=" net ( "," net )*              net = IPv4 [ "/" 0..32 ] | IPv6 [ "/" 0..128 ]
 *            | "max_body=" 1*DIGIT [ "K" | "M" | "G" ]   1024-based; 1 .. 2^63 - 1 bytes
 *            | "exe=" abspath ( "," abspath )*     abspath = "/" *( any but WS and "," )
 *   path    := ( "/"? segment )*                   segment = "*" | *( pchar / %XX )
 *
 * with its rules kept (a host other than "*" cannot end with "*", a path "*" is a whole segment,
 * repeated method= and path= keys add to the lists) and these differences, each for safety:
 * the empty rule is an error rather than allow-all; an empty path in a list (path=/a,) is dropped
 * rather than read as every path; path=/ is the root only; a trailing dot on the domain is ignored; bracketed IPv6
 * literals are accepted; percent-encoding in path patterns is decoded, as it is in requests.
 * port=, ip= and exe= are our extensions: a rule without them matches every port, address and
 * program, as before, so no existing policy changes meaning (but see rules_addr_internal() for what a
 * wildcard rule reaches). Deny rules (rules_add_deny()) share the grammar. max_body= is ours
 * too: it narrows nothing, but caps the body of what the rule allows (the proxy enforces it;
 * the engine hands it out with the decision).
 *
 * This file owns memory: every rule is allocated here and freed by rules_free(). It does not
 * own matching (match.c).
 */
#include "rules/rules.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules/internal.h"

/* Where the parser is, where it reports errors, and where the first difference from coder/boundary. */
struct parser {
	const char *spec;
	size_t pos;
	size_t *err_col;
	char *err;
	size_t errlen;
	char *compat; /* rules_compat()'s message, or NULL */
	size_t compatlen;
};

static void note(struct parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Says how coder/boundary read what the parser just read differently; only the first is kept. */
static void note(struct parser *p, const char *fmt, ...)
{
	va_list ap;

	if (!p->compat || p->compatlen == 0 || p->compat[0])
		return;
	va_start(ap, fmt);
	vsnprintf(p->compat, p->compatlen, fmt, ap);
	va_end(ap);
}

static int perr(struct parser *p, size_t at, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int perr(struct parser *p, size_t at, int code, const char *fmt, ...)
{
	va_list ap;

	if (p->err_col)
		*p->err_col = at + 1;
	if (p->err && p->errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(p->err, p->errlen, fmt, ap);
		va_end(ap);
	}
	return -code;
}

static bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n';
}

static bool is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* RFC 9110 tchar. */
static bool is_tchar(char c)
{
	return is_alnum(c) || (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* RFC 3986 pchar minus "%" (handled apart) and "," (the list separator). */
static bool is_pchar(char c)
{
	return is_alnum(c) || (c != '\0' && strchr("-._~!$&'()*+;=:@", c) != NULL);
}

static void *grow(void *v, size_t *cap, size_t need, size_t elem)
{
	size_t ncap = *cap ? *cap : 4;
	void *nv;

	if (need <= *cap)
		return v;
	while (ncap < need)
		ncap *= 2;
	nv = reallocarray(v, ncap, elem);
	if (!nv)
		return NULL;
	*cap = ncap;
	return nv;
}

static void path_fini(struct rules_path *pp)
{
	size_t i;

	for (i = 0; i < pp->n; i++)
		free(pp->seg[i]);
	free(pp->seg);
	free(pp->seg_len);
	free(pp->seg_star);
	memset(pp, 0, sizeof(*pp));
}

static void rule_fini(struct rules_rule *rl)
{
	size_t i;

	free(rl->raw);
	for (i = 0; i < rl->n_methods; i++)
		free(rl->method[i]);
	free(rl->method);
	free(rl->method_len);
	for (i = 0; i < rl->n_labels; i++)
		free(rl->label[i]);
	free(rl->label);
	free(rl->label_len);
	for (i = 0; i < rl->n_paths; i++)
		path_fini(&rl->path[i]);
	free(rl->path);
	free(rl->port);
	free(rl->cidr);
	for (i = 0; i < rl->n_exes; i++)
		free(rl->exe[i].path);
	free(rl->exe);
	memset(rl, 0, sizeof(*rl));
}

/* Appends a copy of s[0..len) to a (string, length) list. */
static int push_str(char ***v, size_t **lens, size_t *n, const char *s, size_t len)
{
	char **nv;
	size_t *nl;
	char *copy;

	copy = strndup(s, len);
	if (!copy)
		return -RULES_E_NOMEM;
	nv = reallocarray(*v, *n + 1, sizeof(**v));
	if (!nv)
		goto nomem;
	*v = nv;
	nl = reallocarray(*lens, *n + 1, sizeof(**lens));
	if (!nl)
		goto nomem;
	*lens = nl;
	(*v)[*n] = copy;
	(*lens)[*n] = len;
	(*n)++;
	return 0;
nomem:
	free(copy);
	return -RULES_E_NOMEM;
}

static int parse_methods(struct parser *p, struct rules_rule *rl, bool *any)
{
	const char *s = p->spec;
	size_t start;
	int ret;

	for (;;) {
		start = p->pos;
		while (is_tchar(s[p->pos]))
			p->pos++;
		if (p->pos == start) {
			if (s[p->pos] == ',' || (start > 0 && s[start - 1] == ','))
				return perr(p, p->pos, RULES_E_VALUE, "empty method in the list");
			if (s[p->pos] == '\0' || is_ws(s[p->pos]))
				return perr(p, p->pos, RULES_E_VALUE,
					    "method= needs a method (GET, POST, ... or *)");
			return perr(p, p->pos, RULES_E_METHOD,
				    "'%c' cannot be part of an HTTP method", s[p->pos]);
		}
		if (p->pos - start == 1 && s[start] == '*') {
			*any = true;
		} else {
			ret = push_str(&rl->method, &rl->method_len, &rl->n_methods, s + start,
				       p->pos - start);
			if (ret < 0)
				return ret;
		}
		if (s[p->pos] != ',')
			break;
		p->pos++;
	}
	if (s[p->pos] != '\0' && !is_ws(s[p->pos]))
		return perr(p, p->pos, RULES_E_METHOD, "'%c' cannot be part of an HTTP method",
			    s[p->pos]);
	return 0;
}

/* After a domain value: say precisely why the next character does not belong. */
static int domain_trailer(struct parser *p)
{
	const char *s = p->spec;
	char c = s[p->pos];

	if (c == '\0' || is_ws(c))
		return 0;
	if (c == ':')
		return perr(p, p->pos, RULES_E_PORT,
			    "a port cannot be part of domain (write it as its own key: "
			    "port=%.*s)",
			    (int)strspn(s + p->pos + 1, "0123456789"), s + p->pos + 1);
	if (c == '/')
		return perr(p, p->pos, RULES_E_DOMAIN,
			    "a path cannot be part of domain (add path=/... to the rule)");
	if (c == ',')
		return perr(p, p->pos, RULES_E_DOMAIN,
			    "one domain per rule (give another --allow for each further domain)");
	return perr(p, p->pos, RULES_E_DOMAIN, "'%c' cannot be part of a domain", c);
}

static int parse_ip6(struct parser *p, struct rules_rule *rl)
{
	const char *s = p->spec;
	size_t start = p->pos + 1;
	size_t end = start;
	char buf[INET6_ADDRSTRLEN];

	while (s[end] != '\0' && s[end] != ']' && !is_ws(s[end]))
		end++;
	if (s[end] != ']')
		return perr(p, p->pos, RULES_E_DOMAIN, "'[' without a closing ']'");
	if (end - start >= sizeof(buf) || end == start)
		return perr(p, start, RULES_E_DOMAIN, "not an IPv6 address");
	memcpy(buf, s + start, end - start);
	buf[end - start] = '\0';
	if (inet_pton(AF_INET6, buf, rl->ip6) != 1)
		return perr(p, start, RULES_E_DOMAIN, "\"%s\" is not an IPv6 address", buf);
	rl->dkind = RULES_DOMAIN_IP6;
	p->pos = end + 1;
	return domain_trailer(p);
}

static int parse_domain(struct parser *p, struct rules_rule *rl)
{
	const char *s = p->spec;
	size_t start, len, i, value_start = p->pos;
	bool last_star = false;
	int ret;
	char lab[64];

	if (s[p->pos] == '[')
		return parse_ip6(p, rl);
	if (s[p->pos] == '\0' || is_ws(s[p->pos]))
		return perr(p, p->pos, RULES_E_VALUE,
			    "domain= needs a host name (example.com, *.example.com or *)");
	for (;;) {
		start = p->pos;
		if (s[p->pos] == '*') {
			p->pos++;
			if (is_alnum(s[p->pos]) || s[p->pos] == '-')
				return perr(p, start, RULES_E_DOMAIN,
					    "* must be a whole label (write *.example.com)");
			last_star = true;
		} else {
			while (is_alnum(s[p->pos]) || s[p->pos] == '-')
				p->pos++;
			len = p->pos - start;
			if (len == 0) {
				if (s[p->pos] == ':')
					return domain_trailer(p);
				if (s[p->pos] == '.')
					return perr(
					    p, p->pos, RULES_E_DOMAIN,
					    "empty label (two dots in a row, or a leading dot)");
				return perr(p, p->pos, RULES_E_DOMAIN,
					    "'%c' cannot be part of a domain", s[p->pos]);
			}
			if (s[start] == '-' || s[p->pos - 1] == '-')
				return perr(p, s[start] == '-' ? start : p->pos - 1, RULES_E_DOMAIN,
					    "a label cannot start or end with '-'");
			if (len > 63)
				return perr(p, start, RULES_E_TOO_LONG,
					    "a label is longer than 63 characters");
			last_star = false;
		}
		len = p->pos - start;
		for (i = 0; i < len; i++) {
			lab[i] = rules_lower(s[start + i]);
			if (lab[i] != s[start + i])
				note(p, "domain= matches host names in any case here, as DNS does; "
					"coder/boundary matched only the case written: write it in "
					"lower case to say so");
		}
		ret = push_str(&rl->label, &rl->label_len, &rl->n_labels, lab, len);
		if (ret < 0)
			return ret;
		if (s[p->pos] != '.')
			break;
		/* One trailing dot is the DNS root: "example.com." is "example.com". */
		if (s[p->pos + 1] == '\0' || is_ws(s[p->pos + 1])) {
			note(p, "a trailing dot in domain= is the DNS root and ignored here; "
				"coder/boundary never matched it: drop the dot");
			p->pos++;
			break;
		}
		p->pos++;
	}
	if (p->pos - value_start > 253)
		return perr(p, value_start, RULES_E_TOO_LONG,
			    "a domain is longer than 253 characters");
	if (last_star && rl->n_labels > 1)
		return perr(p, p->pos - 1, RULES_E_DOMAIN,
			    "a domain cannot end with * (write *.example.com for its subdomains)");
	if (rl->n_labels == 1 && last_star) {
		/* domain=* is the same as no domain= at all. */
		free(rl->label[0]);
		rl->n_labels = 0;
		rl->dkind = RULES_DOMAIN_ANY;
	} else {
		rl->dkind = RULES_DOMAIN_LABELS;
	}
	return domain_trailer(p);
}

static int parse_one_path(struct parser *p, struct rules_path *pp)
{
	const char *s = p->spec;
	char *dec = NULL;
	size_t dlen, start, n_cap = 0;
	bool star;
	int ret = 0;
	int hi, lo;

	for (;;) {
		if (s[p->pos] == '/')
			p->pos++;
		start = p->pos;
		if (s[p->pos] == '\0' || is_ws(s[p->pos]) || s[p->pos] == ',') {
			/* A trailing "/" in a pattern is dropped: "/api/" is "/api". */
			if (start > 0 && s[start - 1] == '/' && start >= 2 && s[start - 2] == '/')
				return perr(p, start - 1, RULES_E_PATH,
					    "empty path segment (two slashes in a row)");
			break;
		}
		if (s[p->pos] == '/')
			return perr(p, p->pos, RULES_E_PATH,
				    "empty path segment (two slashes in a row)");
		star = false;
		if (s[p->pos] == '*') {
			char nx = s[p->pos + 1];

			if (nx == '\0' || nx == '/' || nx == ',' || is_ws(nx)) {
				star = true;
				p->pos++;
			} else {
				return perr(p, p->pos, RULES_E_PATH,
					    "* must be a whole segment (/api/* or /*/users)");
			}
		}
		dlen = 0;
		free(dec);
		dec = malloc(strlen(s + p->pos) + 2);
		if (!dec)
			return -RULES_E_NOMEM;
		if (star) {
			dec[dlen++] = '*';
		} else {
			while (s[p->pos] != '\0' && s[p->pos] != '/' && s[p->pos] != ',' &&
			       !is_ws(s[p->pos])) {
				if (s[p->pos] == '%') {
					hi = rules_hexval(s[p->pos + 1]);
					lo = hi < 0 ? -1 : rules_hexval(s[p->pos + 2]);
					if (hi < 0 || lo < 0) {
						ret = perr(p, p->pos, RULES_E_PATH,
							   "'%%' must start a %%XX escape");
						goto out;
					}
					dec[dlen++] = (char)(hi * 16 + lo);
					note(p,
					     "a %%XX escape in path= is decoded here, as in "
					     "requests; coder/boundary kept it as written, so the "
					     "pattern never matched there");
					p->pos += 3;
					continue;
				}
				if (s[p->pos] == '?' || s[p->pos] == '#') {
					ret = perr(p, p->pos, RULES_E_PATH,
						   "a query or fragment cannot be part of path "
						   "(rules ignore the query)");
					goto out;
				}
				if (!is_pchar(s[p->pos])) {
					ret = perr(
					    p, p->pos, RULES_E_PATH,
					    "'%c' cannot be part of a path (escape it as %%%02X)",
					    s[p->pos], (unsigned char)s[p->pos]);
					goto out;
				}
				dec[dlen++] = s[p->pos++];
			}
		}
		if (pp->n + 1 > n_cap) {
			char **ns;
			size_t *nl;
			bool *nb;

			n_cap = n_cap ? n_cap * 2 : 4;
			ns = reallocarray(pp->seg, n_cap, sizeof(*ns));
			if (!ns)
				goto nomem;
			pp->seg = ns;
			nl = reallocarray(pp->seg_len, n_cap, sizeof(*nl));
			if (!nl)
				goto nomem;
			pp->seg_len = nl;
			nb = reallocarray(pp->seg_star, n_cap, sizeof(*nb));
			if (!nb)
				goto nomem;
			pp->seg_star = nb;
		}
		pp->seg[pp->n] = dec;
		pp->seg_len[pp->n] = dlen;
		pp->seg_star[pp->n] = star;
		pp->n++;
		dec = NULL;
		if (s[p->pos] != '/')
			break;
	}
	/*
	 * "/" alone is the root and nothing else: one empty segment, as the request "/" has.
	 * (coder/boundary reads it as "every path", which path=/,/index.html makes a trap.)
	 */
	if (pp->n == 0) {
		note(p, "path=/ means the root page only here; coder/boundary read it as every "
			"path: write path=* for that");
		pp->seg = calloc(1, sizeof(*pp->seg));
		pp->seg_len = calloc(1, sizeof(*pp->seg_len));
		pp->seg_star = calloc(1, sizeof(*pp->seg_star));
		if (!pp->seg || !pp->seg_len || !pp->seg_star)
			return -RULES_E_NOMEM;
		pp->seg[0] = strdup("");
		if (!pp->seg[0])
			return -RULES_E_NOMEM;
		pp->n = 1;
	}
out:
	free(dec);
	return ret;
nomem:
	free(dec);
	return -RULES_E_NOMEM;
}

static int parse_paths(struct parser *p, struct rules_rule *rl)
{
	size_t start, before = rl->n_paths, key_at = p->pos;
	struct rules_path *np;
	bool listed = false;
	int ret;

	for (;;) {
		np = reallocarray(rl->path, rl->n_paths + 1, sizeof(*np));
		if (!np)
			return -RULES_E_NOMEM;
		rl->path = np;
		memset(&rl->path[rl->n_paths], 0, sizeof(*np));
		rl->n_paths++;
		start = p->pos;
		/*
		 * An empty path between commas, or after the last (path=/a,), is dropped: coder/boundary
		 * reads it as every path, which a typo should not open up. Alone it is an error.
		 */
		if (p->spec[start] == ',' ||
		    (listed && (p->spec[start] == '\0' || is_ws(p->spec[start])))) {
			note(p, "an empty path in path='s list (a stray comma) is dropped here; "
				"coder/boundary read it as every path: write path=* for that");
			rl->n_paths--;
			if (p->spec[start] != ',')
				break;
			p->pos++;
			listed = true;
			continue;
		}
		if (p->spec[start] == '\0' || is_ws(p->spec[start]))
			return perr(p, start, RULES_E_VALUE,
				    "path= needs a path (/ for the root, /api/* below /api, * for "
				    "every path)");
		ret = parse_one_path(p, &rl->path[rl->n_paths - 1]);
		if (ret < 0)
			return ret;
		if (p->spec[p->pos] != ',')
			break;
		listed = true;
		p->pos++;
	}
	/* Commas and nothing else: no path at all, which would mean every path. */
	if (rl->n_paths == before)
		return perr(p, key_at, RULES_E_VALUE,
			    "path= needs a path (/ for the root, /api/* below /api, * for every "
			    "path)");
	if (p->spec[p->pos] != '\0' && !is_ws(p->spec[p->pos]))
		return perr(p, p->pos, RULES_E_PATH, "'%c' cannot be part of a path",
			    p->spec[p->pos]);
	return 0;
}

/* One port number at p->pos: 1..65535, digits only. */
static int parse_port_number(struct parser *p, uint16_t *out)
{
	const char *s = p->spec;
	size_t start = p->pos;
	unsigned long v = 0;

	while (s[p->pos] >= '0' && s[p->pos] <= '9') {
		v = v * 10 + (unsigned long)(s[p->pos] - '0');
		if (v > 65535)
			return perr(p, start, RULES_E_PORT, "a port is a number from 1 to 65535");
		p->pos++;
	}
	if (p->pos == start) {
		if (s[p->pos] == '*')
			return perr(p, start, RULES_E_PORT,
				    "port=* is what a rule without port= means; leave the key out");
		return perr(p, start, RULES_E_PORT,
			    "port= needs a number (port=22), a list (port=22,2222) or a range "
			    "(port=8000-8099)");
	}
	if (v == 0)
		return perr(p, start, RULES_E_PORT, "a port is a number from 1 to 65535");
	*out = (uint16_t)v;
	return 0;
}

/* port=22,2222,8000-8099; repeated port= keys add to the list. */
static int parse_ports(struct parser *p, struct rules_rule *rl)
{
	const char *s = p->spec;
	uint16_t(*np)[2];
	uint16_t lo, hi;
	size_t start;
	int ret;

	for (;;) {
		start = p->pos;
		ret = parse_port_number(p, &lo);
		if (ret < 0)
			return ret;
		hi = lo;
		if (s[p->pos] == '-') {
			p->pos++;
			ret = parse_port_number(p, &hi);
			if (ret < 0)
				return ret;
			if (hi < lo)
				return perr(p, start, RULES_E_PORT,
					    "a port range goes from low to high (%u-%u)", hi, lo);
		}
		if (rl->n_ports >= 64)
			return perr(p, start, RULES_E_TOO_LONG, "more than 64 ports in one rule");
		np = reallocarray(rl->port, rl->n_ports + 1, sizeof(*np));
		if (!np)
			return -RULES_E_NOMEM;
		rl->port = np;
		rl->port[rl->n_ports][0] = lo;
		rl->port[rl->n_ports][1] = hi;
		rl->n_ports++;
		if (s[p->pos] != ',')
			break;
		p->pos++;
	}
	if (s[p->pos] != '\0' && !is_ws(s[p->pos]))
		return perr(p, p->pos, RULES_E_PORT, "'%c' cannot be part of a port", s[p->pos]);
	return 0;
}

/* One ip= network: an address and an optional prefix length, host bits zero or not. */
static int parse_one_ip(struct parser *p, struct rules_cidr *c)
{
	const char *s = p->spec;
	size_t start = p->pos, end, slash;
	unsigned long bits;
	unsigned max;
	bool mapped;
	char buf[INET6_ADDRSTRLEN], *e;

	for (end = start; s[end] != '\0' && s[end] != ',' && !is_ws(s[end]); end++)
		;
	for (slash = start; slash < end && s[slash] != '/'; slash++)
		;
	if (slash == start)
		return perr(p, start,
			    s[start] == '\0' || is_ws(s[start]) ? RULES_E_VALUE : RULES_E_IP,
			    "ip= needs an address or network (10.0.0.0/8, fd00::/8, 192.0.2.7)");
	if (slash - start >= sizeof(buf))
		return perr(p, start, RULES_E_IP, "\"%.*s\" is not an IPv4 or IPv6 address",
			    (int)(slash - start), s + start);
	memcpy(buf, s + start, slash - start);
	buf[slash - start] = '\0';
	memset(c, 0, sizeof(*c));
	if (inet_pton(AF_INET, buf, c->a) == 1) {
		c->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, c->a) == 1) {
		c->family = AF_INET6;
		max = 128;
		/* ::ffff:a.b.c.d/n is the IPv4 network, as the addresses it is compared with are. */
		if (memcmp(c->a, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0) {
			memmove(c->a, c->a + 12, 4);
			memset(c->a + 4, 0, 12);
			c->family = AF_INET;
			max = 32;
		}
	} else {
		return perr(p, start, RULES_E_IP, "\"%s\" is not an IPv4 or IPv6 address%s", buf,
			    buf[0] == '[' ? " (write IPv6 without brackets)" : "");
	}
	c->bits = max;
	if (slash < end) {
		if (slash + 1 == end || s[slash + 1] < '0' || s[slash + 1] > '9')
			return perr(p, slash + 1, RULES_E_IP, "a prefix length must follow '/'");
		mapped = max == 32 && strchr(buf, ':');
		bits = strtoul(s + slash + 1, &e, 10);
		if (e != s + end || bits > (mapped ? 128 : max) || end - slash > 4)
			return perr(p, slash + 1, RULES_E_IP,
				    "the prefix length of an %s network is 0 to %u",
				    c->family == AF_INET && !mapped ? "IPv4" : "IPv6",
				    mapped ? 128 : max);
		/* ::ffff:10.0.0.0/104 and the like: the prefix counted in the IPv4 address. */
		if (mapped) {
			if (bits < 96)
				return perr(p, slash + 1, RULES_E_IP,
					    "an IPv4-mapped network needs a prefix of 96 or more");
			bits -= 96;
		}
		c->bits = (unsigned)bits;
	}
	p->pos = end;
	return 0;
}

static int parse_ips(struct parser *p, struct rules_rule *rl)
{
	const char *s = p->spec;
	struct rules_cidr c, *nc;
	int ret;

	for (;;) {
		ret = parse_one_ip(p, &c);
		if (ret < 0)
			return ret;
		if (rl->n_cidr >= 64)
			return perr(p, p->pos, RULES_E_TOO_LONG,
				    "more than 64 networks in one rule");
		nc = reallocarray(rl->cidr, rl->n_cidr + 1, sizeof(*nc));
		if (!nc)
			return -RULES_E_NOMEM;
		rl->cidr = nc;
		rl->cidr[rl->n_cidr++] = c;
		if (s[p->pos] != ',')
			break;
		p->pos++;
	}
	return 0;
}

/* --- max_body= ------------------------------------------------------------------------------ */

/* The largest max_body= accepted: what an HTTP Content-Length may say (2^63 - 1). */
#define MAX_BODY_MAX ((uint64_t)INT64_MAX)

/*
 * max_body=SIZE: digits, then at most one of K, M, G (either case), which multiply by 1024,
 * 1024^2, 1024^3. Zero is refused: it would not mean "no body" (the decision reads 0 as no
 * limit), and method=GET,HEAD says that better. Only once in a rule, and never on a stream rule
 * (checked by parse_rule() once the whole rule is read).
 */
static int parse_max_body(struct parser *p, struct rules_rule *rl, size_t key_at)
{
	const char *s = p->spec;
	size_t start = p->pos;
	uint64_t v = 0, mul = 1;
	unsigned d;

	if (rl->max_body)
		return perr(p, key_at, RULES_E_DUPLICATE, "max_body= given twice in one rule");
	while (s[p->pos] >= '0' && s[p->pos] <= '9') {
		d = (unsigned)(s[p->pos] - '0');
		if (v > (MAX_BODY_MAX - d) / 10)
			return perr(p, start, RULES_E_VALUE,
				    "max_body= is too large (at most 2^63 - 1 bytes, about 8 EiB)");
		v = v * 10 + d;
		p->pos++;
	}
	if (p->pos == start)
		return perr(p, start, RULES_E_VALUE,
			    "max_body= needs a size in bytes, or with K, M or G (max_body=512K, "
			    "max_body=10M)");
	switch (s[p->pos]) {
	case 'K':
	case 'k':
		mul = 1024;
		break;
	case 'M':
	case 'm':
		mul = 1024 * 1024;
		break;
	case 'G':
	case 'g':
		mul = 1024 * 1024 * 1024;
		break;
	default:
		break;
	}
	if (mul > 1)
		p->pos++;
	if (s[p->pos] != '\0' && !is_ws(s[p->pos]))
		return perr(p, p->pos, RULES_E_VALUE,
			    "'%c' cannot follow a size: write bytes, or K, M or G after the number "
			    "(1024-based: max_body=10M is 10485760 bytes)",
			    s[p->pos]);
	if (v == 0)
		return perr(
		    p, start, RULES_E_VALUE,
		    "max_body=0 would refuse every body; to allow only requests without one, "
		    "use method=GET,HEAD");
	if (v > MAX_BODY_MAX / mul)
		return perr(p, start, RULES_E_VALUE,
			    "max_body= is too large (at most 2^63 - 1 bytes, about 8 EiB)");
	rl->max_body = v * mul;
	return 0;
}

/*
 * A limit on bodies needs the requests read, and a stream rule (port= with neither method= nor
 * path=) lets a connection through unread: say so rather than keep a limit nothing enforces.
 */
static int check_max_body(struct parser *p, const struct rules_rule *rl, size_t key_at)
{
	if (rl->max_body && rl->n_ports > 0 && rl->n_methods == 0 && rl->n_paths == 0)
		return perr(p, key_at, RULES_E_VALUE,
			    "max_body= needs the requests read, and a rule with port= but neither "
			    "method= nor path= passes connections through unread (add path=* to "
			    "have its requests read and limited)");
	return 0;
}

/* --- exe= ------------------------------------------------------------------------------------ */

/* The most exe= paths one rule takes. */
#define MAX_EXES 64

/*
 * exe=/usr/bin/git,/usr/bin/ssh; repeated exe= keys add to the list. Each path is absolute,
 * kept as written (the caller looks it up: symlinks are followed then, "." and ".." are the
 * file system's), and cannot hold whitespace or ',' (the grammar's separators).
 */
static int parse_exes(struct parser *p, struct rules_rule *rl)
{
	const char *s = p->spec;
	struct rules_exe *nv;
	size_t start;
	char *copy;

	for (;;) {
		start = p->pos;
		if (s[start] != '/') {
			if (s[start] == ',' || (start > 0 && s[start - 1] == ','))
				return perr(p, start, RULES_E_EXE, "empty path in the list");
			if (s[start] == '\0' || is_ws(s[start]))
				return perr(
				    p, start, RULES_E_VALUE,
				    "exe= needs the path of an executable (exe=/usr/bin/git)");
			return perr(p, start, RULES_E_EXE,
				    "exe= takes an absolute path, not \"%.*s\" (`command -v NAME` "
				    "prints a program's)",
				    (int)strcspn(s + start, ", \t\n"), s + start);
		}
		while (s[p->pos] != '\0' && s[p->pos] != ',' && !is_ws(s[p->pos]))
			p->pos++;
		if (rl->n_exes >= MAX_EXES)
			return perr(p, start, RULES_E_TOO_LONG,
				    "more than %d executables in one rule", MAX_EXES);
		copy = strndup(s + start, p->pos - start);
		if (!copy)
			return -RULES_E_NOMEM;
		nv = reallocarray(rl->exe, rl->n_exes + 1, sizeof(*nv));
		if (!nv) {
			free(copy);
			return -RULES_E_NOMEM;
		}
		rl->exe = nv;
		memset(&rl->exe[rl->n_exes], 0, sizeof(*nv));
		rl->exe[rl->n_exes].path = copy;
		rl->n_exes++;
		if (s[p->pos] != ',')
			break;
		p->pos++;
	}
	return 0;
}

size_t rules_exe_count(const struct rules *r, size_t i)
{
	return i < r->n ? r->rule[i].n_exes : 0;
}

const char *rules_exe_path(const struct rules *r, size_t i, size_t j)
{
	return i < r->n && j < r->rule[i].n_exes ? r->rule[i].exe[j].path : NULL;
}

void rules_exe_bind(struct rules *r, size_t i, size_t j, uint64_t dev, uint64_t ino)
{
	if (i >= r->n || j >= r->rule[i].n_exes)
		return;
	r->rule[i].exe[j].dev = dev;
	r->rule[i].exe[j].ino = ino;
	r->rule[i].exe[j].bound = true;
}

/* --- a whole rule --------------------------------------------------------------------------- */

/*
 * A second domain= in one rule (start is its key), at its value: coder/boundary glues the two
 * into one name (domain=a.com domain=b.com is a.com.b.com), and so does this, saying so. A name
 * that could not be glued (domain=*, an IPv6 literal) is an error.
 */
static int second_domain(struct parser *p, struct rules_rule *rl, size_t start)
{
	size_t i, len = 0, at;
	char name[256];
	int ret;

	if (rl->dkind != RULES_DOMAIN_LABELS || p->spec[p->pos] == '[' || p->spec[p->pos] == '*')
		return perr(p, start, RULES_E_DUPLICATE,
			    "domain= given twice; one rule matches one domain (give another "
			    "--allow for the other)");
	at = p->pos;
	ret = parse_domain(p, rl);
	if (ret < 0)
		return ret;
	for (i = 0; i < rl->n_labels && len < sizeof(name); i++)
		len += (size_t)snprintf(name + len, sizeof(name) - len, "%s%s", i ? "." : "",
					rl->label[i]);
	if (len > 253)
		return perr(p, at, RULES_E_TOO_LONG, "a domain is longer than 253 characters");
	note(p,
	     "domain= given twice: coder/boundary joins the two into one name, %s, and so does "
	     "boundary; one rule matches one domain: give another rule for the other",
	     name);
	return 0;
}

static const char *const known_keys[] = {"method", "domain",   "path", "port",
					 "ip",	   "max_body", "exe"};

/* The keys, as errors list them. */
#define KEYS "method, domain, path, port, ip, max_body, exe"

static int parse_rule(struct parser *p, struct rules_rule *rl)
{
	const char *s = p->spec;
	bool any_method = false, seen_domain = false, seen_method = false;
	size_t start, klen, i, max_body_at = 0;
	int ret;

	while (is_ws(s[p->pos]))
		p->pos++;
	if (s[p->pos] == '\0')
		return perr(p, 0, RULES_E_EMPTY,
			    "an empty rule would allow everything; use \"domain=*\" to allow "
			    "everything");
	while (s[p->pos] != '\0') {
		start = p->pos;
		while (s[p->pos] >= 'a' && s[p->pos] <= 'z')
			p->pos++;
		klen = p->pos - start;
		if (s[p->pos] != '=' || klen == 0) {
			while (s[p->pos] != '\0' && s[p->pos] != '=' && !is_ws(s[p->pos]))
				p->pos++;
			if (s[p->pos] != '=')
				return perr(p, start, RULES_E_KEY,
					    "expected key=value (keys: " KEYS ")");
			klen = p->pos - start;
		}
		for (i = 0; i < sizeof(known_keys) / sizeof(known_keys[0]); i++)
			if (strlen(known_keys[i]) == klen &&
			    memcmp(s + start, known_keys[i], klen) == 0)
				break;
		if (i == sizeof(known_keys) / sizeof(known_keys[0]))
			return perr(p, start, RULES_E_KEY, "unknown key \"%.*s\" (keys: " KEYS ")",
				    (int)klen, s + start);
		p->pos++; /* '=' */
		switch (i) {
		case 0:
			ret = parse_methods(p, rl, &any_method);
			seen_method = true;
			break;
		case 1:
			ret = seen_domain ? second_domain(p, rl, start) : parse_domain(p, rl);
			seen_domain = true;
			break;
		case 2:
			ret = parse_paths(p, rl);
			break;
		case 3:
			ret = parse_ports(p, rl);
			break;
		case 4:
			ret = parse_ips(p, rl);
			break;
		case 5:
			max_body_at = start;
			ret = parse_max_body(p, rl, start);
			break;
		default:
			ret = parse_exes(p, rl);
			break;
		}
		if (ret < 0)
			return ret;
		if (s[p->pos] != '\0' && !is_ws(s[p->pos]))
			return perr(p, p->pos, RULES_E_KEY,
				    "expected whitespace before the next key");
		while (is_ws(s[p->pos]))
			p->pos++;
	}
	/* method=* anywhere in the rule means any method, whatever else is listed. */
	if (seen_method && any_method) {
		for (i = 0; i < rl->n_methods; i++)
			free(rl->method[i]);
		rl->n_methods = 0;
	}
	return check_max_body(p, rl, max_body_at);
}

unsigned long rules_hash_lower(const char *s, size_t len)
{
	unsigned long h = 1469598103934665603UL;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)rules_lower(s[i]);
		h *= 1099511628211UL;
	}
	return h;
}

const struct rules_bucket *rules_index_find(const struct rules *r, const char *key, size_t len)
{
	unsigned long h;
	size_t mask, i, k;
	const struct rules_bucket *b;

	if (r->n_buckets == 0)
		return NULL;
	h = rules_hash_lower(key, len);
	mask = r->n_buckets - 1;
	for (i = h & mask;; i = (i + 1) & mask) {
		b = &r->bucket[i];
		if (!b->key)
			return NULL;
		if (b->hash != h || b->key_len != len)
			continue;
		for (k = 0; k < len; k++)
			if (b->key[k] != rules_lower(key[k]))
				break;
		if (k == len)
			return b;
	}
}

static int idx_push(struct rules_idxvec *v, size_t idx)
{
	size_t *nv = grow(v->v, &v->cap, v->n + 1, sizeof(*v->v));

	if (!nv)
		return -RULES_E_NOMEM;
	v->v = nv;
	v->v[v->n++] = idx;
	return 0;
}

static int index_grow(struct rules *r)
{
	struct rules_bucket *nb;
	size_t ncap = r->n_buckets ? r->n_buckets * 2 : 64;
	size_t i, j, mask = ncap - 1;

	nb = calloc(ncap, sizeof(*nb));
	if (!nb)
		return -RULES_E_NOMEM;
	for (i = 0; i < r->n_buckets; i++) {
		if (!r->bucket[i].key)
			continue;
		for (j = r->bucket[i].hash & mask; nb[j].key; j = (j + 1) & mask)
			;
		nb[j] = r->bucket[i];
	}
	free(r->bucket);
	r->bucket = nb;
	r->n_buckets = ncap;
	return 0;
}

/* The bucket for key (already lower case), created if absent. */
static struct rules_bucket *index_get(struct rules *r, const char *key, size_t len)
{
	unsigned long h;
	size_t i, mask;

	if ((r->n_keys + 1) * 2 > r->n_buckets && index_grow(r) < 0)
		return NULL;
	h = rules_hash_lower(key, len);
	mask = r->n_buckets - 1;
	for (i = h & mask; r->bucket[i].key; i = (i + 1) & mask)
		if (r->bucket[i].hash == h && r->bucket[i].key_len == len &&
		    memcmp(r->bucket[i].key, key, len) == 0)
			return &r->bucket[i];
	r->bucket[i].key = strndup(key, len);
	if (!r->bucket[i].key)
		return NULL;
	r->bucket[i].key_len = len;
	r->bucket[i].hash = h;
	r->n_keys++;
	return &r->bucket[i];
}

/* Files rule idx (already stored) under its domain, or on the list of others. */
static int index_add(struct rules *r, size_t idx)
{
	const struct rules_rule *rl = &r->rule[idx];
	struct rules_bucket *b;
	size_t i, first, len = 0;
	char *key;
	bool leading;
	int ret;

	if (rl->dkind != RULES_DOMAIN_LABELS)
		return idx_push(&r->other, idx);
	leading = rl->label[0][0] == '*';
	first = leading ? 1 : 0;
	for (i = first; i < rl->n_labels; i++)
		if (rl->label[i][0] == '*')
			return idx_push(&r->other, idx);
	for (i = first; i < rl->n_labels; i++)
		len += rl->label_len[i] + 1;
	key = malloc(len);
	if (!key)
		return -RULES_E_NOMEM;
	len = 0;
	for (i = first; i < rl->n_labels; i++) {
		if (i > first)
			key[len++] = '.';
		memcpy(key + len, rl->label[i], rl->label_len[i]);
		len += rl->label_len[i];
	}
	b = index_get(r, key, len);
	free(key);
	if (!b)
		return -RULES_E_NOMEM;
	ret = idx_push(leading ? &b->leading : &b->exact, idx);
	return ret;
}

struct rules *rules_new(void)
{
	return calloc(1, sizeof(struct rules));
}

void rules_free(struct rules *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->n; i++)
		rule_fini(&r->rule[i]);
	free(r->rule);
	for (i = 0; i < r->n_buckets; i++) {
		free(r->bucket[i].key);
		free(r->bucket[i].exact.v);
		free(r->bucket[i].leading.v);
	}
	free(r->bucket);
	free(r->other.v);
	free(r);
}

static int add(struct rules *r, const char *spec, bool deny, size_t *err_col, char *err,
	       size_t errlen)
{
	struct parser p = {.spec = spec, .err_col = err_col, .err = err, .errlen = errlen};
	struct rules_rule rl = {0};
	struct rules_rule *nv;
	int ret;

	if (err && errlen)
		err[0] = '\0';
	if (err_col)
		*err_col = 0;
	if (strlen(spec) > RULES_MAX_SPEC)
		return perr(&p, RULES_MAX_SPEC, RULES_E_TOO_LONG,
			    "a rule is longer than %d characters", RULES_MAX_SPEC);
	ret = parse_rule(&p, &rl);
	if (ret < 0)
		goto fail;
	rl.raw = strdup(spec);
	if (!rl.raw) {
		ret = -RULES_E_NOMEM;
		goto fail;
	}
	nv = grow(r->rule, &r->cap, r->n + 1, sizeof(*r->rule));
	if (!nv) {
		ret = -RULES_E_NOMEM;
		goto fail;
	}
	r->rule = nv;
	rl.deny = deny;
	r->rule[r->n] = rl;
	ret = index_add(r, r->n);
	if (ret < 0) {
		/* The rule is not indexed, so it must not be matched either. */
		rule_fini(&r->rule[r->n]);
		return ret;
	}
	r->n++;
	if (deny)
		r->n_deny++;
	return 0;
fail:
	if (ret == -RULES_E_NOMEM && err && errlen)
		snprintf(err, errlen, "out of memory");
	rule_fini(&rl);
	return ret;
}

int rules_add(struct rules *r, const char *spec, size_t *err_col, char *err, size_t errlen)
{
	return add(r, spec, false, err_col, err, errlen);
}

int rules_add_deny(struct rules *r, const char *spec, size_t *err_col, char *err, size_t errlen)
{
	return add(r, spec, true, err_col, err, errlen);
}

int rules_compat(const char *spec, char *msg, size_t len)
{
	struct parser p = {.spec = spec, .compat = msg, .compatlen = len};
	struct rules_rule rl = {0};
	int ret;

	if (len)
		msg[0] = '\0';
	if (strlen(spec) > RULES_MAX_SPEC)
		return -RULES_E_TOO_LONG;
	ret = parse_rule(&p, &rl);
	rule_fini(&rl);
	if (ret < 0) {
		if (len)
			msg[0] = '\0';
		return ret;
	}
	return len && msg[0] ? 1 : 0;
}

int rules_check(const char *spec, char *err, size_t errlen)
{
	struct rules *r = rules_new();
	int ret;

	if (!r)
		return -RULES_E_NOMEM;
	ret = rules_add(r, spec, NULL, err, errlen);
	rules_free(r);
	return ret;
}

size_t rules_count(const struct rules *r)
{
	return r->n;
}

const char *rules_raw(const struct rules *r, size_t i)
{
	return i < r->n ? r->rule[i].raw : NULL;
}

bool rules_is_deny(const struct rules *r, size_t i)
{
	return i < r->n && r->rule[i].deny;
}

bool rules_has_ip(const struct rules *r, size_t i)
{
	return i < r->n && r->rule[i].n_cidr > 0;
}

const char *rules_strerror(int err)
{
	static const char *const names[] = {
	    [0] = "success",
	    [RULES_E_EMPTY] = "empty rule",
	    [RULES_E_KEY] = "bad key",
	    [RULES_E_VALUE] = "missing value",
	    [RULES_E_METHOD] = "bad method",
	    [RULES_E_DOMAIN] = "bad domain",
	    [RULES_E_PORT] = "bad port",
	    [RULES_E_PATH] = "bad path",
	    [RULES_E_DUPLICATE] = "duplicate key",
	    [RULES_E_TOO_LONG] = "too long",
	    [RULES_E_IP] = "bad ip network",
	    [RULES_E_NOMEM] = "out of memory",
	    [RULES_E_EXE] = "bad executable path",
	};

	if (err < 0)
		err = -err;
	if ((size_t)err >= sizeof(names) / sizeof(names[0]))
		return "unknown error";
	return names[err];
}
