#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
#
# coder_agent.py: plays the Coder workspace agent's audit socket for the e2e tests, and decodes
# what boundary sends it with a protobuf decoder of its own (varints and length-delimited fields,
# nothing generated), so the test checks the bytes on the wire, not our encoder against itself.
#
#   coder_agent.py serve SOCK OUT   listens on the Unix socket SOCK (made 0777, as the agent
#                                   makes it); appends one JSON object a line to OUT for each
#                                   connection accepted ({"ev": "accept"}), each frame
#                                   ({"ev": "frame", "tag", "len", "t" (arrival, Unix time),
#                                   "msg": the decoded BoundaryMessage, or "error"}) and each
#                                   end ({"ev": "eof"}); touches OUT.ready when listening
#   coder_agent.py dump OUT         prints OUT's frames for a person
#   coder_agent.py check OUT EXPECT SESSION PROCESS T0 T1 BATCHES
#                                   checks every frame and record in OUT against EXPECT (one
#                                   record a line: "allow|METHOD|URL|RULE" or "deny|METHOD|URL"),
#                                   the session id SESSION, the process name PROCESS, times within
#                                   [T0, T1] (Unix seconds) and batch sizes BATCHES (comma-
#                                   separated): prints "PASS DESC" or "FAIL DESC" (then "# DETAIL"
#                                   lines) per check, for tests/e2e/agent.t's check_frames
#   coder_agent.py delay OUT        prints "DELAY N" for OUT's first frame: how long after its first
#                                   record's time it arrived (seconds), and how many records it has
#
# The decoder is strict: a field number the schema does not have, a wire type that does not match
# it, a singular field twice, a string that is not UTF-8 or a truncated field is an error. Absent
# proto3 fields stay absent in the JSON, so a test can tell "not sent" from "sent empty".
import json
import os
import socket
import sys
import threading
import time

TAG_V2 = 2
FRAME_MAX = 32768

# message name -> {field number: (name, kind, repeated)}; kind is a wire-level type or a message
SCHEMA = {
    "BoundaryMessage": {1: ("logs", "ReportBoundaryLogsRequest", False),
                        2: ("status", "BoundaryStatus", False)},
    "ReportBoundaryLogsRequest": {1: ("logs", "BoundaryLog", True),
                                  2: ("session_id", "string", False),
                                  3: ("confined_process_name", "string", False)},
    "BoundaryLog": {1: ("allowed", "bool", False),
                    2: ("time", "Timestamp", False),
                    3: ("http_request", "HttpRequest", False),
                    4: ("sequence_number", "int32", False)},
    "HttpRequest": {1: ("method", "string", False),
                    2: ("url", "string", False),
                    3: ("matched_rule", "string", False)},
    "Timestamp": {1: ("seconds", "int64", False), 2: ("nanos", "int32", False)},
    "BoundaryStatus": {1: ("dropped_channel_full", "int64", False),
                       2: ("dropped_batch_full", "int64", False)},
}
VARINT_KINDS = ("bool", "int32", "int64")
ONEOFS = {"BoundaryMessage": ("logs", "status")}


class DecodeError(Exception):
    pass


def varint(b, i):
    v, shift = 0, 0
    while True:
        if i >= len(b):
            raise DecodeError("truncated varint")
        c = b[i]
        i += 1
        v |= (c & 0x7F) << shift
        shift += 7
        if not c & 0x80:
            return v, i
        if shift >= 70:
            raise DecodeError("varint longer than 10 bytes")


def signed(v, bits):
    v &= (1 << 64) - 1
    if v >= 1 << 63:
        v -= 1 << 64
    if not -(1 << (bits - 1)) <= v < 1 << (bits - 1):
        raise DecodeError("%d does not fit int%d" % (v, bits))
    return v


def decode(name, b):
    schema, out, i = SCHEMA[name], {}, 0
    while i < len(b):
        key, i = varint(b, i)
        num, wt = key >> 3, key & 7
        if num not in schema:
            raise DecodeError("%s: no field %d" % (name, num))
        fname, kind, repeated = schema[num]
        if kind in VARINT_KINDS:
            if wt != 0:
                raise DecodeError("%s.%s: wire type %d, want 0" % (name, fname, wt))
            v, i = varint(b, i)
            if kind == "bool":
                if v > 1:
                    raise DecodeError("%s.%s: bool %d" % (name, fname, v))
                v = bool(v)
            else:
                v = signed(v, 32 if kind == "int32" else 64)
        else:
            if wt != 2:
                raise DecodeError("%s.%s: wire type %d, want 2" % (name, fname, wt))
            n, i = varint(b, i)
            if i + n > len(b):
                raise DecodeError("%s.%s: %d bytes past the end" % (name, fname, i + n - len(b)))
            raw, i = b[i:i + n], i + n
            if kind == "string":
                try:
                    v = raw.decode("utf-8")
                except UnicodeDecodeError as e:
                    raise DecodeError("%s.%s: not UTF-8: %s" % (name, fname, e))
            else:
                v = decode(kind, raw)
        if repeated:
            out.setdefault(fname, []).append(v)
        elif fname in out:
            raise DecodeError("%s.%s: twice" % (name, fname))
        else:
            out[fname] = v
    if name in ONEOFS and sum(1 for f in ONEOFS[name] if f in out) != 1:
        raise DecodeError("%s: want exactly one of %s, got %s" % (name, ONEOFS[name], list(out)))
    return out


def recv_exact(c, n):
    buf = b""
    while len(buf) < n:
        d = c.recv(n - len(buf))
        if not d:
            return None if not buf else buf
        buf += d
    return buf


def serve(path, out):
    lock = threading.Lock()

    def note(obj):
        with lock, open(out, "a") as f:
            f.write(json.dumps(obj) + "\n")

    def conn(c, n):
        note({"ev": "accept", "conn": n, "t": time.time()})
        while True:
            h = recv_exact(c, 4)
            if h is None:
                break
            if len(h) < 4:
                note({"ev": "frame", "conn": n, "error": "truncated header"})
                break
            hv = int.from_bytes(h, "big")
            tag, ln = hv >> 24, hv & 0xFFFFFF
            body = recv_exact(c, ln) if ln else b""
            rec = {"ev": "frame", "conn": n, "tag": tag, "len": ln, "t": time.time()}
            if body is None or len(body) < ln:
                rec["error"] = "truncated frame: %d of %d bytes" % (len(body or b""), ln)
                note(rec)
                break
            try:
                if tag != TAG_V2:
                    raise DecodeError("tag %d" % tag)
                if ln > FRAME_MAX:
                    raise DecodeError("length %d > %d" % (ln, FRAME_MAX))
                rec["msg"] = decode("BoundaryMessage", body)
            except DecodeError as e:
                rec["error"] = str(e)
            note(rec)
        c.close()
        note({"ev": "eof", "conn": n, "t": time.time()})

    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    os.chmod(path, 0o777)
    s.listen(16)
    open(out + ".ready", "w").close()
    n = 0
    while True:
        c, _ = s.accept()
        n += 1
        threading.Thread(target=conn, args=(c, n), daemon=True).start()


def dump(out):
    with open(out) as f:
        for line in f:
            print(line.rstrip())


def check_frames(args):
    """coder_agent.py check: PASS/FAIL lines, for tests/e2e/agent.t's check_frames."""
    import re
    out, expect, session, process, t0, t1, batches = args
    t0, t1 = float(t0), float(t1)
    want = []
    for line in open(expect):
        f = line.rstrip("\n").split("|")
        if len(f) >= 3:
            want.append((f[0] == "allow", f[1], f[2], f[3] if len(f) > 3 else None))
    ev = [json.loads(l) for l in open(out)]
    frames = [e for e in ev if e["ev"] == "frame"]
    def check(desc, cond, *detail):
        print(("PASS " if cond else "FAIL ") + desc)
        if not cond:
            for d in detail:
                print("# " + str(d))
    check("one connection to the agent", sum(e["ev"] == "accept" for e in ev) == 1,
          [e for e in ev if e["ev"] != "frame"])
    errors = [f for f in frames if "error" in f]
    check("every frame has tag 2, a length within 32768 and a BoundaryMessage that decodes",
          frames and not errors and all(f["tag"] == 2 and 0 < f["len"] <= 32768 for f in frames),
          *errors)
    logs_msgs = [f["msg"]["logs"] for f in frames if "msg" in f and "logs" in f["msg"]]
    status = [f["msg"]["status"] for f in frames if "msg" in f and "status" in f["msg"]]
    check("no BoundaryStatus (nothing was dropped)", not status, status)
    sizes = ",".join(str(len(m.get("logs", []))) for m in logs_msgs)
    check("batches of %s records" % batches, sizes == batches, "got " + sizes)
    check("session_id in every batch is the one boundary logged (%s)" % session,
          all(m.get("session_id") == session for m in logs_msgs),
          [m.get("session_id") for m in logs_msgs])
    check("session_id is a version 4 UUID",
          re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", session))
    check("confined_process_name in every batch is %s" % process,
          all(m.get("confined_process_name") == process for m in logs_msgs),
          [m.get("confined_process_name") for m in logs_msgs])
    logs = [l for m in logs_msgs for l in m.get("logs", [])]
    check("%d records, one per decision" % len(want), len(logs) == len(want),
          "got %d: %s" % (len(logs), logs))
    seqs = [l.get("sequence_number", 0) for l in logs]
    check("sequence numbers 0, 1, 2, ... in order", seqs == list(range(len(logs))), seqs)
    times = [l["time"]["seconds"] + l["time"].get("nanos", 0) / 1e9 for l in logs if "time" in l]
    check("every record has a time between the run's start and end, in order",
          len(times) == len(logs) and all(t0 - 1 <= t <= t1 + 1 for t in times)
          and times == sorted(times)
          and all(0 <= l["time"].get("nanos", 0) < 10**9 for l in logs),
          "run %.3f..%.3f" % (t0, t1), times)
    for i, (w, l) in enumerate(zip(want, logs)):
        allowed, method, url, rule = w
        h = l.get("http_request", {})
        got = (l.get("allowed", False), h.get("method"), h.get("url"), h.get("matched_rule"))
        check("record %d: %s %s %s%s" % (i, "allowed" if allowed else "denied", method, url,
                                        " (rule %s)" % rule if rule else ", no matched_rule"),
              "http_request" in l and got == (allowed, method, url, rule),
              "got " + json.dumps(l))


def delay(out):
    """coder_agent.py delay: the first frame's delay and record count."""
    f = [json.loads(l) for l in open(out)]
    fr = [e for e in f if e["ev"] == "frame"][0]
    log = fr["msg"]["logs"]["logs"][0]
    print("%.2f %d" % (fr["t"] - (log["time"]["seconds"] + log["time"].get("nanos", 0) / 1e9),
                       len(fr["msg"]["logs"]["logs"])))


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "dump":
        dump(sys.argv[2])
    elif sys.argv[1] == "check":
        check_frames(sys.argv[2:9])
    elif sys.argv[1] == "delay":
        delay(sys.argv[2])
    else:
        sys.exit("usage: coder_agent.py serve SOCK OUT | dump OUT | check OUT EXPECT SESSION"
                 " PROCESS T0 T1 BATCHES | delay OUT")
