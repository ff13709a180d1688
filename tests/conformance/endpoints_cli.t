#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# endpoints_cli.t: every row of endpoints.tsv through `boundary rules from-endpoints LIST`,
# which prints one rule a line and exits 0, or exits 125 with "line L, column C:" and the reason
# on stderr and no rule at all on stdout. Each printed rule is then given to `boundary --allow`,
# which must accept it. Needs no privileges.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/tap.sh
export HOME=$TMPDIR_T
unset BOUNDARY_CONFIG BOUNDARY_ALLOW

# accepted RULES: every rule (a line each) is one --allow takes.
accepted() {
	local r
	while IFS= read -r r; do
		"$BOUNDARY" --allow "$r" --test https://x.test/ >/dev/null 2>&1
		[ $? -le 1 ] || return 1
	done <<<"$1"
}

while IFS=$'\t' read -r id list expect detail source; do
	case "$id" in '' | '#'*) continue ;; esac
	[ "$list" = '""' ] && list=""
	list=$(printf '%b.' "$list")
	list=${list%.}
	run_b rules from-endpoints "$list"
	case "$expect" in
	rules)
		want=""
		if [ "$detail" != - ]; then want=${detail// || /$'\n'}; fi
		if [ "$rc" = 0 ] && [ "$out" = "$want" ] && [ -z "$err" ]; then ok "$id $source"; else
			fail "$id $source"
			diag "want: $want (exit 0)" "got:  $out (exit $rc)" "stderr: $err"
		fi
		[ -n "$want" ] && check "$id: each rule is one --allow accepts" accepted "$out"
		;;
	error)
		where=${detail%:*}
		phrase=${detail##*:}
		case "$err" in
		"boundary: rules from-endpoints: line ${where%%:*}, column ${where#*:}: "*"$phrase"*)
			if [ "$rc" = 125 ] && [ -z "$out" ]; then ok "$id $source"; else
				fail "$id $source (exit $rc, want 125; stdout: $out)"
			fi
			;;
		*)
			fail "$id $source"
			diag "want: line ${where%%:*}, column ${where#*:}: ...$phrase (exit 125)" \
				"got: $err (exit $rc)"
			;;
		esac
		;;
	*) fail "$id: unknown expect $expect" ;;
	esac
done <tests/conformance/endpoints.tsv

# Standard input, several lists, and no list at all.
run_b rules from-endpoints - <<<"api.github.com:443
*.actions.githubusercontent.com:443"
check "- reads the list from standard input" \
	[ "$out" = $'domain=api.github.com port=443\ndomain=*.actions.githubusercontent.com port=443' ]
run_b rules from-endpoints "a.test:443" "b.test:80 c.test:8080"
check "several lists print their rules in order" \
	[ "$out" = $'domain=a.test port=443\ndomain=b.test port=80\ndomain=c.test port=8080' ]
run_b rules from-endpoints "a.test:443" "b.test"
contains "a bad entry in the second list says which list" "$err" \
	"boundary: rules from-endpoints: list 2, line 1, column 7: \"b.test\": no port"
check "and prints no rule from the first" [ -z "$out" ]
run_b rules from-endpoints
expect_rc "no list exits 125" 125
contains "no list says how to give one" "$err" \
	"rules from-endpoints needs a list to read (usage: boundary rules from-endpoints LIST...; - reads standard input)"
run_b rules from-endpoint x:1
contains "a misspelt rules subcommand gets a suggestion" "$err" "did you mean from-endpoints?"
run_b --help
contains "--help names rules from-endpoints" "$out" "  rules from-endpoints  "
run_b help rules from-endpoints
contains "help rules from-endpoints gives its usage" "$out" "boundary rules from-endpoints LIST..."
done_testing
