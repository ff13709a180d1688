#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# escape.t: attacks the jail itself rather than its redirect, as root in the jail's user
# namespace (the default) and as --user nobody: leave the cgroup; use bpf(); make a new network
# namespace; enter the host's or another network namespace; signal or trace boundary; read the
# CA key; rewrite the policy for the next run; reach the host's D-Bus; write host root's files.
# Every escape that would carry traffic aims at the test host, which must see nothing.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/jail.sh"

need_root
clean_env
chmod 755 "$TMPDIR_T"
H=$TMPDIR_T/home
mkdir -p "$H"
export HOME=$H XDG_CONFIG_HOME=$TMPDIR_T/xdg
CG=$(cg_root)

testhost_up_or_bail
testhost_listen 8443
testhost_sniff
testhost_selftest 8443

users() { [ "$1" = nobody ] && echo "--user nobody"; }

# --- the cgroup -------------------------------------------------------------------------------------

mnt=$TMPDIR_T/cgmnt
mkdir -p "$mnt"
chmod 777 "$mnt"
script='p=$1 cg=$2 mnt=$3 th4=$4
n=0
for f in "$cg/cgroup.procs" "$cg/boundary/cgroup.procs" /sys/fs/cgroup/unified/cgroup.procs \
	/sys/fs/cgroup/cgroup.procs /sys/fs/cgroup/systemd/cgroup.procs; do
	(echo $$ >"$f") 2>/dev/null && { echo "wrote: $f"; n=$((n + 1)); }
done
echo "written: $n"
echo "visible: $(ls -A /sys/fs/cgroup | wc -l)"
mount -n -t cgroup2 none "$mnt" 2>/dev/null && echo "mount: ok" || echo "mount: refused"
unshare -C sh -c "mount -n -t cgroup2 none \"$mnt\" 2>/dev/null || exit 0
	echo \"nsmount-procs: \$(wc -l <\"$mnt/cgroup.procs\")\"
	(echo \$\$ >\"$mnt/cgroup.procs\") 2>/dev/null
	echo \"nsmount-self: \$(grep ^0:: /proc/self/cgroup)\"
	umount -n \"$mnt\""
echo "after: $($p tcp "$th4" 8443)"'
logged_redirect_8443() { redir_ports "$TMPDIR_T/log" "$TH4" | grep -qx 8443; }
for who in root nobody; do
	jailed --log-level debug $(users $who) -- sh -c "$script" _ "$PROBE" "$CG" "$mnt" "$TH4"
	want written 0 "$who: no cgroup.procs outside the jail can be written"
	want visible 0 "$who: /sys/fs/cgroup is empty in the jail"
	want mount refused "$who: cgroup2 cannot be mounted in the jail's own cgroup namespace"
	self=$(result nsmount-self)
	if [ -n "$self" ]; then
		check "$who: a cgroup2 mount in a nested cgroup namespace shows only the jail ($self)" \
			[ "$self" = "0::/" ]
	else
		ok "$who: a cgroup2 mount in a nested cgroup namespace is refused"
	fi
	want after "ok peer=$TH4:8443" "$who: after all that, a connection is still redirected"
	check "$who: ... and boundary logs it" logged_redirect_8443
done

# --- bpf() -----------------------------------------------------------------------------------------

out=$("$PROBE" bpf)
check "control: bpf() works outside the jail ($out)" [ "${out%% *}" = ok ]
for who in root nobody; do
	jailed $(users $who) -- sh -c 'echo "bpf: $($1 bpf)"
echo "nested: $(unshare -r "$1" bpf)"
echo "bpftool: $(bpftool prog list >/dev/null 2>&1 && echo listed || echo refused)"' _ "$PROBE"
	want bpf "err EPERM" "$who: bpf(BPF_PROG_GET_NEXT_ID) is refused"
	want nested "err EPERM" "$who: bpf() from a nested user namespace is refused"
	want bpftool refused "$who: bpftool prog list fails"
done

# --- a network namespace of its own ---------------------------------------------------------------

for who in root nobody; do
	jailed $(users $who) -- sh -c 'p=$1 th4=$2 th6=$3
echo "down4: $(unshare -rn "$p" tcp "$th4" 8443)"
echo "up4: $(unshare -rn sh -c "ip link set lo up; $p tcp $th4 8443")"
echo "up6: $(unshare -rn sh -c "ip link set lo up; $p tcp $th6 8443")"
echo "udp: $(unshare -rn sh -c "ip link set lo up; $p udp $th4 8443")"' _ "$PROBE" "$TH4" "$TH6"
	want down4 "err ENETUNREACH" "$who: unshare -rn, lo down: connect is unreachable"
	# ECONNREFUSED, not ENETUNREACH: the connection went to 127.0.0.1, so it was redirected.
	want up4 "err ECONNREFUSED" "$who: unshare -rn, lo up: connect is still redirected (to nothing)"
	want up6 "err ECONNREFUSED" "$who: unshare -rn, lo up: v6 connect is still redirected"
	want udp "err EPERM" "$who: unshare -rn: UDP is still refused"
done

# --- other network namespaces, boundary's process -----------------------------------------------

# nsenter_failed: nsenter said something, and not that the probe connected.
nsenter_failed() { case $(result nsenter) in ok* | "") false ;; *) true ;; esac; }
for who in root nobody; do
	rm -f "$TMPDIR_T/bpid"
	jail_bg esc $(users $who) -- sh -c 'p=$1 th4=$2 ns=$3 f=$4
while [ ! -s "$f" ]; do sleep 0.05; done
b=$(cat "$f")
echo "self: $($p setns /proc/self/ns/net "$th4" 8443)"
echo "boundary-ns: $($p setns /proc/$b/ns/net "$th4" 8443)"
echo "nsenter: $(nsenter --net=/proc/$b/ns/net "$p" tcp "$th4" 8443 2>&1 | tail -1)"
echo "testhost-ns: $($p setns "/run/netns/$ns" "$th4" 8443)"
echo "nested-testhost-ns: $(unshare -r "$p" setns "/run/netns/$ns" "$th4" 8443)"
w=0
for n in /proc/[0-9]*/ns/net; do
	r=$($p setns "$n" "$th4" 8443)
	case $r in ok*) w=$((w + 1)); echo "walk-entered: $n" ;; esac
done
echo "walk: $w entered"
jd=$(mountpoint -d /proc)
echo "procmounts: $(awk -v d="$jd" "\$9 == \"proc\" && \$5 != \"/proc\" && \$3 != d" /proc/self/mountinfo | wc -l)"
echo "procsys: $(awk -v d="$jd" "\$5 == \"/proc/sys\" && \$3 == d { split(\$6, o, \",\"); print o[1] }" /proc/self/mountinfo | tail -1)"
echo "kill0: $(kill -0 "$b" 2>/dev/null && echo delivered || echo failed)"
kill -KILL "$b" 2>/dev/null
kill -TERM "$b" 2>/dev/null
echo "trace-init: $(timeout 3 strace -p 1 -e trace=none 2>&1 | grep -c "Operation not permitted")"
echo "init-fd: $(readlink /proc/1/fd/0 >/dev/null 2>&1 && echo read || echo denied)"
echo "init-environ: $(cat /proc/1/environ >/dev/null 2>&1 && echo read || echo denied)"
exit 3' _ "$PROBE" "$TH4" "$TH_NS" "$TMPDIR_T/bpid"
	echo "$BG_PID" >"$TMPDIR_T/bpid"
	chmod 644 "$TMPDIR_T/bpid"
	wait "$BG_WAIT"
	rc=$?
	out=$(cat "$TMPDIR_T/esc.out")
	log=$(cat "$TMPDIR_T/esc.log")
	want self "err EPERM" "$who: setns() even into its own network namespace is refused"
	want boundary-ns "err ENOENT" "$who: boundary's /proc/PID/ns/net does not exist in the jail"
	check "$who: nsenter --net=/proc/<boundary>/ns/net fails ($(result nsenter))" nsenter_failed
	want testhost-ns "err EPERM" "$who: setns() into a namespace bind-mounted under /run/netns is refused"
	want nested-testhost-ns "err EPERM" "$who: ... and from a nested user namespace too"
	want walk "0 entered" "$who: no /proc/*/ns/net in the jail can be entered"
	# The jail's own procfs is at /proc, and its /sys again at /proc/sys (read-only): any other
	# procfs would be the host's.
	want procmounts 0 "$who: no other procfs (the host's) is mounted anywhere in the jail"
	want procsys ro "$who: /proc/sys is the jail's own procfs, mounted read-only"
	want kill0 failed "$who: kill -0 <boundary's host pid> reaches nothing"
	want trace-init 1 "$who: ptrace of the jail's init (boundary's child) is refused"
	want init-fd denied "$who: the jail's init's descriptors (boundary's) cannot be read"
	want init-environ denied "$who: the jail's init's environment cannot be read"
	expect_rc "$who: boundary survived kill -KILL/-TERM of its host pid from the jail (exit 3)" 3
done

# --- the CA key and the policy --------------------------------------------------------------------

# boundary's real CA (root's runs keep it in $XDG_CONFIG_HOME/coder_boundary): the key is hidden.
# The test opens the directory and the key to everyone (a test CA), so that only the hiding keeps
# the jail's root, the host's nobody, from reading it.
ca=$XDG_CONFIG_HOME/coder_boundary
[ -s "$ca/ca-key.pem" ] || jailed -- true
chmod 755 "$XDG_CONFIG_HOME" "$ca"
chmod 644 "$ca/ca-key.pem"
jailed -- sh -c 'k=$1/ca-key.pem
echo "real-key: $(wc -c <"$k")"
umount -n "$k" 2>/dev/null; umount -n -l "$k" 2>/dev/null
echo "after-umount: $(wc -c <"$k")"
echo "cert: $(grep -c "BEGIN CERTIFICATE" "$1/ca-cert.pem")"' _ "$ca"
check "root: boundary made its CA key on the host ($ca/ca-key.pem)" [ -s "$ca/ca-key.pem" ]
want real-key 0 "root: boundary's CA key reads as empty in the jail"
want after-umount 0 "root: ... and cannot be uncovered by unmounting what hides it"
want cert 1 "root: boundary's CA certificate is visible (the jail must trust it)"

# A file standing for a CA key in ~/.config/coder_boundary (HOME=$H): 0600, owned by host root.

cfg=$H/.config/coder_boundary
mkdir -p "$cfg"
chmod 755 "$H" "$H/.config" "$cfg"
secret="ca-key-secret-$RANDOM$RANDOM"
echo "$secret" >"$cfg/ca-key.pem"
chmod 600 "$cfg/ca-key.pem"
printf 'allowlist:\n  - "domain=example.com"\n' >"$cfg/config.yaml"
# Mode 666: only the read-only mount can refuse an edit, to root in the jail and to nobody alike.
chmod 666 "$cfg/config.yaml"
cp "$cfg/config.yaml" "$TMPDIR_T/config.orig"
# key_unread: the host's key is there, and what the jail read ($got) is not it.
key_unread() { [ -n "$(cat "$cfg/ca-key.pem")" ] && [ "$got" != "$secret" ]; }
for who in root nobody; do
	jailed $(users $who) -- sh -c 'c=$1
echo "key: $(cat "$c/ca-key.pem" 2>/dev/null | head -1)"
echo "keyname: $(ls "$c" 2>/dev/null | grep -c ca-key)"
echo "edit: $( (echo "  - \"domain=*\"" >>"$c/config.yaml") 2>&1 | sed "s/.*: //")"' _ "$cfg"
	got=$(result key)
	# Root in the jail is the host's nobody: a 0600 file of host root's is closed to it.
	check "$who: the CA key (0600 root, in ~/.config/coder_boundary) cannot be read" key_unread
	diag "$who: the key's name is $([ "$(result keyname)" = 1 ] && echo visible || echo hidden) in the jail"
	want edit "Read-only file system" "$who: ~/.config/coder_boundary/config.yaml (0666) cannot be edited (read-only)"
done
check "config.yaml is unchanged on the host" cmp -s "$cfg/config.yaml" "$TMPDIR_T/config.orig"

# The read-only bind covers the file (or directory) only: whoever can write its parent swaps the
# whole directory. A user's own home is theirs to write: play that with nobody and a home of its own.
nh=$TMPDIR_T/nobody-home
mkdir -p "$nh/.config/coder_boundary"
printf 'allowlist:\n  - "domain=example.com"\n' >"$nh/.config/coder_boundary/config.yaml"
chown -R 65534:65534 "$nh"
cp "$nh/.config/coder_boundary/config.yaml" "$TMPDIR_T/nobody-config.orig"
jailed --user nobody --config "$nh/.config/coder_boundary/config.yaml" -- sh -c 'h=$1
(echo "# x" >>"$h/.config/coder_boundary/config.yaml") 2>/dev/null && echo "edit: written" || echo "edit: refused"
mv "$h/.config" "$h/.config.old" 2>/dev/null && mkdir -p "$h/.config/coder_boundary" &&
	printf "allowlist:\n  - \"domain=*\"\n" >"$h/.config/coder_boundary/config.yaml" &&
	echo "swap: done" || echo "swap: refused"' _ "$nh"
want edit refused "nobody: its config.yaml (read-only bind) cannot be edited in place"
want swap refused "nobody: ~/.config (its own, writable) cannot be renamed away (a mount point)"
check "nobody: the policy for the next run is unchanged on the host" \
	cmp -s "$nh/.config/coder_boundary/config.yaml" "$TMPDIR_T/nobody-config.orig"

# --- the host's D-Bus ---------------------------------------------------------------------------

bus=/run/dbus/system_bus_socket
if [ ! -e "$bus" ]; then
	# No bus here: stand one in at the real path for the length of the test.
	if [ ! -d /run/dbus ]; then
		mkdir -m 755 /run/dbus
		at_exit "rmdir /run/dbus"
	fi
	python3 "$STAGE/lib/hit_listener.py" unix "$bus" "$TMPDIR_T/bus.ready" /dev/null &
	bus_pid=$!
	at_exit "kill $bus_pid 2>/dev/null; rm -f $bus"
	for i in $(seq 100); do
		[ -e "$TMPDIR_T/bus.ready" ] && break
		sleep 0.05
	done
fi
if [ -S "$bus" ]; then
	out=$("$PROBE" unix "$bus")
	check "control: $bus answers outside the jail ($out)" [ "$out" = "ok connected" ]
	for who in root nobody; do
		jailed $(users $who) -- "$PROBE" unix "$bus"
		check "$who: $bus is hidden in the jail ($out)" [ "$out" = "err ENOENT" ]
	done
else
	skip "no /run/dbus on this host"
fi

# --- host root's files ---------------------------------------------------------------------------

# Root in the jail is the host's nobody (uid_map "0 65534 1"): it must not write what host root
# owns, such as core_pattern (a program run as real root on the next crash).
# /etc/passwd and core_pattern are only opened for writing, never written.
hostfile=$TMPDIR_T/host-root-file
echo original >"$hostfile"
chmod 644 "$hostfile"
wscript='for f in "$@"; do
	python3 -c "import os, sys; os.close(os.open(sys.argv[1], os.O_WRONLY))" "$f" 2>/dev/null &&
		echo "open $f: writable" || echo "open $f: refused"
done
(echo planted >>"$1") 2>/dev/null'
for who in root nobody; do
	echo original >"$hostfile"
	jailed $(users $who) -- sh -c "$wscript" _ "$hostfile" /etc/passwd /proc/sys/kernel/core_pattern
	for f in "$hostfile" /etc/passwd /proc/sys/kernel/core_pattern; do
		want "open $f" refused "$who: a file host root owns cannot be opened for writing ($f)"
	done
	check "$who: host root's file is unchanged" [ "$(cat "$hostfile")" = original ]
done
# A directory host root owns (0755, like /etc/cron.d): nothing can be created in it.
hostdir=$TMPDIR_T/host-root-dir
mkdir -p "$hostdir"
chmod 755 "$hostdir"
for who in root nobody; do
	jailed $(users $who) -- sh -c '(echo planted >"$1/planted") 2>/dev/null && echo "plant: written" || echo "plant: refused"' _ "$hostdir"
	want plant refused "$who: nothing can be created in a directory host root owns (0755)"
	check "$who: ... and nothing was" [ ! -e "$hostdir/planted" ]
	rm -f "$hostdir/planted"
done

testhost_quiet "the test host saw nothing of any escape attempt"

done_testing
