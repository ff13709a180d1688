#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# jail.t: the jail end to end, as root. Every outbound TCP connection of a jailed program is
# redirected to boundary's proxy, which logs (at debug level) where it was going and who made it;
# DNS (port 53, any address) is answered by boundary itself; the jail's loopback is its own;
# exit status, signals, stdin and stdout pass through; the command runs with no privilege over
# the host; nothing is left behind.
# Jailed programs aim at a test host of our own (tests/lib/jail.sh), which must see nothing.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/jail.sh"

need_root

export HOME=$TMPDIR_T/home XDG_CONFIG_HOME=$TMPDIR_T/xdg
mkdir -p "$HOME"
clean_env
PY=/usr/bin/python3

testhost_up_or_bail
testhost_listen 8001
testhost_listen 8007
testhost_listen 53
testhost_listen 53 udp
testhost_sniff
testhost_selftest 8001

# --- redirect: the original destination, inside (getpeername) and in boundary's log ------------

# redirect_case WHAT PEER LOGDST [BUG] -- PROBEARGS...: PEER is what getpeername() must show in
# the jail, LOGDST the destination boundary's log line must name, with netprobe's host pid.
redirect_case() {
	local what=$1 peer=$2 dst=$3 bug=""
	shift 3
	[ "$1" != -- ] && { bug=$1; shift; }
	shift
	jail_probe -- "$@"
	if [ "$out" = "ok peer=$peer" ]; then
		ok "$what: getpeername() in the jail shows $peer"
	elif [ -n "$bug" ]; then
		skip "BUG: $what: $bug (getpeername() shows '${out#ok }', want $peer)"
	else
		fail "$what: getpeername() in the jail shows $peer"
		diag "netprobe: $out (exit $rc)" "log: $log"
	fi
	if [ -z "$probe_pid" ]; then
		fail "$what: the probe's host pid was found"
		return
	fi
	logged "$what: boundary logs netprobe[$probe_pid] to $dst" "$log" \
		"$(redir_re netprobe "$probe_pid" "$dst")"
}

redirect_case "plain connect v4" "$TH4:8001" "$TH4:8001" -- tcp "$TH4" 8001
own_pid() {
	[ -n "$probe_nspid" ] && [ "$probe_nspid" -lt 10 ] && [ "$probe_nspid" != "$probe_pid" ]
}
check "the probe's pid inside the jail is its own ($probe_nspid), not the host's ($probe_pid)" own_pid

# TCP Fast Open is per network namespace; the jail's fresh one has the kernel default (client on),
# whatever the host's setting, so nothing needs changing.
jailed -- cat /proc/sys/net/ipv4/tcp_fastopen
diag "net.ipv4.tcp_fastopen: host $(cat /proc/sys/net/ipv4/tcp_fastopen), jail $out"
if [ -n "$out" ] && [ $((out & 1)) = 1 ]; then
	redirect_case "TCP Fast Open (sendto MSG_FASTOPEN)" "$TH4:8002" "$TH4:8002" -- tfo "$TH4" 8002
else
	skip "TCP Fast Open: the client side is off in the jail's namespace ($out)"
	skip "TCP Fast Open: the client side is off in the jail's namespace ($out)"
fi

# io_uring is refused in the jail (seccomp): a ring's IORING_OP_SOCKET would make sockets of any
# family without a socket() call. Outside, the same probe gets as far as the connect.
if [ "$(cat /proc/sys/kernel/io_uring_disabled 2>/dev/null || echo 0)" = 0 ]; then
	out=$("$PROBE" uring 127.0.0.1 9)
	check "control: outside the jail, io_uring gets as far as IORING_OP_CONNECT ($out)" \
		[ "$out" = "err ECONNREFUSED" ]
	jail_probe -- uring "$TH4" 8003
	want_out() { [ "$out" = "$1" ]; }
	check "io_uring_setup is refused in the jail ($out)" want_out "err EPERM"
else
	skip "io_uring: kernel.io_uring_disabled is set"
	skip "io_uring: kernel.io_uring_disabled is set"
fi

redirect_case "reconnect after AF_UNSPEC records the second destination" "$TH4:8005" \
	"$TH4:8005" -- unspec "$TH4" 8004 "$TH4" 8005

jailed -- cat /proc/sys/net/mptcp/enabled
if [ "$out" = 1 ]; then
	redirect_case "MPTCP" "$TH4:8006" "$TH4:8006" \
		"getpeername4/6 look for the original in the MPTCP socket's storage, but connect4 saved it on the subflow's" \
		-- mptcp "$TH4" 8006
else
	skip "MPTCP: not available in the jail's namespace ($out)"
	skip "MPTCP: not available in the jail's namespace ($out)"
fi

redirect_case "AF_INET6 native" "[$TH6]:8007" "[$TH6]:8007" -- tcp "$TH6" 8007
redirect_case "AF_INET6 v4-mapped (recorded as IPv4)" "[::ffff:$TH4]:8008" "$TH4:8008" \
	-- tcp "::ffff:$TH4" 8008

# 300 at once, to 300 different ports: each must be logged once, under its own port.
jailed --log-level debug -- "$PROBE" many "$TH4" 9000 300
check "300 concurrent connections all connect ($out)" [ "$out" = "ok connected=300 of 300" ]
ports=$(redir_ports "$TMPDIR_T/log" "$TH4" | sort -n)
if [ "$ports" = "$(seq 9000 9299)" ]; then
	ok "300 concurrent connections: every port logged exactly once"
else
	fail "300 concurrent connections: every port logged exactly once"
	diag "logged $(wc -w <<<"$ports") ports, $(sort -u <<<"$ports" | wc -l) distinct" \
		"duplicates: $(uniq -d <<<"$ports" | head -5 | tr '\n' ' ')"
fi
npids=$(grep -oE "netprobe\[[0-9]+\]" <<<"$log" | sort -u | wc -l)
check "300 concurrent connections: all attributed to the one netprobe ($npids pids)" [ "$npids" = 1 ]
lacks "300 concurrent connections: none lost its record (stand-in)" "$log" "no record of where"
lacks "300 concurrent connections: none lost its record (proxy)" "$log" "explicit proxy client"

# --- DNS: answered by boundary, never forwarded, the reply's source restored ----------------------

# dns_case WHAT PREFIX ARGS...: netprobe dns ARGS must print PREFIX (where the reply came from),
# then boundary's answer: a synthetic address from 198.18.0.0/15 (the DNS responder) or REFUSED
# (the stand-in that preceded it). Nothing else can answer: the test host runs no DNS server.
dns_case() {
	local what=$1 want=$2 rest
	shift 2
	jailed -- "$PROBE" dns "$@"
	rest=${out#"$want"}
	if [ "$rest" != "$out" ] && dns_answered "$rest"; then
		ok "DNS $what: answered by boundary, from the address asked ($out)"
	else
		fail "DNS $what: answered by boundary, from the address asked"
		diag "want: $want + ' rcode=0 an=198.18.x.y' or ' rcode=5'" "got:  $out (exit $rc)" "log: $log"
	fi
}
dns_answered() {
	[[ $1 =~ ^\ rcode=5$ || $1 =~ ^\ rcode=0\ an=198\.1[89]\.[0-9]+\.[0-9]+$ ]]
}
dns_case "UDP sendto $TH4:53" "ok from=$TH4:53" udp "$TH4" 53
dns_case "UDP connected $TH4:53" "ok from=$TH4:53 peer=$TH4:53" cudp "$TH4" 53
dns_case "UDP sendto the stub 127.0.0.53:53" "ok from=127.0.0.53:53" udp 127.0.0.53 53
dns_case "UDP connected 127.0.0.53:53" "ok from=127.0.0.53:53 peer=127.0.0.53:53" \
	cudp 127.0.0.53 53
dns_case "UDP sendto [$TH6]:53" "ok from=[$TH6]:53" udp "$TH6" 53
dns_case "UDP connected [$TH6]:53" "ok from=[$TH6]:53 peer=[$TH6]:53" cudp "$TH6" 53
dns_case "UDP sendto v4-mapped" "ok from=[::ffff:$TH4]:53" udp "::ffff:$TH4" 53
dns_case "UDP connected v4-mapped" "ok from=[::ffff:$TH4]:53 peer=[::ffff:$TH4]:53" \
	cudp "::ffff:$TH4" 53
dns_case "TCP $TH4:53 (redirected to the responder)" "ok peer=$TH4:53" tcp "$TH4" 53
dns_case "TCP [$TH6]:53 (redirected to the responder)" "ok peer=[$TH6]:53" tcp "$TH6" 53
dns_case "TCP v4-mapped (redirected to the responder)" "ok peer=[::ffff:$TH4]:53" \
	tcp "::ffff:$TH4" 53

testhost_quiet "the test host saw nothing of any redirected connection or DNS query"

# --- the jail's loopback is its own ---------------------------------------------------------------

lo_port=$((20000 + RANDOM % 20000))
: >"$TMPDIR_T/lohits"
$PY "$STAGE/lib/hit_listener.py" tcp "$lo_port" "$TMPDIR_T/lo.ready" "$TMPDIR_T/lohits" host-pong &
lo_pid=$!
at_exit "kill $lo_pid 2>/dev/null"
for _ in $(seq 100); do [ -e "$TMPDIR_T/lo.ready" ] && break; sleep 0.05; done
jailed --log-level debug -- $PY "$STAGE/lib/lo_pong.py" "$lo_port"
check "a jailed client reaches a jailed server on 127.0.0.1:$lo_port ($out)" [ "$out" = jail-pong ]
check "the host's listener on 127.0.0.1:$lo_port saw nothing" [ ! -s "$TMPDIR_T/lohits" ]
lacks "a connection to the jail's own loopback is not redirected" "$log" "127.0.0.1:$lo_port"
kill "$lo_pid" 2>/dev/null

# --- exit status, stdin, stdout, signals ----------------------------------------------------------

jailed -- sh -c 'exit 7'
expect_rc "exit 7 passes through" 7
jailed -- sh -c 'kill -TERM $$'
expect_rc "death by SIGTERM is 143" 143
jailed -- "$TMPDIR_T/no-such-command"
expect_rc "a command that is not there is 127" 127
printf '#!/bin/sh\necho ran\n' >"$TMPDIR_T/not-executable"
chmod 644 "$TMPDIR_T/not-executable"
jailed -- "$TMPDIR_T/not-executable"
expect_rc "a command that is not executable is 126" 126
lacks "a command that is not executable does not run" "$out" ran

out=$(echo hi | timeout 30 "$BOUNDARY" -- cat 2>/dev/null)
check "stdin and stdout pass through (echo hi | boundary -- cat: '$out')" [ "$out" = hi ]
out=$(seq 200000 | timeout 30 "$BOUNDARY" -- wc -l 2>/dev/null)
check "a large stdin passes through whole ($out lines)" [ "$out" = 200000 ]

jail_bg term -- sh -c 'trap "exit 9" TERM; echo ready; sleep 30 & wait'
jail_wait_log "$TMPDIR_T/term.out" '^ready$' 10
start=$(date +%s)
kill -TERM "$BG_PID"
wait "$BG_WAIT"
rc=$?
expect_rc "SIGTERM to boundary reaches the command (its trap exits 9)" 9
check "SIGTERM is forwarded at once ($(($(date +%s) - start))s)" [ $(($(date +%s) - start)) -lt 5 ]

# --- privileges ---------------------------------------------------------------------------------

jailed --user nobody -- cat /proc/self/status
field() { awk -v k="$1:" '$1 == k { $1 = ""; sub(/^ +/, ""); print }' <<<"$out"; }
for cap in CapInh CapPrm CapEff CapBnd CapAmb; do
	check "--user nobody: $cap is empty ($(field $cap))" [ "$(field $cap)" = 0000000000000000 ]
done
check "--user nobody: NoNewPrivs is 1" [ "$(field NoNewPrivs)" = 1 ]
check "--user nobody: uid 65534 everywhere ($(field Uid))" [ "$(field Uid)" = "65534 65534 65534 65534" ]
check "--user nobody: gid 65534 everywhere ($(field Gid))" [ "$(field Gid)" = "65534 65534 65534 65534" ]
check "--user nobody: no supplementary groups ('$(field Groups)')" [ -z "$(field Groups)" ]

jailed -- sh -c 'cat /proc/self/uid_map /proc/self/gid_map; grep NoNewPrivs /proc/self/status'
maps=$(awk 'NR <= 2 { print $1, $2, $3 }' <<<"$out" | tr '\n' ';')
check "default: root inside a user namespace that is the host's nobody (uid_map and gid_map '0 65534 1': $maps)" \
	[ "$maps" = "0 65534 1;0 65534 1;" ]
contains "default: NoNewPrivs is 1" "$out" "NoNewPrivs:	1"
contains "default: boundary says the command runs in a user namespace" "$log" \
	"runs as root inside a user namespace"

# --no-user-namespace: no namespace to be root in, so the command runs as nobody, with nothing.
jailed --no-user-namespace -- cat /proc/self/status
for cap in CapInh CapPrm CapEff CapBnd CapAmb; do
	check "--no-user-namespace: $cap is empty ($(field $cap))" [ "$(field $cap)" = 0000000000000000 ]
done
check "--no-user-namespace: NoNewPrivs is 1" [ "$(field NoNewPrivs)" = 1 ]
check "--no-user-namespace: uid 65534 (nobody) everywhere ($(field Uid))" [ "$(field Uid)" = "65534 65534 65534 65534" ]
check "--no-user-namespace: gid 65534 everywhere ($(field Gid))" [ "$(field Gid)" = "65534 65534 65534 65534" ]

# --- what the jail sees ----------------------------------------------------------------------------

jailed -- sh -c 'echo "pid=$$"; for p in /proc/[0-9]*; do echo "proc=$(cat "$p/comm")"; done'
pid=$(sed -n 's/^pid=//p' <<<"$out")
small_pid() { [ -n "$pid" ] && [ "$pid" -le 3 ]; }
check "a fresh /proc: the command's pid is small ($pid)" small_pid
nproc=$(grep -c '^proc=' <<<"$out")
few_procs() { [ "$nproc" -ge 2 ] && [ "$nproc" -le 5 ]; }
check "a fresh /proc: only the jail's processes ($nproc)" few_procs
check "a fresh /proc: boundary itself is not there" not grep -qx "proc=boundary" <<<"$out"

jailed -- sh -c 'echo "bpf=$(ls -A /sys/fs/bpf | wc -l) cgroup=$(ls -A /sys/fs/cgroup | wc -l)"'
check "/sys/fs/bpf and /sys/fs/cgroup are empty in the jail ($out)" [ "$out" = "bpf=0 cgroup=0" ]
host_has_bpf_and_cgroups() { [ -n "$(ls -A /sys/fs/bpf)" ] && [ -n "$(ls -A /sys/fs/cgroup)" ]; }
check "... while on the host they are not" host_has_bpf_and_cgroups

# The config file given by --config: read-only inside, for root in the namespace and for nobody.
cfgdir=$TMPDIR_T/cfg
mkdir -p "$cfgdir"
chmod 755 "$TMPDIR_T" "$cfgdir"
printf 'allowlist:\n  - "domain=example.com"\n' >"$cfgdir/config.yaml"
chmod 666 "$cfgdir/config.yaml"
cp "$cfgdir/config.yaml" "$TMPDIR_T/config.orig"
jailed --config "$cfgdir/config.yaml" -- sh -c "echo '  - \"domain=*\"' >>'$cfgdir/config.yaml'"
contains "--config FILE is read-only for root in the jail" "$log" "Read-only file system"
jailed --user nobody --config "$cfgdir/config.yaml" -- \
	sh -c "echo '  - \"domain=*\"' >>'$cfgdir/config.yaml'"
contains "--config FILE is read-only for --user nobody (the file is mode 666)" "$log" \
	"Read-only file system"
check "--config FILE is unchanged on the host" cmp -s "$cfgdir/config.yaml" "$TMPDIR_T/config.orig"

# ~/.config/coder_boundary, the default place: config.yaml and the directory itself. The file is
# mode 666 and the directory 1777, so only the read-only mount can refuse a write (root in the
# jail is the host's nobody, whom permissions alone would stop).
udir=$HOME/.config/coder_boundary
mkdir -p "$udir"
cp "$TMPDIR_T/config.orig" "$udir/config.yaml"
chmod 666 "$udir/config.yaml"
chmod 1777 "$udir"
chmod 755 "$HOME" "$HOME/.config" # boundary made them (0700) if they were missing
jailed -- sh -c "echo '  - \"domain=*\"' >>'$udir/config.yaml'"
contains "~/.config/coder_boundary/config.yaml is read-only in the jail" "$log" \
	"Read-only file system"
check "~/.config/coder_boundary/config.yaml is unchanged on the host" \
	cmp -s "$udir/config.yaml" "$TMPDIR_T/config.orig"
jailed -- sh -c "touch '$udir/planted' && echo planted"
contains "~/.config/coder_boundary (HOME=$HOME, mode 1777) is read-only in the jail" "$log" \
	"Read-only file system"
check "... nothing was planted there" [ ! -e "$udir/planted" ]
rm -f "$udir/planted"

# boundary's own directory (the CA's): read-only, and the key in it hidden. The test opens the
# directory (777) and the key (644) to everyone, so only the mounts can keep the jail out.
cadir=$XDG_CONFIG_HOME/coder_boundary
chmod 755 "$XDG_CONFIG_HOME"
chmod 777 "$cadir"
chmod 644 "$cadir/ca-key.pem"
jailed -- sh -c "touch '$cadir/planted' 2>&1; echo \"key=\$(wc -c <'$cadir/ca-key.pem')\""
check "boundary's CA directory ($cadir) exists after a run" [ -s "$cadir/ca-key.pem" ]
contains "boundary's CA directory is read-only in the jail" "$out" "Read-only file system"
check "... nothing was planted there" [ ! -e "$cadir/planted" ]
contains "the CA key reads as empty in the jail" "$out" "key=0"

# --- nothing left behind ----------------------------------------------------------------------------

state_snapshot "$TMPDIR_T/before"
jailed --log-level debug -- true
id=$(jail_field "$TMPDIR_T/log" id)
cg=$(jail_field "$TMPDIR_T/log" cgroup)
state_snapshot "$TMPDIR_T/after"
left=$(state_leftovers "$TMPDIR_T/before" "$TMPDIR_T/after" "$id")
if [ -z "$left" ]; then
	ok "nothing left behind after a normal exit (cgroups, pins, namespaces, processes)"
else
	fail "nothing left behind after a normal exit"
	diag "$left"
fi
own_state_gone() { [ -n "$id" ] && [ ! -e "$cg" ] && [ ! -e "/sys/fs/bpf/boundary/$id" ]; }
check "... in particular not the jail's own cgroup and pins ($id)" own_state_gone

jail_bg int --log-level debug -- sleep 30
jail_wait_log "$TMPDIR_T/int.log" "debug: jail " 5
cg=$(jail_field "$TMPDIR_T/int.log" cgroup)
id=$(jail_field "$TMPDIR_T/int.log" id)
for i in $(seq 100); do
	pgrep -P "$BG_PID" -x boundary-init >/dev/null && break
	sleep 0.02
done
cid=$(cg_id "$cg")
kill -INT "$BG_PID"
wait "$BG_WAIT"
rc=$?
expect_rc "SIGINT to boundary ends the command with it (130)" 130
state_snapshot "$TMPDIR_T/after-int"
left=$(state_leftovers "$TMPDIR_T/before" "$TMPDIR_T/after-int" "$id")
if [ -z "$left" ]; then
	ok "nothing left behind after SIGINT"
else
	fail "nothing left behind after SIGINT"
	diag "$left"
fi
# The jail was an entry in the shared set on <cgroup2>/boundary: the entry goes, the set stays.
had_entry() { [ -n "$cid" ] && ! has_entry "$cid"; }
check "the jail's entry in the shared set is gone (cgroup id $cid)" had_entry
check "the shared set stays attached to $(cg_root)/boundary for the next jail ($(shared_links) programs)" \
	[ "$(shared_links)" = 13 ]

# --- two jails at once ----------------------------------------------------------------------------

jail_bg ja --log-level debug --allow "domain=a.example" -- "$PROBE" loop "$TH4" 7101 3
a_wait=$BG_WAIT
jail_bg jb --log-level debug --allow "domain=b.example" -- "$PROBE" loop "$TH4" 7202 3
b_wait=$BG_WAIT
jail_wait_log "$TMPDIR_T/ja.log" "to $TH4:7101" 10
jail_wait_log "$TMPDIR_T/jb.log" "to $TH4:7202" 10
ida=$(jail_field "$TMPDIR_T/ja.log" id)
idb=$(jail_field "$TMPDIR_T/jb.log" id)
cga=$(jail_field "$TMPDIR_T/ja.log" cgroup)
cgb=$(jail_field "$TMPDIR_T/jb.log" cgroup)
two_ids() { [ -n "$ida" ] && [ -n "$idb" ] && [ "$ida" != "$idb" ]; }
two_cgroups() { [ -n "$cga" ] && [ "$cga" != "$cgb" ] && [ -d "$cga" ] && [ -d "$cgb" ]; }
two_entries() { has_entry "$(cg_id "$cga")" && has_entry "$(cg_id "$cgb")"; }
check "two jails: different ids ($ida, $idb)" two_ids
check "two jails: different cgroups, both there at once" two_cgroups
check "two jails: two entries in the shared set, both there at once" two_entries
wait "$a_wait"
wait "$b_wait"
la=$(cat "$TMPDIR_T/ja.log")
lb=$(cat "$TMPDIR_T/jb.log")
na=$(redir_ports "$TMPDIR_T/ja.log" "$TH4" | grep -cx 7101)
nb=$(redir_ports "$TMPDIR_T/jb.log" "$TH4" | grep -cx 7202)
check "two jails: A logs its own connections ($na)" [ "$na" -ge 5 ]
check "two jails: B logs its own connections ($nb)" [ "$nb" -ge 5 ]
check "two jails: A's log has none of B's" [ "$(redir_ports "$TMPDIR_T/ja.log" "$TH4" | grep -cvx 7101)" = 0 ]
check "two jails: B's log has none of A's" [ "$(redir_ports "$TMPDIR_T/jb.log" "$TH4" | grep -cvx 7202)" = 0 ]
lacks "two jails: A's log does not mention B's port" "$la" ":7202"
lacks "two jails: B's log does not mention A's port" "$lb" ":7101"
pa=$(grep -oE "netprobe\[[0-9]+\]" <<<"$la" | sort -u)
pb=$(grep -oE "netprobe\[[0-9]+\]" <<<"$lb" | sort -u)
one_process_each() {
	[ "$(wc -l <<<"$pa")" = 1 ] && [ "$(wc -l <<<"$pb")" = 1 ] && [ "$pa" != "$pb" ]
}
check "two jails: each log names one process, not the other's" one_process_each

testhost_quiet "the test host saw nothing from any jail"

done_testing
