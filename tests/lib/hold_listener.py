#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
#
# hold_listener.py: a listener that holds every connection made to it, and notes when each peer
# goes, for a test to see when boundary cuts a connection (tests/e2e/attach.t).
#
#   hold_listener.py DIR      listens on 127.0.0.1, a free port it writes to DIR/port once
#                             listening; for the Nth connection accepted touches DIR/conn.N,
#                             reads until the peer closes, then touches DIR/gone.N
import os, socket, sys, threading
d = sys.argv[1]
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(16)
def serve(c, n):
    open("%s/conn.%d" % (d, n), "w").close()
    while c.recv(4096):
        pass
    open("%s/gone.%d" % (d, n), "w").close()
open(d + "/port.tmp", "w").write(str(s.getsockname()[1]))
os.rename(d + "/port.tmp", d + "/port")
n = 0
while True:
    c, _ = s.accept()
    n += 1
    threading.Thread(target=serve, args=(c, n), daemon=True).start()
