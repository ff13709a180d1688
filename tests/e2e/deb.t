#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# deb.t: the Debian package, as a user gets it. Builds it with tools/make-deb (dpkg-buildpackage
# in a copy of the tree, lintian with no error or warning), installs it with dpkg -i, runs a
# jail from /usr/bin/boundary against a local server (an allowed request served, a refused one
# answered by boundary), runs boundary doctor from it, then removes it (dpkg -r, dpkg -P) and
# checks nothing of it is left. The machine is put back as it was, even when a check fails: the
# package is purged at exit. Skipped, saying why, where the package or a boundary of another
# origin is already installed (it would be replaced), or where Debian's tooling is missing.
# Takes minutes: the package build compiles the whole program.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/jail.sh"
. "$(dirname "$0")/../lib/proxy.sh"

if [ "$(id -u)" != 0 ]; then
	skip "needs root (dpkg -i, and the jail)"
	done_testing
	exit 0
fi
for t in dpkg-buildpackage dh lintian fakeroot; do
	if ! command -v "$t" >/dev/null; then
		skip "needs $t (tools/install-deps installs debhelper, dpkg-dev, fakeroot, lintian)"
		done_testing
		exit 0
	fi
done
# What dpkg -i would overwrite and dpkg -P then remove: not ours to touch.
st=$(dpkg-query -W -f='${Status}' boundary 2>/dev/null || true)
case "$st" in
"" | "unknown ok not-installed") st= ;;
esac
for f in /usr/bin/boundary /usr/share/man/man1/boundary.1.gz /lib/systemd/system/boundary@.service \
	${st:+"package state: $st"}; do
	if [ -e "$f" ] || [ "$f" = "package state: $st" ]; then
		skip "a boundary is already installed here ($f): not replaced"
		done_testing
		exit 0
	fi
done

top=$(cd "$(dirname "$0")/../.." && pwd -P)
proxy_suite --no-testhost

# pkg ARGS...: dpkg ARGS, waiting up to 5 minutes while another apt or dpkg holds its lock;
# sets $out and $rc.
pkg() {
	local _
	for _ in $(seq 300); do
		out=$(dpkg "$@" 2>&1)
		rc=$?
		[ "$rc" = 0 ] || ! grep -q "lock was locked by another process" <<<"$out" && return
		sleep 1
	done
}
# Whatever happens below, the package goes.
at_exit 'pkg -P boundary'

# --- build --------------------------------------------------------------------------------------

tree_before=$(git -C "$top" status --porcelain --untracked-files=all)
start=$(date +%s)
if (cd "$top" && tools/make-deb "$TMPDIR_T/deb") >"$TMPDIR_T/make-deb.log" 2>&1; then
	ok "tools/make-deb builds the package, lintian reports no error or warning ($(($(date +%s) - start)) s)"
else
	fail "tools/make-deb builds the package, lintian reports no error or warning"
	diag "$(tail -n 30 "$TMPDIR_T/make-deb.log")"
	done_testing
	exit 1
fi
check "the build left the tree as it was" [ "$(git -C "$top" status --porcelain \
	--untracked-files=all)" = "$tree_before" ]
deb=$(ls "$TMPDIR_T"/deb/boundary_*_amd64.deb)
check "one boundary_VERSION_amd64.deb" [ "$(wc -w <<<"$deb")" = 1 ]
deps=$(dpkg-deb -f "$deb" Depends)
contains "its dependencies are computed (shlibs: libbpf, libssl)" "$deps" "libbpf1"
contains "... libssl too" "$deps" "libssl3"
files=$(dpkg-deb -c "$deb")
for f in ./usr/bin/boundary ./usr/share/man/man1/boundary.1.gz \
	./lib/systemd/system/boundary@.service ./usr/share/doc/boundary/copyright \
	./usr/share/doc/boundary/README.md.gz \
	./usr/share/bash-completion/completions/boundary \
	./usr/share/zsh/vendor-completions/_boundary \
	./usr/share/fish/vendor_completions.d/boundary.fish; do
	contains "it holds $f" "$files" "$f"
done

# --- install, use -------------------------------------------------------------------------------

pkg -i "$deb"
expect_rc "dpkg -i installs it" 0
check "dpkg says it is installed" [ "$(dpkg-query -W -f='${Status}' boundary)" = \
	"install ok installed" ]
version=$(dpkg-deb -f "$deb" Version)
out=$(/usr/bin/boundary --version)
check "/usr/bin/boundary is the package's version ($version)" [ "$out" = "boundary $version" ]
man_page() { man -w boundary >/dev/null 2>&1; }
check "man boundary finds its page" man_page
check "the unit template runs /usr/bin/boundary" grep -q '^ExecStart=/usr/bin/boundary ' \
	/lib/systemd/system/boundary@.service

# The demo's jail: a local server, one request allowed and one refused.
BOUNDARY=/usr/bin/boundary bnd --allow "domain=up.test path=/echo/allowed" -- sh -c "
	curl -sS --max-time 20 http://up.test:$P_HTTP/echo/allowed; echo
	curl -sS --max-time 20 http://up.test:$P_HTTP/echo/refused"
expect_rc "a jail from /usr/bin/boundary runs the command" 0
contains "... whose allowed request reaches the server" "$out" '"path": "/echo/allowed"'
contains "... and whose refused request is answered by boundary" "$out" "Blocked by Boundary"
check "... which the server logged" grep -q "/echo/allowed" "$UP/requests.log"
check "... while it never saw the refused one" not grep -q "/echo/refused" "$UP/requests.log"

out=$(/usr/bin/boundary doctor 2>&1)
rc=$?
expect_rc "/usr/bin/boundary doctor: the default mode works" 0

# --- remove -------------------------------------------------------------------------------------

pkg -r boundary
expect_rc "dpkg -r removes it" 0
check "/usr/bin/boundary is gone" not test -e /usr/bin/boundary
installed() { dpkg-query -W -f='${Status}' boundary 2>/dev/null | grep -q " installed$"; }
check "dpkg no longer has it installed" not installed
pkg -P boundary
expect_rc "dpkg -P purges it" 0
left=$(dpkg-deb -c "$deb" | awk '{ print substr($6, 2) }' | while read -r f; do
	[ -f "$f" ] && echo "$f"
done)
check "no file of the package is left" [ -z "$left" ]
check "nor its doc directory" not test -e /usr/share/doc/boundary
check "dpkg has forgotten it" [ -z "$(dpkg-query -W -f='${Status}' boundary 2>/dev/null |
	grep -v not-installed)" ]

done_testing
