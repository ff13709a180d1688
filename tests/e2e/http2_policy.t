#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# http2_policy.t: the policy features run on HTTP/2 streams as on HTTP/1.1 requests, end to end,
# as root. Each stream of a jailed client's h2 connection becomes a request of its own
# (proxy/h2.h), so --dry-run, --rules-program, --interactive, --secret and session correlation
# must each see it, decide it and record it ("http":"2" in its audit record). The clients are
# curl --http2 to HTTPS origins (boundary offers h2 by ALPN; the origins, tests/lib/upstream.py
# of tests/lib/proxy.sh, speak HTTP/1.1 and boundary translates) and, for --rules-program, a gRPC
# call (tests/lib/grpc_peer.py over TLS, grpc.test on 127.0.0.1). Secrets: the real value is
# never printed (quiet greps only), as in tests/e2e/secrets.t.
#
# $C is a command line, split into words on purpose.
# shellcheck disable=SC2086
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/jail.sh"
. "$(dirname "$0")/../lib/proxy.sh"
proxy_suite --no-testhost
unset CODER_AGENT_URL BOUNDARY_SESSION_CORRELATION_ENABLED BOUNDARY_SESSION_ID_INJECT_TARGET

PY=/usr/bin/python3
GRPC_PEER=$STAGE/lib/grpc_peer.py
R=$(shared_dir r)
AUD=$TMPDIR_T/audit.jsonl
# Jailed curl trusts boundary's CA through SSL_CERT_FILE, as boundary sets it.
C="curl -sS --max-time 60 --http2"
W='%{http_code} %{http_version}'

make_cert "$UP" grpc ca grpc.test "DNS:grpc.test" || {
	fail "cannot make the gRPC server's certificate"
	done_testing
	exit 1
}
echo "127.0.0.1 grpc.test" >>"$UP/hosts"
read -r P_GRPC <<<"$(free_ports 1)"
: >"$UP/grpc.log"
$PY "$GRPC_PEER" server "$P_GRPC" tls "$UP/grpc.pem" "$UP/grpc.key" "$UP/grpc.ready" "$UP/grpc.log" \
	2>"$UP/grpc.err" &
at_exit "kill $! 2>/dev/null"
for _ in $(seq 200); do [ -e "$UP/grpc.ready" ] && break; sleep 0.05; done
[ -e "$UP/grpc.ready" ] || fail "the gRPC server did not start: $(cat "$UP/grpc.err")"

# record PATH: the audit log's "request" record of the URL ending in PATH.
record() { grep '"event":"request"' "$AUD" 2>/dev/null | grep -F "$1\"" | head -1; }
# saw ID TARGET: upstream.py's listener ID received a request for TARGET.
saw() { grep -qx "$1 GET $2" "$UP/requests.log"; }

# --- --dry-run ---------------------------------------------------------------------------------
rm -f "$AUD"
bnd --dry-run --audit-log "$AUD" --allow "domain=up.test path=/echo/dry-ok" -- $C -o /dev/null \
	-w "\nR%{urlnum}: $W\n" "https://up.test:$P_HTTPS/echo/dry-ok" "https://up.test:$P_HTTPS/echo/dry-no"
want R0 "200 2" "--dry-run over h2: the allowed stream is answered"
want R1 "200 2" "--dry-run over h2: a path no rule allows is let through"
check "--dry-run over h2: the upstream got it" saw A /echo/dry-no
d=$(record /echo/dry-no)
contains "--dry-run over h2: its audit record says would_deny" "$d" '"would_deny":true'
contains "--dry-run over h2: ... and HTTP/2" "$d" '"http":"2"'
lacks "--dry-run over h2: the allowed stream's record has no would_deny" "$(record /echo/dry-ok)" \
	'"would_deny":true'

# --- --rules-program ---------------------------------------------------------------------------
# tests/lib/rules_program.py allows /echo/ok*, refuses anything else with "prog says no to HOST".
PLOG=$TMPDIR_T/prog.log
rm -f "$AUD"
: >"$UP/requests.log"
bnd --audit-log "$AUD" --rules-program "python3 $STAGE/lib/rules_program.py $PLOG" \
	--allow "domain=up.test" -- sh -c "
	$C -o $R/prog -w '\nR%{urlnum}: $W %{num_connects}\n' \
		https://other.test:$P_HTTPS/echo/ok-h2 https://other.test:$P_HTTPS/echo/no-h2
	echo \"GRPC: \$($PY $GRPC_PEER client grpc.test:$P_GRPC tls default Say hello)\""
want R0 "200 2 1" "--rules-program over h2: the stream the program allows is answered"
check "--rules-program over h2: it reached other.test's upstream" saw B /echo/ok-h2
r=$(record /echo/ok-h2)
contains "--rules-program over h2: its audit record says decided_by program" "$r" \
	'"decided_by":"program"'
contains "--rules-program over h2: ... and HTTP/2" "$r" '"http":"2"'
want R1 "403 2 0" "--rules-program over h2: a path the program refuses gets 403 on the same connection"
check "--rules-program over h2: the upstream never saw it" not grep -q no-h2 "$UP/requests.log"
check "--rules-program over h2: the program was asked about both streams" \
	grep -q '"/echo/no-h2"' "$PLOG"
check "--rules-program, gRPC: a call the program refuses gets PERMISSION_DENIED" \
	matches "$(result GRPC)" "^ERR PERMISSION_DENIED "
contains "--rules-program, gRPC: with the program's message" "$(result GRPC)" \
	"prog says no to grpc.test"
check "--rules-program, gRPC: the server saw no call" [ ! -s "$UP/grpc.log" ]
contains "--rules-program, gRPC: its audit record says HTTP/2" "$(record /test.Echo/Say)" \
	'"http":"2"'

# --- max_body= on a gRPC call: the 413 is RESOURCE_EXHAUSTED --------------------------------------
: >"$UP/grpc.log"
BIGMSG=$(head -c 4000 /dev/zero | tr '\0' x)
# shellcheck disable=SC2016 # for the jailed shell
bnd --allow "domain=grpc.test max_body=1K" -- sh -c '
	echo "SMALL: $($1 $2 client grpc.test:$3 tls default Say small)"
	echo "BIG: $($1 $2 client grpc.test:$3 tls default Say "$4")"' _ "$PY" "$GRPC_PEER" "$P_GRPC" "$BIGMSG"
want SMALL "OK said:small" "max_body=1K, gRPC: a small call answers"
check "max_body=1K, gRPC: a call whose message is past the limit gets RESOURCE_EXHAUSTED ($(result BIG | cut -c1-80))" \
	matches "$(result BIG)" "^ERR RESOURCE_EXHAUSTED "
contains "max_body=1K, gRPC: with boundary's message naming the limit" "$(result BIG)" "max_body="
check "max_body=1K, gRPC: the server took only the small call" [ "$(grep -c Say "$UP/grpc.log")" = 1 ]

# --- --interactive -----------------------------------------------------------------------------
cat >"$TMPDIR_T/steps" <<'STEPS'
expect allow other.test? [once/always/deny]
send once
expect allow other.test? [once/always/deny]
send deny
expect ALL-DONE
STEPS
bnd_argv --interactive --allow "domain=up.test" -- sh -c "
	$C -o /dev/null -w 'CODE-i1=$W.\n' https://other.test:$P_HTTPS/echo/i1-h2
	$C -o /dev/null -w 'CODE-i2=$W.\n' https://other.test:$P_HTTPS/echo/i2-h2
	echo ALL-DONE"
: >"$UP/requests.log"
timeout -k 5 90 python3 "$STAGE/lib/pty_drive.py" "$TMPDIR_T/steps" "$TMPDIR_T/tty.out" -- \
	"${BND_ARGV[@]}"
rc=$?
tty_out=$(tr -d '\r' <"$TMPDIR_T/tty.out")
if [ "$rc" = 0 ]; then ok "--interactive over h2: the session ran through every question"; else
	fail "--interactive over h2: the session ran through every question (exit $rc)"
	diag "$tty_out"
fi
check "--interactive over h2: the question names the stream's request" \
	grep -qF "wants GET https://other.test:$P_HTTPS/echo/i1-h2" <<<"$tty_out"
check "--interactive over h2: \"once\" lets the stream through" grep -q "CODE-i1=200 2\." <<<"$tty_out"
check "--interactive over h2: \"deny\" refuses the next with a 403" \
	grep -q "CODE-i2=403 2\." <<<"$tty_out"
check "--interactive over h2: the upstream saw only the one let through" \
	[ "$(grep -c "i[12]-h2" "$UP/requests.log")" = 1 ]

# --- secrets -----------------------------------------------------------------------------------
VALUE="sk-h2-$(openssl rand -hex 16)"
export API_KEY=$VALUE
ECHO=$UP/echo.log
# echo_of PATH: upstream.py's record of the request for PATH (one JSON line).
echo_of() { grep -F "\"path\": \"$1\"" "$ECHO" | tail -n 1; }
# quiet, so that no value is ever printed
upstream_got() { echo_of "$1" | grep -qF -- "$2"; }
client_got_placeholder() { grep -qF -- "$PH" "$R/$1" && ! grep -qF -- "$VALUE" "$R/$1"; }
bnd --secret "API_KEY domain=up.test" --allow "domain=up.test" --allow "domain=other.test" -- sh -c "
	printf '%s' \"\$API_KEY\" >$R/env
	$C -H \"Authorization: Bearer \$API_KEY\" -o $R/bearer -w 'BOUND: $W\n' \
		https://up.test:$P_HTTPS/echo/h2-bearer
	$C -H \"Authorization: Bearer \$API_KEY\" -o $R/other -w 'UNBOUND: $W\n' \
		https://other.test:$P_HTTPS/echo/h2-other"
unset API_KEY
PH=$(cat "$R/env" 2>/dev/null)
check "secrets over h2: the jail holds a placeholder, not the value" \
	matches "$PH" '^boundary-secret-API_KEY-[0-9a-f]{32}$'
want BOUND "200 2" "secrets over h2: a request to the bound host is answered"
check "secrets over h2: the bound host gets the value in the header" \
	upstream_got /echo/h2-bearer "\"Bearer $VALUE\""
check "secrets over h2: ... and the echo of it reaches the client as the placeholder" \
	client_got_placeholder bearer
want UNBOUND "403 2" "secrets over h2: the placeholder to another allowed host: 403"
check "secrets over h2: ... whose body names the secret" grep -q API_KEY "$R/other"
check "secrets over h2: ... and that host gets no request" not grep -qF /echo/h2-other "$ECHO"
leaked() { grep -rqF -- "$VALUE" "$TMPDIR_T/bnd.log" "$R"; }
check "secrets over h2: the value is in no log line and no file the jail wrote" not leaked

# --- session correlation -----------------------------------------------------------------------
BRIDGE=/api/v2/aibridge
UUID4='[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}'
CODER_AGENT_URL=https://up.test:$P_HTTPS bnd --enable-session-correlation --disable-audit-logs \
	--allow "domain=up.test" -- $C -w "\nR%{urlnum}: $W\n" \
	-o "$R/s0.json" "https://up.test:$P_HTTPS$BRIDGE/openai/v1/models" \
	-o "$R/s1.json" "https://up.test:$P_HTTPS/echo/not-a-target"
session=$(grep -oE "X-Coder-Agent-Firewall-Session-Id: $UUID4" <<<"$log" | head -1 | cut -d' ' -f2)
want R0 "200 2" "session correlation over h2: the request to the inject target is answered"
got=$(python3 "$STAGE/lib/session_lines.py" echo "$R/s0.json" "$R/s1.json")
check "session correlation over h2: the inject target gets the session id and sequence number 0" \
	matches "$got" "^$session 0
- -\$"
check "session correlation over h2: boundary names the run's session in its log" [ -n "$session" ]
diag "upstream got: $(tr '\n' ";" <<<"$got")"

done_testing
