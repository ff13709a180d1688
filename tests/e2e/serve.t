#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# serve.t: boundary serve --listen ADDR:PORT, the proxy alone, for explicit clients (curl -x,
# python's urllib with a proxy) against the real servers of tests/lib/proxy.sh: the same rules
# and audit records as a jail, clients named by address, loop protection, IPv6, a clean stop on
# SIGTERM and SIGINT, and the flag's mistakes explained. Loopback only.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/jail.sh"
. "$(dirname "$0")/../lib/proxy.sh"

proxy_suite
BLOCKED="🚫 Request Blocked by Boundary"
CA=$TMPDIR_T/xdg/coder_boundary/ca-cert.pem
AUDIT=$TMPDIR_T/audit.jsonl

# serve_up NAME ARGS...: boundary serve in the background; sets PORT from its first line.
serve_up() {
	local name=$1
	shift
	bnd_bg "$name" serve "$@"
	PORT=""
	for _ in $(seq 200); do
		PORT=$(sed -nE '1s/^boundary serve: listening on [^ ]*:([0-9]+).*/\1/p' \
			"$TMPDIR_T/$name.out" 2>/dev/null)
		[ -n "$PORT" ] && break
		kill -0 "$BND_PID" 2>/dev/null || break
		sleep 0.05
	done
}

serve_up srv --listen 127.0.0.1:0 --audit-log "$AUDIT" \
	--allow "domain=up.test path=/echo/ok/*" --allow "domain=127.0.0.1"
if [ -z "$PORT" ]; then
	fail "boundary serve starts and says where it listens"
	diag "$(cat "$TMPDIR_T/srv.out" "$TMPDIR_T/srv.log" 2>&1)"
	done_testing
	exit 1
fi
ok "boundary serve starts and says where it listens (port $PORT)"
names_ca() { grep -qF "clients must trust $CA" "$TMPDIR_T/srv.out" && [ -s "$CA" ]; }
check "it names the CA clients must trust" names_ca

X="curl -sS --max-time 20 -x http://127.0.0.1:$PORT --cacert $CA"
# shellcheck disable=SC2086 # $X is a command line
code=$($X -o "$TMPDIR_T/s.body" -w '%{http_code}' "https://up.test:$P_HTTPS/echo/ok/s")
if [ "$code" = 200 ] && grep -q '"server": "A"' "$TMPDIR_T/s.body"; then
	ok "curl -x: an allowed HTTPS request (CONNECT) is served, intercepted with the CA"
else
	fail "curl -x: an allowed HTTPS request (CONNECT) is served, intercepted with the CA"
	diag "$code" "$(cat "$TMPDIR_T/s.body" "$TMPDIR_T/srv.log")"
fi
# shellcheck disable=SC2086
code=$($X -o /dev/null -w '%{http_code}' "http://up.test:$P_HTTP/echo/ok/p")
check "curl -x: an allowed plain HTTP request (absolute-form) is served" [ "$code" = 200 ]
# shellcheck disable=SC2086
code=$($X -o "$TMPDIR_T/no.body" -w '%{http_code}' "https://up.test:$P_HTTPS/echo/no")
if [ "$code" = 403 ] && grep -qF "$BLOCKED" "$TMPDIR_T/no.body"; then
	ok "curl -x: a refused request gets 403 with the explanation"
else
	fail "curl -x: a refused request gets 403 with the explanation"
	diag "$code" "$(cat "$TMPDIR_T/no.body")"
fi
py=$(python3 "$STAGE/lib/proxy_urllib.py" "$PORT" "$CA" "$P_HTTPS" 2>&1)
check "python urllib through the proxy: allowed 200, refused 403" [ "$py" = "200 True
403" ]
[ "$py" = "200 True
403" ] || diag "$py"
# shellcheck disable=SC2086
code=$($X -o "$TMPDIR_T/loop.body" -w '%{http_code}' "http://127.0.0.1:$PORT/")
if [ "$code" = 508 ] && grep -q "is boundary's own proxy" "$TMPDIR_T/loop.body"; then
	ok "loop protection: a request for the proxy's own address gets 508, saying why"
else
	fail "loop protection: a request for the proxy's own address gets 508, saying why"
	diag "$code" "$(cat "$TMPDIR_T/loop.body")"
fi
# shellcheck disable=SC2086
code=$($X -o /dev/null -w '%{http_code}' "https://127.0.0.1:$PORT/")
loop_refused() { [ "$code" = 508 ] || [ "$code" = 000 ]; }
check "loop protection holds inside a CONNECT tunnel too" loop_refused

kill -TERM "$BND_PID"
wait "$BND_PID"
rc=$?
check "SIGTERM stops it cleanly (exit 0)" [ "$rc" = 0 ]
port_closed() {
	! python3 -c "import socket; socket.create_connection((\"127.0.0.1\", $PORT), 2)" 2>/dev/null
}
check "its port is closed afterwards" port_closed
log=$(cat "$TMPDIR_T/srv.log")
if grep -qE "^boundary: warn: DENY GET https://up.test:$P_HTTPS/echo/no from 127\.0\.0\.1:[0-9]+" <<<"$log"; then
	ok "the log names the client by address and port (no pid for a remote client)"
else
	fail "the log names the client by address and port (no pid for a remote client)"
	diag "$log"
fi
if grep -q '"decision":"deny".*"url":"https://up.test:'"$P_HTTPS"'/echo/no".*"client":"127\.0\.0\.1:[0-9]*"' "$AUDIT" &&
	grep -q '"decision":"allow".*/echo/ok/s"' "$AUDIT" && ! grep -q '"pid"' "$AUDIT"; then
	ok "audit records: the same decisions, with the client's address instead of a pid"
else
	fail "audit records: the same decisions, with the client's address instead of a pid"
	diag "$(cat "$AUDIT")"
fi

# IPv6, and SIGINT.
serve_up srv6 --listen "[::1]:0" --allow "domain=up.test"
if [ -n "$PORT" ]; then
	code=$(curl -sS --max-time 20 -x "http://[::1]:$PORT" --cacert "$CA" -o /dev/null \
		-w '%{http_code}' "https://up.test:$P_HTTPS/echo/v6")
	check "--listen [::1]:0 serves IPv6 clients" [ "$code" = 200 ]
	kill -INT "$BND_PID"
	wait "$BND_PID"
	rc=$?
	check "SIGINT stops it cleanly (exit 0)" [ "$rc" = 0 ]
else
	fail "--listen [::1]:0 serves IPv6 clients"
	diag "$(cat "$TMPDIR_T/srv6.out" "$TMPDIR_T/srv6.log")"
fi

# A CA that cannot be loaded: serve starts anyway (the CA is parsed at the first TLS handshake,
# not at start), every handshake fails, and the log says why once, in the words a start used to.
KEY=$TMPDIR_T/xdg/coder_boundary/ca-key.pem
cp -p "$KEY" "$TMPDIR_T/ca-key.good"
echo "not a key" >"$KEY"
serve_up badca --listen 127.0.0.1:0 --allow "domain=up.test"
if [ -n "$PORT" ]; then
	ok "a CA key that does not parse does not stop boundary serve from starting"
	for i in 1 2; do
		curl -sS --max-time 20 -x "http://127.0.0.1:$PORT" --cacert "$CA" -o /dev/null \
			-w '%{http_code}' "https://up.test:$P_HTTPS/echo/ok/bad$i" >"$TMPDIR_T/badca.$i" 2>&1
	done
	kill -TERM "$BND_PID"
	wait "$BND_PID"
	badca_said() {
		! grep -q '^200' "$TMPDIR_T/badca.1" "$TMPDIR_T/badca.2" &&
			[ "$(grep -c "$KEY is not a PEM unencrypted private key.*make a new CA" \
				"$TMPDIR_T/badca.log")" = 1 ]
	}
	check "...its TLS handshakes fail, and the log says why once, naming the key" badca_said ||
		diag "$(cat "$TMPDIR_T/badca.1" "$TMPDIR_T/badca.2" "$TMPDIR_T/badca.log")"
else
	fail "a CA key that does not parse does not stop boundary serve from starting"
	diag "$(cat "$TMPDIR_T/badca.out" "$TMPDIR_T/badca.log")"
fi
cp -p "$TMPDIR_T/ca-key.good" "$KEY"

# Mistakes, each explained: refused_saying BRE, boundary exited 125 and $out has a line matching.
refused_saying() { [ "$rc" = 125 ] && grep -q -- "$1" <<<"$out"; }
out=$("$BOUNDARY" serve --listen 127.0.0.1:notaport 2>&1)
rc=$?
check "--listen with a bad port is refused, with the forms it takes" \
	refused_saying "not ADDR:PORT (like 127.0.0.1:8080"
out=$("$BOUNDARY" --listen 127.0.0.1:1 -- true 2>&1)
rc=$?
check "--listen without serve is refused" refused_saying "is for boundary serve"
out=$("$BOUNDARY" serve --allow domain=x -- true 2>&1)
rc=$?
check "serve refuses a command" refused_saying "serve runs no command"
python3 "$STAGE/lib/hit_listener.py" tcp 0 "$TMPDIR_T/busy" /dev/null &
BUSY=$!
at_exit "kill $BUSY 2>/dev/null"
for _ in $(seq 50); do [ -s "$TMPDIR_T/busy" ] && break; sleep 0.05; done
out=$(timeout 20 "$BOUNDARY" serve --listen "127.0.0.1:$(cat "$TMPDIR_T/busy")" 2>&1)
rc=$?
check "a port in use is an error that says so" \
	refused_saying "cannot listen on 127.0.0.1:[0-9]*: Address already in use"

done_testing
