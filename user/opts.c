// SPDX-License-Identifier: MIT
/*
 * opts.c: the option table and everything that reads it: the command line (getopt_long with a
 * leading "+", so parsing stops at the command), the environment, the checks and conversions
 * every value goes through (opts_set(), which the YAML loader in config.c also calls), the
 * allow-rule merge, flag and key suggestions, and --help. It owns struct opts. It does not read
 * YAML (config.c) and runs nothing (main.c).
 */
#include "user/opts.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proxy/log.h"
#include "rules/rules.h"

#define F(field) offsetof(struct opts, field)

/* getopt_long's val for table entry i; above every char so -h stays 'h'. */
#define OPT_VAL_BASE 256

/* Room for a quoted value in a message. */
#define QLEN 256

/*
 * The table. Help lines fit --help's 56 columns. Defaults are parsed by opts_init() through
 * opts_set(), so a default is checked like any other value. Columns: id, flag, short flag, env,
 * YAML key, type, default, help placeholder, help, shown in --help, field.
 */
static const struct opts_def defs[OPTS__COUNT] = {
    [OPTS_ALLOW] = {OPTS_ALLOW, "allow", 0, "BOUNDARY_ALLOW", "allowlist", OPTS_T_RULES, NULL,
		    "RULE", "allow requests that RULE matches (repeatable)", true, F(allow)},
    [OPTS_CONFIG] = {OPTS_CONFIG, "config", 0, "BOUNDARY_CONFIG", NULL, OPTS_T_STRING, NULL, "FILE",
		     "YAML file (default ~/.config/coder_boundary/config.yaml)", true, F(config)},
    [OPTS_LOG_LEVEL] = {OPTS_LOG_LEVEL, "log-level", 0, "BOUNDARY_LOG_LEVEL", "log_level",
			OPTS_T_LOG_LEVEL, "warn", "LEVEL",
			"error, warn, info or debug (default warn)", true, F(log_level)},
    [OPTS_LOG_DIR] = {OPTS_LOG_DIR, "log-dir", 0, "BOUNDARY_LOG_DIR", "log_dir", OPTS_T_STRING, "",
		      "DIR", "write the log to a new file in DIR, not stderr", true, F(log_dir)},
    [OPTS_PROXY_PORT] = {OPTS_PROXY_PORT, "proxy-port", 0, "PROXY_PORT", "proxy_port", OPTS_T_PORT,
			 "8080", "PORT", "the proxy's port in the jail (default: a free one)", true,
			 F(proxy_port)},
    [OPTS_USER] = {OPTS_USER, "user", 0, "BOUNDARY_USER", "user", OPTS_T_USER, "", "USER[:GROUP]",
		   "run the command as USER (default: sudo's caller)", true, F(user)},
    [OPTS_USE_REAL_DNS] = {OPTS_USE_REAL_DNS, "use-real-dns", 0, "BOUNDARY_USE_REAL_DNS",
			   "use_real_dns", OPTS_T_BOOL, "false", NULL,
			   "real DNS answers for names the rules allow", true, F(use_real_dns)},
    [OPTS_TEST] = {OPTS_TEST, "test", 0, NULL, NULL, OPTS_T_TEST, NULL, "[METHOD] URL",
		   "say if the rules allow URL; run nothing (repeatable)", false, 0},
    [OPTS_VERSION] = {OPTS_VERSION, "version", 0, NULL, NULL, OPTS_T_ACTION, NULL, NULL,
		      "print the version and exit", false, 0},
    [OPTS_HELP] = {OPTS_HELP, "help", 'h', NULL, NULL, OPTS_T_ACTION, NULL, NULL,
		   "print this help and exit", true, 0},
    [OPTS_JAIL_TYPE] = {OPTS_JAIL_TYPE, "jail-type", 0, "BOUNDARY_JAIL_TYPE", "jail_type",
			OPTS_T_JAIL, "nsjail", "TYPE",
			"nsjail (BPF, default), landlock or weak (see man page)", false,
			F(jail_type)},
    [OPTS_NO_USER_NAMESPACE] =
	{OPTS_NO_USER_NAMESPACE, "no-user-namespace", 0, "BOUNDARY_NO_USER_NAMESPACE",
	 "no_user_namespace", OPTS_T_BOOL, "false", NULL,
	 "run a root command as nobody with no capabilities, not in a userns", false,
	 F(no_user_namespace)},
    [OPTS_DISABLE_AUDIT_LOGS] = {OPTS_DISABLE_AUDIT_LOGS, "disable-audit-logs", 0,
				 "DISABLE_AUDIT_LOGS", "disable_audit_logs", OPTS_T_BOOL, "false",
				 NULL, "send no audit records to the Coder agent's socket", false,
				 F(disable_audit_logs)},
    [OPTS_LOG_PROXY_SOCKET_PATH] = {OPTS_LOG_PROXY_SOCKET_PATH, "log-proxy-socket-path", 0,
				    "CODER_AGENT_BOUNDARY_LOG_PROXY_SOCKET_PATH", NULL,
				    OPTS_T_STRING, "/tmp/boundary-audit.sock", "PATH",
				    "the Coder agent's audit socket, used if it exists", false,
				    F(log_proxy_socket_path)},
    [OPTS_PPROF] = {OPTS_PPROF, "pprof", 0, "BOUNDARY_PPROF", "pprof_enabled", OPTS_T_BOOL, "false",
		    NULL, "serve Go's profiler (no effect: there is none here)", false, F(pprof)},
    [OPTS_PPROF_PORT] = {OPTS_PPROF_PORT, "pprof-port", 0, "BOUNDARY_PPROF_PORT", "pprof_port",
			 OPTS_T_PORT, "6060", "PORT", "the profiler's port (no effect)", false,
			 F(pprof_port)},
    [OPTS_SESSION_CORRELATION] = {OPTS_SESSION_CORRELATION, "enable-session-correlation", 0,
				  "BOUNDARY_SESSION_CORRELATION_ENABLED",
				  "session_correlation_enabled", OPTS_T_BOOL, "false", NULL,
				  "tag requests with a session id (not supported yet)", false,
				  F(session_correlation)},
    [OPTS_INJECT_TARGET] = {OPTS_INJECT_TARGET, "session-id-inject-target", 0,
			    "BOUNDARY_SESSION_ID_INJECT_TARGET", "session_id_inject_targets",
			    OPTS_T_RULES, NULL, "RULE",
			    "requests to tag with the session id (not supported yet)", false,
			    F(inject)},
    [OPTS_UPSTREAM_CA] = {OPTS_UPSTREAM_CA, "upstream-ca", 0, "BOUNDARY_UPSTREAM_CA", "upstream_ca",
			  OPTS_T_STRING, "", "FILE",
			  "also trust the CAs in FILE for upstream servers", false, F(upstream_ca)},
    [OPTS_UPSTREAM_TIMEOUT] = {OPTS_UPSTREAM_TIMEOUT, "upstream-timeout", 0,
			       "BOUNDARY_UPSTREAM_TIMEOUT", "upstream_timeout", OPTS_T_SECONDS,
			       "120", "SECONDS", "answer 504 when an upstream is silent this long",
			       false, F(upstream_timeout)},
    [OPTS_AUDIT_LOG] = {OPTS_AUDIT_LOG, "audit-log", 0, "BOUNDARY_AUDIT_LOG", "audit_log",
			OPTS_T_STRING, "", "FILE",
			"a JSON line per decision to FILE, - or a directory", true, F(audit_log)},
    [OPTS_LISTEN] = {OPTS_LISTEN, "listen", 0, "BOUNDARY_LISTEN", "listen", OPTS_T_STRING,
		     "127.0.0.1:8080", "ADDR:PORT", "boundary serve: where the proxy listens",
		     false, F(listen)},
    [OPTS_PORT_FORWARD] = {OPTS_PORT_FORWARD, "port-forward", 0, "BOUNDARY_PORT_FORWARD",
			   "port_forward", OPTS_T_FORWARD, NULL, "H:J",
			   "host loopback port H reaches jail port J (repeatable)", false,
			   F(forwards)},
    [OPTS_DRY_RUN] = {OPTS_DRY_RUN, "dry-run", 0, "BOUNDARY_DRY_RUN", "dry_run", OPTS_T_BOOL,
		      "false", NULL, "blocks NOTHING; logs what the rules would refuse", true,
		      F(dry_run)},
    [OPTS_INTERACTIVE] = {OPTS_INTERACTIVE, "interactive", 0, "BOUNDARY_INTERACTIVE", "interactive",
			  OPTS_T_BOOL, "false", NULL,
			  "ask on the terminal about what the rules refuse", true, F(interactive)},
    [OPTS_SAVE_RULES] = {OPTS_SAVE_RULES, "save-rules", 0, "BOUNDARY_SAVE_RULES", "save_rules",
			 OPTS_T_STRING, "", "FILE", "allow FILE's rules; --interactive adds to it",
			 false, F(save_rules)},
    [OPTS_RULES_PROGRAM] = {OPTS_RULES_PROGRAM, "rules-program", 0, "BOUNDARY_RULES_PROGRAM",
			    "rules_program", OPTS_T_STRING, "", "PROG",
			    "ask PROG (JSON lines) about what the rules refuse", false,
			    F(rules_program)},
    [OPTS_HEADER_TIMEOUT] = {OPTS_HEADER_TIMEOUT, "header-timeout", 0, "BOUNDARY_HEADER_TIMEOUT",
			     "header_timeout", OPTS_T_SECONDS, "30", "SECONDS",
			     "answer 408 when a request head takes this long", false,
			     F(header_timeout)},
    [OPTS_IDLE_TIMEOUT] = {OPTS_IDLE_TIMEOUT, "idle-timeout", 0, "BOUNDARY_IDLE_TIMEOUT",
			   "idle_timeout", OPTS_T_SECONDS, "120", "SECONDS",
			   "close a connection silent this long", false, F(idle_timeout)},
};

const struct opts_def *opts_defs(size_t *n)
{
	*n = OPTS__COUNT;
	return defs;
}

const struct opts_def *opts_def_by_yaml(const char *key)
{
	size_t i;

	for (i = 0; i < OPTS__COUNT; i++) {
		if (defs[i].yaml && strcmp(defs[i].yaml, key) == 0)
			return &defs[i];
	}
	return NULL;
}

static char *xstrdup(const char *s)
{
	char *p = strdup(s);

	if (!p)
		fatal("out of memory");
	return p;
}

static void strv_push(struct opts_strv *sv, const char *s)
{
	char **v = realloc(sv->v, (sv->n + 1) * sizeof(*v));

	if (!v)
		fatal("out of memory");
	sv->v = v;
	sv->v[sv->n++] = xstrdup(s);
}

static void strv_free(struct opts_strv *sv)
{
	size_t i;

	for (i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	sv->v = NULL;
	sv->n = 0;
}

const char *opts_quote(const char *s, char *buf, size_t len)
{
	const unsigned char *p;
	size_t n = 0;

	if (len < 8) {
		if (len)
			buf[0] = '\0';
		return buf;
	}
	buf[n++] = '"';
	for (p = (const unsigned char *)s; *p; p++) {
		char esc[8];
		size_t k = 2;

		esc[0] = '\\';
		if (*p == '"' || *p == '\\')
			esc[1] = (char)*p;
		else if (*p == '\n')
			esc[1] = 'n';
		else if (*p == '\t')
			esc[1] = 't';
		else if (*p == '\r')
			esc[1] = 'r';
		else if (*p < 0x20 || *p == 0x7f)
			k = (size_t)snprintf(esc, sizeof(esc), "\\x%02x", *p);
		else
			esc[0] = (char)*p, k = 1;
		/* Keep room for "...", the closing quote and the NUL. */
		if (n + k + 5 > len) {
			memcpy(buf + n, "...", 3);
			n += 3;
			break;
		}
		memcpy(buf + n, esc, k);
		n += k;
	}
	buf[n++] = '"';
	buf[n] = '\0';
	return buf;
}

/* Go's strconv.ParseBool, which coder/boundary's flags and environment use. */
static int parse_bool(const char *s, bool *b)
{
	static const char *const yes[] = {"1", "t", "T", "TRUE", "true", "True"};
	static const char *const no[] = {"0", "f", "F", "FALSE", "false", "False"};
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcmp(s, yes[i]) == 0) {
			*b = true;
			return 0;
		}
		if (strcmp(s, no[i]) == 0) {
			*b = false;
			return 0;
		}
	}
	return -EINVAL;
}

/* Decimal 1..65535, digits only. */
static int parse_port(const char *s, uint16_t *port)
{
	unsigned long v = 0;
	const char *p;

	if (!*s)
		return -EINVAL;
	for (p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		v = v * 10 + (unsigned long)(*p - '0');
		if (v > 65535)
			return -EINVAL;
	}
	if (v == 0)
		return -EINVAL;
	*port = (uint16_t)v;
	return 0;
}

/* A uid or gid written in decimal; (uid_t)-1 is refused, since it means "unchanged". */
static int parse_id(const char *s, unsigned int *id)
{
	unsigned long long v = 0;
	const char *p;

	if (!*s)
		return -EINVAL;
	for (p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		v = v * 10 + (unsigned long long)(*p - '0');
		if (v >= UINT32_MAX)
			return -ERANGE;
	}
	*id = (unsigned int)v;
	return 0;
}

/*
 * The fuzzer must not depend on /etc/passwd or load NSS modules: under it, only numbers resolve.
 */
static struct passwd *lookup_user(const char *name)
{
#ifdef BOUNDARY_FUZZING
	(void)name;
	return NULL;
#else
	return getpwnam(name);
#endif
}

static struct group *lookup_group(const char *name)
{
#ifdef BOUNDARY_FUZZING
	(void)name;
	return NULL;
#else
	return getgrnam(name);
#endif
}

static struct passwd *lookup_uid(uid_t uid)
{
#ifdef BOUNDARY_FUZZING
	(void)uid;
	return NULL;
#else
	return getpwuid(uid);
#endif
}

/* USER[:GROUP], names or numbers. "" means nobody named: u->set stays false. */
static int resolve_user(const char *spec, struct opts_user *u, const char *who, char *err,
			size_t errlen)
{
	const char *colon = strchr(spec, ':');
	const struct passwd *pw = NULL;
	const struct group *gr;
	char name[256], q[QLEN];
	unsigned int id;
	size_t ulen = colon ? (size_t)(colon - spec) : strlen(spec);

	memset(u, 0, sizeof(*u));
	if (!*spec)
		return 0;
	opts_quote(spec, q, sizeof(q));
	if (ulen == 0 || ulen >= sizeof(name) || (colon && !colon[1])) {
		snprintf(err, errlen,
			 "%s %s: not a user (use USER or USER:GROUP, names or numbers)", who, q);
		return -EINVAL;
	}
	memcpy(name, spec, ulen);
	name[ulen] = '\0';
	if (parse_id(name, &id) == 0) {
		u->uid = (uid_t)id;
		pw = lookup_uid(u->uid);
	} else {
		pw = lookup_user(name);
		if (!pw) {
			snprintf(err, errlen, "%s %s: no such user (check the name, or use a uid)",
				 who, q);
			return -EINVAL;
		}
		u->uid = pw->pw_uid;
	}
	if (colon) {
		if (parse_id(colon + 1, &id) == 0) {
			u->gid = (gid_t)id;
		} else {
			gr = lookup_group(colon + 1);
			if (!gr) {
				snprintf(err, errlen,
					 "%s %s: no such group (check the name, or use a gid)", who,
					 q);
				return -EINVAL;
			}
			u->gid = gr->gr_gid;
		}
	} else if (pw) {
		u->gid = pw->pw_gid;
	} else {
		snprintf(err, errlen,
			 "%s %s: uid %s has no passwd entry, so name the group too (USER:GROUP)",
			 who, q, name);
		return -EINVAL;
	}
	u->set = true;
	u->spec = xstrdup(spec);
	return 0;
}

/*
 * HOST:JAIL[,HOST:JAIL...] (a bare PORT is PORT:PORT) appended to fw. "" is no forward. A host
 * port may appear once: two listeners cannot share it.
 */
static int parse_forwards(const char *spec, struct opts_forwards *fw, const char *who, char *err,
			  size_t errlen)
{
	char item[32], hp[16], q[QLEN];
	const char *p = spec, *comma, *colon;
	struct opts_forward f;
	size_t n, i;

	while (*p) {
		comma = strchr(p, ',');
		n = comma ? (size_t)(comma - p) : strlen(p);
		if (n == 0 || n >= sizeof(item))
			goto bad;
		memcpy(item, p, n);
		item[n] = '\0';
		colon = strchr(item, ':');
		if (colon) {
			if ((size_t)(colon - item) >= sizeof(hp))
				goto bad;
			memcpy(hp, item, (size_t)(colon - item));
			hp[colon - item] = '\0';
			if (parse_port(hp, &f.host) != 0 || parse_port(colon + 1, &f.jail) != 0)
				goto bad;
		} else {
			if (parse_port(item, &f.host) != 0)
				goto bad;
			f.jail = f.host;
		}
		for (i = 0; i < fw->n; i++) {
			if (fw->v[i].host == f.host) {
				snprintf(err, errlen,
					 "%s %s: host port %u is forwarded twice (each host port "
					 "can reach one jail port)",
					 who, opts_quote(spec, q, sizeof(q)), f.host);
				return -EINVAL;
			}
		}
		if (fw->n == OPTS_MAX_FORWARDS) {
			snprintf(err, errlen, "%s: more than %d forwarded ports", who,
				 OPTS_MAX_FORWARDS);
			return -EINVAL;
		}
		fw->v[fw->n++] = f;
		p += n;
		if (*p == ',') {
			p++;
			if (!*p)
				goto bad;
		}
	}
	return 0;
bad:
	snprintf(err, errlen,
		 "%s %s: not a port forward (use HOST:JAIL, ports 1-65535, e.g. 8080:3000; "
		 "several separated by commas)",
		 who, opts_quote(spec, q, sizeof(q)));
	return -EINVAL;
}

/* Checks one rule by adding it to a throwaway set. */
static int check_rule(const char *spec, const char *who, char *err, size_t errlen)
{
	struct rules *r = rules_new();
	char why[256] = "", q[QLEN];
	size_t col = 0;
	int ret;

	if (!r) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	ret = rules_add(r, spec, &col, why, sizeof(why));
	if (ret < 0) {
		if (!why[0])
			snprintf(why, sizeof(why), "%s", rules_strerror(ret));
		snprintf(err, errlen, "%s %s: column %zu: %s", who, opts_quote(spec, q, sizeof(q)),
			 col, why);
		ret = ret == -RULES_E_NOMEM ? -ENOMEM : -EINVAL;
	}
	rules_free(r);
	return ret;
}

int opts_set(struct opts *o, const struct opts_def *d, const char *value, enum opts_src src,
	     const char *who, char *err, size_t errlen)
{
	void *field = (char *)o + d->off;
	bool store = src >= o->src[d->id];
	struct opts_user user;
	enum log_level level;
	char q[QLEN];
	uint16_t port;
	int ret;
	bool b;

	opts_quote(value, q, sizeof(q));
	switch (d->type) {
	case OPTS_T_STRING:
		if (store) {
			free(*(char **)field);
			*(char **)field = xstrdup(value);
		}
		break;
	case OPTS_T_BOOL:
		if (parse_bool(value, &b) != 0) {
			snprintf(err, errlen, "%s %s: not a boolean (use true or false)", who, q);
			return -EINVAL;
		}
		if (store)
			*(bool *)field = b;
		break;
	case OPTS_T_PORT:
		if (parse_port(value, &port) != 0) {
			snprintf(err, errlen, "%s %s: not a port number (use 1-65535)", who, q);
			return -EINVAL;
		}
		if (store)
			*(uint16_t *)field = port;
		break;
	case OPTS_T_SECONDS: {
		unsigned long secs;
		char *end;

		errno = 0;
		secs = strtoul(value, &end, 10);
		if (errno || end == value || *end || value[0] == '-' || secs < 1 || secs > 86400) {
			snprintf(err, errlen, "%s %s: not a number of seconds (use 1-86400)", who,
				 q);
			return -EINVAL;
		}
		if (store)
			*(unsigned *)field = (unsigned)secs;
		break;
	}
	case OPTS_T_LOG_LEVEL:
		if (log_level_parse(value, &level) != 0) {
			snprintf(err, errlen,
				 "%s %s: not a log level (use error, warn, info or debug)", who, q);
			return -EINVAL;
		}
		if (store)
			*(enum log_level *)field = level;
		break;
	case OPTS_T_JAIL:
		if (strcmp(value, "nsjail") == 0) {
			if (store)
				*(enum opts_jail *)field = OPTS_JAIL_NSJAIL;
		} else if (strcmp(value, "landjail") == 0 || strcmp(value, "landlock") == 0) {
			if (store)
				*(enum opts_jail *)field = OPTS_JAIL_LANDJAIL;
		} else if (strcmp(value, "weak") == 0) {
			if (store)
				*(enum opts_jail *)field = OPTS_JAIL_WEAK;
		} else {
			/* q without its quotes, escaped; coder says "invalid JailType: X". */
			snprintf(err, errlen,
				 "%s: invalid JailType: %.*s (use nsjail, landlock (or landjail) "
				 "or weak)",
				 who, (int)(strlen(q) - 2), q + 1);
			return -EINVAL;
		}
		break;
	case OPTS_T_USER:
		ret = resolve_user(value, &user, who, err, errlen);
		if (ret)
			return ret;
		if (store) {
			free(((struct opts_user *)field)->spec);
			*(struct opts_user *)field = user;
		} else {
			free(user.spec);
		}
		break;
	case OPTS_T_FORWARD: {
		/* A higher source replaces the list; the same one (a repeated flag) appends. */
		struct opts_forwards fw = {.n = 0};

		if (src == o->src[d->id] && src != OPTS_SRC_DEFAULT)
			fw = *(struct opts_forwards *)field;
		ret = parse_forwards(value, &fw, who, err, errlen);
		if (ret)
			return ret;
		if (store)
			*(struct opts_forwards *)field = fw;
		break;
	}
	case OPTS_T_RULES:
		ret = check_rule(value, who, err, errlen);
		if (ret)
			return ret;
		if (src == OPTS_SRC_FILE)
			strv_push(&((struct opts_list *)field)->file, value);
		else if (store)
			strv_push(&((struct opts_list *)field)->cli, value);
		break;
	default:
		snprintf(err, errlen, "%s takes no value here", who);
		return -EINVAL;
	}
	if (store)
		o->src[d->id] = src;
	return 0;
}

void opts_init(struct opts *o)
{
	char err[256];
	size_t i;

	memset(o, 0, sizeof(*o));
	for (i = 0; i < OPTS__COUNT; i++) {
		if (!defs[i].def)
			continue;
		if (opts_set(o, &defs[i], defs[i].def, OPTS_SRC_DEFAULT, defs[i].flag, err,
			     sizeof(err)) != 0)
			fatalx("%s: bad default: %s", __func__, err);
	}
}

void opts_fini(struct opts *o)
{
	size_t i;

	strv_free(&o->allow.file);
	strv_free(&o->allow.cli);
	strv_free(&o->inject.file);
	strv_free(&o->inject.cli);
	/* Every string option the table names, so a new one cannot be forgotten here. */
	for (i = 0; i < OPTS__COUNT; i++) {
		if (defs[i].type == OPTS_T_STRING) {
			char **field = (char **)((char *)o + defs[i].off);

			free(*field);
			*field = NULL;
		}
	}
	free(o->user.spec);
	for (i = 0; i < o->n_tests; i++) {
		free(o->tests[i].method);
		free(o->tests[i].url);
	}
	free(o->tests);
	free(o->log_files);
	free(o->attach_cgroup);
	free(o->attach_container);
	free(o->attach_unit);
	free(o->config_read);
	rules_free(o->rules);
	memset(o, 0, sizeof(*o));
}

/* Levenshtein distance, ASCII case-insensitive, '-' and '_' equal; SIZE_MAX past 64 bytes. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	size_t row[65];

	if (la > 64 || lb > 64)
		return SIZE_MAX;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (j = 1; j <= lb; j++) {
			int ca = tolower((unsigned char)a[i - 1]);
			int cb = tolower((unsigned char)b[j - 1]);
			size_t up = row[j], best;

			if (ca == '-')
				ca = '_';
			if (cb == '-')
				cb = '_';
			best = diag + (ca != cb);
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			diag = up;
			row[j] = best;
		}
	}
	return row[lb];
}

/*
 * The entry whose flag (yaml false) or key (yaml true) is nearest to word within distance 2
 * (and closer than word's own length, so "x" suggests nothing). For keys, a flag's name also
 * counts ("allow" suggests "allowlist"), and for flags a unique prefix does ("allo").
 */
static const struct opts_def *suggest(const char *word, bool yaml)
{
	const struct opts_def *best = NULL, *prefix = NULL;
	size_t best_d = 3, i, d, wlen = strlen(word);
	int nprefix = 0;

	for (i = 0; i < OPTS__COUNT; i++) {
		if (yaml && !defs[i].yaml)
			continue;
		d = edit_distance(word, yaml ? defs[i].yaml : defs[i].flag);
		if (yaml && defs[i].flag) {
			size_t fd = edit_distance(word, defs[i].flag);

			if (fd < d)
				d = fd;
		}
		if (d < best_d && d < wlen) {
			best_d = d;
			best = &defs[i];
		}
		if (!yaml && wlen >= 2 && strncmp(defs[i].flag, word, wlen) == 0) {
			prefix = &defs[i];
			nprefix++;
		}
	}
	if (!best && nprefix == 1)
		best = prefix;
	return best;
}

const char *opts_suggest_flag(const char *word)
{
	const struct opts_def *d = suggest(word, false);

	return d ? d->flag : NULL;
}

const char *opts_suggest_yaml(const char *word)
{
	const struct opts_def *d = suggest(word, true);

	return d ? d->yaml : NULL;
}

static bool needs_quotes(const char *s)
{
	for (; *s; s++) {
		if ((unsigned char)*s <= ' ' || *s == 0x7f || *s == '"' || *s == '\\')
			return true;
	}
	return false;
}

/* "unknown flag --alow (did you mean --allow?)"; word is the argument as typed. */
static int unknown_flag(const char *word, char *err, size_t errlen)
{
	char name[128], q[QLEN];
	const char *s = word, *hint;
	size_t n;

	while (*s == '-')
		s++;
	n = strcspn(s, "=");
	if (n >= sizeof(name))
		n = sizeof(name) - 1;
	memcpy(name, s, n);
	name[n] = '\0';
	n = strcspn(word, "=");
	hint = opts_suggest_flag(name);
	opts_quote(word, q, sizeof(q));
	/* Print the flag bare unless it needs quoting to be read. */
	if (n < 128 && !needs_quotes(word))
		snprintf(q, sizeof(q), "%.*s", (int)n, word);
	if (hint)
		snprintf(err, errlen, "unknown flag %s (did you mean --%s?)", q, hint);
	else
		snprintf(err, errlen, "unknown flag %s (see boundary --help)", q);
	return -EINVAL;
}

/* A METHOD for --test: 1 to 32 of A-Z, '-' and '_'. */
static bool is_method(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > 32)
		return false;
	for (i = 0; i < len; i++) {
		if (!((s[i] >= 'A' && s[i] <= 'Z') || s[i] == '-' || s[i] == '_'))
			return false;
	}
	return true;
}

static void add_test(struct opts *o, const char *method, size_t mlen, const char *url)
{
	struct opts_test *t = realloc(o->tests, (o->n_tests + 1) * sizeof(*t));

	if (!t)
		fatal("out of memory");
	o->tests = t;
	t = &o->tests[o->n_tests++];
	t->method = strndup(method, mlen);
	t->url = xstrdup(url);
	if (!t->method)
		fatal("out of memory");
}

/*
 * --test [METHOD] URL: arg is a METHOD if it looks like one and a next argument follows that
 * is not a flag (it is the URL, consumed here); "GET https://x" in one argument also works;
 * anything else is a URL tested with GET.
 */
static void parse_test(struct opts *o, const char *arg, int argc, char *argv[])
{
	const char *sp = strchr(arg, ' ');
	const char *url;

	if (is_method(arg, strlen(arg)) && optind < argc && argv[optind][0] != '-') {
		add_test(o, arg, strlen(arg), argv[optind]);
		optind++;
		return;
	}
	if (sp && is_method(arg, (size_t)(sp - arg))) {
		url = sp + strspn(sp, " ");
		if (*url) {
			add_test(o, arg, (size_t)(sp - arg), url);
			return;
		}
	}
	add_test(o, "GET", 3, arg);
}

#define LOG_SUMMARY_USAGE "boundary log summary [--format table|json] FILE..."
#define ATTACH_USAGE	  "boundary attach --cgroup PATH|--container ID|--systemd-unit UNIT [flags]"

/*
 * attach ARGS: args[0] is "attach". Its own flags (--cgroup, --container, --systemd-unit,
 * --kill-existing-sockets, as "--flag VALUE" or "--flag=VALUE") are taken out; the rest must be
 * boundary's ordinary flags (the rules, --audit-log, ...), parsed as if they came first.
 */
static int parse_attach(struct opts *o, int nargs, char **args, char *err, size_t errlen)
{
	static const char *const names[] = {"cgroup", "container", "systemd-unit"};
	char **fields[] = {&o->attach_cgroup, &o->attach_container, &o->attach_unit};
	char **rest, q[QLEN];
	const char *a, *v;
	int i, k, n = 1, ret = -EINVAL, given = 0;
	size_t len;

	rest = calloc((size_t)nargs + 1, sizeof(*rest));
	if (!rest) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	rest[0] = args[0];
	for (i = 1; i < nargs; i++) {
		a = args[i];
		if (strcmp(a, "--") == 0) {
			/* Everything after it would be a command: keep it, to be refused below. */
			while (i < nargs)
				rest[n++] = args[i++];
			break;
		}
		if (strcmp(a, "--kill-existing-sockets") == 0) {
			o->kill_existing_sockets = true;
			continue;
		}
		for (k = 0; k < 3; k++) {
			len = strlen(names[k]);
			if (strncmp(a, "--", 2) == 0 && strncmp(a + 2, names[k], len) == 0 &&
			    (a[2 + len] == '\0' || a[2 + len] == '='))
				break;
		}
		if (k == 3) {
			rest[n++] = args[i];
			continue;
		}
		if (a[2 + len] == '=') {
			v = a + 3 + len;
		} else if (i + 1 < nargs) {
			v = args[++i];
		} else {
			snprintf(err, errlen,
				 "attach: --%s needs a value (usage: " ATTACH_USAGE ")", names[k]);
			goto out;
		}
		if (!v[0]) {
			snprintf(err, errlen, "attach: --%s is empty", names[k]);
			goto out;
		}
		free(*fields[k]);
		*fields[k] = strdup(v);
		if (!*fields[k]) {
			snprintf(err, errlen, "out of memory");
			ret = -ENOMEM;
			goto out;
		}
	}
	for (k = 0; k < 3; k++)
		given += *fields[k] != NULL;
	if (given != 1) {
		snprintf(err, errlen,
			 "attach needs exactly one of --cgroup, --container and --systemd-unit "
			 "(usage: " ATTACH_USAGE ")");
		goto out;
	}
	ret = opts_parse_args(o, n, rest, err, errlen);
	if (ret)
		goto out;
	ret = -EINVAL;
	if (o->action == OPTS_HELP_SHOW || o->action == OPTS_VERSION_SHOW) {
		ret = 0;
		goto out;
	}
	if (o->action != OPTS_RUN || o->argv) {
		snprintf(err, errlen,
			 "attach runs no command and takes no subcommand (got %s); it jails what "
			 "already runs in the cgroup (usage: " ATTACH_USAGE ")",
			 o->argv		       ? opts_quote(o->argv[0], q, sizeof(q))
			 : o->action == OPTS_TEST_URLS ? "--test"
						       : "a subcommand");
		o->argv = NULL;
		goto out;
	}
	o->action = OPTS_ATTACH;
	ret = 0;
out:
	o->argv = NULL;
	free(rest);
	return ret;
}

/*
 * log SUBCOMMAND ARGS: args are what follows "log". Only summary exists; its own flags may come
 * before or between the files, and "--" ends them ("-" is standard input, a file).
 */
static int parse_log(struct opts *o, int nargs, char **args, char *err, size_t errlen)
{
	const char *fmt;
	char q[QLEN];
	bool flags = true;
	int i, n = 0;

	if (nargs == 0) {
		snprintf(err, errlen, "log needs a subcommand (usage: " LOG_SUMMARY_USAGE ")");
		return -EINVAL;
	}
	if (strcmp(args[0], "summary") != 0) {
		opts_quote(args[0], q, sizeof(q));
		if (edit_distance(args[0], "summary") <= 2)
			snprintf(err, errlen, "unknown log subcommand %s (did you mean summary?)",
				 q);
		else
			snprintf(err, errlen,
				 "unknown log subcommand %s (the one there is: " LOG_SUMMARY_USAGE
				 ")",
				 q);
		return -EINVAL;
	}
	/* At most nargs - 1 files, and a NULL after them. */
	free(o->log_files);
	o->log_files = calloc((size_t)nargs, sizeof(*o->log_files));
	if (!o->log_files)
		fatal("out of memory");
	for (i = 1; i < nargs; i++) {
		fmt = NULL;
		if (flags && strcmp(args[i], "--") == 0) {
			flags = false;
			continue;
		}
		if (flags && (strcmp(args[i], "-h") == 0 || strcmp(args[i], "--help") == 0)) {
			o->action = OPTS_HELP_SHOW;
			return 0;
		}
		if (flags && strcmp(args[i], "--format") == 0) {
			if (i + 1 == nargs) {
				snprintf(err, errlen,
					 "log summary: --format needs a value (table or json)");
				return -EINVAL;
			}
			fmt = args[++i];
		} else if (flags && strncmp(args[i], "--format=", 9) == 0) {
			fmt = args[i] + 9;
		} else if (flags && args[i][0] == '-' && args[i][1] != '\0') {
			snprintf(err, errlen,
				 "log summary: unknown flag %s (usage: " LOG_SUMMARY_USAGE ")",
				 opts_quote(args[i], q, sizeof(q)));
			return -EINVAL;
		} else {
			o->log_files[n++] = args[i];
			continue;
		}
		if (strcmp(fmt, "table") == 0 || strcmp(fmt, "json") == 0) {
			o->log_json = strcmp(fmt, "json") == 0;
			continue;
		}
		snprintf(err, errlen, "log summary: --format %s: use table or json",
			 opts_quote(fmt, q, sizeof(q)));
		return -EINVAL;
	}
	if (n == 0) {
		snprintf(err, errlen,
			 "log summary needs an audit log to read (usage: " LOG_SUMMARY_USAGE
			 "; - reads standard input)");
		return -EINVAL;
	}
	o->n_log_files = (size_t)n;
	o->action = OPTS_LOG_SUMMARY;
	return 0;
}

/* serve [flags]: the flags after "serve" as if they came before it; no command, no --test. */
static int parse_serve(struct opts *o, int argc, char *argv[], char *err, size_t errlen)
{
	char q[QLEN];
	int ret;

	if (argc > 1) {
		ret = opts_parse_args(o, argc, argv, err, errlen);
		if (ret || o->action == OPTS_HELP_SHOW || o->action == OPTS_VERSION_SHOW)
			return ret;
		if (o->action != OPTS_RUN || o->argv) {
			snprintf(err, errlen,
				 "serve runs no command and takes no subcommand (drop %s; usage: "
				 "boundary serve --listen ADDR:PORT [flags])",
				 o->argv ? opts_quote(o->argv[0], q, sizeof(q))
					 : "--test or the subcommand");
			return -EINVAL;
		}
	}
	o->argv = NULL;
	o->action = OPTS_SERVE;
	return 0;
}

int opts_parse_args(struct opts *o, int argc, char *argv[], char *err, size_t errlen)
{
	struct option lo[OPTS__COUNT + 1];
	const struct opts_def *d;
	bool dashdash = false;
	char who[64], q[QLEN];
	int c, prev, nrest;
	char **rest;
	size_t i;

	memset(lo, 0, sizeof(lo));
	for (i = 0; i < OPTS__COUNT; i++) {
		lo[i].name = defs[i].flag;
		if (defs[i].type == OPTS_T_BOOL)
			lo[i].has_arg = optional_argument;
		else if (defs[i].type == OPTS_T_ACTION)
			lo[i].has_arg = no_argument;
		else
			lo[i].has_arg = required_argument;
		lo[i].val = OPT_VAL_BASE + (int)i;
	}

	/* Our messages only; optind = 0 makes glibc start over, so this can run twice. */
	opterr = 0;
	optind = 0;
	for (;;) {
		prev = optind < 1 ? 1 : optind;
		c = getopt_long(argc, argv, "+:h", lo, NULL);
		if (c == -1) {
			if (optind == prev + 1 && strcmp(argv[prev], "--") == 0)
				dashdash = true;
			break;
		}
		if (c == 'h') {
			o->action = OPTS_HELP_SHOW;
			return 0;
		}
		if (c == ':' || c == '?') {
			if (optopt >= OPT_VAL_BASE && optopt < OPT_VAL_BASE + OPTS__COUNT) {
				d = &defs[optopt - OPT_VAL_BASE];
				if (c == ':')
					snprintf(err, errlen, "--%s needs a value (--%s %s)",
						 d->flag, d->flag, d->arg ? d->arg : "VALUE");
				else
					snprintf(err, errlen, "--%s takes no value", d->flag);
				return -EINVAL;
			}
			return unknown_flag(argv[prev], err, errlen);
		}
		if (c < OPT_VAL_BASE || c >= OPT_VAL_BASE + OPTS__COUNT)
			return unknown_flag(argv[prev], err, errlen);
		d = &defs[c - OPT_VAL_BASE];
		/* getopt_long takes unique prefixes ("--allo"); coder/boundary does not. */
		if (strncmp(argv[prev], "--", 2) != 0 ||
		    strncmp(argv[prev] + 2, d->flag, strlen(d->flag)) != 0 ||
		    (argv[prev][2 + strlen(d->flag)] != '\0' &&
		     argv[prev][2 + strlen(d->flag)] != '='))
			return unknown_flag(argv[prev], err, errlen);
		snprintf(who, sizeof(who), "--%s", d->flag);
		switch (d->type) {
		case OPTS_T_ACTION:
			o->action = d->id == OPTS_VERSION ? OPTS_VERSION_SHOW : OPTS_HELP_SHOW;
			return 0;
		case OPTS_T_TEST:
			parse_test(o, optarg, argc, argv);
			break;
		case OPTS_T_BOOL:
			if (opts_set(o, d, optarg ? optarg : "true", OPTS_SRC_FLAG, who, err,
				     errlen) != 0)
				return -EINVAL;
			break;
		default:
			if (opts_set(o, d, optarg, OPTS_SRC_FLAG, who, err, errlen) != 0)
				return -EINVAL;
			break;
		}
	}

	rest = argv + optind;
	nrest = argc - optind;
	if (!dashdash && nrest > 0 && strcmp(rest[0], "generate-config") == 0) {
		if (nrest > 1) {
			snprintf(err, errlen, "generate-config takes no arguments (got %s)",
				 opts_quote(rest[1], q, sizeof(q)));
			return -EINVAL;
		}
		o->action = OPTS_GENERATE_CONFIG;
		return 0;
	}
	if (!dashdash && nrest > 0 && strcmp(rest[0], "cleanup") == 0) {
		if (nrest > 1) {
			snprintf(err, errlen, "cleanup takes no arguments (got %s)",
				 opts_quote(rest[1], q, sizeof(q)));
			return -EINVAL;
		}
		o->action = OPTS_CLEANUP;
		return 0;
	}
	if (!dashdash && nrest > 0 && strcmp(rest[0], "log") == 0)
		return parse_log(o, nrest - 1, rest + 1, err, errlen);
	/* Not again inside parse_attach, which has set one of the three already. */
	if (!dashdash && nrest > 0 && strcmp(rest[0], "attach") == 0 && !o->attach_cgroup &&
	    !o->attach_container && !o->attach_unit)
		return parse_attach(o, nrest, rest, err, errlen);
	if (!dashdash && nrest > 0 && strcmp(rest[0], "serve") == 0)
		return parse_serve(o, nrest, rest, err, errlen);
	if (o->n_tests > 0) {
		if (nrest > 0) {
			snprintf(err, errlen,
				 "--test runs no command (drop %s, or the --test flags to run it)",
				 opts_quote(rest[0], q, sizeof(q)));
			return -EINVAL;
		}
		o->action = OPTS_TEST_URLS;
		return 0;
	}
	o->action = OPTS_RUN;
	o->argv = nrest > 0 ? rest : NULL;
	return 0;
}

int opts_parse_env(struct opts *o, char *err, size_t errlen)
{
	const char *v;
	size_t i;
	int ret;

	for (i = 0; i < OPTS__COUNT; i++) {
		if (!defs[i].env || o->src[i] >= OPTS_SRC_ENV)
			continue;
		v = getenv(defs[i].env);
		/* Set but empty reads as unset, as a shell's VAR= usually means. */
		if (!v || !*v)
			continue;
		ret = opts_set(o, &defs[i], v, OPTS_SRC_ENV, defs[i].env, err, errlen);
		if (ret)
			return ret;
	}
	return 0;
}

/* Under sudo (euid 0, SUDO_USER set and not root) the command runs as SUDO_UID:SUDO_GID. */
static int sudo_user(struct opts *o, char *err, size_t errlen)
{
	const char *name = getenv("SUDO_USER");
	const char *uid = getenv("SUDO_UID"), *gid = getenv("SUDO_GID");
	unsigned int u, g;

	if (geteuid() != 0 || !name || !*name || strcmp(name, "root") == 0)
		return 0;
	if (!uid || !gid || parse_id(uid, &u) != 0 || parse_id(gid, &g) != 0) {
		snprintf(err, errlen,
			 "SUDO_USER is set but SUDO_UID or SUDO_GID is missing or not a number; "
			 "name the user to run the command as with --user");
		return -EINVAL;
	}
	o->user.set = true;
	o->user.uid = (uid_t)u;
	o->user.gid = (gid_t)g;
	return 0;
}

static int compile(struct rules *r, const struct opts_strv *sv, char *err, size_t errlen)
{
	char why[256] = "", q[QLEN];
	size_t i, col = 0;
	int ret;

	for (i = 0; i < sv->n; i++) {
		ret = rules_add(r, sv->v[i], &col, why, sizeof(why));
		if (ret < 0) {
			snprintf(err, errlen, "rule %s: column %zu: %s",
				 opts_quote(sv->v[i], q, sizeof(q)), col,
				 why[0] ? why : rules_strerror(ret));
			return ret == -RULES_E_NOMEM ? -ENOMEM : -EINVAL;
		}
	}
	return 0;
}

/*
 * The --save-rules file's rules, added to r: one a line, blank lines and "#" comments skipped.
 * A missing file is an empty one (--interactive creates it). Returns 0, or -EINVAL with err set.
 */
static int load_saved_rules(const char *path, struct rules *r, char *err, size_t errlen)
{
	char line[RULES_MAX_SPEC + 2], why[256] = "", q[QLEN];
	size_t n, col = 0;
	unsigned lineno = 0;
	char *p;
	FILE *f;
	int ret = 0;

	f = fopen(path, "re");
	if (!f) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "--save-rules %s: cannot read it: %s",
			 opts_quote(path, q, sizeof(q)), strerror(errno));
		return -EINVAL;
	}
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		n = strcspn(line, "\r\n");
		line[n] = '\0';
		for (p = line; *p == ' ' || *p == '\t'; p++)
			;
		if (!*p || *p == '#')
			continue;
		ret = rules_add(r, p, &col, why, sizeof(why));
		if (ret < 0) {
			snprintf(err, errlen, "%s:%u:%zu: rule %s: %s (fix or delete that line)",
				 path, lineno, col + (size_t)(p - line),
				 opts_quote(p, q, sizeof(q)), why[0] ? why : rules_strerror(ret));
			ret = ret == -RULES_E_NOMEM ? -ENOMEM : -EINVAL;
			break;
		}
	}
	fclose(f);
	return ret < 0 ? ret : 0;
}

int opts_finish(struct opts *o, char *err, size_t errlen)
{
	int ret;

	if (o->dry_run && (o->interactive || o->rules_program[0])) {
		snprintf(err, errlen,
			 "--dry-run allows everything, so there is nothing for %s to decide; use "
			 "one or the other",
			 o->interactive ? "--interactive" : "--rules-program");
		return -EINVAL;
	}
	if (o->interactive && o->rules_program[0]) {
		snprintf(err, errlen,
			 "--interactive and --rules-program both decide what the rules refuse; "
			 "choose one");
		return -EINVAL;
	}

	if ((o->jail_type != OPTS_JAIL_NSJAIL || o->action == OPTS_SERVE) &&
	    (o->dry_run || o->interactive || o->rules_program[0])) {
		snprintf(err, errlen, "%s works with boundary's own jail (--jail-type nsjail) only",
			 o->dry_run	  ? "--dry-run"
			 : o->interactive ? "--interactive"
					  : "--rules-program");
		return -EINVAL;
	}
	if (o->action != OPTS_SERVE && o->src[OPTS_LISTEN] == OPTS_SRC_FLAG) {
		snprintf(err, errlen,
			 "--listen is for boundary serve (boundary serve --listen ADDR:PORT); a "
			 "jail's proxy port is --proxy-port");
		return -EINVAL;
	}
	if (!o->user.set) {
		ret = sudo_user(o, err, errlen);
		if (ret)
			return ret;
	}
	rules_free(o->rules);
	o->rules = rules_new();
	if (!o->rules) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	return opts_rules_compile(o, &o->allow.file, o->rules, err, errlen);
}

int opts_rules_compile(const struct opts *o, const struct opts_strv *file, struct rules *r,
		       char *err, size_t errlen)
{
	int ret;

	ret = compile(r, file, err, errlen);
	if (!ret)
		ret = compile(r, &o->allow.cli, err, errlen);
	/* The --save-rules file too: on a reload it may have grown ("always" answers). */
	if (!ret && o->save_rules && o->save_rules[0])
		ret = load_saved_rules(o->save_rules, r, err, errlen);
	return ret;
}

void opts_usage(FILE *f)
{
	static const char *const tail[] = {"and", "environment", "variables", "(man", "boundary)."};
	const size_t n_tail = sizeof(tail) / sizeof(tail[0]);
	char left[64], word[80];
	size_t i, col;
	int n;

	fputs("Usage: boundary [flags] -- command [args...]\n"
	      "       boundary [flags] --test [METHOD] URL\n"
	      "       boundary generate-config > ~/.config/coder_boundary/config.yaml\n"
	      "       boundary cleanup    (remove what killed boundaries left behind)\n"
	      "       boundary serve --listen ADDR:PORT [flags]   (the proxy alone)\n"
	      "       " LOG_SUMMARY_USAGE "\n"
	      "       " ATTACH_USAGE "\n"
	      "\n"
	      "Runs command (or $SHELL) with its network jailed: a request gets out only if\n"
	      "an allow rule matches it, like \"method=GET domain=*.github.com path=/api/*\".\n"
	      "\n"
	      "Flags:\n",
	      f);
	for (i = 0; i < OPTS__COUNT; i++) {
		const struct opts_def *d = &defs[i];

		if (!d->brief)
			continue;
		if (d->short_flag)
			snprintf(left, sizeof(left), "-%c, --%s", d->short_flag, d->flag);
		else
			snprintf(left, sizeof(left), "--%s%s%s", d->flag, d->arg ? " " : "",
				 d->arg ? d->arg : "");
		fprintf(f, "  %-21s %s\n", left, d->help);
	}
	/* The rest by name only, then a note, word by word, wrapped at 80 columns. */
	fputs("Also:", f);
	col = strlen("Also:");
	for (i = 0; i < OPTS__COUNT + n_tail; i++) {
		if (i < OPTS__COUNT && defs[i].brief)
			continue;
		if (i < OPTS__COUNT)
			n = snprintf(word, sizeof(word), "--%s,", defs[i].flag);
		else
			n = snprintf(word, sizeof(word), "%s", tail[i - OPTS__COUNT]);
		if (n < 0)
			continue;
		if (col + 1 + (size_t)n > 79) {
			fputs("\n ", f);
			col = 1;
		}
		fprintf(f, " %s", word);
		col += 1 + (size_t)n;
	}
	fputs("\n"
	      "\n"
	      "Examples:\n"
	      "  sudo boundary --allow \"domain=api.anthropic.com\" -- claude\n"
	      "  boundary --allow \"domain=*.github.com\" --test https://api.github.com/repos\n",

	      f);
}
