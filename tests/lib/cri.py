#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""cri.py: a small client of the Kubernetes CRI RuntimeService (containerd's CRI plugin), for the
suites that need real pod sandboxes without a kubelet or crictl (neither is in Debian). It needs
only Debian's python3-grpcio and python3-protobuf: the message classes are built at run time from
the FileDescriptorSet that protoc-c writes for user/cri.proto (the same file boundary node is
built against), so no grpc_tools, no protoc and no generated code. Every method is called with
grpc's generic unary_unary over unix:SOCKET. Output is JSON (protobuf field names), one document.

  cri.py [--socket S] [--proto FILE] [--timeout SEC] COMMAND ...
    version
    run-pod --name N [--namespace NS] [--uid U] [--cgroup-parent PATH] [--annotation K=V]...
            [--label K=V]... [--log-dir DIR] [--host-network]      prints the sandbox id
    create --pod ID --name N --image IMG [--mount HOST:CTR[:ro]]... [--env K=V]... -- CMD...
                                                                   prints the container id
    start ID | stop ID [--timeout-s N] | remove ID
    stop-pod ID | remove-pod ID
    pods                      the sandboxes, with their labels and annotations
    containers [--pod ID]
    pod-status ID [--verbose] its status; with --verbose, also the runtime's info map, each
                              value that is JSON decoded (containerd: info["info"])
    container-status ID [--verbose]
    image-tar ROOTFS OUT --ref NAME... [-- CMD...]
                              writes ROOTFS as an OCI image archive (one layer) that
                              `ctr images import` names NAME, each NAME; no daemon is asked

The sandbox config that CreateContainer needs again is read back from the runtime itself
(PodSandboxStatus verbose, containerd's info["info"]["config"]): no state is kept here.
"""
import argparse
import hashlib
import io
import json
import os
import platform
import subprocess
import sys
import tarfile
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
PROTO = os.path.join(HERE, "..", "..", "user", "cri.proto")
SERVICE = "/runtime.v1.RuntimeService/"


def load_messages(proto):
    """The message classes of PROTO, by full name ("runtime.v1.VersionRequest")."""
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

    proto = os.path.abspath(proto)
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "cri.pb")
        subprocess.run(["protoc-c", "--descriptor_set_out=" + out, "-I" + os.path.dirname(proto),
                        os.path.basename(proto)], check=True)
        fds = descriptor_pb2.FileDescriptorSet()
        with open(out, "rb") as f:
            fds.ParseFromString(f.read())
    pool = descriptor_pool.DescriptorPool()
    for fd in fds.file:
        pool.Add(fd)
    classes = {}
    for fd in fds.file:
        desc = pool.FindFileByName(fd.name)
        for name, md in desc.message_types_by_name.items():
            if hasattr(message_factory, "GetMessageClass"):  # protobuf >= 4.22
                classes[md.full_name] = message_factory.GetMessageClass(md)
            else:  # 3.21 (Debian 12's python3-protobuf, 4.21 as a Python package)
                classes[md.full_name] = message_factory.MessageFactory(pool).GetPrototype(md)
    return classes


class Cri:
    def __init__(self, socket, proto=PROTO, timeout=30):
        import grpc

        self.msgs = load_messages(proto)
        self.timeout = timeout
        self.channel = grpc.insecure_channel("unix:" + socket)

    def call(self, method, request):
        """Calls METHOD with REQUEST (a dict in proto field names); the response as a dict."""
        from google.protobuf import json_format

        req = json_format.ParseDict(request, self.msgs["runtime.v1." + method + "Request"]())
        resp_cls = self.msgs["runtime.v1." + method + "Response"]
        stub = self.channel.unary_unary(SERVICE + method,
                                        request_serializer=lambda m: m.SerializeToString(),
                                        response_deserializer=resp_cls.FromString)
        resp = stub(req, timeout=self.timeout)
        return json_format.MessageToDict(resp, preserving_proto_field_name=True,
                                         including_default_value_fields=True)

    def sandbox_config(self, pod):
        """The config POD was run with, as the runtime keeps it (containerd's verbose info)."""
        info = self.call("PodSandboxStatus", {"pod_sandbox_id": pod, "verbose": True}).get("info", {})
        try:
            cfg = json.loads(info["info"])["config"]
        except (KeyError, ValueError) as e:
            raise SystemExit("cri.py: the runtime gives no sandbox config for %s (%s)" % (pod, e))
        # Go's JSON of the runtime's own (whole) message: what user/cri.proto leaves out, dropped.
        from google.protobuf import json_format

        msg = json_format.ParseDict(cfg, self.msgs["runtime.v1.PodSandboxConfig"](),
                                    ignore_unknown_fields=True)
        return json_format.MessageToDict(msg, preserving_proto_field_name=True)


def kv(items):
    out = {}
    for it in items or []:
        k, sep, v = it.partition("=")
        if not sep:
            raise SystemExit("cri.py: %r is not KEY=VALUE" % it)
        out[k] = v
    return out


def decode_info(resp):
    """The info map's values that are JSON, decoded (containerd's "info" is)."""
    for k, v in list(resp.get("info", {}).items()):
        try:
            resp["info"][k] = json.loads(v)
        except ValueError:
            pass
    return resp


def pod_config(a):
    ns = {"network": "NODE" if a.host_network else "POD"}
    cfg = {
        "metadata": {"name": a.name, "namespace": a.namespace, "uid": a.uid or a.name, "attempt": 0},
        "labels": kv(a.label),
        "annotations": kv(a.annotation),
        "linux": {"cgroup_parent": a.cgroup_parent, "security_context": {"namespace_options": ns}},
    }
    if not a.host_network:  # with the host's UTS namespace, runc refuses to set a hostname
        cfg["hostname"] = a.name
    if a.log_dir:
        cfg["log_directory"] = a.log_dir
    return cfg


def container_config(a, sandbox):
    mounts = []
    for m in a.mount:
        parts = m.split(":")
        if len(parts) not in (2, 3) or (len(parts) == 3 and parts[2] != "ro"):
            raise SystemExit("cri.py: --mount %r is not HOST:CTR[:ro]" % m)
        mounts.append({"host_path": parts[0], "container_path": parts[1], "readonly": len(parts) == 3})
    cfg = {
        "metadata": {"name": a.name, "attempt": 0},
        "image": {"image": a.image},
        "command": a.cmd,
        "envs": [{"key": k, "value": v} for k, v in kv(a.env).items()],
        "mounts": mounts,
        "labels": kv(a.label),
        "annotations": kv(a.annotation),
    }
    # Without a log_directory on the pod, containerd discards the container's output.
    if sandbox.get("log_directory"):
        cfg["log_path"] = a.name + ".log"
    return cfg


def image_tar(rootfs, out, refs, cmd):
    """An OCI image archive (oci-layout, index.json, blobs) of ROOTFS as one uncompressed layer."""
    arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
    blobs = {}

    def blob(data, media_type):
        h = hashlib.sha256(data).hexdigest()
        blobs[h] = data
        return {"mediaType": media_type, "digest": "sha256:" + h, "size": len(data)}

    layer = io.BytesIO()
    with tarfile.open(fileobj=layer, mode="w", format=tarfile.PAX_FORMAT) as tf:
        tf.add(rootfs, arcname=".", recursive=True)
    layer = layer.getvalue()
    diff_id = "sha256:" + hashlib.sha256(layer).hexdigest()
    config = {
        "architecture": arch, "os": "linux",
        "config": {"Env": ["PATH=/bin"], "Cmd": cmd},
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
    }
    cfg = blob(json.dumps(config).encode(), "application/vnd.oci.image.config.v1+json")
    lay = blob(layer, "application/vnd.oci.image.layer.v1.tar")
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": cfg, "layers": [lay]}
    man = blob(json.dumps(manifest).encode(), manifest["mediaType"])
    # One entry per name: ctr import names each image from io.containerd.image.name.
    index = {"schemaVersion": 2, "manifests": [
        dict(man, platform={"architecture": arch, "os": "linux"},
             annotations={"io.containerd.image.name": r, "org.opencontainers.image.ref.name": r})
        for r in refs]}
    with tarfile.open(out, "w") as tf:
        def add(name, data):
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            ti.mode = 0o644
            tf.addfile(ti, io.BytesIO(data))
        add("oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
        add("index.json", json.dumps(index).encode())
        for h, data in blobs.items():
            add("blobs/sha256/" + h, data)


def main(argv):
    p = argparse.ArgumentParser(prog="cri.py", description="a small CRI RuntimeService client")
    p.add_argument("--socket", default=os.environ.get("CRI_SOCKET", "/run/containerd/containerd.sock"))
    p.add_argument("--proto", default=PROTO)
    p.add_argument("--timeout", type=float, default=30)
    sub = p.add_subparsers(dest="op", required=True)
    sub.add_parser("version")
    s = sub.add_parser("run-pod")
    s.add_argument("--name", required=True)
    s.add_argument("--namespace", default="default")
    s.add_argument("--uid", default="")
    s.add_argument("--cgroup-parent", default="")
    s.add_argument("--annotation", action="append")
    s.add_argument("--label", action="append")
    s.add_argument("--log-dir", default="")
    s.add_argument("--host-network", action="store_true")
    s = sub.add_parser("create")
    s.add_argument("--pod", required=True)
    s.add_argument("--name", required=True)
    s.add_argument("--image", required=True)
    s.add_argument("--mount", action="append", default=[])
    s.add_argument("--env", action="append")
    s.add_argument("--annotation", action="append")
    s.add_argument("--label", action="append")
    for name in ("start", "remove", "stop-pod", "remove-pod"):
        sub.add_parser(name).add_argument("id")
    s = sub.add_parser("stop")
    s.add_argument("id")
    s.add_argument("--timeout-s", type=int, default=10)
    sub.add_parser("pods")
    sub.add_parser("containers").add_argument("--pod", default="")
    for name in ("pod-status", "container-status"):
        s = sub.add_parser(name)
        s.add_argument("id")
        s.add_argument("--verbose", action="store_true")
    s = sub.add_parser("image-tar")
    s.add_argument("rootfs")
    s.add_argument("out")
    s.add_argument("--ref", action="append", required=True)
    # CMD after "--" is split off here: argparse's subcommands mishandle "--" and "-c" in it.
    cmd = []
    if "--" in argv:
        cmd = argv[argv.index("--") + 1:]
        argv = argv[:argv.index("--")]
    a = p.parse_args(argv)
    a.cmd = cmd
    if a.op == "create" and not cmd:
        p.error("create: no CMD after --")

    if a.op == "image-tar":
        image_tar(a.rootfs, a.out, a.ref, a.cmd)
        return 0
    c = Cri(a.socket, a.proto, a.timeout)
    out = None
    if a.op == "version":
        out = c.call("Version", {"version": "v1"})
    elif a.op == "run-pod":
        r = c.call("RunPodSandbox", {"config": pod_config(a)})
        print(r["pod_sandbox_id"])
    elif a.op == "create":
        sandbox = c.sandbox_config(a.pod)
        r = c.call("CreateContainer", {"pod_sandbox_id": a.pod, "config": container_config(a, sandbox),
                                       "sandbox_config": sandbox})
        print(r["container_id"])
    elif a.op == "start":
        c.call("StartContainer", {"container_id": a.id})
    elif a.op == "stop":
        c.call("StopContainer", {"container_id": a.id, "timeout": a.timeout_s})
    elif a.op == "remove":
        c.call("RemoveContainer", {"container_id": a.id})
    elif a.op == "stop-pod":
        c.call("StopPodSandbox", {"pod_sandbox_id": a.id})
    elif a.op == "remove-pod":
        c.call("RemovePodSandbox", {"pod_sandbox_id": a.id})
    elif a.op == "pods":
        out = c.call("ListPodSandbox", {}).get("items", [])
    elif a.op == "containers":
        out = c.call("ListContainers", {"filter": {"pod_sandbox_id": a.pod}}).get("containers", [])
    elif a.op == "pod-status":
        out = decode_info(c.call("PodSandboxStatus", {"pod_sandbox_id": a.id, "verbose": a.verbose}))
    elif a.op == "container-status":
        out = decode_info(c.call("ContainerStatus", {"container_id": a.id, "verbose": a.verbose}))
    if out is not None:
        json.dump(out, sys.stdout, indent=1, sort_keys=True)
        print()
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except Exception as e:  # grpc.RpcError among them: one line, not a trace
        code = getattr(e, "code", None)
        if callable(code):
            sys.exit("cri.py: %s: %s" % (code().name, e.details()))
        raise
