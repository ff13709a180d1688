#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
#
# egress_peer.py: the far end for tests/security/egress.t, run in a network namespace the test
# made: it writes down every byte that reaches it, and can dial out.
#
#   egress_peer.py listen tcp|udp ADDR PORT LOG READY
#                             listens on ADDR:PORT, touches READY once listening, appends what
#                             any connection (or datagram) brings to LOG, as text
#   egress_peer.py dial ADDR PORT
#                             connects to ADDR:PORT (3 s at most) and prints "connected" or
#                             "failed: WHY"
import socket, sys, threading

def listen(proto, addr, port, log, ready):
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))

    def note(data):
        with open(log, "a") as f:
            f.write(data.decode(errors="replace"))

    if proto == "udp":
        open(ready, "w").close()
        while True:
            note(s.recv(4096))
    s.listen(8)
    open(ready, "w").close()

    def serve(c):
        while True:
            data = c.recv(4096)
            if not data:
                return
            note(data)

    while True:
        c, _ = s.accept()
        threading.Thread(target=serve, args=(c,), daemon=True).start()

if sys.argv[1] == "listen":
    listen(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5], sys.argv[6])
else:
    try:
        c = socket.create_connection((sys.argv[2], int(sys.argv[3])), timeout=3)
        print("connected")
    except OSError as e:
        print("failed: " + (e.strerror or str(e)))
