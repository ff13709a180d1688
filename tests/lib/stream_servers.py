#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
#
# stream_servers.py: plain TCP servers behind boundary's stream (non-HTTP) rules, on host
# loopback, 127.0.0.1 and ::1 alike, one thread per connection.
#
#   stream_servers.py SSH_PORT ECHO_PORT LOG READY [BANNER]
#                             on SSH_PORT an "sshd": sends BANNER (SSH-2.0-boundarytest), reads
#                             one line, answers "WELCOME LINE"; on ECHO_PORT (0: none) an echo
#                             server that answers what it read, upper-cased, once the client
#                             half-closes. Appends "NAME PEER" (NAME sshd or echo) to LOG per
#                             accepted connection and "banner LINE" per line the sshd reads;
#                             touches READY once listening
import socket, sys, threading
p_ssh, p_echo, logf, ready = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
banner = (sys.argv[5] if len(sys.argv) > 5 else "SSH-2.0-boundarytest").encode()
lock = threading.Lock()

def log(name, peer):
    with lock, open(logf, "a") as f:
        f.write("%s %s\n" % (name, peer[0]))

def sshd(c):
    c.sendall(banner + b"\r\n")
    f = c.makefile("rb")
    line = f.readline()
    with lock, open(logf, "a") as lf:
        lf.write("banner %s\n" % line.decode(errors="replace").strip())
    c.sendall(b"WELCOME " + line)

def echo(c):
    data = b""
    while True:
        b = c.recv(65536)
        if not b:
            break
        data += b
    c.sendall(data.upper())

def serve(fam, addr, port, name, fn):
    s = socket.socket(fam)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(64)
    def loop():
        while True:
            c, peer = s.accept()
            log(name, peer)
            def run(c=c):
                try:
                    fn(c)
                finally:
                    c.close()
            threading.Thread(target=run, daemon=True).start()
    threading.Thread(target=loop, daemon=True).start()

for fam, a in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
    serve(fam, a, p_ssh, "sshd", sshd)
    if p_echo:
        serve(fam, a, p_echo, "echo", echo)
open(ready, "w").close()
threading.Event().wait()
