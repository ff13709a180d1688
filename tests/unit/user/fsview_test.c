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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_build),
	    cmocka_unit_test(test_strip_auth),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
