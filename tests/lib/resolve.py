#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
#
# resolve.py: Python's getaddrinfo (the C library's), run inside the jail by
# tests/e2e/resolvers.t.
#
#   python3 resolve.py NAME FAMILY   getaddrinfo(NAME, 80, FAMILY, SOCK_STREAM), FAMILY a number
#                                    (0 AF_UNSPEC, 2 AF_INET, 10 AF_INET6): "addr ADDR" per result
import socket, sys
for ai in socket.getaddrinfo(sys.argv[1], 80, int(sys.argv[2]), socket.SOCK_STREAM):
    print("addr", ai[4][0])
