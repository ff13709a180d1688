// SPDX-License-Identifier: MIT
/*
 * secrets_test.c: the --secret parser (every key, every refusal and its column) and
 * secrets_load() on real values: from the environment (zeroed in place and removed), from a
 * 0600 file (one trailing newline stripped), refused when the file is group-readable, the
 * placeholders, and the wipe. Includes user/secrets.c to reach its statics. Needs no root; files
 * live in a scratch directory removed at the end.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "../../../user/secrets.c"

#include <sys/stat.h>

static char dir[] = "/tmp/boundary-secrets-test.XXXXXX";
static struct secrets_spec sp;
static char why[512];
static size_t col;

/* Parses spec; on success sp holds it (teardown frees it). */
static int parse(const char *spec)
{
	secrets_spec_fini(&sp);
	why[0] = '\0';
	col = 0;
	return secrets_parse(spec, &sp, &col, why, sizeof(why));
}

/* spec is refused at column want_col with a message that contains part. */
static void refused(const char *spec, size_t want_col, const char *part)
{
	int ret = parse(spec);

	if (ret != -EINVAL || col != want_col || !strstr(why, part))
		fail_msg("%s: ret %d, column %zu (want %zu): %s (want \"%s\")", spec, ret, col,
			 want_col, why, part);
	assert_null(sp.rules);
}

static void test_parse_keys(void **state)
{
	(void)state;
	assert_int_equal(parse("GH domain=api.github.com"), 0);
	assert_string_equal(sp.name, "GH");
	assert_string_equal(sp.header, "");
	assert_int_equal(sp.from, SECRETS_FROM_ENV);
	assert_int_equal(sp.from_col, 1);
	assert_int_equal(rules_count(sp.rules), 1);
	assert_string_equal(sp.domains, "api.github.com");

	assert_int_equal(parse("  _T0k\tdomain=a.com,*.b.com  domain=c.org header=X-Api-Key "
			       "from=file:/run/k"),
			 0);
	assert_string_equal(sp.name, "_T0k");
	assert_int_equal(rules_count(sp.rules), 3);
	assert_string_equal(sp.domains, "a.com, *.b.com, c.org");
	assert_string_equal(sp.header, "X-Api-Key");
	assert_int_equal(sp.from, SECRETS_FROM_FILE);
	assert_string_equal(sp.path, "/run/k");
	assert_int_equal(sp.from_col, 60);

	assert_int_equal(parse("GH from=env domain=a.com"), 0);
	assert_int_equal(sp.from, SECRETS_FROM_ENV);
	assert_int_equal(sp.from_col, 4);
}

static void test_parse_domains_bind(void **state)
{
	struct rules_decision d;

	(void)state;
	assert_int_equal(parse("GH domain=a.com,*.b.com"), 0);
	rules_match_host(sp.rules, "a.com", 5, 443, RULES_DOMAIN, &d);
	assert_true(d.allow);
	rules_match_host(sp.rules, "x.b.com:8443", 12, 0, RULES_DOMAIN, &d);
	assert_true(d.allow);
	rules_match_host(sp.rules, "evil.com", 8, 443, RULES_DOMAIN, &d);
	assert_false(d.allow);
	rules_match_host(sp.rules, "a.com.evil.com", 14, 443, RULES_DOMAIN, &d);
	assert_false(d.allow);
}

static void test_parse_refusals(void **state)
{
	char spec[SECRETS_SPEC_MAX + 16];

	(void)state;
	refused("", 1, "empty");
	refused("   ", 1, "empty");
	refused("1X domain=a.com", 1, "does not start with a digit");
	refused("G-H domain=a.com", 2, "letters, digits and _");
	refused("domain=a.com GH", 1, "starts with its name");
	refused("GH", 3, "no domain=");
	refused("GH header=X", 12, "no domain=");
	refused("GH domain=", 11, "an empty domain pattern");
	refused("GH domain=a.com,", 17, "an empty domain pattern");
	refused("GH domain=,a.com", 11, "an empty domain pattern");
	refused("GH domain=github.com:8080", 21, "a port cannot be part of a secret's domain");
	refused("GH domain=*", 11, "any host");
	refused("GH domain=a.com domain=*", 24, "any host");
	refused("GH domain=a.com,*", 17, "any host");
	refused("GH domian=a.com", 4, "did you mean domain=?");
	refused("GH domain=a.com hedaer=X", 17, "did you mean header=?");
	refused("GH domain=a.com zzz=1", 17, "a secret takes domain=, header= and from=");
	refused("GH domain=a.com bare", 17, "expected KEY=VALUE");
	refused("GH domain=a.com header=", 24, "needs a field name");
	refused("GH domain=a.com header=a:b", 25, "a header field name is");
	refused("GH domain=a.com header=Content-Length", 24, "frames or routes");
	refused("GH domain=a.com header=TRANSFER-ENCODING", 24, "frames or routes");
	refused("GH domain=a.com header=A header=B", 26, "header= given twice");
	refused("GH domain=a.com from=", 22, "from= is env");
	refused("GH domain=a.com from=file:", 22, "from= is env");
	refused("GH domain=a.com from=ENV", 22, "from= is env");
	refused("GH domain=a.com from=env from=env", 26, "from= given twice");

	memset(spec, 'N', 64);
	snprintf(spec + 64, sizeof(spec) - 64, " domain=a.com");
	refused(spec, 1, "longer than 63 bytes");
	memset(spec, 'N', 63);
	snprintf(spec + 63, sizeof(spec) - 63, " domain=a.com");
	assert_int_equal(parse(spec), 0);
	snprintf(spec, sizeof(spec), "GH domain=a.com header=%064d", 0);
	refused(spec, 24, "longer than 63 bytes");
	memset(spec, 'a', SECRETS_SPEC_MAX);
	spec[SECRETS_SPEC_MAX] = '\0';
	refused(spec, 1, "longer than");
}

/* Writes text (len bytes) to dir/name with mode; returns the path (static). */
static const char *put(const char *name, const char *text, size_t len, mode_t mode)
{
	static char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
	return path;
}

/* secrets_load() on specs given as --secret flags (NULL-terminated). */
static int load(struct opts *o, struct secrets **s, char *err, size_t errlen, ...)
{
	const struct opts_def *defs;
	const char *spec;
	va_list ap;
	size_t n;
	int ret;

	defs = opts_defs(&n);
	opts_init(o);
	va_start(ap, errlen);
	while ((spec = va_arg(ap, const char *))) {
		ret = opts_set(o, &defs[OPTS_SECRET], spec, OPTS_SRC_FLAG, "--secret", err, errlen);
		if (ret) {
			va_end(ap);
			return ret;
		}
	}
	va_end(ap);
	ret = secrets_load(o, &o->secrets, err, errlen);
	*s = o->secrets;
	return ret;
}

static void test_load_env_and_file(void **state)
{
	extern char **environ;
	const char *value = "sk-test-0123456789abcdef", *path;
	char spec[512], err[1024], *kept = NULL, **e;
	const struct secret *rec;
	struct secrets *s = NULL;
	struct opts o;
	size_t n, i;

	(void)state;
	assert_int_equal(setenv("BST_GH", value, 1), 0);
	for (e = environ; *e; e++)
		if (strncmp(*e, "BST_GH=", 7) == 0)
			kept = *e;
	assert_non_null(kept);
	path = put("ok", "file-value-12345\r\n", 18, 0600);
	snprintf(spec, sizeof(spec), "BST_FT domain=x.com header=X-Key from=file:%s", path);
	assert_int_equal(
	    load(&o, &s, err, sizeof(err), "BST_GH domain=api.example.com", spec, NULL), 0);
	assert_non_null(s);
	rec = s->rec;
	assert_ptr_equal(secrets_records(s, &n), rec);
	assert_int_equal(n, 2);
	assert_string_equal(rec[0].name, "BST_GH");
	assert_int_equal(rec[0].value_len, strlen(value));
	assert_memory_equal(rec[0].value, value, strlen(value));
	assert_string_equal(rec[1].name, "BST_FT");
	assert_int_equal(rec[1].value_len, 16);
	assert_memory_equal(rec[1].value, "file-value-12345", 16);
	assert_string_equal(rec[1].header, "X-Key");
	assert_string_equal(secrets_domains(s, 0), "api.example.com");
	for (i = 0; i < n; i++) {
		size_t nl = strlen(rec[i].name), k;

		assert_int_equal(rec[i].placeholder_len, SECRET_PREFIX_LEN + nl + 1 + 32);
		assert_int_equal(strlen(rec[i].placeholder), rec[i].placeholder_len);
		assert_memory_equal(rec[i].placeholder, SECRET_PREFIX, SECRET_PREFIX_LEN);
		assert_memory_equal(rec[i].placeholder + SECRET_PREFIX_LEN, rec[i].name, nl);
		assert_int_equal(rec[i].placeholder[SECRET_PREFIX_LEN + nl], '-');
		for (k = SECRET_PREFIX_LEN + nl + 1; k < rec[i].placeholder_len; k++)
			assert_non_null(strchr("0123456789abcdef", rec[i].placeholder[k]));
		assert_ptr_equal(rec[i].domains, s->spec[i].rules);
	}
	assert_string_not_equal(rec[0].placeholder + SECRET_PREFIX_LEN + 7,
				rec[1].placeholder + SECRET_PREFIX_LEN + 7);
	/* The environment lost it; the string it lay in was zeroed where it lies. */
	assert_null(getenv("BST_GH"));
	assert_null(getenv("BST_FT"));
	assert_memory_equal(kept, "BST_GH=\0\0\0\0", 11);
	/* No core dump, no ptrace by the same user, no /proc/PID/mem for others. */
	assert_int_equal(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 0);
	assert_true(s->region != NULL);
	opts_fini(&o);
	assert_null(live);
}

static void test_load_refusals(void **state)
{
	char spec[512], err[1024];
	struct secrets *s = NULL;
	struct opts o;
	const char *path;

	(void)state;
	unsetenv("BST_GH");
	assert_int_equal(load(&o, &s, err, sizeof(err), "BST_GH domain=a.com", NULL), -EINVAL);
	assert_null(s);
	assert_non_null(strstr(err, "--secret \"BST_GH domain=a.com\": column 1: boundary's "
				    "environment has no BST_GH: export it, pass it through sudo "
				    "(sudo BST_GH=... boundary or sudo --preserve-env=BST_GH), or "
				    "use from=file:PATH"));
	opts_fini(&o);

	setenv("BST_GH", "1234567", 1);
	assert_int_equal(load(&o, &s, err, sizeof(err), "BST_GH domain=a.com", NULL), -EINVAL);
	assert_non_null(strstr(err, "would be found in unrelated text"));
	assert_null(getenv("BST_GH"));
	opts_fini(&o);

	path = put("group", "sk-test-group-readable\n", 23, 0640);
	snprintf(spec, sizeof(spec), "BST_FT domain=a.com from=file:%s", path);
	assert_int_equal(load(&o, &s, err, sizeof(err), spec, NULL), -EINVAL);
	assert_non_null(strstr(err, "column 21: "));
	assert_non_null(strstr(err, "(mode 0640): make it private with chmod 600"));
	assert_null(strstr(err, "sk-test-group-readable"));
	opts_fini(&o);

	path = put("lines", "sk-test-1\nsk-test-2\n", 20, 0600);
	snprintf(spec, sizeof(spec), "BST_FT domain=a.com from=file:%s", path);
	assert_int_equal(load(&o, &s, err, sizeof(err), spec, NULL), -EINVAL);
	assert_non_null(strstr(err, "a line break at byte 10"));
	assert_null(strstr(err, "sk-test-1"));
	opts_fini(&o);

	assert_int_equal(
	    load(&o, &s, err, sizeof(err), "BST_A domain=a.com", "BST_A domain=b.com", NULL),
	    -EINVAL);
	assert_non_null(strstr(err, "BST_A is the name of another secret too"));
	opts_fini(&o);
}

static void test_bad_value(void **state)
{
	char buf[512];

	(void)state;
	assert_null(bad_value("abcdefgh", 8, buf, sizeof(buf)));
	assert_null(bad_value("Bearer abc\x80\xff", 12, buf, sizeof(buf)));
	assert_non_null(bad_value("abcdefg", 7, buf, sizeof(buf)));
	assert_non_null(strstr(bad_value("abcdefg\x7f", 8, buf, sizeof(buf)), "control"));
	assert_non_null(strstr(bad_value("abcd\refgh", 9, buf, sizeof(buf)), "line break"));
	assert_non_null(strstr(bad_value("abcd\0efgh", 9, buf, sizeof(buf)), "a NUL at byte 5"));
}

static int teardown(void **state)
{
	(void)state;
	secrets_spec_fini(&sp);
	return 0;
}

static int group_setup(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int group_teardown(void **state)
{
	static const char *const files[] = {"ok", "group", "lines", ""};
	char path[512];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		if (remove(path) == -1 && errno != ENOENT)
			return -1;
	}
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(test_parse_keys, teardown),
	    cmocka_unit_test_teardown(test_parse_domains_bind, teardown),
	    cmocka_unit_test_teardown(test_parse_refusals, teardown),
	    cmocka_unit_test_teardown(test_load_env_and_file, teardown),
	    cmocka_unit_test_teardown(test_load_refusals, teardown),
	    cmocka_unit_test_teardown(test_bad_value, teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
