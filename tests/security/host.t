#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# host.t: attacks through what the jail shares with the host rather than its network: the
# user's terminal (TIOCSTI types a command the user's shell runs after boundary exits), the
# session keyring, servers of the user's that run commands for any client (tmux), abstract unix
# sockets, socket families no inet hook sees (AF_VSOCK reaches the hypervisor's host), a proxy
# named in HTTP_PROXY, and a request too old to name its host (HTTP/0.9). Each attempt is made
# outside the jail first, where it must work (or the test proves nothing), then as root in the
# jail's user namespace (the default) and as --user nobody. Traffic aims at the test host, which
# must see nothing of the jail's attempts.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/jail.sh"

need_root
export HOME=$TMPDIR_T XDG_CONFIG_HOME=$TMPDIR_T/xdg
clean_env
chmod 755 "$TMPDIR_T"
SH=$(shared_dir host)

testhost_up_or_bail
testhost_listen 8446
testhost_sniff
testhost_selftest 8446

users() { [ "$1" = nobody ] && echo "--user nobody"; }

# --- the terminal: TIOCSTI ---------------------------------------------------------------------

# in_pty CMD...: runs CMD in a terminal of its own (script), then reads what is left in the
# terminal's input as the user's shell would next; prints CMD's output, then "next: LINE".
printf '"$@"\nread -r -t 2 line\necho "next: $line"\n' >"$TMPDIR_T/pty.sh"
in_pty() {
	# script's stdin stays open (sleep) so that it does not end the terminal's input early.
	sleep 4 | SHELL=/bin/bash timeout 20 script -qec "bash $TMPDIR_T/pty.sh $(printf '%q ' "$@")" \
		/dev/null 2>/dev/null | tr -d '\r'
}
marker="echo typed-by-the-jail-$RANDOM"
out=$(in_pty "$PROBE" sti "$marker
")
check "control: outside the jail, TIOCSTI types into the terminal, and its shell reads it next" \
	[ "$(result next)" = "$marker" ]
for who in root nobody; do
	out=$(in_pty "$BOUNDARY" $(users $who) -- "$PROBE" sti "$marker
")
	check "$who: TIOCSTI in the jail is refused ($(grep -o '^err [A-Z]*' <<<"$out"))" \
		grep -qx "err EPERM" <<<"$out"
	check "$who: ... and the user's shell reads nothing the jail typed" [ "$(result next)" = "" ]
done
out=$(in_pty "$PROBE" sti32 "$marker
")
if [ "$(result next)" = "$marker" ]; then
	out=$(in_pty "$BOUNDARY" -- "$PROBE" sti32 "$marker
")
	sti_refused() { grep -qx "err EPERM" <<<"$out" && [ "$(result next)" = "" ]; }
	check "root: TIOCSTI through the i386 entry (int \$0x80) is refused too" sti_refused
else
	skip "no i386 entry on this kernel (int \$0x80 faults): nothing to refuse there"
fi

# --- the session keyring -------------------------------------------------------------------------

secret="session-secret-$RANDOM$RANDOM"
KEYRING=$STAGE/lib/keyring.py
out=$(python3 "$KEYRING" add boundary-test "$secret" python3 "$KEYRING" read boundary-test)
check "control: a key in the invoking session's keyring is read by its children" \
	[ "$(result key)" = "$secret" ]
# own_keyring: the jail could add a key, and does not find the invoking session's.
own_keyring() { [ "$(result added)" = True ] && [[ "$(result key)" == "not found"* ]]; }
for who in root nobody; do
	out=$(python3 "$KEYRING" add boundary-test "$secret" \
		"$BOUNDARY" $(users $who) -- python3 "$KEYRING" read boundary-test 2>/dev/null)
	check "$who: the jail has a session keyring of its own: the invoking session's key is not found ($(result key))" \
		own_keyring
done

# --- a setuid-root program --------------------------------------------------------------------

cp /usr/bin/id "$SH/suid-id"
chmod 4755 "$SH/suid-id"
out="euid: $(runuser -u nobody -- "$SH/suid-id" -u)"
if [ "$(result euid)" = 0 ]; then
	ok "control: outside the jail, nobody running a setuid-root copy of id gets euid 0"
	jailed --user nobody -- sh -c 'echo "euid: $("$1" -u)"' _ "$SH/suid-id"
	want euid 65534 "nobody: a setuid-root program runs without root in the jail (no_new_privs)"
else
	skip "setuid programs do not work in $SH (a nosuid mount?): nothing to show"
	skip "setuid programs do not work in $SH (a nosuid mount?): nothing to show"
fi

# --- tmux: a server of the user's runs any command its clients ask for ---------------------------

if command -v tmux >/dev/null; then
	tsock=/tmp/tmux-65534/default
	# tmux makes the directory of its default socket, not of one named with -S: make it as
	# tmux would (nobody's, 0700) when no earlier run left it.
	if [ ! -d "${tsock%/*}" ]; then
		install -d -m 700 -o 65534 -g 65534 "${tsock%/*}"
		at_exit "rm -rf ${tsock%/*}"
	fi
	# tmux runs commands with $SHELL, else the passwd shell: nobody's is nologin, and a CI job
	# may have no $SHELL at all.
	ntmux() { runuser -u nobody -- env SHELL=/bin/sh tmux -S "$tsock" "$@"; }
	ntmux kill-server 2>/dev/null
	ntmux new-session -d -s boundary-test "sleep 120"
	at_exit "runuser -u nobody -- tmux -S $tsock kill-server 2>/dev/null"
	# Outside: nobody's tmux runs the probe in the host's namespace, and the test host sees it.
	ntmux run-shell "$PROBE tcp $TH4 8446 >$SH/tmux.control"
	out=$(cat "$SH/tmux.control" 2>/dev/null)
	for i in $(seq 20); do [ "$(hits)" -ge 1 ] && break; sleep 0.05; done
	tmux_control_reached() { [ "$out" = "ok peer=$TH4:8446" ] && [ "$(hits)" -ge 1 ]; }
	check "control: outside, nobody's tmux server runs a command for its client, which reaches the test host ($out)" \
		tmux_control_reached
	: >"$TMPDIR_T/hits"
	: >"$TMPDIR_T/sniff"
	# In the jail, both root (the host's nobody) and --user nobody are the server's user.
	for who in root nobody; do
		jailed $(users $who) -- sh -c 'export SHELL=/bin/sh; echo "ls: $(ls -A "${1%/*}" | wc -l)"
tmux -S "$1" run-shell "$2 tcp $3 8446" >/dev/null 2>&1 && echo "run: ran" || echo "run: refused"
tmux -S "${1%/*}/own" new-session -d "sleep 1" 2>/dev/null && echo "own: started" || echo "own: failed"
tmux -S "${1%/*}/own" kill-server 2>/dev/null' _ "$tsock" "$PROBE" "$TH4"
		want ls 0 "$who: the user's tmux directory is empty in the jail"
		want run refused "$who: tmux run-shell through the user's tmux server fails in the jail"
		want own started "$who: a tmux server of the jail's own can still be started there"
	done
	tmux_alive() { ntmux has-session -t boundary-test 2>/dev/null; }
	check "nobody's tmux server still runs on the host" tmux_alive
else
	skip "no tmux on this host"
fi

# --- abstract unix sockets -----------------------------------------------------------------------

abs="boundary-test-$$-$RANDOM"
python3 "$STAGE/lib/hit_listener.py" abstract "$abs" "$TMPDIR_T/abs.ready" "$TMPDIR_T/abs.hits" &
abs_pid=$!
at_exit "kill $abs_pid 2>/dev/null"
for i in $(seq 100); do [ -e "$TMPDIR_T/abs.ready" ] && break; sleep 0.05; done
out=$(python3 "$STAGE/lib/unix_connect.py" "$abs")
want abstract connected "control: the host's abstract socket @$abs answers outside the jail"
for who in root nobody; do
	jailed $(users $who) -- python3 "$STAGE/lib/unix_connect.py" "$abs"
	want abstract "err 111" "$who: the host's abstract unix socket cannot be reached (abstract names are per network namespace)"
done
check "the abstract socket saw only the control's connection" [ "$(wc -l <"$TMPDIR_T/abs.hits")" = 1 ]

# --- boundary's own records: the Coder agent's audit socket, the log and audit files ------------

# A stand-in for the Coder agent's audit socket: a jailed program must not write records there.
asock=$SH/agent.sock
python3 "$STAGE/lib/hit_listener.py" unix "$asock" "$TMPDIR_T/agent.ready" "$TMPDIR_T/agent.hits" &
agent_pid=$!
at_exit "kill $agent_pid 2>/dev/null"
for i in $(seq 100); do [ -e "$TMPDIR_T/agent.ready" ] && break; sleep 0.05; done
out=$("$PROBE" unix "$asock")
check "control: the agent's audit socket answers outside the jail ($out)" [ "$out" = "ok connected" ]
for who in root nobody; do
	jailed --log-proxy-socket-path "$asock" $(users $who) -- "$PROBE" unix "$asock"
	check "$who: the Coder agent's audit socket cannot be reached from the jail ($out)" \
		[ "$out" != "ok connected" ]
done
# boundary's records themselves connect once per jail; the jail's attempts must add nothing.
check "the agent's socket saw only the control's and boundary's own connections" \
	[ "$(wc -l <"$TMPDIR_T/agent.hits")" -le 3 ]

# A log directory of the user's: the jail must not swap boundary's files for forged ones.
logs=$SH/logs
mkdir -p "$logs"
chown 65534:65534 "$logs"
# records_untouched: the jail moved none of boundary's files, and wrote nothing into any.
records_untouched() { [ "$(result moved)" = 0 ] && ! grep -rqs forged "$logs"; }
for who in root nobody; do
	jailed --log-dir "$logs" --audit-log "$logs/audit-$who.jsonl" $(users $who) -- sh -c 'n=0
for f in "$1"/*; do
	rm -f "$f" 2>/dev/null; mv "$f" "$f.old" 2>/dev/null
	(echo "{\"decision\":\"allow\",\"forged\":true}" >"$f") 2>/dev/null
	[ -e "$f.old" ] && n=$((n + 1))
done
echo "moved: $n"' _ "$logs"
	check "$who: boundary's log and audit files are still its own (none moved or rewritten)" \
		records_untouched
done

# --- socket families no inet hook sees ------------------------------------------------------------

# AF_VSOCK (40) talks to the hypervisor's host; the test only opens sockets, it sends nothing.
out="vsock: $("$PROBE" socket 40 1 0)"
vsock_host=$(result vsock)
diag "outside the jail, socket(AF_VSOCK) gives: $vsock_host"
fams="vsock:40:1 packet:17:3 alg:38:5 tipc:30:5 rds:21:5 bluetooth:31:1 xdp:44:3 can:29:3 llc:26:2 kcm:41:2 qipcrtr:42:2 smc:43:1"
for who in root nobody; do
	jailed $(users $who) -- sh -c 'for f in $2; do
	IFS=: read -r n fam type <<EOF
$f
EOF
	echo "$n: $($1 socket "$fam" "$type" 0)"
done
echo "inet: $($1 socket inet 1 0)"
echo "unix: $(python3 -c "import socket; socket.socket(socket.AF_UNIX); print(\"ok\")" 2>&1 | tail -1)"
echo "netlink: $(python3 -c "import socket; socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0); print(\"ok\")" 2>&1 | tail -1)"
echo "vsock32: $($1 socket32 40 1 0 2>&1 || true)"' _ "$PROBE" "$fams"
	if [ "$vsock_host" = "ok socket" ]; then
		want vsock "err EAFNOSUPPORT" "$who: AF_VSOCK (which works outside) is refused in the jail"
	else
		want vsock "err EAFNOSUPPORT" "$who: AF_VSOCK is refused in the jail (outside: $vsock_host)"
	fi
	for f in $fams; do
		n=${f%%:*}
		[ "$n" = vsock ] && continue
		want "$n" "err EAFNOSUPPORT" "$who: socket family $n is refused in the jail"
	done
	want inet "ok socket" "$who: inet sockets can still be made (the cgroup hooks govern them)"
	want unix ok "$who: unix sockets can still be made"
	want netlink ok "$who: netlink sockets can still be made (the jail's own namespace)"
	case $(result vsock32) in
	"err EAFNOSUPPORT") ok "$who: AF_VSOCK through the i386 entry is refused too" ;;
	"" | *Segmentation*) ok "$who: no i386 entry on this kernel (int \$0x80 faults)" ;;
	*) fail "$who: AF_VSOCK through the i386 entry is refused too ($(result vsock32))" ;;
	esac
done

# --- a proxy named in HTTP_PROXY, outside the jail ------------------------------------------------

# A "proxy" on the host's loopback: the jail's 127.0.0.1 is its own, so it is out of reach, and
# a request sent to it never leaves the jail.
python3 "$STAGE/lib/hit_listener.py" tcp 0 "$TMPDIR_T/hp.port" "$TMPDIR_T/hp.hits" &
hp_pid=$!
at_exit "kill $hp_pid 2>/dev/null"
for i in $(seq 100); do [ -s "$TMPDIR_T/hp.port" ] && break; sleep 0.05; done
hp=$(cat "$TMPDIR_T/hp.port")
curl -s -m 3 -o /dev/null -x "http://127.0.0.1:$hp" "http://$TH4:8446/" 2>/dev/null
check "control: outside, curl -x http://127.0.0.1:$hp reaches the host's proxy" \
	[ "$(wc -l <"$TMPDIR_T/hp.hits" 2>/dev/null)" = 1 ]
for who in root nobody; do
	jailed --allow "domain=$TH4" $(users $who) -- env "http_proxy=http://127.0.0.1:$hp" \
		"HTTPS_PROXY=http://127.0.0.1:$hp" sh -c 'echo "code: $(curl -s -m 5 -o /dev/null -w "%{http_code}" "http://$1:8446/")"' _ "$TH4"
	check "$who: HTTP_PROXY naming the host's 127.0.0.1:$hp: the host's proxy sees nothing ($(result code))" \
		[ "$(wc -l <"$TMPDIR_T/hp.hits")" = 1 ]
done

# --- HTTP/0.9: a request with no version and no Host ----------------------------------------------

# answered_by_boundary: the reply to the HTTP/0.9 request is boundary's 4xx, or the connection closed.
answered_by_boundary() { [[ "$(result reply)" == "HTTP/1.1 4"* || "$(result reply)" = closed ]]; }
for who in root nobody; do
	jailed --allow "domain=$TH4" --allow "domain=*" $(users $who) -- python3 "$STAGE/lib/http09.py" "$TH4" 8446
	check "$who: an HTTP/0.9 request (GET / with no version, no Host) is answered by boundary, not forwarded ($(result reply))" \
		answered_by_boundary
done

testhost_quiet "the test host saw nothing of the jail's attempts"

done_testing
