#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# resume.t: boundary resumes its TLS sessions with upstream servers, as root. A new upstream
# connection to an origin boundary has spoken to offers the session the origin gave it
# (skipping the certificate chain's verification and the server's signature on both ends),
# but only to the same name and port it was verified for. Jailed curl asks the origin servers
# of tests/lib/proxy.sh (reached by name through boundary's DNS) for /echo?close=1, whose
# answer ends the connection, so each request needs a new upstream connection; the answer says
# whether the origin saw a resumed session. api.up.test and x.api.up.test are one listener
# (one ticket key): only the name keeps a session for one from being offered to the other.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/jail.sh"
. "$(dirname "$0")/../lib/proxy.sh"
proxy_suite --no-testhost

R=$(shared_dir r)
C="curl -sS --max-time 30"
U=":$P_HTTPS/echo/resume?close=1"
cat >"$R/resume.sh" <<EOF
$C -o $R/a1 https://api.up.test$U
$C -o $R/a2 https://api.up.test$U
$C -o $R/x1 https://x.api.up.test$U
$C -o $R/a3 https://api.up.test$U
EOF
# resumed FILE: whether the origin's answer in FILE says the session was resumed (yes, no, ?).
resumed() {
	if grep -qF '"resumed": true' "$R/$1" 2>/dev/null; then
		echo yes
	elif grep -qF '"resumed": false' "$R/$1" 2>/dev/null; then
		echo no
	else
		echo "?"
	fi
}

before=$(conns A)
bnd --allow "domain=api.up.test" --allow "domain=x.api.up.test" -- sh "$R/resume.sh"
made=$(($(conns A) - before))
got="$(resumed a1) $(resumed a2) $(resumed x1) $(resumed a3)"
if [ "$made" = 4 ]; then
	ok "each request that ends its connection gets a new upstream connection (4)"
else
	fail "each request that ends its connection gets a new upstream connection"
	diag "made: $made" "$(tail -5 <<<"$log")"
fi
if [ "$got" = "no yes no yes" ]; then
	ok "the next connection to api.up.test resumes the first's session; x.api.up.test, on the same server, is not offered it"
else
	fail "upstream TLS sessions resumed for the same name only (want: no yes no yes)"
	diag "resumed: $got" "$(cat "$R/a1" "$R/x1" 2>/dev/null)" "$(tail -5 <<<"$log")"
fi

done_testing
