/* SPDX-License-Identifier: MIT */
/*
 * audit.h: the audit stream, a record of every decision boundary makes, to up to three sinks:
 *
 * - a file (or stdout): one JSON object per line for every record. Records are formatted by
 *   the caller's thread and handed to a writer thread through a bounded queue, so a slow disk or
 *   reader never blocks the proxy: when the queue is full, records are dropped and counted, and
 *   the count is written as a record of its own as soon as there is room. Each record is
 *   written with one write(2), so lines never interleave or sit in a buffer.
 * - a log pipeline (auditsink.h): journald, syslog or an OpenTelemetry collector, every record,
 *   encoded by the caller's thread (auditfmt.h) and sent by a writer thread of the sink's own
 *   that never blocks the proxy, drops what it cannot hold and counts it.
 * - the Coder workspace agent's socket (agentlog.h): the decisions on HTTP requests only
 *   (event "request", decision "allow" or "deny", CONNECT included), each with the sequence
 *   number the proxy gave it, in the agent's protobuf frames, batched by a writer thread of its
 *   own that never blocks the proxy either.
 */
#ifndef BOUNDARY_PROXY_AUDIT_H
#define BOUNDARY_PROXY_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct audit;
struct auditsink_spec;

/*
 * One decision. Strings may be NULL (left out of the record). Times are filled in by
 * audit_write(). event is "request" (the decision: on an HTTP request, or on a whole connection
 * under stream rules), "end" (an allowed exchange or stream finished: status, bytes, duration;
 * the second record of a pair, so the first is never held back) or "dns" (a query).
 */
struct audit_record {
	const char *event;
	const char *decision; /* "allow" or "deny"; for "dns": "synthetic", "forwarded", "deny" */
	const char *kind;     /* "http", "https", "connect", "dns", "tcp", "tls" (a stream) */
	const char *method;
	const char *url;
	const char *host;
	uint16_t port;
	const char *rule; /* the matching rule, as written */
	const char *reason;
	uint32_t pid;
	const char *comm;
	const char *client; /* an explicit proxy client's address and port, or NULL */
	int status;	    /* HTTP status sent to the client, 0 if none */
	uint64_t bytes_up, bytes_down;
	int64_t duration_ms; /* -1: not known */
	const char *dns_type;
	bool would_deny;	/* --dry-run let through what the rules refuse: "would_deny":true */
	const char *decided_by; /* not the rules but "program" or "person": "decided_by" */
	/*
	 * A decision on an HTTP request (and the "end" of its exchange) has a sequence number:
	 * "sequence", the number the Coder agent gets and the session fields carry.
	 */
	bool has_sequence;
	int32_t sequence; /* 0..INT32_MAX */
	/* a request that came as an HTTP/2 stream: "http":"2" and "stream_id"; 0: HTTP/1 */
	int32_t h2_stream;
	/*
	 * The executable of the process (its path, or "dev MAJ:MIN inode N" when no path is
	 * known to name it still), for writing exe= rules: "exe". NULL: not known.
	 */
	const char *exe;
};

/* Where the records go. Any sink may be left out, not all. */
struct audit_config {
	const char *path;	  /* JSON lines: "-" (stdout), a directory or a file; NULL: none */
	const char *agent_socket; /* the Coder agent's Unix socket; NULL: none */
	const char *jail_id;	  /* put in every JSON record */
	const char *session_id;	  /* the run's: in every JSON record and every agent's batch */
	const char *process_name; /* for the agent: the jailed command's name; NULL: none */
	/* journald, syslog or an OTLP collector, as auditsink_parse() read it; NULL: none */
	const struct auditsink_spec *sink;
	/*
	 * boundary k8s-node's attaches: the pod as "NAMESPACE/NAME" (NULL: not a pod), its cgroup as
	 * /proc/PID/cgroup writes it, and a file of "CONTAINER-ID NAME" lines. Every JSON record
	 * then carries "k8s":{"namespace":..,"pod":..,"container":..}, the container found from
	 * the client's pid where it still runs.
	 */
	const char *k8s_pod;
	const char *k8s_cgroup;
	const char *k8s_names;
};

/*
 * Opens the stream. The file: path "-" is stdout; an existing directory gets a new file
 * boundary-audit-YYYY-MM-DD_HH-MM-SS-<pid>.jsonl in it; anything else is a file, appended to
 * (created 0600). The agent's socket need not be listening (agentlog.h says what happens then).
 * Starts the writer threads. Returns NULL with err filled.
 */
struct audit *audit_open(const struct audit_config *cfg, char *err, size_t errlen);

/*
 * Queues one record for each sink that takes it. Never blocks on I/O; safe from any thread;
 * accepts a NULL audit.
 */
void audit_write(struct audit *a, const struct audit_record *r);

/*
 * Writes what is queued (to the agent: within a bounded time), stops the writers, closes.
 * Accepts NULL.
 */
void audit_close(struct audit *a);

/* The path of the JSON lines ("-" for stdout), or NULL when there are none. */
const char *audit_path(const struct audit *a);

/* The pipeline sink named for people ("journald", "syslog /dev/log", ...), or NULL. */
const char *audit_sink_name(const struct audit *a);

/*
 * Appends s to out[*len..cap) as a JSON string (quotes included): quote, backslash and control
 * characters escaped, bytes that are not valid UTF-8 written as \u00XX. Returns 0, or -1 when it
 * does not fit (out is then cut at *len as it was).
 */
int audit_json_string(char *out, size_t cap, size_t *len, const char *s);

#endif /* BOUNDARY_PROXY_AUDIT_H */
