#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# secrets_cli.t: --secret from the user's side, end to end. First what is refused (each bad
# spec, value and file exits 125, names the column and says what to do, and never prints the
# value), which needs no privileges; then, as root, real jails: the command sees NAME as a
# placeholder, new each run; the value is in nothing the jail can read under /proc, nor in
# boundary's own /proc/PID/environ while it runs, nor anywhere in a debug log. The other jail
# types (weak) and serve are covered for what differs there. Only loopback is used; the values
# are random and written nowhere but the scratch directory.
. "$(dirname "$0")/../lib/tap.sh"

export HOME=$TMPDIR_T
unset BOUNDARY_ALLOW BOUNDARY_SECRET BOUNDARY_CONFIG BOUNDARY_LOG_LEVEL BOUNDARY_LOG_DIR \
	PROXY_PORT BOUNDARY_JAIL_TYPE BOUNDARY_USER SUDO_USER SUDO_UID SUDO_GID GH FT

# Distinctive values: found by grep -F only if they leaked.
V=sk-test-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
V2=sk-test-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
F=$TMPDIR_T/files
mkdir -m 700 "$F"

# refused DESC STDERR_PART ARGS...: boundary ARGS exits 125 and its stderr has STDERR_PART and
# neither value.
refused() {
	local desc=$1 part=$2
	shift 2
	run_b "$@" -- true
	expect_rc "$desc exits 125" 125
	contains "$desc: says where and why" "$err" "$part"
	lacks "$desc: never prints the value" "$err" "$V"
}

# --- the spec ---------------------------------------------------------------------------------

export GH=$V
refused "an empty secret" '--secret "": column 1: empty: write NAME domain=HOST' --secret ""
refused "a name that starts with a digit" \
	'--secret "1X domain=a.com": column 1: a name is letters, digits and _' \
	--secret "1X domain=a.com"
refused "a name with a dash" '--secret "G-H domain=a.com": column 2: a name is letters' \
	--secret "G-H domain=a.com"
long=$(printf 'N%.0s' $(seq 64))
refused "a name of 64 bytes" "column 1: the name is longer than 63 bytes" \
	--secret "$long domain=a.com"
refused "a key before the name" \
	'--secret "domain=a.com GH": column 1: a secret starts with its name, then its keys' \
	--secret "domain=a.com GH"
refused "no domain=" '--secret "GH": column 3: no domain=: name the hosts' --secret "GH"
refused "an empty domain pattern" \
	'--secret "GH domain=a.com,,b.com": column 17: an empty domain pattern' \
	--secret "GH domain=a.com,,b.com"
refused "a domain with a port" \
	'--secret "GH domain=github.com:8080": column 21: a port cannot be part of a secret' \
	--secret "GH domain=github.com:8080"
refused "a bad pattern in a repeated domain=" \
	'--secret "GH domain=a.com domain=x..com": column ' \
	--secret "GH domain=a.com domain=x..com"
refused "domain=*" \
	'--secret "GH domain=*": column 11: domain=* would let the value go to any host' \
	--secret "GH domain=*"
refused "a mistyped key" '--secret "GH domian=a.com": column 4: unknown key "domian" (did you mean domain=?)' \
	--secret "GH domian=a.com"
refused "an unknown key" '--secret "GH domain=a.com via=x": column 17: unknown key "via" (a secret takes domain=, header= and from=)' \
	--secret "GH domain=a.com via=x"
refused "a word that is no key" '--secret "GH domain=a.com bare": column 17: expected KEY=VALUE' \
	--secret "GH domain=a.com bare"
refused "a header that is not a token" \
	'--secret "GH domain=a.com header=a:b": column 25: a header field name is letters' \
	--secret "GH domain=a.com header=a:b"
refused "an empty header" '--secret "GH domain=a.com header=": column 24: header= needs a field name' \
	--secret "GH domain=a.com header="
refused "a header of 64 bytes" "column 24: the header field name is longer than 63 bytes" \
	--secret "GH domain=a.com header=$long"
refused "header=Host" '--secret "GH domain=a.com header=host": column 24: header=host: that field frames or routes the request' \
	--secret "GH domain=a.com header=host"
refused "header= twice" 'column 26: header= given twice' \
	--secret "GH domain=a.com header=A header=B"
refused "a from= that is neither" \
	'--secret "GH domain=a.com from=vault": column 22: from= is env (boundary'"'"'s environment variable of the secret'"'"'s name) or file:PATH' \
	--secret "GH domain=a.com from=vault"
refused "from=file: with no path" 'column 22: from= is env' --secret "GH domain=a.com from=file:"
refused "from= twice" "column 26: from= given twice" \
	--secret "GH domain=a.com from=env from=env"
refused "a name used twice" \
	'--secret "GH domain=b.com": column 1: GH is the name of another secret too' \
	--secret "GH domain=a.com" --secret "GH domain=b.com"
many=()
for i in $(seq 33); do many+=(--secret "S$i domain=a.com"); done
refused "a 33rd secret" '--secret "S33 domain=a.com": more than 32 secrets' "${many[@]}"

BOUNDARY_SECRET="GH domain=a.com header=" refused "a bad BOUNDARY_SECRET" \
	'BOUNDARY_SECRET "GH domain=a.com header=": column 24: header= needs a field name'
mkdir -p "$HOME/.config/coder_boundary"
printf 'secrets:\n  - "GH domain=*"\n' >"$HOME/.config/coder_boundary/config.yaml"
refused "a bad secret in the config file" \
	'config.yaml:2:5: secret "GH domain=*": column 11: domain=* would let the value go to any host'
printf 'secrets:\n  - "GH domain=a.com"\n' >"$HOME/.config/coder_boundary/config.yaml"
refused "a config file's secret named again by --secret" \
	'config.yaml:2:5: secret "GH domain=a.com": column 1: GH is the name of another secret too' \
	--secret "GH domain=b.com"
rm "$HOME/.config/coder_boundary/config.yaml"

# --- the value --------------------------------------------------------------------------------

unset GH
fix="boundary's environment has no GH: export it, pass it through sudo (sudo GH=... boundary or sudo --preserve-env=GH), or use from=file:PATH"
refused "a missing variable" "--secret \"GH domain=a.com\": column 1: $fix" --secret "GH domain=a.com"
GH="" refused "an empty variable" "column 1: $fix" --secret "GH domain=a.com"
GH=short refused "a 5-byte value" "column 1: the value is 5 bytes long; a secret needs at least 8, as a shorter one would be found in unrelated text" \
	--secret "GH domain=a.com"
GH=$(head -c 4097 /dev/zero | tr '\0' a) refused "a value of 4097 bytes" \
	"column 1: the value of GH is longer than 4096 bytes" --secret "GH domain=a.com"
GH="$V$(printf '\t')x" refused "a value with a tab" \
	"column 1: the value has a control character at byte 25" --secret "GH domain=a.com"
GH="$V$(printf '\177')" refused "a value with DEL" "the value has a control character" \
	--secret "GH domain=a.com"

printf '%s\n' "$V" >"$F/ok"
chmod 600 "$F/ok"
printf '%s\n' "$V" >"$F/group"
chmod 640 "$F/group"
refused "a group-readable file" \
	"column 17: \"$F/group\" may be read or written by others than its owner (mode 0640): make it private with chmod 600 \"$F/group\"" \
	--secret "FT domain=a.com from=file:$F/group"
chmod 602 "$F/group"
refused "a file others may write" "(mode 0602): make it private with chmod 600" \
	--secret "FT domain=a.com from=file:$F/group"
ln -s "$F/ok" "$F/link"
refused "a symbolic link" "\"$F/link\" is a symbolic link: name the file itself" \
	--secret "FT domain=a.com from=file:$F/link"
refused "a missing file" "cannot open \"$F/none\": No such file or directory" \
	--secret "FT domain=a.com from=file:$F/none"
mkdir -m 700 "$F/dir"
refused "a directory" "\"$F/dir\" is not a regular file" --secret "FT domain=a.com from=file:$F/dir"
printf 'abcdefg\n' >"$F/short"
chmod 600 "$F/short"
refused "a file of 7 bytes and a newline (the newline is stripped)" \
	"the value is 7 bytes long" --secret "FT domain=a.com from=file:$F/short"
printf 'abcdefg\r\n' >"$F/short"
refused "a file of 7 bytes and CRLF (both stripped)" "the value is 7 bytes long" \
	--secret "FT domain=a.com from=file:$F/short"
printf '%s\n\n' "$V" >"$F/two"
chmod 600 "$F/two"
refused "a file with two trailing newlines (only one is stripped)" \
	"the value has a line break at byte 25" --secret "FT domain=a.com from=file:$F/two"
printf '%s\n%s\n' "$V" "$V" >"$F/lines"
chmod 600 "$F/lines"
refused "a file of two lines" "the value has a line break at byte 25" \
	--secret "FT domain=a.com from=file:$F/lines"
printf 'abcd\0efghij' >"$F/nul"
chmod 600 "$F/nul"
refused "a file with a NUL" "the value has a NUL at byte 5" --secret "FT domain=a.com from=file:$F/nul"
head -c 4099 /dev/zero | tr '\0' a >"$F/big"
chmod 600 "$F/big"
refused "a file of 4099 bytes" "holds more than 4098 bytes" --secret "FT domain=a.com from=file:$F/big"

run_b --secret "FT domain=a.com from=file:$F/ok" --test https://a.com/
expect_rc "--test with a secret decides and runs nothing" 1

# --- in a jail ----------------------------------------------------------------------------------

. "$(dirname "$0")/../lib/jail.sh"
need_root

R=$(shared_dir r)
# The values, for grep -F -f inside the jail: the pattern file is no process's environment.
printf '%s\n%s\n' "$V" "$V2" >"$R/values"
chmod 644 "$R/values"
printf '%s\n' "$V2" >"$F/ft"
chmod 600 "$F/ft"
PH_RE='^boundary-secret-GH-[0-9a-f]{32}$'
state_snapshot "$TMPDIR_T/before"

IDS=()
# jailed_secrets ARGS... -- CMD...: a jail with GH from the environment and FT from a file; its
# id joins IDS, for the leftovers check.
jailed_secrets() {
	GH=$V jailed --log-level debug --secret "GH domain=api.example.com,*.example.org" \
		--secret "FT domain=ft.example.com header=X-Api-Key from=file:$F/ft" "$@"
	IDS+=("$(jail_field "$TMPDIR_T/log" id)")
}

jailed_secrets -- printenv GH
expect_rc "a jail with two secrets runs" 0
check "the command sees GH as a placeholder ($out)" matches "$out" "$PH_RE"
first=$out
lacks "the debug log holds no value" "$log" "$V"
lacks "the debug log holds no file value" "$log" "$V2"
contains "the log says where GH's value goes" "$log" \
	"secret GH: the jail sees a placeholder; its value goes only to api.example.com, *.example.org"
contains "the log says where FT's value goes" "$log" \
	"secret FT: the jail sees a placeholder; its value goes only to ft.example.com"
contains "the debug log has the placeholder" "$log" "secret GH: placeholder $first"

jailed_secrets -- printenv FT
check "the command sees FT (from a 0600 file) as a placeholder ($out)" \
	matches "$out" '^boundary-secret-FT-[0-9a-f]{32}$'

jailed_secrets -- printenv GH
check "a second run has another placeholder ($first, $out)" not [ "$out" = "$first" ]
check "it is still one ($out)" matches "$out" "$PH_RE"

# shellcheck disable=SC2016 # for the jailed shell
jailed_secrets -- sh -c 'env | grep -cF -f "$0"; grep -lF -f "$0" /proc/[0-9]*/environ \
	/proc/[0-9]*/cmdline /proc/self/environ /proc/self/cmdline 2>/dev/null; echo done' "$R/values"
expect_rc "the jailed search ran" 0
check "no value in the jail's env or in any /proc/*/environ or cmdline it can read ($out)" \
	[ "$out" = "0
done" ]

# While a jail runs, boundary's own environment on the host shows no value.
GH=$V jail_bg live --log-level debug --secret "GH domain=api.example.com" -- \
	sh -c "touch $R/live; sleep 30"
check "the long jail started" jail_wait_log "$TMPDIR_T/live.log" "secret GH: the jail sees" 20
for _ in $(seq 100); do [ -e "$R/live" ] && break; sleep 0.05; done
check "the long jail's command runs" [ -e "$R/live" ]
check "boundary's pid is known ($BG_PID)" [ -n "$BG_PID" ]
check "boundary's environment still has GH (zeroed in place)" grep -qa '^GH=' \
	<(tr '\0' '\n' <"/proc/$BG_PID/environ")
check "boundary's /proc/PID/environ does not hold the value" not grep -qaF "$V" \
	"/proc/$BG_PID/environ"
# locked: VmLck counts it (root may lock whatever RLIMIT_MEMLOCK says).
vmlck=$(awk '/^VmLck:/ { print $2 }' "/proc/$BG_PID/status")
check "the values' memory is locked ($vmlck kB)" [ "${vmlck:-0}" -gt 0 ]
kill -INT "$BG_PID" 2>/dev/null
wait "$BG_WAIT" 2>/dev/null
lacks "the long jail's log holds no value" "$(cat "$TMPDIR_T/live.log")" "$V"
IDS+=("$(jail_field "$TMPDIR_T/live.log" id)")

# The weak jail type builds the command's environment through the same code.
GH=$V jailed --jail-type weak --secret "GH domain=api.example.com" -- printenv GH
expect_rc "a weak jail with a secret runs" 0
check "the weak jail's command sees a placeholder ($out)" matches "$out" "$PH_RE"
lacks "the weak jail's log holds no value" "$log" "$V"

# serve starts no process: a secret without header= does nothing there, and says so.
read -r SP <<<"$(python3 "$STAGE/lib/free_ports.py" 1)"
GH=$V timeout -k 5 30 "$BOUNDARY" serve --listen "127.0.0.1:$SP" --log-level info \
	--secret "GH domain=api.example.com" --secret "FT domain=a.com header=X-Key from=file:$F/ft" \
	>"$TMPDIR_T/serve.out" 2>"$TMPDIR_T/serve.log" </dev/null &
SPID=$!
check "serve warns of a secret without header=" jail_wait_log "$TMPDIR_T/serve.log" \
	"secret GH: boundary serve starts no process, so no program gets GH as a placeholder; only header= injection works in this mode" 20
kill -INT "$SPID" 2>/dev/null
wait "$SPID" 2>/dev/null
serve_log=$(cat "$TMPDIR_T/serve.log")
lacks "serve does not warn of a secret with header=" "$serve_log" "secret FT: boundary serve"
lacks "serve's log holds no value" "$serve_log" "$V"

state_snapshot "$TMPDIR_T/after"
left=$(for id in "${IDS[@]}"; do state_leftovers "$TMPDIR_T/before" "$TMPDIR_T/after" "$id"; done)
check "the ${#IDS[@]} jails left nothing behind (${IDS[*]}: $left)" [ -z "$left" ]

done_testing
