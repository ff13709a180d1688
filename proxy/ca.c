// SPDX-License-Identifier: MIT
/*
 * ca.c: the local CA. Owns the CA directory's two files (made once, through a temporary file and
 * a rename, under a lock on the directory; existing files are only ever read), the CA and leaf
 * keys in memory, and the leaf cache: a hash table of names threaded on an LRU list, under one
 * mutex that is never held while signing. It does not own TLS contexts (tls.c) nor decide which
 * names deserve a certificate: that is the rules' job, after the handshake.
 *
 * An existing CA is read at ca_open() as bytes and parsed, checked and given its leaf key only
 * at the first use (ca_ready()), on the first TLS handshake: most jails never see one, and
 * OpenSSL's initialisation, the parse and the checks were milliseconds of every start. The
 * bundle for the jail is written from those bytes, without OpenSSL.
 */
#include "proxy/ca.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "proxy/log.h"

#define DAY	       (24 * 3600)
#define CA_DAYS	       3652 /* ten years, leap days included */
#define LEAF_DAYS      30
#define BACKDATE       3600 /* clients whose clocks run a little behind still accept */
#define LEAF_RENEW     DAY  /* a cached leaf closer than this to its end is minted again */
#define NAME_LEN_MAX   253
#define CN_LEN_MAX     64 /* ub-common-name (RFC 5280) */
#define SYSTEM_BUNDLE  "/etc/ssl/certs/ca-certificates.crt"
#define REMEDY	       "remove both " CA_CERT_FILE " and " CA_KEY_FILE " in %s to make a new CA"
#define PEM_FILE_MAX   (1024 * 1024) /* a CA file larger than this is not one */
#define PEM_CERT_BEGIN "-----BEGIN CERTIFICATE-----"
#define PEM_CERT_END   "-----END CERTIFICATE-----"

/* Where a CA is between ca_open() and its first use; only ever moves forward. */
enum ca_state {
	CA_UNLOADED, /* the files' bytes are held, not yet parsed */
	CA_READY,    /* cert, key, md, not_after and leaf_key are set, and never change again */
	CA_BROKEN,   /* load_err says why, once said in the log */
};

/* One cached leaf: on its hash chain and on the LRU list (head = most recently used). */
struct leaf {
	struct leaf *hnext;
	struct leaf *prev, *next;
	X509 *cert;
	time_t not_after;
	char name[];
};

struct ca {
	char dir[PATH_MAX];
	char cert_path[PATH_MAX];
	char key_path[PATH_MAX];
	char *cert_pem; /* ca-cert.pem's bytes, for the bundle and the first use */
	size_t cert_pem_len;
	char *key_pem; /* ca-key.pem's bytes until the first use; then cleansed and freed */
	size_t key_pem_len;

	pthread_mutex_t load_lock;	   /* serialises the first use */
	_Atomic int state;		   /* enum ca_state; CA_READY is read without the lock */
	char load_err[3 * PATH_MAX + 512]; /* room for the longest message, paths and all */
	X509 *cert;
	EVP_PKEY *key;
	EVP_PKEY *leaf_key;
	const EVP_MD *md; /* NULL for the EdDSA keys a user-supplied CA may have */
	time_t not_after;

	pthread_mutex_t lock; /* guards everything below */
	struct leaf **buckets;
	size_t nbuckets; /* a power of two */
	struct leaf *lru_head, *lru_tail;
	size_t count;
	size_t max_cache;
};

const char *ca_ossl_reason(char *buf, size_t len)
{
	unsigned long e = ERR_get_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;

	if (r)
		snprintf(buf, len, "%s", r);
	else if (e)
		ERR_error_string_n(e, buf, len);
	else
		snprintf(buf, len, "unknown OpenSSL error");
	ERR_clear_error();
	return buf;
}

/* Never prompts on a terminal for an encrypted key: such a key simply fails to load. */
static int no_password(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return 0;
}

static int asn1_to_time(const ASN1_TIME *t, time_t *out)
{
	struct tm tm;

	if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
		return -EINVAL;
	*out = timegm(&tm);
	return 0;
}

static const char *fmt_time(time_t t, char *buf, size_t len)
{
	struct tm tm;

	if (!gmtime_r(&t, &tm) || strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		snprintf(buf, len, "%lld", (long long)t);
	return buf;
}

static int set_random_serial(X509 *x)
{
	BIGNUM *bn = BN_new();
	ASN1_INTEGER *serial = NULL;
	int ret = -ENOMEM;

	/* An odd number is never zero, which RFC 5280 forbids. */
	if (!bn || BN_rand(bn, 128, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ODD) != 1)
		goto out;
	serial = BN_to_ASN1_INTEGER(bn, NULL);
	if (!serial || X509_set_serialNumber(x, serial) != 1)
		goto out;
	ret = 0;
out:
	ASN1_INTEGER_free(serial);
	BN_free(bn);
	return ret;
}

static int add_ext(X509 *issuer, X509 *subject, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx(&ctx, issuer, subject, NULL, NULL, 0);
	ext = X509V3_EXT_nconf_nid(NULL, &ctx, nid, value);
	if (!ext)
		return -EINVAL;
	ok = X509_add_ext(subject, ext, -1);
	X509_EXTENSION_free(ext);
	return ok == 1 ? 0 : -ENOMEM;
}

static X509 *make_ca_cert(EVP_PKEY *key)
{
	X509 *x = X509_new();
	X509_NAME *name;
	char host[256], cn[CN_LEN_MAX + 1];
	int ok = 0;

	if (gethostname(host, sizeof(host)) == -1)
		host[0] = '\0';
	host[sizeof(host) - 1] = '\0';
	/* "boundary CA " is 12 characters; the CN may have 64. */
	if (host[0])
		snprintf(cn, sizeof(cn), "boundary CA %.52s", host);
	else
		snprintf(cn, sizeof(cn), "boundary CA");

	if (!x || X509_set_version(x, X509_VERSION_3) != 1 || set_random_serial(x) < 0)
		goto out;
	if (!X509_gmtime_adj(X509_getm_notBefore(x), -BACKDATE) ||
	    !X509_time_adj_ex(X509_getm_notAfter(x), CA_DAYS, -BACKDATE, NULL))
		goto out;
	name = X509_get_subject_name(x);
	if (X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
				       (const unsigned char *)cn, -1, -1, 0) != 1 ||
	    X509_NAME_add_entry_by_NID(name, NID_organizationName, MBSTRING_UTF8,
				       (const unsigned char *)"boundary", -1, -1, 0) != 1 ||
	    X509_set_issuer_name(x, name) != 1 || X509_set_pubkey(x, key) != 1)
		goto out;
	if (add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") < 0 ||
	    add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign") < 0 ||
	    add_ext(x, x, NID_subject_key_identifier, "hash") < 0)
		goto out;
	if (X509_sign(x, key, EVP_sha256()) <= 0)
		goto out;
	ok = 1;
out:
	if (!ok) {
		X509_free(x);
		x = NULL;
	}
	return x;
}

/*
 * Writes data to dir/name: a new file beside it (0600 from the start), mode and owner set before
 * the first byte, rename over name. durable: fsync the file before the rename and the directory
 * after it, for files that must survive a crash (the CA); a jail's own files under /run need
 * neither (two fsyncs were about 6 ms of every start). dir names dfd in messages.
 */
static int write_atomic(int dfd, const char *dir, const char *name, const void *data, size_t len,
			mode_t mode, uid_t owner, gid_t group, bool durable, char *err,
			size_t errlen)
{
	char tmp[NAME_MAX + 1];
	unsigned long long rnd;
	const char *p = data;
	ssize_t n;
	int fd = -1, ret = 0, i;

	for (i = 0; i < 16 && fd == -1; i++) {
		/* Not RAND_bytes(): that would initialise OpenSSL at every start, for a name. */
		if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != (ssize_t)sizeof(rnd))
			rnd = ((unsigned long long)getpid() << 8) | (unsigned int)i;
		snprintf(tmp, sizeof(tmp), ".%.200s.%016llx", name, rnd);
		fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd == -1 && errno != EEXIST)
			break;
	}
	if (fd == -1) {
		ret = -errno;
		snprintf(err, errlen, "cannot create a file in %s: %s", dir, strerror(-ret));
		return ret;
	}
	if (fchmod(fd, mode) == -1 ||
	    ((owner != (uid_t)-1 || group != (gid_t)-1) && fchown(fd, owner, group) == -1)) {
		ret = -errno;
		snprintf(err, errlen, "cannot set the mode or owner of %s/%s: %s", dir, name,
			 strerror(-ret));
		goto out;
	}
	while (len > 0) {
		n = write(fd, p, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			ret = -errno;
			snprintf(err, errlen, "cannot write %s/%s: %s", dir, name, strerror(-ret));
			goto out;
		}
		p += n;
		len -= (size_t)n;
	}
	if (durable && fsync(fd) == -1) {
		ret = -errno;
		snprintf(err, errlen, "cannot write %s/%s: %s", dir, name, strerror(-ret));
		goto out;
	}
	if (close(fd) == -1) {
		fd = -1;
		ret = -errno;
		snprintf(err, errlen, "cannot write %s/%s: %s", dir, name, strerror(-ret));
		goto out;
	}
	fd = -1;
	if (renameat(dfd, tmp, dfd, name) == -1) {
		ret = -errno;
		snprintf(err, errlen, "cannot rename %s/%s to %s: %s", dir, tmp, name,
			 strerror(-ret));
		goto out;
	}
	/* The rename itself must reach the disk before anyone relies on the file. */
	if (durable)
		(void)fsync(dfd);
out:
	if (fd != -1)
		close(fd);
	if (ret < 0)
		unlinkat(dfd, tmp, 0);
	return ret;
}

/* A directory this module made belongs to the user, as the files in it do. */
static int chown_new_dir(const char *path, uid_t owner, gid_t group, char *err, size_t errlen)
{
	int fd, ret = 0;

	if (owner == (uid_t)-1 && group == (gid_t)-1)
		return 0;
	/* By descriptor, so a directory swapped for a symlink cannot redirect the chown. */
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1 || fchown(fd, owner, group) == -1) {
		ret = -errno;
		snprintf(err, errlen, "cannot give %s to uid %d: %s", path, (int)owner,
			 strerror(-ret));
	}
	if (fd != -1)
		close(fd);
	return ret;
}

/* mkdir -p with mode 0700, chowning what it creates. */
static int mkdir_p(const char *dir, uid_t owner, gid_t group, char *err, size_t errlen)
{
	char path[PATH_MAX];
	size_t len = strlen(dir);
	char *p, c;
	int ret;

	if (len >= sizeof(path)) {
		snprintf(err, errlen, "CA directory name too long: %s", dir);
		return -ENAMETOOLONG;
	}
	memcpy(path, dir, len + 1);
	while (len > 1 && path[len - 1] == '/')
		path[--len] = '\0';
	for (p = path + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		c = *p;
		*p = '\0';
		if (mkdir(path, 0700) == 0) {
			ret = chown_new_dir(path, owner, group, err, errlen);
			if (ret < 0)
				return ret;
		} else if (errno != EEXIST) {
			ret = -errno;
			snprintf(err, errlen, "cannot create the CA directory %s: %s", path,
				 strerror(-ret));
			return ret;
		}
		*p = c;
		if (!c)
			break;
	}
	return 0;
}

/*
 * Reads dir/name's bytes into *data (NUL-terminated; the caller frees it), not through a symlink:
 * the CA key must be the user's, not a file root alone can read.
 */
static int read_file(int dfd, const char *dir, const char *name, char **data, size_t *len,
		     char *err, size_t errlen)
{
	struct stat st;
	char *buf = NULL;
	size_t got = 0;
	ssize_t n;
	int fd, ret = 0;

	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd == -1) {
		ret = -errno;
		snprintf(err, errlen, "cannot open %s/%s: %s%s", dir, name, strerror(-ret),
			 ret == -ELOOP ? " (boundary does not follow symlinks for CA files)" : "");
		goto out;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) || st.st_size > PEM_FILE_MAX) {
		ret = -EINVAL;
		snprintf(err, errlen, "%s/%s is not a regular file; " REMEDY, dir, name, dir);
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		ret = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	while (got < (size_t)st.st_size) {
		n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			ret = -errno;
			snprintf(err, errlen, "cannot read %s/%s: %s", dir, name, strerror(-ret));
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	buf[got] = '\0';
	*data = buf;
	*len = got;
	buf = NULL;
out:
	if (buf) {
		OPENSSL_cleanse(buf, (size_t)st.st_size + 1);
		free(buf);
	}
	if (fd != -1)
		close(fd);
	return ret;
}

/* Parses one PEM certificate (cert) or private key (key) from the bytes read from dir/name. */
static int parse_pem(const char *data, size_t len, const char *dir, const char *name, X509 **cert,
		     EVP_PKEY **key, char *err, size_t errlen)
{
	char reason[256];
	X509 *c = NULL;
	EVP_PKEY *k = NULL;
	BIO *b;

	b = BIO_new_mem_buf(data, (int)len);
	if (b && cert)
		c = PEM_read_bio_X509(b, NULL, no_password, NULL);
	else if (b)
		k = PEM_read_bio_PrivateKey(b, NULL, no_password, NULL);
	BIO_free(b);
	if (cert)
		*cert = c;
	else if (key)
		*key = k;
	if (cert ? !c : !k) {
		snprintf(err, errlen,
			 "%s/%s is not a PEM %s (%s); " REMEDY
			 ", or put back the files that belong together",
			 dir, name, cert ? "certificate" : "unencrypted private key",
			 ca_ossl_reason(reason, sizeof(reason)), dir);
		return -EINVAL;
	}
	return 0;
}

static int create_ca(struct ca *ca, int dfd, const char *dir, uid_t owner, gid_t group, char *err,
		     size_t errlen)
{
	BIO *kb = NULL, *cb = NULL;
	char reason[256], *data;
	long len;
	int ret = -ENOMEM;

	ca->key = EVP_EC_gen("P-256");
	ca->cert = ca->key ? make_ca_cert(ca->key) : NULL;
	if (!ca->cert) {
		snprintf(err, errlen, "cannot make a CA: %s",
			 ca_ossl_reason(reason, sizeof(reason)));
		goto out;
	}
	/* The secure-memory BIO clears the key's PEM when freed. */
	kb = BIO_new(BIO_s_secmem());
	cb = BIO_new(BIO_s_mem());
	if (!kb || !cb || PEM_write_bio_PrivateKey(kb, ca->key, NULL, NULL, 0, NULL, NULL) != 1 ||
	    PEM_write_bio_X509(cb, ca->cert) != 1) {
		snprintf(err, errlen, "cannot encode the new CA: %s",
			 ca_ossl_reason(reason, sizeof(reason)));
		goto out;
	}
	/* The key first: a crash between the two renames leaves a key alone, which is reported. */
	len = BIO_get_mem_data(kb, &data);
	ret = write_atomic(dfd, dir, CA_KEY_FILE, data, (size_t)len, 0600, owner, group, true, err,
			   errlen);
	if (ret < 0)
		goto out;
	len = BIO_get_mem_data(cb, &data);
	ret = write_atomic(dfd, dir, CA_CERT_FILE, data, (size_t)len, 0644, owner, group, true, err,
			   errlen);
	if (ret < 0) {
		unlinkat(dfd, CA_KEY_FILE, 0);
		goto out;
	}
	ca->cert_pem = malloc((size_t)len + 1);
	if (!ca->cert_pem) {
		ret = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	memcpy(ca->cert_pem, data, (size_t)len);
	ca->cert_pem[len] = '\0';
	ca->cert_pem_len = (size_t)len;
	log_info("made a new CA in %s", dir);
out:
	BIO_free(kb);
	BIO_free(cb);
	return ret;
}

/* The checks a loaded CA must pass; a fresh one passes them too. */
static int check_ca(struct ca *ca, const char *dir, char *err, size_t errlen)
{
	char reason[256], when[64];
	time_t now = time(NULL), not_before;

	if (asn1_to_time(X509_get0_notAfter(ca->cert), &ca->not_after) < 0 ||
	    asn1_to_time(X509_get0_notBefore(ca->cert), &not_before) < 0) {
		snprintf(err, errlen, "%s has unreadable validity dates; " REMEDY, ca->cert_path,
			 dir);
		return -EINVAL;
	}
	if (ca->not_after <= now) {
		snprintf(err, errlen,
			 "the CA certificate %s expired on %s; " REMEDY
			 " (programs that trusted the old one must trust the new one)",
			 ca->cert_path, fmt_time(ca->not_after, when, sizeof(when)), dir);
		return -EINVAL;
	}
	if (not_before > now) {
		snprintf(err, errlen,
			 "the CA certificate %s is not valid until %s; is the clock right? "
			 "If so, " REMEDY,
			 ca->cert_path, fmt_time(not_before, when, sizeof(when)), dir);
		return -EINVAL;
	}
	/* Also fills the certificate's extension cache, so signing threads only read it. */
	if (X509_check_ca(ca->cert) != 1) {
		ERR_clear_error();
		snprintf(err, errlen,
			 "%s is not a CA certificate (it needs basicConstraints CA:TRUE and, with "
			 "keyUsage, keyCertSign); " REMEDY,
			 ca->cert_path, dir);
		return -EINVAL;
	}
	if (X509_check_private_key(ca->cert, ca->key) != 1) {
		snprintf(err, errlen, "%s does not match %s (%s); " REMEDY, ca->key_path,
			 ca->cert_path, ca_ossl_reason(reason, sizeof(reason)), dir);
		return -EINVAL;
	}
	if (ca->not_after - now < LEAF_DAYS * DAY)
		log_warn("the CA certificate %s expires on %s; " REMEDY " before then",
			 ca->cert_path, fmt_time(ca->not_after, when, sizeof(when)), dir);
	ca->md = EVP_PKEY_is_a(ca->key, "ED25519") || EVP_PKEY_is_a(ca->key, "ED448")
		     ? NULL
		     : EVP_sha256();
	return 0;
}

struct ca *ca_open(const char *dir, uid_t owner, gid_t group, char *err, size_t errlen)
{
	struct ca *ca = NULL;
	struct stat st;
	bool have_cert, have_key;
	int dfd = -1, ret = -EINVAL;

	if (!dir || !*dir) {
		snprintf(err, errlen, "no CA directory given");
		goto out;
	}
	ca = calloc(1, sizeof(*ca));
	if (!ca) {
		ret = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	pthread_mutex_init(&ca->lock, NULL);
	pthread_mutex_init(&ca->load_lock, NULL);
	atomic_init(&ca->state, CA_UNLOADED);
	ca->max_cache = CA_CACHE_MAX;
	for (ca->nbuckets = 16; ca->nbuckets < CA_CACHE_MAX; ca->nbuckets *= 2)
		;
	ca->buckets = calloc(ca->nbuckets, sizeof(*ca->buckets));
	if (!ca->buckets) {
		ret = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if ((size_t)snprintf(ca->dir, sizeof(ca->dir), "%s", dir) >= sizeof(ca->dir) ||
	    (size_t)snprintf(ca->cert_path, sizeof(ca->cert_path), "%s/%s", dir, CA_CERT_FILE) >=
		sizeof(ca->cert_path) ||
	    (size_t)snprintf(ca->key_path, sizeof(ca->key_path), "%s/%s", dir, CA_KEY_FILE) >=
		sizeof(ca->key_path)) {
		ret = -ENAMETOOLONG;
		snprintf(err, errlen, "CA directory name too long: %s", dir);
		goto out;
	}
	ret = mkdir_p(dir, owner, group, err, errlen);
	if (ret < 0)
		goto out;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd == -1) {
		ret = -errno;
		snprintf(err, errlen, "cannot open the CA directory %s: %s", dir, strerror(-ret));
		goto out;
	}
	/* Two boundaries starting at once must not each make half of a CA. */
	if (flock(dfd, LOCK_EX) == -1) {
		ret = -errno;
		snprintf(err, errlen, "cannot lock the CA directory %s: %s", dir, strerror(-ret));
		goto out;
	}
	/* Anything but "does not exist" counts as present, so the read reports it. */
	have_cert = fstatat(dfd, CA_CERT_FILE, &st, AT_SYMLINK_NOFOLLOW) == 0 || errno != ENOENT;
	have_key = fstatat(dfd, CA_KEY_FILE, &st, AT_SYMLINK_NOFOLLOW) == 0 || errno != ENOENT;
	if (!have_cert && !have_key) {
		ret = create_ca(ca, dfd, dir, owner, group, err, errlen);
	} else if (!have_cert || !have_key) {
		ret = -ENOENT;
		snprintf(err, errlen,
			 "%s exists but %s does not; put the missing file back, or " REMEDY,
			 have_cert ? ca->cert_path : ca->key_path,
			 have_cert ? ca->key_path : ca->cert_path, dir);
	} else {
		/* Read now, while the files are where they were and ours to read; parsed later. */
		ret = read_file(dfd, dir, CA_CERT_FILE, &ca->cert_pem, &ca->cert_pem_len, err,
				errlen);
		if (ret == 0)
			ret = read_file(dfd, dir, CA_KEY_FILE, &ca->key_pem, &ca->key_pem_len, err,
					errlen);
	}
out:
	if (dfd != -1)
		close(dfd); /* also drops the lock */
	if (ret < 0) {
		ca_free(ca);
		ca = NULL;
		errno = -ret;
	}
	return ca;
}

void ca_free(struct ca *ca)
{
	struct leaf *l, *next;

	if (!ca)
		return;
	for (l = ca->lru_head; l; l = next) {
		next = l->next;
		X509_free(l->cert);
		free(l);
	}
	free(ca->buckets);
	free(ca->cert_pem);
	if (ca->key_pem) {
		OPENSSL_cleanse(ca->key_pem, ca->key_pem_len);
		free(ca->key_pem);
	}
	X509_free(ca->cert);
	EVP_PKEY_free(ca->key);
	EVP_PKEY_free(ca->leaf_key);
	pthread_mutex_destroy(&ca->lock);
	pthread_mutex_destroy(&ca->load_lock);
	free(ca);
}

const char *ca_cert_path(const struct ca *ca)
{
	return ca->cert_path;
}

const char *ca_key_path(const struct ca *ca)
{
	return ca->key_path;
}

/* The first use: parse what ca_open() read (a new CA is parsed already), check it, make the leaf key. */
static int load(struct ca *ca, char *err, size_t errlen)
{
	char reason[256];
	int ret = 0;

	if (!ca->cert) {
		ret = parse_pem(ca->cert_pem, ca->cert_pem_len, ca->dir, CA_CERT_FILE, &ca->cert,
				NULL, err, errlen);
		if (ret == 0)
			ret = parse_pem(ca->key_pem, ca->key_pem_len, ca->dir, CA_KEY_FILE, NULL,
					&ca->key, err, errlen);
	}
	if (ca->key_pem) {
		OPENSSL_cleanse(ca->key_pem, ca->key_pem_len);
		free(ca->key_pem);
		ca->key_pem = NULL;
	}
	if (ret < 0)
		return ret;
	ret = check_ca(ca, ca->dir, err, errlen);
	if (ret < 0)
		return ret;
	ca->leaf_key = EVP_EC_gen("P-256");
	if (!ca->leaf_key) {
		snprintf(err, errlen, "cannot make the leaf key: %s",
			 ca_ossl_reason(reason, sizeof(reason)));
		return -ENOMEM;
	}
	return 0;
}

int ca_ready(struct ca *ca, char *err, size_t errlen)
{
	int ret;

	if (!ca) {
		snprintf(err, errlen, "no CA");
		return -EINVAL;
	}
	if (atomic_load_explicit(&ca->state, memory_order_acquire) == CA_READY)
		return 0;
	pthread_mutex_lock(&ca->load_lock);
	if (atomic_load_explicit(&ca->state, memory_order_relaxed) == CA_UNLOADED) {
		ret = load(ca, ca->load_err, sizeof(ca->load_err));
		if (ret < 0)
			log_error("%s", ca->load_err);
		atomic_store_explicit(&ca->state, ret < 0 ? CA_BROKEN : CA_READY,
				      memory_order_release);
	}
	ret = atomic_load_explicit(&ca->state, memory_order_relaxed) == CA_READY ? 0 : -EINVAL;
	if (ret < 0)
		snprintf(err, errlen, "%s", ca->load_err);
	pthread_mutex_unlock(&ca->load_lock);
	return ret;
}

EVP_PKEY *ca_leaf_key(struct ca *ca)
{
	char err[8];

	return ca_ready(ca, err, sizeof(err)) == 0 ? ca->leaf_key : NULL;
}

X509 *ca_cert(struct ca *ca)
{
	char err[8];

	return ca_ready(ca, err, sizeof(err)) == 0 ? ca->cert : NULL;
}

/*
 * Writes name's cache key to key (lower case, no trailing dot; an address in inet_ntop form)
 * and, for an address, its bytes to ip and *iplen (else *iplen = 0). Returns 0 or -EINVAL.
 */
static int normalize_name(const char *name, char *key, size_t keylen, unsigned char ip[16],
			  size_t *iplen)
{
	char buf[NAME_LEN_MAX + 2];
	size_t len, i, label = 0;
	char c;

	*iplen = 0;
	if (!name)
		return -EINVAL;
	len = strlen(name);
	if (len < 1 || len >= sizeof(buf))
		return -EINVAL;
	if (name[0] == '[') {
		if (len < 3 || name[len - 1] != ']')
			return -EINVAL;
		memcpy(buf, name + 1, len - 2);
		buf[len - 2] = '\0';
		if (inet_pton(AF_INET6, buf, ip) != 1)
			return -EINVAL;
		*iplen = 16;
		return inet_ntop(AF_INET6, ip, key, keylen) ? 0 : -EINVAL;
	}
	if (inet_pton(AF_INET, name, ip) == 1) {
		*iplen = 4;
		return inet_ntop(AF_INET, ip, key, keylen) ? 0 : -EINVAL;
	}
	if (inet_pton(AF_INET6, name, ip) == 1) {
		*iplen = 16;
		return inet_ntop(AF_INET6, ip, key, keylen) ? 0 : -EINVAL;
	}
	if (name[len - 1] == '.')
		len--;
	if (len < 1 || len > NAME_LEN_MAX || len >= keylen)
		return -EINVAL;
	/* Only what a DNS name holds: the name goes into a certificate the client will parse. */
	for (i = 0; i < len; i++) {
		c = name[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c == '.') {
			if (label == 0)
				return -EINVAL;
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
			   c == '_') {
			if (++label > 63)
				return -EINVAL;
		} else {
			return -EINVAL;
		}
		key[i] = c;
	}
	key[len] = '\0';
	return 0;
}

static X509 *mint_leaf(struct ca *ca, const char *name, const unsigned char *ip, size_t iplen,
		       time_t now, time_t *not_after)
{
	X509 *x = X509_new();
	GENERAL_NAMES *sans = GENERAL_NAMES_new();
	GENERAL_NAME *gn = GENERAL_NAME_new();
	ASN1_OCTET_STRING *oct = NULL;
	ASN1_IA5STRING *ia5 = NULL;
	time_t end = now + (time_t)LEAF_DAYS * DAY;
	bool has_cn = strlen(name) <= CN_LEN_MAX;
	int ok = 0;

	if (end > ca->not_after)
		end = ca->not_after;
	if (!x || !sans || !gn)
		goto out;
	if (X509_set_version(x, X509_VERSION_3) != 1 || set_random_serial(x) < 0 ||
	    !ASN1_TIME_set(X509_getm_notBefore(x), now - BACKDATE) ||
	    !ASN1_TIME_set(X509_getm_notAfter(x), end))
		goto out;
	if (has_cn &&
	    X509_NAME_add_entry_by_NID(X509_get_subject_name(x), NID_commonName, MBSTRING_ASC,
				       (const unsigned char *)name, -1, -1, 0) != 1)
		goto out;
	if (X509_set_issuer_name(x, X509_get_subject_name(ca->cert)) != 1 ||
	    X509_set_pubkey(x, ca->leaf_key) != 1)
		goto out;

	if (iplen) {
		oct = ASN1_OCTET_STRING_new();
		if (!oct || ASN1_OCTET_STRING_set(oct, ip, (int)iplen) != 1)
			goto out;
		GENERAL_NAME_set0_value(gn, GEN_IPADD, oct);
		oct = NULL;
	} else {
		ia5 = ASN1_IA5STRING_new();
		if (!ia5 || ASN1_STRING_set(ia5, name, -1) != 1)
			goto out;
		GENERAL_NAME_set0_value(gn, GEN_DNS, ia5);
		ia5 = NULL;
	}
	if (!sk_GENERAL_NAME_push(sans, gn))
		goto out;
	gn = NULL;
	/* With an empty subject the SAN must be critical (RFC 5280 4.2.1.6). */
	if (X509_add1_ext_i2d(x, NID_subject_alt_name, sans, !has_cn, X509V3_ADD_DEFAULT) != 1)
		goto out;
	if (add_ext(ca->cert, x, NID_basic_constraints, "critical,CA:FALSE") < 0 ||
	    add_ext(ca->cert, x, NID_key_usage, "critical,digitalSignature") < 0 ||
	    add_ext(ca->cert, x, NID_ext_key_usage, "serverAuth") < 0)
		goto out;
	if (X509_get0_subject_key_id(ca->cert) &&
	    add_ext(ca->cert, x, NID_authority_key_identifier, "keyid:always") < 0)
		goto out;
	if (X509_sign(x, ca->key, ca->md) <= 0)
		goto out;
	*not_after = end;
	ok = 1;
out:
	ASN1_OCTET_STRING_free(oct);
	ASN1_IA5STRING_free(ia5);
	GENERAL_NAME_free(gn);
	GENERAL_NAMES_free(sans);
	if (!ok) {
		X509_free(x);
		x = NULL;
	}
	return x;
}

/* FNV-1a */
static size_t hash_name(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static struct leaf **cache_slot(struct ca *ca, const char *key)
{
	struct leaf **slot = &ca->buckets[hash_name(key) & (ca->nbuckets - 1)];

	while (*slot && strcmp((*slot)->name, key) != 0)
		slot = &(*slot)->hnext;
	return slot;
}

static void lru_unlink(struct ca *ca, struct leaf *l)
{
	if (l->prev)
		l->prev->next = l->next;
	else
		ca->lru_head = l->next;
	if (l->next)
		l->next->prev = l->prev;
	else
		ca->lru_tail = l->prev;
	l->prev = l->next = NULL;
}

static void lru_push_front(struct ca *ca, struct leaf *l)
{
	l->prev = NULL;
	l->next = ca->lru_head;
	if (ca->lru_head)
		ca->lru_head->prev = l;
	ca->lru_head = l;
	if (!ca->lru_tail)
		ca->lru_tail = l;
}

static void cache_remove(struct ca *ca, struct leaf *l)
{
	struct leaf **slot = cache_slot(ca, l->name);

	*slot = l->hnext;
	lru_unlink(ca, l);
	ca->count--;
	X509_free(l->cert);
	free(l);
}

X509 *ca_leaf_for_name(struct ca *ca, const char *name)
{
	char key[NAME_LEN_MAX + 2], reason[256];
	unsigned char ip[16];
	size_t iplen;
	struct leaf *l, **slot;
	time_t now = time(NULL), not_after = 0;
	X509 *x = NULL;

	if (!ca || normalize_name(name, key, sizeof(key), ip, &iplen) < 0) {
		errno = EINVAL;
		return NULL;
	}
	if (ca_ready(ca, reason, sizeof(reason)) < 0) {
		errno = EIO;
		return NULL;
	}
	pthread_mutex_lock(&ca->lock);
	l = *cache_slot(ca, key);
	if (l && l->not_after - now > LEAF_RENEW) {
		lru_unlink(ca, l);
		lru_push_front(ca, l);
		X509_up_ref(l->cert);
		x = l->cert;
	}
	pthread_mutex_unlock(&ca->lock);
	if (x)
		return x;

	x = mint_leaf(ca, key, ip, iplen, now, &not_after);
	if (!x) {
		log_warn("cannot make a certificate for %s: %s", key,
			 ca_ossl_reason(reason, sizeof(reason)));
		errno = ENOMEM;
		return NULL;
	}
	l = calloc(1, sizeof(*l) + strlen(key) + 1);
	if (!l)
		return x; /* served, just not cached */
	memcpy(l->name, key, strlen(key) + 1);
	X509_up_ref(x);
	l->cert = x;
	l->not_after = not_after;

	pthread_mutex_lock(&ca->lock);
	/* Another thread may have minted the same name meanwhile; the newer copy stays. */
	slot = cache_slot(ca, key);
	if (*slot)
		cache_remove(ca, *slot);
	slot = cache_slot(ca, key);
	l->hnext = NULL;
	*slot = l;
	lru_push_front(ca, l);
	ca->count++;
	while (ca->count > ca->max_cache && ca->lru_tail)
		cache_remove(ca, ca->lru_tail);
	pthread_mutex_unlock(&ca->lock);
	return x;
}

/* A growing byte buffer for the bundle. */
struct bytes {
	char *p;
	size_t len, cap;
};

static int bytes_add(struct bytes *b, const void *data, size_t len)
{
	size_t cap = b->cap ? b->cap : 262144;
	char *p;

	if (len == 0)
		return 0;
	while (cap - b->len < len)
		cap *= 2;
	if (cap != b->cap || !b->p) {
		p = realloc(b->p, cap);
		if (!p)
			return -ENOMEM;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, len);
	b->len += len;
	return 0;
}

/*
 * The usual system bundle (plain "BEGIN CERTIFICATE" blocks) is copied as it is: parsing 150
 * certificates to write them out unchanged costs tens of milliseconds at every start. Returns
 * true when in was copied to out whole; false (nothing written) when the caller must parse it:
 * it holds OpenSSL's "TRUSTED CERTIFICATE" form, which other TLS libraries cannot read, or
 * could not be read.
 */
static bool copy_plain_bundle(FILE *in, struct bytes *out)
{
	struct bytes data = {0};
	char chunk[65536];
	bool ok = false;
	size_t n;

	while ((n = fread(chunk, 1, sizeof(chunk), in)) > 0)
		if (bytes_add(&data, chunk, n) < 0)
			goto out;
	if (ferror(in) || (data.p && memmem(data.p, data.len, "TRUSTED CERTIFICATE", 19)))
		goto out;
	if (!data.p) {
		ok = true; /* empty */
		goto out;
	}
	ok = bytes_add(out, data.p, data.len) == 0 &&
	     (data.len == 0 || data.p[data.len - 1] == '\n' || bytes_add(out, "\n", 1) == 0);
	if (!ok)
		out->len = 0;
out:
	free(data.p);
	return ok;
}

/* The system bundle in OpenSSL's TRUSTED CERTIFICATE form, rewritten as plain certificates. */
static int rewrite_trusted_bundle(FILE *in, const char *sys, struct bytes *out, char *err,
				  size_t errlen)
{
	char reason[256], *data;
	int ret = 0, skipped = 0;
	unsigned long e;
	BIO *b;
	X509 *x;
	long len;

	b = BIO_new(BIO_s_mem());
	if (!b) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (;;) {
		x = PEM_read_X509_AUX(in, NULL, no_password, NULL);
		if (!x) {
			e = ERR_peek_last_error();
			if (feof(in) || ferror(in) ||
			    (ERR_GET_LIB(e) == ERR_LIB_PEM &&
			     ERR_GET_REASON(e) == PEM_R_NO_START_LINE))
				break;
			/* A damaged entry: PEM reading has consumed it, so go on to the next. */
			ERR_clear_error();
			skipped++;
			continue;
		}
		if (PEM_write_bio_X509(b, x) != 1) {
			X509_free(x);
			ret = -ENOMEM;
			snprintf(err, errlen, "cannot encode a certificate: %s",
				 ca_ossl_reason(reason, sizeof(reason)));
			goto out;
		}
		X509_free(x);
	}
	ERR_clear_error();
	if (ferror(in)) {
		ret = -EIO;
		snprintf(err, errlen, "cannot read the system trust store %s", sys);
		goto out;
	}
	if (skipped)
		log_warn("%s: skipped %d certificates that do not parse", sys, skipped);
	len = BIO_get_mem_data(b, &data);
	if (bytes_add(out, data, (size_t)len) < 0) {
		ret = -ENOMEM;
		snprintf(err, errlen, "out of memory");
	}
out:
	BIO_free(b);
	return ret;
}

int ca_write_bundle(struct ca *ca, const char *path, char *err, size_t errlen)
{
	const char *sys = X509_get_default_cert_file();
	char dir[PATH_MAX], *slash;
	const char *base, *begin, *end;
	struct bytes out = {0};
	FILE *in = NULL;
	int dfd = -1, ret = 0;

	if (!ca || !path || strlen(path) >= sizeof(dir)) {
		snprintf(err, errlen, "bad bundle path");
		return -EINVAL;
	}
	memcpy(dir, path, strlen(path) + 1);
	slash = strrchr(dir, '/');
	if (!slash) {
		base = path;
		memcpy(dir, ".", 2);
	} else {
		base = path + (slash - dir) + 1;
		if (slash == dir)
			slash++;
		*slash = '\0';
	}
	if (!*base) {
		snprintf(err, errlen, "bad bundle path: %s", path);
		return -EINVAL;
	}

	in = fopen(sys, "re");
	if (!in && errno == ENOENT) {
		sys = SYSTEM_BUNDLE;
		in = fopen(sys, "re");
	}
	if (!in && errno != ENOENT) {
		ret = -errno;
		snprintf(err, errlen, "cannot read the system trust store %s: %s", sys,
			 strerror(-ret));
		goto out;
	}
	if (in && !copy_plain_bundle(in, &out)) {
		rewind(in);
		ret = rewrite_trusted_bundle(in, sys, &out, err, errlen);
		if (ret < 0)
			goto out;
	}
	/*
	 * The CA's first certificate block, as the file has it. A file without one cannot be
	 * parsed either: the first TLS handshake says so (ca_ready()), and the bundle goes
	 * without it meanwhile.
	 */
	begin = ca->cert_pem ? strstr(ca->cert_pem, PEM_CERT_BEGIN) : NULL;
	end = begin ? strstr(begin, PEM_CERT_END) : NULL;
	if (end && (bytes_add(&out, begin, (size_t)(end - begin) + strlen(PEM_CERT_END)) < 0 ||
		    bytes_add(&out, "\n", 1) < 0)) {
		ret = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd == -1) {
		ret = -errno;
		snprintf(err, errlen, "cannot open %s: %s", dir, strerror(-ret));
		goto out;
	}
	ret = write_atomic(dfd, dir, base, out.p, out.len, 0644, (uid_t)-1, (gid_t)-1, false, err,
			   errlen);
out:
	if (in)
		fclose(in);
	if (dfd != -1)
		close(dfd);
	free(out.p);
	return ret;
}
