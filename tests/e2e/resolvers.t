#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# resolvers.t: the resolvers programs really use, inside one real jail, against boundary's DNS
# responder: glibc (getaddrinfo from python3, getent and a C client; res_query; the use-vc and
# edns0 options), musl (a C client built with musl-gcc), c-ares and getaddrinfo in Node, Go's
# own resolver (CGO_ENABLED=0), dig, and queries built byte by byte. For each:
#   - the answers are synthetic (198.18.0.0/15, fd42:b0d:53::/64), of the families asked for;
#   - one name gets the same address from every resolver, v4 and v6 with the same index;
#   - a connection to the answer (an HTTP GET of up.test, the program's own) reaches the proxy
#     as a connection to that address, is decided by the name, and arrives at the upstream;
#     the log and the audit record name the program and up.test.
# The jail's /etc/resolv.conf names a fake resolver listening on a host loopback address
# outside the jail: it must never see a query (its own control proves it would).
#
# musl 1.2.3 (Debian 12) has no TCP fallback (1.2.4 added it), and no answer of boundary's is
# ever truncated over UDP at 512 bytes, so musl is seen on UDP only; glibc's use-vc, dig +tcp
# and the byte-by-byte client cover TCP.
#
# Helpers are built at test time: tests/lib/resolve.c with gcc and with musl-gcc,
# tests/lib/resolve.go with go (no network, caches in the scratch directory). A resolver whose
# tool is missing is skipped, saying which package provides it (tools/install-deps installs all).
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
clean_env
unset HTTP_PROXY HTTPS_PROXY http_proxy https_proxy ALL_PROXY all_proxy NO_PROXY no_proxy \
	RES_OPTIONS LOCALDOMAIN GODEBUG
# shellcheck disable=SC2016 # expanded at exit
at_exit '"$BOUNDARY" cleanup >/dev/null 2>&1'

LIB=$STAGE/lib
BIN=$(shared_dir bin)
R=$(shared_dir r)

# --- the helpers, built while the upstream servers come up -------------------------------------

# Go builds the standard library into an empty cache: the slowest step, so it starts first.
GO=$(command -v go)
if [ -n "$GO" ]; then
	mkdir -p "$TMPDIR_T/go"
	(cd "$TMPDIR_T/go" && cp "$LIB/resolve.go" . &&
		env CGO_ENABLED=0 GO111MODULE=off GOFLAGS= GOTOOLCHAIN=local GOPROXY=off \
			GOCACHE="$TMPDIR_T/go/cache" GOPATH="$TMPDIR_T/go/path" \
			"$GO" build -o "$BIN/resolve-go" resolve.go) >"$TMPDIR_T/go.log" 2>&1 &
	GO_BUILD=$!
fi
MUSL=$(command -v musl-gcc)
gcc -O2 -o "$BIN/resolve-glibc" "$LIB/resolve.c" -lresolv 2>"$TMPDIR_T/glibc.log"
[ -n "$MUSL" ] && "$MUSL" -O2 -static -o "$BIN/resolve-musl" "$LIB/resolve.c" 2>"$TMPDIR_T/musl.log"

# No test host: nothing here dials one, and the fake resolver's address is its own.
if ! upstream_up; then
	fail "cannot set up the upstream servers"
	done_testing
	exit 1
fi
if ! fake_resolver; then
	fail "cannot start the fake resolver on a host loopback address"
	done_testing
	exit 1
fi
# Every resolver in the jail is aimed at the fake one; boundary finds up.test in its hosts file.
echo "nameserver $FAKE_DNS" >"$UP/resolv.conf"
[ -n "$GO" ] && wait "$GO_BUILD"
# A helper that did not build fails every test of its resolver ("never ran"); say why once.
for h in glibc:gcc musl:"$MUSL" go:"$GO"; do
	[ -n "${h#*:}" ] && [ ! -x "$BIN/resolve-${h%%:*}" ] &&
		diag "resolve-${h%%:*} did not build:" "$(cat "$TMPDIR_T/${h%%:*}.log")"
done

# The fake resolver answers when asked from outside a jail, so "saw nothing" can fail.
fake_resolver_control

# --- one jail, every resolver ---------------------------------------------------------------------

N=same.example
P=$P_HTTP
{
	# shellcheck disable=SC2016 # for the jailed shell
	echo 'run() { n=$1; shift; timeout 20 "$@" >"$R/$n" 2>&1; echo "rc $?" >>"$R/$n"; }'
	printf 'R=%q; B=%q; LIB=%q; N=%q; P=%q; D=%q\n' "$R" "$BIN" "$LIB" "$N" "$P" "$FAKE_DNS"
	cat <<'EOF'
# up.test, the name every client below connects to
run d-up4 dig +tries=1 +time=5 up.test A
run d-up6 dig +tries=1 +time=5 up.test AAAA
# glibc
run g-py-unspec python3 "$LIB/resolve.py" "$N" 0
run g-py-4 python3 "$LIB/resolve.py" "$N" 2
run g-py-6 python3 "$LIB/resolve.py" "$N" 10
run g-ahosts getent ahosts "$N"
run g-ahostsv4 getent ahostsv4 "$N"
run g-ahostsv6 getent ahostsv6 "$N"
run g-query-a "$B/resolve-glibc" query "$N" A
run g-query-aaaa "$B/resolve-glibc" query "$N" AAAA
run g-vc env RES_OPTIONS=use-vc strace -f -qq -e trace=socket,connect,sendto,sendmmsg \
	-o "$R/g-vc.strace" "$B/resolve-glibc" query "$N" A
run g-vc-gai env RES_OPTIONS=use-vc getent ahosts "$N"
run g-edns0 env RES_OPTIONS=edns0 getent ahosts "$N"
run g-get "$B/resolve-glibc" get up.test "$P" /echo/glibc
run g-curl curl -sS --max-time 20 -o "$R/g-curl.body" \
	-w 'peer %{remote_ip}\nstatus %{http_code}\n' "http://up.test:$P/echo/curl"
# musl
if [ -x "$B/resolve-musl" ]; then
	run m-unspec "$B/resolve-musl" gai "$N" unspec
	run m-4 "$B/resolve-musl" gai "$N" 4
	run m-6 "$B/resolve-musl" gai "$N" 6
	run m-addrconfig "$B/resolve-musl" gai "$N" unspec addrconfig
	run m-query-a "$B/resolve-musl" query "$N" A
	run m-query-aaaa "$B/resolve-musl" query "$N" AAAA
	run m-get "$B/resolve-musl" get up.test "$P" /echo/musl
fi
# Node: c-ares and getaddrinfo
if command -v node >/dev/null; then
	run n-resolve4 node "$LIB/resolve.js" resolve4 "$N"
	run n-resolve6 node "$LIB/resolve.js" resolve6 "$N"
	run n-lookup0 node "$LIB/resolve.js" lookup "$N" 0
	run n-lookup4 node "$LIB/resolve.js" lookup "$N" 4
	run n-lookup6 node "$LIB/resolve.js" lookup "$N" 6
	run n-get-lookup node "$LIB/resolve.js" get up.test "$P" /echo/node-lookup lookup
	run n-get-cares node "$LIB/resolve.js" get up.test "$P" /echo/node-cares cares
fi
# Go's own resolver
if [ -x "$B/resolve-go" ]; then
	export GODEBUG=netdns=go
	run go-host "$B/resolve-go" host "$N"
	run go-ip4 "$B/resolve-go" ip "$N" ip4
	run go-ip6 "$B/resolve-go" ip "$N" ip6
	run go-get "$B/resolve-go" get up.test "$P" /echo/go
	unset GODEBUG
fi
# dig
run d-udp dig +qid=4242 +tries=1 +time=5 "$N" A
run d-aaaa dig +tries=1 +time=5 "$N" AAAA
run d-tcp dig +tcp +qid=4343 +tries=1 +time=5 "$N" A
run d-bufsize dig +edns=0 +bufsize=512 +tries=1 +time=5 "$N" AAAA
run d-noedns dig +noedns +tries=1 +time=5 "$N" A
run d-norec dig +norec +tries=1 +time=5 "$N" A
run d-case dig +tries=1 +time=5 SaMe.ExAmPlE A
# byte by byte, to the resolver resolv.conf names and to ::1
run raw4 python3 "$LIB/dns_raw.py" "$D" "$N"
run raw6 python3 "$LIB/dns_raw.py" ::1 "$N"
EOF
} >"$R/all.sh"

AUDIT=$TMPDIR_T/audit.jsonl
start=$(date +%s)
bnd --log-level debug --audit-log "$AUDIT" --allow "domain=up.test" -- bash "$R/all.sh"
# shellcheck disable=SC2154 # bnd sets rc
diag "the jail ran every resolver in $(($(date +%s) - start)) s (exit $rc)"
# boundary's own debug lines, without libbpf's
log=$(grep -v 'debug: libbpf:' <<<"$log")

# --- what they got --------------------------------------------------------------------------------

# addrs LABEL: the addresses in $R/LABEL, one a line: "addr X" lines (our clients), getent's
# "X STREAM" lines, and dig's answer records.
addrs() {
	awk '$1 == "addr" { print $2; next }
	     $2 == "STREAM" { print $1; next }
	     /^[^;].*\tIN\t(A|AAAA)\t/ { print $NF }' "$R/$1" 2>/dev/null
}
v4_synthetic() { [[ $1 =~ ^198\.1[89]\.[0-9]{1,3}\.[0-9]{1,3}$ ]]; }
# fd42:b0d:53::/64, as inet_ntop writes it: "fd42:b0d:53::X[:Y...]" or "fd42:b0d:53:0:W:X:Y:Z".
v6_synthetic() {
	[[ $1 =~ ^fd42:b0d:53:(:[0-9a-f]{1,4}){1,4}$ || $1 =~ ^fd42:b0d:53:0(:[0-9a-f]{1,4}){4}$ ]]
}

# The index an address carries (198.18.0.0 + i, fd42:b0d:53::i), for comparing families.
index_of() {
	python3 "$LIB/synthetic_index.py" "$1"
}

# The reference: dig's A and AAAA answers for $N.
V4=$(addrs d-udp | head -1)
V6=$(addrs d-aaaa | head -1)
if v4_synthetic "$V4" && v6_synthetic "$V6" && [ "$(index_of "$V4")" = "$(index_of "$V6")" ]; then
	ok "dig: $N is $V4 and $V6, synthetic, one index for both families"
else
	fail "dig: $N is $V4 and $V6, synthetic, one index for both families"
	diag "A: $(cat "$R/d-udp")" "AAAA: $(cat "$R/d-aaaa")"
fi

# expect_addrs LABEL FAMILIES WHAT: LABEL's output has exit 0 and addresses of exactly the
# families in FAMILIES (4, 6 or 46), each one $V4 or $V6.
expect_addrs() {
	local label=$1 fams=$2 what=$3 a got4="" got6="" problems=""
	if [ ! -e "$R/$label" ]; then
		fail "$what: never ran"
		return
	fi
	grep -qx "rc 0" "$R/$label" || problems="$problems; $(grep '^rc ' "$R/$label")"
	for a in $(addrs "$label"); do
		if v4_synthetic "$a"; then
			got4=4
			[ "$a" = "$V4" ] || problems="$problems; $a is not $V4"
		elif v6_synthetic "$a"; then
			got6=6
			[ "$a" = "$V6" ] || problems="$problems; $a is not $V6"
		else
			problems="$problems; $a is not synthetic"
		fi
	done
	[ "$got4$got6" = "$fams" ] || problems="$problems; families '$got4$got6', want '$fams'"
	if [ -z "$problems" ]; then
		ok "$what: $(addrs "$label" | sort -u | tr '\n' ' ')"
	else
		fail "$what"
		diag "${problems#; }" "output: $(cat "$R/$label")"
	fi
}

expect_addrs g-py-unspec 46 "glibc getaddrinfo (python3), AF_UNSPEC: both families, dig's addresses"
expect_addrs g-py-4 4 "glibc getaddrinfo (python3), AF_INET"
expect_addrs g-py-6 6 "glibc getaddrinfo (python3), AF_INET6"
expect_addrs g-ahosts 46 "glibc getent ahosts (AF_UNSPEC, AI_ADDRCONFIG)"
expect_addrs g-ahostsv4 4 "glibc getent ahostsv4 (AF_INET, AI_ADDRCONFIG)"
expect_addrs g-ahostsv6 6 "glibc getent ahostsv6 (AF_INET6, AI_ADDRCONFIG, AI_V4MAPPED)"
expect_addrs g-query-a 4 "glibc res_query A"
expect_addrs g-query-aaaa 6 "glibc res_query AAAA"
expect_addrs g-vc 4 "glibc res_query with options use-vc"
expect_addrs g-vc-gai 46 "glibc getaddrinfo with options use-vc (getent ahosts)"
expect_addrs g-edns0 46 "glibc getaddrinfo with options edns0 (getent ahosts)"
for f in g-query-a g-query-aaaa; do
	contains "glibc res_query: the reply is a response with RD echoed ($f)" "$(cat "$R/$f")" \
		" rd 1 qr 1"
done
# use-vc: the query went over TCP to port 53, and no datagram was sent at all.
st=$(cat "$R/g-vc.strace" 2>/dev/null)
if grep -qE 'socket\(AF_INET6?, SOCK_STREAM' <<<"$st" &&
	grep -qE 'connect\(.*htons\(53\)' <<<"$st" &&
	! grep -qE 'SOCK_DGRAM|sendmmsg|sendto\(.*htons\(53\)' <<<"$st"; then
	ok "glibc options use-vc: the query went over TCP only (strace)"
else
	fail "glibc options use-vc: the query went over TCP only (strace)"
	diag "strace: $st"
fi

if [ -z "$MUSL" ]; then
	for _ in 1 2 3 4 5 6; do skip "musl-gcc is not installed (Debian package musl-tools)"; done
else
	expect_addrs m-unspec 46 "musl getaddrinfo, AF_UNSPEC (A and AAAA sent in parallel)"
	expect_addrs m-4 4 "musl getaddrinfo, AF_INET"
	expect_addrs m-6 6 "musl getaddrinfo, AF_INET6"
	expect_addrs m-addrconfig 46 "musl getaddrinfo, AF_UNSPEC with AI_ADDRCONFIG"
	expect_addrs m-query-a 4 "musl res_query A"
	expect_addrs m-query-aaaa 6 "musl res_query AAAA"
fi

if ! command -v node >/dev/null; then
	for _ in 1 2 3 4 5; do skip "node is not installed (Debian package nodejs)"; done
else
	expect_addrs n-resolve4 4 "node dns.resolve4 (c-ares)"
	expect_addrs n-resolve6 6 "node dns.resolve6 (c-ares)"
	expect_addrs n-lookup0 46 "node dns.lookup (getaddrinfo), any family"
	expect_addrs n-lookup4 4 "node dns.lookup (getaddrinfo), family 4"
	expect_addrs n-lookup6 6 "node dns.lookup (getaddrinfo), family 6"
fi

if [ -z "$GO" ]; then
	for _ in 1 2 3; do skip "go is not installed (Debian package golang-go)"; done
else
	expect_addrs go-host 46 "go net.LookupHost (pure Go resolver, CGO_ENABLED=0)"
	expect_addrs go-ip4 4 "go net.Resolver.LookupIP ip4"
	expect_addrs go-ip6 6 "go net.Resolver.LookupIP ip6"
fi

# dig: what the header and the OPT record say.
expect_addrs d-tcp 4 "dig +tcp"
expect_addrs d-bufsize 6 "dig +edns=0 +bufsize=512"
expect_addrs d-noedns 4 "dig +noedns"
expect_addrs d-norec 4 "dig +norec"
expect_addrs d-case 4 "dig SaMe.ExAmPlE: names are case-insensitive"
# dig_check LABEL DESC ERE...: every ERE matches a line of LABEL's output.
dig_check() {
	local label=$1 desc=$2 e missing=""
	shift 2
	for e in "$@"; do
		grep -qE -- "$e" "$R/$label" || missing="$missing '$e'"
	done
	if [ -z "$missing" ]; then ok "$desc"; else
		fail "$desc"
		diag "missing:$missing" "output: $(cat "$R/$label")"
	fi
}
# dig_lacks LABEL DESC ERE: no line of LABEL's output matches ERE.
dig_lacks() {
	if grep -qE -- "$3" "$R/$1"; then
		fail "$2"
		diag "unexpected: $(grep -E -- "$3" "$R/$1")"
	else ok "$2"; fi
}
dig_check d-udp "dig UDP: id 4242 echoed, QR AA RD RA, NOERROR, EDNS0, from the server asked" \
	'status: NOERROR, id: 4242$' '^;; flags: qr aa rd ra;' '^; EDNS: version: 0, flags:; udp: 1232$' \
	"^;; SERVER: $FAKE_DNS#53\\($FAKE_DNS\\) \\(UDP\\)"
dig_lacks d-udp "dig UDP: no complaint about the reply (ID mismatch, wrong source, truncation)" \
	'Warning|mismatch|unexpected source|[Tt]runcated'
dig_check d-tcp "dig +tcp: id 4343 echoed over TCP, answered" 'status: NOERROR, id: 4343$' \
	"^;; SERVER: $FAKE_DNS#53\\($FAKE_DNS\\) \\(TCP\\)" '^;; flags: qr aa rd ra; QUERY: 1, ANSWER: 1'
dig_check d-bufsize "dig +bufsize=512: an OPT record in the reply, which fits in 512 bytes" \
	'^; EDNS: version: 0' '^;; MSG SIZE  rcvd: ([0-9]{1,2}|[1-4][0-9]{2}|50[0-9]|51[0-2])$'
dig_lacks d-noedns "dig +noedns: no OPT record in the reply" 'EDNS|OPT PSEUDOSECTION'
dig_check d-noedns "dig +noedns: no additional records" \
	'^;; flags: qr aa rd ra; QUERY: 1, ANSWER: 1, AUTHORITY: 0, ADDITIONAL: 0$'
dig_check d-norec "dig +norec: RD clear in the reply as in the query" '^;; flags: qr aa ra;'
dig_check d-case "dig SaMe.ExAmPlE: the question echoed as asked (0x20 case kept)" \
	'^;SaMe\.ExAmPlE\.[[:space:]]+IN[[:space:]]+A$' \
	'^SaMe\.ExAmPlE\.[[:space:]]+60[[:space:]]+IN[[:space:]]+A[[:space:]]'

# Byte by byte: dns_raw.py's own judgement, and the addresses it got.
for srv in raw4 raw6; do
	for label in udp-rd udp-nord udp-edns512 udp-noedns tcp-pipelined tcp-split; do
		line=$(grep "^$label: " "$R/$srv" 2>/dev/null)
		bad=""
		case $line in
		"$label: ok "*)
			for a in ${line#"$label: ok "}; do
				[ "$a" = "$V4" ] || [ "$a" = "$V6" ] || bad="$bad $a"
			done
			;;
		*) bad="${line:-no result}" ;;
		esac
		what=$FAKE_DNS
		[ "$srv" = raw6 ] && what=::1
		case $label in
		udp-rd) d="UDP, RD set: id, RD and the mixed-case question echoed, from $what:53" ;;
		udp-nord) d="UDP, RD clear: RD clear in the reply" ;;
		udp-edns512) d="UDP, EDNS0 payload 512: an OPT back, the reply within 512 bytes" ;;
		udp-noedns) d="UDP, no EDNS0: no OPT back, within 512 bytes" ;;
		tcp-pipelined) d="TCP, two queries in one segment: two framed replies, in order" ;;
		tcp-split) d="TCP, a query in three pieces 100 ms apart: one framed reply" ;;
		esac
		if [ -z "$bad" ]; then ok "raw DNS to $what: $d"; else
			fail "raw DNS to $what: $d"
			diag "$bad" "output: $(cat "$R/$srv" 2>/dev/null)"
		fi
	done
done

# --- connections to the answers -------------------------------------------------------------------

# The audit records of the run, one a line: "EVENT DECISION HOST URL COMM".
audit_lines=$(python3 "$LIB/audit_lines.py" "$AUDIT" 2>&1)

# expect_get LABEL COMM WHO WHAT: LABEL's HTTP GET of http://up.test:$P/echo/WHO got 200; the
# address it connected to ("peer") is up.test's synthetic address; boundary's log shows COMM
# connecting to that address and the request allowed for up.test; the audit has the allowed
# request with COMM; and the upstream (listener A) saw it.
expect_get() {
	local label=$1 comm=$2 who=$3 what=$4 addr problems="" url re
	url="http://up.test:$P/echo/$who"
	if [ ! -e "$R/$label" ]; then
		fail "$what: never ran"
		return
	fi
	addr=$(awk '$1 == "peer" { print $2; exit }' "$R/$label")
	grep -qx "status 200" "$R/$label" || problems="$problems; no 'status 200'"
	if v4_synthetic "$addr"; then
		re="$(ere_quote "$comm")\\[[0-9]+\\] connected \\(to $(ere_quote "$addr:$P")\\)"
	elif v6_synthetic "$addr"; then
		re="$(ere_quote "$comm")\\[[0-9]+\\] connected \\(to \\[$(ere_quote "$addr")\\]:$P\\)"
	else
		problems="$problems; it connected to '$addr', not a synthetic address"
		re='^$'
	fi
	[ "$addr" = "$UP4" ] || [ "$addr" = "$UP6" ] ||
		problems="$problems; $addr is not up.test's ($UP4, $UP6)"
	grep -qE "$re" <<<"$log" ||
		problems="$problems; no log line '${comm}[PID] connected (to $addr...)'"
	grep -qF "ALLOW GET $url from ${comm}[" <<<"$log" ||
		problems="$problems; no 'ALLOW GET $url from ${comm}[PID]' log line"
	grep -qxF "request allow up.test $url $comm" <<<"$audit_lines" ||
		problems="$problems; no audit record 'request allow up.test $url $comm'"
	grep -qxF "A GET /echo/$who" "$UP/requests.log" ||
		problems="$problems; the upstream did not see GET /echo/$who"
	if [ -z "$problems" ]; then
		ok "$what: connected to $addr, allowed as up.test, served upstream"
	else
		fail "$what: connected to the answer, allowed as up.test, served upstream"
		diag "${problems#; }" "output: $(cat "$R/$label")"
	fi
}

# up.test's own synthetic pair, as dig got it in the jail.
UP4=$(addrs d-up4 | head -1)
UP6=$(addrs d-up6 | head -1)
diag "up.test is $UP4 and $UP6 in this jail"

expect_get g-get resolve-glibc glibc "glibc getaddrinfo + connect (C client)"
expect_get g-curl curl curl "glibc getaddrinfo in curl"
if [ -n "$MUSL" ]; then
	expect_get m-get resolve-musl musl "musl getaddrinfo + connect (C client)"
else
	skip "musl-gcc is not installed (Debian package musl-tools)"
fi
if command -v node >/dev/null; then
	expect_get n-get-lookup node node-lookup "node http.get, resolved by dns.lookup (getaddrinfo)"
	expect_get n-get-cares node node-cares "node http.get, resolved by c-ares (dns.resolve4)"
else
	skip "node is not installed (Debian package nodejs)"
	skip "node is not installed (Debian package nodejs)"
fi
if [ -z "$GO" ]; then
	skip "go is not installed (Debian package golang-go)"
else
	expect_get go-get resolve-go go "go http.Get (pure Go resolver and dialer)"
fi

# The responder's audit: one record per query (UDP and TCP), each for a name the jail asked
# about, each naming the process that asked.
dns_audit=$(grep '^dns ' <<<"$audit_lines")
dns_names=$(awk '{ print $1, $2, $3, $4 }' <<<"$dns_audit")
if grep -qxF "dns synthetic $N -" <<<"$dns_names" &&
	grep -qxF "dns synthetic up.test -" <<<"$dns_names" &&
	! grep -qvxF -e "dns synthetic $N -" -e "dns synthetic up.test -" <<<"$dns_names"; then
	ok "the audit records the jail's DNS queries ($(wc -l <<<"$dns_audit"), for $N and up.test)"
else
	fail "the audit records the jail's DNS queries, for $N and up.test only"
	diag "$audit_lines"
fi
if ! awk '$5 == "-" { bad = 1 } END { exit bad }' <<<"$dns_audit"; then
	fail "every DNS record names the process that asked"
	diag "$dns_audit"
else
	ok "every DNS record names the process that asked"
fi

if [ -z "$(fake_queries)" ]; then
	ok "the fake resolver named in the jail's resolv.conf ($FAKE_DNS) saw no query at all"
else
	fail "the fake resolver named in the jail's resolv.conf ($FAKE_DNS) saw no query at all"
	diag "$(fake_queries)"
fi
check "boundary and the jailed script exited 0" [ "$rc" = 0 ]
[ "$rc" = 0 ] || diag "$log"

done_testing
