#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# faults.t: boundary short of what it needs. Each case must leave boundary running (or, at
# start, refusing to run at all) with the jail closed, and say what is wrong in words:
#   - out of file descriptors (its limit lowered with prlimit under load): no busy loop, a
#     rate-limited warning, and every waiting connection served once descriptors are back
#   - the host's DNS refusing, or not answering: 502 / 504 naming the name and the cause, while
#     names from the hosts file are still served at once; with --use-real-dns, SERVFAIL
#   - its CA directory read-only: an existing CA is used as it is; none there: no start, no
#     command run, a message naming the directory
#   - the audit log's filesystem full: decisions go on (refused stays refused), one warning,
#     and records again once there is room
# Nothing here may reach the test host, which the jailed clients dial.
# $CURL is a command line (tests/lib/proxy.sh), split into words on purpose.
# shellcheck disable=SC2086
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/jail.sh"
. "$(dirname "$0")/../lib/proxy.sh"
proxy_suite
testhost_listen 80
testhost_listen 443
testhost_sniff
testhost_selftest 80

python3 "$STAGE/stress/load.py" serve "$TMPDIR_T/load.port" 2>"$TMPDIR_T/origin.err" &
at_exit "kill $! 2>/dev/null"
for _ in $(seq 100); do [ -s "$TMPDIR_T/load.port" ] && break; sleep 0.05; done
LP=$(cat "$TMPDIR_T/load.port")
D=$(shared_dir faults)

# cpu_ticks PID: user + system clock ticks PID has used
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null; }
fds() { find "/proc/$1/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }
running() { kill -0 "$B" 2>/dev/null; }

# --- out of file descriptors -------------------------------------------------------------------
mkdir -p "$D/fd"
chmod 1777 "$D/fd"
BND_LOG_LEVEL=info bnd_bg fd --allow "domain=up.test" -- sh -c '
	while [ ! -e "$1/start" ]; do sleep 0.05; done
	(sleep 1; dig +tcp +tries=1 +time=15 "@$3" up.test A >"$1/dig.out" 2>&1) &
	exec python3 "$2" client 200 "$3" 80 "up.test:$4" denied.test "$1" c1' _ "$D/fd" \
	"$STAGE/stress/load.py" "$TH4" "$LP"
B=$BND_PID
sleep 0.5
n0=$(fds "$B")
# Room for 20 more descriptors: 200 clients cannot all be accepted.
prlimit --pid "$B" --nofile=$((n0 + 20)):
diag "boundary holds $n0 descriptors; its limit is now $((n0 + 20))"
touch "$D/fd/start"
jail_wait_log "$TMPDIR_T/fd.log" "out of file descriptors" 20
# ... and DNS over TCP, which boundary's main loop accepts.
jail_wait_log "$TMPDIR_T/fd.log" "DNS over TCP: cannot accept" 10
t0=$(cpu_ticks "$B")
sleep 2
t1=$(cpu_ticks "$B")
tck=$(getconf CLK_TCK)
diag "out of descriptors, boundary used $((t1 - t0)) ticks of CPU in 2 s ($tck a second)"
check "out of descriptors, boundary waits instead of spinning (CPU $((t1 - t0)) ticks in 2 s, < 25%)" \
	[ $((t1 - t0)) -lt $((tck / 2)) ]
logged "... and says so, naming the fix" "$(cat "$TMPDIR_T/fd.log")" \
	"out of file descriptors \\(Too many open files\\): new connections wait in the backlog .*ulimit -n"
nw=$(grep -c "out of file descriptors" "$TMPDIR_T/fd.log")
once_per_worker() { [ "$nw" -ge 1 ] && [ "$nw" -le "$(nproc)" ]; }
check "... once a worker per 10 s, not once per attempt ($nw lines)" once_per_worker
check "... and keeps running" running
prlimit --pid "$B" --nofile=20000:
touch "$D/fd/go"
for _ in $(seq 300); do [ -e "$D/fd/c1.result" ] && break; sleep 0.1; done
res=$(cat "$D/fd/c1.result" 2>/dev/null)
diag "the 200 clients: $res"
contains "descriptors back: every waiting connection is served (200 open, 100 allowed, 100 refused)" \
	"$res" '"open": 200, "ok": {"allowed": 100, "refused": 100}, "errors": {}'
logged "... and boundary says it accepts again" "$(cat "$TMPDIR_T/fd.log")" \
	"file descriptors are free again: accepting connections"
logged "DNS over TCP out of descriptors: said" "$(cat "$TMPDIR_T/fd.log")" \
	"DNS over TCP: cannot accept a connection; it waits in the backlog until descriptors free up \\(raise the limit with ulimit -n\\): Too many open files"
for _ in $(seq 100); do grep -q "status:" "$D/fd/dig.out" 2>/dev/null && break; sleep 0.1; done
logged "... and the query waiting in the backlog is answered once they are back" \
	"$(cat "$D/fd/dig.out" 2>/dev/null)" "status: NOERROR"
touch "$D/fd/close"
wait "$B"
rc=$?
expect_rc "the jailed load exits 0 through boundary" 0

# --- the host's DNS refusing or silent ---------------------------------------------------------
# Refusing: nothing listens on 127.0.0.1:53 (proxy.sh's resolv.conf).
bnd --allow "domain=up.test" --allow "domain=nx.test" -- \
	$CURL -o /dev/null -w 'NX: %{http_code}\n' "http://nx.test:$LP/ok"
want NX 502 "a name the host's DNS cannot resolve (server refusing): 502"
logged "... and the log names the name and the cause" "$log" "502: cannot resolve nx\\.test: "

# Silent: a server that reads every query and answers none.
python3 "$STAGE/lib/fake_resolver.py" "$TMPDIR_T/dead" silent 2>/dev/null &
at_exit "kill $! 2>/dev/null"
for _ in $(seq 100); do [ -s "$TMPDIR_T/dead.ready" ] && break; sleep 0.05; done
echo "nameserver $(cat "$TMPDIR_T/dead.ready")" >"$UP/resolv.conf"
# Eight lookups that hang (more than the four resolver threads boundary starts with), then a
# name from the hosts file, which must not wait behind them.
t0=$(date +%s%N)
bnd --allow "domain=up.test" --allow "domain=*.nx.test" --upstream-timeout 2 -- sh -c '
	for i in 1 2 3 4 5 6 7 8; do
		$CURL -o /dev/null -w "NX$i: %{http_code} %{time_total}\n" "http://n$i.nx.test:$1/ok" &
	done
	sleep 0.5
	$CURL -o /dev/null -w "UP: %{http_code} %{time_total}\n" "http://up.test:$1/ok"
	wait' _ "$LP"
t1=$(date +%s%N)
diag "$out"
ms=$(((t1 - t0) / 1000000))
check "boundary ends with its command, not after the hung lookups (in $ms ms)" [ $ms -lt 6000 ]
logged "... saying it left them" "$log" "boundary stops with [0-9]+ name lookup\\(s\\) still waiting for the host's DNS"
nx=$(grep -cE '^NX[0-9]: 504 ' <<<"$out")
check "names the host's DNS never answers: 504 for all 8 ($nx)" [ "$nx" = 8 ]
logged "... at --upstream-timeout, the log saying the lookup took too long" "$log" \
	"504: looking up n[0-9]\\.nx\\.test took too long \\(is the host's DNS answering\\?\\)"
up=$(result UP)
served_at_once() { [ "${up%% *}" = 200 ] && awk -v s="${up##* }" "BEGIN { exit !(s < 1.5) }"; }
check "meanwhile a name from the hosts file is served at once, not behind them ($up)" served_at_once

bnd --use-real-dns --allow "domain=real.nx.test" -- sh -c '
	s=$(date +%s); getent ahostsv4 real.nx.test >/dev/null; echo "GETENT: $? $(($(date +%s) - s))"'
got=$(result GETENT)
failed_in_time() { [ "${got%% *}" != 0 ] && [ "${got##* }" -le 15 ]; }
check "--use-real-dns, the host's DNS silent: the jailed lookup fails, within 15 s ($got)" failed_in_time
logged "... and the log says the host's resolver gave no answer" "$log" \
	"DNS A real\\.nx\\.test from .*the host's resolver gave no answer"
echo "nameserver 127.0.0.1" >"$UP/resolv.conf"

# --- the CA directory read-only ----------------------------------------------------------------
X=$TMPDIR_T/xdg
mkdir -p "$X"
at_exit "umount -l '$X' 2>/dev/null"
mount -t tmpfs -o ro,size=1m boundary-ro-ca "$X"
bnd --allow "domain=up.test" -- touch "$D/ran"
check "no CA and a read-only CA directory: boundary does not start (exit $rc)" [ "$rc" != 0 ]
check "... and runs nothing" [ ! -e "$D/ran" ]
logged "... saying which directory and why" "$log" "$X/coder_boundary.*Read-only file system"
umount "$X"
mount -t tmpfs -o size=1m boundary-ro-ca "$X"
bnd --allow "domain=up.test" -- true
ca_files=$(find "$X/coder_boundary" -type f -size +0 2>/dev/null | wc -l)
ca_made() { [ "$rc" = 0 ] && [ "$ca_files" -ge 2 ]; }
check "a CA made while the directory was writable (exit $rc, $ca_files files)" ca_made
mount -o remount,ro "$X"
bnd --allow "domain=up.test" -- $CURL -o /dev/null -w 'RO: %{http_code}\n' \
	"https://up.test:$P_HTTPS/echo/ro"
want RO 200 "the CA directory read-only: the existing CA intercepts HTTPS as before"
umount "$X"

# --- the audit log's filesystem full -----------------------------------------------------------
F=$TMPDIR_T/full
mkdir -p "$F" "$D/au"
chmod 1777 "$D/au"
at_exit "umount -l '$F' 2>/dev/null"
mount -t tmpfs -o size=64k boundary-full "$F"
: >"$F/audit.jsonl"
dd if=/dev/zero of="$F/fill" bs=4k 2>/dev/null
diag "the audit filesystem: $(df -k --output=avail "$F" | tail -1 | tr -d ' ') KiB free"
BND_LOG_LEVEL=info bnd_bg au --audit-log "$F/audit.jsonl" --allow "domain=up.test" -- sh -c '
	for r in 1 2; do
		while [ ! -e "$1/go$r" ]; do sleep 0.05; done
		for i in 1 2 3; do
			$CURL -o /dev/null -w "A$r$i: %{http_code}\n" "http://up.test:$2/ok?r=$r"
			$CURL -o /dev/null -w "D$r$i: %{http_code}\n" "http://denied.test:$2/?r=$r"
		done >"$1/r$r"
		touch "$1/done$r"
	done' _ "$D/au" "$LP"
B=$BND_PID
touch "$D/au/go1"
for _ in $(seq 200); do [ -e "$D/au/done1" ] && break; sleep 0.05; done
r1=$(tr '\n' ' ' <"$D/au/r1" 2>/dev/null)
check "audit log on a full disk: requests are still decided, refused stays refused ($r1)" \
	[ "$r1" = "A11: 200 D11: 403 A12: 200 D12: 403 A13: 200 D13: 403 " ]
check "... boundary keeps running" running
jail_wait_log "$TMPDIR_T/au.log" "cannot write the audit log" 5
aulog=$(cat "$TMPDIR_T/au.log")
logged "... and says the audit log cannot be written, and why" "$aulog" \
	"cannot write the audit log $F/audit.jsonl \\(records are dropped until it works again\\): No space left on device"
nw=$(grep -c "cannot write the audit log" <<<"$aulog")
check "... once, not once per record ($nw)" [ "$nw" = 1 ]
rm -f "$F/fill"
touch "$D/au/go2"
for _ in $(seq 200); do [ -e "$D/au/done2" ] && break; sleep 0.05; done
wait "$B"
rc=$?
expect_rc "the jailed command's status comes back through boundary" 0
aulog=$(cat "$TMPDIR_T/au.log")
logged "room again: boundary says the audit log is written again" "$aulog" \
	"the audit log $F/audit.jsonl is written again"
n2=$(grep -c 'r=2' "$F/audit.jsonl")
check "... and the second round's decisions are in it ($n2 lines)" [ "$n2" -ge 6 ]
umount "$F"

testhost_quiet "the test host the jailed clients dialled saw nothing"
done_testing
