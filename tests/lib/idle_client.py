#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
#
# idle_client.py: a keep-alive HTTPS client that goes idle between two requests, run inside the
# jail by tests/e2e/proxy.t, to show that its upstream connection serves another process meanwhile.
#
#   idle_client.py PORT CURL  GET https://up.test:PORT/echo/idle1 ("first: STATUS"); 1.6 s idle;
#                             CURL (a command line) fetches /echo/idle-other ("other: STATUS");
#                             then /echo/idle2 on the first connection ("again: STATUS")
import http.client, ssl, subprocess, sys, time
port, curl = int(sys.argv[1]), sys.argv[2]
c = http.client.HTTPSConnection("up.test", port, context=ssl.create_default_context())
c.request("GET", "/echo/idle1"); r = c.getresponse(); r.read(); print("first:", r.status)
time.sleep(1.6)
print("other:", subprocess.run(curl.split() + ["-o", "/dev/null", "-w", "%{http_code}",
      "https://up.test:%d/echo/idle-other" % port], capture_output=True, text=True).stdout)
c.request("GET", "/echo/idle2"); r = c.getresponse(); r.read(); print("again:", r.status)
