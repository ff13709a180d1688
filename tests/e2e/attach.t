#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# attach.t: boundary attach end to end, as root. A scratch cgroup holds a long-running "member"
# (a shell that runs what the test hands it through a FIFO), started before boundary attaches:
# its new connections are redirected and decided by the rules from the moment of the attach,
# in the host's network namespace (where loopback is the host's and is decided too) and in one
# of its own made by unshare -n (a container stand-in: the listeners open inside it). A
# connection opened before the attach is named with its owner, or shut down with
# --kill-existing-sockets. SIGTERM detaches and leaves nothing behind; SIGKILL leaves the
# cgroup closed until `boundary cleanup`, which never removes the cgroup. --container and
# --systemd-unit are resolved through stand-ins for docker and systemctl (no runtime or
# systemd runs here).
#
# $CURL is a command line (tests/lib/proxy.sh), split into words on purpose.
# shellcheck disable=SC2086
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/jail.sh"
. "$(dirname "$0")/../lib/proxy.sh"
proxy_suite

CGROOT=$(cg_root)
CGS=""
MEMBERS=""

# member_up NAME [unshare -n]: a cgroup $CGROOT/bnd-attach-$$-NAME with a shell in it (in a
# network namespace of its own with "unshare -n"); sets MPID (the shell's pid) and MCG (the
# cgroup's directory).
member_up() {
	local name=$1
	shift
	member_in "$CGROOT/bnd-attach-$$-$name" "$name" "$@"
}
# member_in DIR NAME [unshare -n]: member_up with its cgroup at DIR (made if needed).
member_in() {
	local name=$2 i
	MCG=$1
	shift 2
	mkdir -p "$MCG" || return 1
	CGS="$MCG $CGS"
	mkfifo "$TMPDIR_T/$name.in"
	# shellcheck disable=SC2016 # for the inner shells
	sh -c 'echo $$ >"$1/cgroup.procs" && shift && exec "$@"' _ "$MCG" "$@" \
		bash -c 'exec 3<>"$0"; while read -r line <&3; do eval "$line"; done' \
		"$TMPDIR_T/$name.in" &
	disown
	MPID=""
	for i in $(seq 100); do
		MPID=$(cat "$MCG/cgroup.procs" 2>/dev/null | head -1)
		[ -n "$MPID" ] && [ "$(cat "/proc/$MPID/comm" 2>/dev/null)" = bash ] && break
		sleep 0.05
	done
	MEMBERS="$MEMBERS $MPID"
}

# in_member NAME CMD: runs CMD (a shell line) in member NAME's shell, waits for it (30 s at
# most); sets $out (its output) and $rc.
in_member() {
	local name=$1 i
	rm -f "$TMPDIR_T/$name.rc"
	echo "{ $2; } >$TMPDIR_T/$name.out 2>&1; echo \$? >$TMPDIR_T/$name.rc.tmp; mv $TMPDIR_T/$name.rc.tmp $TMPDIR_T/$name.rc" \
		>"$TMPDIR_T/$name.in"
	for i in $(seq 600); do
		[ -e "$TMPDIR_T/$name.rc" ] && break
		sleep 0.05
	done
	rc=$(cat "$TMPDIR_T/$name.rc" 2>/dev/null || echo timeout)
	out=$(cat "$TMPDIR_T/$name.out" 2>/dev/null)
}

members_cleanup() {
	local c p
	for p in $MEMBERS; do kill -9 "$p" 2>/dev/null; done
	for c in $CGS; do
		[ -d "$c" ] || continue
		echo 1 >"$c/cgroup.kill" 2>/dev/null
		for p in $(seq 50); do
			rmdir "$c" 2>/dev/null && break
			sleep 0.1
		done
	done
}
at_exit members_cleanup


# A listener outside every jail that holds what connects to it and notes when the peer goes.
HOLD=$TMPDIR_T/hold
mkdir -p "$HOLD"
python3 "$STAGE/lib/hold_listener.py" "$HOLD" &
HOLD_PID=$!
at_exit "kill $HOLD_PID 2>/dev/null"
for _ in $(seq 100); do [ -e "$HOLD/port" ] && break; sleep 0.05; done
HOLD_PORT=$(cat "$HOLD/port")

# went_through TEXT: the member's request exited 0 and its output has a line with TEXT.
went_through() { [ "$rc" = 0 ] && grep -q -- "$1" <<<"$out"; }
# refused_saying TEXT: boundary exited 125 and its stderr has a line with TEXT.
refused_saying() { [ "$rc" = 125 ] && grep -q -- "$1" <<<"$err"; }

# --- a cgroup in the host's network namespace, with a connection made before the attach --------

state_snapshot "$TMPDIR_T/before"
member_up host
check "a member runs in the scratch cgroup before boundary attaches" [ -n "$MPID" ]
# The held connection: made now, before the attach, by a python3 in the member's cgroup.
in_member host "python3 $STAGE/lib/held_conn.py $TMPDIR_T $HOLD_PORT & echo \$! >$TMPDIR_T/held.pid"
HELD_PID=$(cat "$TMPDIR_T/held.pid")
MEMBERS="$MEMBERS $HELD_PID"
for _ in $(seq 100); do [ -e "$TMPDIR_T/held.up" ] && break; sleep 0.05; done
check "the member holds a connection made before the attach" [ -e "$TMPDIR_T/held.up" ]

attach_bg host --cgroup "${MCG#"$CGROOT"}" --allow "domain=up.test"
logged "boundary attaches to the cgroup (named relative to the cgroup2 mount)" "$(cat "$ALOG")" \
	"attached to $MCG: .*in the host's network namespace"
PPORT=$(jail_field "$ALOG" proxy_port)
logged "the held connection is named with its owner's pid and name, and its peer" \
	"$(cat "$ALOG")" "pid $HELD_PID \(python3\) has a TCP connection to 127\.0\.0\.1:$HOLD_PORT .*opened before boundary attached"
held_open() { sleep 0.3; [ ! -e "$TMPDIR_T/held.eof" ]; }
check "without --kill-existing-sockets the held connection is left open" held_open
check "the cgroup has boundary's programs attached" not no_programs "$MCG"

in_member host "$CURL http://up.test:$P_HTTP/echo/attached"
want_a=$(conns A)
check "an allowed request from the running member goes through ($rc: $out)" \
	went_through "/echo/attached"
logged "boundary names the member's process" "$(cat "$ALOG")" \
	"ALLOW GET http://up.test:$P_HTTP/echo/attached from curl\[[0-9]+\]"
in_member host "$CURL -o /dev/null -w '%{http_code}' http://other.test:$P_HTTP/refused"
check "a request no rule allows is refused with 403 ($out)" [ "$out" = 403 ]
check "the refused request never reached its server" [ "$(conns B)" = 0 ]

# The cgroup shares the host's loopback: that is decided too, and boundary's own ports are shut.
in_member host "curl -sS --max-time 10 -o /dev/null -w '%{http_code}' http://127.0.0.1:$P_HTTP/direct"
loopback_refused() { [ "$out" = 403 ] && [ "$(conns A)" = "$want_a" ]; }
check "a connection to the host's loopback is redirected and refused too ($out)" loopback_refused
in_member host "curl -sS --max-time 5 http://127.0.0.1:$PPORT/"
check "the member cannot dial boundary's listener itself (curl exit $rc)" [ "$rc" = 7 ]
curl -sS --max-time 5 -x "http://127.0.0.1:$PPORT" "http://up.test:$P_HTTP/echo/outside" \
	>"$TMPDIR_T/outside" 2>&1
check "a host process outside the cgroup cannot use the listener as a proxy" \
	not grep -q /echo/outside "$TMPDIR_T/outside"
logged "boundary says why it refused it" "$(cat "$ALOG")" "refused a connection no jailed process made"

detach
check "SIGTERM detaches with status 0 ($rc)" [ "$rc" = 0 ]
check "after the detach the cgroup has no programs" no_programs "$MCG"
left_as_they_were() { [ -d "$MCG" ] && kill -0 "$MPID" && kill -0 "$HELD_PID"; }
check "the cgroup and its member are left as they were" left_as_they_were
state_snapshot "$TMPDIR_T/after"
left=$(state_leftovers "$TMPDIR_T/before" "$TMPDIR_T/after" "$ID")
nothing_left() { [ -z "$left" ] && [ ! -e "/run/boundary/$ID" ]; }
check "the detach leaves no pins, run files or processes behind" nothing_left
[ -n "$left" ] && diag "left: $left"
in_member host "curl -sS --max-time 10 -o /dev/null -w '%{http_code}' http://127.0.0.1:$P_HTTP/echo/free"
check "after the detach the member reaches loopback directly again ($out)" [ "$out" = 200 ]

attach_bg kill --kill-existing-sockets --cgroup "$MCG" --allow "domain=up.test"
logged "--kill-existing-sockets shuts the held connection down, naming it" "$(cat "$ALOG")" \
	"pid $HELD_PID \(python3\): shut down its TCP connection to 127\.0\.0\.1:$HOLD_PORT"
held_shut() {
	for _ in $(seq 50); do [ -e "$TMPDIR_T/held.eof" ] && [ -e "$HOLD/gone.1" ] && break; sleep 0.1; done
	[ -e "$TMPDIR_T/held.eof" ] && [ -e "$HOLD/gone.1" ]
}
check "its owner reads end of file and its peer sees it go" held_shut

# --- SIGKILL: the cgroup stays closed until boundary cleanup, which keeps the cgroup ---------------

kill -KILL "$BND_PID"
wait "$BND_PID" 2>/dev/null
check "killed, boundary leaves its pins in place" [ -d "/sys/fs/bpf/boundary/$ID" ]
before=$(conns)
in_member host "$CURL http://up.test:$P_HTTP/echo/after-kill"
stays_closed() { [ "$rc" != 0 ] && [ "$(conns)" = "$before" ]; }
check "the cgroup stays closed: a new connection fails (curl exit $rc)" stays_closed
jailed -- true
stale_closed() { [ -d "/sys/fs/bpf/boundary/$ID" ] && ! no_programs "$MCG"; }
check "an unrelated boundary run leaves the stale attachment closed" stale_closed
"$BOUNDARY" cleanup >"$TMPDIR_T/cleanup.out" 2>&1
logged "boundary cleanup reaps it and says the cgroup is open again" \
	"$(cat "$TMPDIR_T/cleanup.out")" "reaped stale attachment $ID .*cgroup $MCG is no longer jailed"
reaped_kept_cgroup() {
	[ ! -e "/sys/fs/bpf/boundary/$ID" ] && [ ! -e "/run/boundary/$ID" ] && no_programs "$MCG" &&
		[ -d "$MCG" ] && kill -0 "$MPID"
}
check "cleanup unpinned the programs and kept the cgroup and its member" reaped_kept_cgroup

# --- a new attach after SIGKILL takes over with no open instant ----------------------------------

attach_bg again --cgroup "$MCG" --allow "domain=up.test"
OLD_ID=$ID
kill -KILL "$BND_PID"
wait "$BND_PID" 2>/dev/null
# The member hammers the host's loopback, which no rule allows, the whole time: under the stale
# pins the connection is refused, under the new attach it gets 403; it must never get through.
in_member host "(while :; do curl -s -o /dev/null --max-time 2 http://127.0.0.1:$P_HTTP/echo/hammer; sleep 0.01; done) & echo \$! >$TMPDIR_T/hammer.pid"
sleep 0.3
attach_bg takeover --cgroup "$MCG" --allow "domain=up.test"
logged "a new attach takes over the stale attachment once its own programs are on" \
	"$(cat "$ALOG")" "took over from stale attachment $OLD_ID .*cgroup $MCG is jailed by this boundary now"
sleep 0.3
in_member host "kill \$(cat $TMPDIR_T/hammer.pid)"
check "no request of the hammering loop reached the server across the re-attach" \
	not grep -q /echo/hammer "$UP/requests.log"
# hook_up()'s debug line "jail ID: cgroup ..." follows the attach of the new programs
takeover_order() {
	awk -v id="$ID" -v old="$OLD_ID" 'index($0, "jail " id ": cgroup") && !a { a = NR }
		/took over from stale attachment/ && index($0, old) { t = NR }
		END { exit !(a && t && a < t) }' "$ALOG"
}
check "the stale pins go only after the new programs are attached" takeover_order
detach
detached_clean() { [ "$rc" = 0 ] && [ ! -e "/sys/fs/bpf/boundary/$OLD_ID" ] && no_programs "$MCG"; }
check "the new boundary detaches cleanly ($rc), the old pins gone, the cgroup open" detached_clean

# --- a container stand-in: a network namespace of its own --------------------------------------

member_up ctr unshare -n
CPID=$MPID
CCG=$MCG
check "the stand-in lives in a network namespace of its own" \
	[ "$(readlink /proc/$CPID/ns/net)" != "$(readlink /proc/self/ns/net)" ]
# A connection inside the stand-in's own loopback, made before the attach: never redirected, so
# --kill-existing-sockets has nothing to say about it.
mkdir -p "$TMPDIR_T/inner" "$TMPDIR_T/innerl"
in_member ctr "ip link set lo up; python3 $STAGE/lib/hold_listener.py $TMPDIR_T/innerl & for i in \$(seq 100); do [ -e $TMPDIR_T/innerl/port ] && break; sleep 0.05; done; python3 $STAGE/lib/held_conn.py $TMPDIR_T/inner \$(cat $TMPDIR_T/innerl/port) & true"
for _ in $(seq 100); do [ -e "$TMPDIR_T/inner/held.up" ] && break; sleep 0.05; done
INNER_PORT=$(cat "$TMPDIR_T/innerl/port")
# The stand-ins' upstreams are the test servers on the host's loopback, and their names are in
# the hosts file boundary sees: --resolve-on-host. (Without it, boundary resolves and connects
# from inside the stand-in's namespace, as its processes would: tested below, with servers of
# its own.)
attach_bg ctr --kill-existing-sockets --resolve-on-host --cgroup "$CCG" --allow "domain=up.test"
logged "boundary attaches inside the stand-in's namespace" "$(cat "$ALOG")" \
	"attached to $CCG: .*in the network namespace of pid $CPID"
inner_left() { sleep 0.3; [ -e "$TMPDIR_T/inner/held.up" ] && [ ! -e "$TMPDIR_T/inner/held.eof" ]; }
check "--kill-existing-sockets leaves a connection on the container's own loopback open" inner_left
check "and does not name it" not grep -q "127.0.0.1:$INNER_PORT" "$ALOG"
PPORT=$(jail_field "$ALOG" proxy_port)
listens_inside() {
	nsenter -t "$CPID" -n ss -Hltn "sport = :$PPORT" | grep -q 127.0.0.1 &&
		! ss -Hltn "sport = :$PPORT" | grep -q "127.0.0.1:$PPORT"
}
check "the proxy listens inside the stand-in's namespace, not the host's" listens_inside
in_member ctr "$CURL http://up.test:$P_HTTP/echo/container"
check "an allowed request from the stand-in goes through ($rc: $out)" \
	went_through "/echo/container"
in_member ctr "$CURL -o /dev/null -w '%{http_code}' http://other.test:$P_HTTP/refused"
refused_unseen() { [ "$out" = 403 ] && [ "$(conns B)" = 0 ]; }
check "a refused one gets 403 ($out) and never reaches its server" refused_unseen
in_member ctr "curl -sS --max-time 10 -x http://127.0.0.1:$PPORT http://up.test:$P_HTTP/echo/explicit"
check "the stand-in may use the listener as its HTTP proxy ($rc)" went_through "/echo/explicit"
logged "and such a request is named with its process, like a redirected one" "$(cat "$ALOG")" \
	"ALLOW GET http://up.test:$P_HTTP/echo/explicit from curl\[[0-9]+\]"
in_member ctr "getent hosts up.test"
dns_answered() { [ "$rc" = 0 ] && [ -n "$out" ]; }
check "the stand-in's DNS is answered by boundary ($out)" dns_answered
detach
detached_ctr() { [ "$rc" = 0 ] && no_programs "$CCG"; }
check "SIGTERM detaches the stand-in's cgroup ($rc)" detached_ctr
no_listener_inside() { ! nsenter -t "$CPID" -n ss -Hltn "sport = :$PPORT" | grep -q .; }
check "no listener is left in the stand-in's namespace" no_listener_inside

# --- --container and --systemd-unit, through stand-ins ------------------------------------------

FAKE=$TMPDIR_T/fakebin
mkdir -p "$FAKE"
cat >"$FAKE/docker" <<EOF
#!/bin/sh
# docker inspect --format {{.State.Pid}} ID, as the real one answers it
if [ "\$1 \$2 \$3" = "inspect --format {{.State.Pid}}" ] && [ "\$4" = stand-in ]; then
	echo $CPID; exit 0
fi
if [ "\$4" = stopped ]; then echo 0; exit 0; fi
# a container that restarts: its pid is what the test last wrote, 0 while it is stopped
if [ -e "$TMPDIR_T/\$4.pid" ]; then cat "$TMPDIR_T/\$4.pid"; exit 0; fi
echo "Error: No such object: \$4" >&2
exit 1
EOF
cat >"$FAKE/systemctl" <<EOF
#!/bin/sh
# systemctl show -p ControlGroup --value UNIT
if [ "\$1 \$2 \$3 \$4 \$5" = "show -p ControlGroup --value stand-in.service" ]; then
	echo "${CCG#"$CGROOT"}"; exit 0
fi
echo
EOF
chmod 755 "$FAKE/docker" "$FAKE/systemctl"
OLDPATH=$PATH
export PATH=$FAKE:$PATH
attach_bg ctr2 --container stand-in --resolve-on-host --allow "domain=up.test"
logged "--container asks docker for the container's pid" "$(cat "$ALOG")" \
	"container stand-in: docker says its first process is pid $CPID"
logged "and attaches to its cgroup, inside its namespace" "$(cat "$ALOG")" \
	"attached to $CCG: .*network namespace of pid $CPID"
in_member ctr "$CURL http://up.test:$P_HTTP/echo/by-container"
check "requests from the container are decided ($out)" grep -q "/echo/by-container" <<<"$out"
detach
run_b attach --container nosuch
check "an unknown container is an error naming the runtime's answer" \
	refused_saying "no runtime knows it (docker: Error: No such object: nosuch)"
run_b attach --container stopped
check "a stopped container is an error that says so" refused_saying "is not running"
# ctr: containerd's namespaces (Docker's moby, k8s.io, default) and sockets are tried in turn
cat >"$FAKE/ctr" <<EOF
#!/bin/sh
# ctr --address SOCK --namespace NS task ls: this one knows one task, in namespace k8s.io
echo "\$*" >>"$TMPDIR_T/ctr.calls"
[ "\$1 \$3 \$5 \$6" = "--address --namespace task ls" ] || exit 1
echo "TASK PID STATUS"
[ "\$4" = k8s.io ] && echo "ctr-stand-in $CPID RUNNING"
exit 0
EOF
chmod 755 "$FAKE/ctr"
CTR_SOCK=$TMPDIR_T/containerd.sock
python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$CTR_SOCK"
export CONTAINERD_ADDRESS=$CTR_SOCK
attach_bg ctr3 --container ctr-stand-in --allow "domain=up.test"
logged "--container finds a containerd task in a namespace nobody named" "$(cat "$ALOG")" \
	"container ctr-stand-in: ctr at $CTR_SOCK says its first process is pid $CPID"
detach
check "ctr was asked in namespace moby first, then k8s.io" \
	[ "$(cut -d' ' -f4 "$TMPDIR_T/ctr.calls" | head -2 | xargs)" = "moby k8s.io" ]
run_b attach --container nowhere
check "an unknown container names the namespaces and sockets ctr tried" \
	refused_saying "ctr: no such task in namespaces moby, k8s.io, default at the sockets of $CTR_SOCK, /run/containerd/containerd.sock"
unset CONTAINERD_ADDRESS
attach_bg unit --systemd-unit stand-in.service --allow "domain=up.test"
logged "--systemd-unit asks systemctl for the unit's cgroup" "$(cat "$ALOG")" \
	"attached to $CCG: "
detach
run_b attach --systemd-unit gone.service
check "a unit with no cgroup is an error that says so" refused_saying "has no cgroup (is it running?"

# --- a container that restarts: its cgroup removed and made again at the same path -------------

# restart_member NAME [unshare -n]: what a runtime's restart does to member NAME: its processes
# killed, its cgroup removed, a new one made at the same path with a new member in it (MPID).
stop_member() {
	local cg=$CGROOT/bnd-attach-$$-$1
	echo 0 >"$TMPDIR_T/$1.pid"
	echo 1 >"$cg/cgroup.kill"
	for _ in $(seq 50); do rmdir "$cg" 2>/dev/null && break; sleep 0.1; done
	rm -f "$TMPDIR_T/$1.in"
}
restart_member() {
	local name=$1
	shift
	stop_member "$name"
	member_up "$name" "$@"
	echo "$MPID" >"$TMPDIR_T/$name.pid"
}
# hammer NAME PATH: member NAME requests the host's loopback (no rule allows it) in a loop
hammer() { in_member "$1" "(while :; do curl -s -o /dev/null --max-time 2 http://127.0.0.1:$P_HTTP/echo/$2; sleep 0.01; done) & true"; }

member_up restarter
echo "$MPID" >"$TMPDIR_T/restarter.pid"
RCG=$MCG
attach_bg restart --container restarter --allow "domain=up.test"
RLOG=$ALOG
RPID=$BND_PID
restart_member restarter
hammer restarter hammer-restart
logged "a restart's new cgroup gets the programs at once" "$(cat "$RLOG")" \
	"$RCG is a new cgroup \\(the container restarted\\): boundary.s programs are on it"
in_member restarter "$CURL http://up.test:$P_HTTP/echo/after-restart"
check "after the restart an allowed request goes through ($rc)" went_through "/echo/after-restart"
in_member restarter "curl -sS --max-time 10 -o /dev/null -w '%{http_code}' http://127.0.0.1:$P_HTTP/echo/probe"
check "and one no rule allows is refused ($out)" [ "$out" = 403 ]
check "the hammering loop of the restarted container never got through" \
	not grep -q /echo/hammer-restart "$UP/requests.log"
stop_member restarter
logged "a stopped container is said to be gone, and boundary waits" "$(cat "$RLOG")" \
	"$RCG is gone \(the container stopped\)"
check "boundary keeps running while nothing is there to jail" kill -0 "$RPID"
member_up restarter
echo "$MPID" >"$TMPDIR_T/restarter.pid"
hammer restarter hammer-start
in_member restarter "$CURL http://up.test:$P_HTTP/echo/after-start"
check "after docker start the new cgroup is jailed too ($rc)" went_through "/echo/after-start"
check "and its hammering loop never got through" not grep -q /echo/hammer-start "$UP/requests.log"
check "the self-check finds the programs on the new cgroup" not no_programs "$RCG"

# Someone detaches the programs: boundary must not go on as if the cgroup were jailed.
bpftool link show | awk -v cg="$(stat -c %i "$RCG")" '/^[0-9]+:/ { id = $1 }
	$1 == "cgroup_id" && $2 == cg { sub(":", "", id); print id }' |
	while read -r l; do bpftool link detach id "$l"; done
for _ in $(seq 40); do kill -0 "$RPID" 2>/dev/null || break; sleep 0.1; done
kill -KILL "$RPID" 2>/dev/null && diag "boundary was still running: killed"
wait "$RPID"
rc=$?
check "programs detached behind its back: boundary exits non-zero within seconds ($rc)" [ "$rc" != 0 ]
logged "and says why" "$(cat "$RLOG")" "the BPF programs on $RCG are no longer attached"

# A container with a network namespace of its own gets a new one on restart: the listeners move.
member_up nsrestart unshare -n
echo "$MPID" >"$TMPDIR_T/nsrestart.pid"
attach_bg nsr --container nsrestart --resolve-on-host --allow "domain=up.test"
restart_member nsrestart unshare -n
# Until boundary has found the new namespace (its runtime names the new process), the
# container's connections are refused: the programs are on, the listeners not yet there.
for _ in $(seq 100); do grep -q "^boundary: info: followed " "$ALOG" && break; sleep 0.05; done
logged "boundary follows the container into its new namespace" "$(cat "$ALOG")" \
	"followed $CGROOT/bnd-attach-$$-nsrestart into the network namespace of pid $MPID"
in_member nsrestart "$CURL http://up.test:$P_HTTP/echo/new-netns"
check "after a restart into a new network namespace an allowed request goes through ($rc)" \
	went_through "/echo/new-netns"
in_member nsrestart "$CURL -o /dev/null -w '%{http_code}' http://other.test:$P_HTTP/refused"
check "a refused one gets 403 there ($out)" [ "$out" = 403 ]
in_member nsrestart "getent hosts up.test"
check "and its DNS is answered by boundary there ($out)" [ -n "$out" ]
detach
check "it detaches cleanly after following ($rc)" [ "$rc" = 0 ]

# --- the default: names resolved and upstreams reached from inside the stand-in -----------------
# A stand-in with a mount namespace of its own too, as a container has: its own /etc/hosts and
# /etc/resolv.conf (bind-mounted over the host's), a DNS server (fake_resolver.py: every A query
# answered 127.0.0.99) and an HTTP server (on 127.0.0.1 and 127.0.0.99) on its own loopback.
# Without --resolve-on-host, boundary resolves as the stand-in would and connects from its
# namespace; after a restart into new namespaces, from the new ones.
OWN=$TMPDIR_T/own
mkdir -p "$OWN"
# own_start up|restart: member "own" in new network and mount namespaces, with its files and
# servers; sets OPID and IPORT (the HTTP server's port).
own_start() {
	local how=$1
	rm -f "$OWN/port" "$OWN/dns.log.ready"
	printf '127.0.0.1\tlocalhost\n127.0.0.1\tinner.test\n' >"$OWN/hosts"
	: >"$OWN/resolv.conf"
	# shellcheck disable=SC2016 # for the inner shell
	set -- unshare -n -m sh -c 'mount --bind "$0/hosts" /etc/hosts &&
		mount --bind "$0/resolv.conf" /etc/resolv.conf && exec "$@"' "$OWN"
	if [ "$how" = up ]; then member_up own "$@"; else restart_member own "$@"; fi
	OPID=$MPID
	echo "$OPID" >"$TMPDIR_T/own.pid"
	in_member own "ip link set lo up; python3 $STAGE/lib/fake_resolver.py $OWN/dns.log & python3 $STAGE/lib/http_server.py inner 0 $OWN/port $OWN/http.log 127.0.0.1 127.0.0.99 & true"
	for _ in $(seq 100); do
		[ -s "$OWN/port" ] && [ -s "$OWN/dns.log.ready" ] && break
		sleep 0.05
	done
	IPORT=$(cat "$OWN/port")
	# the same file (the same inode) the bind mount shows
	echo "nameserver $(cat "$OWN/dns.log.ready")" >"$OWN/resolv.conf"
}
own_start up
attach_bg own --container own --allow "domain=inner.test" --allow "domain=dns-only.test"
logged "without --resolve-on-host, names resolve as the stand-in resolves them" "$(cat "$ALOG")" \
	"allowed names are resolved as pid $OPID resolves them: its /etc/hosts, then the nameservers"
in_member own "$CURL http://inner.test:$IPORT/hosts-file"
check "a name from the stand-in's own /etc/hosts reaches a server on its own loopback ($out)" \
	[ "$out" = inner ]
in_member own "$CURL http://dns-only.test:$IPORT/nameserver"
check "a name only its nameserver knows resolves, asked from its namespace ($out)" \
	[ "$out" = inner ]
check "and that nameserver was asked for it" grep -q " dns-only.test$" "$OWN/dns.log"
in_member own "$CURL -o /dev/null -w '%{http_code}' http://inner.test:$P_HTTP/echo/host-side"
host_unreached() { [ "$out" = 502 ] && ! grep -q /echo/host-side "$UP/requests.log"; }
check "the host's loopback servers are not reached from there ($out)" host_unreached
logged "the 502 says which address failed" "$(cat "$ALOG")" "cannot connect to inner.test port $P_HTTP"
in_member own "$CURL -o /dev/null -w '%{http_code}' http://other.test:$IPORT/refused"
check "a name no rule allows gets 403 ($out)" [ "$out" = 403 ]
own_start restart
for _ in $(seq 100); do grep -q "^boundary: info: followed " "$ALOG" && break; sleep 0.05; done
logged "boundary follows the restarted stand-in into its new namespaces" "$(cat "$ALOG")" \
	"followed $CGROOT/bnd-attach-$$-own into the network namespace of pid $OPID: .*, and resolves names and connects upstream from there"
in_member own "$CURL http://dns-only.test:$IPORT/after-restart"
check "names resolve and upstreams are reached in the new ones ($out)" [ "$out" = inner ]
check "and the new namespace's server answered it" grep -q "after-restart" "$OWN/http.log"
detach
check "it detaches cleanly ($rc)" [ "$rc" = 0 ]
export PATH=$OLDPATH

# --- a parent: each cgroup below it is a jail of its own, from its first instruction -------------

PCG=$CGROOT/bnd-attach-$$-parent
CGS="$PCG $CGS"
attach_bg parent --create --cgroup "${PCG#"$CGROOT"}" --allow "domain=up.test"
PLOG=$ALOG
PBND=$BND_PID
logged "--create makes the cgroup and attaches to it as a parent" "$(cat "$PLOG")" \
	"attached to $PCG, a parent: each cgroup below it, now or later, is a jail of its own"
check "the parent has boundary's programs" not no_programs "$PCG"
# Two children made after the attach, each in a network namespace of its own, and one in the
# host's: the first instruction of each already runs under the parent's programs. A child's
# first process joins the cgroup before it leaves the host's namespace (unshare -n after the
# write to cgroup.procs, as runc's does): boundary may first serve it there, then move it.
member_in "$PCG/one" pone unshare -n
ONE=$MPID
member_in "$PCG/two" ptwo unshare -n
TWO=$MPID
member_in "$PCG/host" phost
for _ in $(seq 100); do [ "$(grep -c "^boundary: info: jailed $PCG/" "$PLOG")" -ge 3 ] && break; sleep 0.05; done
logged "boundary serves a child in a network namespace of its own" "$(cat "$PLOG")" \
	"(jailed|moved) $PCG/one \(pid $ONE, in a network namespace of its own\)"
logged "and another, in another" "$(cat "$PLOG")" "(jailed|moved) $PCG/two \(pid $TWO, in a network namespace of its own\)"
logged "and one in the host's namespace" "$(cat "$PLOG")" "jailed $PCG/host \(pid [0-9]+, in the host's network namespace\)"
for c in pone ptwo phost; do
	in_member "$c" "$CURL http://up.test:$P_HTTP/echo/parent-$c"
	check "child $c: an allowed request goes through ($rc)" went_through "/echo/parent-$c"
	in_member "$c" "$CURL -o /dev/null -w '%{http_code}' http://other.test:$P_HTTP/refused-$c"
	check "child $c: a refused one gets 403 ($out)" [ "$out" = 403 ]
done
check "no refused request of a child reached its server" [ "$(conns B)" = 0 ]
logged "each child's requests are named with its process" "$(cat "$PLOG")" \
	"ALLOW GET http://up.test:$P_HTTP/echo/parent-pone from curl\[[0-9]+\]"
in_member phost "curl -sS --max-time 10 -o /dev/null -w '%{http_code}' http://127.0.0.1:$P_HTTP/echo/host-lo"
check "the host-namespace child's connections to host loopback are decided too ($out)" [ "$out" = 403 ]
# A child's very first instruction runs under the programs: a cgroup made now, whose first
# process at once asks the host's loopback (no rule allows it), is refused, whether boundary has
# made its entry yet (403) or not (everything goes to listeners, refused).
mkdir "$PCG/first"
CGS="$PCG/first $CGS"
sh -c 'echo $$ >"$1/cgroup.procs" && exec curl -sS --max-time 10 -o /dev/null -w "%{http_code}" "$2"' \
	_ "$PCG/first" "http://127.0.0.1:$P_HTTP/echo/first-instruction" >"$TMPDIR_T/first.out" 2>&1
check "a child's first instruction is already jailed ($(cat "$TMPDIR_T/first.out"))" \
	not grep -q /echo/first-instruction "$UP/requests.log"
stop_child() {
	echo 1 >"$1/cgroup.kill"
	for _ in $(seq 50); do rmdir "$1" 2>/dev/null && break; sleep 0.1; done
}
stop_child "$PCG/two"
for _ in $(seq 100); do grep -q "$PCG/two is gone" "$PLOG" && break; sleep 0.05; done
logged "a child that goes loses its entry and listeners" "$(cat "$PLOG")" \
	"$PCG/two is gone: its entry and its listeners are removed"
in_member pone "$CURL http://up.test:$P_HTTP/echo/still"
check "the other children are still served ($rc)" went_through "/echo/still"
# The gone child's listeners left their slots in the proxy: a new namespace's take them.
member_in "$PCG/three" pthree unshare -n
for _ in $(seq 100); do grep -q "jailed $PCG/three " "$PLOG" && break; sleep 0.05; done
in_member pthree "$CURL http://up.test:$P_HTTP/echo/parent-three"
check "a child made after another went is served in its own namespace ($rc)" \
	went_through "/echo/parent-three"
check "boundary still runs" kill -0 "$PBND"
BND_PID=$PBND
detach
check "SIGTERM detaches the parent ($rc), its programs gone" [ "$rc" = 0 ]
check "and its children are left as they were" kill -0 "$ONE"
check "the parent's cgroup has no programs after it" no_programs "$PCG"
stop_child "$PCG/one"
stop_child "$PCG/three"
stop_child "$PCG/host"

# --- refusals ------------------------------------------------------------------------------------

run_b attach --cgroup /
check "the root cgroup is refused" refused_saying "root cgroup"
MINE=$(awk -F: '$1 == 0 { print $3 }' /proc/self/cgroup)
if [ "$MINE" = / ]; then
	skip "this suite runs in the root cgroup: no cgroup of its own to refuse"
else
	run_b attach --cgroup "$MINE"
	check "a cgroup holding boundary itself is refused" refused_saying "boundary itself runs in"
fi
run_b attach --cgroup /nonexistent-$$
check "a missing cgroup is an error" refused_saying "No such file"
run_b attach --cgroup "$CCG" -- ls
check "attach runs no command" refused_saying "attach runs no command"
run_b attach --cgroup "$CCG" --container x
check "exactly one of --cgroup, --container, --systemd-unit" refused_saying "exactly one of"

done_testing
