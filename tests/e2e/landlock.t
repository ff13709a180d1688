#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# landlock.t: --jail-type landlock and weak, end to end. boundary is an explicit proxy on
# loopback; the command (nobody, since boundary runs as root here) is told of it by HTTP_PROXY
# and friends, and under landlock may make TCP connections to the proxy's port only. Real
# clients (curl, python) against the real servers of tests/lib/proxy.sh: allowed, refused, loop
# protection, and each bypass the mode cannot stop, asserted as docs/SECURITY.md documents it
# (aimed at loopback listeners of ours that must, for a documented bypass, receive it).
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/jail.sh"
. "$(dirname "$0")/../lib/proxy.sh"

proxy_suite
abi=$(python3 -c 'import ctypes; print(ctypes.CDLL(None).syscall(444, None, 0, 1))')
BLOCKED="🚫 Request Blocked by Boundary"
R=$(shared_dir r)
read -r PP PU <<<"$(free_ports 2)"

# A UDP listener on host loopback, and a TCP one on 127.0.0.2 at the proxy's port: what they
# receive is what the modes cannot stop.
python3 "$STAGE/lib/bypass_listeners.py" "$PU" "$PP" "$TMPDIR_T" &
LPID=$!
at_exit "kill $LPID 2>/dev/null"
for _ in $(seq 100); do [ -e "$TMPDIR_T/listeners-ready" ] && break; sleep 0.05; done

CURL="curl -sS --max-time 20"
ls -d /tmp/boundary-landlock-* /tmp/boundary-weak-* 2>/dev/null | sort >"$TMPDIR_T/runs-before"

# --- landlock -----------------------------------------------------------------------------------

if [ "$abi" -lt 4 ] 2>/dev/null; then
	skip "the kernel has no Landlock network rules (ABI $abi < 4)"
else
	c0=$(conns A)
	# shellcheck disable=SC2016 # for the jailed shell
	bnd --jail-type landlock --proxy-port "$PP" --allow "domain=up.test path=/echo/ok/*" \
		--allow "domain=127.0.0.1" -- sh -c '
		R=$0 P_HTTP=$1 P_HTTPS=$2 PU=$3 PP=$4 LIB=$5; shift 5
		"$@" -o $R/https.body -w "%{http_code}" https://up.test:$P_HTTPS/echo/ok/s >$R/https.code
		"$@" -o $R/http.body -w "%{http_code}" http://up.test:$P_HTTP/echo/ok/p >$R/http.code
		"$@" -o $R/no.body -w "%{http_code}" https://up.test:$P_HTTPS/echo/no >$R/no.code
		"$@" -o $R/loop.body -w "%{http_code}" http://127.0.0.1:$PP/ >$R/loop.code
		env | grep -E "^(HTTPS?_PROXY|https?_proxy|ALL_PROXY|NO_PROXY)=" | sort >$R/env
		d=$(dirname "$SSL_CERT_FILE")
		for f in ca-bundle.pem ca-cert.pem ca-key.pem; do [ -e "$d/$f" ] && echo "$f"; done >$R/rundir
		echo "$SSL_CERT_FILE" >$R/bundle
		python3 "$LIB/bypass_probe.py" "$P_HTTP" "$PP" "$PU" >$R/py 2>&1
		grep -E "^(Cap(Eff|Prm|Bnd|Amb)|NoNewPrivs|Uid):" /proc/self/status >$R/status
		exit 3' "$R" "$P_HTTP" "$P_HTTPS" "$PU" "$PP" "$STAGE/lib" $CURL
	check "landlock: the command's exit status comes back (3)" [ "$rc" = 3 ]
	if [ "$(cat "$R/https.code" 2>/dev/null)" = 200 ] && grep -q '"server": "A"' "$R/https.body"; then
		ok "landlock: an allowed HTTPS request goes through the proxy (CONNECT, intercepted)"
	else
		fail "landlock: an allowed HTTPS request goes through the proxy (CONNECT, intercepted)"
		diag "$(cat "$R/https.code" "$R/https.body" 2>&1)" "$log"
	fi
	check "landlock: an allowed plain HTTP request goes through the proxy" \
		[ "$(cat "$R/http.code" 2>/dev/null)" = 200 ]
	if [ "$(cat "$R/no.code" 2>/dev/null)" = 403 ] && grep -qF "$BLOCKED" "$R/no.body" &&
		grep -qE "DENY GET https://up.test:$P_HTTPS/echo/no from 127\.0\.0\.1:[0-9]+" <<<"$log"; then
		ok "landlock: a refused request gets 403, logged with the client's address"
	else
		fail "landlock: a refused request gets 403, logged with the client's address"
		diag "$(cat "$R/no.code" 2>&1)" "$log"
	fi
	if [ "$(cat "$R/loop.code" 2>/dev/null)" = 508 ] && grep -q 'loop protection' "$R/loop.body"; then
		ok "landlock: a request for the proxy itself gets 508 (loop protection)"
	else
		fail "landlock: a request for the proxy itself gets 508 (loop protection)"
		diag "$(cat "$R/loop.code" "$R/loop.body" 2>&1)"
	fi
	want="ALL_PROXY=http://127.0.0.1:$PP
HTTPS_PROXY=http://127.0.0.1:$PP
HTTP_PROXY=http://127.0.0.1:$PP
NO_PROXY=
http_proxy=http://127.0.0.1:$PP
https_proxy=http://127.0.0.1:$PP"
	check "landlock: every proxy variable names the proxy; NO_PROXY is empty" \
		[ "$(cat "$R/env")" = "$want" ]
	py=$(cat "$R/py" 2>/dev/null)
	if grep -qx 'direct EACCES' <<<"$py" && grep -qx 'direct6 EACCES' <<<"$py"; then
		ok "landlock: a direct TCP connection (ignoring HTTP_PROXY) is refused (EACCES)"
	else
		fail "landlock: a direct TCP connection (ignoring HTTP_PROXY) is refused (EACCES)"
		diag "$py"
	fi
	check "landlock: the upstream saw only the proxy's connections" \
		[ "$(($(conns A) - c0))" -le 2 ]
	if grep -qx 'proxyport connected' <<<"$py" && grep -qx landlock-bypass "$TMPDIR_T/tcp-hits"; then
		ok "landlock, documented bypass: TCP to any address on the proxy's port gets out"
	else
		fail "landlock, documented bypass: TCP to any address on the proxy's port gets out"
		diag "$py" "$(cat "$TMPDIR_T/tcp-hits" 2>&1)"
	fi
	for _ in $(seq 40); do grep -q landlock-udp "$TMPDIR_T/udp-hits" 2>/dev/null && break; sleep 0.05; done
	if grep -qx landlock-udp "$TMPDIR_T/udp-hits" 2>/dev/null; then
		ok "landlock, documented bypass: UDP is not restricted (the listener got the datagram)"
	else
		fail "landlock, documented bypass: UDP is not restricted (the listener got the datagram)"
		diag "$py"
	fi
	check "landlock: TCP bind and listen stay allowed" grep -qx "bind ok" <<<"$py"
	st=$(cat "$R/status" 2>/dev/null)
	if grep -q '^Uid:	65534	' <<<"$st" && grep -q '^CapEff:	0000000000000000' <<<"$st" &&
		grep -q '^CapPrm:	0000000000000000' <<<"$st" && grep -q '^CapBnd:	0000000000000000' <<<"$st" &&
		grep -q '^NoNewPrivs:	1' <<<"$st"; then
		ok "landlock: boundary as root runs the command as nobody with no capabilities"
	else
		fail "landlock: boundary as root runs the command as nobody with no capabilities"
		diag "$st"
	fi
	if [ "$(cat "$R/rundir")" = "ca-bundle.pem
ca-cert.pem" ]; then
		ok "landlock: the run's CA key is not on disk where the command could read it"
	else
		fail "landlock: the run's CA key is not on disk where the command could read it"
		diag "$(cat "$R/rundir" 2>&1)"
	fi
	run_dir_gone() { [ -n "$(cat "$R/bundle")" ] && [ ! -e "$(dirname "$(cat "$R/bundle")")" ]; }
	check "landlock: the run's directory is gone afterwards" run_dir_gone
fi

# --- landlock for an ordinary user: no root, no capability -----------------------------------------

if [ "$abi" -ge 4 ] 2>/dev/null; then
	NB=$TMPDIR_T/nb
	mkdir -p "$NB"
	cp "$BOUNDARY" "$NB/boundary"
	chmod 755 "$NB" "$NB/boundary"
	# shellcheck disable=SC2016 # for the inner shells
	out=$(timeout -k 5 60 unshare -m --propagation private sh -c '
		mount --bind "$0/hosts" /etc/hosts && exec "$@"' "$UP" \
		setpriv --reuid 65534 --regid 65534 --clear-groups env HOME=/nonexistent \
		"$NB/boundary" --log-level info --upstream-ca "$TEST_CA" --jail-type landlock \
		--allow "domain=up.test" -- sh -c '
		P_HTTPS=$0
		"$@" -o /dev/null -w "%{http_code}\n" https://up.test:$P_HTTPS/echo/nobody
		id -u
		kill -0 $PPID 2>/dev/null && echo "signal ok" || echo "signal refused"' "$P_HTTPS" $CURL \
		2>"$TMPDIR_T/nobody.log" </dev/null)
	rc=$?
	if [ "$rc" = 0 ] && [ "$(sed -n 1,2p <<<"$out")" = "200
65534" ]; then
		ok "landlock as nobody, no capabilities: the allowed request goes through"
	else
		fail "landlock as nobody, no capabilities: the allowed request goes through"
		diag "rc=$rc" "$out" "$(cat "$TMPDIR_T/nobody.log")"
	fi
	if [ "$abi" -ge 6 ]; then
		check "landlock (ABI 6+): the command cannot signal boundary, though the same user" \
			[ "$(sed -n 3p <<<"$out")" = "signal refused" ]
	else
		skip "Landlock ABI $abi has no signal scoping"
	fi
fi

# --- weak ---------------------------------------------------------------------------------------

# shellcheck disable=SC2016 # for the jailed shell
bnd --jail-type weak --allow "domain=up.test path=/echo/ok/*" -- sh -c '
	R=$0 P_HTTP=$1 P_HTTPS=$2 PU=$3; shift 3
	"$@" -o $R/w-https.body -w "%{http_code}" https://up.test:$P_HTTPS/echo/ok/w >$R/w-https.code
	"$@" -o $R/w-no.body -w "%{http_code}" http://up.test:$P_HTTP/echo/no >$R/w-no.code
	"$@" --noproxy "*" -o $R/w-direct.body -w "%{http_code}" --resolve up.test:$P_HTTP:127.0.0.1 \
		http://up.test:$P_HTTP/echo/direct >$R/w-direct.code' "$R" "$P_HTTP" "$P_HTTPS" "$PU" $CURL
check "weak: the command runs and exits 0" [ "$rc" = 0 ]
if [ "$(cat "$R/w-https.code" 2>/dev/null)" = 200 ] && grep -q '"server": "A"' "$R/w-https.body"; then
	ok "weak: an allowed HTTPS request goes through the proxy"
else
	fail "weak: an allowed HTTPS request goes through the proxy"
	diag "$(cat "$R/w-https.code" "$R/w-https.body" 2>&1)" "$log"
fi
refused_403() { [ "$(cat "$R/w-no.code" 2>/dev/null)" = 403 ] && grep -qF "$BLOCKED" "$R/w-no.body"; }
check "weak: a refused request gets 403" refused_403
if [ "$(cat "$R/w-direct.code" 2>/dev/null)" = 200 ] && upstream_requests | grep -q ' GET /echo/direct$' &&
	! grep -q '/echo/direct' <<<"$log"; then
	ok "weak, documented bypass: a program ignoring HTTP_PROXY connects directly, unseen"
else
	fail "weak, documented bypass: a program ignoring HTTP_PROXY connects directly, unseen"
	diag "$(cat "$R/w-direct.code" 2>&1)" "$(upstream_requests)" "$log"
fi

# --- a command that is not there -------------------------------------------------------------

# execvpe says EACCES when a directory on PATH cannot be searched, even if the command is in none
# of them: then it was not found, as a shell (and the default jail, jail.t) says. The command runs
# as nobody, who cannot search a root-only directory.
mkdir -p "$TMPDIR_T/root-only"
chmod 700 "$TMPDIR_T/root-only"
not_found_127() {
	[ "$rc" = 127 ] && grep -q "cannot run boundary-no-such-command: command not found" <<<"$log"
}
for type in weak landlock; do
	if [ "$type" = landlock ] && [ "$abi" -lt 4 ] 2>/dev/null; then
		skip "the kernel has no Landlock network rules (ABI $abi < 4)"
		continue
	fi
	PATH="$TMPDIR_T/root-only:$PATH" bnd --jail-type $type --allow domain=up.test -- \
		boundary-no-such-command
	check "$type: a command on no searchable PATH directory is not found, exit 127" not_found_127
done

# --- only the command's user may use the proxy ------------------------------------------------

# shellcheck disable=SC2016 # for the jailed shell
bnd_bg own --jail-type weak --allow "domain=up.test" -- sh -c '
	echo "$HTTP_PROXY" >$0/url.tmp && mv $0/url.tmp $0/url
	while [ ! -e $0/go ]; do sleep 0.05; done
	curl -sS --max-time 20 -o /dev/null -w "%{http_code}" http://up.test:$1/echo/own >$0/own.code' \
	"$R" "$P_HTTP"
for _ in $(seq 200); do [ -s "$R/url" ] && break; sleep 0.05; done
code=$(curl -sS --max-time 20 -x "$(cat "$R/url")" -o /dev/null -w '%{http_code}' \
	"http://up.test:$P_HTTP/echo/root" 2>/dev/null)
touch "$R/go"
wait "$BND_PID"
if [ "$code" = 000 ] && grep -q "refused a connection from 127.0.0.1:[0-9]*: it is uid 0's, and only the command's user (uid 65534)" "$TMPDIR_T/own.log" &&
	! upstream_requests | grep -q '/echo/root'; then
	ok "another user's connection to the proxy is refused, saying whose it was"
else
	fail "another user's connection to the proxy is refused, saying whose it was"
	diag "code=$code" "$(cat "$TMPDIR_T/own.log")"
fi
check "the command's own user is served meanwhile" [ "$(cat "$R/own.code" 2>/dev/null)" = 200 ]

# --- flags ----------------------------------------------------------------------------------------

out=$("$BOUNDARY" --jail-type nojail -- true 2>&1)
rc=$?
unknown_type_refused() {
	[ "$rc" = 125 ] &&
		grep -q "invalid JailType: nojail (use nsjail, landlock (or landjail) or weak)" <<<"$out"
}
check "an unknown jail type is refused, naming the valid ones" unknown_type_refused
# landjail_accepted RC: boundary --test exited RC; it allowed, or said ALLOW.
landjail_accepted() { [ "$1" = 0 ] || grep -q "^ALLOW" <<<"$out"; }
out=$(BOUNDARY_JAIL_TYPE=landjail "$BOUNDARY" --allow domain=up.test --test https://up.test/ 2>&1)
check "landjail (coder's name) is accepted" landjail_accepted "$?"
left=$(comm -13 "$TMPDIR_T/runs-before" <(ls -d /tmp/boundary-landlock-* /tmp/boundary-weak-* 2>/dev/null | sort))
check "no run directory is left in /tmp" [ -z "$left" ]

done_testing
