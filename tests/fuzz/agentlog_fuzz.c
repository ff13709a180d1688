// SPDX-License-Identifier: MIT
/*
 * agentlog_fuzz.c: the Coder agent's encoder (proxy/agentlog.c): clean() on arbitrary strings,
 * then a batch of records packed into a frame by encode_logs() and a status by encode_status(),
 * each read back with protoc-c's own decoder.
 *
 * Input: one flags byte, then NUL-separated strings: the session id, the process name, and
 * (method, URL, rule) for each record. Invariants checked, beyond "no crash, no leak, no UB":
 * a cleaned string is valid UTF-8 within its limit and a prefix of what cleaning the whole would
 * give; a frame has tag 2 and a length within AGENTLOG_FRAME_MAX, holds at least one record and
 * decodes to exactly the records, session and process name that went in, in order.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../proxy/agentlog.c"

#define MAX_REC	  12
#define MAX_PARTS (2 + 3 * MAX_REC)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "invariant broken: %s\n", what);
		abort();
	}
}

static bool valid_utf8(const char *s)
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

static bool same_str(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") == 0;
}

/* Checks clean() on s with the limit max against the result without a limit. */
static void check_clean(const char *s, size_t max)
{
	size_t full = clean(NULL, s, SIZE_MAX / 4), n;
	char *a = malloc(full + 1), *b = malloc(max + 1);

	if (!a || !b)
		goto out;
	check(clean(a, s, SIZE_MAX / 4) == full && strlen(a) == full,
	      "clean counts what it writes");
	n = clean(b, s, max);
	check(n <= max && strlen(b) == n, "clean stays within its limit");
	check(valid_utf8(a) && valid_utf8(b), "clean gives UTF-8");
	check(memcmp(a, b, n) == 0, "a cut clean is a prefix of the whole");
out:
	free(a);
	free(b);
}

static void check_status(int64_t q, int64_t b)
{
	uint8_t out[64];
	size_t len = encode_status(q, b, out);
	Boundary__Agent__BoundaryMessage *m;

	check(len >= 4 && len <= sizeof(out), "status frame size");
	check(out[0] == AGENTLOG_TAG &&
		  ((size_t)out[1] << 16 | (size_t)out[2] << 8 | out[3]) == len - 4,
	      "status frame header");
	m = boundary__agent__boundary_message__unpack(NULL, len - 4, out + 4);
	check(m && m->msg_case == BOUNDARY__AGENT__BOUNDARY_MESSAGE__MSG_STATUS && m->status &&
		  m->status->dropped_channel_full == q && m->status->dropped_batch_full == b,
	      "status decodes the same");
	boundary__agent__boundary_message__free_unpacked(m, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct agentlog l;
	static Boundary__Agent__BoundaryLog logs[MAX_REC], *ptrs[MAX_REC];
	static Boundary__Agent__HttpRequest reqs[MAX_REC];
	static Boundary__Agent__Timestamp times[MAX_REC];
	struct entry *batch[MAX_REC];
	const char *part[MAX_PARTS];
	size_t n_part = 0, n_rec, i, len, plen, rep, done;
	Boundary__Agent__BoundaryMessage *m;
	Boundary__Agent__ReportBoundaryLogsRequest *r;
	char *buf, *url;
	uint8_t flags;
	int k;

	if (size < 1)
		return 0;
	flags = data[0];
	buf = malloc(size);
	if (!buf)
		return 0;
	memcpy(buf, data + 1, size - 1);
	buf[size - 1] = '\0';
	for (i = 0; i < size - 1 && n_part < MAX_PARTS; i++) {
		if (i == 0 || buf[i - 1] == '\0')
			part[n_part++] = buf + i;
	}
	if (n_part < 2) {
		free(buf);
		return 0;
	}
	check_clean(part[0], SESSION_MAX);
	check_clean(part[1], PROCESS_MAX);

	memset(&l, 0, sizeof(l));
	clean(l.session, part[0], SESSION_MAX);
	clean(l.process, part[1], PROCESS_MAX);
	l.pb_logs = logs;
	l.pb_ptrs = ptrs;
	l.pb_reqs = reqs;
	l.pb_times = times;
	/* Long URLs (the flags repeat each one) make a batch spill into several frames. */
	rep = 1 + (flags >> 4);
	n_rec = (n_part - 2) / 3;
	for (i = 0; i < n_rec; i++) {
		plen = strlen(part[3 + 3 * i]);
		url = malloc(plen * rep + 1);
		if (!url)
			break;
		for (len = 0; len < rep; len++)
			memcpy(url + len * plen, part[3 + 3 * i], plen);
		url[plen * rep] = '\0';
		check_clean(url, AGENTLOG_FIELD_MAX);
		batch[i] = entry_new(flags >> (i % 4) & 1, part[2 + 3 * i], url, part[4 + 3 * i]);
		free(url);
		if (!batch[i])
			break;
		batch[i]->seq = (int32_t)(i * 2654435761u);
		batch[i]->sec = (int64_t)i * 1000003 - (flags & 1);
		batch[i]->nsec = (int32_t)(i * 7919 % 1000000000);
	}
	n_rec = i;

	for (done = 0; done < n_rec; done += (size_t)k) {
		k = encode_logs(&l, batch + done, n_rec - done, l.frame, &len);
		check(k >= 1 && (size_t)k <= n_rec - done, "a frame holds at least one record");
		check(len >= 4 && len <= sizeof(l.frame), "frame size");
		check(l.frame[0] == AGENTLOG_TAG &&
			  ((size_t)l.frame[1] << 16 | (size_t)l.frame[2] << 8 | l.frame[3]) ==
			      len - 4,
		      "frame header");
		m = boundary__agent__boundary_message__unpack(NULL, len - 4, l.frame + 4);
		check(m && m->msg_case == BOUNDARY__AGENT__BOUNDARY_MESSAGE__MSG_LOGS && m->logs,
		      "the frame decodes");
		r = m->logs;
		check(r->n_logs == (size_t)k, "as many records as went in");
		check(same_str(r->session_id, l.session) &&
			  same_str(r->confined_process_name, l.process),
		      "session and process decode the same");
		for (i = 0; i < (size_t)k; i++) {
			const struct entry *e = batch[done + i];
			const Boundary__Agent__BoundaryLog *g = r->logs[i];

			check(g->allowed == e->allowed && g->sequence_number == e->seq && g->time &&
				  g->time->seconds == e->sec && g->time->nanos == e->nsec,
			      "record decodes the same");
			check(g->resource_case ==
				      BOUNDARY__AGENT__BOUNDARY_LOG__RESOURCE_HTTP_REQUEST &&
				  g->http_request,
			      "record is an HTTP request");
			check(same_str(g->http_request->method, e->method) &&
				  same_str(g->http_request->url, e->url) &&
				  same_str(g->http_request->matched_rule, e->rule),
			      "request strings decode the same");
			check(e->allowed || !e->rule[0], "no rule behind a denial");
		}
		boundary__agent__boundary_message__free_unpacked(m, NULL);
	}
	for (i = 0; i < n_rec; i++)
		free(batch[i]);
	check_status((int64_t)(flags * 0x0101010101010101ull), -(int64_t)size);
	free(buf);
	return 0;
}
