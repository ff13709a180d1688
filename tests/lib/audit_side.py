#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
#
# audit_side.py: one side of a jailed pipeline (tests/e2e/audit.t): its requests must be audited
# with its own pid and name, and it waits so that the test can look at it on the host.
#
#   audit_side.py MARKER PORT DIR
#                             GETs http://up.test:PORT/echo/MARKER and
#                             http://other.test:PORT/echo/MARKER-refused, touches DIR/MARKER.done,
#                             then waits until DIR/MARKER.go is gone
import os, socket, sys, time, urllib.request, urllib.error
marker, port, d = sys.argv[1], sys.argv[2], sys.argv[3]
for path, host in (("/echo/" + marker, "up.test"), ("/echo/" + marker + "-refused", "other.test")):
    try:
        urllib.request.urlopen("http://%s:%s%s" % (host, port, path), timeout=10).read()
    except urllib.error.HTTPError:
        pass
open("%s/%s.done" % (d, marker), "w").close()
while os.path.exists("%s/%s.go" % (d, marker)):
    time.sleep(0.1)
