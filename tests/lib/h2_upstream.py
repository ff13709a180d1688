#!/usr/bin/python3
# SPDX-License-Identifier: MIT
#
# h2_upstream.py: an HTTP/2 origin server for tests/e2e/http2.t, on python3-h2 (Debian's 4.1)
# with plain sockets, ssl and a thread per connection and per stream. It listens on 127.0.0.1.
#
#   h2_upstream.py PORT MODE CERT KEY LOG READY
#       MODE tls-h2      TLS offering ALPN h2 and http/1.1: h2 when the client picks h2, a
#                        minimal HTTP/1.1 otherwise (no ALPN at all included)
#            tls-h2only  TLS offering ALPN h2 only: a client that does not pick h2 is closed
#                        after the handshake (a line on stderr says so)
#            h2c         cleartext HTTP/2 with prior knowledge (no Upgrade: a client that does
#                        not send the preface is closed); CERT and KEY are "-"
#            h2c-upgrade cleartext HTTP/1.1 that takes "Upgrade: h2c" (RFC 7540 3.2: 101, then
#                        HTTP/2, the upgrading request answered on stream 1, logged with PROTO
#                        h2c-upgrade); a request without it gets HTTP/1.1; CERT and KEY are "-"
#       LOG gets a line per request, "METHOD AUTHORITY PATH PROTO" (PROTO h2 or http/1.1,
#       AUTHORITY :authority or Host, "-" if none, PATH as sent, query included); READY is made
#       once it listens.
#   h2_upstream.py pattern N    prints the sha256 of the first N bytes of the /big pattern
#   h2_upstream.py gen N        writes those N bytes to stdout
#
# Endpoints (every response carries x-upstream-proto: h2 or http/1.1, what this server spoke):
#   /hello         200 "hello from h2\n"
#   /big?n=BYTES   200, BYTES bytes of the pattern with content-length, sent as the client's
#                  flow-control windows allow (it never buffers more than a frame's worth)
#   /trailers      200 "body before trailers\n" then the trailer "x-trailer: yes" (HTTP/1.1:
#                  chunked with the same trailer)
#   /echo          the request body back; x-seen-authority: the request's :authority (or
#                  Host), x-seen-te: its te header ("-" when it had none), x-seen-method
#   /slow?ms=N     200 "slow\n" after N ms (default 600000)
#   anything else  404 "no such endpoint: PATH\n"
import hashlib
import os
import socket
import ssl
import sys
import threading
import time
from urllib.parse import parse_qs, urlsplit

import h2.config
import h2.connection
import h2.events
import h2.exceptions
import h2.settings

# /big's bytes: the test pattern of upstream.py, so both servers' checksums are one.
from upstream import pattern  # noqa: E402 - tests/lib, beside this file

HELLO = b"hello from h2\n"
TRAILER_BODY = b"body before trailers\n"


def route(method, path, body):
    """What to answer: (status, headers, body or a generator of blocks, trailers or None)."""
    u = urlsplit(path)
    q = parse_qs(u.query)
    if u.path == "/hello":
        return 200, [("content-type", "text/plain")], HELLO, None
    if u.path == "/big":
        n = int(q.get("n", ["0"])[0])
        return 200, [("content-type", "application/octet-stream"),
                     ("content-length", str(n))], pattern(n), None
    if u.path == "/trailers":
        return 200, [("content-type", "text/plain"), ("trailer", "x-trailer")], \
            TRAILER_BODY, [("x-trailer", "yes")]
    if u.path == "/echo":
        return 200, [("content-type", "application/octet-stream")], body, None
    if u.path == "/slow":
        time.sleep(int(q.get("ms", ["600000"])[0]) / 1000)
        return 200, [("content-type", "text/plain")], b"slow\n", None
    return 404, [("content-type", "text/plain")], b"no such endpoint: %s\n" % \
        u.path.encode(), None


class Server:
    def __init__(self, mode, log):
        self.mode, self.logfile = mode, log
        self.lock = threading.Lock()

    def log(self, method, authority, path, proto):
        with self.lock, open(self.logfile, "a") as f:
            f.write("%s %s %s %s\n" % (method, authority or "-", path, proto))


class H2Conn:
    """One HTTP/2 connection: the reader thread feeds h2; each stream's answer runs in a
    thread of its own and waits on `cond` for flow-control credit."""

    def __init__(self, srv, sock):
        self.srv, self.sock = srv, sock
        cfg = h2.config.H2Configuration(client_side=False, header_encoding="utf-8")
        self.h2 = h2.connection.H2Connection(config=cfg)
        self.cond = threading.Condition()
        self.streams = {}  # id -> {"headers": dict, "body": bytearray, "reset": bool}
        self.dead = False

    def flush(self):
        """Sends what h2 has queued; called with cond held."""
        data = self.h2.data_to_send()
        if data:
            self.sock.sendall(data)

    def serve(self, upgrade=None, rest=b""):
        """upgrade: (HTTP2-Settings, the upgrading request's fields) after a 101; rest: what
        the client sent after that request."""
        with self.cond:
            if upgrade:
                self.h2.initiate_upgrade_connection(upgrade[0])
                self.streams[1] = {"headers": upgrade[1], "body": bytearray(), "reset": False,
                                   "proto": "h2c-upgrade"}
                threading.Thread(target=self.answer, args=(1,), daemon=True).start()
            else:
                self.h2.initiate_connection()
            # room for uploads to /echo without waiting on a window update
            self.h2.increment_flow_control_window(1 << 24)
            self.flush()
        try:
            while True:
                data, rest = rest or self.sock.recv(65536), b""
                if not data:
                    break
                with self.cond:
                    for ev in self.h2.receive_data(data):
                        self.event(ev)
                    self.flush()
                    self.cond.notify_all()
        except (OSError, h2.exceptions.ProtocolError) as e:
            print("h2_upstream: connection ends: %r" % e, file=sys.stderr)
        finally:
            with self.cond:
                self.dead = True
                self.cond.notify_all()

    def event(self, ev):
        if isinstance(ev, h2.events.RequestReceived):
            self.streams[ev.stream_id] = {"headers": dict(ev.headers), "body": bytearray(),
                                          "reset": False}
        elif isinstance(ev, h2.events.DataReceived):
            s = self.streams.get(ev.stream_id)
            if s is not None:
                s["body"] += ev.data
            self.h2.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
        elif isinstance(ev, h2.events.StreamEnded):
            if ev.stream_id in self.streams:
                threading.Thread(target=self.answer, args=(ev.stream_id,), daemon=True).start()
        elif isinstance(ev, h2.events.StreamReset):
            s = self.streams.get(ev.stream_id)
            if s is not None:
                s["reset"] = True
        elif isinstance(ev, h2.events.ConnectionTerminated):
            self.dead = True

    def answer(self, sid):
        s = self.streams[sid]
        hd = s["headers"]
        method, path, auth = hd.get(":method", "-"), hd.get(":path", "-"), hd.get(":authority")
        self.srv.log(method, auth, path, s.get("proto", "h2"))
        status, headers, body, trailers = route(method, path, bytes(s["body"]))
        headers = [(":status", str(status)), ("x-upstream-proto", "h2")] + headers
        if path.startswith("/echo"):
            headers += [("x-seen-authority", auth or "-"), ("x-seen-te", hd.get("te", "-")),
                        ("x-seen-method", method), ("content-length", str(len(body)))]
        elif isinstance(body, bytes) and not any(k == "content-length" for k, _ in headers):
            headers.append(("content-length", str(len(body))))
        blocks = [body] if isinstance(body, bytes) else body
        try:
            with self.cond:
                self.h2.send_headers(sid, headers)
                self.flush()
            for b in blocks:
                self.send(sid, b)
            with self.cond:
                if trailers:
                    self.h2.send_headers(sid, trailers, end_stream=True)
                else:
                    self.h2.end_stream(sid)
                self.flush()
        except (OSError, h2.exceptions.StreamClosedError, h2.exceptions.ProtocolError,
                EOFError):
            pass
        finally:
            with self.cond:
                self.streams.pop(sid, None)

    def send(self, sid, data):
        """Sends data on stream sid as the windows allow; EOFError when the stream or the
        connection is gone."""
        view = memoryview(data)
        while view:
            with self.cond:
                while True:
                    if self.dead or self.streams[sid]["reset"]:
                        raise EOFError
                    room = min(self.h2.local_flow_control_window(sid), len(view))
                    if room > 0:
                        break
                    self.cond.wait()
                frame = self.h2.max_outbound_frame_size
                while room > 0:
                    k = min(room, frame)
                    self.h2.send_data(sid, view[:k].tobytes())
                    view, room = view[k:], room - k
                self.flush()


class H1Conn:
    """A minimal HTTP/1.1 server for a client that did not pick h2: keep-alive, a body by
    Content-Length or chunked, answers with Content-Length (chunked for /trailers)."""

    def __init__(self, srv, sock):
        self.srv, self.sock, self.rbuf = srv, sock, b""

    def fill(self):
        d = self.sock.recv(65536)
        if not d:
            raise EOFError
        self.rbuf += d

    def readline(self):
        while b"\n" not in self.rbuf:
            if len(self.rbuf) > 65536:
                raise EOFError
            self.fill()
        i = self.rbuf.index(b"\n") + 1
        line, self.rbuf = self.rbuf[:i], self.rbuf[i:]
        return line

    def read_exact(self, n):
        while len(self.rbuf) < n:
            self.fill()
        d, self.rbuf = self.rbuf[:n], self.rbuf[n:]
        return d

    def body(self, hd):
        if "chunked" in hd.get("transfer-encoding", "").lower():
            out = b""
            while True:
                size = int(self.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.readline() not in (b"\r\n", b"\n"):
                        pass
                    return out
                out += self.read_exact(size)
                self.readline()
        return self.read_exact(int(hd.get("content-length", "0") or 0))

    def serve(self):
        try:
            while True:
                line = self.readline()
                if line in (b"\r\n", b"\n"):
                    continue
                method, target, version = line.decode("latin-1").split()
                hd = {}
                while True:
                    h = self.readline()
                    if h in (b"\r\n", b"\n"):
                        break
                    k, _, v = h.decode("latin-1").partition(":")
                    hd[k.strip().lower()] = v.strip()
                body = self.body(hd)
                if self.srv.mode == "h2c-upgrade" and "h2c" in hd.get("upgrade", "").lower() \
                        and "http2-settings" in hd:
                    self.sock.sendall(b"HTTP/1.1 101 Switching Protocols\r\n"
                                      b"Connection: Upgrade\r\nUpgrade: h2c\r\n\r\n")
                    fields = {":method": method, ":path": target, ":scheme": "http",
                              ":authority": hd.get("host", "-")}
                    H2Conn(self.srv, self.sock).serve((hd["http2-settings"], fields),
                                                      self.rbuf)
                    return
                self.srv.log(method, hd.get("host"), target, "http/1.1")
                self.answer(method, target, hd, body)
                if hd.get("connection", "").lower() == "close" or version == "HTTP/1.0":
                    return
        except (EOFError, OSError, ValueError):
            return

    def answer(self, method, target, hd, body):
        status, headers, out, trailers = route(method, target, body)
        head = ["HTTP/1.1 %d %s" % (status, "OK" if status == 200 else "Not Found"),
                "x-upstream-proto: http/1.1"]
        head += ["%s: %s" % (k, v) for k, v in headers if k != "content-length"]
        if target.startswith("/echo"):
            head += ["x-seen-authority: %s" % hd.get("host", "-"),
                     "x-seen-te: %s" % hd.get("te", "-"), "x-seen-method: %s" % method]
        if trailers:
            head.append("transfer-encoding: chunked")
            self.sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
            self.sock.sendall(b"%x\r\n%s\r\n0\r\n" % (len(out), out) +
                              b"".join(b"%s: %s\r\n" % (k.encode(), v.encode())
                                       for k, v in trailers) + b"\r\n")
            return
        n = dict(headers).get("content-length")
        n = int(n) if n is not None else len(out)
        head.append("content-length: %d" % n)
        self.sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        for b in ([out] if isinstance(out, bytes) else out):
            self.sock.sendall(b)


def connection(srv, ctx, c):
    try:
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if ctx:
            c.settimeout(10)
            c = ctx.wrap_socket(c, server_side=True)
            c.settimeout(None)
            proto = c.selected_alpn_protocol()
            if proto != "h2":
                if srv.mode == "tls-h2only":
                    print("h2_upstream: refused a client without h2 (ALPN %r)" % proto,
                          file=sys.stderr)
                    return
                H1Conn(srv, c).serve()
                return
        if srv.mode == "h2c-upgrade":
            H1Conn(srv, c).serve()
            return
        H2Conn(srv, c).serve()
    except (OSError, ssl.SSLError) as e:
        print("h2_upstream: %r" % e, file=sys.stderr)
    finally:
        try:
            c.close()
        except OSError:
            pass


def main():
    if sys.argv[1] in ("pattern", "gen"):
        n = int(sys.argv[2])
        if sys.argv[1] == "gen":
            for b in pattern(n):
                sys.stdout.buffer.write(b)
            return
        h = hashlib.sha256()
        for b in pattern(n):
            h.update(b)
        print(h.hexdigest())
        return
    port, mode, cert, key, log, ready = sys.argv[1:7]
    if mode not in ("tls-h2", "tls-h2only", "h2c", "h2c-upgrade"):
        sys.exit("h2_upstream: unknown mode %s" % mode)
    ctx = None
    if not mode.startswith("h2c"):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        ctx.set_alpn_protocols(["h2"] if mode == "tls-h2only" else ["h2", "http/1.1"])
    srv = Server(mode, log)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", int(port)))
    s.listen(128)
    open(ready, "w").close()
    while True:
        c, _ = s.accept()
        threading.Thread(target=connection, args=(srv, ctx, c), daemon=True).start()


if __name__ == "__main__":
    main()
