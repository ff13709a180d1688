#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
#
# bypass_probe.py: run in a jail without a network namespace (tests/e2e/landlock.t), tries to go
# around the proxy.
#
#   bypass_probe.py HTTP_PORT PROXY_PORT UDP_PORT
#                             prints "direct R" and "direct6 R": TCP to 127.0.0.1 and ::1 at
#                             HTTP_PORT; "proxyport R": TCP to 127.0.0.2:PROXY_PORT, sending
#                             "landlock-bypass" (R: "connected" or the errno's name); sends
#                             "landlock-udp" to 127.0.0.1:UDP_PORT ("udp sent"); "bind ok" once
#                             it could listen on a TCP port of 127.0.0.1
import socket, sys, errno
def tcp(host, port, send=b""):
    s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    s.settimeout(5)
    try:
        s.connect((host, port)); s.sendall(send); return "connected"
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))
print("direct", tcp("127.0.0.1", int(sys.argv[1])))
print("direct6", tcp("::1", int(sys.argv[1])))
print("proxyport", tcp("127.0.0.2", int(sys.argv[2]), b"landlock-bypass"))
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.sendto(b"landlock-udp", ("127.0.0.1", int(sys.argv[3])))
print("udp sent")
b = socket.socket(); b.bind(("127.0.0.1", 0)); b.listen(1)
print("bind", "ok")
