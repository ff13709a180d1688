/* SPDX-License-Identifier: MIT */
/*
 * jail.h: the one contract between the BPF programs in jail.bpf.c and userspace. Data only,
 * in __u8/__u16/__u32/__u64, no pointers, explicit padding; userspace pins every record's size
 * with _Static_assert so a change on one side cannot silently disagree with the other.
 */
#ifndef BOUNDARY_BPF_JAIL_H
#define BOUNDARY_BPF_JAIL_H

#include <linux/types.h>

/* Bumped whenever a record below changes shape. */
#define JAIL_ABI_VERSION 1

/*
 * The configuration every program reads from .rodata, set by userspace between open and load.
 * Placeholder until the jail lands: only the version is read.
 */
struct jail_config {
	__u32 abi_version;
	__u32 pad;
};

#endif /* BOUNDARY_BPF_JAIL_H */
