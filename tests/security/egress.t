#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# egress.t: the last BPF program (cgroup_skb/egress, "no packet leaves unless it is addressed to
# loopback"), tested where it is the only defence left. Every other suite stops a packet to
# another address earlier: a jail's namespace has no route out, and connect4/6, sendmsg4/6 and
# sock_create see every new socket. What they never see:
#   - a connection opened before `boundary attach` (TCP, or a connected UDP socket), to an address
#     that is not loopback: in the host's network namespace (to the test host) and in one of the
#     cgroup's own (to a peer namespace this suite makes, joined by a veth pair); bytes sent on it
#     after the attach must never arrive, and --kill-existing-sockets closes it. After the
#     detach, TCP's retransmission delivers what was held: nothing else stood in the way.
#   - a listening socket (bind4/6 admit the wildcard) that a process of a namespace with a
#     route, moved into a running jail's cgroup, opens there: a peer's SYN reaches it, but the
#     reply (SYN-ACK) must never leave, so no connection is made (cf. sockets.t's moved process).
# And one layer under another that is not the egress program's: io_uring's connect meets connect4
# in a process the jail's seccomp filter (which refuses io_uring) does not cover.
# Each is first done unjailed, where it must succeed, or the test proves nothing. Traffic goes
# only to the test host and to namespaces made here.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/jail.sh"
. "$(dirname "$0")/../lib/proxy.sh"
proxy_suite

CGROOT=$(cg_root)
CGS=""
PIDS=""
LINKS=""
PORT=7007

cleanup_egress() {
	local c p
	for p in $PIDS; do kill -9 "$p" 2>/dev/null; done
	for c in $CGS; do
		[ -d "$c" ] || continue
		echo 1 >"$c/cgroup.kill" 2>/dev/null
		for p in $(seq 50); do
			rmdir "$c" 2>/dev/null && break
			sleep 0.1
		done
	done
	for p in $LINKS; do ip link del "$p" 2>/dev/null; done
}
at_exit cleanup_egress

# wait_for FILE [SECONDS]: until FILE exists (5 s by default).
wait_for() {
	for _ in $(seq $((${2:-5} * 20))); do
		[ -e "$1" ] && return 0
		sleep 0.05
	done
	return 1
}

# peer_listen NAME PROTO ADDR [PID]: egress_peer.py listening on ADDR:$PORT, in the test host's
# namespace or in PID's; what it receives goes to $TMPDIR_T/NAME.got.
peer_listen() {
	local name=$1 proto=$2 addr=$3 pid=${4:-}
	: >"$TMPDIR_T/$name.got"
	if [ -n "$pid" ]; then
		nsenter -t "$pid" -n python3 "$STAGE/lib/egress_peer.py" listen "$proto" "$addr" "$PORT" \
			"$TMPDIR_T/$name.got" "$TMPDIR_T/$name.ready" &
		disown
	else
		ip netns exec "$TH_NS" python3 "$STAGE/lib/egress_peer.py" listen "$proto" "$addr" \
			"$PORT" "$TMPDIR_T/$name.got" "$TMPDIR_T/$name.ready" &
		disown
	fi
	PIDS="$PIDS $!"
	wait_for "$TMPDIR_T/$name.ready"
}

# held NAME CGROUP PROTO ADDR [unshare -n]: a client in CGROUP (made if needed) that connects to
# ADDR:$PORT and sends when told (tests/lib/egress_conn.py), in a network namespace of its own
# with "unshare -n" (it connects once $TMPDIR_T/NAME/go exists); sets HPID.
held() {
	local name=$1 cg=$2 proto=$3 addr=$4 d=$TMPDIR_T/$1
	shift 4
	mkdir -p "$cg" "$d"
	case " $CGS " in *" $cg "*) ;; *) CGS="$cg $CGS" ;; esac
	[ $# = 0 ] && touch "$d/go"
	# shellcheck disable=SC2016 # for the inner shells
	sh -c 'echo $$ >"$1/cgroup.procs" && shift && exec "$@"' _ "$cg" "$@" \
		sh -c 'while [ ! -e "$0/go" ]; do sleep 0.05; done; exec python3 "$1" "$0" "$2" "$3" "$4"' \
		"$d" "$STAGE/lib/egress_conn.py" "$proto" "$addr" "$PORT" &
	HPID=$!
	disown
	PIDS="$PIDS $HPID"
}

# send_on NAME TEXT: the held client NAME sends TEXT (and a newline); waits until it has.
send_on() {
	local d=$TMPDIR_T/$1
	rm -f "$d/sent"
	echo "$2" >"$d/send.tmp"
	mv "$d/send.tmp" "$d/send"
	wait_for "$d/sent"
}

# arrived NAME TEXT [SECONDS]: TEXT reached the peer of NAME within SECONDS (3 by default).
arrived() {
	for _ in $(seq $((${3:-3} * 10))); do
		grep -qx -- "$2" "$TMPDIR_T/$1.got" && return 0
		sleep 0.1
	done
	return 1
}
# never_arrived NAME TEXT: TEXT has not reached the peer of NAME after 3 s (TCP retransmits
# five times meanwhile).
never_arrived() { ! arrived "$1" "$2" 3; }

# closed NAME: the held client NAME's connection has ended (its owner read EOF or an error).
closed() { wait_for "$TMPDIR_T/$1/eof" 5; }

# veth_pair NAME PID1 ADDR1 PID2 ADDR2 PREFIX: a veth pair between the network namespaces of PID1
# and PID2, ADDR1 on one end and ADDR2 on the other (lo up in both).
veth_pair() {
	local a=eg$$$1a b=eg$$$1b
	LINKS="$LINKS $a $b"
	ip link add "$a" type veth peer name "$b" || return 1
	ip link set "$a" netns "$2" && ip link set "$b" netns "$4" || return 1
	nsenter -t "$2" -n sh -c "ip link set lo up && ip addr add $3/$6 dev $a nodad 2>/dev/null ||
		ip addr add $3/$6 dev $a; ip link set $a up" &&
		nsenter -t "$4" -n sh -c "ip link set lo up && ip addr add $5/$6 dev $b nodad 2>/dev/null ||
		ip addr add $5/$6 dev $b; ip link set $b up"
}

# netns_holder: a process in a network namespace of its own, holding it; sets NPID.
netns_holder() {
	unshare -n sleep 600 &
	NPID=$!
	disown
	PIDS="$PIDS $NPID"
	for _ in $(seq 100); do
		[ "$(readlink "/proc/$NPID/ns/net")" != "$(readlink /proc/self/ns/net)" ] && return 0
		sleep 0.02
	done
	return 1
}

# --- attach in the host's network namespace: connections to the test host, opened before ------

CG=$CGROOT/bnd-egress-$$-host
peer_listen th4 tcp "$TH4"
peer_listen th6 tcp "$TH6"
peer_listen thu udp "$TH4"
held t4 "$CG" tcp "$TH4"
T4=$HPID
held t6 "$CG" tcp "$TH6"
held u4 "$CG" udp "$TH4"
wait_for "$TMPDIR_T/t4/up" && wait_for "$TMPDIR_T/t6/up" && wait_for "$TMPDIR_T/u4/up"
check "control: a TCP connection to the test host ($TH4) reaches it before the attach" \
	arrived th4 before
check "control: ... over IPv6 too ($TH6)" arrived th6 before
check "control: ... and a connected UDP socket's datagram" arrived thu before
send_on t4 unjailed
check "control: bytes sent on it unjailed arrive" arrived th4 unjailed

attach_bg host --cgroup "$CG" --allow "domain=up.test"
logged "boundary attaches to the cgroup in the host's network namespace" "$(cat "$ALOG")" \
	"attached to $CG: .*in the host's network namespace"
logged "it names the held TCP connection to the test host" "$(cat "$ALOG")" \
	"pid $T4 \(python3\) has a TCP connection to $TH4:$PORT .*opened before boundary attached"
logged "it names the connected UDP socket to the test host" "$(cat "$ALOG")" \
	"has a UDP connection to $TH4:$PORT .*opened before boundary attached"
send_on t4 after-attach
send_on t6 after-attach
send_on u4 after-attach
check "host namespace: bytes sent after the attach on a TCP connection opened before it never reach the test host (egress)" \
	never_arrived th4 after-attach
check "host namespace: ... nor over IPv6" never_arrived th6 after-attach
check "host namespace: a connected UDP socket's datagram after the attach never reaches it" \
	never_arrived thu after-attach
check "the held connection is still open (boundary was not told to close it)" \
	[ ! -e "$TMPDIR_T/t4/eof" ]
detach
check "SIGTERM detaches ($rc)" [ "$rc" = 0 ]
check "control: after the detach, TCP's retransmission delivers the held bytes (nothing else held them)" \
	arrived th4 after-attach 30
send_on u4 after-detach
check "control: after the detach, the UDP socket's next datagram arrives" arrived thu after-detach

# --kill-existing-sockets: a connection held the same way is closed, and nothing gets out.
held k4 "$CG" tcp "$TH4"
K4=$HPID
wait_for "$TMPDIR_T/k4/up"
attach_bg hostkill --kill-existing-sockets --cgroup "$CG" --allow "domain=up.test"
logged "--kill-existing-sockets names the connection to the test host it shuts down" "$(cat "$ALOG")" \
	"pid $K4 \(python3\): shut down its TCP connection to $TH4:$PORT"
check "host namespace, --kill-existing-sockets: the connection to the test host is closed" closed k4
send_on k4 after-kill
check "host namespace, --kill-existing-sockets: nothing sent after it reaches the test host" \
	never_arrived th4 after-kill
detach

# --- attach in the cgroup's own network namespace: a peer namespace over a veth pair -----------

netns_holder || fail "cannot make a network namespace for the peer"
PEER=$NPID
CG2=$CGROOT/bnd-egress-$$-own
held o4 "$CG2" tcp 10.77.0.2 unshare -n
O4=$HPID
for _ in $(seq 100); do
	[ "$(readlink "/proc/$O4/ns/net")" != "$(readlink /proc/self/ns/net)" ] && break
	sleep 0.02
done
veth_pair o "$O4" 10.77.0.1 "$PEER" 10.77.0.2 30 || fail "cannot join the namespaces by a veth pair"
peer_listen own tcp 10.77.0.2 "$PEER"
touch "$TMPDIR_T/o4/go"
wait_for "$TMPDIR_T/o4/up"
check "control: in its own namespace, the member's connection reaches the peer before the attach" \
	arrived own before
attach_bg own --resolve-on-host --cgroup "$CG2" --allow "domain=up.test"
logged "boundary attaches inside the member's namespace" "$(cat "$ALOG")" \
	"attached to $CG2: .*in the network namespace of pid $O4"
logged "it names the held connection to the peer (not loopback there)" "$(cat "$ALOG")" \
	"pid $O4 \(python3\) has a TCP connection to 10\.77\.0\.2:$PORT"
send_on o4 after-attach
check "own namespace: bytes sent after the attach on a connection opened before it never reach the peer (egress)" \
	never_arrived own after-attach
detach
check "control: after the detach they arrive (nothing else held them)" arrived own after-attach 30
attach_bg ownkill --kill-existing-sockets --resolve-on-host --cgroup "$CG2" --allow "domain=up.test"
logged "own namespace: --kill-existing-sockets names the connection to the peer" "$(cat "$ALOG")" \
	"pid $O4 \(python3\): shut down its TCP connection to 10\.77\.0\.2:$PORT"
check "own namespace, --kill-existing-sockets: the connection is closed" closed o4
send_on o4 after-kill
check "own namespace, --kill-existing-sockets: nothing sent after it reaches the peer" \
	never_arrived own after-kill
detach

# --- attach to a parent: a child cgroup's connection, opened before the attach -----------------

PCG=$CGROOT/bnd-egress-$$-parent
PORT=7008
peer_listen thp tcp "$TH4"
held kid "$PCG/kid" tcp "$TH4"
CGS="$CGS $PCG"
KID=$HPID
# A second child in a network namespace of its own: the cgroup is a parent, each child a jail.
mkdir -p "$PCG/other"
CGS="$PCG/other $CGS"
# shellcheck disable=SC2016 # for the inner shell
sh -c 'echo $$ >"$1/cgroup.procs" && exec unshare -n sleep 600' _ "$PCG/other" &
PIDS="$PIDS $!"
disown
wait_for "$TMPDIR_T/kid/up"
check "control: a child cgroup's connection reaches the test host before the parent's attach" \
	arrived thp before
attach_bg parent --cgroup "$PCG" --allow "domain=up.test"
logged "boundary attaches to the parent" "$(cat "$ALOG")" "attached to $PCG, a parent"
logged "and jails the child in the host's namespace" "$(cat "$ALOG")" \
	"jailed $PCG/kid \(pid $KID, in the host's network namespace\)"
send_on kid after-attach
check "parent: bytes a child sends after the attach on a connection opened before it never reach the test host (egress)" \
	never_arrived thp after-attach
detach
check "control: after the detach they arrive" arrived thp after-attach 30
kill -9 "$KID" 2>/dev/null

# --- boundary's own jail: a listening socket in a namespace with a route, moved into it --------

netns_holder || fail "cannot make a network namespace for the dialling peer"
DIALER=$NPID
# listener NAME: egress_listen.py in a network namespace of its own, veth-joined to $DIALER
# (10.78.N.1 it, 10.78.N.2 the dialler); sets LPID.
N=0
listener() {
	local d=$TMPDIR_T/$1
	N=$((N + 1))
	mkdir -p "$d"
	unshare -n python3 "$STAGE/lib/egress_listen.py" "$d" "$PORT" &
	LPID=$!
	disown
	PIDS="$PIDS $LPID"
	for _ in $(seq 100); do
		[ "$(readlink "/proc/$LPID/ns/net")" != "$(readlink /proc/self/ns/net)" ] && break
		sleep 0.02
	done
	veth_pair "l$N" "$LPID" "10.78.$N.1" "$DIALER" "10.78.$N.2" 24
}
dial() { nsenter -t "$DIALER" -n python3 "$STAGE/lib/egress_peer.py" dial "10.78.$N.1" "$PORT"; }

listener free
touch "$TMPDIR_T/free/go"
wait_for "$TMPDIR_T/free/ready"
check "control: unjailed, a peer's connection to the listener is made" \
	[ "$(dial)" = connected ]

jail_bg hold --log-level debug -- sleep 30
jail_wait_log "$TMPDIR_T/hold.log" "debug: jail " 5
cgh=$(jail_field "$TMPDIR_T/hold.log" cgroup)
listener moved
echo "$LPID" >"$cgh/cgroup.procs"
check "the listener's process is in the jail's cgroup" \
	grep -qx "0::${cgh#"$CGROOT"}" "/proc/$LPID/cgroup"
touch "$TMPDIR_T/moved/go"
wait_for "$TMPDIR_T/moved/ready"
check "in the jail's cgroup, a wildcard listen is admitted (bind4 allows it)" \
	[ ! -s "$TMPDIR_T/moved/ready" ]
got=$(dial)
check "jail: a peer's connection to it is never made: the reply is not to loopback (egress) ($got)" \
	[ "$got" != connected ]
check "jail: ... and nothing was accepted" \
	[ ! -e "$TMPDIR_T/moved/accepted" ]

# --- io_uring's connect, with the seccomp filter that refuses io_uring in the jail set aside -----
# (e2e/jail.t: "io_uring_setup is refused in the jail"). A process outside that filter, moved into
# the jail's cgroup, connects to the test host through a ring: connect4 must still redirect it.
if [ "$(cat /proc/sys/kernel/io_uring_disabled 2>/dev/null || echo 0)" = 0 ]; then
	testhost_listen 9011
	ring_out=$("$PROBE" uring "$TH4" 9011)
	ring_seen() { [ "$ring_out" = ok ] || [[ $ring_out == "ok "* ]] && [ "$(hits)" -ge 1 ]; }
	check "control: unjailed, io_uring's connect reaches the test host ($ring_out)" ring_seen
	: >"$TMPDIR_T/hits"
	# shellcheck disable=SC2016 # for the inner shell
	ring_out=$(sh -c 'echo $$ >"$1/cgroup.procs" && exec "$2" uring "$3" 9011' _ "$cgh" "$PROBE" "$TH4")
	sleep 0.3
	check "moved into the jail's cgroup, outside its seccomp filter: io_uring's connect is redirected too, the test host saw nothing ($ring_out)" \
		[ "$(hits)" = 0 ]
else
	skip "io_uring: kernel.io_uring_disabled is set"
	skip "io_uring: kernel.io_uring_disabled is set"
fi
kill -INT "$BG_PID"
wait "$BG_WAIT"

done_testing
