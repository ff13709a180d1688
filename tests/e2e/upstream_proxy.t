#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# upstream_proxy.t: --upstream-proxy end to end, as root. Debian's squid plays the company's
# proxy (tests/lib/squid.sh: instances of the suite's own, one open, one with Basic
# authentication), tests/lib/refusing_proxy.py one that refuses everything. Jailed clients
# reach the origins of tests/lib/upstream.py and stream_servers.py as in proxy.t and stream.t;
# what each proxy's access log shows, and what the origins saw, tell which way boundary went:
# HTTP as absolute-form requests, HTTPS and WebSocket over TLS and a stream rule's bytes through
# CONNECT, bypassed hosts directly; refusals, a 407 and an unreachable proxy as 502s naming the
# proxy; the rules decide first (a refused request never reaches the proxy); the jailed
# program's HTTP_PROXY changes nothing; and the proxy's password is never written anywhere.
#
# $CURL and $PYC are command lines (tests/lib/proxy.sh), split into words on purpose.
# shellcheck disable=SC2086
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/jail.sh"
. "$(dirname "$0")/../lib/proxy.sh"
. "$(dirname "$0")/../lib/squid.sh"

if ! command -v squid >/dev/null; then
	skip "squid is not installed (apt-get install squid; tools/install-deps does)"
	done_testing
	exit 0
fi
proxy_suite
testhost_listen "$P_HTTP"
testhost_listen "$P_HTTPS"
echo "127.0.0.1 ssh.test h2.test" >>"$UP/hosts"

# The stream server ("sshd": server-first, tests/lib/stream_servers.py).
read -r P_SSH P_REF <<<"$(free_ports 2)"
: >"$UP/stream.log"
python3 "$STAGE/lib/stream_servers.py" "$P_SSH" 0 "$UP/stream.log" "$UP/stream.ready" \
	2>"$UP/stream.err" &
SRV_PID=$!
at_exit "kill $SRV_PID 2>/dev/null"
# The proxy that refuses (tests/lib/refusing_proxy.py).
: >"$TMPDIR_T/refused.log"
python3 "$STAGE/lib/refusing_proxy.py" "$P_REF" "$TMPDIR_T/ref.ready" "$TMPDIR_T/refused.log" \
	2>"$TMPDIR_T/ref.err" &
REF_PID=$!
at_exit "kill $REF_PID 2>/dev/null"
# An HTTP/2 origin (tests/lib/h2_upstream.py, ALPN h2 or http/1.1), on Debian's python3 and
# its python3-h2 (as http2.t).
P_H2=$(free_ports 1)
make_cert "$UP" h2 ca h2.test "DNS:h2.test" || fail "cannot make the h2 origin's certificate"
: >"$UP/h2.log"
/usr/bin/python3 "$STAGE/lib/h2_upstream.py" "$P_H2" tls-h2 "$UP/h2.pem" "$UP/h2.key" "$UP/h2.log" \
	"$UP/h2.ready" 2>"$UP/h2.err" &
at_exit "kill $! 2>/dev/null"
for _ in $(seq 100); do
	[ -e "$UP/stream.ready" ] && [ -e "$TMPDIR_T/ref.ready" ] && [ -e "$UP/h2.ready" ] && break
	sleep 0.05
done

# The proxy's credentials: a password with characters a URL must percent-encode.
PUSER=tester
PASS='Sq1d-p@ss:w0rd'
PASS_URL='Sq1d-p%40ss%3Aw0rd'
PASS_B64=$(printf '%s:%s' "$PUSER" "$PASS" | base64 -w0)
if ! squid_up open; then
	fail "cannot start squid (open)"
	done_testing
	exit 1
fi
SQ_OPEN=$SQ_PORT
LOG_OPEN=$SQ_LOG
if ! squid_up auth "$PUSER" "$PASS"; then
	fail "cannot start squid (with authentication)"
	done_testing
	exit 1
fi
SQ_AUTH=$SQ_PORT
LOG_AUTH=$SQ_LOG
OPEN=http://127.0.0.1:$SQ_OPEN
AUTHED=http://$PUSER:$PASS_URL@127.0.0.1:$SQ_AUTH

R=$(shared_dir r)
AUD=$TMPDIR_T/audit.jsonl
# Everything boundary wrote in the suite, for the last check: no password anywhere.
ALL_LOGS=$TMPDIR_T/all.log
: >"$ALL_LOGS"
keep_log() { printf '%s\n%s\n' "$log" "$out" >>"$ALL_LOGS"; }

# code_body NAME: "CODE" and the body the jailed curl wrote for NAME.
code_of() { cat "$R/$1.code" 2>/dev/null; }
body_of() { cat "$R/$1.body" 2>/dev/null; }
# fetch NAME URL [CURL ARGS...]: a line of a jailed script that fetches URL.
fetch() {
	local name=$1 url=$2
	shift 2
	printf '%s %s -o %q -w "%%{http_code}" %q >%q 2>&1\n' "$CURL" "$*" "$R/$name.body" "$url" \
		"$R/$name.code"
}

# --- HTTP, HTTPS, WebSocket and a stream rule through the open squid -------------------------
{
	fetch http "http://up.test:$P_HTTP/echo/via-http"
	fetch https "https://up.test:$P_HTTPS/echo/via-https"
	fetch refused "https://other.test:$P_HTTPS/echo/never"
} >"$R/basic.sh"
bnd --audit-log "$AUD" --upstream-proxy "$OPEN" --allow "domain=up.test" -- sh "$R/basic.sh"
keep_log
check "HTTP through the proxy: 200" test "$(code_of http)" = 200
check "the origin got it" grep -q "GET /echo/via-http" "$UP/requests.log"
check "squid saw it as an absolute-form request" \
	squid_seen "$LOG_OPEN" "GET http://up.test:$P_HTTP/echo/via-http"
check "HTTPS through the proxy: 200" test "$(code_of https)" = 200
check "the origin got it over TLS" grep -q "GET /echo/via-https" "$UP/requests.log"
check "squid saw a CONNECT to it, no more" squid_seen "$LOG_OPEN" "CONNECT up.test:$P_HTTPS"
check "a request the rules refuse: 403 from boundary" test "$(code_of refused)" = 403
check "and squid never heard of it" not squid_seen "$LOG_OPEN" "other.test"
check "nor the origin" not grep -q "/echo/never" "$UP/requests.log"
logged "the log says the proxy is in use" "$log" \
	"upstream proxy: allowed connections go through 127\\.0\\.0\\.1:$SQ_OPEN"
rec=$(grep '"event":"request"' "$AUD" | grep -F "via-https")
contains "audit: the allowed request is recorded as usual" "$rec" '"decision":"allow"'

for scheme in ws wss; do
	port=$P_HTTP
	[ "$scheme" = wss ] && port=$P_HTTPS
	bnd --upstream-proxy "$OPEN" --allow "domain=up.test path=/ws" -- $PYC ws "$scheme://up.test:$port/ws"
	keep_log
	want="HTTP/1.1 101 Switching Protocols
accept ok
text ok
binary ok
pong ok
close ok"
	if [ "$out" = "$want" ]; then
		ok "WebSocket over $scheme through the proxy: upgrade, text, binary, ping and close"
	else
		fail "WebSocket over $scheme through the proxy: upgrade, text, binary, ping and close"
		diag "$out" "$(tail -3 <<<"$log")"
	fi
done
check "squid carried the ws upgrade as a request" squid_seen "$LOG_OPEN" "GET http://up.test:$P_HTTP/ws"
check "and wss through a CONNECT" squid_seen "$LOG_OPEN" "CONNECT up.test:$P_HTTPS"

bnd --upstream-proxy "$OPEN" --allow "domain=ssh.test port=$P_SSH" -- \
	python3 "$STAGE/lib/stream_client.py" ssh ssh.test "$P_SSH"
keep_log
want BANNER "SSH-2.0-boundarytest" "a stream rule through the proxy: the server's banner arrives"
want REPLY "WELCOME SSH-2.0-jailed" "and the client's banner reaches the server"
check "squid opened a CONNECT tunnel for it" squid_seen "$LOG_OPEN" "CONNECT ssh.test:$P_SSH"

# HTTP/2 both ways through the tunnel: boundary offers h2 to the origin inside the CONNECT.
bnd --upstream-proxy "$OPEN" --allow "domain=h2.test" -- curl -sS --max-time 30 --http2 \
	-o /dev/null -w 'R: %{http_code} %{http_version}\n' "https://h2.test:$P_H2/hello"
keep_log
want R "200 2" "HTTP/2 through the proxy: 200 over h2 to the client"
check "and over h2 to the origin, inside the CONNECT" grep -qx "GET h2.test:$P_H2 /hello h2" "$UP/h2.log"
check "squid carried it as a tunnel" squid_seen "$LOG_OPEN" "CONNECT h2.test:$P_H2"

# --upstream-proxy-connect-always: plain HTTP through CONNECT too.
{ fetch always "http://up.test:$P_HTTP/echo/always"; } >"$R/always.sh"
bnd --upstream-proxy "$OPEN" --upstream-proxy-connect-always --allow "domain=up.test" -- sh "$R/always.sh"
keep_log
check "connect-always: HTTP answered 200" test "$(code_of always)" = 200
check "through a CONNECT to port $P_HTTP" squid_seen "$LOG_OPEN" "CONNECT up.test:$P_HTTP"
check "never as an absolute-form request" not squid_seen "$LOG_OPEN" "GET http://up.test:$P_HTTP/echo/always"

# --- an https:// proxy: TLS to the proxy, and the origin's TLS inside it ----------------------
# Its certificate (tests/lib/proxy.sh's, for 127.0.0.1 among others) is the test CA's, which
# boundary trusts through --upstream-ca.
if SQ_TLS=$UP/good.pem:$UP/good.key squid_up tls; then
	LOG_TLS=$SQ_LOG
	{
		fetch tls-http "http://up.test:$P_HTTP/echo/tls-http"
		fetch tls-https "https://up.test:$P_HTTPS/echo/tls-https"
	} >"$R/tlsproxy.sh"
	bnd --upstream-proxy "https://127.0.0.1:$SQ_PORT" --allow "domain=up.test" -- sh "$R/tlsproxy.sh"
	keep_log
	check "an https:// proxy, HTTP: 200" test "$(code_of tls-http)" = 200
	check "as an absolute-form request over TLS" squid_seen "$LOG_TLS" "GET http://up.test:$P_HTTP/echo/tls-http"
	check "an https:// proxy, HTTPS: 200 (TLS inside TLS)" test "$(code_of tls-https)" = 200
	check "through a CONNECT over TLS" squid_seen "$LOG_TLS" "CONNECT up.test:$P_HTTPS"
	bnd --upstream-proxy "https://127.0.0.1:$SQ_PORT" --allow "domain=ssh.test port=$P_SSH" -- \
		python3 "$STAGE/lib/stream_client.py" ssh ssh.test "$P_SSH"
	keep_log
	want REPLY "WELCOME SSH-2.0-jailed" "a stream rule through an https:// proxy"
	# Not trusted when --upstream-ca names another CA (the last one given counts): a 502.
	{ fetch tls-untrusted "https://up.test:$P_HTTPS/echo/tls-untrusted"; } >"$R/untrusted.sh"
	bnd --upstream-ca "$UP/rogue.pem" --upstream-proxy "https://127.0.0.1:$SQ_PORT" \
		--allow "domain=up.test" -- sh "$R/untrusted.sh"
	keep_log
	check "an https:// proxy whose certificate is not trusted: 502" test "$(code_of tls-untrusted)" = 502
	contains "saying TLS with the proxy failed" "$(body_of tls-untrusted)" \
		"TLS with the upstream proxy 127.0.0.1:$SQ_PORT failed: certificate verify failed"
else
	fail "cannot start squid with https_port (its TLS is GnuTLS's)"
fi

# --- the bypass list ---------------------------------------------------------------------------
{
	fetch bypassed "https://other.test:$P_HTTPS/echo/bypassed"
	fetch chained "https://api.up.test:$P_HTTPS/echo/chained"
} >"$R/bypass.sh"
bnd --upstream-proxy "$OPEN" --upstream-proxy-bypass "other.test, *.corp.internal" \
	--allow "domain=other.test" --allow "domain=api.up.test" -- sh "$R/bypass.sh"
keep_log
check "a bypassed host: 200" test "$(code_of bypassed)" = 200
check "its origin got the request" grep -q "B GET /echo/bypassed" "$UP/requests.log"
check "and squid shows nothing for it" not squid_seen "$LOG_OPEN" "other.test"
check "a host not on the list still goes through squid" squid_seen "$LOG_OPEN" "CONNECT api.up.test:$P_HTTPS"
check "and is answered" test "$(code_of chained)" = 200

# --- authentication ---------------------------------------------------------------------------
{
	fetch auth-https "https://up.test:$P_HTTPS/echo/auth-https"
	fetch auth-http "http://up.test:$P_HTTP/echo/auth-http"
} >"$R/auth.sh"
BND_LOG_LEVEL=debug bnd --audit-log "$AUD" --upstream-proxy "$AUTHED" --allow "domain=up.test" -- sh "$R/auth.sh"
keep_log
check "with credentials, HTTPS: 200" test "$(code_of auth-https)" = 200
check "with credentials, HTTP: 200" test "$(code_of auth-http)" = 200
check "squid knew the user (CONNECT)" squid_seen "$LOG_AUTH" "CONNECT up.test:$P_HTTPS $PUSER"
check "squid knew the user (absolute-form)" \
	squid_seen "$LOG_AUTH" "GET http://up.test:$P_HTTP/echo/auth-http $PUSER"

{
	fetch noauth-https "https://up.test:$P_HTTPS/echo/noauth-https"
	fetch noauth-http "http://up.test:$P_HTTP/echo/noauth-http"
} >"$R/noauth.sh"
bnd --audit-log "$AUD" --upstream-proxy "http://127.0.0.1:$SQ_AUTH" --allow "domain=up.test" -- sh "$R/noauth.sh"
keep_log
check "without credentials, HTTPS: 502" test "$(code_of noauth-https)" = 502
contains "naming the proxy and its 407" "$(body_of noauth-https)" \
	"the upstream proxy 127.0.0.1:$SQ_AUTH refused CONNECT to up.test port $P_HTTPS: HTTP/1.1 407"
check "without credentials, HTTP: 502 too (a 407 is the proxy's, not the client's)" \
	test "$(code_of noauth-http)" = 502
contains "naming the proxy and its 407" "$(body_of noauth-http)" "127.0.0.1:$SQ_AUTH refused the request"
check "the origin never saw either" not grep -q "noauth" "$UP/requests.log"

# --- a proxy that refuses, a proxy that is not there -----------------------------------------
{
	fetch ref-https "https://up.test:$P_HTTPS/echo/ref-https"
} >"$R/ref.sh"
bnd --upstream-proxy "http://127.0.0.1:$P_REF" --allow "domain=up.test" -- sh "$R/ref.sh"
keep_log
check "a refusing proxy: 502" test "$(code_of ref-https)" = 502
contains "with its status line and its address" "$(body_of ref-https)" \
	"the upstream proxy 127.0.0.1:$P_REF refused CONNECT to up.test port $P_HTTPS: HTTP/1.1 403 Forbidden by policy"
check "it was asked (CONNECT)" grep -q "^CONNECT up.test:$P_HTTPS HTTP/1.1" "$TMPDIR_T/refused.log"
: >"$TMPDIR_T/refused.log"

{
	fetch down-https "https://up.test:$P_HTTPS/echo/down-https"
	fetch down-http "http://up.test:$P_HTTP/echo/down-http"
} >"$R/down.sh"
bnd --upstream-proxy "http://127.0.0.1:$P_DOWN" --allow "domain=up.test" -- sh "$R/down.sh"
keep_log
check "an unreachable proxy, HTTPS: 502" test "$(code_of down-https)" = 502
contains "saying which proxy and why" "$(body_of down-https)" \
	"cannot connect to the upstream proxy 127.0.0.1 port $P_DOWN: Connection refused"
check "an unreachable proxy, HTTP: 502" test "$(code_of down-http)" = 502
check "the origin never saw either" not grep -q "/echo/down-" "$UP/requests.log"

# A proxy that accepts and never answers (tests/lib/hold_listener.py): a 504 naming it once the
# connect timeout (--upstream-timeout 2: 2 s) has passed.
mkdir -p "$TMPDIR_T/hold"
python3 "$STAGE/lib/hold_listener.py" "$TMPDIR_T/hold" 2>/dev/null &
at_exit "kill $! 2>/dev/null"
for _ in $(seq 100); do [ -e "$TMPDIR_T/hold/port" ] && break; sleep 0.05; done
P_HOLD=$(cat "$TMPDIR_T/hold/port")
{ fetch silent "https://up.test:$P_HTTPS/echo/silent"; } >"$R/silent.sh"
bnd --upstream-timeout 2 --upstream-proxy "http://127.0.0.1:$P_HOLD" --allow "domain=up.test" -- sh "$R/silent.sh"
keep_log
check "a proxy that never answers CONNECT: 504" test "$(code_of silent)" = 504
contains "naming it" "$(body_of silent)" "the upstream proxy 127.0.0.1:$P_HOLD did not answer in time"
check "it was asked" test -e "$TMPDIR_T/hold/conn.1"

# --- the jailed program's HTTP_PROXY changes nothing -----------------------------------------
# Set for boundary and the jailed program alike: boundary never reads it, and the program's
# own proxy connection is redirected to boundary like any other, which then goes through the
# operator's proxy (the open squid); the refusing proxy hears nothing. (curl without $CURL's
# --connect-to, which would make it tunnel to the test host instead.)
{
	CURL="curl -sS --max-time 30" fetch envp-http "http://up.test:$P_HTTP/echo/envp-http"
	CURL="curl -sS --max-time 30" fetch envp-https "https://up.test:$P_HTTPS/echo/envp-https"
} >"$R/envp.sh"
HTTP_PROXY=http://$TH4:$P_REF HTTPS_PROXY=http://$TH4:$P_REF http_proxy=http://$TH4:$P_REF \
	https_proxy=http://$TH4:$P_REF bnd --upstream-proxy "$OPEN" --allow "domain=up.test" -- sh "$R/envp.sh"
keep_log
check "HTTP_PROXY in the jail: HTTP still answered 200" test "$(code_of envp-http)" = 200
check "HTTPS_PROXY in the jail: HTTPS still answered 200" test "$(code_of envp-https)" = 200
check "through the operator's proxy" squid_seen "$LOG_OPEN" "GET http://up.test:$P_HTTP/echo/envp-http"
check "never through the one in the environment" test ! -s "$TMPDIR_T/refused.log"

# --- the password is never written -----------------------------------------------------------
cat "$AUD" >>"$ALL_LOGS"
for b in "$R"/*.body; do cat "$b" >>"$ALL_LOGS"; done
check "the password appears in no log, record or response" not grep -qF -- "$PASS" "$ALL_LOGS"
check "nor percent-encoded" not grep -qF -- "$PASS_URL" "$ALL_LOGS"
check "nor as the Basic credentials" not grep -qF -- "$PASS_B64" "$ALL_LOGS"

# A bad URL is refused at start, and the refusal does not quote it (it may hold the password).
run_b --upstream-proxy "http://$PUSER:$PASS_URL@127.0.0.1" --allow domain=up.test -- true
expect_rc "a proxy URL without a port is refused at start" 125
contains "saying what is missing" "$err" "--upstream-proxy: no port"
lacks "without quoting the password" "$err" "$PASS_URL"
run_b --upstream-proxy-bypass example.com --allow domain=up.test -- true
expect_rc "a bypass list without a proxy is refused" 125

done_testing
