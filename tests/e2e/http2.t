#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# http2.t: HTTP/2 through boundary's proxy, end to end, as root. The proxy offers h2 to jailed
# clients by ALPN (and takes h2c by prior knowledge), judges every stream of a connection on its
# own (a refused stream is answered 403, or for gRPC a PERMISSION_DENIED status whose message
# says which --allow rule would do, while the connection's other streams go on), speaks h2 or
# HTTP/1.1 upstream whichever the origin takes, passes trailers, holds a GiB download in bounded
# memory, and gRPC's C core trusts its CA through GRPC_DEFAULT_SSL_ROOTS_FILE_PATH.
#
# Servers on the host's loopback, all at 127.0.0.1 (jailed programs find them by name through
# boundary's DNS):
#   h2.test       tests/lib/h2_upstream.py tls-h2      ALPN h2 or http/1.1
#   h2only.test   tests/lib/h2_upstream.py tls-h2only  ALPN h2 alone
#   h2c.test      tests/lib/h2_upstream.py h2c         cleartext h2, prior knowledge only
#   grpc.test     tests/lib/grpc_peer.py server tls    test.Echo
#   grpcc.test    tests/lib/grpc_peer.py server insecure (h2c)
#   up.test       tests/lib/upstream.py (proxy.sh)     HTTP/1.1 only
# Each h2_upstream.py logs "METHOD AUTHORITY PATH PROTO" a request, grpc_peer.py the method of
# each call it took. Jailed python runs as /usr/bin/python3, Debian's, which has h2 and grpcio
# (a pyenv python may come first on PATH).
#
#   H2_BIG        the size of the big download (default 1 GiB: 1073741824)
#   H2_RSS_MAX_KB the bound on boundary's peak RSS during it (default 153600, 150 MB)
#
# $C is a command line, split into words on purpose.
# shellcheck disable=SC2086
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/jail.sh"
. "$(dirname "$0")/../lib/proxy.sh"
. "$(dirname "$0")/../lib/grpc.sh"
proxy_suite --no-testhost

PY=/usr/bin/python3
H2_BIG=${H2_BIG:-$((1 << 30))}
H2_RSS_MAX_KB=${H2_RSS_MAX_KB:-153600}
H2_CLIENT=$STAGE/lib/h2_client.py
GRPC_PEER=$STAGE/lib/grpc_peer.py
# Jailed curl trusts boundary's CA through SSL_CERT_FILE, as boundary sets it.
C="curl -sS --max-time 60"

make_cert "$UP" h2 ca h2.test \
	"DNS:h2.test,DNS:h2only.test,DNS:h2c.test,DNS:grpc.test,DNS:grpcc.test" || {
	fail "cannot make the h2 servers' certificate"
	done_testing
	exit 1
}
echo "127.0.0.1 h2.test h2only.test h2c.test grpc.test grpcc.test" >>"$UP/hosts"
read -r P_H2 P_H2ONLY P_H2C P_GRPC P_GRPCC <<<"$(free_ports 5)"

# server_up NAME CMD...: CMD in the background (it makes $UP/NAME.ready, errors in
# $UP/NAME.err), killed at exit; ends the suite if it does not get ready.
server_up() {
	local name=$1
	shift
	"$@" 2>"$UP/$name.err" &
	at_exit "kill $! 2>/dev/null"
	for _ in $(seq 200); do [ -e "$UP/$name.ready" ] && return 0; sleep 0.05; done
	fail "the $name server did not start: $(cat "$UP/$name.err")"
	done_testing
	exit 1
}
for m in h2:tls-h2:$P_H2 h2only:tls-h2only:$P_H2ONLY h2c:h2c:$P_H2C; do
	IFS=: read -r name mode port <<<"$m"
	: >"$UP/$name.log"
	if [ "$mode" = h2c ]; then
		server_up "$name" $PY "$STAGE/lib/h2_upstream.py" "$port" h2c - - "$UP/$name.log" "$UP/$name.ready"
	else
		server_up "$name" $PY "$STAGE/lib/h2_upstream.py" "$port" "$mode" "$UP/h2.pem" "$UP/h2.key" \
			"$UP/$name.log" "$UP/$name.ready"
	fi
done
: >"$UP/grpc.log"
: >"$UP/grpcc.log"
server_up grpc $PY "$GRPC_PEER" server "$P_GRPC" tls "$UP/h2.pem" "$UP/h2.key" "$UP/grpc.ready" "$UP/grpc.log"
server_up grpcc $PY "$GRPC_PEER" server "$P_GRPCC" insecure "$UP/grpcc.ready" "$UP/grpcc.log"

# A log's requests for PATH, as "METHOD AUTHORITY PATH PROTO" lines.
seen() { grep -F " $2 " "$UP/$1.log"; }

# --- h2 to the client, by ALPN -----------------------------------------------------------------
bnd --allow "domain=h2.test" -- $C --http2 -w '\nR: %{http_code} %{http_version}\n' \
	"https://h2.test:$P_H2/hello"
want R "200 2" "curl --http2 to an h2 origin: 200 over h2 (boundary offers h2 by ALPN)"
contains "the origin's body reaches the client" "$out" "hello from h2"
check "the origin got the request" grep -qE "^GET h2\\.test:$P_H2 /hello (h2|http/1\\.1)\$" "$UP/h2.log"
diag "boundary spoke $(seen h2 /hello | awk '{ print $4 }' | tail -1) to the tls-h2 origin"

# --- one connection, an allowed stream and a refused one ---------------------------------------
: >"$UP/h2.log"
AUD=$TMPDIR_T/h2audit.jsonl
bnd --audit-log "$AUD" --allow "domain=h2.test path=/hello" -- $C --http2 \
	-w '\nR%{urlnum}: %{http_code} %{http_version} %{num_connects}\n' \
	"https://h2.test:$P_H2/hello" "https://h2.test:$P_H2/secret"
want R0 "200 2 1" "two URLs on one h2 connection: the allowed one 200 (one connect)"
want R1 "403 2 0" "the refused one 403 on the same connection (no second connect)"
contains "the 403's body is boundary's" "$out" "boundary"
contains "and names the rule that would allow it" "$out" "path=/secret"
check "the origin saw /hello" grep -qF " /hello " "$UP/h2.log"
check "and never /secret" not grep -qF "/secret" "$UP/h2.log"

r=$(grep '"event":"request"' "$AUD" 2>/dev/null | grep -F "/hello\"" | head -1)
d=$(grep '"event":"request"' "$AUD" 2>/dev/null | grep -F "/secret\"" | head -1)
contains "audit: the h2 request's record says HTTP/2" "$r" '"http":"2"'
logged "audit: and carries its stream id (odd: the client's)" "$r" '"stream_id":[0-9]*[13579][,}]'
contains "audit: it was allowed" "$r" '"decision":"allow"'
contains "audit: the refused stream's record is a deny" "$d" '"decision":"deny"'
contains "audit: over HTTP/2 too" "$d" '"http":"2"'
logged "audit: with an odd stream id of its own" "$d" '"stream_id":[0-9]*[13579][,}]'
sid_r=$(grep -oE '"stream_id":[0-9]+' <<<"$r")
sid_d=$(grep -oE '"stream_id":[0-9]+' <<<"$d")
two_ids() { [ -n "$sid_r" ] && [ -n "$sid_d" ] && [ "$sid_r" != "$sid_d" ]; }
check "audit: the two streams' ids differ ($sid_r, $sid_d)" two_ids

# --- h2c by prior knowledge --------------------------------------------------------------------
: >"$UP/h2c.log"
bnd --allow "domain=h2c.test" -- $C --http2-prior-knowledge -w '\nR: %{http_code} %{http_version}\n' \
	"http://h2c.test:$P_H2C/hello"
want R "200 2" "curl --http2-prior-knowledge over cleartext: 200 over h2"
check "the h2c origin (prior knowledge only) got it as h2" \
	grep -qx "GET h2c\\.test:$P_H2C /hello h2" "$UP/h2c.log"

# --- translation: each side speaks what it speaks ---------------------------------------------
: >"$UP/requests.log"
bnd --allow "domain=up.test" -- $C --http2 -o /dev/null -w 'R: %{http_code} %{http_version}\n' "https://up.test:$P_HTTPS/echo/h2-client"
want R "200 2" "an h2 client to an HTTP/1.1-only origin: 200 over h2 (boundary translates)"
check "the HTTP/1.1 origin got it" grep -q "^A GET /echo/h2-client\$" "$UP/requests.log"

# --- WebSockets over HTTP/2 (RFC 8441's extended CONNECT), judged on their :path ----------------
: >"$UP/requests.log"
bnd --allow "domain=up.test path=/ws" -- $PY "$STAGE/lib/h2_ws.py" --ca default up.test "$P_HTTPS" /ws "hello over h2"
want CONNECT_PROTOCOL yes "boundary offers extended CONNECT to an h2 client (SETTINGS_ENABLE_CONNECT_PROTOCOL)"
want STATUS 200 "a WebSocket over h2 to an HTTP/1.1 origin: the CONNECT is answered 200"
want ECHO "hello over h2" "and the origin's echo comes back through the tunnel"
check "the origin got it as an HTTP/1.1 upgrade of GET /ws" grep -q "^A GET /ws\$" "$UP/requests.log"
: >"$UP/requests.log"
bnd --allow "domain=up.test path=/other" -- $PY "$STAGE/lib/h2_ws.py" --ca default up.test "$P_HTTPS" /ws "hello"
want STATUS 403 "a WebSocket over h2 whose :path no rule allows: 403"
check "and the origin never saw it" not grep -q "/ws" "$UP/requests.log"

bnd --allow "domain=up.test" --allow "domain=h2.test" -- sh -c "
	$C --http1.1 -o /dev/null -w 'A: %{http_code} %{http_version}\n' https://up.test:$P_HTTPS/echo/h1-client
	$C --http1.1 -o /dev/null -w 'B: %{http_code} %{http_version}\n' https://h2.test:$P_H2/hello"
want A "200 1.1" "an HTTP/1.1 client to an HTTP/1.1 origin: still 200 over HTTP/1.1"
want B "200 1.1" "an HTTP/1.1 client to an origin that offers h2: 200 over HTTP/1.1"

: >"$UP/h2only.log"
bnd --allow "domain=h2only.test" -- $C --http1.1 \
	-w '\nR: %{http_code} %{http_version}\nUP: %header{x-upstream-proto}\n' "https://h2only.test:$P_H2ONLY/hello"
want R "200 1.1" "an HTTP/1.1 client to an origin that takes only h2: 200 over HTTP/1.1"
want UP h2 "boundary spoke h2 to that origin (its x-upstream-proto)"
check "the h2-only origin logged it as h2" grep -qx "GET h2only\\.test:$P_H2ONLY /hello h2" "$UP/h2only.log"

bnd --allow "domain=up.test" -- $C --http2 -o /dev/null -w 'R: %{http_code} %{http_version}\n' \
	"http://up.test:$P_HTTP/echo/upgrade"
want R "200 1.1" "plain HTTP with Upgrade: h2c (curl --http2 on http://): answered over HTTP/1.1"

# --- trailers ----------------------------------------------------------------------------------
bnd --allow "domain=h2.test" -- $PY "$H2_CLIENT" h2.test "$P_H2" /trailers
want ALPN h2 "python h2 client: boundary picks h2 by ALPN"
want STATUS1 200 "/trailers: 200"
want BODY1 'body before trailers\n' "/trailers: the body"
want TRAILERS1 "x-trailer=yes" "/trailers: the origin's trailer reaches the client"

# --- a GiB on one stream beside a refused one: its bytes, and boundary's memory ----------------
want_sha=$($PY "$STAGE/lib/h2_upstream.py" pattern "$H2_BIG")
hold=$(shared_dir hold)/big
mkfifo "$hold" && chmod 666 "$hold"
: >"$UP/h2.log"
# shellcheck disable=SC2016 # for the jailed shell
bnd_bg big --allow "domain=h2.test path=/big" -- sh -c '"$@"; echo "FINISHED: yes"; read _ <"$0"' \
	"$hold" $PY "$H2_CLIENT" h2.test "$P_H2" "/big?n=$H2_BIG" /secret
big_done() { grep -q "^FINISHED: yes" "$TMPDIR_T/big.out"; }
for _ in $(seq 2400); do big_done && break; kill -0 "$BND_PID" 2>/dev/null || break; sleep 0.1; done
hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$BND_PID/status" 2>/dev/null)
# shellcheck disable=SC2016 # for that shell
timeout 5 sh -c 'echo go >"$1"' _ "$hold"
wait "$BND_PID"
out=$(cat "$TMPDIR_T/big.out")
log=$(cat "$TMPDIR_T/big.log")
want STATUS1 200 "/big?n=$H2_BIG: 200"
want LEN1 "$H2_BIG" "/big: every byte arrives"
want SHA1 "$want_sha" "/big: the body's sha256 is the pattern's"
want STATUS2 403 "the stream refused beside it: 403"
check "the origin never saw the refused stream" not grep -qF "/secret" "$UP/h2.log"
diag "boundary's peak RSS (VmHWM) over the $H2_BIG-byte download: ${hwm:-unknown} kB"
# Only a download that completed says anything about the memory it took.
rss_bounded() { [ "$(result LEN1)" = "$H2_BIG" ] && [ -n "$hwm" ] && [ "$hwm" -lt "$H2_RSS_MAX_KB" ]; }
check "boundary's peak RSS over the whole download stays under $H2_RSS_MAX_KB kB (${hwm:-unknown} kB)" \
	rss_bounded

# --- node's http2 module -----------------------------------------------------------------------
bnd --allow "domain=h2.test" -- node "$STAGE/lib/h2_node_client.js" "https://h2.test:$P_H2/hello"
want ALPN h2 "node http2: h2 by ALPN (trusting boundary through NODE_EXTRA_CA_CERTS)"
want STATUS 200 "node http2: GET /hello 200"
want BODY 'hello from h2\n' "node http2: the body"

# --- gRPC --------------------------------------------------------------------------------------
# shellcheck disable=SC2016 # the jail's environment
bnd -- sh -c 'echo "GRPC: $GRPC_DEFAULT_SSL_ROOTS_FILE_PATH"; echo "SSL: $SSL_CERT_FILE"'
grpc_roots_set() { [ -n "$(result GRPC)" ] && [ "$(result GRPC)" = "$(result SSL)" ]; }
check "the jail sets GRPC_DEFAULT_SSL_ROOTS_FILE_PATH to boundary's bundle (\$SSL_CERT_FILE)" \
	grpc_roots_set


grpc_calls "$PY $GRPC_PEER" "grpc.test:$P_GRPC" tls default
grpc_checks "$UP/grpc.log" "gRPC over TLS (roots from GRPC_DEFAULT_SSL_ROOTS_FILE_PATH)" \
	PERMISSION_DENIED DEADLINE_EXCEEDED

grpc_calls "$PY $GRPC_PEER" "grpcc.test:$P_GRPCC" insecure
grpc_checks "$UP/grpcc.log" "gRPC over h2c" PERMISSION_DENIED DEADLINE_EXCEEDED

: >"$UP/grpc.log"
bnd --allow "domain=grpc.test path=/test.Echo/Chat" -- \
	$PY "$GRPC_PEER" client "grpc.test:$P_GRPC" tls default Say hello
check "gRPC with only Chat allowed: Say gets PERMISSION_DENIED" matches "$out" "^ERR PERMISSION_DENIED "
contains "naming Say's rule" "$out" "path=/test.Echo/Say"
check "and the server saw no call" [ ! -s "$UP/grpc.log" ]

# A secret bound to the gRPC host: the answers go through the secrets' engine, re-chunked, and
# their trailers (grpc-status) must come along, or the client sees "Stream removed".
: >"$UP/grpc.log"
GRPC_TOKEN=grpc-token-$RANDOM$RANDOM bnd --secret "GRPC_TOKEN domain=grpc.test" \
	--allow "domain=grpc.test" -- sh -c '
	echo "SAY: $($1 client "$2" tls default Say hello)"
	echo "CHAT: $($1 client "$2" tls default Chat m)"' _ "$PY $GRPC_PEER" "grpc.test:$P_GRPC"
want SAY "OK said:hello" "gRPC to a host a --secret is bound to: a unary call answers (its trailers pass the secrets)"
want CHAT "OK chat:m1 chat:m2 chat:m3" "and a bidi call"

# An allowed call whose upstream is not there (down.test: nothing listens): boundary's 502 in
# gRPC's words, UNAVAILABLE, saying why.
bnd --allow "domain=down.test" -- $PY "$GRPC_PEER" client "down.test:$P_DOWN" tls default Say hello
check "gRPC to an allowed host where nothing listens: UNAVAILABLE" matches "$out" "^ERR UNAVAILABLE "
contains "with boundary's reason (it cannot connect)" "$out" "cannot connect to down.test"

done_testing
