#!/usr/bin/python3
# SPDX-License-Identifier: MIT
#
# h2_client.py: an HTTP/2 client on python3-h2 for tests/e2e/http2.t, for what curl cannot show:
# response trailers, and several streams of one connection side by side with the body hashed
# as it arrives (a GiB needs no disk and no memory).
#
#   h2_client.py [--ca FILE|default|h2c] [--sni NAME] HOST PORT PATH...
#       --ca FILE     TLS (ALPN h2 only) trusting FILE; "default" (the default): the system's
#                     roots, i.e. SSL_CERT_FILE as boundary sets it; "h2c": cleartext, prior
#                     knowledge
#       --sni NAME    the TLS server name (and the name the certificate is checked for), when
#                     it is not HOST: the connection is dialled by one name, named by another
#   Every PATH is a GET on a stream of its own, all sent before any answer is read. A PATH that
#   starts with "{" is a JSON object saying more (tests/security/h2_authority.t):
#       {"path": "/x", "authority": "other.test:443", "method": "GET",
#        "headers": [["host", "other.test"]]}
#   each key optional: "path" null sends no :path, "authority" null no :authority (default:
#   HOST[:PORT], as a plain PATH gets). The fields are sent as given, unchecked by the client,
#   so that the server's checks are what a test sees. Prints, for the I-th PATH (from 1),
#   "LABEL: VALUE" lines:
#       STREAM<I>: the stream id     STATUS<I>: the :status, or "reset CODE"
#       LEN<I>: body bytes           SHA<I>: the body's sha256
#       BODY<I>: the body when under 4 KiB, newlines as \n
#       TRAILERS<I>: "name=value" pairs, comma-separated (empty when none)
#   then "ALPN: PROTO" and "DONE: yes"; "ERROR: WHY" (exit 1) when the connection fails.
import hashlib
import json
import socket
import ssl
import sys

import h2.config
import h2.connection
import h2.events
import h2.exceptions
import h2.settings


def main():
    args = sys.argv[1:]
    ca, sni = "default", None
    while args and args[0] in ("--ca", "--sni"):
        if args[0] == "--ca":
            ca = args[1]
        else:
            sni = args[1]
        args = args[2:]
    host, port, paths = args[0], int(args[1]), args[2:]
    alpn = "h2c"
    try:
        sock = socket.create_connection((host, port), timeout=120)
        if ca != "h2c":
            ctx = ssl.create_default_context(cafile=None if ca == "default" else ca)
            ctx.set_alpn_protocols(["h2"])
            sock = ctx.wrap_socket(sock, server_hostname=sni or host)
            alpn = sock.selected_alpn_protocol()
    except OSError as e:
        print("ERROR: %s" % e)
        sys.exit(1)
    if alpn not in ("h2", "h2c"):
        print("ALPN: %s" % alpn)
        print("ERROR: the server did not pick h2")
        sys.exit(1)
    # a test's own fields go out as given: only the server may judge them
    cfg = h2.config.H2Configuration(client_side=True, header_encoding="utf-8",
                                    validate_outbound_headers=not any(
                                        p.startswith("{") for p in paths))
    conn = h2.connection.H2Connection(config=cfg)
    conn.local_settings = h2.settings.Settings(
        client=True, initial_values={h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 1 << 24,
                                     h2.settings.SettingCodes.ENABLE_PUSH: 0})
    conn.initiate_connection()
    conn.increment_flow_control_window(1 << 30)
    authority = host if port == (80 if ca == "h2c" else 443) else "%s:%d" % (host, port)
    streams = {}
    for i, path in enumerate(paths, 1):
        sid = conn.get_next_available_stream_id()
        conn.send_headers(sid, request_fields(path, authority, ca), end_stream=True)
        streams[sid] = {"i": i, "status": None, "len": 0, "sha": hashlib.sha256(),
                        "body": bytearray(), "trailers": [], "done": False}
    sock.sendall(conn.data_to_send())
    left = len(streams)
    try:
        while left:
            data = sock.recv(1 << 20)
            if not data:
                raise EOFError("the connection closed with %d stream(s) open" % left)
            for ev in conn.receive_data(data):
                s = streams.get(getattr(ev, "stream_id", None))
                if isinstance(ev, h2.events.ResponseReceived):
                    s["status"] = dict(ev.headers).get(":status")
                elif isinstance(ev, h2.events.TrailersReceived):
                    s["trailers"] = ["%s=%s" % (k, v) for k, v in ev.headers]
                elif isinstance(ev, h2.events.DataReceived):
                    s["len"] += len(ev.data)
                    s["sha"].update(ev.data)
                    if len(s["body"]) < 4096:
                        s["body"] += ev.data[:4096 - len(s["body"])]
                    conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
                elif isinstance(ev, (h2.events.StreamEnded, h2.events.StreamReset)):
                    if isinstance(ev, h2.events.StreamReset):
                        s["status"] = "reset %s" % getattr(ev.error_code, "name", ev.error_code)
                    if not s["done"]:
                        s["done"] = True
                        left -= 1
                elif isinstance(ev, h2.events.ConnectionTerminated):
                    raise EOFError("GOAWAY %s" % getattr(ev.error_code, "name", ev.error_code))
            out = conn.data_to_send()
            if out:
                sock.sendall(out)
    except (OSError, EOFError, h2.exceptions.ProtocolError) as e:
        report(streams)
        print("ALPN: %s" % alpn)
        print("ERROR: %s" % e)
        sys.exit(1)
    report(streams)
    print("ALPN: %s" % alpn)
    print("DONE: yes")
    conn.close_connection()
    try:
        sock.sendall(conn.data_to_send())
        sock.close()
    except OSError:
        pass


def request_fields(path, authority, ca):
    """A stream's request fields: a plain PATH's GET, or what a JSON PATH says."""
    spec = json.loads(path) if path.startswith("{") else {"path": path}
    method = spec.get("method", "GET")
    fields = [(":method", method)]
    if method != "CONNECT" or "scheme" in spec:
        fields.append((":scheme", spec.get("scheme", "http" if ca == "h2c" else "https")))
    if spec.get("authority", authority) is not None:
        fields.append((":authority", spec.get("authority", authority)))
    if spec.get("path") is not None:
        fields.append((":path", spec["path"]))
    fields += [("user-agent", "h2_client.py")] + [tuple(h) for h in spec.get("headers", [])]
    return fields


def report(streams):
    for sid, s in streams.items():
        i = s["i"]
        print("STREAM%d: %d" % (i, sid))
        print("STATUS%d: %s" % (i, s["status"]))
        print("LEN%d: %d" % (i, s["len"]))
        print("SHA%d: %s" % (i, s["sha"].hexdigest()))
        if s["len"] < 4096:
            print("BODY%d: %s" % (i, s["body"].decode("utf-8", "replace").replace("\n", "\\n")))
        print("TRAILERS%d: %s" % (i, ",".join(s["trailers"])))


if __name__ == "__main__":
    main()
