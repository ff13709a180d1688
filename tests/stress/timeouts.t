#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# timeouts.t: clients and upstreams that stall or vanish, all at once in one jail, with every
# timeout at 2 s (--header-timeout, --idle-timeout, --upstream-timeout). Each must end within
# its timeout plus a little, answered (408, 504) or closed, with a line in boundary's log that
# says what happened; a well-behaved client asking every 100 ms meanwhile must see no failure
# and no stall. The misbehaving clients are tests/stress/slow.py, the origin tests/stress/load.py.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/jail.sh"
. "$(dirname "$0")/../lib/proxy.sh"
proxy_suite
testhost_listen 80
testhost_sniff
testhost_selftest 80

python3 "$STAGE/stress/load.py" serve "$TMPDIR_T/load.port" 2>"$TMPDIR_T/origin.err" &
at_exit "kill $! 2>/dev/null"
for _ in $(seq 100); do [ -s "$TMPDIR_T/load.port" ] && break; sleep 0.05; done
LP=$(cat "$TMPDIR_T/load.port")

start=$(date +%s)
bnd --allow "domain=up.test" --header-timeout 2 --idle-timeout 2 --upstream-timeout 2 -- \
	timeout 40 python3 "$STAGE/stress/slow.py" "$TH4" 80 "up.test:$LP"
diag "$out" "(the whole run took $(($(date +%s) - start)) s)"
expect_rc "the misbehaving clients all finished (none hung past 40 s)" 0

# within NAME WANT DESC: ok when NAME's result is "WANT[...] after S" with S in [1.5, 5.5]
within() {
	local got secs
	got=$(result "$1")
	secs=$(sed -nE 's/.* after ([0-9.]+).*/\1/p' <<<"$got")
	if [[ $got == "$2"*" after "* ]] && [ -n "$secs" ] &&
		awk -v s="$secs" 'BEGIN { exit !(s >= 1.5 && s <= 5.5) }'; then
		ok "$3 ($got)"
	else
		fail "$3"
		diag "$1: got '${got:-nothing}', want '$2 after 2-5 s'" "log: $log"
	fi
}

within slowloris 408 "slowloris (a head dripping a byte every 0.3 s): 408 at the header timeout"
contains "... and the 408 says why" "$(result slowloris)" "the request head did not arrive in time"
logged "... and the log says so" "$log" "python3\\[[0-9]+\\] \\(to $TH4:80\\): 408: the request head did not arrive in time"
within silent closed "a client that never sends a byte: closed at the header timeout"
logged "... and the log says so" "$log" "nothing arrived in 2 s; closing"
within tls-stall closed "a ClientHello that stops halfway: closed at the header timeout"
logged "... and the log says so" "$log" "no whole request head arrived in 2 s; closing"
within stalled-upload 408 "an upload that stalls after 1000 of 100000 bytes: 408"
contains "... and the 408 says the body stalled" "$(result stalled-upload)" "the request body stalled"
logged "... and the log says so" "$log" "POST http://up.test:$LP/upload from python3\\[[0-9]+\\]: 408: the request body stalled"
logged "a client that vanishes mid-body: logged" "$log" \
	"POST http://up.test:$LP/upload from python3\\[[0-9]+\\]: the client went away in the middle of its request body"
got=$(result upstream-half)
partial_then_close() { [[ $got =~ ^200\ after\ [01]\. ]] && [[ $got == *"(1000 body bytes)" ]]; }
check "an upstream that vanishes mid-response: the client gets what came, then the close, at once ($got)" \
	partial_then_close
logged "... and the log says so" "$log" "GET http://up.test:$LP/half from python3\\[[0-9]+\\]: the upstream closed in the middle of its response"
within upstream-never 504 "an upstream that never answers: 504 at --upstream-timeout"
logged "... and the log says so" "$log" "GET http://up.test:$LP/never from python3\\[[0-9]+\\]: 504: the upstream did not answer in time"
within keepalive-idle "first 200 then closed" "a keep-alive connection left idle: closed at the idle timeout"
within keepalive-slow-head 408 "a keep-alive connection's next head dripping: 408, the header timeout counted from its first byte"
n408=$(grep -cE "python3\\[[0-9]+\\] \\(to $TH4:80\\): 408: the request head did not arrive" <<<"$log")
two_408s_alone() { [ "$n408" = 2 ] && ! grep -q "/ok from python3.*: 408" <<<"$log"; }
check "... logged without naming the request before it on the connection ($n408 such lines, 2 wanted)" \
	two_408s_alone
got=$(result steady)
slowest=${got##* }
steady_served() { [[ $got =~ ^[1-9][0-9]*\ ok,\ 0\ failed, ]] && awk -v s="$slowest" "BEGIN { exit !(s < 1.5) }"; }
check "meanwhile, a client asking every 100 ms was served every time, never held up by them ($got)" \
	steady_served
testhost_quiet "the test host they all dialled saw nothing"

# Bad values are refused, saying what is allowed.
run_b --header-timeout 0 --allow "domain=x.test" -- true
expect_rc "--header-timeout 0 is refused" 125
contains "... saying what is allowed" "$err" "1-86400"
run_b --idle-timeout soon --allow "domain=x.test" -- true
expect_rc "--idle-timeout soon is refused" 125
done_testing
