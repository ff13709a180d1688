#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
#
# bind_control.py: the control for tests/security/bind.t's refused binds: the same binds outside
# any jail, next to a listener like boundary's, fail the ordinary way, not with EPERM.
#
#   bind_control.py PROBE TH4 listens on a free port of 127.0.0.1, then runs `PROBE bind` for
#                             that port ("proxy-lo4: RESULT") and for port 0 of TH4, an address
#                             the namespace lacks ("th4: RESULT")
import socket, subprocess, sys
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
port = s.getsockname()[1]
print("proxy-lo4: " + subprocess.run([sys.argv[1], "bind", "127.0.0.1", str(port)], capture_output=True, text=True).stdout.strip())
print("th4: " + subprocess.run([sys.argv[1], "bind", sys.argv[2], "0"], capture_output=True, text=True).stdout.strip())
