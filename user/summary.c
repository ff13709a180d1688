// SPDX-License-Identifier: MIT
/*
 * summary.c: `boundary log summary` (summary.h). Owns the rows (one per host, or per host and
 * port for a connection not read as HTTP), the hash table that finds them, reading lines from a FILE and the three
 * outputs (a table, JSON, Markdown for a CI job's summary). What a line means as JSON is auditlog.c's business; whether a suggested rule is one,
 * the rules engine's.
 */
#include "user/summary.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/audit.h"
#include "proxy/log.h"
#include "rules/rules.h"

#define TABLE_WIDTH 100 /* columns; a host longer than HOST_WIDTH gets a line of its own */
#define HOST_WIDTH  48
#define MAX_LIST    32 /* distinct comms and pids kept per row, the first seen */

/* The kinds of record a row has seen, for the JSON's "kinds": bit i is kind_names[i]. */
static const char *const kind_names[] = {"http", "https", "connect", "tcp", "tls", "dns"};

struct row {
	char *host;  /* lower case, one trailing dot dropped, IPv6 in brackets; "" for none */
	bool stream; /* a connection not read as HTTP (kinds tcp, tls): host and port */
	int port;    /* stream rows: 0-65535, or -1 if the records did not say */
	unsigned long long allowed, refused, dns;
	unsigned long long would; /* let through by --dry-run: the rules would have refused */
	/* of refused: a secret's placeholder on its way here, which no rule would change */
	unsigned long long secret;
	char *secret_name; /* the first such secret's name */
	/* of refused: a body larger than the max_body= of the rule that allows it (413) */
	unsigned long long too_large;
	unsigned kinds;
	char *comms[MAX_LIST];
	size_t n_comms;
	bool more_comms; /* some were not kept */
	uint32_t pids[MAX_LIST];
	size_t n_pids;
	/* Filled when writing: */
	char *allow;	  /* a rule that admits the row, checked; or NULL */
	char *why_not;	  /* when there is none, why, for a person; or NULL */
	char *shown;	  /* the host as the table shows it */
	size_t shown_len; /* in columns */
	/*
	 * exe=: the one executable (a path) that made every request of the row, or NULL when none
	 * has been seen or exe_mixed; exe_mixed once two differ or one is not known. allow_exe is
	 * allow narrowed to it, when that is a rule (filled when writing).
	 */
	char *exe;
	bool exe_mixed;
	char *allow_exe;
	/* decided by an engine (--js, --sh, --rules-program), not the rules: counts, its name */
	unsigned long long engine_allowed, engine_refused;
	char *engine;
};

struct summary {
	struct row *rows;
	size_t n, cap;
	size_t *slots; /* indexes into rows, SIZE_MAX for free; a power of two of them */
	size_t n_slots;
	unsigned long long records, invalid, dropped;
	char *first_invalid;
};

static void *xmalloc(size_t n)
{
	void *p = malloc(n);

	if (!p)
		fatal("out of memory");
	return p;
}

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n);
	if (!p)
		fatal("out of memory");
	return p;
}

static char *xstrdup(const char *s)
{
	char *p = strdup(s);

	if (!p)
		fatal("out of memory");
	return p;
}

/* --- rows -------------------------------------------------------------------------------- */

static uint64_t hash(const char *host, bool stream, int port)
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */

	for (; *host; host++)
		h = (h ^ (unsigned char)*host) * 0x100000001b3ull;
	h = (h ^ (stream ? 1u : 0u)) * 0x100000001b3ull;
	return (h ^ (uint64_t)(uint32_t)port) * 0x100000001b3ull;
}

static void rehash(struct summary *s)
{
	size_t n = s->n_slots ? s->n_slots * 2 : 64, i, j;

	free(s->slots);
	s->slots = xmalloc(n * sizeof(*s->slots));
	s->n_slots = n;
	for (i = 0; i < n; i++)
		s->slots[i] = SIZE_MAX;
	for (i = 0; i < s->n; i++) {
		j = hash(s->rows[i].host, s->rows[i].stream, s->rows[i].port) & (n - 1);
		while (s->slots[j] != SIZE_MAX)
			j = (j + 1) & (n - 1);
		s->slots[j] = i;
	}
}

/* The row for host (already in its folded form), made on first use. */
static struct row *row_get(struct summary *s, const char *host, bool stream, int port)
{
	struct row *r;
	size_t j;

	if (s->n * 2 >= s->n_slots)
		rehash(s);
	j = hash(host, stream, port) & (s->n_slots - 1);
	while (s->slots[j] != SIZE_MAX) {
		r = &s->rows[s->slots[j]];
		if (r->stream == stream && r->port == port && strcmp(r->host, host) == 0)
			return r;
		j = (j + 1) & (s->n_slots - 1);
	}
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		s->rows = xrealloc(s->rows, s->cap * sizeof(*s->rows));
	}
	r = &s->rows[s->n];
	memset(r, 0, sizeof(*r));
	r->host = xstrdup(host);
	r->stream = stream;
	r->port = port;
	s->slots[j] = s->n++;
	return r;
}

static void row_note_process(struct row *r, const struct auditlog_record *rec)
{
	size_t i;

	if (rec->comm && rec->comm[0]) {
		for (i = 0; i < r->n_comms && strcmp(r->comms[i], rec->comm) != 0; i++)
			;
		if (i == r->n_comms && r->n_comms < MAX_LIST)
			r->comms[r->n_comms++] = xstrdup(rec->comm);
		else if (i == r->n_comms)
			r->more_comms = true;
	}
	if (rec->pid > 0 && rec->pid <= UINT32_MAX && r->n_pids < MAX_LIST) {
		for (i = 0; i < r->n_pids && r->pids[i] != (uint32_t)rec->pid; i++)
			;
		if (i == r->n_pids)
			r->pids[r->n_pids++] = (uint32_t)rec->pid;
	}
}

/* The executable of a request or stream record: the row keeps it while it is the only one. */
static void row_note_exe(struct row *r, const struct auditlog_record *rec)
{
	if (r->exe_mixed)
		return;
	/* Known and a path a rule could name, and the first or the same as before: kept. */
	if (rec->exe && rec->exe[0] == '/' && (!r->exe || strcmp(r->exe, rec->exe) == 0)) {
		if (!r->exe)
			r->exe = xstrdup(rec->exe);
		return;
	}
	r->exe_mixed = true;
	free(r->exe);
	r->exe = NULL;
}

/*
 * The host a rule would name, into out (at least strlen(host) + 3 bytes): lower case, one
 * trailing dot dropped, an IPv6 literal in brackets, and a ":port" taken off and returned in
 * *port (-1 if none). Records carry a bare host and a port; those of a refused non-HTTP
 * connection had "addr:port" or "[addr]:port" for host before stream rules came.
 */
static void fold_host(const char *host, char *out, int *port)
{
	const char *end = host + strlen(host), *colon = NULL, *p;
	size_t n, i, colons = 0;
	unsigned long v;
	char *stop;

	*port = -1;
	for (p = host; *p; p++) {
		if (*p == ':') {
			colons++;
			colon = p;
		}
	}
	if (host[0] == '[') {
		p = strchr(host, ']');
		colon = p && p[1] == ':' ? p + 1 : NULL;
		if (p)
			end = p + 1;
	} else if (colons >= 2) {
		colon = NULL; /* a bare IPv6 literal, which has no port */
	}
	if (colon && colon[1]) {
		errno = 0;
		v = strtoul(colon + 1, &stop, 10);
		if (*stop == '\0' && errno == 0 && v <= 65535 && colon[1] >= '0' &&
		    colon[1] <= '9') {
			*port = (int)v;
			if (host[0] != '[')
				end = colon;
		}
	}
	n = (size_t)(end - host);
	if (n > 1 && host[n - 1] == '.')
		n--;
	i = 0;
	if (colons >= 2 && host[0] != '[')
		out[i++] = '[';
	for (p = host; p < host + n; p++)
		out[i++] = *p >= 'A' && *p <= 'Z' ? (char)(*p - 'A' + 'a') : *p;
	if (colons >= 2 && host[0] != '[')
		out[i++] = ']';
	out[i] = '\0';
}

/*
 * A decision of an engine: the rule it names on allow ("--js rule", "--sh script", "rules
 * program"), or the reason's "the NAME refused it" on deny.
 */
static void row_note_engine(struct row *r, const struct auditlog_record *rec, bool allow)
{
	const char *name = "rules program", *p;
	char buf[64];
	size_t n;

	if (allow)
		r->engine_allowed++;
	else
		r->engine_refused++;
	if (r->engine)
		return;
	if (allow && rec->rule && rec->rule[0] && strlen(rec->rule) < sizeof(buf)) {
		name = rec->rule;
	} else if (!allow && rec->reason && strncmp(rec->reason, "the ", 4) == 0 &&
		   (p = strstr(rec->reason, " refused it")) &&
		   (n = (size_t)(p - rec->reason - 4)) && n < sizeof(buf)) {
		memcpy(buf, rec->reason + 4, n);
		buf[n] = '\0';
		name = buf;
	}
	r->engine = xstrdup(name);
}

/*
 * A refusal whose reason is "secret NAME sent to HOST": counted apart, since no --allow admits
 * it (the placeholder goes only where its --secret says).
 */
static void note_secret(struct row *r, const char *reason)
{
	const char *p = reason, *sp;

	if (!p || strncmp(p, "secret ", 7) != 0 || !strstr(p, " sent to "))
		return;
	r->secret++;
	if (r->secret_name)
		return;
	sp = strchr(p + 7, ' ');
	r->secret_name = xmalloc((size_t)(sp - (p + 7)) + 1);
	memcpy(r->secret_name, p + 7, (size_t)(sp - (p + 7)));
	r->secret_name[sp - (p + 7)] = '\0';
}

static unsigned kind_bit(const char *kind)
{
	size_t i;

	for (i = 0; kind && i < sizeof(kind_names) / sizeof(kind_names[0]); i++) {
		if (strcmp(kind, kind_names[i]) == 0)
			return 1u << i;
	}
	return 0;
}

void summary_add(struct summary *s, const struct auditlog_record *rec)
{
	const char *host = rec->host ? rec->host : "";
	bool allow, deny, stream;
	struct row *r;
	char *folded;
	int port;

	s->records++;
	if (strcmp(rec->event, "dropped") == 0) {
		if (rec->count > 0)
			s->dropped += (unsigned long long)rec->count;
		return;
	}
	if (strcmp(rec->event, "dns") == 0) {
		/* A lookup tells which names were wanted, never what would allow them. */
		if (!host[0])
			return;
		folded = xmalloc(strlen(host) + 3);
		fold_host(host, folded, &port);
		r = row_get(s, folded, false, -1);
		r->dns++;
		r->kinds |= kind_bit("dns");
		row_note_process(r, rec); /* who asked, when the record says */
		free(folded);
		return;
	}
	/* "end" closes an exchange already counted by its "request". */
	if (strcmp(rec->event, "request") != 0 && strcmp(rec->event, "connection") != 0)
		return;
	allow = rec->decision && strcmp(rec->decision, "allow") == 0;
	deny = rec->decision && strcmp(rec->decision, "deny") == 0;
	if (!allow && !deny)
		return;
	/* Spliced or refused unread: what a rule names is the host and the port. */
	stream = rec->kind && (strcmp(rec->kind, "tcp") == 0 || strcmp(rec->kind, "tls") == 0);
	folded = xmalloc(strlen(host) + 3);
	fold_host(host, folded, &port);
	if (rec->port >= 0)
		port = (int)rec->port;
	r = row_get(s, folded, stream, stream ? port : -1);
	free(folded);
	if (allow && rec->would_deny) {
		r->would++;
	} else if (allow) {
		r->allowed++;
	} else {
		r->refused++;
		note_secret(r, rec->reason);
		/* refused for its size by the rule that allows it: another rule would change nothing */
		if (rec->status == 413)
			r->too_large++;
	}
	r->kinds |= kind_bit(rec->kind);
	row_note_process(r, rec);
	row_note_exe(r, rec);
	if (rec->decided_by && strcmp(rec->decided_by, "program") == 0 && !rec->would_deny)
		row_note_engine(r, rec, allow);
}

/* --- reading ----------------------------------------------------------------------------- */

static void invalid(struct summary *s, const char *name, unsigned long long line, const char *why)
{
	char buf[512];

	if (s->invalid++ == 0) {
		snprintf(buf, sizeof(buf), "%s:%llu: %s", name, line, why);
		s->first_invalid = xstrdup(buf);
	}
}

static bool blank(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
			return false;
	}
	return true;
}

int summary_read(struct summary *s, FILE *f, const char *name)
{
	char *line = xmalloc(AUDITLOG_MAX_LINE + 1);
	char *dec = xmalloc(AUDITLOG_MAX_LINE + 1);
	unsigned long long no = 0;
	struct auditlog_record rec;
	bool too_long = false;
	char why[128];
	size_t n = 0, pos;
	ssize_t r;
	int c, ret = 0;

	/* Byte by byte, so a NUL in a line is seen and a line of any length costs bounded memory. */
	errno = 0;
	for (;;) {
		c = getc_unlocked(f);
		if (c != EOF && c != '\n') {
			if (n < AUDITLOG_MAX_LINE)
				line[n++] = (char)c;
			else
				too_long = true;
			continue;
		}
		if (c == EOF && ferror(f)) {
			ret = errno ? -errno : -EIO;
			break;
		}
		if (c == EOF && n == 0 && !too_long)
			break;
		no++;
		if (too_long) {
			snprintf(why, sizeof(why), "longer than %d bytes: not an audit record",
				 AUDITLOG_MAX_LINE);
			invalid(s, name, no, why);
		} else if (!blank(line, n)) {
			r = auditlog_parse(line, n, &rec, dec, AUDITLOG_MAX_LINE + 1, &pos);
			if (r < 0) {
				snprintf(why, sizeof(why), "column %zu: %s", pos + 1,
					 auditlog_strerror((int)r));
				invalid(s, name, no, why);
			} else {
				summary_add(s, &rec);
			}
		}
		n = 0;
		too_long = false;
		if (c == EOF)
			break;
	}
	free(line);
	free(dec);
	return ret;
}

unsigned long long summary_invalid(const struct summary *s, const char **first)
{
	if (first)
		*first = s->first_invalid;
	return s->invalid;
}

unsigned long long summary_dropped(const struct summary *s)
{
	return s->dropped;
}

/* --- writing ----------------------------------------------------------------------------- */

/* What a rule is wanted for: refusals, and what --dry-run let through that the rules refuse. */
static unsigned long long unwanted(const struct row *r)
{
	return r->refused - r->secret - r->too_large + r->would;
}

/* Refused first (most refusals first), then allowed, then names only looked up. */
static int row_cmp(const void *a, const void *b)
{
	const struct row *x = a, *y = b;
	int gx = unwanted(x) ? 0 : x->allowed ? 1 : 2;
	int gy = unwanted(y) ? 0 : y->allowed ? 1 : 2;
	int c;

	if (gx != gy)
		return gx - gy;
	if (unwanted(x) != unwanted(y))
		return unwanted(x) > unwanted(y) ? -1 : 1;
	if (x->allowed != y->allowed)
		return x->allowed > y->allowed ? -1 : 1;
	if (x->dns != y->dns)
		return x->dns > y->dns ? -1 : 1;
	c = strcmp(x->host, y->host);
	if (c)
		return c;
	if (x->stream != y->stream)
		return x->stream ? 1 : -1;
	return x->port - y->port;
}

/*
 * s as a terminal may show it: control characters (C0, DEL and C1, which could move the cursor
 * or change colours) written as \xNN. *cols is its width, a column per code point.
 */
static char *shown(const char *s, size_t *cols)
{
	const unsigned char *p = (const unsigned char *)s;
	char *out = xmalloc(4 * strlen(s) + 1);
	size_t n = 0;

	*cols = 0;
	while (*p) {
		if (*p < 0x20 || *p == 0x7f) {
			n += (size_t)snprintf(out + n, 5, "\\x%02x", *p);
			*cols += 4;
			p++;
		} else if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
			n += (size_t)snprintf(out + n, 9, "\\x%02x\\x%02x", p[0], p[1]);
			*cols += 8;
			p += 2;
		} else {
			if ((*p & 0xc0) != 0x80)
				(*cols)++;
			out[n++] = (char)*p++;
		}
	}
	out[n] = '\0';
	return out;
}

/* True if spec is a rule boundary accepts; if not, why goes into why_not. */
static bool valid_rule(const char *spec, char **why_not)
{
	char err[256] = "";
	int ret;

	ret = rules_check(spec, err, sizeof(err));
	if (ret == 0)
		return true;
	if (ret == -RULES_E_NOMEM)
		fatal("out of memory");
	if (why_not) {
		char buf[512];

		snprintf(buf, sizeof(buf), "\"%s\": %s", spec, err[0] ? err : rules_strerror(ret));
		*why_not = xstrdup(buf);
	}
	return false;
}

/* Sorts the rows and fills what writing needs: the host as shown, the --allow line. */
static void prepare(struct summary *s)
{
	char port[16], *spec;
	struct row *r;
	size_t i, len;

	if (s->n)
		qsort(s->rows, s->n, sizeof(*s->rows), row_cmp);
	/* The hash table indexes rows by position; sorted, they are only written. */
	free(s->slots);
	s->slots = NULL;
	s->n_slots = 0;
	for (i = 0; i < s->n; i++) {
		r = &s->rows[i];
		if (r->shown)
			continue;
		snprintf(port, sizeof(port), r->port >= 0 ? ":%d" : ":?", r->port);
		len = strlen(r->host) + sizeof(port);
		spec = xmalloc(len);
		snprintf(spec, len, "%s%s", r->host[0] ? r->host : "(no host)",
			 r->stream ? port : "");
		r->shown = shown(spec, &r->shown_len);
		free(spec);
		if (!unwanted(r))
			continue;
		if (!r->host[0]) {
			r->why_not =
			    xstrdup("no Host header or TLS server name, which a rule would name");
			continue;
		}
		if (r->stream && r->port < 0) {
			r->why_not = xstrdup("the records do not say which port");
			continue;
		}
		len = strlen(r->host) + 32;
		spec = xmalloc(len);
		if (r->stream)
			snprintf(spec, len, "domain=%s port=%d", r->host, r->port);
		else
			snprintf(spec, len, "domain=%s", r->host);
		if (valid_rule(spec, &r->why_not))
			r->allow = spec;
		else
			free(spec);
		/* One program made every request there: a rule for it alone, for those who want it. */
		if (r->allow && r->exe) {
			len = strlen(r->exe) + strlen(r->allow) + 6;
			spec = xmalloc(len);
			snprintf(spec, len, "exe=%s %s", r->exe, r->allow);
			if (valid_rule(spec, NULL))
				r->allow_exe = spec;
			else
				free(spec);
		}
	}
}

static int digits(unsigned long long v)
{
	int n = 1;

	while (v >= 10) {
		v /= 10;
		n++;
	}
	return n;
}

static int max_int(int a, int b)
{
	return a > b ? a : b;
}

/* The row's processes, as many as fit in width columns, then "+N" for the rest. */
static void put_processes(FILE *out, const struct row *r, size_t width)
{
	size_t i, used = 0, cols, more;
	char *name;

	if (r->n_comms == 0) {
		fputs("-", out);
		return;
	}
	for (i = 0; i < r->n_comms; i++) {
		name = shown(r->comms[i], &cols);
		more = r->n_comms - i - 1;
		/* Room for this name, and for ", +N or more" after it unless it is the last. */
		if (i > 0 && used + 2 + cols + (more ? 11 + (size_t)digits(more) : 0) > width) {
			fprintf(out, ", +%zu%s", r->n_comms - i, r->more_comms ? " or more" : "");
			free(name);
			return;
		}
		fprintf(out, "%s%s", i ? ", " : "", name);
		used += (i ? 2 : 0) + cols;
		free(name);
	}
}

static void pad(FILE *out, size_t n)
{
	while (n-- > 0)
		fputc(' ', out);
}

int summary_write_table(struct summary *s, FILE *out)
{
	int aw = 7, rw = 7, ww = 0, dw = 3;
	size_t hw = 4, i, pw, n_no_rule = 0, n_rule = 0, n_secret = 0, n_large = 0, cols, n_exe = 0;
	size_t n_engine = 0;
	struct row *r;
	char *why;

	prepare(s);
	if (s->n == 0) {
		fputs("The audit log records no decision.\n", out);
		goto out;
	}
	for (i = 0; i < s->n; i++) {
		r = &s->rows[i];
		/* A longer host gets a line of its own rather than widening every row. */
		if (r->shown_len > hw && r->shown_len <= HOST_WIDTH)
			hw = r->shown_len;
		aw = max_int(aw, digits(r->allowed));
		rw = max_int(rw, digits(r->refused));
		dw = max_int(dw, digits(r->dns));
		if (r->would)
			ww = max_int(ww ? ww : 12, digits(r->would));
		n_rule += r->allow != NULL;
		n_exe += r->allow_exe != NULL;
		n_no_rule += unwanted(r) && !r->allow;
		n_secret += r->secret > 0;
		n_large += r->too_large > 0;
		n_engine += r->engine != NULL;
		n_engine += r->engine != NULL;
	}
	/* WOULD-REFUSE only for a --dry-run's log, so other tables keep their columns. */
	pw = hw + 2 + (size_t)aw + 2 + (size_t)rw + 2 + (ww ? (size_t)ww + 2 : 0) + (size_t)dw + 2;
	pw = pw + 9 < TABLE_WIDTH ? TABLE_WIDTH - pw : 9;
	fprintf(out, "%-*s  %*s  %*s  ", (int)hw, "HOST", aw, "ALLOWED", rw, "REFUSED");
	if (ww)
		fprintf(out, "%*s  ", ww, "WOULD-REFUSE");
	fprintf(out, "%*s  PROCESSES\n", dw, "DNS");
	for (i = 0; i < s->n; i++) {
		r = &s->rows[i];
		fputs(r->shown, out);
		if (r->shown_len > hw) {
			fputc('\n', out);
			pad(out, hw);
		} else {
			pad(out, hw - r->shown_len);
		}
		fprintf(out, "  %*llu  %*llu  ", aw, r->allowed, rw, r->refused);
		if (ww)
			fprintf(out, "%*llu  ", ww, r->would);
		if (r->stream)
			fprintf(out, "%*s  ", dw, "-");
		else
			fprintf(out, "%*llu  ", dw, r->dns);
		put_processes(out, r, pw);
		fputc('\n', out);
	}
	if (n_rule) {
		fputs(ww ? "\nTo allow what was refused, or what --dry-run let through that the "
			   "rules "
			   "refuse,\nrun boundary with:\n"
			 : "\nTo allow what was refused, restart boundary with:\n",
		      out);
		for (i = 0; i < s->n; i++) {
			if (s->rows[i].allow)
				fprintf(out, "  --allow \"%s\"\n", s->rows[i].allow);
		}
	}
	if (n_engine) {
		fputs(
		    "\nDecided by an engine, not the allow rules (an --allow above would admit the "
		    "host\nwithout asking it):\n",
		    out);
		for (i = 0; i < s->n; i++) {
			r = &s->rows[i];
			if (r->engine)
				fprintf(out, "  %s: %llu allowed, %llu refused by the %s\n",
					r->shown, r->engine_allowed, r->engine_refused, r->engine);
		}
	}
	if (n_exe) {
		fputs("\nOr, for the one program that made every request there (exe=):\n", out);
		for (i = 0; i < s->n; i++) {
			if (s->rows[i].allow_exe)
				fprintf(out, "  --allow \"%s\"\n", s->rows[i].allow_exe);
		}
	}
	if (n_secret) {
		fputs("\nA secret's placeholder was refused on its way to another host (no rule "
		      "lets it "
		      "out;\nif the host should receive the secret, add its domain to the "
		      "--secret):\n",
		      out);
		for (i = 0; i < s->n; i++) {
			r = &s->rows[i];
			if (r->secret)
				fprintf(out, "  %s: %llu, secret %s%s\n", r->shown, r->secret,
					r->secret_name, r->secret > 1 ? " and maybe others" : "");
		}
	}
	if (n_large) {
		fputs("\nA body larger than the max_body= of the rule that allows it was refused "
		      "(413; "
		      "raise\nthat rule's max_body= to send it):\n",
		      out);
		for (i = 0; i < s->n; i++) {
			r = &s->rows[i];
			if (r->too_large)
				fprintf(out, "  %s: %llu\n", r->shown, r->too_large);
		}
	}
	if (n_no_rule) {
		fputs("\nNo rule this boundary accepts can admit these:\n", out);
		for (i = 0; i < s->n; i++) {
			r = &s->rows[i];
			if (!unwanted(r) || r->allow)
				continue;
			why = shown(r->why_not, &cols);
			fprintf(out, "  %s\n      %s\n", r->shown, why);
			free(why);
		}
	}
out:
	fflush(out);
	return ferror(out) ? -EIO : 0;
}

/*
 * s for a Markdown table cell or list item, as GitHub renders $GITHUB_STEP_SUMMARY: control
 * characters as \xNN (shown()), then every character Markdown or HTML gives a meaning escaped,
 * so a host name chosen by whoever runs the server ("a|b", "<img src=x>", "[x](y)") is text and
 * never a cell break, a tag, a link or emphasis. < > & become entities (GitHub passes some HTML
 * through); the rest get a backslash, which CommonMark allows before any ASCII punctuation.
 */
static void put_md(FILE *out, const char *s)
{
	size_t cols;
	char *t = shown(s, &cols);
	const char *p;

	for (p = t; *p; p++) {
		switch (*p) {
		case '<':
			fputs("&lt;", out);
			break;
		case '>':
			fputs("&gt;", out);
			break;
		case '&':
			fputs("&amp;", out);
			break;
		case '\\':
		case '|':
		case '`':
		case '*':
		case '_':
		case '[':
		case ']':
		case '~':
		case '#':
		case '!':
			fputc('\\', out);
			fputc(*p, out);
			break;
		default:
			fputc(*p, out);
			break;
		}
	}
	free(t);
}

/* The row's processes for a cell: all of them kept, ", " between, then "+more" if some were not. */
static void put_md_processes(FILE *out, const struct row *r)
{
	size_t i;

	if (r->n_comms == 0) {
		fputs("-", out);
		return;
	}
	for (i = 0; i < r->n_comms; i++) {
		if (i)
			fputs(", ", out);
		put_md(out, r->comms[i]);
	}
	if (r->more_comms)
		fputs(", and more", out);
}

/*
 * A rule goes into a fenced block as it is: only one with no backtick and no control character
 * (a rule boundary accepts has neither; this is the guard that the fence cannot be closed).
 */
static bool fence_safe(const char *rule)
{
	const unsigned char *p;

	for (p = (const unsigned char *)rule; *p; p++) {
		if (*p == '`' || *p < 0x20 || *p == 0x7f)
			return false;
	}
	return true;
}

int summary_write_markdown(struct summary *s, FILE *out)
{
	unsigned long long allowed = 0, refused = 0, would = 0;
	size_t i, n_rule = 0, n_exe = 0, n_no_rule = 0, n_secret = 0, n_large = 0, n_engine = 0;
	bool any_exe = false;
	struct row *r;

	prepare(s);
	fputs("### boundary: the job's network\n\n", out);
	if (s->n == 0) {
		fputs("The audit log records no decision.\n", out);
		goto out;
	}
	for (i = 0; i < s->n; i++) {
		r = &s->rows[i];
		allowed += r->allowed;
		refused += r->refused;
		would += r->would;
		any_exe |= r->exe != NULL;
		n_rule += r->allow != NULL && fence_safe(r->allow);
		n_exe += r->allow_exe != NULL && fence_safe(r->allow_exe);
		n_no_rule += unwanted(r) && !r->allow;
		n_secret += r->secret > 0;
		n_large += r->too_large > 0;
	}
	fprintf(out, "%llu request%s allowed, %llu refused", allowed, allowed == 1 ? "" : "s",
		refused);
	if (would)
		fprintf(out, ", %llu let through by audit mode (--dry-run) that the rules refuse",
			would);
	fputs(".\n\n", out);
	/* WOULD-REFUSE and EXECUTABLE only when some row has one, as in the table. */
	fputs(would ? "| Host | Allowed | Refused | Would be refused | DNS | Processes |"
		    : "| Host | Allowed | Refused | DNS | Processes |",
	      out);
	fputs(any_exe ? " Executable |\n" : "\n", out);
	fputs(would ? "|---|--:|--:|--:|--:|---|" : "|---|--:|--:|--:|---|", out);
	fputs(any_exe ? "---|\n" : "\n", out);
	for (i = 0; i < s->n; i++) {
		r = &s->rows[i];
		fputs("| ", out);
		/* The host as the table shows it, with the port of a stream row. */
		put_md(out, r->shown);
		fprintf(out, " | %llu | %llu | ", r->allowed, r->refused);
		if (would)
			fprintf(out, "%llu | ", r->would);
		if (r->stream)
			fputs("- | ", out);
		else
			fprintf(out, "%llu | ", r->dns);
		put_md_processes(out, r);
		if (any_exe) {
			fputs(" | ", out);
			if (r->exe)
				put_md(out, r->exe);
			else
				fputs("-", out);
		}
		fputs(" |\n", out);
	}
	if (n_rule) {
		fputs(would
			  ? "\nTo allow what was refused, or what audit mode let through that the "
			    "rules refuse, add to the action's `allow:` (one rule a line):\n"
			  : "\nTo allow what was refused, add to the action's `allow:` (one rule a "
			    "line):\n",
		      out);
		fputs("\n```yaml\nallow: |\n", out);
		for (i = 0; i < s->n; i++) {
			if (s->rows[i].allow && fence_safe(s->rows[i].allow))
				fprintf(out, "  %s\n", s->rows[i].allow);
		}
		fputs("```\n", out);
	}
	if (n_engine) {
		fputs("\nDecided by an engine, not the allow rules (an `allow:` line above would "
		      "admit the host without asking it):\n\n",
		      out);
		for (i = 0; i < s->n; i++) {
			r = &s->rows[i];
			if (!r->engine)
				continue;
			fputs("- ", out);
			put_md(out, r->shown);
			fprintf(out, ": %llu allowed, %llu refused by the ", r->engine_allowed,
				r->engine_refused);
			put_md(out, r->engine);
			fputc('\n', out);
		}
	}
	if (n_exe) {
		fputs("\nOr, for the one program that made every request there (`exe=`):\n"
		      "\n```yaml\nallow: |\n",
		      out);
		for (i = 0; i < s->n; i++) {
			if (s->rows[i].allow_exe && fence_safe(s->rows[i].allow_exe))
				fprintf(out, "  %s\n", s->rows[i].allow_exe);
		}
		fputs("```\n", out);
	}
	if (n_secret) {
		fputs(
		    "\nA secret's placeholder was refused on its way to another host (no rule lets "
		    "it out; if the host should receive the secret, add its domain to the "
		    "secret's line):\n\n",
		    out);
		for (i = 0; i < s->n; i++) {
			r = &s->rows[i];
			if (!r->secret)
				continue;
			fputs("- ", out);
			put_md(out, r->shown);
			fprintf(out, ": %llu, secret ", r->secret);
			put_md(out, r->secret_name);
			fputs(r->secret > 1 ? " and maybe others\n" : "\n", out);
		}
	}
	if (n_large) {
		fputs("\nA body larger than the `max_body=` of the rule that allows it was refused "
		      "(413; raise that rule's `max_body=` to send it):\n\n",
		      out);
		for (i = 0; i < s->n; i++) {
			r = &s->rows[i];
			if (!r->too_large)
				continue;
			fputs("- ", out);
			put_md(out, r->shown);
			fprintf(out, ": %llu\n", r->too_large);
		}
	}
	if (n_no_rule) {
		fputs("\nNo rule this boundary accepts can admit these:\n\n", out);
		for (i = 0; i < s->n; i++) {
			r = &s->rows[i];
			if (!unwanted(r) || r->allow)
				continue;
			fputs("- ", out);
			put_md(out, r->shown);
			fputs(": ", out);
			put_md(out, r->why_not);
			fputc('\n', out);
		}
	}
out:
	fflush(out);
	return ferror(out) ? -EIO : 0;
}

/* s as a JSON string (audit.c's encoder, so the two agree on escaping). */
static void put_json_string(FILE *out, const char *s)
{
	size_t cap = 6 * strlen(s) + 3, len = 0;
	char *buf = xmalloc(cap);

	if (audit_json_string(buf, cap, &len, s) != 0)
		fatalx("%s: the JSON encoding did not fit", __func__);
	fwrite(buf, 1, len, out);
	free(buf);
}

static void put_json_row(FILE *out, const struct row *r)
{
	size_t i, k;

	fputs("{\"host\":", out);
	put_json_string(out, r->host);
	if (r->stream && r->port >= 0)
		fprintf(out, ",\"port\":%d", r->port);
	else
		fputs(",\"port\":null", out);
	fputs(",\"kinds\":[", out);
	for (i = 0, k = 0; i < sizeof(kind_names) / sizeof(kind_names[0]); i++) {
		if (r->kinds & (1u << i))
			fprintf(out, "%s\"%s\"", k++ ? "," : "", kind_names[i]);
	}
	fprintf(out, "],\"allowed\":%llu,\"refused\":%llu,\"would_refuse\":%llu", r->allowed,
		r->refused, r->would);
	if (r->secret)
		fprintf(out, ",\"secret_refused\":%llu", r->secret);
	if (r->engine) {
		fprintf(out, ",\"engine_allowed\":%llu,\"engine_refused\":%llu,\"engine\":",
			r->engine_allowed, r->engine_refused);
		put_json_string(out, r->engine);
	}
	if (r->stream)
		fputs(",\"dns\":null", out);
	else
		fprintf(out, ",\"dns\":%llu", r->dns);
	fputs(",\"comms\":[", out);
	for (i = 0; i < r->n_comms; i++) {
		if (i)
			fputc(',', out);
		put_json_string(out, r->comms[i]);
	}
	fputs("],\"pids\":[", out);
	for (i = 0; i < r->n_pids; i++)
		fprintf(out, "%s%u", i ? "," : "", r->pids[i]);
	fputs("],\"allow\":", out);
	if (r->allow)
		put_json_string(out, r->allow);
	else
		fputs("null", out);
	fputs(",\"exe\":", out);
	if (r->exe)
		put_json_string(out, r->exe);
	else
		fputs("null", out);
	fputs(",\"allow_exe\":", out);
	if (r->allow_exe)
		put_json_string(out, r->allow_exe);
	else
		fputs("null", out);
	fputc('}', out);
}

int summary_write_json(struct summary *s, FILE *out)
{
	size_t i;

	prepare(s);
	fprintf(out, "{\"records\":%llu,\"invalid_lines\":%llu,\"dropped\":%llu,\"hosts\":[",
		s->records, s->invalid, s->dropped);
	for (i = 0; i < s->n; i++) {
		fputs(i ? ",\n" : "\n", out);
		put_json_row(out, &s->rows[i]);
	}
	fputs(s->n ? "\n]}\n" : "]}\n", out);
	fflush(out);
	return ferror(out) ? -EIO : 0;
}

/* --- lifetime ---------------------------------------------------------------------------- */

struct summary *summary_new(void)
{
	return calloc(1, sizeof(struct summary));
}

void summary_free(struct summary *s)
{
	size_t i, j;

	if (!s)
		return;
	for (i = 0; i < s->n; i++) {
		for (j = 0; j < s->rows[i].n_comms; j++)
			free(s->rows[i].comms[j]);
		free(s->rows[i].host);
		free(s->rows[i].secret_name);
		free(s->rows[i].engine);
		free(s->rows[i].allow);
		free(s->rows[i].why_not);
		free(s->rows[i].shown);
		free(s->rows[i].exe);
		free(s->rows[i].allow_exe);
	}
	free(s->rows);
	free(s->slots);
	free(s->first_invalid);
	free(s);
}
