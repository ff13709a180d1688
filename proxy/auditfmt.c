// SPDX-License-Identifier: MIT
/*
 * auditfmt.c: an audit record as journald fields, an RFC 5424 line and an OTLP log record
 * (auditfmt.h). Owns the mapping of the record's fields to each format's names; knows nothing
 * of where the bytes go (auditsink.c) or of the JSON lines (audit.c, whose string escaper it
 * borrows so both JSON writers agree).
 */
#include "proxy/auditfmt.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "proxy/audit.h"
#include "proxy/utf8.h"

/* An output buffer: out[0..cap), of which len are written. */
struct w {
	char *p;
	size_t cap, len;
};

static bool put(struct w *w, const char *s, size_t n)
{
	if (n > w->cap - w->len)
		return false;
	memcpy(w->p + w->len, s, n);
	w->len += n;
	return true;
}

static bool puts_(struct w *w, const char *s)
{
	return put(w, s, strlen(s));
}

static bool is_deny(const struct audit_record *r)
{
	return r->decision && strcmp(r->decision, "deny") == 0;
}

static bool is_end(const struct audit_record *r)
{
	return r->event && strcmp(r->event, "end") == 0;
}

/* --- the human line -------------------------------------------------------------------------- */

/* s as printable ASCII, any other byte as %XX; cut where it stops fitting. */
static void msg_str(struct w *w, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p = (const unsigned char *)s;
	char esc[3];

	for (; *p; p++) {
		if (*p >= 0x20 && *p < 0x7f) {
			if (!put(w, (const char *)p, 1))
				return;
			continue;
		}
		esc[0] = '%';
		esc[1] = hex[*p >> 4];
		esc[2] = hex[*p & 15];
		if (!put(w, esc, 3))
			return;
	}
}

static void msg_fmt(struct w *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void msg_fmt(struct w *w, const char *fmt, ...)
{
	char tmp[128];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		msg_str(w, tmp);
}

/* Who made the request: "curl (pid 12)", "client 127.0.0.1:5000", or "pid 12". */
static void msg_who(struct w *w, const struct audit_record *r)
{
	if (r->comm && r->comm[0]) {
		msg_str(w, r->comm);
		if (r->pid)
			msg_fmt(w, " (pid %" PRIu32 ")", r->pid);
	} else if (r->client) {
		msg_str(w, "client ");
		msg_str(w, r->client);
	} else if (r->pid) {
		msg_fmt(w, "pid %" PRIu32, r->pid);
	} else {
		msg_str(w, "an unknown process");
	}
}

/* What was asked for: the URL, else the host and port. */
static void msg_what(struct w *w, const struct audit_record *r)
{
	if (r->method && r->method[0]) {
		msg_str(w, r->method);
		msg_str(w, " ");
	}
	if (r->url && r->url[0]) {
		msg_str(w, r->url);
		return;
	}
	if (r->kind) {
		msg_str(w, r->kind);
		msg_str(w, "://");
	}
	msg_str(w, r->host ? r->host : "?");
	if (r->port)
		msg_fmt(w, ":%u", r->port);
}

size_t auditfmt_message(const struct audit_record *r, char *out, size_t cap)
{
	struct w w = {out, cap ? cap - 1 : 0, 0};
	const char *ev = r->event ? r->event : "request";
	char up[16];
	size_t i;

	if (cap == 0)
		return 0;
	if (strcmp(ev, "dns") == 0) {
		msg_str(&w, "DNS ");
		if (r->dns_type) {
			msg_str(&w, r->dns_type);
			msg_str(&w, " ");
		}
		msg_str(&w, r->host ? r->host : "?");
		msg_str(&w, " from ");
		msg_who(&w, r);
		msg_str(&w, ": ");
		msg_str(&w, r->decision ? r->decision : "?");
	} else if (is_end(r)) {
		msg_str(&w, "END ");
		msg_what(&w, r);
		msg_str(&w, " from ");
		msg_who(&w, r);
		if (r->status)
			msg_fmt(&w, ": status %d", r->status);
		else
			msg_str(&w, ":");
		msg_fmt(&w, ", %" PRIu64 " bytes up, %" PRIu64 " down", r->bytes_up, r->bytes_down);
		if (r->duration_ms >= 0)
			msg_fmt(&w, ", %" PRId64 " ms", r->duration_ms);
	} else {
		snprintf(up, sizeof(up), "%s", r->decision ? r->decision : "?");
		for (i = 0; up[i]; i++)
			up[i] = (char)(up[i] >= 'a' && up[i] <= 'z' ? up[i] - 'a' + 'A' : up[i]);
		msg_str(&w, up);
		if (r->would_deny)
			msg_str(&w, " (dry run: the rules would deny)");
		msg_str(&w, " ");
		msg_what(&w, r);
		msg_str(&w, " from ");
		msg_who(&w, r);
		if (r->reason) {
			msg_str(&w, ": ");
			msg_str(&w, r->reason);
		}
		if (r->rule) {
			msg_str(&w, " (rule: ");
			msg_str(&w, r->rule);
			msg_str(&w, ")");
		}
	}
	out[w.len] = '\0';
	return w.len;
}

/* --- the fields every format carries --------------------------------------------------------- */

/*
 * The JSON record's fields, in its order, each as a string or a number, so that every format
 * walks the same list and none can forget one. NAME is the JSON key; the formats derive theirs.
 */
enum ftype { F_STR, F_NUM };

struct field {
	const char *name;
	enum ftype type;
	const char *s;
	long long n;
};

#define MAX_FIELDS 32

static size_t fields_of(const struct audit_record *r, const struct auditfmt_run *run,
			struct field *f)
{
	size_t n = 0;

#define S(k, v)                                                                                    \
	do {                                                                                       \
		if (v)                                                                             \
			f[n++] = (struct field){k, F_STR, v, 0};                                   \
	} while (0)
#define N(k, v) (f[n++] = (struct field){k, F_NUM, NULL, (long long)(v)})
	S("event", r->event);
	S("decision", r->decision);
	S("kind", r->kind);
	S("method", r->method);
	S("url", r->url);
	S("host", r->host);
	if (r->port)
		N("port", r->port);
	S("dns_type", r->dns_type);
	S("rule", r->rule);
	S("reason", r->reason);
	if (r->would_deny)
		f[n++] = (struct field){"would_deny", F_STR, "true", 0};
	S("decided_by", r->decided_by);
	if (r->h2_stream) {
		f[n++] = (struct field){"http", F_STR, "2", 0};
		N("stream_id", r->h2_stream);
	}
	if (r->status)
		N("status", r->status);
	if (r->pid)
		N("pid", r->pid);
	S("comm", r->comm);
	S("exe", r->exe);
	S("client", r->client);
	if (is_end(r)) {
		N("bytes_up", r->bytes_up);
		N("bytes_down", r->bytes_down);
	}
	if (r->duration_ms >= 0)
		N("duration_ms", r->duration_ms);
	if (run && run->jail_id && run->jail_id[0])
		S("jail", run->jail_id);
	if (run && run->session_id && run->session_id[0])
		S("session_id", run->session_id);
	if (r->has_sequence)
		N("sequence", r->sequence);
#undef S
#undef N
	return n;
}

/* --- journald -------------------------------------------------------------------------------- */

/*
 * journald's name for a JSON key: BOUNDARY_ and the key in upper case; pid and comm get names
 * that say they are the jailed client's, since journald's _PID and _COMM are boundary's own.
 */
static void journald_name(const char *key, char *out, size_t cap)
{
	size_t i, n;

	if (strcmp(key, "pid") == 0)
		key = "client_pid";
	else if (strcmp(key, "comm") == 0)
		key = "process";
	n = (size_t)snprintf(out, cap, "BOUNDARY_%s", key);
	for (i = 0; i < n && i < cap; i++)
		if (out[i] >= 'a' && out[i] <= 'z')
			out[i] = (char)(out[i] - 'a' + 'A');
}

/* Appends NAME=value and a NUL, or nothing when it does not fit. */
static bool jfield(struct w *w, const char *name, const char *v)
{
	size_t mark = w->len;

	if (puts_(w, name) && put(w, "=", 1) && puts_(w, v) && put(w, "", 1))
		return true;
	w->len = mark;
	return false;
}

size_t auditfmt_journald(const struct auditfmt_run *run, const struct audit_record *r, char *out,
			 size_t cap, size_t *n_fields)
{
	struct field f[MAX_FIELDS];
	struct w w = {out, cap, 0};
	char msg[1024], name[64], num[32];
	size_t n, i;

	*n_fields = 0;
	auditfmt_message(r, msg, sizeof(msg));
	/* The fixed fields first, so a record cut short still says what and how bad. */
	if (!jfield(&w, "PRIORITY", is_deny(r) ? "4" : "6"))
		return 0;
	(*n_fields)++;
	if (jfield(&w, "SYSLOG_IDENTIFIER", "boundary"))
		(*n_fields)++;
	if (jfield(&w, "MESSAGE", msg))
		(*n_fields)++;
	n = fields_of(r, run, f);
	for (i = 0; i < n; i++) {
		journald_name(f[i].name, name, sizeof(name));
		if (f[i].type == F_NUM) {
			snprintf(num, sizeof(num), "%lld", f[i].n);
			if (jfield(&w, name, num))
				(*n_fields)++;
		} else if (jfield(&w, name, strcmp(f[i].name, "would_deny") == 0 ? "1" : f[i].s)) {
			(*n_fields)++;
		}
	}
	return w.len;
}

/* --- syslog (RFC 5424) ----------------------------------------------------------------------- */

/*
 * A PARAM-VALUE (§6.3.3): '"', '\' and ']' escaped with a backslash; UTF-8 kept; a control
 * byte or one that is not UTF-8 as %XX, so a line is one line and valid UTF-8 whatever the
 * jailed program sent.
 */
static bool sd_value(struct w *w, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p = (const unsigned char *)s;
	char esc[3];
	size_t n;

	while (*p) {
		if (*p == '"' || *p == '\\' || *p == ']') {
			esc[0] = '\\';
			esc[1] = (char)*p;
			if (!put(w, esc, 2))
				return false;
			p++;
			continue;
		}
		n = *p < 0x20 || *p == 0x7f ? 0 : utf8_seq_len(p);
		if (n == 0) {
			esc[0] = '%';
			esc[1] = hex[*p >> 4];
			esc[2] = hex[*p & 15];
			if (!put(w, esc, 3))
				return false;
			p++;
			continue;
		}
		if (!put(w, (const char *)p, n))
			return false;
		p += n;
	}
	return true;
}

/* A header field (HOSTNAME and the like): printable ASCII without spaces, else "-". */
static void header_word(struct w *w, const char *s, size_t max)
{
	size_t i;

	if (!s || !s[0] || strlen(s) > max) {
		put(w, "-", 1);
		return;
	}
	for (i = 0; s[i]; i++)
		if (s[i] < 0x21 || s[i] > 0x7e) {
			put(w, "-", 1);
			return;
		}
	puts_(w, s);
}

size_t auditfmt_syslog(const struct auditfmt_run *run, const struct audit_record *r,
		       const struct timespec *ts, char *out, size_t cap)
{
	struct field f[MAX_FIELDS];
	struct w w = {out, cap, 0};
	char head[96], num[32], msg[1024];
	struct tm tm;
	size_t n, i, mark;

	gmtime_r(&ts->tv_sec, &tm);
	snprintf(head, sizeof(head), "<%d>1 %04d-%02d-%02dT%02d:%02d:%02d.%06ldZ ",
		 AUDITFMT_FACILITY * 8 + (is_deny(r) ? 4 : 6), tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts->tv_nsec / 1000);
	if (!puts_(&w, head))
		return 0;
	header_word(&w, run ? run->hostname : NULL, 255);
	snprintf(head, sizeof(head), " boundary %ld ", run ? run->pid : 0L);
	puts_(&w, head);
	header_word(&w, r->event, 32);
	if (!puts_(&w, " [" AUDITFMT_SD_ID))
		return 0;
	n = fields_of(r, run, f);
	for (i = 0; i < n; i++) {
		mark = w.len;
		if (!put(&w, " ", 1) || !puts_(&w, f[i].name) || !put(&w, "=\"", 2))
			goto drop;
		if (f[i].type == F_NUM) {
			snprintf(num, sizeof(num), "%lld", f[i].n);
			if (!puts_(&w, num))
				goto drop;
		} else if (!sd_value(&w, f[i].s)) {
			goto drop;
		}
		/* Room is kept for the "]" that closes the element. */
		if (!put(&w, "\"", 1) || w.len >= w.cap)
			goto drop;
		continue;
	drop:
		w.len = mark;
	}
	if (!put(&w, "]", 1))
		return 0;
	auditfmt_message(r, msg, sizeof(msg));
	if (put(&w, " ", 1))
		put(&w, msg, strlen(msg) < w.cap - w.len ? strlen(msg) : w.cap - w.len);
	return w.len;
}

/* --- OTLP JSON ------------------------------------------------------------------------------- */

/* A JSON string through audit.c's escaper, so both JSON writers agree. */
static bool jstr(struct w *w, const char *s)
{
	size_t len = w->len;

	/* audit_json_string() keeps one byte of cap spare; give it one more. */
	if (audit_json_string(w->p, w->cap + 1, &len, s) < 0)
		return false;
	w->len = len;
	return true;
}

/* The OpenTelemetry name of a JSON key: a semantic convention's where one fits. */
static const char *otlp_name(const char *key, char *buf, size_t cap)
{
	static const char *const semconv[][2] = {
	    {"method", "http.request.method"},
	    {"url", "url.full"},
	    {"host", "server.address"},
	    {"port", "server.port"},
	    {"status", "http.response.status_code"},
	    {"pid", "process.pid"},
	    {"comm", "process.executable.name"},
	    {"exe", "process.executable.path"},
	    {"client", "client.address"},
	};
	size_t i;

	for (i = 0; i < sizeof(semconv) / sizeof(semconv[0]); i++)
		if (strcmp(key, semconv[i][0]) == 0)
			return semconv[i][1];
	snprintf(buf, cap, "boundary.%s", key);
	return buf;
}

/*
 * A comma unless first, then {"key":"K","value":{"stringValue":"V"}}, or with num (a string of
 * digits) {"key":"K","value":{"intValue":"N"}}; nothing when it does not fit.
 */
static bool otlp_attr(struct w *w, bool first, const char *key, const char *s, const char *num)
{
	size_t mark = w->len;
	bool done;

	done = (first || put(w, ",", 1)) && puts_(w, "{\"key\":") && jstr(w, key);
	if (done && num)
		done = puts_(w, ",\"value\":{\"intValue\":\"") && puts_(w, num) && puts_(w, "\"}}");
	else if (done && s)
		done = puts_(w, ",\"value\":{\"stringValue\":") && jstr(w, s) && puts_(w, "}}");
	else
		done = false;
	if (!done)
		w->len = mark;
	return done;
}

size_t auditfmt_otlp_record(const struct audit_record *r, const struct timespec *ts, char *out,
			    size_t cap)
{
	struct field f[MAX_FIELDS];
	struct w w = {out, cap, 0};
	char head[256], num[32], name[64], msg[1024];
	const char *key;
	bool first = true;
	size_t n, i;
	/* What must follow the attributes: room for it is kept from the start. */
	const size_t tail = strlen("]}");

	if (cap < tail)
		return 0;
	w.cap = cap - tail;
	snprintf(head, sizeof(head),
		 "{\"timeUnixNano\":\"%lld%09ld\",\"observedTimeUnixNano\":\"%lld%09ld\","
		 "\"severityNumber\":%d,\"severityText\":\"%s\",\"body\":{\"stringValue\":",
		 (long long)ts->tv_sec, ts->tv_nsec, (long long)ts->tv_sec, ts->tv_nsec,
		 is_deny(r) ? 13 : 9, is_deny(r) ? "WARN" : "INFO");
	if (!puts_(&w, head))
		return 0;
	auditfmt_message(r, msg, sizeof(msg));
	if (!jstr(&w, msg) && !jstr(&w, "(the record's message does not fit)"))
		return 0;
	if (!puts_(&w, "},\"attributes\":["))
		return 0;
	n = fields_of(r, NULL, f);
	for (i = 0; i < n; i++) {
		key = otlp_name(f[i].name, name, sizeof(name));
		if (f[i].type == F_NUM) {
			snprintf(num, sizeof(num), "%lld", f[i].n);
			if (otlp_attr(&w, first, key, NULL, num))
				first = false;
		} else if (strcmp(f[i].name, "would_deny") == 0) {
			/* a boolean, as the JSON record has it */
			size_t mark = w.len;

			if (puts_(&w, first ? "" : ",") &&
			    puts_(&w, "{\"key\":\"boundary.would_deny\",\"value\":{\"boolValue\":"
				      "true}}"))
				first = false;
			else
				w.len = mark;
		} else if (otlp_attr(&w, first, key, f[i].s, NULL)) {
			first = false;
		}
	}
	w.cap = cap;
	put(&w, "]}", tail);
	return w.len;
}

size_t auditfmt_otlp_head(const struct auditfmt_run *run, char *out, size_t cap)
{
	struct w w = {out, cap, 0};

	if (!puts_(&w, "{\"resourceLogs\":[{\"resource\":{\"attributes\":[") ||
	    !otlp_attr(&w, true, "service.name", "boundary", NULL))
		return 0;
	if (run && run->jail_id && run->jail_id[0] &&
	    !otlp_attr(&w, false, "boundary.jail", run->jail_id, NULL))
		return 0;
	if (run && run->session_id && run->session_id[0] &&
	    !otlp_attr(&w, false, "boundary.session_id", run->session_id, NULL))
		return 0;
	if (!puts_(&w, "]},\"scopeLogs\":[{\"scope\":{\"name\":\"boundary\",\"version\":") ||
	    !jstr(&w, BOUNDARY_VERSION) || !puts_(&w, "},\"logRecords\":["))
		return 0;
	return w.len;
}
