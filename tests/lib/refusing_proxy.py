#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
#
# refusing_proxy.py: an HTTP proxy that refuses everything, as a company's proxy refuses a
# destination its policy does not allow, for e2e/upstream_proxy.t.
#
#   refusing_proxy.py PORT READY LOG
#
# Listens on 127.0.0.1:PORT, writes READY once listening, and answers every request head (a
# CONNECT or any other) with "HTTP/1.1 403 Forbidden by policy" and a short body, then closes.
# Each head's request line goes to LOG, a line each, and so does each Proxy-Authorization
# field it carried, so a test can see what boundary sent.
import socket
import sys
import threading

port, ready, log = int(sys.argv[1]), sys.argv[2], sys.argv[3]
lock = threading.Lock()


def serve(c):
    with c:
        c.settimeout(10)
        head = b""
        try:
            while b"\r\n\r\n" not in head and len(head) < 65536:
                b = c.recv(4096)
                if not b:
                    return
                head += b
        except OSError:
            return
        lines = head.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
        with lock, open(log, "a") as f:
            f.write(lines[0] + "\n")
            for line in lines[1:]:
                if line.lower().startswith("proxy-authorization:"):
                    f.write(line + "\n")
        body = b"the proxy's policy refuses this\n"
        c.sendall(b"HTTP/1.1 403 Forbidden by policy\r\nContent-Type: text/plain\r\n"
                  b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body))


s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
s.listen(16)
with open(ready, "w") as f:
    f.write("")
while True:
    conn, _ = s.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
