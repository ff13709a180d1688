#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# shared.t: boundary's own jails are entries in one shared set of programs on <cgroup2>/boundary
# (docs/ARCHITECTURE.md). What that set must refuse: a cgroup made under <cgroup2>/boundary by
# anything but boundary (no entry: no socket, no connect, no datagram, no packet), a process put
# into the cgroup of a jail whose boundary was SIGKILLed (its entry stays until cleanup, its
# listeners are gone), and what the sweep must remove: a set of another ABI that no jail uses
# (at the next jail's start), this ABI's set once unused (boundary cleanup), never a set in use.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/jail.sh"

need_root
export HOME=$TMPDIR_T XDG_CONFIG_HOME=$TMPDIR_T/xdg
clean_env
CG=$(cg_root)

testhost_up_or_bail
testhost_listen 8555
testhost_listen 9555 udp
testhost_sniff
testhost_selftest 8555

# in_cgroup DIR CMD...: runs CMD (netprobe) in the cgroup DIR, as root in the host's namespaces.
in_cgroup() {
	local dir=$1
	shift
	out=$(sh -c 'echo $$ >"$1/cgroup.procs" && shift && exec "$@"' _ "$dir" "$@" 2>&1)
}

# --- the set is there: a jail loads it, or finds it -------------------------------------------------

jailed -- true
expect_rc "a jail runs (and leaves the shared set in place)" 0
check "the shared set is attached to $CG/boundary ($(shared_links) programs)" [ "$(shared_links)" = 13 ]

# --- a cgroup someone else makes below <cgroup2>/boundary ------------------------------------------

stranger=$CG/boundary/stranger-$$
mkdir "$stranger"
at_exit "rmdir '$stranger' 2>/dev/null"
in_cgroup "$stranger" "$PROBE" tcp "$TH4" 8555
check "a stranger's cgroup: TCP to the test host is refused ($out)" [ "$out" = "err EPERM" ]
in_cgroup "$stranger" "$PROBE" tcp 127.0.0.1 8555
check "a stranger's cgroup: TCP to loopback is refused ($out)" [ "$out" = "err EPERM" ]
in_cgroup "$stranger" "$PROBE" tcp "$TH6" 8555
check "a stranger's cgroup: TCP over IPv6 is refused ($out)" [ "$out" = "err EPERM" ]
in_cgroup "$stranger" "$PROBE" udp "$TH4" 9555
check "a stranger's cgroup: UDP is refused ($out)" [ "$out" = "err EPERM" ]
in_cgroup "$stranger" "$PROBE" dns udp "$TH4" 53
check "a stranger's cgroup: DNS is refused ($out)" [ "$out" = "err EPERM" ]
in_cgroup "$stranger" "$PROBE" socket inet 1 0
check "a stranger's cgroup: not even a socket ($out)" [ "$out" = "err EPERM" ]
stranger_id=$(cg_id "$stranger")
check "... and it has no entry (cgroup id $stranger_id)" [ -n "$stranger_id" ] && ! has_entry "$stranger_id"
rmdir "$stranger"

# --- a jail whose boundary was killed --------------------------------------------------------------

jail_bg k --log-level debug -- sleep 30
jail_wait_log "$TMPDIR_T/k.log" "debug: jail " 5
cg=$(jail_field "$TMPDIR_T/k.log" cgroup)
cid=$(cg_id "$cg")
at_exit "rmdir '$cg' 2>/dev/null"
BG_KILLED=1
kill -KILL "$BG_PID"
wait "$BG_WAIT" 2>/dev/null
for i in $(seq 60); do
	grep -q '^populated 0' "$cg/cgroup.events" 2>/dev/null && break
	sleep 0.05
done
check "after SIGKILL the jail's cgroup stays ($cg)" [ -d "$cg" ]
check "... and so does its entry (cgroup id $cid)" has_entry "$cid"
# Any boundary's start reaps a killed jail (another suite's, another tree's): then there is nothing
# left to put a process into, which is as closed as it gets.
in_dead_jail() {
	in_cgroup "$cg" "$PROBE" "$@"
	[ -d "$cg" ] || out="reaped meanwhile"
}
in_dead_jail tcp "$TH4" 8555
check "a process put into it reaches nothing over TCP ($out)" [ "${out#err }" != "$out" -o "$out" = "reaped meanwhile" ]
in_dead_jail udp "$TH4" 9555
check "... nor over UDP ($out)" [ "$out" = "err EPERM" -o "$out" = "reaped meanwhile" ]
"$BOUNDARY" cleanup >/dev/null 2>&1
gone_both() { [ ! -e "$cg" ] && ! has_entry "$cid"; }
check "boundary cleanup removes the cgroup, then the entry" gone_both

# --- two ABIs side by side -------------------------------------------------------------------------
# BOUNDARY_OTHER_ABI=BIN: a build of boundary whose JAIL_ABI_VERSION differs (bpf/jail.h edited
# in a copy of the tree). Its set goes on the same parent; each set must let the other's jails be.

redirected() { [ "${1#ok peer=$TH4:8555}" != "$1" ]; }
if [ -n "${BOUNDARY_OTHER_ABI:-}" ]; then
	"$BOUNDARY_OTHER_ABI" --log-level debug -- sleep 4 2>"$TMPDIR_T/other.log" &
	opid=$!
	jail_wait_log "$TMPDIR_T/other.log" "debug: jail " 10
	jailed -- "$PROBE" tcp "$TH4" 8555
	check "a jail of this ABI is redirected to its own proxy beside the other set ($out)" redirected "$out"
	check "two sets on $CG/boundary at once ($(shared_links) programs)" [ "$(shared_links)" = 26 ]
	out=$("$BOUNDARY_OTHER_ABI" -- "$PROBE" tcp "$TH4" 8555 2>/dev/null)
	check "a jail of the other ABI is redirected to its own proxy beside this set ($out)" redirected "$out"
	stranger=$CG/boundary/stranger2-$$
	mkdir "$stranger"
	in_cgroup "$stranger" "$PROBE" tcp "$TH4" 8555
	check "with both sets, a stranger's cgroup is still refused ($out)" [ "$out" = "err EPERM" ]
	rmdir "$stranger"
	wait "$opid"
	other=$(ls -d /sys/fs/bpf/boundary/shared-* | grep -v "/shared-$JAIL_ABI\$")
	jailed -- true
	check "the next jail's start removes the other set, unused now ($other)" [ ! -e "$other" ]
	check "... and only its programs leave $CG/boundary ($(shared_links))" [ "$(shared_links)" = 13 ]
else
	skip "two ABIs side by side: set BOUNDARY_OTHER_ABI to a build with another JAIL_ABI_VERSION"
fi

# --- sets no jail uses ------------------------------------------------------------------------------
# A set of another ABI is simulated by its pinned entries map (the key, a cgroup id, is the same
# in every ABI); unused, the next jail's start removes it; with an entry of a live cgroup, never.

old=/sys/fs/bpf/boundary/shared-9999
at_exit "rm -rf '$old'"
mkdir -p "$old"
bpftool map create "$old/entries" type hash key 8 value 24 entries 16 name entries
jailed -- true
check "a jail's start removes an unused set of another ABI ($old)" [ ! -e "$old" ]

live=$CG/boundary/held-$$
mkdir "$live"
at_exit "rmdir '$live' 2>/dev/null"
mkdir -p "$old"
bpftool map create "$old/entries" type hash key 8 value 24 entries 16 name entries
key=$(printf '%016x' "$(cg_id "$live")" | sed -E 's/(..)(..)(..)(..)(..)(..)(..)(..)/\8 \7 \6 \5 \4 \3 \2 \1/')
# shellcheck disable=SC2086 # bytes, one a word
bpftool map update pinned "$old/entries" key hex $key value hex $(printf '00 %.0s' $(seq 24))
jailed -- true
check "a set of another ABI with a jail in it stays" [ -e "$old/entries" ]
rmdir "$live"
"$BOUNDARY" cleanup >/dev/null 2>&1
check "once that jail's cgroup is gone, boundary cleanup removes the set" [ ! -e "$old" ]
check "boundary cleanup removes this ABI's set too when no jail uses it" [ ! -e "$(shared_set_dir)" ]
check "... and the owners map with the last set" [ ! -e /sys/fs/bpf/boundary/owners ]
check "... which detaches its programs from $CG/boundary" [ "$(shared_links)" = 0 ]
jailed -- true
expect_rc "the next jail loads the set again" 0

testhost_quiet "the test host saw nothing at all"
done_testing
