#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
#
# secret_review.py: the servers and clients of tests/security/secret_review.t.
#
#   secret_review.py quoter PORT READY     a bound host that quotes the Authorization field it
#                                          got: in its reason phrase (/reason), in
#                                          Content-Encoding (/ce), through a tunnel after 101
#                                          (/upgrade), past its answer (/extra)
#   secret_review.py early PORT READY      answers as soon as it has a head; reads the body 6 s
#                                          later (a small receive buffer)
#   secret_review.py two ADDR P1 P2 OUT    (jailed) /extra on leak.test:P1, then /next on
#                                          mute.test:P2 on the same connection: what came for it
#   secret_review.py ka ADDR PA PB SIZE OUT (jailed) a SIZE-byte JSON upload ending in
#                                          $API_KEY to early.test:PA, then /second to
#                                          sink.test:PB on the same connection
#   secret_review.py rcvcap                what a socket toward a reader that does not read takes
#                                          in here (a 4 KiB receive buffer)
import os, select, socket, sys, threading, time


def listen(port, ready, rcvbuf=None):
    """A listener on 127.0.0.1:port; READY made once it listens."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.bind(("127.0.0.1", port))
    s.listen(16)
    open(ready, "w").close()
    return s


def serve_forever(s, serve):
    while True:
        c, _ = s.accept()
        threading.Thread(target=serve, args=(c,), daemon=True).start()


def read_until(sock, end, step=65536):
    """Reads until END has come, or the peer closed: what came."""
    got = b""
    while end not in got:
        d = sock.recv(step)
        if not d:
            break
        got += d
    return got


def drain(sock, seconds):
    """What comes until the peer closes or is quiet for SECONDS."""
    sock.settimeout(seconds)
    got = b""
    try:
        while True:
            d = sock.recv(65536)
            if not d:
                break
            got += d
    except OSError:
        pass
    return got


def cmd_quoter(argv):
    s = listen(int(argv[0]), argv[1])

    def serve(c):
        buf = read_until(c, b"\r\n\r\n")
        if b"\r\n\r\n" not in buf:
            return
        lines = buf.split(b"\r\n\r\n")[0].split(b"\r\n")
        target = lines[0].split(b" ")[1]
        auth = b""
        for l in lines[1:]:
            k, _, v = l.partition(b":")
            if k.strip().lower() == b"authorization":
                auth = v.strip()
        if target.startswith(b"/extra"):
            # its answer, then bytes past it that look like the next answer: the field it got
            body = b"Authorization: " + auth + b"\n"
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n"
                      b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
            time.sleep(5)
        elif target.startswith(b"/upgrade"):
            c.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: x-echo\r\nConnection: Upgrade"
                      b"\r\n\r\nAuthorization: " + auth + b"\n")
            time.sleep(3)
        elif target.startswith(b"/reason"):
            c.sendall(b"HTTP/1.1 401 invalid token: " + auth + b"\r\nContent-Length: 3\r\n"
                      b"Connection: close\r\n\r\nno\n")
        else:
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Encoding: x-" + auth.replace(b" ", b"-") +
                      b"\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n")
        c.close()
    serve_forever(s, serve)


def cmd_early(argv):
    s = listen(int(argv[0]), argv[1], rcvbuf=4096)

    def serve(c):
        if b"\r\n\r\n" not in read_until(c, b"\r\n\r\n", 1024):
            return
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n")
        time.sleep(6)
        while c.recv(65536):
            pass
    serve_forever(s, serve)


def cmd_two(argv):
    addr, p1, p2, out = argv[0], int(argv[1]), int(argv[2]), argv[3]
    s = socket.create_connection((addr, p1), timeout=5)
    s.sendall(b"GET /extra HTTP/1.1\r\nHost: leak.test:%d\r\nAuthorization: Bearer %s\r\n\r\n"
              % (p1, os.environ["API_KEY"].encode()))
    read_until(s, b"ok\n")
    s.sendall(b"GET /next HTTP/1.1\r\nHost: mute.test:%d\r\n\r\n" % p2)
    open(out, "wb").write(drain(s, 3))


def cmd_ka(argv):
    addr, pa, pb, size, out = argv[0], int(argv[1]), int(argv[2]), int(argv[3]), argv[4]
    ph = os.environ["API_KEY"].encode()
    body = b'{"k":"' + b"x" * (size - len(ph) - 8) + ph + b'"}'
    s = socket.create_connection((addr, pa), timeout=20)
    s.sendall(b"POST /upload HTTP/1.1\r\nHost: early.test:%d\r\nContent-Type: application/json\r\n"
              b"Content-Length: %d\r\n\r\n" % (pa, len(body)) + body)
    got = read_until(s, b"ok\n")
    s.sendall(b"GET /second HTTP/1.1\r\nHost: sink.test:%d\r\nConnection: close\r\n\r\n" % pb)
    drain(s, 3)
    open(out, "w").write("first answered\n" if got.startswith(b"HTTP/1.1 200") else "first: no answer\n")


def cmd_rcvcap(argv):
    l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    l.bind(("127.0.0.1", 0)); l.listen(1)
    c = socket.create_connection(l.getsockname()); s, _ = l.accept()
    c.setblocking(False); n = 0
    while True:
        try: n += c.send(b"x" * 65536)
        except BlockingIOError:
            if not select.select([], [c], [], 0.5)[1]: break
    print(n)


if __name__ == "__main__":
    {"quoter": cmd_quoter, "early": cmd_early, "two": cmd_two, "ka": cmd_ka,
     "rcvcap": cmd_rcvcap}[sys.argv[1]](sys.argv[2:])
