// SPDX-License-Identifier: MIT
/*
 * oci.c: an OCI image layout made into a root (see oci.h): its JSON documents read with
 * proxy/json.h's reader into a small tree, its blobs checked with OpenSSL's SHA-256, its layers
 * read with libarchive (tar, gzip or zstd) and written by this file alone, through descriptors
 * resolved under the root with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS). It does not
 * mount anything (rootfs.c does) nor decide the command's environment (rootfs.c and setup.c).
 */
#include "user/oci.h"

#include <archive.h>
#include <archive_entry.h>
#include <ctype.h>
#include <dlfcn.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "proxy/json.h"
#include "proxy/log.h"

#define MAX_DOC	  (4 * 1024 * 1024) /* index, manifest, config: JSON, never this big */
#define MAX_DEPTH 32
#define MAX_ITEMS 100000 /* members of one object or array */

/* --- a JSON tree over proxy/json.h's reader --------------------------------------------------- */

enum jtype { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };

struct jv {
	enum jtype t;
	const char *s; /* J_STR: decoded, in the document's string buffer */
	int64_t n;     /* J_NUM when whole; J_BOOL 0/1 */
	bool whole;
	size_t len;	/* members of J_ARR / J_OBJ */
	struct jv *v;	/* their values */
	const char **k; /* J_OBJ: their keys */
};

/* A document: its text, the decoded strings, the tree. */
struct jdoc {
	char *text, *strs;
	struct jv root;
};

static void jv_fini(struct jv *j)
{
	size_t i;

	for (i = 0; i < j->len && j->v; i++)
		jv_fini(&j->v[i]);
	free(j->v);
	free(j->k);
	memset(j, 0, sizeof(*j));
}

static int jv_parse(struct json_reader *r, struct jv *j, int depth)
{
	size_t cap = 0;
	bool obj;
	int ret;

	memset(j, 0, sizeof(*j));
	if (depth > MAX_DEPTH)
		return -JSON_E_DEPTH;
	json_skip_ws(r);
	if (r->p >= r->end)
		return -JSON_E_SYNTAX;
	if (*r->p == '"') {
		j->t = J_STR;
		return json_string(r, &j->s);
	}
	if (json_literal(r, "null"))
		return 0;
	if (json_literal(r, "true") || json_literal(r, "false")) {
		j->t = J_BOOL;
		j->n = r->p[-1] == 'e' && r->p[-2] == 'u';
		return 0;
	}
	if (*r->p != '{' && *r->p != '[') {
		j->t = J_NUM;
		return json_number(r, &j->n, &j->whole);
	}
	obj = *r->p == '{';
	j->t = obj ? J_OBJ : J_ARR;
	r->p++;
	json_skip_ws(r);
	if (r->p < r->end && *r->p == (obj ? '}' : ']')) {
		r->p++;
		return 0;
	}
	for (;;) {
		const char *key = NULL;

		if (j->len == cap) {
			struct jv *nv;
			const char **nk;

			if (cap >= MAX_ITEMS)
				return -JSON_E_DEPTH;
			cap = cap ? cap * 2 : 8;
			nv = realloc(j->v, cap * sizeof(*nv));
			if (!nv)
				return -ENOMEM;
			j->v = nv;
			nk = realloc(j->k, cap * sizeof(*nk));
			if (!nk)
				return -ENOMEM;
			j->k = nk;
		}
		json_skip_ws(r);
		if (obj) {
			if (r->p >= r->end || *r->p != '"')
				return -JSON_E_SYNTAX;
			ret = json_string(r, &key);
			if (ret)
				return ret;
			json_skip_ws(r);
			if (r->p >= r->end || *r->p != ':')
				return -JSON_E_SYNTAX;
			r->p++;
		}
		j->k[j->len] = key;
		ret = jv_parse(r, &j->v[j->len], depth + 1);
		j->len++;
		if (ret)
			return ret;
		json_skip_ws(r);
		if (r->p < r->end && *r->p == ',') {
			r->p++;
			continue;
		}
		if (r->p < r->end && *r->p == (obj ? '}' : ']')) {
			r->p++;
			return 0;
		}
		return -JSON_E_SYNTAX;
	}
}

static const struct jv *jget(const struct jv *o, const char *key)
{
	size_t i;

	if (!o || o->t != J_OBJ)
		return NULL;
	for (i = 0; i < o->len; i++)
		if (o->k[i] && strcmp(o->k[i], key) == 0)
			return &o->v[i];
	return NULL;
}

static const char *jstr(const struct jv *o, const char *key)
{
	const struct jv *v = jget(o, key);

	return v && v->t == J_STR ? v->s : NULL;
}

static void jdoc_fini(struct jdoc *d)
{
	jv_fini(&d->root);
	free(d->text);
	free(d->strs);
	memset(d, 0, sizeof(*d));
}

/* Parses text (len bytes; taken over) into d. Returns 0 or -1 with err's tail filled. */
static int jdoc_parse(struct jdoc *d, char *text, size_t len, const char *what, char *err,
		      size_t errlen)
{
	struct json_reader r;
	int ret;

	memset(d, 0, sizeof(*d));
	d->text = text;
	d->strs = malloc(len + 1);
	if (!d->strs) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	json_init(&r, text, len, d->strs, len + 1, MAX_DEPTH, false);
	ret = jv_parse(&r, &d->root, 1);
	if (!ret) {
		json_skip_ws(&r);
		if (r.p != r.end)
			ret = -JSON_E_SYNTAX;
	}
	if (ret) {
		snprintf(err, errlen, "%s is not valid JSON (byte %zu: %s)", what,
			 (size_t)(r.p - r.start),
			 ret == -ENOMEM ? "out of memory" : json_strerror(ret));
		return -EINVAL;
	}
	if (d->root.t != J_OBJ) {
		snprintf(err, errlen, "%s is not a JSON object", what);
		return -EINVAL;
	}
	return 0;
}

/* --- blobs ------------------------------------------------------------------------------------- */

/* A descriptor's digest "sha256:<64 hex>", checked; hex points at the hex. */
static int digest_hex(const char *digest, const char **hex)
{
	size_t i;

	if (!digest || strncmp(digest, "sha256:", 7) != 0 || strlen(digest) != 7 + 64)
		return -EINVAL;
	for (i = 7; i < 7 + 64; i++)
		if (!isxdigit((unsigned char)digest[i]) || isupper((unsigned char)digest[i]))
			return -EINVAL;
	*hex = digest + 7;
	return 0;
}

/* Opens blobs/sha256/<hex> of the layout (never through a symlink). */
static int open_blob(int lfd, const char *hex)
{
	char path[128];
	struct open_how how;

	snprintf(path, sizeof(path), "blobs/sha256/%s", hex);
	memset(&how, 0, sizeof(how));
	how.flags = O_RDONLY | O_CLOEXEC;
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
	return (int)syscall(SYS_openat2, lfd, path, &how, sizeof(how));
}

/*
 * Checks the blob of digest (what names it, for messages) against its digest and size (-1:
 * unknown), from fd's start; fd is left at its end. Returns 0, or -errno with err filled.
 */
static int check_blob(int fd, const char *digest, int64_t size, const char *dir, const char *what,
		      char *err, size_t errlen)
{
	unsigned char buf[65536], md[EVP_MAX_MD_SIZE];
	char got[2 * EVP_MAX_MD_SIZE + 1];
	unsigned int mdlen = 0, i;
	EVP_MD_CTX *ctx;
	int64_t total = 0;
	ssize_t n;
	int ret = 0;

	ctx = EVP_MD_CTX_new();
	if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(ctx);
		snprintf(err, errlen, "cannot compute SHA-256 (OpenSSL)");
		return -EIO;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		EVP_DigestUpdate(ctx, buf, (size_t)n);
		total += n;
	}
	if (n == -1) {
		ret = -errno;
		snprintf(err, errlen, "--image %s: cannot read %s (%s): %s", dir, what, digest,
			 strerror(errno));
	}
	if (!ret && EVP_DigestFinal_ex(ctx, md, &mdlen) != 1) {
		ret = -EIO;
		snprintf(err, errlen, "cannot compute SHA-256 (OpenSSL)");
	}
	EVP_MD_CTX_free(ctx);
	if (ret)
		return ret;
	for (i = 0; i < mdlen; i++)
		snprintf(got + 2 * i, 3, "%02x", md[i]);
	if (strcmp(got, digest + 7) != 0) {
		snprintf(err, errlen,
			 "--image %s: %s, blob %s, does not match its digest: expected %s, got "
			 "sha256:%s (the image is damaged or was altered: copy it again, e.g. "
			 "with skopeo copy)",
			 dir, what, digest, digest, got);
		return -EBADMSG;
	}
	if (size >= 0 && total != size) {
		snprintf(err, errlen,
			 "--image %s: %s, blob %s, is %lld bytes where its descriptor says %lld "
			 "(copy the image again)",
			 dir, what, digest, (long long)total, (long long)size);
		return -EBADMSG;
	}
	return 0;
}

/* Reads a whole small file (at most MAX_DOC) into *text, *len. */
static int slurp(int fd, char **text, size_t *len)
{
	size_t cap = 65536, n = 0;
	char *buf = malloc(cap), *nb;
	ssize_t r;

	if (!buf)
		return -ENOMEM;
	for (;;) {
		if (n == cap) {
			if (cap >= MAX_DOC) {
				free(buf);
				return -EFBIG;
			}
			cap *= 2;
			nb = realloc(buf, cap);
			if (!nb) {
				free(buf);
				return -ENOMEM;
			}
			buf = nb;
		}
		r = read(fd, buf + n, cap - n);
		if (r == -1) {
			r = -errno;
			free(buf);
			return (int)r;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	*text = buf;
	*len = n;
	return 0;
}

/* A JSON blob of the layout, checked against its descriptor desc, parsed into d. */
static int read_json_blob(int lfd, const struct jv *desc, const char *dir, const char *what,
			  struct jdoc *d, char *err, size_t errlen)
{
	const char *digest = jstr(desc, "digest"), *hex;
	const struct jv *size = jget(desc, "size");
	char *text = NULL;
	size_t len;
	int fd, ret;

	if (digest_hex(digest, &hex) != 0) {
		snprintf(err, errlen,
			 "--image %s: the %s's descriptor has no sha256 digest (\"%s\"): boundary "
			 "reads sha256 blobs only",
			 dir, what, digest ? digest : "");
		return -EINVAL;
	}
	fd = open_blob(lfd, hex);
	if (fd == -1) {
		ret = -errno;
		snprintf(err, errlen,
			 "--image %s: the %s, blob %s, is missing: %s (copy the whole image again)",
			 dir, what, digest, strerror(errno));
		return ret;
	}
	ret = check_blob(fd, digest, size && size->t == J_NUM && size->whole ? size->n : -1, dir,
			 what, err, errlen);
	if (!ret && lseek(fd, 0, SEEK_SET) == -1)
		ret = -errno;
	if (!ret)
		ret = slurp(fd, &text, &len);
	close(fd);
	if (ret) {
		if (!err[0])
			snprintf(err, errlen, "--image %s: cannot read the %s: %s", dir, what,
				 strerror(-ret));
		return ret;
	}
	return jdoc_parse(d, text, len, what, err, errlen);
}

/* --- which manifest -------------------------------------------------------------------------- */

static bool is_index_type(const char *mt)
{
	return mt && (strcmp(mt, "application/vnd.oci.image.index.v1+json") == 0 ||
		      strcmp(mt, "application/vnd.docker.distribution.manifest.list.v2+json") == 0);
}

static bool is_manifest_type(const char *mt)
{
	return mt && (strcmp(mt, "application/vnd.oci.image.manifest.v1+json") == 0 ||
		      strcmp(mt, "application/vnd.docker.distribution.manifest.v2+json") == 0);
}

static bool is_config_type(const char *mt)
{
	return mt && (strcmp(mt, "application/vnd.oci.image.config.v1+json") == 0 ||
		      strcmp(mt, "application/vnd.docker.container.image.v1+json") == 0);
}

/* A layer's media type: 0 for a tar (any of the compressions libarchive reads), -1 for none. */
static int layer_type(const char *mt)
{
	static const char *const ok[] = {
	    "application/vnd.oci.image.layer.v1.tar",
	    "application/vnd.oci.image.layer.v1.tar+gzip",
	    "application/vnd.oci.image.layer.v1.tar+zstd",
	    "application/vnd.oci.image.layer.nondistributable.v1.tar",
	    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
	    "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
	    "application/vnd.docker.image.rootfs.diff.tar.gzip",
	    "application/vnd.docker.image.rootfs.diff.tar",
	    NULL,
	};
	size_t i;

	for (i = 0; mt && ok[i]; i++)
		if (strcmp(mt, ok[i]) == 0)
			return 0;
	return -1;
}

/* GOARCH of this machine, as OCI platforms name it. */
static const char *this_arch(void)
{
	static const char *const map[][2] = {
	    {"x86_64", "amd64"}, {"aarch64", "arm64"},	 {"i686", "386"},    {"i386", "386"},
	    {"armv7l", "arm"},	 {"ppc64le", "ppc64le"}, {"s390x", "s390x"}, {"riscv64", "riscv64"},
	};
	static struct utsname u;
	size_t i;

	if (uname(&u) == -1)
		return "amd64";
	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(u.machine, map[i][0]) == 0)
			return map[i][1];
	return u.machine;
}

/*
 * The descriptor of index's manifests[] for linux and this architecture (or with no platform,
 * when that is the only kind); an image index in its place is followed once.
 */
static int pick_manifest(int lfd, const struct jv *index, const char *dir, struct jdoc *inner,
			 const struct jv **out, char *err, size_t errlen)
{
	const struct jv *m = jget(index, "manifests"), *plat, *best = NULL;
	const char *arch = this_arch(), *mt;
	char seen[512] = "";
	size_t i, used = 0;

	if (!m || m->t != J_ARR || m->len == 0) {
		snprintf(err, errlen, "--image %s: index.json lists no manifest", dir);
		return -EINVAL;
	}
	for (i = 0; i < m->len; i++) {
		const char *os, *a;

		mt = jstr(&m->v[i], "mediaType");
		plat = jget(&m->v[i], "platform");
		os = jstr(plat, "os");
		a = jstr(plat, "architecture");
		if (!plat) {
			if (!best)
				best = &m->v[i];
			continue;
		}
		if (used + 2 < sizeof(seen))
			used += (size_t)snprintf(seen + used, sizeof(seen) - used, "%s%s/%s",
						 used ? ", " : "", os ? os : "?", a ? a : "?");
		if (os && a && strcmp(os, "linux") == 0 && strcmp(a, arch) == 0) {
			best = &m->v[i];
			break;
		}
	}
	if (!best) {
		snprintf(err, errlen,
			 "--image %s: no manifest for linux/%s (the image has %s): copy the "
			 "image for this machine (skopeo copy --override-arch %s ...)",
			 dir, arch, seen, arch);
		return -ENOENT;
	}
	mt = jstr(best, "mediaType");
	if (is_index_type(mt) && !inner->text) {
		int ret = read_json_blob(lfd, best, dir, "nested image index", inner, err, errlen);

		if (ret)
			return ret;
		return pick_manifest(lfd, &inner->root, dir, inner, out, err, errlen);
	}
	if (mt && !is_manifest_type(mt)) {
		snprintf(err, errlen,
			 "--image %s: unsupported media type %s for the manifest (boundary reads "
			 "application/vnd.oci.image.manifest.v1+json and Docker's v2 manifest)",
			 dir, mt);
		return -ENOTSUP;
	}
	*out = best;
	return 0;
}

/* --- unpacking ------------------------------------------------------------------------------------ */

/* A directory under root, each component resolved without a symlink; made (0755) if create. */
static int open_beneath(int rootfd, const char *dir, bool create)
{
	char comp[NAME_MAX + 1];
	struct open_how how;
	const char *p = dir;
	int cur, next;
	size_t n;

	cur = dup(rootfd);
	if (cur == -1)
		return -errno;
	memset(&how, 0, sizeof(how));
	how.flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
	while (*p) {
		n = strcspn(p, "/");
		if (n == 0 || n > NAME_MAX) {
			p += n ? n : 1;
			continue;
		}
		memcpy(comp, p, n);
		comp[n] = '\0';
		p += n;
		next = (int)syscall(SYS_openat2, cur, comp, &how, sizeof(how));
		if (next == -1 && errno == ENOENT && create) {
			if (mkdirat(cur, comp, 0755) == -1 && errno != EEXIST)
				next = -1;
			else
				next = (int)syscall(SYS_openat2, cur, comp, &how, sizeof(how));
		}
		if (next == -1) {
			int e = errno;

			close(cur);
			return -e;
		}
		close(cur);
		cur = next;
	}
	return cur;
}

/* Removes name in dirfd, a directory with all it holds; never follows a symlink. */
static int rm_tree(int at, const char *name)
{
	struct stat st;
	struct dirent *de;
	DIR *d;
	int fd, ret = 0;

	if (fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(at, name, 0) == -1 ? -errno : 0;
	fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	while ((de = readdir(d)) && ret == 0) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		ret = rm_tree(dirfd(d), de->d_name);
	}
	closedir(d);
	if (ret == 0 && unlinkat(at, name, AT_REMOVEDIR) == -1)
		ret = -errno;
	return ret;
}

/*
 * A layer member's name made plain: "./" and "/." pieces and trailing slashes gone. Refused
 * (-EINVAL): an absolute path, "..", or too long. An empty result is the root itself.
 */
static int clean_name(const char *in, char *out, size_t len)
{
	const char *p = in;
	size_t o = 0, n;

	if (!in || in[0] == '/')
		return -EINVAL;
	while (*p) {
		n = strcspn(p, "/");
		if (n == 0 || (n == 1 && p[0] == '.')) {
			p += n ? n : 1;
			continue;
		}
		if (n == 2 && p[0] == '.' && p[1] == '.')
			return -EINVAL;
		if (o + n + 2 > len)
			return -ENAMETOOLONG;
		if (o)
			out[o++] = '/';
		memcpy(out + o, p, n);
		o += n;
		p += n;
	}
	out[o] = '\0';
	return 0;
}

/* Splits clean name into its directory (in dir) and its last component (returned). */
static const char *split_name(const char *name, char *dir, size_t len)
{
	const char *slash = strrchr(name, '/');

	if (!slash) {
		dir[0] = '\0';
		return name;
	}
	snprintf(dir, len, "%.*s", (int)(slash - name), name);
	return slash + 1;
}

struct layer_ctx {
	const char *dir;  /* --image DIR, for messages */
	const char *what; /* "layer 2 of 3", for messages */
	int rootfd;	  /* the root being made */
	char *err;
	size_t errlen;
};

static int refuse_member(struct layer_ctx *c, const char *name, const char *why)
{
	snprintf(c->err, c->errlen,
		 "--image %s: %s holds \"%s\", %s: refused (the image is unsafe)", c->dir, c->what,
		 name, why);
	return -EPERM;
}

/*
 * libarchive, loaded the first time an image is unpacked. Linked in, it and what it needs
 * (ICU, libxml2, libstdc++, five compressors) would be loaded by every run, --image or not,
 * and cost each one about 5 ms of start-up.
 */
static struct {
	void *h;
	__typeof__(archive_entry_filetype) *entry_filetype;
	__typeof__(archive_entry_gid) *entry_gid;
	__typeof__(archive_entry_hardlink) *entry_hardlink;
	__typeof__(archive_entry_mtime) *entry_mtime;
	__typeof__(archive_entry_mtime_nsec) *entry_mtime_nsec;
	__typeof__(archive_entry_pathname) *entry_pathname;
	__typeof__(archive_entry_perm) *entry_perm;
	__typeof__(archive_entry_size) *entry_size;
	__typeof__(archive_entry_symlink) *entry_symlink;
	__typeof__(archive_entry_uid) *entry_uid;
	__typeof__(archive_error_string) *error_string;
	__typeof__(archive_read_data_block) *read_data_block;
	__typeof__(archive_read_free) *read_free;
	__typeof__(archive_read_new) *read_new;
	__typeof__(archive_read_next_header) *read_next_header;
	__typeof__(archive_read_open_fd) *read_open_fd;
	__typeof__(archive_read_support_filter_gzip) *read_support_filter_gzip;
	__typeof__(archive_read_support_filter_none) *read_support_filter_none;
	__typeof__(archive_read_support_filter_zstd) *read_support_filter_zstd;
	__typeof__(archive_read_support_format_tar) *read_support_format_tar;
} la;

/* Loads libarchive once. Returns 0, or -ENOENT with err filled. */
static int la_load(const char *dir, char *err, size_t errlen)
{
	void *h;

	if (la.h)
		return 0;
	h = dlopen("libarchive.so.13", RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(err, errlen,
			 "--image %s: cannot load libarchive to unpack its layers: %s (install "
			 "Debian's libarchive13)",
			 dir, dlerror());
		return -ENOENT;
	}
#define LA(f)                                                                                      \
	do {                                                                                       \
		if (!(*(void **)&la.f = dlsym(h, "archive_" #f))) {                                \
			snprintf(err, errlen, "--image %s: libarchive has no archive_" #f, dir);   \
			dlclose(h);                                                                \
			return -ENOENT;                                                            \
		}                                                                                  \
	} while (0)
	LA(entry_filetype);
	LA(entry_gid);
	LA(entry_hardlink);
	LA(entry_mtime);
	LA(entry_mtime_nsec);
	LA(entry_pathname);
	LA(entry_perm);
	LA(entry_size);
	LA(entry_symlink);
	LA(entry_uid);
	LA(error_string);
	LA(read_data_block);
	LA(read_free);
	LA(read_new);
	LA(read_next_header);
	LA(read_open_fd);
	LA(read_support_filter_gzip);
	LA(read_support_filter_none);
	LA(read_support_filter_zstd);
	LA(read_support_format_tar);
#undef LA
	la.h = h;
	return 0;
}

/* Opens a layer blob for libarchive: tar, gzip or zstd. */
static struct archive *open_layer(int fd)
{
	struct archive *a = la.read_new();

	if (!a)
		return NULL;
	la.read_support_format_tar(a);
	la.read_support_filter_gzip(a);
	la.read_support_filter_zstd(a);
	la.read_support_filter_none(a);
	if (lseek(fd, 0, SEEK_SET) == -1 || la.read_open_fd(a, fd, 65536) != ARCHIVE_OK) {
		la.read_free(a);
		return NULL;
	}
	return a;
}

/* The first pass: this layer's whiteouts remove what the layers below made. */
static int apply_whiteouts(struct layer_ctx *c, struct archive *a)
{
	char name[PATH_MAX], dir[PATH_MAX];
	struct archive_entry *e;
	const char *base;
	int r, dfd, ret = 0;

	while (ret == 0 && (r = la.read_next_header(a, &e)) == ARCHIVE_OK) {
		if (clean_name(la.entry_pathname(e), name, sizeof(name)) != 0)
			return refuse_member(c, la.entry_pathname(e) ? la.entry_pathname(e) : "",
					     "an absolute path or one with \"..\"");
		base = split_name(name, dir, sizeof(dir));
		if (strncmp(base, ".wh.", 4) != 0)
			continue;
		dfd = open_beneath(c->rootfd, dir, false);
		if (dfd == -ENOENT)
			continue;
		if (dfd < 0)
			return refuse_member(c, name, "a whiteout through a symlink");
		if (strcmp(base, ".wh..wh..opq") == 0) {
			/* Opaque: what the layers below put in dir is gone. */
			DIR *d = fdopendir(dfd);
			struct dirent *de;

			if (!d) {
				close(dfd);
				return -errno;
			}
			while ((de = readdir(d)) && ret == 0)
				if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
					ret = rm_tree(dirfd(d), de->d_name);
			closedir(d);
		} else if (strncmp(base, ".wh..wh.", 8) != 0) {
			ret = rm_tree(dfd, base + 4);
			close(dfd);
		} else {
			close(dfd);
		}
	}
	if (ret == 0 && r != ARCHIVE_EOF) {
		snprintf(c->err, c->errlen, "--image %s: %s is not a readable tar: %s", c->dir,
			 c->what, la.error_string(a) ? la.error_string(a) : "?");
		return -EINVAL;
	}
	if (ret < 0 && !c->err[0])
		snprintf(c->err, c->errlen, "--image %s: %s: cannot apply a whiteout: %s", c->dir,
			 c->what, strerror(-ret));
	return ret;
}

/* Copies the member's data into fd. */
static int copy_data(struct archive *a, int fd)
{
	const void *buf;
	size_t size;
	la_int64_t off;
	int r;

	while ((r = la.read_data_block(a, &buf, &size, &off)) == ARCHIVE_OK) {
		if (pwrite(fd, buf, size, off) != (ssize_t)size)
			return -EIO;
	}
	return r == ARCHIVE_EOF ? 0 : -EIO;
}

/* One member, which is not a whiteout, written under the root. */
static int extract_member(struct layer_ctx *c, struct archive *a, struct archive_entry *e,
			  const char *name)
{
	char dir[PATH_MAX], lname[PATH_MAX], ldir[PATH_MAX];
	const char *base, *hard = la.entry_hardlink(e), *lbase;
	mode_t type = la.entry_filetype(e), mode = la.entry_perm(e) & 07777;
	struct timespec ts[2];
	struct stat st;
	int dfd, fd = -1, ldfd, ret = 0;

	base = split_name(name, dir, sizeof(dir));
	if (!base[0])
		return 0; /* the root itself */
	if (!hard && type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK)
		return 0; /* device nodes, FIFOs, sockets: the root's /dev is boundary's */
	dfd = open_beneath(c->rootfd, dir, true);
	if (dfd < 0)
		return refuse_member(c, name,
				     dfd == -ELOOP || dfd == -ENOTDIR || dfd == -EXDEV
					 ? "a path through a symlink"
					 : strerror(-dfd));
	/* What is there is replaced, unless both are directories. */
	if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    !(S_ISDIR(st.st_mode) && type == AE_IFDIR && !hard))
		ret = rm_tree(dfd, base);
	if (ret)
		goto out;
	if (hard) {
		if (clean_name(hard, lname, sizeof(lname)) != 0) {
			ret = refuse_member(c, name, "a hard link to an absolute path or \"..\"");
			goto out;
		}
		lbase = split_name(lname, ldir, sizeof(ldir));
		ldfd = open_beneath(c->rootfd, ldir, false);
		if (ldfd < 0) {
			ret = refuse_member(c, name, "a hard link through a symlink or to nothing");
			goto out;
		}
		if (linkat(ldfd, lbase, dfd, base, 0) == -1)
			ret = -errno;
		close(ldfd);
		goto out;
	}
	if (type == AE_IFDIR) {
		if (mkdirat(dfd, base, 0700) == -1 && errno != EEXIST)
			ret = -errno;
		else if ((fd = openat(dfd, base,
				      O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) == -1)
			ret = -errno;
	} else if (type == AE_IFLNK) {
		/* Written, never followed here; in the root it resolves inside it. */
		if (symlinkat(la.entry_symlink(e) ? la.entry_symlink(e) : "", dfd, base) == -1)
			ret = -errno;
	} else {
		fd = openat(dfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd == -1)
			ret = -errno;
		else if (copy_data(a, fd) != 0 || ftruncate(fd, (off_t)la.entry_size(e)) == -1)
			ret = -EIO;
	}
	if (ret)
		goto out;
	/* Owner, then mode (a chown clears set-id bits), then times; never through a symlink. */
	if (fchownat(dfd, base, (uid_t)la.entry_uid(e), (gid_t)la.entry_gid(e),
		     AT_SYMLINK_NOFOLLOW) == -1 &&
	    errno != EPERM)
		ret = -errno;
	if (!ret && fd >= 0 && fchmod(fd, mode) == -1)
		ret = -errno;
	ts[0].tv_sec = ts[1].tv_sec = la.entry_mtime(e);
	ts[0].tv_nsec = ts[1].tv_nsec = la.entry_mtime_nsec(e);
	if (!ret)
		utimensat(dfd, base, ts, AT_SYMLINK_NOFOLLOW);
out:
	if (fd >= 0)
		close(fd);
	close(dfd);
	if (ret < 0 && !c->err[0])
		snprintf(c->err, c->errlen, "--image %s: %s: cannot write %s: %s", c->dir, c->what,
			 name, strerror(-ret));
	return ret;
}

/* The second pass: every member but the whiteouts. */
static int extract_layer(struct layer_ctx *c, struct archive *a)
{
	char name[PATH_MAX];
	struct archive_entry *e;
	const char *base;
	char dir[PATH_MAX];
	int r, ret = 0;

	while (ret == 0 && (r = la.read_next_header(a, &e)) == ARCHIVE_OK) {
		if (clean_name(la.entry_pathname(e), name, sizeof(name)) != 0)
			return refuse_member(c, la.entry_pathname(e),
					     "an absolute path or one with \"..\"");
		base = split_name(name, dir, sizeof(dir));
		if (strncmp(base, ".wh.", 4) == 0)
			continue;
		ret = extract_member(c, a, e, name);
	}
	if (ret == 0 && r != ARCHIVE_EOF) {
		snprintf(c->err, c->errlen, "--image %s: %s is not a readable tar: %s", c->dir,
			 c->what, la.error_string(a) ? la.error_string(a) : "?");
		return -EINVAL;
	}
	return ret;
}

/* Checks layer i's blob and applies it to the root at rootfd. */
static int apply_layer(int lfd, const struct jv *desc, size_t i, size_t n, const char *dir,
		       int rootfd, char *err, size_t errlen)
{
	const char *digest = jstr(desc, "digest"), *mt = jstr(desc, "mediaType"), *hex;
	const struct jv *size = jget(desc, "size");
	struct layer_ctx c;
	struct archive *a;
	char what[64];
	int fd, ret;

	snprintf(what, sizeof(what), "layer %zu of %zu", i + 1, n);
	if (layer_type(mt) != 0) {
		snprintf(err, errlen,
			 "--image %s: %s has the unsupported media type %s (boundary unpacks tar "
			 "layers, plain, gzip or zstd)",
			 dir, what, mt ? mt : "(none)");
		return -ENOTSUP;
	}
	if (digest_hex(digest, &hex) != 0) {
		snprintf(err, errlen, "--image %s: %s has no sha256 digest", dir, what);
		return -EINVAL;
	}
	ret = la_load(dir, err, errlen);
	if (ret)
		return ret;
	fd = open_blob(lfd, hex);
	if (fd == -1) {
		ret = -errno;
		snprintf(err, errlen, "--image %s: %s, blob %s, is missing: %s", dir, what, digest,
			 strerror(errno));
		return ret;
	}
	err[0] = '\0';
	ret = check_blob(fd, digest, size && size->t == J_NUM && size->whole ? size->n : -1, dir,
			 what, err, errlen);
	c.dir = dir;
	c.what = what;
	c.rootfd = rootfd;
	c.err = err;
	c.errlen = errlen;
	if (!ret) {
		a = open_layer(fd);
		ret = a ? apply_whiteouts(&c, a) : -EIO;
		la.read_free(a);
	}
	if (!ret) {
		a = open_layer(fd);
		ret = a ? extract_layer(&c, a) : -EIO;
		la.read_free(a);
	}
	if (ret && !err[0])
		snprintf(err, errlen, "--image %s: cannot read %s: %s", dir, what, strerror(-ret));
	close(fd);
	return ret;
}

/* --- the cache ----------------------------------------------------------------------------------- */

/* cache made (root's, 0700) or checked: nobody else may write it. */
static int cache_dir(const char *cache, char *err, size_t errlen)
{
	char path[PATH_MAX], *p;
	struct stat st;

	snprintf(path, sizeof(path), "%s", cache);
	for (p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0755) == -1 && errno != EEXIST) {
			snprintf(err, errlen, "cannot make the image cache %s: %s", path,
				 strerror(errno));
			return -errno;
		}
		*p = '/';
	}
	if (mkdir(cache, 0700) == -1 && errno != EEXIST) {
		snprintf(err, errlen, "cannot make the image cache %s: %s", cache, strerror(errno));
		return -errno;
	}
	if (lstat(cache, &st) == -1 || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "the image cache %s is not a directory", cache);
		return -ENOTDIR;
	}
	if (st.st_uid != geteuid() || (st.st_mode & 022)) {
		snprintf(err, errlen,
			 "the image cache %s is not boundary's alone (owner %u, mode %o): a root "
			 "others may change could run anything in a jail; remove it or choose "
			 "another (--image-cache)",
			 cache, (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
		return -EPERM;
	}
	return 0;
}

/* Unpacks every layer of manifest into cache/<hex> (see oci_prepare). */
static int unpack(int lfd, const struct jv *layers, const char *dir, const char *cache,
		  const char *hex, char *err, size_t errlen)
{
	char tmp[PATH_MAX], fin[PATH_MAX], root[PATH_MAX];
	int rootfd = -1, ret = 0, fd;
	size_t i;

	snprintf(tmp, sizeof(tmp), "%.3800s/.unpacking-%.16s-%d", cache, hex, (int)getpid());
	snprintf(fin, sizeof(fin), "%.3800s/%s", cache, hex);
	snprintf(root, sizeof(root), "%.3900s/root", tmp);
	if (mkdir(tmp, 0700) == -1 || mkdir(root, 0755) == -1) {
		ret = -errno;
		snprintf(err, errlen, "cannot make %s: %s", root, strerror(errno));
		goto out;
	}
	rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd == -1) {
		ret = -errno;
		snprintf(err, errlen, "cannot open %s: %s", root, strerror(errno));
		goto out;
	}
	for (i = 0; i < layers->len && !ret; i++)
		ret = apply_layer(lfd, &layers->v[i], i, layers->len, dir, rootfd, err, errlen);
	if (ret)
		goto out;
	/* The root's own directory as an image would have it. */
	fchmod(rootfd, 0755);
	snprintf(root, sizeof(root), "%.3900s/ready", tmp);
	fd = open(root, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd == -1) {
		ret = -errno;
		snprintf(err, errlen, "cannot write %s: %s", root, strerror(errno));
		goto out;
	}
	close(fd);
	if (rename(tmp, fin) == -1) {
		/* Another run finished first: its copy is as good as ours. */
		if (errno != EEXIST && errno != ENOTEMPTY) {
			ret = -errno;
			snprintf(err, errlen, "cannot move the unpacked image to %s: %s", fin,
				 strerror(errno));
		}
	} else {
		tmp[0] = '\0';
	}
out:
	if (rootfd >= 0)
		close(rootfd);
	if (tmp[0]) {
		int cfd = open(cache, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		if (cfd >= 0) {
			rm_tree(cfd, strrchr(tmp, '/') + 1);
			close(cfd);
		}
	}
	return ret;
}

/* --- the image ------------------------------------------------------------------------------------ */

static int take_config(const struct jv *config, struct oci_image *img)
{
	const struct jv *c = jget(config, "config"), *env = jget(c, "Env");
	const char *s;
	size_t i, k = 0;

	img->env = calloc((env && env->t == J_ARR ? env->len : 0) + 1, sizeof(*img->env));
	if (!img->env)
		return -ENOMEM;
	for (i = 0; env && env->t == J_ARR && i < env->len; i++) {
		if (env->v[i].t != J_STR || !strchr(env->v[i].s, '=') || env->v[i].s[0] == '=')
			continue;
		img->env[k] = strdup(env->v[i].s);
		if (!img->env[k++])
			return -ENOMEM;
	}
	s = jstr(c, "WorkingDir");
	if (s && s[0] && !(img->workdir = strdup(s)))
		return -ENOMEM;
	s = jstr(c, "User");
	if (s && s[0] && !(img->user = strdup(s)))
		return -ENOMEM;
	return 0;
}

int oci_prepare(const char *dir, const char *cache, struct oci_image *img, char *err, size_t errlen)
{
	struct jdoc index, inner, manifest, config;
	const struct jv *mdesc = NULL, *cdesc, *layers;
	const char *hex = NULL, *mt;
	char path[PATH_MAX];
	char *text = NULL;
	size_t len = 0, i;
	int lfd, fd, ret;

	memset(img, 0, sizeof(*img));
	memset(&index, 0, sizeof(index));
	memset(&inner, 0, sizeof(inner));
	memset(&manifest, 0, sizeof(manifest));
	memset(&config, 0, sizeof(config));
	err[0] = '\0';
	lfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (lfd == -1) {
		ret = -errno;
		snprintf(err, errlen, "--image %s: %s", dir, strerror(errno));
		return ret;
	}
	fd = openat(lfd, "index.json", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1) {
		ret = -errno;
		snprintf(err, errlen,
			 "--image %s has no index.json (%s): it is not an OCI image layout (make "
			 "one with `skopeo copy docker://IMAGE oci:DIR` or `podman save --format "
			 "oci-dir -o DIR IMAGE`)",
			 dir, strerror(errno));
		goto out;
	}
	ret = slurp(fd, &text, &len);
	close(fd);
	if (ret) {
		snprintf(err, errlen, "--image %s: cannot read index.json: %s", dir,
			 strerror(-ret));
		goto out;
	}
	ret = jdoc_parse(&index, text, len, "index.json", err, errlen);
	if (!ret)
		ret = pick_manifest(lfd, &index.root, dir, &inner, &mdesc, err, errlen);
	if (!ret)
		ret = read_json_blob(lfd, mdesc, dir, "manifest", &manifest, err, errlen);
	if (ret)
		goto out;
	mt = jstr(&manifest.root, "mediaType");
	if (mt && !is_manifest_type(mt)) {
		snprintf(err, errlen, "--image %s: unsupported media type %s for the manifest", dir,
			 mt);
		ret = -ENOTSUP;
		goto out;
	}
	cdesc = jget(&manifest.root, "config");
	mt = jstr(cdesc, "mediaType");
	if (!is_config_type(mt)) {
		snprintf(err, errlen,
			 "--image %s: unsupported media type %s for the image config (boundary "
			 "reads application/vnd.oci.image.config.v1+json)",
			 dir, mt ? mt : "(none)");
		ret = -ENOTSUP;
		goto out;
	}
	ret = read_json_blob(lfd, cdesc, dir, "config", &config, err, errlen);
	if (ret)
		goto out;
	layers = jget(&manifest.root, "layers");
	if (!layers || layers->t != J_ARR) {
		snprintf(err, errlen, "--image %s: the manifest lists no layers", dir);
		ret = -EINVAL;
		goto out;
	}
	/* Every layer's type is known before anything is unpacked. */
	for (i = 0; i < layers->len; i++) {
		if (layer_type(jstr(&layers->v[i], "mediaType")) != 0) {
			snprintf(err, errlen,
				 "--image %s: layer %zu of %zu has the unsupported media type %s "
				 "(boundary unpacks tar layers, plain, gzip or zstd)",
				 dir, i + 1, layers->len,
				 jstr(&layers->v[i], "mediaType") ? jstr(&layers->v[i], "mediaType")
								  : "(none)");
			ret = -ENOTSUP;
			goto out;
		}
	}
	ret = take_config(&config.root, img);
	if (ret) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	digest_hex(jstr(mdesc, "digest"), &hex);
	ret = cache_dir(cache, err, errlen);
	if (ret)
		goto out;
	snprintf(path, sizeof(path), "%s/%s/ready", cache, hex);
	if (access(path, F_OK) != 0) {
		ret = unpack(lfd, layers, dir, cache, hex, err, errlen);
		if (ret)
			goto out;
		img->unpacked = true;
	}
	snprintf(img->root, sizeof(img->root), "%s/%s/root", cache, hex);
out:
	jdoc_fini(&config);
	jdoc_fini(&manifest);
	jdoc_fini(&inner);
	jdoc_fini(&index);
	close(lfd);
	if (ret)
		oci_image_fini(img);
	return ret;
}

/* The id of name in the root's /etc/passwd (field 3, and its group in *gid) or /etc/group. */
static int lookup_id(const char *root, const char *file, const char *name, unsigned *id,
		     unsigned *gid, char *home, size_t homelen)
{
	struct open_how how;
	char line[1024], *f[6], *p;
	int rootfd, fd, i, ret = -ENOENT;
	FILE *fp;

	rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd == -1)
		return -errno;
	memset(&how, 0, sizeof(how));
	how.flags = O_RDONLY | O_CLOEXEC;
	how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
	fd = (int)syscall(SYS_openat2, rootfd, file, &how, sizeof(how));
	close(rootfd);
	if (fd == -1)
		return -errno;
	fp = fdopen(fd, "r");
	if (!fp) {
		close(fd);
		return -errno;
	}
	while (ret && fgets(line, sizeof(line), fp)) {
		p = line;
		for (i = 0; i < 6; i++) {
			f[i] = p;
			p = strchr(p, ':');
			if (!p)
				break;
			*p++ = '\0';
		}
		if (i < 3 || strcmp(f[0], name) != 0)
			continue;
		*id = (unsigned)strtoul(f[2], NULL, 10);
		if (gid)
			*gid = (unsigned)strtoul(f[3], NULL, 10);
		if (home && i >= 5)
			snprintf(home, homelen, "%s", f[5]);
		ret = 0;
	}
	fclose(fp);
	return ret;
}

/* Whether s is all digits; its value in *v. */
static bool numeric(const char *s, unsigned *v)
{
	char *end;
	unsigned long n;

	if (!s[0] || !isdigit((unsigned char)s[0]))
		return false;
	errno = 0;
	n = strtoul(s, &end, 10);
	if (errno || *end || n > 0xfffffffeUL)
		return false;
	*v = (unsigned)n;
	return true;
}

int oci_user_ids(const char *root, const char *user, uid_t *uid, gid_t *gid, char *err,
		 size_t errlen)
{
	char u[256], *colon;
	unsigned uid_n = 0, gid_n = 0, pw_gid = 0;
	bool have_gid = false;

	snprintf(u, sizeof(u), "%s", user);
	colon = strchr(u, ':');
	if (colon)
		*colon++ = '\0';
	if (numeric(u, &uid_n)) {
		/* A passwd entry for the number gives its group; none is fine. */
		have_gid = false;
	} else if (lookup_id(root, "/etc/passwd", u, &uid_n, &pw_gid, NULL, 0) == 0) {
		gid_n = pw_gid;
		have_gid = true;
	} else {
		snprintf(err, errlen,
			 "the image's User \"%s\" is not in its /etc/passwd (run it with --user "
			 "UID[:GID] instead)",
			 user);
		return -ENOENT;
	}
	if (colon && colon[0]) {
		if (!numeric(colon, &gid_n) &&
		    lookup_id(root, "/etc/group", colon, &gid_n, NULL, NULL, 0)) {
			snprintf(err, errlen,
				 "the image's User \"%s\": group %s is not in its /etc/group (run "
				 "it with --user UID:GID instead)",
				 user, colon);
			return -ENOENT;
		}
		have_gid = true;
	}
	if (!have_gid)
		gid_n = uid_n;
	*uid = (uid_t)uid_n;
	*gid = (gid_t)gid_n;
	return 0;
}

int oci_user_home(const char *root, const char *user, char *home, size_t len)
{
	char u[256];
	unsigned id;

	snprintf(u, sizeof(u), "%.*s", (int)strcspn(user, ":"), user);
	home[0] = '\0';
	if (numeric(u, &id) || lookup_id(root, "/etc/passwd", u, &id, NULL, home, len) != 0 ||
	    !home[0])
		return -ENOENT;
	return 0;
}

void oci_image_fini(struct oci_image *img)
{
	char **p;

	for (p = img->env; p && *p; p++)
		free(*p);
	free(img->env);
	free(img->workdir);
	free(img->user);
	memset(img, 0, sizeof(*img));
}
