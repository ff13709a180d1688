#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# realdns.t: --use-real-dns, end to end, as root. A and AAAA queries for names the rules allow
# go to the host's resolver and its answers come back; every other query gets a synthetic
# answer and reaches no resolver. Connections to a real answer's address are tied back to the
# name, so stream rules and HTTP rules work the same as with synthetic addresses. A reload of
# the rules changes which names go to the host's resolver.
#
# The host's resolver is a fake one of ours on 127.0.0.78 (UDP and TCP port 53), named in the
# resolv.conf boundary sees (tests/lib/proxy.sh's mount namespace); it answers every name with
# the test host's addresses, so a connection that escaped the proxy would reach the test host,
# which must see nothing.
#
# $CURL is a command line (tests/lib/proxy.sh), split into words on purpose.
# shellcheck disable=SC2086
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/jail.sh"
. "$(dirname "$0")/../lib/proxy.sh"
proxy_suite
read -r P_SSH <<<"$(free_ports 1)"
testhost_listen "$P_HTTP"
testhost_listen "$P_SSH"
: >"$TMPDIR_T/hits"
echo "127.0.0.1 ssh.test" >>"$UP/hosts"
echo "nameserver 127.0.0.78" >"$UP/resolv.conf"

# The fake host resolver: A -> the test host's IPv4, AAAA -> its IPv6, except "silent.test",
# which it never answers. Each query a line "PROTO TYPE NAME" in $UP/dns.log.
host_resolver_up "$TH4" "$TH6"

# --- names the rules allow get real answers; others synthetic, and reach no resolver -----------
AUD=$TMPDIR_T/audit.jsonl
bnd --use-real-dns --audit-log "$AUD" --allow "domain=*.real.test" --allow "domain=up.test" -- sh -c '
	echo "R4: $(getent ahostsv4 www.real.test | awk "NR == 1 { print \$1 }")"
	echo "R6: $(getent ahostsv6 www.real.test | awk "NR == 1 { print \$1 }")"
	echo "S4: $(getent ahostsv4 secret.example | awk "NR == 1 { print \$1 }")"
	echo "T4: $(dig +tcp +short www.real.test A)"'
want R4 "$TH4" "an allowed name's A query gets the host resolver's answer"
want R6 "$TH6" "and its AAAA query"
want T4 "$TH4" "over TCP too"
s4=$(result S4)
if [[ $s4 == 198.1[89].* ]]; then ok "a name no rule allows gets a synthetic answer ($s4)"; else
	fail "a name no rule allows gets a synthetic answer (got '$s4')"
fi
check "the host's resolver saw the allowed name" grep -q "udp A www.real.test" "$UP/dns.log"
check "the host's resolver never saw the other name" not grep -q secret "$UP/dns.log"
logged "the log says which queries went to the host's resolver" "$log" \
	"DNS A www\\.real\\.test from getent\\[[0-9]+\\]: answered by the host's resolver, 1 address \\(rule: domain=\\*\\.real\\.test\\)"
rec=$(grep www.real.test "$AUD" | head -1)
contains "audit: a forwarded query is recorded as such" "$rec" '"decision":"forwarded","kind":"dns","host":"www.real.test"'
contains "audit: with the rule that allowed it" "$rec" '"rule":"domain=*.real.test"'
contains "audit: and the process that asked" "$rec" '"comm":"getent"'
contains "audit: a synthetic one too" "$(grep secret.example "$AUD" | head -1)" \
	'"decision":"synthetic"'

# --- connections to a real answer's address go through the proxy, by name ---------------------
: >"$TMPDIR_T/hits"
bnd --use-real-dns --allow "domain=up.test" -- $CURL -o /dev/null -w 'H: %{http_code} %{remote_ip}\n' \
	"http://up.test:$P_HTTP/echo/real"
want H "200 $TH4" "HTTP to a real answer's address is served by the proxy, by Host"
check "the real address itself saw nothing (the proxy reached the upstream by name)" [ "$(hits)" = 0 ]

: >"$TMPDIR_T/hits"
python3 "$STAGE/lib/stream_servers.py" "$P_SSH" 0 /dev/null "$UP/ssh.ready" SSH-2.0-real 2>/dev/null &
SSHD_PID=$!
at_exit "kill $SSHD_PID 2>/dev/null"
for _ in $(seq 100); do [ -e "$UP/ssh.ready" ] && break; sleep 0.05; done
bnd --use-real-dns --allow "domain=ssh.test port=$P_SSH" -- python3 "$STAGE/lib/stream_client.py" banner ssh.test "$P_SSH"
addr=$(result ADDR)
a_test_host_address() { [ "$1" = "$TH4" ] || [ "$1" = "$TH6" ]; }
check "the jailed program dialled the real address ($addr)" a_test_host_address "$addr"
want BANNER "SSH-2.0-real" "and a stream rule still knows the name: the banner arrives"
check "the real address itself saw nothing" [ "$(hits)" = 0 ]

# --- a resolver that does not answer: SERVFAIL, said in the log --------------------------------
bnd --use-real-dns --allow "domain=silent.test" -- sh -c \
	'echo "SF: $(dig +tries=1 +time=10 silent.test A | grep -o "status: [A-Z]*")"'
want SF "status: SERVFAIL" "no answer from the host's resolver: SERVFAIL to the client"
logged "and a warning says why" "$log" "DNS A silent\\.test .*the host's resolver did not answer in time"

# --- without --use-real-dns nothing reaches the host's resolver --------------------------------
: >"$UP/dns.log"
bnd --allow "domain=*.real.test" -- sh -c 'echo "R4: $(getent ahostsv4 www.real.test | awk "NR == 1 { print \$1 }")"'
if [[ $(result R4) == 198.1[89].* ]]; then ok "without the flag, allowed names are synthetic too"; else
	fail "without the flag, allowed names are synthetic too (got '$(result R4)')"
fi
check "and the host's resolver saw nothing" [ ! -s "$UP/dns.log" ]

# --- a reload changes which names go to the host's resolver -------------------------------------
R=$(shared_dir reload)
CFG_DIR=$TMPDIR_T/cfg
mkdir -p "$CFG_DIR"
printf 'allowlist: ["domain=a.real.test"]\n' >"$CFG_DIR/config.yaml"
cat >"$R/dns.sh" <<EOF
a4() { getent ahostsv4 "\$1" | awk 'NR == 1 { print \$1 }'; }
echo "P1A: \$(a4 a.real.test)"
echo "P1B: \$(a4 b.real.test)"
touch "$R/phase1"
while [ ! -e "$R/go2" ]; do sleep 0.05; done
echo "P2A: \$(a4 a.real.test)"
echo "P2B: \$(a4 b.real.test)"
EOF
: >"$UP/dns.log"
bnd_bg rdns --use-real-dns --config "$CFG_DIR/config.yaml" -- sh "$R/dns.sh"
for _ in $(seq 400); do [ -e "$R/phase1" ] && break; sleep 0.05; done
printf 'allowlist: ["domain=b.real.test"]\n' >"$CFG_DIR/config.yaml"
if jail_wait_log "$TMPDIR_T/rdns.log" 'rules reloaded' 20; then ok "the config change reloaded the rules"; else
	fail "the config change reloaded the rules"
fi
touch "$R/go2"
wait "$BND_PID"
out=$(cat "$TMPDIR_T/rdns.out")
want P1A "$TH4" "before the reload, the name its rule allowed got a real answer"
if [[ $(result P1B) == 198.1[89].* ]]; then ok "and the other a synthetic one"; else
	fail "and the other a synthetic one (got '$(result P1B)')"
fi
if [[ $(result P2A) == 198.1[89].* ]]; then ok "after the reload, the name no longer allowed is synthetic"; else
	fail "after the reload, the name no longer allowed is synthetic (got '$(result P2A)')"
fi
want P2B "$TH4" "and the newly allowed name gets a real answer"
check "the host's resolver saw a.real.test once, before the reload" \
	[ "$(grep -c "A a.real.test" "$UP/dns.log")" = 1 ]
check "and b.real.test only after it" [ "$(grep -c "A b.real.test" "$UP/dns.log")" = 1 ]

done_testing
