#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
#
# bypass_listeners.py: what a jail without a network namespace (tests/e2e/landlock.t) could reach
# around the proxy: a UDP listener on host loopback and a TCP one on 127.0.0.2.
#
#   bypass_listeners.py UDP_PORT TCP_PORT DIR
#                             listens on UDP 127.0.0.1:UDP_PORT and TCP 127.0.0.2:TCP_PORT;
#                             appends each datagram to DIR/udp-hits and the first 100 bytes of
#                             each TCP connection to DIR/tcp-hits, a line each; touches
#                             DIR/listeners-ready once listening
import socket, sys, threading, os
pu, pp, d = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind(("127.0.0.1", pu))
t = socket.socket()
t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
t.bind(("127.0.0.2", pp))
t.listen(8)
def tcp():
    while True:
        c, _ = t.accept()
        with open(d + "/tcp-hits", "a") as f:
            f.write(c.recv(100).decode(errors="replace") + "\n")
        c.close()
threading.Thread(target=tcp, daemon=True).start()
open(d + "/listeners-ready", "w").close()
while True:
    data, _ = u.recvfrom(2048)
    with open(d + "/udp-hits", "a") as f:
        f.write(data.decode(errors="replace") + "\n")
