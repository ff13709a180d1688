#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# rebinding.t: a name only a wildcard rule allows never leads to an internal address (loopback,
# private networks, link-local, ...), whichever way the connection is made: resolved for the
# request, taken from the pool, handed over by a head start, an HTTP/2 session, a stream rule's
# splice. A rule that names the host exactly, or an ip= that covers the address, reaches it. The
# origin servers live on loopback, so every refusal here is one that must see nothing there, and
# the 403 must say which address and which rule would allow it.
#
# $CURL is a command line (tests/lib/proxy.sh), split into words on purpose.
# shellcheck disable=SC2086
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/jail.sh"
. "$(dirname "$0")/../lib/proxy.sh"
proxy_suite

R=$(shared_dir r)
NEXT=${CURL#curl } # the same options again, after curl's --next
# rebind.test: a public-looking name whose record points into the host (the attack), v4 only.
echo "127.0.0.1 rebind.test" >>"$UP/hosts"
seen() { grep -c -- "$1" "$UP/requests.log"; }

# --- the request: resolved and checked before connecting ---------------------------------------

bnd --allow "domain=*.test" -- sh -c "
	$CURL -o $R/w1 -w 'wild: %{http_code}\n' http://rebind.test:$P_HTTP/echo/rb-wild
	$CURL -o /dev/null -w 'wild-tls: %{http_code}\n' https://rebind.test:$P_HTTPS/echo/rb-wild-tls"
want wild 403 "domain=*.test: a name that resolves to 127.0.0.1 is refused"
want wild-tls 403 "... over intercepted TLS too"
check "the loopback server saw neither" [ "$(seen /echo/rb-wild)" = 0 ]
contains "the 403 says which address, and which rule would allow it with what" "$(cat "$R/w1")" \
	'rebind.test is 127.0.0.1: the address is an internal one, which only a rule that names the host exactly, or an ip= that covers the address, reaches; to reach it, add ip=127.0.0.1 to the rule "domain=*.test"'

bnd --allow "method=GET" -- $CURL -o /dev/null -w 'nodomain: %{http_code}\n' \
	http://rebind.test:$P_HTTP/echo/rb-nodomain
want nodomain 403 "a rule with no domain= is a wildcard too"

bnd --allow "domain=rebind.test" -- $CURL -o /dev/null -w 'named: %{http_code}\n' \
	http://rebind.test:$P_HTTP/echo/rb-named
want named 200 "a rule that names the host exactly reaches its address"

bnd --allow "domain=*.test ip=127.0.0.1" -- $CURL -o /dev/null -w 'ip: %{http_code}\n' \
	http://rebind.test:$P_HTTP/echo/rb-ip
want ip 200 "a wildcard rule with an ip= that covers the address reaches it"

bnd --allow "domain=rebind.test ip=10.0.0.0/8" -- $CURL -o $R/w2 -w 'outside: %{http_code}\n' \
	http://rebind.test:$P_HTTP/echo/rb-outside
want outside 403 "an exact rule whose ip= does not cover the address is refused"
contains "... and the 403 says the address is outside its ip=" "$(cat "$R/w2")" \
	"outside the ip= of every rule for the host"

# --dry-run blocks nothing: the address refusal is said, and the request goes out.
bnd --dry-run --allow "domain=*.test" -- $CURL -o /dev/null -w 'dry: %{http_code}\n' \
	http://rebind.test:$P_HTTP/echo/rb-dry
want dry 200 "--dry-run: a wildcard rule's request to an internal address goes out"
logged "--dry-run: ... and the log says it would have been refused" "$log" \
	"DRY-RUN would refuse GET http://rebind.test:$P_HTTP/echo/rb-dry from curl\\[[0-9]+\\]: rebind.test is 127.0.0.1"

# ip= alone: any name, only these addresses (other.test is 127.0.0.2, up.test 127.0.0.1 and ::1).
bnd --allow "ip=127.0.0.2" -- sh -c "
	$CURL -o /dev/null -w 'other: %{http_code}\n' http://other.test:$P_HTTP/echo/rb-alone-other
	$CURL -o /dev/null -w 'up: %{http_code}\n' http://up.test:$P_HTTP/echo/rb-alone-up"
want other 200 "ip= alone: a name that resolves into it is allowed"
want up 403 "ip= alone: a name that resolves elsewhere is refused"
check "ip= alone: the refused one reached no server" [ "$(seen /echo/rb-alone-up)" = 0 ]

# A deny rule by address: refused though the allow rule names the host.
bnd --allow "domain=up.test" --deny "ip=127.0.0.0/8,::1" -- $CURL -o $R/w3 -w 'deny: %{http_code}\n' \
	http://up.test:$P_HTTP/echo/rb-deny
want deny 403 "deny ip=: the address is refused whatever allows the name"
contains "... naming the deny rule" "$(cat "$R/w3")" 'which the deny rule "ip=127.0.0.0/8,::1" refuses'

# --- the pool: a connection opened for a rule that names the host is not lent to a wildcard's ---

bnd --allow "method=GET domain=up.test" --allow "method=POST domain=*.test" -- \
	$CURL -o /dev/null -w 'get: %{http_code}\n' http://up.test:$P_HTTP/echo/rb-pool-get \
	--next $NEXT -o /dev/null -w 'post: %{http_code}\n' -d x http://up.test:$P_HTTP/echo/rb-pool-post
want get 200 "pool: the GET (a rule names the host) is served"
want post 403 "pool: the POST on the same keep-alive connection (only a wildcard allows it) is refused"
check "pool: the server never saw the POST" [ "$(seen /echo/rb-pool-post)" = 0 ]

# --- a head start: opened for the name, then handed over only if the request's rule allows it --

bnd --allow "domain=up.test path=/echo/rb-hs-named" --allow "domain=*.test path=/echo/rb-hs-wild" \
	-- $CURL -o /dev/null -w 'hs: %{http_code}\n' https://up.test:$P_HTTPS/echo/rb-hs-wild
want hs 403 "head start: a request only a wildcard rule allows does not get the connection opened ahead"
check "head start: the server never saw that request" [ "$(seen /echo/rb-hs-wild)" = 0 ]

# --- HTTP/2: a session opened for one stream is not used for a stream a wildcard allows ---------

bnd --allow "domain=up.test path=/echo/rb-h2-named" --allow "domain=*.test path=/echo/rb-h2-wild" \
	-- $CURL --http2 -o /dev/null -w 'h2a: %{http_code} %{http_version}\n' \
	https://up.test:$P_HTTPS/echo/rb-h2-named \
	--next $NEXT --http2 -o /dev/null -w 'h2b: %{http_code} %{http_version}\n' \
	https://up.test:$P_HTTPS/echo/rb-h2-wild
h2a=$(result h2a)
check "HTTP/2: the named stream is served ($h2a)" [ "${h2a%% *}" = 200 ]
want h2b "403 2" "HTTP/2: a stream only a wildcard allows is refused, on the same connection"
check "HTTP/2: the server never saw it" [ "$(seen /echo/rb-h2-wild)" = 0 ]

# --- a stream rule's splice ----------------------------------------------------------------------

before=$(conns A)
bnd --allow "domain=*.test port=$P_HTTP" -- \
	python3 "$STAGE/lib/stream_client.py" nothttp rebind.test "$P_HTTP"
check "a wildcard stream rule does not splice to an internal address (no connection made)" \
	[ "$(conns A)" = "$before" ]
logged "... and the log says why" "$log" "rebind.test is 127.0.0.1: the address is an internal one"
before=$(conns A)
bnd --allow "domain=*.test port=$P_HTTP ip=127.0.0.1" -- \
	python3 "$STAGE/lib/stream_client.py" nothttp rebind.test "$P_HTTP"
check "a wildcard stream rule with ip= covering it splices" [ "$(conns A)" -gt "$before" ]

done_testing
