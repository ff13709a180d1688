#!/usr/bin/python3
# SPDX-License-Identifier: MIT
#
# grpc_peer.py: both ends of gRPC for tests/e2e/http2.t, on Debian's python3-grpcio (run it with
# /usr/bin/python3), with generic handlers: no generated code, messages are raw bytes.
#
#   grpc_peer.py server PORT (tls CERT KEY | insecure) READY LOG
#       serves test.Echo on 127.0.0.1:PORT, makes READY once listening, and appends a line
#       "/test.Echo/METHOD" to LOG for each call it takes:
#         Say     unary: b"said:" + the request
#         Chat    bidi: answers each message m with b"chat:" + m as it comes
#         Slow    unary: sleeps 3 s, then b"slow:" + the request
#         Secret  unary: b"secret:" + the request (a method the suite's rules leave out)
#   grpc_peer.py client TARGET (tls CAFILE|default | insecure) METHOD [MESSAGE] [--deadline S]
#       calls /test.Echo/METHOD on TARGET (HOST:PORT) with MESSAGE (default "hi") and prints
#       one line: "OK ANSWER" or "ERR CODE DETAILS" (CODE a grpc.StatusCode name, DETAILS with
#       newlines as \n). Chat sends MESSAGE1, MESSAGE2, MESSAGE3, each only once the answer to
#       the one before has come (a proxy that held the request stream back would stall it), and
#       prints the answers space-separated. "default" trusts what gRPC's C core trusts without
#       being told: GRPC_DEFAULT_SSL_ROOTS_FILE_PATH, as boundary sets it in a jail. The
#       deadline defaults to 10 s. HTTP proxy variables are ignored: only the jail redirects.
import queue
import sys
import time
from concurrent import futures

import grpc

SERVICE = "test.Echo"


def server(argv):
    port, kind = argv[0], argv[1]
    if kind == "tls":
        cert, key, ready, log = argv[2:6]
    else:
        ready, log = argv[2:4]

    def logged(name):
        with open(log, "a") as f:
            f.write("/%s/%s\n" % (SERVICE, name))

    def say(req, ctx):
        logged("Say")
        return b"said:" + req

    def chat(reqs, ctx):
        logged("Chat")
        for m in reqs:
            yield b"chat:" + m

    def slow(req, ctx):
        logged("Slow")
        time.sleep(3)
        return b"slow:" + req

    def secret(req, ctx):
        logged("Secret")
        return b"secret:" + req

    handlers = grpc.method_handlers_generic_handler(SERVICE, {
        "Say": grpc.unary_unary_rpc_method_handler(say),
        "Chat": grpc.stream_stream_rpc_method_handler(chat),
        "Slow": grpc.unary_unary_rpc_method_handler(slow),
        "Secret": grpc.unary_unary_rpc_method_handler(secret),
    })
    srv = grpc.server(futures.ThreadPoolExecutor(max_workers=16), handlers=[handlers])
    addr = "127.0.0.1:%s" % port
    if kind == "tls":
        with open(cert, "rb") as c, open(key, "rb") as k:
            creds = grpc.ssl_server_credentials([(k.read(), c.read())])
        bound = srv.add_secure_port(addr, creds)
    else:
        bound = srv.add_insecure_port(addr)
    if not bound:
        sys.exit("grpc_peer: cannot listen on %s" % addr)
    srv.start()
    open(ready, "w").close()
    srv.wait_for_termination()


def client(argv):
    deadline = 10.0
    if "--deadline" in argv:
        i = argv.index("--deadline")
        deadline = float(argv[i + 1])
        argv = argv[:i] + argv[i + 2:]
    target, kind = argv[0], argv[1]
    rest = argv[2:]
    opts = [("grpc.enable_http_proxy", 0)]
    if kind == "tls":
        ca, rest = rest[0], rest[1:]
        if ca == "default":
            creds = grpc.ssl_channel_credentials()
        else:
            with open(ca, "rb") as f:
                creds = grpc.ssl_channel_credentials(root_certificates=f.read())
        channel = grpc.secure_channel(target, creds, options=opts)
    else:
        channel = grpc.insecure_channel(target, options=opts)
    method = rest[0]
    msg = (rest[1] if len(rest) > 1 else "hi").encode()
    path = "/%s/%s" % (SERVICE, method)
    try:
        if method == "Chat":
            answered = queue.Queue()

            def requests():
                for i in range(1, 4):
                    yield msg + b"%d" % i
                    # the next message only after this one's answer
                    if answered.get() is None:
                        return

            call = channel.stream_stream(path)(requests(), timeout=deadline)
            got = []
            try:
                for a in call:
                    got.append(a.decode())
                    answered.put(a)
            finally:
                answered.put(None)
            print("OK " + " ".join(got))
        else:
            a = channel.unary_unary(path)(msg, timeout=deadline)
            print("OK " + a.decode())
    except grpc.RpcError as e:
        details = (e.details() or "").replace("\n", "\\n")
        print("ERR %s %s" % (e.code().name, details))
    finally:
        channel.close()


def main():
    if sys.argv[1] == "server":
        server(sys.argv[2:])
    elif sys.argv[1] == "client":
        client(sys.argv[2:])
    else:
        sys.exit(__doc__ or "grpc_peer.py server|client ...")


if __name__ == "__main__":
    main()
