#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# image.t: --image, end to end, on OCI image layouts written here by tests/lib/oci_layout.py
# (a busybox layer, then a layer whose whiteouts delete a file and make a directory opaque; a
# config with Env, WorkingDir and User; an index that also lists another architecture): the
# layers applied with their whiteouts, the config applied unless flags say otherwise, the cache
# used by the next run and by runs at once, and the refusals (a blob that does not match its
# digest, no index.json, a media type boundary does not read) before anything runs. Each suite's
# cache is its own (--image-cache); no registry is asked for anything.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/jail.sh"
. "$(dirname "$0")/../lib/proxy.sh"

proxy_suite --no-testhost
BB=$TMPDIR_T/bb
busybox_rootfs "$BB" || {
	fail "cannot make the busybox root"
	done_testing
	exit 1
}
IMG=$TMPDIR_T/img
CACHE=$TMPDIR_T/cache
digest=$(python3 "$STAGE/lib/oci_layout.py" "$IMG" "$BB")
check "the test image layout is written" [ -s "$IMG/index.json" ]

# shellcheck disable=SC2016 # for the jailed shell
PROBE_SH='
	echo "gone: $(cat /etc/gone 2>&1)"
	echo "opaque: $(ls /opaque | tr "\n" " ")"
	echo "layer2: $(cat /layer2)"
	echo "keep: $(cat /keep)"
	echo "env: $IMAGE_VAR"
	echo "path: $PATH"
	echo "pwd: $(pwd)"
	echo "id: $(id -u):$(id -g)"
	echo "home: $HOME $USER"
	echo "ca: $(grep -c "BEGIN CERTIFICATE" /etc/ssl/certs/ca-certificates.crt)"'

bnd --image "$IMG" --image-cache "$CACHE" -- /bin/sh -c "$PROBE_SH"
check "the command runs in the image (exit 0)" [ "$rc" = 0 ]
[ "$rc" = 0 ] || diag "$log"
matches "$(result gone)" "No such file" && ok "a whiteout of layer 2 deletes layer 1's file" ||
	fail "a whiteout of layer 2 deletes layer 1's file: $(result gone)"
want opaque "c " "an opaque directory of layer 2 hides what layer 1 put there"
want layer2 "from layer 2" "layer 2's own file is there"
want keep kept "layer 1's other files are there"
want env from-image "the config's Env is the command's"
want path /bin "the config's PATH is the one the command is looked up on"
want pwd /work/dir "the config's WorkingDir is where the command starts (made if missing)"
want id 1234:2345 "the config's User (a name in the image's passwd) runs the command"
want home "/home/app app" "HOME and USER are that user's, from the image's passwd"
check "boundary's CA bundle is in the image's root" [ "$(result ca)" -ge 1 ] 2>/dev/null
logged "the log says the image was unpacked" "$log" "unpacked the image .* into $(ere_quote "$CACHE/$digest")/root"
ready=$CACHE/$digest/ready
check "the cache entry is named after the manifest's digest and marked ready" [ -e "$ready" ]
check "the cache is root's alone (0700)" [ "$(stat -c '%u %a' "$CACHE")" = "0 700" ]
before=$(stat -c '%Y.%i' "$ready" "$CACHE/$digest/root" | tr '\n' ' ')

sleep 1.1
bnd --image "$IMG" --image-cache "$CACHE" -- /bin/sh -c "$PROBE_SH"
want layer2 "from layer 2" "the second run sees the same root"
logged "the second run uses the cache, saying so" "$log" "is unpacked already"
lacks "the second run unpacks nothing" "$log" "unpacked the image"
check "the cache entry is the same one (its marker and root untouched)" \
	[ "$(stat -c '%Y.%i' "$ready" "$CACHE/$digest/root" | tr '\n' ' ')" = "$before" ]

# --- flags over the config ------------------------------------------------------------------------

bnd --image "$IMG" --image-cache "$CACHE" --user 4242:4242 -- /bin/sh -c "$PROBE_SH"
want id 4242:4242 "--user overrides the config's User"
W=$(shared_dir work)
bnd_argv --image "$IMG" --image-cache "$CACHE" --bind "$W:/src" -- /bin/sh -c "$PROBE_SH"
out=$(cd "$W" && timeout -k 5 60 "${BND_ARGV[@]}" 2>"$TMPDIR_T/bnd.log" </dev/null)
log=$(cat "$TMPDIR_T/bnd.log")
want pwd /src "a --bind of the working directory overrides the config's WorkingDir"

# --- runs at once ---------------------------------------------------------------------------------

C2=$TMPDIR_T/cache2
pids=()
for i in 1 2 3; do
	bnd_argv --image "$IMG" --image-cache "$C2" -- /bin/sh -c 'cat /layer2'
	timeout -k 5 60 "${BND_ARGV[@]}" >"$TMPDIR_T/par$i.out" 2>"$TMPDIR_T/par$i.log" </dev/null &
	pids+=($!)
done
wait "${pids[@]}"
all_ran() {
	local i
	for i in 1 2 3; do [ "$(cat "$TMPDIR_T/par$i.out")" = "from layer 2" ] || return 1; done
}
check "three runs at once on an empty cache all run the image" all_ran
check "they leave one entry and no half-unpacked copy" \
	[ "$(ls -A "$C2")" = "$digest" ]

# --- refusals before anything runs -----------------------------------------------------------------

BAD=$TMPDIR_T/bad
python3 "$STAGE/lib/oci_layout.py" "$BAD" "$BB" --corrupt >/dev/null
C3=$TMPDIR_T/cache3
bnd --image "$BAD" --image-cache "$C3" -- /bin/sh -c 'echo ran'
if [ "$rc" != 0 ] && [ -z "$out" ] &&
	grep -qE "layer 2 of 2, blob sha256:[0-9a-f]{64}, does not match its digest: expected sha256:[0-9a-f]{64}, got sha256:[0-9a-f]{64}" <<<"$log"; then
	ok "a layer that does not match its digest is refused, named, with expected and got"
else
	fail "a layer that does not match its digest is refused, named, with expected and got"
	diag "rc $rc out $out" "$log"
fi
check "and nothing of it is left in the cache" [ -z "$(ls -A "$C3" 2>/dev/null)" ]

mkdir -p "$TMPDIR_T/noindex"
bnd --image "$TMPDIR_T/noindex" --image-cache "$C3" -- /bin/sh -c 'echo ran'
if [ "$rc" != 0 ] && [ -z "$out" ] && grep -q "has no index.json" <<<"$log" && grep -q "skopeo copy" <<<"$log"; then
	ok "a directory without index.json is refused, saying how to make a layout"
else
	fail "a directory without index.json is refused, saying how to make a layout"
	diag "$log"
fi

MT=$TMPDIR_T/mt
python3 "$STAGE/lib/oci_layout.py" "$MT" "$BB" --media-type application/vnd.example.layer.v1.squashfs >/dev/null
bnd --image "$MT" --image-cache "$C3" -- /bin/sh -c 'echo ran'
if [ "$rc" != 0 ] && [ -z "$out" ] &&
	grep -q "layer 2 of 2 has the unsupported media type application/vnd.example.layer.v1.squashfs" <<<"$log"; then
	ok "a layer of an unsupported media type is refused, named"
else
	fail "a layer of an unsupported media type is refused, named"
	diag "$log"
fi

bnd --image "$IMG" --image-cache "$CACHE" -- /usr/bin/python3 -c 1
check "a command missing from the image is refused, named with the root" \
	grep -q "/usr/bin/python3 is not in the root $CACHE/$digest/root" <<<"$log"
bnd --image "$IMG" --rootfs "$BB" -- true
check "--image and --rootfs together are refused" grep -q "choose one" <<<"$log"

done_testing
