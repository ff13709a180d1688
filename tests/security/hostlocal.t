#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# hostlocal.t: the host's own services through the proxy. boundary connects upstream from the
# host, so a request whose Host is 127.0.0.1, ::1, localhost or 0.0.0.0 would reach the host's
# loopback services (and 169.254.169.254 a cloud's metadata service). A rule that names no host
# (domain=*, or no domain= at all) must not lead there; a rule that names the host must.
# (security/rebinding.t covers names that resolve there, and the other internal ranges.) The
# host's listener counts what reaches it; the addresses the jail dials are the test host's, which
# must see nothing (the proxy, not the dialled address, decides where a request goes).
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/jail.sh"

need_root
export HOME=$TMPDIR_T XDG_CONFIG_HOME=$TMPDIR_T/xdg
clean_env
chmod 755 "$TMPDIR_T"

testhost_up_or_bail
testhost_sniff

# A web server on the host's loopback, both families, one port; it logs each request it serves.
python3 "$STAGE/lib/http_server.py" local 0 "$TMPDIR_T/port" "$TMPDIR_T/served" 127.0.0.1 ::1 &
srv=$!
at_exit "kill $srv 2>/dev/null"
for i in $(seq 100); do [ -s "$TMPDIR_T/port" ] && break; sleep 0.05; done
P=$(cat "$TMPDIR_T/port")
: >"$TMPDIR_T/served"
served() { wc -l <"$TMPDIR_T/served" | tr -d ' '; }

code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$P/control")
code6=$(curl -s -m 5 -o /dev/null -w '%{http_code}' "http://[::1]:$P/control")
control_served() { [ "$code" = 200 ] && [ "$code6" = 200 ] && [ "$(served)" = 2 ]; }
check "control: the host's loopback server answers on 127.0.0.1:$P and [::1]:$P ($code, $code6)" \
	control_served
: >"$TMPDIR_T/served"

hosts="127.0.0.1:$P localhost:$P [::1]:$P 0.0.0.0:$P [::ffff:127.0.0.1]:$P"
script='th4=$1; shift
for h in "$@"; do
	echo "$h: $(curl -s -m 10 -o /dev/null -w "%{http_code}" "http://$th4/local" -H "Host: $h")"
done'
for rule in "domain=*" "method=GET" "path=/local"; do
	jailed --allow "$rule" -- sh -c "$script" _ "$TH4" $hosts
	for h in $hosts; do
		want "$h" 403 "--allow \"$rule\" names no host: a request for Host $h is refused"
	done
	logged "--allow \"$rule\": boundary says why, and how to allow it" "$log" \
		"localhost is (127\\.0\\.0\\.1|::1): the address is an internal one.*add ip=(127\\.0\\.0\\.1|::1) to the rule \"$(ere_quote "$rule")\" \\(or allow the host by its exact name\\)"
done
check "the host's loopback server saw none of those requests" [ "$(served)" = 0 ]

# Named, the host's own services are reachable: the user asked for them.
jailed --allow "domain=127.0.0.1" --allow "domain=localhost" -- sh -c "$script" _ "$TH4" \
	"127.0.0.1:$P" "localhost:$P"
want "127.0.0.1:$P" 200 "--allow domain=127.0.0.1: a request for Host 127.0.0.1 reaches the host's server"
want "localhost:$P" 200 "--allow domain=localhost: a request for Host localhost reaches the host's server"
check "the host's loopback server served exactly those two ($(served))" [ "$(served)" = 2 ]

# A TLS server name is only a host name: one that carries a newline (and a rule after it) is
# ignored, so it can neither stand in for a missing Host nor reach a log line or a saved rule.
jailed --allow "domain=x.test" -- sh -c 'printf "GET /sni HTTP/1.0\r\n\r\n" |
	timeout 10 openssl s_client -quiet -connect "$1:443" -servername "$(printf "x.test\nport=443")" \
		2>/dev/null' _ "$TH4"
logged "a TLS server name with a newline in it is ignored, and said so" "$log" \
	"sent a TLS server name that is not a host name: ignored"
check "no log line starts with what followed the newline" not grep -q "^port=443" "$TMPDIR_T/log"
check "the request with neither a Host nor a usable server name got no 200 ($(echo "$out" | head -1))" \
	not grep -q "200" <<<"$out"

testhost_quiet "the test host, whose address the jail dialled, saw nothing"

done_testing
