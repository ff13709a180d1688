#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
#
# proxy_urllib.py: Python's urllib through an HTTP proxy (CONNECT), for tests/e2e/serve.t's
# boundary serve.
#
#   proxy_urllib.py PROXY_PORT CA PORT
#                             through http://127.0.0.1:PROXY_PORT, trusting CA, fetches
#                             https://up.test:PORT/echo/ok/py (prints "STATUS True" when upstream
#                             A answered it, else "STATUS False") and /echo/py-no ("STATUS")
import ssl, sys, urllib.request, urllib.error
port, ca, p = sys.argv[1], sys.argv[2], sys.argv[3]
h = urllib.request.ProxyHandler({"https": "http://127.0.0.1:" + port})
o = urllib.request.build_opener(h, urllib.request.HTTPSHandler(context=ssl.create_default_context(cafile=ca)))
for path in ("/echo/ok/py", "/echo/py-no"):
    try:
        r = o.open("https://up.test:%s%s" % (p, path), timeout=20)
        print(r.status, b'"server": "A"' in r.read())
    except urllib.error.HTTPError as e:
        print(e.code)
