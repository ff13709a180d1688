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
static const char *const DENY_DOTS = "the path has . or .. segments (it was not normalised)";
static const char *const DENY_EXE =
    "no rule matches this program (a rule that matches the rest is for other programs: exe=)";

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
	/* some rule matched in all but exe=: the refusal says so (the program is the reason) */
	bool exe_missed;
};

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
	if ((m->mode == MATCH_HOST_STREAM && !is_stream(rl)) ||
	    (m->mode == MATCH_HOST_REQUESTS && is_stream(rl)))
		return false;
	if (!domain_matches(rl, &m->hv))
		return false;
	if (m->mode != MATCH_HOST_DOMAIN && !ports_match(rl, m->port))
		return false;
	/* rules_match_host(): only the domain and port count (and the program, below). */
	if (m->mode == MATCH_REQUEST && !request_matches(rl, m))
		return false;
	/* The program last, so that a miss here is one the refusal can name. */
	if (m->mode != MATCH_HOST_DOMAIN && !exe_matches(rl, m->req)) {
		m->exe_missed = true;
		return false;
	}
	return true;
}

/* Lowers *best to the first rule on list v that matches, if it comes before *best. */
static void scan(const struct rules *r, const struct rules_idxvec *v, struct match_ctx *m,
		 size_t *best)
{
	size_t i;

	for (i = 0; i < v->n && v->v[i] < *best; i++) {
		if (rule_matches(&r->rule[v->v[i]], m)) {
			*best = v->v[i];
			return;
		}
	}
}

static void match(const struct rules *r, const struct rules_request *req, enum match_mode mode,
		  struct rules_decision *d)
{
	struct match_ctx m = {.req = req, .mode = mode};
	const struct host_view *hv = &m.hv;
	const struct rules_bucket *b;
	const char *why, *p;
	size_t best = SIZE_MAX, k;

	d->allow = false;
	d->rule = SIZE_MAX;
	d->raw = NULL;
	d->reason = DENY_NO_RULE;

	host_view_init(&m.hv, req->host, req->host_len);
	if (hv->kind == HOST_INVALID) {
		d->reason = DENY_HOST;
		return;
	}
	m.port = req->port ? req->port : hv->port;
	why = path_view_init(&m.pv, req->path, req->path_len);
	if (why) {
		d->reason = why;
		return;
	}

	scan(r, &r->other, &m, &best);
	if (hv->kind == HOST_NAME) {
		b = rules_index_find(r, hv->name, hv->len);
		if (b)
			scan(r, &b->exact, &m, &best);
		/* "*.x.y" rules sit under "x.y": try every proper suffix of the host. */
		p = hv->name;
		for (k = 1; k < hv->n_labels; k++) {
			p = (const char *)memchr(p, '.', (size_t)(hv->name + hv->len - p)) + 1;
			b = rules_index_find(r, p, (size_t)(hv->name + hv->len - p));
			if (b)
				scan(r, &b->leading, &m, &best);
		}
	}
	if (best == SIZE_MAX) {
		if (m.exe_missed)
			d->reason = DENY_EXE;
		return;
	}
	d->allow = true;
	d->rule = best;
	d->raw = r->rule[best].raw;
	d->reason = NULL;
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

void rules_match_host(const struct rules *r, const char *host, size_t host_len, uint16_t port,
		      enum rules_scope scope, struct rules_decision *d)
{
	struct rules_request req = {.host = host, .host_len = host_len, .port = port};

	rules_match_host_req(r, &req, scope, d);
}

void rules_match_host_req(const struct rules *r, const struct rules_request *from,
			  enum rules_scope scope, struct rules_decision *d)
{
	struct rules_request req = {.method = NULL,
				    .host = from->host,
				    .host_len = from->host_len,
				    .path = "/",
				    .path_len = 1,
				    .port = from->port,
				    .has_exe = from->has_exe,
				    .exe_dev = from->exe_dev,
				    .exe_ino = from->exe_ino};

	static const enum match_mode modes[] = {
	    [RULES_ANY] = MATCH_HOST_ANY,
	    [RULES_REQUESTS] = MATCH_HOST_REQUESTS,
	    [RULES_STREAM] = MATCH_HOST_STREAM,
	    [RULES_DOMAIN] = MATCH_HOST_DOMAIN,
	};

	match(r, &req, (unsigned)scope < 4 ? modes[scope] : MATCH_HOST_ANY, d);
}

bool rules_is_stream(const struct rules *r, size_t i)
{
	return i < r->n && is_stream(&r->rule[i]);
}

bool rules_names_host(const struct rules *r, size_t i)
{
	return i < r->n && r->rule[i].dkind != RULES_DOMAIN_ANY;
}
