#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# exe_rules.t: exe= rules end to end, as root. A rule with exe= holds only for connections made
# by processes running those files, as the kernel saw them at connect time (device and inode of
# the task's executable): curl is let through where python3 is refused with a 403 that names
# python3's executable and the rule that would let it; HTTP/2 streams and CONNECT through the
# proxy port are judged the same way; what the rules refuse reaches --rules-program with the
# executable; a path through a symlink is its target; a copy of curl (same bytes, another
# inode) is not curl; programs on tmpfs and an overlay are matched too; a stream rule with exe=
# splices for its program only; a reload looks the paths up again, and keeps the rules in force
# when one names no file; such a path stops boundary at start; the audit records carry the
# executable; --test answers for a program with --exe.
#
# $CURL is a command line (tests/lib/proxy.sh), split into words on purpose.
# shellcheck disable=SC2086
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/jail.sh"
. "$(dirname "$0")/../lib/proxy.sh"
proxy_suite

# The real files: exe= rules are bound to what a path names, so the tests name them exactly.
CURL_EXE=$(readlink -f "$(command -v curl)")
PY_LINK=/usr/bin/python3
PY_EXE=$(readlink -f "$PY_LINK")
if [ ! -x "$CURL_EXE" ] || [ ! -x "$PY_EXE" ]; then
	skip "needs curl and $PY_LINK"
	done_testing
	exit 0
fi
# Jailed programs run as the host's nobody: copies and links they run live in a shared directory.
S=$(shared_dir exe)
cp "$CURL_EXE" "$S/curl-copy" && chmod 755 "$S/curl-copy"
ln -s "$CURL_EXE" "$S/curl-link"
R=$(shared_dir r)
AUD=$TMPDIR_T/audit.jsonl
PY="$PY_LINK $CLIENT_PY"
rec() { grep '"event":"request"' "$AUD" | grep -F "$1" | head -1; }

# --- an HTTP rule for curl only ---------------------------------------------------------------

bnd --audit-log "$AUD" --allow "exe=$CURL_EXE domain=up.test" -- sh -c "
	$CURL -o /dev/null -w 'curl: %{http_code}\n' http://up.test:$P_HTTP/echo/by-curl
	$CURL -o /dev/null -w 'curltls: %{http_code}\n' https://up.test:$P_HTTPS/echo/by-curl-tls
	$PY urllib http://up.test:$P_HTTP/echo/by-python >$R/py.out
	$PY urllib https://up.test:$P_HTTPS/echo/by-python-tls >$R/pytls.out
	$S/curl-copy -o $R/copy.out -w 'copy: %{http_code}\n' http://up.test:$P_HTTP/echo/by-copy"
want curl 200 "exe=curl: curl reaches the host"
want curltls 200 "... over intercepted TLS too"
py=$(cat "$R/py.out")
contains "exe=curl: python3 to the same host is refused" "$py" "status 403"
contains "... the 403 names python3's executable" "$py" "($PY_EXE)"
contains "... and says the program is why" "$py" "Why: no rule matches this program"
contains "... and the rule that would let it through" "$py" \
	"--allow \"exe=$PY_EXE domain=up.test\""
contains "exe=curl: python3 over TLS is refused too" "$(cat "$R/pytls.out")" "status 403"
want copy 403 "a copy of curl (same bytes, another inode) is refused"
contains "... and its 403 names the copy" "$(cat "$R/copy.out")" "($S/curl-copy)"
seen() { grep -q "/echo/by-curl-tls" "$UP/requests.log" && ! grep -q "by-python\|by-copy" "$UP/requests.log"; }
check "the upstream saw curl's requests and none of the others" seen
r=$(rec /echo/by-curl\")
contains "audit: curl's record has its executable" "$r" "\"exe\":\"$CURL_EXE\""
contains "audit: ... and the rule" "$r" "\"rule\":\"exe=$CURL_EXE domain=up.test\""
r=$(rec /echo/by-python\")
contains "audit: python3's refusal has its executable" "$r" "\"exe\":\"$PY_EXE\""
contains "audit: ... and is a deny" "$r" '"decision":"deny"'

# --- what the rules refuse goes to --rules-program with its executable ---------------------------

PLOG=$TMPDIR_T/prog.log
bnd --rules-program "python3 $STAGE/lib/rules_program.py $PLOG" \
	--allow "exe=$PY_EXE domain=up.test" -- \
	$CURL -o /dev/null -w 'curl: %{http_code}\n' http://up.test:$P_HTTP/echo/ok-by-program
want curl 200 "--rules-program: what the exe= rule refuses to curl, the program allows"
contains "--rules-program: the request line carries the executable" "$(cat "$PLOG")" \
	"\"comm\":\"curl\",\"exe\":\"$CURL_EXE\"}"

# --- HTTP/2 streams, and CONNECT through the jail's proxy port ----------------------------------
# A stream is judged with its session's program; a program that dials boundary's proxy port
# itself (HTTP_PROXY-style) is known too, and its CONNECT is judged with it.

read -r PP <<<"$(free_ports 1)"
bnd --proxy-port "$PP" --allow "exe=$CURL_EXE domain=up.test" -- sh -c "
	$CURL --http2 -o /dev/null -w 'h2: %{http_code} %{http_version}\n' https://up.test:$P_HTTPS/echo/h2
	$S/curl-copy -sS --max-time 20 --connect-to ::$TH4: --http2 -o /dev/null \
		-w 'h2copy: %{http_code} %{http_version}\n' https://up.test:$P_HTTPS/echo/h2-copy
	curl -sS --max-time 20 -x http://127.0.0.1:$PP -o /dev/null \
		-w 'connect: %{http_connect} %{http_code}\n' https://up.test:$P_HTTPS/echo/connect
	$S/curl-copy -sS --max-time 20 -x http://127.0.0.1:$PP -o /dev/null \
		-w 'connectcopy: %{http_connect}\n' https://up.test:$P_HTTPS/echo/connect-copy"
want h2 "200 2" "HTTP/2: curl's stream is allowed"
want h2copy "403 2" "HTTP/2: the copy's stream is refused"
want connect "200 200" "CONNECT through the proxy port: curl's tunnel and request are allowed"
want connectcopy 403 "CONNECT through the proxy port: the copy's tunnel is refused"
logged "... and the log names the copy" "$log" "DENY CONNECT up.test:$P_HTTPS from curl-copy\\[[0-9]+\\]"

# --- a symlink in exe= is its target ------------------------------------------------------------

bnd --allow "exe=$PY_LINK domain=up.test" --allow "exe=$S/curl-link domain=other.test" -- sh -c "
	$PY urllib http://up.test:$P_HTTP/echo/py-link | head -1 | sed 's/^/py: /'
	$CURL -o /dev/null -w 'curl: %{http_code}\n' http://up.test:$P_HTTP/echo/curl-not
	$CURL -o /dev/null -w 'curllink: %{http_code}\n' http://other.test:$P_HTTP/echo/curl-link"
want py "status 200" "exe=$PY_LINK (a symlink to $(basename "$PY_EXE")) lets python3 through"
want curl 403 "... and nothing else to that host"
want curllink 200 "exe= naming a symlink of our own to curl lets curl through"

# --- a list, and rules for several programs ------------------------------------------------------

bnd --allow "exe=$PY_EXE,$CURL_EXE domain=up.test" -- sh -c "
	$PY urllib http://up.test:$P_HTTP/echo/list-py | head -1 | sed 's/^/py: /'
	$CURL -o /dev/null -w 'curl: %{http_code}\n' http://up.test:$P_HTTP/echo/list-curl
	$S/curl-copy -o /dev/null -w 'copy: %{http_code}\n' http://up.test:$P_HTTP/echo/list-copy"
want py "status 200" "exe=A,B: the first program passes"
want curl 200 "exe=A,B: the second too"
want copy 403 "exe=A,B: a third does not"

# --- other file systems: tmpfs, and an overlay ------------------------------------------------------
# The kernel's device numbers are not stat()'s (MAJOR << 20 | MINOR against glibc's makedev):
# curl above ran from the root file system (a real disk, major not 0); here from tmpfs and from
# an overlay (anonymous devices, major 0), each allowed by a rule naming it there.

mkdir -p "$TMPDIR_T/ovl/lower" "$TMPDIR_T/ovl/upper" "$TMPDIR_T/ovl/work" "$S/ovl"
cp "$CURL_EXE" "$TMPDIR_T/ovl/lower/curl"
if mount -t overlay overlay -o "lowerdir=$TMPDIR_T/ovl/lower,upperdir=$TMPDIR_T/ovl/upper,workdir=$TMPDIR_T/ovl/work" "$S/ovl"; then
	at_exit "umount '$S/ovl' 2>/dev/null"
	chmod 755 "$S/ovl" "$S/ovl/curl"
	fs_ovl=$(stat -f -c %T "$S/ovl/curl")
	bnd --allow "exe=$S/curl-copy domain=up.test" --allow "exe=$S/ovl/curl domain=other.test" -- sh -c "
		$S/curl-copy -sS -o /dev/null -w 'tmpfs: %{http_code}\n' http://up.test:$P_HTTP/echo/tmpfs
		$S/ovl/curl -sS -o /dev/null -w 'ovl: %{http_code}\n' http://other.test:$P_HTTP/echo/ovl
		$S/ovl/curl -sS -o /dev/null -w 'ovlelse: %{http_code}\n' http://up.test:$P_HTTP/echo/ovl-else"
	want tmpfs 200 "a program on $(stat -f -c %T "$S/curl-copy") ($(stat -c %Hd:%Ld "$S/curl-copy")) is matched by its path"
	want ovl 200 "a program on $fs_ovl ($(stat -c %Hd:%Ld "$S/ovl/curl")) is matched by its path"
	want ovlelse 403 "... and is not the tmpfs copy"
else
	skip "cannot mount an overlay here"
	skip "..."
fi

# --- a stream rule with exe= -----------------------------------------------------------------------

read -r P_SSH P_ECHO <<<"$(free_ports 2)"
cat >>"$UP/hosts" <<EOF
127.0.0.1 ssh.test
EOF
: >"$UP/stream.log"
python3 "$STAGE/lib/stream_servers.py" "$P_SSH" "$P_ECHO" "$UP/stream.log" "$UP/stream.ready" \
	2>"$UP/stream.err" &
SRV_PID=$!
at_exit "kill $SRV_PID 2>/dev/null"
for _ in $(seq 100); do [ -e "$UP/stream.ready" ] && break; sleep 0.05; done
STREAM_CLIENT=$STAGE/lib/stream_client.py
: >"$AUD"
bnd --audit-log "$AUD" --allow "exe=$PY_EXE domain=ssh.test port=$P_SSH" -- \
	$PY_LINK "$STREAM_CLIENT" ssh ssh.test "$P_SSH"
want BANNER "SSH-2.0-boundarytest" "a stream rule with exe=python3: python3's connection is spliced"
logged "... under that rule" "$log" \
	"ALLOW tcp://ssh\\.test:$P_SSH from python3\\[[0-9]+\\] \\(rule: exe=$PY_EXE domain=ssh\\.test port=$P_SSH\\)"
r=$(grep '"event":"request"' "$AUD" | grep '"kind":"tcp"' | head -1)
contains "audit: the stream's record has the executable" "$r" "\"exe\":\"$PY_EXE\""
r=$(grep '"event":"dns"' "$AUD" | grep -F '"host":"ssh.test"' | head -1)
contains "audit: the record of its DNS query has the executable too" "$r" "\"exe\":\"$PY_EXE\""
n_before=$(grep -c . "$UP/stream.log")
bnd --allow "exe=$CURL_EXE domain=ssh.test port=$P_SSH" -- \
	$PY_LINK "$STREAM_CLIENT" ssh ssh.test "$P_SSH"
lacks "a stream rule with exe=curl: python3 gets no banner" "$out" "SSH-2.0-boundarytest"
logged "... the log says it was refused" "$log" "DENY tcp://ssh\\.test:$P_SSH from python3"
check "... and the server saw no connection" test "$(grep -c . "$UP/stream.log")" = "$n_before"

# --- reload: exe= paths looked up again; one that names no file keeps the rules in force -------

CFG_DIR=$TMPDIR_T/cfg
CFG=$CFG_DIR/config.yaml
mkdir -p "$CFG_DIR"
# allow_cfg RULE: a one-rule allowlist, replacing the file through a rename.
allow_cfg() {
	printf 'allowlist:\n  - "%s"\n' "$1" >"$CFG_DIR/.config.yaml.new"
	mv "$CFG_DIR/.config.yaml.new" "$CFG"
}
cat >"$R/loop.sh" <<EOF
i=0
while [ ! -e "$R/stop" ]; do
	echo "req \$i \$($CURL -o /dev/null -w '%{http_code}' "http://up.test:$P_HTTP/echo/r\$i" 2>/dev/null)"
	i=\$((i + 1))
	sleep 0.05
done
EOF
nreq() { grep -c '^req ' "$TMPDIR_T/rl.out"; }
wait_reqs() {
	for _ in $(seq 600); do
		[ "$(nreq)" -ge "$1" ] && return 0
		sleep 0.05
	done
	return 1
}
codes_from() { grep '^req ' "$TMPDIR_T/rl.out" | tail -n +"$(($1 + 1))" | awk '{ print $3 }' | sort -u | tr '\n' ' '; }
allow_cfg "exe=$CURL_EXE domain=up.test"
BND_LOG_LEVEL=info bnd_bg rl --config "$CFG" -- sh "$R/loop.sh"
check "reload: curl is allowed under the first rules" wait_reqs 3
check "... every request (got: $(codes_from 0))" test "$(codes_from 0)" = "200 "
allow_cfg "exe=$S/gone domain=up.test"
if jail_wait_log "$TMPDIR_T/rl.log" 'rules not reloaded' 20; then
	ok "reload: a rule whose exe= names no file is refused"
else
	fail "reload: a rule whose exe= names no file is refused"
fi
logged "... saying which path" "$(cat "$TMPDIR_T/rl.log")" \
	"rules not reloaded.*exe=$S/gone: No such file or directory"
n=$(nreq)
check "... and requests go on" wait_reqs $((n + 3))
check "... under the rules in force: curl still allowed (got: $(codes_from "$n"))" \
	test "$(codes_from "$n")" = "200 "
allow_cfg "exe=$S/curl-copy domain=up.test"
jail_wait_log "$TMPDIR_T/rl.log" 'rules reloaded' 20
n=$(nreq)
check "reload: requests go on" wait_reqs $((n + 3))
check "... and the new rule, for another file, refuses curl (got: $(codes_from "$((n + 1))"))" \
	test "$(codes_from "$((n + 1))")" = "403 "
touch "$R/stop"
wait "$BND_PID"
rc=$?
check "boundary and the loop exit 0 (rc $rc)" [ "$rc" = 0 ]

# --- jail types that cannot tell the program ------------------------------------------------------
# The weak type only points the command's proxy variables at boundary: no kernel record, so an
# exe= rule matches nothing there, and boundary says so at start.

bnd --jail-type weak --allow "exe=$CURL_EXE domain=up.test" -- \
	curl -sS --max-time 20 -o /dev/null -w 'weak: %{http_code}\n' http://up.test:$P_HTTP/echo/weak
want weak 403 "--jail-type weak: an exe= rule matches no request"
logged "... and boundary warns at start" "$log" \
	"rules with exe= \(the first: exe=$CURL_EXE domain=up\.test\) match no request under --jail-type weak"

# --- errors at start --------------------------------------------------------------------------------

run_b --allow "exe=/nonexistent/curl domain=up.test" -- true
expect_rc "exe= naming no file stops boundary" 125
contains "... saying which rule and why" "$err" \
	"rule \"exe=/nonexistent/curl domain=up.test\": exe=/nonexistent/curl: No such file or directory"
run_b --allow "exe=curl domain=up.test" -- true
expect_rc "exe= with a relative path stops boundary" 125
contains "... at its column" "$err" "column 5: exe= takes an absolute path"
run_b --allow "exe=/usr domain=up.test" -- true
expect_rc "exe= naming a directory stops boundary" 125
contains "... saying so" "$err" "not a regular file"

# --- --test --exe ------------------------------------------------------------------------------------

run_b --allow "exe=$CURL_EXE domain=up.test" --test http://up.test/ --exe "$CURL_EXE"
expect_rc "--test --exe: the rule's program is allowed" 0
contains "... saying so" "$out" "ALLOW GET http://up.test/"
run_b --allow "exe=$CURL_EXE domain=up.test" --test http://up.test/ --exe "$S/curl-copy"
expect_rc "--test --exe: another file is refused" 1
run_b --allow "exe=$CURL_EXE domain=up.test" --test http://up.test/
expect_rc "--test without --exe: an exe= rule does not match" 1
run_b --allow "exe=$CURL_EXE domain=up.test" --test http://up.test/ --exe /nonexistent/prog
expect_rc "--test --exe naming no file fails" 125
contains "... saying so" "$err" "--exe /nonexistent/prog: No such file or directory"
run_b --exe "$CURL_EXE" -- true
expect_rc "--exe without --test is refused" 125
contains "... saying what it is for" "$err" "--exe says which program makes --test's requests"

done_testing
