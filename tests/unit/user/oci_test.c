// SPDX-License-Identifier: MIT
/*
 * oci_test.c: oci.c's pieces that take a layer's word for a path or an image's for a user: a
 * member's name made plain or refused, a digest checked, the config's User as ids. Unpacking
 * itself runs in tests/e2e/image.t and tests/security/rootfs.t, against real layouts.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "../../../user/oci.c"

static void test_clean_name(void **state)
{
	char out[64];

	(void)state;
	assert_int_equal(clean_name("./etc/passwd", out, sizeof(out)), 0);
	assert_string_equal(out, "etc/passwd");
	assert_int_equal(clean_name("a//b/./c/", out, sizeof(out)), 0);
	assert_string_equal(out, "a/b/c");
	assert_int_equal(clean_name("./", out, sizeof(out)), 0);
	assert_string_equal(out, "");
	assert_int_equal(clean_name("a/..b/c..", out, sizeof(out)), 0);
	assert_string_equal(out, "a/..b/c..");
	assert_int_equal(clean_name("/etc/passwd", out, sizeof(out)), -EINVAL);
	assert_int_equal(clean_name("../x", out, sizeof(out)), -EINVAL);
	assert_int_equal(clean_name("a/../../x", out, sizeof(out)), -EINVAL);
	assert_int_equal(clean_name("a/..", out, sizeof(out)), -EINVAL);
	assert_int_equal(clean_name(NULL, out, sizeof(out)), -EINVAL);
	assert_int_equal(
	    clean_name("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", out,
		       sizeof(out)),
	    -ENAMETOOLONG);
}

static void test_digest(void **state)
{
	const char *hex;
	char d[80];

	(void)state;
	snprintf(d, sizeof(d), "sha256:%064d", 7);
	assert_int_equal(digest_hex(d, &hex), 0);
	assert_ptr_equal(hex, d + 7);
	d[10] = 'A';
	assert_int_equal(digest_hex(d, &hex), -EINVAL);
	d[10] = '/';
	assert_int_equal(digest_hex(d, &hex), -EINVAL);
	assert_int_equal(digest_hex("sha512:00", &hex), -EINVAL);
	assert_int_equal(digest_hex("sha256:00", &hex), -EINVAL);
	assert_int_equal(digest_hex(NULL, &hex), -EINVAL);
}

static void test_user_ids(void **state)
{
	char root[] = "/tmp/oci_test.XXXXXX", path[128], err[256];
	uid_t uid;
	gid_t gid;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(root));
	snprintf(path, sizeof(path), "%s/etc", root);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/etc/passwd", root);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("root:x:0:0::/root:/bin/sh\napp:x:1234:2345::/home/app:/bin/sh\n", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/etc/group", root);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("root:x:0:\nstaff:x:50:\n", f);
	fclose(f);

	assert_int_equal(oci_user_ids(root, "app", &uid, &gid, err, sizeof(err)), 0);
	assert_int_equal(uid, 1234);
	assert_int_equal(gid, 2345);
	assert_int_equal(oci_user_ids(root, "app:staff", &uid, &gid, err, sizeof(err)), 0);
	assert_int_equal(gid, 50);
	assert_int_equal(oci_user_ids(root, "77", &uid, &gid, err, sizeof(err)), 0);
	assert_int_equal(uid, 77);
	assert_int_equal(gid, 77); /* never the host's group 0 by default */
	assert_int_equal(oci_user_ids(root, "77:8", &uid, &gid, err, sizeof(err)), 0);
	assert_int_equal(gid, 8);
	assert_int_equal(oci_user_ids(root, "nobody", &uid, &gid, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "is not in its /etc/passwd"));
	assert_int_equal(oci_user_ids(root, "app:wheel", &uid, &gid, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "group wheel is not in its /etc/group"));

	assert_int_equal(rm_tree(AT_FDCWD, root), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_clean_name),
	    cmocka_unit_test(test_digest),
	    cmocka_unit_test(test_user_ids),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
