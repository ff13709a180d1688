#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
#
# pty_drive.py: drives an interactive program through a terminal, as a person would
# (tests/e2e/policy.t's --interactive).
#
#   pty_drive.py STEPS TRANSCRIPT -- ARGV...
#                             runs ARGV with a new pty as its controlling terminal and plays
#                             STEPS ("expect TEXT", "send TEXT", "sleep S"), each expect
#                             searching after the last match (20 s at most); writes all ARGV
#                             printed to TRANSCRIPT. Exits with ARGV's status, or 99 when an
#                             expect times out
import os, pty, select, sys, time
steps, transcript, argv = sys.argv[1], sys.argv[2], sys.argv[4:]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(argv[0], argv)
buf, pos = b"", 0

def pump(t):
    global buf
    r, _, _ = select.select([fd], [], [], t)
    if r:
        try:
            d = os.read(fd, 4096)
        except OSError:
            d = b""
        buf += d
        return bool(d)
    return True

def save():
    open(transcript, "wb").write(buf)

for line in open(steps):
    op, _, arg = line.rstrip("\n").partition(" ")
    if op == "expect":
        end = time.time() + 20
        while arg.encode() not in buf[pos:]:
            if time.time() > end or not pump(0.2):
                save()
                sys.exit(99)
        pos = buf.index(arg.encode(), pos) + len(arg)
    elif op == "send":
        os.write(fd, arg.encode() + b"\n")
    elif op == "sleep":
        end = time.time() + float(arg)
        while time.time() < end:
            pump(0.1)
end = time.time() + 30
while time.time() < end and pump(0.2):
    if os.waitpid(pid, os.WNOHANG)[0]:
        pid = 0
        break
save()
if pid:
    _, st = os.waitpid(pid, 0)
else:
    st = 0
sys.exit(os.waitstatus_to_exitcode(st) if pid else 0)
