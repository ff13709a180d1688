/* SPDX-License-Identifier: MIT */
/*
 * auditsink.h: audit records sent to a log pipeline that already exists: journald, a syslog
 * daemon or collector, an OpenTelemetry collector. `--audit-log` names one:
 *
 *   journald                       native records through libsystemd (sd_journal_sendv)
 *   syslog                         RFC 5424 to /dev/log (a Unix datagram socket)
 *   syslog:/PATH                   RFC 5424 to another Unix datagram socket
 *   syslog:udp://HOST:PORT         one datagram per record (RFC 5426)
 *   syslog:tcp://HOST:PORT         octet-counted frames (RFC 6587), reconnected with back-off
 *   otlp+http://HOST:PORT[/PATH]   OTLP/HTTP logs, JSON encoding, POSTed to /v1/logs by default
 *
 * Built like the Coder agent's sink (agentlog.h): the proxy's threads encode a record
 * (auditfmt.h) and queue it without ever blocking; one writer thread of the sink's own does
 * all the I/O. A full queue drops the newest record (the first records of an incident are the
 * telling ones, and the proxy's thread frees only what it made) and counts it; the writer says
 * so in the log at most every 10 s. Datagram sinks (journald, /dev/log, UDP) drop a record that
 * cannot be sent; TCP and OTLP keep what they hold and try again with exponential back-off
 * (0.5 s doubling to 30 s), OTLP on a failed connection, a 429 or a 5xx, while new records wait
 * in the queue. At the end the writer sends what is left within a bounded time and logs one
 * line with what was dropped.
 */
#ifndef BOUNDARY_PROXY_AUDITSINK_H
#define BOUNDARY_PROXY_AUDITSINK_H

#include <stddef.h>

struct audit_record;
struct auditsink;

#define AUDITSINK_QUEUE	     4096 /* records waiting for the writer */
#define AUDITSINK_BATCH	     512  /* OTLP: the most records in one request */
#define AUDITSINK_FLUSH_MS   1000 /* OTLP: a batch waits at most this long after its first record */
#define AUDITSINK_TIMEOUT_MS 3000 /* one connect, send or answer, at most */
#define AUDITSINK_DRAIN_MS   2000 /* at the end, what is left is sent within about this long */
#define AUDITSINK_SAY_MS     10000 /* drops are said at most this often */

enum auditsink_kind {
	AUDITSINK_JOURNALD = 1,
	AUDITSINK_SYSLOG,
	AUDITSINK_OTLP,
};

enum auditsink_net {
	AUDITSINK_NET_NONE = 0, /* journald: libsystemd knows where */
	AUDITSINK_NET_UNIX,	/* a Unix datagram socket at path */
	AUDITSINK_NET_UDP,
	AUDITSINK_NET_TCP,
	AUDITSINK_NET_HTTP, /* plain HTTP/1.1 to host:port, path */
};

/* Where a sink sends, as auditsink_parse() read it. */
struct auditsink_spec {
	enum auditsink_kind kind;
	enum auditsink_net net;
	char path[108];	      /* UNIX: the socket's path */
	char host[256];	      /* UDP, TCP, HTTP: a name or an address, without brackets */
	char port[6];	      /* decimal, 1..65535 */
	char http_path[1024]; /* HTTP: the request target, "/v1/logs" by default */
};

/*
 * Reads an --audit-log value. Returns 1 when it names a sink (out filled), 0 when it is not one
 * (a file, a directory or "-": out untouched), or -EINVAL with err filled for a person when it
 * starts like a sink but is not a valid one ("syslog:ftp://x", "otlp+https://...": not
 * supported, with what to do instead).
 */
int auditsink_parse(const char *s, struct auditsink_spec *out, char *err, size_t errlen);

/* The sink named for people: "journald", "syslog udp://127.0.0.1:514", "OTLP http://..." */
void auditsink_spec_str(const struct auditsink_spec *spec, char *out, size_t len);

struct auditsink_config {
	struct auditsink_spec spec;
	const char *jail_id;	/* in every record; copied */
	const char *session_id; /* in every record; copied */
	/* 0 for each of these means the default above; tests make them small */
	unsigned queue, batch, flush_ms, timeout_ms, drain_ms;
};

/*
 * Starts the writer thread. Nothing is connected yet and nothing need listen: a sink that is
 * down drops or retries as above. Returns NULL with err filled when a thread cannot be
 * started or memory is short.
 */
struct auditsink *auditsink_new(const struct auditsink_config *cfg, char *err, size_t errlen);

/*
 * Encodes r for the sink and queues it (the time is taken here). Never blocks on I/O; safe from
 * any thread; accepts a NULL s.
 */
void auditsink_push(struct auditsink *s, const struct audit_record *r);

/*
 * Sends what is left within about drain_ms plus one timeout, stops the writer, logs what was
 * dropped ("N audit records dropped: ..."), frees. A writer stuck past that in a call with no
 * deadline (libsystemd's send, a name's resolution) is cancelled or, failing that, left to the
 * process's exit with its sink unfreed: this returns in bounded time. Accepts NULL.
 */
void auditsink_free(struct auditsink *s);

/* The sink named for people, as auditsink_spec_str() names it. */
const char *auditsink_name(const struct auditsink *s);

#endif /* BOUNDARY_PROXY_AUDITSINK_H */
