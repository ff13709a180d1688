#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# coder-netns.sh: the network set-up and tear-down coder/boundary's nsjail performs around one
# command (its commands, as shared/reference/coder-boundary.md section 3.1 lists them), run
# around `true`, so the start-up cost of that design can be timed beside boundary's. A
# benchmark anchor only: it opens nothing to the world (the namespace's default route leads to
# a veth whose host end only this script uses) and it undoes every change, ip_forward included.
#
# --batched does the same with as few processes as it can: one `ip -batch` per side, one
# iptables-restore per table set, the way a careful implementation of that design would.
set -eu
batched=
[ "${1:-}" = --batched ] && batched=1
id=$(( $(date +%s%N) % 10000000 ))
h=veth_h_$id
n=veth_n_$id
ns=bench_$id
fwd=$(cat /proc/sys/net/ipv4/ip_forward)
cleanup() {
	if [ -n "$batched" ]; then
		iptables-restore --noflush <<EOF 2>/dev/null || true
*nat
-D POSTROUTING -s 192.168.100.0/24 -j MASQUERADE
-D PREROUTING -i $h -p tcp -j REDIRECT --to-ports 8080
COMMIT
*filter
-D FORWARD -s 192.168.100.0/24 -j ACCEPT
-D FORWARD -d 192.168.100.0/24 -j ACCEPT
COMMIT
EOF
		ip -batch - <<EOF 2>/dev/null || true
link del $h
netns del $ns
EOF
		echo "$fwd" >/proc/sys/net/ipv4/ip_forward
		return
	fi
	iptables -t nat -D POSTROUTING -s 192.168.100.0/24 -j MASQUERADE 2>/dev/null || true
	iptables -t nat -D PREROUTING -i "$h" -p tcp -j REDIRECT --to-ports 8080 2>/dev/null || true
	iptables -D FORWARD -s 192.168.100.0/24 -j ACCEPT 2>/dev/null || true
	iptables -D FORWARD -d 192.168.100.0/24 -j ACCEPT 2>/dev/null || true
	ip link del "$h" 2>/dev/null || true
	ip netns del "$ns" 2>/dev/null || true
	echo "$fwd" >/proc/sys/net/ipv4/ip_forward
}
trap cleanup EXIT
if [ -n "$batched" ]; then
	ip -batch - <<EOF
link add $h type veth peer name $n
addr add 192.168.100.1/24 dev $h
link set $h up
netns add $ns
link set $n netns $ns
EOF
	echo 1 >/proc/sys/net/ipv4/ip_forward
	iptables-restore --noflush <<EOF
*nat
-A POSTROUTING -s 192.168.100.0/24 -j MASQUERADE
-A PREROUTING -i $h -p tcp -j REDIRECT --to-ports 8080
COMMIT
*filter
-A FORWARD -s 192.168.100.0/24 -j ACCEPT
-A FORWARD -d 192.168.100.0/24 -j ACCEPT
COMMIT
EOF
	ip -n "$ns" -batch - <<EOF
addr add 192.168.100.2/24 dev $n
link set $n up
link set lo up
route add default via 192.168.100.1
EOF
	ip netns exec "$ns" sh -c 'echo 1 >/proc/sys/net/ipv4/conf/all/route_localnet &&
		iptables-restore <<RULES && exec true
*nat
-A OUTPUT -p udp --dport 53 -j DNAT --to-destination 127.0.0.1:5353
-A OUTPUT -p tcp --dport 53 -j DNAT --to-destination 127.0.0.1:5353
COMMIT
*filter
-A OUTPUT -p udp -d 127.0.0.1 -j ACCEPT
-A OUTPUT -p udp -s 127.0.0.1 -j ACCEPT
-A OUTPUT -p udp -j DROP
COMMIT
RULES'
	exit 0
fi
# host side
ip link add "$h" type veth peer name "$n"
ip addr add 192.168.100.1/24 dev "$h"
ip link set "$h" up
sysctl -qw net.ipv4.ip_forward=1
iptables -t nat -A POSTROUTING -s 192.168.100.0/24 -j MASQUERADE
iptables -t nat -A PREROUTING -i "$h" -p tcp -j REDIRECT --to-ports 8080
iptables -A FORWARD -s 192.168.100.0/24 -j ACCEPT
iptables -A FORWARD -d 192.168.100.0/24 -j ACCEPT
# the child's namespace (coder moves the veth into the child's netns by pid; a named one here)
ip netns add "$ns"
ip link set "$n" netns "$ns"
ip -n "$ns" addr add 192.168.100.2/24 dev "$n"
ip -n "$ns" link set "$n" up
ip -n "$ns" link set lo up
ip -n "$ns" route add default via 192.168.100.1
ip netns exec "$ns" sysctl -qw net.ipv4.conf.all.route_localnet=1
ip netns exec "$ns" iptables -t nat -A OUTPUT -p udp --dport 53 -j DNAT --to-destination 127.0.0.1:5353
ip netns exec "$ns" iptables -t nat -A OUTPUT -p tcp --dport 53 -j DNAT --to-destination 127.0.0.1:5353
ip netns exec "$ns" iptables -A OUTPUT -p udp -d 127.0.0.1 -j ACCEPT
ip netns exec "$ns" iptables -A OUTPUT -p udp -s 127.0.0.1 -j ACCEPT
ip netns exec "$ns" iptables -A OUTPUT -p udp -j DROP
ip netns exec "$ns" true
