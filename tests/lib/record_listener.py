#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
#
# record_listener.py: a listener that writes down every byte it receives, for a test to show
# what reached the host through a socket (tests/security/lifetime.t: one inherited by a jail).
#
#   record_listener.py PORT LOG READY
#                             listens on 127.0.0.1:PORT, touches READY once listening, appends
#                             whatever any connection sends to LOG (as text)
import socket, sys, threading
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(8)
open(sys.argv[3], "w").close()
def serve(c):
    while True:
        d = c.recv(4096)
        if not d:
            return
        with open(sys.argv[2], "a") as f:
            f.write(d.decode(errors="replace"))
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
