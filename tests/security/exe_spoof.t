#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# exe_spoof.t: passing for another program under an exe= rule. The rule `exe=<curl> domain=...`
# holds only for connections whose process runs curl's file (its device and inode, read by the
# kernel at connect time). A program that only looks like curl must be refused: python3 that
# names itself "curl" (prctl PR_SET_NAME, so comm is "curl") and is started as "curl" (exec -a,
# so argv[0] is), python3 through a symlink named curl, a copy of python3 named curl, and a
# copy of curl itself. Each attempt is made under a rule for python3 first, where it must get
# through, so that "refused" is the exe= rule's doing. The upstream counts what reaches it.
#
# $CURL is a command line (tests/lib/proxy.sh), split into words on purpose.
# shellcheck disable=SC2086
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/jail.sh"
. "$(dirname "$0")/../lib/proxy.sh"
proxy_suite

CURL_EXE=$(readlink -f "$(command -v curl)")
PY_EXE=$(readlink -f /usr/bin/python3)
if [ ! -x "$CURL_EXE" ] || [ ! -x "$PY_EXE" ]; then
	skip "needs curl and /usr/bin/python3"
	done_testing
	exit 0
fi
S=$(shared_dir spoof)
mkdir -p "$S/bin" "$S/copy"
ln -s "$PY_EXE" "$S/bin/curl"
cp "$PY_EXE" "$S/copy/curl" && chmod 755 "$S/copy/curl"
cp "$CURL_EXE" "$S/curl-copy" && chmod 755 "$S/curl-copy"
# The impostor: python3 that sets its comm to "curl" before it connects, then asks with urllib.
cat >"$S/as_curl.py" <<'EOF'
import ctypes, sys, urllib.request
ctypes.CDLL(None, use_errno=True).prctl(15, b"curl", 0, 0, 0)  # PR_SET_NAME
print("comm:", open("/proc/self/comm").read().strip())
print("argv0:", open("/proc/self/cmdline", "rb").read().split(b"\0")[0].decode())
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
try:
    r = opener.open(sys.argv[1], timeout=20)
    print("status:", r.status)
except urllib.error.HTTPError as e:
    print("status:", e.code)
    print(e.read().decode(errors="replace"))
except Exception as e:
    print("status: error", e)
EOF
chmod 644 "$S/as_curl.py"
AUD=$TMPDIR_T/audit.jsonl
URL=http://up.test:$P_HTTP/echo
# Each impostor's lines, prefixed: comm_, link_, copy_.
cat >"$S/impostors.sh" <<EOF
bash -c "exec -a curl $PY_EXE $S/as_curl.py $URL/as-comm" | sed 's/^/comm_/'
$S/bin/curl $S/as_curl.py $URL/as-link | sed 's/^/link_/'
$S/copy/curl $S/as_curl.py $URL/as-copy | sed 's/^/copy_/'
EOF
chmod 644 "$S/impostors.sh"

# --- the controls: under a rule for python3, each impostor gets through ------------------------

bnd --allow "exe=$PY_EXE domain=up.test" -- bash "$S/impostors.sh"
want comm_comm curl "control: the impostor's comm is \"curl\" (PR_SET_NAME)"
want comm_argv0 curl "control: ... and its argv[0] is \"curl\" (exec -a)"
want comm_status 200 "control: under exe=python3, the impostor named curl gets through"
want link_status 200 "control: ... as does python3 through a symlink named curl"
want copy_status 403 "control: a copy of python3 is not python3 (another inode)"

# --- the attempts: under a rule for curl, none gets through -------------------------------------

before=$(grep -c "/echo/as-" "$UP/requests.log")
bnd --audit-log "$AUD" --allow "exe=$CURL_EXE domain=up.test" -- bash -c "bash $S/impostors.sh
	$S/curl-copy -sS -o /dev/null -w 'curlcopy: %{http_code}\n' $URL/curl-copy
	$CURL -o /dev/null -w 'curl: %{http_code}\n' $URL/real-curl"
want comm_status 403 "python3 with comm and argv[0] \"curl\" is refused under exe=curl"
want link_status 403 "python3 through a symlink named curl is refused"
want copy_status 403 "a copy of python3 named curl is refused"
want curlcopy 403 "a copy of curl (same bytes, another inode) is refused"
want curl 200 "control: the real curl gets through"
after=$(grep -c "/echo/as-" "$UP/requests.log")
check "the upstream saw none of the impostors' requests" test "$before" = "$after"
r=$(grep '"event":"request"' "$AUD" | grep -F '/echo/as-comm"' | head -1)
contains "the record names the impostor's comm as it set it" "$r" '"comm":"curl"'
contains "... and the file it really runs" "$r" "\"exe\":\"$PY_EXE\""

done_testing
