#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
#
# audit_lines.py: an audit log (--audit-log, JSON lines) as one line of words per record, for
# a test to grep (tests/e2e/resolvers.t).
#
#   audit_lines.py FILE       prints "EVENT DECISION HOST URL COMM" per record ("-": absent)
import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    print(*(r.get(k, "-") for k in ("event", "decision", "host", "url", "comm")))
