#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# secret_review.t: the findings of a review of --secret (issue 16), as root: what must hold, each
# check written to fail on the code the review read (controls show the setup worked). The real value must never reach another
# host: not in what was left in boundary's buffers when an exchange with the bound host ended and
# the client's next request went elsewhere. It must never reach the jail: not in Basic
# credentials the bound host quotes back, nor its status line, nor through a 101 tunnel, nor in
# bytes past its answer read as another host's answer; nor a log line. A placeholder must not
# reach a host it is not bound to, nor that host any of the request: in Basic credentials without
# padding, in the body of a request with Upgrade fields, behind Expect: 100-continue. A response
# from the bound host must come through whole whatever the secrets' lengths.
# The upstreams are tests/lib/upstream.py and listeners on 127.0.0.1 (tests/lib/secret_review.py
# and record_listener.py): one that quotes the Authorization field it got in odd places (its
# status line, a head field, a tunnel, past its answer), one that answers before it reads a body,
# and recording ones.
# No value is ever printed: every look for one is a quiet grep.
#
# $CURL and $PYC are command lines (tests/lib/proxy.sh), split into words on purpose.
# shellcheck disable=SC2086
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/jail.sh"
. "$(dirname "$0")/../lib/proxy.sh"
proxy_suite
R=$(shared_dir r)
ECHO=$UP/echo.log
VALUE="sk-review-$(openssl rand -hex 16)"
echo_of() { grep -F "\"path\": \"$1\"" "$ECHO" | tail -n 1; }
has() { grep -qF -- "$2" "$1" 2>/dev/null; }
hasnt() { ! grep -qF -- "$2" "$1" 2>/dev/null; }

# --- Basic credentials quoted back by the bound host ----------------------------------------------
# The bound host echoes the Authorization field it got: "Basic " and base64 of "user:VALUE".
# boundary put the value in by decoding, replacing and encoding again; the answer must come back
# with the client's own token, or the jail decodes the echo and holds the credential.
export API_KEY=$VALUE
bnd --secret "API_KEY domain=up.test" --allow "domain=up.test" -- sh -c "
	$CURL -u \"user:\$API_KEY\" http://up.test:$P_HTTP/echo/basic >$R/basic"
unset API_KEY
B64=$(printf 'user:%s' "$VALUE" | base64 -w0)
check "control: the bound host got the value in Basic credentials" \
	grep -qF "Basic $B64" <<<"$(echo_of /echo/basic)"
check "the echo of those credentials reaches the jail without the value in them (base64)" \
	hasnt "$R/basic" "$B64"
basic_decoded_clean() {
	local b
	b=$(grep -o 'Basic [A-Za-z0-9+/=]*' "$R/basic" | head -n 1 | cut -d' ' -f2)
	[ -n "$b" ] || return 0
	! base64 -d <<<"$b" 2>/dev/null | grep -qF -- "$VALUE"
}
check "... nor anything the jail can decode back into it" basic_decoded_clean

# --- Basic credentials without their base64 padding -----------------------------------------------
# "Basic" and base64 of "user:PLACEHOLDER" with its '=' left off (which servers accept) must be
# looked into as a padded one is.
export API_KEY=$VALUE
bnd --secret "API_KEY domain=up.test" --allow "domain=other.test" -- sh -c "
	b=\$(printf 'user:%s' \"\$API_KEY\" | base64 -w0 | tr -d =)
	$CURL -H \"Authorization: Basic \$b\" http://other.test:$P_HTTP/echo/nopad >$R/nopad 2>/dev/null"
unset API_KEY
check "Basic credentials without padding carrying the placeholder, to an unbound host: 403" \
	has "$R/nopad" "Request Blocked by Boundary"
check "... and that host never gets them" [ -z "$(echo_of /echo/nopad)" ]

# --- a placeholder in the body of a request that asks for an Upgrade ------------------------------
# The server may well answer 200 and read it as an ordinary body: it must be looked at as the
# same request without the Upgrade fields is (the control).
export API_KEY=$VALUE
bnd --secret "API_KEY domain=up.test" --allow "domain=up.test" --allow "domain=other.test" -- sh -c "
	n=\${#API_KEY}
	printf 'POST /echo/plainbody HTTP/1.1\r\nHost: other.test:$P_HTTP\r\nContent-Type: text/plain\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s' \
		\$n \"\$API_KEY\" >$R/plain.req
	printf 'POST /echo/upgbody HTTP/1.1\r\nHost: other.test:$P_HTTP\r\nConnection: Upgrade\r\nUpgrade: foo\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s' \
		\$n \"\$API_KEY\" >$R/upg.req
	$PYC raw $P_HTTP $R/plain.req >$R/plain
	$PYC raw $P_HTTP $R/upg.req >$R/upg"
unset API_KEY
check "control: a text body with the placeholder to an unbound host is refused (403)" \
	has "$R/plain" "403 Forbidden"
check "control: ... and that host never got it" [ -z "$(echo_of /echo/plainbody)" ]
check "with Connection: Upgrade too, the request is refused all the same (403)" \
	has "$R/upg" "403 Forbidden"
# (each run has its own placeholder: any of API_KEY's)
upg_not_sent() { ! grep -qE "boundary-secret-API_KEY-[0-9a-f]{32}" <<<"$(echo_of /echo/upgbody)"; }
check "... and the unbound host never receives the placeholder in its body" upg_not_sent

# --- Expect: 100-continue lets the head out before the body is looked at --------------------------
# A request is held back until its body has been looked at, also when the client asks for 100
# Continue: the unbound host must get nothing, and the client a 403.
export API_KEY=$VALUE
bnd --secret "API_KEY domain=up.test" --allow "domain=other.test" -- sh -c "
	$CURL -H 'Expect: 100-continue' -H 'Content-Type: text/plain' -d \"\$API_KEY\" \
		http://other.test:$P_HTTP/echo/expect >$R/expect 2>/dev/null"
unset API_KEY
check "control: boundary refused it" grep -q \
	"warn: DENY POST http://other.test:$P_HTTP/echo/expect .*secret API_KEY sent to other.test" <<<"$log"
expect_ph_kept() { ! grep -qE "boundary-secret-API_KEY-[0-9a-f]{32}" <<<"$(echo_of /echo/expect)"; }
check "control: the placeholder itself never reached that host" expect_ph_kept
check "the unbound host never got the request's head" not grep -q " POST /echo/expect" "$UP/requests.log"
check "and the client is told why (403), not cut off" has "$R/expect" "Request Blocked by Boundary"

# --- a response from the bound host, with two secrets of very different lengths ------------------
# The response engine's pairs are value -> placeholder: the shortest value (8 bytes) may grow to
# the longest placeholder, and up to the longest value minus one byte may wait. No such mix may
# stall an answer (the review found one that did, when each step's output had a fixed room).
LONG_NAME=SHORT_SECRET_WITH_QUITE_A_LONG_NAME_0001
export "$LONG_NAME=short-v1" BIG_TOKEN="$(openssl rand -hex 2000)"
bnd --secret "$LONG_NAME domain=up.test" --secret "BIG_TOKEN domain=up.test" \
	--allow "domain=up.test" -- sh -c "
	$CURL --max-time 10 -o $R/big https://up.test:$P_HTTPS/bytes/20000 2>$R/big.err
	echo \"curl exit \$?\" >$R/big.rc
	$CURL --max-time 10 -o $R/small https://up.test:$P_HTTPS/bytes/2000 2>/dev/null
	echo \"curl exit \$?\" >$R/small.rc"
unset "$LONG_NAME" BIG_TOKEN
check "control: a 2000-byte answer from the bound host comes through" has "$R/small.rc" "curl exit 0"
# the same values under short names (shorter placeholders)
export S1=short-v1 BIG_TOKEN="$(openssl rand -hex 2000)"
bnd --secret "S1 domain=up.test" --secret "BIG_TOKEN domain=up.test" --allow "domain=up.test" -- sh -c "
	$CURL --max-time 10 -o $R/big2 https://up.test:$P_HTTPS/bytes/20000 2>/dev/null
	echo \"curl exit \$?\" >$R/big2.rc"
unset S1 BIG_TOKEN
big2_whole() { has "$R/big2.rc" "curl exit 0" && [ "$(stat -c %s "$R/big2" 2>/dev/null)" = 20000 ]; }
check "control: with short names the same 20000-byte answer comes through" big2_whole
big_whole() { has "$R/big.rc" "curl exit 0" && [ "$(stat -c %s "$R/big" 2>/dev/null)" = 20000 ]; }
check "a 20000-byte answer from the bound host comes through whole, not stalled" big_whole

# --- the value quoted where boundary does not look ------------------------------------------------
# A listener of ours, bound and allowed: /reason answers with the Authorization field it got in
# its reason phrase (an "invalid token: ..." status line); /ce names it in Content-Encoding.
read -r P <<<"$(free_ports 1)"
echo "127.0.0.1 leak.test" >>"$UP/hosts"
python3 "$STAGE/lib/secret_review.py" quoter "$P" "$TMPDIR_T/quoter.ready" 2>"$TMPDIR_T/quoter.err" &
Q_PID=$!
at_exit "kill $Q_PID 2>/dev/null"
for _ in $(seq 100); do [ -e "$TMPDIR_T/quoter.ready" ] && break; sleep 0.05; done
export API_KEY=$VALUE
bnd --secret "API_KEY domain=leak.test" --allow "domain=leak.test" -- sh -c "
	$CURL -i -H \"Authorization: Bearer \$API_KEY\" http://leak.test:$P/reason >$R/reason 2>&1
	$CURL -i -H \"Authorization: Bearer \$API_KEY\" http://leak.test:$P/ce >$R/ce 2>&1"
unset API_KEY
check "control: the status line of the answer reached the jail" has "$R/reason" "401 invalid token"
check "a reason phrase quoting the value reaches the jail with the placeholder instead" \
	hasnt "$R/reason" "$VALUE"
check "control: the Content-Encoding field reaches the jail with the placeholder" \
	hasnt "$R/ce" "$VALUE"
check "boundary's log never holds the value, even quoted in a response's Content-Encoding" \
	not grep -qF -- "$VALUE" <<<"$log"

# --- the bound host quoting the value after 101 Switching Protocols ------------------------------
# The request head that asked for the upgrade had the value put in; what the bound host sends
# through the tunnel afterwards (here the field it got) must reach the jail without it.
export API_KEY=$VALUE
bnd --secret "API_KEY domain=leak.test" --allow "domain=leak.test" -- sh -c "
	printf 'GET /upgrade HTTP/1.1\r\nHost: leak.test:$P\r\nConnection: Upgrade\r\nUpgrade: x-echo\r\nAuthorization: Bearer %s\r\n\r\n' \"\$API_KEY\" >$R/upgrade.req
	$PYC raw $P $R/upgrade.req >$R/upgrade"
unset API_KEY
check "control: the bound host switched protocols" has "$R/upgrade" "101 Switching"
check "control: and quoted the field through the tunnel" has "$R/upgrade" "Authorization: Bearer"
check "what the bound host sends through the tunnel reaches the jail without the value" \
	hasnt "$R/upgrade" "$VALUE"

# --- bytes past the bound host's answer, read as another host's answer ----------------------------
# What the bound host sent past its answer (read in the same read) must not become the answer of
# the next request on the client's connection, which goes to another host (a listener that never
# answers) that no secret is bound to.
read -r PS <<<"$(free_ports 1)"
echo "127.0.0.1 mute.test" >>"$UP/hosts"
: >"$UP/mute"
python3 "$STAGE/lib/record_listener.py" "$PS" "$UP/mute" "$TMPDIR_T/mute.ready" 2>/dev/null &
M_PID=$!
at_exit "kill $M_PID 2>/dev/null"
for _ in $(seq 100); do [ -e "$TMPDIR_T/mute.ready" ] && break; sleep 0.05; done
export API_KEY=$VALUE
bnd --secret "API_KEY domain=leak.test" --allow "domain=leak.test" --allow "domain=mute.test" \
	-- python3 "$STAGE/lib/secret_review.py" two "$TH4" "$P" "$PS" "$R/extra2"
unset API_KEY
check "control: the other host got the second request" grep -q "GET /next" "$UP/mute"
check "the other host never answered, so the jail gets no answer to that request from it" \
	not grep -q "Authorization" "$R/extra2"
check "... and in no case the value" hasnt "$R/extra2" "$VALUE"

# --- what waited for the bound host, sent to the next one ----------------------------------------
# A bound host that answers as soon as it has a request's head, and reads the body later (as a
# server refusing an upload does). What of the body boundary had not sent when the exchange ended
# must never go to the next request's host (a recording listener), on a new upstream connection.
# The body is sized to fill the kernel's buffers toward the slow reader (measured here the same
# way) and leave some KiB in boundary's buffer.
read -r PA PB <<<"$(free_ports 2)"
echo "127.0.0.1 early.test sink.test" >>"$UP/hosts"
# what a socket toward a reader that does not read takes in, here
CAP=$(python3 "$STAGE/lib/secret_review.py" rcvcap)
: >"$UP/sink"
python3 "$STAGE/lib/secret_review.py" early "$PA" "$TMPDIR_T/early.ready" 2>"$TMPDIR_T/early.err" &
E_PID=$!
at_exit "kill $E_PID 2>/dev/null"
python3 "$STAGE/lib/record_listener.py" "$PB" "$UP/sink" "$TMPDIR_T/sink.ready" 2>/dev/null &
S_PID=$!
at_exit "kill $S_PID 2>/dev/null"
for _ in $(seq 100); do [ -e "$TMPDIR_T/early.ready" ] && [ -e "$TMPDIR_T/sink.ready" ] && break; sleep 0.05; done
# (three sizes, so that what stays in uout does not hang on the kernel's exact share)
export API_KEY=$VALUE
for extra in 10000 30000 60000; do
	bnd --secret "API_KEY domain=early.test" --allow "domain=early.test" --allow "domain=sink.test" \
		-- python3 "$STAGE/lib/secret_review.py" ka "$TH4" "$PA" "$PB" $((CAP + extra)) "$R/ka.$extra"
done
unset API_KEY
sleep 0.3 # the recording listener's last write
all_answered() { has "$R/ka.10000" "first answered" && has "$R/ka.30000" "first answered" &&
	has "$R/ka.60000" "first answered"; }
check "control: the bound host answered each upload before reading it" all_answered
check "control: the other host got the second request" grep -q "GET /second" "$UP/sink"
check "the other host never gets what was on its way to the bound host (the value)" \
	hasnt "$UP/sink" "$VALUE"
check "... nor any of the first request's body" not grep -q "xxxxxxxx" "$UP/sink"

done_testing
