#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# action.t: the GitHub Action (action.yml, ci/github/) under a simulated runner, as root. A
# scratch cgroup stands for the job: a "job" shell in it runs the action's main step, then the
# job's later steps (curl to the loopback upstream servers of tests/lib/proxy.sh), then the post
# step, as the runner would, with RUNNER_TEMP, GITHUB_WORKSPACE, GITHUB_ENV, GITHUB_OUTPUT and
# GITHUB_STEP_SUMMARY pointing at scratch files. Audit mode (the scripts run directly) lets a
# request no rule allows through and the summary names it, line by line, with the allow: block
# that would admit it; block mode (through main.js and post.js, inputs as the runner passes
# them) refuses it with 403 while the allowed-endpoints entry lets the other through. The
# runner's own hosts are allowed by default; a secrets: line reaches boundary. action.yml's
# required keys, and the GitLab template's, are checked with python3's yaml. Nothing reaches
# beyond loopback; the cgroups, boundary and the job shells go at exit whatever happened.
#
# $CURL-style command lines are split into words on purpose.
# shellcheck disable=SC2086
. "$(dirname "$0")/../lib/tap.sh"

REPO=$(cd "$(dirname "$0")/../.." && pwd -P)

# --- action.yml, without privileges ------------------------------------------------------------

if python3 - "$REPO/action.yml" "$REPO/ci/github/run.js" "$REPO/ci/gitlab/boundary.gitlab-ci.yml" >"$TMPDIR_T/yml.log" 2>&1 <<'EOF'; then
import re, sys, yaml
a = yaml.safe_load(open(sys.argv[1]))
js = open(sys.argv[2]).read()
for k in ("name", "description", "inputs", "runs"):
    assert isinstance(a.get(k), (str, dict)) and a[k], "no %s" % k
for name, i in a["inputs"].items():
    assert isinstance(i, dict) and i.get("description"), "input %s has no description" % name
    assert re.search(r"'?%s'?: '" % re.escape(name), js), "run.js does not pass input %s" % name
for name in ("mode", "allow", "allowed-endpoints", "secrets", "audit-log"):
    assert name in a["inputs"], "no input %s" % name
assert a["inputs"]["mode"]["default"] == "audit"
r = a["runs"]
assert r["using"] in ("node20", "node24"), r["using"]
assert r["main"] == "ci/github/main.js" and r["post"] == "ci/github/post.js", r
assert r.get("post-if") == "always()", "the summary must be written when the job fails too"
# The GitLab template: a hidden job with the script, the summary and the artifacts.
g = yaml.safe_load(open(sys.argv[3]))[".boundary"]
assert "boundary rules from-endpoints" in "\n".join(g["script"]), "no endpoints conversion"
assert any("--format markdown" in l for l in g["after_script"]), "no Markdown summary"
assert g["artifacts"]["when"] == "always" and "boundary-summary.md" in g["artifacts"]["paths"]
EOF
	ok "action.yml has name, description, inputs (each with a description) and runs: main and post; the GitLab template its parts"
else
	fail "action.yml has name, description, inputs (each with a description) and runs: main and post; the GitLab template its parts"
	sed 's/^/# /' "$TMPDIR_T/yml.log"
fi

if ! command -v node >/dev/null; then
	fail "node is not installed (tools/install-deps installs nodejs): the action's main.js cannot be run"
	done_testing
	exit 1
fi

# The JavaScript wrapper hands inputs as the runner gives them (INPUT_ALLOWED-ENDPOINTS, dashes
# kept) to the scripts, which refuse a bad one before anything starts.
mkdir -p "$TMPDIR_T/js"
out=$(env RUNNER_TEMP="$TMPDIR_T/js" BOUNDARY_ACTION_BIN="$BOUNDARY" INPUT_MODE=enforce \
	node "$REPO/ci/github/main.js" 2>&1)
rc=$?
check "main.js: a bad mode fails the step ($rc)" [ "$rc" = 1 ]
contains "main.js: and says what mode takes" "$out" \
	'::error title=boundary::mode: "enforce": use audit (record, refuse nothing) or block'
out=$(env RUNNER_TEMP="$TMPDIR_T/js" BOUNDARY_ACTION_BIN="$BOUNDARY" \
	'INPUT_ALLOWED-ENDPOINTS=api.github.com:443 github.com' node "$REPO/ci/github/main.js" 2>&1)
rc=$?
check "main.js: a bad allowed-endpoints entry fails the step ($rc)" [ "$rc" = 1 ]
contains "main.js: and names the input, the column and why" "$out" \
	'::error title=boundary::allowed-endpoints: line 1, column 30: "github.com": no port'
out=$(env RUNNER_TEMP="$TMPDIR_T/js" node "$REPO/ci/github/post.js" 2>&1)
rc=$?
check "post.js: when boundary never started, nothing to do ($rc: $out)" [ "$rc" = 0 ]

# --- a simulated job, as root ----------------------------------------------------------------

. "$(dirname "$0")/../lib/jail.sh"
. "$(dirname "$0")/../lib/proxy.sh"
proxy_suite --no-testhost

CGROOT=$(cg_root)
JOBS=""

# job_up NAME: a cgroup $CGROOT/bnd-action-$$-NAME with a bash in it that runs, one at a time,
# the lines step NAME hands it, with a runner's environment under $TMPDIR_T/NAME; sets RT (that
# directory).
job_up() {
	local name=$1 cg=$CGROOT/bnd-action-$$-$1 pid
	RT=$TMPDIR_T/$name
	mkdir -p "$RT/temp" "$RT/workspace" "$cg"
	: >"$RT/env"
	: >"$RT/output"
	: >"$RT/summary"
	JOBS="$JOBS $name"
	mkfifo "$RT/in"
	# shellcheck disable=SC2016 # for the inner shells
	sh -c 'echo $$ >"$1/cgroup.procs" && shift && exec "$@"' _ "$cg" \
		bash -c 'exec 3<>"$0"; while read -r line <&3; do eval "$line"; done' "$RT/in" &
	disown
	for _ in $(seq 100); do
		pid=$(head -1 "$cg/cgroup.procs" 2>/dev/null)
		[ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = bash ] && break
		sleep 0.05
	done
	echo "$pid" >"$RT/job.pid"
	step "$name" "export RUNNER_TEMP=$RT/temp GITHUB_WORKSPACE=$RT/workspace GITHUB_ENV=$RT/env GITHUB_OUTPUT=$RT/output GITHUB_STEP_SUMMARY=$RT/summary"
}

# step NAME LINE: runs LINE (a shell line) in job NAME, waits for it (60 s at most); sets $out
# (its output, stderr too) and $rc.
step() {
	local rt=$TMPDIR_T/$1
	rm -f "$rt/rc"
	echo "{ $2; } >$rt/out 2>&1; echo \$? >$rt/rc.tmp; mv $rt/rc.tmp $rt/rc" >"$rt/in"
	for _ in $(seq 1200); do
		[ -e "$rt/rc" ] && break
		sleep 0.05
	done
	rc=$(cat "$rt/rc" 2>/dev/null || echo timeout)
	out=$(cat "$rt/out" 2>/dev/null)
}

jobs_cleanup() {
	local name rt pid cg
	for name in $JOBS; do
		rt=$TMPDIR_T/$name
		cg=$CGROOT/bnd-action-$$-$name
		pid=$(cat "$rt/temp/boundary-action/pid" 2>/dev/null)
		[ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null
		kill -9 "$(cat "$rt/job.pid" 2>/dev/null)" 2>/dev/null
		echo 1 >"$cg/cgroup.kill" 2>/dev/null
		for _ in $(seq 50); do
			rmdir "$cg" 2>/dev/null && break
			[ -d "$cg" ] || break
			sleep 0.1
		done
		own=$(cat "$rt/temp/boundary-action/own-cgroup" 2>/dev/null)
		if [ -n "$own" ] && [ -d "$own" ]; then
			[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
			for _ in $(seq 50); do rmdir "$own" 2>/dev/null && break; sleep 0.1; done
		fi
	done
}
at_exit jobs_cleanup

# same_lines DESC FILE WANT: ok when FILE is WANT exactly, else the first lines that differ.
same_lines() {
	if diff -u <(printf '%s\n' "$3") "$2" >"$TMPDIR_T/diff"; then ok "$1"; else
		fail "$1"
		sed 's/^/# /' "$TMPDIR_T/diff"
	fi
}

CURL_EXE=$(readlink -f "$(command -v curl)")
C="curl -sS --max-time 20 -o /dev/null -w %{http_code}"

# --- audit mode: the scripts as they are ------------------------------------------------------

job_up audit
# allow: as a workflow writes it, a comment and a rule on lines of their own ($'' in the line).
# secrets: a value in the step's environment, set by boundary as a header on allowed requests.
step audit "BOUNDARY_ACTION_SECRETS='ACTION_TOKEN domain=127.0.0.1 header=X-Action-Token' ACTION_TOKEN=s3cret-from-env BOUNDARY_ACTION_BIN=$BOUNDARY BOUNDARY_ACTION_MODE=audit BOUNDARY_ACTION_ALLOW=\$'# the test server A, GET only\\n  method=GET domain=127.0.0.1\\n' bash $REPO/ci/github/start.sh"
check "audit: the main step succeeds ($rc)" [ "$rc" = 0 ]
[ "$rc" = 0 ] || diag "$out"
contains "audit: it says it is attached to the job's cgroup" "$out" \
	"attached to $CGROOT/bnd-action-$$-audit"
contains "audit: it says the mode and where the audit log goes" "$out" \
	"boundary: audit mode, "
STATE=$RT/temp/boundary-action
BPID=$(cat "$STATE/pid" 2>/dev/null)
check "audit: boundary runs outside the job's cgroup" \
	not grep -q "bnd-action-$$-audit" "/proc/$BPID/cgroup"
check "audit: with --dry-run" grep -qz -- "--dry-run" "/proc/$BPID/cmdline"
check "audit: the runner's own hosts are allowed by default" \
	grep -qx 'domain=\*.actions.githubusercontent.com port=443' "$STATE/rules.txt"
# Those rules, given to boundary, admit the runner's log and artifact hosts (TLS unread).
rargs=()
while IFS= read -r r; do rargs+=(--allow "$r"); done <"$STATE/rules.txt"
run_b "${rargs[@]}" --test TCP tcp://results-receiver.actions.githubusercontent.com:443
check "audit: results-receiver (logs, summaries) is admitted ($out)" [ "$rc" = 0 ]
run_b "${rargs[@]}" --test TCP tcp://productionresultssa0.blob.core.windows.net:443
check "audit: blob storage (artifacts, caches) is admitted ($out)" [ "$rc" = 0 ]
run_b "${rargs[@]}" --test TCP tcp://example.com:443
check "audit: nothing else is ($out)" [ "$rc" = 1 ]
check "audit: later steps get boundary's CA in GITHUB_ENV" \
	grep -qx "SSL_CERT_FILE=$STATE/ca-bundle.pem" "$RT/env"
check "audit: a bundle that holds it" grep -q "BEGIN CERTIFICATE" "$STATE/ca-bundle.pem"
check "audit: the outputs name the audit log" \
	grep -qx "audit-log=$RT/temp/boundary-audit" "$RT/output"

# A later step: B is allowed by no rule, and goes through all the same; A is allowed.
before_b=$(conns B)
step audit "$C http://127.0.0.2:$P_HTTP/echo/not-allowed"
check "audit: a request no rule allows goes through ($out)" [ "$out" = 200 ]
check "audit: and reaches its server" [ "$(conns B)" -gt "$before_b" ]
step audit "$C http://127.0.0.1:$P_HTTP/echo/allowed"
check "audit: an allowed request goes through ($out)" [ "$out" = 200 ]
# The secrets: line reached boundary, which read the value (it refuses to start without it) and
# sets the header it names. Which value the upstream gets is secrets.t's business: over plain
# http:// to a bound host it is boundary's placeholder today, not the value (reported).
step audit "curl -sS --max-time 20 http://127.0.0.1:$P_HTTP/echo/secret"
contains "audit: the secrets: input reaches boundary, which sets its header" "$out" \
	'["X-Action-Token", "boundary-secret-ACTION_TOKEN-'

step audit "bash $REPO/ci/github/stop.sh"
check "audit: the post step succeeds ($rc)" [ "$rc" = 0 ]
[ "$rc" = 0 ] || diag "$out"
check "audit: boundary has detached" not kill -0 "$BPID" 2>/dev/null
check "audit: and left no program on the job's cgroup" no_programs "$CGROOT/bnd-action-$$-audit"
check "audit: its own cgroup is gone" [ ! -d "$(cat "$STATE/own-cgroup")" ]
contains "audit: the step's log has the table" "$out" "WOULD-REFUSE"
same_lines "audit: the job summary, line by line" "$RT/summary" "### boundary: the job's network

2 requests allowed, 0 refused, 1 let through by audit mode (--dry-run) that the rules refuse.

| Host | Allowed | Refused | Would be refused | DNS | Processes | Executable |
|---|--:|--:|--:|--:|---|---|
| 127.0.0.2 | 0 | 0 | 1 | 0 | curl | $CURL_EXE |
| 127.0.0.1 | 2 | 0 | 0 | 0 | curl | $CURL_EXE |

To allow what was refused, or what audit mode let through that the rules refuse, add to the action's \`allow:\` (one rule a line):

\`\`\`yaml
allow: |
  domain=127.0.0.2
\`\`\`

Or, for the one program that made every request there (\`exe=\`):

\`\`\`yaml
allow: |
  exe=$CURL_EXE domain=127.0.0.2
\`\`\`"

# --- block mode: through main.js and post.js, inputs as the runner passes them ---------------

job_up block
step block "env BOUNDARY_ACTION_BIN=$BOUNDARY INPUT_MODE=block 'INPUT_ALLOWED-ENDPOINTS=127.0.0.1:$P_HTTP' node $REPO/ci/github/main.js"
check "block: the main step succeeds ($rc)" [ "$rc" = 0 ]
[ "$rc" = 0 ] || diag "$out"
STATE=$RT/temp/boundary-action
BPID=$(cat "$STATE/pid" 2>/dev/null)
check "block: without --dry-run" not grep -qz -- "--dry-run" "/proc/$BPID/cmdline"
check "block: the allowed-endpoints entry is a stream rule" \
	grep -qx "domain=127.0.0.1 port=$P_HTTP" "$STATE/rules.txt"
check "block: the runner's own hosts are allowed here too" \
	grep -qx 'domain=\*.blob.core.windows.net port=443' "$STATE/rules.txt"
before_b=$(conns B)
step block "$C http://127.0.0.2:$P_HTTP/echo/refused"
check "block: a request no rule allows is refused with 403 ($out)" [ "$out" = 403 ]
check "block: and never reaches its server" [ "$(conns B)" = "$before_b" ]
step block "$C http://127.0.0.1:$P_HTTP/echo/allowed"
check "block: the allowed-endpoints host goes through ($out)" [ "$out" = 200 ]
step block "node $REPO/ci/github/post.js"
check "block: the post step succeeds ($rc)" [ "$rc" = 0 ]
[ "$rc" = 0 ] || diag "$out"
check "block: boundary has detached" not kill -0 "$BPID" 2>/dev/null
ROW_A=$(grep -F "| 127.0.0.1" "$RT/summary")
same_lines "block: the job summary, line by line" "$RT/summary" "### boundary: the job's network

1 request allowed, 1 refused.

| Host | Allowed | Refused | DNS | Processes | Executable |
|---|--:|--:|--:|---|---|
| 127.0.0.2 | 0 | 1 | 0 | curl | $CURL_EXE |
$ROW_A

To allow what was refused, add to the action's \`allow:\` (one rule a line):

\`\`\`yaml
allow: |
  domain=127.0.0.2
\`\`\`

Or, for the one program that made every request there (\`exe=\`):

\`\`\`yaml
allow: |
  exe=$CURL_EXE domain=127.0.0.2
\`\`\`"
check "block: the allowed host has its row ($ROW_A)" matches "$ROW_A" \
	"^\| 127\.0\.0\.1(:$P_HTTP)? \| 1 \| 0 \| (0|-) \| curl \| "
done_testing
