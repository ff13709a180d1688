// SPDX-License-Identifier: MIT
/*
 * secrets.c: --secret, the user's side. Parses each spec (secrets_parse(), pure, which opts.c
 * also runs on every value it is handed so a bad spec is refused where it was written), then at
 * start-up fetches each value into one locked region that core dumps and forked children never
 * see, makes each placeholder, and takes the values out of boundary's own environment. It owns
 * the values and the records the proxy borrows; it does not decide where a value may go (the
 * proxy does, with the domain rules made here) nor build the command's environment (setup.c,
 * from secrets_records()). Messages name a secret, its spec, a file or a column; never a value.
 */
#include "user/secrets.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proxy/log.h"
#include "rules/rules.h"
#include "user/opts.h"

/* Room for a quoted spec or path in a message. */
#define QLEN 256

/* A value's slot in the region: the longest value, a "\r\n" to strip, and a NUL after it. */
#define SLOT (SECRET_VALUE_MAX + 3)

/* Header fields a secret may not set: they frame or route the request, or are the proxy's. */
static const char *const refused_fields[] = {
    "host", "content-length", "transfer-encoding", "connection", "keep-alive", "proxy-connection",
    "te",   "trailer",	      "upgrade",
};

struct secrets {
	size_t n;
	struct secret rec[SECRET_MAX];
	struct secrets_spec *spec; /* n of them; each owns the rules its record borrows */
	char *region;		   /* n slots of SLOT bytes, the values */
	size_t region_len;
	bool locked;
};

/* The set the exit handler wipes: the one loaded and not yet freed. */
static struct secrets *live;

/* Fills why, sets *err_col to col; returns ret. */
static int parse_error(size_t *err_col, size_t col, char *why, size_t whylen, int ret,
		       const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static int parse_error(size_t *err_col, size_t col, char *why, size_t whylen, int ret,
		       const char *fmt, ...)
{
	va_list ap;

	*err_col = col;
	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	return ret;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* RFC 9110's tchar: what a header field name is made of. */
static bool is_tchar(char c)
{
	return is_alpha(c) || is_digit(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

const char *secrets_spec_name(const char *spec, size_t *len)
{
	while (is_blank(*spec))
		spec++;
	*len = strcspn(spec, " \t");
	return spec;
}

/* Appends ", " (unless first) and item[0..n) to the log's list of patterns, "..." if full. */
static void note_domain(struct secrets_spec *s, const char *item, size_t n)
{
	size_t have = strlen(s->domains), room = sizeof(s->domains) - have;
	int w;

	if (have >= 3 && strcmp(s->domains + have - 3, "...") == 0)
		return;
	w = snprintf(s->domains + have, room, "%s%.*s", have ? ", " : "", (int)n, item);
	if (w < 0 || (size_t)w >= room)
		memcpy(s->domains + sizeof(s->domains) - 4, "...", 4);
}

/*
 * domain=v[0..vlen): each comma-separated pattern compiled as its own rule "domain=PATTERN",
 * whose error column is mapped back to spec's.
 */
static int add_domains(struct secrets_spec *s, const char *spec, const char *v, size_t vlen,
		       size_t *err_col, char *why, size_t whylen)
{
	char rule[SECRETS_SPEC_MAX + 8], rwhy[256];
	const char *item = v, *end = v + vlen, *comma;
	size_t n, col, rcol;
	int ret;

	for (;;) {
		comma = memchr(item, ',', (size_t)(end - item));
		n = (size_t)((comma ? comma : end) - item);
		col = (size_t)(item - spec) + 1;
		if (n == 0)
			return parse_error(
			    err_col, col, why, whylen, -EINVAL,
			    "an empty domain pattern (write domain=example.com, several "
			    "as domain=a.com,*.b.com)");
		snprintf(rule, sizeof(rule), "domain=%.*s", (int)n, item);
		rcol = 0;
		rwhy[0] = '\0';
		ret = rules_add(s->rules, rule, &rcol, rwhy, sizeof(rwhy));
		/* The rule's column counts "domain=" (7 bytes) before the pattern. */
		col += rcol > 8 ? rcol - 8 : 0;
		if (ret == -RULES_E_PORT)
			return parse_error(
			    err_col, col, why, whylen, -EINVAL,
			    "a port cannot be part of a secret's domain (the value goes to "
			    "the host on any port: remove the port)");
		if (ret < 0)
			return parse_error(err_col, col, why, whylen,
					   ret == -RULES_E_NOMEM ? -ENOMEM : -EINVAL, "%s",
					   rwhy[0] ? rwhy : rules_strerror(ret));
		if (!rules_names_host(s->rules, rules_count(s->rules) - 1))
			return parse_error(
			    err_col, col, why, whylen, -EINVAL,
			    "domain=%.*s would let the value go to any host: name the "
			    "hosts it is for (domain=api.example.com)",
			    (int)n, item);
		note_domain(s, item, n);
		if (!comma)
			return 0;
		item = comma + 1;
	}
}

static int set_header(struct secrets_spec *s, const char *v, size_t vlen, size_t col,
		      size_t *err_col, char *why, size_t whylen)
{
	size_t i;

	if (s->header[0])
		return parse_error(err_col, col, why, whylen, -EINVAL,
				   "header= given twice (a secret sets one field)");
	if (vlen == 0)
		return parse_error(err_col, col + 7, why, whylen, -EINVAL,
				   "header= needs a field name (header=Authorization)");
	for (i = 0; i < vlen; i++)
		if (!is_tchar(v[i]))
			return parse_error(err_col, col + 7 + i, why, whylen, -EINVAL,
					   "a header field name is letters, digits and "
					   "!#$%%&'*+-.^_`|~ only (header=X-Api-Key)");
	if (vlen >= sizeof(s->header))
		return parse_error(err_col, col + 7, why, whylen, -EINVAL,
				   "the header field name is longer than %zu bytes",
				   sizeof(s->header) - 1);
	for (i = 0; i < sizeof(refused_fields) / sizeof(refused_fields[0]); i++)
		if (strlen(refused_fields[i]) == vlen &&
		    strncasecmp(v, refused_fields[i], vlen) == 0)
			return parse_error(
			    err_col, col + 7, why, whylen, -EINVAL,
			    "header=%.*s: that field frames or routes the request, so a "
			    "secret cannot set it (use the field the service reads, such as "
			    "Authorization)",
			    (int)vlen, v);
	memcpy(s->header, v, vlen);
	s->header[vlen] = '\0';
	return 0;
}

static int set_from(struct secrets_spec *s, const char *v, size_t vlen, size_t col, bool *seen,
		    size_t *err_col, char *why, size_t whylen)
{
	if (*seen)
		return parse_error(err_col, col, why, whylen, -EINVAL,
				   "from= given twice (a value comes from one place)");
	*seen = true;
	s->from_col = col;
	if (vlen == 3 && memcmp(v, "env", 3) == 0) {
		s->from = SECRETS_FROM_ENV;
		return 0;
	}
	if (vlen > 5 && memcmp(v, "file:", 5) == 0) {
		s->from = SECRETS_FROM_FILE;
		memcpy(s->path, v + 5, vlen - 5);
		s->path[vlen - 5] = '\0';
		return 0;
	}
	return parse_error(err_col, col + 5, why, whylen, -EINVAL,
			   "from= is env (boundary's environment variable of the secret's name) or "
			   "file:PATH");
}

/* A key= that is none of the three: says so, with the nearest key if one is close. */
static int unknown_key(const char *key, size_t klen, size_t col, size_t *err_col, char *why,
		       size_t whylen)
{
	static const char *const keys[] = {"domain", "header", "from"};
	char word[64], q[QLEN];
	size_t i, d, best_d = 3;
	const char *best = NULL;

	snprintf(word, sizeof(word), "%.*s", (int)klen, key);
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		d = opts_distance(word, keys[i]);
		if (d < best_d && d < klen) {
			best_d = d;
			best = keys[i];
		}
	}
	opts_quote(word, q, sizeof(q));
	if (best)
		return parse_error(err_col, col, why, whylen, -EINVAL,
				   "unknown key %s (did you mean %s=?)", q, best);
	return parse_error(err_col, col, why, whylen, -EINVAL,
			   "unknown key %s (a secret takes domain=, header= and from=)", q);
}

int secrets_parse(const char *spec, struct secrets_spec *out, size_t *err_col, char *why,
		  size_t whylen)
{
	const char *p = spec, *tok, *eq, *v;
	size_t len = strlen(spec), n, i, col, klen, vlen;
	bool seen_from = false;
	int ret;

	memset(out, 0, sizeof(*out));
	if (len >= SECRETS_SPEC_MAX)
		return parse_error(err_col, 1, why, whylen, -EINVAL,
				   "the secret is longer than %d bytes", SECRETS_SPEC_MAX - 1);
	tok = secrets_spec_name(p, &n);
	col = (size_t)(tok - spec) + 1;
	if (n == 0)
		return parse_error(
		    err_col, 1, why, whylen, -EINVAL,
		    "empty: write NAME domain=HOST (NAME is the environment variable the "
		    "command sees)");
	eq = memchr(tok, '=', n);
	if (eq)
		return parse_error(err_col, col, why, whylen, -EINVAL,
				   "a secret starts with its name, then its keys (GITHUB_TOKEN "
				   "domain=api.github.com)");
	for (i = 0; i < n; i++)
		if (!(tok[i] == '_' || is_alpha(tok[i]) || (i > 0 && is_digit(tok[i]))))
			return parse_error(
			    err_col, col + i, why, whylen, -EINVAL,
			    "a name is letters, digits and _, and does not start with a "
			    "digit (as an environment variable's)");
	if (n >= sizeof(out->name))
		return parse_error(err_col, col, why, whylen, -EINVAL,
				   "the name is longer than %zu bytes", sizeof(out->name) - 1);
	memcpy(out->name, tok, n);
	out->name[n] = '\0';
	out->from_col = col;
	out->rules = rules_new();
	if (!out->rules)
		return parse_error(err_col, 1, why, whylen, -ENOMEM, "out of memory");
	p = tok + n;
	for (;;) {
		while (is_blank(*p))
			p++;
		if (!*p)
			break;
		tok = p;
		n = strcspn(tok, " \t");
		p = tok + n;
		col = (size_t)(tok - spec) + 1;
		eq = memchr(tok, '=', n);
		if (!eq) {
			ret = parse_error(err_col, col, why, whylen, -EINVAL,
					  "expected KEY=VALUE here (domain=, header= or from=)");
			goto bad;
		}
		klen = (size_t)(eq - tok);
		v = eq + 1;
		vlen = n - klen - 1;
		if (klen == 6 && memcmp(tok, "domain", 6) == 0)
			ret = add_domains(out, spec, v, vlen, err_col, why, whylen);
		else if (klen == 6 && memcmp(tok, "header", 6) == 0)
			ret = set_header(out, v, vlen, col, err_col, why, whylen);
		else if (klen == 4 && memcmp(tok, "from", 4) == 0)
			ret = set_from(out, v, vlen, col, &seen_from, err_col, why, whylen);
		else
			ret = unknown_key(tok, klen, col, err_col, why, whylen);
		if (ret < 0)
			goto bad;
	}
	if (rules_count(out->rules) == 0) {
		ret = parse_error(err_col, len + 1, why, whylen, -EINVAL,
				  "no domain=: name the hosts the value may go to "
				  "(%s domain=api.example.com)",
				  out->name);
		goto bad;
	}
	return 0;
bad:
	secrets_spec_fini(out);
	return ret;
}

void secrets_spec_fini(struct secrets_spec *s)
{
	rules_free(s->rules);
	s->rules = NULL;
}

/* --- loading ----------------------------------------------------------------------------- */

/* Says "WHO "SPEC": column N: why" in err; returns ret. */
static int spec_error(char *err, size_t errlen, const char *who, const char *spec, size_t col,
		      int ret, const char *fmt, ...) __attribute__((format(printf, 7, 8)));

static int spec_error(char *err, size_t errlen, const char *who, const char *spec, size_t col,
		      int ret, const char *fmt, ...)
{
	char q[QLEN];
	va_list ap;
	int n;

	n = snprintf(err, errlen, "%s %s: column %zu: ", who, opts_quote(spec, q, sizeof(q)), col);
	if (n >= 0 && (size_t)n < errlen) {
		va_start(ap, fmt);
		vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return ret;
}

/*
 * Checks a value: its length, and that it is one line of text (the proxy writes it into a
 * header line). Returns NULL, or why it is not a value, for a person (never the value).
 */
static const char *bad_value(const char *v, size_t len, char *buf, size_t buflen)
{
	size_t i;

	if (len < SECRET_VALUE_MIN) {
		snprintf(buf, buflen,
			 "the value is %zu bytes long; a secret needs at least %d, as a shorter "
			 "one would be found in unrelated text",
			 len, SECRET_VALUE_MIN);
		return buf;
	}
	if (len > SECRET_VALUE_MAX) {
		snprintf(buf, buflen, "the value is longer than %d bytes", SECRET_VALUE_MAX);
		return buf;
	}
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)v[i];

		if (c >= 0x20 && c != 0x7f)
			continue;
		snprintf(buf, buflen,
			 "the value has %s at byte %zu; it must be one line of text without "
			 "control characters (of a file, one trailing newline is removed)",
			 c == 0			  ? "a NUL"
			 : c == '\n' || c == '\r' ? "a line break"
						  : "a control character",
			 i + 1);
		return buf;
	}
	return NULL;
}

/* The value of from=env into slot; *len its length. Returns NULL, or why not. */
static const char *value_from_env(const struct secrets_spec *sp, char *slot, size_t *len, char *buf,
				  size_t buflen)
{
	const char *v = getenv(sp->name);

	if (!v || !*v) {
		snprintf(buf, buflen,
			 "boundary's environment has no %s: export it, pass it through sudo "
			 "(sudo %s=... boundary or sudo --preserve-env=%s), or use "
			 "from=file:PATH",
			 sp->name, sp->name, sp->name);
		return buf;
	}
	*len = strlen(v);
	if (*len > SECRET_VALUE_MAX) {
		snprintf(buf, buflen, "the value of %s is longer than %d bytes", sp->name,
			 SECRET_VALUE_MAX);
		return buf;
	}
	memcpy(slot, v, *len);
	return NULL;
}

/*
 * The value of from=file:PATH into slot, one trailing "\n" or "\r\n" stripped. The file is
 * opened without following a final symlink and must be a regular file only its owner may
 * read or write. Returns NULL, or why not.
 */
static const char *value_from_file(const struct secrets_spec *sp, char *slot, size_t *len,
				   char *buf, size_t buflen)
{
	char q[QLEN], extra;
	const char *why = NULL;
	struct stat st;
	ssize_t r;
	int fd;

	opts_quote(sp->path, q, sizeof(q));
	fd = open(sp->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd == -1) {
		if (errno == ELOOP)
			snprintf(buf, buflen,
				 "%s is a symbolic link: name the file itself (a link could be "
				 "turned to another file)",
				 q);
		else
			snprintf(buf, buflen, "cannot open %s: %s", q, strerror(errno));
		return buf;
	}
	if (fstat(fd, &st) == -1) {
		snprintf(buf, buflen, "cannot read %s: %s", q, strerror(errno));
		why = buf;
	} else if (!S_ISREG(st.st_mode)) {
		snprintf(buf, buflen, "%s is not a regular file", q);
		why = buf;
	} else if (st.st_mode & 077) {
		snprintf(buf, buflen,
			 "%s may be read or written by others than its owner (mode %04o): make "
			 "it private with chmod 600 %s",
			 q, (unsigned)(st.st_mode & 07777), q);
		why = buf;
	} else if (st.st_size > SECRET_VALUE_MAX + 2) {
		snprintf(buf, buflen, "%s holds more than %d bytes; a value is at most %d", q,
			 SECRET_VALUE_MAX + 2, SECRET_VALUE_MAX);
		why = buf;
	}
	*len = 0;
	while (!why && *len < SECRET_VALUE_MAX + 2) {
		r = read(fd, slot + *len, SECRET_VALUE_MAX + 2 - *len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			snprintf(buf, buflen, "cannot read %s: %s", q, strerror(errno));
			why = buf;
		}
		if (r <= 0)
			break;
		*len += (size_t)r;
	}
	/* A file that grew past the size fstat saw: one byte more says so. */
	if (!why && *len == SECRET_VALUE_MAX + 2 && read(fd, &extra, 1) == 1) {
		explicit_bzero(&extra, sizeof(extra));
		snprintf(buf, buflen, "%s holds more than %d bytes; a value is at most %d", q,
			 SECRET_VALUE_MAX + 2, SECRET_VALUE_MAX);
		why = buf;
	}
	close(fd);
	if (!why && *len > 0 && slot[*len - 1] == '\n') {
		(*len)--;
		if (*len > 0 && slot[*len - 1] == '\r')
			(*len)--;
	}
	return why;
}

/* 32 random hex digits after "boundary-secret-NAME-". Returns 0 or -errno. */
static int make_placeholder(struct secret *rec)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char b[SECRET_RAND_HEX / 2];
	char digits[SECRET_RAND_HEX + 1];
	ssize_t n;
	size_t i, len;

	do
		n = getrandom(b, sizeof(b), 0);
	while (n == -1 && errno == EINTR);
	if (n != (ssize_t)sizeof(b))
		return n == -1 ? -errno : -EIO;
	for (i = 0; i < sizeof(b); i++) {
		digits[2 * i] = hex[b[i] >> 4];
		digits[2 * i + 1] = hex[b[i] & 15];
	}
	digits[SECRET_RAND_HEX] = '\0';
	/* name < SECRET_NAME_MAX, so it fits: placeholder has room for SECRET_PH_MAX. */
	len = strlen(rec->name);
	memcpy(rec->placeholder, SECRET_PREFIX, SECRET_PREFIX_LEN);
	memcpy(rec->placeholder + SECRET_PREFIX_LEN, rec->name, len);
	rec->placeholder[SECRET_PREFIX_LEN + len] = '-';
	memcpy(rec->placeholder + SECRET_PREFIX_LEN + len + 1, digits, SECRET_RAND_HEX + 1);
	rec->placeholder_len = SECRET_PREFIX_LEN + len + 1 + SECRET_RAND_HEX;
	return 0;
}

/*
 * Zeroes the value of every NAME= in boundary's environment where it lies (the block
 * /proc/PID/environ reads), then removes NAME, so nothing later reads or passes it on.
 */
static void scrub_env(const char *name)
{
	extern char **environ;
	size_t len = strlen(name);
	char **e;

	for (e = environ; *e; e++)
		if (strncmp(*e, name, len) == 0 && (*e)[len] == '=')
			explicit_bzero(*e + len + 1, strlen(*e + len + 1));
	unsetenv(name);
}

/* The wipe, without freeing: at exit, other threads may still hold the records. */
static void wipe(struct secrets *s)
{
	if (!s || !s->region)
		return;
	mprotect(s->region, s->region_len, PROT_READ | PROT_WRITE);
	explicit_bzero(s->region, s->region_len);
	if (s->locked)
		munlock(s->region, s->region_len);
	s->locked = false;
}

static void wipe_at_exit(void)
{
	wipe(live);
}

/* The region: mapped, kept out of core dumps and forked children, locked if it may be. */
static int map_region(struct secrets *s, char *err, size_t errlen)
{
	static bool warned;
	long page = sysconf(_SC_PAGESIZE);
	void *m;

	if (page <= 0)
		page = 4096;
	s->region_len = (s->n * SLOT + (size_t)page - 1) / (size_t)page * (size_t)page;
	m = mmap(NULL, s->region_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED) {
		snprintf(err, errlen, "cannot map memory for the secrets: %s", strerror(errno));
		s->region_len = 0;
		return -ENOMEM;
	}
	s->region = m;
	if (madvise(m, s->region_len, MADV_DONTDUMP) == -1)
		log_debug("secrets: MADV_DONTDUMP: %s", strerror(errno));
	/* The jail's init and the command are forked from boundary: they get zeros. */
	if (madvise(m, s->region_len, MADV_WIPEONFORK) == -1)
		log_warn("secrets: the kernel cannot keep forked processes from a copy of the "
			 "values (MADV_WIPEONFORK: %s)",
			 strerror(errno));
	if (mlock(m, s->region_len) == 0) {
		s->locked = true;
	} else if (!warned) {
		warned = true;
		log_warn("cannot lock the secrets' memory (%s): the values may be written to "
			 "swap (raise RLIMIT_MEMLOCK, ulimit -l, to keep them out)",
			 strerror(errno));
	}
	return 0;
}

/* Loads spec i of o's (the file's first) into s. Returns 0, or an error with err set. */
static int load_one(struct secrets *s, const struct opts *o, size_t i, char *err, size_t errlen)
{
	size_t nf = o->secret.file.n, col = 0, len = 0, k;
	const char *spec = i < nf ? o->secret.file.v[i] : o->secret.cli.v[i - nf];
	struct secrets_spec *sp = &s->spec[i];
	struct secret *rec = &s->rec[i];
	char *slot = s->region + i * SLOT;
	char who[512], why[1024];
	const char *bad;
	int ret;

	if (i < nf)
		snprintf(who, sizeof(who), "%s: secrets",
			 o->config_read ? o->config_read : "the config file");
	else
		snprintf(who, sizeof(who), "%s",
			 o->src[OPTS_SECRET] == OPTS_SRC_ENV ? "BOUNDARY_SECRET" : "--secret");
	ret = secrets_parse(spec, sp, &col, why, sizeof(why));
	if (ret < 0)
		return spec_error(err, errlen, who, spec, col, ret, "%s", why);
	for (k = 0; k < i; k++)
		if (strcmp(s->spec[k].name, sp->name) == 0)
			return spec_error(
			    err, errlen, who, spec, 1, -EINVAL,
			    "%s is the name of another secret too (one secret a name)", sp->name);
	bad = sp->from == SECRETS_FROM_ENV ? value_from_env(sp, slot, &len, why, sizeof(why))
					   : value_from_file(sp, slot, &len, why, sizeof(why));
	if (!bad)
		bad = bad_value(slot, len, why, sizeof(why));
	if (bad) {
		explicit_bzero(slot, SLOT);
		return spec_error(err, errlen, who, spec, sp->from_col, -EINVAL, "%s", bad);
	}
	slot[len] = '\0';
	memcpy(rec->name, sp->name, sizeof(rec->name));
	memcpy(rec->header, sp->header, sizeof(rec->header));
	rec->value = slot;
	rec->value_len = len;
	rec->domains = sp->rules;
	ret = make_placeholder(rec);
	if (ret < 0)
		return spec_error(err, errlen, who, spec, 1, ret,
				  "cannot make a placeholder: getrandom: %s", strerror(-ret));
	return 0;
}

int secrets_load(const struct opts *o, struct secrets **out, char *err, size_t errlen)
{
	static bool registered;
	size_t n = o->secret.file.n + o->secret.cli.n, i;
	struct secrets *s;
	int ret;

	*out = NULL;
	if (n == 0)
		return 0;
	if (n > SECRET_MAX) {
		snprintf(err, errlen, "%zu secrets: at most %d are supported", n, SECRET_MAX);
		return -EINVAL;
	}
	s = calloc(1, sizeof(*s));
	if (s)
		s->spec = calloc(n, sizeof(*s->spec));
	if (!s || !s->spec) {
		free(s);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	s->n = n;
	/* No core dump, no ptrace, no /proc/PID/mem or environ for anyone but root. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1) {
		ret = -errno;
		snprintf(err, errlen, "cannot keep boundary's memory private (PR_SET_DUMPABLE): %s",
			 strerror(-ret));
		goto fail;
	}
	ret = map_region(s, err, errlen);
	if (ret < 0)
		goto fail;
	live = s;
	if (!registered && atexit(wipe_at_exit) == 0)
		registered = true;
	for (i = 0; i < n; i++) {
		ret = load_one(s, o, i, err, errlen);
		if (ret < 0)
			break;
	}
	/* Even on failure: the values leave the environment before boundary exits. */
	for (i = 0; i < n; i++)
		if (s->spec[i].name[0])
			scrub_env(s->spec[i].name);
	if (ret < 0)
		goto fail;
	/* Nothing writes a value again until the wipe. */
	if (mprotect(s->region, s->region_len, PROT_READ) == -1)
		log_debug("secrets: mprotect: %s", strerror(errno));
	*out = s;
	return 0;
fail:
	secrets_free(s);
	return ret;
}

const struct secret *secrets_records(const struct secrets *s, size_t *n)
{
	*n = s ? s->n : 0;
	return s ? s->rec : NULL;
}

const char *secrets_domains(const struct secrets *s, size_t i)
{
	return s->spec[i].domains;
}

void secrets_free(struct secrets *s)
{
	size_t i;

	if (!s)
		return;
	wipe(s);
	if (s->region)
		munmap(s->region, s->region_len);
	if (live == s)
		live = NULL;
	for (i = 0; i < s->n; i++)
		secrets_spec_fini(&s->spec[i]);
	free(s->spec);
	explicit_bzero(s->rec, sizeof(s->rec));
	free(s);
}
