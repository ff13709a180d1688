#!/usr/bin/python3
# SPDX-License-Identifier: MIT
#
# h2_abuse.py: a jailed HTTP/2 client that abuses the protocol, for tests/security/h2_abuse.t.
# It speaks h2c with prior knowledge (or TLS with ALPN h2, trusting SSL_CERT_FILE: boundary's
# CA in a jail), builds most frames by hand (struct.pack) so that it can send what a correct
# library refuses to, and prints "LABEL: VALUE" lines (LABEL is the mode in upper case):
#
#   h2_abuse.py [--tls] MODE HOST PORT [N]
#
#   streams [N=1000]     N request streams (POST, HEADERS without END_STREAM, never ended), far
#                        more than the server's SETTINGS_MAX_CONCURRENT_STREAMS
#   headers              one GET whose header list is ~100 KiB: 100 fields of 1000 bytes, split
#                        over HEADERS and CONTINUATION frames of 16 KiB
#   bigheader            one GET with a single 100 KiB header value, split the same way
#   continuation [MB=10] HEADERS without END_HEADERS, then CONTINUATION frames of one small field
#                        each, without end, until the server reacts or MB MiB are sent
#   reset [N=10000]      rapid reset: N times a GET (HEADERS with END_STREAM) and at once its
#                        RST_STREAM (CANCEL)
#   ping [N=100000]      N PINGs, never reading the ACKs (a 4 KiB receive buffer: the server
#                        cannot flush them)
#   settings [N=100000]  N SETTINGS frames, the same way
#   good                 one GET with python3-h2's H2Connection, read to its end
#
# Every attack mode requests /echo/h2-MODE-I (I the stream's number), so the upstream's log
# says which streams reached it. Each mode prints its summary, MODE: with one of
#   GOAWAY CODE          the server sent GOAWAY (CODE: RFC 9113's name, e.g. ENHANCE_YOUR_CALM)
#   RST N CODE           no GOAWAY; N streams reset by the server, CODE the most frequent code
#   STATUS S             no GOAWAY and no reset; a response with status S (headers, bigheader)
#   CLOSED               the server closed the connection without a GOAWAY we could read
#   STALLED              the server stopped reading (a send blocked 10 s) and kept it open
#   OPEN                 the attack ran to its end and the connection is still open
#   NOT_H2               the server never sent its SETTINGS: it does not speak HTTP/2 here
#   ERROR TEXT           it could not connect, or TLS did not select h2
# then
#   MODE_H2: yes|no      the server sent its SETTINGS (so the rest means something)
#   MODE_CLOSED: yes|no  the server closed the connection (within 5 s of the attack's end)
#   MODE_SENT: BYTES     what the client had sent when it first saw a GOAWAY or the close
#                        (all it sent if neither)
#   MODE_DETAIL: ...     counters for a person (frames sent, resets, ACKs, last stream id)
# and streams also STREAMS_LIMIT (the server's SETTINGS_MAX_CONCURRENT_STREAMS, or "none") and
# STREAMS_OPEN (streams the server neither reset, answered, nor excluded by a GOAWAY).
# good prints GOOD: STATUS (or GOOD: ERROR ...) and GOOD_SERVER: the upstream's id, if any.
import collections
import os
import select
import socket
import ssl
import struct
import sys
import time

import h2.config
import h2.connection
import h2.events
import h2.exceptions
from hpack import Decoder, Encoder

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PUSH_PROMISE, PING, GOAWAY, WINDOW_UPDATE, \
    CONTINUATION = range(10)
END_STREAM = ACK = 0x1
END_HEADERS, PADDED, PRIO = 0x4, 0x8, 0x20
MAX_FRAME = 16384  # the server's SETTINGS_MAX_FRAME_SIZE until it says otherwise: never above
SETTINGS_MAX_CONCURRENT_STREAMS, SETTINGS_INITIAL_WINDOW_SIZE = 0x3, 0x4
ERRORS = ["NO_ERROR", "PROTOCOL_ERROR", "INTERNAL_ERROR", "FLOW_CONTROL_ERROR",
          "SETTINGS_TIMEOUT", "STREAM_CLOSED", "FRAME_SIZE_ERROR", "REFUSED_STREAM", "CANCEL",
          "COMPRESSION_ERROR", "CONNECT_ERROR", "ENHANCE_YOUR_CALM", "INADEQUATE_SECURITY",
          "HTTP_1_1_REQUIRED"]
CANCEL = 8
SEND_TIMEOUT = 10


def err_name(code):
    return ERRORS[code] if code < len(ERRORS) else "0x%x" % code


def frame(ftype, flags, sid, payload=b""):
    return struct.pack("!I", len(payload))[1:] + struct.pack("!BBI", ftype, flags,
                                                             sid & 0x7FFFFFFF) + payload


class Stalled(Exception):
    pass


class Peer:
    """One connection to the server: what was sent, and every frame that came back."""

    def __init__(self, host, port, tls, rcvbuf=None, sndbuf=None):
        self.host, self.port, self.tls = host, port, tls
        self.enc, self.dec = Encoder(), Decoder()
        self.dec.max_allowed_table_size = 65536
        self.rbuf = b""
        self.block, self.block_sid = None, 0
        self.goaway = None  # (error code, last stream id)
        self.rst = {}  # stream id -> error code
        self.status = {}  # stream id -> :status
        self.ping_acks = self.settings_acks = 0
        self.server_settings = {}
        self.h2 = False  # the server sent its SETTINGS: it speaks HTTP/2
        self.first = b""  # its first bytes, to say what it spoke instead
        self.eof = self.wclosed = False
        self.sent = 0
        self.sent_at_end = None
        self.frames = 0
        fam, _, _, _, addr = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        s = socket.socket(fam, socket.SOCK_STREAM)
        # before connect: the window the server may fill is set by the handshake
        if rcvbuf:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        if sndbuf:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, sndbuf)
        s.settimeout(SEND_TIMEOUT)
        s.connect(addr)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if tls:
            ctx = ssl.create_default_context(cafile=os.environ.get("SSL_CERT_FILE"))
            ctx.set_alpn_protocols(["h2"])
            s = ctx.wrap_socket(s, server_hostname=host)
            if s.selected_alpn_protocol() != "h2":
                raise ConnectionError("ALPN selected %r" % s.selected_alpn_protocol())
        self.sock = s

    # --- sending ----------------------------------------------------------------------------
    def send(self, data, frames=1):
        """Sends data whole; False once the connection is gone. Raises Stalled after 10 s."""
        if self.wclosed:
            return False
        view = memoryview(data)
        try:
            while view:
                n = self.sock.send(view)  # not sendall: self.sent counts what the kernel took
                self.sent += n
                view = view[n:]
        except socket.timeout:
            raise Stalled() from None
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
            # the server is gone; what it sent before (its GOAWAY) may still wait to be read
            self.wclosed = True
            if self.sent_at_end is None:
                self.sent_at_end = self.sent
            return False
        self.frames += frames
        return True

    def start(self, settings=()):
        body = b"".join(struct.pack("!HI", k, v) for k, v in settings)
        return self.send(PREFACE + frame(SETTINGS, 0, 0, body), 1)

    def header_block(self, headers, huffman=True):
        return self.enc.encode(headers, huffman=huffman)

    def request(self, sid, method, path, extra=(), end_stream=True, huffman=True):
        """HEADERS frames (and CONTINUATION past 16 KiB) for one request, as bytes."""
        block = self.header_block([(":method", method), (":scheme", "https" if self.tls else
                                                         "http"),
                                   (":authority", "%s:%d" % (self.host, self.port)),
                                   (":path", path)] + list(extra), huffman)
        return self.split_block(sid, block, END_STREAM if end_stream else 0)

    @staticmethod
    def split_block(sid, block, flags):
        parts = [block[i:i + MAX_FRAME] for i in range(0, len(block), MAX_FRAME)] or [b""]
        out = []
        for i, p in enumerate(parts):
            f = END_HEADERS if i == len(parts) - 1 else 0
            out.append(frame(HEADERS if i == 0 else CONTINUATION, (flags if i == 0 else 0) | f,
                             sid, p))
        return b"".join(out), len(out)

    # --- receiving --------------------------------------------------------------------------
    def ended(self):
        if self.sent_at_end is None:
            self.sent_at_end = self.sent
        self.eof = self.wclosed = True

    def poll(self, wait=0.0):
        """Reads what the server sent within wait seconds (at least what is there now)."""
        deadline = time.monotonic() + wait
        while not self.eof:
            left = max(0.0, deadline - time.monotonic())
            if not (self.tls and self.sock.pending()):
                r, _, _ = select.select([self.sock], [], [], left)
                if not r:
                    return
            self.sock.settimeout(0)
            try:
                d = self.sock.recv(65536)
            except (ssl.SSLWantReadError, BlockingIOError):
                continue
            except (ConnectionResetError, ssl.SSLError, OSError):
                d = b""
            finally:
                self.sock.settimeout(SEND_TIMEOUT)
            if not d:
                self.ended()
                return
            self.first = self.first or d[:60]
            self.rbuf += d
            self.parse()

    def quiet(self, seconds, until_eof=False):
        """Reads until the server has been quiet for seconds, or has closed; with until_eof,
        until it closes, for seconds at most."""
        deadline = time.monotonic() + seconds
        while not self.eof:
            n = len(self.rbuf) + self.frames_seen()
            left = deadline - time.monotonic() if until_eof else seconds
            if left <= 0:
                return
            self.poll(left)
            if not until_eof and len(self.rbuf) + self.frames_seen() == n:
                return

    def frames_seen(self):
        return len(self.rst) + len(self.status) + self.ping_acks + self.settings_acks + (
            1 if self.goaway else 0)

    def parse(self):
        while len(self.rbuf) >= 9:
            n = int.from_bytes(self.rbuf[:3], "big")
            if len(self.rbuf) < 9 + n:
                return
            ftype, flags, sid = struct.unpack("!BBI", self.rbuf[3:9])
            sid &= 0x7FFFFFFF
            p, self.rbuf = self.rbuf[9:9 + n], self.rbuf[9 + n:]
            self.on_frame(ftype, flags, sid, p)

    def on_frame(self, ftype, flags, sid, p):
        if ftype == GOAWAY and len(p) >= 8:
            last, code = struct.unpack("!II", p[:8])
            if self.goaway is None:
                self.goaway = (code, last & 0x7FFFFFFF)
                if self.sent_at_end is None:
                    self.sent_at_end = self.sent
        elif ftype == RST_STREAM and len(p) >= 4:
            self.rst[sid] = struct.unpack("!I", p)[0]
        elif ftype == PING and flags & ACK:
            self.ping_acks += 1
        elif ftype == SETTINGS:
            if flags & ACK:
                self.settings_acks += 1
            else:
                self.h2 = True
                for i in range(0, len(p) - 5, 6):
                    k, v = struct.unpack("!HI", p[i:i + 6])
                    self.server_settings[k] = v
                self.send(frame(SETTINGS, ACK, 0))
        elif ftype in (HEADERS, CONTINUATION):
            if ftype == HEADERS:
                pad = p[0] if flags & PADDED else 0
                p = p[1:] if flags & PADDED else p
                p = p[5:] if flags & PRIO else p
                p = p[:len(p) - pad]
                self.block, self.block_sid = b"", sid
            self.block = (self.block or b"") + p
            if flags & END_HEADERS:
                for k, v in self.dec.decode(self.block, raw=True):
                    if k == b":status":
                        self.status.setdefault(self.block_sid, v.decode())
                self.block = None

    # --- reporting --------------------------------------------------------------------------
    def summary(self):
        if not self.h2:
            return "NOT_H2"
        if self.goaway:
            return "GOAWAY " + err_name(self.goaway[0])
        if self.rst:
            code = collections.Counter(self.rst.values()).most_common(1)[0][0]
            return "RST %d %s" % (len(self.rst), err_name(code))
        if self.status:
            return "STATUS " + sorted(self.status.values())[0]
        return "CLOSED" if self.eof else "OPEN"

    def report(self, label, summary=None, **extra):
        if not self.eof:
            self.quiet(5, until_eof=True)
        print("%s_H2: %s" % (label, "yes" if self.h2 else "no"))
        print("%s: %s" % (label, summary if self.h2 and summary else self.summary()))
        print("%s_CLOSED: %s" % (label, "yes" if self.eof else "no"))
        print("%s_SENT: %d" % (label, self.sent if self.sent_at_end is None else
                                self.sent_at_end))
        codes = collections.Counter(err_name(c) for c in self.rst.values())
        detail = {"frames": self.frames, "bytes": self.sent,
                  "goaway": "%s/last=%d" % (err_name(self.goaway[0]), self.goaway[1])
                  if self.goaway else "-",
                  "rst": ",".join("%s=%d" % kv for kv in sorted(codes.items())) or "-",
                  "responses": len(self.status), "ping_acks": self.ping_acks,
                  "settings_acks": self.settings_acks}
        if not self.h2:
            detail["first"] = repr(self.first[:40])
        detail.update(extra)
        print("%s_DETAIL: %s" % (label, " ".join("%s=%s" % kv for kv in detail.items())))

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


# --- the modes -------------------------------------------------------------------------------
def streams(c, n=1000):
    c.start()
    c.poll(1)  # the server's SETTINGS: its limit
    sid = 1
    for i in range(n):
        data, k = c.request(sid, "POST", "/echo/h2-streams-%d" % sid, end_stream=False)
        if not c.send(data, k):
            break
        sid += 2
        if i % 50 == 49:
            c.poll(0)
    c.quiet(2)
    opened = (sid - 1) // 2
    last = c.goaway[1] if c.goaway else 1 << 31
    still = sum(1 for s in range(1, sid, 2)
                if s not in c.rst and s not in c.status and s <= last)
    limit = c.server_settings.get(SETTINGS_MAX_CONCURRENT_STREAMS, "none")
    print("STREAMS_LIMIT: %s" % limit)
    print("STREAMS_OPEN: %s" % ("-" if not c.h2 else 0 if c.eof else still))
    c.report("STREAMS", opened=opened)


def big_headers(c, label, fields):
    c.start()
    c.poll(0.5)
    data, k = c.request(1, "GET", "/echo/h2-%s-1" % label.lower(), fields, huffman=False)
    c.send(data, k)
    c.quiet(2)
    c.report(label, block=len(data))


def filler(i, size):
    """size bytes of header-safe text that HPACK cannot shrink much (no Huffman, no repeats)."""
    out, j = "", 0
    while len(out) < size:
        out += "%08x" % ((i * 2654435761 + j * 40503) & 0xFFFFFFFF)
        j += 1
    return out[:size]


def headers(c):
    big_headers(c, "HEADERS", [("x-big-%03d" % i, filler(i, 1000)) for i in range(100)])


def bigheader(c):
    big_headers(c, "BIGHEADER", [("x-huge", filler(7, 100 * 1024))])


def continuation(c, mb=10):
    c.start()
    c.poll(0.5)
    block = c.header_block([(":method", "GET"), (":scheme", "https" if c.tls else "http"),
                            (":authority", "%s:%d" % (c.host, c.port)),
                            (":path", "/echo/h2-continuation-1")])
    c.send(frame(HEADERS, END_STREAM, 1, block))
    # one literal field, without indexing, new name: "x-c: 1"; 4096 frames (64 KiB) a write
    one = frame(CONTINUATION, 0, 1, b"\x00\x03x-c\x011")
    batch = one * 4096
    limit = mb * 1024 * 1024
    try:
        while c.sent < limit and not c.goaway and not c.wclosed:
            if not c.send(batch, 4096):
                break
            c.poll(0.01)
    except Stalled:
        c.report("CONTINUATION", "STALLED")
        return
    c.report("CONTINUATION")


def slowhead(c, wait=10):
    """A header block begun and never finished (slowloris): the server must give up."""
    c.start()
    c.poll(0.5)
    block = c.header_block([(":method", "GET"), (":scheme", "https" if c.tls else "http"),
                            (":authority", "%s:%d" % (c.host, c.port)),
                            (":path", "/echo/h2-slowhead-1")])
    t0 = time.monotonic()
    c.send(frame(HEADERS, END_STREAM, 1, block[:len(block) // 2]))
    c.quiet(wait, until_eof=True)
    c.report("SLOWHEAD", elapsed=int(time.monotonic() - t0))
    print("SLOWHEAD_SECONDS: %d" % int(time.monotonic() - t0))


def reset(c, n=10000):
    c.start()
    c.poll(0.5)
    sid, sent = 1, 0
    try:
        while sent < n and not c.goaway and not c.wclosed:
            out = []
            for _ in range(min(100, n - sent)):
                data, _k = c.request(sid, "GET", "/echo/h2-reset-%d" % sid)
                out.append(data + frame(RST_STREAM, 0, sid, struct.pack("!I", CANCEL)))
                sid += 2
            if not c.send(b"".join(out), 2 * len(out)):
                break
            sent += len(out)
            c.poll(0)
    except Stalled:
        c.report("RESET", "STALLED", streams=sent)
        return
    c.report("RESET", streams=sent)


def flood(c, label, one, n):
    """n frames, one(base, k) making k at a time, never reading until the end (the receive
    buffer is tiny)."""
    c.start()
    c.poll(0.5)  # the server's SETTINGS (it speaks HTTP/2), before there is any ACK to read
    sent = 0
    try:
        while sent < n and not c.wclosed:
            k = min(1000, n - sent)
            if not c.send(one(sent, k), k):
                break
            sent += k
    except Stalled:
        c.report(label, "STALLED", sent_frames=sent)
        return
    # now it may read: whatever the server queued comes out, or its GOAWAY and the close
    c.quiet(5, until_eof=True)
    c.report(label, sent_frames=sent)


def ping(c, n=100000):
    flood(c, "PING", lambda base, k: b"".join(frame(PING, 0, 0, struct.pack("!Q", base + i))
                                              for i in range(k)), n)


def settings(c, n=100000):
    one = frame(SETTINGS, 0, 0, struct.pack("!HI", SETTINGS_INITIAL_WINDOW_SIZE, 65535))
    flood(c, "SETTINGS", lambda _base, k: one * k, n)


def good(host, port, tls, path):
    s = None
    try:
        s = socket.create_connection((host, port), timeout=10)
        if tls:
            ctx = ssl.create_default_context(cafile=os.environ.get("SSL_CERT_FILE"))
            ctx.set_alpn_protocols(["h2"])
            s = ctx.wrap_socket(s, server_hostname=host)
            if s.selected_alpn_protocol() != "h2":
                print("GOOD: ERROR ALPN %s" % s.selected_alpn_protocol())
                return
        h = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
        h.initiate_connection()
        h.send_headers(1, [(":method", "GET"), (":scheme", "https" if tls else "http"),
                           (":authority", "%s:%d" % (host, port)), (":path", path)],
                       end_stream=True)
        s.sendall(h.data_to_send())
        status, body, done = None, b"", False
        while not done:
            d = s.recv(65536)
            if not d:
                break
            for ev in h.receive_data(d):
                if isinstance(ev, h2.events.ResponseReceived):
                    status = dict(ev.headers).get(b":status", b"?").decode()
                elif isinstance(ev, h2.events.DataReceived):
                    body += ev.data
                    h.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
                elif isinstance(ev, h2.events.StreamEnded):
                    done = True
                elif isinstance(ev, h2.events.StreamReset):
                    status, done = "RST " + err_name(ev.error_code), True
                elif isinstance(ev, h2.events.ConnectionTerminated):
                    status, done = status or "GOAWAY " + err_name(ev.error_code), True
            s.sendall(h.data_to_send())
        print("GOOD: %s" % (status if done else "ERROR closed after %s" % status))
        srv = b'"server": "'
        if srv in body:
            print("GOOD_SERVER: %s" % body.split(srv)[1].split(b'"')[0].decode())
    except (OSError, ssl.SSLError, h2.exceptions.ProtocolError) as e:
        print("GOOD: ERROR %s" % e)
    finally:
        if s:
            s.close()


MODES = {"streams": streams, "headers": headers, "bigheader": bigheader,
         "continuation": continuation, "reset": reset, "ping": ping, "settings": settings,
         "slowhead": slowhead}


def main():
    args = sys.argv[1:]
    tls = args[:1] == ["--tls"]
    if tls:
        args = args[1:]
    mode, host, port, rest = args[0], args[1], int(args[2]), args[3:]
    if mode == "good":
        good(host, port, tls, rest[0] if rest else "/echo/h2-good")
        return
    label = mode.upper()
    flooding = mode in ("ping", "settings")
    try:
        c = Peer(host, port, tls, rcvbuf=4096 if flooding else None,
                 sndbuf=65536 if mode == "continuation" else None)
    except (OSError, ssl.SSLError, ConnectionError) as e:
        print("%s: ERROR %s" % (label, e))
        return
    try:
        MODES[mode](c, *[int(a) for a in rest])
    finally:
        c.close()
    sys.stdout.flush()


if __name__ == "__main__":
    main()
