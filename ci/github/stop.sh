#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# stop.sh: the boundary GitHub Action's post step (post.js runs it, whatever became of the job).
# Detaches the boundary that start.sh started (SIGTERM: it flushes its audit log and takes its
# programs off the job's cgroup), then writes `boundary log summary --format markdown` of the
# audit log to $GITHUB_STEP_SUMMARY and the table to the step's log. The job's own steps are over
# by now; the post steps of actions listed before boundary's, and the runner's cleanup of
# leftover processes, run after the jail is lifted.
#
# Reads $RUNNER_TEMP/boundary-action/ (start.sh's state) and GITHUB_STEP_SUMMARY.
set -uo pipefail

SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
state=${RUNNER_TEMP:?RUNNER_TEMP is not set: run this as a GitHub Actions step}/boundary-action
if [ ! -e "$state/audit" ]; then
	echo "boundary did not start in this job: nothing to summarise"
	exit 0
fi
status=0
audit=$(cat "$state/audit")
bin=$(cat "$state/bin")

if [ -e "$state/pid" ]; then
	pid=$(cat "$state/pid")
	$SUDO kill -TERM "$pid" 2>/dev/null
	for _ in $(seq 100); do
		$SUDO kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if $SUDO kill -0 "$pid" 2>/dev/null; then
		echo "::warning title=boundary::boundary (pid $pid) did not detach in 10 s; killed (the job's cgroup stays closed until boundary cleanup)"
		$SUDO kill -KILL "$pid" 2>/dev/null
		status=1
	fi
	rm -f "$state/pid"
fi
grep -E "detached from|error" "$state/boundary.log" 2>/dev/null
own=$(cat "$state/own-cgroup" 2>/dev/null)
[ -n "$own" ] && $SUDO rmdir "$own" 2>/dev/null

shopt -s nullglob
logs=("$audit"/*.jsonl)
if [ "${#logs[@]}" = 0 ]; then
	echo "boundary: no audit log in $audit"
	exit "$status"
fi
$SUDO "$bin" log summary "${logs[@]}" || status=1
if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
	$SUDO "$bin" log summary --format markdown "${logs[@]}" >>"$GITHUB_STEP_SUMMARY" || status=1
fi
exit "$status"
