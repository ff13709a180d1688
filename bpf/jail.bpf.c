// SPDX-License-Identifier: (MIT OR GPL-2.0-only)
/*
 * jail.bpf.c: the in-kernel half of the jail, one section per hook, all attached to the jail's
 * cgroup only. Every program denies (returns 0) when its configuration is not what userspace
 * promised.
 *
 * Placeholder: until the jail lands, one connect4 program that denies every connection unless
 * the configuration was set, proving the build chain (clang -target bpf, bpftool gen skeleton,
 * libbpf load) end to end.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "jail.h"

const volatile struct jail_config cfg = {};

SEC("cgroup/connect4")
int jail_connect4(struct bpf_sock_addr *ctx)
{
	(void)ctx;
	if (cfg.abi_version != JAIL_ABI_VERSION)
		return 0;
	return 1;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
