#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# approve.t: --interactive when the command has the terminal too, and answers from another one.
#   Under tmux (a real terminal): a job-control bash as the jailed command makes the request
#   in its foreground; the question is answered in the same terminal, boundary is never stopped
#   (SIGTTIN), and the shell's prompt and terminal mode are intact afterwards. A full-screen
#   curses program (raw mode) making a request while it runs: paused for the question, redrawn
#   after it, the keys typed before the question its own; with auto it is not asked on the
#   terminal at all, and `boundary approve` answers from outside. vim running a command.
#   Without a terminal: boundary approve lists and answers (once, deny, always); the socket is
#   hidden from the jail and refused to its processes and to another user; an unanswered request
#   is refused after --interactive-timeout with the reason in the 403 and the audit record.
#
# $CURL is a command line (tests/lib/proxy.sh), split into words on purpose.
# shellcheck disable=SC2086
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/jail.sh"
. "$(dirname "$0")/../lib/proxy.sh"
proxy_suite

W=$(shared_dir ap)
TM="tmux -L bnd-ap-$$"
at_exit "$TM kill-server 2>/dev/null"
screen() { $TM capture-pane -t t -p; }
wait_for() { # wait_for TEXT [SECONDS]: TEXT on the screen
	local i
	for i in $(seq $((${2:-20} * 10))); do
		screen | grep -qF -- "$1" && return 0
		sleep 0.1
	done
	return 1
}
# boundary's pid in the tmux session (unshare, sh and env exec into it)
bnd_pid() { $TM list-panes -t t -F '#{pane_pid}'; }
state() { awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null; }
term() { # term ARGS...: boundary ARGS in a new tmux session "t", 120x30
	local q
	bnd_argv "$@"
	q=$(printf '%q ' "${BND_ARGV[@]}")
	$TM kill-session -t t 2>/dev/null
	$TM new-session -d -s t -x 120 -y 30 "$q 2>$TMPDIR_T/term.log; echo BOUNDARY-EXIT=\$?; sleep 60"
}
U=http://other.test:$P_HTTP/echo

if ! command -v tmux >/dev/null; then
	skip "tmux is not installed: the same-terminal cases"
else
	# a session that outlives the others, so the server does not exit between them
	$TM new-session -d -s keep "sleep 3600"
	# --- a job-control shell: the request is the shell's foreground job (issue 23's case,
	# plain --interactive: the shell waits for its job, it does not read the terminal) --------
	term --interactive -- env PS1='JAILED> ' bash --norc -i
	wait_for 'JAILED> '
	tmux_send() { $TM send-keys -t t "$@"; }
	tmux_send "stty -g >$W/mode.before; case \$- in *m*) echo JOB-CONTROL-ON;; esac" Enter
	tmux_send "$CURL -o /dev/null -w 'CODE-t1=%{http_code}.\\n' $U/t1" Enter
	if wait_for "allow other.test? [once/always/deny]"; then
		ok "a job-control shell's foreground request is asked about on the terminal"
	else
		fail "a job-control shell's foreground request is asked about on the terminal"
		diag "$(screen)" "$(cat "$TMPDIR_T/term.log")"
	fi
	BP=$(bnd_pid)
	check "boundary is not stopped while it asks" \
		[ "$(state "$BP")" != T ]
	tmux_send "once" Enter
	if wait_for "CODE-t1=200."; then ok "the answer typed reaches boundary: allowed"; else
		fail "the answer typed reaches boundary: allowed"
		diag "$(screen)"
	fi
	check "... the shell had job control" grep -qF JOB-CONTROL-ON <<<"$(screen)"
	tmux_send "[ \"\$(stty -g)\" = \"\$(cat $W/mode.before)\" ] && echo MODE-SAME; echo alive-\$((6*7))" Enter
	if wait_for "alive-42" && wait_for MODE-SAME 2; then
		ok "the shell reads its next line, its terminal mode as before"
	else
		fail "the shell reads its next line, its terminal mode as before"
		diag "$(screen)"
	fi
	lacks "nothing was stopped, nothing went to another shell" "$(screen)" "Stopped"
	check "boundary is still running, not stopped (state $(state "$BP"))" \
		[ "$(state "$BP")" = S ] || [ "$(state "$BP")" = R ]
	# again: the next question finds the terminal as the first did
	tmux_send "$CURL -o /dev/null -w 'CODE-t2=%{http_code}.\\n' $U/t2" Enter
	wait_for "allow other.test? [once/always/deny]" && sleep 0.3
	tmux_send "deny" Enter
	if wait_for "CODE-t2=403."; then ok "a second question is answered too (deny: 403)"; else
		fail "a second question is answered too (deny: 403)"
		diag "$(screen)"
	fi
	tmux_send "exit 7" Enter
	check "the shell exits and its status comes back" wait_for "BOUNDARY-EXIT=7"

	# --- nobody answers at the terminal: refused in time, the terminal given back ------------
	term --interactive=terminal --interactive-timeout 2 -- env PS1='JAILED> ' bash --norc -i
	wait_for 'JAILED> '
	tmux_send "$CURL -w 'CODE-t3=%{http_code}.\\n' $U/t3" Enter
	wait_for "allow other.test? [once/always/deny]"
	if wait_for "CODE-t3=403." 10; then
		ok "unanswered at the terminal: refused after --interactive-timeout"
	else
		fail "unanswered at the terminal: refused after --interactive-timeout"
		diag "$(screen)"
	fi
	contains "... the 403 says why" "$(screen)" "nobody answered in time"
	tmux_send "echo alive-\$((6*7))" Enter
	check "... and the shell has its terminal back" wait_for "alive-42" 5

	# --- a full-screen program, --interactive=terminal: paused, asked, redrawn ---------------
	term --interactive=terminal -- python3 "$STAGE/lib/curses_req.py" "$U/c1" 2
	wait_for "STATUS FETCHING"
	tmux_send "ab" ""
	if wait_for "allow other.test? [once/always/deny]"; then
		ok "a full-screen program's request is asked about on the terminal (=terminal)"
	else
		fail "a full-screen program's request is asked about on the terminal (=terminal)"
		diag "$(screen)" "$(cat "$TMPDIR_T/term.log")"
	fi
	tmux_send "once" Enter
	if wait_for "STATUS GOT-200" && wait_for "CURSES-SCREEN top line" 2 &&
		not grep -q "boundary:" <<<"$(screen)"; then
		ok "... allowed, and the program's screen is drawn again without the question"
	else
		fail "... allowed, and the program's screen is drawn again without the question"
		diag "$(screen)"
	fi
	if wait_for "KEYS:ab" 5; then
		ok "... the keys typed before the question, still unread, are the program's"
	else
		fail "... the keys typed before the question, still unread, are the program's"
		diag "$(screen)"
	fi
	tmux_send "xy" ""
	wait_for "KEYS:abxy" 5
	tmux_send "q"
	if wait_for "CURSES-EXIT status=GOT-200 keys=abxy" && wait_for "BOUNDARY-EXIT=0" 5; then
		ok "... it reads its keys afterwards and exits 0"
	else
		fail "... it reads its keys afterwards and exits 0"
		diag "$(screen)"
	fi

	# --- a full-screen program, auto: not asked on its screen; boundary approve answers ------
	term --interactive --log-level warn -- python3 "$STAGE/lib/curses_req.py" "$U/c2"
	for i in $(seq 100); do
		out=$("$BOUNDARY" approve 2>&1)
		grep -qF "$U/c2" <<<"$out" && break
		sleep 0.1
	done
	contains "auto: boundary approve lists the full-screen program's request" "$out" \
		"GET $U/c2"
	lacks "auto: ... and nothing is asked on its screen" "$(screen)" "[once/always/deny]"
	id=$(awk -v u="$U/c2" '$0 ~ u { print $1; exit }' <<<"$out")
	run_b approve "$id" once
	expect_rc "boundary approve ID once exits 0" 0
	contains "... saying what it allowed" "$out" "allowed other.test (1 request)"
	if wait_for "STATUS GOT-200"; then ok "... and the program got its answer"; else
		fail "... and the program got its answer"
		diag "$(screen)"
	fi
	tmux_send "q"
	wait_for "BOUNDARY-EXIT=0" 5
	contains "auto: boundary said once where to answer" "$(cat "$TMPDIR_T/term.log")" \
		"boundary approve ID once|always|deny"

	# --- the picker: boundary approve on a terminal lists, reads an answer, lists again ------
	term --interactive --log-level warn -- python3 "$STAGE/lib/curses_req.py" "$U/c3"
	$TM new-session -d -s p -x 120 -y 40 "$BOUNDARY approve; echo PICKER-EXIT=\$?; sleep 30"
	pscreen() { $TM capture-pane -t p -p; }
	for i in $(seq 100); do
		pscreen | grep -qF "GET $U/c3" && break
		sleep 0.1
	done
	id=$(pscreen | awk -v u="$U/c3" '$0 ~ u { print $1; exit }')
	contains "on a terminal, boundary approve lists and asks which to answer" "$(pscreen)" \
		"answer: ID once|always|deny"
	$TM send-keys -t p "$id deny" Enter
	for i in $(seq 100); do
		pscreen | grep -qF "watching for one" && break
		sleep 0.1
	done
	if pscreen | grep -qF "refused other.test" && pscreen | grep -qF "watching for one"; then
		ok "... answers the request, then watches for the next"
	else
		fail "... answers the request, then watches for the next"
		diag "$(pscreen)"
	fi
	$TM send-keys -t p Enter
	for i in $(seq 50); do
		pscreen | grep -qF "PICKER-EXIT=0" && break
		sleep 0.1
	done
	contains "... an empty line ends it" "$(pscreen)" "PICKER-EXIT=0"
	check "... the program got the refusal" wait_for "STATUS GOT-403"
	tmux_send "q"
	wait_for "BOUNDARY-EXIT=0" 5
	$TM kill-session -t p 2>/dev/null

	# --- vim runs a command that makes the request -------------------------------------------
	VI=$(command -v vim || command -v vi)
	if [ -z "$VI" ]; then
		skip "vim is not installed"
	else
		term --interactive=terminal -- "$VI" -u NONE -n "$W/v.txt"
		sleep 1
		tmux_send ":r !$CURL -s $U/vim-req" Enter
		if wait_for "allow other.test? [once/always/deny]"; then
			ok "vim's command's request is asked about on the terminal"
		else
			fail "vim's command's request is asked about on the terminal"
			diag "$(screen)"
		fi
		tmux_send "once" Enter
		sleep 1
		tmux_send Enter
		tmux_send ":wq" Enter
		if wait_for "BOUNDARY-EXIT=0" && grep -q "/echo/vim-req" "$W/v.txt"; then
			ok "... answered: the answer's body is in the file vim saved"
		else
			fail "... answered: the answer's body is in the file vim saved"
			diag "$(screen)" "file: $(cat "$W/v.txt")"
		fi
	fi
	$TM kill-session -t t 2>/dev/null
fi

# --- boundary approve, with no terminal at all ------------------------------------------------

SAVED=$TMPDIR_T/saved.rules
AUD=$TMPDIR_T/audit.jsonl
# As if run by sudo from uid 65534: the socket is theirs, and the command runs as them too, so
# only the hiding and the check of the client's namespace keep the jail from answering itself.
export SUDO_UID=65534 SUDO_GID=65534
at_exit "rmdir /run/boundary-approvals/65534 2>/dev/null"
as_owner() { setpriv --reuid 65534 --regid 65534 --clear-groups "$@"; }
as_other() { setpriv --reuid 12345 --regid 12345 --clear-groups "$@"; }
chmod 0777 "$W"
bnd_bg sock --interactive=socket --save-rules "$SAVED" --audit-log "$AUD" \
	--interactive-timeout 3 -- sh -c "
	c() { $CURL -o /dev/null -w \"CODE-\$1=%{http_code}.\n\" \$2; }
	c s1 $U/s1; c s2 $U/s2; c s3 http://x.api.up.test:$P_HTTP/echo/s3
	c s4 http://x.api.up.test:$P_HTTP/echo/s4
	$CURL -s $U/s5 >$W/s5.body; echo CODE-s5
	ls -A /run/boundary-approvals | wc -l >$W/hidden.count
	python3 -c 'import socket,sys
s=socket.socket(socket.AF_UNIX)
try:
    s.connect(sys.argv[1]); s.sendall(b\"list\\n\"); print(\"JAIL-GOT\", s.recv(200))
except OSError as e: print(\"JAIL-REFUSED\", e.errno)' \$(cat $W/sockpath) >$W/jail.try 2>&1
	echo ALL-DONE"
unset SUDO_UID SUDO_GID
SP=/run/boundary-approvals/65534/$BND_PID.sock
echo "$SP" >"$W/sockpath"
pending() { # pending PATH: waits for the request for PATH to be listed; its ID in id
	local i
	for i in $(seq 100); do
		out=$(as_owner "$BOUNDARY" approve 2>&1)
		id=$(awk -v u="$1" '$0 ~ u { print $1; exit }' <<<"$out")
		[ -n "$id" ] && return 0
		sleep 0.1
	done
	return 1
}
code() { grep -o "CODE-$1=[0-9]*" "$TMPDIR_T/sock.out" | cut -d= -f2; }
wait_code() {
	local i
	for i in $(seq 100); do
		grep -q "CODE-$1" "$TMPDIR_T/sock.out" && return 0
		sleep 0.1
	done
}
pending /echo/s1
check "the socket is the user's alone (0600, in a 0700 directory)" \
	[ "$(stat -c %a "$SP")" = 600 ] && [ "$(stat -c %a "$(dirname "$SP")")" = 700 ]
contains "boundary approve lists the pending request: id, process, method, URL" "$out" \
	"curl["
contains "... with the method and URL" "$out" "GET $U/s1"
matches "... and an ID of boundary's pid and a number" "$id" "^$BND_PID\\.[0-9]+$"
run_b approve "$BND_PID.999" once
expect_rc "an ID that waits nowhere is an error" 1
contains "... saying so" "$err" "no request 999 waits here"
run_b approve "$id" maybe
expect_rc "an answer that is not one is an error" 1
# another user: cannot enter the directory, and so cannot list, connect or answer
other=$(as_other "$BOUNDARY" approve 2>&1)
contains "another user's boundary approve sees no request" "$other" "no request waits"
other=$(as_other /usr/bin/python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX)
try:
    s.connect(sys.argv[1]); print("CONNECTED")
except OSError as e: print("REFUSED", e.errno)' "$SP")
check "another user cannot connect to the socket" [ "$other" = "REFUSED 13" ] || diag "$other"
out=$(as_owner "$BOUNDARY" approve "$id" once 2>&1)
rc=$?
expect_rc "the user's boundary approve ID once exits 0" 0
wait_code s1
check "once: allowed (200)" [ "$(code s1)" = 200 ]
pending /echo/s2
run_b approve "$id" deny
wait_code s2
check "deny: refused (403)" [ "$(code s2)" = 403 ]
pending /echo/s3
run_b approve "$id" always
contains "always: saved, as at the terminal" "$out" "saved to $SAVED"
wait_code s4
check "always: allowed, and the next request to the host without asking" \
	[ "$(code s3)" = 200 ] && [ "$(code s4)" = 200 ]
check "always: the rule is in the --save-rules file" [ "$(cat "$SAVED")" = "domain=x.api.up.test" ]
# nobody answers s5: refused after --interactive-timeout
for i in $(seq 150); do grep -q ALL-DONE "$TMPDIR_T/sock.out" && break; sleep 0.1; done
contains "unanswered: refused after --interactive-timeout, the reason in the 403" \
	"$(cat "$W/s5.body")" "nobody answered in time"
contains "... and where it was asked: from another terminal, not boundary's" \
	"$(cat "$W/s5.body")" "asked from another terminal: nobody answered"
r=$(grep '"event":"request"' "$AUD" | grep -F '/echo/s5"' | head -1)
contains "... and in the audit record" "$r" "nobody answered in time"
check "the jail sees nothing of /run/boundary-approvals" [ "$(cat "$W/hidden.count")" = 0 ]
contains "the jail cannot reach the socket" "$(cat "$W/jail.try")" "JAIL-REFUSED"
wait "$BND_PID" 2>/dev/null
check "the socket is removed when boundary ends" [ ! -e "$SP" ]

done_testing
