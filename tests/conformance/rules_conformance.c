// SPDX-License-Identifier: MIT
/*
 * rules_conformance.c: runs every row of a rules table (tests/conformance/rules.tsv) through the
 * rules engine and reports each as a TAP line. The table's header says what each column means.
 * Usage: rules_conformance TABLE
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "rules/rules.h"

/* An allow row's detail may end with the decision's limit: "RULE; body at most N bytes". */
#define MAX_BODY_SEP "; body at most "
#define MAX_FIELDS   8

struct row {
	char *id, *rules, *method, *url, *expect, *detail;
	const char *source;
	const char *exe; /* the program making the request, or "-" */
};

static int split_row(char *line, struct row *r)
{
	char *f[MAX_FIELDS];
	size_t n = 0;
	char *p = line;

	while (n < MAX_FIELDS) {
		f[n++] = p;
		p = strchr(p, '\t');
		if (!p)
			break;
		*p++ = '\0';
	}
	if (n < 6)
		return -1;
	r->id = f[0];
	r->rules = f[1];
	r->method = f[2];
	r->url = f[3];
	r->expect = f[4];
	r->detail = f[5];
	r->source = n > 6 ? f[6] : "";
	r->exe = n > 7 ? f[7] : "-";
	return 0;
}

/* Adds the " || "-separated rules; on error fills col and msg and returns it. */
static int add_rules(struct rules *set, char *spec, size_t *col, char *msg, size_t msglen)
{
	char *next;
	int ret;

	for (;;) {
		next = strstr(spec, " || ");
		if (next)
			*next = '\0';
		if (strncmp(spec, "deny:", 5) == 0)
			ret = rules_add_deny(set, spec + 5, col, msg, msglen);
		else
			ret =
			    rules_add(set, strcmp(spec, "\"\"") == 0 ? "" : spec, col, msg, msglen);
		if (ret < 0 || !next)
			return ret;
		spec = next + 4;
	}
}

/* "GET@10.0.0.7": the method, and the address the connection goes to (NULL if none). */
static const struct rules_addr *method_addr(char *method, struct rules_addr *a)
{
	struct sockaddr_in6 s6 = {.sin6_family = AF_INET6};
	struct sockaddr_in s4 = {.sin_family = AF_INET};
	char *at = strchr(method, '@');

	if (!at)
		return NULL;
	*at++ = '\0';
	if (inet_pton(AF_INET, at, &s4.sin_addr) == 1 && rules_addr_set(a, &s4) == 0)
		return a;
	if (inet_pton(AF_INET6, at, &s6.sin6_addr) == 1 && rules_addr_set(a, &s6) == 0)
		return a;
	return NULL;
}

/* Binds every exe= path of set with stat(), as boundary does. Returns the first that fails. */
static const char *bind_exes(struct rules *set)
{
	struct stat st;
	size_t i, j;

	for (i = 0; i < rules_count(set); i++) {
		for (j = 0; j < rules_exe_count(set, i); j++) {
			if (stat(rules_exe_path(set, i, j), &st) == -1)
				return rules_exe_path(set, i, j);
			rules_exe_bind(set, i, j, (uint64_t)st.st_dev, (uint64_t)st.st_ino);
		}
	}
	return NULL;
}

/* Returns NULL when the row holds, else what went wrong (in buf). */
static const char *check_row(struct row *r, char *buf, size_t buflen)
{
	struct rules *set = rules_new();
	struct rules_request req;
	struct rules_decision d;
	struct rules_addr addr;
	const struct rules_addr *at = method_addr(r->method, &addr);
	char msg[256], *path = NULL;
	const char *fail = NULL, *missing;
	struct stat st;
	size_t col = 0;
	int ret;

	if (!set) {
		snprintf(buf, buflen, "out of memory");
		return buf;
	}
	ret = add_rules(set, r->rules, &col, msg, sizeof(msg));
	if (strcmp(r->expect, "error") == 0) {
		char *phrase = strchr(r->detail, ':');
		size_t want = strtoul(r->detail, NULL, 10);

		if (ret == 0)
			fail = "parsed, expected an error";
		else if (col != want || !phrase || !strstr(msg, phrase + 1))
			fail = "wrong error";
		if (fail)
			snprintf(buf, buflen, "%s: got %s column %zu \"%s\", want %s", fail,
				 ret ? "error at" : "no error", col, msg, r->detail);
		goto out;
	}
	if (ret < 0) {
		snprintf(buf, buflen, "rule failed to parse: column %zu: %s", col, msg);
		fail = buf;
		goto out;
	}
	missing = bind_exes(set);
	if (missing) {
		snprintf(buf, buflen, "exe=%s: %s", missing, strerror(errno));
		fail = buf;
		goto out;
	}
	if (strcmp(r->exe, "-") != 0 && stat(r->exe, &st) == -1) {
		snprintf(buf, buflen, "the exe column %s: %s", r->exe, strerror(errno));
		fail = buf;
		goto out;
	}
	/* rules_url_split() fills every field of req; what it does not know comes after. */
	if (rules_url_split(r->url, &req) < 0) {
		d.allow = false;
		d.raw = NULL;
		d.reason = "no host";
	} else {
		path = strndup(req.path, req.path_len);
		if (!path) {
			fail = "out of memory";
			goto out;
		}
		req.path = path;
		req.path_len = rules_path_normalize(path, req.path_len);
		req.method = r->method;
		req.method_len = strlen(r->method);
		req.addr = at;
		if (strcmp(r->exe, "-") != 0) {
			req.has_exe = true;
			req.exe_dev = (uint64_t)st.st_dev;
			req.exe_ino = (uint64_t)st.st_ino;
		}
		if (strcmp(r->method, "TCP") == 0)
			rules_match_host_req(set, &req, RULES_STREAM, &d);
		else if (strcmp(r->method, "CONNECT") == 0)
			rules_match_host_req(set, &req, RULES_ANY, &d);
		else
			rules_match(set, &req, &d);
	}
	if (strcmp(r->expect, "allow") == 0) {
		/* "RULE; body at most N bytes": the rule's max_body= too, as --test prints it */
		char *limit = strstr(r->detail, MAX_BODY_SEP);
		unsigned long long want_max = 0;

		if (limit) {
			want_max = strtoull(limit + strlen(MAX_BODY_SEP), NULL, 10);
			*limit = '\0';
		}
		if (!d.allow)
			fail = "denied";
		else if (strcmp(d.raw, r->detail) != 0)
			fail = "allowed by the wrong rule";
		else if (d.max_body != want_max)
			fail = "the wrong max_body";

	} else if (strcmp(r->expect, "deny") == 0) {
		if (d.allow)
			fail = "allowed";
		else if (strncmp(r->detail, "by:", 3) == 0)
			fail = d.deny_rule && strcmp(d.raw, r->detail + 3) == 0
				   ? NULL
				   : "not denied by that deny rule";
		else if (strcmp(r->detail, "-") != 0 && !strstr(d.reason, r->detail))
			fail = "denied for the wrong reason";
	} else {
		fail = "bad expect column";
	}
	if (fail)
		snprintf(buf, buflen,
			 "%s: got %s (rule \"%s\", max_body %llu, reason \"%s\"), want %s %s", fail,
			 d.allow ? "allow" : "deny", d.raw ? d.raw : "",
			 (unsigned long long)(d.allow ? d.max_body : 0), d.reason ? d.reason : "",
			 r->expect, r->detail);
out:
	free(path);
	rules_free(set);
	return fail ? buf : NULL;
}

int main(int argc, char **argv)
{
	FILE *f;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int n = 0, failed = 0;
	struct row r;
	char why[1024];

	if (argc != 2) {
		fprintf(stderr, "usage: %s TABLE\n", argv[0]);
		return 2;
	}
	f = fopen(argv[1], "re");
	if (!f) {
		fprintf(stderr, "%s: %s\n", argv[1], strerror(errno));
		return 2;
	}
	while ((len = getline(&line, &cap, f)) != -1) {
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (len == 0 || line[0] == '#')
			continue;
		n++;
		if (split_row(line, &r) < 0) {
			printf("not ok %d - malformed row: %s\n", n, line);
			failed++;
			continue;
		}
		if (check_row(&r, why, sizeof(why))) {
			printf("not ok %d - %s %s\n# %s\n", n, r.id, r.source, why);
			failed++;
		} else {
			printf("ok %d - %s %s\n", n, r.id, r.source);
		}
	}
	free(line);
	fclose(f);
	printf("1..%d\n", n);
	return failed ? 1 : 0;
}
