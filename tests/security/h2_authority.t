#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# h2_authority.t: which host an HTTP/2 stream is judged and routed by, as root. Each stream of a
# jailed client's HTTP/2 connection must be decided by its own :authority, never by the TLS
# server name (SNI) nor the name the connection was dialled by; a Host field that disagrees with
# :authority is malformed (400); CONNECT over HTTP/2 is not taken (405), so no tunnel opens to a
# host:port, even one a stream rule allows; an HTTP/1.1 "Upgrade: h2c" is never passed on, even
# to an origin that would take it, so the client's later requests on that connection are still
# judged one by one. In every case the upstream a refused stream names must see nothing.
#
# Servers on the host's loopback (tests/lib/proxy.sh, plus):
#   up.test, other.test  tests/lib/upstream.py: listener A (127.0.0.1) and B (127.0.0.2), the
#                        same ports; "ID METHOD TARGET" per request in $UP/requests.log
#   h2c.test             tests/lib/h2_upstream.py h2c (prior knowledge only), 127.0.0.1
#   h2up.test            tests/lib/h2_upstream.py h2c-upgrade: HTTP/1.1 that takes Upgrade: h2c
#                        (answers 101, then HTTP/2), 127.0.0.1. nghttpd would not do: Debian 12's
#                        (1.52) sends its SETTINGS at once and never reads an HTTP/1.1 request.
#   up.test:$P_HIT       tests/lib/hit_listener.py: counts every connection (CONNECT's target)
# The jailed client is tests/lib/h2_client.py (--sni, and JSON PATHs for each stream's fields).
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/jail.sh"
. "$(dirname "$0")/../lib/proxy.sh"
proxy_suite --no-testhost

PY=/usr/bin/python3
H2C=$STAGE/lib/h2_client.py
echo "127.0.0.1 h2c.test h2up.test" >>"$UP/hosts"
read -r P_H2C P_NGH P_HIT <<<"$(free_ports 3)"
A=up.test:$P_HTTPS
B=other.test:$P_HTTPS

# server_up NAME READY CMD...: CMD in the background (errors in $UP/NAME.err), killed at exit;
# ends the suite unless READY (a command) succeeds within 10 s.
server_up() {
	local name=$1 ready=$2
	shift 2
	"$@" 2>"$UP/$name.err" >"$UP/$name.out" &
	at_exit "kill $! 2>/dev/null"
	for _ in $(seq 200); do $ready && return 0; sleep 0.05; done
	fail "the $name server did not start: $(cat "$UP/$name.err")"
	done_testing
	exit 1
}
h2c_ready() { [ -e "$UP/h2c.ready" ]; }
ngh_ready() { [ -e "$UP/h2up.ready" ]; }
hit_ready() { [ -s "$UP/hit.ready" ]; }
: >"$UP/h2c.log"
server_up h2c h2c_ready $PY "$STAGE/lib/h2_upstream.py" "$P_H2C" h2c - - "$UP/h2c.log" "$UP/h2c.ready"
: >"$UP/h2up.log"
server_up h2up ngh_ready $PY "$STAGE/lib/h2_upstream.py" "$P_NGH" h2c-upgrade - - "$UP/h2up.log" \
	"$UP/h2up.ready"
: >"$UP/hits"
server_up hit hit_ready $PY "$STAGE/lib/hit_listener.py" tcp "$P_HIT" "$UP/hit.ready" "$UP/hits"

# fresh: the upstreams' records emptied before a case.
fresh() { : >"$UP/conns.log" && : >"$UP/requests.log" && : >"$UP/h2c.log"; }
# saw ID TARGET: listener ID (A or B) received a request for TARGET.
saw() { grep -qx "$1 GET $2" "$UP/requests.log"; }
# nothing_of TEXT: no upstream of upstream.py or h2_upstream.py received a request naming TEXT.
nothing_of() { ! grep -qF -- "$1" "$UP/requests.log" "$UP/h2c.log"; }
# no_conns_b: listener B (other.test) accepted no connection at all.
no_conns_b() { [ "$(conns B)" = 0 ]; }
# h2 ARGS...: h2_client.py ARGS in the jail (bnd's $out, $rc, $log); the rules come before "--".
h2() {
	local rules=()
	while [ "$1" != -- ]; do
		rules+=("$1")
		shift
	done
	shift
	bnd "${rules[@]}" -- timeout 60 $PY "$H2C" "$@"
}
# stream PATH AUTHORITY [HEADERS]: a JSON PATH for h2_client.py.
stream() { printf '{"path": "%s", "authority": "%s"%s}' "$1" "$2" "${3:+, \"headers\": $3}"; }

# --- the SNI never decides ---------------------------------------------------------------------
# TLS with the server name up.test (allowed): one stream for up.test, one whose :authority is
# other.test, which no rule allows.
fresh
h2 --allow "domain=up.test" -- --sni up.test up.test "$P_HTTPS" \
	"$(stream /echo/sni-ok "$A")" "$(stream /echo/sni-other "$B")"
want ALPN h2 "TLS with SNI up.test: boundary speaks h2"
want STATUS1 200 "SNI up.test: the stream for up.test is answered"
check "... by up.test's upstream" saw A /echo/sni-ok
want STATUS2 403 "SNI up.test (allowed), :authority other.test (denied) on the same connection: 403"
check "the SNI never decides: other.test's upstream saw no connection" no_conns_b
check "... and no upstream saw the refused stream's request" nothing_of sni-other

# and the other way round: SNI other.test (denied), :authority up.test (allowed)
fresh
h2 --allow "domain=up.test" -- --sni other.test up.test "$P_HTTPS" \
	"$(stream /echo/sni-rev "$A")" "$(stream /echo/sni-rev-other "$B")"
want STATUS1 200 "SNI other.test (denied), :authority up.test (allowed): the stream is answered"
want STATUS2 403 "... and the stream for other.test on it is still refused"
check "other.test's upstream saw nothing" no_conns_b

# --- coalescing: one connection, two allowed hosts ---------------------------------------------
fresh
h2 --allow "domain=up.test" --allow "domain=other.test" -- --sni up.test up.test "$P_HTTPS" \
	"$(stream /echo/co-a "$A")" "$(stream /echo/co-b "$B")"
want STATUS1 200 "one connection, :authority up.test: 200"
want STATUS2 200 "... and :authority other.test on the same connection: 200"
check "coalesced streams: up.test's stream reached up.test's upstream (A)" saw A /echo/co-a
check "coalesced streams: other.test's stream reached other.test's upstream (B)" saw B /echo/co-b
check "and neither reached the other's" not grep -qE '^(B .*co-a|A .*co-b)$' "$UP/requests.log"

# --- a host field that disagrees with :authority -----------------------------------------------
fresh
h2 --allow "domain=up.test" --allow "domain=other.test" -- up.test "$P_HTTPS" \
	"$(stream /echo/host-bad "$A" "[[\"host\", \"$B\"]]")" \
	"$(stream /echo/host-good "$A" "[[\"host\", \"$A\"]]")"
want STATUS1 400 "a host field naming another host than :authority: 400 on that stream"
check "no upstream saw the request whose host disagreed" nothing_of host-bad
want STATUS2 200 "a host field that agrees with :authority: 200"
check "... and it reached up.test's upstream" saw A /echo/host-good

# --- CONNECT over HTTP/2 -----------------------------------------------------------------------
# up.test:$P_HIT is allowed as a stream (a port= rule), and still no tunnel opens to it.
hit_control() {
	$PY -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1]))).close()' \
		"$P_HIT" && for _ in $(seq 40); do [ -s "$UP/hits" ] && break; sleep 0.05; done &&
		[ "$(wc -l <"$UP/hits")" = 1 ]
}
check "the CONNECT target's listener counts a direct connection (so 'saw nothing' can fail)" hit_control
: >"$UP/hits"
fresh
h2 --allow "domain=up.test" --allow "domain=up.test port=$P_HIT" -- up.test "$P_HTTPS" \
	"{\"method\": \"CONNECT\", \"authority\": \"up.test:$P_HIT\", \"path\": null}" \
	"$(stream /echo/after-connect "$A")"
want STATUS1 405 "CONNECT over HTTP/2 (:authority up.test:$P_HIT, a stream rule allows it): 405"
sleep 0.3
check "CONNECT over HTTP/2: nothing reached that host:port" [ ! -s "$UP/hits" ]
want STATUS2 200 "the connection's next stream is still served"

# --- Upgrade: h2c on HTTP/1.1 ------------------------------------------------------------------
ngh=$(curl -sS --max-time 10 --http2 -o /dev/null -w '%{http_code} %{http_version}' \
	"http://127.0.0.1:$P_NGH/hello")
upgraded() { [ "$ngh" = "200 2" ] && grep -q " /hello h2c-upgrade\$" "$UP/h2up.log"; }
check "control: the origin takes curl's Upgrade: h2c from outside the jail (101, then h2: $ngh)" \
	upgraded
: >"$UP/h2up.log"
bnd --allow "domain=h2up.test path=/hello" -- curl -sS --max-time 30 --http2 \
	-w '\nR%{urlnum}: %{http_code} %{http_version} %{num_connects}\n' \
	"http://h2up.test:$P_NGH/hello" "http://h2up.test:$P_NGH/trailers"
want R0 "200 1.1 1" "Upgrade: h2c to an origin that would take it: no 101, an HTTP/1.1 answer"
contains "... with the origin's body" "$out" "hello from h2"
check "the origin was asked in HTTP/1.1, without the upgrade" \
	grep -qx "GET h2up.test:$P_NGH /hello http/1.1" "$UP/h2up.log"
want R1 "403 1.1 0" "a refused path next on the same client connection: still 403 (no tunnel)"
check "the origin never saw the refused path" not grep -q /trailers "$UP/h2up.log"
lacks "and its body never reaches the client" "$out" "body before trailers"

# --- h2c: a stream whose :authority is not allowed ---------------------------------------------
fresh
h2 --allow "domain=h2c.test" -- --ca h2c h2c.test "$P_H2C" \
	"$(stream /hello "h2c.test:$P_H2C")" "$(stream /echo/h2c-other "other.test:$P_HTTP")"
want ALPN h2c "h2c prior knowledge to h2c.test (allowed)"
want STATUS1 200 "h2c: the stream for the dialled, allowed name is answered"
want STATUS2 403 "h2c: a stream whose :authority is other.test (not allowed): 403"
check "other.test's upstream saw no connection" no_conns_b
check "and no upstream saw the refused stream's request" nothing_of h2c-other

# --- h2c prior knowledge to a refused host -----------------------------------------------------
fresh
h2 --allow "domain=up.test" -- --ca h2c other.test "$P_HTTP" /echo/h2c-refused
want STATUS1 403 "h2c prior knowledge to other.test (no rule allows it): 403"
check "other.test's upstream saw nothing" no_conns_b
check "no upstream saw the request" nothing_of h2c-refused

done_testing
