#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# completion.t: the shells' completion scripts that `boundary completion bash|zsh|fish` writes
# from the tables boundary parses with. The bash script is sourced and asked for completions as
# bash asks (COMP_WORDS, COMP_CWORD); fish's is loaded and asked with `complete -C`; zsh's is
# parsed (zsh -n), loaded, and run with its completion builtins stood in for. A shell that is not
# installed is skipped. Needs no privileges and no network.
. "$(dirname "$0")/../lib/tap.sh"

export HOME=$TMPDIR_T

for sh in bash zsh fish; do
	run_b completion "$sh"
	expect_rc "completion $sh exits 0" 0
	printf '%s\n' "$out" >"$TMPDIR_T/boundary.$sh"
done
if [ -n "${BUILD:-}" ] && [ -f "$BUILD/completions/boundary" ]; then
	check "the build's bash script is the binary's" \
		cmp -s "$BUILD/completions/boundary" "$TMPDIR_T/boundary.bash"
fi

# --- bash: source it, ask as bash asks ----------------------------------------------------------

# comp WORD...: what _boundary offers for the command line WORD... (the last one being typed).
comp() {
	bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		_boundary; printf "%s\n" "${COMPREPLY[@]}"; complete -p boundary >/dev/null' \
		comp "$TMPDIR_T/boundary.bash" "$@" 2>&1
}

# offers DESC WANT WORD...: the completions of WORD... include the line WANT.
offers() {
	local desc=$1 want=$2 got
	shift 2
	got=$(comp "$@")
	if grep -qxF -- "$want" <<<"$got"; then
		ok "$desc"
	else
		fail "$desc"
		diag "completions of: $*" "got: $(tr '\n' ' ' <<<"$got")"
	fi
}

# offers_only DESC WANT WORD...: the completions of WORD... are exactly WANT (space-separated).
offers_only() {
	local desc=$1 want=$2 got
	shift 2
	got=$(comp "$@" | sort | tr '\n' ' ')
	if [ "$got" = "$(tr ' ' '\n' <<<"$want" | sort | tr '\n' ' ')" ]; then
		ok "$desc"
	else
		fail "$desc"
		diag "completions of: $*" "want: $want" "got: $got"
	fi
}

check "bash reads the script" bash -n "$TMPDIR_T/boundary.bash"
offers "bash: a flag by its start" --log-level boundary --log-l
offers_only "bash: --log-level's values" "error warn info debug" boundary --log-level ""
offers_only "bash: --jail-type's values" "weak" boundary --jail-type w
offers_only "bash: a subcommand by its start" "attach" boundary atta
offers "bash: subcommands after boundary's flags" k8s-node boundary --log-level info ""
offers "bash: the jailed command after --" bash boundary --allow domain=x.com -- ba
offers_only "bash: log's one subcommand" "summary" boundary log ""
offers_only "bash: rules' one subcommand" "from-endpoints" boundary rules ""
offers_only "bash: a subcommand's own flags" "--cgroup" boundary attach --cg
offers_only "bash: log summary's --format" "--format" boundary log summary --fo
offers_only "bash: --format's values" "table json markdown" boundary log summary --format ""
offers_only "bash: completion's shells" "bash zsh fish" boundary completion ""
offers "bash: help's topics" flags boundary help ""
offers "bash: help's commands" serve boundary help ""
lacks "bash: a subcommand does not offer another's flags" "$(comp boundary cleanup --)" "--allow"
lacks "bash: no value offered for a free-text flag" "$(comp boundary --allow "")" "attach"
touch "$TMPDIR_T/policy.yaml"
offers "bash: files for --config" "$TMPDIR_T/policy.yaml" boundary --config "$TMPDIR_T/pol"
mkdir "$TMPDIR_T/logs.d"
offers_only "bash: directories for --log-dir" "$TMPDIR_T/logs.d" boundary --log-dir "$TMPDIR_T/logs"

# --- zsh and fish: where installed --------------------------------------------------------------

if command -v zsh >/dev/null; then
	check "zsh reads the script (zsh -n)" zsh -n "$TMPDIR_T/boundary.zsh"
	got=$(zsh -fc 'autoload -U compinit && compinit -u -d "$2/zcompdump" && . "$1" &&
		print -r -- ${_comps[boundary]}' zsh "$TMPDIR_T/boundary.zsh" "$TMPDIR_T" 2>&1)
	check "zsh: loading it binds _boundary to boundary ($got)" [ "$got" = _boundary ]
	# zcomp WORD...: what _boundary offers, its completion builtins and helpers stood in for by
	# functions that print what they are given (compadd's filtering by prefix is zsh's own).
	zcomp() {
		zsh -fc 'compdef() { :; }; . "$1"; shift
			compadd() { if [[ $1 == -a ]]; then print -l -- ${(P)2}
				else shift $(( ${@[(i)--]} )); print -l -- "$@"; fi }
			_files() { print -- "_files $*" }
			_normal() { print -- "_normal ${words[*]} @$CURRENT" }
			_command_names() { print _command_names }
			words=("$@"); CURRENT=$#; _boundary' zsh "$TMPDIR_T/boundary.zsh" "$@" 2>&1
	}
	contains "zsh: --log-level's values" "$(zcomp boundary --log-level '')" "error
warn
info
debug"
	contains "zsh: the subcommands, and commands" "$(zcomp boundary '')" "k8s-node"
	contains "zsh: a subcommand's own flags" "$(zcomp boundary attach --c)" "--cgroup"
	lacks "zsh: not another's" "$(zcomp boundary attach --c)" "--listen"
	check "zsh: log's one subcommand" [ "$(zcomp boundary log '')" = summary ]
	contains "zsh: files for --config" "$(zcomp boundary --config '')" "_files"
	check "zsh: the jailed command after -- is completed as its own" \
		[ "$(zcomp boundary --allow x -- cu)" = "_normal cu @1" ]
else
	for _ in 1 2 3 4 5 6 7 8 9; do skip "zsh is not installed"; done
fi

if command -v fish >/dev/null; then
	check "fish reads the script (fish -n)" fish -n "$TMPDIR_T/boundary.fish"
	# shellcheck disable=SC2016 # fish's $argv
	fishc() { fish -c 'source $argv[1]; complete -C $argv[2]' "$TMPDIR_T/boundary.fish" "$1" |
		cut -f1; }
	contains "fish: --log-level's values" "$(fishc 'boundary --log-level ')" "debug"
	contains "fish: a subcommand by its start" "$(fishc 'boundary atta')" "attach"
	contains "fish: a subcommand's own flags" "$(fishc 'boundary attach --cg')" "--cgroup"
	contains "fish: log's one subcommand" "$(fishc 'boundary log ')" "summary"
else
	for _ in 1 2 3 4 5; do skip "fish is not installed"; done
fi

done_testing
