# SPDX-License-Identifier: MIT
# shellcheck shell=bash disable=SC2034 # it sets variables for the suites
#
# docker.sh: a real Docker of the suite's own, for suites that jail real containers. Source after
# tap.sh and jail.sh (its at_exit runs docker_down before the scratch directory goes).
#
# Debian's docker.io 20.10 (/usr/sbin/dockerd, /usr/bin/docker, never another docker on PATH),
# started by the suite: in a network namespace of its own (its bridge, iptables rules and
# containers' traffic stay there: the namespace has no route out), with its data root, exec
# root, pidfile, socket and config file under $DK, its own managed containerd (state under the
# exec root), the cgroupfs driver and a cgroup parent of this run's (/bnd-dk-PID), so that every
# container's cgroup, in the v2 hierarchy boundary uses and in any v1 one, lies in a subtree the
# suite owns. No registry is reachable: the image is a busybox-static root filesystem imported
# from a tarball. Everything is stopped by pid and removed at exit, even when the suite fails.
#
#   docker_up               starts dockerd and waits until `docker info` answers (overlay2, or
#                           vfs where overlay2 cannot start); 1 with DK_WHY set (and the end of
#                           its log) if it cannot. Sets DK (its directory), DK_NS (the network
#                           namespace), DK_CGP (the cgroup parent, relative to each hierarchy),
#                           DK_PID (dockerd), DK_DRIVER, DK_BIN (a directory to put first on
#                           PATH: its `docker` is Debian's, aimed at this dockerd)
#                           DK_DRIVERS, if set, is the list of storage drivers to try instead.
#   docker_up_or_skip       docker_up, or the whole suite skipped with the reason
#   dk ARGS...              Debian's docker CLI aimed at this dockerd (30 s at most)
#   docker_image            builds $DK_IMAGE (boundary-test:busybox) once: busybox-static and
#                           its applets in /bin, PATH=/bin
#   docker_run NAME [RUNARGS...] -- CMD...
#                           runs CMD detached in container NAME of $DK_IMAGE and waits until it
#                           runs; sets CPID (its first process, a host pid) and CCG (its cgroup2
#                           directory, from /proc/CPID/cgroup's "0::" line)
#   dk_ip NAME              container NAME's IPv4 address (its first network's)
#   dk_netns CMD...         runs CMD in dockerd's network namespace (nsenter --net: /sys and
#                           the cgroup mounts stay as they are, unlike `ip netns exec`)
#   cg2_of PID              the cgroup2 directory of PID
#   docker_down             removes the containers, stops dockerd, its containerd and the shims,
#                           unmounts what they mounted under $DK, deletes the namespace, removes
#                           the cgroup parent in every hierarchy (deepest first) and $DK

DK_DOCKERD=/usr/sbin/dockerd
DK_CLI=/usr/bin/docker
DK_IMAGE=boundary-test:busybox
DK=""
DK_NS=""
DK_CGP=""
DK_PID=""
DK_WHY=""
DK_RUNDIRS=""
CPID=""
CCG=""

dk() { DOCKER_HOST="unix://$DK/docker.sock" DOCKER_CONFIG="$DK/cli" timeout 30 "$DK_CLI" "$@"; }

dk_ip() { dk inspect --format '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}' "$1" | awk '{ print $1 }'; }

dk_netns() { nsenter --net="/run/netns/$DK_NS" -- "$@"; }


# dk_start DRIVER: dockerd with storage driver DRIVER; 0 once `docker info` answers.
dk_start() {
	local i
	rm -f "$DK/docker.pid"
	# dockerd writes its pidfile itself; $! is nsenter's, which execs it.
	nsenter --net="/run/netns/$DK_NS" -- "$DK_DOCKERD" \
		--config-file "$DK/daemon.json" \
		--data-root "$DK/data" --exec-root "$DK/exec" --pidfile "$DK/docker.pid" \
		-H "unix://$DK/docker.sock" \
		--exec-opt native.cgroupdriver=cgroupfs --cgroup-parent "/$DK_CGP" \
		--storage-driver "$1" --userland-proxy=false \
		>"$DK/dockerd.$1.log" 2>&1 </dev/null &
	DK_PID=$!
	for i in $(seq 150); do
		kill -0 "$DK_PID" 2>/dev/null || return 1
		dk info >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	return 1
}

# dk_stop: dockerd (TERM, then KILL), then whatever of its containerd and shims is left.
dk_stop() {
	local i p left
	[ -n "$DK_PID" ] && kill -TERM "$DK_PID" 2>/dev/null
	for i in $(seq 100); do
		kill -0 "$DK_PID" 2>/dev/null || break
		sleep 0.1
	done
	[ -n "$DK_PID" ] && kill -KILL "$DK_PID" 2>/dev/null
	wait "$DK_PID" 2>/dev/null
	DK_PID=""
	# Its containerd and the shims (reparented to init) name our exec root on their command
	# lines: nothing else does. Stopped by pid.
	for i in $(seq 50); do
		left=$(pgrep -f -- "$DK/exec/")
		[ -z "$left" ] && break
		for p in $left; do kill -TERM "$p" 2>/dev/null; done
		sleep 0.1
	done
	for p in $(pgrep -f -- "$DK/exec/"); do kill -KILL "$p" 2>/dev/null; done
	# What ran in the containers, if a shim went before its container.
	dk_cg_kill
	dk_umount
}

# dk_cg_kill: kills every process left in the cgroup parent's subtree (cgroup v2's cgroup.kill).
dk_cg_kill() {
	local top
	top=$(cg_root)/$DK_CGP
	[ -n "$DK_CGP" ] && [ -d "$top" ] || return 0
	echo 1 >"$top/cgroup.kill" 2>/dev/null
}

# dk_umount: every mount under $DK, deepest first (overlay and shm mounts of containers, the
# netns files of the exec root).
dk_umount() {
	local m
	[ -n "$DK" ] || return 0
	awk -v d="$DK/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r |
		while read -r m; do
			umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
		done
}

# dk_cg_remove: the cgroup parent in every hierarchy, v2 and v1, deepest first.
dk_cg_remove() {
	local mnt d i
	[ -n "$DK_CGP" ] || return 0
	awk '$9 == "cgroup2" || $9 == "cgroup" { print $5 }' /proc/self/mountinfo | while read -r mnt; do
		[ -d "$mnt/$DK_CGP" ] || continue
		for i in $(seq 50); do
			find "$mnt/$DK_CGP" -depth -type d -exec rmdir {} + 2>/dev/null
			[ -d "$mnt/$DK_CGP" ] || break
			sleep 0.1
		done
	done
}

docker_up() {
	local drv d
	for d in "$DK_DOCKERD" "$DK_CLI" /usr/bin/containerd /usr/bin/containerd-shim-runc-v2 \
		/usr/sbin/runc /bin/busybox; do
		if [ ! -x "$d" ]; then
			DK_WHY="$d is not installed (Debian's docker.io, containerd, runc, busybox-static)"
			return 1
		fi
	done
	if [ -z "$(cg_root)" ]; then
		DK_WHY="no cgroup2 mount"
		return 1
	fi
	DK=$TMPDIR_T/dk
	DK_NS=bnd-dk-$$
	DK_CGP=bnd-dk-$$
	DK_BIN=$DK/bin
	mkdir -p "$DK/bin" "$DK/cli"
	echo '{}' >"$DK/daemon.json"
	# dockerd and containerd make these fixed directories whatever their roots; removed at
	# exit if they were not there before (and are empty).
	for d in /run/docker/plugins /run/docker /run/containerd/s /run/containerd; do
		[ -e "$d" ] || DK_RUNDIRS="$DK_RUNDIRS $d"
	done
	cat >"$DK/bin/docker" <<EOS
#!/bin/sh
DOCKER_HOST=unix://$DK/docker.sock DOCKER_CONFIG=$DK/cli exec $DK_CLI "\$@"
EOS
	chmod 755 "$DK/bin/docker"
	at_exit docker_down
	if ! ip netns add "$DK_NS"; then
		DK_NS=""
		DK_WHY="cannot create a network namespace"
		return 1
	fi
	ip -n "$DK_NS" link set lo up
	for drv in ${DK_DRIVERS:-overlay2 vfs}; do
		if dk_start "$drv"; then
			DK_DRIVER=$drv
			return 0
		fi
		dk_stop
	done
	DK_WHY="dockerd does not start (storage drivers tried: ${DK_DRIVERS:-overlay2 vfs}); the end of its log: $(grep -v "module=grpc" "$DK/dockerd.$drv.log" | tail -n 3 | tr '\n' ' ')"
	return 1
}

docker_up_or_skip() {
	if [ "$(id -u)" != 0 ]; then
		skip "needs root (dockerd, cgroups, BPF, namespaces)"
		done_testing
		exit 0
	fi
	if ! docker_up; then
		skip "no Docker to test with: $DK_WHY"
		done_testing
		exit 0
	fi
	diag "dockerd $("$DK_DOCKERD" --version | sed 's/^Docker version //') ($DK_DRIVER) in netns $DK_NS, cgroup parent /$DK_CGP"
}

docker_image() {
	dk image inspect "$DK_IMAGE" >/dev/null 2>&1 && return 0
	busybox_rootfs "$DK/rootfs" || return 1
	tar -C "$DK/rootfs" -c . | dk import -c 'ENV PATH=/bin' -c 'CMD ["/bin/sh"]' - "$DK_IMAGE" >/dev/null
}

# docker_run NAME [RUNARGS...] -- CMD...: tests/lib/proxy.sh's container_run, with this dockerd.
docker_run() { container_run dk "$DK_IMAGE" "$@"; }

docker_down() {
	local c d
	[ -n "$DK" ] || return 0
	if [ -n "$DK_PID" ] && kill -0 "$DK_PID" 2>/dev/null; then
		c=$(dk ps -aq 2>/dev/null)
		# shellcheck disable=SC2086 # ids, one a word
		[ -n "$c" ] && dk rm -f $c >/dev/null 2>&1
	fi
	dk_stop
	[ -n "$DK_NS" ] && ip netns del "$DK_NS" 2>/dev/null
	dk_cg_remove
	for d in $DK_RUNDIRS; do rmdir "$d" 2>/dev/null; done
	dk_umount
	rm -rf --one-file-system "$DK"
	DK=""
}
