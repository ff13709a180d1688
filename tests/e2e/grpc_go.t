#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# grpc_go.t: Go's gRPC through boundary's proxy, end to end, as root: what http2.t asks of gRPC's
# C core (python3-grpcio), asked of grpc-go as Debian packages it (golang-google-grpc-dev), over
# TLS and over h2c. Each call is judged as a request on its path (/test.Echo/METHOD): an allowed
# one is answered by the server, a refused one gets PERMISSION_DENIED from boundary (its message
# names the --allow rule that would do) and never reaches the server; a bidi stream goes message
# by message; a deadline is the client's. Then the two implementations meet through boundary:
# the python client against the Go server, the Go client against the python server.
#
# tests/lib/grpc_go is built here, offline, against /usr/share/gocode (GO111MODULE=off), into
# the scratch directory, once per run. It takes grpc_peer.py's arguments and prints its one line
# ("OK ANSWER" or "ERR CODE DETAILS"), though Go spells the codes PermissionDenied where python
# says PERMISSION_DENIED. Jailed, the Go client trusts boundary's CA through SSL_CERT_FILE (Go
# reads it for the system roots), python's through GRPC_DEFAULT_SSL_ROOTS_FILE_PATH.
#
# Servers on the host's loopback, all at 127.0.0.1 (jailed programs find them by name through
# boundary's DNS):
#   grpcgo.test    grpc_go server tls         test.Echo over TLS (the test CA's certificate)
#   grpcgoc.test   grpc_go server insecure    test.Echo over h2c
#   grpcpy.test    grpc_peer.py server tls    test.Echo, python's
# Each logs "/test.Echo/METHOD" a call it took.
#
# $C is a command line, split into words on purpose.
# shellcheck disable=SC2086
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/jail.sh"
. "$(dirname "$0")/../lib/proxy.sh"
. "$(dirname "$0")/../lib/grpc.sh"

if [ "$(id -u)" != 0 ]; then
	skip "needs root (cgroups, BPF, namespaces)"
	done_testing
	exit 0
fi
GO=$(command -v go)
if [ -z "$GO" ] || [ ! -d /usr/share/gocode/src/google.golang.org/grpc ]; then
	skip "needs go and Go's grpc (Debian golang-go, golang-google-grpc-dev; tools/install-deps)"
	done_testing
	exit 0
fi

# Go builds the standard library and grpc into an empty cache: the slowest step, so it starts
# first, in the background, while the servers come up. Nothing is fetched: GOPATH mode, with
# Debian's packaged sources for every import.
BIN=$(shared_dir bin)
GO_DIR=$TMPDIR_T/go
mkdir -p "$GO_DIR/src"
cp "$(dirname "$0")/../lib/grpc_go/main.go" "$GO_DIR/src/"
go_start=$(date +%s%N)
(cd "$GO_DIR/src" &&
	env CGO_ENABLED=0 GO111MODULE=off GOFLAGS= GOTOOLCHAIN=local GOPROXY=off \
		GOPATH=/usr/share/gocode GOCACHE="$GO_DIR/cache" \
		"$GO" build -o "$BIN/grpc_go" .) >"$GO_DIR/build.log" 2>&1 &
GO_BUILD=$!
at_exit "kill $GO_BUILD 2>/dev/null"

proxy_suite --no-testhost

PY=/usr/bin/python3
GRPC_PEER=$STAGE/lib/grpc_peer.py
GRPC_GO=$BIN/grpc_go

make_cert "$UP" grpcgo ca grpcgo.test \
	"DNS:grpcgo.test,DNS:grpcgoc.test,DNS:grpcpy.test,IP:127.0.0.1" || {
	fail "cannot make the gRPC servers' certificate"
	done_testing
	exit 1
}
echo "127.0.0.1 grpcgo.test grpcgoc.test grpcpy.test" >>"$UP/hosts"
read -r P_GO P_GOC P_PY <<<"$(free_ports 3)"

if wait "$GO_BUILD"; then
	ok "grpc_go builds offline against Debian's grpc ($((($(date +%s%N) - go_start) / 1000000)) ms)"
else
	fail "grpc_go builds offline against Debian's grpc"
	diag "$(cat "$GO_DIR/build.log")"
	done_testing
	exit 1
fi

# server_up NAME CMD...: CMD in the background (it makes $UP/NAME.ready, errors in
# $UP/NAME.err, its calls in $UP/NAME.log), killed at exit; ends the suite if it does not get
# ready.
server_up() {
	local name=$1
	shift
	: >"$UP/$name.log"
	"$@" 2>"$UP/$name.err" &
	at_exit "kill $! 2>/dev/null"
	for _ in $(seq 200); do [ -e "$UP/$name.ready" ] && return 0; sleep 0.05; done
	fail "the $name server did not start: $(cat "$UP/$name.err")"
	done_testing
	exit 1
}
server_up grpcgo "$GRPC_GO" server "$P_GO" tls "$UP/grpcgo.pem" "$UP/grpcgo.key" \
	"$UP/grpcgo.ready" "$UP/grpcgo.log"
server_up grpcgoc "$GRPC_GO" server "$P_GOC" insecure "$UP/grpcgoc.ready" "$UP/grpcgoc.log"
server_up grpcpy $PY "$GRPC_PEER" server "$P_PY" tls "$UP/grpcgo.pem" "$UP/grpcgo.key" \
	"$UP/grpcpy.ready" "$UP/grpcpy.log"

# The servers answer outside any jail, so that "the server never saw it" can fail.
out="SAY: $("$GRPC_GO" client "127.0.0.1:$P_GO" tls "$UP/ca.pem" Say hello 2>&1)
SAYC: $("$GRPC_GO" client "127.0.0.1:$P_GOC" insecure Say hello 2>&1)"
want SAY "OK said:hello" "the Go TLS server answers the Go client outside a jail"
want SAYC "OK said:hello" "the Go h2c server too"
: >"$UP/grpcgo.log"
: >"$UP/grpcgoc.log"


# --- Go to Go ----------------------------------------------------------------------------------
grpc_calls "$GRPC_GO" "grpcgo.test:$P_GO" tls default
grpc_checks "$UP/grpcgo.log" "Go gRPC over TLS (boundary's CA from SSL_CERT_FILE)" \
	PermissionDenied DeadlineExceeded
diag "boundary's refusal as Go's client reports it: $(result SECRET)"

# What the Go client trusts in the jail: boundary sets SSL_CERT_FILE and SSL_CERT_DIR, and binds
# its bundle over the system's (which Go also finds as a file of /etc/ssl/certs, its default
# directory), so any of them will do. With the directory pointed where nothing is, SSL_CERT_FILE
# alone decides: boundary's bundle is trusted, a file of no certificates leaves boundary a
# stranger.
# shellcheck disable=SC2016 # for the jailed shell
bnd --allow "domain=grpcgo.test" -- sh -c '
	echo "SYS: $(env -u SSL_CERT_FILE -u SSL_CERT_DIR "$@" Say hello)"
	echo "FILE: $(SSL_CERT_DIR=/nonexistent "$@" Say hello)"
	echo "EMPTY: $(SSL_CERT_DIR=/nonexistent SSL_CERT_FILE=/dev/null "$@" Say hello)"' \
	_ "$GRPC_GO" client "grpcgo.test:$P_GO" tls default
want SYS "OK said:hello" "Go gRPC with neither variable: trusts the system bundle boundary binds over"
want FILE "OK said:hello" "Go gRPC with SSL_CERT_FILE alone: trusts boundary's bundle"
check "Go gRPC with SSL_CERT_FILE of no certificates: boundary's certificate is not trusted" \
	matches "$(result EMPTY)" "^ERR Unavailable .*x509: certificate signed by unknown authority"

grpc_calls "$GRPC_GO" "grpcgoc.test:$P_GOC" insecure
grpc_checks "$UP/grpcgoc.log" "Go gRPC over h2c" PermissionDenied DeadlineExceeded

: >"$UP/grpcgo.log"
AUD=$TMPDIR_T/grpc_audit.jsonl
bnd --audit-log "$AUD" --allow "domain=grpcgo.test path=/test.Echo/Chat" -- \
	"$GRPC_GO" client "grpcgo.test:$P_GO" tls default Say hello
check "Go gRPC with only Chat allowed: Say gets PermissionDenied" \
	matches "$out" "^ERR PermissionDenied "
contains "naming Say's rule" "$out" "path=/test.Echo/Say"
check "and the server saw no call" [ ! -s "$UP/grpcgo.log" ]
d=$(grep '"event":"request"' "$AUD" 2>/dev/null | grep -F "/test.Echo/Say\"" | head -1)
contains "audit: the refused call's record is a deny" "$d" '"decision":"deny"'
contains "audit: over HTTP/2" "$d" '"http":"2"'

# --- the two implementations through boundary --------------------------------------------------
: >"$UP/grpcgo.log"
# shellcheck disable=SC2016 # for the jailed shell
bnd --allow "domain=grpcgo.test path=/test.Echo/Say" --allow "domain=grpcgo.test path=/test.Echo/Chat" \
	-- sh -c '
	echo "SAY: $("$@" Say hello)"
	echo "CHAT: $("$@" Chat m)"
	echo "SECRET: $("$@" Secret s)"' _ $PY "$GRPC_PEER" client "grpcgo.test:$P_GO" tls default
want SAY "OK said:hello" "python client, Go server, over TLS: an allowed unary call answers"
want CHAT "OK chat:m1 chat:m2 chat:m3" "python client, Go server: bidi Chat"
check "python client, Go server: an unallowed method gets PERMISSION_DENIED" \
	matches "$(result SECRET)" "^ERR PERMISSION_DENIED .*path=/test\\.Echo/Secret"
check "python client, Go server: the server never saw it" not grep -q Secret "$UP/grpcgo.log"

: >"$UP/grpcpy.log"
# shellcheck disable=SC2016 # for the jailed shell
bnd --allow "domain=grpcpy.test path=/test.Echo/Say" --allow "domain=grpcpy.test path=/test.Echo/Chat" \
	-- sh -c '
	echo "SAY: $("$@" Say hello)"
	echo "CHAT: $("$@" Chat m)"
	echo "SECRET: $("$@" Secret s)"' _ "$GRPC_GO" client "grpcpy.test:$P_PY" tls default
want SAY "OK said:hello" "Go client, python server, over TLS: an allowed unary call answers"
want CHAT "OK chat:m1 chat:m2 chat:m3" "Go client, python server: bidi Chat"
check "Go client, python server: an unallowed method gets PermissionDenied" \
	matches "$(result SECRET)" "^ERR PermissionDenied .*path=/test\\.Echo/Secret"
check "Go client, python server: the server never saw it" not grep -q Secret "$UP/grpcpy.log"

done_testing
