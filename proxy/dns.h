/* SPDX-License-Identifier: MIT */
/*
 * dns.h: boundary's own DNS responder, the only DNS a jailed program can reach. It parses one
 * query (strictly), answers A and AAAA with a synthetic address that stands for the name for
 * the jail's life, and everything else with a well-formed empty answer, so a later connection
 * to that address can be tied back to the name and no query ever leaves the machine. It owns
 * the name <-> address table and the UDP and TCP (length-prefixed) wire formats; it does not
 * own sockets, logging of queries, audit records or the decision to allow a connection.
 */
#ifndef BOUNDARY_PROXY_DNS_H
#define BOUNDARY_PROXY_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct secret;

/* Error codes, returned negated (-DNS_E_COUNT). dns_strerror() names each. */
enum dns_err {
	DNS_E_SHORT = 1,  /* shorter than a header: no reply possible */
	DNS_E_RESPONSE,	  /* QR set: a response, never answered (no reply loops) */
	DNS_E_NOTIMP,	  /* an opcode other than QUERY */
	DNS_E_TRUNCATED,  /* the message ends inside the question or the OPT record */
	DNS_E_COUNT,	  /* QDCOUNT not 1, answer or authority records, ARCOUNT > 1 */
	DNS_E_LABEL,	  /* a label of 64 bytes or more (the reserved label types) */
	DNS_E_POINTER,	  /* a compression pointer in the question */
	DNS_E_NAME_LONG,  /* a name longer than 255 bytes on the wire */
	DNS_E_OPT,	  /* the additional record is not a well-formed OPT */
	DNS_E_BADVERS,	  /* an OPT record with an EDNS version other than 0 */
	DNS_E_TRAILING,	  /* bytes after the last record */
	DNS_E_NAME_CHARS, /* a byte in the name that is not printable ASCII, or '.' in a label */
	DNS_E_FRAME,	  /* TCP: a length prefix of 0 or above DNS_TCP_QUERY_MAX */
};

/* rcodes the responder sends (RFC 1035 4.1.1; BADVERS is RFC 6891's extended rcode 16). */
#define DNS_RCODE_NOERROR  0
#define DNS_RCODE_FORMERR  1
#define DNS_RCODE_SERVFAIL 2
#define DNS_RCODE_NXDOMAIN 3
#define DNS_RCODE_NOTIMP   4
#define DNS_RCODE_REFUSED  5
#define DNS_RCODE_BADVERS  16

#define DNS_TYPE_A     1
#define DNS_TYPE_AAAA  28
#define DNS_TYPE_OPT   41
#define DNS_TYPE_SVCB  64
#define DNS_TYPE_HTTPS 65
#define DNS_TYPE_IXFR  251
#define DNS_TYPE_AXFR  252
#define DNS_CLASS_IN   1

/* The longest name in text form (RFC 1035: 255 wire bytes make 253 characters). */
#define DNS_NAME_MAX 253
/* The TTL of every synthetic answer, in seconds. */
#define DNS_TTL 60
/* The UDP payload size advertised in our OPT record and the most we send over UDP (RFC 9715). */
#define DNS_EDNS_SIZE 1232
/* Every reply this module builds fits in this many bytes (the largest is 310). */
#define DNS_REPLY_MAX 512
/* The longest query accepted on TCP; a longer length prefix is DNS_E_FRAME. */
#define DNS_TCP_QUERY_MAX 4096
/* Table capacity: 131000 names, indexes 1..131000 (198.18.0.1 to 198.19.255.184). */
#define DNS_TABLE_CAP 131000

/*
 * The name <-> synthetic address table. Addresses come from 198.18.0.0/15 (RFC 2544's
 * benchmarking range, never routed) and fd42:b0d:53::/64: index i is 198.18.0.0 + i and
 * fd42:b0d:53::i (the low 64 bits are i), so a name's v4 and v6 addresses carry the same index.
 * Index 0 and the indexes above DNS_TABLE_CAP are never used. When all DNS_TABLE_CAP indexes are
 * taken, the least recently used mapping (by dns_table_addr or dns_table_name) is recycled for
 * the new name, and its old address from then on stands for the new name. Thread-safe: one
 * mutex guards the whole table. Lookups hash names with a per-table random SipHash key, so a
 * jailed program cannot make names collide on purpose. Memory: about 36 MB reserved, touched
 * only as names arrive.
 */
struct dns_table;

/* Returns a new, empty table, or NULL with errno set (ENOMEM, or getrandom(2)'s error). */
struct dns_table *dns_table_new(void);

/* Frees t; NULL is fine. */
void dns_table_free(struct dns_table *t);

/*
 * Whether AAAA queries get a synthetic address (the default) or no records (NODATA): off for a
 * jail with no IPv6 loopback to send them to (a Docker container, whose namespace has IPv6
 * disabled), so that a client does not try an address it cannot connect to.
 */
void dns_table_set_v6(struct dns_table *t, bool on);

/*
 * The synthetic addresses for name (no trailing dot, 1..DNS_NAME_MAX bytes, ASCII upper case
 * folded to lower), made on first use and marked most recently used. Either v4 (network order)
 * or v6 may be NULL. Returns 0, or -EINVAL for a name that is empty, longer than DNS_NAME_MAX,
 * has an empty label or one over 63 bytes, or holds a byte outside 0x21..0x7e. Takes the lock;
 * never allocates.
 */
int dns_table_addr(struct dns_table *t, const char *name, uint32_t *v4, unsigned char v6[16]);

/* How many real address -> name pairs the table keeps (a power of two). */
#define DNS_REAL_CAP 4096

/*
 * Records that a real answer (--use-real-dns) gave addr (as for dns_table_name) for name, so a
 * later connection to addr is tied back to name as one to a synthetic address is. About the
 * latest DNS_REAL_CAP pairs are kept; when names share an address, the newest wins. Returns 0,
 * -EINVAL for a bad name or a synthetic addr, -EAFNOSUPPORT, or -ENOMEM (the first call
 * allocates about 1 MB).
 */
int dns_table_note(struct dns_table *t, int family, const void *addr, const char *name);

/*
 * The name addr stands for (family AF_INET: addr points at 4 bytes in network order, AF_INET6:
 * 16 bytes), copied NUL-terminated into buf[0..len): a synthetic address's name (then marked
 * most recently used), or the name noted for a real one by dns_table_note(). Returns 0, -ENOENT
 * for an address that is not (or no longer) mapped, -EAFNOSUPPORT for another family, or
 * -ENOSPC when buf cannot hold the name and its NUL.
 */
int dns_table_name(struct dns_table *t, int family, const void *addr, char *buf, size_t len);

/* True if addr (as for dns_table_name) is inside 198.18.0.0/15 or fd42:b0d:53::/64. */
bool dns_is_synthetic(int family, const void *addr);

/*
 * One parsed query. name is the question's name in text form, ASCII lower-cased, without the
 * trailing dot, "" for the root. rd and cd are the query's RD and CD flags, echoed in replies.
 * question_len is the question's wire length (name, type and class), starting at offset 12 of
 * the message, and 0 when the question was not parsed. edns_size is the client's UDP payload
 * size as sent (0 without EDNS).
 */
struct dns_query {
	char name[DNS_NAME_MAX + 1];
	uint16_t id, qtype, qclass;
	bool rd, cd;
	bool edns;
	uint16_t edns_size;
	bool do_bit;
	uint8_t opcode;
	size_t question_len;
};

/*
 * Parses the query msg[0..len) (one whole message, no TCP length prefix). Accepts exactly:
 * QR 0, opcode QUERY, QDCOUNT 1, ANCOUNT 0, NSCOUNT 0, ARCOUNT 0 or 1; a question name of
 * labels of 1..63 bytes, at most 255 bytes on the wire, with no compression pointer, every byte
 * printable ASCII (0x21..0x7e) other than '.'; if ARCOUNT is 1, an OPT record owned by the root
 * whose options exactly fill its RDATA; nothing after. The flags AA, TC, Z, AD and the rcode
 * field of a query are ignored. Returns:
 *  - > 0: len (the message is exactly consumed); *q is filled.
 *  - -DNS_E_*: the message is refused. From DNS_E_NOTIMP on, the header was read and q->id,
 *    opcode, rd and cd are set, so an error answer can be sent; q->question_len is set when the
 *    question was read (always for DNS_E_NAME_CHARS, DNS_E_OPT, DNS_E_BADVERS, DNS_E_TRAILING),
 *    and q->edns, edns_size and do_bit when an OPT record was read (always for DNS_E_BADVERS).
 * Never 0: a datagram is whole. Reads nothing outside msg[0..len).
 */
ssize_t dns_parse_query(const unsigned char *msg, size_t len, struct dns_query *q);

/*
 * The rcode to answer a dns_parse_query() error with: FORMERR for a malformed message,
 * NOTIMP, REFUSED for DNS_E_NAME_CHARS, BADVERS; -1 for no reply at all (DNS_E_SHORT,
 * DNS_E_RESPONSE, DNS_E_FRAME).
 */
int dns_err_rcode(int err);

/*
 * Builds into out[0..cap) the answer to q, parsed from msg by dns_parse_query(), with replies
 * no longer than limit bytes (the caller's transport limit; dns_handle() works out UDP's):
 *  - class other than IN: REFUSED; qtype AXFR or IXFR: REFUSED.
 *  - A or AAAA for a name other than the root: NOERROR, one A (or AAAA) record with the
 *    synthetic address from t, TTL DNS_TTL, its owner a pointer to the question; SERVFAIL if the
 *    table fails.
 *  - any other type (HTTPS and SVCB included, so clients try neither ECH nor QUIC), and A or
 *    AAAA for the root: NOERROR with no records (NODATA).
 * Names of any printable characters are answered, not only host names: they become no more
 * reachable than any other name, since the proxy decides on the name. Every answer echoes the
 * id, RD, CD and the question bytes exactly as sent (case preserved, for 0x20 randomisation),
 * and sets QR, AA and RA; with EDNS in the query it ends with an OPT record (payload size
 * DNS_EDNS_SIZE, DO echoed). When the whole answer exceeds limit, the records are dropped and
 * TC is set. Returns the length, or -ENOSPC when cap (or limit) cannot hold even the truncated
 * answer.
 */
ssize_t dns_answer(struct dns_table *t, const struct dns_query *q, const unsigned char *msg,
		   unsigned char *out, size_t cap, size_t limit);

/*
 * Builds into out[0..cap) an answer carrying rcode (a DNS_RCODE_*) and no records for a query
 * dns_parse_query() refused after reading its header: id, opcode, RD and CD echoed, QR and RA
 * set; the question msg[12..12 + q->question_len) copied when question_len is not 0; an OPT
 * record when q->edns (required for BADVERS, whose upper bits travel in it). Returns the
 * length, or -ENOSPC.
 */
ssize_t dns_error_answer(const struct dns_query *q, const unsigned char *msg, size_t msg_len,
			 int rcode, unsigned char *out, size_t cap);

/*
 * Answers one UDP datagram msg[0..len) into out[0..cap) (cap >= DNS_REPLY_MAX always suffices).
 * The reply is at most 512 bytes without EDNS, else at most the client's payload size clamped
 * to 512..DNS_EDNS_SIZE, and never more than udp_limit. Returns the reply's length, 0 for no
 * reply (a response, or fewer bytes than a header), or -ENOSPC.
 */
ssize_t dns_handle(struct dns_table *t, const unsigned char *msg, size_t len, unsigned char *out,
		   size_t cap, size_t udp_limit);

/*
 * TCP framing (RFC 1035 4.2.2, RFC 7766): reads the length-prefixed queries at in[0..len) and
 * appends a length-prefixed reply for each to out[*out_len..cap), advancing *out_len. Stops
 * before a query that is incomplete or whose reply might not fit (a caller with
 * 2 + DNS_REPLY_MAX bytes free always progresses). Returns the bytes consumed (whole frames;
 * the caller drops them and keeps the rest), 0 when nothing could be consumed, or, when the
 * first frame is unacceptable, -DNS_E_FRAME (length 0 or above DNS_TCP_QUERY_MAX),
 * -DNS_E_SHORT or -DNS_E_RESPONSE: the caller closes the connection. Queries refused by the
 * parser get their error answer and the connection goes on.
 */
ssize_t dns_tcp_feed(struct dns_table *t, const unsigned char *in, size_t len, unsigned char *out,
		     size_t cap, size_t *out_len);

/*
 * Returns a static sentence for err (positive or negated), "unknown DNS error" for a code that
 * is not one of enum dns_err.
 */
const char *dns_strerror(int err);

/* The mnemonic of a query type ("A", "AAAA", "HTTPS", ...), or NULL for one not listed. */
const char *dns_type_name(uint16_t qtype);

/*
 * The secret (an index into s[0..n), secret.h) whose placeholder name (a dns_query's: lower case,
 * no trailing dot) carries, or -1: looked for by secret_find_encoded() in the labels joined
 * without dots (an exfiltrator splits a long encoding across labels) and in each label alone.
 * Pure; never allocates.
 */
ssize_t dns_name_secret(const struct secret *s, size_t n, const char *name);

#endif /* BOUNDARY_PROXY_DNS_H */
