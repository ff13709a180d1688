#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# interactive.t: the terminal passes through the jail untouched: an interactive shell and a
# full-screen editor run in it under a real terminal (tmux), read keys and draw.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/tap.sh

if [ "$(id -u)" != 0 ] || ! command -v tmux >/dev/null; then
	skip "needs root and tmux"
	done_testing
	exit 0
fi
S=bnd-it-$$
trap 'tmux kill-session -t "$S" 2>/dev/null; rm -rf "$TMPDIR_T"' EXIT
W=$(shared_dir edit)

screen() { tmux capture-pane -t "$S" -p; }
wait_for() { # wait_for TEXT: up to 5 s for TEXT to be on the screen
	local i
	for i in $(seq 50); do
		screen | grep -qF -- "$1" && return 0
		sleep 0.1
	done
	return 1
}

tmux new-session -d -s "$S" -x 100 -y 25 \
	"$BOUNDARY -- bash --norc -i; echo BOUNDARY-EXIT=\$?; sleep 30"
wait_for '$ ' || wait_for '# '
tmux send-keys -t "$S" 'echo answer-$((6*7)); tty; exit 3' Enter
if wait_for "answer-42" && wait_for "BOUNDARY-EXIT=3"; then
	ok "an interactive bash reads keys from the terminal and its exit status comes back"
else
	fail "an interactive bash reads keys from the terminal and its exit status comes back"
	diag "$(screen)"
fi
if screen | grep -q "^/dev/pts/"; then
	ok "the jailed shell's stdin is the terminal"
else
	fail "the jailed shell's stdin is the terminal"
	diag "$(screen)"
fi
tmux kill-session -t "$S" 2>/dev/null

VI=$(command -v vim || command -v vi)
tmux new-session -d -s "$S" -x 100 -y 25 \
	"$BOUNDARY -- $VI -u NONE $W/note.txt; echo BOUNDARY-EXIT=\$?; sleep 30"
sleep 1
tmux send-keys -t "$S" 'ijailed editing' Escape
if wait_for "jailed editing"; then ok "a full-screen editor draws what is typed"; else
	fail "a full-screen editor draws what is typed"
	diag "$(screen)"
fi
tmux send-keys -t "$S" ':wq' Enter
if wait_for "BOUNDARY-EXIT=0" && [ "$(cat "$W/note.txt" 2>/dev/null)" = "jailed editing" ]; then
	ok "the editor saves and exits 0"
else
	fail "the editor saves and exits 0"
	diag "$(screen)" "file: $(cat "$W/note.txt" 2>&1)"
fi
done_testing
