#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
#
# egress_listen.py: a server that opens its listening socket only when told, so that a test can
# first move it into a jail's cgroup (tests/security/egress.t: an inbound connection's replies).
#
#   egress_listen.py DIR PORT   waits for DIR/go, listens on 0.0.0.0:PORT, touches DIR/ready,
#                               and appends "accepted ADDR" to DIR/accepted for each connection
import os, socket, sys, time
d, port = sys.argv[1], int(sys.argv[2])
while not os.path.exists(d + "/go"):
    time.sleep(0.02)
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("0.0.0.0", port))
    s.listen(8)
except OSError as e:
    with open(d + "/ready", "w") as f:
        f.write("error " + e.strerror + "\n")
    sys.exit(1)
open(d + "/ready", "w").close()
while True:
    c, a = s.accept()
    with open(d + "/accepted", "a") as f:
        f.write("accepted %s\n" % a[0])
    c.close()
