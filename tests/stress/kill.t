#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# kill.t: boundary SIGKILLed in the middle of a jailed load (four processes keeping 200
# keep-alive connections busy through it). The jail must stay closed: its links still pinned,
# every jailed process gone with boundary, no connection reaching the test host the load dials
# nor the origin behind the proxy once boundary is dead. The next run must reap what is left,
# and leave nothing behind itself.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/jail.sh"
. "$(dirname "$0")/../lib/proxy.sh"
proxy_suite
testhost_listen 80
testhost_sniff
testhost_selftest 80

python3 "$STAGE/stress/load.py" serve "$TMPDIR_T/load.port" "$TMPDIR_T/accepted" 2>"$TMPDIR_T/origin.err" &
at_exit "kill $! 2>/dev/null"
for _ in $(seq 100); do [ -s "$TMPDIR_T/load.port" ] && break; sleep 0.05; done
LP=$(cat "$TMPDIR_T/load.port")
accepted() { cat "$TMPDIR_T/accepted" 2>/dev/null || echo 0; }
state_snapshot "$TMPDIR_T/before"

bnd_bg k --allow "domain=up.test" -- sh -c '
	for i in 1 2 3 4; do python3 "$1" hammer 50 "$2" 80 "up.test:$3" & done
	wait' _ "$STAGE/stress/load.py" "$TH4" "$LP"
B=$BND_PID
for _ in $(seq 200); do [ "$(accepted)" -ge 200 ] && break; sleep 0.05; done
pids=$(pgrep -f "load.py hammer 50 $TH4")
first=$(head -1 <<<"$pids")
cg=$(awk -F: '$1 == "0" { print $3; exit }' "/proc/$first/cgroup" 2>/dev/null)
cgdir=$(find "$(cg_root)/boundary" -mindepth 1 -maxdepth 1 -type d -name "$B-*" | head -1)
id=$(basename "$cgdir")
cid=$(cg_id "$cgdir")
diag "the load: $(wc -l <<<"$pids") jailed processes in $cgdir ($cg inside), the origin has accepted $(accepted)"
load_ran() { [ "$(accepted)" -ge 200 ] && [ -n "$id" ]; }
check "a jailed load runs through boundary ($(accepted) connections reached the origin)" load_ran

kill -KILL "$B"
wait "$B" 2>/dev/null
# What the proxy connected before it died may still wait in the origin's backlog.
sleep 0.3
at_kill=$(accepted)
n_pins=$(find "$(shared_set_dir)" -mindepth 1 -name 'jail_*' 2>/dev/null | wc -l)
check "right after SIGKILL: the shared set's links are pinned ($n_pins in $(shared_set_dir))" \
	[ "$n_pins" -gt 0 ]
check "right after SIGKILL: the jail's entry stays (cgroup id $cid), keeping it closed" has_entry "$cid"
for _ in $(seq 100); do
	grep -q '^populated 0' "$cgdir/cgroup.events" 2>/dev/null && break
	sleep 0.05
done
check "every jailed process died with boundary (cgroup populated 0)" grep -q '^populated 0' "$cgdir/cgroup.events"
no_load_left() { ! pgrep -f "load.py hammer 50 $TH4" >/dev/null; }
check "no load process is left" no_load_left
sleep 1
check "the origin saw no connection after the kill ($at_kill at the kill, $(accepted) now)" \
	[ "$(accepted)" = "$at_kill" ]
testhost_quiet "the test host the load dialled saw nothing, before or after the kill"

bnd --allow "domain=up.test" -- true
expect_rc "the next run works" 0
check "... and reaped the killed jail's cgroup" [ ! -d "$cgdir" ]
entry_gone() { [ -n "$cid" ] && ! has_entry "$cid"; }
check "... and its entry" entry_gone
state_snapshot "$TMPDIR_T/after"
left=$(state_leftovers "$TMPDIR_T/before" "$TMPDIR_T/after")
check "no cgroup, pin, namespace or process left behind" [ -z "$left" ]
[ -z "$left" ] || diag "left: $left"
done_testing
