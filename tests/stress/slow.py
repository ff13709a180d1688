#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
#
# slow.py ADDR PORT HOST: the misbehaving clients of timeouts.t, all at once, each in a thread,
# against ADDR:PORT (redirected to boundary) with Host HOST (load.py's origin). Each prints
# "CASE: WHAT after SECONDS" once boundary has answered or closed (or "CASE: hang" after 20 s).
# Meanwhile a well-behaved client asks GET /ok every 100 ms and prints
# "steady: N ok, M failed, slowest S" at the end: the proxy must keep serving others.
import socket
import sys
import threading
import time

ADDR, PORT, HOST = sys.argv[1], int(sys.argv[2]), sys.argv[3]
out_lock = threading.Lock()
done = threading.Event()


def say(line):
    with out_lock:
        print(line, flush=True)


def connect():
    s = socket.create_connection((ADDR, PORT), timeout=20)
    s.settimeout(20)
    return s


def outcome(s, t0):
    """Reads until boundary closes: 'STATUS' (or 'closed' with no bytes), and the time."""
    data = b""
    try:
        while True:
            d = s.recv(65536)
            if not d:
                break
            data += d
    except socket.timeout:
        return "hang", time.time() - t0, data
    except OSError as e:
        # Unread bytes in its receive queue make boundary's close a reset: a close all the same.
        return "closed (reset: %s)" % e.strerror, time.time() - t0, data
    if not data:
        return "closed", time.time() - t0, data
    return data.split(b" ", 2)[1].decode(), time.time() - t0, data


def report(name, what, secs, extra=""):
    say("%s: %s after %.1f%s" % (name, what, secs, extra))


def slowloris():
    s = connect()
    t0 = time.time()
    s.sendall(b"GET /ok HTTP/1.1\r\nHost: %s\r\n" % HOST.encode())

    def drip():
        try:
            while not done.is_set():
                s.sendall(b"X")
                time.sleep(0.3)
        except OSError:
            pass

    threading.Thread(target=drip, daemon=True).start()
    what, secs, data = outcome(s, t0)
    report("slowloris", what, secs, " (%s)" % data.split(b"\r\n\r\n", 1)[-1].decode().strip())


def silent():
    s = connect()
    t0 = time.time()
    report("silent", *outcome(s, t0)[:2])


def tls_stall():
    s = connect()
    t0 = time.time()
    s.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")  # a ClientHello's start
    report("tls-stall", *outcome(s, t0)[:2])


def stalled_upload():
    s = connect()
    t0 = time.time()
    s.sendall(b"POST /upload HTTP/1.1\r\nHost: %s\r\nContent-Length: 100000\r\n\r\n" % HOST.encode())
    s.sendall(b"u" * 1000)
    what, secs, data = outcome(s, t0)
    report("stalled-upload", what, secs, " (%s)" % data.split(b"\r\n\r\n", 1)[-1].decode().strip())


def vanish_mid_body():
    s = connect()
    s.sendall(b"POST /upload HTTP/1.1\r\nHost: %s\r\nContent-Length: 100000\r\n\r\n" % HOST.encode())
    s.sendall(b"v" * 1000)
    time.sleep(0.5)
    s.close()
    say("vanish-mid-body: closed")


def upstream_half():
    s = connect()
    t0 = time.time()
    s.sendall(b"GET /half HTTP/1.1\r\nHost: %s\r\n\r\n" % HOST.encode())
    what, secs, data = outcome(s, t0)
    report("upstream-half", what, secs, " (%d body bytes)" % len(data.split(b"\r\n\r\n", 1)[-1]))


def upstream_never():
    s = connect()
    t0 = time.time()
    s.sendall(b"GET /never HTTP/1.1\r\nHost: %s\r\n\r\n" % HOST.encode())
    report("upstream-never", *outcome(s, t0)[:2])


def keepalive_idle():
    s = connect()
    s.sendall(b"GET /ok HTTP/1.1\r\nHost: %s\r\n\r\n" % HOST.encode())
    data = b""
    while b"ok\n" not in data:
        d = s.recv(4096)
        if not d:
            break
        data += d
    t0 = time.time()
    what, secs, _ = outcome(s, t0)
    report("keepalive-idle", "first 200 then " + what, secs)


def keepalive_slow_head():
    """A second head that starts 0.5 s after the first response, then drips: the header
    timeout counts from its first byte (not from the first response)."""
    s = connect()
    s.sendall(b"GET /ok HTTP/1.1\r\nHost: %s\r\n\r\n" % HOST.encode())
    data = b""
    while b"ok\n" not in data:
        d = s.recv(4096)
        if not d:
            break
        data += d
    time.sleep(0.5)
    t0 = time.time()
    s.sendall(b"GET /ok HTTP/1.1\r\n")

    def drip():
        try:
            while not done.is_set():
                time.sleep(0.3)
                s.sendall(b"Y")
        except OSError:
            pass

    threading.Thread(target=drip, daemon=True).start()
    what, secs, _ = outcome(s, t0)
    report("keepalive-slow-head", what, secs)


def steady():
    ok = bad = 0
    slowest = 0.0
    while not done.is_set():
        t0 = time.time()
        try:
            s = connect()
            s.settimeout(5)
            s.sendall(b"GET /ok HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" % HOST.encode())
            data = b""
            while True:
                d = s.recv(4096)
                if not d:
                    break
                data += d
            s.close()
            if data.startswith(b"HTTP/1.1 200") and data.endswith(b"ok\n"):
                ok += 1
            else:
                bad += 1
        except OSError:
            bad += 1
        slowest = max(slowest, time.time() - t0)
        time.sleep(0.1)
    say("steady: %d ok, %d failed, slowest %.2f" % (ok, bad, slowest))


cases = [slowloris, silent, tls_stall, stalled_upload, vanish_mid_body, upstream_half,
         upstream_never, keepalive_idle, keepalive_slow_head]
st = threading.Thread(target=steady)
st.start()
ts = [threading.Thread(target=f) for f in cases]
for t in ts:
    t.start()
for t in ts:
    t.join()
done.set()
st.join()
