#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
#
# loopback_connect.py: whether something listens on a port of loopback, both families
# (tests/e2e/port_forward.t: from inside the jail, a forward's host port must not be there).
#
#   loopback_connect.py PORT LABEL
#                             connects to 127.0.0.1:PORT and [::1]:PORT (3 s each): prints
#                             "LABEL ADDR connected" or "LABEL ADDR EXCEPTION" for each
import socket, sys
port, label = int(sys.argv[1]), sys.argv[2]
for a in ("127.0.0.1", "::1"):
    try:
        socket.create_connection((a, port), timeout=3).close()
        print(label, a, "connected")
    except Exception as e:
        print(label, a, type(e).__name__)
