# SPDX-License-Identifier: MIT
# shellcheck shell=bash disable=SC2034 # it sets variables for the suites
#
# cri.sh: a containerd of the suite's own with its CRI plugin, driven through tests/lib/cri.py
# (no kubelet, no crictl: Debian has neither), for suites that need real pod sandboxes. Source
# after tap.sh, jail.sh (at_exit, cg_root) and proxy.sh (busybox_rootfs).
#
# Debian's containerd 1.6 (/usr/bin/containerd, its runc shim, runc), started by the suite in the
# host's network namespace (pods use host networking: see cri_pod), with its root, state, socket,
# config.toml and CNI directories under $CR, the cgroupfs driver, and pods given a cgroup parent
# of this run's (/boundary-test-cri-PID), so that every pod's cgroup, in the v2 hierarchy that
# boundary uses and in the v1 ones of a hybrid host, lies in a subtree the suite owns. No
# registry is reachable: the sandbox ("pause") image and the workload image are one busybox-static
# image written here as an OCI archive and imported with ctr. Everything is stopped by pid and
# removed at exit, even when the suite fails.
#
#   cri_up                  starts containerd, waits until the CRI plugin answers Version and
#                           imports the image; 1 with CR_WHY set if it cannot. Sets CR (its
#                           directory), CR_SOCK, CR_PID, CR_CGP (the cgroup parent, relative to
#                           each hierarchy's root, leading slash included), CR_SNAP (overlayfs,
#                           or native where overlay cannot mount), CR_IMAGE, CR_PAUSE
#   cri_up_or_skip          cri_up, or the whole suite skipped with the reason
#   cri ARGS...             tests/lib/cri.py aimed at this containerd
#   crictr ARGS...          Debian's ctr aimed at it, namespace k8s.io
#   cri_pod NAME [ARGS...]  runs a host-network pod NAME under $CR_CGP (cri.py run-pod ARGS
#                           added); prints its id
#   cri_start POD NAME CMD... creates and starts container NAME of $CR_IMAGE in POD; sets CID
#   cri_run POD NAME CMD... creates and starts container NAME of $CR_IMAGE in POD and waits until
#                           it runs; sets CID, CPID (its first process, a host pid) and CCG (its
#                           cgroup2 directory, from /proc/CPID/cgroup)
#   cri_down                stops and removes every pod, stops containerd and its shims, kills
#                           what is left in the cgroup parent, unmounts what they mounted under
#                           $CR, removes the cgroup parent in every hierarchy and $CR
#
#   cri_wait_exit CID       waits (30 s at most) until container CID has exited; sets CEXIT (its
#                           status); 1 if it did not
#   CR_RUNC                 (set before cri_up) the runc binary the shim runs, /usr/sbin/runc by
#                           default: a wrapper that keeps runc's --log and the bundle's config.json
#                           is how a failing create is debugged
#
# Without CNI: containerd 1.6 refuses a pod with a network namespace of its own when no CNI
# config is loaded (RunPodSandbox: "failed to setup network for sandbox ...: cni plugin not
# initialized"), so every pod here has network=NODE: the host's namespace, loopback included.
# Such a refused pod is not forgotten: it stays listed, SANDBOX_NOTREADY, and neither
# StopPodSandbox nor RemovePodSandbox can end it ("failed to destroy network for sandbox"), and
# the namespace containerd made for it stays in /var/run/netns (cni-UUID, a fixed directory
# whatever its state directory): cri_down unmounts and removes the cni-* entries that were not
# there at cri_up.
#
# Where the processes land (runc 1.1, cgroupfs, hybrid host): runc's cgroupsPath is
# "<cgroup_parent>/<id>" for the sandbox and each container alike (containerd's CRI makes it so),
# so in the cgroup2 hierarchy the pause process is in <cgroup2><cgroup_parent>/<sandbox id> and
# each container's in <cgroup2><cgroup_parent>/<container id>, siblings, with the same directories
# in every v1 hierarchy.

CR_CONTAINERD=/usr/bin/containerd
CR_CTR=/usr/bin/ctr
CR_PY=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/cri.py
CR_IMAGE=docker.io/boundary/busybox:test
CR_PAUSE=docker.io/boundary/pause:test
CR=""
CR_SOCK=""
CR_PID=""
CR_CGP=""
CR_SNAP=""
CR_WHY=""
CR_RUNDIRS=""
CR_NETNS=""
CID=""
CPID=""
CCG=""

cri() { timeout 60 "$CR_PY" --socket "$CR_SOCK" "$@"; }

crictr() { timeout 60 "$CR_CTR" --address "$CR_SOCK" -n k8s.io "$@"; }

# cr_overlay_ok: overlay mounts in $CR (not where $CR lies on overlay itself, or a kernel
# without it).
cr_overlay_ok() {
	local d=$CR/ovl r=1
	mkdir -p "$d/l" "$d/u" "$d/w" "$d/m"
	mount -t overlay overlay -o "lowerdir=$d/l,upperdir=$d/u,workdir=$d/w" "$d/m" 2>/dev/null &&
		r=0 && umount "$d/m"
	rm -rf "$d"
	return $r
}

cr_config() {
	cat >"$CR/config.toml" <<EOF
version = 2
root = "$CR/root"
state = "$CR/state"
# Every plugin that would look for devices, file systems or a network outside \$CR.
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs",
  "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]

[grpc]
  address = "$CR_SOCK"
[ttrpc]
  address = "$CR_SOCK.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""

[plugins]
  [plugins."io.containerd.internal.v1.opt"]
    path = "$CR/opt"
  [plugins."io.containerd.grpc.v1.cri"]
    sandbox_image = "$CR_PAUSE"
    disable_tcp_service = true
    stream_server_address = "127.0.0.1"
    stream_server_port = "0"
    enable_selinux = false
    disable_apparmor = true
    # The sandbox's oom_score_adj is -998, and lowering one needs CAP_SYS_RESOURCE, which root
    # may not have (it has not in the sandbox these tests run in: runc's "failed to update
    # /proc/self/oom_score_adj: Permission denied"): no lower than containerd's own, then.
    restrict_oom_score_adj = true
    [plugins."io.containerd.grpc.v1.cri".cni]
      bin_dir = "$CR/cni/bin"
      conf_dir = "$CR/cni/conf"
    [plugins."io.containerd.grpc.v1.cri".containerd]
      snapshotter = "$CR_SNAP"
      default_runtime_name = "runc"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
        runtime_type = "io.containerd.runc.v2"
        [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
          BinaryName = "${CR_RUNC:-/usr/sbin/runc}"
          SystemdCgroup = false
          Root = "$CR/runc"
EOF
}

# cr_image: busybox-static as one OCI archive named both $CR_PAUSE and $CR_IMAGE, whose command
# waits for ever (what a pause container does), imported into k8s.io and unpacked for $CR_SNAP.
cr_image() {
	busybox_rootfs "$CR/rootfs" || return 1
	"$CR_PY" image-tar "$CR/rootfs" "$CR/image.tar" --ref "$CR_PAUSE" --ref "$CR_IMAGE" \
		-- /bin/sh -c 'trap "exit 0" TERM; while :; do sleep 3600 & wait; done' ||
		return 1
	crictr images import --snapshotter "$CR_SNAP" "$CR/image.tar" >"$CR/import.log" 2>&1
}

cri_up() {
	local d i
	for d in "$CR_CONTAINERD" "$CR_CTR" /usr/bin/containerd-shim-runc-v2 /usr/sbin/runc \
		/bin/busybox /usr/bin/protoc-c; do
		if [ ! -x "$d" ]; then
			CR_WHY="$d is not installed (Debian's containerd, runc, busybox-static, protobuf-c-compiler)"
			return 1
		fi
	done
	if ! /usr/bin/python3 -c 'import grpc, google.protobuf' 2>/dev/null; then
		CR_WHY="no python3-grpcio or python3-protobuf"
		return 1
	fi
	if [ -z "$(cg_root)" ]; then
		CR_WHY="no cgroup2 mount"
		return 1
	fi
	CR=$TMPDIR_T/cri
	CR_SOCK=$CR/containerd.sock
	CR_CGP=/boundary-test-cri-$$
	mkdir -p "$CR/cni/bin" "$CR/cni/conf" "$CR/logs"
	# containerd 1.6 puts its shims' sockets in /run/containerd/s whatever its state directory:
	# removed at exit if they were not there before (and are empty).
	for d in /run/containerd/s /run/containerd; do
		[ -e "$d" ] || CR_RUNDIRS="$CR_RUNDIRS $d"
	done
	CR_NETNS=$(ls /run/netns 2>/dev/null)
	at_exit cri_down
	CR_SNAP=native
	cr_overlay_ok && CR_SNAP=overlayfs
	cr_config
	"$CR_CONTAINERD" --config "$CR/config.toml" --log-level info >"$CR/containerd.log" 2>&1 </dev/null &
	CR_PID=$!
	for i in $(seq 150); do
		kill -0 "$CR_PID" 2>/dev/null || break
		cri version >/dev/null 2>&1 && break
		sleep 0.2
	done
	if ! cri version >/dev/null 2>&1; then
		CR_WHY="containerd's CRI plugin does not answer; the end of its log: $(tail -n 3 "$CR/containerd.log" | tr '\n' ' ')"
		return 1
	fi
	if ! cr_image; then
		CR_WHY="the image does not import: $(tail -n 2 "$CR/import.log" | tr '\n' ' ')"
		return 1
	fi
}

cri_up_or_skip() {
	if [ "$(id -u)" != 0 ]; then
		skip "needs root (containerd, cgroups, mounts)"
		done_testing
		exit 0
	fi
	if ! cri_up; then
		skip "no containerd CRI to test with: $CR_WHY"
		done_testing
		exit 0
	fi
	diag "containerd $("$CR_CONTAINERD" --version | awk '{ print $3 }') ($CR_SNAP), CRI $(cri version | sed -n 's/.*"runtime_api_version": "\(.*\)".*/\1/p'), cgroup parent $CR_CGP"
}

cri_pod() {
	local name=$1
	shift
	cri run-pod --name "$name" --namespace boundary-test --uid "$name-$$" \
		--cgroup-parent "$CR_CGP" --log-dir "$CR/logs/$name" --host-network "$@"
}

cri_start() {
	local pod=$1 name=$2
	shift 2
	CID=$(cri create --pod "$pod" --name "$name" --image "$CR_IMAGE" -- "$@") || return 1
	cri start "$CID"
}

cri_run() {
	CID=""
	CPID=""
	CCG=""
	cri_start "$@" || return 1
	for _ in $(seq 100); do
		CPID=$(cri container-status "$CID" --verbose |
			/usr/bin/python3 -c 'import json, sys; print(json.load(sys.stdin)["info"]["info"]["pid"])' 2>/dev/null)
		[ -n "$CPID" ] && [ "$CPID" != 0 ] && break
		sleep 0.1
	done
	[ -n "$CPID" ] && [ "$CPID" != 0 ] || return 1
	CCG=$(cg2_of "$CPID")
}

cri_wait_exit() {
	CEXIT=""
	for _ in $(seq 300); do
		CEXIT=$(cri container-status "$1" | /usr/bin/python3 -c 'import json, sys
s = json.load(sys.stdin)["status"]
if s.get("state") == "CONTAINER_EXITED":
    print(s.get("exit_code", 0))' 2>/dev/null)
		[ -n "$CEXIT" ] && return 0
		sleep 0.1
	done
	return 1
}

# cr_stop: containerd (TERM, then KILL), then whatever of its shims is left.
cr_stop() {
	local i p
	[ -n "$CR_PID" ] && kill -TERM "$CR_PID" 2>/dev/null
	for i in $(seq 100); do
		kill -0 "$CR_PID" 2>/dev/null || break
		sleep 0.1
	done
	[ -n "$CR_PID" ] && kill -KILL "$CR_PID" 2>/dev/null
	wait "$CR_PID" 2>/dev/null
	CR_PID=""
	# The shims (reparented to init) name our socket on their command lines: nothing else does.
	for i in $(seq 50); do
		[ -z "$(pgrep -f -- "$CR/")" ] && break
		for p in $(pgrep -f -- "$CR/"); do kill -TERM "$p" 2>/dev/null; done
		sleep 0.1
	done
	for p in $(pgrep -f -- "$CR/"); do kill -KILL "$p" 2>/dev/null; done
}

# cr_umount: every mount under $CR, deepest first (rootfs and shm mounts, the sandboxes' files).
cr_umount() {
	local m
	awk -v d="$CR/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r |
		while read -r m; do
			umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
		done
	for m in /run/netns/cni-*; do
		[ -e "$m" ] || continue
		grep -qxF "${m#/run/netns/}" <<<"$CR_NETNS" && continue
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
		rm -f "$m"
	done
}

# cr_cg_remove: kills what is left in the cgroup parent (cgroup.kill), then removes it in every
# hierarchy, v2 and v1, deepest first.
cr_cg_remove() {
	local mnt i
	[ -d "$(cg_root)$CR_CGP" ] && echo 1 >"$(cg_root)$CR_CGP/cgroup.kill" 2>/dev/null
	awk '$9 == "cgroup2" || $9 == "cgroup" { print $5 }' /proc/self/mountinfo | while read -r mnt; do
		[ -d "$mnt$CR_CGP" ] || continue
		for i in $(seq 50); do
			find "$mnt$CR_CGP" -depth -type d -exec rmdir {} + 2>/dev/null
			[ -d "$mnt$CR_CGP" ] || break
			sleep 0.1
		done
	done
}

cri_down() {
	local p d
	[ -n "$CR" ] || return 0
	if [ -n "$CR_PID" ] && kill -0 "$CR_PID" 2>/dev/null; then
		for p in $(cri pods 2>/dev/null | /usr/bin/python3 -c \
			'import json, sys; print(" ".join(p["id"] for p in json.load(sys.stdin)))' 2>/dev/null); do
			cri stop-pod "$p" >/dev/null 2>&1
			cri remove-pod "$p" >/dev/null 2>&1
		done
	fi
	cr_stop
	cr_cg_remove
	cr_umount
	for d in $CR_RUNDIRS; do rmdir "$d" 2>/dev/null; done
	rm -rf --one-file-system "$CR"
	CR=""
}
