#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# lifetime.t: attacks the jail's lifetime. SIGKILL boundary while a jailed program keeps
# connecting: the jail must stay closed (pinned links, programs still attached to the cgroup),
# every jailed process must die with it, and nothing may reach the test host; `boundary cleanup`
# and the next run must reap what is left. Also: a socket made outside the jail and inherited as
# a descriptor must not be usable inside, and a jailed root must not be able to keep its cgroup
# from being removed.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/jail.sh"

need_root
export HOME=$TMPDIR_T XDG_CONFIG_HOME=$TMPDIR_T/xdg
clean_env
chmod 755 "$TMPDIR_T"
CG=$(cg_root)
NLINKS=13 # the programs in bpf/jail.bpf.c, one pinned link each, in the shared set

testhost_up_or_bail
testhost_listen 8444
testhost_sniff
testhost_selftest 8444

pins() { find "$(shared_set_dir)" -mindepth 1 -name 'jail_*' 2>/dev/null | wc -l; }
# present CG [SUB]: CG is known and CG/SUB is a directory; gone CG: CG is known and not there.
present() { [ -n "$1" ] && [ -d "$1${2:-}" ]; }
gone() { [ -n "$1" ] && [ ! -e "$1" ]; }

# --- SIGKILL while a jailed program keeps connecting ---------------------------------------------

jail_bg k1 --log-level debug -- "$PROBE" loop "$TH4" 8444 10
for i in $(seq 200); do
	redir_ports "$TMPDIR_T/k1.log" "$TH4" | grep -qx 8444 && break
	sleep 0.05
done
id=$(jail_field "$TMPDIR_T/k1.log" id)
cg=$(jail_field "$TMPDIR_T/k1.log" cgroup)
cid=$(cg_id "$cg")
redirected_8444() { redir_ports "$TMPDIR_T/k1.log" "$TH4" | grep -qx 8444; }
check "the jailed loop is being redirected before the kill" redirected_8444
BG_KILLED=1
kill -KILL "$BG_PID"
wait "$BG_WAIT" 2>/dev/null
n_pins=$(pins)
n_att=$(shared_links)
check "right after SIGKILL: the shared set's $NLINKS links are pinned in $(shared_set_dir) ($n_pins)" \
	[ "$n_pins" = "$NLINKS" ]
check "right after SIGKILL: the cgroup is still there ($cg)" present "$cg"
check "right after SIGKILL: all $NLINKS programs are attached above it ($n_att)" [ "$n_att" = "$NLINKS" ]
check "right after SIGKILL: its entry stays in the shared set (cgroup id $cid)" has_entry "$cid"
for i in $(seq 60); do
	grep -q '^populated 0' "$cg/cgroup.events" 2>/dev/null && break
	sleep 0.05
done
check "no jailed process survives boundary (cgroup populated 0)" grep -q '^populated 0' "$cg/cgroup.events"
check "no jailed process survives boundary (cgroup.procs empty)" [ ! -s "$cg/cgroup.procs" ]
no_probe_left() { ! pgrep -f "netprobe loop $TH4 8444" >/dev/null; }
check "no netprobe of the jail is left running" no_probe_left
testhost_quiet "the test host saw nothing, before or after the kill"

out=$("$BOUNDARY" cleanup 2>&1)
rc=$?
expect_rc "boundary cleanup exits 0" 0
contains "boundary cleanup says it removed something" "$out" "removed what stale jails left behind"
check "boundary cleanup removed the cgroup" [ ! -e "$cg" ]
entry_gone() { [ -n "$cid" ] && ! has_entry "$cid"; }
check "boundary cleanup removed its entry" entry_gone
out=$("$BOUNDARY" cleanup 2>&1)
contains "a second boundary cleanup finds nothing" "$out" "nothing to clean up"

# --- cleanup leaves a live jail alone; the next run reaps a killed one ------------------------

jail_bg k2 --log-level debug -- "$PROBE" loop "$TH4" 8444 10
for i in $(seq 100); do
	redir_ports "$TMPDIR_T/k2.log" "$TH4" | grep -qx 8444 && break
	sleep 0.05
done
id2=$(jail_field "$TMPDIR_T/k2.log" id)
cg2=$(jail_field "$TMPDIR_T/k2.log" cgroup)
cid2=$(cg_id "$cg2")
"$BOUNDARY" cleanup >/dev/null 2>&1
n2=$(redir_ports "$TMPDIR_T/k2.log" "$TH4" | wc -l)
sleep 0.3
live_jail_kept() { [ -d "$cg2" ] && [ "$(pins)" = "$NLINKS" ] && has_entry "$cid2"; }
check "boundary cleanup leaves a live jail alone (cgroup, entry, the set it uses)" live_jail_kept
check "... which keeps redirecting" [ "$(redir_ports "$TMPDIR_T/k2.log" "$TH4" | wc -l)" -gt "$n2" ]
kill -KILL "$BG_PID"
wait "$BG_WAIT" 2>/dev/null
jail2_left() { [ -d "$cg2" ] && has_entry "$cid2"; }
check "after a second SIGKILL the jail is left behind ($id2)" jail2_left
jailed -- true
contains "the next run reaps the killed jail's cgroup" "$log" "reaped stale jail $id2 (its boundary was killed)"
jail2_gone() { [ ! -e "$cg2" ] && ! has_entry "$cid2"; }
check "the killed jail's cgroup and entry are gone" jail2_gone
testhost_quiet "the test host saw nothing from the killed jails"

# --- an inherited socket -----------------------------------------------------------------------------

port=$((20000 + RANDOM % 20000))
: >"$TMPDIR_T/inherited"
python3 -u "$STAGE/lib/record_listener.py" "$port" "$TMPDIR_T/inherited" \
	"$TMPDIR_T/inherited.ready" &
lpid=$!
at_exit "kill $lpid 2>/dev/null"
for i in $(seq 100); do
	[ -e "$TMPDIR_T/inherited.ready" ] && break
	sleep 0.05
done
exec 5<>"/dev/tcp/127.0.0.1/$port"
out=$("$PROBE" fd 5)
check "control: outside the jail, fd 5 is a live socket to 127.0.0.1:$port ($out)" \
	[ "$out" = "ok peer=127.0.0.1:$port wrote" ]
sleep 0.2
before=$(grep -c inherited "$TMPDIR_T/inherited")
for who in root nobody; do
	args=()
	[ $who = nobody ] && args=(--user nobody)
	jailed "${args[@]}" -- sh -c 'p=$1; for f in 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do echo "fd$f: $($p fd $f)"; done' _ "$PROBE"
	want fd5 "err EBADF" "$who: the socket inherited as fd 5 is closed in the jail"
	check "$who: no descriptor 3-20 reaches the jailed command" \
		[ "$(grep -c "err EBADF" <<<"$out")" = 18 ]
done
exec 5>&-
sleep 0.2
check "the host-side listener got nothing through the inherited socket" \
	[ "$(grep -c inherited "$TMPDIR_T/inherited")" = "$before" ]

# --- a jailed root keeping its cgroup ----------------------------------------------------------
# Root in the jail is the host's nobody: it cannot make a cgroup below its jail's, which would keep
# the jail's cgroup from being removed (rmdir: EBUSY). Were one made there all the same (here host
# root stands in), the jail's end and boundary cleanup must remove it with the rest.

mnt=$TMPDIR_T/cgmnt
mkdir -p "$mnt"
jailed --log-level debug -- unshare -C sh -c \
	"mount -n -t cgroup2 none '$mnt' && mkdir '$mnt/held' && echo made; umount -n '$mnt'"
id3=$(jail_field "$TMPDIR_T/log" id)
cg3=$(jail_field "$TMPDIR_T/log" cgroup)
cid3=$(sed -nE 's/.*debug: jail .*, cgroup id ([0-9]+).*/\1/p' "$TMPDIR_T/log" | head -1)
at_exit "rmdir '$cg3/held' '$cg3' 2>/dev/null"
check "a jailed root cannot make a cgroup below its jail's (${out:-refused})" [ "$out" != made ]
check "a jailed root cannot keep its cgroup from being removed ($cg3)" gone "$cg3"
entry3_gone() { [ -n "$cid3" ] && ! has_entry "$cid3"; }
check "the entry of that jail is gone all the same (cgroup id $cid3)" entry3_gone

# child_jail NAME: a jail running sleep, with cgroups held/deeper made below its own; sets $cgc.
child_jail() {
	local i
	jail_bg "$1" --log-level debug -- sleep 30
	jail_wait_log "$TMPDIR_T/$1.log" "debug: jail " 5
	cgc=$(jail_field "$TMPDIR_T/$1.log" cgroup)
	for i in $(seq 100); do
		[ -s "$cgc/cgroup.procs" ] && break
		sleep 0.02
	done
	[ -n "$cgc" ] && mkdir -p "$cgc/held/deeper"
	at_exit "rmdir '$cgc/held/deeper' '$cgc/held' '$cgc' 2>/dev/null"
}
child_jail held1
check "a running jail's cgroup has children ($cgc/held/deeper)" present "$cgc" /held/deeper
kill -INT "$BG_PID"
wait "$BG_WAIT"
check "the jail's end removes its cgroup with the children in it" gone "$cgc"

child_jail held2
BG_KILLED=1
kill -KILL "$BG_PID"
wait "$BG_WAIT" 2>/dev/null
for i in $(seq 60); do
	grep -q '^populated 0' "$cgc/cgroup.events" 2>/dev/null && break
	sleep 0.05
done
check "after SIGKILL, the cgroup with children is left behind ($cgc)" present "$cgc" /held/deeper
"$BOUNDARY" cleanup >/dev/null 2>&1
check "boundary cleanup removes a jail's cgroup with children" gone "$cgc"

testhost_quiet "the test host saw nothing at all"

done_testing
