// SPDX-License-Identifier: MIT
/*
 * dns_test.c: the DNS responder. Hand-built and dig-captured queries answered byte for byte;
 * the synthetic address table (stable, distinct, v4 and v6 agreeing, mapping back, recycling
 * with a small capacity, four threads at once); every way the strict parser refuses a query
 * and the rcode each gets; truncation; TCP framing split at every byte. Then real resolvers
 * (dig, a socket-level python3 client, Node's c-ares-based dns.Resolver) query a server thread
 * on 127.0.0.1 that serves dns_handle() and dns_tcp_feed(); each is skipped, saying why, when
 * its program is missing. Includes dns.c to reach table_new() and the table's internals.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proxy/dns.c"
#include "proxy/secret.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* dig 9.18 "example.com A": RD and AD, EDNS 1232 with a client cookie. */
static const unsigned char dig_a[] = {
    0xc7, 0x87, 0x01, 0x20, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x07,
    0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x03, 0x63, 0x6f, 0x6d, 0x00, 0x00,
    0x01, 0x00, 0x01, 0x00, 0x00, 0x29, 0x04, 0xd0, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x0c, 0x00, 0x0a, 0x00, 0x08, 0x5e, 0x90, 0xf4, 0xd1, 0xcd, 0xe2, 0x34, 0xcc,
};

/* dig +dnssec "example.net TXT": the DO bit. */
static const unsigned char dig_txt_do[] = {
    0xcd, 0xbe, 0x01, 0x20, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x07,
    0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x03, 0x6e, 0x65, 0x74, 0x00, 0x00,
    0x10, 0x00, 0x01, 0x00, 0x00, 0x29, 0x04, 0xd0, 0x00, 0x00, 0x80, 0x00, 0x00,
    0x0c, 0x00, 0x0a, 0x00, 0x08, 0xbf, 0x7a, 0xdd, 0x3b, 0x8f, 0x44, 0x25, 0x36,
};

/* dig +edns=1 +noednsnegotiation "example.com A": EDNS version 1. */
static const unsigned char dig_edns1[] = {
    0x0e, 0xc5, 0x01, 0x20, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x07,
    0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x03, 0x63, 0x6f, 0x6d, 0x00, 0x00,
    0x01, 0x00, 0x01, 0x00, 0x00, 0x29, 0x04, 0xd0, 0x00, 0x01, 0x00, 0x00, 0x00,
    0x0c, 0x00, 0x0a, 0x00, 0x08, 0xf8, 0xec, 0x7d, 0x98, 0xe7, 0xa4, 0xd3, 0xc7,
};

/* Node 20 (c-ares) resolve6("node.example.com"): no EDNS. */
static const unsigned char node_aaaa[] = {
    0x90, 0x6c, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x04, 0x6e, 0x6f, 0x64, 0x65, 0x07, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c,
    0x65, 0x03, 0x63, 0x6f, 0x6d, 0x00, 0x00, 0x1c, 0x00, 0x01,
};

static struct dns_table *t;

static int setup(void **state)
{
	(void)state;
	t = dns_table_new();
	return t ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	dns_table_free(t);
	t = NULL;
	return 0;
}

/* The wire form of a dotted name ("" or "." for the root) at p; returns its length. */
static size_t put_name(unsigned char *p, const char *name)
{
	size_t n = 0, l;
	const char *dot;

	while (*name && strcmp(name, ".") != 0) {
		dot = strchr(name, '.');
		l = dot ? (size_t)(dot - name) : strlen(name);
		p[n++] = (unsigned char)l;
		memcpy(p + n, name, l);
		n += l;
		name += l;
		if (*name == '.')
			name++;
	}
	p[n++] = 0;
	return n;
}

/* A query with one question; an OPT record when edns_size >= 0. Returns its length. */
static size_t make_query(unsigned char *buf, uint16_t id, uint16_t flags, const char *name,
			 uint16_t qtype, uint16_t qclass, int edns_size, bool do_bit)
{
	size_t n = HDR_LEN;

	memset(buf, 0, HDR_LEN);
	put16(buf, id);
	put16(buf + 2, flags);
	put16(buf + 4, 1);
	put16(buf + 10, edns_size >= 0 ? 1 : 0);
	n += put_name(buf + n, name);
	put16(buf + n, qtype);
	put16(buf + n + 2, qclass);
	n += 4;
	if (edns_size >= 0) {
		buf[n] = 0;
		put16(buf + n + 1, DNS_TYPE_OPT);
		put16(buf + n + 3, (uint16_t)edns_size);
		put16(buf + n + 5, 0);
		put16(buf + n + 7, do_bit ? 0x8000 : 0);
		put16(buf + n + 9, 0);
		n += 11;
	}
	return n;
}

static void assert_bytes(const unsigned char *got, size_t got_len, const unsigned char *want,
			 size_t want_len)
{
	size_t i;

	assert_int_equal(got_len, want_len);
	for (i = 0; i < want_len; i++) {
		if (got[i] != want[i])
			fail_msg("byte %zu: got 0x%02x, want 0x%02x", i, got[i], want[i]);
	}
}

/* The rcode of a reply, with the OPT record's upper bits when the reply ends with one. */
static int reply_rcode(const unsigned char *r, size_t len)
{
	int rcode = r[3] & 0xf;

	if (get16(r + 10) == 1 && len >= HDR_LEN + OPT_LEN && r[len - OPT_LEN] == 0 &&
	    get16(r + len - OPT_LEN + 1) == DNS_TYPE_OPT)
		rcode |= r[len - OPT_LEN + 5] << 4;
	return rcode;
}

/* --- answers, byte for byte ----------------------------------------------------------- */

/* Real answers' addresses (--use-real-dns) are tied to their names; synthetic ones unchanged. */
static void test_real_addresses(void **state)
{
	unsigned char a6[16], b6[16], syn[16];
	uint32_t a4, s4;
	char name[300];
	int i;

	(void)state;
	inet_pton(AF_INET, "10.1.2.3", &a4);
	inet_pton(AF_INET6, "2001:db8::7", a6);
	inet_pton(AF_INET6, "2001:db8::8", b6);
	assert_int_equal(dns_table_name(t, AF_INET, &a4, name, sizeof(name)), -ENOENT);
	assert_int_equal(dns_table_note(t, AF_INET, &a4, "WWW.Example.com"), 0);
	assert_int_equal(dns_table_name(t, AF_INET, &a4, name, sizeof(name)), 0);
	assert_string_equal(name, "www.example.com");
	assert_int_equal(dns_table_note(t, AF_INET6, a6, "v6.example.com"), 0);
	assert_int_equal(dns_table_name(t, AF_INET6, a6, name, sizeof(name)), 0);
	assert_string_equal(name, "v6.example.com");
	assert_int_equal(dns_table_name(t, AF_INET6, b6, name, sizeof(name)), -ENOENT);
	/* the newest name for an address wins */
	assert_int_equal(dns_table_note(t, AF_INET, &a4, "cdn.example.net"), 0);
	assert_int_equal(dns_table_name(t, AF_INET, &a4, name, sizeof(name)), 0);
	assert_string_equal(name, "cdn.example.net");
	assert_int_equal(dns_table_name(t, AF_INET, &a4, name, 5), -ENOSPC);
	/* a synthetic address cannot be noted, and keeps its own name */
	assert_int_equal(dns_table_addr(t, "syn.example", &s4, syn), 0);
	assert_int_equal(dns_table_note(t, AF_INET, &s4, "evil.example"), -EINVAL);
	assert_int_equal(dns_table_note(t, AF_INET6, syn, "evil.example"), -EINVAL);
	assert_int_equal(dns_table_name(t, AF_INET, &s4, name, sizeof(name)), 0);
	assert_string_equal(name, "syn.example");
	assert_int_equal(dns_table_note(t, AF_INET, &a4, ""), -EINVAL);
	assert_int_equal(dns_table_note(t, AF_UNIX, &a4, "x.example"), -EAFNOSUPPORT);
	/* many more addresses than slots: no failure, and the latest ones are found */
	for (i = 0; i < 3 * DNS_REAL_CAP; i++) {
		a4 = htonl(0x0a000000u + (uint32_t)i);
		assert_int_equal(dns_table_note(t, AF_INET, &a4, "many.example"), 0);
	}
	assert_int_equal(dns_table_name(t, AF_INET, &a4, name, sizeof(name)), 0);
	assert_string_equal(name, "many.example");
}

static void test_a_bytes(void **state)
{
	static const unsigned char want[] = {
	    0x12, 0x34, 0x85, 0x80, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, /* header */
	    0x07, 'E',	'x',  'a',  'm',  'p',	'l',  'e',  0x03, 'C',	'O',  'M',
	    0x00, 0x00, 0x01, 0x00, 0x01,				/* question as sent */
	    0xc0, 0x0c, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x3c, /* A IN TTL 60 */
	    0x00, 0x04, 198,  18,   0,	  1,
	};
	unsigned char q[512], out[512];
	size_t qlen;
	ssize_t r;

	(void)state;
	qlen = make_query(q, 0x1234, FLAG_RD, "Example.COM", DNS_TYPE_A, DNS_CLASS_IN, -1, false);
	r = dns_handle(t, q, qlen, out, sizeof(out), 65535);
	assert_true(r > 0);
	assert_bytes(out, (size_t)r, want, sizeof(want));
}

static void test_aaaa_edns_bytes(void **state)
{
	static const unsigned char want[] = {
	    0xbe, 0xef, 0x85, 0x90, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, /* RD CD */
	    0x04, 'i',	'p',  'v',  '6',  0x04, 't',  'e',  's',  't',	0x00, 0x00,
	    0x1c, 0x00, 0x01, 0xc0, 0x0c, 0x00, 0x1c, 0x00, 0x01, 0x00, 0x00, 0x00,
	    0x3c, 0x00, 0x10, 0xfd, 0x42, 0x0b, 0x0d, 0x00, 0x53, 0x00, 0x00, 0x00,
	    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,			      /* fd42:b0d:53::1 */
	    0x00, 0x00, 0x29, 0x04, 0xd0, 0x00, 0x00, 0x80, 0x00, 0x00, 0x00, /* OPT 1232 DO */
	};
	unsigned char q[512], out[512];
	size_t qlen;
	ssize_t r;

	(void)state;
	qlen = make_query(q, 0xbeef, FLAG_RD | FLAG_CD, "ipv6.test", DNS_TYPE_AAAA, DNS_CLASS_IN,
			  4096, true);
	r = dns_handle(t, q, qlen, out, sizeof(out), 65535);
	assert_true(r > 0);
	assert_bytes(out, (size_t)r, want, sizeof(want));
}

static void test_dig_query(void **state)
{
	static const unsigned char tail[] = {
	    0xc0, 0x0c, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x3c, 0x00, 0x04, 198,  18,
	    0,	  1,	0x00, 0x00, 0x29, 0x04, 0xd0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	};
	struct dns_query q;
	unsigned char out[512];
	ssize_t r;

	(void)state;
	assert_int_equal(dns_parse_query(dig_a, sizeof(dig_a), &q), sizeof(dig_a));
	assert_string_equal(q.name, "example.com");
	assert_int_equal(q.id, 0xc787);
	assert_int_equal(q.qtype, DNS_TYPE_A);
	assert_int_equal(q.qclass, DNS_CLASS_IN);
	assert_true(q.rd);
	assert_false(q.cd);
	assert_true(q.edns);
	assert_int_equal(q.edns_size, 1232);
	assert_false(q.do_bit);
	assert_int_equal(q.opcode, 0);
	assert_int_equal(q.question_len, 17);

	/* The cookie is not echoed (we do not do cookies); AD is not set (we validate nothing). */
	r = dns_handle(t, dig_a, sizeof(dig_a), out, sizeof(out), DNS_EDNS_SIZE);
	assert_int_equal(r, 12 + 17 + 16 + 11);
	assert_int_equal(get16(out), 0xc787);
	assert_int_equal(get16(out + 2), 0x8580);
	assert_int_equal(get16(out + 4), 1);
	assert_int_equal(get16(out + 6), 1);
	assert_int_equal(get16(out + 8), 0);
	assert_int_equal(get16(out + 10), 1);
	assert_memory_equal(out + 12, dig_a + 12, 17);
	assert_memory_equal(out + 29, tail, sizeof(tail));

	assert_int_equal(dns_parse_query(dig_txt_do, sizeof(dig_txt_do), &q), sizeof(dig_txt_do));
	assert_true(q.do_bit);
	assert_int_equal(q.qtype, 16);
	r = dns_handle(t, dig_txt_do, sizeof(dig_txt_do), out, sizeof(out), DNS_EDNS_SIZE);
	assert_int_equal(r, 12 + 17 + 11);
	assert_int_equal(get16(out + 6), 0);
	assert_int_equal(out[r - 4], 0x80); /* DO echoed */

	/* c-ares without EDNS: no OPT back. */
	assert_int_equal(dns_parse_query(node_aaaa, sizeof(node_aaaa), &q), sizeof(node_aaaa));
	assert_false(q.edns);
	r = dns_handle(t, node_aaaa, sizeof(node_aaaa), out, sizeof(out), DNS_EDNS_SIZE);
	assert_int_equal(r, sizeof(node_aaaa) + 28);
	assert_int_equal(get16(out + 10), 0);
	assert_int_equal(out[r - 1], 2); /* the second name in this table */
}

static void test_other_types_nodata(void **state)
{
	static const uint16_t types[] = {15,  16,  DNS_TYPE_HTTPS, DNS_TYPE_SVCB, 255, 2, 6, 12, 33,
					 257, 999, 65535};
	unsigned char q[512], out[512];
	size_t i, qlen;
	ssize_t r;

	(void)state;
	for (i = 0; i < N(types); i++) {
		qlen = make_query(q, (uint16_t)i, FLAG_RD, "Svc.Example.com", types[i],
				  DNS_CLASS_IN, i % 2 ? 1232 : -1, false);
		r = dns_handle(t, q, qlen, out, sizeof(out), DNS_EDNS_SIZE);
		assert_int_equal(r, qlen);
		assert_int_equal(get16(out), i);
		assert_int_equal(get16(out + 2), 0x8580);
		assert_int_equal(get16(out + 4), 1);
		assert_int_equal(get16(out + 6), 0);
		assert_int_equal(get16(out + 10), i % 2);
		assert_memory_equal(out + 12, q + 12, qlen - 12 - (i % 2 ? 11 : 0));
	}
	/* No name was entered in the table for them. */
	assert_int_equal(t->used, 0);
}

/* With IPv6 off (a jail with no IPv6 loopback), AAAA gets NODATA and A its address as ever. */
static void test_no_v6(void **state)
{
	unsigned char q[512], out[512];
	size_t qlen;
	ssize_t r;

	(void)state;
	dns_table_set_v6(t, false);
	qlen = make_query(q, 7, FLAG_RD, "docker.test", DNS_TYPE_AAAA, DNS_CLASS_IN, -1, false);
	r = dns_handle(t, q, qlen, out, sizeof(out), DNS_EDNS_SIZE);
	assert_int_equal(r, qlen);
	assert_int_equal(get16(out + 2), 0x8580); /* NOERROR */
	assert_int_equal(get16(out + 6), 0);	  /* no answer */
	qlen = make_query(q, 8, FLAG_RD, "docker.test", DNS_TYPE_A, DNS_CLASS_IN, -1, false);
	r = dns_handle(t, q, qlen, out, sizeof(out), DNS_EDNS_SIZE);
	assert_true(r > (ssize_t)qlen);
	assert_int_equal(get16(out + 6), 1);
	dns_table_set_v6(t, true);
	qlen = make_query(q, 9, FLAG_RD, "docker.test", DNS_TYPE_AAAA, DNS_CLASS_IN, -1, false);
	r = dns_handle(t, q, qlen, out, sizeof(out), DNS_EDNS_SIZE);
	assert_int_equal(get16(out + 6), 1);
}

static void test_root(void **state)
{
	unsigned char q[512], out[512];
	struct dns_query dq;
	size_t qlen;
	ssize_t r;

	(void)state;
	qlen = make_query(q, 7, 0, ".", DNS_TYPE_A, DNS_CLASS_IN, -1, false);
	assert_int_equal(qlen, 12 + 5);
	assert_int_equal(dns_parse_query(q, qlen, &dq), qlen);
	assert_string_equal(dq.name, "");
	r = dns_handle(t, q, qlen, out, sizeof(out), 512);
	assert_int_equal(r, qlen);
	assert_int_equal(get16(out + 2), 0x8480); /* no RD asked, none echoed */
	assert_int_equal(get16(out + 6), 0);
	qlen = make_query(q, 8, FLAG_RD, "", 2, DNS_CLASS_IN, 1232, false);
	r = dns_handle(t, q, qlen, out, sizeof(out), 512);
	assert_int_equal(r, qlen);
	assert_int_equal(get16(out + 6), 0);
	assert_int_equal(t->used, 0);
}

static void test_mixed_case(void **state)
{
	unsigned char q[512], out1[512], out2[512];
	size_t qlen;
	ssize_t r1, r2;

	(void)state;
	qlen = make_query(q, 1, FLAG_RD, "WwW.ExAmPlE.cOm", DNS_TYPE_A, DNS_CLASS_IN, -1, false);
	r1 = dns_handle(t, q, qlen, out1, sizeof(out1), 512);
	assert_true(r1 > 0);
	assert_memory_equal(out1 + 12, "\003WwW\007ExAmPlE\003cOm", 17);
	qlen = make_query(q, 1, FLAG_RD, "www.example.com", DNS_TYPE_A, DNS_CLASS_IN, -1, false);
	r2 = dns_handle(t, q, qlen, out2, sizeof(out2), 512);
	assert_int_equal(r1, r2);
	assert_memory_equal(out1 + r1 - 4, out2 + r2 - 4, 4);
	assert_memory_equal(out2 + 12, "\003www\007example\003com", 17);
	assert_int_equal(t->used, 1);
	assert_string_equal(t->e[1].name, "www.example.com");
}

/* --- the table ------------------------------------------------------------------------ */

/* Checks the LRU list and the hash chains against each other. */
static void check_table(struct dns_table *tt)
{
	uint32_t i, prev = 0, n = 0, chained = 0, b, j;
	bool found;

	for (i = tt->oldest; i; i = tt->e[i].newer) {
		assert_int_equal(tt->e[i].older, prev);
		assert_true(tt->e[i].len > 0);
		prev = i;
		assert_true(++n <= tt->used);
	}
	assert_int_equal(tt->newest, prev);
	assert_int_equal(n, tt->used);
	for (b = 0; b <= tt->mask; b++) {
		for (j = tt->bucket[b]; j; j = tt->e[j].next) {
			assert_int_equal(tt->e[j].hash & tt->mask, b);
			chained++;
		}
	}
	assert_int_equal(chained, tt->used);
	for (i = 1; i <= tt->used; i++) {
		found = false;
		for (j = tt->bucket[tt->e[i].hash & tt->mask]; j && !found; j = tt->e[j].next)
			found = j == i;
		assert_true(found);
	}
}

static void test_table_stable(void **state)
{
	enum { NAMES = 2000 };
	static uint32_t first[NAMES];
	char name[64], buf[DNS_NAME_MAX + 1];
	unsigned char v6[16], v6b[16];
	uint32_t v4, v4b, i, k;

	(void)state;
	for (k = 0; k < 3; k++) {
		for (i = 0; i < NAMES; i++) {
			snprintf(name, sizeof(name), "host-%u.Example.test", i);
			assert_int_equal(dns_table_addr(t, name, &v4, v6), 0);
			if (k == 0)
				first[i] = v4;
			assert_int_equal(v4, first[i]);
			/* the same index in both families */
			assert_int_equal(ntohl(v4) - V4_BASE, addr_to_index(AF_INET6, v6));
			assert_true(dns_is_synthetic(AF_INET, &v4));
			assert_true(dns_is_synthetic(AF_INET6, v6));
			assert_int_equal(dns_table_name(t, AF_INET, &v4, buf, sizeof(buf)), 0);
			snprintf(name, sizeof(name), "host-%u.example.test", i);
			assert_string_equal(buf, name);
			assert_int_equal(dns_table_name(t, AF_INET6, v6, buf, sizeof(buf)), 0);
			assert_string_equal(buf, name);
			/* NULL for the family the caller does not want */
			assert_int_equal(dns_table_addr(t, name, NULL, v6b), 0);
			assert_memory_equal(v6, v6b, 16);
			assert_int_equal(dns_table_addr(t, name, &v4b, NULL), 0);
			assert_int_equal(v4, v4b);
		}
	}
	/* distinct: indexes 1..NAMES in order of first use */
	for (i = 0; i < NAMES; i++)
		assert_int_equal(ntohl(first[i]), V4_BASE + i + 1);
	assert_int_equal(t->used, NAMES);
	check_table(t);
}

static void test_table_edges(void **state)
{
	static const char *const bad[] = {"",	 ".",	 "a..b", ".a",		"a.",
					  "a b", "a\tb", "\x7f", "caf\xc3\xa9", "a\"b\x01"};
	char name[300], buf[DNS_NAME_MAX + 1];
	unsigned char v6[16];
	uint32_t v4;
	size_t i;

	(void)state;
	for (i = 0; i < N(bad); i++)
		assert_int_equal(dns_table_addr(t, bad[i], &v4, v6), -EINVAL);
	/* 63-byte labels, 253 bytes in all: the longest name */
	memset(name, 'a', 253);
	name[63] = name[127] = name[191] = '.';
	name[253] = '\0';
	assert_int_equal(dns_table_addr(t, name, &v4, v6), 0);
	assert_int_equal(dns_table_name(t, AF_INET, &v4, buf, sizeof(buf)), 0);
	assert_string_equal(buf, name);
	assert_int_equal(dns_table_name(t, AF_INET, &v4, buf, 253), -ENOSPC);
	name[253] = 'a';
	name[254] = '\0';
	assert_int_equal(dns_table_addr(t, name, &v4, v6), -EINVAL);
	memset(name, 'b', 64);
	name[64] = '\0';
	assert_int_equal(dns_table_addr(t, name, &v4, v6), -EINVAL);
	name[63] = '\0';
	assert_int_equal(dns_table_addr(t, name, &v4, v6), 0);
	/* printable, not a host name: still a name */
	assert_int_equal(dns_table_addr(t, "*.under_score.x", &v4, v6), 0);
}

static void test_table_not_synthetic(void **state)
{
	static const char *const v4s[] = {"10.0.0.1",	 "198.17.255.255", "198.20.0.0",
					  "198.18.0.0",	 "198.19.255.185", "198.19.255.255",
					  "198.18.0.99", "127.0.0.1"};
	static const char *const v6s[] = {"::1",
					  "fd42:b0d:53::",
					  "fd42:b0d:53::1:ffb9",
					  "fd42:b0d:53:0:1::1",
					  "fd42:b0d:53::63",
					  "fd42:b0d:54::1",
					  "2001:db8::1"};
	unsigned char v6[16], a6[16];
	uint32_t v4, a4;
	char buf[256];
	size_t i;

	(void)state;
	assert_int_equal(dns_table_addr(t, "one.test", &v4, v6), 0);
	for (i = 0; i < N(v4s); i++) {
		assert_int_equal(inet_pton(AF_INET, v4s[i], &a4), 1);
		assert_int_equal(dns_table_name(t, AF_INET, &a4, buf, sizeof(buf)), -ENOENT);
	}
	for (i = 0; i < N(v6s); i++) {
		assert_int_equal(inet_pton(AF_INET6, v6s[i], a6), 1);
		assert_int_equal(dns_table_name(t, AF_INET6, a6, buf, sizeof(buf)), -ENOENT);
	}
	assert_int_equal(dns_table_name(t, AF_UNIX, &v4, buf, sizeof(buf)), -EAFNOSUPPORT);
	assert_false(dns_is_synthetic(AF_UNIX, &v4));
	inet_pton(AF_INET, "198.17.255.255", &a4);
	assert_false(dns_is_synthetic(AF_INET, &a4));
	inet_pton(AF_INET, "198.20.0.0", &a4);
	assert_false(dns_is_synthetic(AF_INET, &a4));
	inet_pton(AF_INET, "198.19.255.255", &a4);
	assert_true(dns_is_synthetic(AF_INET, &a4));
	inet_pton(AF_INET6, "fd42:b0d:53:0:ffff:ffff:ffff:ffff", a6);
	assert_true(dns_is_synthetic(AF_INET6, a6));
	inet_pton(AF_INET6, "fd42:b0d:53:1::1", a6);
	assert_false(dns_is_synthetic(AF_INET6, a6));
	/* the last index in use */
	inet_pton(AF_INET, "198.19.255.184", &a4);
	assert_int_equal(addr_to_index(AF_INET, &a4), DNS_TABLE_CAP);
	inet_pton(AF_INET6, "fd42:b0d:53::1:ffb8", a6);
	assert_int_equal(addr_to_index(AF_INET6, a6), DNS_TABLE_CAP);
}

static void expect_name(struct dns_table *tt, uint32_t index, const char *want)
{
	char buf[256];
	uint32_t a = htonl(V4_BASE + index);

	if (want) {
		assert_int_equal(dns_table_name(tt, AF_INET, &a, buf, sizeof(buf)), 0);
		assert_string_equal(buf, want);
	} else {
		assert_int_equal(dns_table_name(tt, AF_INET, &a, buf, sizeof(buf)), -ENOENT);
	}
}

static uint32_t index_of(struct dns_table *tt, const char *name)
{
	uint32_t v4;

	assert_int_equal(dns_table_addr(tt, name, &v4, NULL), 0);
	return ntohl(v4) - V4_BASE;
}

static void test_lru(void **state)
{
	struct dns_table *s = table_new(3);
	char name[32];
	uint32_t i;

	(void)state;
	assert_non_null(s);
	assert_null(table_new(0));
	assert_null(table_new(DNS_TABLE_CAP + 1));
	assert_int_equal(index_of(s, "a"), 1);
	assert_int_equal(index_of(s, "b"), 2);
	assert_int_equal(index_of(s, "c"), 3);
	expect_name(s, 4, NULL);
	assert_int_equal(index_of(s, "a"), 1); /* order now b c a */
	assert_int_equal(index_of(s, "d"), 2); /* b recycled: c a d */
	expect_name(s, 2, "d");
	expect_name(s, 3, "c");		       /* a lookup by address counts as use: a d c */
	assert_int_equal(index_of(s, "e"), 1); /* a recycled: d c e */
	expect_name(s, 1, "e");
	assert_int_equal(index_of(s, "a"), 2); /* d recycled: c e a */
	assert_int_equal(index_of(s, "e"), 1);
	assert_int_equal(index_of(s, "c"), 3);
	assert_int_equal(index_of(s, "f"), 2);
	check_table(s);
	dns_table_free(s);
	dns_table_free(NULL);

	/* a long run through a small table keeps both structures whole */
	s = table_new(50);
	for (i = 0; i < 5000; i++) {
		snprintf(name, sizeof(name), "n%u.test", (i * 7919) % 173);
		assert_true(index_of(s, name) >= 1 && index_of(s, name) <= 50);
	}
	check_table(s);
	dns_table_free(s);
}

struct hammer {
	struct dns_table *t;
	unsigned seed;
	uint32_t seen[1000];
	int err;
};

static void *hammer(void *arg)
{
	struct hammer *h = arg;
	char name[32];
	uint32_t v4, i, k;
	unsigned char v6[16];

	for (k = 0; k < 40000; k++) {
		i = (k * 31 + h->seed * 17) % 1000;
		snprintf(name, sizeof(name), "%s%u.hammer.test", k % 2 ? "H" : "h", i);
		if (dns_table_addr(h->t, name, &v4, v6) != 0 ||
		    addr_to_index(AF_INET6, v6) != ntohl(v4) - V4_BASE ||
		    (h->seen[i] && h->seen[i] != v4)) {
			h->err = 1;
			break;
		}
		h->seen[i] = v4;
	}
	return NULL;
}

static void *hammer_small(void *arg)
{
	struct hammer *h = arg;
	char name[32], buf[64];
	uint32_t v4, k;

	for (k = 0; k < 40000; k++) {
		snprintf(name, sizeof(name), "s%u.test", (k * 13 + h->seed) % 300);
		if (dns_table_addr(h->t, name, &v4, NULL) != 0) {
			h->err = 1;
			break;
		}
		(void)dns_table_name(h->t, AF_INET, &v4, buf, sizeof(buf));
	}
	return NULL;
}

static void test_threads(void **state)
{
	static struct hammer h[4];
	struct dns_table *s;
	pthread_t th[4];
	char buf[64], want[64];
	uint32_t i, j;

	(void)state;
	for (i = 0; i < 4; i++) {
		memset(&h[i], 0, sizeof(h[i]));
		h[i].t = t;
		h[i].seed = i;
		assert_int_equal(pthread_create(&th[i], NULL, hammer, &h[i]), 0);
	}
	for (i = 0; i < 4; i++)
		assert_int_equal(pthread_join(th[i], NULL), 0);
	for (i = 0; i < 4; i++)
		assert_int_equal(h[i].err, 0);
	/* every thread saw the same address for each name, and the addresses are distinct */
	for (j = 0; j < 1000; j++) {
		for (i = 1; i < 4; i++)
			assert_int_equal(h[i].seen[j], h[0].seen[j]);
		assert_int_equal(dns_table_name(t, AF_INET, &h[0].seen[j], buf, sizeof(buf)), 0);
		snprintf(want, sizeof(want), "h%u.hammer.test", j);
		assert_string_equal(buf, want);
	}
	assert_int_equal(t->used, 1000);
	check_table(t);

	/* and with recycling under way */
	s = table_new(64);
	assert_non_null(s);
	for (i = 0; i < 4; i++) {
		memset(&h[i], 0, sizeof(h[i]));
		h[i].t = s;
		h[i].seed = i * 101;
		assert_int_equal(pthread_create(&th[i], NULL, hammer_small, &h[i]), 0);
	}
	for (i = 0; i < 4; i++)
		assert_int_equal(pthread_join(th[i], NULL), 0);
	for (i = 0; i < 4; i++)
		assert_int_equal(h[i].err, 0);
	assert_int_equal(s->used, 64);
	check_table(s);
	dns_table_free(s);
}

/* --- refusals ------------------------------------------------------------------------- */

/*
 * Answers msg through dns_handle and checks the reply carries rcode (-1: no reply) and the
 * question when question_len is not 0.
 */
static void expect_refusal(const unsigned char *msg, size_t len, int rcode, size_t question_len)
{
	unsigned char out[512];
	ssize_t r;

	r = dns_handle(t, msg, len, out, sizeof(out), DNS_EDNS_SIZE);
	if (rcode < 0) {
		assert_int_equal(r, 0);
		return;
	}
	assert_true(r >= HDR_LEN);
	assert_memory_equal(out, msg, 2);
	assert_true(out[2] & 0x80);
	assert_int_equal(out[2] & 0x78, msg[2] & 0x78); /* opcode */
	assert_int_equal(out[2] & 1, msg[2] & 1);	/* RD */
	assert_int_equal(out[2] & 0x04, 0);		/* no AA on refusals */
	assert_int_equal(reply_rcode(out, (size_t)r), rcode);
	assert_int_equal(get16(out + 4), question_len ? 1 : 0);
	assert_int_equal(get16(out + 6), 0);
	assert_int_equal(get16(out + 8), 0);
	if (question_len)
		assert_memory_equal(out + HDR_LEN, msg + HDR_LEN, question_len);
	assert_int_equal((size_t)r, HDR_LEN + question_len + (get16(out + 10) ? OPT_LEN : 0));
}

static ssize_t parse(const unsigned char *msg, size_t len)
{
	struct dns_query q;
	ssize_t r;
	unsigned char *copy = malloc(len ? len : 1);

	/* an exactly sized heap copy, so ASan sees any read past the end */
	assert_non_null(copy);
	memcpy(copy, msg, len);
	r = dns_parse_query(copy, len, &q);
	free(copy);
	return r;
}

static void test_malformed(void **state)
{
	/* compression pointers: onto itself, forward, backward into the header */
	static const unsigned char ptr_self[] = {0, 1, 1, 0,	0,  1, 0, 0, 0,
						 0, 0, 0, 0xc0, 12, 0, 1, 0, 1};
	static const unsigned char ptr_fwd[] = {0, 2,	1,    0,  0, 1, 0, 0, 0, 0,   0, 0,
						1, 'a', 0xc0, 20, 0, 1, 0, 1, 1, 'b', 0};
	static const unsigned char ptr_back[] = {0, 3, 1, 0,   0,    1, 0, 0, 0, 0,
						 0, 0, 1, 'a', 0xc0, 0, 0, 1, 0, 1};
	static const uint16_t bad[][4] = {{2, 0, 0, 0}, {0, 0, 0, 0}, {1, 1, 0, 0}, {1, 0, 1, 0}};
	unsigned char q[1024], m[1024], out[512];
	char name[300];
	size_t qlen, i, n;
	ssize_t r;

	(void)state;
	qlen = make_query(q, 0x4242, FLAG_RD, "bad.test", DNS_TYPE_A, DNS_CLASS_IN, -1, false);

	/* every truncation: no reply inside the header, FORMERR after it */
	for (i = 0; i < qlen; i++) {
		assert_int_equal(parse(q, i), i < HDR_LEN ? -DNS_E_SHORT : -DNS_E_TRUNCATED);
		expect_refusal(q, i, i < HDR_LEN ? -1 : DNS_RCODE_FORMERR, 0);
	}
	/* QR set: never answered */
	memcpy(m, q, qlen);
	m[2] |= 0x80;
	assert_int_equal(parse(m, qlen), -DNS_E_RESPONSE);
	expect_refusal(m, qlen, -1, 0);

	/* opcodes other than QUERY: NOTIMP, the opcode echoed */
	for (i = 1; i < 16; i++) {
		memcpy(m, q, qlen);
		m[2] = (unsigned char)(m[2] | i << 3);
		assert_int_equal(parse(m, qlen), -DNS_E_NOTIMP);
		expect_refusal(m, qlen, DNS_RCODE_NOTIMP, 0);
	}
	/* counts */
	for (i = 0; i < N(bad); i++) {
		memcpy(m, q, qlen);
		for (n = 0; n < 4; n++)
			put16(m + 4 + 2 * n, bad[i][n]);
		assert_int_equal(parse(m, qlen), -DNS_E_COUNT);
		expect_refusal(m, qlen, DNS_RCODE_FORMERR, 0);
	}
	qlen = make_query(q, 0x4242, FLAG_RD, "bad.test", DNS_TYPE_A, DNS_CLASS_IN, 1232, false);
	memcpy(m, q, qlen);
	put16(m + 10, 2);
	assert_int_equal(parse(m, qlen), -DNS_E_COUNT);
	expect_refusal(m, qlen, DNS_RCODE_FORMERR, 0);

	/* compression pointers */
	assert_int_equal(parse(ptr_self, sizeof(ptr_self)), -DNS_E_POINTER);
	expect_refusal(ptr_self, sizeof(ptr_self), DNS_RCODE_FORMERR, 0);
	assert_int_equal(parse(ptr_fwd, sizeof(ptr_fwd)), -DNS_E_POINTER);
	expect_refusal(ptr_fwd, sizeof(ptr_fwd), DNS_RCODE_FORMERR, 0);
	assert_int_equal(parse(ptr_back, sizeof(ptr_back)), -DNS_E_POINTER);

	/* a label of 64 bytes (0x40) and the other reserved type (0x80) */
	n = HDR_LEN;
	memcpy(m, q, HDR_LEN);
	put16(m + 10, 0);
	m[n++] = 64;
	memset(m + n, 'x', 64);
	n += 64;
	m[n++] = 0;
	put16(m + n, 1);
	put16(m + n + 2, 1);
	n += 4;
	assert_int_equal(parse(m, n), -DNS_E_LABEL);
	expect_refusal(m, n, DNS_RCODE_FORMERR, 0);
	m[HDR_LEN] = 0x80;
	assert_int_equal(parse(m, n), -DNS_E_LABEL);

	/* names: 255 wire bytes pass, 256 do not */
	memset(name, 'n', 253);
	name[63] = name[127] = name[191] = '.';
	name[253] = '\0';
	n = make_query(m, 1, 0, name, DNS_TYPE_A, DNS_CLASS_IN, -1, false);
	assert_int_equal(n, HDR_LEN + 255 + 4);
	assert_int_equal(parse(m, n), n);
	r = dns_handle(t, m, n, out, sizeof(out), 512);
	assert_int_equal(r, n + 16);
	assert_int_equal(get16(out + 6), 1);
	n = make_query(m, 1, 0, name, DNS_TYPE_AAAA, DNS_CLASS_IN, 1232, false);
	r = dns_handle(t, m, n, out, sizeof(out), DNS_EDNS_SIZE);
	assert_int_equal(r, 310); /* the largest reply there is (DNS_REPLY_MAX) */
	name[253] = 'n';
	name[254] = '\0';
	n = make_query(m, 1, 0, name, DNS_TYPE_A, DNS_CLASS_IN, -1, false);
	assert_int_equal(parse(m, n), -DNS_E_NAME_LONG);
	expect_refusal(m, n, DNS_RCODE_FORMERR, 0);
	memset(name, 'n', 299);
	for (i = 63; i < 299; i += 64)
		name[i] = '.';
	name[299] = '\0';
	n = make_query(m, 1, 0, name, DNS_TYPE_A, DNS_CLASS_IN, -1, false);
	assert_int_equal(parse(m, n), -DNS_E_NAME_LONG);

	/* trailing bytes: FORMERR, the question echoed */
	qlen = make_query(q, 0x4242, FLAG_RD, "bad.test", DNS_TYPE_A, DNS_CLASS_IN, -1, false);
	memcpy(m, q, qlen);
	m[qlen] = 0;
	assert_int_equal(parse(m, qlen + 1), -DNS_E_TRAILING);
	expect_refusal(m, qlen + 1, DNS_RCODE_FORMERR, qlen - HDR_LEN);
	qlen = make_query(q, 0x4242, FLAG_RD, "bad.test", DNS_TYPE_A, DNS_CLASS_IN, 1232, false);
	memcpy(m, q, qlen);
	memcpy(m + qlen, "xyz", 3);
	assert_int_equal(parse(m, qlen + 3), -DNS_E_TRAILING);
	expect_refusal(m, qlen + 3, DNS_RCODE_FORMERR, qlen - 11 - HDR_LEN);
}

static void test_opt(void **state)
{
	unsigned char q[1024], m[1024], out[512];
	size_t qlen, opt;
	ssize_t r;
	struct dns_query dq;

	(void)state;
	qlen = make_query(q, 0x77, FLAG_RD, "opt.test", DNS_TYPE_A, DNS_CLASS_IN, 1232, false);
	opt = qlen - OPT_LEN;

	/* EDNS version 1: BADVERS (16), upper bits in our OPT, lower in the header */
	assert_int_equal(parse(dig_edns1, sizeof(dig_edns1)), -DNS_E_BADVERS);
	r = dns_handle(t, dig_edns1, sizeof(dig_edns1), out, sizeof(out), DNS_EDNS_SIZE);
	assert_int_equal(r, HDR_LEN + 17 + OPT_LEN);
	assert_int_equal(out[3] & 0xf, 0);
	assert_int_equal(out[r - 6], 1);
	assert_int_equal(out[r - 5], 0);
	expect_refusal(dig_edns1, sizeof(dig_edns1), DNS_RCODE_BADVERS, 17);

	/* an OPT owned by another name, or by a pointer */
	memcpy(m, q, opt);
	m[opt] = 1;
	m[opt + 1] = 'x';
	m[opt + 2] = 0;
	memcpy(m + opt + 3, q + opt + 1, OPT_LEN - 1);
	assert_int_equal(parse(m, qlen + 2), -DNS_E_OPT);
	expect_refusal(m, qlen + 2, DNS_RCODE_FORMERR, opt - HDR_LEN);
	m[opt] = 0xc0;
	m[opt + 1] = 12;
	memcpy(m + opt + 2, q + opt + 1, OPT_LEN - 1);
	assert_int_equal(parse(m, qlen + 1), -DNS_E_OPT);

	/* an additional record that is not OPT */
	memcpy(m, q, qlen);
	put16(m + opt + 1, DNS_TYPE_A);
	assert_int_equal(parse(m, qlen), -DNS_E_OPT);
	expect_refusal(m, qlen, DNS_RCODE_FORMERR, opt - HDR_LEN);

	/* options: one cookie is fine; a short option header or an overlong option is not */
	memcpy(m, q, qlen);
	put16(m + qlen - 2, 12);
	memcpy(m + qlen,
	       "\x00\x0a\x00\x08"
	       "ABCDEFGH",
	       12);
	assert_int_equal(parse(m, qlen + 12), qlen + 12);
	put16(m + qlen - 2, 3);
	assert_int_equal(parse(m, qlen + 3), -DNS_E_OPT);
	put16(m + qlen - 2, 12);
	put16(m + qlen + 2, 9);
	assert_int_equal(parse(m, qlen + 12), -DNS_E_OPT);
	put16(m + qlen + 2, 8);
	put16(m + qlen - 2, 13); /* RDLENGTH past the end */
	assert_int_equal(parse(m, qlen + 12), -DNS_E_TRUNCATED);
	expect_refusal(m, qlen + 12, DNS_RCODE_FORMERR, opt - HDR_LEN);

	/* a small client size counts as 512; a large one as 1232 */
	qlen = make_query(q, 0x78, 0, "small.test", DNS_TYPE_AAAA, DNS_CLASS_IN, 100, false);
	assert_int_equal(dns_parse_query(q, qlen, &dq), qlen);
	assert_int_equal(dq.edns_size, 100);
	assert_int_equal(udp_reply_limit(&dq, 65535), 512);
	r = dns_handle(t, q, qlen, out, sizeof(out), 65535);
	assert_int_equal(r, qlen + 28);
	assert_int_equal(get16(out + 6), 1);
	dq.edns_size = 4096;
	assert_int_equal(udp_reply_limit(&dq, 65535), DNS_EDNS_SIZE);
	assert_int_equal(udp_reply_limit(&dq, 600), 600);
	dq.edns_size = 1000;
	assert_int_equal(udp_reply_limit(&dq, 65535), 1000);
	dq.edns = false;
	assert_int_equal(udp_reply_limit(&dq, 65535), 512);
}

static void test_refused(void **state)
{
	static const unsigned char weird[][4] = {{'a', ' ', 'b', 0},  {'a', 0, 'b', 0},
						 {'a', '.', 'b', 0},  {'a', 0x80, 'b', 0},
						 {'a', 0x7f, 'b', 0}, {'a', '\n', 'b', 0}};
	static const uint16_t classes[] = {3, 4, 255, 0};
	unsigned char q[512], m[512];
	struct dns_query dq;
	size_t qlen, i;
	ssize_t r;

	(void)state;
	/* names that cannot be written as text without ambiguity */
	for (i = 0; i < N(weird); i++) {
		qlen = make_query(q, 9, FLAG_RD, "abc.test", DNS_TYPE_A, DNS_CLASS_IN, -1, false);
		memcpy(q + HDR_LEN + 1, weird[i], 3);
		r = dns_parse_query(q, qlen, &dq);
		assert_int_equal(r, -DNS_E_NAME_CHARS);
		assert_string_equal(dq.name, "");
		assert_int_equal(dq.question_len, qlen - HDR_LEN);
		expect_refusal(q, qlen, DNS_RCODE_REFUSED, qlen - HDR_LEN);
	}
	assert_int_equal(t->used, 0);

	/* CHAOS (version.bind), HESIOD, ANY class; zone transfers */
	for (i = 0; i < N(classes); i++) {
		qlen = make_query(q, 10, 0, "version.bind", 16, classes[i], 1232, false);
		expect_refusal(q, qlen, DNS_RCODE_REFUSED, qlen - HDR_LEN - OPT_LEN);
	}
	qlen = make_query(q, 11, 0, "zone.test", DNS_TYPE_AXFR, DNS_CLASS_IN, -1, false);
	expect_refusal(q, qlen, DNS_RCODE_REFUSED, qlen - HDR_LEN);
	qlen = make_query(q, 11, 0, "zone.test", DNS_TYPE_IXFR, DNS_CLASS_IN, -1, false);
	expect_refusal(q, qlen, DNS_RCODE_REFUSED, qlen - HDR_LEN);
	assert_int_equal(t->used, 0);

	/* the table failing: SERVFAIL */
	qlen = make_query(q, 12, FLAG_RD, "ok.test", DNS_TYPE_A, DNS_CLASS_IN, -1, false);
	assert_int_equal(dns_parse_query(q, qlen, &dq), qlen);
	dq.name[0] = ' '; /* only a broken parser could hand this over */
	r = dns_answer(t, &dq, q, m, sizeof(m), 512);
	assert_int_equal(r, qlen);
	assert_int_equal(m[3] & 0xf, DNS_RCODE_SERVFAIL);

	/* error answers without a question, and dns_error_answer refusing a short msg_len */
	assert_int_equal(dns_parse_query(q, qlen, &dq), qlen);
	r = dns_error_answer(&dq, q, HDR_LEN + 3, DNS_RCODE_SERVFAIL, m, sizeof(m));
	assert_int_equal(r, HDR_LEN);
	assert_int_equal(get16(m + 4), 0);
	assert_int_equal(dns_error_answer(&dq, q, qlen, DNS_RCODE_SERVFAIL, m, HDR_LEN), -ENOSPC);

	for (i = 0; i <= DNS_E_FRAME + 1; i++) {
		assert_non_null(dns_strerror((int)i));
		assert_string_equal(dns_strerror((int)i), dns_strerror(-(int)i));
	}
	assert_string_equal(dns_strerror(0), "unknown DNS error");
	assert_string_equal(dns_strerror(DNS_E_FRAME + 1), "unknown DNS error");
	assert_string_not_equal(dns_strerror(DNS_E_LABEL), "unknown DNS error");
	assert_int_equal(dns_err_rcode(-DNS_E_SHORT), -1);
	assert_int_equal(dns_err_rcode(-DNS_E_RESPONSE), -1);
	assert_int_equal(dns_err_rcode(-DNS_E_FRAME), -1);
	assert_int_equal(dns_err_rcode(-DNS_E_POINTER), DNS_RCODE_FORMERR);
	assert_string_equal(dns_type_name(1), "A");
	assert_string_equal(dns_type_name(28), "AAAA");
	assert_string_equal(dns_type_name(65), "HTTPS");
	assert_string_equal(dns_type_name(64), "SVCB");
	assert_null(dns_type_name(0));
	assert_null(dns_type_name(4242));
}

static void test_truncation(void **state)
{
	unsigned char q[512], out[512];
	struct dns_query dq;
	size_t qlen, base;
	ssize_t r;

	(void)state;
	qlen = make_query(q, 0x99, FLAG_RD, "big.test", DNS_TYPE_AAAA, DNS_CLASS_IN, 1232, false);
	assert_int_equal(dns_parse_query(q, qlen, &dq), qlen);
	base = HDR_LEN + dq.question_len;

	/* it fits exactly */
	r = dns_answer(t, &dq, q, out, sizeof(out), base + 28 + OPT_LEN);
	assert_int_equal(r, base + 28 + OPT_LEN);
	assert_int_equal(get16(out + 2) & FLAG_TC, 0);
	/* one byte less: TC, no answer, the OPT record kept */
	r = dns_answer(t, &dq, q, out, sizeof(out), base + 28 + OPT_LEN - 1);
	assert_int_equal(r, base + OPT_LEN);
	assert_int_equal(get16(out + 2), 0x8780);
	assert_int_equal(get16(out + 6), 0);
	assert_int_equal(get16(out + 10), 1);
	assert_memory_equal(out + HDR_LEN, q + HDR_LEN, dq.question_len);
	/* no room for OPT either */
	r = dns_answer(t, &dq, q, out, sizeof(out), base + OPT_LEN - 1);
	assert_int_equal(r, base);
	assert_int_equal(get16(out + 10), 0);
	assert_true(get16(out + 2) & FLAG_TC);
	/* not even the question */
	assert_int_equal(dns_answer(t, &dq, q, out, sizeof(out), base - 1), -ENOSPC);
	/* the buffer, not the limit, too small */
	assert_int_equal(dns_answer(t, &dq, q, out, base + 10, 512), -ENOSPC);
	/* through dns_handle */
	r = dns_handle(t, q, qlen, out, sizeof(out), base + 20);
	assert_int_equal(r, base + OPT_LEN);
	assert_true(get16(out + 2) & FLAG_TC);
	assert_int_equal(dns_handle(t, q, qlen, out, 20, 512), -ENOSPC);
	/* without EDNS the same */
	qlen = make_query(q, 0x9a, 0, "big.test", DNS_TYPE_A, DNS_CLASS_IN, -1, false);
	r = dns_handle(t, q, qlen, out, sizeof(out), qlen + 15);
	assert_int_equal(r, qlen);
	assert_int_equal(get16(out + 2), 0x8680);
}

/* --- TCP ------------------------------------------------------------------------------ */

static size_t frame(unsigned char *p, const unsigned char *msg, size_t len)
{
	put16(p, (uint16_t)len);
	memcpy(p + 2, msg, len);
	return len + 2;
}

/*
 * Plays a TCP connection: in[0..len) arrives in pieces cut at the offsets in cuts[0..ncuts),
 * the buffer keeps what was not consumed. Returns the replies written, into out.
 */
static size_t tcp_play(const unsigned char *in, size_t len, const size_t *cuts, size_t ncuts,
		       unsigned char *out, size_t cap, ssize_t *last)
{
	unsigned char buf[4096];
	size_t have = 0, next = 0, k, out_len = 0, upto;
	ssize_t r = 0;

	for (k = 0; k <= ncuts; k++) {
		upto = k < ncuts ? cuts[k] : len;
		memcpy(buf + have, in + next, upto - next);
		have += upto - next;
		next = upto;
		for (;;) {
			r = dns_tcp_feed(t, buf, have, out, cap, &out_len);
			if (r <= 0)
				break;
			memmove(buf, buf + r, have - (size_t)r);
			have -= (size_t)r;
		}
		if (r < 0)
			break;
	}
	*last = r;
	return out_len;
}

static void test_tcp(void **state)
{
	static const int rcodes[] = {0, 0, 0, DNS_RCODE_FORMERR, DNS_RCODE_BADVERS, 0};
	unsigned char q[512], in[4096], ref[8192], out[8192], bad[512];
	size_t qlen, len = 0, ref_len, out_len, k, cuts[4096], p = 0, nrep = 0, l, blen;
	ssize_t last, r;

	(void)state;
	qlen = make_query(q, 1, FLAG_RD, "Tcp.Example", DNS_TYPE_A, DNS_CLASS_IN, -1, false);
	len += frame(in + len, q, qlen);
	qlen = make_query(q, 2, FLAG_RD, "tcp.example", DNS_TYPE_AAAA, DNS_CLASS_IN, 4096, true);
	len += frame(in + len, q, qlen);
	len += frame(in + len, dig_a, sizeof(dig_a));
	qlen = make_query(q, 3, FLAG_RD, "x.test", DNS_TYPE_A, DNS_CLASS_IN, -1, false);
	put16(q + 4, 2);
	len += frame(in + len, q, qlen); /* FORMERR, and the connection goes on */
	len += frame(in + len, dig_edns1, sizeof(dig_edns1));
	len += frame(in + len, node_aaaa, sizeof(node_aaaa));

	ref_len = tcp_play(in, len, NULL, 0, ref, sizeof(ref), &last);
	assert_int_equal(last, 0);
	/* six replies, each framed, each answering its query */
	while (p < ref_len) {
		l = get16(ref + p);

		assert_true(p + 2 + l <= ref_len);
		assert_int_equal(reply_rcode(ref + p + 2, l), rcodes[nrep]);
		p += 2 + l;
		nrep++;
	}
	assert_int_equal(nrep, 6);
	assert_int_equal(get16(ref + 2), 1);
	/* TCP has no 512 limit; the client's EDNS size does not matter either */
	assert_int_equal(get16(ref + 2 + 2) & FLAG_TC, 0);

	/* cut once at every byte */
	for (k = 1; k < len; k++) {
		memset(out, 0, sizeof(out));
		out_len = tcp_play(in, len, &k, 1, out, sizeof(out), &last);
		assert_int_equal(last, 0);
		assert_int_equal(out_len, ref_len);
		assert_memory_equal(out, ref, ref_len);
	}
	/* one byte at a time */
	for (k = 0; k < len; k++)
		cuts[k] = k + 1;
	out_len = tcp_play(in, len, cuts, len - 1, out, sizeof(out), &last);
	assert_int_equal(out_len, ref_len);
	assert_memory_equal(out, ref, ref_len);

	/* no room for a reply: nothing consumed; room for one: one consumed */
	out_len = 0;
	assert_int_equal(dns_tcp_feed(t, in, len, out, 1 + DNS_REPLY_MAX, &out_len), 0);
	assert_int_equal(out_len, 0);
	r = dns_tcp_feed(t, in, len, out, 2 + DNS_REPLY_MAX + 10, &out_len);
	assert_int_equal(r, 2 + get16(in));
	assert_int_equal(out_len, 2 + get16(ref));
	out_len = 5000;
	assert_int_equal(dns_tcp_feed(t, in, len, out, 4000, &out_len), 0);

	/* unacceptable frames close the connection, after the replies to those before them */
	blen = frame(bad, dig_a, sizeof(dig_a));
	put16(bad + blen, 0);
	out_len = 0;
	assert_int_equal(dns_tcp_feed(t, bad, blen + 2, out, sizeof(out), &out_len), blen);
	assert_int_equal(dns_tcp_feed(t, bad + blen, 2, out, sizeof(out), &out_len), -DNS_E_FRAME);
	put16(bad, DNS_TCP_QUERY_MAX + 1);
	assert_int_equal(dns_tcp_feed(t, bad, 2, out, sizeof(out), &out_len), -DNS_E_FRAME);
	put16(bad, DNS_TCP_QUERY_MAX);
	assert_int_equal(dns_tcp_feed(t, bad, 2, out, sizeof(out), &out_len), 0);
	put16(bad, 5);
	memset(bad + 2, 0, 5);
	assert_int_equal(dns_tcp_feed(t, bad, 7, out, sizeof(out), &out_len), -DNS_E_SHORT);
	blen = frame(bad, dig_a, sizeof(dig_a));
	bad[4] |= 0x80;
	assert_int_equal(dns_tcp_feed(t, bad, blen, out, sizeof(out), &out_len), -DNS_E_RESPONSE);
	assert_int_equal(dns_tcp_feed(t, bad, 1, out, sizeof(out), &out_len), 0);
	assert_int_equal(dns_tcp_feed(t, bad, 0, out, sizeof(out), &out_len), 0);
}

/* --- real resolvers on 127.0.0.1 ---------------------------------------------------------- */

static struct {
	int udp, lsn, stop[2];
	uint16_t port;
	pthread_t th;
	struct dns_table *t;
	char dir[64];
} srv = {.udp = -1, .lsn = -1, .stop = {-1, -1}};

static void write_all(int fd, const unsigned char *p, size_t n)
{
	ssize_t w;

	while (n) {
		w = write(fd, p, n);
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

static void serve_tcp(int c)
{
	static unsigned char in[8192], out[2048];
	struct pollfd pfd = {.fd = c, .events = POLLIN};
	size_t have = 0, out_len;
	ssize_t n, r;

	while (poll(&pfd, 1, 3000) == 1) {
		n = read(c, in + have, sizeof(in) - have);
		if (n <= 0)
			return;
		have += (size_t)n;
		for (;;) {
			out_len = 0;
			r = dns_tcp_feed(srv.t, in, have, out, sizeof(out), &out_len);
			write_all(c, out, out_len);
			if (r <= 0)
				break;
			memmove(in, in + r, have - (size_t)r);
			have -= (size_t)r;
		}
		if (r < 0)
			return;
	}
}

static void *serve(void *arg)
{
	static unsigned char in[65536], out[2048];
	struct pollfd p[3] = {{.fd = srv.udp, .events = POLLIN},
			      {.fd = srv.lsn, .events = POLLIN},
			      {.fd = srv.stop[0], .events = POLLIN}};
	struct sockaddr_storage from;
	socklen_t fl;
	ssize_t n, r;
	int c;

	(void)arg;
	for (;;) {
		if (poll(p, 3, -1) < 0)
			continue;
		if (p[2].revents)
			break;
		if (p[0].revents & POLLIN) {
			fl = sizeof(from);
			n = recvfrom(srv.udp, in, sizeof(in), 0, (struct sockaddr *)&from, &fl);
			if (n > 0) {
				r = dns_handle(srv.t, in, (size_t)n, out, sizeof(out),
					       DNS_EDNS_SIZE);
				if (r > 0)
					sendto(srv.udp, out, (size_t)r, 0, (struct sockaddr *)&from,
					       fl);
			}
		}
		if (p[1].revents & POLLIN) {
			c = accept(srv.lsn, NULL, NULL);
			if (c >= 0) {
				serve_tcp(c);
				close(c);
			}
		}
	}
	return NULL;
}

static int server_up(void **state)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof(a);
	int one = 1, tries;

	(void)state;
	srv.t = dns_table_new();
	if (!srv.t || pipe(srv.stop) == -1)
		return -1;
	for (tries = 0; tries < 50; tries++) {
		srv.udp = socket(AF_INET, SOCK_DGRAM, 0);
		srv.lsn = socket(AF_INET, SOCK_STREAM, 0);
		a.sin_port = 0;
		if (srv.udp < 0 || srv.lsn < 0 || bind(srv.udp, (struct sockaddr *)&a, al) == -1 ||
		    getsockname(srv.udp, (struct sockaddr *)&a, &al) == -1)
			return -1;
		setsockopt(srv.lsn, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(srv.lsn, (struct sockaddr *)&a, al) == 0 && listen(srv.lsn, 8) == 0)
			break;
		close(srv.udp);
		close(srv.lsn);
		srv.udp = srv.lsn = -1;
	}
	if (srv.lsn < 0)
		return -1;
	srv.port = ntohs(a.sin_port);
	snprintf(srv.dir, sizeof(srv.dir), "/tmp/dns_test.XXXXXX");
	if (!mkdtemp(srv.dir))
		return -1;
	return pthread_create(&srv.th, NULL, serve, NULL) == 0 ? 0 : -1;
}

static int server_down(void **state)
{
	static const char *const files[] = {"client.py", "client.js"};
	char path[128];
	size_t i;

	(void)state;
	if (write(srv.stop[1], "x", 1) == 1)
		pthread_join(srv.th, NULL);
	close(srv.udp);
	close(srv.lsn);
	close(srv.stop[0]);
	close(srv.stop[1]);
	dns_table_free(srv.t);
	for (i = 0; i < N(files); i++) {
		snprintf(path, sizeof(path), "%s/%s", srv.dir, files[i]);
		unlink(path);
	}
	return srv.dir[0] && rmdir(srv.dir) == -1 ? -1 : 0;
}

static bool have_program(const char *name)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", name);
	return system(cmd) == 0;
}

/* Runs a shell command and returns its output (and stderr) in a static buffer. */
static const char *run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const char *run(const char *fmt, ...)
{
	static char out[16384];
	char cmd[1024];
	va_list ap;
	FILE *f;
	size_t n;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	f = popen(cmd, "r");
	assert_non_null(f);
	n = fread(out, 1, sizeof(out) - 1, f);
	out[n] = '\0';
	pclose(f);
	return out;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

/* addr (text) must be synthetic and stand for name. */
static void expect_maps(const char *addr, const char *name)
{
	unsigned char a[16];
	char buf[256];
	int family = strchr(addr, ':') ? AF_INET6 : AF_INET;

	if (inet_pton(family, addr, a) != 1)
		fail_msg("not an address: \"%s\"", addr);
	assert_true(dns_is_synthetic(family, a));
	assert_int_equal(dns_table_name(srv.t, family, a, buf, sizeof(buf)), 0);
	assert_string_equal(buf, name);
}

static void expect_in(const char *out, const char *want)
{
	if (!strstr(out, want))
		fail_msg("\"%s\" not in:\n%s", want, out);
}

static void expect_not_in(const char *out, const char *what)
{
	if (strstr(out, what))
		fail_msg("\"%s\" in:\n%s", what, out);
}

/* The first line of out, trimmed, in a static buffer. */
static const char *first_line(const char *out)
{
	static char line[256];
	size_t n = strcspn(out, "\r\n");

	if (n >= sizeof(line))
		n = sizeof(line) - 1;
	memcpy(line, out, n);
	line[n] = '\0';
	return line;
}

#define DIG "dig @127.0.0.1 -p %u +tries=1 +time=3 "

static void test_dig(void **state)
{
	const char *out;
	char addr4[256];

	(void)state;
	if (!have_program("dig")) {
		print_message("dig not installed (Debian: bind9-dnsutils); skipping\n");
		skip();
	}
	out = run(DIG "Dig.Example.COM A 2>&1", srv.port);
	expect_in(out, "status: NOERROR");
	expect_in(out, "flags: qr aa rd ra;");
	expect_in(out, "ANSWER: 1,");
	expect_in(out, "; EDNS: version: 0, flags:; udp: 1232");
	expect_in(out, "Dig.Example.COM.\t60\tIN\tA\t198.1");
	expect_not_in(out, "WARNING");
	expect_not_in(out, "Warning");
	expect_not_in(out, "malformed");

	snprintf(addr4, sizeof(addr4), "%s",
		 first_line(run(DIG "+short dig.example.com A", srv.port)));
	expect_maps(addr4, "dig.example.com");
	expect_maps(first_line(run(DIG "+short +tcp DIG.example.com AAAA", srv.port)),
		    "dig.example.com");
	/* stable, over UDP and TCP, and without EDNS */
	assert_string_equal(first_line(run(DIG "+short +tcp dig.example.com A", srv.port)), addr4);
	assert_string_equal(first_line(run(DIG "+short +noedns dig.example.com", srv.port)), addr4);

	out = run(DIG "+tcp +dnssec dig.example.com AAAA 2>&1", srv.port);
	expect_in(out, "status: NOERROR");
	expect_in(out, "; EDNS: version: 0, flags: do; udp: 1232");
	expect_in(out, "\t60\tIN\tAAAA\tfd42:b0d:53::");

	out = run(DIG "dig.example.com HTTPS 2>&1", srv.port);
	expect_in(out, "status: NOERROR");
	expect_in(out, "ANSWER: 0,");
	out = run(DIG "+noedns _443._tcp.dig.example.com SVCB 2>&1", srv.port);
	expect_in(out, "status: NOERROR");
	expect_in(out, "ANSWER: 0,");
	expect_not_in(out, "OPT PSEUDOSECTION");
	out = run(DIG "-x 198.18.0.1 2>&1", srv.port);
	expect_in(out, "status: NOERROR");
	out = run(DIG "+notcp dig.example.com ANY 2>&1", srv.port);
	expect_in(out, "status: NOERROR");
	out = run(DIG "-c CH version.bind TXT 2>&1", srv.port);
	expect_in(out, "status: REFUSED");
	out = run(DIG "+edns=1 +noednsnegotiation dig.example.com 2>&1", srv.port);
	expect_in(out, "status: BADVERS");
	/* dig's own BADVERS dance ends at version 0 */
	out = run(DIG "+edns=1 dig.example.com 2>&1", srv.port);
	expect_in(out, "status: NOERROR");
	out = run(DIG ". NS 2>&1", srv.port);
	expect_in(out, "status: NOERROR");
	expect_in(out, "ANSWER: 0,");
}

static const char python_client[] =
    "import random, socket, struct, sys\n"
    "port = int(sys.argv[1])\n"
    "def query(name, qtype, qid):\n"
    "    h = struct.pack('>HHHHHH', qid, 0x0100, 1, 0, 0, 0)\n"
    "    w = b''.join(bytes([len(l)]) + l.encode() for l in name.split('.')) + b'\\0'\n"
    "    return h + w + struct.pack('>HH', qtype, 1)\n"
    "def check(q, r):\n"
    "    qid, fl, qd, an, ns, ar = struct.unpack('>HHHHHH', r[:12])\n"
    "    assert qid == struct.unpack('>H', q[:2])[0], 'id'\n"
    "    assert fl == 0x8580, hex(fl)\n"
    "    assert (qd, an, ns, ar) == (1, 1, 0, 0), (qd, an, ns, ar)\n"
    "    assert r[12:len(q)] == q[12:], 'question'\n"
    "    o, t, c, ttl, n = struct.unpack('>HHHIH', r[len(q):len(q) + 12])\n"
    "    assert (o, c, ttl) == (0xc00c, 1, 60) and t == struct.unpack('>H', q[-4:-2])[0]\n"
    "    assert len(r) == len(q) + 12 + n\n"
    "    fam = socket.AF_INET if n == 4 else socket.AF_INET6\n"
    "    return socket.inet_ntop(fam, r[len(q) + 12:])\n"
    "u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
    "u.settimeout(3)\n"
    "got = {}\n"
    "for name in ('Py.Example.ORG', 'pY.eXaMpLe.org', 'py.example.org'):\n"
    "    for t in (1, 28):\n"
    "        q = query(name, t, random.randrange(65536))\n"
    "        u.sendto(q, ('127.0.0.1', port))\n"
    "        a = check(q, u.recvfrom(4096)[0])\n"
    "        assert got.setdefault(t, a) == a, (name, a, got[t])\n"
    "        print('udp', name.lower(), t, a)\n"
    "s = socket.create_connection(('127.0.0.1', port), timeout=3)\n"
    "s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)\n"
    "qs = [query('py.example.org', 1, 7), query('tcp.example.org', 28, 8)]\n"
    "stream = b''.join(struct.pack('>H', len(q)) + q for q in qs)\n"
    "for i in range(len(stream)):\n"
    "    s.send(stream[i:i + 1])\n"
    "buf = b''\n"
    "for q in qs:\n"
    "    while len(buf) < 2 or len(buf) < 2 + struct.unpack('>H', buf[:2])[0]:\n"
    "        d = s.recv(4096)\n"
    "        assert d, 'eof'\n"
    "        buf += d\n"
    "    n = struct.unpack('>H', buf[:2])[0]\n"
    "    a = check(q, buf[2:2 + n])\n"
    "    buf = buf[2 + n:]\n"
    "    print('tcp', 'py.example.org' if q[1] == 7 else 'tcp.example.org', 0, a)\n"
    "print('done')\n";

static void test_python(void **state)
{
	char path[128], proto[8], name[128], addr[64];
	const char *out, *line;
	int type, lines = 0;

	(void)state;
	if (!have_program("python3")) {
		print_message("python3 not installed (Debian: python3); skipping\n");
		skip();
	}
	snprintf(path, sizeof(path), "%s/client.py", srv.dir);
	write_file(path, python_client);
	out = run("python3 %s %u 2>&1", path, srv.port);
	expect_in(out, "\ndone\n");
	for (line = out; *line; line = strchr(line, '\n') + 1) {
		if (sscanf(line, "%7s %127s %d %63s", proto, name, &type, addr) == 4) {
			expect_maps(addr, name);
			lines++;
		}
		if (!strchr(line, '\n'))
			break;
	}
	assert_int_equal(lines, 8);
}

static const char node_client[] =
    "const { Resolver } = require('dns').promises;\n"
    "const r = new Resolver({ timeout: 3000, tries: 1 });\n"
    "r.setServers(['127.0.0.1:' + process.argv[2]]);\n"
    "(async () => {\n"
    "  const a = await r.resolve4('Node.Example.NET', { ttl: true });\n"
    "  console.log('A ' + a.length + ' ' + a[0].address + ' ' + a[0].ttl);\n"
    "  const b = await r.resolve6('node.example.net', { ttl: true });\n"
    "  console.log('AAAA ' + b.length + ' ' + b[0].address + ' ' + b[0].ttl);\n"
    "  const c = await r.resolve4('NODE.example.net');\n"
    "  console.log('again ' + c[0]);\n"
    "  for (const f of ['resolveTxt', 'resolveMx', 'resolveSrv']) {\n"
    "    try { await r[f]('node.example.net'); console.log(f + ' answered'); }\n"
    "    catch (e) { console.log(f + ' ' + e.code); }\n"
    "  }\n"
    "})().catch((e) => { console.log('error ' + e.code + ' ' + e.message); process.exit(1); });\n";

static void test_node(void **state)
{
	char path[128], a4[64], a6[64], again[64];
	const char *out, *p;
	int ttl4 = 0, ttl6 = 0;

	(void)state;
	if (!have_program("node")) {
		print_message("node not installed (Debian: nodejs); skipping\n");
		skip();
	}
	snprintf(path, sizeof(path), "%s/client.js", srv.dir);
	write_file(path, node_client);
	out = run("node %s %u 2>&1", path, srv.port);
	p = strstr(out, "A 1 ");
	if (!p || sscanf(p, "A 1 %63s %d", a4, &ttl4) != 2)
		fail_msg("node: %s", out);
	p = strstr(out, "AAAA 1 ");
	if (!p || sscanf(p, "AAAA 1 %63s %d", a6, &ttl6) != 2)
		fail_msg("node: %s", out);
	p = strstr(out, "again ");
	if (!p || sscanf(p, "again %63s", again) != 1)
		fail_msg("node: %s", out);
	expect_maps(a4, "node.example.net");
	expect_maps(a6, "node.example.net");
	assert_string_equal(again, a4);
	assert_int_equal(ttl4, DNS_TTL);
	assert_int_equal(ttl6, DNS_TTL);
	/* NODATA, as c-ares names it */
	expect_in(out, "resolveTxt ENODATA");
	expect_in(out, "resolveMx ENODATA");
	expect_in(out, "resolveSrv ENODATA");
}

/* --- names that carry a secret's placeholder (dns_name_secret) --------------------------------- */

static void test_name_secret(void **state)
{
	struct secret sec[2];
	char hex[128], name[300];
	const char *ph = "boundary-secret-api_token-0123456789abcdef0123456789abcdef";
	size_t i;

	(void)state;
	memset(sec, 0, sizeof(sec));
	snprintf(sec[0].name, sizeof(sec[0].name), "K");
	snprintf(sec[0].placeholder, sizeof(sec[0].placeholder),
		 "boundary-secret-K-fedcba9876543210fedcba9876543210");
	sec[0].placeholder_len = strlen(sec[0].placeholder);
	snprintf(sec[1].name, sizeof(sec[1].name), "API_TOKEN");
	/* upper case, as the environment has it; a query's name comes lower-cased */
	snprintf(sec[1].placeholder, sizeof(sec[1].placeholder),
		 "boundary-secret-API_TOKEN-0123456789abcdef0123456789abcdef");
	sec[1].placeholder_len = strlen(sec[1].placeholder);
	for (i = 0; ph[i]; i++)
		snprintf(hex + 2 * i, 3, "%02x", (unsigned char)ph[i]);
	snprintf(name, sizeof(name), "%s.leak.test", ph);
	assert_int_equal(dns_name_secret(sec, 2, name), 1);
	/* hex in two labels of 58, under the exfiltrator's domain, after a label of its own */
	snprintf(name, sizeof(name), "a.%.58s.%s.leak.test", hex, hex + 58);
	assert_int_equal(dns_name_secret(sec, 2, name), 1);
	/* base32 (lower case, unpadded) in two labels */
	assert_int_equal(dns_name_secret(sec, 2,
					 "mjxxk3temfzhslltmvrxezlufvavask7krhuwrkofuydcmrt."
					 "gq2tmnzyhfqwey3emvtdamjsgm2dknrxha4wcytdmrswm.leak.test"),
			 1);
	/* percent-encoded, in one label */
	assert_int_equal(
	    dns_name_secret(sec, 2, "%62oundary-secret-k-fedcba9876543210fedcba9876543210.x"), 0);
	/* ordinary names, the root, and no secrets at all */
	assert_int_equal(dns_name_secret(sec, 2, "www.example.com"), -1);
	assert_int_equal(dns_name_secret(sec, 2, ""), -1);
	assert_int_equal(dns_name_secret(sec, 0, ph), -1);
	/* one hex digit short: not a placeholder */
	snprintf(name, sizeof(name), "%.58s.%.57s.leak.test", hex, hex + 58);
	assert_int_equal(dns_name_secret(sec, 2, name), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_a_bytes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_aaaa_edns_bytes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_dig_query, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_other_types_nodata, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_no_v6, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_root, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_mixed_case, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_table_stable, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_table_edges, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_table_not_synthetic, setup, teardown),
	    cmocka_unit_test(test_lru),
	    cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_opt, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_truncation, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tcp, setup, teardown),
	};
	const struct CMUnitTest resolvers[] = {
	    cmocka_unit_test_setup_teardown(test_real_addresses, setup, teardown),
	    cmocka_unit_test(test_dig),
	    cmocka_unit_test(test_python),
	    cmocka_unit_test(test_node),
	    cmocka_unit_test(test_name_secret),
	};
	int failed;

	failed = cmocka_run_group_tests(tests, NULL, NULL);
	failed += cmocka_run_group_tests_name("resolvers", resolvers, server_up, server_down);
	return failed;
}
