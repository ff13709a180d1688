// SPDX-License-Identifier: (MIT OR GPL-2.0-only)
/*
 * jail.bpf.c: the in-kernel half of the jail, one section per hook, all attached to the jail's
 * cgroup, or to a parent of jails (boundary's own sockets live outside it, so no exemption logic
 * exists to abuse).
 *
 * What each hook does, in the order a connection meets them:
 *   sock_create      only inet TCP, MPTCP and UDP sockets may exist (no raw, ping, SCTP, ...)
 *   bind4/6          binds only to loopback or the wildcard (the jail's netns holds only lo),
 *                    never to the proxy's or the DNS responder's port
 *   connect4/6       port 53 (TCP or UDP, any address) goes to the DNS responder, other TCP
 *                    to the proxy, other UDP is refused; the jail's own loopback is left alone
 *                    (but not the host's, when an attached cgroup shares it: JAIL_CFG_*);
 *                    the original destination is kept in socket storage
 *   sendmsg4/6       unconnected UDP: port 53 to the DNS responder, anything else refused
 *   sockops          when the TCP handshake starts, the original destination is filed under
 *                    the client's address and port, where the proxy looks it up after accept()
 *   recvmsg4/6,      replies and getpeername() show the original address, as resolvers and
 *   getpeername4/6   TLS libraries expect
 *   cgroup_skb       defence in depth: no packet leaves unless it is addressed to loopback;
 *                    and a UDP query to the DNS responder files its sender, for the records
 *
 * Every program denies (returns 0) when its configuration is not what userspace promised, when
 * the jail it serves has no entry (the shared set on <cgroup2>/boundary: see struct jail_config)
 * or a map operation it needs fails. recvmsg and getpeername programs must return 1 (the kernel
 * rejects anything else); they only ever undo a rewrite.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "jail.h"

/*
 * The few kernel-internal fields exe= needs (task->mm->exe_file->f_inode->{i_ino,i_sb->s_dev}),
 * declared here with preserve_access_index rather than through a generated vmlinux.h: libbpf
 * relocates each access against the running kernel's BTF at load (CO-RE), so the offsets are
 * the kernel's own, and the UAPI headers above stay the only other types (vmlinux.h redefines
 * them). Only the fields read are declared; their sizes are the kernel's (dev_t is 32 bits,
 * i_ino an unsigned long).
 */
struct super_block {
	__u32 s_dev;
} __attribute__((preserve_access_index));

struct inode {
	unsigned long i_ino;
	struct super_block *i_sb;
} __attribute__((preserve_access_index));

struct file {
	struct inode *f_inode;
} __attribute__((preserve_access_index));

struct mm_struct {
	struct file *exe_file;
} __attribute__((preserve_access_index));

struct task_struct {
	struct mm_struct *mm;
} __attribute__((preserve_access_index));

#define SOCK_STREAM 1
#define SOCK_DGRAM  2
#define DENY	    0
#define ALLOW	    1

const volatile struct jail_config cfg = {};

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct jail_orig);
} orig_by_sk SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, JAIL_MAX_PENDING);
	__type(key, struct jail_client_key);
	__type(value, struct jail_orig);
} orig_by_client SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, JAIL_MAX_ENTRIES);
	__type(key, __u64);
	__type(value, struct jail_entry);
} entries SEC(".maps");

/* Shared by every set on <cgroup2>/boundary, whatever its ABI: see jail.h. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, JAIL_MAX_ENTRIES);
	__type(key, __u64);
	__type(value, __u32);
} jail_owners SEC(".maps");

/* What one jail is to the programs: its listeners' ports and its JAIL_CFG_* flags. */
struct jail_view {
	__u16 proxy_port;
	__u16 dns_port;
	__u32 flags;
};

enum jail_view_kind {
	VIEW_NONE,   /* nothing this set serves, nor any other: refused everything */
	VIEW_MINE,   /* a jail of this set's: v filled */
	VIEW_OTHERS, /* a jail of another set on the same parent, which decides: let be */
};

/* The configuration is what userspace promised (the sockops program needs no more). */
static __always_inline int configured(void)
{
	if (cfg.abi_version != JAIL_ABI_VERSION)
		return 0;
	return (cfg.proxy_port != 0 && cfg.dns_port != 0) || cfg.entry_level != 0;
}

/*
 * The jail whose cgroup (at entry_level, under a parent) has the id id: the configuration's, or
 * its entry's. Under boundary attach's parent a cgroup with no entry yet gets the configuration's
 * ports with JAIL_CFG_HOST_LOOPBACK (everything goes to listeners that are not there); in the
 * shared set it gets nothing at all.
 */
static __always_inline int view_for(__u64 id, struct jail_view *v)
{
	struct jail_entry *e;
	__u32 *owner;

	if (cfg.abi_version != JAIL_ABI_VERSION)
		return VIEW_NONE;
	v->proxy_port = cfg.proxy_port;
	v->dns_port = cfg.dns_port;
	v->flags = cfg.flags;
	if (cfg.entry_level) {
		e = bpf_map_lookup_elem(&entries, &id);
		if (e) {
			v->flags = e->flags;
			if (e->proxy_port) {
				v->proxy_port = e->proxy_port;
				v->dns_port = e->dns_port;
			}
		} else if (cfg.proxy_port) {
			v->flags = JAIL_CFG_HOST_LOOPBACK;
		} else {
			owner = bpf_map_lookup_elem(&jail_owners, &id);
			return owner && *owner != JAIL_ABI_VERSION ? VIEW_OTHERS : VIEW_NONE;
		}
	}
	return v->proxy_port != 0 && v->dns_port != 0 ? VIEW_MINE : VIEW_NONE;
}

/* The jail the calling process is in. */
static __always_inline int view(struct jail_view *v)
{
	__u64 id = 0;

	if (cfg.entry_level == JAIL_LEVEL_OWN)
		id = bpf_get_current_cgroup_id();
	else if (cfg.entry_level)
		id = bpf_get_current_ancestor_cgroup_id((int)cfg.entry_level);
	return view_for(id, v);
}

/* Loopback is the host's (an attached cgroup in the host's namespace), not the jail's own. */
static __always_inline int host_loopback(const struct jail_view *v)
{
	return (v->flags & JAIL_CFG_HOST_LOOPBACK) != 0;
}

/* 127.0.0.0/8 or 0.0.0.0 (which connect() reads as "this host"): the jail's own loopback. */
static __always_inline int v4_local(__u32 ip)
{
	return (bpf_ntohl(ip) >> 24) == 127 || ip == 0;
}

static __always_inline int v6_mapped(const __u32 ip[4])
{
	return ip[0] == 0 && ip[1] == 0 && ip[2] == bpf_htonl(0xffff);
}

/* ::1, :: or a v4-mapped loopback: the jail's own loopback. */
static __always_inline int v6_local(const __u32 ip[4])
{
	if (v6_mapped(ip))
		return v4_local(ip[3]);
	return ip[0] == 0 && ip[1] == 0 && ip[2] == 0 && (ip[3] == 0 || ip[3] == bpf_htonl(1));
}

/*
 * The file the calling process runs, for exe= rules: read here, at connect time, from the task
 * itself, so neither argv, comm nor a later /proc/PID/exe (the pid may be reused by then) can
 * stand in for it. A task with no mm (none that connects) or a read that fails leaves the
 * record without JAIL_ORIG_EXE, and exe= rules then do not match it.
 */
static __always_inline void save_exe(struct jail_orig *o)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct inode *inode;

	o->exe_ino = 0;
	o->exe_dev = 0;
	o->flags &= ~JAIL_ORIG_EXE;
	inode = BPF_CORE_READ(task, mm, exe_file, f_inode);
	if (!inode)
		return;
	o->exe_ino = BPF_CORE_READ(inode, i_ino);
	o->exe_dev = BPF_CORE_READ(inode, i_sb, s_dev);
	if (o->exe_ino)
		o->flags |= JAIL_ORIG_EXE;
}

/* Records where the socket was going, and who asked. Returns 0, or -1 when it cannot. */
static __always_inline int save_orig_flags(struct bpf_sock_addr *ctx, __u16 family,
					   const __u32 ip[4], __u32 proto, __u32 flags)
{
	struct jail_orig *o;
	__u64 id;

	if (!ctx->sk)
		return -1;
	o = bpf_sk_storage_get(&orig_by_sk, ctx->sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!o)
		return -1;
	o->family = family;
	o->addr[0] = ip[0];
	o->addr[1] = ip[1];
	o->addr[2] = ip[2];
	o->addr[3] = ip[3];
	o->port = (__u16)ctx->user_port;
	o->proto = proto;
	o->flags = flags;
	id = bpf_get_current_pid_tgid();
	o->pid = (__u32)(id >> 32);
	o->cookie = bpf_get_socket_cookie(ctx);
	o->netns = bpf_get_netns_cookie(ctx);
	bpf_get_current_comm(o->comm, sizeof(o->comm));
	save_exe(o);
	return 0;
}

static __always_inline int save_orig(struct bpf_sock_addr *ctx, __u16 family, const __u32 ip[4],
				     __u32 proto)
{
	return save_orig_flags(ctx, family, ip, proto, 0);
}

/*
 * A TCP connection to the jail's own loopback, left alone: when it dials the proxy's port, its
 * process is noted (JAIL_ORIG_DIRECT) so the proxy can name it. Returns ALLOW, or DENY when
 * the note cannot be made.
 */
static __always_inline int own_loopback(struct bpf_sock_addr *ctx, const struct jail_view *v,
					__u16 family, const __u32 ip[4])
{
	if (ctx->type != SOCK_STREAM || ctx->user_port != bpf_htons(v->proxy_port))
		return ALLOW;
	return save_orig_flags(ctx, family, ip, IPPROTO_TCP, JAIL_ORIG_DIRECT) < 0 ? DENY : ALLOW;
}

static __always_inline __u16 target_port(struct bpf_sock_addr *ctx, const struct jail_view *v)
{
	/* DNS over TCP goes to the responder's TCP side, everything else to the proxy. */
	if (ctx->user_port == bpf_htons(53))
		return bpf_htons(v->dns_port);
	return bpf_htons(v->proxy_port);
}

SEC("cgroup/sock_create")
int jail_sock_create(struct bpf_sock *sk)
{
	struct jail_view v;
	int k = view(&v);

	if (k == VIEW_OTHERS)
		return ALLOW;
	if (k != VIEW_MINE)
		return DENY;
	if (sk->family != JAIL_AF_INET && sk->family != JAIL_AF_INET6)
		return DENY;
	if (sk->type == SOCK_STREAM &&
	    (sk->protocol == 0 || sk->protocol == IPPROTO_TCP || sk->protocol == IPPROTO_MPTCP))
		return ALLOW;
	if (sk->type == SOCK_DGRAM && (sk->protocol == 0 || sk->protocol == IPPROTO_UDP))
		return ALLOW;
	return DENY;
}

static __always_inline int our_port(const struct jail_view *v, __u32 user_port)
{
	__u16 port = bpf_ntohs((__u16)user_port);

	return port == v->proxy_port || port == v->dns_port;
}

SEC("cgroup/bind4")
int jail_bind4(struct bpf_sock_addr *ctx)
{
	struct jail_view v;
	int k = view(&v);

	if (k == VIEW_OTHERS)
		return ALLOW;
	if (k != VIEW_MINE || our_port(&v, ctx->user_port))
		return DENY;
	return v4_local(ctx->user_ip4) ? ALLOW : DENY;
}

SEC("cgroup/bind6")
int jail_bind6(struct bpf_sock_addr *ctx)
{
	__u32 ip[4] = {ctx->user_ip6[0], ctx->user_ip6[1], ctx->user_ip6[2], ctx->user_ip6[3]};
	struct jail_view v;
	int k = view(&v);

	if (k == VIEW_OTHERS)
		return ALLOW;
	if (k != VIEW_MINE || our_port(&v, ctx->user_port))
		return DENY;
	return v6_local(ip) ? ALLOW : DENY;
}

SEC("cgroup/connect4")
int jail_connect4(struct bpf_sock_addr *ctx)
{
	__u32 ip[4] = {ctx->user_ip4, 0, 0, 0};
	struct jail_view v;
	int k = view(&v);

	if (k == VIEW_OTHERS)
		return ALLOW;
	if (k != VIEW_MINE)
		return DENY;
	/*
	 * DNS goes to the responder wherever it was aimed, loopback stubs (127.0.0.53) included:
	 * the jail's loopback has no resolver of its own.
	 */
	if (ctx->user_port == bpf_htons(53) &&
	    (ctx->type == SOCK_STREAM || ctx->type == SOCK_DGRAM)) {
		if (save_orig(ctx, JAIL_AF_INET, ip,
			      ctx->type == SOCK_STREAM ? IPPROTO_TCP : IPPROTO_UDP) < 0)
			return DENY;
		ctx->user_port = bpf_htons(v.dns_port);
		ctx->user_ip4 = bpf_htonl(0x7f000001);
		return ALLOW;
	}
	if (v4_local(ip[0])) {
		if (!host_loopback(&v))
			return own_loopback(ctx, &v, JAIL_AF_INET, ip);
		/* The host's loopback: decided like any destination, our own ports never. */
		if (our_port(&v, ctx->user_port))
			return DENY;
	}
	if (ctx->type == SOCK_STREAM) {
		if (save_orig(ctx, JAIL_AF_INET, ip, IPPROTO_TCP) < 0)
			return DENY;
		ctx->user_port = bpf_htons(v.proxy_port);
		ctx->user_ip4 = bpf_htonl(0x7f000001);
		return ALLOW;
	}
	return DENY;
}

SEC("cgroup/connect6")
int jail_connect6(struct bpf_sock_addr *ctx)
{
	__u32 ip[4] = {ctx->user_ip6[0], ctx->user_ip6[1], ctx->user_ip6[2], ctx->user_ip6[3]};
	__u32 proto = ctx->type == SOCK_STREAM ? IPPROTO_TCP : IPPROTO_UDP;
	struct jail_view v;
	int mapped, k = view(&v);

	if (k == VIEW_OTHERS)
		return ALLOW;
	if (k != VIEW_MINE)
		return DENY;
	if (ctx->type != SOCK_STREAM && ctx->type != SOCK_DGRAM)
		return DENY;
	if (ctx->user_port != bpf_htons(53)) {
		if (v6_local(ip) && !host_loopback(&v)) {
			if (v6_mapped(ip)) {
				__u32 v4[4] = {ip[3], 0, 0, 0};

				return own_loopback(ctx, &v, JAIL_AF_INET, v4);
			}
			return own_loopback(ctx, &v, JAIL_AF_INET6, ip);
		}
		if (v6_local(ip) && our_port(&v, ctx->user_port))
			return DENY;
		if (ctx->type != SOCK_STREAM)
			return DENY;
	}
	mapped = v6_mapped(ip);
	if (mapped) {
		/* A v6 socket dialling ::ffff:a.b.c.d: recorded as the IPv4 it really is. */
		__u32 v4[4] = {ip[3], 0, 0, 0};

		if (save_orig(ctx, JAIL_AF_INET, v4, proto) < 0)
			return DENY;
	} else if (save_orig(ctx, JAIL_AF_INET6, ip, proto) < 0) {
		return DENY;
	}
	ctx->user_port = target_port(ctx, &v);
	ctx->user_ip6[0] = 0;
	ctx->user_ip6[1] = 0;
	if (mapped) {
		ctx->user_ip6[2] = bpf_htonl(0xffff);
		ctx->user_ip6[3] = bpf_htonl(0x7f000001);
	} else {
		ctx->user_ip6[2] = 0;
		ctx->user_ip6[3] = bpf_htonl(1);
	}
	return ALLOW;
}

/*
 * Unconnected UDP. A v6 socket sending to a v4-mapped address arrives here too (the kernel hands
 * it to the IPv4 path), so this program also covers that case.
 */
SEC("cgroup/sendmsg4")
int jail_sendmsg4(struct bpf_sock_addr *ctx)
{
	__u32 ip[4] = {ctx->user_ip4, 0, 0, 0};
	struct jail_view v;
	int k = view(&v);

	if (k == VIEW_OTHERS)
		return ALLOW;
	if (k != VIEW_MINE)
		return DENY;
	if (ctx->user_port != bpf_htons(53))
		return v4_local(ip[0]) && !host_loopback(&v) ? ALLOW : DENY;
	if (save_orig(ctx, JAIL_AF_INET, ip, IPPROTO_UDP) < 0)
		return DENY;
	ctx->user_port = bpf_htons(v.dns_port);
	ctx->user_ip4 = bpf_htonl(0x7f000001);
	return ALLOW;
}

SEC("cgroup/sendmsg6")
int jail_sendmsg6(struct bpf_sock_addr *ctx)
{
	__u32 ip[4] = {ctx->user_ip6[0], ctx->user_ip6[1], ctx->user_ip6[2], ctx->user_ip6[3]};
	struct jail_view v;
	int k = view(&v);

	if (k == VIEW_OTHERS)
		return ALLOW;
	if (k != VIEW_MINE)
		return DENY;
	if (ctx->user_port != bpf_htons(53))
		return v6_local(ip) && !host_loopback(&v) ? ALLOW : DENY;
	/* The kernel refuses a v4-mapped rewrite here; such traffic is sendmsg4's anyway. */
	if (v6_mapped(ip))
		return DENY;
	if (save_orig(ctx, JAIL_AF_INET6, ip, IPPROTO_UDP) < 0)
		return DENY;
	ctx->user_port = bpf_htons(v.dns_port);
	ctx->user_ip6[0] = 0;
	ctx->user_ip6[1] = 0;
	ctx->user_ip6[2] = 0;
	ctx->user_ip6[3] = bpf_htonl(1);
	return ALLOW;
}

/* The saved original for this socket, if the peer shown is one of our listeners. */
static __always_inline struct jail_orig *orig_for(struct bpf_sock_addr *ctx)
{
	__u16 port = bpf_ntohs((__u16)ctx->user_port);
	struct jail_view v;

	if (view(&v) != VIEW_MINE || !ctx->sk || (port != v.proxy_port && port != v.dns_port))
		return 0;
	return bpf_sk_storage_get(&orig_by_sk, ctx->sk, 0, 0);
}

static __always_inline void restore4(struct bpf_sock_addr *ctx)
{
	struct jail_orig *o;

	if (ctx->user_ip4 != bpf_htonl(0x7f000001))
		return;
	o = orig_for(ctx);
	if (!o || o->family != JAIL_AF_INET)
		return;
	ctx->user_ip4 = o->addr[0];
	ctx->user_port = o->port;
}

static __always_inline void restore6(struct bpf_sock_addr *ctx)
{
	__u32 ip[4] = {ctx->user_ip6[0], ctx->user_ip6[1], ctx->user_ip6[2], ctx->user_ip6[3]};
	struct jail_orig *o;

	if (!(ip[0] == 0 && ip[1] == 0 &&
	      ((ip[2] == 0 && ip[3] == bpf_htonl(1)) ||
	       (ip[2] == bpf_htonl(0xffff) && ip[3] == bpf_htonl(0x7f000001)))))
		return;
	o = orig_for(ctx);
	if (!o)
		return;
	if (o->family == JAIL_AF_INET) {
		ctx->user_ip6[0] = 0;
		ctx->user_ip6[1] = 0;
		ctx->user_ip6[2] = bpf_htonl(0xffff);
		ctx->user_ip6[3] = o->addr[0];
	} else {
		ctx->user_ip6[0] = o->addr[0];
		ctx->user_ip6[1] = o->addr[1];
		ctx->user_ip6[2] = o->addr[2];
		ctx->user_ip6[3] = o->addr[3];
	}
	ctx->user_port = o->port;
}

SEC("cgroup/recvmsg4")
int jail_recvmsg4(struct bpf_sock_addr *ctx)
{
	restore4(ctx);
	return ALLOW;
}

SEC("cgroup/recvmsg6")
int jail_recvmsg6(struct bpf_sock_addr *ctx)
{
	restore6(ctx);
	return ALLOW;
}

SEC("cgroup/getpeername4")
int jail_getpeername4(struct bpf_sock_addr *ctx)
{
	restore4(ctx);
	return ALLOW;
}

SEC("cgroup/getpeername6")
int jail_getpeername6(struct bpf_sock_addr *ctx)
{
	restore6(ctx);
	return ALLOW;
}

/*
 * The handshake is about to start, and the client's port is chosen: file the original under the
 * client's address and port. Nothing here can refuse the connection; if the record cannot be
 * filed, the proxy finds none and refuses it.
 */
SEC("sockops")
int jail_sockops(struct bpf_sock_ops *ctx)
{
	struct jail_client_key key = {};
	struct jail_orig *o;
	struct bpf_sock *sk;

	if (ctx->op != BPF_SOCK_OPS_TCP_CONNECT_CB || !configured())
		return 1;
	sk = ctx->sk;
	if (!sk)
		return 1;
	o = bpf_sk_storage_get(&orig_by_sk, sk, 0, 0);
	if (!o || o->proto != IPPROTO_TCP)
		return 1;
	if (ctx->family == JAIL_AF_INET) {
		key.family = JAIL_AF_INET;
		key.addr[0] = ctx->local_ip4;
	} else {
		__u32 ip[4] = {ctx->local_ip6[0], ctx->local_ip6[1], ctx->local_ip6[2],
			       ctx->local_ip6[3]};

		if (v6_mapped(ip)) {
			key.family = JAIL_AF_INET;
			key.addr[0] = ip[3];
		} else {
			key.family = JAIL_AF_INET6;
			key.addr[0] = ip[0];
			key.addr[1] = ip[1];
			key.addr[2] = ip[2];
			key.addr[3] = ip[3];
		}
	}
	/* local_port is in host byte order in sock_ops; the key holds network order. */
	key.port = bpf_htons((__u16)ctx->local_port);
	key.netns = o->netns;
	bpf_map_update_elem(&orig_by_client, &key, o, BPF_ANY);
	return 1;
}

/*
 * A UDP datagram on its way to the DNS responder: file who sent it under its source address
 * and port, as sockops does for TCP, so the responder can name the process in its records. The
 * sender is the one the socket's sendmsg or connect hook saw (its socket storage).
 */
static __always_inline void note_udp_sender(struct __sk_buff *skb, const struct jail_view *v,
					    struct jail_client_key *key, __u32 l4)
{
	struct jail_orig *o;
	struct bpf_sock *sk;
	__u16 ports[2];

	sk = skb->sk;
	if (!sk)
		return;
	sk = bpf_sk_fullsock(sk);
	if (!sk)
		return;
	o = bpf_sk_storage_get(&orig_by_sk, sk, 0, 0);
	if (!o || o->proto != IPPROTO_UDP)
		return;
	if (bpf_skb_load_bytes(skb, l4, ports, sizeof(ports)) < 0)
		return;
	if (ports[1] != bpf_htons(v->dns_port))
		return;
	key->port = ports[0];
	key->netns = o->netns;
	bpf_map_update_elem(&orig_by_client, key, o, BPF_ANY);
}

SEC("cgroup_skb/egress")
int jail_egress(struct __sk_buff *skb)
{
	struct jail_client_key key = {};
	struct jail_view v;
	struct ipv6hdr ip6;
	struct iphdr ip;
	__u64 id = 0;
	int k;

	/* The packet's socket's jail: the task that runs now may be any (softirq, a timer). */
	if (cfg.entry_level == JAIL_LEVEL_OWN)
		id = bpf_skb_cgroup_id(skb);
	else if (cfg.entry_level)
		id = bpf_skb_ancestor_cgroup_id(skb, (int)cfg.entry_level);
	k = view_for(id, &v);
	if (k == VIEW_OTHERS)
		return ALLOW;
	if (k != VIEW_MINE)
		return DENY;
	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		if (bpf_skb_load_bytes(skb, 0, &ip, sizeof(ip)) < 0)
			return DENY;
		if ((bpf_ntohl(ip.daddr) >> 24) != 127)
			return DENY;
		if (ip.protocol == IPPROTO_UDP) {
			key.family = JAIL_AF_INET;
			key.addr[0] = ip.saddr;
			note_udp_sender(skb, &v, &key, (__u32)ip.ihl * 4);
		}
		return ALLOW;
	}
	if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		if (bpf_skb_load_bytes(skb, 0, &ip6, sizeof(ip6)) < 0)
			return DENY;
		if (ip6.daddr.in6_u.u6_addr32[0] != 0 || ip6.daddr.in6_u.u6_addr32[1] != 0 ||
		    ip6.daddr.in6_u.u6_addr32[2] != 0 ||
		    ip6.daddr.in6_u.u6_addr32[3] != bpf_htonl(1))
			return DENY;
		if (ip6.nexthdr == IPPROTO_UDP) {
			key.family = JAIL_AF_INET6;
			__builtin_memcpy(key.addr, &ip6.saddr, 16);
			note_udp_sender(skb, &v, &key, sizeof(ip6));
		}
		return ALLOW;
	}
	return DENY;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
