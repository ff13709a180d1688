#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# agent.t: audit records streamed to the Coder workspace agent, end to end, as root. A listener of
# ours (tests/lib/coder_agent.py) plays the agent's Unix socket and decodes every frame with a
# protobuf decoder of its own; boundary runs real jails whose curls reach the local upstream
# servers (tests/lib/proxy.sh). Checked: the framing (tag 2, lengths), every field of every
# record (allowed, time, method, URL, matched rule only when allowed, sequence numbers, session
# id, process name), batches of 10, the 5 s timer, and what happens when the socket is missing,
# turned off, empty or goes away mid-run.
# shellcheck disable=SC2086 # $CURL is a command line
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/jail.sh"
. "$(dirname "$0")/../lib/proxy.sh"
proxy_suite

R=$(shared_dir r)

# count EV FILE: how many events EV ("accept", "frame", "eof") the agent noted.
count() { grep -c "\"ev\": \"$1\"" "$2"; }

# session_of LOG: the session id boundary logged.
session_of() { sed -nE 's/.*Coder agent.s socket .* \(session ([^)]+)\).*/\1/p' <<<"$1" | head -1; }

# check_frames OUT EXPECT SESSION PROCESS T0 T1 BATCHES: checks every frame and record the agent
# got against EXPECT (one record a line: "allow|METHOD|URL|RULE" or "deny|METHOD|URL"), timed within
# [T0, T1] (Unix seconds), in batches of the sizes BATCHES (comma-separated). One TAP line each.
check_frames() {
	local line
	while IFS= read -r line; do
		case $line in
		"PASS "*) ok "${line#PASS }" ;;
		"FAIL "*) fail "${line#FAIL }" ;;
		*) diag "$line" ;;
		esac
	done < <(python3 "$STAGE/lib/coder_agent.py" check "$@")
}

# --- every field, batches of 10 --------------------------------------------------------------------

agent_up main || exit 1
PP=18080
RA="domain=up.test path=/echo/ok"
RB="domain=api.up.test"
: >"$TMPDIR_T/expect"
{
	echo "$CURL -o /dev/null 'http://up.test:$P_HTTP/echo/ok?x=1&y=%41'"
	echo "$CURL -o /dev/null http://up.test:$P_HTTP/echo/no"
	echo "$CURL -o /dev/null https://api.up.test:$P_HTTPS/echo/tls"
	echo "$CURL -o /dev/null -X POST -d x https://other.test:$P_HTTPS/echo/post"
	echo "curl -sS --max-time 20 -x http://127.0.0.1:$PP -o /dev/null https://api.up.test:$P_HTTPS/echo/c"
	echo "curl -sS --max-time 20 -x http://127.0.0.1:$PP -o /dev/null https://other.test:$P_HTTPS/echo/d"
	for i in 1 2 3 4 5; do
		echo "$CURL -o /dev/null -X DELETE http://up.test:$P_HTTP/echo/n$i"
	done
	echo "$CURL -o /dev/null -w '%{http_code}' http://up.test:$P_HTTP/echo/ok >$R/last"
} >"$R/main.sh"
{
	echo "allow|GET|http://up.test:$P_HTTP/echo/ok?x=1&y=%41|$RA"
	echo "deny|GET|http://up.test:$P_HTTP/echo/no"
	echo "allow|GET|https://api.up.test:$P_HTTPS/echo/tls|$RB"
	echo "deny|POST|https://other.test:$P_HTTPS/echo/post"
	echo "allow|CONNECT|api.up.test:$P_HTTPS|$RB"
	echo "allow|GET|https://api.up.test:$P_HTTPS/echo/c|$RB"
	echo "deny|CONNECT|other.test:$P_HTTPS"
	for i in 1 2 3 4 5; do
		echo "deny|DELETE|http://up.test:$P_HTTP/echo/n$i"
	done
	echo "allow|GET|http://up.test:$P_HTTP/echo/ok|$RA"
} >"$TMPDIR_T/expect"
t0=$(date +%s.%N)
bnd --proxy-port "$PP" --log-proxy-socket-path "$AGENT_SOCK" --allow "$RA" --allow "$RB" -- \
	sh "$R/main.sh"
t1=$(date +%s.%N)
sleep 0.2
if [ "$rc" = 0 ] && [ "$(cat "$R/last" 2>/dev/null)" = 200 ]; then
	ok "the jailed command ran and was served with the agent listening"
else
	fail "the jailed command ran and was served with the agent listening (exit $rc)"
	diag "$log"
fi
logged "boundary says where records go, and the session" "$log" \
	"info: audit records go to the Coder agent's socket $(ere_quote "$AGENT_SOCK") \\(session [0-9a-f-]{36}\\)"
session=$(session_of "$log")
check_frames "$AGENT_OUT" "$TMPDIR_T/expect" "$session" sh "$t0" "$t1" 10,3

# --- the timer, and an agent that goes away mid-run ------------------------------------------------
# One record waits for the 5 s timer its batch started; then the agent dies; boundary carries on:
# the next request is served, the command's exit status comes through, and the record it could
# not send is said in the log.

agent_up gone || exit 1
cat >"$R/gone.sh" <<SH
$CURL -o /dev/null -w '%{http_code}' http://up.test:$P_HTTP/echo/ok >$R/gone1
sleep 8
$CURL -o /dev/null -w '%{http_code}' http://up.test:$P_HTTP/echo/ok >$R/gone2
exit 3
SH
bnd_bg gone --log-proxy-socket-path "$AGENT_SOCK" --allow "$RA" -- sh "$R/gone.sh"
if jail_wait_log "$AGENT_OUT" '"ev": "frame"' 12; then
	kill "$AGENT_PID"
	python3 "$STAGE/lib/coder_agent.py" delay "$AGENT_OUT" >"$TMPDIR_T/gone.delay"
	read -r delay n <"$TMPDIR_T/gone.delay"
	if [ "$n" = 1 ] && awk -v d="$delay" 'BEGIN { exit !(d >= 4.8 && d < 7) }'; then
		ok "a lone record is sent by the 5 s timer its batch started (after ${delay}s)"
	else
		fail "a lone record is sent by the 5 s timer its batch started"
		diag "records: $n, after ${delay}s"
	fi
else
	fail "a lone record is sent by the 5 s timer its batch started (no frame in 12 s)"
	kill "$AGENT_PID"
fi
wait "$BND_PID"
rc=$?
log=$(cat "$TMPDIR_T/gone.log")
if [ "$rc" = 3 ] && [ "$(cat "$R/gone1")" = 200 ] && [ "$(cat "$R/gone2")" = 200 ]; then
	ok "with the agent gone, boundary keeps serving and passes the exit status through"
else
	fail "with the agent gone, boundary keeps serving and passes the exit status through"
	diag "exit $rc, responses $(cat "$R/gone1" "$R/gone2" 2>&1)" "$log"
fi
logged "and says it could not write to the agent" "$log" \
	"warn: cannot write to the Coder agent's audit socket $(ere_quote "$AGENT_SOCK")"
logged "and that the record it kept was not sent" "$log" \
	"warn: 1 audit record\\(s\\) could not be sent to the Coder agent's socket"

# --- a missing socket, the default path, turned off, an empty path ---------------------------------

bnd --log-proxy-socket-path "$TMPDIR_T/nobody.sock" --allow "$RA" -- \
	$CURL -o /dev/null -w '%{http_code}' "http://up.test:$P_HTTP/echo/ok"
if [ "$rc" = 0 ] && [ "$out" = 200 ]; then
	ok "a socket path that does not exist: the run works"
else
	fail "a socket path that does not exist: the run works (exit $rc, $out)"
	diag "$log"
fi
logged "and boundary warns that the agent gets nothing" "$log" \
	"warn: the Coder agent's audit socket $(ere_quote "$TMPDIR_T/nobody.sock") does not exist"

if [ -e /tmp/boundary-audit.sock ]; then
	skip "the default path exists on this machine (a Coder workspace?): not run"
else
	bnd --allow "$RA" -- $CURL -o /dev/null "http://up.test:$P_HTTP/echo/ok"
	if [ "$rc" = 0 ] && ! grep -q "warn: .*audit socket" <<<"$log" &&
		grep -q "info: no Coder agent's audit socket at /tmp/boundary-audit.sock" <<<"$log"; then
		ok "the default path missing (no Coder workspace) is no warning, only an info line"
	else
		fail "the default path missing (no Coder workspace) is no warning, only an info line"
		diag "exit $rc" "$log"
	fi
fi

agent_up off || exit 1
bnd --disable-audit-logs --log-proxy-socket-path "$AGENT_SOCK" --allow "$RA" -- \
	$CURL -o /dev/null -w '%{http_code}' "http://up.test:$P_HTTP/echo/ok"
rc1=$rc out1=$out
DISABLE_AUDIT_LOGS=true bnd --log-proxy-socket-path "$AGENT_SOCK" --allow "$RA" -- \
	$CURL -o /dev/null -w '%{http_code}' "http://up.test:$P_HTTP/echo/no"
sleep 0.2
if [ "$rc1" = 0 ] && [ "$out1" = 200 ] && [ "$rc" = 0 ] && [ "$(count accept "$AGENT_OUT")" = 0 ]; then
	ok "--disable-audit-logs (and DISABLE_AUDIT_LOGS=true): the agent gets no connection"
else
	fail "--disable-audit-logs (and DISABLE_AUDIT_LOGS=true): the agent gets no connection"
	diag "exit $rc1 and $rc, $out1" "$(cat "$AGENT_OUT")" "$log"
fi
logged "and boundary says so" "$log" "info: audit records are not sent to the Coder agent \\(--disable-audit-logs\\)"

bnd --log-proxy-socket-path "" --allow "$RA" -- true
if [ "$rc" = 125 ] && grep -q "^boundary: --log-proxy-socket-path is empty" <<<"$log"; then
	ok "an empty socket path is an error (exit 125) that says what to do"
else
	fail "an empty socket path is an error (exit 125) that says what to do"
	diag "exit $rc" "$log"
fi
bnd --disable-audit-logs --log-proxy-socket-path "" --allow "$RA" -- true
if [ "$rc" = 0 ]; then ok "an empty path with --disable-audit-logs is no error"; else
	fail "an empty path with --disable-audit-logs is no error (exit $rc)"
	diag "$log"
fi

# --- the environment variable, beside --audit-log --------------------------------------------------
# Both sinks get the decision; the JSON file also gets what the agent does not ("end").

agent_up env || exit 1
t0=$(date +%s.%N)
CODER_AGENT_BOUNDARY_LOG_PROXY_SOCKET_PATH=$AGENT_SOCK bnd --audit-log "$TMPDIR_T/audit.jsonl" \
	--allow "$RA" -- sh -c "$CURL -o /dev/null http://up.test:$P_HTTP/echo/ok; \
	$CURL -o /dev/null http://up.test:$P_HTTP/echo/no"
t1=$(date +%s.%N)
sleep 0.2
printf '%s\n' "allow|GET|http://up.test:$P_HTTP/echo/ok|$RA" "deny|GET|http://up.test:$P_HTTP/echo/no" \
	>"$TMPDIR_T/expect"
check_frames "$AGENT_OUT" "$TMPDIR_T/expect" "$(session_of "$log")" sh "$t0" "$t1" 2
if grep -q '"event":"request","decision":"allow"' "$TMPDIR_T/audit.jsonl" &&
	grep -q '"event":"end"' "$TMPDIR_T/audit.jsonl" &&
	grep -q '"event":"request","decision":"deny"' "$TMPDIR_T/audit.jsonl"; then
	ok "CODER_AGENT_BOUNDARY_LOG_PROXY_SOCKET_PATH is read, and --audit-log gets its records too"
else
	fail "CODER_AGENT_BOUNDARY_LOG_PROXY_SOCKET_PATH is read, and --audit-log gets its records too"
	diag "$(cat "$TMPDIR_T/audit.jsonl")"
fi

done_testing
