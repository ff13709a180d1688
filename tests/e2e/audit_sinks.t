#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# audit_sinks.t: --audit-log's pipeline sinks end to end, as root, each against a peer that reads
# the wire format with a reader of its own (tests/lib/audit_sink_peers.py):
#   - journald: a fake journald on /run/systemd/journal/socket in boundary's own mount namespace
#     (sd_journal_send takes no other path), its native protocol parsed and the fields checked;
#   - syslog over UDP and over TCP (octet counting): RFC 5424 with boundary's structured data;
#   - OTLP/HTTP: the JSON payload against the OTLP logs mapping; a collector that answers 503
#     first (the batch is sent again); a collector that never answers (requests through the jail
#     stay prompt, the records are dropped, counted and said at exit, and the exit is bounded).
# In every case the records of the run's last request arrive before boundary exits (flush on exit,
# at the command's end and on SIGTERM), and --log-dir keeps a JSON file beside the sink.
#
# $CURL is a command line (tests/lib/proxy.sh), split into words on purpose.
# shellcheck disable=SC2086
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/jail.sh"
. "$(dirname "$0")/../lib/proxy.sh"
proxy_suite

PEERS=$STAGE/lib/audit_sink_peers.py
R=$(shared_dir r)

# peer_up NAME ARGS...: audit_sink_peers.py ARGS $TMPDIR_T/NAME.out in the background; sets
# PEER_OUT, PEER_PORT (when it listens on one) and PEER_PID; fails the suite if it does not start.
peer_up() {
	local name=$1 i
	shift
	PEER_OUT=$TMPDIR_T/$name.out
	: >"$PEER_OUT"
	python3 "$PEERS" "$@" "$PEER_OUT" 2>"$TMPDIR_T/$name.err" &
	PEER_PID=$!
	at_exit "kill $PEER_PID 2>/dev/null"
	for i in $(seq 100); do
		[ -e "$PEER_OUT.ready" ] && break
		sleep 0.05
	done
	if [ ! -e "$PEER_OUT.ready" ]; then
		fail "the $name peer did not start"
		diag "$(cat "$TMPDIR_T/$name.err")"
		done_testing
		exit 1
	fi
	PEER_PORT=$(cat "$PEER_OUT.port" 2>/dev/null)
}

# peer_checks ARGS...: audit_sink_peers.py ARGS, its PASS/FAIL lines as TAP.
peer_checks() {
	local line
	while IFS= read -r line; do
		case $line in
		"PASS "*) ok "${line#PASS }" ;;
		"FAIL "*) fail "${line#FAIL }" ;;
		*) diag "$line" ;;
		esac
	done < <(python3 "$PEERS" "$@")
}

# rec KIND OUT URL EVENT: the first record of EVENT for URL, as a JSON line, whatever the format.
rec() {
	python3 "$PEERS" records "$1" "$2" | grep -F "\"url\": \"$3\"" | grep -F "\"event\": \"$4\"" |
		head -1
}

# The jailed command of every run: an allowed request, a refused one, then the allowed one again
# as the run's very last act, so its records can only have gone out at the end.
U_OK=http://up.test:$P_HTTP/echo/sink-ok
U_NO=http://other.test:$P_HTTP/echo/sink-refused
U_LAST=http://up.test:$P_HTTP/echo/sink-last
CMD="$CURL -o /dev/null $U_OK; $CURL -o /dev/null $U_NO; $CURL -o /dev/null $U_LAST"

# common KIND OUT: what every sink must show for a run of $CMD.
common() {
	local kind=$1 o=$2 a d l
	a=$(rec "$kind" "$o" "$U_OK" request)
	d=$(rec "$kind" "$o" "$U_NO" request)
	l=$(rec "$kind" "$o" "$U_LAST" end)
	contains "$kind: the allowed request, with its rule" "$a" '"rule": "domain=up.test"'
	contains "$kind: named by the process that made it" "$a" '"comm": "curl"'
	contains "$kind: the refusal, with its reason" "$d" '"reason": "no rule matches"'
	contains "$kind: and its decision" "$d" '"decision": "deny"'
	contains "$kind: the last request's end record came before boundary exited" "$l" \
		'"event": "end"'
}

# --- journald --------------------------------------------------------------------------------
JDIR=$TMPDIR_T/journal
peer_up journald journald "$JDIR"
made_run_systemd=""
if [ ! -d /run/systemd ]; then
	mkdir -p /run/systemd && made_run_systemd=1
	at_exit "[ -n \"$made_run_systemd\" ] && rmdir /run/systemd 2>/dev/null"
fi
bnd_argv --audit-log journald --log-dir "$TMPDIR_T/jfile" --allow "domain=up.test" -- sh -c "$CMD"
mkdir -p "$TMPDIR_T/jfile"
# shellcheck disable=SC2016 # for the inner shell
timeout -k 5 60 unshare -m --propagation private sh -c '
	mount -t tmpfs tmpfs /run/systemd && mkdir /run/systemd/journal &&
	mount --bind "$0" /run/systemd/journal && exec "$@"' "$JDIR" "${BND_ARGV[@]}" \
	>/dev/null 2>"$TMPDIR_T/j.log" </dev/null
rc=$?
check "a run with --audit-log journald succeeds (exit $rc)" [ "$rc" = 0 ]
# --log-dir takes the log too
jlog=$(cat "$TMPDIR_T/j.log" "$TMPDIR_T"/jfile/boundary-*.log 2>/dev/null)
contains "it says where the records go" "$jlog" "audit records go to journald"
peer_checks check-journald "$PEER_OUT"
common journald "$PEER_OUT"
raw=$(grep -F "$U_NO" "$PEER_OUT" | head -1)
contains "journald: a denial is PRIORITY 4" "$raw" '"PRIORITY": "4"'
contains "journald: the client's pid is BOUNDARY_CLIENT_PID" "$raw" '"BOUNDARY_CLIENT_PID": "'
contains "journald: its executable is BOUNDARY_EXE" "$raw" '"BOUNDARY_EXE": "'
contains "journald: the human line" "$raw" "\"MESSAGE\": \"DENY GET $U_NO from curl (pid "
f=$(ls "$TMPDIR_T/jfile"/boundary-audit-*.jsonl 2>/dev/null | head -1)
file_too() { [ -n "$f" ] && grep -qF "$U_NO" "$f"; }
check "--log-dir keeps the JSON lines beside journald" file_too

# --- syslog over UDP and TCP -----------------------------------------------------------------
for proto in udp tcp; do
	peer_up "syslog-$proto" "syslog-$proto"
	bnd --audit-log "syslog:$proto://127.0.0.1:$PEER_PORT" --allow "domain=up.test" -- sh -c "$CMD"
	check "syslog $proto: the run succeeds (exit $rc)" [ "$rc" = 0 ]
	contains "syslog $proto: it says where the records go" "$log" \
		"audit records go to syslog $proto://127.0.0.1:$PEER_PORT"
	peer_checks check-syslog "$PEER_OUT"
	common syslog "$PEER_OUT"
	raw=$(grep -F "url=\"$U_NO\"" "$PEER_OUT" | head -1)
	contains "syslog $proto: the refusal is <12> (user.warning), MSGID request" "$raw" \
		"<12>1 "
	contains "syslog $proto: structured data then the human line" "$raw" \
		"] DENY GET $U_NO from curl (pid "
	check "syslog $proto: nothing broke the framing" not grep -q BADFRAME "$PEER_OUT"
done

# --- OTLP/HTTP -------------------------------------------------------------------------------
# with a secret, whose placeholder the jail sends in a URL: the records carry the placeholder,
# never the value
peer_up otlp otlp ok
SECRET_VALUE="sk-sink-$(openssl rand -hex 12)"
export SINK_SECRET=$SECRET_VALUE
bnd --audit-log "otlp+http://127.0.0.1:$PEER_PORT" --secret "SINK_SECRET domain=up.test" \
	--allow "domain=up.test" -- sh -c "$CURL -o /dev/null '$U_OK?key='\$SINK_SECRET; $CMD"
unset SINK_SECRET
check "otlp: the run succeeds (exit $rc)" [ "$rc" = 0 ]
check "otlp: the secret's value is in no record" not grep -qF "$SECRET_VALUE" "$PEER_OUT"
secret_req() { python3 "$PEERS" records otlp "$PEER_OUT" | grep -qF "/echo/sink-ok?key="; }
check "otlp: the request that carried its placeholder is recorded" secret_req
peer_checks check-otlp "$PEER_OUT"
common otlp "$PEER_OUT"
check "otlp: no record dropped" not grep -q "audit records dropped" <<<"$log"

# a collector that answers 503 first: the same batch goes again, and is taken
peer_up otlp503 otlp 503first
bnd --audit-log "otlp+http://127.0.0.1:$PEER_PORT/custom/logs" --allow "domain=up.test" -- \
	sh -c "$CMD"
check "otlp 503: the run succeeds (exit $rc)" [ "$rc" = 0 ]
peer_checks check-otlp "$PEER_OUT" /custom/logs
peer_checks check-retry "$PEER_OUT" "$U_NO"
contains "otlp 503: the failure was said" "$log" "the collector answered HTTP/1.1 503"
check "otlp 503: nothing was dropped" not grep -q "audit records dropped" <<<"$log"
l=$(python3 "$PEERS" records otlp "$PEER_OUT" | grep -F "\"url\": \"$U_LAST\"" |
	grep -F '"status_http": 200' | head -1)
contains "otlp 503: the last request's records were taken before boundary exited" "$l" "$U_LAST"

# SIGTERM to boundary right after a request, while the batch still waits for its second: the
# records go out before boundary exits
peer_up otlpterm otlp ok
bnd_bg term --audit-log "otlp+http://127.0.0.1:$PEER_PORT" --allow "domain=up.test" -- sh -c \
	"$CURL -o /dev/null $U_LAST && touch $R/term.done; sleep 30"
for _ in $(seq 200); do [ -e "$R/term.done" ] && break; sleep 0.05; done
kill -TERM "$BND_PID"
# bounded, so that a jail that never ends fails this check rather than hanging the suite
for _ in $(seq 400); do kill -0 "$BND_PID" 2>/dev/null || break; sleep 0.05; done
term_ended() { ! kill -0 "$BND_PID" 2>/dev/null; }
check "otlp SIGTERM: boundary ends within 20 s" term_ended
kill -KILL "$BND_PID" 2>/dev/null
wait "$BND_PID" 2>/dev/null
l=$(rec otlp "$PEER_OUT" "$U_LAST" end)
contains "otlp SIGTERM: the records of the request just made were sent before boundary exited" \
	"$l" '"event": "end"'
check "otlp SIGTERM: nothing was dropped" not grep -q "audit records dropped" "$TMPDIR_T/term.log"

# a collector that never answers: the proxy is not slowed, drops are counted and said at exit
peer_up stall otlp stall
: >"$R/times"
chmod 666 "$R/times"
T="-w '%{time_total}\n'"
STALL_CMD="$CURL -o /dev/null $T $U_OK >>$R/times; sleep 2;"
for i in $(seq 20); do STALL_CMD="$STALL_CMD $CURL -o /dev/null $T '$U_OK?n=$i' >>$R/times;"; done
t0=$(date +%s%N)
bnd --audit-log "otlp+http://127.0.0.1:$PEER_PORT" --allow "domain=up.test" -- sh -c "$STALL_CMD"
t1=$(date +%s%N)
check "otlp stalled: the run succeeds (exit $rc)" [ "$rc" = 0 ]
n_times=$(wc -l <"$R/times")
slowest=$(sort -n "$R/times" | tail -1)
prompt() { [ "$n_times" = 21 ] && python3 -c 'import sys; sys.exit(float(sys.argv[1]) >= 1.0)' "$slowest"; }
check "otlp stalled: 21 requests through the jail each took under 1 s while the collector hung ($n_times, slowest $slowest s)" prompt
stalled_post() { [ -s "$PEER_OUT" ]; }
check "otlp stalled: the collector was sent a batch it never answered" stalled_post
contains "otlp stalled: the drops are said at exit" "$log" "audit records dropped: the OTLP collector"
contains "otlp stalled: with the records unsent at the end" "$log" "were unsent when boundary ended"
# the command sleeps 2 s; the end may take the drain time (2 s) and one timeout (3 s) more
bounded() { [ $(((t1 - t0) / 1000000)) -lt 15000 ]; }
check "otlp stalled: boundary still ends in bounded time ($(((t1 - t0) / 1000000)) ms)" bounded

done_testing
