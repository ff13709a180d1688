#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
#
# rules_program.py: a --rules-program for tests/e2e/policy.t. Reads one JSON request a line on
# stdin and decides by its path: /echo/ok*: "true"; /echo/obj*: {"allow": true}; /echo/cap*:
# {"allow": {"max_tx_bytes": 1024}} (tests/e2e/body_limit.t); /echo/slow*: no answer for 30 s;
# /echo/crash*: exits with status 3; anything else: refused, with the deny_message "prog says
# no to HOST".
#
#   rules_program.py LOG      appends "PID LINE" to LOG for every request line it reads
import json, os, sys, time
log = open(sys.argv[1], "a")
for line in sys.stdin:
    r = json.loads(line)
    log.write("%d %s" % (os.getpid(), line))
    log.flush()
    p = r["path"]
    if p.startswith("/echo/ok"):
        print("true", flush=True)
    elif p.startswith("/echo/obj"):
        print('{"allow": true}', flush=True)
    elif p.startswith("/echo/cap"):
        print('{"allow": {"max_tx_bytes": 1024}}', flush=True)
    elif p.startswith("/echo/slow"):
        time.sleep(30)
    elif p.startswith("/echo/crash"):
        sys.exit(3)
    else:
        print(json.dumps({"allow": False, "deny_message": "prog says no to " + r["host"]}),
              flush=True)
