// SPDX-License-Identifier: MIT
/*
 * rules_fuzz.c: libFuzzer target for the rule parser, the matcher and path normalisation.
 *
 * Input: lines. Every line but the last two is a rule (a deny rule if it starts with "!"); the
 * second-to-last is a Host, with " ADDR" after it for the address the connection goes to; the
 * last a request path (or a URL, also fed to rules_url_split). Invariants checked, beyond "no
 * crash, no leak, no UB": a failed rules_add leaves the set as it was and names a column inside
 * the rule; normalising is idempotent, never grows the path, and leaves nothing the matcher
 * calls unnormalised; the indexed match agrees with a plain scan of every rule (any deny rule
 * that matches refuses, else the first allow rule allows); a rule kept with max_body= has a
 * limit in 1 .. 2^63 - 1 and is never a stream rule, and every decision carries exactly its
 * deciding rule's limit (0 on a deny). exe= paths are bound to numbers made from their text,
 * and the request is made by one of them, by none that matches, or by a program not known: a
 * rule with exe= never allows an unknown one, and DNS (RULES_DOMAIN) answers the same whatever
 * the program.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../rules/match.c"

#define MAX_LINES 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Stand-ins for stat(): an exe= path's device and inode, made from its text. */
static void fake_stat(const char *path, uint64_t *dev, uint64_t *ino)
{
	*dev = strlen(path) % 3;
	*ino = rules_hash_lower(path, strlen(path));
}

/* Binds every exe= path of r; the request is made by the first one's file (when which is 1). */
static void bind_exes(struct rules *r, struct rules_request *req, unsigned which)
{
	uint64_t dev, ino;
	size_t i, j;

	req->has_exe = which != 0;
	req->exe_dev = 99;
	req->exe_ino = 99;
	for (i = 0; i < rules_count(r); i++) {
		for (j = 0; j < rules_exe_count(r, i); j++) {
			fake_stat(rules_exe_path(r, i, j), &dev, &ino);
			rules_exe_bind(r, i, j, dev, ino);
			if (which == 1 && req->exe_dev == 99) {
				req->exe_dev = dev;
				req->exe_ino = ino;
			}
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf, *line[MAX_LINES], *p, *path, *path2;
	size_t n = 0, i, before, col, plen, plen2, want;
	struct rules *r;
	struct rules_request req = {.method = "GET", .method_len = 3};
	struct rules_decision d, ds, dr, da, dd, dd2;
	struct match_ctx m;
	struct rules_addr addr;
	struct sockaddr_in6 s6 = {.sin6_family = AF_INET6};
	struct sockaddr_in s4 = {.sin_family = AF_INET};
	size_t deny_at;
	char err[256], note[512], *sp;
	int compat;

	buf = malloc(size + 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	for (p = buf; n < MAX_LINES;) {
		line[n++] = p;
		p = strchr(p, '\n');
		if (!p)
			break;
		*p++ = '\0';
	}
	r = rules_new();
	for (i = 0; i + 2 < n; i++) {
		const char *spec = line[i][0] == '!' ? line[i] + 1 : line[i];

		before = rules_count(r);
		/* rules_compat() parses as rules_add() does: an error there is one here. */
		compat = rules_compat(spec, note, sizeof(note));
		if ((compat == 1) != (note[0] != '\0') || (compat == 1 && strchr(note, '\n')))
			abort();
		if ((spec == line[i] ? rules_add(r, spec, &col, err, sizeof(err))
				     : rules_add_deny(r, spec, &col, err, sizeof(err))) < 0) {
			if (rules_count(r) != before || col == 0 || col > strlen(spec) + 1 ||
			    err[0] == '\0' || compat >= 0)
				abort();
		} else if (compat < 0) {
			abort();
		} else if (strcmp(rules_raw(r, before), spec) != 0 ||
			   rules_is_deny(r, before) != (spec != line[i])) {
			abort();
		} else if (r->rule[before].max_body > (uint64_t)INT64_MAX ||
			   (r->rule[before].max_body && rules_is_stream(r, before))) {
			abort();
		}
	}
	if (n >= 2) {
		sp = strchr(line[n - 2], ' ');
		if (sp) {
			*sp++ = '\0';
			if (inet_pton(AF_INET, sp, &s4.sin_addr) == 1 &&
			    rules_addr_set(&addr, &s4) == 0)
				req.addr = &addr;
			else if (inet_pton(AF_INET6, sp, &s6.sin6_addr) == 1 &&
				 rules_addr_set(&addr, &s6) == 0)
				req.addr = &addr;
		}
		req.host = line[n - 2];
		req.host_len = strlen(line[n - 2]);
		/* some inputs give no port (the host's own ":port" then counts), others one */
		req.port = (uint16_t)(size % 4 == 0 ? 0 : (size * 2654435761u) >> 16);
		bind_exes(r, &req, (unsigned)(size % 3));
		rules_match_host_req(r, &req, RULES_STREAM, &ds);
		rules_match_host_req(r, &req, RULES_REQUESTS, &dr);
		rules_match_host_req(r, &req, RULES_ANY, &da);
		/* a rule with exe= is never for a program not known */
		if (!req.has_exe && da.allow && rules_exe_count(r, da.rule) > 0)
			abort();
		/* DNS: the same answer, whatever the program */
		rules_match_host_req(r, &req, RULES_DOMAIN, &dd);
		rules_match_host(r, req.host, req.host_len, req.port, RULES_DOMAIN, &dd2);
		if (dd.allow != dd2.allow || (dd.allow && dd.rule != dd2.rule))
			abort();
		/* the scopes split RULES_ANY in two: the first match of either is ANY's */
		if (da.allow != (ds.allow || dr.allow))
			abort();
		if (da.allow &&
		    da.rule != (ds.allow && (!dr.allow || ds.rule < dr.rule) ? ds.rule : dr.rule))
			abort();
		if (ds.allow && !rules_is_stream(r, ds.rule))
			abort();
		if (da.max_body != (da.allow ? r->rule[da.rule].max_body : 0) ||
		    dr.max_body != (dr.allow ? r->rule[dr.rule].max_body : 0) || ds.max_body != 0)
			abort();
		if (dr.allow && rules_is_stream(r, dr.rule))
			abort();
		plen = strlen(line[n - 1]);
		path = malloc(plen + 1);
		path2 = malloc(plen + 1);
		if (path && path2) {
			memcpy(path, line[n - 1], plen);
			plen = rules_path_normalize(path, plen);
			if (plen > strlen(line[n - 1]))
				abort();
			memcpy(path2, path, plen);
			plen2 = rules_path_normalize(path2, plen);
			if (plen2 != plen || memcmp(path, path2, plen) != 0)
				abort();
			req.path = path;
			req.path_len = plen;
			rules_match(r, &req, &d);
			if (d.reason == DENY_DOTS)
				abort();
			if (!req.has_exe && d.allow && rules_exe_count(r, d.rule) > 0)
				abort();
			memset(&m, 0, sizeof(m));
			m.req = &req;
			m.mode = MATCH_REQUEST;
			host_view_init(&m.hv, req.host, req.host_len);
			m.port = req.port ? req.port : m.hv.port;
			m.addr = req.addr ? req.addr : literal_addr(&m.hv, &m.literal);
			want = deny_at = SIZE_MAX;
			if (m.hv.kind != HOST_INVALID &&
			    !path_view_init(&m.pv, req.path, req.path_len)) {
				for (i = 0; i < rules_count(r); i++) {
					if (!rule_matches(&r->rule[i], &m))
						continue;
					if (rules_is_deny(r, i) && deny_at == SIZE_MAX)
						deny_at = i;
					else if (!rules_is_deny(r, i) && want == SIZE_MAX)
						want = i;
				}
			}
			if (deny_at != SIZE_MAX)
				want = SIZE_MAX;
			if (d.allow != (want != SIZE_MAX) || (d.allow && d.rule != want) ||
			    d.deny_rule != (deny_at != SIZE_MAX) ||
			    (d.deny_rule && d.rule != deny_at))
				abort();
			if (d.max_body != (d.allow ? r->rule[d.rule].max_body : 0))
				abort();
			(void)rules_url_split(line[n - 1], &req);
		}
		free(path);
		free(path2);
	}
	rules_free(r);
	free(buf);
	return 0;
}
