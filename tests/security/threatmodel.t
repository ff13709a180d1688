#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# threatmodel.t: docs/SECURITY.md cannot drift from the tests. Every row of its threat tables
# must name a test file that exists and test descriptions that are in it (tools/check-threat-model).
# The checker is first shown to catch a row with no test, a missing file and a missing
# description, so that its "all rows ok" means something. Needs no root.
. "$(dirname "$0")/../lib/tap.sh"

CHECK=$(dirname "$0")/../../tools/check-threat-model

# --- the checker catches what it must ----------------------------------------------------------

mkdir -p "$TMPDIR_T/repo/tests/security"
printf 'ok "a real test description"\n' >"$TMPDIR_T/repo/tests/security/real.t"
cat >"$TMPDIR_T/doc.md" <<'EOF'
## Threat model

| threat | what stops it | test |
|---|---|---|
| good | x | `tests/security/real.t` "a real test description" |
| no test | x | nothing named |
| missing file | x | `tests/security/gone.t` "anything" |
| missing description | x | `tests/security/real.t` "a real test description", "a test nobody wrote" |

## Residual risks, said plainly
| threat | what stops it | test |
| not a row of the model | x | nothing |
EOF
out=$("$CHECK" "$TMPDIR_T/doc.md" "$TMPDIR_T/repo")
rc=$?
expect_rc "the checker fails a table with bad rows (exit 1)" 1
contains "it passes a row whose test exists" "$out" "ok 5 good"
contains "it fails a row that names no test" "$out" "FAIL 6 no test: names no test file"
contains "it fails a row whose file is missing" "$out" "FAIL 7 missing file: tests/security/gone.t"
contains "it fails a row whose description is not in the file" "$out" \
	'tests/security/real.t has no test "a test nobody wrote"'
lacks "it reads no rows after \"## Residual risks\"" "$out" "not a row of the model"
printf '# Security\n\nno tables\n' >"$TMPDIR_T/empty.md"
out=$("$CHECK" "$TMPDIR_T/empty.md" "$TMPDIR_T/repo")
rc=$?
expect_rc "the checker fails a page without threat tables (exit 2)" 2

# --- docs/SECURITY.md ---------------------------------------------------------------------------

out=$("$CHECK")
rc=$?
n=$(grep -c '^ok ' <<<"$out")
while read -r status line rest; do
	case $status in
	ok) ok "docs/SECURITY.md:$line names its tests: $rest" ;;
	FAIL) fail "docs/SECURITY.md:$line names its tests: $rest" ;;
	esac
done <<<"$out"
expect_rc "every row of docs/SECURITY.md's threat model names tests that exist ($n rows)" 0
ok_rows=$([ "$n" -ge 40 ] && echo yes)
if [ "$ok_rows" = yes ]; then
	ok "the threat model has all its rows ($n)"
else
	fail "the threat model has all its rows (only $n; was a table broken?)"
fi

done_testing
