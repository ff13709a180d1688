#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""oci_layout.py DIR ROOTFS [--corrupt] [--evil KIND] [--media-type MT]: writes an OCI image
layout in DIR (oci-layout, index.json, blobs/sha256/...), as skopeo would, for e2e/image.t and
security/rootfs.t. Digests and sizes are computed here.

  layer 1 (tar+gzip)  ROOTFS (a busybox root), plus /etc/gone, /opaque/{a,b}, /keep, and an
                      "app" user (1234:2345) in /etc/passwd and /etc/group
  layer 2 (tar)       etc/.wh.gone (deletes /etc/gone), opaque/.wh..wh..opq (hides a and b),
                      opaque/c, /layer2
  config              Env PATH=/bin and IMAGE_VAR=from-image, WorkingDir /work/dir, User app
  index.json          a manifest for linux/arm64 that is not there, then the one for this machine

--corrupt changes a byte of layer 2 after its digest is taken. --evil KIND replaces layer 2 with
one that tries to write outside the root: abs (/evil-abs), dotdot (../evil-dotdot), symlink (a
link esc -> TARGET then esc/evil-through-link; TARGET from $EVIL_TARGET), hardlink (a hard link
to ../../evil-hard). --media-type MT gives layer 2 that media type.
"""
import gzip
import hashlib
import io
import json
import os
import platform
import sys
import tarfile

ARCH = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())


def blob(out, data):
    h = hashlib.sha256(data).hexdigest()
    os.makedirs(os.path.join(out, "blobs", "sha256"), exist_ok=True)
    with open(os.path.join(out, "blobs", "sha256", h), "wb") as f:
        f.write(data)
    return {"digest": "sha256:" + h, "size": len(data)}


def add_bytes(tf, name, data, mode=0o644):
    ti = tarfile.TarInfo(name)
    ti.size = len(data)
    ti.mode = mode
    tf.addfile(ti, io.BytesIO(data))


def add_dir(tf, name, mode=0o755):
    ti = tarfile.TarInfo(name)
    ti.type = tarfile.DIRTYPE
    ti.mode = mode
    tf.addfile(ti)


def layer1(rootfs):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for top, dirs, files in os.walk(rootfs):
            dirs.sort()
            for n in sorted(dirs) + sorted(files):
                p = os.path.join(top, n)
                rel = os.path.relpath(p, rootfs)
                if rel in ("etc/passwd", "etc/group"):
                    continue
                tf.add(p, arcname="./" + rel, recursive=False)
        add_bytes(tf, "etc/passwd", b"root:x:0:0:root:/root:/bin/sh\napp:x:1234:2345::/home/app:/bin/sh\n")
        add_bytes(tf, "etc/group", b"root:x:0:\napp:x:2345:\n")
        add_bytes(tf, "etc/gone", b"from layer 1\n")
        add_dir(tf, "opaque")
        add_bytes(tf, "opaque/a", b"a\n")
        add_bytes(tf, "opaque/b", b"b\n")
        add_bytes(tf, "keep", b"kept\n")
        add_dir(tf, "data", 0o1777)
    return gzip.compress(buf.getvalue())


def layer2(evil):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        if evil == "abs":
            add_bytes(tf, "/evil-abs", b"evil\n")
        elif evil == "dotdot":
            add_bytes(tf, "../evil-dotdot", b"evil\n")
        elif evil == "symlink":
            ti = tarfile.TarInfo("esc")
            ti.type = tarfile.SYMTYPE
            ti.linkname = os.environ["EVIL_TARGET"]
            tf.addfile(ti)
            add_bytes(tf, "esc/evil-through-link", b"evil\n")
        elif evil == "hardlink":
            ti = tarfile.TarInfo("hard")
            ti.type = tarfile.LNKTYPE
            ti.linkname = "../../evil-hard"
            tf.addfile(ti)
        else:
            add_bytes(tf, "etc/.wh.gone", b"")
            add_bytes(tf, "opaque/.wh..wh..opq", b"")
            add_bytes(tf, "opaque/c", b"c\n")
            add_bytes(tf, "layer2", b"from layer 2\n")
    return buf.getvalue()


def main():
    args = sys.argv[1:]
    out, rootfs = args[0], args[1]
    corrupt = "--corrupt" in args
    evil = args[args.index("--evil") + 1] if "--evil" in args else None
    mt2 = args[args.index("--media-type") + 1] if "--media-type" in args else "application/vnd.oci.image.layer.v1.tar"
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
    l1 = dict(blob(out, layer1(rootfs)), mediaType="application/vnd.oci.image.layer.v1.tar+gzip")
    data2 = layer2(evil)
    l2 = dict(blob(out, data2), mediaType=mt2)
    if corrupt:
        p = os.path.join(out, "blobs", "sha256", l2["digest"][7:])
        with open(p, "r+b") as f:
            f.seek(len(data2) // 2)
            b = f.read(1)
            f.seek(len(data2) // 2)
            f.write(bytes([b[0] ^ 0xFF]))
    config = {
        "architecture": ARCH,
        "os": "linux",
        "config": {"Env": ["PATH=/bin", "IMAGE_VAR=from-image"], "WorkingDir": "/work/dir", "User": "app"},
        "rootfs": {"type": "layers", "diff_ids": []},
    }
    cfg = dict(blob(out, json.dumps(config).encode()), mediaType="application/vnd.oci.image.config.v1+json")
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": cfg,
        "layers": [l1, l2],
    }
    m = dict(blob(out, json.dumps(manifest).encode()), mediaType="application/vnd.oci.image.manifest.v1+json")
    other = {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:" + "0" * 64,
             "size": 1, "platform": {"architecture": "arm64" if ARCH != "arm64" else "amd64", "os": "linux"}}
    m["platform"] = {"architecture": ARCH, "os": "linux"}
    index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [other, m]}
    with open(os.path.join(out, "index.json"), "w") as f:
        json.dump(index, f)
    print(m["digest"][7:])


if __name__ == "__main__":
    main()
