#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# reload.t: the rules change while the jail runs, as root. A jailed client loops requests to
# up.test while the config file's allowlist flips between allowing and not allowing it
# (replaced by a rename, as editors do; rewritten in place; SIGHUP with no change; a broken
# file; a symlink swapped underneath, as Kubernetes updates a ConfigMap). Every request is
# answered by the rules in force when it began: 200 or 403, never a failure of another kind,
# and a slow streaming response that began under the allowing rules finishes under them,
# though a reload to denying rules happened halfway. The --allow rules of the command line
# stay through every reload; a broken file keeps the rules in force and says where it is
# broken; the command never sees the SIGHUP. (realdns.t checks that --use-real-dns follows a
# reload too.)
#
# $CURL is a command line (tests/lib/proxy.sh), split into words on purpose.
# shellcheck disable=SC2086
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/jail.sh"
. "$(dirname "$0")/../lib/proxy.sh"
proxy_suite

R=$(shared_dir reload)
CFG_DIR=$TMPDIR_T/cfg
CFG=$CFG_DIR/config.yaml
mkdir -p "$CFG_DIR"
SSE_N=16

# allow_cfg RULE: the allowlist of one rule, replacing the file through a rename.
allow_cfg() {
	printf 'allowlist:\n  - "%s"\nlog_level: info\n' "$1" >"$CFG_DIR/.config.yaml.new"
	mv "$CFG_DIR/.config.yaml.new" "$CFG"
}

cat >"$R/loop.sh" <<EOF
# the slow stream, begun while up.test is allowed: $SSE_N events 250 ms apart
( $CURL -N "http://up.test:$P_HTTP/sse?n=$SSE_N&gap=250" >"$R/sse.out" 2>"$R/sse.err"
  echo "sse-exit \$?" >>"$R/sse.out" ) &
i=0
while [ ! -e "$R/stop" ]; do
	code=\$($CURL -o /dev/null -w '%{http_code}' "http://up.test:$P_HTTP/echo/\$i" 2>/dev/null)
	echo "req \$i \$code"
	i=\$((i + 1))
	sleep 0.03
done
wait
echo "loop done"
EOF

# reqs: the request lines so far; nreq: how many.
reqs() { grep '^req ' "$TMPDIR_T/rl.out"; }
nreq() { reqs | wc -l; }
# wait_reqs N: until N request lines are out (30 s at most).
wait_reqs() {
	for _ in $(seq 600); do
		[ "$(nreq)" -ge "$1" ] && return 0
		sleep 0.05
	done
	return 1
}
# codes_from N: the codes of request lines N+1 onwards, counted ("12 403" a line).
codes_from() { reqs | tail -n +"$(($1 + 1))" | awk '{ print $3 }' | sort | uniq -c | awk '{ print $1, $2 }'; }
# only CODE TEXT: TEXT (from codes_from) is not empty and counts CODE alone.
only() { [ -n "$2" ] && ! grep -qv " $1\$" <<<"$2"; }
# reloads: how many "rules reloaded" lines the log has.
reloads() { grep -c 'rules reloaded' "$TMPDIR_T/rl.log"; }
wait_reloads() {
	for _ in $(seq 400); do
		[ "$(reloads)" -ge "$1" ] && return 0
		sleep 0.05
	done
	return 1
}

allow_cfg "domain=up.test"
state_snapshot "$TMPDIR_T/before"
BND_LOG_LEVEL=debug bnd_bg rl --config "$CFG" --allow "domain=other.test" -- sh "$R/loop.sh"
check "requests are allowed under the first rules" wait_reqs 5
got=$(codes_from 0)
check "the first requests were allowed (got: $(echo $got))" only 200 "$got"

# 1. The file replaced by a rename: up.test no longer allowed.
sse_before=$(grep -c '^data: ' "$R/sse.out" 2>/dev/null)
# Its path=/ is read otherwise by coder/boundary: the reload says so, once.
allow_cfg "domain=nothing.test path=/"
check "a renamed-over config file reloads the rules" wait_reloads 1
n1=$(nreq)
logged "the reload is logged with its counts" "$(cat "$TMPDIR_T/rl.log")" \
	"rules reloaded: 1 rules from $CFG, 1 from the command line \(the file changed\)"
compat_line='warn: rule "domain=nothing.test path=/": path=/ means the root page only here'
check "the reload warns once of a rule coder/boundary reads otherwise" \
	[ "$(grep -cF "$compat_line" "$TMPDIR_T/rl.log")" = 1 ]
check "the slow stream was in flight at the reload ($sse_before of $SSE_N events)" \
	[ "${sse_before:-0}" -lt "$SSE_N" ]
check "requests go on after the reload" wait_reqs $((n1 + 6))
# The one request in flight at the reload may have been decided either way.
got=$(codes_from $((n1 + 1)))
check "every request begun after the reload was refused (got: $(echo $got))" only 403 "$got"

# 2. SIGHUP with the file as it is: reloaded again, and the command never sees the signal.
kill -HUP "$BND_PID"
check "SIGHUP reloads the rules" wait_reloads 2
check "each reload warns again, once" \
	[ "$(grep -cF "$compat_line" "$TMPDIR_T/rl.log")" = 2 ]
logged "the SIGHUP reload is logged" "$(cat "$TMPDIR_T/rl.log")" \
	"rules reloaded: 1 rules from .*\(SIGHUP\)"
n2=$(nreq)
check "the jailed loop outlives the SIGHUP (it was not forwarded)" wait_reqs $((n2 + 3))
got=$(codes_from $((n2 + 1)))
check "the rules after SIGHUP are the file's, still refusing (got: $(echo $got))" only 403 "$got"

# 3. The file rewritten in place: allowed again.
printf 'allowlist: ["domain=up.test"]\n' >"$CFG"
check "a config file rewritten in place reloads the rules" wait_reloads 3
n3=$(nreq)
check "requests go on" wait_reqs $((n3 + 6))
got=$(codes_from $((n3 + 1)))
check "every request begun after that reload was allowed (got: $(echo $got))" only 200 "$got"

# 4. A broken file: the rules in force stay, and the log says where it is broken.
printf 'allowlist:\n  - "domain=up.test"\n  - "domain=bad.test/nope"\n' >"$CFG"
if jail_wait_log "$TMPDIR_T/rl.log" 'rules not reloaded' 20; then
	ok "a broken config file is refused"
else
	fail "a broken config file is refused"
fi
logged "the refusal names the file, line and column" "$(cat "$TMPDIR_T/rl.log")" \
	"rules not reloaded \(the file changed\): $CFG:3:5: rule .*the rules in force stay"
n4=$(nreq)
check "requests go on" wait_reqs $((n4 + 5))
got=$(codes_from "$n4")
check "the rules in force stayed: still allowed (got: $(echo $got))" only 200 "$got"
check "the broken file was not counted as a reload" [ "$(reloads)" = 3 ]

# 5. The command line's rule stays through every reload.
n5=$(nreq)
printf 'allowlist: []\n' >"$CFG"
wait_reloads 4
logged "an empty allowlist leaves the --allow rules" "$(cat "$TMPDIR_T/rl.log")" \
	"rules reloaded: 0 rules from $CFG, 1 from the command line"

touch "$R/stop"
wait "$BND_PID"
rc=$?
check "boundary and the command exit 0 (rc $rc)" [ "$rc" = 0 ]
contains "the loop finished" "$(cat "$TMPDIR_T/rl.out")" "loop done"
got=$(codes_from 0)
only_200_or_403() { [ -n "$got" ] && ! grep -qvE ' (200|403)$' <<<"$got"; }
check "every request was answered 200 or 403, nothing else (got: $(echo $got))" only_200_or_403
check "requests kept flowing through the reloads ($n5 in all)" [ "$n5" -ge 20 ]
sse=$(cat "$R/sse.out" 2>/dev/null)
check "the slow stream begun under the old rules got all $SSE_N events" \
	[ "$(grep -c '^data: ' <<<"$sse")" = "$SSE_N" ]
contains "... and ended cleanly" "$sse" "sse-exit 0"

# 6. A config file that is a symlink swapped underneath, as Kubernetes updates a ConfigMap:
# config.yaml -> ..data/config.yaml, and ..data replaced by a rename. No event names the file.
K=$TMPDIR_T/k8s
mkdir -p "$K/..v1" "$K/..v2"
printf 'allowlist: ["domain=up.test"]\n' >"$K/..v1/config.yaml"
printf 'allowlist: ["domain=nothing.test"]\n' >"$K/..v2/config.yaml"
ln -s ..v1 "$K/..data"
ln -s ..data/config.yaml "$K/config.yaml"
rm -f "$R/stop"
cat >"$R/k8s.sh" <<EOF
while [ ! -e "$R/stop" ]; do
	echo "k8s \$($CURL -o /dev/null -w '%{http_code}' "http://up.test:$P_HTTP/echo/k" 2>/dev/null)"
	sleep 0.05
done
EOF
BND_LOG_LEVEL=debug bnd_bg k8s --config "$K/config.yaml" -- sh "$R/k8s.sh"
pid_k8s=$BND_PID
for _ in $(seq 400); do grep -q '^k8s 200' "$TMPDIR_T/k8s.out" 2>/dev/null && break; sleep 0.05; done
ln -s ..v2 "$K/..data_tmp"
mv -T "$K/..data_tmp" "$K/..data"
if jail_wait_log "$TMPDIR_T/k8s.log" 'rules reloaded: 1 rules from' 20; then
	ok "a swapped symlink to the config file reloads the rules"
else
	fail "a swapped symlink to the config file reloads the rules"
fi
n=$(grep -c '^k8s ' "$TMPDIR_T/k8s.out")
for _ in $(seq 400); do [ "$(grep -c '^k8s ' "$TMPDIR_T/k8s.out")" -ge $((n + 4)) ] && break; sleep 0.05; done
got=$(tail -n +$((n + 2)) "$TMPDIR_T/k8s.out" | awk '{ print $2 }' | sort | uniq -c | awk '{ print $1, $2 }')
check "and the new file's rules are the ones in force (got: $(echo $got))" only 403 "$got"
touch "$R/stop"
wait "$pid_k8s"
id_k8s=$(jail_field "$TMPDIR_T/k8s.log" id)

# By jail id: other suites' boundaries may come and go meanwhile.
id=$(jail_field "$TMPDIR_T/rl.log" id)
state_snapshot "$TMPDIR_T/after"
left=$({
	state_leftovers "$TMPDIR_T/before" "$TMPDIR_T/after" "$id"
	state_leftovers "$TMPDIR_T/before" "$TMPDIR_T/after" "$id_k8s"
} | grep /boundary/)
both_made() { [ -n "$id" ] && [ -n "$id_k8s" ]; }
check "the jails were made ($id, $id_k8s)" both_made
check "nothing is left behind${left:+: $left}" [ -z "$left" ]
done_testing
