#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
#
# hit_listener.py: a listener that counts who reaches it, for a test to show that something
# outside the jail saw nothing (or only its own control connection); or, with HITS /dev/null, a
# port held so that boundary finds it taken.
#
#   hit_listener.py tcp PORT READY HITS       listens on 127.0.0.1:PORT (0: any free port)
#   hit_listener.py unix PATH READY HITS      listens on the unix socket PATH, mode 0666
#   hit_listener.py abstract NAME READY HITS  listens on the abstract unix socket NAME
#
# Once listening it writes READY (the port, for tcp); it appends "hit" to HITS for each
# connection it accepts, and closes it, having sent it GREETING and a newline when a fifth
# argument GREETING is given (so that a client can tell whom it reached).
import os
import socket
import sys

kind, addr, ready, hits = sys.argv[1:5]
greeting = sys.argv[5] if len(sys.argv) > 5 else None
if kind == "tcp":
    s = socket.socket()
    s.bind(("127.0.0.1", int(addr)))
elif kind == "unix":
    s = socket.socket(socket.AF_UNIX)
    s.bind(addr)
    os.chmod(addr, 0o666)
elif kind == "abstract":
    s = socket.socket(socket.AF_UNIX)
    s.bind("\0" + addr)
else:
    sys.exit("hit_listener.py: unknown kind %s (tcp, unix or abstract)" % kind)
s.listen(8)
with open(ready, "w") as f:
    f.write(str(s.getsockname()[1]) if kind == "tcp" else "")
while True:
    c, _ = s.accept()
    if greeting is not None:
        c.sendall(greeting.encode() + b"\n")
    with open(hits, "a") as f:
        f.write("hit\n")
    c.close()
