#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
#
# audit_sink_peers.py: the other ends of boundary's audit pipeline sinks (--audit-log journald,
# syslog:..., otlp+http://...) for tests/e2e/audit_sinks.t, each reading the wire format with a
# reader of its own, so the suite checks the bytes boundary sends, not its encoders against
# themselves.
#
#   journald DIR OUT     a fake journald: a Unix datagram socket DIR/socket (DIR made 0755, the
#                        socket 0666) reading journald's native protocol: "KEY=VALUE\n", or
#                        "KEY\n" + a little-endian 64-bit size + the value + "\n" for a value
#                        that holds a newline; a datagram too big to send comes as a memfd
#                        passed with SCM_RIGHTS. Each record is one JSON object a line of OUT
#                        ({"fields": {...}} or {"error": "..."}).
#   syslog-udp OUT       a UDP listener on 127.0.0.1: each datagram one line of OUT
#   syslog-tcp OUT       a TCP listener on 127.0.0.1 reading RFC 6587 octet-counted frames
#                        ("LEN SP MSG"): each message one line of OUT, "BADFRAME ..." when the
#                        framing is wrong
#   otlp MODE OUT        an OTLP/HTTP collector on 127.0.0.1: each POST one JSON line of OUT
#                        ({"path", "ctype", "t" (arrival, Unix time), "status", "body"});
#                        MODE ok: 200; 503first: 503 to the first request, 200 after;
#                        stall: reads the request and never answers
#   Each server writes its port (none for journald) to OUT.port, then touches OUT.ready.
#
#   check-journald OUT   every record's field names are journald's (A-Z, 0-9, _, not starting
#                        with _), and each has PRIORITY, SYSLOG_IDENTIFIER=boundary, MESSAGE,
#                        BOUNDARY_EVENT and BOUNDARY_DECISION
#   check-syslog OUT     every line is an RFC 5424 message (PRI, version 1, an RFC 3339 time,
#                        APP-NAME boundary, PROCID, MSGID) whose structured data is one
#                        boundary@32473 element of well-formed, properly escaped parameters
#   check-otlp OUT [PATH]
#                        every request is a POST to PATH (/v1/logs by default) of
#                        application/json, whose body follows the OTLP logs JSON mapping: resourceLogs ->
#                        resource (service.name=boundary) and scopeLogs -> scope and logRecords,
#                        each with timeUnixNano (a decimal string), severityNumber 9 or 13 and
#                        its severityText, body.stringValue, attributes of unique keys with one
#                        of stringValue, intValue (a decimal string) or boolValue
#   check-retry OUT URL  exactly one request was answered 503, it held URL's records, and a
#                        later one with them was answered 200
#   The checks print "PASS DESC" or "FAIL DESC" (and "# DETAIL" lines), for the suite to count.
#
#   records KIND OUT     one JSON object a line per record, whatever the format, with the keys
#                        of boundary's JSON record (decision, event, url, pid, ...), for the
#                        suite to grep: KIND is journald, syslog or otlp
import http.server
import json
import os
import re
import signal
import socket
import struct
import sys
import threading
import time


def ready(out, port=None):
    if port is not None:
        with open(out + ".port", "w") as f:
            f.write("%d\n" % port)
    open(out + ".ready", "w").close()


def append(out, line, lock=threading.Lock()):
    with lock:
        with open(out, "a") as f:
            f.write(line + "\n")
            f.flush()


# --- journald ------------------------------------------------------------------------------

def parse_native(data):
    fields = {}
    i = 0
    while i < len(data):
        nl = data.index(b"\n", i)
        line = data[i:nl]
        if b"=" in line:
            k, v = line.split(b"=", 1)
            i = nl + 1
        else:
            k = line
            (size,) = struct.unpack("<Q", data[nl + 1:nl + 9])
            v = data[nl + 9:nl + 9 + size]
            if data[nl + 9 + size:nl + 10 + size] != b"\n":
                raise ValueError("a binary field %r not ended by a newline" % k)
            i = nl + 10 + size
        fields[k.decode()] = v.decode("utf-8", "replace")
    return fields


def serve_journald(d, out):
    os.makedirs(d, exist_ok=True)
    os.chmod(d, 0o755)
    path = os.path.join(d, "socket")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    os.chmod(path, 0o666)
    ready(out)
    while True:
        data, anc, _, _ = s.recvmsg(1 << 20, socket.CMSG_SPACE(4 * 4))
        for level, typ, cdata in anc:
            if level == socket.SOL_SOCKET and typ == socket.SCM_RIGHTS:
                fd = struct.unpack("i", cdata[:4])[0]
                with os.fdopen(fd, "rb") as f:
                    data = f.read()
        try:
            append(out, json.dumps({"fields": parse_native(data)}))
        except (ValueError, struct.error) as e:
            append(out, json.dumps({"error": str(e), "raw": data.decode("latin-1")}))


# --- syslog --------------------------------------------------------------------------------

def serve_syslog_udp(out):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    ready(out, s.getsockname()[1])
    while True:
        data = s.recv(65536)
        append(out, data.decode("utf-8", "replace"))


def tcp_conn(c, out):
    buf = b""
    while True:
        data = c.recv(65536)
        if not data:
            if buf:
                append(out, "BADFRAME a frame cut short: %r" % buf[:80])
            return
        buf += data
        while buf:
            m = re.match(rb"([1-9][0-9]{0,8}) ", buf)
            if not m:
                if len(buf) > 10 or not re.fullmatch(rb"[0-9]*", buf):
                    append(out, "BADFRAME %r" % buf[:80])
                    return
                break
            n = int(m.group(1))
            start = m.end()
            if len(buf) < start + n:
                break
            append(out, buf[start:start + n].decode("utf-8", "replace"))
            buf = buf[start + n:]


def serve_syslog_tcp(out):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(8)
    ready(out, s.getsockname()[1])
    while True:
        c, _ = s.accept()
        threading.Thread(target=tcp_conn, args=(c, out), daemon=True).start()


SD_NAME = r'[!#-~]{1,32}'  # printable US-ASCII but space, '=', ']' and '"' (checked below)


def parse_syslog(line):
    """The fields of an RFC 5424 message, or raises ValueError saying what is wrong."""
    m = re.match(r'<([0-9]{1,3})>1 (\S+) (\S+) (\S+) (\S+) (\S+) ', line)
    if not m:
        raise ValueError("not an RFC 5424 header")
    pri = int(m.group(1))
    if pri > 191:
        raise ValueError("PRI %d out of range" % pri)
    if not re.fullmatch(r'[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}'
                        r'(\.[0-9]{1,6})?(Z|[+-][0-9]{2}:[0-9]{2})', m.group(2)):
        raise ValueError("TIMESTAMP %r" % m.group(2))
    if m.group(4) != "boundary":
        raise ValueError("APP-NAME %r" % m.group(4))
    rest = line[m.end():]
    if not rest.startswith("[boundary@32473"):
        raise ValueError("no boundary@32473 element: %r" % rest[:40])
    i = len("[boundary@32473")
    params = {}
    while rest[i] == " ":
        i += 1
        eq = rest.index("=", i)
        name = rest[i:eq]
        if not re.fullmatch(SD_NAME, name) or any(c in name for c in ' ="]'):
            raise ValueError("PARAM-NAME %r" % name)
        if rest[eq + 1] != '"':
            raise ValueError("PARAM-VALUE of %s not quoted" % name)
        i = eq + 2
        v = []
        while rest[i] != '"':
            if rest[i] == "\\" and rest[i + 1] in '"\\]':
                v.append(rest[i + 1])
                i += 2
                continue
            if rest[i] in "]":
                raise ValueError("an unescaped ] in %s" % name)
            v.append(rest[i])
            i += 1
        i += 1
        if name in params:
            raise ValueError("%s twice" % name)
        params[name] = "".join(v)
    if rest[i] != "]":
        raise ValueError("the element is not closed: %r" % rest[i:i + 20])
    msg = rest[i + 1:]
    if msg and not msg.startswith(" "):
        raise ValueError("no space before MSG")
    return {"pri": pri, "msgid": m.group(6), "procid": m.group(5), "params": params,
            "msg": msg[1:]}


# --- OTLP ----------------------------------------------------------------------------------

def serve_otlp(mode, out):
    state = {"n": 0}
    lock = threading.Lock()

    class H(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with lock:
                state["n"] += 1
                n = state["n"]
            status = 200
            if mode == "503first" and n == 1:
                status = 503
            rec = {"path": self.path, "ctype": self.headers.get("Content-Type"), "t": time.time(),
                   "status": 0 if mode == "stall" else status, "body": body.decode("utf-8", "replace")}
            append(out, json.dumps(rec))
            if mode == "stall":
                time.sleep(3600)
                return
            reply = b"{}" if status == 200 else b"try later"
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
    srv.daemon_threads = True
    ready(out, srv.server_address[1])
    srv.serve_forever()


def otlp_problems(body):
    """What is wrong with one OTLP/HTTP JSON logs body, as a list of sentences."""
    bad = []

    def attrs(lst, where):
        if not isinstance(lst, list):
            bad.append("%s: attributes is not a list" % where)
            return {}
        seen = {}
        for a in lst:
            if set(a) != {"key", "value"} or not isinstance(a["key"], str):
                bad.append("%s: attribute %r" % (where, a))
                continue
            v = a["value"]
            if len(v) != 1:
                bad.append("%s: %s has %d values" % (where, a["key"], len(v)))
                continue
            (t, x), = v.items()
            if t == "stringValue" and isinstance(x, str):
                pass
            elif t == "intValue" and isinstance(x, str) and re.fullmatch(r"-?[0-9]+", x):
                pass
            elif t == "boolValue" and isinstance(x, bool):
                pass
            else:
                bad.append("%s: %s is %s %r" % (where, a["key"], t, x))
            if a["key"] in seen:
                bad.append("%s: %s twice" % (where, a["key"]))
            seen[a["key"]] = x
        return seen

    try:
        d = json.loads(body)
    except ValueError as e:
        return ["not JSON: %s" % e]
    if set(d) != {"resourceLogs"} or not isinstance(d["resourceLogs"], list):
        return ["the top level is not {resourceLogs: [...]}"]
    for rl in d["resourceLogs"]:
        res = attrs(rl.get("resource", {}).get("attributes"), "resource")
        if res.get("service.name") != "boundary":
            bad.append("resource: service.name is %r" % res.get("service.name"))
        for sl in rl.get("scopeLogs", []):
            if not isinstance(sl.get("scope", {}).get("name"), str):
                bad.append("scopeLogs: no scope name")
            recs = sl.get("logRecords")
            if not isinstance(recs, list) or not recs:
                bad.append("scopeLogs: no logRecords")
                continue
            for r in recs:
                if not re.fullmatch(r"[0-9]{19}", str(r.get("timeUnixNano"))) or \
                        not isinstance(r.get("timeUnixNano"), str):
                    bad.append("timeUnixNano %r" % r.get("timeUnixNano"))
                sev = (r.get("severityNumber"), r.get("severityText"))
                if sev not in ((9, "INFO"), (13, "WARN")):
                    bad.append("severity %r" % (sev,))
                if not isinstance(r.get("body", {}).get("stringValue"), str):
                    bad.append("body %r" % r.get("body"))
                a = attrs(r.get("attributes"), "logRecord")
                if (a.get("boundary.decision") == "deny") != (sev[0] == 13):
                    bad.append("severity %r for decision %r" % (sev, a.get("boundary.decision")))
    return bad


# --- checks and records --------------------------------------------------------------------

def lines(out):
    try:
        with open(out) as f:
            return [l.rstrip("\n") for l in f if l.strip()]
    except FileNotFoundError:
        return []


def report(desc, problems):
    if problems:
        print("FAIL " + desc)
        for p in problems[:10]:
            print("# " + p)
    else:
        print("PASS " + desc)


def check_journald(out):
    bad = []
    recs = [json.loads(l) for l in lines(out)]
    for r in recs:
        if "error" in r:
            bad.append("unreadable datagram: %s" % r["error"])
            continue
        f = r["fields"]
        for k in f:
            if not re.fullmatch(r"[A-Z0-9][A-Z0-9_]{0,63}", k):
                bad.append("field name %r" % k)
        for k in ("PRIORITY", "MESSAGE", "BOUNDARY_EVENT", "BOUNDARY_DECISION"):
            if k not in f:
                bad.append("no %s in %r" % (k, sorted(f)))
        if f.get("SYSLOG_IDENTIFIER") != "boundary":
            bad.append("SYSLOG_IDENTIFIER %r" % f.get("SYSLOG_IDENTIFIER"))
        if f.get("PRIORITY") != ("4" if f.get("BOUNDARY_DECISION") == "deny" else "6"):
            bad.append("PRIORITY %r for %r" % (f.get("PRIORITY"), f.get("BOUNDARY_DECISION")))
    report("%d journald records in journald's native protocol, with boundary's fields"
           % len(recs), bad or ([] if recs else ["no record"]))


def check_syslog(out):
    bad = []
    ls = lines(out)
    for l in ls:
        try:
            p = parse_syslog(l)
            deny = p["params"].get("decision") == "deny"
            if p["pri"] != 8 + (4 if deny else 6):
                bad.append("PRI %d for %r" % (p["pri"], p["params"].get("decision")))
            if p["msgid"] != p["params"].get("event"):
                bad.append("MSGID %r, event %r" % (p["msgid"], p["params"].get("event")))
        except (ValueError, IndexError) as e:
            bad.append("%s: %s" % (e, l[:200]))
    report("%d syslog messages are RFC 5424 with a boundary@32473 element" % len(ls),
           bad or ([] if ls else ["no message"]))


def check_otlp(out, path):
    bad = []
    posts = [json.loads(l) for l in lines(out)]
    for p in posts:
        if p["ctype"] != "application/json":
            bad.append("Content-Type %r" % p["ctype"])
        if p["path"] != path:
            bad.append("POST %s, not %s" % (p["path"], path))
        bad += otlp_problems(p["body"])
    report("%d OTLP requests to %s follow the OTLP logs JSON mapping" % (len(posts), path),
           bad or ([] if posts else ["no request"]))


def check_retry(out, url):
    posts = [json.loads(l) for l in lines(out)]
    refused = [p for p in posts if p["status"] == 503]
    taken = [p for p in posts if p["status"] == 200 and url in p["body"]]
    bad = []
    if len(refused) != 1:
        bad.append("%d requests answered 503, not 1" % len(refused))
    elif url not in refused[0]["body"]:
        bad.append("the refused batch did not hold %s" % url)
    if not taken:
        bad.append("no request with %s was taken (200)" % url)
    report("refused once with 503, the batch was sent again and taken", bad)


# The JSON record's keys for OpenTelemetry's semantic names (auditfmt.c's table, read back).
OTLP_KEYS = {"http.request.method": "method", "url.full": "url", "server.address": "host",
             "server.port": "port", "http.response.status_code": "status",
             "process.pid": "pid", "process.executable.name": "comm",
             "process.executable.path": "exe", "client.address": "client"}


def records(kind, out):
    for l in lines(out):
        if kind == "journald":
            r = json.loads(l)
            if "fields" not in r:
                continue
            f = r["fields"]
            rec = {k[len("BOUNDARY_"):].lower(): v for k, v in f.items()
                   if k.startswith("BOUNDARY_")}
            if "client_pid" in rec:
                rec["pid"] = rec.pop("client_pid")
            if "process" in rec:
                rec["comm"] = rec.pop("process")
            rec["message"] = f.get("MESSAGE")
            print(json.dumps(rec))
        elif kind == "syslog":
            try:
                p = parse_syslog(l)
            except (ValueError, IndexError):
                continue
            rec = dict(p["params"])
            rec["message"] = p["msg"]
            print(json.dumps(rec))
        else:
            p = json.loads(l)
            try:
                body = json.loads(p["body"])
            except ValueError:
                continue
            for rl in body.get("resourceLogs", []):
                for sl in rl.get("scopeLogs", []):
                    for r in sl.get("logRecords", []):
                        rec = {"message": r["body"]["stringValue"], "status_http": p["status"]}
                        for a in r.get("attributes", []):
                            (_, v), = a["value"].items()
                            k = a["key"]
                            rec[OTLP_KEYS.get(k, k[len("boundary."):])] = v
                        print(json.dumps(rec))


def main():
    # records is read through grep | head: a reader that has seen enough ends it quietly
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    cmd = sys.argv[1]
    if cmd == "journald":
        serve_journald(sys.argv[2], sys.argv[3])
    elif cmd == "syslog-udp":
        serve_syslog_udp(sys.argv[2])
    elif cmd == "syslog-tcp":
        serve_syslog_tcp(sys.argv[2])
    elif cmd == "otlp":
        serve_otlp(sys.argv[2], sys.argv[3])
    elif cmd == "check-journald":
        check_journald(sys.argv[2])
    elif cmd == "check-syslog":
        check_syslog(sys.argv[2])
    elif cmd == "check-otlp":
        check_otlp(sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else "/v1/logs")
    elif cmd == "check-retry":
        check_retry(sys.argv[2], sys.argv[3])
    elif cmd == "records":
        records(sys.argv[2], sys.argv[3])
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
