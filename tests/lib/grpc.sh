# SPDX-License-Identifier: MIT
# shellcheck shell=bash
#
# grpc.sh: the gRPC calls e2e/http2.t (python's grpcio, tests/lib/grpc_peer.py) and
# e2e/grpc_go.t (Go's grpc, tests/lib/grpc_go) make through boundary to a test.Echo server, and
# the checks on them. Source after proxy.sh. Both clients print one line, "OK ANSWER" or
# "ERR CODE MESSAGE", and both servers log "/test.Echo/METHOD" for each call they take.
#
#   grpc_calls CLIENT HOST:PORT HOW...
#                       CLIENT (a command line, split into words on purpose) calls Say, Chat,
#                       Secret and Slow (with a 1 s deadline on its 3 s) at HOST:PORT, HOW being
#                       "tls default" or "insecure", from one jail whose rules allow Say, Chat
#                       and Slow; a line each in $out: SAY, CHAT, SECRET, SLOW
#   grpc_checks LOG WHAT DENIED LATE
#                       the assertions on that: LOG is the server's, WHAT names the client and
#                       transport in each description, DENIED and LATE are the client's names
#                       for PERMISSION_DENIED and DEADLINE_EXCEEDED

grpc_calls() {
	local client=$1 target=$2
	shift 2
	# shellcheck disable=SC2016 # for the jailed shell
	bnd --allow "domain=${target%:*} path=/test.Echo/Say" \
		--allow "domain=${target%:*} path=/test.Echo/Chat" \
		--allow "domain=${target%:*} path=/test.Echo/Slow" -- sh -c '
		p=$1; t=$2; shift 2
		echo "SAY: $($p client "$t" "$@" Say hello)"
		echo "CHAT: $($p client "$t" "$@" Chat m)"
		echo "SECRET: $($p client "$t" "$@" Secret s)"
		echo "SLOW: $($p client "$t" "$@" Slow z --deadline 1)"' \
		_ "$client" "$target" "$@"
}

grpc_checks() {
	local glog=$1 what=$2 denied=$3 late=$4
	want SAY "OK said:hello" "$what: an allowed unary call answers"
	want CHAT "OK chat:m1 chat:m2 chat:m3" "$what: bidi Chat, each answer before the next message"
	check "$what: an unallowed method gets $denied" matches "$(result SECRET)" "^ERR $denied "
	contains "$what: its message is boundary's" "$(result SECRET)" "boundary"
	contains "$what: and names the rule that would allow it" "$(result SECRET)" \
		"path=/test.Echo/Secret"
	check "$what: the server never saw the refused method" not grep -q Secret "$glog"
	check "$what: the server saw the allowed Say" grep -qx /test.Echo/Say "$glog"
	check "$what: and Chat" grep -qx /test.Echo/Chat "$glog"
	check "$what: a 1 s deadline on a 3 s call: $late" matches "$(result SLOW)" "^ERR $late"
}
