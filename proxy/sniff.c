// SPDX-License-Identifier: MIT
/*
 * sniff.c: protocol sniffing and the ClientHello reader. Owns the first-bytes classification
 * and the TLS record and ClientHello grammar (RFC 8446 sections 4.1.2 and 5.1, RFC 6066
 * section 3, RFC 7301). A ClientHello may be split across records, so it is read in two passes:
 * the first walks the record headers (and fails early on a bad one), the second reads the
 * handshake message through a cursor that steps over record headers, checking every length
 * against the block that encloses it. It does not own TLS termination or any buffer.
 */
#include "proxy/sniff.h"

#include <string.h>

#define REC_HDR 5
#define REC_MAX 16384 /* TLSPlaintext.length limit */
#define HS_HDR	4

#define EXT_SERVER_NAME 0x0000
#define EXT_ALPN	0x0010
#define EXT_ECH		0xfe0d

static const char *const messages[] = {
    [SNIFF_E_RECORD] = "not a TLS handshake record",
    [SNIFF_E_NOT_HELLO] = "the first TLS handshake message is not a ClientHello",
    [SNIFF_E_TOO_BIG] = "TLS ClientHello larger than 64 KiB",
    [SNIFF_E_TRAILING] = "more handshake data after the ClientHello in its record",
    [SNIFF_E_MALFORMED] = "a length in the TLS ClientHello does not fit",
    [SNIFF_E_DUP_EXT] = "an extension appears twice in the TLS ClientHello",
    [SNIFF_E_SNI] = "malformed server_name (SNI) extension",
    [SNIFF_E_ALPN] = "malformed ALPN extension",
};

const char *sniff_strerror(int err)
{
	if (err < 0)
		err = -err;
	if (err <= 0 || (size_t)err >= sizeof(messages) / sizeof(messages[0]) || !messages[err])
		return "unknown error";
	return messages[err];
}

/* RFC 9110 tchar. */
static bool is_tchar(unsigned char c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
		return true;
	return c && strchr("!#$%&'*+-.^_`|~", c);
}

/*
 * After "METHOD SP": the start of a request target. Text protocols whose first word happens to
 * be a token ("hello world", "EHLO x") are not HTTP: a target is "/..." (origin-form), "*",
 * "http://" or "https://" (absolute-form, any case), or anything after CONNECT.
 */
static enum sniff_kind sniff_target(const unsigned char *m, size_t mlen, const unsigned char *t,
				    size_t tlen)
{
	static const char *const schemes[] = {"http://", "https://"};
	bool maybe = false;
	size_t i, k, n;
	unsigned char c;

	if (mlen == 7 && memcmp(m, "CONNECT", 7) == 0)
		return tlen ? SNIFF_HTTP : SNIFF_NEED_MORE;
	if (tlen == 0)
		return SNIFF_NEED_MORE;
	if (t[0] == '/' || t[0] == '*')
		return SNIFF_HTTP;
	for (k = 0; k < 2; k++) {
		n = strlen(schemes[k]);
		for (i = 0; i < n && i < tlen; i++) {
			c = t[i] >= 'A' && t[i] <= 'Z' ? (unsigned char)(t[i] + 32) : t[i];
			if (c != (unsigned char)schemes[k][i])
				break;
		}
		if (i == n)
			return SNIFF_HTTP;
		if (i == tlen)
			maybe = true;
	}
	return maybe ? SNIFF_NEED_MORE : SNIFF_OTHER;
}

enum sniff_kind sniff_kind(const unsigned char *buf, size_t len)
{
	size_t i, rl;

	if (len == 0)
		return SNIFF_NEED_MORE;
	if (buf[0] == 22) {
		if (len > 1 && buf[1] != 3)
			return SNIFF_OTHER;
		if (len > 2 && buf[2] > 4)
			return SNIFF_OTHER;
		if (len > 4) {
			rl = (size_t)buf[3] << 8 | buf[4];
			if (rl == 0 || rl > REC_MAX)
				return SNIFF_OTHER;
		}
		if (len > 5 && buf[5] != 1)
			return SNIFF_OTHER;
		return len > 5 ? SNIFF_TLS : SNIFF_NEED_MORE;
	}
	/* A method: at most 16 tchars, then SP. */
	for (i = 0; i < len && i <= 16; i++) {
		if (buf[i] == ' ')
			break;
		if (!is_tchar(buf[i]))
			return SNIFF_OTHER;
	}
	if (i > 16 || (i < len && i == 0))
		return SNIFF_OTHER;
	if (i == len)
		return SNIFF_NEED_MORE;
	return sniff_target(buf, i, buf + i + 1, len - i - 1);
}

static size_t rec_len(const unsigned char *rec)
{
	return (size_t)rec[3] << 8 | rec[4];
}

/*
 * A cursor over the handshake message's bytes, which sit in the payloads of consecutive
 * records. at is the offset in the message; the first pass has checked that the records hold
 * the whole message, so reading up to its end never leaves buf.
 */
struct cursor {
	const unsigned char *buf;
	size_t pos;	/* offset in buf of the next byte */
	size_t rec_end; /* end of the current record's payload in buf */
	size_t at;
};

static void cur_step(struct cursor *c)
{
	while (c->pos == c->rec_end) {
		c->pos += REC_HDR;
		c->rec_end = c->pos + rec_len(c->buf + c->pos - REC_HDR);
	}
}

/* Reads n (<= 4) bytes big-endian, or fails if they do not fit before end. */
static bool cur_uint(struct cursor *c, size_t end, size_t n, uint32_t *v)
{
	if (n > end - c->at)
		return false;
	*v = 0;
	for (; n; n--) {
		cur_step(c);
		*v = *v << 8 | c->buf[c->pos++];
		c->at++;
	}
	return true;
}

/* Copies n bytes to dst (or skips them when dst is NULL), or fails if they do not fit. */
static bool cur_copy(struct cursor *c, size_t end, unsigned char *dst, size_t n)
{
	size_t k;

	if (n > end - c->at)
		return false;
	while (n) {
		cur_step(c);
		k = c->rec_end - c->pos < n ? c->rec_end - c->pos : n;
		if (dst) {
			memcpy(dst, c->buf + c->pos, k);
			dst += k;
		}
		c->pos += k;
		c->at += k;
		n -= k;
	}
	return true;
}

/* Checks and lower-cases a host_name: see sniff.h for what is valid. */
static bool dns_name_ok(char *s, size_t n)
{
	size_t i, label = 0;
	bool digits = true;

	if (n == 0 || n > 253)
		return false;
	for (i = 0; i < n; i++) {
		if (s[i] == '.') {
			if (label == 0)
				return false;
			label = 0;
			digits = true;
			continue;
		}
		if (s[i] >= 'A' && s[i] <= 'Z')
			s[i] = (char)(s[i] - 'A' + 'a');
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-' ||
		      s[i] == '_'))
			return false;
		if (s[i] < '0' || s[i] > '9')
			digits = false;
		if (++label > 63)
			return false;
	}
	return label > 0 && !digits;
}

/* server_name (RFC 6066 section 3): a list of (type, name); at most one host_name (type 0). */
static ssize_t server_name(struct cursor *c, size_t end, struct sniff_hello *h)
{
	unsigned char name[256];
	uint32_t list, type, n;
	bool seen = false;

	if (!cur_uint(c, end, 2, &list) || list != end - c->at || list == 0)
		return -SNIFF_E_SNI;
	while (c->at < end) {
		if (!cur_uint(c, end, 1, &type) || !cur_uint(c, end, 2, &n) || n > end - c->at)
			return -SNIFF_E_SNI;
		if (type != 0) {
			cur_copy(c, end, NULL, n);
			continue;
		}
		if (seen)
			return -SNIFF_E_SNI;
		seen = true;
		if (n >= sizeof(name)) {
			cur_copy(c, end, NULL, n);
			h->sni_invalid = true;
			continue;
		}
		cur_copy(c, end, name, n);
		name[n] = '\0';
		/* A NUL inside the name makes it invalid, never shorter. */
		if (memchr(name, '\0', n) || !dns_name_ok((char *)name, n)) {
			h->sni_invalid = true;
			continue;
		}
		memcpy(h->sni, name, n + 1);
	}
	return 0;
}

/* application_layer_protocol_negotiation (RFC 7301): a non-empty list of non-empty names. */
static ssize_t alpn(struct cursor *c, size_t end, struct sniff_hello *h)
{
	unsigned char name[8];
	uint32_t list, n;

	if (!cur_uint(c, end, 2, &list) || list != end - c->at || list == 0)
		return -SNIFF_E_ALPN;
	while (c->at < end) {
		if (!cur_uint(c, end, 1, &n) || n == 0 || n > end - c->at)
			return -SNIFF_E_ALPN;
		h->n_alpn++;
		if (n == 2 || n == 8) {
			cur_copy(c, end, name, n);
			if (n == 2 && memcmp(name, "h2", 2) == 0)
				h->alpn_h2 = true;
			if (n == 8 && memcmp(name, "http/1.1", 8) == 0)
				h->alpn_http11 = true;
		} else {
			cur_copy(c, end, NULL, n);
		}
	}
	return 0;
}

/* The ClientHello body (RFC 8446 section 4.1.2), from the start of the handshake message. */
static ssize_t client_hello(struct cursor *c, size_t end, struct sniff_hello *h)
{
	uint64_t seen[65536 / 64];
	uint32_t v, type, n;
	size_t ext_end;
	ssize_t r;

	memset(seen, 0, sizeof(seen));
	if (!cur_copy(c, end, NULL, HS_HDR) || !cur_uint(c, end, 2, &v))
		return -SNIFF_E_MALFORMED;
	h->legacy_version = (uint16_t)v;
	if (!cur_copy(c, end, NULL, 32))
		return -SNIFF_E_MALFORMED;
	if (!cur_uint(c, end, 1, &n) || n > 32 || !cur_copy(c, end, NULL, n))
		return -SNIFF_E_MALFORMED;
	if (!cur_uint(c, end, 2, &n) || n == 0 || n % 2 || !cur_copy(c, end, NULL, n))
		return -SNIFF_E_MALFORMED;
	if (!cur_uint(c, end, 1, &n) || n == 0 || !cur_copy(c, end, NULL, n))
		return -SNIFF_E_MALFORMED;
	/* Before TLS 1.2 a ClientHello may end here, without extensions. */
	if (c->at == end)
		return 0;
	if (!cur_uint(c, end, 2, &n) || n != end - c->at)
		return -SNIFF_E_MALFORMED;
	while (c->at < end) {
		if (!cur_uint(c, end, 2, &type) || !cur_uint(c, end, 2, &n) || n > end - c->at)
			return -SNIFF_E_MALFORMED;
		if (seen[type / 64] & (1ULL << (type % 64)))
			return -SNIFF_E_DUP_EXT;
		seen[type / 64] |= 1ULL << (type % 64);
		ext_end = c->at + n;
		switch (type) {
		case EXT_SERVER_NAME:
			r = server_name(c, ext_end, h);
			break;
		case EXT_ALPN:
			r = alpn(c, ext_end, h);
			break;
		case EXT_ECH:
			h->ech = true;
			r = cur_copy(c, ext_end, NULL, n) ? 0 : -SNIFF_E_MALFORMED;
			break;
		default:
			r = cur_copy(c, ext_end, NULL, n) ? 0 : -SNIFF_E_MALFORMED;
			break;
		}
		if (r < 0)
			return r;
	}
	return 0;
}

ssize_t sniff_client_hello(const unsigned char *buf, size_t len, struct sniff_hello *out)
{
	struct sniff_hello h;
	struct cursor c;
	unsigned char hs[HS_HDR] = {0};
	size_t off = 0, have = 0, need = 0, rl, k;
	ssize_t r;

	/* Pass 1: the records, until they hold the whole handshake message. */
	for (;;) {
		if (len - off < REC_HDR)
			return 0;
		if (buf[off] != 22 || buf[off + 1] != 3 || buf[off + 2] > 4)
			return -SNIFF_E_RECORD;
		rl = rec_len(buf + off);
		if (rl == 0 || rl > REC_MAX)
			return -SNIFF_E_RECORD;
		for (k = 0; have + k < HS_HDR && k < rl && off + REC_HDR + k < len; k++)
			hs[have + k] = buf[off + REC_HDR + k];
		if (have + k > 0 && hs[0] != 1)
			return -SNIFF_E_NOT_HELLO;
		if (have + k >= HS_HDR && !need) {
			need = HS_HDR + ((size_t)hs[1] << 16 | (size_t)hs[2] << 8 | hs[3]);
			if (need > SNIFF_HELLO_MAX)
				return -SNIFF_E_TOO_BIG;
		}
		if (len - off - REC_HDR < rl)
			return 0;
		have += rl;
		off += REC_HDR + rl;
		if (need && have >= need)
			break;
	}
	if (have > need)
		return -SNIFF_E_TRAILING;

	/* Pass 2: the message itself. */
	memset(&h, 0, sizeof(h));
	c.buf = buf;
	c.pos = REC_HDR;
	c.rec_end = REC_HDR + rec_len(buf);
	c.at = 0;
	r = client_hello(&c, need, &h);
	if (r < 0)
		return r;
	*out = h;
	return (ssize_t)off;
}
