#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# proxy.t: the proxy end to end, as root. Jailed clients (curl, python, node, git) talk to real
# HTTP and HTTPS servers on the host's loopback (tests/lib/upstream.py, with a test CA), through
# boundary: each request judged on its own by method, Host and path; refusals explained; bodies
# streamed in bounded memory; framing tricks refused; upstream failures answered.
#
# Jailed programs dial the test host's address (tests/lib/jail.sh), which the jail redirects to
# the proxy, and name the server in SNI and Host only (until the jail has DNS); boundary resolves
# the names through a hosts file of ours (tests/lib/proxy.sh). The test host must see nothing.
#
#   BOUNDARY_SHORT_TESTS=1  big transfers of 256 MiB instead of 1 GiB
#
# $CURL and $PYC are command lines (tests/lib/proxy.sh), split into words on purpose.
# shellcheck disable=SC2086
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/jail.sh"
. "$(dirname "$0")/../lib/proxy.sh"

if [ "$(id -u)" != 0 ]; then
	skip "needs root (cgroups, BPF, namespaces)"
	done_testing
	exit 0
fi

export HOME=$TMPDIR_T/home
mkdir -p "$HOME"
unset BOUNDARY_ALLOW BOUNDARY_CONFIG BOUNDARY_LOG_LEVEL BOUNDARY_LOG_DIR PROXY_PORT \
	BOUNDARY_JAIL_TYPE BOUNDARY_USER BOUNDARY_NO_USER_NAMESPACE SUDO_USER SUDO_UID SUDO_GID \
	HTTP_PROXY HTTPS_PROXY http_proxy https_proxy ALL_PROXY all_proxy NO_PROXY no_proxy
# shellcheck disable=SC2016 # expanded at exit
at_exit '"$BOUNDARY" cleanup >/dev/null 2>&1'

if ! testhost_up || ! upstream_up; then
	fail "cannot set up the test host and the upstream servers"
	done_testing
	exit 1
fi
testhost_listen "$P_HTTP"
testhost_listen "$P_HTTPS"
testhost_sniff
testhost_selftest "$P_HTTP"
# The self-test's connection may still be closing: its last packets are not the jail's.
sleep 0.5
: >"$TMPDIR_T/sniff"
: >"$TMPDIR_T/hits"

# Jailed clients write their results here: root in the jail is the host's nobody.
R=$(shared_dir r)
BIG=$((1024 * 1024 * 1024))
[ "${BOUNDARY_SHORT_TESTS:-}" = 1 ] && BIG=$((256 * 1024 * 1024))
RSS_LIMIT_KB=$((64 * 1024))
# Under ASan (make test SAN=1) freed memory waits in a quarantine (256 MiB by default) and every
# allocation has shadow and redzones: the 64 MiB bound is the plain build's to prove. The ASan
# build must still stream: 256 MiB is a quarter of the 1 GiB it moves.
ldd "$BOUNDARY" 2>/dev/null | grep -q libasan && RSS_LIMIT_KB=$((256 * 1024))
BLOCKED="🚫 Request Blocked by Boundary"
NODE=$(command -v node)
NODE_CLIENT=$STAGE/lib/node_client.js

# logline NEEDLE: the log lines of the last run that contain NEEDLE (fixed string).
logline() { grep -F -- "$1" <<<"$log"; }

# req FILE FORMAT ARGS...: writes the bytes `client.py raw` will send (printf FORMAT ARGS).
req() {
	local f=$1 fmt=$2
	shift 2
	# shellcheck disable=SC2059 # the format is the point
	printf "$fmt" "$@" >"$R/$f"
}

# statuses TEXT: the status codes of the HTTP/1.x responses in TEXT, space-separated.
statuses() { grep -aoE '^HTTP/1\.[01] [0-9]{3}' <<<"$1" | awk '{ printf "%s%s", s, $2; s = " " }'; }

# rss_watch PID: prints the highest VmRSS (kB) of PID, sampled every 50 ms until it exits.
rss_watch() {
	local max=0 r
	while [ -r "/proc/$1/status" ] && ! grep -q '^State:.*zombie' "/proc/$1/status" 2>/dev/null; do
		r=$(awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null)
		[ -n "$r" ] && [ "$r" -gt "$max" ] && max=$r
		sleep 0.05
	done
	echo "$max"
}

# --- the rule kinds, over HTTP and HTTPS ----------------------------------------------------------
# One jail, many curls; each case is judged on its status, the body (the upstream's echo or
# boundary's refusal), the log line and whether the upstream saw it.

R1="domain=up.test path=/echo/exact"
# The servers live on loopback: a wildcard rule reaches them only through an ip= that says so.
R2="domain=*.up.test ip=127.0.0.0/8,::1"
R3="method=POST domain=other.test path=/echo/api/*"
# name method host path-sent verdict server path-after-normalisation
CASES=(
	"exact GET up.test /echo/exact R1 A /echo/exact"
	"query GET up.test /echo/exact?a=1&b=2 R1 A /echo/exact?a=1&b=2"
	"exact-sub GET up.test /echo/exact/more deny - /echo/exact/more"
	"wildcard GET api.up.test /echo/wild R2 A /echo/wild"
	"wildcard-deep GET x.api.up.test /echo/wild R2 A /echo/wild"
	"wildcard-apex GET up.test /echo/apex deny - /echo/apex"
	"method-deny GET other.test /echo/api/v1 deny - /echo/api/v1"
	"method-allow POST other.test /echo/api/v1 R3 B /echo/api/v1"
	"path-deny POST other.test /echo/apiv1 deny - /echo/apiv1"
	"domain-deny GET unlisted.test /echo/x deny - /echo/x"
	"dots-allow GET up.test /echo/x/../exact R1 A /echo/exact"
	"dots-deny GET up.test /echo/exact/../../admin deny - /admin"
)
: >"$R/rules.sh"
for scheme in http https; do
	port=$P_HTTP
	[ "$scheme" = https ] && port=$P_HTTPS
	for c in "${CASES[@]}"; do
		read -r name m host path _ <<<"$c"
		data=""
		[ "$m" = POST ] && data="-d posted"
		printf '%s --path-as-is -X %s %s -o %q -w "%%{http_code} %%{content_type}" %q >%q 2>&1\n' \
			"$CURL" "$m" "$data" "$R/$scheme-$name.body" "$scheme://$host:$port$path" \
			"$R/$scheme-$name.code" >>"$R/rules.sh"
	done
done
bnd --allow "$R1" --allow "$R2" --allow "$R3" -- sh "$R/rules.sh"
for scheme in http https; do
	port=$P_HTTP
	[ "$scheme" = https ] && port=$P_HTTPS
	for c in "${CASES[@]}"; do
		read -r name m host path verdict srv npath <<<"$c"
		url="$scheme://$host:$port$npath"
		code=$(cat "$R/$scheme-$name.code")
		body=$(cat "$R/$scheme-$name.body" 2>/dev/null)
		problems=""
		if [ "$verdict" = deny ]; then
			what="$scheme $name: $m $host$path is refused"
			[ "${code%% *}" = 403 ] || problems="$problems; status/type '$code', want 403"
			case "$code" in *" text/plain"*) ;; *) problems="$problems; not text/plain" ;; esac
			for want in "$BLOCKED" "Request: $m $url" "--allow \"domain=$host\"" \
				"--allow \"method=$m domain=$host path=${npath%%\?*}\""; do
				case "$body" in *"$want"*) ;; *) problems="$problems; body lacks '$want'" ;; esac
			done
			logline "DENY $m $url from curl[" | grep -q . ||
				problems="$problems; no 'DENY $m $url from curl[PID]' log line"
			grep -qE "^[A-Z]+ $m ${npath//\?/\\?}\$" "$UP/requests.log" &&
				problems="$problems; the upstream saw it"
		else
			rule=${!verdict}
			what="$scheme $name: $m $host$path is allowed by \"$rule\""
			[ "${code%% *}" = 200 ] || problems="$problems; status '$code', want 200"
			for want in "\"server\": \"$srv\"" "\"target\": \"$npath\"" "\"method\": \"$m\""; do
				case "$body" in *"$want"*) ;; *) problems="$problems; upstream echo lacks '$want'" ;; esac
			done
			logline "ALLOW $m $url from curl[" | grep -qF "(rule: $rule)" ||
				problems="$problems; no 'ALLOW $m $url from curl[PID] (rule: $rule)' log line"
		fi
		if [ -z "$problems" ]; then ok "$what"; else
			fail "$what"
			diag "${problems#; }" "status: $code" "body: $(head -c 600 "$R/$scheme-$name.body" 2>/dev/null)"
		fi
	done
done
contains "the query reaches the upstream" "$(cat "$R/https-query.body")" '"query": "a=1&b=2"'

# --- clients ---------------------------------------------------------------------------------------

bnd --allow "domain=up.test" -- sh -c "
	$PYC urllib https://up.test:$P_HTTPS/echo/urllib >$R/urllib.get
	$PYC urllib http://up.test:$P_HTTP/echo/urllib-post POST data >$R/urllib.post
	$PYC urllib https://other.test:$P_HTTPS/echo/urllib-denied >$R/urllib.denied
	$PYC httpclient https://up.test:$P_HTTPS/echo/httpclient 20 >$R/httpclient"
o=$(cat "$R/urllib.get")
if [[ "$o" == "status 200"* && "$o" == *'"server": "A"'* && "$o" == *'Python-urllib'* ]]; then
	ok "python urllib: HTTPS GET allowed, served by up.test"
else
	fail "python urllib: HTTPS GET allowed, served by up.test"
	diag "$o" "$log"
fi
o=$(cat "$R/urllib.post")
if [[ "$o" == "status 200"* && "$o" == *'"method": "POST"'* && "$o" == *'"body_len": 4,'* ]]; then
	ok "python urllib: HTTP POST with a body allowed"
else
	fail "python urllib: HTTP POST with a body allowed"
	diag "$o"
fi
o=$(cat "$R/urllib.denied")
if [[ "$o" == "status 403"*"$BLOCKED"* ]] &&
	logline "DENY GET https://other.test:$P_HTTPS/echo/urllib-denied from python3[" | grep -q .; then
	ok "python urllib: a denied request gets 403 and a DENY line naming python3"
else
	fail "python urllib: a denied request gets 403 and a DENY line naming python3"
	diag "$o" "$log"
fi
o=$(cat "$R/httpclient")
n200=$(grep -c '^status 200$' <<<"$o")
if [ "$n200" = 20 ] && grep -qx "connects 1" <<<"$o"; then
	ok "python http.client: 20 keep-alive requests, all 200, one connection"
else
	fail "python http.client: 20 keep-alive requests, all 200, one connection ($n200 ok)"
	diag "$o"
fi

if [ -z "$NODE" ]; then
	skip "node is not installed (Debian package nodejs)"
	skip "node is not installed (Debian package nodejs)"
else
	before=$(conns A)
	bnd --allow "domain=up.test" -- "$NODE" "$NODE_CLIENT" agent up.test "$P_HTTPS" 100
	made=$(($(conns A) - before))
	allows=$(logline "ALLOW GET https://up.test:$P_HTTPS/echo/node?i=" | grep -c " from node\[")
	if grep -qx "ok 100" <<<"$out" && [ "$allows" = 100 ]; then
		ok "node https.Agent({keepAlive}): 100 sequential requests, 100 answers, 100 ALLOW lines"
	else
		fail "node https.Agent({keepAlive}): 100 sequential requests, 100 answers, 100 ALLOW lines"
		diag "node: $out" "ALLOW lines from node: $allows" "$(tail -5 <<<"$log")"
	fi
	sockets=$(awk '$1 == "sockets" { print $2 }' <<<"$out")
	if [ -n "$sockets" ] && [ "$sockets" -le 2 ] && [ "$made" -le 2 ]; then
		ok "node keep-alive: $sockets client connection(s), $made upstream connection(s) for 100 requests"
	else
		fail "node keep-alive: few connections for 100 requests (client ${sockets:-?}, upstream $made)"
	fi
fi
# One upstream connection serves clients one after another (the proxy's idle pool).
before=$(conns A)
bnd --allow "domain=up.test" -- sh -c \
	"for i in 1 2 3 4; do $CURL -o /dev/null -w '%{http_code} ' https://up.test:$P_HTTPS/echo/pool\$i; done"
made=$(($(conns A) - before))
if [ "$out" = "200 200 200 200 " ] && [ "$made" = 1 ]; then
	ok "four curl processes in a row: one upstream connection, kept idle between them"
else
	fail "four curl processes in a row share one upstream connection"
	diag "statuses: $out" "upstream connections made: $made"
fi

# Head starts: the upstream connection is opened during the client's TLS handshake, but only to
# a name a rule allows by name. A client that shakes hands and says nothing shows which.
for case in "domain=up.test|up.test|1|a rule naming it" "domain=*|up.test|0|only a wildcard rule" \
	"domain=other.test|up.test|0|no rule"; do
	IFS='|' read -r rule sni want why <<<"$case"
	before=$(conns A)
	bnd --allow "$rule" -- $PYC hello "$P_HTTPS" "$sni"
	sleep 0.3
	made=$(($(conns A) - before))
	if [ "$(result handshake)" = done ] && [ "$made" = "$want" ]; then
		ok "head start: a handshake for $sni under $why opens $want upstream connection(s) before any request"
	else
		fail "head start: a handshake for $sni under $why opens $want upstream connection(s) before any request"
		diag "made: $made" "out: $out" "$(tail -5 <<<"$log")"
	fi
done
# A refused request to a host a rule names: its head start reached the server, the request not.
before=$(conns A)
bnd --allow "domain=up.test path=/ok/*" -- $CURL -o /dev/null -w '%{http_code}' \
	"https://up.test:$P_HTTPS/echo/head-start-refused"
made=$(($(conns A) - before))
if [ "$out" = 403 ] && [ "$made" = 1 ] && ! upstream_requests | grep -q head-start-refused; then
	ok "head start: a refused path gets 403, and the upstream saw a connection but no request"
else
	fail "head start: a refused path gets 403, and the upstream saw a connection but no request"
	diag "status: $out" "made: $made" "$(upstream_requests | grep head-start || true)"
fi

# A keep-alive client idle for over a second gives its upstream connection back to the pool
# (memory: an idle upstream TLS connection is about 17 KiB): another process is served on it
# meanwhile, and the idle client's next request still works.
before=$(conns A)
bnd --allow "domain=up.test" -- python3 "$STAGE/lib/idle_client.py" "$P_HTTPS" "$CURL"
made=$(($(conns A) - before))
if [ "$(result first)" = 200 ] && [ "$(result other)" = 200 ] && [ "$(result again)" = 200 ] &&
	[ "$made" = 1 ]; then
	ok "an idle keep-alive client lends its upstream connection to another process, then is served again"
else
	fail "an idle keep-alive client lends its upstream connection to another process, then is served again"
	diag "out: $out" "upstream connections made: $made"
fi

if [ -z "$NODE" ]; then
	skip "node is not installed (Debian package nodejs)"
else
	if "$NODE" -e 'process.exit(typeof fetch === "function" ? 0 : 1)'; then
		bnd --allow "domain=up.test" -- sh -c "
			$NODE $NODE_CLIENT fetch https://up.test:$P_HTTPS/echo/fetch
			$NODE $NODE_CLIENT fetch https://other.test:$P_HTTPS/echo/fetch-denied"
		if [[ "$out" == "status 200"*'"server": "A"'*"status 403"*"$BLOCKED"* ]]; then
			ok "node fetch: allowed 200 from up.test, denied 403"
		else
			fail "node fetch: allowed 200 from up.test, denied 403"
			diag "$out"
		fi
	else
		skip "node $("$NODE" --version) has no fetch (needs node >= 18)"
	fi
fi

# git clone over smart HTTP (git http-backend behind the upstream), and a refused one.
if command -v git >/dev/null && [ -x "$(git --exec-path)/git-http-backend" ]; then
	(
		export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@t GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@t
		git init -q -b main "$R/src" && cd "$R/src" &&
			for i in 1 2 3; do
				head -c 200000 /dev/urandom >"f$i" && git add "f$i" && git commit -qm "commit $i"
			done &&
			git clone -q --bare "$R/src" "$UP/git/repo.git"
	) >/dev/null 2>&1
	want=$(git -C "$R/src" rev-parse HEAD)
	bnd --allow "method=GET,POST domain=up.test path=/git/*" -- sh -c "
		cd $R || exit
		git -c http.curloptResolve=up.test:$P_HTTPS:$TH4 clone -q \
			https://up.test:$P_HTTPS/git/repo.git $R/clone 2>&1
		git -C $R/clone rev-parse HEAD
		git -c http.curloptResolve=other.test:$P_HTTPS:$TH4 ls-remote \
			https://other.test:$P_HTTPS/git/repo.git 2>&1; echo ls-remote exit \$?"
	# The clone belongs to the jail's root, the host's nobody: git here must be told it is ours.
	hgit() { git -c safe.directory="$R/clone" -C "$R/clone" "$@"; }
	if [ "$(hgit rev-parse HEAD 2>/dev/null)" = "$want" ] &&
		[ "$(hgit rev-list --count HEAD)" = 3 ] &&
		logline "ALLOW POST https://up.test:$P_HTTPS/git/repo.git/git-upload-pack from git-remote-http" | grep -q .; then
		ok "git clone over HTTPS through the proxy: same HEAD, 3 commits, POST upload-pack allowed"
	else
		fail "git clone over HTTPS through the proxy"
		diag "$out" "$log"
	fi
	if [[ "$out" == *"403"* && "$out" == *"ls-remote exit 128"* ]] &&
		logline "DENY GET https://other.test:$P_HTTPS/git/repo.git/info/refs?service=git-upload-pack" | grep -q .; then
		ok "git ls-remote to a denied host fails with 403"
	else
		fail "git ls-remote to a denied host fails with 403"
		diag "$out"
	fi
else
	skip "git or git-http-backend is not installed"
	skip "git or git-http-backend is not installed"
fi

# --- explicit proxy (--proxy-port): absolute-form and CONNECT ---------------------------------------

PP=18080
before_b=$(conns B)
bnd --proxy-port "$PP" --allow "domain=up.test" -- sh -c "
	curl -sS --max-time 20 -x http://127.0.0.1:$PP -w ' %{http_code}' http://up.test:$P_HTTP/echo/absolute >$R/x.abs 2>&1
	curl -sS --max-time 20 -x http://127.0.0.1:$PP -w ' %{http_code}' https://up.test:$P_HTTPS/echo/connect >$R/x.connect 2>&1
	curl -sS --max-time 20 -x http://127.0.0.1:$PP -o /dev/null -w '%{http_connect}' https://other.test:$P_HTTPS/echo/connect-denied >$R/x.denied 2>&1"
o=$(cat "$R/x.abs")
if [[ "$o" == *'"target": "/echo/absolute"'*'"server": "A"'*" 200" ]]; then
	ok "explicit proxy: absolute-form GET http://up.test/... is served (origin-form upstream)"
else
	fail "explicit proxy: absolute-form GET http://up.test/... is served"
	diag "$o" "$log"
fi
o=$(cat "$R/x.connect")
if [[ "$o" == *'"sni": "up.test"'*'"server": "A"'*" 200" ]] &&
	logline "ALLOW CONNECT up.test:$P_HTTPS" | grep -q . &&
	logline "ALLOW GET https://up.test:$P_HTTPS/echo/connect" | grep -q .; then
	ok "explicit proxy: CONNECT up.test, then the inner GET judged and served"
else
	fail "explicit proxy: CONNECT up.test, then the inner GET judged and served"
	diag "$o" "$log"
fi
o=$(cat "$R/x.denied")
if [[ "$o" == *"403" ]] && [ "$(conns B)" = "$before_b" ] &&
	logline "DENY CONNECT other.test:$P_HTTPS" | grep -q .; then
	ok "explicit proxy: CONNECT to a denied host gets 403, and other.test sees nothing"
else
	fail "explicit proxy: CONNECT to a denied host gets 403, and other.test sees nothing"
	diag "curl: $o" "$log"
fi

# --- keep-alive and pipelining --------------------------------------------------------------------

for scheme in http https; do
	port=$P_HTTP
	[ "$scheme" = https ] && port=$P_HTTPS
	bnd --allow "domain=up.test path=/echo/ok/*" -- $CURL -o /dev/null -o /dev/null -o /dev/null \
		-w '%{http_code} %{num_connects}\n' "$scheme://up.test:$port/echo/ok/1" \
		"$scheme://up.test:$port/echo/denied" "$scheme://up.test:$port/echo/ok/2"
	got=$(tr '\n' ' ' <<<"$out")
	got=${got% }
	if [ "$got" = "200 1 403 0 200 0" ]; then
		ok "$scheme keep-alive: allowed, denied, allowed on one curl connection ($got)"
	else
		fail "$scheme keep-alive: allowed, denied, allowed on one curl connection"
		diag "code/num_connects: $got (want 200 1 403 0 200 0)" "$log"
	fi
done

for scheme in http https; do
	port=$P_HTTP tls=""
	[ "$scheme" = https ] && port=$P_HTTPS tls="--tls up.test"
	bnd --allow "domain=up.test" --allow "domain=other.test" -- $PYC seq $tls "$port" \
		"up.test:$port" /echo/s1 "unlisted.test:$port" /echo/s2 "other.test:$port" /echo/s3 \
		"up.test:$port" /echo/s4
	want="200 A /echo/s1
403 - /echo/s2
200 B /echo/s3
200 A /echo/s4
connects 1"
	if [ "$out" = "$want" ]; then
		ok "$scheme: one connection, four Hosts: each judged and routed by its own Host"
	else
		fail "$scheme: one connection, four Hosts: each judged and routed by its own Host"
		diag "got: $out" "want: $want" "$log"
	fi
done

for scheme in http https; do
	port=$P_HTTP tls=""
	[ "$scheme" = https ] && port=$P_HTTPS tls="--tls up.test"
	# A refused request's body (Content-Length, then chunked) is skipped, not taken for a request.
	req pipe 'GET /echo/p1 HTTP/1.1\r\nHost: up.test:%s\r\n\r\nPOST /nope HTTP/1.1\r\nHost: up.test:%s\r\nContent-Length: 45\r\n\r\nGET /echo/in-body HTTP/1.1\r\nHost: up.test\r\n\r\nPOST /nope HTTP/1.1\r\nHost: up.test:%s\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\nGET /echo/p4 HTTP/1.1\r\nHost: up.test:%s\r\n\r\n' \
		"$port" "$port" "$port" "$port"
	bnd --allow "domain=up.test path=/echo/*" -- env RAW_QUIET=1 $PYC raw $tls "$port" "$R/pipe"
	got=$(statuses "$out")
	order=$(grep -oE '"target": "[^"]*"' <<<"$out" | tr '\n' ' ')
	if [ "$got" = "200 403 403 200" ] && [ "$order" = '"target": "/echo/p1" "target": "/echo/p4" ' ]; then
		ok "$scheme pipelining: four requests in one write, answered in order (200 403 403 200), refused bodies skipped"
	else
		fail "$scheme pipelining: four requests in one write, answered in order, refused bodies skipped"
		diag "statuses: $got (want 200 403 403 200)" "targets: $order" "$out"
	fi
done

# A response to HEAD has no body, boundary's own 403 included; else the next response is garbled.
req headdeny 'HEAD /nope HTTP/1.1\r\nHost: up.test:%s\r\n\r\nGET /echo/after-head HTTP/1.1\r\nHost: up.test:%s\r\n\r\n' \
	"$P_HTTP" "$P_HTTP"
bnd --allow "domain=up.test path=/echo/*" -- env RAW_QUIET=1 $PYC raw "$P_HTTP" "$R/headdeny"
got=$(statuses "$out")
if [ "$got" = "403 200" ] && [[ "$out" != *"$BLOCKED"* && "$out" == *'"target": "/echo/after-head"'* ]]; then
	ok "a refused HEAD gets a 403 without a body, and the next request on the connection works"
else
	fail "a refused HEAD gets a 403 without a body, and the next request on the connection works"
	diag "statuses: $got" "$out"
fi

# HEAD, 204 and 304 have no body: the next response on the connection must still be found.
req frame 'HEAD /bytes/1000 HTTP/1.1\r\nHost: up.test:%s\r\n\r\nGET /status/204 HTTP/1.1\r\nHost: up.test:%s\r\n\r\nGET /status/304 HTTP/1.1\r\nHost: up.test:%s\r\n\r\nGET /echo/after HTTP/1.1\r\nHost: up.test:%s\r\n\r\n' \
	"$P_HTTPS" "$P_HTTPS" "$P_HTTPS" "$P_HTTPS"
bnd --allow "domain=up.test" -- sh -c "RAW_QUIET=1 $PYC raw --tls up.test $P_HTTPS $R/frame;
	$CURL -L -w ' %{http_code} %{num_redirects}' https://up.test:$P_HTTPS/redirect"
got=$(statuses "$out")
if [[ "$got" == "200 204 304 200"* && "$out" == *'"target": "/echo/after"'* ]]; then
	ok "HEAD, 204 and 304 framing: the response after them arrives intact"
else
	fail "HEAD, 204 and 304 framing: the response after them arrives intact"
	diag "statuses: $got" "$out"
fi
if [[ "$out" == *'"target": "/echo/redirected"'*" 200 1" ]]; then
	ok "a 302 is passed through and curl -L follows it"
else
	fail "a 302 is passed through and curl -L follows it"
	diag "$out"
fi

# --- streaming --------------------------------------------------------------------------------------

want_sha=$(python3 "$UPSTREAM_PY" sha "$BIG")
mib=$((BIG / 1024 / 1024))

# big_case SCHEME download|upload: one transfer of $BIG bytes, checksummed, with boundary's RSS
# sampled throughout.
big_case() {
	local scheme=$1 dir=$2 port=$P_HTTP what got rss t0 t1 bug=""
	[ "$scheme" = https ] && port=$P_HTTPS
	what="$scheme $dir of $mib MiB"
	t0=$(date +%s.%N)
	if [ "$dir" = download ]; then
		bnd_bg big --allow "domain=up.test" -- sh -c \
			"$CURL --max-time 120 $scheme://up.test:$port/bytes/$BIG 2>$R/big.err | sha256sum; cat $R/big.err"
	else
		bnd_bg big --allow "domain=up.test" -- $PYC upload "$scheme://up.test:$port/upload" "$BIG"
	fi
	rss=$(rss_watch "$BND_PID")
	wait "$BND_PID"
	t1=$(date +%s.%N)
	out=$(cat "$TMPDIR_T/big.out")
	log=$(cat "$TMPDIR_T/big.log")
	if [ "$dir" = download ]; then
		got=$(awk '/  -$/ { print $1 }' <<<"$out")
	else
		got=$(grep -oE '"body_sha256": "[0-9a-f]+"' <<<"$out" | cut -d'"' -f4)
	fi
	diag "$what: $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f s", b - a }'), boundary's peak RSS $((rss / 1024)) MiB"
	if [ "$got" = "$want_sha" ]; then
		ok "$what: the sha256 matches"
	else
		fail "$what: the sha256 matches"
		diag "got '${got:-nothing}', want $want_sha" "$out" "$(tail -5 <<<"$log")"
	fi
	if [ "$rss" -gt 0 ] && [ "$rss" -le "$RSS_LIMIT_KB" ]; then
		ok "$what: boundary's RSS stays under $((RSS_LIMIT_KB / 1024)) MiB (peak $((rss / 1024)) MiB)"
	else
		fail "$what: boundary's RSS stays under $((RSS_LIMIT_KB / 1024)) MiB (peak ${rss} kB)"
	fi
	return 0
}
big_case http download
big_case http upload
big_case https download
big_case https upload

bnd --allow "domain=up.test" -- sh -c "
	$CURL https://up.test:$P_HTTPS/chunked?n=500 >$R/chunked.down
	$PYC upload https://up.test:$P_HTTPS/upload 4194304 chunked >$R/chunked.up
	python3 $UPSTREAM_PY gen 3000000 | $CURL -T - -H 'Content-Type: application/octet-stream' \
		https://up.test:$P_HTTPS/upload >$R/chunked.curl"
if [ "$(seq 0 499 | sed 's/^/chunk /' | sha256sum)" = "$(sha256sum <"$R/chunked.down")" ]; then
	ok "chunked response: 500 chunks arrive intact"
else
	fail "chunked response: 500 chunks arrive intact"
	diag "got $(wc -l <"$R/chunked.down") lines" "$log"
fi
o=$(cat "$R/chunked.up")
if [[ "$o" == *'"body_len": 4194304,'* && "$o" == *"$(python3 "$UPSTREAM_PY" sha 4194304)"* &&
	"$o" == *'"Transfer-Encoding", "chunked"'* ]]; then
	ok "chunked request body (4 MiB, python): the upstream gets every byte, chunked"
else
	fail "chunked request body (4 MiB, python): the upstream gets every byte, chunked"
	diag "$o"
fi
o=$(cat "$R/chunked.curl")
if [[ "$o" == *'"body_len": 3000000,'* && "$o" == *"$(python3 "$UPSTREAM_PY" sha 3000000)"* ]]; then
	ok "chunked request body (curl -T -): the upstream gets every byte"
else
	fail "chunked request body (curl -T -): the upstream gets every byte"
	diag "$o"
fi

# SSE: 4 events 400 ms apart must arrive one by one, not at the end.
bnd --allow "domain=up.test" -- $PYC sse "https://up.test:$P_HTTPS/sse?n=4&gap=400"
times=$(awk '$1 == "event" { printf "%s ", $2 }' <<<"$out")
if awk -v t="$times" 'BEGIN {
	n = split(t, a, " "); if (n != 4) exit 1
	if (a[1] > 0.35) exit 1
	for (i = 2; i <= n; i++) { d = a[i] - a[i-1]; if (d < 0.25 || d > 0.9) exit 1 }
}'; then
	ok "SSE: 4 events arrive one by one, about 400 ms apart (at $times s)"
else
	fail "SSE: 4 events arrive one by one, about 400 ms apart"
	diag "arrivals: ${times:-none}" "$out"
fi

for scheme in ws wss; do
	port=$P_HTTP
	[ "$scheme" = wss ] && port=$P_HTTPS
	bnd --allow "domain=up.test path=/ws" -- $PYC ws "$scheme://up.test:$port/ws"
	want="HTTP/1.1 101 Switching Protocols
accept ok
text ok
binary ok
pong ok
close ok"
	if [ "$out" = "$want" ] && logline "ALLOW GET http${scheme#ws}://up.test:$port/ws" | grep -q .; then
		ok "WebSocket over $scheme: upgrade allowed, text, 300 kB binary, ping and close echoed"
	else
		fail "WebSocket over $scheme: upgrade allowed, text, 300 kB binary, ping and close echoed"
		diag "$out" "$(tail -3 <<<"$log")"
	fi
done
bnd --allow "domain=up.test path=/echo/*" -- $PYC ws "wss://up.test:$P_HTTPS/ws-denied"
if [ "$out" = "HTTP/1.1 403 Forbidden" ] && ! grep -q "/ws-denied" "$UP/requests.log"; then
	ok "WebSocket: an upgrade the rules do not allow gets 403 and never reaches the upstream"
else
	fail "WebSocket: an upgrade the rules do not allow gets 403 and never reaches the upstream"
	diag "$out"
fi

bnd --allow "domain=up.test path=/upload" --allow "domain=up.test path=/status/*" -- sh -c "
	$PYC expect https://up.test:$P_HTTPS/upload 2000000
	$PYC expect https://up.test:$P_HTTPS/echo/expect-denied 2000000
	$PYC expect https://up.test:$P_HTTPS/status/417 2000000"
if [[ "$out" == "first HTTP/1.1 100 Continue"*"HTTP/1.1 200 OK"*"$(python3 "$UPSTREAM_PY" sha 2000000)"* ]]; then
	ok "Expect: 100-continue: the upstream's 100 reaches the client, then the body goes through"
else
	fail "Expect: 100-continue: the upstream's 100 reaches the client, then the body goes through"
	diag "$out"
fi
if [[ "$out" == *"first HTTP/1.1 403 Forbidden"*"$BLOCKED"* ]] && ! grep -q "/echo/expect-denied" "$UP/requests.log"; then
	ok "Expect: 100-continue on a denied request: 403 at once, no 100, nothing forwarded"
else
	fail "Expect: 100-continue on a denied request: 403 at once, no 100, nothing forwarded"
	diag "$out"
fi
if [[ "$out" == *"first HTTP/1.1 417 Expectation Failed"* ]]; then
	ok "Expect: 100-continue refused by the upstream: its 417 reaches the client"
else
	fail "Expect: 100-continue refused by the upstream: its 417 reaches the client"
	diag "$out"
fi

# --- smuggling and confusion ------------------------------------------------------------------------

req clte 'POST /echo/clte HTTP/1.1\r\nHost: up.test:%s\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /echo/smuggled-clte HTTP/1.1\r\nHost: up.test:%s\r\n\r\n' \
	"$P_HTTPS" "$P_HTTPS"
req tecl 'POST /echo/tecl HTTP/1.1\r\nHost: up.test:%s\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n5c\r\nGET /echo/smuggled-tecl HTTP/1.1\r\nHost: up.test:%s\r\nContent-Length: 15\r\n\r\nx=1\r\n0\r\n\r\n' \
	"$P_HTTP" "$P_HTTP"
req dcl 'POST /echo/dcl HTTP/1.1\r\nHost: up.test:%s\r\nContent-Length: 3\r\nContent-Length: 40\r\n\r\nabcGET /echo/smuggled-dcl HTTP/1.1\r\nHost: up.test:%s\r\n\r\n' \
	"$P_HTTP" "$P_HTTP"
req abs 'GET http://up.test:%s/echo/abs HTTP/1.1\r\nHost: other.test:%s\r\n\r\n' "$P_HTTP" "$P_HTTP"
req absd 'GET http://other.test:%s/echo/absd HTTP/1.1\r\nHost: up.test:%s\r\n\r\n' "$P_HTTP" "$P_HTTP"
req connect 'CONNECT other.test:%s HTTP/1.1\r\nHost: other.test:%s\r\n\r\n' "$P_HTTPS" "$P_HTTPS"
req nohost10 'GET /echo/nohost10 HTTP/1.0\r\n\r\n'
req nohost11 'GET /echo/nohost11 HTTP/1.1\r\n\r\n'
req nohosttls 'GET /echo/nohosttls HTTP/1.0\r\n\r\n'
before_b=$(conns B)
bnd --allow "domain=up.test" -- sh -c "
	export RAW_QUIET=1
	$PYC raw --tls up.test $P_HTTPS $R/clte >$R/o.clte
	$PYC raw $P_HTTP $R/tecl >$R/o.tecl
	$PYC raw $P_HTTP $R/dcl >$R/o.dcl
	$PYC raw $P_HTTP $R/abs >$R/o.abs
	$PYC raw $P_HTTP $R/absd >$R/o.absd
	$PYC raw $P_HTTP $R/connect >$R/o.connect
	$PYC raw $P_HTTP $R/nohost10 >$R/o.nohost10
	$PYC raw $P_HTTP $R/nohost11 >$R/o.nohost11
	$PYC raw --tls - $P_HTTPS $R/nohosttls >$R/o.nohosttls
	$CURL -o $R/o.sni1 -w '%{http_code}' https://other.test:$P_HTTPS/echo/sni1 -H 'Host: up.test:$P_HTTPS' >$R/c.sni1
	$CURL -o $R/o.sni2 -w '%{http_code}' https://up.test:$P_HTTPS/echo/sni2 -H 'Host: other.test:$P_HTTPS' >$R/c.sni2"

# framing CASE WHAT PATTERN: the raw case got 400 naming WHAT, and nothing matching PATTERN
# reached the upstream.
framing() {
	local o
	o=$(cat "$R/o.$1")
	if [ "$(statuses "$o")" = 400 ] && [[ "$o" == *"$2"* ]] && ! grep -qE -- "$3" "$UP/requests.log"; then
		ok "$1: 400 \"$2\", nothing forwarded"
	else
		fail "$1: 400 \"$2\", nothing forwarded"
		diag "response: $o" "upstream saw: $(grep -E -- "$3" "$UP/requests.log" | tr '\n' ';')"
	fi
}
framing clte "Content-Length and Transfer-Encoding together" "/echo/(clte|smuggled)"
framing tecl "Content-Length and Transfer-Encoding together" "/echo/(tecl|smuggled)"
framing dcl "more than one Content-Length" "/echo/(dcl|smuggled)"
framing abs "Host header differs from the host in the request target" "/echo/abs$"
framing absd "Host header differs from the host in the request target" "/echo/absd$"
framing nohost11 "without a Host header" "/echo/nohost11"
if grep -q "refused a malformed request from python3\[[0-9]*\]: Content-Length and Transfer-Encoding" <<<"$log"; then
	ok "a refused smuggling attempt is logged with the process"
else
	fail "a refused smuggling attempt is logged with the process"
fi

o=$(cat "$R/o.connect")
if [ "$(statuses "$o")" = 403 ] && [[ "$o" == *"Request: CONNECT other.test:$P_HTTPS"* ]] &&
	[ "$(conns B)" = "$before_b" ] && logline "DENY CONNECT other.test:$P_HTTPS from python3[" | grep -q .; then
	ok "CONNECT to a denied host (sent to the redirected address): 403, other.test sees nothing"
else
	fail "CONNECT to a denied host (sent to the redirected address): 403, other.test sees nothing"
	diag "$o"
fi

for c in nohost10 nohosttls; do
	o=$(cat "$R/o.$c")
	if [ "$(statuses "$o")" = 403 ] && [[ "$o" == *"names no host"* ]] &&
		! grep -q "/echo/$c" "$UP/requests.log"; then
		ok "$c: a request without Host (HTTP/1.0$([ $c = nohosttls ] && echo ', TLS without SNI')) gets 403 \"names no host\""
	else
		fail "$c: a request without Host gets 403 \"names no host\""
		diag "$o"
	fi
done
o=$(cat "$R/o.nohost10")
if [[ "$o" == *'--allow "domain="'* ]]; then
	fail "the 403 for a request without a host suggests no --allow line that cannot parse"
	diag "$o"
else
	ok "the 403 for a request without a host suggests no --allow line that cannot parse"
fi

o=$(cat "$R/o.sni1")
if [ "$(cat "$R/c.sni1")" = 200 ] && [[ "$o" == *'"server": "A"'* && "$o" == *'"sni": "up.test"'* ]]; then
	ok "SNI other.test, Host up.test (allowed): routed by Host to up.test, upstream SNI up.test"
else
	fail "SNI other.test, Host up.test (allowed): routed by Host to up.test, upstream SNI up.test"
	diag "status $(cat "$R/c.sni1")" "$o"
fi
o=$(cat "$R/o.sni2")
if [ "$(cat "$R/c.sni2")" = 403 ] && [[ "$o" == *"Request: GET https://other.test:$P_HTTPS/echo/sni2"* ]] &&
	! grep -q "/echo/sni2" "$UP/requests.log" && [ "$(conns B)" = "$before_b" ]; then
	ok "SNI up.test (allowed), Host other.test (denied): 403, neither server sees it"
else
	fail "SNI up.test (allowed), Host other.test (denied): 403, neither server sees it"
	diag "status $(cat "$R/c.sni2")" "$o"
fi
bnd --allow "domain=up.test" --allow "domain=other.test" -- \
	$CURL https://up.test:$P_HTTPS/echo/sni3 -H "Host: other.test:$P_HTTPS"
if [[ "$out" == *'"server": "B"'* && "$out" == *'"sni": "other.test"'* ]]; then
	ok "SNI up.test, Host other.test (both allowed): served by other.test, never by the SNI's server"
else
	fail "SNI up.test, Host other.test (both allowed): served by other.test, never by the SNI's server"
	diag "$out"
fi

# A client that reconnects resumes its TLS session (one ticket per connection), and a resumed
# connection's requests are judged like any other's.
bnd --allow "domain=up.test" -- sh -c "
	printf 'GET /echo/t1 HTTP/1.1\r\nHost: up.test:$P_HTTPS\r\nConnection: close\r\n\r\n' |
		openssl s_client -connect $TH4:$P_HTTPS -servername up.test -sess_out $R/sess.pem \
		-ign_eof >$R/t1 2>/dev/null
	printf 'GET /echo/t2 HTTP/1.1\r\nHost: other.test:$P_HTTPS\r\nConnection: close\r\n\r\n' |
		openssl s_client -connect $TH4:$P_HTTPS -servername up.test -sess_in $R/sess.pem \
		-ign_eof >$R/t2 2>/dev/null"
if grep -q '^New, TLS' "$R/t1" && grep -q '^HTTP/1.1 200' "$R/t1" &&
	grep -q '^Reused, TLS' "$R/t2" && grep -q '^HTTP/1.1 403' "$R/t2"; then
	ok "a reconnecting client resumes its TLS session; the resumed connection is still judged by Host"
else
	fail "a reconnecting client resumes its TLS session; the resumed connection is still judged by Host"
	diag "first: $(grep -E '^(New|Reused)|^HTTP' "$R/t1" | tr '\n' ' ')" \
		"second: $(grep -E '^(New|Reused)|^HTTP' "$R/t2" | tr '\n' ' ')"
fi

# --- upstream failures ------------------------------------------------------------------------------

bnd --allow "domain=*.test ip=127.0.0.0/8" -- sh -c "
	$CURL -w ' %{http_code}' https://down.test:$P_DOWN/echo/down >$R/f.down
	$CURL -w ' %{http_code}' http://down.test:$P_DOWN/echo/down >$R/f.down-http
	$CURL -w ' %{http_code}' https://bad.test:$P_BAD/echo/bad >$R/f.bad
	$CURL -w ' %{http_code}' https://nx.test:$P_HTTPS/echo/nx >$R/f.nx
	$CURL -o /dev/null -w '%{http_code}' https://up.test:$P_HTTPS/slow >$R/f.slow &
	sleep 1
	for i in 1 2 3; do
		$CURL -o /dev/null -w '%{http_code} %{time_total}\n' https://up.test:$P_HTTPS/echo/while-slow
	done >$R/f.during
	kill \$! 2>/dev/null"
failure_case() {
	local o
	o=$(cat "$R/f.$1")
	if [[ "$o" == *"$2"*" 502" ]] && logline "$3" | grep -q "502: $2"; then
		ok "$4: 502 \"$2\" in the body and the log"
	else
		fail "$4: 502 \"$2\" in the body and the log"
		diag "response: $o" "$(logline "$3")"
	fi
}
failure_case down "cannot connect to down.test port $P_DOWN: Connection refused" \
	"GET https://down.test:$P_DOWN/echo/down from curl[" "upstream down (HTTPS)"
failure_case down-http "cannot connect to down.test port $P_DOWN: Connection refused" \
	"GET http://down.test:$P_DOWN/echo/down from curl[" "upstream down (HTTP)"
failure_case bad "TLS with bad.test failed: certificate verify failed" "GET https://bad.test:$P_BAD/echo/bad from curl[" \
	"upstream certificate from another CA"
failure_case nx "cannot resolve nx.test" "GET https://nx.test:$P_HTTPS/echo/nx from curl[" \
	"upstream name that does not resolve"
o=$(cat "$R/f.during")
if [ "$(awk '$1 == 200 && $2 < 5' <<<"$o" | wc -l)" = 3 ] && grep -q "^A GET /slow$" "$UP/requests.log"; then
	ok "while one request hangs on a silent upstream, others are served at once"
else
	fail "while one request hangs on a silent upstream, others are served at once"
	diag "$o"
fi
# An upstream that never answers: 504 once --upstream-timeout runs out, with the cause said.
t0=$(date +%s)
bnd --allow "domain=up.test" --upstream-timeout 2 -- \
	$CURL -w ' %{http_code}' https://up.test:$P_HTTPS/slow
t1=$(date +%s)
if [[ "$out" == *"did not answer in time"*" 504" ]] && [ $((t1 - t0)) -lt 15 ] &&
	grep -q "504: the upstream did not answer in time" <<<"$log"; then
	ok "an upstream that never answers gets 504 after --upstream-timeout (2 s), cause in body and log"
else
	fail "an upstream that never answers gets 504 after --upstream-timeout"
	diag "response: $out" "took $((t1 - t0)) s" "$(tail -3 <<<"$log")"
fi

# --- nothing left the jail ------------------------------------------------------------------------

testhost_quiet "the test host saw none of the jailed connections (all went through the proxy)"

done_testing
