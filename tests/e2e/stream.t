#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# stream.t: connections that are not HTTP, end to end, as root. A stream rule (port= and neither
# method= nor path=) lets them through by the name the jailed program looked up and the port it
# dialled, spliced both ways untouched; without one they are closed, with a log line naming the
# rule that would allow them. TLS that only stream rules match is spliced without interception.
#
# Servers on the host's loopback (below, and tests/lib/upstream.py for HTTP/HTTPS): "sshd", a
# server-first banner exchange like ssh's; "echo", which answers after the client's EOF (a
# half-close must pass). Jailed programs find them by name through boundary's DNS.
#
# $CURL and $PYC are command lines (tests/lib/proxy.sh), split into words on purpose.
# shellcheck disable=SC2086
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/jail.sh"
. "$(dirname "$0")/../lib/proxy.sh"
proxy_suite
testhost_listen 2222
cat >>"$UP/hosts" <<EOF
127.0.0.1 ssh.test echo.test
::1 ssh.test
EOF

# The stream servers: "sshd" and "echo" on 127.0.0.1 and ::1, each accepted connection a line
# "NAME PEER" in $UP/stream.log.
read -r P_SSH P_ECHO <<<"$(free_ports 2)"
: >"$UP/stream.log"
python3 "$STAGE/lib/stream_servers.py" "$P_SSH" "$P_ECHO" "$UP/stream.log" "$UP/stream.ready" \
	2>"$UP/stream.err" &
SRV_PID=$!
at_exit "kill $SRV_PID 2>/dev/null"
for _ in $(seq 100); do [ -e "$UP/stream.ready" ] && break; sleep 0.05; done
# Jailed programs run as the host's nobody: they read the test CA from a shared directory.
CA_DIR=$(shared_dir ca)
cp "$TEST_CA" "$CA_DIR/test-ca.pem" && chmod 644 "$CA_DIR/test-ca.pem"
JAIL_CA=$CA_DIR/test-ca.pem

# The jailed clients (stream_client.py): ssh HOST PORT [FAMILY] reads the banner, sends its own,
# prints both lines it got; echo HOST PORT sends, half-closes, prints the answer.
STREAM_CLIENT=$STAGE/lib/stream_client.py
stream_log() { cat "$UP/stream.log"; }

# --- a stream rule lets ssh-like traffic through -----------------------------------------------
AUD=$TMPDIR_T/audit.jsonl
bnd --audit-log "$AUD" --allow "domain=ssh.test port=$P_SSH" -- python3 "$STREAM_CLIENT" ssh ssh.test "$P_SSH"
want BANNER "SSH-2.0-boundarytest" "server-first: the server's banner reaches the jailed client"
want REPLY "WELCOME SSH-2.0-jailed" "and the client's banner reaches the server"
addr=$(result ADDR)
if [[ $addr == 198.1[89].* || $addr == fd42:b0d:53:* ]]; then
	ok "the client dialled a synthetic address ($addr)"
else
	fail "the client dialled a synthetic address (got '$addr')"
fi
logged "the log names the stream and its rule" "$log" \
	"ALLOW tcp://ssh\\.test:$P_SSH from python3\\[[0-9]+\\] \\(rule: domain=ssh\\.test port=$P_SSH\\)"
rec=$(grep '"event":"request"' "$AUD" | grep '"kind":"tcp"')
contains "audit: the decision, with its rule" "$rec" "\"decision\":\"allow\""
contains "audit: the host and port" "$rec" "\"host\":\"ssh.test\",\"port\":$P_SSH"
contains "audit: the rule" "$rec" "\"rule\":\"domain=ssh.test port=$P_SSH\""
contains "audit: the process" "$rec" "\"comm\":\"python3\""
end=$(grep '"event":"end"' "$AUD" | grep '"kind":"tcp"')
# Up: "SSH-2.0-jailed\r\n" (16 bytes); down: the banner (22) and "WELCOME " + that line (24).
if grep -qE '"bytes_up":16,"bytes_down":46[,}]' <<<"$end"; then
	ok "audit: the end record counts the bytes both ways"
else
	fail "audit: the end record counts the bytes both ways"
	diag "end: $end"
fi

# OpenSSH itself: its banner reaches the server through the splice (the server is not a real
# sshd, so the exchange ends there).
: >"$UP/stream.log"
bnd --allow "domain=ssh.test port=$P_SSH" -- ssh -o BatchMode=yes -o ConnectTimeout=5 \
	-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -p "$P_SSH" ssh.test true
check "OpenSSH's own banner reaches the server" grep -q "^banner SSH-2.0-OpenSSH" "$UP/stream.log"
: >"$UP/stream.log"
bnd --allow "domain=ssh.test" -- ssh -o BatchMode=yes -o ConnectTimeout=5 \
	-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -p "$P_SSH" ssh.test true
check "without a stream rule OpenSSH reaches nothing" not grep -q banner "$UP/stream.log"
logged "and is told which rule it needs" "$log" "--allow \"domain=ssh\\.test port=$P_SSH\""

bnd --allow "domain=ssh.test port=$P_SSH" -- python3 "$STREAM_CLIENT" ssh ssh.test "$P_SSH" 6
want REPLY "WELCOME SSH-2.0-jailed" "the same over IPv6"
if [[ $(result ADDR) == fd42:b0d:53:* ]]; then ok "through a synthetic IPv6 address"; else
	fail "through a synthetic IPv6 address (got '$(result ADDR)')"
fi

bnd --allow "domain=echo.test port=$P_ECHO" -- python3 "$STREAM_CLIENT" echo echo.test "$P_ECHO"
want ANSWER "HELLO THROUGH A SPLICE" "a half-close passes: the answer comes after the client's EOF"

bnd --allow "domain=*.test port=$P_SSH,$P_ECHO ip=127.0.0.1" -- python3 "$STREAM_CLIENT" echo echo.test "$P_ECHO"
want ANSWER "HELLO THROUGH A SPLICE" "a wildcard domain and a port list"

# --- without a stream rule: closed, and the rule that would allow it said ---------------------
: >"$UP/stream.log"
bnd --allow "domain=ssh.test" --allow "domain=ssh.test port=1-21" -- python3 "$STREAM_CLIENT" ssh ssh.test "$P_SSH"
check "refused: the client gets no banner" [ -z "$(result BANNER)" ]
check "refused: the server saw no connection" not grep -q sshd "$UP/stream.log"
logged "refused: a silent client is told at once which rule it needs" "$log" \
	"python3\\[[0-9]+\\] has sent nothing to ssh\\.test port $P_SSH .*--allow \"domain=ssh\\.test port=$P_SSH\""
logged "refused: a DENY line once it gives up" "$log" \
	"DENY tcp://ssh\\.test:$P_SSH from python3\\[[0-9]+\\]: it sent nothing"

: >"$UP/stream.log"
bnd --allow "domain=echo.test" -- python3 "$STREAM_CLIENT" echo echo.test "$P_ECHO"
check "client-first non-HTTP without a stream rule: nothing answers" [ -z "$(result ANSWER)" ]
check "client-first non-HTTP without a stream rule: the server saw nothing" \
	not grep -q echo "$UP/stream.log"
logged "it is named as neither TLS nor HTTP" "$log" \
	"DENY tcp://echo\\.test:$P_ECHO .*neither TLS nor HTTP.*--allow \"domain=echo\\.test port=$P_ECHO\""

bnd --allow "method=GET domain=ssh.test port=$P_SSH" -- python3 "$STREAM_CLIENT" echo ssh.test "$P_SSH"
logged "a port= rule with method= is an HTTP rule: no stream" "$log" "DENY tcp://ssh\\.test:$P_SSH"

# --- HTTP rules and stream rules together ------------------------------------------------------
bnd --allow "domain=ssh.test" --allow "domain=ssh.test port=$P_SSH" -- python3 "$STREAM_CLIENT" ssh ssh.test "$P_SSH"
want REPLY "WELCOME SSH-2.0-jailed" "server-first under both kinds of rule: spliced after a silence"

bnd --allow "domain=echo.test" --allow "domain=echo.test port=$P_ECHO" -- python3 "$STREAM_CLIENT" echo echo.test "$P_ECHO"
want ANSWER "HELLO THROUGH A SPLICE" "client-first non-HTTP under both kinds: sniffed, then spliced"

# --- port= narrows HTTP rules ------------------------------------------------------------------
bnd --allow "method=GET domain=up.test port=$P_HTTP" -- sh -c "
	$CURL -o /dev/null -w 'A: %{http_code}\n' http://up.test:$P_HTTP/echo/echo/a
	$CURL -o /dev/null -w 'B: %{http_code}\n' --cacert /etc/ssl/certs/ca-certificates.crt https://up.test:$P_HTTPS/echo/a"
want A 200 "an HTTP rule with port= allows its port"
want B 403 "and refuses another port of the same host"

# --- TLS: intercepted under an HTTP rule, passed through under only a stream rule --------------
bnd --allow "domain=up.test port=$P_HTTPS" -- sh -c "
	$CURL -o /dev/null -w 'T: %{http_code}\n' --cacert $JAIL_CA https://up.test:$P_HTTPS/echo/echo/a
	$CURL -o /dev/null -w 'U: %{http_code}\n' --cacert $JAIL_CA https://up.test:$P_HTTPS/echo/b"
want T 200 "TLS under only a stream rule: the server's own certificate reaches the client"
logged "it is logged as a TLS stream" "$log" "ALLOW tls://up\\.test:$P_HTTPS from curl"

bnd --allow "domain=up.test" --allow "domain=up.test port=$P_HTTPS" -- \
	$CURL -o /dev/null -w 'T: %{http_code}\n' --cacert "$JAIL_CA" "https://up.test:$P_HTTPS/echo/a"
check "TLS under an HTTP rule too: intercepted (the test CA alone does not verify)" \
	[ "$(result T)" != 200 ]

bnd --allow "domain=other.test port=$P_HTTPS" -- \
	$CURL -o /dev/null -w 'T: %{http_code}\n' --cacert /etc/ssl/certs/ca-certificates.crt \
	"https://up.test:$P_HTTPS/echo/a"
want T 403 "TLS to a name no rule matches: intercepted and refused with an explanation"

# --- a dialled IP literal is matched against domain= literals ----------------------------------
: >"$TMPDIR_T/hits"
bnd --allow "domain=$TH4 port=2222" -- python3 "$STREAM_CLIENT" send "$TH4" 2222
want SENT ok "a stream rule for an IP literal lets a connection to it through"
for _ in $(seq 40); do [ "$(hits)" -ge 1 ] && break; sleep 0.05; done
check "the listener at that address saw it" [ "$(hits)" -ge 1 ]
: >"$TMPDIR_T/hits"
bnd --allow "domain=$TH4 port=2223" -- python3 "$STREAM_CLIENT" sendrecv "$TH4" 2222
check "another port of that address: refused, nothing arrives" [ "$(hits)" = 0 ]

# --- --test ------------------------------------------------------------------------------------
run_b --allow "domain=github.com port=22" --test TCP tcp://github.com:22 --test TCP tcp://github.com:2222
contains "--test TCP: allowed by the stream rule" "$out" "ALLOW TCP tcp://github.com:22 (rule: domain=github.com port=22)"
contains "--test TCP: another port denied" "$out" "DENY TCP tcp://github.com:2222"

done_testing
