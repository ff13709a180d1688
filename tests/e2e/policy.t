#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# policy.t: the second opinion on what the allow rules refuse, end to end, as root.
#   --dry-run: everything goes out, the would-be refusals are logged and recorded
#     ("would_deny":true), and `boundary log summary` proposes the --allow lines for them.
#   --rules-program: a python program allows by path, denies with a message (the 403 carries
#     it), sleeps past the timeout (denied, logged, restarted) and crashes (restarted, denied
#     meanwhile, logged); requests the rules allow never reach it.
#   --interactive: the person at the terminal answers once, always or deny (tests/lib/pty_drive.py).
#   Both with --audit-log: what either decided is recorded with "decided_by":"program" or
#     "person" (docs/RULES.md), what a rule allowed without it.
#
# $CURL is a command line (tests/lib/proxy.sh), split into words on purpose.
# shellcheck disable=SC2086
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/jail.sh"
. "$(dirname "$0")/../lib/proxy.sh"
proxy_suite

R=$(shared_dir r)
AUD=$TMPDIR_T/dry.jsonl
field() { sed -nE "s/.*\"$1\":(\"[^\"]*\"|[0-9]+|true|false).*/\\1/p" <<<"$2" | tr -d '"'; }
rec() { grep '"event":"request"' "$1" | grep -F "$2\"" | head -1; }

# --- --dry-run --------------------------------------------------------------------------------

b_before=$(conns B)
bnd --dry-run --audit-log "$AUD" --allow "domain=up.test" -- sh -c "
	$CURL -o /dev/null -w 'allowed: %{http_code}\n' http://up.test:$P_HTTP/echo/dry-allowed
	$CURL -o /dev/null -w 'plain: %{http_code}\n' http://other.test:$P_HTTP/echo/dry-plain
	$CURL -o /dev/null -w 'tls: %{http_code}\n' https://other.test:$P_HTTPS/echo/dry-tls
	python3 $STAGE/lib/stream_client.py nothttp other.test $P_HTTP"
want allowed 200 "--dry-run: what the rules allow goes out"
want plain 200 "--dry-run: what the rules refuse goes out too (HTTP)"
want tls 200 "--dry-run: ... and over intercepted TLS"
both_dry_seen() { grep -q "/echo/dry-plain" "$UP/requests.log" && grep -q "/echo/dry-tls" "$UP/requests.log"; }
check "--dry-run: the upstream saw both refused requests" both_dry_seen
spliced() { [ "$(conns B)" -ge $((b_before + 3)) ] && [[ $out == *RAW-DONE* ]]; }
check "--dry-run: a connection that is not HTTP is spliced to where it was going" spliced
logged "--dry-run: the banner says nothing is blocked" "$log" 'NOTHING IS BLOCKED'
logged "--dry-run: the log names each would-be refusal" "$log" \
	'DRY-RUN would deny GET http://other.test:[0-9]+/echo/dry-plain from curl\[[0-9]+\]: no rule matches'
logged "--dry-run: ... and the connection that is not HTTP" "$log" \
	'DRY-RUN would deny tcp://other.test:[0-9]+ from python3'
logged "--dry-run: at the end it says how to get the allowlist" "$log" \
	"boundary log summary $AUD"
r=$(rec "$AUD" /echo/dry-plain)
contains "--dry-run: the record is an allow" "$r" '"decision":"allow"'
contains "--dry-run: marked would_deny, with the rules' reason" "$r" \
	'"reason":"no rule matches","would_deny":true'
r=$(rec "$AUD" /echo/dry-allowed)
unmarked() { [[ $r == *'"rule":"domain=up.test"'* && $r != *would_deny* ]]; }
check "--dry-run: what a rule allows is not marked" unmarked
r=$(grep '"event":"request"' "$AUD" | grep '"kind":"tcp"' | head -1)
contains "--dry-run: the stream's record is marked too" "$r" '"would_deny":true'
run_b log summary "$AUD"
expect_rc "log summary of a --dry-run log exits 0" 0
contains "log summary has a WOULD-REFUSE column" "$out" "WOULD-REFUSE"
contains "log summary proposes the host the rules refused" "$out" '--allow "domain=other.test"'
contains "log summary proposes the stream's rule" "$out" \
	"--allow \"domain=other.test port=$P_HTTP\""
lacks "log summary proposes nothing for what a rule allowed" "$out" '--allow "domain=up.test"'
run_b log summary --format json "$AUD"
check "log summary --format json counts would_refuse" \
	python3 -c "import json,sys; d=json.loads(sys.argv[1]); h=[x for x in d[\"hosts\"] if x[\"host\"]==\"other.test\" and x[\"port\"] is None][0]; assert h[\"would_refuse\"]==2 and h[\"refused\"]==0 and h[\"allow\"]==\"domain=other.test\", h" "$out"

run_b --dry-run --rules-program /bin/cat -- true
expect_rc "--dry-run with --rules-program is refused" 125
contains "... saying why" "$err" "nothing for --rules-program to decide"
run_b --interactive --rules-program /bin/cat -- true
expect_rc "--interactive with --rules-program is refused" 125

# --- --rules-program ------------------------------------------------------------------------

PLOG=$TMPDIR_T/prog.log
PAUD=$TMPDIR_T/prog.jsonl
t0=$(date +%s)
bnd --audit-log "$PAUD" --rules-program "python3 $STAGE/lib/rules_program.py $PLOG" \
	--allow "domain=up.test" -- \
	sh -c "
	c() { $CURL -o \$TMPDIR_R/\$1 -w \"\$1: %{http_code}\n\" \$2; }
	TMPDIR_R=$R
	c rule http://up.test:$P_HTTP/echo/p-rule
	c ok http://other.test:$P_HTTP/echo/ok-1
	c obj http://other.test:$P_HTTP/echo/obj
	c no http://other.test:$P_HTTP/echo/no
	c tls https://other.test:$P_HTTPS/echo/ok-tls
	c crash http://other.test:$P_HTTP/echo/crash
	c after_crash http://other.test:$P_HTTP/echo/ok-after-crash
	c slow http://other.test:$P_HTTP/echo/slow
	c after_slow http://other.test:$P_HTTP/echo/ok-after-slow"
t1=$(date +%s)
want rule 200 "rules program: what the rules allow is served"
check "rules program: ... and never reaches the program" not grep -q p-rule "$PLOG"
want ok 200 "rules program: true allows"
want obj 200 "rules program: {\"allow\": true} allows"
want no 403 "rules program: a deny_message denies"
contains "rules program: the 403 carries the program's message" "$(cat "$R/no")" \
	"prog says no to other.test"
want tls 200 "rules program: an intercepted HTTPS request is asked about too"
first=$(grep -F '/echo/ok-1' "$PLOG" | head -1)
check "rules program: one JSON line per request with httpjail's fields and port, pid, comm" \
	python3 -c "import json,sys; r=json.loads(sys.argv[1].split(\" \",1)[1]); assert r[\"method\"]==\"GET\" and r[\"host\"]==\"other.test\" and r[\"path\"]==\"/echo/ok-1\" and r[\"scheme\"]==\"http\" and r[\"url\"].endswith(\"/echo/ok-1\") and r[\"port\"]==$P_HTTP and r[\"pid\"]>0 and r[\"comm\"]==\"curl\" and \"requester_ip\" in r, r" "$first"
check "rules program: one long-lived process answers them all" \
	[ "$(grep -vE "crash|slow|after" "$PLOG" | cut -d" " -f1 | sort -u | wc -l)" = 1 ]
want crash 403 "rules program: a program that crashes denies that request"
logged "rules program: the crash is logged" "$log" \
	'rules program .* on GET http://other.test:[0-9]+/echo/crash: it closed its output'
want after_crash 200 "rules program: after a crash it is started again and answers"
want slow 403 "rules program: a program that does not answer in time denies"
logged "rules program: the timeout is logged" "$log" 'did not answer within 5000 ms'
want after_slow 200 "rules program: after a timeout it is started again and answers"
check "rules program: it restarted (three processes answered)" \
	[ "$(cut -d" " -f1 "$PLOG" | sort -u | wc -l)" -ge 3 ]
check "rules program: the slow request took two timeouts, no more ($((t1 - t0)) s in all)" \
	[ $((t1 - t0)) -lt 30 ]
expect_rc "rules program: the command's exit status comes back" 0
# The records say who decided (docs/RULES.md): the program, for what it allowed and refused, and
# nobody but the rules for what a rule allowed.
r=$(rec "$PAUD" /echo/ok-1)
contains "rules program: what it allows is recorded with decided_by program" "$r" \
	'"decided_by":"program"'
contains "rules program: ... an allow, whose rule says the rules program" "$r" \
	'"decision":"allow"'
r=$(rec "$PAUD" /echo/ok-tls)
contains "rules program: an intercepted HTTPS request it allows says decided_by program too" "$r" \
	'"decided_by":"program"'
r=$(rec "$PAUD" /echo/no)
deny_by_program() {
	[[ $r == *'"decision":"deny"'* && $r == *'"decided_by":"program"'* &&
		$r == *'prog says no to other.test'* ]]
}
check "rules program: what it refuses is a deny with decided_by program and its message" \
	deny_by_program
lacks "rules program: what a rule allowed has no decided_by" "$(rec "$PAUD" /echo/p-rule)" \
	decided_by
run_b log summary --format json "$PAUD"
summary_by_program() {
	python3 -c 'import json, sys
d = json.loads(sys.argv[1])
h = [x for x in d["hosts"] if x["host"] == "other.test" and x["port"] is None][0]
assert h["allowed"] >= 5 and h["refused"] >= 3, h' "$out"
}
check "rules program: log summary counts what the program allowed as allowed, its refusals as refused" \
	summary_by_program

bnd --rules-program "$R/no-such-program" -- true
check "a rules program that cannot run stops boundary before the command" [ "$rc" = 125 ]
logged "... saying why" "$log" 'cannot run the rules program .*no-such-program.*No such file'

# --- --interactive -----------------------------------------------------------------------------

SAVED=$TMPDIR_T/saved.rules
cat >"$TMPDIR_T/steps" <<'STEPS'
expect allow other.test? [once/always/deny]
sleep 1.5
send once
expect allow other.test? [once/always/deny]
send maybe
expect please answer once, always or deny
send deny
expect allow x.api.up.test? [once/always/deny]
send always
expect ALL-DONE
STEPS
IAUD=$TMPDIR_T/person.jsonl
bnd_argv --save-rules "$SAVED" --audit-log "$IAUD" --interactive --allow "domain=up.test" -- sh -c "
	c() { $CURL -o /dev/null -w \"CODE-\$1=%{http_code}.\n\" \$2; }
	c i1a http://other.test:$P_HTTP/echo/i1a & c i1b http://other.test:$P_HTTP/echo/i1b & wait
	c i2 http://other.test:$P_HTTP/echo/i2
	c i3 http://x.api.up.test:$P_HTTP/echo/i3
	c i4 https://x.api.up.test:$P_HTTPS/echo/i4
	echo ALL-DONE"
timeout -k 5 90 python3 "$STAGE/lib/pty_drive.py" "$TMPDIR_T/steps" "$TMPDIR_T/tty.out" -- \
	"${BND_ARGV[@]}"
rc=$?
tty_out=$(tr -d '\r' <"$TMPDIR_T/tty.out")
if [ "$rc" = 0 ]; then ok "--interactive: the session ran through every question"; else
	fail "--interactive: the session ran through every question (exit $rc)"
	diag "$tty_out"
fi
q() { grep -c "allow $1? \[once/always/deny\]" <<<"$tty_out"; }
check "--interactive: the question names the process and the request" \
	grep -qE "boundary: curl\[[0-9]+\] wants GET http://other.test:$P_HTTP/echo/i1[ab]" <<<"$tty_out"
check "--interactive: ... and the file the process runs (exe=)" \
	grep -qF "boundary: (it runs $(readlink -f "$(command -v curl)"))" <<<"$tty_out"
one_question_for_two() {
	grep -q "CODE-i1a=200\." <<<"$tty_out" && grep -q "CODE-i1b=200\." <<<"$tty_out" &&
		grep -q "allowed other.test (2 requests)" <<<"$tty_out"
}
check "--interactive: two requests at once for one host share one question" one_question_for_two
check "--interactive: \"once\" is once: the next request asks again" [ "$(q other.test)" = 2 ]
check "--interactive: \"deny\" refuses it with a 403" grep -q "CODE-i2=403\." <<<"$tty_out"
check "--interactive: \"always\" admits the host" grep -q "CODE-i3=200\." <<<"$tty_out"
admitted_without_asking() { grep -q "CODE-i4=200\." <<<"$tty_out" && [ "$(q x.api.up.test)" = 1 ]; }
check "--interactive: ... for the rest of the run, HTTPS included, without asking again" \
	admitted_without_asking
check "--interactive: \"always\" is appended to the --save-rules file" \
	[ "$(cat "$SAVED")" = "domain=x.api.up.test" ]
check "--interactive: the --save-rules file is 0600" [ "$(stat -c %a "$SAVED")" = 600 ]
# Each answer is recorded as the person's (docs/RULES.md): "once", "deny" and "always" alike.
r=$(rec "$IAUD" /echo/i1a)
contains "--interactive: what the person allowed once is recorded with decided_by person" "$r" \
	'"decided_by":"person"'
contains "--interactive: ... its rule says it was allowed once at the terminal" "$r" \
	"allowed once at boundary's terminal"
r=$(rec "$IAUD" /echo/i2)
deny_by_person() { [[ $r == *'"decision":"deny"'* && $r == *'"decided_by":"person"'* ]]; }
check "--interactive: what the person refused is a deny with decided_by person" deny_by_person
r=$(rec "$IAUD" /echo/i3)
always_by_person() {
	[[ $r == *'"decision":"allow"'* && $r == *'"decided_by":"person"'* &&
		$r == *'"rule":"domain=x.api.up.test"'* ]]
}
check "--interactive: what \"always\" allowed says decided_by person and the rule it added" \
	always_by_person
run_b log summary "$IAUD"
contains "--interactive: log summary of the session lists the host the person refused" "$out" \
	other.test
bnd --save-rules "$SAVED" -- sh -c "
	$CURL -o /dev/null -w 'saved: %{http_code}\n' http://x.api.up.test:$P_HTTP/echo/saved
	$CURL -o /dev/null -w 'other: %{http_code}\n' http://other.test:$P_HTTP/echo/saved"
want saved 200 "a later run with --save-rules allows what was saved"
want other 403 "... and only that"

# The command shares the terminal: it must not be able to type the answer itself (TIOCSTI).
cat >"$TMPDIR_T/steps" <<'STEPS'
expect allow other.test? [once/always/deny]
expect TIOCSTI-
sleep 1
send deny
expect ALL-DONE
STEPS
bnd_argv --interactive -- sh -c "
	python3 $STAGE/lib/tiocsti.py always &
	$CURL -o /dev/null -w 'CODE-inject=%{http_code}.\n' http://other.test:$P_HTTP/echo/inject
	wait; echo ALL-DONE"
timeout -k 5 90 python3 "$STAGE/lib/pty_drive.py" "$TMPDIR_T/steps" "$TMPDIR_T/tty.out" -- \
	"${BND_ARGV[@]}"
tty_out=$(tr -d '\r' <"$TMPDIR_T/tty.out")
check "--interactive: the command cannot type into the terminal (TIOCSTI)" \
	grep -q "TIOCSTI-REFUSED 1" <<<"$tty_out" || diag "$tty_out"
check "--interactive: ... so it cannot answer its own question" \
	grep -q "CODE-inject=403\." <<<"$tty_out" || diag "$tty_out"

bnd_argv --interactive=terminal -- true
out=$(setsid -w "${BND_ARGV[@]}" 2>&1 </dev/null)
rc=$?
check "--interactive=terminal without a terminal refuses to start (exit $rc)" [ "$rc" = 125 ]
contains "... saying why and what to do instead" "$out" \
	"--interactive=terminal needs a terminal to ask on, and boundary has none"
bnd_argv --interactive -- true
out=$(setsid -w "${BND_ARGV[@]}" 2>&1 </dev/null)
rc=$?
check "--interactive (auto) without a terminal runs: answers come from another terminal" \
	[ "$rc" = 0 ]

done_testing
