#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# cli.t: boundary's command line, end to end: flags, the config file, the environment, --test,
# generate-config, exit statuses and error messages. Needs no privileges and no network: every
# case either stops before the jail or uses --test. HOME points at the scratch directory so the
# user's own config file is never read.
. "$(dirname "$0")/../lib/tap.sh"

export HOME=$TMPDIR_T
unset BOUNDARY_ALLOW BOUNDARY_CONFIG BOUNDARY_LOG_LEVEL BOUNDARY_LOG_DIR PROXY_PORT \
	BOUNDARY_JAIL_TYPE BOUNDARY_USE_REAL_DNS BOUNDARY_NO_USER_NAMESPACE DISABLE_AUDIT_LOGS \
	CODER_AGENT_BOUNDARY_LOG_PROXY_SOCKET_PATH BOUNDARY_PPROF BOUNDARY_PPROF_PORT \
	BOUNDARY_SESSION_CORRELATION_ENABLED BOUNDARY_SESSION_ID_INJECT_TARGET BOUNDARY_USER \
	SUDO_USER SUDO_UID SUDO_GID

# --- version and help ---------------------------------------------------------------------------

run_b --version
expect_rc "--version exits 0" 0
case "$out" in
"boundary "?*) ok "--version prints \"boundary <version>\"" ;;
*) fail "--version prints \"boundary <version>\" (got: $out)" ;;
esac

run_b --version --no-such-flag
expect_rc "--version stops before anything else" 0

run_b --help
expect_rc "--help exits 0" 0
lines=$(printf '%s\n' "$out" | wc -l)
# One line per subcommand, the main flags, and a count of the rest (boundary help flags lists
# them): a new flag adds no line, a new subcommand one. 30 lines today.
check "--help fits one screen ($lines lines)" [ "$lines" -le 34 ]
widest=$(printf '%s\n' "$out" | awk '{ if (length($0) > w) w = length($0) } END { print w + 0 }')
check "--help fits 80 columns ($widest)" [ "$widest" -le 80 ]
contains "--help shows the claude example" "$out" \
	'sudo boundary --allow "domain=api.anthropic.com" -- claude'
contains "--help shows the --test example" "$out" \
	'boundary --allow "domain=*.github.com" --test https://api.github.com/repos'
contains "--help names --test" "$out" "--test [METHOD] URL"
contains "--help names generate-config" "$out" "generate-config"

run_b -h
expect_rc "-h exits 0" 0

# --- subcommands: each answers --help from the command table ------------------------------------
# The list is boundary --help's Commands block, so a new subcommand is tested by being listed.

mapfile -t subs < <("$BOUNDARY" --help | awk '/^Commands/ { f = 1; next } /^$/ { f = 0 }
	f { n = substr($0, 3, 21); sub(/ +$/, "", n); print n }')
check "boundary --help lists the subcommands (${subs[*]})" [ "${#subs[@]}" -ge 8 ]
for sub in "${subs[@]}" completion; do
	# shellcheck disable=SC2086 # "log summary" is two words
	run_b $sub --help
	expect_rc "$sub --help exits 0" 0
	contains "$sub --help shows its usage" "$out" "Usage: boundary $sub"
	contains "$sub --help lists its flags" "$out" "-h, --help"
	contains "$sub --help shows an example" "$out" "Examples:
  "
	widest=$(printf '%s\n' "$out" | awk '{ if (length($0) > w) w = length($0) } END { print w + 0 }')
	check "$sub --help fits 80 columns ($widest)" [ "$widest" -le 80 ]
	lines=$(printf '%s\n' "$out" | wc -l)
	check "$sub --help fits one screen ($lines lines)" [ "$lines" -le 24 ]
	help_out=$out
	# shellcheck disable=SC2086
	run_b $sub -h
	expect_rc "$sub -h exits 0" 0
	# shellcheck disable=SC2086
	run_b help $sub
	expect_rc "help $sub exits 0" 0
	check "help $sub says what $sub --help says" [ "$out" = "$help_out" ]
done
run_b help
expect_rc "help alone exits 0" 0
check "help alone is --help" [ "$out" = "$("$BOUNDARY" --help)" ]
run_b help flags
expect_rc "help flags exits 0" 0
contains "help flags lists the flags --help only counts" "$out" "--upstream-proxy URL"
contains "help flags lists every jail flag" "$out" "--protect-startup-files"
run_b help log
contains "help log is log summary's" "$out" "Usage: boundary log summary"
run_b attach --help
contains "attach --help names its own flags" "$out" "--cgroup PATH"
run_b log --help
contains "log --help is log summary's" "$out" "Usage: boundary log summary"

# --- usage errors: 125 and a message for a person ----------------------------------------------
# The cases that are only that, a command line and what stderr says, are rows of
# cli_refusals.tsv; the others follow it.

while IFS=$'\t' read -r -u 3 exit_desc msg_desc want rest; do
	case $exit_desc in '' | '#'*) continue ;; esac
	IFS=$'\t' read -r -a args <<<"$rest"
	for i in "${!args[@]}"; do [ "${args[i]}" = '""' ] && args[i]=""; done
	run_b "${args[@]}"
	[ "$exit_desc" = - ] || expect_rc "$exit_desc" 125
	contains "$msg_desc" "$err" "$want"
done 3<"$(dirname "$0")/cli_refusals.tsv"

run_b --alow "domain=a.com" -- true
expect_rc "unknown flag exits 125" 125
contains "unknown flag suggests the nearest" "$err" \
	"boundary: unknown flag --alow (did you mean --allow?)"
lacks "getopt's own message stays out" "$err" "unrecognized option"

# shellcheck disable=SC2016 # for the command's shell
run_b --jail-type landjail -- sh -c 'echo "$HTTPS_PROXY"'
if [[ "$rc" = 0 && "$out" == http://127.0.0.1:* ]] ||
	[[ "$rc" = 125 && "$err" == *"cannot restrict connections with Landlock"* ]]; then
	ok "landjail (coder's name) runs the command with HTTPS_PROXY, or says Landlock is missing"
else
	fail "landjail (coder's name) runs the command with HTTPS_PROXY, or says Landlock is missing"
	diag "rc=$rc" "stdout: $out" "stderr: $err"
fi
run_b --jail-type weak -- sh -c 'echo "$HTTP_PROXY"'
if [[ "$rc" = 0 && "$out" == http://127.0.0.1:* ]]; then
	ok "weak runs the command with HTTP_PROXY naming the proxy"
else
	fail "weak runs the command with HTTP_PROXY naming the proxy"
	diag "rc=$rc" "stdout: $out" "stderr: $err"
fi

PROXY_PORT=abc run_b -- true
expect_rc "bad PROXY_PORT exits 125" 125
contains "bad PROXY_PORT names the variable" "$err" 'PROXY_PORT "abc": not a port number'

out=$("$BOUNDARY" 2>"$TMPDIR_T/stderr" </dev/null)
rc=$?
err=$(cat "$TMPDIR_T/stderr")
expect_rc "no command with stdin not a tty exits 125" 125
contains "no command specified" "$err" "no command specified"

# --- rules coder/boundary reads otherwise: they load, with one warning line each ----------------

run_b --allow "domain=a.com path=/" --allow "domain=b.com path=/x," --allow "domain=c.com" \
	--test https://a.com/
expect_rc "a rule coder/boundary reads otherwise still loads" 0
contains "path=/ is warned about, with what to write" "$err" \
	'boundary: warn: rule "domain=a.com path=/": path=/ means the root page only here; coder/boundary read it as every path: write path=* for that'
contains "a trailing comma is warned about" "$err" \
	'boundary: warn: rule "domain=b.com path=/x,": an empty path in path='"'"'s list'
check "one line a rule that differs, none for one that does not" \
	[ "$(grep -c 'warn: rule' <<<"$err")" = 2 ]
run_b --allow "domain=b.com path=/x," --test https://b.com/y
expect_rc "the trailing comma does not allow every path" 1
run_b --allow "domain=a.com domain=b.com" --test https://a.com.b.com/
expect_rc "domain= twice loads as coder/boundary reads it" 0
contains "domain= twice says what it is read as" "$err" "one name, a.com.b.com"
run_b --deny "path=/" --allow "domain=*" --test https://a.com/x
contains "a deny rule is warned about too" "$err" 'warn: deny rule "path=/": path=/ means'
run_b --no-compat-warnings --allow "path=/" --test https://a.com/
lacks "--no-compat-warnings silences them" "$err" "coder/boundary"
BOUNDARY_NO_COMPAT_WARNINGS=true run_b --allow "path=/" --test https://a.com/
lacks "BOUNDARY_NO_COMPAT_WARNINGS silences them" "$err" "coder/boundary"
printf 'no_compat_warnings: true\nallowlist:\n  - "path=/"\n' >"$TMPDIR_T/quiet.yaml"
run_b --config "$TMPDIR_T/quiet.yaml" --test https://a.com/
expect_rc "the config file's rule loads" 0
lacks "no_compat_warnings: true in the config file silences them" "$err" "coder/boundary"
printf 'allowlist:\n  - "path=/"\n' >"$TMPDIR_T/loud.yaml"
run_b --config "$TMPDIR_T/loud.yaml" --test https://a.com/
contains "a config file's rule is warned about" "$err" 'warn: rule "path=/": path=/ means'

# --- never unjailed ------------------------------------------------------------------------------
# A command runs in the jail or not at all. Without root (or before the jail is built) boundary
# exits 125 and the command leaves no trace; with a jail, the command's network namespace is
# not ours. Either way, a command that ran next to us would fail here.

# other_netns MARKER: MARKER names a network namespace that is not this script's.
other_netns() { [ -s "$1" ] && [ "$(cat "$1")" != "$(readlink /proc/$$/ns/net)" ]; }

# ran_jailed DESC MARKER: judges the run_b that just ran `readlink /proc/self/ns/net > MARKER`.
ran_jailed() {
	case $rc in
	125)
		ok "$1: boundary failed closed (exit 125)"
		check "$1: the command did not run" [ ! -e "$2" ]
		;;
	0)
		ok "$1: the command ran (exit 0)"
		check "$1: ... in a network namespace that is not boundary's" other_netns "$2"
		;;
	*)
		fail "$1: exit $rc, want 0 (jailed) or 125 (no jail)"
		diag "stdout: $out" "stderr: $err"
		;;
	esac
}

# The markers go where the command can write them: root in the jail is the host's nobody.
ranw=$(shared_dir ran)
# shellcheck disable=SC2016 # $0 is for the inner shell
run_b --allow "domain=a.com" -- sh -c 'readlink /proc/self/ns/net >"$0"' "$ranw/ran"
ran_jailed "with --" "$ranw/ran"

# shellcheck disable=SC2016
run_b sh -c 'readlink /proc/self/ns/net >"$0"' "$ranw/ran2"
ran_jailed "without --" "$ranw/ran2"
contains "no rules: everything will be denied" "$err" "no allow rules given: every request will be denied"

run_b -- generate-config
check "-- generate-config is a command, not the subcommand (exit $rc)" [ "$rc" != 0 ]
lacks "-- generate-config prints no config" "$out" "allowlist"

run_b --log-dir "$TMPDIR_T/logs/sub" -- true
case $rc in
0 | 125) ok "--log-dir: the run ends (exit $rc)" ;;
*) fail "--log-dir: the run ends (exit $rc, want 0 or 125)" ;;
esac
logs=$(find "$TMPDIR_T/logs/sub" -name 'boundary-????-??-??_??-??-??-*.log' 2>/dev/null | wc -l)
check "--log-dir makes the directory and a log file" [ "$logs" = 1 ]
mode=$(stat -c %a "$TMPDIR_T/logs/sub" 2>/dev/null)
check "--log-dir directory is 0700 ($mode)" [ "$mode" = 700 ]

# --- --test --------------------------------------------------------------------------------------

run_b --allow "domain=*.github.com" --test https://api.github.com/repos
expect_rc "--test allowed exits 0" 0
check "--test prints ALLOW with the rule" \
	[ "$out" = "ALLOW GET https://api.github.com/repos (rule: domain=*.github.com)" ]

run_b --allow "domain=*.github.com" --test https://github.com/x
expect_rc "--test denied exits 1" 1
check "--test prints DENY" [ "$out" = "DENY GET https://github.com/x" ]

run_b --allow "domain=*.github.com" --test https://api.github.com/ --test https://github.com/
expect_rc "--test with one denial exits 1" 1
check "--test prints one line per URL, in order" \
	[ "$out" = "ALLOW GET https://api.github.com/ (rule: domain=*.github.com)
DENY GET https://github.com/" ]

run_b --allow "method=GET,HEAD domain=a.com" --test POST https://a.com/x --test "HEAD https://a.com/y" \
	--test GET https://a.com/z
expect_rc "--test METHOD: one denied" 1
check "--test METHOD URL, \"METHOD URL\" and GET" [ "$out" = "DENY POST https://a.com/x
ALLOW HEAD https://a.com/y (rule: method=GET,HEAD domain=a.com)
ALLOW GET https://a.com/z (rule: method=GET,HEAD domain=a.com)" ]

run_b --allow "domain=a.com path=/api/*" --test https://a.com/api/../admin
expect_rc "--test normalises dot-segments before matching" 1

run_b --allow "domain=a.com" --test "https://"
expect_rc "--test with a URL without a host exits 1" 1
check "--test prints DENY for it" [ "$out" = "DENY GET https://" ]
contains "and says why on stderr" "$err" 'boundary: --test "https://"'

BOUNDARY_ALLOW="method=GET,HEAD domain=env.com" run_b --test https://env.com/
expect_rc "BOUNDARY_ALLOW is one rule, commas and all" 0
contains "BOUNDARY_ALLOW is the rule" "$out" "(rule: method=GET,HEAD domain=env.com)"

BOUNDARY_ALLOW="domain=env.com" run_b --allow domain=flag.com --test https://env.com/
expect_rc "BOUNDARY_ALLOW is ignored when --allow is given" 1

# --- the config file -----------------------------------------------------------------------------

cat >"$TMPDIR_T/c.yaml" <<'EOF'
# a config
allowlist:
  - "domain=file.com"
  - domain=both.com
proxy_port: 8087
EOF

run_b --config "$TMPDIR_T/c.yaml" --test https://file.com/
expect_rc "--config: the file's rule allows" 0
contains "--config: the file's rule is the match" "$out" "(rule: domain=file.com)"

BOUNDARY_CONFIG=$TMPDIR_T/c.yaml run_b --test https://file.com/
expect_rc "BOUNDARY_CONFIG names the file" 0

run_b --config "$TMPDIR_T/c.yaml" --allow "domain=flag.com" --allow "domain=both.com path=/x" \
	--test https://file.com/ --test https://flag.com/ --test https://both.com/x --test https://other.com/
expect_rc "merged allowlist: other.com denied" 1
check "merged allowlist: file rules first, then --allow" [ "$out" = "ALLOW GET https://file.com/ (rule: domain=file.com)
ALLOW GET https://flag.com/ (rule: domain=flag.com)
ALLOW GET https://both.com/x (rule: domain=both.com)
DENY GET https://other.com/" ]

mkdir -p "$TMPDIR_T/.config/coder_boundary"
cp "$TMPDIR_T/c.yaml" "$TMPDIR_T/.config/coder_boundary/config.yaml"
run_b --test https://file.com/
expect_rc "the default config file is read" 0
run_b --config "" --test https://file.com/
expect_rc "--config \"\" reads no file" 1
rm -f "$TMPDIR_T/.config/coder_boundary/config.yaml"

run_b --config "$TMPDIR_T/nope.yaml" --test https://file.com/
expect_rc "a missing --config file exits 125" 125
contains "a missing --config file is named" "$err" "nope.yaml\": no such file"

cat >"$TMPDIR_T/bad.yaml" <<'EOF'
allowlist: []
proxy_port: abc
EOF
run_b --config "$TMPDIR_T/bad.yaml" --test https://a.com/
expect_rc "a config error exits 125" 125
contains "a config error gives file:line:column" "$err" \
	"$TMPDIR_T/bad.yaml:2:13: proxy_port \"abc\": not a port number (use 1-65535)"

cat >"$TMPDIR_T/typo.yaml" <<'EOF'
proxy_port: 8080

allowlst:
  - domain=a.com
EOF
run_b --config "$TMPDIR_T/typo.yaml" --test https://a.com/
expect_rc "an unknown key exits 125" 125
contains "an unknown key suggests the nearest" "$err" \
	"typo.yaml:3:1: unknown key \"allowlst\" (did you mean \"allowlist\"?)"

cat >"$TMPDIR_T/rule.yaml" <<'EOF'
allowlist:
  - domain=a.com
  - domain=x.com:80
EOF
run_b --config "$TMPDIR_T/rule.yaml" --test https://a.com/
expect_rc "a bad rule in the file exits 125" 125
contains "a bad rule in the file gives both positions" "$err" \
	"rule.yaml:3:5: rule \"domain=x.com:80\": column 13: a port cannot be part of domain"

# --- generate-config -----------------------------------------------------------------------------

run_b generate-config
expect_rc "generate-config exits 0" 0
printf '%s\n' "$out" >"$TMPDIR_T/gen.yaml"
for key in allowlist log_level log_dir proxy_port jail_type use_real_dns no_user_namespace \
	disable_audit_logs pprof_enabled pprof_port session_correlation_enabled \
	session_id_inject_targets user; do
	if grep -q "^$key: " "$TMPDIR_T/gen.yaml"; then ok "generate-config sets $key"; else
		fail "generate-config sets $key"
	fi
done
contains "generate-config shows an example allowlist" "$out" '#  - "domain=api.anthropic.com"'
contains "generate-config shows an exe= rule" "$out" '#  - "exe=/usr/bin/git domain=github.com"'

run_b --config "$TMPDIR_T/gen.yaml" --allow "domain=a.com" --test https://a.com/ --test https://b.com/
expect_rc "generate-config's output loads back (b.com denied)" 1
check "--test still works with it" [ "$out" = "ALLOW GET https://a.com/ (rule: domain=a.com)
DENY GET https://b.com/" ]
check "and it loads without a word on stderr" [ -z "$err" ]

run_b --log-level info generate-config
expect_rc "generate-config after flags" 0

done_testing
