#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
#
# dns_raw.py: DNS queries built byte by byte, run inside the jail by tests/e2e/resolvers.t, to
# check what the resolvers rely on without trusting any of them: the reply comes from the
# address asked, echoes the id, the RD bit and the question exactly as sent (case included),
# fits the client's EDNS0 payload size, and TCP replies are framed one per query, in order,
# whether the queries came together in one segment or a query came in pieces.
#
#   dns_raw.py SERVER NAME    prints "LABEL: ok ADDR" (ADDR the answer) or "LABEL: bad WHY"
#                             for the labels udp-rd, udp-nord, udp-edns512, udp-noedns,
#                             tcp-pipelined, tcp-split
import random
import socket
import struct
import sys
import time

SERVER, NAME = sys.argv[1], sys.argv[2]
FAM = socket.AF_INET6 if ":" in SERVER else socket.AF_INET


def query(qid, name, qtype=1, rd=True, edns=None):
    """A query message: one question, an OPT record with payload size edns when given."""
    msg = struct.pack("!HHHHHH", qid, 0x0100 if rd else 0, 1, 0, 0, 1 if edns else 0)
    for label in name.split("."):
        msg += bytes([len(label)]) + label.encode()
    msg += b"\0" + struct.pack("!HH", qtype, 1)
    if edns:
        msg += b"\0" + struct.pack("!HHIH", 41, edns, 0, 0)
    return msg


def check(q, r, qtype):
    """What is wrong with reply r to query q (a list), and the answer's address."""
    bad, addr = [], None
    if len(r) < 12:
        return ["short reply %d" % len(r)], None
    qid, flags, qd, an, ns, ar = struct.unpack("!HHHHHH", r[:12])
    if qid != struct.unpack("!H", q[:2])[0]:
        bad.append("id %d, asked %d" % (qid, struct.unpack("!H", q[:2])[0]))
    if not flags & 0x8000:
        bad.append("QR clear")
    if bool(flags & 0x0100) != bool(q[2] & 0x01):
        bad.append("RD %d, asked %d" % (bool(flags & 0x0100), q[2] & 0x01))
    if flags & 0x0200:
        bad.append("TC set")
    if flags & 0xF:
        bad.append("rcode %d" % (flags & 0xF))
    qlen = q.index(b"\0", 12) + 5 - 12
    if qd != 1 or r[12 : 12 + qlen] != q[12 : 12 + qlen]:
        bad.append("question not echoed: %r" % r[12 : 12 + qlen])
    if an != 1:
        bad.append("%d answers" % an)
    else:
        p = 12 + qlen
        rtype, _, _, rdlen = struct.unpack("!HHIH", r[p + 2 : p + 12])
        rdata = r[p + 12 : p + 12 + rdlen]
        if rtype != qtype or rdlen != (4 if qtype == 1 else 16):
            bad.append("answer type %d length %d" % (rtype, rdlen))
        else:
            addr = socket.inet_ntop(socket.AF_INET if qtype == 1 else socket.AF_INET6, rdata)
    has_opt = q[11] == 1
    if ar != (1 if has_opt else 0):
        bad.append("%d additional records, query had %d" % (ar, q[11]))
    return bad, addr


def report(label, bad, addr):
    print("%s: %s" % (label, "bad " + "; ".join(bad) if bad else "ok %s" % addr), flush=True)


def udp(label, q, qtype=1, limit=512):
    s = socket.socket(FAM, socket.SOCK_DGRAM)
    s.settimeout(5)
    try:
        s.sendto(q, (SERVER, 53))
        r, src = s.recvfrom(65535)
    except OSError as e:
        return report(label, [str(e)], None)
    finally:
        s.close()
    bad, addr = check(q, r, qtype)
    if src[0] != SERVER or src[1] != 53:
        bad.append("reply from %s port %d" % (src[0], src[1]))
    if len(r) > limit:
        bad.append("%d bytes, over the client's %d" % (len(r), limit))
    report(label, bad, addr)


def tcp_replies(s, n):
    """Reads n length-prefixed messages from s."""
    out, buf = [], b""
    while len(out) < n:
        while len(buf) >= 2 and len(buf) - 2 >= struct.unpack("!H", buf[:2])[0]:
            k = struct.unpack("!H", buf[:2])[0]
            out.append(buf[2 : 2 + k])
            buf = buf[2 + k :]
        if len(out) >= n:
            break
        d = s.recv(4096)
        if not d:
            raise OSError("closed after %d replies" % len(out))
        buf += d
    if buf:
        raise OSError("%d bytes beyond the replies" % len(buf))
    return out


def tcp(label, pieces, queries):
    s = socket.socket(FAM, socket.SOCK_STREAM)
    s.settimeout(5)
    try:
        s.connect((SERVER, 53))
        for i, p in enumerate(pieces):
            if i:
                time.sleep(0.1)
            s.sendall(p)
        replies = tcp_replies(s, len(queries))
    except OSError as e:
        return report(label, [str(e)], None)
    finally:
        s.close()
    bad, addrs = [], []
    for (q, qtype), r in zip(queries, replies):
        b, a = check(q, r, qtype)
        bad += b
        addrs.append(a)
    report(label, bad, " ".join(map(str, addrs)))


ids = random.sample(range(1, 65536), 8)
# Mixed case, as resolvers that randomise it (0x20) send it.
mixed = "".join(c.upper() if i % 2 else c for i, c in enumerate(NAME))
udp("udp-rd", query(ids[0], mixed))
udp("udp-nord", query(ids[1], mixed, rd=False))
udp("udp-edns512", query(ids[2], mixed, qtype=28, edns=512), qtype=28, limit=512)
udp("udp-noedns", query(ids[3], mixed, qtype=28), qtype=28, limit=512)
q1, q2 = query(ids[4], mixed), query(ids[5], mixed, qtype=28, edns=1232)
frame = lambda q: struct.pack("!H", len(q)) + q  # noqa: E731
tcp("tcp-pipelined", [frame(q1) + frame(q2)], [(q1, 1), (q2, 28)])
q3 = query(ids[6], mixed, rd=False)
tcp("tcp-split", [frame(q3)[:1], frame(q3)[1:9], frame(q3)[9:]], [(q3, 1)])
