#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
#
# upstream.py: the origin servers behind boundary's proxy in the e2e tests. One process, one
# thread per connection, every listener on host loopback:
#
#   upstream.py serve DIR     reads DIR/ports.conf ("NAME ADDR PORT TLS CERT KEY ID" lines),
#                             serves them, appends "ID NAME ADDR" to DIR/conns.log for each
#                             accepted connection, "ID METHOD TARGET" to DIR/requests.log for
#                             each request and "ID NAME" to DIR/resets.log for each connection
#                             reset while it read, and touches DIR/ready when listening
#   upstream.py gen N         writes the N-byte test pattern to stdout
#   upstream.py sha N         prints the sha256 of the N-byte test pattern
#
# Endpoints (any listener; the JSON answers say which listener, by ID, and which SNI it saw):
#   /echo...            JSON: method, path, query, headers, body length and sha256, sni, server,
#                       whether the TLS session was resumed; ?close=1: then the connection ends
#   /api/v2/aibridge/...  the same JSON: Coder's AI gateway's paths (tests/e2e/session.t)
#   /bytes/N            N bytes of the test pattern, Content-Length, streamed
#   /chunked?n=K        K chunks "chunk I\n", Transfer-Encoding: chunked
#   /upload             any body (Content-Length or chunked), hashed as it streams: JSON
#   /slow?ms=M          answers after M ms (default: never, i.e. 10 minutes)
#   /early              answers first (200, chunked, "early\n"), then reads the request body and
#                       ends with "read N\n": a response that begins before its request ends
#   /sse?n=K&gap=MS     K server-sent events MS ms apart, chunked
#   /ws                 a WebSocket echo (text, binary, ping -> pong, close)
#   /status/N           status N with a short body (none for 1xx, 204 and 304)
#   /redirect           302 to /echo/redirected
#   /git/...            git http-backend (smart HTTP) over DIR/git
#   Expect: 100-continue is answered "100 Continue" before the body is read (except /status/417).
import base64
import hashlib
import json
import os
import socket
import ssl
import subprocess
import sys
import threading
import time
from urllib.parse import parse_qs, urlsplit

BLOCK = b"".join(hashlib.sha256(b"boundary-%d" % i).digest() for i in range(2048))  # 64 KiB
WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def pattern(n):
    """Yields the n-byte test pattern in blocks."""
    while n > 0:
        k = min(n, len(BLOCK))
        yield BLOCK[:k]
        n -= k


class Conn:
    def __init__(self, srv, sock, lid, name, peer):
        self.srv, self.sock, self.lid, self.name, self.peer = srv, sock, lid, name, peer
        self.rbuf = b""
        self.sni = getattr(sock, "boundary_sni", None)

    # --- reading -------------------------------------------------------------------------
    def fill(self):
        try:
            d = self.sock.recv(65536)
        except ConnectionResetError:
            # the peer reset the connection: an aborted request, not one that ended
            self.srv.log("resets.log", "%s %s" % (self.lid, self.name))
            raise
        if not d:
            raise EOFError
        self.rbuf += d

    def readline(self):
        while b"\n" not in self.rbuf:
            if len(self.rbuf) > 65536:
                raise ValueError("line too long")
            self.fill()
        i = self.rbuf.index(b"\n") + 1
        line, self.rbuf = self.rbuf[:i], self.rbuf[i:]
        return line

    def read(self, n):
        """Up to n bytes (at least one)."""
        if not self.rbuf:
            self.fill()
        d, self.rbuf = self.rbuf[:n], self.rbuf[n:]
        return d

    def read_exact(self, n):
        out = b""
        while len(out) < n:
            out += self.read(n - len(out))
        return out

    def body_chunks(self, headers):
        """Yields the request body as it arrives (Content-Length or chunked)."""
        te = headers.get("transfer-encoding", "").lower()
        if "chunked" in te:
            while True:
                size = int(self.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.readline() not in (b"\r\n", b"\n"):
                        pass
                    return
                left = size
                while left:
                    d = self.read(left)
                    left -= len(d)
                    yield d
                self.readline()
        else:
            left = int(headers.get("content-length", "0") or 0)
            while left:
                d = self.read(min(left, 65536))
                left -= len(d)
                yield d

    # --- writing -------------------------------------------------------------------------
    def send(self, data):
        self.sock.sendall(data)

    def respond(self, code, body=b"", ctype="text/plain", extra=(), reason=None):
        if isinstance(body, str):
            body = body.encode()
        reason = reason or {200: "OK", 101: "Switching Protocols", 204: "No Content",
                            302: "Found", 304: "Not Modified", 401: "Unauthorized",
                            404: "Not Found",
                            417: "Expectation Failed"}.get(code, "Status")
        head = ["HTTP/1.1 %d %s" % (code, reason), "X-Upstream: %s" % self.lid]
        nobody = code < 200 or code in (204, 304)
        if not nobody:
            head += ["Content-Type: " + ctype, "Content-Length: %d" % len(body)]
        head += list(extra)
        self.send(("\r\n".join(head) + "\r\n\r\n").encode() + (b"" if nobody else body))

    def chunk(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.send(b"%x\r\n%s\r\n" % (len(data), data))

    # --- serving -------------------------------------------------------------------------
    def serve(self):
        while True:
            try:
                line = self.readline()
            except (EOFError, OSError, ValueError):
                return
            if line in (b"\r\n", b"\n"):
                continue
            try:
                method, target, version = line.decode("latin-1").split()
            except ValueError:
                self.respond(400, "bad request line\n")
                return
            headers, hlist = {}, []
            while True:
                h = self.readline()
                if h in (b"\r\n", b"\n"):
                    break
                k, _, v = h.decode("latin-1").partition(":")
                hlist.append([k.strip(), v.strip()])
                headers[k.strip().lower()] = v.strip()
            self.srv.log("requests.log", "%s %s %s" % (self.lid, method, target))
            close = headers.get("connection", "").lower() == "close" or version == "HTTP/1.0"
            if self.handle(method, target, headers, hlist) == "close" or close:
                return

    def handle(self, method, target, headers, hlist):
        u = urlsplit(target)
        path, q = u.path, parse_qs(u.query)
        expect = headers.get("expect", "").lower() == "100-continue"
        if path == "/status/417" and expect:
            self.respond(417, "no\n")
            return "close"
        if expect:
            self.send(b"HTTP/1.1 100 Continue\r\n\r\n")
        if path.startswith("/git/"):
            return self.git(method, target, headers)
        if path.startswith("/gitauth/"):
            # the same repositories behind Basic authentication: the credentials go to auth.log
            auth = headers.get("authorization", "")
            if not auth:
                for _ in self.body_chunks(headers):
                    pass
                self.respond(401, "who are you?\n", extra=['WWW-Authenticate: Basic realm="t"'])
                return None
            self.srv.log("auth.log", "%s %s" % (path, auth))
            return self.git(method, "/git/" + target[len("/gitauth/"):], headers)
        if path == "/ws":
            return self.websocket(headers)
        if path == "/early":
            self.send(("HTTP/1.1 200 OK\r\nX-Upstream: %s\r\nContent-Type: text/plain\r\n"
                       "Transfer-Encoding: chunked\r\n\r\n" % self.lid).encode())
            self.chunk("early\n")
            n = sum(len(d) for d in self.body_chunks(headers))
            self.chunk("read %d\n" % n)
            self.send(b"0\r\n\r\n")
            return None
        h, n, head = hashlib.sha256(), 0, b""
        for d in self.body_chunks(headers):
            h.update(d)
            n += len(d)
            if len(head) < 65536:
                head += d[:65536 - len(head)]
        info = {"method": method, "target": target, "path": path, "query": u.query,
                "headers": hlist, "body_len": n, "body_sha256": h.hexdigest(),
                "sni": self.sni, "server": self.lid, "listener": self.name,
                "resumed": bool(getattr(self.sock, "session_reused", False))}
        if path.startswith("/echo") and q.get("close"):
            # this answer ends the connection: the proxy cannot keep it for the next request
            self.respond(200, json.dumps(info) + "\n", "application/json", ["Connection: close"])
            return "close"
        if path.startswith("/echo"):
            # what came, as it came: the first 64 KiB of the body too, here and in echo.log
            info["body"] = head.decode("latin-1")
            info["te"] = headers.get("transfer-encoding", "")
            self.srv.log("echo.log", json.dumps(info))
            if q.get("chunked"):
                # the same answer in chunks of 7 bytes, cut anywhere (a value too)
                data = (json.dumps(info) + "\n").encode()
                self.send(("HTTP/1.1 200 OK\r\nX-Upstream: %s\r\nContent-Type: application/"
                           "json\r\nTransfer-Encoding: chunked\r\n\r\n" % self.lid).encode())
                for i in range(0, len(data), 7):
                    self.chunk(data[i:i + 7])
                self.send(b"0\r\n\r\n")
                return None
        if path.startswith(("/echo", "/api/v2/aibridge/")) or path == "/upload":
            self.respond(200, json.dumps(info) + "\n", "application/json")
        elif path.startswith("/bytes/"):
            size = int(path[len("/bytes/"):])
            self.send(("HTTP/1.1 200 OK\r\nX-Upstream: %s\r\nContent-Type: application/"
                       "octet-stream\r\nContent-Length: %d\r\n\r\n" % (self.lid, size)).encode())
            if method != "HEAD":
                for b in pattern(size):
                    self.send(b)
        elif path == "/chunked":
            self.send(("HTTP/1.1 200 OK\r\nX-Upstream: %s\r\nContent-Type: text/plain\r\n"
                       "Transfer-Encoding: chunked\r\n\r\n" % self.lid).encode())
            for i in range(int(q.get("n", ["5"])[0])):
                self.chunk("chunk %d\n" % i)
            self.send(b"0\r\n\r\n")
        elif path == "/slow":
            time.sleep(int(q.get("ms", ["600000"])[0]) / 1000)
            self.respond(200, "slow\n")
        elif path == "/sse":
            self.send(("HTTP/1.1 200 OK\r\nX-Upstream: %s\r\nContent-Type: text/event-stream"
                       "\r\nCache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n\r\n"
                       % self.lid).encode())
            gap = int(q.get("gap", ["300"])[0]) / 1000
            for i in range(int(q.get("n", ["4"])[0])):
                if i:
                    time.sleep(gap)
                self.chunk("id: %d\ndata: event %d\n\n" % (i, i))
            self.send(b"0\r\n\r\n")
        elif path.startswith("/status/"):
            code = int(path[len("/status/"):])
            self.respond(code, "status %d\n" % code)
        elif path == "/redirect":
            self.respond(302, "see /echo/redirected\n", extra=["Location: /echo/redirected"])
        else:
            self.respond(404, "no such endpoint: %s\n" % path)
        return None

    def websocket(self, headers):
        key = headers.get("sec-websocket-key", "")
        if headers.get("upgrade", "").lower() != "websocket" or not key:
            self.respond(400, "not a websocket upgrade\n")
            return "close"
        accept = base64.b64encode(hashlib.sha1(key.encode() + WS_GUID).digest()).decode()
        self.send(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: "
                   "Upgrade\r\nSec-WebSocket-Accept: %s\r\nX-Upstream: %s\r\n\r\n"
                   % (accept, self.lid)).encode())
        while True:
            try:
                op, payload = ws_read(self.read_exact)
            except (EOFError, OSError):
                return "close"
            if op == 8:
                self.send(ws_frame(8, payload[:2], mask=False))
                return "close"
            if op == 9:
                self.send(ws_frame(10, payload, mask=False))
            elif op in (1, 2):
                self.send(ws_frame(op, payload, mask=False))

    def git(self, method, target, headers):
        u = urlsplit(target)
        env = {"GIT_PROJECT_ROOT": os.path.join(self.srv.dir, "git"), "GIT_HTTP_EXPORT_ALL": "1",
               "PATH_INFO": u.path[len("/git"):], "QUERY_STRING": u.query,
               "REQUEST_METHOD": method, "CONTENT_TYPE": headers.get("content-type", ""),
               "REMOTE_ADDR": "127.0.0.1", "GATEWAY_INTERFACE": "CGI/1.1",
               "SERVER_PROTOCOL": "HTTP/1.1", "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        for k, v in headers.items():
            env["HTTP_" + k.upper().replace("-", "_")] = v
        body = b"".join(self.body_chunks(headers))
        env["CONTENT_LENGTH"] = str(len(body))
        p = subprocess.run(["git", "http-backend"], input=body, env=env, capture_output=True)
        head, _, out = p.stdout.partition(b"\r\n\r\n")
        code, extra = 200, []
        for h in head.decode("latin-1").split("\r\n"):
            k, _, v = h.partition(":")
            if k.lower() == "status":
                code = int(v.split()[0])
            elif k.lower() == "content-type":
                ctype = v.strip()
            elif k:
                extra.append("%s: %s" % (k, v.strip()))
        self.respond(code, out, locals().get("ctype", "application/octet-stream"), extra)
        return None


def ws_frame(op, payload, mask):
    head = bytes([0x80 | op])
    n = len(payload)
    mbit = 0x80 if mask else 0
    if n < 126:
        head += bytes([mbit | n])
    elif n < 65536:
        head += bytes([mbit | 126]) + n.to_bytes(2, "big")
    else:
        head += bytes([mbit | 127]) + n.to_bytes(8, "big")
    if mask:
        key = os.urandom(4)
        payload = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
        head += key
    return head + payload


def ws_read(read_exact):
    """One whole message (continuation frames joined): (opcode, payload)."""
    op, data = None, b""
    while True:
        b0, b1 = read_exact(2)
        n = b1 & 0x7F
        if n == 126:
            n = int.from_bytes(read_exact(2), "big")
        elif n == 127:
            n = int.from_bytes(read_exact(8), "big")
        key = read_exact(4) if b1 & 0x80 else None
        payload = read_exact(n) if n else b""
        if key:
            payload = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
        if b0 & 0x0F:
            op = b0 & 0x0F
        data += payload
        if b0 & 0x80:
            return op, data


class Server:
    def __init__(self, d):
        self.dir = d
        self.lock = threading.Lock()

    def log(self, name, line):
        with self.lock, open(os.path.join(self.dir, name), "a") as f:
            f.write(line + "\n")

    def listen(self, name, addr, port, tls, cert, key, lid):
        fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((addr, int(port)))
        s.listen(128)
        ctx = None
        if tls == "tls":
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(cert, key)

            def sni(sock, server_name, _ctx):
                sock.boundary_sni = server_name
            ctx.sni_callback = sni
        threading.Thread(target=self.accept, args=(s, ctx, name, lid), daemon=True).start()

    def accept(self, s, ctx, name, lid):
        while True:
            c, peer = s.accept()
            threading.Thread(target=self.conn, args=(c, peer, ctx, name, lid), daemon=True).start()

    def conn(self, c, peer, ctx, name, lid):
        self.log("conns.log", "%s %s %s" % (lid, name, peer[0]))
        try:
            c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if ctx:
                c.settimeout(10)
                c = ctx.wrap_socket(c, server_side=True)
                c.settimeout(None)
            Conn(self, c, lid, name, peer).serve()
        except (OSError, ssl.SSLError, EOFError):
            pass
        finally:
            try:
                c.close()
            except OSError:
                pass


def main():
    if sys.argv[1] == "gen":
        out = sys.stdout.buffer
        for b in pattern(int(sys.argv[2])):
            out.write(b)
        return
    if sys.argv[1] == "sha":
        h = hashlib.sha256()
        for b in pattern(int(sys.argv[2])):
            h.update(b)
        print(h.hexdigest())
        return
    d = sys.argv[2]
    srv = Server(d)
    for line in open(os.path.join(d, "ports.conf")):
        if line.strip() and not line.startswith("#"):
            srv.listen(*line.split())
    open(os.path.join(d, "ready"), "w").close()
    threading.Event().wait()


if __name__ == "__main__":
    main()
