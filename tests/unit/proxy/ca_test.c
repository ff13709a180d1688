// SPDX-License-Identifier: MIT
/*
 * ca_test.c: the local CA against real OpenSSL in temporary directories: making and reusing the
 * files, every way an existing pair can be wrong (each an error that leaves the files alone),
 * leaves for names and addresses that verify against the CA, the cache (hits, lower-casing,
 * LRU eviction, renewal), concurrent minting, and the trust bundle.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Reach struct ca and struct leaf for the cache tests. */
#include "../../../proxy/ca.c"

static char base[64];
static char err[512];

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int setup(void **state)
{
	(void)state;
	snprintf(base, sizeof(base), "/tmp/boundary-ca-test-XXXXXX");
	err[0] = '\0';
	return mkdtemp(base) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	return nftw(base, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static const char *in_base(char *buf, size_t len, const char *rel)
{
	snprintf(buf, len, "%s/%s", base, rel);
	return buf;
}

static char *slurp(const char *path, size_t *lenp)
{
	static char buf[1 << 20];
	FILE *f = fopen(path, "r");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	if (lenp)
		*lenp = n;
	return buf;
}

static void write_file(const char *path, const char *data, size_t len, mode_t mode)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static void copy_file(const char *from, const char *to, mode_t mode)
{
	size_t len;
	char *data = slurp(from, &len);
	char *copy = malloc(len + 1);

	assert_non_null(copy);
	memcpy(copy, data, len);
	write_file(to, copy, len, mode);
	free(copy);
}

static void fingerprint(X509 *x, unsigned char md[EVP_MAX_MD_SIZE])
{
	unsigned int n = 0;

	assert_int_equal(X509_digest(x, EVP_sha256(), md, &n), 1);
	assert_int_equal(n, 32);
}

/* A self-signed certificate for tests: a CA or not, valid from now+nb to now+na seconds. */
static X509 *make_cert(EVP_PKEY *key, int is_ca, long nb, long na)
{
	X509 *x = X509_new();

	assert_non_null(x);
	assert_int_equal(X509_set_version(x, X509_VERSION_3), 1);
	assert_int_equal(set_random_serial(x), 0);
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), nb));
	assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), na));
	assert_int_equal(X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
						    (const unsigned char *)"test", -1, -1, 0),
			 1);
	assert_int_equal(X509_set_issuer_name(x, X509_get_subject_name(x)), 1);
	assert_int_equal(X509_set_pubkey(x, key), 1);
	assert_int_equal(
	    add_ext(x, x, NID_basic_constraints, is_ca ? "critical,CA:TRUE" : "CA:FALSE"), 0);
	assert_true(X509_sign(x, key, EVP_sha256()) > 0);
	return x;
}

/* Writes cert and key as dir/ca-cert.pem and dir/ca-key.pem. */
static void write_pair(const char *dir, X509 *cert, EVP_PKEY *key)
{
	char path[256];
	FILE *f;

	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(path, sizeof(path), "%s/%s", dir, CA_CERT_FILE);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(PEM_write_X509(f, cert), 1);
	fclose(f);
	snprintf(path, sizeof(path), "%s/%s", dir, CA_KEY_FILE);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL), 1);
	fclose(f);
}

/*
 * dir's CA must fail with a message holding want, at ca_open() or (for what only parsing finds)
 * at the first use, ca_ready(); and leave dir's files as they were.
 */
static void assert_open_fails(const char *dir, const char *want)
{
	char cert[256], key[256], *before_cert = NULL, *before_key = NULL;
	struct ca *ca;

	snprintf(cert, sizeof(cert), "%s/%s", dir, CA_CERT_FILE);
	snprintf(key, sizeof(key), "%s/%s", dir, CA_KEY_FILE);
	if (access(cert, F_OK) == 0)
		before_cert = strdup(slurp(cert, NULL));
	if (access(key, F_OK) == 0)
		before_key = strdup(slurp(key, NULL));

	err[0] = '\0';
	ca = ca_open(dir, (uid_t)-1, (gid_t)-1, err, sizeof(err));
	if (ca) {
		assert_int_equal(ca_ready(ca, err, sizeof(err)), -EINVAL);
		assert_null(ca_leaf_for_name(ca, "example.com"));
		assert_int_equal(errno, EIO);
		assert_null(ca_cert(ca));
		ca_free(ca);
	}
	if (!strstr(err, want))
		fail_msg("error \"%s\" does not contain \"%s\"", err, want);

	if (before_cert)
		assert_string_equal(slurp(cert, NULL), before_cert);
	else
		assert_int_equal(access(cert, F_OK), -1);
	if (before_key)
		assert_string_equal(slurp(key, NULL), before_key);
	else
		assert_int_equal(access(key, F_OK), -1);
	free(before_cert);
	free(before_key);
}

static struct ca *open_ok(const char *dir)
{
	struct ca *ca = ca_open(dir, (uid_t)-1, (gid_t)-1, err, sizeof(err));

	if (!ca)
		fail_msg("ca_open(%s): %s", dir, err);
	return ca;
}

static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)))
		n += strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
	closedir(d);
	return n;
}

static int ext_critical(X509 *x, int nid)
{
	int i = X509_get_ext_by_NID(x, nid, -1);

	assert_true(i >= 0);
	return X509_EXTENSION_get_critical(X509_get_ext(x, i));
}

static void test_create_then_reuse(void **state)
{
	unsigned char fp1[EVP_MAX_MD_SIZE], fp2[EVP_MAX_MD_SIZE];
	char dir[128], path[256];
	struct stat st, st2;
	struct ca *ca;
	X509 *x;
	char *subject;
	time_t na = 0;

	(void)state;
	/* Two missing levels: both are made 0700. */
	in_base(dir, sizeof(dir), "config/boundary");
	ca = open_ok(dir);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_int_equal(stat(ca_cert_path(ca), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_int_equal(stat(ca_key_path(ca), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	snprintf(path, sizeof(path), "%s/%s", dir, CA_CERT_FILE);
	assert_string_equal(ca_cert_path(ca), path);

	x = ca_cert(ca);
	assert_int_equal(X509_check_ca(x), 1);
	assert_int_equal(X509_get_pathlen(x), 0);
	assert_true(ext_critical(x, NID_basic_constraints));
	assert_true(ext_critical(x, NID_key_usage));
	assert_int_equal(X509_get_key_usage(x), KU_KEY_CERT_SIGN | KU_CRL_SIGN);
	assert_non_null(X509_get0_subject_key_id(x));
	assert_true(EVP_PKEY_is_a(X509_get0_pubkey(x), "EC"));
	assert_int_equal(EVP_PKEY_get_bits(X509_get0_pubkey(x)), 256);
	subject = X509_NAME_oneline(X509_get_subject_name(x), NULL, 0);
	assert_non_null(strstr(subject, "/CN=boundary CA"));
	assert_non_null(strstr(subject, "/O=boundary"));
	OPENSSL_free(subject);
	assert_int_equal(asn1_to_time(X509_get0_notAfter(x), &na), 0);
	assert_true(na > time(NULL) + 3650L * DAY - 2 * BACKDATE);
	fingerprint(x, fp1);
	assert_int_equal(stat(ca_key_path(ca), &st), 0);
	ca_free(ca);

	/* No temporary file is left behind. */
	assert_int_equal(count_entries(dir), 2);

	ca = open_ok(dir);
	fingerprint(ca_cert(ca), fp2);
	assert_memory_equal(fp1, fp2, 32);
	assert_int_equal(stat(ca_key_path(ca), &st2), 0);
	assert_int_equal(st.st_ino, st2.st_ino); /* not rewritten */
	ca_free(ca);
}

static void test_serial_is_random_128_bits(void **state)
{
	char dir[128];
	struct ca *a, *b;
	BIGNUM *sa, *sb;

	(void)state;
	a = open_ok(in_base(dir, sizeof(dir), "a"));
	b = open_ok(in_base(dir, sizeof(dir), "b"));
	sa = ASN1_INTEGER_to_BN(X509_get0_serialNumber(ca_cert(a)), NULL);
	sb = ASN1_INTEGER_to_BN(X509_get0_serialNumber(ca_cert(b)), NULL);
	assert_true(BN_num_bits(sa) > 96 && BN_num_bits(sa) <= 128);
	assert_int_not_equal(BN_cmp(sa, sb), 0);
	BN_free(sa);
	BN_free(sb);
	ca_free(a);
	ca_free(b);
}

static void test_owner_and_group(void **state)
{
	char dir[128];
	struct stat st;
	struct ca *ca;

	(void)state;
	if (geteuid() != 0)
		skip();
	in_base(dir, sizeof(dir), "owned/ca");
	ca = ca_open(dir, 65534, 65533, err, sizeof(err));
	assert_non_null(ca);
	assert_int_equal(stat(ca_cert_path(ca), &st), 0);
	assert_true(st.st_uid == 65534 && st.st_gid == 65533);
	assert_int_equal(stat(ca_key_path(ca), &st), 0);
	assert_true(st.st_uid == 65534 && st.st_gid == 65533);
	assert_int_equal(stat(dir, &st), 0);
	assert_true(st.st_uid == 65534 && st.st_gid == 65533);
	/* The temporary directory existed already: it keeps its owner. */
	assert_int_equal(stat(base, &st), 0);
	assert_int_equal(st.st_uid, 0);
	ca_free(ca);
}

static void test_only_one_file(void **state)
{
	char good[128], dir[128], from[256], to[256];
	struct ca *ca;

	(void)state;
	ca = open_ok(in_base(good, sizeof(good), "good"));
	ca_free(ca);

	in_base(dir, sizeof(dir), "only-cert");
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(from, sizeof(from), "%s/%s", good, CA_CERT_FILE);
	snprintf(to, sizeof(to), "%s/%s", dir, CA_CERT_FILE);
	copy_file(from, to, 0644);
	assert_open_fails(dir, "ca-key.pem does not");
	assert_open_fails(dir, "remove both ca-cert.pem and ca-key.pem");

	in_base(dir, sizeof(dir), "only-key");
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(from, sizeof(from), "%s/%s", good, CA_KEY_FILE);
	snprintf(to, sizeof(to), "%s/%s", dir, CA_KEY_FILE);
	copy_file(from, to, 0600);
	assert_open_fails(dir, "ca-cert.pem does not");
}

static void test_mismatched_pair(void **state)
{
	char a[128], b[128], dir[128], from[256], to[256];

	(void)state;
	ca_free(open_ok(in_base(a, sizeof(a), "a")));
	ca_free(open_ok(in_base(b, sizeof(b), "b")));
	in_base(dir, sizeof(dir), "mixed");
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(from, sizeof(from), "%s/%s", a, CA_CERT_FILE);
	snprintf(to, sizeof(to), "%s/%s", dir, CA_CERT_FILE);
	copy_file(from, to, 0644);
	snprintf(from, sizeof(from), "%s/%s", b, CA_KEY_FILE);
	snprintf(to, sizeof(to), "%s/%s", dir, CA_KEY_FILE);
	copy_file(from, to, 0600);
	assert_open_fails(dir, "does not match");
}

static void test_expired_or_not_a_ca(void **state)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	char dir[128];
	X509 *x;

	(void)state;
	assert_non_null(key);
	x = make_cert(key, 1, -10 * DAY, -DAY);
	write_pair(in_base(dir, sizeof(dir), "expired"), x, key);
	assert_open_fails(dir, "expired on");
	assert_open_fails(dir, "remove both");
	X509_free(x);

	x = make_cert(key, 1, DAY, 10 * DAY);
	write_pair(in_base(dir, sizeof(dir), "future"), x, key);
	assert_open_fails(dir, "not valid until");
	X509_free(x);

	x = make_cert(key, 0, -DAY, 10 * DAY);
	write_pair(in_base(dir, sizeof(dir), "leaf"), x, key);
	assert_open_fails(dir, "is not a CA certificate");
	X509_free(x);
	EVP_PKEY_free(key);
}

static void test_garbage(void **state)
{
	static const char junk[] = "-----BEGIN CERTIFICATE-----\nnot base64 at all\n"
				   "-----END CERTIFICATE-----\n";
	char good[128], dir[128], path[256], from[256];

	(void)state;
	in_base(dir, sizeof(dir), "garbage");
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(path, sizeof(path), "%s/%s", dir, CA_CERT_FILE);
	write_file(path, junk, sizeof(junk) - 1, 0644);
	snprintf(path, sizeof(path), "%s/%s", dir, CA_KEY_FILE);
	write_file(path, "hello\n", 6, 0600);
	assert_open_fails(dir, "ca-cert.pem is not a PEM certificate");

	/* A good certificate with a garbage key. */
	ca_free(open_ok(in_base(good, sizeof(good), "good")));
	snprintf(from, sizeof(from), "%s/%s", good, CA_CERT_FILE);
	snprintf(path, sizeof(path), "%s/%s", dir, CA_CERT_FILE);
	copy_file(from, path, 0644);
	assert_open_fails(dir, "ca-key.pem is not a PEM unencrypted private key");

	/* An empty file is garbage too, not "missing". */
	snprintf(path, sizeof(path), "%s/%s", dir, CA_KEY_FILE);
	write_file(path, "", 0, 0600);
	assert_open_fails(dir, "is not a PEM");
}

static void test_symlinked_key_refused(void **state)
{
	char good[128], dir[128], from[256], to[256];

	(void)state;
	ca_free(open_ok(in_base(good, sizeof(good), "good")));
	in_base(dir, sizeof(dir), "linked");
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(from, sizeof(from), "%s/%s", good, CA_CERT_FILE);
	snprintf(to, sizeof(to), "%s/%s", dir, CA_CERT_FILE);
	copy_file(from, to, 0644);
	snprintf(from, sizeof(from), "%s/%s", good, CA_KEY_FILE);
	snprintf(to, sizeof(to), "%s/%s", dir, CA_KEY_FILE);
	assert_int_equal(symlink(from, to), 0);
	assert_open_fails(dir, "symlinks");
}

/* Verifies leaf against the CA alone, for TLS server use, with host or ip as the peer. */
static int verify_leaf(struct ca *ca, X509 *leaf, const char *host, const char *ip)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	X509_VERIFY_PARAM *param;
	int ok, verr;

	assert_non_null(store);
	assert_non_null(ctx);
	assert_int_equal(X509_STORE_add_cert(store, ca_cert(ca)), 1);
	assert_int_equal(X509_STORE_CTX_init(ctx, store, leaf, NULL), 1);
	assert_int_equal(X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER), 1);
	param = X509_STORE_CTX_get0_param(ctx);
	if (host)
		assert_int_equal(X509_VERIFY_PARAM_set1_host(param, host, 0), 1);
	if (ip)
		assert_int_equal(X509_VERIFY_PARAM_set1_ip_asc(param, ip), 1);
	ok = X509_verify_cert(ctx);
	verr = X509_STORE_CTX_get_error(ctx);
	if (ok != 1)
		print_message("verify: %s\n", X509_verify_cert_error_string(verr));
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	return ok;
}

static int count_sans(X509 *x, int type)
{
	GENERAL_NAMES *sans = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	int i, n = 0;

	for (i = 0; sans && i < sk_GENERAL_NAME_num(sans); i++)
		n += sk_GENERAL_NAME_value(sans, i)->type == type;
	GENERAL_NAMES_free(sans);
	return n;
}

static int same_serial(X509 *a, X509 *b)
{
	return ASN1_INTEGER_cmp(X509_get0_serialNumber(a), X509_get0_serialNumber(b)) == 0;
}

static void test_leaf_for_dns_name(void **state)
{
	char dir[128];
	struct ca *ca;
	X509 *leaf, *again;
	time_t nb = 0, na = 0, now = time(NULL);

	(void)state;
	ca = open_ok(in_base(dir, sizeof(dir), "ca"));
	leaf = ca_leaf_for_name(ca, "api.example.com");
	assert_non_null(leaf);
	assert_int_equal(verify_leaf(ca, leaf, "api.example.com", NULL), 1);
	assert_int_equal(X509_check_host(leaf, "api.example.com", 0, 0, NULL), 1);
	assert_int_equal(X509_check_host(leaf, "example.com", 0, 0, NULL), 0);
	assert_int_equal(count_sans(leaf, GEN_DNS), 1);
	assert_int_equal(count_sans(leaf, GEN_IPADD), 0);
	assert_int_equal(X509_check_ca(leaf), 0);
	assert_true(X509_get_extended_key_usage(leaf) & XKU_SSL_SERVER);
	assert_int_equal(X509_get_key_usage(leaf), KU_DIGITAL_SIGNATURE);
	assert_non_null(X509_get0_authority_key_id(leaf));
	assert_int_equal(X509_check_private_key(leaf, ca_leaf_key(ca)), 1);
	assert_int_equal(asn1_to_time(X509_get0_notBefore(leaf), &nb), 0);
	assert_int_equal(asn1_to_time(X509_get0_notAfter(leaf), &na), 0);
	assert_true(nb <= now - BACKDATE + 5 && nb >= now - BACKDATE - 5);
	assert_true(na <= now + 30 * DAY + 5 && na >= now + 30 * DAY - 5);

	/* The cache: same certificate, whatever the case or a trailing dot. */
	again = ca_leaf_for_name(ca, "API.Example.COM.");
	assert_ptr_equal(again, leaf);
	assert_true(same_serial(again, leaf));
	X509_free(again);
	X509_free(leaf);

	/* A long name still gets its SAN, with no CN and a critical SAN. */
	leaf = ca_leaf_for_name(
	    ca, "a-rather-long-label-to-get-past-sixty-four.characters.example.org");
	assert_non_null(leaf);
	assert_int_equal(X509_NAME_entry_count(X509_get_subject_name(leaf)), 0);
	assert_int_equal(
	    verify_leaf(ca, leaf,
			"a-rather-long-label-to-get-past-sixty-four.characters.example.org", NULL),
	    1);
	X509_free(leaf);
	ca_free(ca);
}

static void test_leaf_for_addresses(void **state)
{
	char dir[128];
	struct ca *ca;
	X509 *v4, *v6, *again;

	(void)state;
	ca = open_ok(in_base(dir, sizeof(dir), "ca"));
	v4 = ca_leaf_for_name(ca, "127.0.0.1");
	v6 = ca_leaf_for_name(ca, "::1");
	assert_non_null(v4);
	assert_non_null(v6);
	assert_int_equal(count_sans(v4, GEN_IPADD), 1);
	assert_int_equal(count_sans(v4, GEN_DNS), 0);
	assert_int_equal(count_sans(v6, GEN_IPADD), 1);
	assert_int_equal(count_sans(v6, GEN_DNS), 0);
	assert_int_equal(verify_leaf(ca, v4, NULL, "127.0.0.1"), 1);
	assert_int_equal(verify_leaf(ca, v6, NULL, "::1"), 1);
	assert_int_equal(verify_leaf(ca, v4, NULL, "127.0.0.2"), 0);
	assert_int_equal(X509_check_ip_asc(v6, "0:0::1", 0), 1);

	/* Another spelling of the same address is the same cache entry. */
	again = ca_leaf_for_name(ca, "[0:0:0:0:0:0:0:1]");
	assert_ptr_equal(again, v6);
	X509_free(again);
	X509_free(v4);
	X509_free(v6);
	ca_free(ca);
}

static void test_bad_names(void **state)
{
	static const char *const bad[] = {
	    "",	       ".",	    ".a.b", "a..b",	    "bad name", "x\n", "a/b",
	    "*.x.com", "[1.2.3.4]", "[::1", "fe80::1%eth0", "é.com",	"a:b", "user@host",
	};
	char dir[128], longname[300];
	struct ca *ca;
	size_t i;

	(void)state;
	ca = open_ok(in_base(dir, sizeof(dir), "ca"));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 0;
		if (ca_leaf_for_name(ca, bad[i]))
			fail_msg("a certificate for \"%s\"", bad[i]);
		assert_int_equal(errno, EINVAL);
	}
	assert_null(ca_leaf_for_name(ca, NULL));
	memset(longname, 'a', sizeof(longname));
	longname[254] = '\0'; /* one label too long, and the name too */
	assert_null(ca_leaf_for_name(ca, longname));
	for (i = 63; i < 254; i += 64)
		longname[i] = '.';
	longname[253] = '\0';
	X509_free(ca_leaf_for_name(ca, longname)); /* 253 is fine ... */
	longname[63] = 'a';
	assert_null(ca_leaf_for_name(ca, longname)); /* ... a 127-character label is not */
	assert_int_equal(ca->count, 1);
	ca_free(ca);
}

static void test_cache_lru_eviction(void **state)
{
	char dir[128];
	struct ca *ca;
	X509 *a, *b, *c, *x;

	(void)state;
	ca = open_ok(in_base(dir, sizeof(dir), "ca"));
	ca->max_cache = 3;
	a = ca_leaf_for_name(ca, "a.test");
	b = ca_leaf_for_name(ca, "b.test");
	c = ca_leaf_for_name(ca, "c.test");
	assert_int_equal(ca->count, 3);
	X509_free(ca_leaf_for_name(ca, "a.test")); /* a is now the most recent; b the least */
	X509_free(ca_leaf_for_name(ca, "d.test"));
	assert_int_equal(ca->count, 3);

	x = ca_leaf_for_name(ca, "a.test");
	assert_ptr_equal(x, a);
	X509_free(x);
	x = ca_leaf_for_name(ca, "c.test");
	assert_ptr_equal(x, c);
	X509_free(x);
	x = ca_leaf_for_name(ca, "b.test"); /* evicted: minted again */
	assert_ptr_not_equal(x, b);
	assert_false(same_serial(x, b));
	X509_free(x);
	assert_int_equal(ca->count, 3);

	/* The default bound. */
	assert_int_equal(CA_CACHE_MAX, 1024);
	X509_free(a);
	X509_free(b);
	X509_free(c);
	ca_free(ca);
}

static void test_cache_renews_near_expiry(void **state)
{
	char dir[128];
	struct ca *ca;
	X509 *a, *b;

	(void)state;
	ca = open_ok(in_base(dir, sizeof(dir), "ca"));
	a = ca_leaf_for_name(ca, "renew.test");
	assert_non_null(a);
	/* Pretend the cached copy ends within the day. */
	(*cache_slot(ca, "renew.test"))->not_after = time(NULL) + DAY - 60;
	b = ca_leaf_for_name(ca, "renew.test");
	assert_non_null(b);
	assert_ptr_not_equal(a, b);
	assert_int_equal(ca->count, 1);
	X509_free(a);
	X509_free(b);
	ca_free(ca);
}

static void test_leaf_never_outlives_ca(void **state)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	char dir[128];
	struct ca *ca;
	X509 *x, *leaf;

	(void)state;
	x = make_cert(key, 1, -DAY, 10 * DAY);
	assert_int_equal(add_ext(x, x, NID_subject_key_identifier, "hash"), 0);
	assert_true(X509_sign(x, key, EVP_sha256()) > 0);
	write_pair(in_base(dir, sizeof(dir), "short"), x, key);
	ca = open_ok(dir);
	leaf = ca_leaf_for_name(ca, "short.test");
	assert_non_null(leaf);
	assert_int_equal(ASN1_TIME_compare(X509_get0_notAfter(leaf), X509_get0_notAfter(x)), 0);
	assert_int_equal(verify_leaf(ca, leaf, "short.test", NULL), 1);
	X509_free(leaf);
	X509_free(x);
	EVP_PKEY_free(key);
	ca_free(ca);
}

#define THREADS 8
#define NAMES	100

static struct ca *shared_ca;
static atomic_int thread_failures;

static void *mint_many(void *arg)
{
	EVP_PKEY *pub = X509_get0_pubkey(ca_cert(shared_ca));
	char name[64];
	X509 *x;
	int i, t = (int)(intptr_t)arg;

	for (i = 0; i < NAMES; i++) {
		/* Half the names are shared by all threads, half are this thread's. */
		if (i % 2)
			snprintf(name, sizeof(name), "shared-%d.test", i);
		else
			snprintf(name, sizeof(name), "t%d-%d.test", t, i);
		x = ca_leaf_for_name(shared_ca, name);
		if (!x || X509_verify(x, pub) != 1 || X509_check_host(x, name, 0, 0, NULL) != 1)
			atomic_fetch_add(&thread_failures, 1);
		X509_free(x);
	}
	return NULL;
}

static void test_threads(void **state)
{
	pthread_t th[THREADS];
	char dir[128];
	int i;

	(void)state;
	shared_ca = open_ok(in_base(dir, sizeof(dir), "ca"));
	shared_ca->max_cache = 64; /* so eviction runs concurrently too */
	atomic_store(&thread_failures, 0);
	for (i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, mint_many, (void *)(intptr_t)i), 0);
	for (i = 0; i < THREADS; i++)
		assert_int_equal(pthread_join(th[i], NULL), 0);
	assert_int_equal(atomic_load(&thread_failures), 0);
	assert_int_equal(shared_ca->count, 64);
	ca_free(shared_ca);
	shared_ca = NULL;
}

static int count_begin(const char *s)
{
	int n = 0;

	while ((s = strstr(s, "-----BEGIN CERTIFICATE-----\n"))) {
		n++;
		s++;
	}
	return n;
}

/*
 * An existing CA is only read at ca_open(): nothing is parsed, no key made, until the first use,
 * which any caller may make; the bundle needs none of it.
 */
static void test_first_use_is_lazy(void **state)
{
	char dir[128], path[256];
	struct ca *ca;

	(void)state;
	ca_free(open_ok(in_base(dir, sizeof(dir), "lazy")));
	ca = open_ok(dir);
	assert_int_equal(atomic_load(&ca->state), CA_UNLOADED);
	assert_null(ca->cert);
	assert_null(ca->key);
	assert_null(ca->leaf_key);
	assert_non_null(ca->key_pem);
	in_base(path, sizeof(path), "lazy-bundle.pem");
	assert_int_equal(ca_write_bundle(ca, path, err, sizeof(err)), 0);
	assert_int_equal(atomic_load(&ca->state), CA_UNLOADED);
	assert_non_null(strstr(slurp(path, NULL), ca->cert_pem));
	assert_int_equal(ca_ready(ca, err, sizeof(err)), 0);
	assert_int_equal(atomic_load(&ca->state), CA_READY);
	assert_non_null(ca_cert(ca));
	assert_non_null(ca_leaf_key(ca));
	assert_null(ca->key_pem); /* the key's PEM goes once parsed */
	ca_free(ca);
}

static void test_bundle(void **state)
{
	const char *sys = X509_get_default_cert_file();
	char dir[128], path[256];
	int system_certs = 0;
	struct stat st;
	struct ca *ca;
	X509 *last = NULL, *x;
	FILE *f;

	(void)state;
	if (access(sys, R_OK) != 0)
		sys = SYSTEM_BUNDLE;
	if (access(sys, R_OK) == 0)
		system_certs = count_begin(slurp(sys, NULL));
	ca = open_ok(in_base(dir, sizeof(dir), "ca"));
	in_base(path, sizeof(path), "bundle.pem");
	assert_int_equal(ca_write_bundle(ca, path, err, sizeof(err)), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_int_equal(count_begin(slurp(path, NULL)), system_certs + 1);
	print_message("bundle: %d system certificates + the CA\n", system_certs);

	f = fopen(path, "r");
	assert_non_null(f);
	while ((x = PEM_read_X509(f, NULL, NULL, NULL))) {
		X509_free(last);
		last = x;
	}
	ERR_clear_error();
	fclose(f);
	assert_non_null(last);
	assert_int_equal(X509_cmp(last, ca_cert(ca)), 0);
	X509_free(last);

	/* Written again over itself, same count. */
	assert_int_equal(ca_write_bundle(ca, path, err, sizeof(err)), 0);
	assert_int_equal(count_begin(slurp(path, NULL)), system_certs + 1);

	/* A directory that does not exist is an error with the reason. */
	in_base(path, sizeof(path), "missing/bundle.pem");
	assert_int_equal(ca_write_bundle(ca, path, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "missing"));
	ca_free(ca);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_create_then_reuse, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_serial_is_random_128_bits, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_owner_and_group, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_only_one_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_mismatched_pair, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_expired_or_not_a_ca, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_garbage, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_symlinked_key_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_leaf_for_dns_name, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_leaf_for_addresses, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_names, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cache_lru_eviction, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cache_renews_near_expiry, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_leaf_never_outlives_ca, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_first_use_is_lazy, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bundle, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
