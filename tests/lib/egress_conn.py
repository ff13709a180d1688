#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
#
# egress_conn.py: a client that opens its connection first and sends on it when told, for a test
# of what leaves after boundary attaches (tests/security/egress.t: a connection opened before the
# attach, to an address that is not loopback).
#
#   egress_conn.py DIR tcp|udp ADDR PORT
#                             connects to ADDR:PORT (TCP, or a connected UDP socket), sends
#                             "before\n", touches DIR/up; then, each time DIR/send appears, sends
#                             its contents and renames it DIR/sent (or writes the error to
#                             DIR/sent); a TCP connection's end (EOF or an error) is written to
#                             DIR/eof
import os, socket, sys, threading, time
d, proto, addr, port = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
if proto == "tcp":
    s = socket.create_connection((addr, port), timeout=10)
    s.settimeout(None)
else:
    s = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET, socket.SOCK_DGRAM)
    s.connect((addr, port))
s.send(b"before\n")
open(d + "/up", "w").close()

def reader():
    why = "eof"
    try:
        while s.recv(4096):
            pass
    except OSError as e:
        why = "error " + e.strerror
    with open(d + "/eof.tmp", "w") as f:
        f.write(why + "\n")
    os.rename(d + "/eof.tmp", d + "/eof")

if proto == "tcp":
    threading.Thread(target=reader, daemon=True).start()
while True:
    if os.path.exists(d + "/send"):
        data = open(d + "/send", "rb").read()
        try:
            s.send(data)
            os.rename(d + "/send", d + "/sent")
        except OSError as e:
            with open(d + "/sent", "w") as f:
                f.write("error " + e.strerror + "\n")
            os.unlink(d + "/send")
    time.sleep(0.02)
