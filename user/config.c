// SPDX-License-Identifier: MIT
/*
 * config.c: the YAML config file, read with libyaml's event parser. Owns the file's shape (one
 * document, a mapping at the root, scalars and lists of scalars as the option table says), the
 * file:line:column error messages, the default path and the generate-config template. Every
 * value goes through opts_set() as a file value, which checks it and lets flags and the
 * environment win; this file never interprets a value itself. Aliases are refused, so a small
 * file cannot expand into a large one.
 */
#include "user/config.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yaml.h>

#include "rules/rules.h"
#include "user/cli.h"
#include "user/opts.h"

#define QLEN 256

struct loader {
	yaml_parser_t parser;
	yaml_event_t ev; /* the current event, valid while have_ev */
	bool have_ev;
	const unsigned char *buf; /* the whole input, to place reader errors */
	size_t len;
	struct opts *o;
	const char *name;
	char *err;
	size_t errlen;
	size_t seen_line[OPTS__COUNT]; /* 1-based line where each key was set, 0 if not yet */
};

static int fail(struct loader *l, const yaml_mark_t *m, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* "name:line:column: message", 1-based. Returns -EINVAL. */
static int fail(struct loader *l, const yaml_mark_t *m, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(l->err, l->errlen, "%s:%zu:%zu: ", l->name, m->line + 1, m->column + 1);
	if (n < 0 || (size_t)n >= l->errlen)
		return -EINVAL;
	va_start(ap, fmt);
	vsnprintf(l->err + n, l->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int syntax_error(struct loader *l)
{
	const yaml_parser_t *p = &l->parser;
	const char *problem = p->problem ? p->problem : "not valid YAML";

	if (p->error == YAML_MEMORY_ERROR) {
		snprintf(l->err, l->errlen, "%s: out of memory", l->name);
		return -ENOMEM;
	}
	if (p->error == YAML_READER_ERROR) {
		/* The reader knows only a byte offset: count lines and columns ourselves. */
		yaml_mark_t m = {0, 0, 0};
		size_t i;

		for (i = 0; i < p->problem_offset && i < l->len; i++) {
			if (l->buf[i] == '\n') {
				m.line++;
				m.column = 0;
			} else {
				m.column++;
			}
		}
		return fail(l, &m, "%s (byte %zu)", problem, p->problem_offset);
	}
	if (p->context)
		return fail(l, &p->problem_mark, "%s (%s at line %zu)", problem, p->context,
			    p->context_mark.line + 1);
	return fail(l, &p->problem_mark, "%s", problem);
}

/* Moves to the next event. */
static int next(struct loader *l)
{
	if (l->have_ev) {
		yaml_event_delete(&l->ev);
		l->have_ev = false;
	}
	if (!yaml_parser_parse(&l->parser, &l->ev))
		return syntax_error(l);
	l->have_ev = true;
	if (l->ev.type == YAML_ALIAS_EVENT)
		return fail(l, &l->ev.start_mark, "aliases (*name) are not supported");
	return 0;
}

static const char *kind(const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_SEQUENCE_START_EVENT:
		return "a list";
	case YAML_MAPPING_START_EVENT:
		return "a mapping";
	default:
		return "a single value";
	}
}

/* A plain empty, ~ or null scalar: YAML's null, which leaves an option at its default. */
static bool is_null(const yaml_event_t *ev)
{
	const char *v = (const char *)ev->data.scalar.value;

	if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	return !*v || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 || strcmp(v, "Null") == 0 ||
	       strcmp(v, "NULL") == 0;
}

/* The current event is a scalar; refuses one with a NUL inside, which C strings would cut. */
static int scalar_ok(struct loader *l)
{
	if (strlen((const char *)l->ev.data.scalar.value) != l->ev.data.scalar.length)
		return fail(l, &l->ev.start_mark, "a value cannot contain a NUL character");
	return 0;
}

static int set_value(struct loader *l, const struct opts_def *d, const char *what)
{
	char who[512];

	snprintf(who, sizeof(who), "%s:%zu:%zu: %s", l->name, l->ev.start_mark.line + 1,
		 l->ev.start_mark.column + 1, what);
	return opts_set(l->o, d, (const char *)l->ev.data.scalar.value, OPTS_SRC_FILE, who, l->err,
			l->errlen);
}

/* The value of a list key, starting at the current event. */
static int load_list(struct loader *l, const struct opts_def *d)
{
	const char *item = d->id == OPTS_ALLOW || d->id == OPTS_DENY ? "rule"
			   : d->id == OPTS_SECRET		     ? "secret"
			   : d->type == OPTS_T_PATHS		     ? "path"
								     : "target";
	int ret;

	if (l->ev.type == YAML_SCALAR_EVENT && is_null(&l->ev))
		return 0;
	if (l->ev.type != YAML_SEQUENCE_START_EVENT)
		return fail(l, &l->ev.start_mark,
			    "%s must be a list of strings (- \"...\" lines, or [\"...\"]), not %s",
			    d->yaml, kind(&l->ev));
	for (;;) {
		ret = next(l);
		if (ret)
			return ret;
		if (l->ev.type == YAML_SEQUENCE_END_EVENT)
			return 0;
		if (l->ev.type != YAML_SCALAR_EVENT)
			return fail(l, &l->ev.start_mark,
				    "each item of %s must be a string, not %s", d->yaml,
				    kind(&l->ev));
		ret = scalar_ok(l);
		if (!ret)
			ret = set_value(l, d, item);
		if (ret)
			return ret;
	}
}

/* The value of a scalar key, at the current event. */
static int load_scalar(struct loader *l, const struct opts_def *d)
{
	int ret;

	if (l->ev.type != YAML_SCALAR_EVENT)
		return fail(l, &l->ev.start_mark, "%s must be a single value, not %s", d->yaml,
			    kind(&l->ev));
	if (is_null(&l->ev))
		return 0;
	ret = scalar_ok(l);
	if (ret)
		return ret;
	return set_value(l, d, d->yaml);
}

/* Whether d's YAML value is a list (rules, secrets, paths, binds) rather than one scalar. */
static bool is_list(const struct opts_def *d)
{
	return d->type == OPTS_T_RULES || d->type == OPTS_T_SECRETS || d->type == OPTS_T_PATHS ||
	       d->type == OPTS_T_BINDS;
}

/* The root mapping; the current event is its MAPPING_START. Consumes its MAPPING_END. */
static int load_mapping(struct loader *l)
{
	const struct opts_def *d;
	const char *key, *hint;
	yaml_mark_t mark;
	char q[QLEN];
	int ret;

	for (;;) {
		ret = next(l);
		if (ret)
			return ret;
		if (l->ev.type == YAML_MAPPING_END_EVENT)
			return 0;
		if (l->ev.type != YAML_SCALAR_EVENT)
			return fail(l, &l->ev.start_mark, "a key must be a name, not %s",
				    kind(&l->ev));
		ret = scalar_ok(l);
		if (ret)
			return ret;
		key = (const char *)l->ev.data.scalar.value;
		mark = l->ev.start_mark;
		d = opts_def_by_yaml(key);
		if (!d) {
			hint = opts_suggest_yaml(key);
			opts_quote(key, q, sizeof(q));
			if (hint)
				return fail(l, &mark, "unknown key %s (did you mean \"%s\"?)", q,
					    hint);
			return fail(l, &mark,
				    "unknown key %s (boundary generate-config lists every key)", q);
		}
		if (l->seen_line[d->id])
			return fail(l, &mark, "duplicate key \"%s\" (already set at line %zu)",
				    d->yaml, l->seen_line[d->id]);
		l->seen_line[d->id] = mark.line + 1;
		ret = next(l);
		if (ret)
			return ret;
		ret = is_list(d) ? load_list(l, d) : load_scalar(l, d);
		if (ret)
			return ret;
	}
}

/* One document at most; its root a mapping or null. */
static int load_stream(struct loader *l)
{
	int ret;

	ret = next(l);
	if (ret)
		return ret;
	if (l->ev.type != YAML_STREAM_START_EVENT)
		return fail(l, &l->ev.start_mark, "not a YAML stream");
	ret = next(l);
	if (ret || l->ev.type == YAML_STREAM_END_EVENT)
		return ret;
	ret = next(l); /* past DOCUMENT_START, to the root node */
	if (ret)
		return ret;
	if (l->ev.type == YAML_MAPPING_START_EVENT)
		ret = load_mapping(l);
	else if (l->ev.type != YAML_SCALAR_EVENT || !is_null(&l->ev))
		ret = fail(l, &l->ev.start_mark,
			   "the top level must be a mapping of keys (like \"proxy_port: 8080\"), "
			   "not %s",
			   kind(&l->ev));
	if (ret)
		return ret;
	ret = next(l); /* DOCUMENT_END */
	if (!ret)
		ret = next(l);
	if (ret)
		return ret;
	if (l->ev.type != YAML_STREAM_END_EVENT)
		return fail(l, &l->ev.start_mark, "only one YAML document is allowed (remove ---)");
	return 0;
}

int config_load_buffer(struct opts *o, const char *name, const unsigned char *buf, size_t len,
		       char *err, size_t errlen)
{
	struct loader l;
	int ret;

	memset(&l, 0, sizeof(l));
	l.buf = buf;
	l.len = len;
	l.o = o;
	l.name = name;
	l.err = err;
	l.errlen = errlen;
	if (!yaml_parser_initialize(&l.parser)) {
		snprintf(err, errlen, "%s: out of memory", name);
		return -ENOMEM;
	}
	yaml_parser_set_input_string(&l.parser, buf, len);
	ret = load_stream(&l);
	if (l.have_ev)
		yaml_event_delete(&l.ev);
	yaml_parser_delete(&l.parser);
	return ret;
}

int config_load_file(struct opts *o, const char *path, bool must_exist, char *err, size_t errlen)
{
	unsigned char *buf = NULL;
	size_t len = 0;
	struct stat st;
	char q[QLEN];
	ssize_t n;
	int fd, ret = 0;

	opts_quote(path, q, sizeof(q));
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd == -1) {
		ret = -errno;
		if (!must_exist && (ret == -ENOENT || ret == -ENOTDIR)) {
			ret = 0;
			goto out;
		}
		snprintf(err, errlen, "cannot read config file %s: %s", q, strerror(-ret));
		goto out;
	}
	if (fstat(fd, &st) == -1) {
		ret = -errno;
		snprintf(err, errlen, "cannot read config file %s: %s", q, strerror(-ret));
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		ret = -EISDIR;
		snprintf(err, errlen, "config file %s is a directory (name a YAML file)", q);
		goto out;
	}
	buf = malloc(CONFIG_MAX_SIZE + 1);
	if (!buf) {
		ret = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	while (len <= CONFIG_MAX_SIZE) {
		n = read(fd, buf + len, CONFIG_MAX_SIZE + 1 - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			ret = -errno;
			snprintf(err, errlen, "cannot read config file %s: %s", q, strerror(-ret));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > CONFIG_MAX_SIZE) {
		ret = -EFBIG;
		snprintf(err, errlen, "config file %s is larger than %d bytes", q, CONFIG_MAX_SIZE);
		goto out;
	}
	ret = config_load_buffer(o, path, buf, len, err, errlen);
	if (!ret) {
		free(o->config_read);
		o->config_read = strdup(path);
	}
out:
	free(buf);
	if (fd != -1)
		close(fd);
	return ret;
}

int config_dir_in(const char *home, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/.config/" CONFIG_DIR_NAME, home);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

const char *config_user_home(const struct opts_user *user)
{
	const struct passwd *pw = getpwuid(user && user->set ? user->uid : getuid());

	return pw ? pw->pw_dir : NULL;
}

int config_default_path(char *buf, size_t len)
{
	const char *sudo = getenv("SUDO_USER");
	const char *home = NULL;
	const struct passwd *pw;
	size_t n;

	if (geteuid() == 0 && sudo && *sudo && strcmp(sudo, "root") != 0) {
		pw = getpwnam(sudo);
		if (pw && pw->pw_dir && *pw->pw_dir)
			home = pw->pw_dir;
	}
	if (!home)
		home = getenv("HOME");
	if (!home || !*home) {
		pw = getpwuid(geteuid());
		home = pw ? pw->pw_dir : NULL;
	}
	if (!home || !*home)
		return -ENOENT;
	if (config_dir_in(home, buf, len) < 0)
		return -ENAMETOOLONG;
	n = strlen(buf);
	if (n + sizeof("/config.yaml") > len)
		return -ENAMETOOLONG;
	memcpy(buf + n, "/config.yaml", sizeof("/config.yaml"));
	return 0;
}

void config_generate(FILE *f)
{
	const struct opts_def *defs, *d;
	size_t i, n;

	defs = opts_defs(&n);
	fputs(
	    "# boundary configuration (YAML), written by boundary " BOUNDARY_VERSION ".\n"
	    "# Read from ~/.config/coder_boundary/config.yaml, or the file that --config or\n"
	    "# BOUNDARY_CONFIG names. A flag or environment variable overrides the key it\n"
	    "# matches, except the allowlist, which is merged: these rules, then every --allow.\n",
	    f);
	for (i = 0; i < n; i++) {
		d = &defs[i];
		if (!d->yaml)
			continue;
		fputc('\n', f);
		if (d->id == OPTS_ALLOW) {
			fputs(
			    "# Allow rules: a request gets out of the jail only if one of them "
			    "matches\n"
			    "# it; with none, every request is denied. A rule is\n"
			    "# [method=M,...] [domain=HOST] [path=/P,...] [port=N,...]\n"
			    "# [ip=NET,...] [exe=PATH,...] [max_body=SIZE] (see man boundary). A\n"
			    "# wildcard rule (domain=*, *.x.com) reaches no internal address\n"
			    "# (10/8, 127/8, ...) unless its ip= covers it. E.g.:\n"
			    "#allowlist:\n"
			    "#  - \"domain=api.anthropic.com\"\n"
			    "#  - \"method=GET,HEAD domain=*.github.com path=/api/*\"\n"
			    "# A rule for one program names its file: exe=/usr/bin/git (an\n"
			    "# interpreter runs as itself: exe=/usr/bin/python3 is every\n"
			    "# Python program).\n"
			    "#  - \"exe=/usr/bin/git domain=github.com\"\n"
			    "#  - \"method=POST domain=uploads.example.com max_body=10M\"\n"
			    "#  - \"domain=*.corp.example ip=10.0.0.0/8\"\n",
			    f);
		} else if (d->id == OPTS_DENY) {
			fputs("# Deny rules, in the same grammar: what one matches is refused even "
			      "when an\n"
			      "# allow rule matches it too, e.g.:\n"
			      "#deny:\n"
			      "#  - \"domain=*.internal.example.com\"\n"
			      "#  - \"method=DELETE,PUT domain=api.github.com\"\n",
			      f);
		} else {
			fprintf(f, "# %s.\n", d->help);
		}
		if (d->env)
			fprintf(f, "# Flag --%s, environment %s.\n", d->flag, d->env);
		if (is_list(d))
			fprintf(f, "%s: []\n", d->yaml);
		else if (d->type == OPTS_T_STRING || d->type == OPTS_T_USER ||
			 d->type == OPTS_T_FORWARD)
			fprintf(f, "%s: \"%s\"\n", d->yaml, d->def ? d->def : "");
		else
			fprintf(f, "%s: %s\n", d->yaml, d->def);
	}
}

const char *config_path(const struct opts *o, char *buf, size_t len)
{
	if (o->src[OPTS_CONFIG] != OPTS_SRC_DEFAULT) {
		if (!o->config || !o->config[0])
			return NULL;
		snprintf(buf, len, "%s", o->config);
		return buf;
	}
	return config_default_path(buf, len) == 0 ? buf : NULL;
}

int config_reload_rules(const struct opts *o, const char *path, bool must_exist, struct rules **out,
			size_t *n_file, char *err, size_t errlen)
{
	struct opts t;
	struct rules *r = NULL;
	char q[QLEN];
	int ret;

	/* A scratch set of options: the file's values are checked, then only its rules kept. */
	opts_init(&t);
	ret = config_load_file(&t, path, must_exist, err, errlen);
	if (ret == -ENOENT)
		snprintf(err, errlen, "config file %s is gone (the rules stay as they were)",
			 opts_quote(path, q, sizeof(q)));
	if (ret)
		goto out;
	r = rules_new();
	if (!r) {
		snprintf(err, errlen, "out of memory");
		ret = -ENOMEM;
		goto out;
	}
	ret = opts_rules_compile(o, &t.allow.file, &t.deny.file, r, err, errlen);
	if (ret)
		goto out;
	*n_file = t.allow.file.n + t.deny.file.n;
	*out = r;
	r = NULL;
out:
	rules_free(r);
	opts_fini(&t);
	return ret;
}

int config_load(struct opts *o, int argc, char *argv[], char *err, size_t errlen)
{
	char path[4096], q[QLEN];
	const char *who;
	int ret;

	ret = cli_parse_args(o, argc, argv, err, errlen);
	if (ret || !cli_reads_config(o))
		return ret;
	ret = opts_parse_env(o, err, errlen);
	if (ret)
		return ret;

	if (o->src[OPTS_CONFIG] != OPTS_SRC_DEFAULT) {
		who = o->src[OPTS_CONFIG] == OPTS_SRC_ENV ? "BOUNDARY_CONFIG" : "--config";
		/* --config "" reads no file at all. */
		if (o->config[0]) {
			ret = config_load_file(o, o->config, true, err, errlen);
			if (ret == -ENOENT)
				snprintf(err, errlen,
					 "%s %s: no such file (create one with: boundary "
					 "generate-config > %s)",
					 who, opts_quote(o->config, q, sizeof(q)), q);
		}
	} else if (config_default_path(path, sizeof(path)) == 0) {
		ret = config_load_file(o, path, false, err, errlen);
	}
	if (ret)
		return ret;
	return opts_finish(o, err, errlen);
}
