// SPDX-License-Identifier: MIT
/*
 * dns.c: the DNS responder behind every port-53 query a jailed program sends: the synthetic
 * address table (a hash of names keyed with SipHash, a fixed array of entries indexed by the
 * address, an LRU list for recycling), the strict query parser and the answer writers for UDP
 * and TCP. It owns no socket and forwards nothing: whatever a query says, the reply is built
 * here from the query and the table alone. Callers (the proxy's loop) read and write the
 * sockets, log and audit.
 */
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>

#include "proxy/dns.h"
#include "proxy/log.h"
#include "proxy/secret.h"

#define HDR_LEN	     12
#define OPT_LEN	     11		 /* root owner, type, class, TTL, RDLENGTH 0 */
#define V4_BASE	     0xc6120000u /* 198.18.0.0 */
#define V4_MASK	     0xfffe0000u /* /15 */
#define UDP_PLAIN    512
#define TCP_MSG_MAX  65535
#define FLAG_QR	     0x8000
#define FLAG_AA	     0x0400
#define FLAG_TC	     0x0200
#define FLAG_RD	     0x0100
#define FLAG_RA	     0x0080
#define FLAG_CD	     0x0010
#define EDNS_FLAG_DO 0x8000

static const unsigned char v6_prefix[8] = {0xfd, 0x42, 0x0b, 0x0d, 0x00, 0x53, 0x00, 0x00};

/*
 * One mapping. Index i of the entry array is the address index; entry 0 is never used, so 0
 * also means "none" in the chain and LRU links.
 */
struct entry {
	uint32_t hash;
	uint32_t next;	       /* next entry in the same bucket */
	uint32_t older, newer; /* LRU neighbours */
	uint8_t len;	       /* strlen(name); 0 while the index was never handed out */
	char name[DNS_NAME_MAX + 1];
};

/* A real address that a forwarded answer (--use-real-dns) gave for a name. */
struct real {
	uint8_t family; /* 0: empty */
	unsigned char addr[16];
	char name[DNS_NAME_MAX + 1];
};

#define REAL_PROBE 8

struct dns_table {
	struct real *real; /* [DNS_REAL_CAP], made on first use */
	pthread_mutex_t lock;
	uint64_t k0, k1; /* SipHash key */
	uint32_t cap, used, mask;
	uint32_t newest, oldest;
	bool warned_full;
	atomic_bool no_v6; /* AAAA answered with no records */
	uint32_t *bucket;  /* [mask + 1] */
	struct entry *e;   /* [cap + 1] */
};

/* --- SipHash-2-4 (Aumasson and Bernstein), for names a jailed program chooses ----------- */

static uint64_t rotl(uint64_t x, int b)
{
	return (x << b) | (x >> (64 - b));
}

static void sipround(uint64_t v[4])
{
	v[0] += v[1];
	v[1] = rotl(v[1], 13) ^ v[0];
	v[0] = rotl(v[0], 32);
	v[2] += v[3];
	v[3] = rotl(v[3], 16) ^ v[2];
	v[0] += v[3];
	v[3] = rotl(v[3], 21) ^ v[0];
	v[2] += v[1];
	v[1] = rotl(v[1], 17) ^ v[2];
	v[2] = rotl(v[2], 32);
}

static void sipmix(uint64_t v[4], uint64_t m)
{
	v[3] ^= m;
	sipround(v);
	sipround(v);
	v[0] ^= m;
}

static uint64_t siphash(const unsigned char *in, size_t len, uint64_t k0, uint64_t k1)
{
	uint64_t v[4] = {0x736f6d6570736575ull ^ k0, 0x646f72616e646f6dull ^ k1,
			 0x6c7967656e657261ull ^ k0, 0x7465646279746573ull ^ k1};
	uint64_t m;
	size_t i, j, end = len & ~(size_t)7;

	for (i = 0; i < end; i += 8) {
		m = 0;
		for (j = 0; j < 8; j++)
			m |= (uint64_t)in[i + j] << (8 * j);
		sipmix(v, m);
	}
	m = (uint64_t)len << 56;
	for (j = 0; j < (len & 7); j++)
		m |= (uint64_t)in[end + j] << (8 * j);
	sipmix(v, m);
	v[2] ^= 0xff;
	for (i = 0; i < 4; i++)
		sipround(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

/* --- the table ------------------------------------------------------------------------ */

/* dns_table_new() with a chosen capacity, for tests of recycling (1..DNS_TABLE_CAP). */
static struct dns_table *table_new(uint32_t cap)
{
	struct dns_table *t;
	uint64_t key[2];
	size_t nb = 16;
	ssize_t n;
	int err;

	if (cap == 0 || cap > DNS_TABLE_CAP) {
		errno = EINVAL;
		return NULL;
	}
	n = getrandom(key, sizeof(key), 0);
	if (n != (ssize_t)sizeof(key)) {
		if (n >= 0)
			errno = EIO;
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	while (nb < 2 * (size_t)cap)
		nb <<= 1;
	t->bucket = calloc(nb, sizeof(*t->bucket));
	/* calloc of this size maps fresh zero pages: entries cost memory once used. */
	t->e = calloc((size_t)cap + 1, sizeof(*t->e));
	if (!t->bucket || !t->e) {
		dns_table_free(t);
		errno = ENOMEM;
		return NULL;
	}
	err = pthread_mutex_init(&t->lock, NULL);
	if (err) {
		free(t->bucket);
		free(t->e);
		free(t);
		errno = err;
		return NULL;
	}
	t->k0 = key[0];
	t->k1 = key[1];
	t->cap = cap;
	t->mask = (uint32_t)(nb - 1);
	return t;
}

struct dns_table *dns_table_new(void)
{
	return table_new(DNS_TABLE_CAP);
}

void dns_table_set_v6(struct dns_table *t, bool on)
{
	atomic_store_explicit(&t->no_v6, !on, memory_order_relaxed);
}

void dns_table_free(struct dns_table *t)
{
	if (!t)
		return;
	if (t->bucket && t->e)
		pthread_mutex_destroy(&t->lock);
	free(t->bucket);
	free(t->e);
	free(t->real);
	free(t);
}

static void lru_unlink(struct dns_table *t, uint32_t i)
{
	struct entry *e = &t->e[i];

	if (e->older)
		t->e[e->older].newer = e->newer;
	else
		t->oldest = e->newer;
	if (e->newer)
		t->e[e->newer].older = e->older;
	else
		t->newest = e->older;
	e->older = 0;
	e->newer = 0;
}

static void lru_push(struct dns_table *t, uint32_t i)
{
	struct entry *e = &t->e[i];

	e->older = t->newest;
	e->newer = 0;
	if (t->newest)
		t->e[t->newest].newer = i;
	else
		t->oldest = i;
	t->newest = i;
}

static void lru_touch(struct dns_table *t, uint32_t i)
{
	if (t->newest != i) {
		lru_unlink(t, i);
		lru_push(t, i);
	}
}

static void chain_unlink(struct dns_table *t, uint32_t i)
{
	uint32_t *pp = &t->bucket[t->e[i].hash & t->mask];

	while (*pp != i) {
		if (!*pp)
			fatalx("%s: entry %u missing from its chain", __func__, i);
		pp = &t->e[*pp].next;
	}
	*pp = t->e[i].next;
	t->e[i].next = 0;
}

/*
 * Copies name, lower-cased, into out (DNS_NAME_MAX bytes) and returns its length, or 0 if it
 * is not a name dns_table_addr() takes: empty, longer than DNS_NAME_MAX, an empty label or one
 * over 63 bytes, or a byte outside 0x21..0x7e.
 */
static size_t name_fold(const char *name, char *out)
{
	size_t n, label = 0;
	unsigned char c;

	for (n = 0; name[n]; n++) {
		if (n == DNS_NAME_MAX)
			return 0;
		c = (unsigned char)name[n];
		if (c < 0x21 || c > 0x7e)
			return 0;
		if (c == '.') {
			if (label == 0)
				return 0;
			label = 0;
		} else if (++label > 63) {
			return 0;
		}
		out[n] = (char)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
	}
	return label == 0 ? 0 : n;
}

static void index_to_addr(uint32_t i, uint32_t *v4, unsigned char v6[16])
{
	if (v4)
		*v4 = htonl(V4_BASE + i);
	if (v6) {
		memcpy(v6, v6_prefix, sizeof(v6_prefix));
		memset(v6 + 8, 0, 5);
		v6[13] = (unsigned char)(i >> 16);
		v6[14] = (unsigned char)(i >> 8);
		v6[15] = (unsigned char)i;
	}
}

int dns_table_addr(struct dns_table *t, const char *name, uint32_t *v4, unsigned char v6[16])
{
	char folded[DNS_NAME_MAX];
	uint32_t h, i;
	size_t len;
	bool warn = false;
	struct entry *e;

	len = name_fold(name, folded);
	if (len == 0)
		return -EINVAL;
	h = (uint32_t)siphash((const unsigned char *)folded, len, t->k0, t->k1);

	pthread_mutex_lock(&t->lock);
	for (i = t->bucket[h & t->mask]; i; i = t->e[i].next) {
		e = &t->e[i];
		if (e->hash == h && e->len == len && memcmp(e->name, folded, len) == 0)
			break;
	}
	if (i) {
		lru_touch(t, i);
	} else {
		if (t->used < t->cap) {
			i = ++t->used;
		} else {
			i = t->oldest;
			chain_unlink(t, i);
			lru_unlink(t, i);
			warn = !t->warned_full;
			t->warned_full = true;
		}
		e = &t->e[i];
		e->hash = h;
		e->len = (uint8_t)len;
		memcpy(e->name, folded, len);
		e->name[len] = '\0';
		e->next = t->bucket[h & t->mask];
		t->bucket[h & t->mask] = i;
		lru_push(t, i);
	}
	pthread_mutex_unlock(&t->lock);

	if (warn)
		log_warn("dns: all %u synthetic addresses taken; recycling the least recent",
			 t->cap);
	index_to_addr(i, v4, v6);
	return 0;
}

/* The index addr carries, or 0 when addr is not synthetic; may exceed any capacity. */
static uint64_t addr_to_index(int family, const void *addr)
{
	const unsigned char *b = addr;
	uint64_t i = 0;
	uint32_t a;
	int k;

	if (family == AF_INET) {
		memcpy(&a, addr, sizeof(a));
		a = ntohl(a);
		return (a & V4_MASK) == V4_BASE ? a - V4_BASE : 0;
	}
	if (family != AF_INET6 || memcmp(b, v6_prefix, sizeof(v6_prefix)) != 0)
		return 0;
	for (k = 8; k < 16; k++)
		i = i << 8 | b[k];
	return i;
}

/* The slot real addr hashes to (family, then its 4 or 16 bytes). */
static uint32_t real_home(const struct dns_table *t, int family, const void *addr)
{
	unsigned char key[17];
	size_t n = family == AF_INET ? 4 : 16;

	key[0] = (unsigned char)family;
	memcpy(key + 1, addr, n);
	return (uint32_t)siphash(key, n + 1, t->k0, t->k1) & (DNS_REAL_CAP - 1);
}

/* The slot holding addr, or NULL. Under the lock. */
static struct real *real_find(struct dns_table *t, int family, const void *addr)
{
	size_t n = family == AF_INET ? 4 : 16;
	uint32_t h, k;
	struct real *r;

	if (!t->real)
		return NULL;
	h = real_home(t, family, addr);
	for (k = 0; k < REAL_PROBE; k++) {
		r = &t->real[(h + k) & (DNS_REAL_CAP - 1)];
		if (r->family == family && memcmp(r->addr, addr, n) == 0)
			return r;
	}
	return NULL;
}

int dns_table_note(struct dns_table *t, int family, const void *addr, const char *name)
{
	size_t n = family == AF_INET ? 4 : 16, len;
	char folded[DNS_NAME_MAX];
	struct real *r;
	uint32_t h, k;

	if (family != AF_INET && family != AF_INET6)
		return -EAFNOSUPPORT;
	len = name_fold(name, folded);
	if (len == 0 || dns_is_synthetic(family, addr))
		return -EINVAL;
	pthread_mutex_lock(&t->lock);
	if (!t->real)
		t->real = calloc(DNS_REAL_CAP, sizeof(*t->real));
	if (!t->real) {
		pthread_mutex_unlock(&t->lock);
		return -ENOMEM;
	}
	r = real_find(t, family, addr);
	if (!r) {
		/* A free slot near home, else home itself: the newest pair wins. */
		h = real_home(t, family, addr);
		r = &t->real[h];
		for (k = 0; k < REAL_PROBE; k++) {
			if (t->real[(h + k) & (DNS_REAL_CAP - 1)].family == 0) {
				r = &t->real[(h + k) & (DNS_REAL_CAP - 1)];
				break;
			}
		}
	}
	r->family = (uint8_t)family;
	memset(r->addr, 0, sizeof(r->addr));
	memcpy(r->addr, addr, n);
	memcpy(r->name, folded, len);
	r->name[len] = '\0';
	pthread_mutex_unlock(&t->lock);
	return 0;
}

int dns_table_name(struct dns_table *t, int family, const void *addr, char *buf, size_t len)
{
	const struct real *r;
	uint64_t i;
	int ret = 0;

	if (family != AF_INET && family != AF_INET6)
		return -EAFNOSUPPORT;
	if (!dns_is_synthetic(family, addr)) {
		pthread_mutex_lock(&t->lock);
		r = real_find(t, family, addr);
		if (!r)
			ret = -ENOENT;
		else if (strlen(r->name) >= len)
			ret = -ENOSPC;
		else
			memcpy(buf, r->name, strlen(r->name) + 1);
		pthread_mutex_unlock(&t->lock);
		return ret;
	}
	i = addr_to_index(family, addr);
	if (i == 0 || i > t->cap)
		return -ENOENT;
	pthread_mutex_lock(&t->lock);
	if (t->e[i].len == 0) {
		ret = -ENOENT;
	} else if ((size_t)t->e[i].len >= len) {
		ret = -ENOSPC;
	} else {
		memcpy(buf, t->e[i].name, (size_t)t->e[i].len + 1);
		lru_touch(t, (uint32_t)i);
	}
	pthread_mutex_unlock(&t->lock);
	return ret;
}

bool dns_is_synthetic(int family, const void *addr)
{
	uint32_t a;

	if (family == AF_INET) {
		memcpy(&a, addr, sizeof(a));
		return (ntohl(a) & V4_MASK) == V4_BASE;
	}
	return family == AF_INET6 && memcmp(addr, v6_prefix, sizeof(v6_prefix)) == 0;
}

/* --- the parser ----------------------------------------------------------------------- */

static const char *const messages[] = {
    [DNS_E_SHORT] = "message shorter than a DNS header",
    [DNS_E_RESPONSE] = "a response (QR set), not a query",
    [DNS_E_NOTIMP] = "opcode other than QUERY",
    [DNS_E_TRUNCATED] = "message ends inside a record",
    [DNS_E_COUNT] = "not exactly one question, or answer/authority records, or ARCOUNT > 1",
    [DNS_E_LABEL] = "label longer than 63 bytes (reserved label type)",
    [DNS_E_POINTER] = "compression pointer in the question",
    [DNS_E_NAME_LONG] = "name longer than 255 bytes",
    [DNS_E_OPT] = "additional record is not a well-formed OPT",
    [DNS_E_BADVERS] = "EDNS version other than 0",
    [DNS_E_TRAILING] = "bytes after the last record",
    [DNS_E_NAME_CHARS] = "name with a byte that is not printable ASCII, or a dot in a label",
    [DNS_E_FRAME] = "TCP length prefix of 0 or too large for a query",
};

const char *dns_strerror(int err)
{
	if (err < 0)
		err = -err;
	if (err <= 0 || (size_t)err >= sizeof(messages) / sizeof(messages[0]) || !messages[err])
		return "unknown DNS error";
	return messages[err];
}

const char *dns_type_name(uint16_t qtype)
{
	switch (qtype) {
	case 1:
		return "A";
	case 2:
		return "NS";
	case 5:
		return "CNAME";
	case 6:
		return "SOA";
	case 12:
		return "PTR";
	case 13:
		return "HINFO";
	case 15:
		return "MX";
	case 16:
		return "TXT";
	case 28:
		return "AAAA";
	case 33:
		return "SRV";
	case 35:
		return "NAPTR";
	case 41:
		return "OPT";
	case 43:
		return "DS";
	case 46:
		return "RRSIG";
	case 47:
		return "NSEC";
	case 48:
		return "DNSKEY";
	case 52:
		return "TLSA";
	case 64:
		return "SVCB";
	case 65:
		return "HTTPS";
	case 99:
		return "SPF";
	case 251:
		return "IXFR";
	case 252:
		return "AXFR";
	case 255:
		return "ANY";
	case 257:
		return "CAA";
	default:
		return NULL;
	}
}

static uint16_t get16(const unsigned char *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
}

/* Reads the OPT record at msg[*pos..len) into q; returns 0 or -DNS_E_*. */
static int parse_opt(const unsigned char *msg, size_t len, size_t *pos, struct dns_query *q,
		     bool *badvers)
{
	size_t p = *pos, o, rdlen, optlen;

	if (p >= len)
		return -DNS_E_TRUNCATED;
	if (msg[p] != 0) /* OPT belongs to the root; a pointer is no exception */
		return -DNS_E_OPT;
	p++;
	if (len - p < 10)
		return -DNS_E_TRUNCATED;
	if (get16(msg + p) != DNS_TYPE_OPT)
		return -DNS_E_OPT;
	rdlen = get16(msg + p + 8);
	*badvers = msg[p + 5] != 0;
	q->edns_size = get16(msg + p + 2);
	q->do_bit = get16(msg + p + 6) & EDNS_FLAG_DO;
	p += 10;
	if (len - p < rdlen)
		return -DNS_E_TRUNCATED;
	/* Options (cookies, padding, client subnet) are ignored, but must be well framed. */
	for (o = 0; o < rdlen; o += optlen) {
		if (rdlen - o < 4)
			return -DNS_E_OPT;
		optlen = get16(msg + p + o + 2);
		o += 4;
		if (rdlen - o < optlen)
			return -DNS_E_OPT;
	}
	q->edns = true;
	*pos = p + rdlen;
	return 0;
}

ssize_t dns_parse_query(const unsigned char *msg, size_t len, struct dns_query *q)
{
	size_t pos = HDR_LEN, n = 0, wire = 0, j;
	uint16_t flags;
	unsigned char c, ch;
	bool bad_chars = false, badvers = false;
	int err;

	memset(q, 0, sizeof(*q));
	if (len < HDR_LEN)
		return -DNS_E_SHORT;
	q->id = get16(msg);
	flags = get16(msg + 2);
	q->opcode = (flags >> 11) & 0xf;
	q->rd = flags & FLAG_RD;
	q->cd = flags & FLAG_CD;
	if (flags & FLAG_QR)
		return -DNS_E_RESPONSE;
	if (q->opcode != 0)
		return -DNS_E_NOTIMP;
	if (get16(msg + 4) != 1 || get16(msg + 6) != 0 || get16(msg + 8) != 0 ||
	    get16(msg + 10) > 1)
		return -DNS_E_COUNT;

	/* The name: n counts text bytes, wire the bytes on the wire (at most 255, so n <= 253). */
	for (;;) {
		if (pos >= len)
			return -DNS_E_TRUNCATED;
		c = msg[pos++];
		if ((c & 0xc0) == 0xc0)
			return -DNS_E_POINTER;
		if (c & 0xc0)
			return -DNS_E_LABEL;
		wire += 1 + (size_t)c;
		if (wire > 255)
			return -DNS_E_NAME_LONG;
		if (c == 0)
			break;
		if (len - pos < c)
			return -DNS_E_TRUNCATED;
		if (n)
			q->name[n++] = '.';
		for (j = 0; j < c; j++) {
			ch = msg[pos + j];
			if (ch < 0x21 || ch > 0x7e || ch == '.')
				bad_chars = true;
			q->name[n++] = (char)(ch >= 'A' && ch <= 'Z' ? ch + ('a' - 'A') : ch);
		}
		pos += c;
	}
	q->name[n] = '\0';
	if (len - pos < 4)
		return -DNS_E_TRUNCATED;
	q->qtype = get16(msg + pos);
	q->qclass = get16(msg + pos + 2);
	pos += 4;
	q->question_len = pos - HDR_LEN;

	if (get16(msg + 10) == 1) {
		err = parse_opt(msg, len, &pos, q, &badvers);
		if (err)
			return err;
	}
	if (pos != len)
		return -DNS_E_TRAILING;
	if (badvers)
		return -DNS_E_BADVERS;
	if (bad_chars) {
		/* Never hand such a name on: it could forge log lines or split differently. */
		q->name[0] = '\0';
		return -DNS_E_NAME_CHARS;
	}
	return (ssize_t)len;
}

int dns_err_rcode(int err)
{
	if (err < 0)
		err = -err;
	switch (err) {
	case DNS_E_NOTIMP:
		return DNS_RCODE_NOTIMP;
	case DNS_E_NAME_CHARS:
		return DNS_RCODE_REFUSED;
	case DNS_E_BADVERS:
		return DNS_RCODE_BADVERS;
	case DNS_E_TRUNCATED:
	case DNS_E_COUNT:
	case DNS_E_LABEL:
	case DNS_E_POINTER:
	case DNS_E_NAME_LONG:
	case DNS_E_OPT:
	case DNS_E_TRAILING:
		return DNS_RCODE_FORMERR;
	default:
		return -1;
	}
}

/* --- the writers ---------------------------------------------------------------------- */

/*
 * Writes a reply: header (flags plus QR, RA and the echoed RD, CD and opcode), the question
 * when question_len is set, one answer record of q->qtype when rdata is set, and an OPT record
 * when opt. The extended part of rcode goes into the OPT record, so an rcode above 15 always
 * gets one. Returns the length, or -ENOSPC when it exceeds cap.
 */
static ssize_t write_reply(const struct dns_query *q, const unsigned char *msg, uint16_t flags,
			   int rcode, const unsigned char *rdata, uint16_t rdlen, bool opt,
			   unsigned char *out, size_t cap)
{
	size_t need, pos = HDR_LEN;

	opt = opt || rcode > 15;
	need = HDR_LEN + q->question_len + (rdata ? 12u + rdlen : 0) + (opt ? OPT_LEN : 0);
	if (need > cap)
		return -ENOSPC;
	flags |= FLAG_QR | FLAG_RA | (uint16_t)(q->opcode << 11) | (uint16_t)(rcode & 0xf);
	if (q->rd)
		flags |= FLAG_RD;
	if (q->cd)
		flags |= FLAG_CD;
	put16(out, q->id);
	put16(out + 2, flags);
	put16(out + 4, q->question_len ? 1 : 0);
	put16(out + 6, rdata ? 1 : 0);
	put16(out + 8, 0);
	put16(out + 10, opt ? 1 : 0);
	memcpy(out + pos, msg + HDR_LEN, q->question_len);
	pos += q->question_len;
	if (rdata) {
		put16(out + pos, 0xc000 | HDR_LEN); /* the owner is the question's name */
		put16(out + pos + 2, q->qtype);
		put16(out + pos + 4, DNS_CLASS_IN);
		put16(out + pos + 6, 0);
		put16(out + pos + 8, DNS_TTL);
		put16(out + pos + 10, rdlen);
		memcpy(out + pos + 12, rdata, rdlen);
		pos += 12u + rdlen;
	}
	if (opt) {
		out[pos] = 0;
		put16(out + pos + 1, DNS_TYPE_OPT);
		put16(out + pos + 3, DNS_EDNS_SIZE);
		out[pos + 5] = (unsigned char)(rcode >> 4);
		out[pos + 6] = 0; /* version */
		put16(out + pos + 7, q->do_bit ? EDNS_FLAG_DO : 0);
		put16(out + pos + 9, 0);
		pos += OPT_LEN;
	}
	return (ssize_t)pos;
}

ssize_t dns_error_answer(const struct dns_query *q, const unsigned char *msg, size_t msg_len,
			 int rcode, unsigned char *out, size_t cap)
{
	struct dns_query qq = *q;

	if (HDR_LEN + qq.question_len > msg_len)
		qq.question_len = 0;
	return write_reply(&qq, msg, 0, rcode, NULL, 0, qq.edns, out, cap);
}

ssize_t dns_answer(struct dns_table *t, const struct dns_query *q, const unsigned char *msg,
		   unsigned char *out, size_t cap, size_t limit)
{
	unsigned char v6[16];
	uint32_t v4;
	const unsigned char *rdata = NULL;
	uint16_t rdlen = 0, flags = FLAG_AA;
	size_t base = HDR_LEN + q->question_len, opt_len = q->edns ? OPT_LEN : 0;
	bool opt = q->edns;

	if (q->qclass != DNS_CLASS_IN || q->qtype == DNS_TYPE_AXFR || q->qtype == DNS_TYPE_IXFR)
		return write_reply(q, msg, 0, DNS_RCODE_REFUSED, NULL, 0, opt, out,
				   cap < limit ? cap : limit);
	if ((q->qtype == DNS_TYPE_A || (q->qtype == DNS_TYPE_AAAA &&
					!atomic_load_explicit(&t->no_v6, memory_order_relaxed))) &&
	    q->name[0]) {
		if (dns_table_addr(t, q->name, &v4, v6) < 0)
			return write_reply(q, msg, 0, DNS_RCODE_SERVFAIL, NULL, 0, opt, out,
					   cap < limit ? cap : limit);
		rdata = q->qtype == DNS_TYPE_A ? (const unsigned char *)&v4 : v6;
		rdlen = q->qtype == DNS_TYPE_A ? 4 : 16;
	}
	if (base + (rdata ? 12u + rdlen : 0) + opt_len > limit) {
		/* Too big for the client: the header and question say "ask again over TCP". */
		rdata = NULL;
		flags |= FLAG_TC;
		if (base + opt_len > limit)
			opt = false;
		if (base > limit)
			return -ENOSPC;
	}
	return write_reply(q, msg, flags, DNS_RCODE_NOERROR, rdata, rdlen, opt, out, cap);
}

/* The largest UDP reply q may get: 512 without EDNS, else its size clamped to 512..1232. */
static size_t udp_reply_limit(const struct dns_query *q, size_t udp_limit)
{
	size_t limit = UDP_PLAIN;

	if (q->edns && q->edns_size > UDP_PLAIN)
		limit = q->edns_size < DNS_EDNS_SIZE ? q->edns_size : DNS_EDNS_SIZE;
	return limit < udp_limit ? limit : udp_limit;
}

/* One message on a transport whose replies may be limit bytes; -DNS_E_* for "no reply". */
static ssize_t handle_one(struct dns_table *t, const unsigned char *msg, size_t len,
			  unsigned char *out, size_t cap, size_t limit, bool udp)
{
	struct dns_query q;
	ssize_t r;
	int rcode;

	r = dns_parse_query(msg, len, &q);
	if (udp)
		limit = udp_reply_limit(&q, limit);
	if (r < 0) {
		rcode = dns_err_rcode((int)r);
		if (rcode < 0)
			return r;
		return dns_error_answer(&q, msg, len, rcode, out, cap < limit ? cap : limit);
	}
	return dns_answer(t, &q, msg, out, cap, limit);
}

ssize_t dns_handle(struct dns_table *t, const unsigned char *msg, size_t len, unsigned char *out,
		   size_t cap, size_t udp_limit)
{
	ssize_t r = handle_one(t, msg, len, out, cap, udp_limit, true);

	if (r == -ENOSPC)
		return r;
	return r < 0 ? 0 : r;
}

ssize_t dns_tcp_feed(struct dns_table *t, const unsigned char *in, size_t len, unsigned char *out,
		     size_t cap, size_t *out_len)
{
	size_t pos = 0, flen;
	ssize_t r, err = 0;

	while (len - pos >= 2) {
		flen = get16(in + pos);
		if (flen == 0 || flen > DNS_TCP_QUERY_MAX) {
			err = -DNS_E_FRAME;
			break;
		}
		if (len - pos - 2 < flen)
			break;
		if (*out_len > cap || cap - *out_len < 2 + DNS_REPLY_MAX)
			break;
		r = handle_one(t, in + pos + 2, flen, out + *out_len + 2, DNS_REPLY_MAX,
			       TCP_MSG_MAX, false);
		if (r < 0) {
			err = r;
			break;
		}
		put16(out + *out_len, (uint16_t)r);
		*out_len += 2 + (size_t)r;
		pos += 2 + flen;
	}
	return pos == 0 && err ? err : (ssize_t)pos;
}

ssize_t dns_name_secret(const struct secret *s, size_t n, const char *name)
{
	char joined[DNS_NAME_MAX], scratch[DNS_NAME_MAX];
	size_t i, len = 0, start = 0, nlen = strnlen(name, DNS_NAME_MAX);
	ssize_t hit;

	if (n == 0 || nlen == 0)
		return -1;
	for (i = 0; i < nlen; i++)
		if (name[i] != '.')
			joined[len++] = name[i];
	hit = secret_find_encoded(s, n, joined, len, scratch);
	for (i = 0; hit < 0 && i <= nlen; i++) {
		if (i < nlen && name[i] != '.')
			continue;
		hit = secret_find_encoded(s, n, name + start, i - start, scratch);
		start = i + 1;
	}
	return hit;
}
