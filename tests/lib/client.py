#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
#
# client.py: what the proxy tests run inside the jail where curl cannot do it. Until the jail's
# DNS answers, names are not resolved: every connection goes to $CLIENT_ADDR (a test host
# address, redirected to boundary by the jail) and the name travels in SNI and Host only.
# The CA bundle is the one boundary gives the jail (SSL_CERT_FILE).
#
#   client.py raw [--tls NAME] PORT FILE      sends FILE's bytes in one write (NAME "-": TLS
#                                             without SNI), prints what comes back until the
#                                             server closes or is quiet for $RAW_QUIET s (2)
#   client.py seq [--tls NAME] PORT HOST PATH...  one connection, one request at a time, each
#                                             read to its end: prints "STATUS UPSTREAM PATH"
#                                             (UPSTREAM: X-Upstream or "-"), "connects 1"
#   client.py urllib URL [METHOD] [BODY]      urllib.request: prints "status N", then the body;
#                                             each line "Name: value" of $CLIENT_HEADERS is a
#                                             request header field
#   client.py requests URL [JSON]             the requests library (GET, or POST of JSON), with
#                                             $CLIENT_HEADERS as urllib: "status N", the body
#   client.py httpclient URL N                http.client, N requests on one connection:
#                                             prints "status N" per request, "connects N"
#   client.py upload URL N [chunked]          streams N bytes of the test pattern: prints the
#                                             status and the upstream's JSON answer
#   client.py expect URL N                    Expect: 100-continue by hand: prints "first LINE"
#                                             (the first status line), then after a 100
#                                             "continue S" (seconds), the final status line and
#                                             the body
#   client.py sse URL                         prints "event T DATA" per event, T seconds since
#                                             the request was sent
#   client.py burst URL CONNS N               CONNS keep-alive connections at once, N requests
#                                             each, read to their end (small, 1 MiB, a few
#                                             records, chunked, an upload, in turn), each within
#                                             $BURST_TIMEOUT s (10): prints "ok TOTAL" and
#                                             "slowest MS", or the first error
#   client.py hello PORT SNI                  a TLS handshake with $CLIENT_ADDR:PORT for SNI, then
#                                             silence: prints "handshake: done", waits 0.5 s
#   client.py ws URL                          WebSocket echo: prints "text ok", "binary ok",
#                                             "pong ok", "close ok" (or what went wrong)
import hashlib
import os
import socket
import ssl
import sys
import time
from urllib.parse import urlsplit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from upstream import pattern, ws_frame, ws_read  # noqa: E402

ADDR = os.environ.get("CLIENT_ADDR", "")
_gai = socket.getaddrinfo


def _getaddrinfo(host, *a, **kw):
    try:
        socket.inet_pton(socket.AF_INET6 if ":" in str(host) else socket.AF_INET, host)
    except (OSError, TypeError):
        if ADDR and host not in ("localhost",):
            host = ADDR
    return _gai(host, *a, **kw)


socket.getaddrinfo = _getaddrinfo


def connect(url, timeout=30):
    u = urlsplit(url)
    port = u.port or (443 if u.scheme == "https" else 80)
    s = socket.create_connection((u.hostname, port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if u.scheme in ("https", "wss"):
        s = ssl.create_default_context().wrap_socket(s, server_hostname=u.hostname)
    return s, u


def read_head(s, buf=b""):
    while b"\r\n\r\n" not in buf:
        d = s.recv(65536)
        if not d:
            raise EOFError("closed before a response head: %r" % buf)
        buf += d
    head, _, rest = buf.partition(b"\r\n\r\n")
    return head.decode("latin-1"), rest


def cmd_raw(args):
    tls = None
    if args[0] == "--tls":
        tls, args = args[1], args[2:]
    port, path = int(args[0]), args[1]
    data = open(path, "rb").read()
    s = socket.create_connection((ADDR, port), timeout=10)
    if tls:
        s = tls_wrap(s, tls)
    s.settimeout(float(os.environ.get("RAW_QUIET", "2")))
    s.sendall(data)
    out = b""
    try:
        while True:
            d = s.recv(65536)
            if not d:
                out += b"\n[closed]\n"
                break
            out += d
    except (socket.timeout, TimeoutError):
        out += b"\n[quiet]\n"
    except (ConnectionResetError, ssl.SSLError) as e:
        out += b"\n[error %s]\n" % str(e).encode()
    sys.stdout.buffer.write(out)


def tls_wrap(s, name):
    """TLS with SNI name, or with no SNI at all for "-" (the certificate is still verified)."""
    ctx = ssl.create_default_context()
    if name == "-":
        ctx.check_hostname = False
        return ctx.wrap_socket(s)
    return ctx.wrap_socket(s, server_hostname=name)


def read_response(s, buf, method="GET"):
    """One response with a Content-Length (or none): (head, body, rest)."""
    head, rest = read_head(s, buf)
    code = int(head.split()[1])
    n = 0
    for h in head.split("\r\n")[1:]:
        if h.lower().startswith("content-length:"):
            n = int(h.split(":")[1])
    if method == "HEAD" or code in (204, 304):
        n = 0
    while len(rest) < n:
        d = s.recv(65536)
        if not d:
            raise EOFError("closed in a body")
        rest += d
    return head, rest[:n], rest[n:]


def cmd_seq(args):
    tls = None
    if args[0] == "--tls":
        tls, args = args[1], args[2:]
    port, pairs = int(args[0]), args[1:]
    s = socket.create_connection((ADDR, port), timeout=10)
    if tls:
        s = tls_wrap(s, tls)
    buf = b""
    for host, path in zip(pairs[::2], pairs[1::2]):
        s.sendall(("GET %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (path, host)).encode())
        head, body, buf = read_response(s, buf)
        up = [h.split(":", 1)[1].strip() for h in head.split("\r\n")
              if h.lower().startswith("x-upstream:")]
        print("%s %s %s" % (head.split()[1], up[0] if up else "-", path), flush=True)
    print("connects 1")


def cmd_urllib(args):
    import urllib.error
    import urllib.request
    url = args[0]
    method = args[1] if len(args) > 1 else "GET"
    data = args[2].encode() if len(args) > 2 else None
    req = urllib.request.Request(url, data=data, method=method)
    for line in os.environ.get("CLIENT_HEADERS", "").splitlines():
        name, _, value = line.partition(":")
        req.add_header(name.strip(), value.strip())
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            print("status %d" % r.status)
            sys.stdout.write(r.read().decode())
    except urllib.error.HTTPError as e:
        print("status %d" % e.code)
        sys.stdout.write(e.read().decode())


def cmd_requests(args):
    import requests
    headers = {}
    for line in os.environ.get("CLIENT_HEADERS", "").splitlines():
        name, _, value = line.partition(":")
        headers[name.strip()] = value.strip()
    if len(args) > 1:
        r = requests.post(args[0], data=args[1], timeout=30,
                          headers=dict(headers, **{"Content-Type": "application/json"}))
    else:
        r = requests.get(args[0], headers=headers, timeout=30)
    print("status %d" % r.status_code)
    sys.stdout.write(r.text)


def cmd_httpclient(args):
    import http.client
    u = urlsplit(args[0])
    n = int(args[1])
    cls = http.client.HTTPSConnection if u.scheme == "https" else http.client.HTTPConnection
    kw = {"context": ssl.create_default_context()} if u.scheme == "https" else {}
    conn = cls(u.hostname, u.port, timeout=30, **kw)
    connects = 0
    real_connect = conn.connect

    def counting_connect():
        nonlocal connects
        connects += 1
        real_connect()
    conn.connect = counting_connect
    for i in range(n):
        conn.request("GET", "%s?i=%d" % (u.path, i))
        r = conn.getresponse()
        r.read()
        print("status %d" % r.status)
    print("connects %d" % connects)


def cmd_burst(args):
    import http.client
    import threading
    u = urlsplit(args[0])
    conns, n = int(args[1]), int(args[2])
    timeout = float(os.environ.get("BURST_TIMEOUT", "10"))
    body = b"".join(pattern(100000))
    reqs = [("GET", "/echo/burst", None), ("GET", "/bytes/1048576", None),
            ("GET", "/bytes/70000", None), ("GET", "/chunked?n=40", None),
            ("POST", "/upload", body)]
    done, slowest, errors = [0], [0.0], []
    lock = threading.Lock()

    def one(k):
        try:
            c = http.client.HTTPSConnection(u.hostname, u.port, timeout=timeout,
                                            context=ssl.create_default_context())
            for i in range(n):
                method, path, data = reqs[(i + k) % len(reqs)]
                t = time.monotonic()
                c.request(method, path, body=data)
                r = c.getresponse()
                r.read()
                t = time.monotonic() - t
                if r.status != 200:
                    raise OSError("%s %s: status %d" % (method, path, r.status))
                with lock:
                    done[0] += 1
                    slowest[0] = max(slowest[0], t)
        except Exception as e:  # noqa: BLE001: said, and the run fails
            with lock:
                errors.append("%s: %s" % (type(e).__name__, e))
    ts = [threading.Thread(target=one, args=(k,)) for k in range(conns)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if errors:
        print("error %s (%d done)" % (errors[0], done[0]))
        sys.exit(1)
    print("ok %d" % done[0])
    print("slowest %d" % (slowest[0] * 1000))


def cmd_upload(args):
    url, n = args[0], int(args[1])
    chunked = len(args) > 2 and args[2] == "chunked"
    s, u = connect(url)
    head = "PUT %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/octet-stream\r\n" % (
        u.path, u.netloc)
    head += "Transfer-Encoding: chunked\r\n" if chunked else "Content-Length: %d\r\n" % n
    s.sendall((head + "\r\n").encode())
    for b in pattern(n):
        s.sendall(b"%x\r\n%s\r\n" % (len(b), b) if chunked else b)
    if chunked:
        s.sendall(b"0\r\n\r\n")
    head, rest = read_head(s)
    print(head.split("\r\n")[0])
    length = [int(h.split(":")[1]) for h in head.split("\r\n") if h.lower().startswith(
        "content-length:")]
    while length and len(rest) < length[0]:
        d = s.recv(65536)
        if not d:
            break
        rest += d
    sys.stdout.write(rest.decode())


def cmd_expect(args):
    url, n = args[0], int(args[1])
    s, u = connect(url)
    s.sendall(("PUT %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\nExpect: 100-continue\r\n"
               "\r\n" % (u.path, u.netloc, n)).encode())
    t0 = time.monotonic()
    s.settimeout(5)
    try:
        head, rest = read_head(s)
    except (socket.timeout, TimeoutError):
        print("no interim response in 5 s")
        return
    print("first %s" % head.split("\r\n")[0])
    if " 100 " not in head.split("\r\n")[0] + " ":
        sys.stdout.write(rest.decode(errors="replace"))
        return
    print("continue %.2f" % (time.monotonic() - t0))
    for b in pattern(n):
        s.sendall(b)
    head, rest = read_head(s, rest)
    print(head.split("\r\n")[0])
    length = [int(h.split(":")[1]) for h in head.split("\r\n") if h.lower().startswith(
        "content-length:")]
    while length and len(rest) < length[0]:
        rest += s.recv(65536)
    sys.stdout.write(rest.decode())


def cmd_sse(args):
    s, u = connect(args[0])
    t0 = time.monotonic()
    s.sendall(("GET %s?%s HTTP/1.1\r\nHost: %s\r\nAccept: text/event-stream\r\n\r\n"
               % (u.path, u.query, u.netloc)).encode())
    head, buf = read_head(s)
    print(head.split("\r\n")[0])
    # De-chunk as bytes arrive; an event ends with a blank line.
    body, raw = b"", buf
    while True:
        while True:
            if b"\r\n" not in raw:
                break
            size_line, _, after = raw.partition(b"\r\n")
            size = int(size_line.split(b";")[0], 16)
            if len(after) < size + 2:
                break
            body += after[:size]
            raw = after[size + 2:]
            if size == 0:
                return
            while b"\n\n" in body:
                ev, _, body = body.partition(b"\n\n")
                data = [ln[6:] for ln in ev.decode().split("\n") if ln.startswith("data: ")]
                print("event %.3f %s" % (time.monotonic() - t0, " ".join(data)), flush=True)
        d = s.recv(65536)
        if not d:
            print("closed")
            return
        raw += d


def cmd_ws(args):
    import base64
    s, u = connect(args[0])
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall(("GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n"
               % (u.path, u.netloc, key)).encode())
    head, rest = read_head(s)
    print(head.split("\r\n")[0])
    if head.split()[1] != "101":
        return
    want = base64.b64encode(hashlib.sha1(key.encode() + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11")
                            .digest()).decode()
    print("accept %s" % ("ok" if ("sec-websocket-accept: " + want.lower()) in head.lower()
                         else "wrong"))
    buf = [rest]

    def read_exact(n):
        while len(buf[0]) < n:
            d = s.recv(65536)
            if not d:
                raise EOFError
            buf[0] += d
        out, buf[0] = buf[0][:n], buf[0][n:]
        return out
    s.sendall(ws_frame(1, "héllo through boundary".encode(), mask=True))
    op, data = ws_read(read_exact)
    print("text %s" % ("ok" if op == 1 and data.decode() == "héllo through boundary" else
                       "wrong %r" % data[:40]))
    big = b"".join(pattern(300000))
    s.sendall(ws_frame(2, big, mask=True))
    op, data = ws_read(read_exact)
    print("binary %s" % ("ok" if op == 2 and data == big else "wrong (%d bytes)" % len(data)))
    s.sendall(ws_frame(9, b"pingpayload", mask=True))
    op, data = ws_read(read_exact)
    print("pong %s" % ("ok" if op == 10 and data == b"pingpayload" else "wrong"))
    s.sendall(ws_frame(8, b"\x03\xe8", mask=True))
    op, data = ws_read(read_exact)
    print("close %s" % ("ok" if op == 8 else "wrong"))


def cmd_hello(args):
    s = socket.create_connection((ADDR, int(args[0])))
    ssl.create_default_context().wrap_socket(s, server_hostname=args[1])
    print("handshake: done")
    time.sleep(0.5)


def main():
    cmds = {"raw": cmd_raw, "seq": cmd_seq, "urllib": cmd_urllib, "httpclient": cmd_httpclient,
            "requests": cmd_requests, "upload": cmd_upload, "expect": cmd_expect, "sse": cmd_sse, "ws": cmd_ws,
            "hello": cmd_hello, "burst": cmd_burst}
    try:
        cmds[sys.argv[1]](sys.argv[2:])
    except Exception as e:  # a test must see what broke, not a traceback on stderr only
        print("error %s: %s" % (type(e).__name__, e))
        sys.exit(1)


if __name__ == "__main__":
    main()
