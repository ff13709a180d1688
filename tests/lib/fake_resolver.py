#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
#
# fake_resolver.py: a DNS server on a host loopback address outside any jail (tests/lib/jail.sh's
# fake_resolver). A jailed resolver aimed at it must be answered by boundary, so it must see
# nothing; it answers anyway, so that "it saw nothing" could fail.
#
#   fake_resolver.py LOG      picks a free 127.53.X.Y and listens on port 53 there (UDP and TCP);
#                             answers every A query with 127.0.0.99 (any other type: no answer),
#                             appends "PROTO NAME" to LOG per query, writes the address to
#                             LOG.ready once listening
#   fake_resolver.py LOG silent
#                             the same, but a server that reads every query and answers none
#                             (TCP connections are accepted and held, never read), logs nothing
import random, socket, struct, sys, threading
path = sys.argv[1]
silent = sys.argv[2:3] == ["silent"]
def answer(q, proto):
    """Logs query q, returns its reply: the question echoed, A 127.0.0.99 when it asks for A."""
    labels, p = [], 12
    while q[p]:
        labels.append(q[p + 1 : p + 1 + q[p]].decode("ascii", "replace"))
        p += 1 + q[p]
    qtype = struct.unpack("!H", q[p + 1 : p + 3])[0]
    with open(path, "a") as f:
        f.write("%s %s\n" % (proto, ".".join(labels)))
    an = qtype == 1
    r = q[:2] + struct.pack("!HHHHH", 0x8080 | (q[2] & 1) << 8, 1, int(an), 0, 0) + q[12 : p + 5]
    if an:
        r += struct.pack("!HHHIH", 0xC00C, 1, 1, 60, 4) + bytes([127, 0, 0, 99])
    return r
def udp(s):
    while True:
        q, a = s.recvfrom(4096)
        try:
            s.sendto(answer(q, "udp"), a)
        except (IndexError, struct.error):
            pass
def tcp(s):
    while True:
        c, _ = s.accept()
        c.settimeout(5)
        try:
            n = struct.unpack("!H", c.recv(2, socket.MSG_WAITALL))[0]
            r = answer(c.recv(n, socket.MSG_WAITALL), "tcp")
            c.sendall(struct.pack("!H", len(r)) + r)
        except (OSError, IndexError, struct.error):
            pass
        c.close()
# An address of its own, so that suites of other work trees cannot collide with it.
for _ in range(50):
    addr = "127.53.%d.%d" % (random.randrange(256), random.randrange(1, 255))
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        u.bind((addr, 53))
        t.bind((addr, 53))
        t.listen(16)
        break
    except OSError:
        u.close()
        t.close()
else:
    sys.exit("no free port 53 on 127.53.0.0/16")
def silent_udp(s):
    while True:
        s.recvfrom(4096)
def silent_tcp(s):
    held = []
    while True:
        held.append(s.accept()[0])
threading.Thread(target=silent_udp if silent else udp, args=(u,), daemon=True).start()
threading.Thread(target=silent_tcp if silent else tcp, args=(t,), daemon=True).start()
with open(path + ".ready", "w") as f:
    f.write(addr)
threading.Event().wait()
