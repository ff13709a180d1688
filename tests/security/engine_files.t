#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# engine_files.t: the jailed command attacks the policy an engine reads. --js-file is reloaded
# when it changes, and --sh runs its script afresh for each request, so a command that could
# write either (overwrite it, rename another file over it, remove it and put its own in its
# place, in a directory it may write) would decide its own requests. Each file must be
# read-only in the jail and stay in place, and the request after the attempt must still be
# refused by the policy as it was written.
#
# $CURL is a command line (tests/lib/proxy.sh), split into words on purpose.
# shellcheck disable=SC2086
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/jail.sh"
. "$(dirname "$0")/../lib/proxy.sh"
proxy_suite

R=$(shared_dir r)
# Nothing but the jail keeps the command out: a directory anyone may write (no sticky bit), the
# files the command's own (root in the jail is nobody on the host), writable.
chmod 777 "$R"
attack="
	(echo true >\$F) 2>/dev/null && echo 'overwrite: done' || echo 'overwrite: refused'
	(echo ' || true' >>\$F) 2>/dev/null && echo 'append: done' || echo 'append: refused'
	chmod 777 \$F 2>/dev/null && echo 'chmod: done' || echo 'chmod: refused'
	(echo true >$R/new.\$\$ && mv -f $R/new.\$\$ \$F) 2>/dev/null && echo 'rename: done' ||
		echo 'rename: refused'
	rm -f \$F 2>/dev/null && echo 'remove: done' || echo 'remove: refused'
	sleep 1"

printf "r.path !== '/echo/after'\n" >"$R/rule.js"
chown 65534:65534 "$R/rule.js"
chmod 666 "$R/rule.js"
bnd --js-file "$R/rule.js" -- sh -c "
	F=$R/rule.js
	$attack
	$CURL -o /dev/null -w 'after: %{http_code}\n' http://other.test:$P_HTTP/echo/after"
for a in overwrite append chmod rename remove; do
	want "$a" refused "--js-file: the jailed command cannot $a the policy file"
done
want after 403 "--js-file: the request after the attempts is refused by the policy as written"
check "--js-file: the file is as it was" [ "$(cat "$R/rule.js")" = "r.path !== '/echo/after'" ]
lacks "--js-file: boundary reloaded nothing" "$log" "changed"

cat >"$R/rule.sh" <<'SH'
#!/bin/sh
[ "$HTTPJAIL_PATH" != /echo/after ]
SH
chown 65534:65534 "$R/rule.sh"
chmod 777 "$R/rule.sh"
bnd --sh "$R/rule.sh" -- sh -c "
	F=$R/rule.sh
	$attack
	$CURL -o /dev/null -w 'after: %{http_code}\n' http://other.test:$P_HTTP/echo/after"
for a in overwrite append chmod rename remove; do
	want "$a" refused "--sh: the jailed command cannot $a the script"
done
want after 403 "--sh: the request after the attempts is refused by the script as written"

done_testing
