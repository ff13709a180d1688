#!/usr/bin/python3
# SPDX-License-Identifier: MIT
#
# h2_ws.py [--ca FILE|default] HOST PORT PATH MESSAGE: a WebSocket over HTTP/2 (RFC 8441's
# extended CONNECT) on a TLS connection with ALPN h2 ("default": the roots SSL_CERT_FILE names).
# Sends MESSAGE as one masked text frame and prints, a line each:
#   CONNECT_PROTOCOL: yes|no   the server's SETTINGS_ENABLE_CONNECT_PROTOCOL
#   STATUS: N                  the CONNECT's :status
#   ECHO: TEXT                 the first text frame that comes back
#   ERROR: WHY                 (exit 1) on anything else
import os
import socket
import ssl
import struct
import sys

import h2.config
import h2.connection
import h2.events
import h2.settings


def frame(text):
    """One masked, final text frame (RFC 6455 5.2)."""
    data = text.encode()
    mask = os.urandom(4)
    n = len(data)
    head = bytes([0x81])
    if n < 126:
        head += bytes([0x80 | n])
    else:
        head += bytes([0x80 | 126]) + struct.pack("!H", n)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data))


def unframe(buf):
    """(opcode, payload, rest) for the first whole unmasked frame in buf, or None."""
    if len(buf) < 2:
        return None
    op, n, pos = buf[0] & 0x0F, buf[1] & 0x7F, 2
    if n == 126:
        if len(buf) < 4:
            return None
        n, pos = struct.unpack("!H", buf[2:4])[0], 4
    if len(buf) < pos + n:
        return None
    return op, buf[pos:pos + n], buf[pos + n:]


def main():
    args = sys.argv[1:]
    ca = None
    if args and args[0] == "--ca":
        ca, args = args[1], args[2:]
    host, port, path, msg = args[0], int(args[1]), args[2], args[3]
    ctx = ssl.create_default_context(cafile=None if ca in (None, "default") else ca)
    ctx.set_alpn_protocols(["h2"])
    sock = ctx.wrap_socket(socket.create_connection((host, port), timeout=10),
                           server_hostname=host)
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    conn.initiate_connection()
    sock.sendall(conn.data_to_send())
    connect_ok, sid, sent, buf = None, None, False, b""
    while True:
        data = sock.recv(65536)
        if not data:
            print("ERROR: the connection closed")
            return 1
        for ev in conn.receive_data(data):
            if isinstance(ev, h2.events.RemoteSettingsChanged) and connect_ok is None:
                s = ev.changed_settings.get(h2.settings.SettingCodes.ENABLE_CONNECT_PROTOCOL)
                connect_ok = bool(s and s.new_value)
                print("CONNECT_PROTOCOL: %s" % ("yes" if connect_ok else "no"))
                if not connect_ok:
                    return 1
                sid = conn.get_next_available_stream_id()
                conn.send_headers(sid, [(":method", "CONNECT"), (":protocol", "websocket"),
                                        (":scheme", "https"), (":path", path),
                                        (":authority", "%s:%d" % (host, port)),
                                        ("sec-websocket-version", "13")])
            elif isinstance(ev, h2.events.ResponseReceived):
                status = dict(ev.headers).get(b":status", b"?").decode()
                print("STATUS: %s" % status)
                if status != "200":
                    return 1
                conn.send_data(sid, frame(msg))
                sent = True
            elif isinstance(ev, h2.events.DataReceived):
                conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
                buf += ev.data
                got = unframe(buf)
                if got and got[0] == 1:
                    print("ECHO: %s" % got[1].decode())
                    return 0
            elif isinstance(ev, (h2.events.StreamReset, h2.events.StreamEnded)):
                print("ERROR: the stream ended (%s)" % type(ev).__name__)
                return 1
        out = conn.data_to_send()
        if out:
            sock.sendall(out)
        _ = sent


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as e:  # noqa: BLE001 - a test client: say what broke
        print("ERROR: %s" % e)
        sys.exit(1)
