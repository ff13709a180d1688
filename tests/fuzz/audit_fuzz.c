// SPDX-License-Identifier: MIT
/*
 * audit_fuzz.c: the audit encoder on arbitrary bytes. Invariants: the encoding is one JSON
 * string with no raw control character or newline, quotes balanced by escaping, and it either
 * fits or leaves the output untouched.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/audit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = malloc(size + 1), out[8192];
	size_t len = 0, i;
	int ret;

	if (!in)
		return 0;
	memcpy(in, data, size);
	in[size] = '\0';
	ret = audit_json_string(out, sizeof(out), &len, in);
	if (ret == 0) {
		if (len < 2 || out[0] != '"' || out[len - 1] != '"')
			abort();
		for (i = 1; i + 1 < len; i++) {
			if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f)
				abort();
			if (out[i] == '\\')
				i++; /* the escaped character */
			else if (out[i] == '"')
				abort();
		}
	} else if (len != 0) {
		abort();
	}
	free(in);
	return 0;
}
