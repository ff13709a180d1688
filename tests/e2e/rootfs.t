#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# rootfs.t: --rootfs, --rootfs-upper and --bind, end to end. A busybox root made here (proxy.sh's
# busybox_rootfs) is the overlay's lower layer: the command runs in it, its writes land in the
# upper layer (a tmpfs, or --rootfs-upper's directory, kept for the next run) and never in the
# root, and the network jail is the one every jail has: busybox wget inside the root is allowed
# and refused by the rules against the real servers of tests/lib/proxy.sh, and boundary's CA
# bundle is where the root's TLS libraries look. --bind brings host directories in, read-write
# or :ro, and the command starts in the DST of the one that holds boundary's working directory.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/jail.sh"
. "$(dirname "$0")/../lib/proxy.sh"

proxy_suite --no-testhost
ROOT=$TMPDIR_T/root
busybox_rootfs "$ROOT" || {
	fail "cannot make the busybox root"
	done_testing
	exit 1
}
mkdir -p "$ROOT/data"
chmod 1777 "$ROOT/data"
echo lower >"$ROOT/data/old"
chmod 666 "$ROOT/data/old"
snapshot() { (cd "$ROOT" && find . -printf '%p %m %s %T@\n' | sort && cat data/old); }
snapshot >"$TMPDIR_T/root.before"
root_unchanged() { snapshot | cmp -s - "$TMPDIR_T/root.before"; }
# What the host's mount table holds of boundary's run directory (the stage of every root).
host_mounts() { grep -c ' /run/boundary/' /proc/self/mountinfo; }
mounts_before=$(host_mounts)

# --- the command runs in the root -----------------------------------------------------------

# shellcheck disable=SC2016 # for the jailed shell
bnd --rootfs "$ROOT" -- /bin/sh -c '
	echo "passwd: $(cat /etc/passwd)"
	echo "top: $(ls / | tr "\n" " ")"
	echo "pwd: $(pwd)"
	echo "pid1: $(cat /proc/1/comm)"
	echo "sys: $(grep " /sys " /proc/mounts | cut -d" " -f4 | cut -d, -f1)"
	echo "dev: $(ls /dev | tr "\n" " ")"
	echo "null: $(echo x >/dev/null && echo ok)"
	echo "tmp: $(echo t >/tmp/t && cat /tmp/t)"
	echo new >/data/new && echo "write: ok"
	echo more >>/data/old && echo "append: ok"
	echo "old: $(cat /data/old | tr "\n" " ")"
	echo "ca: $SSL_CERT_FILE $(grep -c "BEGIN CERTIFICATE" /etc/ssl/certs/ca-certificates.crt)"
	echo "hosts: $(grep -c localhost /etc/hosts)"
	echo "resolv: $(grep nameserver /etc/resolv.conf)"
	echo "path: $PATH"'
check "the command runs in the root (exit 0)" [ "$rc" = 0 ]
[ "$rc" = 0 ] || diag "$log"
want passwd "root:x:0:0:root:/root:/bin/sh" "/etc/passwd is the root's"
want top "bin data dev etc proc root sys tmp " "/ holds the root's directories and nothing of the host's"
want pwd / "the command starts in / when no --bind holds the working directory"
want pid1 boundary-init "/proc is the jail's own (PID 1 is boundary's init)"
want sys ro "/sys is read-only"
want dev "fd full null ptmx pts random shm stderr stdin stdout tty urandom zero " "/dev is the minimal one"
want null ok "/dev/null works"
want tmp t "/tmp is writable"
want write ok "a new file can be written in the root"
want append ok "a file of the root can be changed"
want old "lower more " "the change is seen in the root"
if matches "$(result ca)" "^/etc/ssl/certs/ca-certificates\.crt [1-9][0-9]*$"; then
	ok "boundary's CA bundle is at /etc/ssl/certs/ca-certificates.crt, and SSL_CERT_FILE names it"
else
	fail "boundary's CA bundle is at /etc/ssl/certs/ca-certificates.crt, and SSL_CERT_FILE names it"
	diag "$(result ca)"
fi
want hosts 2 "/etc/hosts is the jail's"
want resolv "nameserver 127.0.0.1" "/etc/resolv.conf names a nameserver (boundary answers)"
check "PATH is inherited" [ -n "$(result path)" ]
check "the root is unchanged: the writes went to the upper layer" root_unchanged
check "nothing of the root stays mounted on the host" [ "$(host_mounts)" = "$mounts_before" ]

# --- --rootfs-upper keeps the changes --------------------------------------------------------

UPPER=$TMPDIR_T/upper
bnd --rootfs "$ROOT" --rootfs-upper "$UPPER" -- /bin/sh -c 'echo kept >/data/kept && echo "w: ok"'
want w ok "with --rootfs-upper, a file is written"
check "it is in --rootfs-upper's upper/ directory" [ "$(cat "$UPPER/upper/data/kept" 2>/dev/null)" = kept ]
bnd --rootfs "$ROOT" --rootfs-upper "$UPPER" -- /bin/sh -c 'echo "r: $(cat /data/kept)"'
want r kept "the next run with the same --rootfs-upper sees it"
bnd --rootfs "$ROOT" -- /bin/sh -c 'echo "r: $(cat /data/kept 2>&1 || echo gone)"'
matches "$(result r)" "No such file" && ok "a run without it does not" || fail "a run without it does not: $(result r)"
check "the root is still unchanged" root_unchanged

# --- the network jail is the same --------------------------------------------------------------

# shellcheck disable=SC2016 # for the jailed shell
bnd --rootfs "$ROOT" --allow "domain=up.test path=/echo/ok/*" -- /bin/sh -c '
	P=$0
	body=$(wget -q -O - "http://up.test:$P/echo/ok/root" 2>&1)
	case $body in *\"server\":\ \"A\"*) echo "allowed: yes" ;; *) echo "allowed: $body" ;; esac
	body=$(wget -O - "http://up.test:$P/echo/no" 2>&1)
	case $body in *403*) echo "refused: 403" ;; *) echo "refused: $body" ;; esac' "$P_HTTP"
want allowed yes "an allowed request from inside the root reaches the upstream (busybox wget)"
want refused 403 "a refused request from inside the root gets 403"
logged "the refusal is logged" "$log" "DENY GET http://up.test:$P_HTTP/echo/no"

# --- --bind --------------------------------------------------------------------------------------

RW=$(shared_dir rw)
RO=$(shared_dir ro)
echo host >"$RO/f"
chmod 666 "$RO/f"
# bnd_in DIR ARGS...: bnd, with DIR the working directory boundary starts in.
bnd_in() {
	local dir=$1
	shift
	bnd_argv "$@"
	# shellcheck disable=SC2034 # read by want and result
	out=$(cd "$dir" && timeout -k 5 60 "${BND_ARGV[@]}" 2>"$TMPDIR_T/bnd.log" </dev/null)
	rc=$?
	log=$(cat "$TMPDIR_T/bnd.log")
}
# shellcheck disable=SC2016 # for the jailed shell
bnd_in "$RW" --rootfs "$ROOT" --bind "$RW:/work" --bind "$RO:/opt/ro:ro" -- /bin/sh -c '
	echo "pwd: $(pwd)"
	echo inside >/work/made && echo "rw: ok"
	echo "ro-read: $(cat /opt/ro/f)"
	(echo x >>/opt/ro/f) 2>/dev/null && echo "ro: written" || echo "ro: refused"'
want pwd /work "the command starts in the --bind DST that holds boundary's working directory"
want rw ok "a --bind directory is writable"
check "what was written there is on the host" [ "$(cat "$RW/made" 2>/dev/null)" = inside ]
want ro-read host "a :ro --bind is readable"
want ro refused "a :ro --bind is read-only"
check "the :ro file is unchanged on the host" [ "$(cat "$RO/f")" = host ]
check "the --bind mounts stay off the host's mount table" \
	not grep -qE " (/work|/opt/ro) " /proc/self/mountinfo

# --- --user ----------------------------------------------------------------------------------------

# shellcheck disable=SC2016 # for the jailed shell
bnd --rootfs "$ROOT" --user 4242:4242 -- /bin/sh -c 'echo "id: $(id -u):$(id -g)"; echo "w: $(echo u >/data/u && stat -c %u /data/u)"'
want id 4242:4242 "--user: the command runs as that uid in the root (no passwd entry needed)"
want w 4242 "--user: its files are its own"

# --- refusals before anything runs ----------------------------------------------------------------

bnd --rootfs "$ROOT" -- /usr/bin/python3 -c 'print(1)'
if [ "$rc" != 0 ] && grep -q "/usr/bin/python3 is not in the root $ROOT" <<<"$log"; then
	ok "a command missing from the root is refused, named with the root"
else
	fail "a command missing from the root is refused, named with the root"
	diag "rc $rc" "$log"
fi
bnd --rootfs "$ROOT" -- nosuchcmd
if [ "$rc" != 0 ] && grep -q "nosuchcmd is not in the root" <<<"$log" && grep -q "PATH" <<<"$log"; then
	ok "a command not on the root's PATH is refused, saying so"
else
	fail "a command not on the root's PATH is refused, saying so"
	diag "rc $rc" "$log"
fi
bnd --rootfs "$TMPDIR_T/nothere" -- /bin/sh -c true
check "a --rootfs that does not exist is refused" grep -q "nothere" <<<"$log"
bnd --jail-type weak --rootfs "$ROOT" -- /bin/sh -c true
if [ "$rc" != 0 ] && grep -q "needs boundary's own jail" <<<"$log"; then
	ok "--rootfs with --jail-type weak is refused"
else
	fail "--rootfs with --jail-type weak is refused"
	diag "$log"
fi
bnd --bind "$RW:/work" -- true
check "--bind without --rootfs is refused" grep -q "add --rootfs DIR or --image DIR" <<<"$log"
bnd --rootfs "$ROOT" --bind "$RW:/a/../../etc" -- true
check "a --bind DST with .. is refused" grep -q 'without ".."' <<<"$log"
# An upper layer on an overlayfs: overlayfs cannot hold another overlay's upper layer.
OV=$TMPDIR_T/ov
mkdir -p "$OV/l" "$OV/u" "$OV/w" "$OV/m"
if mount -t overlay ovtest -o "lowerdir=$OV/l,upperdir=$OV/u,workdir=$OV/w" "$OV/m" 2>/dev/null; then
	at_exit "umount -l '$OV/m' 2>/dev/null"
	bnd --rootfs "$ROOT" --rootfs-upper "$OV/m/upper" -- /bin/sh -c 'echo ran'
	if [ "$rc" != 0 ] && [ -z "$out" ] && grep -q "is on an overlayfs" <<<"$log" &&
		grep -q "choose a directory on another file system" <<<"$log"; then
		ok "--rootfs-upper on an overlayfs is refused, saying what to do"
	else
		fail "--rootfs-upper on an overlayfs is refused, saying what to do"
		diag "rc $rc out $out" "$log"
	fi
	umount -l "$OV/m"
else
	skip "cannot mount an overlayfs here to put --rootfs-upper on"
fi

# The config file's keys, and a command with no PATH in its environment.
printf 'rootfs: "%s"\nbind:\n  - "%s:/from-yaml:ro"\n' "$ROOT" "$RO" >"$TMPDIR_T/root.yaml"
bnd --config "$TMPDIR_T/root.yaml" -- /bin/sh -c 'echo "yaml: $(cat /from-yaml/f)"'
want yaml host "rootfs: and bind: in the config file work as the flags do"
# shellcheck disable=SC2016 # for the jailed shell
bnd_argv --rootfs "$ROOT" -- /bin/sh -c 'echo "path: $PATH"'
for i in "${!BND_ARGV[@]}"; do [ "${BND_ARGV[$i]}" = env ] && break; done
BND_ARGV=("${BND_ARGV[@]:0:i+1}" -u PATH "${BND_ARGV[@]:i+1}")
out=$(timeout -k 5 60 "${BND_ARGV[@]}" 2>"$TMPDIR_T/bnd.log" </dev/null)
log=$(cat "$TMPDIR_T/bnd.log")
want path /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	"with no PATH in boundary's environment, the command gets the default one"

check "the root is still unchanged at the end" root_unchanged
check "nothing of any root stays mounted on the host" [ "$(host_mounts)" = "$mounts_before" ]

done_testing
