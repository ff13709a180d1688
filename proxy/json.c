// SPDX-License-Identifier: MIT
/*
 * json.c: the JSON reader (json.h), in recursive descent. It owns no memory; what it decodes
 * goes into the caller's buffer. Which keys mean what, and what a whole line must be, are the
 * callers' business (user/auditlog.c, proxy/policy.c).
 */
#include "proxy/json.h"

#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

void json_init(struct json_reader *r, const char *line, size_t len, char *out, size_t cap,
	       int max_depth, bool loose)
{
	assert(cap > 0);
	r->start = r->p = (const unsigned char *)line;
	r->end = r->start + len;
	r->out = out;
	r->out_len = 0;
	r->out_cap = cap;
	r->max_depth = max_depth;
	r->loose = loose;
}

void json_skip_ws(struct json_reader *r)
{
	while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\r' || *r->p == '\n'))
		r->p++;
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
 * Appends n bytes to the decoded output, always leaving room for the string's NUL. A strict
 * reader always has room (json_init()); a loose one drops what does not fit.
 */
static void emit(struct json_reader *r, const void *s, size_t n)
{
	assert(r->out_len < r->out_cap);
	if (r->out_len + n + 1 > r->out_cap) {
		assert(r->loose);
		n = r->out_cap - 1 - r->out_len;
	}
	memcpy(r->out + r->out_len, s, n);
	r->out_len += n;
}

static void emit_utf8(struct json_reader *r, uint32_t cp)
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
	emit(r, b, n);
}

/*
 * \uXXXX at r->p (just past the backslash and the u), and its low surrogate if it is a high
 * one. Leaves r->p after what it read.
 */
static int read_u_escape(struct json_reader *r)
{
	uint32_t cp, lo;
	int i;

	if (r->loose) {
		/* Not decoded: a message only needs to stay readable. */
		if (r->end - r->p < 4)
			return -JSON_E_ESCAPE;
		for (i = 0; i < 4; i++) {
			if (!strchr("0123456789abcdefABCDEF", r->p[i]))
				return -JSON_E_ESCAPE;
		}
		r->p += 4;
		emit(r, "?", 1);
		return 0;
	}
	if (r->end - r->p < 4 || hex4(r->p, &cp) < 0)
		return -JSON_E_ESCAPE;
	r->p += 4;
	if (cp == 0)
		return -JSON_E_ESCAPE; /* every string comes back as a C string */
	if (cp >= 0xdc00 && cp <= 0xdfff)
		return -JSON_E_ESCAPE; /* a low surrogate with no high one */
	if (cp >= 0xd800 && cp <= 0xdbff) {
		if (r->end - r->p < 6 || r->p[0] != '\\' || r->p[1] != 'u' ||
		    hex4(r->p + 2, &lo) < 0 || lo < 0xdc00 || lo > 0xdfff)
			return -JSON_E_ESCAPE;
		r->p += 6;
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
	}
	emit_utf8(r, cp);
	return 0;
}

int json_string(struct json_reader *r, const char **s)
{
	static const char simple[] = "\"\\/bfnrt", meant[] = "\"\\/\b\f\n\r\t";
	const char *e;
	size_t n;
	int ret;

	if (r->p >= r->end || *r->p != '"')
		return -JSON_E_SYNTAX;
	r->p++;
	*s = r->out + r->out_len;
	for (;;) {
		if (r->p >= r->end)
			return -JSON_E_STRING;
		if (*r->p == '"') {
			r->p++;
			break;
		}
		if (*r->p < 0x20)
			return -JSON_E_STRING;
		if (*r->p != '\\') {
			if (r->loose) {
				emit(r, *r->p == 0x7f ? " " : (const char *)r->p, 1);
				r->p++;
				continue;
			}
			n = utf8_len(r->p, (size_t)(r->end - r->p));
			if (n == 0)
				return -JSON_E_UTF8;
			emit(r, r->p, n);
			r->p += n;
			continue;
		}
		r->p++;
		if (r->p >= r->end)
			return -JSON_E_STRING;
		if (*r->p == 'u') {
			r->p++;
			ret = read_u_escape(r);
			if (ret < 0)
				return ret;
			continue;
		}
		if (!one_of(*r->p, simple))
			return -JSON_E_ESCAPE;
		e = strchr(simple, *r->p);
		emit(r, r->loose && meant[e - simple] < 0x20 ? " " : &meant[e - simple], 1);
		r->p++;
	}
	assert(r->out_len < r->out_cap);
	r->out[r->out_len++] = '\0';
	return 0;
}

static bool is_digit(const unsigned char *p, const unsigned char *end)
{
	return p < end && *p >= '0' && *p <= '9';
}

int json_number(struct json_reader *r, int64_t *v, bool *whole)
{
	bool neg = false;
	int64_t x = 0;
	int d;

	*whole = true;
	if (r->p < r->end && *r->p == '-') {
		neg = true;
		r->p++;
	}
	if (!is_digit(r->p, r->end))
		return -JSON_E_NUMBER;
	if (*r->p == '0') {
		r->p++;
		if (is_digit(r->p, r->end))
			return -JSON_E_NUMBER; /* no leading zeros */
	} else {
		while (is_digit(r->p, r->end)) {
			d = *r->p++ - '0';
			if (x > (INT64_MAX - d) / 10)
				*whole = false;
			else
				x = x * 10 + d;
		}
	}
	if (r->p < r->end && *r->p == '.') {
		r->p++;
		if (!is_digit(r->p, r->end))
			return -JSON_E_NUMBER;
		while (is_digit(r->p, r->end))
			r->p++;
		*whole = false;
	}
	if (r->p < r->end && (*r->p == 'e' || *r->p == 'E')) {
		r->p++;
		if (r->p < r->end && (*r->p == '+' || *r->p == '-'))
			r->p++;
		if (!is_digit(r->p, r->end))
			return -JSON_E_NUMBER;
		while (is_digit(r->p, r->end))
			r->p++;
		*whole = false;
	}
	*v = neg ? -x : x;
	return 0;
}

bool json_literal(struct json_reader *r, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(r->end - r->p) < n || memcmp(r->p, word, n) != 0)
		return false;
	r->p += n;
	return true;
}

int json_skip_value(struct json_reader *r, int depth)
{
	size_t mark = r->out_len;
	const char *s;
	int64_t v;
	bool whole;
	int ret;
	unsigned char close;

	if (r->p >= r->end)
		return -JSON_E_SYNTAX;
	if (r->loose && depth > r->max_depth)
		return -JSON_E_DEPTH;
	switch (*r->p) {
	case '"':
		ret = json_string(r, &s);
		r->out_len = mark;
		return ret;
	case 't':
		return json_literal(r, "true") ? 0 : -JSON_E_SYNTAX;
	case 'f':
		return json_literal(r, "false") ? 0 : -JSON_E_SYNTAX;
	case 'n':
		return json_literal(r, "null") ? 0 : -JSON_E_SYNTAX;
	case '[':
	case '{':
		break;
	default:
		if (!one_of(*r->p, "-0123456789"))
			return -JSON_E_SYNTAX;
		if (!r->loose)
			return json_number(r, &v, &whole);
		while (r->p < r->end && strchr("+-.eE0123456789", *r->p))
			r->p++;
		return 0;
	}
	if (depth > r->max_depth)
		return -JSON_E_DEPTH;
	close = *r->p == '[' ? ']' : '}';
	r->p++;
	json_skip_ws(r);
	if (r->p < r->end && *r->p == close) {
		r->p++;
		return 0;
	}
	for (;;) {
		if (close == '}') {
			ret = json_string(r, &s);
			r->out_len = mark;
			if (ret < 0)
				return ret;
			json_skip_ws(r);
			if (r->p >= r->end || *r->p != ':')
				return -JSON_E_SYNTAX;
			r->p++;
			json_skip_ws(r);
		}
		ret = json_skip_value(r, depth + 1);
		if (ret < 0)
			return ret;
		json_skip_ws(r);
		if (r->p < r->end && *r->p == ',') {
			r->p++;
			json_skip_ws(r);
			continue;
		}
		if (r->p < r->end && *r->p == close) {
			r->p++;
			return 0;
		}
		return -JSON_E_SYNTAX;
	}
}

const char *json_strerror(int err)
{
	switch (err < 0 ? -err : err) {
	case JSON_E_SYNTAX:
		return "not JSON";
	case JSON_E_STRING:
		return "a string is not closed, or holds a control character";
	case JSON_E_ESCAPE:
		return "a bad escape in a string (or \\u0000, or half a surrogate pair)";
	case JSON_E_UTF8:
		return "bytes that are not UTF-8";
	case JSON_E_NUMBER:
		return "a malformed number";
	case JSON_E_DEPTH:
		return "objects or arrays nested too deep";
	}
	return "unknown error";
}
