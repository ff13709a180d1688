#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
#
# testhost_listen.py: a listener on the test host (tests/lib/jail.sh's testhost_listen, run in
# the test host's namespace) that counts whatever reaches it, on IPv4 and IPv6 alike.
#
#   testhost_listen.py PORT tcp|udp HITS READY
#                             accepts (and closes) each TCP connection, or reads each UDP
#                             datagram, and appends "PROTO ADDR" to HITS for each; touches READY
#                             once listening
import socket, sys, threading
port, proto, path, ready = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
def serve(s):
    while True:
        if proto == "tcp":
            c, a = s.accept(); c.close()
        else:
            d, a = s.recvfrom(2048)
        with open(path, "a") as f:
            f.write("%s %s\n" % (proto, a[0]))
socks = []
for fam, addr in ((socket.AF_INET, "0.0.0.0"), (socket.AF_INET6, "::")):
    try:
        s = socket.socket(fam, socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if fam == socket.AF_INET6:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s.bind((addr, port))
        if proto == "tcp":
            s.listen(64)
        socks.append(s)
    except OSError:
        pass
for s in socks:
    threading.Thread(target=serve, args=(s,), daemon=True).start()
open(ready, "w").close()
threading.Event().wait()
