# SPDX-License-Identifier: MIT
# shellcheck shell=bash disable=SC2034 # it sets variables for the suites
#
# proxy.sh: origin servers for the proxy's e2e tests, and boundary run so that it finds them.
# Source after tap.sh and jail.sh.
#
# The servers (tests/lib/upstream.py, one process) listen on host loopback with a test CA made
# here; boundary resolves the test names through a hosts file bind-mounted over /etc/hosts in a
# mount namespace of its own, and trusts the test CA through --upstream-ca:
#
#   up.test api.up.test x.api.up.test   127.0.0.1 and ::1   listener "A"
#   other.test                          127.0.0.2           listener "B" (same ports as A)
#   bad.test                            127.0.0.1           $P_BAD: a certificate from another CA
#   down.test                           127.0.0.1           $P_DOWN: nothing listens
#
#   upstream_up             makes the CAs and certificates, starts the servers; sets UP (its
#                           directory), P_HTTP, P_HTTPS, P_BAD, P_DOWN, TEST_CA
#   conns [ID]              connections the servers accepted (from listener ID)
#   upstream_requests       requests the servers received, "ID METHOD TARGET" a line
#   bnd ARGS... -- CMD...   runs boundary ARGS -- CMD (log level info) as described above, with
#                           a 60 s limit; sets $out, $rc and $log ($TMPDIR_T/bnd.log)
#   bnd_bg NAME ARGS... -- CMD...
#                           the same in the background: sets $BND_PID (boundary itself); its
#                           output goes to $TMPDIR_T/NAME.out and .log; `wait $BND_PID`
#   host_resolver_up V4 V6  the fake host resolver (tests/lib/host_resolver.py) on 127.0.0.78:53
#                           (name it in $UP/resolv.conf): A -> V4, AAAA -> V6, each query a
#                           line "PROTO TYPE NAME" in $UP/dns.log; ends the suite if it fails
#   agent_up NAME           a Coder agent on $TMPDIR_T/NAME.sock ($AGENT_SOCK), its frames as
#                           JSON lines in $AGENT_OUT; $AGENT_PID
#   JAIL_ENV                exported for jailed commands: CLIENT_ADDR (client.py), CURL (curl
#                           with every name sent to the test host), PYC (python3 client.py)

# Jailed commands run both (upstream.py makes test data): their copies in $STAGE (jail.sh).
UPSTREAM_PY=$STAGE/lib/upstream.py
CLIENT_PY=$STAGE/lib/client.py

# free_ports N: N TCP ports free on 127.0.0.1, 127.0.0.2 and ::1 alike.
free_ports() {
	python3 "$STAGE/lib/free_ports.py" "$1"
}

# make_cert DIR NAME CA SUBJ SANS: a P-256 leaf NAME.pem/NAME.key in DIR signed by CA.
make_cert() {
	local d=$1 name=$2 ca=$3 subj=$4 sans=$5
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$subj" \
		-keyout "$d/$name.key" -out "$d/$name.csr" 2>/dev/null &&
		printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n' \
			"$sans" >"$d/$name.ext" &&
		openssl x509 -req -in "$d/$name.csr" -CA "$d/$ca.pem" -CAkey "$d/$ca.key" \
			-CAcreateserial -days 2 -sha256 -extfile "$d/$name.ext" -out "$d/$name.pem" 2>/dev/null
}

make_ca() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
		-subj "/CN=$3" -addext basicConstraints=critical,CA:TRUE \
		-addext keyUsage=critical,keyCertSign,cRLSign \
		-keyout "$1/$2.key" -out "$1/$2.pem" 2>/dev/null
}

upstream_up() {
	local i
	UP=$TMPDIR_T/up
	mkdir -p "$UP/git"
	make_ca "$UP" ca "boundary test CA" || return 1
	make_ca "$UP" rogue "not the test CA" || return 1
	make_cert "$UP" good ca up.test \
		"DNS:up.test,DNS:*.up.test,DNS:x.api.up.test,DNS:other.test,DNS:localhost,IP:127.0.0.1" ||
		return 1
	make_cert "$UP" bad rogue bad.test "DNS:bad.test" || return 1
	TEST_CA=$UP/ca.pem
	read -r P_HTTP P_HTTPS P_BAD P_DOWN <<<"$(free_ports 4)"
	cat >"$UP/ports.conf" <<EOF
http 127.0.0.1 $P_HTTP plain - - A
http ::1 $P_HTTP plain - - A
http 127.0.0.2 $P_HTTP plain - - B
https 127.0.0.1 $P_HTTPS tls $UP/good.pem $UP/good.key A
https ::1 $P_HTTPS tls $UP/good.pem $UP/good.key A
https 127.0.0.2 $P_HTTPS tls $UP/good.pem $UP/good.key B
bad 127.0.0.1 $P_BAD tls $UP/bad.pem $UP/bad.key BAD
EOF
	cat >"$UP/hosts" <<EOF
127.0.0.1 localhost
::1 localhost
127.0.0.1 up.test api.up.test x.api.up.test bad.test down.test
::1 up.test
127.0.0.2 other.test
EOF
	# No DNS server: a name missing from the hosts file fails at once.
	echo "nameserver 127.0.0.1" >"$UP/resolv.conf"
	: >"$UP/conns.log"
	: >"$UP/requests.log"
	python3 "$UPSTREAM_PY" serve "$UP" 2>"$UP/server.err" &
	UP_PID=$!
	at_exit "kill $UP_PID 2>/dev/null; wait $UP_PID 2>/dev/null"
	for i in $(seq 100); do
		[ -e "$UP/ready" ] && break
		kill -0 "$UP_PID" 2>/dev/null || break
		sleep 0.05
	done
	[ -e "$UP/ready" ] || { cat "$UP/server.err" >&2; return 1; }
	export CLIENT_ADDR=$TH4
	CURL="curl -sS --max-time 30 --connect-to ::$TH4:"
	PYC="python3 $CLIENT_PY"
	export CURL PYC
}

conns() {
	if [ -n "$1" ]; then awk -v id="$1" '$1 == id' "$UP/conns.log" | wc -l; else
		wc -l <"$UP/conns.log"
	fi
}

upstream_requests() { cat "$UP/requests.log"; }

# bnd_argv ARGS...: BND_ARGV, boundary ARGS in a mount namespace where /etc/hosts and
# /etc/resolv.conf are ours; XDG_CONFIG_HOME keeps boundary's CA in the scratch directory.
bnd_argv() {
	# shellcheck disable=SC2016 # for the inner shell
	BND_ARGV=(unshare -m --propagation private sh -c '
		mount --bind "$0/hosts" /etc/hosts && mount --bind "$0/resolv.conf" /etc/resolv.conf &&
		exec "$@"' "$UP" env XDG_CONFIG_HOME="$TMPDIR_T/xdg" "$BOUNDARY" --log-level ${BND_LOG_LEVEL:-info}
		--upstream-ca "$TEST_CA" "$@")
}

bnd() {
	bnd_argv "$@"
	out=$(timeout -k 5 60 "${BND_ARGV[@]}" 2>"$TMPDIR_T/bnd.log" </dev/null)
	rc=$?
	log=$(cat "$TMPDIR_T/bnd.log")
}

bnd_bg() {
	local name=$1 i
	shift
	bnd_argv "$@"
	"${BND_ARGV[@]}" >"$TMPDIR_T/$name.out" 2>"$TMPDIR_T/$name.log" </dev/null &
	BND_PID=$!
	at_exit "kill $BND_PID 2>/dev/null"
	# unshare, sh and env exec: the pid becomes boundary's own.
	for i in $(seq 100); do
		[ "$(cat "/proc/$BND_PID/comm" 2>/dev/null)" = boundary ] && break
		sleep 0.02
	done
}

# proxy_suite: the start every suite of real jails against these servers shares: root (or the
# suite is skipped), a scratch HOME, none of the caller's boundary or proxy settings, boundary's
# leftovers reaped at exit, and the test host and the upstream servers up (or the suite fails,
# saying why).
proxy_suite() {
	if [ "$(id -u)" != 0 ]; then
		skip "needs root (cgroups, BPF, namespaces)"
		done_testing
		exit 0
	fi
	export HOME=$TMPDIR_T/home
	mkdir -p "$HOME"
	clean_env
	unset HTTP_PROXY HTTPS_PROXY http_proxy https_proxy ALL_PROXY all_proxy NO_PROXY no_proxy
	# shellcheck disable=SC2016 # expanded at exit
	at_exit '"$BOUNDARY" cleanup >/dev/null 2>&1'
	# --no-testhost: a suite that never aims at the test host (nor takes its lock)
	if { [ "${1:-}" != --no-testhost ] && ! testhost_up; } || ! upstream_up; then
		fail "cannot set up the test host and the upstream servers"
		done_testing
		exit 1
	fi
}

# no_programs CGROUP: no BPF program is attached to CGROUP (a directory).
no_programs() { [ -z "$(bpftool cgroup show "$1" 2>/dev/null | tail -n +2)" ]; }

# busybox_rootfs DIR: a root file system in DIR for a container image: busybox-static and its
# applets in /bin, root in /etc/passwd and /etc/group. Import it with PATH=/bin.
busybox_rootfs() {
	local r=$1 a
	mkdir -p "$r/bin" "$r/etc" "$r/tmp" "$r/proc" "$r/sys" "$r/dev" "$r/root" || return 1
	chmod 1777 "$r/tmp"
	cp /bin/busybox "$r/bin/busybox" || return 1
	# busybox --list names busybox itself: a link in its place would replace the binary
	for a in $(/bin/busybox --list); do
		[ "$a" = busybox ] || ln -s busybox "$r/bin/$a"
	done
	echo 'root:x:0:0:root:/root:/bin/sh' >"$r/etc/passwd"
	echo 'root:x:0:' >"$r/etc/group"
}

# container_run CLI IMAGE NAME [RUNARGS...] -- CMD...: CMD detached in container NAME of IMAGE,
# started with CLI (a function that runs docker or podman against the suite's own daemon or
# storage); waits until it runs. Sets CPID (its first process), CCG (its cgroup2 directory),
# and RUN_WHY (the runtime's last line of complaint) when it does not run (status 1).
container_run() {
	local cli=$1 image=$2 name=$3 args=()
	shift 3
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		args+=("$1")
		shift
	done
	shift
	CPID=""
	CCG=""
	if ! RUN_WHY=$("$cli" run -d --name "$name" "${args[@]}" "$image" "$@" 2>&1 >/dev/null); then
		RUN_WHY=$(tail -n 1 <<<"$RUN_WHY")
		return 1
	fi
	for _ in $(seq 100); do
		CPID=$("$cli" inspect --format '{{.State.Pid}}' "$name" 2>/dev/null)
		[ -n "$CPID" ] && [ "$CPID" != 0 ] && break
		sleep 0.1
	done
	[ -n "$CPID" ] && [ "$CPID" != 0 ] || return 1
	CCG=$(cg2_of "$CPID")
}

# attach_bg NAME ARGS...: boundary attach ARGS in the background (tests/lib/proxy.sh's bnd_bg),
# waited for until it says it is attached (or gives up); sets BND_PID, ALOG (its log) and ID.
attach_bg() {
	local name=$1
	shift
	BND_LOG_LEVEL=debug bnd_bg "$name" attach "$@"
	ALOG=$TMPDIR_T/$name.log
	for _ in $(seq 300); do
		grep -q "attached to " "$ALOG" 2>/dev/null || ! kill -0 "$BND_PID" 2>/dev/null && break
		sleep 0.05
	done
	ID=$(jail_field "$ALOG" id)
}

# detach: SIGTERM to the boundary of attach_bg, waited for; sets $rc.
detach() {
	kill -TERM "$BND_PID" 2>/dev/null
	wait "$BND_PID"
	rc=$?
}

# audit_names_process AUDIT ALLOWED REFUSED: the audit log AUDIT has an allow record for the
# URL ending in ALLOWED and a deny record for the one ending in REFUSED, both naming their
# process (comm wget, a pid): five checks.
audit_names_process() {
	local r d
	r=$(grep '"event":"request"' "$1" 2>/dev/null | grep -F "$2\"" | head -1)
	d=$(grep '"event":"request"' "$1" 2>/dev/null | grep -F "$3\"" | head -1)
	contains "the audit log has an allow record for it" "$r" '"decision":"allow"'
	contains "naming the container's process" "$r" '"comm":"wget"'
	logged "and a pid" "$r" '"pid":[1-9][0-9]*[,}]'
	contains "and a deny record for the refused one" "$d" '"decision":"deny"'
	contains "naming it too" "$d" '"comm":"wget"'
}

# agent_up NAME: a Coder workspace agent (tests/lib/coder_agent.py) listening on $TMPDIR_T/NAME.sock, frames to $TMPDIR_T/NAME.jsonl.
agent_up() {
	local i
	AGENT_SOCK=$TMPDIR_T/$1.sock
	AGENT_OUT=$TMPDIR_T/$1.jsonl
	: >"$AGENT_OUT"
	python3 "$STAGE/lib/coder_agent.py" serve "$AGENT_SOCK" "$AGENT_OUT" 2>"$TMPDIR_T/$1.err" &
	AGENT_PID=$!
	at_exit "kill $AGENT_PID 2>/dev/null"
	for i in $(seq 100); do
		[ -e "$AGENT_OUT.ready" ] && return 0
		sleep 0.05
	done
	fail "the agent $1 did not start"
	diag "$(cat "$TMPDIR_T/$1.err")"
	return 1
}

host_resolver_up() {
	: >"$UP/dns.log"
	python3 "$STAGE/lib/host_resolver.py" "$1" "$2" "$UP/dns.log" "$UP/dns.ready" \
		2>"$UP/dns.err" &
	DNS_PID=$!
	at_exit "kill $DNS_PID 2>/dev/null"
	for _ in $(seq 100); do [ -e "$UP/dns.ready" ] && break; sleep 0.05; done
	if [ ! -e "$UP/dns.ready" ]; then
		fail "the fake host resolver did not start: $(cat "$UP/dns.err")"
		done_testing
		exit 1
	fi
}
