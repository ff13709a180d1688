#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
#
# http_server.py: a small HTTP/1.1 server on the host, one port on one or more addresses of
# either family, for tests whose upstream must be somewhere other than upstream.py's loopback
# (tests/e2e/happy_eyeballs.t, tests/security/hostlocal.t).
#
#   http_server.py BODY PORT READY LOG ADDR...
#                             listens on ADDR:PORT for every ADDR (PORT 0: a free port, the
#                             first ADDR's, then the same for the others); answers every GET
#                             200 with BODY and a newline (GET /slow: after 2 s); appends
#                             "HOST PATH" (the Host header, the target) to LOG per request;
#                             writes the port to READY once listening
import http.server, socket, sys, threading, time
body, port, ready, logf, addrs = sys.argv[1].encode() + b"\n", int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5:]

class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        with open(logf, "a") as f:
            f.write("%s %s\n" % (self.headers.get("Host"), self.path))
        if self.path == "/slow":
            time.sleep(2)
        self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass

class S4(http.server.ThreadingHTTPServer):
    address_family = socket.AF_INET
class S6(http.server.ThreadingHTTPServer):
    address_family = socket.AF_INET6

for a in addrs:
    s = (S6 if ":" in a else S4)((a, port), H)
    port = s.server_address[1]
    threading.Thread(target=s.serve_forever, daemon=True).start()
with open(ready, "w") as f:
    f.write(str(port))
threading.Event().wait()
