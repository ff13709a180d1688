#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# audit.t: the audit log end to end, as root. Two processes of a shell pipeline make requests
# at the same time through one jail; each decision is one record naming the process that made
# it (checked against the live process on the host while it still runs), each allowed exchange
# ends with a record of its bytes and duration, refusals carry their reason, DNS queries their
# sender; the fields the man page promises (time, jail, session_id, sequence, ...) are each
# checked on their own. Also: --audit-log to a directory and to stdout.
#
# $CURL is a command line (tests/lib/proxy.sh), split into words on purpose.
# shellcheck disable=SC2086
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/jail.sh"
. "$(dirname "$0")/../lib/proxy.sh"
proxy_suite

R=$(shared_dir r)
AUD=$TMPDIR_T/audit.jsonl

# Each side of the pipeline: one allowed and one refused request by name, then it waits (so the
# test can look at it on the host) until the test removes its go-file.
touch "$R/side-a.go" "$R/side-b.go"
chmod 666 "$R/side-a.go" "$R/side-b.go"
SIDE="python3 $STAGE/lib/audit_side.py"
bnd_bg pipe --audit-log "$AUD" --allow "domain=up.test" -- sh -c \
	"$SIDE side-a $P_HTTP $R | $SIDE side-b $P_HTTP $R"
for _ in $(seq 200); do [ -e "$R/side-a.done" ] && [ -e "$R/side-b.done" ] && break; sleep 0.05; done
both_sides_done() { [ -e "$R/side-a.done" ] && [ -e "$R/side-b.done" ]; }
check "both sides of the pipeline made their requests" both_sides_done

# rec PATTERN: the first request record whose url ends with PATTERN.
rec() { grep '"event":"request"' "$AUD" | grep -F "$1\"" | head -1; }
field() { sed -nE "s/.*\"$1\":(\"[^\"]*\"|[0-9]+).*/\\1/p" <<<"$2" | tr -d '"'; }
for side in side-a side-b; do
	r=$(rec "/echo/$side")
	pid=$(field pid "$r")
	contains "$side: an allow record with its rule" "$r" '"decision":"allow","kind":"http"'
	contains "$side: the record names the process" "$r" '"comm":"python3"'
	if [ -n "$pid" ] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "side.py $side "; then
		ok "$side: its pid ($pid) is that side's process on the host"
	else
		fail "$side: its pid is that side's process on the host"
		diag "record: $r" "cmdline of $pid: $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)"
	fi
	d=$(rec "/echo/$side-refused")
	contains "$side: the refusal is a deny record with its reason" "$d" '"decision":"deny"'
	contains "$side: and its reason" "$d" '"reason":"no rule matches"'
	if [ "$(field pid "$d")" = "$pid" ]; then ok "$side: the refusal names the same process"; else
		fail "$side: the refusal names the same process ($(field pid "$d") vs $pid)"
	fi
	dn=$(grep '"event":"dns"' "$AUD" | grep "\"pid\":$pid," | head -1)
	contains "$side: its DNS queries name it too" "$dn" '"comm":"python3"'
done
a=$(field pid "$(rec /echo/side-a)")
b=$(field pid "$(rec /echo/side-b)")
told_apart() { [ -n "$a" ] && [ "$a" != "$b" ]; }
check "the two sides are told apart ($a, $b)" told_apart
rm -f "$R/side-a.go" "$R/side-b.go"
wait "$BND_PID"
rc=$?
check "the run ends when the pipeline does (exit $rc)" [ "$rc" = 0 ]

end=$(grep '"event":"end"' "$AUD" | grep -F '/echo/side-a"' | head -1)
contains "an allowed exchange ends with a record" "$end" '"status":200'
bu=$(field bytes_up "$end")
bd=$(field bytes_down "$end")
du=$(field duration_ms "$end")
counted() { [ "${bu:-0}" -gt 0 ] && [ "${bd:-0}" -gt 0 ] && [ -n "$du" ]; }
check "which counts the bytes both ways and the time ($bu up, $bd down, $du ms)" counted
check "every line is one JSON object" \
	python3 -c "import json,sys; [json.loads(l) for l in open(sys.argv[1])]" "$AUD"
n_req=$(grep -c '"event":"request"' "$AUD")
check "one record per decision: 4 requests, 4 records ($n_req)" [ "$n_req" = 4 ]

# The fields the man page promises in every record, and in a request's and its end's, each
# checked on its own so that a field no longer written fails its own line.
# fields_hold PYTHON: PYTHON (an assert over recs, the records) holds for this audit log.
fields_hold() {
	python3 -c 'import json, re, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
req = [r for r in recs if r["event"] == "request"]
end = [r for r in recs if r["event"] == "end"]
'"$1" "$AUD"
}
check "every record has its time, in UTC to the millisecond" fields_hold \
	'assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", r["time"]) for r in recs)'
check "every record names the jail (one id for the run)" fields_hold \
	'assert len({r.get("jail") for r in recs}) == 1 and recs[0].get("jail")'
check "every record has the run's session_id (a UUID)" fields_hold \
	'assert len({r.get("session_id") for r in recs}) == 1 and re.fullmatch("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", recs[0].get("session_id", ""))'
check "every request record has kind, method, url, host and port" fields_hold \
	'assert all(r.get("kind") == "http" and r.get("method") == "GET" and r.get("host") in ("up.test", "other.test") and r.get("url", "").startswith("http://%s:%d/echo/" % (r["host"], r.get("port", 0))) for r in req)'
check "every decision on an HTTP request has a sequence number of its own" fields_hold \
	'assert sorted(r.get("sequence", -1) for r in req) == sorted({r.get("sequence", -1) for r in req}) and min(r.get("sequence", -1) for r in req) >= 0'
check "an exchange's end record carries its request's sequence number" fields_hold \
	'assert end and all("sequence" in e and e["sequence"] in {r.get("sequence") for r in req} for e in end)'
check "an allow record names its rule, a deny record its status" fields_hold \
	'assert all(r.get("rule") == "domain=up.test" for r in req if r["decision"] == "allow") and all(r.get("status") == 403 for r in req if r["decision"] == "deny")'

# --- a directory gets a file of its own; - is stdout ------------------------------------------
mkdir -p "$TMPDIR_T/logs"
bnd --audit-log "$TMPDIR_T/logs" --allow "domain=up.test" -- $CURL -o /dev/null "http://up.test:$P_HTTP/echo/dir"
f=$(ls "$TMPDIR_T/logs"/boundary-audit-*.jsonl 2>/dev/null | head -1)
dir_log_written() { [ -n "$f" ] && grep -q /echo/dir "$f"; }
check "--audit-log DIR writes boundary-audit-<time>-<pid>.jsonl in it" dir_log_written
bnd --audit-log - --allow "domain=up.test" -- $CURL -o /dev/null "http://up.test:$P_HTTP/echo/stdout"
contains "--audit-log - writes to stdout" "$out" '"url":"http://up.test:'"$P_HTTP"'/echo/stdout"'

done_testing
