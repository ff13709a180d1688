/* SPDX-License-Identifier: MIT */
/*
 * agentlog.h: decisions sent to the Coder workspace agent, which forwards them to the Coder
 * control plane ("audit logs streamed to the control plane").
 *
 * The agent listens on a Unix stream socket. Each frame on it is a 4-byte big-endian header,
 * tag << 24 | length, with tag 2 and a length of at most 32768, then that many bytes: one
 * serialised BoundaryMessage (proxy/coder_agent.proto), which carries either a batch of
 * decisions (ReportBoundaryLogsRequest) or the counts of records dropped (BoundaryStatus).
 *
 * Batching is Coder's own boundary's: up to 10 records a batch, sent when the batch is full,
 * 5 s after its first record, or at the end. The proxy's threads queue records without ever
 * blocking, and one writer thread of this module does all the socket I/O. A full queue drops
 * the record; a full batch that cannot be sent drops the next one; both are counted, and the
 * counts are sent after the next batch that is written. With no connection the writer tries
 * again at the next timer; a write that fails closes the connection and keeps the batch for
 * the next try. A batch too big for one frame goes out in several.
 */
#ifndef BOUNDARY_PROXY_AGENTLOG_H
#define BOUNDARY_PROXY_AGENTLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AGENTLOG_TAG	   2	 /* the frame tag for a BoundaryMessage (Coder's TagV2) */
#define AGENTLOG_FRAME_MAX 32768 /* the most bytes after a frame's header */
#define AGENTLOG_FIELD_MAX 8192	 /* method, URL and rule are cut to this many bytes */
#define AGENTLOG_BATCH	   10	 /* records in a batch */
#define AGENTLOG_FLUSH_MS  5000	 /* a batch waits at most this long after its first record */
#define AGENTLOG_QUEUE	   20	 /* records waiting for the writer (Coder's channel: 2 batches) */
#define AGENTLOG_DRAIN_MS  2000	 /* at the end, what is left is sent within about this long */

struct agentlog;

struct agentlog_config {
	const char *socket_path;  /* the agent's socket */
	const char *session_id;	  /* in every batch; copied */
	const char *process_name; /* in every batch; NULL or "" leaves it out; copied */
	/* 0 for each of these means the default above; tests make them small */
	unsigned batch;
	unsigned flush_ms;
	unsigned queue;
	unsigned drain_ms;
};

/*
 * Starts the writer thread, which connects at once (and at each timer while it cannot). It
 * does not fail when nothing listens at socket_path. Returns NULL with err filled when the path
 * does not fit a Unix socket address or a thread cannot be started.
 */
struct agentlog *agentlog_new(const struct agentlog_config *cfg, char *err, size_t errlen);

/*
 * Queues one decision on an HTTP request (a CONNECT too): the sequence number the proxy gave
 * it (the one its session fields and JSON record carry; a record dropped here leaves a gap),
 * its method, its full URL and, when allowed, the rule that allowed it (rule is ignored for a
 * denial; NULL strings are left out). Takes the time. Records go out in the order they are
 * pushed, which for requests decided at the same moment by different workers need not be the
 * order of their numbers. The strings are copied, made UTF-8 (a byte that is not becomes %XX)
 * and cut to AGENTLOG_FIELD_MAX bytes. Never blocks on I/O; safe from any thread; accepts a
 * NULL l.
 */
void agentlog_push(struct agentlog *l, int32_t seq, bool allowed, const char *method,
		   const char *url, const char *rule);

/*
 * Sends what is queued and batched, giving up after about drain_ms (what is left is dropped and
 * logged), stops the writer and closes the connection. Accepts NULL.
 */
void agentlog_free(struct agentlog *l);

#endif /* BOUNDARY_PROXY_AGENTLOG_H */
