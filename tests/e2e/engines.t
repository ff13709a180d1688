#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# engines.t: httpjail's rule engines beside --rules-program, as root (issue 24).
#   --js: httpjail's documented rule shapes as a conformance table through --test (host, method,
#     path, scheme, deny_message, max_tx_bytes, the result forms); a compile error stops boundary
#     with exit 125 and the line and column; in a real jail, a runaway loop and a memory bomb are
#     denied within their budgets while other requests keep flowing, and reported at warn once.
#   --js-file: a changed file decides the next request; a broken change is reported and kept out.
#   --sh: exit 0 allows, stdout is the 403's text, a script past its timeout is killed and denies.
#
# $CURL is a command line (tests/lib/proxy.sh), split into words on purpose.
# shellcheck disable=SC2086
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/jail.sh"
. "$(dirname "$0")/../lib/proxy.sh"
proxy_suite

R=$(shared_dir r)

# --- --js through --test: the conformance table ------------------------------------------------

# expression ~ --test argument ~ the line boundary prints
while IFS='~' read -r js url line; do
	[ -z "$js" ] && continue
	run_b --js "$js" --test "$url"
	if [ "$out" = "$line" ]; then ok "--js $js: $url -> $line"; else
		fail "--js $js: $url"
		diag "got: $out" "want: $line" "stderr: $err"
	fi
done <<'TABLE'
r.host === 'github.com'~https://github.com/x~ALLOW GET https://github.com/x (--js rule)
r.host === 'github.com'~https://api.github.com/x~DENY GET https://api.github.com/x (--js rule)
r.host.endsWith('.github.com') || r.host === 'github.com'~https://api.github.com/~ALLOW GET https://api.github.com/ (--js rule)
r.host.endsWith('.github.com') || r.host === 'github.com'~https://evilgithub.com/~DENY GET https://evilgithub.com/ (--js rule)
r.method === 'GET' && r.host === 'api.github.com'~POST https://api.github.com/repos~DENY POST https://api.github.com/repos (--js rule)
r.method === 'GET' && r.host === 'api.github.com'~https://api.github.com/repos~ALLOW GET https://api.github.com/repos (--js rule)
r.path.startsWith('/api/')~http://x.test/api/v1?q=1~ALLOW GET http://x.test/api/v1?q=1 (--js rule)
r.path.startsWith('/api/')~http://x.test/web~DENY GET http://x.test/web (--js rule)
r.scheme === 'https'~http://x.test/~DENY GET http://x.test/ (--js rule)
r.scheme === 'https'~https://x.test/~ALLOW GET https://x.test/ (--js rule)
['a.test', 'b.test'].includes(r.host)~https://b.test/~ALLOW GET https://b.test/ (--js rule)
/^api\./.test(r.host) && r.url.includes('/v2/')~https://api.x.test/v2/y~ALLOW GET https://api.x.test/v2/y (--js rule)
r.port === 8443 && r.requester_ip !== undefined~https://x.test:8443/~ALLOW GET https://x.test:8443/ (--js rule)
({allow: false, deny_message: 'Blocked: ' + r.host})~https://x.test/~DENY GET https://x.test/ (--js rule: Blocked: x.test)
({deny_message: 'no message, no allow'})~https://x.test/~DENY GET https://x.test/ (--js rule: no message, no allow)
({allow: true, deny_message: 'ignored'})~https://x.test/~ALLOW GET https://x.test/ (--js rule)
({})~https://x.test/~ALLOW GET https://x.test/ (--js rule)
({allow: {max_tx_bytes: 1024}})~POST https://x.test/up~ALLOW POST https://x.test/up (--js rule; body at most 1024 bytes)
'true'~https://x.test/~ALLOW GET https://x.test/ (--js rule)
'nope'~https://x.test/~DENY GET https://x.test/ (--js rule: nope)
42~https://x.test/~DENY GET https://x.test/ (--js rule)
null~https://x.test/~DENY GET https://x.test/ (--js rule)
(function () { if (r.host === 'x.test') return true; return false; })()~https://x.test/~ALLOW GET https://x.test/ (--js rule)
TABLE

run_b --allow "domain=x.test" --js "false" --test https://x.test/ --test https://y.test/
contains "--js: what an allow rule admits never reaches the engine" "$out" \
	"ALLOW GET https://x.test/ (rule: domain=x.test)"
contains "--js: ... the rest does" "$out" "DENY GET https://y.test/ (--js rule)"
run_b --deny "domain=x.test" --js "true" --test https://x.test/
contains "--js: a deny rule decides before the engine" "$out" "(deny rule: domain=x.test)"

run_b --js "var a = 1;
  a +* 2" --test https://x.test/
expect_rc "--js: a compile error stops boundary (exit 125)" 125
contains "... with the line and the column" "$err" "--js:2:6: unexpected token in expression"
printf 'r.host ===\n' >"$R/bad.js"
run_b --js-file "$R/bad.js" --test https://x.test/
expect_rc "--js-file: a compile error stops boundary too" 125
contains "... naming the file" "$err" "$R/bad.js:"
run_b --js true --sh /bin/true --test https://x.test/
expect_rc "--js and --sh together are refused" 125
contains "... saying why" "$err" "both decide what the rules refuse"
run_b --proc /bin/cat --js true --test https://x.test/
expect_rc "--proc (httpjail's name of --rules-program) and --js together are refused" 125
run_b --js "console.log('seen', r.host); true" --log-level debug --test https://x.test/
contains "--js: console.log goes to boundary's debug log" "$err" "--js console: seen x.test"

# --- --js in a real jail: budgets ---------------------------------------------------------------

JS="r.path === '/echo/loop' ? (function () { while (true) {} })()
  : r.path === '/echo/bomb' ? (function () { var a = []; while (true) a.push('x' + a.length); })()
  : r.host === 'other.test'"
t0=$(date +%s)
AUD=$TMPDIR_T/js.jsonl
bnd --js "$JS" --js-budget 300 --js-memory 8 --audit-log "$AUD" --allow "domain=up.test" -- sh -c "
	c() { $CURL -o \$R/\$1 -w \"\$1: %{http_code} %{time_total}\n\" \$2; }
	R=$R
	c ok http://other.test:$P_HTTP/echo/ok
	c no http://third.test:$P_HTTP/echo/no
	c loop http://other.test:$P_HTTP/echo/loop &
	c bomb http://other.test:$P_HTTP/echo/bomb &
	sleep 0.05
	c during http://other.test:$P_HTTP/echo/during
	wait
	c loop2 http://other.test:$P_HTTP/echo/loop
	c after https://other.test:$P_HTTPS/echo/after"
t1=$(date +%s)
code() { result "$1" | cut -d' ' -f1; }
wantc() { if [ "$(code "$1")" = "$2" ]; then ok "$3"; else fail "$3"; diag "$(result "$1")" "$log"; fi; }
wantc ok 200 "--js in a jail: what the expression allows is served"
wantc no 403 "--js in a jail: what it refuses gets a 403"
wantc loop 403 "--js: a runaway loop is denied"
contains "... saying it ran past its time budget" "$(cat "$R/loop")" "time budget of 300 ms"
wantc bomb 403 "--js: a memory bomb is denied"
contains "... saying it went over a budget" "$(cat "$R/bomb")" "the --js rule"
wantc during 200 "--js: other requests keep flowing meanwhile"
quick() { awk -v t="$(result during | cut -d' ' -f2)" 'BEGIN { exit !(t < 1.0) }'; }
check "--js: ... without waiting for the runaway ($(result during | cut -d' ' -f2) s)" quick
wantc loop2 403 "--js: a second runaway is denied too"
wantc after 200 "--js: and the evaluator is back for the next request (HTTPS)"
check "--js: all of it took seconds, not minutes ($((t1 - t0)) s)" [ $((t1 - t0)) -lt 20 ]
warns=$(grep -c "keeps going over its budgets" <<<"$log")
check "--js: a policy that keeps going over its budgets is reported at warn once ($warns)" \
	[ "$warns" = 1 ]
check "--js: the upstream never saw a denied request" not grep -qE "/echo/(loop|bomb|no)" \
	"$UP/requests.log"
r=$(grep '"event":"request"' "$AUD" | grep -F '/echo/ok"' | head -1)
contains "--js: the record says an engine decided" "$r" '"decided_by":"program"'
contains "--js: ... and which" "$r" '"rule":"--js rule"'
run_b log summary "$AUD"
contains "log summary: it says when an engine made the decision" "$out" \
	"Decided by an engine, not the allow rules"
contains "log summary: ... for each host, and which engine" "$out" \
	"other.test:"
contains "log summary: ... naming the --js rule" "$out" "refused by the --js rule"
run_b log summary --format json "$AUD"
contains "log summary --format json: the engine's counts" "$out" '"engine":"--js rule"'

# httpjail's answer forms through a real jail: deny_message in the 403, max_tx_bytes as a 413.
bnd --js "r.path === '/echo/cap' ? ({allow: {max_tx_bytes: 16}})
  : ({allow: false, deny_message: 'js says no to ' + r.host + r.path})" -- sh -c "
	c() { $CURL -o \$R/\$1 -w \"\$1: %{http_code}\n\" \$2 \$3 \$4; }
	R=$R
	c msg https://other.test:$P_HTTPS/echo/msg
	c small http://other.test:$P_HTTP/echo/cap -d 0123456789
	c big http://other.test:$P_HTTP/echo/cap -d 0123456789abcdefghijklmnopqrstuvwxyz"
want msg 403 "--js in a jail: {allow: false, deny_message} denies (HTTPS)"
contains "--js in a jail: ... and the 403 says the message" "$(cat "$R/msg")" \
	"js says no to other.test/echo/msg"
want small 200 "--js in a jail: {allow: {max_tx_bytes: 16}} allows a body that fits"
want big 413 "--js in a jail: ... and refuses one past it with a 413"
check "--js in a jail: the upstream saw the request that fits, not the one past the cap" \
	[ "$(grep -c ' /echo/cap$' "$UP/requests.log")" = 1 ]

# --- --js-file: reload ---------------------------------------------------------------------------

printf "r.path !== '/echo/v2'\n" >"$R/rule.js"
(
	sleep 2
	printf "r.path !== '/echo/v1'\n" >"$R/rule.js"
	sleep 2
	printf "r.path !== +* '/echo/v1'\n" >"$R/rule.js"
) &
edit=$!
bnd --js-file "$R/rule.js" -- sh -c "
	c() { $CURL -o /dev/null -w \"\$1: %{http_code}\n\" \$2; }
	c a1 http://other.test:$P_HTTP/echo/v1
	sleep 3
	c a2 http://other.test:$P_HTTP/echo/v1
	c a3 http://other.test:$P_HTTP/echo/v2
	sleep 2
	c a4 http://other.test:$P_HTTP/echo/v2
	printf 'x' >>$R/rule.js 2>/dev/null && echo 'wrote: yes' || echo 'wrote: no'"
wait $edit
want a1 200 "--js-file: the first version decides"
want a2 403 "--js-file: a changed file decides the next request"
want a3 200 "--js-file: ... the whole of it"
want a4 200 "--js-file: a broken change is kept out: the last good version still decides"
logged "--js-file: ... and it is reported with its line and column" "$log" \
	"rule.js changed but does not compile \(.*rule.js:1:1[0-9]: "
want wrote no "--js-file: the jailed command cannot rewrite the policy file"

# --- --sh -----------------------------------------------------------------------------------------

cat >"$R/rule.sh" <<'SH'
#!/bin/sh
read -r line
case "$HTTPJAIL_HOST$HTTPJAIL_PATH" in
other.test/echo/ok*) exit 0 ;;
esac
case "$line" in *'"comm":"curl"'*) ;; *) echo "no curl in $line"; exit 1 ;; esac
[ "$HTTPJAIL_PATH" = /echo/slow ] && sleep 30
echo "sh says no to $HTTPJAIL_METHOD $HTTPJAIL_SCHEME://$HTTPJAIL_HOST$HTTPJAIL_PATH"
exit 1
SH
chmod 755 "$R/rule.sh"
t0=$(date +%s)
bnd --sh "$R/rule.sh" --sh-timeout 2 -- sh -c "
	c() { $CURL -o \$R/\$1 -w \"\$1: %{http_code}\n\" \$2; }
	R=$R
	c ok http://other.test:$P_HTTP/echo/ok
	c tls https://other.test:$P_HTTPS/echo/ok-tls
	c no http://other.test:$P_HTTP/echo/no
	c slow http://other.test:$P_HTTP/echo/slow
	c after http://other.test:$P_HTTP/echo/ok-after"
t1=$(date +%s)
want ok 200 "--sh: exit 0 allows"
want tls 200 "--sh: ... an intercepted HTTPS request too"
want no 403 "--sh: any other exit denies"
contains "--sh: its stdout is the 403's text (HTTPJAIL_METHOD, _SCHEME, _HOST, _PATH; stdin)" \
	"$(cat "$R/no")" \
	"sh says no to GET http://other.test/echo/no"
want slow 403 "--sh: a script past --sh-timeout is denied"
contains "... saying so" "$(cat "$R/slow")" "did not finish within 2 s"
want after 200 "--sh: and the next request is decided as usual"
check "--sh: the slow script was killed at its timeout ($((t1 - t0)) s)" [ $((t1 - t0)) -lt 20 ]

done_testing
