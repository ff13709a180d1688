#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# secrets.t: credentials the jail never holds (--secret), end to end, as root. The jailed
# command sees placeholders; real clients (curl, python urllib, node fetch, git) send them in
# headers, Basic credentials, queries, form, JSON and chunked bodies; the test upstream
# (tests/lib/upstream.py, /echo) must see the real value, and echo it back, where the client
# must see only the placeholder again. Sent to an allowed host the secret is not bound to, the
# placeholder is refused before that host gets the request, and recorded. The real value must
# appear in no log line, audit record or file the jailed command wrote; this suite never prints
# it either (no diag of anything that might hold it).
#
# $CURL and $PYC are command lines (tests/lib/proxy.sh), split into words on purpose.
# shellcheck disable=SC2086
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/jail.sh"
. "$(dirname "$0")/../lib/proxy.sh"

proxy_suite
R=$(shared_dir r)
AUD=$TMPDIR_T/audit.jsonl
NODE=$(command -v node)
NODE_CLIENT=$STAGE/lib/node_client.js
VALUE="sk-test-$(openssl rand -hex 16)"
VALUE2="tok2-$(openssl rand -hex 16)"
export API_KEY=$VALUE OTHER_TOKEN=$VALUE2
ECHO=$UP/echo.log
BLOCKED="🚫 Request Blocked by Boundary"

# echo_of PATH: the upstream's record of the request for PATH (one JSON line), as it came.
echo_of() { grep -F "\"path\": \"$1\"" "$ECHO" | tail -n 1; }
# has FILE TEXT / hasnt FILE TEXT: quiet greps, so that no value is ever printed.
has() { grep -qF -- "$2" "$1"; }
hasnt() { ! grep -qF -- "$2" "$1" 2>/dev/null; }
# upstream_saw PATH TEXT: the upstream's record of PATH holds TEXT.
upstream_saw() { echo_of "$1" | grep -qF -- "$2"; }
# client_saw NAME: the jailed client's copy of its echo holds the placeholder and not the value.
client_saw_placeholder() { has "$R/$1" "$PH" && hasnt "$R/$1" "$VALUE"; }

# A git repository behind Basic authentication (/gitauth/).
git_ready=false
if command -v git >/dev/null && [ -x "$(git --exec-path)/git-http-backend" ]; then
	(
		git init -q -b main "$TMPDIR_T/src" && cd "$TMPDIR_T/src" &&
			echo hello >f && git add f && git -c user.name=t -c user.email=t@t commit -qm one &&
			git clone -q --bare "$TMPDIR_T/src" "$UP/git/repo.git"
	) && git_ready=true
fi

# --- the bound host gets the value; the jail sees the placeholder -------------------------------

bnd --audit-log "$AUD" --secret "API_KEY domain=up.test" \
	--secret "OTHER_TOKEN domain=*.up.test,up.test header=X-Api-Key" \
	--allow "domain=up.test" --allow "domain=other.test" -- sh -c "
	printf '%s' \"\$API_KEY\" >$R/env
	$CURL -H \"Authorization: Bearer \$API_KEY\" https://up.test:$P_HTTPS/echo/bearer >$R/bearer
	CLIENT_HEADERS=\"x-custom-key: \$API_KEY\" $PYC urllib https://up.test:$P_HTTPS/echo/py >$R/py
	CLIENT_HEADERS=\"x-custom-key: \$API_KEY\" $PYC requests https://up.test:$P_HTTPS/echo/requests \
		\"{\\\"key\\\": \\\"\$API_KEY\\\"}\" >$R/requests
	$PYC urllib https://up.test:$P_HTTPS/echo/form POST \"key=\$API_KEY&x=1\" >$R/form
	$CURL -H 'Content-Type: application/json' -d \"{\\\"key\\\":\\\"\$API_KEY\\\"}\" \
		https://up.test:$P_HTTPS/echo/json >$R/json
	$CURL -H 'Content-Type: text/plain' -d \"\$API_KEY\" https://up.test:$P_HTTPS/echo/text >$R/text
	$CURL -u \"user:\$API_KEY\" http://up.test:$P_HTTP/echo/basic >$R/basic
	$CURL \"https://up.test:$P_HTTPS/echo/query?key=\$API_KEY&b=2\" >$R/query
	$CURL https://up.test:$P_HTTPS/echo/injected >$R/injected
	$CURL -H 'X-Api-Key: mine' https://up.test:$P_HTTPS/echo/overwritten >$R/overwritten
	half=\${#API_KEY}; half=\$((half / 2))
	a=\$(printf '{\"k\":\"%s' \"\$API_KEY\" | head -c \$((half + 8)))
	b=\$(printf '{\"k\":\"%s\"}' \"\$API_KEY\" | tail -c +\$((half + 9)))
	printf 'POST /echo/chunked HTTP/1.1\r\nHost: up.test:$P_HTTPS\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n%x\r\n%s\r\n%x\r\n%s\r\n0\r\n\r\n' \
		\${#a} \"\$a\" \${#b} \"\$b\" >$R/chunked.req
	$PYC raw --tls up.test $P_HTTPS $R/chunked.req >$R/chunked
	$CURL -H \"Authorization: Bearer \$API_KEY\" \"https://up.test:$P_HTTPS/echo/ch?chunked=1\" >$R/ch
	$CURL --http1.0 -H \"Authorization: Bearer \$API_KEY\" http://up.test:$P_HTTP/echo/h10 >$R/h10
	$CURL -H 'Content-Type: application/json' -d \"{\\\"a\\\":\\\"\$API_KEY\\\"}\" -o $R/ka1 \
		https://up.test:$P_HTTPS/echo/ka1 --next -H 'Content-Type: application/json' \
		-d \"{\\\"b\\\":\\\"\$API_KEY\\\"}\" -o $R/ka2 https://up.test:$P_HTTPS/echo/ka2
	$PYC ws wss://up.test:$P_HTTPS/ws >$R/ws 2>&1
	[ -n \"$NODE\" ] && $NODE $NODE_CLIENT fetch https://up.test:$P_HTTPS/echo/node x-custom-key \"\$API_KEY\" >$R/node
	if $git_ready; then
		git -c http.curloptResolve=up.test:$P_HTTPS:$TH4 -c credential.helper= clone -q \
			\"https://user:\$API_KEY@up.test:$P_HTTPS/gitauth/repo.git\" $R/clone >$R/git 2>&1
		echo \"git exit \$?\" >>$R/git
	fi
	true"
PH=$(cat "$R/env" 2>/dev/null)
check "the jailed command's API_KEY is a placeholder (boundary-secret-API_KEY- and 32 hex digits)" \
	matches "$PH" '^boundary-secret-API_KEY-[0-9a-f]{32}$'
check "a Bearer token in Authorization (curl): the upstream gets the value" \
	upstream_saw /echo/bearer "\"Bearer $VALUE\""
check "... and the echo of it reaches curl as the placeholder" client_saw_placeholder bearer
check "an x-custom-key field (python urllib): the upstream gets the value" \
	upstream_saw /echo/py "\"$VALUE\""
check "... the client sees the placeholder" client_saw_placeholder py
requests_ok() {
	upstream_saw /echo/requests "[\"x-custom-key\", \"$VALUE\"]" &&
		upstream_saw /echo/requests "$VALUE\\\"}" && client_saw_placeholder requests
}
check "python requests: a header and a JSON body get the value; the answer the placeholder" requests_ok
check "a form body (urllib POST): the value replaces the placeholder, the body goes chunked" \
	upstream_saw /echo/form "key=$VALUE&x=1"
check "... and the answer, which quotes it, comes back with the placeholder" client_saw_placeholder form
check "a JSON body (curl -d): the upstream gets the value" upstream_saw /echo/json "$VALUE"
check "a text/plain body is not a place for values: the placeholder goes as it is" \
	upstream_saw /echo/text "$PH"
check "Basic credentials (curl -u, plain HTTP): decoded, replaced, encoded again" \
	upstream_saw /echo/basic "Basic $(printf 'user:%s' "$VALUE" | base64 -w0)"
check "the query string: the upstream gets the value" upstream_saw /echo/query "key=$VALUE&b=2"
check "... and the placeholder comes back in the echoed target" client_saw_placeholder query
check "header= sets the field when the client sends none" upstream_saw /echo/injected "[\"X-Api-Key\", \"$VALUE2\"]"
check "header= replaces the client's own value" upstream_saw /echo/overwritten "[\"X-Api-Key\", \"$VALUE2\"]"
check "... and the echo of an injected value comes back as OTHER_TOKEN's placeholder" \
	has "$R/overwritten" "boundary-secret-OTHER_TOKEN-"
split_replaced() { upstream_saw /echo/chunked "$VALUE" && ! upstream_saw /echo/chunked "$PH"; }
check "a placeholder split across two chunks of a chunked JSON body is replaced whole" split_replaced
check "... and the raw client reads the echo with the placeholder" client_saw_placeholder chunked
ws_whole() { [[ "$(tr '\n' ' ' <"$R/ws")" == *"accept ok text ok binary ok pong ok close ok "* ]]; }
check "a WebSocket to the bound host works as ever through the engine its tunnel goes through" ws_whole
json_whole() { python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$R/$1"; }
chunked_back() { client_saw_placeholder ch && json_whole ch; }
check "a chunked response cut every 7 bytes, the value across cuts: the client gets the placeholder" \
	chunked_back
h10_back() { client_saw_placeholder h10 && json_whole h10; }
check "an HTTP/1.0 client gets the answer, placeholder in place, ended by the close" h10_back
kept_alive() {
	upstream_saw /echo/ka1 "$VALUE" && upstream_saw /echo/ka2 "$VALUE" &&
		client_saw_placeholder ka1 && client_saw_placeholder ka2
}
check "two re-framed exchanges one after the other on one connection" kept_alive
if [ -z "$NODE" ]; then
	skip "node is not installed (Debian package nodejs)"
else
	check "node fetch with an x-custom-key header: the upstream gets the value" \
		upstream_saw /echo/node "\"$VALUE\""
fi
git_auth_ok() {
	has "$R/git" "git exit 0" && [ -s "$R/clone/f" ] &&
		grep -qF "Basic $(printf 'user:%s' "$VALUE" | base64 -w0)" "$UP/auth.log"
}
if $git_ready; then
	check "git clone with the token in the URL: the server checks the real credentials" git_auth_ok
else
	skip "git http-backend is not installed"
fi

# --- anywhere else, the placeholder is refused --------------------------------------------------

: >"$UP/requests.log"
BIG=$TMPDIR_T/big
BND_LOG_LEVEL=debug bnd --audit-log "$AUD" --secret "API_KEY domain=up.test" \
	--allow "domain=up.test" --allow "domain=other.test" -- sh -c "
	pct=\$(printf '%s' \"\$API_KEY\" | sed 's/^b/%62/')
	b64=\$(printf 'x=%s' \"\$API_KEY\" | base64 -w0)
	upper=\$(printf '%s' \"\$API_KEY\" | tr a-z A-Z)
	for t in header query pct b64 upper json text basic ws; do
		case \$t in
		header) set -- -H \"X-Key: \$API_KEY\" https://other.test:$P_HTTPS/echo/x-header ;;
		query) set -- \"https://other.test:$P_HTTPS/echo/x-query?k=\$API_KEY\" ;;
		pct) set -- \"https://other.test:$P_HTTPS/echo/x-pct?k=\$pct\" ;;
		b64) set -- -H \"X-Data: \$b64\" https://other.test:$P_HTTPS/echo/x-b64 ;;
		upper) set -- \"https://other.test:$P_HTTPS/echo/x-upper?K=\$upper\" ;;
		json) set -- -H 'Content-Type: application/json' -d \"{\\\"k\\\":\\\"\$API_KEY\\\"}\" \
			https://other.test:$P_HTTPS/echo/x-json ;;
		text) set -- -d \"\$API_KEY\" https://other.test:$P_HTTPS/echo/x-text ;;
		basic) set -- -u \"u:\$API_KEY\" http://other.test:$P_HTTP/echo/x-basic ;;
		ws) set -- -H 'Connection: Upgrade' -H 'Upgrade: websocket' -H 'Sec-WebSocket-Version: 13' \
			-H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==' -H \"X-Key: \$API_KEY\" \
			https://other.test:$P_HTTPS/ws ;;
		esac
		$CURL -o $R/x-\$t -w '%{http_code}' \"\$@\" >$R/x-\$t.code
	done
	{ printf '%0200000d' 0; printf '%s' \"\$API_KEY\"; } >$R/big
	$CURL -o $R/x-big -w '%{http_code}' --data-binary @$R/big https://other.test:$P_HTTPS/echo/x-big >$R/x-big.code 2>&1
	printf '%s' \"\$API_KEY\" >$R/env2
	$CURL -o /dev/null -w '%{http_code}' https://up.test:$P_HTTPS/echo/still >$R/still.code
	true"
PH2=$(cat "$R/env2" 2>/dev/null)
check "a new run gets a new placeholder" not test "$PH" = "$PH2"
for t in header query pct b64 upper json text basic ws; do
	refused() {
		[ "$(cat "$R/x-$t.code" 2>/dev/null)" = 403 ] &&
			has "$R/x-$t" "secret API_KEY sent to other.test" &&
			! grep -q "^B .*x-$t\|^B GET /ws" "$UP/requests.log"
	}
	case $t in
	header) what="in a header field" ;;
	query) what="in the query" ;;
	pct) what="percent-encoded in the query" ;;
	b64) what="base64'd in a header field" ;;
	upper) what="upper-cased in the query" ;;
	json) what="in a JSON body" ;;
	text) what="in a text body" ;;
	basic) what="base64'd in Basic credentials" ;;
	ws) what="in a WebSocket upgrade" ;;
	esac
	check "the placeholder $what, to another allowed host: 403, and that host gets no request" refused
done
big_cut() {
	[ "$(head -c 3 "$R/x-big.code")" != 200 ] && ! echo_of /echo/x-big | grep -q . &&
		! grep -qF "$PH2" "$UP/requests.log"
}
check "... at the end of a 200 kB body: the request is cut before the placeholder goes out" big_cut
check "the refused client is told which secret and how to allow it" \
	has "$R/x-header" "add domain=other.test to its --secret"
check "the bound host is still served in the same run" test "$(cat "$R/still.code")" = 200
check "each refusal is a warning naming the secret" grep -qE \
	"DENY GET https://other.test:$P_HTTPS/echo/x-header from curl\[[0-9]+\]: secret API_KEY sent to other.test" "$TMPDIR_T/bnd.log"
audit_denials() {
	[ "$(grep -c '"decision":"deny".*"reason":"secret API_KEY sent to other.test"' "$AUD")" -ge 10 ]
}
check "each refusal is an audit record: decision deny, reason \"secret API_KEY sent to other.test\"" audit_denials

# --dry-run lets through what the rules refuse, never a placeholder to the wrong host.
bnd --dry-run --secret "API_KEY domain=up.test" -- sh -c "
	$CURL -o /dev/null -w '%{http_code}' -H \"X-Key: \$API_KEY\" https://other.test:$P_HTTPS/echo/x-dry"
check "--dry-run does not let a placeholder out to another host" test "$out" = 403

# --proxy-port: absolute-form and CONNECT from the jail's own explicit-proxy clients.
PP=$(free_ports 1)
bnd --proxy-port "$PP" --secret "API_KEY domain=up.test" --allow "domain=up.test" \
	--allow "domain=other.test" -- sh -c "
	printf '%s' \"\$API_KEY\" >$R/env3
	x() { curl -sS --max-time 20 -x http://127.0.0.1:$PP -H \"Authorization: Bearer \$API_KEY\" \"\$@\"; }
	x http://up.test:$P_HTTP/echo/xabs >$R/xabs
	x https://up.test:$P_HTTPS/echo/xconnect >$R/xconnect
	x -o /dev/null -w '%{http_code}' https://other.test:$P_HTTPS/echo/xconnect-other >$R/xother"
explicit_ok() {
	local PH
	PH=$(cat "$R/env3")
	upstream_saw /echo/xabs "Bearer $VALUE" && client_saw_placeholder xabs &&
		upstream_saw /echo/xconnect "Bearer $VALUE" && client_saw_placeholder xconnect
}
check "--proxy-port: absolute-form and CONNECT requests get the value put in, and back out" explicit_ok
explicit_refused() { [ "$(cat "$R/xother")" = 403 ] && ! echo_of /echo/xconnect-other | grep -q .; }
check "--proxy-port: inside a CONNECT tunnel to another host, the placeholder is refused" \
	explicit_refused

# boundary serve: no command to give a placeholder to, so header= is the way.
bnd_bg srv serve --listen 127.0.0.1:0 --secret "OTHER_TOKEN domain=up.test header=X-Api-Key" \
	--allow "domain=up.test"
SPORT=""
for _ in $(seq 200); do
	SPORT=$(sed -nE '1s/^boundary serve: listening on [^ ]*:([0-9]+).*/\1/p' "$TMPDIR_T/srv.out" 2>/dev/null)
	[ -n "$SPORT" ] && break
	kill -0 "$BND_PID" 2>/dev/null || break
	sleep 0.05
done
curl -sS --max-time 20 -x "http://127.0.0.1:$SPORT" --cacert "$TMPDIR_T/xdg/coder_boundary/ca-cert.pem" \
	"https://up.test:$P_HTTPS/echo/served" >"$R/served" 2>&1
kill "$BND_PID" 2>/dev/null
wait "$BND_PID" 2>/dev/null
served_ok() {
	upstream_saw /echo/served "[\"X-Api-Key\", \"$VALUE2\"]" &&
		has "$R/served" "boundary-secret-OTHER_TOKEN-" && hasnt "$R/served" "$VALUE2"
}
check "boundary serve: header= sets the field, and the echo comes back with the placeholder" served_ok
check "boundary serve: its log never holds the value" \
	hasnt "$TMPDIR_T/srv.log" "$VALUE2"

# --interactive: the question shows the placeholder, and the answer lets the value go.
cat >"$TMPDIR_T/steps" <<'STEPS'
expect allow other.test? [once/always/deny]
send once
expect ASKED-DONE
STEPS
bnd_argv --interactive --audit-log "$AUD" --secret "API_KEY domain=other.test" -- sh -c "
	$CURL -o /dev/null -w 'CODE=%{http_code}.\n' \"http://other.test:$P_HTTP/echo/asked?k=\$API_KEY\"
	echo ASKED-DONE"
timeout -k 5 90 python3 "$STAGE/lib/pty_drive.py" "$TMPDIR_T/steps" "$TMPDIR_T/tty.out" -- \
	"${BND_ARGV[@]}" >/dev/null 2>&1
asked_right() {
	grep -q "CODE=200\." "$TMPDIR_T/tty.out" && grep -q "boundary-secret-API_KEY-" "$TMPDIR_T/tty.out" &&
		hasnt "$TMPDIR_T/tty.out" "$VALUE" && upstream_saw /echo/asked "k=$VALUE"
}
check "--interactive asks with the placeholder in the URL, never the value; \"once\" sends the value" \
	asked_right

# `boundary log summary`: refusals of placeholders are told apart, never turned into --allow.
"$BOUNDARY" log summary "$AUD" >"$TMPDIR_T/summary" 2>&1
summary_right() {
	has "$TMPDIR_T/summary" "other.test: " && has "$TMPDIR_T/summary" "secret API_KEY" &&
		hasnt "$TMPDIR_T/summary" '--allow "domain=other.test"' &&
		hasnt "$TMPDIR_T/summary" "$VALUE"
}
check "log summary lists the placeholders refused per host and suggests no --allow for them" summary_right

# A crash: boundary holds values, so it is not dumpable: no core file, no value on stderr.
CORE=$TMPDIR_T/core
mkdir -p "$CORE"
core_control() { (cd "$CORE" && ulimit -c unlimited && sh -c 'kill -SEGV $$') >/dev/null 2>&1; ls "$CORE" | grep -q core; }
if [ "$(head -c 1 /proc/sys/kernel/core_pattern)" = "|" ] || ! core_control 2>/dev/null; then
	skip "core files are not written to the working directory here (core_pattern $(cat /proc/sys/kernel/core_pattern))"
else
	rm -f "$CORE"/core*
	(
		cd "$CORE" && ulimit -c unlimited &&
			bnd_bg crash --secret "API_KEY domain=up.test" --allow "domain=up.test" -- sleep 30 &&
			sleep 1 && kill -SEGV "$BND_PID" && wait "$BND_PID"
	) >/dev/null 2>&1
	no_core() { ! ls "$CORE" | grep -q core && hasnt "$TMPDIR_T/crash.log" "$VALUE" && hasnt "$TMPDIR_T/crash.out" "$VALUE"; }
	check "a crash of boundary while it holds a value leaves no core file, and no value on its output" no_core
	"$BOUNDARY" cleanup >/dev/null 2>&1
fi

# --- the value is nowhere ------------------------------------------------------------------------

value_nowhere() {
	hasnt "$TMPDIR_T/bnd.log" "$VALUE" && hasnt "$AUD" "$VALUE" && hasnt "$AUD" "$VALUE2" &&
		hasnt "$TMPDIR_T/tty.out" "$VALUE" &&
		! grep -rqF -- "$VALUE" "$R" 2>/dev/null && ! grep -rqF -- "$VALUE2" "$R" 2>/dev/null
}
check "the real values are in no log line (debug), audit record or file the jail wrote" value_nowhere
check "the audit records carry the placeholder's requests by URL, placeholder and all" \
	has "$AUD" "/echo/query?key=$PH&b=2"

done_testing
