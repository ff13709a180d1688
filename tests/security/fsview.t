#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# fsview.t: ways around the jail's filesystem view, one a case. A scratch user (uid 4902, in a
# copy of /etc/passwd bound over the real one in this suite's own mount namespace) and root (in
# its user namespace, $HOME a scratch home) try to read a hidden key through /proc/1/root and
# /proc/self/root, a descriptor, a symbolic link, a hard link; to unmount, remount or bind around
# what hides it; and to make a mount that the host would see. What cannot be stopped (a hard link
# made before the run) is asserted as it is and written in docs/SECURITY.md.
if [ "$(id -u)" = 0 ] && [ "${FSVIEW_T_NS:-}" != 1 ]; then
	exec env FSVIEW_T_NS=1 unshare --mount --propagation private -- "$0" "$@"
fi
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/jail.sh"

need_root
clean_env
chmod 711 "$TMPDIR_T"
export XDG_CONFIG_HOME=$TMPDIR_T/xdg

U=bndfsv2
UID_U=4902
UH=$TMPDIR_T/u/home
mkdir -p "$TMPDIR_T/u" "$UH/.ssh" "$UH/elsewhere-aws"
chmod 755 "$TMPDIR_T/u"
cp /etc/passwd "$TMPDIR_T/passwd"
echo "$U:x:$UID_U:$UID_U:boundary fsview test:$UH:/bin/sh" >>"$TMPDIR_T/passwd"
mount --bind "$TMPDIR_T/passwd" /etc/passwd
at_exit "umount /etc/passwd 2>/dev/null"

# home DIR: a key in ~/.ssh, ~/.aws a link to a directory elsewhere, a link and a hard link to
# the key made before the run.
home() {
	local h=$1
	mkdir -p "$h/.ssh" "$h/elsewhere-aws"
	echo "KEY-SECRET" >"$h/.ssh/id_ed25519"
	echo "AWS-SECRET" >"$h/elsewhere-aws/credentials"
	ln -sfn "$h/elsewhere-aws" "$h/.aws"
	ln -sfn "$h/.ssh/id_ed25519" "$h/key-link"
	ln -f "$h/.ssh/id_ed25519" "$h/key-hardlink"
}
home "$UH"
chown -R "$UID_U:$UID_U" "$UH"
RH=$TMPDIR_T/roothome
home "$RH"
chmod -R a+rX "$RH"

# read_tries: each way to the key, "LABEL: read" or "LABEL: refused".
TRIES='k=$HOME/.ssh/id_ed25519
try() { if cat "$2" 2>/dev/null | grep -q SECRET; then echo "$1: read"; else echo "$1: refused"; fi; }
try direct "$k"
try proc1root "/proc/1/root$k"
try procselfroot "/proc/self/root$k"
try symlink "$HOME/key-link"
try awslink "$HOME/.aws/credentials"
try hardlink "$HOME/key-hardlink"
if cat <&3 2>/dev/null | grep -q SECRET; then echo "fd3: read"; else echo "fd3: refused"; fi
umount "$HOME/.ssh" 2>/dev/null; umount -l "$HOME/.ssh" 2>/dev/null
try umount "$k"
mount -o remount,bind,rw "$HOME/.ssh" 2>/dev/null && echo "remount: done" || echo "remount: refused"
mkdir -p /tmp/fsv.$$ && mount --bind "$HOME" /tmp/fsv.$$ 2>/dev/null && echo "bind: done" || echo "bind: refused"
try bind "/tmp/fsv.$$/.ssh/id_ed25519"
mount --rbind "$HOME" /tmp/fsv.$$ 2>/dev/null
try rbind "/tmp/fsv.$$/.ssh/id_ed25519"'

# check_tries WHO: the verdicts of $TRIES for WHO.
check_tries() {
	local who=$1
	want direct refused "$who: the hidden key cannot be read"
	want proc1root refused "$who: nor through /proc/1/root"
	want procselfroot refused "$who: nor through /proc/self/root"
	want symlink refused "$who: nor through a symbolic link in the home"
	want awslink refused "$who: ~/.aws, a link to a directory elsewhere, is hidden where it points"
	want hardlink read "$who: a hard link made before the run still reads (documented)"
	want fd3 refused "$who: a descriptor boundary was given is not passed on"
	want umount refused "$who: unmounting what hides ~/.ssh uncovers nothing"
	want remount refused "$who: the hidden ~/.ssh cannot be remounted writable"
	want bind refused "$who: the home cannot be bound elsewhere without what hides ~/.ssh"
	want rbind refused "$who: a recursive bind of the home keeps ~/.ssh hidden"
}

exec 3<"$UH/.ssh/id_ed25519"
jailed --allow domain=example.com --user "$U" -- sh -c "$TRIES"
exec 3<&-
check_tries "--user"
exec 3<"$RH/.ssh/id_ed25519"
HOME=$RH jailed --allow domain=example.com -- sh -c "$TRIES"
exec 3<&-
check_tries "root in its user namespace"

# A link in the home to a file the user cannot reach (another's, behind a 0700 directory):
# init, root, could read it; what it shows in place of ~/.npmrc or ~/.ssh/config must not be it.
mkdir -m 700 "$TMPDIR_T/rootonly"
echo "ROOTONLY-SECRET" >"$TMPDIR_T/rootonly/file"
chmod 644 "$TMPDIR_T/rootonly/file"
ln -sfn "$TMPDIR_T/rootonly/file" "$UH/.npmrc"
ln -sfn "$TMPDIR_T/rootonly/file" "$UH/.ssh/config"
chown -h "$UID_U:$UID_U" "$UH/.npmrc" "$UH/.ssh/config"
jailed --allow domain=example.com --user "$U" -- sh -c '
	grep -q ROOTONLY ~/.npmrc 2>/dev/null && echo "npmrc: read" || echo "npmrc: refused"
	grep -q ROOTONLY ~/.ssh/config 2>/dev/null && echo "sshconfig: read" || echo "sshconfig: refused"'
want npmrc refused "~/.npmrc linked to a file the user cannot reach is not copied for it"
want sshconfig refused "~/.ssh/config linked to a file the user cannot reach is not shown"
rm -f "$UH/.npmrc" "$UH/.ssh/config"

# --read-only / cannot be undone from inside.
HOME=$RH jailed --allow domain=example.com --read-only / -- sh -c '
	mount -o remount,bind,rw / 2>/dev/null && echo "remount root: done" || echo "remount root: refused"
	(echo x >/etc/fsview-escape) 2>/dev/null && echo "etc: written" || echo "etc: refused"'
want "remount root" refused "--read-only /: root in the jail cannot remount / writable"
want etc refused "--read-only /: /etc stays unwritten"
check "/etc/fsview-escape was not made on the host" [ ! -e /etc/fsview-escape ]

# A mount made in the jail never reaches the host's mount table.
SD=$(shared_dir prop)
mkdir -m 777 "$SD/mnt"
HOME=$RH timeout 60 "$BOUNDARY" --allow domain=example.com -- sh -c \
	"mount -t tmpfs jailmount $SD/mnt && touch $SD/mnt/inside && echo mounted >$SD/state && sleep 5" \
	2>"$TMPDIR_T/prop.log" &
prop=$!
for _ in $(seq 50); do
	[ -s "$SD/state" ] && break
	sleep 0.2
done
if [ -s "$SD/state" ]; then
	check "a tmpfs mounted in the jail is not in the host's mount table" \
		not grep -q " $SD/mnt " /proc/self/mountinfo
	check "a file made on it is not on the host" [ ! -e "$SD/mnt/inside" ]
else
	skip "the jail could not mount a tmpfs (root in its user namespace): nothing to propagate"
	skip "a file made on it is not on the host"
fi
wait "$prop"
check "not after the jail either" not grep -q jailmount /proc/self/mountinfo

done_testing
