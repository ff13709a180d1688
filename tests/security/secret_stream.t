#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# secret_stream.t: a secret's placeholder sent out through a plain TCP stream, as root. A stream
# rule (port= and neither method= nor path=) splices the connection unread by HTTP rules, so the
# proxy looks at the bytes on their way to the upstream: the placeholder, split across two
# writes half a second apart, cuts the connection before the upstream has any of it; a warning
# names the process and the secret, and a "deny" record says where it was going. The upstream
# is a listener of ours on 127.0.0.1 that writes down every byte it receives; a clean stream
# through the same rule reaches it whole. A TLS server name that carries the placeholder (in
# hex) is refused before the handshake, whether a stream rule or an HTTP rule would take the
# connection. The secret's value is nowhere in the output, log or audit log.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/jail.sh"
. "$(dirname "$0")/../lib/proxy.sh"
proxy_suite --no-testhost
echo "127.0.0.1 leak.test" >>"$UP/hosts"

# The upstream: every byte any connection sends, appended to $UP/received.
read -r P <<<"$(free_ports 1)"
: >"$UP/received"
python3 "$STAGE/lib/record_listener.py" "$P" "$UP/received" "$UP/rec.ready" 2>"$UP/rec.err" &
REC_PID=$!
at_exit "kill $REC_PID 2>/dev/null"
for _ in $(seq 100); do [ -e "$UP/rec.ready" ] && break; sleep 0.05; done
received() { cat "$UP/received"; }

VALUE="stream-value-$RANDOM$RANDOM-never-shown"
export API_TOKEN=$VALUE
AUD=$TMPDIR_T/audit.jsonl
bnd --audit-log "$AUD" --secret "API_TOKEN domain=api.up.test" --allow "domain=leak.test port=$P" \
	-- sh -c 'python3 "$1" clean leak.test "$2"; python3 "$1" stream API_TOKEN leak.test "$2"' \
	_ "$STAGE/lib/secret_leak.py" "$P"
unset API_TOKEN
sleep 0.3 # the listener's last write

want CLEAN sent "control: a clean stream was sent"
check "control: and the upstream received it whole, across its two writes" grep -q "^clean bytes$" "$UP/received"
want CUT yes "the stream carrying the placeholder was cut"
check "the upstream received the bytes before the placeholder" grep -q "hello " "$UP/received"
check "the upstream never received the whole placeholder" not grep -q "boundary-secret-API_TOKEN-[0-9a-f]\{32\}" "$UP/received"
check "nor any of it: the part that could begin one was held back" not grep -q "boundary-secret" "$UP/received"
logged "a warning names the process and the secret" "$log" \
	"warn: DENY tcp://leak\\.test:$P from python3\\[[0-9]+\\]: secret API_TOKEN sent to leak\\.test:$P"
rec=$(grep '"event":"request"' "$AUD" | grep '"decision":"deny"')
contains "audit: a deny record with the reason" "$rec" "\"reason\":\"secret API_TOKEN sent to leak.test:$P\""
contains "audit: of the stream, with its host and port" "$rec" "\"kind\":\"tcp\""
contains "audit: naming the process" "$rec" '"comm":"python3"'
check "the secret's value is not in the output" not grep -qF "$VALUE" <<<"$out"
check "nor in boundary's log" not grep -qF "$VALUE" <<<"$log"
check "nor in the audit log" not grep -qF "$VALUE" "$AUD"
check "nor anywhere the upstream saw" not grep -qF "$VALUE" "$UP/received"

# --- the placeholder in a TLS server name --------------------------------------------------------
# An HTTP rule for the name too: the connection is sniffed, not spliced at accept.
: >"$UP/received"
export API_TOKEN=$VALUE
AUD2=$TMPDIR_T/audit2.jsonl
bnd --audit-log "$AUD2" --secret "API_TOKEN domain=api.up.test" --allow "domain=leak.test" \
	--allow "domain=*.leak.test port=$P" -- python3 "$STAGE/lib/secret_leak.py" sni API_TOKEN leak.test "$P"
unset API_TOKEN
want SNI cut "a TLS server name carrying the placeholder: the connection ends before the handshake"
check "the upstream received nothing" [ ! -s "$UP/received" ]
logged "a warning names the process and the secret" "$log" \
	"warn: DENY tls://[0-9a-f.]+\\.leak\\.test:$P from python3\\[[0-9]+\\]: secret API_TOKEN sent to [^ ]+ in a TLS server name"
rec=$(grep '"decision":"deny"' "$AUD2")
logged "audit: a deny record with the reason" "$rec" \
	"\"reason\":\"secret API_TOKEN sent to [0-9a-f.]+\\.leak\\.test:$P in a TLS server name\""
contains "audit: of a TLS stream" "$rec" '"kind":"tls"'
check "the secret's value is not in the log" not grep -qF "$VALUE" <<<"$log"

done_testing
