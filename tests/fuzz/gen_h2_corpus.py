#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Writes tests/fuzz/corpus/h2/: h2_fuzz's seeds, made with python3-h2 (Debian's python3-h2).

Each seed is what a client sends after the h2c preface (h2_fuzz adds the preface itself): its
SETTINGS, then the frames of one case. The hosts are the target's (tests/fuzz/h2_fuzz.c): a.test
(path=/ok only) and b.test reach its upstream, c.test a port where nothing listens, d.test
(GET only) no address, anything else no rule. Run from the top of the tree:
    /usr/bin/python3 tests/fuzz/gen_h2_corpus.py
"""
import os
import sys

import h2.config
import h2.connection

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "h2")
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


def conn():
    # Unchecked: some seeds are requests a client library would not make (CONNECT with no :path).
    c = h2.connection.H2Connection(
        h2.config.H2Configuration(client_side=True, validate_outbound_headers=False))
    c.initiate_connection()
    return c


def req(host, path, method="GET", extra=()):
    return [(":method", method), (":scheme", "http"), (":authority", host), (":path", path)] + list(
        extra
    )


def seed(name, build):
    c = conn()
    build(c)
    data = c.data_to_send()
    assert data.startswith(PREFACE)
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data[len(PREFACE) :])


def get(c):
    c.send_headers(1, req("a.test", "/ok"), end_stream=True)


def get_denied(c):
    c.send_headers(1, req("evil.test", "/"), end_stream=True)


def get_denied_path(c):
    c.send_headers(1, req("a.test", "/ok/../admin"), end_stream=True)


def post(c):
    c.send_headers(1, req("b.test", "/upload", "POST", [("content-length", "11")]))
    c.send_data(1, b"hello world", end_stream=True)


def post_chunked(c):
    c.send_headers(1, req("b.test", "/chunks", "POST"))
    c.send_data(1, b"part one,")
    c.send_data(1, b"part two", end_stream=True)


def trailers(c):
    c.send_headers(1, req("b.test", "/trailers", "POST", [("te", "trailers")]))
    c.send_data(1, b"body")
    c.send_headers(1, [("x-checksum", "abc"), ("x-more", "1")], end_stream=True)


def two_streams(c):
    c.send_headers(1, req("a.test", "/ok"), end_stream=True)
    c.send_headers(3, req("b.test", "/len", extra=[("cookie", "a=1"), ("cookie", "b=2")]),
                   end_stream=True)


def rst(c):
    c.send_headers(1, req("b.test", "/slow", "POST"))
    c.reset_stream(1)
    c.send_headers(3, req("b.test", "/after"), end_stream=True)


def ping(c):
    c.ping(b"12345678")


def settings(c):
    c.update_settings({
        h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 1024,
        h2.settings.SettingCodes.MAX_FRAME_SIZE: 16384,
        h2.settings.SettingCodes.HEADER_TABLE_SIZE: 0,
    })
    c.send_headers(1, req("b.test", "/big"), end_stream=True)


def goaway(c):
    c.send_headers(1, req("b.test", "/"), end_stream=True)
    c.close_connection()


def grpc(c):
    c.send_headers(1, req("b.test", "/pkg.Service/Method", "POST", [
        ("content-type", "application/grpc"), ("te", "trailers"), ("grpc-timeout", "1S")]))
    c.send_data(1, b"\x00\x00\x00\x00\x02\x08\x01", end_stream=True)


def grpc_denied(c):
    c.send_headers(1, req("evil.test", "/pkg.Service/Method", "POST", [
        ("content-type", "application/grpc+proto"), ("te", "trailers")]))
    c.send_data(1, b"\x00\x00\x00\x00\x00", end_stream=True)


def connect(c):
    c.send_headers(1, [(":method", "CONNECT"), (":authority", "b.test:443")])


def unreachable(c):
    c.send_headers(1, req("c.test", "/"), end_stream=True)
    c.send_headers(3, req("d.test", "/"), end_stream=True)
    c.send_headers(5, req("d.test", "/", "DELETE"), end_stream=True)


def head(c):
    c.send_headers(1, req("evil.test", "/", "HEAD"), end_stream=True)
    c.send_headers(3, req("b.test", "/204"), end_stream=True)
    c.send_headers(5, req("b.test", "/100"), end_stream=True)


def upstream_shapes(c):
    for i, path in enumerate(["/rst", "/short", "/grpc", "/away", "/early"]):
        c.send_headers(1 + 2 * i, req("b.test", path), end_stream=(path != "/early"))


def window(c):
    c.send_headers(1, req("b.test", "/big"), end_stream=True)
    c.increment_flow_control_window(1 << 20)
    c.increment_flow_control_window(1 << 20, stream_id=1)


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, build in [
        ("get", get), ("get-denied", get_denied), ("get-denied-path", get_denied_path),
        ("post", post), ("post-chunked", post_chunked), ("trailers", trailers),
        ("two-streams", two_streams), ("rst-stream", rst), ("ping", ping),
        ("settings", settings), ("goaway", goaway), ("grpc", grpc), ("grpc-denied", grpc_denied),
        ("connect", connect), ("unreachable", unreachable), ("head-204-100", head),
        ("upstream-shapes", upstream_shapes), ("window-update", window),
    ]:
        seed(name, build)
    return 0


if __name__ == "__main__":
    sys.exit(main())
