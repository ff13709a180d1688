// SPDX-License-Identifier: MIT
/*
 * jail.c: the jail supervisor, the only file that includes the BPF skeleton or calls libbpf.
 *
 * Today it owns loading the embedded BPF object (jail_probe) and refusing to run a command
 * unjailed (jail_run). It does not own the rules or the proxy: it hands those the descriptors
 * they need.
 */
#include "user/jail.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "bpf/jail.h"
/* The generated skeleton casts away const on its embedded object; that is its business. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wcast-qual"
#include "jail.skel.h"
#pragma GCC diagnostic pop
#include "proxy/log.h"

_Static_assert(sizeof(struct jail_config) == 8, "struct jail_config is part of the BPF ABI");

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char line[512];

	if (level == LIBBPF_DEBUG && !log_enabled(LOG_DEBUG))
		return 0;
	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	log_debug("libbpf: %s", line);
	return 0;
}

int jail_probe(char *err, size_t errlen)
{
	struct jail_bpf *skel = NULL;
	int ret = 0;

	libbpf_set_print(libbpf_print);
	skel = jail_bpf__open();
	if (!skel) {
		ret = -errno;
		snprintf(err, errlen, "cannot open the embedded BPF object: %s", strerror(-ret));
		goto out;
	}
	skel->rodata->cfg.abi_version = JAIL_ABI_VERSION;
	if (jail_bpf__load(skel) != 0) {
		ret = -errno;
		snprintf(err, errlen,
			 "cannot load the BPF programs: %s (run as root or grant CAP_BPF and "
			 "CAP_NET_ADMIN)",
			 strerror(-ret));
		goto out;
	}
out:
	jail_bpf__destroy(skel);
	return ret;
}

int jail_run(const struct opts *o, char *const argv[])
{
	(void)o;
	/*
	 * Fail closed: until the cgroup jail exists, a command is never run, because running it
	 * without the jail would give it the network the user asked us to take away.
	 */
	log_error("cannot run %s: the network jail is not part of this build yet; nothing was run "
		  "(use --test to check rules)",
		  argv[0]);
	return LOG_EXIT_FAILURE;
}
