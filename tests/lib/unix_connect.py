#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
#
# unix_connect.py: connects to an abstract unix socket, for a test to show whether a jail reaches
# one the host listens on (abstract names are per network namespace).
#
#   unix_connect.py NAME      connects to @NAME: prints "abstract: connected" or
#                             "abstract: err ERRNO"
import socket, sys
s = socket.socket(socket.AF_UNIX)
try:
    s.connect("\0" + sys.argv[1]); print("abstract: connected")
except OSError as e:
    print("abstract: err", e.errno)
