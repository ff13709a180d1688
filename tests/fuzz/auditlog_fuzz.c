// SPDX-License-Identifier: MIT
/*
 * auditlog_fuzz.c: the audit record reader (user/auditlog.c) on arbitrary bytes, then the same
 * bytes as a whole log through `boundary log summary` (user/summary.c). Invariants: a line is
 * either refused with a known code at a position inside it, or read into a record whose event is
 * set, whose strings lie in the decode buffer and are valid UTF-8 with no NUL, and whose numbers
 * are in range; written back with proxy/audit.c's encoder and read again, every string comes
 * back the same. The summary of any input writes both outputs without failing.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/audit.h"
#include "user/auditlog.h"
#include "user/summary.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define N_STR 12

static void strings_of(const struct auditlog_record *r, const char *s[N_STR])
{
	s[0] = r->time;
	s[1] = r->event;
	s[2] = r->decision;
	s[3] = r->kind;
	s[4] = r->method;
	s[5] = r->url;
	s[6] = r->host;
	s[7] = r->dns_type;
	s[8] = r->rule;
	s[9] = r->reason;
	s[10] = r->comm;
	s[11] = r->jail;
}

static const char *const keys[N_STR] = {"time", "event",    "decision", "kind",	  "method", "url",
					"host", "dns_type", "rule",	"reason", "comm",   "jail"};

static bool valid_utf8(const unsigned char *p)
{
	while (*p) {
		if (*p < 0x80) {
			p++;
		} else if (*p >= 0xc2 && *p <= 0xdf && (p[1] & 0xc0) == 0x80) {
			p += 2;
		} else if (*p >= 0xe0 && *p <= 0xef && (p[1] & 0xc0) == 0x80 &&
			   (p[2] & 0xc0) == 0x80 && !(*p == 0xe0 && p[1] < 0xa0) &&
			   !(*p == 0xed && p[1] > 0x9f)) {
			p += 3;
		} else if (*p >= 0xf0 && *p <= 0xf4 && (p[1] & 0xc0) == 0x80 &&
			   (p[2] & 0xc0) == 0x80 && (p[3] & 0xc0) == 0x80 &&
			   !(*p == 0xf0 && p[1] < 0x90) && !(*p == 0xf4 && p[1] > 0x8f)) {
			p += 4;
		} else {
			return false;
		}
	}
	return true;
}

static void check_record(const struct auditlog_record *r, const char *dec, size_t declen,
			 size_t size)
{
	const char *s[N_STR], *s2[N_STR];
	static char line[8 * AUDITLOG_MAX_LINE], dec2[8 * AUDITLOG_MAX_LINE + 1];
	struct auditlog_record r2;
	size_t i, len = 0, pos;
	ssize_t n;

	if (!r->event)
		abort();
	if (r->port < -1 || r->port > 65535 || r->pid < -1 || r->status < -1 || r->bytes_up < -1 ||
	    r->bytes_down < -1 || r->duration_ms < -1 || r->count < -1)
		abort();
	strings_of(r, s);
	for (i = 0; i < N_STR; i++) {
		if (!s[i])
			continue;
		if (s[i] < dec || s[i] >= dec + declen || strlen(s[i]) > size)
			abort();
		if (!valid_utf8((const unsigned char *)s[i]))
			abort();
	}

	/* Written back as the proxy writes records, it reads the same. */
	line[len++] = '{';
	for (i = 0; i < N_STR; i++) {
		if (!s[i])
			continue;
		len += (size_t)snprintf(line + len, sizeof(line) - len,
					"%s\"%s\":", len > 1 ? "," : "", keys[i]);
		if (audit_json_string(line, sizeof(line), &len, s[i]) != 0)
			abort();
	}
	line[len++] = '}';
	if (len > AUDITLOG_MAX_LINE)
		return; /* escaping made it longer than a line may be */
	n = auditlog_parse(line, len, &r2, dec2, sizeof(dec2), &pos);
	if (n != (ssize_t)len)
		abort();
	strings_of(&r2, s2);
	for (i = 0; i < N_STR; i++) {
		if (!s[i] != !s2[i] || (s[i] && strcmp(s[i], s2[i]) != 0))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char dec[AUDITLOG_MAX_LINE + 1];
	static FILE *null;
	struct auditlog_record r;
	struct summary *s;
	size_t pos = SIZE_MAX;
	ssize_t n;
	FILE *in;

	n = auditlog_parse((const char *)data, size, &r, dec, sizeof(dec), &pos);
	if (n >= 0) {
		if (n != (ssize_t)size || size == 0)
			abort();
		check_record(&r, dec, sizeof(dec), size);
	} else {
		if (n < -AUDITLOG_E_TOO_LONG || pos > size)
			abort();
		if (strcmp(auditlog_strerror((int)n), "unknown error") == 0)
			abort();
	}

	/* The same bytes as a log of many lines. */
	if (!null)
		null = fopen("/dev/null", "w");
	s = summary_new();
	in = size ? fmemopen((void *)(uintptr_t)data, size, "r") : NULL;
	if (!s || !null || (size && !in))
		abort();
	if (in) {
		if (summary_read(s, in, "fuzz") != 0)
			abort();
		fclose(in);
	}
	if (summary_write_table(s, null) != 0 || summary_write_json(s, null) != 0)
		abort();
	summary_free(s);
	return 0;
}
