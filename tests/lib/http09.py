#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
#
# http09.py: sends an HTTP/0.9 request (GET / with no version and no Host), for a test to show
# who answers it.
#
#   http09.py ADDR PORT       sends "GET /\r\n", half-closes, prints "reply: LINE" (the first
#                             line of the answer), "reply: closed" or "reply: err ERRNO"
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
s.sendall(b"GET /\r\n")
s.shutdown(socket.SHUT_WR)
try:
    d = s.recv(200)
    print("reply:", d.split(b"\r\n")[0].decode("latin-1") if d else "closed")
except OSError as e:
    print("reply: err", e.errno)
