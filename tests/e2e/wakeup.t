#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# wakeup.t: no connection waits for a loop turn that no event brings, as root. A worker's epoll
# wait ends at least every 100 ms to run its timers; a connection whose progress depended on
# that tick (bytes OpenSSL holds while the socket is drained, a kick between an HTTP/2 session
# and its streams that is lost, a write that is never retried) would only be slow, and a
# benchmark's tail latency the one sign of it. Here boundary runs with the wait made 30 s
# (BOUNDARY_TEST_LOOP_WAIT_MS, a knob for tests), so such a connection hangs instead, and every
# request has 10 s: keep-alive HTTPS clients at once, each request read to its end, small
# answers, 1 MiB ones, a few records, chunked ones and uploads in turn, through the proxy to the
# origin servers of tests/lib/proxy.sh (reached by name through boundary's DNS).
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/jail.sh"
. "$(dirname "$0")/../lib/proxy.sh"
proxy_suite --no-testhost

# burst CONNS N: client.py burst through a jail whose proxy waits up to 30 s for an event;
# sets $out and $secs (the whole run's wall time).
burst() {
	local t0
	t0=$(date +%s%N)
	BOUNDARY_TEST_LOOP_WAIT_MS=30000 bnd --allow "domain=up.test" -- \
		env CLIENT_ADDR= BURST_TIMEOUT=10 python3 "$CLIENT_PY" burst \
		"https://up.test:$P_HTTPS/" "$1" "$2"
	secs=$((($(date +%s%N) - t0) / 1000000000))
}

burst 8 40
if [ "$(head -1 <<<"$out")" = "ok 320" ] && [ "$secs" -lt 30 ]; then
	ok "8 keep-alive HTTPS connections, 320 requests of every kind, none waits for the timer tick ($secs s; $(tail -1 <<<"$out") ms)"
else
	fail "8 keep-alive HTTPS connections, 320 requests of every kind, none waits for the timer tick"
	diag "client: $out" "wall time: $secs s" "$(tail -5 <<<"$log")"
fi

burst 1 60
if [ "$(head -1 <<<"$out")" = "ok 60" ] && [ "$secs" -lt 30 ]; then
	ok "one keep-alive HTTPS connection alone, 60 requests in a row, none waits for the timer tick ($secs s)"
else
	fail "one keep-alive HTTPS connection alone, 60 requests in a row, none waits for the timer tick"
	diag "client: $out" "wall time: $secs s" "$(tail -5 <<<"$log")"
fi

done_testing
