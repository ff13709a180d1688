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
#   testhost_up               creates the namespace (one suite at a time: it waits for a lock);
#                             sets TH4 (IPv4), TH6 (IPv6), TH_NS
#   testhost_listen PORT      a TCP listener there that logs each accept to $TMPDIR_T/hits
#   hits                      how many connections the test host has accepted
#   jailed ARGS... -- CMD     runs boundary ARGS -- CMD with logs in $TMPDIR_T/log; sets $out, $rc
#   state_snapshot FILE       the cgroups, pins and namespaces boundary could leave behind
#   state_leftovers BEFORE AFTER [ID]  what AFTER has and BEFORE had not, less what belongs
#                             to another boundary (a suite run alongside): with ID, anything
#                             not of jail ID; without, anything of a boundary still running
#   PROBE                     the netprobe binary
#
#   testhost_sniff            counts every TCP, UDP and ICMP packet that reaches the test host's
#                             addresses, whatever its port, in $TMPDIR_T/sniff (`sniffed`)
#   testhost_selftest PORT [udp]  proves the listeners and the sniffer see a direct connection
#                             from the host (so "saw nothing" can fail), then clears the counts
#   testhost_quiet DESC       ok when neither the listeners nor the sniffer saw anything
#   jail_probe [ARGS...] -- PROBEARGS...
#                             runs netprobe PROBEARGS in a jail of its own (--log-level debug),
#                             held until its host pid is known; sets $out, $rc, $log,
#                             $probe_pid (host) and $probe_nspid (inside the jail)
#   jail_bg NAME [ARGS...] -- CMD...
#                             starts a jail in the background (SIGINT deliverable), log in
#                             $TMPDIR_T/NAME.log; sets $BG_PID (boundary) and $BG_WAIT (wait on it)
#   jail_wait_log FILE ERE [SECONDS]  waits until a line of FILE matches ERE
#   jail_field LOGFILE NAME   from a --log-level debug log: id, cgroup, proxy_port or dns_port
#   cg_root                   the cgroup2 mount point
#   shared_set_dir            where this build's shared set of programs is pinned (its ABI is
#                             bpf/jail.h's): /sys/fs/bpf/boundary/shared-ABI
#   cg_id PATH                the id of the cgroup at PATH (its directory's inode)
#   has_entry ID              the shared set holds an entry for the cgroup whose id is ID
#   shared_links              how many programs of the shared set are attached to <cgroup2>/boundary
#   redir_re COMM PID DST     an ERE for boundary's record of a redirected connection (the
#                             proxy's "COMM[PID] connected (to DST)" at debug level, or the
#                             stand-ins' "redirected: COMM[PID] to DST: ..." at info)
#   redir_ports LOG ADDR      the ports of ADDR that LOG records connections to, one a line
#   logged DESC TEXT ERE      ok when a line of TEXT matches ERE
#   result LABEL              from $out made of "LABEL: RESULT" lines, that RESULT
#   want LABEL WANT DESC      ok DESC when `result LABEL` is WANT, else says what it was
#   bug_unless DESC BUG CMD...  ok DESC when CMD succeeds, else a TODO-skip "BUG: BUG"
#   at_exit CMD               runs CMD (eval) at exit, before the test host goes
#   fake_resolver             a DNS server on a host loopback address (127.53.X.Y, port 53, UDP
#                             and TCP) in the host's namespace, outside any jail; sets FAKE_DNS.
#                             It answers every A query with 127.0.0.99 and logs "PROTO NAME" per
#                             query to $TMPDIR_T/fake_dns (`fake_queries`); a jailed resolver
#                             aimed at it must be answered by boundary, and it must see nothing

#   STAGE                     what a jailed command or a test user runs, copied where they can
#                             run it: netprobe, tests/lib's clients ($STAGE/lib), the stress
#                             clients ($STAGE/stress). The checkout may lie where they cannot
#                             enter (a clone under /root, or in a 0700 directory): it must not
#                             matter where it lies. The test host's own servers, run as root
#                             (testhost_listen.py, testhost_sniff.py, fake_resolver.py, and
#                             proxy.sh's free_ports.py), run from $STAGE/lib too: one copy of
#                             tests/lib is what every suite runs.

STAGE=$TMPDIR_T/stage
mkdir -p "$STAGE/lib" "$STAGE/stress"
cp "$(dirname "${BASH_SOURCE[0]}")"/*.{py,js,go,c} "$STAGE/lib/"
cp "$(dirname "${BASH_SOURCE[0]}")"/../stress/*.py "$STAGE/stress/"
PROBE_BUILT=${PROBE:-$PWD/${BUILD:-build}/tests/netprobe}
[ -x "$PROBE_BUILT" ] && cp "$PROBE_BUILT" "$STAGE/netprobe"
PROBE=$STAGE/netprobe
chmod -R a+rX "$STAGE"
chmod 711 "$TMPDIR_T"
TH_NS=""
TH_PIDS=""

need_root() {
	if [ "$(id -u)" != 0 ]; then
		skip "needs root (cgroups, BPF, namespaces)"
		done_testing
		exit 0
	fi
	if [ ! -x "$PROBE" ]; then
		fail "netprobe not built ($PROBE_BUILT): run make test-bins"
		done_testing
		exit 1
	fi
}

AT_EXIT=()
BG_PIDS=""
BG_KILLED=""

at_exit() { AT_EXIT=("$*" "${AT_EXIT[@]}"); }

# Stops every background jail still running (TERM, then KILL), then reaps what a kill left.
bg_cleanup() {
	local p b i left=""
	for p in $BG_PIDS; do
		kill -0 "$p" 2>/dev/null && left="$left $p"
	done
	[ -z "$left" ] && [ -z "$BG_KILLED" ] && return 0
	for p in $left; do
		b=$(pgrep -P "$p" -x boundary)
		[ -n "$b" ] && kill -TERM "$b" 2>/dev/null
	done
	for i in $(seq 50); do
		left=$(for p in $left; do kill -0 "$p" 2>/dev/null && echo "$p"; done)
		[ -z "$left" ] && break
		sleep 0.1
	done
	for p in $left; do
		b=$(pgrep -P "$p" -x boundary)
		[ -n "$b" ] && kill -KILL "$b" 2>/dev/null
		kill -KILL "$p" 2>/dev/null
	done
	"$BOUNDARY" cleanup >/dev/null 2>&1
}

testhost_cleanup() {
	local p c
	for c in "${AT_EXIT[@]}"; do eval "$c"; done
	bg_cleanup
	for p in $TH_PIDS; do kill "$p" 2>/dev/null; done
	if [ -n "$TH_NS" ]; then
		ip link del "bh$$" 2>/dev/null
		ip netns del "$TH_NS" 2>/dev/null
	fi
}

testhost_up() {
	# Two test hosts at once would both claim 10.251.173.0/30: one suite at a time holds it
	# (a lock released when the suite's processes are gone). The lock is the machine's, not
	# this checkout's: suites of two work trees would otherwise collide.
	local lock=/run/lock/boundary-testhost.lock
	[ -d /run/lock ] || lock=/run/boundary-testhost.lock
	exec {TH_LOCK}>>"$lock"
	if ! flock -w 600 "$TH_LOCK"; then
		echo "jail.sh: another suite held the test host for 10 minutes" >&2
		return 1
	fi
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
	local port=$1 proto=${2:-tcp} i ready
	ready=$TMPDIR_T/listen.$port.$proto.ready
	ip netns exec "$TH_NS" python3 -u "$STAGE/lib/testhost_listen.py" "$port" "$proto" \
		"$TMPDIR_T/hits" "$ready" &
	TH_PIDS="$TH_PIDS $!"
	for i in $(seq 100); do
		[ -e "$ready" ] && break
		sleep 0.05
	done
}

hits() { wc -l <"$TMPDIR_T/hits" | tr -d ' '; }

fake_resolver() {
	local i
	: >"$TMPDIR_T/fake_dns"
	rm -f "$TMPDIR_T/fake_dns.ready"
	python3 -u "$STAGE/lib/fake_resolver.py" "$TMPDIR_T/fake_dns" &
	TH_PIDS="$TH_PIDS $!"
	for i in $(seq 100); do
		[ -s "$TMPDIR_T/fake_dns.ready" ] && break
		sleep 0.05
	done
	FAKE_DNS=$(cat "$TMPDIR_T/fake_dns.ready" 2>/dev/null)
	[ -n "$FAKE_DNS" ]
}

fake_queries() { cat "$TMPDIR_T/fake_dns"; }

# fake_resolver_control: the fake resolver answers and logs a query from outside any jail, over
# UDP and TCP, so that a later "it saw nothing" can fail; then its log is emptied.
fake_resolver_control() {
	local o o2
	o=$(dig +short +tries=1 +time=3 "@$FAKE_DNS" control.example A)
	o2=$(dig +short +tcp +tries=1 +time=3 "@$FAKE_DNS" control.example A)
	if [ "$o" = 127.0.0.99 ] && [ "$o2" = 127.0.0.99 ] &&
		[ "$(fake_queries)" = "$(printf 'udp control.example\ntcp control.example')" ]; then
		ok "the fake resolver at $FAKE_DNS:53 answers and logs queries from outside the jail (UDP, TCP)"
	else
		fail "the fake resolver at $FAKE_DNS:53 answers and logs queries from outside the jail"
		diag "udp: $o" "tcp: $o2" "log: $(fake_queries)"
	fi
	: >"$TMPDIR_T/fake_dns"
}

# testhost_sniff: a packet socket on the test host's end of the veth; logs every IPv4 packet to
# TH4 and every TCP, UDP or ICMPv6 echo packet to TH6 (neighbour discovery is not traffic).
testhost_sniff() {
	local i
	: >"$TMPDIR_T/sniff"
	ip netns exec "$TH_NS" python3 -u "$STAGE/lib/testhost_sniff.py" "bn$$" "$TH4" "$TH6" \
		"$TMPDIR_T/sniff" &
	TH_PIDS="$TH_PIDS $!"
	for i in $(seq 100); do
		[ -e "$TMPDIR_T/sniff.ready" ] && break
		sleep 0.05
	done
}

sniffed() { wc -l <"$TMPDIR_T/sniff" | tr -d ' '; }

# testhost_selftest PORT [udp]: a direct, unjailed connection must be seen by both counters.
testhost_selftest() {
	local port=$1 proto=${2:-tcp} i
	if [ "$proto" = udp ]; then
		echo selftest >"/dev/udp/$TH4/$port"
	else
		timeout 3 bash -c "exec 3<>/dev/tcp/$TH4/$port" 2>/dev/null
	fi
	for i in $(seq 20); do
		[ "$(hits)" -ge 1 ] && [ "$(sniffed)" -ge 1 ] && break
		sleep 0.05
	done
	if [ "$(hits)" -ge 1 ] && [ "$(sniffed)" -ge 1 ]; then
		ok "the test host counts a direct $proto connection to $TH4:$port (hits $(hits), packets $(sniffed))"
	else
		fail "the test host counts a direct $proto connection to $TH4:$port (hits $(hits), packets $(sniffed))"
	fi
	# The self-test's connection may still be closing: its last packets are not a jail's. Wait
	# until the count holds still for 0.3 s (2 s at most) before it starts again from zero.
	local last=-1
	for i in $(seq 7); do
		[ "$(sniffed)" = "$last" ] && break
		last=$(sniffed)
		sleep 0.3
	done
	: >"$TMPDIR_T/hits"
	: >"$TMPDIR_T/sniff"
}

# testhost_quiet DESC: ok when nothing from a jail reached the test host.
testhost_quiet() {
	sleep 0.2
	if [ "$(hits)" = 0 ] && [ "$(sniffed)" = 0 ]; then
		ok "$1"
	else
		fail "$1"
		diag "listeners: $(tr '\n' ';' <"$TMPDIR_T/hits")" "packets: $(sort "$TMPDIR_T/sniff" | uniq -c | tr '\n' ';')"
	fi
}

result() {
	awk -v k="$1: " 'index($0, k) == 1 { print substr($0, length(k) + 1); exit }' <<<"$out"
}

want() {
	local got
	got=$(result "$1")
	if [ "$got" = "$2" ]; then
		ok "$3 ($got)"
	else
		fail "$3"
		diag "$1: got '${got:-nothing}', want '$2'" "output: $out" "log: $log"
	fi
}

bug_unless() {
	local desc=$1 bug=$2
	shift 2
	if "$@"; then ok "$desc"; else skip "BUG: $bug"; fi
}

ere_quote() { sed 's/[][\\.*^$()+?{}|]/\\&/g' <<<"$1"; }

redir_re() {
	local comm pid dst
	comm=$(ere_quote "$1")
	pid=$(ere_quote "$2")
	dst=$(ere_quote "$3")
	echo "$comm\\[$pid\\](:? | .* )\\(?to $dst([:) ]|\$)"
}

redir_ports() {
	grep -oE "[a-z]+\\[[0-9]+\\](:? | .* )\\(?to $(ere_quote "$2"):[0-9]+([:) ]|\$)" "$1" |
		sed -E 's/.*:([0-9]+)[:) ]?$/\1/'
}

logged() {
	if grep -qE -- "$3" <<<"$2"; then
		ok "$1"
	else
		fail "$1"
		diag "expected a line matching: $3" "in: $2"
	fi
}

cg_root() { awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo; }
# cg2_of PID: the cgroup2 directory of PID.
cg2_of() { echo "$(cg_root)$(awk -F: '$1 == "0" { print $3 }' "/proc/$1/cgroup" 2>/dev/null)"; }

jail_probe() {
	local args=() fifo marker i pid=""
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		args+=("$1")
		shift
	done
	shift
	marker="netprobe-hold-$$-$RANDOM$RANDOM"
	# Where the jailed shell can open it: root in the jail is the host's nobody.
	fifo=$(shared_dir probe)/$marker
	mkfifo "$fifo"
	timeout 30 "$BOUNDARY" --log-level debug "${args[@]}" -- \
		sh -c 'read _ <"$1"; shift; exec "$@"' "$marker" "$fifo" "$PROBE" "$@" \
		>"$TMPDIR_T/probe.out" 2>"$TMPDIR_T/log" &
	local bg=$!
	for i in $(seq 200); do
		pid=$(pgrep -f "^sh -c .* $marker ")
		[ -n "$pid" ] && break
		sleep 0.01
	done
	probe_pid=$pid
	probe_nspid=$(awk '/^NSpid:/ { print $NF }' "/proc/$pid/status" 2>/dev/null)
	timeout 5 sh -c 'echo go >"$1"' _ "$fifo"
	wait "$bg"
	rc=$?
	rm -f "$fifo"
	out=$(cat "$TMPDIR_T/probe.out")
	log=$(cat "$TMPDIR_T/log")
}

jail_bg() {
	local name=$1 args=() i
	shift
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		args+=("$1")
		shift
	done
	shift
	timeout -k 5 60 env --default-signal=INT "$BOUNDARY" --log-level info "${args[@]}" -- "$@" \
		>"$TMPDIR_T/$name.out" 2>"$TMPDIR_T/$name.log" </dev/null &
	BG_WAIT=$!
	BG_PIDS="$BG_PIDS $BG_WAIT"
	BG_PID=""
	for i in $(seq 200); do
		BG_PID=$(pgrep -P "$BG_WAIT" -x boundary) && break
		sleep 0.01
	done
}

jail_wait_log() {
	local i n=$((${3:-10} * 20))
	for i in $(seq "$n"); do
		grep -qE "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

jail_field() {
	sed -nE 's/.*debug: jail ([^:]+): cgroup ([^,]+), proxy port ([0-9]+), DNS port ([0-9]+).*/\1 \2 \3 \4/p' "$1" |
		head -1 | {
		read -r id cg pp dp
		case $2 in
		id) echo "$id" ;;
		cgroup) echo "$cg" ;;
		proxy_port) echo "$pp" ;;
		dns_port) echo "$dp" ;;
		esac
	}
}

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

JAIL_ABI=$(awk '$1 == "#define" && $2 == "JAIL_ABI_VERSION" { print $3 }' "$(dirname "${BASH_SOURCE[0]}")/../../bpf/jail.h")
shared_set_dir() { echo "/sys/fs/bpf/boundary/shared-$JAIL_ABI"; }
cg_id() { stat -c %i "$1" 2>/dev/null; }
has_entry() {
	[ -n "$1" ] && bpftool -j map dump pinned "$(shared_set_dir)/entries" 2>/dev/null |
		jq -e --argjson id "$1" 'any(.[]; .formatted.key? == $id)' >/dev/null 2>&1
}
shared_links() {
	bpftool cgroup show "$(cg_root)/boundary" 2>/dev/null | grep -c ' jail_'
}

state_snapshot() {
	local cg
	cg=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
	{
		find "$cg/boundary" -mindepth 1 -maxdepth 1 -type d 2>/dev/null | sort
		# Not the shared sets: loaded once, they stay for the next jail (boundary cleanup
		# removes one no jail uses).
		find /sys/fs/bpf/boundary -mindepth 1 2>/dev/null |
			grep -vE '^/sys/fs/bpf/boundary/(shared-[0-9]+(/.*)?|owners)$' | sort
		# Not the suites' own namespaces (the test host, happy_eyeballs.t's, docker.sh's
		# dockerd's): another work tree's suite may make one between two snapshots, and they
		# are not boundary's.
		ip netns list 2>/dev/null | grep -vE "^bnd-(th|he|dk)-" | sort
		pgrep -x boundary-init 2>/dev/null
		pgrep -x boundary 2>/dev/null
	} >"$1"
}

# ours PID: PID descends from this shell.
ours() {
	local p=$1
	while [ -n "$p" ] && [ "$p" -gt 1 ]; do
		[ "$p" = $$ ] && return 0
		p=$(awk '/^PPid:/ { print $2 }' "/proc/$p/status" 2>/dev/null)
	done
	return 1
}

state_leftovers() {
	local line pid ourid=${3:-}
	comm -13 <(sort "$1") <(sort "$2") | while read -r line; do
		pid=$(sed -nE 's@.*/boundary/([0-9]+)-[0-9]+(/.*)?$@\1@p' <<<"$line")
		if [ -n "$pid" ]; then
			# A jail's cgroup or pins: ours, or another boundary's that still runs?
			if [ -n "$ourid" ]; then
				case $line in *"/boundary/$ourid"*) ;; *) continue ;; esac
			elif [ -d "/proc/$pid" ] && ! ours "$pid"; then
				continue
			fi
		elif [[ $line =~ ^[0-9]+$ ]] && [ ! -d "/proc/$line" ]; then
			# A process that was there at the snapshot and is gone now left nothing behind
			# (another suite's boundary, started and ended in between).
			continue
		elif [ -d "/proc/$line" ] && ! ours "$line"; then
			# A boundary or boundary-init process: ours, or in our jail's cgroup?
			[ -z "$ourid" ] && continue
			grep -q "/boundary/$ourid" "/proc/$line/cgroup" 2>/dev/null || continue
		fi
		echo "$line"
	done
}

trap 'testhost_cleanup; rm -rf "$TMPDIR_T"' EXIT

# clean_env: no setting of the caller's may leak into the boundary under test.
clean_env() {
	unset BOUNDARY_ALLOW BOUNDARY_CONFIG BOUNDARY_LOG_LEVEL BOUNDARY_LOG_DIR PROXY_PORT \
		BOUNDARY_JAIL_TYPE BOUNDARY_USER BOUNDARY_NO_USER_NAMESPACE BOUNDARY_AUDIT_LOG \
		BOUNDARY_UPSTREAM_CA BOUNDARY_UPSTREAM_TIMEOUT SUDO_USER SUDO_UID SUDO_GID \
		CODER_AGENT_BOUNDARY_LOG_PROXY_SOCKET_PATH DISABLE_AUDIT_LOGS BOUNDARY_PORT_FORWARD \
		BOUNDARY_HIDE BOUNDARY_UNHIDE BOUNDARY_READ_ONLY BOUNDARY_WRITABLE \
		BOUNDARY_PROTECT_STARTUP_FILES
}

# testhost_up_or_bail: the test host, or a failed suite that says why.
testhost_up_or_bail() {
	if ! testhost_up; then
		fail "cannot create the test host namespace"
		done_testing
		exit 1
	fi
}
