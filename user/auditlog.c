// SPDX-License-Identifier: MIT
/*
 * auditlog.c: the audit record reader (auditlog.h): one flat object per line, read with
 * proxy/json.h's strict reader; it fills the fields boundary writes and skips the rest.
 * It owns no memory; what it decodes goes into the caller's buffer. Reading files, and what the
 * records mean, are the caller's business (user/summary.c).
 */
#include "user/auditlog.h"

#include "proxy/json.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* How deep an unknown key's value may nest; the records themselves are flat. */
#define MAX_DEPTH 32

enum field_type {
	FIELD_STR,
	FIELD_INT,
	FIELD_BOOL,
};

struct field {
	const char *key;
	enum field_type type;
	size_t off;
	int64_t max;
};

#define OFF(name) offsetof(struct auditlog_record, name)

/* The fields proxy/audit.c writes. At most 32: a bit each says it was seen. */
static const struct field fields[] = {
    {"time", FIELD_STR, OFF(time), 0},
    {"event", FIELD_STR, OFF(event), 0},
    {"decision", FIELD_STR, OFF(decision), 0},
    {"kind", FIELD_STR, OFF(kind), 0},
    {"method", FIELD_STR, OFF(method), 0},
    {"url", FIELD_STR, OFF(url), 0},
    {"host", FIELD_STR, OFF(host), 0},
    {"dns_type", FIELD_STR, OFF(dns_type), 0},
    {"rule", FIELD_STR, OFF(rule), 0},
    {"reason", FIELD_STR, OFF(reason), 0},
    {"comm", FIELD_STR, OFF(comm), 0},
    {"jail", FIELD_STR, OFF(jail), 0},
    {"decided_by", FIELD_STR, OFF(decided_by), 0},
    {"would_deny", FIELD_BOOL, OFF(would_deny), 0},
    {"port", FIELD_INT, OFF(port), 65535},
    {"status", FIELD_INT, OFF(status), INT64_MAX},
    {"pid", FIELD_INT, OFF(pid), INT64_MAX},
    {"bytes_up", FIELD_INT, OFF(bytes_up), INT64_MAX},
    {"bytes_down", FIELD_INT, OFF(bytes_down), INT64_MAX},
    {"duration_ms", FIELD_INT, OFF(duration_ms), INT64_MAX},
    {"count", FIELD_INT, OFF(count), INT64_MAX},
    {"exe", FIELD_STR, OFF(exe), 0},
};

_Static_assert(sizeof(fields) / sizeof(fields[0]) <= 32, "the seen mask has 32 bits");

/* True if c is one of the characters of set (never for NUL). */
static bool one_of(unsigned char c, const char *set)
{
	return c && strchr(set, c);
}

static const struct field *find_field(const char *key)
{
	size_t i;

	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		if (strcmp(fields[i].key, key) == 0)
			return &fields[i];
	}
	return NULL;
}

/* The value of a known key, stored into r. */
static int read_field(struct json_reader *ps, const struct field *f, struct auditlog_record *r)
{
	const char **sp = (const char **)((char *)r + f->off);
	int64_t *ip = (int64_t *)((char *)r + f->off);
	const unsigned char *at = ps->p;
	bool whole;
	int64_t v;
	int ret;

	if (json_literal(ps, "null"))
		return 0; /* as if it were not there */
	if (f->type == FIELD_BOOL) {
		bool *bp = (bool *)((char *)r + f->off);

		if (json_literal(ps, "true")) {
			*bp = true;
			return 0;
		}
		if (json_literal(ps, "false")) {
			*bp = false;
			return 0;
		}
		return ps->p < ps->end && one_of(*ps->p, "\"-0123456789[{") ? -AUDITLOG_E_TYPE
									    : -AUDITLOG_E_SYNTAX;
	}
	if (f->type == FIELD_STR) {
		if (ps->p >= ps->end || *ps->p != '"')
			return ps->p < ps->end && one_of(*ps->p, "-0123456789tf[{")
				   ? -AUDITLOG_E_TYPE
				   : -AUDITLOG_E_SYNTAX;
		return json_string(ps, sp);
	}
	if (ps->p < ps->end && (*ps->p == '-' || (*ps->p >= '0' && *ps->p <= '9'))) {
		ret = json_number(ps, &v, &whole);
		if (ret < 0)
			return ret;
		if (!whole || v < 0 || v > f->max) {
			ps->p = at; /* the error is the number, not what follows it */
			return -AUDITLOG_E_RANGE;
		}
		*ip = v;
		return 0;
	}
	return ps->p < ps->end && one_of(*ps->p, "\"tf[{") ? -AUDITLOG_E_TYPE : -AUDITLOG_E_SYNTAX;
}

static int read_object(struct json_reader *ps, struct auditlog_record *r)
{
	const struct field *f;
	uint32_t seen = 0, bit;
	const unsigned char *key_at, *start;
	const char *key;
	size_t mark;
	int ret;

	json_skip_ws(ps);
	if (ps->p >= ps->end)
		return -AUDITLOG_E_SYNTAX;
	if (*ps->p != '{') {
		/* Not an object: say "not an object" only if it is JSON at all. */
		start = ps->p;
		ret = json_skip_value(ps, 1);
		json_skip_ws(ps);
		if (ret == 0 && ps->p == ps->end) {
			ps->p = start;
			return -AUDITLOG_E_NOT_OBJECT;
		}
		return ret < 0 ? ret : -AUDITLOG_E_TRAILING;
	}
	ps->p++;
	json_skip_ws(ps);
	if (ps->p < ps->end && *ps->p == '}') {
		ps->p++;
		return 0;
	}
	for (;;) {
		key_at = ps->p;
		mark = ps->out_len;
		ret = json_string(ps, &key);
		if (ret < 0)
			return ret;
		f = find_field(key);
		ps->out_len = mark; /* the key is not kept */
		json_skip_ws(ps);
		if (ps->p >= ps->end || *ps->p != ':')
			return -AUDITLOG_E_SYNTAX;
		ps->p++;
		json_skip_ws(ps);
		if (f) {
			bit = 1u << (f - fields);
			if (seen & bit) {
				ps->p = key_at;
				return -AUDITLOG_E_DUPLICATE;
			}
			seen |= bit;
			ret = read_field(ps, f, r);
		} else {
			ret = json_skip_value(ps, 1);
		}
		if (ret < 0)
			return ret;
		json_skip_ws(ps);
		if (ps->p < ps->end && *ps->p == ',') {
			ps->p++;
			json_skip_ws(ps);
			continue;
		}
		if (ps->p < ps->end && *ps->p == '}') {
			ps->p++;
			return 0;
		}
		return -AUDITLOG_E_SYNTAX;
	}
}

ssize_t auditlog_parse(const char *line, size_t len, struct auditlog_record *r, char *buf,
		       size_t buflen, size_t *err_pos)
{
	struct json_reader ps;
	int ret;

	*err_pos = 0;
	if (len > AUDITLOG_MAX_LINE)
		return -AUDITLOG_E_TOO_LONG;
	if (buflen < len + 1)
		return -AUDITLOG_E_TOO_LONG; /* the caller's mistake; said rather than overrun */
	memset(r, 0, sizeof(*r));
	r->port = r->status = r->pid = r->bytes_up = r->bytes_down = r->duration_ms = r->count = -1;
	json_init(&ps, line, len, buf, buflen, MAX_DEPTH, false);

	ret = read_object(&ps, r);
	if (ret == 0) {
		json_skip_ws(&ps);
		if (ps.p != ps.end)
			ret = -AUDITLOG_E_TRAILING;
		else if (!r->event)
			ret = -AUDITLOG_E_NO_EVENT;
	}
	if (ret < 0) {
		*err_pos = ret == -AUDITLOG_E_NO_EVENT ? 0 : (size_t)(ps.p - ps.start);
		return ret;
	}
	return (ssize_t)len;
}

const char *auditlog_strerror(int err)
{
	switch (err < 0 ? -err : err) {
	case AUDITLOG_E_NOT_OBJECT:
		return "JSON, but not an object";
	case AUDITLOG_E_TRAILING:
		return "something after the record";
	case AUDITLOG_E_DUPLICATE:
		return "a field given twice";
	case AUDITLOG_E_TYPE:
		return "a field with a value of the wrong type";
	case AUDITLOG_E_RANGE:
		return "a number out of range for its field";
	case AUDITLOG_E_NO_EVENT:
		return "an object with no \"event\"";
	case AUDITLOG_E_TOO_LONG:
		return "the line is too long";
	default:
		return json_strerror(err);
	}
}
