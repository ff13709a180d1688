#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# sockets.t: attacks the jail with the sockets its redirect cannot rewrite: ICMP ping sockets,
# raw sockets, AF_PACKET, SCTP, UDP-Lite. In the jail's own network namespace the kernel's own
# checks refuse most of them already (ping_group_range "1 0", no CAP_NET_RAW over the host), so
# each is tried again from a nested user + network namespace the jail makes itself, where those
# checks pass: there only the jail's BPF sock_create hook stands in the way. Ping sockets are the
# exception: /proc/sys is read-only in the jail, so no namespace made there can open its
# ping_group_range, and the kernel refuses them first; the hook is shown to refuse them by moving
# a process of such a namespace, made outside, into a running jail's cgroup. Every refusal is
# compared with the same attempt outside the jail, which must succeed (or the test proves nothing).
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/jail.sh"

need_root
export HOME=$TMPDIR_T XDG_CONFIG_HOME=$TMPDIR_T/xdg
clean_env

testhost_up_or_bail
testhost_sniff
testhost_listen 9998 udp
testhost_selftest 9998 udp

# The attempts, as "LABEL: RESULT" lines. "nested" ones run in `unshare -rn` with lo up and
# ping_group_range opened to gid 0 there (when it can be: nested-widen).
script='p=$1 th4=$2 th6=$3
echo "ping4: $($p ping "$th4")"
echo "ping6: $($p ping "$th6")"
echo "raw4: $($p socket inet 3 1)"
echo "raw6: $($p socket inet6 3 58)"
echo "rawip: $($p socket inet 3 255)"
echo "packet: $($p socket packet 3 0)"
echo "udplite: $($p socket inet 2 136)"
echo "sctp: $($p socket inet 1 132)"
echo "range: $(tr "\t" " " </proc/sys/net/ipv4/ping_group_range)"
unshare -rn sh -c "ip link set lo up
	(echo \"0 0\" >/proc/sys/net/ipv4/ping_group_range) 2>/dev/null &&
		echo \"nested-widen: written\" || echo \"nested-widen: refused\"
	echo \"nested-range: \$(tr \"\t\" \" \" </proc/sys/net/ipv4/ping_group_range)\"
	echo \"nested-ping4: \$($p ping 127.0.0.1)\"
	echo \"nested-ping6: \$($p ping ::1)\"
	echo \"nested-raw4: \$($p socket inet 3 1)\"
	echo \"nested-raw6: \$($p socket inet6 3 58)\"
	echo \"nested-packet: \$($p socket packet 3 0)\"
	echo \"nested-links: \$(ip -o link | wc -l)\"
	echo \"nested-udplite: \$($p socket inet 2 136)\"" 2>&1'
# In the jail only (outside, this would be the host's sysctl): widen the jail's own range.
widen='
echo "widen: $(echo "0 0" >/proc/sys/net/ipv4/ping_group_range 2>/dev/null && echo written || echo refused)"
echo "ping4-after: $($p ping "$th4")"'

host_range=$(cat /proc/sys/net/ipv4/ping_group_range)
at_exit "printf '%s\n' '$host_range' >/proc/sys/net/ipv4/ping_group_range"

# Outside the jail, the same attempts succeed: the jail is what refuses them.
out=$(sh -c "$script" _ "$PROBE" 127.0.0.1 ::1 2>&1)
want nested-range "0 0" "control: outside the jail, a nested namespace can open its ping_group_range"
want nested-ping4 "ok sent" "control: outside the jail, a nested namespace can ping (sock_create is what stops the jail)"
want nested-raw4 "ok socket" "control: outside the jail, a nested namespace can open a raw socket"
want udplite "ok socket" "control: outside the jail, UDP-Lite sockets can be made"
sctp_host=$(result sctp)

for who in root nobody; do
	args=()
	[ $who = nobody ] && args=(--user nobody)
	jailed "${args[@]}" -- sh -c "$script$widen" _ "$PROBE" "$TH4" "$TH6"
	# Seen from root's user namespace, whose one gid (0) is the host's nobody, neither 1 nor 0 is
	# mapped: "1 0" reads "65534 65534" (the value itself is read from the host below).
	if [ $who = nobody ]; then
		want range "1 0" "$who: the jail's namespace has ping_group_range \"1 0\""
	else
		want range "65534 65534" "$who: the jail's namespace has ping_group_range \"1 0\" (gids 1 and 0 unmapped)"
	fi
	want ping4 "err EACCES" "$who: ping socket (ICMP) to $TH4 cannot be made"
	want ping6 "err EACCES" "$who: ping socket (ICMPv6) to $TH6 cannot be made"
	want raw4 "err EPERM" "$who: raw IPv4 socket is refused"
	want raw6 "err EPERM" "$who: raw IPv6 socket is refused"
	want rawip "err EPERM" "$who: IPPROTO_RAW socket is refused"
	want packet "err EAFNOSUPPORT" "$who: AF_PACKET socket in the jail's namespace is refused (seccomp)"
	want udplite "err EPERM" "$who: UDP-Lite socket is refused by sock_create"
	want nested-widen refused "$who: a nested namespace cannot open its ping_group_range (/proc/sys is read-only)"
	want nested-ping4 "err EACCES" "$who: so a ping socket in a nested namespace is refused (by the kernel; BPF below)"
	want nested-ping6 "err EACCES" "$who: so an ICMPv6 ping socket in a nested namespace is refused"
	want nested-raw4 "err EPERM" "$who: raw socket in a nested namespace (CAP_NET_RAW there) is refused by sock_create"
	want nested-raw6 "err EPERM" "$who: raw IPv6 socket in a nested namespace is refused by sock_create"
	want nested-udplite "err EPERM" "$who: UDP-Lite in a nested namespace is refused by sock_create"
	# AF_PACKET never meets the inet hooks; in a nested namespace the kernel allows it, but that
	# namespace holds only its own lo: nothing to send on.
	want nested-links 1 "$who: AF_PACKET in a nested namespace ($(result nested-packet)) has only that namespace's lo"
	if [ "$sctp_host" = "err EPROTONOSUPPORT" ]; then
		skip "$who: SCTP: this kernel has no SCTP (and no modprobe to load it)"
	else
		want sctp "err EPERM" "$who: SCTP socket is refused"
	fi
	if [ "$(result widen)" = written ]; then
		want ping4-after "err EPERM" "$who: with the jail's ping_group_range widened, sock_create still refuses a ping socket"
	else
		want ping4-after "err EACCES" "$who: cannot widen the jail's ping_group_range, ping still refused"
	fi
done

# The jail's network namespace belongs to the host's user namespace; root in the jail is the
# host's nobody there, and /proc/sys is read-only: it cannot write that namespace's sysctls.
jailed -- sh -c "$script$widen" _ "$PROBE" "$TH4" "$TH6"
want widen refused "root in the jail cannot change the jail's network sysctls (ping_group_range)"

# --- sock_create against ping sockets: a nested namespace (range open) moved into a jail's cgroup --

jail_bg hold --log-level debug -- sleep 30
jail_wait_log "$TMPDIR_T/hold.log" "debug: jail " 5
cgh=$(jail_field "$TMPDIR_T/hold.log" cgroup)
jpid=""
for i in $(seq 100); do
	for p in $(cat "$cgh/cgroup.procs" 2>/dev/null); do
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" = sleep ] && jpid=$p
	done
	[ -n "$jpid" ] && break
	sleep 0.02
done
out="range: $(nsenter --net="/proc/$jpid/ns/net" cat /proc/sys/net/ipv4/ping_group_range | tr '\t' ' ')"
want range "1 0" "the jail's namespace has ping_group_range \"1 0\" (read from the host)"

mkfifo "$TMPDIR_T/go"
# shellcheck disable=SC2016 # for the inner shell
unshare -rn sh -c 'ip link set lo up; echo "0 0" >/proc/sys/net/ipv4/ping_group_range
echo "nested-range: $(tr "\t" " " </proc/sys/net/ipv4/ping_group_range)"
read _ <"$1"
echo "cgroup: $(sed -n "s/^0:://p" /proc/self/cgroup)"
echo "nested-ping4: $($2 ping 127.0.0.1)"
echo "nested-ping6: $($2 ping ::1)"' _ "$TMPDIR_T/go" "$PROBE" >"$TMPDIR_T/moved.out" 2>&1 &
moved=$!
# Moved once its namespace is set up, so the jail's programs see only the sockets.
jail_wait_log "$TMPDIR_T/moved.out" '^nested-range: ' 10
echo "$moved" >"$cgh/cgroup.procs"
echo go >"$TMPDIR_T/go"
wait "$moved"
out=$(cat "$TMPDIR_T/moved.out")
want nested-range "0 0" "moved: the nested namespace (made outside the jail) has ping_group_range open"
want cgroup "${cgh#"$(cg_root)"}" "moved: ... and its process is in the jail's cgroup"
want nested-ping4 "err EPERM" "moved: a ping socket there is refused by sock_create"
want nested-ping6 "err EPERM" "moved: an ICMPv6 ping socket there is refused by sock_create"
kill -INT "$BG_PID"
wait "$BG_WAIT"
rc=$?
expect_rc "the held jail ends with SIGINT (130)" 130

testhost_quiet "the test host saw no packet from any of these sockets"
check "the host's own ping_group_range is untouched ($host_range)" \
	[ "$(cat /proc/sys/net/ipv4/ping_group_range)" = "$host_range" ]

done_testing
