/* SPDX-License-Identifier: MIT */
/*
 * jail.h: the one contract between the BPF programs in jail.bpf.c and userspace. Data only,
 * in __u8/__u16/__u32/__u64, no pointers, explicit padding; userspace pins every record's size
 * with _Static_assert so a change on one side cannot silently disagree with the other.
 *
 * Addresses and ports are in network byte order, as the kernel hands them to the programs and
 * as getpeername() returns them to the proxy. An IPv4 address sits in addr[0] with addr[1..3]
 * zero; a v4-mapped IPv6 address (::ffff:a.b.c.d) is always recorded as IPv4, so the proxy's
 * AF_INET listener and a v6 client that dialled a v4-mapped address agree on one key.
 */
#ifndef BOUNDARY_BPF_JAIL_H
#define BOUNDARY_BPF_JAIL_H

#include <linux/types.h>

/* Bumped whenever a record below changes shape. */
#define JAIL_ABI_VERSION 7

/* Address families as the records carry them (the values of AF_INET and AF_INET6). */
#define JAIL_AF_INET  2
#define JAIL_AF_INET6 10

/*
 * The size of orig_by_client: connections made but not yet looked up by the proxy (and the
 * senders of recent DNS datagrams). An LRU map is filled in full when it is made, a cost that
 * grows with this number (about 20 ms at 65536), paid once per shared set and once per attach:
 * 16384 is well above the connections the jails open faster than their proxies accept them.
 */
#define JAIL_MAX_PENDING 16384

/*
 * The configuration every program reads from .rodata, set by userspace between open and load.
 * A program whose configuration does not carry JAIL_ABI_VERSION denies everything.
 * Ports are in host byte order. The listeners live at 127.0.0.1 and ::1 inside the jail's own
 * network namespace (or the attached cgroup's), on the same ports for both families.
 *
 * Three shapes:
 *   entry_level 0                   the programs serve the cgroup they are attached to, with
 *                                   these ports and flags (boundary attach to one cgroup)
 *   entry_level N, proxy_port set   attached to a parent (boundary attach to a parent): each
 *                                   cgroup at level N is a jail whose entry holds its flags; the
 *                                   ports are these. A cgroup with no entry yet is treated as
 *                                   JAIL_CFG_HOST_LOOPBACK: everything it dials goes to listeners
 *                                   it has none of, so it reaches nothing
 *   JAIL_LEVEL_OWN, ports 0         the shared set on <cgroup2>/boundary (boundary's own jails):
 *                                   each jail is the cgroup the socket's task is in (no level:
 *                                   see below), whose entry holds its ports and flags. A
 *                                   cgroup with no entry is refused everything
 *                                   (no socket, no bind, no connect, no packet), unless
 *                                   jail_owners names another set as its owner: then this set
 *                                   lets it be, and that set (attached to the same parent) decides
 */
struct jail_config {
	__u32 abi_version;
	__u16 proxy_port;  /* TCP: every redirected connection but DNS */
	__u16 dns_port;	   /* UDP and TCP: the DNS responder */
	__u32 flags;	   /* JAIL_CFG_*, when entry_level is 0 */
	__u32 entry_level; /* the level of the jails' cgroups (the cgroup2 root is 0), or 0 */
};

/*
 * entry_level for the shared set: a jail is the calling task's own cgroup (the packet's
 * socket's, for egress), not its ancestor at a level. Levels are counted from the root of the
 * whole hierarchy, which boundary cannot see from inside a cgroup namespace (a CI job in a
 * container: its cgroup2 mount is rooted at the container's cgroup), while a cgroup's id is the
 * same everywhere. A cgroup below a jail's (only host root can make one) has no entry: refused.
 */
#define JAIL_LEVEL_OWN 0xffffffffu

/*
 * The entries of a parent's jails (jail_config.entry_level), keyed by the cgroup's id. Under a
 * parent boundary attach made, only flags is set (the ports are the configuration's); in the
 * shared set, the entry is all the programs know of its jail.
 */
struct jail_entry {
	__u16 proxy_port; /* host byte order; 0: the configuration's */
	__u16 dns_port;
	__u32 flags; /* JAIL_CFG_* */
	/* the jail's id, "<pid>-<start time>" of its boundary: for the people reading the map */
	__u32 pid;
	__u32 pad;
	__u64 start_time;
};

#define JAIL_MAX_ENTRIES 4096

/*
 * jail_owners: which shared set a cgroup below <cgroup2>/boundary belongs to, keyed by its
 * cgroup id, the value that set's JAIL_ABI_VERSION (JAIL_OWNER_LEGACY: a jail with programs of
 * its own, made by a boundary from before the shared sets). One map, pinned at
 * /sys/fs/bpf/boundary/owners, shared by every set of every ABI: its shape (a hash of
 * JAIL_MAX_ENTRIES __u64 keys to __u32 values) and its path never change, whatever
 * JAIL_ABI_VERSION becomes. Nor does the key of entries (the __u64 cgroup id), so that any
 * boundary can sweep any set's entries.
 */
#define JAIL_OWNER_LEGACY 0xffffffffu

/*
 * The cgroup's loopback is the host's (boundary attach to a cgroup whose processes live in the
 * host's network namespace): loopback is no longer the jail's own, so TCP to it is redirected
 * and decided like any other destination, UDP to it (but DNS) is refused, and a direct
 * connection to the proxy's or the DNS responder's port is refused outright.
 */
#define JAIL_CFG_HOST_LOOPBACK 1u

/*
 * Where a jailed socket was going, and who made it: stored per socket by connect4/6 and
 * sendmsg4/6, copied into orig_by_client by sockops when the TCP handshake starts.
 */
struct jail_orig {
	__u32 addr[4]; /* the original destination */
	__u16 port;    /* the original destination port */
	__u16 family;  /* JAIL_AF_INET or JAIL_AF_INET6 */
	__u32 pid;     /* the thread group (process) that called connect() */
	__u32 proto;   /* IPPROTO_TCP or IPPROTO_UDP */
	__u32 flags;   /* JAIL_ORIG_* */
	__u64 cookie;  /* the socket cookie, for correlating log lines */
	char comm[16]; /* that process's name, NUL-padded */
	__u64 netns;   /* the network namespace's cookie (SO_NETNS_COOKIE) */
	/*
	 * The file that process runs (mm->exe_file), for exe= rules: its inode number and its
	 * super block's s_dev in the kernel's encoding (MAJOR << 20 | MINOR, not stat()'s st_dev).
	 * Both 0 when it has none (JAIL_ORIG_EXE unset).
	 */
	__u64 exe_ino;
	__u32 exe_dev;
	__u32 pad;
};

/*
 * The connection was not redirected: its process dialled the proxy's port on the jail's own
 * loopback itself (told to use it as an HTTP proxy). Recorded only so that the proxy can name
 * the process; addr and port are the listener's.
 */
#define JAIL_ORIG_DIRECT 1u

/* exe_dev and exe_ino name the process's executable (unset: the read failed). */
#define JAIL_ORIG_EXE 2u

/* The key of orig_by_client: the jailed client's end of the connection, as the proxy sees it. */
struct jail_client_key {
	__u32 addr[4];
	__u16 port;
	__u16 family;
	__u32 pad;
	/*
	 * The client's network namespace (its cookie): the jails of one parent each have a
	 * loopback of their own, where two clients may have the same address and port.
	 */
	__u64 netns;
};

#endif /* BOUNDARY_BPF_JAIL_H */
