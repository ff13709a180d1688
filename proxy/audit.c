// SPDX-License-Identifier: MIT
/*
 * audit.c: the audit stream (audit.h). Owns the file, its queue and its writer thread, the
 * pipeline sink (auditsink.c) and the agent's sink (agentlog.c), which it feeds with the records
 * each takes; knows nothing of what is being audited beyond the record's fields.
 */
#include "proxy/audit.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "proxy/agentlog.h"
#include "proxy/auditsink.h"
#include "proxy/log.h"
#include "proxy/utf8.h"

#define AUDIT_QUEUE 4096 /* records waiting for the writer */
#define AUDIT_LINE  4096 /* the longest record; longer fields are cut */

/* A pod's records' names (audit_config's k8s_*); the names file read again on a miss. */
struct k8s {
	char ns[256], pod[256];
	char cgroup[4096];
	char names_path[4096];
	pthread_mutex_t lock;
	char *names; /* the file's text, NULL until read */
	time_t read_at;
};

struct audit {
	struct k8s *k8s;	/* NULL: not a pod's */
	struct agentlog *agent; /* NULL: no agent's socket */
	struct auditsink *sink; /* NULL: no pipeline sink */
	bool file;		/* JSON lines go to fd, by the writer thread */
	int fd;
	bool own_fd;
	char path[4096];
	char jail_id[64];
	char session_id[64];
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	char *q[AUDIT_QUEUE];
	size_t q_len[AUDIT_QUEUE];
	size_t head, n;
	uint64_t dropped, dropped_said;
	bool stop, failing;
};

static int put(char *out, size_t cap, size_t *len, const char *s, size_t n)
{
	if (*len + n >= cap)
		return -1;
	memcpy(out + *len, s, n);
	*len += n;
	return 0;
}

int audit_json_string(char *out, size_t cap, size_t *len, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t start = *len, n;
	char esc[8];

	if (put(out, cap, len, "\"", 1) < 0)
		goto full;
	while (*p) {
		if (*p == '"' || *p == '\\') {
			esc[0] = '\\';
			esc[1] = (char)*p;
			if (put(out, cap, len, esc, 2) < 0)
				goto full;
			p++;
			continue;
		}
		if (*p < 0x20 || *p == 0x7f) {
			snprintf(esc, sizeof(esc), "\\u%04x", *p);
			if (put(out, cap, len, esc, 6) < 0)
				goto full;
			p++;
			continue;
		}
		n = utf8_seq_len(p);
		if (n == 0) {
			/* Not UTF-8: each byte said as the code point of the same value. */
			snprintf(esc, sizeof(esc), "\\u%04x", *p);
			if (put(out, cap, len, esc, 6) < 0)
				goto full;
			p++;
			continue;
		}
		if (put(out, cap, len, (const char *)p, n) < 0)
			goto full;
		p += n;
	}
	if (put(out, cap, len, "\"", 1) < 0)
		goto full;
	return 0;
full:
	*len = start;
	return -1;
}

static void field_str(char *out, size_t cap, size_t *len, const char *key, const char *v)
{
	char k[64];
	int n;

	if (!v)
		return;
	n = snprintf(k, sizeof(k), ",\"%s\":", key);
	if (put(out, cap, len, k, (size_t)n) < 0)
		return;
	if (audit_json_string(out, cap, len, v) < 0)
		*len -= (size_t)n;
}

static void field_num(char *out, size_t cap, size_t *len, const char *key, long long v)
{
	char k[96];
	int n = snprintf(k, sizeof(k), ",\"%s\":%lld", key, v);

	put(out, cap, len, k, (size_t)n);
}

/* The name after "ID " on a line of names, into out; false when id has no line. */
static bool name_of(const char *names, const char *id, size_t idlen, char *out, size_t len)
{
	const char *l, *e;

	for (l = names; l && *l; l = *e ? e + 1 : NULL) {
		e = l + strcspn(l, "\n");
		if ((size_t)(e - l) > idlen + 1 && memcmp(l, id, idlen) == 0 && l[idlen] == ' ') {
			snprintf(out, len, "%.*s", (int)(e - l - (long)idlen - 1), l + idlen + 1);
			return true;
		}
	}
	return false;
}

/* Reads up to len - 1 bytes of path into b, NUL-terminated; the bytes read, or -1. */
static ssize_t read_into(const char *path, char *b, size_t len)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return -1;
	n = read(fd, b, len - 1);
	close(fd);
	b[n > 0 ? n : 0] = '\0';
	return n;
}

/*
 * The name of the pod's container that pid runs in, into out ("" when unknown): its cgroup
 * below the pod's is the container's (cgroupfs: its id; systemd: cri-containerd-ID.scope).
 * The names file is read again (at most once a second) only when an id is not in it yet.
 */
static void k8s_container(struct k8s *k, uint32_t pid, char *out, size_t len)
{
	char path[64], cg[4096], *id, *fresh;
	size_t n = strlen(k->cgroup), idlen;
	time_t now;

	out[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%u/cgroup", pid);
	if (!pid || read_into(path, cg, sizeof(cg)) <= 0)
		return;
	/* The cgroup2 line, "0::PATH", at the start of a line. */
	for (id = strstr(cg, "0::"); id && id != cg && id[-1] != '\n'; id = strstr(id + 1, "0::"))
		;
	if (!id)
		return;
	id += 3;
	if (strncmp(id, k->cgroup, n) != 0 || id[n] != '/')
		return;
	id += n + 1;
	idlen = strcspn(id, "/\n");
	if (idlen > 15 && strncmp(id, "cri-containerd-", 15) == 0) {
		id += 15;
		idlen -= 15;
	}
	if (idlen > 6 && strncmp(id + idlen - 6, ".scope", 6) == 0)
		idlen -= 6;
	pthread_mutex_lock(&k->lock);
	if (!k->names || !name_of(k->names, id, idlen, out, len)) {
		now = time(NULL);
		if (now != k->read_at && (fresh = malloc(65536))) {
			read_into(k->names_path, fresh, 65536);
			free(k->names);
			k->names = fresh;
			k->read_at = now;
			name_of(k->names, id, idlen, out, len);
		}
	}
	pthread_mutex_unlock(&k->lock);
}

static void k8s_field(struct k8s *k, const struct audit_record *r, char *out, size_t cap,
		      size_t *len)
{
	char name[256];
	size_t was = *len;

	k8s_container(k, r->pid, name, sizeof(name));
	if (put(out, cap, len, ",\"k8s\":{\"namespace\":", 20) < 0 ||
	    audit_json_string(out, cap, len, k->ns) < 0 || put(out, cap, len, ",\"pod\":", 7) < 0 ||
	    audit_json_string(out, cap, len, k->pod) < 0 ||
	    (name[0] && (put(out, cap, len, ",\"container\":", 13) < 0 ||
			 audit_json_string(out, cap, len, name) < 0)) ||
	    put(out, cap, len, "}", 1) < 0)
		*len = was;
}

static size_t format(const struct audit *a, const struct audit_record *r, char *out, size_t cap)
{
	struct timespec ts;
	struct tm tm;
	char t[64];
	size_t len = 0;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(t, sizeof(t), "{\"time\":\"%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ\"",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 ts.tv_nsec / 1000000);
	put(out, cap, &len, t, strlen(t));
	field_str(out, cap, &len, "event", r->event);
	field_str(out, cap, &len, "decision", r->decision);
	field_str(out, cap, &len, "kind", r->kind);
	field_str(out, cap, &len, "method", r->method);
	field_str(out, cap, &len, "url", r->url);
	field_str(out, cap, &len, "host", r->host);
	if (r->port)
		field_num(out, cap, &len, "port", r->port);
	field_str(out, cap, &len, "dns_type", r->dns_type);
	field_str(out, cap, &len, "rule", r->rule);
	field_str(out, cap, &len, "reason", r->reason);
	if (r->would_deny)
		put(out, cap, &len, ",\"would_deny\":true", strlen(",\"would_deny\":true"));
	field_str(out, cap, &len, "decided_by", r->decided_by);
	if (r->h2_stream) {
		field_str(out, cap, &len, "http", "2");
		field_num(out, cap, &len, "stream_id", r->h2_stream);
	}
	if (r->status)
		field_num(out, cap, &len, "status", r->status);
	if (r->pid)
		field_num(out, cap, &len, "pid", r->pid);
	field_str(out, cap, &len, "comm", r->comm);
	field_str(out, cap, &len, "exe", r->exe);
	field_str(out, cap, &len, "client", r->client);
	if (r->event && strcmp(r->event, "end") == 0) {
		field_num(out, cap, &len, "bytes_up", (long long)r->bytes_up);
		field_num(out, cap, &len, "bytes_down", (long long)r->bytes_down);
	}
	if (r->duration_ms >= 0)
		field_num(out, cap, &len, "duration_ms", r->duration_ms);
	field_str(out, cap, &len, "jail", a->jail_id);
	if (a->session_id[0])
		field_str(out, cap, &len, "session_id", a->session_id);
	if (r->has_sequence)
		field_num(out, cap, &len, "sequence", r->sequence);
	if (a->k8s)
		k8s_field(a->k8s, r, out, cap, &len);
	/* There is always room for the closing brace and newline: cap keeps two bytes spare. */
	out[len++] = '}';
	out[len++] = '\n';
	return len;
}

static void write_all(struct audit *a, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = write(a->fd, p, n);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (!a->failing)
				log_warn_errno("cannot write the audit log %s (records are dropped "
					       "until it works again)",
					       a->path);
			a->failing = true;
			return;
		}
		p += w;
		n -= (size_t)w;
	}
	if (a->failing)
		log_warn("the audit log %s is written again", a->path);
	a->failing = false;
}

static void *writer_main(void *arg)
{
	struct audit *a = arg;
	char note[160];
	uint64_t dropped;
	size_t n;
	char *line;

	pthread_mutex_lock(&a->lock);
	for (;;) {
		while (a->n == 0 && !a->stop)
			pthread_cond_wait(&a->cond, &a->lock);
		if (a->n == 0 && a->stop)
			break;
		line = a->q[a->head];
		n = a->q_len[a->head];
		a->head = (a->head + 1) % AUDIT_QUEUE;
		a->n--;
		dropped = a->dropped;
		pthread_mutex_unlock(&a->lock);

		if (dropped > a->dropped_said) {
			int k =
			    snprintf(note, sizeof(note),
				     "{\"event\":\"dropped\",\"count\":%llu,\"jail\":\"%s\"}\n",
				     (unsigned long long)(dropped - a->dropped_said), a->jail_id);

			write_all(a, note, (size_t)k);
			log_warn("%llu audit record(s) dropped: the audit log could not keep up",
				 (unsigned long long)(dropped - a->dropped_said));
			a->dropped_said = dropped;
		}
		write_all(a, line, n);
		free(line);
		pthread_mutex_lock(&a->lock);
	}
	pthread_mutex_unlock(&a->lock);
	return NULL;
}

/* Opens the JSON lines' file and starts their writer. Returns 0, or -1 with err filled. */
static int open_file(struct audit *a, const char *path, char *err, size_t errlen)
{
	struct stat st;
	struct tm tm;
	time_t now = time(NULL);

	if (strcmp(path, "-") == 0) {
		a->fd = STDOUT_FILENO;
		snprintf(a->path, sizeof(a->path), "-");
	} else {
		if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
			localtime_r(&now, &tm);
			snprintf(a->path, sizeof(a->path),
				 "%.3900s/boundary-audit-%04d-%02d-%02d_%02d-%02d-%02d-%ld.jsonl",
				 path, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
				 tm.tm_min, tm.tm_sec, (long)getpid());
		} else {
			snprintf(a->path, sizeof(a->path), "%s", path);
		}
		a->fd = open(a->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0600);
		if (a->fd == -1) {
			snprintf(err, errlen, "--audit-log %s: %s", a->path, strerror(errno));
			return -1;
		}
		a->own_fd = true;
	}
	pthread_mutex_init(&a->lock, NULL);
	pthread_cond_init(&a->cond, NULL);
	if (pthread_create(&a->thread, NULL, writer_main, a) != 0) {
		snprintf(err, errlen, "cannot start the audit writer");
		pthread_cond_destroy(&a->cond);
		pthread_mutex_destroy(&a->lock);
		if (a->own_fd)
			close(a->fd);
		return -1;
	}
	a->file = true;
	return 0;
}

static void k8s_free(struct k8s *k)
{
	if (!k)
		return;
	pthread_mutex_destroy(&k->lock);
	free(k->names);
	free(k);
}

struct audit *audit_open(const struct audit_config *cfg, char *err, size_t errlen)
{
	struct auditsink_config sc;
	struct agentlog_config ac;
	struct audit *a;

	if (!cfg->path && !cfg->agent_socket && !cfg->sink) {
		snprintf(err, errlen, "an audit stream with nowhere to go");
		return NULL;
	}
	a = calloc(1, sizeof(*a));
	if (!a) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	a->fd = -1;
	snprintf(a->jail_id, sizeof(a->jail_id), "%s", cfg->jail_id ? cfg->jail_id : "");
	snprintf(a->session_id, sizeof(a->session_id), "%s",
		 cfg->session_id ? cfg->session_id : "");
	if (cfg->k8s_pod) {
		a->k8s = calloc(1, sizeof(*a->k8s));
		if (!a->k8s) {
			snprintf(err, errlen, "out of memory");
			free(a);
			return NULL;
		}
		snprintf(a->k8s->ns, sizeof(a->k8s->ns), "%.*s", (int)strcspn(cfg->k8s_pod, "/"),
			 cfg->k8s_pod);
		snprintf(a->k8s->pod, sizeof(a->k8s->pod), "%s",
			 cfg->k8s_pod + strcspn(cfg->k8s_pod, "/") +
			     (strchr(cfg->k8s_pod, '/') != NULL));
		snprintf(a->k8s->cgroup, sizeof(a->k8s->cgroup), "%s",
			 cfg->k8s_cgroup ? cfg->k8s_cgroup : "");
		snprintf(a->k8s->names_path, sizeof(a->k8s->names_path), "%s",
			 cfg->k8s_names ? cfg->k8s_names : "");
		pthread_mutex_init(&a->k8s->lock, NULL);
	}
	if (cfg->path && open_file(a, cfg->path, err, errlen) < 0) {
		k8s_free(a->k8s);
		free(a);
		return NULL;
	}
	if (cfg->sink) {
		memset(&sc, 0, sizeof(sc));
		sc.spec = *cfg->sink;
		sc.jail_id = cfg->jail_id;
		sc.session_id = cfg->session_id;
		a->sink = auditsink_new(&sc, err, errlen);
		if (!a->sink) {
			audit_close(a);
			return NULL;
		}
	}
	if (cfg->agent_socket) {
		memset(&ac, 0, sizeof(ac));
		ac.socket_path = cfg->agent_socket;
		ac.session_id = cfg->session_id;
		ac.process_name = cfg->process_name;
		a->agent = agentlog_new(&ac, err, errlen);
		if (!a->agent) {
			audit_close(a);
			return NULL;
		}
	}
	return a;
}

/*
 * The records the agent takes: decisions on HTTP requests, CONNECT included, which are the
 * numbered ones. Its protocol has no resource for a connection that is not HTTP (stream rules'
 * "tcp" and "tls"), so those stay in the file.
 */
static void to_agent(struct audit *a, const struct audit_record *r)
{
	bool allowed;

	if (!r->event || strcmp(r->event, "request") != 0 || !r->decision || !r->method ||
	    !r->method[0] || !r->has_sequence)
		return;
	if (strcmp(r->decision, "allow") == 0)
		allowed = true;
	else if (strcmp(r->decision, "deny") == 0)
		allowed = false;
	else
		return;
	agentlog_push(a->agent, r->sequence, allowed, r->method, r->url, r->rule);
}

void audit_write(struct audit *a, const struct audit_record *r)
{
	char buf[AUDIT_LINE];
	size_t n;
	char *line;

	if (!a)
		return;
	if (a->agent)
		to_agent(a, r);
	auditsink_push(a->sink, r);
	if (!a->file)
		return;
	n = format(a, r, buf, sizeof(buf) - 2);
	line = malloc(n);
	pthread_mutex_lock(&a->lock);
	if (!line || a->n == AUDIT_QUEUE) {
		a->dropped++;
		pthread_mutex_unlock(&a->lock);
		free(line);
		return;
	}
	memcpy(line, buf, n);
	a->q[(a->head + a->n) % AUDIT_QUEUE] = line;
	a->q_len[(a->head + a->n) % AUDIT_QUEUE] = n;
	a->n++;
	pthread_cond_signal(&a->cond);
	pthread_mutex_unlock(&a->lock);
}

void audit_close(struct audit *a)
{
	if (!a)
		return;
	agentlog_free(a->agent);
	auditsink_free(a->sink);
	if (a->file) {
		pthread_mutex_lock(&a->lock);
		a->stop = true;
		pthread_cond_signal(&a->cond);
		pthread_mutex_unlock(&a->lock);
		pthread_join(a->thread, NULL);
		pthread_cond_destroy(&a->cond);
		pthread_mutex_destroy(&a->lock);
		if (a->own_fd)
			close(a->fd);
	}
	k8s_free(a->k8s);
	free(a);
}

const char *audit_path(const struct audit *a)
{
	return a->file ? a->path : NULL;
}

const char *audit_sink_name(const struct audit *a)
{
	return a->sink ? auditsink_name(a->sink) : NULL;
}
