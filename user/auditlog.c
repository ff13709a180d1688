// SPDX-License-Identifier: MIT
/*
 * auditlog.c: the audit record reader (auditlog.h). A recursive-descent JSON reader just big
 * enough for one flat object per line: it fills the fields boundary writes and skips the rest.
 * It owns no memory; what it decodes goes into the caller's buffer. Reading files, and what the
 * records mean, are the caller's business (user/summary.c).
 */
#include "user/auditlog.h"

#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* How deep an unknown key's value may nest; the records themselves are flat. */
#define MAX_DEPTH 32

struct parser {
	const unsigned char *start, *p, *end;
	char *out; /* decoded strings */
	size_t out_len, out_cap;
};

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
};

_Static_assert(sizeof(fields) / sizeof(fields[0]) <= 32, "the seen mask has 32 bits");

static void skip_ws(struct parser *ps)
{
	while (ps->p < ps->end &&
	       (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\r' || *ps->p == '\n'))
		ps->p++;
}

/* True if c is one of the characters of set (never for NUL). */
static bool one_of(unsigned char c, const char *set)
{
	return c && strchr(set, c);
}

/* Length of the valid UTF-8 sequence at s (1-4) within n bytes, or 0 if it is not one. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		return n >= 2 && (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (s[0] >= 0xe0 && s[0] <= 0xef) {
		if (n < 3 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
			return 0;
		if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] > 0x9f))
			return 0; /* overlong, or a surrogate */
		return 3;
	}
	if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		if (n < 4 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 ||
		    (s[3] & 0xc0) != 0x80)
			return 0;
		if ((s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] > 0x8f))
			return 0; /* overlong, or past U+10FFFF */
		return 4;
	}
	return 0;
}

static int hex4(const unsigned char *s, uint32_t *v)
{
	int i, d;

	*v = 0;
	for (i = 0; i < 4; i++) {
		if (s[i] >= '0' && s[i] <= '9')
			d = s[i] - '0';
		else if (s[i] >= 'a' && s[i] <= 'f')
			d = s[i] - 'a' + 10;
		else if (s[i] >= 'A' && s[i] <= 'F')
			d = s[i] - 'A' + 10;
		else
			return -1;
		*v = *v << 4 | (uint32_t)d;
	}
	return 0;
}

/*
 * Appends n bytes to the decoded output. There is always room: a string never decodes to more
 * bytes than it takes in the line, its quotes paying for the NUL, and the buffer holds len + 1.
 */
static void emit(struct parser *ps, const void *s, size_t n)
{
	assert(ps->out_len + n <= ps->out_cap);
	memcpy(ps->out + ps->out_len, s, n);
	ps->out_len += n;
}

static void emit_utf8(struct parser *ps, uint32_t cp)
{
	unsigned char b[4];
	size_t n;

	if (cp < 0x80) {
		b[0] = (unsigned char)cp;
		n = 1;
	} else if (cp < 0x800) {
		b[0] = (unsigned char)(0xc0 | cp >> 6);
		b[1] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = (unsigned char)(0xe0 | cp >> 12);
		b[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
		b[2] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		b[0] = (unsigned char)(0xf0 | cp >> 18);
		b[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3f));
		b[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
		b[3] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	emit(ps, b, n);
}

/*
 * \uXXXX at ps->p (just past the backslash and the u), and its low surrogate if it is a high
 * one. Leaves ps->p after what it read.
 */
static int read_u_escape(struct parser *ps)
{
	uint32_t cp, lo;

	if (ps->end - ps->p < 4 || hex4(ps->p, &cp) < 0)
		return -AUDITLOG_E_ESCAPE;
	ps->p += 4;
	if (cp == 0)
		return -AUDITLOG_E_ESCAPE; /* every field is a C string */
	if (cp >= 0xdc00 && cp <= 0xdfff)
		return -AUDITLOG_E_ESCAPE; /* a low surrogate with no high one */
	if (cp >= 0xd800 && cp <= 0xdbff) {
		if (ps->end - ps->p < 6 || ps->p[0] != '\\' || ps->p[1] != 'u' ||
		    hex4(ps->p + 2, &lo) < 0 || lo < 0xdc00 || lo > 0xdfff)
			return -AUDITLOG_E_ESCAPE;
		ps->p += 6;
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
	}
	emit_utf8(ps, cp);
	return 0;
}

/*
 * The string at ps->p (its opening quote), decoded into the output with a NUL after it; *s is
 * where it starts there. The caller takes the bytes back (out_len) if it does not keep them.
 */
static int read_string(struct parser *ps, const char **s)
{
	static const char simple[] = "\"\\/bfnrt", meant[] = "\"\\/\b\f\n\r\t";
	const char *e;
	size_t n;
	int ret;

	if (ps->p >= ps->end || *ps->p != '"')
		return -AUDITLOG_E_SYNTAX;
	ps->p++;
	*s = ps->out + ps->out_len;
	for (;;) {
		if (ps->p >= ps->end)
			return -AUDITLOG_E_STRING;
		if (*ps->p == '"') {
			ps->p++;
			break;
		}
		if (*ps->p < 0x20)
			return -AUDITLOG_E_STRING;
		if (*ps->p != '\\') {
			n = utf8_len(ps->p, (size_t)(ps->end - ps->p));
			if (n == 0)
				return -AUDITLOG_E_UTF8;
			emit(ps, ps->p, n);
			ps->p += n;
			continue;
		}
		ps->p++;
		if (ps->p >= ps->end)
			return -AUDITLOG_E_STRING;
		if (*ps->p == 'u') {
			ps->p++;
			ret = read_u_escape(ps);
			if (ret < 0)
				return ret;
			continue;
		}
		if (!one_of(*ps->p, simple))
			return -AUDITLOG_E_ESCAPE;
		e = strchr(simple, *ps->p);
		emit(ps, &meant[e - simple], 1);
		ps->p++;
	}
	emit(ps, "", 1);
	return 0;
}

static bool is_digit(const unsigned char *p, const unsigned char *end)
{
	return p < end && *p >= '0' && *p <= '9';
}

/*
 * A number, as JSON writes it. *whole says it is an integer (no fraction, no exponent) that fits
 * an int64_t, whose value is then in *v.
 */
static int read_number(struct parser *ps, int64_t *v, bool *whole)
{
	bool neg = false;
	int64_t x = 0;
	int d;

	*whole = true;
	if (ps->p < ps->end && *ps->p == '-') {
		neg = true;
		ps->p++;
	}
	if (!is_digit(ps->p, ps->end))
		return -AUDITLOG_E_NUMBER;
	if (*ps->p == '0') {
		ps->p++;
		if (is_digit(ps->p, ps->end))
			return -AUDITLOG_E_NUMBER; /* no leading zeros */
	} else {
		while (is_digit(ps->p, ps->end)) {
			d = *ps->p++ - '0';
			if (x > (INT64_MAX - d) / 10)
				*whole = false;
			else
				x = x * 10 + d;
		}
	}
	if (ps->p < ps->end && *ps->p == '.') {
		ps->p++;
		if (!is_digit(ps->p, ps->end))
			return -AUDITLOG_E_NUMBER;
		while (is_digit(ps->p, ps->end))
			ps->p++;
		*whole = false;
	}
	if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
		ps->p++;
		if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-'))
			ps->p++;
		if (!is_digit(ps->p, ps->end))
			return -AUDITLOG_E_NUMBER;
		while (is_digit(ps->p, ps->end))
			ps->p++;
		*whole = false;
	}
	*v = neg ? -x : x;
	return 0;
}

static bool literal(struct parser *ps, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
		return false;
	ps->p += n;
	return true;
}

/* Any value, read and thrown away: what an unknown key holds. */
static int skip_value(struct parser *ps, int depth)
{
	size_t mark = ps->out_len;
	const char *s;
	int64_t v;
	bool whole;
	int ret;
	unsigned char close;

	if (ps->p >= ps->end)
		return -AUDITLOG_E_SYNTAX;
	switch (*ps->p) {
	case '"':
		ret = read_string(ps, &s);
		ps->out_len = mark;
		return ret;
	case 't':
		return literal(ps, "true") ? 0 : -AUDITLOG_E_SYNTAX;
	case 'f':
		return literal(ps, "false") ? 0 : -AUDITLOG_E_SYNTAX;
	case 'n':
		return literal(ps, "null") ? 0 : -AUDITLOG_E_SYNTAX;
	case '[':
	case '{':
		break;
	default:
		if (one_of(*ps->p, "-0123456789"))
			return read_number(ps, &v, &whole);
		return -AUDITLOG_E_SYNTAX;
	}
	if (depth > MAX_DEPTH)
		return -AUDITLOG_E_DEPTH;
	close = *ps->p == '[' ? ']' : '}';
	ps->p++;
	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == close) {
		ps->p++;
		return 0;
	}
	for (;;) {
		if (close == '}') {
			ret = read_string(ps, &s);
			ps->out_len = mark;
			if (ret < 0)
				return ret;
			skip_ws(ps);
			if (ps->p >= ps->end || *ps->p != ':')
				return -AUDITLOG_E_SYNTAX;
			ps->p++;
			skip_ws(ps);
		}
		ret = skip_value(ps, depth + 1);
		if (ret < 0)
			return ret;
		skip_ws(ps);
		if (ps->p < ps->end && *ps->p == ',') {
			ps->p++;
			skip_ws(ps);
			continue;
		}
		if (ps->p < ps->end && *ps->p == close) {
			ps->p++;
			return 0;
		}
		return -AUDITLOG_E_SYNTAX;
	}
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
static int read_field(struct parser *ps, const struct field *f, struct auditlog_record *r)
{
	const char **sp = (const char **)((char *)r + f->off);
	int64_t *ip = (int64_t *)((char *)r + f->off);
	const unsigned char *at = ps->p;
	bool whole;
	int64_t v;
	int ret;

	if (literal(ps, "null"))
		return 0; /* as if it were not there */
	if (f->type == FIELD_BOOL) {
		bool *bp = (bool *)((char *)r + f->off);

		if (literal(ps, "true")) {
			*bp = true;
			return 0;
		}
		if (literal(ps, "false")) {
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
		return read_string(ps, sp);
	}
	if (ps->p < ps->end && (*ps->p == '-' || (*ps->p >= '0' && *ps->p <= '9'))) {
		ret = read_number(ps, &v, &whole);
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

static int read_object(struct parser *ps, struct auditlog_record *r)
{
	const struct field *f;
	uint32_t seen = 0, bit;
	const unsigned char *key_at, *start;
	const char *key;
	size_t mark;
	int ret;

	skip_ws(ps);
	if (ps->p >= ps->end)
		return -AUDITLOG_E_SYNTAX;
	if (*ps->p != '{') {
		/* Not an object: say "not an object" only if it is JSON at all. */
		start = ps->p;
		ret = skip_value(ps, 1);
		skip_ws(ps);
		if (ret == 0 && ps->p == ps->end) {
			ps->p = start;
			return -AUDITLOG_E_NOT_OBJECT;
		}
		return ret < 0 ? ret : -AUDITLOG_E_TRAILING;
	}
	ps->p++;
	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == '}') {
		ps->p++;
		return 0;
	}
	for (;;) {
		key_at = ps->p;
		mark = ps->out_len;
		ret = read_string(ps, &key);
		if (ret < 0)
			return ret;
		f = find_field(key);
		ps->out_len = mark; /* the key is not kept */
		skip_ws(ps);
		if (ps->p >= ps->end || *ps->p != ':')
			return -AUDITLOG_E_SYNTAX;
		ps->p++;
		skip_ws(ps);
		if (f) {
			bit = 1u << (f - fields);
			if (seen & bit) {
				ps->p = key_at;
				return -AUDITLOG_E_DUPLICATE;
			}
			seen |= bit;
			ret = read_field(ps, f, r);
		} else {
			ret = skip_value(ps, 1);
		}
		if (ret < 0)
			return ret;
		skip_ws(ps);
		if (ps->p < ps->end && *ps->p == ',') {
			ps->p++;
			skip_ws(ps);
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
	struct parser ps;
	int ret;

	*err_pos = 0;
	if (len > AUDITLOG_MAX_LINE)
		return -AUDITLOG_E_TOO_LONG;
	if (buflen < len + 1)
		return -AUDITLOG_E_TOO_LONG; /* the caller's mistake; said rather than overrun */
	memset(r, 0, sizeof(*r));
	r->port = r->status = r->pid = r->bytes_up = r->bytes_down = r->duration_ms = r->count = -1;
	ps.start = ps.p = (const unsigned char *)line;
	ps.end = ps.start + len;
	ps.out = buf;
	ps.out_len = 0;
	ps.out_cap = buflen;

	ret = read_object(&ps, r);
	if (ret == 0) {
		skip_ws(&ps);
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
	case AUDITLOG_E_SYNTAX:
		return "not JSON";
	case AUDITLOG_E_NOT_OBJECT:
		return "JSON, but not an object";
	case AUDITLOG_E_STRING:
		return "a string is not closed, or holds a control character";
	case AUDITLOG_E_ESCAPE:
		return "a bad escape in a string (or \\u0000, or half a surrogate pair)";
	case AUDITLOG_E_UTF8:
		return "bytes that are not UTF-8";
	case AUDITLOG_E_NUMBER:
		return "a malformed number";
	case AUDITLOG_E_DEPTH:
		return "objects or arrays nested too deep";
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
		return "unknown error";
	}
}
