// SPDX-License-Identifier: MIT
/*
 * match.c: deciding one request against a compiled rule set, and the two helpers callers need
 * to shape a request first (URL splitting, path normalisation).
 *
 * Nothing here allocates: the request is read in place through slices, percent-escapes are
 * decoded on the fly while comparing, and the domain index (built by rules.c) narrows the rules
 * to try. A rule is always checked in full, so the index can only make matching faster, never
 * more permissive. Anything unreadable denies.
 */
#include "rules/rules.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "rules/internal.h"

enum host_kind {
	HOST_INVALID = 0,
	HOST_NAME, /* a DNS name or an IPv4 literal, split into labels */
	HOST_IP6,
};

struct host_view {
	enum host_kind kind;
	const char *name; /* without port and trailing dot */
	size_t len;
	size_t n_labels;
	unsigned char ip6[16];
	uint16_t port; /* the ":port" written after the host, 0 if none */
};

/* What a match looks at: a whole request, or the host and port only (rules_match_host). */
enum match_mode {
	MATCH_REQUEST,
	MATCH_HOST_ANY,
	MATCH_HOST_REQUESTS,
	MATCH_HOST_STREAM,
	MATCH_HOST_DOMAIN,
};

struct path_view {
	const char *p; /* the path, up to '?' or '#' */
	size_t len;
	size_t n_segs;
	bool origin; /* starts with '/' */
};

static const char *const DENY_NO_RULE = "no rule matches";
static const char *const DENY_HOST = "the host is not a valid name or address";
static const char *const DENY_ESCAPE = "the path has a broken %-escape";
static const char *const DENY_RULE = "a deny rule matches";
static const char *const DENY_INTERNAL =
    "the address is an internal one, which only a rule that names the host exactly, or an ip= "
    "that covers the address, reaches";
static const char *const DENY_IP = "the address is outside the ip= of every rule for the host";
static const char *const DENY_EXE =
    "no rule matches this program (a rule that matches the rest is for other programs: exe=)";
static const char *const DENY_DOTS = "the path has . or .. segments (it was not normalised)";

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '-' ||
	       c == '_';
}

static bool all_digits(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!is_digit(s[i]))
			return false;
	return true;
}

/* The port in digits s[0..len), 0 if there is none or it is not 1..65535. */
static uint16_t port_value(const char *s, size_t len)
{
	unsigned long v = 0;
	size_t i;

	if (len == 0 || len > 5)
		return 0;
	for (i = 0; i < len; i++)
		v = v * 10 + (unsigned long)(s[i] - '0');
	return v <= 65535 ? (uint16_t)v : 0;
}

static void host_view_init(struct host_view *hv, const char *h, size_t n)
{
	const char *close, *colon;
	char buf[INET6_ADDRSTRLEN];
	size_t i, labels = 1, label_len = 0;

	memset(hv, 0, sizeof(*hv));
	if (n == 0)
		return;
	if (h[0] == '[') {
		close = memchr(h, ']', n);
		if (!close || (size_t)(close - h - 1) >= sizeof(buf))
			return;
		i = (size_t)(close - h) + 1;
		if (i < n && (h[i] != ':' || !all_digits(h + i + 1, n - i - 1)))
			return;
		if (i < n)
			hv->port = port_value(h + i + 1, n - i - 1);
		memcpy(buf, h + 1, (size_t)(close - h - 1));
		buf[close - h - 1] = '\0';
		if (inet_pton(AF_INET6, buf, hv->ip6) != 1)
			return;
		hv->kind = HOST_IP6;
		return;
	}
	colon = memchr(h, ':', n);
	if (colon) {
		i = (size_t)(colon - h);
		if (!all_digits(colon + 1, n - i - 1))
			return;
		hv->port = port_value(colon + 1, n - i - 1);
		n = i;
	}
	if (n > 0 && h[n - 1] == '.')
		n--;
	if (n == 0 || n > 253)
		return;
	for (i = 0; i < n; i++) {
		if (h[i] == '.') {
			if (label_len == 0)
				return;
			labels++;
			label_len = 0;
		} else if (is_name_char(h[i])) {
			label_len++;
		} else {
			return;
		}
	}
	if (label_len == 0)
		return;
	hv->kind = HOST_NAME;
	hv->name = h;
	hv->len = n;
	hv->n_labels = labels;
}

/* 1 for ".", 2 for "..", with "%2e" read as a dot; else 0. */
static int dot_segment(const char *s, size_t len)
{
	int dots = 0;
	size_t i = 0;

	while (i < len) {
		if (s[i] == '.') {
			i++;
		} else if (len - i >= 3 && s[i] == '%' && s[i + 1] == '2' &&
			   (s[i + 2] == 'e' || s[i + 2] == 'E')) {
			i += 3;
		} else {
			return 0;
		}
		if (++dots > 2)
			return 0;
	}
	return dots;
}

/* Fills pv; returns NULL, or the reason the path cannot be judged. */
static const char *path_view_init(struct path_view *pv, const char *p, size_t n)
{
	size_t i, seg_start;

	if (n == 0) {
		p = "/";
		n = 1;
	}
	for (i = 0; i < n && p[i] != '?' && p[i] != '#'; i++)
		;
	pv->p = p;
	pv->len = i;
	pv->origin = i > 0 && p[0] == '/';
	pv->n_segs = 0;
	if (i == 0) {
		/* "?q" alone: the path is "/". */
		pv->p = "/";
		pv->len = 1;
		pv->origin = true;
	}
	if (!pv->origin)
		return NULL;
	seg_start = 1;
	for (i = 1; i <= pv->len; i++) {
		if (i < pv->len && pv->p[i] == '%') {
			if (i + 2 >= pv->len || rules_hexval(pv->p[i + 1]) < 0 ||
			    rules_hexval(pv->p[i + 2]) < 0)
				return DENY_ESCAPE;
		}
		if (i == pv->len || pv->p[i] == '/') {
			if (dot_segment(pv->p + seg_start, i - seg_start))
				return DENY_DOTS;
			pv->n_segs++;
			seg_start = i + 1;
		}
	}
	return NULL;
}

static bool methods_match(const struct rules_rule *rl, const struct rules_request *req)
{
	size_t i;

	if (rl->n_methods == 0)
		return true;
	for (i = 0; i < rl->n_methods; i++)
		if (rl->method_len[i] == req->method_len &&
		    memcmp(rl->method[i], req->method, req->method_len) == 0)
			return true;
	return false;
}

static bool label_eq(const char *pat, size_t plen, const char *s, size_t len)
{
	size_t i;

	if (plen == 1 && pat[0] == '*')
		return len > 0;
	if (plen != len)
		return false;
	for (i = 0; i < len; i++)
		if (pat[i] != rules_lower(s[i]))
			return false;
	return true;
}

/* Labels are compared right-aligned; a leading "*" absorbs one or more labels. */
static bool labels_match(const struct rules_rule *rl, const struct host_view *hv)
{
	size_t P = rl->n_labels, N = hv->n_labels, j, stop;
	const char *end = hv->name + hv->len, *start;

	if (N < P)
		return false;
	if (N > P && !(rl->label_len[0] == 1 && rl->label[0][0] == '*'))
		return false;
	stop = N > P ? 1 : 0;
	for (j = P; j-- > stop;) {
		start = end;
		while (start > hv->name && start[-1] != '.')
			start--;
		if (!label_eq(rl->label[j], rl->label_len[j], start, (size_t)(end - start)))
			return false;
		end = start - 1;
	}
	return true;
}

static bool domain_matches(const struct rules_rule *rl, const struct host_view *hv)
{
	switch (rl->dkind) {
	case RULES_DOMAIN_ANY:
		return true;
	case RULES_DOMAIN_IP6:
		return hv->kind == HOST_IP6 && memcmp(rl->ip6, hv->ip6, 16) == 0;
	case RULES_DOMAIN_LABELS:
		return hv->kind == HOST_NAME && labels_match(rl, hv);
	}
	return false;
}

/* Compares a pattern segment (decoded) with a request segment (decoded on the fly). */
static bool segment_eq(const char *pat, size_t plen, const char *s, size_t len)
{
	size_t i = 0, k = 0;
	char c;

	while (i < len) {
		if (s[i] == '%') {
			c = (char)(rules_hexval(s[i + 1]) * 16 + rules_hexval(s[i + 2]));
			i += 3;
		} else {
			c = s[i++];
		}
		if (k >= plen || pat[k++] != c)
			return false;
	}
	return k == plen;
}

static bool path_matches(const struct rules_path *pp, const struct path_view *pv)
{
	const char *seg = pv->p + 1, *end = pv->p + pv->len, *slash;
	size_t i;

	if (pv->n_segs < pp->n)
		return false;
	if (pv->n_segs > pp->n && !pp->seg_star[pp->n - 1])
		return false;
	for (i = 0; i < pp->n; i++) {
		slash = memchr(seg, '/', (size_t)(end - seg));
		if (!slash)
			slash = end;
		if (!pp->seg_star[i] &&
		    !segment_eq(pp->seg[i], pp->seg_len[i], seg, (size_t)(slash - seg)))
			return false;
		seg = slash + 1;
	}
	return true;
}

static bool is_stream(const struct rules_rule *rl)
{
	return rl->n_ports > 0 && rl->n_methods == 0 && rl->n_paths == 0;
}

/* A rule without port= matches every port; one with it, only a known port it lists. */
static bool ports_match(const struct rules_rule *rl, uint16_t port)
{
	size_t i;

	if (rl->n_ports == 0)
		return true;
	for (i = 0; i < rl->n_ports; i++)
		if (port != 0 && port >= rl->port[i][0] && port <= rl->port[i][1])
			return true;
	return false;
}

/*
 * A rule without exe= matches every program; one with it only a known executable it binds (the
 * same file: device and inode, so a copy or a hard link's twin under another inode does not
 * pass, and a symlink's target does).
 */
static bool exe_matches(const struct rules_rule *rl, const struct rules_request *req)
{
	size_t i;

	if (rl->n_exes == 0)
		return true;
	if (!req->has_exe)
		return false;
	for (i = 0; i < rl->n_exes; i++)
		if (rl->exe[i].bound && rl->exe[i].dev == req->exe_dev &&
		    rl->exe[i].ino == req->exe_ino)
			return true;
	return false;
}

/* The matching context: the request, what of it counts, and its host and path read. */
struct match_ctx {
	const struct rules_request *req;
	enum match_mode mode;
	uint16_t port;
	struct host_view hv;
	struct path_view pv;
	const struct rules_addr *addr; /* where it goes: the request's, the literal's, or NULL */
	struct rules_addr literal;
	/* some allow rule matched in all but exe=: the refusal says so (the program is the reason) */
	bool exe_missed;
};

static bool cidr_has(const struct rules_cidr *c, const struct rules_addr *a)
{
	unsigned full = c->bits / 8, rest = c->bits % 8;

	if (c->family != a->family || memcmp(c->a, a->a, full) != 0)
		return false;
	return rest == 0 || ((c->a[full] ^ a->a[full]) & (0xff00 >> rest)) == 0;
}

static bool cidrs_have(const struct rules_rule *rl, const struct rules_addr *a)
{
	size_t i;

	for (i = 0; i < rl->n_cidr; i++)
		if (cidr_has(&rl->cidr[i], a))
			return true;
	return false;
}

static bool names_exactly(const struct rules_rule *rl)
{
	size_t i;

	if (rl->dkind == RULES_DOMAIN_IP6)
		return true;
	if (rl->dkind != RULES_DOMAIN_LABELS)
		return false;
	for (i = 0; i < rl->n_labels; i++)
		if (rl->label[i][0] == '*')
			return false;
	return true;
}

/*
 * The address part of a rule: its ip= list, and for an allow rule that names no host exactly,
 * no internal address unless ip= covers it. Unknown (no address yet): an allow rule's ip= is
 * taken as met, to be checked again before connecting; a deny rule's is not.
 */
static bool addr_matches(const struct rules_rule *rl, const struct rules_addr *a)
{
	if (!a)
		return !(rl->deny && rl->n_cidr > 0);
	if (rl->n_cidr > 0 && !cidrs_have(rl, a))
		return false;
	if (!rl->deny && rl->n_cidr == 0 && !names_exactly(rl) && rules_addr_internal(a))
		return false;
	return true;
}

/*
 * What of a deny rule counts when only a host is decided: one with method= or path= cannot be
 * applied to a whole connection, and names are refused (RULES_DOMAIN) only by a rule that
 * refuses every port and address of theirs.
 */
static bool deny_applies(const struct rules_rule *rl, enum match_mode mode)
{
	if (mode == MATCH_REQUEST)
		return true;
	if (rl->n_methods > 0 || rl->n_paths > 0)
		return false;
	return mode != MATCH_HOST_DOMAIN || (rl->n_ports == 0 && rl->n_cidr == 0);
}

/* A request's method and path (rules_match_host() looks at neither). */
static bool request_matches(const struct rules_rule *rl, const struct match_ctx *m)
{
	const struct path_view *pv = &m->pv;
	size_t i;

	if (!methods_match(rl, m->req))
		return false;
	if (rl->n_paths == 0)
		return true;
	if (!pv->origin)
		return false;
	for (i = 0; i < rl->n_paths; i++)
		if (path_matches(&rl->path[i], pv))
			return true;
	return false;
}

static bool rule_matches(const struct rules_rule *rl, struct match_ctx *m)
{
	if (rl->deny ? !deny_applies(rl, m->mode)
		     : (m->mode == MATCH_HOST_STREAM && !is_stream(rl)) ||
			   (m->mode == MATCH_HOST_REQUESTS && is_stream(rl)))
		return false;
	if (!domain_matches(rl, &m->hv))
		return false;
	if (m->mode != MATCH_HOST_DOMAIN && !ports_match(rl, m->port))
		return false;
	if (m->mode != MATCH_HOST_DOMAIN && !addr_matches(rl, m->addr))
		return false;
	/* rules_match_host(): only the domain, port and address count (and the program, below). */
	if (m->mode == MATCH_REQUEST && !request_matches(rl, m))
		return false;
	/* The program last, so that a miss here is one the refusal can name. */
	if (m->mode != MATCH_HOST_DOMAIN && !exe_matches(rl, m->req)) {
		if (!rl->deny)
			m->exe_missed = true;
		return false;
	}
	return true;
}

/*
 * Lowers best[0] to the first allow rule on list v that matches, and best[1] to the first deny
 * rule, each only if it comes before. With no deny rules best[1] starts at 0: the scan stops at
 * the first allow rule that matches, as it always did.
 */
static void scan(const struct rules *r, const struct rules_idxvec *v, struct match_ctx *m,
		 size_t best[2])
{
	const struct rules_rule *rl;
	size_t i, k;

	for (i = 0; i < v->n && (v->v[i] < best[0] || v->v[i] < best[1]); i++) {
		rl = &r->rule[v->v[i]];
		k = rl->deny ? 1 : 0;
		if (v->v[i] < best[k] && rule_matches(rl, m))
			best[k] = v->v[i];
	}
}

/* The address a literal host is: an IPv6 literal, or a name that reads as IPv4. */
static const struct rules_addr *literal_addr(const struct host_view *hv, struct rules_addr *out)
{
	char buf[INET_ADDRSTRLEN];

	memset(out, 0, sizeof(*out));
	if (hv->kind == HOST_IP6) {
		out->family = AF_INET6;
		memcpy(out->a, hv->ip6, 16);
		if (memcmp(out->a, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0) {
			memmove(out->a, out->a + 12, 4);
			memset(out->a + 4, 0, 12);
			out->family = AF_INET;
		}
		return out;
	}
	if (hv->kind != HOST_NAME || hv->n_labels != 4 || hv->len >= sizeof(buf) ||
	    !is_digit(hv->name[hv->len - 1]))
		return NULL;
	memcpy(buf, hv->name, hv->len);
	buf[hv->len] = '\0';
	if (inet_pton(AF_INET, buf, out->a) != 1)
		return NULL;
	out->family = AF_INET;
	return out;
}

/* Every rule that may match m's host, through the index. */
static void scan_all(const struct rules *r, struct match_ctx *m, size_t best[2])
{
	const struct host_view *hv = &m->hv;
	const struct rules_bucket *b;
	const char *p;
	size_t k;

	scan(r, &r->other, m, best);
	if (hv->kind != HOST_NAME)
		return;
	b = rules_index_find(r, hv->name, hv->len);
	if (b)
		scan(r, &b->exact, m, best);
	/* "*.x.y" rules sit under "x.y": try every proper suffix of the host. */
	p = hv->name;
	for (k = 1; k < hv->n_labels; k++) {
		p = (const char *)memchr(p, '.', (size_t)(hv->name + hv->len - p)) + 1;
		b = rules_index_find(r, p, (size_t)(hv->name + hv->len - p));
		if (b)
			scan(r, &b->leading, m, best);
	}
}

static void match(const struct rules *r, const struct rules_request *req, enum match_mode mode,
		  struct rules_decision *d)
{
	struct match_ctx m = {.req = req, .mode = mode};
	const char *why;
	size_t best[2] = {SIZE_MAX, r->n_deny ? SIZE_MAX : 0};

	d->allow = false;
	d->rule = SIZE_MAX;
	d->raw = NULL;
	d->reason = DENY_NO_RULE;
	d->deny_rule = false;
	d->near = NULL;
	d->max_body = 0;

	host_view_init(&m.hv, req->host, req->host_len);
	if (m.hv.kind == HOST_INVALID) {
		d->reason = DENY_HOST;
		return;
	}
	m.port = req->port ? req->port : m.hv.port;
	m.addr = req->addr ? req->addr : literal_addr(&m.hv, &m.literal);
	why = path_view_init(&m.pv, req->path, req->path_len);
	if (why) {
		d->reason = why;
		return;
	}
	scan_all(r, &m, best);
	if (best[1] != SIZE_MAX && r->n_deny) {
		d->deny_rule = true;
		d->rule = best[1];
		d->raw = r->rule[best[1]].raw;
		d->reason = DENY_RULE;
		return;
	}
	if (best[0] != SIZE_MAX) {
		d->allow = true;
		d->rule = best[0];
		d->raw = r->rule[best[0]].raw;
		d->reason = NULL;
		d->max_body = r->rule[best[0]].max_body;
		return;
	}
	if (m.exe_missed) {
		d->reason = DENY_EXE;
		return;
	}
	if (!m.addr)
		return;
	/* Refused for its address alone? Then say so, and which rule matches all but that. */
	m.addr = NULL;
	best[1] = 0;
	scan_all(r, &m, best);
	if (best[0] == SIZE_MAX)
		return;
	/* An ip= that does not cover it is the reason, else the internal address is. */
	d->near = r->rule[best[0]].raw;
	d->reason = r->rule[best[0]].n_cidr ? DENY_IP : DENY_INTERNAL;
}

void rules_request_init(struct rules_request *req, const char *method, const char *host,
			const char *path, size_t path_len, uint16_t port)
{
	memset(req, 0, sizeof(*req));
	req->method = method;
	req->method_len = strlen(method);
	req->host = host;
	req->host_len = strlen(host);
	req->path = path;
	req->path_len = path_len;
	req->port = port;
}

void rules_match(const struct rules *r, const struct rules_request *req, struct rules_decision *d)
{
	match(r, req, MATCH_REQUEST, d);
}

size_t rules_path_normalize(char *buf, size_t len)
{
	size_t plen, i = 0, j, w = 0, tail;
	int dots;

	for (plen = 0; plen < len && buf[plen] != '?' && buf[plen] != '#'; plen++)
		;
	if (plen == 0 || buf[0] != '/')
		return len;
	while (i < plen) {
		/* buf[i] == '/' here; the segment runs to the next '/' or the end. */
		for (j = i + 1; j < plen && buf[j] != '/'; j++)
			;
		dots = dot_segment(buf + i + 1, j - i - 1);
		if (dots == 2) {
			while (w > 0 && buf[w - 1] != '/')
				w--;
			if (w > 0)
				w--;
		}
		if (dots == 0) {
			memmove(buf + w, buf + i, j - i);
			w += j - i;
		} else if (j == plen) {
			/* "/a/." and "/a/.." end in a directory: "/a/" and "/". */
			buf[w++] = '/';
		}
		i = j;
	}
	if (w == 0)
		buf[w++] = '/';
	tail = len - plen;
	memmove(buf + w, buf + plen, tail);
	return w + tail;
}

int rules_url_split(const char *url, struct rules_request *req)
{
	const char *rest, *auth_end, *at, *sep, *colon;
	size_t n;

	memset(req, 0, sizeof(*req));
	sep = strstr(url, "://");
	req->port = 443;
	if (sep && (size_t)(sep - url) == 4 && strncasecmp(url, "http", 4) == 0)
		req->port = 80;
	else if (sep && !((size_t)(sep - url) == 5 && strncasecmp(url, "https", 5) == 0))
		req->port = 0;
	rest = sep ? sep + 3 : url;
	auth_end = rest + strcspn(rest, "/?#");
	/* "user@host": the host is what follows the last '@'. */
	at = NULL;
	for (sep = rest; sep < auth_end; sep++)
		if (*sep == '@')
			at = sep;
	if (at)
		rest = at + 1;
	if (auth_end == rest)
		return -RULES_E_VALUE;
	req->host = rest;
	req->host_len = (size_t)(auth_end - rest);
	req->path = auth_end;
	req->path_len = strlen(auth_end);
	/* An explicit port wins over the scheme's: after "]" for [v6], after the last ':'. */
	colon = NULL;
	for (sep = rest; sep < auth_end; sep++)
		if (*sep == ':')
			colon = sep;
	if (colon && (rest[0] != '[' || colon[-1] == ']')) {
		n = (size_t)(auth_end - colon - 1);
		if (n > 0 && (!all_digits(colon + 1, n) || port_value(colon + 1, n) == 0))
			return -RULES_E_VALUE;
		if (n > 0)
			req->port = port_value(colon + 1, n);
	}
	return 0;
}

void rules_match_host_req(const struct rules *r, const struct rules_request *req,
			  enum rules_scope scope, struct rules_decision *d)
{
	struct rules_request hreq = *req;

	static const enum match_mode modes[] = {
	    [RULES_ANY] = MATCH_HOST_ANY,
	    [RULES_REQUESTS] = MATCH_HOST_REQUESTS,
	    [RULES_STREAM] = MATCH_HOST_STREAM,
	    [RULES_DOMAIN] = MATCH_HOST_DOMAIN,
	};

	hreq.method = NULL;
	hreq.method_len = 0;
	hreq.path = "/";
	hreq.path_len = 1;
	match(r, &hreq, (unsigned)scope < 4 ? modes[scope] : MATCH_HOST_ANY, d);
}

void rules_match_host(const struct rules *r, const char *host, size_t host_len, uint16_t port,
		      enum rules_scope scope, struct rules_decision *d)
{
	struct rules_request req = {.host = host, .host_len = host_len, .port = port};

	rules_match_host_req(r, &req, scope, d);
}

bool rules_is_stream(const struct rules *r, size_t i)
{
	return i < r->n && is_stream(&r->rule[i]);
}

bool rules_names_host(const struct rules *r, size_t i)
{
	return i < r->n && r->rule[i].dkind != RULES_DOMAIN_ANY;
}

bool rules_names_host_exactly(const struct rules *r, size_t i)
{
	return i < r->n && names_exactly(&r->rule[i]);
}

int rules_addr_set(struct rules_addr *out, const void *sockaddr)
{
	const struct sockaddr_in *s4 = sockaddr;
	const struct sockaddr_in6 *s6 = sockaddr;

	memset(out, 0, sizeof(*out));
	if (s4->sin_family == AF_INET) {
		out->family = AF_INET;
		memcpy(out->a, &s4->sin_addr, 4);
		return 0;
	}
	if (s6->sin6_family != AF_INET6)
		return -1;
	if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
		out->family = AF_INET;
		memcpy(out->a, s6->sin6_addr.s6_addr + 12, 4);
		return 0;
	}
	out->family = AF_INET6;
	memcpy(out->a, &s6->sin6_addr, 16);
	return 0;
}

static bool v4_internal(const unsigned char *a)
{
	uint32_t v = (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3];

	return (v >> 24) == 0 || (v >> 24) == 10 || (v >> 24) == 127 || /* this net, 1918, lo */
	       (v >> 22) == (0x64400000 >> 22) ||			/* CGNAT 100.64/10 */
	       (v >> 16) == 0xa9fe ||					/* link-local */
	       (v >> 20) == (0xac100000 >> 20) ||			/* 172.16/12 */
	       (v >> 8) == 0xc00000 ||					/* 192.0.0/24 */
	       (v >> 16) == 0xc0a8 ||					/* 192.168/16 */
	       v == 0xffffffff;						/* broadcast */
}

bool rules_addr_internal(const struct rules_addr *a)
{
	static const unsigned char nat64[12] = {0, 0x64, 0xff, 0x9b};
	const unsigned char *b = a->a;

	if (a->family == AF_INET)
		return v4_internal(b);
	if (a->family != AF_INET6)
		return true;
	if (memcmp(b, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 15) == 0)
		return b[15] <= 1; /* :: and ::1 */
	if ((b[0] & 0xfe) == 0xfc || (b[0] == 0xfe && (b[1] & 0xc0) == 0x80))
		return true; /* ULA fc00::/7, link-local fe80::/10 */
	if (memcmp(b, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0 || memcmp(b, nat64, 12) == 0)
		return v4_internal(b + 12);
	if (b[0] == 0x20 && b[1] == 0x02)
		return v4_internal(b + 2); /* 6to4 */
	return false;
}

void rules_addr_str(const struct rules_addr *a, char *buf, size_t len)
{
	if (!inet_ntop(a->family, a->a, buf, (socklen_t)len) && len)
		snprintf(buf, len, "?");
}
