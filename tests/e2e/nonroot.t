#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# nonroot.t: boundary run by an ordinary user (nobody, through setpriv) on file capabilities
# alone, as README's "Without root" section says to install it: a copy of the binary with
# `setcap <PRIVS_SETCAP>+ep`. The jail must work as under sudo (allowed, refused, nothing
# reaching the test host), the command must hold no capability of any kind, the user's files (the
# CA) must be the user's, --user must not become a way to run as someone else, and what the jail
# leaves in /run, /sys/fs/bpf and the cgroup tree must be root's, not the user's. Without the
# capabilities, boundary must say which are missing and how to grant them.
#
# $CURL is a command line (tests/lib/proxy.sh), split into words on purpose.
# shellcheck disable=SC2086
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/jail.sh"
. "$(dirname "$0")/../lib/proxy.sh"

CAPS=cap_net_admin,cap_sys_admin,cap_setuid,cap_setgid,cap_setpcap
if ! command -v setcap >/dev/null || ! command -v setpriv >/dev/null; then
	skip "needs setcap (libcap2-bin) and setpriv (util-linux)"
	done_testing
	exit 0
fi
proxy_suite
testhost_listen "$P_HTTP"
testhost_listen "$P_HTTPS"

# nobody's world: a home of its own, and a copy of boundary it may run, with capabilities.
chmod 711 "$TMPDIR_T"
NB=$TMPDIR_T/nb
mkdir -p "$NB/home" "$NB/bin"
chown 65534:65534 "$NB/home"
cp "$BOUNDARY" "$NB/bin/boundary"
cp "$BOUNDARY" "$NB/bin/boundary-nocaps"
chmod 755 "$NB" "$NB/bin" "$NB/bin/boundary" "$NB/bin/boundary-nocaps"
if ! setcap "$CAPS+ep" "$NB/bin/boundary"; then
	fail "setcap $CAPS+ep on a copy of boundary"
	done_testing
	exit 1
fi
R=$(shared_dir r)

# nb BIN ARGS... -- CMD...: runs BIN as nobody (no groups) in a mount namespace where
# /etc/hosts names the test servers, after $NB_SETUP (shell, as root, in that namespace); sets
# $out, $rc, $log.
NB_SETUP=:
nb() {
	local bin=$1
	shift
	# shellcheck disable=SC2016 # for the inner shell
	out=$(NB_SETUP=$NB_SETUP timeout -k 5 60 unshare -m --propagation private sh -c '
		mount --bind "$0/hosts" /etc/hosts && mount --bind "$0/resolv.conf" /etc/resolv.conf &&
		eval "$NB_SETUP" && exec env -u NB_SETUP "$@"' "$UP" setpriv --reuid 65534 --regid 65534 --clear-groups \
		env HOME="$NB/home" XDG_CONFIG_HOME="$NB/home/.config" "$bin" --log-level info \
		--upstream-ca "$TEST_CA" "$@" 2>"$TMPDIR_T/nb.log" </dev/null)
	rc=$?
	log=$(cat "$TMPDIR_T/nb.log")
}

# --- without the capabilities ----------------------------------------------------------------

nb "$NB/bin/boundary-nocaps" --allow "domain=up.test" -- true
if [ "$rc" = 125 ] && grep -qF "setcap $CAPS+ep" <<<"$log"; then
	ok "without capabilities: exit 125 and the setcap line that grants them"
else
	fail "without capabilities: exit 125 and the setcap line that grants them"
	diag "rc=$rc" "$log"
fi

# --- with them ---------------------------------------------------------------------------------

state_snapshot "$TMPDIR_T/before"
nb "$NB/bin/boundary" --allow "domain=up.test path=/echo/ok/*" -- sh -c "
	grep -E '^(Uid|Gid|Groups|Cap[A-Za-z]+|NoNewPrivs):' /proc/self/status >$R/status
	$CURL -o $R/ok.body -w '%{http_code}' https://up.test:$P_HTTPS/echo/ok/1 >$R/ok.code
	$CURL -o $R/no.body -w '%{http_code}' http://up.test:$P_HTTP/echo/no >$R/no.code
	cat \"$NB/home/.config/coder_boundary/ca-key.pem\" >$R/key 2>&1
	ls -ld /run/boundary/* >$R/run 2>&1
	exit 7"
state_snapshot "$TMPDIR_T/after"
st=$(sed 's/[[:space:]]*$//' "$R/status" 2>/dev/null)
want_st="Uid:	65534	65534	65534	65534
Gid:	65534	65534	65534	65534
Groups:
CapInh:	0000000000000000
CapPrm:	0000000000000000
CapEff:	0000000000000000
CapBnd:	0000000000000000
CapAmb:	0000000000000000
NoNewPrivs:	1"
if [ "$st" = "$want_st" ]; then
	ok "the command runs as nobody with no groups, no capability in any set, no_new_privs"
else
	fail "the command runs as nobody with no groups, no capability in any set, no_new_privs"
	diag "$st" "$log"
fi
check "the command's own exit status comes back (7)" [ "$rc" = 7 ]
if [ "$(cat "$R/ok.code" 2>/dev/null)" = 200 ] && grep -q '"server": "A"' "$R/ok.body"; then
	ok "an allowed HTTPS request is served through the jail"
else
	fail "an allowed HTTPS request is served through the jail"
	diag "$(cat "$R/ok.code" "$R/ok.body" 2>&1)" "$log"
fi
if [ "$(cat "$R/no.code" 2>/dev/null)" = 403 ] &&
	grep -qF "DENY GET http://up.test:$P_HTTP/echo/no from curl[" <<<"$log"; then
	ok "a refused request gets 403 and a DENY line naming curl"
else
	fail "a refused request gets 403 and a DENY line naming curl"
	diag "$(cat "$R/no.code" 2>&1)" "$log"
fi
check "the test host saw nothing" [ "$(hits)" = 0 ]
if grep -q 'BEGIN' "$R/key"; then
	fail "the jailed command cannot read the CA key"
else
	ok "the jailed command cannot read the CA key"
fi
ca=$NB/home/.config/coder_boundary
if [ "$(stat -c '%U %a' "$ca/ca-key.pem" 2>/dev/null)" = "nobody 600" ] &&
	[ "$(stat -c %U "$ca/ca-cert.pem" "$ca" | sort -u)" = nobody ]; then
	ok "the CA belongs to the user (key 0600)"
else
	fail "the CA belongs to the user (key 0600)"
	diag "$(ls -la "$ca" 2>&1)"
fi
if [ -s "$R/run" ] && ! grep -qvE '^[-d][rwx-]* [0-9]* root root' "$R/run"; then
	ok "what the jail keeps in /run/boundary is root's"
else
	# /run is hidden from the jail in no way; if it were, the listing would be empty.
	fail "what the jail keeps in /run/boundary is root's"
	diag "$(cat "$R/run" 2>&1)"
fi
left=$(state_leftovers "$TMPDIR_T/before" "$TMPDIR_T/after")
check "nothing is left behind (cgroup, pins, processes)" [ -z "$left" ]
[ -n "$left" ] && diag "$left"

# --- what the capabilities must not buy ---------------------------------------------------------

nb "$NB/bin/boundary" --user root -- id -u
if [ "$rc" = 125 ] && [ -z "$out" ] && grep -q 'runs commands only as that user' <<<"$log"; then
	ok "--user root is refused: an ordinary user's boundary runs commands only as that user"
else
	fail "--user root is refused: an ordinary user's boundary runs commands only as that user"
	diag "rc=$rc out=$out" "$log"
fi
nb "$NB/bin/boundary" --no-user-namespace -- id -u
check "--no-user-namespace runs the command as the user, not as root" [ "$out" = 65534 ]

# The options' files are opened with no capability effective: nobody cannot read root's 0600.
echo "allowlist: [domain=secret.example]" >"$TMPDIR_T/root-only.yaml"
chmod 600 "$TMPDIR_T/root-only.yaml"
nb "$NB/bin/boundary" --config "$TMPDIR_T/root-only.yaml" -- true
if [ "$rc" = 125 ] && grep -q 'Permission denied' <<<"$log" && ! grep -q secret <<<"$log"; then
	ok "--config cannot read a file the user cannot"
else
	fail "--config cannot read a file the user cannot"
	diag "rc=$rc" "$log"
fi
mkdir -p "$TMPDIR_T/rootdir"
chmod 755 "$TMPDIR_T/rootdir"
nb "$NB/bin/boundary" --audit-log "$TMPDIR_T/rootdir/audit.jsonl" -- true
if [ "$rc" = 125 ] && [ ! -e "$TMPDIR_T/rootdir/audit.jsonl" ]; then
	ok "--audit-log cannot write where the user cannot"
else
	fail "--audit-log cannot write where the user cannot"
	diag "rc=$rc" "$log" "$(ls -la "$TMPDIR_T/rootdir")"
fi
nb "$NB/bin/boundary" --log-dir "$TMPDIR_T/rootdir/logs" -- true
refused_logdir() { [ "$rc" = 125 ] && [ ! -e "$TMPDIR_T/rootdir/logs" ]; }
check "--log-dir cannot create a directory where the user cannot" refused_logdir

# --- a container runtime's root-only directory ---------------------------------------------------

# On a host where containerd has run, /run/containerd is root's, mode 0700, with the socket the
# jail hides inside. The user cannot reach it, so neither can the command, which runs as the
# user with less: boundary must start, and must still hide what the user can reach (podman's
# socket in a directory anyone may search). Built in this namespace's own /run, which keeps the
# host's /run/boundary.
mkdir -p -m 755 /run/boundary
# shellcheck disable=SC2016 # for nb's inner shell
NB_SETUP='
	d=$(mktemp -d) && mount --bind /run "$d" && mount -t tmpfs -o mode=755 run /run &&
	mkdir -m 755 /run/boundary && mount --bind "$d/boundary" /run/boundary &&
	mkdir -m 700 /run/containerd && mkdir -m 755 /run/podman &&
	python3 -c "import socket, sys
for p in sys.argv[1:]: socket.socket(socket.AF_UNIX).bind(p)" \
		/run/containerd/containerd.sock /run/podman/podman.sock'
nb "$NB/bin/boundary" -- sh -c '
	for s in /run/containerd/containerd.sock /run/podman/podman.sock; do
		if [ -S "$s" ]; then echo "$s: socket"; elif [ -e "$s" ]; then echo "$s: hidden";
		else echo "$s: unreachable"; fi
	done'
NB_SETUP=:
if [ "$rc" = 0 ] && ! grep -q "cannot hide" <<<"$log"; then
	ok "a root-only /run/containerd with its socket inside: boundary starts on file capabilities"
else
	fail "a root-only /run/containerd with its socket inside: boundary starts on file capabilities"
	diag "rc=$rc" "$log"
fi
contains "... and the command cannot reach that socket either" "$out" \
	"/run/containerd/containerd.sock: unreachable"
contains "... while a runtime's socket the user can reach is still hidden" "$out" \
	"/run/podman/podman.sock: hidden"

# --port-forward: its thread enters the jail's namespace, which takes a capability it must
# hold while it does (capabilities are per thread). A jailed server answers the host's curl.
read -r HP JP <<<"$(free_ports 2)"
nb "$NB/bin/boundary" --port-forward "$HP:$JP" -- sh -c "
	python3 -m http.server $JP --bind 127.0.0.1 --directory /tmp >/dev/null 2>&1 &
	for i in \$(seq 100); do [ -s $R/pf.code ] && break; sleep 0.1; done
	kill \$! 2>/dev/null" &
pf=$!
for _ in $(seq 100); do
	code=$(curl -s -m 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HP/" 2>/dev/null)
	[ "$code" = 200 ] && break
	sleep 0.1
done
echo "$code" >"$R/pf.code"
wait "$pf"
check "on file capabilities, --port-forward reaches a jailed server (got $code)" [ "$code" = 200 ]

done_testing
