// SPDX-License-Identifier: MIT
/*
 * audit_fuzz.c: the audit encoder (proxy/audit.c) on arbitrary bytes: audit_json_string() on
 * the whole input, then a whole record made of its NUL-separated pieces through format(), the
 * function that writes each JSON line.
 *
 * Invariants: a string's encoding is one JSON string with no raw control character or newline,
 * quotes balanced by escaping, and it either fits or leaves the output untouched. A record is
 * one line, within the line limit, ending in "}\n", that user/auditlog.c reads back: every field
 * is either left out (it did not fit) or comes back as it went in (when it was UTF-8 without
 * escapes to undo), and every number comes back exactly.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../proxy/audit.c"
#include "user/auditlog.h"

#define N_PARTS 10

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_string(const char *in)
{
	char out[8192];
	size_t len = 0, i;
	int ret;

	ret = audit_json_string(out, sizeof(out), &len, in);
	if (ret == 0) {
		if (len < 2 || out[0] != '"' || out[len - 1] != '"')
			abort();
		for (i = 1; i + 1 < len; i++) {
			if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f)
				abort();
			if (out[i] == '\\')
				i++; /* the escaped character */
			else if (out[i] == '"')
				abort();
		}
	} else if (len != 0) {
		abort();
	}
}

/* A string that comes back from the JSON as it was: UTF-8 with no byte needing \u00XX. */
static bool plain_utf8(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n;

	while (*p) {
		n = utf8_seq_len(p);
		if (n == 0)
			return false;
		p += n;
	}
	return true;
}

/* A field is left out or comes back the same. */
static void check_field(const char *in, const char *out)
{
	if (!out)
		return;
	if (!in || (plain_utf8(in) && strcmp(in, out) != 0))
		abort();
}

static void check_record(const char *part[N_PARTS], uint32_t h)
{
	/* the proxy's events are short constants: one always fits */
	static const char *const events[] = {"request", "end", "dns", "stream"};
	static struct audit a;
	static char dec[AUDIT_LINE + 1];
	char line[AUDIT_LINE];
	struct audit_record r = {
	    .event = events[h % 4],
	    .decision = part[0],
	    .kind = part[1],
	    .method = part[2],
	    .url = part[3],
	    .host = part[4],
	    .port = (uint16_t)h,
	    .rule = part[5],
	    .reason = part[6],
	    .pid = h >> 3,
	    .comm = part[7],
	    .status = (int)(h % 600),
	    .bytes_up = (uint64_t)h << 31,
	    .bytes_down = h >> 7,
	    .duration_ms = (int64_t)(h % 5) - 1,
	    .dns_type = part[8],
	    .has_sequence = h & 1,
	    .sequence = (int32_t)(h >> 1),
	    .exe = part[3], /* a path has any bytes but NUL: the url's will do */
	};
	struct auditlog_record back;
	size_t len, pos;

	memset(&a, 0, sizeof(a));
	snprintf(a.jail_id, sizeof(a.jail_id), "%s", part[9] ? part[9] : "");
	/* read back by nothing yet: the line must stay strict JSON with them */
	snprintf(a.session_id, sizeof(a.session_id), "%s", part[6] ? part[6] : "");
	len = format(&a, &r, line, sizeof(line) - 2);
	if (len < 3 || len > sizeof(line) || line[len - 1] != '\n' || line[len - 2] != '}')
		abort();
	if (memchr(line, '\n', len - 1) || memchr(line, '\0', len))
		abort();
	if (auditlog_parse(line, len - 1, &back, dec, sizeof(dec), &pos) != (ssize_t)(len - 1))
		abort();
	/* "time" always fits; the fields after it go in while there is room */
	if (!back.time)
		abort();
	if (!back.event || strcmp(back.event, r.event) != 0)
		abort();
	check_field(r.decision, back.decision);
	check_field(r.kind, back.kind);
	check_field(r.method, back.method);
	check_field(r.url, back.url);
	check_field(r.host, back.host);
	check_field(r.rule, back.rule);
	check_field(r.reason, back.reason);
	check_field(r.comm, back.comm);
	check_field(r.exe, back.exe);
	check_field(r.dns_type, back.dns_type);
	check_field(a.jail_id, back.jail);
	if ((back.port != -1 && back.port != r.port) ||
	    (back.status != -1 && back.status != r.status) ||
	    (back.pid != -1 && back.pid != r.pid) ||
	    (back.duration_ms != -1 && back.duration_ms != r.duration_ms) ||
	    (back.bytes_up != -1 && (uint64_t)back.bytes_up != r.bytes_up) ||
	    (back.bytes_down != -1 && (uint64_t)back.bytes_down != r.bytes_down))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *part[N_PARTS] = {0};
	char *in = malloc(size + 1);
	uint32_t h = 2166136261u;
	size_t i, n = 0;

	if (!in)
		return 0;
	memcpy(in, data, size);
	in[size] = '\0';
	check_string(in);
	for (i = 0; i < size; i++)
		h = (h ^ data[i]) * 16777619u;
	/* the pieces between NULs; an empty piece is a field left out */
	for (i = 0; i <= size && n < N_PARTS; i++) {
		if (i == 0 || in[i - 1] == '\0') {
			part[n] = in[i] ? in + i : NULL;
			n++;
		}
	}
	check_record(part, h);
	free(in);
	return 0;
}
