#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
#
# stream_client.py: the jailed clients of stream_servers.py (and of any plain TCP listener),
# for the tests of boundary's stream rules.
#
#   stream_client.py ssh HOST PORT [4|6]  reads the server's banner, sends its own, prints
#                                         "ADDR: A" (the address dialled), "BANNER: LINE" and
#                                         "REPLY: LINE"; 4 or 6: only that family
#   stream_client.py banner HOST PORT     prints "ADDR: A" (the peer) and "BANNER: LINE" only
#   stream_client.py echo HOST PORT       sends a line, half-closes, prints "ANSWER: WHAT CAME BACK"
#   stream_client.py send HOST PORT       sends "raw bytes\n", prints "SENT: ok"
#   stream_client.py sendrecv HOST PORT   sends "raw bytes\n", prints "GOT: " and up to 10
#                                         bytes read back
#   stream_client.py nothttp HOST PORT    sends bytes that are not HTTP, reads for 3 s at most,
#                                         prints "RAW-DONE"
#   stream_client.py pgssl HOST PORT      sends PostgreSQL's SSLRequest, waits for a byte back
#                                         (20 s at most), prints nothing
import socket, sys

mode, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
if mode == "ssh":
    fam = {"4": socket.AF_INET, "6": socket.AF_INET6}.get(sys.argv[4] if len(sys.argv) > 4 else "", 0)
    ai = socket.getaddrinfo(host, port, fam, socket.SOCK_STREAM)[0]
    print("ADDR:", ai[4][0])
    s = socket.socket(ai[0], socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(ai[4])
    f = s.makefile("rb")
    print("BANNER:", f.readline().decode().strip())
    s.sendall(b"SSH-2.0-jailed\r\n")
    print("REPLY:", f.readline().decode().strip())
elif mode == "banner":
    s = socket.create_connection((host, port), timeout=5)
    print("ADDR:", s.getpeername()[0])
    print("BANNER:", s.makefile("rb").readline().decode().strip())
elif mode == "echo":
    s = socket.create_connection((host, port), timeout=10)
    s.sendall(b"hello through a splice")
    s.shutdown(socket.SHUT_WR)
    data = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        data += b
    print("ANSWER:", data.decode())
elif mode in ("send", "sendrecv"):
    s = socket.create_connection((host, port), timeout=10)
    s.sendall(b"raw bytes\n")
    if mode == "send":
        print("SENT: ok")
    else:
        print("GOT:", repr(s.recv(10)))
elif mode == "nothttp":
    s = socket.create_connection((host, port), timeout=10)
    s.sendall(b"\x00\x01 not http\n")
    s.settimeout(3)
    try:
        s.recv(100)
    except OSError:
        pass
    print("RAW-DONE")
elif mode == "pgssl":
    s = socket.create_connection((host, port), timeout=20)
    s.sendall(b"\0\0\0\x08\x04\xd2\x16\x2f")
    try:
        s.recv(1)
    except OSError:
        pass
else:
    sys.exit("stream_client.py: unknown mode %s" % mode)
