#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# containers.t: boundary attach --container against a real Docker (Debian's docker.io 20.10,
# tests/lib/docker.sh), started by the suite in a network namespace of its own. A container of a
# busybox image made here runs a loop; boundary attaches to it by name, asking Debian's docker
# CLI for its pid: requests from inside it (docker exec, which joins its cgroup) are decided by
# the rules, the upstream servers on host loopback (tests/lib/proxy.sh) answering what is
# allowed, and boundary's audit log names the container's processes. A web server on the
# default bridge's gateway, in dockerd's namespace, is what an unjailed process reaches directly:
# a second container, and a process in dockerd's own cgroup and namespace, reach it while the
# first is jailed; the jailed one is refused it, and reaches it again once SIGTERM detached.
# Last, unjailed, a user-defined network: Docker's embedded DNS (127.0.0.11) answers there.
#
# Nothing leaves the machine: dockerd's namespace has no route out, and the allowed names resolve
# (for boundary, in the host's namespace) through proxy.sh's hosts file to host loopback.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/jail.sh"
. "$(dirname "$0")/../lib/proxy.sh"
. "$(dirname "$0")/../lib/docker.sh"

T0=$(date +%s)
# Without the test host: nothing here aims at it, so no need for its lock.
docker_up_or_skip
proxy_suite --no-testhost

# in_ctr NAME CMD...: CMD in container NAME (docker exec); sets $out (stdout and stderr), $rc.
in_ctr() {
	local name=$1
	shift
	out=$(dk exec "$name" "$@" 2>&1 </dev/null)
	rc=$?
}

# get NAME URL: busybox wget in container NAME; sets $status (the HTTP status, or "none"),
# $body, $rc.
get() {
	in_ctr "$1" timeout 20 wget -S -O /tmp/body "$2"
	status=$(sed -nE 's@^ *HTTP/1\.[01] ([0-9]+).*@\1@p' <<<"$out" | tail -1)
	status=${status:-none}
	body=$(dk exec "$1" cat /tmp/body 2>/dev/null)
}

check "the busybox image is built from a tarball (no registry)" docker_image

# The web server in dockerd's namespace, on the default bridge's gateway.
GW=$(ip -n "$DK_NS" -4 -o addr show docker0 | awk '{ sub("/.*", "", $4); print $4; exit }')
GWP=8080
mkdir -p "$DK/www/gw"
for f in before jailed other dockerd after; do echo "gateway: $f" >"$DK/www/gw/$f"; done
# nsenter itself, not dk_netns: a function in the background is a subshell, and killing $!
# would leave the server running (it did, after every run).
nsenter --net="/run/netns/$DK_NS" -- python3 -u -m http.server "$GWP" --bind "$GW" \
	--directory "$DK/www" >"$TMPDIR_T/gw.log" 2>&1 &
GW_PID=$!
at_exit "kill $GW_PID 2>/dev/null"
for _ in $(seq 100); do
	dk_netns ss -Hltn "sport = :$GWP" | grep -q . && break
	sleep 0.05
done
gw_saw() { grep -c "\"GET $1 " "$TMPDIR_T/gw.log"; }

LOOP='while :; do sleep 1; done'
docker_run jailed -- sh -c "$LOOP"
JPID=$CPID
JCG=$CCG
JID=$(dk inspect --format '{{.Id}}' jailed)
check "a container runs ($JPID)" [ -n "$JPID" ]
check "its cgroup2 directory is its own, under the suite's cgroup parent" \
	[ "$JCG" = "$(cg_root)/$DK_CGP/$JID" ]
docker_run other -- sh -c "$LOOP"
OPID=$CPID
OCG=$CCG
check "a second, unrelated container runs ($OPID)" [ -n "$OPID" ]
in_own_netns() { [ "$(readlink "/proc/$1/ns/net")" != "$(readlink "/proc/$DK_PID/ns/net")" ]; }
check "the container has a network namespace of its own, not dockerd's" in_own_netns "$JPID"

get jailed "http://$GW:$GWP/gw/before"
reached_before() { [ "$status" = 200 ] && [ "$(gw_saw /gw/before)" = 1 ]; }
check "before the attach, the container reaches the gateway's server ($status)" reached_before

# --- attached by name, through Debian's docker --------------------------------------------------

state_snapshot "$TMPDIR_T/before"
AUD=$TMPDIR_T/audit.jsonl
PATH=$DK_BIN:$PATH attach_bg att --container jailed --resolve-on-host \
	--allow "domain=up.test" --audit-log "$AUD"
ID=$(jail_field "$ALOG" id)
PPORT=$(jail_field "$ALOG" proxy_port)
logged "boundary asks docker for the container's first process" "$(cat "$ALOG")" \
	"container jailed: docker says its first process is pid $JPID"
logged "and attaches to its cgroup, inside its network namespace" "$(cat "$ALOG")" \
	"attached to $JCG: .*network namespace of pid $JPID"
check "the container's cgroup has boundary's programs" not no_programs "$JCG"
check "the unrelated container's cgroup has none" no_programs "$OCG"
not_above() { case "$(cg2_of "$1")/" in "$JCG"/*) return 1 ;; esac; }
check "dockerd's cgroup is not the jailed one, nor beneath it" not_above "$DK_PID"
listens_inside() { nsenter -t "$JPID" -n ss -Hltn "sport = :$PPORT" | grep -q 127.0.0.1; }
check "the proxy listens inside the container's network namespace" listens_inside

in_ctr jailed nslookup up.test
check "boundary answers the container's DNS queries ($rc)" grep -q "^Name:.*up\.test" <<<"$out"
diag "the container's IPv6: disable_ipv6=$(nsenter -t "$JPID" -n cat /proc/sys/net/ipv6/conf/all/disable_ipv6 2>&1), lo: $(nsenter -t "$JPID" -n ip -6 -o addr show dev lo 2>&1 | awk '{ print $4 }')"
allowed() { [ "$status" = 200 ] && grep -q "/echo/$1" <<<"$body" && grep -q "/echo/$1" "$UP/requests.log"; }
in_ctr jailed nslookup -type=AAAA up.test
# answered, with no address (not a query that found no server)
no_aaaa() {
	[ -n "$out" ] && ! grep -q "no servers could be reached" <<<"$out" &&
		! grep -q "fd42:b0d:53" <<<"$out"
}
check "Docker disables IPv6 in the container, so boundary answers no AAAA there" no_aaaa
[ "$rc" = 0 ] || diag "nslookup: $out"
get jailed "http://up.test:$P_HTTP/echo/in-docker-v6"
check "so a client that tries the first address it gets goes through ($status)" allowed in-docker-v6
# The rest as clients that prefer IPv4 (RFC 6724's table in glibc's gai.conf).
dk exec jailed sh -c 'echo "precedence ::ffff:0:0/96 100" >/etc/gai.conf'
get jailed "http://up.test:$P_HTTP/echo/in-docker"
check "an allowed request from inside the container goes through ($status)" allowed in-docker
[ "$status" = 200 ] || diag "wget: $out" "log: $(tail -n 20 "$ALOG")"
get jailed "http://other.test:$P_HTTP/echo/refused"
refused() { [ "$status" = 403 ] && [ "$(conns B)" = 0 ]; }
check "a request no rule allows gets 403 and never reaches its server ($status)" refused
get jailed "http://$GW:$GWP/gw/jailed"
gw_refused() { [ "$status" = 403 ] && [ "$(gw_saw /gw/jailed)" = 0 ]; }
check "the gateway's server is refused to it too, and sees nothing ($status)" gw_refused

get other "http://$GW:$GWP/gw/other"
other_free() { [ "$status" = 200 ] && [ "$(gw_saw /gw/other)" = 1 ]; }
check "meanwhile the unrelated container reaches it directly ($status)" other_free
dk_free() {
	dk_netns timeout 20 /bin/busybox wget -q -O /dev/null "http://$GW:$GWP/gw/dockerd" &&
		[ "$(gw_saw /gw/dockerd)" = 1 ]
}
check "and so does a process in dockerd's cgroup and namespace" dk_free
dk_answers() { dk ps --format '{{.Names}}' | grep -qx jailed; }
check "dockerd answers while the container is jailed" dk_answers

audit_names_process "$AUD" /echo/in-docker /echo/refused

# --- SIGTERM detaches -----------------------------------------------------------------------------

detach
check "SIGTERM ends the attach with status 0 ($rc)" [ "$rc" = 0 ]
check "the container's cgroup has no programs after it" no_programs "$JCG"
no_listener() { ! nsenter -t "$JPID" -n ss -Hltn "sport = :$PPORT" | grep -q .; }
check "no listener is left in the container's namespace" no_listener
check "the container still runs" kill -0 "$JPID"
get jailed "http://$GW:$GWP/gw/after"
free_again() { [ "$status" = 200 ] && [ "$(gw_saw /gw/after)" = 1 ]; }
check "the container reaches the gateway's server directly again ($status)" free_again
state_snapshot "$TMPDIR_T/after"
left=$(state_leftovers "$TMPDIR_T/before" "$TMPDIR_T/after" "$ID")
nothing_left() { [ -z "$left" ] && [ ! -e "/run/boundary/$ID" ]; }
check "the detach leaves no pins, run files or processes behind" nothing_left
[ -n "$left" ] && diag "left: $left"

# --- restarts: a container whose first instruction is a loop aimed at a refused server ----------

# The hammer's command is the loop: on every (re)start it runs from the container's first
# instruction. The gateway's server must never see a request of it once boundary has attached.
docker_run hammer -- sh -c "while :; do timeout 2 wget -q -O /dev/null http://$GW:$GWP/gw/hammer; sleep 0.05; done"
HCG=$CCG
for _ in $(seq 100); do [ "$(gw_saw /gw/hammer)" -gt 0 ] && break; sleep 0.05; done
check "unjailed, the hammer reaches the gateway's server" [ "$(gw_saw /gw/hammer)" -gt 0 ]
PATH=$DK_BIN:$PATH attach_bg hm --container hammer --resolve-on-host \
	--allow "domain=up.test"
HLOG=$ALOG
HBND=$BND_PID
sleep 0.5 # a request already on its way at the attach may still land
H0=$(gw_saw /gw/hammer)
# followed LOG N: waits (20 s at most) until LOG says N times that boundary followed a restart.
followed() {
	for _ in $(seq 400); do
		[ "$(grep -cE "jailed again" "$1")" -ge "$2" ] && return 0
		sleep 0.05
	done
	return 1
}
no_hammer() { sleep 1; [ "$(gw_saw /gw/hammer)" = "$H0" ]; }
check "attached, the hammer is refused: the server sees it no more" no_hammer

dk restart -t 1 hammer >/dev/null
check "docker restart: boundary follows the container (same cgroup path, new cgroup)" followed "$HLOG" 1
diag "$(grep -E "jailed again|connection.s. opened before" "$HLOG")"
logged "it says the cgroup is new and the programs are on it" "$(cat "$HLOG")" \
	"$HCG is a new cgroup \\(the container restarted\\): boundary's programs are on it"
get hammer "http://up.test:$P_HTTP/echo/after-restart"
check "after the restart an allowed request goes through ($status)" allowed after-restart
get hammer "http://other.test:$P_HTTP/echo/refused-after-restart"
check "and a refused one gets 403 ($status)" [ "$status" = 403 ]
check "across the restart the hammer never reached the server" no_hammer

dk stop -t 1 hammer >/dev/null
logged "docker stop: boundary says the container is gone, and waits" "$(cat "$HLOG")" \
	"$HCG is gone \\(the container stopped\\)"
check "boundary keeps running meanwhile" kill -0 "$HBND"
dk start hammer >/dev/null
check "docker start: boundary follows it again" followed "$HLOG" 2
get hammer "http://up.test:$P_HTTP/echo/after-start"
check "after docker start an allowed request goes through ($status)" allowed after-start
check "across stop and start the hammer never reached the server" no_hammer

# --- SIGKILL, a new attach, boundary cleanup: never an open instant ------------------------------

kill -KILL "$HBND"
wait "$HBND" 2>/dev/null
check "boundary killed: the hammer stays refused (the pins keep the cgroup closed)" no_hammer
[ "$(gw_saw /gw/hammer)" = "$H0" ] ||
	diag "pins: $(ls -R /sys/fs/bpf/boundary 2>&1 | head -20)" "log: $(grep -v libbpf "$HLOG" | tail -n 25)"
PATH=$DK_BIN:$PATH attach_bg hm2 --container hammer --resolve-on-host \
	--allow "domain=up.test"
HLOG=$ALOG
HBND=$BND_PID
logged "a new attach takes over the stale one" "$(cat "$HLOG")" "took over from stale attachment"
check "across the re-attach the hammer never reached the server" no_hammer
get hammer "http://up.test:$P_HTTP/echo/after-reattach"
check "and the new boundary serves the container ($status)" allowed after-reattach
kill -KILL "$HBND"
wait "$HBND" 2>/dev/null
check "killed again, up to boundary cleanup the hammer never reaches the server" no_hammer
"$BOUNDARY" cleanup >"$TMPDIR_T/cleanup.out" 2>&1
logged "cleanup says the container is open again" "$(cat "$TMPDIR_T/cleanup.out")" \
	"cgroup $HCG is no longer jailed"
reopened() {
	for _ in $(seq 100); do [ "$(gw_saw /gw/hammer)" -gt "$H0" ] && return 0; sleep 0.05; done
	return 1
}
check "after it the hammer reaches the server again" reopened
dk rm -f hammer >/dev/null

# --- containerd's ctr: Docker's containers are tasks in namespace moby ----------------------------

# No docker this time (the default socket is not this dockerd's): boundary asks ctr, which finds
# the container as a task of dockerd's own containerd, in a namespace nobody named.
OID=$(dk inspect --format '{{.Id}}' other)
CTR_SOCK=$DK/exec/containerd/containerd.sock
CONTAINERD_ADDRESS=$CTR_SOCK attach_bg ctr --container "$OID" \
	--resolve-on-host --allow "domain=up.test"
CLOG=$ALOG
logged "with no docker to ask, ctr finds a Docker container in containerd's namespace moby" \
	"$(cat "$CLOG")" "container $OID: ctr at $CTR_SOCK says its first process is pid $OPID"
logged "and boundary attaches to it" "$(cat "$CLOG")" "attached to $OCG: "
detach
check "and detaches ($rc)" [ "$rc" = 0 ]

# --- a parent boundary holds: containers started under it are jailed from their first instruction -

JAILS=/$DK_CGP/jails
attach_bg par --create --cgroup "$JAILS" --allow "domain=up.test"
PLOG=$ALOG
PBND=$BND_PID
logged "boundary attach --create holds a parent for containers" "$(cat "$PLOG")" \
	"attached to $(cg_root)$JAILS, a parent"
# Each container's first instruction is a request to the gateway's server, which no rule allows.
FIRST="timeout 5 wget -q -O /dev/null http://$GW:$GWP/gw/first-instruction; while :; do sleep 1; done"
docker_run p1 --cgroup-parent "$JAILS" -- sh -c "$FIRST"
P1CG=$CCG
docker_run p2 --cgroup-parent "$JAILS" -- sh -c "$FIRST"
P2CG=$CCG
check "docker run --cgroup-parent puts the containers under the parent" \
	[ "${P1CG%/*}" = "$(cg_root)$JAILS" ] && [ "${P2CG%/*}" = "$(cg_root)$JAILS" ]
served() { for _ in $(seq 200); do grep -q "jailed $1 " "$PLOG" && return 0; sleep 0.05; done; return 1; }
check "boundary serves the first container in its own namespace" served "$P1CG"
check "and the second in its" served "$P2CG"
sleep 5.5 # the first instructions' wget gives up after 5 s
check "neither container's first instruction reached the gateway's server" \
	[ "$(gw_saw /gw/first-instruction)" = 0 ]
get p1 "http://up.test:$P_HTTP/echo/parent-p1"
check "a request the rules allow goes through from the first ($status)" allowed parent-p1
[ "$status" = 200 ] || diag "wget: $out" "log: $(grep -v libbpf "$PLOG" | tail -n 15)"
get p2 "http://up.test:$P_HTTP/echo/parent-p2"
check "and from the second ($status)" allowed parent-p2
get p2 "http://$GW:$GWP/gw/parent-refused"
check "one they refuse gets 403 and is not seen ($status)" \
	[ "$status" = 403 ] && [ "$(gw_saw /gw/parent-refused)" = 0 ]
check "the unrelated container, outside the parent, is not jailed" no_programs "$OCG"
dk restart -t 1 p1 >/dev/null
P1NEW=$(cg2_of "$(dk inspect --format '{{.State.Pid}}' p1)")
check "a container restarted under the parent is served again" served "$P1NEW"
get p1 "http://up.test:$P_HTTP/echo/parent-restarted"
check "and its requests go through ($status)" allowed parent-restarted
sleep 5.5
check "its first instruction after the restart did not reach the server either" \
	[ "$(gw_saw /gw/first-instruction)" = 0 ]
kill -TERM "$PBND" 2>/dev/null
wait "$PBND"
rc=$?
check "SIGTERM detaches the parent ($rc)" [ "$rc" = 0 ]
dk rm -f p1 p2 >/dev/null

# --- a user-defined network: Docker's embedded DNS, in dockerd's namespace -----------------------
# Unjailed here: what a suite that jails a container on such a network can count on.

dk network create bnd-net >/dev/null
# peer-b serves a page (busybox httpd); peer-a knows one more name, through --add-host.
docker_run peer-b --network bnd-net -- sh -c \
	'mkdir -p /www && echo "peer-b page" >/www/index.html && exec httpd -f -p 8000 -h /www'
PEER_B=$(dk_ip peer-b)
docker_run peer-a --network bnd-net --add-host "extra.test:$PEER_B" -- sh -c "$LOOP"
PA_PID=$CPID
in_ctr peer-a cat /etc/resolv.conf
check "a container on a user-defined network is given Docker's embedded DNS" \
	grep -q "^nameserver 127\.0\.0\.11" <<<"$out"
in_ctr peer-a nslookup peer-b
check "which answers a peer's name with its address ($PEER_B)" grep -qx "Address: $PEER_B" <<<"$out"
in_ctr peer-a nslookup -timeout=2 -retry=1 outside.invalid
no_answer() { [ "$rc" != 0 ] && grep -q "no servers could be reached" <<<"$out"; }
check "and nothing outside: the query it forwards finds no route out of dockerd's namespace" no_answer

# --- attached there: names as the container resolves them ---------------------------------------
# No --resolve-on-host: boundary resolves peer-a's allowed names from its /etc/hosts and through
# Docker's embedded DNS, asked from inside peer-a's namespace, and connects from there.

NAUD=$TMPDIR_T/names.jsonl
PATH=$DK_BIN:$PATH attach_bg names --container peer-a \
	--allow "domain=peer-b" --allow "domain=extra.test" --audit-log "$NAUD"
NLOG=$ALOG
logged "boundary says it resolves inside the container" "$(cat "$NLOG")" \
	"allowed names are resolved as pid $PA_PID resolves them: its /etc/hosts, then the nameservers of its /etc/resolv.conf, asked from inside its network namespace"
get peer-a "http://peer-b:8000/"
peer_page() { [ "$status" = 200 ] && [ "$body" = "peer-b page" ]; }
check "attached, peer-a reaches peer-b by the name Docker's DNS gives it ($status)" peer_page
[ "$status" = 200 ] || diag "wget: $out" "log: $(tail -n 20 "$NLOG")"
r=$(grep '"event":"request"' "$NAUD" 2>/dev/null | grep -F 'http://peer-b:8000/"' | head -1)
contains "the audit log has an allow record for it" "$r" '"decision":"allow"'
get peer-a "http://extra.test:8000/"
check "a name from the container's /etc/hosts (--add-host) resolves too ($status)" peer_page
get peer-a "http://peer-c.test:8000/"
check "a name no rule allows gets 403 ($status)" [ "$status" = 403 ]
detach
check "SIGTERM detaches peer-a ($rc)" [ "$rc" = 0 ]
get peer-a "http://peer-b:8000/"
check "detached, peer-a reaches peer-b directly again ($status)" peer_page

diag "containers.t: $(($(date +%s) - T0)) s"
done_testing
