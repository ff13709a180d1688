#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
#
# curses_req.py URL [DELAY]: a small full-screen program (tests/e2e/approve.t): it draws a screen
# in raw mode, reads no key for DELAY seconds (so keys typed meanwhile wait in the terminal),
# then fetches URL with curl while it runs (in a thread, so it keeps reading keys), shows the
# answer's status, redraws everything on a resize, and exits on "q", printing every other key it
# read as KEYS:...
import curses, subprocess, sys, threading, time

url = sys.argv[1]
status = "FETCHING"
keys = ""


def fetch():
    global status
    r = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", url],
                       capture_output=True, text=True)
    status = "GOT-" + (r.stdout.strip() or "none")


def draw(scr):
    scr.erase()
    scr.addstr(0, 0, "CURSES-SCREEN top line")
    scr.addstr(2, 0, "STATUS " + status)
    scr.addstr(3, 0, "KEYS:" + keys)
    scr.addstr(curses.LINES - 1, 0, "CURSES-SCREEN bottom line")
    scr.refresh()


def main(scr):
    global keys
    curses.raw()
    scr.timeout(100)
    draw(scr)
    time.sleep(float(sys.argv[2]) if len(sys.argv) > 2 else 0)
    t = threading.Thread(target=fetch, daemon=True)
    t.start()
    while True:
        draw(scr)
        c = scr.getch()
        if c == curses.KEY_RESIZE:
            curses.update_lines_cols()
            scr.clear()
        elif c == ord("q"):
            return
        elif 0 < c < 256:
            keys += chr(c)


curses.wrapper(main)
print("CURSES-EXIT status=" + status + " keys=" + keys)
