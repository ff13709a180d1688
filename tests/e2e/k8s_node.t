#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# k8s_node.t: boundary k8s-node against a real containerd driven through its CRI plugin
# (tests/lib/cri.sh: Debian's containerd 1.6 and runc, pods made by the suite as the kubelet
# would make them, each with a cgroup parent of its own). The agent finds the pods that ask to
# be jailed by annotation (rules, a named policy in --policy-dir, audit mode) and leaves the
# others alone; a jailed pod's requests are decided by its own rules, a container started in it
# later is jailed from its first instruction, a policy file that changes is applied to the
# running pod (and one that no longer loads leaves its rules as they were), a policy name that
# would leave --policy-dir jails the pod with nothing allowed,
# the records name namespace, pod and container, a pod that goes is detached, and when the
# agent stops its pods stay cut off.
#
# "Inside a container" is a process that joins the container's cgroup and mount namespace, as
# kubectl exec's runtime side does. Nothing leaves the machine: the pods share the host's network
# namespace; the jailed ones ask boundary for names (up.test resolves to loopback through
# proxy.sh's hosts file), the free one is only ever pointed at 127.0.0.1.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/jail.sh"
. "$(dirname "$0")/../lib/proxy.sh"
. "$(dirname "$0")/../lib/cri.sh"

# proxy_suite first: at_exit runs last what is asked first, so boundary cleanup follows cri_down.
proxy_suite --no-testhost
cri_up_or_skip

POL=$TMPDIR_T/policies
STATE=$TMPDIR_T/node-state
AUD=$TMPDIR_T/node-audit.jsonl
mkdir -p "$POL"
printf 'allowlist:\n  - "domain=up.test path=/echo/policy/*"\n' >"$POL/team.yaml"

# in_ctr CGROUP PID CMD...: CMD in the container whose cgroup2 directory is CGROUP and whose
# process PID shows its mount namespace; sets $out and $rc.
in_ctr() {
	local cg=$1 pid=$2
	shift 2
	# shellcheck disable=SC2016 # for the inner shell
	out=$(timeout 30 sh -c 'echo $$ >"$0/cgroup.procs" && p=$1 && shift &&
		exec nsenter -t "$p" -m -- "$@"' "$cg" "$pid" "$@" 2>&1 </dev/null)
	rc=$?
}

# get NAME URL: busybox wget in pod NAME's container; sets $status ("none" without an
# answer), $out and $rc.
get() {
	local cg pid
	cg=$(eval echo "\$CG_$1")
	pid=$(eval echo "\$PID_$1")
	in_ctr "$cg" "$pid" timeout 20 wget -S -O /dev/null "$2"
	status=$(sed -nE 's@^ *HTTP/1\.[01] ([0-9]+).*@\1@p' <<<"$out" | tail -1)
	status=${status:-none}
}
saw() { grep -c "GET $1\$" "$UP/requests.log" 2>/dev/null; }
passed() { [ "$status" = 200 ] && [ "$(saw "$1")" = 1 ]; }
refused() { [ "$status" = 403 ] && [ "$(saw "$1")" = 0 ]; }
# failed PATH: the last command failed and the servers never saw PATH.
failed() { [ "$rc" != 0 ] && [ "$(saw "$1")" = 0 ]; }

LOOP='while :; do sleep 1; done'
# pod NAME ANNOTATIONS...: a pod NAME with a cgroup parent of its own and a container "main"
# running a loop; sets POD_NAME, CG_NAME, PID_NAME.
pod() {
	local name=$1 args=() a id
	shift
	for a in "$@"; do args+=(--annotation "$a"); done
	id=$(cri_pod "$name" --cgroup-parent "$CR_CGP/$name" "${args[@]}") || return 1
	cri_run "$id" main sh -c "$LOOP" || return 1
	eval "POD_$name=$id CG_$name=$CCG PID_$name=$CPID"
}

RULE='domain=up.test path=/echo/yes/*'
check "a pod asking with rules runs" pod allowed "boundary.dev/allow=$RULE"
check "a pod asking with a named policy runs" pod named boundary.dev/policy=team
check "a pod asking in audit mode runs" pod audited "boundary.dev/allow=$RULE" \
	boundary.dev/mode=audit
check "a pod asking with a policy name that leaves --policy-dir runs" pod sneaky \
	boundary.dev/policy=../../etc/boundary
# A carriage return in a rule would end a line of the pod's rules file, where an error quotes
# the rule: what follows it must not become a key (dry_run: true would let everything out).
check "a pod whose rule carries a carriage return and a key runs" pod crlf \
	"boundary.dev/allow="$'x\rdry_run: true #'
check "a pod asking nothing runs" pod free team=web

PINS_BEFORE=$(ls /sys/fs/bpf/boundary 2>/dev/null)
bnd_bg node k8s-node --cri-socket "$CR_SOCK" --policy-dir "$POL" --state-dir "$STATE" \
	--scan-interval 1 --audit-log "$AUD"
NODE_LOG=$TMPDIR_T/node.log
attached() { [ "$(grep -c "attached to cgroup" "$NODE_LOG")" -ge "$1" ]; }
for _ in $(seq 150); do
	attached 5 && break
	sleep 0.1
done
check "the agent attaches to the five pods that ask" attached 5
lacks "and not to the one that does not" "$(cat "$NODE_LOG")" "boundary-test/free"
for p in allowed named audited sneaky crlf; do
	contains "$p is attached to its own pod cgroup" "$(cat "$NODE_LOG")" \
		"pod boundary-test/$p: attached to cgroup $CR_CGP/$p "
done
contains "a policy name that would leave --policy-dir is refused, saying why" \
	"$(cat "$NODE_LOG")" 'is not a policy'"'"'s name'
# An attach is listening once its audit file or log says so: give them a moment.
sleep 1

# --- each pod by its own rules -----------------------------------------------------------------
get allowed "http://up.test:$P_HTTP/echo/yes/rules"
check "the pod's allowed request gets through ($status)" passed /echo/yes/rules
get allowed "http://up.test:$P_HTTP/echo/no-rules"
check "a request its rules do not allow is refused ($status)" refused /echo/no-rules
get named "http://up.test:$P_HTTP/echo/policy/one"
check "the named policy's pod gets what the policy allows ($status)" passed /echo/policy/one
get named "http://up.test:$P_HTTP/echo/yes/named"
check "and not what another pod's rules allow ($status)" refused /echo/yes/named
get audited "http://up.test:$P_HTTP/echo/no-audited"
check "audit mode lets a refused request through ($status)" passed /echo/no-audited
get crlf "http://up.test:$P_HTTP/echo/yes/crlf"
check "a carriage return in a rule adds no key to the pod's rules: nothing allowed ($status)" \
	refused /echo/yes/crlf
lacks "the pod's rules file holds no line the rule made" "$(cat "$STATE/$POD_crlf.yaml")" \
	$'\r'
get sneaky "http://up.test:$P_HTTP/echo/yes/sneaky"
check "a pod whose policy cannot be read is jailed with nothing allowed ($status)" refused /echo/yes/sneaky
in_ctr "$CG_allowed" "$PID_allowed" timeout 10 wget -O /dev/null "http://127.0.0.1:$P_HTTP/echo/yes/by-address"
check "an address dialled directly goes through the proxy too (refused: no rule names it)" \
	[ "$(saw /echo/yes/by-address)" = 0 ]
in_ctr "$CG_free" "$PID_free" timeout 10 wget -O /dev/null "http://127.0.0.1:$P_HTTP/echo/free"
check "the pod that asked nothing is left alone (rc $rc)" [ "$(saw /echo/free)" = 1 ]

# --- the records ---------------------------------------------------------------------------------
for _ in $(seq 50); do
	grep -q '/echo/no-audited' "$AUD" 2>/dev/null && break
	sleep 0.1
done
rec() { grep "\"url\":\"[^\"]*$1\"" "$AUD" | head -1; }
contains "a record names the pod's namespace, pod and container" "$(rec /echo/no-rules)" \
	'"k8s":{"namespace":"boundary-test","pod":"allowed","container":"main"}'
contains "and says what was refused" "$(rec /echo/no-rules)" '"decision":"deny"'
contains "the audit pod's record says it would have been refused" "$(rec /echo/no-audited)" \
	'"would_deny":true'
lacks "the free pod has no record" "$(cat "$AUD")" '"pod":"free"'

# --- a container started after the attach: jailed from its first instruction -------------------
cri_start "$POD_allowed" late wget -O /dev/null "http://127.0.0.1:$P_HTTP/echo/late"
LATE=$CID
cri_wait_exit "$LATE"
rc=$CEXIT
check "a container started later in a jailed pod is jailed at once (exit $CEXIT)" failed /echo/late

# --- a policy that changes applies to the running pod ------------------------------------------
printf 'allowlist:\n  - "domain=up.test path=/echo/changed/*"\n' >"$POL/team.yaml.new"
mv "$POL/team.yaml.new" "$POL/team.yaml"
for _ in $(seq 100); do
	grep -q "boundary-test/named: its rules changed" "$NODE_LOG" && break
	sleep 0.1
done
sleep 1
get named "http://up.test:$P_HTTP/echo/changed/one"
check "a changed policy is applied to the running pod ($status)" passed /echo/changed/one
get named "http://up.test:$P_HTTP/echo/policy/two"
check "and what it no longer allows is refused ($status)" [ "$status" = 403 ]
check "the pod was not restarted" kill -0 "$PID_named"
printf 'allowlist:\n  - "domain=up.test path=/echo/broken/*"\n  - "nokey"\n' >"$POL/team.yaml.new"
mv "$POL/team.yaml.new" "$POL/team.yaml"
for _ in $(seq 100); do
	grep -q "boundary-test/named: .*its rules stay as they were" "$NODE_LOG" && break
	sleep 0.1
done
contains "a policy that no longer loads is named in the log" "$(cat "$NODE_LOG")" \
	"its rules stay as they were"
get named "http://up.test:$P_HTTP/echo/changed/two"
check "and the pod keeps the rules it had ($status)" passed /echo/changed/two

# --- a pod that goes is detached ---------------------------------------------------------------
cri stop-pod "$POD_sneaky" >/dev/null && cri remove-pod "$POD_sneaky" >/dev/null
for _ in $(seq 100); do
	grep -q "boundary-test/sneaky is gone" "$NODE_LOG" && break
	sleep 0.1
done
contains "a pod that goes is detached" "$(cat "$NODE_LOG")" "boundary-test/sneaky is gone"
# It says so first, then waits for the attach to detach, then removes them.
for _ in $(seq 100); do
	[ -e "$STATE/$POD_sneaky.yaml" ] || break
	sleep 0.1
done
check "its files go with it" [ ! -e "$STATE/$POD_sneaky.yaml" ]

# --- the agent stops: its pods stay cut off ----------------------------------------------------
kill -TERM "$BND_PID"
wait "$BND_PID" 2>/dev/null
contains "the agent says its pods stay cut off" "$(cat "$NODE_LOG")" "4 pods stay cut off"
in_ctr "$CG_allowed" "$PID_allowed" timeout 10 wget -O /dev/null "http://up.test:$P_HTTP/echo/yes/after"
check "a pod stays cut off once the agent is gone (rc $rc)" failed /echo/yes/after
in_ctr "$CG_free" "$PID_free" timeout 10 wget -O /dev/null "http://127.0.0.1:$P_HTTP/echo/free-after"
check "the free pod still is free" [ "$(saw /echo/free-after)" = 1 ]

# --- no secrets, no leftovers --------------------------------------------------------------------
cri_down
"$BOUNDARY" cleanup >/dev/null 2>&1
left=$(comm -13 <(echo "$PINS_BEFORE" | sort) <(ls /sys/fs/bpf/boundary 2>/dev/null | sort) | tr '\n' ' ')
check "once the pods are gone, boundary cleanup leaves no pinned program of theirs ($left)" \
	[ -z "${left// /}" ]

done_testing
