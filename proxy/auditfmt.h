/* SPDX-License-Identifier: MIT */
/*
 * auditfmt.h: an audit record (audit.h) in the formats of the pipelines fleets already run,
 * for the sinks of auditsink.c: journald's fields, an RFC 5424 syslog line, an OpenTelemetry
 * log record in OTLP/HTTP's JSON encoding. Pure: no I/O, no allocation, no clock (the caller
 * passes the record's time), so each encoder is tested byte for byte.
 *
 * Every field of the JSON record is carried by every format, under the same name as in JSON
 * (journald: upper case with BOUNDARY_; OTLP: OpenTelemetry's semantic names where one fits,
 * else boundary.NAME), and nothing else: the records are redacted before they are made (no
 * secret's value is in a record), so no encoder needs to know about secrets.
 *
 * Each encoder writes into out[0..cap) and returns the length written. A field whose value does
 * not fit is left out whole, never cut in the middle of an escape; the human line (the message)
 * is cut instead, so a record always says what happened.
 */
#ifndef BOUNDARY_PROXY_AUDITFMT_H
#define BOUNDARY_PROXY_AUDITFMT_H

#include <stddef.h>
#include <time.h>

struct audit_record;

#define AUDITFMT_MAX	  8192		   /* the most bytes of one encoded record */
#define AUDITFMT_SD_ID	  "boundary@32473" /* RFC 5424 SD-ID: 32473 is the documentation PEN */
#define AUDITFMT_FACILITY 1		   /* syslog facility "user" */

/* What is the same for every record of a run. */
struct auditfmt_run {
	const char *jail_id;	/* NULL or "": left out */
	const char *session_id; /* NULL or "": left out */
	const char *hostname;	/* syslog's HOSTNAME; NULL or "": "-" */
	long pid;		/* syslog's PROCID: boundary's own pid */
};

/*
 * The human line: "DENY GET http://x.test/a from curl (pid 12): no rule matches" and the like,
 * printable ASCII only (any other byte written as %XX), so it fits syslog's MSG without a BOM
 * and a terminal without surprises. Always NUL-terminated; returns the length.
 */
size_t auditfmt_message(const struct audit_record *r, char *out, size_t cap);

/*
 * journald's fields, each "NAME=value" followed by a NUL, ready for sd_journal_sendv(): MESSAGE
 * (the human line), PRIORITY (4 for a denial, 6 otherwise), SYSLOG_IDENTIFIER=boundary, and
 * BOUNDARY_EVENT, BOUNDARY_DECISION, BOUNDARY_KIND, BOUNDARY_METHOD, BOUNDARY_URL, BOUNDARY_HOST,
 * BOUNDARY_PORT, BOUNDARY_DNS_TYPE, BOUNDARY_RULE, BOUNDARY_REASON, BOUNDARY_WOULD_DENY=1,
 * BOUNDARY_DECIDED_BY, BOUNDARY_HTTP, BOUNDARY_STREAM_ID, BOUNDARY_STATUS, BOUNDARY_CLIENT_PID
 * (the jailed process; journald's _PID is the sender's and cannot be set), BOUNDARY_PROCESS
 * (its comm), BOUNDARY_EXE, BOUNDARY_CLIENT, BOUNDARY_BYTES_UP, BOUNDARY_BYTES_DOWN,
 * BOUNDARY_DURATION_MS, BOUNDARY_JAIL, BOUNDARY_SESSION_ID, BOUNDARY_SEQUENCE, each when the
 * JSON record has the field. Values are the record's bytes (journald's fields are binary-safe).
 * Sets *n_fields. Returns the length.
 */
size_t auditfmt_journald(const struct auditfmt_run *run, const struct audit_record *r, char *out,
			 size_t cap, size_t *n_fields);

/*
 * One RFC 5424 message, with no trailing newline and no framing (the transport adds those):
 * "<PRI>1 TIMESTAMP HOSTNAME boundary PROCID EVENT [boundary@32473 decision="deny" ...] MSG".
 * PRI is facility user with severity warning for a denial, informational otherwise. The
 * parameters are the JSON record's fields under the same names; a value escapes '"', '\' and
 * ']' with a backslash (§6.3.3), and a control byte or a byte that is not UTF-8 is written
 * as %XX. Returns the length.
 */
size_t auditfmt_syslog(const struct auditfmt_run *run, const struct audit_record *r,
		       const struct timespec *ts, char *out, size_t cap);

/*
 * One OTLP LogRecord as JSON (the protobuf JSON mapping: 64-bit integers as decimal strings):
 * {"timeUnixNano":"...","observedTimeUnixNano":"...","severityNumber":13,"severityText":"WARN",
 * "body":{"stringValue":"<the human line>"},"attributes":[{"key":"...","value":{...}}, ...]}.
 * Severity is WARN (13) for a denial, INFO (9) otherwise. Attributes: http.request.method,
 * url.full, server.address, server.port, http.response.status_code, process.pid,
 * process.executable.name (comm), process.executable.path (exe), client.address, and
 * boundary.NAME for the rest (boundary.event, boundary.decision, boundary.rule, ...). Returns
 * the length, or 0 when even the record's frame does not fit.
 */
size_t auditfmt_otlp_record(const struct audit_record *r, const struct timespec *ts, char *out,
			    size_t cap);

/*
 * The request body around a batch of records: the head (resourceLogs, the resource with
 * service.name=boundary and boundary.jail, boundary.session_id; the scope "boundary"; up to
 * logRecords' "[") and the tail that closes it. Records go between them, joined by ",".
 * The head returns its length, 0 when it does not fit.
 */
size_t auditfmt_otlp_head(const struct auditfmt_run *run, char *out, size_t cap);
#define AUDITFMT_OTLP_TAIL "]}]}]}"

#endif /* BOUNDARY_PROXY_AUDITFMT_H */
