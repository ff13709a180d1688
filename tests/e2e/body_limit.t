#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# body_limit.t: max_body= end to end, as root (docs/RULES.md, "max_body="). Jailed curl sends
# bodies through boundary to the origin servers of tests/lib/proxy.sh (up.test, HTTP and HTTPS,
# reached by name through boundary's DNS), whose records say what reached them: requests.log a
# line for each request head, echo.log one for each /echo request whose whole body arrived, and
# conns.log one for each connection.
#
#   a body under the limit passes, whole (Content-Length or chunked)
#   a Content-Length over it: 413 naming the limit, the rule and how to raise it; the origin
#     sees nothing of it (plain HTTP: not even a connection); the audit record is a deny with
#     the rule; the connection then serves the next request (the body was read and dropped)
#   a chunked body that grows past it: the upstream request is cut (the origin never gets a
#     whole request), the client gets 413 (or, when the answer had begun, its connection is
#     closed), and the record says how many body bytes went out
#   the same over HTTPS (intercepted TLS), and over HTTP/2 (a Content-Length past the limit is
#     413 on its stream while the connection's next stream carries on; a body of no stated
#     length is cut, to an HTTP/1.1 origin as to an HTTP/2 one, whose stream is reset)
#   a rules program's {"allow": {"max_tx_bytes": N}} limits as max_body=N does
#   --dry-run lifts the limit as it lifts the rules' refusals, and says so
#   with --secret, what counts is the body as the client sent it (placeholders, not values)
#
# $C is a command line, split into words on purpose.
# shellcheck disable=SC2086
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/jail.sh"
. "$(dirname "$0")/../lib/proxy.sh"
proxy_suite --no-testhost

# Jailed curl trusts boundary's CA through SSL_CERT_FILE, as boundary sets it; no
# "Expect: 100-continue" (curl asks it for big bodies), so each body goes at once.
C="curl -sS --max-time 30 -H Expect:"
R=$(shared_dir r)
AUD=$TMPDIR_T/audit.jsonl
RULE="domain=up.test path=/echo/* max_body=1K"
python3 "$UPSTREAM_PY" gen 512 >"$R/small"
python3 "$UPSTREAM_PY" gen 2048 >"$R/big"
python3 "$UPSTREAM_PY" gen 600 >"$R/part"
chmod 644 "$R/small" "$R/big" "$R/part"

# echoed PATH: the origin got the whole of the request for PATH (its echo.log line).
echoed() { grep -qF "\"path\": \"$1\"" "$UP/echo.log" 2>/dev/null; }
# headed PATH: the origin got the head of a request for PATH.
headed() { grep -qE " $(ere_quote "$1")(\\?|\$)" "$UP/requests.log"; }
# record EVENT PATH: the audit record of EVENT ("request", "end") for the URL ending in PATH.
record() { grep "\"event\":\"$1\"" "$AUD" 2>/dev/null | grep -F "$2\"" | tail -1; }
# slow_upload SCHEME PATH [CURL ARGS...]: a chunked upload of 600 bytes, then after a second 600
# more: the first part fits under 1K, the second takes it past. Output "S: CODE VERSION".
slow_upload() {
	local scheme=$1 path=$2 port=$P_HTTP
	shift 2
	[ "$scheme" = https ] && port=$P_HTTPS
	printf '(cat %q; sleep 1; cat %q) | %s %s -T - -X POST -o %q -w "S: %%{http_code} %%{http_version}\\n" %q\n' \
		"$R/part" "$R/part" "$C" "$*" "$R/slow-$scheme.body" "$scheme://up.test:$port$path"
}

# --- plain HTTP: under, over by Content-Length, the next request after a 413 ------------------
: >"$UP/requests.log"
: >"$UP/echo.log"
: >"$AUD"
cat >"$R/http.sh" <<EOF
$C --data-binary @$R/small -o $R/small.body -w 'A: %{http_code}\n' http://up.test:$P_HTTP/echo/small
cat $R/part | $C -T - -X POST -o /dev/null -w 'K: %{http_code}\n' http://up.test:$P_HTTP/echo/chunked-small
$C --data-binary @$R/big -o $R/big.body -w 'B: %{http_code} %{num_connects}\n' http://up.test:$P_HTTP/echo/big \
	--next -sS --max-time 30 -o /dev/null -w 'C: %{http_code} %{num_connects}\n' http://up.test:$P_HTTP/echo/after
EOF
bnd --audit-log "$AUD" --allow "$RULE" -- sh "$R/http.sh"
want A 200 "a POST of 512 bytes under max_body=1K passes"
check "the origin got all of it" grep -qF '"body_len": 512' "$UP/echo.log"
want K 200 "a chunked body of 600 bytes under max_body=1K passes"
check "the origin got all of it" grep -qF '"body_len": 600' "$UP/echo.log"
want B "413 1" "a Content-Length of 2048 over max_body=1K: 413"
body=$(cat "$R/big.body" 2>/dev/null)
contains "the 413 is boundary's" "$body" "Request Blocked by Boundary"
contains "it says the body's size and the limit" "$body" "its body of 2048 bytes (Content-Length) is larger than max_body=, 1024 bytes"
contains "it names the rule" "$body" "of the rule \"$RULE\""
contains "it says how to raise it" "$body" "--allow \"domain=up.test path=/echo/* max_body=2K\""
check "the origin never saw the refused request" not headed /echo/big
want C "200 0" "the next request on the same connection (the body was read and dropped): 200, no new connection"
check "the origin got that one" echoed /echo/after
logged "the log says DENY with 413 and why" "$log" "DENY POST http://up\\.test:$P_HTTP/echo/big from curl\\[[0-9]+\\]: 413: its body of 2048 bytes"
d=$(record request /echo/big)
contains "audit: the refusal is a deny record" "$d" '"decision":"deny"'
contains "audit: with status 413" "$d" '"status":413'
contains "audit: naming the rule" "$d" "\"rule\":\"$RULE\""
contains "audit: and the limit" "$d" "max_body=, 1024 bytes"

# Alone: a plain-HTTP request refused by its Content-Length opens no upstream connection.
before=$(conns A)
bnd --allow "$RULE" -- $C --data-binary @"$R/big" -o /dev/null -w 'R: %{http_code}\n' \
	"http://up.test:$P_HTTP/echo/alone"
want R 413 "a lone request over the limit: 413"
check "no upstream connection was opened for it ($before before, $(conns A) after)" test "$(conns A)" = "$before"

# --dry-run blocks nothing: the body goes, and the log and the record say it would not have.
: >"$AUD"
bnd --dry-run --audit-log "$AUD" --allow "$RULE" -- $C --data-binary @"$R/big" -o /dev/null \
	-w 'R: %{http_code}\n' "http://up.test:$P_HTTP/echo/dry"
want R 200 "--dry-run: a Content-Length over the limit goes through"
check "--dry-run: the origin got all of it" echoed /echo/dry
logged "--dry-run: the log says it would have been refused" "$log" "DRY-RUN would deny POST http://up\\.test:$P_HTTP/echo/dry .*larger than max_body="
contains "--dry-run: the record is marked would_deny" "$(record request /echo/dry)" '"would_deny":true'

# --- a chunked body that grows past the limit is cut -----------------------------------------
: >"$AUD"
: >"$UP/resets.log"
slow_upload http /echo/slow >"$R/slow.sh"
bnd --audit-log "$AUD" --allow "$RULE" -- sh "$R/slow.sh"
want S "413 1.1" "a chunked upload past max_body=1K (600 bytes, then 600 more): 413"
contains "the 413 says it grew past the limit" "$(cat "$R/slow-http.body" 2>/dev/null)" "its body grew past max_body=, 1024 bytes"
check "the origin got its head" headed /echo/slow
check "but never the whole request" not echoed /echo/slow
check "its connection was reset, not ended (an abort)" grep -q "^A http\$" "$UP/resets.log"
e=$(record end /echo/slow)
contains "audit: the exchange's end says how many body bytes went out" "$e" "600 bytes of it went upstream, then the upstream request was cut off"
contains "audit: with the 413" "$e" '"status":413'
contains "audit: and the rule" "$e" "\"rule\":\"$RULE\""
logged "the log says so" "$log" "DENY POST http://up\\.test:$P_HTTP/echo/slow from curl\\[[0-9]+\\]: 413: its body grew past"

# Once the origin has begun to answer, no 413 can be sent: the client's connection is closed.
: >"$AUD"
: >"$UP/requests.log"
slow_upload http /early >"$R/early.sh"
bnd --audit-log "$AUD" --allow "domain=up.test path=/early max_body=1K" -- sh "$R/early.sh"
want S "200 1.1" "an answer that began before the body went past the limit: its status stands"
contains "the client got the start of the answer" "$(cat "$R/slow-http.body" 2>/dev/null)" "early"
lacks "but not its end (the origin never read the whole body)" "$(cat "$R/slow-http.body" 2>/dev/null)" "read "
logged "the client's connection was closed under it (curl says so)" "$log" "curl: \\((18|56)\\)"
e=$(record end /early)
contains "audit: the end record says how much went out" "$e" "600 bytes of it went upstream"
contains "audit: with the status that was sent" "$e" '"status":200'

# --- HTTPS (intercepted TLS): the same -------------------------------------------------------
: >"$AUD"
cat >"$R/https.sh" <<EOF
$C --data-binary @$R/small -o /dev/null -w 'A: %{http_code}\n' https://up.test:$P_HTTPS/echo/tls-small
$C --data-binary @$R/big -o $R/tls-big.body -w 'B: %{http_code}\n' https://up.test:$P_HTTPS/echo/tls-big
$(slow_upload https /echo/tls-slow --http1.1)
EOF
bnd --audit-log "$AUD" --allow "$RULE" -- sh "$R/https.sh"
want A 200 "HTTPS: a body under the limit passes"
check "HTTPS: the origin got all of it" echoed /echo/tls-small
want B 413 "HTTPS: a Content-Length over the limit: 413"
contains "HTTPS: saying why" "$(cat "$R/tls-big.body" 2>/dev/null)" "larger than max_body=, 1024 bytes"
check "HTTPS: the origin never saw the refused request" not headed /echo/tls-big
want S "413 1.1" "HTTPS: a chunked upload past the limit: 413"
check "HTTPS: the origin never got the whole cut request" not echoed /echo/tls-slow
contains "HTTPS: the record says how much went out" "$(record end /echo/tls-slow)" "600 bytes of it went upstream"

# --- HTTP/2 ----------------------------------------------------------------------------------
: >"$AUD"
cat >"$R/h2.sh" <<EOF
$C --http2 --data-binary @$R/big -o $R/h2-big.body -w 'H: %{http_code} %{http_version} %{num_connects}\n' https://up.test:$P_HTTPS/echo/h2-big \
	--next --http2 -sS --max-time 30 -o /dev/null -w 'N: %{http_code} %{http_version} %{num_connects}\n' https://up.test:$P_HTTPS/echo/h2-next
$(slow_upload https /echo/h2-slow --http2)
EOF
bnd --audit-log "$AUD" --allow "$RULE" -- sh "$R/h2.sh"
want H "413 2 1" "HTTP/2: a content-length over the limit: 413 on its stream"
contains "HTTP/2: saying why" "$(cat "$R/h2-big.body" 2>/dev/null)" "larger than max_body=, 1024 bytes"
check "HTTP/2: the origin never saw it" not headed /echo/h2-big
want N "200 2 0" "HTTP/2: the connection's next stream carries on"
check "HTTP/2: the origin got that one" echoed /echo/h2-next
want S "413 2" "HTTP/2: a body of no stated length past the limit: 413 on its stream"
check "HTTP/2: the origin never got the whole cut request" not echoed /echo/h2-slow
contains "HTTP/2: the record says how much went out" "$(record end /echo/h2-slow)" "600 bytes of it went upstream"

# --- to an HTTP/2 origin: the cut is a RST_STREAM, and the origin never gets the whole stream --
PY=/usr/bin/python3
P_H2=$(free_ports 1)
if make_cert "$UP" h2 ca h2.test "DNS:h2.test"; then
	echo "127.0.0.1 h2.test" >>"$UP/hosts"
	: >"$UP/h2.log"
	$PY "$STAGE/lib/h2_upstream.py" "$P_H2" tls-h2 "$UP/h2.pem" "$UP/h2.key" "$UP/h2.log" \
		"$UP/h2.ready" 2>"$UP/h2.err" &
	at_exit "kill $! 2>/dev/null"
	for _ in $(seq 200); do [ -e "$UP/h2.ready" ] && break; sleep 0.05; done
fi
if [ -e "$UP/h2.ready" ]; then
	: >"$AUD"
	printf '(cat %q; sleep 1; cat %q) | %s --http2 -T - -X POST -o /dev/null -w "S: %%{http_code} %%{http_version}\\n" %q\n' \
		"$R/part" "$R/part" "$C" "https://h2.test:$P_H2/echo" >"$R/h2up.sh"
	bnd --audit-log "$AUD" --allow "domain=h2.test max_body=1K" -- sh "$R/h2up.sh"
	want S "413 2" "an HTTP/2 upload to an HTTP/2 origin past the limit: 413"
	check "the HTTP/2 origin never got the whole stream" not grep -q "^POST " "$UP/h2.log"
	contains "the record says how much went out" "$(record end /echo)" "600 bytes of it went upstream"
else
	fail "the HTTP/2 origin did not start: $(cat "$UP/h2.err" 2>/dev/null)"
fi

# --- with --secret: the body counts as the client sent it, before the value goes in -----------
# The value (2000 bytes) is longer than the limit; the client's body holds only its placeholder.
: >"$AUD"
API_KEY=$(head -c 2000 /dev/zero | tr '\0' v)
export API_KEY
cat >"$R/secret.sh" <<EOF
printf '{"k":"%s"}' "\$API_KEY" | $C -T - -X POST -H 'Content-Type: application/json' -o /dev/null -w 'A: %{http_code}\n' https://up.test:$P_HTTPS/echo/sec-small
{ printf '{"k":"%s","pad":"' "\$API_KEY"; head -c 2000 /dev/zero | tr '\\0' p; printf '"}'; } | $C -T - -X POST -H 'Content-Type: application/json' -o /dev/null -w 'B: %{http_code}\n' https://up.test:$P_HTTPS/echo/sec-big
EOF
bnd --audit-log "$AUD" --secret "API_KEY domain=up.test" --allow "$RULE" -- sh "$R/secret.sh"
unset API_KEY
want A 200 "--secret: a body under the limit as sent passes, though the value put in makes it longer"
check "--secret: the origin got it with the value in" grep -qF '"body_len": 2008' "$UP/echo.log"
want B 413 "--secret: a body over the limit as sent: 413"
check "--secret: the origin never got it whole" not echoed /echo/sec-big

# --- a rules program's max_tx_bytes ----------------------------------------------------------
: >"$AUD"
PLOG=$TMPDIR_T/program.log
cat >"$R/prog.sh" <<EOF
$C --data-binary @$R/small -o /dev/null -w 'A: %{http_code}\n' http://up.test:$P_HTTP/echo/cap-small
$C --data-binary @$R/big -o $R/cap-big.body -w 'B: %{http_code}\n' http://up.test:$P_HTTP/echo/cap-big
EOF
bnd --audit-log "$AUD" --rules-program "python3 $STAGE/lib/rules_program.py $PLOG" -- sh "$R/prog.sh"
want A 200 "rules program: {\"allow\": {\"max_tx_bytes\": 1024}} lets 512 bytes through"
check "rules program: the origin got them" echoed /echo/cap-small
want B 413 "rules program: and refuses 2048 bytes with 413"
contains "rules program: the 413 names the program's cap" "$(cat "$R/cap-big.body" 2>/dev/null)" "the rules program's max_tx_bytes, 1024 bytes"
check "rules program: the origin never saw it" not headed /echo/cap-big
contains "rules program: a deny record" "$(record request /echo/cap-big)" '"status":413'

# --- Expect: 100-continue: the 413 comes instead of the 100, and the body is never sent ---------
: >"$UP/requests.log"
bnd --allow "$RULE" -- sh -c "start=\$(date +%s%N)
	curl -sS --max-time 30 -H 'Expect: 100-continue' --expect100-timeout 20 \
		--data-binary @$R/big -o /dev/null -w 'E: %{http_code}\n' http://up.test:$P_HTTP/echo/expect-big
	echo \"T: \$(( (\$(date +%s%N) - start) / 1000000 ))\""
want E 413 "Expect: 100-continue with a Content-Length over the limit: 413 instead of the 100"
quick() { [ "$(result T)" -lt 10000 ]; }
check "... at once: curl did not wait out its 20 s for a 100 ($(result T) ms)" quick
check "... and the origin saw nothing of it" not headed /echo/expect-big

done_testing
