/* SPDX-License-Identifier: MIT */
/*
 * policy.h: a second opinion on requests the allow rules refuse, given by
 *
 * - a rules program (--rules-program, httpjail's --proc "line processor"): one long-lived
 *   process reads one JSON object per request on its stdin and writes one line per request on
 *   its stdout: true, false, or {"allow": false, "deny_message": "..."}; or
 * - the person at boundary's terminal (--interactive): "allow api.example.com?
 *   [once/always/deny]" on /dev/tty; "always" adds domain=HOST for the rest of the run and
 *   appends it to the --save-rules file. The same person may answer from another terminal
 *   through a unix socket of theirs (`boundary approvals`, `boundary approve ID ANSWER`):
 *   the only way when the command owns the terminal (a full-screen agent), or when boundary
 *   has none.
 *
 * One thread of its own serves the questions in turn, so neither a slow program nor a person
 * ever blocks a proxy worker: the worker hands a job to policy_ask() and parks the connection;
 * the job's done() is called on the policy thread once it is answered (always exactly once,
 * also when boundary stops), and the worker is woken from there.
 */
#ifndef BOUNDARY_PROXY_POLICY_H
#define BOUNDARY_PROXY_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct policy;

enum policy_mode {
	POLICY_PROGRAM, /* a rules program decides */
	POLICY_PERSON,	/* the person at boundary's terminal decides */
	POLICY_JS,	/* a JavaScript expression (--js, --js-file) decides, in an evaluator */
	POLICY_SH,	/* a script run per request (--sh) decides by its exit status */
};

/* Where the person answers (--interactive=MODE). */
enum policy_ask {
	POLICY_ASK_AUTO, /* the terminal while the command does not read it itself; else the socket */
	POLICY_ASK_TERMINAL, /* the terminal, pausing a full-screen command for the question */
	POLICY_ASK_SOCKET,   /* the socket only (boundary approvals from another terminal) */
};

/* The person's socket: <POLICY_SOCKET_ROOT>/<uid>/<boundary's pid>.sock, hidden in the jail. */
#define POLICY_SOCKET_ROOT "/run/boundary-approvals"

struct policy_config {
	enum policy_mode mode;
	const char *program; /* POLICY_PROGRAM: a path, or a shell command when it has a space */
	bool drop;	     /* run the program as uid:gid (not root) */
	uid_t uid;
	gid_t gid;
	const char *save_rules; /* POLICY_PERSON: "always" rules are appended here; NULL: none */
	unsigned timeout_ms;	/* one reply of the program (default 5 s); POLICY_PERSON: how long
				 * a request waits for an answer (--interactive-timeout, 60 s);
				 * POLICY_JS: the time budget of one evaluation (200 ms);
				 * POLICY_SH: one run of the script (30 s) */
	/* POLICY_JS: the code (compile-checked by policy_new), its name in messages ("--js" or the
	 * file's path), the evaluator's memory cap in bytes (default 32 MiB) */
	const char *js_code;
	const char *js_name;
	size_t js_memory;
	/* POLICY_JS: boundary's executable, run as the evaluator; NULL: this process's own */
	const char *evaluator;
	/* POLICY_JS, POLICY_SH: evaluators (scripts) at work at once, one per proxy worker; 0: 1 */
	unsigned lanes;
	enum policy_ask ask; /* POLICY_PERSON: where the person answers */
	uid_t owner;	     /* POLICY_PERSON: the one user (besides root) the socket serves */
	gid_t owner_gid;
};

/* One question and, once done() is called, its answer. The caller owns it throughout. */
struct policy_job {
	struct policy_job *next; /* the policy thread's while it is queued */
	/* the request, filled by the caller; strings NUL-terminated */
	char method[32];
	char scheme[8];	 /* "http" or "https" */
	char host[264];	 /* without the port */
	uint16_t port;	 /* the port the request goes to */
	char path[1024]; /* without the query */
	char url[1024];
	char requester_ip[48];
	uint32_t pid; /* of the process that made the connection; 0: not known */
	char comm[16];
	/* the answer, filled before done() */
	bool allow;
	const char *by;	   /* "rules program", "--js rule", "--sh script" or "the person at ..." */
	char message[512]; /* on deny: why, for the 403 and the log */
	char rule[300];	   /* on allow: what allowed it, for the log and the audit record */
	void (*done)(struct policy_job *j);
	/* on allow: {"allow": {"max_tx_bytes": N}}'s N, the most body bytes it may carry; 0: any */
	uint64_t max_tx_bytes;
	/* the executable of that process (its path, or "dev MAJ:MIN inode N"); "": not known */
	char exe[256];
	/* the policy thread's: the number `boundary approvals` shows, when it came, whether it
	 * waits for the socket only */
	uint32_t id;
	uint64_t since_ms;
	bool socket_only;
};

/*
 * Starts the service: the program is started now (so a program that cannot be run stops
 * boundary before the command starts), the terminal opened now (no controlling terminal is an
 * error). Returns NULL with err filled.
 */
struct policy *policy_new(const struct policy_config *cfg, char *err, size_t errlen);

/*
 * The jail the command runs in: its cgroup (a directory under the cgroup2 mount), frozen while a
 * question is on the terminal when the command has the terminal in raw mode. Call once, before
 * the command starts.
 */
void policy_set_jail(struct policy *p, const char *cg_path);

/* Queues j (the caller keeps ownership; j must live until its done() has been called). */
void policy_ask(struct policy *p, struct policy_job *j);

/* True when the person at the terminal answers, false for a rules program. */
bool policy_asks_person(const struct policy *p);

/* What decides, for people: "rules program", "--js rule", "--sh script", "person". */
const char *policy_engine(const struct policy *p);

/*
 * Asks and waits for the answer (boundary --test): j->done is set here. Not on a proxy worker.
 */
void policy_ask_wait(struct policy *p, struct policy_job *j);

/*
 * POLICY_JS: replaces the code with code, once it compiles; evaluations already running finish
 * with the old code, the next ones use the new. Returns 0, or -EINVAL with err filled (the old
 * code stays).
 */
int policy_js_reload(struct policy *p, const char *code, char *err, size_t errlen);

/* How long a job may take at most before done() is called, in ms: for the caller's timer. */
unsigned policy_wait_ms(const struct policy *p);

/*
 * Stops the thread, answers every job still waiting with a deny, stops the program. Accepts
 * NULL.
 */
void policy_free(struct policy *p);

/*
 * Parses one reply of a rules program (line, len bytes, no newline) into j->allow and
 * j->message, as httpjail does: true/false (bare or as JSON strings), {"allow": true|false|{...},
 * "deny_message": "..."} ({} allows), and anything else denies with the text as the message.
 * Exposed for the unit tests.
 */
void policy_parse_reply(const char *line, size_t len, struct policy_job *j);

/*
 * The request as the one JSON line sent to a rules program (newline included) into out.
 * Returns its length, or 0 when it does not fit. Exposed for the unit tests.
 */
size_t policy_request_json(const struct policy_job *j, char *out, size_t cap);

#endif /* BOUNDARY_PROXY_POLICY_H */
