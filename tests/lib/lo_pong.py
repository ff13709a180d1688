#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
#
# lo_pong.py: a server and its client on the jail's own loopback, run inside the jail by
# tests/e2e/jail.t: the client must reach the server in the jail, not a host listener on the
# same port.
#
#   lo_pong.py PORT           listens on 127.0.0.1:PORT, answers one connection "jail-pong";
#                             connects there and prints the line it gets
import socket, sys, threading
port = int(sys.argv[1])
s = socket.socket()
s.bind(("127.0.0.1", port))
s.listen(1)
def serve():
    c, _ = s.accept()
    c.sendall(b"jail-pong\n")
    c.close()
threading.Thread(target=serve).start()
c = socket.create_connection(("127.0.0.1", port), timeout=3)
print(c.recv(64).decode().strip())
