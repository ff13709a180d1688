#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
#
# load.py: the stress suites' origin server and load client, both asyncio, one process each
# (the e2e servers' thread per connection does not reach thousands).
#
#   load.py serve PORTFILE [COUNTFILE]
#       An HTTP/1.1 origin on 127.0.0.1 (a free port, written to PORTFILE once listening);
#       with COUNTFILE, the connections it accepted so far, rewritten every 50 ms.
#       Keep-alive unless the request says Connection: close.
#         /ok        200 "ok\n"
#         /never     reads the head, never answers
#         /half      a 200 head promising 100000 bytes, 1000 of them, then a close
#         /upload    reads the Content-Length body, then 200 with its length
#
#   load.py client N ADDR PORT ALLOW_HOST DENY_HOST DIR [NAME]
#       Opens N connections to ADDR:PORT at once and holds them, writes "NAME open K" to
#       DIR/NAME.open, waits for DIR/go; then on every connection i, by i % 4:
#         0 allowed, keep-alive: two GET /ok with Host ALLOW_HOST, both must be 200 "ok"
#         1 allowed, Connection: close: one GET /ok, 200 "ok", then the close
#         2 refused, keep-alive: two GET / with Host DENY_HOST, both 403
#         3 refused, Connection: close: one 403, then the close
#       writes the JSON result to DIR/NAME.result, waits for DIR/close (the keep-alive ones
#       still open), closes everything and exits 0 if there was no error.
#
#   load.py hammer N ADDR PORT HOST
#       N connections at a time, each five keep-alive GET /ok with Host HOST then a close, again
#       and again until killed; failures are retried after 10 ms.
#
#   load.py sum RESULT...
#       Adds up the clients' JSON results: prints "ALLOWED REFUSED ERRORS", ERRORS the error
#       counts by kind as JSON, or "none".
import asyncio
import json
import os
import sys

BODY_HALF = 100000


async def read_response(r):
    """(status, headers dict, body) of one response with a Content-Length body."""
    head = await r.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    hdrs = {}
    for ln in lines[1:]:
        if ":" in ln:
            k, v = ln.split(":", 1)
            hdrs[k.strip().lower()] = v.strip()
    body = await r.readexactly(int(hdrs.get("content-length", "0")))
    return status, hdrs, body


# --- the origin ------------------------------------------------------------------------------
accepted = 0


async def serve_conn(r, w):
    global accepted
    accepted += 1
    try:
        while True:
            try:
                head = await r.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, ConnectionError):
                return
            lines = head.decode("latin-1").split("\r\n")
            path = lines[0].split(" ")[1]
            hdrs = {}
            for ln in lines[1:]:
                if ":" in ln:
                    k, v = ln.split(":", 1)
                    hdrs[k.strip().lower()] = v.strip().lower()
            close = hdrs.get("connection") == "close"
            n = int(hdrs.get("content-length", "0"))
            if path == "/never":
                await asyncio.sleep(3600)
                return
            if path == "/half":
                w.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % BODY_HALF + b"h" * 1000)
                await w.drain()
                return
            got = 0
            while got < n:
                d = await r.read(min(65536, n - got))
                if not d:
                    return
                got += len(d)
            body = b"ok\n" if path != "/upload" else b"%d\n" % got
            w.write(
                b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n%s\r\n%s"
                % (len(body), b"Connection: close\r\n" if close else b"", body)
            )
            await w.drain()
            if close:
                return
    except ConnectionError:
        pass
    finally:
        w.close()


async def serve(portfile, countfile):
    srv = await asyncio.start_server(serve_conn, "127.0.0.1", 0, backlog=4096)
    with open(portfile + ".tmp", "w") as f:
        f.write(str(srv.sockets[0].getsockname()[1]))
    os.rename(portfile + ".tmp", portfile)
    while True:
        await asyncio.sleep(0.05)
        if countfile:
            with open(countfile + ".tmp", "w") as f:
                f.write("%d\n" % accepted)
            os.rename(countfile + ".tmp", countfile)


async def hammer(n, addr, port, host):
    async def one():
        while True:
            try:
                r, w = await asyncio.open_connection(addr, port)
                for _ in range(5):
                    w.write(b"GET /ok HTTP/1.1\r\nHost: %s\r\n\r\n" % host.encode())
                    await read_response(r)
                w.close()
            except Exception:  # noqa: BLE001 - boundary may be gone: try again
                await asyncio.sleep(0.01)

    await asyncio.gather(*(one() for _ in range(n)))


# --- the load --------------------------------------------------------------------------------
async def wait_file(path):
    while not os.path.exists(path):
        await asyncio.sleep(0.05)


async def client(n, addr, port, allow, deny, d, name):
    errors = {}
    ok = {"allowed": 0, "refused": 0}
    conns = [None] * n

    def err(what):
        errors[what] = errors.get(what, 0) + 1

    async def open_one(i):
        try:
            conns[i] = await asyncio.wait_for(asyncio.open_connection(addr, port), 60)
        except Exception as e:  # noqa: BLE001 - every failure is counted, by kind
            err("connect: %s" % type(e).__name__)

    # In batches, so the listener's backlog is never the test.
    for b in range(0, n, 500):
        await asyncio.gather(*(open_one(i) for i in range(b, min(n, b + 500))))
    opened = sum(1 for c in conns if c)
    with open(os.path.join(d, name + ".open"), "w") as f:
        f.write("%s open %d\n" % (name, opened))
    await wait_file(os.path.join(d, "go"))

    async def use(i):
        if not conns[i]:
            return
        r, w = conns[i]
        kind = i % 4
        allowed = kind in (0, 1)
        keep = kind in (0, 2)
        host = allow if allowed else deny
        path = "/ok" if allowed else "/"
        try:
            for k in range(2 if keep else 1):
                w.write(
                    ("GET %s HTTP/1.1\r\nHost: %s\r\n%s\r\n"
                     % (path, host, "" if keep else "Connection: close\r\n")).encode()
                )
                await w.drain()
                status, _, body = await asyncio.wait_for(read_response(r), 60)
                if allowed and (status != 200 or body != b"ok\n"):
                    err("allowed: status %d" % status)
                    return
                if not allowed and status != 403:
                    err("refused: status %d" % status)
                    return
            if not keep:
                if await asyncio.wait_for(r.read(1), 60) != b"":
                    err("not closed after Connection: close")
                    return
            ok["allowed" if allowed else "refused"] += 1
        except Exception as e:  # noqa: BLE001
            err("%s: %s" % ("allowed" if allowed else "refused", type(e).__name__))

    await asyncio.gather(*(use(i) for i in range(n)))
    res = {"name": name, "open": opened, "ok": ok, "errors": errors}
    with open(os.path.join(d, name + ".result.tmp"), "w") as f:
        json.dump(res, f)
    os.rename(os.path.join(d, name + ".result.tmp"), os.path.join(d, name + ".result"))
    await wait_file(os.path.join(d, "close"))
    for c in conns:
        if c:
            c[1].close()
    return 0 if not errors and opened == n else 1


def sum_results(paths):
    ok = {"allowed": 0, "refused": 0}
    errors = {}
    for p in paths:
        with open(p) as f:
            r = json.load(f)
        for k in ok:
            ok[k] += r["ok"][k]
        for k, v in r["errors"].items():
            errors[k] = errors.get(k, 0) + v
    print(ok["allowed"], ok["refused"], json.dumps(errors) if errors else "none")


def main():
    if sys.argv[1] == "sum":
        sum_results(sys.argv[2:])
    elif sys.argv[1] == "serve":
        asyncio.run(serve(sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None))
    elif sys.argv[1] == "hammer":
        asyncio.run(hammer(int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), sys.argv[5]))
    elif sys.argv[1] == "client":
        n, addr, port, allow, deny, d = sys.argv[2:8]
        name = sys.argv[8] if len(sys.argv) > 8 else "c%d" % os.getpid()
        sys.exit(asyncio.run(client(int(n), addr, int(port), allow, deny, d, name)))
    else:
        sys.exit("usage: load.py serve PORTFILE | client N ADDR PORT ALLOW DENY DIR [NAME]"
                 " | hammer N ADDR PORT HOST | sum RESULT...")


if __name__ == "__main__":
    main()
