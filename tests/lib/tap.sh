# SPDX-License-Identifier: MIT
#
# tap.sh: the few helpers every shell suite (*.t) uses to speak TAP, which tests/run counts.
# Source it, call ok/fail/skip, check (a command and its arguments, never an eval'd string) or
# the other helpers below, and end with `done_testing`.
#   BOUNDARY  the binary under test (tests/run sets it; build/boundary by default)
#   TMPDIR_T  a scratch directory removed at exit
#   shared_dir NAME  $TMPDIR_T/NAME, made writable by anyone (1777), for what a jailed command
#             must write: root in the jail is the host's nobody, which cannot write $TMPDIR_T
#             (made 0711: nobody can pass through it, not list it or write in it)

: "${BOUNDARY:=build/boundary}"
tap_n=0
tap_failed=0
TMPDIR_T=$(mktemp -d)
trap 'rm -rf "$TMPDIR_T"' EXIT

ok() { tap_n=$((tap_n + 1)); echo "ok $tap_n - $*"; }
fail() {
	tap_n=$((tap_n + 1))
	tap_failed=$((tap_failed + 1))
	echo "not ok $tap_n - $*"
}
skip() { tap_n=$((tap_n + 1)); echo "ok $tap_n # SKIP $*"; }
diag() { printf '# %s\n' "$@"; }

shared_dir() {
	chmod 711 "$TMPDIR_T"
	mkdir -p "$TMPDIR_T/$1"
	chmod 1777 "$TMPDIR_T/$1"
	echo "$TMPDIR_T/$1"
}

# check DESC CMD [ARGS...]: runs CMD with ARGS as they are, never through eval; ok if it succeeds.
# A condition of several parts (&&, ||, a loop) is a small named function in the suite, checked
# the same way: `check "both sides ran" both_sides_done`. Input given to check is CMD's:
# `check "it says so" grep -q "refused" <<<"$err"`.
check() {
	local desc=$1
	shift
	if "$@"; then ok "$desc"; else fail "$desc"; fi
}

# not CMD [ARGS...]: succeeds when CMD fails: `check "nothing is pinned" not pinned "$id"`.
not() { ! "$@"; }

# matches STRING ERE: STRING has a match of the extended regular expression ERE ([[ =~ ]]).
matches() { [[ $1 =~ $2 ]]; }

# run_b ARGS...: runs $BOUNDARY with ARGS; sets $out, $err and $rc.
run_b() {
	out=$("$BOUNDARY" "$@" 2>"$TMPDIR_T/stderr")
	rc=$?
	err=$(cat "$TMPDIR_T/stderr")
}

# expect_rc DESC WANT: ok when $rc is WANT, else says what happened.
expect_rc() {
	if [ "$rc" = "$2" ]; then ok "$1"; else
		fail "$1 (exit $rc, want $2)"
		diag "stdout: $out" "stderr: $err"
	fi
}

# contains DESC HAYSTACK NEEDLE
contains() {
	case "$2" in
	*"$3"*) ok "$1" ;;
	*)
		fail "$1"
		diag "expected to find: $3" "in: $2"
		;;
	esac
}

# lacks DESC HAYSTACK NEEDLE
lacks() {
	case "$2" in
	*"$3"*)
		fail "$1"
		diag "did not expect: $3" "in: $2"
		;;
	*) ok "$1" ;;
	esac
}

done_testing() {
	echo "1..$tap_n"
	[ "$tap_failed" = 0 ]
}
