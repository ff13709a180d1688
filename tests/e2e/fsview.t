#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# fsview.t: the jail's filesystem view end to end, as root. A scratch user (uid 4901, added to a
# copy of /etc/passwd bound over the real one in this suite's own mount namespace, so the host
# never sees it) has a scratch home full of fake credentials. Jailed cat, ls, find and Python's
# os.walk must see the hidden ones empty and be refused (EROFS) where the view is read-only, run
# with --user, as sudo's caller (SUDO_USER) and as root; the files on the host must be the same
# afterwards, and no mount of the jail's may reach the host's mount table. Also --unhide,
# --show-hidden, --read-only / with --writable, --protect-startup-files, and .npmrc and .pypirc
# shown without their credential lines.
if [ "$(id -u)" = 0 ] && [ "${FSVIEW_T_NS:-}" != 1 ]; then
	exec env FSVIEW_T_NS=1 unshare --mount --propagation private -- "$0" "$@"
fi
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/jail.sh"

need_root
clean_env
PY=/usr/bin/python3
chmod 711 "$TMPDIR_T"
export XDG_CONFIG_HOME=$TMPDIR_T/xdg

# --- the scratch user and its home --------------------------------------------------------------

U=bndfsv
UID_U=4901
UH=$TMPDIR_T/u/home
mkdir -p "$TMPDIR_T/u" "$UH"
chmod 755 "$TMPDIR_T/u"
cp /etc/passwd "$TMPDIR_T/passwd"
cp /etc/group "$TMPDIR_T/group"
echo "$U:x:$UID_U:$UID_U:boundary fsview test:$UH:/bin/sh" >>"$TMPDIR_T/passwd"
echo "$U:x:$UID_U:" >>"$TMPDIR_T/group"
mount --bind "$TMPDIR_T/passwd" /etc/passwd
mount --bind "$TMPDIR_T/group" /etc/group
at_exit "umount /etc/passwd /etc/group 2>/dev/null"

# fill_home DIR: fake credentials, each holding the word SECRET, and files that are not secrets.
fill_home() {
	local h=$1
	mkdir -p "$h/.ssh" "$h/.aws" "$h/.config/gh" "$h/.config/gcloud" "$h/.docker" "$h/.gnupg" \
		"$h/.kube" "$h/.local/share/fish" "$h/.mozilla/firefox" "$h/proj"
	echo "-----BEGIN OPENSSH PRIVATE KEY----- SECRET" >"$h/.ssh/id_ed25519"
	echo "ssh-ed25519 AAAA public" >"$h/.ssh/id_ed25519.pub"
	echo "example.com ssh-ed25519 AAAAknownhost" >"$h/.ssh/known_hosts"
	echo "Host example.com" >"$h/.ssh/config"
	printf '[default]\naws_secret_access_key = SECRET\n' >"$h/.aws/credentials"
	echo "github.com: {oauth_token: SECRET}" >"$h/.config/gh/hosts.yml"
	echo "not a secret" >"$h/.config/gh/config.yml"
	echo '{"refresh_token": "SECRET"}' >"$h/.config/gcloud/credentials.db"
	echo '{"auths": {"r": {"auth": "SECRET"}}}' >"$h/.docker/config.json"
	echo "token: SECRET" >"$h/.kube/config"
	echo "SECRET" >"$h/.gnupg/private-keys"
	echo "machine example.com password SECRET" >"$h/.netrc"
	echo "https://u:SECRET@example.com" >"$h/.git-credentials"
	echo "export TOKEN=SECRET" >"$h/.bash_history"
	echo "- cmd: SECRET" >"$h/.local/share/fish/fish_history"
	echo "cookie SECRET" >"$h/.mozilla/firefox/cookies.sqlite"
	printf '%s\n' 'registry=https://registry.example/' '//registry.example/:_authToken=npm_SECRET' \
		'_auth = SECRET' 'always-auth=true' 'email=someone@example.com' \
		'//other.example/:_password=SECRET' 'username=SECRET' >"$h/.npmrc"
	printf '%s\n' '[distutils]' 'index-servers = pypi' '[pypi]' \
		'repository = https://upload.pypi.org/legacy/' 'username = __token__' \
		'password = pypi-SECRET' '    SECRET-continued' 'Password: SECRET' >"$h/.pypirc"
	echo "echo bashrc" >"$h/.bashrc"
	echo "plain" >"$h/notes.txt"
}
fill_home "$UH"
git -C "$UH/proj" init -q 2>/dev/null
echo "echo envrc" >"$UH/proj/.envrc"
chown -R "$UID_U:$UID_U" "$UH"
chmod 700 "$UH" "$UH/.ssh"
# What the home holds, less boundary's own CA (made by the first run, as the user's).
home_state() {
	(cd "$UH" && find . -path ./.config/coder_boundary -prune -o -printf '%p %m %u %y\n' | sort &&
		find . -path ./.config/coder_boundary -prune -o -type f -exec sha256sum {} + | sort)
}
before=$(home_state)
mounts_before=$(wc -l </proc/self/mountinfo)

# The view's checks for the user in $1 ("--user bndfsv", or SUDO_USER's environment).
SCAN='import os, sys
leaks = []
for root, dirs, files in os.walk(os.path.expanduser("~")):
    for f in files:
        p = os.path.join(root, f)
        try:
            if b"SECRET" in open(p, "rb").read():
                leaks.append(p)
        except OSError:
            pass
print("leaks:", " ".join(sorted(leaks)) or "none")'

hidden_checks() {
	local who=$1
	shift
	jailed --allow domain=example.com "$@" -- sh -c '
		echo "id: $(id -u)"
		echo "home: $HOME"
		cat ~/.ssh/id_ed25519 2>/dev/null && echo "key: read" || echo "key: absent"
		echo "ssh: $(ls -A ~/.ssh | tr "\n" " ")"
		echo "known_hosts: $(cat ~/.ssh/known_hosts)"
		echo "aws: $(ls -A ~/.aws | wc -l)"
		echo "netrc: $(wc -c <~/.netrc)"
		echo "history: $(wc -c <~/.bash_history)"
		echo "find: $(find ~ -type f -size +0 2>/dev/null | xargs grep -l SECRET 2>/dev/null | wc -l)"
		echo "notes: $(cat ~/notes.txt)"
		erofs() { (echo x >>"$1") 2>&1 | grep -q "Read-only file system" && echo "$2: EROFS"; }
		erofs ~/.ssh/new "ssh write"
		erofs ~/.ssh/known_hosts "known_hosts write"
		mkdir ~/.aws/x 2>&1 | grep -q "Read-only file system" && echo "aws mkdir: EROFS"
		'"$PY"' -c "$0"' "$SCAN"
	want id "$UID_U" "$who: the command runs as uid $UID_U"
	want home "$UH" "$who: HOME is the user's"
	want key absent "$who: ~/.ssh/id_ed25519 is hidden (cat finds nothing)"
	want ssh "config known_hosts " "$who: ls ~/.ssh shows only config and known_hosts"
	want known_hosts "example.com ssh-ed25519 AAAAknownhost" "$who: ~/.ssh/known_hosts is shown"
	want aws 0 "$who: ~/.aws is an empty directory"
	want netrc 0 "$who: ~/.netrc reads as empty"
	want history 0 "$who: ~/.bash_history reads as empty"
	want find 0 "$who: find ~ finds no file holding a secret"
	want notes plain "$who: the rest of the home is there"
	want "ssh write" EROFS "$who: nothing can be created in the hidden ~/.ssh (EROFS)"
	want "known_hosts write" EROFS "$who: ~/.ssh/known_hosts is read-only (EROFS)"
	want "aws mkdir" EROFS "$who: nothing can be made in the hidden ~/.aws (EROFS)"
	want leaks none "$who: Python's os.walk reads no secret anywhere under ~"
}

hidden_checks "--user $U" --user "$U"
export SUDO_USER=$U SUDO_UID=$UID_U SUDO_GID=$UID_U
hidden_checks "sudo's caller (SUDO_USER)"
unset SUDO_USER SUDO_UID SUDO_GID

# --- the user itself, running boundary on file capabilities (no sudo) -------------------------------

if command -v setcap >/dev/null && command -v setpriv >/dev/null; then
	mkdir -p "$TMPDIR_T/nb"
	cp "$BOUNDARY" "$TMPDIR_T/nb/boundary"
	chmod 755 "$TMPDIR_T/nb" "$TMPDIR_T/nb/boundary"
	setcap cap_net_admin,cap_sys_admin,cap_setuid,cap_setgid,cap_setpcap+ep "$TMPDIR_T/nb/boundary"
	out=$(cd / && timeout 60 setpriv --reuid "$UID_U" --regid "$UID_U" --clear-groups \
		env HOME="$UH" XDG_CONFIG_HOME="$UH/.config" "$TMPDIR_T/nb/boundary" \
		--allow domain=example.com -- sh -c '
		echo "id: $(id -u)"
		cat ~/.ssh/id_ed25519 2>/dev/null && echo "key: read" || echo "key: absent"
		echo "ssh: $(ls -A ~/.ssh | tr "\n" " ")"
		echo "netrc: $(wc -c <~/.netrc)"
		grep -q SECRET ~/.npmrc && echo "npmrc: secret" || echo "npmrc: clean"' 2>"$TMPDIR_T/log")
	log=$(cat "$TMPDIR_T/log")
	want id "$UID_U" "file capabilities: the command runs as the user"
	want key absent "file capabilities: ~/.ssh/id_ed25519 is hidden"
	want ssh "config known_hosts " "file capabilities: ~/.ssh shows only config and known_hosts"
	want netrc 0 "file capabilities: ~/.netrc reads as empty"
	want npmrc clean "file capabilities: ~/.npmrc is shown without its credential lines"
else
	skip "file capabilities: needs setcap and setpriv"
fi

# --- root, in its user namespace: its $HOME's credentials are hidden too --------------------------

RH=$TMPDIR_T/roothome
mkdir -p "$RH"
fill_home "$RH"
chmod -R a+rX "$RH"
HOME=$RH jailed --allow domain=example.com -- sh -c '
	echo "id: $(id -u)"
	cat ~/.ssh/id_ed25519 2>/dev/null && echo "key: read" || echo "key: absent"
	echo "aws: $(ls -A ~/.aws | wc -l)"
	echo "netrc: $(wc -c <~/.netrc)"'
want id 0 "root: the command is root in its namespace"
want key absent "root: \$HOME/.ssh/id_ed25519 is hidden"
want aws 0 "root: \$HOME/.aws is empty"
want netrc 0 "root: \$HOME/.netrc reads as empty"

# --- .npmrc and .pypirc: a read-only copy without the credential lines ---------------------------

jailed --allow domain=example.com --user "$U" -- sh -c 'cat ~/.npmrc; echo ===; cat ~/.pypirc
	(echo x >>~/.npmrc) 2>&1 | grep -q "Read-only file system" && echo "npmrc write: EROFS"'
npmrc=${out%%===*}
pypirc=${out#*===}
contains ".npmrc keeps its registry line" "$npmrc" "registry=https://registry.example/"
contains ".npmrc keeps always-auth and email" "$npmrc" "always-auth=true"
lacks ".npmrc has no _authToken line" "$npmrc" "_authToken"
lacks ".npmrc has no secret at all (_auth, _password, username)" "$npmrc" "SECRET"
contains ".pypirc keeps its repository line" "$pypirc" "repository = https://upload.pypi.org/legacy/"
lacks ".pypirc has no password, username or continuation line" "$pypirc" "SECRET"
lacks ".pypirc has no username line" "$pypirc" "__token__"
contains "the .npmrc copy is read-only (EROFS)" "$out" "npmrc write: EROFS"

# --- --unhide, --hide, --show-hidden ---------------------------------------------------------------

jailed --allow domain=example.com --user "$U" --unhide '~/.ssh' -- cat "$UH/.ssh/id_ed25519"
contains "--unhide ~/.ssh shows the key again" "$out" "PRIVATE KEY"
jailed --allow domain=example.com --user "$U" --unhide '~/.ssh/id_ed25519.pub' -- \
	sh -c 'cat ~/.ssh/id_ed25519.pub; cat ~/.ssh/id_ed25519 2>/dev/null || echo "key: absent"'
contains "--unhide of a file in ~/.ssh shows that file" "$out" "ssh-ed25519 AAAA public"
contains "... and only that file" "$out" "key: absent"
jailed --allow domain=example.com --user "$U" --hide '~/notes.txt' --hide /nonexistent/fsview \
	-- sh -c 'echo "notes: $(wc -c <~/notes.txt)"'
want notes 0 "--hide ~/notes.txt: the file reads as empty (a path not there is fine)"
BOUNDARY_HIDE="$UH/notes.txt:$UH/proj" jailed --allow domain=example.com --user "$U" -- \
	sh -c 'echo "notes: $(wc -c <~/notes.txt)"; echo "proj: $(ls -A ~/proj | wc -l)"'
want notes 0 "BOUNDARY_HIDE=A:B hides A"
cfg=$TMPDIR_T/fsview.yaml
printf 'hide:\n  - "~/notes.txt"\nunhide:\n  - "~/.netrc"\n' >"$cfg"
jailed --allow domain=example.com --user "$U" --config "$cfg" -- \
	sh -c 'echo "notes: $(wc -c <~/notes.txt)"; cat ~/.netrc'
want notes 0 "YAML hide: hides a path"
contains "YAML unhide: shows ~/.netrc" "$out" "machine example.com"

jailed --allow domain=example.com --user "$U" --read-only '~/.ssh' --writable '~/.aws' -- \
	sh -c 'cat ~/.ssh/id_ed25519 2>/dev/null && echo "key: read" || echo "key: absent"
	echo "aws: $(ls -A ~/.aws | wc -l)"'
want key absent "--read-only ~/.ssh does not show the hidden ~/.ssh (only --unhide does)"
want aws 0 "--writable ~/.aws does not show the hidden ~/.aws"
jailed --user "$U" --unhide /sys/fs/bpf -- true
if [ "$rc" = 125 ] && grep -q "for its own safety" <<<"$log"; then
	ok "--unhide /sys/fs/bpf is refused: boundary hides it for its own safety"
else
	fail "--unhide /sys/fs/bpf is refused: boundary hides it for its own safety"
	diag "exit $rc" "$log"
fi
jailed --user "$U" --unhide '~/.config/coder_boundary' -- true
check "--unhide of boundary's config directory is refused" [ "$rc" = 125 ]

run_b --user "$U" --show-hidden
expect_rc "--show-hidden exits 0" 0
contains "--show-hidden marks the user's ~/.ssh as hidden and there" "$out" "hidden    exists $UH/.ssh"
contains "--show-hidden marks ~/.ssh/known_hosts as shown" "$out" "shown     exists $UH/.ssh/known_hosts"
contains "--show-hidden marks ~/.npmrc as stripped" "$out" "stripped  exists $UH/.npmrc"
contains "--show-hidden marks an absent entry" "$out" "hidden    absent $UH/.azure"
run_b --user "$U" --unhide '~/.aws' --hide /opt/fsview-x --show-hidden
lacks "--show-hidden with --unhide ~/.aws leaves it out" "$out" "$UH/.aws"
contains "--show-hidden lists a --hide path" "$out" "hidden    absent /opt/fsview-x"

run_b --jail-type weak --hide /etc -- true
if [ "$rc" = 125 ] && grep -q "default jail type" <<<"$err"; then
	ok "--hide with --jail-type weak is refused (no mount namespace there)"
else
	fail "--hide with --jail-type weak is refused (no mount namespace there)"
	diag "exit $rc" "$err"
fi

# --- --read-only, --writable, --protect-startup-files ------------------------------------------

P=$UH/proj
jailed --allow domain=example.com --user "$U" --read-only / --read-only /tmp --writable "$P" -- \
	sh -c 'cd ~/proj && echo x >built && echo "proj: writable"
	(echo x >~/new) 2>&1 | grep -q "Read-only file system" && echo "home: EROFS"
	echo x >/dev/null && echo "dev null: writable"
	echo x >/dev/shm/fsview.$$ && rm /dev/shm/fsview.$$ && echo "dev shm: writable"
	(echo x >/tmp/fsview.$$) 2>&1 | grep -q "Read-only file system" && echo "tmp: EROFS"
	'"$PY"' -c "
import errno
try:
    open(\"$HOME/notes.txt\", \"a\")
except OSError as e:
    print(\"python:\", errno.errorcode[e.errno])"'
want proj writable "--read-only / --writable DIR: DIR is writable"
want home EROFS "--read-only /: the home is read-only (EROFS)"
want "dev null" writable "--read-only /: /dev/null stays writable"
want "dev shm" writable "--read-only /: /dev/shm stays writable"
want tmp EROFS "--read-only /tmp: /tmp is read-only when named"
want python EROFS "--read-only /: Python's open(..., 'a') fails with EROFS"
check "the file made in the writable directory is on the host" [ -f "$P/built" ]
rm -f "$P/built"

ST=$(shared_dir st)
jailed --allow domain=example.com --read-only / -- sh -c \
	"echo x >$ST/f && echo 'tmp: writable'; (echo x >/etc/fsview) 2>&1 | grep -q 'Read-only' && echo 'etc: EROFS'"
want tmp writable "--read-only / alone: /tmp stays writable"
want etc EROFS "--read-only / alone: /etc is read-only (EROFS) even for root in the jail"

cd "$P" || exit 1
jailed --allow domain=example.com --user "$U" --protect-startup-files -- sh -c '
	try() { if (echo "# x" >>"$1") 2>&1 | grep -q "Read-only file system"; then echo "$2: EROFS"; else echo "$2: writable"; fi; }
	try ~/.bashrc bashrc
	try .git/config gitconfig
	try .git/hooks/pre-commit hooks
	try .envrc envrc
	try notes proj'
cd / || exit 1
want bashrc EROFS "--protect-startup-files: ~/.bashrc is read-only (EROFS)"
want gitconfig EROFS "--protect-startup-files: .git/config is read-only (EROFS)"
want hooks EROFS "--protect-startup-files: nothing can be added to .git/hooks (EROFS)"
want envrc EROFS "--protect-startup-files: .envrc is read-only (EROFS)"
want proj writable "--protect-startup-files: the rest of the repository stays writable"
rm -f "$P/notes"

# --- the host is untouched ----------------------------------------------------------------------

after=$(home_state)
if [ "$before" = "$after" ]; then
	ok "the scratch home on the host is unchanged (names, modes, owners, contents)"
else
	fail "the scratch home on the host is unchanged (names, modes, owners, contents)"
	diag "$(diff <(echo "$before") <(echo "$after"))"
fi
check "no mount of the jails' reached this namespace's mount table" \
	[ "$(wc -l </proc/self/mountinfo)" = "$mounts_before" ]
lacks "no boundary-hidden tmpfs in the host's mount table" "$(cat /proc/self/mountinfo)" "boundary-hidden"

done_testing
