#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# log_summary.t: `boundary log summary` end to end: a crafted audit log (every event and kind,
# lines that are not records, a host one executable made every request to) read as a file and from standard input, the exact table and the
# JSON (read back with python3's json), the Markdown for a CI job's summary, and the errors a person gets. Needs no privileges; one
# last case, as root, summarises the audit log of a real jailed run.
. "$(dirname "$0")/../lib/tap.sh"

export HOME=$TMPDIR_T
unset BOUNDARY_ALLOW BOUNDARY_CONFIG BOUNDARY_LOG_LEVEL BOUNDARY_LOG_DIR

LOG=$TMPDIR_T/audit.jsonl
cat >"$LOG" <<'EOF'
{"time":"2026-11-23T07:34:16.519Z","event":"dns","decision":"synthetic","kind":"dns","host":"api.example.com","dns_type":"A","jail":"1-2"}
{"time":"2026-11-23T07:34:16.522Z","event":"request","decision":"allow","kind":"https","method":"GET","url":"https://api.example.com/v1","host":"api.example.com","port":443,"rule":"domain=api.example.com","pid":100,"comm":"curl","jail":"1-2"}
{"time":"2026-11-23T07:34:16.600Z","event":"end","decision":"allow","kind":"https","method":"GET","url":"https://api.example.com/v1","host":"api.example.com","port":443,"status":200,"pid":100,"comm":"curl","bytes_up":80,"bytes_down":512,"duration_ms":78,"jail":"1-2"}
{"time":"2026-11-23T07:34:17.000Z","event":"request","decision":"allow","kind":"https","method":"POST","url":"https://api.example.com/v1","host":"api.example.com","port":443,"rule":"domain=api.example.com","pid":101,"comm":"python3","jail":"1-2"}
{"time":"2026-11-23T07:34:17.100Z","event":"request","decision":"deny","kind":"http","method":"POST","url":"http://evil.test/upload","host":"evil.test","port":80,"reason":"no rule matches","status":403,"pid":102,"comm":"curl","exe":"/usr/bin/curl","jail":"1-2"}
{"time":"2026-11-23T07:34:17.200Z","event":"request","decision":"deny","kind":"https","method":"GET","url":"https://Evil.Test/","host":"Evil.Test","port":443,"reason":"no rule matches","status":403,"pid":103,"comm":"node","exe":"/usr/bin/node","jail":"1-2"}
{"time":"2026-11-23T07:34:17.300Z","event":"request","decision":"deny","kind":"connect","method":"CONNECT","url":"tunnel.test:443","host":"tunnel.test","port":443,"reason":"no rule matches","status":403,"pid":104,"comm":"git","exe":"/usr/bin/git","jail":"1-2"}
{"time":"2026-11-23T07:34:17.400Z","event":"connection","decision":"deny","kind":"tcp","host":"10.9.8.7:5432","reason":"neither TLS nor HTTP","pid":105,"comm":"psql","jail":"1-2"}
{"time":"2026-11-23T07:34:17.500Z","event":"request","decision":"deny","kind":"tcp","url":"tcp://db.test:5432","host":"db.test","port":5432,"reason":"it is neither TLS nor HTTP, and no rule with port= allows db.test:5432","pid":105,"comm":"psql","jail":"1-2"}
{"time":"2026-11-23T07:34:17.550Z","event":"request","decision":"allow","kind":"tls","url":"tls://mail.test:993","host":"mail.test","port":993,"rule":"domain=mail.test port=993","pid":107,"comm":"fetchmail","jail":"1-2"}
{"time":"2026-11-23T07:34:17.600Z","event":"request","decision":"deny","kind":"https","method":"GET","url":"https://[2001:db8::1]/","host":"[2001:db8::1]","port":443,"reason":"no rule matches","status":403,"pid":106,"comm":"curl","jail":"1-2"}
{"time":"2026-11-23T07:34:17.700Z","event":"dns","decision":"deny","kind":"dns","reason":"malformed query","jail":"1-2"}
this line is not JSON
{"event":"request","decision":"deny","host":"cut.test"
{"event":"dropped","count":2,"jail":"1-2"}
EOF

TABLE=$TMPDIR_T/table.want
cat >"$TABLE" <<'EOF'
HOST             ALLOWED  REFUSED  DNS  PROCESSES
evil.test              0        2    0  curl, node
10.9.8.7:5432          0        1    -  psql
[2001:db8::1]          0        1    0  curl
db.test:5432           0        1    -  psql
tunnel.test            0        1    0  git
api.example.com        2        0    1  curl, python3
mail.test:993          1        0    -  fetchmail

To allow what was refused, restart boundary with:
  --allow "domain=evil.test"
  --allow "domain=10.9.8.7 port=5432"
  --allow "domain=[2001:db8::1]"
  --allow "domain=db.test port=5432"
  --allow "domain=tunnel.test"

Or, for the one program that made every request there (exe=):
  --allow "exe=/usr/bin/git domain=tunnel.test"
EOF

# same_as DESC FILE: ok when $out is FILE's text exactly, else shows the difference.
same_as() {
	if diff -u "$2" - <<<"$out" >"$TMPDIR_T/diff"; then ok "$1"; else
		fail "$1"
		sed 's/^/# /' "$TMPDIR_T/diff"
	fi
}

# --- the table -----------------------------------------------------------------------------------

run_b log summary "$LOG"
expect_rc "log summary exits 0, lines that are not records notwithstanding" 0
same_as "the table: refused hosts first (most refusals first), then allowed, then the rules" \
	"$TABLE"
contains "lines that are not records are counted on stderr, with the first" "$err" \
	"boundary: warn: 2 lines were not audit records (the first, $LOG:13: column 1: not JSON)"
contains "the writer's dropped records are said" "$err" \
	"the audit log says 2 records were dropped"
widest=$(printf '%s\n' "$out" | awk '{ if (length($0) > w) w = length($0) } END { print w + 0 }')
check "the table fits 100 columns ($widest)" [ "$widest" -le 100 ]
# Every suggested line is a rule boundary accepts, and admits the host it was made for.
for host in evil.test tunnel.test '[2001:db8::1]'; do
	rc=0
	"$BOUNDARY" --allow "domain=$host" --test "https://$host/" >/dev/null 2>&1 || rc=$?
	check "--allow \"domain=$host\" admits https://$host/" [ "$rc" = 0 ]
done
rc=0
"$BOUNDARY" --allow "domain=db.test port=5432" --test "http://db.test:5432/" >/dev/null 2>&1 || rc=$?
check "--allow \"domain=db.test port=5432\" is a rule, and admits db.test:5432" [ "$rc" = 0 ]

# --- standard input and several files ------------------------------------------------------------

out=$("$BOUNDARY" log summary - <"$LOG" 2>"$TMPDIR_T/stderr")
rc=$?
err=$(cat "$TMPDIR_T/stderr")
expect_rc "log summary - reads standard input" 0
same_as "the same table from standard input" "$TABLE"
contains "standard input is named as such in messages" "$err" \
	"(the first, (standard input):13: column 1: not JSON)"

# shellcheck disable=SC2094 # read twice, written never
out=$("$BOUNDARY" log summary "$LOG" - <"$LOG" 2>/dev/null)
contains "two logs add up" "$out" "evil.test              0        4    0  curl, node"

printf '%s\n' '{"event":"request","decision":"deny","kind":"http","host":"only.test"}' >"$TMPDIR_T/b"
run_b log summary "$LOG" "$TMPDIR_T/b"
contains "a second file's hosts join the first's" "$out" "only.test              0        1    0  -"

# --- JSON ----------------------------------------------------------------------------------------

run_b log summary --format json "$LOG"
expect_rc "--format json exits 0" 0
printf '%s' "$out" >"$TMPDIR_T/out.json"
if python3 "$(dirname "$0")/../lib/summary_json_check.py" "$TMPDIR_T/out.json" >"$TMPDIR_T/py.log" 2>&1; then
	ok "the JSON reads back with the same hosts, order, counts and rules"
else
	fail "the JSON reads back with the same hosts, order, counts and rules"
	sed 's/^/# /' "$TMPDIR_T/py.log" "$TMPDIR_T/out.json"
fi

run_b log summary --format=json - </dev/null
expect_rc "an empty log is no error" 0
check "an empty log is an empty JSON summary" \
	[ "$out" = '{"records":0,"invalid_lines":0,"dropped":0,"hosts":[]}' ]
run_b log summary /dev/null
check "an empty log says so in the table" [ "$out" = "The audit log records no decision." ]

# --- Markdown, for a CI job's summary ------------------------------------------------------------

run_b log summary --format markdown "$LOG"
expect_rc "--format markdown exits 0" 0
cat >"$TMPDIR_T/md.want" <<'EOF'
### boundary: the job's network

3 requests allowed, 6 refused.

| Host | Allowed | Refused | DNS | Processes | Executable |
|---|--:|--:|--:|---|---|
| evil.test | 0 | 2 | 0 | curl, node | - |
| 10.9.8.7:5432 | 0 | 1 | - | psql | - |
| \[2001:db8::1\] | 0 | 1 | 0 | curl | - |
| db.test:5432 | 0 | 1 | - | psql | - |
| tunnel.test | 0 | 1 | 0 | git | /usr/bin/git |
| api.example.com | 2 | 0 | 1 | curl, python3 | - |
| mail.test:993 | 1 | 0 | - | fetchmail | - |

To allow what was refused, add to the action's `allow:` (one rule a line):

```yaml
allow: |
  domain=evil.test
  domain=10.9.8.7 port=5432
  domain=[2001:db8::1]
  domain=db.test port=5432
  domain=tunnel.test
```

Or, for the one program that made every request there (`exe=`):

```yaml
allow: |
  exe=/usr/bin/git domain=tunnel.test
```
EOF
same_as "the Markdown: totals, a row per host in the table's order, the allow: blocks" \
	"$TMPDIR_T/md.want"
# A host and a process named by whoever runs them cannot add markup or HTML to the page.
printf '%s\n' '{"event":"request","decision":"deny","kind":"http","host":"<img src=x onerror=alert(1)>|x","comm":"a|`b`","pid":1}' >"$TMPDIR_T/hostile.jsonl"
run_b log summary --format markdown "$TMPDIR_T/hostile.jsonl"
contains "a hostile host is text in its cell" "$out" \
	'| &lt;img src=x onerror=alert(1)&gt;\|x | 0 | 1 | 0 | a\|\`b\` |'
check "and no < is left anywhere" not grep -q '<' <<<"$out"
run_b log summary --format markdown /dev/null
check "an empty log says so in Markdown" \
	[ "$out" = $'### boundary: the job\'s network\n\nThe audit log records no decision.' ]

# --- errors --------------------------------------------------------------------------------------

run_b log summary "$LOG" "$TMPDIR_T/missing.jsonl"
expect_rc "a missing file exits 125" 125
check "a missing file prints no summary" [ -z "$out" ]
contains "a missing file says what, why and what to do" "$err" \
	"boundary: log summary: cannot open $TMPDIR_T/missing.jsonl: No such file or directory (name a file that --audit-log wrote, or - for standard input)"

run_b log summary "$TMPDIR_T"
expect_rc "a directory exits 125" 125
contains "a directory is said to be one" "$err" \
	"boundary: log summary: $TMPDIR_T is a directory (--audit-log DIR writes boundary-audit-*.jsonl files in it: name those)"

run_b log
expect_rc "log alone exits 125" 125
contains "log alone names the subcommand" "$err" \
	"boundary: log needs a subcommand (usage: boundary log summary [--format table|json|markdown] FILE...)"
run_b log sumary "$LOG"
expect_rc "a misspelt log subcommand exits 125" 125
contains "a misspelt log subcommand gets a suggestion" "$err" \
	'boundary: unknown log subcommand "sumary" (did you mean summary?)'
run_b log rotate
contains "an unknown log subcommand names the one there is" "$err" \
	'boundary: unknown log subcommand "rotate" (the one there is: boundary log summary'
run_b log summary
expect_rc "log summary with no file exits 125" 125
contains "log summary with no file says how to read stdin" "$err" "- reads standard input"
run_b log summary --format yaml "$LOG"
expect_rc "an unknown format exits 125" 125
contains "an unknown format names the two" "$err" \
	'boundary: log summary: --format "yaml": use table, json or markdown'

run_b --help
contains "--help names log summary" "$out" "  log summary  "
run_b help log summary
contains "help log summary gives its usage" "$out" "boundary log summary [--format table|json|markdown] FILE..."

# --- a real audit log --------------------------------------------------------------------------

if [ "$(id -u)" != 0 ]; then
	skip "the audit log of a real jailed run needs root"
	done_testing
	exit
fi
. "$(dirname "$0")/../lib/jail.sh"
. "$(dirname "$0")/../lib/proxy.sh"
# shellcheck disable=SC2016 # expanded at exit
at_exit '"$BOUNDARY" cleanup >/dev/null 2>&1'
if ! upstream_up; then
	fail "cannot start the upstream servers"
	done_testing
	exit 1
fi
# Jailed curl dials an address of no host at all, which the jail sends to the proxy; the
# proxy goes by the Host header and finds up.test in our hosts file. python3 looks db.test up
# (a synthetic answer from the jail's DNS) and speaks something that is not HTTP to it.
REAL=$TMPDIR_T/real.jsonl
C="curl -s -o /dev/null --max-time 20 --connect-to ::203.0.113.7:"
bnd --allow "domain=up.test" --audit-log "$REAL" -- sh -c "
	$C http://up.test:$P_HTTP/one; $C http://other.test:$P_HTTP/two
	$C http://other.test:$P_HTTP/three; $C -X POST http://up.test:$P_HTTP/four
	python3 $STAGE/lib/stream_client.py pgssl db.test 5432"
# One program made every request to each refused host: exe= rules for them are proposed too,
# with the files the jail recorded (curl's real path; python3's as PATH found it in the jail).
CURL_EXE=$(readlink -f "$(command -v curl)")
PY_EXE=$(grep '"kind":"tcp"' "$REAL" | sed -n 's/.*"exe":"\([^"]*\)".*/\1/p' | head -1)
check "the stream's record names the file python3 runs ($PY_EXE)" matches "$PY_EXE" '^/.*/python3'
cat >"$TMPDIR_T/real.want" <<EOF
HOST          ALLOWED  REFUSED  DNS  PROCESSES
other.test          0        2    0  curl
db.test:5432        0        1    -  python3
up.test             2        0    0  curl
db.test             0        0    2  python3

To allow what was refused, restart boundary with:
  --allow "domain=other.test"
  --allow "domain=db.test port=5432"

Or, for the one program that made every request there (exe=):
  --allow "exe=$CURL_EXE domain=other.test"
  --allow "exe=$PY_EXE domain=db.test port=5432"
EOF
run_b log summary "$REAL"
expect_rc "a real audit log reads" 0
check "every line of a real audit log is a record" [ -z "$err" ]
same_as "a real run: refused first, the tcp connection by port, the rules" "$TMPDIR_T/real.want"
[ -n "$err" ] && diag "$err"
done_testing
