#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# bind.t: attacks the jail by binding: a listener on a non-loopback address (an inbound channel
# no connect hook would see), and a listener on the proxy's or the DNS responder's own port (to
# take the place of boundary's listeners in the jail's namespace, with or without SO_REUSEPORT).
# The bind4/bind6 hooks must refuse all of them with EPERM; without the hooks the kernel would
# answer EADDRNOTAVAIL or EADDRINUSE, so EPERM is the jail's doing. Binding loopback or the
# wildcard on other ports must keep working.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/jail.sh"

need_root
export HOME=$TMPDIR_T XDG_CONFIG_HOME=$TMPDIR_T/xdg
unset BOUNDARY_ALLOW BOUNDARY_CONFIG BOUNDARY_LOG_LEVEL BOUNDARY_USER SUDO_USER SUDO_UID SUDO_GID
chmod 755 "$TMPDIR_T"
TH4=10.251.173.2
TH6=fd00:b0d:a:1::2

# Inside the jail: the ports come from boundary's own debug log, written before the command ran.
script='p=$1 log=$2 th4=$3 th6=$4
pp=$(sed -nE "s/.*proxy port ([0-9]+), DNS port ([0-9]+).*/\1/p" "$log")
dp=$(sed -nE "s/.*proxy port ([0-9]+), DNS port ([0-9]+).*/\2/p" "$log")
echo "ports: $pp $dp"
echo "th4: $($p bind "$th4" 0)"
echo "th6: $($p bind "$th6" 0)"
echo "mapped: $($p bind "::ffff:$th4" 0)"
echo "th4-port: $($p bind "$th4" 8080)"
echo "any4: $($p bind 0.0.0.0 0)"
echo "any6: $($p bind :: 0)"
echo "lo4: $($p bind 127.0.0.1 0)"
echo "lo4b: $($p bind 127.0.0.2 0)"
echo "lo6: $($p bind ::1 0)"
echo "proxy-lo4: $($p bind 127.0.0.1 "$pp")"
echo "proxy-any4: $($p bind 0.0.0.0 "$pp")"
echo "proxy-lo6: $($p bind ::1 "$pp")"
echo "proxy-any6: $($p bind :: "$pp")"
echo "proxy-mapped: $($p bind ::ffff:127.0.0.1 "$pp")"
echo "proxy-reuse4: $($p reuseport tcp 127.0.0.1 "$pp")"
echo "proxy-reuse6: $($p reuseport tcp ::1 "$pp")"
echo "dns-tcp4: $($p bind 127.0.0.1 "$dp")"
echo "dns-reuse-udp4: $($p reuseport udp 127.0.0.1 "$dp")"
echo "dns-reuse-udp6: $($p reuseport udp ::1 "$dp")"
echo "dns-udp-any4: $($p reuseport udp 0.0.0.0 "$dp")"'

for who in root nobody; do
	args=()
	[ $who = nobody ] && args=(--user nobody)
	jailed --log-level debug "${args[@]}" -- sh -c "$script" _ "$PROBE" "$TMPDIR_T/log" "$TH4" "$TH6"
	pp=$(jail_field "$TMPDIR_T/log" proxy_port)
	dp=$(jail_field "$TMPDIR_T/log" dns_port)
	want ports "$pp $dp" "$who: the jail read the proxy and DNS ports from boundary's log"
	want th4 "err EPERM" "$who: bind to a non-loopback IPv4 address is refused"
	want th6 "err EPERM" "$who: bind to a non-loopback IPv6 address is refused"
	want mapped "err EPERM" "$who: bind to a v4-mapped non-loopback address is refused"
	want th4-port "err EPERM" "$who: bind to a non-loopback address on a fixed port is refused"
	want any4 "ok bound" "$who: bind to 0.0.0.0 (only lo in the jail) still works"
	want any6 "ok bound" "$who: bind to :: still works"
	want lo4 "ok bound" "$who: bind to 127.0.0.1 still works"
	want lo4b "ok bound" "$who: bind to 127.0.0.2 still works"
	want lo6 "ok bound" "$who: bind to ::1 still works"
	want proxy-lo4 "err EPERM" "$who: bind to the proxy's port on 127.0.0.1 is refused"
	want proxy-any4 "err EPERM" "$who: bind to the proxy's port on 0.0.0.0 is refused"
	want proxy-lo6 "err EPERM" "$who: bind to the proxy's port on ::1 is refused"
	want proxy-any6 "err EPERM" "$who: bind to the proxy's port on :: is refused"
	want proxy-mapped "err EPERM" "$who: bind to the proxy's port on ::ffff:127.0.0.1 is refused"
	want proxy-reuse4 "err EPERM" "$who: SO_REUSEPORT bind to the proxy's port (127.0.0.1) is refused"
	want proxy-reuse6 "err EPERM" "$who: SO_REUSEPORT bind to the proxy's port (::1) is refused"
	want dns-tcp4 "err EPERM" "$who: bind to the DNS responder's TCP port is refused"
	want dns-reuse-udp4 "err EPERM" "$who: SO_REUSEPORT UDP bind to the DNS responder's port (127.0.0.1) is refused"
	want dns-reuse-udp6 "err EPERM" "$who: SO_REUSEPORT UDP bind to the DNS responder's port (::1) is refused"
	want dns-udp-any4 "err EPERM" "$who: UDP bind to the DNS responder's port on 0.0.0.0 is refused"
done

# The same binds outside any jail, in a namespace with boundary-like listeners, are not EPERM:
# the refusals above are the hooks'.
out=$(unshare -n sh -c 'ip link set lo up && python3 "$@"' _ "$STAGE/lib/bind_control.py" "$PROBE" "$TH4")
want proxy-lo4 "err EADDRINUSE" "control: outside the jail, binding a taken port is EADDRINUSE, not EPERM"
want th4 "err EADDRNOTAVAIL" "control: outside the jail, binding an absent address is EADDRNOTAVAIL"

done_testing
