#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# deny.t: deny rules through real jails. A request any --deny rule matches is refused even when
# an allow rule matches it too; the 403, the log line and the audit record name the deny rule;
# nothing reaches the upstream; deny rules narrow by method=, path= and port=, refuse stream
# connections and names (--use-real-dns), come from the config file's deny: list and from
# BOUNDARY_DENY, and are not second-guessed by a rules program. --dry-run still lets them through,
# marked.
#
# $CURL is a command line (tests/lib/proxy.sh), split into words on purpose.
# shellcheck disable=SC2086
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/jail.sh"
. "$(dirname "$0")/../lib/proxy.sh"
proxy_suite

R=$(shared_dir r)
AUD=$TMPDIR_T/deny.jsonl
# The servers live on loopback: a wildcard rule reaches them only through an ip= that says so.
ANY="domain=*.test ip=127.0.0.0/8,::1"
seen() { grep -c -- "$1" "$UP/requests.log"; }

# --- precedence: a deny rule beats the allow rules, whichever comes first ------------------------

bnd --audit-log "$AUD" --deny "domain=other.test" --allow "$ANY" --allow "domain=other.test" -- sh -c "
	$CURL -o $R/b1 -w 'up: %{http_code}\n' http://up.test:$P_HTTP/echo/deny-up
	$CURL -o $R/b2 -w 'other: %{http_code}\n' http://other.test:$P_HTTP/echo/deny-other
	$CURL -o $R/b3 -w 'other-tls: %{http_code}\n' https://other.test:$P_HTTPS/echo/deny-other-tls"
want up 200 "a host no deny rule matches is served (the allow rule decides)"
want other 403 "a host a deny rule matches is refused, though two allow rules match it"
want other-tls 403 "... over intercepted TLS too"
check "the upstream saw none of the denied requests" [ "$(seen /echo/deny-other)" = 0 ]
contains "the 403 names the deny rule" "$(cat "$R/b2")" 'Why: the deny rule "domain=other.test" matches it'
contains "the 403 says how to let it through (not an --allow line)" "$(cat "$R/b2")" \
	"remove or narrow that rule"
lacks "the 403 does not propose an --allow line, which could not help" "$(cat "$R/b2")" '--allow "domain='
logged "the log line names the deny rule" "$log" \
	'DENY GET http://other.test:[0-9]+/echo/deny-other from curl\[[0-9]+\]: the deny rule "domain=other.test" matches it'
rec=$(grep '"event":"request"' "$AUD" | grep -F '/echo/deny-other"' | head -1)
contains "the audit record is a deny" "$rec" '"decision":"deny"'
contains "the audit record names the deny rule" "$rec" '"rule":"domain=other.test"'

# --- narrowed by method=, path= and port= --------------------------------------------------------

bnd --allow "domain=up.test" --deny "method=DELETE,PUT domain=up.test" \
	--deny "domain=up.test path=/echo/admin/*" --deny "domain=up.test port=$P_HTTPS" -- sh -c "
	$CURL -o /dev/null -w 'get: %{http_code}\n' http://up.test:$P_HTTP/echo/m-get
	$CURL -o /dev/null -w 'delete: %{http_code}\n' -X DELETE http://up.test:$P_HTTP/echo/m-delete
	$CURL -o /dev/null -w 'admin: %{http_code}\n' http://up.test:$P_HTTP/echo/admin/users
	$CURL -o /dev/null -w 'dots: %{http_code}\n' --path-as-is http://up.test:$P_HTTP/echo/x/../admin/users
	$CURL -o /dev/null -w 'public: %{http_code}\n' http://up.test:$P_HTTP/echo/public
	$CURL -o /dev/null -w 'tls: %{http_code}\n' https://up.test:$P_HTTPS/echo/m-tls"
want get 200 "deny method=DELETE,PUT: a GET passes"
want delete 403 "deny method=DELETE,PUT: a DELETE is refused"
want admin 403 "deny path=/echo/admin/*: the path is refused"
want dots 403 "deny path=: a dot-segment detour is normalised first, and refused"
want public 200 "deny path=: another path passes"
want tls 403 "deny port=: the port it names is refused (https here)"
check "the upstream saw none of the refused ones" \
	[ "$(($(seen /echo/m-delete) + $(seen /echo/admin/) + $(seen /echo/m-tls)))" = 0 ]

# --- stream connections --------------------------------------------------------------------------

before=$(conns B)
bnd --allow "domain=other.test port=$P_HTTP" --deny "domain=other.test" -- \
	python3 "$STAGE/lib/stream_client.py" nothttp other.test "$P_HTTP"
check "a stream rule's connection is refused by a deny rule (no connection reached B)" \
	[ "$(conns B)" = "$before" ]
logged "the log names the deny rule for the stream" "$log" \
	"DENY tcp://other.test:$P_HTTP from python3\\[[0-9]+\\]: .*the deny rule \"domain=other.test\" refuses"

# --- names: with --use-real-dns, a name a deny rule refuses whole never reaches a resolver -----

echo "nameserver 127.0.0.78" >"$UP/resolv.conf"
host_resolver_up 127.0.0.1 ::1
bnd --use-real-dns --allow "$ANY" --deny "domain=other.test" --deny "domain=up.test port=1" -- sh -c '
	echo "other: $(getent ahostsv4 other.test | head -1 | cut -d" " -f1)"
	echo "up: $(getent ahostsv4 up.test | head -1 | cut -d" " -f1)"'
synthetic() { [[ $(result other) == 198.1[89].* ]]; }
check "DNS: a name a deny rule refuses gets a synthetic answer ($(result other))" synthetic
check "DNS: ... and the host's resolver never saw it" not grep -q other.test "$UP/dns.log"
want up 127.0.0.1 "DNS: a deny rule with port= does not refuse the name: it is resolved"
echo "nameserver 127.0.0.1" >"$UP/resolv.conf"

# --- the config file's deny: list, and BOUNDARY_DENY --------------------------------------------

mkdir -p "$TMPDIR_T/cfg"
printf 'allowlist:\n  - "domain=up.test"\ndeny:\n  - "domain=up.test path=/echo/cfg-denied"\n' \
	>"$TMPDIR_T/cfg/config.yaml"
BOUNDARY_DENY="domain=up.test path=/echo/env-denied" bnd --config "$TMPDIR_T/cfg/config.yaml" -- sh -c "
	$CURL -o /dev/null -w 'ok: %{http_code}\n' http://up.test:$P_HTTP/echo/cfg-ok
	$CURL -o /dev/null -w 'cfg: %{http_code}\n' http://up.test:$P_HTTP/echo/cfg-denied
	$CURL -o /dev/null -w 'env: %{http_code}\n' http://up.test:$P_HTTP/echo/env-denied"
want ok 200 "config: what no deny rule matches is served"
want cfg 403 "config: the file's deny: list refuses"
want env 403 "BOUNDARY_DENY refuses"
printf 'deny:\n  - "domain=up.test:80"\n' >"$TMPDIR_T/cfg/bad.yaml"
run_b --config "$TMPDIR_T/cfg/bad.yaml" --allow "domain=up.test" -- true
expect_rc "a deny rule that does not parse stops boundary" 125
contains "... with the file, line and column" "$err" "bad.yaml:2:5"
contains "... and the rule's own error" "$err" "a port cannot be part of domain"

# --- a reload picks up the file's deny: list ----------------------------------------------------

printf 'allowlist:\n  - "domain=up.test"\nlog_level: info\n' >"$TMPDIR_T/cfg/reload.yaml"
bnd_bg rl --config "$TMPDIR_T/cfg/reload.yaml" -- sh -c "
	$CURL -o /dev/null -w 'before: %{http_code}\n' http://up.test:$P_HTTP/echo/rl-before
	while [ ! -e $R/go ]; do sleep 0.05; done
	$CURL -o /dev/null -w 'after: %{http_code}\n' http://up.test:$P_HTTP/echo/rl-after"
for _ in $(seq 200); do grep -q '^before:' "$TMPDIR_T/rl.out" 2>/dev/null && break; sleep 0.05; done
printf 'allowlist:\n  - "domain=up.test"\ndeny:\n  - "domain=up.test path=/echo/rl-after"\nlog_level: info\n' \
	>"$TMPDIR_T/cfg/reload.new" && mv "$TMPDIR_T/cfg/reload.new" "$TMPDIR_T/cfg/reload.yaml"
for _ in $(seq 200); do grep -q 'rules reloaded' "$TMPDIR_T/rl.log" 2>/dev/null && break; sleep 0.05; done
touch "$R/go"
wait "$BND_PID"
out=$(cat "$TMPDIR_T/rl.out")
want before 200 "reload: before the file changed, the request is served"
want after 403 "reload: a deny rule added to the file refuses from then on"
logged "reload: the log counts the file's rules, deny rules included" "$(cat "$TMPDIR_T/rl.log")" \
	"rules reloaded: 2 rules from"

# --- a rules program is not asked to overrule a deny rule; --dry-run lets it through, marked ----

PROG_LOG=$TMPDIR_T/prog.log
: >"$PROG_LOG"
bnd --rules-program "python3 $STAGE/lib/rules_program.py $PROG_LOG" --deny "domain=up.test" -- sh -c "
	$CURL -o /dev/null -w 'prog: %{http_code}\n' http://up.test:$P_HTTP/echo/ok-denied"
want prog 403 "a rules program that would allow it is not asked: the deny rule decides"
check "the rules program saw no request ($(wc -l <"$PROG_LOG"))" [ ! -s "$PROG_LOG" ]

: >"$AUD"
bnd --dry-run --audit-log "$AUD" --allow "domain=up.test" --deny "domain=up.test" -- sh -c "
	$CURL -o /dev/null -w 'dry: %{http_code}\n' http://up.test:$P_HTTP/echo/dry-denied"
want dry 200 "--dry-run: what a deny rule refuses goes out"
rec=$(grep '"event":"request"' "$AUD" | grep -F '/echo/dry-denied"' | head -1)
contains "--dry-run: marked would_deny, with the deny rule's reason" "$rec" '"would_deny":true'
contains "--dry-run: ... naming the rule" "$rec" 'a deny rule matches'

# --- --test says which rule decided --------------------------------------------------------------

run_b --allow "domain=*" --deny "domain=*.evil.test" --test https://a.evil.test/x --test https://good.test/
want_test() { [ "$out" = "DENY GET https://a.evil.test/x (deny rule: domain=*.evil.test)
ALLOW GET https://good.test/ (rule: domain=*)" ]; }
check "--test names the deny rule that decided ($out)" want_test
expect_rc "--test exits 1 when one was refused" 1

done_testing
