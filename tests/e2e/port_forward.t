#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# port_forward.t: --port-forward HOST:JAIL, as root. A dev server the jailed program starts on
# its own loopback answers a curl on the host's loopback, through a forward boundary owns:
# small and large bodies, over IPv4 and IPv6. The way is inbound only: from inside the jail the
# forward's host port is not there (the jail's loopback is its own). A forward to a jail port
# nobody listens on closes the host's connection and says why. When the jail ends, the host
# port closes. A host port already taken, or a malformed forward, stops boundary before the
# command runs.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/jail.sh"
. "$(dirname "$0")/../lib/proxy.sh"
need_root
export HOME=$TMPDIR_T/home
mkdir -p "$HOME"
clean_env
# shellcheck disable=SC2016 # expanded at exit
at_exit '"$BOUNDARY" cleanup >/dev/null 2>&1'

D=$(shared_dir pf)
echo "hello from the jail" >"$D/index.txt"
head -c 4000000 /dev/urandom >"$D/big.bin"
chmod 644 "$D/index.txt" "$D/big.bin"
read -r HP JP HP2 JP2 HP3 <<<"$(free_ports 5)"

cat >"$D/jail.sh" <<EOF
python3 -m http.server $JP --bind 127.0.0.1 --directory "$D" >"$D/server.log" 2>&1 &
# From inside, once told: the forward's host port. The jail's loopback has nothing there.
while [ ! -e "$D/go" ]; do sleep 0.05; done
python3 "$STAGE/lib/loopback_connect.py" $HP inside >"$D/inside.out" 2>&1
while [ ! -e "$D/stop" ]; do sleep 0.1; done
kill \$! 2>/dev/null
echo "jail done"
EOF

state_snapshot "$TMPDIR_T/before"
jail_bg pf --log-level debug --port-forward "$HP:$JP,$HP2:$JP2" -- sh "$D/jail.sh"
up=""
for _ in $(seq 200); do
	up=$(curl -sS --max-time 2 "http://127.0.0.1:$HP/index.txt" 2>/dev/null) && [ -n "$up" ] && break
	sleep 0.1
done
check "a host curl reaches the jailed server through the forward" [ "$up" = 'hello from the jail' ]
out=$(curl -sS -g --max-time 5 "http://[::1]:$HP/index.txt" 2>&1)
check "... over IPv6 too (got: $out)" [ "$out" = 'hello from the jail' ]
want_sha=$(sha256sum <"$D/big.bin" | cut -d' ' -f1)
got_sha=$(curl -sS --max-time 30 "http://127.0.0.1:$HP/big.bin" | sha256sum | cut -d' ' -f1)
check "4 MB come through byte for byte" [ "$want_sha" = "$got_sha" ]
logged "the jailed server saw the requests from its own loopback" "$(cat "$D/server.log")" \
	'^127\.0\.0\.1 .*"GET /big.bin'
n_acc=$(grep -c "port forward: .* accepted" "$TMPDIR_T/pf.log")
touch "$D/go"
for _ in $(seq 100); do [ -s "$D/inside.out" ] && grep -q '::1' "$D/inside.out" && break; sleep 0.1; done
inside=$(cat "$D/inside.out")
logged "from inside the jail, 127.0.0.1:HOST is not the forward" "$inside" \
	'^inside 127\.0\.0\.1 ConnectionRefusedError$'
logged "... nor is [::1]:HOST" "$inside" '^inside ::1 ConnectionRefusedError$'
n_acc2=$(grep -c "port forward: .* accepted" "$TMPDIR_T/pf.log")
accepted_nothing_more() { [ "$n_acc" -ge 3 ] && [ "$n_acc" = "$n_acc2" ]; }
check "the forward accepted nothing while the jail tried ($n_acc before, $n_acc2 after)" \
	accepted_nothing_more

curl -sS --max-time 5 "http://127.0.0.1:$HP2/" >/dev/null 2>&1
rc=$?
closed_by_peer() { [ "$rc" = 52 ] || [ "$rc" = 56 ]; }
check "a forward to a jail port nobody listens on closes the connection (curl rc $rc)" \
	closed_by_peer
logged "... and says why" "$(cat "$TMPDIR_T/pf.log")" \
	"port forward: 127\.0\.0\.1 to host port $HP2: nothing answers on port $JP2 in the jail"

touch "$D/stop"
wait "$BG_WAIT"
rc=$?
check "the jail ends normally (rc $rc)" [ "$rc" = 0 ]
contains "the command finished" "$(cat "$TMPDIR_T/pf.out")" "jail done"
curl -sS --max-time 5 "http://127.0.0.1:$HP/index.txt" >/dev/null 2>&1
rc=$?
check "after the jail, the host port is closed (curl rc $rc)" [ "$rc" = 7 ]
v6_closed() { ! curl -sS -g --max-time 5 "http://[::1]:$HP/" >/dev/null 2>&1; }
check "... on IPv6 too" v6_closed

# A host port already taken: boundary stops before the command runs.
python3 "$STAGE/lib/hit_listener.py" tcp "$HP3" "$TMPDIR_T/taken" /dev/null &
TAKER=$!
at_exit "kill $TAKER 2>/dev/null"
for _ in $(seq 100); do [ -e "$TMPDIR_T/taken" ] && break; sleep 0.05; done
run_b --log-level debug --port-forward "$HP3:80" -- touch "$D/ran"
id_taken=$(jail_field "$TMPDIR_T/stderr" id)
expect_rc "a taken host port stops boundary" 125
contains "... saying which port and why" "$err" \
	"--port-forward $HP3:80: cannot listen on 127.0.0.1:$HP3: Address already in use"
check "... before the command ran" [ ! -e "$D/ran" ]
kill "$TAKER" 2>/dev/null

run_b --port-forward "8080:0" -- true
expect_rc "a jail port 0 is refused" 125
contains "... with the syntax" "$err" 'not a port forward (use HOST:JAIL'
run_b --port-forward "8080:1" --port-forward "8080:2" -- true
expect_rc "one host port forwarded twice is refused" 125
contains "... saying so" "$err" "host port 8080 is forwarded twice"

# By jail id, cgroups and pins only (a jail's processes live in its cgroup): other suites'
# boundaries may come and go meanwhile, and a process of theirs that ends between the snapshot
# and the check would look like ours.
id_pf=$(jail_field "$TMPDIR_T/pf.log" id)
state_snapshot "$TMPDIR_T/after"
left=$({
	state_leftovers "$TMPDIR_T/before" "$TMPDIR_T/after" "$id_pf"
	state_leftovers "$TMPDIR_T/before" "$TMPDIR_T/after" "$id_taken"
} | grep /boundary/)
both_made() { [ -n "$id_pf" ] && [ -n "$id_taken" ]; }
check "both jails were made ($id_pf, $id_taken)" both_made
check "nothing of them is left behind${left:+: $left}" [ -z "$left" ]
done_testing
