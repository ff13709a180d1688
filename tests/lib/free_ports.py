#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
#
# free_ports.py: TCP ports for tests/lib/proxy.sh's servers, free on every address they listen on.
#
#   free_ports.py N           prints N ports, space-separated, free on 127.0.0.1, 127.0.0.2 and
#                             ::1 alike
import socket, sys
want, got, held = int(sys.argv[1]), [], []
while len(got) < want:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    try:
        for fam, a in ((socket.AF_INET, "127.0.0.2"), (socket.AF_INET6, "::1")):
            t = socket.socket(fam)
            t.bind((a, p))
            held.append(t)
    except OSError:
        continue
    held.append(s)
    got.append(p)
print(" ".join(map(str, got)))
