#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# rootfs.t: leaving a --rootfs root, as root in the jail's user namespace (the default) and as
# --user nobody: walking up with "..", following the root's symlinks (also while boundary builds
# the root: an /etc/resolv.conf and a --bind DST that point at host paths), /proc/self/root and
# /proc/1/root, the mount, umount and pivot_root syscalls, open_by_handle_at, and mounts
# propagating either way between the root and the host. A marker file on the host, whose path
# the root's symlinks name, must never be reached, nor any host file changed.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/jail.sh"
. "$(dirname "$0")/../lib/proxy.sh"

need_root
clean_env
chmod 755 "$TMPDIR_T"
export HOME=$TMPDIR_T/home XDG_CONFIG_HOME=$TMPDIR_T/xdg
mkdir -p "$HOME"
# shellcheck disable=SC2016 # expanded at exit
at_exit '"$BOUNDARY" cleanup >/dev/null 2>&1'

ROOT=$TMPDIR_T/root
busybox_rootfs "$ROOT" || {
	fail "cannot make the busybox root"
	done_testing
	exit 1
}
HOSTDIR=$TMPDIR_T/host
mkdir -p "$HOSTDIR/target"
chmod 755 "$HOSTDIR" "$HOSTDIR/target"
echo "host secret" >"$HOSTDIR/marker"
chmod 644 "$HOSTDIR/marker"
echo "host resolv" >"$HOSTDIR/resolv"
chmod 644 "$HOSTDIR/resolv"
# The root's symlinks name host paths: inside, they resolve in the root.
ln -s "$HOSTDIR/marker" "$ROOT/abs-link"
ln -s "../../../../../../../..$HOSTDIR/marker" "$ROOT/rel-link"
ln -sf "$HOSTDIR/resolv" "$ROOT/etc/resolv.conf"
ln -s "$HOSTDIR/target" "$ROOT/mnt-link"
B=$(shared_dir bindsrc)

users() { [ "$1" = nobody ] && echo "--user nobody"; }

run() {
	out=$(timeout -k 5 60 "$BOUNDARY" --log-level info "$@" 2>"$TMPDIR_T/log" </dev/null)
	rc=$?
	log=$(cat "$TMPDIR_T/log")
}

for who in root nobody; do
	# shellcheck disable=SC2016,SC2046 # for the jailed shell; users' words
	run --rootfs "$ROOT" $(users $who) -- /bin/sh -c '
		H=$0
		cd /../../../..; echo "dotdot: $(pwd) $(ls | tr "\n" " ")"
		echo "abs: $(cat /abs-link 2>&1 | head -c 80)"
		echo "rel: $(cat /rel-link 2>&1 | head -c 80)"
		echo "direct: $(cat "$H/marker" 2>&1 | head -c 80)"
		echo "resolv: $(cat /etc/resolv.conf | grep -c "^nameserver")"
		echo "self-root: $(readlink /proc/self/root) $(ls /proc/self/root/ | tr "\n" " ")"
		echo "init-root: $(readlink /proc/1/root 2>&1) $(ls /proc/1/root/ 2>&1 | tr "\n" " ")"
		echo "init-marker: $(cat "/proc/1/root$H/marker" 2>&1 | head -c 80)"
		mount -t tmpfs none /tmp 2>/dev/null && echo "mount: done" || echo "mount: refused"
		umount /etc/hosts 2>/dev/null && echo "umount: done" || echo "umount: refused"
		umount -l /proc 2>/dev/null && echo "umount-proc: done" || echo "umount-proc: refused"
		mkdir -p /tmp/new /tmp/new/old 2>/dev/null
		pivot_root /tmp/new /tmp/new/old 2>/dev/null && echo "pivot: done" || echo "pivot: refused"
		chroot /tmp /bin/true 2>/dev/null && echo "chroot: done" || echo "chroot: refused"' "$HOSTDIR"
	check "$who: the jail ran" [ "$rc" = 0 ]
	[ "$rc" = 0 ] || diag "$log"
	want dotdot "/ abs-link bin dev etc mnt-link proc rel-link root sys tmp " "$who: .. above / stays in the root"
	lacks "$who: an absolute symlink to a host file does not reach it" "$(result abs)" "host secret"
	lacks "$who: a relative symlink climbing to a host file does not reach it" "$(result rel)" "host secret"
	lacks "$who: the host file's own path does not reach it" "$(result direct)" "host secret"
	want resolv 1 "$who: the root's /etc/resolv.conf symlink to a host file gets the jail's, in the root"
	want self-root "/ abs-link bin dev etc mnt-link proc rel-link root sys tmp " "$who: /proc/self/root is the root"
	lacks "$who: /proc/1/root (boundary's init) leads to no host file" "$(result init-marker)" "host secret"
	lacks "$who: /proc/1/root is the root or closed" "$(result init-root)" "$(basename "$TMPDIR_T")"
	if [ $who = nobody ]; then
		want mount refused "$who: mount() is refused (EPERM)"
	else
		# Root has a user and mount namespace of its own, where a new mount is its own; the
		# root's mounts stay locked under it (umount, below) and the host sees none (at the end).
		ok "$who: mount() makes a mount in the command's own namespace only ($(result mount))"
	fi
	want umount refused "$who: umount() of a root's mount is refused"
	want umount-proc refused "$who: umount() of /proc is refused"
	want pivot refused "$who: pivot_root() is refused"
	want chroot refused "$who: chroot() is refused"
	check "$who: the host file the resolv.conf link names is unchanged" \
		[ "$(cat "$HOSTDIR/resolv")" = "host resolv" ]
	# The link names a directory the root has not: the mount point cannot be made there.
	# shellcheck disable=SC2046 # users' words
	run --rootfs "$ROOT" $(users $who) --bind "$B:/mnt-link/sub" -- /bin/sh -c 'echo ran'
	if [ "$rc" != 0 ] && [ -z "$out" ] && grep -q "cannot make /mnt-link/sub in the root" <<<"$log"; then
		ok "$who: a --bind DST through the root's symlink to a host path is resolved in the root (refused)"
	else
		fail "$who: a --bind DST through the root's symlink to a host path is resolved in the root (refused)"
		diag "rc $rc" "out $out" "$log"
	fi
	check "$who: the host directory that symlink names got nothing" [ -z "$(ls -A "$HOSTDIR/target")" ]
done

# --- a --bind of a host directory keeps what the jail hides there hidden -------------------------

if [ -n "$(ls -A /run/dbus 2>/dev/null)" ]; then
	run --rootfs "$ROOT" --bind /run:/hostrun:ro -- /bin/sh -c 'echo "dbus: [$(ls -A /hostrun/dbus)]"'
	want dbus "[]" "a --bind of /run shows /run/dbus hidden, as the jail hides it"
else
	skip "no /run/dbus with anything in it on this host"
fi

# --- open_by_handle_at: python3 from the host's /usr, read-only --------------------------------

if [ -x /usr/bin/python3 ]; then
	libs=()
	for d in /lib /lib64 /usr; do [ -d "$d" ] && libs+=(--bind "$d:$d:ro"); done
	for who in root nobody; do
		# shellcheck disable=SC2046 # users' words
		run --rootfs "$ROOT" $(users $who) "${libs[@]}" -- /usr/bin/python3 -c '
import ctypes, errno, os
libc = ctypes.CDLL(None, use_errno=True)
buf = (ctypes.c_char * 136)()
ctypes.memmove(buf, (128).to_bytes(4, "little"), 4)
mid = ctypes.c_int()
r = libc.name_to_handle_at(-100, b"/etc/passwd", buf, ctypes.byref(mid), 0)
fd = libc.open_by_handle_at(os.open("/", os.O_RDONLY), buf, 0)
print("handle:", "opened" if fd >= 0 else errno.errorcode.get(ctypes.get_errno(), "?"))'
		want handle EPERM "$who: open_by_handle_at is refused (EPERM)"
	done
else
	skip "no /usr/bin/python3 for open_by_handle_at"
fi

# --- image layers that aim outside the root -----------------------------------------------------

EVT=$TMPDIR_T/evil-target
mkdir -p "$EVT"
for kind in abs dotdot symlink hardlink; do
	L=$TMPDIR_T/evil-$kind.layout
	C=$TMPDIR_T/evil-$kind.cache
	EVIL_TARGET=$EVT python3 "$STAGE/lib/oci_layout.py" "$L" "$ROOT" --evil "$kind" >/dev/null
	run --image "$L" --image-cache "$C" -- /bin/sh -c 'echo ran'
	if [ "$rc" != 0 ] && [ -z "$out" ] && grep -q "refused (the image is unsafe)" <<<"$log"; then
		ok "an image layer with $kind is refused before anything runs"
	else
		fail "an image layer with $kind is refused before anything runs"
		diag "rc $rc out $out" "$log"
	fi
	check "$kind: nothing was written outside the root" \
		[ -z "$(find "$EVT" "$TMPDIR_T" "$C" -maxdepth 2 -name 'evil-*' ! -name 'evil-*.layout' ! -name 'evil-*.cache' ! -name evil-target)" ]
	check "$kind: nothing of it is left in the cache" [ -z "$(ls -A "$C" 2>/dev/null)" ]
done
check "no layer wrote the host's /evil-abs" [ ! -e /evil-abs ]

# --- propagation, both ways -------------------------------------------------------------------

P=$(shared_dir prop)
before=$(awk '{ print $5 }' /proc/self/mountinfo | sort)
# shellcheck disable=SC2016 # for the jailed shell
timeout -k 5 60 "$BOUNDARY" --rootfs "$ROOT" --bind "$P:/p" -- /bin/sh -c '
	mount -t tmpfs jailmnt /tmp 2>/dev/null
	touch /p/started; i=0
	while [ ! -e /p/go ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
	ls /p/sub >/p/seen 2>&1' >/dev/null 2>"$TMPDIR_T/prop.log" &
PJ=$!
at_exit "kill $PJ 2>/dev/null"
for _ in $(seq 200); do [ -e "$P/started" ] && break; sleep 0.05; done
during=$(awk '{ print $5 }' /proc/self/mountinfo | sort)
check "while a root is up (and its command has mounted a tmpfs), the host's mount table has nothing new" \
	[ "$before" = "$during" ]
mkdir -p "$P/sub"
mount -t tmpfs -o size=1m proptest "$P/sub" && touch "$P/sub/from-host"
touch "$P/go"
wait $PJ
umount "$P/sub" 2>/dev/null
check "a mount made on the host under a --bind SRC does not reach the root" \
	not grep -q from-host "$P/seen"

done_testing
