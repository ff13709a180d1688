// SPDX-License-Identifier: MIT
/*
 * fsview_test.c: the lists of what a jail may not see or change (fsview_build). The mounts that
 * apply them need a mount namespace of the jail's; tests/security tests them from inside one.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "user/fsview.h"
#include "user/opts.h"

static bool listed(const char *const *list, const char *path)
{
	for (; *list; list++)
		if (strcmp(*list, path) == 0)
			return true;
	return false;
}

static void test_build(void **state)
{
	char home[] = "/tmp/fsview_test.XXXXXX", cfg[256], store[8192];
	const char *hide[24], *ro[12];
	struct fsview_jail j = {
	    .cg_root = "/mnt/cgroup2",
	    .cfg_dir = "/home/u/.config/coder_boundary",
	    .key_path = "/home/u/.config/coder_boundary/ca-key.pem",
	    .audit_path = "-",
	};
	struct opts o;
	struct stat st;
	size_t i;

	(void)state;
	opts_init(&o);
	assert_non_null(mkdtemp(home));
	setenv("HOME", home, 1);
	unsetenv("SUDO_USER");
	fsview_build(&o, &j, hide, 24, ro, 12, store, sizeof(store));
	/* What holds the jail closed, and what would act for it, are hidden. */
	assert_true(listed(hide, "/sys/fs/bpf"));
	assert_true(listed(hide, "/sys/fs/cgroup"));
	assert_true(listed(hide, "/run/docker.sock"));
	assert_true(listed(hide, "/mnt/cgroup2"));
	assert_true(listed(hide, j.key_path));
	/* boundary's config cannot be rewritten, and the next run's directory exists already. */
	assert_true(listed(ro, j.cfg_dir));
	snprintf(cfg, sizeof(cfg), "%s/.config/coder_boundary", home);
	assert_true(listed(ro, cfg));
	assert_int_equal(stat(cfg, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	/* Audit records on stdout have no file to lock. */
	assert_false(listed(ro, "-"));

	/* A cgroup2 mount under /sys/fs/cgroup is hidden with it; an audit file is locked. */
	j.cg_root = "/sys/fs/cgroup/unified";
	j.audit_path = "/var/log/boundary/audit.jsonl";
	fsview_build(&o, &j, hide, 24, ro, 12, store, sizeof(store));
	assert_false(listed(hide, "/sys/fs/cgroup/unified"));
	assert_true(listed(ro, "/var/log/boundary/audit.jsonl"));

	/* Short lists stay NULL-terminated within their slots, and nothing is written past. */
	for (i = 0; i < 24; i++)
		hide[i] = "sentinel";
	for (i = 0; i < 12; i++)
		ro[i] = "sentinel";
	fsview_build(&o, &j, hide, 3, ro, 2, store, sizeof(store));
	assert_true(!hide[0] || !hide[1] || !hide[2]);
	assert_true(!ro[0] || !ro[1]);
	assert_string_equal(hide[3], "sentinel");
	assert_string_equal(ro[2], "sentinel");

	rmdir(cfg);
	snprintf(cfg, sizeof(cfg), "%s/.config", home);
	rmdir(cfg);
	rmdir(home);
	opts_fini(&o);
}

/* fsview_strip_auth: one input, what must stay, and nothing else. */
static void strips(const char *in, const char *want)
{
	char out[1024];
	size_t n = fsview_strip_auth(in, strlen(in), out);

	out[n] = '\0';
	assert_string_equal(out, want);
}

static void test_strip_auth(void **state)
{
	(void)state;
	/* npm: scoped and bare _auth/_authToken/_password, username, password, an inline key */
	strips("registry=https://r.example/\n"
	       "//r.example/:_authToken=npm_x\n"
	       "//r.example/:_auth = eA==\n"
	       "_auth=eA==\n"
	       "//r.example/:_password=cA==\n"
	       "//r.example/:username=u\n"
	       "always-auth=true\n"
	       "email=a@example.com\n"
	       "key=-----BEGIN PRIVATE KEY-----\n"
	       "keyfile=/home/u/key.pem\n"
	       "  _AuthToken = X\n",
	       "registry=https://r.example/\nalways-auth=true\nemail=a@example.com\n"
	       "keyfile=/home/u/key.pem\n");
	/* pypirc: "key: value", "key = value", and a value continued on indented lines */
	strips("[pypi]\nrepository = https://upload.pypi.org/legacy/\nusername = __token__\n"
	       "password = pypi-x\n    more-x\n\tand-more\nPassword: y\n[testpypi]\n",
	       "[pypi]\nrepository = https://upload.pypi.org/legacy/\n[testpypi]\n");
	/* the last line without its newline, comments and blank lines kept */
	strips("# token comment\n\nregistry=x\n_authToken=y", "# token comment\n\nregistry=x\n");
	strips("", "");
}

/* The user's view as --show-hidden prints it, for a home of the test's own. */
static char *show(struct opts *o)
{
	char *buf = NULL, err[256];
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(fsview_show(o, f, err, sizeof(err)), 0);
	assert_int_equal(fclose(f), 0);
	return buf;
}

static void set(struct opts *o, enum opts_id id, const char *v, enum opts_src src)
{
	const struct opts_def *defs;
	char err[256];
	size_t n;

	defs = opts_defs(&n);
	assert_int_equal(opts_set(o, &defs[id], v, src, defs[id].flag, err, sizeof(err)), 0);
}

static void test_user_view(void **state)
{
	char home[] = "/tmp/fsview_test.XXXXXX", line[512], err[256], *out;
	const char *old = getenv("HOME");
	struct opts o;

	(void)state;
	assert_non_null(mkdtemp(home));
	setenv("HOME", home, 1);
	opts_init(&o);
	out = show(&o);
	snprintf(line, sizeof(line), "hidden    absent %s/.ssh\n", home);
	assert_non_null(strstr(out, line));
	snprintf(line, sizeof(line), "shown     absent %s/.ssh/known_hosts\n", home);
	assert_non_null(strstr(out, line));
	snprintf(line, sizeof(line), "stripped  absent %s/.npmrc\n", home);
	assert_non_null(strstr(out, line));
	free(out);

	/* ~/ is the command's home; "..", "." and doubled slashes fold; unhide drops or shows */
	set(&o, OPTS_HIDE, "~/a/../b//./c", OPTS_SRC_FLAG);
	set(&o, OPTS_UNHIDE, "~/.aws", OPTS_SRC_FLAG);
	set(&o, OPTS_UNHIDE, "~/.gnupg/pubring.kbx", OPTS_SRC_FLAG);
	set(&o, OPTS_READ_ONLY, "/", OPTS_SRC_FLAG);
	out = show(&o);
	snprintf(line, sizeof(line), "hidden    absent %s/b/c\n", home);
	assert_non_null(strstr(out, line));
	snprintf(line, sizeof(line), "%s/.aws\n", home);
	assert_null(strstr(out, line));
	snprintf(line, sizeof(line), "shown     absent %s/.gnupg/pubring.kbx\n", home);
	assert_non_null(strstr(out, line));
	assert_non_null(strstr(out, "read-only exists /\n"));
	free(out);

	/* what boundary hides for itself cannot be shown, nor what lies above or below it */
	set(&o, OPTS_UNHIDE, "/sys/fs", OPTS_SRC_FLAG);
	assert_int_equal(fsview_show(&o, stdout, err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, "for its own safety"));
	opts_fini(&o);

	/* BOUNDARY_HIDE is a list, split at ':'; ~USER is refused */
	opts_init(&o);
	set(&o, OPTS_HIDE, "/x:/y", OPTS_SRC_ENV);
	assert_int_equal(o.hide.cli.n, 2);
	assert_int_not_equal(opts_set(&o, &opts_defs(&(size_t){0})[OPTS_HIDE], "~bob/x",
				      OPTS_SRC_FLAG, "--hide", err, sizeof(err)),
			     0);
	opts_fini(&o);
	if (old)
		setenv("HOME", old, 1);
	rmdir(home);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_build),
	    cmocka_unit_test(test_strip_auth),
	    cmocka_unit_test(test_user_view),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
