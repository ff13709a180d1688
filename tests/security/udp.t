#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# udp.t: attacks the jail with UDP. Only port 53 may leave (to the DNS stand-in); every other
# datagram, to any family (v4, v6, v4-mapped on a v6 socket), connected or not, QUIC's 443
# included, must fail with EPERM in the kernel, and the test host's UDP listeners and its
# packet counter must see nothing at all. DNS exfiltration: a query sent straight to a resolver
# of the host's (a fake one on a host loopback address, UDP and TCP) is answered by boundary
# with a synthetic address, and that resolver sees nothing.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/jail.sh"

need_root
export HOME=$TMPDIR_T XDG_CONFIG_HOME=$TMPDIR_T/xdg
clean_env

testhost_up_or_bail
testhost_listen 9999 udp
testhost_listen 443 udp
testhost_sniff
testhost_selftest 9999 udp

# Every case runs in one jail per user, one line each: "MODE ADDR PORT -> RESULT".
cases=(
	"udp $TH4 9999" "cudp $TH4 9999"
	"udp $TH6 9999" "cudp $TH6 9999"
	"udp ::ffff:$TH4 9999" "cudp ::ffff:$TH4 9999"
	"udp $TH4 443" "cudp $TH4 443" "udp $TH6 443" "cudp $TH6 443" "udp ::ffff:$TH4 443"
	"udp $TH4 54" "udp $TH4 5353" "udp 255.255.255.255 9999" "udp ff02::1 9999"
)
script='p=$1; shift; for c in "$@"; do echo "$c -> $("$p" $c)"; done'

run_cases() {
	local who=$1 c line
	shift
	jailed "$@" -- sh -c "$script" _ "$PROBE" "${cases[@]}"
	for c in "${cases[@]}"; do
		line=$(grep -F -- "$c -> " <<<"$out" | head -1)
		case $c in
		udp\ *) what="unconnected sendto()" ;;
		*) what="connect() + send()" ;;
		esac
		if [ "$line" = "$c -> err EPERM" ]; then
			ok "$who: UDP ${c#* } by $what is refused with EPERM"
		else
			fail "$who: UDP ${c#* } by $what is refused with EPERM"
			diag "got: ${line:-nothing} (exit $rc)" "log: $log"
		fi
	done
}

run_cases "root in the jail"
run_cases "--user nobody" --user nobody

# The refusals above must not be a blanket failure of UDP: the jail's own loopback works.
jailed -- "$PROBE" udp 127.0.0.1 9999
check "UDP to the jail's own loopback is allowed ($out), so the EPERMs are the jail's" \
	[ "$out" = "ok sent" ]
jailed -- "$PROBE" dns udp "$TH4" 53
check "UDP to port 53 is answered by boundary (REFUSED or a synthetic 198.18.0.0/15 address: $out)" \
	matches "$out" "^ok from=$TH4:53 (rcode=5|rcode=0 an=198\.1[89]\.[0-9]+\.[0-9]+)\$"

# DNS exfiltration: a resolver on the host's loopback, asked directly by name, never hears of
# the query. Its control (asked from outside the jail) proves it would.
if ! fake_resolver; then
	fail "cannot start the fake resolver on a host loopback address"
else
	fake_resolver_control
	jailed -- sh -c "
		echo \"udp: \$(dig +short +tries=1 +time=5 @$FAKE_DNS secret.example A)\"
		echo \"tcp: \$(dig +short +tcp +tries=1 +time=5 @$FAKE_DNS secret.example A)\"
		echo \"aaaa: \$(dig +short +tries=1 +time=5 @$FAKE_DNS secret.example AAAA)\""
	check "dig @$FAKE_DNS secret.example over UDP in the jail: boundary answers ($(result udp))" \
		matches "$(result udp)" '^198\.1[89]\.[0-9]+\.[0-9]+$'
	check "dig @$FAKE_DNS secret.example over TCP in the jail: boundary answers ($(result tcp))" \
		matches "$(result tcp)" '^198\.1[89]\.[0-9]+\.[0-9]+$'
	check "dig @$FAKE_DNS AAAA secret.example in the jail: boundary answers ($(result aaaa))" \
		matches "$(result aaaa)" '^fd42:b0d:53:'
	if [ -z "$(fake_queries)" ]; then
		ok "the fake resolver at $FAKE_DNS:53 saw none of the jail's queries"
	else
		fail "the fake resolver at $FAKE_DNS:53 saw none of the jail's queries"
		diag "$(fake_queries)"
	fi
fi

testhost_quiet "the test host's UDP listeners (9999, 443) and packet counter saw nothing"

done_testing
