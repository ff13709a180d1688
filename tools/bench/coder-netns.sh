#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# coder-netns.sh: the network set-up and tear-down coder/boundary's nsjail performs around one
# command (its commands, as shared/reference/coder-boundary.md section 3.1 lists them), run
# around `true`, so the start-up cost of that design can be timed beside boundary's. A
# benchmark anchor only: it opens nothing to the world (the namespace's default route leads to
# a veth whose host end only this script uses) and it undoes every change, ip_forward included.
set -eu
id=$(( $(date +%s%N) % 10000000 ))
h=veth_h_$id
n=veth_n_$id
ns=bench_$id
fwd=$(cat /proc/sys/net/ipv4/ip_forward)
cleanup() {
	iptables -t nat -D POSTROUTING -s 192.168.100.0/24 -j MASQUERADE 2>/dev/null || true
	iptables -t nat -D PREROUTING -i "$h" -p tcp -j REDIRECT --to-ports 8080 2>/dev/null || true
	iptables -D FORWARD -s 192.168.100.0/24 -j ACCEPT 2>/dev/null || true
	iptables -D FORWARD -d 192.168.100.0/24 -j ACCEPT 2>/dev/null || true
	ip link del "$h" 2>/dev/null || true
	ip netns del "$ns" 2>/dev/null || true
	echo "$fwd" >/proc/sys/net/ipv4/ip_forward
}
trap cleanup EXIT
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
