#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# start.sh: the boundary GitHub Action's main step (main.js runs it). Jails the rest of the job:
# finds the cgroup this step runs in (the runner's job, its later steps included), starts
# `boundary attach --cgroup` on it from a cgroup of its own (a jail's proxy must live outside
# the jail), waits until it says it is attached, and tells later steps where boundary's CA is.
# stop.sh, the action's post step, detaches it and writes the summary.
#
# Reads (main.js sets them from the action's inputs; tests set them directly):
#   BOUNDARY_ACTION_MODE               audit (--dry-run: nothing refused, all recorded) | block
#   BOUNDARY_ACTION_ALLOW              boundary rules, one a line (# comments, blank lines skipped)
#   BOUNDARY_ACTION_ALLOWED_ENDPOINTS  harden-runner's host:port list (rules from-endpoints)
#   BOUNDARY_ACTION_RUNNER_ENDPOINTS   the runner's own hosts, same format; empty: the list in
#                                      runner-endpoints.txt beside this script; "none": no list
#   BOUNDARY_ACTION_SECRETS            --secret specs, one a line (values from this environment)
#   BOUNDARY_ACTION_AUDIT_LOG          the audit log directory (default $RUNNER_TEMP/boundary-audit)
#   BOUNDARY_ACTION_CGROUP             the cgroup to jail, relative to the cgroup2 mount
#                                      (default: this step's own)
#   BOUNDARY_ACTION_BIN                the boundary to run (default: boundary on PATH, else built
#                                      from this checkout with make and installed)
#   RUNNER_TEMP, GITHUB_ENV, GITHUB_OUTPUT   as the runner sets them
# Writes $RUNNER_TEMP/boundary-action/ (state for stop.sh: pid, log, audit directory, cgroup),
# CA variables to $GITHUB_ENV for later steps, and audit-log and mode to $GITHUB_OUTPUT.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
top=$(cd "$here/../.." && pwd -P)

die() {
	echo "::error title=boundary::$*" >&2
	exit 1
}

SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"

: "${RUNNER_TEMP:?RUNNER_TEMP is not set: run this as a GitHub Actions step}"
state=$RUNNER_TEMP/boundary-action
mode=${BOUNDARY_ACTION_MODE:-audit}
audit=${BOUNDARY_ACTION_AUDIT_LOG:-$RUNNER_TEMP/boundary-audit}
case "$mode" in
audit | block) ;;
*)
	die "mode: \"$mode\": use audit (record, refuse nothing) or block (refuse what no rule" \
		"allows)"
	;;
esac
[ -e "$state/pid" ] && die "boundary is already jailing this job (one use of the action per job)"
mkdir -p "$state" "$audit"

# --- boundary itself ------------------------------------------------------------------------

bin=${BOUNDARY_ACTION_BIN:-}
if [ -z "$bin" ] && command -v boundary >/dev/null; then
	bin=$(command -v boundary)
fi
if [ -z "$bin" ]; then
	echo "boundary is not installed: building it from $top"
	(cd "$top" && $SUDO tools/install-deps && make -j"$(nproc)" && $SUDO make install) ||
		die "could not build boundary (see the output above)"
	bin=/usr/local/bin/boundary
fi
[ -x "$bin" ] || die "$bin is not an executable"

# --- the rules -------------------------------------------------------------------------------

args=(--log-level info --audit-log "$audit")
[ "$mode" = audit ] && args+=(--dry-run)
rules=()
# add_rules TEXT: each line of TEXT that is not blank or a # comment, as a rule.
add_rules() {
	local line
	while IFS= read -r line; do
		line=${line#"${line%%[![:space:]]*}"}
		line=${line%"${line##*[![:space:]]}"}
		case "$line" in '' | '#'*) continue ;; esac
		rules+=("$line")
	done <<<"$1"
}
# endpoints WHAT LIST: harden-runner's list (its # comments dropped) as rules, or die saying
# which input was wrong.
endpoints() {
	local out
	# shellcheck disable=SC2001 # a comment on each line of a list, not one string
	out=$(sed 's/#.*//' <<<"$2" | "$bin" rules from-endpoints - 2>&1) ||
		die "$1: ${out#boundary: rules from-endpoints: standard input, }"
	add_rules "$out"
}
runner=${BOUNDARY_ACTION_RUNNER_ENDPOINTS:-}
case "$runner" in
none) ;;
'') endpoints "runner-endpoints.txt" "$(cat "$here/runner-endpoints.txt")" ;;
*) endpoints "runner-endpoints" "$runner" ;;
esac
endpoints "allowed-endpoints" "${BOUNDARY_ACTION_ALLOWED_ENDPOINTS:-}"
add_rules "${BOUNDARY_ACTION_ALLOW:-}"
for r in "${rules[@]}"; do args+=(--allow "$r"); done

# Secrets: their values come from this step's environment (env: on the step), through sudo by
# name. Attached, a secret needs header= (there is no process environment to hold a placeholder).
keep_env=""
while IFS= read -r line; do
	line=${line#"${line%%[![:space:]]*}"}
	case "$line" in '' | '#'*) continue ;; esac
	args+=(--secret "$line")
	keep_env+="${keep_env:+,}${line%%[[:space:]]*}"
done <<<"${BOUNDARY_ACTION_SECRETS:-}"
as_root=()
[ -n "$SUDO" ] && as_root=(sudo ${keep_env:+"--preserve-env=$keep_env"})

printf '%s\n' "${rules[@]}" >"$state/rules.txt"
echo "boundary: $mode mode, ${#rules[@]} allow rules (the runner's own hosts included unless" \
	"runner-endpoints: none), audit log in $audit"
sed 's/^/  /' "$state/rules.txt"

# --- the cgroup ------------------------------------------------------------------------------

cgmount=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
[ -n "$cgmount" ] || die "no cgroup2 file system is mounted (boundary needs cgroup v2)"
cg=${BOUNDARY_ACTION_CGROUP:-$(awk -F: '$1 == "0" { print $3; exit }' /proc/self/cgroup)}
case "$cg" in
'' | /) die "this step runs in the root cgroup: there is no job cgroup to jail (give cgroup:)" ;;
esac
[ -d "$cgmount$cg" ] || die "cgroup $cg: no $cgmount$cg"
# boundary runs beside the job, in a cgroup of its own below the mount's root: a sibling of the
# job's and never inside it, whatever the job's cgroup is.
own=$cgmount/boundary-action-$$
$SUDO mkdir "$own"
echo "$own" >"$state/own-cgroup"
echo "$cg" >"$state/cgroup"
echo "$audit" >"$state/audit"
echo "$bin" >"$state/bin"

# shellcheck disable=SC2016 # for the inner shell
"${as_root[@]}" setsid sh -c '
	echo $$ >"$1/cgroup.procs" && echo $$ >"$2/pid" && shift 2 && exec "$@"' \
	_ "$own" "$state" "$bin" "${args[@]}" attach --cgroup "$cg" \
	</dev/null >"$state/boundary.log" 2>&1 &
for _ in $(seq 300); do
	grep -q "attached to " "$state/boundary.log" 2>/dev/null && break
	[ -e "$state/pid" ] && ! $SUDO kill -0 "$(cat "$state/pid")" 2>/dev/null && break
	sleep 0.1
done
if ! grep -q "attached to " "$state/boundary.log" 2>/dev/null; then
	cat "$state/boundary.log" >&2
	[ -e "$state/pid" ] && $SUDO kill -TERM "$(cat "$state/pid")" 2>/dev/null
	rm -f "$state/pid"
	$SUDO rmdir "$own" 2>/dev/null
	die "boundary did not attach to $cg (its log is above)"
fi
grep "attached to " "$state/boundary.log"

# --- later steps -----------------------------------------------------------------------------

# HTTPS that an HTTP rule intercepts is signed by boundary's CA: later steps' tools trust it
# through a bundle of the system's CAs and it (stream rules, the runner's own, pass TLS unread).
ca=$(sed -n 's/.*HTTPS clients must trust \(.*\); SIGTERM.*/\1/p' "$state/boundary.log" | head -1)
if [ -n "$ca" ]; then
	$SUDO cat "$ca" >"$state/ca.pem"
	cat /etc/ssl/certs/ca-certificates.crt "$state/ca.pem" >"$state/ca-bundle.pem" 2>/dev/null ||
		cp "$state/ca.pem" "$state/ca-bundle.pem"
	if [ -n "${GITHUB_ENV:-}" ]; then
		{
			echo "SSL_CERT_FILE=$state/ca-bundle.pem"
			echo "CURL_CA_BUNDLE=$state/ca-bundle.pem"
			echo "REQUESTS_CA_BUNDLE=$state/ca-bundle.pem"
			echo "GIT_SSL_CAINFO=$state/ca-bundle.pem"
			echo "NODE_EXTRA_CA_CERTS=$state/ca.pem"
			echo "GRPC_DEFAULT_SSL_ROOTS_FILE_PATH=$state/ca-bundle.pem"
		} >>"$GITHUB_ENV"
	fi
fi
if [ -n "${GITHUB_OUTPUT:-}" ]; then
	echo "audit-log=$audit" >>"$GITHUB_OUTPUT"
	echo "mode=$mode" >>"$GITHUB_OUTPUT"
fi
