// SPDX-License-Identifier: MIT
/*
 * secretenc_test.c: secret_find_encoded(). Vectors made by Python's base64 and binascii (so
 * the decoders are checked against another implementation), then the test's own encoders over
 * every shift of the placeholder in its carrier, DNS names split and joined as the DNS server
 * asks, what must not be found (another secret's digits, one digit short, text that only looks
 * encoded), and a scratch of exactly len bytes that is never written past.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/secret.h"
#include "proxy/secretenc.h"
#include "tests/lib/encode.h"

#define PH_TOKEN "boundary-secret-API_TOKEN-0123456789abcdef0123456789abcdef"
#define PH_K	 "boundary-secret-K-fedcba9876543210fedcba9876543210"

static struct secret sec[2];

static int setup(void **state)
{
	(void)state;
	memset(sec, 0, sizeof(sec));
	snprintf(sec[0].name, sizeof(sec[0].name), "API_TOKEN");
	snprintf(sec[0].placeholder, sizeof(sec[0].placeholder), "%s", PH_TOKEN);
	sec[0].placeholder_len = strlen(PH_TOKEN);
	snprintf(sec[1].name, sizeof(sec[1].name), "K");
	snprintf(sec[1].placeholder, sizeof(sec[1].placeholder), "%s", PH_K);
	sec[1].placeholder_len = strlen(PH_K);
	return 0;
}

/* secret_find_encoded() over a copy of p in a buffer of exactly its size, with a fenced scratch. */
static ssize_t find(const char *p, size_t len)
{
	char *in = malloc(len ? len : 1), *scratch = malloc(len + 16);
	ssize_t r;
	size_t i;

	assert_non_null(in);
	assert_non_null(scratch);
	memcpy(in, p, len);
	memset(scratch + len, 0x5a, 16);
	r = secret_find_encoded(sec, 2, in, len, scratch);
	for (i = 0; i < 16; i++)
		assert_int_equal((unsigned char)scratch[len + i], 0x5a);
	free(in);
	free(scratch);
	return r;
}

static ssize_t finds(const char *s)
{
	return find(s, strlen(s));
}

static void test_literal(void **state)
{
	(void)state;
	assert_int_equal(finds(PH_TOKEN), 0);
	assert_int_equal(finds("GET /?t=" PH_K " HTTP/1.1"), 1);
	/* DNS folds case: a placeholder in upper case is still one. */
	assert_int_equal(finds("BOUNDARY-SECRET-API_TOKEN-0123456789ABCDEF0123456789ABCDEF.EVIL"),
			 0);
	assert_int_equal(finds("boundary-secret-api_token-0123456789abcdef0123456789abcdef"), 0);
}

static void test_percent(void **state)
{
	(void)state;
	assert_int_equal(finds("%62oundary-secret-API_TOKEN-0123456789abcdef0123456789abcdef"), 0);
	assert_int_equal(finds("x=%62%6F%75%6E%64%61%72%79%2D%73%65%63%72%65%74%2D%4B%2D"
			       "fedcba9876543210fedcba9876543210&"),
			 1);
	/* A '%' that is not an escape, before one that is. */
	assert_int_equal(finds("%%zz%62oundary-secret-K-fedcba9876543210fedcba9876543210"), 1);
	assert_int_equal(finds("100%"), -1);
}

/* From Python: base64.b32encode, base64.b64encode, urlsafe_b64encode, binascii.hexlify. */
static void test_vectors(void **state)
{
	(void)state;
	/* base32 of PH_TOKEN, padded, then without padding, then lower case (a DNS label) */
	assert_int_equal(finds("MJXXK3TEMFZHSLLTMVRXEZLUFVAVASK7KRHUWRKOFUYDCMRTGQ2TMNZYHFQWEY3E"
			       "MVTDAMJSGM2DKNRXHA4WCYTDMRSWM==="),
			 0);
	assert_int_equal(finds("MJXXK3TEMFZHSLLTMVRXEZLUFVAVASK7KRHUWRKOFUYDCMRTGQ2TMNZYHFQWEY3E"
			       "MVTDAMJSGM2DKNRXHA4WCYTDMRSWM"),
			 0);
	assert_int_equal(finds("mjxxk3temfzhslltmvrxezlufvavask7krhuwrkofuydcmrtgq2tmnzyhfqwey3e"
			       "mvtdamjsgm2dknrxha4wcytdmrswm.evil.example"),
			 0);
	/* base64 of "x:" PH_TOKEN (a Basic credential's shape) */
	assert_int_equal(finds("Authorization: Basic eDpib3VuZGFyeS1zZWNyZXQtQVBJX1RPS0VOLTAxMjM0N"
			       "TY3ODlhYmNkZWYwMTIzNDU2Nzg5YWJjZGVm\r\n"),
			 0);
	/* URL-safe base64 of "\xfb\xff" PH_TOKEN: '-' and '_' in it */
	assert_int_equal(
	    finds("-_9ib3VuZGFyeS1zZWNyZXQtQVBJX1RPS0VOLTAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2"
		  "Nzg5YWJjZGVm"),
	    0);
	/* hex, upper case */
	assert_int_equal(
	    finds("626F756E646172792D7365637265742D4150495F544F4B454E2D303132333435363738"
		  "39616263646566303132333435363738396162636465660D0A"),
	    0);
}

/* --- the test's own encoders ------------------------------------------------------------------ */

static size_t enc_hex(const char *p, size_t n, char *out, bool upper)
{
	const char *d = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = d[(unsigned char)p[i] >> 4];
		out[2 * i + 1] = d[(unsigned char)p[i] & 15];
	}
	return 2 * n;
}

#define B32    "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
#define B64    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
#define B64URL "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
#define N_ENC  7

/* The placeholder of sec[which], after skip bytes of prefix, in encoding e, inside a carrier. */
static size_t carried(int e, size_t skip, const char *lead, int which, char *out)
{
	char plain[256], enc[512];
	size_t n, m, k;

	memcpy(plain, "key=value;abc", skip);
	memcpy(plain + skip, sec[which].placeholder, sec[which].placeholder_len);
	n = skip + sec[which].placeholder_len;
	switch (e) {
	case 0:
		m = enc_hex(plain, n, enc, false);
		break;
	case 1:
		m = enc_hex(plain, n, enc, true);
		break;
	case 2:
		m = enc_bits(plain, n, enc, B32, 5, 8, true);
		break;
	case 3:
		m = enc_bits(plain, n, enc, B32, 5, 8, false);
		for (k = 0; k < m; k++)
			enc[k] = (char)(enc[k] >= 'A' && enc[k] <= 'Z' ? enc[k] + 32 : enc[k]);
		break;
	case 4:
		m = enc_bits(plain, n, enc, B64, 6, 4, true);
		break;
	case 5:
		m = enc_bits(plain, n, enc, B64URL, 6, 4, false);
		break;
	default:
		m = enc_bits(plain, n, enc, B64, 6, 4, false);
		break;
	}
	k = strlen(lead);
	memcpy(out, lead, k);
	memcpy(out + k, enc, m);
	memcpy(out + k + m, " tail", 5);
	return k + m + 5;
}

/*
 * Every encoding, with the placeholder at every byte offset in a group of the encoded text, and
 * the encoded text after characters of its own alphabet (so the run starts before it).
 */
static void test_every_shift(void **state)
{
	static const char *leads[] = {"", " ", "q", "ab", "abc ", "x=Z", "12345", "0aZ-"};
	char buf[1024];
	size_t skip, l, n;
	int e, which;

	(void)state;
	for (which = 0; which < 2; which++)
		for (e = 0; e < N_ENC; e++)
			for (skip = 0; skip < 6; skip++)
				for (l = 0; l < sizeof(leads) / sizeof(leads[0]); l++) {
					n = carried(e, skip, leads[l], which, buf);
					if (find(buf, n) != which)
						fail_msg("not found: encoding %d, shift %zu, lead "
							 "\"%s\": %.*s",
							 e, skip, leads[l], (int)n, buf);
				}
}

/* One digit short, in every encoding: nothing. */
static void test_not_whole(void **state)
{
	char buf[1024];
	size_t n;
	int e;

	(void)state;
	sec[0].placeholder_len--;
	for (e = 0; e < N_ENC; e++) {
		n = carried(e, 0, "", 0, buf);
		sec[0].placeholder_len++;
		assert_int_equal(find(buf, n), -1);
		sec[0].placeholder_len--;
	}
	sec[0].placeholder_len++;
	memcpy(buf, PH_TOKEN, sizeof(PH_TOKEN) - 1);
	assert_int_equal(find(buf, sizeof(PH_TOKEN) - 2), -1);
}

static void test_not_found(void **state)
{
	(void)state;
	assert_int_equal(finds(""), -1);
	assert_int_equal(finds("boundary-secret-"), -1);
	/* another run's digits: a placeholder no secret has */
	assert_int_equal(finds("boundary-secret-API_TOKEN-00000000000000000000000000000000"), -1);
	assert_int_equal(finds("boundary-secret-OTHER-0123456789abcdef0123456789abcdef"), -1);
	/* long runs of each alphabet that decode to nothing of ours */
	assert_int_equal(
	    finds("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
	    -1);
	assert_int_equal(finds("www.example.com"), -1);
	assert_int_equal(secret_find_encoded(sec, 0, PH_TOKEN, strlen(PH_TOKEN), NULL), -1);
}

/* A DNS name as dnssrv.c asks: the labels joined without dots, and each label alone. */
static void test_dns_names(void **state)
{
	char hex[256], joined[256];
	size_t n;

	(void)state;
	n = enc_hex(PH_TOKEN, strlen(PH_TOKEN), hex, false);
	/* hex split across two labels, then the exfiltrator's domain: "<58>.<58>.evil.example" */
	snprintf(joined, sizeof(joined), "%.58s%.*sevilexample", hex, (int)(n - 58), hex + 58);
	assert_int_equal(finds(joined), 0);
	/* each half alone holds no placeholder */
	assert_int_equal(find(hex, 58), -1);
	assert_int_equal(find(hex + 58, n - 58), -1);
	/* a label before it, of hex digits too */
	snprintf(joined, sizeof(joined), "a1%.*sevilexample", (int)n, hex);
	assert_int_equal(finds(joined), 0);
}

/* --- a stream in pieces (secret_scan_out) ---------------------------------------------------- */

/*
 * What a splice does: each piece after what was held back, scanned; what is clear goes out.
 * Returns the secret found (or -1); out gets what went out.
 */
static ssize_t stream(const char *const *pieces, size_t n, char *out, size_t *out_len)
{
	char pending[4096];
	size_t held = 0, clear, i, k;
	ssize_t hit;

	*out_len = 0;
	for (i = 0; i <= n; i++) {
		k = i < n ? strlen(pieces[i]) : 0;
		memcpy(pending + held, i < n ? pieces[i] : "", k);
		held += k;
		hit = secret_scan_out(sec, 2, pending, held, i == n, &clear);
		if (hit >= 0)
			return hit;
		assert_true(clear <= held);
		assert_true(held - clear < SECRET_PH_MAX);
		memcpy(out + *out_len, pending, clear);
		*out_len += clear;
		memmove(pending, pending + clear, held - clear);
		held -= clear;
	}
	assert_int_equal(held, 0);
	return -1;
}

/* The placeholder cut in two at every byte: found, and nothing of it went out. */
static void test_scan_split_everywhere(void **state)
{
	char a[256], b[256], out[4096];
	const char *pieces[2] = {a, b};
	size_t cut, n;

	(void)state;
	for (cut = 0; cut <= strlen(PH_TOKEN); cut++) {
		snprintf(a, sizeof(a), "user=bob token=%.*s", (int)cut, PH_TOKEN);
		snprintf(b, sizeof(b), "%s\n", PH_TOKEN + cut);
		assert_int_equal(stream(pieces, 2, out, &n), 0);
		/* whole in the first piece: found before anything went */
		assert_int_equal(n, cut < strlen(PH_TOKEN) ? strlen("user=bob token=") : 0);
		assert_memory_equal(out, "user=bob token=", n);
	}
}

/* Bytes that only start like one are held until they cannot be one, then all go, in order. */
static void test_scan_passes_the_rest(void **state)
{
	const char *pieces[] = {"abc b", "oundary-", "secret-API_TOKEN-0123", "x and more",
				"then boundary-secret-K-fedc"};
	const char *whole =
	    "abc boundary-secret-API_TOKEN-0123x and morethen boundary-secret-K-fedc";
	char out[4096];
	size_t n, clear;

	(void)state;
	assert_int_equal(stream(pieces, 5, out, &n), -1);
	assert_int_equal(n, strlen(whole));
	assert_memory_equal(out, whole, n);
	/* what is held: exactly the tail that starts a placeholder */
	assert_int_equal(secret_scan_out(sec, 2, "xyz boundary-se", 15, false, &clear), -1);
	assert_int_equal(clear, 4);
	assert_int_equal(secret_scan_out(sec, 2, "xyz boundary-se", 15, true, &clear), -1);
	assert_int_equal(clear, 15);
	assert_int_equal(secret_scan_out(sec, 2, "no b here", 9, false, &clear), -1);
	assert_int_equal(clear, 9);
	assert_int_equal(secret_scan_out(sec, 0, "boundary-", 9, false, &clear), -1);
	assert_int_equal(clear, 9);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_literal, setup),
	    cmocka_unit_test_setup(test_percent, setup),
	    cmocka_unit_test_setup(test_vectors, setup),
	    cmocka_unit_test_setup(test_every_shift, setup),
	    cmocka_unit_test_setup(test_not_whole, setup),
	    cmocka_unit_test_setup(test_not_found, setup),
	    cmocka_unit_test_setup(test_dns_names, setup),
	    cmocka_unit_test_setup(test_scan_split_everywhere, setup),
	    cmocka_unit_test_setup(test_scan_passes_the_rest, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
