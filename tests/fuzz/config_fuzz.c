// SPDX-License-Identifier: MIT
/*
 * config_fuzz.c: libFuzzer target for the YAML config loader (user/config.c), and through it
 * opts_set() and rules_add(). Invariants: the loader returns 0, -EINVAL or -ENOMEM; on error the
 * message is one NUL-terminated line that starts with "config.yaml:" and carries a line and a
 * column; on success every allowlist entry compiles. Built with -DBOUNDARY_FUZZING, under which
 * --user names do not resolve (numbers still do), so no NSS module is loaded.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules/rules.h"
#include "user/config.h"
#include "user/opts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[1024];
	unsigned long line, col;
	struct opts o;
	int ret;

	opts_init(&o);
	memset(err, 'x', sizeof(err));
	err[sizeof(err) - 1] = '\0';
	ret = config_load_buffer(&o, "config.yaml", data, size, err, sizeof(err));
	if (ret != 0 && ret != -EINVAL && ret != -ENOMEM)
		abort();
	if (ret == -EINVAL) {
		if (strncmp(err, "config.yaml:", 12) != 0 ||
		    sscanf(err + 12, "%lu:%lu:", &line, &col) != 2 || line == 0 || col == 0)
			abort();
		if (strchr(err, '\n'))
			abort();
	}
	if (ret == 0) {
		if (opts_finish(&o, err, sizeof(err)) == 0 &&
		    rules_count(o.rules) != o.allow.file.n)
			abort();
	}
	opts_fini(&o);
	return 0;
}
