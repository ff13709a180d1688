#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# httpjail-netns.sh: the network set-up and tear-down coder/httpjail's strong mode performs
# around one command (as shared/reference/coder-httpjail.md section 2 lists them: a named netns,
# a veth pair with a /30 in 10.99.0.0/16, resolv.conf under /etc/netns, one host nft table and
# one namespace nft table, each loaded atomically through `nft -f -`), run around `true`, so that
# its start-up cost can be timed beside boundary's. A benchmark anchor only: no traffic is sent,
# the addresses exist only on this veth pair, and every change is undone, ip_forward included.
set -eu
id=$(tr -dc 'a-z0-9' </dev/urandom | head -c 8)
ns=httpjail_$id
h=vh_$id
n=vn_$id
sub=$(( $(printf '%d' "0x$(printf '%s' "$id" | md5sum | head -c 4)") % 16384 * 4 ))
a=$((sub / 256))
b=$((sub % 256))
net=10.99.$a.$b
hip=10.99.$a.$((b + 1))
nip=10.99.$a.$((b + 2))
fwd=$(cat /proc/sys/net/ipv4/ip_forward)
made_etc_netns=
[ -d /etc/netns ] || made_etc_netns=1
cleanup() {
	nft delete table ip "httpjail_$id" 2>/dev/null || true
	ip link del "$h" 2>/dev/null || true
	ip netns del "$ns" 2>/dev/null || true
	rm -rf "/etc/netns/$ns"
	[ -z "$made_etc_netns" ] || rmdir /etc/netns 2>/dev/null || true
	echo "$fwd" >/proc/sys/net/ipv4/ip_forward
}
trap cleanup EXIT
ip netns add "$ns"
ip link add "$h" type veth peer name "$n"
ip link set "$n" netns "$ns"
ip addr add "$hip/30" dev "$h"
ip link set "$h" up
sysctl -qw net.ipv4.ip_forward=1
ip netns exec "$ns" ip link set lo up
ip netns exec "$ns" ip addr add "$nip/30" dev "$n"
ip netns exec "$ns" ip link set "$n" up
ip netns exec "$ns" ip route add default via "$hip"
mkdir -p "/etc/netns/$ns"
printf '# httpjail managed\nnameserver %s\n' "$hip" >"/etc/netns/$ns/resolv.conf"
nft -f - <<NFT
table ip httpjail_$id {
	chain prerouting {
		type filter hook prerouting priority -150; policy accept;
		iifname "$h" accept
	}
	chain postrouting {
		type nat hook postrouting priority 100; policy accept;
		ip saddr $net/30 masquerade
	}
	chain forward {
		type filter hook forward priority -100; policy accept;
		ip saddr $net/30 accept
		ip daddr $net/30 accept
	}
	chain input {
		type filter hook input priority -100; policy accept;
		iifname "$h" tcp dport { 18080, 18443 } accept
		iifname "$h" udp dport 53 accept
		iifname "$h" accept
	}
	chain output {
		type filter hook output priority -100; policy accept;
		oifname "$h" accept
	}
}
NFT
ip netns exec "$ns" nft -f - <<NFT
table ip httpjail {
	chain output {
		type nat hook output priority -100; policy accept;
		tcp dport 80 dnat to $hip:18080
		tcp dport 443 dnat to $hip:18443
	}
	chain outfilter {
		type filter hook output priority 0; policy drop;
		ct state established,related accept
		ip daddr $hip udp dport 53 accept
		ip daddr $hip tcp dport { 18080, 18443 } accept
		ip protocol udp drop
		ip protocol tcp drop
	}
}
NFT
ip netns exec "$ns" true
