#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# podman.t: boundary attach --container against a real podman (Debian's podman 4.3, with conmon
# and runc or crun), daemonless, with storage of the suite's own. A container of a busybox image
# imported here (no registry) runs a loop with --network none: its namespace has only lo, where
# boundary listens. boundary finds it by name through podman's CLI (a `podman` first on PATH
# that names the suite's storage), attaches to its cgroup, and requests from inside (podman exec)
# are decided by the rules; the allowed names resolve, for boundary, through proxy.sh's hosts
# file (--resolve-on-host) to the upstream servers on host loopback. Then `podman restart` while
# attached: boundary follows the container into its new cgroup and namespace.
#
# podman's state is the suite's: --root, --runroot, --tmpdir, a containers.conf and a
# storage.conf of its own (CONTAINERS_CONF, CONTAINERS_STORAGE_CONF; the `podman container
# cleanup` conmon runs as a container exits is given the same flags), the cgroupfs manager under a
# cgroup parent of this run's (/bnd-pm-PID, in every hierarchy) and a file events backend. The
# one path podman does not let root move, its blob-info cache in /var/lib/containers/cache
# (written by `podman import`), is a directory of the suite's bind-mounted there, in a mount
# namespace the suite runs in. Nothing leaves the machine: the containers have no network but lo.
#
# Resource limits: podman and runc raise RLIMIT_NOFILE and RLIMIT_NPROC in the container to
# values of their own, which fails ("setrlimit ... Operation not permitted") where root lacks
# CAP_SYS_RESOURCE and the hard limits are lower. The suite asks for what conmon (the runtime's
# parent) really has: a first container started with low limits shows conmon's hard limits, and
# containers.conf's default_ulimits gives every later container those (no higher than ours).

# A mount namespace of the suite's own (tests/lib/isolate gives one already; not every runner
# does): the bind mount over /var/lib/containers must not be seen outside.
if [ "$(id -u)" = 0 ] && [ "${BND_PM_UNSHARED:-}" != 1 ]; then
	exec env BND_PM_UNSHARED=1 unshare --mount --propagation private -- "$0" "$@"
fi
unset BND_PM_UNSHARED

. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/jail.sh"
. "$(dirname "$0")/../lib/proxy.sh"

T0=$(date +%s)
PM_CLI=/usr/bin/podman
PM_IMAGE=localhost/boundary-test:busybox
PM=""
PM_CGP=""
PM_WHY=""
PM_BOUND=""
PM_MADE=""
CPID=""
CCG=""

# pm ARGS...: podman on the suite's storage (the wrapper boundary finds first on PATH), 30 s at most.
pm() { timeout 30 "$PM/bin/podman" "$@"; }

# pm_conf [ULIMITS]: containers.conf, with default_ulimits ULIMITS if given.
pm_conf() {
	{
		echo "[containers]"
		[ -n "$1" ] && echo "default_ulimits = [$1]"
		echo "[engine]"
		echo "cgroup_manager = \"cgroupfs\""
		echo "events_logger = \"file\""
		echo "events_logfile_path = \"$PM/events.log\""
		echo "tmp_dir = \"$PM/tmp\""
		echo "volume_path = \"$PM/volumes\""
		echo "static_dir = \"$PM/static\""
		echo "[network]"
		echo "network_config_dir = \"$PM/net\""
	} >"$PM/containers.conf"
}

# pm_down: the containers, whatever conmon and container processes are left (by pid, or by the
# cgroup parent's cgroup.kill), podman's mounts under $PM, the cgroup parent in every hierarchy.
pm_down() {
	local p mnt m d
	[ -n "$PM" ] || return 0
	pm rm -f -a -t 0 >/dev/null 2>&1
	# conmon (reparented to init) names our storage on its command line: nothing else does.
	for _ in $(seq 30); do
		p=$(pgrep -f -- "$PM/")
		[ -z "$p" ] && break
		for m in $p; do kill -TERM "$m" 2>/dev/null; done
		sleep 0.1
	done
	for m in $(pgrep -f -- "$PM/"); do kill -KILL "$m" 2>/dev/null; done
	[ -n "$PM_CGP" ] && [ -d "$(cg_root)/$PM_CGP" ] && echo 1 >"$(cg_root)/$PM_CGP/cgroup.kill" 2>/dev/null
	awk -v d="$PM/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r |
		while read -r m; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null; done
	if [ -n "$PM_CGP" ]; then
		awk '$9 == "cgroup2" || $9 == "cgroup" { print $5 }' /proc/self/mountinfo | while read -r mnt; do
			[ -d "$mnt/$PM_CGP" ] || continue
			for _ in $(seq 50); do
				find "$mnt/$PM_CGP" -depth -type d -exec rmdir {} + 2>/dev/null
				[ -d "$mnt/$PM_CGP" ] || break
				sleep 0.1
			done
		done
	fi
	for d in $PM_BOUND; do umount "$d" 2>/dev/null; done
	for d in $PM_MADE; do rmdir "$d" 2>/dev/null; done
	rm -rf --one-file-system "$PM"
	PM=""
}

# pm_run NAME [RUNARGS...] -- CMD...: CMD detached in container NAME of $PM_IMAGE; sets CPID and
# CCG as docker.sh's docker_run does. 1 (podman's error in $PM_WHY) if it does not run.
pm_run() {
	local name=$1
	shift
	container_run pm "$PM_IMAGE" "$name" --network none --cgroup-parent "/$PM_CGP" "$@" && return 0
	PM_WHY=$RUN_WHY
	return 1
}

# pm_try: runs `true` in a container of $PM_IMAGE, removed after; 1 with podman's
# error in $PM_WHY if it does not run.
pm_try() {
	PM_WHY=$(pm run --rm --network none --cgroup-parent "/$PM_CGP" "$PM_IMAGE" true 2>&1 >/dev/null) &&
		return 0
	PM_WHY=$(tail -n 1 <<<"$PM_WHY")
	return 1
}

# pm_image: busybox-static and its applets in /bin, PATH=/bin, imported from a tarball.
pm_image() {
	busybox_rootfs "$PM/rootfs" || return 1
	tar -C "$PM/rootfs" -c . | pm import -c 'ENV PATH=/bin' -c 'CMD ["/bin/sh"]' - "$PM_IMAGE" >/dev/null 2>"$PM/import.err"
}

# hard_limit PID NAME: the hard limit NAME ("Max open files") of PID, as /proc/PID/limits says.
hard_limit() { awk -v n="$2" 'index($0, n) == 1 { print $(NF - 1) }' "/proc/$1/limits"; }
min() { if [ "$1" = unlimited ] || { [ "$2" != unlimited ] && [ "$2" -lt "$1" ]; }; then echo "$2"; else echo "$1"; fi; }

# pm_up: podman's storage and configuration, the image, and the resource limits containers can
# have here. 1 with PM_WHY set if podman cannot run a container.
pm_up() {
	local d drv ppid nofile nproc
	for d in "$PM_CLI" /usr/bin/conmon /bin/busybox; do
		if [ ! -x "$d" ]; then
			PM_WHY="$d is not installed (Debian's podman, conmon, busybox-static)"
			return 1
		fi
	done
	if [ ! -x /usr/bin/crun ] && [ ! -x /usr/sbin/runc ] && [ ! -x /usr/bin/runc ]; then
		PM_WHY="no OCI runtime (crun or runc) is installed"
		return 1
	fi
	if [ -z "$(cg_root)" ]; then
		PM_WHY="no cgroup2 mount"
		return 1
	fi
	PM=$TMPDIR_T/pm
	PM_CGP=bnd-pm-$$
	mkdir -p "$PM/bin" "$PM/tmp" "$PM/net" "$PM/default/lib" "$PM/default/run"
	at_exit pm_down
	# podman's default places, for what it writes there all the same: directories of the
	# suite's, seen only in its mount namespace. Made (and removed at exit) if not there.
	for d in /var/lib/containers:lib /run/containers:run; do
		if [ ! -d "${d%:*}" ]; then
			mkdir "${d%:*}" && PM_MADE="${d%:*} $PM_MADE"
		fi
		if ! mount --bind "$PM/default/${d#*:}" "${d%:*}"; then
			PM_WHY="cannot bind-mount a directory of the suite over ${d%:*}"
			return 1
		fi
		PM_BOUND="${d%:*} $PM_BOUND"
	done
	export CONTAINERS_CONF=$PM/containers.conf CONTAINERS_STORAGE_CONF=$PM/storage.conf
	cat >"$PM/bin/podman" <<EOS
#!/bin/sh
CONTAINERS_CONF=$PM/containers.conf CONTAINERS_STORAGE_CONF=$PM/storage.conf exec $PM_CLI \\
	--root $PM/root --runroot $PM/runroot --tmpdir $PM/tmp --cgroup-manager cgroupfs \\
	--events-backend file "\$@"
EOS
	chmod 755 "$PM/bin/podman"
	pm_conf ""
	for drv in overlay vfs; do
		printf '[storage]\ndriver = "%s"\ngraphroot = "%s"\nrunroot = "%s"\n' "$drv" \
			"$PM/root" "$PM/runroot" >"$PM/storage.conf"
		PM_DRIVER=$drv
		pm_image && break
		pm rm -f -a >/dev/null 2>&1
		rm -rf --one-file-system "$PM/root" "$PM/runroot"
	done
	if ! pm image exists "$PM_IMAGE"; then
		PM_WHY="podman import fails: $(tail -n 1 "$PM/import.err")"
		return 1
	fi
	# What podman does unaided, for the log: here it fails on the rlimits.
	pm_try || diag "podman run with its own rlimits: $PM_WHY"
	# Low limits can always be set: conmon's own are what a container can be given at most.
	if ! pm_run bnd-pm-limits --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 -- sleep 60; then
		PM_WHY="podman run fails even with low rlimits: $PM_WHY"
		return 1
	fi
	ppid=$(awk '/^PPid:/ { print $2 }' "/proc/$CPID/status")
	nofile=$(min "$(ulimit -Hn)" "$(hard_limit "$ppid" "Max open files")")
	nproc=$(min "$(ulimit -Hu)" "$(hard_limit "$ppid" "Max processes")")
	diag "$(cat "/proc/$ppid/comm") has nofile $nofile, nproc $nproc: default_ulimits in containers.conf"
	pm rm -f -t 0 bnd-pm-limits >/dev/null 2>&1
	pm_conf "\"nofile=$nofile:$nofile\", \"nproc=$nproc:$nproc\""
	if ! pm_try; then
		PM_WHY="podman run fails with nofile=$nofile nproc=$nproc: $PM_WHY"
		return 1
	fi
	return 0
}

if [ "$(id -u)" != 0 ]; then
	skip "needs root (podman, cgroups, BPF, namespaces)"
	done_testing
	exit 0
fi
if ! pm_up; then
	skip "no podman to test with: $PM_WHY"
	done_testing
	exit 0
fi
diag "$("$PM_CLI" --version) ($PM_DRIVER), $(pm info --format '{{.Host.OCIRuntime.Name}}' 2>/dev/null), cgroup parent /$PM_CGP"

proxy_suite --no-testhost # nothing here aims at the test host

# get NAME URL: busybox wget in container NAME (podman exec joins its cgroup); sets $status (the
# HTTP status, or "none"), $body, $out, $rc.
get() {
	out=$(pm exec "$1" timeout 20 wget -S -O /tmp/body "$2" 2>&1 </dev/null)
	rc=$?
	status=$(sed -nE 's@^ *HTTP/1\.[01] ([0-9]+).*@\1@p' <<<"$out" | tail -1)
	status=${status:-none}
	body=$(pm exec "$1" cat /tmp/body 2>/dev/null)
}
allowed() { [ "$status" = 200 ] && grep -q "/echo/$1" <<<"$body" && grep -q "/echo/$1" "$UP/requests.log"; }

# attach NAME LOG ARGS...: boundary attach in the background, podman's wrapper first on PATH;
# waits until it attached (or ended).
attach() {
	local name=$1 log=$TMPDIR_T/$1.log
	shift
	PATH=$PM/bin:$PATH BND_LOG_LEVEL=debug bnd_bg "$name" attach "$@"
	for _ in $(seq 300); do
		grep -q "attached to " "$log" 2>/dev/null || ! kill -0 "$BND_PID" 2>/dev/null && break
		sleep 0.05
	done
}

LOOP='while :; do sleep 1; done'
C=bnd-pm-jailed
pm_run "$C" -- sh -c "$LOOP"
JPID=$CPID
JCG=$CCG
JID=$(pm inspect --format '{{.Id}}' "$C" 2>/dev/null)
check "a podman container runs ($JPID)" [ -n "$JPID" ]
[ -n "$JPID" ] || diag "podman run: $PM_WHY"
check "its cgroup2 directory is its own, under the suite's cgroup parent" \
	[ "$JCG" = "$(cg_root)/$PM_CGP/libpod-$JID" ]
in_own_netns() { [ "$(readlink "/proc/$1/ns/net")" != "$(readlink /proc/self/ns/net)" ]; }
check "it has a network namespace of its own" in_own_netns "$JPID"
only_lo() { [ "$(nsenter -t "$JPID" -n ip -o link show | awk -F': ' '{ print $2 }')" = lo ]; }
check "with only lo in it (--network none)" only_lo

# --- attached by name, through podman -----------------------------------------------------------

state_snapshot "$TMPDIR_T/before"
AUD=$TMPDIR_T/audit.jsonl
attach att --container "$C" --resolve-on-host --allow "domain=up.test" --audit-log "$AUD"
ALOG=$TMPDIR_T/att.log
ABND=$BND_PID
ID=$(jail_field "$ALOG" id)
PPORT=$(jail_field "$ALOG" proxy_port)
logged "boundary asks podman for the container's first process" "$(cat "$ALOG")" \
	"container $C: podman says its first process is pid $JPID"
logged "and attaches to its cgroup, inside its network namespace" "$(cat "$ALOG")" \
	"attached to $JCG: .*network namespace of pid $JPID"
check "the container's cgroup has boundary's programs" not no_programs "$JCG"
listens_inside() { nsenter -t "$JPID" -n ss -Hltn "sport = :$PPORT" | grep -q 127.0.0.1; }
check "the proxy listens inside the container's namespace, on its lo" listens_inside

out=$(pm exec "$C" nslookup up.test 2>&1)
check "boundary answers the container's DNS queries" grep -q "^Name:.*up\.test" <<<"$out"
# Podman leaves IPv6 on in the container (::1 on its lo): boundary answers AAAA there too.
out=$(pm exec "$C" nslookup -type=AAAA up.test 2>&1)
check "IPv6 is on in the container, so boundary answers AAAA there" grep -q "fd42:b0d:53" <<<"$out"
get "$C" "http://up.test:$P_HTTP/echo/in-podman-v6"
check "and a client that tries that address first goes through ($status)" allowed in-podman-v6
# The rest as clients that prefer IPv4 (RFC 6724's table in glibc's gai.conf).
pm exec "$C" sh -c 'echo "precedence ::ffff:0:0/96 100" >/etc/gai.conf'
get "$C" "http://up.test:$P_HTTP/echo/in-podman"
check "an allowed request from inside the container goes through ($status)" allowed in-podman
[ "$status" = 200 ] || diag "wget: $out" "log: $(grep -v libbpf "$ALOG" | tail -n 20)"
get "$C" "http://other.test:$P_HTTP/echo/refused"
refused() { [ "$status" = 403 ] && [ "$(conns B)" = 0 ]; }
check "a request no rule allows gets 403 and never reaches its server ($status)" refused

audit_names_process "$AUD" /echo/in-podman /echo/refused

kill -TERM "$ABND" 2>/dev/null
wait "$ABND"
rc=$?
check "SIGTERM ends the attach with status 0 ($rc)" [ "$rc" = 0 ]
check "the container's cgroup has no programs after it" no_programs "$JCG"
no_listener() { ! nsenter -t "$JPID" -n ss -Hltn "sport = :$PPORT" | grep -q .; }
check "no listener is left in the container's namespace" no_listener
check "the container still runs" kill -0 "$JPID"
state_snapshot "$TMPDIR_T/after"
left=$(state_leftovers "$TMPDIR_T/before" "$TMPDIR_T/after" "$ID")
nothing_left() { [ -z "$left" ] && [ ! -e "/run/boundary/$ID" ]; }
check "the detach leaves no pins, run files or processes behind" nothing_left
[ -n "$left" ] && diag "left: $left"

# --- podman restart while attached ----------------------------------------------------------------

attach rst --container "$C" --resolve-on-host --allow "domain=up.test"
RLOG=$TMPDIR_T/rst.log
RBND=$BND_PID
check "attached again" grep -q "attached to $JCG" "$RLOG"
# sh, the container's first process, ignores SIGTERM: podman says so, and kills it after 1 s.
pm restart -t 1 "$C" >/dev/null 2>"$TMPDIR_T/restart.err"
NPID=$(pm inspect --format '{{.State.Pid}}' "$C" 2>/dev/null)
new_pid() { [ -n "$NPID" ] && [ "$NPID" != 0 ] && [ "$NPID" != "$JPID" ]; }
check "podman restart: a new first process ($JPID, then $NPID)" new_pid
check "in a cgroup of the same path" [ "$(cg2_of "$NPID")" = "$JCG" ]
check "boundary follows the container" jail_wait_log "$RLOG" "jailed again" 20
logged "it says the cgroup is new and the programs are on it" "$(cat "$RLOG")" \
	"$JCG is a new cgroup \\(the container restarted\\): boundary's programs are on it"
logged "it asks podman for the new first process" "$(cat "$RLOG")" \
	"container $C: podman says its first process is pid $NPID"
logged "and listens in the new network namespace" "$(cat "$RLOG")" \
	"followed $JCG into the network namespace of pid $NPID: .*jailed again"
check "the new cgroup has boundary's programs" not no_programs "$JCG"
pm exec "$C" sh -c 'echo "precedence ::ffff:0:0/96 100" >/etc/gai.conf'
get "$C" "http://up.test:$P_HTTP/echo/after-restart"
check "after the restart an allowed request goes through ($status)" allowed after-restart
[ "$status" = 200 ] || diag "wget: $out" "log: $(grep -v libbpf "$RLOG" | tail -n 20)"
get "$C" "http://other.test:$P_HTTP/echo/refused-after-restart"
check "and a refused one gets 403, never reaching its server ($status)" refused
kill -TERM "$RBND" 2>/dev/null
wait "$RBND"
rc=$?
check "SIGTERM detaches it ($rc)" [ "$rc" = 0 ]
check "and leaves no programs on the cgroup" no_programs "$JCG"

# Once the container is gone (conmon runs `podman container cleanup` as it exits), what podman
# wrote to its default places: its blob-info cache, nothing else.
pm rm -f -t 0 "$C" >/dev/null 2>&1
for _ in $(seq 50); do pgrep -f -- "$PM/" >/dev/null || break; sleep 0.1; done
wrote=$(cd "$PM/default" && find . -mindepth 1 | sort | tr '\n' ' ')
only_cache() { [ "$wrote" = "./lib ./lib/cache ./lib/cache/blob-info-cache-v1.boltdb ./run " ]; }
check "podman wrote nothing but its blob-info cache outside the suite's storage" only_cache
[ "$wrote" = "./lib ./lib/cache ./lib/cache/blob-info-cache-v1.boltdb ./run " ] || diag "it wrote: $wrote"
diag "podman.t: $(($(date +%s) - T0)) s"
done_testing
