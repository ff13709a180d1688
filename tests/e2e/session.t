#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# session.t: session correlation (--enable-session-correlation, --session-id-inject-target), end
# to end, as root. Coder's AI gateway is played by the local upstream servers (tests/lib/proxy.sh),
# whose /api/v2/aibridge/ answers echo the request's fields; CODER_AGENT_URL names them. Checked:
# an allowed request to an inject target reaches the upstream with
# X-Coder-Agent-Firewall-Session-Id (the run's UUID) and X-Coder-Agent-Firewall-Sequence-Number,
# the client's own values replaced; other paths and hosts get neither; every decision on an HTTP
# request takes a number, denials too; the audit records and the Coder agent (tests/lib/
# coder_agent.py) get the same session id and the same numbers; explicit targets (flag, config
# file, environment); the flag off; and the errors that stop a run before it starts.
# shellcheck disable=SC2086 # $CURL is a command line
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/jail.sh"
. "$(dirname "$0")/../lib/proxy.sh"
proxy_suite
unset CODER_AGENT_URL BOUNDARY_SESSION_CORRELATION_ENABLED BOUNDARY_SESSION_ID_INJECT_TARGET

R=$(shared_dir r)
LINES="python3 $STAGE/lib/session_lines.py"
UUID4='[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}'
BRIDGE=/api/v2/aibridge

# same DESC GOT WANT: ok when the two texts are the same, else shows both.
same() {
	if [ "$2" = "$3" ]; then ok "$1"; else
		fail "$1"
		diag "got:" "$2" "want:" "$3"
	fi
}

# echoed NAME...: "SESSION SEQ" for each answer $R/NAME.json (session_lines.py echo).
echoed() {
	local n files=()
	for n in "$@"; do files+=("$R/$n.json"); done
	$LINES echo "${files[@]}"
}

# --- the default target, from CODER_AGENT_URL --------------------------------------------------
# Sequential requests, so their numbers are known: a (0) b (1) c (2) d (3) e (4, denied) f (5), then
# g and h (6, 7) on one kept-alive connection. a, b, f, g and h go to the target, over HTTP and
# HTTPS (its port is not the URL's: the target is the host, any port); c is another path, d another
# host, both allowed.

agent_up main || exit 1
SPOOF=(-H "X-Coder-Agent-Firewall-Session-Id: spoofed" -H "x-coder-agent-firewall-sequence-number: 999")
cat >"$R/main.sh" <<SH
$CURL -o $R/a.json http://up.test:$P_HTTP$BRIDGE/openai/v1/chat/completions
$CURL -o $R/b.json $(printf "'%s' " "${SPOOF[@]}") https://up.test:$P_HTTPS$BRIDGE/anthropic/v1/messages
$CURL -o $R/c.json $(printf "'%s' " "${SPOOF[@]}") http://up.test:$P_HTTP/echo/other
$CURL -o $R/d.json https://api.up.test:$P_HTTPS$BRIDGE/openai/v1/models
$CURL -o /dev/null -w '%{http_code}' http://other.test:$P_HTTP$BRIDGE/x >$R/e.code
$CURL -o $R/f.json -X POST -d '{"model":"x"}' http://up.test:$P_HTTP$BRIDGE/openai/v1/chat/completions
$CURL -o $R/g.json http://up.test:$P_HTTP$BRIDGE/g -o $R/h.json http://up.test:$P_HTTP$BRIDGE/h
SH
t0=$(date +%s.%N)
CODER_AGENT_URL=http://up.test:$P_HTTP bnd --enable-session-correlation \
	--log-proxy-socket-path "$AGENT_SOCK" --audit-log "$TMPDIR_T/main-audit.jsonl" \
	--allow "domain=up.test" --allow "domain=api.up.test" -- sh "$R/main.sh"
sleep 0.2
check "the jailed command ran with session correlation on (exit 0)" [ "$rc" = 0 ]
[ "$rc" = 0 ] || diag "$log"
logged "boundary names the target CODER_AGENT_URL gives, and the session" "$log" \
	"info: session correlation: allowed requests that \"domain=up.test path=$BRIDGE/\\*\" matches get X-Coder-Agent-Firewall-Session-Id: $UUID4 and their sequence number"
session=$(grep -oE "X-Coder-Agent-Firewall-Session-Id: $UUID4" <<<"$log" | head -1 | cut -d' ' -f2)
agent_session=$(sed -nE 's/.*Coder agent.s socket .* \(session ([^)]+)\).*/\1/p' <<<"$log" | head -1)
check "one session id for the run: the agent's is the headers' (a version 4 UUID)" \
	matches "$session:$agent_session" "^($UUID4):\\1\$"

same "requests to the target get the run's session id and their own sequence number" \
	"$(echoed a b f g h)" "$(printf "$session %s\n" 0 1 5 6 7)"
same "another path and another host (both allowed) get neither field; the client's own pass" \
	"$(echoed c d)" "$(printf '%s\n' "spoofed 999" "- -")"
check "a denied request is refused, and takes its number (5 follows 3)" [ "$(cat "$R/e.code")" = 403 ]
check "the client's spoofed values do not reach the upstream beside boundary's" \
	not grep -qE 'spoofed|"999"' "$R/b.json"
json_method() { grep -q '"method": "POST"' "$R/f.json" && grep -q '"body_len": 13' "$R/f.json"; }
check "a POST to the target is forwarded whole" json_method

want_audit=$(
	printf 'request %s allow %s %s\n' \
		0 "http://up.test:$P_HTTP$BRIDGE/openai/v1/chat/completions" "$session" \
		1 "https://up.test:$P_HTTPS$BRIDGE/anthropic/v1/messages" "$session" \
		2 "http://up.test:$P_HTTP/echo/other" "$session" \
		3 "https://api.up.test:$P_HTTPS$BRIDGE/openai/v1/models" "$session"
	printf 'request 4 deny %s %s\n' "http://other.test:$P_HTTP$BRIDGE/x" "$session"
	printf 'request %s allow %s %s\n' \
		5 "http://up.test:$P_HTTP$BRIDGE/openai/v1/chat/completions" "$session" \
		6 "http://up.test:$P_HTTP$BRIDGE/g" "$session" \
		7 "http://up.test:$P_HTTP$BRIDGE/h" "$session"
)
same "the audit records carry the same session id and numbers, each request once" \
	"$($LINES audit "$TMPDIR_T/main-audit.jsonl" | grep '^request ')" "$want_audit"
ends() { [ "$($LINES audit "$TMPDIR_T/main-audit.jsonl" | grep -c "^end .* $session\$")" = 7 ]; }
check "each allowed exchange's end record has its request's number" ends
all_records() { ! grep -v "\"session_id\":\"$session\"" "$TMPDIR_T/main-audit.jsonl" | grep -q .; }
check "every audit record names the session" all_records

want_agent=$(sed -E 's/^request ([0-9]+) (allow|deny) /\1 \2 GET /' <<<"$want_audit" |
	sed -E 's/^5 allow GET /5 allow POST /')
same "the Coder agent gets the same numbers and session id" \
	"$($LINES agent "$AGENT_OUT")" "$want_agent"

# --- numbers from concurrent requests ------------------------------------------------------------
# Eight clients at once on their own connections: eight different numbers, 0 to 7.

cat >"$R/par.sh" <<SH
for i in 1 2 3 4 5 6 7 8; do
	$CURL -o $R/p\$i.json http://up.test:$P_HTTP$BRIDGE/p\$i &
done
wait
SH
CODER_AGENT_URL=http://up.test bnd --enable-session-correlation --disable-audit-logs \
	--allow "domain=up.test" -- sh "$R/par.sh"
seqs=$(echoed p1 p2 p3 p4 p5 p6 p7 p8 | cut -d' ' -f2 | sort -n | tr '\n' ' ')
same "concurrent requests get different numbers, none skipped" "$seqs" "0 1 2 3 4 5 6 7 "

# --- explicit targets: flag, config file, environment ---------------------------------------------

cat >"$R/explicit.sh" <<SH
$CURL -o $R/x1.json http://api.up.test:$P_HTTP/echo/bridge/1
$CURL -o $R/x2.json http://up.test:$P_HTTP$BRIDGE/x2
$CURL -o $R/x3.json http://up.test:$P_HTTP/echo/file/3
SH
cat >"$TMPDIR_T/session.yaml" <<EOF
session_correlation_enabled: true
session_id_inject_targets:
  - domain=up.test path=/echo/file/*
EOF
# CODER_AGENT_URL names a target only when none is given: here it is ignored.
CODER_AGENT_URL=http://up.test:$P_HTTP bnd --config "$TMPDIR_T/session.yaml" \
	--session-id-inject-target "domain=api.up.test path=/echo/bridge/*" \
	--allow "domain=up.test" --allow "domain=api.up.test" -- sh "$R/explicit.sh"
session=$(grep -oE "X-Coder-Agent-Firewall-Session-Id: $UUID4" <<<"$log" | head -1 | cut -d' ' -f2)
same "--session-id-inject-target and the config file's targets are the targets, not CODER_AGENT_URL" \
	"$(echoed x1 x2 x3)" "$(printf '%s\n' "$session 0" "- -" "$session 2")"
logged "boundary names both targets, the file's first" \
	"$(grep 'session correlation:' <<<"$log" | tr '\n' ' ')" \
	'"domain=up.test path=/echo/file/\*" matches .*"domain=api.up.test path=/echo/bridge/\*" matches'

BOUNDARY_SESSION_CORRELATION_ENABLED=true \
	BOUNDARY_SESSION_ID_INJECT_TARGET="domain=api.up.test path=/echo/bridge/*" \
	bnd --allow "domain=up.test" --allow "domain=api.up.test" -- sh "$R/explicit.sh"
same "the environment turns it on and names a target" \
	"$(echoed x1 x2 x3 | cut -d' ' -f2)" "$(printf '%s\n' 0 - -)"

# The brief's case: CODER_AGENT_URL with an IP address and a port; the rule names the address.
CODER_AGENT_URL=http://127.0.0.1:$P_HTTP/ bnd --enable-session-correlation \
	--allow "domain=127.0.0.1" -- $CURL -o "$R/ip.json" "http://127.0.0.1:$P_HTTP$BRIDGE/ip"
same "CODER_AGENT_URL naming an address (and a port) makes that address the target" \
	"$(echoed ip | cut -d' ' -f2)" 0

# --- off ---------------------------------------------------------------------------------------------

CODER_AGENT_URL=http://up.test:$P_HTTP bnd --session-id-inject-target "domain=up.test" \
	--allow "domain=up.test" -- $CURL -o "$R/off.json" "http://up.test:$P_HTTP$BRIDGE/off"
same "without --enable-session-correlation the targets change nothing" "$(echoed off)" "- -"
logged "and boundary says so" "$log" \
	"info: --session-id-inject-target changes nothing without --enable-session-correlation"

# --- errors: nothing runs -------------------------------------------------------------------------

bnd --enable-session-correlation --allow "domain=up.test" -- touch "$R/ran-1"
no_targets() {
	[ "$rc" = 125 ] && [ ! -e "$R/ran-1" ] &&
		grep -q "^boundary: session correlation is enabled but no inject targets are configured: name one with --session-id-inject-target" <<<"$log"
}
check "on with no target and no CODER_AGENT_URL: exit 125, nothing runs, what to do is said" no_targets
[ "$rc" = 125 ] || diag "exit $rc" "$log"

CODER_AGENT_URL=coder.example.com bnd --enable-session-correlation --allow "domain=up.test" -- \
	touch "$R/ran-2"
bad_url() {
	[ "$rc" = 125 ] && [ ! -e "$R/ran-2" ] &&
		grep -q 'CODER_AGENT_URL "coder.example.com" is not a URL with a host' <<<"$log"
}
check "a CODER_AGENT_URL with no host is said to be the trouble (exit 125)" bad_url

bnd --enable-session-correlation --session-id-inject-target "path=$BRIDGE/*" \
	--allow "domain=up.test" -- touch "$R/ran-3"
no_domain() {
	[ "$rc" = 125 ] && [ ! -e "$R/ran-3" ] && grep -q "an inject target needs a domain" <<<"$log"
}
check "a target without a domain: exit 125" no_domain

done_testing
