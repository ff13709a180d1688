// SPDX-License-Identifier: MIT
/*
 * rules_conformance.c: runs every row of a rules table (tests/conformance/rules.tsv) through the
 * rules engine and reports each as a TAP line. The table's header says what each column means.
 * Usage: rules_conformance TABLE
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "rules/rules.h"

#define MAX_FIELDS 8

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
		ret = rules_add(set, strcmp(spec, "\"\"") == 0 ? "" : spec, col, msg, msglen);
		if (ret < 0 || !next)
			return ret;
		spec = next + 4;
	}
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
	memset(&req, 0, sizeof(req));
	if (strcmp(r->exe, "-") != 0) {
		if (stat(r->exe, &st) == -1) {
			snprintf(buf, buflen, "the exe column %s: %s", r->exe, strerror(errno));
			fail = buf;
			goto out;
		}
		req.has_exe = true;
		req.exe_dev = (uint64_t)st.st_dev;
		req.exe_ino = (uint64_t)st.st_ino;
	}
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
		if (strcmp(r->method, "TCP") == 0)
			rules_match_host_req(set, &req, RULES_STREAM, &d);
		else if (strcmp(r->method, "CONNECT") == 0)
			rules_match_host_req(set, &req, RULES_ANY, &d);
		else
			rules_match(set, &req, &d);
	}
	if (strcmp(r->expect, "allow") == 0) {
		if (!d.allow)
			fail = "denied";
		else if (strcmp(d.raw, r->detail) != 0)
			fail = "allowed by the wrong rule";
	} else if (strcmp(r->expect, "deny") == 0) {
		if (d.allow)
			fail = "allowed";
		else if (strcmp(r->detail, "-") != 0 && !strstr(d.reason, r->detail))
			fail = "denied for the wrong reason";
	} else {
		fail = "bad expect column";
	}
	if (fail)
		snprintf(buf, buflen, "%s: got %s (rule \"%s\", reason \"%s\"), want %s %s", fail,
			 d.allow ? "allow" : "deny", d.raw ? d.raw : "", d.reason ? d.reason : "",
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
