#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
#
# host_resolver.py: plays the host's own resolver (the nameserver of the resolv.conf boundary
# reads) for tests/e2e/realdns.t's --use-real-dns, on 127.0.0.78 port 53, UDP and TCP.
#
#   host_resolver.py TH4 TH6 LOG READY
#                             answers A queries with TH4 and AAAA queries with TH6 (any other
#                             type: no answer record), except for the name "silent.test", which
#                             it never answers; appends "PROTO TYPE NAME" to LOG per query;
#                             touches READY once listening
import socket, struct, sys, threading
a4, a6, logf, ready = socket.inet_aton(sys.argv[1]), socket.inet_pton(socket.AF_INET6, sys.argv[2]), sys.argv[3], sys.argv[4]
lock = threading.Lock()

def answer(q, proto):
    qid, flags, qd = struct.unpack(">HHH", q[:6])
    i, labels = 12, []
    while q[i]:
        labels.append(q[i + 1:i + 1 + q[i]].decode())
        i += 1 + q[i]
    qtype = struct.unpack(">H", q[i + 1:i + 3])[0]
    question = q[12:i + 5]
    name = ".".join(labels).lower()
    with lock, open(logf, "a") as f:
        f.write("%s %s %s\n" % (proto, {1: "A", 28: "AAAA"}.get(qtype, qtype), name))
    if name == "silent.test":
        return None
    rr = b""
    if qtype == 1:
        rr = b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 30, 4) + a4
    elif qtype == 28:
        rr = b"\xc0\x0c" + struct.pack(">HHIH", 28, 1, 30, 16) + a6
    return struct.pack(">HHHHHH", qid, 0x8180 | (flags & 0x0100), 1, 1 if rr else 0, 0, 0) + question + rr

us = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
us.bind(("127.0.0.78", 53))
ts = socket.socket()
ts.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ts.bind(("127.0.0.78", 53))
ts.listen(16)

def udp():
    s = us
    while True:
        q, peer = s.recvfrom(4096)
        a = answer(q, "udp")
        if a:
            s.sendto(a, peer)

def tcp():
    s = ts
    while True:
        c, _ = s.accept()
        f = c.makefile("rb")
        n = f.read(2)
        if len(n) == 2:
            a = answer(f.read(struct.unpack(">H", n)[0]), "tcp")
            if a:
                c.sendall(struct.pack(">H", len(a)) + a)
        c.close()

for fn in (udp, tcp):
    threading.Thread(target=fn, daemon=True).start()
open(ready, "w").close()
threading.Event().wait()
