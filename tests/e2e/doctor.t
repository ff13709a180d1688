#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# doctor.t: boundary doctor on this machine, and with its failures made real in namespaces of
# the test's own: the BPF filesystem unmounted, the cgroup2 mount hidden under a tmpfs, a
# leftover of a killed run, a config file it cannot read or parse, a CA key others can read,
# and an ordinary user with and without file capabilities. Checks the report names each cause,
# the exit status (0 when the default mode works, 1 when not), the JSON form, and that doctor
# changes nothing (no CA made, nothing pinned). Root.
. "$(dirname "$0")/../lib/tap.sh"

if [ "$(id -u)" != 0 ]; then
	skip "needs root"
	done_testing
	exit 0
fi

export HOME=$TMPDIR_T/home XDG_CONFIG_HOME=$TMPDIR_T/xdg
mkdir -p "$HOME"
unset BOUNDARY_CONFIG BOUNDARY_JAIL_TYPE BOUNDARY_ALLOW SUDO_USER SUDO_UID SUDO_GID
CADIR=$XDG_CONFIG_HOME/coder_boundary

# in_ns SETUP ARGS...: boundary doctor ARGS in a mount namespace of its own after the shell
# SETUP ran there as root; sets $out, $err, $rc like run_b. The namespace, and what SETUP
# mounted in it, go when it exits.
in_ns() {
	local setup=$1
	shift
	# shellcheck disable=SC2016 # for the inner shell
	out=$(unshare -m --propagation private sh -c 'eval "$0" && exec "$@"' "$setup" \
		"$BOUNDARY" doctor "$@" 2>"$TMPDIR_T/stderr")
	rc=$?
	err=$(cat "$TMPDIR_T/stderr")
}

# unwrap: $out with each check's and mode's wrapped lines joined into one.
unwrap() { sed -z 's/\n   *                / /g' <<<"$out"; }
# line NAME: the report's line for check NAME, unwrapped.
line() { unwrap | grep -E "^  [a-zA-Z]+ +$1 "; }

# --- this machine ----------------------------------------------------------------------------

run_b doctor
expect_rc "doctor exits 0: the default mode works on this machine" 0
for c in kernel privileges cgroup2 bpffs bpf seccomp landlock; do
	contains "the $c check passes" "$(line "$c")" "ok   $c"
done
contains "the modes are listed, nsjail the default" "$(unwrap)" "nsjail    works         (the default)"
contains "it says the default mode works" "$out" "The default mode works here."
contains "it names the CA directory it would use" "$(line ca)" "no CA yet in $CADIR"
check "doctor made no CA (it changes nothing)" not test -e "$CADIR"
# On a BPF filesystem of its own (other jails pin on the host's while this runs).
# shellcheck disable=SC2016 # for the inner shell
left=$(unshare -m --propagation private sh -c \
	'mount -t bpf bpf /sys/fs/bpf && ls -AR /sys/fs/bpf && "$0" doctor >/dev/null &&
	echo after && ls -AR /sys/fs/bpf' "$BOUNDARY")
same_before_after() { [ "$(sed -n '/^after$/q;p' <<<"$left")" = "$(sed '1,/^after$/d' <<<"$left")" ]; }
check "doctor pinned nothing (a BPF filesystem of its own is as it was)" same_before_after

run_b doctor --format json
expect_rc "doctor --format json exits 0" 0
json_ok() {
	python3 -c '
import json, sys
d = json.loads(sys.stdin.read())
names = [c["name"] for c in d["checks"]]
assert d["default_mode"] == "nsjail" and d["default_mode_works"] is True, d
assert {"kernel", "cgroup2", "bpf", "ca", "config"} <= set(names), names
assert all(c["status"] in ("ok", "info", "warn", "fail") for c in d["checks"])
assert [m["mode"] for m in d["modes"]][:2] == ["nsjail", "attach"]
' <<<"$out"
}
check "the JSON has the checks, the modes and the default mode's verdict" json_ok

run_b doctor --format markdown
expect_rc "doctor --format markdown is refused" 125
contains "... saying which formats it has" "$err" "table (the default) or json"

run_b doctor --help
expect_rc "doctor --help exits 0" 0
contains "doctor --help shows its usage" "$out" "Usage: boundary doctor"

run_b doctor extra
expect_rc "doctor takes no arguments" 125

# --- failures made real ----------------------------------------------------------------------

in_ns "umount /sys/fs/bpf"
expect_rc "no BPF filesystem: still exits 0 (the first jail mounts one)" 0
contains "... and says so" "$(line bpffs)" "warn bpffs      /sys/fs/bpf is not a BPF filesystem"

cg2=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
in_ns "mount -t tmpfs hide $cg2"
expect_rc "cgroup2 hidden under a tmpfs: exits 1" 1
contains "... naming the cause" "$(line cgroup2)" "FAIL cgroup2    $cg2 is listed as the cgroup2 mount"
contains "... and that the default mode does not work" "$(unwrap)" \
	"nsjail    DOES NOT WORK (the default) because no usable cgroup2"
contains "... while the landlock mode still does" "$out" "landlock  works"
in_ns "mount -t tmpfs hide $cg2" --format json
check "... and the JSON says the default mode does not work" \
	grep -q '"default_mode_works":false' <<<"$out"

# A killed run's run directory: pid 1 never had start time 1. Under a tmpfs of this namespace
# only, so no other boundary sees (or reaps) it.
in_ns "mount -t tmpfs leftover /run && mkdir -p /run/boundary/1-1"
expect_rc "a leftover of a killed run: still exits 0" 0
contains "... and names it, with the way to remove it" "$(line leftovers)" \
	"warn leftovers  1 left by killed boundaries"

# The config: unreadable (root without CAP_DAC_OVERRIDE cannot read a mode-000 file).
mkdir -p "$TMPDIR_T/cfg"
printf 'allowlist:\n  - "domain=example.test"\n' >"$TMPDIR_T/cfg/ok.yaml"
run_b doctor --config "$TMPDIR_T/cfg/ok.yaml"
expect_rc "a config that loads: exits 0" 0
contains "... and says what it holds" "$(line config)" "$TMPDIR_T/cfg/ok.yaml loads: 1 allow"
cp "$TMPDIR_T/cfg/ok.yaml" "$TMPDIR_T/cfg/locked.yaml"
chmod 000 "$TMPDIR_T/cfg/locked.yaml"
out=$(setpriv --bounding-set -dac_override,-dac_read_search "$BOUNDARY" doctor \
	--config "$TMPDIR_T/cfg/locked.yaml" 2>/dev/null)
rc=$?
expect_rc "an unreadable config: exits 1" 1
contains "... naming the file and the reason" "$(line config)" \
	"FAIL config     cannot read config file \"$TMPDIR_T/cfg/locked.yaml\": Permission"
printf 'allowlist:\n  - "domain=example.test"\nallowlst: []\n' >"$TMPDIR_T/cfg/typo.yaml"
BOUNDARY_CONFIG=$TMPDIR_T/cfg/typo.yaml run_b doctor
expect_rc "a config with an unknown key (named by BOUNDARY_CONFIG): exits 1" 1
contains "... with its file:line:column" "$(line config)" "$TMPDIR_T/cfg/typo.yaml:3:1:"
printf 'jail_type: weak\n' >"$TMPDIR_T/cfg/weak.yaml"
run_b doctor --config "$TMPDIR_T/cfg/weak.yaml"
contains "the config's jail_type is the default mode it judges" "$(unwrap)" \
	"weak      works         (the default)"

# The CA: a key others can read is a failure; the right modes load.
mkdir -p "$CADIR"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
	-subj "/CN=doctor test CA" -addext "basicConstraints=critical,CA:TRUE" \
	-addext "keyUsage=critical,keyCertSign,cRLSign" -keyout "$CADIR/ca-key.pem" \
	-out "$CADIR/ca-cert.pem" 2>/dev/null
chmod 644 "$CADIR/ca-key.pem" "$CADIR/ca-cert.pem"
run_b doctor
expect_rc "a CA key others can read: exits 0 (the jail works, unsafely)" 0
contains "... and fails the CA check, saying what to do" "$(line ca)" \
	"FAIL ca         $CADIR/ca-key.pem is mode 0644"
chmod 600 "$CADIR/ca-key.pem"
run_b doctor
contains "the key made 0600: the CA loads" "$(line ca)" "ok   ca         $CADIR: certificate"
rm -f "$CADIR/ca-cert.pem"
run_b doctor
contains "the certificate gone: the CA check says which file is missing" "$(line ca)" \
	"FAIL ca         $CADIR/ca-key.pem exists but $CADIR/ca-cert.pem does not"

# --- an ordinary user ------------------------------------------------------------------------

if ! command -v setcap >/dev/null || ! command -v setpriv >/dev/null; then
	skip "needs setcap (libcap2-bin) and setpriv (util-linux)"
	done_testing
	exit
fi
chmod 711 "$TMPDIR_T"
NB=$TMPDIR_T/nb
mkdir -p "$NB/home" "$NB/bin"
chown 65534:65534 "$NB/home"
cp "$BOUNDARY" "$NB/bin/boundary"
cp "$BOUNDARY" "$NB/bin/boundary-nocaps"
chmod 755 "$NB" "$NB/bin" "$NB/bin/boundary" "$NB/bin/boundary-nocaps"
setcap "cap_net_admin,cap_sys_admin,cap_setuid,cap_setgid,cap_setpcap+ep" "$NB/bin/boundary"
# nb BIN [ENV...]: BIN doctor as nobody, no groups; sets $out and $rc (expect_rc's).
# shellcheck disable=SC2034
nb() {
	local bin=$1
	shift
	out=$(setpriv --reuid 65534 --regid 65534 --clear-groups env HOME="$NB/home" \
		XDG_CONFIG_HOME="$NB/home/.config" "$@" "$bin" doctor 2>/dev/null)
	rc=$?
}
nb "$NB/bin/boundary-nocaps"
expect_rc "nobody without capabilities: exits 1" 1
contains "... naming the privileges and the setcap line" "$(line privileges)" \
	"warn privileges user nobody:"
contains "... the setcap line" "$out" "setcap"
contains "... and why the default mode does not work" "$(unwrap)" \
	"nsjail    DOES NOT WORK (the default) because neither root nor on file capabilities"
nb "$NB/bin/boundary-nocaps" BOUNDARY_JAIL_TYPE=landlock
expect_rc "nobody with BOUNDARY_JAIL_TYPE=landlock: exits 0 (Landlock needs no privilege)" 0
nb "$NB/bin/boundary"
expect_rc "nobody on file capabilities: exits 0" 0
contains "... and says it runs on them" "$(line privileges)" \
	"ok   privileges user nobody on file capabilities"
check "... with nothing made in nobody's home" not test -e "$NB/home/.config"

done_testing
