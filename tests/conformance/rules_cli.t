#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# rules_cli.t: every row of rules.tsv through the command line, `boundary --allow ... --test METHOD
# URL`, which must answer exactly as the engine does: "ALLOW M URL (rule: R)" and exit 0,
# "DENY M URL" and exit 1, or for a rule that does not parse exit 125 with the column and the
# message on stderr. A row's exe column is given as --exe.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/tap.sh
export HOME=$TMPDIR_T
unset BOUNDARY_CONFIG BOUNDARY_ALLOW

while IFS=$'\t' read -r id rules method url expect detail source exe; do
	case "$id" in '' | '#'*) continue ;; esac
	args=()
	rest=$rules
	while :; do
		one=${rest%% || *}
		[ "$one" = '""' ] && one=""
		case "$one" in
		deny:*) args+=(--deny "${one#deny:}") ;;
		*) args+=(--allow "$one") ;;
		esac
		[ "$one" = "$rest" ] || [ "${rest#* || }" = "$rest" ] && break
		rest=${rest#* || }
	done
	# "GET@10.0.0.7": the address the connection goes to, given with --ip.
	case "$method" in
	*@*)
		args+=(--ip "${method#*@}")
		method=${method%%@*}
		;;
	esac
	# the exe column: the program that makes the request (--exe), "-" or none for unknown
	[ -n "$exe" ] && [ "$exe" != - ] && args+=(--exe "$exe")
	run_b "${args[@]}" --test "$method" "$url"
	case "$expect" in
	allow)
		want="ALLOW $method $url (rule: $detail)"
		if [ "$rc" = 0 ] && [ "$out" = "$want" ]; then ok "$id $source"; else
			fail "$id $source"
			diag "want: $want (exit 0)" "got:  $out (exit $rc)" "stderr: $err"
		fi
		;;
	deny)
		want="DENY $method $url"
		case "$detail" in by:*) want+=" (deny rule: ${detail#by:})" ;; esac
		if [ "$rc" = 1 ] && [ "$out" = "$want" ]; then ok "$id $source"; else
			fail "$id $source"
			diag "want: $want (exit 1)" "got:  $out (exit $rc)" "stderr: $err"
		fi
		;;
	error)
		col=${detail%%:*}
		phrase=${detail#*:}
		case "$err" in
		*"column $col: "*"$phrase"*)
			if [ "$rc" = 125 ] && [ -z "$out" ]; then ok "$id $source"; else
				fail "$id $source (exit $rc, want 125; stdout: $out)"
			fi
			;;
		*)
			fail "$id $source"
			diag "want exit 125 and stderr with: column $col: ...$phrase" "got exit $rc: $err"
			;;
		esac
		;;
	esac
done <tests/conformance/rules.tsv
done_testing
