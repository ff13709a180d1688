# SPDX-License-Identifier: MIT
#
# jail.sh: what the jail's e2e and security suites share. Source after tap.sh.
#
# A test host: a network namespace of our own, joined to the host's namespace by a veth pair,
# with listeners that count what reaches them. Jailed programs aim at its addresses; the jail
# must redirect (or refuse) every attempt, so those listeners must see nothing. Nothing here
# sends a packet anywhere but loopback and this namespace, and everything is removed at exit.
#
#   need_root                 skip the whole suite (one skipped test) unless root with cgroup2
#   testhost_up               creates the namespace; sets TH4 (IPv4), TH6 (IPv6), TH_NS
#   testhost_listen PORT      a TCP listener there that logs each accept to $TMPDIR_T/hits
#   hits                      how many connections the test host has accepted
#   jailed ARGS... -- CMD     runs boundary ARGS -- CMD with logs in $TMPDIR_T/log; sets $out, $rc
#   state_snapshot FILE       the cgroups, pins and namespaces boundary could leave behind
#   PROBE                     the netprobe binary

PROBE=${PROBE:-$PWD/${BUILD:-build}/tests/netprobe}
TH_NS=""
TH_PIDS=""

need_root() {
	if [ "$(id -u)" != 0 ]; then
		skip "needs root (cgroups, BPF, namespaces)"
		done_testing
		exit 0
	fi
	if [ ! -x "$PROBE" ]; then
		fail "netprobe not built ($PROBE): run make test-bins"
		done_testing
		exit 1
	fi
}

testhost_cleanup() {
	local p
	for p in $TH_PIDS; do kill "$p" 2>/dev/null; done
	if [ -n "$TH_NS" ]; then
		ip link del "bh$$" 2>/dev/null
		ip netns del "$TH_NS" 2>/dev/null
	fi
}

testhost_up() {
	TH_NS="bnd-th-$$"
	TH4=10.251.173.2
	TH6=fd00:b0d:a:1::2
	ip netns add "$TH_NS" || return 1
	ip link add "bh$$" type veth peer name "bn$$" netns "$TH_NS" || return 1
	ip addr add 10.251.173.1/30 dev "bh$$"
	ip -6 addr add fd00:b0d:a:1::1/64 dev "bh$$" nodad 2>/dev/null
	ip link set "bh$$" up
	ip -n "$TH_NS" addr add "$TH4/30" dev "bn$$"
	ip -n "$TH_NS" -6 addr add "$TH6/64" dev "bn$$" nodad 2>/dev/null
	ip -n "$TH_NS" link set "bn$$" up
	ip -n "$TH_NS" link set lo up
	: >"$TMPDIR_T/hits"
}

# testhost_listen PORT [udp]: counts what arrives, on both families.
testhost_listen() {
	local port=$1 proto=${2:-tcp}
	ip netns exec "$TH_NS" python3 -u - "$port" "$proto" "$TMPDIR_T/hits" <<'PY' &
import socket, sys, threading
port, proto, path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
def serve(fam, addr):
    t = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
    s = socket.socket(fam, t)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    if proto == "tcp":
        s.listen(64)
    while True:
        if proto == "tcp":
            c, a = s.accept(); c.close()
        else:
            d, a = s.recvfrom(2048)
        with open(path, "a") as f:
            f.write("%s %s\n" % (proto, a[0]))
for fam, addr in ((socket.AF_INET, "0.0.0.0"), (socket.AF_INET6, "::")):
    try:
        threading.Thread(target=serve, args=(fam, addr), daemon=True).start()
    except OSError:
        pass
threading.Event().wait()
PY
	TH_PIDS="$TH_PIDS $!"
	sleep 0.3
}

hits() { wc -l <"$TMPDIR_T/hits" | tr -d ' '; }

jailed() {
	local args=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		args+=("$1")
		shift
	done
	shift
	out=$(timeout 60 "$BOUNDARY" --log-level info "${args[@]}" -- "$@" 2>"$TMPDIR_T/log")
	rc=$?
	log=$(cat "$TMPDIR_T/log")
}

state_snapshot() {
	local cg
	cg=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
	{
		find "$cg/boundary" -mindepth 1 -maxdepth 1 -type d 2>/dev/null | sort
		find /sys/fs/bpf/boundary -mindepth 1 2>/dev/null | sort
		ip netns list 2>/dev/null | grep -v "^$TH_NS" | sort
		pgrep -x boundary-init 2>/dev/null
		pgrep -x boundary 2>/dev/null
	} >"$1"
}

trap 'testhost_cleanup; rm -rf "$TMPDIR_T"' EXIT
