#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# happy_eyeballs.t: when an upstream name has an address that does not answer, the proxy races
# the next one after 250 ms (RFC 8305) instead of waiting for the first to time out.
# The silent address is an unassigned one on a veth of our own (ARP goes unanswered); the
# server listens on the host's end of that veth. Nothing leaves this machine.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/tap.sh

if [ "$(id -u)" != 0 ]; then
	skip "needs root"
	done_testing
	exit 0
fi
NS=bnd-he-$$
H=bhe$$
cleanup() {
	[ -n "${srv:-}" ] && kill $srv 2>/dev/null
	ip link del "$H" 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	rm -rf "$TMPDIR_T"
}
trap cleanup EXIT
ip netns add "$NS"
ip link add "$H" type veth peer name bhen$$ netns "$NS"
ip addr add 10.251.176.1/24 dev "$H"
ip -6 addr add fd00:b0d:a:2::1/64 dev "$H" nodad
ip link set "$H" up
ip -n "$NS" link set bhen$$ up

PORT=$((20000 + $$ % 20000))
srv=""
for addr in 10.251.176.1 fd00:b0d:a:2::1; do
	python3 tests/lib/http_server.py raced "$PORT" /dev/null /dev/null "$addr" >/dev/null 2>&1 &
	srv="$srv $!"
done
for _ in $(seq 50); do
	curl -s -o /dev/null -m 1 "http://10.251.176.1:$PORT/" &&
		curl -s -o /dev/null -m 1 "http://[fd00:b0d:a:2::1]:$PORT/" && break
	sleep 0.1
done

# he.test has a silent address (unassigned on our veth: nobody answers its ARP or neighbour
# solicitation) and an answering one of the other family. Whichever order the resolver puts
# them in, the silent one must come first, so try both ways round.
resolve() {
	unshare -m --propagation private sh -c "mount --bind $TMPDIR_T/hosts /etc/hosts; getent ahosts he.test" |
		awk '$2 == "STREAM" {print $1}' | tr '\n' ' '
}
silent=""
for pair in "fd00:b0d:a:2::99 10.251.176.1" "10.251.176.99 fd00:b0d:a:2::1"; do
	set -- $pair
	printf '%s he.test\n%s he.test\n127.0.0.1 localhost\n' "$1" "$2" >"$TMPDIR_T/hosts"
	order=$(resolve)
	if [ "${order%% *}" = "$1" ]; then
		silent=$1
		break
	fi
done
diag "the resolver's order for he.test: $order"
t0=$(date +%s%N)
out=$(unshare -m --propagation private sh -c "mount --bind $TMPDIR_T/hosts /etc/hosts; exec $BOUNDARY --allow domain=he.test -- curl -sS -m 20 http://he.test:$PORT/" 2>"$TMPDIR_T/log")
t1=$(date +%s%N)
ms=$(((t1 - t0) / 1000000))
if [ "$out" = raced ] && [ -n "$silent" ]; then
	ok "the silent address ($silent) first, the other family's answers: 200 (in $ms ms)"
else
	fail "the silent address first, the other family's answers"
	diag "got: $out" "order: $order" "$(cat "$TMPDIR_T/log")"
fi
# Without the race, the request waits for the first attempt to fail (ARP gives up after ~3 s).
if [ "$ms" -lt 1800 ]; then
	ok "the answering address was raced in well before the silent one gave up ($ms ms < 1800 ms)"
else
	fail "the answering address was raced in well before the silent one gave up ($ms ms)"
fi
# While the raced connection waits for a slow answer, boundary must be idle, not spinning.
unshare -m --propagation private sh -c "mount --bind $TMPDIR_T/hosts /etc/hosts; exec $BOUNDARY --allow domain=he.test -- curl -sS -m 20 http://he.test:$PORT/slow" >"$TMPDIR_T/slow.out" 2>&1 &
bg=$!
for _ in $(seq 50); do
	[ "$(cat /proc/$bg/comm 2>/dev/null)" = boundary ] && break
	sleep 0.02
done
sleep 0.8
t_a=$(awk '{print $14 + $15}' /proc/$bg/stat 2>/dev/null || echo 0)
sleep 1
t_b=$(awk '{print $14 + $15}' /proc/$bg/stat 2>/dev/null || echo 0)
wait "$bg"
ticks=$((t_b - t_a))
if grep -q raced "$TMPDIR_T/slow.out" && [ "$ticks" -le 20 ]; then
	ok "waiting on the raced connection costs no CPU ($ticks ticks in 1 s)"
else
	fail "waiting on the raced connection costs no CPU ($ticks ticks in 1 s)"
	diag "$(cat "$TMPDIR_T/slow.out")"
fi
done_testing
