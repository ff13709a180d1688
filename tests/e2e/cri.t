#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# cri.t: the CRI harness itself (tests/lib/cri.sh, tests/lib/cri.py), before any suite leans on
# it: a containerd of the suite's own answers the CRI, the busybox image made here is imported, a
# host-network pod with annotations runs under the suite's cgroup parent and is listed with them,
# its sandbox and a container running sleep each have their own cgroup2 directory under that
# parent, a container's busybox wget reaches a web server on host loopback, a pod with a network
# namespace of its own is refused (no CNI), and, last, nothing is left: no process, mount or
# cgroup. boundary itself is not run here.
#
# Nothing leaves the machine: the pods share the host's namespace and fetch from 127.0.0.1.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/jail.sh"
. "$(dirname "$0")/../lib/proxy.sh"
. "$(dirname "$0")/../lib/cri.sh"

cri_up_or_skip
ok "containerd answers the CRI on $CR_SOCK"

images=$(crictr images ls -q)
contains "the sandbox image is imported" "$images" "$CR_PAUSE"
contains "the workload image is imported" "$images" "$CR_IMAGE"

# json EXPR: evaluates the Python expression EXPR over the JSON document on stdin (as j).
json() { /usr/bin/python3 -c "import json, sys; j = json.load(sys.stdin); print($1)"; }

POD=$(cri_pod web --annotation boundary.dev/policy=cri-test --annotation team=net)
check "a host-network pod with annotations runs" [ -n "$POD" ]
listed=$(cri pods | json '[(p["id"], p.get("annotations")) for p in j]')
contains "pods lists it with its annotations" "$listed" \
	"('$POD', {'boundary.dev/policy': 'cri-test', 'team': 'net'})"

status=$(cri pod-status "$POD" --verbose)
SPID=$(json 'j["info"]["info"]["pid"]' <<<"$status")
check "the sandbox is ready" [ "$(json 'j["status"]["state"]' <<<"$status")" = SANDBOX_READY ]
check "its verbose info holds the cgroup parent" \
	[ "$(json 'j["info"]["info"]["config"]["linux"]["cgroup_parent"]' <<<"$status")" = "$CR_CGP" ]
check "its pause process ($SPID) is in <cgroup2>$CR_CGP/<sandbox id>" \
	[ "$(cg2_of "$SPID")" = "$(cg_root)$CR_CGP/$POD" ]
same_netns() { [ "$(readlink "/proc/$1/ns/net")" = "$(readlink /proc/self/ns/net)" ]; }
check "it is in the host's network namespace" same_netns "$SPID"

cri_run "$POD" sleeper sleep 1000
check "a container running sleep starts ($CPID)" [ -n "$CPID" ]
check "its process is sleep" [ "$(cat "/proc/$CPID/comm" 2>/dev/null)" = sleep ]
check "it is in <cgroup2>$CR_CGP/<container id>" [ "$CCG" = "$(cg_root)$CR_CGP/$CID" ]
listed=$(cri containers --pod "$POD" | json '[(c["id"], c["state"]) for c in j]')
contains "containers lists it running" "$listed" "('$CID', 'CONTAINER_RUNNING')"

# A web server on host loopback, and busybox wget in a container of the pod.
read -r PORT <<<"$(free_ports 1)"
mkdir -p "$CR/www"
echo "hello from the host $$" >"$CR/www/hello"
/usr/bin/python3 -u -m http.server "$PORT" --bind 127.0.0.1 --directory "$CR/www" \
	>"$TMPDIR_T/www.log" 2>&1 &
WWW_PID=$!
at_exit "kill $WWW_PID 2>/dev/null"
for _ in $(seq 100); do
	ss -Hltn "sport = :$PORT" | grep -q . && break
	sleep 0.05
done
cri_start "$POD" fetch wget -q -O - "http://127.0.0.1:$PORT/hello"
FETCH=$CID
check "a container running wget starts" [ -n "$FETCH" ]
check "it ends" cri_wait_exit "$FETCH"
check "wget exits 0 ($CEXIT)" [ "$CEXIT" = 0 ]
contains "its output is the host's page" "$(cat "$CR/logs/web/fetch.log" 2>/dev/null)" \
	"hello from the host $$"
contains "the server saw the request" "$(cat "$TMPDIR_T/www.log")" '"GET /hello HTTP/1.1" 200'

refused=$(cri run-pod --name own-netns --uid own-netns-$$ --cgroup-parent "$CR_CGP" 2>&1)
contains "without CNI, a pod with a network namespace of its own is refused" "$refused" \
	"cni plugin not initialized"
# containerd 1.6 keeps the refused sandbox, and cannot remove it without CNI (cri.sh): cri_down
# must still leave nothing of it.

check "the sleeper stops" cri stop "$(cri containers --pod "$POD" | json '[c["id"] for c in j if c["metadata"]["name"] == "sleeper"][0]')"
check "the pod stops" cri stop-pod "$POD"
check "the pod is removed" cri remove-pod "$POD"
left=$(cri pods | json '[(p["metadata"]["name"], p["state"]) for p in j]')
check "only the refused pod is listed, not ready ($left)" \
	[ "$left" = "[('own-netns', 'SANDBOX_NOTREADY')]" ]

# cri_down, as at exit, then nothing of it may be left.
dir=$CR
cgp=$CR_CGP
netns_before=$CR_NETNS
cri_down
check "no process names the suite's containerd directory" [ -z "$(pgrep -f -- "$dir/")" ]
no_mounts() { ! awk -v d="$dir/" 'index($5, d) == 1' /proc/self/mountinfo | grep -q .; }
check "nothing is mounted under it" no_mounts
no_cgroups() {
	local mnt
	for mnt in $(awk '$9 == "cgroup2" || $9 == "cgroup" { print $5 }' /proc/self/mountinfo); do
		[ -e "$mnt$cgp" ] && return 1
	done
	return 0
}
check "the cgroup parent is gone from every hierarchy" no_cgroups
check "the directory is gone" [ ! -e "$dir" ]
check "/run/netns holds what it held before" [ "$(ls /run/netns 2>/dev/null)" = "$netns_before" ]

done_testing
