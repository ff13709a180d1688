#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# h2_abuse.t: HTTP/2 abuse against boundary's proxy, as root. A jailed client (tests/lib/
# h2_abuse.py) speaks h2c with prior knowledge to up.test (an allowed name; the upstream speaks
# HTTP/1.1 on host loopback), or TLS with ALPN h2 trusting boundary's CA, and abuses the
# protocol: far more streams than boundary's SETTINGS_MAX_CONCURRENT_STREAMS (100), a header
# list over 64 KiB, an endless CONTINUATION sequence (CVE-2024-27316, CVE-2024-28182), rapid
# reset (CVE-2023-44487), PING and SETTINGS floods it never reads the answers to. Each attack
# runs in a boundary of its own, so that boundary's peak memory (VmHWM) is the attack's, and each
# is followed, in the same jail, by a well-behaved request on a new connection: boundary must
# refuse the stream or end the connection, keep its memory bounded, say so in its log (a line
# naming HTTP/2), keep the upstream out of it, and still serve the next client.
#
# What libnghttp2 1.52 (Debian 12, which boundary's HTTP/2 side is built on) does with each, seen
# from nghttpd: too many streams, GOAWAY PROTOCOL_ERROR; 100 headers of 1000 bytes, nghttpd's
# own RST_STREAM INTERNAL_ERROR; one 100 KiB value, GOAWAY COMPRESSION_ERROR; CONTINUATION
# flood, a close without GOAWAY after 8 frames (a fatal error: the library says drop the
# connection); rapid reset, GOAWAY INTERNAL_ERROR after 1000 streams; PING and SETTINGS floods,
# a close without GOAWAY once 1000 ACKs are queued (NGHTTP2_ERR_FLOODED, the same). So a bare
# close is accepted where the library asks for one, a GOAWAY with any code everywhere.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/jail.sh"
. "$(dirname "$0")/../lib/proxy.sh"
proxy_suite --no-testhost

H2=$STAGE/lib/h2_abuse.py
# The most boundary may hold at its peak in any one of these runs (kB). It starts near 10 MB;
# an attack that makes it queue per frame or per stream without a ceiling goes far past this.
HWM_MAX=$((120 * 1024))
# Rapid reset: how many of its requests the upstream may see. libnghttp2 lets a burst of 1000
# resets through, then 33 a second, before it ends the connection.
RESET_MAX=1100
END_RE='^(GOAWAY [A-Z_]+|CLOSED)$'

# attack NAME [--tls] MODE [N]: in a boundary of its own that allows up.test, one jailed shell
# runs h2_abuse.py MODE against up.test (h2c on $P_HTTP, or TLS on $P_HTTPS), then a good request
# on a new connection (over TLS), then waits for the suite; sets $out, $log and $hwm (boundary's VmHWM in
# kB, "" when boundary was gone by then).
attack() {
	local name=$1 tls="" port=$P_HTTP dir
	shift
	if [ "$1" = --tls ]; then
		tls=--tls
		port=$P_HTTPS
		shift
	fi
	dir=$(shared_dir "$name")
	{
		echo "timeout 120 /usr/bin/python3 $(printf %q "$H2") $tls $1 up.test $port ${2:-}"
		# Over TLS whatever the attack's: up.test speaks HTTP/1.1, which a client's h2c
		# prior knowledge does not reach (boundary speaks h2c upstream to such a client).
		echo "timeout 30 /usr/bin/python3 $(printf %q "$H2") --tls good up.test $P_HTTPS /echo/h2-good-$name"
		echo 'echo "ALL: done"'
		echo "i=0; while [ ! -e $(printf %q "$dir/go") ] && [ \$i -lt 300 ]; do"
		echo "	sleep 0.1; i=\$((i + 1)); done"
	} >"$dir/run.sh"
	chmod a+r "$dir/run.sh"
	# shellcheck disable=SC2086 # ATTACK_ARGS: more flags for boundary, split on purpose
	bnd_bg "$name" --allow "domain=up.test" ${ATTACK_ARGS:-} -- sh "$dir/run.sh"
	jail_wait_log "$TMPDIR_T/$name.out" "^ALL: done" 200
	hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$BND_PID/status" 2>/dev/null)
	touch "$dir/go"
	# a boundary the attack wedged would never end: 30 s, then it is stopped
	for _ in $(seq 300); do
		grep -qE '^State:[[:space:]]+[^Z]' "/proc/$BND_PID/status" 2>/dev/null || break
		sleep 0.1
	done
	kill "$BND_PID" 2>/dev/null
	wait "$BND_PID"
	out=$(cat "$TMPDIR_T/$name.out")
	log=$(cat "$TMPDIR_T/$name.log")
}

# upstream_saw PREFIX: how many requests for /echo/PREFIX* the upstream received.
upstream_saw() { grep -c " /echo/$1" "$UP/requests.log"; }

# at_most DESC GOT MAX
at_most() {
	if [ -n "$2" ] && [ "$2" -le "$3" ]; then ok "$1 ($2)"; else
		fail "$1 (${2:-nothing}, at most $3)"
		diag "output: $out"
	fi
}

# memory_bounded WHAT: boundary was still there after WHAT, and its peak stayed under $HWM_MAX.
memory_bounded() {
	diag "$1: boundary's VmHWM ${hwm:-?} kB"
	check "boundary survived $1" [ -n "$hwm" ]
	at_most "and its peak memory stayed bounded (kB)" "$hwm" "$HWM_MAX"
}

# after WHAT: the good request on a new connection, in the same boundary, was answered.
after() {
	want GOOD 200 "after $1, a well-behaved request on a new connection is answered"
	want GOOD_SERVER A "by the upstream"
}

# ended_logged WHAT: boundary's log has a line about the HTTP/2 connection it ended.
ended_logged() { logged "boundary's log says it ended the HTTP/2 connection ($1)" "$log" 'HTTP/2'; }

# spoke_h2 LABEL HOW: boundary answered the client's preface with its SETTINGS (else the rest of the
# case tested nothing: its summary is NOT_H2).
spoke_h2() { want "$1_H2" yes "boundary speaks HTTP/2 to a jailed client ($2)"; }

# outcome LABEL ERE DESC: the client's summary LABEL matches ERE.
outcome() {
	local got
	got=$(result "$1")
	if matches "$got" "$2"; then ok "$3 ($got)"; else
		fail "$3"
		diag "$1: got '${got:-nothing}', want /$2/" "output: $out" "log: $log"
	fi
	diag "$(result "$1_DETAIL")"
}

# --- 1. too many concurrent streams ------------------------------------------------------------
# 1000 POSTs, none ended: past the 100th, each is refused (or the connection ends).
attack streams streams 1000
spoke_h2 STREAMS "h2c, prior knowledge"
want STREAMS_LIMIT 100 "boundary advertises SETTINGS_MAX_CONCURRENT_STREAMS 100"
outcome STREAMS '^(RST [0-9]+ (REFUSED_STREAM|PROTOCOL_ERROR)|GOAWAY [A-Z_]+)$' \
	"streams past the limit are refused, or the connection ends"
at_most "no more than 100 streams stay open" "$(result STREAMS_OPEN)" 100
at_most "the upstream saw no more than 100 of them" "$(upstream_saw h2-streams-)" 100
case $(result STREAMS) in GOAWAY*) ended_logged "too many streams" ;; esac
after "too many streams"
memory_bounded "1000 open streams"

# --- 2. a header list over 64 KiB --------------------------------------------------------------
attack headers headers
spoke_h2 HEADERS "h2c, prior knowledge"
outcome HEADERS '^(RST 1 [A-Z_]+|STATUS 431|GOAWAY [A-Z_]+)$' \
	"100 headers of 1000 bytes (100 KiB, over CONTINUATION): the stream is refused"
check "the upstream never saw the request" [ "$(upstream_saw h2-headers-)" = 0 ]
case $(result HEADERS) in GOAWAY*) ended_logged "a header list too large" ;; esac
after "a header list too large"
memory_bounded "a 100 KiB header list"

attack bigheader bigheader
spoke_h2 BIGHEADER "h2c, prior knowledge"
outcome BIGHEADER '^(RST 1 [A-Z_]+|STATUS 431|GOAWAY [A-Z_]+)$' \
	"one header value of 100 KiB (over CONTINUATION): the stream is refused"
check "the upstream never saw the request" [ "$(upstream_saw h2-bigheader-)" = 0 ]
case $(result BIGHEADER) in GOAWAY*) ended_logged "a header value too large" ;; esac
after "a header value too large"
memory_bounded "a 100 KiB header value"

# --- 3. CONTINUATION flood ---------------------------------------------------------------------
# Endless CONTINUATION frames of one small field each; the client gives up at 10 MiB.
attack continuation continuation 10
spoke_h2 CONTINUATION "h2c, prior knowledge"
outcome CONTINUATION "$END_RE" "a CONTINUATION flood ends the connection"
want CONTINUATION_CLOSED yes "boundary closed it"
at_most "before the client had sent 1 MiB of it" "$(result CONTINUATION_SENT)" $((1024 * 1024))
check "the upstream never saw the request" [ "$(upstream_saw h2-continuation-)" = 0 ]
ended_logged "CONTINUATION flood"
after "a CONTINUATION flood"
memory_bounded "a CONTINUATION flood"

# --- 3b. a header block that never ends (slowloris over HTTP/2) --------------------------------
# HEADERS without END_HEADERS, half a block, then silence: the header timeout (2 s here) ends it,
# as it ends a slow HTTP/1.1 head.
ATTACK_ARGS="--header-timeout 2" attack slowhead slowhead 15
spoke_h2 SLOWHEAD "h2c, prior knowledge"
outcome SLOWHEAD "$END_RE" "a header block that never ends: the connection is ended"
at_most "within the header timeout and a sweep or two (2 s)" "$(result SLOWHEAD_SECONDS)" 5
check "the upstream never saw the request" [ "$(upstream_saw h2-slowhead-)" = 0 ]
logged "boundary's log says why (a request head did not arrive in time)" "$log" \
	'HTTP/2 request head did not arrive in time'
after "a header block that never ends"

# --- 4. rapid reset, h2c and TLS ---------------------------------------------------------------
# 10000 times a GET and its RST_STREAM at once.
for t in "" --tls; do
	how=h2c
	[ -n "$t" ] && how="TLS (ALPN h2)"
	attack "reset${t#--}" $t reset 10000
	spoke_h2 RESET "$how"
	outcome RESET '^GOAWAY [A-Z_]+$' "rapid reset over $how: boundary sends GOAWAY"
	want RESET_CLOSED yes "and closes the connection"
	at_most "the upstream saw a bounded number of them" "$(upstream_saw h2-reset-)" "$RESET_MAX"
	ended_logged "rapid reset over $how"
	after "rapid reset over $how"
	memory_bounded "rapid reset over $how"
	: >"$UP/requests.log"
done

# --- 5. and 6. PING and SETTINGS floods, never reading the ACKs --------------------------------
# A million each, with a 4 KiB receive buffer: up to 4 MiB of ACKs sit in boundary's socket
# buffer, and the rest would queue in boundary unless it stops the connection.
for f in ping settings; do
	F=${f^^}
	attack "$f" "$f" 1000000
	spoke_h2 "$F" "h2c, prior knowledge"
	outcome "$F" "$END_RE" "a $f flood whose ACKs are never read ends the connection"
	want "${F}_CLOSED" yes "boundary closed it"
	ended_logged "$f flood"
	after "a $f flood"
	memory_bounded "a $f flood"
done

done_testing
