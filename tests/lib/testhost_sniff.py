#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
#
# testhost_sniff.py: a packet socket on the test host's end of the veth (tests/lib/jail.sh's
# testhost_sniff, run in the test host's namespace), so that traffic to any port is seen, not
# only what a listener accepts.
#
#   testhost_sniff.py IFNAME TH4 TH6 LOG
#                             appends a line to LOG for every IPv4 packet to TH4 and every TCP,
#                             UDP or ICMPv6 echo packet to TH6 (neighbour discovery is not
#                             traffic); touches LOG.ready once the socket is bound
import socket, struct, sys
ifname, th4, th6, path = sys.argv[1:5]
t4 = socket.inet_pton(socket.AF_INET, th4)
t6 = socket.inet_pton(socket.AF_INET6, th6)
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
s.bind((ifname, 0))
open(path + ".ready", "w").close()
while True:
    d, a = s.recvfrom(65535)
    if a[2] == socket.PACKET_OUTGOING:
        continue
    eth, ip, what = struct.unpack("!H", d[12:14])[0], d[14:], None
    if eth == 0x0800 and ip[16:20] == t4:
        what = "ipv4 proto %d" % ip[9]
    elif eth == 0x86DD and ip[24:40] == t6 and (ip[6] in (6, 17) or (ip[6] == 58 and ip[40] == 128)):
        what = "ipv6 next %d" % ip[6]
    if what:
        with open(path, "a") as f:
            f.write(what + "\n")
