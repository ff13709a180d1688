// SPDX-License-Identifier: MIT
/*
 * decide.c: what the rules say and what follows from it: the audit record of each decision,
 * the sequence number of each decision on an HTTP request and the session fields (session
 * correlation) an allowed one takes upstream, the 403 that refuses a request, a second opinion
 * (--dry-run, a rules program, the person at the terminal) on what the rules refuse, and stream
 * rules, under which a connection no HTTP rule reads is spliced through unread. The rules match
 * itself is rules/'s; reading and writing heads is exchange.c's.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proxy/audit.h"
#include "proxy/conn.h"
#include "proxy/dns.h"
#include "proxy/h2.h"
#include "proxy/log.h"
#include "proxy/secret.h"
#include "proxy/util.h"
#include "rules/rules.h"

static void host_name_only(const char *host, char *out, size_t len);

const char *decide_by_str(enum conn_decider by)
{
	switch (by) {
	case CONN_DECIDED_BY_RULES:
		return NULL;
	case CONN_DECIDED_BY_PROGRAM:
		return "program";
	case CONN_DECIDED_BY_PERSON:
		return "person";
	}
	return NULL;
}

const char *decide_stream_str(enum conn_stream kind)
{
	switch (kind) {
	case CONN_STREAM_NONE:
		return NULL;
	case CONN_STREAM_TCP:
		return "tcp";
	case CONN_STREAM_TLS:
		return "tls";
	}
	return NULL;
}

/* --- the sequence number and session correlation --------------------------------------------- */

#define SESSION_FIELD  "X-Coder-Agent-Firewall-Session-Id"
#define SEQUENCE_FIELD "X-Coder-Agent-Firewall-Sequence-Number"

/*
 * A decision on c's request is being made: an HTTP request (a CONNECT too) takes the next
 * sequence number, allowed or not, as coder/boundary's counter does; a stream takes none. An
 * allowed request that an inject target matches (matched as coder/boundary does it: with no
 * method, so only rules without method= match, which are the only ones an inject target may
 * be) will carry the session fields upstream.
 */
static void number_request(struct conn *c, bool allowed)
{
	const struct proxy_config *cfg = conn_cfg(c);
	struct rules_request rq;
	struct rules_decision d;

	c->correlate = false;
	if (c->stream != CONN_STREAM_NONE || !c->method[0]) {
		c->seq = -1;
		return;
	}
	/* coder's int32 goes negative past INT32_MAX; these start again at 0 */
	c->seq = (int32_t)(atomic_fetch_add(&c->w->p->seq, 1) & INT32_MAX);
	if (!allowed || !cfg->inject || !cfg->session_id || !c->path ||
	    strcmp(c->method, "CONNECT") == 0)
		return;
	rules_request_init(&rq, "", c->host, c->path, c->path_len, c->uport);
	rules_match(cfg->inject, &rq, &d);
	c->correlate = d.allow;
	if (d.allow)
		log_debug("%s %s from %s: session %s, sequence number %d (inject target: %s)",
			  c->method, c->url, c->who, cfg->session_id, (int)c->seq, d.raw);
}

bool decide_correlate_drop(const struct conn *c, struct slice name)
{
	return c->correlate && (slice_ieq(name, SESSION_FIELD) || slice_ieq(name, SEQUENCE_FIELD));
}

int decide_correlate_put(const struct conn *c, struct buf *b)
{
	char f[160];
	int n;

	if (!c->correlate)
		return 0;
	n = snprintf(f, sizeof(f), SESSION_FIELD ": %s\r\n" SEQUENCE_FIELD ": %d\r\n",
		     conn_cfg(c)->session_id, (int)c->seq);
	if (n < 0 || (size_t)n >= sizeof(f))
		return -E2BIG;
	return buf_append(b, f, (size_t)n) < 0 ? -E2BIG : 0;
}

/* --- the audit stream ---------------------------------------------------------------------- */

void decide_audit(struct conn *c, const char *event, const char *decision, const char *rule,
		  const char *reason, int status)
{
	struct audit_record r;
	char name[264];
	uint16_t port = 0;
	const char *colon;

	/* Numbered whether or not anything is audited: the session fields carry the number too. */
	if (strcmp(event, "request") == 0)
		number_request(c, strcmp(decision, "allow") == 0);
	if (!conn_cfg(c)->audit)
		return;
	memset(&r, 0, sizeof(r));
	host_name_only(c->host, name, sizeof(name));
	colon = c->host[0] == '[' ? strstr(c->host, "]:") : strrchr(c->host, ':');
	if (colon)
		port = (uint16_t)strtoul(colon + (c->host[0] == '[' ? 2 : 1), NULL, 10);
	r.event = event;
	r.decision = decision;
	r.kind = c->stream != CONN_STREAM_NONE	     ? decide_stream_str(c->stream)
		 : strcmp(c->method, "CONNECT") == 0 ? "connect"
		 : c->client_tls		     ? "https"
						     : "http";
	r.method = c->method[0] ? c->method : NULL;
	r.url = c->url[0] ? c->url : NULL;
	r.host = name[0] ? name : NULL;
	r.port = port ? port : (c->client_tls ? 443 : 80);
	r.rule = rule;
	r.reason = reason;
	r.status = status;
	/* Known for redirected connections, and for the jail's own explicit ones (direct). */
	r.pid = c->have_orig || c->orig.direct ? c->orig.pid : 0;
	r.comm = c->have_orig || c->orig.direct ? c->orig.comm : NULL;
	r.exe = conn_exe(c);
	r.client = c->client[0] ? c->client : NULL;
	r.bytes_up = c->bytes_up;
	r.bytes_down = c->bytes_down;
	r.duration_ms = strcmp(event, "end") == 0 ? (int64_t)(util_now_ms() - c->t_start) : -1;
	r.would_deny = c->would_deny;
	r.decided_by = decide_by_str(c->decided_by);
	/* An HTTP request's number, in its "request" record and the "end" that follows it. */
	r.has_sequence = c->seq >= 0;
	r.sequence = c->seq;
	r.h2_stream = h2_stream_id(c);
	audit_write(conn_cfg(c)->audit, &r);
}

/* The record that closes an allowed exchange, once. */
void decide_audit_end(struct conn *c, int status)
{
	if (!c->audit_open)
		return;
	c->audit_open = false;
	decide_audit(c, "end", "allow", NULL, NULL, status);
}

/* A host without its port, for rules a person would write. */
static void host_name_only(const char *host, char *out, size_t len)
{
	const char *colon;
	size_t n;

	if (host[0] == '[') {
		colon = strchr(host, ']');
		n = colon ? (size_t)(colon - host) + 1 : strlen(host);
	} else {
		colon = strrchr(host, ':');
		n = colon ? (size_t)(colon - host) : strlen(host);
	}
	if (n >= len)
		n = len - 1;
	memcpy(out, host, n);
	out[n] = '\0';
}

/* True if spec is a rule boundary would accept: only those are suggested to a person. */
static bool valid_rule(const char *spec)
{
	return rules_check(spec, NULL, 0) == 0;
}

/* The 403 and its log line and record; rule is the deny rule that decided, or NULL. */
/* The response boundary writes for a refused request: what, from whom, why, and how to allow. */
static void blocked(struct conn *c, int status, const char *phrase, const char *why,
		    const char *how)
{
	const char *exe = conn_exe(c);
	char body[4096], proc[400];

	/* The program's file too, so people learn what exe= wants. */
	if (exe)
		snprintf(proc, sizeof(proc), "%s (%s)", c->who, exe);
	else
		snprintf(proc, sizeof(proc), "%s", c->who);
	snprintf(body, sizeof(body),
		 "\xf0\x9f\x9a\xab Request Blocked by Boundary\n\n"
		 "Request: %s %s\n"
		 "Host: %s\n"
		 "Process: %s\n"
		 "Why: %s\n\n"
		 "%s",
		 c->method, c->url, c->host[0] ? c->host : "(none)", proc, why, how);
	exchange_respond(c, status, phrase, body, c->client_close);
}

static void refuse(struct conn *c, const char *reason, const char *rule, const char *how)
{
	log_warn("DENY %s %s from %s: %s", c->method, c->url, c->who, reason);
	decide_audit(c, "request", "deny", rule, reason, 403);
	blocked(c, 403, "Forbidden", reason, how);
}

void decide_refuse_denied(struct conn *c, const char *rule)
{
	char reason[600], how[900];

	snprintf(reason, sizeof(reason), "the deny rule \"%s\" matches it", rule);
	snprintf(how, sizeof(how),
		 "A deny rule refuses what it matches whatever the allow rules say. To let this "
		 "request through, remove or narrow that rule (--deny, or the config file's "
		 "deny: list).\n");
	refuse(c, reason, rule, how);
}

void decide_refuse(struct conn *c, const char *reason)
{
	char name[264], path[512], rule1[400], rule2[1024], how[1600], rule3[700];
	const char *exe = conn_exe(c);
	size_t plen, n;

	host_name_only(c->host, name, sizeof(name));
	plen = strcspn(c->path ? c->path : "/", "?#");
	if (plen >= sizeof(path))
		plen = sizeof(path) - 1;
	memcpy(path, c->path ? c->path : "/", plen);
	path[plen] = '\0';
	snprintf(rule1, sizeof(rule1), "domain=%s", name);
	snprintf(rule2, sizeof(rule2), "method=%s domain=%s path=%s", c->method, name, path);
	/* The program's own rule, when its path is known: so people learn what exe= wants. */
	rule3[0] = '\0';
	if (exe && exe[0] == '/')
		snprintf(rule3, sizeof(rule3), "exe=%s domain=%s", exe, name);
	if (!name[0] || !valid_rule(rule1)) {
		snprintf(how, sizeof(how),
			 "boundary judges a request by the host it names: send a Host header (or "
			 "a TLS server name).\n");
	} else if (strcmp(c->method, "CONNECT") == 0 || !valid_rule(rule2)) {
		/* A tunnel is allowed by its host; each request inside is judged on its own. */
		snprintf(how, sizeof(how),
			 "To allow this request, restart boundary with:\n"
			 "  --allow \"%s\"\n",
			 rule1);
	} else {
		snprintf(how, sizeof(how),
			 "To allow this request, restart boundary with:\n"
			 "  --allow \"%s\"   # every request to this host\n"
			 "  --allow \"%s\"   # only this method and path\n",
			 rule1, rule2);
	}
	n = strlen(how);
	if (rule3[0] && name[0] && valid_rule(rule3))
		snprintf(how + n, sizeof(how) - n, "  --allow \"%s\"   # only this program\n",
			 rule3);
	refuse(c, reason, NULL, how);
}

/* --- a body over its limit (max_body=, or the rules program's max_tx_bytes) ------------------- */

/*
 * c->max_body_rule with its max_body= value made need bytes (rounded up to K or M) into out: the
 * rule that would let the body through. False when the rule has no such key to change.
 */
static bool raised_rule(const struct conn *c, uint64_t need, char *out, size_t len)
{
	const char *raw = c->max_body_rule, *at, *end;
	char size[32];
	int n;

	at = raw ? strstr(raw, "max_body=") : NULL;
	while (at && at != raw && at[-1] != ' ' && at[-1] != '\t' && at[-1] != '\n')
		at = strstr(at + 1, "max_body=");
	if (!at)
		return false;
	at += strlen("max_body=");
	end = at + strcspn(at, " \t\n");
	if (need >= 10ULL * 1024 * 1024)
		snprintf(size, sizeof(size), "%lluM",
			 (unsigned long long)((need + 1024 * 1024 - 1) / (1024 * 1024)));
	else
		snprintf(size, sizeof(size), "%lluK", (unsigned long long)((need + 1023) / 1024));
	n = snprintf(out, len, "%.*s%s%s", (int)(at - raw), raw, size, end);
	return n > 0 && (size_t)n < len;
}

void decide_refuse_body(struct conn *c, uint64_t declared, uint64_t sent, bool respond)
{
	char why[512], who[320], how[1400], rule[1100];
	const char *by = c->max_body_rule;

	if (by)
		snprintf(who, sizeof(who), "max_body=, %llu bytes, of the rule \"%s\"",
			 (unsigned long long)c->max_body, by);
	else
		snprintf(who, sizeof(who), "the rules program's max_tx_bytes, %llu bytes",
			 (unsigned long long)c->max_body);
	if (declared)
		snprintf(why, sizeof(why),
			 "its body of %llu bytes (Content-Length) is larger than %s",
			 (unsigned long long)declared, who);
	else
		snprintf(why, sizeof(why),
			 "its body grew past %s: %llu bytes of it went upstream, then the upstream "
			 "request was cut off",
			 who, (unsigned long long)sent);
	log_warn("DENY %s %s from %s: 413: %s", c->method, c->url, c->who, why);
	if (declared) {
		/* Refused before anything went out: the request's own record. */
		decide_audit(c, "request", "deny", by, why, 413);
	} else if (c->audit_open) {
		/* Allowed, and partly sent: the end of its exchange says how far it got. */
		c->audit_open = false;
		decide_audit(c, "end", "allow", by, why, respond ? 413 : c->resp.status);
	}
	if (!respond)
		return;
	if (!by)
		snprintf(how, sizeof(how),
			 "The rules program allowed it with {\"allow\": {\"max_tx_bytes\": %llu}}: "
			 "to send it, have the program answer a larger max_tx_bytes, or "
			 "{\"allow\": true} for no limit.\n",
			 (unsigned long long)c->max_body);
	else if (declared && raised_rule(c, declared, rule, sizeof(rule)))
		snprintf(
		    how, sizeof(how),
		    "To send it, raise max_body= in that rule (bytes, or K, M, G: 1024-based), "
		    "for example:\n  --allow \"%s\"\nor leave max_body= out for no limit.\n",
		    rule);
	else
		snprintf(how, sizeof(how),
			 "To send it, raise max_body= in that rule (bytes, or K, M, G: 1024-based: "
			 "max_body=10M is 10485760 bytes), or leave max_body= out for no limit.\n");
	blocked(c, 413, "Content Too Large", why, how);
}

/* --- a second opinion on what the rules refuse ---------------------------------------------- */

/* On the policy thread: hands the answer back to the worker that asked. */
static void decide_done(struct policy_job *pj)
{
	struct decide_job *j = (struct decide_job *)pj;
	struct worker *w = j->w;
	uint64_t one = 1;

	pthread_mutex_lock(&w->lock);
	j->next = w->decided;
	w->decided = j;
	pthread_mutex_unlock(&w->lock);
	if (write(w->wake, &one, sizeof(one)) == -1) {
		/* the counter is saturated: the worker is awake anyway */
	}
}

/* Sends c's question j to the policy service; the answer comes back to conn_decided(). */
static int decide_ask(struct conn *c, struct decide_job *j)
{
	struct policy *pol = conn_cfg(c)->policy;

	if (!pol)
		return -EINVAL;
	j->w = c->w;
	j->c = c;
	j->pj.done = decide_done;
	c->ask = j;
	policy_ask(pol, &j->pj);
	return 0;
}

void decide_cancel(struct conn *c)
{
	/* The job is the policy thread's until it comes back; then it is freed unread. */
	if (c->ask)
		c->ask->c = NULL;
	c->ask = NULL;
}

/* The question about the request in c, for the rules program or the person. */
static bool fill_question(struct conn *c, struct policy_job *q, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	size_t i, n;

	snprintf(q->method, sizeof(q->method), "%s", c->method);
	snprintf(q->scheme, sizeof(q->scheme), "%s", c->up_tls ? "https" : "http");
	if (strchr(c->uhost, ':'))
		snprintf(q->host, sizeof(q->host), "[%s]", c->uhost);
	else
		snprintf(q->host, sizeof(q->host), "%s", c->uhost);
	for (i = 0; q->host[i]; i++) {
		if (q->host[i] >= 'A' && q->host[i] <= 'Z')
			q->host[i] = (char)(q->host[i] + 32);
	}
	n = i;
	if (n > 1 && q->host[n - 1] == '.')
		q->host[n - 1] = '\0';
	q->port = port;
	n = strcspn(c->path ? c->path : "/", "?#");
	/* Whatever does not fit is not asked about: a cut path could hide what decides. */
	if (n >= sizeof(q->path) || strlen(c->url) >= sizeof(q->url) ||
	    strlen(c->uhost) + 2 >= sizeof(q->host))
		return false;
	snprintf(q->path, sizeof(q->path), "%.*s", (int)n, c->path ? c->path : "/");
	snprintf(q->url, sizeof(q->url), "%s", c->url);
	q->pid = c->have_orig || c->orig.direct ? c->orig.pid : 0;
	snprintf(q->comm, sizeof(q->comm), "%s",
		 c->have_orig || c->orig.direct ? c->orig.comm : "");
	snprintf(q->exe, sizeof(q->exe), "%s", conn_exe(c) ? conn_exe(c) : "");
	q->requester_ip[0] = '\0';
	if (getpeername(c->cx.fd, (struct sockaddr *)&ss, &sl) == 0)
		util_addr_str((const struct sockaddr *)&ss, false, q->requester_ip,
			      sizeof(q->requester_ip));
	return true;
}

/*
 * The hook for requests the rules refuse. The request's head (len bytes) is still at the front
 * of cin. --dry-run lets it through, marked would_deny. With a policy service (a rules program,
 * or the person at the terminal), the question goes out and the connection waits in CONN_DECIDE,
 * reading nothing more, until conn_decided() brings the verdict back: it then parses the same
 * head again and returns here, where the verdict is used. Returns OPINION_ALLOW with *rule set,
 * OPINION_DENY with *why set (the rules' reason or the answer's), or OPINION_WAIT (parked).
 */
enum opinion decide_second_opinion(struct conn *c, uint16_t port, const char *reason,
				   const char **rule, const char **why)
{
	const struct proxy_config *cfg = conn_cfg(c);
	struct decide_job *j;
	bool allow;

	*rule = NULL;
	*why = reason;
	if (c->verdict != VERDICT_NONE) {
		allow = c->verdict == VERDICT_ALLOW;
		c->verdict = VERDICT_NONE;
		c->decided_by = c->verdict_by;
		if (allow)
			*rule = c->verdict_text;
		else
			*why = c->verdict_text;
		return allow ? OPINION_ALLOW : OPINION_DENY;
	}
	if (cfg->dry_run) {
		c->would_deny = true;
		return OPINION_ALLOW;
	}
	if (!cfg->policy)
		return OPINION_DENY;
	j = calloc(1, sizeof(*j));
	if (!j)
		return OPINION_DENY; /* failing on the decision path denies */
	if (!fill_question(c, &j->pj, port)) {
		free(j);
		*why = "the request is too long to ask about";
		return OPINION_DENY;
	}
	if (decide_ask(c, j) < 0) {
		free(j);
		return OPINION_DENY;
	}
	log_info("%s %s from %s: the rules refuse it (%s); asking the %s", c->method, c->url,
		 c->who, reason,
		 policy_asks_person(cfg->policy) ? "person at the terminal"
						 : policy_engine(cfg->policy));
	conn_set_state(c, CONN_DECIDE);
	conn_set_deadline(c, policy_wait_ms(cfg->policy) + 2000);
	return OPINION_WAIT;
}

/*
 * Where the person was asked, from policy.c's "the person at boundary's terminal" or "the
 * person, from another terminal": "at boundary's terminal" or "from another terminal".
 */
static const char *person_where(const char *by)
{
	const char *at = strstr(by, " at "), *from = strstr(by, "from ");

	return at ? at + 1 : from ? from : "at boundary's terminal";
}

/* The policy service answered the question about the head at the front of cin. */
void conn_decided(struct conn *c, struct decide_job *job)
{
	const struct policy_job *q = &job->pj;

	if (c->state != CONN_DECIDE)
		return;
	c->verdict = q->allow ? VERDICT_ALLOW : VERDICT_DENY;
	/* A rules program, --js or --sh: all "program" in the audit record; the text names it. */
	c->verdict_by =
	    q->by && !strstr(q->by, "terminal") ? CONN_DECIDED_BY_PROGRAM : CONN_DECIDED_BY_PERSON;
	c->verdict_max_body = q->allow ? q->max_tx_bytes : 0;
	if (q->allow)
		snprintf(c->verdict_text, sizeof(c->verdict_text), "%s",
			 q->rule[0] ? q->rule : q->by);
	else if (q->message[0])
		snprintf(c->verdict_text, sizeof(c->verdict_text), "%s%s%s: %.400s",
			 c->verdict_by == CONN_DECIDED_BY_PROGRAM ? "the " : "",
			 c->verdict_by == CONN_DECIDED_BY_PROGRAM ? q->by : "asked ",
			 c->verdict_by == CONN_DECIDED_BY_PROGRAM ? " refused it"
								  : person_where(q->by),
			 q->message);
	else
		snprintf(c->verdict_text, sizeof(c->verdict_text), "%s%s refused it",
			 c->verdict_by == CONN_DECIDED_BY_PROGRAM ? "the " : "", q->by);
	/* The same head is parsed again and decided with the verdict. */
	c->n_requests--;
	conn_set_state(c, CONN_HEAD);
	conn_set_deadline(c, conn_cfg(c)->header_timeout_ms);
	conn_run(c);
}

/* --- stream rules: connections spliced through unread ---------------------------------------- */

/* Splices the connection to name:port under rule: no HTTP, no interception. */
void decide_start_stream(struct conn *c, const char *name, uint16_t port, const char *rule,
			 bool by_rules, enum conn_stream kind)
{
	size_t n = strlen(name);

	c->stream = kind;
	c->addr_check = by_rules ? ADDR_CHECK_STREAM : ADDR_CHECK_NONE;
	c->method[0] = '\0';
	snprintf(c->host, sizeof(c->host), "%s:%u", name, port);
	snprintf(c->url, sizeof(c->url), "%s://%s:%u", decide_stream_str(kind), name, port);
	if (name[0] == '[' && n >= 2 && name[n - 1] == ']')
		snprintf(c->uhost, sizeof(c->uhost), "%.*s", (int)(n - 2), name + 1);
	else
		snprintf(c->uhost, sizeof(c->uhost), "%s", name);
	c->uport = port;
	c->up_tls = false;
	if (rule)
		log_info("ALLOW %s from %s (rule: %s)", c->url, c->who, rule);
	c->t_start = util_now_ms();
	c->bytes_up = c->bytes_down = 0;
	/* Under --dry-run (no rule), verdict_text holds why the rules would refuse it. */
	decide_audit(c, "request", "allow", rule, c->would_deny ? c->verdict_text : NULL, 0);
	c->audit_open = true;
	/* Never from or into the pool: the upstream speaks whatever the client speaks. */
	snprintf(c->up_key, sizeof(c->up_key), "%s://%s:%u", decide_stream_str(kind), c->uhost,
		 port);
	if (upstream_resolve(c) < 0) {
		conn_close(c, "out of memory");
		return;
	}
	conn_set_state(c, CONN_RESOLVE);
	conn_set_deadline(c, conn_cfg(c)->connect_timeout_ms);
}

/* A connection that is not HTTP (or TLS that no rule reads) and that no stream rule allows. */
void decide_refuse_stream(struct conn *c, const char *what)
{
	struct rules_decision d = {.deny_rule = false};
	char rule[300], why[512];

	c->stream = CONN_STREAM_TCP; /* closed below: named for its log line and record */
	c->method[0] = '\0';
	if (c->dname[0]) {
		snprintf(c->host, sizeof(c->host), "%s:%u", c->dname, c->dport);
		snprintf(c->url, sizeof(c->url), "tcp://%s:%u", c->dname, c->dport);
	} else {
		snprintf(c->host, sizeof(c->host), "%s", c->orig_str);
		snprintf(c->url, sizeof(c->url), "tcp://%s", c->orig_str);
	}
	snprintf(rule, sizeof(rule), "domain=%s port=%u", c->dname, c->dport);
	snprintf(why, sizeof(why), "%s, and no rule with port= allows %s", what,
		 c->dname[0] ? c->host : "it");
	if (c->dname[0])
		conn_match_host(c, c->dname, strlen(c->dname), c->dport, RULES_STREAM, &d);
	if (d.deny_rule) {
		snprintf(why, sizeof(why), "%s, and the deny rule \"%s\" refuses %s", what, d.raw,
			 c->host);
		log_warn("DENY %s from %s: %s", c->url, c->who, why);
		decide_audit(c, "request", "deny", d.raw, why, 0);
		conn_close(c, "refused: a deny rule");
		return;
	}
	if (c->dname[0] && valid_rule(rule))
		log_warn("DENY %s from %s: %s (to allow it: --allow \"%s\")", c->url, c->who, why,
			 rule);
	else
		log_warn("DENY %s from %s: %s (the name it was going to is not known: it did not "
			 "come from boundary's DNS)",
			 c->url, c->who, why);
	decide_audit(c, "request", "deny", NULL, why, 0);
	conn_close(c, "refused: not HTTP");
}

/*
 * --dry-run: a connection no rule would let through unread is spliced all the same, to the name
 * its address stands for, and marked would_deny. Returns false when that name is not known (it
 * is then refused as usual: there is nowhere to send it).
 */
bool decide_dry_run_stream(struct conn *c, const char *what)
{
	if (!conn_cfg(c)->dry_run || !c->dname[0])
		return false;
	c->would_deny = true;
	snprintf(c->verdict_text, sizeof(c->verdict_text), "%s, and no rule with port= allows it",
		 what);
	log_warn("DRY-RUN would deny tcp://%s:%u from %s: %s (let through: --dry-run; to allow "
		 "it: --allow \"domain=%s port=%u\")",
		 c->dname, c->dport, c->who, c->verdict_text, c->dname, c->dport);
	decide_start_stream(c, c->dname, c->dport, NULL, false,
			    CONN_STREAM_TCP); /* by its own name */
	return true;
}

/* --- secrets: a placeholder on its way out of a connection no HTTP rule reads ---------------- */

ssize_t decide_secret_in_name(const struct conn *c, const char *name)
{
	const struct proxy_config *cfg = conn_cfg(c);
	char scratch[1024];
	ssize_t hit;

	if (cfg->n_secrets == 0)
		return -1;
	hit = dns_name_secret(cfg->secrets, cfg->n_secrets, name);
	/* a name longer than DNS allows: the rest of it too, dots and all */
	if (hit < 0)
		hit = secret_find_encoded(cfg->secrets, cfg->n_secrets, name,
					  strnlen(name, sizeof(scratch)), scratch);
	return hit;
}

void decide_refuse_secret(struct conn *c, size_t i, const char *sni)
{
	char why[SECRET_NAME_MAX + 320];

	if (sni) {
		c->stream = CONN_STREAM_TLS;
		c->method[0] = '\0';
		snprintf(c->host, sizeof(c->host), "%s:%u", sni, c->dport);
		snprintf(c->url, sizeof(c->url), "tls://%s:%u", sni, c->dport);
	}
	snprintf(why, sizeof(why), "secret %s sent to %s%s", conn_cfg(c)->secrets[i].name, c->host,
		 sni ? " in a TLS server name" : "");
	log_warn("DENY %s from %s: %s (its placeholder; the connection is cut)", c->url, c->who,
		 why);
	decide_audit(c, "request", "deny", NULL, why, 0);
	conn_close(c, "refused: a secret's placeholder on its way out");
}
