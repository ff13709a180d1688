#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# valgrind.t: boundary under valgrind's memcheck (leak check full, every error an exit status of
# 99), on the paths that valgrind can run, in well under a minute:
#   - --test over a config file and flags (the YAML loader, options, the rules engine);
#   - `log summary` over an audit log with every kind of record (the reader and the summary);
#   - generate-config, and a rule refused with its error message;
#   - as root, a whole jail set up and torn down: cgroup, BPF load and attach, pins, network
#     namespace, DNS table, audit stream and agent's writer thread, the proxy's workers.
# What valgrind cannot run: the jail's first process. boundary starts it with
# clone3(CLONE_INTO_CGROUP), which has no other form, and valgrind 3.19 answers clone3 with
# ENOSYS (so that glibc falls back to clone for threads). Under valgrind, a jail therefore ends
# at that step with boundary's own message; this suite checks that it gets there, says so, and
# leaves nothing behind, and memcheck checks everything before and after. The proxy's handling
# of connections is covered by the ASan+UBSan runs (make test SAN=1) instead.
#
# It runs the plain build ($BUILD/boundary) even under SAN=1: valgrind and ASan do not mix.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/jail.sh"

VG_BOUNDARY=$PWD/${BUILD:-build}/boundary
SUPP=$PWD/tests/lib/valgrind.supp
export HOME=$TMPDIR_T
clean_env

if ! command -v valgrind >/dev/null; then
	skip "valgrind is not installed (tools/install-deps installs it)"
	done_testing
	exit 0
fi
if [ ! -x "$VG_BOUNDARY" ]; then
	fail "$VG_BOUNDARY is not built (make all)"
	done_testing
	exit 1
fi

# vg NAME ARGS...: runs boundary ARGS under memcheck; sets $out, $rc, $err and $vg (what
# memcheck said: one file per process, warnings about bpf commands it does not know left out).
vg() {
	local name=$1
	shift
	out=$(timeout 120 valgrind -q --leak-check=full --show-leak-kinds=definite,indirect,possible \
		--errors-for-leak-kinds=definite,indirect,possible --error-exitcode=99 \
		--suppressions="$SUPP" --log-file="$TMPDIR_T/vg.$name.%p" \
		"$VG_BOUNDARY" "$@" 2>"$TMPDIR_T/err.$name")
	rc=$?
	err=$(cat "$TMPDIR_T/err.$name")
	vg=$(cat "$TMPDIR_T"/vg."$name".* 2>/dev/null | grep -v 'WARNING: unhandled eBPF command')
}

# memcheck_clean DESC: no error, no leak (and the status is not memcheck's).
memcheck_clean() {
	if [ "$rc" != 99 ] && [ -z "$vg" ]; then
		ok "$1: memcheck clean"
	else
		fail "$1: memcheck clean (exit $rc)"
		printf '%s\n' "$vg" | head -n 60 | sed 's/^/# /'
	fi
}

# --- no privileges ---------------------------------------------------------------------------

cat >"$TMPDIR_T/config.yaml" <<'EOF'
allowlist:
  - "domain=api.anthropic.com"
  - "method=GET,HEAD domain=*.github.com path=/api/*,/repos/*"
  - "domain=127.0.0.1 port=8080 path=/a/*"
log_level: info
upstream_timeout: 30
EOF
vg test --config "$TMPDIR_T/config.yaml" --allow "method=POST domain=up.test path=/upload" \
	--test https://api.github.com/repos/coder/boundary --test POST https://api.github.com/api/x \
	--test POST http://up.test/upload --test http://127.0.0.1:8080/a/b/c --test https://evil.test/
contains "--test: an allowed request" "$out" "ALLOW GET https://api.github.com/repos/coder/boundary"
contains "--test: a denied one" "$out" "DENY POST https://api.github.com/api/x"
expect_rc "--test: some denied, status 1" 1
memcheck_clean "--test over a config file"

cat >"$TMPDIR_T/audit.jsonl" <<'EOF'
{"time":"2026-11-23T10:00:00.000Z","event":"request","decision":"allow","kind":"https","method":"GET","url":"https://api.github.com/x","host":"api.github.com","port":443,"rule":"domain=api.github.com","status":200,"pid":7,"comm":"curl","jail":"j1"}
{"time":"2026-11-23T10:00:01.000Z","event":"request","decision":"deny","kind":"http","method":"POST","url":"http://evil.test/\u00e9","host":"evil.test","port":80,"reason":"no rule matches","status":403,"pid":8,"comm":"python3","jail":"j1"}
{"time":"2026-11-23T10:00:02.000Z","event":"end","kind":"https","host":"api.github.com","bytes_up":100,"bytes_down":2000,"duration_ms":12,"jail":"j1"}
{"time":"2026-11-23T10:00:03.000Z","event":"dns","decision":"synthetic","kind":"dns","host":"example.com","dns_type":"AAAA","pid":9,"comm":"node","jail":"j1"}
{"event":"dropped","count":5,"jail":"j1"}
not json at all
EOF
vg summary log summary "$TMPDIR_T/audit.jsonl"
contains "log summary: the table names a host" "$out" "evil.test"
memcheck_clean "log summary (table)"
vg summary-json log summary --format json "$TMPDIR_T/audit.jsonl"
contains "log summary --format json: JSON" "$out" "{"
memcheck_clean "log summary (json)"

vg genconf generate-config
contains "generate-config writes the allowlist key" "$out" "allowlist:"
expect_rc "generate-config exits 0" 0
memcheck_clean "generate-config"

vg badrule --allow "domain=a.example nosuchkey=1" --test http://a.example/
contains "a bad rule is refused with its reason" "$err" "nosuchkey"
memcheck_clean "a refused rule"

# --- a jail, as far as valgrind goes -------------------------------------------------------

if [ "$(id -u)" != 0 ]; then
	skip "a jail under valgrind needs root"
	done_testing
	exit
fi
state_snapshot "$TMPDIR_T/before"
sock=$TMPDIR_T/agent.sock
vg jail --log-level debug --audit-log "$TMPDIR_T/audit" --log-proxy-socket-path "$sock" \
	--allow "domain=up.test" -- true
state_snapshot "$TMPDIR_T/after"
if [ "$rc" = 0 ]; then
	# a valgrind that can run clone3: the whole run then went through memcheck
	ok "the jail ran its command under valgrind"
else
	contains "the jail stops at clone3, which valgrind does not run, and says so" "$err" \
		"cannot start the jail (clone3)"
fi
logged "the BPF programs were loaded and attached first" "$err" "debug: jail [^ ]+: cgroup "
memcheck_clean "a jail's set-up and teardown"
id=$(jail_field "$TMPDIR_T/err.jail" id)
left=$(state_leftovers "$TMPDIR_T/before" "$TMPDIR_T/after" "${id:-unknown}")
if [ -z "$left" ]; then ok "nothing left behind"; else
	fail "nothing left behind"
	diag "$left"
fi

done_testing
