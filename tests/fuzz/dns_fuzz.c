// SPDX-License-Identifier: MIT
/*
 * dns_fuzz.c: libFuzzer target for the DNS responder: the query parser, the answer writers,
 * UDP size limits and TCP framing, over a small table so recycling happens too.
 *
 * Input: one UDP datagram, also read as a TCP byte stream. Invariants checked, beyond "no
 * crash, no leak, no UB": dns_handle() replies exactly when the parser gives an rcode, and the
 * reply is a well-formed response (header, question, records and OPT exactly filling it) with
 * the query's id, opcode and RD, the question byte for byte whenever it was read, and never more
 * than the UDP limit; an A or AAAA answer holds a synthetic address that maps back to the name;
 * dns_tcp_feed() consumes whole frames only, and the replies it writes do not depend on how
 * the stream was cut. The same bytes are also read as the host resolver's answer to a query
 * forwarded for --use-real-dns (dns_fwd_addrs(), over c-ares's parser): every address taken
 * from it is in the message.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../proxy/dns.c"
#include "proxy/dnsfwd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Skips the name at r[*pos..len), pointers allowed backwards only; false if malformed. */
static bool skip_name(const unsigned char *r, size_t len, size_t *pos)
{
	size_t p = *pos;
	unsigned c;

	for (;;) {
		if (p >= len)
			return false;
		c = r[p];
		if ((c & 0xc0) == 0xc0) {
			if (p + 1 >= len || (size_t)((c & 0x3f) << 8 | r[p + 1]) >= p)
				return false;
			*pos = p + 2;
			return true;
		}
		if (c & 0xc0)
			return false;
		p += 1 + c;
		if (c == 0)
			break;
	}
	if (p > len)
		return false;
	*pos = p;
	return true;
}

/* The rcode of a well-formed reply, with the upper bits from its OPT record if any. */
static int reply_rcode_of(const unsigned char *r, size_t len)
{
	int rcode = r[3] & 0xf;

	if (get16(r + 10) == 1 && r[len - OPT_LEN] == 0 &&
	    get16(r + len - OPT_LEN + 1) == DNS_TYPE_OPT)
		rcode |= r[len - OPT_LEN + 5] << 4;
	return rcode;
}

/*
 * Checks that r[0..len) is a well-formed reply to msg (whose parse gave ret and *q). An
 * answered address must be synthetic, and when t is not NULL, map back to the name.
 */
static void check_reply(struct dns_table *t, const unsigned char *r, size_t len,
			const unsigned char *msg, ssize_t ret, const struct dns_query *q)
{
	size_t pos = HDR_LEN, i, rdlen, ancount, arcount, start;
	uint16_t type;
	char name[DNS_NAME_MAX + 1];
	int family;

	if (len < HDR_LEN || len > DNS_REPLY_MAX)
		abort();
	if (get16(r) != q->id || !(r[2] & 0x80) || ((r[2] >> 3) & 0xf) != q->opcode ||
	    (r[2] & 1) != q->rd)
		abort();
	if (get16(r + 4) > 1 || get16(r + 6) > 1 || get16(r + 8) != 0 || get16(r + 10) > 1)
		abort();
	/* the question, as sent, whenever the parser read it */
	if (get16(r + 4) != (q->question_len ? 1 : 0))
		abort();
	if (q->question_len) {
		if (len < HDR_LEN + q->question_len ||
		    memcmp(r + HDR_LEN, msg + HDR_LEN, q->question_len) != 0)
			abort();
		pos += q->question_len;
	}
	ancount = get16(r + 6);
	arcount = get16(r + 10);
	if (ancount && (ret < 0 || (r[3] & 0xf) != 0))
		abort();
	for (i = 0; i < ancount + arcount; i++) {
		start = pos;
		if (!skip_name(r, len, &pos) || len - pos < 10)
			abort();
		type = get16(r + pos);
		rdlen = get16(r + pos + 8);
		pos += 10;
		if (len - pos < rdlen)
			abort();
		if (i < ancount) {
			if (type != q->qtype || get16(r + pos - 8) != DNS_CLASS_IN)
				abort();
			if (!((type == DNS_TYPE_A && rdlen == 4) ||
			      (type == DNS_TYPE_AAAA && rdlen == 16)))
				abort();
			family = rdlen == 4 ? AF_INET : AF_INET6;
			if (!q->name[0] || addr_to_index(family, r + pos) == 0 ||
			    addr_to_index(family, r + pos) > DNS_TABLE_CAP)
				abort();
			if (t && (dns_table_name(t, family, r + pos, name, sizeof(name)) != 0 ||
				  strcmp(name, q->name) != 0))
				abort();
		} else if (type != DNS_TYPE_OPT || pos - 10 != start + 1 || rdlen != 0) {
			abort();
		}
		pos += rdlen;
	}
	if (pos != len)
		abort();
}

static void fuzz_udp(struct dns_table *t, const uint8_t *data, size_t size, size_t udp_limit)
{
	unsigned char out[2048];
	struct dns_query q;
	ssize_t ret, r;
	size_t limit;

	ret = dns_parse_query(data, size, &q);
	if (ret == 0 || (ret > 0 && (size_t)ret != size))
		abort();
	if (ret < 0 && (q.name[0] && ret == -DNS_E_NAME_CHARS))
		abort();
	r = dns_handle(t, data, size, out, sizeof(out), udp_limit);
	/* RFC 6891: 512 without EDNS, else the client's size, at least 512; ours caps it at 1232 */
	limit = 512;
	if (q.edns && q.edns_size > 512)
		limit = q.edns_size < 1232 ? q.edns_size : 1232;
	if (limit > udp_limit)
		limit = udp_limit;
	if (r == -ENOSPC) {
		/* only when not even the header and question fit the limit */
		if (HDR_LEN + q.question_len + (q.edns ? OPT_LEN : 0) <= limit)
			abort();
		return;
	}
	if (r < 0)
		abort();
	if (r == 0) {
		if (ret > 0 || dns_err_rcode((int)ret) >= 0)
			abort();
		return;
	}
	if (ret < 0 && dns_err_rcode((int)ret) < 0)
		abort();
	if ((size_t)r > limit)
		abort();
	check_reply(t, out, (size_t)r, data, ret, &q);
	if (ret < 0) {
		if (reply_rcode_of(out, (size_t)r) != dns_err_rcode((int)ret))
			abort();
	} else if (q.qclass != 1 || q.qtype == 252 || q.qtype == 251) {
		if (reply_rcode_of(out, (size_t)r) != 5)
			abort();
	} else {
		/* NOERROR, with one answer exactly for A and AAAA of a name, unless truncated */
		if (reply_rcode_of(out, (size_t)r) != 0 || !(out[2] & 0x04))
			abort();
		if (!(out[2] & 0x02) &&
		    get16(out + 6) != ((q.qtype == 1 || q.qtype == 28) && q.name[0]))
			abort();
	}
}

static size_t tcp_run(struct dns_table *t, const uint8_t *data, size_t size, size_t step,
		      unsigned char *out, size_t cap)
{
	static unsigned char buf[65536 + 2];
	size_t have = 0, next = 0, out_len = 0, take;
	ssize_t r = 0;

	while (next < size || have) {
		take = size - next < step ? size - next : step;
		if (take > sizeof(buf) - have)
			take = sizeof(buf) - have;
		memcpy(buf + have, data + next, take);
		have += take;
		next += take;
		for (;;) {
			r = dns_tcp_feed(t, buf, have, out, cap, &out_len);
			if (r <= 0)
				break;
			if ((size_t)r > have)
				abort();
			memmove(buf, buf + r, have - (size_t)r);
			have -= (size_t)r;
		}
		if (r < 0 || (take == 0 && r == 0))
			break;
	}
	return out_len;
}

/*
 * The input as the host resolver's answer to a forwarded query (--use-real-dns): the addresses
 * dns_fwd_addrs() takes from it are at most max, and each is a record's data in the message.
 */
static void fuzz_forwarded(const uint8_t *data, size_t size)
{
	unsigned char addrs[16][16];
	size_t k, i;

	k = dns_fwd_addrs(data, size, AF_INET, addrs, 16);
	if (k > 16)
		abort();
	for (i = 0; i < k; i++)
		if (!memmem(data, size, addrs[i], 4))
			abort();
	k = dns_fwd_addrs(data, size, AF_INET6, addrs, 3);
	if (k > 3)
		abort();
	for (i = 0; i < k; i++)
		if (!memmem(data, size, addrs[i], 16))
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static unsigned char out1[1 << 20], out2[1 << 20];
	struct dns_table *t1, *t2;
	size_t len1, len2, pos, flen;
	struct dns_query q;
	ssize_t ret;

	t1 = table_new(16);
	t2 = table_new(16);
	if (!t1 || !t2)
		abort();

	/* the same calls on both tables keep them alike, for the TCP comparison below */
	fuzz_udp(t1, data, size, 65535);
	fuzz_udp(t2, data, size, 65535);
	fuzz_udp(t1, data, size, size > 2 ? 12 + (size_t)data[size - 1] * 2 : 512);
	fuzz_udp(t2, data, size, size > 2 ? 12 + (size_t)data[size - 1] * 2 : 512);
	fuzz_forwarded(data, size);

	/* TCP: the same replies whole and cut into pieces of a size the input picks */
	len1 = tcp_run(t1, data, size, size ? size : 1, out1, sizeof(out1));
	len2 = tcp_run(t2, data, size, size ? 1 + data[0] % 7 : 1, out2, sizeof(out2));
	if (len1 != len2 || memcmp(out1, out2, len1) != 0)
		abort();
	/* each reply answers the frame at the same position of the stream */
	for (pos = 0, len2 = 0; len2 < len1; len2 += 2 + flen) {
		if (len1 - len2 < 2)
			abort();
		flen = get16(out1 + len2);
		if (len1 - len2 - 2 < flen || size - pos < 2 || size - pos - 2 < get16(data + pos))
			abort();
		/* recycling may have moved the name since: no table check */
		ret = dns_parse_query(data + pos + 2, get16(data + pos), &q);
		check_reply(NULL, out1 + len2 + 2, flen, data + pos + 2, ret, &q);
		pos += 2 + get16(data + pos);
	}
	dns_table_free(t1);
	dns_table_free(t2);
	return 0;
}
