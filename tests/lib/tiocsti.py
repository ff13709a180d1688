#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
#
# tiocsti.py: tries to type into its own terminal (ioctl TIOCSTI on stdin), as a command run
# under --interactive could to answer boundary's question itself (tests/e2e/policy.t).
#
#   tiocsti.py TEXT           after 1 s, pushes TEXT and a newline into the terminal's input:
#                             prints "TIOCSTI-WORKED", or "TIOCSTI-REFUSED ERRNO"
import fcntl, sys, termios, time
time.sleep(1)
try:
    for ch in sys.argv[1].encode() + b"\n":
        fcntl.ioctl(0, termios.TIOCSTI, bytes([ch]))
    print("TIOCSTI-WORKED")
except OSError as e:
    print("TIOCSTI-REFUSED", e.errno)
