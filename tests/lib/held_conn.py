#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
#
# held_conn.py: a client that holds a connection open until its peer closes it (tests/e2e/attach.t:
# a connection made before boundary attaches to the client's cgroup).
#
#   held_conn.py DIR PORT     connects to 127.0.0.1:PORT, touches DIR/held.up, waits for a byte
#                             or the end, then touches DIR/held.eof
import socket, sys
d, port = sys.argv[1], int(sys.argv[2])
s = socket.create_connection(("127.0.0.1", port))
open(d + "/held.up", "w").close()
s.recv(1)
open(d + "/held.eof", "w").close()
